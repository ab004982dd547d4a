"""``time_dump``: the timing pipeline, one stage per module, the sharded path as a plug-in.

The stages for each frontend, in order (each one's failure is that frontend's
``reason``; the other frontends go on):

1. read the capture: module, inputs, recorded outputs, error bound (``_read``);
2. compile the captured StableHLO with jaxlib's PJRT client for the backend
   (:mod:`xlalens._runtime`), keep its optimized HLO, cost analysis and memory stats;
3. verify: put ``inputs.npz`` on the device once, run once, and compare the results
   with ``outputs.json`` (:mod:`xlalens.timing._verify`); a mismatch ends here;
4. time: warm up, calibrate the repeat count, time each call with
   ``block_until_ready`` (:mod:`xlalens.timing._stats`);
5. profile: run again under the profiler (:mod:`xlalens.timing._profile`);
6. attribute the events to kernels and put kernels and step against the roofline of
   the peaks measured in the same run (:mod:`xlalens.timing._peaks`);
7. write the results document, merged with earlier ones, and refresh the report
   (``_write``).

Stages 2-6 are :func:`~xlalens.timing._measure.time_module`. Plug-ins: a
``--devices N`` dump goes to ``_sharded`` (a worker process with N devices runs
stages 2-6 per device and adds collectives and the link model, reusing ``_read``,
``_measure``'s block timing and ``_write``); ``--sizes`` adds the sweep
(``_sweep``), ``--native`` the framework's own rounds (``_native``), and the
findings are checked after the results are written (``_findings``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from xlalens import _runtime
from xlalens.dumpdir import (
    Staging,
    check_writable,
    clear_failed,
    locked,
    read_manifest,
    record_failed,
    writes_to,
)
from xlalens.timing._measure import (
    _Runner,
    _time_frontend,
    noise_warnings,
    roofline_entry,
    time_module,
    timed_blocks,
)
from xlalens.timing._peaks import measure_peaks
from xlalens.timing._read import (
    read_capture,
    selected_frontends,
    skipped_capture,
)
from xlalens.timing._records import (
    BLOCKS,
    RESULTS_SCHEMA_VERSION,
    TIMING_DIR,
    Capture,
    FrontendTiming,
    KernelResult,
    TimingOptions,
)
from xlalens.timing._write import (
    _atomic_write,
    _earlier_results,
    device_description,
    results_document,
    results_path,
    results_text,
    write_results,
)

# The names this module held before the stages had their own modules (tests,
# benchmarks and plug-ins import them from here).
__all__ = [
    "BLOCKS",
    "RESULTS_SCHEMA_VERSION",
    "TIMING_DIR",
    "Capture",
    "FrontendTiming",
    "KernelResult",
    "TimingOptions",
    "_Runner",
    "_atomic_write",
    "_earlier_results",
    "_time_frontend",
    "device_description",
    "noise_warnings",
    "read_capture",
    "results_document",
    "results_path",
    "roofline_entry",
    "selected_frontends",
    "skipped_capture",
    "time_dump",
    "time_module",
    "timed_blocks",
    "write_results",
]


def time_dump(
    dump_dir: str | Path,
    options: TimingOptions | None = None,
    *,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Time every captured frontend of a dump and write ``DIR/timing/<backend>.json``.

    Args:
        dump_dir: a dump folder (docs/dump-format.md).
        options: :class:`TimingOptions`; defaults time on the CPU with auto-calibration.
        log: called with one progress line per stage (e.g. ``print``); None is silent.

    Returns:
        The results document as written (schema in docs/timing.md).

    Raises:
        DumpError: the folder is not a readable dump.
        UsageError: the backend is not present (the message lists those that are).

    Example:
        >>> res = time_dump("xlalens-dump", TimingOptions(backend="cpu"))  # doctest: +SKIP
        >>> res["frontends"]["jax"]["step"]["median_s"]  # doctest: +SKIP
    """

    options = options or TimingOptions()
    say = log or (lambda _msg: None)
    folder = Path(dump_dir)
    read_manifest(folder)  # a readable dump, before waiting for its lock
    check_writable(folder)
    with locked(folder, "xlalens time"), writes_to(folder, "the timing results"):
        return _time_dump_locked(folder, read_manifest(folder), options, say)


def _time_dump_locked(
    folder: Path, manifest: dict[str, Any], options: TimingOptions, say: Callable[[str], None]
) -> dict[str, Any]:
    from xlalens.timing._sharded import is_sharded, time_sharded_dump

    if is_sharded(manifest):  # N devices: a worker process with N host devices (spmd-time)
        return time_sharded_dump(folder, options, log=say)
    _runtime.get_backend(options.backend)  # fail early, listing the present backends
    fronts = selected_frontends(folder, manifest, options)
    # NOTE: [never lose a user's data] the optimized HLO of each frontend is staged
    # and moved into timing/<backend>/ only with the results that describe it.
    with Staging(folder / TIMING_DIR / options.backend, dump=folder) as st:
        return _time_staged(folder, manifest, options, say, fronts, st)


