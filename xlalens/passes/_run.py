"""Re-running each frontend's capture with XLA's dump flags, and reading the result.

NOTE: [why a re-run] the dump flags make XLA write every pass snapshot, the
buffer reports and every kernel's LLVM IR and object file: tens of files and
seconds per frontend. ``xlalens dump`` stays fast without them; ``xlalens
passes DIR`` re-runs the same capture subprocess (``xlalens.frontends._run``)
with ``XLA_FLAGS`` added to its environment, into ``DIR/<frontend>/passes/``.
The flags reach every framework that compiles through XLA in its own process
(jax, TensorFlow ``jit_compile=True``, both kerases, torch_xla, torchax).

Each frontend's folder is written into a staging folder outside the dump
(:class:`xlalens.dumpdir.Staging`) and moved into place in one rename when
complete (never half-written); a failed re-run keeps an earlier good
``passes/`` and records itself in ``DIR/failed/passes-<frontend>.json``. ``passes.json`` there
records the outcome: status, reason (with the stderr tail when the re-run
failed), the module picked as the step and why, the timeline, the memory
report and the kernels' codegen files.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xlalens._errors import DumpError, UsageError
from xlalens.dumpdir import (
    Staging,
    atomic_write,
    check_writable,
    clear_failed,
    locked,
    read_manifest,
    record_failed,
    writes_to,
)
from xlalens.passes._files import KERNEL_MLIR, ModuleFiles, scan
from xlalens.passes._memory import MemoryReport, read_memory
from xlalens.passes._timeline import Timeline, build_timeline, parse_snapshot

PASSES_DIR = "passes"
RECORD = "passes.json"
XLA_DIR = "xla"
DEFAULT_TIMEOUT = 600.0
MODULE_CODE = "(module)"


@dataclass(frozen=True, slots=True)
class FrontendPasses:
    """What ``xlalens passes`` found for one frontend."""

    frontend: str
    """Frontend name."""
    status: str
    """``ok``, ``failed`` (re-run or reading failed) or ``empty`` (the regex matched no pass)."""
    reason: str | None
    """Why not ok: the command, exit status and stderr tail of a failed re-run, or what matched nothing."""
    regex: str
    """The ``--xla_dump_hlo_pass_re`` used."""
    module: str | None
    """The module picked as the step."""
    picked_by: str | None
    """How it was picked: ``fingerprint`` (its optimized HLO equals the captured one),
    ``pre-optimization fingerprint`` (the module XLA received equals the captured HLO) or ``largest``."""
    modules: tuple[str, ...]
    """Every module XLA compiled in the re-run."""
    timeline: Timeline | None
    """The step's pass timeline."""
    memory: MemoryReport | None
    """The step's memory report."""
    codegen: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Kernel name -> its LLVM IR / object files, relative to the frontend's passes folder."""
    folder: Path | None = None
    """``DIR/<frontend>/passes``."""
    matches_capture: bool | None = None
    """Whether the last snapshot has the captured optimized HLO's fingerprint (None: not compared)."""
    seconds: float = 0.0
    """Wall seconds of re-run and analysis."""
    rerun_seconds: dict[str, float] = field(default_factory=dict)
    """The re-run's own phase seconds (``compile`` is XLA's compile with the dump flags on)."""

    def to_json(self) -> dict[str, Any]:
        """Plain data (``passes.json``)."""
        return {
            "frontend": self.frontend,
            "status": self.status,
            "reason": self.reason,
            "regex": self.regex,
            "module": self.module,
            "picked_by": self.picked_by,
            "modules": list(self.modules),
            "timeline": self.timeline.to_json() if self.timeline else None,
            "memory": self.memory.to_json() if self.memory else None,
            "codegen": {k: list(v) for k, v in self.codegen.items()},
            "matches_capture": self.matches_capture,
            "seconds": self.seconds,
            "rerun_seconds": self.rerun_seconds,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], folder: Path | None = None) -> FrontendPasses:
        """Inverse of :meth:`to_json`."""
        return cls(
            frontend=data["frontend"],
            status=data["status"],
            reason=data["reason"],
            regex=data["regex"],
            module=data["module"],
            picked_by=data["picked_by"],
            modules=tuple(data["modules"]),
            timeline=Timeline.from_json(data["timeline"]) if data["timeline"] else None,
            memory=MemoryReport.from_json(data["memory"]) if data["memory"] else None,
            codegen={k: tuple(v) for k, v in data["codegen"].items()},
            folder=folder,
            matches_capture=data.get("matches_capture"),
            seconds=data.get("seconds", 0.0),
            rerun_seconds=data.get("rerun_seconds", {}),
        )


