"""Lowering: the grammar's :class:`~xlalens.ir.hlo._syntax.Module` -> the xlalens graph (raw level).

What goes where is documented in docs/hlo-reader.md ("How attributes land in
the schema"): node fields for name/opcode/type/metadata, ``attrs`` for every
attribute (text decoded to ints, int lists, bools and strings where it is
one of those, else kept as text), and decoded forms for the structured ones
(``sharding_parsed``, ``replica_groups_parsed``, ``source_target_pairs``,
``window_parsed``, ``slice_parsed``, ``padding_parsed``,
``output_to_operand_aliasing_parsed``, ``statistics_parsed``).
"""

from __future__ import annotations

import re
import zlib
from bisect import bisect_right
from itertools import islice
from typing import TYPE_CHECKING, Any

import networkx as nx

from xlalens.ir._canonical_scan import DROP, KEEP, NOOP_OPS, SWAP
from xlalens.ir._collectives import COLLECTIVE_OPS, SPMD_ATTRS, annotate
from xlalens.ir._dicts import ATTRS_TEMPLATES, attrs_template, split_template
from xlalens.ir._gc import release_freed
from xlalens.ir._schema import canonical_op, new_graph, node_defaults
from xlalens.ir._sharding import parse_replica_groups, parse_sharding
from xlalens.ir.hlo._lex import Lexer
from xlalens.ir.hlo._rules import ARITY, REQUIRED, check
from xlalens.ir.hlo._syntax import Module
from xlalens.ir.hlo._values import (
    decode_json_or_raw,
    decode_kv,
    decode_value,
    literal_value,
    unquote,
)

if TYPE_CHECKING:
    from xlalens.ir._canonical import Walks

__all__ = ["CALL_ATTRS", "assign_kernels", "lower"]

# Which attribute names call a computation, and the computation kind they imply.
CALL_ATTRS = {
    "calls": "fusion",
    "to_apply": "reducer",
    "condition": "condition",
    "body": "body",
    "branch_computations": "branch",
    "true_computation": "branch",
    "false_computation": "branch",
    "called_computations": "other",
    "select": "reducer",
    "scatter": "reducer",
}

_META_FAST_RE = re.compile(r'\{op_name="([^"\\]*)"(?: stack_frame_id=(\d+))?\}$')
# TensorFlow's form: op_type, op_name, then source_file and source_line where the op has
# them (a Keras step's pre-optimization HLO has none on most ops, which took the general
# ``_metadata`` path: 9% of its load, issue 23).
_META_TF_RE = re.compile(
    r'\{op_type="([^"\\]*+)" op_name="([^"\\]*+)"'
    r'(?: source_file="([^"\\]*+)" source_line=(\d++))?\}$'
)
_META_RE = re.compile(r"([\w\-]+)=(\"(?:[^\"\\]|\\.)*\"|[^\s}]+)")
_INT_RE = re.compile(r"-?\d+$")
_ALIAS_RE = re.compile(
    r"\{([\d,\s]*)\}\s*:\s*\(\s*(\d+)\s*,\s*\{([\d,\s]*)\}\s*(?:,\s*([\w\-]+))?\s*\)"
)
_DIGITS_RE = re.compile(r"\d+")
_PAIR_RE = re.compile(r"\{\s*(-?\d+)\s*,\s*(-?\d+)\s*\}")
_SLICE_RE = re.compile(r"\[\s*(-?\d+)\s*:\s*(-?\d+)\s*(?::\s*(-?\d+)\s*)?\]")
_PAD_RE = re.compile(r"(-?\d+)_(-?\d+)(?:_(-?\d+))?")
_WINDOW_KV = re.compile(r"(\w+)=([^\s}]+)")
_STAT_KV = re.compile(r"([\w\-.]+)\s*=\s*([^,}\s]+)")
_OUT_ALIAS_RE = re.compile(r"\{([\d,\s]*)\}\s*:\s*\(\s*(\d+)\s*,\s*\{([\d,\s]*)\}\s*\)")


_ASYNC_SUFFIXES = ("-start", "-update", "-done")
# Opcodes with an operand count or required attributes to check (``_rules``).
RULE_OPS = frozenset(ARITY) | frozenset(REQUIRED)
# opcode -> (operand count or -1, required attribute names): the test ``check``
# makes, inlined for the instructions that pass it (nearly all); ``check`` words
# the message of the others.
_RULES: dict[str, tuple[int, frozenset[str]]] = {
    op: (ARITY.get(op, -1), frozenset(REQUIRED.get(op, ()))) for op in RULE_OPS
}

