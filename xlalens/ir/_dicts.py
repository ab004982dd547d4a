"""Node, edge and attribute dicts that share one key table (CPython's split tables).

The HLO reader builds every node dict, operand edge dict and most ``attrs`` dicts
as a copy of a template (:func:`split_template`), and ``annotate`` the edges that
get a per-device shape; ``copy()`` of the template is a plain ``dict`` whose keys
live in the template's shared table, so each copy stores only its values.
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["ATTRS_TEMPLATES", "attrs_template", "split_template", "with_key"]


def split_template(fields: dict[str, Any]) -> dict[str, Any]:
    """A dict of ``fields`` whose copies share one key table (CPython's split table).

    NOTE: [one key table for every node]
    A plain 21-key dict stores its keys, their hashes and its values in its own
    table (about 460 bytes). A dict made as an instance ``__dict__`` keeps the
    keys in one table shared by the class, and ``dict.copy()`` of it shares that
    table too, so each node dict holds only its values and is built as fast as
    the literal. It is a plain ``dict`` in every other way: adding a key later
    gives that one dict its own table, as CPython does for any split dict.

    NOTE: [a values array sized to the fields]
    A copy's values array has a slot for every key the shared table has room
    for, not only for the keys it holds: CPython 3.11 gives a class's table room
    for 30 keys and takes one off for each instance created (its
    ``_PyObject_InitInlineValues``), so a template made from the class's first
    instance gives its 21-key copies 29 slots (272 bytes each) and its 4-key
    edge copies 29 too (a 4-key literal is smaller). Instances created first,
    and dropped, use that room up: the template gets the fewest slots that
    still leave its table split, a number found by trying once per key count
    (``_find_pad``), so that another CPython's rule costs nothing: where no
    padding makes a smaller copy, the template is a plain dict. Node and edge
    dicts, and ``attrs`` dicts through one template per list of names: on a
    156k-instruction module 64 bytes less per node, 80 per edge and about 96
    per non-empty ``attrs`` (38 MB; issue 23). A key added later makes that one
    dict a plain one again, sized for growth (a 5-key one: 272 bytes, not 184), so
    the keys the reader's own steps add go in through a template of the longer
    key list instead: the sharded edges' ``device_shape`` (NOTE [edges with a
    device shape] in ``xlalens.ir._collectives``) and the canonical ``reducer``
    (:func:`with_key`).
    """
    pad = _PADS.get(len(fields))
    if pad is None:
        pad = _PADS[len(fields)] = _find_pad(fields)
    return _padded(fields, pad) if pad >= 0 else dict(fields)


_PADS: dict[int, int] = {}
"""Key count -> instances to create before the template (-1: no split copy is smaller)."""


def _padded(fields: dict[str, Any], pad: int) -> dict[str, Any]:
    cls = type("_Fields", (), {})
    for _ in range(pad):
        cls()  # each instance takes one slot of room off the shared table
    obj = cls()
    for key, value in fields.items():
        setattr(obj, key, value)
    return obj.__dict__


def _find_pad(fields: dict[str, Any]) -> int:
    """The padding whose template gives the smallest copies (NOTE above), or -1."""
    best, best_size = -1, sys.getsizeof(dict(fields).copy())
    last = -1
    for pad in range(64):
        size = sys.getsizeof(_padded(fields, pad).copy())
        if size < best_size:
            best, best_size = pad, size
        elif best >= 0 or size == last:
            # The room is used up (the table stopped being shared), or padding changes
            # nothing (too many keys for a shared table, or another CPython's rule).
            break
        last = size
    return best


ATTRS_TEMPLATES: dict[tuple[str, ...], Any] = {}
"""Attribute names (in order) -> the ``copy`` of their template, or None (not smaller)."""
ATTRS_TEMPLATES_MAX = 512  # a class each: about 1 KB, kept for the process


def attrs_template(names: tuple[str, ...]) -> Any:
    """The ``copy`` method of a split template for an ``attrs`` dict of ``names``, or None."""
    if len(ATTRS_TEMPLATES) >= ATTRS_TEMPLATES_MAX:
        return None
    if any(n[:2] == "__" for n in names):
        # ``__class__``, ``__dict__``...: an attribute of any instance, not a field of
        # one (setattr would refuse or hit the type); such attrs stay plain dicts.
        ATTRS_TEMPLATES[names] = None
        return None
    tpl = split_template(dict.fromkeys(names))
    copy = tpl.copy if sys.getsizeof(tpl) < sys.getsizeof(dict.fromkeys(names)) else None
    ATTRS_TEMPLATES[names] = copy
    return copy


def with_key(d: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    """``d`` with ``key`` set to ``value`` (last, when new): a fresh split copy if that is smaller.

    Adding a key to a split dict makes it a plain dict sized for growth (272 bytes
    for 5 keys, against about 100 as a copy of a template of its names): the
    canonical rules' ``reducer`` did that to 10k ``attrs`` of a 156k-instruction
    module (1.8 MB, issue 23). Returns ``d`` itself, changed, where the key is there
    already or no template is smaller; else a new dict with the same items in the
    same order, which the caller stores in place of ``d`` (so only for dicts no one
    else holds).
    """
    if key in d:
        d[key] = value
        return d
    names = (*d, key)
    tpl = ATTRS_TEMPLATES.get(names, False)
    if tpl is False:
        tpl = attrs_template(names)
    if tpl is None:
        d[key] = value
        return d
    out = tpl()
    out.update(d)
    out[key] = value
    return out
