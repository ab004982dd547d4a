"""The workload definitions: shapes, fixed initial state, manifest form, bad settings."""

import re

import numpy as np
import pytest

from xlalens._errors import UsageError
from xlalens._paths import display_path
from xlalens.workloads import WORKLOADS, Workload


@pytest.mark.parametrize("name", WORKLOADS)
def test_initial_state_is_fixed_and_float32(name):
    """Two builds give bit-identical float32 parameters of the declared shapes."""
    w = Workload(name, depth=2, width=8, features=3)
    a, b = w.initial_params(), w.initial_params()
    assert list(a) == list(b) and all(np.array_equal(a[k], b[k]) for k in a)
    assert all(v.dtype == np.float32 for v in a.values())
    assert {k: v.shape for k, v in a.items()} == w.param_shapes()
    x, y = w.data()
    assert x.dtype == np.float32 and x.shape[0] == w.size == y.shape[0]


def test_model_shapes_follow_depth_and_width():
    """cnn: 2 convs per block + stem, HWIO kernels; transformer: 4 attention kernels per block."""
    cnn = Workload("cnn", depth=3, width=16, features=3).param_shapes()
    assert sum(k.endswith("conv.kernel") or ".conv" in k for k in cnn) == 1 + 2 * 3
    assert cnn["stem.conv.kernel"] == (3, 3, 3, 16) and cnn["head.kernel"] == (16, 4)
    tr = Workload("transformer", depth=2, width=12, heads=3, features=5).param_shapes()
    assert tr["layer1.attn.query"] == (12, 12) and tr["layer1.mlp.fc1.kernel"] == (12, 48)
    assert tr["embed.kernel"] == (5, 12)


def test_real_sizes():
    """--depth 24 --width 256 is ResNet-50-sized; BERT-base's encoder is 85M parameters."""
    resnet = Workload("cnn", depth=24, width=256, features=3).summary()
    assert 25e6 < resnet["parameters"] < 30e6
    bert = Workload("transformer", depth=12, width=768, heads=12, seq=128).summary()
    assert 84e6 < bert["parameters"] < 86e6


@pytest.mark.parametrize("name", WORKLOADS)
def test_summary_round_trips(name):
    """The manifest form names only the settings used and reads back to the same workload."""
    w = Workload(name, depth=3, width=8, features=2, size=6)
    s = w.summary()
    assert s["description"].startswith(name) and s["parameters"] > 0
    assert Workload.from_json(s).summary() == s
    if name == "regression":
        assert "depth" not in s and "width" not in s
    assert Workload.from_json(s).initial_params().keys() == w.initial_params().keys()


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        ({"name": "transformer", "width": 10, "heads": 3}, "multiple of --heads"),
        ({"name": "cnn", "image": 5}, "--image must be even"),
        ({"name": "cnn", "classes": 0}, "--classes must be a positive integer"),
        ({"name": "resnet"}, "unknown workload 'resnet'"),
    ],
)
def test_bad_settings_say_what_to_do(kwargs, needle):
    """Invalid settings raise one UsageError naming the flag."""
    with pytest.raises(UsageError, match=re.escape(needle)):
        Workload(**kwargs)


def test_dense_layer_view_only_for_dense():
    """The seed's layer view stays for regression/mlp and refuses cnn with a pointer."""
    assert Workload("mlp", depth=2, width=4).layer_sizes() == [1, 4, 4, 1]
    with pytest.raises(UsageError, match="initial_params"):
        Workload("cnn").params()


def test_display_path():
    """Reports print <site-packages>/... and project-relative paths."""
    assert (
        display_path("/opt/venv/lib/python3.11/site-packages/keras/src/ops/numpy.py")
        == "<site-packages>/keras/src/ops/numpy.py"
    )
    assert display_path("/proj/models/net.py", project="/proj") == "models/net.py"
    assert display_path("/elsewhere/net.py", project="/proj") == "/elsewhere/net.py"
    assert display_path("-") == "-"


def test_reference_step_is_the_seed_update():
    """The plain-jax reference of regression moves w 0.5 -> 0.72 and b 0.1 -> 0.173."""
    import jax

    step, args = Workload().reference_step()
    params, _, _, loss = jax.jit(step)(*args)
    np.testing.assert_allclose(np.ravel(params["w"]), [0.72], rtol=1e-6)
    np.testing.assert_allclose(np.ravel(params["b"]), [0.173], rtol=1e-6)
    assert float(loss) == pytest.approx(16.135, rel=1e-6)


@pytest.mark.parametrize("name", ["cnn", "transformer"])
def test_reference_step_updates_every_parameter(name):
    """One reference step of cnn/transformer changes every parameter and keeps its shape."""
    import jax

    w = Workload(name, depth=1, width=8, features=3, heads=2, seq=4, image=4)
    step, args = w.reference_step()
    params, buffers, _state, loss = jax.jit(step)(*args)
    init = w.initial_params()
    assert np.isfinite(float(loss)) and params.keys() == init.keys()
    for k, v in init.items():
        assert params[k].shape == v.shape and not np.allclose(params[k], v), k
    assert buffers.keys() == w.initial_buffers().keys()
