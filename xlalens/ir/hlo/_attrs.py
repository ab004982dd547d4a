"""The HLO grammar's attribute rules (``attribute ::= attr_name '=' value``), after XLA's
``hlo_parser.cc``: the value rule is chosen by the attribute's name (:data:`ATTRIBUTE_RULES`).

:class:`AttributeRules` is a part of :class:`~xlalens.ir.hlo._syntax.Parser` (a mixin): its
methods read the parser's buffer and position like the other rules.
"""

from __future__ import annotations

import re
from typing import Any

from xlalens.ir._sharding import parse_replica_groups
from xlalens.ir.hlo._tokens import (
    _ATTR_NAME,
    _BARE,
    _BRACKET_TOKENS,
    _CLOSERS,
    _INLINE_INSTR,
    _INT,
    _IOTA,
    _MESH,
    _PNAME,
    _ROOT,
    _STRING,
    Computation,
    _clean,
)


class AttributeRules:
    """The attribute rules of the HLO grammar, a part of ``Parser`` (mixed into it)."""

    def match_close(self, pos: int) -> int:
        """Offset just past the bracket closing the one at ``pos`` (strings and comments skipped)."""
        buf = self.buf
        stack = []
        closers = {"(": ")", "[": "]", "{": "}"}
        # NOTE: [brackets as tokens] One ``finditer`` gives the brackets, and the strings
        # and comments whole (C skips them); a quote or '/*' alone is one left open. A
        # search per bracket before: a module header's entry_computation_layout has
        # 2,500, 3% of a parse (issue 23).
        for m in _BRACKET_TOKENS.finditer(buf, pos):
            c = m.group()
            if c in closers:
                stack.append(c)
            elif c in _CLOSERS:
                s = m.start()
                if not stack or closers[stack[-1]] != c:
                    if not stack:
                        raise self.lx.error(s, "an opening bracket first")
                    raise self.lx.error(s, f"{closers[stack[-1]]!r}")
                stack.pop()
                if not stack:
                    return s + 1
            elif c == '"' or c == "'":
                raise self.lx.fail(m.start(), "expected a closing quote, found the end of the text")
            elif c == "/*":
                raise self.lx.fail(
                    m.start(), "expected '*/' to end this comment, found the end of the text"
                )
        if not stack:
            raise self.lx.error(pos, "a bracket")
        line, col, _ = self.lx.where(pos)
        raise self.lx.error(
            self.n, f"{closers[stack[-1]]!r} to close the {stack[-1]!r} of {line}:{col}"
        )

    def special_operand(self, opcode: str, text: str, pos: int) -> Any:
        """parameter ::= int ; constant ::= literal (kept as text)."""
        if opcode == "parameter":
            if not _INT.fullmatch(text):
                raise self.lx.error(pos, "a parameter number (an int)")
            return int(text)
        return _clean(text)

    def unique(self, base: str) -> str:
        """XLA's module-wide name uniquifier: ``base``, then ``base.1``, ``base.2`` ..."""
        k = self.sugar.get(base, 0)
        self.sugar[base] = k + 1
        return base if k == 0 else f"{base}.{k}"

    def attributes(self, pos: int, out: dict[str, str]) -> int:
        """(',' attribute)* : header attributes."""
        buf = self.buf
        while True:
            p = self.skip(pos)
            if p < self.n and buf[p] == ",":
                pos = self.attribute(p + 1, out)
                continue
            return pos

    def attribute(self, pos: int, out: dict[str, str]) -> int:
        """attribute ::= attr_name '=' value ; the value rule comes from ATTRIBUTE_RULES."""
        buf = self.buf
        pos = self.skip(pos)
        m = _ATTR_NAME.match(buf, pos)
        if m is None:
            raise self.lx.error(pos, "an attribute 'name=value' after ','")
        key = m.group(1)
        if key in out:
            raise self.lx.fail(pos, f"attribute {key!r} is given twice; keep one")
        p = self.skip(m.end())
        if p >= self.n:
            raise self.lx.error(p, f"a value for attribute {key!r}")
        rule = ATTRIBUTE_RULES.get(key, AttributeRules.value)
        end = rule(self, p, key)
        if self._inline is not None:
            out[key], self._inline = self._inline, None
        else:
            out[key] = _clean(buf[p:end])
        return end

    def value(self, pos: int, key: str) -> int:
        """value ::= string | '{' ... '}' | '[' ... ']' ... | bare token run (unknown attributes too)."""
        buf = self.buf
        c = buf[pos]
        if c in "\"'":
            m = _STRING.match(buf, pos)
            if m is None:
                raise self.lx.error(pos, f"a closing quote in the value of {key!r}")
            return m.end()
        end = pos
        # A bare value: runs of plain characters and balanced groups, no whitespace.
        while end < self.n:
            c = buf[end]
            if c in "{[(":
                end = self.match_close(end)
            elif c in "\"'":
                m = _STRING.match(buf, end)
                if m is None:
                    raise self.lx.error(end, f"a closing quote in the value of {key!r}")
                end = m.end()
            else:
                m = _BARE.match(buf, end)
                if m is None:
                    if c == "/" and not buf.startswith(("//", "/*"), end):
                        end += 1
                        continue
                    break
                end = m.end()
        if end == pos:
            raise self.lx.error(pos, f"a value for attribute {key!r}")
        return end

    def braced(self, pos: int, key: str) -> int:
        """'{' ... '}' (sharding, metadata, frontend_attributes, window, slice, ...)."""
        if self.buf[pos] != "{":
            raise self.lx.error(pos, f"'{{' to start the value of {key!r}")
        return self.match_close(pos)

    def computation_ref(self, pos: int, key: str) -> int:
        """name | '{' name (',' name)* '}' : called computations."""
        buf = self.buf
        if buf[pos] == "{":
            p = self.skip(pos + 1)
            m = _ROOT.match(buf, p) or _INLINE_INSTR.match(buf, p)
            if m is None:
                return self.match_close(pos)
            return self.inline_computation(pos + 1)
        m = _PNAME.match(buf, pos)
        if m is None:
            raise self.lx.error(pos, f"a computation name for {key!r}")
        return m.end()

    def inline_computation(self, pos: int) -> int:
        """``to_apply={ instruction* }``: a computation written in place of its name.

        XLA names it ``_`` (then ``_.1``, ...) and defines it before its user's
        computation; the attribute then reads ``%_`` as if it had been written so.
        """
        comps = self._comps
        current = self._current
        cname = self.unique("_")
        inline = Computation(cname, False, pos)
        self._current = inline
        at = next((k for k, c in enumerate(comps) if c is current), len(comps))
        comps.insert(at, inline)
        end = self.instruction_list(pos, inline, comps)
        self._current = current
        self._inline = "%" + cname
        return end

    def replica_groups(self, pos: int, key: str) -> int:
        """replica_groups ::= '{' int_list* '}' | '[' dims ']<=[' dims ']' ('T(' perm ')')?
        | 'mesh[' axes ']' (','? 'device_ids=' ('[' ids ']' | '(' ids ')' | '([' dims ']T(' perm '))'))?
          '{' axis* '}'"""
        buf = self.buf
        c = buf[pos]
        if c == "{":
            return self.match_close(pos)
        if c == "[":
            m = _IOTA.match(buf, pos)
            if m is None:
                raise self.lx.error(pos, "iota replica groups such as [4,2]<=[8]")
            return m.end()
        m = _MESH.match(buf, pos)
        if m is None:
            raise self.lx.error(
                pos, "replica groups: '{{0,1},...}', '[4,2]<=[8]' or \"mesh['x'=4] {'x'}\""
            )
        p = self.skip(m.end())
        if p >= self.n or buf[p] != "{":
            raise self.lx.error(p, "'{' and the mesh axes the groups vary along")
        end = self.match_close(p)
        # XLA's parser CHECK-fails (aborts) on an axis the mesh does not name; we
        # reject it with a ParseError instead.
        if parse_replica_groups(_clean(buf[pos:end])) is None:
            raise self.lx.fail(
                pos,
                "expected mesh replica groups whose axes are the mesh's, such as "
                "mesh['x'=4,'y'=2] {'y'}, found an axis the mesh does not name or a bad size",
            )
        return end

    def int_list(self, pos: int, key: str) -> int:
        """'{' (int (',' int)*)? '}' : dimensions and other int lists."""
        end = self.braced(pos, key)
        inner = self.buf[pos + 1 : end - 1]
        if inner.strip() and not re.fullmatch(r"\s*-?\d+\s*(?:,\s*-?\d+\s*)*", _clean(inner)):
            raise self.lx.error(pos, f"a list of ints such as {{0,1}} for {key!r}")
        return end

    def single_token(self, pos: int, key: str) -> int:
        """One token: dim_labels, padding, comparison_direction, ..."""
        m = _BARE.match(self.buf, pos)
        if m is None:
            raise self.lx.error(pos, f"a value for {key!r}")
        end = m.end()
        # dim_labels carry '->' which _BARE stops at ('-' is plain, '>' is not).
        while self.buf.startswith(">", end):
            m2 = _BARE.match(self.buf, end + 1)
            end = m2.end() if m2 else end + 1
        return end

    # -- async syntax sugar -------------------------------------------------------------


