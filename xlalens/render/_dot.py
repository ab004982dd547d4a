"""Running graphviz's ``dot``: finding it, quoting for it, and laying out many graphs fast."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from xlalens._errors import XlalensError
from xlalens.render import _budget

INSTALL_HINT = (
    "graphviz's `dot` was not found on PATH; install it with `apt-get install graphviz` "
    "(macOS: `brew install graphviz`), or set XLALENS_DOT to its path"
)

# NOTE: [one dot process per graph] Laying out several graphs in one `dot`
# process would save ~20 ms of start-up each, but graphviz 2.43 then emits the
# clusters of later graphs in an order that changes from run to run (it depends
# on heap addresses), which breaks byte-identical output. So: one process each,
# run in parallel.


class GraphvizNotFound(XlalensError):
    """Graphviz's ``dot`` is not installed; the message says how to install it."""


_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


class _Missed(Exception):
    """``dot`` ran past a layout deadline (internal: triggers the cheaper mode)."""


def find_dot() -> str:
    """Path of the ``dot`` executable (``$XLALENS_DOT`` first, then ``PATH``).

    Raises:
        GraphvizNotFound: with the one line that says how to install graphviz.
    """
    env = os.environ.get("XLALENS_DOT")
    if env:
        if os.path.isfile(env) and os.access(env, os.X_OK):
            return env
        raise GraphvizNotFound(f"XLALENS_DOT={env!r} is not an executable; {INSTALL_HINT}")
    found = shutil.which("dot")
    if not found:
        raise GraphvizNotFound(INSTALL_HINT)
    return found