def _time_staged(
    folder: Path,
    manifest: dict[str, Any],
    options: TimingOptions,
    say: Callable[[str], None],
    fronts: dict[str, Any],
    st: Staging,
) -> dict[str, Any]:
    say(f"measuring {options.backend} peaks (STREAM-like copy, matmul)...")
    peaks = measure_peaks(options.backend, scale=options.peak_scale)
    same_backend = manifest.get("backend") == options.backend
    results: dict[str, Any] = {}
    for fe, info in fronts.items():
        if info.get("status") != "ok":
            results[fe] = skipped_capture(info)
            continue
        say(f"{fe}: compiling for {options.backend}, verifying, timing...")
        results[fe] = _time_frontend(
            folder, fe, info, options, peaks, same_backend, manifest, say, hlo_dir=st.path
        ).as_dict()
        results[fe]["native_step_seconds"] = info.get("native_step_seconds")
    doc = results_document(options, manifest, peaks, results)
    from xlalens.timing._sweep import (
        SweepPoint,
        points_as_dicts,
        run_sweep,
        sweep_svg,
        sweep_table,
    )

    points: list[SweepPoint] = []
    if options.sizes:
        points = run_sweep(folder, list(options.sizes), options, peaks, log=say)
    earlier = _earlier_results(folder, options.backend, say)
    measured = [fe for fe, r in results.items() if r.get("status") == "ok"]
    if earlier is not None and results and not measured and not points:
        # Nothing new was measured: the earlier results stay as they are, and the
        # attempt is recorded beside them (NOTE: [merge, never lose] in targets/_compile.py).
        rec = record_failed(folder, "time", options.backend, results_text(doc))
        say(f"no frontend was timed; the earlier results were kept (this attempt: {rec})")
        doc["kept_earlier"] = True
        return doc
    if earlier is not None and not options.fresh:
        for fe, res in list(results.items()):
            before = (earlier.get("frontends") or {}).get(fe) or {}
            if res.get("status") != "ok" and before.get("status") == "ok":
                results[fe] = dict(
                    before,
                    failed_attempt={"status": res.get("status"), "reason": res.get("reason")},
                )
                say(f"{fe}: not timed this time; its earlier results were kept")
    if options.fresh:
        earlier = None
    if earlier is not None:
        # NOTE: [merged results] results are keyed by (backend, size, frontend): the
        # file is the backend, ``frontends`` the dump's own size, the sweep its points.
        # A new measurement replaces the same key; every other key is kept.
        before = earlier.get("frontends") or {}
        kept = {k: v for k, v in before.items() if k not in results}
        for fe, r in results.items():
            # A run without native rounds (--no-native) keeps the earlier ones, marked.
            old_native = (before.get(fe) or {}).get("native")
            if r.get("native") is None and isinstance(old_native, dict):
                r["native"] = {**old_native, "from_earlier_run": True}
        doc["frontends"] = {**kept, **results}
        old = [SweepPoint(**p) for p in ((earlier.get("sweep") or {}).get("points") or [])]
        new_keys = {(p.frontend, p.size) for p in points}
        points = [p for p in old if (p.frontend, p.size) not in new_keys] + points
        if kept or old:
            say(f"merged with earlier {options.backend} results (--fresh replaces them)")
    if points:
        svg_rel = f"{TIMING_DIR}/{options.backend}/sweep.svg"
        _atomic_write(
            folder / svg_rel, sweep_svg(points, title=f"step time vs size ({options.backend})")
        )
        doc["sweep"] = {
            "sizes": sorted({p.size for p in points}),
            "points": points_as_dicts(points),
            "table": sweep_table(points),
            "svg": svg_rel,
        }
    # The results are written first (outside the dump: a full disk fails here), then
    # the optimized HLO and profiler traces of what was timed and the results naming
    # them are moved in together.
    staged_traces = st.path / "traces"
    if staged_traces.is_dir():
        for trace in sorted(staged_traces.iterdir()):
            st.add_file(folder / TIMING_DIR / "traces" / trace.name, trace.read_bytes())
    st.add_file(results_path(folder, options.backend), results_text(doc))
    st.commit_files()
    clear_failed(folder, "time", options.backend)
    from xlalens.timing._findings import write_findings

    if write_findings(folder) is not None:
        say(f"findings: {folder / 'findings.md'}")
    # report.html is refreshed by the CLI (xlalens.report.refresh_report): a stage
    # never imports the report, which sits one floor up.
    return doc
