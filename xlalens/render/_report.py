"""The offline HTML report of a dump, and the render stage of ``xlalens dump``.

NOTE: [SVGs as files next to the report]
Every view is written once, as ``svg/<name>.svg`` beside ``report.html``, and the
report shows it in an ``<iframe>`` pointing there: ``report.html`` itself holds no
SVG (under 1 MB for the 6-frontend demo) and a view is read only when its card
comes near the viewport. The frame's file is in ``data-src`` and ``report.js`` sets
``src`` from an IntersectionObserver: Chromium's ``loading=lazy`` loaded all 72
frames of a six-frontend report from ``file://`` at once (12 s to the first card). Chromium blocks ``fetch`` between ``file://``
documents, which ``iframe``/``img``/``script`` loads are not; the SVGs carry their
own viewer (``_svgjs``) and talk to the report by ``postMessage``. The search
index (every node's name, op and source line, and the view that draws it) is
``svg/index.js``, loaded by a ``<script>`` element when the search box is first
used.

NOTE: [what the dump draws] A reader opens the overviews and clicks through
groups to kernels; a kernel's body (a fusion's ops) is what they open least, and
those views are most of any model's (154 of 159 for the checked-in torch_xla
TransformerEncoder step). So, for graphs of every size, the dump draws each
frontend's optimized HLO's overview and scope views (every kernel is drawn in one
of them), the overview and one level of its other graphs, and every diff; kernels'
bodies and deeper views are left to ``xlalens render DIR --all-views``. Their
links carry the class ``xl-deferred``; a click on one shows that command (with the
dump's folder) over the view, in the report and in the SVG opened alone.
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


_PRIMARY = ("optimized_hlo.raw", "optimized_hlo.canonical")


def _primary_key(keys: list[str]) -> str | None:
    """The graph of a frontend whose every view the dump lays out (its kernels)."""
    for k in _PRIMARY:
        if k in keys:
            return k
    return keys[-1] if keys else None


def _timing_docs(dump_dir: Path) -> list[dict[str, Any]]:
    folder = dump_dir / "timing"
    out = []
    for f in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            doc = json.loads(f.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(doc, dict):
            out.append(doc)
    return out


def _heat(g: nx.MultiDiGraph, fe: str, docs: list[dict[str, Any]]) -> dict[str, float] | None:
    """Node id -> share of the step's kernel time, from the first timing file that timed ``fe``."""
    for doc in docs:
        entry = (doc.get("frontends") or {}).get(fe)
        if not isinstance(entry, dict) or not entry.get("kernels"):
            continue
        try:
            from xlalens.timing import annotate
        except ImportError:
            return None
        if not annotate(g, entry):
            continue
        heat = {}
        for n, d in g.nodes(data=True):
            share = (d.get("attrs") or {}).get("time_share")
            if isinstance(share, (int, float)) and share > 0:
                heat[n] = float(share)
        return heat or None
    return None


def _meta_path(dump_dir: Path, stem: str) -> Path:
    return dump_dir / SVG_DIR / f"{stem}.views.json"


def _index_rows(
    g: nx.MultiDiGraph, where: dict[str, str], shown: dict[str, str] | None = None
) -> list[list[Any]]:
    """Search rows ``[id, name, op, file:line, view]``, plus the key of the kernel or
    group that stands for the node in that view when it is not drawn itself (a
    kernel's body the dump left out): search outlines that one."""
    rows = []
    for n, d in g.nodes(data=True):
        f = where.get(n)
        if f is None:
            continue
        loc = ""
        if d.get("source_file"):
            loc = f"{Path(str(d['source_file'])).name}:{d.get('source_line') or ''}"
        row = [n, d.get("name") or n, d.get("op") or "", loc, f]
        target = (shown or {}).get(n, n)
        if target != n:
            row.append(target)
        rows.append(row)
    return rows


