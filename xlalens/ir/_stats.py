"""``stats``: op histograms and counts of one graph (what ``xlalens stats`` prints)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import networkx as nx


@dataclass(frozen=True, slots=True)
class GraphStats:
    """Counts describing one xlalens graph."""

    module: str
    """Module name (``HloModule`` name or MLIR ``sym_name``)."""
    format: str
    """``"hlo"`` or ``"stablehlo"``."""
    stage: str
    """``"stablehlo"``, ``"hlo"``, ``"optimized_hlo"`` or ``"unknown"``."""
    level: str
    """``"raw"`` or ``"canonical"``."""
    nodes: int
    """All nodes, every computation included."""
    edges: int
    """All edges (operands), capture edges included."""
    computations: int
    """Number of computations (entry, fusions, reducers, regions, functions...)."""
    entry_ops: int
    """Ops of the entry computation (see :func:`entry_op_count`)."""
    kernels: int | None
    """Kernels of optimized HLO (``kernel_nodes``), None for other stages."""
    computation_kinds: dict[str, int] = field(default_factory=dict)
    """Computations by kind."""
    histogram: dict[str, int] = field(default_factory=dict)
    """Canonical op -> count over all computations, most frequent first."""
    entry_histogram: dict[str, int] = field(default_factory=dict)
    """Canonical op -> count in the entry computation."""
    collectives: list[dict[str, Any]] = field(default_factory=list)
    """Collectives table (HLO): kind, axes, group size, count, operand bytes, bytes/device."""
    loops: list[dict[str, Any]] = field(default_factory=list)
    """Every ``while``: ``node``, ``computation``, ``trip_count`` (None: unknown) and ``source``
    (``known_trip_count``, ``induction`` or ``unknown``; ``xlalens.ir._loops``)."""

    def to_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        return {f: getattr(self, f) for f in self.__slots__}


def entry_op_count(graph: nx.MultiDiGraph) -> int:
    """Ops/instructions of the entry computation, as XLA and MLIR count them.

    HLO counts every instruction, parameters included; MLIR counts operations, so
    the block arguments of ``@main`` (parameter nodes of a StableHLO graph) are
    not counted, and its ``func.return`` is.

    Example:
        >>> entry_op_count(load("step.mlir"))  # doctest: +SKIP
        39
    """
    entry = graph.graph["entry"]
    mlir = graph.graph["format"] == "stablehlo"
    return sum(
        1
        for _, d in graph.nodes(data=True)
        if d["computation"] == entry and not (mlir and d["op"] == "parameter")
    )


def _sorted(counter: Counter) -> dict[str, int]:
    return dict(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))


def stats(graph: nx.MultiDiGraph, mesh: Any = None) -> GraphStats:
    """Count a graph's ops, edges, computations and (optimized HLO) kernels.

    Args:
        graph: an xlalens graph at any level.
        mesh: an ``xlalens.ir._collectives.Mesh`` naming the axes of the
            collectives table (default: the mesh the module names, if any).

    Returns:
        A :class:`GraphStats`.

    Example:
        >>> stats(load("optimized_hlo.txt")).kernels  # doctest: +SKIP
        7
    """
    ga = graph.graph
    entry = ga["entry"]
    hist: Counter = Counter()
    entry_hist: Counter = Counter()
    mlir = ga["format"] == "stablehlo"
    for _, d in graph.nodes(data=True):
        hist[d["op"]] += 1
        if d["computation"] == entry and not (mlir and d["op"] == "parameter"):
            entry_hist[d["op"]] += 1
    kernels = None
    if ga["stage"] == "optimized_hlo" and ga["format"] == "hlo":
        from xlalens.ir.hlo import kernel_nodes

        kernels = len(kernel_nodes(graph))
    kinds = Counter(c["kind"] for c in ga["computations"].values())
    table: list[dict[str, Any]] = []
    if ga["format"] == "hlo":
        from xlalens.ir._collectives import collective_table, collectives

        table = collective_table(collectives(graph, mesh))
    from xlalens.ir._loops import loop_nodes, trip_count

    loops = []
    for nid in loop_nodes(graph):
        t = trip_count(graph, nid)
        d = graph.nodes[nid]
        loops.append(
            {
                "node": d["name"],
                "computation": d["computation"],
                "trip_count": t.n,
                "source": t.source,
            }
        )
    return GraphStats(
        module=ga["module"],
        format=ga["format"],
        stage=ga["stage"],
        level=ga["level"],
        nodes=graph.number_of_nodes(),
        edges=graph.number_of_edges(),
        computations=len(ga["computations"]),
        entry_ops=sum(entry_hist.values()),
        kernels=kernels,
        computation_kinds=_sorted(kinds),
        histogram=_sorted(hist),
        entry_histogram=_sorted(entry_hist),
        collectives=table,
        loops=loops,
    )


def format_stats(s: GraphStats, *, title: str = "") -> str:
    """The human-readable table ``xlalens stats`` prints."""
    lines = []
    head = title or s.module or "<module>"
    lines.append(f"{head}: {s.format} module {s.module!r}, stage {s.stage}, level {s.level}")
    kinds = ", ".join(f"{k} {v}" for k, v in s.computation_kinds.items())
    lines.append(f"  nodes {s.nodes}   edges {s.edges}   computations {s.computations} ({kinds})")
    lines.append(f"  entry ops {s.entry_ops}")
    if s.kernels is not None:
        lines.append(f"  kernels (fusions and other launched instructions) {s.kernels}")
    width = max([len(k) for k in s.histogram] + [2])
    lines.append(f"  {'op':<{width}}  {'all':>7}  {'entry':>7}")
    for op, n in s.histogram.items():
        lines.append(f"  {op:<{width}}  {n:>7}  {s.entry_histogram.get(op, 0):>7}")
    if s.loops:
        unknown = sum(1 for lp in s.loops if lp["trip_count"] is None)
        lines.append(
            f"  loops {len(s.loops)}"
            + (
                f" ({unknown} with an unknown trip count: costs count their body once)"
                if unknown
                else ""
            )
        )
        for lp in s.loops:
            trips = "trip count unknown" if lp["trip_count"] is None else f"x{lp['trip_count']}"
            lines.append(f"    {lp['node']} in {lp['computation']}: {trips} ({lp['source']})")
    if s.collectives:
        from xlalens.ir._collectives import format_collectives

        lines.append("  collectives (bytes/device: ring model, docs/sharding.md)")
        lines.append(format_collectives(s.collectives))
    return "\n".join(lines)
