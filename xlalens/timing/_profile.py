"""Per-kernel times: run under the JAX profiler and attribute events to HLO instructions.

NOTE: [which trace events are kernels]
On the CPU, XLA's thunk runtime emits one event per executed thunk, named after
the instruction of the optimized module it runs and carrying the stats
``hlo_op`` (that name), ``hlo_module`` and ``run_id`` (one id per execution).
On a GPU the kernel events sit on the ``/device:GPU:N`` planes, named after the
CUDA kernel, with ``hlo_op``/``hlo_module`` stats from XLA's annotations; XLA's
command buffers (CUDA graphs) hide them unless ``xla_gpu_enable_command_buffer``
is empty, which :func:`compile_for_profile` sets for the profiled executable only.
We keep every event that has an ``hlo_op`` stat naming our module and ignore
the rest (Python frames, thread-pool bookkeeping, ``end: ...`` markers).

NOTE: [devices of events] a sharded executable runs one copy of the module per
device. On the CPU every host device's thunks carry a ``device_ordinal`` stat
(checked with jaxlib 0.10.2 and 4 forced host devices: the events of
``all-reduce`` came with ordinals 0..3, from the client's thread pool); on a GPU
each device has its own ``/device:GPU:N`` plane. :class:`KernelEvent` keeps that
device so that sharded timing (:mod:`xlalens.timing._sharded`) attributes each
device's events on their own.

NOTE: [loops in the trace] a ``while`` (``conditional``, ``call``) is not a
kernel: the runtime runs its body's thunks one by one, each iteration, and
each emits its own event named after the body's instruction. The CPU runtime
also emits an event for the ``while`` thunk itself, which does not span the
body's events (checked with jaxlib 0.10.2 on a ``lax.scan`` step: 1.8 ms of
``while.17`` against 169 ms of body events, most of them after it ended). So
events of these control instructions are left out (counted in
``Attribution.control_events``), and the body's events are kernels of their
own (``xlalens.ir._kernels``, NOTE [kernels of loop bodies]), called ``trip
count`` times per step and counted in the kernel sum. Any other event
contained in another attributed event of the same thread is *nested* and is
left out of the step's kernel sum so that time is not counted twice.

NOTE: [median of a loop kernel] a kernel's time is the sum over its calls of
the median over runs of that call (the k-th call of each run), not the median
over runs of its per-run total. The two agree for a kernel called once per
run. For a body kernel called ``trip count`` times they do not: on a loaded
machine a preemption lands in one call of some runs, a per-run total of six
calls catches one far more often than a single call does, and the median of
totals kept those spikes where the median of each call drops them. The
scanned LLM step's kernel sum / step then read above its unrolled twin's
(0.36-0.56 against 0.25-0.41; issue 20), whose six copies of each kernel are
six kernels of one call each, each with its own median. Taking the median
per call position gives the scanned kernel exactly the statistic of its
unrolled copies.
"""

from __future__ import annotations

import contextlib
import contextvars
import glob
import os
import re
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from xlalens.ir._kernels import HloIndex


@dataclass(frozen=True, slots=True)
class KernelEvent:
    """One attributed trace event."""

    hlo_op: str
    """The instruction it ran (``hlo_op`` stat)."""
    hlo_module: str
    """The module (``hlo_module`` stat)."""
    run_id: int | None
    """Execution id, None where the runtime does not say (some device planes)."""
    start_ns: float
    """Start, ns from the trace start (per line clock)."""
    duration_ns: float
    """Duration in ns."""
    line: str
    """``plane/line`` the event came from (a thread or a GPU stream)."""
    device: int | None = None
    """Device that ran it: the CPU thunk's ``device_ordinal`` stat, or the N of a
    ``/device:GPU:N`` plane; None where the trace does not say (NOTE [devices of events])."""


