"""``diff(a, b)``: match two graphs, classify the pairs, summarize."""

from __future__ import annotations

import gc
import json
import math
from collections import Counter
from operator import itemgetter
from pathlib import Path
from typing import Any

import networkx as nx

from xlalens._errors import UsageError
from xlalens.diff._labels import node_labels
from xlalens.diff._match import (
    HIDDEN_ATTRS,
    IGNORED_ATTRS,
    SPMD_ATTRS,
    layout_key,
    match,
    node_label,
    spmd_key,
)
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
from xlalens.ir._cost import node_bytes, node_flops
from xlalens.ir._graph import nodes
from xlalens.ir._ops import DTYPE_BITS, NO_FLOP_OPCODES, TRIVIAL_OPCODES
from xlalens.ir._schema import DEFAULT_LEVEL, LEVELS

KERNEL = "kernel"
"""Stage name of fusion instructions and fused parameters paired through the kernel map."""

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

        g = load(x, level=level or DEFAULT_LEVEL)
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
        if src.get("target"):
            where += f"@{src['target']}"
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


def classify(
    da: dict[str, Any], db: dict[str, Any], *, all_attrs: bool = False
) -> tuple[Change, ...]:
    """The fields that differ between two node attribute dicts, sorted by field name.

    Args:
        da: node data of the left node (xlalens schema).
        db: node data of the right node.
        all_attrs: also report fields without semantic effect (NOTE: [hidden
            attributes] in _match.py): a layout that is the default on both sides
            (or absent on one), and :data:`~xlalens.diff._match.HIDDEN_ATTRS`.

    Returns:
        One :class:`Change` per differing field; empty when the pair is unchanged.

    Example:
        >>> [c.field for c in classify(g1.nodes[x], g2.nodes[y])]  # doctest: +SKIP
        ['op']
    """
    if da == db:
        # Equal records (C-speed; a differing name fails at the first key): nothing
        # differs. Most pairs of two versions of a model, every pair of a self-diff.
        return ()
    out = []
    for f in ("op", "dtype", "shape", "layout", "role", "param_index"):
        va, vb = da[f], db[f]
        if f == "shape":
            va, vb = tuple(va), tuple(vb)
        if va != vb:
            if (
                f == "layout"
                and not all_attrs
                and layout_key(va, len(da["shape"])) == layout_key(vb, len(db["shape"]))
            ):
                continue
            out.append(Change(f, _plain(va), _plain(vb)))
    if spmd_key(da) != spmd_key(db):
        # NOTE: [shardings and collectives compare as records] in _match.py.
        from xlalens.ir._collectives import collective_text, sharding_text

        for f, text, detail in (
            ("sharding", sharding_text, "devices"),
            ("collective", collective_text, "groups"),
        ):
            ra, rb = da.get(f), db.get(f)
            ta, tb = text(ra), text(rb)
            if ta != tb:
                out.append(Change(f, ta, tb))
            elif ra is not None and rb is not None and ra.get(detail) != rb.get(detail):
                # Same axes and sizes, other devices (a permuted mesh).
                out.append(Change(f"{f}.{detail}", ra.get(detail), rb.get(detail)))
    aa, ab = da["attrs"], db["attrs"]
    if aa or ab:
        for k in sorted(set(aa) | set(ab)):
            if k in IGNORED_ATTRS or (k in HIDDEN_ATTRS and not all_attrs):
                continue
            if k in SPMD_ATTRS and not all_attrs:
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


def _loops(g: nx.MultiDiGraph, ops: Counter | None = None) -> tuple[tuple[str, int | None], ...]:
    if ops is not None and "while" not in ops:
        return ()  # the op histogram has no loop: no walk over the nodes for one
    from xlalens.ir._loops import loop_nodes, trip_count

    return tuple((g.nodes[n]["name"], trip_count(g, n).n) for n in loop_nodes(g))


# Ops whose node_flops is 0.0 whatever their operands (xlalens.ir._cost: the NO_FLOP
# branch, after the ops it prices by their operands): estimate_flops skips the call,
# half the nodes of an optimized module (parameters, bitcasts, fusions, ...).
_FLOP_FREE = NO_FLOP_OPS - {"dot", "convolution", "reduce", "reduce-window", "sort", "custom-call"}


