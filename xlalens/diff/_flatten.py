"""Flattening fusions: an optimized graph seen with its fused computations inlined."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain

import networkx as nx


# NOTE: [flattening fusions across IR levels]
# Optimized HLO moves ops into fusion computations; the pre-optimization graph
# (or StableHLO) has them in the entry, and another compiler setting draws the
# fusion boundaries elsewhere. An optimized side is therefore matched in a
# flattened form: each fused op is moved into its caller's computation, reads
# the fusion's operands where it read the fused parameters, and the fusion's
# users read the fused root. Fusion nodes and fused parameters then have no
# counterpart of their own (between two optimized graphs the kernel map pairs
# them afterwards). Node ids are unchanged, so pairs refer to the real graph.
# The flattened form is a :class:`_FlatPlan` that :class:`_Side` reads while it
# builds its lists (no second networkx graph: building one cost more than the
# matching on 25k-node modules).
@dataclass(frozen=True, slots=True)
class _FlatPlan:
    """How to see a graph with its single-caller fusions inlined."""

    hidden: frozenset[str]
    """Fusion instructions and fused parameters, which the flattened form leaves out."""
    resolved: dict[str, str]
    """Node -> the node whose value it stands for (fusion -> fused root, fused parameter -> operand)."""
    home: dict[str, str]
    """Inlined computation -> the computation its ops move to."""
    inlined: frozenset[str]
    """Names of the inlined fusion computations."""


def flatten_plan(g: nx.MultiDiGraph) -> _FlatPlan:
    """The :class:`_FlatPlan` of ``g`` (see NOTE: [flattening fusions across IR levels])."""
    comps = g.graph.get("computations", {})
    nodes = g._node
    pred = g._pred
    inline: dict[str, str] = {}  # fused computation -> its one fusion caller
    for cname, comp in comps.items():
        callers = comp.get("callers", [])
        if comp.get("kind") == "fusion" and len(callers) == 1 and callers[0] in nodes:
            inline[cname] = callers[0]
    fused_of: dict[str, str] = {caller: c for c, caller in inline.items()}

    # Where each hidden node's value comes from, one step: a fusion's is its fused
    # root, a fused parameter's the fusion's operand at its number (``params`` lists
    # a computation's parameters by number: docs/graph-schema.md). A node without a
    # step stands for itself. (Parameters first, so a fusion's step wins, as in a
    # walk that looks at the fusion first.)
    step: dict[str, str] = {}
    for cname, caller in inline.items():
        params = comps[cname].get("params") or []
        if params:
            ops = {k: u for u, keyed in pred[caller].items() for k in keyed}
            for i, p in enumerate(params):
                u = ops.get(i)
                if u is not None:
                    step[p] = u
    for caller, cname in fused_of.items():
        root = comps[cname].get("root")
        if root is not None:
            step[caller] = root

    resolved: dict[str, str] = {}

    def resolve(x: str) -> str:
        seen = []
        while x not in resolved:
            seen.append(x)
            nxt = step.get(x)
            if nxt is None or nxt in seen:
                break
            x = nxt
        final = resolved.get(x, x)
        for y in seen:
            resolved[y] = final
        return final

    home: dict[str, str] = {}
    for cname in inline:
        c, guard = cname, 0
        while c in inline and guard < 64:
            c = nodes[inline[c]]["computation"]
            guard += 1
        home[cname] = c
    hidden = set(fused_of)
    for cname in inline:
        for p in comps[cname].get("params", []):
            hidden.add(p)
    for x in hidden:
        resolve(x)
    return _FlatPlan(
        hidden=frozenset(hidden),
        resolved={k: v for k, v in resolved.items() if k != v},
        home=home,
        inlined=frozenset(inline),
    )


def flatten_fusions(g: nx.MultiDiGraph) -> tuple[nx.MultiDiGraph, list[str]]:
    """A copy of ``g`` with single-caller fusion computations inlined, and the hidden node ids.

    Args:
        g: an xlalens graph (typically optimized HLO).

    Returns:
        ``(flat, hidden)``: the flattened graph (not schema-valid: fusion
        computations are gone and node data is shared) and the ids of the
        fusion nodes and fused parameters it left out, in ``g``'s node order.

    Example:
        >>> flat, hidden = flatten_fusions(optimized)  # doctest: +SKIP
    """
    plan = flatten_plan(g)
    res = plan.resolved
    comps = g.graph.get("computations", {})
    flat = nx.MultiDiGraph()
    flat.graph.update(g.graph)
    flat.graph["computations"] = {
        c: {**comp, "root": res.get(comp["root"], comp["root"]) if comp.get("root") else None}
        for c, comp in comps.items()
        if c not in plan.inlined
    }
    hidden = [n for n in g if n in plan.hidden]
    for n, d in g.nodes(data=True):
        if n in plan.hidden:
            continue
        if d["computation"] in plan.home:
            d = {**d, "computation": plan.home[d["computation"]]}
        flat.add_node(n, **d)
    for u, v, k, d in g.edges(keys=True, data=True):
        if v not in plan.hidden:
            flat.add_edge(res.get(u, u), v, key=k, **d)
    return flat, hidden


def count_edges(g: nx.MultiDiGraph) -> int:
    """``g.number_of_edges()`` without networkx's degree view (3x faster on large graphs)."""
    # map/chain run the walk in C (a generator costs one Python frame step per node pair).
    return sum(map(len, chain.from_iterable(map(dict.values, g._succ.values()))))
