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


_MISSING = object()
"""A node id no graph holds (the partner of an unpaired node)."""


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
    na, nb_ = a._node, b._node
    cost = 0
    for x, y in fwd.items():
        # Labels of paired nodes only: an unpaired node costs 1 whatever it is.
        p = ka.get(x) or node_label(na[x])
        q = kb.get(y) or node_label(nb_[y])
        if p != q:  # subst_cost, inlined: one call per pair adds up at 10^5 pairs
            cost += 2 if p[0] != q[0] else 1
    cost += len(na) - len(fwd) + len(nb_) - len(fwd)
    # Edges of the projections, walked in place (building both projections as
    # dicts keyed by (u, v) cost as much as the rest of the edit cost): an edge
    # u -> v of A is covered when B has the edge fwd[u] -> fwd[v]; its position
    # tuple is the sorted keys, so two key sets compare as the tuples would.
    succ_b = b._succ
    no_edges: dict = {}
    covered = 0
    for u, nbrs in a._succ.items():
        u2 = fwd.get(u)
        nb = succ_b.get(u2, no_edges) if u2 is not None else no_edges
        if not nb:
            cost += len(nbrs)
            continue
        for v, keyed in nbrs.items():
            other = nb.get(fwd.get(v, _MISSING))
            if other is None:
                cost += 1
            else:
                covered += 1
                cost += keyed.keys() != other.keys()
    cost += sum(map(len, succ_b.values())) - covered
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
