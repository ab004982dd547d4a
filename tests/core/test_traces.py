"""After `xlalens time`: kept profiler traces (DIR/timing/traces/, read by XProf's own converter) and the export's timing overlays."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from xlalens.timing import TimingOptions, time_dump

REGRESSION = Path(__file__).parent / "data" / "dumps" / "regression"
FAST = TimingOptions(
    min_time_s=0.05,
    warmup_time_s=0.02,
    profile_time_s=0.05,
    peak_scale=1 / 64,
    native=False,
    frontends=("jax",),
)


@pytest.fixture(scope="module")
def timed(tmp_path_factory):
    """The checked-in regression dump (4 samples), its jax capture timed once on the CPU."""
    dump = tmp_path_factory.mktemp("traces") / "dump"
    shutil.copytree(REGRESSION, dump)
    return dump, time_dump(dump, FAST)


def _kernels(doc: dict) -> set[str]:
    return {k["name"] for k in doc["frontends"]["jax"]["kernels"]}


def test_traces_are_kept_by_frontend_and_samples(timed):
    """DIR/timing/traces/jax-n4.xplane.pb and jax-n4.trace.json.gz exist; no temporary file is left."""
    dump, _ = timed
    names = sorted(p.name for p in (dump / "timing" / "traces").iterdir())
    assert names == ["jax-n4.trace.json.gz", "jax-n4.xplane.pb"]


def test_chrome_trace_names_the_timed_kernels(timed):
    """The gzipped Chrome trace (Perfetto, chrome://tracing) holds events named after the timed kernels."""
    dump, doc = timed
    trace = json.loads(gzip.decompress((dump / "timing/traces/jax-n4.trace.json.gz").read_bytes()))
    names = {e.get("name") for e in trace["traceEvents"]}
    assert _kernels(doc) and _kernels(doc) <= names


def test_xprof_converter_reads_the_kept_xplane(timed):
    """XProf's own converter (xprof.convert.raw_to_tool_data) turns the kept .xplane.pb into its trace viewer's JSON."""
    raw = pytest.importorskip("xprof.convert.raw_to_tool_data")
    dump, doc = timed
    path = str(dump / "timing/traces/jax-n4.xplane.pb")
    assert any(t.startswith("trace_viewer") for t in raw.xspace_to_tool_names([path]))
    data, content_type = raw.xspace_to_tool_data([path], "trace_viewer", {})
    assert content_type == "application/json"
    names = {e.get("name") for e in json.loads(data)["traceEvents"]}
    assert _kernels(doc) <= names


def test_export_overlays_come_from_the_timing_results(timed, tmp_path):
    """`xlalens export DIR:jax:optimized_hlo` after timing writes kernel-time, share and roofline node data for the timed kernels."""
    from xlalens.cli import main

    dump, doc = timed
    out = tmp_path / "jax.json"
    assert main(["export", f"{dump}:jax:optimized_hlo", "-o", str(out)]) == 0
    files = sorted(p.name for p in tmp_path.glob("jax.*.nodedata.json"))
    assert files == [
        "jax.kernel-time-ms-jax-cpu.nodedata.json",
        "jax.roofline-fraction-jax-cpu.nodedata.json",
        "jax.share-of-step-jax-cpu.nodedata.json",
    ]
    data = json.loads((tmp_path / files[0]).read_text())
    (results,) = [g["results"] for g in data.values()]
    want = {k["name"]: k["median_s"] * 1e3 for k in doc["frontends"]["jax"]["kernels"]}
    assert {k: v["value"] for k, v in results.items()} == pytest.approx(want)
