"""Model Explorer node-data overlays from what xlalens measured: kernel times, roofline, diff status.

Model Explorer colours nodes from "node data" JSON (``model_explorer.node_data_builder``):
a ``ModelNodeData`` document maps a graph id to a ``GraphNodeData``, whose
``results`` map a node id to ``{"value": ...}`` (optionally ``bgColor``), and whose
``gradient`` (stops 0..1 over the min..max value) or ``thresholds`` pick each
node's colour. One overlay is one such document; Model Explorer lists each
loaded overlay by its file name and shows its value on every node it colours.

NOTE: [where the numbers come from] This stage reads measured numbers from the
dump folder, never from another stage's code: ``xlalens time`` writes
``DIR/timing/<backend>.json`` (docs/timing.md), whose ``frontends[fe].kernels``
list each kernel's ``name`` (an entry instruction of the optimized HLO it timed),
``median_s``, ``share`` and ``fraction_of_roofline``; ``xlalens passes --blame`` writes
``DIR/<fe>/passes/passes.json``, whose ``timeline.kernels`` say which pass created
each kernel and which changed it (docs/passes.md). A diff status comes in as plain
data (node id -> status) from the caller, which computes the diff.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx

DIFF_STATUSES = ("unchanged", "changed", "only-A", "only-B")
"""The diff statuses an overlay shows (``only-A``: the node has no partner in B)."""
_DIFF_COLORS = {
    "unchanged": "#e8e8e8",
    "changed": "#f4a640",
    "only-A": "#e0625a",
    "only-B": "#5ab56a",
}
_HEAT = [
    {"stop": 0, "bgColor": "#fff5eb"},
    {"stop": 0.5, "bgColor": "#fd8d3c"},
    {"stop": 1, "bgColor": "#a63603"},
]
# Low roofline fraction = far from the hardware bound = red; near it = green.
_ROOF = [
    {"stop": 0, "bgColor": "#d7301f"},
    {"stop": 0.5, "bgColor": "#fee08b"},
    {"stop": 1, "bgColor": "#1a9850"},
]


@dataclass(frozen=True, slots=True)
class Overlay:
    """One Model Explorer node-data document."""

    name: str
    """What it shows, e.g. ``"kernel time (ms) jax cpu"``; also its file name's slug."""
    data: dict[str, Any]
    """The ``ModelNodeData`` JSON: graph id -> ``GraphNodeData``."""
    nodes: int
    """Nodes it gives a value to."""
    of: int
    """Nodes it could have coloured (kernels timed, or graph nodes for a diff)."""

    @property
    def slug(self) -> str:
        """A file-name-safe form of :attr:`name`."""
        return re.sub(r"[^A-Za-z0-9]+", "-", self.name).strip("-").lower()

    def to_json_text(self) -> str:
        """The document as Model Explorer reads it."""
        return json.dumps(self.data, separators=(",", ":"))


def _graph_data(name: str, results: dict[str, Any], **style: Any) -> dict[str, Any]:
    return {"name": name, "results": results, **style}


