"""Faults in `compile` and `time` (jax only): kills, interrupts, failures, races, full disk, read-only."""

import errno
import json
import os
import random
import shutil
import signal
import stat

import pytest

from tests.faults.conftest import (
    DUMP,
    children_of,
    error_lines,
    interrupt,
    run,
    start,
    tree,
    wait_for,
)

SEED = int(os.environ.get("XLALENS_FAULT_SEED", random.randrange(1 << 30)))
RNG = random.Random(SEED)
COMPILE = ["compile", None, "--target", "cpu", "--frontend", "jax", "--no-codegen", "--no-diff"]
TIME = ["time", None, "--frontend", "jax", "--no-native", "--no-profile", "--min-time", "0.02"]


def _args(template, dump):
    return [dump if a is None else a for a in template]


def _locked(dump):
    lock = dump.parent / f".{dump.name}.lock"
    return lambda: lock.exists()


@pytest.fixture(scope="module")
def _compiled_once(tmp_path_factory):
    """The regression dump with a good cpu compile and cpu timing, made once."""
    folder = tmp_path_factory.mktemp("compiled") / "good"
    shutil.copytree(DUMP, folder)
    r = run(_args(COMPILE, folder))
    assert r.returncode == 0, r.stderr
    r = run(_args(TIME, folder))
    assert r.returncode == 0, r.stderr
    return folder


@pytest.fixture
def compiled(_compiled_once, tmp_path):
    """A fresh copy of the compiled and timed dump."""
    dst = tmp_path / "good"
    shutil.copytree(_compiled_once, dst)
    return dst


@pytest.mark.parametrize("command", ["compile", "time"])
@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGINT])
def test_killed_or_interrupted_leaves_results_byte_identical(compiled, command, signum):
    """kill -9 or Ctrl-C at a random point of `compile`/`time`: every file as before."""
    before = tree(compiled)
    proc = start(_args(COMPILE if command == "compile" else TIME, compiled))
    wait_for(_locked(compiled))
    delay = RNG.uniform(0.0, 2.5)
    __import__("time").sleep(delay)
    took, err = interrupt(proc, signum)
    where = f"(seed {SEED}, {signal.Signals(signum).name} after {delay:.2f} s)"
    if proc.returncode == 0 or "finished before it" in err:
        # It committed its results first: a complete result is fine, a torn one is not.
        json.loads(
            (
                compiled / ("targets/cpu.json" if command == "compile" else "timing/cpu.json")
            ).read_text()
        )
        return
    after = tree(compiled)
    if signum == signal.SIGKILL and after != before:
        # kill -9 in the interpreter's exit, after the commit (XLA's C++ teardown takes
        # ~0.3 s): nothing can say "finished before it", so the folder must show that it
        # committed whole: the same files as before, every JSON complete.
        assert set(after) == set(before), where
        for name in after:
            if name.endswith(".json"):
                json.loads((compiled / name).read_text())
        return
    assert after == before, where
    assert not (compiled.parent / ".good.staging").exists() or signum == signal.SIGKILL, where
    assert not children_of(str(compiled)), where
    if signum == signal.SIGINT:
        assert proc.returncode == 130, where
        assert took < 2.0, f"exited {took:.2f} s after the signal {where}"
        lines = error_lines(err)
        assert len(lines) == 1 and "interrupted (SIGINT)" in lines[0], err
        assert "kept as it was" in lines[0] or "nothing was written" in lines[0], lines
    if signum != signal.SIGKILL or command != "compile":
        return  # one re-run shows the clean-up; it is the same code for every command
    # The next run cleans what the killed one left and lands.
    r = run(_args(COMPILE if command == "compile" else TIME, compiled))
    assert r.returncode == 0, r.stderr
    assert not (compiled.parent / ".good.staging").exists()
    assert not (compiled.parent / ".good.lock").exists()


def test_failed_compile_keeps_the_good_record(compiled):
    """A compile that fails (timeout) leaves targets/ byte-identical; the attempt is in failed/."""
    before = tree(compiled)
    r = run(_args(COMPILE, compiled), XLALENS_TARGET_TIMEOUT="0.01")
    assert r.returncode == 1
    after = tree(compiled)
    assert {k: v for k, v in after.items() if not k.startswith("failed/")} == before
    rec = json.loads((compiled / "failed" / "compile-cpu.json").read_text())
    assert rec["status"] == "failed" and "ran past 0.01 s" in rec["reason"]
    assert "the earlier compile was kept" in r.stdout


