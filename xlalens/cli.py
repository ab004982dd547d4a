"""``xlalens`` command line: ``dump | stats | diff | render | time | passes | compile | export | explore``.

Each subcommand lives with its stage, in ``xlalens/<stage>/_cli.py``, which
exposes ``register(subparsers)``: it adds its parser and sets ``func`` to a
callable ``func(args) -> int`` (the exit status). This module only dispatches,
and turns xlalens's own errors into one line on stderr and exit status 2.

NOTE: [one parser per command] only the invoked command's sub-parser is built
(the others appear in ``--help`` by name), so a command's options are defined in
one place, next to its stage. Every stage imports only jax/jaxlib, numpy and
networkx (tests/core/test_isolation.py), so ``xlalens time`` runs on a GPU box
that has only jax; rendering needs graphviz's ``dot`` only when it draws.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from xlalens._errors import XlalensError
from xlalens._logs import configure as configure_logs

# Subcommand -> (module that registers it, one-line help). Order of `--help`.
COMMANDS: dict[str, tuple[str, str]] = {
    "dump": ("xlalens.capture._cli", "capture the step in every framework into a dump folder"),
    "stats": ("xlalens.ir._cli", "op histogram, node/edge and kernel counts of one graph"),
    "diff": ("xlalens.diff._cli", "structural diff of two graphs (files or dump entries)"),
    "render": ("xlalens.render._cli", "render a graph or a diff as SVG"),
    "time": ("xlalens.timing._cli", "compile and time a dump's captures, per kernel"),
    "passes": ("xlalens.passes._cli", "pass-by-pass timeline of XLA's work, blame, memory"),
    "compile": ("xlalens.targets._cli", "compile a dump for GPUs/TPUs without the hardware"),
    "export": ("xlalens._export_cli", "write a graph as Model Explorer JSON with overlays"),
    "explore": ("xlalens._explore_cli", "open a graph and its overlays in Model Explorer"),
}

# Commands that change a dump, and the argument naming it: report.html is
# regenerated after each (xlalens.report; the stages never import the report).
REFRESH: dict[str, str] = {
    "dump": "out",
    "compile": "dump",
    "passes": "dump",
    "time": "dump",
    "render": "input",
}


def _refresh_report(args: argparse.Namespace) -> None:
    """Regenerate the dump's report.html; a failure is a warning (the command's work is written)."""
    folder = getattr(args, REFRESH[args.command], None)
    if folder is None or getattr(args, "diff", None):
        return
    from xlalens.report import refresh_report

    try:
        path = refresh_report(folder, all_views=bool(getattr(args, "all_views", False)))
    except Exception as exc:
        print(f"xlalens {args.command}: warning: report.html not refreshed: {exc}", file=sys.stderr)
        return
    if path is not None and args.command == "render":
        print(path)


class _DefaultsFormatter(argparse.HelpFormatter):
    """Appends ``(default: X)`` to an option's help unless it already names its default."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if (
            "default" in text
            or action.default in (None, False, argparse.SUPPRESS)
            or not action.option_strings
        ):
            return text
        return f"{text} (default: %(default)s)"