# Node counts just after the dicts of one entry per node grew (CPython 3.11 grows a
# dict built key by key on the insert past 2/3 of its table, 2**k slots), from the
# first growth whose freed tables are worth giving back (NOTE [freed heap pages go
# back at once] in ``xlalens.ir._gc``). Another rule only moves when that happens.
_GROWN_AT = [2 ** (k + 1) // 3 + 1 for k in range(15, 40)]

LITERAL_CHARS = 4096
"""Constant literals longer than this (characters) are elided in the graph."""


# Split-table templates (NOTE [one key table for every node] and NOTE [a values array
# sized to the fields] in ``xlalens.ir._dicts``).
_NODE_TEMPLATE = split_template({**node_defaults(), "dialect": "hlo"})
# Edge data in EDGE_FIELDS order; every operand edge the reader makes is "data".
# The one-key metadata the fast paths read: jax's frame id, TensorFlow's op type.
_FRAME_META_TEMPLATE = split_template({"stack_frame_id": 0})
_TYPE_META_TEMPLATE = split_template({"op_type": ""})
_EDGE_TEMPLATE = split_template({"operand_index": 0, "kind": "data", "dtype": None, "shape": None})


def _kind_for(attr: str, opcode: str) -> str:
    kind = CALL_ATTRS[attr]
    if attr == "to_apply" and opcode == "call":
        return "function"
    if attr == "calls" and opcode != "fusion":
        # async-start / custom wrappers: a called computation, not a fusion body.
        return "other"
    return kind


def _names(raw: str) -> list[str]:
    """``%a`` or ``{%a, %b}`` -> ``["a", "b"]``."""
    if raw.startswith("{"):
        raw = raw[1:-1]
    elif "," not in raw:  # one name (calls=, to_apply=): no split, no comprehension
        name = raw.strip().lstrip("%")
        return [name] if name else []
    return [p.strip().lstrip("%") for p in raw.split(",") if p.strip()]


def _window(raw: str) -> dict[str, Any]:
    """``{size=3x3 stride=2x2 pad=0_1x0_1 lhs_dilate=.. rhs_dilate=.. window_reversal=..}``."""
    out: dict[str, Any] = {}
    for key, val in _WINDOW_KV.findall(raw):
        if key == "pad":
            out["pad"] = [[int(a), int(b)] for a, b, _ in _PAD_RE.findall(val)]
        elif key in ("window_reversal", "rhs_reversal"):
            out[key] = [x == "1" for x in val.split("x")]
        else:
            try:
                out[key] = [int(x) for x in val.split("x")]
            except ValueError:
                out[key] = val
    return out


def _structured(key: str, raw: str, attrs: dict[str, Any]) -> None:
    """Add the decoded form of a structured attribute (see the module docstring)."""
    if key == "sharding":
        parsed = parse_sharding(raw)
        if parsed is not None:
            attrs["sharding_parsed"] = parsed
    elif key == "replica_groups":
        parsed = parse_replica_groups(raw)
        if parsed is not None:
            attrs["replica_groups_parsed"] = parsed
    elif key == "source_target_pairs":
        attrs["source_target_pairs_parsed"] = [[int(a), int(b)] for a, b in _PAIR_RE.findall(raw)]
    elif key == "window":
        attrs["window_parsed"] = _window(raw)
    elif key == "slice":
        attrs["slice_parsed"] = [
            [int(a), int(b), int(c) if c else 1] for a, b, c in _SLICE_RE.findall(raw)
        ]
    elif key == "padding":
        attrs["padding_parsed"] = [
            [int(a), int(b), int(c) if c else 0] for a, b, c in _PAD_RE.findall(raw)
        ]
    elif key == "output_to_operand_aliasing":
        attrs["output_to_operand_aliasing_parsed"] = [
            {
                "output_index": [int(x) for x in _DIGITS_RE.findall(m.group(1))],
                "operand": int(m.group(2)),
                "operand_index": [int(x) for x in _DIGITS_RE.findall(m.group(3))],
            }
            for m in _OUT_ALIAS_RE.finditer(raw)
        ]
    elif key == "statistics":
        stats: dict[str, Any] = {}
        for k, v in _STAT_KV.findall(raw):
            try:
                stats[k] = int(v)
            except ValueError:
                try:
                    stats[k] = float(v)
                except ValueError:
                    stats[k] = v
        attrs["statistics_parsed"] = stats


_STRUCTURED = frozenset(
    {
        "sharding",
        "replica_groups",
        "source_target_pairs",
        "window",
        "slice",
        "padding",
        "output_to_operand_aliasing",
        "statistics",
    }
)


def _metadata(raw: str, d: dict, attrs: dict, with_frames: list, nid: str) -> None:
    if not raw.startswith("{"):
        attrs["metadata"] = raw
        return
    extra: dict[str, Any] = {}
    for m in _META_RE.finditer(raw, 1, len(raw) - 1):
        key, val = m.group(1), m.group(2)
        if key == "op_name":
            d["op_name"] = unquote(val) if val[0] == '"' else val
        elif key == "source_file":
            d["source_file"] = unquote(val) if val[0] == '"' else val
        elif key == "source_line" and _INT_RE.match(val):
            d["source_line"] = int(val)
        elif key == "stack_frame_id" and _INT_RE.match(val):
            extra[key] = int(val)
            with_frames.append((nid, int(val)))
        else:
            extra[key] = decode_value(val)
    if extra:
        attrs["metadata"] = extra


def _stack_frames(tables: dict[str, dict[int, str]]) -> dict[int, tuple[str, int | None]]:
    """stack_frame_id -> (file, line) of that (innermost) frame."""
    frames = tables.get("StackFrames")
    if not frames:
        return {}
    files = {k: unquote(v) if v[:1] in "\"'" else v for k, v in tables.get("FileNames", {}).items()}
    locs: dict[int, tuple[str, int | None]] = {}
    for k, v in tables.get("FileLocations", {}).items():
        f = dict(_META_RE.findall(v))
        fid = f.get("file_name_id", "")
        line = f.get("line", "")
        if fid.isdigit() and int(fid) in files:
            locs[k] = (files[int(fid)], int(line) if line.isdigit() else None)
    out: dict[int, tuple[str, int | None]] = {}
    for k, v in frames.items():
        f = dict(_META_RE.findall(v))
        lid = f.get("file_location_id", "")
        if lid.isdigit() and int(lid) in locs:
            out[k] = locs[int(lid)]
    return out


def _frame_table(tables: dict[str, dict[int, str]]) -> dict[str, dict[str, Any]]:
    """The module's whole call stacks: frame id -> file, line, function and parent frame id.

    Kept in ``graph.graph["attrs"]["stack_frames"]`` (ids as strings, JSON-ready) so
    that ``xlalens.ir._locations.source_stack`` walks an op's full stack from its
    ``metadata.stack_frame_id``. XLA prints ``parent_frame_id`` as the parent's
    printed id plus one, 1 for a root (checked with jaxlib 0.10.2 on a scanned
    step: ``rms_norm``'s frame names ``decoder_layer``'s line that calls it).
    """
    frames = tables.get("StackFrames")
    if not frames:
        return {}
    files = {k: unquote(v) if v[:1] in "\"'" else v for k, v in tables.get("FileNames", {}).items()}
    funcs = {
        k: unquote(v) if v[:1] in "\"'" else v for k, v in tables.get("FunctionNames", {}).items()
    }
    locs: dict[int, dict[str, str]] = {
        k: dict(_META_RE.findall(v)) for k, v in tables.get("FileLocations", {}).items()
    }
    out: dict[str, dict[str, Any]] = {}
    for k, v in frames.items():
        f = dict(_META_RE.findall(v))
        loc = (
            locs.get(int(f["file_location_id"]))
            if f.get("file_location_id", "").isdigit()
            else None
        )
        if loc is None:
            continue
        fid, fun, line = (
            loc.get("file_name_id", ""),
            loc.get("function_name_id", ""),
            loc.get("line", ""),
        )
        parent = f.get("parent_frame_id", "")
        out[str(k)] = {
            "file": files.get(int(fid)) if fid.isdigit() else None,
            "function": funcs.get(int(fun)) if fun.isdigit() else None,
            "line": int(line) if line.isdigit() else None,
            # XLA prints the parent one above its printed id; 1 is "no parent".
            "parent": str(int(parent) - 1) if parent.isdigit() and int(parent) > 1 else None,
        }
    return out


def _module_attrs(raw: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, val in raw.items():
        if key == "input_output_alias":
            out[key] = [
                {
                    "output_index": [int(x) for x in _DIGITS_RE.findall(m.group(1))],
                    "parameter_number": int(m.group(2)),
                    "parameter_index": [int(x) for x in _DIGITS_RE.findall(m.group(3))],
                    "kind": m.group(4) or "may-alias",
                }
                for m in _ALIAS_RE.finditer(val)
            ]
        elif key == "entry_computation_layout":
            out[key] = val[1:-1] if val.startswith("{") else val
        elif key == "frontend_attributes" and val.startswith("{"):
            out[key] = decode_kv(val)
        else:
            out[key] = decode_value(val)
    return out


def lower(
    mod: Module,
    lexer: Lexer,
    stage: str,
    ops_seen: set[str] | None = None,
    walks: Walks | None = None,
) -> nx.MultiDiGraph:
    """Build the raw-level graph of a parsed module.

    Args:
        mod: the grammar's output.
        lexer: the lexer of the same buffer (errors point into it).
        stage: the requested stage; ``unknown`` becomes ``optimized_hlo`` when
            the header says ``is_scheduled=true``.
        ops_seen: when given, receives every node ``op`` of the graph (so that a
            caller can skip whole-graph passes for ops the module lacks).
        walks: when given, receives the node lists the canonical rules would walk
            the graph for (NOTE [the rules' walks done while lowering] in
            ``xlalens.ir._canonical``).

    Returns:
        The graph (not yet validated).
    """
    scheduled = mod.attrs_raw.get("is_scheduled") == "true"
    if scheduled and stage == "unknown":
        stage = "optimized_hlo"
    # Optimized HLO: each node's ``fusion`` is the kernel that runs it (assign_kernels).
    kernels = stage == "optimized_hlo" or scheduled
    entry = None
    for c in mod.computations:
        if c.is_entry:
            if entry is not None:
                raise lexer.fail(c.pos, f"a second ENTRY computation (first: {entry!r})")
            entry = c.name
    if entry is None:
        # XLA takes the last computation as the entry when none says ENTRY.
        entry = [c for c in mod.computations if not c.wrapped][-1].name
    g = new_graph(format="hlo", stage=stage, module=mod.name, entry=entry)
    g.graph["attrs"] = _module_attrs(mod.attrs_raw)
    if lexer.source is not None:
        g.graph["source"] = {"path": lexer.source}
    frames = _stack_frames(mod.tables)
    stacks = _frame_table(mod.tables)
    if stacks:
        g.graph["attrs"]["stack_frames"] = stacks
    computations: dict[str, dict[str, Any]] = {}
    # NOTE: [building networkx internals directly]
    # add_node/add_edge cost several dict lookups and a cache clear per call;
    # for a 36k-node module that alone would exceed the parse time. We fill the
    # same dicts networkx's own add_edge fills (node -> attr dict, succ[u][v]
    # and pred[v][u] sharing one key dict) for a fresh graph, and validate()
    # checks the result in the tests.
    gnode = g._node
    gsucc = g._adj
    gpred = g._pred
    # NOTE: [one string per distinct text] Each instruction's type text, opcode,
    # attribute names and values come out of the regexes as fresh strings, though a
    # 156k-instruction module has a few hundred distinct of each. The grammar's fast
    # path keeps the first type text and opcode seen (``_syntax``); here the opcode
    # (again, for the long path's instructions), the attribute names and the
    # decoded attribute values (a list is copied: each node owns its attrs). 28 MB
    # of that module's graph, and fewer decodes.
    opcache: dict[str, tuple[str, str, int, frozenset[str]]] = {}
    decoded: dict[str, Any] = {}
    keys: dict[str, str] = {}
    new_node = _NODE_TEMPLATE.copy
    new_edge = _EDGE_TEMPLATE.copy
    attrs_tpls = ATTRS_TEMPLATES
    new_frame_meta = _FRAME_META_TEMPLATE.copy
    new_type_meta = _TYPE_META_TEMPLATE.copy
    meta_fast = _META_FAST_RE.match
    check_rules = check
    rules_of = _RULES.get
    meta_tf = _META_TF_RE.match
    # NOTE: [calls recorded as they are read] A call to a computation already read
    # (XLA prints callees first) goes into its record at once; the others (a
    # callee further down, a call of its own computation, an unknown name) wait
    # here, as every call did (a tuple and a position each: 1.3 MB at the end of a
    # 156k-instruction module's loop, its peak; issue 23). They are earlier in
    # program order than any call of the same callee recorded at once, so they go
    # first in its callers, and the first of their kinds wins, as in one pass.
    pending_calls: list[tuple[str, str, str, str, int]] = []
    # Each computation's nodes that call one, in node order (for assign_kernels only).
    calling: dict[str, list[str]] | None = {} if kernels else None

    def call(nid: str, callee: str, kind: str, cname: str, npos: int) -> None:
        info = computations.get(callee)
        if info is None or callee == cname:
            pending_calls.append((nid, callee, kind, cname, npos))
            return
        if info["kind"] == "other" and callee != entry:
            info["kind"] = kind
        callers = info["callers"]
        # The same node calling it again (a while whose body is its condition)
        # follows its own first call: every other caller is a later node.
        if not callers or callers[-1] != nid:
            callers.append(nid)

    # The nodes annotate() can give a sharding or collective record (the others keep None).
    spmd_nodes: dict[str, None] = {}  # (a dict: the no-op check below asks for members)
    coll_ops = COLLECTIVE_OPS
    spmd_attrs = SPMD_ATTRS
    with_frames: list[tuple[str, int]] = []
    # How many nodes each computation has: its nodes are consecutive in ``gnode``.
    sizes: list[tuple[str, int]] = []
    # -update / -done of async sugar: the computation of the start they consume.
    sugar_calls: dict[str, str] = {}
    sugar = any(c.wrapped for c in mod.computations)
    walk_ops = walks.ops if walks is not None else None
    walk_add = walks.add if walks is not None else None
    walk_reducer = walks.reducer if walks is not None else None
    drop_early = walks is not None and not kernels
    noop_ops = NOOP_OPS
    for comp in mod.computations:
        cname = comp.name
        params: dict[int, str] = {}
        root = None
        local: dict[str, str] = {}
        dropped = 0  # no-ops left out (NOTE [no-ops dropped while lowering])
        info: dict[str, Any] = {
            "kind": "entry" if cname == entry else "other",
            "root": None,
            "params": [],
            "callers": [],
        }
        if comp.execution_thread is not None:
            info["execution_thread"] = comp.execution_thread
        computations[cname] = info
        instrs = comp.instrs
        # NOTE: [the parse tree goes as the graph grows] Each instruction's record
        # (its operand list and raw attribute text) is dropped once its node is
        # built, so the parse tree and the graph are not both whole at the peak
        # (issue 23: 75 MB of a 156k-instruction module's 441 MB). The records are
        # popped off the reversed list, whose table shrinks as they go (the entry's,
        # 1.3 MB of pointers, was whole at the loop's end, the peak). The async-sugar
        # pass below reads them again, so modules with sugar keep a copy.
        kept = list(instrs) if sugar else None
        prefix = cname + "/"  # of each node id (xlalens.ir._schema.node_id)
        outside = cname != entry  # (no node here gets a role: Walks.add)
        instrs.reverse()
        pop = instrs.pop
        # The index in ``instrs`` after which gnode and its fellows have just grown.
        size0 = len(gnode)
        grown = _GROWN_AT[bisect_right(_GROWN_AT, size0)] - size0 - 1
        # ``oref``: the operands' offset from the name (NOTE [positions as offsets]).
        for j in range(len(instrs)):
            name, is_root, typ, tinfo, opcode, ops, attrs_raw, npos, oref = pop()
            nid = prefix + name
            if name in local:
                raise lexer.fail(npos, f"instruction {name!r} is defined twice in {cname!r}")
            local[name] = nid
            dtype, shape, layout, elems = tinfo
            hit = opcache.get(opcode)
            if hit is None:
                # With the opcode's operand count and required attributes (-1 and none:
                # no rule), read once per opcode rather than per instruction.
                arity, required = rules_of(opcode, (-1, frozenset()))
                hit = opcache[opcode] = (opcode, canonical_op(opcode), arity, required)
            opcode, op, arity, required = hit
            attrs: dict[str, Any] = {}
            # Every field of node_defaults(), in its order (a test checks the keys):
            # a copy of the template (NOTE [one key table for every node]), then the
            # fields the instruction sets.
            d = new_node()
            d["name"] = name
            d["op"] = op
            d["opcode"] = opcode
            d["dtype"] = dtype
            d["shape"] = shape
            d["type"] = typ
            d["layout"] = layout
            d["attrs"] = attrs
            d["computation"] = cname
            if is_root:
                d["is_root"] = True
                if root is not None:
                    raise lexer.fail(npos, f"a second ROOT in computation {cname!r}")
                root = nid
            if elems is not None:
                attrs["tuple_types"] = list(elems)
            if opcode == "parameter":
                idx = ops
                if idx in params:
                    raise lexer.fail(npos + oref, f"parameter({idx}) appears twice in {cname!r}")
                params[idx] = nid
                d["param_index"] = idx
            elif opcode == "constant":
                attrs["literal"] = ops
                if ops == "{...}":
                    attrs["elided"] = True
                elif len(ops) > LITERAL_CHARS:
                    # A weight a step closes over (torchax, a jax closure) is a constant
                    # whose literal is the whole tensor: a timm resnet18's graph JSON
                    # held 704 MB of them (issue 20). Keep its size and checksum.
                    attrs.update(
                        literal="{...}",
                        elided=True,
                        literal_chars=len(ops),
                        literal_crc32=zlib.crc32(ops.encode()),
                    )
                else:
                    v = literal_value(ops)
                    if v is not None:
                        attrs["value"] = v
            if attrs_raw:
                for key, raw in attrs_raw.items():
                    if key == "metadata":
                        mf = meta_fast(raw)
                        if mf is not None:
                            d["op_name"] = mf.group(1)
                            if mf.group(2):
                                fid = int(mf.group(2))
                                meta = new_frame_meta()  # NOTE [a values array sized ...]
                                meta["stack_frame_id"] = fid
                                attrs["metadata"] = meta
                                loc = frames.get(fid)
                                if loc is not None:
                                    d["source_file"], d["source_line"] = loc
                        else:
                            mt = meta_tf(raw)
                            if mt is not None:
                                meta = new_type_meta()
                                meta["op_type"] = mt.group(1)
                                attrs["metadata"] = meta
                                d["op_name"] = mt.group(2)
                                if mt.group(4) is not None:
                                    d["source_file"] = mt.group(3)
                                    d["source_line"] = int(mt.group(4))
                            else:
                                _metadata(raw, d, attrs, with_frames, nid)
                    elif key in CALL_ATTRS:
                        names = _names(raw)
                        attrs[key] = names if raw.startswith("{") else names[0] if names else ""
                        kind = _kind_for(key, opcode)
                        # A tuple (NOTE [calls, a tuple] in ``xlalens.ir._schema``).
                        if calling is not None and names and not d["calls"]:
                            calling.setdefault(cname, []).append(nid)
                        d["calls"] += tuple(names)
                        for callee in names:
                            call(nid, callee, kind, cname, npos)
                    elif key == "backend_config":
                        attrs[key] = decode_json_or_raw(raw)
                    elif key == "frontend_attributes":
                        attrs[key] = decode_kv(raw) if raw.startswith("{") else raw
                    elif key == "control-predecessors":
                        attrs["control_predecessors"] = _names(raw)
                    else:
                        # Decoded once per distinct text (NOTE [one string per distinct
                        # text]); a list is copied, as each node owns its attrs.
                        v = decoded.get(raw)
                        if v is None:
                            v = decoded[raw] = decode_value(raw)
                        akey = keys.get(key)
                        if akey is None:
                            akey = keys[key] = key
                        attrs[akey] = v[:] if type(v) is list else v
                        if key in _STRUCTURED:
                            _structured(key, raw, attrs)
            if (arity >= 0 and arity != (len(ops) if type(ops) is list else 0)) or (
                required and not required <= attrs_raw.keys()
            ):
                bad = check_rules(opcode, len(ops) if type(ops) is list else 0, attrs_raw)
                if bad is not None:
                    raise lexer.fail(npos + oref if "operand" in bad else npos, "expected " + bad)
            if attrs:
                # The same split tables for attrs (NOTE [a values array sized to the
                # fields]): 96 bytes, not 192, for a few names.
                sig = tuple(attrs)
                tpl = attrs_tpls.get(sig, False)
                if tpl is False:
                    tpl = attrs_template(sig)
                if tpl is not None:
                    split = tpl()
                    split.update(attrs)
                    d["attrs"] = split
            if op in coll_ops or (attrs and not spmd_attrs.isdisjoint(attrs)):
                spmd_nodes[nid] = None
            gnode[nid] = d
            gsucc[nid] = {}
            vpred = gpred[nid] = {}
            if j == grown:
                release_freed()  # the tables the growth freed
                grown = _GROWN_AT[bisect_right(_GROWN_AT, size0 + j + 1)] - size0 - 1
            if walk_ops is not None and op in walk_ops:
                if op not in noop_ops:
                    verdict = walk_add(nid, d, ops, local, gnode, outside)  # type: ignore[misc]
                # A no-op whose one operand differs in dtype or shape is no rule's
                # candidate (Walks.add would say so): no call (1,700 in a GPT-2).
                elif (
                    len(ops) == 1
                    and (u := local.get(ops[0])) is not None
                    and (ud := gnode[u])["dtype"] == dtype
                    and ud["shape"] == shape
                ):
                    # NOTE: [no-ops dropped while lowering] In pre-optimization HLO, a
                    # reshape, copy, convert... that returns its operand unchanged is
                    # left out here rather than by ``drop_noops`` once the graph is
                    # whole: its name stands for its operand's node from now on, and its
                    # users' edges are built from that node (rewiring them later was most
                    # of the canonical level's own time on TensorFlow's ResNet50; issue
                    # 23). The graph is the rule's but for adjacency order: a user's
                    # edges in operand order, and it among its producer's successors in
                    # program order (the rule appended both). Left to the rule: a no-op
                    # with a sharding or collective record or a frame to look up, one
                    # whose operand has such a record (``annotate`` gives its out edges
                    # a device shape, which the rule keeps on the edges it rewires only),
                    # and all of optimized HLO (NOTE [optimized HLO keeps its kernels]).
                    drop_now = (
                        drop_early
                        and (not with_frames or with_frames[-1][0] is not nid)
                        and (not spmd_nodes or (nid not in spmd_nodes and u not in spmd_nodes))
                    )
                    verdict = walk_add(nid, d, ops, local, gnode, outside, drop_now)  # type: ignore[misc]
                    if verdict == DROP:
                        del gnode[nid], gsucc[nid], gpred[nid]
                        local[name] = u
                        dropped += 1
                        if is_root:
                            root = u
                            gnode[u]["is_root"] = True
                        continue  # (no edge to build)
                else:
                    verdict = KEEP
                if verdict == SWAP:
                    # NOTE [swaps made while lowering] in ``xlalens.ir._canonical_scan``.
                    ops = [ops[1], ops[0]]
            # Operand edges: XLA wants each operand defined before its use, so every
            # operand is already a node here (which also keeps the dataflow acyclic).
            # (A parameter's ops is its number, a constant's its literal: lists only here.)
            if type(ops) is list:
                for k, oname in enumerate(ops):
                    u = local.get(oname)
                    # ``local`` holds this very string for this instruction's own name.
                    if u is None or u is nid:
                        # the instructions not lowered yet (this one included)
                        later = any(i[0] == oname for i in instrs) or oname == name
                        what = (
                            "is used before its definition in"
                            if later
                            else "is not an instruction of"
                        )
                        col = lexer.buf.find(oname, npos + oref)
                        raise lexer.fail(
                            col if col >= 0 else npos + oref,
                            f"operand {oname!r} of {name!r} {what} computation {cname!r}",
                        )
                    ud = gnode[u]
                    # NOTE [a values array sized to the fields]: 112 bytes, not 192.
                    edge = new_edge()
                    edge["operand_index"] = k
                    edge["dtype"] = ud["dtype"]
                    edge["shape"] = ud["shape"]
                    if u in vpred:
                        vpred[u][k] = edge  # the same operand again
                    else:
                        gsucc[u][nid] = vpred[u] = {k: edge}
        # Async sugar: -update / -done call the computation of the start they read.
        for name, _r, _t, _ti, opcode, ops, _a, _np, _oref in kept or ():
            if opcode == "parameter" or opcode == "constant" or not ops:
                continue
            v = local[name]
            if opcode.endswith(_ASYNC_SUFFIXES):
                if opcode.endswith(("-update", "-done")) and not gnode[v]["calls"]:
                    callee = sugar_calls.get(local[ops[0]])
                    if callee is not None:
                        gnode[v]["calls"] = (callee,)
                        gnode[v]["attrs"]["calls"] = callee
                        call(v, callee, "other", cname, _np)
                if opcode.endswith(("-start", "-update")) and gnode[v]["calls"]:
                    sugar_calls[v] = gnode[v]["calls"][0]
        if local:
            # (The last instruction's node: its operand's, if it was left out.)
            info["root"] = root if root is not None else local[name]
            if root is None:
                gnode[info["root"]]["is_root"] = True
        # n distinct numbers are 0..n-1 exactly when each of 0..n-1 is among them.
        try:
            info["params"] = [*map(params.__getitem__, range(len(params)))]
        except KeyError:
            raise lexer.fail(
                comp.pos,
                f"computation {cname!r} has parameters {sorted(params)}; "
                f"expected 0..{len(params) - 1}",
            ) from None
        sizes.append((cname, len(local) - dropped))
        if walk_ops is not None and len(local) == 3 and not dropped:
            walk_reducer(cname, info, list(local.values()), gnode, gpred)  # type: ignore[misc]
    early: dict[str, list[tuple[str, str]]] = {}
    for nid, callee, kind, cname, npos in pending_calls:
        info = computations.get(callee)
        if info is None:
            col = lexer.buf.find(callee, npos)
            raise lexer.fail(col if col >= 0 else npos, f"calls unknown computation {callee!r}")
        if callee == cname:
            raise lexer.fail(npos, f"computation {cname!r} calls itself")
        early.setdefault(callee, []).append((nid, kind))
    for callee, calls in early.items():
        # Before its callee was read: first in program order (NOTE above).
        info = computations[callee]
        first = dict.fromkeys(nid for nid, _ in calls)
        info["callers"] = [*first, *(c for c in info["callers"] if c not in first)]
        kind = next((k for _, k in calls if k != "other"), None)
        if kind is not None and callee != entry:
            info["kind"] = kind
    g.graph["computations"] = computations
    for nid, fid in with_frames:
        loc = frames.get(fid)
        if loc is not None:
            nd = gnode[nid]
            if nd["source_file"] is None:
                nd["source_file"], nd["source_line"] = loc
    if len(gnode) >= _GROWN_AT[0]:
        del local
        release_freed()  # the last computation's name table, and what the loop freed
    by_comp: dict[str, list[str]] = {}
    ids = iter(gnode)
    if kernels:
        # (Async sugar gives calls after the loop, out of node order: found there.)
        assign_kernels(g, entry, sizes, None if sugar else calling)
        if walks is not None:
            by_comp = {cname: list(islice(ids, n)) for cname, n in sizes}
    elif walks is not None:
        # The rules look up the called computations' nodes only: the entry's ids, most
        # of a pre-optimization module, are not listed (1.3 MB of a 156k-instruction
        # canonical load; issue 23).
        for cname, n in sizes:
            if computations[cname]["callers"]:
                by_comp[cname] = list(islice(ids, n))
            else:
                next(islice(ids, n, n), None)  # past its nodes
    annotate(g, only=spmd_nodes)
    if ops_seen is not None:
        ops_seen.update(hit[1] for hit in opcache.values())
    if walks is not None:
        walks.by_comp.update(by_comp)
        walks.lowered.append(entry)
    return g


def assign_kernels(
    g: nx.MultiDiGraph,
    entry: str,
    sizes: list[tuple[str, int]],
    calling: dict[str, list[str]] | None = None,
) -> None:
    """Fill ``fusion``: the entry-level instruction (kernel) that runs each node.

    Entry instructions run themselves. Everything reached from an entry
    instruction through called computations (fusion bodies, nested fusions,
    reducers, loop bodies and conditions, branches, called functions) belongs
    to that instruction; a computation shared by several callers goes to the
    first one in program order. ``sizes``: each computation's name and node count
    in node order (its nodes are consecutive). ``calling``: each computation's
    nodes that call one, in node order (the reader lists them as it reads the
    calls; otherwise found here). The owners are found first, then the nodes get
    theirs in one pass in node order: a list of ids per computation and a lookup
    of each node were most of this walk on optimized HLO (issue 23).
    """
    nodes = g._node
    if calling is None:
        calling = {}
        items = iter(nodes.items())
        for c, n in sizes:
            found = [nid for nid, nd in islice(items, n) if nd["calls"]]
            if found:
                calling[c] = found
    owner: dict[str, str | None] = {entry: None}
    queue = [entry]
    for c in queue:  # the queue grows while we walk it (breadth-first)
        own = owner[c]
        for nid in calling.get(c, ()):
            kernel = nid if own is None else own
            for callee in nodes[nid]["calls"]:
                if callee not in owner:
                    owner[callee] = kernel
                    queue.append(callee)
    items = iter(nodes.items())
    for c, n in sizes:
        if c not in owner:
            next(islice(items, n, n), None)  # unreachable from the entry: no kernel
        elif (own := owner[c]) is None:
            for nid, nd in islice(items, n):
                nd["fusion"] = nid
        else:
            for _, nd in islice(items, n):
                nd["fusion"] = own
