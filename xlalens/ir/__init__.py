"""xlalens.ir: HLO and StableHLO -> one documented networkx graph model.

Readers (raw level, faithful to the input):
    parse_hlo_text   HLO text (pre-optimization or optimized), a parser of our own
    parse_stablehlo  StableHLO text/bytecode through jaxlib's MLIR bindings
Levels: ``normalize(graph, "canonical")`` applies the rewrites of
docs/normalization.md. ``load`` detects the format of a path, text, bytes or dump
entry ``DIR:frontend[:artifact]`` and returns a validated graph at a level.
Export: ``to_json``/``from_json`` (node-link JSON) and ``to_graphml``/``from_graphml``.
The schema is in ``_schema.py`` (``validate``) and docs/graph-schema.md.
"""

from xlalens.ir._canonical import canonicalize, normalize
from xlalens.ir._dump import dump_step
from xlalens.ir._hlo_proto import parse_hlo_proto
from xlalens.ir.hlo import kernel_nodes, parse_hlo_text
from xlalens.ir._io import from_graphml, from_json, to_graphml, to_json
from xlalens.ir._load import detect_format, load
from xlalens.ir._schema import (
    SCHEMA_VERSION,
    SchemaError,
    canonical_op,
    computation_nodes,
    subgraph,
    validate,
)
from xlalens.ir._stablehlo import parse_stablehlo
from xlalens.ir._stats import GraphStats, entry_op_count, stats

__all__ = [
    "SCHEMA_VERSION",
    "GraphStats",
    "SchemaError",
    "canonical_op",
    "canonicalize",
    "computation_nodes",
    "detect_format",
    "dump_step",
    "entry_op_count",
    "from_graphml",
    "from_json",
    "kernel_nodes",
    "load",
    "normalize",
    "parse_hlo_proto",
    "parse_hlo_text",
    "parse_stablehlo",
    "stats",
    "subgraph",
    "to_graphml",
    "to_json",
    "validate",
]
