"""``compile_for``: compile a dump's captures for GPUs and TPUs it does not have.

One subprocess per target (:mod:`xlalens.targets._worker`), because each PJRT
plugin claims its process. The plugins (libtpu, the jax CUDA plugin) are looked
for on the worker's path only: ``XLALENS_TARGETS_SITE`` (default
``<venv>/targets-site``, where ``make setup`` installs them) is prepended to the
worker's ``PYTHONPATH``, so this process, and every other xlalens process, never
loads them (with them in the main environment every ``import jax`` logs cuInit
and TPU errors).

Writes, atomically per target:
  DIR/targets/<target>.json                       the summary (docs/targets.md)
  DIR/targets/<target>/<fe>/optimized_hlo.txt     the target's optimized HLO
  DIR/targets/<target>/<fe>/graphs/*.json         its graphs (raw, canonical)
  DIR/targets/<target>/<fe>/xla_dump/             XLA's dump: PTX, LLVM IR, object code, asm
  DIR/targets/<target>/<fe>/diff_vs_capture.txt   diff against the capture's own optimized HLO
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from xlalens._errors import UsageError
from xlalens.dumpdir import (
    Staging,
    check_writable,
    clear_failed,
    locked,
    read_manifest,
    record_failed,
    run_child,
    writes_to,
)
from xlalens.dumpdir import atomic_write as _write_atomic  # the one atomic write (issue 22)
from xlalens.targets._spec import PLUGIN_PACKAGE, TARGETS_DIR, Target, parse_targets
from xlalens.targets._summary import analyze, codegen_index, disassemble

_PLATFORM = {"cpu": "cpu", "gpu": "cuda", "tpu": "tpu"}
SUMMARY_VERSION = 1
DEFAULT_TIMEOUT = 600.0


@dataclass(frozen=True, slots=True)
class TargetResult:
    """The outcome of compiling a dump for one target."""

    key: str
    """File-safe target name (``h100``, ``tpu-v5e-2x4``)."""
    status: str
    """``ok`` (the worker ran; see each frontend), ``skipped`` (plugin missing) or ``failed``."""
    reason: str | None
    """Why it was skipped or failed (``libtpu is not installed``, XLA's message...)."""
    seconds: float
    """Wall seconds for this target, worker and summary."""
    summary: dict[str, Any]
    """The JSON summary as written to ``DIR/targets/<key>.json`` (JSON edge: plain dict)."""
    path: Path | None
    """Where the summary was written (None when nothing was written)."""


@dataclass(frozen=True, slots=True)
class CompileResult:
    """What :func:`compile_for` did, target by target."""

    dump: Path
    """The dump folder."""
    targets: tuple[TargetResult, ...]
    """One result per requested target, in the order asked."""

    @property
    def failed(self) -> list[str]:
        """``target`` or ``target/frontend`` for every failure (empty when none)."""
        out = []
        for t in self.targets:
            if t.status == "failed":
                out.append(t.key)
            for fe, info in t.summary.get("frontends", {}).items():
                if info.get("status") == "failed":
                    out.append(f"{t.key}/{fe}")
        return out

    def table(self) -> str:
        """The targets x frontends table that ``xlalens compile`` prints."""
        from xlalens.targets._report import text_table

        return text_table([t.summary for t in self.targets])


def targets_site() -> Path | None:
    """The folder holding the target plugins for the worker, or None when there is none.

    ``XLALENS_TARGETS_SITE`` if set, else ``<sys.prefix>/targets-site`` when it exists.
    """
    env = os.environ.get("XLALENS_TARGETS_SITE")
    if env:
        return Path(env)
    default = Path(sys.prefix) / "targets-site"
    return default if default.is_dir() else None


def missing_plugins() -> dict[str, str]:
    """Kind -> pip package, for each target kind whose plugin the worker would not find.

    Looks (without importing anything) on the worker's path: :func:`targets_site`
    and this environment's ``sys.path``.

    Example:
        >>> missing_plugins()  # doctest: +SKIP
        {}
    """
    from importlib.machinery import PathFinder

    site = targets_site()
    path = ([str(site)] if site else []) + sys.path
    out = {}
    plugins_dirs = [Path(p) / "jax_plugins" / "xla_cuda12" for p in path]
    if not any(d.is_dir() for d in plugins_dirs):
        out["gpu"] = PLUGIN_PACKAGE["gpu"]
    if PathFinder.find_spec("libtpu", path) is None:
        out["tpu"] = PLUGIN_PACKAGE["tpu"]
    return out


def _worker_env(target: Target) -> dict[str, str]:
    env = dict(os.environ)
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    site = targets_site()
    if site is not None:
        paths.append(str(site))
    env["PYTHONPATH"] = os.pathsep.join(paths)
    # The worker reaches the plugin through get_topology_desc, never through jax's
    # default backend; keeping jax on the CPU silences the cuInit / TPU probing.
    # On the device itself (the truth check) jax opens the real backend.
    env["JAX_PLATFORMS"] = _PLATFORM[target.chip.kind] if target.on_device else "cpu"
    env["TF_CPP_MIN_LOG_LEVEL"] = env.get("TF_CPP_MIN_LOG_LEVEL", "3")
    if target.chip.kind == "gpu" and not target.on_device:
        env["JAX_SKIP_CUDA_CONSTRAINTS_CHECK"] = "1"  # no driver: cuInit fails
    if target.chip.kind == "tpu":
        env.setdefault("TPU_SKIP_MDS_QUERY", "1")  # no GCE metadata server here
    if target.chip.kind == "cpu" and target.devices > 1:
        flags = env.get("XLA_FLAGS", "")
        env["XLA_FLAGS"] = f"{flags} --xla_force_host_platform_device_count={target.devices}"
    return env


def _frontends(manifest: dict[str, Any], wanted: list[str] | None, dump: Path) -> list[str]:
    fronts = manifest.get("frontends", {})
    ok = [fe for fe, info in fronts.items() if info.get("status") == "ok"]
    if wanted is None:
        return ok
    unknown = [fe for fe in wanted if fe not in fronts]
    if unknown:
        raise UsageError(
            f"frontend {unknown[0]!r} is not in {dump}; it has: {', '.join(fronts) or 'none'}"
        )
    return [fe for fe in wanted if fe in ok]


def compile_for(
    dump: str | Path,
    targets: str | list[str],
    *,
    frontends: list[str] | None = None,
    timeout: float | None = None,
    codegen: bool = True,
    diffs: bool = True,
    on_device: bool = False,
) -> CompileResult:
    """Compile every captured frontend of a dump for each target, compile-only.

    Args:
        dump: a dump folder written by ``xlalens dump``.
        targets: ``"h100,tpu-v5e"`` or a list of names; each may carry a device count
            or mesh (``h100x8``, ``tpu-v5e:2x4``). See docs/targets.md.
        frontends: only these frontends (default: every frontend captured ``ok``).
        timeout: seconds per target's subprocess (default ``XLALENS_TARGET_TIMEOUT`` or 600).
        codegen: ask XLA to dump per-kernel codegen artifacts (PTX, LLVM IR, object code).
        diffs: write each frontend's diff against the capture's own optimized HLO.
        on_device: compile on the attached device of each target's kind instead
            (the truth check of scripts/gpu_check.sh); written as ``<target>@device``.

    Returns:
        The :class:`CompileResult`. A target whose plugin is missing is ``skipped``
        (``<package> is not installed``); a target or frontend whose compile fails
        is ``failed`` with XLA's message, and the others go on.

    Raises:
        UsageError: an unknown target name (the message lists the valid ones), an
            unknown frontend.
        DumpError: ``dump`` is not a readable dump.

    Example:
        >>> r = compile_for("xlalens-dump", "h100,tpu-v5e")  # doctest: +SKIP
        >>> print(r.table())  # doctest: +SKIP
    """
    parsed = parse_targets(targets)
    if on_device:
        parsed = [dataclasses.replace(t, on_device=True) for t in parsed]
    dump = Path(dump)
    manifest = read_manifest(dump)
    fes = _frontends(manifest, frontends, dump)
    from xlalens._options import check_timeout

    timeout = check_timeout(timeout, "XLALENS_TARGET_TIMEOUT", DEFAULT_TIMEOUT)
    check_writable(dump)
    with locked(dump, "xlalens compile"), writes_to(dump, "the target compiles"):
        (dump / TARGETS_DIR).mkdir(exist_ok=True)
        results = [
            _compile_target(dump, manifest, t, fes, timeout, codegen=codegen, diffs=diffs)
            for t in parsed
        ]
    return CompileResult(dump=dump.resolve(), targets=tuple(results))


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _attempt(summary: dict[str, Any]) -> dict[str, Any]:
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "status": summary.get("status"),
        "reason": summary.get("reason"),
    }


