"""How an optimized XLA:CPU module accumulates each summing reduction (NOTE: [sequential
accumulation]), and which results depend on it, directly or only through a parameter
update (NOTE: [attenuation through updates], [attenuation per update] in ``_bound.py``)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from xlalens.proof._model import _FLOAT_HLO


@dataclass(frozen=True, slots=True)
class Accumulation:
    """One summing reduction of an optimized XLA module, and how the compiler accumulates it."""

    name: str
    """The instruction's name in the optimized module."""
    opcode: str
    """``dot``, ``convolution``, ``reduce`` or ``reduce-window``."""
    length: int
    """``K``: terms summed into each output element."""
    sequential: bool
    """True when XLA emits it itself (one running sum per output, K - 1 additions in a
    chain); False inside a library kernel (a ``kCustom`` fusion: YNNPACK, oneDNN) or
    for a bare dot with a matrix result (Eigen's blocked contraction)."""
    kernel: str
    """The entry-level instruction (kernel) that runs it."""
    results: tuple[int, ...] | None
    """Positions of the module's results that depend on it; None: all (not traced)."""
    attenuated: tuple[int, ...] = ()
    """Those of ``results`` that depend on it only through a parameter update they read
    (NOTE: [attenuation through updates] in :func:`error_bound`); empty unless asked."""
    outputs: int = 0
    """Its output elements (0: unknown)."""
    reached: tuple[tuple[int, ...], ...] = ()
    """Per result in ``attenuated``: the updated results (positions) it reaches that
    result through (NOTE: [attenuation per update])."""


# Fusions whose body a library runs (blocked, vectorized accumulators), not XLA's loops.
_LIBRARY_FUSION_KINDS = ("kCustom",)
_SUMMING = ("dot", "convolution", "reduce", "reduce-window")


def _operand_shape(g: Any, node: str, index: int) -> tuple[int, ...] | None:
    for _, _, d in g.in_edges(node, data=True):
        if d.get("operand_index") == index and d.get("kind", "data") == "data":
            shape = d.get("shape")
            return tuple(shape) if shape is not None else None
    return None


