"""The compile subprocess of ``xlalens compile``: one target, every requested frontend.

Run as ``python -m xlalens.targets._worker REQUEST.json``. The parent
(:mod:`xlalens.targets._compile`) puts the plugin folder on ``PYTHONPATH`` and sets
the environment; this process loads exactly one PJRT plugin (each claims its
process), builds the target's compile-only devices, compiles each frontend's
module and writes, per frontend, ``optimized_hlo.txt`` and ``result.json``. It
never raises on a frontend's failure: that frontend's result says ``failed`` with
XLA's message and the next one goes on.

NOTE: [which module is compiled]
The captured StableHLO first. TensorFlow's (and Keras-on-TF's) StableHLO holds
``mhlo.copy``, which XLA:TPU's legalizer rejects ("failed to legalize operation
'mhlo.copy'"); when the StableHLO route fails and the capture has HLO, its HLO
text is parsed by XLA, serialized to an HloModuleProto and converted with
``jax.extend.mlir.hlo_to_stablehlo``, and that module is compiled instead. The
result records the route taken and why the first one failed.

Only jax/jaxlib (and the plugin jax loads) are imported here.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
import time
import traceback
from pathlib import Path
from typing import Any

_PARTITIONS = re.compile(r"mhlo\.num_partitions\s*=\s*(\d+)|num_partitions=(\d+)")
_REPLICAS = re.compile(r"mhlo\.num_replicas\s*=\s*(\d+)|replica_count=(\d+)")


def _first_int(pattern: re.Pattern[str], text: str) -> int:
    m = pattern.search(text[:20000])
    if not m:
        return 1
    return int(next(g for g in m.groups() if g))


def _plugin_missing(kind: str) -> str | None:
    """The pip package to install when ``kind``'s plugin is absent, else None."""
    if kind == "gpu":
        if importlib.util.find_spec("jax_plugins") is None or (
            importlib.util.find_spec("jax_plugins.xla_cuda12") is None
        ):
            return "jax-cuda12-plugin"
    if kind == "tpu" and importlib.util.find_spec("libtpu") is None:
        return "libtpu"
    return None


def _devices(req: dict[str, Any]) -> tuple[Any, list[Any]]:
    """(client, devices) of the target: compile-only for gpu/tpu, the host for cpu."""
    kind = req["kind"]
    if kind == "cpu" or req.get("on_device"):
        import jax.extend.backend

        client = jax.extend.backend.get_backend(req.get("platform") or "cpu")
        return client, list(client.devices())
    from jax.experimental import topologies

    if kind == "gpu":
        topo = topologies.get_topology_desc(
            req["topology_chip"], "cuda", target_config=req["spec_text"], topology=req["topology"]
        )
    else:
        topo = topologies.get_topology_desc(topology_name=req["topology"], platform="tpu")
    devs = list(topo.devices)
    return devs[0].client, devs


def _compile_options(n_replicas: int, n_partitions: int, dump_dir: str | None) -> Any:
    """jax's own compile options for this many replicas/partitions, plus a per-module dump."""
    import numpy as np
    from jax._src import compiler

    assignment = np.arange(n_replicas * n_partitions).reshape(n_replicas, n_partitions)
    # Per-compile XLA flags (what jax's `.compile(compiler_options=...)` uses), so each
    # frontend's codegen artifacts land in their own folder within one process.
    overrides = {"xla_dump_to": dump_dir, "xla_dump_hlo_as_text": True} if dump_dir else None
    opts = compiler.get_compile_options(
        num_replicas=n_replicas,
        num_partitions=n_partitions,
        device_assignment=assignment,
        env_options_overrides=overrides,
    )
    return opts


def _parse(module: str | bytes) -> Any:
    """A ``jaxlib.mlir.ir.Module`` in jax's context (the compile-only client wants one)."""
    from jax._src.interpreters import mlir
    from jax._src.lib.mlir import ir

    with mlir.make_ir_context():
        return ir.Module.parse(module)


