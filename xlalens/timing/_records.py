"""The records of the timing stage: options, per-kernel and per-frontend results.

Frozen dataclasses shared by the 1-device pipeline (``_time``) and its plug-ins
(``_sharded``, ``_sweep``); dicts appear only in the results JSON (docs/timing.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from xlalens.proof import ErrorBound
from xlalens.timing._stats import (
    StepStats,
)
from xlalens.timing._verify import Verification

RESULTS_SCHEMA_VERSION = 1
TIMING_DIR = "timing"
BLOCKS = 5
"""Blocks in which timed repeats and profiled runs alternate (NOTE [interleaved timing and profiling])."""


@dataclass(frozen=True, slots=True)
class TimingOptions:
    """How to time: repeats, warmup and what else to measure."""

    backend: str = "cpu"
    """PJRT backend: ``cpu``, ``gpu`` or ``tpu``."""
    repeat: int | None = None
    """Timed repeats; None calibrates to fill ``min_time_s``."""
    warmup: int | None = None
    """Untimed runs first; None warms up for ``warmup_time_s`` (at least 2 runs)."""
    min_time_s: float = 1.0
    """Measuring time per frontend the calibration aims for."""
    warmup_time_s: float = 0.2
    """Warm-up time aimed for when ``warmup`` is None."""
    profile: bool = True
    """Run the profiler pass for per-kernel times."""
    profile_time_s: float = 0.5
    """Time aimed for in the profiler pass (5 to 50 runs)."""
    peak_scale: float = 1.0
    """Scale of the peak-measurement problem sizes (tests shrink it)."""
    frontends: tuple[str, ...] | None = None
    """Frontends to time; None times every one with status ok."""
    sizes: tuple[int, ...] = ()
    """Sample counts of a size sweep (empty: no sweep); see docs/timing.md."""
    capture_missing: bool = False
    """Sweep: capture ``DIR/sweep/<N>`` with the installed frameworks when it is missing."""
    fresh: bool = False
    """Replace the backend's earlier results instead of merging into them."""
    native: bool = True
    """Also time the framework's native step, alone, in rounds with the replay (runs the
    frontend's subprocess again; ``--no-native`` turns it off). The CLI's default too."""
    baselines: bool = False
    """With ``native``: also time each framework's non-XLA baselines in the same rounds
    (torch eager and torch.compile/inductor, TF eager and tf.function without XLA, jax
    op by op; docs/timing.md)."""


@dataclass(frozen=True, slots=True)
class KernelResult:
    """One kernel's time and roofline position."""

    name: str
    """Instruction name in the optimized HLO (``ynn_fusion.1``)."""
    opcode: str
    """HLO opcode (``fusion``, ``dot``...), ``?`` when not in the optimized HLO."""
    kind: str | None
    """Fusion kind, if a fusion."""
    median_s: float
    """Median seconds per step."""
    share: float
    """``median_s`` over the median wall time of the profiled runs (measured together)."""
    calls_per_step: float
    """Events per step (more than 1 inside loops)."""
    nested_in: str | None
    """Enclosing kernel for thunks of loop bodies (excluded from the kernel sum)."""
    bytes: float | None
    """Estimated bytes moved (see docs/timing.md), None when unknown."""
    flops: float | None
    """Estimated FLOPs, None when unknown."""
    achieved_bytes_per_s: float | None
    """``bytes / median_s``."""
    achieved_flops_per_s: float | None
    """``flops / median_s``."""
    bound_s: float | None
    """Roofline lower bound on its time."""
    bound_by: str | None
    """``memory`` or ``compute``."""
    fraction_of_roofline: float | None
    """``bound_s / median_s`` (1.0 = at the machine's limit)."""
    op_name: str | None
    """Metadata op_name."""
    source_file: str | None
    """Source file from the optimized HLO's metadata."""
    source_line: int | None
    """Source line."""
    loop: str | None = None
    """The entry-level ``while`` whose body runs it (``bytes``/``flops`` then count every
    call of the step), None at the entry."""
    trip_count: int | None = None
    """Calls per step the loops around it say (compare with ``calls_per_step``)."""


@dataclass(frozen=True, slots=True)
class FrontendTiming:
    """Everything measured for one frontend (``status`` says whether times exist)."""

    status: str
    """``ok``, ``failed`` or ``skipped``."""
    reason: str | None = None
    """Why it failed or was skipped."""
    compile_seconds: float | None = None
    """Wall seconds of the PJRT compile."""
    optimized_hlo: str | None = None
    """Path of its optimized HLO for this backend, relative to the dump folder."""
    cost: dict[str, Any] | None = None
    """``flops``, ``bytes_accessed`` and XLA's raw cost-analysis dict."""
    memory: dict[str, int] | None = None
    """Compiled memory stats (bytes)."""
    verify: Verification | None = None
    """Output check against outputs.json."""
    step: StepStats | None = None
    """Step-time statistics."""
    roofline: dict[str, Any] | None = None
    """Step's achieved bytes/s, FLOP/s, bound and fraction of roofline."""
    kernels: tuple[KernelResult, ...] = ()
    """Per-kernel times, slowest first."""
    profile: dict[str, Any] | None = None
    """Profiler pass summary: runs, events, unknown ops, kernel sum and its ratio to the step."""
    native_step_seconds: dict[str, Any] | None = None
    """The framework's own step timing from the capture subprocess (manifest)."""
    dispatch: str | None = None
    """How the timed call was dispatched: ``jax.jit`` (C++ fast path) or ``execute_sharded``."""
    native: dict[str, Any] | None = None
    """The framework's native step timed alone, in rounds alternating with the replay
    (:func:`_native_summary`); None when not measured."""
    baselines: dict[str, Any] | None = None
    """Baseline name -> its step timed in the same rounds (:func:`_native_summary`
    against the compiled step), or ``{"failed": reason}``; None when not asked for."""
    warnings: tuple[str, ...] = field(default_factory=tuple)
    """Things the user should know (high CV, unattributed events...)."""

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for the JSON edge."""
        d: dict[str, Any] = {}
        for f in self.__slots__:
            v = getattr(self, f)
            if hasattr(v, "as_dict"):
                v = v.as_dict()
            elif f == "kernels":
                v = [{k: getattr(kr, k) for k in kr.__slots__} for kr in v]
            elif f == "warnings":
                v = list(v)
            d[f] = v
        return d


@dataclass(frozen=True, slots=True)
class Capture:
    """What timing reads of one frontend's capture."""

    text: str
    """The captured StableHLO."""
    inputs: list[np.ndarray]
    """Its arguments, as captured."""
    outputs_doc: Any
    """What results are checked against: the outputs (dump format 2), or the
    format-1 summary."""
    bound: ErrorBound | None
    """The module's error bound for format 2 (None for format 1, or a module the
    bound cannot read): the bound on a replay's difference from the native results
    that the proof of capture recorded (its replay's bound plus the native one),
    else the module's own bound."""
    slack: float = 2.0
    """Multiple of ``bound`` a result may differ by: 1 for the proof's recorded
    difference bound (already the sum of both sides), 2 for the module's own bound
    (each side within it of the truth)."""
