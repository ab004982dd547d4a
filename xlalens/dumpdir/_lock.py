"""One writer at a time per dump: an exclusive ``flock`` on a lock file beside it.

NOTE: [why the lock file sits beside the dump] ``xlalens dump`` replaces the
whole folder by a rename; a lock file inside it would be swapped away with it,
and a second writer waiting on the old file would then hold a lock nobody else
sees. ``PARENT/.NAME.lock`` outlives every commit. It holds one JSON line
naming the holder (pid, command, start), for the message a refused writer prints.
The holder removes it as it lets go (so no file is left behind), and a waiter
that then gets the lock of a removed file starts again on the new one. The
kernel drops a ``flock`` when its holder dies (kill -9 included), so a stale
lock file never blocks anyone.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import fcntl
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from xlalens._errors import DumpError
from xlalens.dumpdir._txn import clear_stale, recover

DEFAULT_WAIT_S = 30.0
"""How long a second writer waits for the first (env ``XLALENS_LOCK_WAIT``)."""


class DumpBusy(DumpError):
    """Another command holds the dump's lock; the message names it."""


_held: list[Path] = []
_seen: list[Path] = []


def lock_path(dump: str | Path) -> Path:
    """The lock file of ``dump``."""
    dump = Path(dump).absolute()
    return dump.parent / f".{dump.name}.lock"


def held() -> list[Path]:
    """The dumps this process holds locked now (for the interrupt message)."""
    return list(_held)


def _holder(fd: int) -> str:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        info = json.loads(os.read(fd, 4096).decode() or "{}")
    except (OSError, ValueError):
        info = {}
    if not info:
        return "another process"
    return f"pid {info.get('pid')} ({info.get('command')}, since {info.get('since')})"


def interrupted_note() -> str:
    """What an interrupt left, for the CLI's last line: the dumps and what changed."""
    from xlalens.dumpdir._txn import committed

    if not _seen:
        return "nothing was written"
    parts = []
    for dump in _seen:
        done = [p for p in committed() if p == dump.absolute() or dump.absolute() in p.parents]
        parts.append(
            f"{dump} kept as it was"
            if not done
            else f"{dump} holds the {len(done)} result(s) finished before it; the rest was dropped"
        )
    return "; ".join(parts)


def wait_seconds() -> float:
    """The wait from ``XLALENS_LOCK_WAIT`` (seconds, 0 = refuse at once).

    Raises:
        DumpError: a value that is not a number >= 0.
    """
    raw = os.environ.get("XLALENS_LOCK_WAIT")
    if raw is None:
        return DEFAULT_WAIT_S
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise DumpError(f"XLALENS_LOCK_WAIT={raw!r}: expected seconds >= 0, e.g. 30")
    return value


@contextlib.contextmanager
def locked(
    dump: str | Path, command: str | None = None, *, wait: float | None = None
) -> Iterator[None]:
    """Hold ``dump``'s exclusive write lock for the block.

    While waiting, a line says who holds it; past ``wait`` seconds the command is
    refused. Once held, what killed writers left (staging folders, a folder set
    aside by a two-rename commit) is cleaned up first.

    Args:
        dump: the dump folder (it need not exist yet: ``xlalens dump`` locks its ``-o``).
        command: what to tell a waiting writer (default: this process's command line).
        wait: seconds to wait (default :func:`wait_seconds`).

    Raises:
        DumpBusy: still held after ``wait``, naming the holder.

    Example:
        >>> with locked("xlalens-dump", "xlalens compile"):  # doctest: +SKIP
        ...     pass
    """
    dump = Path(dump)
    if any(h.absolute() == dump.absolute() for h in _held):
        yield  # already ours (``dump --passes`` runs passes under dump's lock)
        return
    wait = wait_seconds() if wait is None else wait
    path = lock_path(dump)
    if not path.parent.is_dir():
        raise DumpError(f"{path.parent} does not exist; create it first (mkdir -p {path.parent})")
    deadline = time.monotonic() + wait
    told = False
    while True:
        fd = _open(dump, path)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if time.monotonic() >= deadline:
                holder = _holder(fd)
                os.close(fd)
                raise DumpBusy(
                    f"{dump} is being written by {holder}; wait for it to finish "
                    f"(or stop it), or set XLALENS_LOCK_WAIT to wait longer than {wait:g} s"
                ) from None
            if not told:
                print(
                    f"xlalens: waiting up to {wait:g} s for {_holder(fd)}, which is writing {dump}",
                    file=sys.stderr,
                )
                told = True
            os.close(fd)
            time.sleep(0.1)
            continue
        # The holder before us removes the file as it lets go: a lock on a file no
        # longer at ``path`` protects nothing, so start again on the new one.
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        info = {
            "pid": os.getpid(),
            "command": command or " ".join(["xlalens", *sys.argv[1:]])[:200],
            "since": _dt.datetime.now().isoformat(timespec="seconds"),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(info) + "\n").encode(), 0)
        recover(dump.absolute())
        clear_stale(dump)
        _held.append(dump)
        if dump not in _seen:
            _seen.append(dump)
        try:
            yield
        finally:
            _held.remove(dump)
            with contextlib.suppress(OSError):
                path.unlink()  # while still holding it; see the check above
    finally:
        os.close(fd)  # closing drops the flock


def _open(dump: Path, path: Path) -> int:
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise DumpError(
            f"{dump}: cannot create its lock file {path} ({exc.strerror}); "
            "run where the dump's folder is writable"
        ) from exc
