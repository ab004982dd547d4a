"""Loading what the user named (IR file, IR text, saved graph JSON, dump entry) through xlalens.ir."""

from __future__ import annotations

from pathlib import Path

import networkx as nx

from xlalens._errors import UsageError


def _ir():
    try:
        import xlalens.ir as ir
    except ImportError as exc:  # the reader package is built separately
        raise UsageError(
            f"xlalens.ir is not available ({exc}); pass a graph object instead"
        ) from exc
    return ir


def read_graph_json(path: str | Path) -> nx.MultiDiGraph:
    """A saved node-link graph JSON (what a dump's ``graphs/*.json`` holds), via the ir package."""
    ir = _ir()
    for name in ("from_json", "read_json", "load_json"):
        reader = getattr(ir, name, None)
        if reader is not None:
            try:
                return reader(Path(path))
            except TypeError:
                return reader(Path(path).read_text())
    return ir.load(str(path))


def load_graph(spec: str | Path, *, level: str = "raw") -> nx.MultiDiGraph:
    """A graph from an IR file, IR text, a saved graph JSON or a dump entry, at ``level``.

    Raises:
        UsageError / DumpError / ParseError: from the ir package, naming what was wrong.
    """
    return _ir().load(str(spec) if isinstance(spec, Path) else spec, level=level)
