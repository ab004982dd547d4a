"""Reading timing results back, and putting kernel times onto graph nodes (the heat view)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import networkx as nx

from xlalens._errors import DumpError

TIMING_DIR = "timing"


def load_results(dump_dir: str | Path) -> dict[str, dict[str, Any]]:
    """Every timing results file of a dump, by backend.

    Args:
        dump_dir: a dump folder on which ``xlalens time`` ran (zero or more times).

    Returns:
        ``{backend: results document}`` (schema in docs/timing.md); empty when the
        dump was never timed.

    Raises:
        DumpError: a results file exists but is unreadable or of another schema version.

    Example:
        >>> load_results("xlalens-dump")["cpu"]["frontends"]["jax"]["step"]["median_s"]  # doctest: +SKIP
    """
    from xlalens.timing._records import RESULTS_SCHEMA_VERSION

    out: dict[str, dict[str, Any]] = {}
    folder = Path(dump_dir) / TIMING_DIR
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            doc = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise DumpError(
                f"{path}: unreadable timing results ({exc}); re-run `xlalens time`"
            ) from exc
        if not isinstance(doc, dict) or doc.get("schema_version") != RESULTS_SCHEMA_VERSION:
            raise DumpError(
                f"{path}: timing results schema_version {doc.get('schema_version') if isinstance(doc, dict) else None!r}, "
                f"this xlalens reads {RESULTS_SCHEMA_VERSION}; re-run `xlalens time`"
            )
        out[str(doc.get("backend", path.stem))] = doc
    return out


def annotate(graph: nx.MultiDiGraph, results: dict[str, Any]) -> int:
    """Set ``attrs["time_s"]`` and ``attrs["time_share"]`` on the kernel nodes of a graph.

    Kernels are matched by instruction name among the entry computation's nodes,
    so the graph should be of the optimized HLO the times were measured on
    (``DIR/timing/<backend>/<frontend>.optimized_hlo.txt``; for a CPU capture
    whose ``optimized_hlo_source`` is ``pjrt`` the dump's own optimized HLO has
    the same names). Nodes inside a fusion get ``attrs["kernel_time_s"]`` of their
    kernel, so a heat view can colour an expanded fusion too.

    Args:
        graph: an xlalens graph (``xlalens/ir/_schema.py``) of optimized HLO.
        results: one frontend's entry of a results document
            (``doc["frontends"][frontend]``), or a list of kernel dicts.

    Returns:
        How many kernel nodes got a time (0 means the names did not match).

    Example:
        >>> doc = load_results("xlalens-dump")["cpu"]  # doctest: +SKIP
        >>> annotate(g, doc["frontends"]["jax"])  # doctest: +SKIP
        5
    """
    kernels = results.get("kernels", []) if isinstance(results, dict) else list(results)
    entry = graph.graph.get("entry", "")
    by_name = {k["name"]: k for k in kernels}
    hit = 0
    kernel_nodes: dict[str, dict[str, Any]] = {}
    for nid, data in graph.nodes(data=True):
        if data.get("computation") != entry:
            continue
        k = by_name.get(data.get("name"))
        if k is None:
            continue
        attrs = dict(data.get("attrs") or {})
        attrs["time_s"] = float(k["median_s"])
        attrs["time_share"] = float(k.get("share") or 0.0)
        data["attrs"] = attrs
        kernel_nodes[nid] = k
        hit += 1
    for _nid, data in graph.nodes(data=True):
        fusion = data.get("fusion")
        if fusion in kernel_nodes and data.get("computation") != entry:
            attrs = dict(data.get("attrs") or {})
            attrs["kernel_time_s"] = float(kernel_nodes[fusion]["median_s"])
            data["attrs"] = attrs
    return hit
