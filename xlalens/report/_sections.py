"""Report sections other stages provide: the extension point of ``report.html``.

A provider is a function ``(dump_dir: pathlib.Path) -> tuple[str, str] | None``
returning ``(title, HTML fragment)`` or ``None`` when it has nothing to show for
this dump. The fragment must be self-contained and offline: tables, inline SVG,
or relative links to files inside the dump folder; no network, no script. Each
provider's section is rendered after the built-in ones, with a nav entry. A
provider that raises becomes a visible note in its section; it never breaks the
report.

Stages add theirs to :data:`PROVIDERS` (the lead wires them, e.g.
``xlalens.targets.report_section``).
"""

from __future__ import annotations

import html
import re
import traceback
from collections.abc import Callable
from pathlib import Path

Provider = Callable[[Path], "tuple[str, str] | None"]


def _lazy(module: str) -> Provider:
    """A provider that imports ``module.report_section`` on first use.

    Imported late so that loading the renderer does not load every stage (and so
    no import cycle runs through ``xlalens.render``).
    """

    def provider(dump_dir: Path) -> tuple[str, str] | None:
        import importlib

        return importlib.import_module(module).report_section(dump_dir)

    provider.__module__, provider.__name__ = module, "report_section"
    return provider


PROVIDERS: list[Provider] = [
    _lazy("xlalens.timing"),  # findings.md: the seed's claims checked by measurement
    _lazy("xlalens.spmd"),  # sharded steps: mesh, proof, collectives
    _lazy("xlalens.targets"),  # compile-only GPU/TPU targets
    _lazy("xlalens.passes"),  # XLA's pass timeline, blame, memory
]
"""The registered section providers, in report order."""


def collect(dump_dir: Path, providers: list[Provider] | None = None) -> list[tuple[str, str, str]]:
    """Run every provider on a dump.

    Args:
        dump_dir: the dump folder.
        providers: the providers to run (default :data:`PROVIDERS`).

    Returns:
        ``(anchor, title, HTML fragment)`` per provider that had something to show.

    Example:
        >>> collect(Path("d"), [lambda d: ("Targets", "<p>ok</p>")])
        [('sec-targets', 'Targets', '<p>ok</p>')]
    """
    out: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    for prov in PROVIDERS if providers is None else providers:
        name = getattr(prov, "__module__", "") + "." + getattr(prov, "__name__", "section")
        try:
            got = prov(Path(dump_dir))
            if got is None:
                continue
            title, fragment = got
            title = str(title)
        except Exception as exc:  # one provider must not break the report
            title = name
            fragment = (
                '<p class="xl-note xl-error">this section failed: '
                + html.escape(traceback.format_exception_only(type(exc), exc)[-1].strip())
                + "</p>"
            )
        anchor = "sec-" + (re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "section")
        while anchor in seen:
            anchor += "-2"
        seen.add(anchor)
        out.append((anchor, title, str(fragment)))
    return out
