"""The typed node view (xlalens.ir.node / nodes) reads what the schema stores."""

from __future__ import annotations

from xlalens.ir import node, nodes, parse_hlo_text

HLO = """HloModule m, is_scheduled=true
f {
  p = f32[8] parameter(0)
  ROOT m = f32[8] multiply(p, p), metadata={op_name="jit(step)/mul" source_file="/w/model.py" source_line=12}
}
ENTRY e {
  x = f32[8] parameter(0)
  fu = f32[8] fusion(x), kind=kLoop, calls=f
  ROOT t = (f32[8]) tuple(fu)
}
"""


def test_node_view_fields_kernels_and_sources():
    """Fields are typed copies; fusion membership, kernels and source come from one place."""
    g = parse_hlo_text(HLO, stage="optimized_hlo")
    fu = node(g, "e/fu")
    assert (fu.op, fu.dtype, fu.shape, fu.calls) == ("fusion", "f32", (8,), ("f",))
    assert fu.is_kernel and fu.category == "fusion"
    m = node(g, "f/m")
    assert m.fusion == "e/fu" and not m.is_kernel and m.category == "elementwise"
    assert m.source == "/w/model.py:12" and m.op_name == "jit(step)/mul"
    assert not node(g, "e/t").is_kernel and node(g, "e/x").source is None
    assert [n.id for n in nodes(g, "e") if n.is_kernel] == ["e/fu"]
    assert {n.computation for n in nodes(g)} == {"e", "f"}
