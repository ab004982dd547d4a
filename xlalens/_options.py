"""Checks of the numeric options that several commands share (ground floor).

Every command checks its numbers before any work starts (issue 22), with one
message naming the option or environment variable, what it expects and an example.
"""

from __future__ import annotations

import os

from xlalens._errors import UsageError


def check_jobs(jobs: int | None) -> int:
    """``--jobs`` (or ``XLALENS_JOBS``): at least 1; None means the core count.

    Raises:
        UsageError: 0, a negative number or a non-number.
    """
    if jobs is None:
        raw = os.environ.get("XLALENS_JOBS", "")
        if not raw:
            return os.cpu_count() or 1
        try:
            jobs = int(raw)
        except ValueError:
            raise UsageError(
                f"XLALENS_JOBS={raw!r}: expected a whole number >= 1, e.g. 2"
            ) from None
    if jobs < 1:
        raise UsageError(
            f"--jobs {jobs}: expected a whole number >= 1 (frontends run at once), e.g. 2"
        )
    return jobs


def check_timeout(timeout: float | None, env: str, default: float) -> float:
    """A timeout in seconds (> 0, finite) from the option, else ``env``, else ``default``.

    Raises:
        UsageError: 0, a negative, an infinite or a non-number, naming where it came from.
    """
    where = f"--timeout {timeout:g}" if timeout is not None else "--timeout"
    if timeout is None:
        raw = os.environ.get(env)
        if not raw:
            return default
        where = f"{env}={raw!r}"
        try:
            timeout = float(raw)
        except ValueError:
            timeout = float("nan")
    if not (0 < timeout < float("inf")):
        raise UsageError(f"{where}: expected seconds > 0, e.g. {default:g}")
    return float(timeout)
