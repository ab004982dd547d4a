"""Read jax's optimized HLO into the xlalens graph: kernels, fused bodies, source lines.

Run: .venv/bin/python examples/hlo_reader.py
"""

from __future__ import annotations

from collections import Counter

import jax
import jax.numpy as jnp

from xlalens.ir import kernel_nodes, parse_hlo_text, subgraph, validate


def step(w, x, y, lr):
    """One SGD step of a tanh layer with a squared loss."""
    loss, g = jax.value_and_grad(lambda w: jnp.mean((jnp.tanh(x @ w) - y) ** 2))(w)
    return w - lr * g, loss


args = (jnp.ones((8, 4)), jnp.ones((16, 8)), jnp.zeros((16, 4)), jnp.float32(0.1))
text = jax.jit(step).lower(*args).compile().as_text()

g = validate(parse_hlo_text(text, source="step", stage="optimized_hlo"))
print(f"{g.number_of_nodes()} instructions in {len(g.graph['computations'])} computations")

# Kernels: the entry's fusions and unfused ops, each with where its code came from.
for k in kernel_nodes(g):
    d = g.nodes[k]
    where = f"{d['source_file'].rsplit('/', 1)[-1]}:{d['source_line']}" if d["source_file"] else "?"
    print(f"  kernel {d['name']:<32} {d['opcode']:<10} {d['type']:<16} {where}")

# The body of the first fusion is reachable from its caller; every node in it
# points back to the kernel through its 'fusion' field.
fusion = next(k for k in kernel_nodes(g) if g.nodes[k]["opcode"] == "fusion")
body = subgraph(g, g.nodes[fusion]["calls"][0])
print(f"{g.nodes[fusion]['name']} fuses:", dict(Counter(d["op"] for _, d in body.nodes(data=True))))
assert all(d["fusion"] == fusion for _, d in body.nodes(data=True))
