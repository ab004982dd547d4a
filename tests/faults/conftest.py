"""Helpers of the fault-injection suite: a good dump, tree hashes, CLI runs, signals.

Every case runs the real ``xlalens`` CLI in its own process (signals and kill -9
need a process of their own) on a copy of the checked-in regression dump, and
compares the dump's files byte by byte before and after.
"""

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DUMP = REPO / "tests" / "core" / "data" / "dumps" / "regression"


def tree(folder: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file under ``folder`` (hidden ones too)."""
    out = {}
    for path in sorted(Path(folder).rglob("*")):
        if path.is_file():
            out[str(path.relative_to(folder))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def env(**extra: str) -> dict[str, str]:
    """The environment of a CLI run: this tree first on the path, quiet jax on the CPU."""
    e = dict(os.environ)
    e["PYTHONPATH"] = os.pathsep.join([str(REPO), e.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    e.setdefault("JAX_PLATFORMS", "cpu")
    e.update(extra)
    return e


def start(args: list[str], **extra: str) -> subprocess.Popen:
    """Start ``xlalens ARGS`` (stdout and stderr kept)."""
    return subprocess.Popen(
        [sys.executable, "-m", "xlalens", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env(**extra),
    )


def run(args: list[str], timeout: float = 240, **extra: str) -> subprocess.CompletedProcess:
    """Run ``xlalens ARGS`` to the end."""
    proc = start(args, **extra)
    out, err = proc.communicate(timeout=timeout)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def wait_for(predicate, timeout: float = 120.0) -> None:
    """Poll ``predicate`` until true (fails the test past ``timeout``)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {predicate.__doc__ or predicate}")
        time.sleep(0.05)


def children_of(marker: str) -> list[str]:
    """Command lines of live processes that mention ``marker`` (a test's own tmp path)."""
    found = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (d / "stat").read_text().split(") ", 1)[1][:1]
        except OSError:
            continue
        if marker in cmd and state != "Z":
            found.append(cmd)
    return found


def interrupt(proc: subprocess.Popen, signum: int) -> tuple[float, str]:
    """Send ``signum``; returns (seconds until the command exited, its stderr)."""
    t0 = time.monotonic()
    proc.send_signal(signum)
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        pytest.fail(f"still running 30 s after {signal.Signals(signum).name}")
    return time.monotonic() - t0, err


def error_lines(stderr: str) -> list[str]:
    """The lines of stderr that are xlalens's own messages (not the frameworks' logs)."""
    return [ln for ln in stderr.splitlines() if ln.startswith("xlalens")]


@pytest.fixture
def good(tmp_path):
    """A copy of the checked-in regression dump (every frontend captured ok)."""
    dst = tmp_path / "good"
    shutil.copytree(DUMP, dst)
    return dst
