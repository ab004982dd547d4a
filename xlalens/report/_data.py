"""What the report's charts draw, read from the dump: timing results, diff results, peaks.

Everything here is derived from files other stages wrote (``DIR/timing/<backend>.json``,
docs/timing.md; ``DIR/diffs/*.json``, docs/diff.md; the manifest); nothing is
measured or estimated again. A missing or foreign piece yields fewer records,
never an exception: the charts say what they lack.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xlalens.report._fmt import is_num
from xlalens.report._svgs import _diff_stem, _timing_docs


@dataclass(frozen=True, slots=True)
class StepBar:
    """One bar of the step-time chart: a frontend's compiled or native step at one size."""

    frontend: str
    """The frontend."""
    size: int | None
    """Samples of the workload (``None`` when the manifest does not say)."""
    kind: str
    """``compiled`` (the replay through PJRT) or ``native`` (the framework's own step)."""
    median_s: float
    """Median step seconds."""
    lo_s: float
    """Low end of the spread: median - IQR/2 (the findings' rule), or median for one number."""
    hi_s: float
    """High end of the spread: median + IQR/2."""
    note: str
    """Where the number comes from (rounds with the replay, at capture under load, sweep)."""
    backend: str
    """The PJRT backend of the results file."""


@dataclass(frozen=True, slots=True)
class TimeSplit:
    """Where one frontend's step goes: kernels by kind, idle time, framework overhead."""

    frontend: str
    """The frontend."""
    backend: str
    """The PJRT backend of the results file."""
    kinds: tuple[tuple[str, float], ...]
    """``(kernel kind, seconds per step)``, largest first (nested loop-body kernels excluded)."""
    idle_s: float
    """Profiled step wall minus busy kernel time: dispatch, thread hand-offs."""
    overhead_s: float | None
    """Native step median minus compiled median, when measured in rounds and positive."""
    step_s: float
    """Profiled step median (kernels + idle)."""


@dataclass(frozen=True, slots=True)
class KernelPoint:
    """One kernel on the roofline."""

    frontend: str
    """The frontend whose step ran it."""
    backend: str
    """The PJRT backend."""
    name: str
    """The kernel (optimized-HLO instruction) name."""
    kind: str
    """Its kind (``kLoop``, ``kInput``, ``custom-call``...)."""
    median_s: float
    """Median seconds per step."""
    share: float
    """Fraction of the step's kernel time."""
    bytes: float
    """Estimated bytes accessed."""
    flops: float | None
    """Estimated FLOPs (``None`` when unknown)."""
    source: str
    """``file.py:line`` of the user's code, or the op name."""
    bound_by: str
    """``memory`` or ``compute`` (the roof that bounds it)."""
    fraction: float | None
    """Bound / measured time: 1.0 is at the roof."""


@dataclass(frozen=True, slots=True)
class Roof:
    """A machine's peaks: the roofs of the chart."""

    label: str
    """What the peaks belong to (``cpu, measured`` or ``h100, published``)."""
    bytes_per_s: float
    """Memory bandwidth."""
    flops_per_s: float
    """Compute peak."""
    measured: bool
    """Measured in the same run (True) or a datasheet / spec number (False)."""


@dataclass(frozen=True, slots=True)
class DiffCell:
    """One cell of the frontend x frontend matrix: one cross-framework diff."""

    a: str
    """Left frontend."""
    b: str
    """Right frontend."""
    level: str
    """``stablehlo`` or ``optimized_hlo`` (the artifact both sides were diffed at)."""
    anchor: str
    """The id of the diff's card in report.html."""
    heavy_a: int
    """Dots and convolutions in A."""
    heavy_b: int
    """Dots and convolutions in B."""
    heavy_paired: int
    """Of them, paired by the diff (counted on A's side)."""
    nodes_paired: int
    """Nodes the diff paired."""
    nodes_a: int
    """Nodes in A."""
    nodes_b: int
    """Nodes in B."""
    kernels_a: int | None
    """Kernels in A (optimized HLO only)."""
    kernels_b: int | None
    """Kernels in B."""


