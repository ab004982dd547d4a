"""The report's HTML tables: figures per frontend, timing per backend, diff details."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from xlalens.report._fmt import badge, count, percent, rate, seconds
from xlalens.report._svgs import SVG_DIR, _meta_path, _read_graph


def _esc(x: Any) -> str:
    return html.escape("" if x is None else str(x))


def _viewer(file: str, title: str, meta: dict[str, Any], card: str) -> str:
    """A card's viewer: a toolbar and a lazy iframe on the SVG file (see the NOTE above)."""
    cheaper = meta.get("cheaper") or {}
    note = ""
    if cheaper:
        note = (
            f'<p class="xl-note">{len(cheaper)} of {len(meta.get("views") or [1])} views laid out '
            "in the cheaper mode (no frames): dot missed their deadline; each says so in its caption.</p>"
        )
    heat = ""
    if meta.get("heat"):
        heat = '<label class="xl-heat-toggle"><input type="checkbox" data-act="heat"> heat (time share)</label>'
    return (
        f'<div class="xl-viewer" id="{_esc(card)}" data-file="{_esc(file)}" data-title="{_esc(title)}"'
        ">"
        '<div class="xl-toolbar">'
        '<button type="button" data-act="back" disabled title="back to the enclosing view">◂ back</button>'
        '<button type="button" data-act="in" title="zoom in">+</button>'
        '<button type="button" data-act="out" title="zoom out">−</button>'
        '<button type="button" data-act="fit" title="fit to view">fit</button>'
        f"{heat}"
        f'<span class="xl-crumbs">{_esc(title)}</span>'
        f'<a class="xl-open" href="{_esc(file)}" target="_blank" rel="noopener">open SVG</a>'
        "</div>"
        '<div class="xl-stage"><div class="xl-note xl-missing" hidden></div>'
        f'<iframe class="xl-frame" loading="lazy" data-src="{_esc(file)}" title="{_esc(title)}"></iframe></div>'
        f"{note}</div>"
    )


def _fmt_num(x: Any, digits: int = 3) -> str:
    return count(x)


def _fmt_seconds(x: Any) -> str:
    return seconds(x)


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
        "<th>native step at capture (under parallel load; the Timing table has the measured "
        "rounds)</th><th>seconds (capture phases)</th></tr>"
    ]
    for fe, info in fronts.items():
        if not isinstance(info, dict):
            rows.append(
                f"<tr><td>{_esc(fe)}</td><td colspan=9 class=xl-bad>unreadable entry</td></tr>"
            )
            continue
        status = info.get("status")
        match = info.get("outputs_match")
        m_cls = "xl-ok" if match is True else "xl-bad" if match is False else ""
        counts = info.get("op_counts") or {}
        secs = info.get("seconds") or {}
        sec_txt = " · ".join(
            f"{_esc(k)} {seconds(v)}" for k, v in secs.items() if isinstance(v, (int, float))
        )
        native = info.get("native_step_seconds") or {}
        native_txt = (
            _fmt_seconds(native.get("median"))
            if isinstance(native, dict) and native.get("median") is not None
            else ""
        )
        kernels = _kernel_count(dump_dir, info) if status == "ok" else None
        reason = info.get("reason")
        status_cell = badge(str(status)) if status else ""
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


def _warning_badges(warnings: list[Any], explained: dict[str, str]) -> str:
    """Each warning as a small badge (its head); the explanation goes once under the table.

    ``xlalens time`` writes ``"<what, with this row's number>: <why and what to do>"``;
    the why is the same in every row, so it is printed once (``explained``).
    """
    out = []
    for w in warnings:
        head, _, why = str(w).partition(": ")
        label = "noisy" if "noisy" in why or " CV " in f" {head}" else head.split(" ")[0]
        if why:
            explained.setdefault(label, why)
        out.append(badge(label, head))
    return " ".join(out)


