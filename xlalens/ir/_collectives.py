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

NOTE: [one place for sharding and collective records]
:func:`annotate` runs when a reader builds a graph (HLO text and StableHLO) and
again when a dump entry is loaded with its manifest's mesh. It stores, on every
node, the schema fields ``sharding`` (mesh axes per dimension, tile assignment,
replicated, manual), ``device_shape`` (the per-device shape of a
pre-partitioning module's value) and ``collective`` (the record below, as plain
data), and ``device_shape`` on the edges out of nodes that have one.
:func:`collectives`, ``xlalens stats``, the diff and the renderer read those
fields; nothing else decodes shardings or prices collectives
(docs/graph-schema.md, "Sharding and collectives").
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np

from xlalens.ir._dicts import split_template
from xlalens.ir._ops import COLLECTIVE_KINDS, array_bytes
from xlalens.ir._sharding import parse_sharding

__all__ = [
    "Collective",
    "Mesh",
    "annotate",
    "collective_table",
    "collectives",
    "format_collectives",
    "mesh_of",
    "module_mesh",
]

KINDS = COLLECTIVE_KINDS  # THE list, in the op table (xlalens.ir._ops)
# Ops that get a ``collective`` record: each kind and its async ``-start`` half.
_COLLECTIVE_OPS = frozenset(KINDS) | frozenset(k + "-start" for k in KINDS)
#: The node attrs :func:`annotate` and :func:`mesh_of` read a record from.
SPMD_ATTRS = frozenset(
    {"sharding_parsed", "sdy.sharding", "sharding", "mhlo.sharding", "replica_groups_parsed"}
)
COLLECTIVE_OPS = _COLLECTIVE_OPS


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


def mesh_of(graph: nx.MultiDiGraph, only: Collection[str] | None = None) -> Mesh | None:
    """The mesh a module names in a ``replica_groups=mesh[...]`` attribute, if any.

    ``only``: look at these nodes alone (see :func:`annotate`).

    Example:
        >>> mesh_of(load("optimized_hlo.txt")).axes  # doctest: +SKIP
        ('axis_0', 'axis_1')
    """
    nodes = graph._node
    for d in nodes.values() if only is None else (nodes[n] for n in only):
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


def _collective_record(
    graph: nx.MultiDiGraph, nid: str, mesh: Mesh | None, total: int
) -> dict | None:
    """The ``collective`` field of one node (plain data), or None when it is no collective."""
    d = graph._node[nid]
    op = d["op"]
    if op.endswith("-done"):
        return None
    kind = op[: -len("-start")] if op.endswith("-start") else op
    if kind not in KINDS:
        return None
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
        n = max(len(g) for g in groups)  # XLA allows groups of unequal sizes
    axes = None if mesh is None else _axes(groups, mesh)
    return {
        "kind": kind,
        "groups": groups,
        "group_size": n,
        "operand_bytes": data,
        "bytes_per_device": _send_bytes(kind, n, data),
        "axes": None if axes is None else list(axes),
    }


