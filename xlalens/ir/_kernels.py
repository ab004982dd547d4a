"""The kernels of an optimized module, indexed for profile attribution (used by timing).

Built on the one HLO reader (``xlalens.ir.hlo``) and the one cost model
(``xlalens.ir._cost``): a profiler event names an entry-level instruction
(``hlo_op``); :func:`index_hlo` gives each such kernel its bytes, FLOPs and
source location, and maps every nested instruction (loop bodies run their own
thunks) to the kernel that runs it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from xlalens._errors import ParseError
from xlalens.ir._cost import by_computation, node_bytes, node_cost_flops
from xlalens.ir._ops import TRIVIAL_OPCODES

__all__ = ["HloIndex", "Kernel", "index_hlo"]


@dataclass(frozen=True, slots=True)
class Kernel:
    """One entry-level instruction of an optimized module: what a profiler event names."""

    name: str
    """Instruction name (``ynn_fusion.1``), the profiler's ``hlo_op``."""
    opcode: str
    """HLO opcode (``fusion``, ``dot``, ``custom-call``...)."""
    kind: str | None
    """Fusion kind (``kLoop``, ``kInput``, ``kCustom``...), None for other ops."""
    type: str
    """Result type as printed (``f32[1048576,1]{1,0}``)."""
    bytes: float
    """Estimated bytes moved: operands read plus result written."""
    flops: float | None
    """Estimated FLOPs (``xlalens.ir._cost``, bodies included); None when unknown."""
    op_name: str | None
    """``metadata.op_name`` of the instruction (or of its fused root)."""
    source_file: str | None
    """Source file from metadata (``source_file`` or the stack frame table)."""
    source_line: int | None
    """Source line from metadata."""
    calls: tuple[str, ...] = ()
    """Computations it calls (fused body, loop body...)."""


@dataclass(frozen=True, slots=True)
class HloIndex:
    """Lookup tables over one optimized HLO module."""

    module: str
    """``HloModule`` name (the profiler's ``hlo_module``)."""
    entry: str
    """Entry computation name."""
    kernels: dict[str, Kernel]
    """Entry-level instructions that can run as kernels, by name, in program order."""
    instructions: frozenset[str] = field(default_factory=frozenset)
    """Every instruction name of every computation (to tell a known event from a stray)."""
    owner: dict[str, str] = field(default_factory=dict)
    """Instruction name -> the entry-level kernel that runs it (nested thunks of loops)."""


def index_hlo(text: str) -> HloIndex:
    """Index the kernels of an optimized HLO module.

    Args:
        text: optimized HLO text of one module (``HloModule ...``).

    Returns:
        The :class:`HloIndex`.

    Raises:
        ParseError: the HLO parser rejected the text.

    Example:
        >>> idx = index_hlo(open("dump/timing/cpu/jax.optimized_hlo.txt").read())  # doctest: +SKIP
        >>> idx.kernels["ynn_fusion.1"].bytes  # doctest: +SKIP
    """
    from xlalens.ir.hlo import parse_hlo_text

    try:
        g = parse_hlo_text(text, stage="optimized_hlo")
    except ParseError as exc:
        raise ParseError(f"the HLO parser rejected the optimized HLO: {exc}") from exc
    entry = g.graph["entry"]
    comps = g.graph["computations"]
    nodes = g._node
    index = by_computation(g)
    kernels: dict[str, Kernel] = {}
    owner: dict[str, str] = {}
    for nid in index.get(entry, ()):
        d = nodes[nid]
        name = d["name"]
        owner[name] = name
        if d["opcode"] in TRIVIAL_OPCODES:
            continue
        src = d
        if not d["op_name"] and d["calls"]:
            # A fusion without metadata: borrow its fused root's, else the first inner one's.
            inner = []
            for c in d["calls"]:
                root = comps.get(c, {}).get("root")
                inner += [root] if root else []
                inner += index.get(c, [])
            src = next((nodes[i] for i in inner if nodes[i]["op_name"]), d)
        kind = d["attrs"].get("kind")
        kernels[name] = Kernel(
            name=name,
            opcode=d["opcode"],
            kind=kind if isinstance(kind, str) else None,
            type=d["type"],
            bytes=node_bytes(g, nid) or 0.0,
            flops=node_cost_flops(g, nid, index),
            op_name=src["op_name"],
            source_file=src["source_file"],
            source_line=src["source_line"],
            calls=tuple(d["calls"]),
        )
    for d in nodes.values():
        k = d["fusion"]
        if k is not None and d["computation"] != entry:
            owner.setdefault(d["name"], nodes[k]["name"])
    return HloIndex(
        module=g.graph["module"],
        entry=entry,
        kernels=kernels,
        instructions=frozenset(d["name"] for d in nodes.values()),
        owner=owner,
    )
