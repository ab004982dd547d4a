"""The HLO text reader: lexer (``_lex``) -> grammar (``_syntax``) -> lowering (``_lower``).

The three stages follow XLA's own: ``hlo_lexer.cc`` (a token stream over the
whole buffer; line breaks are whitespace; ``//`` and ``/* */`` comments
skipped), ``hlo_parser.cc`` (recursive descent, one function per grammar rule)
and, instead of building ``HloInstruction`` objects, a lowering to the xlalens
graph schema. docs/hlo-reader.md lists the grammar, the error format and how
each attribute lands in the schema.

Public entry points (re-exported by ``xlalens.ir``): :func:`parse_hlo_text`,
:func:`kernel_nodes`, :data:`TRIVIAL_OPCODES`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import networkx as nx

from xlalens._errors import ParseError, UsageError
from xlalens.ir._gc import paused_gc
from xlalens.ir._ops import SCHEDULED_KINDS, TRIVIAL_OPCODES
from xlalens.ir.hlo._lex import Lexer
from xlalens.ir.hlo._lower import lower
from xlalens.ir.hlo._syntax import Parser

if TYPE_CHECKING:
    from xlalens.ir._canonical import Walks

__all__ = [
    "TRIVIAL_OPCODES",
    "kernel_nodes",
    "parse_hlo_text",
    "read_hlo_file_text",
    "read_hlo_text",
]


def parse_hlo_text(
    text: str, *, source: str | None = None, stage: str = "unknown"
) -> nx.MultiDiGraph:
    """Parse HLO text (pre-optimization or optimized) into a raw-level xlalens graph.

    Args:
        text: the module as printed by XLA (``HloModule ...`` then computations),
            from jaxlib, TensorFlow, torch_xla, XLA's tests or a person: line
            breaks anywhere whitespace may go, ``//`` and ``/* */`` comments.
        source: where the text came from (a path); used in error messages and stored
            in ``graph.graph["source"]["path"]``.
        stage: ``"hlo"``, ``"optimized_hlo"`` or ``"unknown"``. For ``"optimized_hlo"``,
            or when the header says ``is_scheduled=true``, each node's ``fusion`` is
            the kernel (scheduled instruction) that runs it.

    Returns:
        A ``networkx.MultiDiGraph`` that follows ``xlalens.ir._schema`` (raw level).

    Raises:
        ParseError: malformed or truncated text: ``file:line:col: expected X, found Y``,
            then the source line and a caret. Nothing else is raised for any text.
        UsageError: ``stage`` is not a known stage.

    Example:
        >>> g = parse_hlo_text("HloModule m\\nENTRY e {\\n ROOT p = f32[] parameter(0)\\n}\\n")
        >>> g.nodes["e/p"]["op"], g.nodes["e/p"]["param_index"]
        ('parameter', 0)
    """
    return read_hlo_text(text, source=source, stage=stage)[0]


def read_hlo_text(
    text: str, *, source: str | None = None, stage: str = "unknown", walks: Walks | None = None
) -> tuple[nx.MultiDiGraph, frozenset[str]]:
    """:func:`parse_hlo_text`, and the set of node ``op`` values in the graph.

    ``xlalens.load`` uses the set to skip whole-graph passes that look for an op
    the module does not have (the ``while`` trip counts of ``ir/_loops``), and
    ``walks`` (filled while lowering) to skip the canonical rules' walks.
    """
    return _read(text, None, source=source, stage=stage, walks=walks)


def read_hlo_file_text(
    holder: list[str], *, source: str, stage: str = "unknown", walks: Walks | None = None
) -> tuple[nx.MultiDiGraph, frozenset[str]]:
    """:func:`read_hlo_text` of a file's text that the caller hands over.

    ``holder`` is a one-item list with the text, which the caller holds nowhere
    else; it is emptied, and the text let go once parsed (NOTE [the text goes
    before the graph is built]). ``source`` is the file's path: an error found
    while lowering reads the file again to show its line.
    """
    return _read(holder.pop(), holder, source=source, stage=stage, walks=walks)


def _read(
    text: str,
    holder: list[str] | None,
    *,
    source: str | None,
    stage: str,
    walks: Walks | None,
) -> tuple[nx.MultiDiGraph, frozenset[str]]:
    from xlalens.ir._schema import STAGES

    if stage not in STAGES:
        raise UsageError(f"stage={stage!r} is not one of {STAGES}")
    if not isinstance(text, str):
        raise ParseError(
            f"HLO text must be str, got {type(text).__name__}; decode bytes first",
            source=source,
        )
    lexer = Lexer(text, source)
    # NOTE: [gc off while parsing]
    # The parse allocates a few hundred thousand dicts, tuples and lists that all
    # stay alive; CPython's cyclic GC would rescan the growing heap again and again
    # (about half the parse time on a 36k-instruction module) to find no garbage.
    with paused_gc():
        try:
            ops_seen: set[str] = set()
            mod = Parser(lexer).module()
            if holder is not None and source is not None:
                # NOTE: [the text goes before the graph is built]
                # A file's text is needed by the parse only: the module's records hold
                # their own strings, and lowering reads the text for an error message
                # alone. Held until the graph was whole, it was 14 MB of the peak of a
                # 156k-instruction module (issue 23); let go here, an error found
                # while lowering reads the file again (``_TextLater``). Text passed in
                # by a caller stays: the caller holds it anyway.
                lexer = _TextLater.of(lexer)
                del text
            graph = lower(mod, lexer, stage, ops_seen, walks)
            return graph, frozenset(ops_seen)
        except ParseError:
            raise
        except RecursionError as exc:
            raise lexer.fail(0, "the text nests too deeply to read") from exc
        except Exception as exc:  # a bug of this reader on odd input: still a ParseError
            raise ParseError(
                f"could not read this HLO ({type(exc).__name__}: {exc}); please report it "
                "with the text",
                source=source,
            ) from exc


_BUF = Lexer.buf  # the base class's slot: _TextLater reads and fills it


class _TextLater(Lexer):
    """The lexer lowering gets once a file's text is let go: the text is read again on demand.

    Only an error message asks for it (``fail`` and ``buf``). The file is read as
    ``xlalens.load`` read it (UTF-8); if it is no longer there, or its length changed
    meanwhile, the message says so instead of pointing at a line of other text.
    """

    __slots__ = ()

    @classmethod
    def of(cls, lexer: Lexer) -> _TextLater:
        """A text-less stand-in for ``lexer`` (same length and source)."""
        out = cls.__new__(cls)
        _BUF.__set__(out, None)
        out.n = lexer.n
        out.source = lexer.source
        return out

    def _text(self) -> str | None:
        text = _BUF.__get__(self, Lexer)
        if text is None:
            try:
                text = Path(str(self.source)).read_bytes().decode("utf-8")
            except (OSError, UnicodeDecodeError):
                return None
            if len(text) != self.n:
                return None
            _BUF.__set__(self, text)
        return text

    @property  # type: ignore[override]
    def buf(self) -> str:
        """The text, read again ('' when the file changed: callers then skip the search)."""
        return self._text() or ""

    def fail(self, pos: int, message: str) -> ParseError:
        text = self._text()
        if text is None:
            return ParseError(
                f"{message} (at character {pos + 1}; the file changed since it was read, "
                "so its line is not shown)",
                source=self.source,
            )
        return Lexer(text, self.source).fail(pos, message)


def kernel_nodes(graph: nx.MultiDiGraph, *, nested: bool = False) -> list[str]:
    """The node ids of the kernels of a module: instructions that run as their own unit.

    A kernel is an instruction of the entry computation whose opcode is not in
    :data:`TRIVIAL_OPCODES` (parameter, constant, tuple, get-tuple-element, bitcast,
    after-all, opt-barrier): fusions, custom-calls, unfused ops, ``while``/``conditional``. Meant
    for optimized HLO, where each is one thunk/kernel launch; on other stages it
    counts the entry's non-trivial ops.

    Args:
        graph: a graph from :func:`parse_hlo_text` (or ``xlalens.load``).
        nested: also list the non-trivial instructions of loop bodies, conditions,
            branches and called functions reached from the entry: the kernels that
            a ``while``/``conditional``/``call`` kernel launches on each run. Their
            ``fusion`` field is, as for every node, the entry-level instruction
            (the ``while``) that runs them.

    Returns:
        Node ids in program order, entry first.

    Example:
        >>> g = parse_hlo_text(open("optimized_hlo.txt").read(), stage="optimized_hlo")  # doctest: +SKIP
        >>> len(kernel_nodes(g))  # doctest: +SKIP
        14
    """
    entry = graph.graph["entry"]
    comps = graph.graph["computations"]
    wanted = {entry}
    if nested:
        calls_of: dict[str, list[str]] = {}
        for _nid, data in graph.nodes(data=True):
            if data["calls"]:
                calls_of.setdefault(data["computation"], []).extend(data["calls"])
        queue = [entry]
        while queue:
            c = queue.pop()
            for callee in calls_of.get(c, ()):
                if callee not in wanted and comps.get(callee, {}).get("kind") in SCHEDULED_KINDS:
                    wanted.add(callee)
                    queue.append(callee)
    out_entry = []
    out_nested = []
    trivial = TRIVIAL_OPCODES
    if len(wanted) == 1:
        # The common case (entry only), one comprehension over the node dicts.
        return [
            nid
            for nid, d in graph._node.items()
            if d["computation"] == entry and d["opcode"] not in trivial
        ]
    for nid, data in graph._node.items():
        c = data["computation"]
        if c in wanted and data["opcode"] not in trivial:
            (out_entry if c == entry else out_nested).append(nid)
    return out_entry + out_nested
