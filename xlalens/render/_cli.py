"""``xlalens render INPUT [-o OUT.svg] [--level raw|canonical] [--collapse ...] [--diff OTHER]``."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

from xlalens._errors import UsageError
from xlalens.dumpdir import atomic_write
from xlalens.render._render import DEFAULT_BUDGET, write_svgs
from xlalens.render._view import MODES

#: Above this many nodes, ``render FILE`` leaves kernels' bodies to be drawn on demand.
LAZY_NODES = 2000
#: Above this many nodes, ``render FILE`` writes the overview only; every drill-down
#: is drawn on demand (NOTE: [lazy views of a file]).
OVERVIEW_ONLY_NODES = 50_000


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``render`` subcommand."""
    p = subparsers.add_parser(
        "render",
        help="draw a graph or a diff as SVG (graphviz), with drill-downs for large graphs",
        description=(
            "Render INPUT (an IR file, a saved graph JSON, or a dump entry DIR:frontend[:artifact]) "
            "as SVG. Large graphs are collapsed by kernel and name scope into an overview of at most "
            "--budget nodes plus drill-down SVGs written beside it. With a dump folder as INPUT, "
            "(re)build its report.html."
        ),
    )
    p.add_argument(
        "input",
        metavar="INPUT",
        help="IR file, graph JSON, dump entry DIR:frontend[:artifact], or a dump DIR",
    )
    p.add_argument(
        "-o",
        "--out",
        "--output",
        dest="output",
        metavar="OUT.svg",
        help="overview SVG path (default: INPUT's name + .svg in the current folder)",
    )
    p.add_argument(
        "--level",
        choices=("raw", "canonical"),
        default=None,
        help="normalization level (default: raw for a graph; for --diff, the default of `xlalens diff`)",
    )
    p.add_argument(
        "--all-views",
        action="store_true",
        help=(
            "with a dump DIR: also draw the views the dump leaves out (kernels' bodies, deep "
            "views of the non-kernel graphs); with a file: draw every drill-down now (above "
            f"{LAZY_NODES:,} nodes, kernels' bodies are otherwise left to be drawn on demand)"
        ),
    )
    p.add_argument(
        "--view",
        metavar="NAME.svg",
        help=(
            "with a file: draw this one drill-down (the file name a not-yet-drawn link "
            "names) into OUT.views/; the overview and the other views are left as they are"
        ),
    )
    p.add_argument(
        "--collapse",
        choices=MODES,
        default="auto",
        help="how to keep each SVG within the budget (default auto)",
    )
    p.add_argument(
        "--budget",
        type=int,
        default=DEFAULT_BUDGET,
        help=f"most nodes per SVG (default {DEFAULT_BUDGET})",
    )
    p.add_argument(
        "--diff", metavar="OTHER", help="render the diff of INPUT (left) against OTHER (right)"
    )
    p.set_defaults(func=run)


def _default_out(spec: str, diff: str | None) -> Path:
    def name(s: str) -> str:
        parts = s.split(":")
        if len(parts) in (2, 3) and Path(parts[0]).is_dir():
            return "_".join([Path(parts[0]).name, *parts[1:]])
        return Path(s).name.split(".")[0] if Path(s).name else "graph"

    stem = name(spec) + (f"__vs__{name(diff)}" if diff else "")
    return Path(f"{stem}.svg")