def _timing_doc(name: str, doc: dict[str, Any]) -> str:
    if not isinstance(doc, dict):
        return f'<p class="xl-note xl-error">timing/{_esc(name)}.json: not an object</p>'
    dev = doc.get("device") or {}
    peaks = doc.get("peaks") or {}
    head = (
        f"<h3>backend {_esc(doc.get('backend', name))}</h3><p>"
        f"device: {_esc(dev.get('device_kind') if isinstance(dev, dict) else dev)}"
        f" · peak bandwidth {rate(peaks.get('bytes_per_s'), 'B/s') or '?'}"
        f" · peak {rate(peaks.get('flops_per_s'), 'FLOP/s') or '?'} (measured in this run)</p>"
    )
    rows = [
        "<tr><th>frontend</th><th>status</th><th>step median</th><th>CV</th><th>compile</th>"
        "<th>native step (measured rounds)</th><th>of roofline</th><th>top kernels</th>"
        "<th>warnings</th></tr>"
    ]
    explained: dict[str, str] = {}
    for fe, e in (doc.get("frontends") or {}).items():
        if not isinstance(e, dict):
            continue
        step = e.get("step") or {}
        roof = e.get("roofline") or {}
        native = (e.get("native") or {}).get("step") if isinstance(e.get("native"), dict) else None
        # One native-step number per page: the measured rounds (issue 21); the
        # capture-time number ran beside the other frontends and is marked so.
        native_s = (native or {}).get("median_s")
        native_note = ""
        if native_s is None and isinstance(e.get("native_step_seconds"), dict):
            native_s = e["native_step_seconds"].get("median")
            native_note = " <small>at capture, under parallel load</small>" if native_s else ""
        kern = []
        for k in (e.get("kernels") or [])[:5]:
            if not isinstance(k, dict):
                continue
            loc = k.get("source_file")
            loc = (
                f"{Path(str(loc)).name}:{k.get('source_line')}" if loc else (k.get("op_name") or "")
            )
            kern.append(
                f"{_esc(k.get('name'))} {seconds(k.get('median_s'))} {percent(k.get('share'))} "
                f"<small>{_esc(loc)}</small>"
            )
        status = str(e.get("status") or "")
        rows.append(
            f"<tr><td><b>{_esc(fe)}</b></td><td>{badge(status) if status else ''}"
            + (f"<br><small>{_esc(e.get('reason'))}</small>" if e.get("reason") else "")
            + f'</td><td class="num">{seconds(step.get("median_s"))}</td>'
            f'<td class="num">{percent(step.get("cv"))}</td>'
            f'<td class="num">{seconds(e.get("compile_seconds"))}</td>'
            f'<td class="num">{seconds(native_s)}{native_note}</td>'
            f'<td class="num">{percent(roof.get("fraction_of_roofline"))}</td>'
            f"<td>{'<br>'.join(kern)}</td>"
            f"<td>{_warning_badges(e.get('warnings') or [], explained)}</td></tr>"
        )
    out = head + '<table class="xl-figures">' + "".join(rows) + "</table>"
    for label, why in explained.items():
        out += f'<p class="xl-muted">{badge(label)} {_esc(why)}</p>'
    sweep = doc.get("sweep")
    if isinstance(sweep, dict) and (sweep.get("table") or sweep.get("svg")):
        out += "<h4>size sweep</h4>"
        if sweep.get("svg"):
            # The plot xlalens time wrote into the dump; an <img> of a relative
            # file:// path loads offline.
            out += f'<img class="xl-plot" src="{_esc(sweep["svg"])}" alt="step time against size">'
        if sweep.get("table"):
            out += (
                '<details><summary>table</summary><pre class="xl-pre">'
                f"{_esc(sweep['table'])}</pre></details>"
            )
    return out


def _meta(dump_dir: Path, stem: str, notes: dict[str, str]) -> tuple[dict[str, Any] | None, str]:
    """The views record of one graph or diff, or the note to show instead."""
    if stem in notes:
        return None, notes[stem]
    if not (dump_dir / SVG_DIR / f"{stem}.svg").is_file():
        return (
            None,
            f"not rendered yet ({SVG_DIR}/{stem}.svg is missing): run `xlalens render DIR` or rebuild the dump",
        )
    try:
        return json.loads(_meta_path(dump_dir, stem).read_text()), ""
    except (OSError, ValueError):
        return {"views": [f"{stem}.svg"]}, ""


