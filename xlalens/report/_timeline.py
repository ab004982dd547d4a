"""A kernel timeline of one profiled step per frontend, from the kept profiler trace.

The trace is ``DIR/timing/traces/<frontend>-n<samples>.trace.json.gz``: Chrome
trace-event JSON, gzipped, as jax's profiler writes it with
``create_perfetto_trace=True`` (``xlalens time`` keeps it; docs/timing.md). The
same file opens in Perfetto (ui.perfetto.dev) and, with the ``.xplane.pb``
beside it, in XProf.

NOTE: [which step] On XLA:CPU each kernel (thunk) is an ``X`` event carrying
``args.hlo_op`` and ``args.run_id``: one run id per execution. We draw the run
whose kernel span is the median of all runs (the first runs are warm-up slow),
from its first kernel to the next run's first kernel, so the idle time after
the last kernel (dispatch of the next step) is part of the picture. Every event
of every thread inside that window is drawn, one lane per thread: kernels as
coloured boxes, the runtime's own events (dispatch, buffer handling) grey.
"""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xlalens.report._fmt import esc, percent, seconds
from xlalens.report._svgplot import KIND_COLOURS, svg_open, text

TRACES = Path("timing") / "traces"
_W = 760
_LABEL = 130
_MAX_EVENTS = 400  # per lane; a step of thousands of kernels is summarised, not drawn box by box


@dataclass(frozen=True, slots=True)
class Box:
    """One event drawn in the timeline."""

    lane: str
    """The thread's name."""
    name: str
    """The event name (the kernel's instruction name for kernels)."""
    start_us: float
    """Start, microseconds from the window's start."""
    dur_us: float
    """Duration, microseconds."""
    kernel: bool
    """An XLA kernel (has ``hlo_op``) rather than a runtime event."""


def trace_file(dump_dir: Path, frontend: str, size: int | None) -> Path | None:
    """The kept trace of a frontend: the dump's own size first, else any size."""
    folder = Path(dump_dir) / TRACES
    if not folder.is_dir():
        return None
    if size is not None:
        exact = folder / f"{frontend}-n{size}.trace.json.gz"
        if exact.is_file():
            return exact
    pat = re.compile(re.escape(frontend) + r"-n(\d+)\.trace\.json\.gz$")
    found = sorted((int(m.group(1)), p) for p in folder.iterdir() if (m := pat.match(p.name)))
    return found[0][1] if found else None


def read_trace(path: Path) -> list[dict[str, Any]]:
    """The trace's events (a list, or the ``traceEvents`` of an object)."""
    with gzip.open(path, "rt") as f:
        doc = json.load(f)
    events = doc.get("traceEvents") if isinstance(doc, dict) else doc
    return [e for e in events or [] if isinstance(e, dict)]


