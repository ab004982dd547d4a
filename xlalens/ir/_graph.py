"""A typed, read-only view of a graph's nodes, instead of ``data["key"]`` reads.

The graph stays a ``networkx.MultiDiGraph`` whose node data is the dict the schema
defines (docs/graph-schema.md, :data:`xlalens.ir._schema.NODE_FIELDS`): that is the
storage, and ``validate`` checks it. :class:`Node` is what a stage reads: the same
fields, typed, with the questions stages ask of a node (is it a kernel, which
kernel holds it, what does it cost) answered in one place from the op table and the
cost model. Building one is a dict lookup per field; a stage that walks a 20k-node
graph in a hot loop may keep reading the dicts, but everything else reads this.

Example:
    >>> from xlalens.ir import parse_hlo_text
    >>> g = parse_hlo_text("HloModule m\\nENTRY e {\\n  ROOT p = f32[2] parameter(0)\\n}\\n")
    >>> n = node(g, "e/p")
    >>> n.op, n.shape, n.dtype, n.is_kernel
    ('parameter', (2,), 'f32', False)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import networkx as nx

from xlalens.ir._locations import source_stack
from xlalens.ir._ops import category, collective_kind, is_kernel

__all__ = ["Node", "node", "nodes"]


@dataclass(frozen=True, slots=True)
class Node:
    """One node of an xlalens graph (docs/graph-schema.md), read-only and typed."""

    id: str
    """The node id, ``computation/name``."""
    name: str
    """The instruction's name in its computation."""
    op: str
    """The canonical op (HLO spelling: ``dot``, ``add``, ``broadcast``)."""
    opcode: str
    """The op as the source spelled it (``stablehlo.dot_general`` or ``dot``)."""
    dtype: str
    """Element type (``f32``), or ``tuple`` / ``token``."""
    shape: tuple[int, ...]
    """Dimensions (-1 for a dynamic one); ``()`` for a scalar or a tuple."""
    computation: str
    """The computation that holds the node."""
    calls: tuple[str, ...]
    """Computations it calls (a fusion's body, a reducer, a loop's body)."""
    fusion: str | None
    """Its kernel: the id of the fusion node it belongs to (a fusion names itself, an op
    of a fusion's body names the fusion), or None outside any fusion."""
    is_root: bool
    """Whether it is its computation's result."""
    source_file: str | None
    """The user's source file of the op (from the frontend's metadata), if known."""
    source_line: int | None
    """The line in ``source_file``, if known."""
    op_name: str | None
    """The framework's op path (``jit(step)/dense/dot_general``), if known."""
    attrs: dict[str, Any]
    """Attributes as parsed (JSON-like values; do not mutate)."""
    stack: tuple[tuple[str | None, int | None, str | None], ...] = ()
    """The op's whole call stack, innermost frame first, ``(file, line, function)`` per
    frame (``source_file``/``source_line`` are its first frame): from the module's
    ``StackFrames`` table (``xlalens.ir._locations.source_stack``); empty when the
    module has none."""

    @property
    def category(self) -> str:
        """The op table's category (``elementwise``, ``contraction``...; ``other``)."""
        return category(self.op)

    @property
    def is_kernel(self) -> bool:
        """Whether it runs as a kernel of its own: it is its own kernel (``fusion`` names
        itself, or is None before optimization) and not an op that runs no kernel
        (``TRIVIAL_OPCODES``). Ops of loop bodies count under their loop's kernel
        (``xlalens.ir.kernel_nodes`` lists those too)."""
        return self.fusion in (None, self.id) and is_kernel(self.op)

    @property
    def collective(self) -> str | None:
        """The collective kind (``all-reduce``...) of the op, or None."""
        return collective_kind(self.op)

    @property
    def source(self) -> str | None:
        """``file:line`` of the user's source, or None when unknown."""
        if self.source_file is None:
            return None
        return (
            self.source_file
            if self.source_line is None
            else f"{self.source_file}:{self.source_line}"
        )


def node(g: nx.MultiDiGraph, nid: str) -> Node:
    """The typed view of node ``nid`` of ``g``.

    Args:
        g: an xlalens graph (``xlalens.ir.load`` / ``parse_hlo_text``).
        nid: a node id.

    Returns:
        A :class:`Node`.

    Raises:
        KeyError: ``nid`` is not a node of ``g``.

    Example:
        >>> node(g, "main/dot.1").op  # doctest: +SKIP
        'dot'
    """
    d = g.nodes[nid]
    return Node(
        id=nid,
        name=d["name"],
        op=d["op"],
        opcode=d["opcode"],
        dtype=d["dtype"],
        shape=tuple(d["shape"]),
        computation=d["computation"],
        calls=tuple(d["calls"]),
        fusion=d["fusion"],
        is_root=bool(d["is_root"]),
        source_file=d.get("source_file"),
        source_line=d.get("source_line"),
        op_name=d.get("op_name"),
        attrs=d["attrs"],
        stack=tuple(source_stack(g, nid)),
    )


def nodes(g: nx.MultiDiGraph, computation: str | None = None) -> Iterator[Node]:
    """Typed views of the nodes of ``g`` in insertion (program) order.

    Args:
        g: an xlalens graph.
        computation: only the nodes of this computation (e.g. the entry); None for all.

    Example:
        >>> [n.op for n in nodes(g, g.graph["entry"])]  # doctest: +SKIP
        ['parameter', 'dot', ...]
    """
    for nid, d in g.nodes(data=True):
        if computation is None or d["computation"] == computation:
            yield node(g, nid)
