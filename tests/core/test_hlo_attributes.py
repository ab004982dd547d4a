"""Decoded attribute forms of the HLO reader: shardings, replica groups, windows, slices, padding."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from xlalens._errors import ParseError
from xlalens.ir import index_hlo, parse_hlo_text, validate
from xlalens.ir._sharding import parse_replica_groups, parse_sharding

sys.path.insert(0, str(Path(__file__).parent))
from _real import real_text


def test_sharding_forms() -> None:
    """Every sharding spelling decodes to type, tile dims and per-tile devices."""
    assert parse_sharding("{replicated}") == {"type": "replicated", "last_tile_dims": []}
    assert parse_sharding("{manual}")["type"] == "manual"
    assert parse_sharding("{maximal device=3}")["device"] == 3
    t = parse_sharding("{devices=[2,1]1,0}")
    assert t["tile_dims"] == [2, 1] and t["devices"] == [1, 0]
    t = parse_sharding("{devices=[2,2]<=[2,2]T(1,0) last_tile_dim_replicate}")
    assert t["devices"] == [0, 2, 1, 3] and t["last_tile_dims"] == ["replicated"]
    t = parse_sharding("{devices=[2,2]<=[4] last_tile_dims={manual}}")
    assert t["last_tile_dims"] == ["manual"]
    t = parse_sharding("{{replicated}, {maximal device=1}}")
    assert t["type"] == "tuple" and [e["type"] for e in t["tuple"]] == ["replicated", "maximal"]
    assert parse_sharding('{replicated metadata={op_name="x"}}')["type"] == "replicated"
    assert parse_sharding("{devices=[2,2]0,1}") is None  # 2x2 tiles need 4 devices
    assert parse_sharding("{frobnicated}") is None


def test_replica_group_forms() -> None:
    """List, iota (with transpose) and mesh replica groups give the same kind of device lists."""
    assert parse_replica_groups("{{0,1},{2,3}}")["groups"] == [[0, 1], [2, 3]]
    assert parse_replica_groups("{}")["groups"] == []
    assert parse_replica_groups("[2,2]<=[4]")["groups"] == [[0, 1], [2, 3]]
    assert parse_replica_groups("[2,2]<=[2,2]T(1,0)")["groups"] == [[0, 2], [1, 3]]
    mesh = parse_replica_groups("mesh['x'=4,'y'=2] {'x'}")
    assert mesh["form"] == "mesh" and mesh["groups"] == [[0, 2, 4, 6], [1, 3, 5, 7]]
    assert mesh["mesh"]["axes"] == [["x", 4], ["y", 2]] and mesh["mesh"]["group_axes"] == ["x"]
    both = parse_replica_groups("mesh['x'=2,'y'=2] {'x','y'}")
    assert both["groups"] == [[0, 1, 2, 3]]
    assert parse_replica_groups("mesh['x'=4] {'z'}") is None  # an unknown axis
    assert parse_replica_groups("[3,2]<=[4]") is None


def test_real_sharded_step_collectives_carry_device_groups() -> None:
    """jax 0.10's optimized sharded MLP: every collective's replica groups decode to 8 devices."""
    g = validate(parse_hlo_text(real_text("jax_sharded_mlp.optimized_hlo.txt.xz")))
    forms = set()
    for _, d in g.nodes(data=True):
        a = d["attrs"]
        if "replica_groups" in a:
            parsed = a["replica_groups_parsed"]
            forms.add(parsed["form"])
            assert sorted(x for grp in parsed["groups"] for x in grp) == list(range(8))
        if "sharding" in a:
            assert a["sharding_parsed"]["type"] in ("tiled", "replicated", "tuple")
    assert forms == {"mesh", "iota"}


def test_window_slice_padding_and_pairs() -> None:
    """window/slice/padding/source_target_pairs get their decoded *_parsed form."""
    text = """HloModule m
