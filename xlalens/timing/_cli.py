"""``xlalens time DIR``: compile, verify and time every capture of a dump on a backend."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from xlalens._errors import UsageError
from xlalens._paths import display_path


def register(subparsers: Any) -> None:
    """Add the ``time`` subcommand to the ``xlalens`` CLI."""
    p = subparsers.add_parser(
        "time",
        help="compile each capture with PJRT, time it, attribute time to kernels, compare with the roofline",
        description=(
            "Compile every captured frontend's StableHLO with jaxlib's PJRT client for BACKEND, check it "
            "reproduces the capture's outputs, time it (auto-calibrated repeats, block_until_ready), "
            "attribute the time to the compiled kernels with the JAX profiler and place kernels and step "
            "on the roofline of peaks measured in the same run. Writes DIR/timing/<backend>.json."
        ),
    )
    p.add_argument("dump", metavar="DIR", help="dump folder written by `xlalens dump`")
    p.add_argument("--backend", default="cpu", help="PJRT backend: cpu, gpu or tpu (default cpu)")
    p.add_argument(
        "--repeat",
        type=int,
        default=None,
        metavar="N",
        help="timed repeats (default: calibrate to ~1 s)",
    )
    p.add_argument(
        "--warmup", type=int, default=None, metavar="N", help="untimed runs first (default: ~0.2 s)"
    )
    p.add_argument(
        "--min-time",
        type=float,
        default=1.0,
        metavar="S",
        help="seconds of timing per frontend to calibrate for",
    )
    p.add_argument(
        "--frontend",
        action="append",
        default=None,
        metavar="LIST",
        help="time only these frontends: a comma list (default: every ok capture)",
    )
    p.add_argument(
        "--fresh",
        action="store_true",
        help="replace this backend's earlier results instead of merging by (size, frontend)",
    )
    p.add_argument("--no-profile", action="store_true", help="skip the per-kernel profiler pass")
    p.add_argument(
        "--no-native",
        action="store_true",
        help="skip timing the framework's native step (it runs the frontend's subprocess again)",
    )
    p.add_argument(
        "--baselines",
        action="store_true",
        help="also time each framework without XLA in the same rounds: torch eager and "
        "torch.compile/inductor (CPU), TF eager and tf.function without XLA, jax op by op",
    )
    p.add_argument(
        "--size",
        default=None,
        metavar="N,N,...",
        help="size sweep, e.g. 4,4096,65536,1048576,16777216 (2^k allowed); see docs/timing.md",
    )
    p.add_argument(
        "--capture-missing",
        action="store_true",
        help="for --size: capture DIR/sweep/<N> with the installed frameworks where it is missing",
    )
    p.add_argument(
        "--link-bandwidth",
        default=None,
        metavar="GB/S",
        help="sharded dumps: link bandwidth per direction for the communication model "
        "(default: the --link's, 450 for H100 NVLink; an assumption, docs/spmd.md)",
    )
    p.add_argument(
        "--link",
        default="nvlink-h100",
        metavar="NAME",
        help="sharded dumps: assumed interconnect of the model: nvlink-h100 or ici-v5e",
    )
    p.add_argument(
        "--scaling",
        default=None,
        metavar="DIR,DIR",
        help="sharded dumps: the same step's sharded dumps at other device counts, already "
        "timed; findings.md judges step time vs devices on them (docs/timing.md)",
    )
    p.add_argument(
        "--top", type=int, default=3, metavar="K", help="kernels to list per frontend (default 3)"
    )
    p.add_argument(
        "--open",
        action="store_true",
        help="do not time: serve the traces the last run kept (DIR/timing/traces) with XProf "
        "until Ctrl-C, and print where Perfetto reads them",
    )
    p.add_argument(
        "--port", type=int, default=8791, metavar="P", help="--open: XProf's port (default 8791)"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Execute ``xlalens time``; returns 0 when every ok capture was timed, 1 when one failed."""
    from xlalens.timing._records import TimingOptions
    from xlalens.timing._sweep import parse_sizes
    from xlalens.timing._time import time_dump
    from xlalens.timing._write import results_path

    if args.open:
        from xlalens.timing._open import open_traces

        return open_traces(args.dump, args.port)
    if args.repeat is not None and args.repeat < 1:
        raise UsageError(f"--repeat {args.repeat}: need at least 1")
    if args.warmup is not None and args.warmup < 0:
        raise UsageError(f"--warmup {args.warmup}: need 0 or more")
    if not 0 < args.min_time < float("inf"):
        raise UsageError(f"--min-time {args.min_time}: need a positive number of seconds")
    if args.top < 0:
        raise UsageError(f"--top {args.top}: need 0 or more kernels to list, e.g. 3")
    if args.baselines and args.no_native:
        raise UsageError("--baselines are timed in the native rounds; drop --no-native")
    opts = TimingOptions(
        backend=args.backend,
        repeat=args.repeat,
        warmup=args.warmup,
        min_time_s=args.min_time,
        profile=not args.no_profile,
        frontends=_names(args.frontend),
        fresh=args.fresh,
        native=not args.no_native,
        baselines=args.baselines,
        sizes=tuple(parse_sizes(args.size)) if args.size else (),
        capture_missing=args.capture_missing,
    )
    if args.capture_missing and not args.size:
        raise UsageError("--capture-missing goes with --size N,N,...")
    from xlalens.ir._linkmodel import link

    lk = link(args.link, args.link_bandwidth)  # a bad value stops here, before any work
    log = lambda m: print(m, file=sys.stderr)  # noqa: E731
    from xlalens.dumpdir import check_writable, locked, read_manifest

    read_manifest(args.dump)  # a readable dump (one line naming the real file), before the lock
    check_writable(args.dump)
    with locked(args.dump, "xlalens time"):
        if _sharded_dump(args.dump):
            from xlalens.timing._sharded import sharded_summary, time_sharded_dump

            scaling = [d.strip() for d in (args.scaling or "").split(",") if d.strip()]
            doc = time_sharded_dump(args.dump, opts, link=lk, log=log, scaling=scaling or None)
            print(format_summary(doc, top=args.top) + sharded_summary(doc, top=args.top))
        else:
            if args.scaling:
                raise UsageError(
                    f"--scaling: {args.dump} is not a sharded dump; give it to `xlalens time` on "
                    "a dump made with `xlalens dump --devices N`"
                )
            doc = time_dump(args.dump, opts, log=log)
            print(format_summary(doc, top=args.top))
    if doc.get("kept_earlier"):
        print(
            f"xlalens time: no frontend was timed; the earlier results in "
            f"{results_path(args.dump, opts.backend)} were kept unchanged",
            file=sys.stderr,
        )
        return 1
    print(f"\nwrote {results_path(args.dump, opts.backend)}")
    failed = [fe for fe, r in doc["frontends"].items() if r["status"] == "failed"]
    return 1 if failed else 0


