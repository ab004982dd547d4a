"""The dataflow matcher: dots and convolutions paired by what they read and what they feed.

NOTE: [dataflow evidence]
Two frameworks spell the same layer differently: NHWC against NCHW
convolutions with transposes around them, a 1x1 convolution that TensorFlow
rewrites as a dot, a weight gradient as a convolution or as a dot with the
batch as its contracting dimension. Neighbourhood similarity cannot see
through such spellings, and same-shape matmuls pair crosswise (GPT-2's weight
gradients with AdamW's multiplies of the same shape, issue 21). The operation
itself is fixed by its data, so after the anchors (which pair the parameters by
role and the updated results) each unpaired dot or convolution gets a key:

- ``reads``: the paired entry parameters it reads through layout-only ops
  (transpose, reshape, bitcast, convert, copy, broadcast) and its number of
  output elements; where that is not unique (a square layer's forward op and
  input gradient), whether the paired loss depends on it (the forward op);
- ``feeds``: when it reads no parameter, the paired results (the parameters'
  updates and optimizer state) that depend on it, and its number of output
  elements: a weight gradient feeds its own parameter's update chain only.

A key unique among the unpaired dots and convolutions of both sides pairs them
(the op may differ: a convolution with a dot), and propagation continues from
the pair. Then, in rounds while pairs are found, the dots and convolutions still
unpaired get two more keys from their paired neighbourhood (issue 21):

- ``in``: the paired producers of its operands, seen through layout-only ops,
  parameters left out (those are ``reads``), and its number of output elements:
  attention's score and value matmuls and their gradients read no weight, and
  all have one shape, but each reads its own pair of values;
- ``out``: the paired consumers it feeds through layout-only ops: an op that
  reads a weight one framework passes under a second name (GPT-2's tied output
  projection on torch_xla) is still the op whose result the loss reads.

Each needs every such neighbour paired (one unpaired producer or consumer and
the op is not keyed that way), so a partial neighbourhood never decides.
Nothing else is keyed, so a dot never pairs with an elementwise op here, and
the similarity stage allows a dot or convolution to change op only into a dot
or convolution.
"""

from __future__ import annotations

from collections import deque
from math import prod
from typing import Any

import numpy as np

from xlalens.ir._ops import HEAVY_OPCODES, LAYOUT_ONLY_OPCODES

DATAFLOW = "dataflow"
"""Stage name recorded on the pairs this matcher makes."""
HEAVY_MATCH = HEAVY_OPCODES
"""Ops keyed by their dataflow (StableHLO and HLO spellings; the op table's)."""
LAYOUT_ONLY = LAYOUT_ONLY_OPCODES
"""Ops that only move or retype a value: a weight read through them is still read."""
BARRIER = "opt-barrier"
"""jax's remat passes values through an optimization barrier: its result i is its operand i."""
IO_ROUNDS = 4
"""Rounds of ``in``/``out`` keys (each round's pairs make the next round's evidence)."""
MAX_REACH = 20000
"""Nodes a ``feeds`` search visits at most (bounds the stage on very large modules)."""


def _entry_params(side: Any) -> set[int]:
    ec = side.entry_comp()
    return set(side.comp_params[ec]) if ec >= 0 else set()


def _is_result(side: Any, i: int) -> bool:
    return side.role[i] is not None and side.data[i]["param_index"] is None


def _reach(side: Any, n: int, results: set[int], to_a: Any) -> tuple[set[int], bool]:
    """The paired results that depend on ``n`` (as A's node numbers), and whether the
    search finished within :data:`MAX_REACH` nodes."""
    reached: set[int] = set()
    visited = {n}
    q = deque([n])
    while q and len(visited) < MAX_REACH:
        x = q.popleft()
        if x in results:
            reached.add(to_a(x))
            continue
        for w, _ in side.users[x]:
            if w not in visited:
                visited.add(w)
                q.append(w)
    return reached, len(visited) < MAX_REACH