@pytest.mark.parametrize(
    "argv, needle",
    [
        (
            ["compile", "{d}", "--target", "cpu", "--timeout", "-1"],
            "--timeout -1: expected seconds > 0",
        ),
        (["compile", "{d}", "--target", "tpu-v5e:3x3"], "must be a multiple of the host's 2x2"),
        (["time", "{d}", "--top", "-1"], "--top -1"),
        (["time", "{d}/jax/hlo.txt"], "is a file of the dump"),
        (["passes", "{d}", "--jobs", "0"], "--jobs 0"),
        (["dump", "--jobs", "0", "-o", "{d}"], "--jobs 0"),
        (["dump", "--timeout", "-1", "-o", "{d}"], "--timeout"),
        (["dump", "--workload", "mlp", "--depth", "100000", "-o", "{d}"], "limit 256"),
        (["dump", "--target", "x.py:f", "--workload", "mlp", "-o", "{d}"], "--workload sets"),
        (["render", "{d}:jax", "-o", "/nonexistent/x.svg"], "does not exist"),
        (["diff", "{d}:jax", "{d}:jax", "-o", "/nonexistent/x.txt"], "does not exist"),
        (["stats", "{d}/manifest.json"], "manifest.json: this is a dump's manifest"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_changes_nothing(good, argv, needle, capsys):
    """Each refused option or path: exit 2, one line naming it, the dump unchanged."""
    from xlalens.cli import main

    before = tree(good)
    assert main([a.replace("{d}", str(good)) for a in argv]) == 2
    err = capsys.readouterr().err
    lines = error_lines(err)
    assert len(lines) == 1 and needle in lines[0], err
    assert tree(good) == before
    assert not os.path.exists("/nonexistent")


def test_two_writers_wait_refuse_or_both_land(compiled):
    """While `compile` holds the lock: a no-wait writer is refused naming it; a waiting one lands."""
    first = start(_args(COMPILE, compiled))
    wait_for(_locked(compiled))
    refused = run(_args(TIME, compiled), XLALENS_LOCK_WAIT="0")
    waited = start(_args(TIME, compiled), XLALENS_LOCK_WAIT="120")
    _, err1 = first.communicate(timeout=240)
    _, err2 = waited.communicate(timeout=240)
    assert first.returncode == 0, err1
    assert refused.returncode == 2
    lines = error_lines(refused.stderr)
    assert len(lines) == 1 and "is being written by pid" in lines[0], refused.stderr
    assert "xlalens compile" in lines[0]
    assert waited.returncode == 0, err2
    assert "waiting up to 120 s" in err2
    # Both results landed, whole.
    assert json.loads((compiled / "targets" / "cpu.json").read_text())["status"] == "ok"
    assert (
        json.loads((compiled / "timing" / "cpu.json").read_text())["frontends"]["jax"]["status"]
        == "ok"
    )


def test_full_disk_at_write_changes_nothing(compiled, monkeypatch, capsys):
    """ENOSPC injected at the first write of `compile`: one line, exit 2, dump byte-identical."""
    from xlalens.cli import main
    from xlalens.dumpdir import _txn

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    before = tree(compiled)
    monkeypatch.setattr(_txn.os, "fsync", full)
    assert main(_args(COMPILE, str(compiled))) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "No space left on device" in err[0] and "unchanged" in err[0], err
    assert tree(compiled) == before
    assert not (compiled.parent / ".good.staging").exists()


def test_read_only_dump_is_refused(compiled, capsys):
    """A dump with its write bits removed: compile and time refuse in one line; nothing changes."""
    before = tree(compiled)
    mode = compiled.stat().st_mode
    compiled.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    try:
        from xlalens.cli import main

        for argv in (_args(COMPILE, str(compiled)), _args(TIME, str(compiled))):
            assert main(argv) == 2
            err = capsys.readouterr().err
            lines = error_lines(err)
            assert len(lines) == 1 and "read-only" in lines[0], err
    finally:
        compiled.chmod(mode)
    assert tree(compiled) == before
