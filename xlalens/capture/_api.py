"""The Python API of the capture stage: :func:`capture` and :func:`dump`."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xlalens._errors import FrontendError, UsageError
from xlalens.capture._dump import GRAPHS_ONLY, DumpResult, Step, write_dump
from xlalens.dumpdir import Outputs, read_outputs
from xlalens.frontends import FRONTENDS
from xlalens.workloads import Workload


@dataclass(frozen=True, slots=True)
class Capture:
    """One frontend's capture, backed by its files in a dump folder.

    Like jax's ``Lowered``, it says what it can give: the IR texts, the native
    outputs, the manifest entry, and graphs (through ``xlalens.ir``).
    """

    frontend: str
    """Frontend name (``jax``, ``torch_xla``, ...)."""
    dump: Path
    """The dump folder holding it."""
    entry: dict[str, Any]
    """Its manifest entry (status, outputs_match, seconds, signature, ...)."""

    def _read(self, artifact: str) -> str:
        return (self.dump / self.entry["artifacts"][artifact]).read_text()

    @property
    def stablehlo(self) -> str:
        """StableHLO text, what the framework hands to XLA."""
        return self._read("stablehlo")

    @property
    def hlo(self) -> str:
        """HLO text before XLA's optimization passes."""
        return self._read("hlo")

    @property
    def optimized_hlo(self) -> str:
        """HLO text after XLA's optimization for the dump's backend."""
        return self._read("optimized_hlo")

    @property
    def outputs(self) -> Outputs:
        """The native step's outputs (loss, updated params, every result as an array)."""
        return read_outputs(self.dump / self.entry["artifacts"]["outputs"])

    @property
    def outputs_match(self) -> bool | None:
        """Whether replaying the StableHLO through PJRT reproduced the native outputs."""
        return self.entry.get("outputs_match")

    def graph(self, artifact: str = "stablehlo", level: str = "raw") -> Any:
        """The normalized graph of one artifact (``stablehlo``, ``hlo``, ``optimized_hlo``).

        Example:
            >>> xlalens.capture("jax").graph("optimized_hlo", level="canonical")  # doctest: +SKIP
        """
        from xlalens.ir import load

        return load(f"{self.dump}:{self.frontend}:{artifact}", level=level)


def dump(out: str | Path = "xlalens-dump", **kwargs: Any) -> DumpResult:
    """Write a dump folder as ``xlalens dump`` does; see :func:`write_dump` for arguments.

    Example:
        >>> result = xlalens.dump("xlalens-dump", frameworks=["jax", "torch_xla"])  # doctest: +SKIP
    """
    return write_dump(out, **kwargs)


def capture(
    framework: str = "jax",
    *,
    workload: Workload | str = "regression",
    target: str | None = None,
    backend: str = "cpu",
    out: str | Path | None = None,
    steps: Sequence[Step] = GRAPHS_ONLY,
    **workload_args: Any,
) -> Capture:
    """Capture one step in one framework (in its own subprocess).

    Args:
        framework: a frontend name (see ``xlalens.FRONTENDS``).
        workload: a :class:`Workload` or its name (``regression``, ``mlp``).
        target: your own step instead, ``module:function`` or ``file.py:function``:
            the factory's form depends on the framework (docs/capture.md): e.g. for jax
            a function taking no arguments and returning ``(step_fn, args)``.
        backend: ``cpu`` or ``gpu``.
        out: dump folder to keep the files in (with graphs, diffs and report). Default:
            a temporary folder without them, removed when the interpreter exits.
        steps: the later stages run on ``out`` (``xlalens.capture`` passes graphs,
            diffs and the report; this stage alone writes the graphs).
        **workload_args: ``size``, ``features``, ``depth``, ``width``, ``lr``.

    Returns:
        The :class:`Capture`.

    Raises:
        UsageError: unknown framework or workload.
        FrontendError: the frontend was skipped or failed; the message carries its reason.

    Example:
        >>> cap = xlalens.capture("jax", workload="mlp", depth=3)  # doctest: +SKIP
        >>> cap.outputs_match
        True
    """
    if framework not in FRONTENDS:
        raise UsageError(f"unknown framework {framework!r}; choose from {', '.join(FRONTENDS)}")
    if isinstance(workload, str):
        workload = Workload(name=workload, **workload_args)
    elif workload_args:
        raise UsageError("pass workload settings either as a Workload or as keywords, not both")
    if out is not None:
        folder, stages = Path(out), True
    else:
        # NOTE: [temporary captures] without ``out`` the files live in a temporary
        # folder removed when the interpreter exits (the Capture reads them lazily
        # until then); graphs, diffs and the report are not made for it.
        tmp = Path(tempfile.mkdtemp(prefix="xlalens-"))
        atexit.register(shutil.rmtree, tmp, ignore_errors=True)
        folder, stages = tmp / "dump", False
    try:
        result = write_dump(
            folder,
            frameworks=[framework],
            workload=workload,
            backend=backend,
            target=target,
            stages=stages,
            steps=steps,
        )
    except BaseException:
        if out is None:
            shutil.rmtree(folder.parent, ignore_errors=True)
        raise
    entry = result.manifest["frontends"][framework]
    if entry["status"] != "ok":
        raise FrontendError(f"{framework} {entry['status']}: {entry['reason']}")
    return Capture(framework, result.path, entry)
