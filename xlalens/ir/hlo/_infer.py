"""Result types of instructions written without one, after XLA's ``ShapeInference``.

XLA's parser (``hlo_parser.cc``, ``CreateInstruction``) lets the result type be
left out (``%a = add(x, y)``) for the opcodes whose ``maybe_infer_shape`` call
can work it out from the operands and attributes: elementwise unary, binary and
ternary ops, compare, tuple, get-tuple-element, broadcast, concatenate, reduce,
reverse, transpose, dot, pad, call, while, map, sort, topk, conditional,
cholesky, triangular-solve, select-and-scatter, reduce-window and the
batch-norm ops. Other opcodes need the type. :func:`infer_type` applies the
same rules to the operand types the parser has read, and returns the type as
HLO text with XLA's default layout (``{rank-1,...,0}``), which is what XLA's
printer writes for an inferred type.
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["INFERABLE", "infer_type"]

#: (dtype, shape, layout, tuple element type texts or None), as ``_syntax.TypeInfo``.
TypeInfo = tuple

_UNARY = frozenset(
    "abs round-nearest-afz round-nearest-even ceil count-leading-zeros copy imag is-finite "
    "floor not negate popcnt real sign exponential-minus-one log log-plus-one logistic sqrt "
    "cbrt rsqrt tanh erf sine cosine tan exponential opt-barrier".split()
)
_BINARY = frozenset(
    "add divide multiply subtract atan2 complex maximum minimum power remainder and or xor "
    "shift-left shift-right-arithmetic shift-right-logical compare".split()
)
_OTHER = frozenset(
    "select clamp tuple get-tuple-element broadcast concatenate reduce reverse transpose dot "
    "pad call while map sort topk conditional cholesky triangular-solve select-and-scatter "
    "reduce-window batch-norm-training batch-norm-inference batch-norm-grad".split()
)
#: Opcodes whose result type XLA's parser infers when it is left out.
INFERABLE = _UNARY | _BINARY | _OTHER

_INTS = re.compile(r"-?\d+")
_COMPLEX_PART = {"c64": "f32", "c128": "f64"}
_PART_COMPLEX = {"f32": "c64", "f64": "c128"}


class InferError(ValueError):
    """The operands do not fit the rule (the message says why)."""


def array_text(dtype: str, dims: tuple[int, ...] | list[int]) -> str:
    """``f32[2,3]{1,0}``: an array type with XLA's default (major-to-minor) layout."""
    body = ",".join("?" if d < 0 else str(d) for d in dims)
    if not dims or dtype == "token":
        return f"{dtype}[{body}]"
    return f"{dtype}[{body}]{{{','.join(str(i) for i in range(len(dims) - 1, -1, -1))}}}"


def _ints(raw: str | None, what: str) -> list[int]:
    if raw is None:
        raise InferError(f"it needs {what}=")
    return [int(x) for x in _INTS.findall(raw)]


def _array(info: TypeInfo, what: str) -> tuple[str, tuple[int, ...]]:
    if info[0] == "tuple":
        raise InferError(f"{what} is a tuple, an array was expected")
    return info[0], info[1]


def infer_type(
    opcode: str,
    operands: list[tuple[str, TypeInfo]],
    attrs: dict[str, str],
    type_of: Callable[[str], TypeInfo],
    root_type: Callable[[str], tuple[str, TypeInfo]],
) -> str:
    """The result type text of ``opcode`` applied to ``operands`` (type text, TypeInfo each).

    Args:
        opcode: the instruction's opcode (one of :data:`INFERABLE`).
        operands: the operands' types in order.
        attrs: the instruction's attributes as text (``dimensions``, ``index`` ...).
        type_of: the TypeInfo of a type text (tuple elements).
        root_type: the root's type of a called computation, by name.

    Raises:
        InferError: the opcode has no inference rule or the operands break it.
    """
    if opcode not in INFERABLE:
        raise InferError("XLA infers result types only for elementwise, tuple and shape ops")
    n = len(operands)
    if opcode in _UNARY:
        if n != 1:
            raise InferError(f"it takes 1 operand, got {n}")
        text, info = operands[0]
        if opcode == "opt-barrier" or info[0] == "tuple":
            return text
        dtype, dims = info[0], info[1]
        if opcode == "is-finite":
            dtype = "pred"
        elif opcode in ("real", "imag", "abs"):
            dtype = _COMPLEX_PART.get(dtype, dtype)
        return array_text(dtype, dims)
    if opcode in _BINARY:
        if n != 2:
            raise InferError(f"it takes 2 operands, got {n}")
        (ld, ls), (_rd, rs) = _array(operands[0][1], "lhs"), _array(operands[1][1], "rhs")
        if ls != rs and ls and rs:
            raise InferError(f"operand shapes {list(ls)} and {list(rs)} differ")
        dims = ls or rs
        dtype = (
            "pred"
            if opcode == "compare"
            else _PART_COMPLEX.get(ld, ld)
            if opcode == "complex"
            else ld
        )
        return array_text(dtype, dims)
    return _RULES[opcode](operands, attrs, type_of, root_type)


