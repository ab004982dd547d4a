"""How source paths print in reports: ``<site-packages>/...`` or relative to the project.

Frameworks record absolute paths (``/home/me/.venv/lib/python3.11/site-packages/
keras/src/ops/numpy.py``), which are long and name the machine. Every report
prints a source location through :func:`display_path`.
"""

from __future__ import annotations

import os
import re
from typing import Any

_LIBRARY = re.compile(r"^.*/(?:site|dist)-packages/")


def display_path(path: str, project: str | None = None) -> str:
    """A source path as reports print it.

    Installed packages read ``<site-packages>/pkg/module.py``; a file under the
    project (default: the current folder) reads relative to it; other paths and
    non-paths (``-``, ``<stdin>``) are unchanged.

    Args:
        path: the path a framework recorded.
        project: the project folder (default: the current working directory).

    Returns:
        The short form.

    Example:
        >>> display_path("/venv/lib/python3.11/site-packages/keras/src/ops/numpy.py")
        '<site-packages>/keras/src/ops/numpy.py'
    """
    text = str(path)
    if _LIBRARY.match(text):
        return _LIBRARY.sub("<site-packages>/", text, count=1)
    if not os.path.isabs(text):
        return text
    root = os.path.abspath(project or os.getcwd())
    if text.startswith(root.rstrip(os.sep) + os.sep):
        return os.path.relpath(text, root)
    return text


def source_location(d: dict[str, Any]) -> str | None:
    """``op_name @ file:line`` of a node or kernel record, with the parts that are known.

    Example:
        >>> source_location({"op_name": "jit(f)/dot", "source_file": "/x/m.py", "source_line": 3})
        'jit(f)/dot @ /x/m.py:3'
    """
    parts = []
    if d.get("op_name"):
        parts.append(str(d["op_name"]))
    if d.get("source_file"):
        where = display_path(d["source_file"])
        if d.get("source_line") is not None:
            where += f":{d['source_line']}"
        parts.append(where)
    return " @ ".join(parts) if parts else None
