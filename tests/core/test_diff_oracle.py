"""Quality oracle: the diff's edit cost against networkx's exact graph edit distance.

Small real graphs (entry computations of small jax functions, lowered to
StableHLO and read by xlalens.ir) and seeded mutations of them are diffed, and
the cost of the edit path the diff implies is compared with the optimum that
``networkx.optimize_edit_paths`` finds under the same costs
(xlalens.diff._cost.NX_COSTS).
"""

from __future__ import annotations

import copy
import random
import time
import warnings

import jax
import jax.numpy as jnp
import networkx as nx

from xlalens.diff import diff, edit_cost
from xlalens.diff._cost import NX_COSTS, oracle_graph

# Seconds the exact search may take per case; when it runs out, the best path
# found so far stands in for the optimum and the case is counted as 'unproven'.
GED_TIMEOUT = 1.0
MAX_NODES = 12
# Mutated copies per graph: with one edit, and with two or three edits.
SINGLE_EDITS = 5
MULTI_EDITS = 5


class OracleFigures(UserWarning):
    """Carries the oracle figures into pytest's warnings summary."""


def _load_raw(text: str) -> nx.MultiDiGraph:
    from xlalens.ir import load

    return load(text, level="raw")


def entry_only(g: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """The entry computation alone, its calls dropped (the oracle compares flat graphs)."""
    entry = g.graph["entry"]
    keep = [n for n, c in g.nodes(data="computation") if c == entry]
    out = nx.MultiDiGraph(g.subgraph(keep))
    out.graph = copy.deepcopy(g.graph)
    out.graph["computations"] = {entry: {**g.graph["computations"][entry], "callers": []}}
    for n in out:
        out.nodes[n]["calls"] = ()
    return out


def corpus() -> list[tuple[str, nx.MultiDiGraph]]:
    """(name, graph) for small jax functions, each at most MAX_NODES nodes."""
    x4 = jnp.ones((4, 3), jnp.float32)
    w = jnp.ones((3, 2), jnp.float32)
    b = jnp.ones((2,), jnp.float32)
    v = jnp.ones((4,), jnp.float32)
    fns = {
        "affine": (lambda x, w, b: x @ w + b, (x4, w, b)),
        "relu_layer": (lambda x, w: jax.nn.relu(x @ w), (x4, w)),
        "sq_error": (lambda x, y: jnp.sum((x - y) ** 2), (v, v)),
        "tanh_affine": (lambda x: jnp.tanh(x) * 2.0 + 1.0, (v,)),
        "minmax": (lambda a, c: jnp.maximum(a, c) - jnp.minimum(a, c) * a, (v, v)),
        "gram": (lambda x: x.T @ x, (x4,)),
        "sgd": (lambda p, g, lr: p - lr * g, (v, v, jnp.float32(0.1))),
        "regression": (
            lambda w, b, x, y: jnp.mean((x * w + b - y) ** 2),
            (jnp.ones((1,)), jnp.ones((1,)), jnp.ones((4, 1)), jnp.ones((4, 1))),
        ),
        "logistic": (lambda x, w: jnp.log1p(jnp.exp(-(x @ w))), (x4, w)),
    }
    out = []
    for name, (f, args) in fns.items():
        g = entry_only(_load_raw(jax.jit(f).lower(*args).as_text()))
        if g.number_of_nodes() <= MAX_NODES:
            out.append((name, g))
    return out


NEW_OPS = ("negate", "exponential", "abs", "convert")


def mutate(g: nx.MultiDiGraph, rng: random.Random) -> tuple[nx.MultiDiGraph, str]:
    """One seeded edit of a copy of ``g``: relabel, retype, attribute, insert/delete node or edge, swap."""
    h = copy.deepcopy(g)
    nodes = list(h.nodes)
    inner = [n for n in nodes if h.nodes[n]["op"] not in ("parameter", "return")] or nodes
    kind = rng.choice(
        ["op", "dtype", "attr", "insert", "delete_node", "delete_edge", "add_edge", "swap"]
    )
    n = rng.choice(inner)
    if kind == "op":
        h.nodes[n]["op"] = rng.choice([o for o in NEW_OPS if o != h.nodes[n]["op"]])
    elif kind == "dtype":
        h.nodes[n]["dtype"] = "f16" if h.nodes[n]["dtype"] != "f16" else "f32"
    elif kind == "attr":
        h.nodes[n]["attrs"] = {**h.nodes[n]["attrs"], "mutated": rng.randint(1, 9)}
    elif kind == "insert" and h.number_of_edges():
        u, v, k = rng.choice(sorted(h.edges(keys=True)))
        h.remove_edge(u, v, key=k)
        new = f"{h.graph['entry']}/inserted"
        data = {**h.nodes[u], "name": "inserted", "op": "negate", "attrs": {}, "param_index": None}
        data.update(role=None, is_root=False)
        h.add_node(new, **data)
        h.add_edge(
            u, new, key=0, operand_index=0, kind="data", dtype=data["dtype"], shape=data["shape"]
        )
        h.add_edge(
            new, v, key=k, operand_index=k, kind="data", dtype=data["dtype"], shape=data["shape"]
        )
    elif kind == "delete_node":
        h.remove_node(n)
    elif kind == "delete_edge" and h.number_of_edges():
        u, v, k = rng.choice(sorted(h.edges(keys=True)))
        h.remove_edge(u, v, key=k)
    elif kind == "add_edge":
        order = nodes
        i = rng.randrange(len(order) - 1)
        j = rng.randrange(i + 1, len(order))
        u, v = order[i], order[j]
        k = max((kk for _, _, kk in h.in_edges(v, keys=True)), default=-1) + 1
        h.add_edge(u, v, key=k, operand_index=k, kind="data", dtype="f32", shape=())
    elif kind == "swap":
        binary = [m for m in inner if h.in_degree(m) == 2]
        if binary:
            m = rng.choice(binary)
            (u0, _, _), (u1, _, _) = sorted(h.in_edges(m, keys=True), key=lambda e: e[2])
            if u0 != u1:
                h.remove_edges_from(list(h.in_edges(m, keys=True)))
                h.add_edge(u1, m, key=0, operand_index=0, kind="data", dtype="f32", shape=())
                h.add_edge(u0, m, key=1, operand_index=1, kind="data", dtype="f32", shape=())
    return h, kind


def exact_ged(a: nx.MultiDiGraph, b: nx.MultiDiGraph, upper: int) -> tuple[int, bool]:
    """(optimal cost, proven): the exact search, bounded by our cost and by GED_TIMEOUT."""
    start = time.perf_counter()
    best = upper
    for _, _, cost in nx.optimize_edit_paths(
        oracle_graph(a), oracle_graph(b), upper_bound=upper, timeout=GED_TIMEOUT, **NX_COSTS
    ):
        best = min(best, round(cost))
    proven = time.perf_counter() - start < GED_TIMEOUT
    return best, proven


def test_edit_cost_against_exact_ged() -> None:
    """Equal to the optimum on identical graphs and single edits; within 1.1x on >= 95% overall."""
    rng = random.Random(20261126)
    graphs = corpus()
    assert len(graphs) >= 6, [(n, g.number_of_nodes()) for n, g in graphs]
    rows = []  # (case, edits, ours, optimum, proven)
    for name, g in graphs:
        cases = [("identical", 0, copy.deepcopy(g))]
        for _ in range(SINGLE_EDITS):
            h, kind = mutate(g, rng)
            cases.append((kind, 1, h))
        for _ in range(MULTI_EDITS):
            h, kinds = g, []
            for _ in range(rng.randint(2, 3)):
                h, kind = mutate(h, rng)
                kinds.append(kind)
            cases.append(("+".join(kinds), len(kinds), h))
        for kind, edits, h in cases:
            d = diff(g, h)
            ours = d.summary.edit_cost
            # The diff's own (compact) cost agrees with the networkx-side pricing.
            assert edit_cost(g, h, [(p.a, p.b) for p in d.pairs]) == ours, f"{name}:{kind}"
            best, proven = exact_ged(g, h, ours)
            rows.append((f"{name}:{kind}", edits, ours, best, proven))
    within = [r for r in rows if r[2] <= 1.1 * r[3] or r[2] == r[3]]
    exact_small = [r for r in rows if r[1] <= 1]
    report = "\n".join(
        f"  {case:<40} edits={edits} ours={ours} optimum={best}{'' if proven else ' (search timed out)'}"
        for case, edits, ours, best, proven in rows
    )
    summary = (
        f"diff vs exact GED: {len(rows)} cases, equal on {sum(r[2] == r[3] for r in rows)}, "
        f"within 1.1x on {len(within)} ({100 * len(within) / len(rows):.1f}%), "
        f"exact search proven optimal on {sum(r[4] for r in rows)}; "
        f"identical+single-edit cases equal: {sum(r[2] == r[3] for r in exact_small)}/{len(exact_small)}"
    )
    print("\n" + summary + "\n" + report)
    # A warning shows in pytest's summary whether or not output is captured (-s).
    warnings.warn(OracleFigures(summary), stacklevel=1)
    assert all(r[2] == r[3] for r in exact_small), summary + "\n" + report
    assert len(within) >= 0.95 * len(rows), summary + "\n" + report
