"""xlalens.render: graphs and diffs as SVG (graphviz).

Stages inside: the unit tree and view planning (``_view``: collapse by kernel,
name scope and layer-name family, drill-downs for what stays collapsed), the
layout budget (``_budget``: what a view may hold, ``dot``'s cost model, the
deadlines), DOT layout (``_dot``: parallel ``dot`` processes, deadline and the
cheaper-mode fallback), FLOPs per group (``_cost``, through the project's cost
model), the public calls (``_render``), the viewer script every written SVG
carries (``_svgjs``). The dump's report.html is assembled one floor up, in
:mod:`xlalens.report`. See docs/render.md.
"""

from xlalens.render._dot import GraphvizNotFound, find_dot
from xlalens.render._render import (
    DEFAULT_BUDGET,
    DiffPairs,
    Rendering,
    diff_from_json,
    render,
    render_views,
    write_svgs,
)
from xlalens.render._style import category
from xlalens.render._view import MODES

__all__ = [
    "DEFAULT_BUDGET",
    "MODES",
    "DiffPairs",
    "GraphvizNotFound",
    "Rendering",
    "category",
    "diff_from_json",
    "find_dot",
    "render",
    "render_views",
    "write_svgs",
]
