"""xlalens.spmd: sharded steps (XLA's SPMD partitioner) across devices.

    parse_mesh     the ``--devices/--mesh/--axes/--sharding`` flags -> MeshSpec
    frontend_env   the environment that gives one frontend subprocess N host devices
    skip_reason    why a frontend has no sharded capture (TensorFlow: DTensor is not XLA SPMD)

    link / predict the analytic communication model (alpha-beta ring cost of each
                   collective against an assumed link)

    report_section the sharded-step section of report.html

The mesh request and the link model live on the ground floor
(``xlalens.ir._mesh``, ``xlalens.ir._linkmodel``) because capture, timing and the
frontend subprocesses all need them; this stage re-exports them. The collectives of a graph are read by ``xlalens.ir.collectives``; sharded timing
is ``xlalens.timing.time_sharded_dump``; docs/spmd.md.
"""

from xlalens.ir._linkmodel import (
    DEFAULT_LINK,
    LINKS,
    Link,
    Prediction,
    collective_seconds,
    link,
    predict,
    ring_steps,
)
from xlalens.ir._mesh import (
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
    "DEFAULT_LINK",
    "LINKS",
    "MAX_DEVICES",
    "SPMD_FRONTENDS",
    "STRATEGIES",
    "Link",
    "MeshSpec",
    "Prediction",
    "collective_seconds",
    "frontend_env",
    "link",
    "parse_mesh",
    "predict",
    "report_section",
    "ring_steps",
    "skip_reason",
]
