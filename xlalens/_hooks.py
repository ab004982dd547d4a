"""Calls up the floors: a stage says what it wrote, the top floor reacts.

NOTE: [refresh through the top floor] ``xlalens time`` (and any stage that writes
results into a dump folder) refreshes ``report.html``. The report sits on the top
floor and imports the stages to assemble their sections, so a stage that imported
the report would close a cycle (timing -> render -> timing on b76e698). Instead the
top floor registers its refresher here when ``xlalens`` is imported (every
``xlalens.*`` import runs ``xlalens/__init__.py`` first), and a stage calls
:func:`refresh_report`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

REPORT_REFRESHERS: list[Callable[[Path], object]] = []
"""What refreshes ``DIR/report.html`` (registered by the top floor, in order)."""


def refresh_report(folder: str | Path) -> bool:
    """Refresh the report of the dump ``folder``; False when no refresher is registered.

    Args:
        folder: the dump folder a stage just wrote into.

    Returns:
        True when a refresher ran. Its exceptions propagate: the caller decides
        whether a failed refresh is only a warning.

    Example:
        >>> refresh_report("xlalens-dump")  # doctest: +SKIP
        True
    """
    for refresher in REPORT_REFRESHERS:
        refresher(Path(folder))
    return bool(REPORT_REFRESHERS)
