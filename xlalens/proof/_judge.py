"""The float64 reference and the judgement of results against it, within the bound."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from xlalens.proof._bound import error_bound
from xlalens.proof._model import (
    ErrorBound,
    Judgement,
    Proof,
    ReferenceUnavailable,
    allowance,
)

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
    return _narrow_bitcasts("".join(out))


# A bitcast_convert between f32 and a 32-bit integer, once promoted, reads
# `(tensor<SHAPExf64>) -> tensor<SHAPExi32>`: the same shape at two bit widths,
# which StableHLO rejects ("rank of smaller element type ... should be 1 more").
_BITCAST = re.compile(
    r"^(?P<ind>[ \t]*)(?P<res>%[\w$.-]+) = stablehlo\.bitcast_convert (?P<x>%[\w$.#-]+)"
    r" : \(tensor<(?P<si>(?:[0-9?]+x)*)(?P<ti>f64|[su]?i32|ui32)>\)"
    r" -> tensor<(?P<so>(?:[0-9?]+x)*)(?P<to>f64|[su]?i32|ui32)>(?P<loc>.*)$",
    re.M,
)


def _narrow_bitcasts(text: str) -> str:
    """Promoted bitcasts between f64 and a 32-bit integer, done in float32 again.

    NOTE: [bitcasts in the reference] a bitcast reads a float's bits (jax's and
    TensorFlow's ``signbit``, Keras's argmax tie rule), which have no float64
    counterpart of the same width. The reference rounds the value to float32
    just before such a bitcast (float -> bits) and widens just after one
    (bits -> float); the float arithmetic around it stays in float64.
    """
    count = 0

    def fix(m: re.Match) -> str:
        nonlocal count
        shape, ti, to = m["si"], m["ti"], m["to"]
        if shape != m["so"] or (ti == "f64") == (to == "f64"):
            return m.group(0)  # a real rank-changing or same-width bitcast: unchanged
        count += 1
        tmp, ind, loc = f"%xlalens_bitcast{count}", m["ind"], m["loc"]
        if ti == "f64":  # float -> bits: round to float32 first
            return (
                f"{ind}{tmp} = stablehlo.convert {m['x']} : (tensor<{shape}f64>)"
                f" -> tensor<{shape}f32>{loc}\n"
                f"{ind}{m['res']} = stablehlo.bitcast_convert {tmp} : (tensor<{shape}f32>)"
                f" -> tensor<{shape}{to}>{loc}"
            )
        # bits -> float: read them as float32, then widen
        return (
            f"{ind}{tmp} = stablehlo.bitcast_convert {m['x']} : (tensor<{shape}{ti}>)"
            f" -> tensor<{shape}f32>{loc}\n"
            f"{ind}{m['res']} = stablehlo.convert {tmp} : (tensor<{shape}f32>)"
            f" -> tensor<{shape}f64>{loc}"
        )

    return _BITCAST.sub(fix, text)


# NOTE: [one compilation, two references] the per-result floor runs the reference a
# second time on the same module (NOTE: [per-result floor] in _conditioning.py); the last
# promoted executable is kept (one entry: its memory is one executable) so that run does
# not compile again (Keras MobileNetV2: the compile is most of a reference's time).
_LAST: list[tuple[str, str, Any]] = []


def _promoted_executable(stablehlo: str, backend: str) -> Any:
    from xlalens import _runtime

    if _LAST and _LAST[0][0] == backend and _LAST[0][1] == stablehlo:
        return _LAST[0][2]
    _LAST.clear()  # the old executable goes before the new one is built
    compiled = _runtime.compile_stablehlo(promote_to_f64(stablehlo), backend)
    _LAST.append((backend, stablehlo, compiled))
    return compiled


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
        compiled = _promoted_executable(stablehlo, backend)
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
    against the step's typical output magnitude, which this floor is: for the
    results that the float64 reference shows to be such noise (NOTE: [per-result
    floor] in ``_conditioning.py``; every result where that was not measured).
    """
    peaks = []
    for a in arrays:
        a = np.asarray(a)
        if a.size and np.issubdtype(a.dtype, np.inexact):
            finite = np.abs(a[np.isfinite(a)])
            if finite.size:
                peaks.append(float(finite.max()))
    return float(np.median(peaks)) if peaks else 0.0


def _peak(a: np.ndarray) -> float:
    finite = np.abs(a[np.isfinite(a)])
    return float(finite.max()) if finite.size else 0.0


def _updates(
    ref: Sequence[np.ndarray], bound: ErrorBound, inputs: Sequence[np.ndarray] | None
) -> list[np.ndarray | None]:
    """Per result: ``ref - arg`` (float64) when it updates argument ``arg``, else None."""
    out: list[np.ndarray | None] = [None] * len(ref)
    if inputs is None:
        return out
    for i, want in enumerate(ref):
        j = bound.update_arg(i)
        if j is None or j >= len(inputs):
            continue
        arg, want = np.asarray(inputs[j]), np.asarray(want)
        if arg.shape != want.shape or not np.issubdtype(want.dtype, np.inexact):
            continue
        out[i] = want.astype(np.float64) - arg.astype(np.float64)
    return out