def estimate_flops(g: nx.MultiDiGraph, ops: Counter | None = None) -> int | None:
    """FLOPs of one execution: the sum of ``xlalens.ir._cost.node_flops`` over the nodes.

    Reducer bodies (called per element) are skipped; unknown when a dot's
    contracting dimensions cannot be read or a shape is dynamic. A loop body
    counts once per iteration (``xlalens.ir._cost.module_cost``; a loop whose
    trip count is unknown counts once). ``ops``: the graph's op histogram when the
    caller has it (it says whether there is a loop).
    """
    comps = g.graph.get("computations", {})
    reducers = {c for c, comp in comps.items() if comp.get("kind") == "reducer"}
    total = 0.0
    free = _FLOP_FREE
    for n, d in g._node.items():
        if d["op"] in free or d["computation"] in reducers:
            continue  # node_flops is 0.0 there: adding it leaves the float sum as it is
        f = node_flops(g, n)  # xlalens.ir's cost model (dot, convolution, reduce, ...)
        if f is None:
            if d["op"] == "custom-call":
                continue  # an unknown library call: counted as no arithmetic, as before
            return None
        total += f
    if ("while" in ops) if ops is not None else any(d["op"] == "while" for d in g._node.values()):
        from xlalens.ir._cost import module_cost

        mc = module_cost(g)
        total += mc.flops - mc.flops_once
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
    return [n.id for n in nodes(g, g.graph.get("entry")) if n.is_kernel]


def estimate_bytes(g: nx.MultiDiGraph, ks: list[str] | None = None) -> int | None:
    """Bytes the kernels of an optimized graph read and write (operands + results); ``None`` otherwise.

    ``ks``: :func:`kernels` of ``g`` when the caller has them already.
    """
    if ks is None:
        ks = kernels(g)
    if ks is None:
        return None
    # THE bytes model (xlalens.ir._cost.node_bytes): a kernel's result plus each
    # distinct operand once (an operand read twice is one buffer).
    total = 0.0
    for n in ks:
        b = node_bytes(g, n)
        if b is None:
            return None
        total += b
    return int(total)


def _ops(g: nx.MultiDiGraph, labels: dict[str, tuple]) -> Counter:
    """The op histogram; from the labels (the op is their first field) where every node
    has one: compact tuples, not another walk over the node dicts."""
    if len(labels) == len(g._node):
        return Counter(map(itemgetter(0), labels.values()))
    return Counter(map(itemgetter("op"), g._node.values()))


def _collectives_in(g: nx.MultiDiGraph, labels: dict[str, tuple]) -> bool:
    """has_collectives(g); where every node has a label and no label holds a sharding
    or collective record (its spmd key is ""), none has a collective."""
    from xlalens.diff._collectives import has_collectives

    if len(labels) == len(g._node) and not any(map(itemgetter(5), labels.values())):
        return False
    return has_collectives(g)


def _summary(g_a, g_b, pairs, m, ks=None, labels=None) -> Summary:
    lab_a, lab_b = labels if labels is not None else ({}, {})
    ca = _ops(g_a, lab_a)
    cb = _ops(g_b, lab_b)
    hist = tuple(OpCount(op, ca.get(op, 0), cb.get(op, 0)) for op in sorted(set(ca) | set(cb)))
    ka, kb = ks if ks is not None else (kernels(g_a), kernels(g_b))
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
        flops=(estimate_flops(g_a, ca), estimate_flops(g_b, cb)),
        bytes=(estimate_bytes(g_a, ka), estimate_bytes(g_b, kb)),
        loops=(_loops(g_a, ca), _loops(g_b, cb)),
    )


def diff(
    a: Any,
    b: Any,
    *,
    level: str | None = None,
    all_attrs: bool = False,
    timing: tuple[dict[str, float] | None, dict[str, float] | None] | None = None,
) -> Diff:
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
            (default :data:`xlalens.ir.DEFAULT_LEVEL`, canonical); graphs are used
            as they are.
        all_attrs: also report attributes without semantic effect (default
            layouts, ``parameter_replication``, ...; see docs/diff.md).
        timing: per side, ``{kernel instruction name: seconds}`` for the kernel
            map's time deltas; by default read from ``DIR/timing/<backend>.json``
            when a side is a dump entry (``DIR:frontend:optimized_hlo``).

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
    if timing is None:
        from xlalens.diff._kernels import kernel_times

        timing = (kernel_times(a), kernel_times(b))
    # NOTE: [gc pause] matching allocates many small lists and tuples while two
    # large graphs are alive; the cyclic collector would then rescan every graph
    # object again and again (measured: a third of the time at 10k nodes). Nothing
    # here creates reference cycles, so collection is paused and restored after.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _diff(g_a, g_b, all_attrs, timing)
    finally:
        if was_enabled:
            gc.enable()


