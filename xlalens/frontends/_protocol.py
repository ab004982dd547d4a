"""What every frontend subprocess shares: the request it reads, the files it writes.

A frontend runs as ``python -m xlalens.frontends.<module> --request REQ.json
--out DIR``. It reads the workload from the request, builds the step in its
framework, and hands the pieces to :func:`write_capture`, which writes the
per-frontend files of docs/dump-format.md plus ``result.json`` (the child's half
of the manifest entry). Any exception ends the child with exit status 1 and the
traceback on stderr, which the parent keeps as the ``failed`` reason.

This module imports no framework: the frontends import theirs.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import statistics
import sys
import time
import traceback
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from xlalens._errors import UsageError
from xlalens.workloads import Workload

RESULT = "result.json"

USER_ERROR_TAG = "XLALENS-USER-ERROR:"
"""Prefix of the one stderr line of a frontend that exits 2 on bad input."""

ZOO_PACKAGES = {
    "transformers": "transformers",
    "timm": "timm",
    "torchvision": "torchvision==0.24.0",
    "keras_hub": "keras-hub",
    "equinox": "equinox",
}
"""Import name -> distribution of the libraries of the ``zoo`` extra (pyproject.toml)."""


class Phases:
    """Wall seconds per phase (import, trace, lower, compile, native_run)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start


def package_versions(*names: str) -> dict[str, str]:
    """Installed distribution versions (``None``-free: missing ones are left out)."""
    found = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


NATIVE_TAG = "XLALENS-NATIVE"
"""Prefix of the lines a frontend serving native rounds writes on stdout."""

_serve_native = False  # set by main() when the request asks for native rounds
_serve_baselines = False  # ... and for the framework's non-XLA baselines

Baselines = dict[str, Callable[[], Callable[[], Any]]]
"""Name -> factory of a step that blocks until done (built only when asked for)."""


def _build_baselines(baselines: Baselines | None) -> tuple[dict[str, Callable[[], Any]], dict]:
    """Build and warm up each baseline; one that fails is reported, not fatal."""
    built: dict[str, Callable[[], Any]] = {}
    failed: dict[str, str] = {}
    for name, factory in (baselines or {}).items():
        try:
            fn = factory()
            for _ in range(3):  # warm-up: torch.compile/tf.function trace and compile here
                fn()
        except Exception as exc:  # a baseline this framework cannot run: say why
            failed[name] = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0][:200]}"
        else:
            built[name] = fn
    return built, failed


def serve_native_rounds(step: Callable[[], Any], baselines: Baselines | None = None) -> None:
    """Serve ``xlalens time``'s native rounds, then end the process.

    NOTE: [native rounds] ``xlalens time`` runs the frontend again with
    ``native_rounds`` in its request. When the capture reaches its native timing,
    this loop takes over: the parent writes ``run SECONDS [NAME]`` on stdin whenever
    its own compiled replay is idle, the child calls ``step`` (or the baseline
    ``NAME``) for that long (at least 3 times) and answers ``XLALENS-NATIVE
    [seconds, ...]`` on stdout. So they alternate in rounds and none runs beside
    another. ``quit`` (or EOF) ends the child at once: the capture's files are not
    needed. The ready line lists the baselines built (``baselines`` in the request),
    and those that could not be, with the reason.
    """
    steps, failed = _build_baselines(baselines if _serve_baselines else None)
    for _ in range(3):  # warm-up (caches, lazy compilation)
        step()
    ready = {"baselines": list(steps), "failed": failed}
    print(f"{NATIVE_TAG} ready {json.dumps(ready)}", flush=True)
    steps["native"] = step
    for line in sys.stdin:
        cmd = line.split(maxsplit=2)
        if not cmd or cmd[0] != "run":
            break
        budget = float(cmd[1])
        fn = steps[cmd[2].strip()] if len(cmd) > 2 else step
        times: list[float] = []
        deadline = time.perf_counter() + budget
        while len(times) < 3 or (time.perf_counter() < deadline and len(times) < 100_000):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        print(f"{NATIVE_TAG} {json.dumps(times)}", flush=True)
    sys.stdout.flush()
    os._exit(0)


