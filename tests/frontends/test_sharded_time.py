"""`xlalens time` on a sharded dump: the N-device executable, per-device kernels and collectives, proof."""

from __future__ import annotations

import dataclasses
import json
import shutil

import numpy as np
import pytest

from xlalens.capture import write_dump
from xlalens.cli import main
from xlalens.spmd import link, parse_mesh, report_section
from xlalens.timing import TimingOptions, time_sharded_dump
from xlalens.workloads import Workload

MLP = Workload(name="mlp", depth=2, width=16, size=16, features=8)
QUICK = TimingOptions(min_time_s=0.1, warmup_time_s=0.05, profile_time_s=0.1, peak_scale=0.01)


@pytest.fixture(scope="module")
def dump4(tmp_path_factory):
    """mlp, dp+tp over a 2x2 mesh of 4 host devices, captured by jax (no later stages)."""
    spec = parse_mesh(4, "2x2", None, "dp+tp", batch=MLP.size)
    out = tmp_path_factory.mktemp("sharded_time") / "dump"
    result = write_dump(
        out, frameworks=["jax"], workload=MLP, sharding=spec.to_json(), stages=False
    )
    assert result.manifest["frontends"]["jax"]["status"] == "ok"
    return out


@pytest.fixture(scope="module")
def timed4(dump4):
    """The results document of timing that dump on 4 host devices."""
    return time_sharded_dump(dump4, QUICK, link=link("nvlink-h100", 100))


def test_four_devices_pass_the_proof_and_time(timed4):
    """The 4-device executable's reassembled results pass the proof rule, and the step is timed."""
    r = timed4["frontends"]["jax"]
    assert r["status"] == "ok", r.get("reason")
    assert r["verify"]["ok"] and r["verify"]["compared"]
    assert r["dispatch"] == "execute_sharded on 4 devices"
    assert r["step"]["n"] >= 10 and r["step"]["median_s"] > 0
    assert timed4["sharding"]["devices"] == 4 and timed4["device"]["device_count"] >= 4


def test_every_device_has_kernel_and_collective_times(timed4):
    """Each of the 4 devices has kernels, collective and compute time; each collective is timed on each device."""
    sh = timed4["frontends"]["jax"]["sharded"]
    assert [d["device"] for d in sh["devices"]] == [0, 1, 2, 3]
    for d in sh["devices"]:
        assert d["kernel_sum_s"] > 0 and d["collective_s"] > 0 and d["compute_s"] > 0
        assert d["collective_s"] + d["compute_s"] == pytest.approx(d["kernel_sum_s"])
    kinds = {c["kind"] for c in sh["collectives"]}
    assert "all-reduce" in kinds
    axes = {tuple(c["axes"]) for c in sh["collectives"]}
    assert ("data",) in axes and ("model",) in axes  # dp gradients and tp partial sums
    for c in sh["collectives"]:
        assert len(c["seconds_per_device"]) == 4
        assert all(s is not None and s > 0 for s in c["seconds_per_device"]), c
        assert c["bytes_per_device"] > 0 and c["model_s"] > 0


def test_model_beside_measurement(timed4):
    """The link model prices the same collectives at 4 devices and extrapolates to 8, 64 and 512."""
    m = timed4["frontends"]["jax"]["sharded"]["model"]
    assert timed4["model"]["link"]["bandwidth_bytes_per_s"] == 100e9
    assert [p["devices"] for p in m["extrapolated"]] == [4, 8, 64, 512]
    secs = [p["seconds"] for p in m["extrapolated"]]
    assert secs == sorted(secs) and secs[0] == pytest.approx(m["at_mesh"]["seconds"])
    assert m["measured_collective_s"] > 0


def test_cli_summary_and_report_say_host_memory_is_shared(dump4, timed4, capsys):
    """The CLI prints the per-device split and the shared-memory note; the report section shows the tables."""
    assert main(["time", str(dump4), "--min-time", "0.1", "--no-native"]) == 0
    out = capsys.readouterr().out
    assert "not network times" in out and "collectives" in out and "extrapolated:" in out
    _title, body = report_section(dump4)
    assert "Timed on 4 cpu devices" in body and "model comm/step" in body


def test_wrong_outputs_fail_the_proof(dump4, tmp_path):
    """A dump whose recorded outputs were changed fails the check, and no time is reported."""
    bad = tmp_path / "bad"
    shutil.copytree(dump4, bad)
    data = bad / "jax" / "outputs.npz"
    with np.load(data) as z:
        arrays = {k: z[k] for k in z.files}
    key = next(k for k, v in arrays.items() if v.size > 1)
    arrays[key] = arrays[key] + 1.0
    np.savez(data, **arrays)
    doc = time_sharded_dump(bad, QUICK)
    r = doc["frontends"]["jax"]
    assert r["status"] == "failed" and "outputs differ" in r["reason"]
    assert r.get("step") is None
    assert (
        json.loads((bad / "timing" / "cpu.json").read_text())["frontends"]["jax"]["status"]
        == "failed"
    )


def test_earlier_frontends_are_kept_unless_fresh(dump4, timed4, tmp_path):
    """Timing again keeps another frontend's earlier entry; ``fresh`` drops it (results merge by frontend)."""
    folder = tmp_path / "again"
    shutil.copytree(dump4, folder)
    path = folder / "timing" / "cpu.json"
    earlier = json.loads(path.read_text())
    earlier["frontends"]["torchax"] = {**earlier["frontends"]["jax"], "marker": "earlier run"}
    path.write_text(json.dumps(earlier))
    doc = time_sharded_dump(folder, QUICK)
    assert doc["frontends"]["torchax"]["marker"] == "earlier run"
    assert doc["frontends"]["jax"]["status"] == "ok"
    assert "torchax" in json.loads(path.read_text())["frontends"]
    fresh = time_sharded_dump(folder, dataclasses.replace(QUICK, fresh=True))
    assert set(fresh["frontends"]) == {"jax"}
