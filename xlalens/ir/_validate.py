"""Checking a graph against the schema (``_schema``): :func:`validate` in one pass, and the
rule-by-rule check that names what broke.

The schema itself (fields, kinds, defaults) is defined in ``_schema``; this module only checks it.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import chain
from operator import itemgetter
from typing import Any

import networkx as nx

from xlalens.ir._schema import (
    COLLECTIVE_KEYS,
    COMPUTATION_KINDS,
    EDGE_FIELDS,
    EDGE_KINDS,
    FORMATS,
    GRAPH_FIELDS,
    LEVELS,
    NODE_FIELDS,
    SCHEMA_VERSION,
    SHARDING_KEYS,
    SHARDING_TYPES,
    STAGES,
    SchemaError,
)


def _plain(value: Any, where: str) -> None:
    if value is None or isinstance(value, (str, int, float, bool)):
        return
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _plain(item, f"{where}[{i}]")
        return
    if isinstance(value, dict):
        for k, item in value.items():
            if not isinstance(k, str):
                raise SchemaError(f"{where}: key {k!r} is not a str; attrs must be JSON-like")
            _plain(item, f"{where}.{k}")
        return
    raise SchemaError(
        f"{where}: {type(value).__name__} is not plain data; convert it to "
        "str/int/float/bool/None/list/dict before storing it in attrs"
    )


def _check_fields(what: str, data: dict, fields: dict[str, tuple[type, ...]]) -> None:
    for field, types in fields.items():
        if field not in data:
            raise SchemaError(f"{what}: missing field {field!r}; every {what.split()[0]} needs it")
        value = data[field]
        # bool is an int subclass; do not let True pass as an operand index.
        if isinstance(value, bool) and bool not in types:
            raise SchemaError(f"{what}: field {field!r} is a bool, expected {types}")
        if not isinstance(value, types):
            names = "/".join(t.__name__ for t in types)
            raise SchemaError(
                f"{what}: field {field!r} is {type(value).__name__} ({value!r:.60}), expected {names}"
            )


def _check_sharding(what: str, rec: Any) -> None:
    if not isinstance(rec, dict) or not set(SHARDING_KEYS) <= set(rec):
        raise SchemaError(f"{what}: sharding record needs the keys {SHARDING_KEYS}")
    if rec["type"] not in SHARDING_TYPES:
        raise SchemaError(f"{what}: sharding type {rec['type']!r} is not one of {SHARDING_TYPES}")
    if not isinstance(rec["replicated"], bool) or not isinstance(rec["manual"], bool):
        raise SchemaError(f"{what}: sharding 'replicated' and 'manual' must be bool")
    tiles, devices = rec["tile_dims"], rec["devices"]
    if devices is not None and tiles is not None:
        sub = 1
        for _kind, n in rec["subgroups"]:
            sub *= n
        prod = sub
        for n in tiles:
            prod *= n
        if prod != len(devices):
            raise SchemaError(
                f"{what}: sharding tiles {tiles} x subgroups {rec['subgroups']} cover {prod} "
                f"devices but the tile assignment lists {len(devices)}"
            )
    axes = rec["mesh_axes"]
    if axes is not None and (
        not isinstance(axes, list) or not all(isinstance(a, list) for a in axes)
    ):
        raise SchemaError(f"{what}: sharding mesh_axes must be a list of axis-name lists or None")
    if rec["type"] == "tuple":
        for i, e in enumerate(rec.get("tuple", [])):
            _check_sharding(f"{what} (tuple element {i})", e)


def _check_spmd(what: str, data: dict) -> None:
    """The sharding / device_shape / collective fields (docs/graph-schema.md)."""
    rec = data["sharding"]
    if rec is not None:
        _plain(rec, f"{what}.sharding")
        _check_sharding(what, rec)
    dev = data["device_shape"]
    if dev is not None:
        if not all(type(x) is int for x in dev) or len(dev) != len(data["shape"]):
            raise SchemaError(
                f"{what}: device_shape {dev!r} must be a tuple of int of the shape's rank "
                f"{len(data['shape'])}"
            )
    c = data["collective"]
    if c is not None:
        _plain(c, f"{what}.collective")
        if not set(COLLECTIVE_KEYS) <= set(c):
            raise SchemaError(f"{what}: collective record needs the keys {COLLECTIVE_KEYS}")
        groups = c["groups"]
        if c["kind"] == "collective-permute":
            want = 2 if groups else 1  # a source-target pair, or no pairs at all
        else:
            # XLA accepts groups of unequal sizes ({{0,2,4},{1,3,5,6}}); the size
            # recorded is the largest, which bounds the collective's time.
            if not groups:
                raise SchemaError(f"{what}: collective groups must list at least one group")
            want = max(len(g) for g in groups)
        if c["group_size"] != want:
            raise SchemaError(
                f"{what}: collective group_size {c['group_size']} does not match its groups ({want})"
            )
        if c["bytes_per_device"] < 0 or c["operand_bytes"] < 0:
            raise SchemaError(f"{what}: collective bytes must be >= 0")
        if not data["op"].startswith(c["kind"]):
            raise SchemaError(
                f"{what}: collective kind {c['kind']!r} differs from op {data['op']!r}"
            )


def validate(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """Check that ``graph`` follows the xlalens graph schema.

    Checks the graph, node and edge fields and their types, the enumerated
    values, that attrs hold only plain data, that every node's computation and
    called computations exist, that each computation's root and params are its
    own nodes, that operand indices of each node are exactly ``0..n-1``, that
    data edges stay inside one computation, and that each computation's
    dataflow is acyclic.

    NOTE: [one cheap pass] ``xlalens.load`` validates every graph it returns, so
    this runs on every load (issue 23: it used to cost more than the parse). The
    pass below checks the same rules column-wise: the set of distinct field-type
    signatures of all nodes (a few, whatever the size), the element types of all
    shapes at once, one walk over attrs containers, and one walk over the
    operand edges that also proves the dataflow acyclic when program order is a
    topological order (the readers add operands before their users). Where any
    check fails, :func:`_validate_full` runs the rules one by one to name the
    first node, edge or field that breaks one.

    Args:
        graph: a graph produced by an xlalens reader or transformation.

    Returns:
        The same graph, so calls can be chained.

    Raises:
        SchemaError: naming the first node, edge or field that breaks a rule.

    Example:
        >>> from xlalens.ir import load, validate
        >>> validate(load("HloModule m\\nENTRY e { ROOT p = f32[] parameter(0) }"))  # doctest: +SKIP
    """
    if not isinstance(graph, nx.MultiDiGraph) or not _fast_ok(graph):
        return _validate_full(graph)
    return graph


_NODE_GET = itemgetter(*NODE_FIELDS)
_NODE_TYPES = tuple(frozenset(t) for t in NODE_FIELDS.values())
_EDGE_KINDS_SET = frozenset(EDGE_KINDS)
_SCALARS = frozenset({str, int, float, bool, type(None)})
_CONTAINERS = frozenset({list, tuple, dict})
_get_shape = itemgetter("shape")
_get_attrs = itemgetter("attrs")
_get_comp = itemgetter("computation")
_get_calls = itemgetter("calls")
_get_fusion = itemgetter("fusion")


def _node_sig(d: dict) -> tuple:
    return tuple(map(type, _NODE_GET(d)))


def _attrs_plain(values: Iterable[Any]) -> bool:
    """Whether every value (dicts, lists, tuples nested) is plain data with str keys."""
    stack = [v for v in values if v]
    scalars = _SCALARS
    while stack:
        obj = stack.pop()
        if type(obj) is dict:
            try:
                "".join(obj)  # C-speed check that every key is a str
            except TypeError:
                return False
            items = obj.values()
        else:
            items = obj
        for v in items:
            t = type(v)
            if t in scalars:
                continue
            if t is list or t is tuple or t is dict:
                if v:
                    stack.append(v)
                continue
            return False
    return True


def _fast_ok(
    graph: nx.MultiDiGraph, only: set[str] | None = None, edges_also: set[str] | None = None
) -> bool:
    """The schema rules in one column-wise pass; False where any may be broken.

    ``only``: check the node-local rules (field types, shape, attrs, sharding,
    operand edges) of these nodes alone; the references between nodes and
    computations are checked for every node all the same (cheap column checks),
    but for the computation records (NOTE [computation records by construction]).
    """
    if not _graph_ok(graph, records=only is None):
        return False
    nodes = graph._node
    comps: dict = graph.graph["computations"]
    vals = nodes.values()
    if only is None:
        ids: Any = nodes
        sel: Any = vals
        items: Any = nodes.items()
        preds_of: Any = graph._pred.items()
    else:
        ids = [n for n in only if n in nodes]
        sel = [nodes[n] for n in ids]
        items = zip(ids, sel)
        pred = graph._pred
        preds_of = [(n, pred[n]) for n in ids]
        if edges_also:
            # NOTE: [rewired nodes] Their fields keep the rules by construction (see
            # ``_canonical.canonicalize``'s ``rewired``): their operand edges alone.
            preds_of += [(n, pred[n]) for n in edges_also if n in nodes and n not in only]
    try:
        sigs = set(map(_node_sig, sel))
    except (KeyError, TypeError):
        return False
    for sig in sigs:
        for t, allowed in zip(sig, _NODE_TYPES, strict=True):
            if t not in allowed:
                return False
    if not set(map(type, ids)) <= {str}:
        return False
    if not set(map(type, chain.from_iterable(map(_get_shape, sel)))) <= {int}:
        return False
    # NOTE: [what the canonical rules cannot break] With ``only`` (a lowered graph
    # the canonical rules rewrote: ``validate_touched``), two whole-graph columns
    # hold by construction and are not walked again: no rule writes a node's
    # ``computation``, and a computation goes (summarize_reducers) only with all of
    # its nodes and after its name left the ``calls`` of every caller its record
    # lists, which the lowering fills from every call. The touched nodes' own
    # fields are checked above and their calls here.
    if only is None:
        if not set(map(_get_comp, vals)) <= comps.keys():
            return False
        if not set(chain.from_iterable(map(_get_calls, vals))) <= comps.keys():
            return False
    elif (
        not set(chain.from_iterable(map(_get_calls, sel))) <= comps.keys()
        or not set(map(_get_comp, sel)) <= comps.keys()
    ):
        return False
    # With ``only``, the checked nodes' fusion references alone: no rule writes
    # ``fusion``, and the nodes the rules remove are no other node's kernel (a
    # no-op or a dead constant calls nothing, so only it names itself; a reducer's
    # nodes are not entry instructions, and a removed entry fails ``_graph_ok``).
    # The whole column was a quarter of this check on optimized HLO (issue 23).
    fusions = set(map(_get_fusion, vals if only is None else sel))
    fusions.discard(None)
    if not fusions <= nodes.keys():
        return False
    if not _attrs_plain(map(_get_attrs, sel)):
        return False
    for nid, d in items:
        if (
            d["sharding"] is not None
            or d["device_shape"] is not None
            or d["collective"] is not None
        ):
            try:
                _check_spmd(f"node {nid!r}", d)
            except SchemaError:
                return False
    # Operand edges: keys 0..n-1, edge fields, no data edge across computations, and
    # program order is a topological order of the data edges (hence no cycle).
    # NOTE: [the check at the load's peak] On a canonical load this check runs at the
    # load's peak (the graph whole, the rules' lists still held): the program
    # positions of the checked nodes and their producers go in one dict, the
    # computations are read from the node dicts and the edge records' column
    # signatures go straight into a set (a map per node id, one per position and a
    # list of every (key, record) item were 5 MB at the end of a 156k-instruction
    # canonical load; issue 23).
    if only is None:
        order = dict(zip(nodes, range(len(nodes))))
    else:
        order = dict.fromkeys(u for v, preds in preds_of for u in (v, *preds))
        if order:  # (nothing to check: no walk over every node for positions)
            for i, n in enumerate(nodes):
                if n in order:
                    order[n] = i
            if None in order.values():
                return False  # an operand that is not a node
    in_order = True
    rows: set[tuple] = set()
    add_rows = rows.update
    try:
        for v, preds in preds_of:
            if not preds:
                continue
            pv = order[v]
            cv = nodes[v]["computation"]
            n = 0
            for u, keyed in preds.items():
                n += len(keyed)
                add_rows(map(_edge_sig, keyed.items()))
                if order[u] > pv or nodes[u]["computation"] != cv:
                    # Across computations: only capture edges may; out of order: Kahn below.
                    for e in keyed.values():
                        if e.get("kind") == "data":
                            if nodes[u]["computation"] != cv:
                                return False
                            in_order = False
            if n == 1:
                if 0 not in next(iter(preds.values())):
                    return False
            else:
                keys = [k for keyed in preds.values() for k in keyed]
                if sorted(keys) != list(range(n)):
                    return False
    except (KeyError, TypeError):
        return False
    # The edge records column-wise: distinct (key == operand_index, field types) rows.
    for same_index, kind, t_dtype, t_shape, t_dev in rows:
        if (
            not same_index
            or kind not in _EDGE_KINDS_SET
            or t_dtype is not str
            or t_shape is not tuple
            or t_dev not in (type(None), tuple)
        ):
            return False
    if any(row[4] is tuple for row in rows):
        for _v, preds in preds_of:
            for keyed in preds.values():
                for e in keyed.values():
                    dev = e.get("device_shape")
                    if dev is not None and not set(map(type, dev)) <= {int}:
                        return False
    return in_order or _data_acyclic(graph)


def _edge_sig(item: tuple) -> tuple:
    k, e = item
    return (
        type(k) is int and e["operand_index"] == k,
        e["kind"],
        type(e["dtype"]),
        type(e["shape"]),
        type(e.get("device_shape")),
    )


def _data_acyclic(graph: nx.MultiDiGraph) -> bool:
    """Kahn's algorithm over the data edges (for graphs not built in program order)."""
    pending = {}
    for v, preds in graph._pred.items():
        pending[v] = sum(
            1 for keyed in preds.values() for e in keyed.values() if e["kind"] == "data"
        )
    ready = [v for v, c in pending.items() if c == 0]
    seen = 0
    succ = graph._succ
    while ready:
        u = ready.pop()
        seen += 1
        for v, keyed in succ[u].items():
            for e in keyed.values():
                if e["kind"] == "data":
                    pending[v] -= 1
                    if pending[v] == 0:
                        ready.append(v)
    return seen == len(pending)


