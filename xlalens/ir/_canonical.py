"""The ``canonical`` level: semantics-preserving rewrites that make graphs comparable.

Each rule is a function ``rule(graph, stats) -> None`` applied in the order of
:data:`RULES`; docs/normalization.md shows each with a before/after example.
The rewrites keep node ids of the nodes that stay (so a canonical node can be
traced back to the raw one) and keep the graph valid under ``validate``.
Counts of what each rule did are in ``graph.graph["attrs"]["canonical"]``.

NOTE: [why copies are shallow]
``normalize`` copies each node's field dict, ``attrs`` and ``calls`` (the only
containers the rules modify) instead of a deep copy: the benchmark of issue 3
asks parse+normalize of a 23k-instruction module to stay within 3x of XLA's
parser, and a deepcopy alone costs more than the parse.
"""

from __future__ import annotations

import copy as _copy
import math
from typing import Any

import networkx as nx

from xlalens._errors import UsageError
from xlalens.ir._canonical_scan import (
    FOLD,
    NOOP_OPS,
    NUMPY_DTYPES,
    REDUCING_OPS,
    Walks,
    candidates,
    foldable,
    reducer_op,
    returns_operand,
    swappable,
)
from xlalens.ir._dicts import with_key
from xlalens.ir._gc import paused_gc
from xlalens.ir._schema import LEVELS

# --------------------------------------------------------------------------- helpers


def _in_edges(g: nx.MultiDiGraph, nid: str) -> list[tuple[str, int, dict[str, Any]]]:
    """(producer, key, edge data) of each operand of ``nid``, by operand index.

    Reads networkx's ``_pred`` directly: the ``in_edges`` view costs several
    times more, and this runs for every commutative op of a 30k-node module.
    """
    ins = [(u, k, d) for u, kd in g._pred[nid].items() for k, d in kd.items()]
    ins.sort(key=lambda e: e[1])
    return ins


def _operands(g: nx.MultiDiGraph, nid: str) -> list[tuple[str, dict[str, Any]]]:
    """(producer, edge data) of each operand of ``nid``, by operand index."""
    return [(u, d) for u, _, d in _in_edges(g, nid)]


def _comp_root_replace(g: nx.MultiDiGraph, old: str, new: str) -> None:
    comp = g.graph["computations"][g.nodes[old]["computation"]]
    if comp["root"] == old:
        comp["root"] = new
        g.nodes[new]["is_root"] = True


def _scalar_literal(d: dict[str, Any]) -> int | float | bool | None:
    """The numeric value of a scalar constant node, or None."""
    if d["op"] != "constant" or d["shape"] != () or d["dtype"] in ("tuple", "token"):
        return None
    v = d["attrs"].get("literal")
    if isinstance(v, list) and len(v) == 1:  # a printer that writes a scalar as [x]
        v = v[0]
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        return v
    if isinstance(v, str):  # HLO text literals: "2", "0.5", "true", "-inf"
        s = v.strip().strip("{}").strip()
        if s in ("true", "false"):
            return s == "true"
        try:
            return int(s)
        except ValueError:
            try:
                return float(s)
            except ValueError:
                return None
    return None


def _cast(value: Any, dtype: str) -> Any:
    """``value`` rounded as XLA would store it in ``dtype`` (None if not representable here)."""
    import numpy as np

    if dtype == "pred":
        return bool(value)
    name = NUMPY_DTYPES.get(dtype)
    if name is None:
        return None
    with np.errstate(all="ignore"):
        if dtype.startswith(("s", "u")):
            if isinstance(value, float) and not math.isfinite(value):
                return None
            return int(np.array(int(value)).astype(name))
        return float(np.array(value, dtype=name))


# --------------------------------------------------------------------------- rules


