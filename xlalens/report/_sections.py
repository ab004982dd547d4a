"""The section registry of ``report.html``: each stage offers its section by name.

A section is a function ``(dump_dir: pathlib.Path) -> tuple[str, str] | None``
returning ``(title, HTML fragment)``, or ``None`` when it has nothing to show for
this dump. The fragment must be self-contained and offline: tables, inline SVG,
or relative links to files inside the dump folder; no network. Each section gets
a ``<section>`` and a nav entry, in registry order. A section that raises becomes
a visible note in its place; it never breaks the report.

NOTE: [stages never import the report] The registry names each stage's function
as ``"module:function"`` and imports it on first use, so the dependency points
down (report -> stage) and loading the report does not load every stage. A
plug-in adds its own with :func:`register_section`.
"""

from __future__ import annotations

import html
import importlib
import re
import traceback
from collections.abc import Callable
from pathlib import Path

Provider = Callable[[Path], "tuple[str, str] | None"]

SECTIONS: dict[str, str | Provider] = {
    "findings": "xlalens.timing:report_section",  # the seed's claims checked by measurement
    "sharding": "xlalens.spmd:report_section",  # sharded steps: mesh, proof, collectives
    "targets": "xlalens.targets:report_section",  # compile-only GPU/TPU targets
    "passes": "xlalens.passes:report_section",  # XLA's pass timeline, blame, memory
}
"""Registered stage sections, by name, in report order (after the report's own)."""

PROVIDERS: list[Provider] | None = None
"""When set (tests), these providers replace :data:`SECTIONS` for one report."""


def register_section(name: str, provider: str | Provider) -> None:
    """Add (or replace) a named section of the report.

    Args:
        name: the section's registry name (its place is kept when replaced).
        provider: a ``(dump_dir) -> (title, html) | None`` function, or its
            ``"module:function"`` path, imported when the report is built.

    Returns:
        None.

    Example:
        >>> register_section("mine", lambda d: ("Mine", "<p>ok</p>"))
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"section name {name!r}: give a non-empty string")
    if isinstance(provider, str) and ":" not in provider:
        raise ValueError(f"section {name}: {provider!r} is not 'module:function'")
    SECTIONS[name] = provider


def _resolve(name: str, provider: str | Provider) -> Provider:
    if not isinstance(provider, str):
        return provider
    module, _, func = provider.partition(":")

    def lazy(dump_dir: Path) -> tuple[str, str] | None:
        return getattr(importlib.import_module(module), func)(dump_dir)

    lazy.__module__, lazy.__name__ = module, func
    return lazy


def collect(dump_dir: Path, providers: list[Provider] | None = None) -> list[tuple[str, str, str]]:
    """Run every registered section on a dump.

    Args:
        dump_dir: the dump folder.
        providers: the providers to run (default: :data:`PROVIDERS` when set,
            else every entry of :data:`SECTIONS`).

    Returns:
        ``(anchor, title, HTML fragment)`` per section that had something to show.

    Example:
        >>> collect(Path("d"), [lambda d: ("Targets", "<p>ok</p>")])
        [('sec-targets', 'Targets', '<p>ok</p>')]
    """
    if providers is None:
        providers = (
            PROVIDERS if PROVIDERS is not None else [_resolve(n, p) for n, p in SECTIONS.items()]
        )
    out: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    for prov in providers:
        name = getattr(prov, "__module__", "") + "." + getattr(prov, "__name__", "section")
        try:
            got = prov(Path(dump_dir))
            if got is None:
                continue
            title, fragment = got
            title = str(title)
        except Exception as exc:  # one section must not break the report
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
