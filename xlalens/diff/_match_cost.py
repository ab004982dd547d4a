"""The edit cost of a matching on the compact sides (``_Matcher.cost``).

Split from ``_match.py`` (which the matcher stages fill): the same rules as
``_cost.py``'s edit cost on the graphs (NOTE: [edit costs] there), on the
sides' integer columns.
"""

from __future__ import annotations

from itertools import chain

import networkx as nx

from xlalens.diff._flatten import _FlatPlan
from xlalens.diff._side import _Side


def compact_cost(A: _Side, B: _Side, ma: list[int], mb: list[int]) -> int:
    """The edit cost of the matching ``ma``/``mb`` (node -> partner or -1), same rules as _cost."""
    cost = 0
    la, lb, fa, fb = A.label, B.label, A.full_label, B.full_label
    for a, b in enumerate(ma):
        if b < 0:
            cost += 1
        elif la[a] != lb[b]:
            cost += 2 if A.op[a] != B.op[b] else 1
        elif fa[a][7] != fb[b][7]:  # the parameter number (the label's last field)
            cost += 1
    cost += sum(1 for a in mb if a < 0)
    # Edges, node by node (NOTE: [edit costs] in _cost.py): the projection edges
    # into v are its distinct operands, each with the tuple of its positions;
    # B's edge (u2, v2) covers A's (u, v) when u2, v2 are u's and v's partners.
    # Where both nodes read distinct operands (nearly all), each edge's tuple is
    # its one position; else the general form, as _projection builds it.
    b_operands, b_keys = B.operands, B.operand_keys
    covered = 0
    for v, ops in enumerate(A.operands):
        if not ops:
            continue
        v2 = ma[v]
        if len(ops) == 1 or (len(ops) == 2 and ops[0] != ops[1]):
            if v2 < 0:
                cost += len(ops)
                continue
            bops = b_operands[v2]
            if len(bops) == 1 or (len(bops) == 2 and bops[0] != bops[1]):
                bks = b_keys[v2]
                for u, k in zip(ops, A.operand_keys[v]):
                    u2 = ma[u]
                    if u2 >= 0 and u2 in bops:
                        covered += 1
                        cost += k != bks[bops.index(u2)]
                    else:
                        cost += 1
                continue
        pa = _grouped(ops, A.operand_keys[v])
        if v2 < 0:
            cost += len(pa)
            continue
        pb = _grouped(b_operands[v2], b_keys[v2])
        for u, keys in pa.items():
            other = pb.get(ma[u])  # ma[u] is -1 (no key of pb) when u is unpaired
            if other is None:
                cost += 1
            else:
                covered += 1
                cost += keys != other
    n_b = sum([len(o) if len(o) < 2 else len(set(o)) for o in b_operands])
    return cost + n_b - covered


def _grouped(ops: tuple[int, ...], keys: tuple[int, ...]) -> dict[int, tuple[int, ...]]:
    """One node's operands with their positions, parallel edges collapsed (as _projection)."""
    out: dict[int, tuple[int, ...]] = {}
    for u, k in zip(ops, keys):
        out[u] = (*out[u], k) if u in out else (k,)
    return out


def _edge_count(side: _Side, g: nx.MultiDiGraph, plan: _FlatPlan | None) -> int:
    """``count_edges(g)`` from what the side counted: the edges into its nodes, plus
    those into the nodes the flattening hides (fusions; fused parameters have none)."""
    if plan is None:
        return side.in_edges
    pred = g._pred
    return side.in_edges + sum(map(len, chain.from_iterable(pred[h].values() for h in plan.hidden)))


def _projection(side: _Side) -> dict[tuple[int, int], tuple[int, ...]]:
    """Parallel edges collapsed: (operand, user) -> sorted operand positions."""
    out: dict[tuple[int, int], tuple[int, ...]] = {}
    for v, (ops, keys) in enumerate(zip(side.operands, side.operand_keys)):
        for u, k in zip(ops, keys):
            e = (u, v)
            out[e] = (*out[e], k) if e in out else (k,)
    return out