def drop_noops(
    g: nx.MultiDiGraph,
    stats: dict[str, int],
    touched: set[str] | None = None,
    *,
    candidates: list[str] | None = None,
    rewired: set[str] | None = None,
) -> None:
    """Remove reshape/bitcast/copy/transpose/convert whose result equals their operand.

    No-op means: same dtype and shape as the single operand, and for a transpose an
    identity permutation, for bitcast/copy the same layout. Users read the operand
    instead; a removed root hands the root mark to its operand. The users go in
    ``rewired`` when given (only their operand edges change), else in ``touched``.
    """
    # NOTE: [optimized HLO keeps its kernels] In optimized HLO an entry-level
    # copy/transpose/convert/reshape is a kernel of its own (TensorFlow's entry
    # copies are real memory copies), so removing it would change the kernel
    # count that `xlalens stats` and the diff report (issue 11). Only bitcasts,
    # which launch nothing, and ops inside fused computations are dropped there.
    optimized = g.graph.get("stage") == "optimized_hlo"
    comps = g.graph.get("computations", {})
    node, succ, pred = g._node, g._succ, g._pred
    noop_ops = NOOP_OPS
    # Only this rule's own candidates are visited (a drop removes the candidate
    # itself, never a later one).
    if candidates is None:
        candidates = [n for n, d in node.items() if d["op"] in noop_ops and not d["calls"]]
    dropped = False
    for nid in candidates:
        d = node[nid]
        if (
            optimized
            and d["op"] != "bitcast"
            and comps.get(d["computation"], {}).get("kind") != "fusion"
        ):
            continue
        preds = pred[nid]
        if len(preds) != 1:
            continue
        ((src, keyed),) = preds.items()
        if len(keyed) != 1:
            continue
        ((_k, edge),) = keyed.items()
        s = node[src]
        if not returns_operand(d, s, edge["shape"]):
            continue
        comp = d["computation"]
        is_root = g.graph["computations"][comp]["root"] == nid
        if is_root and s["computation"] != comp:
            continue  # a region root must stay a node of the region
        # NOTE: [rewiring in networkx's dicts] What remove_edge(nid, v, k) +
        # add_edge(src, v, key=k, **new) + remove_node(nid) leave, in the same order
        # (v joins the end of src's successors and src the end of v's
        # predecessors, unless already there), written into networkx's adjacency
        # dicts directly: the calls' own cost (a cache clear each, the kwargs
        # copy, an edge-view list) was most of this rule's time, and this rule
        # most of the canonical level's on pre-optimization HLO (issue 23).
        s_comp = s["computation"]
        s_succ = succ[src]
        out = succ[nid]
        for v, kd in list(out.items()):
            kind = "data" if node[v]["computation"] == s_comp else "capture"
            v_pred = pred[v]
            for k, ed in list(kd.items()):
                # The removed edge's own record becomes the new edge's (it leaves the
                # graph with the edge; the same fields in the same order as a copy).
                new = ed
                new["kind"] = kind
                if "result_index" in edge:
                    new["result_index"] = edge["result_index"]
                else:
                    new.pop("result_index", None)
                del kd[k]
                if not kd:
                    del out[v]
                    del v_pred[nid]
                skd = s_succ.get(v)
                if skd is None:
                    if not kd:  # the emptied key dict serves the new edge
                        kd[k] = new
                        s_succ[v] = v_pred[src] = kd
                    else:
                        s_succ[v] = v_pred[src] = {k: new}
                elif k in skd:
                    skd[k].update(new)
                else:
                    skd[k] = new
                if rewired is not None:
                    rewired.add(v)
                elif touched is not None:
                    touched.add(v)
        if is_root:
            _comp_root_replace(g, nid, src)
            if touched is not None:
                touched.add(src)
        del s_succ[nid]
        del pred[nid], succ[nid], node[nid]
        dropped = True
        key = "drop_" + d["op"]
        stats[key] = stats.get(key, 0) + 1
    if dropped and hasattr(nx, "_clear_cache"):
        nx._clear_cache(g)  # as remove_node does (networkx >= 3.3 caches per graph)


