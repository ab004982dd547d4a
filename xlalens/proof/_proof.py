"""The proof of capture: a float64 reference and an error bound derived from the module.

NOTE: [why not a fixed rtol] a float32 step over 2^20 samples sums 2^20 terms in
an order each framework (and each XLA version) picks; two correct captures then
differ by far more than rtol 1e-5 (issue 10: 3e-5 at 2^20). Comparing the
replay with the native result can only say "they differ"; it cannot say which
one is wrong, nor whether either is. So we compute what the step *should* give:

1. the captured StableHLO with every ``f32`` promoted to ``f64`` (types and
   constants; :func:`promote_to_f64`), compiled and run through the same PJRT
   runtime on the same inputs: the float64 reference;
2. an error bound derived from the module itself, op by op
   (:func:`error_bound`): for a result computed in a precision with unit
   roundoff ``u``, ``|got - ref| <= lam * u * A * scale``, ``scale`` the larger
   of ``max|ref|`` and the step's median output magnitude
   (:func:`magnitude_floor`), where
   ``A = sum over reductions of sqrt(K) + sqrt(number of float ops)`` and ``K``
   is the reduction's length (dot_general contracting size, reduce dimensions,
   reduce_window window, convolution window times input features). ``sqrt(K)``
   is the probabilistic bound of Higham & Mary (SIAM J. Sci. Comput. 41(5),
   2019): with independent rounding errors, a sum of ``K`` terms errs by at most
   ``lam * sqrt(K) * u`` times the sum of magnitudes with probability at least
   ``1 - 2 exp(-lam^2 / 2)`` per term chain. Summing over every reduction of the
   module treats them as if chained, which over-counts parallel branches: safe.
3. a capture matches when the replay AND the native result are both within the
   bound of the reference. Two frontends agree when each is within its own bound
   of the truth, so their difference is within the sum of both bounds.

The bound is per module and per result tensor (scaled by the tensor's largest
reference magnitude), so it covers any workload (mlp, cnn, transformer, a user
step) without knowing its name. docs/capture.md states its limits (loops count
once; ill-conditioned steps can exceed it).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

LAMBDA = 8.0
"""Safety factor of the probabilistic bound (failure odds ~ 2 exp(-32) per chain)."""

# Unit roundoff (half the machine epsilon) of the float types a module may compute in.
UNIT_ROUNDOFF = {
    "f64": 2.0**-53,
    "f32": 2.0**-24,
    "tf32": 2.0**-11,
    "bf16": 2.0**-8,
    "f16": 2.0**-11,
}
_FLOAT_TYPE = re.compile(r"(?<=[<x])(f64|f32|tf32|bf16|f16)(?=>)")
_FLOAT_HLO = re.compile(r"(f64|f32|tf32|bf16|f16)$")


class ReferenceUnavailable(Exception):
    """The float64 reference could not be built (the module does not promote or compile)."""


@dataclass(frozen=True, slots=True)
class ErrorBound:
    """How far a correct float result may be from the float64 reference, from the module."""

    unit_roundoff: float
    """``u`` of the lowest float precision the module computes in (2^-24 for f32)."""
    amplification: float
    """``A``: sum of sqrt(reduction length) over reductions + sqrt(float op count)."""
    lam: float
    """The safety factor ``lam`` (:data:`LAMBDA`)."""
    reductions: int
    """Reductions found (dot_general, reduce, reduce_window, convolution)."""
    longest_reduction: int
    """The largest reduction length ``K`` in the module."""
    float_ops: int
    """Ops with a floating-point result."""
    sequential: tuple[float, ...] = ()
    """Per result: sum of ``K - 1`` over the sequential accumulations it depends on
    (:func:`accumulations`); one entry applies to every result; empty: none."""
    sequential_reductions: int = 0
    """Reductions accumulated sequentially (or counted so: emitter unknown)."""
    longest_sequential: int = 0
    """The largest ``K`` among them."""
    emitter: str = "none"
    """Where the sequential terms come from: ``optimized`` (the compiler's own
    optimized module), ``unknown`` (worst case for every dot and convolution) or
    ``none`` (not asked: the probabilistic term alone)."""
    widening: float = 1.0
    """Factor on the whole bound (the conditioning factor of an ill-conditioned step)."""
    per_result: tuple[float, ...] = ()
    """Per result of ``main``: its own ``A``, over the reductions and float ops it
    depends on (NOTE: [per-result bound]); empty: ``amplification`` for every result."""
    update_of: tuple[int | None, ...] = ()
    """Per result: the argument of ``main`` it updates (``result = arg +- update``),
    else None (NOTE: [per-result bound])."""

    def sequential_at(self, i: int) -> float:
        """The sequential term of result ``i``."""
        if not self.sequential:
            return 0.0
        if len(self.sequential) == 1:
            return self.sequential[0]
        return self.sequential[i] if i < len(self.sequential) else max(self.sequential)

    def amplification_at(self, i: int) -> float:
        """``A`` of result ``i``: its own when known (dataflow), else the module's."""
        if 0 <= i < len(self.per_result):
            return self.per_result[i]
        return self.amplification

    def update_arg(self, i: int) -> int | None:
        """The argument that result ``i`` updates (``arg +- update``), or None."""
        return self.update_of[i] if 0 <= i < len(self.update_of) else None

    def relative_at(self, i: int) -> float:
        """The bound of result ``i`` relative to its scale: ``w * u * (lam * A_i + S_i)``."""
        return (
            self.widening
            * self.unit_roundoff
            * (self.lam * self.amplification_at(i) + self.sequential_at(i))
        )

    @property
    def relative(self) -> float:
        """The largest bound over results relative to a result's magnitude."""
        n = max(len(self.sequential), len(self.per_result))
        if not n:
            return self.relative_at(-1)
        return max(self.relative_at(i) for i in range(n))

    def plus(self, other: ErrorBound) -> ErrorBound:
        """The bound on the difference of two results, each within its own bound.

        Both bounds must share ``u`` and ``lam`` (the same module); widenings multiply
        through first, so the sum is exact.
        """
        n = max(len(self.sequential), len(other.sequential))
        seq = tuple(
            self.widening * self.sequential_at(i) + other.widening * other.sequential_at(i)
            for i in range(n)
        )
        m = max(len(self.per_result), len(other.per_result))
        per = tuple(
            self.widening * self.amplification_at(i) + other.widening * other.amplification_at(i)
            for i in range(m)
        )
        return dataclasses.replace(
            self,
            amplification=self.widening * self.amplification + other.widening * other.amplification,
            per_result=per,
            sequential=seq,
            sequential_reductions=max(self.sequential_reductions, other.sequential_reductions),
            longest_sequential=max(self.longest_sequential, other.longest_sequential),
            widening=1.0,
        )

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for the manifest."""
        out = {f: getattr(self, f) for f in self.__slots__}
        out["sequential"] = list(self.sequential)
        out["per_result"] = list(self.per_result)
        out["update_of"] = list(self.update_of)
        out["relative"] = self.relative
        n = max(len(self.sequential), len(self.per_result))
        out["relative_per_result"] = [self.relative_at(i) for i in range(n)] if n > 1 else None
        return out


@dataclass(frozen=True, slots=True)
class Judgement:
    """Results judged against the reference: each result's error in units of its bound."""

    ok: bool
    """Every result within its bound (integers and booleans exactly equal)."""
    worst_ratio: float
    """Largest ``error / bound`` over results (<= 1 when ok; inf for a shape mismatch)."""
    worst_result: int | None
    """Index of the result with ``worst_ratio``."""
    max_abs_error: float
    """Largest absolute difference from the reference over results."""
    message: str
    """Empty when ok, else which result is off and by how much."""
    errors: tuple[float, ...] = ()
    """Per result: largest absolute difference from the reference (0 for exact kinds)."""
    tolerances: tuple[float, ...] = ()
    """Per result: the absolute tolerance it was judged by."""
    allowances: tuple[float, ...] = ()
    """Per result: the factor on its bound it was judged by (1: the bound itself; above 1:
    an allowance for an ill-conditioned result, NOTE: [ill-conditioned steps]); empty: all 1."""


