"""Shardings and replica groups: HLO attribute text -> plain, documented dicts.

The HLO reader keeps each attribute's text in ``attrs[key]`` and, for these two,
adds the decoded form in ``attrs["sharding_parsed"]`` and
``attrs["replica_groups_parsed"]`` (docs/hlo-reader.md, "Shardings and replica
groups"). Device lists are worked out here once, so the sharded-step analyses
read groups of device ids instead of re-parsing XLA's three spellings:

- list:  ``{{0,1},{2,3}}``
- iota:  ``[2,2]<=[4]`` or ``[2,2]<=[2,2]T(1,0)`` (groups x group size, reshape, transpose)
- mesh:  ``mesh['x'=4,'y'=2] {'y'}`` (the groups vary along the listed axes), with
  optional device ids: ``device_ids=[...]``, ``, device_ids=(0,2,1,3)`` or the iota
  ``, device_ids=([4,2]T(1,0))`` (jax 0.10 writes the last in tp steps)

A sharding decodes to ``{"type": ..., ...}`` with ``type`` one of ``replicated``,
``manual``, ``maximal``, ``tiled``, ``tuple``, ``unknown``, ``unreduced``;
``tiled`` carries ``tile_dims`` (the tile assignment shape), ``devices`` (the
device of each tile, row-major) and ``last_tile_dims`` (the kinds of the
trailing subgroup dimensions: ``replicated``, ``manual`` ...).

Text that does not fit these forms decodes to ``None``; the reader then keeps
only the text (an attribute is never an error).
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

__all__ = ["iota_devices", "parse_replica_groups", "parse_sharding"]

_TOK = re.compile(
    r"\s*(?:(?P<int>-?\d+)|(?P<word>[A-Za-z_][\w.\-]*)(?P<eq>=)?|(?P<str>'[^']*'|\"[^\"]*\")"
    r"|(?P<leq><=)|(?P<p>[\[\]{}(),:=]))"
)


def _tokens(text: str) -> list[tuple[str, str]] | None:
    out = []
    pos = 0
    n = len(text)
    while pos < n:
        m = _TOK.match(text, pos)
        if m is None:
            if text[pos:].strip():
                return None
            break
        kind = m.lastgroup
        if kind == "eq":
            out.append(("attr", m.group("word")))
        elif kind == "p":
            out.append((m.group("p"), m.group("p")))
        else:
            out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def iota_devices(reshape: list[int], perm: list[int] | None = None) -> list[int]:
    """Device ids of an iota tile assignment: ``arange(prod).reshape(reshape).transpose(perm)``.

    Args:
        reshape: the ``<=[...]`` dims.
        perm: the ``T(...)`` permutation, or None.

    Returns:
        The flattened device ids.

    Example:
        >>> iota_devices([2, 2], [1, 0])
        [0, 2, 1, 3]
    """
    a = np.arange(math.prod(reshape)).reshape(reshape)
    if perm:
        a = a.transpose(perm)
    return [int(x) for x in a.reshape(-1)]


class _Cursor:
    __slots__ = ("i", "toks")

    def __init__(self, toks: list[tuple[str, str]]) -> None:
        self.toks = toks
        self.i = 0

    def peek(self) -> str:
        return self.toks[self.i][0] if self.i < len(self.toks) else "eof"

    def take(self, kind: str) -> str:
        if self.peek() != kind:
            raise ValueError(kind)
        v = self.toks[self.i][1]
        self.i += 1
        return v

    def eat(self, kind: str) -> bool:
        if self.peek() == kind:
            self.i += 1
            return True
        return False

    def ints(self, close: str) -> list[int]:
        out: list[int] = []
        if self.eat(close):
            return out
        while True:
            out.append(int(self.take("int")))
            if self.eat(close):
                return out
            self.take(",")


def _iota(c: _Cursor) -> tuple[list[int], list[int], list[int] | None]:
    """``[dims]<=[reshape]T(perm)?`` after the opening ``[`` of dims has been eaten."""
    dims = c.ints("]")
    c.take("leq")
    c.take("[")
    reshape, perm = _reshape_perm(c)
    return dims, reshape, perm


def _reshape_perm(c: _Cursor) -> tuple[list[int], list[int] | None]:
    """``reshape]T(perm)?`` of an iota list, after its ``[`` has been eaten."""
    reshape = c.ints("]")
    perm = None
    if c.peek() == "word" and c.toks[c.i][1] == "T":
        c.i += 1
        c.take("(")
        perm = c.ints(")")
    return reshape, perm


def _single(c: _Cursor) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "tiled"}
    while c.peek() not in ("}", "eof"):
        kind = c.peek()
        val = c.toks[c.i][1]
        if kind == "word" and val in ("replicated", "manual", "maximal", "unknown", "unreduced"):
            c.i += 1
            out["type"] = val
        elif kind == "word" and val == "last_tile_dim_replicate":
            c.i += 1
            out["last_tile_dims"] = ["replicated"]
        elif kind == "word" and val in ("shard_as", "shard_like"):
            c.i += 1
            out[val] = int(c.take("int"))
        elif kind == "attr" and val == "device":
            c.i += 1
            out["device"] = int(c.take("int"))
        elif kind == "attr" and val == "devices":
            c.i += 1
            c.take("[")
            dims = c.ints("]")
            if c.peek() == "leq":
                c.take("leq")
                c.take("[")
                reshape = c.ints("]")
                perm = None
                if c.peek() == "word" and c.toks[c.i][1] == "T":
                    c.i += 1
                    c.take("(")
                    perm = c.ints(")")
                devices = iota_devices(reshape, perm)
            else:
                devices = [int(c.take("int"))]
                while c.eat(","):
                    devices.append(int(c.take("int")))
            if len(devices) != math.prod(dims):
                raise ValueError("device count")
            out["tile_dims"] = dims
            out["devices"] = devices
        elif kind == "attr" and val == "last_tile_dims":
            c.i += 1
            c.take("{")
            kinds = [c.take("word")]
            while c.eat(","):
                kinds.append(c.take("word"))
            c.take("}")
            out["last_tile_dims"] = kinds
        elif kind == "attr" and val == "metadata":
            # Sharding metadata ({op_name=...}): skipped, it names no device.
            c.i += 1
            depth = 0
            while True:
                k = c.peek()
                if k == "eof":
                    raise ValueError("metadata")
                c.i += 1
                if k == "{":
                    depth += 1
                elif k == "}":
                    depth -= 1
                    if depth == 0:
                        break
        else:
            raise ValueError(val)
    if out["type"] == "tiled" and "devices" not in out:
        raise ValueError("tiled without devices")
    if out["type"] == "maximal" and "device" not in out:
        raise ValueError("maximal without device")
    out.setdefault("last_tile_dims", [])
    return out


def parse_sharding(text: str) -> dict[str, Any] | None:
    """Decode an HLO ``sharding={...}`` value.

    Args:
        text: the braced value, e.g. ``{devices=[2,1]<=[2]}``.

    Returns:
        ``{"type": ...}`` as described in the module docstring, or None when the
        text is not a sharding this decoder knows.

    Example:
        >>> parse_sharding("{devices=[2,1,2]<=[4] last_tile_dim_replicate}")["devices"]
        [0, 1, 2, 3]
    """
    toks = _tokens(text)
    if not toks:
        return None
    c = _Cursor(toks)
    try:
        c.take("{")
        if c.peek() in ("{", "}"):
            elems = []
            if not c.eat("}"):
                while True:
                    c.take("{")
                    elems.append(_single(c))
                    c.take("}")
                    if not c.eat(","):
                        break
                c.take("}")
            out = {"type": "tuple", "tuple": elems}
        else:
            out = _single(c)
            c.take("}")
        if c.peek() != "eof":
            return None
        return out
    except (ValueError, IndexError):
        return None


def parse_replica_groups(text: str) -> dict[str, Any] | None:
    """Decode an HLO ``replica_groups=`` value into device lists.

    Args:
        text: ``{{0,1},{2,3}}``, ``[2,2]<=[4]`` (optionally ``T(...)``) or
            ``mesh['x'=4,'y'=2] {'y'}``.

    Returns:
        ``{"form": "list"|"iota"|"mesh", "groups": [[ids]...]}``, plus ``iota``
        (``{"dims", "reshape", "perm"}``) or ``mesh`` (``{"axes": [[name, size]...],
        "device_ids": [...], "group_axes": [names]}``); None when unknown.

    Example:
        >>> parse_replica_groups("[2,2]<=[4]")["groups"]
        [[0, 1], [2, 3]]
    """
    toks = _tokens(text)
    if not toks:
        return None
    c = _Cursor(toks)
    try:
        kind = c.peek()
        if kind == "{":
            c.take("{")
            groups: list[list[int]] = []
            if not c.eat("}"):
                while True:
                    c.take("{")
                    groups.append(c.ints("}"))
                    if not c.eat(","):
                        break
                c.take("}")
            out: dict[str, Any] = {"form": "list", "groups": groups}
        elif kind == "[":
            c.take("[")
            dims, reshape, perm = _iota(c)
            if len(dims) != 2 or math.prod(dims) != math.prod(reshape):
                return None
            ids = iota_devices(reshape, perm)
            n = dims[1]
            out = {
                "form": "iota",
                "groups": [ids[i : i + n] for i in range(0, len(ids), n)],
                "iota": {"dims": dims, "reshape": reshape, "perm": perm},
            }
        elif kind == "word" and toks[0][1] == "mesh":
            out = _mesh_groups(c)
        else:
            return None
        if c.peek() != "eof":
            return None
        return out
    except (ValueError, IndexError):
        return None


def _axis_name(c: _Cursor) -> str:
    tok = c.take("str") if c.peek() == "str" else c.take("word")
    return tok.strip("'\"")


def _mesh_groups(c: _Cursor) -> dict[str, Any]:
    c.take("word")  # mesh
    c.take("[")
    axes: list[list[Any]] = []
    if not c.eat("]"):
        while True:
            if c.peek() == "attr":
                name = c.take("attr")
            else:
                name = _axis_name(c)
                c.take("=")
            size = int(c.take("int"))
            axes.append([name, size])
            if not c.eat(","):
                break
        c.take("]")
    device_ids = None
    c.eat(",")
    if c.peek() == "attr" and c.toks[c.i][1] == "device_ids":
        c.i += 1
        if c.eat("("):
            if c.eat("["):  # iota: ([reshape]T(perm))
                reshape, perm = _reshape_perm(c)
                c.take(")")
                device_ids = iota_devices(reshape, perm)
            else:
                device_ids = c.ints(")")
        else:
            c.take("[")
            device_ids = c.ints("]")
    c.take("{")
    group_axes: list[str] = []
    if not c.eat("}"):
        while True:
            group_axes.append(_axis_name(c))
            if not c.eat(","):
                break
        c.take("}")
    names = [a[0] for a in axes]
    sizes = [a[1] for a in axes]
    if any(g not in names for g in group_axes) or len(set(names)) != len(names):
        raise ValueError("axis")
    total = math.prod(sizes)
    ids = np.asarray(device_ids if device_ids is not None else range(total))
    if ids.size != total:
        raise ValueError("device_ids")
    grid = ids.reshape(sizes)
    keep = [i for i, n in enumerate(names) if n not in group_axes]
    along = [names.index(g) for g in group_axes]
    size = math.prod(sizes[i] for i in along)
    groups = grid.transpose(keep + along).reshape(-1, size)
    return {
        "form": "mesh",
        "groups": [[int(x) for x in g] for g in groups],
        "mesh": {
            "axes": axes,
            "device_ids": [int(x) for x in ids],
            "group_axes": group_axes,
        },
    }