def _reach_all(
    side: Any, starts: list[int], results: set[int], to_a: Any
) -> dict[int, tuple[set[int], bool]]:
    """:func:`_reach` of each of ``starts``, with the searches sharing their work.

    NOTE: [shared reach searches] On a deep module every unpaired dot of an early
    layer reaches :data:`MAX_REACH` nodes, and one search each cost 90% of a 156k-node
    diff. A search's outcome depends only on the full set of nodes it would visit
    (expansion stops at ``results``): it is complete exactly when that set is
    smaller than MAX_REACH, and then ``reached`` is every result in it. A non-result
    node ``x`` met on the way is expanded, so everything ``x``'s own search visits
    is visited too. The starts are searched last to first (program order puts users
    after their operands), and a search that meets a start already searched
    either stops (that one was incomplete: so is this one) or takes its visited
    set and results whole (it was complete) instead of walking them again; visited
    sets are one byte per node, so taking one is a vectorized OR. The
    outcome is the one :func:`_reach` gives, except that an incomplete search
    returns no results (the caller reads them only from complete searches).
    """
    out: dict[int, tuple[set[int], bool]] = {}
    incomplete: set[int] = set()
    # The most recent complete searches (bounded: each holds one byte per node).
    done: dict[int, tuple[np.ndarray, set[int]]] = {}
    users = side.users
    size = len(users)
    for n in sorted(starts, reverse=True):
        reached: set[int] = set()
        # One byte per node (a visited mark): taking an earlier search's visited
        # set whole is then one vectorized OR, not one set insertion per node.
        mark = bytearray(size)
        marks = np.frombuffer(mark, dtype=np.uint8)
        mark[n] = 1
        count = 1
        q = deque([n])
        stopped = False
        while q and count < MAX_REACH:
            x = q.popleft()
            if x in results:
                reached.add(to_a(x))
                continue
            if x != n:
                if x in incomplete:
                    stopped = True
                    break
                known = done.get(x)
                if known is not None:
                    np.bitwise_or(marks, known[0], out=marks)
                    count = int(np.count_nonzero(marks))
                    reached |= known[1]
                    continue
            for w, _ in users[x]:
                if not mark[w]:
                    mark[w] = 1
                    count += 1
                    q.append(w)
        if stopped or count >= MAX_REACH:
            incomplete.add(n)
            out[n] = (set(), False)
        else:
            out[n] = (reached, True)
            if n not in results:
                done[n] = (marks.copy(), reached)
                if len(done) > _SHARED_SEARCHES:
                    del done[next(iter(done))]
    return out


_SHARED_SEARCHES = 64
"""Complete searches :func:`_reach_all` keeps for the searches after them."""


def _through_barrier(side: Any, x: int, user: int) -> list[int]:
    """The operands of barrier ``x`` whose results ``user`` reads (result i is operand i)."""
    edges = side.graph._pred[side.ids[user]].get(side.ids[x], {})
    want = {e.get("result_index") for e in edges.values()} - {None}
    return [u for u, k in zip(side.operands[x], side.operand_keys[x]) if k in want]


def _after_seed(side: Any, loss: int | None) -> set[int]:
    """Nodes that depend on the loss's own inputs: the entry parameters the loss reads
    through other ops than dots/convolutions (the labels, the output bias). The
    loss's gradient starts from them, so every input or weight gradient depends on
    them; a forward value that jax's remat recomputes for the backward pass (from
    the inputs and weights) does not. (The recomputed logits are no evidence: with
    a whole-step remat, as torchax's, the gradient starts from those.)"""
    if loss is None:
        return set()
    entry = set(_entry_params(side))
    seeds: list[int] = []
    seen = {loss}
    q = deque([loss])
    while q:
        x = q.popleft()
        for u in side.operands[x]:
            if u in seen or side.op[u] in HEAVY_MATCH:
                continue
            seen.add(u)
            if u in entry:
                seeds.append(u)
            q.append(u)
    out: set[int] = set()
    q = deque(seeds)
    while q:
        x = q.popleft()
        for w, pos in side.users[x]:
            if side.op[w] == BARRIER:
                # A barrier bundles the remat's inputs with the labels: only its
                # results that are x's value depend on x.
                ws = _barrier_readers(side, w, side.operand_keys[w][pos])
            else:
                ws = [w]
            for z in ws:
                if z not in out:
                    out.add(z)
                    q.append(z)
    return out


def _barrier_readers(side: Any, b: int, index: int) -> list[int]:
    """The users of barrier ``b`` that read its result ``index``."""
    out = []
    for w, _ in side.users[b]:
        edges = side.graph._pred[side.ids[w]].get(side.ids[b], {})
        if any(e.get("result_index") in (index, None) for e in edges.values()):
            out.append(w)
    return out


def _keys(
    side: Any,
    matched: list[int],
    to_a: Any,
    results: set[int],
    loss: int | None,
    own_loss: int | None,
) -> tuple[dict[tuple, int], dict[tuple, tuple[int, tuple[tuple, bool]]]]:
    """(fine key -> node, coarse key -> (node, (fine key, search complete))) for the
    unpaired heavy ops, each key unique on this side."""
    params = {p for p in _entry_params(side) if matched[p] >= 0}
    after_seed = _after_seed(side, own_loss)
    first: dict[tuple, list[tuple[int, tuple[tuple, bool]]]] = {}
    heavy = [n for n, op in enumerate(side.op) if op in HEAVY_MATCH and matched[n] < 0]
    reach = _reach_all(side, heavy, results, to_a)
    for n in heavy:
        size = prod(side.shape[n]) if side.shape[n] else 1
        read: set[int] = set()
        seen: set[tuple[int, int]] = set()
        todo = [(u, n) for u in side.operands[n]]
        while todo:
            x, user = todo.pop()
            if (x, user) in seen:
                continue
            seen.add((x, user))
            if x in params:
                read.add(to_a(x))
            elif side.op[x] in LAYOUT_ONLY:
                todo.extend((u, x) for u in side.operands[x])
            elif side.op[x] == BARRIER:
                todo.extend((u, x) for u in _through_barrier(side, x, user))
        reached, complete = reach[n]
        if read:
            # Several ops read one weight with one size: a square layer's forward op
            # and input gradient, and a forward op that jax's remat recomputes for
            # the backward pass. The forward one feeds the loss; the input gradient
            # depends on the loss's own inputs (its gradient starts there), the
            # recomputation does not (second key; _after_seed).
            feeds_loss = complete and loss is not None and loss in reached
            key: tuple = ("reads", tuple(sorted(read)), size)
            second: tuple = (*key, feeds_loss, not feeds_loss and n in after_seed)
        elif reached and complete:
            key = ("feeds", tuple(sorted(reached)), size)
            second = key
        else:
            continue
        first.setdefault(key, []).append((n, (second, complete)))
    # Two levels: the fine key (with the forward / after-forward bits) wherever
    # it is unique, and the coarse key where that alone is unique; a coarse match
    # must not contradict the fine bits (run_dataflow), so a forward value that
    # one side recomputes (the only unpaired reader there) never takes the other
    # side's input gradient (the only unpaired reader there).
    fine: dict[tuple, list[int]] = {}
    coarse: dict[tuple, tuple[int, tuple[tuple, bool]]] = {}
    for key, items in first.items():
        if len(items) == 1:
            coarse[key] = items[0]
        for n, (second, _) in items:
            fine.setdefault(("fine", *second), []).append(n)
    return {k: v[0] for k, v in fine.items() if len(v) == 1}, coarse


