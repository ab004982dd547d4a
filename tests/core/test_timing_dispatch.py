"""The timed call goes through jax.jit's C++ fast path for every frontend's checked-in capture."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from xlalens import _runtime
from xlalens.timing._time import _Runner

DUMP = Path(__file__).parent / "data" / "dumps" / "regression"
FRONTENDS = sorted(p.name for p in DUMP.iterdir() if (p / "stablehlo.mlir").is_file())


@pytest.mark.parametrize("frontend", FRONTENDS)
def test_fast_path_reproduces_pjrt(frontend):
    """jax.jit of the module gives PJRT's results bit for bit (TF's mhlo.copy too); int64 stays on PJRT."""
    text = (DUMP / frontend / "stablehlo.mlir").read_text()
    with np.load(DUMP / frontend / "inputs.npz") as npz:
        inputs = [npz[f"arg{i}"] for i in range(len(npz.files))]
    if frontend.endswith("tensorflow"):
        assert "mhlo.copy" in text, "TensorFlow returns updated variables through mhlo.copy"
    runner = _Runner(_runtime.compile_stablehlo(text, "cpu"), inputs, text)
    first = runner.first()
    if any(a.dtype == np.int64 for a in inputs):
        # Keras's iteration counter is int64; jax without x64 would narrow it: PJRT it is.
        assert runner.dispatch == "execute_sharded"
    else:
        assert runner.dispatch == "jax.jit", f"{frontend} fell back to execute_sharded"
    assert first and all(np.all(np.isfinite(r)) for r in first)
    runner.step()  # the timed call runs