def time_native(
    step: Callable[[], Any],
    *,
    budget_s: float = 0.5,
    max_n: int = 200,
    baselines: Baselines | None = None,
) -> dict[str, Any]:
    """Time a native step that blocks until its results are ready.

    Calls ``step`` until ``budget_s`` is spent (at least 5 and at most ``max_n``
    times) and returns ``min``/``median`` seconds and ``n``. These numbers are
    taken during ``xlalens dump``, while other frontends may run in parallel
    (``conditions`` says so); ``xlalens time`` measures the native step again,
    alone (:func:`serve_native_rounds`), and with ``--baselines`` the framework's
    non-XLA steps in ``baselines`` (factories, built only then).
    """
    if _serve_native:
        serve_native_rounds(step, baselines)
    times: list[float] = []
    deadline = time.perf_counter() + budget_s
    while len(times) < max_n and (len(times) < 5 or time.perf_counter() < deadline):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return {
        "min": min(times),
        "median": statistics.median(times),
        "n": len(times),
        "conditions": "at capture, other frontends possibly running in parallel",
    }


def load_target(spec: str) -> Callable[..., Any]:
    """Import a user's ``module:attr`` or ``path/to/file.py:attr``.

    Raises:
        ValueError: the spec is malformed or the attribute is missing, saying which.
    """
    if ":" not in spec:
        raise ValueError(f"target {spec!r} must be 'module:function' or 'file.py:function'")
    where, attr = spec.rsplit(":", 1)
    if where.endswith(".py"):
        path = Path(where).resolve()
        module_spec = importlib.util.spec_from_file_location(path.stem, path)
        if module_spec is None or module_spec.loader is None:
            raise ValueError(f"target {spec!r}: cannot load {path}")
        module = importlib.util.module_from_spec(module_spec)
        sys.path.insert(0, str(path.parent))
        # Registered as an import would: dataclasses (flax linen modules) look their
        # module up in sys.modules to resolve string annotations.
        sys.modules.setdefault(module_spec.name, module)
        module_spec.loader.exec_module(module)
    else:
        module = importlib.import_module(where)
    try:
        return getattr(module, attr)
    except AttributeError as exc:
        raise ValueError(f"target {spec!r}: {where} has no attribute {attr!r}") from exc


def summarize(arr: np.ndarray) -> dict[str, Any]:
    """Shape, dtype, L2 norm, largest magnitude and CRC-32 of an array's bytes."""
    flat = np.ascontiguousarray(arr)
    wide = flat.astype(np.float64, copy=False) if flat.dtype.kind in "fiub" else None
    return {
        "dtype": str(flat.dtype),
        "shape": list(flat.shape),
        "l2": None if wide is None else float(np.sqrt(np.sum(np.square(wide)))),
        "max_abs": None if wide is None or not wide.size else float(np.max(np.abs(wide))),
        "crc32": zlib.crc32(flat.reshape(-1).view(np.uint8)) if flat.size else 0,
    }


def _find_result(value: np.ndarray, results: list[np.ndarray]) -> tuple[int, bool] | None:
    """Index of the result holding exactly ``value`` (or its transpose), if any."""
    for i, r in enumerate(results):
        if r.dtype != value.dtype:
            continue
        if r.shape == value.shape and np.array_equal(r, value):
            return i, False
        if r.ndim == 2 and r.shape == value.shape[::-1] and np.array_equal(r.T, value):
            return i, True
    return None


def write_outputs(
    out: Path,
    results: list[np.ndarray],
    params: dict[str, Any],
    *,
    loss: float | None,
    loss_kind: str,
) -> None:
    """Write ``outputs.npz`` (the arrays) and ``outputs.json`` (a small summary).

    A parameter that is one of the results (as it is for every built-in
    workload) is stored once, as that result, and ``outputs.json`` points to it.
    """
    arrays = {f"result{i}": r for i, r in enumerate(results)}
    pinfo: dict[str, Any] = {}
    for role, value in params.items():
        value = np.asarray(value)
        found = _find_result(value, results)
        if found is None:
            arrays[f"param.{role}"] = value
            pinfo[role] = {"array": f"param.{role}", **summarize(value)}
        else:
            pinfo[role] = {"result": found[0], "transposed": found[1], **summarize(value)}
    np.savez(out / "outputs.npz", **arrays)
    doc = {
        "data": "outputs.npz",
        "loss": None if loss is None else float(loss),
        "loss_kind": loss_kind,
        "results": [summarize(r) for r in results],
        "params": pinfo,
    }
    (out / "outputs.json").write_text(json.dumps(doc, indent=1))


