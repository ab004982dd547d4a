"""The float64 reference of modules that read a float's bits (bitcast_convert)."""

from __future__ import annotations

import numpy as np

from xlalens.proof import promote_to_f64, reference

# jax's signbit as keras-hub's GPT-2 metric lowers it (a f32 -> i32 bitcast), and the
# way back (i32 -> f32), beside float arithmetic that the reference keeps in f64.
MODULE = """module @m {
  func.func public @main(%x: tensor<2x3xf32>, %b: tensor<2x3xi32>) -> (tensor<2x3xi1>, tensor<2x3xf32>) {
    %0 = stablehlo.bitcast_convert %x : (tensor<2x3xf32>) -> tensor<2x3xi32> loc("bitcast_convert_type")
    %c = stablehlo.constant dense<31> : tensor<i32>
    %1 = stablehlo.broadcast_in_dim %c, dims = [] : (tensor<i32>) -> tensor<2x3xi32>
    %2 = stablehlo.shift_right_arithmetic %0, %1 : tensor<2x3xi32>
    %z = stablehlo.constant dense<0> : tensor<2x3xi32>
    %3 = stablehlo.compare NE, %2, %z, SIGNED : (tensor<2x3xi32>, tensor<2x3xi32>) -> tensor<2x3xi1>
    %4 = stablehlo.bitcast_convert %b : (tensor<2x3xi32>) -> tensor<2x3xf32>
    %5 = stablehlo.multiply %4, %x : tensor<2x3xf32>
    return %3, %5 : tensor<2x3xi1>, tensor<2x3xf32>
  }
}
"""


def test_reference_builds_through_a_float_bitcast():
    """A f32<->i32 bitcast_convert is done in float32 inside the f64 reference (no rank error)."""
    text = promote_to_f64(MODULE)
    assert "(tensor<2x3xf64>) -> tensor<2x3xi32>" not in text
    assert "(tensor<2x3xi32>) -> tensor<2x3xf64>" not in text
    x = np.array([[-1.5, 0.0, 2.0], [-0.0, 3.25, -7.0]], np.float32)
    b = np.array([[1.0, 2.0, -0.5], [4.0, 0.125, 1.0]], np.float32).view(np.int32)
    sign, prod = reference(MODULE, [x, b])
    np.testing.assert_array_equal(sign, np.signbit(x))
    assert prod.dtype == np.float64
    np.testing.assert_array_equal(prod, b.view(np.float32).astype(np.float64) * x)


def test_same_width_and_rank_changing_bitcasts_are_left_alone():
    """Only the bitcasts promotion broke are rewritten; an f64 <-> 2 x i32 one is kept."""
    text = (
        "%r = stablehlo.bitcast_convert %a : (tensor<4xf64>) -> tensor<4x2xi32>\n"
        "%s = stablehlo.bitcast_convert %a : (tensor<4xi64>) -> tensor<4xf64>\n"
    )
    assert promote_to_f64(text) == text
