"""xlalens.spmd: sharded steps (XLA's SPMD partitioner) across devices.

    parse_mesh     the ``--devices/--mesh/--axes/--sharding`` flags -> MeshSpec
    frontend_env   the environment that gives one frontend subprocess N host devices
    skip_reason    why a frontend has no sharded capture (TensorFlow: DTensor is not XLA SPMD)

The collectives of a graph are read by ``xlalens.ir.collectives``; the analytic
communication model is in benchmarks/bench_spmd.py; docs/sharding.md.
"""

from xlalens.spmd._mesh import (
    MAX_DEVICES,
    SPMD_FRONTENDS,
    STRATEGIES,
    MeshSpec,
    frontend_env,
    parse_mesh,
    skip_reason,
)
from xlalens.spmd._report import report_section

__all__ = [
    "MAX_DEVICES",
    "SPMD_FRONTENDS",
    "STRATEGIES",
    "MeshSpec",
    "frontend_env",
    "parse_mesh",
    "report_section",
    "skip_reason",
]
