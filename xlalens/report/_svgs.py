"""Drawing a dump's graphs and diffs as SVG files under ``DIR/svg/`` for the report.

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

import json
import re
import traceback
from pathlib import Path
from typing import Any

import networkx as nx

from xlalens.render._dot import GraphvizNotFound
from xlalens.render._render import DEFAULT_BUDGET, Rendering, diff_from_json, write_svgs

REPORT = "report.html"
SVG_DIR = "svg"


_LEVEL_ORDER = ("stablehlo", "hlo", "optimized_hlo")


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
