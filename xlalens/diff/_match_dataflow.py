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

DATAFLOW = "dataflow"
"""Stage name recorded on the pairs this matcher makes."""
HEAVY_MATCH = frozenset({"dot", "dot_general", "convolution"})
"""Ops keyed by their dataflow (StableHLO and HLO spellings)."""
LAYOUT_ONLY = frozenset(
    {"transpose", "reshape", "bitcast", "convert", "copy", "broadcast", "broadcast_in_dim"}
)
"""Ops that only move or retype a value: a weight read through them is still read."""
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


def _keys(
    side: Any, matched: list[int], to_a: Any, results: set[int], loss: int | None
) -> dict[tuple, int]:
    """Key -> node for the unpaired heavy ops whose key is unique on this side."""
    params = {p for p in _entry_params(side) if matched[p] >= 0}
    first: dict[tuple, list[tuple[int, tuple]]] = {}
    for n, op in enumerate(side.op):
        if op not in HEAVY_MATCH or matched[n] >= 0:
            continue
        size = prod(side.shape[n]) if side.shape[n] else 1
        read: set[int] = set()
        seen: set[int] = set()
        todo = list(side.operands[n])
        while todo:
            x = todo.pop()
            if x in seen:
                continue
            seen.add(x)
            if x in params:
                read.add(to_a(x))
            elif side.op[x] in LAYOUT_ONLY:
                todo.extend(side.operands[x])
        reached, complete = _reach(side, n, results, to_a)
        if read:
            # A square layer's forward op and input gradient read the same weight and
            # have the same size: the forward one feeds the loss (second key).
            key: tuple = ("reads", tuple(sorted(read)), size)
            second: tuple = (*key, complete and loss is not None and loss in reached)
        elif reached and complete:
            key = ("feeds", tuple(sorted(reached)), size)
            second = key
        else:
            continue
        first.setdefault(key, []).append((n, second))
    out: dict[tuple, int] = {}
    tie: dict[tuple, list[int]] = {}
    for key, items in first.items():
        if len(items) == 1:
            out[key] = items[0][0]
        else:
            for n, second in items:
                tie.setdefault(("tie", *second), []).append(n)
    out.update({k: v[0] for k, v in tie.items() if len(v) == 1})
    return out


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
    ka = _keys(m.A, m.ma, lambda x: x, res_a, loss)
    kb = _keys(m.B, m.mb, lambda y: m.mb[y], {m.ma[a] for a in res_a}, loss)
    new = []
    for key in sorted(set(ka) & set(kb)):
        a, b = ka[key], kb[key]
        if m.ma[a] < 0 and m.mb[b] < 0:
            m._pair(a, b, DATAFLOW)
            new.append((a, b))
    if new:
        m.propagate(new)
    run_io(m)
