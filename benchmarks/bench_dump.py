"""Parallel capture against the frontends run one at a time, in the same run.

Prints each frontend's capture wall time alone, then the capture wall time of
one dump of all of them in parallel (bounded by the core count), and the ratios.
Target: the parallel capture within 1.3x of the slowest single frontend. Later
stages (graphs, diffs, report) are left out: they are not capture, and have
benchmarks of their own.

Run: ``.venv/bin/python benchmarks/bench_dump.py``
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from xlalens.capture import write_dump
from xlalens.frontends import FRONTENDS


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        alone = {}
        for name in FRONTENDS:
            result = write_dump(Path(tmp) / name, frameworks=[name], stages=False)
            alone[name] = result.manifest["seconds"]["capture"]
            status = result.manifest["frontends"][name]["status"]
            print(f"alone     {name:17s} {alone[name]:6.1f} s  ({status})")
        result = write_dump(Path(tmp) / "all", stages=False)
        parallel = result.manifest["seconds"]["capture"]
    slowest = max(alone.values())
    total = sum(alone.values())
    cores = os.cpu_count()
    print(f"parallel  {len(alone)} frontends, {cores} cores: {parallel:.1f} s")
    print(f"sum of single frontends: {total:.1f} s; slowest single: {slowest:.1f} s")
    print(f"parallel / slowest single = {parallel / slowest:.2f}x (target <= 1.3x)")
    print(f"parallel / sum            = {parallel / total:.2f}x")
    # No schedule beats the larger of the slowest frontend and the total work
    # spread over every core; on a small machine that, not 1.3x, is the floor.
    floor = max(slowest, total / (cores or 1))
    print(
        f"parallel / max(slowest, sum/{cores} cores) = {parallel / floor:.2f}x "
        f"(how close the scheduler gets to what this machine allows)"
    )
    print(f"failed: {result.failed or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
