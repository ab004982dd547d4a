"""The dump's render stage: SVGs under svg/, report.html, diffs, timing, and bad pieces."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import xlalens.ir as ir
from xlalens.cli import main

# NOTE: xlalens re-exports the functions diff/render under the subpackages' names,
# so `import xlalens.diff as m` gives the function: import names from them instead.
from xlalens.diff import diff
from xlalens.diff import dump_step as diff_dump_step
from xlalens.render import GraphvizNotFound, render
from xlalens.report import dump_step, write_report

HERE = Path(__file__).parent
REGRESSION = HERE / "data" / "dumps" / "regression"


@pytest.fixture(scope="module")
def staged(tmp_path_factory):
    """A copy of the checked-in regression dump with graphs and diffs, as the capture stage stages it."""
    if not (REGRESSION / "manifest.json").is_file():
        pytest.skip("tests/core/data/dumps/regression is not checked in yet")
    folder = tmp_path_factory.mktemp("dump") / "regression"
    shutil.copytree(REGRESSION, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    ir.dump_step(folder, manifest)
    diff_dump_step(folder, manifest)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder, manifest


@pytest.fixture(scope="module")
def reported(staged):
    """The staged dump after the render stage."""
    folder, manifest = staged
    manifest = json.loads(json.dumps(manifest))
    dump_step(folder, manifest)
    return folder, manifest


def test_dump_step_writes_svgs_and_report(reported):
    """Every graph and diff gets an SVG file under svg/, shown by a lazy iframe; none is inlined."""
    folder, manifest = reported
    assert manifest["report"] == "report.html"
    html = (folder / "report.html").read_text()
    svgs = {p.name for p in (folder / "svg").glob("*.svg")}
    for fe, info in manifest["frontends"].items():
        for key in info["artifacts"]["graphs"]:
            assert f"{fe}.{key}.svg" in svgs
            assert f'data-file="svg/{fe}.{key}.svg"' in html
            assert f'<iframe class="xl-frame" loading="lazy" data-src="svg/{fe}.{key}.svg"' in html
    diffs = [d for d in manifest["diffs"] if not d.get("error")]
    assert diffs
    diff_svgs = sorted(folder.glob("svg/diff.*.svg"))
    assert len(diff_svgs) >= len(diffs)
    assert all("diff status" in p.read_text() for p in diff_svgs[:5])
    assert html.count('src="svg/diff.') >= len(diffs)
    # Graph views are stored once, as files: the report inlines only its own
    # small charts (summary, roofline, timeline), and stays small.
    assert html.count("<svg") == html.count(
        '<svg xmlns="http://www.w3.org/2000/svg" class="xl-chart"'
    )
    assert "xlalens-viewer" not in html
    assert len(html.encode()) < 1_000_000
    # every written SVG carries its own viewer (pan, zoom, report messages)
    assert all("xlalens-viewer" in (folder / "svg" / n).read_text() for n in sorted(svgs)[:10])
    kinds = {d["kind"] for d in diffs}
    assert {"cross_framework", "optimization"} <= kinds
    assert "outputs match" in html and "kernels" in html
    assert "xl-note xl-error" not in html
    # offline: no script or stylesheet is fetched from anywhere
    assert (
        "<script src" not in html
        and "<link" not in html
        and "http://" not in html.replace("http://www.w3.org", "")
    )


def test_report_is_deterministic(staged, tmp_path):
    """Building the report twice from the same dump gives the same bytes."""
    folder, manifest = staged
    copies = []
    for name in ("a", "b"):
        dst = tmp_path / name
        shutil.copytree(folder, dst)
        dump_step(dst, json.loads(json.dumps(manifest)))
        copies.append((dst / "report.html").read_bytes())
    assert copies[0] == copies[1]


def test_diff_svg_colours_and_pairs(staged):
    """A diff is drawn with its four status colours and hover pairs across the sides."""
    folder, manifest = staged
    fe = manifest["frontends"]
    a = ir.from_json(folder / fe["jax"]["artifacts"]["graphs"]["stablehlo.canonical"])
    b = ir.from_json(folder / fe["torch_xla"]["artifacts"]["graphs"]["stablehlo.canonical"])
    d = diff(a, b)
    svg = render(d)
    assert "diff status" in svg
    fills = {"#d9d9d9": d.summary.unchanged, "#ffc857": d.summary.changed}
    fills |= {"#f08080": d.summary.only_a, "#8fd694": d.summary.only_b}
    for colour, count in fills.items():
        if count:
            assert f'fill="{colour}"' in svg
    if d.pairs:
        assert svg.count("xl&#45;pair&#45;") >= 2 * min(len(d.pairs), 10)


def test_write_report_adds_timing_and_survives_bad_pieces(staged, tmp_path):
    """Timing files are shown; a broken timing file, a missing graph and a failed diff are notes."""
    folder, manifest = staged
    dst = tmp_path / "d"
    shutil.copytree(folder, dst)
    manifest = json.loads(json.dumps(manifest))
    manifest["frontends"]["jax"]["artifacts"]["graphs"]["hlo.broken"] = "jax/graphs/missing.json"
    manifest["diffs"].append({"a": "jax:hlo", "b": "tensorflow:hlo", "kind": "x", "error": "boom"})
    manifest["steps"] = {"diffs": {"status": "failed", "reason": "ValueError: bad pair"}}
    (dst / "manifest.json").write_text(json.dumps(manifest))
    (dst / "timing").mkdir()
    (dst / "timing" / "cpu.json").write_text(
        json.dumps(
            {
                "backend": "cpu",
                "device": {"device_kind": "cpu"},
                "peaks": {"bytes_per_s": 2.4e10},
                "frontends": {
                    "jax": {
                        "status": "ok",
                        "step": {"median_s": 1.3e-5, "cv": 0.02},
                        "kernels": [{"name": "fusion.1", "median_s": 4e-6, "share": 0.3}],
                    },
                    "tensorflow": "not an object",
                },
            }
        )
    )
    (dst / "timing" / "gpu.json").write_text("{ half written")
    path = write_report(dst)
    html = path.read_text()
    assert "13.0 µs" in html and "fusion.1" in html and "30.0%" in html
    assert "gpu.json: unreadable" in html
    assert "not rendered" in html and "missing.json" in html
    assert "diff failed: boom" in html
    assert "dump stage diffs failed: ValueError: bad pair" in html


def test_dot_missing_still_writes_the_report(staged, tmp_path, monkeypatch):
    """Without dot: report.html with a visible note, manifest['report'] set, then GraphvizNotFound."""
    folder, manifest = staged
    dst = tmp_path / "nodot"
    shutil.copytree(folder, dst)
    manifest = json.loads(json.dumps(manifest))
    monkeypatch.setenv("XLALENS_DOT", str(tmp_path / "no-dot"))
    with pytest.raises(GraphvizNotFound, match="apt-get install graphviz"):
        dump_step(dst, manifest)
    assert manifest["report"] == "report.html"
    html = (dst / "report.html").read_text()
    assert "apt-get install graphviz" in html
    assert "outputs match" in html  # the figures are still there


def test_search_index_lists_every_node_of_the_primary_graph(reported):
    """svg/index.js maps each node of a frontend's optimized HLO to a view file that exists."""
    folder, manifest = reported
    text = (folder / "svg" / "index.js").read_text()
    assert text.startswith("window.xlalensIndex = ")
    idx = json.loads(text[len("window.xlalensIndex = ") :].rstrip().rstrip(";"))
    g = ir.from_json(
        folder / manifest["frontends"]["jax"]["artifacts"]["graphs"]["optimized_hlo.raw"]
    )
    card = idx["cards"].index("jax · optimized_hlo.raw")
    rows = {r[1]: r for r in idx["rows"] if r[0] == card}
    comps = g.graph["computations"]
    drawable = {n for n, d in g.nodes(data=True) if comps[d["computation"]]["kind"] != "reducer"}
    assert set(rows) == drawable
    for r in rows.values():
        # stored compactly: the name only when it is not the id's last part, the file by index
        assert r[2] == "" or r[2] != r[1].rsplit("/", 1)[-1]
        view = idx["files"][r[5]]
        # the view exists and holds the node (or what stands for it) under the id
        # the viewer centres on
        target = r[6] if len(r) > 6 else r[1]
        assert f'id="n:{target}"' in (folder / "svg" / view).read_text()


