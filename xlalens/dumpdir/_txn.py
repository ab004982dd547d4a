"""Atomic writes and staged commits into a dump folder.

NOTE: [never lose a user's data] (issue 22) every result a command writes goes
first into a staging folder outside the dump, ``PARENT/.NAME.staging/<pid>-<n>``
(the same file system, so a rename moves it), and reaches the dump by one
rename: :func:`atomic_write` for a file, :meth:`Staging.commit` for a folder.
A command that fails, is interrupted or is killed therefore leaves the dump's
files byte-identical; what it leaves behind is only under the staging root,
which the next writer (holding the lock, :mod:`xlalens.dumpdir._lock`) removes.

A folder commit exchanges the new folder with the old one in one
``renameat2(RENAME_EXCHANGE)`` call (Linux 3.15+); where the file system does
not support it (e.g. some network mounts) the old folder is renamed aside first
and the new one into place, two renames, and :func:`recover` puts the old one
back if a kill falls between them.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from xlalens._errors import DumpError

_counter = itertools.count()
_committed: list[Path] = []


def committed() -> list[Path]:
    """The folders and files this process has committed (for the interrupt message)."""
    return list(_committed)


_RENAME_EXCHANGE = 2  # linux/fs.h


def staging_root(dump: str | Path) -> Path:
    """Where commands stage results for ``dump``: a hidden sibling folder."""
    dump = Path(dump).absolute()
    return dump.parent / f".{dump.name}.staging"


def atomic_write(path: str | Path, data: str | bytes, *, durable: bool = True) -> None:
    """Write ``data`` to ``path`` so a reader sees the old file or the new one, whole.

    The text goes to a temporary file beside ``path``, is flushed to disk and
    renamed over it; on any failure (a full disk, an interrupt) the temporary
    file is removed and ``path`` is untouched.

    Args:
        path: the file to write (its folder is created when missing).
        data: text (UTF-8) or bytes.
        durable: fsync before the rename. Without it the rename still leaves the
            old file or the new one whole after a failed, killed or interrupted
            command (what the project promises); the fsync adds survival of a power
            loss, which costs a disk flush per file: render's hundreds of SVGs skip it.

    Example:
        >>> atomic_write("xlalens-dump/timing/cpu.json", "{}")  # doctest: +SKIP
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{next(_counter)}.tmp")
    raw = data.encode() if isinstance(data, str) else data
    try:
        with open(tmp, "wb") as fh:
            fh.write(raw)
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
        _committed.append(path.absolute())
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _libc():
    name = ctypes.util.find_library("c")
    return ctypes.CDLL(name, use_errno=True) if name else None


_LIBC = None


def exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths in one atomic step; False where the OS cannot."""
    global _LIBC
    if _LIBC is None:
        _LIBC = _libc() or False
    fn = getattr(_LIBC, "renameat2", None) if _LIBC else None
    if fn is None:
        return False
    at_fdcwd = -100
    rc = fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _aside(final: Path) -> Path:
    return final.with_name(f".{final.name}.old-{os.getpid()}")


def recover(final: str | Path) -> None:
    """Put back a folder a killed two-rename commit left aside (see the module NOTE)."""
    final = Path(final)
    if final.exists():
        return
    for old in sorted(final.parent.glob(f".{final.name}.old-*")):
        os.replace(old, final)
        return


class Staging:
    """A staging folder that becomes ``final`` on :meth:`commit`, or vanishes.

    Use it as a context manager: leaving the block without a commit (an error,
    an interrupt) removes the staging folder and leaves ``final`` as it was.

    Args:
        final: the folder the results replace when committed.
        dump: the dump ``final`` belongs to (default: ``final`` itself); the staging
            folder lives under its :func:`staging_root`, outside the dump.

    Example:
        >>> with Staging(Path("DIR/targets/h100"), dump=Path("DIR")) as st:  # doctest: +SKIP
        ...     (st.path / "a.txt").write_text("x")
        ...     st.commit()
    """

    def __init__(self, final: str | Path, *, dump: str | Path | None = None) -> None:
        self.final = Path(final).absolute()
        base = staging_root(self.final if dump is None else dump)
        base.mkdir(parents=True, exist_ok=True)
        self.path = base / f"{os.getpid()}-{next(_counter)}-{self.final.name}"
        shutil.rmtree(self.path, ignore_errors=True)
        self.path.mkdir()
        self.committed = False
        self._files: list[tuple[Path, Path]] = []

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.committed:
            self.abort()

    def abort(self) -> None:
        """Remove the staging folder (and staged files); ``final`` is untouched."""
        shutil.rmtree(self.path, ignore_errors=True)
        for tmp, _ in self._files:
            with contextlib.suppress(OSError):
                tmp.unlink()
        with contextlib.suppress(OSError):
            self.path.parent.rmdir()  # the root, when this was the last one

    def add_file(self, path: str | Path, data: str | bytes) -> None:
        """Write a file now (outside the dump) that :meth:`commit` renames to ``path``.

        For a result that lives beside the folder (``targets/<key>.json`` beside
        ``targets/<key>/``): a full disk fails here, before anything moved, and
        the commit itself is only renames.
        """
        tmp = self.path.with_name(f"{self.path.name}.file{len(self._files)}")
        atomic_write(tmp, data)
        _committed.pop()  # staged, not committed yet
        self._files.append((tmp, Path(path)))

    def _place_files(self) -> None:
        for tmp, path in self._files:
            path.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, path)
            _committed.append(path.absolute())
        self._files.clear()

    def commit_files(self) -> None:
        """Move each staged file into ``final``, one rename each, keeping its other files.

        For results added to a folder rather than replacing it (``timing/cpu/``
        holds every frontend's optimized HLO; one run may time only some).
        """
        self.final.mkdir(parents=True, exist_ok=True)
        for item in sorted(self.path.iterdir()):
            if item.is_file():
                os.replace(item, self.final / item.name)
                _committed.append(self.final / item.name)
        self._place_files()
        self.committed = True
        self.abort()

    def commit(self) -> None:
        """Move the staged folder into place in one rename (the old one is removed after)."""
        self.final.parent.mkdir(parents=True, exist_ok=True)
        if not self.final.exists():
            os.replace(self.path, self.final)
        elif exchange(self.path, self.final):
            pass  # self.path now holds the old folder; abort() removes it
        else:
            old = _aside(self.final)
            shutil.rmtree(old, ignore_errors=True)
            os.replace(self.final, old)
            os.replace(self.path, self.final)
            shutil.rmtree(old, ignore_errors=True)
        self._place_files()
        self.committed = True
        _committed.append(self.final)
        self.abort()


def clear_stale(dump: str | Path) -> None:
    """Remove what killed commands left in ``dump``'s staging root (call under the lock)."""
    root = staging_root(dump)
    if root.is_dir():
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def writes_to(dump: str | Path, what: str) -> Iterator[None]:
    """Turn an OSError while writing ``dump`` (a full disk, a read-only mount) into one line.

    Raises:
        DumpError: ``<dump>: cannot write <what> (<reason>); <dump> is unchanged``.
    """
    try:
        yield
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise DumpError(
            f"{dump}: cannot write {what} ({reason}"
            f"{': ' + str(exc.filename) if exc.filename else ''}); "
            f"the earlier contents of {dump} are unchanged. Free space or fix permissions and re-run"
        ) from exc


def check_writable(dump: str | Path) -> None:
    """Refuse up front a dump this user cannot change (a read-only copy or mount).

    Raises:
        DumpError: one line naming the folder and the fix.
    """
    dump = Path(dump)
    for folder in (dump, dump.parent):
        # A folder with no write bit at all was made read-only on purpose; root
        # could still write it (os.access says yes), but must not.
        if folder.is_dir() and (
            not os.access(folder, os.W_OK | os.X_OK) or not folder.stat().st_mode & 0o222
        ):
            raise DumpError(
                f"{folder} is read-only, so {dump} cannot be updated; "
                f"copy the dump somewhere writable (cp -r {dump} NEW) and run on the copy"
            )


def check_output_file(path: str | Path, option: str = "-o") -> Path:
    """The same rule for every command's output file: its folder must exist already.

    Nothing is created on the way (``render -o /nonexistent/x.svg`` used to make
    ``/nonexistent``); a folder that exists but cannot be written is refused too.

    Raises:
        UsageError: one line naming the path and the fix.
    """
    from xlalens._errors import UsageError

    path = Path(path)
    parent = path.absolute().parent
    if path.is_dir():
        raise UsageError(f"{option} {path}: is a folder; name a file, e.g. {path / 'out'}")
    if not parent.is_dir():
        raise UsageError(
            f"{option} {path}: folder {parent} does not exist; create it first "
            f"(mkdir -p {parent}) or choose another path"
        )
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {path}: folder {parent} is not writable; choose another path")
    return path


FAILED_DIR = "failed"
"""``DIR/failed/<command>-<key>.json``: the last failed attempt beside a kept good result."""


def failed_record(dump: str | Path, command: str, key: str) -> Path:
    """Where a failed ``command`` on ``key`` (a target, a backend, a frontend) is recorded.

    NOTE: [merge, never lose] a failed attempt never replaces a good result; it is
    written here instead, in a folder no reader of results lists (they glob
    ``targets/*.json`` and ``timing/*.json``), and removed when a later attempt succeeds.
    """
    return Path(dump) / FAILED_DIR / f"{command}-{key}.json"


def record_failed(dump: str | Path, command: str, key: str, text: str) -> Path:
    """Write a failed attempt's record (atomically); returns its path."""
    path = failed_record(dump, command, key)
    atomic_write(path, text)
    return path


def clear_failed(dump: str | Path, command: str, key: str) -> None:
    """Forget the failed attempt of ``command`` on ``key`` once it succeeded."""
    path = failed_record(dump, command, key)
    with contextlib.suppress(OSError):
        path.unlink()
        path.parent.rmdir()  # only when it was the last one
