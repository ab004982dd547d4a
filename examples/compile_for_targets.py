"""Compile a dump for an H100 and a TPU v5e without either, and read what XLA made of it.

Run: .venv/bin/python examples/compile_for_targets.py [DIR] [TARGETS]
Without DIR it copies the checked-in mlp test dump (six frameworks) into a temporary
folder. TARGETS defaults to h100,tpu-v5e. Needs the target plugins (`make setup`
installs them in .venv/targets-site; see docs/targets.md): a target whose plugin is
missing is reported as skipped.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import xlalens
from xlalens.targets import compile_for

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    targets = sys.argv[2] if len(sys.argv) > 2 else "h100,tpu-v5e"
    with tempfile.TemporaryDirectory() as tmp:
        if len(sys.argv) > 1:
            dump = Path(sys.argv[1])
        else:
            dump = Path(tmp) / "mlp"
            shutil.copytree(REPO / "tests" / "core" / "data" / "dumps" / "mlp", dump)
        result = compile_for(dump, targets)
        print(result.table())
        for t in result.targets:
            for fe, res in t.summary.get("frontends", {}).items():
                if res.get("status") != "ok" or "analysis" not in res:
                    continue
                a = res["analysis"]
                # A kernel's own code: its HLO line, then PTX / LLVM IR / asm where dumped.
                for k in a["kernel_list"]:
                    code = [c for c in k["codegen"] if c["kind"] != "hlo"]
                    if code:
                        links = ", ".join(f"{c['kind']} {c['path']}:{c['line']}" for c in code)
                        print(f"{t.key}/{fe}: kernel {k['name']} -> {links}")
                        break
                break
        # The same module through the dump-entry spelling, diffed across targets.
        ok = [t.key for t in result.targets if t.status == "ok"]
        if len(ok) == 2:
            d = xlalens.diff(f"{dump}:jax@{ok[0]}", f"{dump}:jax@{ok[1]}")
            print("\n".join(d.to_text().splitlines()[:6]))


if __name__ == "__main__":
    main()
