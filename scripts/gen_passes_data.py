"""Regenerate tests/core/data/passes/: a real XLA pass dump of a small jax step.

Runs a one-layer tanh regression step (forward, grad, SGD update) under
``jax.jit`` in a subprocess with ``XLA_FLAGS="--xla_dump_to=... --xla_dump_hlo_pass_re=.*"``
and keeps XLA's text files (pass snapshots, optimized module, buffer-assignment,
live-range and memory-usage reports, per-kernel LLVM IR; object files are left
out). ``memory_analysis.json`` records ``compiled.memory_analysis()`` of the same
compile, which tests/core/test_passes.py compares with the parsed reports.

Usage: python scripts/gen_passes_data.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "tests" / "core" / "data" / "passes"

STEP = r"""
import json, sys
import jax, jax.numpy as jnp, numpy as np

def step(w, b, x, y):
    def loss(w, b):
        return jnp.mean((jnp.tanh(x @ w) + b - y) ** 2)
    gw, gb = jax.grad(loss, argnums=(0, 1))(w, b)
    return w - 0.01 * gw, b - 0.01 * gb, loss(w, b)

rng = np.random.default_rng(0)
args = [rng.standard_normal(s).astype(np.float32) for s in ((16, 16), (16,), (4, 16), (4, 16))]
compiled = jax.jit(step).lower(*args).compile()
m = compiled.memory_analysis()
fields = ("argument_size_in_bytes", "output_size_in_bytes", "alias_size_in_bytes",
          "temp_size_in_bytes", "peak_memory_in_bytes")
json.dump({f: getattr(m, f) for f in fields} | {"jax": jax.__version__}, open(sys.argv[1], "w"), indent=1)
"""


def main() -> None:
    """Write the dump into OUT (replacing it)."""
    with tempfile.TemporaryDirectory() as tmp:
        dump = Path(tmp) / "xla"
        env = {
            **os.environ,
            "JAX_PLATFORMS": "cpu",
            "XLA_FLAGS": f"--xla_dump_to={dump} --xla_dump_hlo_pass_re=.* --xla_dump_hlo_as_text",
        }
        stats = Path(tmp) / "memory_analysis.json"
        subprocess.run([sys.executable, "-c", STEP, str(stats)], env=env, check=True)
        shutil.rmtree(OUT, ignore_errors=True)
        (OUT / "xla").mkdir(parents=True)
        for f in sorted(dump.iterdir()):
            if f.suffix in (".txt", ".ll"):
                shutil.copy(f, OUT / "xla" / f.name)
        shutil.copy(stats, OUT / "memory_analysis.json")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
