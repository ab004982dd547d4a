"""Scaling table of sharded steps: per device count (1, 2, 4, 8) and strategy (dp, tp).

Each point is the real pipeline: ``xlalens dump --frameworks jax --devices N
--sharding S`` (jax ``NamedSharding``s on N forced host devices; its capture
time is reported too), then ``xlalens time`` on that dump, which compiles the
captured pre-partitioning module for N devices with PJRT, checks its results
against the capture's (the proof rule), times the step and profiles every
device (xlalens.timing._sharded). Per device it reports XLA's FLOPs and bytes
accessed (cost analysis of one partition), the collective bytes each device
sends (ring model, xlalens.ir._collectives), peak memory (compiled memory
stats: arguments + outputs + temporaries - aliased), the step time measured
here, the profiled collective time (median over devices) and the link model's
communication time (xlalens.ir._linkmodel: bytes against ``--link-bandwidth``
plus a per-ring-step latency; the defaults are assumptions, docs/spmd.md).

Shape check: the model's communication time grows with n like the ring
factor (2 (n-1)/n for an all-reduce) plus its latency steps; the table prints the
measured collective time beside it and their ratio per n. On CPU host devices
the ratio is not constant: host devices share one memory, so CPU collective
times are memory copies and waits for the slowest partition, not network
times, and the step times here say how XLA:CPU runs N partitions on this
machine, not how N accelerators scale. The model is then extrapolated from
the 8-device capture to 64 and 512 devices.

Run: .venv/bin/python benchmarks/bench_spmd.py [--workload transformer,mlp] [--devices 1,2,4,8]
"""

from __future__ import annotations

import argparse
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


def run_point(workload: dict, devices: int, strategy: str, budget: float, lk, root: Path) -> dict:
    """Capture and time one (devices, strategy) point; the numbers of one table row."""
    from xlalens.capture import write_dump
    from xlalens.spmd import parse_mesh
    from xlalens.timing import TimingOptions, time_sharded_dump
    from xlalens.workloads import Workload

    spec = parse_mesh(devices, None, None, strategy, batch=workload["size"])
    folder = root / f"{workload['name']}-{strategy}-{devices}"
    t0 = time.perf_counter()
    result = write_dump(
        folder,
        frameworks=["jax"],
        workload=Workload(**workload),
        sharding=spec.to_json(),
        stages=False,
    )
    capture_s = time.perf_counter() - t0
    entry = result.manifest["frontends"]["jax"]
    if entry["status"] != "ok" or not entry["outputs_match"]:
        raise SystemExit(f"capture {folder.name}: {entry['status']} {entry.get('reason')}")
    opts = TimingOptions(
        min_time_s=budget, profile_time_s=budget / 2, peak_scale=0.25, native=False, fresh=True
    )
    doc = time_sharded_dump(folder, opts, link=lk)
    r = doc["frontends"]["jax"]
    if r["status"] != "ok":
        raise SystemExit(f"timing {folder.name}: {r['status']}: {r['reason']}")
    sh = r["sharded"]
    return {
        "flops": r["cost"]["flops"] or 0.0,
        "bytes": r["cost"]["bytes_accessed"] or 0.0,
        "coll_bytes": sh["collective_bytes_per_device"],
        "colls": len(sh["collectives"]),
        "peak": sh["peak_memory_bytes"],
        "step_s": r["step"]["median_s"],
        "cv": r["step"]["cv_robust"],
        "coll_s": sh["model"]["measured_collective_s"],
        "model_s": sh["model"]["at_mesh"]["seconds"],
        "extrapolated": sh["model"]["extrapolated"],
        "capture_s": capture_s,
    }


