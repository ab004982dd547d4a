"""Matching two xlalens graphs: exact structure, anchors + propagation, similarity.

The stages run in this order, each only on what the earlier ones left unmatched
(see docs/diff.md for the reasoning, summarized in the NOTE blocks below).

Everything here works on :class:`_Side`, a compact integer-indexed copy of one
graph (lists indexed by node number), because the networkx dict-of-dicts is too
slow to walk repeatedly on 20k-node modules. Node numbers follow the graph's
insertion order (program order), and every loop that can pick between several
candidates breaks ties by node number, so the result never depends on set or
dict iteration order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import networkx as nx

from xlalens.diff._flatten import _FlatPlan, count_edges, flatten_fusions, flatten_plan
from xlalens.diff._labels import (
    HIDDEN_ATTRS,
    IGNORED_ATTRS,
    SPMD_ATTRS,
    attrs_key,
    layout_key,
    node_label,
    spmd_key,
)
from xlalens.diff._match_cost import _edge_count, compact_cost
from xlalens.diff._match_dataflow import (
    DATAFLOW,
    HEAVY_MATCH,
    param_ancestors,
    phases,
    run_dataflow,
    run_io,
)
from xlalens.diff._match_similarity import (
    CROSS_OP_MIN_COMMON,
    CROSS_OP_MIN_DICE,
    LEAF_OPS,
    SIM_THRESHOLD,
    SIMILARITY,
    VALUE_OPS,
    similarity,
)
from xlalens.diff._side import Matching, _Side

__all__ = [
    "HIDDEN_ATTRS",
    "IGNORED_ATTRS",
    "MATCHERS",
    "SPMD_ATTRS",
    "Matcher",
    "Matching",
    "attrs_key",
    "count_edges",
    "flatten_fusions",
    "flatten_plan",
    "layout_key",
    "match",
    "node_label",
    "spmd_key",
]

# Ops that keep a value's elements in order (NOTE: [copies in propagation]): torch_xla
# reshapes a matmul's [34, 192] result to [2, 17, 192] where torchax's dot gives it.
RESHAPES = frozenset({"copy", "reshape", "bitcast"})
# Stage names recorded on each pair (documented in docs/diff.md).
EXACT, ANCHOR, PROPAGATION, LEFTOVER = ("exact", "anchor", "propagation", "leftover")


class _Matcher:
    """Holds both sides, the partial matching and the stage implementations."""

    def __init__(
        self,
        a: nx.MultiDiGraph,
        b: nx.MultiDiGraph,
        plans: tuple[_FlatPlan | None, _FlatPlan | None] = (None, None),
    ) -> None:
        interner: dict = {}
        memo: dict[str, str] = {}
        self.A = _Side(a, interner, plans[0], memo)
        self.B = _Side(b, interner, plans[1], memo)
        self.ma = [-1] * len(self.A.ids)
        self.mb = [-1] * len(self.B.ids)
        self.stage_of: dict[int, str] = {}
        # Until the dataflow stage has run, propagation leaves dots/convolutions to
        # it (NOTE: [dataflow evidence]): one shared operand cannot tell a forward
        # op from its remat recomputation, and the first claim would stick.
        self.defer_heavy = False
        # fwd / bwd / remat of each dot/convolution: no stage pairs two that differ.
        (self.phase_a, self.fwd_a), (self.phase_b, self.fwd_b) = phases(self.A), phases(self.B)
        self.calls_a, self.calls_b = self.A.calls, self.B.calls
        hashes: dict = {}
        self.ha, self.sa = self._fingerprints(self.A, self.calls_a, hashes)
        self.hb, self.sb = self._fingerprints(self.B, self.calls_b, hashes)
        # Paired entry parameters each node depends on (leftovers' heavy ops only;
        # built on first use, after the anchors paired the parameters).
        self._anc: tuple[list[int], list[int]] | None = None
        ea = self.A.entry_comp()
        self._entry_params_a = frozenset(self.A.comp_params[ea] if ea >= 0 else ())

    # ------------------------------------------------------------------ stage 1
    # NOTE: [exact structure by hash-consing]
    # A node's fingerprint is the id of the tuple (label, parameter key, operand
    # fingerprints by position, fingerprints of the called computations' roots)
    # in one interning table shared by both graphs. Equal ids mean equal
    # subgraphs (no hash collisions, unlike a digest), and the ids are handed
    # out in node order so they are deterministic. Capture operands (a region
    # reading an outer value) contribute only their label, which keeps the
    # computation of callee fingerprints independent of the caller. A parameter
    # is keyed by its role when it has one, else by its number, so that `w`
    # passed first by one framework and third by another still roots equal
    # subgraphs (the pair then reports the param_index change).
    def _fingerprints(self, side: _Side, calls: list[list[int]], table: dict):
        n = len(side.ids)
        h = [-1] * n
        size = [0] * n
        state = [0] * n  # 0 new, 1 on stack, 2 done
        operands, capture, label = side.operands, side.operand_capture, side.label
        roots = side.comp_root
        cap = 1 << 40

        def deps(i: int) -> list[int]:
            out = [u for u, c in zip(operands[i], capture[i]) if not c]
            for c in calls[i]:
                r = roots[c]
                if r >= 0:
                    out.append(r)
            return out

        # The parameter key of each node, from its label (role and number as the
        # node has them): the labels are compact tuples, the node dicts a pass
        # over memory (NOTE: [one walk over the node dicts] in _side.py).
        pkeys = [
            None if lab[7] is None else lab[6] if lab[6] is not None else lab[7]
            for lab in side.full_label
        ]

        def compute(node: int) -> None:
            pkey = pkeys[node]
            ops = tuple(
                [
                    (-label[u] - 1) if c or state[u] != 2 else h[u]
                    for u, c in zip(operands[node], capture[node])
                ]
            )
            s = 1
            for u, c in zip(operands[node], capture[node]):
                if not c:
                    s += size[u]
            callee: tuple = ()
            if calls[node]:
                callee = tuple(
                    h[roots[c]] if roots[c] >= 0 and state[roots[c]] == 2 else -1
                    for c in calls[node]
                )
                for c in calls[node]:
                    if roots[c] >= 0:
                        s += size[roots[c]]
            h[node] = table.setdefault((label[node], pkey, ops, callee), len(table))
            size[node] = s if s < cap else cap
            state[node] = 2

        getsize = size.__getitem__
        # A plain node has no callee and no capture operand: its dependencies are
        # its operands, and compute() reduces to the few lines of fast() below.
        plain = [not c and not any(cp) for c, cp in zip(calls, capture)]

        def fast(node: int) -> bool:
            """compute() of a plain node whose operands are all done (else False):
            h[u] is -1 exactly while u is not done. The same key as compute()'s."""
            ops = tuple([h[u] for u in operands[node]])
            if -1 in ops:
                return False
            h[node] = table.setdefault((label[node], pkeys[node], ops, ()), len(table))
            s = 1 + sum(map(getsize, operands[node]))
            size[node] = s if s < cap else cap
            state[node] = 2
            return True

        for start in range(n):
            if state[start]:
                continue
            # Fast path: program order usually defines operands before their use.
            if plain[start]:
                if fast(start):
                    continue
            elif all(state[x] == 2 for x in deps(start)):
                compute(start)
                continue
            # Depth first, each node computed after its dependencies (in the same
            # order whichever path computes it: the ids are handed out in that order).
            stack = [(start, iter(operands[start] if plain[start] else deps(start)))]
            state[start] = 1
            while stack:
                node, it = stack[-1]
                for x in it:
                    if state[x] == 0:
                        state[x] = 1
                        stack.append((x, iter(operands[x] if plain[x] else deps(x))))
                        break
                else:
                    stack.pop()
                    if not (plain[node] and fast(node)):
                        compute(node)
        return h, size

    def agree(self, a: int, b: int) -> bool:
        """Whether ``a``, ``b`` may pair: not two dots/convolutions of different phases."""
        pa, pb = self.phase_a[a], self.phase_b[b]
        return pa is None or pb is None or pa == pb

    def _pair(self, a: int, b: int, stage: str) -> None:
        if self._anc is not None and a in self._entry_params_a:
            self._anc = None  # a newly paired entry parameter: recount the dependencies
        self.ma[a] = b
        self.mb[b] = a
        self.stage_of[a] = stage

    def match_cone(self, a: int, b: int, stage: str) -> list[tuple[int, int]]:
        """Pair two equal-fingerprint nodes and, positionally, everything below them."""
        new = []
        stack = [(a, b)]
        A, B = self.A, self.B
        # agree() and _pair() inlined (the cone of a large module is most of it).
        ma, mb, ha, hb = self.ma, self.mb, self.ha, self.hb
        phase_a, phase_b, stage_of = self.phase_a, self.phase_b, self.stage_of
        params_a = self._entry_params_a
        a_ops, b_ops, a_cap = A.operands, B.operands, A.operand_capture
        calls_a, calls_b = self.calls_a, self.calls_b
        while stack:
            x, y = stack.pop()
            if ma[x] >= 0 or mb[y] >= 0 or ha[x] != hb[y]:
                continue
            pa, pb = phase_a[x], phase_b[y]
            if pa is not None and pb is not None and pa != pb:
                continue
            if self._anc is not None and x in params_a:
                self._anc = None  # as _pair: recount the dependencies
            ma[x] = y
            mb[y] = x
            stage_of[x] = stage
            new.append((x, y))
            for u, v, c in zip(a_ops[x], b_ops[y], a_cap[x]):
                if not c:
                    stack.append((u, v))
            if calls_a[x]:
                for ca, cb in zip(calls_a[x], calls_b[y]):
                    ra, rb = A.comp_root[ca], B.comp_root[cb]
                    if ra >= 0 and rb >= 0:
                        stack.append((ra, rb))
                    stack.extend(zip(A.comp_params[ca], B.comp_params[cb]))
        return new

    def exact(self) -> None:
        """Stage 1: identical subgraphs whose fingerprint is unique on both sides, largest first."""
        # Each fingerprint's first node per side, and all of them where it has several
        # (most fingerprints occur once: no list per node).
        first_a: dict[int, int] = {}
        more_a: dict[int, list[int]] = {}
        for i, h in enumerate(self.ha):
            j = first_a.setdefault(h, i)
            if j != i:
                more_a.setdefault(h, [j]).append(i)
        first_b: dict[int, int] = {}
        more_b: dict[int, list[int]] = {}
        for i, h in enumerate(self.hb):
            if h in first_a:
                j = first_b.setdefault(h, i)
                if j != i:
                    more_b.setdefault(h, [j]).append(i)
        # Largest first, then by fingerprint (unique: the order is total); sorted as
        # (size, fingerprint) tuples without a key function per fingerprint.
        common = [h for h in first_a if h in first_b]
        sa = self.sa
        common = [h for _, h in sorted(zip([-sa[first_a[h]] for h in common], common))]
        ma, mb = self.ma, self.mb
        for h in common:
            if h not in more_a and h not in more_b:
                x, y = first_a[h], first_b[h]
                if ma[x] < 0 and mb[y] < 0:
                    self.match_cone(x, y, EXACT)
                continue
            la = [x for x in more_a.get(h, (first_a[h],)) if ma[x] < 0]
            lb = [y for y in more_b.get(h, (first_b[h],)) if mb[y] < 0]
            if len(la) == 1 and len(lb) == 1:
                self.match_cone(la[0], lb[0], EXACT)

    # ------------------------------------------------------------------ stage 2
    # NOTE: [anchors]
    # Frameworks order and name their arguments differently (torch_xla passes the
    # learning rate as an argument; Keras adds an iteration counter), so entry
    # parameters are paired by the role the canonical level gave them first, by
    # position only when dtype and shape agree, and results by position in the
    # root tuple / return. Every other role-named node is paired by its role.
    def anchors(self) -> list[tuple[int, int]]:
        """Stage 2a: entry parameters by role then position, roots and results by position."""
        A, B = self.A, self.B
        new: list[tuple[int, int]] = []

        def pair(x: int, y: int) -> None:
            if self.ma[x] < 0 and self.mb[y] < 0:
                if self.ha[x] == self.hb[y]:
                    new.extend(self.match_cone(x, y, ANCHOR))
                else:
                    self._pair(x, y, ANCHOR)
                    new.append((x, y))

        # Roles: parameters and other nodes separately (the update of `w` is also
        # named `w`), each role unique on both sides.
        def by_role(side: _Side, matched: list[int]) -> dict:
            return _unique_by(
                (i for i, r in enumerate(side.role) if r is not None and matched[i] < 0),
                lambda i: (side.data[i]["param_index"] is not None, side.role[i]),
            )

        ra, rb = by_role(A, self.ma), by_role(B, self.mb)
        for key in sorted(set(ra) & set(rb)):
            # A role names a value, not how it is computed: torch's SGD momentum
            # buffer is the gradient itself on the first step (its role sits on the
            # weight-gradient dot), Keras's is an elementwise update. A dot or
            # convolution pairs with another only (NOTE: [dataflow evidence]).
            if (A.op[ra[key]] in HEAVY_MATCH) == (B.op[rb[key]] in HEAVY_MATCH):
                pair(ra[key], rb[key])
        ea, eb = A.entry_comp(), B.entry_comp()
        if ea < 0 or eb < 0:
            return new
        pa = [p for p in A.comp_params[ea] if self.ma[p] < 0]
        pb = [p for p in B.comp_params[eb] if self.mb[p] < 0]
        for x, y in zip(pa, pb):
            if A.data[x]["param_index"] == B.data[y]["param_index"] and (
                A.dtype[x],
                A.shape[x],
            ) == (
                B.dtype[y],
                B.shape[y],
            ):
                pair(x, y)
        ua = _unique_by((p for p in pa if self.ma[p] < 0), lambda i: (A.dtype[i], A.shape[i]))
        ub = _unique_by((p for p in pb if self.mb[p] < 0), lambda i: (B.dtype[i], B.shape[i]))
        for key in sorted(set(ua) & set(ub), key=repr):
            pair(ua[key], ub[key])
        rta, rtb = A.comp_root[ea], B.comp_root[eb]
        if rta >= 0 and rtb >= 0:
            pair(rta, rtb)
            if A.op[rta] in ("tuple", "return") and B.op[rtb] in ("tuple", "return"):
                for x, y in zip(A.operands[rta], B.operands[rtb]):
                    # Same position alone is no evidence: the op must agree too.
                    if A.op[x] == B.op[y] and (
                        A.op[x] not in VALUE_OPS or self.ha[x] == self.hb[y]
                    ):
                        pair(x, y)
        return new

    def _sole_difference(self, a: int, b: int, u: int, v: int, depth: int = 0) -> bool:
        """Constants ``u``, ``v`` of a pair ``(a, b)`` are its only difference.

        The users have equal labels, the constants equal dtype and shape, every
        other operand position roots identical subgraphs, and the users' own
        users are already paired with each other with equal labels: then the
        value changed in an otherwise equal context (a learning rate edited),
        which is a changed constant, not two unrelated ones. A user that reads
        only the constant (a broadcast of it) passes the question on to its own
        users, up to 4 levels.
        """
        A, B = self.A, self.B
        if A.label[a] != B.label[b] or (A.dtype[u], A.shape[u]) != (B.dtype[v], B.shape[v]):
            return False
        ua, ub = A.users[a], B.users[b]
        if len(ua) != len(ub) or (
            not ua and (A.comp_root[A.comp[a]] != a or B.comp_root[B.comp[b]] != b)
        ):
            return False
        partners = {w: pos for w, pos in ub}
        through = len(A.operands[a]) == 1
        if through and depth >= 4:
            return False
        for w, pos in ua:
            wb = self.ma[w]
            if wb < 0 or partners.get(wb) != pos or A.label[w] != B.label[wb]:
                return False
            if through and not self._sole_difference(w, wb, a, b, depth + 1):
                return False
        if len(A.operands[a]) != len(B.operands[b]):
            return False
        for x, y in zip(A.operands[a], B.operands[b]):
            if (x, y) != (u, v) and self.ha[x] != self.hb[y]:
                return False
        return True

    # NOTE: [propagation]
    # From every pair, operands at the same position with the same op are paired
    # (top-down), and users reached through the same operand position are paired
    # when exactly one unpaired user with that op exists on each side (bottom-up).
    # A called computation of a pair is paired root-to-root and
    # parameter-by-index. This is what lets a change in one op leave its
    # ancestors and descendants paired although their fingerprints differ.
    def propagate(self, work: list[tuple[int, int]]) -> None:
        """Stage 2b: top-down and bottom-up propagation from ``work`` until nothing changes."""
        A, B = self.A, self.B
        ma, mb = self.ma, self.mb
        stack = list(reversed(work))
        while stack:
            a, b = stack.pop()
            found: list[tuple[int, int]] = []
            for u, v in zip(A.operands[a], B.operands[b]):
                if ma[u] < 0 and mb[v] < 0 and self.agree(u, v):
                    if self.ha[u] == self.hb[v]:
                        found.extend(self.match_cone(u, v, PROPAGATION))
                    elif (
                        A.op[u] == B.op[v]
                        and not (self.defer_heavy and A.op[u] in HEAVY_MATCH)
                        and (A.op[u] not in VALUE_OPS or self._sole_difference(a, b, u, v))
                        and (A.op[u] not in HEAVY_MATCH or self._same_params(u, v))
                    ):
                        self._pair(u, v, PROPAGATION)
                        found.append((u, v))
            for ca, cb in zip(self.calls_a[a], self.calls_b[b]):
                ra, rb = A.comp_root[ca], B.comp_root[cb]
                cand = [(ra, rb)] if ra >= 0 and rb >= 0 else []
                cand.extend(zip(A.comp_params[ca], B.comp_params[cb]))
                for u, v in cand:
                    if ma[u] < 0 and mb[v] < 0 and (A.op[u] == B.op[v]):
                        if self.ha[u] == self.hb[v]:
                            found.extend(self.match_cone(u, v, PROPAGATION))
                        elif A.op[u] not in VALUE_OPS and (
                            A.op[u] not in HEAVY_MATCH or self._same_params(u, v)
                        ):
                            self._pair(u, v, PROPAGATION)
                            found.append((u, v))
            ua, ub = A.users[a], B.users[b]
            # NOTE: [copies in propagation] One side may read a value through
            # an entry `copy` (TensorFlow copies its arguments in optimized
            # HLO) where the other reads it directly: bottom-up, the users of
            # such an unpaired copy count as users of the value, when the other
            # side has no unpaired copy there. The copy itself stays unpaired.
            ca = any(A.op[w] in RESHAPES and ma[w] < 0 for w, _ in ua)
            cb = any(B.op[w] in RESHAPES and mb[w] < 0 for w, _ in ub)
            if ca != cb:
                if ca:
                    ua = _through_copies(A, ma, ua)
                else:
                    ub = _through_copies(B, mb, ub)
            if ua and ub:
                ga: dict[tuple[str, int], list[int]] = {}
                for w, pos in ua:
                    if ma[w] < 0:
                        ga.setdefault((A.op[w], pos), []).append(w)
                if ga:
                    gb: dict[tuple[str, int], list[int]] = {}
                    for w, pos in ub:
                        if mb[w] < 0:
                            gb.setdefault((B.op[w], pos), []).append(w)
                    for key, xs in ga.items():
                        ys = gb.get(key)
                        if not ys:
                            continue
                        if len(xs) > 1 or len(ys) > 1:
                            # Several users with that op (a weight read by the
                            # forward dot and by the input-gradient dot): the
                            # one user of each dtype and shape on both sides.
                            ta = _unique_by(xs, lambda i: (A.dtype[i], A.shape[i]))
                            tb = _unique_by(ys, lambda i: (B.dtype[i], B.shape[i]))
                            cand = [(ta[t], tb[t]) for t in ta if t in tb]
                            # Else the one with that whole label (attributes too):
                            # the q, k and v slices of one fused projection.
                            la = _unique_by(xs, lambda i: A.label[i])
                            lb = _unique_by(ys, lambda i: B.label[i])
                            cand += [(la[t], lb[t]) for t in la if t in lb]
                        else:
                            cand = [(xs[0], ys[0])]
                        for x, y in cand:
                            if (
                                ma[x] < 0
                                and mb[y] < 0
                                and not (self.defer_heavy and A.op[x] in HEAVY_MATCH)
                                and self.agree(x, y)
                                # Bottom-up, one shared operand is thin evidence:
                                # the user's type must agree too (NOTE: [evidence]).
                                and (A.dtype[x], A.shape[x]) == (B.dtype[y], B.shape[y])
                                and (A.op[x] not in HEAVY_MATCH or self._same_params(x, y))
                            ):
                                self._pair(x, y, PROPAGATION)
                                found.append((x, y))
            stack.extend(reversed(found))

    # NOTE: [leftovers]
    # Nodes still unpaired after similarity have no paired neighbour that
    # vouches for them. Two of them are paired only when they are structurally
    # identical (same fingerprint), or when they are ops with operands (not
    # LEAF_OPS) of the same op, dtype and shape in a pair of computations whose
    # callers (or entries) are paired, in program order. A constant or a
    # parameter needs its fingerprint (equal literal) or its role: two
    # different constants are an added and a removed constant, not a "changed
    # literal" (issue 11). Anything else is reported as added/removed, which is
    # the honest answer (NOTE: [evidence]).
    def leftovers(self) -> None:
        """Stage 4: same-fingerprint, then same op/dtype/shape non-leaf nodes in paired computations."""
        A, B = self.A, self.B
        comp_pair = self._computation_pairs()
        new: list[tuple[int, int]] = []
        for typed, key_a, key_b in (
            (False, lambda i: self.ha[i], lambda i: self.hb[i]),
            (
                True,
                lambda i: (A.op[i], A.dtype[i], A.shape[i], self.phase_a[i]),
                lambda i: (B.op[i], B.dtype[i], B.shape[i], self.phase_b[i]),
            ),
        ):
            gb: dict[Any, list[int]] = {}
            for j in range(len(B.ids)):
                if self.mb[j] < 0 and not (typed and B.op[j] in LEAF_OPS):
                    gb.setdefault((B.comp[j], key_b(j)), []).append(j)
            for i in range(len(A.ids)):
                if self.ma[i] >= 0:
                    continue
                cb = comp_pair.get(A.comp[i])
                if cb is None:
                    continue
                ys = gb.get((cb, key_a(i)))
                while ys and self.mb[ys[0]] >= 0:
                    ys.pop(0)
                if ys and typed and A.op[i] in HEAVY_MATCH:
                    # In program order, but never two dots/convolutions that depend on
                    # different paired parameters (two layers' score matmuls, where XLA
                    # laid the layers' fusions out in another order).
                    ok = [y for y in ys if self.mb[y] < 0 and self._same_params(i, y)]
                    if not ok:
                        continue
                    ys.remove(ok[0])
                    ys.insert(0, ok[0])
                if ys:
                    y = ys.pop(0)
                    if self.ha[i] == self.hb[y]:
                        new.extend(self.match_cone(i, y, LEFTOVER))
                    else:
                        self._pair(i, y, LEFTOVER)
                        new.append((i, y))
            if new:
                self.propagate(new)
                new = []

    def _same_params(self, a: int, b: int) -> bool:
        """Whether ``a`` and ``b`` depend on the same paired entry parameters (either
        depending on none: no evidence either way).

        NOTE: [same parameters] Where a dot/convolution pairs on weaker evidence than
        an identical subgraph (propagation from a neighbour, program order in the
        leftovers), the partner must read the same paired weights and inputs,
        through any number of ops: two layers' score matmuls look alike to their
        neighbours, but one depends on layer 1's query kernel and the other not.
        """
        if self._anc is None:
            pa = sorted(p for p in self._entry_params_a if self.ma[p] >= 0)
            bits = {p: 1 << i for i, p in enumerate(pa)}
            self._anc = (
                param_ancestors(self.A, bits),
                param_ancestors(self.B, {self.ma[p]: bit for p, bit in bits.items()}),
            )
        x, y = self._anc[0][a], self._anc[1][b]
        return not x or not y or x == y

    def _computation_pairs(self) -> dict[int, int]:
        """Computation of A -> computation of B, from entries and paired callers."""
        A, B = self.A, self.B
        out: dict[int, int] = {}
        ea, eb = A.entry_comp(), B.entry_comp()
        if ea >= 0 and eb >= 0:
            out[ea] = eb
        for a in range(len(A.ids)):
            b = self.ma[a]
            if b >= 0:
                for ca, cb in zip(self.calls_a[a], self.calls_b[b]):
                    out.setdefault(ca, cb)
        return out

    def labels(self) -> tuple[dict[str, tuple], dict[str, tuple]]:
        """``node_label`` of every node the sides hold, by node id (reused by edit_cost)."""
        return (
            dict(zip(self.A.ids, self.A.full_label)),
            dict(zip(self.B.ids, self.B.full_label)),
        )

    def result(self, *, cost: bool = True) -> Matching:
        """Freeze the matching into a :class:`Matching` (``edit_cost`` -1 unless ``cost``)."""
        A, B = self.A, self.B
        pairs = tuple(
            [(A.ids[a], B.ids[b], self.stage_of[a]) for a, b in enumerate(self.ma) if b >= 0]
        )
        only_a = tuple(A.ids[a] for a, b in enumerate(self.ma) if b < 0)
        only_b = tuple(B.ids[b] for b, a in enumerate(self.mb) if a < 0)
        return Matching(
            pairs=pairs,
            only_a=only_a,
            only_b=only_b,
            edit_cost=self.cost() if cost else -1,
            edges=(A.n_edges, B.n_edges),
            labels=self.labels(),
        )

    def cost(self) -> int:
        """The edit cost of the current matching, on the compact sides (same rules as _cost)."""
        return compact_cost(self.A, self.B, self.ma, self.mb)


