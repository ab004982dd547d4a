"""The real modules of tests/core/data/real (made by scripts/gen_real_models.py)."""

from __future__ import annotations

import json
import lzma
from functools import cache
from pathlib import Path

REAL = Path(__file__).parent / "data" / "real"


def manifest() -> dict:
    """The manifest: model name -> description, versions, files (with instruction counts)."""
    return json.loads((REAL / "manifest.json").read_text())


def real_files() -> list[tuple[str, int]]:
    """(file name, instruction count) of every checked-in real module."""
    return [
        (f["file"], f["instructions"])
        for entry in manifest().values()
        for f in entry["files"].values()
    ]


@cache
def real_text(file: str) -> str:
    """The decompressed HLO text of one checked-in real module."""
    return lzma.decompress((REAL / file).read_bytes()).decode()
