"""``xlalens export`` and ``xlalens explore``: graphs and overlays for Model Explorer.

This module is on the top floor (beside ``cli.py``), not in the export stage:
``--diff OTHER`` needs the diff stage, and stages do not import each other. It
computes ``xlalens.diff`` here and hands the export stage plain data (node id ->
status). See docs/export.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from xlalens._errors import UsageError
from xlalens.dumpdir._children import serve
from xlalens.ir._schema import LEVELS


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "target",
        metavar="TARGET",
        help="IR file (HLO at any stage, StableHLO, pass snapshot), saved graph, "
        "DIR:frontend[:artifact] or DIR:frontend[:artifact]@target",
    )
    p.add_argument(
        "--level",
        choices=LEVELS,
        default=None,
        help="normalization level (default: raw; with --diff, the level of `xlalens diff`)",
    )
    p.add_argument(
        "--diff",
        metavar="OTHER",
        help="also export OTHER and colour both by diff status (unchanged/changed/only-A/only-B)",
    )
    p.add_argument(
        "--no-overlays",
        action="store_true",
        help="leave out the timing overlays found in the dump (kernel time, share, roofline)",
    )


def register_export(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``export`` subcommand."""
    p = subparsers.add_parser(
        "export",
        help="write a graph as Model Explorer graph JSON, with node-data overlays",
        description=(
            "Export TARGET as Model Explorer's graph JSON: computations are graphs (a fusion "
            "opens its body), name scopes are layers, nodes carry opcode, shape, dtype, role, "
            "source line, FLOPs, bytes and kernel. Timing results in the dump become node-data "
            "overlays; --diff OTHER adds a diff-status overlay on both sides."
        ),
    )
    _common(p)
    p.add_argument(
        "--format", choices=("model-explorer",), default="model-explorer", help="output format"
    )
    p.add_argument(
        "-o",
        "--out",
        metavar="OUT.json",
        help="graph JSON to write (default: TARGET's name + .me.json in the current folder)",
    )
    p.set_defaults(func=run_export)


def register_explore(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``explore`` subcommand."""
    p = subparsers.add_parser(
        "explore",
        help="open a graph (and its overlays) in Model Explorer, served locally",
        description=(
            "Export TARGET (and OTHER with --diff) to a temporary folder and start Model "
            "Explorer (the ai-edge-model-explorer package) on it, offline; prints the URL. "
            "Ctrl-C stops it."
        ),
    )
    _common(p)
    p.add_argument("--port", type=int, default=8080, help="port (8080: the first free from 8080)")
    p.add_argument("--host", default="localhost", help="interface to serve on")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser tab")
    p.add_argument(
        "--keep",
        metavar="DIR",
        help="write the exported files to DIR and keep them (default: a temporary folder)",
    )
    p.set_defaults(func=run_explore)


def _exports(args: argparse.Namespace, out_a: Path, out_b: Path | None) -> list[Any]:
    """Export TARGET (and OTHER); returns the ExportResults, A first."""
    from xlalens.export import export

    overlays = not args.no_overlays
    if not args.diff:
        return [
            export(
                args.target,
                out=out_a,
                level=args.level or "raw",
                overlays=overlays,
                label=_label(out_a),
            )
        ]
    from xlalens.diff import diff

    kw = {"level": args.level} if args.level else {}
    d = diff(args.target, args.diff, **kw)
    st_a = {p.a: p.status for p in d.pairs} | {n: "only-A" for n in d.only_a}
    st_b = {p.b: p.status for p in d.pairs} | {n: "only-B" for n in d.only_b}
    assert out_b is not None
    return [
        export(d.a, out=out_a, overlays=overlays, node_status=st_a, label=_label(out_a)),
        export(d.b, out=out_b, overlays=overlays, node_status=st_b, label=_label(out_b)),
    ]


def _label(out: Path) -> str:
    """The collection label: the file's stem. Model Explorer applies a node-data file to the
    collection whose label its target names, so A and B need labels of their own."""
    name = out.name
    for suffix in (".me.json", ".json"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _other_out(out: Path, other: str) -> Path:
    from xlalens.export import default_out

    b = default_out(other)
    if b.name == out.name:
        b = Path(b.name.replace(".me.json", ".B.me.json"))
    return out.with_name(b.name)


def _say(results: list[Any]) -> None:
    for r in results:
        print(f"{r.path} ({r.graphs} graphs, {r.nodes} nodes, {r.seconds:.2f} s)")
        for path, name in zip(r.overlays, r.overlay_names, strict=True):
            print(f"  overlay {name}: {path}")
        for note in r.notes:
            print(f"  note: {note}")


def run_export(args: argparse.Namespace) -> int:
    """Run ``xlalens export``; returns the exit status."""
    from xlalens.export import default_out

    out = Path(args.out) if args.out else default_out(args.target)
    if out.suffix != ".json":
        raise UsageError(f"-o {out}: Model Explorer reads graph JSON; name it OUT.json")
    out_b = _other_out(out, args.diff) if args.diff else None
    _say(_exports(args, out, out_b))
    return 0


def _has_model_explorer() -> bool:
    import importlib.util

    return importlib.util.find_spec("model_explorer") is not None


def run_explore(args: argparse.Namespace) -> int:
    """Run ``xlalens explore``: export, then serve Model Explorer until Ctrl-C."""
    import tempfile

    from xlalens.export import default_out
    from xlalens.export._server import INSTALL_HINT

    if not _has_model_explorer():
        raise UsageError(f"`xlalens explore` needs Model Explorer; {INSTALL_HINT}")
    if args.keep:
        folder = Path(args.keep)
        folder.mkdir(parents=True, exist_ok=True)
        tmp = None
    else:
        tmp = tempfile.TemporaryDirectory(prefix="xlalens-explore-")
        folder = Path(tmp.name)
    try:
        out = folder / default_out(args.target).name
        out_b = folder / _other_out(out, args.diff).name if args.diff else None
        results = _exports(args, out, out_b)
        _say(results)
        cmd = [sys.executable, "-m", "xlalens.export._server", "--host", args.host]
        cmd += ["--port", str(args.port)]
        if args.no_browser:
            cmd.append("--no-browser")
        for r in results:
            cmd += ["--graph", str(r.path)]
            cmd += [a for ov in r.overlays for a in ("--node-data", f"{ov}={r.label}")]
        # The server prints the URL; our stdout is its stdout. Ctrl-C reaches both
        # processes (same process group); wait for it to stop before cleaning up.
        return serve(cmd, "xlalens explore")
    finally:
        if tmp is not None:
            tmp.cleanup()


register = register_export
"""``cli.py`` registers a command through its module's ``register``: this one is ``export``."""
