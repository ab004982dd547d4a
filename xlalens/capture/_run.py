"""Running frontend subprocesses and checking what they captured.

NOTE: [why subprocesses] frameworks clash in one process (TensorFlow and
torch_xla each bring an XLA; Keras picks its backend once per process), and the
core must stay free of them. Each frontend runs as ``python -m`` in its own
process group, with a timeout, its stderr kept in ``capture.log``; at most
``jobs`` run at once.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from xlalens import _runtime
from xlalens.frontends import Frontend
from xlalens.frontends._protocol import RESULT
from xlalens.workloads import Workload

RTOL = 1e-5
ATOL = 1e-6
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
        "description": frontend.description,
    }
    missing = missing_package(frontend)
    if missing:
        entry.update(status="skipped", reason=f"{missing} is not installed")
        return FrontendRun(frontend.name, entry)
    if sharding is not None:
        from xlalens.spmd import MeshSpec, frontend_env, skip_reason

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
        **(extra_env or {}),
    }
    if backend != "cpu" and frontend.compiles_for != ("cpu",):
        env["JAX_PLATFORMS"] = backend
    log = folder / "capture.log"
    start = time.perf_counter()
    with open(log, "wb") as err:
        proc = subprocess.Popen(
            cmd, stdout=err, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        try:
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the whole group: frameworks spawn helpers
            proc.wait()
            rc = None
    elapsed = time.perf_counter() - start
    request.unlink(missing_ok=True)
    stderr = log.read_text(errors="replace")
    entry["artifacts"]["log"] = str(log.relative_to(dump_root))
    if rc is None:
        entry["reason"] = (
            f"timed out after {timeout:.0f} s (set XLALENS_FRONTEND_TIMEOUT to allow more)\n"
            f"command: {' '.join(cmd)}\n{_tail(stderr)}"
        )
        entry["seconds"] = {"subprocess": elapsed}
        return FrontendRun(frontend.name, entry)
    if rc != 0 or not (folder / RESULT).is_file():
        entry["reason"] = f"exit status {rc}\ncommand: {' '.join(cmd)}\n{_tail(stderr)}"
        entry["seconds"] = {"subprocess": elapsed}
        return FrontendRun(frontend.name, entry)

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
    rel = folder.relative_to(dump_root)
    entry["artifacts"].update(
        {
            "stablehlo": str(rel / "stablehlo.mlir"),
            "hlo": str(rel / "hlo.txt"),
            "optimized_hlo": str(rel / "optimized_hlo.txt"),
            "outputs": str(rel / "outputs.json"),
            "inputs": str(rel / "inputs.npz"),
        }
    )
    if "spmd" in result:
        # A partitioned module needs N devices, which only the subprocess has:
        # it compared the sharded step's results with its own 1-device step.
        spmd = result["spmd"]
        entry["spmd"] = spmd
        entry.update(outputs_match=spmd["matches_single_device"], max_abs_diff=spmd["max_abs_diff"])
        if not spmd["matches_single_device"]:
            entry["verify_error"] = f"sharded step differs from the 1-device step: {spmd['why']}"
        return FrontendRun(frontend.name, entry)
    if backend not in frontend.compiles_for:
        (folder / "optimized_hlo.txt").unlink(missing_ok=True)
        entry["optimized_hlo_source"] = "pjrt"
    verify(folder, entry, backend)
    return FrontendRun(frontend.name, entry)


def compare(native: list[np.ndarray], replayed: list[np.ndarray]) -> tuple[bool, float, str]:
    """Compare result lists; returns (match within RTOL/ATOL, max |diff|, why not)."""
    if len(native) != len(replayed):
        return False, float("inf"), f"{len(replayed)} results replayed, {len(native)} recorded"
    worst, why = 0.0, ""
    ok = True
    for i, (a, b) in enumerate(zip(native, replayed)):
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape:
            return False, float("inf"), f"result {i}: shape {b.shape} replayed, {a.shape} recorded"
        if a.size == 0:
            continue
        diff = float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64))))
        worst = max(worst, diff)
        if not np.allclose(b.astype(np.float64), a.astype(np.float64), rtol=RTOL, atol=ATOL):
            ok = False
            why = why or f"result {i} differs by up to {diff:.3g}"
    return ok, worst, why


def load_results(outputs_json: Path) -> list[np.ndarray]:
    """The native results recorded in ``outputs.json``, as arrays of their dtypes."""
    data = json.loads(outputs_json.read_text())
    return [np.asarray(r["value"], dtype=r["dtype"]) for r in data["results"]]


def verify(folder: Path, entry: dict[str, Any], backend: str) -> None:
    """Replay the captured StableHLO through PJRT and record ``outputs_match``.

    Also writes ``optimized_hlo.txt`` from that compilation when the framework
    gave none.
    """
    start = time.perf_counter()
    try:
        compiled = _runtime.compile_stablehlo((folder / "stablehlo.mlir").read_text(), backend)
        if not (folder / "optimized_hlo.txt").exists():
            (folder / "optimized_hlo.txt").write_text(compiled.optimized_hlo())
        with np.load(folder / "inputs.npz") as npz:
            inputs = [npz[f"arg{i}"] for i in range(len(npz.files))]
        replayed = _runtime.run(compiled, inputs)
        ok, worst, why = compare(load_results(folder / "outputs.json"), replayed)
        entry.update(outputs_match=ok, max_abs_diff=worst)
        if not ok:
            entry["verify_error"] = why
    except Exception as exc:  # a capture that does not compile or run is a failed frontend
        entry.update(
            status="failed",
            outputs_match=False,
            reason=f"the captured StableHLO could not be replayed on {backend}: {exc}",
        )
    entry["seconds"]["verify"] = time.perf_counter() - start


def cross_check(entries: dict[str, dict[str, Any]], folder: Path) -> dict[str, Any]:
    """Do all ok frontends agree on the updated parameters? (rtol 1e-5)."""
    params: dict[str, dict[str, np.ndarray]] = {}
    for name, entry in entries.items():
        if entry.get("status") == "ok":
            data = json.loads((folder / entry["artifacts"]["outputs"]).read_text())
            if data["params"]:  # a user step names no parameters: nothing to compare
                params[name] = {k: np.asarray(v, np.float64) for k, v in data["params"].items()}
    out: dict[str, Any] = {
        "compared": sorted(params),
        "reference": None,
        "params_agree": None,
        "max_abs_diff": None,
        "disagreements": [],
    }
    if len(params) < 2:
        return out
    ref_name = "jax" if "jax" in params else sorted(params)[0]
    ref = params[ref_name]
    worst, agree = 0.0, True
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
            a, b = value.reshape(-1), other.reshape(-1)
            diff = float(np.max(np.abs(a - b))) if a.size else 0.0
            worst = max(worst, diff)
            if not np.allclose(b, a, rtol=RTOL, atol=ATOL):
                agree = False
                out["disagreements"].append(f"{name}: {role} differs from {ref_name} by {diff:.3g}")
    out.update(reference=ref_name, params_agree=agree, max_abs_diff=worst)
    return out
