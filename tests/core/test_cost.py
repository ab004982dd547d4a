"""The one cost model (xlalens/ir/_cost.py) against XLA's own cost analysis, and the op table."""

from __future__ import annotations

import pytest

from xlalens.ir import parse_hlo_text
from xlalens.ir._cost import computation_flops, conv_flops, node_bytes, node_cost
from xlalens.ir._ops import DTYPE_BITS, OPCODES, TRIVIAL_OPCODES, array_bytes, dtype_bytes


def _cases():
    """(name, fn, args) single-op jax functions, one per FLOP rule."""
    import jax.numpy as jnp
    from jax import lax

    x = jnp.ones((8, 16), jnp.float32)
    img = jnp.ones((2, 9, 9, 3), jnp.float32)
    k = jnp.ones((3, 3, 3, 4), jnp.float32)
    kd = jnp.ones((3, 3, 1, 3), jnp.float32)

    def cv(a, b, **kw):
        return lax.conv_general_dilated(a, b, dimension_numbers=("NHWC", "HWIO", "NHWC"), **kw)

    return [
        ("add", lambda a: a + a, (x,)),
        ("exp (a transcendental)", jnp.exp, (x,)),
        ("dot", lambda a: a @ a.T, (x,)),
        ("batched dot", lambda a: jnp.einsum("bij,bjk->bik", a, a), (jnp.ones((3, 4, 4)),)),
        ("reduce one axis", lambda a: a.sum(1), (x,)),
        ("reduce all", lambda a: a.sum(), (x,)),
        ("sort", lambda a: jnp.sort(a, axis=1), (x,)),
        (
            "reduce-window valid",
            lambda a: lax.reduce_window(a, 0.0, lax.add, (1, 3, 3, 1), (1, 2, 2, 1), "VALID"),
            (img,),
        ),
        (
            "reduce-window same",
            lambda a: lax.reduce_window(a, 0.0, lax.add, (1, 3, 3, 1), (1, 1, 1, 1), "SAME"),
            (img,),
        ),
        ("conv valid", lambda a, b: cv(a, b, window_strides=(1, 1), padding="VALID"), (img, k)),
        (
            "conv same (padding)",
            lambda a, b: cv(a, b, window_strides=(1, 1), padding="SAME"),
            (img, k),
        ),
        ("conv stride 2", lambda a, b: cv(a, b, window_strides=(2, 2), padding="SAME"), (img, k)),
        (
            "conv rhs dilation",
            lambda a, b: cv(a, b, window_strides=(1, 1), padding="SAME", rhs_dilation=(2, 2)),
            (img, k),
        ),
        (
            "conv lhs dilation",
            lambda a, b: cv(
                a, b, window_strides=(1, 1), padding=((2, 2), (2, 2)), lhs_dilation=(2, 2)
            ),
            (img, k),
        ),
        (
            "conv depthwise (feature groups)",
            lambda a, b: cv(a, b, window_strides=(1, 1), padding="SAME", feature_group_count=3),
            (img, kd),
        ),
        (
            "conv batch groups",
            lambda a, b: cv(a, b, window_strides=(1, 1), padding="VALID", batch_group_count=2),
            (img, jnp.ones((3, 3, 3, 4))),
        ),
    ]


CASES = _cases()


@pytest.mark.parametrize("i", range(len(CASES)), ids=[c[0] for c in CASES])
def test_flops_match_xla_cost_analysis(i: int) -> None:
    """Our FLOPs of a single-op module equal XLA's flops + transcendentals for it."""
    import jax

    _, fn, args = CASES[i]
    lowered = jax.jit(fn).lower(*args)
    ca = lowered.cost_analysis()
    want = (ca.get("flops") or 0.0) + (ca.get("transcendentals") or 0.0)
    g = parse_hlo_text(lowered.as_text(dialect="hlo"))
    ours = computation_flops(g, g.graph["entry"])
    assert ours == pytest.approx(want), (ours, want)
    assert want > 0


