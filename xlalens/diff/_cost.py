"""Edit cost of a matching, and the same costs for networkx's exact graph edit distance.

NOTE: [edit costs]
Costs are counted on the simple directed projection of a graph: parallel edges
``u -> v`` (``multiply(x, x)``) collapse into one edge whose label is the sorted
tuple of operand positions. Node: substitution 0 when the labels
(:func:`xlalens.diff._labels.node_label`) are equal, 2 when the ops differ (as much
as deleting one op and inserting another: a parameter does not "become" a
negate), else 1 (same op, other dtype, shape, layout, attributes, role or
parameter number); insertion and deletion 1.
Edge: substitution 0 when the position tuples are equal, else 1; insertion and
deletion 1. A matching's cost is the cost of the edit path it implies. The
quality test hands :func:`oracle_graph` and :data:`NX_COSTS` to
``networkx.optimize_edit_paths`` so both sides count exactly the same way.
"""

from __future__ import annotations

from collections.abc import Iterable

import networkx as nx

from xlalens.diff._labels import node_label


def _projection(g: nx.MultiDiGraph) -> dict[tuple[str, str], tuple[int, ...]]:
    # The adjacency dict directly (the edge view costs ~3x per edge): one entry
    # per (u, v) with its keys sorted, as ``g.edges(keys=True)`` would give them.
    out: dict[tuple[str, str], tuple[int, ...]] = {}
    for u, nbrs in g._succ.items():
        for v, keyed in nbrs.items():
            out[(u, v)] = tuple(sorted(keyed)) if len(keyed) > 1 else tuple(keyed)
    return out


def edit_cost(
    a: nx.MultiDiGraph,
    b: nx.MultiDiGraph,
    pairs: Iterable[tuple[str, str]],
    *,
    labels: tuple[dict[str, tuple], dict[str, tuple]] | None = None,
) -> int:
    """Cost of the edit path that a node pairing implies (see NOTE: [edit costs]).

    Args:
        a: left graph.
        b: right graph.
        pairs: ``(a_id, b_id)`` pairs, each node at most once.
        labels: known ``node_label`` values by node id per side (a cache; the
            missing ones are computed).

    Returns:
        Node substitutions with a different label + unpaired nodes + edge edits.

    Example:
        >>> edit_cost(g, g, [(n, n) for n in g])  # doctest: +SKIP
        0
    """
    fwd = dict(pairs)
    ka, kb = labels if labels is not None else ({}, {})
    la = {n: ka.get(n) or node_label(d) for n, d in a._node.items()}
    lb = {n: kb.get(n) or node_label(d) for n, d in b._node.items()}
    cost = 0
    for x, y in fwd.items():
        p, q = la[x], lb[y]
        if p != q:  # subst_cost, inlined: one call per pair adds up at 10^5 pairs
            cost += 2 if p[0] != q[0] else 1
    cost += len(la) - len(fwd) + len(lb) - len(fwd)
    ea, eb = _projection(a), _projection(b)
    covered = 0
    for (u, v), keys in ea.items():
        u2, v2 = fwd.get(u), fwd.get(v)
        other = eb.get((u2, v2)) if u2 is not None and v2 is not None else None
        if other is None:
            cost += 1
        else:
            covered += 1
            cost += keys != other
    cost += len(eb) - covered
    return cost


def subst_cost(label_a: tuple, label_b: tuple) -> int:
    """Node substitution cost of two :func:`~xlalens.diff._labels.node_label` tuples."""
    if label_a == label_b:
        return 0
    return 2 if label_a[0] != label_b[0] else 1


def oracle_graph(g: nx.MultiDiGraph) -> nx.DiGraph:
    """The projection of ``g`` that :data:`NX_COSTS` prices (node ``label``, edge ``keys``)."""
    out = nx.DiGraph()
    for n, d in g.nodes(data=True):
        out.add_node(n, label=node_label(d))
    for (u, v), keys in _projection(g).items():
        out.add_edge(u, v, keys=keys)
    return out


NX_COSTS = {
    "node_subst_cost": lambda x, y: subst_cost(x["label"], y["label"]),
    "node_del_cost": lambda x: 1,
    "node_ins_cost": lambda x: 1,
    "edge_subst_cost": lambda x, y: 0 if x["keys"] == y["keys"] else 1,
    "edge_del_cost": lambda x: 1,
    "edge_ins_cost": lambda x: 1,
}
"""Keyword arguments for ``networkx.optimize_edit_paths`` matching :func:`edit_cost`."""
