"""Findings of sharded dumps: "JAX parallelizes easily" from lines changed, collectives, scaling."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from xlalens._errors import UsageError
from xlalens.frontends._spmd_plan import code_change
from xlalens.timing import findings_markdown, report_section
from xlalens.timing._findings_spmd import scaling_points

DATA = Path(__file__).parent / "data" / "spmd"
# Real captures of the mlp step, dp over 4 host devices (tests/core/data/spmd/README.md).
HLO = {
    "jax": "jax_mlp_dp4.optimized_hlo.txt",
    "keras-jax": "keras_jax_mlp_dp4.optimized_hlo.txt",
    "torch_xla": "torch_xla_mlp_dp4.optimized_hlo.txt",
}
SPEC = {"devices": 4, "mesh": [4], "axes": ["data"], "strategy": "dp"}
WORKLOAD = {"name": "mlp", "size": 16, "depth": 2, "width": 16, "features": 1}


def _step(ms: float, iqr: float) -> dict:
    return {"median_s": ms / 1e3, "iqr_s": iqr / 1e3, "n": 50}


def _sharded(root: Path, steps: dict, lines: dict, devices: int = 4) -> Path:
    """A sharded dump: the real optimized HLO of each frontend, its code count
    (step lines changed, placement lines) and its timed step (ms, IQR ms)."""
    root.mkdir(parents=True)
    spec = {**SPEC, "devices": devices, "mesh": [devices]}
    fronts, results = {}, {}
    for fe, (changed, placed) in lines.items():
        shutil.copy(DATA / HLO[fe], root / f"{fe}.optimized_hlo.txt")
        fronts[fe] = {
            "status": "ok",
            "outputs_match": True,
            "artifacts": {"optimized_hlo": f"{fe}.optimized_hlo.txt"},
            "spmd": {
                **spec,
                "code": {
                    "step": "step",
                    "step_lines_changed": changed,
                    "placement_lines": placed,
                    "placement": ["mesh = make_mesh(spec)"] * placed,
                },
            },
        }
        results[fe] = {"status": "ok", "step": _step(*steps[fe])}
    manifest = {"format_version": 2, "workload": WORKLOAD, "backend": "cpu", "sharding": spec}
    manifest["frontends"] = fronts
    (root / "manifest.json").write_text(json.dumps(manifest))
    (root / "timing").mkdir()
    doc = {"schema_version": 1, "backend": "cpu", "sharding": spec, "frontends": results}
    doc["created"] = "2026-12-07T04:00:00+00:00"
    (root / "timing/cpu.json").write_text(json.dumps(doc))
    return root


def _with_scaling(dump: Path, points: dict[int, dict]) -> None:
    doc = json.loads((dump / "timing/cpu.json").read_text())
    doc["scaling"] = {
        "points": [
            {
                "devices": n,
                "dump": f"d{n}",
                "created": "2026-12-07T03:50:00+00:00",
                "frontends": {fe: _step(*s) for fe, s in fes.items()},
            }
            for n, fes in points.items()
        ]
    }
    (dump / "timing/cpu.json").write_text(json.dumps(doc))


LINES = {"jax": (0, 13), "keras-jax": (0, 17), "torch_xla": (0, 10)}


def test_scaling_and_lines_give_the_verdicts(tmp_path):
    """jax 2x faster on 4 devices, keras-jax within the spread: XLA supported, torch_xla's
    slowdown printed beside (not JAX); jax's 13 lines against keras-jax's 17 and torch_xla's
    10: framework mixed; collectives read."""
    d = _sharded(
        tmp_path / "d4",
        {"jax": (0.5, 0.02), "keras-jax": (0.9, 0.2), "torch_xla": (3.0, 0.1)},
        LINES,
    )
    _with_scaling(d, {1: {"jax": (1.0, 0.02), "keras-jax": (1.0, 0.2), "torch_xla": (1.5, 0.1)}})
    text = findings_markdown(d)
    claim = text.split("## The seed's claim")[1]
    assert "**JAX parallelizes easily across devices**" in claim
    assert "XLA: supported (1 of 2 comparisons differ)" in claim
    assert "jax on 4 devices 0.5 ms ± 0.01 < on 1 device 1 ms ± 0.01" in claim
    assert "not JAX, for comparison: torch_xla on 4 devices 3 ms ± 0.05 > on 1 device" in claim
    assert "framework: mixed (2 for, 1 against)" in claim
    assert (
        "timed in separate runs, not interleaved (1 device 2026-12-07T03:50:00+00:00, "
        "4 devices 2026-12-07T04:00:00+00:00): a change of machine load" in claim
    )
    assert "jax: step `step` 0 lines changed, 13 lines of placement added" in claim
    assert "jax: 1 all-reduce; keras-jax: 1 all-reduce; torch_xla: 7 all-reduce" in claim
    assert "CPU caveat: the devices are host devices" in text
    assert "| jax | yes | 0 | 13 | 1 all-reduce | 1 ms ± 0.01 | 0.5 ms ± 0.01 |" in text
    title, fragment = report_section(d)
    assert "parallelization" in title and "mixed (2 for, 1 against)" in fragment
    # torch_xla alone getting faster says nothing about JAX: no verdict.
    _with_scaling(d, {1: {"jax": (0.5, 0.02), "keras-jax": (1.0, 0.2), "torch_xla": (9.0, 0.1)}})
    claim = findings_markdown(d).split("## The seed's claim")[1]
    assert "XLA: no verdict: within the spread" in claim and "torch_xla on 4 devices 3 ms" in claim


def test_one_device_count_gives_no_scaling_verdict(tmp_path):
    """Without --scaling there is one device count: no XLA verdict, and how to get one."""
    d = _sharded(tmp_path / "d4", {"jax": (0.5, 0.02)}, {"jax": (0, 13)})
    claim = findings_markdown(d).split("## The seed's claim")[1]
    assert "XLA: no verdict: one device count. timed on 4 devices only" in claim
    assert "`xlalens time DIR --scaling D1,D2`" in claim
    assert "framework: supported (1 for, 0 against)" in claim


def test_changed_step_counts_against(tmp_path):
    """A jax step whose source changed for sharding (3 lines) is against the claim."""
    d = _sharded(tmp_path / "d4", {"jax": (0.5, 0.02)}, {"jax": (3, 13)})
    assert "framework: not supported (0 for, 1 against)" in findings_markdown(d)


def test_scaling_dumps_are_checked(tmp_path):
    """--scaling refuses a dump of another strategy and an untimed one, naming the fix."""
    d4 = _sharded(tmp_path / "d4", {"jax": (0.5, 0.02)}, {"jax": (0, 13)})
    d2 = _sharded(tmp_path / "d2", {"jax": (0.7, 0.02)}, {"jax": (0, 13)}, devices=2)
    assert scaling_points(d4, [d2], "cpu")[0]["frontends"]["jax"]["median_s"] == 0.7e-3
    with pytest.raises(UsageError, match="run `xlalens time"):
        scaling_points(d4, [d2], "gpu")
    m = json.loads((d2 / "manifest.json").read_text())
    m["sharding"]["strategy"] = "tp"
    (d2 / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(UsageError, match="another step"):
        scaling_points(d4, [d2], "cpu")


def _one(x):
    return x * 2


def _two(x):
    y = x + 1
    return y * 2


def _capture():
    a = 1
    # sharding: begin
    mesh = [a]  # counted
    # a comment is not code

    placed = mesh * 2
    # sharding: end
    b = a + 1  # not counted: outside the blocks
    # sharding: begin
    return placed, b
    # sharding: end


def test_code_change_counts_from_sources():
    """difflib counts the step's changed lines (2 replaced by 3: 3); the marked blocks' code lines count."""
    c = code_change(_one, _two, _capture)
    assert c["step_lines_changed"] == 3 and c["step"] == "_two"
    assert c["placement_lines"] == 3
    assert c["placement"] == ["mesh = [a]  # counted", "placed = mesh * 2", "return placed, b"]
    assert code_change(_one, _one)["step_lines_changed"] == 0
