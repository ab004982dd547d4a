"""Collectives in a diff: which the partitioner inserted, removed or changed, and where.

Reads the ``collective`` record that ``xlalens.ir`` stores on each collective node
(kind, device groups, bytes per device under the ring model, mesh axes;
docs/graph-schema.md) and the node pairs the matchers made. Nothing here
decodes replica groups or prices a collective again.

NOTE: [collectives across frameworks]
jax emits one tuple all-reduce of every gradient where torch_xla emits one
all-reduce per gradient (docs/sharding.md). No matcher pairs one node with
seven, so collectives left unpaired are linked here by their neighbours: an
unpaired collective of A and one of B of the same kind are linked when an
operand or user of one (looking through get-tuple-element, bitcast and copy) is
paired with an operand or user of the other. Linked groups are ``split`` (one
to several), ``merged`` (several to one), ``regrouped``, or ``changed`` (one to
one). What stays unlinked was ``inserted`` (only in B) or ``removed``.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import networkx as nx

from xlalens.diff._model import (
    CollectiveChange,
    CollectiveDiff,
    CollectiveTotal,
    KernelMap,
)
from xlalens.ir._collectives import collective_text

__all__ = ["collective_diff"]

_THROUGH = frozenset({"get-tuple-element", "bitcast", "copy", "tuple"})
_NEAR = 3  # neighbours named per direction


def _axes(rec: dict[str, Any]) -> str:
    axes = rec.get("axes")
    return "?" if axes is None else ",".join(axes)


def _coll(g: nx.MultiDiGraph) -> list[str]:
    return [n for n, d in g._node.items() if d.get("collective") is not None]


def has_collectives(g: nx.MultiDiGraph) -> bool:
    """Whether any node of ``g`` carries a ``collective`` record (what :func:`collective_diff` compares)."""
    return any([d.get("collective") is not None for d in g._node.values()])


def _operands(g: nx.MultiDiGraph, n: str) -> list[str]:
    return _beyond_plumbing(g, n, g.pred)


def _users(g: nx.MultiDiGraph, n: str) -> list[str]:
    return _beyond_plumbing(g, n, g.succ)


def _beyond_plumbing(g: nx.MultiDiGraph, n: str, adj: Any) -> list[str]:
    """The nearest nodes along ``adj`` (``g.pred`` or ``g.succ``), looking through
    the ops in ``_THROUGH``, in breadth-first order."""
    out: list[str] = []
    seen = {n}
    stack = list(adj[n])
    while stack:
        u = stack.pop(0)
        if u in seen:
            continue
        seen.add(u)
        if g._node[u]["op"] in _THROUGH:
            stack.extend(adj[u])
        else:
            out.append(u)
    return out


def _partners(pairs: list[tuple[str, str]], kmap: KernelMap | None) -> tuple[dict, dict]:
    ab: dict[str, set[str]] = defaultdict(set)
    ba: dict[str, set[str]] = defaultdict(set)
    for x, y in pairs:
        ab[x].add(y)
        ba[y].add(x)
    if kmap is not None:
        for kp in kmap.pairs:
            for x in kp.a:
                for y in kp.b:
                    ab[x].add(y)
                    ba[y].add(x)
    return ab, ba


def _loc(d: dict[str, Any]) -> str | None:
    from xlalens._paths import source_location

    return source_location(d)


def _near(
    g: nx.MultiDiGraph, nodes: tuple[str, ...], other: nx.MultiDiGraph, part: dict, side: str
) -> tuple[str, ...]:
    """``for: op_name @ file:line``, ``after X (A: X')``, ``before Y (A: Y')``."""
    out: list[str] = []
    locs = []
    for n in nodes:
        loc = _loc(g._node[n])
        if loc and loc not in locs:
            locs.append(loc)
    out += [f"for: {loc}" for loc in locs[:2]]
    for word, fn in (("after", _operands), ("before", _users)):
        names: list[str] = []
        for n in nodes:
            for u in fn(g, n):
                if u in nodes:
                    continue
                text = str(g._node[u]["name"])
                ps = sorted(part.get(u, ()))
                if ps:
                    text += f" ({side}: {', '.join(str(other._node[p]['name']) for p in ps[:2])})"
                if text not in names:
                    names.append(text)
        if names:
            more = f" +{len(names) - _NEAR}" if len(names) > _NEAR else ""
            out.append(f"{word} {', '.join(names[:_NEAR])}{more}")
    return tuple(out)


def _side_sum(g: nx.MultiDiGraph, nodes: tuple[str, ...]) -> tuple[str, int]:
    axes = sorted({_axes(g._node[n]["collective"]) for n in nodes})
    return "/".join(axes), sum(g._node[n]["collective"]["bytes_per_device"] for n in nodes)


def _totals(g_a: nx.MultiDiGraph, g_b: nx.MultiDiGraph) -> tuple[CollectiveTotal, ...]:
    rows: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for i, g in enumerate((g_a, g_b)):
        for n in _coll(g):
            rec = g._node[n]["collective"]
            row = rows[(rec["kind"], _axes(rec))]
            row[i] += 1
            row[2 + i] += rec["bytes_per_device"]
    return tuple(
        CollectiveTotal(k, a, r[0], r[1], r[2], r[3]) for (k, a), r in sorted(rows.items())
    )


def collective_diff(
    g_a: nx.MultiDiGraph,
    g_b: nx.MultiDiGraph,
    pairs: list[tuple[str, str]],
    kmap: KernelMap | None = None,
    changes_of: dict[str, tuple] | None = None,
) -> CollectiveDiff | None:
    """The collectives of two graphs compared, from the matchers' pairs.

    Args:
        g_a: left graph (``collective`` records on its nodes).
        g_b: right graph.
        pairs: ``(a_id, b_id)`` node pairs of the diff.
        kmap: the kernel map, when both sides are optimized HLO (its kernel
            pairs count as neighbour evidence).
        changes_of: the diff's :class:`~xlalens.diff._model.Change` tuples by A
            node id, for the ``changes`` lines of paired collectives.

    Returns:
        A :class:`~xlalens.diff._model.CollectiveDiff`, or None when neither
        graph has a collective.

    Example:
        >>> cd = collective_diff(a, b, [(p.a, p.b) for p in d.pairs])  # doctest: +SKIP
        >>> [c.status for c in cd.changes]  # doctest: +SKIP
        ['inserted']
    """
    ca, cb = _coll(g_a), _coll(g_b)
    if not ca and not cb:
        return None
    na, nb = g_a._node, g_b._node
    ab, ba = _partners(pairs, kmap)
    pair_of = {x: y for x, y in pairs}
    changes: list[CollectiveChange] = []
    paired_a: set[str] = set()
    paired_b: set[str] = set()
    for x in ca:
        y = pair_of.get(x)
        if y is None or nb[y].get("collective") is None:
            continue
        paired_a.add(x)
        paired_b.add(y)
    # Unpaired collectives linked through paired neighbours (NOTE above).
    free_a = [x for x in ca if x not in paired_a]
    free_b = [y for y in cb if y not in paired_b]
    nbr_b = {y: set(_operands(g_b, y)) | set(_users(g_b, y)) for y in free_b}
    link = nx.Graph()
    for x in free_a:
        kind = na[x]["collective"]["kind"]
        mapped = set()
        for u in set(_operands(g_a, x)) | set(_users(g_a, x)):
            mapped |= ab.get(u, set())
        for y in free_b:
            if nb[y]["collective"]["kind"] == kind and mapped & nbr_b[y]:
                link.add_edge(("a", x), ("b", y))
    order_a = {n: i for i, n in enumerate(ca)}
    order_b = {n: i for i, n in enumerate(cb)}
    groups: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
    for comp in nx.connected_components(link):
        xs = tuple(sorted((n for s, n in comp if s == "a"), key=order_a.get))
        ys = tuple(sorted((n for s, n in comp if s == "b"), key=order_b.get))
        groups[ys[0]] = (xs, ys)
    linked_a = {x for xs, _ in groups.values() for x in xs}
    linked_b = {y for _, ys in groups.values() for y in ys}
    by_b = {y: x for x, y in pair_of.items() if x in paired_a}

    def change(status: str, xs: tuple[str, ...], ys: tuple[str, ...], lines: tuple) -> None:
        kind = (na[xs[0]] if xs else nb[ys[0]])["collective"]["kind"]
        axes_a, bytes_a = _side_sum(g_a, xs) if xs else ("", 0)
        axes_b, bytes_b = _side_sum(g_b, ys) if ys else ("", 0)
        near = _near(g_b, ys, g_a, ba, "A") if ys else _near(g_a, xs, g_b, ab, "B")
        changes.append(
            CollectiveChange(status, kind, xs, ys, axes_a, axes_b, bytes_a, bytes_b, lines, near)
        )

    for y in cb:
        if y in by_b:
            x = by_b[y]
            lines = tuple(
                f"{c.field}: {c.a} -> {c.b}" for c in (changes_of or {}).get(x, ()) if c.field
            )
            if not lines:
                ta, tb = collective_text(na[x]["collective"]), collective_text(nb[y]["collective"])
                lines = (f"collective: {ta} -> {tb}",) if ta != tb else ()
            change("changed" if lines else "unchanged", (x,), (y,), lines)
        elif y in groups:
            xs, ys = groups[y]
            status = (
                "changed"
                if len(xs) == len(ys) == 1
                else "split"
                if len(xs) == 1
                else "merged"
                if len(ys) == 1
                else "regrouped"
            )
            lines = []
            if len(xs) == len(ys) == 1:
                ta, tb = (
                    collective_text(na[xs[0]]["collective"]),
                    collective_text(nb[ys[0]]["collective"]),
                )
                if ta != tb:
                    lines.append(f"collective: {ta} -> {tb}")
            else:
                lines.append(f"{len(xs)} -> {len(ys)} {na[xs[0]]['collective']['kind']}")
            change(status, xs, ys, tuple(lines))
        elif y not in linked_b:
            change("inserted", (), (y,), ())
    for x in ca:
        if x not in paired_a and x not in linked_a:
            change("removed", (x,), (), ())
    return CollectiveDiff(totals=_totals(g_a, g_b), changes=tuple(changes))
