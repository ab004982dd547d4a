"""Scaling table of sharded steps: per device count (1, 2, 4, 8) and strategy (dp, tp).

For each point a fresh subprocess with N forced host devices
(``--xla_force_host_platform_device_count``) builds the workload's reference
step under jax ``NamedSharding``s (the same placement as ``xlalens dump
--devices N --sharding S``), compiles it and reports, per device: XLA's
FLOPs and bytes accessed (``cost_analysis``), peak memory (``memory_analysis``:
arguments + outputs + temporaries - aliased), and the step time measured here
(median of repeated calls). The lead parses the partitioned module with
xlalens's reader and sums the collectives' bytes per device (ring model,
docs/sharding.md). Then the capture time of ``xlalens dump`` (jax, dp) per
device count.

The analytic communication model divides the collective bytes per device by an
assumed link bandwidth (``--link-bandwidth``, GB/s, default 450: one direction
of H100 NVLink 4, an assumption, not a measurement). For dp, the gradient
bytes D do not depend on the device count, so a ring all-reduce sends
2 (n-1)/n D per device; the table extrapolates that to 64 and 512 devices.

NOTE: host devices are threads of one CPU sharing its memory: CPU collective
times are memory copies, not network times, and the step times here say how
XLA:CPU runs N partitions on a 2-core machine, not how N accelerators scale.

Run: .venv/bin/python benchmarks/bench_spmd.py [--workload mlp|transformer] [--devices 1,2,4,8]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SIZES = {
    "mlp": {"name": "mlp", "depth": 2, "width": 512, "size": 256, "features": 256},
    "transformer": {
        "name": "transformer",
        "depth": 2,
        "width": 128,
        "heads": 4,
        "seq": 64,
        "features": 32,
        "size": 32,
    },
}


def worker(request: dict) -> dict:
    """In a subprocess with N host devices: compile the sharded step and measure it."""
    import statistics

    import jax
    import numpy as np
    from jax.sharding import Mesh, NamedSharding
    from jax.sharding import PartitionSpec as P

    from xlalens.frontends._spmd_jax import batch_spec, param_spec
    from xlalens.spmd import MeshSpec
    from xlalens.workloads import Workload

    spec = MeshSpec.from_json(request["spec"])
    workload = Workload(**request["workload"])
    step, (params, buffers, opt_state, x, y) = workload.reference_step()
    mesh = Mesh(np.array(jax.devices()[: spec.devices]).reshape(spec.shape), spec.axes)

    def place(tree):
        return {
            k: jax.device_put(v, NamedSharding(mesh, param_spec(k, tuple(v.shape), spec)))
            for k, v in tree.items()
        }

    state = {
        k: place(v) if isinstance(v, dict) else jax.device_put(v, NamedSharding(mesh, P()))
        for k, v in opt_state.items()
    }
    args = (
        place(params),
        place(buffers),
        state,
        jax.device_put(x, NamedSharding(mesh, batch_spec(x.ndim, spec))),
        jax.device_put(y, NamedSharding(mesh, batch_spec(y.ndim, spec))),
    )
    compiled = jax.jit(step).lower(*args).compile()
    cost = compiled.cost_analysis()
    cost = cost[0] if isinstance(cost, list) else cost
    mem = compiled.memory_analysis()
    peak = (
        mem.argument_size_in_bytes
        + mem.output_size_in_bytes
        + mem.temp_size_in_bytes
        - mem.alias_size_in_bytes
    )
    jax.block_until_ready(compiled(*args))
    times = []
    deadline = time.perf_counter() + request["budget_s"]
    while len(times) < 5 or (time.perf_counter() < deadline and len(times) < 200):
        t0 = time.perf_counter()
        jax.block_until_ready(compiled(*args))
        times.append(time.perf_counter() - t0)
    return {
        "flops": float(cost.get("flops", 0.0)),
        "bytes": float(cost.get("bytes accessed", 0.0)),
        "peak": int(peak),
        "step_s": statistics.median(times),
        "optimized_hlo": compiled.as_text(),
    }


def run_point(workload: dict, devices: int, strategy: str, budget: float) -> dict:
    """One (devices, strategy) point in its own subprocess."""
    from xlalens.ir import collectives, parse_hlo_text
    from xlalens.ir._collectives import mesh_from_spec
    from xlalens.spmd import frontend_env, parse_mesh

    # --sharding given: a 1-device mesh too, so every point runs the same code.
    spec = parse_mesh(devices, None, None, strategy, batch=workload["size"])
    spec_json = spec.to_json()
    env = {**os.environ, **frontend_env("jax", spec), "JAX_PLATFORMS": "cpu"}
    req = json.dumps({"spec": spec_json, "workload": workload, "budget_s": budget})
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", req],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"worker {devices} {strategy} failed:\n{proc.stderr[-2000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    graph = parse_hlo_text(out.pop("optimized_hlo"))
    found = collectives(graph, mesh_from_spec(spec_json))
    out["collective_bytes"] = sum(c.bytes_per_device for c in found)
    out["collective_operand_bytes"] = sum(c.operand_bytes for c in found)
    out["collectives"] = len(found)
    return out


def capture_seconds(workload: dict, devices: int) -> float:
    """Wall seconds of ``xlalens dump --frameworks jax --devices N --sharding dp`` (no stages)."""
    from xlalens.capture import write_dump
    from xlalens.spmd import parse_mesh
    from xlalens.workloads import Workload

    spec = parse_mesh(devices, None, None, "dp", batch=workload["size"])
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        result = write_dump(
            Path(tmp) / "d",
            frameworks=["jax"],
            workload=Workload(**workload),
            sharding=spec.to_json(),
            stages=False,
        )
        seconds = time.perf_counter() - t0
    entry = result.manifest["frontends"]["jax"]
    if entry["status"] != "ok" or not entry["outputs_match"]:
        raise SystemExit(f"capture at {devices} devices: {entry['status']} {entry.get('reason')}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--workload", default="mlp", choices=sorted(SIZES))
    parser.add_argument("--devices", default="1,2,4,8")
    parser.add_argument("--strategies", default="dp,tp")
    parser.add_argument("--budget", type=float, default=1.0, help="seconds of step timing/point")
    parser.add_argument(
        "--link-bandwidth", type=float, default=450.0, help="GB/s per device (assumption)"
    )
    parser.add_argument("--no-capture", action="store_true", help="skip the capture timings")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return
    workload = SIZES[args.workload]
    devices = [int(d) for d in args.devices.split(",")]
    bw = args.link_bandwidth * 1e9
    print(f"workload {workload}")
    print(
        "per device; collective bytes: ring model; comm model: bytes / "
        f"{args.link_bandwidth:g} GB/s (assumed link); CPU host devices share memory, "
        "so the measured step times include no network"
    )
    head = (
        f"{'strategy':<8} {'dev':>3} {'GFLOP':>9} {'MB accessed':>11} {'coll MB':>9} "
        f"{'colls':>5} {'peak MB':>8} {'step ms':>8} {'vs 1 dev':>8} {'model comm us':>13}"
    )
    print(head)
    print("-" * len(head))
    dp_grad_bytes = None
    for strategy in args.strategies.split(","):
        base = None
        for n in devices:
            r = run_point(workload, n, strategy, args.budget)
            base = base or r["step_s"]
            if strategy == "dp" and n > 1:
                dp_grad_bytes = r["collective_operand_bytes"]
            print(
                f"{strategy:<8} {n:>3} {r['flops'] / 1e9:>9.4f} {r['bytes'] / 1e6:>11.2f} "
                f"{r['collective_bytes'] / 1e6:>9.3f} {r['collectives']:>5} "
                f"{r['peak'] / 1e6:>8.2f} {r['step_s'] * 1e3:>8.3f} "
                f"{r['step_s'] / base:>7.2f}x {r['collective_bytes'] / bw * 1e6:>13.2f}"
            )
    if dp_grad_bytes:
        print(
            f"dp extrapolation (ring all-reduce of D = {dp_grad_bytes / 1e6:.3f} MB of "
            "gradients, D independent of n):"
        )
        for n in (8, 64, 512):
            sent = 2 * (n - 1) / n * dp_grad_bytes
            print(f"  {n:>4} devices: {sent / 1e6:.3f} MB/device, {sent / bw * 1e6:.2f} us")
    if not args.no_capture:
        print("capture time (xlalens dump --frameworks jax --sharding dp, no later stages):")
        ref = None
        for n in devices:
            s = capture_seconds(workload, n)
            ref = ref or s
            print(f"  {n:>3} devices: {s:6.1f} s  ({s / ref:.2f}x of 1 device)")


if __name__ == "__main__":
    main()
