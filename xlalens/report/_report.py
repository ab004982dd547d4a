"""The offline HTML report of a dump (``report.html``), and the report stage of ``xlalens dump``.

The SVGs are drawn by ``_svgs`` (see its NOTEs: files beside the report, what the
dump draws); the tables are ``_tables``; the stages' sections come from the
registry in ``_sections``.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from xlalens.dumpdir import atomic_write as _write_atomic  # the one atomic write (issue 22)
from xlalens.render._dot import GraphvizNotFound
from xlalens.report._data import diff_anchor
from xlalens.report._roofline import roofline_html
from xlalens.report._summary import summary_html
from xlalens.report._svgs import (
    REPORT,
    SVG_DIR,
    _diff_stem,
    _graph_keys,
    _graph_stem,
    render_dump,
)
from xlalens.report._tables import (
    _diff_details,
    _esc,
    _figures,
    _fmt_num,
    _meta,
    _timing,
    _viewer,
    header_dl,
)
from xlalens.report._timeline import timeline_html


def _static(name: str) -> str:
    return resources.files("xlalens.report").joinpath("static", name).read_text()


def _sections(dump_dir: Path) -> list[tuple[str, str, str]]:
    """(anchor, title, HTML) of every provider's section (see ``_sections``)."""
    from xlalens.report._sections import collect

    return collect(dump_dir)


def _guarded(part: Callable[..., str], *args: Any) -> str:
    """A built-in section's HTML; one that raises becomes a visible note (the report still opens)."""
    try:
        return part(*args)
    except Exception as exc:
        line = traceback.format_exception_only(type(exc), exc)[-1].strip()
        return f'<p class="xl-note xl-error">this part failed: {_esc(line)}</p>'


def _guarded_pair(part: Callable[..., tuple[str, list[str]]], *args: Any) -> tuple[str, list[str]]:
    """:func:`_guarded` for a part that also returns the files it wrote."""
    try:
        return part(*args)
    except Exception as exc:
        line = traceback.format_exception_only(type(exc), exc)[-1].strip()
        return f'<p class="xl-note xl-error">this part failed: {_esc(line)}</p>', []


def _compact_row(card: int, row: list[Any], files: dict[str, int]) -> list[Any]:
    """A search row as ``svg/index.js`` stores it: ``[card, id, name, op, file:line, file
    (, what stands for it)]``
    with the name ``""`` when it is the id's last part, and the view file as an index
    into ``files`` (report.js expands both; 45% of the index of a ResNet50 dump)."""
    node, name, op, loc, view, *target = row
    short = "" if str(node).rsplit("/", 1)[-1] == name else name
    return [card, node, short, op, loc, files.setdefault(view, len(files)), *target]


