"""xlalens.targets: compile captures for GPUs and TPUs this machine does not have.

``compile_for(dump, "h100,tpu-v5e")`` compiles every captured frontend's module
for each target, compile-only, one subprocess per target (each PJRT plugin claims
its process): XLA:GPU through the jax CUDA plugin with a GpuTargetConfigProto
spec (``specs/*.txtpb``), XLA:TPU through libtpu's compile-only topology, the host
through jaxlib. It writes ``DIR/targets/<target>.json`` (kernels, fusion kinds,
library calls, cost, memory, XLA's and a roofline estimate) and per frontend the
optimized HLO, its graphs, XLA's codegen dump and a diff against the capture.
``report_section(dump)`` gives the report's targets x frontends table.
See docs/targets.md.
"""

from xlalens.dumpdir import _read as _dumpdir
from xlalens.targets._compile import (
    CompileResult,
    TargetResult,
    compile_for,
    missing_plugins,
    resolve_target_entry,
    targets_site,
)
from xlalens.targets._report import report_section, text_table
from xlalens.targets._spec import CHIPS, Chip, Target, parse_target, parse_targets, spec_path

# DIR:fe@TARGET entries resolve through the ground floor's registry (NOTE: [entry
# resolvers] in xlalens/dumpdir/_read.py).
_dumpdir.ENTRY_RESOLVERS["@"] = resolve_target_entry

__all__ = [
    "CHIPS",
    "Chip",
    "CompileResult",
    "Target",
    "TargetResult",
    "compile_for",
    "missing_plugins",
    "parse_target",
    "parse_targets",
    "report_section",
    "spec_path",
    "targets_site",
    "text_table",
]