def _link_tree(src: Path, dst: Path) -> None:
    """Copy a kept frontend folder into the staging one: hard links, since no
    file of a dump is ever changed in place (every write replaces)."""

    def link(a: str, b: str) -> None:
        try:
            os.link(a, b)
        except OSError:
            shutil.copy2(a, b)

    shutil.copytree(src, dst, copy_function=link)


def _compile_target(
    dump: Path,
    manifest: dict[str, Any],
    target: Target,
    fes: list[str],
    timeout: float,
    *,
    codegen: bool,
    diffs: bool,
) -> TargetResult:
    """Compile one target and merge it into ``DIR/targets`` (NOTE: [merge, never lose]).

    NOTE: [merge, never lose] (issue 22) a target that failed as a whole leaves
    an earlier good ``<key>.json`` and ``<key>/`` untouched and records the attempt
    in ``DIR/failed/compile-<key>.json``. A frontend that failed where it had compiled before
    keeps its earlier results (linked into the new folder) with the attempt under
    ``failed_attempt``; frontends not asked for this time are carried over too.
    """
    t0 = time.perf_counter()
    root = dump / TARGETS_DIR
    final = root / target.key
    path = root / f"{target.key}.json"
    old = _read_json(path) if path.is_file() else None
    old_ok = old is not None and old.get("status") == "ok"
    with Staging(final, dump=dump) as st:
        staging = st.path
        summary = _run_worker(dump, manifest, target, fes, staging, timeout, codegen=codegen)
        if summary["status"] == "ok":
            _postprocess(dump, manifest, target, summary, staging, diffs=diffs)
        summary["seconds"] = time.perf_counter() - t0
        if summary["status"] != "ok" and old_ok:
            rec = record_failed(
                dump,
                "compile",
                target.key,
                json.dumps({**summary, **_attempt(summary)}, indent=1, default=str),
            )
            kept = dict(old, kept_after_failed_attempt=_attempt(summary))
            reason = f"{summary.get('reason')} (the earlier compile was kept; see {rec})"
            return TargetResult(
                target.key, summary["status"], reason, summary["seconds"], kept, rec
            )
        if summary["status"] == "ok" and old_ok:
            for fe, info in (old.get("frontends") or {}).items():
                new = summary["frontends"].get(fe)
                good_before = info.get("status") == "ok" and (final / fe).is_dir()
                if not good_before or (new is not None and new.get("status") == "ok"):
                    continue
                shutil.rmtree(staging / fe, ignore_errors=True)
                _link_tree(final / fe, staging / fe)
                summary["frontends"][fe] = (
                    info if new is None else dict(info, failed_attempt=_attempt(new))
                )
        text = json.dumps(summary, indent=1, default=str)
        if summary["status"] == "ok":
            # The summary is written first (outside the dump: a full disk fails
            # here), then the folder and the summary are moved in, renames only.
            st.add_file(path, text)
            st.commit()
            clear_failed(dump, "compile", target.key)
        else:
            _write_atomic(path, text)
        return TargetResult(
            target.key,
            summary["status"],
            summary.get("reason"),
            summary["seconds"],
            summary,
            path,
        )


