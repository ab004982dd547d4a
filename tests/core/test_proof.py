"""Units of the proof of capture: f64 promotion, the per-op bound, judging (jax only)."""

from __future__ import annotations

import numpy as np
import pytest

from xlalens._runtime import compile_stablehlo, run
from xlalens.capture._proof import error_bound, judge, promote_to_f64, prove, reference

MODULE = """module @m {
  func.func public @main(%x: tensor<1024x8xf32>, %w: tensor<8x4xf32>) -> (tensor<f32>, tensor<4xf32>) {
    %c = stablehlo.constant dense<0x3DCCCCCD> : tensor<f32>
    %v = stablehlo.constant dense<"0x0000803F00000040000040400000803F"> : tensor<4xf32>
    %z = stablehlo.constant dense<0.000000e+00> : tensor<f32>
    %d = stablehlo.dot_general %x, %w, contracting_dims = [1] x [0] : (tensor<1024x8xf32>, tensor<8x4xf32>) -> tensor<1024x4xf32> loc("f32 in a name")
    %s = stablehlo.reduce(%d init: %z) applies stablehlo.add across dimensions = [0, 1] : (tensor<1024x4xf32>, tensor<f32>) -> tensor<f32>
    %m = stablehlo.multiply %s, %c : tensor<f32>
    %cs = stablehlo.reduce(%d init: %z) applies stablehlo.add across dimensions = [0] : (tensor<1024x4xf32>, tensor<f32>) -> tensor<4xf32>
    %o = stablehlo.add %cs, %v : tensor<4xf32>
    return %m, %o : tensor<f32>, tensor<4xf32>
  }
}
"""


def _inputs():
    rng = np.random.default_rng(0)
    return [
        rng.normal(size=(1024, 8)).astype(np.float32),
        rng.normal(size=(8, 4)).astype(np.float32),
    ]


def test_promotion_keeps_values_and_names():
    """f32 types and hex constants (splat bit pattern and raw buffer) become f64; strings stay."""
    text = promote_to_f64(MODULE)
    assert "f32>" not in text and '"f32 in a name"' in text
    assert "dense<0x3FB99999A0000000>" in text  # 0.1f as a double bit pattern
    ref = reference(MODULE, _inputs())
    assert ref[0].dtype == np.float64
    x, w = (a.astype(np.float64) for a in _inputs())
    d = x @ w
    np.testing.assert_allclose(ref[0], d.sum() * np.float64(np.float32(0.1)), rtol=1e-12)
    np.testing.assert_allclose(ref[1], d.sum(axis=0) + np.array([1, 2, 3, 1]), rtol=1e-12)


def test_bound_counts_reductions_per_op():
    """dot_general (K=8) and two reduces (K=4096 and 1024) give A = sqrt(8)+64+32+sqrt(ops)."""
    b = error_bound(MODULE)
    assert b.reductions == 3 and b.longest_reduction == 4096
    assert b.amplification == pytest.approx(np.sqrt(8) + 64 + 32 + np.sqrt(b.float_ops))
    assert b.unit_roundoff == 2.0**-24


def test_replay_within_bound_and_perturbation_outside():
    """The f32 replay is within the bound of the reference; a 1e-3 relative change is not."""
    b = error_bound(MODULE)
    ref = reference(MODULE, _inputs())
    got = run(compile_stablehlo(MODULE), _inputs())
    j = judge(got, ref, b)
    assert j.ok and j.worst_ratio < 1, j
    bad = [got[0] * np.float32(1 + 1e-3), got[1]]
    j = judge(bad, ref, b, labels=["sum", "cols"])
    assert not j.ok and "sum is off" in j.message


def test_judge_shapes_and_integers():
    """A shape change or a changed integer is a mismatch whatever the bound."""
    b = error_bound(MODULE)
    assert not judge([np.zeros(3)], [np.zeros(4)], b).ok
    assert not judge([np.array([1, 2])], [np.array([1, 3])], b).ok
    assert judge([np.array([1, 2])], [np.array([1, 2])], b).ok


ILL = """module @ill {
  func.func public @main(%x: tensor<8xf32>, %big: tensor<8xf32>) -> tensor<8xf32> {
    %a = stablehlo.add %x, %big : tensor<8xf32>
    %b = stablehlo.subtract %a, %big : tensor<8xf32>
    return %b : tensor<8xf32>
  }
}
"""


def test_ill_conditioned_step_judged_by_the_replays_own_error():
    """(x + big) - big, big = 1e7 an input, in f32 errs far past the bound; native alike passes, native wrong fails."""
    x = [np.linspace(0.1, 0.9, 8, dtype=np.float32), np.full(8, 1e7, np.float32)]
    b = error_bound(ILL)
    ref = reference(ILL, x)
    replay = run(compile_stablehlo(ILL), x)
    assert not judge(replay, ref, b).ok, "float32 loses x entirely here: beyond the bound"
    r, n, ill, kappa = prove(replay, [replay[0] + np.float32(0.5)], ref, b)
    assert r.ok and n.ok and ill == (0,) and kappa > 1
    r, n, ill, _ = prove(replay, [replay[0] + np.float32(50.0)], ref, b)
    assert r.ok and not n.ok and ill == (0,)
