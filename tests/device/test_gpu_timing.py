"""`xlalens time --backend gpu` on a dump captured on the CPU (skipped where no GPU is present).

Runs under pytest, or as `python tests/device/test_gpu_timing.py` on a GPU box that has
only jax[cuda] and networkx (scripts/gpu_check.sh picks whichever is installed).
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _has_gpu() -> bool:
    try:
        import jax

        return bool(jax.devices("gpu"))
    except RuntimeError:
        return False


try:
    import pytest

    pytestmark = [pytest.mark.device, pytest.mark.skipif(not _has_gpu(), reason="no GPU present")]
except ImportError:  # the GPU box may lack pytest; the __main__ block runs the tests
    pytest = None


def _cpu_dump(size: int = 1 << 20) -> Path:
    """A dump captured on the CPU: XLALENS_GPU_DUMP if set, else the example's tiny jax dump."""
    if os.environ.get("XLALENS_GPU_DUMP"):
        src = Path(os.environ["XLALENS_GPU_DUMP"])
        dst = Path(tempfile.mkdtemp()) / "dump"
        import shutil

        shutil.copytree(src, dst, ignore=shutil.ignore_patterns("timing"))
        return dst
    spec = importlib.util.spec_from_file_location(
        "time_a_dump", ROOT / "examples" / "time_a_dump.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.tiny_dump(Path(tempfile.mkdtemp()) / "dump", size=size)


def test_gpu_times_a_cpu_capture():
    """Every ok frontend of a CPU capture is verified, timed and attributed on the GPU."""
    from xlalens.timing import TimingOptions, load_results, time_dump

    dump = _cpu_dump()
    time_dump(dump, TimingOptions(backend="gpu", min_time_s=0.3))
    doc = load_results(dump)["gpu"]
    assert doc["device"]["platform"] in ("cuda", "gpu", "rocm"), doc["device"]
    assert doc["peaks"]["bytes_per_s"] > 0 and doc["peaks"]["flops_per_s"] > 0
    ok = {fe: r for fe, r in doc["frontends"].items() if r["status"] == "ok"}
    assert ok, {fe: r["reason"] for fe, r in doc["frontends"].items()}
    for fe, r in ok.items():
        assert r["verify"]["ok"] and r["step"]["median_s"] > 0, fe
        text = (dump / r["optimized_hlo"]).read_text()
        assert r["profile"]["events"] > 0, f"{fe}: no kernel events on the GPU planes"
        assert r["profile"]["unknown_ops"] == [], r["profile"]["unknown_ops"]
        for k in r["kernels"]:
            assert f"%{k['name']} = " in text or f"{k['name']} = " in text, k["name"]
    print(
        json.dumps(
            {
                fe: {
                    "median_s": r["step"]["median_s"],
                    "kernels": [(k["name"], k["median_s"]) for k in r["kernels"][:5]],
                    "profile": r["profile"],
                }
                for fe, r in ok.items()
            },
            indent=1,
        )
    )


def test_gpu_optimized_hlo_is_the_gpu_one():
    """The optimized HLO written for the GPU differs from the CPU's (a different compiler ran)."""
    from xlalens.timing import TimingOptions, time_dump

    dump = _cpu_dump(size=1 << 12)
    opts = dict(min_time_s=0.05, profile=False, peak_scale=1 / 64)
    gpu = time_dump(dump, TimingOptions(backend="gpu", **opts))
    cpu = time_dump(dump, TimingOptions(backend="cpu", **opts))
    fe = next(f for f, r in gpu["frontends"].items() if r["status"] == "ok")
    g = (dump / gpu["frontends"][fe]["optimized_hlo"]).read_text()
    c = (dump / cpu["frontends"][fe]["optimized_hlo"]).read_text()
    assert g != c and "timing/gpu/" in gpu["frontends"][fe]["optimized_hlo"]


def test_gpu_cli_exit_status():
    """`xlalens time --backend gpu` exits 0 (every ok capture timed)."""
    from xlalens.cli import main

    dump = _cpu_dump(size=1 << 12)
    assert main(["time", str(dump), "--backend", "gpu", "--repeat", "20", "--warmup", "3"]) == 0


if __name__ == "__main__":
    if not _has_gpu():
        print("SKIP: no GPU present")
        sys.exit(0)
    failed = 0
    for name, fn in list(globals().items()):
        if name.startswith("test_") and callable(fn):
            try:
                fn()
                print(f"PASS {name}")
            except Exception as exc:  # report every test, like pytest would
                failed += 1
                print(f"FAIL {name}: {type(exc).__name__}: {exc}")
    sys.exit(1 if failed else 0)
