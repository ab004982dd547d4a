"""xlalens.render: graphs and diffs as SVG (graphviz), and the offline HTML report.

Stages inside: the unit tree and view planning (``_view``: collapse by kernel,
name scope and layer-name family, drill-downs for what stays collapsed), the
layout budget (``_budget``: what a view may hold, ``dot``'s cost model, the
deadlines), DOT layout (``_dot``: parallel ``dot`` processes, deadline and the
cheaper-mode fallback), FLOPs per group (``_cost``, through the project's cost
model), the public calls (``_render``), the viewer script every written SVG
carries (``_svgjs``), and the dump's report (``_report``) with the sections other
stages provide (``_sections``). See docs/render.md.
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
from xlalens.render._report import build_html, dump_step, render_dump, write_report
from xlalens.render._style import category
from xlalens.render._view import MODES

__all__ = [
    "DEFAULT_BUDGET",
    "MODES",
    "DiffPairs",
    "GraphvizNotFound",
    "Rendering",
    "build_html",
    "category",
    "diff_from_json",
    "dump_step",
    "find_dot",
    "render",
    "render_dump",
    "render_views",
    "write_report",
    "write_svgs",
]
