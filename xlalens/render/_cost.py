"""FLOPs and kernel time per drawn group: the project's cost model, summed per node set.

NOTE: [one cost model] Render keeps no FLOP formulas of its own: each node is
priced by the project's one cost model, :func:`xlalens.ir._cost.node_flops` (one
node by itself; a fusion's body is priced through its own nodes). A node the
model cannot price (``None``: a custom call to an unknown target, a dynamic
shape) is counted as unknown and the label says ``≥``.
"""

from __future__ import annotations

import networkx as nx

from xlalens.ir._cost import node_flops as _node_flops


def node_flops(g: nx.MultiDiGraph) -> dict[str, int | None]:
    """FLOPs of each node of ``g`` (``None``: the cost model cannot price it).

    Args:
        g: an xlalens graph.

    Returns:
        Node id -> FLOPs of one execution of that node, or ``None``.

    Example:
        >>> node_flops(graph)["dot.3"]  # doctest: +SKIP
        8192
    """
    cached = g.graph.get("_xl_node_flops")
    if cached is not None:
        return cached
    out: dict[str, int | None] = {}
    for n in g.nodes:
        try:
            v = _node_flops(g, n)
        except Exception:  # a node the model does not know: unknown, not fatal
            v = None
        out[n] = None if v is None else int(v)
    g.graph["_xl_node_flops"] = out
    return out


def group_flops(g: nx.MultiDiGraph, nodes: list[str]) -> tuple[int, int]:
    """(known FLOPs, count of nodes the model could not price) over ``nodes``."""
    per = node_flops(g)
    # Whole-list passes (an overview's groups hold every node: 10^5 at LLM size).
    vals = list(map(per.get, nodes))
    known = [v for v in vals if v is not None]
    total = sum(known)
    unknown = 0
    if len(known) < len(vals):
        unknown = len([n for n, v in zip(nodes, vals) if v is None and n in per])
    return total, unknown


def fmt_flops(total: int, unknown: int) -> str:
    """``1.2 GFLOP`` (``≥1.2 GFLOP`` when some nodes were not priced)."""
    for scale, unit in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1, "")):
        if total >= scale or scale == 1:
            txt = f"{total / scale:.3g} {unit}FLOP"
            break
    return ("≥" if unknown else "") + txt
