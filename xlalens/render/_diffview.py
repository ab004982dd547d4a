"""Drawing a diff: both graphs side by side in one SVG, pairs linked, changes coloured.

Split from ``_render.py`` (which draws graphs and re-exports what is here) to keep each
file under 800 lines.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import networkx as nx

from xlalens.render._dot import quote
from xlalens.render._view import Emitter, Unit, ViewPlan


@dataclass(frozen=True, slots=True)
class DiffPairs:
    """The minimum of a diff the renderer needs (``xlalens.diff.Diff`` satisfies it too)."""

    a: nx.MultiDiGraph
    """Left graph."""
    b: nx.MultiDiGraph
    """Right graph."""
    pairs: tuple[tuple[str, str, str], ...]
    """``(a_id, b_id, status)`` with status ``unchanged`` or ``changed``."""
    only_a: tuple[str, ...]
    """Node ids only in A."""
    only_b: tuple[str, ...]
    """Node ids only in B."""


def graph_title(g: nx.MultiDiGraph) -> str:
    """``module · stage · level`` of a graph, for picture titles."""
    ga = g.graph
    stage = ga.get("stage") or "unknown"
    if stage == "unknown":
        stage = ga.get("format", "?")
    return f"{ga.get('module') or 'module'} · {stage} · {ga.get('level', '?')}"


# -- diffs ------------------------------------------------------------------


def _pairs_of(d: Any) -> list[tuple[str, str, str]]:
    out = []
    for p in d.pairs:
        if isinstance(p, tuple):
            out.append((p[0], p[1], p[2]))
        else:
            out.append((p.a, p.b, p.status))
    return out


def _select(g: nx.MultiDiGraph, status: dict[str, str], limit: int) -> tuple[list[str], int]:
    """Nodes of one side to draw: all when they fit; else every non-unchanged node
    first (program order), then their unchanged neighbours, up to ``limit``."""
    nodes = list(g.nodes)
    if len(nodes) <= limit:
        return nodes, 0
    keep: list[str] = [n for n in nodes if status.get(n, "unchanged") != "unchanged"][:limit]
    chosen = set(keep)
    for n in list(keep):
        if len(chosen) >= limit:
            break
        for m in sorted(set(g.predecessors(n)) | set(g.successors(n))):
            if m not in chosen and len(chosen) < limit:
                chosen.add(m)
    order = {n: i for i, n in enumerate(nodes)}
    return sorted(chosen, key=order.__getitem__), len(nodes) - len(chosen)


def _diff_source(d: Any, *, budget: int, title: str | None) -> tuple[str, str, int, int]:
    pairs = _pairs_of(d)
    st_a: dict[str, str] = {n: "left-only" for n in d.only_a}
    st_b: dict[str, str] = {n: "right-only" for n in d.only_b}
    pair_class: dict[str, str] = {}
    for a, b, status in pairs:
        st = "changed" if status == "changed" else "unchanged"
        st_a[a] = st
        st_b[b] = st
        cls = "xl-pair-" + hashlib.sha1(f"{a}\0{b}".encode()).hexdigest()[:10]
        pair_class["a:" + a] = cls
        pair_class["b:" + b] = cls
    half = max(5, budget // 2)
    sel_a, hid_a = _select(d.a, st_a, half)
    sel_b, hid_b = _select(d.b, st_b, half)

    u = nx.MultiDiGraph()
    comps: dict[str, dict] = {}
    side_units: list[Unit] = []
    status: dict[str, str] = {}
    for side, g, sel, st in (("a", d.a, sel_a, st_a), ("b", d.b, sel_b, st_b)):
        keep = set(sel)
        by_comp: dict[str, list[Unit]] = {}
        for i, n in enumerate(sel):
            data = dict(g.nodes[n])
            comp = f"{side}:{data.get('computation', '')}"
            data["computation"] = comp
            data["calls"] = ()
            uid = f"{side}:{n}"
            u.add_node(uid, **data)
            status[uid] = st.get(n, "unchanged")
            by_comp.setdefault(comp, []).append(
                Unit(
                    key=f"op:{uid}",
                    kind="op",
                    label=data.get("name") or n,
                    node=uid,
                    children=(),
                    size=1,
                    order=i,
                )
            )
            comps.setdefault(comp, {"kind": "other", "root": None, "params": [], "callers": []})
        for x, y, k, ed in g.edges(keys=True, data=True):
            if x in keep and y in keep:
                u.add_edge(f"{side}:{x}", f"{side}:{y}", key=k, **ed)
        entry = f"{side}:{g.graph.get('entry', '')}"
        inner: list[Unit] = []
        for comp in sorted(by_comp, key=lambda c: (c != entry, by_comp[c][0].order)):
            members = tuple(by_comp[comp])
            if comp == entry:
                inner.extend(members)
            else:
                inner.append(
                    Unit(
                        key=f"body:{comp}",
                        kind="body",
                        label=comp.split(":", 1)[1],
                        node=None,
                        children=members,
                        size=len(members),
                        order=members[0].order,
                    )
                )
        hidden = hid_a if side == "a" else hid_b
        label = ("A (left): " if side == "a" else "B (right): ") + graph_title(g)
        if hidden:
            label += f" — {hidden} unchanged nodes not drawn"
        side_units.append(
            Unit(
                key=f"side:{side}",
                kind="scope",
                label=label,
                node=None,
                children=tuple(inner),
                size=len(sel),
                order=0 if side == "a" else 1,
            )
        )
    u.graph.update(computations=comps, entry="")
    expanded = {su.key for su in side_units} | {
        m.key for su in side_units for m in su.children if m.children
    }
    view = ViewPlan(
        "diff", title or "diff", tuple(side_units), frozenset(expanded), len(sel_a) + len(sel_b)
    )
    extra = []
    if hid_a or hid_b:
        extra.append(f"hidden: {hid_a} left / {hid_b} right unchanged nodes (budget {budget})")
    extra.append("hover a node: its partner lights up")
    kw = dict(
        status=status,
        pair_class=pair_class,
        legend_extra=extra,
        edge_labels=len(sel_a) + len(sel_b) <= 150,
    )
    em = Emitter(u, view, {}, **kw)
    # Links between changed partners are drawn; unchanged partners are linked by hover only.
    links = [
        f'  {quote("op:a:" + a)} -> {quote("op:b:" + b)} [style=dashed, color="#e0a800", constraint=false, arrowhead=none, class="xl-pairlink", tooltip="matched pair"];'
        for a, b, s in pairs
        if s == "changed" and a in set(sel_a) and b in set(sel_b)
    ]
    ttl = title or f"diff: {graph_title(d.a)}  vs  {graph_title(d.b)}"
    src = em.source(ttl)
    src = src[: src.rstrip().rfind("}")] + "\n".join(links) + "\n}\n"
    cheap = Emitter(u, view, {}, flat=True, **kw).source(ttl)
    cheap = cheap[: cheap.rstrip().rfind("}")] + "\n".join(links) + "\n}\n"
    return src, cheap, view.drawn, d.a.number_of_nodes() + d.b.number_of_nodes()


def diff_from_json(a: nx.MultiDiGraph, b: nx.MultiDiGraph, report: dict[str, Any]) -> DiffPairs:
    """A :class:`DiffPairs` from the two graphs and a diff's JSON report (docs/diff.md).

    Example:
        >>> diff_from_json(ga, gb, json.loads(Path("diffs/x.json").read_text()))  # doctest: +SKIP
    """
    pairs = tuple((p["a"], p["b"], p.get("status", "unchanged")) for p in report.get("pairs", []))
    only_a = tuple(x["id"] if isinstance(x, dict) else x for x in report.get("only_a", []))
    only_b = tuple(x["id"] if isinstance(x, dict) else x for x in report.get("only_b", []))
    known = [(x, y, s) for x, y, s in pairs if x in a and y in b]
    return DiffPairs(
        a=a,
        b=b,
        pairs=tuple(known),
        only_a=tuple(n for n in only_a if n in a),
        only_b=tuple(n for n in only_b if n in b),
    )
