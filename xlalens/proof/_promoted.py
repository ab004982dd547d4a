"""The promoted module run once more: ``main`` returning values it computes but does not return.

The chain charges (``_chains.py``) read each long dot's operands and the update scales
(``_updates.py``) the adds that read an updated result, both from the float64 reference
run a second time with those values as extra results.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from xlalens.proof._bound import _mlir
from xlalens.proof._judge import promote_to_f64
from xlalens.proof._values import inline_main_call


def main_func(module: Any, ir: Any) -> Any | None:
    """The ``func.func @main`` of a parsed module, else None."""
    return next(
        (
            op
            for op in module.body.operations
            if op.operation.name == "func.func"
            and ir.StringAttr(op.attributes["sym_name"]).value == "main"
        ),
        None,
    )


@contextmanager
def promoted_main(stablehlo: str | bytes) -> Iterator[tuple[Any, Any, Any]]:
    """``(ir, module, main)`` of the module promoted to float64, inside its MLIR context.

    ``module`` and ``main`` are None where the promoted text does not parse or has no
    ``@main``: the caller then keeps its bound as it is (the chain charges their K - 1,
    the update scales each result's own peak).
    """
    if isinstance(stablehlo, bytes):
        stablehlo = stablehlo.decode()
    ctx, ir = _mlir()
    with ctx, ir.Location.unknown():
        try:
            module = ir.Module.parse(promote_to_f64(stablehlo))
        except Exception:  # no float64 text: the reference is unavailable too
            module = None
        if module is not None:
            # the same body error_bound follows (NOTE: [a main that only calls] in _values.py)
            try:
                inline_main_call(module, ir)
            except Exception:  # as error_bound: main as written
                module = ir.Module.parse(promote_to_f64(stablehlo))
        yield ir, module, None if module is None else main_func(module, ir)


def return_also(main: Any, ret: Any, outs: Sequence[Any], ir: Any) -> None:
    """Make ``main`` return ``outs`` (its own results, then extra values), in place.

    The chain charges and the update scales both read values that ``main`` computes but
    does not return: the module is run once more, returning them after its own results.
    """
    from jaxlib.mlir.dialects import func

    with ir.InsertionPoint(ret):
        func.ReturnOp(list(outs))
    ret.erase()
    inputs_t = ir.FunctionType(ir.TypeAttr(main.attributes["function_type"]).value).inputs
    main.attributes["function_type"] = ir.TypeAttr.get(
        ir.FunctionType.get(inputs_t, [v.type for v in outs])
    )
    if "res_attrs" in main.attributes:
        del main.attributes["res_attrs"]


def run_wide(text: str, inputs: Sequence[Any], backend: str) -> list[Any]:
    """Run a float64-promoted module on its float32 inputs widened to float64."""
    import numpy as np

    from xlalens import _runtime

    compiled = _runtime.compile_stablehlo(text, backend)
    wide = [a.astype(np.float64) if a.dtype == np.float32 else a for a in inputs]
    return list(_runtime.run(compiled, wide))
