"""Verdicts from measured intervals: the records and the rule the findings share.

NOTE: [when a difference counts] (in :mod:`xlalens.timing._findings`) applies: two
times differ only when their spreads do not overlap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Interval:
    """A measured time and its spread (median ± IQR/2), in seconds."""

    median: float
    """Median seconds."""
    low: float
    """median - IQR/2."""
    high: float
    """median + IQR/2."""

    def below(self, other: Interval) -> bool:
        """Significantly faster than ``other`` (the spreads do not overlap)."""
        return self.high < other.low

    ranged: bool = False
    """Print as ``median (low..high)``: a spread that is a range, not median ± IQR/2."""

    def text(self) -> str:
        """``1.23 ms ± 0.05`` (or ``+0.21 ms (rounds +0.2..+0.22)`` when ``ranged``)."""
        if self.ranged:
            return (
                f"{self.median * 1e3:+.4g} ms (rounds {self.low * 1e3:+.3g}.."
                f"{self.high * 1e3:+.3g})"
            )
        return f"{self.median * 1e3:.4g} ms ± {(self.high - self.low) / 2 * 1e3:.2g}"


@dataclass(frozen=True, slots=True)
class Claim:
    """One claim with its two verdicts (NOTE: [two questions per claim])."""

    text: str
    """The claim as the seed states it (a user step: which frontends are compared)."""
    test: str
    """What was compared."""
    verdict: str
    """The XLA verdict (compiled steps): ``supported``, ``not supported``, ``mixed`` or
    ``no verdict: ...``."""
    evidence: str
    """The numbers behind the XLA verdict."""
    framework_verdict: str = "no verdict: not measured"
    """The framework verdict (native minus compiled: dispatch, tracing)."""
    framework_evidence: str = ""
    """The numbers behind the framework verdict."""


def _interval(stats: dict[str, Any] | None) -> Interval | None:
    if not stats or stats.get("median_s") is None:
        return None
    m, iqr = float(stats["median_s"]), float(stats.get("iqr_s") or 0.0)
    return Interval(m, m - iqr / 2, m + iqr / 2)


def _compare(pairs: list[tuple[str, Interval | None, str, Interval | None]]) -> tuple[str, str]:
    """Verdict over comparisons 'a is faster than b', each (name_a, a, name_b, b)."""
    held = against = 0
    notes = []
    for na, a, nb, b in pairs:
        if a is None or b is None:
            continue
        if a.below(b):
            held += 1
            notes.append(f"{na} {a.text()} < {nb} {b.text()}")
        elif b.below(a):
            against += 1
            notes.append(f"{na} {a.text()} > {nb} {b.text()}")
        else:
            notes.append(f"{na} {a.text()} ≈ {nb} {b.text()} (within the spread)")
    if not notes:
        return "no verdict: not measured", "the frameworks it compares were not timed"
    differ = held + against
    if held and not against:
        verdict = "supported"
    elif against and not held:
        verdict = "not supported"
    elif held or against:
        verdict = "mixed"
    else:
        verdict = "no verdict: within the spread"
    if differ:
        verdict += f" ({differ} of {len(notes)} comparisons differ)"
    return verdict, "; ".join(notes)
