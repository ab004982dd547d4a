"""The kernel map: which kernels of optimized HLO A do the work of which kernels of B.

A kernel is an entry-level instruction that launches work (``xlalens.ir.kernel_nodes``:
fusions, custom calls, unfused ops). Its *body* is every node whose ``fusion`` field
names it (the fused computation's ops, its reducers; the instruction itself when
unfused). The op-level matching runs on both graphs with fusions inlined
(``_match.flatten_fusions``), so an op pairs with its counterpart wherever each
compiler put the fusion boundary; the kernel map then groups those op pairs by
kernel.

NOTE: [kernel map]
Each body op ``x`` of kernel ``K`` whose partner lies in kernel ``L`` adds the op's
weight to the link ``K -> L`` (dot, convolution and custom calls weigh
:data:`HEAVY_WEIGHT`, other ops 1; parameters, constants, tuples,
get-tuple-element, bitcasts and the fusion instruction itself weigh 0: they carry no
work of their own). A link
is kept when it carries at least :data:`LINK_SHARE` of the body weight of either
kernel, so one stray op pair does not tie two unrelated kernels together. The
connected components of the kept links are the kernel pairs:

- 1 kernel of A, 1 of B: ``same_body`` when every body op of both is paired inside
  the pair, every such pair is unchanged and the kernel instructions agree (the
  same fusion kind and backend config, or the same unfused op), else
  ``changed_body`` (with the body diff: the kernel instructions' difference,
  changed pairs, ops only in A, ops only in B);
- 1 of A, several of B: ``split``; several of A, 1 of B: ``merged``; several on both
  sides: ``regrouped``;
- a kernel without a kept link: ``only_a`` / ``only_b``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx

from xlalens.diff._kinds import (  # noqa: F401 (KERNEL_CLASSES: re-exported)
    CHANGED_BODY,
    KERNEL_CLASSES,
    MERGED,
    ONLY_A,
    ONLY_B,
    REGROUPED,
    SAME_BODY,
    SPLIT,
)
from xlalens.diff._model import KernelMap, KernelPair
from xlalens.ir._ops import OPCODES, TRIVIAL_OPCODES, category

# Weight of a heavy op in a kernel's body (see NOTE: [kernel map]).
HEAVY_WEIGHT = 10
# From the op table: contractions and custom calls are heavy; what runs no kernel
# of its own (and the fusion wrapper) weighs nothing.
HEAVY_OPS = frozenset(op for op in OPCODES if category(op) == "contraction") | {"custom-call"}
WEIGHTLESS_OPS = TRIVIAL_OPCODES | {"fusion"}
LINK_SHARE = 0.5


def op_weight(op: str) -> int:
    """How much one op of a kernel body counts when linking kernels."""
    if op in WEIGHTLESS_OPS:
        return 0
    return HEAVY_WEIGHT if op in HEAVY_OPS else 1


class _WeightOf(dict[str, int]):
    """op -> :func:`op_weight`, filled on first use (a dict hit costs no Python call)."""

    def __missing__(self, op: str) -> int:
        w = self[op] = op_weight(op)
        return w


_WEIGHT = _WeightOf()


@dataclass(frozen=True, slots=True)
class _Kernels:
    """One side's kernels: their ids in program order and each node's kernel."""

    ids: tuple[str, ...]
    """Kernel node ids, in program order."""
    of: dict[str, str]
    """Node id -> its kernel's node id (body nodes only)."""
    body: dict[str, list[str]]
    """Kernel id -> its body node ids, in program order."""
    mass: dict[str, int]
    """Kernel id -> the sum of its body ops' :func:`op_weight`."""
    work: dict[str, list[tuple[str, int, str]]]
    """Kernel id -> ``(node id, weight, op)`` of the body ops the link and the body
    diff look at (a weight, or a constant), in program order."""


