"""Export a JAX function's optimized HLO for Model Explorer, with a diff-status overlay.

Run: .venv/bin/python examples/export_model_explorer.py [OUT_DIR]
Writes the two modules' optimized HLO (OUT_DIR/relu.txt, gelu.txt), OUT_DIR/relu.me.json and OUT_DIR/gelu.me.json (Model Explorer graph JSON: one
graph per computation, fusions open their bodies, jax.named_scope layers) and one
``*.diff-status.nodedata.json`` overlay beside each. Open them in Model Explorer:

    model-explorer OUT_DIR/relu.me.json --node_data_paths=OUT_DIR/relu.me.diff-status.nodedata.json

or let xlalens start it with everything loaded:
``xlalens explore OUT_DIR/relu.txt --diff OUT_DIR/gelu.txt`` (pip install 'xlalens[explore]').
"""

from __future__ import annotations

import sys
from pathlib import Path

import jax
import jax.numpy as jnp

import xlalens


def mlp(act):
    def f(w1, w2, x):
        with jax.named_scope("hidden"):
            h = act(x @ w1)
        with jax.named_scope("out"):
            return jnp.tanh(h @ w2).sum()

    return f


def optimized_hlo(act) -> str:
    args = (jnp.ones((64, 128)), jnp.ones((128, 8)), jnp.ones((32, 64)))
    return jax.jit(mlp(act)).lower(*args).compile().as_text()


def main(out_dir: str = "export-example") -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    relu, gelu = out / "relu.txt", out / "gelu.txt"
    relu.write_text(optimized_hlo(jax.nn.relu))
    gelu.write_text(optimized_hlo(jax.nn.gelu))
    # One graph alone: name scopes become layers, nodes carry cost and kernel.
    alone = xlalens.export(relu, out=out / "relu_alone.me.json", level="raw")
    print(f"{alone.path}: {alone.graphs} graphs, {alone.nodes} nodes in {alone.seconds:.3f} s")
    # A diff: each side gets the status of its nodes as an overlay.
    d = xlalens.diff(relu, gelu)
    st_a = {p.a: p.status for p in d.pairs} | {n: "only-A" for n in d.only_a}
    st_b = {p.b: p.status for p in d.pairs} | {n: "only-B" for n in d.only_b}
    for name, graph, status in (("relu", d.a, st_a), ("gelu", d.b, st_b)):
        r = xlalens.export(graph, out=out / f"{name}.me.json", node_status=status, label=name)
        print(f"{r.path} + overlay {r.overlays[0].name}")
    print(f"diff: {d.summary.unchanged} unchanged, {d.summary.changed} changed, "
          f"{d.summary.only_a} only in relu, {d.summary.only_b} only in gelu")  # fmt: skip


if __name__ == "__main__":
    main(*sys.argv[1:2])
