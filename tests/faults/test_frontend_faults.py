"""Faults in `dump` and `passes` (the jax frontend's subprocess): kills, interrupts, failed re-runs, temp files."""

import json
import os
import random
import signal
import time
from pathlib import Path

import pytest

from tests.faults.conftest import children_of, error_lines, interrupt, run, start, tree, wait_for

pytestmark = pytest.mark.frontends

SEED = int(os.environ.get("XLALENS_FAULT_SEED", random.randrange(1 << 30)))
RNG = random.Random(SEED)


def _frontend_started(marker: str):
    def started() -> bool:
        """a frontend subprocess to start"""
        return any("xlalens.frontends.fe_jax" in c for c in children_of(marker))

    return started


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGINT, signal.SIGTERM])
def test_dump_killed_or_interrupted_keeps_the_earlier_dump(good, signum):
    """kill -9, Ctrl-C or SIGTERM while the jax frontend runs: the earlier dump is byte-identical."""
    before = tree(good)
    proc = start(["dump", "--frameworks", "jax", "-o", good])
    wait_for(_frontend_started(str(good.parent)))
    delay = RNG.uniform(0.0, 1.5)
    time.sleep(delay)
    took, err = interrupt(proc, signum)
    where = f"(seed {SEED}, {signal.Signals(signum).name} {delay:.2f} s into the frontend)"
    assert tree(good) == before, where
    time.sleep(0.2)  # pdeathsig / killpg land asynchronously
    assert not children_of(str(good.parent)), where
    if signum != signal.SIGKILL:
        assert proc.returncode == 128 + signum, where
        assert took < 2.0, f"exited {took:.2f} s after the signal {where}"
        lines = error_lines(err)
        assert len(lines) == 1 and f"({signal.Signals(signum).name}); " in lines[0], err
        assert f"{good} kept as it was" in lines[0], lines
        assert not (good.parent / ".good.staging").exists()


def test_failed_rerun_keeps_the_dump(good, tmp_path):
    """A re-run whose only frontend fails keeps the dump (exit 1) and leaves nothing beside it."""
    bad = tmp_path / "bad_step.py"
    bad.write_text("def raises():\n    raise RuntimeError('user code failed')\n")
    before = tree(good)
    r = run(["dump", "--frameworks", "jax", "--target", f"{bad}:raises", "-o", good])
    assert r.returncode == 1, r.stderr
    lines = error_lines(r.stderr)
    assert len(lines) == 1 and "the earlier dump at" in lines[0] and "kept unchanged" in lines[0]
    assert "RuntimeError: user code failed" in r.stdout
    assert tree(good) == before
    assert sorted(p.name for p in good.parent.iterdir()) == ["bad_step.py", "good"]


def test_failed_frontend_rerun_command_names_the_dump(tmp_path):
    """A failed frontend's reason names its folder in the dump, which holds its request."""
    bad = tmp_path / "bad_step.py"
    bad.write_text("def raises():\n    raise RuntimeError('x')\n")
    out = tmp_path / "new"
    r = run(["dump", "--frameworks", "jax", "--target", f"{bad}:raises", "-o", out])
    assert r.returncode == 1
    reason = json.loads((out / "manifest.json").read_text())["frontends"]["jax"]["reason"]
    command = next(ln for ln in reason.splitlines() if ln.startswith("command: "))
    assert str(out.resolve() / "jax" / "request.json") in command
    assert (out / "jax" / "request.json").is_file()


def test_passes_interrupted_keeps_the_dump(good):
    """Ctrl-C during `passes`' re-run: exit within 2 s, the dump byte-identical, no child left."""
    before = tree(good)
    proc = start(["passes", good, "--frontend", "jax"])
    wait_for(_frontend_started(str(good.parent)))
    time.sleep(RNG.uniform(0.0, 1.0))
    took, err = interrupt(proc, signal.SIGINT)
    assert proc.returncode == 130, err
    assert took < 2.0, f"exited {took:.2f} s after SIGINT (seed {SEED})"
    assert tree(good) == before
    time.sleep(0.2)
    assert not children_of(str(good.parent))


def test_time_native_rounds_leave_no_temp_files(good, tmp_path):
    """`time` with native rounds writes the frameworks' temp files into folders it removes."""
    tmp = tmp_path / "system-tmp"
    tmp.mkdir()
    r = run(
        ["time", good, "--frontend", "jax", "--no-profile", "--min-time", "0.05"],
        TMPDIR=str(tmp),
    )
    assert r.returncode == 0, r.stderr
    assert "native step" in r.stdout
    assert list(Path(tmp).iterdir()) == []
