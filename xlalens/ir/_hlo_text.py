"""HLO text -> the xlalens graph (raw level): a line-oriented parser of our own.

The text that jaxlib 0.10, TensorFlow 2.21 and torch_xla 2.9 print comes from three
different XLA versions, so we do not bind to one version's C++ parser; this reader
accepts what all three print (see docs/hlo-reader.md for what goes into which field):

- pre-optimization HLO (``region_0.1 {``, operands ``add(x, y)`` or TF's typed
  ``add(f32[] %x, f32[] %y)``) and scheduled optimized HLO (``%fused_computation
  (p: f32[]) -> f32[] {``, ``/*index=5*/`` comments, ``backend_config={JSON}``);
- the module header (``HloModule name, input_output_alias=..., ...``) and the
  FileNames / FunctionNames / FileLocations / StackFrames tables that recent XLA
  prints before the computations, used to turn ``stack_frame_id`` into file:line.

NOTE: [why line-oriented]
XLA's printer writes one instruction per line, and every producer we read goes
through that printer. Parsing a line with a few compiled regexes (head, operand
list, one match per attribute) keeps the hot path out of per-character Python
loops: a 36k-instruction module parses within a small factor of XLA's own C++
parser (benchmarks/bench_ir.py). Nested structures that the fast regexes do not
cover (tuple types, parenthesized operands, deeply nested attribute values) fall
back to a bracket scanner, which is only hit on rare lines. Text that is not one
instruction per line is rejected with a ParseError naming the line.
"""

from __future__ import annotations

import gc
import json
import math
import re
from typing import Any

import networkx as nx

from xlalens._errors import ParseError
from xlalens.ir._schema import canonical_op, new_graph, node_id

__all__ = ["TRIVIAL_OPCODES", "kernel_nodes", "parse_hlo_text"]

# Entry-level instructions that move no data and run no kernel: they do not count
# as kernels in ``kernel_nodes`` (XLA's CPU and GPU runtimes emit no thunk for them).
TRIVIAL_OPCODES = frozenset(
    {"parameter", "constant", "tuple", "get-tuple-element", "bitcast", "after-all"}
)

_NAME = r"[A-Za-z_][\w.\-]*"
_STR = r'"(?:[^"\\]++|\\.)*+"'
# Braced values nested up to depth 6 (strings inside may hold any brace); the
# possessive quantifiers keep a malformed line from backtracking for long.
_BRACED = r"\{(?:[^{}\"]++|" + _STR + r")*+\}"
for _ in range(5):
    _BRACED = r"\{(?:[^{}\"]++|" + _STR + r"|" + _BRACED + r")*+\}"
_BARE = r"(?:\[[^\]]*+\]|[^,\s{}\"\[\]])++"
_ATTR_RE = re.compile(r"\s*,\s*([\w\-]+)\s*=\s*(" + _STR + r"|" + _BRACED + r"|" + _BARE + r")")
_SHAPE = r"[a-z][a-z0-9]*\[[^\]]*\](?:\{[^{}]*\})?"
# The head of an instruction line when its type is an array (the common case).
_HEAD_RE = re.compile(r"\s*(ROOT\s+)?%?(" + _NAME + r")\s*=\s*(" + _SHAPE + r")\s+([\w\-]+)\(")
# The head when the type is a tuple: the type is scanned separately.
_HEAD_TUPLE_RE = re.compile(r"\s*(ROOT\s+)?%?(" + _NAME + r")\s*=\s*(?=\()")
_OPCODE_RE = re.compile(r"\s*([\w\-]+)\(")
_ARRAY_RE = re.compile(r"([a-z][a-z0-9]*)\[([^\]]*)\](?:\{([^{}]*)\})?")
_COMP_RE = re.compile(r"(ENTRY\s+)?%?(" + _NAME + r")\s*")
_MODULE_RE = re.compile(r"HloModule\s+%?([^\s,]+)")
_OPERAND_NAME_RE = re.compile(r"%(" + _NAME + r")")
_INT_LIST_RE = re.compile(r"\{\s*(?:-?\d+\s*(?:,\s*-?\d+\s*)*)?\}$")
_BOOL_LIST_RE = re.compile(r"\{\s*(?:(?:true|false)\s*(?:,\s*(?:true|false)\s*)*)?\}$")
# The metadata jax prints on most lines, read without the general loop.
_META_FAST_RE = re.compile(r'\{op_name="([^"\\]*)"(?: stack_frame_id=(\d+))?\}$')
_INT_RE = re.compile(r"-?\d+$")
_META_RE = re.compile(r"([\w\-]+)=(" + _STR + r"|[^\s}]+)")
_KV_RE = re.compile(r"\s*([\w\-.]+)\s*=\s*(" + _STR + r"|[^,}]*)")
_TABLE_ROW_RE = re.compile(r"(\d+)\s+(.*)$")
_ALIAS_RE = re.compile(
    r"\{([\d,\s]*)\}\s*:\s*\(\s*(\d+)\s*,\s*\{([\d,\s]*)\}\s*(?:,\s*([\w\-]+))?\s*\)"
)
_STRUCT_RE = re.compile(r'[(){}\[\]",]')
_DIGITS_RE = re.compile(r"\d+")
_MAX_TUPLE_DEPTH = 64
_TABLES = ("FileNames", "FunctionNames", "FileLocations", "StackFrames")

