"""Write a real profiler trace of a jitted regression step, as ``xlalens time`` keeps it.

Run as ``python tests/browser/_trace.py DIR FRONTEND SAMPLES``: it times a few
steps under ``jax.profiler.trace(..., create_perfetto_trace=True)`` and copies the
Chrome trace-event file to ``DIR/timing/traces/<FRONTEND>-n<SAMPLES>.trace.json.gz``
(the path docs/timing.md names). A subprocess, so the test process loads no profiler.
"""

import shutil
import sys
import tempfile
from pathlib import Path

import jax
import jax.numpy as jnp


def main(dump: str, frontend: str, samples: int) -> None:
    """Profile 5 steps and keep the trace under the dump."""

    @jax.jit
    def step(w, b, x, y):
        def loss(w, b):
            return jnp.mean((x * w + b - y) ** 2)

        gw, gb = jax.grad(loss, argnums=(0, 1))(w, b)
        return w - 0.01 * gw, b - 0.01 * gb

    x = jnp.linspace(0.0, 1.0, samples).reshape(samples, 1)
    y = 2.0 * x + 1.0
    w, b = jnp.full((1,), 0.5), jnp.full((1,), 0.1)
    w, b = step(w, b, x, y)
    jax.block_until_ready(w)
    with tempfile.TemporaryDirectory() as tmp:
        with jax.profiler.trace(tmp, create_perfetto_trace=True):
            for _ in range(5):
                w, b = step(w, b, x, y)
            jax.block_until_ready((w, b))
        found = sorted(Path(tmp).rglob("perfetto_trace.json.gz"))
        out = Path(dump) / "timing" / "traces"
        out.mkdir(parents=True, exist_ok=True)
        shutil.copy(found[-1], out / f"{frontend}-n{samples}.trace.json.gz")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
