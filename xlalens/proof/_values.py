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


def inline_main_call(module: Any, ir: Any) -> bool:
    """Move the body of the function ``main`` only calls into ``main``, in place.

    NOTE: [a main that only calls] jax lowers a user's jitted step called from the
    capture's own ``jit`` as ``main`` = ``call @step(args)`` and a ``return`` of its
    results. Followed from ``main`` alone, every result then depends on the whole
    call (one op): no result is seen as a parameter update, and the per-result
    bound, the chain charges and the attenuation through updates are lost (a user's
    8-feature mlp at 2^20: 4 of 9 results changed by 1e-3 passed). When ``main``'s
    body is exactly such a call of a function called nowhere else, that function's
    ops are moved into ``main`` (its arguments replaced by the call's operands, the
    call's results by what it returns) and it is erased; repeated while ``main`` is
    still one call. Same values, same ops: only the nesting changes.

    Returns:
        True when anything was moved.
    """
    moved = False
    for _ in range(8):
        funcs = {
            ir.StringAttr(op.attributes["sym_name"]).value: op
            for op in module.body.operations
            if op.operation.name == "func.func"
        }
        main = funcs.get("main")
        if main is None or len(main.regions[0].blocks) != 1:
            return moved
        ops = list(main.regions[0].blocks[0].operations)
        if len(ops) != 2 or ops[0].operation.name != "func.call":
            return moved
        call = ops[0]
        callee_name = ir.FlatSymbolRefAttr(call.attributes["callee"]).value
        callee = funcs.get(callee_name)
        if callee is None or callee_name == "main" or len(callee.regions[0].blocks) != 1:
            return moved
        if _calls(module, ir, callee_name) != 1:
            return moved  # called elsewhere too: its body cannot move
        block = callee.regions[0].blocks[0]
        inner = list(block.operations)
        ret = inner[-1]
        if ret.operation.name != "func.return" or len(ret.operands) != len(call.results):
            return moved
        for arg, operand in zip(block.arguments, call.operands):
            arg.replace_all_uses_with(operand)
        for op in inner[:-1]:
            op.move_before(call)
        for res, value in zip(call.results, ret.operands):
            res.replace_all_uses_with(value)
        call.erase()
        callee.erase()
        moved = True
    return moved


def _calls(module: Any, ir: Any, name: str) -> int:
    """How many ``func.call`` ops of the module call ``name``."""
    count = 0

    def visit(op: Any) -> Any:
        nonlocal count
        if op.name == "func.call" and ir.FlatSymbolRefAttr(op.attributes["callee"]).value == name:
            count += 1
        return ir.WalkResult.ADVANCE

    module.operation.walk(visit)
    return count