def _through_copies(side: _Side, m: list[int], users: list[tuple[int, int]]) -> list:
    """``users`` with each unpaired ``copy`` replaced by its own users (NOTE: [copies in propagation])."""
    out: list[tuple[int, int]] = []
    for w, pos in users:
        if side.op[w] in RESHAPES and m[w] < 0:
            out.extend(side.users[w])
        else:
            out.append((w, pos))
    return out


def _unique_by(items, key) -> dict:
    """key -> item for keys that occur exactly once among ``items``."""
    seen: dict = {}
    dup = set()
    for i in items:
        k = key(i)
        if k in seen:
            dup.add(k)
        else:
            seen[k] = i
    return {k: v for k, v in seen.items() if k not in dup}


@dataclass(frozen=True, slots=True)
class Matcher:
    """One matching stage, run by :func:`match` from :data:`MATCHERS` in order."""

    name: str
    """Stage name recorded on the pairs it makes (``exact``, ``anchor``, ...)."""
    evidence: str
    """What a pair made by this stage rests on (shown in docs/diff.md)."""
    run: Any
    """``run(matcher_state)``: pairs what it can among the still-unpaired nodes."""


def _run_anchor(m: _Matcher) -> None:
    m.defer_heavy = True
    m.propagate(m.anchors())
    # Exact pairs propagate too: their users may differ only slightly. A pair pairs
    # nothing unless A's side has an unpaired operand, user, or callee root or
    # parameter; pairing only ever adds, so a pair without one now finds none when
    # its turn comes. Those are left out (in a module against its next version,
    # nearly all of them); the others keep their order, so the result is the same.
    A, ma = m.A, m.ma
    near = bytearray(len(ma))
    for u, y in enumerate(ma):
        if y < 0:
            for x in A.operands[u]:
                near[x] = 1
            for w, _ in A.users[u]:
                near[w] = 1
    for x, calls in enumerate(m.calls_a):
        if calls:  # callers, whatever their callees' state (few nodes)
            near[x] = 1
    m.propagate([(x, y) for x, y in enumerate(ma) if y >= 0 and near[x]])