def _hlo_to_stablehlo(hlo_text: str) -> bytes | str:
    """HLO text -> StableHLO through XLA's own parser and ``hlo_to_stablehlo``."""
    import jax.extend.mlir
    from jax._src.lib import hlo

    proto = hlo.hlo_module_from_text(hlo_text).as_serialized_hlo_module_proto()
    return jax.extend.mlir.hlo_to_stablehlo(proto)


def _elide_copies(module: str | bytes) -> tuple[str, int]:
    """The module with every ``mhlo.copy`` replaced by its operand, and how many there were."""
    from jax._src.lib.mlir import ir

    from xlalens._runtime import elide_copies

    with _ctx():
        m = ir.Module.parse(module)
        n = elide_copies(m)
        return str(m), n


def _routes(job: dict[str, Any]) -> list[tuple[str, Any]]:
    """The ways to get a compilable module for a frontend, in the order they are tried."""
    routes: list[tuple[str, Any]] = []
    if job.get("stablehlo"):
        src = Path(job["stablehlo"])
        routes.append(("stablehlo", src.read_bytes))
        routes.append(("stablehlo without mhlo.copy", lambda: _elide_copies(src.read_bytes())))
    if job.get("hlo"):
        hlo_path = Path(job["hlo"])
        routes.append(
            (
                "hlo via hlo_to_stablehlo",
                lambda: _elide_copies(_hlo_to_stablehlo(hlo_path.read_text())),
            )
        )
    return routes


def _compile_one(
    client: Any, devs: list[Any], loaded: bool, module: str | bytes, dump_dir: str | None
) -> tuple[Any, float, int]:
    """Compile ``module`` for as many devices as it asks; returns (executable, seconds, n)."""
    from jax._src.lib import xla_client

    text = module if isinstance(module, str) else module.decode("utf-8", "replace")
    n_part, n_rep = _first_int(_PARTITIONS, text), _first_int(_REPLICAS, text)
    n = n_part * n_rep
    if n > len(devs):
        raise RuntimeError(
            f"the module is sharded over {n} devices ({n_rep} replicas x {n_part} partitions) "
            f"but the target has {len(devs)}; ask for more, e.g. NAMEx{n} or a larger TPU mesh"
        )
    opts = _compile_options(n_rep, n_part, dump_dir)
    dl = xla_client.DeviceList(tuple(devs[:n]))
    start = time.perf_counter()
    if loaded:  # a real client (the host, or the device in the truth check)
        exe = client.compile_and_load(module, dl, opts)
    else:
        with _ctx():
            exe = client.compile(_parse(module), executable_devices=dl, compile_options=opts)
    return exe, time.perf_counter() - start, n


def _ctx() -> Any:
    from jax._src.interpreters import mlir

    return mlir.make_ir_context()


def _cost(exe: Any, modules: list[Any]) -> tuple[dict[str, float], str]:
    """XLA's cost analysis of the executable, and where it came from.

    XLA:GPU's compile-only executable answers "GetCostAnalysis is not supported"
    (jaxlib 0.10.2); then XLA's generic HloCostAnalysis runs on the target's
    optimized module through the host client. It sees through fusions (Triton gemm
    fusions included) but counts no FLOPs for library custom calls (cuBLAS).
    """
    try:
        return _as_floats(exe.cost_analysis()), "executable"
    except Exception as exc:
        first = _short(exc).splitlines()[0]
    try:
        import jax.extend.backend
        from jax._src.lib import xla_client

        cpu = jax.extend.backend.get_backend("cpu")
        totals: dict[str, float] = {}
        for m in modules:
            for k, v in _as_floats(xla_client._xla.hlo_module_cost_analysis(cpu, m)).items():
                totals[k] = totals.get(k, 0.0) + v
        return totals, f"HloCostAnalysis of the optimized module (executable: {first})"
    except Exception as exc:
        return {}, f"unavailable: {first}; {_short(exc).splitlines()[0]}"


