"""Check that a timed executable reproduces the capture's own outputs.

NOTE: [why timing refuses unverified numbers]
A time is only meaningful for the computation the framework meant. The
captured ``outputs.json`` holds what the framework's own step returned; the
executable we time must reproduce it. When ``outputs.json`` has ``results``
(one ``{dtype, shape, value}`` per StableHLO result, in order: what the capture
stage itself replays against) we compare every result by position, shapes
included. Otherwise we compare by the signature's output roles (``loss``;
``w``, ``b`` or per layer ``w0``, ``b0``...), flattened; a role is skipped when
the sizes agree but the shapes are transposes of each other (PyTorch keeps
``[out, in]`` in the module, ``outputs.json`` may hold ``[in, out]``), and
compared transposed when that is the only way they can match.

With a dump of format 2 (``outputs.npz``) and the module's error bound
(:func:`xlalens.proof.error_bound`), results are judged by the proof of
capture's rule: the capture's native results and this run are each within the
bound of the exact result, so they may differ by twice the bound (docs/capture.md).
On another backend XLA may reorder reductions or use TF32 for f32 dots, so a
result also passes within rtol 2e-3, atol 1e-5 there. Older dumps without a
bound use rtol 1e-5, atol 1e-6 on the capture's backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from xlalens.dumpdir import Outputs
from xlalens.proof import ErrorBound

SAME_BACKEND_TOL = (1e-5, 1e-6)
OTHER_BACKEND_TOL = (2e-3, 1e-5)


@dataclass(frozen=True, slots=True)
class Verification:
    """Result of comparing an executable's outputs with ``outputs.json``."""

    ok: bool
    """Every compared output agrees within tolerance (False when none could be compared)."""
    compared: tuple[str, ...]
    """Roles compared."""
    max_abs_diff: float
    """Largest absolute difference over compared outputs (0 when none)."""
    rtol: float
    """Relative tolerance used."""
    atol: float
    """Absolute tolerance used."""
    message: str
    """Empty when ok, else what differed (or why nothing could be compared)."""

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for the JSON edge."""
        return {f: getattr(self, f) for f in self.__slots__} | {"compared": list(self.compared)}


def expected_by_role(outputs: dict[str, Any]) -> dict[str, np.ndarray]:
    """Role -> flattened expected values from an ``outputs.json`` document."""
    exp: dict[str, np.ndarray] = {}
    if outputs.get("loss") is not None:
        exp["loss"] = np.asarray(outputs["loss"], dtype=np.float64).reshape(-1)
    for role, value in (outputs.get("params") or {}).items():
        exp[str(role)] = np.asarray(value, dtype=np.float64).reshape(-1)
    return exp


def verify_outputs(
    results: Sequence[np.ndarray],
    signature_outputs: Sequence[dict[str, Any]],
    outputs: dict[str, Any] | Outputs,
    *,
    same_backend: bool,
    bound: ErrorBound | None = None,
    allowances: Sequence[float] | None = None,
    inputs: Sequence[np.ndarray] | None = None,
    slack: float = 2.0,
) -> Verification:
    """Compare an executable's results with the capture's ``outputs.json``.

    Args:
        results: host arrays, one per StableHLO result.
        signature_outputs: the manifest's ``signature.outputs`` (``role`` per result).
        outputs: the parsed ``outputs.json``.
        same_backend: the executable ran on the backend the capture verified on.
        bound: the module's error bound; with :class:`Outputs`, results are judged by it.
        allowances: per result, the factor on its bound that the proof of capture
            gave the native result (:func:`xlalens.proof.recorded_allowances`: an
            ill-conditioned result's allowance); None: 1 for every result.
        inputs: the module's arguments; a parameter update is then judged by the
            update's magnitude, as the proof judges it (:func:`xlalens.proof.judge`).
        slack: multiple of ``bound`` allowed: 2 for the module's own bound (each
            side within it of the truth), 1 for a difference bound (the proof's
            recorded replay bound plus native bound, ``Capture.bound``).

    Returns:
        The :class:`Verification`.

    Example:
        >>> verify_outputs([np.float32(1.0)], [{"role": "loss"}], {"loss": 1.0}, same_backend=True).ok
        True
    """
    rtol, atol = SAME_BACKEND_TOL if same_backend else OTHER_BACKEND_TOL
    if isinstance(outputs, Outputs):
        return _verify_arrays(
            results, signature_outputs, outputs, bound, same_backend, allowances, inputs, slack
        )
    recorded = outputs.get("results")
    if isinstance(recorded, list) and recorded:
        return _verify_positional(results, signature_outputs, recorded, rtol, atol)
    expected = expected_by_role(outputs)
    compared: list[str] = []
    problems: list[str] = []
    worst = 0.0
    if len(results) != len(signature_outputs):
        return Verification(
            False, (), 0.0, rtol, atol,
            f"the executable returned {len(results)} results but the signature lists "
            f"{len(signature_outputs)}; re-run `xlalens dump`",
        )  # fmt: skip
    for got, sig in zip(results, signature_outputs):
        role = (sig or {}).get("role")
        if role not in expected:
            continue
        want = expected[role]
        arr = np.asarray(got, dtype=np.float64)
        have = arr.reshape(-1)
        shaped = np.asarray(_params(outputs).get(role), dtype=np.float64)
        if arr.ndim == 2 and shaped.shape == arr.shape[::-1] and arr.shape[0] != arr.shape[1]:
            # [out, in] against [in, out]: compare in one layout.
            have = arr.T.reshape(-1)
        if have.size != want.size:
            problems.append(f"{role}: {have.size} values, outputs.json has {want.size}")
            compared.append(role)
            continue
        diff = float(np.max(np.abs(have - want))) if have.size else 0.0
        worst = max(worst, diff)
        compared.append(role)
        if not np.allclose(have, want, rtol=rtol, atol=atol) or not np.all(np.isfinite(have)):
            problems.append(f"{role}: max |diff| {diff:.3g} exceeds rtol {rtol:g}, atol {atol:g}")
    if not compared:
        return Verification(
            False, (), 0.0, rtol, atol,
            "no output role of the signature matches outputs.json (need loss/w/b roles); "
            "cannot check the run, so no time is reported",
        )  # fmt: skip
    return Verification(not problems, tuple(compared), worst, rtol, atol, "; ".join(problems))


def _verify_arrays(
    results: Sequence[np.ndarray],
    signature_outputs: Sequence[dict[str, Any]],
    outputs: Outputs,
    bound: ErrorBound | None,
    same_backend: bool,
    allowances: Sequence[float] | None = None,
    inputs: Sequence[np.ndarray] | None = None,
    slack: float = 2.0,
) -> Verification:
    """Positional check against ``outputs.npz``, by the proof's bound when there is one.

    NOTE: [the proof's rule for a replay] the proof of capture found each result of
    the native step within ``allowance_i`` times its bound of the float64 reference
    (1, or more for an ill-conditioned result: the first Adam step of a bias whose
    exact gradient is 0); this run, the same module as the proof's replay, is
    within the replay's bound too. So the two may differ by the sum of the two bounds
    (the proof's recorded replay and native bounds; without them, twice the module's
    bound), times that allowance: the proof's own judge, with its allowances, not a
    rule of ours.
    """
    from xlalens.proof import judge

    rtol, atol = SAME_BACKEND_TOL if same_backend else OTHER_BACKEND_TOL
    labels = [(s or {}).get("role") or f"result {i}" for i, s in enumerate(signature_outputs)]
    if bound is None:
        recorded = [{"value": r} for r in outputs.results]
        return _verify_positional(results, signature_outputs, recorded, rtol, atol)
    j = judge(
        results,
        outputs.results,
        bound,
        labels=labels,
        slack=slack,
        widen=allowances,
        inputs=inputs,
    )
    ok, message = j.ok, j.message
    if not ok and not same_backend and len(results) == len(outputs.results):
        ok = all(
            np.asarray(a).shape == np.asarray(b).shape
            and np.allclose(
                np.asarray(a, np.float64), np.asarray(b, np.float64), rtol=rtol, atol=atol
            )
            for a, b in zip(results, outputs.results)
        )
        message = "" if ok else message
    compared = tuple(labels[: len(results)])
    return Verification(ok, compared, j.max_abs_error, slack * bound.relative, 0.0, message)


def _params(outputs: dict[str, Any]) -> dict[str, Any]:
    return outputs.get("params") or {}


def _verify_positional(
    results: Sequence[np.ndarray],
    signature_outputs: Sequence[dict[str, Any]],
    recorded: list[dict[str, Any]],
    rtol: float,
    atol: float,
) -> Verification:
    """Compare result i with ``outputs.json["results"][i]`` (shapes must agree)."""
    if len(results) != len(recorded):
        return Verification(
            False, (), 0.0, rtol, atol,
            f"the executable returned {len(results)} results, outputs.json records {len(recorded)}",
        )  # fmt: skip
    compared, problems, worst = [], [], 0.0
    for i, (got, rec) in enumerate(zip(results, recorded)):
        sig = signature_outputs[i] if i < len(signature_outputs) else {}
        label = (sig or {}).get("role") or f"result {i}"
        want = np.asarray(rec.get("value"), dtype=np.float64)
        have = np.asarray(got, dtype=np.float64)
        compared.append(str(label))
        if tuple(want.shape) != tuple(have.shape):
            problems.append(
                f"{label}: shape {list(have.shape)}, outputs.json has {list(want.shape)}"
            )
            continue
        if not have.size:
            continue
        diff = float(np.max(np.abs(have - want)))
        worst = max(worst, diff)
        if not np.allclose(have, want, rtol=rtol, atol=atol) or not np.all(np.isfinite(have)):
            problems.append(f"{label}: max |diff| {diff:.3g} exceeds rtol {rtol:g}, atol {atol:g}")
    return Verification(not problems, tuple(compared), worst, rtol, atol, "; ".join(problems))
