"""How far each result's exact value moves under one rounding of the inputs: which
results are rounding noise of cancelled terms, and so judged on the step's floor.

NOTE: [per-result floor] A result that is zero in exact arithmetic (the gradient of a
convolution bias followed by BatchNorm, and so its Adam moments and its update) comes
out of float32 as pure rounding noise of the terms that cancelled: judged relative to
its own magnitude (which the float64 reference shows at 1e-17 of its terms) it always
fails, and another summation order's noise is not within a few times the replay's
either, so the replay's conditioning factor (NOTE: [ill-conditioned steps] in
``_judge.py``) does not cover it. Such results are judged against the step's typical
magnitude instead (NOTE: [scale floor], [update floor] in ``_judge.py``). Applied to
every result, that floor took the power away from the legitimately small ones: on a
user's Adam step at 2^20 (16 features, layers of 64 and 16) the first step's moments
(``mu = 0.1 g``, ``nu = 0.001 g^2``; the first layer's ``nu`` peaks at 6.3e-7) were
judged on 8.6e-3 and a 1e-3 change of 8 of them passed (issue 21).

So each result's conditioning is measured, not assumed: the float64 reference is run a
second time on the inputs each rounded once more (every float32 input times
``1 + s u``, ``s`` a random sign per element, ``u`` the bound's unit roundoff), and

    rho_i = max |ref'_i - ref_i| / (u * max |ref_i|)

(for an update ``arg +- d``, of ``d = ref - arg``: its own scale, NOTE: [per-result
bound]) is how much one rounding of the data moves the exact result, relative to its
own size: its condition number, measured. A result whose value is signal has a
small ``rho_i`` (1 to 6 on the Adam step's moments, under 1 on its updates and loss);
a result whose exact value is 0 is all float64 rounding noise, which the perturbation
replaces by other noise of the same size: ``rho_i`` is about ``1/u`` (1.3e7 to 2e7 on
flax's conv bias before BatchNorm, its moments and its update). float32 errs on result
``i`` by about ``rho_i`` times what its bound ``rel_i = u (lam A_i + S_i)`` allows a
well-conditioned result, so where ``rho_i * rel_i >= 1`` its float32 value may hold no
correct digit: it is rounding noise, judged on the floor. Every other result is judged
on its own magnitude (a zero-initialised accumulator's first value included), and
where float32 exceeds its bound there (a moderately ill-conditioned result) the
replay's conditioning factor widens that result alone, as before. The two ends are
far apart (on the two steps above: below 3e-3 and above 600), so the line between
them is not a tuned constant. A result whose reference is exactly zero is floored
(``rho`` infinite: no own scale). Cost: one more run of the float64 reference, not
another compile (NOTE: [one compilation, two references] in ``_judge.py``): 2.9 s CPU of
the 21 s a 2^20 Adam step's verification takes here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from xlalens.proof._judge import reference
from xlalens.proof._model import ErrorBound

PERTURBATION_SEED = 21
"""Seed of the random signs (fixed: the same dump re-judges to the same verdict)."""


def perturbed_inputs(
    inputs: Sequence[np.ndarray], u: float, seed: int = PERTURBATION_SEED
) -> list[np.ndarray]:
    """The inputs with every float32 element rounded once more: ``x (1 + s u)`` in float64.

    Other dtypes (integers, booleans, other float widths) are left as they are.

    Example:
        >>> x = perturbed_inputs([np.ones(2, np.float32)], 2.0**-24)[0]
        >>> bool(np.all(np.abs(x - 1) == 2.0**-24))
        True
    """
    rng = np.random.default_rng(seed)
    out: list[np.ndarray] = []
    for a in inputs:
        a = np.asarray(a)
        if a.dtype == np.float32:
            sign = rng.integers(0, 2, size=a.shape).astype(np.float64) * 2.0 - 1.0
            sign *= u
            sign += 1.0
            sign *= a
            out.append(sign)
        else:
            out.append(a)
    return out


def _moved(
    i: int,
    a: np.ndarray,
    b: np.ndarray,
    bound: ErrorBound,
    inputs: Sequence[np.ndarray],
    moved: Sequence[np.ndarray],
) -> tuple[float, float]:
    """``(max |a - b|, max |a|)`` of result ``i``, of its update where it is one."""
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    j = bound.update_arg(i)
    if j is not None and j < len(inputs) and np.shape(inputs[j]) == a.shape:
        a = a - np.asarray(inputs[j], np.float64)
        b = b - np.asarray(moved[j], np.float64)
    fa, fb = np.isfinite(a), np.isfinite(b)
    if not np.array_equal(fa, fb):
        return math.inf, 0.0
    if not fa.any():
        return 0.0, 0.0
    return float(np.abs(a[fa] - b[fa]).max()), float(np.abs(a[fa]).max())


def sensitivity(
    stablehlo: str | bytes,
    inputs: Sequence[np.ndarray],
    ref: Sequence[np.ndarray],
    bound: ErrorBound,
    backend: str = "cpu",
) -> tuple[float, ...]:
    """Per result, ``rho_i``: how far one rounding of the inputs moves its exact value.

    NOTE: [per-result floor]. In units of ``u`` times the result's own peak (of its
    update ``ref - arg`` where it updates an argument, ``bound.update_of``); infinite
    where the result is exactly zero; 0 for integer and empty results.

    Args:
        stablehlo: the captured module.
        inputs: its arguments, as captured.
        ref: the float64 reference on ``inputs`` (:func:`reference`).
        bound: the module's bound (its ``unit_roundoff`` and ``update_of``).
        backend: PJRT backend that runs the promoted module.

    Returns:
        One ``rho_i`` per result, for :attr:`ErrorBound.sensitivity`.

    Raises:
        ReferenceUnavailable: the promoted module does not run on the perturbed inputs.

    Example:
        >>> rho = sensitivity(text, inputs, reference(text, inputs), error_bound(text))  # doctest: +SKIP
        >>> bound = dataclasses.replace(bound, sensitivity=rho)  # doctest: +SKIP
    """
    u = bound.unit_roundoff
    moved = perturbed_inputs(inputs, u)
    other = reference(stablehlo, moved, backend)
    out: list[float] = []
    for i, (a, b) in enumerate(zip(ref, other)):
        a, b = np.asarray(a), np.asarray(b)
        if not a.size or a.shape != b.shape or not np.issubdtype(a.dtype, np.inexact):
            out.append(0.0)
            continue
        move, own = _moved(i, a, b, bound, inputs, moved)
        out.append(move / (u * own) if own > 0 else math.inf)
    return tuple(out)
