"""Capture an mlp step sharded over 8 host devices, then read its collectives.

Runs ``xlalens.dump`` for jax with dp+tp on a 4x2 mesh (the 8 devices are
forced in the frontend subprocess only; this process keeps one), checks that
the sharded step matched its 1-device step, prints the collectives table of the
partitioned module, and diffs it against the same step on one device.

    .venv/bin/python examples/sharded_step.py [OUT_DIR]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from xlalens.capture import write_dump
from xlalens.diff._diff import diff
from xlalens.ir import collective_table, collectives, load
from xlalens.ir._collectives import format_collectives, mesh_from_spec
from xlalens.spmd import parse_mesh
from xlalens.workloads import Workload


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp())
    print(f"writing the dumps under {out} (kept; delete it when done)")
    workload = Workload(name="mlp", depth=2, width=16, size=16, features=8)
    dumps = {}
    for devices, mesh in ((1, None), (8, "4x2")):
        spec = parse_mesh(devices, mesh, None, "dp+tp" if mesh else "dp", batch=workload.size)
        result = write_dump(
            out / f"dev{devices}",
            frameworks=["jax"],
            workload=workload,
            sharding=spec.to_json(),
            stages=False,
        )
        entry = result.manifest["frontends"]["jax"]
        print(
            f"{devices} device(s): {entry['status']}, matches 1-device step: {entry['outputs_match']}"
        )
        dumps[devices] = result
    sharded = load(f"{dumps[8].path}:jax:optimized_hlo", level="raw")
    found = collectives(sharded, mesh_from_spec(dumps[8].manifest["sharding"]))
    print(format_collectives(collective_table(found)))
    # Records stored on the nodes (docs/graph-schema.md): a sharded parameter of the
    # pre-partitioning HLO, with its per-device shape.
    pre = load(f"{dumps[8].path}:jax:hlo")
    for _, n in pre.nodes(data=True):
        if n["sharding"] is not None and not n["sharding"]["replicated"]:
            print(f"{n['name']}: {n['shape']} -> {n['device_shape']} per device,", end=" ")
            print(f"mesh axes per dimension {n['sharding']['mesh_axes']}")
    d = diff(load(f"{dumps[1].path}:jax:optimized_hlo"), load(f"{dumps[8].path}:jax:optimized_hlo"))
    for c in d.collectives.changes:
        print(f"{c.status}: {c.kind} over {c.axes_b or c.axes_a}, {c.bytes_b:,} B/device")
    print(d.to_text(limit=3).split("kernel map")[0])


if __name__ == "__main__":
    main()
