"""Long sequential dots charged by their own chains, from the float64 reference's terms.

NOTE: [simulated chains] a dot that the judged compiler sums in one running chain
(NOTE: [sequential accumulation] in ``_accumulate.py``) errs by up to ``(K - 1) u`` in
the worst case, and on the regression's smooth data that worst case is not far
off: the rounding errors of consecutive additions are correlated (the terms
change by less than an ulp of the partial sum from one addition to the next), so
the independence model of the ``sqrt(K)`` bound fails (2.5 ``sqrt(K) u`` observed
at 2^20, 25 ``sqrt(K) u`` at 2^24), and no bound from the op count alone lies
between the two. The error of such a chain is a property of its data and its
order, both of which are known here:

* the terms: the promoted module is run once more with the dot's operands as
  extra results, so each output element's ``K`` products are the float64
  reference's own;
* the order: XLA's loop for a dot it emits itself is a running sum in index
  order, either one scalar chain (torch_xla 2.9, TensorFlow 2.21) or a few
  vector accumulators summed at the end (jaxlib's GEMV keeps 8): every lane
  count in :data:`LANES` is run.

Each order is summed in float32 on the terms rounded to float32 (numpy's
``cumsum`` is one chain), and the chain's charge is
``3 * max_order |chain - exact| + lam * u * sqrt(sum_k s_k^2)``, its largest over
the dot's output elements relative to their largest ``|exact|`` (a result is judged
relative to its peak, ``_judge.judge``): the factor 3 and the probabilistic term
(Higham & Mary's bound on the independent part, over the partial sums ``s_k``)
leave room for the native run's own terms, which differ from the rounded reference's in their last bits.
The charge replaces ``K - 1`` only where it is smaller (it never loosens a
bound), only for dots of at least :data:`MIN_LENGTH` terms and with at most
:data:`MAX_OUTPUTS` output elements (a gradient of a small weight: the case where
the long chain decides the result), and only when no other dot or convolution of the
module has the same ``K`` and as many output elements (TensorFlow rewrites 1x1
convolutions as dots; an optimized dot takes the charge of a StableHLO dot of the same
``K`` and size, ``_bound._matched_charge``). Its limit:
a compiler that sums in an order not in :data:`LANES` is judged by these orders'
errors.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from xlalens.proof._model import LAMBDA, UNIT_ROUNDOFF

MIN_LENGTH = 4096
"""Dots shorter than this keep ``K - 1`` (cheap, and the worst case is then close)."""
MAX_OUTPUTS = 2048
"""Dots with more output elements keep ``K - 1`` (every chain is simulated together,
NOTE: [every chain at once]; 1,152 outputs at ``K = 2^20`` take a few seconds)."""
ROWS = 1024
"""Rows of products made at a time (a multiple of every lane count)."""
FEW = 16
"""Dots of fewer output elements are simulated one element at a time (at ``K = 2^20``,
one element alone took 0.06 s, a step per row 1.2 s; at 16 elements both about 0.85 s)."""
LANES = (1, 4, 8, 16, 32)
"""Accumulator counts simulated: one scalar chain, and vector accumulators."""
CHAIN_FACTOR = 3.0
"""Room for the native run's own terms: torch_xla's and TensorFlow's ``w`` at 2^20
samples err 1.3x the simulated chains' largest error."""


def _dot_dims(op: Any, ir: Any) -> tuple[list[int], ...] | None:
    from jaxlib.mlir.dialects import stablehlo

    name = op.operation.name
    if name == "stablehlo.dot":
        return [], [], [1] if _rank(op.operands[0], ir) == 2 else [0], [0]
    if name != "stablehlo.dot_general":
        return None
    d = stablehlo.DotDimensionNumbers(op.attributes["dot_dimension_numbers"])
    return (
        list(d.lhs_batching_dimensions),
        list(d.rhs_batching_dimensions),
        list(d.lhs_contracting_dimensions),
        list(d.rhs_contracting_dimensions),
    )


def _rank(v: Any, ir: Any) -> int:
    return len(ir.RankedTensorType(v.type).shape)


def _arrange(a: np.ndarray, batch: list[int], contract: list[int]) -> np.ndarray:
    """``a`` as ``[batch, free, contracting]`` (each flattened)."""
    free = [d for d in range(a.ndim) if d not in batch and d not in contract]
    t = np.transpose(a, batch + free + contract)
    b = math.prod(a.shape[d] for d in batch)
    k = math.prod(a.shape[d] for d in contract)
    return t.reshape(b, -1, k)


