"""The report's summary: three questions answered in pictures, first thing on the page.

1. Which framework's step is fastest? Bars of the compiled and native step per
   frontend and size, with their spread (log time axis: a native step can be a
   hundred times its compiled replay).
2. Where does the time go? One bar per frontend, split into kernels by kind,
   idle time between kernels and the framework's own overhead, each as a share
   of the step (the total beside the bar).
3. What differs? A frontend x frontend matrix of the cross-framework diffs:
   above the diagonal StableHLO, below it optimized HLO; each cell gives the
   dot/convolution pairing, the node pairing and the kernel counts, and links to
   its diff card.

All three are drawn from files already in the dump (``_data``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from xlalens.report._data import (
    DiffCell,
    StepBar,
    TimeSplit,
    diff_cells,
    step_bars,
    time_splits,
)
from xlalens.report._fmt import esc, percent, seconds
from xlalens.report._svgplot import (
    IDLE_COLOUR,
    KIND_COLOURS,
    OVERHEAD_COLOUR,
    LogScale,
    colours,
    legend,
    svg_open,
    text,
)

_W = 760
_LABEL = 150


def _tip(s: str) -> str:
    return f' data-tip="{esc(s)}"'


def step_chart(bars: list[StepBar], order: list[str]) -> str:
    """Horizontal bars per (size, frontend): compiled solid, native pale, spread as a whisker."""
    if not bars:
        return ""
    col = colours(order)
    sizes = sorted({b.size for b in bars}, key=lambda s: (s is None, s or 0))
    lo = min((v for b in bars for v in (b.lo_s, b.median_s) if v > 0), default=1e-6)
    hi = max(b.hi_s for b in bars)
    x = LogScale(lo, hi, _LABEL, _W - 70)
    rows: list[tuple[int | None, str]] = []
    for s in sizes:
        fes = [fe for fe in order if any(b.size == s and b.frontend == fe for b in bars)]
        fes += sorted({b.frontend for b in bars if b.size == s} - set(fes))
        rows += [(s, fe) for fe in fes]
    row_h, top = 26, 28
    height = top + row_h * len(rows) + 18 * len(sizes) + 56
    out = [svg_open(_W, height, "step time per frontend and size", extra=' data-chart="steps"')]
    for t in x.ticks():
        out.append(
            f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{top - 6}" y2="{height - 50}" stroke="#e3e6ec"/>'
            + text(x(t), top - 10, seconds(t), "middle", ' fill="#5b6475"')
        )
    y = top
    # The fastest bar per (size, kind), and how many others' spreads reach it:
    # "fastest" is said only when no other spread overlaps (findings' rule).
    fastest: dict[tuple[int | None, str], StepBar] = {}
    for b in bars:
        k = (b.size, b.kind)
        if k not in fastest or b.median_s < fastest[k].median_s:
            fastest[k] = b
    ties = {
        k: sum(1 for b in bars if (b.size, b.kind) == k and b is not f and b.lo_s <= f.hi_s)
        for k, f in fastest.items()
    }
    last_size: object = object()
    for size, fe in rows:
        if size != last_size:
            label = f"{size:,} samples" if isinstance(size, int) else "size unknown"
            out.append(text(4, y + 12, label, extra=' font-weight="600"'))
            y += 18
            last_size = size
        out.append(text(_LABEL - 6, y + 15, fe, "end"))
        for j, kind in enumerate(("compiled", "native")):
            b = next(
                (b for b in bars if b.size == size and b.frontend == fe and b.kind == kind), None
            )
            if b is None:
                continue
            yy = y + 3 + j * 11
            w = max(x(b.median_s) - _LABEL, 1.5)
            star = ""
            if fastest[(size, kind)] is b:
                n = ties[(size, kind)]
                star = " ★ fastest" if not n else f" ★ fastest ({n} within its spread)"
            tip = (
                f"{fe} · {kind} step · {seconds(b.median_s)} "
                f"(spread {seconds(b.lo_s)} – {seconds(b.hi_s)}: {b.note}) · {b.backend}"
            )
            out.append(
                f'<rect class="xl-bar" x="{_LABEL}" y="{yy}" width="{w:.1f}" height="9" '
                f'fill="{col.get(fe, "#888")}" fill-opacity="{1 if kind == "compiled" else 0.4}"'
                f"{_tip(tip)}><title>{esc(tip)}</title></rect>"
            )
            if b.hi_s > b.lo_s:
                out.append(
                    f'<line x1="{x(b.lo_s):.1f}" x2="{x(b.hi_s):.1f}" y1="{yy + 4.5}" y2="{yy + 4.5}" stroke="#222" stroke-width="1.2"/>'
                )
            out.append(
                text(
                    max(x(b.hi_s), _LABEL + w) + 4,
                    yy + 8,
                    f"{kind[0]} {seconds(b.median_s)}{star}",
                    extra=' font-size="10"',
                )
            )
        y += row_h
    leg, _ = legend(
        [("#777", "compiled step (PJRT replay)"), ("#ccc", "native step (the framework's own)")],
        _LABEL,
        height - 30,
        _W - _LABEL,
    )
    out.append(leg)
    out.append(
        text(_LABEL, height - 8, "whisker: median ± IQR/2; log scale", extra=' fill="#5b6475"')
    )
    out.append("</svg>")
    return "".join(out)


def split_chart(splits: list[TimeSplit]) -> str:
    """One 100% bar per frontend: kernel kinds, idle, overhead; the total step beside it."""
    if not splits:
        return ""
    kinds: list[str] = []
    for s in splits:
        for k, _ in s.kinds:
            if k not in kinds:
                kinds.append(k)
    kc = {k: KIND_COLOURS[i % len(KIND_COLOURS)] for i, k in enumerate(kinds)}
    row_h, top = 26, 10
    bar_w = _W - _LABEL - 110
    height = top + row_h * len(splits) + 44
    out = [svg_open(_W, height, "where the step time goes", extra=' data-chart="split"')]
    for i, s in enumerate(splits):
        y = top + i * row_h
        # Medians of the parts need not add up to the median step: what is left
        # is drawn as such, never spread over the parts.
        known = sum(t for _, t in s.kinds) + s.idle_s
        total = max(s.step_s, known) + (s.overhead_s or 0.0)
        parts = [(f"kernels {k}", t, kc[k]) for k, t in s.kinds]
        parts += [("idle between kernels", s.idle_s, IDLE_COLOUR)]
        if s.step_s > known:
            parts.append(
                (
                    "unattributed (the parts' medians fall short of the step's)",
                    s.step_s - known,
                    "#ffffff",
                )
            )
        if s.overhead_s:
            parts.append(("framework overhead (native − compiled)", s.overhead_s, OVERHEAD_COLOUR))
        label = s.frontend + (f" ({s.backend})" if s.backend != "cpu" else "")
        out.append(text(_LABEL - 6, y + 14, label, "end"))
        x = float(_LABEL)
        for name, t, c in parts:
            if t <= 0 or total <= 0:
                continue
            w = bar_w * t / total
            tip = f"{s.frontend} · {name} · {seconds(t)} · {percent(t / total)} of {seconds(total)}"
            out.append(
                f'<rect class="xl-bar" x="{x:.2f}" y="{y}" width="{max(w, 0.5):.2f}" height="18" '
                f'fill="{c}" stroke="#bbb" stroke-width=".4"{_tip(tip)}><title>{esc(tip)}</title></rect>'
            )
            if w > 44:
                out.append(
                    text(x + w / 2, y + 13, percent(t / total, 2), "middle", ' font-size="10"')
                )
            x += w
        out.append(text(_LABEL + bar_w + 6, y + 14, seconds(total)))
    items = [(kc[k], f"kernels: {k}") for k in kinds]
    items.append((IDLE_COLOUR, "idle between kernels"))
    if any(s.step_s > sum(t for _, t in s.kinds) + s.idle_s for s in splits):
        items.append(("#ffffff", "unattributed"))
    if any(s.overhead_s for s in splits):
        items.append((OVERHEAD_COLOUR, "framework overhead (native − compiled)"))
    leg, _ = legend(items, _LABEL, top + row_h * len(splits) + 16, _W - _LABEL)
    out.append(leg)
    out.append("</svg>")
    return "".join(out)


def _cell_fill(c: DiffCell) -> str:
    rate = c.nodes_paired / max(c.nodes_a, c.nodes_b, 1)
    # red (0% paired) -> yellow -> green (100%)
    r = int(230 - 120 * max(rate - 0.5, 0) * 2)
    g = int(120 + 100 * min(rate * 2, 1))
    return f"rgb({r},{g},120)"


def matrix_chart(cells: list[DiffCell], order: list[str]) -> str:
    """The frontend x frontend matrix; cells are links to the diff cards."""
    if not cells:
        return ""
    fes = [fe for fe in order if any(fe in (c.a, c.b) for c in cells)]
    n = len(fes)
    cw, ch, lab = 104, 50, 110
    top = 24
    width, height = max(lab + n * cw + 10, 600), top + n * ch + 30
    out = [svg_open(width, height, "what differs between frontends", extra=' data-chart="matrix"')]
    for i, fe in enumerate(fes):
        out.append(text(lab + i * cw + cw / 2, top - 8, fe, "middle", ' font-weight="600"'))
        out.append(text(lab - 6, top + i * ch + ch / 2 + 4, fe, "end", ' font-weight="600"'))
    by = {}
    for c in cells:
        by[(c.a, c.b, c.level)] = c
        by[(c.b, c.a, c.level)] = c
    for i, ra in enumerate(fes):
        for j, cb in enumerate(fes):
            x, y = lab + j * cw, top + i * ch
            if i == j:
                out.append(
                    f'<rect x="{x}" y="{y}" width="{cw - 2}" height="{ch - 2}" fill="#eef1f6"/>'
                )
                continue
            level = "stablehlo" if j > i else "optimized_hlo"
            c = by.get((ra, cb, level))
            if c is None:
                out.append(
                    f'<rect x="{x}" y="{y}" width="{cw - 2}" height="{ch - 2}" fill="#fafafa" stroke="#ddd"/>'
                    + text(x + cw / 2, y + ch / 2 + 3, "no diff", "middle", ' fill="#999"')
                )
                continue
            heavy = (
                f"dot/conv {c.heavy_paired}/{max(c.heavy_a, c.heavy_b)}"
                if c.heavy_a or c.heavy_b
                else "no dot/conv"
            )
            kern = (
                f"kernels {c.kernels_a}→{c.kernels_b}"
                if c.kernels_a is not None
                else f"nodes {c.nodes_a}→{c.nodes_b}"
            )
            rate = c.nodes_paired / max(c.nodes_a, c.nodes_b, 1)
            tip = (
                f"{c.a} vs {c.b} · {c.level} · dots/convs paired {c.heavy_paired} of "
                f"{c.heavy_a} (B has {c.heavy_b}) · nodes paired {c.nodes_paired} "
                f"({percent(rate)}) · {kern} · click for the diff"
            )
            out.append(
                f'<a class="xl-cell" href="#{esc(c.anchor)}" data-diff="{esc(c.anchor)}"{_tip(tip)}>'
                f"<title>{esc(tip)}</title>"
                f'<rect x="{x}" y="{y}" width="{cw - 2}" height="{ch - 2}" rx="3" fill="{_cell_fill(c)}"/>'
                + text(x + cw / 2, y + 15, heavy, "middle")
                + text(x + cw / 2, y + 29, f"paired {percent(rate, 2)}", "middle")
                + text(x + cw / 2, y + 42, kern, "middle", ' font-size="10"')
                + "</a>"
            )
    out.append(
        text(
            lab,
            height - 14,
            "above the diagonal: StableHLO · below: optimized HLO · colour: share of nodes paired",
            extra=' fill="#5b6475"',
        )
    )
    out.append("</svg>")
    return "".join(out)


def summary_html(dump_dir: Path, manifest: dict[str, Any]) -> str:
    """The summary section's HTML: the three charts, or one line per missing piece."""
    order = [fe for fe, e in (manifest.get("frontends") or {}).items() if isinstance(e, dict)]
    bars = step_bars(dump_dir, manifest)
    splits = time_splits(dump_dir)
    cells = diff_cells(dump_dir, manifest)
    parts = ['<div class="xl-summary">']
    parts.append('<figure class="xl-fig"><figcaption>Which step is fastest?</figcaption>')
    parts.append(
        step_chart(bars, order)
        or '<p class="xl-note">No timing yet: run <code>xlalens time DIR</code>.</p>'
    )
    parts.append("</figure>")
    parts.append('<figure class="xl-fig"><figcaption>Where does the time go?</figcaption>')
    parts.append(
        split_chart(splits)
        or '<p class="xl-note">No kernel profile yet: run <code>xlalens time DIR</code> (without --no-profile).</p>'
    )
    parts.append("</figure>")
    parts.append(
        '<figure class="xl-fig"><figcaption>What differs? (click a cell for its diff)</figcaption>'
    )
    parts.append(
        matrix_chart(cells, order)
        or '<p class="xl-note">No cross-framework diffs in this dump.</p>'
    )
    parts.append("</figure></div>")
    return "".join(parts)
