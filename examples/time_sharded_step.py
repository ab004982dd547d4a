"""Time an mlp step sharded over 4 host devices: per-device split, collectives, link model.

Captures the step with jax (dp+tp on a 2x2 mesh; the 4 devices are forced in the
frontend subprocess and in the timing worker only, this process keeps one),
times it with the sharded ``xlalens time`` path, and prints each device's
communication/computation split, each collective's time on each device and the
link model's prediction at 4, 8, 64 and 512 devices for a 100 GB/s link.
CPU host devices share memory: the CPU collective times are not network times.

    .venv/bin/python examples/time_sharded_step.py [OUT_DIR]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from xlalens.capture import write_dump
from xlalens.spmd import link, parse_mesh
from xlalens.timing import TimingOptions, sharded_summary, time_sharded_dump
from xlalens.workloads import Workload


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp()) / "dump"
    print(f"writing the dump to {out} (kept; delete it when done)")
    workload = Workload(name="mlp", depth=2, width=64, size=64, features=8)
    spec = parse_mesh(4, "2x2", None, "dp+tp", batch=workload.size)
    write_dump(out, frameworks=["jax"], workload=workload, sharding=spec.to_json(), stages=False)
    doc = time_sharded_dump(
        out, TimingOptions(min_time_s=0.3, peak_scale=0.1), link=link("nvlink-h100", 100)
    )
    r = doc["frontends"]["jax"]
    print(f"jax: {r['status']}, results pass the proof: {r['verify']['ok']}")
    print(f"step median {r['step']['median_s'] * 1e3:.3f} ms over {r['step']['n']} repeats")
    print(sharded_summary(doc))


if __name__ == "__main__":
    main()
