"""Sharded steps (jax NamedSharding over forced host devices): capture, proof, collectives, diff."""

from __future__ import annotations

import json

import jax
import numpy as np
import pytest

from xlalens.capture import write_dump
from xlalens.diff._diff import diff
from xlalens.dumpdir import read_outputs
from xlalens.ir import collectives, load
from xlalens.ir._collectives import mesh_from_spec
from xlalens.proof import agree
from xlalens.spmd import parse_mesh
from xlalens.workloads import Workload

MLP = Workload(name="mlp", depth=2, width=16, size=16, features=8)
TRANSFORMER = Workload(name="transformer", depth=1, width=8, heads=2, seq=4, features=3, size=8)


def _dump(tmp_path_factory, workload, devices, mesh, strategy, frameworks=("jax",)):
    spec = parse_mesh(devices, mesh, None, strategy, batch=workload.size)
    out = tmp_path_factory.mktemp(f"{workload.name}_{devices}_{strategy}") / "dump"
    return write_dump(
        out,
        frameworks=list(frameworks),
        workload=workload,
        sharding=spec.to_json(),
        stages=False,
    )


@pytest.fixture(scope="module")
def one(tmp_path_factory):
    """The mlp step through the sharded path on one device: the 1-device step."""
    return _dump(tmp_path_factory, MLP, 1, None, "dp")


@pytest.fixture(scope="module")
def dp4(tmp_path_factory):
    """mlp, data parallel over 4 devices in jax, torch_xla, keras-jax; tensorflow asked too (skipped)."""
    return _dump(
        tmp_path_factory, MLP, 4, None, "dp", ("jax", "tensorflow", "torch_xla", "keras-jax")
    )


@pytest.fixture(scope="module")
def tp8(tmp_path_factory):
    """mlp, tensor parallel over 8 devices."""
    return _dump(tmp_path_factory, MLP, 8, None, "tp")


@pytest.fixture(scope="module")
def dptp8(tmp_path_factory):
    """mlp, dp+tp over a 4x2 mesh in jax, torch_xla and keras-jax."""
    return _dump(tmp_path_factory, MLP, 8, "4x2", "dp+tp", ("jax", "torch_xla", "keras-jax"))


def _collectives(result, frontend="jax"):
    graph = load(f"{result.path}:{frontend}:optimized_hlo", level="raw")
    return collectives(graph, mesh_from_spec(result.manifest["sharding"]))


def _reference_params(workload):
    step, args = workload.reference_step()
    return {k: np.asarray(v) for k, v in jax.jit(step)(*args)[0].items()}


@pytest.mark.parametrize("name", ["dp4", "tp8", "dptp8"])
def test_sharded_mlp_matches_one_device(name, request):
    """The sharded step's updated parameters equal the 1-device step's (in the child and here)."""
    result = request.getfixturevalue(name)
    entry = result.manifest["frontends"]["jax"]
    assert entry["status"] == "ok", entry.get("reason")
    assert entry["outputs_match"] is True and entry["spmd"]["matches_single_device"] is True
    assert 0 <= entry["spmd"]["error_over_bound"] <= 1  # shown in the dump table's error/bound
    got = read_outputs(result.path / entry["artifacts"]["outputs"]).params
    ref = _reference_params(MLP)
    ok, _, why, _ = agree(
        [np.asarray(got[r]) for r in ref],
        [ref[r] for r in ref],
        (result.path / "jax" / "stablehlo.mlir").read_text(),
    )
    assert ok, why
    # The pre-partitioning modules carry sharding annotations; the optimized one is per device.
    assert "sdy.sharding" in (result.path / "jax" / "stablehlo.mlir").read_text()
    assert "sharding=" in (result.path / "jax" / "hlo.txt").read_text()
    devices = result.manifest["sharding"]["devices"]
    head = (result.path / "jax" / "optimized_hlo.txt").read_text().splitlines()[0]
    assert f"num_partitions={devices}" in head


def test_dp_all_reduces_every_gradient(dp4):
    """dp: one all-reduce over the data axis carries every parameter's gradient (and the loss)."""
    found = _collectives(dp4)
    assert [(c.kind, c.axes, c.group_size) for c in found] == [("all-reduce", ("data",), 4)]
    n_params = sum(int(np.prod(s)) for s in MLP.param_shapes().values())
    assert found[0].operand_bytes == 4 * (n_params + 1)
    assert found[0].bytes_per_device == 2 * 3 * found[0].operand_bytes // 4


