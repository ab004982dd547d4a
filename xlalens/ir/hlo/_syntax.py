"""The HLO grammar: recursive descent, one function per rule, after XLA's ``hlo_parser.cc``.

Rules (``Parser.<rule>``), in the order XLA's parser applies them::

    module       ::= ('HloModule' name (',' attribute)*)? (table | computation)*
    table        ::= ('FileNames'|'FunctionNames'|'FileLocations'|'StackFrames') (int value)*
    computation  ::= 'ENTRY'? name signature? '{' instruction* '}' (',' 'execution_thread=' string)?
    signature    ::= '(' (name ':' shape (',' name ':' shape)*)? ')' '->' shape
    instruction  ::= 'ROOT'? name '=' shape opcode '(' operands ')' (',' attribute)*
    shape        ::= primitive '[' dims ']' layout? | '(' (shape (',' shape)*)? ')'
    operands     ::= (shape? name (',' shape? name)*)?   | int (parameter) | literal (constant)
    attribute    ::= attr_name '=' value   (the value rule is chosen by attr_name: ATTRIBUTE_RULES)

Line breaks are whitespace and comments are skipped between any two tokens
(``_lex.SKIP``). NOTE: [fast paths] Most instructions printed by XLA have one
shape: ``[ROOT ]%name = f32[..]{..} opcode(%a, %b)`` followed by attributes whose
values are an int list, a name, a plain string or a brace group without nesting.
``_INSTR_FAST`` and ``_ATTR_FAST`` match exactly that at the current position
(``pattern.match(buf, pos)``); when they do not match, the rule functions below
read the same text token by token, so the grammar decides what is accepted and
the fast paths only decide how quickly.

The result is a :class:`Module` of plain tuples (see ``Instr``); attribute values
stay text (comments removed) for ``_lower`` to decode.
"""

from __future__ import annotations

from typing import Any

from xlalens.ir.hlo._attrs import (
    _COMP_REFS,
    ATTRIBUTE_RULES,
    INT_LIST_ATTRS,
    AttributeRules,
    _fast_rare,
)
from xlalens.ir.hlo._infer import INFERABLE, InferError, infer_type
from xlalens.ir.hlo._lex import PRIMITIVE_TYPES, SKIP, Lexer
from xlalens.ir.hlo._tokens import (
    _ARRAY,
    _ASYNC_ONLY_ATTRS,
    _ATTR_FAST,
    _ATTR_NAME,
    _COMP_FAST,
    _DIM,
    _ENTRY,
    _HLOMODULE,
    _INDEX_COMMENT,
    _INSTR_FAST,
    _INT,
    _LAYOUT,
    _LAYOUT_BODY,
    _MAX_TUPLE_DEPTH,
    _MODULE_NAME,
    _NEXT_LINE,
    _NO_ATTRS,
    _OPCODE,
    _OPS_SIMPLE,
    _OPS_TYPED,
    _PNAME,
    _ROOT,
    _ROW_FAST,
    _SIG_FAST,
    _STRING,
    _TABLE_KW,
    _TYPED_DTYPE,
    _TYPED_NAME,
    _WORD,
    NATIVE_ASYNC,
    SUGAR_WRAPPABLE,
    Computation,
    Module,
    TypeInfo,
    _clean,
    plain_names,
)

__all__ = ["ATTRIBUTE_RULES", "Computation", "Module", "Parser", "TypeInfo", "parse"]