def _diff_details(dump_dir: Path, rec: dict[str, Any]) -> str:
    """What the diff found, beyond counts: its changed and unmatched kernels/nodes,
    from the diff's JSON (a kernel map when the diff has one)."""
    try:
        report = json.loads((dump_dir / rec["json"]).read_text())
    except (OSError, ValueError, KeyError, TypeError):
        return ""
    if not isinstance(report, dict):
        return ""
    parts = []
    kmap = report.get("kernel_map")
    if isinstance(kmap, dict) and isinstance(kmap.get("pairs"), list):
        # The kernel map of the diff branch's JSON (schema v2, docs/diff.md).
        rows = []
        for k in kmap["pairs"][:60]:
            if not isinstance(k, dict):
                continue
            cells = [
                k.get("kind"),
                ", ".join(_short_id(x) for x in k.get("a") or []),
                ", ".join(_short_id(x) for x in k.get("b") or []),
                _fmt_seconds(k.get("time_a_s")) if k.get("time_a_s") is not None else "",
                _fmt_seconds(k.get("time_b_s")) if k.get("time_b_s") is not None else "",
            ]
            rows.append("<tr>" + "".join(f"<td>{_esc(c)}</td>" for c in cells) + "</tr>")
        counts = kmap.get("counts")
        head = (
            " · ".join(f"{_esc(k)} {_fmt_num(v)}" for k, v in counts.items())
            if isinstance(counts, dict)
            else ""
        )
        more = f", first 60 of {len(kmap['pairs'])}" if len(kmap["pairs"]) > 60 else ""
        parts.append(
            f"<details open><summary>kernel map ({head}{more})</summary>"
            '<table class="xl-figures"><tr><th>kind</th><th>A kernels</th><th>B kernels</th>'
            "<th>time A</th><th>time B</th></tr>" + "".join(rows) + "</table></details>"
        )
    changed = [
        p for p in report.get("pairs") or [] if isinstance(p, dict) and p.get("status") == "changed"
    ]
    only_a = report.get("only_a") or []
    only_b = report.get("only_b") or []

    def name(x: Any) -> str:
        if isinstance(x, dict):
            return str(x.get("name") or x.get("id"))
        return str(x)

    if changed:
        rows = []
        for p in changed[:25]:
            what = p.get("changes") or p.get("fields") or ""
            if isinstance(what, list):
                what = ", ".join(
                    str(c.get("field") if isinstance(c, dict) else c) for c in what[:6]
                )
            rows.append(
                f"<tr><td>{_esc(_short_id(p.get('a')))}</td><td>{_esc(_short_id(p.get('b')))}</td>"
                f"<td>{_esc(what)}</td></tr>"
            )
        more = f" (first 25 of {len(changed)})" if len(changed) > 25 else ""
        parts.append(
            f"<details><summary>changed pairs{more}</summary>"
            '<table class="xl-figures"><tr><th>A</th><th>B</th><th>what changed</th></tr>'
            + "".join(rows)
            + "</table></details>"
        )
    if only_a or only_b:
        parts.append(
            "<details><summary>unmatched nodes</summary><p>only in A: "
            + _esc(", ".join(name(x) for x in only_a[:40]))
            + (" …" if len(only_a) > 40 else "")
            + "</p><p>only in B: "
            + _esc(", ".join(name(x) for x in only_b[:40]))
            + (" …" if len(only_b) > 40 else "")
            + "</p></details>"
        )
    return "".join(parts)


def _short_id(node_id: Any) -> str:
    """``main.6/multiply_add_fusion.1`` -> ``multiply_add_fusion.1`` (the instruction name)."""
    return str(node_id).rsplit("/", 1)[-1]


def _value(v: Any) -> str:
    """A manifest value for the header: nested dicts and lists as short text, not Python reprs."""
    if isinstance(v, dict):
        return ", ".join(f"{k} {_value(x)}" for k, x in v.items())
    if isinstance(v, (list, tuple)):
        return ", ".join(_value(x) for x in v)
    if isinstance(v, float):
        return f"{v:g}"  # a setting as the user wrote it, not a measurement
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    return str(v)


def header_dl(manifest: dict[str, Any]) -> str:
    """The report header's workload and environment as a definition list."""
    wl = manifest.get("workload")
    items: list[tuple[str, str]] = []
    if isinstance(wl, dict):
        items += [(str(k), _value(v)) for k, v in wl.items()]
    elif wl is not None:
        items.append(("workload", str(wl)))
    items.append(("backend", str(manifest.get("backend") or "?")))
    sharding = manifest.get("sharding")
    if isinstance(sharding, dict) and sharding:
        items.append(("sharding", _value(sharding)))
    items.append(("created", str(manifest.get("created") or "?")))
    items.append(("xlalens", str(manifest.get("xlalens_version") or "?")))
    vers = manifest.get("versions")
    if isinstance(vers, dict) and vers:
        items.append(("versions", _value(vers)))
    return (
        '<dl class="xl-dl">'
        + "".join(f"<dt>{_esc(k)}</dt><dd>{_esc(v)}</dd>" for k, v in items)
        + "</dl>"
    )