def fold_scalar_constants(
    g: nx.MultiDiGraph,
    stats: dict[str, int],
    touched: set[str] | None = None,
    *,
    candidates: list[str] | None = None,
) -> None:
    """Replace scalar arithmetic on scalar constants by the resulting constant.

    Folds add/subtract/multiply/divide/maximum/minimum/negate/abs when every
    operand is a scalar constant of a dtype numpy can round (f16/f32/f64, ints,
    pred); the result is rounded to the node's dtype. Constants left without
    users are removed. The folded node keeps its id; ``attrs["folded_from"]``
    names the op it was.
    """
    dead: set[str] = set()
    if candidates is None:
        pending = [n for n, d in g._node.items() if foldable(d)]
    else:
        pending = [n for n in candidates if n in g._node]
    # A fold can make its user foldable: repeat until a pass folds nothing
    # (chains of scalar arithmetic are short, and a pass only visits candidates).
    changed = True
    while changed and pending:
        changed = False
        left = []
        for nid in pending:
            if _fold_one(g, nid, dead, stats):
                changed = True
                if touched is not None:
                    touched.add(nid)
            else:
                left.append(nid)
        pending = left
    # One remove_nodes_from, and networkx's dicts read directly (an empty successor
    # dict is out-degree 0): the views and one call per node were most of this
    # rule's own time (issue 23).
    comps = g.graph["computations"]
    node, succ = g._node, g._succ
    gone = [
        u for u in dead if u in node and not succ[u] and comps[node[u]["computation"]]["root"] != u
    ]
    if gone:
        g.remove_nodes_from(gone)


def _fold_one(g: nx.MultiDiGraph, nid: str, dead: set[str], stats: dict[str, int]) -> bool:
    """Fold ``nid`` into a constant if all its operands are scalar constants."""
    d = g._node[nid]
    op = d["op"]
    node = g._node
    for u in g._pred[nid]:
        if node[u]["op"] != "constant":
            return False  # not foldable (_scalar_literal would say None): skip the edge list
    ops = _operands(g, nid)
    if not ops or any(e["kind"] != "data" for _, e in ops):
        return False
    values = [_scalar_literal(node[u]) for u, _ in ops]
    if any(v is None for v in values):
        return False
    try:
        if op == "divide":
            a, b = values
            if d["dtype"].startswith(("s", "u")):
                if b == 0:
                    return False
                result = int(a / b)  # XLA integer division truncates toward zero
            else:
                result = a / b if b != 0 else (math.copysign(math.inf, a) if a else math.nan)
        else:
            result = FOLD[op](*values)
    except (TypeError, ValueError, OverflowError, ZeroDivisionError):
        return False
    result = _cast(result, d["dtype"])
    if result is None:
        return False
    for u, _ in ops:
        dead.add(u)
    # What remove_edge of each operand edge leaves, without its per-call cost.
    preds, succ = g._pred[nid], g._succ
    for u in preds:
        del succ[u][nid]
    preds.clear()
    if hasattr(nx, "_clear_cache"):
        nx._clear_cache(g)  # as remove_edge does (networkx >= 3.3 caches per graph)
    d["attrs"] = {"literal": result, "folded_from": op}
    d["op"] = "constant"
    d["opcode"] = "stablehlo.constant" if d["dialect"] == "stablehlo" else "constant"
    stats["fold_constant"] = stats.get("fold_constant", 0) + 1
    return True


def _by_computation(
    g: nx.MultiDiGraph, wanted: set[str], by_comp: dict[str, list[str]] | None = None
) -> dict[str, list[str]]:
    """The node ids of each computation in ``wanted``, in node order.

    ``by_comp``: the node ids the reader added of each computation that a node
    calls, or of every one (:attr:`Walks.by_comp`); the nodes removed since are left
    out.
    """
    if by_comp is not None:
        node = g._node
        found = {c: [n for n in by_comp.get(c, ()) if n in node] for c in wanted}
        return {c: lst for c, lst in found.items() if lst}
    out: dict[str, list[str]] = {c: [] for c in wanted}
    for n, d in g._node.items():
        lst = out.get(d["computation"])
        if lst is not None:
            lst.append(n)
    return {c: lst for c, lst in out.items() if lst}


def _reducer_summary(g: nx.MultiDiGraph, comp: str, nodes: list[str]) -> str | None:
    """The binary op a reducer computation applies, when it is just ``op(p0, p1)``."""
    info = g.graph["computations"][comp]
    params = info["params"]
    body = [n for n in nodes if n not in params]
    if len(params) != 2 or not body:
        return None
    ret = info["root"]
    core = body
    if g.nodes[ret]["op"] == "return":
        core = [n for n in body if n != ret]
        if len(core) != 1 or [u for u, _ in _operands(g, ret)] != core:
            return None
    if len(core) != 1:
        return None
    return reducer_op(g.nodes[core[0]], [u for u, _ in _operands(g, core[0])], params)


