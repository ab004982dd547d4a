"""xlalens.spmd: sharded steps (XLA's SPMD partitioner) across devices.

    parse_mesh     the ``--devices/--mesh/--axes/--sharding`` flags -> MeshSpec
    frontend_env   the environment that gives one frontend subprocess N host devices
    comm_model     bytes per collective against a link bandwidth (an assumption)

The collectives of a graph are read by ``xlalens.ir.collectives``; docs/sharding.md.
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

__all__ = [
    "MAX_DEVICES",
    "SPMD_FRONTENDS",
    "STRATEGIES",
    "MeshSpec",
    "frontend_env",
    "parse_mesh",
    "skip_reason",
]
