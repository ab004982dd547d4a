"""The dump folder: reading it, and changing it without ever losing what it held.

One module owns the on-disk contract (docs/dump-format.md):

- reading: :func:`read_manifest`, :func:`resolve_entry`, :func:`read_outputs`
  (``_read``);
- writing: :func:`atomic_write` for one file, :class:`Staging` for a folder that
  replaces another in one rename (``_txn``); NOTE: [never lose a user's data];
- one writer at a time: :func:`locked` (``_lock``);
- children that an interrupt stops at once: :func:`popen`, :func:`run` (``_children``).
"""

from xlalens.dumpdir._children import (
    Interrupted,
    install_handlers,
    kill_all,
    kill_group,
    popen,
    stopping,
)
from xlalens.dumpdir._children import run as run_child
from xlalens.dumpdir._lock import DumpBusy, held, interrupted_note, lock_path, locked
from xlalens.dumpdir._read import (
    ARTIFACTS,
    FORMAT_VERSION,
    MANIFEST,
    READABLE_VERSIONS,
    DumpEntry,
    Outputs,
    is_dump,
    looks_like_entry,
    read_manifest,
    read_outputs,
    resolve_entry,
)
from xlalens.dumpdir._txn import (
    Staging,
    atomic_write,
    check_output_file,
    check_writable,
    clear_failed,
    failed_record,
    record_failed,
    staging_root,
    writes_to,
)

__all__ = [
    "ARTIFACTS",
    "FORMAT_VERSION",
    "MANIFEST",
    "READABLE_VERSIONS",
    "DumpBusy",
    "DumpEntry",
    "Interrupted",
    "Outputs",
    "Staging",
    "atomic_write",
    "check_output_file",
    "check_writable",
    "clear_failed",
    "failed_record",
    "held",
    "install_handlers",
    "interrupted_note",
    "is_dump",
    "kill_all",
    "kill_group",
    "lock_path",
    "locked",
    "looks_like_entry",
    "popen",
    "read_manifest",
    "read_outputs",
    "record_failed",
    "resolve_entry",
    "run_child",
    "staging_root",
    "stopping",
    "writes_to",
]