def collectives(graph: nx.MultiDiGraph, mesh: Mesh | None = None) -> list[Collective]:
    """Every collective of an HLO graph, in node order, from the nodes' ``collective`` records.

    Args:
        graph: an xlalens graph of HLO (optimized HLO of a sharded step, usually).
        mesh: the device mesh, to name the axes each collective spans; None:
            the axes stored on the nodes (the mesh the module names, or the
            dump manifest's mesh for a dump entry).

    Returns:
        One :class:`Collective` per collective instruction (``-done`` halves skipped).

    Example:
        >>> [c.kind for c in collectives(load("DIR:jax"))]  # doctest: +SKIP
        ['all-reduce', 'all-reduce']
    """
    out = []
    for nid, d in graph.nodes(data=True):
        rec = d.get("collective")
        if rec is None:
            continue
        axes = rec["axes"]
        if mesh is not None:
            axes = _axes(rec["groups"], mesh)
        out.append(
            Collective(
                node=nid,
                kind=rec["kind"],
                groups=tuple(tuple(g) for g in rec["groups"]),
                group_size=rec["group_size"],
                operand_bytes=rec["operand_bytes"],
                bytes_per_device=rec["bytes_per_device"],
                axes=None if axes is None else tuple(axes),
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


# ---------------------------------------------------------------------------
# Sharding records and per-device shapes (node fields ``sharding``, ``device_shape``)

_SDY_MESH = re.compile(
    r"(?:(?P<name>[\w.$-]+)\s*=\s*)?#sdy\.mesh<\s*\[(?P<axes>[^\]]*)\]"
    r"(?:\s*,\s*device_ids\s*=\s*\[(?P<ids>[\d,\s]*)\])?\s*>"
)
_SDY_AXIS = re.compile(r'"([^"]+)"\s*=\s*(\d+)')
_SDY_SHARDING = re.compile(
    r"#sdy\.sharding<\s*@(?P<mesh>[\w.$-]+)\s*,\s*\[(?P<dims>.*?)\]\s*(?P<rest>[^>]*)>"
)
_SDY_DIM = re.compile(r"\{([^}]*)\}")
_SDY_DIM_AXIS = re.compile(r'"([^"]+)"(:\(\d+\)\d+)?')


def _mesh_from_sdy(axes_text: str, ids_text: str | None) -> Mesh | None:
    axes = [(a, int(n)) for a, n in _SDY_AXIS.findall(axes_text)]
    if not axes:
        return None
    shape = tuple(n for _, n in axes)
    ids = (
        tuple(int(x) for x in ids_text.replace(" ", "").split(",") if x)
        if ids_text
        else tuple(range(math.prod(shape)))
    )
    if len(ids) != math.prod(shape):
        return None
    return Mesh(tuple(a for a, _ in axes), shape, ids)


def sdy_meshes(graph: nx.MultiDiGraph) -> dict[str, Mesh]:
    """The Shardy meshes a module declares, by name.

    StableHLO keeps them as ``sdy.mesh`` module ops; jax's pre-partitioning HLO as
    the module's ``frontend_attributes={xla.sdy.meshes={mesh = #sdy.mesh<[...]>}}``.

    Example:
        >>> sdy_meshes(load("DIR:jax:hlo"))["mesh"].axes  # doctest: +SKIP
        ('data', 'model')
    """
    attrs = graph.graph.get("attrs", {})
    out: dict[str, Mesh] = {}
    for op in attrs.get("module_ops") or ():
        if isinstance(op, dict) and op.get("opcode") == "sdy.mesh":
            a = op.get("attrs", {})
            m = _SDY_MESH.search(str(a.get("mesh", "")))
            mesh = m and _mesh_from_sdy(m.group("axes"), m.group("ids"))
            if mesh:
                out[str(a.get("sym_name", "mesh"))] = mesh
    fa = attrs.get("frontend_attributes")
    text = fa.get("xla.sdy.meshes") if isinstance(fa, dict) else None
    if isinstance(text, str):
        for m in _SDY_MESH.finditer(text):
            mesh = _mesh_from_sdy(m.group("axes"), m.group("ids"))
            if mesh:
                out.setdefault(m.group("name") or "mesh", mesh)
    return out


def _significant(mesh: Mesh) -> tuple[int, ...]:
    return tuple(n for n in mesh.shape if n > 1)


def module_mesh(
    graph: nx.MultiDiGraph, mesh: Mesh | None = None, only: Collection[str] | None = None
) -> tuple[Mesh | None, str | None]:
    """The mesh that names a module's axes, and where it came from.

    Order: ``mesh`` (the caller's, e.g. a dump manifest's), a Shardy mesh the
    module declares, a ``mesh[...]`` replica group (:func:`mesh_of`). XLA writes
    its own axis names into replica groups of optimized HLO (``'axis_0'``); a
    caller's mesh of the same shape (size-1 axes aside) names them instead.

    Returns:
        ``(mesh, source)`` with source ``"given"``, ``"sdy"``, ``"replica_groups"``,
        or ``(None, None)``.
    """
    if mesh is not None:
        return mesh, "given"
    sdy = sdy_meshes(graph)
    if sdy:
        return next(iter(sdy.values())), "sdy"
    m = mesh_of(graph, only)
    return (m, "replica_groups") if m is not None else (None, None)


def _tile_axes(
    dims: list[int], devices: list[int], rank: int, mesh: Mesh
) -> list[list[str]] | None:
    """Mesh axes along which the tiles of each tensor dimension are laid out."""
    where = {dev: i for i, dev in enumerate(mesh.device_ids)}
    if len(devices) != math.prod(dims) or any(d not in where for d in devices):
        return None
    coords = np.array([np.unravel_index(where[d], mesh.shape) for d in devices]).reshape(
        [*dims, len(mesh.shape)]
    )
    out: list[list[str]] = []
    for i in range(rank):
        if dims[i] == 1:
            out.append([])
            continue
        axes = [
            a
            for a in range(len(mesh.shape))
            if mesh.shape[a] > 1 and np.any(np.diff(coords[..., a], axis=i) != 0)
        ]
        if math.prod(mesh.shape[a] for a in axes) != dims[i]:
            return None
        out.append([mesh.axes[a] for a in axes])
    return out


def _from_hlo(p: dict[str, Any], rank: int | None, mesh: Mesh | None) -> dict[str, Any]:
    """The ``sharding`` record of a decoded HLO sharding (``sharding_parsed``)."""
    t = p["type"]
    if t == "tuple":
        elems = [_from_hlo(e, None, mesh) for e in p["tuple"]]
        return {
            "type": "tuple",
            "replicated": all(e["replicated"] for e in elems),
            "manual": any(e["manual"] for e in elems),
            "tile_dims": None,
            "devices": None,
            "subgroups": [],
            "mesh_axes": None,
            "tuple": elems,
        }
    rec: dict[str, Any] = {
        "type": t,
        "replicated": t == "replicated",
        "manual": t == "manual",
        "tile_dims": None,
        "devices": None,
        "subgroups": [],
        "mesh_axes": None if rank is None else [[] for _ in range(rank)],
    }
    if t == "maximal":
        rec["device"] = p["device"]
        rec["mesh_axes"] = None
    if t == "tiled":
        dims = list(p["tile_dims"])
        kinds = list(p.get("last_tile_dims") or [])
        r = len(dims) - len(kinds)
        rec["tile_dims"] = dims[:r]
        rec["devices"] = list(p["devices"])
        rec["subgroups"] = [[k, n] for k, n in zip(kinds, dims[r:])]
        rec["manual"] = "manual" in kinds
        rec["replicated"] = all(n == 1 for n in dims[:r]) and not rec["manual"]
        rec["mesh_axes"] = None if mesh is None else _tile_axes(dims, rec["devices"], r, mesh)
    return rec


def _from_sdy(text: str, meshes: dict[str, Mesh], mesh: Mesh | None) -> dict[str, Any] | None:
    """The ``sharding`` record of a Shardy ``#sdy.sharding<@mesh, [{"data"}, {}]>``."""
    m = _SDY_SHARDING.search(text)
    if m is None:
        return None
    msh = meshes.get(m.group("mesh"))
    if msh is None:
        msh = mesh
    dims_axes: list[list[str]] = []
    for body in _SDY_DIM.findall(m.group("dims")):
        found = _SDY_DIM_AXIS.findall(body)
        if any(sub for _, sub in found):
            return None  # sub-axes ("x":(1)2): not decoded
        dims_axes.append([a for a, _ in found])
    rec: dict[str, Any] = {
        "type": "replicated",
        "replicated": True,
        "manual": False,
        "tile_dims": None,
        "devices": None,
        "subgroups": [],
        "mesh_axes": dims_axes,
    }
    if not any(dims_axes):
        return rec
    if msh is None or any(a not in msh.axes for ax in dims_axes for a in ax):
        rec.update(type="tiled", replicated=False, mesh_axes=dims_axes)
        return rec
    size = dict(zip(msh.axes, msh.shape))
    used = [msh.axes.index(a) for ax in dims_axes for a in ax]
    rest = [i for i in range(len(msh.axes)) if i not in used]
    grid = np.asarray(msh.device_ids).reshape(msh.shape).transpose(used + rest)
    tile = [math.prod(size[a] for a in ax) for ax in dims_axes]
    left = math.prod(msh.shape[i] for i in rest)
    rec.update(
        type="tiled",
        replicated=False,
        tile_dims=tile,
        devices=[int(x) for x in grid.reshape(-1)],
        subgroups=[["replicated", left]] if left > 1 else [],
    )
    return rec


def _device_shape(shape: tuple[int, ...], rec: dict[str, Any] | None) -> tuple[int, ...] | None:
    if rec is None or rec["type"] in ("tuple", "unknown", "unreduced"):
        return None
    tiles = rec["tile_dims"]
    if tiles is None:
        return shape if rec["type"] in ("replicated", "manual", "maximal") else None
    if len(tiles) != len(shape):
        return None
    return tuple(-1 if n < 0 else -(-n // t) for n, t in zip(shape, tiles))


_EDGE_KEYS = ("operand_index", "kind", "dtype", "shape")
_new_dev_edge = split_template(dict.fromkeys((*_EDGE_KEYS, "device_shape"))).copy


def annotate(
    graph: nx.MultiDiGraph, mesh: Mesh | None = None, *, only: Collection[str] | None = None
) -> nx.MultiDiGraph:
    """Store sharding, per-device shape and collective records on a graph's nodes.

    Fills the schema fields ``sharding``, ``device_shape`` and ``collective`` of every
    node, ``device_shape`` on the edges out of nodes that have one, and
    ``graph.graph["attrs"]["spmd"]`` (mesh, whether the module is partitioned) when
    the module has any sharding or collective. Readers call it; calling it again
    (with a dump manifest's mesh) overwrites the records.

    Args:
        graph: an xlalens graph (HLO or StableHLO, any stage).
        mesh: the device mesh naming the axes; None: the module's own
            (:func:`module_mesh`).
        only: the nodes that can get a record (a reader's nodes with a key of
            :data:`SPMD_ATTRS` or a collective op); every other node must still
            hold the reader's None in all three fields. None: every node. The HLO
            reader passes them so that a module without SPMD is not walked again
            (issue 23).

    Returns:
        The same graph.

    Example:
        >>> g = annotate(load("DIR:jax:hlo"))  # doctest: +SKIP
        >>> g.nodes["main.8/x.1"]["sharding"]["mesh_axes"], g.nodes["main.8/x.1"]["device_shape"]  # doctest: +SKIP
        ([['data'], []], (1, 1))
    """
    ga = graph.graph
    attrs = ga.setdefault("attrs", {})
    mesh, source = module_mesh(graph, mesh, only)
    meshes = sdy_meshes(graph)
    n_part = attrs.get("num_partitions", attrs.get("mhlo.num_partitions", 1))
    n_rep = attrs.get("replica_count", attrs.get("mhlo.num_replicas", 1))
    try:
        total = int(n_part or 1) * int(n_rep or 1)
    except (TypeError, ValueError):
        total = 1
    partitioned = ga.get("format") == "hlo" and ga.get("stage") == "optimized_hlo" and total > 1
    nodes = graph._node
    any_spmd = total > 1
    with_shape: list[str] = []
    had_shape: list[str] = []
    for nid, d in nodes.items() if only is None else [(n, nodes[n]) for n in only]:
        if d.get("device_shape") is not None:
            had_shape.append(nid)
        a = d["attrs"]
        rec = None
        if a:
            parsed = a.get("sharding_parsed")
            array = d["dtype"] not in ("tuple", "token", "none")
            rank = len(d["shape"]) if array else None
            if parsed is not None:
                rec = _from_hlo(parsed, rank, mesh)
            else:
                text = a.get("sdy.sharding", a.get("sharding"))
                if isinstance(text, str) and "#sdy.sharding<" in text:
                    rec = _from_sdy(text, meshes, mesh)
                else:
                    text = a.get("mhlo.sharding")
                    p = parse_sharding(text) if isinstance(text, str) else None
                    if p is not None:
                        rec = _from_hlo(p, rank, mesh)
        d["sharding"] = rec
        dev = None
        if rec is not None:
            any_spmd = True
            if array and not partitioned:
                dev = _device_shape(d["shape"], rec)
        d["device_shape"] = dev
        if dev is not None:
            with_shape.append(nid)
        crec = _collective_record(graph, nid, mesh, total) if d["op"] in _COLLECTIVE_OPS else None
        d["collective"] = crec
        if crec is not None:
            any_spmd = True
    for nid in had_shape:  # edges are refreshed on every call
        for _v, keydict in graph._adj[nid].items():
            for e in keydict.values():
                e.pop("device_shape", None)
    # NOTE: [edges with a device shape] A key added to the reader's 4-key edge dict
    # (NOTE [one key table for every node] in ``xlalens.ir._dicts``) makes it a plain
    # dict sized for growth, 272 bytes instead of 112: on the HLO reader's fresh graph
    # (``only``) such an edge is replaced by a copy of a 5-key template instead (1.3 MB
    # of a sharded 156k-instruction module, issue 23). Other graphs are changed in
    # place, as a caller may hold their edge dicts.
    fresh = only is not None
    for nid in with_shape:
        dev = nodes[nid]["device_shape"]
        for _v, keydict in graph._adj[nid].items():
            for k, e in list(keydict.items()):
                if "result_index" in e:
                    continue
                if fresh and tuple(e) == _EDGE_KEYS:
                    e2 = _new_dev_edge()
                    e2.update(e)
                    e2["device_shape"] = dev
                    keydict[k] = e2  # the key dict is shared by _succ and _pred
                else:
                    e["device_shape"] = dev
    if any_spmd:
        attrs["spmd"] = {
            "mesh": None
            if mesh is None
            else {
                "axes": list(mesh.axes),
                "shape": list(mesh.shape),
                "device_ids": list(mesh.device_ids),
            },
            "mesh_source": source,
            "devices": total if total > 1 else (len(mesh.device_ids) if mesh else 1),
            "partitioned": partitioned,
        }
    else:
        attrs.pop("spmd", None)
    return graph


def sharding_text(rec: dict[str, Any] | None) -> str | None:
    """A node's ``sharding`` record in one short line (diff and render labels).

    Tiled dimensions show their mesh axes (``{data}``) or, without a mesh, their
    tile count (``4``); an unsplit dimension is ``-``; trailing replication or
    manual subgroups follow.

    Example:
        >>> sharding_text({"type": "tiled", "replicated": False, "manual": False,
        ...     "tile_dims": [4, 1], "devices": list(range(8)),
        ...     "subgroups": [["replicated", 2]], "mesh_axes": [["data"], []]})
        '[{data}, -] replicated x2'
    """
    if rec is None:
        return None
    t = rec["type"]
    if t == "tuple":
        return "(" + ", ".join(str(sharding_text(e)) for e in rec.get("tuple", [])) + ")"
    if t == "maximal":
        return f"maximal device {rec.get('device')}"
    if t != "tiled":
        return t
    axes = rec.get("mesh_axes")
    tiles = rec.get("tile_dims") or []
    dims = []
    for i, n in enumerate(tiles if tiles else [0] * len(axes or [])):
        names = axes[i] if axes is not None and i < len(axes) else None
        if names:
            dims.append("{" + ",".join(names) + "}")
        else:
            dims.append("-" if n == 1 or (names == [] and n in (0, 1)) else str(n))
    text = "[" + ", ".join(dims) + "]"
    for kind, n in rec.get("subgroups") or []:
        text += f" {kind} x{n}"
    return text


def collective_text(rec: dict[str, Any] | None) -> str | None:
    """A node's ``collective`` record in one short line: kind, axes, group, bytes per device.

    Example:
        >>> collective_text({"kind": "all-reduce", "groups": [[0, 1]], "group_size": 2,
        ...     "operand_bytes": 64, "bytes_per_device": 64, "axes": ["data"]})
        'all-reduce over data (group 2), 64 B/device'
    """
    if rec is None:
        return None
    axes = rec.get("axes")
    over = "?" if axes is None else (",".join(axes) or "-")
    return (
        f"{rec['kind']} over {over} (group {rec['group_size']}), "
        f"{rec['bytes_per_device']:,} B/device"
    )