# Which attribute names call a computation, and the computation kind they imply.
_CALL_ATTRS = {
    "calls": "fusion",
    "to_apply": "reducer",
    "condition": "condition",
    "body": "body",
    "branch_computations": "branch",
    "true_computation": "branch",
    "false_computation": "branch",
    "called_computations": "other",
    "select": "reducer",
    "scatter": "reducer",
}
# Kinds whose instructions are scheduled one by one on each run of their caller
# (control flow bodies and plain calls), unlike fusion bodies and reducers, which
# run inside one kernel: ``kernel_nodes(nested=True)`` lists them.
_SCHEDULED_KINDS = frozenset({"body", "condition", "branch", "function"})


def _kind_for(attr: str, opcode: str) -> str:
    kind = _CALL_ATTRS[attr]
    if attr == "to_apply" and opcode == "call":
        return "function"
    if attr == "calls" and opcode != "fusion":
        # async-start / custom wrappers: a called computation, not a fusion body.
        return "other"
    return kind


_ESCAPE_RE = re.compile(r"\\(?:([0-7]{1,3})|x([0-9a-fA-F]{1,2})|(.))", re.S)
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}


def _unescape_c(body: str) -> str:
    """Undo absl::CEscape (what XLA's printer uses): \\n, \\", octal and hex bytes."""

    def byte(m: re.Match) -> str:
        if m.group(1) is not None:
            return chr(int(m.group(1), 8) & 0xFF)
        if m.group(2) is not None:
            return chr(int(m.group(2), 16))
        c = m.group(3)
        return _SIMPLE_ESCAPES.get(c, c)

    out = _ESCAPE_RE.sub(byte, body)
    # Octal/hex escapes are UTF-8 bytes: reassemble them into characters.
    try:
        return out.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return out


def _unquote(s: str) -> str:
    body = s[1:-1]
    if "\\" not in body:
        return body
    return _unescape_c(body)


def _strip_comments(line: str) -> str:
    """Remove ``/* ... */`` comments (``/*index=5*/`` in long tuples); linear time."""
    out = []
    pos = 0
    while True:
        start = line.find("/*", pos)
        if start < 0:
            break
        end = line.find("*/", start + 2)
        if end < 0:
            break
        out.append(line[pos:start])
        pos = end + 2
    out.append(line[pos:])
    return "".join(out)


def _split_top(s: str) -> list[str]:
    """Split on commas that are outside brackets, braces, parens and strings."""
    parts: list[str] = []
    depth = 0
    start = 0
    in_str = False
    i = 0
    n = len(s)
    while i < n:
        c = s[i]
        if in_str:
            if c == "\\":
                i += 1
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == "," and depth == 0:
            parts.append(s[start:i])
            start = i + 1
        i += 1
    parts.append(s[start:])
    return parts


def _match_close(s: str, pos: int) -> int:
    """Index of the bracket closing the one at ``pos``; -1 if unbalanced."""
    depth = 0
    in_str = False
    for m in _STRUCT_RE.finditer(s, pos):
        c = m.group()
        if in_str:
            # An escaped quote never ends a string: count the backslashes before it.
            if c == '"':
                j = m.start() - 1
                slashes = 0
                while j >= 0 and s[j] == "\\":
                    slashes += 1
                    j -= 1
                if slashes % 2 == 0:
                    in_str = False
            continue
        if c == '"':
            in_str = True
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                return m.start()
    return -1


