"""The report's "compiler passes" section: timelines, step plot, blame, memory.

:func:`report_section` returns a self-contained HTML fragment (tables and an
inline SVG; links point at files inside the dump folder, relative to it) for
``xlalens.render``'s report; :func:`write_page` writes it as
``DIR/passes.html`` on its own.
"""

from __future__ import annotations

import html
from pathlib import Path

from xlalens._paths import display_path
from xlalens.dumpdir import atomic_write
from xlalens.passes._memory import format_bytes
from xlalens.passes._run import PASSES_DIR, FrontendPasses, load_passes

# One colour per frontend, in the order they appear (colour-blind safe, Okabe-Ito).
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")


def _e(x: object) -> str:
    return html.escape(str(x), quote=True)


def step_plot_svg(recs: dict[str, FrontendPasses], *, width: int = 720, height: int = 180) -> str:
    """Ops and kernels after each pass, one step line per frontend, as inline SVG.

    Args:
        recs: ``{frontend: record}``; those without a timeline are left out.
        width: pixels.
        height: pixels per panel (two panels: ops, kernels).

    Returns:
        An ``<svg>`` element (no scripts; each point has a ``<title>`` with the pass).

    Example:
        >>> svg = step_plot_svg(load_passes("xlalens-dump"))  # doctest: +SKIP
    """
    lines = {n: r.timeline for n, r in recs.items() if r.timeline is not None}
    if not lines:
        return ""
    left, right, top, gap = 48, 120, 18, 30
    pw = width - left - right
    total_h = 2 * height + gap + 30
    xmax = max(len(tl.steps) - 1 for tl in lines.values()) or 1
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{total_h}" '
        f'viewBox="0 0 {width} {total_h}" font-family="sans-serif" font-size="11" '
        'role="img" aria-label="ops and kernels after each XLA pass">'
    ]
    for panel, (field, label) in enumerate((("ops", "ops"), ("kernels", "kernels"))):
        y0 = top + panel * (height + gap)
        ymax = max(getattr(s, field) for tl in lines.values() for s in tl.steps) or 1

        def px(i: int) -> float:
            return left + pw * i / xmax

        def py(v: int, y0: int = y0, ymax: int = ymax) -> float:
            return y0 + height - (height - 10) * v / ymax

        out.append(
            f'<text x="{left}" y="{y0 - 5}" font-weight="bold">{label} after each pass</text>'
            f'<line x1="{left}" y1="{y0 + height}" x2="{left + pw}" y2="{y0 + height}" stroke="#999"/>'
            f'<line x1="{left}" y1="{y0}" x2="{left}" y2="{y0 + height}" stroke="#999"/>'
            f'<text x="{left - 4}" y="{py(ymax) + 4:.1f}" text-anchor="end">{ymax}</text>'
            f'<text x="{left - 4}" y="{y0 + height}" text-anchor="end">0</text>'
        )
        for k, (name, tl) in enumerate(lines.items()):
            colour = COLOURS[k % len(COLOURS)]
            pts = []
            prev_y = None
            for s in tl.steps:
                x, y = px(s.index), py(getattr(s, field))
                if prev_y is not None:
                    pts.append(f"{x:.1f},{prev_y:.1f}")
                pts.append(f"{x:.1f},{y:.1f}")
                prev_y = y
            out.append(
                f'<polyline fill="none" stroke="{colour}" stroke-width="1.8" '
                f'points="{" ".join(pts)}"/>'
            )
            for s in tl.steps:
                if s.folded and s.index:
                    continue
                out.append(
                    f'<circle cx="{px(s.index):.1f}" cy="{py(getattr(s, field)):.1f}" r="2.5" '
                    f'fill="{colour}"><title>{_e(name)} #{s.index} {_e(s.label)}: '
                    f"{getattr(s, field)} {label}. {_e(s.summary)}</title></circle>"
                )
            if panel == 0:
                ly = top + 14 * k + 6
                out.append(
                    f'<rect x="{left + pw + 10}" y="{ly - 8}" width="10" height="10" fill="{colour}"/>'
                    f'<text x="{left + pw + 24}" y="{ly + 1}">{_e(name)}</text>'
                )
    out.append(
        f'<text x="{left + pw / 2:.0f}" y="{total_h - 6}" text-anchor="middle">'
        "pass snapshot (XLA's order)</text></svg>"
    )
    return "".join(out)


