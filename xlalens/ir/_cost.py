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
- data movement, control flow and unknown custom calls: 0 (or None when
  the call's target is unknown and it is a kernel of its own: see ``node_cost``).

Bytes: operands read (each distinct operand once) plus the result written,
with sub-byte element sizes from ``xlalens.ir._ops``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import networkx as nx

from xlalens.ir._ops import NO_FLOP_OPCODES, dtype_bytes

__all__ = [
    "Cost",
    "by_computation",
    "computation_flops",
    "conv_flops",
    "dot_flops",
    "node_bytes",
    "node_cost",
    "node_cost_flops",
    "node_flops",
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


def node_bytes(g: nx.MultiDiGraph, nid: str) -> float | None:
    """Bytes one node reads (each distinct operand once) and writes (its result).

    Example:
        >>> node_bytes(g, "main/dot.1")  # doctest: +SKIP
        294912.0
    """
    d = g._node[nid]
    total = _result_bytes(d)
    if total is None:
        return None
    seen = set()
    for u in g._pred[nid]:
        if u in seen:
            continue
        seen.add(u)
        b = _result_bytes(g._node[u])
        if b is None:
            return None
        total += b
    return total


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
    if any(x < 0 for x in d["shape"]):
        return None  # a dynamic dimension: the element count is not known
    return float(_numel(d["shape"]))


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

    Reducer bodies are not added (their cost is in the reduce's formula);
    ``while``/``conditional`` make the total unknown (trip count, branch).

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
    if op in ("while", "conditional"):
        return None
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