def one_step(events: list[dict[str, Any]]) -> tuple[list[Box], float, float] | None:
    """The boxes of one typical step, its window length and its kernels' busy time (µs)."""
    names: dict[tuple[Any, Any], str] = {}
    for e in events:
        if e.get("ph") == "M" and e.get("name") == "thread_name":
            names[(e.get("pid"), e.get("tid"))] = str((e.get("args") or {}).get("name") or "")
    spans = [e for e in events if e.get("ph") == "X" and isinstance(e.get("ts"), (int, float))]
    runs: dict[str, list[dict[str, Any]]] = {}
    for e in spans:
        args = e.get("args") or {}
        if "hlo_op" in args and "run_id" in args:
            runs.setdefault(str(args["run_id"]), []).append(e)
    if not runs:
        return None
    firsts = sorted((min(float(e["ts"]) for e in evs), rid) for rid, evs in runs.items())
    length = {
        rid: max(float(e["ts"]) + float(e.get("dur") or 0) for e in evs)
        - min(float(e["ts"]) for e in evs)
        for rid, evs in runs.items()
    }
    ranked = sorted(length, key=lambda r: length[r])
    rid = ranked[len(ranked) // 2]
    start = next(t for t, r in firsts if r == rid)
    later = [t for t, _ in firsts if t > start]
    end_kernels = start + length[rid]
    end = later[0] if later else end_kernels * 1.0 + max(length[rid] * 0.1, 1.0)
    boxes = []
    for e in spans:
        t, d = float(e["ts"]), float(e.get("dur") or 0)
        if t + d <= start or t >= end or d < 0.05 or str(e.get("name", "")).startswith("end: "):
            continue
        is_kernel = "hlo_op" in (e.get("args") or {})
        if is_kernel and str((e.get("args") or {}).get("run_id")) != rid:
            continue
        lane = names.get((e.get("pid"), e.get("tid"))) or f"thread {e.get('tid')}"
        s = max(t, start)
        boxes.append(Box(lane, str(e.get("name")), s - start, min(t + d, end) - s, is_kernel))
    busy = _union([(b.start_us, b.start_us + b.dur_us) for b in boxes if b.kernel])
    return boxes, end - start, busy


def _union(intervals: list[tuple[float, float]]) -> float:
    total, cur_a, cur_b = 0.0, None, None
    for a, b in sorted(intervals):
        if cur_b is None or a > cur_b:
            if cur_b is not None:
                total += cur_b - cur_a
            cur_a, cur_b = a, b
        else:
            cur_b = max(cur_b, b)
    if cur_b is not None:
        total += cur_b - cur_a
    return total


def timeline_svg(frontend: str, boxes: list[Box], window_us: float, busy_us: float) -> str:
    """Lanes per thread (kernel lanes first), boxes on a linear µs axis, idle as blank."""
    lanes: list[str] = []
    for b in sorted(boxes, key=lambda b: (not b.kernel, b.start_us)):
        if b.lane not in lanes:
            lanes.append(b.lane)
    kinds: dict[str, str] = {}
    lane_h, top = 22, 22
    height = top + lane_h * len(lanes) + 34
    span = max(window_us, 1e-3)

    def px(us: float) -> float:
        return _LABEL + (_W - _LABEL - 10) * us / span

    out = [
        svg_open(
            _W, height, f"kernel timeline of one {frontend} step", extra=' data-chart="timeline"'
        )
    ]
    idle = max(window_us - busy_us, 0.0)
    out.append(
        text(
            _LABEL,
            13,
            f"one step: {seconds(window_us * 1e-6)} · kernels busy {seconds(busy_us * 1e-6)} · "
            f"idle {seconds(idle * 1e-6)} ({percent(idle / span)})",
            extra=' fill="#5b6475"',
        )
    )
    for i, lane in enumerate(lanes):
        y = top + i * lane_h
        out.append(
            f'<rect x="{_LABEL}" y="{y}" width="{_W - _LABEL - 10}" height="{lane_h - 4}" fill="#f4f5f8"/>'
        )
        short = lane if len(lane) <= 20 else lane[:9] + "…" + lane[-9:]
        out.append(
            f'<text x="{_LABEL - 6}" y="{y + 13}" text-anchor="end" font-size="10">'
            f"<title>{esc(lane)}</title>{esc(short)}</text>"
        )
        mine = [b for b in boxes if b.lane == lane]
        mine.sort(key=lambda b: -b.dur_us)
        for b in mine[:_MAX_EVENTS]:
            if b.kernel:
                colour = kinds.setdefault(b.name, KIND_COLOURS[len(kinds) % len(KIND_COLOURS)])
            else:
                colour = "#b5b9c2"
            h = lane_h - 4 if b.kernel else (lane_h - 4) / 2
            tip = f"{b.name} · {seconds(b.dur_us * 1e-6)} at +{seconds(b.start_us * 1e-6)} · {lane}"
            out.append(
                f'<rect class="xl-box{" xl-kernel" if b.kernel else ""}" x="{px(b.start_us):.2f}" '
                f'y="{y + (lane_h - 4 - h):.1f}" width="{max(px(b.start_us + b.dur_us) - px(b.start_us), 0.6):.2f}" '
                f'height="{h:.1f}" fill="{colour}" stroke="#fff" stroke-width=".3" data-tip="{esc(tip)}">'
                f"<title>{esc(tip)}</title></rect>"
            )
    yb = top + lane_h * len(lanes) + 4
    for k in range(5):
        us = span * k / 4
        out.append(
            f'<line x1="{px(us):.1f}" x2="{px(us):.1f}" y1="{yb - 2}" y2="{yb + 3}" stroke="#777"/>'
            + text(
                px(us),
                yb + 14,
                "+" + seconds(us * 1e-6) if k else "0",
                "end" if k == 4 else "middle",
                ' fill="#5b6475" font-size="10"',
            )
        )
    out.append("</svg>")
    return "".join(out)


def timeline_html(dump_dir: Path, manifest: dict[str, Any]) -> str:
    """One timeline per frontend that has a kept trace, or one line saying there is none."""
    wl = manifest.get("workload")
    size = wl.get("size") if isinstance(wl, dict) and isinstance(wl.get("size"), int) else None
    parts = []
    for fe, e in (manifest.get("frontends") or {}).items():
        if not isinstance(e, dict):
            continue
        path = trace_file(dump_dir, fe, size)
        if path is None:
            continue
        rel = path.relative_to(dump_dir).as_posix()
        try:
            got = one_step(read_trace(path))
        except (OSError, ValueError, EOFError) as exc:
            parts.append(f'<p class="xl-note xl-error">{esc(rel)}: unreadable ({esc(exc)})</p>')
            continue
        if got is None:
            parts.append(f'<p class="xl-note">{esc(rel)}: no XLA kernel events in this trace.</p>')
            continue
        parts.append(
            f'<figure class="xl-fig"><figcaption>{esc(fe)} · <a href="{esc(rel)}">{esc(path.name)}</a>'
            " (opens in Perfetto / XProf)</figcaption>" + timeline_svg(fe, *got) + "</figure>"
        )
    if not parts:
        return (
            '<p class="xl-note">No profiler trace kept in this dump '
            f"({TRACES.as_posix()}/&lt;frontend&gt;-n&lt;samples&gt;.trace.json.gz): run "
            "<code>xlalens time DIR</code>.</p>"
        )
    return "".join(parts)
