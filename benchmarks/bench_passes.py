"""Building the pass timeline against the compile it explains, in the same run.

For each workload (``mlp`` depth 8; ``transformer`` when xlalens.workloads has
it) and each of jax, TensorFlow and torch_xla: the XLA compile time of the
plain capture, the compile time of the re-run with the dump flags on (what
writing every snapshot costs), and the time to build the timeline (parse every
snapshot, diff each with the one before, blame) with the ratio to the plain
compile. Then the same for a ~2,000-instruction jax module (70 tanh layers),
against the issue's 10 s target.

Run: ``.venv/bin/python benchmarks/bench_passes.py``
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from xlalens.capture import write_dump
from xlalens.passes import build_timeline, run_passes, scan
from xlalens.workloads import WORKLOADS, Workload

FRONTS = ["jax", "tensorflow", "torch_xla"]

TWO_K = """
import time, jax, jax.numpy as jnp, numpy as np
def step(ws, x, y):
    def loss(ws):
        h = x
        for w, b in ws:
            h = jnp.tanh(h @ w + b)
        return jnp.mean((h - y) ** 2)
    g = jax.grad(loss)(ws)
    return [(w - 0.01 * gw, b - 0.01 * gb) for (w, b), (gw, gb) in zip(ws, g)], loss(ws)
ws = [(np.full((16, 16), 0.01, np.float32), np.zeros(16, np.float32)) for _ in range(70)]
lowered = jax.jit(step).lower(ws, np.ones((8, 16), np.float32), np.ones((8, 16), np.float32))
t = time.perf_counter(); lowered.compile(); print(time.perf_counter() - t)
"""


def workloads() -> list[Workload]:
    out = [Workload(name="mlp", depth=8, width=64, size=64, features=16)]
    if "transformer" in WORKLOADS:
        out.append(Workload(name="transformer"))
    else:
        print("transformer: not in xlalens.workloads on this branch; skipped")
    return out


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        for wl in workloads():
            dump = write_dump(Path(tmp) / wl.name, frameworks=FRONTS, workload=wl, stages=False)
            ok = [n for n in FRONTS if dump.manifest["frontends"][n]["status"] == "ok"]
            recs = run_passes(dump.path, frontends=ok)
            print(f"\n{wl.name} (depth {wl.depth}, width {wl.width}, size {wl.size})")
            print(
                f"{'frontend':11s} {'ops in':>6s} {'kernels':>7s} {'snaps':>5s} "
                f"{'compile':>8s} {'compile+dump':>12s} {'timeline':>8s} {'timeline/compile':>16s}"
            )
            for name in ok:
                rec = recs[name]
                plain = dump.manifest["frontends"][name]["seconds"].get("compile")
                if rec.status != "ok" or not plain:
                    print(f"{name:11s} {rec.status}: {(rec.reason or '').splitlines()[:1]}")
                    continue
                tl = rec.timeline
                dumped = rec.rerun_seconds.get("compile", float("nan"))
                print(
                    f"{name:11s} {tl.steps[0].ops:6d} {tl.steps[-1].kernels:7d} "
                    f"{len(tl.steps):5d} {plain:7.2f}s {dumped:11.2f}s {tl.seconds:7.2f}s "
                    f"{tl.seconds / plain:15.1f}x"
                )
        xla = Path(tmp) / "twok"
        env = {
            **os.environ,
            "JAX_PLATFORMS": "cpu",
            "XLA_FLAGS": f"--xla_dump_to={xla} --xla_dump_hlo_pass_re=.*",
        }
        out = subprocess.run(
            [sys.executable, "-c", TWO_K], env=env, check=True, capture_output=True, text=True
        )
        compile_s = float(out.stdout.strip().splitlines()[-1])
        (mod,) = [m for m in scan(xla) if m.snapshots]
        start = time.perf_counter()
        tl = build_timeline(mod)
        build = time.perf_counter() - start
        print(
            f"\njax 70-layer module: {tl.steps[0].ops} ops in, {len(tl.steps)} snapshots; "
            f"compile with dump flags {compile_s:.2f} s, timeline {build:.2f} s "
            f"({build / compile_s:.1f}x the compile; target < 10 s)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
