"""Render benchmark: overview and drill-downs of a 20k+-instruction optimized module.

Targets (issue 5): the overview in at most 5 s, each drill-down in at most 1 s.
The module is a 28-layer transformer training step from JAX (named scopes per
layer and block), optimized for CPU. The reference measured in the same run is
`dot -Tsvg` on a plain 650-node random DAG (0.26 s when the issue was written),
so the ratios say how this machine compares.

Run: .venv/bin/python benchmarks/bench_render.py [LAYERS]
"""

from __future__ import annotations

import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "core"))


def _reference_dag(n: int = 650, seed: int = 0) -> str:
    rng = random.Random(seed)
    lines = ["digraph ref {", "  node [shape=box];"]
    for v in range(1, n):
        for u in rng.sample(range(max(0, v - 30), v), k=min(v, rng.choice((1, 1, 2)))):
            lines.append(f"  n{u} -> n{v};")
    lines.append("}")
    return "\n".join(lines)


def _dot_seconds(source: str) -> float:
    t = time.perf_counter()
    subprocess.run(["dot", "-Tsvg", "-o", "/dev/null"], input=source.encode(), check=True)
    return time.perf_counter() - t


def main() -> None:
    """Print the figures."""
    from _render_workloads import scoped_transformer_hlo

    import xlalens.ir as ir
    from xlalens.render import render, render_views
    from xlalens.render._render import _graph_views

    layers = int(sys.argv[1]) if len(sys.argv) > 1 else 28
    t = time.perf_counter()
    text = scoped_transformer_hlo(layers)
    t_gen = time.perf_counter() - t
    t = time.perf_counter()
    g = ir.parse_hlo_text(text)
    t_parse = time.perf_counter() - t
    print(
        f"module: {layers}-layer transformer step, optimized HLO, {g.number_of_nodes():,} instructions "
        f"(jax compile {t_gen:.1f} s, parse {t_parse:.2f} s)"
    )

    ref = min(_dot_seconds(_reference_dag()) for _ in range(3))
    print(f"reference: dot -Tsvg on a plain 650-node DAG: {ref:.3f} s (best of 3)")

    overview = []
    for _ in range(3):
        t = time.perf_counter()
        svg = render(g)
        overview.append(time.perf_counter() - t)
    best = min(overview)
    print(
        f"overview (plan + DOT + layout, budget 300): {best:.2f} s best of 3 "
        f"[target <= 5 s: {'PASS' if best <= 5 else 'FAIL'}] = {best / ref:.1f}x reference; "
        f"{len(svg) / 1e6:.1f} MB SVG"
    )

    t = time.perf_counter()
    items, _, _ = _graph_views(g, collapse="auto", budget=300, stem="bench", title=None)
    t_plan = time.perf_counter() - t
    per = [_dot_seconds(src) for _, src, parent, _ in items if parent is not None]
    per.sort()
    p90 = per[int(0.9 * (len(per) - 1))]
    print(
        f"drill-downs: {len(per)} SVGs; planning all views {t_plan:.2f} s "
        f"({t_plan / len(items) * 1e3:.0f} ms per view)"
    )
    print(
        f"drill-down layout: median {statistics.median(per):.3f} s, p90 {p90:.3f} s, max {per[-1]:.3f} s "
        f"[target <= 1 s each: {'PASS' if per[-1] + t_plan / len(items) <= 1 else 'FAIL'}] "
        f"= max {per[-1] / ref:.1f}x reference"
    )
    t = time.perf_counter()
    r = render_views(g)
    t_all = time.perf_counter() - t
    print(
        f"all {len(r.svgs)} SVGs (overview + drill-downs, parallel dot): {t_all:.2f} s; "
        f"largest drawn {max(r.drawn.values())} nodes"
    )


if __name__ == "__main__":
    main()
