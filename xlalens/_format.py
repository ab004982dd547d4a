"""Numbers as the reports print them (text and HTML): one spelling for every stage."""

from __future__ import annotations


def seconds(v: float | None) -> str:
    """``1.234 ms`` at a millisecond and above, ``56.7 us`` below; ``—`` for unknown.

    Example:
        >>> seconds(0.0012345), seconds(5.67e-5), seconds(None)
        ('1.234 ms', '56.7 us', '—')
    """
    if v is None:
        return "—"
    return f"{v * 1e3:.4g} ms" if v >= 1e-3 else f"{v * 1e6:.4g} us"


def percent(v: float | None) -> str:
    """``12.5%``; ``—`` for unknown.

    Example:
        >>> percent(0.125), percent(None)
        ('12.5%', '—')
    """
    return "—" if v is None else f"{v:.1%}"