def _kernels(g: nx.MultiDiGraph, known: list[str] | None = None) -> _Kernels:
    from xlalens.ir import kernel_nodes

    ids = tuple(kernel_nodes(g) if known is None else known)
    ks = set(ids)
    entry = g.graph.get("entry")
    comps = g.graph.get("computations", {})
    # The entry-level instruction that runs each computation: follow the first
    # caller up to the entry (the schema's ``fusion`` field says the same for
    # parsed optimized HLO; graphs built by hand may lack it).
    runner: dict[str, str | None] = {}

    def run_by(c: str) -> str | None:
        chain = []
        while c not in runner:
            callers = comps.get(c, {}).get("callers") or []
            if not callers or len(chain) > 64:
                runner[c] = None
                break
            chain.append(c)
            caller = callers[0]
            cc = g._node[caller]["computation"] if caller in g._node else None
            if cc == entry:
                runner[c] = caller
                break
            if cc is None:
                runner[c] = None
                break
            c = cc
        r = runner.get(c)
        for x in chain:
            runner[x] = r
        return r

    of: dict[str, str] = {}
    body: dict[str, list[str]] = {k: [] for k in ids}
    mass = dict.fromkeys(ids, 0)
    work: dict[str, list[tuple[str, int, str]]] = {k: [] for k in ids}
    weight = _WEIGHT
    # One lookup per computation, not per node (a 29k-node module has ~2k computations).
    kernel_of = {c: run_by(c) for c in comps if c != entry}
    # One walk over the nodes gives each kernel's body, its mass and the ops that
    # the link and the body diff read (each was a walk of its own).
    for n, d in g._node.items():
        c = d["computation"]
        k = n if c == entry else kernel_of.get(c) if c in kernel_of else run_by(c)
        if k in ks:
            of[n] = k
            body[k].append(n)
            op = d["op"]
            w = weight[op]
            if w:
                mass[k] += w
                work[k].append((n, w, op))
            elif op == "constant":
                work[k].append((n, w, op))
    return _Kernels(ids, of, body, mass, work)


def kernel_times(spec: Any) -> dict[str, float] | None:
    """Median seconds per kernel name for a dump entry ``DIR:frontend[:optimized_hlo]``.

    Reads ``DIR/timing/<backend>.json`` (docs/timing.md); the first backend (sorted)
    that timed the frontend wins.

    Args:
        spec: what the diff side was loaded from; anything but a dump entry of a
            timed dump gives ``None``.

    Returns:
        ``{kernel instruction name: median seconds}``, or ``None`` when no timing exists.

    Example:
        >>> kernel_times("xlalens-dump:jax:optimized_hlo")  # doctest: +SKIP
        {'fusion.3': 1.2e-06, ...}
    """
    # HLO or StableHLO text (many lines) is a graph, not a dump entry: a path to
    # stat would be the whole text ("File name too long").
    if not isinstance(spec, str) or ":" not in spec or "\n" in spec or len(spec) > 4096:
        return None
    parts = spec.rsplit(":", 2)
    if len(parts) == 3 and parts[2] in ("stablehlo", "hlo", "optimized_hlo"):
        folder, fe = parts[0], parts[1]
    else:
        folder, fe = spec.rsplit(":", 1)
    tdir = Path(folder) / "timing"
    if not tdir.is_dir():
        return None
    for path in sorted(tdir.glob("*.json")):
        try:
            doc = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        entry = (doc.get("frontends") or {}).get(fe) if isinstance(doc, dict) else None
        if isinstance(entry, dict) and entry.get("kernels"):
            return {
                str(k["name"]): float(k["median_s"])
                for k in entry["kernels"]
                if "name" in k and k.get("median_s") is not None
            }
    return None


