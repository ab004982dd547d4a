"""Writing a dump folder: run the frontends in parallel, then the later stages.

NOTE: [never half-written] everything is written into a staging folder
outside DIR (:class:`xlalens.dumpdir.Staging`); only when the manifest is
complete is it exchanged with DIR in one rename, under DIR's write lock. An
interrupted or killed run leaves either the old dump or the new one, never a
mix, and a re-run in which no frontend succeeded keeps the old dump whole
(:attr:`DumpResult.kept`). A non-empty DIR that is not an xlalens dump is
refused before anything runs.
"""

from __future__ import annotations

import datetime as _dt
import json
import platform
import time
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from xlalens._errors import UsageError, XlalensError
from xlalens._options import check_jobs, check_timeout
from xlalens._runtime import BACKENDS
from xlalens.dumpdir import (
    FORMAT_VERSION,
    MANIFEST,
    Staging,
    atomic_write,
    check_writable,
    is_dump,
    locked,
    writes_to,
)
from xlalens.frontends import FRONTENDS, default_frontends
from xlalens.frontends._run import FrontendRun, cross_check, run_frontend
from xlalens.ir import dump_step as graphs_step
from xlalens.workloads import Workload

DEFAULT_TIMEOUT = 600.0

Step = tuple[str, Callable[[Path, dict[str, Any]], None]]
"""A later stage run on the finished staging folder: ``(name, step(folder, manifest))``.
One that fails is recorded in ``manifest["steps"]`` and the dump is still written."""

# NOTE: [steps handed down] capture may not import the stages beside it (diff) or
# the report above it (pyproject's import contracts), so by itself it runs only the
# ground floor's graphs. The whole pipeline (graphs, diffs, report) is named on the
# top floor, in xlalens/_pipeline.py, and handed down by the CLI and ``xlalens.dump``.
GRAPHS_ONLY: tuple[Step, ...] = (("graphs", graphs_step),)


@dataclass(frozen=True, slots=True)
class DumpResult:
    """What :func:`write_dump` produced."""

    path: Path
    """The dump folder."""
    manifest: dict[str, Any]
    """Its manifest (plain data, as written to manifest.json)."""
    seconds: float
    """Wall seconds of the whole dump."""
    kept: bool = False
    """True when no frontend succeeded and the earlier dump at ``path`` was kept
    unchanged (``manifest`` then describes the failed attempt, not the folder)."""

    @property
    def failed(self) -> list[str]:
        """Frontends whose status is ``failed``."""
        return [n for n, e in self.manifest["frontends"].items() if e["status"] == "failed"]


def resolve_frontends(names: list[str] | None) -> list[str]:
    """Validate ``--frameworks``; None means every default frontend (not the opt-in ones).

    Raises:
        UsageError: an unknown name, listing the valid ones.
    """
    if not names:
        return default_frontends()
    unknown = [n for n in names if n not in FRONTENDS]
    if unknown:
        raise UsageError(f"unknown framework {unknown[0]!r}; choose from {', '.join(FRONTENDS)}")
    return list(dict.fromkeys(names))


def check_target(spec: str) -> None:
    """Check ``--target`` (``module:function`` or ``file.py:function``) without importing it.

    The module is the user's framework code, which the core must not import, so
    its source is read and parsed (``ast``) for a top-level definition of the name.

    Raises:
        UsageError: one line naming the target and what is wrong.

    Example:
        >>> check_target("examples/user_step.py:make_step")  # doctest: +SKIP
    """
    import ast
    import importlib.util

    if ":" not in spec:
        raise UsageError(
            f"--target {spec}: expected MODULE:FUNCTION or FILE.py:FUNCTION, e.g. my_steps.py:make_step"
        )
    where, name = spec.rsplit(":", 1)
    if not name.isidentifier():
        raise UsageError(f"--target {spec}: {name!r} is not a function name")
    if where.endswith(".py"):
        source = Path(where)
        if not source.is_file():
            raise UsageError(f"--target {spec}: file {where} does not exist")
    else:
        try:
            found = importlib.util.find_spec(where)
        except (ImportError, ValueError):
            found = None
        if found is None or not found.origin or not found.origin.endswith(".py"):
            raise UsageError(
                f"--target {spec}: no Python module {where!r} on the path; "
                "give a file (path/to/steps.py:make_step) or add its folder to PYTHONPATH"
            )
        source = Path(found.origin)
    try:
        tree = ast.parse(source.read_text(), filename=str(source))
    except (OSError, SyntaxError, ValueError) as exc:
        raise UsageError(f"--target {spec}: cannot read {source}: {exc}") from exc
    defined = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            defined |= {t.id for t in targets if isinstance(t, ast.Name)}
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            defined |= {(a.asname or a.name).split(".")[0] for a in node.names}
    if name not in defined:
        raise UsageError(f"--target {spec}: {source} defines no {name!r}")
    _check_requires(spec, tree)


