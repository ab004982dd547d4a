"""The canonical rules' op tables and their candidate lists (for ``_canonical``).

Each rule of the canonical level (``xlalens.ir._canonical``) visits the nodes of a
few ops only. :func:`candidates` lists them from one walk over a graph;
:class:`Walks` lists them while the HLO reader builds the graph
(``xlalens.ir.hlo._lower``), where each node and its operands are at hand.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from xlalens.ir._ops import REDUCER_CALLERS

# Ops whose two operands may be swapped without changing the result.
COMMUTATIVE = frozenset({"add", "multiply", "maximum", "minimum", "and", "or", "xor"})
# compare is commutative only for these directions.
SYMMETRIC_COMPARE = frozenset({"EQ", "NE"})
# Ops that call a reducer computation, and the binary ops a reducer may be summarized to.
REDUCING_OPS = REDUCER_CALLERS  # THE set, in the op table (sort and map included)
REDUCER_BINARY = frozenset(
    {"add", "multiply", "maximum", "minimum", "and", "or", "xor", "subtract", "divide"}
)
NOOP_OPS = frozenset({"reshape", "bitcast", "copy", "transpose", "convert"})
# What :meth:`Walks.add` tells the reader to do with the node's operand edges.
KEEP, DROP, SWAP = 0, 1, 2

FOLD: dict[str, Callable[..., Any]] = {
    "add": operator.add,
    "subtract": operator.sub,
    "multiply": operator.mul,
    "maximum": max,
    "minimum": min,
    "negate": operator.neg,
    "abs": abs,
}
NUMPY_DTYPES = {
    "f16": "float16",
    "f32": "float32",
    "f64": "float64",
    "s8": "int8",
    "s16": "int16",
    "s32": "int32",
    "s64": "int64",
    "u8": "uint8",
    "u16": "uint16",
    "u32": "uint32",
    "u64": "uint64",
}

SCANNED_OPS = NOOP_OPS | frozenset(FOLD) | {"divide", "compare"} | REDUCING_OPS | COMMUTATIVE


def foldable(d: dict[str, Any]) -> bool:
    """Node fields ``d`` of a scalar op that ``fold_scalar_constants`` folds once every
    operand is a constant (the one test: the rule, :func:`candidates` and
    :meth:`Walks.add` must select the same nodes)."""
    return (
        (d["op"] in FOLD or d["op"] == "divide")
        and d["shape"] == ()
        and (d["dtype"] in NUMPY_DTYPES or d["dtype"] == "pred")
    )


def returns_operand(d: dict[str, Any], s: dict[str, Any], shape: Any) -> bool:
    """Whether no-op node ``d`` returns its one operand unchanged: ``s`` the producer's
    fields, ``shape`` the operand edge's. Same dtype and shape, for a transpose the
    identity permutation, for a bitcast or copy the same layout (where both say).
    ``_canonical.drop_noops`` and :meth:`Walks.add` decide here."""
    dtype = d["dtype"]
    if s["dtype"] != dtype or tuple(shape) != d["shape"] or dtype == "tuple":
        return False
    op = d["op"]
    if op == "transpose":
        perm = d["attrs"].get("permutation", d["attrs"].get("dimensions"))
        if perm is None or list(perm) != list(range(len(d["shape"]))):
            return False
    return not (
        op in ("bitcast", "copy")
        and d["layout"] != s["layout"]
        and None not in (d["layout"], s["layout"])
    )


def reducer_op(d: dict[str, Any], srcs: list[str], params: list[str]) -> str | None:
    """The binary op of a reducer computation that is just ``op(p0, p1)``, else None.

    ``d``: its one node besides the parameters (and a ``return``); ``srcs``: that
    node's operands in operand order; ``params``: the computation's parameters in
    order (two). ``_canonical._reducer_summary`` and :meth:`Walks.reducer` decide here.
    """
    op = d["op"]
    if op not in REDUCER_BINARY or d["calls"] or sorted(srcs) != sorted(params):
        return None
    if op in ("subtract", "divide") and srcs != params:
        return None  # not commutative: the parameters in their order only
    return op


def swappable(d: dict[str, Any]) -> bool:
    """Node fields ``d`` of an op whose two operands ``order_commutative`` may swap (a
    commutative op, or an EQ/NE compare)."""
    op = d["op"]
    return op in COMMUTATIVE or (
        op == "compare"
        and d["attrs"].get("comparison_direction", d["attrs"].get("direction")) in SYMMETRIC_COMPARE
    )


@dataclass(frozen=True, slots=True)
class Walks:
    """Node lists a reader fills while it builds a graph, for ``canonicalize``.

    NOTE: [the rules' walks done while lowering] Before its rules, the canonical
    level walked every node twice: once for each rule's candidates
    (:func:`candidates`) and once for the nodes of the called computations
    (``summarize_reducers``). The HLO reader adds each node in program order and
    knows its op, computation and operands as it does, so it lists them then
    (``xlalens.ir.hlo._lower.lower`` calls :meth:`add`); the rules read the lists
    instead of the graph (issue 23: the two walks were 0.1-0.2x of XLA's parse).
    A list read here holds the ids the walk it replaces would give, in the same
    order, less nodes that NOTE [candidates that cannot change] shows the rule
    would leave alone, and less the nodes a rule has removed since (skipped).
    """

    ops: frozenset[str] = SCANNED_OPS
    """The node ``op`` values for which the reader calls :meth:`add`."""
    noop: list[str] = field(default_factory=list)
    """``drop_noops``' candidates, in node order."""
    fold: list[str] = field(default_factory=list)
    """``fold_scalar_constants``' candidates, in node order."""
    reducing: list[str] = field(default_factory=list)
    """``summarize_reducers``' candidates, in node order."""
    commutative: list[str] = field(default_factory=list)
    """``order_commutative``' candidates, in node order."""
    swapped: list[int] = field(default_factory=lambda: [0])
    """How many swaps :meth:`add` told the reader to make (NOTE [swaps made while
    lowering]); such a node is listed nowhere. (A byte per candidate, a set of ids and a
    map of ids to their producers were 1-2.2 MB at the peak of a 235k-instruction
    canonical load, and ``order_commutative`` visited each such node only to count it;
    issue 23.)"""
    summaries: dict[str, str | None] = field(default_factory=dict)
    """What ``summarize_reducers`` would find each computation of three nodes (two
    parameters and a binary op) to apply (:meth:`reducer`)."""
    changing: set[str] = field(default_factory=set)
    """The ids in :attr:`noop` and :attr:`fold`: the nodes a rule may remove or make a
    constant before ``order_commutative`` runs."""
    by_comp: dict[str, list[str]] = field(default_factory=dict)
    """Each computation's node ids, in node order (filled when the graph is whole): of
    every computation in optimized HLO, else of those that a node calls (the rules
    look up no other)."""
    lowered: list[str] = field(default_factory=list)
    """The entry computation's name, once the reader has filled these lists for its
    whole module (until then the rules walk the graph)."""
    dropped: dict[str, int] = field(default_factory=dict)
    """``drop_noops``' count of each kind (``drop_reshape``...) of the no-ops the reader
    left out (NOTE [no-ops dropped while lowering])."""

    def add(
        self,
        nid: str,
        d: dict[str, Any],
        ops: Any,
        local: dict[str, str],
        node: dict,
        outside: bool = False,
        early: bool = False,
    ) -> int:
        """List node ``nid`` (fields ``d``, operand names ``ops``) for the rules that visit it.

        The reader calls it before it builds the node's operand edges, and builds them
        as it says: :data:`KEEP` as written, :data:`SWAP` from the two operands in
        the other order (NOTE [swaps made while lowering]), :data:`DROP` not at all,
        the node left out (``early`` only; NOTE [no-ops dropped while lowering] in
        ``xlalens.ir.hlo._lower``). ``local``: the node id of each instruction name of
        its computation lowered so far; ``node``: the graph's node dicts (every
        operand is one already); ``outside``: the node is not in the entry
        computation, whose nodes alone ``assign_roles`` gives a role. ``early``: the
        reader may leave this node out, if it is a no-op that ``drop_noops`` would
        drop; it is counted in :attr:`dropped` and listed nowhere.

        NOTE: [candidates that cannot change] A rule visits more nodes than it
        changes; a node whose outcome is already known here is left out, which
        leaves the graph as it was (a rule that passes a node changes nothing).
        What an earlier rule can change of an operand: ``drop_noops`` replaces a
        dropped no-op by its operand, which has the same dtype and shape, so the
        dtype and shape a user sees stay (and two operands may become one, never
        one two); ``fold_scalar_constants`` turns its candidates into constants;
        ``summarize_reducers`` gives a reduce its ``reducer``; ``assign_roles`` gives
        entry parameters and the entry's results a role. No other rule changes an
        op or an operand before ``order_commutative``. So: a no-op whose operand's
        dtype or shape differs, or with other than one operand, is never dropped,
        nor one whose operand is final (no candidate of the first two rules) and
        that does not return it unchanged (:func:`returns_operand`: a bitcast or
        copy of optimized HLO that changes the layout); a scalar op with an operand
        that is neither a constant nor a candidate of those two rules never folds;
        a commutative op with other than two distinct operands never swaps. One
        whose operands are final is decided here when their sort keys are known
        now: their ops differ (the key's first field), or they are the same op,
        neither a constant (a literal) nor a reducer caller, outside the entry
        (no role), so that the key is the ops' dtype, shape and parameter number
        (the fused computations of optimized HLO: ``xor(convert, convert)``,
        ``add(p0, p1)``; but ``add(p1, p0)``, which may be a reducer removed before
        the rule's turn). On optimized HLO, where no no-op is dropped, these were
        nearly all the rules' visits (issue 23).
        """
        op = d["op"]
        if op in NOOP_OPS:
            if d["calls"] or type(ops) is not list or len(ops) != 1:
                return KEEP
            u = local.get(ops[0])
            if u is None or u == nid:
                return KEEP  # the reader rejects the module
            s = node[u]
            dtype = d["dtype"]
            if u not in self.changing:
                # An operand no rule changes before drop_noops: the test decides now.
                if not returns_operand(d, s, s["shape"]):
                    return KEEP
                if early:
                    key = "drop_" + op
                    self.dropped[key] = self.dropped.get(key, 0) + 1
                    return DROP
            # (Shapes are tuples in a graph the reader is building.)
            elif s["dtype"] != dtype or s["shape"] != d["shape"] or dtype == "tuple":
                return KEEP
            self.noop.append(nid)
            self.changing.add(nid)
            return KEEP
        if d["shape"] == () and foldable(d):  # (the shape first: most ops are arrays)
            changing = self.changing
            for name in ops if type(ops) is list else ():
                u = local.get(name)
                if u is None:
                    break
                if node[u]["op"] != "constant" and u not in changing:
                    break
            else:
                self.fold.append(nid)
                changing.add(nid)
        if op in REDUCING_OPS:
            self.reducing.append(nid)
        if op in COMMUTATIVE or swappable(d):
            if type(ops) is not list or len(ops) != 2:
                return KEEP
            u0 = local.get(ops[0])
            u1 = local.get(ops[1])
            if u0 is None or u1 is None or u0 == u1 or u0 == nid or u1 == nid:
                return KEEP  # (the reader rejects the last two)
            changing = self.changing
            if u0 not in changing and u1 not in changing:
                s0 = node[u0]
                s1 = node[u1]
                op0 = s0["op"]
                op1 = s1["op"]
                if op0 != op1:
                    swap = op1 < op0  # the key's first field decides
                elif outside and op0 != "constant" and op0 not in REDUCING_OPS:
                    # The rest of the key (``_canonical._operand_key``) with no role
                    # outside the entry, no literal and no reducer; a tie is kept.
                    p0 = s0["param_index"]
                    p1 = s1["param_index"]
                    swap = (s1["dtype"], s1["shape"], -1 if p1 is None else p1) < (
                        s0["dtype"],
                        s0["shape"],
                        -1 if p0 is None else p0,
                    )
                    if swap and op0 == "parameter":
                        # op(p1, p0) may be a reducer that summarize_reducers removes
                        # before the rule's turn, uncounted: the rule decides.
                        swap = None
                else:
                    swap = None  # the rule decides
                if swap is False:
                    return KEEP  # in order already, for good
                if swap:
                    # NOTE: [swaps made while lowering] Out of order for good: the
                    # reader builds the node's edges from its operands in the other
                    # order, which is order_commutative's end state (the swapped
                    # producer first, each record its new operand_index, the node in
                    # its place among both producers' successors: NOTE [successors
                    # in program order]), and the rule only counts it. Deciding on
                    # dicts gone cold since was two thirds of that rule's time on
                    # optimized HLO, and undoing the edges just built, a tenth of the
                    # canonical level's own (issue 23). No rule before it reads the
                    # operand order of such a node, nor removes it (neither operand is
                    # a no-op or a fold candidate, so it is no fold candidate, nor a
                    # dead operand of one; a reducer's op(p1, p0) is left to the
                    # rule); the loop trip counts (``_loops``) read add and EQ/NE
                    # compare operands in either order. Only
                    # ``canonicalize(copy=False, walks=...)`` may take a graph read
                    # with walks.
                    self.swapped[0] += 1
                    return SWAP
            self.commutative.append(nid)
        return KEEP

    def release(self) -> None:
        """Empty every list once the rules have read them (NOTE [the check at the load's
        peak] in ``xlalens.ir._validate``: the ids of a 156k-instruction module's
        candidates and computations were 3 MB there)."""
        for held in (self.noop, self.fold, self.reducing, self.commutative):
            held.clear()
        self.swapped[0] = 0
        for table in (
            self.summaries,
            self.changing,
            self.by_comp,
            self.lowered,
            self.dropped,
        ):
            table.clear()

    def reducer(
        self,
        comp: str,
        info: dict[str, Any],
        ids: list[str],
        node: dict,
        pred: dict,
    ) -> None:
        """Summarize computation ``comp`` of three nodes ``ids`` as ``_reducer_summary`` would.

        NOTE: [reducers summarized while lowering] Pre-optimization HLO from jax has a
        reducer computation per reduce (``p0, p1, add(p0, p1)``), and reading each one's
        nodes again at the rule's turn was a third of ``summarize_reducers``' time
        (issue 23). For two parameters and one binary op, nothing before that rule can
        change the answer: the op's operands are parameters, so it is no fold
        candidate, and no node of such a computation is a no-op. Other computations
        are left to the rule.
        """
        params = info["params"]
        if len(params) != 2:
            return
        body = [n for n in ids if n not in params]
        if len(body) != 1 or node[info["root"]]["op"] == "return":
            return
        core = body[0]
        d = node[core]
        if d["op"] not in REDUCER_BINARY or d["calls"]:
            return  # (no binary op: left to the rule)
        srcs = [u for _, u in sorted((k, u) for u, kd in pred[core].items() for k in kd)]
        self.summaries[comp] = reducer_op(d, srcs, params)


def candidates(
    g: nx.MultiDiGraph, walks: Walks | None = None
) -> tuple[list[str], list[str], list[str], list[str]]:
    """Each rule's candidates in node order, from one walk over the nodes.

    (drop_noops, fold_scalar_constants, summarize_reducers, order_commutative): the
    node ids each rule would select by its own walk at its turn (each rechecks
    what an earlier rule can change: a fold makes its node a constant, a removal
    takes a node away). One walk instead of four: each costs about 40 ms on a
    156k-instruction module (issue 23). ``walks``: the lists the HLO reader made
    of this very graph (:class:`Walks`), returned instead of a walk.
    """
    if walks is not None:
        return walks.noop, walks.fold, walks.reducing, walks.commutative
    noop: list[str] = []
    fold: list[str] = []
    reducing: list[str] = []
    commutative: list[str] = []
    scanned, noop_ops = SCANNED_OPS, NOOP_OPS
    for n, d in g._node.items():
        op = d["op"]
        if op not in scanned:
            continue
        if op in noop_ops:
            if not d["calls"]:
                noop.append(n)
        elif foldable(d):
            fold.append(n)
        if op in REDUCING_OPS:
            reducing.append(n)
        if op in COMMUTATIVE or op == "compare":
            commutative.append(n)
    return noop, fold, reducing, commutative
