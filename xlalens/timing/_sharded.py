"""Timing a sharded dump across devices: per-device kernels, collectives, comm/compute split.

``xlalens time DIR`` on a dump made with ``--devices N`` comes here
(:func:`time_sharded_dump`). The stages, for each frontend:

1. compile the captured pre-partitioning StableHLO (``mhlo.num_partitions = N``,
   Shardy/GSPMD annotations) with PJRT for N devices (``num_partitions=N``,
   device assignment ``0..N-1``, SPMD partitioning on), keep its per-device
   optimized HLO, cost analysis and memory stats;
2. cut ``inputs.npz`` into per-device shards by the executable's own parameter
   shardings, run once, reassemble the global results by its output shardings
   and check them against the capture under the proof rule (``outputs.npz``,
   :func:`xlalens.proof.error_bound`); a mismatch ends here;
3. time the step (all N devices, until every shard is ready) with the
   statistics of the single-device path, in blocks alternating with profiled runs;
4. attribute the profiled events to kernels *per device* (NOTE [devices of
   events] in :mod:`xlalens.timing._profile`), split each device's kernel time
   into collectives and compute, and time every collective instruction on
   every device;
5. in the lead process, price the same collectives with the link model
   (:mod:`xlalens.ir._linkmodel`) at N devices and extrapolated to larger meshes.

NOTE: [host devices share memory] on the CPU the N "devices" are thread pools of
one processor over one memory: a collective is a memory copy plus the wait for
the slowest partition, not a transfer over a network. CPU collective times say
how XLA:CPU synchronizes partitions; they are not network times, and the
output, results and docs say so. On a GPU box the same path runs on its GPUs.

NOTE: [the worker process] forced host devices come from
``XLA_FLAGS=--xla_force_host_platform_device_count=N``, which jax reads once,
when its CPU client starts. The lead never sets it for itself (NOTE [devices
reach only the child] in :mod:`xlalens.ir._mesh`): steps 1-4 run in
``python -m xlalens.timing._sharded`` with that environment, which writes
``DIR/timing/<backend>.json``; the lead adds the model and prints.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from xlalens._errors import DumpError, ParseError, UsageError, XlalensError
from xlalens._format import seconds as _ms

SHARED_MEMORY_NOTE = (
    "CPU host devices are threads of one processor sharing its memory: CPU collective "
    "times are memory copies and waits for the slowest partition, not network times"
)
EXTRAPOLATE = (8, 64, 512)
"""Device counts the link model predicts for, beside the measured mesh."""
PROFILE_RUNS_MAX = 30


@dataclass(frozen=True, slots=True)
class DeviceSplit:
    """One device's profiled step: kernel time split into collectives and compute."""

    device: int
    """Device ordinal (0..N-1)."""
    kernel_sum_s: float
    """Median seconds per step of its top-level kernels (sum)."""
    collective_s: float
    """Of which in collective instructions (a CPU collective includes its wait for the peers)."""
    compute_s: float
    """Of which in every other kernel."""
    busy_s: float | None
    """Median seconds per step covered by its kernels (union of intervals)."""
    kernels: int
    """Kernels seen on this device."""

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for the JSON edge."""
        d = {f: getattr(self, f) for f in self.__slots__}
        d["collective_fraction"] = (
            self.collective_s / self.kernel_sum_s if self.kernel_sum_s > 0 else None
        )
        return d


@dataclass(frozen=True, slots=True)
class CollectiveTime:
    """One collective instruction: what it moves and how long it took on each device."""

    name: str
    """Instruction name in the optimized HLO (the trace's ``hlo_op``)."""
    kind: str
    """``all-reduce``, ``all-gather``, ..."""
    axes: tuple[str, ...] | None
    """Mesh axes its groups span."""
    group_size: int
    """Devices per group."""
    operand_bytes: int
    """Operand bytes on one device."""
    bytes_per_device: int
    """Bytes each device sends (ring model, :mod:`xlalens.ir._collectives`)."""
    seconds_per_device: tuple[float | None, ...]
    """Median seconds per step on each device (None: no event on that device)."""

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for the JSON edge, with the median and max over devices."""
        seen = [s for s in self.seconds_per_device if s is not None]
        d = {f: getattr(self, f) for f in self.__slots__}
        d["axes"] = None if self.axes is None else list(self.axes)
        d["seconds_per_device"] = list(self.seconds_per_device)
        d["median_s"] = float(np.median(seen)) if seen else None
        d["max_s"] = max(seen) if seen else None
        return d


def is_sharded(manifest: dict[str, Any]) -> bool:
    """True for a dump written with ``--devices N`` (also N = 1 with ``--sharding``: the
    1-device point of a scaling table then runs through the same path)."""
    spec = manifest.get("sharding") or {}
    return int(spec.get("devices") or 0) >= 1


# ---------------------------------------------------------------- lead process


def time_sharded_dump(
    dump_dir: str | Path,
    options: Any = None,
    *,
    link: Any = None,
    log: Callable[[str], None] | None = None,
    scaling: list[str | Path] | None = None,
) -> dict[str, Any]:
    """Time every capture of a sharded dump on N devices; write ``DIR/timing/<backend>.json``
    and ``DIR/findings.md`` (the parallelization claim, :mod:`xlalens.timing._findings_spmd`).

    Args:
        dump_dir: a dump made with ``xlalens dump --devices N``.
        options: :class:`~xlalens.timing.TimingOptions` (``sizes`` and ``native``
            do not apply to sharded dumps and are refused / skipped).
        link: the :class:`~xlalens.spmd.Link` of the model; None: the default (H100 NVLink).
        log: called with progress lines; None is silent.
        scaling: timed sharded dumps of the same step at other device counts; their
            step times are recorded as ``scaling`` for the claim's step time vs devices
            (None: keep the earlier results' ``scaling``).

    Returns:
        The results document (docs/timing.md, "Sharded dumps"), with ``sharding``,
        and per frontend ``sharded`` (devices, collectives, model).

    Raises:
        DumpError: not a sharded dump, or the timing worker failed (its command,
            exit code and stderr tail are in the message).
        UsageError: ``--size`` given, or fewer devices than the mesh on a GPU box.

    Example:
        >>> doc = time_sharded_dump("/tmp/d", TimingOptions())  # doctest: +SKIP
        >>> doc["frontends"]["jax"]["sharded"]["devices"][0]["collective_s"]  # doctest: +SKIP
    """
    from xlalens.dumpdir import read_manifest
    from xlalens.ir._linkmodel import link as default_link
    from xlalens.ir._mesh import frontend_env, parse_mesh
    from xlalens.timing._records import TimingOptions
    from xlalens.timing._write import _earlier_results, results_path

    options = options or TimingOptions()
    say = log or (lambda _m: None)
    folder = Path(dump_dir)
    manifest = read_manifest(folder)
    if not is_sharded(manifest):
        raise DumpError(f"{folder} is not a sharded dump (no --devices N); use time_dump")
    if options.sizes:
        raise UsageError(
            "--size: a size sweep of a sharded dump is not built; time each size's dump on its own"
        )
    from xlalens.timing._findings_spmd import scaling_points

    # Checked before the worker runs: a bad --scaling dump costs no timing.
    points = scaling_points(folder, list(scaling), options.backend) if scaling else None
    spec_doc = manifest["sharding"]
    spec = parse_mesh(
        spec_doc["devices"], "x".join(map(str, spec_doc["mesh"])), ",".join(spec_doc["axes"]),
        spec_doc["strategy"],
    )  # fmt: skip
    env = dict(os.environ)
    if options.backend == "cpu":
        env.update(frontend_env("jax", spec))
        env["JAX_PLATFORMS"] = "cpu"
    request = {f: getattr(options, f) for f in options.__slots__}
    request["sizes"] = []
    request["frontends"] = list(options.frontends) if options.frontends else None
    cmd = [sys.executable, "-m", "xlalens.timing._sharded", str(folder), json.dumps(request)]
    # The worker rewrites the backend's file; keep the earlier frontends (NOTE [merged results]).
    earlier = None if options.fresh else _earlier_results(folder, options.backend, say)
    say(
        f"timing on {spec.devices} {options.backend} devices (mesh "
        f"{'x'.join(map(str, spec.shape))}) in a worker process..."
    )
    # Progress lines are relayed as they come; the rest of stderr is kept for errors.
    lines: list[str] = []
    from xlalens.dumpdir._children import child

    # NOTE: [prompt interrupts] in xlalens/dumpdir/_children.py
    with child(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) as proc:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line.rstrip("\n"))
            if line.startswith("xlalens: ") and not line.startswith("xlalens: error: "):
                say(line[len("xlalens: ") :].rstrip())
        proc.wait()
    if proc.returncode != 0:
        errors = [ln for ln in lines if ln.startswith("xlalens: error: ")]
        if proc.returncode == 2 and errors:
            raise UsageError(errors[-1].removeprefix("xlalens: error: "))
        tail = "\n".join(lines[-15:])
        raise DumpError(
            f"sharded timing worker failed (exit {proc.returncode}): {' '.join(cmd[:4])} ...\n{tail}"
        )
    path = results_path(folder, options.backend)
    doc = json.loads(path.read_text())
    add_model(folder, doc, link or default_link())
    kept = {
        k: v
        for k, v in ((earlier or {}).get("frontends") or {}).items()
        if k not in doc["frontends"]
    }
    if kept:
        doc["frontends"] = {**kept, **doc["frontends"]}
        say(f"merged with earlier {options.backend} results (--fresh replaces them)")
    if points is not None:
        doc["scaling"] = {"points": points}
    elif (earlier or {}).get("scaling"):
        doc["scaling"] = earlier["scaling"]  # type: ignore[index]
    from xlalens.timing._findings import write_findings
    from xlalens.timing._write import write_results

    write_results(folder, doc)
    if write_findings(folder) is not None:
        say(f"findings: {folder / 'findings.md'}")
    return doc


def add_model(folder: Path, doc: dict[str, Any], lk: Any) -> None:
    """Price each frontend's collectives with the link model, at N and extrapolated (in place).

    Example:
        >>> add_model(Path("/tmp/d"), doc, link())  # doctest: +SKIP
    """
    from xlalens.ir import collectives, parse_hlo_text
    from xlalens.ir._collectives import mesh_from_spec
    from xlalens.ir._linkmodel import predict

    spec = doc["sharding"]
    n = int(spec["devices"])
    doc["model"] = {"link": lk.as_dict(), "note": SHARED_MEMORY_NOTE}
    for r in doc["frontends"].values():
        sh = r.get("sharded")
        if r.get("status") != "ok" or not sh or not r.get("optimized_hlo"):
            continue
        graph = parse_hlo_text((folder / r["optimized_hlo"]).read_text())
        items = collectives(graph, mesh_from_spec(spec))
        names = {c.node: graph.nodes[c.node]["name"] for c in items}
        here = predict(items, lk, devices=n, axes=spec["axes"])
        per = {names[node]: s for node, s in here.per_collective}
        for c in sh["collectives"]:
            c["model_s"] = per.get(c["name"])
        measured = [d["collective_s"] for d in sh["devices"]]
        sh["model"] = {
            "link": lk.name,
            "at_mesh": here.as_dict(),
            "measured_collective_s": float(np.median(measured)) if measured else None,
            "extrapolated": [
                predict(items, lk, devices=n, target=t, axes=spec["axes"]).as_dict()
                for t in sorted({*EXTRAPOLATE, n})
                if t >= n
            ],
        }


def sharded_summary(doc: dict[str, Any], *, top: int = 3) -> str:
    """What ``xlalens time`` prints for a sharded dump, after the common summary.

    Example:
        >>> print(sharded_summary(load_results("/tmp/d")["cpu"]))  # doctest: +SKIP
    """
    spec = doc.get("sharding")
    if not spec:
        return ""
    model = doc.get("model") or {}
    lk = model.get("link") or {}
    lines = [
        "",
        f"sharded: {spec['strategy']} over {spec['devices']} {doc['backend']} devices, mesh "
        f"{'x'.join(map(str, spec['mesh']))} ({','.join(spec['axes'])})",
    ]
    if doc["backend"] == "cpu":
        lines.append(f"  note: {SHARED_MEMORY_NOTE}.")
    for fe, r in doc["frontends"].items():
        sh = r.get("sharded")
        if r.get("status") != "ok" or not sh:
            continue
        lines.append(f"{fe}: per device (median per step, profiled runs):")
        lines.append(
            f"  {'device':>6} {'kernels':>11} {'collectives':>11} {'compute':>11} {'coll %':>7}"
        )
        for d in sh["devices"]:
            frac = d.get("collective_fraction")
            lines.append(
                f"  {d['device']:>6} {_ms(d['kernel_sum_s']):>11} {_ms(d['collective_s']):>11} "
                f"{_ms(d['compute_s']):>11} {'—' if frac is None else f'{frac:.1%}':>7}"
            )
        if sh["collectives"]:
            lines.append(
                f"  {'collective':<16} {'kind':<14} {'axes':<10} {'group':>5} {'bytes/dev':>11} "
                f"{'median':>10} {'max':>10} {'model':>10}"
            )
        for c in sh["collectives"]:
            axes = "?" if c["axes"] is None else (",".join(c["axes"]) or "-")
            lines.append(
                f"  {c['name']:<16} {c['kind']:<14} {axes:<10} {c['group_size']:>5} "
                f"{c['bytes_per_device']:>11,} {_ms(c['median_s']):>10} {_ms(c['max_s']):>10} "
                f"{_ms(c.get('model_s')):>10}"
            )
        m = sh.get("model")
        if m:
            lines.append(
                f"  model ({lk.get('name')}: {lk.get('bandwidth_bytes_per_s', 0) / 1e9:g} GB/s per "
                f"direction, {lk.get('latency_s', 0) * 1e6:g} us per ring step; assumed): "
                f"communication {_ms(m['at_mesh']['seconds'])} per step at {spec['devices']} devices "
                f"(measured here {_ms(m['measured_collective_s'])})"
            )
            lines.append(
                "  extrapolated: "
                + ", ".join(
                    f"{p['devices']} devices {p['bytes_per_device'] / 1e6:.3g} MB/device "
                    f"{_ms(p['seconds'])}"
                    for p in m["extrapolated"]
                )
            )
    return "\n".join(lines)


# ---------------------------------------------------------------- worker process


def _peak_bytes(memory: dict[str, int]) -> int:
    """Arguments + outputs + temporaries - aliased: the compiled step's device memory."""
    return (
        memory.get("argument_size_in_bytes", 0)
        + memory.get("output_size_in_bytes", 0)
        + memory.get("temp_size_in_bytes", 0)
        - memory.get("alias_size_in_bytes", 0)
    )


class _ShardedRunner:
    """One compiled N-device executable on per-device shards of the inputs."""

    def __init__(self, text: str, backend: str, devices: int) -> None:
        from jax._src.lib import xla_client

        from xlalens import _runtime

        client = _runtime.get_backend(backend)
        have = client.local_devices()
        if len(have) < devices:
            raise UsageError(
                f"the dump is sharded over {devices} devices but {backend} has {len(have)} here; "
                + (
                    "XLA_FLAGS=--xla_force_host_platform_device_count did not reach the worker"
                    if backend == "cpu"
                    else f"time it on a machine with {devices} {backend} devices, or with --backend cpu"
                )
            )
        self.devices = have[:devices]
        opts = xla_client.CompileOptions()
        build = opts.executable_build_options
        build.num_replicas = 1
        build.num_partitions = devices
        build.use_spmd_partitioning = True
        # The captured module carries Shardy (sdy) annotations when jax wrote them.
        build.use_shardy_partitioner = "sdy.sharding" in text or "sdy.mesh" in text
        build.device_assignment = xla_client.DeviceAssignment.create(
            np.arange(devices).reshape(1, devices)
        )
        t0 = time.perf_counter()
        try:
            exe = client.compile_and_load(text, xla_client.DeviceList(tuple(self.devices)), opts)
        except Exception as exc:  # jaxlib raises with XLA's own text
            raise _runtime.CompileError(
                f"XLA could not compile the module for {devices} {backend} devices: {exc}"
            ) from exc
        self.compiled = _runtime.Compiled(exe, backend, self.devices[0], time.perf_counter() - t0)
        self.exe = exe
        self.in_shardings = self._shardings(exe.get_parameter_shardings())
        self.out_shardings = self._shardings(exe.get_output_shardings())
        self.host: list[np.ndarray] = []
        self.args: list[Any] = []
        self.donated = False

    def _shardings(self, ops: Any) -> list[Any] | None:
        """One sharding per parameter/result; None when the executable reports none
        (jaxlib 0.10.2 returns None for a 1-partition executable: then everything
        is replicated, see :meth:`_sharding`)."""
        from jax._src.sharding_impls import GSPMDSharding

        return None if ops is None else [GSPMDSharding(self.devices, op) for op in ops]

    def _sharding(self, shardings: list[Any] | None, i: int) -> Any:
        from jax._src.sharding_impls import GSPMDSharding

        if shardings is None:
            return GSPMDSharding.get_replicated(self.devices)
        return shardings[i] if i < len(shardings) else None

    def put(self, host: list[np.ndarray]) -> None:
        """Per-device shards of the global inputs, placed by the executable's parameter shardings."""
        import jax

        if self.in_shardings is not None and len(host) != len(self.in_shardings):
            raise DumpError(
                f"inputs.npz has {len(host)} arrays but the module takes {len(self.in_shardings)}; "
                "re-run `xlalens dump`"
            )
        self.host = host
        with jax.enable_x64(True):  # keep 64-bit inputs as captured (see _runtime.put)
            self.args = [
                jax.device_put(np.asarray(a), self._sharding(self.in_shardings, i))
                for i, a in enumerate(host)
            ]

    def refresh(self) -> None:
        """Fresh device copies (only when the module donates its inputs)."""
        self.put(self.host)
        for a in self.args:
            a.block_until_ready()

    def first(self, shapes: list[tuple[int, ...] | None]) -> list[np.ndarray]:
        """Run once; the global results on the host (reassembled from every device's shard)."""
        import jax

        results = self.exe.execute_sharded(self.args)
        per = results.disassemble_into_single_device_arrays()
        out = []
        for i, shards in enumerate(per):
            sh = self._sharding(self.out_shardings, i)
            shape = shapes[i] if i < len(shapes) else None
            if sh is None or shape is None:
                out.append(np.asarray(shards[0]))
                continue
            arr = jax.make_array_from_single_device_arrays(tuple(shape), sh, list(shards))
            out.append(np.asarray(arr))
        self.donated = any(a.is_deleted() for a in self.args)
        if self.donated:
            self.refresh()
        return out

    def step(self) -> None:
        """One step on all devices; returns when every device's every result is ready."""
        results = self.exe.execute_sharded(self.args)
        for shards in results.disassemble_into_single_device_arrays():
            for s in shards:
                s.block_until_ready()

    @property
    def before(self) -> Callable[[], None] | None:
        return self.refresh if self.donated else None


def _time_frontend(
    folder: Path, fe: str, info: dict[str, Any], options: Any, peaks: Any, n: int, spec: dict
) -> dict[str, Any]:
    """Steps 1-4 of the module docstring for one frontend; the frontend's results dict."""
    from xlalens import _runtime
    from xlalens.ir import collectives, parse_hlo_text
    from xlalens.ir._collectives import mesh_from_spec
    from xlalens.ir._kernels import HloIndex, index_hlo
    from xlalens.timing._measure import (
        _kernel_results,
        noise_warnings,
        roofline_entry,
        timed_blocks,
    )
    from xlalens.timing._profile import attribute
    from xlalens.timing._read import read_capture
    from xlalens.timing._records import TIMING_DIR, FrontendTiming
    from xlalens.timing._stats import calibrate, step_stats, warm_up
    from xlalens.timing._verify import verify_outputs
    from xlalens.timing._write import _atomic_write

    cap = read_capture(folder, info)
    if isinstance(cap, str):
        return FrontendTiming(status="failed", reason=cap).as_dict()
    text, inputs, outputs_doc, bound = cap.text, cap.inputs, cap.outputs_doc, cap.bound
    sig_out = (info.get("signature") or {}).get("outputs") or []
    shapes = [tuple(s["shape"]) if s.get("shape") is not None else None for s in sig_out]
    warnings: list[str] = []
    try:
        runner = _ShardedRunner(text, options.backend, n)
    except _runtime.CompileError as exc:
        return FrontendTiming(status="failed", reason=str(exc)).as_dict()
    compiled = runner.compiled
    opt_text = compiled.optimized_hlo()
    rel = f"{TIMING_DIR}/{options.backend}/{fe}.optimized_hlo.txt"
    _atomic_write(folder / rel, opt_text)
    from xlalens.timing._measure import step_cost

    cost = step_cost(compiled.cost_analysis(), opt_text)
    memory = compiled.memory_stats()
    base = dict(
        compile_seconds=compiled.compile_seconds, optimized_hlo=rel, cost=cost, memory=memory
    )
    try:
        runner.put(inputs)
        first = runner.first(shapes)
    except DumpError as exc:
        return FrontendTiming(status="failed", reason=str(exc), **base).as_dict()
    except Exception as exc:  # XLA runtime errors carry their own message
        return FrontendTiming(
            status="failed", reason=f"the executable failed to run: {exc}", **base
        ).as_dict()
    ver = verify_outputs(first, sig_out, outputs_doc, same_backend=True, bound=bound)
    if not ver.ok:
        return FrontendTiming(
            status="failed",
            reason=f"outputs differ from the capture's outputs, so no time is reported: {ver.message}",
            verify=ver,
            **base,
        ).as_dict()

    wt, estimate = warm_up(
        runner.step, options.warmup, min_time_s=options.warmup_time_s, before=runner.before
    )
    reps = options.repeat or calibrate(estimate, min_time_s=options.min_time_s)
    index: HloIndex | None = None
    try:
        index = index_hlo(opt_text)
    except ParseError as exc:
        warnings.append(f"per-kernel cost unknown: {exc}")
    idx = index or HloIndex(module=runner.exe.hlo_modules()[0].name, entry="", kernels={})
    runs = (
        int(min(PROFILE_RUNS_MAX, max(5, math.ceil(options.profile_time_s / max(estimate, 1e-9)))))
        if options.profile
        else 0
    )
    blocks = min(5, reps, runs) if runs else 1
    samples, events, walls = timed_blocks(
        runner,
        reps,
        blocks,
        profiled=runner,
        runs=runs,
        index=idx,
        device_planes=options.backend != "cpu",
    )
    stats = step_stats(samples, warmup=len(wt))
    warnings += noise_warnings(stats)
    t = stats.median_s
    roof = {
        **roofline_entry(cost, peaks, t),
        "per_device": "cost analysis and memory stats are of one device's partition",
    }

    graph = parse_hlo_text(opt_text)
    items = collectives(graph, mesh_from_spec(spec))
    coll_names = {graph.nodes[c.node]["name"]: c for c in items}
    pwall = float(np.median(walls)) if walls else None
    splits: list[DeviceSplit] = []
    per_dev_kernels: dict[int, dict[str, float]] = {}
    kernels0: list[Any] = []
    prof = None
    if runs:
        by_dev: dict[int, list[Any]] = {}
        for e in events:
            by_dev.setdefault(e.device if e.device is not None else -1, []).append(e)
        if -1 in by_dev:
            warnings.append(f"{len(by_dev[-1])} trace events name no device; left out")
        for d in range(n):
            att = attribute(by_dev.get(d, []), idx, runs)
            top = {k.name: k.median_s for k in att.kernels if k.nested_in is None}
            per_dev_kernels[d] = {k.name: k.median_s for k in att.kernels}
            coll = sum(s for name, s in top.items() if name in coll_names)
            total = sum(top.values())
            splits.append(
                DeviceSplit(d, total, coll, total - coll, att.busy_median_s, len(att.kernels))
            )
            if d == 0:
                kernels0 = _kernel_results(att, index, pwall or t, peaks)
        missing = [d for d in range(n) if not per_dev_kernels.get(d)]
        if missing:
            warnings.append(
                f"the profiler recorded no kernel events on device(s) {missing}; their split is empty"
            )
        ksum = splits[0].kernel_sum_s if splits else 0.0
        prof = {
            "runs": runs,
            "events": len(events),
            "unknown_ops": sorted({e.hlo_op for e in events if e.hlo_op not in idx.instructions}),
            "kernel_sum_s": ksum,
            "kernel_sum_ratio": ksum / t if t > 0 else None,
            "profiled_step_median_s": pwall,
            "kernel_sum_ratio_profiled": ksum / pwall if pwall else None,
            "busy_median_s": splits[0].busy_s if splits else None,
            "idle_gap_s": pwall - splits[0].busy_s
            if pwall and splits and splits[0].busy_s
            else None,
            "note": "kernels: device 0; every device in sharded.devices",
        }
    coll_times = [
        CollectiveTime(
            name=name,
            kind=c.kind,
            axes=c.axes,
            group_size=c.group_size,
            operand_bytes=c.operand_bytes,
            bytes_per_device=c.bytes_per_device,
            seconds_per_device=tuple(per_dev_kernels.get(d, {}).get(name) for d in range(n)),
        )
        for name, c in coll_names.items()
    ]
    doc = FrontendTiming(
        status="ok",
        verify=ver,
        step=stats,
        dispatch=f"execute_sharded on {n} devices",
        roofline=roof,
        kernels=tuple(kernels0),
        profile=prof,
        warnings=tuple(warnings),
        **base,
    ).as_dict()
    doc["sharded"] = {
        "devices": [s.as_dict() for s in splits],
        "collectives": [c.as_dict() for c in coll_times],
        "peak_memory_bytes": _peak_bytes(memory),
        "collective_bytes_per_device": sum(c.bytes_per_device for c in items),
        "note": SHARED_MEMORY_NOTE if options.backend == "cpu" else None,
    }
    return doc


def _worker(folder: Path, request: dict[str, Any]) -> None:
    """The worker process: time every frontend on N devices and write the results document."""

    from xlalens.dumpdir import read_manifest
    from xlalens.timing._peaks import measure_peaks
    from xlalens.timing._read import selected_frontends, skipped_capture
    from xlalens.timing._records import TimingOptions
    from xlalens.timing._write import results_document, write_results

    options = TimingOptions(
        **{**request, "sizes": (), "frontends": tuple(request["frontends"] or ()) or None}
    )
    manifest = read_manifest(folder)
    spec = manifest["sharding"]
    n = int(spec["devices"])
    fronts = selected_frontends(folder, manifest, options)
    from xlalens import _runtime

    _runtime.get_backend(options.backend)  # fail early, listing the present backends
    print(f"xlalens: measuring {options.backend} peaks (one device)...", file=sys.stderr)
    peaks = measure_peaks(options.backend, scale=options.peak_scale)
    results: dict[str, Any] = {}
    for fe, info in fronts.items():
        if info.get("status") != "ok":
            results[fe] = skipped_capture(info)
            continue
        print(f"xlalens: {fe}: compiling for {n} devices, verifying, timing...", file=sys.stderr)
        results[fe] = _time_frontend(folder, fe, info, options, peaks, n, spec)
        results[fe]["native_step_seconds"] = info.get("native_step_seconds")
        if options.native:
            results[fe]["warnings"] = [
                *results[fe].get("warnings", []),
                "native step not timed: the native rounds are built for 1-device dumps",
            ]
    doc = results_document(options, manifest, peaks, results, sharding=spec)
    write_results(folder, doc)


def main(argv: list[str] | None = None) -> int:
    """``python -m xlalens.timing._sharded DIR REQUEST_JSON`` (the worker; see NOTE [the worker process])."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        _worker(Path(argv[0]), json.loads(argv[1]))
    except UsageError as exc:
        print(f"xlalens: error: {exc}", file=sys.stderr)
        return 2
    except XlalensError as exc:
        print(f"xlalens: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
