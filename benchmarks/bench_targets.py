"""Benchmark of `xlalens compile`: compile time per target against the CPU's, in one run.

For each workload (`mlp`, `transformer`) it makes a jax dump, compiles it for the
host CPU and for each compile-only target, and prints per target:
  - XLA's compile time of the step (inside the target subprocess) and its ratio to
    the CPU compile of the same module in the same run;
  - the subprocess's start-up (plugin load, compile-only devices) and the wall time
    of the whole target (subprocess + summary);
  - kernels, library calls, and XLA's / the roofline's time estimates.

The transformer is the built-in workload's step (`Workload.reference_step()`:
2 encoder blocks, width 256, 4 heads, 128 tokens x 8 sequences, a 512-way head,
the workload's loss and optimizer).

Run: .venv/bin/python benchmarks/bench_targets.py [--targets h100,tpu-v5e,...] [--workloads mlp,transformer]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ALL_TARGETS = "h100,h200,a100,b200,tpu-v4,tpu-v5e,tpu-v5p,tpu-v6e"

# The built-in transformer workload (xlalens.workloads, the model every frontend
# captures) at a size where the targets' compiles differ: 2 blocks of width 256,
# 4 heads, 128 tokens, batch 8, a 512-way head. Its StableHLO, printed by a jax
# subprocess (jax loads its CPU client once per process).
TRANSFORMER = textwrap.dedent(
    """
    import jax
    from xlalens.workloads import Workload
    w = Workload("transformer", depth=2, width=256, heads=4, seq=128, size=8, features=256,
                 classes=512)
    step, args = w.reference_step()
    print(jax.jit(step).lower(*args).as_text())
    """
)


def transformer_dump(root: Path) -> Path:
    """A one-frontend dump holding the jax transformer step's StableHLO."""
    text = subprocess.run(
        [sys.executable, "-c", TRANSFORMER],
        env=dict(os.environ, JAX_PLATFORMS="cpu"),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    d = root / "transformer"
    (d / "jax").mkdir(parents=True)
    (d / "jax" / "stablehlo.mlir").write_text(text)
    manifest = {
        "format_version": 1,
        "workload": {"name": "transformer"},
        "frontends": {"jax": {"status": "ok", "artifacts": {"stablehlo": "jax/stablehlo.mlir"}}},
    }
    (d / "manifest.json").write_text(json.dumps(manifest))
    return d


def mlp_dump(root: Path) -> Path:
    """A real `xlalens dump` of the jax MLP step (4 hidden layers of 512, 256 samples)."""
    from xlalens.capture import write_dump
    from xlalens.workloads import Workload

    d = root / "mlp"
    wl = Workload(name="mlp", depth=4, width=512, size=256, features=64)
    write_dump(d, frameworks=["jax"], workload=wl, stages=False)
    return d


def _fmt_s(s: float | None) -> str:
    if s is None:
        return "-"
    return f"{s * 1e6:.3g} us" if s < 1e-3 else f"{s * 1e3:.3g} ms"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--targets", default=ALL_TARGETS)
    ap.add_argument("--workloads", default="mlp,transformer")
    args = ap.parse_args()

    from xlalens.targets import compile_for, missing_plugins

    missing = missing_plugins()
    if missing:
        print(f"note: {', '.join(sorted(set(missing.values())))} not installed; those targets skip")
    with tempfile.TemporaryDirectory() as tmp:
        for wl in args.workloads.split(","):
            t0 = time.perf_counter()
            dump = mlp_dump(Path(tmp)) if wl == "mlp" else transformer_dump(Path(tmp))
            made = time.perf_counter() - t0
            result = compile_for(dump, f"cpu,{args.targets}", codegen=False, diffs=False)
            by = {t.key: t for t in result.targets}
            cpu = by["cpu"].summary["frontends"]["jax"]
            cpu_s = cpu.get("compile_seconds")
            print(f"\n{wl}: capture {made:.1f} s; CPU compile {cpu_s:.3f} s (the reference)")
            head = (
                f"{'target':9} {'status':7} {'compile s':>9} {'x CPU':>6} {'start-up s':>10} "
                f"{'wall s':>7} {'kernels':>7}  {'xla est.':>9} {'roofline':>9}  library calls"
            )
            print(head)
            print("-" * len(head))
            for t in result.targets:
                fe = t.summary.get("frontends", {}).get("jax", {})
                if t.status != "ok" or fe.get("status") != "ok":
                    why = (fe.get("reason") or t.reason or "").splitlines()[:1]
                    print(f"{t.key:9} {t.status:7} {why[0] if why else ''}")
                    continue
                a = fe.get("analysis", {})
                cs = fe["compile_seconds"]
                libs = " ".join(f"{k}:{v}" for k, v in a.get("library_calls", {}).items()) or "-"
                print(
                    f"{t.key:9} {'ok':7} {cs:9.3f} {cs / cpu_s:6.2f} "
                    f"{t.summary.get('setup_seconds', 0):10.2f} {t.seconds:7.1f} "
                    f"{a.get('kernels', 0):7d}  {_fmt_s(a.get('xla_estimate_seconds')):>9} "
                    f"{_fmt_s((a.get('roofline') or {}).get('seconds')):>9}  {libs}"
                )


if __name__ == "__main__":
    main()
