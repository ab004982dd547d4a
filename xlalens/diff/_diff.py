"""``diff(a, b)``: match two graphs, classify the pairs, summarize."""

from __future__ import annotations

import gc
import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

import networkx as nx

from xlalens._errors import UsageError
from xlalens.diff._match import IGNORED_ATTRS, match
from xlalens.diff._model import (
    CHANGED,
    UNCHANGED,
    Change,
    Diff,
    GraphInfo,
    OpCount,
    Pair,
    Summary,
)
from xlalens.ir._cost import node_flops
from xlalens.ir._ops import DTYPE_BITS, NO_FLOP_OPCODES, TRIVIAL_OPCODES

LEVELS = ("raw", "canonical")

# The op table and cost model live in xlalens.ir (one of each for the project).
DTYPE_BYTES = {k: v / 8 for k, v in DTYPE_BITS.items() if v}
NO_FLOP_OPS = NO_FLOP_OPCODES
NOT_KERNELS = TRIVIAL_OPCODES


def _as_graph(x: Any, level: str | None, which: str) -> nx.MultiDiGraph:
    if isinstance(x, nx.MultiDiGraph):
        g = x
    else:
        if isinstance(x, (str, Path)) and not str(x).strip():
            raise UsageError(
                f"{which}: empty input; give an IR file, a saved graph or DIR:frontend[:artifact]"
            )
        from xlalens.ir import load

        g = load(x, level=level or "canonical")
    if g.number_of_nodes() == 0:
        raise UsageError(
            f"{which}: the graph is empty (no instructions); check that the file holds an HLO or "
            "StableHLO module with an entry computation"
        )
    return g


def _info(g: nx.MultiDiGraph) -> GraphInfo:
    ga = g.graph
    src = ga.get("source") or {}
    if src.get("dump") and src.get("frontend"):
        where = f"{Path(str(src['dump'])).name}:{src['frontend']}:{src.get('artifact', '')}".rstrip(
            ":"
        )
    else:
        where = str(src.get("path") or "")
    return GraphInfo(
        module=str(ga.get("module", "")),
        format=str(ga.get("format", "")),
        stage=str(ga.get("stage", "unknown")),
        level=str(ga.get("level", "raw")),
        source=where,
    )


def _plain(v: Any) -> Any:
    if isinstance(v, tuple):
        return [_plain(x) for x in v]
    return v


def classify(da: dict[str, Any], db: dict[str, Any]) -> tuple[Change, ...]:
    """The fields that differ between two node attribute dicts, sorted by field name.

    Args:
        da: node data of the left node (xlalens schema).
        db: node data of the right node.

    Returns:
        One :class:`Change` per differing field; empty when the pair is unchanged.

    Example:
        >>> [c.field for c in classify(g1.nodes[x], g2.nodes[y])]  # doctest: +SKIP
        ['op']
    """
    out = []
    for f in ("op", "dtype", "shape", "layout", "role", "param_index"):
        va, vb = da[f], db[f]
        if f == "shape":
            va, vb = tuple(va), tuple(vb)
        if va != vb:
            out.append(Change(f, _plain(va), _plain(vb)))
    aa, ab = da["attrs"], db["attrs"]
    if aa or ab:
        for k in sorted(set(aa) | set(ab)):
            if k in IGNORED_ATTRS:
                continue
            va, vb = aa.get(k), ab.get(k)
            if va != vb or (k in aa) != (k in ab):
                # Round-trip through JSON so tuples and lists compare and print alike.
                ja = json.loads(json.dumps(va, sort_keys=True, default=str))
                jb = json.loads(json.dumps(vb, sort_keys=True, default=str))
                if ja != jb or (k in aa) != (k in ab):
                    out.append(Change(f"attrs.{k}", ja, jb))
    out.sort(key=lambda c: c.field)
    return tuple(out)


def _numel(shape: tuple) -> int | None:
    if any(d < 0 for d in shape):
        return None
    return math.prod(shape) if shape else 1


def _dot_k(g: nx.MultiDiGraph, n: str, d: dict[str, Any]) -> int | None:
    """Contracted size of a dot from its lhs shape and contracting dims, when known."""
    attrs = d["attrs"]
    dims = attrs.get("lhs_contracting_dims")
    if dims is None:
        dn = attrs.get("dot_dimension_numbers")
        if isinstance(dn, dict):
            dims = dn.get("lhs_contracting_dimensions", dn.get("lhs_contracting_dims"))
    if isinstance(dims, str):
        dims = [
            int(t)
            for t in dims.strip("{}[] ").replace(" ", "").split(",")
            if t.strip().lstrip("-").isdigit()
        ]
    if not isinstance(dims, list):
        return None
    lhs = [u for u, _, k in g.in_edges(n, keys=True) if k == 0]
    if not lhs:
        return None
    shape = g.nodes[lhs[0]]["shape"]
    try:
        return math.prod(shape[i] for i in dims)
    except (IndexError, TypeError):
        return None


def estimate_flops(g: nx.MultiDiGraph) -> int | None:
    """FLOPs of one execution: the sum of ``xlalens.ir._cost.node_flops`` over the nodes.

    Reducer bodies (called per element) are skipped; unknown when a dot's
    contracting dimensions cannot be read or a shape is dynamic.
    """
    comps = g.graph.get("computations", {})
    total = 0.0
    for n, d in g.nodes(data=True):
        if comps.get(d["computation"], {}).get("kind") == "reducer":
            continue
        f = node_flops(g, n)  # xlalens.ir's cost model (dot, convolution, reduce, ...)
        if f is None:
            if d["op"] == "custom-call":
                continue  # an unknown library call: counted as no arithmetic, as before
            return None
        total += f
    return round(total)


