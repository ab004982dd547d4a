"""Diff what two frameworks hand to XLA, with the Python API.

With a dump (``xlalens dump -o xlalens-dump``) it diffs two of its frontends:

    .venv/bin/python examples/diff_two_frameworks.py xlalens-dump jax torch_xla

Without arguments it needs only jax: the seed's regression step written two ways
(the linear unit as ``x * w`` the way the seed's JAX code does it, and as
``x @ w.T`` the way PyTorch's ``nn.Linear`` does), standing in for two frameworks.
"""

from __future__ import annotations

import sys

import jax
import jax.numpy as jnp

from xlalens.diff import diff
from xlalens.ir import load


def step_text(linear) -> str:
    """StableHLO of one SGD step of the regression with the given linear unit."""

    def loss(p, x, y):
        return jnp.mean((linear(x, p["w"]) + p["b"] - y) ** 2)

    def step(p, x, y):
        value, g = jax.value_and_grad(loss)(p, x, y)
        return jax.tree.map(lambda a, b: a - 0.01 * b, p, g), value

    x = jnp.arange(1.0, 5.0).reshape(4, 1)
    p = {"w": jnp.full((1, 1), 0.5), "b": jnp.full((1,), 0.1)}
    return jax.jit(step).lower(p, x, 2 * x).as_text()


def main(argv: list[str]) -> None:
    """Diff two dump entries, or two jax spellings of the seed's step."""
    if len(argv) == 3:
        dump, fa, fb = argv
        a = load(f"{dump}:{fa}", level="canonical")
        b = load(f"{dump}:{fb}", level="canonical")
    else:
        a = load(step_text(lambda x, w: x * w[0]), level="canonical")
        b = load(step_text(lambda x, w: x @ w.T), level="canonical")
    d = diff(a, b)
    print(d.to_text(limit=5))
    s = d.summary
    print(f"paired {len(d.pairs)} of {s.nodes[0]} / {s.nodes[1]} nodes; edit cost {s.edit_cost}")
    ops = sorted({c.b for p in d.pairs for c in p.changes if c.field == "op"})
    print("ops that replace another op on the right:", ", ".join(ops) or "none")


if __name__ == "__main__":
    main(sys.argv[1:])
