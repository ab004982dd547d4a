"""The view planner: a graph cut into a tree of units, and views under a node budget.

NOTE: [how a large graph is cut into SVGs]
``dot`` grows superlinearly (2,000 nodes: 3.6 s; 6,000: 42 s here), so no SVG
may hold more than ``budget`` drawn nodes. The graph is first turned into a tree
of *units*: an op (with the bodies of the computations it calls: fusion bodies,
loop bodies, called functions; never reducers), a *scope* (a name-scope prefix
of ``op_name``: framework layers and modules), or a *chunk* (consecutive units of
one scope, used only when a scope holds more than the budget allows). A view
draws some units: it starts with every unit of its level collapsed to one node
and expands the cheapest ones first (a scope becomes a cluster of its members,
a fusion becomes a cluster of its fused computation) while the drawn-node count
stays within the budget. Every unit left collapsed gets its own view (its
drill-down SVG), planned the same way. When a level's units would not fit even
expanded, they are first packed into chunks whose expanded size fits, so that
every op is drawn, expanded, in exactly one leaf SVG and the number of SVGs
stays near ``2 * nodes / budget``.

``_view`` turns each planned view into DOT (``Emitter``); this module decides
what each view holds.
"""

from __future__ import annotations

import functools
import hashlib
import heapq
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

import networkx as nx

from xlalens.ir._ops import REDUCER_CALLERS
from xlalens.render import _budget

MODES = ("auto", "none", "kernel", "scope")

# Ops whose called computation is a scalar combiner: shown in the label, not drawn.
_REDUCER_OPS = REDUCER_CALLERS  # THE reducer set (xlalens.ir._ops)
# Callers drawn *as* their callee (edges rewired to its parameters and root).
_REPLACED_OPS = frozenset(("fusion", "call"))
_BORING_LEAVES = frozenset(("parameter", "constant"))


@dataclass(frozen=True, slots=True)
class Unit:
    """One box of the hierarchy: an op, a name scope, a chunk, or a called body."""

    key: str
    """Stable unique key (``op:<node id>``, ``scope:...``, ``chunk:...``, ``body:...``)."""
    kind: str
    """``"op"``, ``"scope"``, ``"chunk"`` or ``"body"``."""
    label: str
    """Human label (scope path, chunk range, computation name)."""
    node: str | None
    """The graph node id for ``op`` units, else None."""
    children: tuple[Unit, ...]
    """Members (for an op: its drawable called bodies), in program order."""
    size: int
    """Graph nodes inside, the unit's own op included."""
    order: int
    """Program position of the first node (sorting key)."""


@dataclass(frozen=True, slots=True)
class ViewPlan:
    """What one SVG draws: root units, which of them are expanded, and where drill-downs go."""

    key: str
    """Key of the unit this view shows (``"root"`` for the overview)."""
    title: str
    """Title drawn on top of the picture."""
    units: tuple[Unit, ...]
    """The view's top-level units (after chunking)."""
    expanded: frozenset[str]
    """Keys of units drawn as clusters; every other unit with children is a drill-down."""
    drawn: int
    """Number of nodes drawn (the budget's measure)."""
    folded: frozenset[str] = frozenset()
    """Keys of scopes past the cluster caps: their members are drawn in the parent, unframed."""


def split_scope(op_name: str) -> list[str]:
    """Split an ``op_name`` at ``/`` outside parentheses: ``jit(f)/transpose(jvp(a/b))/mul``
    gives ``["jit(f)", "transpose(jvp(a/b))", "mul"]``."""
    parts: list[str] = []
    depth = 0
    cur: list[str] = []
    for ch in op_name:
        if ch in "([{":
            depth += 1
        elif ch in ")]}" and depth:
            depth -= 1
        if ch == "/" and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p for p in parts if p]


# Autodiff / batching wrappers JAX writes around a layer's scope
# (``transpose(jvp(conv3_block1_1_bn))``). They are split off into a scope level
# of their own, so that a model's forward pass, backward pass and optimizer
# are three groups and each holds the model's layers in order.
_TRANSFORMS = frozenset(
    ("jvp", "transpose", "vmap", "remat", "checkpoint", "custom_jvp", "custom_vjp")
)
_WRAPPED = re.compile(r"^((?:[A-Za-z_]+\()+)([^()]+)(\)+)$")
# A scope with more children than this gets name-family groups (see _regroup).
_FANOUT = 10


def scope_path(op_name: str) -> list[str]:
    """The name-scope path of an ``op_name`` (its last part, the op, dropped), with
    autodiff wrappers split off: ``jit(f)/transpose(jvp(dense_1))/dot`` gives
    ``["jit(f)", "transpose(jvp)", "dense_1"]``."""
    return list(_scope_path(op_name))