def _update_floor(
    updates: Sequence[np.ndarray | None],
    bound: ErrorBound,
    inputs: Sequence[np.ndarray] | None,
) -> float:
    """The step's typical update magnitude: the floor of an update's scale.

    NOTE: [update floor] an update that is zero in exact arithmetic (a conv bias
    before BatchNorm) comes out as rounding noise and is judged on the step's
    typical update instead (NOTE: [scale floor]; only where the update is such
    noise, NOTE: [per-result floor]). That typical update is the
    median over the steps of arguments that already hold a value: an argument
    that is all zeros before the step is an accumulator's first term (a Keras
    metric's total, a step counter), whose "update" is a loss or a count, not
    a parameter step (issue 21: the regression's Keras metric total, 16 to 4e4,
    made the floor of ``w``'s update 100 to 1e4 times its own, and a 1e-3 change
    of ``w`` passed). When every argument starts at zero, the median over all.
    """
    found = [d for d in updates if d is not None]
    if inputs is not None:
        held = [
            d
            for i, d in enumerate(updates)
            if d is not None
            and (j := bound.update_arg(i)) is not None
            and j < len(inputs)
            and np.any(np.asarray(inputs[j]) != 0)
        ]
        if held:
            found = held
    return magnitude_floor(found)


def _attenuations(
    ref: Sequence[np.ndarray],
    bound: ErrorBound,
    updates: Sequence[np.ndarray | None],
    update_floor: float,
    widen: Sequence[float] | None,
) -> list[tuple[float, dict[int, float] | None]]:
    """Per result, the factor on what reaches it only through updated results it reads,
    and each updated result's own factor (None where none applies).

    NOTE: [attenuation through updates] (``_bound.py``). An updated result
    ``w + d`` (``d`` the update) is judged within ``u |w| + e`` with
    ``e = rel_d * |d|`` (its own bound times the update's scale, :func:`judge`):
    the update's rounding reaches ``w`` scaled by ``|d| / |w|``. A result computed
    from ``w`` (jax's loss after the update) reads the ops behind ``d`` through
    that factor, ``a = allowance * max(|d|, floor) / |w|`` (the floor only where
    ``d`` is judged on it, NOTE: [per-result floor]; peaks, the largest over
    the updates it reads; its allowance when that update was judged by one), with
    ``|w|`` replaced by ``bound.update_scale`` where measured (NOTE: [update
    scales] in ``_updates.py``). It is 1 where it cannot be measured (no inputs, a
    zero result) and for the updated result itself. The per-update factors let each
    part of the bound take the largest factor over the updates it goes through
    (NOTE: [attenuation per update] in ``_bound.py``), 1 for an unmeasured one.
    """
    own: dict[int, float] = {}
    for r, d in enumerate(updates):
        if d is None:
            continue
        peak = _peak(np.asarray(ref[r], np.float64))
        if r < len(bound.update_scale) and bound.update_scale[r] > 0:
            peak = bound.update_scale[r]  # where other results read it (NOTE: [update scales])
        if peak > 0:
            extra = widen[r] if widen is not None and r < len(widen) else 1.0
            step = max(_peak(d), update_floor) if bound.floored(r) else _peak(d)
            own[r] = extra * step / peak
    out: list[tuple[float, dict[int, float] | None]] = []
    for i in range(len(ref)):
        reached = bound.reached_at(i)
        if not reached or i in reached or bound.update_arg(i) is not None:
            out.append((1.0, None))
        elif any(r not in own for r in reached):
            out.append((1.0, own))
        else:
            out.append((max(own[r] for r in reached), own))
    return out


