"""A pause of Python's cyclic garbage collector around graph building.

NOTE: [why pause the collector]
Building a 20k-node graph allocates ~10^5 dicts that all stay alive; every few
hundred allocations the collector re-scans the growing heap, which more than
doubled parse and normalize times of a 23k-op module (measured: parse 3.5 s ->
1.8 s, normalize 2.4 s -> 0.95 s on the loaded 2-core dev machine). Nothing
built here forms garbage cycles, so collection can wait until the graph is done.

NOTE: [the new graph goes straight to the oldest generation]
Re-enabling the collector is not the end of it: the first container allocated
after ``gc.enable()`` starts a young-generation collection that walks every
object built while it was off (all of them are still "young"), about 60 ms of a
0.33 s load of a 20k-instruction module (issue 23), and a middle-generation one
walks them again later. ``gc.freeze()`` then ``gc.unfreeze()`` moves every tracked
object into the oldest generation in O(1) (two list splices) without scanning,
as if they had survived those collections, which they would: the graph is alive.
A full collection still scans them, as it scans any long-lived data. Skipped when
the process has frozen objects of its own (``gc.get_freeze_count()``), since
``unfreeze`` would thaw them too.
"""

from __future__ import annotations

import ctypes
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def paused_gc() -> Iterator[None]:
    """Disable the cyclic GC inside the block; restore its previous state after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        resume_gc(was_enabled)


def resume_gc(was_enabled: bool) -> None:
    """Turn the cyclic GC back on if it was, promoting what was built meanwhile (NOTE above)."""
    if not was_enabled:
        return
    if gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()
    gc.enable()


# NOTE: [freed heap pages go back at once]
# Large blocks (a dict's table past ~40k keys, a list of 10^5 records) come from the
# C heap. glibc serves them by mmap, returned on free, only until the process frees
# one bigger than its threshold: from then on (the file's bytes, 14 MB, are freed
# before the parse starts) they come from the heap, and a freed one stays resident
# until something of its size reuses it. Building a graph grows four dicts of one
# entry per node together; each growth frees the previous tables, which nothing
# reuses: 9 MB of a 156k-instruction module's peak (issue 23). ``malloc_trim(0)``
# hands those free pages back; it takes about a millisecond, and the reader calls it
# a few times per large module (after each growth of its dicts). Elsewhere (no
# glibc) it does nothing.
_TRIM: Any = None


def release_freed() -> None:
    """Give the C heap's free pages back to the OS now (glibc ``malloc_trim``; NOTE above)."""
    global _TRIM
    if _TRIM is None:
        try:
            _TRIM = getattr(ctypes.CDLL(None), "malloc_trim", False)
        except Exception:  # no C library to ask (Windows): nothing to give back
            _TRIM = False
        if _TRIM:
            _TRIM.argtypes = [ctypes.c_size_t]
            _TRIM.restype = ctypes.c_int
    if _TRIM:
        _TRIM(0)
