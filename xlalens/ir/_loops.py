"""Trip counts of ``while`` loops, from XLA's own analysis or the loop's induction pattern.

The cost model (:mod:`xlalens.ir._cost`) multiplies a loop's body by its trip
count; timing calls each kernel of a body that many times per step; ``stats``,
``render`` and ``diff`` print it.

NOTE: [where a trip count comes from]
- Optimized HLO: XLA's ``WhileLoopAnalysis`` writes
  ``backend_config={"known_trip_count":{"n":"6"}, ...}`` on the ``while``
  (checked with jaxlib 0.10.2 on a ``lax.scan`` step). It is taken as is.
- Pre-optimization HLO and StableHLO carry no such attribute, so the loop is
  read as jax, TensorFlow and torch_xla write a counted loop: the condition's
  root compares one element of the loop state (the induction variable) with an
  integer constant; the body's result for that element is the same element plus
  (or minus) an integer constant; the loop's initial value for it is an integer
  constant. ``lax.scan``/``fori_loop`` lower to exactly this
  (``i = 0; while i < n: i = i + 1``).
- Anything else (a data-dependent ``while_loop``, a counter that starts from an
  argument): the count is unknown, the node says so (``trip_count`` None), and
  costs that need it are None rather than a guess.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import networkx as nx

__all__ = ["TripCount", "annotate_loops", "loop_nodes", "trip_count"]

# Node attributes written by annotate_loops (docs/graph-schema.md).
TRIP_ATTR = "trip_count"
SOURCE_ATTR = "trip_count_source"

_FLIP = {"LT": "GT", "LE": "GE", "GT": "LT", "GE": "LE", "NE": "NE", "EQ": "EQ"}


@dataclass(frozen=True, slots=True)
class TripCount:
    """How many times one ``while`` runs its body per execution."""

    n: int | None
    """Iterations per execution of the ``while``; None when not known from the text."""
    source: str
    """``known_trip_count`` (XLA's analysis), ``induction`` (the counter pattern),
    ``saved`` (a graph that already carried it), or ``unknown``."""


def loop_nodes(g: nx.MultiDiGraph) -> list[str]:
    """Node ids of every ``while`` of a graph, in program order."""
    return [nid for nid, d in g._node.items() if d["op"] == "while"]


def _operands(g: nx.MultiDiGraph, nid: str) -> list[str]:
    keyed = [(k, u) for u, keys in g._pred[nid].items() for k in keys]
    keyed.sort()
    return [u for _, u in keyed]


def _int_constant(g: nx.MultiDiGraph, nid: str | None, depth: int = 0) -> int | None:
    """The value of an integer scalar constant (through copies/converts), else None."""
    if nid is None or depth > 4:
        return None
    d = g._node[nid]
    if d["op"] in ("copy", "convert", "reshape", "bitcast") and d["shape"] == ():
        ops = _operands(g, nid)
        return _int_constant(g, ops[0], depth + 1) if len(ops) == 1 else None
    if d["op"] != "constant" or d["shape"] != () or d["dtype"][:1] not in ("s", "u", "i"):
        return None
    attrs = d["attrs"]
    for key in ("value", "literal"):
        v = attrs.get(key)
        if isinstance(v, bool):
            return None
        if isinstance(v, int):
            return v
        if isinstance(v, str):
            try:
                return int(v.strip().strip("{}").strip())
            except ValueError:
                continue
    return None


def _state_index(g: nx.MultiDiGraph, nid: str, comp: str) -> int | None:
    """Which element of the loop state ``nid`` is, inside condition/body ``comp``.

    HLO: ``get-tuple-element(parameter(0)), index=i``; StableHLO: the region's
    block argument ``i``.
    """
    d = g._node[nid]
    if d["computation"] != comp:
        return None
    if d["op"] == "parameter":
        params = g.graph["computations"][comp]["params"]
        if len(params) == 1 and g._node[params[0]]["dtype"] == "tuple":
            return None  # the whole tuple, not an element of it
        return d["param_index"]
    if d["op"] == "get-tuple-element":
        ops = _operands(g, nid)
        idx = d["attrs"].get("index")
        if len(ops) == 1 and g._node[ops[0]]["op"] == "parameter" and isinstance(idx, int):
            return idx
    return None


def _root_value(g: nx.MultiDiGraph, comp: str, i: int | None = None) -> str | None:
    """The value a computation returns (element ``i`` of a tuple/return), if it says."""
    root = g.graph["computations"].get(comp, {}).get("root")
    if root is None:
        return None
    d = g._node[root]
    if d["op"] in ("return", "tuple"):
        ops = _operands(g, root)
        j = 0 if i is None else i
        return ops[j] if j < len(ops) else None
    return root if i is None else None


def _initial(g: nx.MultiDiGraph, nid: str, i: int) -> int | None:
    """The initial value of state element ``i`` of a ``while`` node."""
    ops = _operands(g, nid)
    if len(ops) == 1 and g._node[ops[0]]["op"] == "tuple":
        ops = _operands(g, ops[0])  # HLO: one tuple operand
    elif len(ops) == 1 and g._node[ops[0]]["dtype"] == "tuple":
        return None
    return _int_constant(g, ops[i]) if i < len(ops) else None


def _step(g: nx.MultiDiGraph, body: str, i: int) -> int | None:
    """The constant a body adds to state element ``i`` each iteration."""
    nxt = _root_value(g, body, i)
    if nxt is None:
        return None
    d = g._node[nxt]
    if d["op"] not in ("add", "subtract"):
        return None
    ops = _operands(g, nxt)
    if len(ops) != 2:
        return None
    a, b = ops
    if _state_index(g, a, body) == i and (c := _int_constant(g, b)) is not None:
        return c if d["op"] == "add" else -c
    if d["op"] == "add" and _state_index(g, b, body) == i:
        return _int_constant(g, a)
    return None


def _count(direction: str, init: int, limit: int, step: int) -> int | None:
    """Iterations of ``for (i = init; i <direction> limit; i += step)``."""
    if step == 0:
        return None
    if direction in ("LT", "LE") and step > 0:
        span = limit - init + (1 if direction == "LE" else 0)
        return max(0, math.ceil(span / step))
    if direction in ("GT", "GE") and step < 0:
        span = init - limit + (1 if direction == "GE" else 0)
        return max(0, math.ceil(span / -step))
    if direction == "NE" and (limit - init) % step == 0 and (limit - init) * step >= 0:
        return (limit - init) // step
    return None


def _induction(g: nx.MultiDiGraph, nid: str) -> int | None:
    d = g._node[nid]
    calls = d["calls"]
    cond = d["attrs"].get("condition") or (calls[0] if calls else None)
    body = d["attrs"].get("body") or (calls[1] if len(calls) > 1 else None)
    if not isinstance(cond, str) or not isinstance(body, str):
        return None
    test = _root_value(g, cond)
    if test is None or g._node[test]["op"] != "compare":
        return None
    attrs = g._node[test]["attrs"]
    direction = str(attrs.get("direction") or attrs.get("comparison_direction") or "")
    ops = _operands(g, test)
    if len(ops) != 2 or direction not in _FLIP:
        return None
    i, limit = _state_index(g, ops[0], cond), _int_constant(g, ops[1])
    if i is None or limit is None:
        i, limit = _state_index(g, ops[1], cond), _int_constant(g, ops[0])
        direction = _FLIP[direction]
    if i is None or limit is None:
        return None
    init, step = _initial(g, nid, i), _step(g, body, i)
    if init is None or step is None:
        return None
    return _count(direction, init, limit, step)


def trip_count(g: nx.MultiDiGraph, nid: str) -> TripCount:
    """The trip count of one ``while`` node (NOTE [where a trip count comes from]).

    Args:
        g: an xlalens graph (HLO at any stage, or StableHLO).
        nid: the ``while`` node's id.

    Returns:
        The :class:`TripCount` (``n`` None when unknown).

    Example:
        >>> trip_count(g, "main.71/while.17")  # doctest: +SKIP
        TripCount(n=6, source='known_trip_count')
    """
    d = g._node[nid]
    attrs = d["attrs"]
    if SOURCE_ATTR in attrs:  # annotated already (or a saved graph)
        n = attrs.get(TRIP_ATTR)
        return TripCount(n if isinstance(n, int) else None, str(attrs[SOURCE_ATTR]))
    cfg = attrs.get("backend_config")
    if isinstance(cfg, dict):
        known = cfg.get("known_trip_count")
        if isinstance(known, dict):
            try:
                return TripCount(int(known.get("n")), "known_trip_count")  # type: ignore[arg-type]
            except (TypeError, ValueError):
                pass
    n = _induction(g, nid)
    return TripCount(n, "induction" if n is not None else "unknown")


def annotate_loops(g: nx.MultiDiGraph) -> dict[str, TripCount]:
    """Write ``trip_count`` (int or None) and ``trip_count_source`` into every ``while``'s attrs.

    Returns:
        ``while`` node id -> its :class:`TripCount`.

    Example:
        >>> annotate_loops(g)  # doctest: +SKIP
        {'main.71/while.17': TripCount(n=6, source='known_trip_count')}
    """
    out = {}
    for nid in loop_nodes(g):
        t = trip_count(g, nid)
        attrs: dict[str, Any] = g._node[nid]["attrs"]
        attrs[TRIP_ATTR] = t.n
        attrs[SOURCE_ATTR] = t.source
        out[nid] = t
    return out
