"""Decoders of attribute values kept as text: escapes, scalars, int lists, key=value maps."""

from __future__ import annotations

import json
import math
import re
from typing import Any

__all__ = [
    "decode_json_or_raw",
    "decode_kv",
    "decode_value",
    "literal_value",
    "unquote",
]

_ESCAPE_RE = re.compile(r"\\(?:([0-7]{1,3})|x([0-9a-fA-F]{1,2})|(.))", re.S)
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}
_INT_LIST_RE = re.compile(r"\{\s*(?:-?\d+\s*(?:,\s*-?\d+\s*)*)?\}$")
_BOOL_LIST_RE = re.compile(r"\{\s*(?:(?:true|false)\s*(?:,\s*(?:true|false)\s*)*)?\}$")
_INT_RE = re.compile(r"-?\d+$")
_KV_RE = re.compile(r'\s*([\w\-.]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,}]*)', re.S)
_KEY_RE = re.compile(r"\s*([\w\-.]+)\s*=\s*")
_QUOTED_RE = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)


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


def unquote(s: str) -> str:
    """The text of a quoted string token (``"..."`` or ``'...'``), escapes undone."""
    body = s[1:-1]
    if "\\" not in body:
        return body
    return _unescape_c(body)


def decode_value(raw: str) -> Any:
    """An attribute value as plain data: ints, bools, int lists, strings; else raw text."""
    c = raw[0]
    if c == '"':
        return unquote(raw)
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


def decode_json_or_raw(raw: str) -> Any:
    """backend_config: a JSON object (quoted or bare braces) decoded, else the text."""
    text = unquote(raw) if raw[0] == '"' else raw
    if not text:
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def decode_kv(raw: str) -> dict[str, Any]:
    """``{k="v",k2=v2}`` (frontend_attributes) -> dict."""
    out: dict[str, Any] = {}
    if "{" not in raw[1:-1] and "[" not in raw[1:-1]:
        for m in _KV_RE.finditer(raw, 1, len(raw) - 1):
            v = m.group(2).strip()
            out[m.group(1)] = unquote(v) if v.startswith('"') else v
        return out
    # NOTE: [nested frontend attributes] jax 0.10 writes the module's Shardy meshes
    # unquoted: ``frontend_attributes={xla.sdy.meshes={mesh = #sdy.mesh<["data"=4,
    # "model"=2]>}}``; a value then runs to the comma at bracket depth 0.
    pos, end = 1, len(raw) - 1
    while pos < end:
        m = _KEY_RE.match(raw, pos, end)
        if m is None:
            break
        i = m.end()
        if i < end and raw[i] == '"':
            q = _QUOTED_RE.match(raw, i, end)
            if q is None:
                break
            out[m.group(1)] = unquote(q.group(0))
            i = q.end()
        else:
            depth = 0
            j = i
            while j < end and (depth or raw[j] != ","):
                c = raw[j]
                if c in "{[(<":
                    depth += 1
                elif c in "}])>":
                    depth = max(depth - 1, 0)
                elif c == '"':
                    q = _QUOTED_RE.match(raw, j, end)
                    j = q.end() - 1 if q else j
                j += 1
            out[m.group(1)] = raw[i:j].strip()
            i = j
        while i < end and raw[i] in ", \n\t":
            i += 1
        pos = i
    return out


def literal_value(lit: str) -> Any:
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