def summarize_reducers(
    g: nx.MultiDiGraph,
    stats: dict[str, int],
    touched: set[str] | None = None,
    *,
    candidates: list[str] | None = None,
    by_comp: dict[str, list[str]] | None = None,
    known: dict[str, str | None] | None = None,
) -> None:
    """``reduce(x, init), to_apply=add`` -> ``attrs["reducer"] = "add"``; trivial reducers go.

    A called computation that only applies one binary op to its two parameters
    is summarized on each caller; once every caller is summarized, the
    computation and its nodes are removed and dropped from the callers' ``calls``.
    ``known``: with ``by_comp``, the summaries the reader made (``Walks.summaries``,
    NOTE [reducers summarized while lowering]).
    """
    comps = g.graph["computations"]
    summary: dict[str, str | None] = {}
    if candidates is None:
        callers = [(nid, d) for nid, d in g._node.items() if d["op"] in REDUCING_OPS and d["calls"]]
    else:
        node = g._node
        callers = [
            (nid, d)
            for nid in candidates
            if (d := node.get(nid)) is not None and d["op"] in REDUCING_OPS and d["calls"]
        ]
    # The members of the called computations only, in node order (those of a
    # computation the reader summarized are all there: no rule before this one
    # removes a node of theirs).
    called = {c for _, d in callers for c in d["calls"]}
    if not known or by_comp is None:
        known = {}
    members = _by_computation(g, {c for c in called if c not in known}, by_comp)
    members.update((c, by_comp[c]) for c in called if c in known)  # type: ignore[index]
    for nid, d in callers:
        names = []
        for c in d["calls"]:
            if c not in summary:
                summary[c] = known[c] if c in known else _reducer_summary(g, c, members.get(c, []))
            names.append(summary[c])
        if d["op"] == "select-and-scatter":
            names = names[-1:]  # the select region is a comparator, not a reducer
        if names and all(names):
            red = names[0] if len(set(names)) == 1 else names  # a split copy (ir/_dicts):
            d["attrs"] = with_key(d["attrs"], "reducer", red)  # attrs are this graph's own
            if touched is not None:
                touched.add(nid)
    # The summarized computations' nodes go in one remove_nodes_from: one call per
    # computation (each with its cache clear) was a third of this rule's time on
    # pre-optimization HLO, which has a reducer region per reduce (issue 23). No
    # caller is a member of a summarized computation (its members are two
    # parameters and one binary op), so the checks read the same nodes either way.
    node = g._node
    dead: list[str] = []
    for c, name in summary.items():
        if not name or c not in comps:
            continue
        callers = comps[c]["callers"]
        if not all(node[x]["attrs"].get("reducer") for x in callers):
            continue
        for x in callers:
            nd = node[x]
            calls = nd["calls"]
            # (Nearly always a reduce's one call: no generator for it.)
            nd["calls"] = () if calls == (c,) else tuple(k for k in calls if k != c)
        dead += members.get(c, ())
        del comps[c]
        stats["summarize_reducer"] = stats.get("summarize_reducer", 0) + 1
    if dead and by_comp is not None:
        # The reader's graph has no data edge across computations (each operand is
        # looked up in its own computation's names), so a whole computation's nodes
        # have their edges among themselves: their entries go, and no other node's
        # adjacency holds them (remove_nodes_from's walk of each one's neighbours was
        # half of this rule's time on optimized HLO; issue 23).
        succ, pred = g._succ, g._pred
        for n in dead:
            del node[n], succ[n], pred[n]
        if hasattr(nx, "_clear_cache"):
            nx._clear_cache(g)  # as remove_nodes_from does (networkx >= 3.3)
    elif dead:
        g.remove_nodes_from(dead)


def _operand_key(g: nx.MultiDiGraph, src: str, edge: dict[str, Any]) -> tuple:
    s = g._node[src]
    lit = s["attrs"].get("literal") if s["op"] == "constant" else None
    return (
        s["op"],
        s["dtype"],
        tuple(edge["shape"]),
        s["role"] or "",
        -1 if s["param_index"] is None else s["param_index"],
        repr(lit) if lit is not None and len(repr(lit)) < 64 else "",
        s["attrs"].get("reducer") or "",
    )