def kernel_map(
    g_a: nx.MultiDiGraph,
    g_b: nx.MultiDiGraph,
    pairs: dict[str, str],
    changed: dict[str, str],
    *,
    times: tuple[dict[str, float] | None, dict[str, float] | None] = (None, None),
    compare: Any = None,
    kernel_ids: tuple[list[str] | None, list[str] | None] = (None, None),
    labels: tuple[dict[str, tuple], dict[str, tuple]] | None = None,
) -> KernelMap:
    """Pair the kernels of two optimized HLO graphs from their op-level pairs.

    Args:
        g_a: left graph (optimized HLO).
        g_b: right graph (optimized HLO).
        pairs: op-level pairing ``{a_id: b_id}`` (matched with fusions inlined).
        changed: ``{a_id: what changed}`` for the pairs whose status is ``changed``.
        times: per side, ``{kernel instruction name: seconds}`` or ``None``.
        compare: ``compare(a_kernel, b_kernel) -> str``: what differs between the
            two kernel instructions of a 1:1 pair themselves (fusion kind, backend
            config, a fusion against a library call), ``""`` when nothing does.
        kernel_ids: per side, ``xlalens.ir.kernel_nodes`` of the graph when the
            caller has it already (else computed here).
        labels: per side, ``node_label`` by node id where the caller has them
            (a cache; the missing ones are computed).

    Returns:
        The :class:`KernelMap` (see NOTE: [kernel map]).

    Example:
        >>> km = kernel_map(ga, gb, d.mapping(), {})  # doctest: +SKIP
        >>> [p.kind for p in km.pairs][:3]  # doctest: +SKIP
        ['same_body', 'split', 'only_a']
    """
    ka, kb = _kernels(g_a, kernel_ids[0]), _kernels(g_b, kernel_ids[1])
    # The node dicts directly: the NodeView lookup costs 3x as much per access.
    na, nb = g_a._node, g_b._node
    mass_a, mass_b = ka.mass, kb.mass
    # Each weighted body op of A whose partner lies in a kernel of B (integer sums:
    # the order of the walk does not matter; the links are read sorted).
    link: dict[tuple[str, str], int] = {}
    of_b = kb.of
    for a_k, ops in ka.work.items():
        for x, w, _ in ops:
            if w:
                b_k = of_b.get(pairs.get(x))
                if b_k is not None:
                    link[(a_k, b_k)] = link.get((a_k, b_k), 0) + w
    # Union-find over kernels of both sides ("a:" / "b:" prefixed).
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(x, x) != root:
            parent[x], x = root, parent[x]
        return root

    for (a_k, b_k), w in sorted(link.items()):
        if w >= LINK_SHARE * mass_a[a_k] or w >= LINK_SHARE * mass_b[b_k]:
            ra, rb = find("a:" + a_k), find("b:" + b_k)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    _pair_weightless(g_a, g_b, ka, kb, find, parent)
    groups: dict[str, tuple[list[str], list[str]]] = {}
    order: list[str] = []
    for k in ka.ids:
        r = find("a:" + k)
        if r not in groups:
            groups[r] = ([], [])
            order.append(r)
        groups[r][0].append(k)
    for k in kb.ids:
        r = find("b:" + k)
        if r not in groups:
            groups[r] = ([], [])
            order.append(r)
        groups[r][1].append(k)
    ta, tb = times
    rev = {y: x for x, y in pairs.items()}

    lab_a, lab_b = labels if labels is not None else ({}, {})
    consts_a = _Constants(na, lab_a)
    consts_b = _Constants(nb, lab_b)
    out: list[KernelPair] = []
    for r in order:
        la, lb = groups[r]
        if la and lb:
            kind = (
                SPLIT
                if len(la) == 1 and len(lb) > 1
                else MERGED
                if len(la) > 1 and len(lb) == 1
                else REGROUPED
                if len(la) > 1
                else None
            )
            body = _body_diff(la, lb, ka, kb, na, nb, pairs, rev, changed, consts_a, consts_b)
            if kind is None and compare is not None:
                head = compare(la[0], lb[0])
                if head:
                    body = (f"kernel {na[la[0]]['name']} -> {nb[lb[0]]['name']}: {head}", *body)
            if kind is None:
                kind = CHANGED_BODY if body else SAME_BODY
        else:
            kind, body = (ONLY_A, ()) if la else (ONLY_B, ())
        out.append(
            KernelPair(
                kind=kind,
                a=tuple(la),
                b=tuple(lb),
                body=body,
                time_a=_time(la, na, ta),
                time_b=_time(lb, nb, tb),
            )
        )
    return KernelMap(pairs=tuple(out), kernels=(len(ka.ids), len(kb.ids)))


