"""Child process groups that one Ctrl-C (or SIGTERM) stops at once.

NOTE: [prompt interrupts] (issue 22) frontends, target compiles and native
timing rounds run as subprocesses, each in its own session (process group), so
a framework's helper processes are stopped with it and a terminal's Ctrl-C
reaches only xlalens. :func:`install_handlers` (the CLI calls it) makes SIGINT
and SIGTERM kill every live group with SIGKILL from the signal handler itself,
then raise :class:`Interrupted` in the main thread; threads that were waiting
on a child see it die within milliseconds, and :func:`popen` refuses to start
new children once stopping. Staged results are then dropped on the way out
(:class:`xlalens.dumpdir.Staging`), so the dump is left as it was.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from typing import Any


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived; every child group was killed."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


_SETPRIV = shutil.which("setpriv") if sys.platform.startswith("linux") else None
_live: set[subprocess.Popen] = set()
_guard = threading.Lock()
_stopping = threading.Event()


def stopping() -> bool:
    """True once an interrupt arrived: callers stop instead of starting more work."""
    return _stopping.is_set()


def popen(cmd: list[str], **kwargs: Any) -> subprocess.Popen:
    """``subprocess.Popen`` in a new process group, tracked for :func:`kill_all`.

    Raises:
        Interrupted: the command is already stopping.
    """
    kwargs["start_new_session"] = True
    if _SETPRIV:
        # NOTE: [kill -9 of xlalens] no handler runs on SIGKILL, and a child in a
        # session of its own would go on writing into a staging folder the next
        # command reuses; the kernel kills it when its parent dies (util-linux
        # setpriv sets PR_SET_PDEATHSIG, kept across its exec of the command).
        cmd = [_SETPRIV, "--pdeathsig", "KILL", "--", *cmd]
    with _guard:
        if _stopping.is_set():
            raise Interrupted()
        proc = subprocess.Popen(cmd, **kwargs)
        _live.add(proc)
    return proc


def forget(proc: subprocess.Popen) -> None:
    """Stop tracking a child that has exited (or been reaped)."""
    with _guard:
        _live.discard(proc)


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL ``proc``'s whole process group (frameworks spawn helpers)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def kill_all() -> int:
    """SIGKILL every live child group; returns how many there were."""
    with _guard:
        procs = list(_live)
    for proc in procs:
        kill_group(proc)
    return len(procs)


def private_tmp(env: dict[str, str] | None) -> tuple[dict[str, str], str]:
    """``env`` (default: this one) with TMPDIR, TEMP and TMP on a fresh folder.

    NOTE: [no temporary files left] (issue 22) frameworks write into the system
    temp folder and leave files there (torch's ``_remote_module_non_scriptable.py``
    folders, TensorFlow's autograph modules); each child gets its own folder,
    which :func:`child` (or the caller) removes once the child is gone.

    Returns:
        (the environment, the folder to remove afterwards).
    """
    folder = tempfile.mkdtemp(prefix="xlalens-child-")
    env = dict(os.environ if env is None else env)
    env.update(TMPDIR=folder, TEMP=folder, TMP=folder)
    return env, folder


@contextlib.contextmanager
def child(cmd: list[str], **kwargs: Any) -> Iterator[subprocess.Popen]:
    """A tracked child for the block, with a private temp folder (removed after).

    Its group is killed if the block exits early.
    """
    kwargs["env"], tmp = private_tmp(kwargs.get("env"))
    try:
        proc = popen(cmd, **kwargs)
        try:
            yield proc
        finally:
            if proc.poll() is None:
                kill_group(proc)
                with contextlib.suppress(Exception):
                    proc.wait(timeout=5)
            forget(proc)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(cmd: list[str], *, timeout: float | None = None, input: bytes | None = None, **kwargs: Any):
    """Like ``subprocess.run(capture_output=True)``, for a tracked child group.

    Raises:
        subprocess.TimeoutExpired: past ``timeout`` (the group is killed first).
        Interrupted: an interrupt killed it.
    """
    kwargs.setdefault("stdout", subprocess.PIPE)
    kwargs.setdefault("stderr", subprocess.PIPE)
    if input is not None:
        kwargs["stdin"] = subprocess.PIPE
    with child(cmd, **kwargs) as proc:
        try:
            out, err = proc.communicate(input=input, timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_group(proc)
            out, err = proc.communicate()
            raise subprocess.TimeoutExpired(cmd, timeout or 0.0, output=out, stderr=err) from None
        if _stopping.is_set():
            raise Interrupted()
        return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def serve(cmd: list[str], name: str, *, term_stops: bool = False) -> int:
    """Run a server in the foreground until it exits or the user stops it (Ctrl-C).

    The server shares our terminal and stdout (it prints its own URL). On Ctrl-C
    it gets SIGINT and 10 s to stop before SIGKILL; then ``"<name>: stopped"`` goes
    to stderr and the status is 0, so the caller's cleanup (a temporary folder)
    runs. ``term_stops``: SIGTERM (``kill PID``) stops it the same way.

    Returns:
        The server's exit status, or 0 when the user stopped it.
    """
    proc = subprocess.Popen(cmd, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    old = signal.signal(signal.SIGTERM, _raise_interrupt) if term_stops else None
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        print(f"{name}: stopped", file=sys.stderr)
        return 0
    finally:
        if old is not None:
            signal.signal(signal.SIGTERM, old)


def _handler(signum: int, frame: object) -> None:
    _stopping.set()
    kill_all()
    raise Interrupted(signum)


def install_handlers() -> dict[int, Any]:
    """SIGINT and SIGTERM: kill every child group, then raise :class:`Interrupted`.

    Returns:
        The handlers replaced, for :func:`restore_handlers` (empty off the main thread).
    """
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {sig: signal.signal(sig, _handler) for sig in (signal.SIGINT, signal.SIGTERM)}


def restore_handlers(previous: dict[int, Any]) -> None:
    """Put back the handlers :func:`install_handlers` replaced (a CLI called in-process)."""
    for sig, handler in previous.items():
        signal.signal(sig, handler)