def test_library_custom_calls_are_sized_from_operands() -> None:
    """oneDNN matmul and cuDNN convolution custom calls get FLOPs; an unknown target gets None."""
    text = """HloModule m
ENTRY e {
  a = f32[16,32] parameter(0)
  b = f32[32,8] parameter(1)
  mm = f32[16,8] custom-call(a, b), custom_call_target="__onednn$matmul"
  x = f32[2,9,9,3] parameter(2)
  k = f32[3,3,3,4] parameter(3)
  cv = (f32[2,9,9,4], u8[0]) custom-call(x, k), custom_call_target="__cudnn$convForward", window={size=3x3 pad=1_1x1_1}, dim_labels=b01f_01io->b01f
  gm = (f32[16,8], s8[4]) custom-call(a, b), custom_call_target="__cublas$gemm", backend_config={"gemm_backend_config":{"dot_dimension_numbers":{"lhs_contracting_dimensions":["1"],"rhs_contracting_dimensions":["0"]}}}
  ROOT u = f32[16,8] custom-call(mm), custom_call_target="my_kernel"
}
"""
    g = parse_hlo_text(text)
    assert node_cost(g, "e/mm").flops == 2 * 16 * 8 * 32
    assert node_cost(g, "e/cv").flops == 30000  # as XLA counts the padded convolution
    assert node_cost(g, "e/gm").flops == 2 * 16 * 8 * 32
    assert node_cost(g, "e/u").flops is None
    assert node_bytes(g, "e/mm") == (16 * 32 + 32 * 8 + 16 * 8) * 4


def test_fusion_flops_include_the_body_and_loops_are_unknown() -> None:
    """A fusion costs its body; a while loop's trip count is unknown."""
    text = """HloModule m, is_scheduled=true
f {
  p = f32[4] parameter(0)
  m = f32[4] multiply(p, p)
  ROOT a = f32[4] add(m, p)
}
c {
  p = f32[4] parameter(0)
  ROOT t = pred[] constant(false)
}
ENTRY e {
  x = f32[4] parameter(0)
  fu = f32[4] fusion(x), kind=kLoop, calls=f
  ROOT w = f32[4] while(fu), condition=c, body=f
}
"""
    g = parse_hlo_text(text)
    assert node_cost(g, "e/fu").flops == 8
    assert node_cost(g, "e/w").flops is None


def test_conv_flops_formula_directly() -> None:
    """conv_flops counts only (output, kernel) pairs that land on real input elements."""
    full = conv_flops((1, 5, 1), (3, 1, 1), (1, 3, 1), "b0f_0io->b0f", {"size": [3]})
    assert full == 2 * 3 * 3
    padded = conv_flops(
        (1, 5, 1), (3, 1, 1), (1, 5, 1), "b0f_0io->b0f", {"size": [3], "pad": [[1, 1]]}
    )
    assert padded == 2 * (5 * 3 - 2)
    assert conv_flops((1, 5), (3, 1), (1, 3), "bad", None) is None


def test_op_table_covers_every_opcode_and_sub_byte_types() -> None:
    """Every XLA opcode has a category; s4 is half a byte; one trivial-op set for the project."""
    assert len(OPCODES) >= 130
    assert dtype_bytes("s4") == dtype_bytes("u4") == 0.5
    assert dtype_bytes("s2") == 0.25 and dtype_bytes("f4e2m1fn") == 0.5
    assert dtype_bytes("f8e4m3fn") == dtype_bytes("f8e8m0fnu") == 1
    assert array_bytes("s4", (3, 4)) == 6
    assert dtype_bytes("tuple") is None
    assert {"pred", "bf16", "c128", "token"} <= set(DTYPE_BITS)
    assert "bitcast" in TRIVIAL_OPCODES and "fusion" not in TRIVIAL_OPCODES


def test_diff_and_timing_use_the_ir_tables() -> None:
    """diff's byte table and timing's kernel index come from xlalens.ir (no private copies)."""
    from xlalens.diff import _diff
    from xlalens.ir import _ops
    from xlalens.timing import index_hlo

    assert _diff.DTYPE_BYTES["s4"] == 0.5
    assert _diff.NOT_KERNELS is _ops.TRIVIAL_OPCODES
    assert index_hlo.__module__ == "xlalens.ir._kernels"
