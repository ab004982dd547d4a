"""The sharding flags of `xlalens dump`: parsing, and one-line exit-2 errors for bad input."""

from __future__ import annotations

import pytest

from xlalens._errors import UsageError
from xlalens.cli import main
from xlalens.spmd import MeshSpec, frontend_env, parse_mesh, skip_reason


def test_parse_defaults():
    """A mesh and axes get their defaults, and the spec round-trips through JSON."""
    assert parse_mesh(None) is None and parse_mesh(1) is None
    spec = parse_mesh(8, "4x2", None, "dp+tp", batch=16)
    assert spec == MeshSpec(8, (4, 2), ("data", "model"), "dp+tp")
    assert MeshSpec.from_json(spec.to_json()) == spec
    assert parse_mesh(4, None, None, "tp").axes == ("model",)
    assert parse_mesh(4).strategy == "dp" and parse_mesh(4).shape == (4,)


@pytest.mark.parametrize(
    "args, words",
    [
        ((8, "3x2", None, "dp"), "multiply to the device count"),
        ((8, "4x2", "data,expert", "dp"), "unknown axis name 'expert'"),
        ((8, "4x2", "data,rows", "dp+tp"), "axis named 'model'"),
        ((1000, None, None, "dp"), "more than the 64"),
        ((8, "4x2", None, "pp"), "--sharding 'pp' is unknown"),
        ((8, "4by2", None, "dp"), "not sizes joined by x"),
        ((None, "4x2", None, None), "needs --devices"),
    ],
)
def test_bad_flags(args, words):
    """Each bad combination raises one UsageError line naming the flag and the fix."""
    with pytest.raises(UsageError, match=words) as info:
        parse_mesh(*args)
    assert "\n" not in str(info.value)


def test_batch_must_divide():
    """The data axis must divide the batch."""
    with pytest.raises(UsageError, match="not divisible by the data axis"):
        parse_mesh(8, "4x2", None, "dp", batch=6)


@pytest.mark.parametrize(
    "flags",
    [
        ["--devices", "8", "--mesh", "3x2"],
        ["--devices", "8", "--mesh", "4x2", "--axes", "data,expert"],
        ["--devices", "100000"],
    ],
)
def test_dump_cli_exit_2(capsys, tmp_path, flags):
    """`xlalens dump` refuses bad sharding flags with one line and exit 2, before any frontend runs."""
    out = tmp_path / "d"
    assert main(["dump", "--workload", "mlp", "-o", str(out), *flags]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("xlalens dump: error: --")
    assert not out.exists()


def test_env_and_skips():
    """Devices reach a frontend through its own environment; frontends without SPMD are skipped."""
    spec = parse_mesh(4)
    assert "--xla_force_host_platform_device_count=4" in frontend_env("jax", spec)["XLA_FLAGS"]
    assert frontend_env("torch_xla", spec)["CPU_NUM_DEVICES"] == "4"
    assert skip_reason("jax") is None and skip_reason("torch_xla", "transformer") is None
    assert skip_reason("keras-jax", "cnn") is None and skip_reason("torchax") is None
    assert "no sharded capture" in skip_reason("some-frontend")
    assert "DTensor" in skip_reason("tensorflow") and "DTensor" in skip_reason("keras-tensorflow")
