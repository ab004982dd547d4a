"""The CLI is quiet and consistent: --version, -v, broken pipes, defaults in --help, --target first."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from xlalens.cli import main

REPO = Path(__file__).resolve().parents[2]
CONTROL_FLOW = REPO / "tests/core/data/stablehlo/control_flow.mlir"
ENV = {**os.environ, "PYTHONPATH": str(REPO)}
ENV.pop("TF_CPP_MIN_LOG_LEVEL", None)


def _cli(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "xlalens", *args], env=ENV, capture_output=True, text=True, **kw
    )


def test_version():
    """`xlalens --version` prints the package version and exits 0."""
    from xlalens import __version__

    r = _cli("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"xlalens {__version__}"


def test_help_shows_defaults(capsys):
    """Options with a default say it in --help (time --min-time 1.0, --top 3)."""
    with pytest.raises(SystemExit):
        main(["time", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "(default: 1.0)" in out and "(default 3)" in out


def test_broken_pipe_is_quiet():
    """`xlalens stats X | true`: the reader is gone; no traceback, exit 0."""
    p = subprocess.Popen(
        [sys.executable, "-m", "xlalens", "stats", str(CONTROL_FLOW)],
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    p.stdout.close()  # like `| head -0`: nobody reads
    err = p.stderr.read().decode()
    assert p.wait() == 0, err
    assert "Traceback" not in err and "BrokenPipe" not in err


def test_xla_logs_silenced_unless_verbose(tmp_path):
    """A PJRT compile logs pjrt_client.cc INFO lines only with -v."""
    from tests.core.test_timing import make_dump

    dump = make_dump(tmp_path / "d", size=8)
    args = (
        "time",
        str(dump),
        "--no-profile",
        "--no-native",
        "--min-time",
        "0.01",
        "--frontend",
        "jax",
    )
    quiet = _cli(*args)
    assert "pjrt_client.cc" not in quiet.stderr, quiet.stderr[-2000:]
    loud = _cli("-v", *args)
    assert "pjrt_client.cc" in loud.stderr


@pytest.mark.parametrize(
    "target, needle",
    [
        ("nofile.py:make", "file nofile.py does not exist"),
        (f"{REPO}/tests/frontends/user_steps.py:nope", "defines no 'nope'"),
        ("no_such_module_xyz:make", "no Python module 'no_such_module_xyz'"),
        ("justaname", "expected MODULE:FUNCTION"),
    ],
)
def test_bad_target_exits_2_before_any_work(tmp_path, capsys, target, needle):
    """A bad --target is one line, exit 2, and no dump folder is written."""
    rc = main(["dump", "--frameworks", "jax", "--target", target, "-o", str(tmp_path / "d")])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and needle in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "d").exists() and not list(tmp_path.iterdir())


def test_frontend_takes_a_comma_list(tmp_path, capsys):
    """`time --frontend jax,nope` names the missing one; a list is parsed like --frameworks."""
    from tests.core.test_timing import make_dump

    dump = make_dump(tmp_path / "d", size=8)
    assert main(["time", str(dump), "--frontend", "jax,nope", "--no-native"]) == 2
    assert "--frontend nope" in capsys.readouterr().err