def dump_flags(folder: Path, regex: str) -> str:
    """The ``XLA_FLAGS`` that make XLA write pass snapshots, buffer reports and kernel IR.

    Example:
        >>> dump_flags(Path("/d"), ".*")
        '--xla_dump_to=/d --xla_dump_hlo_pass_re=.* --xla_dump_hlo_as_text'
    """
    # XLA splits XLA_FLAGS on whitespace: a regex with spaces cannot be passed.
    return f"--xla_dump_to={folder} --xla_dump_hlo_pass_re={regex} --xla_dump_hlo_as_text"


def _kernel_of_codegen(module: ModuleFiles, path: Path) -> str:
    rest = path.name.split(".", 1)[1]  # drop module_NNNN
    rest = rest[len(module.name) + 1 :] if rest.startswith(module.name + ".") else rest
    rest = rest.removeprefix("obj-file.")
    for suffix in (".ir-no-opt.ll", ".ir-with-opt.ll", ".ll", ".o", ".s", ".asm", *KERNEL_MLIR):
        if rest.endswith(suffix):
            rest = rest[: -len(suffix)]
            break
    return rest.removesuffix("_kernel_module").removeprefix("__compute_module_")


def codegen_files(
    module: ModuleFiles, kernels: list[str], root: Path
) -> dict[str, tuple[str, ...]]:
    """Map each kernel name to its codegen files (LLVM IR before/after opt, object file).

    Args:
        module: the module's dump files.
        kernels: kernel instruction names of the optimized module.
        root: paths are given relative to it.

    Returns:
        ``{kernel: (relative paths...)}`` for the kernels that have files, and
        ``"(module)"`` for the files of no kernel. Kernels that call a library
        (a dot through Eigen or YNNPACK) have no files of their own.

    Example:
        >>> codegen_files(mod, ["multiply_add_fusion"], folder)  # doctest: +SKIP
        {'multiply_add_fusion': ('xla/module_0000.jit_f.multiply_add_fusion_kernel_module.ir-no-opt.ll', ...)}
    """
    wanted = set(kernels)
    out: dict[str, list[str]] = {}
    for path in module.codegen:
        k = _kernel_of_codegen(module, path)
        # What belongs to no kernel (``part_00``: code compiled together) is the module's.
        key = k if k in wanted else MODULE_CODE
        out.setdefault(key, []).append(str(path.relative_to(root)))
    return {k: tuple(sorted(v)) for k, v in out.items()}


def pick_step(
    modules: list[ModuleFiles], optimized_hlo: str | None, hlo: str | None = None
) -> tuple[ModuleFiles, str]:
    """Which of the modules XLA compiled is the captured step.

    The module whose optimized HLO has the same fingerprint as the capture's
    ``optimized_hlo.txt``; else (the capture's optimized HLO came from another
    compile, e.g. PJRT's of the StableHLO) the module XLA received with the
    fingerprint of the capture's ``hlo.txt``; else the module with the most
    instructions XLA received.

    Args:
        modules: from :func:`scan`, only those with pass snapshots are considered.
        optimized_hlo: the capture's optimized HLO text (None: skip the fingerprint).
        hlo: the capture's pre-optimization HLO text (None: skip that fingerprint).

    Returns:
        ``(module, how)``: how is ``fingerprint``, ``pre-optimization fingerprint`` or ``largest``.

    Raises:
        ValueError: no module has pass snapshots.

    Example:
        >>> mod, how = pick_step(scan(xla_dir), Path("dump/jax/optimized_hlo.txt").read_text())  # doctest: +SKIP
    """
    from xlalens.passes._fingerprint import fingerprint

    candidates = [m for m in modules if m.snapshots]
    if not candidates:
        raise ValueError("no module has pass snapshots")
    if optimized_hlo:
        try:
            want = fingerprint(parse_snapshot(optimized_hlo))
        except Exception:  # an unreadable capture only means no fingerprint pick
            want = None
        for m in candidates:
            final = m.after_optimizations or m.snapshots[-1].path
            try:
                if fingerprint(parse_snapshot(final.read_text(errors="replace"))) == want:
                    return m, "fingerprint"
            except Exception:
                continue
    if hlo:
        # The capture's optimized HLO may come from another compile (torch_xla's
        # comes from PJRT's compile of its StableHLO); its pre-optimization HLO
        # is what the framework handed XLA in this very process.
        try:
            want = fingerprint(parse_snapshot(hlo))
        except Exception:
            want = None
        for m in candidates:
            first = m.before_optimizations or m.snapshots[0].path
            try:
                if fingerprint(parse_snapshot(first.read_text(errors="replace"))) == want:
                    return m, "pre-optimization fingerprint"
            except Exception:
                continue

    def size(m: ModuleFiles) -> int:
        src = m.before_optimizations or m.snapshots[0].path
        return src.read_text(errors="replace").count("\n")

    return max(candidates, key=size), "largest"


