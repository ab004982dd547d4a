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
   ``A = sqrt(N + R)``, ``N`` the ops that round once and ``R`` the path
   lengths of the summing reductions (``K - 1`` additions on a term's path for a
   sum of ``K`` terms: dot_general contracting size, reduce dimensions,
   reduce_window window, convolution window times input features; shorter where
   the optimized module shows the order, NOTE: [accumulation order] in
   ``_bound.py``). ``lam * sqrt(n) * u`` is the probabilistic bound of Higham &
   Mary (SIAM J. Sci. Comput. 41(5), 2019) on a chain of ``n`` roundings with
   independent errors, with probability at least ``1 - 2 exp(-lam^2 / 2)``.
   Putting every op of the module on one chain over-counts parallel branches: safe.
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
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

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
_FLOAT_HLO = re.compile(r"(f64|f32|tf32|bf16|f16)$")


class ReferenceUnavailable(Exception):
    """The float64 reference could not be built (the module does not promote or compile)."""


@dataclass(frozen=True, slots=True)
class ErrorBound:
    """How far a correct float result may be from the float64 reference, from the module."""

    unit_roundoff: float
    """``u`` of the lowest float precision the module computes in (2^-24 for f32)."""
    amplification: float
    """``A``: ``sqrt(N + R)``, ``N`` the ops that round, ``R`` the path lengths of the
    summing reductions (NOTE: [accumulation order] in ``_bound.py``)."""
    lam: float
    """The safety factor ``lam`` (:data:`LAMBDA`)."""
    reductions: int
    """Reductions found (dot_general, reduce, reduce_window, convolution)."""
    longest_reduction: int
    """The largest reduction length ``K`` in the module."""
    float_ops: int
    """Ops with a floating-point result."""
    sequential: tuple[float, ...] = ()
    """Per result: sum of ``K - 1`` over the sequential accumulations it depends on
    (:func:`accumulations`); one entry applies to every result; empty: none."""
    sequential_reductions: int = 0
    """Reductions accumulated sequentially (or counted so: emitter unknown)."""
    longest_sequential: int = 0
    """The largest ``K`` among them."""
    emitter: str = "none"
    """Where the sequential terms come from: ``optimized`` (the compiler's own
    optimized module), ``unknown`` (worst case for every dot and convolution) or
    ``none`` (not asked: the probabilistic term alone)."""
    widening: float = 1.0
    """Factor on the whole bound (the conditioning factor of an ill-conditioned step)."""
    per_result: tuple[float, ...] = ()
    """Per result of ``main``: its own ``A = sqrt(N_i + R_i)``, over the ops that round
    and the reductions it depends on (NOTE: [per-result bound], [accumulation order]);
    empty: ``amplification`` for every result."""
    update_of: tuple[int | None, ...] = ()
    """Per result: the argument of ``main`` it updates (``result = arg +- update``),
    else None (NOTE: [per-result bound])."""
    chains: tuple[tuple[int, float], ...] = ()
    """``(K, charge)`` of the sequential dots charged by their simulated chain instead
    of ``K - 1`` (NOTE: [simulated chains] in ``_chains.py``); empty: none."""
    through_parts: tuple[tuple[tuple[float, float, tuple[int, ...]], ...], ...] = ()
    """Per result: the parts ``(x, s, reached)`` of ``A_i^2`` (``x``) and ``S_i`` (``s``)
    that reach it only through updated results it reads, split by the updated results
    each part goes through (positions ``reached``), so that :meth:`relative_at` scales
    each part by the attenuation of its own updates (NOTE: [attenuation through
    updates], [attenuation per update] in ``_bound.py``); their sum is
    :attr:`through`; empty: none."""
    update_scale: tuple[float, ...] = ()
    """Per result: the scale an updated result's error arrives at where other results
    read it (:func:`xlalens.proof.update_scales`, NOTE: [update scales]); 0 or
    absent: its own peak."""
    sensitivity: tuple[float, ...] = ()
    """Per result: ``rho_i``, how far one rounding of the inputs moves its float64 value,
    in units of ``u`` times its own peak (:func:`xlalens.proof.sensitivity`); empty or
    absent: not measured, every result judged on the step's floor as before (NOTE:
    [per-result floor] in ``_conditioning.py``)."""

    @property
    def through(self) -> tuple[tuple[float, float, tuple[int, ...]], ...]:
        """Per result ``(x, s, reached)``: its :attr:`through_parts` summed, ``reached``
        every updated result a part goes through (``(0, 0, ())`` for a result without
        parts); empty: none. Derived, so the two cannot disagree."""
        out = []
        for parts in self.through_parts:
            reached = sorted({r for *_, rs in parts for r in rs})
            out.append(
                (
                    float(sum(p[0] for p in parts)),
                    float(sum(p[1] for p in parts)),
                    tuple(reached),
                )
            )
        return tuple(out)

    def sequential_at(self, i: int) -> float:
        """The sequential term of result ``i``."""
        if not self.sequential:
            return 0.0
        if len(self.sequential) == 1:
            return self.sequential[0]
        return self.sequential[i] if i < len(self.sequential) else max(self.sequential)

    def amplification_at(self, i: int) -> float:
        """``A`` of result ``i``: its own when known (dataflow), else the module's."""
        if 0 <= i < len(self.per_result):
            return self.per_result[i]
        return self.amplification

    def floored(self, i: int) -> bool:
        """Is result ``i`` judged on the step's floor rather than its own magnitude?

        True where its measured ``rho_i`` times its own bound (``u (lam A_i + S_i)``)
        reaches 1 (its float32 value may be all rounding noise), where it is exactly
        zero, and where nothing was measured (NOTE: [per-result floor] in
        ``_conditioning.py``).

        Example:
            >>> b = ErrorBound(2.0**-24, 3.0, 8.0, 1, 4, 2, sensitivity=(2.0, 2e7))
            >>> b.floored(0), b.floored(1), b.floored(2)
            (False, True, True)
        """
        if not 0 <= i < len(self.sensitivity):
            return True
        own = self.unit_roundoff * (self.lam * self.amplification_at(i) + self.sequential_at(i))
        return not self.sensitivity[i] * own < 1.0  # an infinite or NaN rho: floored

    def update_arg(self, i: int) -> int | None:
        """The argument that result ``i`` updates (``arg +- update``), or None."""
        return self.update_of[i] if 0 <= i < len(self.update_of) else None

    def reached_at(self, i: int) -> tuple[int, ...]:
        """The updated results that part of result ``i``'s bound reaches it through."""
        if not 0 <= i < len(self.through_parts):
            return ()
        return tuple(sorted({r for *_, rs in self.through_parts[i] for r in rs}))

    def relative_at(
        self, i: int, attenuation: float = 1.0, per_update: Mapping[int, float] | None = None
    ) -> float:
        """The bound of result ``i`` relative to its scale: ``w * u * (lam * A_i + S_i)``.

        ``attenuation``: the factor ``a`` on what reaches result ``i`` only through
        updated results (:attr:`through`): ``A_i^2 - x + a^2 x`` and ``S_i - s + a s``.
        ``per_update``: each updated result's own factor; where given (and
        :attr:`through_parts` known), each part takes the largest factor over the
        updates it goes through (1 for an update not in it) instead of ``attenuation``.
        """
        amp, seq = self.amplification_at(i), self.sequential_at(i)
        parts = self.through_parts[i] if 0 <= i < len(self.through_parts) else ()
        if per_update is not None and parts:
            sq = amp * amp
            for x, s, reached in parts:
                a = max((per_update.get(r, 1.0) for r in reached), default=1.0)
                sq += (a * a - 1.0) * x
                seq += (a - 1.0) * s
            amp, seq = math.sqrt(max(1.0, sq)), max(0.0, seq)
        elif attenuation != 1.0 and parts:
            x, s = sum(p[0] for p in parts), sum(p[1] for p in parts)
            amp = math.sqrt(max(1.0, amp * amp - x + attenuation * attenuation * x))
            seq = max(0.0, seq - s + attenuation * s)
        return self.widening * self.unit_roundoff * (self.lam * amp + seq)

    @property
    def relative(self) -> float:
        """The largest bound over results relative to a result's magnitude."""
        n = max(len(self.sequential), len(self.per_result))
        if not n:
            return self.relative_at(-1)
        return max(self.relative_at(i) for i in range(n))

    def plus(self, other: ErrorBound) -> ErrorBound:
        """The bound on the difference of two results, each within its own bound.

        Both bounds must share ``u`` and ``lam`` (the same module); widenings multiply
        through first, so the sum is exact.
        """
        n = max(len(self.sequential), len(other.sequential))
        seq = tuple(
            self.widening * self.sequential_at(i) + other.widening * other.sequential_at(i)
            for i in range(n)
        )
        m = max(len(self.per_result), len(other.per_result))
        per = tuple(
            self.widening * self.amplification_at(i) + other.widening * other.amplification_at(i)
            for i in range(m)
        )
        return dataclasses.replace(
            self,
            amplification=self.widening * self.amplification + other.widening * other.amplification,
            per_result=per,
            sequential=seq,
            sequential_reductions=max(self.sequential_reductions, other.sequential_reductions),
            longest_sequential=max(self.longest_sequential, other.longest_sequential),
            widening=1.0,
            through_parts=(),  # not attenuated: the sum of two bounds, each at full weight
        )

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ErrorBound:
        """The bound :meth:`as_dict` wrote (a manifest's ``proof.bound``); derived keys ignored.

        Example:
            >>> b = ErrorBound(2.0**-24, 3.0, 8.0, 1, 4, 2)
            >>> ErrorBound.from_dict(b.as_dict()) == b
            True
        """
        fields = {f: d[f] for f in cls.__slots__ if f in d}
        for f in ("sequential", "per_result", "update_of"):
            if f in fields:
                fields[f] = tuple(fields[f] or ())
        if "chains" in fields:
            fields["chains"] = tuple((int(k), float(c)) for k, c in fields["chains"] or ())
        if "update_scale" in fields:
            fields["update_scale"] = tuple(float(x) for x in fields["update_scale"] or ())
        if "sensitivity" in fields:  # JSON has no infinity: None is an exactly-zero result
            fields["sensitivity"] = tuple(
                math.inf if x is None else float(x) for x in fields["sensitivity"] or ()
            )
        if "through_parts" not in fields and d.get("through"):
            # a manifest from before through_parts: each result's total as one part
            fields["through_parts"] = [[t] if t[2] else [] for t in d["through"]]
        if "through_parts" in fields:
            fields["through_parts"] = tuple(
                tuple((float(x), float(s), tuple(int(r) for r in reached)) for x, s, reached in p)
                for p in fields["through_parts"] or ()
            )
        return cls(**fields)

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for the manifest."""
        out = {f: getattr(self, f) for f in self.__slots__}
        out["sequential"] = list(self.sequential)
        out["per_result"] = list(self.per_result)
        out["update_of"] = list(self.update_of)
        out["chains"] = [list(c) for c in self.chains]
        out["update_scale"] = list(self.update_scale)
        out["sensitivity"] = [x if math.isfinite(x) else None for x in self.sensitivity]
        out["through"] = [[x, s, list(reached)] for x, s, reached in self.through]
        out["through_parts"] = [
            [[x, s, list(reached)] for x, s, reached in p] for p in self.through_parts
        ]
        out["relative"] = self.relative
        n = max(len(self.sequential), len(self.per_result))
        out["relative_per_result"] = [self.relative_at(i) for i in range(n)] if n > 1 else None
        return out


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
    allowances: tuple[float, ...] = ()
    """Per result: the factor on its bound it was judged by (1: the bound itself; above 1:
    an allowance for an ill-conditioned result, NOTE: [ill-conditioned steps]); empty: all 1."""
    floored: tuple[int, ...] = ()
    """The float results judged on the step's floor, not their own magnitude: those
    measured as rounding noise (:meth:`ErrorBound.floored`, NOTE: [per-result floor]);
    empty when nothing was measured (then every result is)."""


OBSERVED_FACTOR = 4.0
"""How far past the replay's own error (in units of its bound) an ill-conditioned result
of the native step may be."""


def allowance(kappa: float) -> float:
    """The factor on a result's bound that the native step's result is judged by.

    ``OBSERVED_FACTOR * kappa`` for an ill-conditioned result (``kappa > 1``), else 1
    (NOTE: [ill-conditioned steps] in ``_judge.prove``). The proof of capture, the
    cross-check of parameters and ``xlalens time``'s check of a replay against the
    native results all use it: one rule.

    Example:
        >>> allowance(1.0), allowance(66.0)
        (1.0, 264.0)
    """
    return OBSERVED_FACTOR * kappa if kappa > 1 else 1.0


def recorded_allowances(proof: dict[str, Any] | None, n: int) -> tuple[float, ...]:
    """Per result, the :func:`allowance` of a proof as the manifest records it.

    ``proof``: a manifest entry's ``proof`` (``conditioning_per_result``; an older
    manifest with only ``conditioning_factor`` gives that factor to every result).
    ``n``: the number of results.

    Example:
        >>> recorded_allowances({"conditioning_per_result": [1.0, 66.0]}, 2)
        (1.0, 264.0)
    """
    rec = proof or {}
    kappas = rec.get("conditioning_per_result")
    if kappas is None:
        return (allowance(float(rec.get("conditioning_factor") or 1.0)),) * n
    return tuple(allowance(float(kappas[i])) if i < len(kappas) else 1.0 for i in range(n))


@dataclass(frozen=True, slots=True)
class Proof:
    """The replay and the native results judged against the float64 reference."""

    replay: Judgement
    """The replay's judgement (ill-conditioned results by their own allowance)."""
    native: Judgement
    """The native results' judgement (ill-conditioned results by their own allowance)."""
    ill: tuple[int, ...]
    """Results whose replay exceeded the bound: judged by an allowance."""
    kappas: tuple[float, ...]
    """Per result: its conditioning factor ``kappa`` (replay error over bound; 1 when
    within the bound)."""

    @property
    def kappa(self) -> float:
        """The largest conditioning factor (1 when every result is within its bound)."""
        return max(self.kappas, default=1.0)

    def __iter__(self):
        """``(replay, native, ill, kappa)``, the tuple this record replaced."""
        return iter((self.replay, self.native, self.ill, self.kappa))