def _as_floats(cost: Any) -> dict[str, float]:
    if isinstance(cost, list):
        cost = cost[0] if cost else {}
    out = {}
    for k, v in dict(cost or {}).items():
        try:
            out[str(k)] = float(v)
        except (TypeError, ValueError):
            continue
    return out


def _memory(exe: Any) -> dict[str, int]:
    try:
        stats = exe.get_compiled_memory_stats()
    except Exception:  # not every client reports it
        return {}
    return {
        name: int(getattr(stats, name))
        for name in dir(stats)
        if name.endswith("_in_bytes") and not name.startswith("_")
    }


def _short(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".strip()
    return text[:4000]


def run_job(client: Any, devs: list[Any], loaded: bool, job: dict[str, Any]) -> dict[str, Any]:
    """Compile one frontend; write its optimized HLO; return its result record."""
    out = Path(job["out"])
    out.mkdir(parents=True, exist_ok=True)
    dump_dir = str(out / "xla_dump") if job.get("dump") else None
    result: dict[str, Any] = {"frontend": job["frontend"], "status": "failed", "route": None}
    notes = []
    for route, load in _routes(job):
        try:
            module = load()
            if isinstance(module, tuple):  # (module, copies elided)
                module, elided = module
                if not elided:
                    continue  # the same module as a route already tried
                notes.append(f"{route}: {elided} mhlo.copy replaced by their operand")
            if isinstance(module, bytes) and not module.startswith(b"ML\xefR"):
                module = module.decode("utf-8")
            exe, seconds, n = _compile_one(client, devs, loaded, module, dump_dir)
        except Exception as exc:  # XLA's message is the result; the next route / frontend goes on
            notes.append(f"{route} route failed: {_short(exc)}")
            continue
        modules = exe.hlo_modules()
        (out / "optimized_hlo.txt").write_text("\n\n".join(m.to_string() for m in modules))
        cost, cost_source = _cost(exe, modules)
        result.update(
            status="ok",
            route=route,
            devices=n,
            compile_seconds=seconds,
            cost=cost,
            cost_source=cost_source,
            memory=_memory(exe),
            optimized_hlo="optimized_hlo.txt",
        )
        break
    if notes:
        result["notes"] = notes
    if result["status"] != "ok":
        result["reason"] = notes[-1] if notes else "the capture has neither StableHLO nor HLO"
    (out / "result.json").write_text(json.dumps(result, indent=1))
    return result


def main(argv: list[str]) -> int:
    """Compile every job of the request; 0 unless the request itself is unusable."""
    req = json.loads(Path(argv[0]).read_text())
    status_path = Path(req["status"])
    missing = None if req.get("on_device") else _plugin_missing(req["kind"])
    if missing:
        status_path.write_text(
            json.dumps({"status": "skipped", "reason": f"{missing} is not installed"})
        )
        return 0
    t0 = time.perf_counter()
    try:
        client, devs = _devices(req)
    except Exception as exc:
        status_path.write_text(
            json.dumps(
                {
                    "status": "failed",
                    "reason": f"no compile-only {req['key']} devices: {_short(exc)}",
                    "traceback": traceback.format_exc(limit=6),
                }
            )
        )
        return 0
    setup = time.perf_counter() - t0
    import jax

    for job in req["jobs"]:
        run_job(client, devs, req["kind"] == "cpu" or bool(req.get("on_device")), job)
    status_path.write_text(
        json.dumps(
            {
                "status": "ok",
                "setup_seconds": setup,
                "devices": len(devs),
                "device_kind": str(getattr(devs[0], "device_kind", "")),
                "platform": str(getattr(devs[0], "platform", "")),
                "versions": {"jax": jax.__version__, "plugin": _plugin_version(req["kind"])},
            }
        )
    )
    return 0


def _plugin_version(kind: str) -> str | None:
    from importlib import metadata

    pkg = {"gpu": "jax-cuda12-plugin", "tpu": "libtpu", "cpu": "jaxlib"}[kind]
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return None


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.exit(main(sys.argv[1:]))
