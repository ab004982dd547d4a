"""``xlalens passes DIR``: re-run the captures with XLA's dump flags and print each pass timeline."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from xlalens._errors import UsageError
from xlalens.frontends import FRONTENDS


def register(sub: Any) -> None:
    """Add the ``passes`` subcommand."""
    p = sub.add_parser(
        "passes",
        help="re-run the captures with XLA's dump flags: pass timeline, blame, memory",
        description="Re-run each frontend's capture of a dump with XLA_FLAGS=--xla_dump_to "
        "into DIR/<frontend>/passes/, then print what each XLA pass did to the step "
        "(ops and kernels after each pass, a one-line summary per pass), which pass made each "
        "kernel, and the peak memory with the buffers live at it.",
    )
    p.add_argument("dump", metavar="DIR", help="a dump folder written by `xlalens dump`")
    p.add_argument(
        "--frontend",
        metavar="LIST",
        help=f"comma-separated frontends (default: every captured one): {','.join(FRONTENDS)}",
    )
    p.add_argument("--backend", default="cpu", help="XLA backend (default cpu, the dump's)")
    p.add_argument(
        "--passes",
        metavar="REGEX",
        default=".*",
        help="--xla_dump_hlo_pass_re: passes that get a snapshot (default '.*')",
    )
    p.add_argument(
        "--all", action="store_true", help="also list passes that changed nothing (folded)"
    )
    p.add_argument("--blame", action="store_true", help="print per-kernel blame")
    p.add_argument(
        "--no-rerun",
        action="store_true",
        help="read the passes/ folders of an earlier run instead of re-running",
    )
    p.add_argument("--timeout", type=float, default=None, help="seconds per re-run (default 600)")
    p.add_argument("--jobs", type=int, default=None, help="re-runs at once (default: cores)")
    p.set_defaults(func=run)


def print_records(recs: dict[str, Any], *, all_steps: bool = False, blame: bool = False) -> int:
    """Print each frontend's timeline table, memory and failures; returns the exit status."""
    from xlalens.passes._memory import format_bytes
    from xlalens.passes._timeline import format_table

    status = 0
    for name, rec in recs.items():
        if rec.status != "ok":
            lines = (rec.reason or "").strip().splitlines()
            print(f"{name}: {rec.status}: {lines[0] if lines else ''}")
            if len(lines) > 1:
                print("    " + "\n    ".join(lines[-10:]))
            status = 1
            continue
        tl = rec.timeline
        match = {
            True: "equals the captured optimized HLO",
            False: "DIFFERS from the captured optimized HLO",
            None: "not compared (the dump's optimized HLO is not this framework's own compile)",
        }
        print(
            f"{name}: module {rec.module} (picked by {rec.picked_by} among "
            f"{len(rec.modules)} compiled); last snapshot {match[rec.matches_capture]}"
        )
        print(format_table(tl, all_steps=all_steps))
        if rec.memory:
            m = rec.memory
            print(
                f"memory: peak {format_bytes(m.peak_bytes)} (parameters "
                f"{format_bytes(m.parameter_bytes)}, outputs {format_bytes(m.output_bytes)}), "
                f"temp {format_bytes(m.temp_bytes)}; largest live at the peak: "
                + ", ".join(f"{b.value} {format_bytes(b.size)}" for b in m.live_at_peak[:3])
            )
        if blame:
            for k in tl.kernels:
                changed = f"; changed by {', '.join(k.changed_by)}" if k.changed_by else ""
                print(
                    f"  {k.kernel} ({k.op}, {k.fused_ops} ops): created by {k.created_by}{changed}"
                )
        print(f"files: {rec.folder}")
        print()
    return status


def run(args: argparse.Namespace) -> int:
    """Run ``xlalens passes``; exit 1 when a frontend's re-run failed or matched no pass."""

    names = None
    if args.frontend is not None:
        names = [n.strip() for n in args.frontend.split(",") if n.strip()]
        if not names:
            raise UsageError(f"--frontend is empty; choose from {', '.join(FRONTENDS)}")
    from xlalens.dumpdir import check_writable, locked, read_manifest

    read_manifest(args.dump)
    check_writable(args.dump)
    with locked(args.dump, "xlalens passes"):  # passes.html is written below
        return _run(args, names)


def _run(args: argparse.Namespace, names: list[str] | None) -> int:
    from xlalens.passes._run import load_passes, run_passes

    if args.no_rerun:
        recs = load_passes(args.dump)
        if names:
            recs = {n: r for n, r in recs.items() if n in names}
        if not recs:
            raise UsageError(
                f"{args.dump}: no passes/ records; run `xlalens passes {args.dump}` first"
            )
    else:

        def progress(rec: Any) -> None:
            print(f"  {rec.frontend}: {rec.status}", file=sys.stderr, flush=True)

        recs = run_passes(
            args.dump,
            frontends=names,
            backend=args.backend,
            passes=args.passes,
            timeout=args.timeout,
            jobs=args.jobs,
            progress=progress,
        )
    status = print_records(recs, all_steps=args.all, blame=args.blame)
    from xlalens.passes._report import write_page

    if not args.no_rerun and all(r.status == "failed" for r in recs.values()):
        return status  # nothing new was written: passes.html stays as it was
    page = write_page(args.dump)
    if page is not None:
        print(f"report: {page.resolve()}")
    return status
