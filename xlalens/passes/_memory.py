"""XLA's buffer-assignment and live-range reports: peak memory and what is live then.

NOTE: [which peak] ``compiled.memory_analysis().peak_memory_in_bytes`` on the
CPU backend (jaxlib 0.10.2) equals the sum of every allocation of the buffer
assignment except the thread-local ones and the preallocated temp buffer:
parameters, outputs (``maybe-live-out``) and constants. Checked on four jax
MLPs (2.5 KiB to 4 MiB) and asserted by tests/frontends/test_passes.py. The
temp buffer (the arena XLA carves the step's temporaries from) is reported
beside it as ``temp_bytes``; ``total_bytes`` is what the memory-usage report
calls "Total bytes". The buffers live at the peak come from the live-range
report (``Live ranges at N (peak)``) plus every parameter and output whose
range spans N.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_ALLOC = re.compile(r"^allocation (\d+): size (\d+)(.*):\s*$")
_VALUE = re.compile(
    r"^\s*value: <(\d+) (\S+?)(\{[^}]*\})? @(\d+)> \(size=(\d+),offset=(\d+)\): (.*)$"
)
_RANGE = re.compile(r"^\s+(\S+?)(\{[^}]*\})?:(\d+)-(\d+)\s*$")
_PEAK = re.compile(r"^\s+Live ranges at (\d+) \(peak\):")
_TOTAL = re.compile(r"^Total bytes(?: used)?: (\d+)")


@dataclass(frozen=True, slots=True)
class Buffer:
    """One HLO value's buffer."""

    value: str
    """The HLO value: the defining instruction's name with its tuple index, ``dot{}``."""
    instruction: str
    """The defining instruction's name."""
    size: int
    """Bytes."""
    shape: str
    """Its type, ``f32[16,16]{1,0}``."""
    allocation: int
    """The allocation index that holds it."""
    kind: str
    """``parameter``, ``output``, ``temp``, ``thread-local`` or ``constant``."""
    source: str
    """``file:line`` of the defining instruction, or ``""``."""


@dataclass(frozen=True, slots=True)
class MemoryReport:
    """One module's memory: XLA's peak and the buffers live at it."""

    peak_bytes: int
    """Peak as ``compiled.memory_analysis().peak_memory_in_bytes`` (see the NOTE)."""
    parameter_bytes: int
    """Allocations of entry parameters."""
    output_bytes: int
    """Allocations that may be live out (outputs)."""
    temp_bytes: int
    """The preallocated temp buffer (temporaries of the step)."""
    total_bytes: int
    """All allocations (the memory-usage report's total)."""
    peak_index: int | None
    """Position in the schedule where the live set is largest (live-range report)."""
    live_at_peak: tuple[Buffer, ...]
    """Buffers live at the peak, largest first."""

    def to_json(self) -> dict[str, Any]:
        """Plain data."""
        return {
            **{k: getattr(self, k) for k in MemoryReport.__slots__ if k != "live_at_peak"},
            "live_at_peak": [
                {k: getattr(b, k) for k in Buffer.__slots__} for b in self.live_at_peak
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MemoryReport:
        """Inverse of :meth:`to_json`."""
        return cls(**{**data, "live_at_peak": tuple(Buffer(**b) for b in data["live_at_peak"])})


def _kind(attrs: str) -> str:
    if "thread-local" in attrs:
        return "thread-local"
    if "preallocated-temp" in attrs:
        return "temp"
    if "parameter" in attrs:
        return "parameter"
    if "live-out" in attrs or "output" in attrs:
        return "output"
    if "constant" in attrs:
        return "constant"
    return "temp-value"


def read_memory(
    buffer_assignment: Path,
    live_range: Path | None = None,
    sources: dict[str, str] | None = None,
    *,
    top: int = 10,
) -> MemoryReport:
    """Parse a buffer-assignment report (and its live-range report) into a :class:`MemoryReport`.

    Args:
        buffer_assignment: ``*-buffer-assignment.txt``.
        live_range: ``*-live-range.txt`` (default: next to it, when present).
        sources: instruction name -> ``file:line`` (from the optimized module).
        top: how many live buffers to keep.

    Returns:
        The report.

    Raises:
        ValueError: the file holds no allocation (not a buffer-assignment report).

    Example:
        >>> read_memory(Path("module_0000.jit_f.cpu_after_optimizations-buffer-assignment.txt")).peak_bytes  # doctest: +SKIP
        2716
    """
    sources = sources or {}
    text = buffer_assignment.read_text(errors="replace")
    allocs: dict[int, tuple[int, str]] = {}
    values: dict[str, Buffer] = {}
    current: int | None = None
    for line in text.splitlines():
        if m := _ALLOC.match(line):
            current = int(m[1])
            allocs[current] = (int(m[2]), _kind(m[3]))
            continue
        if current is not None and (m := _VALUE.match(line)):
            name, index = m[2], m[3] or "{}"
            kind = allocs[current][1]
            values.setdefault(
                f"{name}{index}",
                Buffer(f"{name}{index}", name, int(m[5]), m[7].strip(), current, kind,
                       sources.get(name, "")),
            )  # fmt: skip
        elif line and not line.startswith(" "):
            current = None  # the allocation list has ended
    if not allocs:
        raise ValueError(f"{buffer_assignment}: no allocations; is it a buffer-assignment report?")
    by_kind: dict[str, int] = {}
    for size, kind in allocs.values():
        by_kind[kind] = by_kind.get(kind, 0) + size
    peak = sum(s for s, k in allocs.values() if k not in ("thread-local", "temp"))
    if live_range is None:
        guess = Path(str(buffer_assignment).replace("-buffer-assignment.txt", "-live-range.txt"))
        live_range = guess if guess.is_file() else None
    peak_index, live = _live_at_peak(text, live_range)
    buffers = sorted((values[v] for v in live if v in values), key=lambda b: (-b.size, b.value))
    return MemoryReport(
        peak_bytes=peak,
        parameter_bytes=by_kind.get("parameter", 0),
        output_bytes=by_kind.get("output", 0),
        temp_bytes=by_kind.get("temp", 0),
        total_bytes=sum(s for s, _ in allocs.values()),
        peak_index=peak_index,
        live_at_peak=tuple(buffers[:top]),
    )


def _live_at_peak(text: str, live_range: Path | None) -> tuple[int | None, list[str]]:
    # The live-range report is printed into the buffer-assignment report too on
    # some versions; read whichever has it.
    body = (
        text
        if "(peak):" in text
        else (live_range.read_text(errors="replace") if live_range else "")
    )
    ranges: dict[str, tuple[int, int]] = {}
    peak: int | None = None
    in_ranges = False
    for line in body.splitlines():
        if "BufferLiveRange:" in line:
            in_ranges = True
            continue
        if m := _PEAK.match(line):
            peak = int(m[1])
            in_ranges = False
            continue
        if in_ranges and (m := _RANGE.match(line)):
            ranges[f"{m[1]}{m[2] or '{}'}"] = (int(m[3]), int(m[4]))
        elif in_ranges and line.strip() and not line.startswith("    "):
            in_ranges = False
    if peak is None:
        return None, []
    return peak, [v for v, (a, b) in ranges.items() if a <= peak <= b]


def format_bytes(n: int | None) -> str:
    """``1536`` -> ``"1.5 KiB"``."""
    if n is None:
        return "-"
    x = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if x < 1024 or unit == "GiB":
            return f"{int(x)} B" if unit == "B" else f"{x:.1f} {unit}"
        x /= 1024
    return f"{n} B"