def timing_overlays(
    graph: nx.MultiDiGraph, frontend_timing: Mapping[str, Any], *, label: str = ""
) -> list[Overlay]:
    """Kernel time, share of the step and roofline fraction of the timed kernels.

    Args:
        graph: the optimized HLO graph the kernels were timed on (the names of its
            entry instructions are the kernels' names).
        frontend_timing: one frontend's record of a timing results document
            (``doc["frontends"][fe]``, docs/timing.md).
        label: appended to each overlay's name (e.g. ``"jax cpu"``).

    Returns:
        Up to three overlays (none when no kernel name matches an entry node).

    Example:
        >>> doc = json.load(open("xlalens-dump/timing/cpu.json"))  # doctest: +SKIP
        >>> [o.name for o in timing_overlays(g, doc["frontends"]["jax"], label="jax cpu")]  # doctest: +SKIP
        ['kernel time (ms) jax cpu', 'share of step (%) jax cpu', 'roofline fraction jax cpu']
    """
    entry = graph.graph.get("entry", "")
    names = {d["name"] for d in graph._node.values() if d["computation"] == entry}
    kernels = [k for k in frontend_timing.get("kernels") or [] if isinstance(k, Mapping)]
    matched = [k for k in kernels if k.get("name") in names]
    if not matched:
        return []
    suffix = f" {label}" if label else ""
    out = []
    specs = (
        ("kernel time (ms)", "median_s", 1e3, _HEAT),
        ("share of step (%)", "share", 100.0, _HEAT),
        ("roofline fraction", "fraction_of_roofline", 1.0, _ROOF),
    )
    for title, key, scale, gradient in specs:
        results = {
            k["name"]: {"value": float(k[key]) * scale}
            for k in matched
            if isinstance(k.get(key), (int, float))
        }
        if results:
            name = title + suffix
            out.append(
                Overlay(
                    name=name,
                    data={entry: _graph_data(name, results, gradient=gradient)},
                    nodes=len(results),
                    of=len(kernels),
                )
            )
    return out


def diff_overlay(
    graph: nx.MultiDiGraph, status: Mapping[str, str], *, label: str = "diff status"
) -> Overlay:
    """Diff status (unchanged / changed / only-A / only-B) of every node of one side.

    Args:
        graph: one side of a diff (the graph whose node ids ``status`` uses).
        status: node id -> one of :data:`DIFF_STATUSES`; nodes not listed are left blank.
        label: the overlay's name.

    Returns:
        The :class:`Overlay`: string values with one colour per status, per computation.

    Example:
        >>> d = xlalens.diff("a.txt", "b.txt")  # doctest: +SKIP
        >>> diff_overlay(d.a, {p.a: p.status for p in d.pairs})  # doctest: +SKIP
    """
    bad = sorted({s for s in status.values() if s not in DIFF_STATUSES})
    if bad:
        from xlalens._errors import UsageError

        raise UsageError(
            f"diff status {', '.join(map(repr, bad))} is not one of {', '.join(DIFF_STATUSES)}"
        )
    per_graph: dict[str, dict[str, Any]] = {}
    n = 0
    for nid, st in status.items():
        d = graph._node.get(nid)
        if d is None:
            continue
        per_graph.setdefault(d["computation"], {})[d["name"]] = {
            "value": st,
            "bgColor": _DIFF_COLORS[st],
        }
        n += 1
    data = {
        comp: _graph_data(label, results, showExpandedSummaryOnGroupNode=True)
        for comp, results in per_graph.items()
    }
    return Overlay(name=label, data=data, nodes=n, of=graph.number_of_nodes())


# Categorical colours for pass names (ColorBrewer Set3, then repeated).
_PASS_COLORS = (
    "#8dd3c7", "#ffffb3", "#bebada", "#fb8072", "#80b1d3", "#fdb462",
    "#b3de69", "#fccde5", "#d9d9d9", "#bc80bd", "#ccebc5", "#ffed6f",
)  # fmt: skip


