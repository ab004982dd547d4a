"""``xlalens compile DIR --target NAME[,NAME...]``: compile-only for GPUs and TPUs."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``compile`` subcommand to the ``xlalens`` CLI."""
    p = subparsers.add_parser(
        "compile",
        help="compile a dump's captures for GPUs/TPUs without the hardware (compile-only)",
        description=(
            "Compile every captured frontend of DIR for each target, without the hardware: "
            "cpu (this host), h100, h200, a100, b200 (XLA:GPU through the jax CUDA plugin) and "
            "tpu-v4, tpu-v5e, tpu-v5p, tpu-v6e (XLA:TPU through libtpu). A target takes a device "
            "count or mesh: h100x8, tpu-v5e:2x4. Writes DIR/targets/<target>.json and, per "
            "frontend, the optimized HLO, its graphs, XLA's codegen dump (PTX, LLVM IR, asm) and "
            "a diff against the capture. See docs/targets.md."
        ),
    )
    p.add_argument("dump", metavar="DIR", help="dump folder written by `xlalens dump`")
    p.add_argument(
        "--target",
        required=True,
        metavar="NAME[,NAME...]",
        help="targets, e.g. h100,tpu-v5e or h100x8,tpu-v5e:2x4",
    )
    p.add_argument(
        "--frontend",
        action="append",
        default=None,
        metavar="NAME",
        help="compile only this frontend (repeatable)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="S",
        help="seconds per target subprocess (default XLALENS_TARGET_TIMEOUT or 600)",
    )
    p.add_argument("--no-codegen", action="store_true", help="skip XLA's per-kernel codegen dump")
    p.add_argument("--no-diff", action="store_true", help="skip the diffs against the capture")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Compile, print the targets table; exit 1 when a target or frontend failed."""
    from xlalens.targets._compile import compile_for
    from xlalens.targets._spec import parse_targets

    parse_targets(args.target)  # a bad name is one line and exit 2 before any work
    result = compile_for(
        args.dump,
        args.target,
        frontends=args.frontend,
        timeout=args.timeout,
        codegen=not args.no_codegen,
        diffs=not args.no_diff,
    )
    print(result.table())
    for t in result.targets:
        if t.path is not None:
            print(f"{t.key}: {t.status} -> {t.path}")
        if t.status != "ok" and t.reason:
            print(f"{t.key}: {t.reason.strip().splitlines()[0]}")
    return 1 if result.failed else 0
