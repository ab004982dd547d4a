"""xlalens.ir: HLO and StableHLO -> one documented networkx graph model.

Readers (raw level, faithful to the input):
    parse_hlo_text   HLO text (pre-optimization or optimized): ir/hlo/ (lexer, grammar, lowering)
    parse_stablehlo  StableHLO text/bytecode through jaxlib's MLIR bindings
Levels: ``normalize(graph, "canonical")`` applies the rewrites of
docs/normalization.md. ``load`` detects the format of a path, text, bytes or dump
entry ``DIR:frontend[:artifact]`` and returns a validated graph at a level.
Export: ``to_json``/``from_json`` (node-link JSON) and ``to_graphml``/``from_graphml``.
The schema is in ``_schema.py`` (``validate``) and docs/graph-schema.md.
The one op table is ``_ops.py`` and the one cost model ``_cost.py`` (``node_cost``);
``index_hlo`` indexes an optimized module's kernels for profile attribution.
``node(g, id)`` / ``nodes(g)`` give typed, read-only views of nodes (``_graph.py``).
"""

from xlalens.ir._canonical import canonicalize, normalize
from xlalens.ir._collectives import Collective, Mesh, collective_table, collectives
from xlalens.ir._cost import Cost, node_cost
from xlalens.ir._dump import dump_step
from xlalens.ir._graph import Node, node, nodes
from xlalens.ir._hlo_proto import parse_hlo_proto
from xlalens.ir._io import from_graphml, from_json, to_graphml, to_json
from xlalens.ir._kernels import HloIndex, Kernel, index_hlo
from xlalens.ir._load import detect_format, load
from xlalens.ir._ops import TRIVIAL_OPCODES, category, dtype_bytes
from xlalens.ir._schema import (
    DEFAULT_LEVEL,
    LEVELS,
    SCHEMA_VERSION,
    SchemaError,
    canonical_op,
    computation_nodes,
    subgraph,
)
from xlalens.ir._sharding import parse_replica_groups, parse_sharding
from xlalens.ir._stablehlo import parse_stablehlo
from xlalens.ir._stats import GraphStats, entry_op_count, stats
from xlalens.ir._validate import validate
from xlalens.ir.hlo import kernel_nodes, parse_hlo_text

__all__ = [
    "DEFAULT_LEVEL",
    "LEVELS",
    "SCHEMA_VERSION",
    "TRIVIAL_OPCODES",
    "Collective",
    "Cost",
    "GraphStats",
    "HloIndex",
    "Kernel",
    "Mesh",
    "Node",
    "SchemaError",
    "canonical_op",
    "canonicalize",
    "category",
    "collective_table",
    "collectives",
    "computation_nodes",
    "detect_format",
    "dtype_bytes",
    "dump_step",
    "entry_op_count",
    "from_graphml",
    "from_json",
    "index_hlo",
    "kernel_nodes",
    "load",
    "node",
    "node_cost",
    "nodes",
    "normalize",
    "parse_hlo_proto",
    "parse_hlo_text",
    "parse_replica_groups",
    "parse_sharding",
    "parse_stablehlo",
    "stats",
    "subgraph",
    "to_graphml",
    "to_json",
    "validate",
]