def _pair_weightless(g_a, g_b, ka: _Kernels, kb: _Kernels, find, parent) -> None:
    """Pair still-unlinked kernels whose bodies are identical and whose consumers are paired.

    NOTE: [weightless kernels] a kernel of only weightless ops (a parameter read
    through two bitcasts, a copy) carries no op weight, so no link can tie it to
    its counterpart and both sides listed it as only-A and only-B (issue 21). Two
    such kernels are the same when their bodies have the same node labels (op,
    dtype, shape, attributes; not names) and their consumers are in the same
    kernel pair; a body or consumer key that is not unique on both sides stays
    unpaired.
    """
    from xlalens.diff._labels import node_label

    linked = {find(x) for x in list(parent)} | set(parent)

    def keys(g, ks: _Kernels, side: str) -> dict[tuple, str]:
        nodes, succ = g._node, g._succ
        out: dict[tuple, str] = {}
        dup: set[tuple] = set()
        for k in ks.ids:
            if f"{side}:{k}" in linked:
                continue
            body = tuple(sorted(repr(node_label(nodes[n])) for n in ks.body[k]))
            users = frozenset(
                find(f"{side}:{ks.of[u]}") for u in succ[k] if u in ks.of and ks.of[u] != k
            )
            if not users:
                continue
            key = (body, users)
            if key in out:
                dup.add(key)
            out[key] = k
        return {key: k for key, k in out.items() if key not in dup}

    ka_keys, kb_keys = keys(g_a, ka, "a"), keys(g_b, kb, "b")
    for key, a_k in ka_keys.items():
        b_k = kb_keys.get(key)
        if b_k is not None:
            parent[f"b:{b_k}"] = f"a:{a_k}"


def _time(ks: list[str], nodes, times: dict[str, float] | None) -> float | None:
    if not ks or times is None:
        return None
    vals = [times.get(nodes[k]["name"]) for k in ks]
    if any(v is None for v in vals):
        return None
    return float(sum(vals))  # type: ignore[arg-type]


def _body_diff(la, lb, ka, kb, na, nb, pairs, rev, changed, consts_a, consts_b) -> tuple[str, ...]:
    """Lines of the body diff of a kernel pair (empty when the bodies are the same).

    A constant whose value the other graph has too is left out: XLA copies
    constants into every fusion that reads them, or keeps them in the entry.
    Only the ops with a weight and the constants are looked at (``_Kernels.work``).
    """
    from xlalens.diff._match import node_label

    set_b = set(lb)
    of_a, of_b = ka.of, kb.of
    lines: list[str] = []
    for k in la:
        for x, _, op in ka.work[k]:
            y = pairs.get(x)
            if op == "constant" and (
                (y is None and node_label(na[x]) in consts_b)
                or (y is not None and of_b.get(y) is None)
            ):
                continue
            if y is None or of_b.get(y) not in set_b:
                lines.append(f"- {na[x]['name']} {op}")
            elif x in changed:
                lines.append(f"~ {na[x]['name']} -> {nb[y]['name']}: {changed[x]}")
    set_a = set(la)
    for k in lb:
        for y, _, op in kb.work[k]:
            x = rev.get(y)
            if op == "constant" and (
                (x is None and node_label(nb[y]) in consts_a)
                or (x is not None and of_a.get(x) is None)
            ):
                continue
            if x is None or of_a.get(x) not in set_a:
                lines.append(f"+ {nb[y]['name']} {op}")
    return tuple(lines)


class _Constants:
    """The node labels of one graph's constants, as a set built on the first question.

    Only an unpaired constant asks (a self-diff never does), and the set costs a walk
    over every node of the graph.
    """

    __slots__ = ("known", "labels", "nodes")

    def __init__(self, nodes: dict[str, dict], known: dict[str, tuple]) -> None:
        self.nodes, self.known = nodes, known
        self.labels: set[tuple] | None = None

    def __contains__(self, label: tuple) -> bool:
        if self.labels is None:
            from xlalens.diff._match import node_label

            known = self.known
            self.labels = {
                known.get(n) or node_label(d)
                for n, d in self.nodes.items()
                if d["op"] == "constant"
            }
        return label in self.labels