def analyze(
    name: str, folder: Path, regex: str, optimized_hlo: str | None, hlo: str | None = None
) -> FrontendPasses:
    """Build the record of one frontend's re-run from its XLA dump folder ``folder/xla``.

    Args:
        name: frontend name.
        folder: the frontend's passes folder.
        regex: the pass regex that was used.
        optimized_hlo: the captured optimized HLO text, to pick the step (or None).
        hlo: the captured pre-optimization HLO text, to pick the step (or None).

    Returns:
        The :class:`FrontendPasses` (status ``empty`` when no pass snapshot exists).

    Example:
        >>> analyze("jax", Path("dump/jax/passes"), ".*", None).timeline.steps[-1].kernels  # doctest: +SKIP
    """
    from xlalens.ir import kernel_nodes
    from xlalens.passes._fingerprint import fingerprint

    start = time.perf_counter()
    modules = scan(folder / XLA_DIR)
    names = tuple(m.name for m in modules)
    if not any(m.snapshots for m in modules):
        what = ", ".join(names) or "none"
        return FrontendPasses(
            name, "empty",
            f"the pass regex {regex!r} matched no pass of the modules XLA compiled ({what}); "
            "try --passes '.*' or a pass name such as 'fusion|algsimp'",
            regex, None, None, names, None, None, folder=folder,
        )  # fmt: skip
    module, how = pick_step(modules, optimized_hlo, hlo)
    tl = build_timeline(module)
    final = tl.final_graph
    matches = None
    if optimized_hlo:
        try:
            matches = fingerprint(parse_snapshot(optimized_hlo)) == tl.fingerprint
        except Exception:
            matches = None
    memory = None
    if module.buffer_assignment is not None and final is not None:
        sources = {
            d["name"]: f"{d['source_file']}:{d['source_line']}"
            for _, d in final.nodes(data=True)
            if d.get("source_file")
        }
        memory = read_memory(module.buffer_assignment, sources=sources)
    kernels = [final.nodes[k]["name"] for k in kernel_nodes(final)] if final is not None else []
    return FrontendPasses(
        frontend=name,
        status="ok",
        reason=None,
        regex=regex,
        module=module.name,
        picked_by=how,
        modules=names,
        timeline=tl,
        memory=memory,
        codegen=codegen_files(module, kernels, folder),
        folder=folder,
        matches_capture=matches,
        seconds=time.perf_counter() - start,
    )