def _decode_value(raw: str) -> Any:
    """An attribute value as plain data: ints, bools, int lists, strings; else raw text."""
    c = raw[0]
    if c == '"':
        return _unquote(raw)
    if c == "{":
        if _INT_LIST_RE.match(raw):
            inner = raw[1:-1].strip()
            return [int(x) for x in inner.split(",")] if inner else []
        if _BOOL_LIST_RE.match(raw):
            inner = raw[1:-1].strip()
            return [x.strip() == "true" for x in inner.split(",")] if inner else []
        return raw
    if raw == "true":
        return True
    if raw == "false":
        return False
    if _INT_RE.match(raw):
        return int(raw)
    return raw


def _decode_json_or_raw(raw: str) -> Any:
    text = _unquote(raw) if raw[0] == '"' else raw
    if not text:
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def _decode_kv(raw: str) -> dict[str, Any]:
    """``{k="v",k2="v2"}`` (frontend_attributes) -> dict."""
    out: dict[str, Any] = {}
    inner = raw[1:-1]
    for m in _KV_RE.finditer(inner):
        v = m.group(2).strip()
        out[m.group(1)] = _unquote(v) if v.startswith('"') else v
    return out


def _decode_names(raw: str) -> list[str]:
    """``%a`` or ``{%a, %b}`` -> ``["a", "b"]``."""
    if raw.startswith("{"):
        raw = raw[1:-1]
    return [p.strip().lstrip("%") for p in raw.split(",") if p.strip()]


def _parse_literal_value(lit: str) -> Any:
    """The number of a scalar literal, or None (arrays, elided, inf/nan)."""
    if not lit or lit[0] in "{(":
        return None
    if lit == "true":
        return True
    if lit == "false":
        return False
    try:
        return int(lit)
    except ValueError:
        pass
    try:
        v = float(lit)
    except ValueError:
        return None
    return v if math.isfinite(v) else None