def _through_layout(side: Any, starts: list[int], step: Any) -> list[int]:
    """The first non-layout nodes reached from ``starts`` along ``step`` (operands or users)."""
    out: list[int] = []
    seen: set[int] = set()
    todo = list(starts)
    while todo:
        x = todo.pop()
        if x in seen:
            continue
        seen.add(x)
        if side.op[x] in LAYOUT_ONLY:
            todo.extend(step(x))
        else:
            out.append(x)
    return out


def _io_keys(side: Any, matched: list[int], to_a: Any) -> dict[tuple, int]:
    """``in``/``out`` key -> node for the unpaired heavy ops (NOTE above), unique on this side."""
    params = _entry_params(side)
    found: dict[tuple, list[int]] = {}
    for n, op in enumerate(side.op):
        if op not in HEAVY_MATCH or matched[n] >= 0:
            continue
        size = prod(side.shape[n]) if side.shape[n] else 1
        ins = [
            x
            for x in _through_layout(side, list(side.operands[n]), lambda x: side.operands[x])
            if x not in params
        ]
        outs = _through_layout(
            side, [w for w, _ in side.users[n]], lambda x: [w for w, _ in side.users[x]]
        )
        for tag, near in (("in", ins), ("out", outs)):
            if near and all(matched[x] >= 0 for x in near):
                key = (tag, tuple(sorted({to_a(x) for x in near})), size)
                found.setdefault(key, []).append(n)
    return {k: v[0] for k, v in found.items() if len(v) == 1}


def run_io(m: Any) -> None:
    """Pair still-unpaired heavy ops by ``in``/``out`` keys, in rounds, propagating each."""
    for _ in range(IO_ROUNDS):
        ka = _io_keys(m.A, m.ma, lambda x: x)
        kb = _io_keys(m.B, m.mb, lambda y: m.mb[y])
        new = []
        for key in sorted(set(ka) & set(kb)):
            a, b = ka[key], kb[key]
            if m.ma[a] < 0 and m.mb[b] < 0:
                m._pair(a, b, DATAFLOW)
                new.append((a, b))
        if not new:
            return
        m.propagate(new)


def run_dataflow(m: Any) -> None:
    """Pair unpaired dots/convolutions of equal dataflow key, then propagate (NOTE above)."""
    # Results paired with a result (a role-named node that is not a parameter) on
    # both sides: what a key may name, the same set seen from either side.
    res_a = {a for a, b in enumerate(m.ma) if b >= 0 and _is_result(m.A, a) and _is_result(m.B, b)}
    loss = next((a for a in sorted(res_a) if m.A.role[a] == "loss"), None)
    (fa, ca) = _keys(m.A, m.ma, lambda x: x, res_a, loss, loss)
    (fb, cb) = _keys(
        m.B,
        m.mb,
        lambda y: m.mb[y],
        {m.ma[a] for a in res_a},
        loss,
        m.ma[loss] if loss is not None else None,
    )
    new = []
    for key in sorted(set(fa) & set(fb)):
        a, b = fa[key], fb[key]
        if m.ma[a] < 0 and m.mb[b] < 0:
            m._pair(a, b, DATAFLOW)
            new.append((a, b))
    for key in sorted(set(ca) & set(cb)):
        (a, (sa, full_a)), (b, (sb, full_b)) = ca[key], cb[key]
        # The fine bits decide unless a search stopped at MAX_REACH on either side.
        if m.ma[a] < 0 and m.mb[b] < 0 and (sa == sb or not (full_a and full_b)):
            m._pair(a, b, DATAFLOW)
            new.append((a, b))
    if new:
        m.propagate(new)
    run_io(m)