def _diff(g_a: nx.MultiDiGraph, g_b: nx.MultiDiGraph, all_attrs: bool, timing) -> Diff:
    opt_a = g_a.graph.get("stage") == "optimized_hlo"
    opt_b = g_b.graph.get("stage") == "optimized_hlo"
    both = opt_a and opt_b
    # An optimized side is matched with its fusions inlined, across IR levels and
    # between two optimized graphs alike, so ops pair through fusion boundaries
    # (see NOTE: [flattening fusions across IR levels] in _match.py and NOTE:
    # [kernel map] in _kernels.py).
    m = match(g_a, g_b, flatten=(opt_a, opt_b), cost=not both)
    # Each side's kernels once: the kernel map, the summary and its bytes read them.
    ks = (kernels(g_a), kernels(g_b))
    na, nb = g_a._node, g_b._node  # node dicts: NodeView lookups cost 3x
    triples = list(m.pairs)
    kmap = None
    changes_of = _classify_pairs(triples, na, nb, m.labels, all_attrs)
    # The matcher's labels, by node id; the kernel instructions and fused parameters
    # that the kernel map pairs get theirs below, once each, for classifying their
    # pairs and for the edit cost (which would otherwise compute them again).
    lab_a, lab_b = m.labels if m.labels is not None else ({}, {})
    memo: dict[str, str] = {}  # NOTE: [attribute keys by repr]
    if both:
        # The nodes the flattened matching left out (fusions, fused parameters): the
        # kernel map pairs nearly all of them, so their labels are made in one batch
        # per side rather than one call per node below.
        for lab, nodes_ in ((lab_a, na), (lab_b, nb)):
            rest = [n for n in nodes_ if n not in lab]
            lab.update(zip(rest, node_labels(map(nodes_.__getitem__, rest), memo)))

    def same_label(x: str, y: str) -> bool:
        """Whether classify has nothing to report (NOTE: [equal labels classify as unchanged])."""
        p = lab_a.get(x)
        if p is None:
            p = lab_a[x] = node_label(na[x], memo)
        q = lab_b.get(y)
        if q is None:
            q = lab_b[y] = node_label(nb[y], memo)
        return not all_attrs and p == q and "NaN" not in p[4]

    if both:
        from xlalens.diff._kernels import kernel_map

        mapping = {x: y for x, y, _ in triples}
        changed: dict[str, str] = {
            x: "; ".join(f"{c.field}: {c.a} -> {c.b}" for c in ch)
            for x, ch in changes_of.items()
            if ch
        }

        def compare(x: str, y: str) -> str:
            if na[x]["op"] != nb[y]["op"]:
                return f"{_kernel_kind(na[x])} -> {_kernel_kind(nb[y])}"
            if same_label(x, y):
                return ""
            ch = classify(na[x], nb[y], all_attrs=all_attrs)
            return "; ".join(f"{c.field}: {c.a} -> {c.b}" for c in ch if c.field != "param_index")

        kmap = kernel_map(
            g_a,
            g_b,
            mapping,
            changed,
            times=timing,
            compare=compare,
            kernel_ids=ks,
            labels=m.labels,
        )
        extra = _kernel_node_pairs(g_a, g_b, kmap, mapping)
        if extra:
            triples.extend((x, y, KERNEL) for x, y in extra)
            # In A's node order: one walk over A's ids picks each node's pair (each
            # A node is in one pair at most), rather than a sort with a key per pair.
            by_a = {t[0]: t for t in triples}
            if len(by_a) == len(triples):
                triples = [t for n in g_a._node if (t := by_a.get(n)) is not None]
            else:
                order = dict(zip(g_a, range(len(g_a))))
                triples.sort(key=lambda t: order[t[0]])
    pairs = []
    for x, y, stage in triples:
        changes = changes_of.get(x)
        if changes is None:
            changes = () if same_label(x, y) else classify(na[x], nb[y], all_attrs=all_attrs)
            if stage == KERNEL and not all_attrs:
                # A fused parameter's number is the order XLA chose for the
                # fusion's operands, not a difference of what the kernel does.
                changes = tuple(c for c in changes if c.field != "param_index")
        pairs.append(Pair(x, y, CHANGED if changes else UNCHANGED, stage, changes))
    if both:
        from xlalens.diff._cost import edit_cost
        from xlalens.diff._match import Matching

        # The matcher's unpaired nodes (in graph order) less the kernel pairs' nodes.
        pa = {x for x, _ in extra}
        pb = {y for _, y in extra}
        m = Matching(
            pairs=tuple(triples),
            only_a=tuple(n for n in m.only_a if n not in pa),
            only_b=tuple(n for n in m.only_b if n not in pb),
            edit_cost=edit_cost(g_a, g_b, [(x, y) for x, y, _ in triples], labels=m.labels),
            edges=m.edges,
        )
    from xlalens.diff._collectives import collective_diff

    coll = None
    if _collectives_in(g_a, lab_a) or _collectives_in(g_b, lab_b):  # else no pair lists
        coll = collective_diff(
            g_a,
            g_b,
            [(p.a, p.b) for p in pairs],
            kmap,
            changes_of={p.a: p.changes for p in pairs},
        )
    return Diff(
        collectives=coll,
        a_info=_info(g_a),
        b_info=_info(g_b),
        pairs=tuple(pairs),
        only_a=m.only_a,
        only_b=m.only_b,
        summary=_summary(g_a, g_b, pairs, m, ks, (lab_a, lab_b)),
        kernel_map=kmap,
        all_attrs=all_attrs,
        a=g_a,
        b=g_b,
    )


