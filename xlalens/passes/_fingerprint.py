"""A graph fingerprint: equal for two HLO modules that differ only in names.

Two compilations of the same step in two processes number their instructions
and computations differently (``add.7`` vs ``add.12``, ``main.6`` vs
``main.9``) and print different metadata, but compute the same thing with the
same kernels. The fingerprint hashes structure only: per node its op, result
type with layout, attributes (less names, metadata and called-computation
names), its operands' hashes by position and its callees' hashes; a
computation is the multiset of its nodes' hashes plus its root's; the module
is its entry computation.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from typing import Any

import networkx as nx

# Attributes that name things (or record provenance) rather than say what is computed.
_NAME_ATTRS = frozenset(
    {
        "metadata",
        "frontend_attributes",
        "calls",
        "to_apply",
        "body",
        "condition",
        "branch_computations",
        "called_computations",
        "stack_frame_id",
        "origin",
        "statistics",
        "backend_config",
        "control-predecessors",
        "control_predecessors",
    }
)


def _h(*parts: Any) -> str:
    return hashlib.blake2b(repr(parts).encode(), digest_size=12).hexdigest()


def node_hashes(g: nx.MultiDiGraph) -> dict[str, str]:
    """A structural hash per node (names excluded); see :func:`hashes`."""
    return hashes(g)[0]


def hashes(g: nx.MultiDiGraph) -> tuple[dict[str, str], dict[str, str]]:
    """A structural hash per node (names excluded), for every computation of ``g``.

    Args:
        g: an xlalens graph (raw level).

    Returns:
        ``({node_id: hash}, {computation: hash})``.

    Example:
        >>> by_node, by_comp = hashes(parse_hlo_text(text))  # doctest: +SKIP
    """
    comps = g.graph["computations"]
    nodes = g.nodes
    preds: dict[str, list[str]] = {}
    for u, v, k in g.in_edges(keys=True):
        ops = preds.setdefault(v, [])
        ops.append((k, u))
    by_comp: dict[str, list[str]] = {}
    for nid, d in nodes(data=True):
        by_comp.setdefault(d["computation"], []).append(nid)
    comp_hash: dict[str, str] = {}
    out: dict[str, str] = {}

    def comp(c: str, stack: tuple[str, ...] = ()) -> str:
        if c in comp_hash:
            return comp_hash[c]
        if c in stack:  # recursion cannot happen in HLO; be safe anyway
            return "cycle"
        members = by_comp.get(c, [])
        order = _topo(members, preds)
        for nid in order:
            d = nodes[nid]
            callees = tuple(comp(x, (*stack, c)) for x in d["calls"])
            attrs = {k: v for k, v in d["attrs"].items() if k not in _NAME_ATTRS}
            operand = tuple(out.get(u, "?") for _, u in sorted(preds.get(nid, [])))
            out[nid] = _h(
                d["opcode"],
                d["type"],
                d["param_index"],
                json.dumps(attrs, sort_keys=True, default=str),
                operand,
                callees,
            )
        root = comps.get(c, {}).get("root")
        comp_hash[c] = _h(out.get(root, ""), tuple(sorted(out[n] for n in members)))
        return comp_hash[c]

    for c in comps:
        comp(c)
    return out, comp_hash


_HASH_CACHE: OrderedDict[int, tuple[nx.MultiDiGraph, tuple]] = OrderedDict()


def cached_hashes(g: nx.MultiDiGraph) -> tuple[dict[str, str], dict[str, str]]:
    """:func:`hashes`, computed once per graph object (the timeline asks twice per snapshot)."""
    hit = _HASH_CACHE.get(id(g))
    if hit is not None and hit[0] is g:
        return hit[1]
    value = hashes(g)
    _HASH_CACHE[id(g)] = (g, value)  # holding g keeps its id from being reused
    if len(_HASH_CACHE) > 8:
        _HASH_CACHE.popitem(last=False)
    return value


def _topo(members: list[str], preds: dict[str, list]) -> list[str]:
    inside = set(members)
    done: set[str] = set()
    order: list[str] = []
    for start in members:
        if start in done:
            continue
        stack = [(start, False)]
        while stack:
            n, expanded = stack.pop()
            if n in done:
                continue
            if expanded:
                done.add(n)
                order.append(n)
                continue
            stack.append((n, True))
            for _, u in preds.get(n, ()):
                if u in inside and u not in done:
                    stack.append((u, False))
    return order


def fingerprint(g: nx.MultiDiGraph) -> str:
    """The module's structural fingerprint: its entry computation's hash.

    Equal for the same module compiled in two processes (different instruction
    names and metadata); different when any op, type, layout, attribute or edge
    differs.

    Args:
        g: an xlalens graph from HLO text.

    Returns:
        A hex string.

    Example:
        >>> fingerprint(load("dump:jax:optimized_hlo")) == fingerprint(timeline.final_graph)  # doctest: +SKIP
        True
    """
    by_node = cached_hashes(g)[0]
    entry = g.graph["entry"]
    members = sorted(h for n, h in by_node.items() if g.nodes[n]["computation"] == entry)
    root = g.graph["computations"][entry]["root"]
    return _h(by_node.get(root, ""), tuple(members))
