"""cnn and transformer in all six frontends; roles from program paths; multi-frontend targets."""

import re
from pathlib import Path

import numpy as np
import pytest

from tests.frontends.conftest import CNN, TRANSFORMER
from xlalens.capture import write_dump
from xlalens.dumpdir import read_outputs
from xlalens.frontends import default_frontends
from xlalens.workloads import Workload

NAMES = default_frontends()
REPO = Path(__file__).resolve().parents[2]
TARGET = f"{REPO}/tests/frontends/user_steps.py"


@pytest.fixture(params=["cnn", "transformer"])
def model_dump(request):
    """Each model workload's dump, with the workload it was made from."""
    dump = request.getfixturevalue(f"{request.param}_dump")
    return dump, {"cnn": CNN, "transformer": TRANSFORMER}[request.param]


def _outputs(dump, name):
    entry = dump.manifest["frontends"][name]
    return read_outputs(dump.path / entry["artifacts"]["outputs"])


def test_every_frontend_captures_and_replays(model_dump):
    """All six frontends capture the step, and PJRT replay of the StableHLO reproduces it."""
    dump, _ = model_dump
    fronts = dump.manifest["frontends"]
    assert sorted(fronts) == sorted(NAMES)
    for name, e in fronts.items():
        assert e["status"] == "ok", (name, e.get("reason"))
        assert e["outputs_match"] is True, (name, e.get("verify_error"))


def test_frontends_agree_on_updated_parameters(model_dump):
    """Same numpy initial state everywhere -> the same updated parameters (capture's rule)."""
    dump, workload = model_dump
    cc = dump.manifest["cross_check"]
    assert cc["params_agree"] is True, cc["disagreements"]
    assert sorted(cc["compared"]) == sorted(NAMES)
    init = workload.initial_params()
    for name in NAMES:
        params = _outputs(dump, name).params
        assert sorted(params) == sorted(init), name
        for role, value in init.items():
            got = np.asarray(params[role])
            assert got.shape == value.shape, (name, role)
        # One step moved every parameter (a frontend that skipped the update would agree
        # with nothing, but a frozen head would not show otherwise).
        moved = [r for r in init if not np.allclose(params[r], init[r], atol=1e-9)]
        assert len(moved) >= len(init) - 1, (name, sorted(set(init) - set(moved)))


def test_reference_step_matches_every_frontend(model_dump):
    """The workload's own jax step (no optax) gives the parameters every frontend gave."""
    import jax

    dump, workload = model_dump
    step, args = workload.reference_step()
    ref = {k: np.asarray(v) for k, v in jax.jit(step)(*args)[0].items()}
    for name in NAMES:
        params = _outputs(dump, name).params
        for role, value in ref.items():
            np.testing.assert_allclose(params[role], value, rtol=1e-5, atol=1e-6, err_msg=name)


def test_loss_is_the_same_everywhere(model_dump):
    """The loss before the update agrees across frontends (all report it before the update)."""
    dump, _ = model_dump
    losses = {n: _outputs(dump, n).loss for n in NAMES}
    ref = losses["jax"]
    assert all(v == pytest.approx(ref, rel=1e-5) for v in losses.values()), losses


def test_parameter_roles_are_the_same_in_every_frontend(model_dump):
    """Each parameter role names exactly one module input and one result in every frontend."""
    dump, workload = model_dump
    roles = set(workload.initial_params())
    for name in NAMES:
        sig = dump.manifest["frontends"][name]["signature"]
        ins = [i["role"] for i in sig["inputs"] if i["role"] in roles]
        outs = [o["role"] for o in sig["outputs"] if o["role"] in roles]
        assert sorted(ins) == sorted(roles), (name, sorted(roles - set(ins)))
        assert sorted(outs) == sorted(roles), (name, sorted(roles - set(outs)))
        shapes = {i["role"]: tuple(i["shape"]) for i in sig["inputs"] if i["role"] in roles}
        expected = workload.param_shapes()
        # Frameworks keep their own layouts (torch OIHW, Keras [d, heads, head_dim]),
        # but the element counts are the workload's.
        assert {r: int(np.prod(s)) for r, s in shapes.items()} == {
            r: int(np.prod(s)) for r, s in expected.items()
        }, name
        assert "loss" in [o["role"] for o in sig["outputs"]], name


def test_optimizer_state_roles_follow_parameters(cnn_dump, transformer_dump):
    """Momentum / Adam moments carry the parameter's role plus /m or /v where they are inputs."""
    for dump, workload, slots in (
        (cnn_dump, CNN, ("m",)),
        (transformer_dump, TRANSFORMER, ("m", "v")),
    ):
        expected = {f"{r}/{s}" for r in workload.initial_params() for s in slots}
        for name in ("jax", "tensorflow", "keras-jax", "keras-tensorflow", "torchax"):
            sig = dump.manifest["frontends"][name]["signature"]
            got = {i["role"] for i in sig["inputs"]}
            assert expected <= got, (name, sorted(expected - got)[:5])
        # torch.optim creates its state inside the captured first step: results only.
        outs = {o["role"] for o in dump.manifest["frontends"]["torch_xla"]["signature"]["outputs"]}
        assert expected <= outs


def test_manifest_describes_the_workload_that_ran(model_dump):
    """The manifest names the settings used, the parameter count, optimizer and a description."""
    dump, workload = model_dump
    wl = dump.manifest["workload"]
    assert wl["name"] == workload.name and wl["depth"] == workload.depth
    assert wl["parameters"] == sum(int(np.prod(s)) for s in workload.param_shapes().values())
    assert wl["optimizer"]["kind"] == ("sgd_momentum" if workload.name == "cnn" else "adamw")
    assert workload.name in wl["description"] and "init" not in wl
    assert Workload.from_json(wl) == workload