def _select(ops, attrs, type_of, root_type) -> str:
    if len(ops) != 3:
        raise InferError(f"it takes 3 operands, got {len(ops)}")
    return ops[1][0] if ops[1][1][0] == "tuple" else array_text(*_array(ops[1][1], "on_true"))


def _tuple(ops, attrs, type_of, root_type) -> str:
    return "(" + ", ".join(t for t, _ in ops) + ")"


def _gte(ops, attrs, type_of, root_type) -> str:
    if len(ops) != 1 or ops[0][1][0] != "tuple":
        raise InferError("its operand must be one tuple")
    idx = _ints(attrs.get("index"), "index")
    elems = ops[0][1][3] or []
    if not idx or not 0 <= idx[0] < len(elems):
        raise InferError(f"index {attrs.get('index')} is outside the tuple of {len(elems)}")
    return elems[idx[0]]


def _broadcast(ops, attrs, type_of, root_type) -> str:
    # InferBroadcastShape(operand, broadcast_sizes): the sizes come first.
    dtype, dims = _array(ops[0][1], "operand")
    sizes = _ints(attrs.get("dimensions", "{}"), "dimensions")
    return array_text(dtype, (*sizes, *dims))


def _concatenate(ops, attrs, type_of, root_type) -> str:
    (dim,) = _ints(attrs.get("dimensions"), "dimensions") or [None]
    if not ops or dim is None:
        raise InferError("it needs operands and dimensions={d}")
    dtype, dims = _array(ops[0][1], "operand 0")
    out = list(dims)
    if not 0 <= dim < len(out):
        raise InferError(f"dimension {dim} is outside rank {len(out)}")
    for _t, info in ops[1:]:
        _d, other = _array(info, "operand")
        if len(other) != len(out):
            raise InferError("operands of different ranks")
        out[dim] += other[dim]
    return array_text(dtype, out)


def _reduce(ops, attrs, type_of, root_type) -> str:
    if not ops or len(ops) % 2:
        raise InferError(f"it takes an even number of operands, got {len(ops)}")
    drop = set(_ints(attrs.get("dimensions"), "dimensions"))
    half = len(ops) // 2
    outs = []
    for (_t, info), (_it, init) in zip(ops[:half], ops[half:], strict=True):
        _dtype, dims = _array(info, "operand")
        outs.append(array_text(init[0], [d for i, d in enumerate(dims) if i not in drop]))
    return outs[0] if half == 1 else "(" + ", ".join(outs) + ")"


def _reverse(ops, attrs, type_of, root_type) -> str:
    return array_text(*_array(ops[0][1], "operand"))


def _transpose(ops, attrs, type_of, root_type) -> str:
    dtype, dims = _array(ops[0][1], "operand")
    perm = _ints(attrs.get("dimensions"), "dimensions")
    if sorted(perm) != list(range(len(dims))):
        raise InferError(f"dimensions {perm} is no permutation of rank {len(dims)}")
    text = array_text(dtype, [dims[p] for p in perm])
    layout = ops[0][1][2]
    if layout is None:
        m2m = list(range(len(dims) - 1, -1, -1))
    else:
        m2m = _ints(layout, "layout") if ":" not in layout else []
    if len(m2m) != len(dims) or len(dims) < 2:
        return text
    # InferTransposeShape keeps the physical order: the layout is permuted too.
    inverse = [0] * len(perm)
    for i, p in enumerate(perm):
        inverse[p] = i
    return text[: text.index("]") + 1] + "{" + ",".join(str(inverse[d]) for d in m2m) + "}"


def _dot(ops, attrs, type_of, root_type) -> str:
    if len(ops) < 2:
        raise InferError("it takes 2 operands")
    ld, ls = _array(ops[0][1], "lhs")
    _rd, rs = _array(ops[1][1], "rhs")
    lb = _ints(attrs.get("lhs_batch_dims", "{}"), "lhs_batch_dims")
    rb = _ints(attrs.get("rhs_batch_dims", "{}"), "rhs_batch_dims")
    lc = _ints(attrs.get("lhs_contracting_dims", "{}"), "lhs_contracting_dims")
    rc = _ints(attrs.get("rhs_contracting_dims", "{}"), "rhs_contracting_dims")
    if any(not 0 <= d < len(ls) for d in lb + lc) or any(not 0 <= d < len(rs) for d in rb + rc):
        raise InferError("a batch or contracting dimension is outside its operand's rank")
    out = [ls[d] for d in lb]
    out += [d for i, d in enumerate(ls) if i not in lb and i not in lc]
    out += [d for i, d in enumerate(rs) if i not in rb and i not in rc]
    return array_text(ld, out)


