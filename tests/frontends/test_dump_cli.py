"""`xlalens dump` on bad input and failing frontends: clear errors, nothing lost."""

import json
from pathlib import Path

import pytest

from xlalens.capture import write_dump
from xlalens.cli import main
from xlalens.frontends import FRONTENDS, Frontend

REPO = Path(__file__).resolve().parents[2]
TARGET = f"{REPO}/tests/frontends/user_steps.py"


def _broken(mode):
    return Frontend(
        "broken",
        "tests.frontends.broken_frontend",
        ("jax",),
        env={"XLALENS_TEST_BROKEN_MODE": mode, "PYTHONPATH": str(REPO)},
    )


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["--frameworks", "jax,caffe"], "unknown framework 'caffe'"),
        (["--workload", "resnet"], "unknown workload 'resnet'"),
        (["--backend", "fpga"], "unknown backend 'fpga'"),
        (["--backend", "gpu"], "present: cpu"),
        (["--size", "0"], "--size must be a positive integer"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(tmp_path, capsys, argv, needle):
    """An unknown framework/workload/backend prints one line naming it and the choices."""
    assert main(["dump", *argv, "-o", str(tmp_path / "d")]) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "d").exists()


def test_refuses_non_dump_folder(tmp_path, capsys):
    """-o onto a non-empty folder that is not a dump is refused and left untouched."""
    (tmp_path / "precious.txt").write_text("keep me")
    assert main(["dump", "--frameworks", "jax", "-o", str(tmp_path)]) == 2
    assert "not an xlalens dump" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["precious.txt"]


def test_user_target_and_table(tmp_path, capsys):
    """A user's own JAX step is captured and verified; the table lists it."""
    rc = main(
        [
            "dump",
            "--frameworks",
            "jax",
            "--target",
            f"{TARGET}:make_step",
            "-o",
            str(tmp_path / "d"),
        ]
    )
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "frontend" in out and "outputs_match" in out
    row = next(line for line in out.splitlines() if line.startswith("jax"))
    assert " ok " in row and "yes" in row
    manifest = json.loads((tmp_path / "d/manifest.json").read_text())
    assert manifest["workload"]["target"].endswith(":make_step")
    assert manifest["frontends"]["jax"]["outputs_match"] is True


def test_raising_user_code_fails_with_stderr_tail(tmp_path, capsys):
    """A frontend that raises is `failed` with the tail of its stderr; exit status 1."""
    rc = main(
        ["dump", "--frameworks", "jax", "--target", f"{TARGET}:raises", "-o", str(tmp_path / "d")]
    )
    assert rc == 1
    entry = json.loads((tmp_path / "d/manifest.json").read_text())["frontends"]["jax"]
    assert entry["status"] == "failed"
    assert "deliberate failure in the user's model code" in entry["reason"]
    assert "exit status 1" in entry["reason"] and "command:" in entry["reason"]


@pytest.mark.parametrize(
    "mode, needle",
    [("raise", "deliberate raise"), ("abort", "exit status -6"), ("hang", "timed out after 15 s")],
)
def test_one_broken_frontend_does_not_stop_others(tmp_path, monkeypatch, mode, needle):
    """A frontend that raises, crashes or hangs is `failed`; jax beside it is still ok."""
    monkeypatch.setitem(FRONTENDS, "broken", _broken(mode))
    result = write_dump(tmp_path / "d", frameworks=["jax", "broken"], timeout=15)
    fronts = result.manifest["frontends"]
    assert fronts["jax"]["status"] == "ok" and fronts["jax"]["outputs_match"]
    assert fronts["broken"]["status"] == "failed"
    assert needle in fronts["broken"]["reason"], fronts["broken"]["reason"]
    assert result.failed == ["broken"]


def test_missing_package_is_skipped(tmp_path, monkeypatch, capsys):
    """A framework that is not installed is `skipped: <pkg> is not installed`; exit 1 only if asked for."""
    ghost = Frontend("ghost", "xlalens.frontends.fe_jax", ("no_such_framework_pkg",))
    monkeypatch.setitem(FRONTENDS, "ghost", ghost)
    result = write_dump(tmp_path / "d", frameworks=["jax", "ghost"])
    entry = result.manifest["frontends"]["ghost"]
    assert entry["status"] == "skipped"
    assert entry["reason"] == "no_such_framework_pkg is not installed"
    assert main(["dump", "--frameworks", "jax,ghost", "-o", str(tmp_path / "d")]) == 1
    assert "ghost skipped: no_such_framework_pkg is not installed" in capsys.readouterr().out


def test_previous_dump_replaced_only_when_complete(tmp_path):
    """An interrupted dump leaves the previous one intact; a finished one replaces it."""
    first = write_dump(tmp_path / "d", frameworks=["jax"])
    created = first.manifest["created"]

    def interrupt(name, entry):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_dump(tmp_path / "d", frameworks=["jax"], progress=interrupt)
    assert json.loads((tmp_path / "d/manifest.json").read_text())["created"] == created
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d"], "no partial folder left behind"
    second = write_dump(tmp_path / "d", frameworks=["jax"], workload=None)
    assert (tmp_path / "d/manifest.json").is_file() and second.path == tmp_path / "d"


@pytest.mark.parametrize(
    "framework, factory",
    [
        ("tensorflow", "make_tf_step"),
        ("keras-tensorflow", "make_keras_model"),
        ("keras-jax", "make_keras_model"),
        ("torch_xla", "make_torch_xla_step"),
        ("torchax", "make_torchax_step"),
    ],
)
def test_user_step_in_every_framework(tmp_path, framework, factory):
    """xlalens.capture takes the user's own step in each framework and verifies it by replay."""
    import xlalens

    cap = xlalens.capture(framework, target=f"{TARGET}:{factory}", out=tmp_path / "d")
    assert cap.outputs_match is True, cap.entry.get("verify_error")
    assert cap.stablehlo.startswith(("module", "#loc")) and "HloModule" in cap.hlo


def test_target_needs_one_framework_family(tmp_path, capsys):
    """--target with all frameworks, or with two families, is refused with one line."""
    assert main(["dump", "--target", f"{TARGET}:make_step", "-o", str(tmp_path / "d")]) == 2
    assert "one family" in capsys.readouterr().err
    argv = ["dump", "--frameworks", "jax,torchax", "--target", f"{TARGET}:make_step"]
    assert main([*argv, "-o", str(tmp_path / "d")]) == 2
    err = capsys.readouterr().err
    assert "keras-tensorflow,keras-jax" in err and "torch_xla,torchax" in err


def test_missing_dot_still_writes_the_dump(tmp_path, monkeypatch, capsys):
    """Without graphviz's `dot`: one line saying how to install it, exit 2, the dump still written."""
    monkeypatch.setenv("XLALENS_DOT", str(tmp_path / "no-dot-here"))
    rc = main(["dump", "--frameworks", "jax", "-o", str(tmp_path / "d")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2
    assert err[-1].startswith("xlalens dump: error:") and "apt-get install graphviz" in err[-1]
    manifest = json.loads((tmp_path / "d/manifest.json").read_text())
    assert manifest["frontends"]["jax"]["outputs_match"] is True
    assert manifest["steps"]["report"]["status"] == "failed"
    assert manifest["steps"]["graphs"]["status"] == "ok"
    assert (tmp_path / "d/jax/stablehlo.mlir").is_file()
