"""Running graphviz's ``dot``: finding it, quoting for it, and laying out many graphs fast."""

from __future__ import annotations

import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor

from xlalens._errors import XlalensError

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