def _pad(ops, attrs, type_of, root_type) -> str:
    dtype, dims = _array(ops[0][1], "operand")
    cfg = [
        [int(x) for x in part.split("_")]
        for part in (attrs.get("padding") or "").split("x")
        if part
    ]
    if len(cfg) != len(dims):
        raise InferError(f"padding has {len(cfg)} dimensions, the operand {len(dims)}")
    out = []
    for d, (lo, hi, *interior) in zip(dims, cfg, strict=True):
        inner = interior[0] if interior else 0
        out.append(lo + hi + d + max(d - 1, 0) * inner)
    return array_text(dtype, out)


def _callee(attrs: dict[str, str], key: str) -> str:
    raw = attrs.get(key)
    if raw is None:
        raise InferError(f"it needs {key}=")
    return raw.strip().lstrip("%")


def _call(ops, attrs, type_of, root_type) -> str:
    return root_type(_callee(attrs, "to_apply"))[0]


def _while(ops, attrs, type_of, root_type) -> str:
    return ops[0][0]


def _map(ops, attrs, type_of, root_type) -> str:
    _dtype, dims = _array(ops[0][1], "operand")
    rtype = root_type(_callee(attrs, "to_apply"))[1]
    return array_text(rtype[0], dims)


def _sort(ops, attrs, type_of, root_type) -> str:
    if len(ops) == 1:
        return ops[0][0]
    return "(" + ", ".join(t for t, _ in ops) + ")"


def _topk(ops, attrs, type_of, root_type) -> str:
    dtype, dims = _array(ops[0][1], "operand")
    k = _ints(attrs.get("k"), "k")
    out = [*dims[:-1], k[0]]
    return f"({array_text(dtype, out)}, {array_text('s32', out)})"


def _conditional(ops, attrs, type_of, root_type) -> str:
    if "branch_computations" in attrs:
        names = [s.strip().lstrip("%") for s in attrs["branch_computations"].strip("{}").split(",")]
    else:
        names = [_callee(attrs, "true_computation")]
    return root_type(names[0])[0]


def _operand0(ops, attrs, type_of, root_type) -> str:
    return ops[0][0]


def _operand1(ops, attrs, type_of, root_type) -> str:
    if len(ops) < 2:
        raise InferError("it takes 2 operands")
    return ops[1][0]


def _reduce_window(ops, attrs, type_of, root_type) -> str:
    _dtype, dims = _array(ops[0][1], "operand")
    win = dict(re.findall(r"(\w+)=([^\s}]+)", attrs.get("window", "")))

    def per_dim(key: str, default: int) -> list[int]:
        if key not in win:
            return [default] * len(dims)
        return [int(x) for x in win[key].split("x")]

    size, stride = per_dim("size", 1), per_dim("stride", 1)
    lhs_dil, rhs_dil = per_dim("lhs_dilate", 1), per_dim("rhs_dilate", 1)
    pads = [[int(a), int(b)] for a, b in re.findall(r"(-?\d+)_(-?\d+)", win.get("pad", ""))]
    pads = pads or [[0, 0]] * len(dims)
    out = []
    for i, d in enumerate(dims):
        base = (d - 1) * lhs_dil[i] + 1 if d else 0
        padded = base + pads[i][0] + pads[i][1]
        eff = (size[i] - 1) * rhs_dil[i] + 1
        out.append(max(0, (padded - eff) // stride[i] + 1) if padded >= eff else 0)
    return array_text(_init_dtype(ops), out)


def _init_dtype(ops) -> str:
    """The element type of a reduce-window: its init value's."""
    half = len(ops) // 2
    return ops[half][1][0] if half < len(ops) else ops[0][1][0]


def _bn_training(ops, attrs, type_of, root_type) -> str:
    feat = ops[1][0] if len(ops) > 1 else ops[0][0]
    return f"({ops[0][0]}, {feat}, {feat})"


_RULES = {
    "select": _select,
    "clamp": _operand1,
    "tuple": _tuple,
    "get-tuple-element": _gte,
    "broadcast": _broadcast,
    "concatenate": _concatenate,
    "reduce": _reduce,
    "reverse": _reverse,
    "transpose": _transpose,
    "dot": _dot,
    "pad": _pad,
    "call": _call,
    "while": _while,
    "map": _map,
    "sort": _sort,
    "topk": _topk,
    "conditional": _conditional,
    "cholesky": _operand0,
    "triangular-solve": _operand1,
    "select-and-scatter": _operand0,
    "reduce-window": _reduce_window,
    "batch-norm-training": _bn_training,
    "batch-norm-inference": _operand0,
    "batch-norm-grad": _bn_training,
}