class _Parser(argparse.ArgumentParser):
    """Every sub-parser shows its defaults in ``--help``."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", _DefaultsFormatter)
        super().__init__(*args, **kwargs)


def _version() -> str:
    from xlalens._version import __version__

    return __version__


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The ``xlalens`` parser, with the full sub-parser of ``command`` only."""
    parser = _Parser(
        prog="xlalens",
        description="Capture, normalize, diff, render and time what each framework hands to XLA.",
    )
    parser.add_argument("--version", action="version", version=f"xlalens {_version()}")
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="show XLA/TSL/absl INFO and WARNING logs (silenced by default)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name, (module, help_text) in COMMANDS.items():
        if name == command:
            importlib.import_module(module).register(sub)
        else:
            sub.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status (also used by ``python -m xlalens``)."""
    from_shell = argv is None
    from xlalens.dumpdir import install_handlers

    # First thing: a Ctrl-C while the command's modules import is handled the same way.
    previous = install_handlers()  # NOTE: [prompt interrupts] in xlalens/dumpdir/_children.py
    try:
        status = _main(argv, from_shell)
    except KeyboardInterrupt as exc:  # while importing or parsing: nothing started yet
        import signal

        signum = int(getattr(exc, "signum", signal.SIGINT))
        print(
            f"xlalens: interrupted ({signal.Signals(signum).name}); nothing was written",
            file=sys.stderr,
        )
        return 128 + signum
    finally:
        if not from_shell:  # called in-process (tests, notebooks): leave the caller's handlers
            from xlalens.dumpdir._children import restore_handlers

            restore_handlers(previous)
    if from_shell:
        _ignore_interrupts_once_finished(status)
    return status


def _ignore_interrupts_once_finished(status: int) -> None:
    """From here on, SIGINT/SIGTERM cannot turn a finished command into a killed one.

    The command has finished: its results are committed and its message printed. What
    is left is the interpreter's exit work (jax's atexit hooks, then XLA's own C++
    teardown after Python has put the default signal actions back; about 0.3 s for
    ``xlalens time``). An interrupt there killed the process by the signal (exit -2, no
    message) although every result had been written (tests/faults: SIGINT 1.7-2.0 s
    into ``time``). There is nothing left to stop, so both are ignored and the process
    exits with the status it has.
    """
    import signal

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)


def _main(argv: list[str] | None, from_shell: bool) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    # -v anywhere (before or after the command) turns XLA's own logs back on.
    verbose = any(a in ("-v", "--verbose") for a in argv)
    argv = [a for a in argv if a not in ("-v", "--verbose")]
    configure_logs(verbose)  # NOTE: [quiet by default] in xlalens/_logs.py
    command = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(command if command in COMMANDS else None)
    args = parser.parse_args(argv)
    args.verbose = verbose
    return _dispatch(args, from_shell)


def _then_passes(args: argparse.Namespace) -> int:
    """``xlalens dump --passes``: the passes command on the dump just written.

    Runs here, not in capture's command: the passes stage is not capture's to import.
    """
    result = getattr(args, "written", None)
    if result is None or not any(
        e["status"] == "ok" for e in result.manifest["frontends"].values()
    ):
        return 0
    from xlalens.passes._cli import print_records
    from xlalens.passes._report import write_page
    from xlalens.passes._run import run_passes

    status = print_records(run_passes(result.path, backend=args.backend))
    page = write_page(result.path)
    if page is not None:
        print(f"passes report: {page.resolve()}")
    return status


def _dispatch(args: argparse.Namespace, from_shell: bool) -> int:
    try:
        if args.command == "dump":
            from xlalens._pipeline import DUMP_STEPS  # NOTE: [steps handed down]

            args.steps = DUMP_STEPS
        status = int(args.func(args) or 0)
        if args.command == "dump" and getattr(args, "passes", False) and status in (0, 1):
            # A failed frontend's exit 1 wins over the passes' own status.
            status = status or _then_passes(args)
        # A dump that exits 1 may have kept the earlier dump untouched (no frontend
        # succeeded): its report.html must stay byte-identical (issue 22), and a dump
        # that commits writes its own report.
        if args.command in REFRESH and (status == 0 or (status == 1 and args.command != "dump")):
            _refresh_report(args)
        sys.stdout.flush()  # a closed pipe shows here, inside the handler, not at exit
        return status
    except BrokenPipeError:
        # `xlalens stats X | head -1`: the reader left; say nothing more. Point
        # stdout at /dev/null so the interpreter's final flush does not fail too.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except XlalensError as exc:
        print(f"xlalens {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        import signal

        from xlalens.dumpdir import interrupted_note, kill_all

        kill_all()  # a plain KeyboardInterrupt (not through our handler) too
        signum = getattr(exc, "signum", signal.SIGINT)
        print(
            f"xlalens {args.command}: interrupted ({signal.Signals(signum).name}); "
            f"{interrupted_note()}",
            file=sys.stderr,
        )
        if from_shell:
            # Staging is gone and children are dead; skip the interpreter's exit work
            # (joining threads, jax's atexit hooks), which took seconds on a busy machine.
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(128 + int(signum))
        return 128 + int(signum)


if __name__ == "__main__":
    sys.exit(main())