def write_capture(
    out: Path,
    *,
    stablehlo: str | bytes,
    hlo: str,
    optimized_hlo: str | None,
    inputs: list[np.ndarray],
    input_roles: list[str | None],
    results: list[np.ndarray],
    output_roles: list[str | None],
    loss: float | None,
    loss_kind: str,
    params: dict[str, np.ndarray],
    versions: dict[str, str],
    seconds: dict[str, float],
    native_step_seconds: dict[str, Any] | None,
    notes: list[str] | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """Write one frontend's capture files into ``out`` (see docs/dump-format.md).

    Args:
        out: the frontend's folder (created by the parent).
        stablehlo: StableHLO module (text, or MLIR bytecode / a portable artifact, which
            is printed to text with its source locations).
        hlo: pre-optimization HLO text.
        optimized_hlo: the framework's own optimized HLO, or None to let the core
            compile the StableHLO instead.
        inputs: the StableHLO main's arguments, in order, as host arrays.
        input_roles: a role (or None) per argument.
        results: the native step's value of every module result, in order.
        output_roles: a role (or None) per result.
        loss: the step's loss (None when the workload has none).
        loss_kind: ``before_update`` or ``after_update``.
        params: updated parameters by role in the ``[in, out]`` layout for w.
        versions: framework versions.
        seconds: phase timings.
        native_step_seconds: from :func:`time_native`.
        notes: remarks for the manifest (e.g. how the learning rate arrives).
        extra: more plain-data fields for result.json (e.g. torch_compile's ``dynamo``
            graph and graph-break counts).
    """
    if isinstance(stablehlo, bytes):
        from xlalens.ir._stablehlo import module_text

        stablehlo = module_text(stablehlo, source=str(out / "stablehlo.mlir"))
    if len(inputs) != len(input_roles) or len(results) != len(output_roles):
        raise ValueError(
            f"signature mismatch: {len(inputs)} inputs/{len(input_roles)} roles, "
            f"{len(results)} results/{len(output_roles)} roles"
        )
    (out / "stablehlo.mlir").write_text(stablehlo)
    (out / "hlo.txt").write_text(hlo)
    if optimized_hlo is not None:
        (out / "optimized_hlo.txt").write_text(optimized_hlo)
    arrays = [np.asarray(a) for a in inputs]
    # Compressed: a step's inputs hold freshly initialised optimizer state (momentum,
    # Adam moments), all zeros, which deflate to nothing (issue 10: data files of a
    # ResNet50 dump within 2x the parameters).
    np.savez_compressed(out / "inputs.npz", **{f"arg{i}": a for i, a in enumerate(arrays)})
    res = [np.asarray(r) for r in results]
    write_outputs(out, res, params, loss=loss, loss_kind=loss_kind)
    signature = {
        "inputs": [
            {"role": role, "dtype": str(a.dtype), "shape": list(a.shape)}
            for role, a in zip(input_roles, arrays)
        ],
        "outputs": [
            {"role": role, "dtype": str(r.dtype), "shape": list(r.shape)}
            for role, r in zip(output_roles, res)
        ],
    }
    result = {
        "versions": versions,
        "seconds": seconds,
        "signature": signature,
        "optimized_hlo_source": "framework" if optimized_hlo is not None else "pjrt",
        "native_step_seconds": native_step_seconds,
        "notes": notes or [],
        **(extra or {}),
    }
    (out / RESULT).write_text(json.dumps(result, indent=1))


def main(capture: Callable[[Workload, dict[str, Any], Path, Phases], None]) -> None:
    """Entry point of a frontend module: parse the request, run ``capture``, exit.

    ``capture(workload, request, out, phases)`` builds and captures the step and
    calls :func:`write_capture`. The import of the framework happens inside it,
    under ``phases("import")``.
    """
    parser = argparse.ArgumentParser()
    parser.add_argument("--request", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args()
    request = json.loads(args.request.read_text())
    workload = Workload.from_json(request["workload"])
    global _serve_native, _serve_baselines
    _serve_native = bool(request.get("native_rounds"))
    _serve_baselines = bool(request.get("baselines"))
    try:
        capture(workload, request, args.out, Phases())
    except UsageError as exc:
        # Bad input (a factory that returns something else, an op a frontend cannot
        # handle): one line the parent shows as it is, and exit 2 like the CLI.
        print(f"{USER_ERROR_TAG} {' '.join(str(exc).split())}", file=sys.stderr, flush=True)
        sys.exit(2)
    except ModuleNotFoundError as exc:
        if not request.get("target") or not exc.name:
            traceback.print_exc()
            sys.exit(1)
        top = exc.name.split(".")[0]
        extra = " (the zoo's libraries: pip install 'xlalens[zoo]')" if top in ZOO_PACKAGES else ""
        print(
            f"{USER_ERROR_TAG} --target {request['target']} needs the package {top!r}, which "
            f"is not installed: pip install {ZOO_PACKAGES.get(top, top)}{extra}",
            file=sys.stderr,
            flush=True,
        )
        sys.exit(2)
    except BaseException:
        traceback.print_exc()
        sys.stderr.flush()
        sys.exit(1)
    sys.exit(0)
