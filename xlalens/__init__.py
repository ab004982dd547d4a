"""xlalens: see what each framework hands to XLA, what XLA makes of it, and what it costs.

The pipeline, one subpackage per stage:

    capture   (xlalens.capture)  run each framework in its own subprocess, write a dump
    normalize (xlalens.ir)       HLO / StableHLO text -> one networkx graph schema
    diff      (xlalens.diff)     structural matching of two graphs
    render    (xlalens.render)   graphviz SVG of graphs and diffs
    time      (xlalens.timing)   PJRT compile + execute, per-kernel profile, roofline
    compile   (xlalens.targets)  compile-only for GPUs and TPUs, one subprocess per plugin
    export    (xlalens.export)   Model Explorer graph JSON and node-data overlays

This module only re-exports the public API. ``xlalens.diff`` and
``xlalens.render`` are the functions; their subpackages stay importable as
``from xlalens.diff import Diff`` and ``from xlalens.render import write_svgs``.
The offline report.html is assembled on top of the stages by ``xlalens.report``.
"""

# First: sets the XLA log level before the stages load jaxlib (xlalens/_logs.py).
from xlalens import _logs  # noqa: F401
from xlalens._errors import DumpError, FrontendError, ParseError, UsageError, XlalensError
from xlalens._pipeline import capture, dump
from xlalens._version import __version__
from xlalens.capture import Capture, DumpResult
from xlalens.diff import Diff, diff
from xlalens.export import ExportResult, export
from xlalens.frontends import FRONTENDS
from xlalens.ir import SchemaError, load, normalize, stats, validate
from xlalens.render import render
from xlalens.report import refresh_report, write_report
from xlalens.targets import compile_for
from xlalens.timing import TimingOptions, time_dump
from xlalens.workloads import Workload

__all__ = [
    "FRONTENDS",
    "Capture",
    "Diff",
    "DumpError",
    "DumpResult",
    "ExportResult",
    "FrontendError",
    "ParseError",
    "SchemaError",
    "TimingOptions",
    "UsageError",
    "Workload",
    "XlalensError",
    "__version__",
    "capture",
    "compile_for",
    "diff",
    "dump",
    "export",
    "load",
    "normalize",
    "refresh_report",
    "render",
    "stats",
    "time_dump",
    "validate",
    "write_report",
]
