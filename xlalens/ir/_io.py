"""Saving and re-reading graphs: node-link JSON and GraphML, both lossless.

NOTE: [what "lossless" takes]
JSON has no tuples, no NaN/Infinity (in the standard) and no int keys; GraphML
has only scalar attributes. So values are stored as JSON with two tags: a tuple
is ``{"__tuple__": [...]}`` and a non-finite float is ``{"__float__": "nan"}``
(a dict that itself has one of those keys as its only key is wrapped in
``{"__dict__": {...}}``). The schema's ``shape`` and ``device_shape`` fields, tuples on every node and
edge, and the nodes' ``calls``, are written as plain lists to keep the files readable and turned back into
tuples on reading. Node order is kept, and edges are written per consumer in
operand order, so each node's operands come back in the same order (see
:func:`_edges_by_consumer`).
GraphML stores each attribute as a JSON string (GraphML has no nested values),
and the graph attributes in one ``xlalens_graph`` data element of the graph.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import networkx as nx

from xlalens._errors import ParseError, UsageError

JSON_FORMAT = "xlalens-graph"
_TAGS = ("__tuple__", "__float__", "__dict__")
_SHAPES = ("shape", "device_shape")
# Node fields that are tuples of plain values, written as plain lists (NOTE above).
_PLAIN_TUPLES = frozenset({*_SHAPES, "calls"})


def _enc(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return {"__float__": repr(v)}
    if isinstance(v, tuple):
        return {"__tuple__": [_enc(x) for x in v]}
    if isinstance(v, list):
        return [_enc(x) for x in v]
    if isinstance(v, dict):
        d = {k: _enc(x) for k, x in v.items()}
        if len(d) == 1 and next(iter(d)) in _TAGS:
            return {"__dict__": d}
        return d
    return v


def _dec(v: Any) -> Any:
    if isinstance(v, list):
        return [_dec(x) for x in v]
    if isinstance(v, dict):
        if len(v) == 1:
            ((k, x),) = v.items()
            if k == "__tuple__":
                return tuple(_dec(i) for i in x)
            if k == "__float__":
                return float(x)
            if k == "__dict__":
                return {kk: _dec(xx) for kk, xx in x.items()}
        return {k: _dec(x) for k, x in v.items()}
    return v


def _enc_fields(data: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in data.items():
        if k in _PLAIN_TUPLES and isinstance(v, tuple) and all(type(d) in (int, str) for d in v):
            out[k] = list(v)
        else:
            out[k] = _enc(v)
    return out


def _dec_fields(data: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in data.items():
        if k in _PLAIN_TUPLES and isinstance(v, list):
            out[k] = tuple(v)
        else:
            out[k] = _dec(v)
    return out


def _upgrade(g: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """Graphs saved before the ``sharding``/``device_shape``/``collective`` node fields get them."""
    if any("sharding" not in d for _, d in g.nodes(data=True)):
        from xlalens.ir._collectives import annotate

        for _, d in g.nodes(data=True):
            for k in ("sharding", "device_shape", "collective"):
                d.setdefault(k, None)
        spmd = g.graph.get("attrs", {}).get("spmd") or {}
        annotate(g, _mesh_of_record(spmd.get("mesh")))
    return g


def _mesh_of_record(m: dict | None):
    if not m:
        return None
    from xlalens.ir._collectives import Mesh

    return Mesh(tuple(m["axes"]), tuple(m["shape"]), tuple(m["device_ids"]))


def to_node_link(graph: nx.MultiDiGraph) -> dict[str, Any]:
    """The graph as a JSON-ready node-link dict (networkx's layout, ``links`` for edges)."""
    return {
        "format": JSON_FORMAT,
        "directed": True,
        "multigraph": True,
        "graph": _enc(dict(graph.graph)),
        "nodes": [{"id": n, **_enc_fields(d)} for n, d in graph.nodes(data=True)],
        "links": [
            {"source": u, "target": v, "key": k, **_enc_fields(d)}
            for u, v, k, d in _edges_by_consumer(graph)
        ],
    }


def _edges_by_consumer(graph: nx.MultiDiGraph):
    """Edges grouped by the node that reads them, in node order, then operand order.

    This is the order readers insert edges in (each op's operands as it is
    parsed), so re-reading reproduces the predecessor order exactly and, for
    graphs straight from a reader, the successor order too.
    """
    pred = graph.pred
    for v in graph:
        for u, keydict in pred[v].items():
            for k, d in keydict.items():
                yield u, v, k, d


def from_node_link(data: dict[str, Any]) -> nx.MultiDiGraph:
    """Inverse of :func:`to_node_link`."""
    if not isinstance(data, dict) or "nodes" not in data or "graph" not in data:
        raise ParseError(
            "not an xlalens graph JSON: expected an object with 'graph', 'nodes' and 'links' "
            "(write one with xlalens.ir.to_json)"
        )
    g = nx.MultiDiGraph()
    g.graph.update(_dec(data["graph"]))
    try:
        for n in data["nodes"]:
            n = dict(n)
            g.add_node(n.pop("id"), **_dec_fields(n))
        for e in data.get("links", data.get("edges", [])):
            e = dict(e)
            u, v, k = e.pop("source"), e.pop("target"), e.pop("key")
            g.add_edge(u, v, key=k, **_dec_fields(e))
    except (KeyError, TypeError) as exc:
        raise ParseError(f"malformed xlalens graph JSON: a node or link lacks {exc}") from None
    return _upgrade(g)


def to_json(
    graph: nx.MultiDiGraph, path: str | Path | None = None, *, indent: int | None = None
) -> str:
    """Serialize a graph as node-link JSON (optionally also writing it to ``path``).

    Args:
        graph: an xlalens graph.
        path: file to write; parent folders must exist.
        indent: JSON indentation (``None``: compact, the dump's choice).

    Returns:
        The JSON text.

    Example:
        >>> text = to_json(load("step.mlir"))  # doctest: +SKIP
        >>> from_json(text).number_of_nodes()  # doctest: +SKIP
    """
    text = json.dumps(to_node_link(graph), indent=indent, allow_nan=False, ensure_ascii=False)
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text


def from_json(text_or_path: str | Path, *, source: str | None = None) -> nx.MultiDiGraph:
    """Read a graph written by :func:`to_json` (from its text or a file path).

    Args:
        text_or_path: JSON text, or the path of a ``.json`` file.
        source: the file's name for error messages (default: the path given).

    Returns:
        The graph, equal to the one written (nodes, edges, keys, attributes, graph attributes).

    Raises:
        ParseError: the text is not JSON or not an xlalens graph.

    Example:
        >>> g = from_json("dump/jax/graphs/stablehlo.raw.json")  # doctest: +SKIP
    """
    text = _read(text_or_path, "{")
    # Name the file in errors (a path, not the JSON text itself).
    if source is None and not str(text_or_path).lstrip().startswith(("{", "[")):
        source = str(text_or_path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(
            f"not JSON: {exc.msg}",
            line=exc.lineno,
            column=exc.colno,
            snippet=text.splitlines()[exc.lineno - 1][:200] if text.splitlines() else "",
            source=source,
        ) from None
    if source and isinstance(data, dict) and "frontends" in data and "format_version" in data:
        folder = Path(source).parent
        raise ParseError(
            f"this is a dump's manifest, not a graph; give one of its graphs as "
            f"{folder}:FRONTEND[:ARTIFACT] (frontends: {', '.join(data['frontends']) or 'none'})",
            source=source,
        )
    try:
        return from_node_link(data)
    except ParseError as exc:
        if source is None or exc.source is not None:
            raise
        raise ParseError(str(exc).split(": ", 1)[-1], source=source) from None


def _read(text_or_path: str | Path, first: str) -> str:
    if isinstance(text_or_path, Path) or (
        isinstance(text_or_path, str) and not text_or_path.lstrip().startswith(first)
    ):
        p = Path(text_or_path)
        try:
            return p.read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot read {str(p)!r}: {exc.strerror or exc}") from None
    return str(text_or_path)


def to_graphml(graph: nx.MultiDiGraph, path: str | Path | None = None) -> str:
    """Serialize a graph as GraphML; every attribute value is a JSON string.

    Args:
        graph: an xlalens graph.
        path: file to write, optional.

    Returns:
        The GraphML text.

    Example:
        >>> from_graphml(to_graphml(g)).graph == g.graph  # doctest: +SKIP
        True
    """
    h = nx.MultiDiGraph()
    h.graph["xlalens_graph"] = json.dumps(_enc(dict(graph.graph)), allow_nan=False)
    for n, d in graph.nodes(data=True):
        h.add_node(n, **{k: json.dumps(v, allow_nan=False) for k, v in _enc_fields(d).items()})
    for seq, (u, v, k, d) in enumerate(_edges_by_consumer(graph)):
        attrs = {kk: json.dumps(vv, allow_nan=False) for kk, vv in _enc_fields(d).items()}
        # networkx iterates parsed edges by source node, not in document order:
        # the sequence number restores the order they were written in.
        h.add_edge(u, v, key=k, xlalens_key=json.dumps([seq, k]), **attrs)
    text = "\n".join(nx.generate_graphml(h, encoding="utf-8", prettyprint=True))
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text


def from_graphml(text_or_path: str | Path) -> nx.MultiDiGraph:
    """Read a graph written by :func:`to_graphml` (its text or a file path).

    Raises:
        ParseError: not GraphML, or GraphML not written by xlalens.

    Example:
        >>> g = from_graphml("step.graphml")  # doctest: +SKIP
    """
    text = _read(text_or_path, "<")
    try:
        h = nx.parse_graphml(text, force_multigraph=True)
    except Exception as exc:  # networkx raises ElementTree/NetworkX errors of several kinds
        raise ParseError(f"not GraphML: {exc}") from None
    if "xlalens_graph" not in h.graph:
        raise ParseError("GraphML without xlalens graph data; write it with xlalens.ir.to_graphml")
    g = nx.MultiDiGraph()
    try:
        g.graph.update(_dec(json.loads(h.graph["xlalens_graph"])))
        for n, d in h.nodes(data=True):
            g.add_node(n, **_dec_fields({k: json.loads(v) for k, v in d.items()}))
        edges = []
        for u, v, d in h.edges(data=True):
            d = dict(d)
            seq, k = json.loads(d.pop("xlalens_key"))
            edges.append((seq, u, v, k, d))
        for _, u, v, k, d in sorted(edges, key=lambda e: e[0]):
            g.add_edge(u, v, key=k, **_dec_fields({kk: json.loads(vv) for kk, vv in d.items()}))
    except (KeyError, TypeError, ValueError) as exc:
        raise ParseError(f"malformed xlalens GraphML: {exc}") from None
    return _upgrade(g)