def _accumulation_length(g: Any, node: str, d: dict[str, Any]) -> int | None:
    attrs = d.get("attrs") or {}
    op = d["opcode"]
    if op == "dot":
        lhs = _operand_shape(g, node, 0)
        dims = attrs.get("lhs_contracting_dims") or []
        return math.prod(lhs[k] for k in dims) if lhs is not None else None
    if op == "convolution":
        kernel = _operand_shape(g, node, 1)
        if not kernel:
            return None
        labels = str(attrs.get("dim_labels", ""))
        k_labels = labels.split("_", 1)[1].split("->", 1)[0] if "_" in labels else ""
        out = k_labels.index("o") if "o" in k_labels and len(k_labels) == len(kernel) else -1
        return max(1, math.prod(kernel) // max(1, kernel[out]))
    if op == "reduce":
        src = _operand_shape(g, node, 0)
        dims = attrs.get("dimensions") or []
        return math.prod(src[k] for k in dims) if src is not None else None
    size = ((attrs.get("window_parsed") or {}).get("size")) or []
    return math.prod(int(k) for k in size) if size else None


def _matrix(shape: Any) -> bool:
    """At least two dimensions larger than 1 (not a scalar or vector in disguise)."""
    return sum(1 for n in (shape or ()) if n > 1) >= 2


def _sums(g: Any, d: dict[str, Any]) -> bool:
    """A dot or convolution always sums; a reduce only when its reducer adds (not max/min)."""
    if d["opcode"] in ("dot", "convolution"):
        return True
    comp = (g.graph.get("computations") or {}).get((d.get("attrs") or {}).get("to_apply", ""))
    root = g.nodes.get(comp.get("root")) if comp else None
    return root is not None and root.get("opcode") == "add"


def accumulations(optimized_hlo: str) -> tuple[Accumulation, ...]:
    """The summing reductions of an optimized XLA:CPU module and how each is accumulated.

    NOTE: [sequential accumulation] XLA:CPU emits a ``dot``, ``convolution``,
    ``reduce`` or ``reduce-window`` that is not inside a library fusion as its own
    loop nest, where each output element is one running sum of its ``K`` terms
    (the LLVM IR of torch_xla 2.9's ``dot(f32[2^20], f32[2^20])`` is a scalar
    ``fadd`` chain with ``llvm.loop.vectorize.enable`` false; jaxlib's
    ``f32[16] dot(f32[16,65536], f32[65536])`` keeps eight ``<8 x float>``
    accumulators, chains of K/8). A bare ``dot`` with a matrix result is the
    exception: XLA:CPU hands it to Eigen's blocked contraction (jaxlib's dump has no
    loop kernel for ``f32[16,16] dot(f32[65536,16], f32[65536,16])``). A sequential sum
    errs by up to ``(K - 1) * u * sum|x_i|`` (Higham, *Accuracy and Stability of
    Numerical Algorithms*, 2nd ed., §4.2, to first order), and when ``K * u`` nears
    1 (2^24 f32 terms) its rounding errors stop being independent: the partial sum
    grows until its ulp is comparable to the terms, and every addition rounds the
    same way (stagnation). The probabilistic ``sqrt(K)`` bound then fails (issue 10:
    TensorFlow's and torch_xla's native ``w`` at 2^24 samples, 3.14x that bound),
    so such reductions get the deterministic term. ``reduce`` ops of length > 32
    are split by XLA:CPU's tree-reduction rewrite into ``reduce-window`` levels of
    32, each a short chain here. Inside a library fusion (``kCustom``: YNNPACK,
    oneDNN) or in Eigen the reduction is blocked over many accumulators and keeps
    the probabilistic term.

    Args:
        optimized_hlo: the module as the compiler that ran the step optimized it.

    Returns:
        One :class:`Accumulation` per summing reduction with ``K > 1``.

    Example:
        >>> [a.length for a in accumulations(text) if a.sequential]  # doctest: +SKIP
        [16777216]
    """
    return _accumulations(optimized_hlo)[0]


def _accumulations(
    optimized_hlo: str, cuts: frozenset[int] = frozenset()
) -> tuple[tuple[Accumulation, ...], int, tuple[frozenset[int], ...]]:
    """:func:`accumulations`, the number of results of the entry's ROOT (1 if no tuple),
    and per result the updates in ``cuts`` (result positions) it reads (NOTE:
    [attenuation through updates]); accumulations behind those reads are listed in
    :attr:`Accumulation.attenuated`."""
    import networkx as nx

    from xlalens.ir import parse_hlo_text

    g = parse_hlo_text(optimized_hlo, stage="optimized_hlo")
    entry = g.graph.get("entry")
    found: list[tuple[str, dict[str, Any], int, bool, str]] = []
    for node, d in g.nodes(data=True):
        if d.get("opcode") not in _SUMMING or not _FLOAT_HLO.match(str(d.get("dtype"))):
            continue
        if not _sums(g, d):
            continue
        k = _accumulation_length(g, node, d)
        if not k or k <= 1:
            continue
        kernel = d.get("fusion") or node
        kd = g.nodes[kernel] if kernel in g.nodes else {}
        library = (kd.get("attrs") or {}).get("kind") in _LIBRARY_FUSION_KINDS
        # A bare dot with a matrix result runs as an Eigen contraction (blocked over K);
        # one with a scalar or vector result is XLA's own GEMV/naive loop.
        eigen = d["opcode"] == "dot" and kernel == node and _matrix(d.get("shape"))
        found.append((node, d, k, not (library or eigen), kernel))
    # Which results depend on each kernel: propagate through the entry computation,
    # keeping apart what reaches a result only through a parameter update it reads
    # (NOTE: [attenuation through updates]).
    entry_nodes = [n for n, d in g.nodes(data=True) if d.get("computation") == entry]
    sub = g.subgraph(entry_nodes)
    kernels = {f[4] for f in found}
    try:
        order = list(nx.topological_sort(sub))
    except nx.NetworkXUnfeasible:
        order = []
    root = (g.graph.get("computations") or {}).get(entry, {}).get("root")
    operands: list[tuple[int, str]] = []
    if root in sub and g.nodes[root].get("opcode") == "tuple":
        operands = sorted(
            (d["operand_index"], u)
            for u, _, d in g.in_edges(root, data=True)
            if "operand_index" in d
        )
    cut_nodes: dict[str, int] = {}
    for i, u in operands:
        if i in cuts:
            # the updated value itself, behind bitcasts and copies of it
            while g.nodes[u].get("opcode") in ("bitcast", "copy"):
                preds = list(sub.predecessors(u))
                if len(preds) != 1:
                    break
                u = preds[0]
            # a result the compiler folded into an argument (a zero update) is no cut:
            # its readers read the argument itself, at full weight
            if g.nodes[u].get("opcode") not in ("parameter", "constant", "get-tuple-element"):
                cut_nodes.setdefault(u, i)
    direct: dict[str, frozenset[str]] = {}
    # per value: update position -> the kernels that reach it through that update
    via: dict[str, dict[int, frozenset[str]]] = {}
    for n in order:
        up: set[str] = {n} & kernels
        parts: dict[int, frozenset[str]] = {}
        for p in sub.predecessors(n):
            for r, ks in via[p].items():
                parts[r] = parts.get(r, frozenset()) | ks
            if p in cut_nodes:
                r = cut_nodes[p]
                # everything behind the update, and what reached it through earlier ones
                parts[r] = parts.get(r, frozenset()).union(direct[p], *via[p].values())
            else:
                up |= direct[p]
        direct[n] = frozenset(up)
        via[n] = parts

    def behind_of(u: str) -> frozenset[str]:
        return frozenset().union(*via[u].values())

    per_result: list[tuple[frozenset[str], frozenset[str]]] | None = None
    if operands and all(u in direct for _, u in operands):
        per_result = [(direct[u] | behind_of(u), behind_of(u) - direct[u]) for _, u in operands]
    out = []
    for node, d, k, sequential, kernel in found:
        results = None
        attenuated: tuple[int, ...] = ()
        reached: tuple[tuple[int, ...], ...] = ()
        if per_result is not None and kernel in direct:
            results = tuple(i for i, (ks, _) in enumerate(per_result) if kernel in ks)
            attenuated = tuple(i for i, (_, ks) in enumerate(per_result) if kernel in ks)
            # NOTE: [attenuation per update]: the updates this kernel goes through
            reached = tuple(
                tuple(sorted(r for r, ks in via[operands[i][1]].items() if kernel in ks))
                for i in attenuated
            )
        out.append(
            Accumulation(
                d.get("name", node),
                d["opcode"],
                k,
                sequential,
                kernel,
                results,
                attenuated,
                math.prod(d["shape"]) if d.get("shape") is not None else 0,
                reached,
            )
        )
    reach = tuple(frozenset(via[u]) for _, u in operands) if per_result is not None else ()
    return tuple(out), len(per_result) if per_result is not None else 1, reach