def test_sections_from_providers_get_a_nav_entry(staged, tmp_path, monkeypatch):
    """A provider's (title, fragment) becomes a section with a nav link; a failing one a note."""
    from xlalens.report import _sections

    folder, manifest = staged
    dst = tmp_path / "sec"
    shutil.copytree(folder, dst)

    def targets(d: Path):
        return ("Targets", f"<table><tr><td>{d.name}</td></tr></table>")

    def broken(d: Path):
        raise ValueError("no data")

    monkeypatch.setattr(_sections, "PROVIDERS", [targets, lambda d: None, broken])
    dump_step(dst, json.loads(json.dumps(manifest)))
    html = (dst / "report.html").read_text()
    assert '<a href="#sec-targets">Targets</a>' in html
    assert '<section id="sec-targets"><h2>Targets</h2><table><tr><td>sec</td>' in html
    assert "this section failed: ValueError: no data" in html


def test_heat_classes_and_deferred_views(staged, tmp_path):
    """With timing, kernel views carry heat classes and the toggle; secondary graphs defer deep views."""
    folder, manifest = staged
    dst = tmp_path / "heat"
    shutil.copytree(folder, dst)
    g = ir.from_json(dst / manifest["frontends"]["jax"]["artifacts"]["graphs"]["optimized_hlo.raw"])
    entry = g.graph["entry"]
    fusions = [
        d["name"]
        for _, d in g.nodes(data=True)
        if d["op"] == "fusion" and d["computation"] == entry
    ]
    assert fusions
    kernels = [
        {"name": n, "median_s": 1e-6 * (i + 1), "share": 0.5 / (i + 1)}
        for i, n in enumerate(fusions)
    ]
    (dst / "timing").mkdir()
    (dst / "timing" / "cpu.json").write_text(
        json.dumps({"backend": "cpu", "frontends": {"jax": {"status": "ok", "kernels": kernels}}})
    )
    (dst / "manifest.json").write_text(json.dumps(manifest))
    write_report(dst)
    html = (dst / "report.html").read_text()
    assert 'data-act="heat"' in html and "heat scale" in html and "% of step" in html
    svg = (dst / "svg" / "jax.optimized_hlo.raw.svg").read_text()
    assert "xl&#45;heat&#45;" in svg and "% of step" in svg
    meta = json.loads((dst / "svg" / "jax.optimized_hlo.raw.views.json").read_text())
    assert meta["heat"] is True and meta["deferred"] == []


