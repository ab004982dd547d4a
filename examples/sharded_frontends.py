"""One sharded transformer step in jax, keras-jax, torch_xla and torchax, side by side.

Runs ``xlalens.dump`` of a small transformer with dp+tp on a 4x2 mesh of host
devices in the four frontends with an SPMD path (TensorFlow's are skipped, with
their reason), then prints, per frontend, whether the sharded step matched the
same step on one device and the collectives XLA's partitioner inserted.

    .venv/bin/python examples/sharded_frontends.py [OUT_DIR]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from xlalens.capture import write_dump
from xlalens.ir import collective_table, collectives, load
from xlalens.ir._collectives import format_collectives, mesh_from_spec
from xlalens.spmd import parse_mesh
from xlalens.workloads import Workload


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp())
    print(f"writing the dumps under {out} (kept; delete it when done)")
    workload = Workload(name="transformer", depth=1, width=8, heads=2, seq=4, features=3, size=8)
    spec = parse_mesh(8, "4x2", None, "dp+tp", batch=workload.size)
    result = write_dump(
        out / "tp8",
        frameworks=["jax", "keras-jax", "torch_xla", "torchax", "tensorflow"],
        workload=workload,
        sharding=spec.to_json(),
        stages=False,
    )
    for name, entry in result.manifest["frontends"].items():
        if entry["status"] != "ok":
            print(f"{name}: {entry['status']} ({entry['reason']})")
            continue
        print(f"{name}: matches its 1-device step: {entry['outputs_match']}")
        graph = load(f"{result.path}:{name}:optimized_hlo", level="raw")
        found = collectives(graph, mesh_from_spec(result.manifest["sharding"]))
        print(format_collectives(collective_table(found)))
    print("parameters agree across frontends:", result.manifest["cross_check"]["params_agree"])


if __name__ == "__main__":
    main()
