"""The HLO grammar's records and token patterns, shared by its rules (``_syntax``, ``_attrs``).

NOTE: [fast paths] in ``_syntax``: the patterns match at a position
(``pattern.match(buf, pos)``); the rule functions decide what is accepted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from xlalens.ir._ops import OPCODES
from xlalens.ir.hlo._lex import NAME, PRIMITIVE_TYPES

#: (dtype, shape, layout, tuple element type texts or None)
TypeInfo = tuple[str, tuple[int, ...], "str | None", "list[str] | None"]

# One instruction record, as a plain tuple for speed (29k of them per real module):
# (name, is_root, type_text, type_info, opcode, operand_names, attrs_raw, name_pos,
#  operands_pos - name_pos). NOTE: [positions as offsets] The operands' position is
# kept as its distance from the name's, nearly always below 257: CPython's cached
# small ints, where the offset itself was a new int object per instruction (5 MB of
# a 156k-instruction module's parse, whose freed blocks were left scattered among
# the graph's; issue 23).
Instr = tuple

_MAX_TUPLE_DEPTH = 64

# NOTE: [ASCII fast paths] The fast patterns spell their classes in ASCII ('[0-9]',
# 'A-Za-z0-9_'), where the rules' ``\w`` and ``\d`` take any Unicode letter or digit:
# sre tests a class of plain characters with one bitmap lookup, but ``\w`` with a
# Unicode category call per character (a quarter of the instruction pattern's time,
# issue 23). A name or number outside ASCII (XLA prints none) fails the fast pattern
# and takes the rules, which read it as before.
_SIMPLE_ARRAY = r"[a-z][a-z0-9]*+\[[0-9,]*+\](?:\{[0-9,]*+\})?"
# NOTE: [possessive fast paths] The fast patterns use possessive runs (``*+``, ``++``)
# wherever the next piece of the pattern cannot start with a character of the run (a
# name is followed by a blank, '=', ',' or ')'), so they match exactly what the greedy
# forms match, and the engine keeps no backtracking state for each run: 3-4% of the
# parse each for the instruction and attribute patterns (issue 23).
_NAME_P = r"[A-Za-z_][A-Za-z0-9_.\-]*+"  # NAME, possessive, ASCII
_OPS_SIMPLE_RE = r"[ \t]*+%?" + _NAME_P + r"(?:[ \t]*+,[ \t]*+%?" + _NAME_P + r")*+[ \t]*+"


# A primitive type name, exactly (longest first): the signature's fast path checks its
# dtypes in the match instead of a findall and a set test after it (issue 23: optimized
# HLO has a computation per three instructions, and the signature was most of each
# computation's own cost).
# Factored by first letter (``f(?:32|16|...)``): sre tries an alternation's branches
# in turn, and a flat list of 30 names put f32 behind a dozen failed branches (a fifth of
# the signature pattern's time, issue 23). Any order reads the same: a '[' follows.
def _by_first_letter(names: frozenset[str]) -> str:
    groups: dict[str, list[str]] = {}
    for t in sorted(names, key=lambda t: (-len(t), t)):
        groups.setdefault(t[0], []).append(re.escape(t[1:]))
    return "(?:" + "|".join(c + "(?:" + "|".join(r) + ")" for c, r in groups.items()) + ")"


_PRIMITIVE = _by_first_letter(PRIMITIVE_TYPES)


# The operands: groups 5 to 7 when they are names as XLA prints them ('%a, %b, %c', or
# 'a, b, c' from jax's pre-optimization text, or 'f32[2]{0} %a, f32[] %b' from
# TensorFlow's): the first and second names without their '%', then the rest (', %c',
# or ''); group 8 otherwise (a literal, a parameter number, odd blanks), where ``_syntax``
# reads its text. An operand's type here is one the shape rule reads as it stands (a
# primitive type, digits between commas). The name list is tried first and is a part of
# what group 8 reads, so the two read the same texts as one; one scan of a name list,
# where a lookahead scanned it a second time before, and one or two operands (nine in
# ten) come out as groups, without str calls or a second pattern (issue 23).
_INTS = r"(?:[0-9]++(?:,[0-9]++)*+)?"
_OPERAND = r"(?:" + _PRIMITIVE + r"\[" + _INTS + r"\](?:\{" + _INTS + r"\})? %|%?)"
_NAMED = _OPERAND + r"(" + _NAME_P + r")"
_NAMES = _NAMED + r"(?:, " + _NAMED + r"((?:, " + _OPERAND + _NAME_P + r")*+))?"
# Group 3, the type: a plain array, or a tuple of plain arrays as XLA prints it (', '
# between them, no comments), whose text is the one the shape rule gives (issue 23: each
# took the rules, 20 us apiece, 1-5% of a pre-optimization module's parse).
_INSTR_FAST = re.compile(
    r"[ \t\r\n]*+(ROOT[ \t]+)?%?(" + _NAME_P + r")[ \t]*+=[ \t]*+"
    r"(" + _SIMPLE_ARRAY + r"|\((?:" + _SIMPLE_ARRAY + r"(?:, " + _SIMPLE_ARRAY + r")*+)?\))[ \t]++"
    r"([a-z][a-z0-9\-]*+)\((?:" + _NAMES + r"\)"
    r"|((?:[^()\"/\[\]]++|\[[0-9,]*+\]|/\*index=[0-9]++\*/)*+)\))"
)
# XLA's printer numbers every fifth operand of a long list: 'fusion(%a, ..., /*index=5*/%f)'.
# The fast path drops these comments (``_syntax``); other comments take the rules.
_INDEX_COMMENT = re.compile(r"/\*index=\d+\*/")
# TensorFlow prints operand types inline: 'add(f32[] %x, f32[2]{0} %y)'.
_OPS_TYPED = re.compile(
    r"[ \t]*(?:"
    + _SIMPLE_ARRAY
    + r"[ \t]+)?%"
    + NAME
    + r"(?:[ \t]*,[ \t]*(?:"
    + _SIMPLE_ARRAY
    + r"[ \t]+)?%"
    + NAME
    + r")*[ \t]*"
)
_TYPED_NAME = re.compile(r"%(" + NAME + r")")
_TYPED_DTYPE = re.compile(r"([a-z][a-z0-9]*)\[")
_OPS_SIMPLE = re.compile(_OPS_SIMPLE_RE)
# NOTE: [strings read to the quote] Group 3's strings run to the next '"' (sre's
# one-character loop, twice as fast as a class of three over a 250-character metadata
# value: 10% of a TensorFlow module's parse, issue 23); a value with a '\\' or a line
# break in it takes the rules (``_syntax``), as it did when the pattern left it out.
_FAST_VALUE = (
    r"(\{[0-9,]*+\})"
    r"|(\"[^\"]*+\""
    r"|[A-Za-z0-9_.\-%]++(?=[\s,}]|\Z)"
    r"|\{[^{}\"\n/]*+(?:\"[^\"]*+\"[^{}\"\n/]*+)*+\})"
    # Group 4: braces one level deep, no quotes but plain strings, no comments or line
    # breaks (optimized HLO's backend_config JSON); group 5: a dim_labels token
    # ('b01f_01io->b01f'). Each is taken only where its attribute's rule reads the same
    # text (``_syntax``); both took the rules before, a few hundred times per module.
    r"|(\{(?:[^{}\"'\n/]++|\"[^\"\\\n]*+\"|\{(?:[^{}\"'\n/]++|\"[^\"\\\n]*+\")*+\})*+\})(?=[\s,}]|\Z)"
    r"|([0-9bf?]++_[0-9io?]++->[0-9bf?]++)(?=[\s,}]|\Z)"
)
_ATTR_FAST = re.compile(r"[ \t]*+,[ \t]*+([A-Za-z0-9_\-]++)=(?:" + _FAST_VALUE + r")")


_SIG_PARAM = r"%?" + NAME + r":[ \t]*" + _PRIMITIVE + r"\[[\d,]*\](?:\{[^{}\n]*\})?"
# Group 1: a result of a plain array type, with a plain layout or none, with nothing
# glued to it (without a layout, ``_syntax`` checks that none follows after a blank
# either, as the shape rule would read one). Optimized HLO prints every result's layout,
# which sent each of its computations' signatures to the shape rule (issue 23).
_SIG_FAST = re.compile(
    r"\([ \t]*(?:" + _SIG_PARAM + r"(?:,[ \t]*" + _SIG_PARAM + r")*)?[ \t]*\)[ \t]*->[ \t]*"
    r"(" + _PRIMITIVE + r"\[(?:\d++(?:,\d++)*+)?\](?:\{(?:\d++(?:,\d++)*+)?\})?(?![{\w\[]))?"
)
# NOTE: [computation headers] A computation's header up to its body's '{' in one match,
# as XLA prints it: '[ENTRY ]%name (p: f32[2]{0}, ...) -> f32[2]{0} {', or 'ENTRY %name {'.
# Group 1: 'ENTRY ', group 2: the name with its '%' (its position is the computation's),
# group 3: the name. The parameters are ``_SIG_FAST``'s (ASCII, possessive); the result is
# a plain array with its layout, or one with none that a blank and the body follow, the
# body starting with a name (so no layout rule could read the body as the result's
# layout). Anything else (a tuple result, a comment, a line break) takes the rules:
# optimized HLO has a computation per 10-20 instructions, and their headers went through
# five patterns and three rule functions each (issue 23).
_SIG_PARAM_P = r"%?" + _NAME_P + r":[ \t]*+" + _PRIMITIVE + r"\[[0-9,]*+\](?:\{[^{}\n]*+\})?"
_COMP_FAST = re.compile(
    r"(ENTRY[ \t]++)?+(%?(" + _NAME_P + r"))[ \t]*+"
    r"(?:\([ \t]*+(?:" + _SIG_PARAM_P + r"(?:,[ \t]*+" + _SIG_PARAM_P + r")*+)?[ \t]*+\)"
    r"[ \t]*+->[ \t]*+" + _PRIMITIVE + r"\[(?:[0-9]++(?:,[0-9]++)*+)?\]"
    r"(?:\{(?:[0-9]++(?:,[0-9]++)*+)?\}[ \t]*+|[ \t]++(?=\{[ \t\r\n]*+[%A-Za-z_])))?"
    r"\{"
)
# A table row as XLA prints it: a number and a string without escapes, or braces
# without brackets, strings or comments inside (what ``match_close`` reads to the first
# '}'); the rules read the others (issue 23: a jax module's tables have 500 rows).
_ROW_FAST = re.compile(r"[ \t\r\n]*+(-?[0-9]++)[ \t]*+(\"[^\"\\]*+\"|\{[^{}()\[\]\"'/]*+\})")
_ARRAY = re.compile(r"([a-z][a-z0-9]*)\[([^\]]*)\]")
_LAYOUT = re.compile(r"[ \t\r\n]*\{([^{}]*)\}")
_LAYOUT_BODY = re.compile(r"\s*(?:\d+\s*(?:,\s*\d+\s*)*)?(?::[^{}]*)?$")
_DIM = re.compile(r"\s*(?:(<=)\s*)?(\d+|\?)\s*$")
_ROOT = re.compile(r"ROOT(?![\w.\-])")
# The start of an instruction inside ``{`` (an inline computation, not a name list).
_INLINE_INSTR = re.compile(r"%?" + NAME + r"[ \t\r\n]*=")
_ENTRY = re.compile(r"ENTRY(?![\w.\-])")
_HLOMODULE = re.compile(r"HloModule(?![\w.\-])")
_TABLE_KW = re.compile(r"(FileNames|FunctionNames|FileLocations|StackFrames)(?![\w.\-])")
_MODULE_NAME = re.compile(r"%?([^\s,{}()]+)")
_PNAME = re.compile(r"%?(" + NAME + r")")
_OPCODE = re.compile(r"([a-z][a-z0-9\-]*)")
_WORD = re.compile(r"[a-z][a-z0-9]*")
_INT = re.compile(r"-?\d+")
_EQ = re.compile(r"[ \t\r\n]*=")
_ATTR_NAME = re.compile(r"([\w\-]+)[ \t\r\n]*=")
_DQ_STRING = r"\"(?:[^\"\\]|\\.)*\""
_STRING_RE = _DQ_STRING + r"|'(?:[^'\\]|\\.)*'"
_BLOCK_RE = r"/\*.*?\*/"
_STRING = re.compile(_STRING_RE, re.S)
# NOTE [brackets as tokens] (``_attrs.match_close``): a bracket, a string, a comment, or a
# quote or '/*' that nothing closes (the strings are ``_STRING``'s). Each branch starts
# with one character, which lets sre skip to the next candidate with a set test.
_BRACKET_TOKENS = re.compile(
    r"\(|\)|\{|\}|\[|\]|" + _STRING_RE + r"|//[^\n]*|" + _BLOCK_RE + r"|\"|'|/\*", re.S
)
_CLOSERS = frozenset(")]}")
_BARE = re.compile(r"[^\s,{}()\[\]\"'/]+")
_IOTA = re.compile(
    r"\[[\s\d,]*\][ \t\r\n]*<=[ \t\r\n]*\[[\s\d,]*\](?:[ \t\r\n]*T[ \t\r\n]*\([\s\d,]*\))?"
)
# ``device_ids=[0,2,1,3]``, or XLA's newer ``, device_ids=(0,2,1,3)`` and the iota
# ``, device_ids=([4,2]T(1,0))`` (jax 0.10's optimized HLO of a tp step).
_MESH = re.compile(
    r"mesh[ \t\r\n]*\[[^\]]*\](?:[ \t\r\n]*,?[ \t\r\n]*device_ids[ \t\r\n]*=[ \t\r\n]*"
    r"(?:\[[^\]]*\]|\((?:[^()]|\([^()]*\))*\)))?"
)
_BLOCK_COMMENT = re.compile(_BLOCK_RE, re.S)
_CLEAN = re.compile(_DQ_STRING + r"|//[^\n\r]*|" + _BLOCK_RE + r"|[ \t]*[\r\n][ \t\r\n]*", re.S)


def _clean(raw: str) -> str:
    """An attribute's text with comments removed and line breaks folded to one space."""
    if "\n" not in raw and "\r" not in raw and "//" not in raw:
        if "/*" not in raw:
            return raw
        if '"' not in raw:
            # Block comments only (the '/*index=5*/' of a layout list): what the
            # substitution below gives, without a Python call per comment (issue 23).
            return _BLOCK_COMMENT.sub("", raw).strip()

    def sub(m: re.Match) -> str:
        t = m.group()
        if t[0] in "\"'":
            return t
        return "" if t[0] == "/" and t[1] == "*" else " " if t[0] != "/" else ""

    return _CLEAN.sub(sub, raw).strip()


