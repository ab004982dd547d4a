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
  updates and optimizer state) that depend on it, through other results too
  (Keras's AdamW computes a weight's update from its new moments), and its number
  of output elements, or the number it is summed to when every use is a
  ``reduce`` (TensorFlow's per-sample einsum weight gradient): a weight gradient
  feeds its own parameter's update chain only.

A key unique among the unpaired dots and convolutions of both sides pairs them
(the op may differ: a convolution with a dot), and propagation continues from
the pair. Then, in rounds while pairs are found, the dots and convolutions still
unpaired get two more keys from their paired neighbourhood (issue 21):

- ``in``: the paired producers of its operands, seen through layout-only ops and
  unpaired rescalings by a scalar (torch scales q and k, jax the scores),
  parameters left out (those are ``reads``), and its number of output elements:
  attention's score and value matmuls and their gradients read no weight, and
  all have one shape, but each reads its own pair of values;
- ``out``: the paired consumers it feeds, seen the same way (a forward op's
  forward readers only: where one side recomputes the value, its backward pass
  reads the recomputation): an op that reads a weight one framework passes under
  a second name (GPT-2's tied output projection on torch_xla) is still the op
  whose result the loss reads;
- ``io``: every consumer and at least one producer paired, where a producer is
  spelled differently on the two sides (softmax's gradient): ViT's dQ and dK feed
  one concatenate and each reads its own slice of the fused qkv projection.

``in`` and ``out`` need every such neighbour paired, ``io`` every consumer, so a
neighbourhood that is unpaired at one end never decides alone. Every stage
(this one, propagation, similarity, leftovers) leaves alone a pair of dots or
convolutions of different phases (:func:`phases`: fwd / bwd / remat).
Nothing else is keyed, so a dot never pairs with an elementwise op here, and
the similarity stage allows a dot or convolution to change op only into a dot
or convolution.
"""

from __future__ import annotations

from collections import deque
from math import prod
from typing import Any

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


def _entry_params(side: Any) -> set[int]:
    ec = side.entry_comp()
    return set(side.comp_params[ec]) if ec >= 0 else set()


def _is_result(side: Any, i: int) -> bool:
    return side.role[i] is not None and side.data[i]["param_index"] is None


def _closure(n: int, inputs: Any, bit_of: dict[int, int]) -> tuple[list[int], bool]:
    """For each of ``n`` nodes, the OR of ``bit_of``'s bits over the node and every node
    reachable from it through ``inputs`` (a node -> the nodes it reads from), and
    whether that graph is acyclic. One depth-first pass, each node finished after its
    inputs; on a cycle, the input still open adds nothing."""
    mask = [0] * n
    state = bytearray(n)  # 0 not seen, 1 open (on the path), 2 finished
    acyclic = True
    for start in range(n):
        if state[start]:
            continue
        state[start] = 1
        stack = [(start, iter(inputs(start)))]
        while stack:
            x, pending = stack[-1]
            for u in pending:
                if state[u] == 0:
                    state[u] = 1
                    stack.append((u, iter(inputs(u))))
                    break
                if state[u] == 1:
                    acyclic = False
            else:
                stack.pop()
                m = bit_of.get(x, 0)
                for u in inputs(x):
                    m |= mask[u]
                mask[x] = m
                state[x] = 2
    return mask, acyclic


def _reach_all(side: Any, results: set[int]) -> list[int] | None:
    """For every node, the results that depend on it as a bit set (bit i: the i-th of
    ``sorted(results)``), through the users; None when the graph has a cycle (then
    :func:`_keys` keys nothing by ``feeds``)."""
    users = side.users
    if not results and _in_order(side):
        # No result to reach: every set is empty, and an acyclic graph is what the
        # walk below would have proven (here: program order is topological).
        return [0] * len(side.ids)
    bit = {r: 1 << i for i, r in enumerate(sorted(results))}
    mask, acyclic = _closure(len(side.ids), lambda x: [w for w, _ in users[x]], bit)
    return mask if acyclic else None


def _in_order(side: Any) -> bool:
    """Every node's operands come before it (so the dataflow has no cycle); the readers
    add operands before their users, a flattened optimized module not always."""
    return all([not ops or max(ops) < v for v, ops in enumerate(side.operands)])


def _reached(mask: int, order: list[int], to_a: Any) -> set[int]:
    """The results of bit set ``mask`` (as A's node numbers)."""
    out: set[int] = set()
    i = 0
    while mask:
        if mask & 1:
            out.add(to_a(order[i]))
        mask >>= 1
        i += 1
    return out


def param_ancestors(side: Any, bit_of: dict[int, int]) -> list[int]:
    """For every node, the entry parameters it depends on as a bit set (``bit_of``:
    parameter node -> its bit; parameters without one add nothing).

    A parameter of a called computation (a fusion's body, a loop's) stands for the
    caller's operand at its position, so a dot inside a fusion depends on what the
    fusion reads. A computation several callers share (a reducer) depends on all of
    their operands: dependency, not a partner, is what this answers.
    """
    callers: dict[int, list[int]] = {}
    for f in range(len(side.ids)):
        for c in side.callees(f):
            callers.setdefault(c, []).append(f)
    entry = side.entry_comp()
    position = {
        p: (c, k) for c, ps in enumerate(side.comp_params) if c != entry for k, p in enumerate(ps)
    }

    def inputs(x: int) -> list[int]:
        home = position.get(x)
        if home is None:
            return list(side.operands[x])
        c, k = home
        return [side.operands[f][k] for f in callers.get(c, ()) if k < len(side.operands[f])]

    return _closure(len(side.ids), inputs, bit_of)[0]


FWD, BWD, REMAT = "fwd", "bwd", "remat"
"""A dot/convolution's place in a training step (:func:`phases`)."""


def phases(side: Any) -> tuple[list[str | None], set[int]]:
    """fwd / bwd / remat for each dot or convolution of ``side`` (None for other ops,
    and for every op when the side has no ``loss`` result).

    bwd: it depends on the loss's own inputs (the labels; :func:`_after_seed`), as
    every gradient does (and a forward pass on the updated weights). fwd: else, the
    loss depends on it. remat: neither, a forward value that jax's remat recomputes
    for the backward pass. Each side is read alone; two ops that compute the same
    thing have the same phase, so a pair of different phases is never made (a
    forward matmul never pairs with its recomputation). Also returns the nodes the
    loss depends on (empty without a loss)."""
    out: list[str | None] = [None] * len(side.ids)
    loss = next(
        (i for i, r in enumerate(side.role) if r == "loss" and side.data[i]["param_index"] is None),
        None,
    )
    if loss is None:
        return out, set()
    forward = {loss}
    q = deque([loss])
    while q:
        x = q.popleft()
        for u in side.operands[x]:
            # Through a barrier only the operands whose results x reads (jax's remat
            # bundles forward values with others there).
            for v in _through_barrier(side, u, x) if side.op[u] == BARRIER else [u]:
                if v not in forward:
                    forward.add(v)
                    q.append(v)
    after = _after_seed(side, loss)
    for n, op in enumerate(side.op):
        if op in HEAVY_MATCH:
            out[n] = BWD if n in after else FWD if n in forward else REMAT
    return out, forward


def _through_barrier(side: Any, x: int, user: int) -> list[int]:
    """The operands of barrier ``x`` whose results ``user`` reads (result i is operand i)."""
    edges = side.graph._pred[side.ids[user]].get(side.ids[x], {})
    want = {e.get("result_index") for e in edges.values()} - {None}
    return [u for u, k in zip(side.operands[x], side.operand_keys[x]) if k in want]


def _after_seed(side: Any, loss: int | None) -> set[int]:
    """Nodes that depend on the loss's own inputs: the entry parameters the loss reads
    through other ops than dots/convolutions and that the step does not update (the
    labels; all of them where every one is updated). The loss's gradient starts from
    them, so every input or weight gradient depends on them; a forward value that
    jax's remat recomputes for the backward pass (from the inputs and weights) does
    not. (The recomputed logits are no evidence: with a whole-step remat, as
    torchax's, the gradient starts from those.) The updated ones are left out: a
    step that returns the loss of the updated weights (the seed's jax step) reads
    every bias there, and the forward pass depends on the first layer's."""
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
    updated = {
        r for r, d in zip(side.role, side.data) if r is not None and d["param_index"] is None
    }
    seeds = [u for u in seeds if side.role[u] not in updated] or seeds
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
    heavy = [n for n in side.heavy if matched[n] < 0]
    if not heavy:
        # Nothing to key (every dot/convolution paired already, as in a diff of a module
        # with itself): the walks below, each over the whole graph, would find nothing.
        return {}, {}
    params = {p for p in _entry_params(side) if matched[p] >= 0}
    after_seed = _after_seed(side, own_loss)
    masks = _reach_all(side, results)
    order = sorted(results)
    first: dict[tuple, list[tuple[int, tuple[tuple, bool]]]] = {}
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
        complete = masks is not None
        reached = _reached(masks[n], order, to_a) if masks is not None else set()
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
            key = ("feeds", tuple(sorted(reached)), _summed(side, n, size))
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


def _summed(side: Any, n: int, size: int) -> int:
    """The element count ``n``'s value is summed to when every use of it (through
    layout-only ops) is a ``reduce`` to one count, else ``size``: TensorFlow computes
    an einsum's weight gradient per sample and sums over the batch after."""
    uses = _through_layout(
        side, [w for w, _ in side.users[n]], lambda x: [w for w, _ in side.users[x]]
    )
    counts = {prod(side.shape[w]) if side.shape[w] else 1 for w in uses if side.op[w] == "reduce"}
    if uses and len(counts) == 1 and all(side.op[w] == "reduce" for w in uses):
        return counts.pop()
    return size


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


SCALING = frozenset({"multiply", "divide", "add", "subtract"})
"""Elementwise ops that, with a scalar as their other operand, rescale one value."""


def _scalar(side: Any, x: int) -> bool:
    """``x`` is one number (rank 0), or a broadcast of one."""
    while side.shape[x] and side.op[x] in ("broadcast", "broadcast_in_dim"):
        x = side.operands[x][0]
    return not side.shape[x]


def _rescaling(side: Any, matched: list[int], x: int) -> bool:
    """``x`` is an unpaired multiply/divide/add/subtract of one value and one scalar."""
    ops = side.operands[x]
    return (
        matched[x] < 0
        and side.op[x] in SCALING
        and len(ops) == 2
        and sum(not _scalar(side, u) for u in ops) == 1
    )


def _near(side: Any, matched: list[int], n: int, up: bool) -> list[int]:
    """The producers (``up``) or consumers of ``n`` through layout-only ops and through
    unpaired rescalings (a value times a scalar): torch's attention scales q and k by
    ``sqrt(scale)`` each (and their gradients), Keras scales q, jax the scores after
    the matmul."""

    def step(x: int) -> list[int]:
        return list(side.operands[x]) if up else [w for w, _ in side.users[x]]

    out: list[int] = []
    todo = _through_layout(side, step(n), step)
    seen: set[int] = set()
    while todo:
        x = todo.pop()
        if x in seen:
            continue
        seen.add(x)
        if _rescaling(side, matched, x):
            nxt = [u for u in side.operands[x] if not _scalar(side, u)] if up else step(x)
            todo.extend(_through_layout(side, nxt, step))
        else:
            out.append(x)
    return out


def _io_keys(
    side: Any, matched: list[int], to_a: Any, phase: list, forward: set[int]
) -> dict[tuple, int]:
    """``in``/``out`` key -> node for the unpaired heavy ops (NOTE above), unique on this side."""
    todo = [n for n in side.heavy if matched[n] < 0]  # unpaired dots/convolutions
    if not todo:
        return {}
    params = _entry_params(side)
    found: dict[tuple, list[int]] = {}
    for n in todo:
        size = prod(side.shape[n]) if side.shape[n] else 1
        ins = [x for x in _near(side, matched, n, True) if x not in params]
        outs = _near(side, matched, n, False)
        if phase[n] == FWD:
            # A forward value's backward readers differ where one side recomputes it
            # (torchax's remat): its forward readers are the evidence.
            outs = [x for x in outs if x in forward]
        for tag, near in (("in", ins), ("out", outs)):
            if near and all(matched[x] >= 0 for x in near):
                key = (tag, tuple(sorted({to_a(x) for x in near})), size)
                found.setdefault(key, []).append(n)
        paired_in = {to_a(x) for x in ins if matched[x] >= 0}
        if paired_in and len(paired_in) < len(ins) and outs and all(matched[x] >= 0 for x in outs):
            # Both ends at once, where one operand's producer is spelled differently
            # (softmax's gradient): every consumer paired and at least one producer.
            # ViT's dQ and dK feed one concatenate; each reads its own slice of qkv.
            key = ("io", tuple(sorted(paired_in)), tuple(sorted({to_a(x) for x in outs})), size)
            found.setdefault(key, []).append(n)
    return {k: v[0] for k, v in found.items() if len(v) == 1}


def run_io(m: Any) -> None:
    """Pair still-unpaired heavy ops by ``in``/``out`` keys, in rounds, propagating each."""
    for _ in range(IO_ROUNDS):
        ka = _io_keys(m.A, m.ma, lambda x: x, m.phase_a, m.fwd_a)
        # No key on A: nothing to pair, whatever B's keys are (they cost a walk).
        kb = _io_keys(m.B, m.mb, lambda y: m.mb[y], m.phase_b, m.fwd_b) if ka else {}
        new = []
        for key in sorted(set(ka) & set(kb)):
            a, b = ka[key], kb[key]
            if m.ma[a] < 0 and m.mb[b] < 0 and m.agree(a, b):
                m._pair(a, b, DATAFLOW)
                new.append((a, b))
        if not new:
            return
        m.propagate(new)


def run_dataflow(m: Any) -> None:
    """Pair unpaired dots/convolutions of equal dataflow key, then propagate (NOTE above)."""
    # Results paired with a result (a role-named node that is not a parameter) on
    # both sides: what a key may name, the same set seen from either side.
    # (The role test first: most nodes have none, and it needs no call.)
    role_a = m.A.role
    res_a = {
        a
        for a, b in enumerate(m.ma)
        if b >= 0 and role_a[a] is not None and _is_result(m.A, a) and _is_result(m.B, b)
    }
    loss = next((a for a in sorted(res_a) if m.A.role[a] == "loss"), None)
    (fa, ca) = _keys(m.A, m.ma, lambda x: x, res_a, loss, loss)
    if not fa and not ca:  # no key on A: B's (a walk of its graph) would pair nothing
        run_io(m)
        return
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
        if m.ma[a] < 0 and m.mb[b] < 0 and m.agree(a, b):
            m._pair(a, b, DATAFLOW)
            new.append((a, b))
    for key in sorted(set(ca) & set(cb)):
        (a, (sa, full_a)), (b, (sb, full_b)) = ca[key], cb[key]
        # The fine bits decide unless a side's graph had a cycle (no reach known).
        if m.ma[a] < 0 and m.mb[b] < 0 and m.agree(a, b) and (sa == sb or not (full_a and full_b)):
            m._pair(a, b, DATAFLOW)
            new.append((a, b))
    if new:
        m.propagate(new)
    run_io(m)