def judge(
    results: Sequence[np.ndarray],
    ref: Sequence[np.ndarray],
    bound: ErrorBound,
    *,
    labels: Sequence[str] | None = None,
    slack: float = 1.0,
    widen: Sequence[float] | None = None,
    inputs: Sequence[np.ndarray] | None = None,
) -> Judgement:
    """Judge results against the reference: float results within ``slack * bound``.

    Args:
        results: the arrays to judge (a replay's or the native step's), by position.
        ref: the reference (or, without one, the other side of a comparison).
        bound: the module's :class:`ErrorBound`.
        labels: names of the results for the message (default ``result i``).
        slack: multiple of the bound allowed (2 when comparing two float32 runs
            with each other: each within the bound of the truth).
        widen: per result, a further factor on its own bound (an ill-conditioned
            result's allowance, :func:`prove`); default 1 for every result.
        inputs: the module's arguments; a result that updates one of them
            (``bound.update_of``) is then judged by one rounding of its magnitude
            plus its bound times the update's magnitude (NOTE: [per-result bound]).

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
    on_floor: list[int] = []
    errors = [0.0] * len(ref)
    tols = [0.0] * len(ref)
    floor = magnitude_floor(ref)
    updates = _updates(ref, bound, inputs)
    update_floor = _update_floor(updates, bound, inputs)
    attenuation = _attenuations(ref, bound, updates, update_floor, widen)
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
        # NOTE: [per-result floor] in _conditioning.py: only rounding noise gets the floor
        floored = bound.floored(i)
        scale = max(own, floor) if floored else own
        if floored:
            on_floor.append(i)
        extra = widen[i] if widen is not None and i < len(widen) else 1.0
        if updates[i] is not None:
            # arg +- update: one rounding of the result, and the update's own error.
            step = max(_peak(updates[i]), update_floor) if floored else _peak(updates[i])
            rel = bound.relative_at(i, *attenuation[i])
            tol = slack * extra * (2 * bound.unit_roundoff * own + rel * step)
            scale = step
        else:
            tol = slack * extra * bound.relative_at(i, *attenuation[i]) * scale
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
    allow = tuple(widen[i] if i < len(widen) else 1.0 for i in range(len(ref))) if widen else ()
    return Judgement(
        worst <= 1.0,
        worst,
        worst_i,
        max_abs,
        why,
        tuple(errors),
        tuple(tols),
        allow,
        tuple(on_floor) if bound.sensitivity else (),
    )


def agree(
    results: Sequence[np.ndarray], other: Sequence[np.ndarray], stablehlo: str | bytes
) -> tuple[bool, float, str, float]:
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
        ``(agree, max |difference|, why not, largest difference over its
        allowance)``: the last is <= 1 when they agree.

    Example:
        >>> agree(sharded, single, open("d/jax/stablehlo.mlir").read())  # doctest: +SKIP
        (True, 2.9e-08, '', 0.0011)
    """
    j = judge(results, other, error_bound(stablehlo), slack=2.0)
    return j.ok, j.max_abs_error, j.message, j.worst_ratio


def prove(
    replay: Sequence[np.ndarray],
    native: Sequence[np.ndarray],
    ref: Sequence[np.ndarray],
    bound: ErrorBound,
    *,
    labels: Sequence[str] | None = None,
    native_bound: ErrorBound | None = None,
    inputs: Sequence[np.ndarray] | None = None,
) -> Proof:
    """Judge the replay and the native results against the float64 reference.

    NOTE: [ill-conditioned steps] the reference is computed from the captured
    module itself, so the replay (the same module in float32) can only differ
    from it by float32 rounding. When the replay exceeds the bound on a result,
    the step amplifies rounding into that result more than the bound assumes
    (Keras ResNet50 at batch 4: BatchNorm over 2x2 maps; a float32-sized change
    of the inputs moves the exact update of conv1's kernel 450x as much; Adam's
    update of a bias whose exact gradient is 0, where ``g / sqrt(v)`` of pure
    rounding noise is +-1). That is not a wrong capture. That result's
    conditioning factor ``kappa_i`` is the replay's error over its bound; the
    replay passes, the result is listed as judged by an allowance, and the native
    result ``i`` must be within :data:`OBSERVED_FACTOR` x ``kappa_i`` times its
    bound: what float32 really does on it (the replay's error is one sample,
    so the factor leaves room for another summation order). Every other result
    keeps its own bound (issue 21: one zero-gradient bias with ``kappa`` 1.9e3
    widened every result's bound, and a learning rate 1.5x passed). A wrong
    capture (a changed constant, a different learning rate) moves the
    well-conditioned results far outside their bounds.

    Args:
        replay: the PJRT replay's results.
        native: the framework's own results.
        ref: the float64 reference.
        bound: the bound of the replay (its compiler's sequential accumulations).
        labels: result names for messages.
        native_bound: the bound of the native results, when their compiler
            accumulates differently (default: ``bound``).
        inputs: the module's arguments (parameter updates are judged by the
            update's magnitude, :func:`judge`).

    Returns:
        The :class:`Proof` (it unpacks as ``(replay, native, ill, kappa)``).

    Example:
        >>> r, n, ill, kappa = prove(replayed, native, ref, error_bound(text))  # doctest: +SKIP
    """
    nb = native_bound if native_bound is not None else bound
    first = judge(replay, ref, bound, labels=labels, inputs=inputs)
    ones = (1.0,) * len(ref)
    if first.ok or math.isinf(first.worst_ratio):
        return Proof(first, judge(native, ref, nb, labels=labels, inputs=inputs), (), ones)
    kappas = tuple(
        max(1.0, e / t) if t > 0 else 1.0 for e, t in zip(first.errors, first.tolerances)
    )
    ill = tuple(i for i, k in enumerate(kappas) if k > 1.0)
    # (1 + 1e-9): the replay's own worst result sits exactly at its widened bound.
    replay_j = judge(
        replay,
        ref,
        bound,
        labels=labels,
        inputs=inputs,
        widen=[k * (1 + 1e-9) if k > 1 else 1.0 for k in kappas],
    )
    native_j = judge(
        native,
        ref,
        nb,
        labels=labels,
        inputs=inputs,
        widen=[allowance(k) for k in kappas],
    )
    return Proof(replay_j, native_j, ill, kappas)