def blame_overlays(
    graph: nx.MultiDiGraph, kernels: list[Mapping[str, Any]], *, label: str = ""
) -> list[Overlay]:
    """Pass blame of the kernels: the pass that created each, and how many passes changed it.

    Args:
        graph: the optimized HLO graph whose entry instructions are the kernels.
        kernels: ``passes.json``'s ``timeline.kernels`` records (``kernel``,
            ``created_by``, ``changed_by``).
        label: appended to each overlay's name (e.g. the frontend).

    Returns:
        Two overlays (none when no kernel name matches an entry node).

    Example:
        >>> rec = json.load(open("xlalens-dump/jax/passes/passes.json"))  # doctest: +SKIP
        >>> blame_overlays(g, rec["timeline"]["kernels"], label="jax")  # doctest: +SKIP
    """
    entry = graph.graph.get("entry", "")
    names = {d["name"] for d in graph._node.values() if d["computation"] == entry}
    matched = [k for k in kernels if k.get("kernel") in names]
    if not matched:
        return []
    suffix = f" {label}" if label else ""
    passes = sorted({str(k.get("created_by")) for k in matched})
    colour = {p: _PASS_COLORS[i % len(_PASS_COLORS)] for i, p in enumerate(passes)}
    created = {
        k["kernel"]: {
            "value": str(k.get("created_by")),
            "bgColor": colour[str(k.get("created_by"))],
        }
        for k in matched
    }
    changed = {k["kernel"]: {"value": len(k.get("changed_by") or ())} for k in matched}
    name_c, name_n = "created by pass" + suffix, "passes that changed it" + suffix
    return [
        Overlay(
            name=name_c,
            data={entry: _graph_data(name_c, created, showExpandedSummaryOnGroupNode=True)},
            nodes=len(created),
            of=len(kernels),
        ),
        Overlay(
            name=name_n,
            data={entry: _graph_data(name_n, changed, gradient=_HEAT)},
            nodes=len(changed),
            of=len(kernels),
        ),
    ]


def _dump_of(graph: nx.MultiDiGraph) -> tuple[str | None, str | None, str | None]:
    """``(dump folder, frontend, backend or None)`` the graph came from, or Nones."""
    src = graph.graph.get("source") or {}
    dump, fe, backend = src.get("dump"), src.get("frontend"), None
    path = Path(src.get("path") or "")
    if (dump is None or fe is None) and path.name.endswith(".optimized_hlo.txt"):
        if path.parent.parent.name == "timing":
            dump = str(path.parent.parent.parent)
            fe = path.name[: -len(".optimized_hlo.txt")]
            backend = path.parent.name
    if dump and str(path) and _is_target_compile(path, dump):
        return None, None, None
    return dump, fe, backend


def _is_target_compile(path: Path, dump: str) -> bool:
    """True for ``DIR/targets/<target>/<fe>/...`` (a ``DIR:fe@target`` compile): another
    compiler's module, whose instruction names may coincide with the timed one's by chance."""
    try:
        rel = path.resolve().relative_to(Path(dump).resolve())
    except ValueError:
        return False
    return bool(rel.parts) and rel.parts[0] == "targets"


def blame_source(graph: nx.MultiDiGraph) -> list[dict[str, Any]]:
    """The ``timeline.kernels`` of ``DIR/<fe>/passes/passes.json`` for the dump entry ``graph``
    came from; empty when there is none or it is unreadable."""
    dump, fe, _ = _dump_of(graph)
    if not dump or not fe:
        return []
    try:
        rec = json.loads((Path(dump) / fe / "passes" / "passes.json").read_text())
    except (OSError, ValueError):
        return []
    kernels = ((rec.get("timeline") or {}) if isinstance(rec, dict) else {}).get("kernels")
    return [k for k in kernels or [] if isinstance(k, dict)]


def timing_sources(graph: nx.MultiDiGraph) -> list[tuple[str, str, dict[str, Any]]]:
    """``(backend, frontend, record)`` of every timing result for the dump entry ``graph`` came from.

    ``graph.graph["source"]`` names the dump and frontend for a dump entry
    (``DIR:fe:optimized_hlo``); a file ``DIR/timing/<backend>/<fe>.optimized_hlo.txt``
    (the module ``xlalens time`` compiled and timed) names them by its path.
    Unreadable results files are skipped (the export must not fail on them).
    """
    dump, fe, backend = _dump_of(graph)
    if not dump or not fe:
        return []
    folder = Path(dump) / "timing"
    files = [folder / f"{backend}.json"] if backend else sorted(folder.glob("*.json"))
    out = []
    for f in files:
        try:
            doc = json.loads(f.read_text())
        except (OSError, ValueError):
            continue
        rec = (doc.get("frontends") or {}).get(fe) if isinstance(doc, dict) else None
        if isinstance(rec, dict) and rec.get("kernels"):
            out.append((str(doc.get("backend") or f.stem), fe, rec))
    return out