def order_commutative(
    g: nx.MultiDiGraph,
    stats: dict[str, int],
    touched: set[str] | None = None,
    *,
    candidates: list[str] | None = None,
    swapped: int = 0,
) -> None:
    """Sort the two operands of commutative ops by a name-free key.

    The key is (producer op, dtype, shape, role, parameter index, small literal,
    reducer): ``add(dot, broadcast)`` and ``add(broadcast, dot)`` both become
    ``add(broadcast, dot)``. Ties keep the original order. compare is included
    for EQ/NE only. ``swapped``: the swaps the reader made whole (``Walks.swapped``,
    NOTE [swaps made while lowering]), counted with this rule's own.
    """
    pred, node = g._pred, g._node
    if candidates is None:
        todo: Any = node.items()
    else:
        # Read as they go: a list of (id, fields) pairs was 2 MB at the peak of a
        # 235k-instruction canonical load (issue 23).
        todo = zip(candidates, map(node.get, candidates))
    for nid, d in todo:
        if d is None:
            continue  # an earlier rule removed it
        if not swappable(d):
            continue
        # Two operands from two producers, one edge each: the only case that can
        # swap (the same producer twice gives equal keys). Read straight from
        # networkx's _pred, without building the sorted edge list of _in_edges.
        preds = pred[nid]
        if len(preds) != 2:
            continue
        (ua, kda), (ub, kdb) = preds.items()
        if len(kda) != 1 or len(kdb) != 1:
            continue
        ((ka, ea),) = kda.items()
        ((kb, eb),) = kdb.items()
        if ka < kb:
            u0, e0, kd0, u1, e1, kd1 = ua, ea, kda, ub, eb, kdb
        else:
            u0, e0, kd0, u1, e1, kd1 = ub, eb, kdb, ua, ea, kda
        # The key's first field (the producer's op) decides most pairs: compare it
        # alone first, as the tuple comparison would, before building both keys.
        op0, op1 = node[u0]["op"], node[u1]["op"]
        if op0 != op1:
            if not op1 < op0:
                continue
        elif not _operand_key(g, u1, e1) < _operand_key(g, u0, e0):
            continue
        # NOTE: [successors in program order] The swap rewrites the two key dicts in
        # place: each is both ``_pred[nid][u]`` and ``_succ[u][nid]``, so ``nid`` keeps
        # its place among each producer's successors (program order, as the reader
        # built them) and only ``_pred[nid]`` is reordered, the swapped producer first.
        # remove_edge + add_edge moved ``nid`` to the end of both producers' successors,
        # an order that told of the rule, not of the program, and was most of this
        # rule's time on optimized HLO (issue 23). The records are this graph's own
        # (the lowering's, or ``_shallow_copy``'s), so they are reused in place.
        preds.clear()
        e1["operand_index"] = 0
        kd1.clear()
        kd1[0] = e1
        preds[u1] = kd1
        e0["operand_index"] = 1
        kd0.clear()
        kd0[1] = e0
        preds[u0] = kd0
        swapped += 1
        if touched is not None:
            touched.add(nid)
    if swapped:
        stats["order_commutative"] = stats.get("order_commutative", 0) + swapped
    if swapped and hasattr(nx, "_clear_cache"):
        nx._clear_cache(g)  # as add_edge does (networkx >= 3.3 caches per graph)


