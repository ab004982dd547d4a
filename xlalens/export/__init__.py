"""xlalens.export: meet users in the tools they already use (Model Explorer).

Stage walk: a graph from :mod:`xlalens.ir` (any stage, any level) becomes
Model Explorer's graph JSON (``_model_explorer.graph_collection``: computations
are graphs, fused bodies open from their fusion, name scopes are layers); what
xlalens measured becomes Model Explorer node-data overlays (``_overlays``:
kernel time, share, roofline fraction read from ``DIR/timing/<backend>.json``,
and a diff status passed in as plain data). :func:`export` writes both;
``_server`` starts the real Model Explorer on them in its own process
(``xlalens explore``). This stage reads only the ground floor (``xlalens.ir``,
``xlalens.dumpdir``, ``xlalens._errors``) and the dump folder. See docs/export.md.
"""

from xlalens.export._export import FORMATS, ExportResult, default_out, export, overlay_path
from xlalens.export._model_explorer import PARAMETERS_LAYER, graph_collection
from xlalens.export._overlays import (
    DIFF_STATUSES,
    Overlay,
    blame_overlays,
    blame_source,
    diff_overlay,
    timing_overlays,
    timing_sources,
)

__all__ = [
    "DIFF_STATUSES",
    "FORMATS",
    "PARAMETERS_LAYER",
    "ExportResult",
    "Overlay",
    "blame_overlays",
    "blame_source",
    "default_out",
    "diff_overlay",
    "export",
    "graph_collection",
    "overlay_path",
    "timing_overlays",
    "timing_sources",
]
