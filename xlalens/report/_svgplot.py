"""Small SVG drawing helpers for the report's charts: scales, axes, legends, colours.

NOTE: [our own SVG] The charts are plain SVG text written here, inline in
report.html: no plotting library, no CDN, nothing fetched, so the report opens
offline and from ``file://``. Every chart carries ``viewBox`` and a width of
100% with a max-width, so it fits its column; a chart also written as a file
opens fitted with its legend inside the drawing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from xlalens.report._fmt import esc

# Okabe-Ito: distinguishable by colour-blind readers, one per frontend in manifest order.
FRONTEND_COLOURS = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#D55E00",
    "#56B4E9",
    "#8C6D1F",
    "#444444",
)
# Kernel kinds, idle and overhead in the stacked bars.
KIND_COLOURS = ("#3b6ea8", "#6d9bd1", "#9ec3ea", "#2c8c7a", "#74c2b0", "#8a6fb5", "#b9a5d9")
IDLE_COLOUR = "#d9d9d9"
OVERHEAD_COLOUR = "#e07b6a"
FONT = 'font-family="system-ui, Helvetica, Arial, sans-serif"'


def colours(names: Sequence[str]) -> dict[str, str]:
    """One colour per name, in order (frontends keep theirs in every chart of a report)."""
    return {n: FRONTEND_COLOURS[i % len(FRONTEND_COLOURS)] for i, n in enumerate(names)}


class LogScale:
    """Maps ``[lo, hi]`` (positive) onto pixels ``[a, b]`` logarithmically."""

    def __init__(self, lo: float, hi: float, a: float, b: float) -> None:
        lo = max(lo, 1e-300)
        hi = max(hi, lo * 10)
        self.lo, self.hi = 10 ** math.floor(math.log10(lo)), 10 ** math.ceil(math.log10(hi))
        self.a, self.b = a, b

    def __call__(self, v: float) -> float:
        v = min(max(v, self.lo), self.hi)
        t = (math.log10(v) - math.log10(self.lo)) / (math.log10(self.hi) - math.log10(self.lo))
        return self.a + t * (self.b - self.a)

    def ticks(self) -> list[float]:
        """One tick per decade."""
        lo, hi = round(math.log10(self.lo)), round(math.log10(self.hi))
        step = max(1, (hi - lo) // 8)
        return [10.0**e for e in range(lo, hi + 1, step)]


class LinScale:
    """Maps ``[0, hi]`` onto pixels ``[a, b]``."""

    def __init__(self, hi: float, a: float, b: float) -> None:
        self.hi = hi if hi > 0 else 1.0
        self.a, self.b = a, b

    def __call__(self, v: float) -> float:
        return self.a + (max(v, 0.0) / self.hi) * (self.b - self.a)

    def ticks(self, n: int = 5) -> list[float]:
        """About ``n`` round ticks from 0 to the top."""
        raw = self.hi / n
        mag = 10 ** math.floor(math.log10(raw))
        step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
        return [i * step for i in range(int(self.hi / step) + 1)]


def svg_open(width: int, height: int, label: str, cls: str = "xl-chart", extra: str = "") -> str:
    """The opening tag of a chart: sized by ``viewBox``, fitted to its column."""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{cls}" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" style="max-width:100%;height:auto" role="img" '
        f'aria-label="{esc(label)}" {FONT} font-size="11"{extra}>'
    )


def text(x: float, y: float, s: str, anchor: str = "start", extra: str = "") -> str:
    """A text element."""
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{extra}>{esc(s)}</text>'


def legend(items: Iterable[tuple[str, str]], x: float, y: float, width: float) -> tuple[str, float]:
    """Swatches with labels, wrapped within ``width``; returns the SVG and the height used."""
    out, cx, cy = [], x, y
    for colour, label in items:
        w = 18 + 6.5 * len(label) + 12
        if cx + w > x + width and cx > x:
            cx, cy = x, cy + 16
        out.append(
            f'<rect x="{cx:.1f}" y="{cy - 9:.1f}" width="12" height="10" fill="{colour}" stroke="#555" stroke-width=".5"/>'
            + text(cx + 16, cy, label)
        )
        cx += w
    return '<g class="xl-legend">' + "".join(out) + "</g>", cy - y + 16


def with_title(tag: str, title: str) -> str:
    """``<tag ...>`` turned into ``<tag ...><title>..</title></tag>`` (hover text everywhere)."""
    assert tag.endswith("/>")
    name = tag[1:].split(" ", 1)[0]
    return f"{tag[:-2]}><title>{esc(title)}</title></{name}>"
