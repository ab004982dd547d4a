"""Timing stages 2-6 for one module: compile, verify, time, profile, attribute.

:func:`time_module` compiles the module with PJRT (:mod:`xlalens._runtime`), checks
its outputs (:mod:`xlalens.timing._verify`), times interleaved blocks
(:mod:`xlalens.timing._stats`), profiles and attributes the events to kernels
(:mod:`xlalens.timing._profile`) and puts them against the roofline
(:mod:`xlalens.timing._peaks`). :func:`_time_frontend` runs it on one frontend of a
dump (with the framework's native rounds when asked, :mod:`xlalens.timing._native`).
The sharded plug-in (``_sharded``) reuses :func:`timed_blocks`, :func:`roofline_entry`
and :func:`noise_warnings` for its N-device step.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from xlalens import _runtime
from xlalens._errors import ParseError, UsageError
from xlalens.ir._kernels import HloIndex, index_hlo
from xlalens.proof import recorded_allowances
from xlalens.timing._peaks import Peaks, roofline_bound_s
from xlalens.timing._profile import (
    Attribution,
    KernelEvent,
    attribute,
    collect_events,
    keep_traces,
)
from xlalens.timing._read import (
    read_capture,
)
from xlalens.timing._records import (
    BLOCKS,
    TIMING_DIR,
    FrontendTiming,
    KernelResult,
    TimingOptions,
)
from xlalens.timing._stats import (
    CV_WARN,
    StepStats,
    block_share,
    calibrate,
    step_stats,
    time_calls,
    warm_up,
)
from xlalens.timing._verify import Verification, verify_outputs
from xlalens.timing._write import (
    _atomic_write,
)


class _Runner:
    """Executes one compiled module on device-resident inputs; handles donated inputs.

    NOTE: [dispatch through jax's C++ fast path] the timed call is, when it can
    be, ``jax.jit`` of the captured module wrapped as a ``jax.export.Exported``
    (:func:`_fast_call`): jit's C++ dispatch costs ~3 us less per call than
    PJRT's ``execute_sharded`` from Python, which at 4 samples was 1.23-1.30x a
    hand-written jitted loop (issue 10). The wrapped call must reproduce the
    PJRT executable's first results exactly, or the runner stays on
    ``execute_sharded``; ``dispatch`` says which path was timed.
    """

    def __init__(
        self,
        compiled: _runtime.Compiled,
        host_inputs: list[np.ndarray],
        text: str | None = None,
    ) -> None:
        self.compiled = compiled
        self.host = host_inputs
        self.args = _runtime.put(compiled, host_inputs)
        self.fresh_inputs = False  # set when the module donates (aliases) an input
        self.text = text
        self.dispatch = "execute_sharded"
        self._fast: Callable[[], None] | None = None

    def refresh(self) -> None:
        """New device copies of the inputs (only needed when they are donated)."""
        self.args = _runtime.put(self.compiled, self.host)
        for a in self.args:
            a.block_until_ready()

    def first(self) -> list[np.ndarray]:
        outs = _runtime.execute(self.compiled, self.args)
        host = [np.asarray(o) for o in outs]
        # NOTE: [donated inputs] a module with input_output_alias (Keras, torch_xla
        # often donate parameters) consumes its input buffers; re-put them before
        # every call, outside the timed region.
        self.fresh_inputs = any(a.is_deleted() for a in self.args)
        if self.fresh_inputs:
            self.refresh()
        if self.text is not None:
            self._fast = _fast_call(self.text, self.host, host)
            if self._fast is not None:
                self.dispatch = "jax.jit"
        return host

    def step(self) -> None:
        if self._fast is not None:
            self._fast()
            return
        # Inlined _runtime.execute: this is the timed call, every microsecond shows on tiny steps.
        results = self.compiled.executable.execute_sharded(self.args)
        for shards in results.disassemble_into_single_device_arrays():
            shards[0].block_until_ready()

    @property
    def before(self) -> Callable[[], None] | None:
        return self.refresh if self.fresh_inputs and self._fast is None else None


def _fast_call(
    text: str, inputs: list[np.ndarray], expected: list[np.ndarray]
) -> Callable[[], None] | None:
    """A no-argument call of the module through ``jax.jit`` (C++ dispatch), or None.

    None when the module cannot be wrapped (64-bit values, which jax narrows
    without x64; a module jax's exporter refuses) or when the wrapped call does
    not give exactly ``expected``.
    """
    import dataclasses

    import jax
    from jax import export
    from jax._src.export import _export
    from jax._src.interpreters import mlir as jax_mlir
    from jax._src.lib.mlir import ir

    wide = (np.float64, np.int64, np.uint64, np.complex128)
    if any(np.asarray(a).dtype in wide for a in [*inputs, *expected]):
        return None
    try:
        with jax_mlir.make_ir_context():
            module = ir.Module.parse(text)
            # TF returns variables through mhlo.copy, which the exporter refuses.
            _runtime.elide_copies(module)
            blob = _export._module_to_bytecode(module)
        template = export.export(jax.jit(lambda v: v))(np.zeros(1, np.float32))
        in_avals = tuple(jax.core.ShapedArray(a.shape, a.dtype) for a in inputs)
        out_avals = tuple(jax.core.ShapedArray(o.shape, o.dtype) for o in expected)
        named = template._in_named_shardings is not None
        exp = dataclasses.replace(
            template,
            fun_name="captured",
            in_tree=jax.tree_util.tree_structure((in_avals, {})),
            in_avals=in_avals,
            out_tree=jax.tree_util.tree_structure(out_avals),
            out_avals=out_avals,
            in_shardings_hlo=(None,) * len(in_avals),
            out_shardings_hlo=(None,) * len(out_avals),
            _in_named_shardings=(None,) * len(in_avals) if named else None,
            _out_named_shardings=(None,) * len(out_avals) if named else None,
            mlir_module_serialized=blob,
            module_kept_var_idx=tuple(range(len(in_avals))),
        )
        fn = jax.jit(exp.call)
        args = [jax.device_put(np.asarray(a)) for a in inputs]
        got = [np.asarray(o) for o in jax.block_until_ready(fn(*args))]
    except Exception:  # any refusal: stay on execute_sharded
        return None
    if any(a.is_deleted() for a in args) or len(got) != len(expected):
        return None
    if not all(
        g.shape == e.shape and np.array_equal(g, e, equal_nan=True) for g, e in zip(got, expected)
    ):
        return None

    def call() -> None:
        jax.block_until_ready(fn(*args))

    return call


def step_cost(raw: dict[str, Any], opt_text: str) -> dict[str, Any]:
    """The step's FLOPs and bytes: XLA's ``cost_analysis()`` with loop bodies counted per iteration.

    See ``xlalens.ir._cost.xla_cost_with_loops`` (NOTE [loops in the roofline]).
    """
    from xlalens.ir._cost import xla_cost_with_loops

    return xla_cost_with_loops(raw, opt_text)


def _compile_for_profile(text: str, backend: str) -> _runtime.Compiled | None:
    """A GPU executable without command buffers, so each kernel shows in the trace."""
    if backend != "gpu":
        return None
    from jax._src.lib import xla_client

    client = _runtime.get_backend(backend)
    device = client.local_devices()[0]
    opts = xla_client.CompileOptions()
    opts.env_option_overrides = [("xla_gpu_enable_command_buffer", "")]
    t0 = time.perf_counter()
    exe = client.compile_and_load(text, [device], opts)
    return _runtime.Compiled(exe, backend, device, time.perf_counter() - t0)


def _kernel_results(
    att: Attribution, index: HloIndex | None, step_median: float, peaks: Peaks | None
) -> list[KernelResult]:
    out = []
    for kt in att.kernels:
        k = index.kernels.get(kt.name) if index else None
        nbytes = k.bytes if k else None
        flops = k.flops if k else None
        if k is not None and k.loop is not None:
            # A body kernel's time is the sum of its calls in the step: so are its bytes and FLOPs.
            nbytes = nbytes * kt.calls_per_run if nbytes is not None else None
            flops = flops * kt.calls_per_run if flops is not None else None
        t = kt.median_s
        bound, by = roofline_bound_s(nbytes, flops, peaks) if peaks else (None, None)
        out.append(
            KernelResult(
                name=kt.name,
                opcode=k.opcode if k else "?",
                kind=k.kind if k else None,
                median_s=t,
                share=t / step_median if step_median > 0 else 0.0,
                calls_per_step=kt.calls_per_run,
                nested_in=kt.nested_in,
                bytes=nbytes,
                flops=flops,
                achieved_bytes_per_s=nbytes / t if nbytes and t > 0 else None,
                achieved_flops_per_s=flops / t if flops and t > 0 else None,
                bound_s=bound,
                bound_by=by,
                fraction_of_roofline=bound / t if bound and t > 0 else None,
                op_name=k.op_name if k else None,
                source_file=k.source_file if k else None,
                source_line=k.source_line if k else None,
                loop=k.loop if k else None,
                trip_count=k.trips if k and k.loop is not None else None,
            )
        )
    return out


def time_module(
    stablehlo: str,
    inputs: list[np.ndarray],
    *,
    check: Callable[[list[np.ndarray]], Verification],
    options: TimingOptions,
    peaks: Peaks | None,
    hlo_out: Path | None = None,
    hlo_rel: str | None = None,
    native: Callable[[float], list[float]] | None = None,
    baselines: Callable[[float], dict[str, list[float]]] | None = None,
) -> FrontendTiming:
    """Compile, verify, time and attribute one StableHLO module.

    Args:
        stablehlo: the module text (or bytecode).
        inputs: host arrays, one per argument of ``main``.
        check: compares the first run's host results with the capture's outputs.
        options: the :class:`TimingOptions`.
        peaks: peaks for the roofline, or None to skip it.
        hlo_out: where to write the optimized HLO for this backend (optional).
        hlo_rel: the path to record for it in the results.
        native: runs the framework's native step for about the given seconds and
            returns each step's seconds (:class:`~xlalens.timing._native.NativeSession`);
            called after every block of timed repeats, so the two alternate.
        baselines: runs each of the framework's non-XLA baselines for about the given
            seconds (:meth:`NativeSession.baseline_round`), after each native round.

    Returns:
        The :class:`FrontendTiming` (``failed`` with XLA's message when it does not compile).

    Example:
        >>> r = time_module(text, arrays, check=lambda outs: ok, options=TimingOptions(), peaks=None)  # doctest: +SKIP
    """
    warnings: list[str] = []
    try:
        compiled = _runtime.compile_stablehlo(stablehlo, options.backend)
    except _runtime.CompileError as exc:
        return FrontendTiming(status="failed", reason=str(exc))
    opt_text = compiled.optimized_hlo()
    if hlo_out is not None:
        _atomic_write(hlo_out, opt_text)
    cost = step_cost(compiled.cost_analysis(), opt_text)
    memory = compiled.memory_stats()
    base = dict(
        compile_seconds=compiled.compile_seconds,
        optimized_hlo=hlo_rel,
        cost=cost,
        memory=memory,
    )
    runner = _Runner(compiled, inputs, text=stablehlo if isinstance(stablehlo, str) else None)
    try:
        first = runner.first()
    except Exception as exc:  # XLA runtime errors carry their own message
        return FrontendTiming(
            status="failed", reason=f"the executable failed to run: {exc}", **base
        )
    ver = check(first)
    if not ver.ok:
        return FrontendTiming(
            status="failed",
            reason=f"outputs differ from the capture's outputs.json, so no time is reported: {ver.message}",
            verify=ver,
            **base,
        )

    # Warm up (and estimate one step) before calibrating the repeat count.
    wt, estimate = warm_up(
        runner.step, options.warmup, min_time_s=options.warmup_time_s, before=runner.before
    )
    if estimate <= 0:
        estimate = float(np.median(time_calls(runner.step, 3, before=runner.before)))
    n = (
        options.repeat
        if options.repeat is not None
        else calibrate(estimate, min_time_s=options.min_time_s)
    )
    if n < 1:
        raise UsageError(f"--repeat {n}: need at least 1 timed repeat")
    # NOTE: [interleaved timing and profiling] the timed repeats and the profiled runs
    # alternate in BLOCKS blocks, so that both sample the same stretch of machine load
    # and the kernel sum can be compared with the step time (issue 6: 0.8x..1.05x).
    index: HloIndex | None = None
    prunner: _Runner | None = None
    runs = 0
    if options.profile:
        try:
            index = index_hlo(opt_text)
        except ParseError as exc:
            warnings.append(f"per-kernel cost unknown: {exc}")
        try:
            prof_exe = _compile_for_profile(stablehlo, options.backend) or compiled
        except Exception as exc:  # an XLA without that option: profile the timed executable
            prof_exe = compiled
            warnings.append(
                f"could not disable command buffers for the profiled run ({exc}); "
                "kernels inside CUDA graphs may be missing from the per-kernel times"
            )
        # The profiled runs go through execute_sharded on the PJRT executable whose
        # optimized HLO names the kernels (the jit path compiles its own copy).
        reuse = prof_exe is compiled and runner.dispatch == "execute_sharded"
        prunner = runner if reuse else _Runner(prof_exe, inputs)
        if prunner is not runner:
            prunner.first()
        runs = int(min(50, max(5, math.ceil(options.profile_time_s / max(estimate, 1e-9)))))
    module = index.module if index else compiled.executable.hlo_modules()[0].name
    idx = index or HloIndex(module=module, entry="", kernels={})
    blocks = min(BLOCKS, n, runs) if prunner is not None else (min(BLOCKS, n) if native else 1)
    rounds: list[tuple[float, float]] = []  # (compiled median, native median) per block
    native_samples: list[float] = []
    native_error: str | None = None
    base_samples: dict[str, list[float]] = {}
    base_rounds: dict[str, list[tuple[float, float]]] = {}

    def native_round(block: list[float], seconds: float) -> None:
        nonlocal native_error
        if native is None or native_error is not None:
            return
        try:
            got = native(seconds)
            extra = baselines(seconds) if baselines is not None else {}
        except Exception as exc:  # the frontend died mid-way: keep the replay's numbers
            native_error = str(exc)
        else:
            native_samples.extend(got)
            rounds.append((float(np.median(block)), float(np.median(got))))
            for name, times in extra.items():
                base_samples.setdefault(name, []).extend(times)
                base_rounds.setdefault(name, []).append(
                    (float(np.median(block)), float(np.median(times)))
                )

    samples, events, walls = timed_blocks(
        runner,
        n,
        blocks,
        profiled=prunner,
        runs=runs,
        index=idx,
        device_planes=options.backend != "cpu",
        after_block=native_round,
    )
    stats = step_stats(samples, warmup=len(wt))
    native_result = _native_summary(native_samples, rounds, stats) if native_samples else None
    base_result = {
        name: _native_summary(base_samples[name], base_rounds[name], stats) for name in base_samples
    } or None
    if native_error:
        warnings.append(f"native rounds stopped: {native_error}")
    warnings += noise_warnings(stats)
    roof = roofline_entry(cost, peaks, stats.median_s) if peaks is not None else None

    kernels: list[KernelResult] = []
    prof: dict[str, Any] | None = None
    if prunner is not None:
        att = attribute(events, idx, runs)
        pwall = float(np.median(walls)) if walls else None
        # Shares are of the profiled runs' own median: kernel times and that step were
        # measured together, under the same profiler overhead and machine load.
        kernels = _kernel_results(att, index, pwall or stats.median_s, peaks)
        ksum = sum(k.median_s for k in kernels if k.nested_in is None)
        prof = {
            "runs": att.runs,
            "events": att.events,
            "unknown_ops": list(att.unknown),
            "kernel_sum_s": ksum,
            "kernel_sum_ratio": ksum / stats.median_s if stats.median_s > 0 else None,
            "profiled_step_median_s": pwall,
            "kernel_sum_ratio_profiled": ksum / pwall if pwall else None,
            "busy_median_s": att.busy_median_s,
            "idle_gap_s": pwall - att.busy_median_s
            if pwall and att.busy_median_s is not None
            else None,
        }
        if att.events == 0:
            warnings.append(
                "the profiler recorded no kernel events for this module; per-kernel times are missing "
                "(on GPU, check that CUPTI is available)"
            )
        if att.unknown:
            warnings.append(
                f"trace events not found in the optimized HLO: {', '.join(att.unknown[:5])}"
            )
    return FrontendTiming(
        status="ok",
        verify=ver,
        step=stats,
        dispatch=runner.dispatch,
        native=native_result,
        baselines=base_result,
        roofline=roof,
        kernels=tuple(kernels),
        profile=prof,
        warnings=tuple(warnings),
        **base,
    )


def timed_blocks(
    runner: Any,
    n: int,
    blocks: int,
    *,
    profiled: Any | None = None,
    runs: int = 0,
    index: HloIndex | None = None,
    device_planes: bool = False,
    after_block: Callable[[list[float], float], None] | None = None,
) -> tuple[list[float], list[KernelEvent], list[float]]:
    """``n`` timed calls of ``runner.step`` in ``blocks`` blocks, interleaved with profiling.

    NOTE: [interleaved timing and profiling] above. After each block of timed
    calls, ``after_block(block, its seconds)`` runs (the native rounds), then the
    block's share of ``runs`` profiled calls of ``profiled.step`` (with ``index``'s
    module) when ``profiled`` is given.

    Returns:
        ``(timed samples, profiler events, wall seconds of each profiled call)``.
    """
    samples: list[float] = []
    events: list[KernelEvent] = []
    walls: list[float] = []

    def timed_step() -> None:
        t0 = time.perf_counter()
        profiled.step()
        walls.append(time.perf_counter() - t0)

    for b in range(blocks):
        t0 = time.perf_counter()
        block = time_calls(runner.step, block_share(n, b, blocks), before=runner.before)
        samples += block
        if after_block is not None and block:
            after_block(block, time.perf_counter() - t0)
        if profiled is not None and runs:
            events += collect_events(
                timed_step,
                block_share(runs, b, blocks),
                index,
                device_planes=device_planes,
                before=profiled.before,
            )
    return samples, events, walls


def _native_summary(
    samples: list[float], rounds: list[tuple[float, float]], compiled: StepStats
) -> dict[str, Any]:
    """Native step statistics and its difference from the compiled replay, with spread.

    The difference is what the framework adds around the same XLA computation
    (its dispatch, Python and bookkeeping per step). Its spread is the range of
    the per-round differences; when that range includes 0 the difference is not
    significant and ``significant`` is False.
    """
    st = step_stats(samples)
    diffs = [nat - comp for comp, nat in rounds]
    lo, hi = (min(diffs), max(diffs)) if diffs else (None, None)
    return {
        "step": st.as_dict(),
        "conditions": "alone, in rounds alternating with the compiled replay",
        "rounds": len(rounds),
        # The median of the per-round differences, so it lies inside their range
        # (the difference of two medians over different calls did not: issue 21).
        "difference_s": statistics.median(diffs) if diffs else st.median_s - compiled.median_s,
        "difference_range_s": [lo, hi],
        "ratio": st.median_s / compiled.median_s if compiled.median_s > 0 else None,
        "significant": bool(diffs) and (lo > 0 or hi < 0),
    }


def noise_warnings(stats: StepStats) -> list[str]:
    """The warning for a step time too noisy to trust beyond its median and min, if any."""
    if stats.cv <= CV_WARN:
        return []
    return [
        f"step time CV {stats.cv:.1%} > {CV_WARN:.0%}: the machine is noisy (other load, "
        "frequency scaling); trust the median and min, or re-run with more --repeat on a quiet machine"
    ]


def roofline_entry(cost: dict[str, Any], peaks: Peaks, t: float) -> dict[str, Any]:
    """Achieved rates and the roofline bound of a step of ``t`` seconds (docs/timing.md)."""
    bound, by = roofline_bound_s(cost["bytes_accessed"], cost["flops"], peaks)
    return {
        "achieved_bytes_per_s": (cost["bytes_accessed"] or 0) / t if t > 0 else None,
        "achieved_flops_per_s": (cost["flops"] or 0) / t if t > 0 else None,
        "bound_s": bound,
        "bound_by": by,
        "fraction_of_roofline": bound / t if bound and t > 0 else None,
    }


def _time_frontend(
    folder: Path,
    fe: str,
    info: dict[str, Any],
    options: TimingOptions,
    peaks: Peaks,
    same_backend: bool,
    manifest: dict[str, Any] | None = None,
    say: Callable[[str], None] = lambda _m: None,
    hlo_dir: Path | None = None,
) -> FrontendTiming:
    cap = read_capture(folder, info)
    if isinstance(cap, str):
        return FrontendTiming(status="failed", reason=cap)
    text, inputs, outputs_doc, bound = cap.text, cap.inputs, cap.outputs_doc, cap.bound
    sig_out = (info.get("signature") or {}).get("outputs") or []
    rel = f"{TIMING_DIR}/{options.backend}/{fe}.optimized_hlo.txt"
    session = None
    note = None
    if options.native and manifest is not None:
        from xlalens.timing._native import NativeSession, NativeUnavailable

        say(f"{fe}: starting the framework for native rounds...")
        try:
            session = NativeSession(fe, manifest, options.backend, options.baselines)
        except NativeUnavailable as exc:
            note = f"native step not timed: {exc}"
    # Profiler traces kept as DIR/timing/traces/<fe>-n<samples>.* (NOTE [kept traces]);
    # under a staged run they are written into the staging folder first and moved in
    # with the results that describe them (time_dump), never over a kept trace alone.
    samples = ((manifest or {}).get("workload") or {}).get("size")
    trace_dir = (folder / TIMING_DIR if hlo_dir is None else hlo_dir) / "traces"
    traces = keep_traces(trace_dir, f"{fe}-n{samples}" if samples else fe)
    try:
        with traces:
            res = time_module(
                text,
                inputs,
                check=lambda outs: verify_outputs(
                    outs,
                    sig_out,
                    outputs_doc,
                    same_backend=same_backend,
                    bound=bound,
                    allowances=recorded_allowances(info.get("proof"), len(outs)),
                    inputs=inputs,
                    slack=cap.slack,
                ),
                options=options,
                peaks=peaks,
                hlo_out=folder / rel if hlo_dir is None else hlo_dir / Path(rel).name,
                hlo_rel=rel,
                native=session.round if session is not None else None,
                baselines=session.baseline_round
                if session is not None and session.baselines
                else None,
            )
    finally:
        if session is not None:
            session.close()
    if note:
        res = dataclasses.replace(res, warnings=(*res.warnings, note))
    if session is not None and session.baselines_failed:
        failed = {n: {"failed": why} for n, why in session.baselines_failed.items()}
        res = dataclasses.replace(res, baselines={**(res.baselines or {}), **failed})
    return res
