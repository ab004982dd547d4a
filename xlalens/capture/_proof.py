"""The proof of capture: a float64 reference and an error bound derived from the module.

NOTE: [why not a fixed rtol] a float32 step over 2^20 samples sums 2^20 terms in
an order each framework (and each XLA version) picks; two correct captures then
differ by far more than rtol 1e-5 (issue 10: 3e-5 at 2^20). Comparing the
replay with the native result can only say "they differ"; it cannot say which
one is wrong, nor whether either is. So we compute what the step *should* give:

1. the captured StableHLO with every ``f32`` promoted to ``f64`` (types and
   constants; :func:`promote_to_f64`), compiled and run through the same PJRT
   runtime on the same inputs: the float64 reference;
2. an error bound derived from the module itself, op by op
   (:func:`error_bound`): for a result computed in a precision with unit
   roundoff ``u``, ``|got - ref| <= lam * u * A * scale``, ``scale`` the larger
   of ``max|ref|`` and the step's median output magnitude
   (:func:`magnitude_floor`), where
   ``A = sum over reductions of sqrt(K) + sqrt(number of float ops)`` and ``K``
   is the reduction's length (dot_general contracting size, reduce dimensions,
   reduce_window window, convolution window times input features). ``sqrt(K)``
   is the probabilistic bound of Higham & Mary (SIAM J. Sci. Comput. 41(5),
   2019): with independent rounding errors, a sum of ``K`` terms errs by at most
   ``lam * sqrt(K) * u`` times the sum of magnitudes with probability at least
   ``1 - 2 exp(-lam^2 / 2)`` per term chain. Summing over every reduction of the
   module treats them as if chained, which over-counts parallel branches: safe.
3. a capture matches when the replay AND the native result are both within the
   bound of the reference. Two frontends agree when each is within its own bound
   of the truth, so their difference is within the sum of both bounds.

The bound is per module and per result tensor (scaled by the tensor's largest
reference magnitude), so it covers any workload (mlp, cnn, transformer, a user
step) without knowing its name. docs/capture.md states its limits (loops count
once; ill-conditioned steps can exceed it).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

LAMBDA = 8.0
"""Safety factor of the probabilistic bound (failure odds ~ 2 exp(-32) per chain)."""

# Unit roundoff (half the machine epsilon) of the float types a module may compute in.
UNIT_ROUNDOFF = {
    "f64": 2.0**-53,
    "f32": 2.0**-24,
    "tf32": 2.0**-11,
    "bf16": 2.0**-8,
    "f16": 2.0**-11,
}
_FLOAT_TYPE = re.compile(r"(?<=[<x])(f64|f32|tf32|bf16|f16)(?=>)")


class ReferenceUnavailable(Exception):
    """The float64 reference could not be built (the module does not promote or compile)."""


@dataclass(frozen=True, slots=True)
class ErrorBound:
    """How far a correct float result may be from the float64 reference, from the module."""

    unit_roundoff: float
    """``u`` of the lowest float precision the module computes in (2^-24 for f32)."""
    amplification: float
    """``A``: sum of sqrt(reduction length) over reductions + sqrt(float op count)."""
    lam: float
    """The safety factor ``lam`` (:data:`LAMBDA`)."""
    reductions: int
    """Reductions found (dot_general, reduce, reduce_window, convolution)."""
    longest_reduction: int
    """The largest reduction length ``K`` in the module."""
    float_ops: int
    """Ops with a floating-point result."""

    @property
    def relative(self) -> float:
        """The bound relative to a result's largest magnitude: ``lam * u * A``."""
        return self.lam * self.unit_roundoff * self.amplification

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for the manifest."""
        return {f: getattr(self, f) for f in self.__slots__} | {"relative": self.relative}


@dataclass(frozen=True, slots=True)
class Judgement:
    """Results judged against the reference: each result's error in units of its bound."""

    ok: bool
    """Every result within its bound (integers and booleans exactly equal)."""
    worst_ratio: float
    """Largest ``error / bound`` over results (<= 1 when ok; inf for a shape mismatch)."""
    worst_result: int | None
    """Index of the result with ``worst_ratio``."""
    max_abs_error: float
    """Largest absolute difference from the reference over results."""
    message: str
    """Empty when ok, else which result is off and by how much."""
    errors: tuple[float, ...] = ()
    """Per result: largest absolute difference from the reference (0 for exact kinds)."""
    tolerances: tuple[float, ...] = ()
    """Per result: the absolute tolerance it was judged by."""