def _run_dataflow(m: _Matcher) -> None:
    run_dataflow(m)
    m.defer_heavy = False


def _run_similarity(m: _Matcher) -> None:
    similarity(m)
    # Similarity pairs the neighbours of dots/convolutions that no dataflow key
    # reached; their in/out keys may now be complete (NOTE: [dataflow evidence]).
    run_io(m)


def _run_leftovers(m: _Matcher) -> None:
    m.leftovers()
    run_io(m)  # the same, for neighbours the leftover stage paired


# NOTE: [evidence]
# Every pair rests on evidence (issue 11: "precision over coverage"): an
# identical subgraph, a role, a program-interface position with equal op or
# type, structure reached from a pair (same op at the same operand position),
# or neighbourhood similarity above SIM_THRESHOLD; pairs of different ops need
# CROSS_OP_MIN_COMMON paired neighbours and CROSS_OP_MIN_DICE, and leaf ops
# (LEAF_OPS) never change op. Everything else stays unpaired.
MATCHERS: tuple[Matcher, ...] = (
    Matcher(EXACT, "identical subgraph, fingerprint unique on both sides", _Matcher.exact),
    Matcher(
        ANCHOR,
        "same role; entry parameter position with equal dtype and shape; root tuple "
        "position with equal op; then propagation (same op at the same operand position)",
        _run_anchor,
    ),
    Matcher(
        DATAFLOW,
        "dots and convolutions: the same paired parameters read through layout-only ops, "
        "or the same paired results fed, and the same number of output elements; unique "
        "on both sides (NOTE: [dataflow evidence])",
        _run_dataflow,
    ),
    Matcher(
        SIMILARITY,
        f"neighbourhood score >= {SIM_THRESHOLD}; other op: >= {CROSS_OP_MIN_COMMON} paired "
        f"neighbours and Dice >= {CROSS_OP_MIN_DICE}",
        _run_similarity,
    ),
    Matcher(
        LEFTOVER,
        "same fingerprint, or the only unpaired node with that op/dtype/shape in paired "
        "computations",
        _run_leftovers,
    ),
)
"""The matching stages, in the order :func:`match` runs them."""


