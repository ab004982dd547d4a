"""``xlalens stats TARGET [--level raw|canonical] [--json]``."""

from __future__ import annotations

import argparse
import json

from xlalens.ir._schema import DEFAULT_LEVEL, LEVELS


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``stats`` subcommand to the ``xlalens`` parser."""
    p = subparsers.add_parser(
        "stats",
        help="op histogram, node/edge/computation counts and (optimized HLO) kernel count",
        description=(
            "Load TARGET (an HLO/StableHLO file, a saved graph, or a dump entry "
            "DIR:frontend[:artifact]) and print its op histogram, node, edge and "
            "computation counts, and for optimized HLO the number of kernels."
        ),
    )
    p.add_argument(
        "target", metavar="TARGET", help="IR file, saved graph, or DIR:frontend[:artifact]"
    )
    p.add_argument(
        "--level",
        choices=LEVELS,
        default=DEFAULT_LEVEL,
        help=f"normalization level (default: {DEFAULT_LEVEL}, as in diff and render --diff)",
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the stats of ``args.target``; exit status 0."""
    from xlalens.ir._load import load
    from xlalens.ir._stats import format_stats, stats

    graph = load(args.target, level=args.level)
    s = stats(graph, _dump_mesh(args.target))
    if args.json:
        print(json.dumps({"target": args.target, **s.to_dict()}, indent=2))
    else:
        print(format_stats(s, title=args.target))
    return 0


def _dump_mesh(target: str):
    """The mesh of a sharded dump entry ``DIR:frontend`` (its manifest's ``sharding``)."""
    from pathlib import Path

    from xlalens.ir._collectives import mesh_from_spec

    folder = Path(target.split(":", 1)[0]) if ":" in target else None
    manifest = folder / "manifest.json" if folder is not None else None
    if manifest is None or not manifest.is_file():
        return None
    spec = json.loads(manifest.read_text()).get("sharding")
    return mesh_from_spec(spec) if spec else None
