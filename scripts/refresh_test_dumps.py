"""Re-create the checked-in dumps under tests/core/data/dumps/ from real captures.

The core tests run on these files with no framework installed. Run it after a
change to the frontends: ``.venv/bin/python scripts/refresh_test_dumps.py``.
Only the capture's own files are kept (IR text, inputs, outputs, manifest); the
derived graphs, diffs and report are dropped so that tests rebuild them.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

from xlalens.capture import write_dump
from xlalens.workloads import Workload

ROOT = Path(__file__).resolve().parents[1] / "tests" / "core" / "data" / "dumps"
KEEP = {
    "stablehlo.mlir",
    "hlo.txt",
    "optimized_hlo.txt",
    "outputs.json",
    "outputs.npz",
    "inputs.npz",
}
WORKLOADS = {"regression": Workload(), "mlp": Workload(name="mlp", depth=2, width=8)}


def main() -> int:
    for name, workload in WORKLOADS.items():
        with tempfile.TemporaryDirectory() as tmp:
            result = write_dump(Path(tmp) / "d", workload=workload)
            if result.failed:
                print(f"{name}: frontends failed: {result.failed}", file=sys.stderr)
                return 1
            m = result.manifest
            for key in ("steps", "diffs", "report"):
                m.pop(key, None)
            m["created"] = "(checked-in test data)"
            target = ROOT / name
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir(parents=True)
            for fe, entry in m["frontends"].items():
                (target / fe).mkdir()
                for f in KEEP:
                    shutil.copy(result.path / fe / f, target / fe / f)
                entry["artifacts"] = {
                    k: v for k, v in entry["artifacts"].items() if k not in ("graphs", "log")
                }
                entry.pop("graph_errors", None)
            (target / "manifest.json").write_text(json.dumps(m, indent=1))
            print(f"{name}: {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