#: Attributes that name one called computation (or hold one written inline).
_COMP_REFS = frozenset(
    {
        "calls",
        "to_apply",
        "condition",
        "body",
        "select",
        "scatter",
        "true_computation",
        "false_computation",
    }
)
#: Attributes whose value must be a list of ints.
INT_LIST_ATTRS = frozenset(
    {
        "dimensions",
        "lhs_contracting_dims",
        "rhs_contracting_dims",
        "lhs_batch_dims",
        "rhs_batch_dims",
    }
)
#: attribute name -> the rule that reads its value (others: ``AttributeRules.value``).
ATTRIBUTE_RULES = {
    "sharding": AttributeRules.braced,
    "metadata": AttributeRules.braced,
    "frontend_attributes": AttributeRules.braced,
    "window": AttributeRules.braced,
    "slice": AttributeRules.braced,
    "source_target_pairs": AttributeRules.braced,
    "output_to_operand_aliasing": AttributeRules.braced,
    "control-predecessors": AttributeRules.braced,
    "statistics": AttributeRules.braced,
    "origin": AttributeRules.value,
    "replica_groups": AttributeRules.replica_groups,
    "dimensions": AttributeRules.int_list,
    "lhs_contracting_dims": AttributeRules.int_list,
    "rhs_contracting_dims": AttributeRules.int_list,
    "lhs_batch_dims": AttributeRules.int_list,
    "rhs_batch_dims": AttributeRules.int_list,
    "dim_labels": AttributeRules.single_token,
    "padding": AttributeRules.single_token,
    "calls": AttributeRules.computation_ref,
    "to_apply": AttributeRules.computation_ref,
    "condition": AttributeRules.computation_ref,
    "body": AttributeRules.computation_ref,
    "select": AttributeRules.computation_ref,
    "scatter": AttributeRules.computation_ref,
    "true_computation": AttributeRules.computation_ref,
    "false_computation": AttributeRules.computation_ref,
    "branch_computations": AttributeRules.braced,
    "called_computations": AttributeRules.braced,
}


# Attributes whose rule reads a braced value as ``match_close`` does (the generic
# ``value`` rule and ``braced``): the nested-brace fast value is theirs only.
_NESTED_OK = frozenset(
    k
    for k, rule in ATTRIBUTE_RULES.items()
    if rule in (AttributeRules.value, AttributeRules.braced)
)


def _fast_rare(key: str, a: Any) -> str | None:
    """The value of a fast attribute match in group 4 (nested braces) or 5 (dim labels),
    where the attribute's own rule would read the same text; None sends it to the rules."""
    v = a.group(4)
    if v is not None:
        return v if key in _NESTED_OK or key not in ATTRIBUTE_RULES else None
    return a.group(5) if key == "dim_labels" else None