def test_tp_reduces_row_parallel_activation(tp8):
    """tp (8-way): XLA emits one all-reduce over the model axis, of the [batch, width] activation."""
    found = _collectives(tp8)
    assert [(c.kind, c.axes, c.group_size) for c in found] == [("all-reduce", ("model",), 8)]
    assert found[0].operand_bytes == MLP.size * MLP.width * 4


def test_dp_tp_spans_both_axes(dptp8):
    """dp+tp on 4x2: gradients reduced over data, activations over model."""
    found = {(c.kind, c.axes, c.group_size) for c in _collectives(dptp8)}
    assert ("all-reduce", ("data",), 4) in found and ("all-reduce", ("model",), 2) in found


def test_tensorflow_skipped_with_reason(dp4):
    """TensorFlow has no XLA SPMD path: skipped, saying why."""
    entry = dp4.manifest["frontends"]["tensorflow"]
    assert entry["status"] == "skipped" and "DTensor" in entry["reason"]


def test_diff_shows_inserted_collectives(one, dp4):
    """Diffing the 1-device step against the dp step shows the partitioner's all-reduce as only in B."""
    a = load(f"{one.path}:jax:optimized_hlo")
    b = load(f"{dp4.path}:jax:optimized_hlo")
    report = json.loads(diff(a, b).to_json_text())
    assert not [n for n in report["only_a"] if n["op"].startswith("all-")]
    assert [n["op"] for n in report["only_b"] if n["op"].startswith("all-")] == ["all-reduce"]
    hist = {r["op"]: (r["a"], r["b"]) for r in report["summary"]["op_histogram"]}
    assert hist["all-reduce"] == (0, 1)
    assert _collectives(one) == []


def test_sharded_transformer(tmp_path_factory):
    """A small transformer step, dp+tp on 4x2, matches its 1-device step and reduces over both axes."""
    result = _dump(tmp_path_factory, TRANSFORMER, 8, "4x2", "dp+tp")
    entry = result.manifest["frontends"]["jax"]
    assert entry["status"] == "ok" and entry["outputs_match"] is True, entry.get("reason")
    axes = {c.axes for c in _collectives(result)}
    assert ("data",) in axes and ("model",) in axes


def test_adamw_transformer_tp4_proved_against_the_float64_reference(tmp_path_factory):
    """bench_spmd's transformer, tp on 4 devices: AdamW's first step is ill-conditioned, yet proved."""
    wl = Workload(name="transformer", depth=2, width=128, heads=4, seq=64, features=32, size=32)
    entry = _dump(tmp_path_factory, wl, 4, None, "tp").manifest["frontends"]["jax"]
    assert entry["status"] == "ok" and entry["outputs_match"] is True, entry.get("verify_error")
    spmd = entry["spmd"]
    assert spmd["reference"] == "float64" and spmd["error_over_bound"] <= 1
    assert spmd["single_error_over_bound"] <= spmd["conditioning"] * (1 + 1e-6)


@pytest.mark.parametrize("frontend", ["torch_xla", "keras-jax"])
@pytest.mark.parametrize("name", ["dp4", "dptp8"])
def test_other_frontends_sharded_mlp(name, frontend, request):
    """torch_xla SPMD and keras.distribution: match their 1-device step and jax, same bytes per axis."""
    result = request.getfixturevalue(name)
    entry = result.manifest["frontends"][frontend]
    assert entry["status"] == "ok", entry.get("reason")
    assert entry["outputs_match"] is True and entry["spmd"]["matches_single_device"] is True
    assert result.manifest["cross_check"]["params_agree"] is True
    assert "sharding=" in (result.path / frontend / "hlo.txt").read_text()
    head = (result.path / frontend / "optimized_hlo.txt").read_text().splitlines()[0]
    assert f"num_partitions={result.manifest['sharding']['devices']}" in head

    def per_axis(frontend):
        sums = {}
        for c in _collectives(result, frontend):
            assert c.kind == "all-reduce"
            sums[c.axes] = sums.get(c.axes, 0) + c.operand_bytes
        return sums

    # torch_xla reduces each gradient on its own, jax in one tuple: the same bytes.
    assert per_axis(frontend) == per_axis("jax")


def test_report_section(dptp8, tmp_path):
    """The sharded dump's report section names the mesh, the proof and each frontend's collectives."""
    from xlalens.spmd import report_section

    title, fragment = report_section(dptp8.path)
    assert title == "Sharded step: dp+tp over 8 devices"
    assert "mesh 4x2 (data,model)" in fragment and fragment.count("<table>") == 3
    assert "matches its 1-device step: yes" in fragment and "<td>model</td>" in fragment
    assert report_section(tmp_path) is None  # not a dump
