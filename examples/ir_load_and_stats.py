"""Load IR into xlalens graphs, normalize it, look at it, save it.

Run: .venv/bin/python examples/ir_load_and_stats.py [DUMP_DIR]
With no argument it lowers a small jax function itself; with a dump folder
(``xlalens dump -o DIR``) it reads ``DIR:jax`` instead.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import xlalens.ir as ir


def main() -> None:
    """Load StableHLO at both levels, print stats, round-trip through JSON."""
    if len(sys.argv) > 1:
        target = f"{sys.argv[1]}:jax:stablehlo"  # a dump entry: roles come from the manifest
        raw = ir.load(target)
        canon = ir.load(target, level="canonical")
    else:
        import jax
        import jax.numpy as jnp

        def step(w, b, x, y, lr):
            def loss(w, b):
                return jnp.mean((x @ w + b - y) ** 2)

            val, (gw, gb) = jax.value_and_grad(loss, argnums=(0, 1))(w, b)
            return w - lr * gw, b - lr * gb, val

        text = (
            jax.jit(step)
            .lower(jnp.ones((3, 1)), jnp.zeros(1), jnp.ones((4, 3)), jnp.ones((4, 1)), 0.1)
            .as_text()
        )
        raw = ir.load(text)
        roles = {
            "inputs": [{"role": r} for r in ("w", "b", "x", "y", "lr")],
            "outputs": [{"role": r} for r in ("w", "b", "loss")],
        }
        canon = ir.normalize(raw, "canonical", signature=roles)

    for g in (raw, canon):
        s = ir.stats(g)
        print(
            f"{s.level:>9}: {s.nodes} nodes, {s.edges} edges, {s.computations} computations, "
            f"entry ops {s.entry_ops}; top ops {list(s.histogram.items())[:4]}"
        )
    print("canonical rewrites:", canon.graph["attrs"]["canonical"])

    # Parameters and results carry their roles at the canonical level.
    entry = canon.graph["entry"]
    for nid in canon.graph["computations"][entry]["params"]:
        d = canon.nodes[nid]
        print(f"  parameter {d['param_index']}: {d['type']:<10} role={d['role']}")

    # A reduce's body is a linked computation at raw level, an attribute at canonical.
    red = next(n for n, d in raw.nodes(data=True) if d["op"] == "reduce")
    body = ir.subgraph(raw, raw.nodes[red]["calls"][0])
    print(
        f"  raw {red} calls {raw.nodes[red]['calls']} ({body.number_of_nodes()} nodes);"
        f" canonical reducer={canon.nodes[red]['attrs'].get('reducer')!r}"
    )

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "canonical.json"
        ir.to_json(canon, path)
        back = ir.validate(ir.from_json(path))
        print(
            f"  saved and re-read {path.name}: {back.number_of_nodes()} nodes, equal:",
            list(back.nodes(data=True)) == list(canon.nodes(data=True)),
        )


if __name__ == "__main__":
    main()
