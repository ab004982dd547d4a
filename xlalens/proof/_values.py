"""Values of ``main`` as the proof follows them: behind exact ops, and parameter updates."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from xlalens.proof._model import _FLOAT_TYPE

# Ops that move or widen values without rounding a float32 value.
_EXACT = ("reshape", "transpose", "convert", "copy", "bitcast_convert", "broadcast_in_dim")


def _behind_exact(v: Any, producer: Mapping[Any, Any]) -> Any:
    """The value behind ops that do not round (reshape, copy, convert...)."""
    for _ in range(64):
        op = producer.get(v)
        if op is None or op.operation.name.split(".", 1)[-1] not in _EXACT:
            return v
        if len(op.operands) != 1 or _FLOAT_TYPE.search(str(op.operands[0].type)) is None:
            return v
        v = op.operands[0]
    return v


def _arg_side(op: Any, v: Any, args: Mapping[Any, int], producer: Mapping[Any, Any]) -> int | None:
    """Which operand of ``op`` (``arg - update``, ``arg + update``) is the argument
    ``v`` updates (the same type as ``v``), else None."""
    if op is None or op.operation.name not in ("stablehlo.subtract", "stablehlo.add"):
        return None
    sides = (0, 1) if op.operation.name == "stablehlo.add" else (0,)
    for side in sides:
        first = _behind_exact(op.operands[side], producer)
        if first in args and str(first.type) == str(v.type):
            return side
    return None


def _updated_values(
    outs: Sequence[Any], args: Mapping[Any, int], producer: Mapping[Any, Any]
) -> dict[Any, tuple[int, int]]:
    """The ``arg +- update`` values ``main`` returns: value -> (result position, the
    argument's operand index in the op that makes it)."""
    cuts: dict[Any, tuple[int, int]] = {}
    for r, v in enumerate(outs):
        value = _behind_exact(v, producer)
        side = _arg_side(producer.get(value), v, args, producer)
        if side is not None:
            cuts.setdefault(value, (r, side))
    return cuts
