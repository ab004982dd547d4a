"""Timing stage: compile each capture with PJRT, time it, attribute time to kernels, roofline.

Pipeline (one module per stage; ``_time`` runs them, docs/timing.md):
``_read`` (the capture: module, inputs, outputs, error bound) -> ``_measure``
(compile -> verify -> time -> profile -> attribute, for one module) -> ``_write``
(the results document ``DIR/timing/<backend>.json``, then the report), on the records
of ``_records``. They use ``_stats`` (statistics, calibration), ``_verify`` (outputs
against ``outputs.json``), ``_peaks`` (bandwidth and FLOP/s measured in the same run),
``xlalens.ir.index_hlo`` (kernels of the optimized HLO, their cost and source) and
``_profile`` (trace events -> per-kernel times). Plug-ins: ``_sharded`` times a
``--devices N`` dump on N devices (a worker process, per-device kernels and
collectives, the link model of ``xlalens.ir._linkmodel``), ``_sweep`` step time
against size, ``_native`` the framework's own rounds, ``_findings`` the claims checked.
``_results`` reads results back and puts kernel times onto graph nodes.
See docs/timing.md.
"""

from xlalens.ir._kernels import HloIndex, Kernel, index_hlo
from xlalens.timing._findings import findings_markdown, report_section, write_findings
from xlalens.timing._measure import time_module
from xlalens.timing._peaks import Peaks, measure_peaks, roofline_bound_s
from xlalens.timing._profile import (
    Attribution,
    KernelEvent,
    KernelTime,
    attribute,
    collect_events,
    read_events,
)
from xlalens.timing._records import FrontendTiming, KernelResult, TimingOptions
from xlalens.timing._results import annotate, load_results
from xlalens.timing._sharded import (
    CollectiveTime,
    DeviceSplit,
    is_sharded,
    sharded_summary,
    time_sharded_dump,
)
from xlalens.timing._stats import CV_WARN, StepStats, calibrate, step_stats
from xlalens.timing._sweep import SweepPoint, parse_sizes, sweep_svg, sweep_table, workload_step
from xlalens.timing._time import time_dump
from xlalens.timing._verify import Verification, verify_outputs
from xlalens.timing._write import results_path

__all__ = [
    "CV_WARN",
    "Attribution",
    "CollectiveTime",
    "DeviceSplit",
    "FrontendTiming",
    "HloIndex",
    "Kernel",
    "KernelEvent",
    "KernelResult",
    "KernelTime",
    "Peaks",
    "StepStats",
    "SweepPoint",
    "TimingOptions",
    "Verification",
    "annotate",
    "attribute",
    "calibrate",
    "collect_events",
    "findings_markdown",
    "index_hlo",
    "is_sharded",
    "load_results",
    "measure_peaks",
    "parse_sizes",
    "read_events",
    "report_section",
    "results_path",
    "roofline_bound_s",
    "sharded_summary",
    "step_stats",
    "sweep_svg",
    "sweep_table",
    "time_dump",
    "time_module",
    "time_sharded_dump",
    "verify_outputs",
    "workload_step",
    "write_findings",
]
