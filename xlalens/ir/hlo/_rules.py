"""Per-opcode rules XLA's parser enforces while it reads an instruction.

``hlo_parser.cc`` (``CreateInstruction``) reads each opcode's operands with an
expected count (``ParseOperands(&operands, builder, /*expected_size=*/N)``)
and its attributes against a table where some are ``required=true``; a text
that breaks either is a syntax error there ("expects 1 operands, but has 2
operands", "attribute dimensions is expected but not seen"). These tables hold
the same numbers for the opcodes of the installed XLA; opcodes not listed
(custom-call, fusion's operands, opcodes newer than ours) take any operands, and
attributes no table names stay accepted, so modules of newer XLAs still load.
"""

from __future__ import annotations

__all__ = ["ARITY", "REQUIRED", "check"]

_UNARY = (
    "abs round-nearest-afz round-nearest-even bitcast ceil count-leading-zeros copy copy-done "
    "imag is-finite floor not negate popcnt real sign exponential-minus-one log log-plus-one "
    "logistic sqrt cbrt rsqrt tanh erf sine cosine tan exponential all-gather-done "
    "all-reduce-done collective-permute-done convert bitcast-convert reshape reduce-precision "
    "get-tuple-element transpose reverse slice broadcast cholesky fft topk copy-start while "
    "send-done recv recv-done infeed"
)
_BINARY = (
    "add divide multiply subtract atan2 complex maximum minimum power remainder and or xor "
    "shift-left shift-right-arithmetic shift-right-logical stochastic-convert compare "
    "convolution triangular-solve pad outfeed send add-dependency"
)
#: opcode -> the operand count XLA's parser expects.
ARITY: dict[str, int] = {
    **dict.fromkeys(_UNARY.split(), 1),
    **dict.fromkeys(_BINARY.split(), 2),
    **dict.fromkeys(("select", "clamp", "select-and-scatter", "batch-norm-training"), 3),
    **dict.fromkeys(("batch-norm-inference", "batch-norm-grad"), 5),
    **dict.fromkeys(("iota", "replica-id", "partition-id", "rng-get-and-update-state"), 0),
}
#: opcode -> attributes XLA's parser requires (``required=true`` in its tables).
REQUIRED: dict[str, tuple[str, ...]] = {
    "iota": ("iota_dimension",),
    "topk": ("k",),
    "all-gather": ("dimensions",),
    "all-gather-start": ("dimensions",),
    "all-reduce": ("to_apply",),
    "all-reduce-start": ("to_apply",),
    "reduce-scatter": ("to_apply", "dimensions"),
    "collective-broadcast": ("replica_groups",),
    "collective-permute": ("source_target_pairs",),
    "collective-permute-start": ("source_target_pairs",),
    "sort": ("dimensions", "to_apply"),
    "while": ("condition", "body"),
    "get-tuple-element": ("index",),
    "call": ("to_apply",),
    "reduce-window": ("to_apply",),
    "convolution": ("dim_labels",),
    "fft": ("fft_type", "fft_length"),
    "compare": ("direction",),
    "concatenate": ("dimensions",),
    "map": ("to_apply",),
    "reduce": ("to_apply", "dimensions"),
    "reverse": ("dimensions",),
    "select-and-scatter": ("select", "scatter"),
    "slice": ("slice",),
    "dynamic-slice": ("dynamic_slice_sizes",),
    "transpose": ("dimensions",),
    "batch-norm-training": ("epsilon", "feature_index"),
    "batch-norm-inference": ("epsilon", "feature_index"),
    "batch-norm-grad": ("epsilon", "feature_index"),
    "pad": ("padding",),
    "fusion": ("calls", "kind"),
    "rng": ("distribution",),
    "rng-get-and-update-state": ("delta",),
    "rng-bit-generator": ("algorithm",),
    "reduce-precision": ("exponent_bits", "mantissa_bits"),
    "custom-call": ("custom_call_target",),
}


def check(opcode: str, n_operands: int, attrs: dict) -> str | None:
    """What XLA's parser would reject in this instruction, as a message; None if nothing.

    Example:
        >>> check("negate", 2, {})
        "'negate' takes 1 operand, found 2"
    """
    want = ARITY.get(opcode)
    if want is not None and want != n_operands:
        return f"{opcode!r} takes {want} operand{'s' if want != 1 else ''}, found {n_operands}"
    for key in REQUIRED.get(opcode, ()):
        if key not in attrs:
            return f"attribute {key}= that {opcode!r} requires"
    return None
