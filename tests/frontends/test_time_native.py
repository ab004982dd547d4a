"""`xlalens time` measures the native step itself, alone, in rounds with the replay."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from xlalens.capture import write_dump
from xlalens.timing import TimingOptions, time_dump
from xlalens.workloads import Workload

REPO = Path(__file__).resolve().parents[2]


def test_native_rounds_and_findings(tmp_path):
    """jax and torch_xla: native steps timed in rounds, the difference labelled, findings.md written."""
    dump = write_dump(
        tmp_path / "d", frameworks=["jax", "torch_xla"], workload=Workload(), stages=False
    ).path
    opts = TimingOptions(
        min_time_s=0.1, warmup_time_s=0.02, profile=False, peak_scale=1 / 64, native=True
    )
    doc = time_dump(dump, opts)
    for fe in ("jax", "torch_xla"):
        r = doc["frontends"][fe]
        assert r["status"] == "ok", r.get("reason")
        nat = r["native"]
        assert nat is not None, r["warnings"]
        assert nat["rounds"] >= 2 and nat["step"]["median_s"] > 0
        assert nat["conditions"].startswith("alone")
        lo, hi = nat["difference_range_s"]
        assert lo <= hi and nat["significant"] == (lo > 0 or hi < 0)
        assert lo <= nat["difference_s"] <= hi  # the median of the rounds, inside their range
    assert doc["frontends"]["jax"]["dispatch"] == "jax.jit"
    text = (dump / "findings.md").read_text()
    assert "| jax |" in text and "| torch_xla |" in text and "JAX is optimized for XLA" in text
    assert "  - XLA: " in text and "  - framework: " in text
    # A partial run without native rounds keeps the earlier ones (issue 21), marked.
    import dataclasses

    again = time_dump(dump, dataclasses.replace(opts, native=False, frontends=("jax",)))
    assert again["frontends"]["jax"]["native"]["from_earlier_run"] is True
    assert again["frontends"]["torch_xla"]["native"]["rounds"] >= 2
    assert "from an earlier run" in (dump / "findings.md").read_text()


def test_capture_without_out_cleans_up(tmp_path):
    """xlalens.capture() with no folder leaves nothing behind when the interpreter exits."""
    code = "import xlalens; c = xlalens.capture('jax'); assert c.outputs_match; print(c.dump)"
    r = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    folder = Path(r.stdout.strip().splitlines()[-1])
    assert folder.name == "dump" and not folder.parent.exists()


def test_baselines_through_the_cli(tmp_path):
    """`xlalens time --baselines`: jax op by op and TF eager/graph timed in the same rounds."""
    dump = tmp_path / "d"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    run = lambda *a: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "xlalens", *a], capture_output=True, text=True, env=env
    )
    r = run("dump", "--frameworks", "jax,tensorflow", "-o", str(dump))
    assert r.returncode == 0, r.stderr
    r = run("time", str(dump), "--baselines", "--min-time", "0.1", "--no-profile")
    assert r.returncode == 0, r.stderr
    assert "baseline jax without jit (op by op) (no XLA, same rounds)" in r.stdout, r.stdout
    assert "baseline TF eager" in r.stdout and "baseline tf.function without XLA" in r.stdout
    import json

    doc = json.loads((dump / "timing" / "cpu.json").read_text())
    for fe, names in {
        "jax": ["jax without jit (op by op)"],
        "tensorflow": ["TF eager", "tf.function without XLA"],
    }.items():
        base = doc["frontends"][fe]["baselines"]
        assert sorted(base) == sorted(names), base
        for b in base.values():
            assert b["rounds"] >= 2 and b["step"]["median_s"] > 0
    # op-by-op jax dispatches every primitive: slower than its one compiled call
    assert doc["frontends"]["jax"]["baselines"]["jax without jit (op by op)"]["ratio"] > 1
    r = run("time", str(dump), "--baselines", "--no-native")
    assert r.returncode == 2 and "drop --no-native" in r.stderr
