"""An xlalens graph -> Model Explorer's graph JSON (a ``GraphCollection``).

Model Explorer (the ``ai-edge-model-explorer`` package) draws any graph its
``graph_builder`` dataclasses describe: a collection of graphs, each a list of
nodes with ``id``, ``label``, ``namespace`` (a ``a/b/c`` path that becomes
nested, collapsible layers), ``attrs`` (key/value strings for the side panel),
``incomingEdges`` (``sourceNodeId``/``sourceNodeOutputId``/``targetNodeInputId``),
``subgraphIds`` (other graphs of the collection the node opens) and
``outputsMetadata``. Its built-in JSON loader reads such a collection from a
``.json`` file (``{"label": ..., "graphs": [...]}``).

NOTE: [computations are graphs, name scopes are layers]
Each computation of the module is one Model Explorer graph, named after it; an
instruction that calls computations (a fusion's body, a loop's body and
condition, a reduce's reducer, branches, calls) lists them in ``subgraphIds``,
so a fused body opens from its fusion node. Inside a graph the namespace is the
instruction's name scope (``metadata.op_name`` in HLO, the ``loc`` name in
StableHLO) without its last component (the op itself) and without the leading
components every scoped node shares (``jit(train_step)``); ``_layers`` then
hoists jax's transforms (forward ``jvp``, backward ``transpose(jvp)``) to the
top, groups crowded levels by name prefix, and puts unscoped instructions with
their users, so a 25k-instruction module opens collapsed to a handful of layers
(NOTE [a ResNet-size graph opens collapsed to a few layers] there).
Edges keep operand order (``targetNodeInputId`` is the operand index); MLIR
``capture`` edges, which cross regions, are left out (the region's graph has no
node for the outer value).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import networkx as nx

from xlalens.export._layers import PARAMETERS_LAYER, layer_paths
from xlalens.ir._cost import by_computation, node_bytes, node_cost_flops

__all__ = ["PARAMETERS_LAYER", "graph_collection"]

# Attributes of the op (``attrs`` in the schema) shown in the side panel, when present.
_OP_ATTRS = (
    "kind",
    "custom_call_target",
    "dimensions",
    "window",
    "dim_labels",
    "lhs_contracting_dims",
    "rhs_contracting_dims",
    "comparison_direction",
    "literal",
    "index",
)


def _fmt_num(x: float | None) -> str:
    if x is None:
        return "unknown"
    return f"{int(x):,}" if float(x).is_integer() else f"{x:.4g}"


def _attr_text(v: Any) -> str:
    if isinstance(v, str):
        return v
    text = json.dumps(v, default=str)
    return text if len(text) <= 400 else text[:397] + "..."


def _kv(key: str, value: Any) -> dict[str, Any]:
    return {"key": key, "value": value if isinstance(value, str) else _attr_text(value)}


def graph_collection(
    graph: nx.MultiDiGraph,
    *,
    label: str | None = None,
    extra_attrs: Mapping[str, Mapping[str, str]] | None = None,
) -> dict[str, Any]:
    """Model Explorer's ``GraphCollection`` for one xlalens graph, as plain JSON data.

    Args:
        graph: a validated xlalens graph (``xlalens.load``), any stage or level.
        label: the collection's label (default: the module name).
        extra_attrs: node id -> extra side-panel attributes (e.g. a diff status).

    Returns:
        ``{"label", "graphs", "graphSorting"}``; each graph is
        ``{"id", "nodes", "groupNodeAttributes"}`` with the nodes as described in the
        module docstring. The entry computation's graph comes first.

    Example:
        >>> doc = graph_collection(xlalens.load("optimized_hlo.txt"))  # doctest: +SKIP
        >>> doc["graphs"][0]["nodes"][0]["incomingEdges"]  # doctest: +SKIP
    """
    gm = graph.graph
    comps: dict[str, dict] = gm.get("computations", {})
    entry = gm.get("entry", "")
    index = by_computation(graph)
    optimized = gm.get("stage") == "optimized_hlo"
    nodes = graph._node
    pred = graph._pred
    succ = graph._succ
    extra = extra_attrs or {}
    order = [entry] + [c for c in comps if c != entry] if entry in comps else list(comps)
    order += [c for c in index if c not in comps]
    graphs = []
    for comp in order:
        ids = index.get(comp, [])

        def linked(nid: str, adj: Any = succ, comp: str = comp) -> list[str]:
            # neighbours in this computation, capture edges left out; asked of unscoped nodes only
            return [
                v
                for v, keyed in adj[nid].items()
                if nodes[v]["computation"] == comp
                and any(e.get("kind") != "capture" for e in keyed.values())
            ]

        big_entry = comp == entry and len(ids) > 50
        spaces = layer_paths(
            ids,
            nodes,
            linked,
            lambda nid, comp=comp: linked(nid, pred, comp),
            parameters_layer=big_entry,
        )
        out_nodes = []
        for nid in ids:
            d = nodes[nid]
            namespace = spaces[nid]
            edges = []
            for u, keyed in pred[nid].items():
                if nodes[u]["computation"] != comp:
                    continue  # a capture edge from an enclosing region (NOTE above)
                for k, e in keyed.items():
                    if e.get("kind") == "capture":
                        continue
                    edges.append(
                        (
                            e.get("operand_index", k),
                            {
                                "sourceNodeId": nodes[u]["name"],
                                "sourceNodeOutputId": str(e.get("result_index", 0)),
                                "targetNodeInputId": str(e.get("operand_index", k)),
                            },
                        )
                    )
            edges.sort(key=lambda t: t[0])
            # the schema's string fields go in as they are (no _kv call per pair: NOTE
            # [a ResNet-size graph...] counts CPU here, 25k nodes x ~12 pairs)
            attrs = [
                {"key": "name", "value": d["name"]},
                {"key": "opcode", "value": d["opcode"]},
                {"key": "op", "value": d["op"]},
                {"key": "shape", "value": d["type"]},
                {"key": "dtype", "value": d["dtype"]},
            ]
            if d["role"]:
                attrs.append({"key": "role", "value": d["role"]})
            if d["op_name"]:
                attrs.append({"key": "op_name", "value": d["op_name"]})
            if d["source_file"] or d["source_line"] is not None:
                where = f"{d['source_file'] or '?'}:{d['source_line'] if d['source_line'] is not None else '?'}"
                attrs.append(_kv("source", where))
            flops = node_cost_flops(graph, nid, index)
            attrs.append({"key": "flops", "value": _fmt_num(flops)})
            attrs.append({"key": "bytes", "value": _fmt_num(node_bytes(graph, nid))})
            if optimized and d["fusion"]:
                kernel = d["fusion"].rsplit("/", 1)[-1]
                attrs.append({"key": "kernel", "value": kernel})
            if d["layout"]:
                attrs.append({"key": "layout", "value": d["layout"]})
            op_attrs = d["attrs"]
            for key in _OP_ATTRS:
                if key in op_attrs and op_attrs[key] is not None:
                    attrs.append(_kv(key, op_attrs[key]))
            if d["sharding"]:
                attrs.append(_kv("sharding", d["sharding"]))
            if d["collective"]:
                attrs.append(_kv("collective", d["collective"]))
            for key, value in (extra.get(nid) or {}).items():
                attrs.append(_kv(key, value))
            label_text = d["name"] if d["op"] in ("fusion", "custom-call") else d["opcode"]
            node: dict[str, Any] = {
                "id": d["name"],
                "label": label_text,
                "namespace": namespace,
                "subgraphIds": [c for c in d["calls"] if c in index],
                "attrs": attrs,
                "incomingEdges": [e for _, e in edges],
                "outputsMetadata": [
                    {
                        "id": "0",
                        "attrs": [
                            {"key": "tensor_shape", "value": d["type"]},
                            {"key": "__tensor_tag", "value": d["name"]},
                        ],
                    }
                ],
                "inputsMetadata": [],
            }
            out_nodes.append(node)
        info = comps.get(comp, {})
        group_attrs = {
            "": {
                "computation": comp,
                "kind": str(info.get("kind", "")),
                "module": str(gm.get("module", "")),
                "stage": str(gm.get("stage", "")),
                "level": str(gm.get("level", "")),
                "instructions": str(len(ids)),
            }
        }
        graphs.append({"id": comp, "nodes": out_nodes, "groupNodeAttributes": group_attrs})
    return {
        "label": label or str(gm.get("module") or "xlalens"),
        "graphs": graphs,
        "graphSorting": "node_count_desc",
    }