# Import name -> (pip package, the xlalens extra that installs it), for REQUIRES.
_EXTRAS = {
    "jax": ("jax", "jax"),
    "optax": ("optax", "jax"),
    "tensorflow": ("tensorflow", "tensorflow"),
    "keras": ("keras", "keras"),
    "torch": ("torch", "torch"),
    "torch_xla": ("torch_xla", "torch"),
    "torchax": ("torchax", "torch"),
    "keras_hub": ("keras-hub", "zoo"),
}


def _check_requires(spec: str, tree: Any) -> None:
    """A target's module-level ``REQUIRES = ("flax", ...)``: each must be importable.

    The zoo's factories (examples/zoo/) name the libraries they import, so that a
    missing one is one line naming the package and the extra, before any
    subprocess starts, rather than a traceback from the frontend.
    """
    import ast
    import importlib.util

    for node in tree.body:
        if not (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "REQUIRES" for t in node.targets)
        ):
            continue
        try:
            names = ast.literal_eval(node.value)
        except ValueError:
            return
        for name in names if isinstance(names, (list, tuple)) else ():
            try:
                found = importlib.util.find_spec(str(name))
            except (ImportError, ValueError):
                found = None
            if found is None:
                package, extra = _EXTRAS.get(str(name), (str(name), "zoo"))
                raise UsageError(
                    f"--target {spec} needs {package}, which is not installed: "
                    f"pip install 'xlalens[{extra}]' (or pip install {package})"
                )


def absolute_target(spec: str) -> str:
    """``file.py:function`` with the file as an absolute path; ``module:function`` as given.

    The dump records the target so that ``xlalens passes`` and ``xlalens time``
    can run it again, from any folder (issue 20: a relative path broke both).

    Example:
        >>> absolute_target("steps.py:make_step")  # doctest: +SKIP
        '/home/me/project/steps.py:make_step'
    """
    where, name = spec.rsplit(":", 1)
    if not where.endswith(".py"):
        return spec
    return f"{Path(where).resolve()}:{name}"


def check_output_dir(out: Path) -> None:
    """Refuse a non-empty folder that is not an earlier xlalens dump, or a missing parent."""
    if not out.absolute().parent.is_dir():
        raise UsageError(
            f"-o {out}: folder {out.absolute().parent} does not exist; create it first "
            f"(mkdir -p {out.absolute().parent}) or choose another path"
        )
    if out.exists() and not out.is_dir():
        raise UsageError(f"-o {out}: exists and is not a folder; choose another path")
    if out.is_dir() and any(out.iterdir()) and not is_dump(out):
        raise UsageError(
            f"-o {out}: folder is not empty and is not an xlalens dump; "
            "choose an empty or new folder (xlalens only replaces its own dumps)"
        )