def _sharded_dump(folder: str) -> bool:
    """True when DIR's manifest says ``--devices N`` (unreadable dumps fail later, in time_dump)."""
    from xlalens._errors import DumpError
    from xlalens.dumpdir import read_manifest
    from xlalens.timing._sharded import is_sharded

    try:
        return is_sharded(read_manifest(folder))
    except DumpError:
        return False


def _names(values: list[str] | None) -> tuple[str, ...] | None:
    """``--frontend a,b --frontend c`` -> ``("a", "b", "c")``; None when not given."""
    if not values:
        return None
    names = tuple(dict.fromkeys(n.strip() for v in values for n in v.split(",") if n.strip()))
    if not names:
        raise UsageError("--frontend is empty; name frontends of the dump, e.g. jax,torch_xla")
    return names


def _ms(v: float | None) -> str:
    return "—" if v is None else f"{v * 1e3:.4g} ms"


def _rate(v: float | None, unit: str) -> str:
    return "—" if not v else f"{v / 1e9:.3g} G{unit}"


def format_summary(doc: dict[str, Any], *, top: int = 3) -> str:
    """The human summary ``xlalens time`` prints: peaks, one block per frontend, the sweep table.

    Args:
        doc: a results document (``time_dump``'s return value or ``load_results(...)[backend]``).
        top: kernels to list per frontend.

    Returns:
        Plain text.

    Example:
        >>> print(format_summary(load_results("xlalens-dump")["cpu"]))  # doctest: +SKIP
    """
    pk = doc["peaks"]
    dev = doc["device"]
    lines = [
        f"backend {doc['backend']} ({dev.get('device_kind') or dev.get('platform')}); peaks measured now: "
        f"{_rate(pk['bytes_per_s'], 'B/s')} copy in place ({_rate(pk['fresh_bytes_per_s'], 'B/s')} into a fresh buffer), "
        f"{_rate(pk['flops_per_s'], 'FLOP/s')} matmul"
    ]
    for fe, r in doc["frontends"].items():
        if r["status"] != "ok":
            lines.append(f"\n{fe}: {r['status'].upper()}: {r['reason']}")
            continue
        st, roof = r["step"], r.get("roofline") or {}
        native = r.get("native_step_seconds") or {}
        lines.append(
            f"\n{fe}: step median {_ms(st['median_s'])} (min {_ms(st['min_s'])}, p90 {_ms(st['p90_s'])}, "
            f"IQR {_ms(st['iqr_s'])}, CV {st['cv']:.1%}, robust CV {st['cv_robust']:.1%}, n={st['n']}); compile {r['compile_seconds']:.3g} s"
        )
        nat = r.get("native")
        if nat:
            lo, hi = nat["difference_range_s"]
            verdict = (
                "significant"
                if nat["significant"]
                else "not significant: the rounds disagree in sign"
            )
            lines.append(
                f"  native step (the framework's own call, alone, {nat['rounds']} rounds alternating "
                f"with the replay) median {_ms(nat['step']['median_s'])}, CV {nat['step']['cv']:.1%}; "
                f"native - compiled = {nat['difference_s'] * 1e3:+.4g} ms (rounds {lo * 1e3:+.3g}..{hi * 1e3:+.3g} ms, "
                f"{verdict}): dispatch and framework work around the same XLA computation"
            )
            for name, b in (r.get("baselines") or {}).items():
                if "failed" in b:
                    lines.append(f"  baseline {name}: not timed ({b['failed']})")
                    continue
                blo, bhi = b["difference_range_s"]
                vs_native = b["step"]["median_s"] / nat["step"]["median_s"]
                lines.append(
                    f"  baseline {name} (no XLA, same rounds): median {_ms(b['step']['median_s'])}, "
                    f"{vs_native:.3g}x the framework's XLA step, {b['ratio']:.3g}x the compiled step "
                    f"(baseline - compiled: rounds {blo * 1e3:+.3g}..{bhi * 1e3:+.3g} ms, "
                    f"{'significant' if b['significant'] else 'not significant'})"
                )
        elif native.get("median") is not None:
            # Sharded dumps have no native rounds, so re-running cannot help there.
            hint = (
                "native rounds are built for 1-device dumps"
                if doc.get("sharding")
                else "re-run `xlalens time` without --no-native to measure it alone"
            )
            lines.append(
                f"  native step at capture median {_ms(native['median'])} (taken while other frontends "
                f"ran in parallel: not comparable with the compiled step; {hint})"
            )
        loops = (r.get("cost") or {}).get("loops") or []
        if loops:
            counts = ", ".join(
                f"{lp['node']} x{lp['trip_count']}"
                if lp["trip_count"] is not None
                else f"{lp['node']} (trip count unknown: body counted once)"
                for lp in loops
            )
            lines.append(
                f"  loops: {counts}; FLOPs and bytes count every iteration "
                f"(XLA's cost analysis, once per body: {r['cost'].get('xla_flops') or 0:.4g} FLOP)"
            )
        if roof:
            frac = roof.get("fraction_of_roofline")
            lines.append(
                f"  achieved {_rate(roof.get('achieved_bytes_per_s'), 'B/s')}, {_rate(roof.get('achieved_flops_per_s'), 'FLOP/s')}; "
                f"roofline bound {_ms(roof.get('bound_s'))} ({roof.get('bound_by')}), "
                f"{'—' if frac is None else f'{frac:.1%}'} of roofline"
            )
        prof = r.get("profile")
        if prof and prof.get("kernel_sum_ratio") is not None:
            lines.append(
                f"  kernels: {len(r['kernels'])} from {prof['events']} events over {prof['runs']} runs; "
                f"sum {_ms(prof['kernel_sum_s'])} = {prof['kernel_sum_ratio']:.2f}x the step"
                + (
                    f" ({prof['kernel_sum_ratio_profiled']:.2f}x the profiled runs' "
                    f"{_ms(prof['profiled_step_median_s'])}; idle between kernels {_ms(prof['idle_gap_s'])})"
                    if prof.get("kernel_sum_ratio_profiled") and prof.get("idle_gap_s") is not None
                    else ""
                )
            )
        for k in r["kernels"][:top]:
            where = (
                f"{display_path(k['source_file'])}:{k['source_line']}"
                if k.get("source_file")
                else (k.get("op_name") or "")
            )
            frac = k.get("fraction_of_roofline")
            if k.get("loop"):
                where = f"{where} (x{k['calls_per_step']:.3g} in {k['loop']})".lstrip()
            lines.append(
                f"    {k['name']:<28} {_ms(k['median_s']):>11} {k['share']:6.1%}  "
                f"{_rate(k.get('achieved_bytes_per_s'), 'B/s'):>10}  "
                f"{'—' if frac is None else f'{frac:.0%}':>5} of bound  {where}"
            )
        lines += [f"  warning: {w}" for w in r.get("warnings", [])]
    sweep = doc.get("sweep")
    if sweep:
        lines += ["", "size sweep (median step time):", sweep["table"], f"plot: {sweep['svg']}"]
    return "\n".join(lines)
