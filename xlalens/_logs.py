"""Quiet XLA/TSL/absl logs of the CLI's own process unless ``-v`` is given.

NOTE: [quiet by default] XLA and TSL log INFO and WARNING lines to stderr from
C++ (``pjrt_client.cc`` on every client, ``profiler_session.cc`` on every
trace). Their level comes from ``TF_CPP_MIN_LOG_LEVEL``, read when jaxlib's
extension loads, which happens while ``xlalens/__init__`` imports the stages:
so the CLI decides here, before that, from the command line. Level 2 keeps
errors; ``-v``/``--verbose`` sets 0. A value the user set wins. Library use
(``import xlalens`` from a script) leaves the environment alone.
"""

from __future__ import annotations

import os
import sys

VERBOSE_FLAGS = ("-v", "--verbose")


def running_cli(argv: list[str]) -> bool:
    """True while ``python -m xlalens`` or the ``xlalens`` script is starting."""
    return bool(argv) and (argv[0] == "-m" or os.path.basename(argv[0]) == "xlalens")


def configure(verbose: bool) -> None:
    """Set the XLA/TSL log level for this process (before jaxlib loads to take effect)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "0" if verbose else "2")


def configure_from_argv(argv: list[str] | None = None) -> None:
    """Apply :func:`configure` when this process is the CLI."""
    argv = sys.argv if argv is None else argv
    if running_cli(argv):
        configure(any(a in VERBOSE_FLAGS for a in argv[1:]))


configure_from_argv()  # on import, from xlalens/__init__, before jaxlib loads