def build_html(
    dump_dir: str | Path, manifest: dict[str, Any], notes: dict[str, str] | None = None
) -> str:
    """The report's HTML text for a dump whose SVGs are under ``DIR/svg/``.

    Also writes ``DIR/svg/index.js``, the search index the report loads when the
    search box is first used.
    """
    dump_dir = Path(dump_dir)
    notes = dict(notes or {})
    wl = manifest.get("workload") or {}
    body: list[str] = []
    index: list[list[Any]] = []
    files: dict[str, int] = {}
    cards: list[str] = []

    body.append('<section id="summary"><h2>Summary</h2>')
    body.append(_guarded(summary_html, dump_dir, manifest))
    body.append("</section>")

    roof_html, _files = _guarded_pair(roofline_html, dump_dir, manifest)
    body.append('<section id="roofline"><h2>Roofline</h2>')
    body.append(roof_html)
    body.append("</section>")

    body.append('<section id="timeline"><h2>Kernel timeline</h2>')
    body.append(_guarded(timeline_html, dump_dir, manifest))
    body.append("</section>")

    body.append('<section id="figures"><h2>Figures</h2>')
    body.append(_figures(dump_dir, manifest))
    body.append("</section>")

    body.append('<section id="graphs"><h2>Graphs: frontends × IR levels</h2>')
    body.append(
        "<p>Drag to pan, wheel or +/− to zoom; click a 3-D box or a double-bordered kernel "
        "to open its drill-down, ◂ back to return. Hover a node for its source location and "
        "attributes. The search box (top) finds a node by name, op or source line.</p>"
    )
    fronts = manifest.get("frontends") or {}
    any_graph = False
    for fe, info in fronts.items():
        if not isinstance(info, dict):
            continue
        body.append(f'<h3 id="fe-{_esc(fe)}">{_esc(fe)}</h3>')
        keys = _graph_keys(info)
        if not keys:
            reason = info.get("reason") or "no graphs listed in the manifest"
            body.append(
                f'<p class="xl-note">{_esc(fe)}: status {_esc(info.get("status"))}; {_esc(str(reason).splitlines()[-1:] and str(reason).splitlines()[-1])}</p>'
            )
            continue
        body.append('<div class="xl-cards">')
        for key in keys:
            any_graph = True
            stem = _graph_stem(fe, key)
            meta, note = _meta(dump_dir, stem, notes)
            body.append(f'<div class="xl-card"><h4>{_esc(fe)} · {_esc(key)}</h4>')
            if meta is None:
                body.append(f'<p class="xl-note xl-error">{_esc(note)}</p>')
            else:
                card = f"card-{len(cards)}"
                cards.append(f"{fe} · {key}")
                for row in meta.get("rows") or []:
                    index.append(_compact_row(len(cards) - 1, row, files))
                body.append(_viewer(f"{SVG_DIR}/{stem}.svg", f"{fe} · {key}", meta, card))
            body.append("</div>")
        body.append("</div>")
    if not any_graph:
        body.append('<p class="xl-note">No graphs in this dump.</p>')
    body.append("</section>")

    body.append('<section id="diffs"><h2>Diffs: cross-framework and pre/post-optimization</h2>')
    diffs = manifest.get("diffs")
    if not diffs:
        body.append('<p class="xl-note">No diffs in this dump.</p>')
    for i, rec in enumerate(diffs or []):
        if not isinstance(rec, dict):
            body.append('<p class="xl-note xl-error">unreadable diff entry</p>')
            continue
        title = f"{rec.get('a')} vs {rec.get('b')} · {rec.get('level')} · {rec.get('kind')}"
        body.append(
            f'<div class="xl-card xl-wide" id="{_esc(diff_anchor(rec, i))}"><h4>{_esc(title)}</h4>'
        )
        s = rec.get("summary") or {}
        if isinstance(s, dict) and s:
            body.append(
                '<div class="xl-meta">'
                + " · ".join(
                    f"{_esc(k)} {_fmt_num(v)}"
                    for k, v in s.items()
                    if not isinstance(v, (dict, list))
                )
                + "</div>"
            )
        links = [
            f'<a href="{_esc(rec[k])}">{k}</a>' for k in ("markdown", "json", "text") if rec.get(k)
        ]
        if links:
            body.append('<div class="xl-links">' + "".join(links) + "</div>")
        if rec.get("error"):
            body.append(f'<p class="xl-note xl-error">diff failed: {_esc(rec["error"])}</p>')
        else:
            stem = _diff_stem(rec, i)
            meta, note = _meta(dump_dir, stem, notes)
            if meta is None:
                body.append(f'<p class="xl-note xl-error">{_esc(note)}</p>')
            else:
                cards.append(title)
                body.append(_viewer(f"{SVG_DIR}/{stem}.svg", title, meta, f"card-{len(cards) - 1}"))
            body.append(_diff_details(dump_dir, rec))
        body.append("</div>")
    body.append("</section>")

    body.append('<section id="timing"><h2>Timing</h2>')
    body.append(_timing(dump_dir))
    body.append("</section>")

    nav = [
        ("summary", "summary"),
        ("roofline", "roofline"),
        ("timeline", "timeline"),
        ("figures", "figures"),
        ("graphs", "graphs"),
        ("diffs", "diffs"),
        ("timing", "timing"),
    ]
    for anchor, title, fragment in _sections(dump_dir):
        body.append(f'<section id="{_esc(anchor)}"><h2>{_esc(title)}</h2>{fragment}</section>')
        nav.append((anchor, title))

    svg_dir = dump_dir / SVG_DIR
    if svg_dir.is_dir():
        # The search index: loaded by a <script> element on first use (a file://
        # page may not fetch), so it costs report.html nothing.
        _write_atomic(
            svg_dir / "index.js",
            "window.xlalensIndex = "
            + json.dumps(
                {"cards": cards, "files": list(files), "rows": index}, separators=(",", ":")
            )
            + ";\n",
        )

    global_notes = "".join(
        f'<p class="xl-note xl-error">{_esc(v)}</p>'
        for k, v in sorted(notes.items())
        if k.startswith("!")
    )
    steps = manifest.get("steps")
    for name, st in steps.items() if isinstance(steps, dict) else []:
        if isinstance(st, dict) and st.get("status") not in (None, "ok"):
            global_notes += (
                f'<p class="xl-note xl-error">dump stage {_esc(name)} {_esc(st.get("status"))}: '
                f"{_esc(st.get('reason'))}</p>"
            )
    nav_html = "".join(f'<a href="#{_esc(a)}">{_esc(t)}</a>' for a, t in nav)
    head = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>xlalens report · {_esc(wl.get('name') if isinstance(wl, dict) else '')}</title>"
        f"<style>{_static('report.css')}</style></head><body>"
        "<header><h1>xlalens report</h1>"
        f"{header_dl(manifest)}{global_notes}</header>"
        f"<nav>{nav_html}"
        '<span class="xl-search"><input type="search" id="xl-search" placeholder="find a node: name, op or file:line" '
        f'autocomplete="off" data-index="{SVG_DIR}/index.js"><span id="xl-hits" hidden></span></span>'
        "</nav><main>"
    )
    heat_legend = "".join(
        f'<span class="xl-swatch" style="background:{c}"></span>{_esc(t)} '
        for c, t in _heat_legend()
    )
    tail = (
        f'</main><div id="xl-heat-legend" hidden>heat scale: {heat_legend}</div>'
        f"<script>{_static('report.js')}</script></body></html>\n"
    )
    return head + "".join(body) + tail


