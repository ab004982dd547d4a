"""The similarity stage: unpaired nodes paired by their paired neighbourhood.

It runs on :class:`~xlalens.diff._match._Matcher` (``m``) after the anchors and
the dataflow stage; the constants below are also the evidence rules the other
stages share (``LEAF_OPS``, ``VALUE_OPS``; NOTE: [evidence] in _match.py).
"""

from __future__ import annotations

from typing import Any

from xlalens.diff._match_dataflow import HEAVY_MATCH
from xlalens.diff._side import _Side

SIMILARITY = "similarity"
"""Stage name recorded on the pairs this stage makes."""

# Similarity stage parameters. A pair's score is
#   DICE_WEIGHT * dice(matched neighbours) + OP_WEIGHT * [op equal]
#   + TYPE_WEIGHT * ([dtype equal] + [shape equal])
# and a candidate needs SIM_THRESHOLD; see NOTE: [similarity score].
DICE_WEIGHT = 0.6
OP_WEIGHT = 0.25
TYPE_WEIGHT = 0.075
SIM_THRESHOLD = 0.45
# Evidence a pair of *different* ops needs (NOTE: [evidence]): at least this many
# paired neighbours in common and this Dice coefficient; leaf ops never change op.
CROSS_OP_MIN_COMMON = 2
CROSS_OP_MIN_DICE = 0.5
# Ops without operands: nothing but their users can vouch for them, so a pair of
# them must have the same op (a constant does not "become" a multiply).
LEAF_OPS = frozenset(
    {"constant", "parameter", "iota", "rng", "after-all", "partition-id", "replica-id"}
)
# Ops that are their value: two of them are the same op only when the value is
# equal too (same fingerprint); `constant 0.5` and `constant 2` are one removed and
# one added constant, not a changed one (issue 11).
VALUE_OPS = frozenset({"constant"})
SIM_ROUNDS = 8
# A matched neighbour with more unmatched neighbours than this only proposes
# candidates with the same op (keeps hubs such as a shared constant linear).
HUB_DEGREE = 16
MAX_CANDIDATES = 32


# NOTE: [similarity score]
# Candidates for an unpaired node of A are the unpaired neighbours (same
# relation: operand or user) of the partners of its paired neighbours, so
# the stage never compares all pairs. Their score mixes the Dice coefficient
# over paired neighbours with agreement of op, dtype and shape; ops may
# differ (the seed's JAX `multiply` vs PyTorch's `dot`) when the
# neighbourhood agrees. Pairs are accepted greedily by descending score,
# ties by node order, and each round's pairs are propagated before the next.
def similarity(m: Any) -> None:
    """Stage 3: neighbourhood similarity rounds, each followed by propagation."""
    A, B = m.A, m.B
    ma, mb = m.ma, m.mb
    for _ in range(SIM_ROUNDS):
        cands: list[tuple[float, int, int]] = []
        for a in range(len(A.ids)):
            if ma[a] >= 0:
                continue
            na = _neighbours(A, a)
            if not any(ma[x] >= 0 for x, _ in na):
                continue
            counts: dict[int, int] = {}
            for x, rel in na:
                xb = ma[x]
                # A constant vouches for nothing (NOTE: [evidence]): the
                # same scalar 0 is the init value of every reduce, so it
                # would propose every reduce of the other side.
                if xb < 0 or A.op[x] in VALUE_OPS:
                    continue
                # rel 0: x is an operand of a, so candidates are users of xb.
                if rel == 0:
                    near = [w for w, _ in B.users[xb] if mb[w] < 0]
                else:
                    near = [w for w in B.operands[xb] if mb[w] < 0]
                if len(near) > HUB_DEGREE:
                    near = [w for w in near if B.op[w] == A.op[a]][:MAX_CANDIDATES]
                for w in dict.fromkeys(near):
                    counts[w] = counts.get(w, 0) + 1
            if not counts:
                continue
            deg_a = len({x for x, _ in na})
            for b, common in counts.items():
                deg_b = len({x for x, _ in _neighbours(B, b)})
                dice = 2.0 * min(common, deg_a, deg_b) / (deg_a + deg_b)
                score = DICE_WEIGHT * dice
                if A.op[a] in VALUE_OPS or B.op[b] in VALUE_OPS or not m.agree(a, b):
                    continue  # equal constants pair by fingerprint, others not at all
                if A.op[a] == B.op[b]:
                    score += OP_WEIGHT
                elif (A.op[a] in HEAVY_MATCH) != (B.op[b] in HEAVY_MATCH) and dice < 1.0:
                    # A dot or convolution changes op into an elementwise op only
                    # when every neighbour agrees (a user's multiply -> dot edit),
                    # never on a partial neighbourhood such as AdamW's multiply of
                    # the same shape (NOTE: [dataflow evidence]).
                    continue
                elif (
                    common < CROSS_OP_MIN_COMMON
                    or dice < CROSS_OP_MIN_DICE
                    or A.op[a] in LEAF_OPS
                    or B.op[b] in LEAF_OPS
                ):
                    continue
                if A.dtype[a] == B.dtype[b]:
                    score += TYPE_WEIGHT
                if A.shape[a] == B.shape[b]:
                    score += TYPE_WEIGHT
                if score >= SIM_THRESHOLD:
                    cands.append((-score, a, b))
        if not cands:
            break
        cands.sort()
        new = []
        for _, a, b in cands:
            if ma[a] < 0 and mb[b] < 0:
                m._pair(a, b, SIMILARITY)
                new.append((a, b))
        if not new:
            break
        m.propagate(new)


def _neighbours(side: _Side, i: int) -> list[tuple[int, int]]:
    """``(node, 0)`` for each operand and ``(node, 1)`` for each user of ``i``."""
    out = [(u, 0) for u in side.operands[i]]
    out.extend((w, 1) for w, _ in side.users[i])
    return out
