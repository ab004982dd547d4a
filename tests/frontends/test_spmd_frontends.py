"""Sharded capture in every SPMD frontend: torchax, keras-jax and torch_xla beside jax.

The jax, keras-jax and torch_xla mlp steps at 4 devices (dp) and 8 devices (dp+tp)
are in test_sharded.py; these add torchax at 4 and 8 devices, tp at 8 devices in
every frontend, and small cnn and transformer captures in torchax and keras-jax.
"""

from __future__ import annotations

import numpy as np
import pytest

from xlalens.capture import write_dump
from xlalens.frontends import _spmd_plan as plan
from xlalens.ir import collectives, load
from xlalens.ir._collectives import mesh_from_spec
from xlalens.spmd import parse_mesh, skip_reason
from xlalens.workloads import Workload

MLP = Workload(name="mlp", depth=2, width=16, size=16, features=8)
CNN = Workload(name="cnn", depth=1, width=8, size=8, features=3, image=8)
TRANSFORMER = Workload(name="transformer", depth=1, width=8, heads=2, seq=4, features=3, size=8)


def _dump(tmp_path_factory, workload, devices, mesh, strategy, frameworks):
    spec = parse_mesh(devices, mesh, None, strategy, batch=workload.size)
    out = tmp_path_factory.mktemp(f"{workload.name}_{devices}_{strategy}") / "dump"
    return write_dump(
        out, frameworks=list(frameworks), workload=workload, sharding=spec.to_json(), stages=False
    )


def _collectives(result, frontend):
    graph = load(f"{result.path}:{frontend}:optimized_hlo", level="raw")
    return collectives(graph, mesh_from_spec(result.manifest["sharding"]))


def _assert_proved(result, frontend):
    entry = result.manifest["frontends"][frontend]
    assert entry["status"] == "ok", entry.get("reason")
    assert entry["outputs_match"] is True, entry.get("verify_error")
    assert entry["spmd"]["matches_single_device"] is True
    assert "sharding=" in (result.path / frontend / "hlo.txt").read_text()
    head = (result.path / frontend / "optimized_hlo.txt").read_text().splitlines()[0]
    assert f"num_partitions={result.manifest['sharding']['devices']}" in head


@pytest.fixture(scope="module")
def dp4(tmp_path_factory):
    """mlp, dp over 4 devices, in jax and torchax."""
    return _dump(tmp_path_factory, MLP, 4, None, "dp", ("jax", "torchax"))


@pytest.fixture(scope="module")
def tp8(tmp_path_factory):
    """mlp, tp over 8 devices, in jax, torchax, keras-jax and torch_xla."""
    return _dump(tmp_path_factory, MLP, 8, None, "tp", ("jax", "torchax", "keras-jax", "torch_xla"))


def test_torchax_dp_matches_and_all_reduces_gradients(dp4):
    """torchax dp (4 devices): matches its 1-device step and jax; one all-reduce of every gradient.

    torchax's step is jax's jit of make_train_step, so the partitioner combines the
    gradients into one tuple all-reduce over `data`, as for jax; its operand is
    every gradient plus the loss (4 bytes each, float32).
    """
    _assert_proved(dp4, "torchax")
    assert dp4.manifest["cross_check"]["params_agree"] is True
    found = _collectives(dp4, "torchax")
    assert [(c.kind, c.axes, c.group_size) for c in found] == [("all-reduce", ("data",), 4)]
    n_params = sum(int(np.prod(s)) for s in MLP.param_shapes().values())
    assert found[0].operand_bytes == 4 * (n_params + 1)
    shardings = dp4.manifest["frontends"]["torchax"]["spmd"]["input_shardings"]
    assert shardings.count("P('data', None)") == 2  # x and y; the weights are replicated


@pytest.mark.parametrize("frontend", ["jax", "torchax", "keras-jax", "torch_xla"])
def test_tp_reduces_activations_over_model(tp8, frontend):
    """tp (8 devices): every frontend matches its 1-device step; only all-reduces over `model`.

    Megatron pairs (layer 0 columns, layer 1 rows) leave the row-parallel layer's
    partial [batch, width] output to sum: XLA picks all-reduces of activations over
    the model axis (no all-gather or reduce-scatter at these sizes), in the
    forward pass and for the input gradient of the column-parallel layer; no
    gradient is reduced, since each device owns its parameter shards.
    """
    _assert_proved(tp8, frontend)
    found = _collectives(tp8, frontend)
    assert found and {(c.kind, c.axes, c.group_size) for c in found} == {
        ("all-reduce", ("model",), 8)
    }
    activation = MLP.size * MLP.width * 4
    assert all(c.operand_bytes % activation == 0 for c in found)