def _long_dots(
    module: Any, ir: Any
) -> tuple[list[tuple[Any, int, tuple, int, int]], set[tuple[int, int]]]:
    """The dots of ``main``'s body worth simulating (op, K, dims, position among
    ``main``'s dots, output elements), and (K, output elements) of every other dot
    or convolution (in a region, another function, or with too many outputs)."""
    from xlalens.proof._bound import _reduction_length

    found: list[tuple[Any, int, tuple, int, int]] = []
    others: set[tuple[int, int]] = set()
    position = [0]

    def walk(op: Any) -> None:
        for region in op.regions:
            for block in region.blocks:
                for inner in block.operations:
                    name = inner.operation.name
                    if name == "func.func":
                        is_main = ir.StringAttr(inner.attributes["sym_name"]).value == "main"
                        for r in inner.regions:
                            for b in r.blocks:
                                for o in b.operations:
                                    visit(o, is_main)
                    else:
                        visit(inner, False)

    def visit(op: Any, top: bool) -> None:
        name = op.operation.name
        if name in ("stablehlo.convolution", "stablehlo.dot", "stablehlo.dot_general"):
            k = _reduction_length(op, name, ir) or 0
            dims = _dot_dims(op, ir) if top else None
            out = math.prod(ir.RankedTensorType(op.result.type).shape)
            if dims is not None and k >= MIN_LENGTH and out <= MAX_OUTPUTS:
                found.append((op, k, dims, position[0], out))
            else:
                others.add((k, out))
            if top and name != "stablehlo.convolution":
                position[0] += 1
        walk(op)

    walk(module.operation)
    return found, others


def _charge(lhs: np.ndarray, rhs: np.ndarray, dims: tuple, lam: float) -> float:
    """The dot's charge: its output elements' largest error estimate, in units of ``u``
    times their largest ``|exact|`` (the judge scales a result by its peak).

    Each output element's own chains (NOTE: [every chain at once]); a dot of fewer than
    :data:`FEW` output elements one element at a time, where a step per row would cost
    more than the element's own ``cumsum`` calls (the same values: the two are tested
    equal).
    """
    lb, rb, lc, rc = dims
    a, b = _arrange(lhs, lb, lc), _arrange(rhs, rb, rc)  # [batch, M, K], [batch, N, K]
    each = a.shape[1] * b.shape[1] < FEW
    return (_charge_each if each else _charge_rows)(a, b, lam)


def _charge_each(a: np.ndarray, b: np.ndarray, lam: float) -> float:
    """:func:`_charge` one output element at a time (``a``, ``b`` arranged)."""
    u = UNIT_ROUNDOFF["f32"]
    worst = peak = 0.0
    for i in range(a.shape[0]):
        for m in range(a.shape[1]):
            for n in range(b.shape[1]):
                terms = a[i, m] * b[i, n]
                exact = float(np.sum(terms))
                if not math.isfinite(exact):
                    return math.inf
                t32 = a[i, m].astype(np.float32) * b[i, n].astype(np.float32)
                off = 0.0
                for lanes in LANES:
                    pad = (-t32.size) % lanes
                    t = np.concatenate([t32, np.zeros(pad, np.float32)]) if pad else t32
                    acc = np.cumsum(t.reshape(-1, lanes), axis=0, dtype=np.float32)[-1]
                    total = float(np.cumsum(acc, dtype=np.float32)[-1])
                    off = max(off, abs(total - exact))
                partial = np.cumsum(terms)
                spread = lam * u * float(np.sqrt(np.dot(partial, partial)))
                worst = max(worst, CHAIN_FACTOR * off + spread)
                peak = max(peak, abs(exact))
    return worst / (u * peak) if peak > 0 else math.inf


