"""The whole of ``xlalens dump``: the capture, then the later stages, in order.

NOTE: [steps handed down] capture may not import the stages beside it (diff) or
the report above it (pyproject's import contracts). So the pipeline is named
here, on the top floor, and handed down: to the CLI's ``dump`` (xlalens/cli.py)
and to ``xlalens.dump`` and ``xlalens.capture``. Each step is
``step(staging_folder, manifest)``, run on the finished staging folder before it
is committed, so the graphs, diffs and report land with the capture atomically.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from xlalens.capture import Capture, DumpResult, _api
from xlalens.capture._dump import Step
from xlalens.diff import dump_step as diffs_step
from xlalens.ir import dump_step as graphs_step
from xlalens.report import dump_step as report_step

DUMP_STEPS: tuple[Step, ...] = (
    ("graphs", graphs_step),
    ("diffs", diffs_step),
    ("report", report_step),
)
"""What ``xlalens dump`` runs after the capture: graph JSON, diffs, SVGs and report.html."""


def dump(out: str | Path = "xlalens-dump", **kwargs: Any) -> DumpResult:
    """Write a dump folder as ``xlalens dump`` does: capture, graphs, diffs, report.

    Takes :func:`xlalens.capture.write_dump`'s keyword arguments (``frameworks``,
    ``workload``, ``backend``, ``jobs``, ``timeout``, ``target``, ``sharding``...).

    Example:
        >>> result = xlalens.dump("xlalens-dump", frameworks=["jax", "torch_xla"])  # doctest: +SKIP
    """
    kwargs.setdefault("steps", DUMP_STEPS)
    return _api.dump(out, **kwargs)


def capture(framework: str = "jax", **kwargs: Any) -> Capture:
    """Capture one step in one framework (in its own subprocess).

    Takes :func:`xlalens.capture.capture`'s arguments (``workload``, ``target``,
    ``backend``, ``out`` and the workload's settings). With ``out``, the dump also
    gets its graphs, diffs and report, as ``xlalens dump`` writes them.

    Example:
        >>> cap = xlalens.capture("jax", workload="mlp", depth=3)  # doctest: +SKIP
        >>> cap.outputs_match
        True
    """
    kwargs.setdefault("steps", DUMP_STEPS)
    return _api.capture(framework, **kwargs)
