"""The report's charts read the dump's own results: step bars, time split, diff matrix, roofline, timeline."""

from __future__ import annotations

import gzip
import json
import re
import shutil
from pathlib import Path

import pytest

import xlalens
import xlalens.ir as ir
from xlalens.diff import dump_step as diff_dump_step
from xlalens.report import SECTIONS, _sections, refresh_report, register_section
from xlalens.report._data import diff_cells, kernel_points, step_bars, time_splits
from xlalens.report._fmt import percent, rate, seconds
from xlalens.report._roofline import roofline_html, roofline_svg, target_roofs
from xlalens.report._summary import summary_html
from xlalens.report._timeline import one_step, timeline_html

HERE = Path(__file__).parent
REGRESSION = HERE / "data" / "dumps" / "regression"
TIMING = HERE / "data" / "timing" / "regression.cpu.json"


@pytest.fixture(scope="module")
def dump(tmp_path_factory):
    """The regression dump with graphs, diffs and the checked-in `xlalens time` results."""
    folder = tmp_path_factory.mktemp("charts") / "regression"
    shutil.copytree(REGRESSION, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    ir.dump_step(folder, manifest)
    diff_dump_step(folder, manifest)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    (folder / "timing").mkdir()
    shutil.copy(TIMING, folder / "timing" / "cpu.json")
    (folder / "svg").mkdir()
    return folder, manifest


def test_units_and_significant_digits():
    """Durations, rates and percentages carry units and three significant digits."""
    assert (
        seconds(1.3e-5) == "13.0 µs" and seconds(0.0042) == "4.20 ms" and seconds(2.5) == "2.50 s"
    )
    assert seconds(5.71e-7) == "571 ns" and seconds(None) == ""
    assert percent(0.3) == "30.0%" and percent(9.216) == "922%" and percent(0.00061) == "0.0610%"
    assert rate(5.27e10, "B/s") == "52.7 GB/s" and rate(1.96e11, "FLOP/s") == "196 GFLOP/s"


def test_step_bars_and_time_split_come_from_the_results(dump):
    """One compiled and one native bar per timed frontend; splits add up to the profiled step."""
    folder, manifest = dump
    doc = json.loads(TIMING.read_text())
    bars = step_bars(folder, manifest)
    assert {(b.frontend, b.kind) for b in bars} == {
        (fe, k) for fe in doc["frontends"] for k in ("compiled", "native")
    }
    jax = next(b for b in bars if b.frontend == "jax" and b.kind == "compiled")
    step = doc["frontends"]["jax"]["step"]
    assert jax.median_s == step["median_s"] and jax.size == 4
    assert jax.hi_s - jax.lo_s == pytest.approx(step["iqr_s"])
    for s in time_splits(folder):
        e = doc["frontends"][s.frontend]
        kernels = sum(k["median_s"] for k in e["kernels"] if not k.get("nested_in"))
        assert sum(t for _, t in s.kinds) == pytest.approx(kernels)
        assert s.idle_s == pytest.approx(e["profile"]["idle_gap_s"])
        assert s.overhead_s == pytest.approx(e["native"]["difference_s"])


def test_diff_matrix_counts_dots_and_kernels(dump):
    """Each cross-framework diff is a cell; dot/conv and kernel counts match the diff's JSON."""
    folder, manifest = dump
    cells = diff_cells(folder, manifest)
    cross = [d for d in manifest["diffs"] if d["kind"] == "cross_framework"]
    assert len(cells) == len(cross) == 30
    c = next(c for c in cells if (c.a, c.b, c.level) == ("jax", "torch_xla", "optimized_hlo"))
    doc = json.loads((folder / "diffs" / "jax__torch_xla.optimized_hlo.canonical.json").read_text())
    assert (c.kernels_a, c.kernels_b) == (
        doc["summary"]["kernels"]["a"],
        doc["summary"]["kernels"]["b"],
    )
    assert c.nodes_paired == len(doc["pairs"])
    # torch_xla's StableHLO has dots (its Linear), jax's regression multiplies
    s = next(c for c in cells if (c.a, c.b, c.level) == ("tensorflow", "torch_xla", "stablehlo"))
    assert s.heavy_a >= 1 and s.heavy_b >= 1
    html = summary_html(folder, manifest)
    for cell in cells:
        assert f'href="#{cell.anchor}"' in html
    assert html.count('data-chart="') == 3


def test_roofline_points_roofs_and_files(dump):
    """Kernels with FLOPs are points, the measured peaks a roof, and svg/roofline*.svg are written."""
    folder, manifest = dump
    points, roofs = kernel_points(folder)
    peaks = json.loads(TIMING.read_text())["peaks"]
    assert [r.bytes_per_s for r in roofs] == [peaks["bytes_per_s"]] and roofs[0].measured
    placed = [p for p in points if p.flops]
    svg = roofline_svg(points, roofs, list(manifest["frontends"]))
    assert svg.count('class="xl-pt"') == len(placed) > 0
    html, files = roofline_html(folder, manifest)
    assert "svg/roofline.svg" in files and "svg/roofline.jax.svg" in files
    alone = (folder / "svg" / "roofline.svg").read_text()
    assert alone.startswith("<?xml") and "viewBox" in alone and "xl-legend" in alone
    # a compile-only target's published peaks become a dashed roof
    (folder / "targets").mkdir(exist_ok=True)
    (folder / "targets" / "h100.json").write_text(
        json.dumps({"target": "h100", "kind": "gpu", "peaks": {"flops_per_s": {"f32": 4.95e14}, "bytes_per_s": 3.35e12}})
    )  # fmt: skip
    (r,) = target_roofs(folder)
    assert r.label == "h100, published (f32)" and not r.measured and r.flops_per_s == 4.95e14
    html, _ = roofline_html(folder, manifest)
    assert "stroke-dasharray" in html and "h100, published (f32)" in html
    shutil.rmtree(folder / "targets")


def test_timeline_without_trace_says_so_in_one_line(dump):
    """No kept trace: one line naming where it would be and the command that writes it."""
    folder, manifest = dump
    html = timeline_html(folder, manifest)
    assert html.count("<p") == 1 and "timing/traces/" in html and "xlalens time DIR" in html


def test_timeline_picks_one_run_of_a_trace():
    """The median run's kernels, its idle tail up to the next run, one lane per thread."""

    def kernel(run, name, ts, dur, tid=2):
        args = {"hlo_op": name, "hlo_module": "jit_step", "run_id": str(run)}
        return {"ph": "X", "pid": 1, "tid": tid, "ts": ts, "dur": dur, "name": name, "args": args}

    events = [
        {"ph": "M", "pid": 1, "tid": 2, "name": "thread_name", "args": {"name": "worker"}},
        {"ph": "X", "pid": 1, "tid": 1, "ts": 95, "dur": 4, "name": "PjitFunction(step)"},
        *(kernel(r, n, 100 * r + off, d) for r in range(1, 4) for n, off, d in (("a", 0, 10), ("b", 20, 5 * r))),
    ]  # fmt: skip
    boxes, window, busy = one_step(events)
    assert window == 100 and busy == 10 + 10  # run 2: a 10 µs, b 10 µs, then idle to run 3
    assert {b.name for b in boxes if b.kernel} == {"a", "b"}
    assert {b.lane for b in boxes if b.kernel} == {"worker"}


def test_sections_are_registered_by_name(tmp_path, monkeypatch):
    """A stage's section is named 'module:function'; register_section adds one; bad names fail."""
    assert SECTIONS["targets"] == "xlalens.targets:report_section"
    monkeypatch.setattr(_sections, "SECTIONS", dict(SECTIONS))
    register_section("mine", lambda d: ("Mine", f"<p>{d.name}</p>"))
    got = _sections.collect(tmp_path)
    assert ("sec-mine", "Mine", f"<p>{tmp_path.name}</p>") in got
    with pytest.raises(ValueError, match="module:function"):
        register_section("bad", "xlalens.targets.report_section")


def test_refresh_report_through_the_public_path(dump, tmp_path):
    """xlalens.refresh_report rebuilds report.html with the summary first; a non-dump gives None."""
    folder, _ = dump
    assert xlalens.refresh_report(tmp_path) is None
    path = xlalens.refresh_report(folder)
    html = path.read_text()
    order = [
        html.index(f'<section id="{s}"') for s in ("summary", "roofline", "timeline", "figures")
    ]
    assert order == sorted(order)
    assert "{'w'" not in html and "<dt>init</dt><dd>w 0.5, b 0.1</dd>" in html
    assert len(re.findall(r'class="xl-badge xl-b-warn"', html)) >= 1
    assert html.count("the machine is noisy") == 1  # the reason once, the badge per row
    # the findings' verdicts are badges, their numbers one click away
    assert re.search(r'<span class="xl-badge xl-b-(ok|bad|mixed|none)" title="[^"]+">', html)
    assert "<details><summary>numbers</summary>" in html
    assert refresh_report(folder) == path


def test_trace_file_is_read_gzipped(dump, tmp_path):
    """A kept trace under timing/traces/ is read (gzip JSON) and drawn for its frontend."""
    folder, manifest = dump
    traces = folder / "timing" / "traces"
    traces.mkdir(parents=True, exist_ok=True)
    ev = {"ph": "X", "pid": 1, "tid": 1, "ts": 0, "dur": 3, "name": "fusion",
          "args": {"hlo_op": "fusion", "run_id": "7"}}  # fmt: skip
    with gzip.open(traces / "torchax-n4.trace.json.gz", "wt") as f:
        json.dump({"traceEvents": [ev]}, f)
    html = timeline_html(folder, manifest)
    assert html.count('data-chart="timeline"') == 1 and "torchax-n4.trace.json.gz" in html
    shutil.rmtree(traces)


def test_cli_refreshes_the_report_after_a_command(dump):
    """After `time`/`compile`/`passes` the CLI rebuilds report.html from what the dump now holds."""
    import argparse

    from xlalens.cli import REFRESH, _refresh_report

    folder, _ = dump
    assert set(REFRESH) == {"dump", "compile", "passes", "time", "render"}
    (folder / "report.html").write_text("stale")
    _refresh_report(argparse.Namespace(command="time", dump=str(folder)))
    html = (folder / "report.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and 'data-chart="steps"' in html
