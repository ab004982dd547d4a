"""Third-party model code (examples/zoo/) through the public CLI: the CI subset of bench_zoo."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))

import bench_zoo  # noqa: E402


def _need(*modules: str) -> None:
    for m in modules:
        if importlib.util.find_spec(m) is None:
            pytest.skip(f"{m} is not installed (pip install 'xlalens[zoo]')")


def test_zoo_files_declare_frontends_and_factory():
    """Every zoo file bench_zoo finds names known frontends and a factory it defines."""
    from xlalens.frontends import FRONTENDS

    programs = bench_zoo.discover()
    assert {"transformers_bert", "timm_resnet", "keras_hub_gpt2", "tf_module"} <= {
        p.name for p in programs
    }
    for p in programs:
        assert set(p.frontends) <= set(FRONTENDS), p
        assert f"def {p.factory}(" in p.path.read_text(), p


@pytest.mark.slow
def test_transformers_bert_on_both_torch_frontends(tmp_path):
    """A transformers BERT model target captures, replays and is named on torch_xla and torchax."""
    _need("transformers", "torch_xla", "torchax")
    prog = next(p for p in bench_zoo.discover() if p.name == "transformers_bert")
    rows = bench_zoo.run_program(prog, tmp_path, timed=False, compiled=False, timeout=600)
    assert [r["frontend"] for r in rows] == ["torch_xla", "torchax"]
    for row in rows:
        assert row["status"] == "ok", row
        assert row["proven"], row
        assert row["names"] >= bench_zoo.NAMES_TARGET, row
        assert row["model_lines"] >= bench_zoo.MODEL_LINES_TARGET, row
    sig = json.loads((tmp_path / prog.name / "manifest.json").read_text())["frontends"]
    roles = {s["role"] for s in sig["torchax"]["signature"]["inputs"]}
    assert "bert.encoder.layer.0.attention.self.query.weight" in roles
    assert "batch['input_ids']" in roles


@pytest.mark.slow
def test_keras_hub_causal_lm_with_dict_inputs_replays_on_tensorflow(tmp_path):
    """keras-hub GPT-2 (dict x, a packed boolean causal mask) replays on keras-tensorflow."""
    _need("keras_hub", "tensorflow")
    prog = next(p for p in bench_zoo.discover() if p.name == "keras_hub_gpt2")
    prog = bench_zoo.Program(prog.name, prog.path, ("keras-tensorflow",), prog.factory)
    (row,) = bench_zoo.run_program(prog, tmp_path, timed=False, compiled=False, timeout=600)
    assert row["status"] == "ok", row
    assert row["proven"], row
    assert row["proof_against"] == "float64", row  # its signbit bitcast promotes
    assert row["names"] >= bench_zoo.NAMES_TARGET, row
    text = (tmp_path / prog.name / "keras-tensorflow" / "stablehlo.mlir").read_text()
    assert "xi1>" in text  # the mask is there, one byte per element (it replayed)


def test_model_target_of_the_wrong_shape_exits_2_with_one_line(tmp_path):
    """A torch factory that returns a model without optimizer and loss gets one line and exit 2."""
    _need("torch", "torchax")
    bad = tmp_path / "bad_model.py"
    bad.write_text(
        "def make_model():\n"
        "    import torch\n"
        "    m = torch.nn.Linear(2, 1)\n"
        "    return m, torch.optim.SGD(m.parameters(), lr=0.1), torch.ones(1, 2)\n"
    )
    target = ["--target", f"{bad}:make_model", "-o", str(tmp_path / "d")]
    proc = subprocess.run(
        [sys.executable, "-m", "xlalens", "dump", "--frameworks", "torchax", *target],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=600,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    err = [ln for ln in proc.stderr.splitlines() if ln.startswith("xlalens dump: error:")]
    assert err and "(model, optimizer, loss_fn, batch)" in err[0], proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr


def _round(ratio, cv=0.1):
    return {
        "kernel_sum_ratio": ratio,
        "kernel_sum_s": 0.05,
        "step_median_s": 0.05 / ratio,
        "step_cv": cv,
    }


def test_twin_band_verdict_needs_two_rounds_and_a_quiet_machine():
    """bench_zoo compares a scanned step's kern/step with its twin's band only where rounds allow."""
    row = {"program": "s", "frontend": "jax", "flops": 100.0, "rounds": [_round(0.5), _round(0.6)]}
    twin = {"program": "s:u", "frontend": "jax", "flops": 104.0}
    one = bench_zoo.twin_comparison(row, {**twin, "rounds": [_round(0.55)]})
    assert "no verdict" in one[0][-1] and one[1] == []
    lines, missed = bench_zoo.twin_comparison(row, {**twin, "rounds": [_round(0.4), _round(0.7)]})
    assert lines[-1].endswith("within the band -> met") and missed == []
    assert "FLOPs: 0.0 M vs 0.0 M (-3.8%" in lines[1]
    lines, missed = bench_zoo.twin_comparison(row, {**twin, "rounds": [_round(0.2), _round(0.3)]})
    assert "above the band -> MISSED" in lines[-1] and missed == ["kern/step above twin's band"]
    noisy = {**twin, "rounds": [_round(0.2, cv=0.7), _round(0.3)]}
    lines, missed = bench_zoo.twin_comparison(row, noisy)
    assert "no verdict: step CV up to 70%" in lines[-1] and missed == []


def test_scanned_steps_declare_their_unrolled_twin():
    """Both scanned zoo steps come with an unrolled TWIN row that bench_zoo runs beside them."""
    progs = {p.name: p for p in bench_zoo.discover()}
    for name in ("jax_scan_llm", "flax_scan_lm"):
        twin = progs[f"{name}:make_unrolled_step"]
        assert twin.twin_of == name and twin.factory == "make_unrolled_step"
