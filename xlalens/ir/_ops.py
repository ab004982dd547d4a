"""THE op table: every XLA opcode's category, whether it runs as a kernel, and dtype sizes.

Diff, timing and render ask this module (never a private copy) what an op is:

- :data:`OPCODES`: opcode -> category, for every opcode of XLA's
  ``HLO_OPCODE_LIST`` (xla/hlo/ir/hlo_opcode.h, the version jaxlib 0.10 ships
  plus the ones added since: ``scaled-dot``, ``scan``, ``shuffle``).
- :data:`TRIVIAL_OPCODES`: entry-level instructions that move no data and run
  no kernel (XLA's CPU and GPU runtimes emit no thunk for them).
- :data:`NO_FLOP_OPCODES`: ops that do no arithmetic (data movement, layout,
  control flow wrappers whose cost is their body's).
- :data:`DTYPE_BITS` / :func:`dtype_bytes`: element sizes of every XLA
  primitive type, sub-byte ones (``s4`` is 4 bits, half a byte) included.
- :data:`REDUCER_CALLERS`: ops whose called computation is a scalar function
  applied inside the op (a reducer, a comparator, a mapped function).
- :data:`COLLECTIVE_KINDS` / :func:`collective_kind`: the collectives the sharding
  model prices, and the kind of an op (its async ``-start``/``-done`` halves too).
"""

from __future__ import annotations

__all__ = [
    "CATEGORIES",
    "COLLECTIVE_KINDS",
    "DTYPE_BITS",
    "NO_FLOP_OPCODES",
    "OPCODES",
    "REDUCER_CALLERS",
    "SCHEDULED_KINDS",
    "TRIVIAL_OPCODES",
    "array_bytes",
    "category",
    "collective_kind",
    "dtype_bytes",
    "is_kernel",
]

#: Bits per element of every XLA primitive type (xla_data.proto PrimitiveType).
#: ``token`` and ``opaque`` hold no data.
DTYPE_BITS: dict[str, int] = {
    "pred": 8,
    "s1": 1, "u1": 1, "s2": 2, "u2": 2, "s4": 4, "u4": 4,
    "s8": 8, "u8": 8, "s16": 16, "u16": 16, "s32": 32, "u32": 32, "s64": 64, "u64": 64,
    "f16": 16, "bf16": 16, "f32": 32, "f64": 64, "c64": 64, "c128": 128,
    "f4e2m1fn": 4,
    "f8e3m4": 8, "f8e4m3": 8, "f8e4m3fn": 8, "f8e4m3b11fnuz": 8, "f8e4m3fnuz": 8,
    "f8e5m2": 8, "f8e5m2fnuz": 8, "f8e8m0fnu": 8,
    "token": 0, "opaque": 0,
}  # fmt: skip

CATEGORIES = (
    "elementwise",
    "reduction",
    "contraction",
    "data-movement",
    "collective",
    "control-flow",
    "fusion",
    "custom",
    "random",
    "structural",
    "other",
)

_CAT = {
    "elementwise": """abs acos acosh add and asin asinh atan atan2 atanh cbrt ceil clamp
        compare complex convert cosine cosh count-leading-zeros divide erf exponential
        exponential-minus-one floor imag is-finite log log-plus-one logistic maximum minimum
        mulhi multiply negate not or popcnt power real reduce-precision remainder
        round-nearest-afz round-nearest-even rsqrt select shift-left shift-right-arithmetic
        shift-right-logical sign sine sinh sqrt stochastic-convert subtract tan tanh xor
        bitcast-convert map""",
    "reduction": """reduce reduce-window select-and-scatter sort topk batch-norm-grad
        batch-norm-inference batch-norm-training scan""",
    "contraction": "dot convolution ragged-dot scaled-dot fft cholesky triangular-solve",
    "data-movement": """broadcast reshape dynamic-reshape transpose copy copy-start copy-done
        slice dynamic-slice dynamic-update-slice concatenate pad iota reverse gather scatter
        shuffle""",
    "collective": """all-gather all-gather-start all-gather-done all-reduce all-reduce-start
        all-reduce-done all-to-all ragged-all-to-all collective-broadcast collective-permute
        collective-permute-start collective-permute-done collective-reduce reduce-scatter
        send send-done recv recv-done infeed outfeed partition-id replica-id""",
    "control-flow": "while conditional call async-start async-update async-done",
    "fusion": "fusion",
    "custom": "custom-call",
    "random": "rng rng-bit-generator rng-get-and-update-state",
    "structural": """parameter constant tuple get-tuple-element bitcast after-all
        add-dependency opt-barrier domain get-dimension-size set-dimension-size""",
}
#: opcode -> category, for every opcode in XLA's HLO_OPCODE_LIST.
OPCODES: dict[str, str] = {op: cat for cat, ops in _CAT.items() for op in ops.split()}
#: Nodes of the graph schema that are not HLO instructions (a StableHLO
#: ``func.func`` and its ``return``; docs/graph-schema.md).
_GRAPH_ONLY = {"function": "control-flow", "return": "control-flow"}

