"""The HLO lexer: a pull token stream over the whole buffer, after XLA's ``hlo_lexer.cc``.

Like XLA's ``HloLexer``, nothing is split into lines: line breaks are
whitespace, ``//`` comments run to the end of the line and ``/* */`` comments
may span lines; both are skipped wherever whitespace may appear. The parser
asks for tokens at a position (``Lexer.token(pos)``) or, on hot paths, applies
a compiled token pattern with ``pattern.match(buf, pos)`` directly; positions
are offsets into the buffer, and a line and column are worked out only when an
error is reported (``Lexer.error``).

Token kinds follow XLA's lexer: ``name`` (``%x`` or ``x`` before ``:``),
``attr`` (``x=``), ``ident``, ``int``, ``decimal``, ``string``, ``dim_labels``
(``b01f_01io->b01f``), ``dxd`` (``3x3``), ``pad`` (``0_1x1_0``), ``shape`` (a
primitive type such as ``f32``), the punctuation ``= , : [ ] { } ( ) -> <= * #
+ ~ ? ...`` and ``eof``.
"""

from __future__ import annotations

import re

from xlalens._errors import ParseError

__all__ = ["NAME", "PRIMITIVE_TYPES", "SKIP", "Lexer"]

#: Whitespace and comments, skipped between any two tokens. An unterminated
#: ``/*`` is not skipped, so the next token read fails at the comment's start.
#: Possessive (``*+``): no input gives the engine a reason to backtrack into a run of
#: blanks or a comment's body, so it keeps no state for it (issue 23: the reader's
#: patterns run a few times per instruction).
SKIP = re.compile(r"(?:[ \t\r\n]++|//[^\n\r]*+|/\*(?:[^*]++|\*(?!/))*+\*/)*+")
#: An instruction / computation / attribute name (XLA: [a-zA-Z_][a-zA-Z0-9_.-]*).
NAME = r"[A-Za-z_][\w.\-]*"

#: Every primitive type name XLA's lexer reserves (xla_data.proto, jaxlib 0.10).
PRIMITIVE_TYPES = frozenset(
    "pred s1 s2 s4 s8 s16 s32 s64 u1 u2 u4 u8 u16 u32 u64 f16 bf16 f32 f64 c64 c128 "
    "f4e2m1fn f8e3m4 f8e4m3 f8e4m3fn f8e4m3b11fnuz f8e4m3fnuz f8e5m2 f8e5m2fnuz f8e8m0fnu "
    "token opaque".split()
)

_STRING = r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\''
_TOKEN = re.compile(
    r"(?P<arrow>->)"
    r"|(?P<dim_labels>[0-9bf?]{2,}_[0-9io?]{2,}->[0-9bf?]{2,})"
    r"|(?P<decimal>-?(?:(?:\d+|\d+\.\d*|\d*\.\d+)[eE][+-]?\d+|\d+\.\d*|\d*\.\d+))"
    r"|(?P<dxd>\d+(?:x\d+)+)"
    r"|(?P<pad>-?\d+_-?\d+(?:_\d+)?(?:x-?\d+_-?\d+(?:_\d+)?)*)"
    r"|(?P<int>-?\d+)"
    r"|(?P<neg_inf>-inf)"
    r"|(?P<neg_nan>-nan)"
    r"|%(?P<pname>" + NAME + r")"
    r"|(?P<word>" + NAME + r")(?P<suffix>[:=])?"
    r"|(?P<string>" + _STRING + r")"
    r"|(?P<leq><=)"
    r"|(?P<dots>\.\.\.)"
    r"|(?P<punct>[=,:\[\]{}()*#+~?@])",
    re.S,
)
_KEYWORDS = frozenset(
    "true false inf nan HloModule ENTRY ROOT FileLocations FileNames FunctionNames "
    "StackFrames maximal replicated manual last_tile_dim_replicate shard_as shard_like "
    "unknown unreduced".split()
)