def _mlir() -> tuple[Any, Any]:
    from jax._src.interpreters import mlir as jax_mlir
    from jaxlib.mlir import ir

    return jax_mlir.make_ir_context(), ir


def _shape(value: Any, ir: Any) -> list[int] | None:
    try:
        return list(ir.RankedTensorType(value.type).shape)
    except (ValueError, TypeError):
        return None


def _float_kind(op: Any) -> str | None:
    for res in op.results:
        m = _FLOAT_TYPE.search(str(res.type))
        if m:
            return m.group(1)
    return None


def _reduction_length(op: Any, name: str, ir: Any) -> int | None:
    """``K`` of a reduction op, None for other ops."""
    from jaxlib.mlir.dialects import stablehlo

    short = name.split(".", 1)[-1]
    attrs = op.attributes
    if short in ("dot_general", "dot"):
        lhs = _shape(op.operands[0], ir)
        if not lhs:
            return 1
        if short == "dot":
            return lhs[-1]
        dims = stablehlo.DotDimensionNumbers(attrs["dot_dimension_numbers"])
        return math.prod(lhs[d] for d in dims.lhs_contracting_dimensions)
    if short == "reduce":
        src = _shape(op.operands[0], ir) or []
        dims = [int(d) for d in ir.DenseI64ArrayAttr(attrs["dimensions"])]
        return math.prod(src[d] for d in dims) if src else 1
    if short == "reduce_window":
        return math.prod(int(d) for d in ir.DenseI64ArrayAttr(attrs["window_dimensions"]))
    if short == "convolution":
        kernel = _shape(op.operands[1], ir) or [1]
        dn = stablehlo.ConvDimensionNumbers(attrs["dimension_numbers"])
        return max(1, math.prod(kernel) // max(1, kernel[dn.kernel_output_feature_dimension]))
    return None


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
    root = comp and g.nodes.get(comp.get("root"))
    return bool(root) and root.get("opcode") == "add"


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


def _accumulations(optimized_hlo: str) -> tuple[tuple[Accumulation, ...], int]:
    """:func:`accumulations`, and the number of results of the entry's ROOT (1 if no tuple)."""
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
    # Which results depend on each kernel: propagate through the entry computation.
    entry_nodes = [n for n, d in g.nodes(data=True) if d.get("computation") == entry]
    sub = g.subgraph(entry_nodes)
    seen: dict[str, frozenset[str]] = {}
    kernels = {f[4] for f in found}
    try:
        order = list(nx.topological_sort(sub))
    except nx.NetworkXUnfeasible:
        order = []
    for n in order:
        up: set[str] = {n} & kernels
        for p in sub.predecessors(n):
            up |= seen[p]
        seen[n] = frozenset(up)
    root = (g.graph.get("computations") or {}).get(entry, {}).get("root")
    per_result: list[frozenset[str]] | None = None
    if root in seen and g.nodes[root].get("opcode") == "tuple":
        operands = sorted(
            (d["operand_index"], u)
            for u, _, d in g.in_edges(root, data=True)
            if "operand_index" in d
        )
        per_result = [seen[u] for _, u in operands]
    out = []
    for node, d, k, sequential, kernel in found:
        results = None
        if per_result is not None and kernel in seen:
            results = tuple(i for i, ks in enumerate(per_result) if kernel in ks)
        out.append(Accumulation(d.get("name", node), d["opcode"], k, sequential, kernel, results))
    return tuple(out), len(per_result) if per_result is not None else 1


_DOTS = ("dot_general", "dot", "convolution")
# Ops that move or widen values without rounding a float32 value.
_EXACT = ("reshape", "transpose", "convert", "copy", "bitcast_convert", "broadcast_in_dim")


@dataclass(frozen=True, slots=True)
class _Flow:
    """What each result of ``main`` depends on (NOTE: [per-result bound])."""

    amplification: tuple[float, ...]
    """Per result: sum of sqrt(K) over its reductions + sqrt(its float ops)."""
    dot_terms: tuple[float, ...]
    """Per result: sum of ``K - 1`` over the dots and convolutions it depends on."""
    update_of: tuple[int | None, ...]
    """Per result: the argument it is ``arg +- update`` of, else None."""


def _flow(module: Any, ir: Any) -> _Flow | None:
    """Follow the values of ``main``'s body to its results (None: no ``main``).

    NOTE: [per-result bound] a result's rounding error comes only from the ops it
    depends on, so each result gets its own ``A`` over those (a bitset per value,
    one bit per op). An op with regions (a while loop) or a ``func.call`` counts
    every op inside it (and inside the callee). A result ``arg - update`` (or
    ``arg + update``), reached through ops that do not round, is a parameter
    update: its float32 value errs by at most one rounding of ``|result|`` plus
    the error of ``update``, which is bounded relative to ``|update|`` =
    ``|result - arg|`` (:func:`judge` with ``inputs``). At 2^20 samples a
    regression step's update is 1e-2 of ``w``: the bound relative to ``|w|``
    was 1,000x the error (issue 21) and a 1e-3 change of ``w`` passed.
    """
    funcs = {}
    for op in module.body.operations:
        if op.operation.name == "func.func":
            funcs[ir.StringAttr(op.attributes["sym_name"]).value] = op
    main = funcs.get("main")
    if main is None:
        return None
    inside: dict[str, tuple[float, float, int]] = {}

    def own(op: Any, stack: tuple[str, ...] = ()) -> tuple[float, float, int]:
        """(sum sqrt(K), sum K-1 over dots, float ops) of one op and its regions."""
        name = op.operation.name
        short = name.split(".", 1)[-1]
        amp = dots = 0.0
        n = 0
        kind = _float_kind(op)
        if kind is not None and not name.startswith(("func.", "stablehlo.return")):
            n = 1
            k = _reduction_length(op, name, ir)
            if k is not None and k > 1:
                amp = math.sqrt(k)
                if short in _DOTS:
                    dots = float(k - 1)
        if name == "func.call":
            callee = ir.FlatSymbolRefAttr(op.attributes["callee"]).value
            if callee not in inside and callee in funcs and callee not in stack:
                inside[callee] = nested(funcs[callee], (*stack, callee))
            a, d, m = inside.get(callee, (0.0, 0.0, 0))
            return amp + a, dots + d, n + m
        a, d, m = nested(op, stack)
        return amp + a, dots + d, n + m

    def nested(op: Any, stack: tuple[str, ...] = ()) -> tuple[float, float, int]:
        amp = dots = 0.0
        n = 0
        for region in op.regions:
            for block in region.blocks:
                for inner in block.operations:
                    a, d, m = own(inner, stack)
                    amp, dots, n = amp + a, dots + d, n + m
        return amp, dots, n

    body = main.regions[0].blocks[0]
    args = {a: i for i, a in enumerate(body.arguments)}
    terms: list[tuple[float, float, int]] = []
    deps: dict[Any, int] = {}
    producer: dict[Any, Any] = {}
    for op in body.operations:
        if op.operation.name == "func.return":
            outs = list(op.operands)
            break
        bits = 0
        for v in op.operands:
            bits |= deps.get(v, 0)
        t = own(op)
        if any(t):
            bits |= 1 << len(terms)
            terms.append(t)
        for r in op.results:
            deps[r] = bits
            producer[r] = op
    else:
        return None

    def through(v: Any) -> Any:
        """The value behind ops that do not round (reshape, copy, convert...)."""
        for _ in range(64):
            op = producer.get(v)
            if op is None or op.operation.name.split(".", 1)[-1] not in _EXACT:
                return v
            if len(op.operands) != 1 or _FLOAT_TYPE.search(str(op.operands[0].type)) is None:
                return v
            v = op.operands[0]
        return v

    def update_of(v: Any) -> int | None:
        op = producer.get(through(v))
        if op is None or op.operation.name not in ("stablehlo.subtract", "stablehlo.add"):
            return None
        first = through(op.operands[0])
        if first in args and str(first.type) == str(v.type):
            return args[first]
        if op.operation.name == "stablehlo.add":
            second = through(op.operands[1])
            if second in args and str(second.type) == str(v.type):
                return args[second]
        return None

    amps, dots, upd = [], [], []
    for v in outs:
        bits, a, d, n, j = deps.get(v, 0), 0.0, 0.0, 0, 0
        while bits:
            if bits & 1:
                ta, td, tn = terms[j]
                a, d, n = a + ta, d + td, n + tn
            bits >>= 1
            j += 1
        amps.append(a + math.sqrt(max(1, n)))
        dots.append(d)
        upd.append(update_of(v))
    return _Flow(tuple(amps), tuple(dots), tuple(upd))


def error_bound(
    stablehlo: str | bytes,
    *,
    lam: float = LAMBDA,
    optimized: str | None = None,
    unknown_emitter: bool = False,
) -> ErrorBound:
    """The error bound of a StableHLO module, derived op by op.

    Args:
        stablehlo: the module (text or bytecode) as captured.
        lam: safety factor (default :data:`LAMBDA`).
        optimized: the optimized HLO of the compiler whose results are judged; its
            sequential accumulations (:func:`accumulations`) add ``K - 1`` to the
            bound of each result that depends on them.
        unknown_emitter: the judged results come from a compiler whose optimized
            module is not known (torch_xla's own XLA): every ``dot_general`` and
            ``convolution`` counts as sequential (worst case) for each result that
            depends on it.

    Returns:
        The :class:`ErrorBound`.

    Example:
        >>> error_bound(open("xlalens-dump/jax/stablehlo.mlir").read()).relative  # doctest: +SKIP
        2.1e-05
    """
    ctx, ir = _mlir()
    amp = 0.0
    count = longest = n_float = 0
    worst: list[int] = []
    kinds: set[str] = set()
    with ctx, ir.Location.unknown():
        module = ir.Module.parse(stablehlo)

        def visit(op: Any) -> Any:
            nonlocal amp, count, longest, n_float
            name = op.name
            kind = _float_kind(op)
            if kind is not None and not name.startswith(("func.", "stablehlo.return")):
                n_float += 1
                kinds.add(kind)
                k = _reduction_length(op, name, ir)
                if k is not None and k > 1:
                    count += 1
                    longest = max(longest, k)
                    amp += math.sqrt(k)
                    if name.split(".", 1)[-1] in ("dot_general", "dot", "convolution"):
                        worst.append(k)
            return ir.WalkResult.ADVANCE

        module.operation.walk(visit)
        flow = _flow(module, ir)
    unknown = flow.dot_terms if flow is not None and unknown_emitter else ()
    u = max((UNIT_ROUNDOFF[k] for k in kinds if k != "f64"), default=UNIT_ROUNDOFF["f32"])
    bound = ErrorBound(
        u,
        amp + math.sqrt(max(1, n_float)),
        lam,
        count,
        longest,
        n_float,
        per_result=flow.amplification if flow is not None else (),
        update_of=flow.update_of if flow is not None else (),
    )
    if optimized is not None:
        found, n = _accumulations(optimized)
        seq = [a for a in found if a.sequential]
        per = [0.0] * max(n, 1)
        for a in seq:
            for i in a.results if a.results is not None else range(len(per)):
                per[i] += a.length - 1
        return dataclasses.replace(
            bound,
            sequential=tuple(per) if any(per) else (),
            sequential_reductions=len(seq),
            longest_sequential=max((a.length for a in seq), default=0),
            emitter="optimized",
        )
    if unknown_emitter:
        total = float(sum(k - 1 for k in worst))
        per = unknown or (total,)
        return dataclasses.replace(
            bound,
            sequential=per if any(per) else (),
            sequential_reductions=len(worst),
            longest_sequential=max(worst, default=0),
            emitter="unknown",
        )
    return bound


# --------------------------------------------------------------------------- f64 promotion

_HEX_CONST = re.compile(
    r'dense<(?P<q>"?)0x(?P<hex>[0-9A-Fa-f]+)(?P=q)>(?P<ty>\s*:\s*tensor<(?:[0-9?]+x)*)f32>'
)
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def _promote_hex(m: re.Match) -> str:
    raw = m["hex"]
    if m["q"]:  # raw little-endian buffer of every element
        data = np.frombuffer(bytes.fromhex(raw), dtype="<f4").astype("<f8")
        return f'dense<"0x{data.tobytes().hex().upper()}">{m["ty"]}f64>'
    # an unquoted hex literal is the element's bit pattern
    bits = np.array([int(raw, 16)], dtype=np.uint32).view(np.float32).astype(np.float64)
    return f"dense<0x{int(bits.view(np.uint64)[0]):016X}>{m['ty']}f64>"


def promote_to_f64(stablehlo: str) -> str:
    """The module with every ``f32`` type and constant turned into ``f64``.

    Quoted strings (locations, names) are left alone; hex constants are re-encoded.

    Example:
        >>> promote_to_f64("%0 = stablehlo.add %a, %b : tensor<4xf32>")
        '%0 = stablehlo.add %a, %b : tensor<4xf64>'
    """
    text = _HEX_CONST.sub(_promote_hex, stablehlo)
    out, last = [], 0
    for m in _STRING.finditer(text):
        out.append(re.sub(r"(?<=[<x])f32(?=>)", "f64", text[last : m.start()]))
        out.append(m.group(0))
        last = m.end()
    out.append(re.sub(r"(?<=[<x])f32(?=>)", "f64", text[last:]))
    return "".join(out)


def reference(
    stablehlo: str | bytes, inputs: Sequence[np.ndarray], backend: str = "cpu"
) -> list[np.ndarray]:
    """Run the module promoted to float64 on the same inputs (float32 inputs widened).

    Args:
        stablehlo: the captured module.
        inputs: its arguments, as captured.
        backend: PJRT backend to run on.

    Returns:
        One float64 (or integer, as in the module) array per result.

    Raises:
        ReferenceUnavailable: the promoted module does not compile or run (e.g. a
            bitcast of f32 to i32, or a backend without f64).

    Example:
        >>> ref = reference(text, [np.ones(4, np.float32)])  # doctest: +SKIP
    """
    from xlalens import _runtime

    if isinstance(stablehlo, bytes):
        stablehlo = stablehlo.decode()
    try:
        compiled = _runtime.compile_stablehlo(promote_to_f64(stablehlo), backend)
        wide = [a.astype(np.float64) if a.dtype == np.float32 else a for a in inputs]
        return _runtime.run(compiled, wide)
    except Exception as exc:  # CompileError or an XLA runtime error
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ReferenceUnavailable(f"float64 reference unavailable: {first[:300]}") from exc


def magnitude_floor(arrays: Sequence[np.ndarray]) -> float:
    """The median over float arrays of their largest finite magnitude (0 when none).

    NOTE: [scale floor] a result that is zero in exact arithmetic (the gradient
    of a convolution bias followed by BatchNorm, and so its update) comes out of
    float32 as pure rounding noise of the terms that cancelled; judged relative
    to its own magnitude it would always fail. Its error is measured instead
    against the step's typical output magnitude, which this floor is.
    """
    peaks = []
    for a in arrays:
        a = np.asarray(a)
        if a.size and np.issubdtype(a.dtype, np.inexact):
            finite = np.abs(a[np.isfinite(a)])
            if finite.size:
                peaks.append(float(finite.max()))
    return float(np.median(peaks)) if peaks else 0.0


def _peak(a: np.ndarray) -> float:
    finite = np.abs(a[np.isfinite(a)])
    return float(finite.max()) if finite.size else 0.0


def _updates(
    ref: Sequence[np.ndarray], bound: ErrorBound, inputs: Sequence[np.ndarray] | None
) -> list[np.ndarray | None]:
    """Per result: ``ref - arg`` (float64) when it updates argument ``arg``, else None."""
    out: list[np.ndarray | None] = [None] * len(ref)
    if inputs is None:
        return out
    for i, want in enumerate(ref):
        j = bound.update_arg(i)
        if j is None or j >= len(inputs):
            continue
        arg, want = np.asarray(inputs[j]), np.asarray(want)
        if arg.shape != want.shape or not np.issubdtype(want.dtype, np.inexact):
            continue
        out[i] = want.astype(np.float64) - arg.astype(np.float64)
    return out


def judge(
    results: Sequence[np.ndarray],
    ref: Sequence[np.ndarray],
    bound: ErrorBound,
    *,
    labels: Sequence[str] | None = None,
    slack: float = 1.0,
    widen: Sequence[float] | None = None,
    inputs: Sequence[np.ndarray] | None = None,
) -> Judgement:
    """Judge results against the reference: float results within ``slack * bound``.

    Args:
        results: the arrays to judge (a replay's or the native step's), by position.
        ref: the reference (or, without one, the other side of a comparison).
        bound: the module's :class:`ErrorBound`.
        labels: names of the results for the message (default ``result i``).
        slack: multiple of the bound allowed (2 when comparing two float32 runs
            with each other: each within the bound of the truth).
        widen: per result, a further factor on its own bound (an ill-conditioned
            result's allowance, :func:`prove`); default 1 for every result.
        inputs: the module's arguments; a result that updates one of them
            (``bound.update_of``) is then judged by one rounding of its magnitude
            plus its bound times the update's magnitude (NOTE: [per-result bound]).

    Returns:
        The :class:`Judgement`.

    Example:
        >>> judge([np.float32(1.0)], [np.float64(1.0)], error_bound(text)).ok  # doctest: +SKIP
        True
    """
    if len(results) != len(ref):
        return Judgement(
            False, math.inf, None, math.inf, f"{len(results)} results, {len(ref)} expected"
        )
    worst, worst_i, max_abs, why = 0.0, None, 0.0, ""
    errors = [0.0] * len(ref)
    tols = [0.0] * len(ref)
    floor = magnitude_floor(ref)
    updates = _updates(ref, bound, inputs)
    update_floor = magnitude_floor([d for d in updates if d is not None])
    for i, (got, want) in enumerate(zip(results, ref)):
        label = labels[i] if labels and i < len(labels) and labels[i] else f"result {i}"
        got, want = np.asarray(got), np.asarray(want)
        if got.shape != want.shape:
            return Judgement(
                False,
                math.inf,
                i,
                math.inf,
                f"{label}: shape {list(got.shape)}, expected {list(want.shape)}",
            )
        if got.size == 0:
            continue
        if not (np.issubdtype(got.dtype, np.inexact) or np.issubdtype(want.dtype, np.inexact)):
            if not np.array_equal(got, want):
                return Judgement(False, math.inf, i, math.inf, f"{label}: integer values differ")
            continue
        g, w = got.astype(np.float64, copy=False), want.astype(np.float64, copy=False)
        if not np.all(np.isfinite(g) == np.isfinite(w)):
            return Judgement(False, math.inf, i, math.inf, f"{label}: non-finite values differ")
        finite = np.isfinite(w)
        diff = np.abs(g - w, where=finite, out=np.zeros_like(w))
        err = float(diff.max())
        own = float(np.abs(w, where=finite, out=np.zeros_like(w)).max())
        scale = max(own, floor)
        extra = widen[i] if widen is not None and i < len(widen) else 1.0
        if updates[i] is not None:
            # arg +- update: one rounding of the result, and the update's own error.
            step = max(_peak(updates[i]), update_floor)
            tol = slack * extra * (2 * bound.unit_roundoff * own + bound.relative_at(i) * step)
            scale = step
        else:
            tol = slack * extra * bound.relative_at(i) * scale
        errors[i], tols[i] = err, tol
        ratio = err / tol if tol > 0 else (0.0 if err == 0 else math.inf)
        max_abs = max(max_abs, err)
        if ratio > worst:
            worst, worst_i = ratio, i
        if ratio > 1 and not why:
            why = (
                f"{label} is off by {err:.3g} ({err / scale if scale else math.inf:.3g} of its "
                f"scale {scale:.3g}), above the tolerance {tol:.3g}"
            )
    allow = tuple(widen[i] if i < len(widen) else 1.0 for i in range(len(ref))) if widen else ()
    return Judgement(worst <= 1.0, worst, worst_i, max_abs, why, tuple(errors), tuple(tols), allow)


def agree(
    results: Sequence[np.ndarray], other: Sequence[np.ndarray], stablehlo: str | bytes
) -> tuple[bool, float, str, float]:
    """Do two float32 runs of the same step agree (the cross-framework rule)?

    Each correct run is within the module's bound of the exact result, so two
    runs agree when they differ by at most twice the bound. Used where there is
    no single float64 reference for both, e.g. a sharded step against the same
    step on one device.

    Args:
        results: one run's results, by position.
        other: the other run's results.
        stablehlo: the captured module the bound is derived from.

    Returns:
        ``(agree, max |difference|, why not, largest difference over its
        allowance)``: the last is <= 1 when they agree.

    Example:
        >>> agree(sharded, single, open("d/jax/stablehlo.mlir").read())  # doctest: +SKIP
        (True, 2.9e-08, '', 0.0011)
    """
    j = judge(results, other, error_bound(stablehlo), slack=2.0)
    return j.ok, j.max_abs_error, j.message, j.worst_ratio


OBSERVED_FACTOR = 4.0
"""How far past the replay's own error (in units of its bound) an ill-conditioned result
of the native step may be."""


@dataclass(frozen=True, slots=True)
class Proof:
    """The replay and the native results judged against the float64 reference."""

    replay: Judgement
    """The replay's judgement (ill-conditioned results by their own allowance)."""
    native: Judgement
    """The native results' judgement (ill-conditioned results by their own allowance)."""
    ill: tuple[int, ...]
    """Results whose replay exceeded the bound: judged by an allowance."""
    kappas: tuple[float, ...]
    """Per result: its conditioning factor ``kappa`` (replay error over bound; 1 when
    within the bound)."""

    @property
    def kappa(self) -> float:
        """The largest conditioning factor (1 when every result is within its bound)."""
        return max(self.kappas, default=1.0)

    def __iter__(self):
        """``(replay, native, ill, kappa)``, the tuple this record replaced."""
        return iter((self.replay, self.native, self.ill, self.kappa))


def prove(
    replay: Sequence[np.ndarray],
    native: Sequence[np.ndarray],
    ref: Sequence[np.ndarray],
    bound: ErrorBound,
    *,
    labels: Sequence[str] | None = None,
    native_bound: ErrorBound | None = None,
    inputs: Sequence[np.ndarray] | None = None,
) -> Proof:
    """Judge the replay and the native results against the float64 reference.

    NOTE: [ill-conditioned steps] the reference is computed from the captured
    module itself, so the replay (the same module in float32) can only differ
    from it by float32 rounding. When the replay exceeds the bound on a result,
    the step amplifies rounding into that result more than the bound assumes
    (Keras ResNet50 at batch 4: BatchNorm over 2x2 maps; a float32-sized change
    of the inputs moves the exact update of conv1's kernel 450x as much; Adam's
    update of a bias whose exact gradient is 0, where ``g / sqrt(v)`` of pure
    rounding noise is +-1). That is not a wrong capture. That result's
    conditioning factor ``kappa_i`` is the replay's error over its bound; the
    replay passes, the result is listed as judged by an allowance, and the native
    result ``i`` must be within :data:`OBSERVED_FACTOR` x ``kappa_i`` times its
    bound: what float32 really does on it (the replay's error is one sample,
    so the factor leaves room for another summation order). Every other result
    keeps its own bound (issue 21: one zero-gradient bias with ``kappa`` 1.9e3
    widened every result's bound, and a learning rate 1.5x passed). A wrong
    capture (a changed constant, a different learning rate) moves the
    well-conditioned results far outside their bounds.

    Args:
        replay: the PJRT replay's results.
        native: the framework's own results.
        ref: the float64 reference.
        bound: the bound of the replay (its compiler's sequential accumulations).
        labels: result names for messages.
        native_bound: the bound of the native results, when their compiler
            accumulates differently (default: ``bound``).
        inputs: the module's arguments (parameter updates are judged by the
            update's magnitude, :func:`judge`).

    Returns:
        The :class:`Proof` (it unpacks as ``(replay, native, ill, kappa)``).

    Example:
        >>> r, n, ill, kappa = prove(replayed, native, ref, error_bound(text))  # doctest: +SKIP
    """
    nb = native_bound if native_bound is not None else bound
    first = judge(replay, ref, bound, labels=labels, inputs=inputs)
    ones = (1.0,) * len(ref)
    if first.ok or math.isinf(first.worst_ratio):
        return Proof(first, judge(native, ref, nb, labels=labels, inputs=inputs), (), ones)
    kappas = tuple(
        max(1.0, e / t) if t > 0 else 1.0 for e, t in zip(first.errors, first.tolerances)
    )
    ill = tuple(i for i, k in enumerate(kappas) if k > 1.0)
    # (1 + 1e-9): the replay's own worst result sits exactly at its widened bound.
    replay_j = judge(
        replay,
        ref,
        bound,
        labels=labels,
        inputs=inputs,
        widen=[k * (1 + 1e-9) if k > 1 else 1.0 for k in kappas],
    )
    native_j = judge(
        native,
        ref,
        nb,
        labels=labels,
        inputs=inputs,
        widen=[OBSERVED_FACTOR * k if k > 1 else 1.0 for k in kappas],
    )
    return Proof(replay_j, native_j, ill, kappas)
