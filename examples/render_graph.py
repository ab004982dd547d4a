"""Render a JAX function's optimized HLO as SVG, and the diff of two functions.

Run: .venv/bin/python examples/render_graph.py [OUT_DIR]
Writes OUT_DIR/mlp.svg (plus drill-downs when the graph is collapsed),
OUT_DIR/mlp-heat.svg (the heat view) and OUT_DIR/relu_vs_gelu.svg. Open any of
them in a browser: they pan (drag), zoom (wheel) and follow drill-down links. Needs graphviz's `dot` (apt-get install graphviz).
"""

from __future__ import annotations

import sys
from pathlib import Path

import jax
import jax.numpy as jnp

import xlalens.ir as ir
from xlalens.diff import diff
from xlalens.render import render, write_svgs


def mlp(act):
    def f(w1, w2, x):
        with jax.named_scope("hidden"):
            h = act(x @ w1)
        with jax.named_scope("out"):
            return jnp.tanh(h @ w2).sum()

    return f


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "render-example")
    args = (jnp.ones((16, 32)), jnp.ones((32, 4)), jnp.ones((8, 16)))
    step = jax.jit(jax.grad(mlp(jax.nn.relu)))
    graph = ir.parse_hlo_text(step.lower(*args).compile().as_text())

    # One call: the overview SVG text (deterministic: same graph, same bytes).
    svg = render(graph, budget=300)
    print(f"overview: {len(svg):,} bytes of SVG")

    # The overview and its drill-downs as files, linked to each other.
    r = write_svgs(graph, out / "mlp.svg", budget=20)
    print(f"wrote {len(r.svgs)} SVG(s) to {out}/, overview {r.overview}")
    # How each view's layout went: full, or the cheaper mode when dot missed its
    # deadline (the caption then says why), with the view's size and dot's seconds.
    for name, lay in list(r.layouts.items())[:3]:
        f = lay.features
        print(
            f"  {name}: {lay.mode}, {f.nodes} nodes, {f.clusters} frames, "
            f"{lay.seconds:.2f} s ({lay.cpu:.2f} s of dot CPU)"
        )

    # As a dump does: kernels' bodies are not laid out; their links are marked
    # (class xl-deferred, and a note saying how to draw them when clicked).
    lazy = write_svgs(graph, out / "lazy" / "mlp.svg", budget=20, lazy_bodies=True)
    print(f"lazy: wrote {len(lazy.svgs)} SVG(s), left {len(lazy.deferred)} kernel bodies undrawn")

    # Heat view: kernels painted by their share of the step time (here made up:
    # the first fusions get 50%, 25%, ...; `xlalens time` measures real ones).
    entry = graph.graph["entry"]
    kernels = [
        n for n, d in graph.nodes(data=True) if d["op"] == "fusion" and d["computation"] == entry
    ]
    heat = {n: 0.5 / 2**i for i, n in enumerate(kernels)}
    write_svgs(graph, out / "mlp-heat.svg", budget=20, heat=heat)
    print(f"wrote {out / 'mlp-heat.svg'} (heat view)")

    # A diff: unchanged grey, changed amber, left-only red, right-only green.
    other = ir.parse_hlo_text(
        jax.jit(jax.grad(mlp(jax.nn.gelu))).lower(*args).as_text(dialect="hlo")
    )
    before = ir.parse_hlo_text(step.lower(*args).as_text(dialect="hlo"))
    write_svgs(diff(before, other), out / "relu_vs_gelu.svg")
    print(f"wrote {out / 'relu_vs_gelu.svg'}")


if __name__ == "__main__":
    main()