def assign_roles(
    g: nx.MultiDiGraph,
    stats: dict[str, int],
    signature: dict[str, Any] | None,
    touched: set[str] | None = None,
) -> None:
    """Set ``role`` on entry parameters and on the producers of entry results.

    ``signature["inputs"][i]["role"]`` names entry parameter i (StableHLO main
    argument i, HLO entry parameter i); ``signature["outputs"][j]["role"]`` names the
    producer of result j (operand j of the root ``tuple`` or ``return``; a
    non-tuple root is result 0). Skipped (and recorded) when the counts differ.
    """
    if not signature:
        return
    entry = g.graph["entry"]
    info = g.graph["computations"].get(entry)
    if info is None:
        return
    inputs = [i.get("role") if isinstance(i, dict) else None for i in signature.get("inputs") or []]
    outputs = [
        o.get("role") if isinstance(o, dict) else None for o in signature.get("outputs") or []
    ]
    params = info["params"]
    notes = g.graph["attrs"].setdefault("canonical_notes", [])
    if inputs and len(inputs) == len(params):
        for nid, role in zip(params, inputs):
            if role:
                g.nodes[nid]["role"] = str(role)
                if touched is not None:
                    touched.add(nid)
                stats["role_input"] = stats.get("role_input", 0) + 1
    elif inputs:
        notes.append(
            f"signature has {len(inputs)} inputs but the entry has {len(params)} parameters; "
            "parameter roles not assigned"
        )
    root = info["root"]
    if not outputs or root is None:
        return
    rd = g.nodes[root]
    if rd["op"] in ("return", "tuple"):
        producers = [u for u, _ in _operands(g, root)]
    else:
        producers = [root]
    if len(producers) != len(outputs):
        notes.append(
            f"signature has {len(outputs)} outputs but the entry returns {len(producers)} values; "
            "result roles not assigned"
        )
        return
    for nid, role in zip(producers, outputs):
        if role and g.nodes[nid]["role"] is None:
            g.nodes[nid]["role"] = str(role)
            if touched is not None:
                touched.add(nid)
            stats["role_output"] = stats.get("role_output", 0) + 1


RULES: tuple[str, ...] = (
    "drop_noops",
    "fold_scalar_constants",
    "summarize_reducers",
    "assign_roles",
    "order_commutative",
)