def _base_summary(target: Target) -> dict[str, Any]:
    chip = target.chip
    return {
        "format_version": SUMMARY_VERSION,
        "target": target.key,
        "spelled": target.spelled,
        "chip": chip.name,
        "kind": chip.kind,
        "description": chip.description,
        "topology": target.topology,
        "devices": target.devices,
        "plugin_package": PLUGIN_PACKAGE[chip.kind] or "jaxlib",
        "peaks": {
            "flops_per_s": chip.flops_per_s,
            "bytes_per_s": chip.bytes_per_s,
            "memory_bytes": chip.memory_bytes,
            "source": "published vendor figures (dense); see xlalens/targets/_spec.py",
        },
        "status": "failed",
        "reason": None,
        "frontends": {},
    }


def _run_worker(
    dump: Path,
    manifest: dict[str, Any],
    target: Target,
    fes: list[str],
    staging: Path,
    timeout: float,
    *,
    codegen: bool,
) -> dict[str, Any]:
    summary = _base_summary(target)
    jobs = []
    for fe in fes:
        arts = manifest["frontends"][fe].get("artifacts", {})
        jobs.append(
            {
                "frontend": fe,
                "stablehlo": str((dump / arts["stablehlo"]).resolve())
                if arts.get("stablehlo")
                else None,
                "hlo": str((dump / arts["hlo"]).resolve()) if arts.get("hlo") else None,
                "out": str(staging / fe),
                "dump": codegen,
            }
        )
    request = {
        "key": target.key,
        "kind": target.chip.kind,
        "on_device": target.on_device,
        "platform": _PLATFORM[target.chip.kind],
        "topology_chip": target.chip.topology_chip,
        "topology": target.topology,
        "spec_text": target.spec_text(),
        "jobs": jobs,
        "status": str(staging / "worker.json"),
    }
    req_path = staging / "request.json"
    req_path.write_text(json.dumps(request))
    cmd = [sys.executable, "-m", "xlalens.targets._worker", str(req_path)]
    try:
        # NOTE: [prompt interrupts] in xlalens/dumpdir/_children.py
        proc = run_child(cmd, env=_worker_env(target), text=True, timeout=timeout)
        stderr, rc = proc.stderr, proc.returncode
    except subprocess.TimeoutExpired as exc:
        err = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else exc.stderr
        stderr, rc = err or "", None
    status_file = staging / "worker.json"
    worker = json.loads(status_file.read_text()) if status_file.is_file() else None
    tail = "\n".join(
        ln
        for ln in (stderr or "").splitlines()
        if not ln.startswith(("I0000", "I1", "W0000", "WARNING: All log"))
    )[-2000:]
    if rc is None and worker is None:
        summary["reason"] = (
            f"the compile subprocess ran past {timeout:g} s and was killed "
            "(raise --timeout or XLALENS_TARGET_TIMEOUT)"
        )
    elif worker is None:
        summary["reason"] = (
            f"the compile subprocess exited with {rc} before reporting "
            f"(command: {' '.join(cmd)}); stderr tail:\n{tail}"
        )
    else:
        summary["status"] = worker["status"]
        summary["reason"] = worker.get("reason")
        for k in ("setup_seconds", "device_kind", "platform", "versions"):
            if k in worker:
                summary[k] = worker[k]
        if worker.get("traceback"):
            summary["traceback"] = worker["traceback"]
    for fe in fes:
        res_file = staging / fe / "result.json"
        if res_file.is_file():
            summary["frontends"][fe] = json.loads(res_file.read_text())
        elif summary["status"] == "ok" or (worker is None and rc is not None):
            summary["frontends"][fe] = {
                "frontend": fe,
                "status": "failed",
                "reason": f"the compile subprocess died while compiling it (exit {rc}): {tail[-500:]}",
            }
    if summary["status"] == "ok" and rc not in (0, None):
        summary["reason"] = f"the compile subprocess exited with {rc}; stderr tail:\n{tail}"
    return summary