_HEAVY = ("dot", "convolution")


def _size(manifest: dict[str, Any]) -> int | None:
    wl = manifest.get("workload")
    size = wl.get("size") if isinstance(wl, dict) else None
    return size if isinstance(size, int) else None


def _spread(step: dict[str, Any]) -> tuple[float, float, float] | None:
    med = step.get("median_s") if isinstance(step, dict) else None
    if not is_num(med):
        return None
    iqr = step.get("iqr_s")
    half = iqr / 2 if is_num(iqr) else 0.0
    return float(med), max(float(med) - half, 0.0), float(med) + half


def step_bars(dump_dir: Path, manifest: dict[str, Any]) -> list[StepBar]:
    """Compiled and native step bars per frontend and size, from every timing results file."""
    size = _size(manifest)
    bars: list[StepBar] = []
    for doc in _timing_docs(dump_dir):
        backend = str(doc.get("backend", "?"))
        for fe, e in (doc.get("frontends") or {}).items():
            if not isinstance(e, dict) or e.get("status") not in (None, "ok"):
                continue
            sp = _spread(e.get("step") or {})
            if sp:
                bars.append(StepBar(fe, size, "compiled", *sp, "median ± IQR/2", backend))
            native = e.get("native") if isinstance(e.get("native"), dict) else None
            nsp = _spread(native.get("step") or {}) if native else None
            if nsp:
                bars.append(
                    StepBar(fe, size, "native", *nsp, "rounds with the replay, ± IQR/2", backend)
                )
            else:
                cap = e.get("native_step_seconds")
                med = cap.get("median") if isinstance(cap, dict) else None
                if is_num(med):
                    lo = cap.get("min") if is_num(cap.get("min")) else med
                    bars.append(
                        StepBar(
                            fe,
                            size,
                            "native",
                            float(med),
                            float(lo),
                            float(med),
                            "at capture, other frontends running: min..median, not comparable",
                            backend,
                        )
                    )
        sweep = doc.get("sweep")
        have = {(b.frontend, b.size) for b in bars if b.kind == "compiled"}
        for p in (sweep.get("points") or []) if isinstance(sweep, dict) else []:
            if not isinstance(p, dict) or p.get("status") not in (None, "ok"):
                continue
            med, cv, n = p.get("median_s"), p.get("cv"), p.get("size")
            if not is_num(med) or not isinstance(n, int) or (p.get("frontend"), n) in have:
                continue
            half = med * cv / 2 if is_num(cv) else 0.0
            bars.append(
                StepBar(
                    str(p.get("frontend")),
                    n,
                    "compiled",
                    float(med),
                    max(med - half, 0.0),
                    med + half,
                    "size sweep: median ± CV/2 (no profiler)",
                    backend,
                )
            )
    return bars


def time_splits(dump_dir: Path) -> list[TimeSplit]:
    """Per frontend: kernel seconds by kind, idle gap and framework overhead (profiled runs)."""
    out: list[TimeSplit] = []
    for doc in _timing_docs(dump_dir):
        backend = str(doc.get("backend", "?"))
        for fe, e in (doc.get("frontends") or {}).items():
            if not isinstance(e, dict) or not e.get("kernels"):
                continue
            prof = e.get("profile") or {}
            step = prof.get("profiled_step_median_s")
            if not is_num(step):
                continue
            kinds: dict[str, float] = {}
            for k in e["kernels"]:
                if not isinstance(k, dict) or k.get("nested_in") or not is_num(k.get("median_s")):
                    continue
                kind = str(k.get("kind") or k.get("opcode") or "other")
                kinds[kind] = kinds.get(kind, 0.0) + float(k["median_s"])
            idle = prof.get("idle_gap_s")
            native = e.get("native") if isinstance(e.get("native"), dict) else {}
            diff = native.get("difference_s") if native else None
            out.append(
                TimeSplit(
                    fe,
                    backend,
                    tuple(sorted(kinds.items(), key=lambda kv: -kv[1])),
                    float(idle) if is_num(idle) and idle > 0 else 0.0,
                    float(diff) if is_num(diff) and diff > 0 else None,
                    float(step),
                )
            )
    return out