def test_tf_locations_name_the_program_not_ops_py(cnn_dump):
    """TensorFlow's HLO points at the line that made each op, not at TF's ops.py."""
    text = (cnn_dump.path / "tensorflow/hlo.txt").read_text()
    files = re.findall(r'source_file="([^"]*)"', text)
    assert files, "TF wrote source locations"
    own = [f for f in files if f.endswith("xlalens/frontends/fe_tensorflow.py")]
    assert len(own) >= 0.9 * len(files), sorted(set(files))
    assert not any(f.endswith("framework/ops.py") for f in files)


def test_tf_user_step_locations_name_the_user_file(tmp_path):
    """A user's TF step: every located instruction names the user's file and a line of it."""
    import xlalens

    cap = xlalens.capture("tensorflow", target=f"{TARGET}:make_tf_step", out=tmp_path / "d")
    lines = re.findall(r'source_file="([^"]*)" source_line=(\d+)', cap.hlo)
    assert lines and {f for f, _ in lines} == {TARGET}
    source = Path(TARGET).read_text().splitlines()
    assert all("v." in source[int(n) - 1] or "tf." in source[int(n) - 1] for _, n in lines)


def _tf_package_files(text: str) -> tuple[list[str], list[str]]:
    files = re.findall(r'source_file="([^"]*)"', text)
    return files, [f for f in files if re.search(r"/(site|dist)-packages/tensorflow/", f)]


def test_keras_tf_locations_name_keras_lines_not_tensorflow(cnn_dump):
    """keras-tensorflow's HLO names Keras's layer/loss/optimizer lines, none of TF's files."""
    for level in ("hlo", "optimized_hlo"):
        files, in_tf = _tf_package_files(
            (cnn_dump.path / f"keras-tensorflow/{level}.txt").read_text()
        )
        assert files, f"TF wrote source locations into {level}"
        assert in_tf == [], (level, len(in_tf), len(files), sorted(set(in_tf)))
        # Tape gradients sit at their forward op's layer, not at Keras's tape.gradient
        # call; only the tape's sums of gradients (AddN, no forward op) stay there.
        text = (cnn_dump.path / f"keras-tensorflow/{level}.txt").read_text()
        at_tape = re.findall(r'op_name="([^"]*)"[^}]*source_file="[^"]*/trainer\.py"', text)
        assert all(n.startswith("AddN") for n in at_tape), sorted(set(at_tape))
        assert any(f.endswith("keras/src/layers/convolutional/base_conv.py") for f in files)


def test_keras_tf_user_model_locations_name_keras_lines(tmp_path):
    """A user's Keras model on TF: no located instruction points at a tensorflow/ file."""
    import xlalens

    cap = xlalens.capture(
        "keras-tensorflow", target=f"{TARGET}:make_keras_model", out=tmp_path / "d"
    )
    for text in (cap.hlo, cap.optimized_hlo):
        files, in_tf = _tf_package_files(text)
        assert files and in_tf == [], sorted(set(in_tf))
        assert any(f.endswith("keras/src/layers/core/dense.py") for f in files)


def test_optax_adam_user_step_roles_are_pytree_paths(tmp_path):
    """A user's optax.adam step: every input and result has its jax pytree path as role."""
    import xlalens

    cap = xlalens.capture("jax", target=f"{TARGET}:make_optax_adam_step", out=tmp_path / "d")
    ins = [i["role"] for i in cap.entry["signature"]["inputs"]]
    outs = [o["role"] for o in cap.entry["signature"]["outputs"]]
    assert None not in ins and None not in outs
    assert {
        "params['w1']",
        "params['b1']",
        "opt_state[0].mu['b1']",
        "opt_state[0].nu['w2']",
    } <= set(ins)
    assert {"opt_state[0].count", "x", "y"} <= set(ins)
    # The updated params and state are named like the inputs they replace.
    assert outs[: len(outs) - 1] == ins[: len(outs) - 1] and outs[-1] == "result[2]"
    assert "params['w1']" in cap.stablehlo  # the same names jax wrote into the locations


@pytest.mark.parametrize(
    "frameworks, factory",
    [
        (["keras-tensorflow", "keras-jax"], "make_keras_model"),
        (["torch_xla", "torchax"], "make_torch_model_step"),
    ],
)
def test_one_target_in_a_framework_family(tmp_path, frameworks, factory):
    """One user --target runs on both Keras backends / both torch frontends in one dump."""
    dump = write_dump(
        tmp_path / "d", frameworks=frameworks, target=f"{TARGET}:{factory}", stages=False
    )
    fronts = dump.manifest["frontends"]
    assert sorted(fronts) == sorted(frameworks)
    for name, e in fronts.items():
        assert e["status"] == "ok" and e["outputs_match"] is True, (name, e.get("reason"))
    a, b = (read_outputs(dump.path / fronts[n]["artifacts"]["outputs"]) for n in frameworks)
    ra, rb = (np.asarray(o.results[0]) for o in (a, b))
    assert ra.shape == rb.shape
    roles = [[i["role"] for i in fronts[n]["signature"]["inputs"]] for n in frameworks]
    if factory == "make_keras_model":
        # Keras variable paths on both backends.
        assert {"sequential/dense/kernel", "sequential/dense_1/bias"} <= set(roles[0]) & set(
            roles[1]
        )
        assert "sequential/dense/kernel/m" in roles[1]
    else:
        np.testing.assert_allclose(ra, rb, rtol=1e-5)  # the same loss on both
        assert {"0.weight", "0.bias", "2.weight", "2.bias"} <= set(roles[0])
