"""The files XLA writes under ``--xla_dump_to``: which module is which, in what order.

NOTE: [XLA dump file names] (xla/service/dump.cc, checked with jaxlib 0.10.2,
TensorFlow 2.21 and torch_xla 2.9.0) every file of one compiled module starts
with ``module_NNNN.<name>.``; then:

- ``NNNN.<pipeline>.after_<pass>.before_<next>.txt``: a pass snapshot
  (copy-insertion's own steps have no ``before_``). XLA
  writes one when the pass changed the module (and at each pipeline's start), so
  the passes between two snapshots changed nothing;
- ``before_optimizations.txt`` and ``<backend>_after_optimizations.txt``;
- ``<backend>_after_optimizations-buffer-assignment.txt`` and
  ``...-memory-usage-report.txt``;
- LLVM IR ``*.ll`` (``ir-no-opt``/``ir-with-opt``, per kernel on the CPU thunk
  runtime, ``part_NN`` for what is compiled together), object files
  ``obj-file.*.o`` and the fusion emitter's MLIR (``*-post-optimization.mlir``...).
  Kernels that call a library (a dot through Eigen or YNNPACK) have none.

The file names carry the module's name, not the step's role: frameworks compile
other small modules in the same process (optax's init, torch_xla's seed data).
:func:`pick_step` says which one is the step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

# XLA:CPU's fusion emitter writes each kernel's MLIR at three stages (jaxlib 0.10.2).
KERNEL_MLIR = ("-pre-optimization.mlir", "-post-lowering.mlir", "-post-optimization.mlir")
# NOTE: [XLA's naming rule] (xla/service/dump.cc ``FilenameFor`` and
# ``DumpHloModuleBetweenPassesIfEnabled``): a file is
# ``[<timestamp>.]module_%04d[.<module name>].<suffix>``, the module name left out
# when the whole name would pass 255 characters, and a pass snapshot's suffix is
# ``%04d.<pipeline>.after_<pass>.before_<next>.txt`` (%04d: at least 4 digits).
# A module name may itself hold dots and 4-digit numbers (torch_xla's
# ``SyncTensorsGraph.1040``), so a snapshot is read from the right: the last
# ``.<digits>.<pipeline>.after_`` is the step and the pipeline (pipeline names
# have no dots), and everything before it is the module name.
_MODULE = re.compile(r"^(?:\d+\.)?module_(?P<id>\d+)\.(?P<rest>.+)$")
_SNAPSHOT = re.compile(
    r"^(?:(?P<name>.+)\.)?(?P<step>\d{4,})\.(?P<pipeline>[^.]+)\.after_(?P<after>.+?)"
    r"(?:\.before_(?P<before>.*))?\.txt$"
)
_AFTER_OPT = re.compile(r"^(?:(?P<name>.+?)\.)?(?P<backend>[a-z0-9]+)_after_optimizations\.txt$")
_BEFORE_OPT = re.compile(r"^(?:(?P<name>.+?)\.)?before_optimizations\.txt$")
_BUFFERS = re.compile(r"^(?:(?P<name>.+?)\.)?[a-z0-9]+_after_optimizations-buffer-assignment\.txt$")
_MEMORY = re.compile(
    r"^(?:(?P<name>.+?)\.)?[a-z0-9]+_after_optimizations-memory-usage-report\.txt$"
)


@dataclass(frozen=True, slots=True)
class SnapshotFile:
    """One pass snapshot file of a module."""

    path: Path
    """The file."""
    step: int
    """XLA's step counter within the module (the order passes ran in)."""
    pipeline: str
    """The pass pipeline that ran it (``simplification``, ``cpu-fusion``...)."""
    after: str
    """The pass after which the snapshot was taken (``pipeline-start`` at a pipeline's start)."""
    before: str
    """The next pass that changed the module (``pipeline-end``; ``""`` when the name has none)."""


@dataclass(frozen=True, slots=True)
class ModuleFiles:
    """Every dump file of one module XLA compiled."""

    id: str
    """The ``NNNN`` of ``module_NNNN``."""
    name: str
    """The module's name (``jit_train_step``, ``a_inference_step_53__...``, ``SyncTensorsGraph.25``)."""
    snapshots: tuple[SnapshotFile, ...]
    """Pass snapshots in the order the passes ran."""
    before_optimizations: Path | None
    """The module as XLA received it."""
    after_optimizations: Path | None
    """The optimized (scheduled) module."""
    buffer_assignment: Path | None
    """The buffer-assignment report."""
    memory_report: Path | None
    """The memory-usage report."""
    codegen: tuple[Path, ...]
    """Kernel code: LLVM IR (``.ll``), object files (``.o``), assembly (``.s``), emitter MLIR."""


def _prefix(path: Path) -> tuple[str, str] | None:
    m = _MODULE.match(path.name)
    return (m["id"], m["rest"]) if m else None


def scan(folder: Path) -> list[ModuleFiles]:
    """The modules XLA dumped into ``folder``, by module id.

    Args:
        folder: an ``--xla_dump_to`` folder.

    Returns:
        One :class:`ModuleFiles` per ``module_NNNN`` prefix, ordered by id.

    Example:
        >>> [m.name for m in scan(Path("dump/jax/passes/xla"))]  # doctest: +SKIP
        ['jit_train_step']
    """
    by_id: dict[str, dict] = {}
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        pre = _prefix(path)
        if pre is None or not path.is_file():
            continue
        mid, rest = pre
        mod = by_id.setdefault(
            mid,
            {"name": None, "snaps": [], "before": None, "after": None, "buf": None, "mem": None},
        )
        mod.setdefault("codegen", [])
        if m := _SNAPSHOT.match(rest):
            mod["name"] = mod["name"] or m["name"]
            mod["snaps"].append(
                SnapshotFile(path, int(m["step"]), m["pipeline"], m["after"], m["before"] or "")
            )
        elif m := _BUFFERS.match(rest):
            mod["buf"], mod["name"] = path, mod["name"] or m["name"]
        elif m := _MEMORY.match(rest):
            mod["mem"], mod["name"] = path, mod["name"] or m["name"]
        elif m := _AFTER_OPT.match(rest):
            mod["after"], mod["name"] = path, m["name"] or mod["name"]
        elif m := _BEFORE_OPT.match(rest):
            mod["before"], mod["name"] = path, m["name"] or mod["name"]
        elif path.suffix in (".ll", ".s", ".asm", ".o") or path.name.endswith(KERNEL_MLIR):
            mod["codegen"].append(path)
    out = []
    for mid in sorted(by_id, key=int):
        mod = by_id[mid]
        out.append(
            ModuleFiles(
                id=mid,
                name=mod["name"] or f"module_{mid}",
                snapshots=tuple(sorted(mod["snaps"], key=lambda s: s.step)),
                before_optimizations=mod["before"],
                after_optimizations=mod["after"],
                buffer_assignment=mod["buf"],
                memory_report=mod["mem"],
                codegen=tuple(mod["codegen"]),
            )
        )
    return out
