"""One owner for op knowledge: render, diff, passes and targets ask xlalens.ir._ops and
xlalens.ir._cost, and agree with them on every opcode (docs/architecture.md)."""

from __future__ import annotations

from xlalens.diff import _kernels as diff_kernels
from xlalens.diff._diff import estimate_bytes
from xlalens.ir import _canonical, _collectives, _ops, parse_hlo_text
from xlalens.ir._cost import node_bytes
from xlalens.passes import _timeline
from xlalens.render import _plan, _style
from xlalens.targets import _summary


def test_every_opcode_gets_its_op_table_colour():
    """Each opcode of the op table is drawn in the colour of its op-table category, never 'other'."""
    assert _style.CATEGORIES["other"]  # the bucket for what the table does not know
    for op, cat in _ops.OPCODES.items():
        drawn = _style.category(op)
        assert drawn in _style.CATEGORIES, (op, drawn)
        assert drawn != "other", f"{op} ({cat}) is drawn as 'other'"
        if op not in ("parameter", "constant"):  # the two structural ops with their own colour
            assert drawn == _style._FROM_OP_TABLE[cat], (op, cat, drawn)
    assert _style.category("an-op-xla-does-not-have") == "other"


def test_reducers_collectives_and_trivial_ops_have_one_list():
    """The reducer callers, collective kinds and no-kernel ops are the op table's sets."""
    assert {"sort", "map", "reduce"} <= _ops.REDUCER_CALLERS
    assert _canonical.REDUCING_OPS is _ops.REDUCER_CALLERS
    assert _plan._REDUCER_OPS is _ops.REDUCER_CALLERS
    assert _collectives.KINDS is _ops.COLLECTIVE_KINDS
    assert _summary.COLLECTIVES is _ops.COLLECTIVE_KINDS
    assert all(_ops.category(k) == "collective" for k in _ops.COLLECTIVE_KINDS)
    assert _ops.collective_kind("all-reduce-done") == "all-reduce"
    assert _style.collective_kind("ragged-all-to-all") == "all-to-all"  # one colour for both
    assert _ops.TRIVIAL_OPCODES < diff_kernels.WEIGHTLESS_OPS
    assert _ops.TRIVIAL_OPCODES < _timeline.NOT_OPS


def test_diff_bytes_are_the_cost_models_and_count_a_repeated_operand_once():
    """diff's byte estimate is the sum of ir._cost.node_bytes over kernels: x*x reads x once."""
    g = parse_hlo_text(
        """HloModule m, is_scheduled=true
f {
  p = f32[256] parameter(0)
  ROOT m = f32[256] multiply(p, p)
}
ENTRY e {
  x = f32[256] parameter(0)
  ROOT fu = f32[256] fusion(x, x), kind=kLoop, calls=f
}
""",
        stage="optimized_hlo",
    )
    assert node_bytes(g, "e/fu") == 2 * 256 * 4  # result + x once
    assert estimate_bytes(g) == 2 * 256 * 4
