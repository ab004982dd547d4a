"""Public rendering API: one graph or one diff -> SVG text, plus drill-down SVGs."""

from __future__ import annotations

import gc
import hashlib
import html
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx

from xlalens._errors import UsageError
from xlalens.dumpdir import atomic_write
from xlalens.render import _budget, _view
from xlalens.render._diffview import (  # noqa: F401 (DiffPairs, diff_from_json: re-exported)
    DiffPairs,
    _diff_source,
    diff_from_json,
    graph_title,
)
from xlalens.render._dot import Layout, LayoutJob, layout_views, quote
from xlalens.render._view import MODES, Emitter, Unit, ViewPlan, plan, slug

DEFAULT_BUDGET = 300
_LEVELS = ("raw", "canonical")


@dataclass(frozen=True, slots=True)
class Rendering:
    """The SVGs of one graph or diff: an overview and one drill-down per collapsed group."""

    overview: str
    """File name of the overview SVG (a key of ``svgs``)."""
    svgs: dict[str, str]
    """File name -> SVG text; the overview first, then drill-downs in breadth-first order."""
    parents: dict[str, str]
    """Drill-down file name -> the file name of the view it was opened from."""
    titles: dict[str, str]
    """File name -> the view's title."""
    drawn: dict[str, int]
    """File name -> nodes drawn in it (each at most the budget, except with collapse='none')."""
    total_nodes: int
    """Nodes of the input graph(s)."""
    layouts: dict[str, Layout] = field(default_factory=dict)
    """File name -> how its layout went (mode, seconds, size, the cheaper mode's reason)."""
    where: dict[str, str] = field(default_factory=dict)
    """Graph node id -> file name of the view that draws it (its deepest view; search uses it)."""
    deferred: tuple[str, ...] = ()
    """Drill-down file names linked but not written (deeper than ``max_depth``)."""
    shown: dict[str, str] = field(default_factory=dict)
    """Graph node id -> what stands for it in its ``where`` view (its own id, or the
    key of the kernel or group that holds it); the element's id is ``n:<that>``."""


def _is_diff(obj: Any) -> bool:
    return all(hasattr(obj, f) for f in ("a", "b", "pairs", "only_a", "only_b"))


def _coerce(obj: Any, level: str | None) -> Any:
    """A graph or diff from what the caller gave (graph, diff, path, text or dump entry)."""
    if level is not None and level not in _LEVELS:
        raise UsageError(f"level={level!r}: choose one of {', '.join(_LEVELS)}")
    if isinstance(obj, nx.MultiDiGraph):
        have = obj.graph.get("level")
        if level is not None and have is not None and have != level:
            raise UsageError(
                f"level={level!r} but the graph is at level {have!r}; load it with "
                f"xlalens.ir.load(..., level={level!r}) or omit level"
            )
        return obj
    if _is_diff(obj):
        return obj
    if isinstance(obj, (str, Path)):
        from xlalens.render._load import load_graph

        return load_graph(obj, level=level or "raw")
    raise UsageError(
        f"render() takes an xlalens graph (networkx.MultiDiGraph), a Diff, or a path / IR text / "
        f"dump entry; got {type(obj).__name__}"
    )


def _check(collapse: str, budget: int) -> None:
    if collapse not in MODES:
        raise UsageError(f"collapse={collapse!r}: choose one of {', '.join(MODES)}")
    if not isinstance(budget, int) or budget < 10:
        raise UsageError(
            f"budget={budget!r}: give a node budget of at least 10 (default {DEFAULT_BUDGET})"
        )


def _root_units(builder: _view._Builder, g: nx.MultiDiGraph) -> tuple[Unit, ...]:
    entry = g.graph.get("entry")
    nodes = builder.by_comp.get(entry, [])
    if not nodes:
        # A graph with no entry nodes (a fragment): draw every computation.
        nodes = list(g.nodes)
    return builder.units_of(nodes, "")