# Layers repeat their op_names (600 layers of an LLM step share ~300): each is
# split once, not once per node (the split walks the name character by character).
@functools.lru_cache(maxsize=65536)
def _scope_path(op_name: str) -> tuple[str, ...]:
    out: list[str] = []
    for part in split_scope(op_name)[:-1]:
        m = _WRAPPED.match(part)
        if m:
            wraps = m.group(1).rstrip("(").split("(")
            if all(w in _TRANSFORMS for w in wraps) and len(m.group(3)) == len(wraps):
                out.append("(".join(wraps) + ")" * (len(wraps) - 1))
                out.append(m.group(2))
                continue
        out.append(part)
    return tuple(out)


_TOKEN = re.compile(r"[_.]")


def _regroup(kids: dict[str, dict], level: int = 0) -> dict[str, dict]:
    """Group the children of a wide scope into name families by their leading
    ``_``/``.``-separated tokens (``conv3_block1_1_conv`` -> ``conv3_*`` ->
    ``conv3_block1_*``): flat layer lists (Keras, torch) get the stage / block
    structure their names spell out."""
    if len(kids) <= _FANOUT:
        return kids
    buckets: dict[str, list[str]] = {}
    for name in kids:
        toks = _TOKEN.split(name)
        key = "_".join(toks[: level + 1]) if len(toks) > level + 1 else ""
        buckets.setdefault(key, []).append(name)
    if len(buckets) <= 1 and "" not in buckets:
        # Every name shares this token: look one token further.
        return _regroup(kids, level + 1) if level < 6 else kids
    out: dict[str, dict] = {}
    for key, names in buckets.items():
        if not key or len(names) < 2 or len(names) == len(kids):
            for n in names:
                out[n] = kids[n]
            continue
        sub = _regroup({n: kids[n] for n in names}, level + 1)
        out[f"{key}_*"] = {"kids": sub, "items": []}
    return out


