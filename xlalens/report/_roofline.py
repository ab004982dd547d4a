"""The roofline chart: every timed kernel against the machine's roofs, log-log.

x is arithmetic intensity (estimated FLOPs / estimated bytes of the kernel,
``xlalens.ir``'s cost model), y is the achieved rate (FLOPs / measured median
time). The roofs are ``min(peak FLOP/s, bandwidth x intensity)``: solid for the
peaks ``xlalens time`` measured in the same run (timing/_peaks.py), dashed for
the published peaks of a compile-only target (``DIR/targets/<t>.json``; no
kernel of those was run, so they have roofs and no points). A point's area
grows with its share of the step's kernel time; its colour is its frontend.
Kernels without FLOPs (copies, custom calls, convolutions whose cost is
unknown) have no place on this chart: a line under it counts them.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from xlalens.dumpdir import atomic_write
from xlalens.report._data import KernelPoint, Roof, kernel_points
from xlalens.report._fmt import esc, is_num, percent, rate, seconds, short
from xlalens.report._svgplot import LogScale, colours, legend, svg_open, text

_W, _H = 760, 440
_L, _R, _T, _B = 70, 20, 20, 110


def target_roofs(dump_dir: Path) -> list[Roof]:
    """Published peaks of every compile-only target of the dump (``DIR/targets/*.json``)."""
    out = []
    folder = Path(dump_dir) / "targets"
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            doc = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        peaks = doc.get("peaks") if isinstance(doc, dict) else None
        if not isinstance(peaks, dict) or doc.get("kind") == "cpu":
            continue
        flops = peaks.get("flops_per_s")
        if isinstance(flops, dict):
            dtype = "f32" if "f32" in flops else next(iter(flops), None)
            flops, label = flops.get(dtype), f"{doc.get('target', path.stem)}, published ({dtype})"
        else:
            label = f"{doc.get('target', path.stem)}, published"
        if is_num(flops) and is_num(peaks.get("bytes_per_s")) and flops > 0:
            out.append(Roof(label, float(peaks["bytes_per_s"]), float(flops), False))
    return out


def _placed(points: list[KernelPoint]) -> list[KernelPoint]:
    return [p for p in points if p.flops and p.flops > 0]


def roofline_svg(
    points: list[KernelPoint],
    roofs: list[Roof],
    order: list[str],
    *,
    title: str = "roofline",
    standalone: bool = False,
) -> str:
    """The chart as SVG text (``standalone``: with the XML prolog, for a file under ``svg/``)."""
    placed = _placed(points)
    col = colours(order)
    xs = [p.flops / p.bytes for p in placed if p.flops]
    ys = [p.flops / p.median_s for p in placed if p.flops]
    ridges = [r.flops_per_s / r.bytes_per_s for r in roofs]
    x = LogScale(min(xs + ridges + [1.0]) / 3, max(xs + ridges + [1.0]) * 3, _L, _W - _R)
    y_lo = min([*ys, min((r.flops_per_s for r in roofs), default=1e9) / 1e3])
    y_hi = max(ys + [r.flops_per_s for r in roofs] + [1.0]) * 2
    y = LogScale(y_lo / 3, y_hi, _H - _B, _T)
    out = [] if not standalone else ['<?xml version="1.0" encoding="UTF-8"?>\n']
    fes = [fe for fe in order if any(p.frontend == fe for p in placed)]
    leg, h = legend([(col[fe], fe) for fe in fes], _L, _H - _B + 52, _W - _L - _R)
    # Tall enough for the legend and one line per roof, no more: opened alone, it fits.
    height = int(_H - _B + 52 + h + 14 * len(roofs) + 4)
    out.append(svg_open(_W, height, title, extra=' data-chart="roofline"'))
    out.append(f"<title>{esc(title)}</title>")
    out.append('<rect width="100%" height="100%" fill="#fff"/>')
    for t in x.ticks():
        out.append(
            f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{_T}" y2="{_H - _B}" stroke="#eceff4"/>'
            + text(x(t), _H - _B + 14, f"{t:g}", "middle", ' fill="#5b6475"')
        )
    for t in y.ticks():
        out.append(
            f'<line x1="{_L}" x2="{_W - _R}" y1="{y(t):.1f}" y2="{y(t):.1f}" stroke="#eceff4"/>'
            + text(
                _L - 4,
                y(t) + 4,
                short(t),
                "end",
                ' fill="#5b6475" font-size="10"',
            )
        )
    out.append(
        f'<rect x="{_L}" y="{_T}" width="{_W - _L - _R}" height="{_H - _T - _B}" fill="none" stroke="#999"/>'
    )
    out.append(
        text((_L + _W - _R) / 2, _H - _B + 30, "arithmetic intensity (FLOP / byte)", "middle")
    )
    out.append(
        text(18, (_T + _H - _B) / 2, "achieved FLOP/s", "middle",
             f' transform="rotate(-90 18 {(_T + _H - _B) / 2:.1f})"')
    )  # fmt: skip
    roof_items = []
    for i, r in enumerate(roofs):
        a, b = x.lo, x.hi
        ridge = r.flops_per_s / r.bytes_per_s
        pts = [
            (a, r.bytes_per_s * a),
            (min(max(ridge, a), b), min(r.flops_per_s, r.bytes_per_s * b)),
            (b, r.flops_per_s),
        ]
        path = " ".join(f"{x(px):.1f},{y(py):.1f}" for px, py in pts)
        dash = "" if r.measured else ' stroke-dasharray="6 4"'
        shade = "#333" if r.measured else ["#7a5195", "#bc5090", "#ef5675", "#ffa600"][i % 4]
        tip = f"{r.label}: {rate(r.bytes_per_s, 'B/s')}, {rate(r.flops_per_s, 'FLOP/s')}"
        out.append(
            f'<polyline class="xl-roof" points="{path}" fill="none" stroke="{shade}" stroke-width="1.6"{dash}'
            f' data-tip="{esc(tip)}"><title>{esc(tip)}</title></polyline>'
        )
        roof_items.append((shade, tip))
    total = {}
    for p in placed:
        total[p.frontend] = total.get(p.frontend, 0.0) + p.median_s
    for p in sorted(placed, key=lambda p: -p.share):
        cx, cy = x(p.flops / p.bytes), y(p.flops / p.median_s)
        r = 3 + 11 * math.sqrt(max(p.share, 0.0))
        tip = (
            f"{p.name} ({p.frontend}, {p.kind}) · {p.source or 'no source line'} · "
            f"{seconds(p.median_s)}, {percent(p.share)} of the step · "
            f"{rate(p.flops, 'FLOP')}, {rate(p.bytes, 'B')}, intensity {p.flops / p.bytes:.3g} · "
            f"{rate(p.flops / p.median_s, 'FLOP/s')} · {percent(p.fraction)} of its {p.bound_by} roof"
        )
        out.append(
            f'<circle class="xl-pt" cx="{cx:.1f}" cy="{cy:.1f}" r="{r:.1f}" fill="{col.get(p.frontend, "#888")}" '
            f'fill-opacity=".7" stroke="#222" stroke-width=".6" data-fe="{esc(p.frontend)}" '
            f'data-kernel="{esc(p.name)}" data-tip="{esc(tip)}"><title>{esc(tip)}</title></circle>'
        )
    out.append(leg)
    for i, (shade, tip) in enumerate(roof_items):
        yy = _H - _B + 52 + h + 4 + 14 * i
        out.append(
            f'<line x1="{_L}" x2="{_L + 20}" y1="{yy - 4}" y2="{yy - 4}" stroke="{shade}" stroke-width="1.6"/>'
            + text(_L + 26, yy, tip, extra=' font-size="10"')
        )
    out.append("</svg>")
    return "".join(out)


def roofline_html(dump_dir: Path, manifest: dict[str, Any]) -> tuple[str, list[str]]:
    """The section's HTML and the files it wrote (``svg/roofline.svg``, one per frontend)."""
    points, roofs = kernel_points(dump_dir)
    roofs = roofs + target_roofs(dump_dir)
    order = [fe for fe, e in (manifest.get("frontends") or {}).items() if isinstance(e, dict)]
    if not points and not roofs:
        return '<p class="xl-note">No kernel times yet: run <code>xlalens time DIR</code>.</p>', []
    placed = _placed(points)
    fes = [fe for fe in order if any(p.frontend == fe for p in placed)]
    written = []
    svg_dir = Path(dump_dir) / "svg"
    if svg_dir.is_dir():
        for fe in [None, *fes]:
            mine = [p for p in points if fe is None or p.frontend == fe]
            name = "roofline.svg" if fe is None else f"roofline.{fe}.svg"
            what = "all frontends" if fe is None else fe
            svg = roofline_svg(mine, roofs, order, title=f"roofline · {what}", standalone=True)
            atomic_write(svg_dir / name, svg)
            written.append(f"svg/{name}")
    buttons = "".join(f'<button type="button" data-fe="{esc(fe)}">{esc(fe)}</button>' for fe in fes)
    links = " · ".join(
        f'<a href="{esc(w)}" target="_blank">{esc(Path(w).name)}</a>' for w in written
    )
    left = sorted((p for p in points if p not in placed), key=lambda p: -p.share)
    note = ""
    if left:
        names = ", ".join(
            f"{esc(p.name)} ({esc(p.frontend)}, {percent(p.share)})" for p in left[:8]
        )
        more = f" and {len(left) - 8} more" if len(left) > 8 else ""
        note = (
            f'<p class="xl-muted">{len(left)} kernels without FLOPs (copies, custom calls, '
            f"convolutions of unknown cost) have no place on this chart: {names}{more} "
            "(share of that frontend's step).</p>"
        )
    html = (
        '<div class="xl-roofline"><div class="xl-filter" role="group" aria-label="frontend">'
        f'<button type="button" data-fe="" class="xl-on">all</button>{buttons}</div>'
        + roofline_svg(points, roofs, order, title="roofline · all frontends")
        + note
        + (f'<p class="xl-links">files: {links}</p>' if links else "")
        + "</div>"
    )
    return html, written
