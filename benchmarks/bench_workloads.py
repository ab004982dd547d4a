"""The model workloads: cross-framework agreement at small sizes, capture time at real sizes.

Default (small sizes, every frontend): captures cnn and transformer at the test
sizes and prints, per workload, the max |difference| of the updated parameters
between every pair of frontends, and the loss spread.

``--real``: a ResNet-50-like cnn (``--depth 24 --width 256``, 3x32x32 images)
and a BERT-base-like transformer (12 blocks, width 768, 12 heads, sequence 128),
batch 2: seconds to build the initial state, trace + lower, compile and run one
step of the workload's jax step, against the small size in the same run (the
machine is noisy; the ratio is the figure). ``--real --dump --frameworks LIST``
captures through the frontends instead (see the NOTE in :func:`real`).

Run: ``.venv/bin/python benchmarks/bench_workloads.py [--real [--dump --frameworks jax]]``
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from xlalens.capture import write_dump
from xlalens.dumpdir import read_outputs
from xlalens.frontends import FRONTENDS
from xlalens.workloads import Workload

SMALL = {
    "cnn": Workload("cnn", depth=1, width=8, features=3, size=4, image=4),
    "transformer": Workload("transformer", depth=1, width=8, heads=2, seq=4, features=3, size=4),
}
REAL = {
    "cnn": Workload("cnn", depth=24, width=256, features=3, size=2, image=32),
    "transformer": Workload("transformer", depth=12, width=768, heads=12, seq=128, size=2),
}


def _params(dump) -> dict[str, dict[str, np.ndarray]]:
    out = {}
    for name, e in dump.manifest["frontends"].items():
        if e["status"] == "ok":
            data = read_outputs(dump.path / e["artifacts"]["outputs"])
            out[name] = {k: np.asarray(v, np.float64) for k, v in data.params.items()}
            out[name]["__loss__"] = np.asarray(data.loss, np.float64)
    return out


def agreement(frameworks: list[str], tmp: Path) -> None:
    """Pairwise max |diff| of updated parameters at the small sizes."""
    for name, workload in SMALL.items():
        start = time.perf_counter()
        dump = write_dump(tmp / name, frameworks=frameworks, workload=workload, stages=False)
        seconds = time.perf_counter() - start
        params = _params(dump)
        print(f"\n{name}: {workload.summary()['parameters']} parameters, {seconds:.0f} s capture")
        failed = [n for n, e in dump.manifest["frontends"].items() if e["status"] != "ok"]
        if failed:
            print(f"  failed: {failed}")
        print(f"  {'pair':34s} {'max |diff| params':>18s} {'|diff| loss':>12s}")
        for a, b in itertools.combinations(sorted(params), 2):
            worst = max(
                float(np.max(np.abs(params[a][k] - params[b][k])))
                for k in params[a]
                if k != "__loss__"
            )
            dloss = float(abs(params[a]["__loss__"] - params[b]["__loss__"]))
            print(f"  {a + ' / ' + b:34s} {worst:18.2e} {dloss:12.2e}")
        cc = dump.manifest["cross_check"]
        print(f"  capture's cross_check: params_agree={cc['params_agree']}")


def _lower_compile_run(workload: Workload) -> dict[str, float]:
    """Seconds to trace+lower, compile and run one step of the workload's jax reference."""
    import jax

    start = time.perf_counter()
    step, args = workload.reference_step()
    made = time.perf_counter()
    lowered = jax.jit(step).lower(*args)
    text = lowered.as_text()
    lowered_at = time.perf_counter()
    compiled = lowered.compile()
    compiled_at = time.perf_counter()
    jax.block_until_ready(compiled(*args))
    ran = time.perf_counter()
    return {
        "init": made - start,
        "lower": lowered_at - made,
        "compile": compiled_at - lowered_at,
        "step": ran - compiled_at,
        "stablehlo_kb": len(text) / 1e3,
    }


def real(frameworks: list[str], tmp: Path, through_dump: bool) -> None:
    """Capture seconds of the real sizes, against the small sizes in the same run.

    NOTE: [real sizes and the dump format] outputs.json holds every result as a
    JSON list: for BERT-base that is 3 x 85M floats (params, Adam's m and v), many
    GB of Python objects. Until the dump stores arrays in binary, the default
    measures the capture itself (trace + lower + compile of the workload's jax
    step, in this process); ``--dump`` runs the frontends through ``write_dump``.
    """
    for name in REAL:
        wl = REAL[name].summary()
        print(f"\n{name} real size: {wl['parameters'] / 1e6:.1f}M parameters ({wl['description']})")
        if not through_dump:
            small, big = _lower_compile_run(SMALL[name]), _lower_compile_run(REAL[name])
            print(f"  {'phase':12s} {'real s':>9s} {'small s':>9s} {'ratio':>7s}")
            for k in big:
                print(
                    f"  {k:12s} {big[k]:9.2f} {small[k]:9.2f} {big[k] / max(small[k], 1e-9):7.1f}"
                )
            continue
        small = write_dump(
            tmp / f"s-{name}", frameworks=frameworks, workload=SMALL[name], stages=False
        )
        big = write_dump(
            tmp / f"r-{name}", frameworks=frameworks, workload=REAL[name], stages=False
        )
        print(
            f"  {'frontend':17s} {'status':7s} {'subprocess s':>12s} {'small s':>8s} {'ratio':>6s}"
        )
        for fe, e in big.manifest["frontends"].items():
            s_small = small.manifest["frontends"][fe].get("seconds", {}).get("subprocess", 1.0)
            sub = e.get("seconds", {}).get("subprocess", float("nan"))
            print(f"  {fe:17s} {e['status']:7s} {sub:12.1f} {s_small:8.1f} {sub / s_small:6.1f}")
            phases = {k: round(v, 1) for k, v in e.get("seconds", {}).items()}
            print(f"    phases: {phases}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--real", action="store_true", help="real sizes (ResNet-50, BERT-base)")
    parser.add_argument("--frameworks", default=None, help="comma-separated frontends")
    parser.add_argument(
        "--dump", action="store_true", help="with --real: capture through write_dump (memory!)"
    )
    args = parser.parse_args()
    default = "jax,torch_xla" if args.real else ",".join(FRONTENDS)
    frameworks = [f for f in (args.frameworks or default).split(",") if f]
    with tempfile.TemporaryDirectory() as tmp:
        if args.real:
            real(frameworks, Path(tmp), args.dump)
        else:
            agreement(frameworks, Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
