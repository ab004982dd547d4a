"""The kernels of an optimized module, indexed for profile attribution (used by timing).

Built on the one HLO reader (``xlalens.ir.hlo``) and the one cost model
(``xlalens.ir._cost``): a profiler event names an entry-level instruction
(``hlo_op``); :func:`index_hlo` gives each such kernel its bytes, FLOPs and
source location, and maps every nested instruction to the kernel that runs it.

NOTE: [kernels of loop bodies] a ``while`` is not a kernel: the runtime runs
its condition and body computations instruction by instruction (the CPU thunk
runtime emits one event per body thunk, named after the body's fusion; a GPU
launches the body's kernels), once per iteration. So every non-trivial
instruction of a body (or condition, branch, called function) reached from the
entry is a kernel of its own here, with ``loop`` naming the entry-level
``while`` that runs it and ``trips`` how many times it runs per step (the
product of the trip counts of the loops around it, ``xlalens.ir._loops``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from xlalens._errors import ParseError
from xlalens.ir._cost import by_computation, node_bytes, node_cost_flops
from xlalens.ir._loops import trip_count
from xlalens.ir._ops import SCHEDULED_KINDS, TRIVIAL_OPCODES

#: Instructions that run other computations' kernels rather than work of their own.
CONTROL_OPCODES = frozenset({"while", "conditional", "call"})

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
    loop: str | None = None
    """The entry-level ``while`` (or ``conditional``/``call``) that runs it, None at the entry."""
    trips: int | None = 1
    """Runs per step: the product of the trip counts of the loops around it (None: unknown)."""
    control: bool = False
    """A ``while``/``conditional``/``call``: it runs other kernels, its own time is bookkeeping."""


@dataclass(frozen=True, slots=True)
class HloIndex:
    """Lookup tables over one optimized HLO module."""

    module: str
    """``HloModule`` name (the profiler's ``hlo_module``)."""
    entry: str
    """Entry computation name."""
    kernels: dict[str, Kernel]
    """Instructions that can run as kernels, by name: the entry's in program order, then
    those of loop bodies, conditions, branches and called functions (NOTE [kernels of
    loop bodies])."""
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

    def add(comp: str, loop: str | None, trips: int | None, seen: frozenset) -> None:
        for nid in index.get(comp, ()):
            d = nodes[nid]
            name = d["name"]
            owner.setdefault(name, name)
            if d["opcode"] in TRIVIAL_OPCODES:
                continue
            control = d["opcode"] in CONTROL_OPCODES
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
            kernels.setdefault(
                name,
                Kernel(
                    name=name,
                    opcode=d["opcode"],
                    kind=kind if isinstance(kind, str) else None,
                    type=d["type"],
                    bytes=0.0 if control else node_bytes(g, nid) or 0.0,
                    flops=node_cost_flops(g, nid, index),
                    op_name=src["op_name"],
                    source_file=src["source_file"],
                    source_line=src["source_line"],
                    calls=tuple(d["calls"]),
                    loop=loop,
                    trips=trips,
                    control=control,
                ),
            )
            if not control:
                continue
            runs: dict[str, int | None] = {}
            if d["opcode"] == "while":
                # The body runs n times, the condition n + 1 times.
                n = trip_count(g, nid).n
                cond, body = d["attrs"].get("condition"), d["attrs"].get("body")
                for c, extra in ((body, 0), (cond, 1)):
                    if isinstance(c, str):
                        runs[c] = None if n is None or trips is None else trips * (n + extra)
            for c in d["calls"]:
                if c not in seen and comps.get(c, {}).get("kind") in SCHEDULED_KINDS:
                    # A branch of a conditional runs once or not at all: unknown.
                    default = None if d["opcode"] == "conditional" else trips
                    add(c, loop or name, runs.get(c, default), seen | {c})

    add(entry, None, 1, frozenset({entry}))
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
