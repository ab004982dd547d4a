"""Running frontend subprocesses and checking what they captured.

NOTE: [why subprocesses] frameworks clash in one process (TensorFlow and
torch_xla each bring an XLA; Keras picks its backend once per process), and the
core must stay free of them. Each frontend runs as ``python -m`` in its own
process group, with a timeout, its stderr kept in ``capture.log``; at most
``jobs`` run at once.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from xlalens import _runtime
from xlalens._errors import ParseError
from xlalens.dumpdir import Interrupted, kill_group, read_outputs, stopping
from xlalens.dumpdir._children import child
from xlalens.frontends import Frontend
from xlalens.frontends._protocol import RESULT, USER_ERROR_TAG
from xlalens.proof import (
    MIN_CHAIN_LENGTH,
    ErrorBound,
    Judgement,
    ReferenceUnavailable,
    allowance,
    chain_charges,
    error_bound,
    judge,
    magnitude_floor,
    prove,
    reference,
    sensitivity,
    update_scales,
)
from xlalens.workloads import Workload

STDERR_TAIL_LINES = 15


@dataclass(frozen=True, slots=True)
class FrontendRun:
    """The outcome of one frontend: the manifest entry, as plain data."""

    name: str
    """Frontend name."""
    entry: dict[str, Any] = field(default_factory=dict)
    """Its ``manifest["frontends"][name]`` (status, reason, artifacts, ...)."""


def missing_package(frontend: Frontend) -> str | None:
    """The first required package that is not importable, without importing it."""
    for package in frontend.requires:
        if importlib.util.find_spec(package) is None:
            return package
    return None


def _tail(text: str, lines: int = STDERR_TAIL_LINES) -> str:
    kept = [ln for ln in text.splitlines() if ln.strip()]
    return "\n".join(kept[-lines:])


def run_frontend(
    frontend: Frontend,
    workload: Workload,
    *,
    folder: Path,
    dump_root: Path,
    backend: str,
    timeout: float,
    target: str | None = None,
    extra_env: dict[str, str] | None = None,
    sharding: dict[str, Any] | None = None,
) -> FrontendRun:
    """Run one frontend's subprocess into ``folder`` and verify its capture.

    Never raises for a frontend's own failure: that becomes ``status: failed``
    with the command, exit status and the tail of its stderr. ``extra_env`` is
    set last in the subprocess's environment (``xlalens passes`` passes
    ``XLA_FLAGS`` dump flags this way). ``sharding`` (a ``MeshSpec.to_json()``)
    asks for a sharded step: the subprocess gets the host devices in its
    environment and verifies against its own 1-device step (docs/sharding.md).
    """
    entry: dict[str, Any] = {
        "status": "failed",
        "reason": None,
        "outputs_match": None,
        "max_abs_diff": None,
        "seconds": {},
        "versions": {},
        "artifacts": {},
        "description": frontend.description
        if target is None
        else f"user step {target}, captured by the {frontend.name} frontend",
    }
    missing = missing_package(frontend)
    if missing:
        entry.update(status="skipped", reason=f"{missing} is not installed")
        return FrontendRun(frontend.name, entry)
    if sharding is not None:
        from xlalens.ir._mesh import MeshSpec, frontend_env, skip_reason

        reason = skip_reason(frontend.name, workload.name)
        if reason:
            entry.update(status="skipped", reason=reason)
            return FrontendRun(frontend.name, entry)
        extra_env = {
            **frontend_env(frontend.name, MeshSpec.from_json(sharding)),
            **(extra_env or {}),
        }
    folder.mkdir(parents=True, exist_ok=True)
    request = folder / "request.json"
    request.write_text(
        json.dumps(
            {
                "workload": workload.to_json(),
                "backend": backend,
                "target": target,
                **({"sharding": sharding} if sharding is not None else {}),
            }
        )
    )
    cmd = [sys.executable, "-m", frontend.module, "--request", str(request), "--out", str(folder)]
    env = {
        **os.environ,
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "PYTHONWARNINGS": "ignore",
        **frontend.env,
        **frontend.capture_env,
        **(extra_env or {}),
    }
    if backend != "cpu" and frontend.compiles_for != ("cpu",):
        env["JAX_PLATFORMS"] = backend
    log = folder / "capture.log"
    start = time.perf_counter()
    with open(log, "wb") as err, child(cmd, stdout=err, stderr=subprocess.STDOUT, env=env) as proc:
        # NOTE: [prompt interrupts] in xlalens/dumpdir/_children.py: an interrupt
        # kills this group from the signal handler, and the wait returns at once.
        try:
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_group(proc)  # the whole group: frameworks spawn helpers
            proc.wait()
            rc = None
    if stopping():
        raise Interrupted()
    elapsed = time.perf_counter() - start
    stderr = log.read_text(errors="replace")
    entry["artifacts"]["log"] = str(log.relative_to(dump_root))
    if rc is None:
        entry["reason"] = (
            f"timed out after {timeout:g} s (set XLALENS_FRONTEND_TIMEOUT to allow more)\n"
            f"command: {' '.join(cmd)}\n{_tail(stderr)}"
        )
        entry["seconds"] = {"subprocess": elapsed}
        return FrontendRun(frontend.name, entry)
    said = [ln for ln in stderr.splitlines() if ln.startswith(USER_ERROR_TAG)]
    if rc == 2 and said:
        # Bad input the frontend named in one line (docs/capture.md): no traceback.
        entry["reason"] = said[-1][len(USER_ERROR_TAG) :].strip()
        entry["user_error"] = True
        entry["seconds"] = {"subprocess": elapsed}
        return FrontendRun(frontend.name, entry)
    if rc != 0 or not (folder / RESULT).is_file():
        entry["reason"] = f"exit status {rc}\ncommand: {' '.join(cmd)}\n{_tail(stderr)}"
        entry["seconds"] = {"subprocess": elapsed}
        return FrontendRun(frontend.name, entry)

    # request.json stays beside a failure: the reason's command re-runs it.
    request.unlink(missing_ok=True)
    result = json.loads((folder / RESULT).read_text())
    (folder / RESULT).unlink()
    entry.update(
        status="ok",
        versions=result["versions"],
        seconds={**result["seconds"], "subprocess": elapsed},
        signature=result["signature"],
        optimized_hlo_source=result["optimized_hlo_source"],
        native_step_seconds=result["native_step_seconds"],
        notes=result["notes"],
    )
    if "dynamo" in result:  # torch_compile: graphs and graph breaks (fe_torch_compile.py)
        entry["dynamo"] = result["dynamo"]
    rel = folder.relative_to(dump_root)
    entry["artifacts"].update(
        {
            "stablehlo": str(rel / "stablehlo.mlir"),
            "hlo": str(rel / "hlo.txt"),
            "optimized_hlo": str(rel / "optimized_hlo.txt"),
            "outputs": str(rel / "outputs.json"),
            "outputs_data": str(rel / "outputs.npz"),
            "inputs": str(rel / "inputs.npz"),
        }
    )
    if "spmd" in result:
        # A partitioned module needs N devices, which only the subprocess has: it
        # judged the sharded step and its own 1-device step against the float64
        # reference of the captured module (frontends/_spmd_plan.record_proof).
        spmd = result["spmd"]
        entry["spmd"] = spmd
        entry.update(outputs_match=spmd["matches_single_device"], max_abs_diff=spmd["max_abs_diff"])
        if not spmd["matches_single_device"]:
            entry["verify_error"] = f"sharded step differs from the 1-device step: {spmd['why']}"
        # The bound the subprocess judged by, for cross_check's rule across frontends.
        bound = error_bound((folder / "stablehlo.mlir").read_text())
        reference = spmd.get("reference", "the 1-device step")
        entry["proof"] = {
            "reference": "float64 reference of the captured module on 1 device; the 1-device "
            "step and the sharded step judged against it"
            if reference == "float64"
            else reference,
            "bound": bound.as_dict(),
        }
        if spmd.get("ill_conditioned"):
            entry["proof"]["conditioning_factor"] = spmd["conditioning"]
        return FrontendRun(frontend.name, entry)
    if backend not in frontend.compiles_for:
        (folder / "optimized_hlo.txt").unlink(missing_ok=True)
        entry["optimized_hlo_source"] = "pjrt"
    verify(folder, entry, backend)
    return FrontendRun(frontend.name, entry)


def verify(folder: Path, entry: dict[str, Any], backend: str) -> None:
    """Prove the capture: replay it, build the float64 reference, judge both sides.

    ``outputs_match`` is true when the PJRT replay of the captured StableHLO AND
    the framework's native results are each within the module's error bound of
    the float64 reference (:mod:`xlalens.proof`). Without a reference
    (the module does not promote to f64), replay and native must agree within
    twice the bound, and ``proof.reference`` says why there is none. Also writes
    ``optimized_hlo.txt`` from the replay's compilation when the framework gave none.
    """
    start = time.perf_counter()
    try:
        text = (folder / "stablehlo.mlir").read_text()
        compiled = _runtime.compile_stablehlo(text, backend)
        if not (folder / "optimized_hlo.txt").exists():
            (folder / "optimized_hlo.txt").write_text(compiled.optimized_hlo())
        with np.load(folder / "inputs.npz") as npz:
            inputs = [npz[f"arg{i}"] for i in range(len(npz.files))]
        replayed = _runtime.run(compiled, inputs)
        native = read_outputs(folder / "outputs.json").results
    except Exception as exc:  # a capture that does not compile or run is a failed frontend
        entry.update(
            status="failed",
            outputs_match=False,
            reason=f"the captured StableHLO could not be replayed on {backend}: {exc}",
        )
        entry["seconds"]["verify"] = time.perf_counter() - start
        return
    labels = [o.get("role") for o in (entry.get("signature") or {}).get("outputs", [])]
    bound, native_bound = _bounds(folder, entry, text, compiled.optimized_hlo(), len(native))
    if max(bound.longest_sequential, native_bound.longest_sequential) >= MIN_CHAIN_LENGTH:
        # NOTE: [simulated chains] in xlalens/proof/_chains.py: a long chain's own error
        try:
            charges = chain_charges(text, inputs, backend)
        except Exception:  # a module the instrumentation cannot rewrite: the worst case stays
            charges = {}
        if charges:
            bound, native_bound = _bounds(
                folder, entry, text, compiled.optimized_hlo(), len(native), charges
            )
    if any(r and i not in r for b in (bound, native_bound) for i, (*_, r) in enumerate(b.through)):
        # NOTE: [update scales] in xlalens/proof/_updates.py: results read after an update
        try:
            scales = update_scales(text, inputs, backend)
        except Exception:  # a module the instrumentation cannot rewrite: own peaks stay
            scales = {}
        if scales:
            per = tuple(scales.get(i, 0.0) for i in range(len(native)))
            bound = dataclasses.replace(bound, update_scale=per)
            native_bound = dataclasses.replace(native_bound, update_scale=per)
    proof: dict[str, Any] = {"bound": bound.as_dict(), "native_bound": native_bound.as_dict()}
    diff = judge(replayed, native, bound.plus(native_bound), labels=labels)
    try:
        ref = reference(text, inputs, backend)
    except ReferenceUnavailable as exc:
        proof["reference"] = None
        proof["reference_error"] = str(exc)
        ok, why = diff.ok, diff.message
        proof["replay_vs_native"] = _judged(diff)
    else:
        proof["reference"] = "float64"
        try:  # NOTE: [per-result floor] in xlalens/proof/_conditioning.py
            rho = sensitivity(text, inputs, ref, bound, backend)
        except ReferenceUnavailable:  # not measured: every result keeps the floor
            rho = ()
        if rho:
            bound = dataclasses.replace(bound, sensitivity=rho)
            native_bound = dataclasses.replace(native_bound, sensitivity=rho)
            proof["bound"], proof["native_bound"] = bound.as_dict(), native_bound.as_dict()
        pr = prove(
            replayed, native, ref, bound, labels=labels, native_bound=native_bound, inputs=inputs
        )
        rj, nj, ill = pr.replay, pr.native, pr.ill
        proof["replay"], proof["native"] = _judged(rj), _judged(nj)
        if rho:
            # the results judged on the step's floor (rounding noise), by name
            proof["floored"] = [
                labels[i] if i < len(labels) and labels[i] else f"result {i}"
                for i in sorted(set(rj.floored) | set(nj.floored))
            ]
        if ill:
            # NOTE: [ill-conditioned steps] in xlalens/proof/_judge.py (prove): each of
            # these results was judged by its own allowance, every other one by its bound.
            proof["conditioning_factor"] = pr.kappa
            proof["conditioning_per_result"] = list(pr.kappas)
            proof["ill_conditioned"] = [
                labels[i] if i < len(labels) and labels[i] else f"result {i}" for i in ill
            ]
        ok = rj.ok and nj.ok
        why = "; ".join(
            f"{side}: {j.message}" for side, j in (("replay", rj), ("native", nj)) if not j.ok
        )
    entry.update(outputs_match=ok, max_abs_diff=diff.max_abs_error, proof=proof)
    entry.pop("verify_error", None)
    if not ok:
        entry["verify_error"] = why
    entry["seconds"]["verify"] = time.perf_counter() - start


def _bounds(
    folder: Path,
    entry: dict[str, Any],
    text: str,
    replay_optimized: str,
    n_results: int,
    chains: dict[int, tuple[int, float]] | None = None,
) -> tuple[ErrorBound, ErrorBound]:
    """The replay's bound and the native results' bound (NOTE: [sequential accumulation]).

    The replay ran the core's compilation, whose optimized module is at hand. The
    native step ran the framework's own XLA: its optimized module is the dump's
    ``optimized_hlo.txt`` when the framework wrote it (``optimized_hlo_source`` is
    ``framework``); otherwise (torch_xla) that compiler's accumulation order is
    unknown and every dot and convolution counts as sequential. ``chains``: the
    long dots' simulated charges (:func:`xlalens.proof.chain_charges`).
    """

    def fit(b: ErrorBound) -> ErrorBound:
        # A ROOT that is not the flat tuple of results: its sequential terms apply to all.
        if len(b.sequential) > 1 and len(b.sequential) != n_results:
            return dataclasses.replace(b, sequential=(max(b.sequential),), through_parts=())
        if b.through_parts and len(b.through_parts) != n_results:
            return dataclasses.replace(b, through_parts=())
        return b

    def from_module(optimized: str | None) -> ErrorBound:
        if optimized is not None:
            try:
                return fit(error_bound(text, optimized=optimized, chains=chains))
            except ParseError:  # a module our reader cannot read: assume the worst
                pass
        return error_bound(text, unknown_emitter=True, chains=chains)

    own = folder / "optimized_hlo.txt"
    native_optimized = (
        own.read_text()
        if entry.get("optimized_hlo_source") == "framework" and own.is_file()
        else None
    )
    return from_module(replay_optimized), from_module(native_optimized)


def _param_bounds(entry: dict[str, Any], results: dict[str, int | None]) -> dict[str, float]:
    """Each parameter's relative bound: its result's bound on the native side (the
    parameters compared are the framework's own), else the module's largest."""
    proof = entry.get("proof") or {}
    b = proof.get("native_bound") or proof.get("bound") or {}
    per = b.get("relative_per_result") or []
    whole = float(b.get("relative", 0.0))
    # An ill-conditioned result was proved within what the proof allowed it
    # (NOTE: [ill-conditioned steps] in _proof.py); the same allowance here, for
    # that result only (an older manifest without per-result factors: for all).
    kappas = proof.get("conditioning_per_result")
    whole_kappa = float(proof.get("conditioning_factor") or 1.0)

    def widen(i: int | None) -> float:
        k = whole_kappa
        if kappas is not None:
            k = float(kappas[i]) if i is not None and 0 <= i < len(kappas) else 1.0
        return allowance(k)

    return {
        role: widen(i) * (float(per[i]) if i is not None and 0 <= i < len(per) else whole)
        for role, i in results.items()
    }


def _judged(j: Judgement) -> dict[str, Any]:
    out = {
        "ok": j.ok,
        "error_over_bound": j.worst_ratio,
        "worst_result": j.worst_result,
        "max_abs_error": j.max_abs_error,
    }
    i = j.worst_result
    if i is not None and i < len(j.errors) and i < len(j.tolerances):
        # the result closest to its bound: how tight the bound is (bench_dump --proof-tightness)
        out.update(worst_error=j.errors[i], worst_tolerance=j.tolerances[i])
    return out


def _initial_values(folder: Path, entry: dict[str, Any], roles: set[str]) -> dict[str, np.ndarray]:
    """The step's inputs of the given roles (its parameters before the update), by role."""
    path = entry.get("artifacts", {}).get("inputs")
    sig = (entry.get("signature") or {}).get("inputs") or []
    if not path or not (folder / path).is_file():
        return {}
    out = {}
    with np.load(folder / path) as npz:
        for i, info in enumerate(sig):
            role = info.get("role") if isinstance(info, dict) else None
            if role in roles and f"arg{i}" in npz.files:
                out[role] = np.asarray(npz[f"arg{i}"], np.float64)
    return out


def _step_values(folder: Path, entry: dict[str, Any]) -> tuple[dict[str, np.ndarray], dict]:
    """The updated parameters by role (a user step: its named results), and where each is."""
    outs = read_outputs(folder / entry["artifacts"]["outputs"])
    if outs.params:
        values = {k: np.asarray(v, np.float64) for k, v in outs.params.items()}
        where = {
            role: info.get("result") if isinstance(info, dict) else None
            for role, info in (outs.summary.get("params") or {}).items()
        }
        return values, {role: where.get(role) for role in values}
    # A user step names no parameters: compare its float results by their roles
    # (a family runs the same step, so the roles match across its frontends).
    sig = (entry.get("signature") or {}).get("outputs") or []
    values, where = {}, {}
    for i, (info, arr) in enumerate(zip(sig, outs.results)):
        role = info.get("role") if isinstance(info, dict) else None
        a = np.asarray(arr)
        if role and role not in values and np.issubdtype(a.dtype, np.floating):
            values[role], where[role] = a.astype(np.float64), i
    return values, where


def cross_check(entries: dict[str, dict[str, Any]], folder: Path) -> dict[str, Any]:
    """Do all ok frontends agree on the updated parameters, within their bounds?

    NOTE: [cross-check] first the initial values: frontends that started from
    different parameters (another random draw) are reported as such, not as a
    computation that disagrees (compared as sorted values, so a transposed
    layout is the same start). Then each frontend's parameters are within its own
    bound of the exact update (its proof), so two agree when they differ by at
    most the sum of both bounds, times the larger of the parameter's magnitude
    and an absolute floor: the median of the parameters' magnitudes (a bias of
    3e-10 is judged on the step's scale, not its own, as :func:`judge` does). A
    user step (no named parameters) compares its named float results, so a
    family (``torch_xla,torchax``, both Keras backends) is checked too.
    """
    params: dict[str, dict[str, np.ndarray]] = {}
    rel: dict[str, dict[str, float]] = {}
    for name, entry in entries.items():
        if entry.get("status") == "ok":
            values, where = _step_values(folder, entry)
            if not values:
                continue
            params[name] = values
            rel[name] = _param_bounds(entry, where)
    out: dict[str, Any] = {
        "compared": sorted(params),
        "reference": None,
        "params_agree": None,
        "initial_values_agree": None,
        "max_abs_diff": None,
        "error_over_bound": None,
        "disagreements": [],
    }
    if len(params) < 2:
        return out
    ref_name = "jax" if "jax" in params else sorted(params)[0]
    ref = params[ref_name]
    starts = {n: _initial_values(folder, entries[n], set(ref)) for n in params}
    floor = magnitude_floor(list(ref.values()))
    worst, worst_ratio, agree, same_start = 0.0, 0.0, True, True
    for name in params:
        for role in ref:
            a, b = starts[ref_name].get(role), starts[name].get(role)
            if a is not None and b is not None and a.size == b.size:
                sa, sb = np.sort(a, axis=None), np.sort(b, axis=None)
                if not np.array_equal(sa, sb):
                    same_start = False
                    out["disagreements"].append(
                        f"{name}: {role} starts from different initial values than "
                        f"{ref_name} (max |diff| {float(np.max(np.abs(sa - sb))):.3g})"
                    )
    if not same_start:
        # Every update depends on every initial value: none is comparable.
        out.update(reference=ref_name, initial_values_agree=False)
        return out
    for name, got in params.items():
        for role, value in ref.items():
            other = got.get(role)
            if other is None or other.shape != value.shape:
                agree = False
                shape = None if other is None else list(other.shape)
                out["disagreements"].append(
                    f"{name}: {role} has shape {shape}, {ref_name} has {list(value.shape)}"
                )
                continue
            if not value.size:
                continue
            diff = float(np.max(np.abs(value - other)))
            scale = float(max(np.max(np.abs(value)), np.max(np.abs(other)), floor))
            tol = (rel[name].get(role, 0.0) + rel[ref_name].get(role, 0.0)) * scale
            ratio = diff / tol if tol > 0 else (0.0 if diff == 0 else float("inf"))
            worst, worst_ratio = max(worst, diff), max(worst_ratio, ratio)
            if ratio > 1:
                agree = False
                out["disagreements"].append(
                    f"{name}: {role} differs from {ref_name} by {diff:.3g}, "
                    f"{ratio:.3g}x the sum of their error bounds"
                )
    out.update(
        reference=ref_name,
        params_agree=agree,
        initial_values_agree=True,
        max_abs_diff=worst,
        error_over_bound=worst_ratio,
    )
    return out
