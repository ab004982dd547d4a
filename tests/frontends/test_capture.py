"""Every frontend captures the real step: files, parseable IR, replayed outputs."""

import json

import numpy as np
import pytest

from xlalens.dumpdir import read_outputs
from xlalens.frontends import default_frontends

NAMES = default_frontends()


def _mlir_parse(text):
    from jax._src.interpreters import mlir
    from jax._src.lib.mlir import ir

    with mlir.make_ir_context():
        return len(ir.Module.parse(text).body.operations)


def _xla_parse(text):
    from jax._src.lib import hlo

    module = hlo.hlo_module_from_text(text)
    return sum(len(c.instructions()) for c in module.computations())


def test_no_frontend_skipped_or_failed(regression_dump):
    """Under `make test` every framework is installed, so every frontend is ok."""
    statuses = {n: e["status"] for n, e in regression_dump.manifest["frontends"].items()}
    assert statuses == {n: "ok" for n in NAMES}, {
        n: e["reason"] for n, e in regression_dump.manifest["frontends"].items() if e["reason"]
    }


@pytest.mark.parametrize("name", NAMES)
def test_artifacts_exist_and_parse(regression_dump, name):
    """StableHLO parses with jaxlib's MLIR bindings; both HLOs parse with XLA's parser."""
    entry = regression_dump.manifest["frontends"][name]
    root = regression_dump.path
    for artifact in ("stablehlo", "hlo", "optimized_hlo", "outputs", "inputs"):
        path = root / entry["artifacts"][artifact]
        assert path.is_file() and path.stat().st_size > 0, artifact
    assert _mlir_parse((root / entry["artifacts"]["stablehlo"]).read_text()) >= 1
    assert _xla_parse((root / entry["artifacts"]["hlo"]).read_text()) > 5
    assert _xla_parse((root / entry["artifacts"]["optimized_hlo"]).read_text()) > 3


@pytest.mark.parametrize("name", NAMES)
def test_replay_matches_native(regression_dump, name):
    """The captured StableHLO, run by PJRT on the same inputs, reproduces the native step."""
    entry = regression_dump.manifest["frontends"][name]
    assert entry["outputs_match"] is True, entry.get("verify_error")
    assert entry["max_abs_diff"] <= 1e-5
    proof = entry["proof"]
    assert proof["reference"] == "float64"
    assert proof["replay"]["error_over_bound"] <= 1 and proof["native"]["error_over_bound"] <= 1


@pytest.mark.parametrize("name", NAMES)
def test_signature_roles_and_phases(regression_dump, name):
    """Inputs name w, b, x, y; outputs name the loss and new w, b; phases are timed."""
    entry = regression_dump.manifest["frontends"][name]
    inputs = {i["role"] for i in entry["signature"]["inputs"]}
    outputs = {o["role"] for o in entry["signature"]["outputs"]}
    assert {"w", "b", "x", "y"} <= inputs
    assert {"loss", "w", "b"} <= outputs
    assert {"import", "trace", "lower", "subprocess", "verify"} <= set(entry["seconds"])
    assert entry["versions"], "framework versions are recorded"
    assert entry["native_step_seconds"]["n"] >= 5


def test_seed_update_agrees_across_frameworks(regression_dump):
    """All frontends compute the same SGD update: w 0.5 -> 0.72, b 0.1 -> 0.173."""
    cc = regression_dump.manifest["cross_check"]
    assert cc["params_agree"] is True, cc["disagreements"]
    assert sorted(cc["compared"]) == sorted(NAMES)
    for name, entry in regression_dump.manifest["frontends"].items():
        out = read_outputs(regression_dump.path / entry["artifacts"]["outputs"])
        np.testing.assert_allclose(np.ravel(out.params["w"]), [0.72], rtol=1e-5, err_msg=name)
        np.testing.assert_allclose(np.ravel(out.params["b"]), [0.173], rtol=1e-5, err_msg=name)


def test_losses_follow_each_programs_definition(regression_dump):
    """Loss before the update is 16.135 everywhere; the seed's JAX loop reports it after."""
    for name, entry in regression_dump.manifest["frontends"].items():
        out = json.loads((regression_dump.path / entry["artifacts"]["outputs"]).read_text())
        expected = 16.135 if out["loss_kind"] == "before_update" else 11.2107296
        assert out["loss"] == pytest.approx(expected, rel=1e-5), name
    assert (
        json.loads((regression_dump.path / "jax/outputs.json").read_text())["loss_kind"]
        == "after_update"
    )


def test_seed_idioms_visible_in_ir(regression_dump):
    """JAX keeps the seed's w * x + b (no dot); PyTorch lowers nn.Linear to a dot; torch_xla passes lr."""
    root = regression_dump.path
    assert "dot_general" not in (root / "jax/stablehlo.mlir").read_text()
    assert "dot_general" in (root / "torch_xla/stablehlo.mlir").read_text()
    roles = [
        i["role"] for i in regression_dump.manifest["frontends"]["torch_xla"]["signature"]["inputs"]
    ]
    assert "lr" in roles
    keras_roles = [
        i["role"]
        for i in regression_dump.manifest["frontends"]["keras-tensorflow"]["signature"]["inputs"]
    ]
    assert "iteration" in keras_roles


def test_mlp_workload_agrees_everywhere(mlp_dump):
    """A 3-layer MLP (tanh) step: all frontends ok, replay matches, parameters agree."""
    fronts = mlp_dump.manifest["frontends"]
    assert all(e["status"] == "ok" and e["outputs_match"] for e in fronts.values()), {
        n: (e["status"], e.get("reason"), e.get("verify_error")) for n, e in fronts.items()
    }
    cc = mlp_dump.manifest["cross_check"]
    assert cc["params_agree"] is True, cc["disagreements"]
    w0 = read_outputs(mlp_dump.path / "torch_xla/outputs.json").params["w0"]
    assert np.asarray(w0).shape == (3, 8)


def test_torch_xla_kernels_name_their_python_lines(regression_dump):
    """torch_xla's optimized HLO (compiled by the core from its StableHLO) names the torch line of each kernel."""
    from xlalens.ir import kernel_nodes, load

    g = load(regression_dump.path / "torch_xla" / "optimized_hlo.txt")
    files = {g.nodes[k].get("source_file") for k in kernel_nodes(g)}
    assert any(f and f.endswith(("torch/optim/sgd.py", "torch/nn/functional.py")) for f in files), (
        files
    )
    assert "-" not in files


def test_tensorflow_stablehlo_names_the_user_line(regression_dump):
    """TensorFlow's StableHLO (what `xlalens time` and the targets compile) names the step's line, not TF's ops.py."""
    from xlalens.ir import load

    g = load(regression_dump.path / "tensorflow" / "stablehlo.mlir", level="raw")
    where = {d.get("source_file") for _, d in g.nodes(data=True) if d["op"] in ("dot", "reduce")}
    assert where and all(f and f.endswith("frontends/fe_tensorflow.py") for f in where), where
