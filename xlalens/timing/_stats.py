"""Step-time statistics and the calibration of how many repeats to run."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from xlalens._errors import UsageError

CV_WARN = 0.05
"""Coefficient of variation above which a result carries a warning (issue 6: 5%)."""


@dataclass(frozen=True, slots=True)
class StepStats:
    """Summary of repeated wall-clock measurements of one step, in seconds."""

    n: int
    """Number of timed repeats."""
    min_s: float
    """Fastest repeat."""
    median_s: float
    """Median repeat: the number xlalens reports as *the* step time."""
    mean_s: float
    """Arithmetic mean."""
    p90_s: float
    """90th percentile (linear interpolation)."""
    iqr_s: float
    """Interquartile range, p75 - p25."""
    std_s: float
    """Sample standard deviation (ddof=1; 0 for n=1)."""
    cv: float
    """Coefficient of variation, std / mean (what the 5% warning checks)."""
    cv_robust: float
    """IQR / 1.349 / median: the CV a normal distribution with this IQR would have; one
    outlier (a page fault, another process) moves ``cv`` a lot and this hardly at all."""
    warmup: int
    """Untimed runs before the timed ones."""

    def as_dict(self) -> dict[str, float | int]:
        """Plain dict for the JSON edge."""
        return {f: getattr(self, f) for f in self.__slots__}


def step_stats(samples: Sequence[float], *, warmup: int = 0) -> StepStats:
    """Summarize timed repeats.

    Args:
        samples: seconds per repeat (at least one).
        warmup: how many untimed runs preceded them (recorded, not used).

    Returns:
        The :class:`StepStats`.

    Raises:
        UsageError: ``samples`` is empty.

    Example:
        >>> step_stats([1.0, 2.0, 3.0, 4.0]).median_s
        2.5
    """
    a = np.asarray(samples, dtype=np.float64)
    if a.size == 0:
        raise UsageError("step_stats needs at least one sample; run the step with --repeat >= 1")
    mean = float(a.mean())
    std = float(a.std(ddof=1)) if a.size > 1 else 0.0
    p25, p50, p75, p90 = (float(v) for v in np.percentile(a, [25, 50, 75, 90]))
    return StepStats(
        n=int(a.size),
        min_s=float(a.min()),
        median_s=p50,
        mean_s=mean,
        p90_s=p90,
        iqr_s=p75 - p25,
        std_s=std,
        cv=std / mean if mean > 0 else 0.0,
        cv_robust=(p75 - p25) / 1.349 / p50 if p50 > 0 else 0.0,
        warmup=warmup,
    )


def calibrate(estimate_s: float, *, min_time_s: float, min_n: int = 10, max_n: int = 2000) -> int:
    """How many repeats fill ``min_time_s`` given one step's estimated seconds.

    Args:
        estimate_s: seconds of one step, from the warmup.
        min_time_s: total measuring time to aim for.
        min_n: never fewer repeats (statistics need a sample).
        max_n: never more (tiny steps would otherwise run for ever in Python).

    Returns:
        The repeat count.

    Example:
        >>> calibrate(0.04, min_time_s=1.0)
        25
    """
    if estimate_s <= 0:
        return max_n
    return int(min(max_n, max(min_n, math.ceil(min_time_s / estimate_s))))


def time_calls(
    fn: Callable[[], object], n: int, *, before: Callable[[], object] | None = None
) -> list[float]:
    """Wall seconds of ``n`` calls of ``fn`` (which must wait for its results).

    Args:
        fn: one step, blocking until its outputs are ready.
        n: repeats.
        before: run untimed before each call (fresh inputs for donated buffers).

    Returns:
        The seconds of each call.

    Example:
        >>> len(time_calls(lambda: None, 3))
        3
    """
    out = []
    clock = time.perf_counter
    for _ in range(n):
        if before is not None:
            before()
        t0 = clock()
        fn()
        out.append(clock() - t0)
    return out


def warm_up(
    fn: Callable[[], object],
    n: int | None,
    *,
    min_time_s: float,
    before: Callable[[], object] | None = None,
) -> tuple[list[float], float]:
    """Warm-up runs before calibration, and the step estimate from them.

    ``n`` runs when given; else 2, then doubling until ``min_time_s`` is spent
    (at most about 200 runs). The estimate is the median of the later half: the
    first runs pay for caches and lazy initialization.

    Example:
        >>> len(warm_up(lambda: None, 3, min_time_s=0.0)[0])
        3
    """
    wt = time_calls(fn, n if n is not None else 2, before=before)
    while n is None and sum(wt) < min_time_s and len(wt) < 200:
        wt += time_calls(fn, max(1, len(wt)), before=before)
    return wt, float(np.median(wt[len(wt) // 2 :])) if wt else 0.0


def block_share(n: int, b: int, blocks: int) -> int:
    """The size of block ``b`` when ``n`` runs are split into ``blocks`` near-equal blocks.

    Example:
        >>> [block_share(7, b, 3) for b in range(3)]
        [2, 2, 3]
    """
    return n * (b + 1) // blocks - n * b // blocks
