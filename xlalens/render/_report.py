"""The offline HTML report of a dump, and the render stage of ``xlalens dump``.

NOTE: [one self-contained file]
The report inlines its CSS, its script and every SVG (drill-downs as inert
``<template>`` elements), so it opens from disk, from an archive or from a CI
artifact with no request leaving the page: Chromium blocks ``fetch`` of
``file://`` URLs from a ``file://`` page, so loading ``svg/`` lazily would need a
server. The same SVGs are also written under ``svg/`` for use on their own.
"""

from __future__ import annotations

import html
import json
import re
import traceback
from importlib import resources
from pathlib import Path
from typing import Any

import networkx as nx

from xlalens.render._dot import GraphvizNotFound
from xlalens.render._render import DEFAULT_BUDGET, Rendering, diff_from_json, write_svgs

SVG_DIR = "svg"
REPORT = "report.html"
_LEVEL_ORDER = ("stablehlo", "hlo", "optimized_hlo")


def _static(name: str) -> str:
    return resources.files("xlalens.render").joinpath("static", name).read_text()


def _esc(x: Any) -> str:
    return html.escape("" if x is None else str(x))


def _graph_stem(fe: str, key: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{fe}.{key}")


def _diff_stem(rec: dict[str, Any], i: int) -> str:
    src = rec.get("json") or f"{rec.get('a')}__{rec.get('b')}.{rec.get('level')}"
    name = Path(str(src)).name
    if name.endswith(".json"):
        name = name[: -len(".json")]
    return "diff." + re.sub(r"[^A-Za-z0-9_.-]+", "_", name or f"diff{i}")


def _graph_keys(info: dict[str, Any]) -> list[str]:
    graphs = (info.get("artifacts") or {}).get("graphs") or {}

    def order(k: str) -> tuple:
        art, _, level = k.partition(".")
        a = _LEVEL_ORDER.index(art) if art in _LEVEL_ORDER else len(_LEVEL_ORDER)
        return (a, level != "raw", k)

    return sorted(graphs, key=order)


def _read_graph(path: Path) -> nx.MultiDiGraph:
    from xlalens.render._load import read_graph_json

    return read_graph_json(path)


def render_dump(
    dump_dir: str | Path,
    manifest: dict[str, Any],
    *,
    budget: int = DEFAULT_BUDGET,
    only_missing: bool = False,
) -> dict[str, Any]:
    """Write the SVGs of every graph and diff of a dump under ``DIR/svg/``.

    Returns:
        ``{"notes": {stem: message}, "dot_missing": bool}``: a note per graph or diff
        that could not be rendered (the report shows it in its place).
    """
    dump_dir = Path(dump_dir)
    out = dump_dir / SVG_DIR
    notes: dict[str, str] = {}
    state = {"dot_missing": False}
    cache: dict[tuple[str, str], nx.MultiDiGraph] = {}
    fronts = manifest.get("frontends") or {}

    def graph(fe: str, key: str) -> nx.MultiDiGraph:
        if (fe, key) not in cache:
            rel = fronts[fe]["artifacts"]["graphs"][key]
            cache[(fe, key)] = _read_graph(dump_dir / rel)
        return cache[(fe, key)]

    def attempt(stem: str, make) -> None:
        if state["dot_missing"]:
            notes[stem] = "not rendered: graphviz's dot is missing (apt-get install graphviz)"
            return
        if only_missing and (out / f"{stem}.svg").is_file():
            return
        try:
            make(out / f"{stem}.svg")
        except GraphvizNotFound as exc:
            state["dot_missing"] = True
            notes[stem] = f"not rendered: {exc}"
        except Exception as exc:  # one bad graph must not stop the report
            notes[stem] = (
                "not rendered: " + traceback.format_exception_only(type(exc), exc)[-1].strip()
            )

    for fe, info in fronts.items():
        if not isinstance(info, dict):
            continue
        for key in _graph_keys(info):
            stem = _graph_stem(fe, key)
            attempt(
                stem, lambda path, fe=fe, key=key: write_svgs(graph(fe, key), path, budget=budget)
            )
    for i, rec in enumerate(manifest.get("diffs") or []):
        if not isinstance(rec, dict) or rec.get("error") or not rec.get("json"):
            continue
        stem = _diff_stem(rec, i)

        def make(path: Path, rec: dict = rec) -> Rendering:
            report = json.loads((dump_dir / rec["json"]).read_text())
            sides = []
            for side in ("a", "b"):
                fe, _, art = str(rec[side]).partition(":")
                sides.append(graph(fe, f"{art}.{rec.get('level', 'raw')}"))
            d = diff_from_json(sides[0], sides[1], report)
            title = f"diff {rec['a']} vs {rec['b']} ({rec.get('level')}, {rec.get('kind')})"
            return write_svgs(d, path, budget=budget, title=title)

        attempt(stem, make)
    return {"notes": notes, "dot_missing": state["dot_missing"]}


# -- HTML ---------------------------------------------------------------------


def _strip_svg(svg: str) -> str:
    """SVG text ready to inline in HTML: no XML prolog, DOCTYPE or comments."""
    i = svg.find("<svg")
    return svg[i:] if i >= 0 else svg


def _viewer(file: str, svg: str, title: str) -> str:
    return (
        f'<div class="xl-viewer" data-file="{_esc(file)}" data-title="{_esc(title)}">'
        '<div class="xl-toolbar">'
        '<button type="button" data-act="back" disabled title="back to the enclosing view">◂ back</button>'
        '<button type="button" data-act="in" title="zoom in">+</button>'
        '<button type="button" data-act="out" title="zoom out">−</button>'
        '<button type="button" data-act="fit" title="fit to view">fit</button>'
        f'<span class="xl-crumbs">{_esc(title)}</span>'
        f'<a href="{_esc(file)}" target="_blank" rel="noopener">open SVG</a>'
        "</div>"
        '<p class="xl-note xl-missing" hidden></p>'
        f'<div class="xl-canvas">{_strip_svg(svg)}</div>'
        "</div>"
    )


def _fmt_num(x: Any, digits: int = 3) -> str:
    if isinstance(x, bool) or x is None:
        return _esc(x)
    if isinstance(x, int):
        return f"{x:,}"
    if isinstance(x, float):
        return f"{x:.{digits}g}"
    return _esc(x)


def _fmt_seconds(x: Any) -> str:
    if not isinstance(x, (int, float)) or isinstance(x, bool):
        return _esc(x)
    if x < 1e-3:
        return f"{x * 1e6:.3g} µs"
    if x < 1:
        return f"{x * 1e3:.3g} ms"
    return f"{x:.3g} s"


def _kernel_count(dump_dir: Path, info: dict[str, Any]) -> int | None:
    graphs = (info.get("artifacts") or {}).get("graphs") or {}
    key = next((k for k in ("optimized_hlo.raw", "optimized_hlo.canonical") if k in graphs), None)
    if key is None:
        return None
    try:
        from xlalens.ir import kernel_nodes

        return len(kernel_nodes(_read_graph(dump_dir / graphs[key])))
    except Exception:
        return None


def _figures(dump_dir: Path, manifest: dict[str, Any]) -> str:
    fronts = manifest.get("frontends") or {}
    if not fronts:
        return '<p class="xl-note">The manifest lists no frontends.</p>'
    rows = [
        "<tr><th>frontend</th><th>status</th><th>outputs match</th><th>max |Δ|</th>"
        "<th>StableHLO ops</th><th>HLO ops</th><th>optimized HLO ops</th><th>kernels</th>"
        "<th>native step</th><th>seconds (capture phases)</th></tr>"
    ]
    for fe, info in fronts.items():
        if not isinstance(info, dict):
            rows.append(
                f"<tr><td>{_esc(fe)}</td><td colspan=9 class=xl-bad>unreadable entry</td></tr>"
            )
            continue
        status = info.get("status")
        st_cls = "xl-ok" if status == "ok" else "xl-bad"
        match = info.get("outputs_match")
        m_cls = "xl-ok" if match is True else "xl-bad" if match is False else ""
        counts = info.get("op_counts") or {}
        secs = info.get("seconds") or {}
        sec_txt = " · ".join(
            f"{_esc(k)} {_fmt_num(v)}" for k, v in secs.items() if isinstance(v, (int, float))
        )
        native = info.get("native_step_seconds") or {}
        native_txt = (
            _fmt_seconds(native.get("median"))
            if isinstance(native, dict) and native.get("median") is not None
            else ""
        )
        kernels = _kernel_count(dump_dir, info) if status == "ok" else None
        reason = info.get("reason")
        status_cell = f'<span class="{st_cls}">{_esc(status)}</span>'
        if reason and status != "ok":
            status_cell += (
                f'<details><summary>why</summary><pre class="xl-pre">{_esc(reason)}</pre></details>'
            )
        rows.append(
            f"<tr><td><b>{_esc(fe)}</b></td><td>{status_cell}</td>"
            f'<td class="{m_cls}">{_esc(match)}</td><td class="num">{_fmt_num(info.get("max_abs_diff"))}</td>'
            f'<td class="num">{_fmt_num(counts.get("stablehlo"))}</td><td class="num">{_fmt_num(counts.get("hlo"))}</td>'
            f'<td class="num">{_fmt_num(counts.get("optimized_hlo"))}</td><td class="num">{_fmt_num(kernels)}</td>'
            f'<td class="num">{native_txt}</td><td>{sec_txt}</td></tr>'
        )
    out = '<table class="xl-figures">' + "".join(rows) + "</table>"
    cc = manifest.get("cross_check")
    if isinstance(cc, dict) and cc:
        agree = cc.get("params_agree")
        cls = "xl-ok" if agree is True else "xl-bad" if agree is False else ""
        out += (
            f'<p>Cross-framework check: parameters agree: <span class="{cls}">{_esc(agree)}</span>'
            f" (max |Δ| {_fmt_num(cc.get('max_abs_diff'))}, reference {_esc(cc.get('reference'))},"
            f" compared {_esc(', '.join(map(str, cc.get('compared') or [])))})</p>"
        )
    return out


def _timing(dump_dir: Path) -> str:
    folder = dump_dir / "timing"
    files = sorted(folder.glob("*.json")) if folder.is_dir() else []
    if not files:
        return '<p class="xl-note">No timing yet: run <code>xlalens time DIR</code>.</p>'
    parts = []
    for f in files:
        try:
            doc = json.loads(f.read_text())
            parts.append(_timing_doc(f.stem, doc))
        except Exception as exc:  # a half-written or foreign file is shown, not fatal
            parts.append(
                f'<p class="xl-note xl-error">{_esc(f.name)}: unreadable ({_esc(exc)})</p>'
            )
    return "".join(parts)


def _timing_doc(name: str, doc: dict[str, Any]) -> str:
    if not isinstance(doc, dict):
        return f'<p class="xl-note xl-error">timing/{_esc(name)}.json: not an object</p>'
    dev = doc.get("device") or {}
    peaks = doc.get("peaks") or {}
    head = (
        f"<h3>backend {_esc(doc.get('backend', name))}</h3><p>"
        f"device: {_esc(dev.get('device_kind') if isinstance(dev, dict) else dev)}"
        f" · peak bandwidth {_fmt_num((peaks.get('bytes_per_s') or 0) / 1e9)} GB/s"
        f" · peak {_fmt_num((peaks.get('flops_per_s') or 0) / 1e9)} GFLOP/s</p>"
    )
    rows = [
        "<tr><th>frontend</th><th>status</th><th>step median</th><th>CV</th><th>compile</th>"
        "<th>native step</th><th>roofline fraction</th><th>top kernels</th><th>warnings</th></tr>"
    ]
    for fe, e in (doc.get("frontends") or {}).items():
        if not isinstance(e, dict):
            continue
        step = e.get("step") or {}
        roof = e.get("roofline") or {}
        native = e.get("native_step_seconds") or {}
        kern = []
        for k in (e.get("kernels") or [])[:5]:
            if not isinstance(k, dict):
                continue
            loc = k.get("source_file")
            loc = (
                f"{Path(str(loc)).name}:{k.get('source_line')}" if loc else (k.get("op_name") or "")
            )
            share = k.get("share")
            share_txt = f"{share * 100:.1f}%" if isinstance(share, (int, float)) else ""
            kern.append(
                f"{_esc(k.get('name'))} {_fmt_seconds(k.get('median_s'))} {share_txt} <small>{_esc(loc)}</small>"
            )
        cv = step.get("cv")
        rows.append(
            f"<tr><td><b>{_esc(fe)}</b></td><td>{_esc(e.get('status'))}"
            + (f"<br><small>{_esc(e.get('reason'))}</small>" if e.get("reason") else "")
            + f'</td><td class="num">{_fmt_seconds(step.get("median_s"))}</td>'
            f'<td class="num">{f"{cv * 100:.1f}%" if isinstance(cv, (int, float)) else ""}</td>'
            f'<td class="num">{_fmt_seconds(e.get("compile_seconds"))}</td>'
            f'<td class="num">{_fmt_seconds(native.get("median") if isinstance(native, dict) else None)}</td>'
            f'<td class="num">{_fmt_num(roof.get("fraction_of_roofline"))}</td>'
            f"<td>{'<br>'.join(kern)}</td><td>{'<br>'.join(_esc(w) for w in (e.get('warnings') or []))}</td></tr>"
        )
    out = head + '<table class="xl-figures">' + "".join(rows) + "</table>"
    sweep = doc.get("sweep")
    if isinstance(sweep, dict) and sweep.get("table"):
        out += f'<h4>size sweep</h4><pre class="xl-pre">{_esc(sweep["table"])}</pre>'
    return out


def _svg_or_note(dump_dir: Path, stem: str, notes: dict[str, str]) -> tuple[str | None, str]:
    path = dump_dir / SVG_DIR / f"{stem}.svg"
    if stem in notes:
        return None, notes[stem]
    if not path.is_file():
        return (
            None,
            f"not rendered yet ({SVG_DIR}/{stem}.svg is missing): run `xlalens render` or rebuild the dump",
        )
    try:
        return path.read_text(), ""
    except OSError as exc:
        return None, f"unreadable {SVG_DIR}/{stem}.svg: {exc}"


def build_html(
    dump_dir: str | Path, manifest: dict[str, Any], notes: dict[str, str] | None = None
) -> str:
    """The report's HTML text for a dump whose SVGs are under ``DIR/svg/``."""
    dump_dir = Path(dump_dir)
    notes = dict(notes or {})
    wl = manifest.get("workload") or {}
    wl_txt = ", ".join(f"{k}={v}" for k, v in wl.items()) if isinstance(wl, dict) else str(wl)
    vers = manifest.get("versions") or {}
    ver_txt = ", ".join(f"{k} {v}" for k, v in vers.items()) if isinstance(vers, dict) else ""
    used: set[str] = set()
    body: list[str] = []

    body.append('<section id="figures"><h2>Figures</h2>')
    body.append(_figures(dump_dir, manifest))
    body.append("</section>")

    body.append('<section id="graphs"><h2>Graphs: frontends × IR levels</h2>')
    body.append(
        "<p>Drag to pan, wheel or +/− to zoom; click a 3-D box or a double-bordered kernel "
        "to open its drill-down, ◂ back to return. Hover a node for its source location and attributes.</p>"
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
            svg, note = _svg_or_note(dump_dir, stem, notes)
            body.append(f'<div class="xl-card"><h4>{_esc(fe)} · {_esc(key)}</h4>')
            if svg is None:
                body.append(f'<p class="xl-note xl-error">{_esc(note)}</p>')
            else:
                used.add(f"{stem}.svg")
                body.append(_viewer(f"{SVG_DIR}/{stem}.svg", svg, f"{fe} · {key}"))
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
        body.append(f'<div class="xl-card xl-wide"><h4>{_esc(title)}</h4>')
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
            svg, note = _svg_or_note(dump_dir, stem, notes)
            if svg is None:
                body.append(f'<p class="xl-note xl-error">{_esc(note)}</p>')
            else:
                used.add(f"{stem}.svg")
                body.append(_viewer(f"{SVG_DIR}/{stem}.svg", svg, title))
        body.append("</div>")
    body.append("</section>")

    body.append('<section id="timing"><h2>Timing</h2>')
    body.append(_timing(dump_dir))
    body.append("</section>")

    # Drill-downs: every other SVG of the folder, inert until opened.
    templates = []
    folder = dump_dir / SVG_DIR
    for path in sorted(folder.glob("*.svg")) if folder.is_dir() else []:
        if path.name in used:
            continue
        try:
            templates.append(
                f'<template data-file="{SVG_DIR}/{_esc(path.name)}">{_strip_svg(path.read_text())}</template>'
            )
        except OSError:
            continue

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
    head = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>xlalens report · {_esc(wl.get('name') if isinstance(wl, dict) else '')}</title>"
        f"<style>{_static('report.css')}</style></head><body>"
        "<header><h1>xlalens report</h1>"
        f"<p>workload: {_esc(wl_txt)} · backend: {_esc(manifest.get('backend'))}"
        f" · created {_esc(manifest.get('created'))} · xlalens {_esc(manifest.get('xlalens_version'))}</p>"
        f"<p>{_esc(ver_txt)}</p>{global_notes}</header>"
        '<nav><a href="#figures">figures</a><a href="#graphs">graphs</a>'
        '<a href="#diffs">diffs</a><a href="#timing">timing</a></nav><main>'
    )
    tail = (
        '</main><div id="xl-templates" hidden>'
        + "".join(templates)
        + f"</div><script>{_static('report.js')}</script></body></html>\n"
    )
    return head + "".join(body) + tail


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)


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


def write_report(dump_dir: str | Path) -> Path:
    """(Re)build ``DIR/report.html`` from an existing dump (SVGs missing from ``svg/`` are drawn).

    ``xlalens time`` calls it after writing ``DIR/timing/*.json``. Never raises for
    a bad or missing piece: each becomes a note in the report.

    Args:
        dump_dir: the dump folder.

    Returns:
        The path of the report.

    Raises:
        DumpError: the folder is not a dump (no readable manifest).

    Example:
        >>> write_report("xlalens-dump")  # doctest: +SKIP
        PosixPath('xlalens-dump/report.html')
    """
    from xlalens._dumpdir import read_manifest

    dump_dir = Path(dump_dir)
    manifest = read_manifest(dump_dir)
    result = render_dump(dump_dir, manifest, only_missing=True)
    notes = result["notes"]
    if result["dot_missing"]:
        notes["!dot"] = "graphviz's dot is missing: apt-get install graphviz"
    path = dump_dir / REPORT
    _write_atomic(path, build_html(dump_dir, manifest, notes))
    return path