class Lexer:
    """Token access and error reporting over one HLO text buffer.

    Attributes are read-only after construction: ``buf`` (the text) and
    ``source`` (its name in messages).
    """

    __slots__ = ("buf", "n", "source")

    def __init__(self, buf: str, source: str | None) -> None:
        self.buf = buf
        self.n = len(buf)
        self.source = source

    def skip(self, pos: int) -> int:
        """The position of the next token at or after ``pos`` (whitespace and comments skipped)."""
        return SKIP.match(self.buf, pos).end()

    def token(self, pos: int) -> tuple[str, str, int, int]:
        """The token at ``pos`` (after skipping): ``(kind, text, start, end)``.

        ``kind`` is one of the kinds in the module docstring, a keyword itself
        (``ROOT``, ``ENTRY``, ``true`` ...) or ``error`` for a character no token
        starts with (``text`` is that character); ``eof`` at the end.
        """
        pos = SKIP.match(self.buf, pos).end()
        if pos >= self.n:
            return ("eof", "", pos, pos)
        m = _TOKEN.match(self.buf, pos)
        if m is None:
            return ("error", self.buf[pos], pos, pos + 1)
        kind = m.lastgroup
        text = m.group()
        if kind == "suffix":
            return ("name" if text[-1] == ":" else "attr", m.group("word"), pos, m.end())
        if kind == "word":
            if text in _KEYWORDS:
                kind = text
            elif text in PRIMITIVE_TYPES:
                kind = "shape"
            else:
                kind = "ident"
        elif kind == "pname":
            return ("name", m.group("pname"), pos, m.end())
        elif kind == "punct":
            kind = text
        return (kind, text, pos, m.end())

    def describe(self, pos: int) -> str:
        """How the token at ``pos`` reads in a message: ``'foo'`` or ``the end of the text``."""
        kind, text, _start, end = self.token(pos)
        if kind != "eof" and SKIP.match(self.buf, end).end() >= self.n:
            # The last token of the text where more was expected: a truncated file.
            return f"{text[:40]!r} and then the end of the text (is it truncated?)"
        if kind == "eof":
            if self.buf.find("/*", pos) >= 0 and "*/" not in self.buf[pos:]:
                return "an unterminated /* comment"
            return "the end of the text (is it truncated?)"
        if len(text) > 40:
            text = text[:37] + "..."
        return repr(text)

    def where(self, pos: int) -> tuple[int, int, str]:
        """``(line, column, line text)`` of an offset, both 1-based; computed on demand."""
        buf = self.buf
        pos = max(0, min(pos, self.n))
        line = buf.count("\n", 0, pos) + 1
        start = buf.rfind("\n", 0, pos) + 1
        end = buf.find("\n", pos)
        if end < 0:
            end = self.n
        return line, pos - start + 1, buf[start:end].rstrip("\r")

    def error(self, pos: int, expected: str, found: str | None = None) -> ParseError:
        """A ParseError at ``pos``: ``file:line:col: expected X, found Y``, the line and a caret.

        Args:
            pos: buffer offset the error points at; whitespace and comments
                before the next token are skipped first unless ``found`` is given.
            expected: what the grammar wanted there (``"'=' after the name"``).
            found: what was there instead; by default the token at ``pos``.
        """
        if found is None:
            pos = self.skip(pos) if pos < self.n else pos
            found = self.describe(pos)
        if pos >= self.n:
            # Point at the end of the last line that has text.
            back = self.buf.rstrip()
            pos = len(back)
        line, col, text = self.where(pos)
        if len(text) > 200:
            # A window around the column of a long line, not its first 200 characters.
            start = max(0, min(col - 1 - 80, len(text) - 200))
            text = text[start : start + 200]
            col -= start
        return ParseError(
            f"expected {expected}, found {found}",
            line=line,
            column=col,
            snippet=text,
            source=self.source,
        )

    def fail(self, pos: int, message: str) -> ParseError:
        """A ParseError at ``pos`` with a free-form message (not an expected/found pair)."""
        line, col, text = self.where(pos)
        if len(text) > 200:
            start = max(0, min(col - 1 - 80, len(text) - 200))
            text = text[start : start + 200]
            col -= start
        return ParseError(message, line=line, column=col, snippet=text, source=self.source)