def _mlir() -> tuple[Any, Any]:
    from jax._src.interpreters import mlir as jax_mlir
    from jaxlib.mlir import ir

    return jax_mlir.make_ir_context(), ir


def _shape(value: Any, ir: Any) -> list[int] | None:
    try:
        return list(ir.RankedTensorType(value.type).shape)
    except (ValueError, TypeError):
        return None


def _float_kind(op: Any) -> str | None:
    for res in op.results:
        m = _FLOAT_TYPE.search(str(res.type))
        if m:
            return m.group(1)
    return None


def _reduction_length(op: Any, name: str, ir: Any) -> int | None:
    """``K`` of a reduction op, None for other ops."""
    from jaxlib.mlir.dialects import stablehlo

    short = name.split(".", 1)[-1]
    attrs = op.attributes
    if short in ("dot_general", "dot"):
        lhs = _shape(op.operands[0], ir)
        if not lhs:
            return 1
        if short == "dot":
            return lhs[-1]
        dims = stablehlo.DotDimensionNumbers(attrs["dot_dimension_numbers"])
        return math.prod(lhs[d] for d in dims.lhs_contracting_dimensions)
    if short == "reduce":
        src = _shape(op.operands[0], ir) or []
        dims = [int(d) for d in ir.DenseI64ArrayAttr(attrs["dimensions"])]
        return math.prod(src[d] for d in dims) if src else 1
    if short == "reduce_window":
        return math.prod(int(d) for d in ir.DenseI64ArrayAttr(attrs["window_dimensions"]))
    if short == "convolution":
        kernel = _shape(op.operands[1], ir) or [1]
        dn = stablehlo.ConvDimensionNumbers(attrs["dimension_numbers"])
        return max(1, math.prod(kernel) // max(1, kernel[dn.kernel_output_feature_dimension]))
    return None


def error_bound(stablehlo: str | bytes, *, lam: float = LAMBDA) -> ErrorBound:
    """The error bound of a StableHLO module, derived op by op.

    Args:
        stablehlo: the module (text or bytecode) as captured.
        lam: safety factor (default :data:`LAMBDA`).

    Returns:
        The :class:`ErrorBound`.

    Example:
        >>> error_bound(open("xlalens-dump/jax/stablehlo.mlir").read()).relative  # doctest: +SKIP
        2.1e-05
    """
    ctx, ir = _mlir()
    amp = 0.0
    count = longest = n_float = 0
    kinds: set[str] = set()
    with ctx, ir.Location.unknown():
        module = ir.Module.parse(stablehlo)

        def visit(op: Any) -> Any:
            nonlocal amp, count, longest, n_float
            name = op.name
            kind = _float_kind(op)
            if kind is not None and not name.startswith(("func.", "stablehlo.return")):
                n_float += 1
                kinds.add(kind)
                k = _reduction_length(op, name, ir)
                if k is not None and k > 1:
                    count += 1
                    longest = max(longest, k)
                    amp += math.sqrt(k)
            return ir.WalkResult.ADVANCE

        module.operation.walk(visit)
    u = max((UNIT_ROUNDOFF[k] for k in kinds if k != "f64"), default=UNIT_ROUNDOFF["f32"])
    return ErrorBound(u, amp + math.sqrt(max(1, n_float)), lam, count, longest, n_float)


# --------------------------------------------------------------------------- f64 promotion

_HEX_CONST = re.compile(
    r'dense<(?P<q>"?)0x(?P<hex>[0-9A-Fa-f]+)(?P=q)>(?P<ty>\s*:\s*tensor<(?:[0-9?]+x)*)f32>'
)
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def _promote_hex(m: re.Match) -> str:
    raw = m["hex"]
    if m["q"]:  # raw little-endian buffer of every element
        data = np.frombuffer(bytes.fromhex(raw), dtype="<f4").astype("<f8")
        return f'dense<"0x{data.tobytes().hex().upper()}">{m["ty"]}f64>'
    # an unquoted hex literal is the element's bit pattern
    bits = np.array([int(raw, 16)], dtype=np.uint32).view(np.float32).astype(np.float64)
    return f"dense<0x{int(bits.view(np.uint64)[0]):016X}>{m['ty']}f64>"


def promote_to_f64(stablehlo: str) -> str:
    """The module with every ``f32`` type and constant turned into ``f64``.

    Quoted strings (locations, names) are left alone; hex constants are re-encoded.

    Example:
        >>> promote_to_f64("%0 = stablehlo.add %a, %b : tensor<4xf32>")
        '%0 = stablehlo.add %a, %b : tensor<4xf64>'
    """
    text = _HEX_CONST.sub(_promote_hex, stablehlo)
    out, last = [], 0
    for m in _STRING.finditer(text):
        out.append(re.sub(r"(?<=[<x])f32(?=>)", "f64", text[last : m.start()]))
        out.append(m.group(0))
        last = m.end()
    out.append(re.sub(r"(?<=[<x])f32(?=>)", "f64", text[last:]))
    return "".join(out)


def reference(
    stablehlo: str | bytes, inputs: Sequence[np.ndarray], backend: str = "cpu"
) -> list[np.ndarray]:
    """Run the module promoted to float64 on the same inputs (float32 inputs widened).

    Args:
        stablehlo: the captured module.
        inputs: its arguments, as captured.
        backend: PJRT backend to run on.

    Returns:
        One float64 (or integer, as in the module) array per result.

    Raises:
        ReferenceUnavailable: the promoted module does not compile or run (e.g. a
            bitcast of f32 to i32, or a backend without f64).

    Example:
        >>> ref = reference(text, [np.ones(4, np.float32)])  # doctest: +SKIP
    """
    from xlalens import _runtime

    if isinstance(stablehlo, bytes):
        stablehlo = stablehlo.decode()
    try:
        compiled = _runtime.compile_stablehlo(promote_to_f64(stablehlo), backend)
        wide = [a.astype(np.float64) if a.dtype == np.float32 else a for a in inputs]
        return _runtime.run(compiled, wide)
    except Exception as exc:  # CompileError or an XLA runtime error
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ReferenceUnavailable(f"float64 reference unavailable: {first[:300]}") from exc


def magnitude_floor(arrays: Sequence[np.ndarray]) -> float:
    """The median over float arrays of their largest finite magnitude (0 when none).

    NOTE: [scale floor] a result that is zero in exact arithmetic (the gradient
    of a convolution bias followed by BatchNorm, and so its update) comes out of
    float32 as pure rounding noise of the terms that cancelled; judged relative
    to its own magnitude it would always fail. Its error is measured instead
    against the step's typical output magnitude, which this floor is.
    """
    peaks = []
    for a in arrays:
        a = np.asarray(a)
        if a.size and np.issubdtype(a.dtype, np.inexact):
            finite = np.abs(a[np.isfinite(a)])
            if finite.size:
                peaks.append(float(finite.max()))
    return float(np.median(peaks)) if peaks else 0.0


def judge(
    results: Sequence[np.ndarray],
    ref: Sequence[np.ndarray],
    bound: ErrorBound,
    *,
    labels: Sequence[str] | None = None,
    slack: float = 1.0,
) -> Judgement:
    """Judge results against the reference: float results within ``slack * bound``.

    Args:
        results: the arrays to judge (a replay's or the native step's), by position.
        ref: the reference (or, without one, the other side of a comparison).
        bound: the module's :class:`ErrorBound`.
        labels: names of the results for the message (default ``result i``).
        slack: multiple of the bound allowed (2 when comparing two float32 runs
            with each other: each within the bound of the truth).

    Returns:
        The :class:`Judgement`.

    Example:
        >>> judge([np.float32(1.0)], [np.float64(1.0)], error_bound(text)).ok  # doctest: +SKIP
        True
    """
    if len(results) != len(ref):
        return Judgement(
            False, math.inf, None, math.inf, f"{len(results)} results, {len(ref)} expected"
        )
    worst, worst_i, max_abs, why = 0.0, None, 0.0, ""
    errors = [0.0] * len(ref)
    tols = [0.0] * len(ref)
    floor = magnitude_floor(ref)
    for i, (got, want) in enumerate(zip(results, ref)):
        label = labels[i] if labels and i < len(labels) and labels[i] else f"result {i}"
        got, want = np.asarray(got), np.asarray(want)
        if got.shape != want.shape:
            return Judgement(
                False,
                math.inf,
                i,
                math.inf,
                f"{label}: shape {list(got.shape)}, expected {list(want.shape)}",
            )
        if got.size == 0:
            continue
        if not (np.issubdtype(got.dtype, np.inexact) or np.issubdtype(want.dtype, np.inexact)):
            if not np.array_equal(got, want):
                return Judgement(False, math.inf, i, math.inf, f"{label}: integer values differ")
            continue
        g, w = got.astype(np.float64, copy=False), want.astype(np.float64, copy=False)
        if not np.all(np.isfinite(g) == np.isfinite(w)):
            return Judgement(False, math.inf, i, math.inf, f"{label}: non-finite values differ")
        finite = np.isfinite(w)
        diff = np.abs(g - w, where=finite, out=np.zeros_like(w))
        err = float(diff.max())
        own = float(np.abs(w, where=finite, out=np.zeros_like(w)).max())
        scale = max(own, floor)
        tol = slack * bound.relative * scale
        errors[i], tols[i] = err, tol
        ratio = err / tol if tol > 0 else (0.0 if err == 0 else math.inf)
        max_abs = max(max_abs, err)
        if ratio > worst:
            worst, worst_i = ratio, i
        if ratio > 1 and not why:
            why = (
                f"{label} is off by {err:.3g} ({err / scale if scale else math.inf:.3g} of its "
                f"scale {scale:.3g}), above the tolerance {tol:.3g}"
            )
    return Judgement(worst <= 1.0, worst, worst_i, max_abs, why, tuple(errors), tuple(tols))


def agree(
    results: Sequence[np.ndarray], other: Sequence[np.ndarray], stablehlo: str | bytes
) -> tuple[bool, float, str]:
    """Do two float32 runs of the same step agree (the cross-framework rule)?

    Each correct run is within the module's bound of the exact result, so two
    runs agree when they differ by at most twice the bound. Used where there is
    no single float64 reference for both, e.g. a sharded step against the same
    step on one device.

    Args:
        results: one run's results, by position.
        other: the other run's results.
        stablehlo: the captured module the bound is derived from.

    Returns:
        ``(agree, max |difference|, why not)``.

    Example:
        >>> agree(sharded, single, open("d/jax/stablehlo.mlir").read())  # doctest: +SKIP
        (True, 2.9e-08, '')
    """
    j = judge(results, other, error_bound(stablehlo), slack=2.0)
    return j.ok, j.max_abs_error, j.message


OBSERVED_FACTOR = 4.0
"""How far past the replay's own error (in units of the bound) the native results may be
on an ill-conditioned step."""


def prove(
    replay: Sequence[np.ndarray],
    native: Sequence[np.ndarray],
    ref: Sequence[np.ndarray],
    bound: ErrorBound,
    *,
    labels: Sequence[str] | None = None,
) -> tuple[Judgement, Judgement, tuple[int, ...], float]:
    """Judge the replay and the native results against the float64 reference.

    NOTE: [ill-conditioned steps] the reference is computed from the captured
    module itself, so the replay (the same module in float32) can only differ
    from it by float32 rounding. When the replay exceeds the bound, the step
    amplifies rounding more than the bound assumes (Keras ResNet50 at batch 4:
    BatchNorm over 2x2 maps; a float32-sized change of the inputs moves the exact
    update of conv1's kernel 450x as much). That is not a wrong capture. The
    step's conditioning factor ``kappa`` is then the replay's worst error over
    the bound; the replay passes, the results past the bound are listed as
    ill-conditioned, and the native results must be within
    :data:`OBSERVED_FACTOR` x ``kappa`` times the bound: what float32 really does
    on this step (the replay's error is one sample of it, so the factor leaves
    room for another summation order). A wrong capture (a changed constant, a
    different learning rate) leaves the replay within the bound (``kappa`` 1) and
    the native results far outside it.

    Returns:
        ``(replay judgement, native judgement, ill-conditioned result indices, kappa)``.

    Example:
        >>> r, n, ill, kappa = prove(replayed, native, ref, error_bound(text))  # doctest: +SKIP
    """
    first = judge(replay, ref, bound, labels=labels)
    if first.ok or math.isinf(first.worst_ratio):
        return first, judge(native, ref, bound, labels=labels), (), 1.0
    kappa = first.worst_ratio
    ill = tuple(i for i, (e, t) in enumerate(zip(first.errors, first.tolerances)) if e > t)
    # (1 + 1e-9): the replay's own worst result sits exactly at the widened bound.
    widened = dataclasses.replace(bound, lam=bound.lam * kappa * (1 + 1e-9))
    replay_j = judge(replay, ref, widened, labels=labels)
    native_j = judge(native, ref, widened, labels=labels, slack=OBSERVED_FACTOR)
    return replay_j, native_j, ill, kappa
