"""THE per-node cost model: FLOPs and bytes of one HLO node, from shapes and attributes.

Diff, timing and render all ask :func:`node_cost` (or :func:`node_flops` /
:func:`node_bytes`); nothing else in xlalens estimates FLOPs.

NOTE: [FLOP conventions] Matching XLA's ``HloCostAnalysis`` (checked against
``cost_analysis()`` of single-op modules compiled by jax in
tests/core/test_cost.py), except that transcendental ops count one FLOP per
element here (XLA reports them apart as ``transcendentals``):

- elementwise: one per result element;
- dot: ``2 * result elements * contracted size``;
- convolution: ``2 * output batch * output features * kernel input features *
  prod(valid (output, kernel) position pairs per spatial dim)``: padding,
  stride, lhs/rhs dilation and feature/batch groups (depthwise) included;
- reduce: ``input elements - result elements`` (per reduced value);
- reduce-window: ``result elements * (window elements - 1)``;
- sort: ``n * log2(n)`` over all ``n`` elements;
- custom calls to library kernels (oneDNN, cuBLAS, cuDNN, ynn: matmuls and
  convolutions) read from their operands, result and attributes;
- data movement and unknown custom calls: 0 (or None when the call's target
  is unknown and it is a kernel of its own: see ``node_cost``);
- ``while``: its body times the trip count plus its condition once more
  (``n * body + (n + 1) * condition``), with the trip count from
  :mod:`xlalens.ir._loops`; None when the count is unknown. XLA's own
  ``cost_analysis()`` counts a body once (a ``lax.scan`` over 6 layers read
  41.8 MFLOP against 224.4 MFLOP unrolled, issue 20): :func:`module_cost`
  gives both totals so that callers can correct XLA's number.

Bytes: operands read (each distinct operand once) plus the result written,
with sub-byte element sizes from ``xlalens.ir._ops``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import networkx as nx

from xlalens.ir._loops import trip_count
from xlalens.ir._ops import NO_FLOP_OPCODES, TRIVIAL_OPCODES, dtype_bytes

__all__ = [
    "Cost",
    "ModuleCost",
    "by_computation",
    "computation_flops",
    "conv_flops",
    "dot_flops",
    "module_cost",
    "node_bytes",
    "node_cost",
    "node_cost_flops",
    "node_flops",
    "xla_cost_with_loops",
]

_ARRAY_RE = re.compile(r"([a-z][a-z0-9]*)\[([^\]]*)\]")
_DIM_RE = re.compile(r"\d+")
_MATMUL_TARGETS = re.compile(r"matmul|gemm|cublas|\$dot|ynn.*dot", re.I)
_CONV_TARGETS = re.compile(r"conv", re.I)


@dataclass(frozen=True, slots=True)
class Cost:
    """Estimated work of one node (or kernel)."""

    flops: float | None
    """Floating-point (and integer) operations; None when not knowable from the text."""
    bytes: float | None
    """Bytes read (distinct operands) plus written (result); None for unknown dtypes."""


def _numel(shape: Any) -> int:
    n = 1
    for d in shape:
        n *= max(int(d), 0)
    return n


def _operands(g: nx.MultiDiGraph, nid: str) -> list[dict]:
    """Operand node dicts in operand order."""
    pred = g._pred[nid]
    keyed = []
    for u, keys in pred.items():
        for k in keys:
            keyed.append((k, u))
    keyed.sort()
    nodes = g._node
    return [nodes[u] for _, u in keyed]


def _type_bytes(text: str) -> float | None:
    total = 0.0
    for dtype, dims in _ARRAY_RE.findall(text):
        size = dtype_bytes(dtype)
        if size is None:
            return None
        n = 1
        for d in _DIM_RE.findall(dims):
            n *= int(d)
        total += n * size
    return total


def _result_bytes(d: dict) -> float | None:
    if d["dtype"] == "tuple":
        return _type_bytes(d["type"])
    size = dtype_bytes(d["dtype"])
    return None if size is None else size * _numel(d["shape"])


def _through_bitcasts(g: nx.MultiDiGraph, nid: str) -> str:
    """The node a chain of bitcasts/reshapes ends at (walking towards operands)."""
    for _ in range(8):
        d = g._node[nid]
        if d["op"] not in ("bitcast", "reshape", "copy") or len(g._pred[nid]) != 1:
            break
        nid = next(iter(g._pred[nid]))
    return nid


def _in_place_update(g: nx.MultiDiGraph, nid: str) -> str | None:
    """The ``dynamic-update-slice`` a node's result is (through bitcasts), if it updates in place.

    XLA runs a dynamic-update-slice in the buffer of its operand 0 (it aliases):
    only the update is read and written, as its ``HloCostAnalysis`` counts it.
    """
    root = _through_bitcasts(g, nid)
    if g._node[root]["op"] != "dynamic-update-slice":
        return None
    return root


def _param_bytes_used(g: nx.MultiDiGraph, param: str, full: float) -> float:
    """Bytes a fused computation reads from one parameter: slices only, when it only slices it.

    A parameter read only as operand 0 of ``dynamic-slice``s costs their results
    (a scan body's ``dynamic-slice`` of a stacked ``f32[6,128,384]`` weight reads
    one layer); one read only as the in-place operand 0 of a
    ``dynamic-update-slice`` costs nothing here (the update is counted with the
    result). Any other use reads it whole.
    """
    used = 0.0
    users = [(v, k) for v, keys in g._succ[param].items() for k in keys]
    if not users:
        return full
    for v, k in users:
        d = g._node[v]
        if d["op"] == "bitcast" and k == 0:
            used += _param_bytes_used(g, v, full)
        elif d["op"] == "dynamic-slice" and k == 0:
            used += _result_bytes(d) or full
        elif d["op"] == "dynamic-update-slice" and k == 0:
            continue
        else:
            return full
    return min(used, full)


def node_bytes(g: nx.MultiDiGraph, nid: str) -> float | None:
    """Bytes one node reads (each distinct operand once) and writes (its result).

    A ``dynamic-slice`` reads only its slice and a ``dynamic-update-slice``
    reads and writes only its update (in place), in a fusion too, as XLA's
    ``HloCostAnalysis`` counts them: a scanned step's per-layer slices of its
    stacked weights then cost what its unrolled twin's per-layer weights cost.

    Example:
        >>> node_bytes(g, "main/dot.1")  # doctest: +SKIP
        294912.0
    """
    d = g._node[nid]
    total = _result_bytes(d)
    if total is None:
        return None
    op = d["op"]
    params: list[str] = []
    if op == "fusion" and len(d["calls"]) == 1:
        comp = g.graph["computations"].get(d["calls"][0], {})
        params = comp.get("params") or []
        root = comp.get("root")
        dus = _in_place_update(g, root) if root and d["dtype"] != "tuple" else None
        if dus is not None:
            upd = [u for u, keys in g._pred[dus].items() if 1 in keys]
            total = (_result_bytes(g._node[upd[0]]) or 0.0) if upd else total
    elif op == "dynamic-update-slice":
        upd = [u for u, keys in g._pred[nid].items() if 1 in keys]
        total = (_result_bytes(g._node[upd[0]]) or 0.0) if upd else total
    per_operand: dict[str, float] = {}
    for u, keys in g._pred[nid].items():
        b = _result_bytes(g._node[u])
        if b is None:
            return None
        for k in keys:
            if op == "fusion" and k < len(params):
                used = _param_bytes_used(g, params[k], b)
            elif op == "dynamic-slice" and k == 0:
                used = min(b, _result_bytes(d) or b)
            elif op == "dynamic-update-slice" and k == 0:
                used = 0.0
            else:
                used = b
            per_operand[u] = max(per_operand.get(u, 0.0), used)
    return total + sum(per_operand.values())


def _dims(attrs: dict, key: str) -> list[int]:
    v = attrs.get(key)
    return v if isinstance(v, list) else []


def dot_flops(result_shape: Any, lhs_shape: Any, contracting: list[int]) -> float:
    """``2 * result elements * product of the lhs contracting dims``."""
    k = 1
    for c in contracting:
        if 0 <= c < len(lhs_shape):
            k *= max(lhs_shape[c], 0)
    return 2.0 * _numel(result_shape) * k


def _valid_pairs(size: int, k: int, out: int, stride: int, lo: int, ld: int, rd: int) -> int:
    """Count (output, kernel) index pairs that land on a real (non-padding) input element."""
    span = (size - 1) * ld + 1 if size > 0 else 0
    count = 0
    for ki in range(k):
        off = ki * rd - lo
        for o in range(out):
            pos = o * stride + off
            if 0 <= pos < span and pos % ld == 0:
                count += 1
    return count


def conv_flops(
    lhs_shape: Any,
    rhs_shape: Any,
    out_shape: Any,
    dim_labels: str,
    window: dict | None,
) -> float | None:
    """FLOPs of a convolution (see NOTE [FLOP conventions]); None if dim_labels is unreadable.

    Args:
        lhs_shape, rhs_shape, out_shape: operand and result shapes.
        dim_labels: ``b01f_01io->b01f`` style labels.
        window: ``window_parsed`` (``size``, ``stride``, ``pad``, ``lhs_dilate``,
            ``rhs_dilate``), or None for a 1x1 window.

    Example:
        >>> conv_flops((2, 9, 9, 3), (3, 3, 3, 4), (2, 9, 9, 4), "b01f_01io->b01f",
        ...            {"size": [3, 3], "pad": [[1, 1], [1, 1]]})
        30000.0
    """
    try:
        lhs_l, rest = dim_labels.split("_", 1)
        rhs_l, out_l = rest.split("->")
    except ValueError:
        return None
    if len(lhs_l) != len(lhs_shape) or len(rhs_l) != len(rhs_shape) or len(out_l) != len(out_shape):
        return None
    window = window or {}
    nsp = len(rhs_l) - 2
    sizes = window.get("size") or [rhs_shape[rhs_l.index(str(i))] for i in range(nsp)]
    strides = window.get("stride") or [1] * nsp
    pads = window.get("pad") or [[0, 0]] * nsp
    lds = window.get("lhs_dilate") or [1] * nsp
    rds = window.get("rhs_dilate") or [1] * nsp
    pairs = 1
    for i in range(nsp):
        c = str(i)
        if c not in lhs_l or c not in out_l or i >= len(sizes):
            return None
        pairs *= _valid_pairs(
            lhs_shape[lhs_l.index(c)],
            sizes[i],
            out_shape[out_l.index(c)],
            strides[i] if i < len(strides) else 1,
            pads[i][0] if i < len(pads) else 0,
            lds[i] if i < len(lds) else 1,
            rds[i] if i < len(rds) else 1,
        )
    out_batch = out_shape[out_l.index("b")]
    out_feat = out_shape[out_l.index("f")]
    in_feat = rhs_shape[rhs_l.index("i")]
    return 2.0 * out_batch * out_feat * in_feat * pairs


def _custom_call_flops(d: dict, ops: list[dict]) -> float | None:
    """Library kernels (oneDNN / cuBLAS / cuDNN / ynn): matmuls and convolutions."""
    attrs = d["attrs"]
    target = str(attrs.get("custom_call_target", ""))
    out_shape = d["shape"]
    if d["dtype"] == "tuple":
        # cuBLAS/cuDNN return (result, workspace): the result is element 0.
        first = (attrs.get("tuple_types") or [""])[0]
        m = _ARRAY_RE.match(first)
        out_shape = tuple(int(x) for x in _DIM_RE.findall(m.group(2))) if m else ()
    if _CONV_TARGETS.search(target) and len(ops) >= 2 and "dim_labels" in attrs:
        return conv_flops(
            ops[0]["shape"],
            ops[1]["shape"],
            out_shape,
            str(attrs["dim_labels"]),
            attrs.get("window_parsed"),
        )
    if _MATMUL_TARGETS.search(target) and len(ops) >= 2:
        lhs = ops[0]["shape"]
        contracting = _dims(attrs, "lhs_contracting_dims")
        cfg = attrs.get("backend_config")
        if not contracting and isinstance(cfg, dict):
            dn = cfg.get("dot_dimension_numbers") or (cfg.get("gemm_backend_config") or {}).get(
                "dot_dimension_numbers"
            )
            if isinstance(dn, dict):
                contracting = [int(x) for x in dn.get("lhs_contracting_dimensions", [])]
        if not contracting and lhs:
            contracting = [len(lhs) - 1]  # row-major matmul: lhs[..., k] x rhs[k, ...]
        return dot_flops(out_shape, lhs, contracting)
    return None


def node_flops(g: nx.MultiDiGraph, nid: str) -> float | None:
    """FLOPs of one node by itself (a fusion's or call's body is not included: see node_cost).

    Returns None when the node does work that its text does not size (a custom
    call to an unknown target).

    Example:
        >>> node_flops(g, "main/dot.1")  # doctest: +SKIP
        131072.0
    """
    d = g._node[nid]
    op = d["op"]  # the shared vocabulary: HLO and StableHLO graphs alike
    if op == "dot":
        ops = _operands(g, nid)
        attrs = d["attrs"]
        contracting = attrs.get("lhs_contracting_dims")
        if contracting is None:
            dn = attrs.get("dot_dimension_numbers")  # StableHLO's dot_general
            if isinstance(dn, dict):
                contracting = dn.get("lhs_contracting_dimensions", dn.get("lhs_contracting_dims"))
        if not ops or not isinstance(contracting, list) or any(x < 0 for x in d["shape"]):
            return None
        return dot_flops(d["shape"], ops[0]["shape"], contracting)
    if op == "convolution":
        ops = _operands(g, nid)
        if len(ops) < 2:
            return None
        return conv_flops(
            ops[0]["shape"],
            ops[1]["shape"],
            d["shape"],
            str(d["attrs"].get("dim_labels", "")),
            d["attrs"].get("window_parsed"),
        )
    if op == "reduce":
        ops = _operands(g, nid)
        n_in = len(ops) // 2 or 1
        total = 0.0
        for o in ops[:n_in]:
            total += _numel(o["shape"])
        out = _numel(d["shape"]) if d["dtype"] != "tuple" else total / n_in
        return max(total - out * n_in, 0.0)
    if op == "reduce-window":
        size = (d["attrs"].get("window_parsed") or {}).get("size") or []
        return (
            float(_numel(d["shape"]) * max(math.prod(size) - 1, 0))
            if d["dtype"] != "tuple"
            else None
        )
    if op == "sort":
        ops = _operands(g, nid)
        n = _numel(ops[0]["shape"]) if ops else 0
        return float(n * math.log2(n)) if n > 1 else 0.0
    if op == "custom-call":
        return _custom_call_flops(d, _operands(g, nid))
    if op in NO_FLOP_OPCODES or d["dtype"] in ("tuple", "token", "none"):
        return 0.0
    shape = d["shape"]
    # min/prod run in C: this is the path of most nodes, once per node per diff or render.
    if shape and min(shape) < 0:
        return None  # a dynamic dimension: the element count is not known
    return float(math.prod(shape))


def by_computation(g: nx.MultiDiGraph) -> dict[str, list[str]]:
    """Computation name -> its node ids in program order."""
    index: dict[str, list[str]] = {}
    for nid, d in g._node.items():
        index.setdefault(d["computation"], []).append(nid)
    return index


def computation_flops(
    g: nx.MultiDiGraph, computation: str, _index: dict | None = None, _seen: frozenset = frozenset()
) -> float | None:
    """FLOPs of one run of a computation: its nodes, plus fused/called bodies.

    Reducer bodies are not added (their cost is in the reduce's formula); a
    ``while`` counts its body once per iteration (None when its trip count is
    unknown); a ``conditional`` makes the total unknown (which branch runs).

    Example:
        >>> computation_flops(g, "fused_computation.3")  # doctest: +SKIP
        8192.0
    """
    index = by_computation(g) if _index is None else _index
    total = 0.0
    for nid in index.get(computation, ()):
        c = node_cost_flops(g, nid, index, _seen | {computation})
        if c is None:
            return None
        total += c
    return total


def node_cost_flops(
    g: nx.MultiDiGraph, nid: str, _index: dict | None = None, _seen: frozenset = frozenset()
) -> float | None:
    """FLOPs of a node including the bodies it runs (fusion, call, async wrappers)."""
    d = g._node[nid]
    op = d["op"]
    if op == "conditional":
        return None
    if op == "while":
        n = trip_count(g, nid).n
        if n is None:
            return None
        index = by_computation(g) if _index is None else _index
        cond, body = _loop_parts(d)
        per = [
            computation_flops(g, c, index, _seen) if c and c not in _seen else 0.0
            for c in (body, cond)
        ]
        if per[0] is None or per[1] is None:
            return None
        return n * per[0] + (n + 1) * per[1]
    if d["calls"] and (op in ("fusion", "call") or op.endswith("-start")):
        index = by_computation(g) if _index is None else _index
        total = 0.0
        for callee in d["calls"]:
            if callee in _seen:
                continue
            c = computation_flops(g, callee, index, _seen)
            if c is None:
                return None
            total += c
        return total
    return node_flops(g, nid)


def node_cost(g: nx.MultiDiGraph, nid: str, index: dict | None = None) -> Cost:
    """FLOPs (bodies of fusions and calls included) and bytes of one node.

    Args:
        g: an HLO graph from ``xlalens.ir``.
        nid: the node id.
        index: computation -> node ids (``by_computation(g)``), to share
            between many calls on one graph.

    Returns:
        The :class:`Cost`.

    Example:
        >>> node_cost(g, "main/fusion.3").flops  # doctest: +SKIP
        16384.0
    """
    return Cost(flops=node_cost_flops(g, nid, index), bytes=node_bytes(g, nid))


def _loop_parts(d: dict) -> tuple[str | None, str | None]:
    """(condition, body) computation names of a ``while`` node (HLO attrs or MLIR regions)."""
    calls = d["calls"]
    cond = d["attrs"].get("condition") or (calls[0] if calls else None)
    body = d["attrs"].get("body") or (calls[1] if len(calls) > 1 else None)
    return (cond if isinstance(cond, str) else None), (body if isinstance(body, str) else None)


@dataclass(frozen=True, slots=True)
class ModuleCost:
    """Work of one run of a module: its kernels (or ops) summed, loops counted as they run."""

    flops: float
    """FLOPs with each loop body counted once per iteration (unknown trip counts: once)."""
    bytes: float
    """Bytes of every kernel (entry instruction, and each loop body's), per iteration."""
    flops_once: float
    """FLOPs with each loop body counted once, as XLA's ``cost_analysis()`` does."""
    bytes_once: float
    """Bytes with each loop body counted once."""
    loops: tuple[tuple[str, int | None, str], ...]
    """``(node id, trip count or None, source)`` of every ``while`` reached from the entry."""
    unknown: int
    """Nodes whose FLOPs or bytes are unknown (left out of the sums), unknown loops included."""

    @property
    def unknown_loops(self) -> int:
        """Loops whose trip count is unknown (their body counted once)."""
        return sum(1 for _, n, _ in self.loops if n is None)


def module_cost(g: nx.MultiDiGraph) -> ModuleCost:
    """FLOPs and bytes of one run of a module, with loop bodies counted per iteration.

    Walks the entry computation: each non-trivial instruction adds its
    :func:`node_cost`; a ``while`` adds its condition and body (recursively, so a
    nested loop multiplies), ``call``s add their callee, a ``conditional`` its
    costliest branch. ``flops_once``/``bytes_once`` are the same sums with every
    trip count taken as 1: the difference is what XLA's ``cost_analysis()``
    misses on a scanned step.

    Example:
        >>> c = module_cost(load("dump/jax/optimized_hlo.txt"))  # doctest: +SKIP
        >>> c.flops / c.flops_once  # doctest: +SKIP
        4.9
    """
    index = by_computation(g)
    comps = g.graph["computations"]
    loops: list[tuple[str, int | None, str]] = []
    unknown = [0]

    def walk(comp: str, seen: frozenset) -> tuple[float, float, float, float]:
        f = b = f1 = b1 = 0.0
        for nid in index.get(comp, ()):
            d = g._node[nid]
            op = d["op"]
            if op in TRIVIAL_OPCODES or op in ("return", "function"):
                continue
            if op == "while":
                t = trip_count(g, nid)
                loops.append((nid, t.n, t.source))
                n = 1 if t.n is None else t.n
                unknown[0] += t.n is None
                cond, body = _loop_parts(d)
                cf, cb, cf1, cb1 = (
                    walk(cond, seen | {cond}) if cond and cond not in seen else (0,) * 4
                )
                bf, bb, bf1, bb1 = (
                    walk(body, seen | {body}) if body and body not in seen else (0,) * 4
                )
                f += n * bf + (n + 1) * cf
                b += n * bb + (n + 1) * cb
                f1 += bf1 + cf1
                b1 += bb1 + cb1
                continue
            callees = [
                c
                for c in d["calls"]
                if c not in seen and comps.get(c, {}).get("kind") in ("function", "branch", "body")
            ]
            if op in ("call", "conditional") and callees:
                parts = [walk(c, seen | {c}) for c in callees]
                if op == "conditional":  # one branch runs: price the costliest
                    parts = [max(parts, key=lambda p: p[0])]
                for p in parts:
                    f, b, f1, b1 = f + p[0], b + p[1], f1 + p[2], b1 + p[3]
                continue
            c = node_cost(g, nid, index)
            if c.flops is None or c.bytes is None:
                unknown[0] += 1
            f += c.flops or 0.0
            f1 += c.flops or 0.0
            b += c.bytes or 0.0
            b1 += c.bytes or 0.0
        return f, b, f1, b1

    entry = g.graph["entry"]
    f, b, f1, b1 = walk(entry, frozenset({entry}))
    return ModuleCost(
        flops=f, bytes=b, flops_once=f1, bytes_once=b1, loops=tuple(loops), unknown=unknown[0]
    )


def xla_cost_with_loops(raw: dict[str, Any], opt_text: str) -> dict[str, Any]:
    """XLA's ``cost_analysis()`` of a module, with its loop bodies counted per iteration.

    NOTE: [loops in the roofline] XLA's ``HloCostAnalysis`` counts a ``while``
    body once (a 6-layer ``lax.scan`` step read 41.8 MFLOP against 224.4 MFLOP
    unrolled, issue 20). Where the optimized HLO has loops, :func:`module_cost`
    prices the module twice, with every trip count and with every count taken
    as 1, and the difference is added to XLA's numbers: a module without loops
    keeps XLA's numbers exactly, and a scanned step reads what its unrolled twin
    reads.

    Args:
        raw: XLA's cost dict (``flops``, ``bytes accessed``, ...).
        opt_text: the optimized HLO text it was computed for.

    Returns:
        ``flops``, ``bytes_accessed`` (corrected), ``raw`` (XLA's dict), and for
        modules with loops ``xla_flops``, ``xla_bytes_accessed`` and ``loops``
        (``node``, ``trip_count``, ``source``; None: unknown, counted once).

    Example:
        >>> xla_cost_with_loops(exe.cost_analysis(), exe.as_text())["flops"]  # doctest: +SKIP
        2836082175.0
    """
    from xlalens._errors import ParseError
    from xlalens.ir.hlo import parse_hlo_text

    cost: dict[str, Any] = {
        "flops": raw.get("flops"),
        "bytes_accessed": raw.get("bytes accessed"),
        "raw": raw,
    }
    if " while(" not in opt_text:
        return cost
    try:
        mc = module_cost(parse_hlo_text(opt_text, stage="optimized_hlo"))
    except ParseError:
        return cost
    if not mc.loops:
        return cost
    cost["xla_flops"], cost["xla_bytes_accessed"] = cost["flops"], cost["bytes_accessed"]
    if cost["flops"] is not None:
        cost["flops"] = cost["flops"] + mc.flops - mc.flops_once
    if cost["bytes_accessed"] is not None:
        cost["bytes_accessed"] = cost["bytes_accessed"] + mc.bytes - mc.bytes_once
    cost["loops"] = [
        {"node": nid.split("/", 1)[-1], "trip_count": n, "source": src} for nid, n, src in mc.loops
    ]
    return cost