def run(args: argparse.Namespace) -> int:
    """Run ``xlalens render``; returns the exit status."""
    from xlalens.dumpdir import check_output_file, is_dump
    from xlalens.render._dot import find_dot
    from xlalens.render._load import load_graph

    find_dot()  # no graphviz: one line saying how to install it, exit 2
    if args.output:  # before any work: the folder must exist (nothing is created)
        check_output_file(args.output)
    if is_dump(args.input) and not args.diff:
        # The report (xlalens.report, one floor up) draws the dump's views and
        # writes report.html: the CLI refreshes it after this command.
        return 0
    if args.view and (args.diff or is_dump(args.input)):
        raise UsageError(
            "--view draws one drill-down of a file's rendering; a diff has one view and a "
            "dump's views are drawn with `xlalens render DIR --all-views`"
        )
    if args.budget < 10:
        raise UsageError(f"--budget {args.budget}: give at least 10 (default {DEFAULT_BUDGET})")
    if args.diff:
        try:
            from xlalens.diff import diff
        except ImportError as exc:
            raise UsageError(f"--diff needs xlalens.diff ({exc})") from exc
        # One default level: the diff is exactly what `xlalens diff A B` computes;
        # render passes a level only when the user gave one.
        kw = {"level": args.level} if args.level else {}
        target = diff(args.input, args.diff, **kw)
    else:
        target = load_graph(args.input, level=args.level or "raw")
    out = Path(args.output) if args.output else _default_out(args.input, args.diff)
    if out.suffix != ".svg":
        raise UsageError(f"-o {out}: the output is an SVG file; name it OUT.svg")
    # NOTE: [lazy views of a file] As a dump does (docs/render.md, Lazy views), a big
    # graph's kernels' bodies (most of its views: 1,309 for a ResNet50 step) are left
    # to be drawn on demand: the overview and every scope view are written at once
    # (each kernel is drawn in one of them), the bodies' links say how to draw them
    # (this command with --all-views). Drill-downs go in a folder of their own,
    # OUT.views/, so they do not crowd the folder of OUT.svg.
    n_nodes = getattr(target, "number_of_nodes", lambda: 0)()
    lazy = not args.all_views and n_nodes > LAZY_NODES
    # At LLM size (10^5 nodes and more) the scope views alone are hundreds of
    # layouts: only the overview is drawn at once.
    only_overview = not args.all_views and n_nodes > OVERVIEW_ONLY_NODES
    views = out.with_name(out.stem + ".views")
    command = f"xlalens render {shlex.quote(args.input)} -o {shlex.quote(str(out))} --all-views"
    if only_overview or args.view:
        # One view per click (NOTE: [one view on demand] in _render): the viewer
        # puts the clicked link's file name in place of {view}.
        command = (
            f"xlalens render {shlex.quote(args.input)} -o {shlex.quote(str(out))} --view {{view}}"
        )
    if args.view:
        return _one_view(target, out, views, args, lazy, command)
    try:
        r = write_svgs(
            target,
            out,
            collapse=args.collapse,
            budget=args.budget,
            lazy_bodies=lazy,
            max_depth=0 if only_overview else None,
            views_dir=views,
            later_command=command,
        )
    except OSError as exc:  # /proc/x.svg, a full disk: one line, not a traceback
        raise UsageError(
            f"-o {out}: cannot write ({exc.strerror or exc}); choose a writable path"
        ) from None
    extra = len(r.svgs) - 1
    msg = f"{out}" + (f" (+{extra} drill-down SVGs in {views}/)" if extra else "")
    if r.deferred:
        what = "drill-downs" if only_overview else "kernel bodies"
        msg += (
            f"; {len(r.deferred)} {what} drawn on demand: {command.replace('{view}', 'NAME.svg')}"
        )
    print(msg, file=sys.stdout)
    return 0


def _one_view(
    target, out: Path, views: Path, args: argparse.Namespace, lazy: bool, command: str
) -> int:
    """``--view NAME``: lay out one drill-down and write it into ``views``."""
    from xlalens.render._render import _interactive, _relink, render_views

    name = Path(args.view).name
    r = render_views(
        target,
        collapse=args.collapse,
        budget=args.budget,
        stem=out.stem,
        lazy_bodies=lazy,
        only=name,
    )
    if name not in r.svgs:
        raise UsageError(
            f"--view {args.view}: {args.input} has no drill-down of that name (with -o {out}); "
            "give the file name that a not-yet-drawn link of the overview names"
        )
    views.mkdir(parents=True, exist_ok=True)
    back = os.path.relpath(out.parent, views).replace(os.sep, "/")
    # Links up to the overview leave the views folder; links to views stay in it.
    svg = _relink(r.svgs[name], lambda f: f"{back}/{f}" if f == out.name else f)
    try:
        atomic_write(views / name, _interactive(svg, command), durable=False)
    except OSError as exc:
        raise UsageError(
            f"-o {out}: cannot write {views / name} ({exc.strerror or exc}); choose a writable path"
        ) from None
    later = command.replace("{view}", "NAME.svg")
    print(f"{views / name} (drawn on demand; its drill-downs: {later})", file=sys.stdout)
    return 0