ENTRY e {
  x = f32[1,8,8,3] parameter(0)
  k = f32[3,3,3,4] parameter(1)
  c = f32[1,6,6,4] convolution(x, k), window={size=3x3 pad=2_2x2_2 rhs_dilate=2x2 rhs_reversal=0x1}, dim_labels=b01f_01io->b01f
  s = f32[1,2,8,3] slice(x), slice={[0:1], [0:8:4], [0:8], [0:3]}
  z = f32[] constant(0)
  p = f32[1,12,8,3] pad(x, z), padding=0_0x1_2_1x0_0x0_0
  ROOT cp = f32[1,6,6,4] collective-permute(c), channel_id=1, source_target_pairs={{0,1},{1,0}}
}
"""
    g = validate(parse_hlo_text(text))
    w = g.nodes["e/c"]["attrs"]["window_parsed"]
    assert w == {
        "size": [3, 3],
        "pad": [[2, 2], [2, 2]],
        "rhs_dilate": [2, 2],
        "rhs_reversal": [False, True],
    }
    assert g.nodes["e/c"]["attrs"]["dim_labels"] == "b01f_01io->b01f"
    assert g.nodes["e/s"]["attrs"]["slice_parsed"] == [[0, 1, 1], [0, 8, 4], [0, 8, 1], [0, 3, 1]]
    assert g.nodes["e/p"]["attrs"]["padding_parsed"][1] == [1, 2, 1]
    assert g.nodes["e/cp"]["attrs"]["source_target_pairs_parsed"] == [[0, 1], [1, 0]]


def test_real_convolutions_have_flops_in_the_kernel_index() -> None:
    """Keras MobileNetV2 on TF, optimized: kernels holding convolutions get FLOPs (not None)."""
    text = real_text("keras_tf_mobilenetv2.optimized_hlo.txt.xz")
    g = parse_hlo_text(text, stage="optimized_hlo")
    conv_kernels = {
        g.nodes[d["fusion"]]["name"] for _, d in g.nodes(data=True) if d["opcode"] == "convolution"
    }
    idx = index_hlo(text)
    with_conv = [idx.kernels[k] for k in conv_kernels if k in idx.kernels]
    assert with_conv
    assert all(k.flops for k in with_conv if k.opcode in ("fusion", "convolution"))


_FAST_CASES = {
    # XLA numbers every fifth operand of a long list (issue 23: these took the rules).
    "index comments": "HloModule m\nENTRY e {\n  %a = f32[] parameter(0)\n"
    "  ROOT %t = (f32[], f32[], f32[], f32[], f32[], f32[]) tuple(%a, %a, %a, %a, %a, "
    "/*index=5*/%a)\n}\n",
    "typed operands with index comments": "HloModule m\nENTRY e {\n  %a = f32[] parameter(0)\n"
    "  ROOT %t = (f32[], f32[], f32[], f32[], f32[], f32[]) tuple(f32[] %a, f32[] %a, "
    "f32[] %a, f32[] %a, f32[] %a, /*index=5*/f32[] %a)\n}\n",
    "nested backend_config and sharding": "HloModule m\nENTRY e {\n"
    "  %a = f32[4] parameter(0), sharding={{replicated}, {maximal device=0}}\n"
    '  ROOT %n = f32[4] negate(%a), backend_config={"outer":[],"fusion_config":{"kind":"k"}}, '
    'frontend_attributes={a="{b}"}\n}\n',
    "dim_labels": "HloModule m\nENTRY e {\n  %x = f32[1,4,4,2] parameter(0)\n"
    "  %w = f32[3,3,2,2] parameter(1)\n  ROOT %c = f32[1,4,4,2] convolution(%x, %w), "
    "window={size=3x3 pad=1_1x1_1}, dim_labels=b01f_01io->b01f\n}\n",
    "dim_labels text on another attribute": "HloModule m\nENTRY e {\n"
    "  ROOT %a = f32[] parameter(0), custom=b01f_01io->b01f\n}\n",
    "dim_labels text as a computation": "HloModule m\nENTRY e {\n"
    "  ROOT %a = f32[] parameter(0), to_apply=b01f_01io->b01f\n}\n",
    "nested braces where ints are required": "HloModule m\nENTRY e {\n"
    "  %a = f32[2] parameter(0)\n  ROOT %r = f32[2] reverse(%a), dimensions={{0}}\n}\n",
    "signature results": "HloModule m\n%c (a: f32[2], b: s32[]) -> f32[2]{0} {\n"
    "  ROOT %a = f32[2]{0} parameter(0)\n  %b = s32[] parameter(1)\n}\n"
    "%d (a: f32[2]) -> (f32[2], s32[]) {\n  ROOT %a = f32[2] parameter(0)\n}\n"
    "%f (a: f32[2]) -> f32[2] {\n  ROOT %a = f32[2] parameter(0)\n}\n"
    "ENTRY e {\n  ROOT %p = f32[] parameter(0)\n}\n",
    "a signature result with bad dimensions": "HloModule m\n%c (a: f32[2]) -> f32[2,,1] {\n"
    "  ROOT %a = f32[2] parameter(0)\n}\nENTRY e {\n  ROOT %p = f32[] parameter(0)\n}\n",
    "an empty body after a signature": "HloModule m\n%c (a: f32[2]) -> f32[2] {}\n"
    "ENTRY e {\n  ROOT %p = f32[] parameter(0)\n}\n",
    "a comment in a literal": "HloModule m\nENTRY e {\n"
    "  ROOT %c = f32[2] constant({1, /*index=1*/2})\n}\n",
    # Operand lists as other printers and people write them (issue 23: the pattern reads
    # '%a, %b' and 'a, b' itself; the rest takes the general operand text).
    "operand names in other spellings": "HloModule m\nENTRY e {\n"
    "  %a = f32[] parameter(0)\n  %b = f32[] parameter(1)\n  %s = f32[] add(a, %b)\n"
    "  %t = f32[] add(%a,%b)\n  %u = f32[] add( %a ,\tb )\n  %v = f32[] add(%a,  %b)\n"
    "  ROOT %w = (f32[], f32[], f32[], f32[]) tuple(%s, %t, %u, %v)\n}\n",
    "names as literals": "HloModule m\nENTRY e {\n  %t = pred[] constant(true)\n"
    "  %u = pred[] constant(%false)\n  ROOT %w = (pred[], pred[]) tuple(%t, %u)\n}\n",
    "a name as a parameter number": "HloModule m\nENTRY e {\n  ROOT %p = f32[] parameter(x)\n}\n",
    "a type name as an instruction's name": "HloModule m\nENTRY e {\n"
    "  %s4 = f32[] parameter(0)\n  ROOT %n = f32[] add(%s4, %s4)\n}\n",
    "a bare type name as an operand": "HloModule m\nENTRY e {\n"
    "  %a = f32[] parameter(0)\n  ROOT %n = f32[] add(%a, s4)\n}\n",
    "a bare type name as a third operand": "HloModule m\nENTRY e {\n"
    "  %a = f32[] parameter(0)\n  ROOT %t = (f32[], f32[], f32[]) tuple(%a, a, s4)\n}\n",
    "a bare type name as the only operand": "HloModule m\nENTRY e {\n"
    "  %a = f32[] parameter(0)\n  ROOT %n = f32[] negate(s4)\n}\n",
    # NOTE [computation headers]: what the header pattern takes, and what it leaves.
    "computation headers": "HloModule m\n%c.1 (a: f32[2]{0}, b: s32[]) -> f32[2]{0} {\n"
    "  ROOT %a = f32[2]{0} parameter(0)\n  %b = s32[] parameter(1)\n}\n"
    "%r (x: f32[], y: f32[]) -> f32[] {\n  %x = f32[] parameter(0)\n"
    "  %y = f32[] parameter(1)\n  ROOT %s = f32[] add(%x, %y)\n}\n"
    "ENTRY.1 {\n  ROOT %p = f32[] parameter(0)\n}\n"
    "ENTRY /* c */ %e\n{\n  ROOT %p = f32[] parameter(0)\n}\n",
    "a computation named ENTRY": "HloModule m\nENTRY {\n  ROOT %p = f32[] parameter(0)\n}\n",
    "a computation defined twice": "HloModule m\n%c () -> f32[] {\n  ROOT %p = f32[] constant(0)\n}\n"
    "%c () -> f32[] {\n  ROOT %p = f32[] constant(0)\n}\n"
    "ENTRY %e {\n  ROOT %p = f32[] parameter(0)\n}\n",
    "an empty body after a result without a layout": "HloModule m\n%c () -> f32[] {}\n"
    "ENTRY %e {\n  ROOT %p = f32[] parameter(0)\n}\n",
    "a body that reads as a layout": "HloModule m\n%c () -> f32[2] { 0 }\n"
    "ENTRY %e {\n  ROOT %p = f32[] parameter(0)\n}\n",
    "a layout glued to the body": "HloModule m\n%c () -> f32[2]{\n  ROOT %p = f32[2] constant({0, 1})\n}\n"
    "ENTRY %e {\n  ROOT %p = f32[] parameter(0)\n}\n",
    "a tuple result": "HloModule m\n%c (a: f32[]) -> (f32[], f32[]) {\n"
    "  %a = f32[] parameter(0)\n  ROOT %t = (f32[], f32[]) tuple(%a, %a)\n}\n"
    "ENTRY %e {\n  ROOT %p = f32[] parameter(0)\n}\n",
    "tuple types": "HloModule m\nENTRY e {\n  %a = f32[2]{0} parameter(0)\n"
    "  %t = (f32[2]{0}, f32[2]{0}) tuple(%a, %a)\n  %u = () tuple()\n"
    "  %v = (f32[2]{0},f32[2]) tuple(%a, %a)\n  %w = ((f32[2]), f32[2]) tuple(%t, %a)\n"
    "  ROOT %x = (f32[2]{0}, pred[]) tuple(%a, %a), sharding={{replicated}, {maximal device=0}}\n}\n",
    "a tuple type with a bad element": "HloModule m\nENTRY e {\n  %a = f32[2]{0} parameter(0)\n"
    "  ROOT %x = (f32[2]{0}, x32[2]) tuple(%a, %a)\n}\n",
    # NOTE [strings read to the quote]: backslashes and line breaks take the rules.
    "escapes and line breaks in strings": "HloModule m\nENTRY e {\n"
    '  %a = f32[] parameter(0), metadata={op_name="a\\"b" op_type="c\\\\d"}\n'
    '  %b = f32[] negate(%a), metadata={op_name="a\nb"}, frontend_attributes={x="1\\\\"}\n'
    '  %c = f32[] negate(%b), backend_config="x\\"y", custom={a\\b}\n'
    '  ROOT %d = f32[] negate(%c), backend_config="x\ny"\n}\n',
    "an unclosed string": 'HloModule m\nENTRY e {\n  %a = f32[] parameter(0), metadata={op_name="a}\n'
    '  ROOT %b = f32[] negate(%a), metadata={op_name="b"}\n}\n',
    # TensorFlow's typed operands, as the instruction pattern reads them and as it does not.
    "typed operands": "HloModule m\nENTRY e {\n  %a = f32[2]{0} parameter(0)\n"
    "  %b = f32[2]{0} negate(f32[2]{0} %a)\n  %c = f32[2] add(f32[2]{0} %a, f32[2] %b)\n"
    "  %d = f32[2] add(f32[2] %a, b)\n  %e = f32[6] concatenate(f32[2] %a, f32[2] %b, f32[2] %c)"
    ", dimensions={0}\n  %f = f32[6] concatenate(f32[2] %a, f32[2] %b, c), dimensions={0}\n"
    "  %g = f32[2] add(f32[2] a, f32[2]{0} %b)\n"
    "  ROOT %t = (f32[2], f32[2]) tuple(f32[2] %a, f32[2]{0} %g)\n}\n",
    "a typed operand of a bad type": "HloModule m\nENTRY e {\n  %a = f32[2]{0} parameter(0)\n"
    "  ROOT %b = f32[2] add(x32[2] %a, f32[2] %a)\n}\n",
    "a typed operand of a tuple type": "HloModule m\nENTRY e {\n  %a = f32[2]{0} parameter(0)\n"
    "  %t = (f32[2]) tuple(%a)\n  ROOT %g = f32[2] get-tuple-element((f32[2]) %t), index=0\n}\n",
    # The fast patterns are ASCII; the rules' \w and \d take any Unicode letter or digit.
    "names and numbers outside ASCII": "HloModule m\nENTRY e {\n"
    "  %a.\u00e9 = f32[\u0662] parameter(0)\n"
    "  ROOT %n.\u00e9 = f32[2] negate(%a.\u00e9), custom=v\u00e9, dimensions={\u0661}\n}\n",
}


def test_table_rows_fast_path_reads_what_the_rules_read(monkeypatch):
    """Table rows read by the row pattern are the rows the table rule reads alone."""
    import re

    from xlalens.ir.hlo import _syntax

    text = (
        'HloModule m\nFileNames\n1 "a.py"\n2 \'b.py\'\n3 "c\\"d"\n-4 "e//f"\n'
        '5 "g\nh"\nFileLocations\n1 {file_name_id=1 line=2}\n2 {a="}"}\n3 /* c */ {b=1}\n'
        "4 {c=(1, 2)}\n5 {d=1\n e=2}\n6{f=1}\nENTRY e {\n  ROOT %p = f32[] parameter(0)\n}\n"
    )
    fast = _syntax.parse(text, None).tables
    monkeypatch.setattr(_syntax, "_ROW_FAST", re.compile(r"(?!)"))
    assert _syntax.parse(text, None).tables == fast
    assert fast["FileNames"][-4] == '"e//f"' and fast["FileLocations"][5] == "{d=1 e=2}"


@pytest.mark.parametrize("case", sorted(_FAST_CASES))
def test_fast_paths_read_what_the_rules_read(case, monkeypatch):
    """The grammar's fast patterns give the graph (or the error) the rules give alone."""
    import re

    from xlalens.ir.hlo import _syntax

    def read() -> str:
        try:
            g = parse_hlo_text(_FAST_CASES[case])
        except ParseError as exc:
            return f"ParseError: {exc}"
        return repr((list(g.nodes(data=True)), list(g.edges(keys=True, data=True))))

    fast = read()
    never = re.compile(r"(?!)")
    monkeypatch.setattr(_syntax, "_INSTR_FAST", never)
    monkeypatch.setattr(_syntax, "_ATTR_FAST", never)
    monkeypatch.setattr(_syntax, "_SIG_FAST", never)
    monkeypatch.setattr(_syntax, "_COMP_FAST", never)
    assert read() == fast