def render_dump(
    dump_dir: str | Path,
    manifest: dict[str, Any],
    *,
    budget: int = DEFAULT_BUDGET,
    only_missing: bool = False,
    all_views: bool = False,
) -> dict[str, Any]:
    """Write the SVGs of every graph and diff of a dump under ``DIR/svg/``.

    Each frontend's optimized HLO (its kernels) gets its overview and every scope
    view; its other graphs get the overview and one level of drill-downs; kernels'
    bodies wait for ``all_views`` (see the NOTE at the top). Where
    ``DIR/timing/<backend>.json`` timed a frontend, its kernel views carry the
    heat classes and times. Beside each graph's SVGs goes ``<stem>.views.json``
    (views written, deferred, cheaper-mode notes, and the search rows).

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
    docs = _timing_docs(dump_dir)
    heated: set[str] = set()

    def graph(fe: str, key: str) -> nx.MultiDiGraph:
        if (fe, key) not in cache:
            rel = fronts[fe]["artifacts"]["graphs"][key]
            cache[(fe, key)] = _read_graph(dump_dir / rel)
        return cache[(fe, key)]

    def attempt(stem: str, make, g_of=None, want_heat: bool = False) -> None:
        if state["dot_missing"]:
            notes[stem] = "not rendered: graphviz's dot is missing (apt-get install graphviz)"
            return
        meta = _meta_path(dump_dir, stem)
        if only_missing and (out / f"{stem}.svg").is_file() and meta.is_file():
            try:
                old = json.loads(meta.read_text())
                # Redrawn only when asked for more views, or when timing
                # arrived since (``xlalens time`` rebuilds the report).
                if not (all_views and old.get("deferred")) and not (
                    want_heat and not old.get("heat")
                ):
                    return
            except (OSError, ValueError):
                pass
        try:
            r = make(out / f"{stem}.svg")
            doc = {
                "views": list(r.svgs),
                "deferred": list(r.deferred),
                "cheaper": {k: v.reason for k, v in r.layouts.items() if v.mode != "full"},
                "heat": stem in heated,
                "rows": _index_rows(g_of(), r.where, r.shown) if g_of else [],
            }
            meta.write_text(json.dumps(doc))
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
        keys = _graph_keys(info)
        primary = _primary_key(keys)
        for key in keys:
            stem = _graph_stem(fe, key)

            def make(path: Path, fe: str = fe, key: str = key, primary: str | None = primary):
                g = graph(fe, key)
                heat = _heat(g, fe, docs) if key == primary else None
                if heat:
                    heated.add(_graph_stem(fe, key))
                return write_svgs(
                    g,
                    path,
                    budget=budget,
                    heat=heat,
                    paint_heat=False,
                    max_depth=None if (all_views or key == primary) else 1,
                    # Kernels' bodies (most views of any model) on demand.
                    lazy_bodies=not all_views,
                )

            timed = any(
                isinstance((d.get("frontends") or {}).get(fe), dict)
                and d["frontends"][fe].get("kernels")
                for d in docs
            )
            attempt(
                stem,
                make,
                lambda fe=fe, key=key: graph(fe, key),
                want_heat=timed and key == primary,
            )
    for i, rec in enumerate(manifest.get("diffs") or []):
        if not isinstance(rec, dict) or rec.get("error") or not rec.get("json"):
            continue
        stem = _diff_stem(rec, i)

        def make_diff(path: Path, rec: dict = rec) -> Rendering:
            report = json.loads((dump_dir / rec["json"]).read_text())
            sides = []
            for side in ("a", "b"):
                fe, _, art = str(rec[side]).partition(":")
                sides.append(graph(fe, f"{art}.{rec.get('level', 'raw')}"))
            d = diff_from_json(sides[0], sides[1], report)
            title = f"diff {rec['a']} vs {rec['b']} ({rec.get('level')}, {rec.get('kind')})"
            return write_svgs(d, path, budget=budget, title=title)

        attempt(stem, make_diff)
    return {"notes": notes, "dot_missing": state["dot_missing"]}


# -- HTML ---------------------------------------------------------------------


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
        "<th>native step (measured rounds)</th><th>roofline fraction</th><th>top kernels</th>"
        "<th>warnings</th></tr>"
    ]
    for fe, e in (doc.get("frontends") or {}).items():
        if not isinstance(e, dict):
            continue
        step = e.get("step") or {}
        roof = e.get("roofline") or {}
        # One native-step number per page: the measured rounds (issue 21); the
        # capture-time number ran beside the other frontends and is marked so.
        rounds = ((e.get("native") or {}).get("step") or {}).get("median_s")
        at_capture = (e.get("native_step_seconds") or {}).get("median")
        native_cell = (
            _fmt_seconds(rounds)
            if rounds is not None
            else (
                f"{_fmt_seconds(at_capture)} <small>at capture, under parallel load</small>"
                if at_capture is not None
                else ""
            )
        )
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
            f'<td class="num">{native_cell}</td>'
            f'<td class="num">{_fmt_num(roof.get("fraction_of_roofline"))}</td>'
            f"<td>{'<br>'.join(kern)}</td><td>{'<br>'.join(_esc(w) for w in (e.get('warnings') or []))}</td></tr>"
        )
    out = head + '<table class="xl-figures">' + "".join(rows) + "</table>"
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


def _sections(dump_dir: Path) -> list[tuple[str, str, str]]:
    """(anchor, title, HTML) of every provider's section (see ``_sections``)."""
    from xlalens.render._sections import collect

    return collect(dump_dir)


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
    wl_txt = ", ".join(f"{k}={v}" for k, v in wl.items()) if isinstance(wl, dict) else str(wl)
    vers = manifest.get("versions") or {}
    ver_txt = ", ".join(f"{k} {v}" for k, v in vers.items()) if isinstance(vers, dict) else ""
    body: list[str] = []
    index: list[list[Any]] = []
    files: dict[str, int] = {}
    cards: list[str] = []

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
        f"<p>workload: {_esc(wl_txt)} · backend: {_esc(manifest.get('backend'))}"
        f" · created {_esc(manifest.get('created'))} · xlalens {_esc(manifest.get('xlalens_version'))}</p>"
        f"<p>{_esc(ver_txt)}</p>{global_notes}</header>"
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


def write_report(dump_dir: str | Path, *, all_views: bool = False) -> Path:
    """(Re)build ``DIR/report.html`` from an existing dump (SVGs missing from ``svg/`` are drawn).

    ``xlalens time`` calls it after writing ``DIR/timing/*.json``. Never raises for
    a bad or missing piece: each becomes a note in the report.

    Args:
        dump_dir: the dump folder.
        all_views: also draw the views the dump leaves out: kernels' bodies and
            the deep drill-downs of the secondary graphs (see the NOTE at the top).

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
    result = render_dump(dump_dir, manifest, only_missing=True, all_views=all_views)
    notes = result["notes"]
    if result["dot_missing"]:
        notes["!dot"] = "graphviz's dot is missing: apt-get install graphviz"
    path = dump_dir / REPORT
    _write_atomic(path, build_html(dump_dir, manifest, notes))
    return path
