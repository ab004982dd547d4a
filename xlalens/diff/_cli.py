"""``xlalens diff A B [--level raw|canonical] [--all-attrs] [--json|--markdown] [-o FILE]``."""

from __future__ import annotations

import argparse
import sys

import networkx as nx

from xlalens._errors import DumpError, UsageError
from xlalens.ir._schema import DEFAULT_LEVEL, LEVELS

EPILOG = """\
A and B: an IR file (StableHLO .mlir, HLO text), a saved graph (.json), or a dump
entry DIR:frontend[:artifact] (artifact: stablehlo, hlo, optimized_hlo; default
stablehlo). Graphs of different kinds may be compared; the header says so.
Two optimized HLO graphs also get a kernel map (same body / changed body / split /
merged / only in A / only in B), with time deltas when the dump was timed.
examples:
  xlalens diff xlalens-dump:jax xlalens-dump:torch_xla
  xlalens diff xlalens-dump:jax:hlo xlalens-dump:jax:optimized_hlo --level raw
  xlalens diff before.txt after.txt --json -o diff.json
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``diff`` subcommand to the ``xlalens`` parser."""
    p = subparsers.add_parser(
        "diff",
        help="structural diff of two graphs (frameworks, stages, flags)",
        description="Pair the nodes of two compiled graphs and report what changed.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "a", metavar="A", help="left side: IR file, saved graph, or DIR:frontend[:artifact]"
    )
    p.add_argument("b", metavar="B", help="right side, same choices")
    p.add_argument(
        "--level",
        choices=LEVELS,
        default=DEFAULT_LEVEL,
        help=f"normalization level of both sides (default: {DEFAULT_LEVEL})",
    )
    p.add_argument(
        "--all-attrs",
        action="store_true",
        help="also report attributes without semantic effect (default layouts on both "
        "sides, parameter_replication, metadata-only fields)",
    )
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print the JSON report (docs/diff.md)")
    fmt.add_argument("--markdown", action="store_true", help="print the Markdown report")
    p.add_argument(
        "-o",
        "--out",
        "--output",
        dest="output",
        metavar="FILE",
        help="write the report to FILE instead of stdout",
    )
    p.add_argument(
        "--limit",
        type=int,
        default=20,
        help="entries per op group in text/Markdown reports (0: all; default 20)",
    )
    p.set_defaults(func=run)


def _load(spec: str, level: str, which: str) -> nx.MultiDiGraph:
    """Load one side; a missing file or dump entry becomes one error line naming the side."""
    from xlalens.ir import load

    try:
        return load(spec, level=level)
    except UsageError as exc:
        raise UsageError(f"{which}: {exc}") from None
    except DumpError as exc:
        raise DumpError(f"{which}: {exc}") from None


def run(args: argparse.Namespace) -> int:
    """Run ``xlalens diff``; returns the exit status."""
    from xlalens.diff._diff import diff

    if args.limit < 0:
        raise UsageError(f"--limit must be 0 (all) or positive, got {args.limit}")
    if args.output:  # before any work: the same rule as every command's -o
        from xlalens.dumpdir import check_output_file

        check_output_file(args.output)
    g_a = _load(args.a, args.level, "A")
    g_b = _load(args.b, args.level, "B")
    from xlalens.diff._kernels import kernel_times

    timing = (kernel_times(args.a), kernel_times(args.b))
    d = diff(g_a, g_b, all_attrs=args.all_attrs, timing=timing)
    if args.json:
        text = d.to_json_text()
    elif args.markdown:
        text = d.to_markdown(limit=args.limit)
    else:
        text = d.to_text(limit=args.limit)
    if args.output:
        try:
            from xlalens.dumpdir import atomic_write

            atomic_write(args.output, text)
        except OSError as exc:
            raise UsageError(
                f"-o {args.output}: cannot write ({exc.strerror}); choose a writable path"
            ) from exc
    else:
        sys.stdout.write(text)
    return 0