def kernel_points(dump_dir: Path) -> tuple[list[KernelPoint], list[Roof]]:
    """Every timed kernel with bytes (and FLOPs when known), and the measured roofs."""
    points: list[KernelPoint] = []
    roofs: list[Roof] = []
    for doc in _timing_docs(dump_dir):
        backend = str(doc.get("backend", "?"))
        peaks = doc.get("peaks") or {}
        if is_num(peaks.get("bytes_per_s")) and is_num(peaks.get("flops_per_s")):
            dev = doc.get("device") or {}
            kind = dev.get("device_kind") if isinstance(dev, dict) else None
            roofs.append(
                Roof(
                    f"{kind or backend}, measured",
                    float(peaks["bytes_per_s"]),
                    float(peaks["flops_per_s"]),
                    True,
                )
            )
        for fe, e in (doc.get("frontends") or {}).items():
            if not isinstance(e, dict):
                continue
            for k in e.get("kernels") or []:
                if not isinstance(k, dict) or k.get("nested_in"):
                    continue
                t, nbytes = k.get("median_s"), k.get("bytes")
                if not is_num(t) or t <= 0 or not is_num(nbytes) or nbytes <= 0:
                    continue
                src = k.get("source_file")
                source = (
                    f"{Path(str(src)).name}:{k.get('source_line')}"
                    if src
                    else str(k.get("op_name") or "")
                )
                flops = k.get("flops")
                points.append(
                    KernelPoint(
                        fe,
                        backend,
                        str(k.get("name")),
                        str(k.get("kind") or k.get("opcode") or ""),
                        float(t),
                        float(k.get("share") or 0.0),
                        float(nbytes),
                        float(flops) if is_num(flops) else None,
                        source,
                        str(k.get("bound_by") or ""),
                        float(k["fraction_of_roofline"])
                        if is_num(k.get("fraction_of_roofline"))
                        else None,
                    )
                )
    return points, roofs


def diff_anchor(rec: dict[str, Any], i: int) -> str:
    """The id of a diff's card in report.html (the matrix links to it)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", _diff_stem(rec, i))


def diff_cells(dump_dir: Path, manifest: dict[str, Any]) -> list[DiffCell]:
    """One cell per cross-framework diff that was written, from its JSON (docs/diff.md)."""
    cells: list[DiffCell] = []
    for i, rec in enumerate(manifest.get("diffs") or []):
        if not isinstance(rec, dict) or rec.get("kind") != "cross_framework" or rec.get("error"):
            continue
        try:
            doc = json.loads((dump_dir / str(rec["json"])).read_text())
        except (OSError, ValueError, KeyError):
            continue
        if not isinstance(doc, dict):
            continue
        summary = doc.get("summary") or {}
        hist = {h.get("op"): h for h in summary.get("op_histogram") or [] if isinstance(h, dict)}
        heavy_a = sum(int(hist.get(op, {}).get("a") or 0) for op in _HEAVY)
        heavy_b = sum(int(hist.get(op, {}).get("b") or 0) for op in _HEAVY)
        lone_a = sum(
            1 for n in doc.get("only_a") or [] if isinstance(n, dict) and n.get("op") in _HEAVY
        )
        kern = summary.get("kernels") if isinstance(summary.get("kernels"), dict) else {}
        pairs = doc.get("pairs") or []
        cells.append(
            DiffCell(
                str(rec["a"]).partition(":")[0],
                str(rec["b"]).partition(":")[0],
                str(rec["a"]).partition(":")[2] or "?",
                diff_anchor(rec, i),
                heavy_a,
                heavy_b,
                max(heavy_a - lone_a, 0),
                len(pairs),
                int((doc.get("a") or {}).get("nodes") or 0),
                int((doc.get("b") or {}).get("nodes") or 0),
                kern.get("a"),
                kern.get("b"),
            )
        )
    return cells