class Parser(AttributeRules):
    """One parse of one buffer; call :meth:`module`."""

    def __init__(self, lexer: Lexer) -> None:
        self.lx = lexer
        self.buf = lexer.buf
        self.n = lexer.n
        self.typecache: dict[str, TypeInfo] = {}
        # The first string seen of each distinct text (NOTE [one string per distinct text]).
        self.texts: dict[str, str] = {}
        self.sugar: dict[str, int] = {}
        self._types: dict[int, tuple[int, dict[str, tuple[str, Any]]]] = {}
        # The module's computation list and the one being read (inline computations
        # go in before it), and the value an inline computation gives its attribute.
        self._comps: list[Computation] = []
        self._current: Computation | None = None
        self._inline: str | None = None
        # What instruction_list binds to locals (built here, per parse, from the
        # module's patterns); ``typed``: type text -> (its first string, TypeInfo).
        typed: dict[str, tuple[str, TypeInfo]] = {}
        self._hot = (
            _INSTR_FAST.match,
            _OPS_SIMPLE.fullmatch,
            _ATTR_FAST.match,
            _OPS_TYPED.fullmatch,
            _TYPED_NAME.findall,
            _TYPED_DTYPE.findall,
            _INDEX_COMMENT.sub,
            _fast_rare,
            self.typecache,
            self.texts.setdefault,
            typed,
            SKIP.match,
            {},
        )

    def skip(self, pos: int) -> int:
        return SKIP.match(self.buf, pos).end()

    def expect(self, pos: int, char: str, what: str) -> int:
        """Skip to the next token; it must be ``char``. Returns the position after it."""
        pos = SKIP.match(self.buf, pos).end()
        if self.buf.startswith(char, pos):
            return pos + len(char)
        raise self.lx.error(pos, what)

    # -- module -----------------------------------------------------------------------
    def module(self) -> Module:
        """module ::= ('HloModule' name (',' attribute)*)? (table | computation)*"""
        buf = self.buf
        pos = self.skip(0)
        name = ""
        attrs: dict[str, str] = {}
        has_header = False
        if _HLOMODULE.match(buf, pos):
            has_header = True
            p = self.skip(pos + 9)
            m = _MODULE_NAME.match(buf, p)
            if m is None:
                raise self.lx.error(p, "a module name after 'HloModule'")
            name = m.group(1)
            pos = self.attributes(m.end(), attrs)
        tables: dict[str, dict[int, str]] = {}
        comps: list[Computation] = self._comps
        seen: set[str] = set()
        n = self.n
        # (table and computation return the position of the next token.)
        pos = self.skip(pos)
        while pos < n:
            # (A computation name with '%', as XLA prints it, is neither keyword: a
            # third of the modules' computations are fusion bodies of a few lines.)
            if buf[pos] != "%":
                m = _TABLE_KW.match(buf, pos)
                if m is not None:
                    pos = self.table(m.end(), tables.setdefault(m.group(1), {}))
                    continue
                if _HLOMODULE.match(buf, pos):
                    raise self.lx.fail(pos, "a second HloModule header; give one module per text")
            pos = self.computation(pos, comps, seen)
        if not has_header and not comps:
            raise self.lx.error(0, "'HloModule' or a computation: this is not HLO text")
        if not comps:
            raise self.lx.error(self.n, "a computation after the HloModule header")
        return Module(name, attrs, tables, comps, has_header)

    def table(self, pos: int, rows: dict[int, str]) -> int:
        """table ::= keyword (int (string | '{' ... '}'))*"""
        buf = self.buf
        row = _ROW_FAST.match
        while True:
            r = row(buf, pos)
            if r is not None:
                rows[int(r.group(1))] = _clean(r.group(2))
                pos = r.end()
                continue
            p = self.skip(pos)
            m = _INT.match(buf, p)
            if m is None:
                return p
            q = self.skip(m.end())
            if q < self.n and buf[q] in "\"'":
                sm = _STRING.match(buf, q)
                if sm is None:
                    raise self.lx.error(q, "a closed string in the table row")
                end = sm.end()
            elif q < self.n and buf[q] == "{":
                end = self.match_close(q)
            else:
                raise self.lx.error(q, "a string or '{...}' after the row number")
            rows[int(m.group())] = _clean(buf[q:end])
            pos = end

    # -- computation --------------------------------------------------------------------
    def computation(self, pos: int, comps: list[Computation], seen: set[str]) -> int:
        """computation ::= 'ENTRY'? name signature? '{' instruction* '}' (',' execution_thread)?

        Returns the position of the token after it.
        """
        buf = self.buf
        skip = SKIP.match
        h = _COMP_FAST.match(buf, pos)
        if h is not None and h.group(3) not in seen:
            # NOTE: [computation headers] (``_tokens``): what the rules read, in one match.
            entry, _, cname = h.groups()
            comp = Computation(cname, entry is not None, h.start(2))
            pos = h.end() - 1
        else:
            is_entry = False
            m = _ENTRY.match(buf, pos) if buf[pos] == "E" else None
            if m is not None:
                is_entry = True
                pos = skip(buf, m.end()).end()
            m = _PNAME.match(buf, pos)
            if m is None:
                raise self.lx.error(
                    pos, "'HloModule', a table or a computation header such as 'ENTRY %main {'"
                )
            cname = m.group(1)
            if cname in seen:
                raise self.lx.fail(pos, f"computation {cname!r} is defined twice")
            comp = Computation(cname, is_entry, pos)
            pos = skip(buf, m.end()).end()
            if pos < self.n and buf[pos] == "(":
                pos = self.signature(pos)
                pos = skip(buf, pos).end()
            if pos >= self.n or buf[pos] != "{":
                raise self.lx.error(pos, f"'{{' to open the body of computation {cname!r}")
        seen.add(cname)
        comps.append(comp)
        self._current = comp
        pos = self.instruction_list(pos + 1, comp, comps)
        # XLA prints a non-main thread after the body: '}, execution_thread="x"'.
        p = skip(buf, pos).end()
        if p < self.n and buf[p] == ",":
            p = self.skip(p + 1)
            am = _ATTR_NAME.match(buf, p)
            if am is None or am.group(1) != "execution_thread":
                raise self.lx.error(p, "'execution_thread=' after the computation body")
            p = self.skip(am.end())
            sm = _STRING.match(buf, p)
            if sm is None:
                raise self.lx.error(p, "a quoted execution thread name")
            comp.execution_thread = sm.group()[1:-1]
            p = skip(buf, sm.end()).end()
        return p

    def signature(self, pos: int) -> int:
        """signature ::= '(' (name ':' shape (',' name ':' shape)*)? ')' '->' shape"""
        buf = self.buf
        fm = _SIG_FAST.match(buf, pos)
        if fm is not None:
            # Parameters of plain array types (the common case): one match, and the
            # result too when it is a plain array with its layout ('}' last: the shape
            # rule reads one layout), or one that no layout follows.
            end = fm.end()
            start = fm.start(1)
            if start < 0 or (buf[end - 1] != "}" and _LAYOUT.match(buf, end) is not None):
                _, _, end = self.shape(start if start >= 0 else end)
            return end
        pos = self.skip(pos + 1)
        if pos < self.n and buf[pos] != ")":
            while True:
                m = _PNAME.match(buf, pos)
                if m is None:
                    raise self.lx.error(pos, "a parameter name in the signature")
                pos = self.expect(m.end(), ":", "':' after the parameter name")
                _, _, pos = self.shape(pos)
                pos = self.skip(pos)
                if pos < self.n and buf[pos] == ",":
                    pos = self.skip(pos + 1)
                    continue
                break
        pos = self.expect(pos, ")", "',' or ')' in the computation signature")
        pos = self.expect(pos, "->", "'->' and the result shape")
        _, _, pos = self.shape(pos)
        return pos

    def instruction_list(self, pos: int, comp: Computation, comps: list[Computation]) -> int:
        """instruction* '}' : returns the position after the closing brace."""
        buf = self.buf
        n = self.n
        instrs = comp.instrs
        # One unpack instead of a dozen lookups: this runs once per computation, and
        # a third of optimized HLO's computations are fusion bodies of a few lines.
        (
            fast,
            ops_simple,
            attr_fast,
            ops_typed,
            typed_name,
            typed_dtype,
            index_comment,
            fast_rare,
            typecache,
            intern,
            typed,
            skip,
            opcodes,
        ) = self._hot
        startswith = buf.startswith
        next_line = _NEXT_LINE
        while True:
            # The fast pattern takes the line break and indent before an instruction
            # itself; comments or the closing brace go the long way.
            m = fast(buf, pos)
            if m is None:
                pos = skip(buf, pos).end()
                if pos >= n:
                    raise self.lx.error(
                        pos, f"an instruction or '}}' closing computation {comp.name!r}"
                    )
                if buf[pos] == "}":
                    return pos + 1
                m = fast(buf, pos)
            if m is not None:
                is_root, name, typ, opcode, first, second, rest, ops = m.groups()
                # The opcode's first string, whether it ends in '-start' (async sugar),
                # and whether its operand is a number or a literal (one lookup).
                ohit = opcodes.get(opcode)
                if ohit is None:
                    ohit = opcodes[opcode] = (
                        intern(opcode, opcode),
                        opcode.endswith("-start"),
                        opcode == "parameter" or opcode == "constant",
                    )
                opcode, is_start, special = ohit
                if special:
                    if ops is None:
                        ops = buf[m.end(4) + 1 : m.end() - 1]  # a name: the literal's text
                    names = ops
                    if "/" in ops:
                        m = None  # a comment in a literal: the rules read it
                elif first is not None and (not rest or "[" not in rest):
                    # Names as XLA prints them (the pattern's groups 5 to 7). A bare 's4'
                    # is a type to XLA's lexer: the rules decide.
                    if second is None:
                        names = [first]
                        if first in PRIMITIVE_TYPES:
                            m = None
                    elif not rest:
                        names = [first, second]
                        if first in PRIMITIVE_TYPES or second in PRIMITIVE_TYPES:
                            m = None
                    else:
                        names = (first + ", " + second + rest.replace("%", "")).split(
                            ", ", rest.count(",") + 1
                        )
                        if not PRIMITIVE_TYPES.isdisjoint(names):
                            m = None
                else:
                    if ops is None:
                        ops = buf[m.end(4) + 1 : m.end() - 1]  # three or more typed operands
                    if "/" in ops:
                        # XLA's '/*index=5*/' operand numbers, dropped: 1% of the
                        # instructions of optimized HLO, but a tenth of its parse
                        # when they took the rules (issue 23).
                        ops = index_comment("", ops)
                    if not ops or ops.isspace():
                        names = []
                    elif ops_simple(ops):
                        # A plain name list, just matched (str methods: a third of a
                        # findall's time, on every instruction).
                        names = plain_names(ops)
                        if not PRIMITIVE_TYPES.isdisjoint(names):
                            m = None  # a bare 's4' is a type to XLA's lexer: the rules decide
                    elif "[" in ops and ops_typed(ops):
                        names = typed_name(ops)
                        if not PRIMITIVE_TYPES.issuperset(typed_dtype(ops)):
                            m = None
                    else:
                        m = None
                if m is not None and name in PRIMITIVE_TYPES:
                    m = None
            if m is not None:
                # NOTE: [one string per distinct text] (``_lower``): the tree and the
                # graph keep the first string seen of each type text and opcode.
                hit = typed.get(typ)
                if hit is None:
                    tinfo = typecache.get(typ)
                    if tinfo is None:
                        _, tinfo, _ = self.shape(m.start(3))
                    hit = typed[typ] = (typ, tinfo)
                typ, tinfo = hit
                attrs = _NO_ATTRS  # until one is read (a dict each: 2% of a GPT-2's load)
                pos = m.end()
                # The attribute fast path, inlined (attribute_list does the same).
                # The next line starts an instruction or closes the computation (as
                # XLA prints them): no ',' and so no attribute follows, and neither
                # the attribute pattern nor a skip needs to try (one str call).
                while not startswith(next_line, pos):
                    attrs = {} if attrs is _NO_ATTRS else attrs
                    a = attr_fast(buf, pos)
                    if a is not None:
                        k, v, v3 = a.group(1, 2, 3)
                        if (v is not None or k not in INT_LIST_ATTRS) and k not in attrs:
                            v = v or v3
                            if v is None:
                                v = fast_rare(k, a)
                                if v is not None:
                                    attrs[k] = v
                                    pos = a.end()
                                    continue
                            # NOTE [strings read to the quote] (``_tokens``).
                            elif (
                                "\\" not in v
                                and "\n" not in v
                                and (k not in _COMP_REFS or v[0] != "{" or "=" not in v)
                            ):
                                attrs[k] = v
                                pos = a.end()
                                continue
                    p = skip(buf, pos).end()
                    if p < n and buf[p] == ",":
                        pos = self.attribute(p + 1, attrs)
                        continue
                    break
                # The operands start after the opcode's '(' (NOTE [positions as offsets]).
                npos = m.start(2)
                ops_pos = m.end(4) + 1
                if special:
                    names = names.strip()
                    # ASCII digits: the int special_operand's rule reads, without its regex.
                    if opcode == "parameter" and names.isdigit() and names.isascii():
                        names = int(names)
                    else:
                        names = self.special_operand(opcode, names, ops_pos)
                instrs.append(
                    (
                        name,
                        is_root is not None,
                        typ,
                        tinfo,
                        opcode,
                        names,
                        attrs,
                        npos,
                        ops_pos - npos,
                    )
                )
                if is_start:
                    self.async_sugar(comp, comps)
            else:
                pos = self.instruction(skip(buf, pos).end(), comp, comps)
                if instrs[-1][4].endswith("-start"):
                    self.async_sugar(comp, comps)

    def attribute_list(self, pos: int, attrs: dict[str, str]) -> int:
        """(',' attribute)* after an instruction's operands; the fast path first."""
        buf = self.buf
        n = self.n
        attr_fast = _ATTR_FAST.match
        while True:
            a = attr_fast(buf, pos)
            if a is not None:
                k, v, v3 = a.group(1, 2, 3)
                if (v is not None or k not in INT_LIST_ATTRS) and k not in attrs:
                    v = v or v3
                    if v is None:
                        v = _fast_rare(k, a)
                        if v is not None:
                            attrs[k] = v
                            pos = a.end()
                            continue
                    elif (
                        "\\" not in v
                        and "\n" not in v
                        and (k not in _COMP_REFS or v[0] != "{" or "=" not in v)
                    ):
                        attrs[k] = v
                        pos = a.end()
                        continue
                # not an int list where one is required, a repeated attribute or an
                # inline computation: the rules read it
            p = SKIP.match(buf, pos).end()
            if p < n and buf[p] == ",":
                pos = self.attribute(p + 1, attrs)
                continue
            return pos

    def instruction(self, pos: int, comp: Computation, comps: list[Computation]) -> int:
        """instruction ::= 'ROOT'? name '=' shape? opcode '(' operands ')' (',' attribute)*"""
        buf = self.buf
        is_root = False
        m = _ROOT.match(buf, pos)
        if m is not None:
            is_root = True
            pos = self.skip(m.end())
        m = _PNAME.match(buf, pos)
        if m is None:
            raise self.lx.error(
                pos, "an instruction '[ROOT] %name = type opcode(operands), attr=value...'"
            )
        name, name_pos = m.group(1), pos
        if name in PRIMITIVE_TYPES and buf[pos] != "%":
            raise self.lx.error(pos, "an instruction name (a bare primitive type name is not one)")
        pos = self.expect(m.end(), "=", f"'=' after the instruction name {name!r}")
        return self.rhs(pos, name, name_pos, is_root, comp, comps, nested=False)

    def _at_shape(self, pos: int) -> bool:
        """Whether a type starts at ``pos`` (already skipped): a tuple, ``b(`` or ``f32[``."""
        buf = self.buf
        if pos >= self.n:
            return False
        c = buf[pos]
        if c == "(" or buf.startswith("b(", pos):
            return True
        # A primitive type name is a type token to XLA's lexer, never an opcode.
        m = _WORD.match(buf, pos)
        return m is not None and m.group() in PRIMITIVE_TYPES

    def rhs(
        self,
        pos: int,
        name: str,
        name_pos: int,
        is_root: bool,
        comp: Computation,
        comps: list[Computation],
        *,
        nested: bool,
    ) -> int:
        """shape? opcode '(' operands ')' (',' attribute)* ; appends the instruction to ``comp``.

        NOTE: [inferred types] XLA's parser lets the type be left out where its
        ShapeInference can work it out (``_infer.INFERABLE``); we infer it from
        the operands' types as read so far, and reject the instruction with a
        located error where XLA would ("cannot infer shape for opcode").
        A ``nested`` instruction (an operand written as an instruction) takes no
        attributes, as in XLA (``allow_attributes=false``).
        """
        buf = self.buf
        pos = self.skip(pos)
        typ: str | None = None
        tinfo: Any = None
        type_pos = pos
        if self._at_shape(pos):
            typ, tinfo, pos = self.shape(pos)
            typ = self.texts.setdefault(typ, typ)
            pos = self.skip(pos)
        m = _OPCODE.match(buf, pos)
        if m is None:
            raise self.lx.error(pos, f"an opcode after the type of {name!r}")
        opcode = m.group(1)
        op_pos = pos
        pos = self.expect(m.end(), "(", f"'(' after the opcode {opcode!r}")
        ops_pos = pos
        if opcode == "parameter":
            p = self.skip(pos)
            im = _INT.match(buf, p)
            if im is None:
                raise self.lx.error(p, "a parameter number (an int)")
            operands: Any = int(im.group())
            pos = self.expect(im.end(), ")", "')' after the parameter number")
        elif opcode == "constant":
            end = self.match_close(pos - 1)
            operands = _clean(buf[pos : end - 1].strip())
            pos = end
        else:
            operands, pos = self.operands(pos, comp, comps)
        attrs: dict[str, str] = {}
        if not nested:
            pos = self.attribute_list(pos, attrs)
        if typ is None:
            if opcode in ("parameter", "constant"):
                raise self.lx.error(type_pos, f"the type of {opcode} {name!r}")
            typ = self.infer(opcode, operands, attrs, comp, comps, op_pos)
            tinfo = _type_of(self, typ)
        comp.instrs.append(
            (name, is_root, typ, tinfo, opcode, operands, attrs, name_pos, ops_pos - name_pos)
        )
        return pos

    def infer(
        self,
        opcode: str,
        operands: list[str],
        attrs: dict[str, str],
        comp: Computation,
        comps: list[Computation],
        pos: int,
    ) -> str:
        """The type XLA infers for an instruction written without one (see ``_infer``)."""
        if opcode not in INFERABLE:
            raise self.lx.fail(
                pos,
                f"cannot infer the type of {opcode!r} (XLA infers it only for elementwise, "
                "tuple and shape ops); write the result type before the opcode",
            )
        local = self.types_of(comp)
        ops = []
        for oname in operands:
            hit = local.get(oname)
            if hit is None:
                raise self.lx.fail(
                    pos,
                    f"operand {oname!r} of {opcode!r} is not an instruction of computation "
                    f"{comp.name!r} defined before it; its type is needed to infer the result",
                )
            ops.append(hit)

        def root_type(cname: str) -> tuple[str, Any]:
            for c in comps:
                if c.name == cname and c.instrs:
                    root = next((i for i in c.instrs if i[1]), c.instrs[-1])
                    return root[2], root[3]
            raise InferError(f"computation {cname!r} is not defined before its use")

        try:
            return infer_type(opcode, ops, attrs, lambda t: _type_of(self, t), root_type)
        except (InferError, IndexError, ValueError) as exc:
            raise self.lx.fail(pos, f"cannot infer the type of {opcode!r}: {exc}") from None

    def types_of(self, comp: Computation) -> dict[str, tuple[str, Any]]:
        """name -> (type text, TypeInfo) of the instructions of ``comp`` read so far."""
        seen, table = self._types.get(id(comp), (0, {}))
        instrs = comp.instrs
        for i in instrs[seen:]:
            table[i[0]] = (i[2], i[3])
        self._types[id(comp)] = (len(instrs), table)
        return table

    def operands(
        self, pos: int, comp: Computation, comps: list[Computation]
    ) -> tuple[list[str], int]:
        """operands ::= (operand (',' operand)*)? ')' ; operand ::= shape? (name | nested)

        A nested operand is an instruction written in place (``reshape(f32[1,8]
        parameter(0))``); XLA names it ``<opcode>.anon`` (made unique) and adds
        it before its user, as we do.
        """
        buf = self.buf
        names: list[str] = []
        pos = self.skip(pos)
        if pos < self.n and buf[pos] == ")":
            return names, pos + 1
        while True:
            pos = self.skip(pos)
            start = pos
            if self._at_shape(pos):
                _, _, pos = self.shape(pos)
                pos = self.skip(pos)
            m = _PNAME.match(buf, pos)
            if m is None or (m.group(1) in PRIMITIVE_TYPES and buf[pos] != "%"):
                raise self.lx.error(pos, "an operand name")
            after = self.skip(m.end())
            if buf[pos] != "%" and after < self.n and buf[after] == "(":
                # A nested instruction: its type (if any) comes before the opcode.
                anon = self.unique(m.group(1) + ".anon")
                pos = self.rhs(start, anon, start, False, comp, comps, nested=True)
                names.append(anon)
                pos = self.skip(pos)
            else:
                names.append(m.group(1))
                pos = after
            if pos < self.n and buf[pos] == ",":
                pos += 1
                continue
            if pos < self.n and buf[pos] == ")":
                return names, pos + 1
            raise self.lx.error(pos, "',' or ')' after an operand")

    # -- shapes -----------------------------------------------------------------------
    def shape(self, pos: int, depth: int = 0) -> tuple[str, TypeInfo, int]:
        """shape ::= primitive '[' dims ']' layout? | '(' (shape (',' shape)*)? ')'

        Returns (canonical text, TypeInfo, position after the shape).
        """
        buf = self.buf
        pos = SKIP.match(buf, pos).end()
        if depth > _MAX_TUPLE_DEPTH:
            raise self.lx.fail(pos, f"tuple types nested deeper than {_MAX_TUPLE_DEPTH}")
        if buf.startswith("b(", pos):
            # A buffer type ``b(f32[2,4])`` (XLA's Shape::IsBuffer): the array it holds.
            inner, info, p = self.shape(pos + 2, depth + 1)
            p = self.expect(p, ")", "')' to close the buffer type b(...)")
            return f"b({inner})", info, p
        if pos < self.n and buf[pos] == "(":
            elems: list[str] = []
            p = self.skip(pos + 1)
            if p < self.n and buf[p] != ")":
                while True:
                    t, _, p = self.shape(p, depth + 1)
                    elems.append(t)
                    p = self.skip(p)
                    if p < self.n and buf[p] == ",":
                        p = self.skip(p + 1)
                        continue
                    break
            if p >= self.n or buf[p] != ")":
                raise self.lx.error(p, "',' or ')' in the tuple type (unbalanced parentheses?)")
            text = "(" + ", ".join(elems) + ")"
            info = ("tuple", (), None, elems)
            return text, info, p + 1
        m = _ARRAY.match(buf, pos)
        if m is None:
            raise self.lx.error(pos, "a type such as f32[2,3]{1,0} or a tuple '(...)'")
        dtype = m.group(1)
        if dtype not in PRIMITIVE_TYPES:
            raise self.lx.error(pos, "a primitive type (f32, bf16, s32, pred, ...)", repr(dtype))
        end = m.end()
        layout = None
        lm = _LAYOUT.match(buf, end)
        if lm is not None and _LAYOUT_BODY.match(lm.group(1)):
            layout = lm.group(1)
            end = lm.end()
        if lm is not None and layout is None and lm.start(1) - 1 == end:
            # '{' right after ']' is a layout; it must read as one.
            raise self.lx.error(end, "a layout such as {1,0} or {1,0:T(8,128)}")
        text = buf[pos:end]
        if "\n" in text or " " in text or "/" in text:
            text = f"{dtype}[{','.join(d.strip() for d in m.group(2).split(','))}]"
            text = text.replace("[]", "[]") + ("{" + layout.strip() + "}" if layout else "")
            if layout is not None:
                layout = layout.strip()
        hit = self.typecache.get(text)
        if hit is not None:
            return text, hit, end
        dims = m.group(2)
        shape: list[int] = []
        if dims.strip():
            for d in dims.split(","):
                dm = _DIM.match(d)
                if dm is None:
                    raise self.lx.error(m.start(2), f"dimensions such as [2,<=3,?] in {dtype}[...]")
                shape.append(int(dm.group(2)) if dm.group(2) != "?" and not dm.group(1) else -1)
        info = (dtype, tuple(shape), layout, None)
        self.typecache[text] = info
        return text, info, end

    # -- attributes ---------------------------------------------------------------------

    def async_sugar(self, comp: Computation, comps: list[Computation]) -> None:
        """``op-start(...)`` with no ``calls=``: build the wrapped computation as XLA does.

        NOTE: [async sugar] XLA's parser reads ``foo-start`` whose prefix ``foo``
        is an opcode with no native start/done pair as ``async-start`` calling a
        new computation ``async_wrapped`` that holds ``async_param`` parameters
        (one per operand) and one ``foo`` instruction; names are made unique
        module-wide with ``.1``, ``.2``... as XLA does. ``-update``/``-done``
        reuse the computation of their operand (``_lower`` links them). The
        opcode stays the one printed (``custom-call-start``) in our graph.
        """
        instr = comp.instrs[-1]
        opcode = instr[4]
        base, _, suffix = opcode.rpartition("-")
        if suffix != "start" or opcode in NATIVE_ASYNC or base not in SUGAR_WRAPPABLE:
            return
        if "calls" in instr[6]:
            return
        wname = self.unique("async_wrapped")
        wrapped = Computation(wname, False, instr[7], wrapped=True)
        operands = instr[5]
        tinfo = instr[3]
        # The start's type is ((operand types), result, context...): the wrapped
        # op returns element 1 and takes the operand types of element 0.
        elems = tinfo[3] or []
        res_text = elems[1] if len(elems) >= 2 else instr[2]
        res_info = _type_of(self, res_text)
        op_types = (_type_of(self, elems[0])[3] or []) if elems else []
        params = []
        pnames = []
        for k in range(len(operands)):
            t = op_types[k] if k < len(op_types) else res_text
            pname = self.unique("async_param")
            pnames.append(pname)
            params.append(
                (pname, False, t, _type_of(self, t), "parameter", k, {}, instr[7], instr[8])
            )
        attrs = {k: v for k, v in instr[6].items() if k not in _ASYNC_ONLY_ATTRS}
        inner = (
            self.unique(base),
            True,
            res_text,
            res_info,
            base,
            pnames,
            attrs,
            instr[7],
            instr[8],
        )
        wrapped.instrs = [*params, inner]
        new_attrs = dict(instr[6])
        new_attrs["calls"] = "%" + wname
        comp.instrs[-1] = (*instr[:6], new_attrs, *instr[7:])
        comps.append(wrapped)


def _type_of(parser: Parser, text: str) -> TypeInfo:
    hit = parser.typecache.get(text)
    if hit is not None:
        return hit
    sub = Parser(Lexer(text, None))
    sub.typecache = parser.typecache
    return sub.shape(0)[1]


def parse(text: str, source: str | None) -> Module:
    """Run the grammar over ``text``; raises ParseError (with line and column) on bad text."""
    return Parser(Lexer(text, source)).module()
