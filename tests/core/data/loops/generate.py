"""Regenerate the loop modules in this folder (run by hand, not by pytest).

    PYTHONPATH=. JAX_PLATFORMS=cpu .venv/bin/python tests/core/data/loops/generate.py

Writes, xz-compressed, the StableHLO, pre-optimization HLO and optimized HLO
(XLA:CPU) of:
- ``scan_llm``: the zoo's scanned, rematerialized LLM-style step
  (examples/zoo/jax_scan_llm.py) at a tiny config, 3 layers under ``lax.scan``;
- ``unrolled_llm``: its unrolled twin (the same layers in a Python loop);
- ``fori``: a ``lax.fori_loop`` of 5 matmul steps (a loop we did not build the
  cost model against), and ``while_data``: a ``lax.while_loop`` whose count
  depends on the data (trip count unknown).
"""

from __future__ import annotations

import lzma
import sys
from pathlib import Path

import jax
import jax.numpy as jnp

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parents[3] / "examples" / "zoo"))

import jax_scan_llm  # noqa: E402

TINY = {"vocab": 32, "d_model": 16, "heads": 2, "d_ff": 32, "layers": 3, "seq": 8, "batch": 2}


def fori():
    """``x <- tanh(x @ w)`` five times under ``lax.fori_loop``."""

    def step(w, x):
        return jax.lax.fori_loop(0, 5, lambda i, h: jnp.tanh(h @ w), x)

    return step, (jnp.ones((16, 16)) * 0.1, jnp.ones((4, 16)))


def while_data():
    """Halve ``x`` until its norm is below 1: a data-dependent trip count."""

    def step(x):
        return jax.lax.while_loop(lambda v: jnp.sum(v * v) > 1.0, lambda v: v * 0.5, x)

    return step, (jnp.ones((8,)) * 3.0,)


def write(name: str, fn, args) -> None:
    lowered = jax.jit(fn).lower(*args)
    texts = {
        "stablehlo.mlir": lowered.as_text(),
        "hlo.txt": lowered.as_text(dialect="hlo"),
        "optimized_hlo.txt": lowered.compile().as_text(),
    }
    for suffix, text in texts.items():
        (HERE / f"{name}.{suffix}.xz").write_bytes(lzma.compress(text.encode(), preset=9))


def main() -> None:
    write("scan_llm", *jax_scan_llm.make_step(TINY))
    write("unrolled_llm", *jax_scan_llm.make_unrolled_step(TINY))
    write("fori", *fori())
    write("while_data", *while_data())


if __name__ == "__main__":
    main()