def match(
    a: nx.MultiDiGraph,
    b: nx.MultiDiGraph,
    *,
    stages: tuple[str, ...] | None = None,
    flatten: tuple[bool, bool] = (False, False),
    cost: bool = True,
) -> Matching:
    """Run the matching stages on two graphs.

    Args:
        a: the left graph (xlalens schema).
        b: the right graph.
        stages: subset of ``("exact", "anchor", "similarity", "leftover")`` to run
            (propagation always follows anchors and similarity; the ``dataflow``
            stage runs with ``anchor``); ``None`` runs all.
        flatten: whether to match A, B in the form :func:`flatten_fusions` gives
            (for diffs across IR levels); the hidden nodes are unpaired, and the
            edit cost is then the one of the original graphs.
        cost: compute the edit cost (``edit_cost`` is -1 when false; the caller
            prices its final pairing itself).

    Returns:
        The :class:`Matching`.

    Example:
        >>> m = match(g1, g2)  # doctest: +SKIP
    """
    run = set(stages or (EXACT, ANCHOR, DATAFLOW, SIMILARITY, LEFTOVER))
    if stages is not None and ANCHOR in run:
        run.add(DATAFLOW)  # part of the anchor evidence: it reads the anchored parameters
    plans = (
        flatten_plan(a) if flatten[0] else None,
        flatten_plan(b) if flatten[1] else None,
    )
    m = _Matcher(a, b, plans)
    for matcher in MATCHERS:
        if matcher.name in run:
            matcher.run(m)
    if not any(flatten):
        return m.result(cost=cost)
    # _cost imports this module (node_label), hence the late import.
    from xlalens.diff._cost import edit_cost

    inner = m.result(cost=False)
    pairs = inner.pairs
    paired_a = {x for x, _, _ in pairs}
    paired_b = {y for _, y, _ in pairs}
    labels = m.labels()
    return Matching(
        pairs=pairs,
        only_a=tuple(n for n in a if n not in paired_a),
        only_b=tuple(n for n in b if n not in paired_b),
        edit_cost=edit_cost(a, b, [(x, y) for x, y, _ in pairs], labels=labels) if cost else -1,
        edges=(_edge_count(m.A, a, plans[0]), _edge_count(m.B, b, plans[1])),
        labels=labels,
    )