def _classify_pairs(
    triples: list[tuple[str, str, str]],
    na: dict[str, dict[str, Any]],
    nb: dict[str, dict[str, Any]],
    labels: tuple[dict[str, tuple], dict[str, tuple]] | None,
    all_attrs: bool,
) -> dict[str, tuple[Change, ...]]:
    """:func:`classify` of every pair, by A's node id.

    NOTE: [equal labels classify as unchanged] Two nodes with equal
    :func:`~xlalens.diff._labels.node_label` tuples have nothing for
    :func:`classify` to report when hidden attributes are left out: the label
    holds every field it compares (op, dtype, shape, the layout's key, role,
    parameter number, the sharding and collective records, and the attributes it
    reads, JSON-encoded with sorted keys). The matcher has computed the labels
    already, so a pair with equal labels skips the dict walk (on a 10^5-node
    module most pairs are equal, but their names differ, so ``da == db`` does not
    catch them). One exception: JSON's ``NaN`` never equals itself, so classify
    reports a change there; a label whose attributes hold ``NaN`` is classified.
    """
    lab_a, lab_b = labels if labels is not None and not all_attrs else ({}, {})
    out: dict[str, tuple[Change, ...]] = {}
    for x, y, _ in triples:
        p = lab_a.get(x)
        if p is not None and p == lab_b.get(y) and "NaN" not in p[4]:
            out[x] = ()
        else:
            out[x] = classify(na[x], nb[y], all_attrs=all_attrs)
    return out


def _kernel_kind(d: dict[str, Any]) -> str:
    """``fusion(kLoop)``, ``custom-call(__onednn$matmul)`` or the op, for kernel headers."""
    attrs = d.get("attrs") or {}
    extra = attrs.get("kind") if d["op"] == "fusion" else attrs.get("custom_call_target")
    return f"{d['op']}({extra})" if extra else d["op"]


def _kernel_node_pairs(g_a, g_b, kmap, mapping: dict[str, str]) -> list[tuple[str, str]]:
    """Fusion instructions of 1:1 kernel pairs, and their fused parameters, paired.

    Matching with fusions inlined leaves both unpaired; a fused parameter pairs
    with the one of the partner fusion that reads the partner of its operand.
    """
    from xlalens.diff._kernels import CHANGED_BODY, SAME_BODY

    na, nb = g_a._node, g_b._node
    ca, cb = g_a.graph.get("computations", {}), g_b.graph.get("computations", {})
    out: list[tuple[str, str]] = []
    mapped_b = set(mapping.values())
    fusions: list[tuple[str, str]] = []
    for kp in kmap.pairs:
        if kp.kind not in (SAME_BODY, CHANGED_BODY):
            continue
        x, y = kp.a[0], kp.b[0]
        if na[x]["op"] != "fusion" or nb[y]["op"] != "fusion" or x in mapping or y in mapped_b:
            continue
        fusions.append((x, y))
    out.extend(fusions)
    known = {**mapping, **dict(fusions)}
    pred_a, pred_b = g_a._pred, g_b._pred
    for x, y in fusions:
        if not (na[x]["calls"] and nb[y]["calls"]):
            continue
        params_a = ca.get(na[x]["calls"][0], {}).get("params", [])
        params_b = cb.get(nb[y]["calls"][0], {}).get("params", [])
        ops_a = {k: u for u, keyed in pred_a[x].items() for k in keyed}
        pos_b = {u: k for u, keyed in pred_b[y].items() for k in keyed}
        taken: set[int] = set()
        for i, p in enumerate(params_a):
            j = pos_b.get(known.get(ops_a.get(i), ""))
            if j is None and i < len(params_b):
                # The operand's partner is not an operand of y: the parameter
                # at the same number still pairs when its type agrees.
                q = params_b[i]
                if (na[p]["dtype"], tuple(na[p]["shape"])) == (
                    nb[q]["dtype"],
                    tuple(nb[q]["shape"]),
                ):
                    j = i
            if j is not None and j < len(params_b) and j not in taken:
                taken.add(j)
                out.append((p, params_b[j]))
    # Each node at most once (two operands of A can read one value of B).
    seen_b: set[str] = set()
    uniq = []
    for x, y in out:
        if y not in seen_b:
            seen_b.add(y)
            uniq.append((x, y))
    return uniq