def kernels(g: nx.MultiDiGraph) -> list[str] | None:
    """Entry-level nodes of an optimized HLO graph that launch a kernel; ``None`` for other stages."""
    if g.graph.get("stage") != "optimized_hlo":
        return None
    try:
        from xlalens.ir import kernel_nodes
    except ImportError:
        kernel_nodes = None
    if kernel_nodes is not None:
        return list(kernel_nodes(g))
    entry = g.graph.get("entry")
    return [
        n for n, d in g.nodes(data=True) if d["computation"] == entry and d["op"] not in NOT_KERNELS
    ]


def estimate_bytes(g: nx.MultiDiGraph) -> int | None:
    """Bytes the kernels of an optimized graph read and write (operands + results); ``None`` otherwise."""
    ks = kernels(g)
    if ks is None:
        return None
    total = 0
    for n in ks:
        for m in [n, *(u for u, _ in g.in_edges(n))]:
            d = g.nodes[m]
            if d["dtype"] in ("tuple", "token", "none"):
                # A tuple's buffers are counted where get-tuple-element reads them.
                continue
            size = DTYPE_BYTES.get(d["dtype"])
            numel = _numel(tuple(d["shape"]))
            if size is None or numel is None:
                return None
            total += size * numel
    return total


def _summary(g_a, g_b, pairs, m) -> Summary:
    ca = Counter(op for _, op in g_a.nodes(data="op"))
    cb = Counter(op for _, op in g_b.nodes(data="op"))
    hist = tuple(OpCount(op, ca.get(op, 0), cb.get(op, 0)) for op in sorted(set(ca) | set(cb)))
    ka, kb = kernels(g_a), kernels(g_b)
    return Summary(
        unchanged=sum(1 for p in pairs if p.status == UNCHANGED),
        changed=sum(1 for p in pairs if p.status == CHANGED),
        only_a=len(m.only_a),
        only_b=len(m.only_b),
        edit_cost=m.edit_cost,
        nodes=(g_a.number_of_nodes(), g_b.number_of_nodes()),
        edges=m.edges,
        op_histogram=hist,
        kernels=(len(ka), len(kb)) if ka is not None and kb is not None else None,
        flops=(estimate_flops(g_a), estimate_flops(g_b)),
        bytes=(estimate_bytes(g_a), estimate_bytes(g_b)),
    )


def diff(a: Any, b: Any, *, level: str | None = None) -> Diff:
    """Structurally diff two graphs: pair their nodes and classify each pair.

    Matching runs in stages (exact structure, anchors + propagation, similarity,
    leftovers; see docs/diff.md). Graphs of different kinds (e.g. StableHLO vs
    optimized HLO) are allowed; :attr:`Diff.same_kind` and the report headers
    say so.

    Args:
        a: left side: an xlalens graph, or anything ``xlalens.ir.load`` takes (IR
            file or text, saved graph JSON, ``DIR:frontend[:artifact]``).
        b: right side, same choices.
        level: ``"raw"`` or ``"canonical"`` for inputs that still need loading
            (default ``"canonical"``); graphs are used as they are.

    Returns:
        The :class:`Diff`.

    Raises:
        UsageError: an empty graph, an empty input, or an unknown ``level``.
        DumpError, ParseError: from loading a dump entry or IR text.

    Example:
        >>> from xlalens.diff import diff
        >>> d = diff("dump:jax", "dump:torch_xla")  # doctest: +SKIP
        >>> print(d.to_text())  # doctest: +SKIP
    """
    if level is not None and level not in LEVELS:
        raise UsageError(f"level={level!r} is not one of {', '.join(LEVELS)}")
    g_a = _as_graph(a, level, "A")
    g_b = _as_graph(b, level, "B")
    # NOTE: [gc pause] matching allocates many small lists and tuples while two
    # large graphs are alive; the cyclic collector would then rescan every graph
    # object again and again (measured: a third of the time at 10k nodes). Nothing
    # here creates reference cycles, so collection is paused and restored after.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _diff(g_a, g_b)
    finally:
        if was_enabled:
            gc.enable()


def _diff(g_a: nx.MultiDiGraph, g_b: nx.MultiDiGraph) -> Diff:
    opt_a = g_a.graph.get("stage") == "optimized_hlo"
    opt_b = g_b.graph.get("stage") == "optimized_hlo"
    # Across IR levels, the optimized side is matched with its fusions inlined
    # (see NOTE: [flattening fusions across IR levels] in _match.py).
    m = match(g_a, g_b, flatten=(opt_a and not opt_b, opt_b and not opt_a))
    na, nb = g_a.nodes, g_b.nodes
    pairs = []
    for x, y, stage in m.pairs:
        changes = classify(na[x], nb[y])
        pairs.append(Pair(x, y, CHANGED if changes else UNCHANGED, stage, changes))
    return Diff(
        a_info=_info(g_a),
        b_info=_info(g_b),
        pairs=tuple(pairs),
        only_a=m.only_a,
        only_b=m.only_b,
        summary=_summary(g_a, g_b, pairs, m),
        a=g_a,
        b=g_b,
    )
