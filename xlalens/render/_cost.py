"""FLOPs and kernel time per drawn group: the project's cost model, summed per node set.

NOTE: [one cost model] Render keeps no FLOP formulas of its own. It asks the
project's cost model (today ``xlalens.diff._diff.estimate_flops``; the reader
branch moves it to ``xlalens.ir._cost``) for each node alone, by handing it a
two-node graph: the node and its operands re-typed as parameters (which cost
nothing), so a dot still sees its lhs shape. A node the model cannot price
(``None``: a convolution today, a dynamic shape) is counted as unknown and the
label says ``≥``.
"""

from __future__ import annotations

import networkx as nx

_READS_OPERANDS = frozenset(("dot", "reduce", "convolution"))


def _model():
    try:
        from xlalens.diff._diff import estimate_flops
    except ImportError:  # diff not installed: no FLOPs on labels
        return None
    return estimate_flops


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
    model = _model()
    out: dict[str, int | None] = {}
    if model is None:
        return out
    comps = g.graph.get("computations", {})
    for n, d in g.nodes(data=True):
        tiny = nx.MultiDiGraph(computations=comps)
        tiny.add_node(n, **d)
        # Only these read their operands' shapes (dot: lhs contracting size;
        # reduce: input size); the others are priced by their own shape.
        ins = g.in_edges(n, keys=True, data=True) if d.get("op") in _READS_OPERANDS else ()
        for u, _, k, ed in ins:
            pu = dict(g.nodes[u])
            pu["op"] = "parameter"
            tiny.add_node(f"\0{u}", **pu)
            tiny.add_edge(f"\0{u}", n, key=k, **ed)
        try:
            out[n] = model(tiny)
        except Exception:  # a node the model does not know: unknown, not fatal
            out[n] = None
    g.graph["_xl_node_flops"] = out
    return out


def group_flops(g: nx.MultiDiGraph, nodes: list[str]) -> tuple[int, int]:
    """(known FLOPs, count of nodes the model could not price) over ``nodes``."""
    per = node_flops(g)
    total = unknown = 0
    for n in nodes:
        v = per.get(n)
        if v is None:
            unknown += n in per
        else:
            total += v
    return total, unknown


def fmt_flops(total: int, unknown: int) -> str:
    """``1.2 GFLOP`` (``≥1.2 GFLOP`` when some nodes were not priced)."""
    for scale, unit in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1, "")):
        if total >= scale or scale == 1:
            txt = f"{total / scale:.3g} {unit}FLOP"
            break
    return ("≥" if unknown else "") + txt