def _charge_rows(a: np.ndarray, b: np.ndarray, lam: float) -> float:
    """:func:`_charge` with every output element's chain at once (``a``, ``b`` arranged).

    NOTE: [every chain at once] Each output element's chain is the running sum of its
    ``K`` products in index order, so one step of every chain is one row: the products
    ``a[k, m] * b[k, n]`` of all output elements ``(m, n)`` at index ``k``, added to
    the accumulators in float32. The rows are made :data:`ROWS` at a time and added
    one by one (``lanes`` rows at a time for ``lanes`` accumulators), which is each
    element's own chain, in its own order, with its inner loop over every output
    element. Simulated one element at a time (``numpy.cumsum`` of its ``K`` products
    per lane count) it cost about 80 ms per element at ``K = 2^20``, which is why only
    dots of a few hundred outputs could be charged by their chain.
    """
    u = UNIT_ROUNDOFF["f32"]
    worst = peak = 0.0
    for i in range(a.shape[0]):
        ai, bi = a[i].T, b[i].T  # [K, M], [K, N]
        k, m, n = ai.shape[0], ai.shape[1], bi.shape[1]
        exact = (ai.T @ bi).ravel()  # float64: the exact sums, to the last bits
        if not np.all(np.isfinite(exact)):
            return math.inf
        a32, b32 = ai.astype(np.float32), bi.astype(np.float32)
        accs = {lanes: np.zeros(lanes * m * n, np.float32) for lanes in LANES}
        run = np.zeros(m * n)  # the float64 partial sum s_k so far
        squares = np.zeros(m * n)  # sum_k s_k^2
        for start in range(0, k, ROWS):
            stop = min(start + ROWS, k)
            rows32 = (a32[start:stop, :, None] * b32[start:stop, None, :]).reshape(-1, m * n)
            rows64 = (ai[start:stop, :, None] * bi[start:stop, None, :]).reshape(-1, m * n)
            # The spread's partial sums (its probabilistic part: their rounding is
            # immaterial), each element's along a contiguous row.
            part = np.cumsum(np.ascontiguousarray(rows64.T), axis=1)
            part += run[:, None]
            squares += np.einsum("cr,cr->c", part, part)
            run = part[:, -1].copy()
            for lanes, acc in accs.items():
                # Row k goes to lane k % lanes (ROWS is a multiple of every lane count; a
                # short last chunk is padded with zeros, which add nothing). Added one
                # step at a time, in order: each element's own float32 chain.
                chunk = rows32
                if len(chunk) % lanes:
                    pad = np.zeros((lanes - len(chunk) % lanes, m * n), np.float32)
                    chunk = np.concatenate([chunk, pad])
                for step in chunk.reshape(-1, lanes * m * n):
                    acc += step
        off = np.zeros(m * n)
        for lanes, acc in accs.items():
            total = np.cumsum(acc.reshape(lanes, m * n), axis=0, dtype=np.float32)[-1]
            off = np.maximum(off, np.abs(total.astype(np.float64) - exact))
        spread = lam * u * np.sqrt(squares)
        worst = max(worst, float(np.max(CHAIN_FACTOR * off + spread)))
        peak = max(peak, float(np.max(np.abs(exact))))
    return worst / (u * peak) if peak > 0 else math.inf


def chain_charges(
    stablehlo: str | bytes,
    inputs: Sequence[np.ndarray],
    backend: str = "cpu",
    *,
    lam: float = LAMBDA,
) -> dict[int, tuple[int, float]]:
    """Per long dot of ``main``, its length ``K`` and the charge of its chain.

    NOTE: [simulated chains]. The charge replaces ``K - 1`` in the sequential term
    ``S_i`` of :func:`xlalens.proof.error_bound` (``chains=``) for that dot (in the
    optimized module: a sequential dot of the same ``K`` and size that the same results
    depend on); a ``K`` shared with an unsimulated dot or convolution, dots whose
    terms the reference cannot give, or whose exact sums are all 0, are left out
    (they keep ``K - 1``).

    Args:
        stablehlo: the captured module.
        inputs: its arguments, as captured.
        backend: PJRT backend that runs the promoted module.
        lam: safety factor of the probabilistic part.

    Returns:
        ``{position: (K, charge)}`` with ``charge < K - 1``, ``position`` the dot's
        index among the ``dot``/``dot_general`` ops of ``main``'s body, in order;
        empty when no dot qualifies.

    Example:
        >>> chain_charges(text, inputs)  # doctest: +SKIP
        {1: (1048576, 8511.7)}
    """
    from xlalens.proof._promoted import promoted_main, return_also, run_wide

    with promoted_main(stablehlo) as (ir, module, main):
        if main is None:  # no promoted module: K - 1 stays
            return {}
        dots, others = _long_dots(module, ir)
        dots = [d for d in dots if (d[1], d[4]) not in others]
        if not dots:
            return {}
        ret = next(
            op for op in main.regions[0].blocks[0].operations if op.operation.name == "func.return"
        )
        n = len(ret.operands)
        outs = list(ret.operands) + [v for op, *_ in dots for v in op.operands[:2]]
        # the same module, returning each long dot's two operands after its own results
        return_also(main, ret, outs, ir)
        text = str(module)
    try:
        values = run_wide(text, inputs, backend)[n:]
    except Exception:  # no terms: these dots keep K - 1 (the worst case)
        return {}
    out: dict[int, tuple[int, float]] = {}
    for j, (_, k, dims, position, _) in enumerate(dots):
        lhs, rhs = (np.asarray(v, np.float64) for v in values[2 * j : 2 * j + 2])
        charge = _charge(lhs, rhs, dims, lam)
        if charge < k - 1:
            out[position] = (k, charge)
    return out