#: Entry-level instructions that run no kernel of their own.
TRIVIAL_OPCODES = frozenset(
    {"parameter", "constant", "tuple", "get-tuple-element", "bitcast", "after-all", "opt-barrier"}
)
#: Ops that do no arithmetic: their FLOPs are 0 (the cost model adds a called
#: computation's FLOPs to fusion/call/while separately).
NO_FLOP_OPCODES = frozenset(
    o
    for o in OPCODES
    if OPCODES[o] in ("data-movement", "structural", "control-flow", "fusion", "custom")
    or o in ("convert", "bitcast-convert", "infeed", "outfeed", "partition-id", "replica-id")
    or o in ("send", "send-done", "recv", "recv-done")
) | {"return", "function"}
#: Dots and convolutions, in StableHLO and HLO spellings (a graph keeps its own).
HEAVY_OPCODES = frozenset({"dot", "dot_general", "convolution"})
#: Ops that only move or retype a value, in StableHLO and HLO spellings: a weight read
#: through them is still that weight (diff's dataflow matcher, and the ground truth
#: of benchmarks/diff_truth.py). A backward convolution reads its kernel spatially
#: flipped, through ``reverse``.
LAYOUT_ONLY_OPCODES = frozenset(
    {
        "transpose",
        "reshape",
        "bitcast",
        "convert",
        "copy",
        "broadcast",
        "broadcast_in_dim",
        "reverse",
    }
)
#: Computation kinds whose instructions run one by one on each run of their
#: caller (loop bodies, conditions, branches, called functions), unlike fusion
#: bodies and reducers, which run inside one kernel.
SCHEDULED_KINDS = frozenset({"body", "condition", "branch", "function"})
#: Ops whose called computation is a scalar function run inside the op: a reducer
#: (reduce, scatter, all-reduce...), sort's comparator, map's function. Their
#: callee is summarized in labels and pictures, never drawn as a step of its own.
REDUCER_CALLERS = frozenset(
    {
        "reduce",
        "reduce-window",
        "scatter",
        "select-and-scatter",
        "all-reduce",
        "all-reduce-start",
        "reduce-scatter",
        "sort",
        "map",
    }
)
#: The collective kinds (each also as ``-start``/``-done`` async halves where XLA
#: has them): what the sharding records, the link model and the reports name.
COLLECTIVE_KINDS = (
    "all-reduce",
    "all-gather",
    "reduce-scatter",
    "all-to-all",
    "ragged-all-to-all",
    "collective-permute",
    "collective-broadcast",
)


def category(opcode: str) -> str:
    """The category of an HLO opcode (``"other"`` for one XLA does not list).

    Example:
        >>> category("convolution")
        'contraction'
    """
    return OPCODES.get(opcode) or _GRAPH_ONLY.get(opcode, "other")


def collective_kind(opcode: str) -> str | None:
    """The :data:`COLLECTIVE_KINDS` entry of an op (async halves too), or None.

    Example:
        >>> collective_kind("all-gather-start"), collective_kind("add")
        ('all-gather', None)
    """
    for suffix in ("-start", "-done"):
        if opcode.endswith(suffix):
            opcode = opcode[: -len(suffix)]
            break
    return opcode if opcode in COLLECTIVE_KINDS else None


def is_kernel(opcode: str) -> bool:
    """Whether an entry-level instruction with this opcode runs as a kernel of its own.

    Example:
        >>> is_kernel("fusion"), is_kernel("get-tuple-element")
        (True, False)
    """
    return opcode not in TRIVIAL_OPCODES


def dtype_bytes(dtype: str) -> float | None:
    """Bytes per element (0.5 for ``s4``), or None for an unknown dtype or a tuple.

    Example:
        >>> dtype_bytes("s4"), dtype_bytes("bf16"), dtype_bytes("tuple")
        (0.5, 2.0, None)
    """
    bits = DTYPE_BITS.get(dtype)
    return None if bits is None else bits / 8


def array_bytes(dtype: str, shape: tuple[int, ...] | list[int]) -> float | None:
    """Bytes of one array (dynamic dims, stored as -1, count as 0); None if the dtype is unknown.

    Example:
        >>> array_bytes("f32", (2, 3))
        24.0
    """
    size = dtype_bytes(dtype)
    if size is None:
        return None
    n = 1
    for d in shape:
        n *= max(d, 0)
    return n * size
