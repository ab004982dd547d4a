"""Time every capture of a dump on the CPU and print the slowest kernels of each frontend.

Run: .venv/bin/python examples/time_a_dump.py [DIR]
Without DIR it writes a small JAX-only dump of the regression workload into a temporary
folder first (the same layout `xlalens dump` writes; see docs/dump-format.md).
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import numpy as np

from xlalens.timing import TimingOptions, load_results, time_dump, workload_step


def tiny_dump(folder: Path, size: int = 1 << 16) -> Path:
    """A one-frontend dump (jax) of the regression step, enough for `time_dump`."""
    import jax

    workload = {"name": "regression", "size": size, "features": 1, "lr": 0.1}
    step, args = workload_step(workload, size)
    jitted = jax.jit(step)
    loss, w, b = (np.asarray(o) for o in jitted(*args))
    (folder / "jax").mkdir(parents=True)
    (folder / "jax" / "stablehlo.mlir").write_text(jitted.lower(*args).as_text(debug_info=True))
    np.savez(folder / "jax" / "inputs.npz", **{f"arg{i}": a for i, a in enumerate(args)})
    outputs = {
        "loss": float(loss),
        "loss_kind": "before_update",
        "params": {"w": w.tolist(), "b": b.tolist()},
    }
    (folder / "jax" / "outputs.json").write_text(json.dumps(outputs))
    entry = {
        "status": "ok",
        "artifacts": {
            f"{k}": f"jax/{v}"
            for k, v in [
                ("stablehlo", "stablehlo.mlir"),
                ("inputs", "inputs.npz"),
                ("outputs", "outputs.json"),
            ]
        },
        "signature": {"outputs": [{"role": r} for r in ("loss", "w", "b")]},
    }
    manifest = {
        "format_version": 1,
        "workload": workload,
        "backend": "cpu",
        "frontends": {"jax": entry},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def main() -> None:
    folder = (
        Path(sys.argv[1]) if len(sys.argv) > 1 else tiny_dump(Path(tempfile.mkdtemp()) / "dump")
    )
    print(f"timing {folder}; results go to {folder / 'timing'} (kept; delete it when done)")
    time_dump(folder, TimingOptions(backend="cpu", min_time_s=0.5))
    doc = load_results(folder)["cpu"]  # what the report renderer reads
    for fe, r in doc["frontends"].items():
        if r["status"] != "ok":
            print(f"{fe}: {r['status']}: {r['reason']}")
            continue
        print(
            f"{fe}: median {r['step']['median_s'] * 1e3:.3f} ms, CV {r['step']['cv']:.1%}, "
            f"{r['roofline']['fraction_of_roofline']:.0%} of the roofline bound"
        )
        for k in r["kernels"][:3]:
            print(
                f"  {k['name']:<28} {k['median_s'] * 1e3:8.3f} ms {k['share']:6.1%}  {k['source_file']}:{k['source_line']}"
            )


if __name__ == "__main__":
    main()