def _timeline_table(rec: FrontendPasses) -> str:
    tl = rec.timeline
    assert tl is not None
    rows = [
        "<table class='passes-timeline'><thead><tr><th>#</th><th>pipeline</th><th>pass</th>"
        "<th>ops</th><th>kernels</th><th>+</th><th>&minus;</th><th>~</th><th>what it did</th>"
        "</tr></thead><tbody>"
    ]
    for s in tl.shown:
        link = f"{rec.frontend}/{PASSES_DIR}/xla/{s.file}"
        rows.append(
            f"<tr><td>{s.index}</td><td>{_e(s.pipeline)}</td>"
            f"<td><a href='{_e(link)}'>{_e(s.pass_name)}</a></td><td>{s.ops}</td>"
            f"<td>{s.kernels}</td><td>{s.added}</td><td>{s.removed}</td><td>{s.changed}</td>"
            f"<td>{_e(s.summary.split(': ', 1)[-1])}</td></tr>"
        )
    folded = sum(1 for s in tl.steps if s.folded and s.index)
    rows.append(
        f"</tbody></table><p>{len(tl.steps)} snapshots, {folded} folded (no structural change).</p>"
    )
    return "".join(rows)


def _blame_table(rec: FrontendPasses) -> str:
    tl = rec.timeline
    assert tl is not None
    rows = [
        "<table class='passes-blame'><thead><tr><th>kernel</th><th>op</th><th>ops</th>"
        "<th>created by</th><th>changed by</th><th>source</th><th>codegen</th></tr></thead><tbody>"
    ]
    for k in tl.kernels:
        files = rec.codegen.get(k.kernel, ())
        links = " ".join(
            f"<a href='{_e(f'{rec.frontend}/{PASSES_DIR}/{f}')}'>{_e(_short(f))}</a>" for f in files
        )
        ops_here = [o for o in tl.ops if o.kernel == k.kernel]
        hover = "; ".join(f"{o.op_id.split('/')[-1]} ({o.op})" for o in ops_here[:40])
        rows.append(
            f"<tr id='{_e(rec.frontend)}-kernel-{_e(k.kernel)}'><td title='{_e(hover)}'>"
            f"{_e(k.kernel)}</td><td>{_e(k.op)}</td><td>{k.fused_ops}</td>"
            f"<td>{_e(k.created_by)}</td><td>{_e(', '.join(k.changed_by)) or '-'}</td>"
            f"<td>{_e(display_path(k.source)) or '-'}</td><td>{links or '-'}</td></tr>"
        )
    rows.append("</tbody></table>")
    removed: dict[str, int] = {}
    for o in tl.ops:
        if o.removed_by:
            removed[o.removed_by] = removed.get(o.removed_by, 0) + 1
    into = sum(1 for o in tl.ops if o.kernel)
    kept = sum(1 for o in tl.ops if not o.kernel and not o.removed_by)
    parts = ", ".join(f"{n} by {_e(p)}" for p, n in sorted(removed.items(), key=lambda kv: -kv[1]))
    rows.append(
        f"<p>Of the {len(tl.ops)} ops XLA received: {into} run in a kernel above, {kept} kept "
        f"as parameters/constants/tuples, {sum(removed.values())} removed ({parts or 'none'}).</p>"
    )
    return "".join(rows)