def _overview_budget(budget: int) -> int:
    return max(10, min(budget, 150, budget // 2)) if budget > 60 else budget


def _collapsed(view: ViewPlan) -> list[Unit]:
    """Units drawn collapsed that have something inside (each gets a drill-down)."""
    out: list[Unit] = []
    stack = list(reversed(view.units))
    while stack:
        u = stack.pop()
        if not u.children:
            continue
        if u.key in view.expanded or u.key in view.folded:
            inner = (
                [m for b in u.children for m in b.children] if u.kind == "op" else list(u.children)
            )
            if u.kind == "op" and len(u.children) > 1:
                inner = list(u.children)
            stack.extend(reversed(inner))
        else:
            out.append(u)
    return out


def _drill_units(u: Unit) -> tuple[Unit, ...]:
    if u.kind == "op":
        return u.children[0].children if len(u.children) == 1 else u.children
    return u.children


def _emit(
    g: nx.MultiDiGraph,
    view: ViewPlan,
    links: dict[str, str],
    title: str,
    first: list[str],
    **kw: Any,
) -> tuple[str, str, Emitter]:
    """(full DOT, a maker of the cheaper DOT, the full emitter) of one view."""
    em = Emitter(g, view, links, **kw)
    src = em.source(title, first)

    def cheap() -> str:
        return Emitter(g, view, links, flat=True, **kw).source(title, first)

    return src, cheap, em


def _graph_views(g: nx.MultiDiGraph, **kw: Any) -> tuple:
    """:func:`_plan_views` with the cyclic garbage collector paused.

    NOTE: [gc pause while planning] planning allocates a unit record per node
    while the graph (millions of objects at 10^5 nodes) is alive; each collection
    rescans them all: a third of the overview's time on a 156k-node module.
    Nothing here makes reference cycles; collection resumes after.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _plan_views(g, **kw)
    finally:
        if was_enabled:
            gc.enable()


def _plan_views(
    g: nx.MultiDiGraph,
    *,
    collapse: str,
    budget: int,
    stem: str,
    title: str | None,
    heat: dict[str, float] | None = None,
    max_depth: int | None = None,
    paint_heat: bool = True,
    lazy_bodies: bool = False,
    mark_deferred: bool = True,
    only: str | None = None,
) -> tuple[list[_Item], int, dict[str, str], dict[str, str], list[str], dict[str, str]]:
    """Every view: items, node count, titles, node -> view holding it, the
    drill-down files left unwritten (deeper than ``max_depth``, or kernels' bodies
    with ``lazy_bodies``), and node -> what stands for it in that view.

    With ``only`` (a drill-down's file name), just that view is returned: the
    views above it are planned (their plans name it) but not kept, and every
    drill-down is marked deferred, as in an overview-only rendering (NOTE:
    [one view on demand])."""
    builder = _view._Builder(g, scoped=collapse in ("auto", "scope"))
    base = title or graph_title(g)
    n_total = g.number_of_nodes()
    over_s, view_s = _budget.deadlines()
    overview = f"{stem}.svg"
    # The overview gets half the budget: it is the page a reader sees first,
    # and it must show the model's structure at a glance, not every op.
    roots = _root_units(builder, g)
    queue: list[tuple[str, tuple[Unit, ...], str, str | None, str, int]] = [
        ("root", roots, overview, None, base, 0)
    ]
    on_path = _path_to(roots, stem, only) if only is not None else None
    out: list[_Item] = []
    titles: dict[str, str] = {}
    where: dict[str, str] = {}
    shown: dict[str, str] = {}
    deferred: list[str] = []
    seen = {overview}

    def is_deferred(u: Unit, depth: int) -> bool:
        """A drill-down left unwritten: deeper than max_depth, or a kernel's body."""
        if only is not None:
            return True
        return (max_depth is not None and depth + 1 > max_depth) or (lazy_bodies and u.kind == "op")

    def leads_to_target(u: Unit, child: str) -> bool:
        if child == only:
            return True
        if not on_path:  # the name is not a unit of the tree (a chunk): search all
            return True
        return u.key in on_path or (u.kind == "chunk" and any(m.key in on_path for m in u.children))

    while queue:
        key, units, fname, parent, crumbs, depth = queue.pop(0)
        first = []
        if parent is not None:
            first.append(
                f'  "xl:up" [shape=cds, style=filled, fillcolor="#dde6f3", label={quote("◂ back")}, '
                f'URL={quote(parent)}, tooltip={quote("back to the enclosing view")}, class="xl-link xl-up"];'
            )
        start = _overview_budget(budget) if parent is None else budget
        deadline = over_s if parent is None else view_s

        def emit(b: int, key=key, units=units, crumbs=crumbs, first=first, depth=depth):
            view = plan(g, key, crumbs, units, collapse, b)
            names = set(seen)
            links: dict[str, str] = {}
            children: list[tuple[Unit, str]] = []
            later = frozenset(
                u.key for u in _collapsed(view) if mark_deferred and is_deferred(u, depth)
            )
            for u in _collapsed(view):
                child = f"{stem}.{slug(u.key, u.label)}.svg"
                if child in names:  # a hash collision of two keys; keep names unique
                    child = f"{stem}.{slug(u.key + '#', u.label)}.svg"
                names.add(child)
                links[u.key] = child
                children.append((u, child))
            extra = []
            if collapse != "none" and view.key == "root":
                extra.append(
                    f"{n_total} nodes; {view.drawn} drawn (budget {budget}, collapse={collapse})"
                )
            src, cheap, em = _emit(
                g,
                view,
                links,
                crumbs,
                first,
                legend_extra=extra,
                edge_labels=view.drawn <= 150,
                heat=heat,
                paint_heat=paint_heat,
                deferred=later,
            )
            return view, children, src, cheap, em

        view, children, src, cheap, em = _fit(emit, start, deadline, collapse)
        seen.update(c for _, c in children)
        for n, drawn_as in em.rep.items():
            # The deepest view that draws the node itself wins; else the first
            # (shallowest) view that holds it inside a group.
            if drawn_as == "op:" + n or n not in where:
                where[n] = fname
                shown[n] = drawn_as[3:] if drawn_as.startswith("op:") else drawn_as
        for n in em.framed:
            where[n] = fname
            shown[n] = n
        out.append(_Item(fname, src, cheap, parent, view.drawn, depth))
        titles[fname] = crumbs
        if only is not None:
            if fname == only:
                return [out[-1]], n_total, titles, where, [c for _, c in children], shown
            for u, child in children:
                if leads_to_target(u, child):
                    item = (
                        u.key,
                        _drill_units(u),
                        child,
                        fname,
                        f"{crumbs} › {u.label}",
                        depth + 1,
                    )
                    queue.append(item)
            continue
        for u, child in children:
            if is_deferred(u, depth):
                deferred.append(child)
                continue
            queue.append((u.key, _drill_units(u), child, fname, f"{crumbs} › {u.label}", depth + 1))
    if only is not None:
        return [], n_total, titles, where, deferred, shown
    return out, n_total, titles, where, deferred, shown


# NOTE: [one view on demand] A file past OVERVIEW_ONLY_NODES (``_cli``) is written
# as its overview alone; a click on a drill-down names its file, and
# ``xlalens render FILE -o OUT.svg --view NAME`` draws that one view. Its name
# comes from its parent's plan, so the views above it are planned again (not laid
# out), following only the units whose subtree holds it: a few plans, not the
# hundreds of views of the whole module.
def _path_to(roots: tuple[Unit, ...], stem: str, name: str) -> frozenset[str]:
    """Keys of the units from the top down to the unit whose drill-down file is
    ``name`` (empty when none has that name: the views are then all searched).

    A chunk (``_plan._chunk``) is no unit of the tree: its file name ends with the
    hash of its key, ``chunk:<key of the view it packs>[^]#<i>``, matched here."""
    want = name.rsplit("-", 1)[-1].removesuffix(".svg")

    def h(key: str) -> str:
        return hashlib.sha1(key.encode()).hexdigest()[:8]

    def chunk_of(key: str, n: int) -> str | None:
        for i in range(n + 1):
            for ck in (f"chunk:{key}#{i}", f"chunk:{key}^#{i}"):
                if h(ck) == want:
                    return ck
        return None

    top = chunk_of("root", len(roots))
    if top is not None:
        return frozenset({top})
    stack: list[tuple[Unit, tuple[str, ...]]] = [(u, ()) for u in roots]
    while stack:
        u, above = stack.pop()
        path = (*above, u.key)
        if u.children:
            if f"{stem}.{slug(u.key, u.label)}.svg" == name:
                return frozenset(path)
            ck = chunk_of(u.key, len(_drill_units(u))) if len(_drill_units(u)) > 1 else None
            if ck is not None:
                return frozenset((*path, ck))
        stack.extend((m, path) for m in u.children)
    return frozenset()


# A view is re-planned with a smaller budget while dot's predicted time is over
# this share of its deadline: the model (``_budget.predict``) ranks views well
# but is not exact, and a view that only just fits would miss on a busy machine.
_PLAN_SHARE = 0.6
_SHRINK = 0.75
_MIN_BUDGET = 20


def _fit(emit: Any, budget: int, deadline: float, collapse: str) -> tuple:
    """Plan and emit a view, shrinking its budget until ``dot`` is predicted to
    lay it out within :data:`_PLAN_SHARE` of its deadline.

    NOTE: [planning against the cost model] The planner counts nodes and
    clusters, not edges; a view of 264 nodes and 397 edges (the generated
    28-layer transformer's step scope) fits the node budget yet takes dot 2 s,
    the edges' term of the model. So each emitted view's DOT source is measured
    (``_budget.features``) and priced (``_budget.predict``); one predicted over
    its share is planned again with 3/4 of the budget, which leaves more of it
    to drill-downs instead of the cheaper, frameless mode.
    """
    b = budget
    while True:
        got = emit(b)
        src = got[2]
        if collapse == "none" or b <= _MIN_BUDGET:
            return got
        if _budget.predict(_budget.features(src)) <= _PLAN_SHARE * deadline:
            return got
        b = max(_MIN_BUDGET, int(b * _SHRINK))


@dataclass(frozen=True, slots=True)
class _Item:
    name: str
    source: str
    cheap: Any
    parent: str | None
    drawn: int
    depth: int


def _finish(
    items: list[_Item],
    n_total: int,
    titles: dict[str, str],
    where: dict[str, str] | None = None,
    deferred: list[str] = (),
    shown: dict[str, str] | None = None,
) -> Rendering:
    over, view = _budget.deadlines()
    jobs = [LayoutJob(it.source, it.cheap, over if it.parent is None else view) for it in items]
    results = layout_views(jobs)
    return Rendering(
        overview=items[0].name,
        svgs={it.name: r.svg for it, r in zip(items, results)},
        parents={it.name: it.parent for it in items if it.parent is not None},
        titles=titles,
        drawn={it.name: it.drawn for it in items},
        total_nodes=n_total,
        layouts={it.name: r for it, r in zip(items, results)},
        where=dict(where or {}),
        deferred=tuple(deferred),
        shown=dict(shown or {}),
    )


def render_views(
    graph_or_diff: Any,
    *,
    level: str | None = None,
    collapse: str = "auto",
    budget: int = DEFAULT_BUDGET,
    stem: str = "graph",
    title: str | None = None,
    heat: dict[str, float] | None = None,
    max_depth: int | None = None,
    paint_heat: bool = True,
    lazy_bodies: bool = False,
    only: str | None = None,
) -> Rendering:
    """Render a graph (or diff) as an overview SVG plus one drill-down SVG per collapsed group.

    Every view has a layout deadline (5 s for the overview, 2 s for a drill-down;
    ``$XLALENS_LAYOUT_DEADLINE`` scales them): a view that misses it, or that is
    predicted to miss it by far, is laid out in a cheaper mode (no frames, tight
    ``dot`` limits) and its caption says so. Slowness is never an error.

    Args:
        graph_or_diff: an xlalens graph, an ``xlalens.diff.Diff`` (or :class:`DiffPairs`),
            or a path / IR text / dump entry ``DIR:frontend[:artifact]`` to load.
        level: ``"raw"`` or ``"canonical"``: the level to load a path at; for a graph,
            it must match the graph's level.
        collapse: ``auto`` (name scopes and kernels, within the budget), ``kernel``
            (every fusion / called computation collapsed), ``scope`` (one name-scope
            level per SVG), ``none`` (everything in one SVG: slow past ~2,000 nodes).
        budget: most nodes drawn per SVG.
        stem: file name stem; the overview is ``<stem>.svg``, drill-downs
            ``<stem>.<group>-<hash>.svg`` (linked from the overview by relative URL).
        title: picture title (default: module, stage and level).
        heat: graph node id -> share (0..1) of the step's kernel time: paints
            kernels and groups by time share (heat view; the legend gives the scale).
        max_depth: lay out drill-downs only this many clicks deep (``None``: all);
            deeper ones are listed in ``Rendering.deferred``.
        paint_heat: with ``heat``, fill by time share (else only the
            ``xl-heat-<band>`` classes and the time on labels, for a page that
            switches colour modes itself).
        lazy_bodies: do not lay out the drill-downs of kernels' bodies (a fusion's
            ops); every scope view still is, so every kernel is drawn somewhere.
            They are listed in ``Rendering.deferred``.
        only: lay out just this drill-down (its file name, as a link names it), with
            every drill-down of it deferred; ``svgs`` then holds that one view, and
            is empty when the graph has no view of that name.

    Returns:
        A :class:`Rendering`; ``svgs`` maps file names to SVG text.

    Raises:
        UsageError: bad ``collapse``/``budget``/``level``.
        GraphvizNotFound: ``dot`` is missing.

    Example:
        >>> r = render_views(graph, stem="jax.optimized")  # doctest: +SKIP
        >>> sorted(r.svgs)[:2]  # doctest: +SKIP
    """
    _check(collapse, budget)
    obj = _coerce(graph_or_diff, level)
    if _is_diff(obj):
        name = f"{stem}.svg"
        src, cheap, drawn, total = _diff_source(obj, budget=budget, title=title)
        return _finish(
            [_Item(name, src, lambda: cheap, None, drawn, 0)], total, {name: title or "diff"}
        )
    items, total, titles, where, deferred, shown = _graph_views(
        obj,
        collapse=collapse,
        budget=budget,
        stem=stem,
        title=title,
        heat=heat,
        max_depth=max_depth,
        paint_heat=paint_heat,
        lazy_bodies=lazy_bodies,
        only=only,
    )
    if not items:
        return Rendering("", {}, {}, titles, {}, total)
    return _finish(items, total, titles, where, deferred, shown)


def render(
    graph_or_diff: Any,
    *,
    level: str | None = None,
    collapse: str = "auto",
    budget: int = DEFAULT_BUDGET,
    title: str | None = None,
) -> str:
    """Render a graph or a diff as SVG text (the overview; see :func:`render_views` for drill-downs).

    Deterministic: the same input gives the same bytes, as long as each view's
    layout stays on the same side of its deadline (counted in ``dot``'s CPU time,
    so machine load does not move it; see docs/render.md).

    Args:
        graph_or_diff: an xlalens graph, a Diff, or a path / IR text / dump entry.
        level: ``"raw"`` or ``"canonical"`` (see :func:`render_views`).
        collapse: ``auto``, ``none``, ``kernel`` or ``scope``.
        budget: most nodes drawn in the SVG.
        title: picture title.

    Returns:
        The SVG document as text.

    Example:
        >>> from xlalens.render import render
        >>> svg = render(graph)  # doctest: +SKIP
        >>> svg.startswith("<?xml")  # doctest: +SKIP
        True
    """
    _check(collapse, budget)
    obj = _coerce(graph_or_diff, level)
    over, _ = _budget.deadlines()
    if _is_diff(obj):
        src, cheap, _, _ = _diff_source(obj, budget=budget, title=title)
        return layout_views([LayoutJob(src, lambda: cheap, over)])[0].svg
    # Plan and emit only the overview; drill-downs are not laid out here.
    items, *_ = _graph_views(
        obj,
        collapse=collapse,
        budget=budget,
        stem="graph",
        title=title,
        max_depth=0,
        mark_deferred=False,
    )
    return layout_views([LayoutJob(items[0].source, items[0].cheap, over)])[0].svg


def write_svgs(
    graph_or_diff: Any,
    out: str | Path,
    *,
    level: str | None = None,
    collapse: str = "auto",
    budget: int = DEFAULT_BUDGET,
    title: str | None = None,
    heat: dict[str, float] | None = None,
    max_depth: int | None = None,
    paint_heat: bool = True,
    lazy_bodies: bool = False,
    views_dir: str | Path | None = None,
    later_command: str | None = None,
) -> Rendering:
    """Write the overview to ``out`` and its drill-downs beside it (``<stem>.<group>-<hash>.svg``).

    Args:
        graph_or_diff: as for :func:`render_views`.
        out: path of the overview SVG.
        level, collapse, budget, title, heat, max_depth, paint_heat, lazy_bodies: as for
            :func:`render_views`.
        views_dir: put the drill-downs in this folder instead (``OUT.views/``); the
            links between the views are rewritten to match.
        later_command: the command a click on a deferred view shows (default: the
            dump's ``xlalens render DIR --all-views``).

    Returns:
        The :class:`Rendering` that was written.

    Example:
        >>> write_svgs(graph, "out/jax.svg").overview  # doctest: +SKIP
        'jax.svg'
    """
    out = Path(out)
    r = render_views(
        graph_or_diff,
        level=level,
        collapse=collapse,
        budget=budget,
        stem=out.stem,
        title=title,
        heat=heat,
        max_depth=max_depth,
        paint_heat=paint_heat,
        lazy_bodies=lazy_bodies,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    if views_dir is None:
        for name, svg in r.svgs.items():
            atomic_write(out.parent / name, _interactive(svg, later_command), durable=False)
        return r
    views = Path(views_dir)
    views.mkdir(parents=True, exist_ok=True)
    rel = os.path.relpath(views, out.parent).replace(os.sep, "/")
    back = os.path.relpath(out.parent, views).replace(os.sep, "/")
    children = set(r.svgs) - {r.overview} | set(r.deferred)
    for name, svg in r.svgs.items():
        if name == r.overview:
            fixed = _relink(svg, lambda f: f"{rel}/{f}" if f in children else f)
            atomic_write(out, _interactive(fixed, later_command), durable=False)
        else:
            fixed = _relink(svg, lambda f: f"{back}/{f}" if f == r.overview else f)
            atomic_write(views / name, _interactive(fixed, later_command), durable=False)
    return r


_HREF = re.compile(r'(href=")([^"#]+\.svg)(")')


def _relink(svg: str, where: Any) -> str:
    """``svg`` with each link to a view file mapped through ``where`` (file name -> URL)."""
    return _HREF.sub(lambda m: m.group(1) + where(m.group(2)) + m.group(3), svg)


_COMMENT = re.compile(r"<!--.*?-->\n?", re.S)


def _interactive(svg: str, later_command: str | None = None) -> str:
    """The SVG with the viewer script, so it pans, zooms and drills down on its own.

    Graphviz's comments (one per node and edge, repeating its name; about a
    tenth of a view's bytes) are dropped: nothing reads them. ``later_command``
    replaces the dump's command in the tips and notes of deferred views.
    """
    from xlalens.render._svgjs import inject

    svg = _COMMENT.sub("", svg)
    if later_command is not None:
        svg = svg.replace("`xlalens render DIR --all-views`", f"`{html.escape(later_command)}`")
        svg = svg.replace("not drawn by the dump yet", "not drawn yet (drawn on demand)").replace(
            "<svg ", f'<svg data-xl-later="{html.escape(later_command, quote=True)}" ', 1
        )
    return inject(svg)