def _heat_legend() -> list[tuple[str, str]]:
    from xlalens.render import _style

    return _style.heat_legend()


def dump_step(dump_dir: Path, manifest: dict[str, Any]) -> None:
    """The render stage of ``xlalens dump``: SVGs under ``svg/`` and ``report.html``.

    Called last, on the finished staging folder. Renders every graph listed in
    ``manifest["frontends"][fe]["artifacts"]["graphs"]`` and every diff in
    ``manifest["diffs"]``, writes ``report.html`` and sets
    ``manifest["report"] = "report.html"``. A graph or diff that cannot be
    rendered becomes a visible note in the report.

    Args:
        dump_dir: the dump (staging) folder.
        manifest: the manifest dict, updated in place.

    Returns:
        None.

    Raises:
        GraphvizNotFound: after everything else was written, when ``dot`` is
            missing (the report says so in place of each SVG); the capture stage
            finishes the dump and exits 2 with this one line.

    Example:
        >>> dump_step(Path("xlalens-dump"), manifest)  # doctest: +SKIP
    """
    dump_dir = Path(dump_dir)
    result = render_dump(dump_dir, manifest)
    notes = result["notes"]
    if result["dot_missing"]:
        notes["!dot"] = (
            "graphviz's dot is missing, so no SVG was drawn: apt-get install graphviz, then run `xlalens render` or re-run the dump"
        )
    _write_atomic(dump_dir / REPORT, build_html(dump_dir, manifest, notes))
    manifest["report"] = REPORT
    if result["dot_missing"]:
        from xlalens.render._dot import INSTALL_HINT

        raise GraphvizNotFound(INSTALL_HINT)


def write_report(dump_dir: str | Path, *, all_views: bool = False) -> Path:
    """(Re)build ``DIR/report.html`` from an existing dump (SVGs missing from ``svg/`` are drawn).

    Never raises for a bad or missing piece: each becomes a note in the report.
    :func:`refresh_report` is the same for the CLI's commands, never raising.

    Args:
        dump_dir: the dump folder.
        all_views: also draw the views the dump leaves out: kernels' bodies and
            the deep drill-downs of the secondary graphs (see the NOTEs of ``_svgs``).

    Returns:
        The path of the report.

    Raises:
        DumpError: the folder is not a dump (no readable manifest).

    Example:
        >>> write_report("xlalens-dump")  # doctest: +SKIP
        PosixPath('xlalens-dump/report.html')
    """
    from xlalens.dumpdir import read_manifest

    dump_dir = Path(dump_dir)
    manifest = read_manifest(dump_dir)
    result = render_dump(dump_dir, manifest, only_missing=True, all_views=all_views)
    notes = result["notes"]
    if result["dot_missing"]:
        notes["!dot"] = "graphviz's dot is missing: apt-get install graphviz"
    path = dump_dir / REPORT
    _write_atomic(path, build_html(dump_dir, manifest, notes))
    return path


def refresh_report(dump_dir: str | Path, *, all_views: bool = False) -> Path | None:
    """Regenerate ``DIR/report.html`` after a command changed the dump; ``None`` if not a dump.

    The CLI calls it after ``dump``, ``compile``, ``passes``, ``time`` and
    ``render``, so the report always shows what the folder holds (stages never
    import the report: NOTE [stages never import the report] in ``_sections``).
    Views already drawn are kept; missing ones are drawn (heat views redrawn once
    timing arrives).

    Args:
        dump_dir: the dump folder (anything else is left alone).
        all_views: also draw the views the dump leaves out (``render --all-views``).

    Returns:
        The report's path, or ``None`` when ``dump_dir`` is not a dump.

    Raises:
        DumpError: the manifest is unreadable.

    Example:
        >>> refresh_report("xlalens-dump")  # doctest: +SKIP
        PosixPath('xlalens-dump/report.html')
    """
    from xlalens.dumpdir import is_dump

    if not is_dump(dump_dir):
        return None
    return write_report(dump_dir, all_views=all_views)
