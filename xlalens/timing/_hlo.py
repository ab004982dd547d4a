"""Index of an optimized HLO module: its kernels, their shapes, estimated cost and source.

The profiler names each executed thunk after an instruction of the optimized
module's entry computation (a fusion, a dot, a custom call...). This module
turns the optimized HLO text into the lookup table that attribution and the
roofline need: for each entry-level instruction its opcode, the bytes it moves,
the FLOPs it performs (estimated from shapes, see NOTE below) and the source
location from its metadata.

NOTE: [per-kernel cost from shapes]
jaxlib exposes XLA's cost analysis for the whole executable only. Per kernel we
estimate like XLA's HloCostAnalysis does for a fusion: bytes = the operands read
plus the result written (each counted once), FLOPs = one per output element of
each elementwise arithmetic op inside, one per input element of a reduce, and
``2 * out * contracted`` for a dot. Layout-only ops (bitcast, broadcast, reshape,
parameter, constant, tuple, get-tuple-element, slice...) cost no FLOPs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from xlalens._errors import ParseError

DTYPE_BYTES: dict[str, float] = {
    "pred": 1, "s2": 0.25, "u2": 0.25, "s4": 0.5, "u4": 0.5, "s8": 1, "u8": 1,
    "s16": 2, "u16": 2, "f16": 2, "bf16": 2, "s32": 4, "u32": 4, "f32": 4,
    "s64": 8, "u64": 8, "f64": 8, "c64": 8, "c128": 16,
    "f8e4m3fn": 1, "f8e5m2": 1, "f8e4m3": 1, "f8e5m2fnuz": 1, "f8e4m3fnuz": 1, "f8e4m3b11fnuz": 1,
    "f8e3m4": 1, "f8e8m0fnu": 1, "f4e2m1fn": 0.5,
}  # fmt: skip

# Ops that cost no arithmetic: data movement, layout and bookkeeping.
_NO_FLOP_OPS = frozenset(
    """parameter constant bitcast broadcast reshape transpose copy tuple get-tuple-element
    slice dynamic-slice dynamic-update-slice concatenate pad iota reverse gather scatter
    bitcast-convert convert after-all partition-id replica-id opt-barrier fusion call while
    conditional custom-call copy-start copy-done send recv infeed outfeed""".split()
)
# Entry instructions that never become a kernel of their own.
_NOT_KERNELS = frozenset(
    ("parameter", "constant", "tuple", "get-tuple-element", "bitcast", "after-all", "opt-barrier")
)

_INSTR_RE = re.compile(
    r"^\s*(?:ROOT\s+)?%?(?P<name>[^\s=]+)\s*=\s*(?P<type>\([^=]*?\)|\S+)\s+(?P<opcode>[a-z][\w\-]*)\("
)
_ARRAY_RE = re.compile(r"([a-z][a-z0-9]*)\[([0-9,]*)\]")
_META_RE = re.compile(r"metadata=\{([^}]*)\}")
_KV_RE = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)')
_CALLS_RE = re.compile(r"\b(?:calls|to_apply|body|condition)=%?([\w.\-]+)")
_KIND_RE = re.compile(r"\bkind=(k\w+)")
_CONTRACT_RE = re.compile(r"lhs_contracting_dims=\{([0-9,]*)\}")
_ENTRY_RE = re.compile(r"^ENTRY\s+%?([^\s(]+)", re.M)


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
    """Estimated FLOPs (see NOTE [per-kernel cost from shapes]); None when unknown."""
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


def _array_bytes(type_text: str) -> float:
    total = 0.0
    for dtype, dims in _ARRAY_RE.findall(type_text):
        n = 1
        for d in filter(None, dims.split(",")):
            n *= int(d)
        total += n * DTYPE_BYTES.get(dtype, 4)
    return total


def _elements(type_text: str) -> int:
    m = _ARRAY_RE.search(type_text)
    if not m:
        return 0
    n = 1
    for d in filter(None, m.group(2).split(",")):
        n *= int(d)
    return n


def _dims(type_text: str) -> list[int]:
    m = _ARRAY_RE.search(type_text)
    return [int(d) for d in filter(None, m.group(2).split(","))] if m else []


def _metadata(line: str) -> dict[str, str]:
    m = _META_RE.search(line)
    if not m:
        return {}
    return {k: v.strip('"') for k, v in _KV_RE.findall(m.group(1))}


def _stack_frames(text: str) -> dict[int, tuple[str, int]]:
    """Stack frame id -> (file, line) from the tables newer XLA prints before the computations."""

    def table(title: str) -> dict[int, str]:
        m = re.search(rf"^{title}\n((?:\d+ .*\n?)+)", text, re.M)
        if not m:
            return {}
        return {int(k): v for k, v in re.findall(r"^(\d+) (.*)$", m.group(1), re.M)}

    files = {k: v.strip('"') for k, v in table("FileNames").items()}
    locs: dict[int, tuple[str, int]] = {}
    for k, v in table("FileLocations").items():
        kv = dict(_KV_RE.findall(v.strip("{}")))
        try:
            locs[k] = (files.get(int(kv["file_name_id"]), "?"), int(kv["line"]))
        except (KeyError, ValueError):
            continue
    frames: dict[int, tuple[str, int]] = {}
    for k, v in table("StackFrames").items():
        kv = dict(_KV_RE.findall(v.strip("{}")))
        loc = locs.get(int(kv.get("file_location_id", -1)))
        if loc:
            frames[k] = loc
    return frames


def _source(
    meta: dict[str, str], frames: dict[int, tuple[str, int]]
) -> tuple[str | None, int | None]:
    # "-" is kept: MLIR's location for text read from stdin (torch_xla); the line is then
    # a line of the StableHLO module itself, as the graph reader reports it too.
    if meta.get("source_file"):
        try:
            return meta["source_file"], int(meta.get("source_line", ""))
        except ValueError:
            return meta["source_file"], None
    sid = meta.get("stack_frame_id")
    if sid and sid.isdigit() and int(sid) in frames:
        return frames[int(sid)]
    return None, None


def index_hlo(text: str) -> HloIndex:
    """Index the kernels of an optimized HLO module.

    Uses XLA's own parser (``jax._src.lib.hlo``) to check the text and list the
    computations, then reads types, metadata and attributes from each
    instruction's printed form.

    Args:
        text: optimized HLO text of one module (``HloModule ...``).

    Returns:
        The :class:`HloIndex`.

    Raises:
        ParseError: XLA's parser rejected the text.

    Example:
        >>> idx = index_hlo(open("dump/timing/cpu/jax.optimized_hlo.txt").read())  # doctest: +SKIP
        >>> idx.kernels["ynn_fusion.1"].bytes  # doctest: +SKIP
    """
    from jax._src.lib import hlo

    try:
        module = hlo.hlo_module_from_text(text)
    except Exception as exc:  # XLA raises XlaRuntimeError/ValueError with its message
        raise ParseError(f"XLA's HLO parser rejected the optimized HLO: {exc}") from exc
    m = _ENTRY_RE.search(text)
    comps = {c.name: [i.to_string() for i in c.instructions()] for c in module.computations()}
    entry = m.group(1) if m else list(comps)[-1]
    # Instruction strings come from the parsed module, whose stack frame ids may be
    # renumbered: resolve them through that module's tables, not the input text's.
    frames = _stack_frames(module.to_string())
    roots = set(re.findall(r"^\s*ROOT\s+%?([^\s=]+)", text, re.M))

    types: dict[str, str] = {}
    parsed: dict[str, list[tuple[str, str, str]]] = {}
    for cname, lines in comps.items():
        rows = []
        for line in lines:
            im = _INSTR_RE.match(line)
            if im:
                types[im["name"]] = im["type"]
                rows.append((im["name"], im["opcode"], line))
        parsed[cname] = rows

    def flops_of(cname: str, seen: frozenset[str] = frozenset()) -> float:
        total = 0.0
        for name, opcode, line in parsed.get(cname, []):
            if opcode in ("fusion", "call") and cname not in seen:
                for callee in _CALLS_RE.findall(line):
                    total += flops_of(callee, seen | {cname})
            else:
                total += flops_of_single(opcode, name, line, types)
        return total

    kernels: dict[str, Kernel] = {}
    owner: dict[str, str] = {}
    for name, opcode, line in parsed.get(entry, []):
        owner[name] = name
        if opcode in _NOT_KERNELS:
            continue
        calls = tuple(_CALLS_RE.findall(line))
        meta = _metadata(line)
        if not meta.get("op_name") and calls:
            # A fusion without metadata: borrow its fused root's, else the first inner one's.
            inner_rows = [r for c in calls for r in parsed.get(c, [])]
            inner_rows.sort(key=lambda r: r[0] not in roots)
            meta = next((m for r in inner_rows if (m := _metadata(r[2])).get("op_name")), meta)
        src_file, src_line = _source(meta, frames)
        operands = _operands(line)
        nbytes = sum(_array_bytes(types.get(o, "")) for o in dict.fromkeys(operands))
        nbytes += _array_bytes(types.get(name, ""))
        if opcode in ("custom-call", "while", "conditional", "convolution"):
            flops: float | None = None
        elif opcode in ("fusion", "call"):
            flops = sum(flops_of(c) for c in calls)
        else:
            flops = flops_of_single(opcode, name, line, types)
        kernels[name] = Kernel(
            name=name,
            opcode=opcode,
            kind=(km.group(1) if (km := _KIND_RE.search(line)) else None),
            type=types.get(name, ""),
            bytes=nbytes,
            flops=flops,
            op_name=meta.get("op_name"),
            source_file=src_file,
            source_line=src_line,
            calls=calls,
        )
        # Loop bodies and branches run their own thunks, named after their instructions.
        stack = list(calls)
        seen: set[str] = set()
        while stack:
            c = stack.pop()
            if c in seen:
                continue
            seen.add(c)
            for inner_name, _op, inner in parsed.get(c, []):
                owner.setdefault(inner_name, name)
                stack.extend(_CALLS_RE.findall(inner))
    return HloIndex(
        module=module.name,
        entry=entry,
        kernels=kernels,
        instructions=frozenset(types),
        owner=owner,
    )


def flops_of_single(opcode: str, name: str, line: str, types: dict[str, str]) -> float:
    """FLOPs of one unfused instruction (see NOTE [per-kernel cost from shapes])."""
    if opcode == "dot":
        operands = _operands(line)
        lhs = _dims(types.get(operands[0], "")) if operands else []
        cm = _CONTRACT_RE.search(line)
        k = 1
        for d in (int(x) for x in filter(None, cm.group(1).split(","))) if cm else []:
            k *= lhs[d] if d < len(lhs) else 1
        return 2.0 * _elements(types.get(name, "")) * k
    if opcode in ("reduce", "reduce-window"):
        operands = _operands(line)
        return float(_elements(types.get(operands[0], ""))) if operands else 0.0
    if opcode in _NO_FLOP_OPS:
        return 0.0
    return float(_elements(types.get(name, "")))


def _operands(line: str) -> list[str]:
    """Operand names of a printed instruction (``op(%a, f32[] %b)`` -> ``[a, b]``)."""
    im = _INSTR_RE.match(line)
    if not im:
        return []
    start = im.end()
    depth, end = 1, start
    while end < len(line) and depth:
        ch = line[end]
        depth += ch == "("
        depth -= ch == ")"
        end += 1
    return re.findall(r"%([\w.\-]+)", line[start : end - 1])