def validate_lowered(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """Validate a graph the HLO reader has just built: the graph-level rules only.

    NOTE: [checked while lowering] ``xlalens.ir.hlo._lower`` builds every node
    from one dict literal with the schema's fields and types, shapes from
    parsed ints, attrs from decoders that return plain data, and each operand
    edge from an operand defined earlier in the same computation (keys
    ``0..n-1``, program order = a topological order). Those rules hold by
    construction there, and so do the computation records (NOTE [computation
    records by construction] in :func:`_graph_ok`): ``xlalens.load`` checks only
    the graph fields and the entry. The tests hold the lowering to it: every
    reader test validates its graphs with the full :func:`validate`.
    """
    if not isinstance(graph, nx.MultiDiGraph) or not _graph_ok(graph, records=False):
        return _validate_full(graph)
    return graph


def validate_touched(
    graph: nx.MultiDiGraph, touched: set[str], rewired: set[str] | None = None
) -> nx.MultiDiGraph:
    """Validate a freshly lowered graph that the canonical rules rewrote in place.

    NOTE: [checked while lowering] continued: the lowering's nodes hold the
    node-local rules by construction; the canonical rules change only the nodes
    they list in ``touched`` (``_canonical.canonicalize``) and remove others.
    So the node-local rules (fields, shape, attrs, sharding, operand keys and
    edges, program order) are checked on the touched nodes, and everything that
    a removal or rewiring can break on any node (graph fields, acyclicity when an
    edge goes against program order) on the whole graph; each node's computation,
    calls and fusion reference hold by construction (NOTE [what the canonical rules
    cannot break] in ``_fast_ok``, and the comment above its fusion check), as do
    the computation records (NOTE [computation records by construction] in
    :func:`_graph_ok`). Where a check fails, the full rule-by-rule
    :func:`_validate_full` names the break. ``rewired``: nodes whose operand edges
    are checked, not their fields (NOTE [rewired nodes]): re-checking the attrs of
    each user of a dropped no-op (all of a node's decoded backend_config) was most
    of this check on pre-optimization HLO (issue 23).
    """
    if not isinstance(graph, nx.MultiDiGraph) or not _fast_ok(graph, touched, rewired):
        return _validate_full(graph)
    return graph


def _graph_ok(graph: nx.MultiDiGraph, records: bool = True) -> bool:
    """The graph-level and computation rules (the first part of :func:`_fast_ok`).

    NOTE: [computation records by construction] ``records=False``: the entry only,
    not each computation's record (its keys and kind, and its root, parameters and
    callers as nodes of the graph). The HLO reader builds each record from one
    literal with the schema's keys and a kind from its table, then fills root,
    parameters and callers with ids it has just made in that computation (callers:
    the nodes whose ``calls`` it extends in the same step). The canonical rules keep
    them: a root is replaced only by the dropped no-op's operand, a node of the
    same computation (``_comp_root_replace``); no rule removes a parameter, a root
    (``fold_scalar_constants`` keeps a dead root) or a node that calls (no-op
    candidates call nothing, nor do dead constants or a reducer's three nodes); a
    record goes only with all of its nodes, once its name has left its callers'
    ``calls`` (``summarize_reducers``). Looking each reference up again read a node
    dict gone cold since it was built, 2 us a computation, and optimized HLO has
    one per 10-20 instructions: a thirtieth of a GPT-2's load (issue 23). Every
    graph of the reader's tests, and the real modules' raw and canonical loads,
    pass the full rule-by-rule check (``tests/core``).
    """
    ga = graph.graph
    if not GRAPH_FIELDS.keys() <= ga.keys():
        return False
    for field, types in GRAPH_FIELDS.items():
        if type(ga[field]) not in types:
            return False
    if (
        ga["schema_version"] != SCHEMA_VERSION
        or ga["format"] not in FORMATS
        or ga["stage"] not in STAGES
        or ga["level"] not in LEVELS
        or not _attrs_plain([ga["attrs"], ga["source"]])
    ):
        return False
    nodes = graph._node
    comps: dict = ga["computations"]
    if nodes and ga["entry"] not in comps:
        return False
    if not records:
        return True
    for cname, comp in comps.items():
        if type(comp) is not dict or not {"kind", "root", "params", "callers"} <= comp.keys():
            return False
        if comp["kind"] not in COMPUTATION_KINDS:
            return False
        root = comp["root"]
        if root is not None and (root not in nodes or nodes[root]["computation"] != cname):
            return False
        for ref in comp["params"]:
            if ref not in nodes or nodes[ref]["computation"] != cname:
                return False
        for caller in comp["callers"]:
            if caller not in nodes or cname not in nodes[caller]["calls"]:
                return False
    return True


def _validate_full(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """:func:`validate`, rule by rule: each rule in turn names the first node, edge or
    field that breaks it (what :func:`validate` runs when its one cheap pass fails).

    Checks the graph, node and edge fields and their types, the enumerated
    values, that attrs hold only plain data, that every node's computation and
    called computations exist, that each computation's root and params are its
    own nodes, that operand indices of each node are exactly ``0..n-1``, that
    data edges stay inside one computation, and that each computation's
    dataflow is acyclic.
    """
    if not isinstance(graph, nx.MultiDiGraph):
        raise SchemaError(
            f"graph is a {type(graph).__name__}; xlalens graphs are networkx.MultiDiGraph "
            "(use xlalens.load to build one)"
        )
    _check_fields("graph", graph.graph, GRAPH_FIELDS)
    ga = graph.graph
    if ga["schema_version"] != SCHEMA_VERSION:
        raise SchemaError(
            f"graph: schema_version {ga['schema_version']} is not {SCHEMA_VERSION}; "
            "re-create the graph with this xlalens version"
        )
    for field, allowed in (("format", FORMATS), ("stage", STAGES), ("level", LEVELS)):
        if ga[field] not in allowed:
            raise SchemaError(f"graph: {field}={ga[field]!r} is not one of {allowed}")
    _plain(ga["attrs"], "graph.attrs")
    _plain(ga["source"], "graph.source")
    comps: dict = ga["computations"]
    if graph.number_of_nodes() and ga["entry"] not in comps:
        raise SchemaError(
            f"graph: entry {ga['entry']!r} is not among computations {sorted(comps)[:8]}"
        )
    for cname, comp in comps.items():
        if not isinstance(comp, dict) or not {"kind", "root", "params", "callers"} <= set(comp):
            raise SchemaError(
                f"computation {cname!r}: needs a dict with kind, root, params, callers"
            )
        if comp["kind"] not in COMPUTATION_KINDS:
            raise SchemaError(
                f"computation {cname!r}: kind {comp['kind']!r} is not one of {COMPUTATION_KINDS}"
            )
        for ref in [comp["root"], *comp["params"]]:
            if ref is None:
                continue
            if ref not in graph or graph.nodes[ref].get("computation") != cname:
                raise SchemaError(
                    f"computation {cname!r}: root/param {ref!r} is not a node of that computation"
                )
        for caller in comp["callers"]:
            if caller not in graph or cname not in graph.nodes[caller].get("calls", []):
                raise SchemaError(
                    f"computation {cname!r}: caller {caller!r} does not list it in its calls"
                )

    for nid, data in graph.nodes(data=True):
        what = f"node {nid!r}"
        if not isinstance(nid, str):
            raise SchemaError(f"{what}: node ids are str '<computation>/<name>'")
        _check_fields(what, data, NODE_FIELDS)
        if not all(isinstance(d, int) and not isinstance(d, bool) for d in data["shape"]):
            raise SchemaError(f"{what}: shape {data['shape']!r} must be a tuple of int")
        if data["computation"] not in comps:
            raise SchemaError(
                f"{what}: computation {data['computation']!r} is not in graph.graph['computations']"
            )
        for callee in data["calls"]:
            if callee not in comps:
                raise SchemaError(f"{what}: calls unknown computation {callee!r}")
        if data["fusion"] is not None and data["fusion"] not in graph:
            raise SchemaError(f"{what}: fusion {data['fusion']!r} is not a node id")
        _plain(data["attrs"], f"{what}.attrs")
        _check_spmd(what, data)
        indices = sorted(k for _, _, k in graph.in_edges(nid, keys=True))
        if indices != list(range(len(indices))):
            raise SchemaError(
                f"{what}: operand indices {indices} are not 0..{len(indices) - 1}; "
                "each operand needs exactly one edge keyed by its position"
            )

    for u, v, k, data in graph.edges(keys=True, data=True):
        what = f"edge {u!r} -> {v!r} (operand {k})"
        _check_fields(what, data, EDGE_FIELDS)
        if data["operand_index"] != k:
            raise SchemaError(f"{what}: operand_index {data['operand_index']} differs from key {k}")
        if data["kind"] not in EDGE_KINDS:
            raise SchemaError(f"{what}: kind {data['kind']!r} is not one of {EDGE_KINDS}")
        dev = data.get("device_shape")
        if dev is not None and (not isinstance(dev, tuple) or not all(type(x) is int for x in dev)):
            raise SchemaError(f"{what}: device_shape {dev!r} must be a tuple of int or absent")
        same = graph.nodes[u]["computation"] == graph.nodes[v]["computation"]
        if data["kind"] == "data" and not same:
            raise SchemaError(
                f"{what}: data edge crosses computations; mark region captures kind='capture'"
            )

    data_only = nx.DiGraph((u, v) for u, v, d in graph.edges(data=True) if d["kind"] == "data")
    if not nx.is_directed_acyclic_graph(data_only):
        cycle = nx.find_cycle(data_only)
        raise SchemaError(f"graph: dataflow has a cycle through {cycle[:4]}; HLO dataflow is a DAG")
    return graph
