"""What the profiler adds inside each kernel event's span on XLA:CPU (issue 20).

``xlalens time`` divides kernel times, taken from profiled runs, by the step's
median, taken from unprofiled runs. This measures how much of a kernel event's span
is the profiler's own: a jitted chain of ``N`` small matmul + tanh layers (one
kernel event each), its best unprofiled step against the smallest per-run sum of its
profiled kernel events (xlalens's own event reader). Where that sum exceeds the
whole unprofiled step, the difference is time the unprofiled run never spends, so
``(min kernel sum - min step) / events`` is a lower bound on the profiler's cost
inside each event (NOTE [profiler cost per kernel event] in bench_zoo.py).

Run: ``python benchmarks/profiler_event_cost.py`` (about a minute; minima, so a
loaded machine moves it less than medians).
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax
import jax.numpy as jnp
import numpy as np

from xlalens.ir._kernels import index_hlo
from xlalens.timing._profile import attribute, collect_events

SIZES = ((200, 8), (200, 32), (100, 128))
"""(layers, matrix side): tiny kernels first, then larger ones where the cost is small."""


def chain(layers: int, side: int) -> tuple:
    """The compiled chain and its arguments."""
    w = jnp.eye(side, dtype=jnp.float32) * 0.5
    x = jnp.ones((side, side), jnp.float32)

    def f(x, w):
        for i in range(layers):
            x = jnp.tanh(x @ (w + i))
        return x

    return jax.jit(f).lower(x, w).compile(), (x, w)


def main() -> None:
    for layers, side in SIZES:
        compiled, args = chain(layers, side)
        index = index_hlo(compiled.as_text())
        for _ in range(20):
            compiled(*args).block_until_ready()
        steps = []
        for _ in range(300):
            t0 = time.perf_counter()
            compiled(*args).block_until_ready()
            steps.append(time.perf_counter() - t0)

        def step(compiled=compiled, args=args) -> None:
            compiled(*args).block_until_ready()

        events = collect_events(step, 100, index, device_planes=False)
        att = attribute(events, index, 100)
        per_run: dict = {}
        for e in events:
            per_run[e.run_id] = per_run.get(e.run_id, 0.0) + e.duration_ns * 1e-9
        kmin, smin, n = min(per_run.values()), min(steps), att.events / att.runs
        ksum = sum(k.median_s for k in att.kernels if k.nested_in is None)
        print(
            f"{layers} layers of {side}x{side}: {n:.0f} kernel events per step; step min "
            f"{smin * 1e6:.0f} us (median {np.median(steps) * 1e6:.0f}); profiled kernel sum "
            f"{ksum * 1e6:.0f} us (min per run {kmin * 1e6:.0f}); kernel sum / step "
            f"{ksum / np.median(steps):.2f}; (min kernel sum - min step) / event "
            f"{(kmin - smin) / n * 1e9:+.0f} ns"
        )


if __name__ == "__main__":
    main()
