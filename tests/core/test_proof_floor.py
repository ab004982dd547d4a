"""The per-result floor: only rounding noise is judged on the step's scale (issue 21)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from xlalens._runtime import compile_stablehlo, run
from xlalens.proof import ErrorBound, error_bound, judge, prove, reference, sensitivity

N = 4096
# An Adam-like first step: w's update from a gradient over N samples, Adam's second
# moment nu (all zeros before the step, so its first value is 0.001 g^2, far below
# the step's other results), the loss, and z: the sum of v - mean(v), zero in exact
# arithmetic (a bias gradient before BatchNorm), which float32 leaves as noise.
STEP = f"""module @adam_like {{
  func.func public @main(%w: tensor<4xf32>, %nu: tensor<4xf32>, %x: tensor<{N}x4xf32>, %y: tensor<{N}xf32>, %v: tensor<{N}xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<f32>, tensor<f32>) {{
    %z0 = stablehlo.constant dense<0.000000e+00> : tensor<f32>
    %inv = stablehlo.constant dense<2.44140625E-4> : tensor<f32>
    %invn = stablehlo.constant dense<2.44140625E-4> : tensor<{N}xf32>
    %lr = stablehlo.constant dense<1.000000e-01> : tensor<4xf32>
    %b2 = stablehlo.constant dense<9.990000e-01> : tensor<4xf32>
    %c2 = stablehlo.constant dense<1.000000e-03> : tensor<4xf32>
    %p = stablehlo.dot_general %x, %w, contracting_dims = [1] x [0] : (tensor<{N}x4xf32>, tensor<4xf32>) -> tensor<{N}xf32>
    %e = stablehlo.subtract %p, %y : tensor<{N}xf32>
    %r = stablehlo.multiply %e, %invn : tensor<{N}xf32>
    %g = stablehlo.dot_general %r, %x, contracting_dims = [0] x [0] : (tensor<{N}xf32>, tensor<{N}x4xf32>) -> tensor<4xf32>
    %dw = stablehlo.multiply %lr, %g : tensor<4xf32>
    %w1 = stablehlo.subtract %w, %dw : tensor<4xf32>
    %gg = stablehlo.multiply %g, %g : tensor<4xf32>
    %n0 = stablehlo.multiply %b2, %nu : tensor<4xf32>
    %n1 = stablehlo.multiply %c2, %gg : tensor<4xf32>
    %nu1 = stablehlo.add %n0, %n1 : tensor<4xf32>
    %sq = stablehlo.multiply %e, %r : tensor<{N}xf32>
    %l = stablehlo.reduce(%sq init: %z0) applies stablehlo.add across dimensions = [0] : (tensor<{N}xf32>, tensor<f32>) -> tensor<f32>
    %sv = stablehlo.reduce(%v init: %z0) applies stablehlo.add across dimensions = [0] : (tensor<{N}xf32>, tensor<f32>) -> tensor<f32>
    %m = stablehlo.multiply %sv, %inv : tensor<f32>
    %mb = stablehlo.broadcast_in_dim %m, dims = [] : (tensor<f32>) -> tensor<{N}xf32>
    %d = stablehlo.subtract %v, %mb : tensor<{N}xf32>
    %z = stablehlo.reduce(%d init: %z0) applies stablehlo.add across dimensions = [0] : (tensor<{N}xf32>, tensor<f32>) -> tensor<f32>
    return %w1, %nu1, %l, %z : tensor<4xf32>, tensor<4xf32>, tensor<f32>, tensor<f32>
  }}
}}
"""
W1, NU1, LOSS, Z = range(4)


def _inputs():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(N, 4)).astype(np.float32)
    y = (x @ np.array([1.0, -2.0, 0.5, 3.0]) + rng.normal(size=N)).astype(np.float32)
    v = (0.01 * rng.normal(size=N)).astype(np.float32)
    return [np.full(4, 0.5, np.float32), np.zeros(4, np.float32), x, y, v]


def _proved():
    inputs = _inputs()
    ref = reference(STEP, inputs)
    replay = run(compile_stablehlo(STEP), inputs)
    plain = error_bound(STEP)
    rho = sensitivity(STEP, inputs, ref, plain)
    return inputs, ref, replay, plain, dataclasses.replace(plain, sensitivity=rho)


def test_sensitivity_tells_rounding_noise_from_a_small_result():
    """One rounding of the inputs moves nu's first value by about u, the zero sum by ~1/u."""
    _, ref, _, plain, bound = _proved()
    rho = bound.sensitivity
    assert plain.update_of[W1] == 0 and plain.update_of[NU1] is None
    assert np.abs(ref[NU1]).max() < 0.02 * np.abs(ref[W1]).max()  # small, not noise
    assert rho[W1] < 10 and rho[NU1] < 10 and rho[LOSS] < 10
    assert rho[Z] > 1e5  # its exact value is 0: the float64 result is noise
    assert [bound.floored(i) for i in range(4)] == [False, False, False, True]
    assert all(plain.floored(i) for i in range(4))  # not measured: the old rule
    assert ErrorBound.from_dict(bound.as_dict()) == bound
    inf = dataclasses.replace(bound, sensitivity=(1.0, 1.0, 1.0, math.inf))
    assert ErrorBound.from_dict(inf.as_dict()) == inf  # JSON's None is an infinite rho


def test_first_accumulator_value_1e3_off_is_no_and_noise_is_still_accepted():
    """nu's first value 1e-3 off gives NO (it passed on the step's floor); z's noise passes."""
    inputs, ref, replay, plain, bound = _proved()
    bad = list(replay)
    bad[NU1] = (replay[NU1] * np.float32(1 + 1e-3)).astype(np.float32)
    assert prove(replay, bad, ref, plain, inputs=inputs).native.ok  # the old rule let it pass
    p = prove(replay, bad, ref, bound, inputs=inputs)
    assert p.replay.ok and not p.native.ok and p.native.worst_result == NU1
    assert p.native.floored == (Z,)
    # z in another summation order (numpy's pairwise float32 sum): float32 noise, accepted
    v = inputs[4]
    other = list(replay)
    other[Z] = np.array((v - v.sum(dtype=np.float32) * np.float32(1 / N)).sum(), np.float32)
    assert abs(float(other[Z]) - float(replay[Z])) > 1e3 * abs(float(ref[Z]))  # noise
    p = prove(replay, other, ref, bound, inputs=inputs)
    assert p.replay.ok and p.native.ok and p.kappa == 1.0, p.native
    # judged on its own magnitude, that noise would be a false NO
    own = dataclasses.replace(bound, sensitivity=(*bound.sensitivity[:Z], 0.0))
    assert not judge(other, ref, own, inputs=inputs).ok
