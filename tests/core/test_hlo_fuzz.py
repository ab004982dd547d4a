"""Property-based tests: mutated real HLO modules give a ParseError or a valid graph, nothing else.

Mutations (issue 3): truncate, delete a line, duplicate a line, corrupt a token,
swap two characters. Any other exception (IndexError, KeyError, RecursionError,
SchemaError from an invalid graph...) or a hang (the hypothesis deadline) fails.

Issue 9 adds mutation fuzzing of the real modules of tests/core/data/real
(Keras on JAX and TensorFlow, torch_xla, sharded jax): deleted spans,
truncations and swapped tokens, with a fixed seed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xlalens._errors import ParseError
from xlalens.ir._validate import validate
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
        assert "please report it" not in str(err), str(err)
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


# -- mutation fuzzing of the real modules (issue 9) ------------------------------------------
import random  # noqa: E402
import sys  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from _real import real_text  # noqa: E402


def _real_samples() -> list[tuple[str, str]]:
    """Real modules small enough to mutate many times; slices of the big ones, cut at a
    computation boundary (still text a framework wrote)."""
    out = []
    for name in (
        "jax_sharded_mlp.hlo.txt.xz",
        "jax_sharded_mlp.optimized_hlo.txt.xz",
        "torch_xla_transformer.hlo.txt.xz",
        "keras_tf_mobilenetv2.hlo.txt.xz",
        "keras_tf_mobilenetv2.optimized_hlo.txt.xz",
        "keras_jax_resnet50.optimized_hlo.txt.xz",
    ):
        text = real_text(name)
        if len(text) > 60_000:
            cut = text.find("\n}\n", 40_000)
            text = text[: cut + 3] if cut > 0 else text[:60_000]
        out.append((name, text))
    return out


REAL_SAMPLES = _real_samples()


def _mutants(text: str, rng: random.Random, n: int) -> list[str]:
    tokens = [m.span() for m in TOKEN.finditer(text)]
    out = []
    for k in range(n):
        kind = k % 3
        if kind == 0:  # delete a span
            i = rng.randrange(len(text))
            out.append(text[:i] + text[i + rng.randint(1, 200) :])
        elif kind == 1:  # truncate
            out.append(text[: rng.randrange(len(text))])
        else:  # swap two tokens
            (a0, a1), (b0, b1) = sorted(rng.sample(tokens, 2))
            out.append(text[:a0] + text[b0:b1] + text[a1:b0] + text[a0:a1] + text[b1:])
    return out


@pytest.mark.parametrize("name,text", REAL_SAMPLES, ids=[n for n, _ in REAL_SAMPLES])
def test_real_module_mutations(name: str, text: str) -> None:
    """Deletions, truncations and token swaps of real modules: ParseError or a valid graph."""
    validate(parse_hlo_text(text))  # the unmutated sample reads
    rng = random.Random(name)
    for mutant in _mutants(text, rng, 30):
        check(mutant)


def test_truncated_real_module_says_the_text_ends_early() -> None:
    """A real module cut mid-instruction: the error says the text ends (not a table error)."""
    text = real_text("keras_jax_resnet50.optimized_hlo.txt.xz")
    cut = text[: text.find("ENTRY") + 5000]
    try:
        parse_hlo_text(cut, source="cut.hlo")
    except ParseError as err:
        assert "end of the text" in str(err), str(err)
        assert str(err).startswith("cut.hlo:")
    else:
        raise AssertionError("a truncated module was accepted")