_DEFINITION = re.compile(r"^\s*(?:ROOT\s+)?%?([A-Za-z0-9_.\-]+)\s*=")


def _definition_lines(text: str) -> dict[str, int]:
    """Instruction name -> 1-based line of its definition in HLO text (first wins)."""
    out: dict[str, int] = {}
    for i, line in enumerate(text.splitlines(), 1):
        m = _DEFINITION.match(line)
        if m and m.group(1) not in out:
            out[m.group(1)] = i
    return out


def _postprocess(
    dump: Path,
    manifest: dict[str, Any],
    target: Target,
    summary: dict[str, Any],
    staging: Path,
    *,
    diffs: bool,
) -> None:
    """Graphs, kernel analysis, codegen links and diffs of each compiled frontend."""
    from xlalens.ir import load, normalize, to_json

    final_rel = Path(TARGETS_DIR) / target.key
    for fe, res in summary["frontends"].items():
        if res.get("status") != "ok":
            continue
        fe_dir = staging / fe
        rel = final_rel / fe
        res["optimized_hlo"] = (rel / "optimized_hlo.txt").as_posix()
        xla_dump = fe_dir / "xla_dump"
        try:
            if target.chip.kind == "cpu":
                disassemble(xla_dump)
            index = codegen_index(xla_dump, staging)
            # Index paths are relative to staging; make them relative to the dump.
            for items in index.values():
                for it in items:
                    it["path"] = (final_rel / it["path"]).as_posix()
            if xla_dump.is_dir():
                res["xla_dump"] = (rel / "xla_dump").as_posix()
                res["xla_dump_files"] = len(list(xla_dump.iterdir()))
            source = {"frontend": fe, "artifact": "optimized_hlo", "target": target.key}
            raw = load(fe_dir / "optimized_hlo.txt", "raw", stage="optimized_hlo")
            raw.graph["source"] = {
                **raw.graph.get("source", {}),
                **source,
                "path": res["optimized_hlo"],
            }
            gdir = fe_dir / "graphs"
            gdir.mkdir(exist_ok=True)
            to_json(raw, gdir / "optimized_hlo.raw.json")
            res["analysis"] = analyze(
                raw, target.chip, res.get("cost", {}), res.get("memory", {}), index
            )
            # Each kernel's own line in the optimized HLO, beside its PTX / IR / asm.
            lines = _definition_lines((fe_dir / "optimized_hlo.txt").read_text())
            for k in res["analysis"]["kernel_list"]:
                if k["name"] in lines:
                    k["codegen"].insert(
                        0, {"kind": "hlo", "path": res["optimized_hlo"], "line": lines[k["name"]]}
                    )
            sig = manifest["frontends"][fe].get("signature")
            canon = normalize(raw, "canonical", signature=sig, copy=True)
            to_json(canon, gdir / "optimized_hlo.canonical.json")
            res["graphs"] = {
                "optimized_hlo.raw": (rel / "graphs" / "optimized_hlo.raw.json").as_posix(),
                "optimized_hlo.canonical": (
                    rel / "graphs" / "optimized_hlo.canonical.json"
                ).as_posix(),
            }
            if diffs and manifest["frontends"][fe].get("artifacts", {}).get("optimized_hlo"):
                from xlalens.diff import diff

                captured = load(f"{dump}:{fe}:optimized_hlo", "canonical")
                d = diff(captured, canon)
                (fe_dir / "diff_vs_capture.txt").write_text(d.to_text())
                res["diff_vs_capture"] = (rel / "diff_vs_capture.txt").as_posix()
        except Exception as exc:  # the compile stands; only the analysis of it failed
            res["analysis_error"] = f"{type(exc).__name__}: {exc}\n" + traceback.format_exc(limit=4)


