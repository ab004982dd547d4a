"""Regenerate the real jax modules in this folder (run by hand, not by pytest).

    .venv/bin/python tests/core/data/hlo/generate.py

Writes jax_<workload>.hlo.txt (pre-optimization HLO) and
jax_<workload>.optimized_hlo.txt (XLA:CPU, scheduled) for a linear-regression SGD
step and a 2-hidden-layer tanh MLP SGD step, the two workloads of the dump folders.
The handcrafted *.hlo.txt snippets beside them are written by hand, one per feature.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import jax
import jax.numpy as jnp

HERE = Path(__file__).parent


def regression():
    """Lowered SGD step of y = x @ w + b with a mean-squared-error loss."""

    def loss(w, b, x, y):
        return jnp.mean((x @ w + b - y) ** 2)

    def step(w, b, x, y, lr):
        value, (gw, gb) = jax.value_and_grad(loss, argnums=(0, 1))(w, b, x, y)
        return w - lr * gw, b - lr * gb, value

    args = (jnp.ones((1, 1)), jnp.zeros((1,)), jnp.ones((4, 1)), jnp.ones((4, 1)), jnp.float32(0.1))
    return jax.jit(step).lower(*args)


def mlp():
    """Lowered SGD step of a 1-8-8-1 tanh MLP with a mean-squared-error loss."""
    sizes = [1, 8, 8, 1]
    key = jax.random.PRNGKey(0)
    params = []
    for i, (m, n) in enumerate(itertools.pairwise(sizes)):
        params.append(
            (jax.random.normal(jax.random.fold_in(key, i), (m, n)) * 0.5, jnp.zeros((n,)))
        )

    def forward(params, x):
        for i, (w, b) in enumerate(params):
            x = x @ w + b
            if i < len(params) - 1:
                x = jnp.tanh(x)
        return x

    def loss(params, x, y):
        return jnp.mean((forward(params, x) - y) ** 2)

    def step(params, x, y, lr):
        value, grads = jax.value_and_grad(loss)(params, x, y)
        return jax.tree.map(lambda p, g: p - lr * g, params, grads), value

    return jax.jit(step).lower(params, jnp.ones((4, 1)), jnp.ones((4, 1)), jnp.float32(0.1))


if __name__ == "__main__":
    for name, make in (("regression", regression), ("mlp", mlp)):
        lowered = make()
        (HERE / f"jax_{name}.hlo.txt").write_text(lowered.as_text(dialect="hlo"))
        (HERE / f"jax_{name}.optimized_hlo.txt").write_text(lowered.compile().as_text())
