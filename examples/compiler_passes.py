"""What XLA's passes did to the jax and torch_xla steps: timeline, blame, memory.

Captures the seed's regression step, re-runs it with XLA's dump flags, and prints
the per-pass table, the pass that created each kernel, and the peak memory.
Needs jax (and torch_xla for the second frontend; it is skipped when missing).

Run: ``.venv/bin/python examples/compiler_passes.py``
"""

import importlib.util
import tempfile
from pathlib import Path

import xlalens
from xlalens.passes import format_table, run_passes
from xlalens.passes._memory import format_bytes

fronts = ["jax"] + (["torch_xla"] if importlib.util.find_spec("torch_xla") else [])
with tempfile.TemporaryDirectory() as tmp:
    dump = xlalens.dump(Path(tmp) / "dump", frameworks=fronts, stages=False)
    for name, rec in run_passes(dump.path, frontends=fronts).items():
        print(f"== {name}: {rec.status}, module {rec.module} (picked by {rec.picked_by})")
        if rec.timeline is None:
            print(rec.reason)
            continue
        print(format_table(rec.timeline))
        for k in rec.timeline.kernels:
            print(f"  {k.kernel}: created by {k.created_by}")
        if rec.memory:
            print(f"  peak memory {format_bytes(rec.memory.peak_bytes)}")