def _rerun_one(
    dump: Path,
    manifest: dict[str, Any],
    name: str,
    *,
    backend: str,
    regex: str,
    timeout: float,
) -> FrontendPasses:
    from xlalens.frontends import FRONTENDS
    from xlalens.frontends._run import run_frontend
    from xlalens.workloads import Workload

    start = time.perf_counter()
    front = dump / name
    final = front / PASSES_DIR
    with Staging(final, dump=dump) as st:
        staging = st.path
        wl = manifest.get("workload") or {}
        target = wl.get("target") if wl.get("name") == "user" else None
        workload = Workload() if target else Workload.from_json(wl)
        xla = staging / XLA_DIR
        xla.mkdir()
        flags = " ".join(
            f for f in (os.environ.get("XLA_FLAGS", ""), dump_flags(xla.resolve(), regex)) if f
        )
        run = run_frontend(
            FRONTENDS[name],
            workload,
            folder=staging / "run",
            dump_root=staging,
            backend=backend,
            timeout=timeout,
            target=target,
            extra_env={"XLA_FLAGS": flags},
        )
        log = staging / "run" / "capture.log"
        if log.is_file():
            shutil.move(log, staging / "rerun.log")
        shutil.rmtree(staging / "run", ignore_errors=True)
        if run.entry.get("status") != "ok":
            reason = run.entry.get("reason") or run.entry.get("status")
            # Its command names the staging folder, gone by now: name ours instead.
            reason = "\n".join(
                ln if not ln.startswith("command: ") else
                f"re-run: xlalens passes {dump} --frontend {name}"
                for ln in str(reason).splitlines()
            )  # fmt: skip
            rec = FrontendPasses(
                name, "failed", f"the re-run with XLA dump flags failed: {reason}",
                regex, None, None, (), None, None, folder=final,
            )  # fmt: skip
        else:
            arts = manifest["frontends"][name].get("artifacts", {})

            def text(key: str) -> str | None:
                art = arts.get(key)
                return (dump / art).read_text() if art and (dump / art).is_file() else None

            # Compare only with an optimized HLO of the framework's own compile: one
            # the core made from the StableHLO (torch_xla) is another compile.
            own = manifest["frontends"][name].get("optimized_hlo_source") == "framework"
            try:
                rec = analyze(
                    name, staging, regex, text("optimized_hlo") if own else None, text("hlo")
                )
            except Exception as exc:  # one frontend's bad dump never stops the others
                rec = FrontendPasses(
                    name, "failed", f"reading XLA's dump failed: {type(exc).__name__}: {exc}",
                    regex, None, None, (), None, None, folder=final,
                )  # fmt: skip
        rec = _with(
            rec,
            folder=final,
            seconds=time.perf_counter() - start,
            rerun_seconds=dict(run.entry.get("seconds") or {}),
        )
        earlier = final / RECORD
        if rec.status == "failed" and _status(earlier) == "ok":
            # NOTE: [merge, never lose] in xlalens/targets/_compile.py: the earlier
            # good passes/ stays; the attempt is recorded beside it.
            failed = record_failed(dump, "passes", name, json.dumps(rec.to_json(), indent=1))
            return _with(
                rec, reason=f"{rec.reason} (the earlier passes/ was kept; this attempt: {failed})"
            )
        atomic_write(staging / RECORD, json.dumps(rec.to_json(), indent=1))
        st.commit()
        clear_failed(dump, "passes", name)
        return rec


def _status(record: Path) -> str | None:
    try:
        return json.loads(record.read_text()).get("status")
    except (OSError, ValueError, AttributeError):
        return None


def _with(rec: FrontendPasses, **changes: Any) -> FrontendPasses:
    from dataclasses import replace

    return replace(rec, **changes)