def resolve_target_entry(spec: str) -> Any:
    """Resolve ``DIR:frontend[:artifact]@target`` to the target compile's optimized HLO.

    ``artifact`` may be omitted or ``optimized_hlo`` (the only artifact a target
    compile writes); ``target`` is a target name as given to ``xlalens compile``
    (``h100``, ``tpu-v5e:2x4``) or its file-safe key (``tpu-v5e-2x4``).

    Returns:
        An ``xlalens.dumpdir.DumpEntry`` whose path is
        ``DIR/targets/<target>/<frontend>/optimized_hlo.txt``.

    Raises:
        DumpError: the dump has no such target compile or frontend; the message says
            which exist and the command that makes the missing one.

    Example:
        >>> resolve_target_entry("xlalens-dump:jax:optimized_hlo@h100").path  # doctest: +SKIP
    """
    from xlalens._errors import DumpError
    from xlalens.dumpdir import DumpEntry
    from xlalens.targets._spec import parse_target

    base, _, name = spec.rpartition("@")
    parts = base.split(":")
    if len(parts) not in (2, 3) or not name:
        raise DumpError(
            f"{spec!r}: a target entry is DIR:frontend[:optimized_hlo]@TARGET, "
            "e.g. xlalens-dump:jax:optimized_hlo@h100"
        )
    folder, frontend = Path(parts[0]), parts[1]
    artifact = parts[2] if len(parts) == 3 else "optimized_hlo"
    if artifact != "optimized_hlo":
        raise DumpError(
            f"{spec!r}: a target compile has only optimized_hlo; write "
            f"{folder}:{frontend}:optimized_hlo@{name}"
        )
    try:
        key = parse_target(name).key
    except UsageError as exc:
        raise DumpError(f"{spec!r}: {exc}") from None
    manifest = read_manifest(folder)
    summary_path = folder / TARGETS_DIR / f"{key}.json"
    have = sorted(p.stem for p in (folder / TARGETS_DIR).glob("*.json"))
    if not summary_path.is_file():
        raise DumpError(
            f"{spec!r}: {folder} has no compile for {key} (has: {', '.join(have) or 'none'}); "
            f"run `xlalens compile {folder} --target {name}`"
        )
    summary = json.loads(summary_path.read_text())
    res = (summary.get("frontends") or {}).get(frontend)
    if not res or res.get("status") != "ok" or not res.get("optimized_hlo"):
        fes = ", ".join(
            fe for fe, r in (summary.get("frontends") or {}).items() if r.get("status") == "ok"
        )
        why = (res or {}).get("reason") or summary.get("reason") or "not compiled"
        raise DumpError(
            f"{spec!r}: no {key} compile of {frontend!r} ({why.splitlines()[0]}); "
            f"compiled: {fes or 'none'}"
        )
    path = (folder / res["optimized_hlo"]).resolve()
    if not path.is_file():
        raise DumpError(
            f"{spec!r}: {path} is listed in {summary_path} but missing; re-run `xlalens compile`"
        )
    return DumpEntry(
        dump=folder.resolve(),
        frontend=frontend,
        artifact="optimized_hlo",
        path=path,
        manifest=manifest,
    )