class _Builder:
    """Builds the unit tree of a graph once; views are planned from it."""

    def __init__(self, graph: nx.MultiDiGraph, scoped: bool) -> None:
        self.g = graph
        self.scoped = scoped
        self.order = dict(zip(graph._node, range(len(graph._node))))
        comps = graph.graph.get("computations", {})
        self.by_comp: dict[str, list[str]] = {}
        for n, d in graph._node.items():
            self.by_comp.setdefault(d.get("computation"), []).append(n)
        # A computation is drawn inside its first caller only (shared callees
        # would otherwise be drawn twice with clashing node ids).
        self.owner: dict[str, str] = {}
        for cname, comp in comps.items():
            if comp.get("kind") == "reducer" or not self.by_comp.get(cname):
                continue
            callers = [c for c in comp.get("callers", []) if c in graph]
            callers = [c for c in callers if graph.nodes[c].get("op") not in _REDUCER_OPS]
            if callers:
                self.owner[cname] = min(callers, key=self.order.__getitem__)
        self._active: set[str] = set()

    def units_of(self, node_ids: list[str], prefix: str, base: list[str] = ()) -> tuple[Unit, ...]:
        ops = [self.op_unit(n) for n in node_ids]
        if not self.scoped:
            return tuple(ops)
        return self._scope_units(ops, prefix, list(base))

    def op_unit(self, n: str) -> Unit:
        data = self.g._node[n]
        bodies: list[Unit] = []
        owner = self.owner
        calls = data.get("calls")
        if calls:
            calls = [c for c in calls if owner.get(c) == n]
        if not calls:
            # Most ops call nothing drawable (none, or a reducer): one record, built
            # positionally (every node of the graph passes here, 10^5 at LLM size).
            return Unit(f"op:{n}", "op", data.get("name") or n, n, (), 1, self.order[n])
        for cname in calls:
            if cname in self._active:
                continue
            self._active.add(cname)
            # A body's ops repeat their caller's scope (``jit(g)/while/body/...``):
            # scope them relative to it.
            base = scope_path(data.get("op_name") or "")
            members = self.units_of(self.by_comp[cname], f"{cname}:", base)
            self._active.discard(cname)
            kind = self.g.graph["computations"][cname].get("kind", "other")
            bodies.append(
                Unit(
                    key=f"body:{cname}",
                    kind="body",
                    label=f"{cname} ({kind}{_runs(data, kind)})",
                    node=None,
                    children=members,
                    size=sum(u.size for u in members),
                    order=self.order[n],
                )
            )
        return Unit(
            key=f"op:{n}",
            kind="op",
            label=data.get("name") or n,
            node=n,
            children=tuple(bodies),
            size=1 + sum(b.size for b in bodies) if bodies else 1,
            order=self.order[n],
        )

    def _path(self, u: Unit, pool_leaves: set[str]) -> list[str]:
        data = self.g._node[u.node]
        path: Any = _scope_path(data.get("op_name") or "")
        if not path and u.children:
            # A kernel XLA made (a copy/transpose fusion) often has no op_name;
            # its fused ops keep theirs, so it joins the scope of its first one.
            for n in walk_nodes(u)[1:]:
                path = _scope_path(self.g._node[n].get("op_name") or "")
                if path:
                    break
        # JAX names an entry parameter after its argument path (``ps[0]['w']``):
        # no scope, so it joins the pool like an unnamed one.
        if not path and data.get("op") in pool_leaves and not u.children:
            return [f"({data['op']}s)"]
        if not path and "*" in pool_leaves:
            return ["(ops without a name scope)"]
        return path

    def _scope_units(self, ops: list[Unit], prefix: str, base: list[str]) -> tuple[Unit, ...]:
        root: dict = {"kids": {}, "items": []}
        # Many unnamed parameters/constants of the entry (a model's weights) are
        # pooled into one group each; a fusion's few parameters are not.
        leaves = Counter(self.g._node[u.node].get("op") for u in ops)
        pool = {op for op in _BORING_LEAVES if leaves[op] > 12} if prefix == "" else set()
        if prefix == "" and len(ops) > _FANOUT:
            # The rest of the unscoped entry ops: one group, not a long row of boxes.
            pool.add("*")
        for u in ops:
            t = root
            path = self._path(u, pool)
            common = 0
            while common < min(len(base), len(path)) and base[common] == path[common]:
                common += 1
            for part in path[common:]:
                t = t["kids"].setdefault(part, {"kids": {}, "items": []})
            t["items"].append(u)
        path: list[str] = []
        while not root["items"] and len(root["kids"]) == 1:
            ((name, root),) = root["kids"].items()
            path.append(name)
        return self._convert(root, prefix, path)

    def _convert(self, t: dict, prefix: str, path: list[str]) -> tuple[Unit, ...]:
        out = list(t["items"])
        kids = _regroup(t["kids"])
        for name in sorted(kids):
            sub = kids[name]
            parts = [name]
            while not sub["items"] and len(sub["kids"]) == 1:
                ((n2, sub),) = sub["kids"].items()
                parts.append(n2)
            members = self._convert(sub, prefix, [*path, *parts])
            if len(members) == 1:
                out.append(members[0])
                continue
            out.append(
                Unit(
                    key=f"scope:{prefix}{'/'.join([*path, *parts])}",
                    kind="scope",
                    label="/".join(parts),
                    node=None,
                    children=members,
                    size=sum(m.size for m in members),
                    order=min(m.order for m in members),
                )
            )
        out.sort(key=lambda u: u.order)
        return tuple(out)


def _chunk(units: tuple[Unit, ...], budget: int, key: str, label: str) -> tuple[Unit, ...]:
    """Pack consecutive units into chunks whose expanded size fits ``budget``.

    When that leaves more than ``budget`` chunks (past ~budget² nodes in one
    scope: a 150k-op LLM step), the chunks are packed again, ``budget`` at a
    time: a chunk is one box when drawn, and by size two full chunks never fit
    one (that loop never ended before).
    """
    first = True
    while True:
        groups: list[list[Unit]] = []
        cur: list[Unit] = []
        weight = 0
        for u in units:
            w = u.size if first else 1
            if cur and (weight + w > budget or len(cur) >= budget):
                groups.append(cur)
                cur, weight = [], 0
            cur.append(u)
            weight += w
        if cur:
            groups.append(cur)
        if len(groups) <= 1:
            return units
        total = len(units)
        out = []
        pos = 0
        for i, grp in enumerate(groups):
            if len(grp) == 1:
                out.append(grp[0])
            else:
                out.append(
                    Unit(
                        key=f"chunk:{key}#{i}",
                        kind="chunk",
                        label=f"{label} [{pos + 1}–{pos + len(grp)} of {total}]",
                        node=None,
                        children=tuple(grp),
                        size=sum(g.size for g in grp),
                        order=grp[0].order,
                    )
                )
            pos += len(grp)
        units = tuple(out)
        if len(units) <= budget:
            return units
        key, first = key + "^", False


def _expand_cost(u: Unit, g: nx.MultiDiGraph) -> int:
    """Extra drawn nodes if ``u`` becomes a cluster of its (collapsed) members."""
    if u.kind == "op":
        inner = sum(len(b.children) for b in u.children)
        replaced = g._node[u.node].get("op") in _REPLACED_OPS and len(u.children) == 1
        return inner - (1 if replaced else 0)
    return len(u.children) - 1


