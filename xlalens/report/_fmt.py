"""Numbers, units and badges as the report prints them: one formatter for every table and chart.

NOTE: [significant digits] Timings on a shared machine vary by a few percent, so
three significant digits say all that is known (``13.1 µs``, ``0.0610%``); more
digits would claim a precision the measurement does not have.
"""

from __future__ import annotations

import html
import math
from typing import Any

_PREFIX = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""))


def esc(x: Any) -> str:
    """HTML-escaped text of ``x`` (``None`` is empty)."""
    return html.escape("" if x is None else str(x))


def is_num(x: Any) -> bool:
    """True for a finite int or float (not a bool)."""
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def sig(x: float, digits: int = 3) -> str:
    """``x`` with ``digits`` significant digits, no exponent for everyday magnitudes."""
    if x == 0:
        return "0"
    mag = math.floor(math.log10(abs(x)))
    if -4 <= mag < 6:
        decimals = max(digits - 1 - mag, 0)
        return f"{x:.{decimals}f}"
    return f"{x:.{digits - 1}e}"


def seconds(x: Any) -> str:
    """A duration with its unit: ``13.1 µs``, ``4.20 ms``, ``1.50 s``; ``""`` when unknown."""
    if not is_num(x):
        return "" if x is None else esc(x)
    ax = abs(x)
    if ax == 0:
        return "0 s"
    if ax < 1e-6:
        return f"{sig(x * 1e9)} ns"
    if ax < 1e-3:
        return f"{sig(x * 1e6)} µs"
    if ax < 1:
        return f"{sig(x * 1e3)} ms"
    return f"{sig(x)} s"


def percent(x: Any, digits: int = 3) -> str:
    """A fraction as a percentage: ``0.3`` -> ``30.0%``; ``""`` when unknown."""
    if not is_num(x):
        return ""
    return f"{sig(x * 100, digits)}%"


def rate(x: Any, unit: str) -> str:
    """A rate with an SI prefix: ``rate(5.3e10, "B/s")`` -> ``53.0 GB/s``."""
    if not is_num(x):
        return ""
    for scale, prefix in _PREFIX:
        if abs(x) >= scale:
            return f"{sig(x / scale)} {prefix}{unit}"
    return f"{sig(x)} {unit}"


def short(x: float) -> str:
    """An axis tick: ``1e11`` -> ``100G``, ``0.01`` -> ``0.01``."""
    for scale, prefix in _PREFIX:
        if abs(x) >= scale:
            return f"{x / scale:g}{prefix}"
    return f"{x:g}"


def count(x: Any) -> str:
    """An integer with thousands separators; other numbers to 3 significant digits."""
    if isinstance(x, bool) or x is None:
        return esc(x)
    if isinstance(x, int):
        return f"{x:,}"
    if is_num(x):
        return sig(float(x))
    return esc(x)


BADGES = {
    "supported": "xl-b-ok",
    "not supported": "xl-b-bad",
    "mixed": "xl-b-mixed",
    "no verdict": "xl-b-none",
    "noisy": "xl-b-warn",
    "ok": "xl-b-ok",
    "failed": "xl-b-bad",
    "skipped": "xl-b-none",
}
"""Badge text -> CSS class (report.css draws them)."""


def badge(text: str, title: str = "") -> str:
    """A badge: a small coloured label (verdicts, statuses, the noise warning)."""
    cls = BADGES.get(str(text).lower(), "xl-b-none")
    tip = f' title="{esc(title)}"' if title else ""
    return f'<span class="xl-badge {cls}"{tip}>{esc(text)}</span>'
