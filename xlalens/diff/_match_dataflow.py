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
  output elements (a forward op and the input gradient that read the same
  weight differ there, unless the layer is square; then the key is not unique
  and nothing pairs);
- ``feeds``: when it reads no parameter, the paired results (the parameters'
  updates and optimizer state) that depend on it, and its number of output
  elements: a weight gradient feeds its own parameter's update chain only.

A key unique among the unpaired dots and convolutions of both sides pairs them
(the op may differ: a convolution with a dot), and propagation continues from
the pair. Nothing else is keyed, so a dot never pairs with an elementwise op
here, and the similarity stage allows a dot or convolution to change op only
into a dot or convolution.
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
MAX_REACH = 20000
"""Nodes a ``feeds`` search visits at most (bounds the stage on very large modules)."""


def _entry_params(side: Any) -> set[int]:
    ec = side.entry_comp()
    return set(side.comp_params[ec]) if ec >= 0 else set()


def _keys(side: Any, matched: list[int], to_a: Any) -> dict[tuple, int]:
    """Key -> node for the unpaired heavy ops whose key is unique on this side."""
    params = {p for p in _entry_params(side) if matched[p] >= 0}
    results = {
        i
        for i, r in enumerate(side.role)
        if r is not None and side.data[i]["param_index"] is None and matched[i] >= 0
    }
    out: dict[tuple, int] = {}
    dup: set[tuple] = set()
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
        if read:
            key: tuple = ("reads", tuple(sorted(read)), size)
        else:
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
            if not reached or len(visited) >= MAX_REACH:
                continue
            key = ("feeds", tuple(sorted(reached)), size)
        if key in out:
            dup.add(key)
        out[key] = n
    return {k: v for k, v in out.items() if k not in dup}


def run_dataflow(m: Any) -> None:
    """Pair unpaired dots/convolutions of equal dataflow key, then propagate (NOTE above)."""
    ka = _keys(m.A, m.ma, lambda x: x)
    kb = _keys(m.B, m.mb, lambda y: m.mb[y])
    new = []
    for key in sorted(set(ka) & set(kb)):
        a, b = ka[key], kb[key]
        if m.ma[a] < 0 and m.mb[b] < 0:
            m._pair(a, b, DATAFLOW)
            new.append((a, b))
    if new:
        m.propagate(new)