def _members(u: Unit) -> tuple[Unit, ...]:
    if u.kind == "op":
        return tuple(m for b in u.children for m in b.children)
    return u.children


def _new_clusters(u: Unit, g: nx.MultiDiGraph) -> tuple[int, int]:
    """(clusters drawn when ``u`` is expanded, nesting levels its members sit below it)."""
    if u.kind != "op":
        return 1, 1
    replaced = g._node[u.node].get("op") in _REPLACED_OPS and len(u.children) == 1
    if replaced:
        return 1, 1
    return 1 + len(u.children), 2


def plan(
    g: nx.MultiDiGraph, key: str, title: str, units: tuple[Unit, ...], mode: str, budget: int
) -> ViewPlan:
    """Choose which units of one view are expanded (see NOTE at the top)."""
    total = sum(u.size for u in units)
    if mode == "none":
        expanded = set()
        stack = list(units)
        while stack:
            u = stack.pop()
            if u.children:
                expanded.add(u.key)
                stack.extend(_members(u))
        return ViewPlan(key, title, units, frozenset(expanded), total)
    only_ops = all(u.kind == "op" for u in units)
    if len(units) > budget or (mode != "kernel" and only_ops and total > budget):
        units = _chunk(units, budget, key, "ops")
    drawn = len(units)
    weight = drawn
    clusters = 0
    expanded: set[str] = set()
    folded: set[str] = set()
    heap: list[tuple[tuple[int, int, int], int, int, str, Unit, int]] = []

    def offer(u: Unit, depth: int) -> None:
        if not u.children:
            return
        if mode == "kernel" and u.kind == "op":
            return
        if mode == "scope" and u.kind == "scope":
            return
        cost = _expand_cost(u, g)
        # Structure first: scopes and chunks open before kernels' bodies, and
        # pooled parameters/constants (the least informative) open last.
        # Breadth first: a whole scope level opens before any scope below it,
        # so a view shows the model's structure (passes, stages, blocks) before
        # the ops of any one part.
        rank = (2 if u.label.startswith("(") else 1 if u.kind == "op" else 0, depth, cost)
        heapq.heappush(heap, (rank, cost, u.order, u.key, u, depth))

    for u in units:
        offer(u, 0)
    while heap:
        _, cost, _, _, u, depth = heapq.heappop(heap)
        new, inner = _new_clusters(u, g)
        # NOTE: [cluster budget] see _budget: nesting deeper than MAX_DEPTH or
        # more than MAX_CLUSTERS clusters is what makes dot slow; such a unit
        # stays collapsed and gets its own drill-down instead.
        fold = depth + new > _budget.MAX_DEPTH or clusters + new > _budget.MAX_CLUSTERS
        if fold and u.kind == "op":
            continue  # a kernel keeps its frame or stays one box with a drill-down
        if fold:
            # A scope past the caps folds into its parent: its members are
            # drawn there, without a frame of their own.
            new = inner = 0
        extra = cost + _budget.CLUSTER_WEIGHT * new
        if drawn + cost > budget or weight + extra > budget:
            continue
        drawn += cost
        weight += extra
        clusters += new
        (folded if fold else expanded).add(u.key)
        for m in _members(u):
            offer(m, depth + inner)
    return ViewPlan(key, title, units, frozenset(expanded), drawn, frozenset(folded))


def slug(key: str, label: str) -> str:
    """A short, stable, file-name-safe name for a drill-down."""
    text = re.sub(r"[^A-Za-z0-9_.-]+", "_", label).strip("_.")[:40] or "group"
    return f"{text}-{hashlib.sha1(key.encode()).hexdigest()[:8]}"


def walk_nodes(u: Unit) -> list[str]:
    """Graph node ids inside a unit, its own op included."""
    out: list[str] = []
    stack = [u]
    while stack:
        x = stack.pop()
        if x.node is not None:
            out.append(x.node)
        stack.extend(x.children)
    return out


def _runs(data: dict, kind: str) -> str:
    """``, runs x6`` for the body (x7 for the condition) of a loop whose trip count is known.

    A loop body is drawn once; this label says how many times it runs per run of
    its ``while`` (``xlalens.ir._loops``).
    """
    if data.get("op") != "while" or kind not in ("body", "condition"):
        return ""
    attrs = data.get("attrs") or {}
    n = attrs.get("trip_count")
    if not isinstance(n, int):
        return ", trip count unknown" if "trip_count_source" in attrs else ""
    return f", runs x{n + 1 if kind == 'condition' else n}"