def quote(text: str) -> str:
    """A DOT double-quoted string; backslashes are doubled so graphviz's escapes
    (``\\n``, ``\\N``, ``\\G``) never fire on user text."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) of a running process, from /proc; None where there is none."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICKS
    except (OSError, ValueError, IndexError):
        return None


def _run_cpu_deadline(dot: str, source: str, limit: float) -> tuple[str, float]:
    """Run dot, killing it once it has used ``limit`` seconds of CPU.

    Returns:
        (SVG text, dot's CPU seconds, user + system, from ``wait4``).

    NOTE: [deadline in CPU time] The deadline counts dot's own CPU time, not the
    wall clock, so that a busy machine (other processes, the other dot workers)
    does not push views into the cheaper mode and make output depend on load.
    A wall-clock cap of 10x the deadline (plus 30 s) still bounds a starved run.
    """
    proc = subprocess.Popen(
        [dot, "-Tsvg"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    result: dict[str, object] = {}

    def drain_err() -> None:
        result["err"] = proc.stderr.read()

    def talk() -> None:
        # Reaped with wait4 (not communicate) to read the child's own CPU time.
        err = threading.Thread(target=drain_err, daemon=True)
        err.start()
        try:
            proc.stdin.write(source.encode())
            proc.stdin.close()
        except BrokenPipeError:  # killed, or dot stopped reading: the status says which
            pass
        result["out"] = proc.stdout.read()
        err.join()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        result["cpu"] = usage.ru_utime + usage.ru_stime

    th = threading.Thread(target=talk, daemon=True)
    th.start()
    start = time.perf_counter()
    while th.is_alive():
        th.join(0.05)
        if not th.is_alive():
            break
        cpu = _cpu_seconds(proc.pid)
        wall = time.perf_counter() - start
        if (
            (cpu is not None and cpu > limit)
            or wall > 10 * limit + 30
            or (cpu is None and wall > limit)
        ):
            proc.kill()
            th.join()
            raise _Missed()
    if proc.returncode != 0:
        tail = bytes(result.get("err") or b"").decode(errors="replace").strip().splitlines()[-3:]
        raise XlalensError(f"dot failed (exit {proc.returncode}): {' | '.join(tail)}")
    return bytes(result["out"]).decode(), float(result["cpu"])


def _run(dot: str, source: str, timeout: float) -> str:
    try:
        proc = subprocess.run(
            [dot, "-Tsvg"],
            input=source.encode(),
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise XlalensError(
            f"dot did not finish a layout in {timeout:.0f} s; lower the node budget "
            "(--budget / budget=) or use --collapse auto"
        ) from exc
    if proc.returncode != 0:
        tail = proc.stderr.decode(errors="replace").strip().splitlines()[-3:]
        raise XlalensError(f"dot failed (exit {proc.returncode}): {' | '.join(tail)}")
    return proc.stdout.decode()


def layout(sources: list[str], *, timeout: float = 300.0, workers: int | None = None) -> list[str]:
    """Lay out DOT sources as SVG text, in the order given.

    One ``dot`` process per source, run in parallel (one worker per CPU, at
    most 4).

    Args:
        sources: DOT graphs.
        timeout: seconds allowed to each ``dot`` process.
        workers: parallel ``dot`` processes (default: CPU count, at most 4).

    Returns:
        One SVG document (text) per source.

    Raises:
        GraphvizNotFound: ``dot`` is missing.

    Example:
        >>> layout(["digraph { a -> b }"])[0].startswith("<?xml")  # doctest: +SKIP
        True
    """
    if not sources:
        return []
    dot = find_dot()
    n = workers or min(4, os.cpu_count() or 1)
    if n <= 1 or len(sources) == 1:
        return [_run(dot, src, timeout) for src in sources]
    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(lambda src: _run(dot, src, timeout), sources))


@dataclass(frozen=True, slots=True)
class LayoutJob:
    """One view to lay out: its DOT source, the cheaper source, and its deadline."""

    source: str
    """DOT source of the view as planned (clusters, :data:`_budget.LIMITS`)."""
    cheap: Callable[[], str]
    """Makes the DOT source of the same view in the cheaper mode (no clusters,
    tighter limits), only when needed; its caption holds the placeholder the
    reason is written into."""
    deadline: float
    """Seconds ``dot`` may take on ``source`` before ``cheap`` is used instead."""


@dataclass(frozen=True, slots=True)
class Layout:
    """What laying out one view gave."""

    svg: str
    """The SVG document."""
    mode: str
    """``"full"``, ``"cheap"`` (no frames, tight limits) or ``"bare"`` (cheap, edges dropped)."""
    seconds: float
    """Wall time spent in ``dot`` for this view, fallbacks included."""
    cpu: float
    """``dot``'s own CPU seconds for the layout that was kept (a busy machine
    stretches ``seconds``, not this; the deadline counts it)."""
    features: _budget.Features
    """Size of the planned view."""
    predicted: float
    """Seconds :func:`_budget.predict` expected for the planned view."""
    reason: str
    """Why the cheaper mode was used ("" for ``full``)."""


# The placeholder a view's cheap-layout note carries (render/_view.py CHEAP_NOTE); the
# layout fills in why the full layout was not used.
REASON = "@@XL_REASON@@"
# Predicted this many times over the deadline: do not even try the full layout
# (the model overestimates more often than it underestimates; docs/render.md).
_HOPELESS = 1.5
_EDGE_LINE = re.compile(r'^\s*"[^"]*(?:\\.[^"]*)*"\s*->')


def _one(dot: str, job: LayoutJob) -> Layout:
    feats = _budget.features(job.source)
    pred = _budget.predict(feats)
    start = time.perf_counter()
    if pred > _HOPELESS * job.deadline:
        reason = f"predicted {pred:.0f} s for {feats.nodes} nodes / {feats.clusters} frames, over the {job.deadline:g} s deadline"
    else:
        try:
            svg, cpu = _run_cpu_deadline(dot, job.source, job.deadline)
            return Layout(svg, "full", time.perf_counter() - start, cpu, feats, pred, "")
        except _Missed:
            reason = f"the full layout missed its {job.deadline:g} s deadline"
    cheap_src = job.cheap()
    cheap = cheap_src.replace(REASON, reason)
    # The cheaper mode gets three deadlines of CPU time; past that, the edges go.
    try:
        svg, cpu = _run_cpu_deadline(dot, cheap, 3 * job.deadline)
        return Layout(svg, "cheap", time.perf_counter() - start, cpu, feats, pred, reason)
    except _Missed:
        reason += "; the cheaper layout also missed, so edges are not drawn (see tooltips)"
    bare = "\n".join(
        line
        for line in cheap_src.replace(REASON, reason).splitlines()
        if not _EDGE_LINE.match(line)
    )
    svg, cpu = _run_cpu_deadline(dot, bare, 300.0)
    return Layout(svg, "bare", time.perf_counter() - start, cpu, feats, pred, reason)


def layout_views(jobs: list[LayoutJob], *, workers: int | None = None) -> list[Layout]:
    """Lay out views under their deadlines, falling back to the cheaper mode on a miss.

    A view predicted far over its deadline goes to the cheaper mode at once; one
    that misses the deadline is killed and laid out again in the cheaper mode,
    whose caption says why. Never raises for slowness.

    Args:
        jobs: the views.
        workers: parallel ``dot`` processes (default: CPU count, at most 4).

    Returns:
        One :class:`Layout` per job, in order.

    Raises:
        GraphvizNotFound: ``dot`` is missing.

    Example:
        >>> layout_views([LayoutJob("digraph { a -> b }", lambda: "digraph { a }", 2.0)])[0].mode  # doctest: +SKIP
        'full'
    """
    if not jobs:
        return []
    dot = find_dot()
    n = workers or min(4, os.cpu_count() or 1)
    if n <= 1 or len(jobs) == 1:
        return [_one(dot, j) for j in jobs]
    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(lambda j: _one(dot, j), jobs))
