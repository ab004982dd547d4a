"""Collectives of a partitioned HLO module: kind, device groups, bytes per device, mesh axes.

Read from the graph on demand (the reader keeps ``replica_groups_parsed`` and
``source_target_pairs_parsed`` on each node; this module turns them into one
:class:`Collective` record per collective instruction). The byte figure is an
assumption stated once: the bytes each device sends under the textbook ring
algorithms, from the operand bytes ``D`` and group size ``n``:

==================  =====================
all-reduce          ``2 (n-1)/n * D``
all-gather          ``(n-1) * D`` (D is the shard each device holds)
reduce-scatter      ``(n-1)/n * D``
all-to-all          ``(n-1)/n * D``
collective-permute  ``D`` (devices that send)
==================  =====================

A group of one device moves nothing. The mesh axes a collective spans are the
axes along which its groups' devices differ (docs/sharding.md).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np

from xlalens.ir._ops import array_bytes

__all__ = ["Collective", "Mesh", "collective_table", "collectives", "format_collectives", "mesh_of"]

KINDS = (
    "all-reduce",
    "all-gather",
    "reduce-scatter",
    "all-to-all",
    "ragged-all-to-all",
    "collective-permute",
    "collective-broadcast",
)


@dataclass(frozen=True, slots=True)
class Mesh:
    """A device mesh: axis names and sizes, and the device at each mesh position."""

    axes: tuple[str, ...]
    """Axis names, major to minor."""
    shape: tuple[int, ...]
    """Axis sizes."""
    device_ids: tuple[int, ...]
    """Device id at each position, row-major (default ``0..N-1``)."""


@dataclass(frozen=True, slots=True)
class Collective:
    """One collective instruction of a partitioned module."""

    node: str
    """Graph node id."""
    kind: str
    """``all-reduce``, ``all-gather``, ... (``-start`` forms counted as their op)."""
    groups: tuple[tuple[int, ...], ...]
    """Device groups (replica groups, or the source-target pairs of a permute)."""
    group_size: int
    """Devices per group (2 for a permute pair)."""
    operand_bytes: int
    """Bytes of the operands on one device (``D`` above)."""
    bytes_per_device: int
    """Bytes each device sends under the ring model above."""
    axes: tuple[str, ...] | None
    """Mesh axes the groups span; None when no mesh is known."""


def mesh_of(graph: nx.MultiDiGraph) -> Mesh | None:
    """The mesh a module names in a ``replica_groups=mesh[...]`` attribute, if any.

    Example:
        >>> mesh_of(load("optimized_hlo.txt")).axes  # doctest: +SKIP
        ('axis_0', 'axis_1')
    """
    for _, d in graph.nodes(data=True):
        parsed = d["attrs"].get("replica_groups_parsed")
        if parsed and parsed.get("form") == "mesh":
            m = parsed["mesh"]
            return Mesh(
                tuple(a[0] for a in m["axes"]),
                tuple(a[1] for a in m["axes"]),
                tuple(m["device_ids"]),
            )
    return None


def _axes(groups: list[list[int]], mesh: Mesh) -> tuple[str, ...] | None:
    where = {dev: i for i, dev in enumerate(mesh.device_ids)}
    varying: set[int] = set()
    for g in groups:
        if any(dev not in where for dev in g):
            return None
        coords = np.array([np.unravel_index(where[dev], mesh.shape) for dev in g])
        varying |= {i for i in range(len(mesh.shape)) if len(set(coords[:, i])) > 1}
    return tuple(mesh.axes[i] for i in sorted(varying))


def _send_bytes(kind: str, n: int, data: int) -> int:
    if n <= 1:
        return 0
    if kind == "all-reduce":
        return round(2 * (n - 1) * data / n)
    if kind == "all-gather":
        return (n - 1) * data
    if kind in ("collective-permute", "collective-broadcast"):
        return data
    return round((n - 1) * data / n)  # reduce-scatter, all-to-all


def collectives(graph: nx.MultiDiGraph, mesh: Mesh | None = None) -> list[Collective]:
    """Every collective of an HLO graph, in node order.

    Args:
        graph: an xlalens graph of HLO (optimized HLO of a sharded step, usually).
        mesh: the device mesh, to name the axes each collective spans; None:
            the mesh the module itself names (:func:`mesh_of`), if any.

    Returns:
        One :class:`Collective` per collective instruction (``-done`` halves skipped).

    Example:
        >>> [c.kind for c in collectives(load("DIR:jax"))]  # doctest: +SKIP
        ['all-reduce', 'all-reduce']
    """
    mesh = mesh or mesh_of(graph)
    attrs = graph.graph.get("attrs", {})
    total = int(attrs.get("num_partitions", 1) or 1) * int(attrs.get("replica_count", 1) or 1)
    out = []
    for nid, d in graph.nodes(data=True):
        op = d["op"]
        if op.endswith("-done"):
            continue
        kind = op[: -len("-start")] if op.endswith("-start") else op
        if kind not in KINDS:
            continue
        data = 0
        for _, _, e in graph.in_edges(nid, data=True):
            if e.get("kind", "data") == "data" and e.get("dtype") not in (None, "tuple", "token"):
                data += int(array_bytes(e["dtype"], e.get("shape") or ()) or 0)
        a = d["attrs"]
        if kind == "collective-permute":
            groups = [list(p) for p in a.get("source_target_pairs_parsed") or []]
            n = 2 if groups else 1
        else:
            parsed = a.get("replica_groups_parsed")
            groups = [list(g) for g in (parsed or {}).get("groups", [])]
            if not groups:  # {} or no attribute: one group of every device
                groups = [list(range(total))]
            n = len(groups[0])
        out.append(
            Collective(
                node=nid,
                kind=kind,
                groups=tuple(tuple(g) for g in groups),
                group_size=n,
                operand_bytes=data,
                bytes_per_device=_send_bytes(kind, n, data),
                axes=None if mesh is None else _axes(groups, mesh),
            )
        )
    return out


def collective_table(items: list[Collective]) -> list[dict[str, Any]]:
    """Rows of the collectives table: per (kind, axes), count and byte sums.

    Example:
        >>> collective_table(collectives(graph))[0]["kind"]  # doctest: +SKIP
        'all-reduce'
    """
    rows: dict[tuple, dict[str, Any]] = defaultdict(
        lambda: {"count": 0, "operand_bytes": 0, "bytes_per_device": 0}
    )
    for c in items:
        axes = "?" if c.axes is None else (",".join(c.axes) or "-")
        row = rows[(c.kind, axes, c.group_size)]
        row["count"] += 1
        row["operand_bytes"] += c.operand_bytes
        row["bytes_per_device"] += c.bytes_per_device
    return [
        {"kind": k, "axes": a, "group_size": n, **v}
        for (k, a, n), v in sorted(rows.items(), key=lambda kv: (kv[0][0], kv[0][1]))
    ]


def format_collectives(rows: list[dict[str, Any]]) -> str:
    """The collectives table as ``xlalens stats`` prints it."""
    head = ["kind", "axes", "group", "count", "operand bytes", "bytes/device"]
    body = [
        [
            r["kind"],
            r["axes"],
            str(r["group_size"]),
            str(r["count"]),
            f"{r['operand_bytes']:,}",
            f"{r['bytes_per_device']:,}",
        ]
        for r in rows
    ]
    total = sum(r["bytes_per_device"] for r in rows)
    body.append(["total", "", "", str(sum(r["count"] for r in rows)), "", f"{total:,}"])
    widths = [max(len(x[i]) for x in [head, *body]) for i in range(len(head))]
    lines = ["  " + "  ".join(c.ljust(w) for c, w in zip(head, widths)).rstrip()]
    for r in body:
        lines.append("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    return "\n".join(lines)


def mesh_from_spec(spec: dict[str, Any]) -> Mesh:
    """The :class:`Mesh` of a dump's ``manifest["sharding"]`` (devices in order)."""
    shape = tuple(spec["mesh"])
    return Mesh(tuple(spec["axes"]), shape, tuple(range(math.prod(shape))))
