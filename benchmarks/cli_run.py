"""The one way a benchmark runs the ``xlalens`` command: a child process, timed.

Benchmarks measure what a user runs, so they start ``python -m xlalens`` as a user
would, with this checkout first on ``PYTHONPATH``. The CPU time is the child's user
plus system time (``RUSAGE_CHILDREN`` around the run), which includes the processes
it starts itself (the render's ``dot``); on a shared machine that is the figure a
target is judged on, with wall time beside it.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class CliRun:
    """One run of the command."""

    returncode: int
    """The exit status; -1 when it was stopped at the timeout."""
    stdout: str
    stderr: str
    cpu_s: float
    """User + system seconds of the child and its own children."""
    wall_s: float
    timed_out: bool

    @property
    def text(self) -> str:
        """Everything it printed (stdout, then stderr)."""
        return self.stdout + self.stderr


def run_cli(args: list[str], timeout: float | None = None) -> CliRun:
    """Run ``python -m xlalens ARGS`` with this checkout first on the path.

    ``JAX_PLATFORMS`` defaults to ``cpu``. A run past ``timeout`` seconds is killed
    and returned with ``timed_out`` set (its output so far is not kept).

    Example:
        >>> run = run_cli(["stats", "model.hlo.txt"])  # doctest: +SKIP
        >>> run.returncode, run.cpu_s  # doctest: +SKIP
    """
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    env.setdefault("JAX_PLATFORMS", "cpu")
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "xlalens", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
            check=False,
        )
        rc, out, err, timed_out = proc.returncode, proc.stdout, proc.stderr, False
    except subprocess.TimeoutExpired as exc:
        rc, out, err, timed_out = -1, "", f"timed out after {timeout:.0f} s: {exc.cmd}", True
    wall = time.perf_counter() - start
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    return CliRun(rc, out, err, cpu, wall, timed_out)
