"""Benchmark: diff two large optimized HLO modules (a JAX transformer training step at depths L and L+1).

Prints, at four sizes, the diff's wall time, nodes per second (both graphs'
nodes together) and, as a reference measured in the same run, the time xlalens's
HLO reader takes to load the same two modules. The target (issue 4): two
20k-instruction modules in at most 2 s, growing close to linearly.

Run: .venv/bin/python benchmarks/bench_diff.py [--depths 1,2,5,11]
"""

from __future__ import annotations

import argparse
import math
import time

import jax


def transformer_step_hlo(
    depth: int, d: int = 64, seq: int = 16, batch: int = 2, heads: int = 4
) -> str:
    """Optimized HLO text of one training step of the built-in transformer workload.

    The step is ``Workload.reference_step()`` (xlalens.workloads: the same model
    every frontend captures), ``depth`` encoder blocks of width ``d``.
    """
    from xlalens.workloads import Workload

    w = Workload("transformer", depth=depth, width=d, seq=seq, size=batch, heads=heads, features=d)
    step, args = w.reference_step()
    return jax.jit(step).lower(*args).compile().as_text()


def main() -> None:
    """Run the benchmark and print one line per size."""
    from xlalens.diff import diff
    from xlalens.ir import load

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--depths", default="1,2,5,11", help="depths L (each diffed against L+1)")
    args = ap.parse_args()
    depths = [int(x) for x in args.depths.split(",")]
    print(
        f"jax {jax.__version__}; transformer training step, optimized HLO for {jax.default_backend()}"
    )
    rows = []
    for depth in depths:
        texts = [transformer_step_hlo(depth), transformer_step_hlo(depth + 1)]
        t0 = time.perf_counter()
        ga, gb = (load(t, level="raw", stage="optimized_hlo") for t in texts)
        t_load = time.perf_counter() - t0
        diff(ga, gb)  # warm-up: imports and first-call costs stay out of the timing
        best = math.inf
        for _ in range(3):
            t0 = time.perf_counter()
            d = diff(ga, gb)
            best = min(best, time.perf_counter() - t0)
        nodes = ga.number_of_nodes() + gb.number_of_nodes()
        s = d.summary
        rows.append((nodes, best))
        print(
            f"depth {depth:>2} vs {depth + 1:>2}: {ga.number_of_nodes():>6} + {gb.number_of_nodes():>6} nodes "
            f"diffed in {best:.3f} s ({nodes / best / 1e3:.0f}k nodes/s); "
            f"load of both {t_load:.3f} s (diff/load {best / t_load:.2f}x); "
            f"paired {len(d.pairs)}, unchanged {s.unchanged}, changed {s.changed}, "
            f"only A {s.only_a}, only B {s.only_b}; kernels {s.kernels}"
        )
    (n0, t0_), (n1, t1_) = rows[0], rows[-1]
    exponent = math.log(t1_ / t0_) / math.log(n1 / n0)
    print(
        f"growth: time ~ nodes^{exponent:.2f} from {n0} to {n1} nodes (1.0 = linear, 2.0 = quadratic)"
    )


if __name__ == "__main__":
    main()
