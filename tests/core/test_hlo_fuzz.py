"""Property-based tests: mutated real HLO modules give a ParseError or a valid graph, nothing else.

Mutations (issue 3): truncate, delete a line, duplicate a line, corrupt a token,
swap two characters. Any other exception (IndexError, KeyError, RecursionError,
SchemaError from an invalid graph...) or a hang (the hypothesis deadline) fails.
"""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xlalens._errors import ParseError
from xlalens.ir._schema import validate
from xlalens.ir.hlo import parse_hlo_text

DATA = Path(__file__).parent / "data" / "hlo"
MODULES = [
    (DATA / name).read_text()
    for name in (
        "jax_regression.hlo.txt",
        "jax_regression.optimized_hlo.txt",
        "attributes.hlo.txt",
        "control_flow.hlo.txt",
        "layouts_tuples.hlo.txt",
        "nested_fusion.hlo.txt",
        "collectives_async.hlo.txt",
    )
]
# Dumps from the capture stage, when present: TF's typed operands, torch_xla's names.
MODULES += [
    p.read_text()
    for p in sorted((DATA.parent / "dumps").glob("*/*/hlo.txt"))[:6]
    if p.stat().st_size < 60_000
]
TOKEN = re.compile(r"%?[\w.\-]+|\S")
JUNK = [
    "",
    "%",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ",",
    "=",
    '"',
    "\\",
    "/*",
    "*/",
    "ROOT",
    "ENTRY",
    "f32[",
    "(f32[]",
    "parameter(0)",
    "calls=%x",
    "{...}",
    "%p.0",
    "x" * 50,
    "\n",
    "}\n",
    "HloModule z",
    "-1",
    "99999999999999999999",
    "\x00",
    "é",
]

SETTINGS = settings(
    max_examples=120,
    deadline=2000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)


def check(text: str) -> None:
    """The one allowed outcome: a ParseError with a location, or a graph that validates."""
    try:
        g = parse_hlo_text(text, source="fuzz.hlo")
    except ParseError as err:
        assert err.line is not None and err.line >= 1, str(err)
        # The reader's safety net turns its own bugs into this message: a failure here.
        assert "could not parse this line" not in str(err), str(err)
        return
    validate(g)


@SETTINGS
@given(st.sampled_from(MODULES), st.floats(0, 1))
def test_truncated(text: str, where: float) -> None:
    """Cutting the text anywhere."""
    check(text[: int(len(text) * where)])


@SETTINGS
@given(st.sampled_from(MODULES), st.data())
def test_line_deleted_or_duplicated(text: str, data: st.DataObject) -> None:
    """Dropping or repeating one line (or a few)."""
    lines = text.split("\n")
    i = data.draw(st.integers(0, len(lines) - 1))
    n = data.draw(st.integers(1, 3))
    if data.draw(st.booleans()):
        lines[i : i + n] = []
    else:
        lines[i:i] = lines[i : i + n]
    check("\n".join(lines))


@SETTINGS
@given(st.sampled_from(MODULES), st.data())
def test_token_corrupted(text: str, data: st.DataObject) -> None:
    """Replacing a token by junk or by another token of the module."""
    tokens = list(TOKEN.finditer(text))
    m = tokens[data.draw(st.integers(0, len(tokens) - 1))]
    other = tokens[data.draw(st.integers(0, len(tokens) - 1))].group()
    junk = data.draw(st.sampled_from([*JUNK, other]) | st.text(max_size=8))
    check(text[: m.start()] + junk + text[m.end() :])


@SETTINGS
@given(st.sampled_from(MODULES), st.data())
def test_characters_swapped(text: str, data: st.DataObject) -> None:
    """Swapping two characters (near or far apart)."""
    i = data.draw(st.integers(0, len(text) - 2))
    j = data.draw(st.integers(0, len(text) - 1)) if data.draw(st.booleans()) else i + 1
    i, j = min(i, j), max(i, j)
    if i == j:
        return
    check(text[:i] + text[j] + text[i + 1 : j] + text[i] + text[j + 1 :])
