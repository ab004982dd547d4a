"""``xlalens time DIR --open``: the kept profiler traces in XProf (and where Perfetto reads them).

NOTE: [XProf's log directory] XProf (``xprof --logdir L``, and TensorBoard's profile
plugin) lists a *run* for each ``L/plugins/profile/<run>/<host>.xplane.pb``. The dump
keeps its traces flat (``DIR/timing/traces/<fe>-n<N>.xplane.pb``, the convention other
readers use), and nothing but ``xlalens.dumpdir`` writes into a dump folder, so
``--open`` builds that layout in a temporary folder out of symbolic links (nothing is
copied) and starts XProf's own server on it, in its own process, until Ctrl-C. XProf
2.24's ``xprof`` command needs ``fire``, ``cheroot`` and ``duckdb`` besides the wheel
(``pip install 'xlalens[profile]'`` pulls them).
"""

from __future__ import annotations

import importlib.util
import socket
import sys
import tempfile
from pathlib import Path

from xlalens._errors import UsageError
from xlalens.dumpdir._children import serve

INSTALL_HINT = "pip install 'xlalens[profile]' (xprof 2.24 with fire, cheroot, duckdb)"
# xprof's console script, run with this interpreter (``python -m xprof`` has no __main__).
_XPROF = "import sys; from xprof.cli.xprof_cli import main; sys.exit(main())"


def kept_traces(folder: Path) -> list[Path]:
    """``DIR/timing/traces/*.xplane.pb``, sorted; UsageError naming the fix when there is none."""
    traces = folder / "timing" / "traces"
    found = sorted(traces.glob("*.xplane.pb")) if traces.is_dir() else []
    if not found:
        raise UsageError(
            f"{traces}: no kept profiler trace; run `xlalens time {folder}` first "
            "(1-device dumps, without --no-profile)"
        )
    return found


def xprof_logdir(traces: list[Path], logdir: Path) -> list[str]:
    """Lay ``traces`` out as XProf runs under ``logdir`` (NOTE above); returns the run names."""
    runs = []
    for trace in traces:
        run = trace.name[: -len(".xplane.pb")]
        session = logdir / "plugins" / "profile" / run
        session.mkdir(parents=True, exist_ok=True)
        (session / "host.xplane.pb").symlink_to(trace.resolve())
        runs.append(run)
    return runs


def _free_port(start: int) -> int:
    """The first port from ``start`` that nothing listens on."""
    for port in range(start, start + 100):
        with socket.socket() as s:
            try:
                s.bind(("localhost", port))
            except OSError:
                continue
            return port
    raise UsageError(f"no free port in {start}..{start + 99}; pass --port")


def _has_xprof() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("xprof", "fire", "cheroot"))


def open_traces(folder: str | Path, port: int = 8791) -> int:
    """Print where the kept traces are and serve them with XProf until Ctrl-C.

    Args:
        folder: a dump folder that ``xlalens time`` profiled.
        port: XProf's web port (the first free one from it).

    Returns:
        XProf's exit status (0 after Ctrl-C).

    Raises:
        UsageError: no kept trace, or XProf is not installed (the message names the
            package and the Perfetto route, which needs nothing installed).

    Example:
        >>> open_traces("xlalens-dump")  # doctest: +SKIP
    """
    folder = Path(folder)
    traces = kept_traces(folder)
    for trace in traces:
        chrome = trace.with_name(trace.name.replace(".xplane.pb", ".trace.json.gz"))
        print(f"trace {trace}")
        if chrome.is_file():
            print(f"  Perfetto: open https://ui.perfetto.dev and drop {chrome} on it")
    if not _has_xprof():
        raise UsageError(
            f"`xlalens time --open` starts XProf, which is not installed: {INSTALL_HINT}; "
            "or open the .trace.json.gz files in Perfetto as printed above"
        )
    with tempfile.TemporaryDirectory(prefix="xlalens-xprof-") as tmp:
        logdir = Path(tmp)
        runs = xprof_logdir(traces, logdir)
        port = _free_port(port)
        grpc = _free_port(port + 1000)
        cmd = [sys.executable, "-c", _XPROF, "--logdir", str(logdir), "--port", str(port)]
        cmd += ["--grpc_port", str(grpc)]
        print(f"XProf runs {', '.join(runs)} (log directory {logdir}); by hand:")
        print(f"  xprof --logdir {logdir} --port {port}")
        print(f"http://localhost:{port}/ (Ctrl-C stops XProf)", flush=True)
        # `kill PID` stops XProf and removes the log directory too, as Ctrl-C does
        return serve(cmd, "xlalens time --open", term_stops=True)
