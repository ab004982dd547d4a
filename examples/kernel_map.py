"""Which kernels of one compile do the work of which kernels of another (the kernel map).

Compiles one jax step twice, normally and with XLA's fusion pass disabled (each
compile in its own subprocess, since XLA_FLAGS is read once per process), and
prints the kernel map of the two optimized modules: the fusions of the first come
apart into several kernels of the second (``split``), and every op pairs with its
counterpart through the fusion boundary.

    .venv/bin/python examples/kernel_map.py
"""

from __future__ import annotations

import os
import subprocess
import sys

STEP = """
import jax, jax.numpy as jnp
def step(w, x):
    loss = lambda w: jnp.mean(jnp.tanh(x @ w) ** 2)
    return w - 0.1 * jax.grad(loss)(w)
print(jax.jit(step).lower(jnp.ones((8, 8)), jnp.ones((4, 8))).compile().as_text())
"""


def optimized_hlo(xla_flags: str) -> str:
    """The step's optimized HLO compiled under ``XLA_FLAGS=xla_flags``."""
    env = {**os.environ, "XLA_FLAGS": xla_flags, "JAX_PLATFORMS": "cpu"}
    return subprocess.run(
        [sys.executable, "-c", STEP], env=env, check=True, capture_output=True, text=True
    ).stdout


def main() -> None:
    """Print the kernel map of the step with and without fusion."""
    from xlalens.diff import diff
    from xlalens.ir import load

    a = load(optimized_hlo(""), stage="optimized_hlo", level="canonical")
    b = load(
        optimized_hlo("--xla_disable_hlo_passes=fusion"), stage="optimized_hlo", level="canonical"
    )
    d = diff(a, b)
    print("kernels:", d.kernel_map.kernels, d.kernel_map.counts())
    for p in d.kernel_map.pairs:
        names_a = " + ".join(a.nodes[k]["name"] for k in p.a) or "-"
        names_b = " + ".join(b.nodes[k]["name"] for k in p.b) or "-"
        print(f"  {p.kind:<12} {names_a} -> {names_b}")
    same_op = sum(1 for p in d.pairs if a.nodes[p.a]["op"] == b.nodes[p.b]["op"])
    print(f"{same_op} of {len(d.pairs)} node pairs have the same op")


if __name__ == "__main__":
    main()