def _versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for dist in ("jax", "jaxlib", "numpy", "networkx", "graphviz"):
        try:
            found[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    return found


def run_steps(folder: Path, manifest: dict[str, Any], steps: Sequence[Step]) -> None:
    """Run the later stages on a staging folder, recording each one's outcome."""
    manifest.setdefault("steps", {})
    for name, step in steps:
        start = time.perf_counter()
        try:
            step(folder, manifest)
            manifest["steps"][name] = {"status": "ok"}
        except Exception as exc:  # one stage's failure never loses the capture
            manifest["steps"][name] = {
                "status": "failed",
                "reason": f"{type(exc).__name__}: {exc}",
                # An XlalensError is the environment or input (e.g. graphviz's `dot`
                # missing), which the CLI reports as exit 2, not as a crash.
                "user_error": isinstance(exc, XlalensError),
                "traceback": traceback.format_exc(limit=6),
            }
        manifest["steps"][name]["seconds"] = time.perf_counter() - start


def write_dump(
    out: str | Path = "xlalens-dump",
    *,
    frameworks: list[str] | None = None,
    workload: Workload | None = None,
    backend: str = "cpu",
    jobs: int | None = None,
    timeout: float | None = None,
    target: str | None = None,
    progress: Callable[[str, dict[str, Any]], None] | None = None,
    stages: bool = True,
    sharding: dict[str, Any] | None = None,
    steps: Sequence[Step] = GRAPHS_ONLY,
) -> DumpResult:
    """Capture every requested frontend into a dump folder, atomically.

    Args:
        out: the dump folder; replaced only if it is an earlier dump.
        frameworks: frontend names (None: all of them; those not installed are skipped).
        workload: what to capture (default: the seed's regression).
        backend: ``cpu`` or ``gpu``: optimized HLO and verification target.
        jobs: frontends run at once (default: the core count, env XLALENS_JOBS).
        timeout: seconds per frontend (default env XLALENS_FRONTEND_TIMEOUT or 600).
        target: a user step ``module:function`` instead of the built-in workload.
        progress: called with (frontend, entry) as each frontend finishes.
        stages: also run the later stages (``steps``) on the dump.
        sharding: a ``xlalens.spmd.MeshSpec.to_json()`` for a sharded step
            (frontends without SPMD capture are skipped with their reason).
        steps: the later stages, in order (default: the graphs only;
            ``xlalens.dump`` and ``xlalens dump`` pass graphs, diffs and the report).

    Returns:
        The :class:`DumpResult`.

    Raises:
        UsageError: an unknown framework or backend, or a refused ``out`` folder.

    Example:
        >>> write_dump("xlalens-dump", frameworks=["jax"]).manifest["frontends"]["jax"]["status"]  # doctest: +SKIP
        'ok'
    """
    start = time.perf_counter()
    names = resolve_frontends(frameworks)
    if target is not None:
        check_target(target)
        target = absolute_target(target)
    if backend not in BACKENDS:
        raise UsageError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    from xlalens._runtime import get_backend

    get_backend(backend)  # fail before any work when it is not present
    workload = workload or Workload()
    out = Path(out)
    check_output_dir(out)
    jobs = check_jobs(jobs)
    timeout = check_timeout(timeout, "XLALENS_FRONTEND_TIMEOUT", DEFAULT_TIMEOUT)
    if out.exists():
        check_writable(out)
    with locked(out, "xlalens dump"), writes_to(out, "the dump"):
        check_output_dir(out)  # again: another writer may have changed it while we waited
        return _write_locked(
            out, names, workload, backend, jobs, timeout, target, progress, stages, sharding,
            steps, start,
        )  # fmt: skip


def _write_locked(
    out: Path,
    names: list[str],
    workload: Workload,
    backend: str,
    jobs: int,
    timeout: float,
    target: str | None,
    progress: Callable[[str, dict[str, Any]], None] | None,
    stages: bool,
    sharding: dict[str, Any] | None,
    steps: Sequence[Step],
    start: float,
) -> DumpResult:
    with Staging(out) as st:
        staging = st.path

        def one(name: str) -> FrontendRun:
            run = run_frontend(
                FRONTENDS[name],
                workload,
                folder=staging / name,
                dump_root=staging,
                backend=backend,
                timeout=timeout,
                target=target,
                sharding=sharding,
            )
            if progress:
                progress(name, run.entry)
            return run

        # Longest first (LPT): with fewer workers than frontends, a slow one
        # started last would set the wall time alone.
        order = sorted(names, key=lambda n: -FRONTENDS[n].weight)
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            done = dict(zip(order, pool.map(one, order)))
        runs = [done[n] for n in names]
        for r in runs:  # a failure's command must name the folder it will live in
            if r.entry.get("reason"):
                r.entry["reason"] = r.entry["reason"].replace(str(staging), str(out.absolute()))
        manifest: dict[str, Any] = {
            "format_version": FORMAT_VERSION,
            "xlalens_version": _xlalens_version(),
            "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            # What really ran: the settings the workload uses and a description.
            "workload": workload.summary()
            if target is None
            else {"name": "user", "target": target},
            "backend": backend,
            **({"sharding": sharding} if sharding is not None else {}),
            "versions": _versions(),
            "frontends": {r.name: r.entry for r in runs},
        }
        if is_dump(out) and not any(r.entry.get("status") == "ok" for r in runs):
            # NOTE: [never half-written] a re-run that captured nothing keeps the old dump.
            return DumpResult(out, manifest, time.perf_counter() - start, kept=True)
        manifest["cross_check"] = cross_check(manifest["frontends"], staging)
        captured = time.perf_counter()
        if stages:
            # The report's section providers (xlalens.report._sections) read the
            # dump from disk, manifest included: write it before the stages run
            # (it is rewritten below with their seconds).
            atomic_write(staging / MANIFEST, json.dumps(manifest, indent=1, sort_keys=False))
            run_steps(staging, manifest, steps)
        done = time.perf_counter()
        manifest["seconds"] = {
            "capture": captured - start,
            "stages": done - captured,
            "total": done - start,
        }
        atomic_write(staging / MANIFEST, json.dumps(manifest, indent=1, sort_keys=False))
        st.commit()
    return DumpResult(out, manifest, time.perf_counter() - start)


def _xlalens_version() -> str:
    from xlalens._version import __version__

    return __version__