@dataclass(frozen=True, slots=True)
class KernelTime:
    """Time attributed to one kernel, over the profiled runs."""

    name: str
    """Kernel (entry-level instruction) name."""
    median_s: float
    """The kernel's seconds in one run: the sum over its calls of the median over runs
    of that call (NOTE [median of a loop kernel]); for one call, the median over runs."""
    runs: int
    """Runs in which it appeared."""
    calls_per_run: float
    """Events per run (more than 1 inside loops)."""
    nested_in: str | None
    """The enclosing kernel when the event ran inside another (loop bodies), else None."""


@dataclass(frozen=True, slots=True)
class Attribution:
    """All kernel times of one profiled executable."""

    kernels: tuple[KernelTime, ...]
    """Per-kernel times, slowest first."""
    runs: int
    """Executions profiled."""
    events: int
    """Events attributed."""
    unknown: tuple[str, ...]
    """``hlo_op`` names of our module not found among its instructions (should be empty)."""
    busy_median_s: float | None
    """Median over runs of the union of top-level kernel intervals (None without run ids)."""
    control_events: int = 0
    """Events of ``while``/``conditional``/``call`` instructions, left out (NOTE [loops in
    the trace])."""


def _stats(event) -> dict[str, object]:
    out = {}
    for item in event.stats:
        try:
            k, v = item
        except (TypeError, ValueError):
            continue
        out[str(k)] = v
    return out


def _annotated(stats: dict[str, object], key: str) -> str | None:
    """``hlo_op``/``hlo_module`` from a stat, or from an XLA GPU annotation string.

    XLA's GPU runtime wraps each launch in ``XlaModule:#hlo_module=M,program_id=N#``
    and ``Thunk:#name=...,hlo_op=fusion.3#`` annotations (xla/backends/gpu/runtime/
    annotation.cc); CUPTI attaches them to the kernel event as a string stat.
    """
    v = stats.get(key)
    if v:
        return str(v)
    for val in stats.values():
        if isinstance(val, str) and f"{key}=" in val:
            m = re.search(rf"{key}=([^,#:\s]+)", val)
            if m:
                return m.group(1)
    return None


def read_events(
    xplane_path: str, module: str, *, device_planes: bool, known: frozenset[str] = frozenset()
) -> list[KernelEvent]:
    """Kernel events of ``module`` from one ``.xplane.pb`` file.

    Args:
        xplane_path: file written by ``jax.profiler.trace``.
        module: ``HloModule`` name whose events to keep.
        device_planes: read ``/device:*`` planes (GPU/TPU) instead of ``/host:CPU``.
        known: instruction names of the module; on device planes an event with no
            annotation is kept when its name is one of them.

    Returns:
        The events, in file order.

    Example:
        >>> read_events("/tmp/p/host.xplane.pb", "jit_step", device_planes=False)  # doctest: +SKIP
    """
    import jax

    data = jax.profiler.ProfileData.from_file(xplane_path)
    events: list[KernelEvent] = []
    for plane in data.planes:
        on_device = plane.name.startswith("/device:")
        if on_device != device_planes or (not on_device and plane.name != "/host:CPU"):
            continue
        for line in plane.lines:
            for ev in line.events:
                st = _stats(ev)
                op = _annotated(st, "hlo_op")
                if op is None and on_device and ev.name in known:
                    op = ev.name
                mod = _annotated(st, "hlo_module")
                if not op or mod not in (None, module):
                    continue
                rid = st.get("run_id")
                dev = st.get("device_ordinal")
                if dev is None and on_device:
                    m = re.search(r":(\d+)$", plane.name)
                    dev = m.group(1) if m else None
                events.append(
                    KernelEvent(
                        hlo_op=str(op),
                        hlo_module=mod or module,
                        run_id=int(rid) if rid is not None else None,
                        start_ns=float(ev.start_ns),
                        duration_ns=float(ev.duration_ns),
                        line=f"{plane.name}/{line.name}",
                        device=int(dev) if dev is not None else None,
                    )
                )
    return events


