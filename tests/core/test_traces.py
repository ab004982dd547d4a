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


def test_open_serves_the_kept_trace_in_xprof(timed):
    """`xlalens time DIR --open` starts XProf's own server: it lists the run and serves its trace viewer data."""
    import importlib.util
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    for mod in ("xprof", "fire", "cheroot", "duckdb"):
        if importlib.util.find_spec(mod) is None:
            pytest.skip(f"{mod} is not installed (pip install 'xlalens[profile]')")
    dump, doc = timed
    with socket.socket() as s:
        s.bind(("localhost", 0))
        port = s.getsockname()[1]
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root), "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "xlalens", "time", str(dump), "--open", "--port", str(port)]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    )
    try:
        lines = []
        while not any(line.startswith("http://localhost:") for line in lines):
            line = proc.stdout.readline()
            assert line, "".join(lines)
            lines.append(line)
        url = lines[-1].split()[0]
        logdir = Path(
            next(x for x in lines if "log directory" in x).split("log directory ")[1][:-3]
        )
        base = f"{url}data/plugin/profile/"

        def get(path: str) -> bytes:
            # XProf answers gzip-compressed; urllib does not undo that itself.
            with urllib.request.urlopen(base + path, timeout=60) as r:
                body = r.read()
                return (
                    gzip.decompress(body) if r.headers.get("Content-Encoding") == "gzip" else body
                )

        deadline = time.monotonic() + 240  # XProf imports its profiler library first
        while True:
            try:
                runs = json.loads(get("runs"))
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(1)
        assert runs == ["jax-n4"]
        assert any(t.startswith("trace_viewer") for t in json.loads(get("run_tools?run=jax-n4")))
        trace = json.loads(get("data?run=jax-n4&tag=trace_viewer@&host=host"))
        assert _kernels(doc) <= {e.get("name") for e in trace["traceEvents"]}
    finally:
        proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
        proc.wait(timeout=30)
        proc.stdout.close()
    assert proc.returncode == 0
    assert not logdir.exists()  # the temporary log directory of links is gone


def test_open_without_traces_or_xprof_is_one_line_exit_2(timed, tmp_path, monkeypatch, capsys):
    """`--open` on a dump with no kept trace, or without XProf installed, says what to do in one line and exits 2."""
    import xlalens.timing._open as op
    from xlalens.cli import main

    empty = tmp_path / "empty"
    shutil.copytree(REGRESSION, empty)
    assert main(["time", str(empty), "--open"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"run `xlalens time {empty}` first" in err[0]
    monkeypatch.setattr(op, "_has_xprof", lambda: False)
    dump, _ = timed
    assert main(["time", str(dump), "--open"]) == 2
    captured = capsys.readouterr()
    (line,) = captured.err.strip().splitlines()
    assert "pip install 'xlalens[profile]'" in line
    assert "ui.perfetto.dev" in captured.out  # the route that needs nothing installed