def table(
    name: str, devices: list[int], strategies: list[str], budget: float, lk, root: Path
) -> None:
    """Print the scaling table of one workload."""
    workload = SIZES[name]
    print(f"\nworkload {workload}")
    head = (
        f"{'strategy':<8} {'dev':>3} {'GFLOP':>8} {'MB accessed':>11} {'coll MB':>8} {'colls':>5} "
        f"{'peak MB':>8} {'step ms':>8} {'rCV':>5} {'vs 1 dev':>8} {'coll ms':>8} "
        f"{'model us':>9} {'meas/model':>10} {'capture s':>9}"
    )
    print(head)
    print("-" * len(head))
    last: dict[str, dict] = {}
    for strategy in strategies:
        base = None
        for n in devices:
            r = run_point(workload, n, strategy, budget, lk, root)
            base = base or r["step_s"]
            ratio = r["coll_s"] / r["model_s"] if r["model_s"] and r["coll_s"] is not None else None
            print(
                f"{strategy:<8} {n:>3} {r['flops'] / 1e9:>8.4f} {r['bytes'] / 1e6:>11.2f} "
                f"{r['coll_bytes'] / 1e6:>8.3f} {r['colls']:>5} {r['peak'] / 1e6:>8.2f} "
                f"{r['step_s'] * 1e3:>8.3f} {r['cv']:>5.0%} {r['step_s'] / base:>7.2f}x "
                f"{(r['coll_s'] or 0) * 1e3:>8.3f} {r['model_s'] * 1e6:>9.2f} "
                f"{'—' if ratio is None else f'{ratio:.0f}x':>10} {r['capture_s']:>9.1f}",
                flush=True,
            )
            last[strategy] = {**r, "devices": n}
    for strategy, r in last.items():
        pts = ", ".join(
            f"{p['devices']}: {p['bytes_per_device'] / 1e6:.3f} MB/device {p['seconds'] * 1e6:.1f} us"
            for p in r["extrapolated"]
        )
        print(f"{strategy} model extrapolated from {r['devices']} devices -> {pts}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--workload", default="transformer,mlp", help="comma list of: mlp, transformer"
    )
    parser.add_argument("--devices", default="1,2,4,8")
    parser.add_argument("--strategies", default="dp,tp")
    parser.add_argument(
        "--budget", type=float, default=1.0, help="seconds of step timing per point"
    )
    parser.add_argument(
        "--link-bandwidth", default=None, help="GB/s per direction (default: the --link's)"
    )
    parser.add_argument("--link", default="nvlink-h100", help="nvlink-h100 or ici-v5e (assumed)")
    args = parser.parse_args()
    from xlalens._errors import UsageError
    from xlalens.spmd import link

    try:
        lk = link(args.link, args.link_bandwidth)
    except UsageError as exc:
        print(f"bench_spmd: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    names = [w.strip() for w in args.workload.split(",") if w.strip()]
    unknown = [w for w in names if w not in SIZES]
    if unknown:
        raise SystemExit(f"--workload {unknown[0]}: choose from {', '.join(SIZES)}")
    devices = [int(d) for d in args.devices.split(",")]
    print(
        "per device. GFLOP, MB accessed: XLA cost analysis of one partition; coll MB: bytes each "
        "device sends (ring model); peak MB: compiled memory stats; step ms: `xlalens time` median "
        "on N host devices (rCV: robust CV); coll ms: profiled collective time, median over devices; "
        f"model us: link model ({lk.name}: {lk.bandwidth_bytes_per_s / 1e9:g} GB/s per direction, "
        f"{lk.latency_s * 1e6:g} us per ring step, assumed); meas/model: their ratio (the shape "
        "check: constant if the measured time grows like the model)."
    )
    print(
        "NOTE: CPU host devices are threads of one processor sharing its memory: CPU collective "
        "times are memory copies and waits for the slowest partition, not network times."
    )
    with tempfile.TemporaryDirectory(prefix="bench-spmd-") as tmp:
        for name in names:
            table(name, devices, args.strategies.split(","), args.budget, lk, Path(tmp))


if __name__ == "__main__":
    main()