# What follows an instruction's last attribute in XLA's printing: a line break and the
# next instruction (two blanks of indent, then '%' or 'ROOT') or the closing brace.
_NEXT_LINE = ("\n  %", "\n  ROOT ", "\n}")
# The attributes of each instruction that has none (``_syntax``'s fast path): one empty
# dict, read and never written by the lowering and the async-sugar pass.
_NO_ATTRS: dict[str, str] = {}


def plain_names(ops: str) -> list[str]:
    """The operand names of a plain name list: the pieces between commas, '%' and blanks removed.

    The caller has matched ``[ \t]*%?name([ \t]*,[ \t]*%?name)*[ \t]*``, and a name
    holds no '%', blank or comma. ``maxsplit`` = the count gives a list of its exact
    size: a plain split keeps 12 slots, which outlive the parse (11 MB at 156k nodes).
    """
    names = ops.replace("%", "").replace(" ", "")
    if "\t" in names:
        names = names.replace("\t", "")
    return names.split(",", names.count(","))


@dataclass(slots=True)
class Computation:
    """One parsed computation."""

    name: str
    """Its name, without ``%``."""
    is_entry: bool
    """Whether the header says ``ENTRY``."""
    pos: int
    """Buffer offset of its name (for errors)."""
    instrs: list[Instr] = field(default_factory=list)
    """Its instructions in text order (``Instr`` tuples)."""
    execution_thread: str | None = None
    """The ``execution_thread="..."`` of its header, if any."""
    wrapped: bool = False
    """True for a computation the reader built for async syntax sugar."""