def _shallow_copy(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """Copy nodes, edges and the containers the rules modify (see the module NOTE).

    Fills networkx's adjacency dicts directly (``_node``, ``_succ``, ``_pred``,
    stable since networkx 2): ``add_node``/``add_edges_from`` took most of the
    normalize time on a 23k-node graph. Successor and predecessor orders are
    copied as they are, so iteration order is the original's.
    """
    g = nx.MultiDiGraph()
    ga = dict(graph.graph)
    # computations: thousands of small dicts in optimized HLO, where deepcopy is slow
    ga["computations"] = {
        name: {k: list(v) if isinstance(v, list) else v for k, v in comp.items()}
        for name, comp in graph.graph["computations"].items()
    }
    ga["attrs"] = _copy.deepcopy(graph.graph["attrs"])
    ga["source"] = _copy.deepcopy(graph.graph["source"])
    g.graph.update(ga)
    node, succ, pred = g._node, g._succ, g._pred
    for n, d in graph._node.items():
        nd = d.copy()
        nd["attrs"] = dict(d["attrs"])
        nd["calls"] = tuple(d["calls"])  # the same tuple (a list: a tuple of it)
        node[n] = nd
        succ[n] = {}
        pred[n] = {}
    for u, nbrs in graph._succ.items():
        su = succ[u]
        for v, keydict in nbrs.items():
            su[v] = {k: d.copy() for k, d in keydict.items()}
    for v, nbrs in graph._pred.items():
        pv = pred[v]
        for u in nbrs:
            pv[u] = succ[u][v]
    return g


def canonicalize(
    graph: nx.MultiDiGraph,
    *,
    signature: dict[str, Any] | None = None,
    copy: bool = True,
    touched: set[str] | None = None,
    walks: Walks | None = None,
    rewired: set[str] | None = None,
) -> nx.MultiDiGraph:
    """Apply every canonical rule (see :data:`RULES` and docs/normalization.md).

    Args:
        graph: a raw xlalens graph.
        signature: the capture's signature (``manifest["frontends"][fe]["signature"]``)
            to name parameters and results; without it, roles stay ``None``.
        copy: work on a copy (default) or rewrite ``graph`` in place.
        touched: when given, receives the id of every node that stays and whose
            fields or operand edges a rule changed, but for the operand swaps of
            :func:`order_commutative`, which keep every schema rule by construction
            (``xlalens.load`` checks those nodes again, see NOTE [checked while
            lowering] in ``_validate`` and NOTE [swaps keep the schema] below).
        walks: the reader's node lists of this very graph (:class:`Walks`), read
            instead of walking the graph; only with ``copy=False``.
        rewired: with ``touched``, receives instead of it the users
            :func:`drop_noops` rewires, whose change keeps their own fields valid by
            construction (operand edges only): ``xlalens.load`` checks only their
            operand edges (NOTE [rewired nodes] in ``_validate``). With it, the
            callers :func:`summarize_reducers` summarizes are listed nowhere: their
            operand edges stay, and the fields they gain are valid by construction
            (``attrs["reducer"]``, a str or a list of str, and ``calls`` less a
            computation removed with its record). Checking their edges was half
            of that check on optimized HLO (issue 23).

    Returns:
        The canonical graph (``graph.graph["level"] == "canonical"``).

    Example:
        >>> canon = canonicalize(load("step.mlir"), signature={"inputs": [{"role": "w"}]})  # doctest: +SKIP
    """
    stats: dict[str, int] = {}
    with paused_gc():
        g = _shallow_copy(graph) if copy else graph
        if copy or walks is None or not walks.lowered:
            if walks is not None and (walks.swapped[0] or walks.dropped):
                # The reader began these swaps or drops in the graph it read (NOTE
                # [swaps made while lowering], [no-ops dropped while lowering]); only
                # this graph, in place, can finish them.
                raise UsageError("walks with rules begun while lowering need copy=False")
            walks = None
        scan = candidates(g, walks)
        if walks is not None:
            stats.update(walks.dropped)  # the reader's drops (their kinds listed first)
        drop_noops(g, stats, touched, candidates=scan[0], rewired=rewired)
        fold_scalar_constants(g, stats, touched, candidates=scan[1])
        summarize_reducers(
            g,
            stats,
            touched if rewired is None else None,
            candidates=scan[2],
            by_comp=walks.by_comp if walks is not None else None,
            known=walks.summaries if walks is not None else None,
        )
        assign_roles(g, stats, signature, touched)
        # NOTE: [swaps keep the schema] order_commutative's swaps are not listed in
        # ``touched``: a swap keeps the node's fields, and gives its two operand
        # edges the same two producers (same computation, same program order) with
        # their records' operand_index the new key, 0 and 1; every schema
        # rule that held before holds after, as for the lowering's own edges (NOTE
        # [checked while lowering] in ``_validate``). Re-checking them was more than
        # half of that check on optimized HLO, where most fused ops swap (issue 23).
        order_commutative(
            g, stats, candidates=scan[3], swapped=walks.swapped[0] if walks is not None else 0
        )
    g.graph["level"] = "canonical"
    g.graph["attrs"]["canonical"] = stats
    if not g.graph["attrs"].get("canonical_notes"):
        g.graph["attrs"].pop("canonical_notes", None)
    return g


def normalize(
    graph: nx.MultiDiGraph,
    level: str = "canonical",
    *,
    signature: dict[str, Any] | None = None,
    copy: bool = True,
    touched: set[str] | None = None,
    walks: Walks | None = None,
    rewired: set[str] | None = None,
) -> nx.MultiDiGraph:
    """Bring a graph to a normalization level.

    Args:
        graph: an xlalens graph (usually raw).
        level: ``"raw"`` (returns the graph unchanged, which must be raw) or ``"canonical"``.
        signature: parameter/result roles, see :func:`canonicalize`.
        copy: leave ``graph`` untouched (default).
        touched: see :func:`canonicalize`.
        walks: see :func:`canonicalize`.
        rewired: see :func:`canonicalize`.

    Returns:
        The graph at ``level``.

    Raises:
        UsageError: unknown level, or asking for raw from a canonical graph.

    Example:
        >>> normalize(parse_hlo_text(text), "canonical").graph["level"]  # doctest: +SKIP
        'canonical'
    """
    if level not in LEVELS:
        raise UsageError(f"level={level!r} is not one of {', '.join(LEVELS)}")
    have = graph.graph.get("level", "raw")
    if level == have:
        return graph
    if level == "raw":
        raise UsageError(
            "a canonical graph cannot be taken back to raw; reload the IR at level='raw'"
        )
    return canonicalize(
        graph, signature=signature, copy=copy, touched=touched, walks=walks, rewired=rewired
    )