_BRACKET_ERRORS = {
    '{a="x}\n}\n': "3:43: expected a closing quote, found the end of the text",
    "{a /* x}\n}\n": "3:43: expected '*/' to end this comment, found the end of the text",
    "{a={1}\n": "3:46: expected '}' to close the '{' of 3:40, found the end of the text",
    "{a=(1]\n}\n}\n": "3:45: expected ')', found ']'",
    "{a=1\n]}\n}\n": "4:1: expected '}', found ']'",
}


@pytest.mark.parametrize("tail", sorted(_BRACKET_ERRORS))
def test_bracket_errors_name_the_place(tail):
    """An attribute value's unclosed string, comment or bracket is named at its place."""
    text = "HloModule m\nENTRY e {\n  ROOT %p = f32[] parameter(0), custom=" + tail
    with pytest.raises(ParseError, match=re.escape(_BRACKET_ERRORS[tail])):
        parse_hlo_text(text)


def test_block_comments_leave_attribute_text():
    """The '/*index=N*/' comments of a header's layout list are removed from its text."""
    from xlalens.ir.hlo import _syntax

    text = (
        'HloModule m, a={(f32[2]{0}, /*index=1*/f32[])}, b={"/*x*/" /*y*/}\n'
        "ENTRY e {\n  ROOT %p = f32[] parameter(0)\n}\n"
    )
    assert _syntax.parse(text, None).attrs_raw == {
        "a": "{(f32[2]{0}, f32[])}",
        "b": '{"/*x*/" }',
    }