@dataclass(slots=True)
class Module:
    """One parsed module: the grammar's output, before lowering to the graph schema."""

    name: str
    """The module name of the ``HloModule`` header ('' without one)."""
    attrs_raw: dict[str, str]
    """Header attributes as cleaned text, in order."""
    tables: dict[str, dict[int, str]]
    """FileNames / FunctionNames / FileLocations / StackFrames rows: id -> value text."""
    computations: list[Computation]
    """The computations in text order (sugar computations follow their user's)."""
    has_header: bool
    """Whether the text starts with ``HloModule``."""


#: Opcodes that have their own ``-start``/``-done`` pair in XLA (not sugar).
NATIVE_ASYNC = frozenset(
    {
        "all-reduce-start",
        "all-reduce-done",
        "all-gather-start",
        "all-gather-done",
        "collective-permute-start",
        "collective-permute-done",
        "copy-start",
        "copy-done",
        "async-start",
        "async-update",
        "async-done",
        "send-done",
        "recv-done",
    }
)
#: Opcodes XLA's parser accepts as the ``X`` of ``X-start`` sugar: any opcode.
SUGAR_WRAPPABLE = frozenset(OPCODES) - {"async-start", "async-update", "async-done"}
_ASYNC_ONLY_ATTRS = frozenset({"async_execution_thread", "async_group_id", "calls"})
