"""Benchmark of `xlalens time`'s accuracy against a plain timing loop, in one run.

Prints, for the JAX regression step at each size:
  - xlalens's median step time (compiled from StableHLO through PJRT, auto-calibrated
    repeats, block_until_ready) against a hand-written loop around the jitted
    function (block_until_ready each call); target ratio within 1.05x; rounds
    alternate between the two; then the two calls alternated one by one, which a
    machine whose load drifts between rounds cannot bias;
  - the per-kernel sum over the measured step time (target 0.8x..1.05x at 2^20 and up),
    and over the profiled runs' own median;
  - the coefficient of variation of the step time (target <= 5% at 2^20).

Run: .venv/bin/python benchmarks/bench_time.py [--sizes 4,2^20] [--rounds 5]
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def hand_loop(fn, args, n: int) -> list[float]:
    """The reference: call the jitted function and wait, n times."""
    import jax

    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        jax.block_until_ready(fn(*args))
        out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    import jax

    from xlalens import _runtime
    from xlalens.timing import TimingOptions, measure_peaks, parse_sizes, time_module, workload_step
    from xlalens.timing._time import _Runner

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="4,2^20", help="samples, comma-separated (2^k allowed)")
    ap.add_argument("--rounds", type=int, default=5, help="alternating rounds per timer")
    ap.add_argument("--min-time", type=float, default=0.5, help="seconds per xlalens round")
    a = ap.parse_args()

    peaks = measure_peaks("cpu")
    print(
        f"cpu peaks: {peaks.bytes_per_s / 1e9:.3g} GB/s in place, "
        f"{peaks.fresh_bytes_per_s / 1e9:.3g} GB/s fresh buffer, {peaks.flops_per_s / 1e9:.3g} GFLOP/s"
    )
    for size in parse_sizes(a.sizes):
        step, args = workload_step({"name": "regression", "features": 1, "lr": 0.1}, size)
        jitted = jax.jit(step)
        text = jitted.lower(*args).as_text(debug_info=True)
        dev_args = [jax.device_put(x) for x in args]
        hand_loop(jitted, dev_args, 20)
        opts = TimingOptions(min_time_s=a.min_time, profile=False)
        xl_meds, hand_meds, cvs = [], [], []
        for _ in range(a.rounds):
            r = time_module(text, args, check=_ok, options=opts, peaks=peaks)
            xl_meds.append(r.step.median_s)
            cvs.append(r.step.cv)
            hand_meds.append(float(np.median(hand_loop(jitted, dev_args, r.step.n))))
        xl, hand = float(np.median(xl_meds)), float(np.median(hand_meds))
        paired = float(np.median([a / b for a, b in zip(xl_meds, hand_meds)]))
        # The same two calls alternated one by one: immune to load that drifts between rounds.
        runner = _Runner(_runtime.compile_stablehlo(text, "cpu"), list(args), text=text)
        runner.first()
        inter_x, inter_h = [], []
        for _ in range(max(20, min(2000, int(a.min_time / max(hand, 1e-6))))):
            t0 = time.perf_counter()
            runner.step()
            t1 = time.perf_counter()
            jax.block_until_ready(jitted(*dev_args))
            t2 = time.perf_counter()
            inter_x.append(t1 - t0)
            inter_h.append(t2 - t1)
        prof = time_module(
            text, args, check=_ok, options=TimingOptions(min_time_s=a.min_time), peaks=peaks
        )
        p = prof.profile or {}
        print(f"\nregression step, {size} samples ({size * 8 / 1e6:.3g} MB of x and y):")
        print(
            f"  xlalens median {xl * 1e3:.4g} ms, hand loop median {hand * 1e3:.4g} ms, "
            f"ratio {xl / hand:.3f}x, median of paired round ratios {paired:.3f}x (target <= 1.05x; "
            f"round medians x {_fmt(xl_meds)} / hand {_fmt(hand_meds)})"
        )
        print(
            f"  call by call, alternating ({len(inter_x)} pairs): xlalens's timed call "
            f"{np.median(inter_x) * 1e3:.4g} ms, jitted call {np.median(inter_h) * 1e3:.4g} ms, "
            f"ratio {np.median(inter_x) / np.median(inter_h):.3f}x"
        )
        print(
            f"  kernel sum / step {p.get('kernel_sum_ratio', float('nan')):.3f}x "
            f"(profiled runs: {p.get('kernel_sum_ratio_profiled') or float('nan'):.3f}x; target 0.8x..1.05x at 2^20+), "
            f"{len(prof.kernels)} kernels, idle between kernels {(p.get('idle_gap_s') or 0) * 1e3:.3g} ms"
        )
        print(f"  CV per round {', '.join(f'{c:.1%}' for c in cvs)} (target <= 5% at 2^20)")
        if size == 4:
            alt = float(np.median(inter_x) / np.median(inter_h))
            print(
                f"  4-sample ratio, xlalens / hand-written jitted loop: {alt:.3f}x call by call "
                f"(drift-immune), {paired:.3f}x paired rounds, {xl / hand:.3f}x round medians "
                f"(target <= 1.05x; timed call dispatched by {r.dispatch})"
            )
        top = ", ".join(
            f"{k.name} {k.median_s * 1e3:.3g} ms ({k.share:.0%})" for k in prof.kernels[:3]
        )
        print(f"  top kernels: {top}")


def _ok(_outs):
    from xlalens.timing import Verification

    return Verification(True, ("unchecked",), 0.0, 0.0, 0.0, "")


def _fmt(v: list[float]) -> str:
    return "[" + ", ".join(f"{x * 1e3:.3g}" for x in v) + "] ms"


if __name__ == "__main__":
    main()
