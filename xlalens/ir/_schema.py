"""The one graph schema of xlalens, and its checker.

Every reader (HLO text, StableHLO) produces, and every later stage (diff, render,
time) consumes, a ``networkx.MultiDiGraph`` that follows the rules below. They
are documented for users in ``docs/graph-schema.md``; this module is the single
place in code that defines them, and :func:`validate` checks them.

NOTE: [why one MultiDiGraph per module]
An op may use the same value twice (``multiply(x, x)``), so parallel edges must
exist: hence a *Multi* graph, with the operand index as the edge key. All
computations of a module (entry, fusions, reducers, loop bodies, functions) live
in the same graph so that a caller's ``calls`` list reaches its callee's nodes
without a second lookup structure; dataflow edges never cross computations,
except the ``capture`` edges of MLIR regions that read a value of an enclosing
region.

Graph attributes (``graph.graph``):
    schema_version: int, :data:`SCHEMA_VERSION`.
    format: ``"hlo"`` or ``"stablehlo"`` (what the reader parsed).
    stage: ``"stablehlo"``, ``"hlo"`` or ``"optimized_hlo"`` (which IR level of a
        capture; ``"unknown"`` when loaded from bare text without that hint).
    level: ``"raw"`` or ``"canonical"`` (normalization level).
    module: module name (``HloModule`` name, or MLIR ``sym_name``; ``""`` if none).
    entry: name of the entry computation (HLO ``ENTRY``, MLIR ``@main``).
    computations: dict name -> dict with keys
        ``kind`` (one of :data:`COMPUTATION_KINDS`), ``root`` (node id or None for
        an empty function), ``params`` (list of node ids, by parameter index),
        ``callers`` (list of node ids that call it).
    attrs: dict of module-level plain data (``input_output_alias``,
        ``entry_computation_layout``, MLIR module attributes, ...).
    source: dict of plain data about where the text came from (path, frontend,
        artifact), may be empty.

Node id: ``"<computation>/<name>"``, a str, stable for the same input text.

Node attributes (all present on every node; ``None`` where unknown):
    name: str, instruction name without ``%`` (HLO) or a generated stable SSA
        name such as ``"v12"`` (StableHLO, numbered in program order).
    op: str, canonical op (see :data:`CANONICAL_OPS`); an unknown opcode from a
        newer XLA is kept as its own opcode.
    opcode: str, the original opcode (``"dot"``, ``"stablehlo.dot_general"``).
    dialect: str, ``"hlo"`` or the MLIR dialect (``"stablehlo"``, ``"chlo"``,
        ``"func"``, ``"sdy"``, ``"mhlo"``, ...).
    dtype: str, element type (``"f32"``, ``"s32"``, ``"pred"``, ``"bf16"``...),
        ``"tuple"`` for tuple results, ``"token"`` for tokens, ``"none"`` for ops
        with no result.
    shape: tuple of int (dimensions; ``()`` for scalars and tuples; a dynamic
        dimension is ``-1``).
    type: str, the full result type as printed in HLO syntax, e.g.
        ``"f32[4,1]{1,0}"`` or ``"(f32[], f32[1]{0})"``; tuple element types are in
        ``attrs["tuple_types"]`` when the result is a tuple (or MLIR multi-result).
    layout: str or None, minor-to-major layout with tiling/memory space as
        printed (``"{1,0:T(8,128)S(1)}"`` -> ``"1,0:T(8,128)S(1)"``).
    attrs: dict of plain data (str, int, float, bool, None, list, dict) holding
        the op's attributes (``dimensions``, ``backend_config`` decoded from JSON,
        ``frontend_attributes``, ``literal`` for constants, ...).
    op_name: str or None, ``metadata.op_name`` or the MLIR ``loc`` name.
    source_file: str or None.
    source_line: int or None.
    computation: str, the computation that owns the node.
    fusion: str or None, for optimized HLO: the node id of the entry-level
        instruction (the kernel) that executes this node: the fusion instruction
        for nodes of a fused computation (and the fusion itself), the node itself
        for unfused entry instructions; None for non-optimized stages.
    param_index: int or None, parameter number within its computation.
    is_root: bool, the computation's root (HLO ``ROOT``; MLIR ``return`` operand
        producers are marked by the return op, which is the root).
    calls: tuple of str, names of computations this node calls (``calls=``,
        ``to_apply=``, ``condition=``, ``body=``, ``branch_computations=``,
        MLIR regions and ``func.call``), in the order the op lists them.
        NOTE: [calls, a tuple] Nine nodes in ten call nothing; an empty list
        per node was 10 MB of a 156k-instruction module's 242 MB peak (issue 23),
        while the empty tuple is one object, and a tuple cannot be changed through
        one node for all (a shared list could). Saved graphs and older files
        with lists read back as tuples (``xlalens.ir._io``).
    role: str or None, semantic name given by the canonical level
        (``"w"``, ``"b"``, ``"x"``, ``"y"``, ``"lr"``, ``"loss"``...).
    sharding: dict or None, the op's sharding as one record (keys
        :data:`SHARDING_KEYS`: type, replicated, manual, tile_dims, devices,
        subgroups, mesh_axes).
    device_shape: tuple of int or None, the per-device shape of a value of a
        pre-partitioning module whose sharding is known.
    collective: dict or None, for collectives (keys :data:`COLLECTIVE_KEYS`:
        kind, groups, group_size, operand_bytes, bytes_per_device, axes).
    The last three are written only by ``xlalens.ir._collectives.annotate``
    (docs/graph-schema.md, "Sharding and collectives").

Edge attributes (edge ``u -> v`` means "v reads the value of u"):
    key / operand_index: int, position of the operand in ``v``'s operand list.
    kind: ``"data"`` (ordinary operand) or ``"capture"`` (an MLIR region op reads
        a value defined in an enclosing region).
    dtype, shape: of the tensor that flows (tuple index 0 for tuples is not
        implied: tuples flow as ``dtype="tuple"``).
    device_shape: tuple of int, optional: the per-device shape of the value (on
        edges out of a node with a ``device_shape``).
    result_index: int, optional: only on edges out of an MLIR op with several
        results (``stablehlo.while``, ``case``, multi-result ``reduce``), which
        result flows.

Computation names: HLO computations keep their names; StableHLO functions keep
their symbol name and the regions of an op are named
``<function>.<vN>.<role>`` (``main.v1.body``, ``main.v17.branch0``,
``main.v11.reducer``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import networkx as nx

SCHEMA_VERSION = 1

FORMATS = ("hlo", "stablehlo")
STAGES = ("stablehlo", "hlo", "optimized_hlo", "unknown")
LEVELS = ("raw", "canonical")
# NOTE: [one default level] `xlalens diff`, `render --diff`, `stats` and the dump's
# diffs/report all default to this level, so the same pair gives the same numbers
# in every command (issue 11). Import it from here; do not repeat the string.
DEFAULT_LEVEL = "canonical"
COMPUTATION_KINDS = (
    "entry",
    "fusion",
    "reducer",
    "body",
    "condition",
    "branch",
    "function",
    "region",
    "other",
)
EDGE_KINDS = ("data", "capture")

NODE_FIELDS: dict[str, tuple[type, ...]] = {
    "name": (str,),
    "op": (str,),
    "opcode": (str,),
    "dialect": (str,),
    "dtype": (str,),
    "shape": (tuple,),
    "type": (str,),
    "layout": (str, type(None)),
    "attrs": (dict,),
    "op_name": (str, type(None)),
    "source_file": (str, type(None)),
    "source_line": (int, type(None)),
    "computation": (str,),
    "fusion": (str, type(None)),
    "param_index": (int, type(None)),
    "is_root": (bool,),
    "calls": (tuple,),
    "role": (str, type(None)),
    "sharding": (dict, type(None)),
    "device_shape": (tuple, type(None)),
    "collective": (dict, type(None)),
}
# Keys of a node's ``sharding`` record and ``collective`` record (docs/graph-schema.md,
# "Sharding and collectives"); written by xlalens.ir._collectives.annotate only.
SHARDING_TYPES = ("replicated", "manual", "maximal", "tiled", "tuple", "unknown", "unreduced")
SHARDING_KEYS = ("type", "replicated", "manual", "tile_dims", "devices", "subgroups", "mesh_axes")
COLLECTIVE_KEYS = ("kind", "groups", "group_size", "operand_bytes", "bytes_per_device", "axes")
EDGE_FIELDS: dict[str, tuple[type, ...]] = {
    "operand_index": (int,),
    "kind": (str,),
    "dtype": (str,),
    "shape": (tuple,),
}
GRAPH_FIELDS: dict[str, tuple[type, ...]] = {
    "schema_version": (int,),
    "format": (str,),
    "stage": (str,),
    "level": (str,),
    "module": (str,),
    "entry": (str,),
    "computations": (dict,),
    "attrs": (dict,),
    "source": (dict,),
}

# One vocabulary shared by HLO and StableHLO. Keys are original opcodes (HLO
# opcodes bare, MLIR ops with their dialect prefix); ops that are not listed map
# to their HLO opcode spelling, or for MLIR to the name without the dialect.
CANONICAL_OPS: dict[str, str] = {
    "stablehlo.dot_general": "dot",
    "stablehlo.dot": "dot",
    "stablehlo.broadcast_in_dim": "broadcast",
    "stablehlo.broadcast": "broadcast",
    "stablehlo.constant": "constant",
    "stablehlo.add": "add",
    "stablehlo.subtract": "subtract",
    "stablehlo.multiply": "multiply",
    "stablehlo.divide": "divide",
    "stablehlo.negate": "negate",
    "stablehlo.reduce": "reduce",
    "stablehlo.reshape": "reshape",
    "stablehlo.transpose": "transpose",
    "stablehlo.convert": "convert",
    "stablehlo.bitcast_convert": "bitcast-convert",
    "stablehlo.compare": "compare",
    "stablehlo.select": "select",
    "stablehlo.maximum": "maximum",
    "stablehlo.minimum": "minimum",
    "stablehlo.exponential": "exponential",
    "stablehlo.log": "log",
    "stablehlo.sqrt": "sqrt",
    "stablehlo.rsqrt": "rsqrt",
    "stablehlo.tanh": "tanh",
    "stablehlo.abs": "abs",
    "stablehlo.power": "power",
    "stablehlo.concatenate": "concatenate",
    "stablehlo.slice": "slice",
    "stablehlo.dynamic_slice": "dynamic-slice",
    "stablehlo.dynamic_update_slice": "dynamic-update-slice",
    "stablehlo.iota": "iota",
    "stablehlo.while": "while",
    "stablehlo.case": "conditional",
    "stablehlo.if": "conditional",
    "stablehlo.tuple": "tuple",
    "stablehlo.get_tuple_element": "get-tuple-element",
    "stablehlo.custom_call": "custom-call",
    "stablehlo.gather": "gather",
    "stablehlo.scatter": "scatter",
    "stablehlo.convolution": "convolution",
    "stablehlo.reduce_window": "reduce-window",
    "stablehlo.select_and_scatter": "select-and-scatter",
    "stablehlo.rng_bit_generator": "rng-bit-generator",
    "stablehlo.all_reduce": "all-reduce",
    "stablehlo.all_gather": "all-gather",
    "stablehlo.reduce_scatter": "reduce-scatter",
    "stablehlo.all_to_all": "all-to-all",
    "stablehlo.collective_permute": "collective-permute",
    "stablehlo.optimization_barrier": "opt-barrier",
    "stablehlo.return": "return",
    "stablehlo.and": "and",
    "stablehlo.or": "or",
    "stablehlo.xor": "xor",
    "stablehlo.not": "not",
    "stablehlo.sign": "sign",
    "stablehlo.floor": "floor",
    "stablehlo.ceil": "ceil",
    "stablehlo.clamp": "clamp",
    "stablehlo.sort": "sort",
    "stablehlo.pad": "pad",
    "stablehlo.reverse": "reverse",
    "stablehlo.remainder": "remainder",
    "stablehlo.logistic": "logistic",
    "stablehlo.exponential_minus_one": "exponential-minus-one",
    "stablehlo.log_plus_one": "log-plus-one",
    "func.return": "return",
    "func.call": "call",
    "func.func": "function",
    "mhlo.dot_general": "dot",
    "mhlo.broadcast_in_dim": "broadcast",
    "fusion": "fusion",
}


class SchemaError(ValueError):
    """A graph breaks the xlalens graph schema; the message names the node and the rule."""


def canonical_op(opcode: str) -> str:
    """Map an original opcode to the shared vocabulary.

    Args:
        opcode: HLO opcode (``"dot"``) or MLIR op name (``"stablehlo.dot_general"``).

    Returns:
        The canonical op; unknown HLO opcodes are returned unchanged and unknown
        MLIR ops lose their dialect prefix with ``_`` spelled ``-`` (HLO style).

    Example:
        >>> canonical_op("stablehlo.broadcast_in_dim")
        'broadcast'
    """
    if opcode in CANONICAL_OPS:
        return CANONICAL_OPS[opcode]
    if "." in opcode:
        return opcode.split(".", 1)[1].replace("_", "-")
    return opcode


def node_id(computation: str, name: str) -> str:
    """The stable node id of instruction ``name`` in ``computation``."""
    return f"{computation}/{name}"


def new_graph(
    *,
    format: str,
    stage: str = "unknown",
    level: str = "raw",
    module: str = "",
    entry: str = "",
) -> nx.MultiDiGraph:
    """An empty graph with every graph attribute of the schema set."""
    g = nx.MultiDiGraph()
    g.graph.update(
        schema_version=SCHEMA_VERSION,
        format=format,
        stage=stage,
        level=level,
        module=module,
        entry=entry,
        computations={},
        attrs={},
        source={},
    )
    return g


def node_defaults() -> dict[str, Any]:
    """Every node field at its 'unknown' value; readers override what they know."""
    return {
        "name": "",
        "op": "",
        "opcode": "",
        "dialect": "hlo",
        "dtype": "none",
        "shape": (),
        "type": "",
        "layout": None,
        "attrs": {},
        "op_name": None,
        "source_file": None,
        "source_line": None,
        "computation": "",
        "fusion": None,
        "param_index": None,
        "is_root": False,
        "calls": (),
        "role": None,
        "sharding": None,
        "device_shape": None,
        "collective": None,
    }


def computation_nodes(graph: nx.MultiDiGraph, computation: str) -> list[str]:
    """Node ids of one computation, in the graph's insertion (program) order."""
    return [n for n, c in graph.nodes(data="computation") if c == computation]


def subgraph(graph: nx.MultiDiGraph, computation: str) -> nx.MultiDiGraph:
    """The view of one computation: the body of a fusion, reducer or loop.

    Example:
        >>> body = subgraph(g, g.nodes[fusion_id]["calls"][0])  # doctest: +SKIP
    """
    if computation not in graph.graph["computations"]:
        raise KeyError(
            f"no computation {computation!r}; known: {sorted(graph.graph['computations'])[:10]}"
        )
    return graph.subgraph(computation_nodes(graph, computation))


def iter_entry(graph: nx.MultiDiGraph) -> Iterable[str]:
    """Node ids of the entry computation, in program order."""
    return computation_nodes(graph, graph.graph["entry"])