def _short(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    for suffix in (
        "ir-no-opt.ll",
        "ir-with-opt.ll",
        ".o",
        "pre-optimization.mlir",
        "post-lowering.mlir",
        "post-optimization.mlir",
    ):
        if name.endswith(suffix):
            return suffix.lstrip(".")
    return name


def _memory_table(recs: dict[str, FrontendPasses]) -> str:
    withmem = {n: r for n, r in recs.items() if r.memory is not None}
    if not withmem:
        return ""
    rows = [
        "<table class='passes-memory'><thead><tr><th>frontend</th><th>peak</th><th>parameters</th>"
        "<th>outputs</th><th>temp</th><th>all allocations</th>"
        "<th>largest live at the peak (value, size, source)</th></tr></thead><tbody>"
    ]
    for name, r in withmem.items():
        m = r.memory
        assert m is not None
        live = "<br>".join(
            f"{_e(b.value)} {_e(b.shape)} {format_bytes(b.size)} ({_e(b.kind)})"
            + (f" <small>{_e(display_path(b.source))}</small>" if b.source else "")
            for b in m.live_at_peak[:5]
        )
        rows.append(
            f"<tr><td>{_e(name)}</td><td>{format_bytes(m.peak_bytes)}</td>"
            f"<td>{format_bytes(m.parameter_bytes)}</td><td>{format_bytes(m.output_bytes)}</td>"
            f"<td>{format_bytes(m.temp_bytes)}</td><td>{format_bytes(m.total_bytes)}</td>"
            f"<td>{live or '-'}</td></tr>"
        )
    rows.append("</tbody></table>")
    return "".join(rows)


def _overview(recs: dict[str, FrontendPasses]) -> str:
    rows = [
        "<table class='passes-overview'><thead><tr><th>frontend</th><th>status</th><th>module</th>"
        "<th>passes that changed it</th><th>ops in &rarr; out</th><th>kernels in &rarr; out</th>"
        "<th>peak memory</th><th>last snapshot = captured optimized HLO</th></tr></thead><tbody>"
    ]
    for name, r in recs.items():
        if r.timeline is None:
            reason = (r.reason or "").strip().splitlines()
            rows.append(
                f"<tr><td>{_e(name)}</td><td>{_e(r.status)}</td><td colspan='6'>"
                f"<pre>{_e(chr(10).join(reason[-8:]))}</pre></td></tr>"
            )
            continue
        tl = r.timeline
        first, last = tl.steps[0], tl.steps[-1]
        same = {True: "yes", False: "no", None: "-"}[r.matches_capture]
        rows.append(
            f"<tr><td>{_e(name)}</td><td>{_e(r.status)}</td><td>{_e(r.module)}"
            f" <small>({_e(r.picked_by)})</small></td><td>{len(tl.shown) - 1}</td>"
            f"<td>{first.ops} &rarr; {last.ops}</td><td>{first.kernels} &rarr; {last.kernels}</td>"
            f"<td>{format_bytes(r.memory.peak_bytes) if r.memory else '-'}</td><td>{same}</td></tr>"
        )
    rows.append("</tbody></table>")
    return "".join(rows)


def section_html(recs: dict[str, FrontendPasses]) -> str:
    """The section's HTML for some records (see :func:`report_section`)."""
    parts = [
        "<div class='xlalens-passes'>",
        "<p>What each XLA pass did to each framework's step: ops and kernels after every pass "
        "that changed the module (re-run with <code>xlalens passes</code>; folded passes changed "
        "nothing). Hover a point or a kernel for details.</p>",
        _overview(recs),
        step_plot_svg(recs),
        "<h4>Memory</h4>",
        _memory_table(recs) or "<p>No buffer-assignment report was dumped.</p>",
    ]
    for name, r in recs.items():
        if r.timeline is None:
            continue
        parts.append(
            f"<details><summary>{_e(name)}: {len(r.timeline.shown) - 1} passes changed "
            f"{_e(r.module)}</summary>{_timeline_table(r)}<h5>Blame</h5>{_blame_table(r)}</details>"
        )
    parts.append("</div>")
    return "".join(parts)


def report_section(dump_dir: Path) -> tuple[str, str] | None:
    """The report's "compiler passes" section, or None when ``xlalens passes`` never ran.

    Args:
        dump_dir: the dump folder.

    Returns:
        ``(title, html)``: a self-contained fragment (tables, inline SVG, links
        relative to the dump folder to snapshots and kernel codegen files).

    Example:
        >>> title, fragment = report_section(Path("xlalens-dump"))  # doctest: +SKIP
    """
    recs = load_passes(dump_dir)
    if not recs:
        return None
    return "Compiler passes", section_html(recs)


def write_page(dump_dir: Path) -> Path | None:
    """Write ``DIR/passes.html``: the section as a page of its own (atomically).

    Returns:
        Its path, or None when there is nothing to show.

    Example:
        >>> write_page(Path("xlalens-dump"))  # doctest: +SKIP
    """
    sec = report_section(dump_dir)
    if sec is None:
        return None
    title, body = sec
    page = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>xlalens: {_e(title)}</title><style>"
        "body{font-family:sans-serif;margin:1.5em;max-width:1200px}"
        "table{border-collapse:collapse;margin:.5em 0}"
        "td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px;text-align:left}"
        "th{background:#f3f3f3}details{margin:.6em 0}summary{cursor:pointer;font-weight:bold}"
        f"</style></head><body><h2>{_e(title)}</h2>{body}</body></html>"
    )
    out = Path(dump_dir) / "passes.html"
    atomic_write(out, page)
    return out