def test_tp_cross_frontend_params_agree(tp8):
    """The four frontends' tp steps update the parameters alike."""
    assert tp8.manifest["cross_check"]["params_agree"] is True


@pytest.mark.parametrize("workload", [CNN, TRANSFORMER], ids=["cnn", "transformer"])
def test_torchax_and_keras_models_sharded(tmp_path_factory, workload):
    """Small cnn (dp, 4 devices) and transformer (dp+tp, 4x2) in torchax and keras-jax.

    Both match their 1-device steps and each other; dp reduces gradients over
    `data`; the transformer's tp pairs add reductions over `model` (the
    attention and MLP outputs), and its attention kernels are split by heads.
    """
    if workload.name == "cnn":
        result = _dump(tmp_path_factory, workload, 4, None, "dp", ("torchax", "keras-jax"))
    else:
        result = _dump(tmp_path_factory, workload, 8, "4x2", "dp+tp", ("torchax", "keras-jax"))
    assert result.manifest["cross_check"]["params_agree"] is True
    for frontend in ("torchax", "keras-jax"):
        _assert_proved(result, frontend)
        axes = {c.axes for c in _collectives(result, frontend) if c.kind == "all-reduce"}
        assert ("data",) in axes
        assert (("model",) in axes) == (workload.name == "transformer")
    if workload.name == "transformer":
        placed = result.manifest["frontends"]["keras-jax"]["spmd"]["input_shardings"]
        assert "layer0.attn.query: P(None, 'model', None)" in placed
        assert "layer0.attn.output: P('model', None, None)" in placed


def test_placements():
    """The placement table: Megatron pairs per workload, torch and Keras layouts, divisibility."""
    tp = parse_mesh(8, "4x2", None, "dp+tp")
    assert plan.param_spec("w0", (8, 16), tp) == (None, "model")
    assert plan.param_spec("b0", (16,), tp) == ("model",)
    assert plan.param_spec("w1", (16, 16), tp) == ("model", None)
    assert plan.param_spec("b1", (16,), tp) == (None,)
    assert plan.param_spec("layer0.attn.key", (8, 8), tp) == (None, "model")
    assert plan.param_spec("layer0.attn.output", (8, 8), tp) == ("model", None)
    assert plan.param_spec("layer0.mlp.fc2.kernel", (32, 8), tp) == ("model", None)
    assert plan.param_spec("layer0.mlp.fc2.bias", (8,), tp) == (None,)
    assert plan.param_spec("layer0.ln1.scale", (8,), tp) == (None,)
    hwio = plan.param_spec("block0.conv1.kernel", (3, 3, 8, 8), tp)
    assert hwio == (None, None, None, "model")
    assert plan.torch_layout(hwio) == ("model", None, None, None)  # OIHW
    assert plan.param_spec("block0.conv2.kernel", (3, 3, 8, 8), tp) == (None, None, "model", None)
    assert plan.param_spec("stem.conv.kernel", (3, 3, 3, 8), tp) == (None,) * 4
    assert plan.param_spec("w0", (8, 15), tp) == (None, None)  # 2 does not divide 15
    assert plan.torch_layout((None, "model")) == ("model", None)
    assert plan.keras_attention_layout("layer0.attn.query", (None, "model"), 3, tp) == (None,) * 3
    assert plan.batch_spec(4, tp) == ("data", None, None, None)
    assert plan.batch_spec(2, parse_mesh(8, None, None, "tp")) == (None, None)
    dp = parse_mesh(4)
    assert plan.param_spec("w0", (8, 16), dp) == (None, None)
    assert plan.param_spec("w0", (8, 16), parse_mesh(4, None, None, "fsdp")) == ("data", None)


def test_skip_reasons():
    """Every workload has a sharded capture in the four SPMD frontends; TensorFlow's are skipped."""
    assert skip_reason("torchax", "transformer") is None
    assert skip_reason("torch_xla", "cnn") is None and skip_reason("keras-jax", "cnn") is None
    assert "DTensor" in skip_reason("keras-tensorflow")
    assert skip_reason("keras-jax", "regression") is None
