"""Read HLO into the xlalens graph: kernels, fused bodies, source lines, cost, mesh groups, errors.

Run: .venv/bin/python examples/hlo_reader.py
"""

from __future__ import annotations

from collections import Counter

import jax
import jax.numpy as jnp

from xlalens import ParseError
from xlalens.ir import kernel_nodes, node_cost, parse_hlo_text, subgraph, validate


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

# Each kernel's cost from the one cost model (FLOPs include fused bodies).
for k in kernel_nodes(g)[:5]:
    c = node_cost(g, k)
    print(f"  cost {g.nodes[k]['name']:<32} flops={c.flops} bytes={c.bytes}")

# Text written by hand reads too: instructions over several lines, comments anywhere,
# and the mesh replica groups jax 0.10 prints for sharded steps.
handwritten = """/* a reproducer */
HloModule repro, num_partitions=8
add { a = f32[] parameter(0)  b = f32[] parameter(1)  ROOT s = f32[] add(a, b) }
ENTRY e {
  p = f32[8] parameter(0)  // the input
  ROOT r = f32[8] all-reduce(p), channel_id=1,
      replica_groups=mesh['x'=4,'y'=2] {'y'}, use_global_device_ids=true,
      to_apply=add
}
"""
r = validate(parse_hlo_text(handwritten)).nodes["e/r"]["attrs"]
print("mesh groups:", r["replica_groups_parsed"]["groups"])

# Errors name the place: file:line:col: expected X, found Y, then the line and a caret.
try:
    parse_hlo_text(handwritten[:-40], source="repro.hlo")
except ParseError as err:
    print(err)
