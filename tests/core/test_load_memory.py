"""load(path) lets the file's text go before the graph is built: errors found later still point at it."""

from __future__ import annotations

import pytest

from xlalens import ParseError
from xlalens.ir import load
from xlalens.ir.hlo import read_hlo_file_text, read_hlo_text
from xlalens.ir.hlo._lex import Lexer

# Errors only the lowering finds (the grammar accepts each text).
LOWERING_ERRORS = {
    "undefined operand": (
        "HloModule m\n\nENTRY e {\n  p = f32[2]{0} parameter(0)\n"
        "  ROOT n = f32[2]{0} add(p, q)\n}\n"
    ),
    "defined twice": (
        "HloModule m\n\nENTRY e {\n  p = f32[2]{0} parameter(0)\n"
        "  p = f32[2]{0} negate(p)\n  ROOT n = f32[2]{0} negate(p)\n}\n"
    ),
    "parameter twice": (
        "HloModule m\n\nENTRY e {\n  p = f32[2]{0} parameter(0)\n"
        "  q = f32[2]{0} parameter(0)\n  ROOT n = f32[2]{0} add(p, q)\n}\n"
    ),
    "unknown computation": (
        "HloModule m\n\nENTRY e {\n  p = f32[2]{0} parameter(0)\n"
        "  ROOT r = f32[] reduce(p, p), dimensions={0}, to_apply=nowhere\n}\n"
    ),
}


def _error(fn) -> ParseError:
    with pytest.raises(ParseError) as info:
        fn()
    return info.value


@pytest.mark.parametrize("case", sorted(LOWERING_ERRORS))
def test_lowering_errors_of_a_file_point_at_its_line(tmp_path, case):
    """A lowering error of load(path) reads the file again: same line, column and snippet as load(text)."""
    text = LOWERING_ERRORS[case]
    path = tmp_path / "m.hlo.txt"
    path.write_text(text)
    from_text = _error(lambda: load(text))
    from_path = _error(lambda: load(path))
    assert from_path.line is not None and from_path.snippet
    assert (from_path.line, from_path.column, from_path.snippet) == (
        from_text.line,
        from_text.column,
        from_text.snippet,
    )
    assert str(from_path).split(": ", 1)[1] == str(from_text).split(": ", 1)[1]
    assert from_path.source == str(path)


def test_the_holder_is_emptied_and_the_graph_is_the_same(tmp_path):
    """read_hlo_file_text takes the text out of its holder and reads the same graph as read_hlo_text."""
    text = LOWERING_ERRORS["undefined operand"].replace("add(p, q)", "add(p, p)")
    path = tmp_path / "m.hlo.txt"
    path.write_text(text)
    holder = [text]
    g, ops = read_hlo_file_text(holder, source=str(path))
    h, ops2 = read_hlo_text(text, source=str(path))
    assert holder == [] and ops == ops2 == {"parameter", "add"}
    assert list(g.nodes(data=True)) == list(h.nodes(data=True))
    assert list(g.edges(keys=True, data=True)) == list(h.edges(keys=True, data=True))


def test_a_file_changed_since_the_parse_gives_no_wrong_line(tmp_path):
    """When the file changed (or went) before a lowering error, the message says so, with no line."""
    from xlalens.ir.hlo import _TextLater

    path = tmp_path / "m.hlo.txt"
    path.write_text("HloModule m\n")
    later = _TextLater.of(Lexer("HloModule m\n", str(path)))
    assert later.fail(4, "boom").line == 1  # unchanged: read again, located
    path.write_text("HloModule m2\n")
    later = _TextLater.of(Lexer("HloModule m\n", str(path)))
    err = later.fail(4, "boom")
    assert err.line is None and "the file changed since it was read" in str(err)
    path.unlink()
    assert _TextLater.of(Lexer("HloModule m\n", str(path))).fail(4, "boom").line is None


SHARDED = (
    "HloModule m, num_partitions=2\n\nENTRY e {\n"
    "  p = f32[4,2]{1,0} parameter(0), sharding={devices=[2,1]0,1}\n"
    "  ROOT n = f32[4,2]{1,0} negate(p)\n}\n"
)


def test_edges_given_a_device_shape_stay_small():
    """An edge the reader gives a device shape is a 5-key split copy: same items, fewer bytes."""
    import sys

    from xlalens.ir import _dicts

    g = load(SHARDED)
    ((_, _, e),) = g.in_edges("e/n", data=True)
    assert list(e.items()) == [
        ("operand_index", 0),
        ("kind", "data"),
        ("dtype", "f32"),
        ("shape", (4, 2)),
        ("device_shape", (2, 2)),
    ]
    assert g._succ["e/p"]["e/n"] is g._pred["e/n"]["e/p"]
    if _dicts._PADS.get(5, -1) >= 0:
        assert sys.getsizeof(e) < sys.getsizeof({**e})
    e["extra"] = 1  # still a plain dict of its own
    assert g.edges["e/p", "e/n", 0]["extra"] == 1