def attribute(events: Iterable[KernelEvent], index: HloIndex, runs: int) -> Attribution:
    """Turn trace events into per-kernel times.

    Args:
        events: kernel events of one module (see :func:`read_events`).
        index: the module's :class:`~xlalens.ir.HloIndex`.
        runs: executions profiled (used when events carry no run id).

    Returns:
        The :class:`Attribution`.

    Example:
        >>> attribute([], idx, runs=10).kernels  # doctest: +SKIP
        ()
    """
    evs = list(events)
    unknown = sorted({e.hlo_op for e in evs if e.hlo_op not in index.instructions})
    control = {name for name, k in index.kernels.items() if k.control}
    n_control = sum(1 for e in evs if e.hlo_op in control)
    evs = [e for e in evs if e.hlo_op not in control]

    # Mark events nested in another event on the same line (loop bodies).
    nested: dict[int, str] = {}
    by_line: dict[str, list[int]] = defaultdict(list)
    for i, e in enumerate(evs):
        by_line[e.line].append(i)
    for idxs in by_line.values():
        idxs.sort(key=lambda i: (evs[i].start_ns, -evs[i].duration_ns))
        stack: list[int] = []
        for i in idxs:
            e = evs[i]
            while stack and evs[stack[-1]].start_ns + evs[stack[-1]].duration_ns <= e.start_ns:
                stack.pop()
            if stack:
                nested[i] = index.owner.get(evs[stack[0]].hlo_op, evs[stack[0]].hlo_op)
            stack.append(i)

    have_ids = bool(evs) and all(e.run_id is not None for e in evs)
    # Per kernel and run: the seconds of each call, in the order they ran.
    per_kernel: dict[str, dict[int, list[tuple[float, float]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    counts: dict[str, int] = defaultdict(int)
    parent: dict[str, str | None] = {}
    intervals: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for i, e in enumerate(evs):
        # A thunk inside a loop body is named after its own instruction; report it as is.
        name = e.hlo_op
        key = e.run_id if have_ids else 0
        per_kernel[name][key].append((e.start_ns, e.duration_ns * 1e-9))
        counts[name] += 1
        parent.setdefault(name, nested.get(i))
        if i not in nested and have_ids:
            intervals[key].append((e.start_ns, e.start_ns + e.duration_ns))

    n_runs = len({e.run_id for e in evs}) if have_ids else max(1, runs)
    kernels = []
    for name, per_run in per_kernel.items():
        if have_ids:
            med = _median_per_call(per_run, n_runs)
        else:
            med = sum(s for calls in per_run.values() for _, s in calls) / n_runs
        kernels.append(
            KernelTime(
                name=name,
                median_s=med,
                runs=len(per_run) if have_ids else n_runs,
                calls_per_run=counts[name] / n_runs,
                nested_in=parent.get(name),
            )
        )
    kernels.sort(key=lambda k: -k.median_s)
    busy = None
    if have_ids and intervals:
        busy = float(np.median([_union(v) for v in intervals.values()]))
    return Attribution(
        kernels=tuple(kernels),
        runs=n_runs,
        events=len(evs),
        unknown=tuple(unknown),
        busy_median_s=busy,
        control_events=n_control,
    )


def _median_per_call(per_run: dict[int, list[tuple[float, float]]], n_runs: int) -> float:
    """Sum over call positions of the median over runs of that call's seconds.

    NOTE [median of a loop kernel]. A run with fewer calls (an untaken branch, a
    kernel missing from a run) contributes 0 for the calls it lacks.
    """
    runs = [[s for _, s in sorted(calls)] for calls in per_run.values()]
    width = max(len(r) for r in runs)
    table = np.zeros((n_runs, width))
    for row, r in enumerate(runs):
        table[row, : len(r)] = r
    return float(np.median(table, axis=0).sum())


def _union(iv: list[tuple[float, float]]) -> float:
    """Seconds covered by a set of [start, end) ns intervals."""
    total, end = 0.0, -np.inf
    for s, e in sorted(iv):
        if s > end:
            total += e - s
            end = e
        elif e > end:
            total += e - end
            end = e
    return total * 1e-9


def collect_events(
    step: Callable[[], object],
    runs: int,
    index: HloIndex,
    *,
    device_planes: bool,
    before: Callable[[], object] | None = None,
) -> list[KernelEvent]:
    """Run ``step`` ``runs`` times under one ``jax.profiler.trace`` session; return its kernel events.

    Args:
        step: one execution that waits for its outputs.
        runs: executions to profile.
        index: the executable's optimized-HLO index (module name, instruction names).
        device_planes: read device planes (GPU/TPU) instead of the host CPU plane.
        before: untimed setup before each run (fresh inputs for donated buffers).

    Returns:
        The kernel events (feed several sessions' lists to :func:`attribute` together).

    Example:
        >>> evs = collect_events(lambda: run_once(), 10, idx, device_planes=False)  # doctest: +SKIP
    """
    import jax

    keep = _KEEP.get()
    tmp = tempfile.mkdtemp(prefix="xlalens-profile-")
    try:
        with jax.profiler.trace(tmp, create_perfetto_trace=keep is not None):
            for _ in range(runs):
                if before is not None:
                    before()
                step()
        paths = sorted(glob.glob(os.path.join(tmp, "**", "*.xplane.pb"), recursive=True))
        if keep is not None:
            keep_trace_files(tmp, *keep)
        events: list[KernelEvent] = []
        for p in paths:
            events.extend(
                read_events(p, index.module, device_planes=device_planes, known=index.instructions)
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    # Each session's clock starts at 0: tag lines with the session so that events of
    # different sessions never look nested in one another.
    session = os.path.basename(tmp)
    return [replace(e, line=f"{session}:{e.line}") for e in events]


# NOTE: [kept traces] ``xlalens time`` keeps each frontend's profiler trace where a
# user can open it (XProf/TensorBoard reads the ``.xplane.pb``; Perfetto and
# chrome://tracing read the ``.trace.json.gz``; docs/timing.md). The timing loop
# names the destination once per frontend with :func:`keep_traces`; every
# profiling session inside it copies its files there, so the last block's
# session is what stays (each session is a complete trace of its runs).
_KEEP: contextvars.ContextVar[tuple[Path, str] | None] = contextvars.ContextVar(
    "xlalens_keep_traces", default=None
)


@contextlib.contextmanager
def keep_traces(folder: str | Path, stem: str) -> Iterator[None]:
    """Keep the profiler traces taken inside this block as ``folder/<stem>.xplane.pb`` and
    ``folder/<stem>.trace.json.gz`` (NOTE [kept traces]).

    Example:
        >>> with keep_traces("DIR/timing/traces", "jax-n1024"):  # doctest: +SKIP
        ...     time_module(...)
    """
    token = _KEEP.set((Path(folder), stem))
    try:
        yield
    finally:
        _KEEP.reset(token)


def keep_trace_files(profile_dir: str, folder: Path, stem: str) -> list[Path]:
    """Copy a ``jax.profiler.trace`` folder's ``*.xplane.pb`` and ``*.trace.json.gz`` to
    ``folder/<stem>.*`` (one file each: a host's trace; written to a temporary name, then
    renamed, so a reader never sees half a file). Returns the paths written."""
    out = []
    for pattern, suffix in (("*.xplane.pb", ".xplane.pb"), ("*.trace.json.gz", ".trace.json.gz")):
        found = sorted(glob.glob(os.path.join(profile_dir, "**", pattern), recursive=True))
        if not found:
            continue
        folder.mkdir(parents=True, exist_ok=True)
        dest = folder / f"{stem}{suffix}"
        tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
        shutil.copyfile(found[0], tmp)
        os.replace(tmp, dest)
        out.append(dest)
    return out


def profile_runs(
    step: Callable[[], object],
    runs: int,
    index: HloIndex,
    *,
    device_planes: bool,
    before: Callable[[], object] | None = None,
) -> Attribution:
    """Run ``step`` ``runs`` times under the profiler and attribute its events (one session).

    Example:
        >>> profile_runs(lambda: run_once(), 10, idx, device_planes=False)  # doctest: +SKIP
    """
    events = collect_events(step, runs, index, device_planes=device_planes, before=before)
    return attribute(events, index, runs)
