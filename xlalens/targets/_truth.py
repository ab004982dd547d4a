"""The truth check: the compile-only module against a compile on the real device.

``python -m xlalens.targets._truth DIR`` (run by scripts/gpu_check.sh on a GPU
machine) compiles DIR's captures twice for the attached GPU's model, once
compile-only from our spec file and once on the device itself, and compares the
two optimized modules kernel by kernel: kernel names, fusion kinds and library
calls. The autotuner may pick other tile sizes or gemm backends on the device, so
differences are reported, not failed on.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from xlalens.targets._compile import CompileResult, compile_for

# device_kind prefixes -> our chip names
_CHIP_OF = (
    ("NVIDIA H100", "h100"),
    ("NVIDIA H200", "h200"),
    ("NVIDIA A100", "a100"),
    ("NVIDIA B200", "b200"),
)


def chip_for(device_kind: str) -> str | None:
    """Our chip name for a jax ``device_kind`` (``"NVIDIA H100 80GB HBM3"`` -> ``"h100"``)."""
    for prefix, chip in _CHIP_OF:
        if device_kind.startswith(prefix):
            return chip
    return None


def kernel_rows(a: dict[str, Any], b: dict[str, Any]) -> list[tuple[str, str, str]]:
    """``(kernel, compile-only, on device)`` descriptions for kernels that differ.

    Args:
        a: the compile-only frontend record (``summary["frontends"][fe]``).
        b: the on-device record of the same frontend.

    Returns:
        One row per kernel present on one side only or differing in opcode, kind or
        library; empty when the two modules have the same kernels.

    Example:
        >>> kernel_rows({"analysis": {"kernel_list": []}}, {"analysis": {"kernel_list": []}})
        []
    """

    def desc(k: dict[str, Any]) -> str:
        return " ".join(x for x in (k["opcode"], k.get("kind") or "", k.get("library") or "") if x)

    ka = {k["name"]: k for k in (a.get("analysis") or {}).get("kernel_list", [])}
    kb = {k["name"]: k for k in (b.get("analysis") or {}).get("kernel_list", [])}
    rows = []
    for name in list(ka) + [n for n in kb if n not in ka]:
        da = desc(ka[name]) if name in ka else "-"
        db = desc(kb[name]) if name in kb else "-"
        if da != db:
            rows.append((name, da, db))
    return rows


def compare(only: CompileResult, real: CompileResult) -> tuple[str, int]:
    """The kernel-by-kernel report of two compiles of the same dump; (text, frontends differing)."""
    a, b = only.targets[0].summary, real.targets[0].summary
    lines = [
        f"compile-only {a['target']} ({a.get('device_kind')}) vs on-device "
        f"({b.get('device_kind')}, status {b['status']})"
    ]
    differing = 0
    for fe, ra in (a.get("frontends") or {}).items():
        rb = (b.get("frontends") or {}).get(fe, {})
        if ra.get("status") != "ok" or rb.get("status") != "ok":
            lines.append(f"  {fe}: compile-only {ra.get('status')}, on device {rb.get('status')}")
            differing += 1
            continue
        aa, ab = ra.get("analysis") or {}, rb.get("analysis") or {}
        rows = kernel_rows(ra, rb)
        differing += bool(rows)
        lines.append(
            f"  {fe}: kernels {aa.get('kernels')} vs {ab.get('kernels')}; "
            f"libraries {aa.get('library_calls') or '-'} vs {ab.get('library_calls') or '-'}; "
            f"{'same kernels' if not rows else f'{len(rows)} kernels differ'}"
        )
        for name, da, db in rows[:20]:
            lines.append(f"      {name:40} {da:32} | {db}")
    return "\n".join(lines), differing


def main(argv: list[str]) -> int:
    """Compile DIR compile-only and on the attached GPU; print the comparison."""
    import jax

    dump = Path(argv[0])
    kind = jax.devices()[0].device_kind if jax.devices() else ""
    chip = chip_for(kind) if jax.default_backend() == "gpu" else None
    if chip is None:
        print(f"no GPU of a known model here (device_kind {kind!r}); nothing to compare")
        return 2
    only = compile_for(dump, chip, codegen=False, diffs=False)
    real = compile_for(dump, chip, codegen=False, diffs=False, on_device=True)
    text, differing = compare(only, real)
    print(text)
    print(f"{differing} frontend(s) whose on-device module differs from the compile-only one")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