def test_diff_card_shows_kernel_map_and_changed_nodes(tmp_path):
    """A diff card lists the kernel map (diff JSON v2), the changed pairs and the unmatched nodes."""
    from xlalens.report._report import _diff_details

    doc = {
        "kernel_map": {
            "kernels": {"a": 2, "b": 1},
            "counts": {"same": 1, "split": 1},
            "pairs": [
                {"kind": "same", "a": ["main.1/fusion.1"], "b": ["main.2/fusion.7"],
                 "body": [], "time_a_s": 4e-6, "time_b_s": None, "time_delta_s": None},
            ],
        },
        "pairs": [{"a": "main.1/add.3", "b": "main.2/add.9", "status": "changed",
                   "changes": [{"field": "shape", "a": [2], "b": [3]}]}],
        "only_a": [{"id": "main.1/mul.4", "name": "mul.4"}],
        "only_b": [],
    }  # fmt: skip
    (tmp_path / "d.json").write_text(json.dumps(doc))
    html = _diff_details(tmp_path, {"json": "d.json"})
    assert "kernel map (same 1 · split 1)" in html
    assert "<td>fusion.1</td><td>fusion.7</td><td>4.00 µs</td>" in html
    assert "<td>add.3</td><td>add.9</td><td>shape</td>" in html
    assert "only in A: mul.4" in html
    assert _diff_details(tmp_path, {"json": "missing.json"}) == ""


def test_dump_defers_kernel_bodies_and_all_views_draws_them(staged, tmp_path, monkeypatch):
    """A 1,018-op graph in a dump: only its scope views are written; `--all-views` draws the 48 bodies."""
    import sys

    sys.path.insert(0, str(HERE))
    from _render_workloads import scoped_transformer_hlo

    monkeypatch.delenv("XLALENS_LAYOUT_DEADLINE", raising=False)
    folder, manifest = staged
    dst = tmp_path / "lazy"
    shutil.copytree(folder, dst)
    shutil.rmtree(dst / "svg", ignore_errors=True)  # another test may have rendered it
    manifest = json.loads(json.dumps(manifest))
    g = ir.parse_hlo_text(scoped_transformer_hlo(1, d=16))
    (dst / "big" / "graphs").mkdir(parents=True)
    (dst / "big" / "graphs" / "optimized_hlo.raw.json").write_text(ir.to_json(g))
    manifest["frontends"] = {
        "big": {
            "status": "ok",
            "artifacts": {"graphs": {"optimized_hlo.raw": "big/graphs/optimized_hlo.raw.json"}},
        }
    }
    manifest["diffs"] = []
    (dst / "manifest.json").write_text(json.dumps(manifest))
    dump_step(dst, manifest)
    meta = json.loads((dst / "svg" / "big.optimized_hlo.raw.views.json").read_text())
    written = {p.name for p in (dst / "svg").glob("*.svg")}
    assert written == set(meta["views"]) and len(written) == 2
    assert len(meta["deferred"]) == 48 and not written & set(meta["deferred"])
    html = (dst / "report.html").read_text()
    assert "data-deferred" not in html and not any(d in html for d in meta["deferred"])
    marked = "".join((dst / "svg" / n).read_text() for n in written)
    assert marked.count("xl&#45;deferred") == 48
    # search still finds an op inside an undrawn body: it outlines the kernel that holds it
    text = (dst / "svg" / "index.js").read_text()
    idx = json.loads(text[len("window.xlalensIndex = ") :].rstrip().rstrip(";"))
    inside = [r for r in idx["rows"] if len(r) > 6]
    assert inside and all(
        f'id="n:{r[6]}"' in (dst / "svg" / idx["files"][r[5]]).read_text() for r in inside
    )
    assert {r[6] for r in inside} <= {n for n in g.nodes if g.nodes[n].get("calls")}
    # the command the report names draws every deferred view and clears the marks
    assert main(["render", str(dst), "--all-views"]) == 0
    after = json.loads((dst / "svg" / "big.optimized_hlo.raw.views.json").read_text())
    assert after["deferred"] == [] and set(meta["deferred"]) <= set(after["views"])
    assert all((dst / "svg" / n).is_file() for n in meta["deferred"])
    assert not any("xl&#45;deferred" in (dst / "svg" / n).read_text() for n in after["views"])