class _Parser:
    """One parse: state shared by the line handlers; use :func:`parse_hlo_text`."""

    def __init__(self, text: str, source: str | None, stage: str) -> None:
        self.text = text
        self.source = source
        self.stage = stage
        self.lineno = 0
        self.line = ""
        self.opcache: dict[str, str] = {}
        self.typecache: dict[str, tuple[str, tuple[int, ...], str | None, list[str] | None]] = {}

    # -- errors -------------------------------------------------------------------------
    def error(
        self, message: str, column: int = 1, lineno: int | None = None, line: str | None = None
    ) -> ParseError:
        line = (self.line if line is None else line).rstrip("\n")
        if len(line) > 200:
            # Show a window around the column of a long line, not its first 200 characters.
            start = max(0, min(column - 1 - 80, len(line) - 200))
            line = line[start : start + 200]
            column -= start
        return ParseError(
            message,
            line=self.lineno if lineno is None else lineno,
            column=column,
            snippet=line,
            source=self.source,
        )

    # -- types --------------------------------------------------------------------------
    def parse_type(
        self, t: str, col: int, depth: int = 0
    ) -> tuple[str, tuple[int, ...], str | None, list[str] | None]:
        """``(dtype, shape, layout, tuple element types or None)`` of a printed type."""
        if depth > _MAX_TUPLE_DEPTH:
            raise self.error(f"tuple types nested deeper than {_MAX_TUPLE_DEPTH}", col)
        hit = self.typecache.get(t)
        if hit is not None:
            return hit
        t = t.strip()
        if t.startswith("("):
            if not t.endswith(")") or _match_close(t, 0) != len(t) - 1:
                raise self.error(f"unbalanced tuple type {t[:60]!r}", col)
            inner = t[1:-1]
            elems = [e.strip() for e in _split_top(inner)] if inner.strip() else []
            for e in elems:
                if not e:
                    raise self.error(f"empty element in tuple type {t[:60]!r}", col)
                self.parse_type(e, col, depth + 1)
            out: tuple[str, tuple[int, ...], str | None, list[str] | None] = (
                "tuple",
                (),
                None,
                elems,
            )
        else:
            m = _ARRAY_RE.fullmatch(t)
            if m is None:
                raise self.error(
                    f"expected a type such as f32[2,3]{{1,0}} or a tuple, got {t[:60]!r}", col
                )
            dims = m.group(2).strip()
            shape: list[int] = []
            if dims:
                for d in dims.split(","):
                    d = d.strip()
                    if d.isdigit():
                        shape.append(int(d))
                    elif d == "?" or (d.startswith("<=") and d[2:].strip().isdigit()):
                        shape.append(-1)
                    else:
                        raise self.error(f"bad dimension {d!r} in type {t[:60]!r}", col)
            out = (m.group(1), tuple(shape), m.group(3), None)
        self.typecache[t] = out
        return out

    # -- the module -----------------------------------------------------------------------
    def run(self) -> nx.MultiDiGraph:
        text = self.text
        if not isinstance(text, str):
            raise ParseError(
                f"HLO text must be str, got {type(text).__name__}; decode bytes first",
                source=self.source,
            )
        lines = text.split("\n")
        module = ""
        module_attrs: dict[str, Any] = {}
        # computation name -> [header lineno, is_entry, list of instruction records]
        comps: dict[str, list[Any]] = {}
        entry = None
        current: list[Any] | None = None
        current_name = ""
        table: str | None = None
        tables: dict[str, dict[int, str]] = {k: {} for k in _TABLES}
        seen_module = False
        n_lines = len(lines)
        i = 0
        while i < n_lines:
            line = lines[i]
            i += 1
            if "/*" in line:
                line = _strip_comments(line)
            self.lineno = i
            self.line = line
            s = line.strip()
            if not s or s.startswith("//"):
                continue
            if current is not None:
                if s[0] == "}":
                    current = None
                    continue
                current[2].append(self.parse_instruction(line, i))
                continue
            if s.startswith("HloModule"):
                if seen_module:
                    raise self.error("a second HloModule header; give one module per text")
                seen_module = True
                m = _MODULE_RE.match(s)
                if m is None:
                    raise self.error("HloModule header without a module name", 10)
                module = m.group(1)
                module_attrs = self.parse_attrs(s, m.end(), line)
                continue
            if s in _TABLES:
                table = s
                continue
            if table is not None and s[0].isdigit():
                m = _TABLE_ROW_RE.match(s)
                if m is None:
                    raise self.error(f"bad row in the {table} table", 1)
                tables[table][int(m.group(1))] = m.group(2)
                continue
            m = _COMP_RE.match(s)
            # A header is 'name {' or 'name (params) -> result {'; checked with string
            # operations, since a regex over the signature backtracks on bad lines.
            if m is not None and s[-1] == "{":
                sig = s[m.end() : -1].strip()
                if sig and not (sig[0] == "(" and "->" in sig):
                    m = None
            else:
                m = None
            if m is None:
                raise self.error(
                    "expected 'HloModule', a computation header such as "
                    "'ENTRY %main (p: f32[]) -> f32[] {', or an instruction inside one",
                    len(line) - len(line.lstrip()) + 1,
                )
            table = None
            current_name = m.group(2)
            if current_name in comps:
                raise self.error(f"computation {current_name!r} is defined twice")
            current = [i, bool(m.group(1)), []]
            comps[current_name] = current
            if m.group(1):
                if entry is not None:
                    raise self.error(f"a second ENTRY computation (first: {entry!r})")
                entry = current_name
        # Errors about the end of the text point at its last line with text.
        last = n_lines
        while last > 1 and not lines[last - 1].strip():
            last -= 1
        if current is not None:
            raise self.error(
                f"computation {current_name!r} is not closed with '}}' (truncated text?)",
                1,
                lineno=last,
                line=lines[last - 1] if lines else "",
            )
        if not seen_module and not comps:
            raise ParseError(
                "no HloModule header and no computation: this is not HLO text",
                line=1,
                column=1,
                snippet=lines[0][:200] if lines else "",
                source=self.source,
            )
        if entry is None:
            if not comps:
                raise self.error(
                    "the module has no computations (truncated text?)",
                    1,
                    lineno=last,
                    line=lines[last - 1],
                )
            # XLA takes the last computation as the entry when none says ENTRY.
            entry = next(reversed(comps))
        return self.build(module, module_attrs, comps, entry, tables, lines)

    # -- one instruction ------------------------------------------------------------------
    def parse_instruction(self, line: str, lineno: int) -> tuple:
        m = _HEAD_RE.match(line)
        if m is not None:
            is_root, name, typ, opcode = m.groups()
            pos = m.end()
        else:
            m = _HEAD_TUPLE_RE.match(line)
            if m is None:
                stripped = len(line) - len(line.lstrip())
                raise self.error(
                    "expected an instruction '[ROOT] %name = type opcode(operands), attr=value...'",
                    stripped + 1,
                )
            is_root, name = m.group(1), m.group(2)
            tstart = m.end()
            tend = _match_close(line, tstart)
            if tend < 0:
                raise self.error("unbalanced parentheses in the tuple type", tstart + 1)
            typ = line[tstart : tend + 1]
            m2 = _OPCODE_RE.match(line, tend + 1)
            if m2 is None:
                raise self.error("expected an opcode followed by '(' after the type", tend + 2)
            opcode = m2.group(1)
            pos = m2.end()
        close = line.find(")", pos)
        if close < 0:
            raise self.error(f"operand list of {opcode!r} is not closed with ')'", pos)
        operands = line[pos:close]
        if "(" in operands or '"' in operands:
            close = _match_close(line, pos - 1)
            if close < 0:
                raise self.error(f"unbalanced parentheses in the operands of {opcode!r}", pos)
            operands = line[pos:close]
        attrs_raw = self.parse_attrs(line, close + 1, line) if close + 1 < len(line) else {}
        return (name, bool(is_root), typ, opcode, operands, attrs_raw, lineno, line, pos)

    def parse_attrs(self, line: str, pos: int, raw_line: str) -> dict[str, str]:
        out: dict[str, str] = {}
        n = len(line)
        match = _ATTR_RE.match
        while pos < n:
            m = match(line, pos)
            if m is None:
                rest = line[pos:]
                if not rest.strip() or rest.lstrip().startswith("//"):
                    break
                raise self.error("expected ', name=value' (an attribute)", pos + 1, line=raw_line)
            key, value = m.groups()
            out[key] = value
            pos = m.end()
        return out

    def operand_names(self, operands: str, opcode: str, col: int) -> list[str]:
        s = operands.strip()
        if not s:
            return []
        if "%" in s:
            if "[" in s or "(" in s or '"' in s:
                # TF style, typed operands: the name is the last token of each part.
                names = []
                for part in _split_top(s):
                    part = part.strip()
                    m = _OPERAND_NAME_RE.search(part)
                    if m is None or m.end() != len(part):
                        raise self.error(f"cannot read an operand name in {part[:60]!r}", col)
                    names.append(m.group(1))
                return names
            names = _OPERAND_NAME_RE.findall(s)
            # One %name per comma-separated part, nothing else: else take the slow path.
            if (
                len(names) != s.count(",") + 1
                or len(s) != sum(map(len, names)) + 3 * len(names) - 2
            ):
                return self.operand_names_slow(s, col)
            return names
        if "[" in s or "(" in s or '"' in s:
            return self.operand_names_slow(s, col)
        names = [p.strip() for p in s.split(",")]
        for p in names:
            if not p or " " in p:
                return self.operand_names_slow(s, col)
        return names

    def operand_names_slow(self, s: str, col: int) -> list[str]:
        names = []
        for part in _split_top(s):
            toks = part.split()
            if not toks:
                raise self.error("empty operand (two commas in a row?)", col)
            name = toks[-1].lstrip("%")
            if not re.fullmatch(_NAME, name):
                raise self.error(f"{toks[-1]!r} is not an operand name", col)
            names.append(name)
        return names

    # -- the graph -------------------------------------------------------------------------
    def build(
        self,
        module: str,
        module_attrs: dict[str, str],
        comps: dict[str, list[Any]],
        entry: str,
        tables: dict[str, dict[int, str]],
        lines: list[str],
    ) -> nx.MultiDiGraph:
        scheduled = module_attrs.get("is_scheduled") == "true"
        stage = self.stage
        if scheduled and stage == "unknown":
            stage = "optimized_hlo"
        g = new_graph(format="hlo", stage=stage, module=module, entry=entry)
        g.graph["attrs"] = self.module_attrs(module_attrs)
        if self.source is not None:
            g.graph["source"] = {"path": self.source}
        frames = self.stack_frames(tables)
        computations: dict[str, dict[str, Any]] = {}
        # NOTE: [building networkx internals directly]
        # add_node/add_edge cost several dict lookups and a cache clear per call;
        # for a 36k-node module that alone would exceed the parse time. We fill the
        # same dicts networkx's own add_edge fills (node -> attr dict, succ[u][v]
        # and pred[v][u] sharing one key dict) for a fresh graph, and validate()
        # checks the result in the tests.
        gnode = g._node
        gsucc = g._adj
        gpred = g._pred
        opcache = self.opcache
        parse_type = self.parse_type
        typecache = self.typecache
        meta_fast = _META_FAST_RE.match
        pending_calls: list[tuple[str, str, str, str, int, str]] = []
        with_frames: list[tuple[str, int]] = []
        by_comp: dict[str, list[str]] = {}  # node ids of each computation, in order
        for cname, (hdr, _is_entry, instrs) in comps.items():
            params: dict[int, str] = {}
            root = None
            local: dict[str, str] = {}
            order: dict[str, int] = {}
            info = {
                "kind": "entry" if cname == entry else "other",
                "root": None,
                "params": [],
                "callers": [],
            }
            computations[cname] = info
            for name, is_root, typ, opcode, _ops, attrs_raw, lineno, line, pos in instrs:
                self.lineno, self.line = lineno, line
                nid = node_id(cname, name)
                if name in local:
                    raise self.error(
                        f"instruction {name!r} is defined twice in {cname!r}", line.find(name) + 1
                    )
                local[name] = nid
                order[name] = len(order)
                tinfo = typecache.get(typ)
                if tinfo is None:
                    tinfo = parse_type(typ, line.find(typ) + 1)
                dtype, shape, layout, elems = tinfo
                op = opcache.get(opcode)
                if op is None:
                    op = opcache[opcode] = canonical_op(opcode)
                attrs: dict[str, Any] = {}
                calls: list[str] = []
                # Every field of node_defaults(), in its order (a test checks the keys).
                d = {
                    "name": name,
                    "op": op,
                    "opcode": opcode,
                    "dialect": "hlo",
                    "dtype": dtype,
                    "shape": shape,
                    "type": typ,
                    "layout": layout,
                    "attrs": attrs,
                    "op_name": None,
                    "source_file": None,
                    "source_line": None,
                    "computation": cname,
                    "fusion": None,
                    "param_index": None,
                    "is_root": False,
                    "calls": calls,
                    "role": None,
                }
                if is_root:
                    d["is_root"] = True
                    if root is not None:
                        raise self.error(f"a second ROOT in computation {cname!r}", 1)
                    root = nid
                if elems is not None:
                    attrs["tuple_types"] = list(elems)
                if opcode == "parameter":
                    p = _ops.strip()
                    if not p.isdigit():
                        raise self.error(f"parameter number {p!r} is not an int", pos + 1)
                    idx = int(p)
                    if idx in params:
                        raise self.error(f"parameter({idx}) appears twice in {cname!r}", pos + 1)
                    params[idx] = nid
                    d["param_index"] = idx
                elif opcode == "constant":
                    lit = _ops.strip()
                    attrs["literal"] = lit
                    if lit == "{...}":
                        attrs["elided"] = True
                    else:
                        v = _parse_literal_value(lit)
                        if v is not None:
                            attrs["value"] = v
                if attrs_raw:
                    for key, raw in attrs_raw.items():
                        if key == "metadata":
                            mf = meta_fast(raw)
                            if mf is not None:
                                d["op_name"] = mf.group(1)
                                if mf.group(2):
                                    fid = int(mf.group(2))
                                    attrs["metadata"] = {"stack_frame_id": fid}
                                    # No source_file in this form: the frame gives it.
                                    loc = frames.get(fid)
                                    if loc is not None:
                                        d["source_file"], d["source_line"] = loc
                            else:
                                self.metadata(raw, d, attrs, with_frames, nid)
                        elif key in _CALL_ATTRS:
                            names = _decode_names(raw)
                            attrs[key] = names if raw.startswith("{") else names[0] if names else ""
                            kind = _kind_for(key, opcode)
                            for callee in names:
                                calls.append(callee)
                                pending_calls.append((nid, callee, kind, cname, lineno, line))
                        elif key == "backend_config":
                            attrs[key] = _decode_json_or_raw(raw)
                        elif key == "frontend_attributes":
                            attrs[key] = _decode_kv(raw) if raw.startswith("{") else raw
                        elif key == "control-predecessors":
                            attrs["control_predecessors"] = _decode_names(raw)
                        else:
                            attrs[key] = _decode_value(raw)
                gnode[nid] = d
                gsucc[nid] = {}
                gpred[nid] = {}
            # Operand edges, once every instruction of the computation is known
            # (XLA's parser accepts uses before definitions).
            for name, _r, _t, opcode, ops, _a, lineno, line, pos in instrs:
                if opcode in ("parameter", "constant") or not ops.strip():
                    continue
                self.lineno, self.line = lineno, line
                v = local[name]
                vpred = gpred[v]
                here = order[name]
                for k, oname in enumerate(self.operand_names(ops, opcode, pos + 1)):
                    u = local.get(oname)
                    if u is None or order[oname] >= here:
                        col = line.find(oname, pos)
                        # XLA's parser also wants each operand defined on an earlier line,
                        # which keeps the dataflow acyclic.
                        what = (
                            "is not an instruction of"
                            if u is None
                            else "is used before its definition in"
                        )
                        raise self.error(
                            f"operand {oname!r} of {name!r} {what} computation {cname!r}",
                            (col if col >= 0 else pos) + 1,
                        )
                    ud = gnode[u]
                    keydict = vpred.get(u)
                    if keydict is None:
                        keydict = vpred[u] = {}
                        gsucc[u][v] = keydict
                    keydict[k] = {
                        "operand_index": k,
                        "kind": "data",
                        "dtype": ud["dtype"],
                        "shape": ud["shape"],
                    }
            info["root"] = root if root is not None else (local[instrs[-1][0]] if instrs else None)
            if root is None and instrs:
                gnode[info["root"]]["is_root"] = True
            if params and sorted(params) != list(range(len(params))):
                raise self.error(
                    f"computation {cname!r} has parameters {sorted(params)}; "
                    f"expected 0..{len(params) - 1}",
                    1,
                    lineno=hdr,
                    line=lines[hdr - 1],
                )
            info["params"] = [params[k] for k in range(len(params))]
            by_comp[cname] = list(local.values())
        for nid, callee, kind, cname, lineno, line in pending_calls:
            info = computations.get(callee)
            if info is None:
                self.lineno, self.line = lineno, line
                col = line.find(callee)
                raise self.error(
                    f"calls unknown computation {callee!r}", col + 1 if col >= 0 else 1
                )
            if callee == cname:
                self.lineno, self.line = lineno, line
                raise self.error(f"computation {cname!r} calls itself", line.find(callee) + 1)
            if info["kind"] == "other" and callee != entry:
                info["kind"] = kind
            if nid not in info["callers"]:
                info["callers"].append(nid)
        g.graph["computations"] = computations
        for nid, fid in with_frames:
            loc = frames.get(fid)
            if loc is not None:
                nd = gnode[nid]
                if nd["source_file"] is None:
                    nd["source_file"], nd["source_line"] = loc
        if stage == "optimized_hlo" or scheduled:
            self.assign_kernels(g, entry, by_comp)
        return g

    def metadata(self, raw: str, d: dict, attrs: dict, with_frames: list, nid: str) -> None:
        if not raw.startswith("{"):
            attrs["metadata"] = raw
            return
        extra: dict[str, Any] = {}
        for m in _META_RE.finditer(raw, 1, len(raw) - 1):
            key, val = m.group(1), m.group(2)
            if key == "op_name":
                d["op_name"] = _unquote(val) if val[0] == '"' else val
            elif key == "source_file":
                d["source_file"] = _unquote(val) if val[0] == '"' else val
            elif key == "source_line" and _INT_RE.match(val):
                d["source_line"] = int(val)
            elif key == "stack_frame_id" and _INT_RE.match(val):
                extra[key] = int(val)
                with_frames.append((nid, int(val)))
            else:
                extra[key] = _decode_value(val)
        if extra:
            attrs["metadata"] = extra

    def stack_frames(self, tables: dict[str, dict[int, str]]) -> dict[int, tuple[str, int | None]]:
        """stack_frame_id -> (file, line) of that (innermost) frame."""
        frames = tables["StackFrames"]
        if not frames:
            return {}
        files = {k: _unquote(v) if v.startswith('"') else v for k, v in tables["FileNames"].items()}
        locs: dict[int, tuple[str, int | None]] = {}
        for k, v in tables["FileLocations"].items():
            f = dict(_META_RE.findall(v))
            fid = f.get("file_name_id", "")
            line = f.get("line", "")
            if fid.isdigit() and int(fid) in files:
                locs[k] = (files[int(fid)], int(line) if line.isdigit() else None)
        out: dict[int, tuple[str, int | None]] = {}
        for k, v in frames.items():
            f = dict(_META_RE.findall(v))
            lid = f.get("file_location_id", "")
            if lid.isdigit() and int(lid) in locs:
                out[k] = locs[int(lid)]
        return out

    def module_attrs(self, raw: dict[str, str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, val in raw.items():
            if key == "input_output_alias":
                out[key] = [
                    {
                        "output_index": [int(x) for x in _DIGITS_RE.findall(m.group(1))],
                        "parameter_number": int(m.group(2)),
                        "parameter_index": [int(x) for x in _DIGITS_RE.findall(m.group(3))],
                        "kind": m.group(4) or "may-alias",
                    }
                    for m in _ALIAS_RE.finditer(val)
                ]
            elif key == "entry_computation_layout":
                out[key] = val[1:-1] if val.startswith("{") else val
            elif key == "frontend_attributes" and val.startswith("{"):
                out[key] = _decode_kv(val)
            else:
                out[key] = _decode_value(val)
        return out

    @staticmethod
    def assign_kernels(g: nx.MultiDiGraph, entry: str, by_comp: dict[str, list[str]]) -> None:
        """Fill ``fusion``: the entry-level instruction (kernel) that runs each node.

        Entry instructions run themselves. Everything reached from an entry
        instruction through called computations (fusion bodies, nested fusions,
        reducers, loop bodies and conditions, branches, called functions) belongs
        to that instruction; a computation shared by several callers goes to the
        first one in program order.
        """
        owner: dict[str, str | None] = {entry: None}
        queue = [entry]
        nodes = g._node
        for c in queue:  # the queue grows while we walk it (breadth-first)
            own = owner[c]
            for nid in by_comp[c]:
                nd = nodes[nid]
                kernel = nid if own is None else own
                nd["fusion"] = kernel
                for callee in nd["calls"]:
                    if callee not in owner:
                        owner[callee] = kernel
                        queue.append(callee)


def parse_hlo_text(
    text: str, *, source: str | None = None, stage: str = "unknown"
) -> nx.MultiDiGraph:
    """Parse HLO text (pre-optimization or optimized) into a raw-level xlalens graph.

    Args:
        text: the module as printed by XLA (``HloModule ...`` then computations), from
            jaxlib, TensorFlow or torch_xla.
        source: where the text came from (a path); used in error messages and stored
            in ``graph.graph["source"]["path"]``.
        stage: ``"hlo"``, ``"optimized_hlo"`` or ``"unknown"``. For ``"optimized_hlo"``,
            or when the header says ``is_scheduled=true``, each node's ``fusion`` is
            the kernel (scheduled instruction) that runs it.

    Returns:
        A ``networkx.MultiDiGraph`` that follows ``xlalens.ir._schema`` (raw level).

    Raises:
        ParseError: malformed or truncated text, with line, column and snippet.

    Example:
        >>> g = parse_hlo_text("HloModule m\\nENTRY e {\\n ROOT p = f32[] parameter(0)\\n}\\n")
        >>> g.nodes["e/p"]["op"], g.nodes["e/p"]["param_index"]
        ('parameter', 0)
    """
    from xlalens.ir._schema import STAGES

    if stage not in STAGES:
        from xlalens._errors import UsageError

        raise UsageError(f"stage={stage!r} is not one of {STAGES}")
    parser = _Parser(text, source, stage)
    # NOTE: [gc off while parsing]
    # The parse allocates a few hundred thousand dicts, tuples and lists that all
    # stay alive; CPython's cyclic GC would rescan the growing heap again and again
    # (about half the parse time on a 36k-instruction module) to find no garbage.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return parser.run()
    except ParseError:
        raise
    except (IndexError, KeyError, ValueError, TypeError, RecursionError) as exc:
        # A bug of this reader on odd input: still report where it happened.
        raise parser.error(f"could not parse this line ({type(exc).__name__}: {exc})") from exc
    finally:
        if gc_was_enabled:
            gc.enable()


def kernel_nodes(graph: nx.MultiDiGraph, *, nested: bool = False) -> list[str]:
    """The node ids of the kernels of a module: instructions that run as their own unit.

    A kernel is an instruction of the entry computation whose opcode is not in
    :data:`TRIVIAL_OPCODES` (parameter, constant, tuple, get-tuple-element, bitcast,
    after-all): fusions, custom-calls, unfused ops, ``while``/``conditional``. Meant
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
                if callee not in wanted and comps.get(callee, {}).get("kind") in _SCHEDULED_KINDS:
                    wanted.add(callee)
                    queue.append(callee)
    out_entry = []
    out_nested = []
    for nid, data in graph.nodes(data=True):
        c = data["computation"]
        if c in wanted and data["opcode"] not in TRIVIAL_OPCODES:
            (out_entry if c == entry else out_nested).append(nid)
    return out_entry + out_nested
