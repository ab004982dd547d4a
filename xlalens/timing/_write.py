"""Timing stage 7, write the results: the results document, atomically, merged with
earlier results of the backend, then the report refreshed through the top floor.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from xlalens import _runtime
from xlalens.dumpdir import atomic_write as _atomic_write  # the one atomic write (issue 22)
from xlalens.timing._peaks import Peaks
from xlalens.timing._records import (
    RESULTS_SCHEMA_VERSION,
    TIMING_DIR,
    TimingOptions,
)


def results_path(dump_dir: str | Path, backend: str) -> Path:
    """Where :func:`time_dump` writes the results of ``backend``."""
    return Path(dump_dir) / TIMING_DIR / f"{backend}.json"


def device_description(backend: str) -> dict[str, Any]:
    """The device timed on: platform, kind, count, and the PJRT platform version."""
    client = _runtime.get_backend(backend)
    dev = client.local_devices()[0]
    return {
        "platform": str(client.platform),
        "platform_version": str(getattr(client, "platform_version", "")),
        "device_kind": str(getattr(dev, "device_kind", "")),
        "device_count": len(client.local_devices()),
        "cpu_count": os.cpu_count(),
    }


def results_document(
    options: TimingOptions,
    manifest: dict[str, Any],
    peaks: Peaks,
    results: dict[str, Any],
    **extra: Any,
) -> dict[str, Any]:
    """A results document (schema in docs/timing.md) around the per-frontend ``results``."""
    import jax
    import jaxlib

    from xlalens._version import __version__

    return {
        "schema_version": RESULTS_SCHEMA_VERSION,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "xlalens_version": __version__,
        "backend": options.backend,
        "device": device_description(options.backend),
        "versions": {
            "jax": jax.__version__,
            "jaxlib": jaxlib.__version__,
            "python": sys.version.split()[0],
        },
        "dump": {"workload": manifest.get("workload"), "capture_backend": manifest.get("backend")},
        "options": {
            "repeat": options.repeat,
            "warmup": options.warmup,
            "min_time_s": options.min_time_s,
            "profile": options.profile,
            "sizes": list(options.sizes),
        },
        **extra,
        "peaks": peaks.as_dict(),
        "frontends": results,
        "sweep": None,
    }


def _earlier_results(
    folder: Path, backend: str, say: Callable[[str], None]
) -> dict[str, Any] | None:
    """The backend's earlier results document, or None (absent, unreadable, other schema)."""
    path = results_path(folder, backend)
    if not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        say(f"warning: earlier results {path} are unreadable; replacing them")
        return None
    if not isinstance(doc, dict) or doc.get("schema_version") != RESULTS_SCHEMA_VERSION:
        say(f"warning: earlier results {path} are of another schema; replacing them")
        return None
    return doc


def write_results(dump_dir: str | Path, doc: dict[str, Any]) -> Path:
    """Write a results document atomically to ``DIR/timing/<backend>.json``; returns the path."""
    path = results_path(dump_dir, doc["backend"])
    _atomic_write(path, results_text(doc))
    return path


def results_text(doc: dict[str, Any]) -> str:
    """A results document as the JSON text written to ``DIR/timing/<backend>.json``."""
    return json.dumps(doc, indent=1, default=_json_default) + "\n"


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, tuple):
        return list(o)
    raise TypeError(f"{type(o).__name__} is not JSON serializable")