def run_passes(
    dump: str | Path,
    *,
    frontends: list[str] | None = None,
    backend: str = "cpu",
    passes: str = ".*",
    timeout: float | None = None,
    jobs: int | None = None,
    progress: Callable[[FrontendPasses], None] | None = None,
) -> dict[str, FrontendPasses]:
    """Re-run each frontend's capture with XLA's dump flags and build its pass timeline.

    Args:
        dump: a dump folder written by ``xlalens dump``.
        frontends: frontend names (default: every frontend captured ``ok`` in the dump).
        backend: the XLA backend to compile for (``cpu``).
        passes: ``--xla_dump_hlo_pass_re``: which passes get a snapshot.
        timeout: seconds per re-run (default env XLALENS_FRONTEND_TIMEOUT or 600).
        jobs: re-runs at once (default: env XLALENS_JOBS or the core count).
        progress: called with each frontend's record as it finishes.

    Returns:
        ``{frontend: FrontendPasses}`` in the order asked; each also written to
        ``DIR/<frontend>/passes/passes.json``.

    Raises:
        DumpError: not a dump, or a dump without frontends.
        UsageError: an unknown or not-captured frontend, a bad regex or backend.

    Example:
        >>> recs = run_passes("xlalens-dump", frontends=["jax"])  # doctest: +SKIP
        >>> print(format_table(recs["jax"].timeline))  # doctest: +SKIP
    """
    import re

    from xlalens._runtime import BACKENDS
    from xlalens.frontends import FRONTENDS

    folder = Path(dump)
    manifest = read_manifest(folder)
    captured = manifest.get("frontends") or {}
    if not captured:
        raise DumpError(
            f"{folder}: the dump holds no frontends; run `xlalens dump -o {folder}` first"
        )
    if backend not in BACKENDS:
        raise UsageError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if backend != manifest.get("backend", "cpu"):
        raise UsageError(
            f"--backend {backend}: the dump was captured for {manifest.get('backend')}; "
            f"re-capture with `xlalens dump --backend {backend}` first"
        )
    try:
        re.compile(passes)
    except re.error as exc:
        raise UsageError(f"--passes {passes!r} is not a regular expression: {exc}") from None
    if not passes or any(c.isspace() for c in passes):
        raise UsageError(
            f"--passes {passes!r}: give a non-empty regex without spaces (XLA_FLAGS splits on them)"
        )
    ok = [n for n, e in captured.items() if e.get("status") == "ok"]
    if frontends:
        for n in frontends:
            if n not in FRONTENDS:
                raise UsageError(f"unknown frontend {n!r}; choose from {', '.join(FRONTENDS)}")
            if n not in ok:
                raise UsageError(
                    f"frontend {n!r} is not captured ok in {folder} (have: {', '.join(ok) or 'none'}); "
                    f"re-run `xlalens dump --frameworks {n}`"
                )
        names = list(dict.fromkeys(frontends))
    else:
        names = ok
    if not names:
        raise DumpError(f"{folder}: no frontend was captured ok; re-run `xlalens dump -o {folder}`")
    # Load the backend (and jax.extend) once here: the re-runs' replays import it
    # from several threads at once otherwise, and a half-imported jax.extend fails.
    from xlalens._options import check_jobs, check_timeout
    from xlalens._runtime import get_backend

    timeout = check_timeout(timeout, "XLALENS_FRONTEND_TIMEOUT", DEFAULT_TIMEOUT)
    jobs = check_jobs(jobs)
    get_backend(backend)
    check_writable(folder)
    with locked(folder, "xlalens passes"), writes_to(folder, "the passes records"):
        return _run_locked(folder, manifest, names, backend, passes, timeout, jobs, progress)


def _run_locked(
    folder: Path,
    manifest: dict[str, Any],
    names: list[str],
    backend: str,
    passes: str,
    timeout: float,
    jobs: int,
    progress: Callable[[FrontendPasses], None] | None,
) -> dict[str, FrontendPasses]:
    from xlalens.frontends import FRONTENDS

    def one(n: str) -> FrontendPasses:
        rec = _rerun_one(folder, manifest, n, backend=backend, regex=passes, timeout=timeout)
        if progress:
            progress(rec)
        return rec

    order = sorted(names, key=lambda n: -FRONTENDS[n].weight)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        done = dict(zip(order, pool.map(one, order)))
    return {n: done[n] for n in names}


def load_passes(dump: str | Path) -> dict[str, FrontendPasses]:
    """Read the records ``xlalens passes`` wrote into a dump (``DIR/<frontend>/passes/passes.json``).

    Args:
        dump: the dump folder.

    Returns:
        ``{frontend: FrontendPasses}`` for the frontends that have one (may be empty).

    Example:
        >>> load_passes("xlalens-dump")["jax"].memory.peak_bytes  # doctest: +SKIP
    """
    folder = Path(dump)
    out = {}
    for rec in sorted(folder.glob(f"*/{PASSES_DIR}/{RECORD}")):
        try:
            out[rec.parent.parent.name] = FrontendPasses.from_json(
                json.loads(rec.read_text()), folder=rec.parent
            )
        except (OSError, json.JSONDecodeError, KeyError, TypeError):
            continue
    return out
