"""Where a step reads its own updated parameters: the scale their errors arrive at.

NOTE: [update scales] (with NOTE: [attenuation through updates] in ``_bound.py``).
jax's seed step returns the loss computed *after* the update, so the loss reads
every updated parameter ``w = w0 - d``. A correct ``w`` errs by at most
``u |w| + e`` with ``e <= rel_d * |d|`` (the update's own bound, ``_judge.judge``);
the rounding of ``w`` is one op on the loss's paths, and ``e`` is what the ops
behind ``d`` put into ``w``. Where a later op reads ``w`` that ``e`` arrives as an
absolute error on that op's result:

* an ``add`` or ``subtract`` (a bias added to a pre-activation): the result is off
  by exactly the same ``e``, so, relative to that result's peak, the ops behind
  ``d`` weigh ``|d| / peak(add)``: no model assumption beyond the bound's own;
* any other op (a ``dot`` with a weight): the bound's model (every op of
  condition at most 1, NOTE: [accumulation order]) carries ``w``'s relative error
  ``e / |w|`` on, so those ops weigh ``|d| / |w|``.

:func:`update_scales` measures, on the float64 reference, the smallest such
denominator over the ops that read each updated result (behind reshapes and
broadcasts): ``peak(add)`` for an add or subtract, ``peak(w)`` for anything else.
Proof: the first case is exact arithmetic on the reference's values. Evidence
only: the float32 run's adds are near the reference's, which the rest of the
bound already relies on (it scales every result by the reference's peak).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

# ops that pass values on unchanged (or a selection of them): follow the reader
_PASS = (
    "stablehlo.slice",
    "stablehlo.dynamic_slice",
    "stablehlo.reshape",
    "stablehlo.broadcast_in_dim",
    "stablehlo.transpose",
    "stablehlo.convert",
    "stablehlo.copy",
)
_ADDS = ("stablehlo.add", "stablehlo.subtract")


def _readers(value: Any) -> tuple[list[Any], bool]:
    """The adds/subtracts that read ``value`` (behind ops in :data:`_PASS`), and
    whether any other op (but ``func.return``) reads it."""
    adds: list[Any] = []
    other = False
    todo, seen = [value], 0
    while todo and seen < 4096:
        v = todo.pop()
        seen += 1
        for use in v.uses:
            op = use.owner
            name = op.operation.name if hasattr(op, "operation") else op.name
            if name in _PASS:
                todo.extend(op.results)
            elif name in _ADDS:
                adds.append(op)
            elif name != "func.return":
                other = True
    return adds, other


def update_scales(
    stablehlo: str | bytes, inputs: Sequence[np.ndarray], backend: str = "cpu"
) -> dict[int, float]:
    """Per updated result that other ops read: the scale its update's error arrives at.

    NOTE: [update scales]. The module is promoted to float64 and run once more with
    the results of the adds that read each updated result as extra results.

    Args:
        stablehlo: the captured module.
        inputs: its arguments, as captured.
        backend: PJRT backend that runs the promoted module.

    Returns:
        ``{result position: scale}``: the smallest peak ``|value|`` over the ops
        that read it (an add's or subtract's result; the updated result's own for
        any other op); results nothing else reads, and a module that cannot be
        run so, are left out (their own peak applies).

    Example:
        >>> update_scales(text, inputs)  # doctest: +SKIP
        {1: 2.31, 3: 1.87}
    """
    from xlalens.proof._promoted import promoted_main, return_also, run_wide
    from xlalens.proof._values import _updated_values

    with promoted_main(stablehlo) as (ir, module, main):
        if main is None:  # no promoted module: every result keeps its own peak
            return {}
        body = main.regions[0].blocks[0]
        ops = list(body.operations)
        ret = ops[-1]
        if ret.operation.name != "func.return":
            return {}
        outs = list(ret.operands)
        args = {a: i for i, a in enumerate(body.arguments)}
        producer = {r: op for op in ops for r in op.results}
        read: dict[int, tuple[list[Any], bool]] = {}
        for value, (r, _) in _updated_values(outs, args, producer).items():
            adds, other = _readers(value)
            if adds or other:
                read[r] = (adds, other)
        if not read:
            return {}
        extra = [op.result for r in sorted(read) for op in read[r][0]]
        if extra:
            return_also(main, ret, outs + extra, ir)
        text = str(module)
    try:
        values = run_wide(text, inputs, backend)
    except Exception:  # no values: every result keeps its own peak
        return {}
    out: dict[int, float] = {}
    j = len(values) - len(extra)
    for r in sorted(read):
        adds, other = read[r]
        peaks = [_peak(values[j + k]) for k in range(len(adds))]
        j += len(adds)
        if other:
            peaks.append(_peak(values[r]))
        if peaks and all(np.isfinite(peaks)):
            out[r] = min(peaks)
    return out


def _peak(a: Any) -> float:
    a = np.abs(np.asarray(a, np.float64))
    finite = a[np.isfinite(a)]
    return float(finite.max()) if finite.size else 0.0
