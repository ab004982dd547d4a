"""The machine's peaks, measured in the same run: memory bandwidth and FLOP/s through jax.

NOTE: [what "peak" means here]
The bound a kernel is compared with is what *this backend through jax* reaches
on the simplest kernels, not a datasheet number: a STREAM "scale" kernel
(``a = 2 * a``, read n + write n elements, larger than the last-level cache,
the buffer donated so the kernel writes in place) for bandwidth, and a large square f32 matmul at jax's default precision for
FLOP/s. Like STREAM we keep the best of several repeats: noise only ever makes
a run slower.

We also time the same kernel writing a fresh buffer each call
(``fresh_bytes_per_s``): on the CPU a fresh 64 MiB output is page-faulted on
first touch, which costs more than the copy itself (3 GB/s against 50 GB/s
in place, measured here). A step far below ``bytes_per_s`` but near
``fresh_bytes_per_s`` is paying for allocation, not for arithmetic.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

# Sizes per backend: the copy is far larger than any cache; the matmul long enough
# (tens of ms on this 2-core CPU, a few ms on an H100) to swamp dispatch overhead.
_COPY_ELEMENTS = {"cpu": 1 << 24, "gpu": 1 << 28, "tpu": 1 << 28}
_MATMUL_N = {"cpu": 1024, "gpu": 8192, "tpu": 8192}


@dataclass(frozen=True, slots=True)
class Peaks:
    """Measured peaks of one backend."""

    bytes_per_s: float
    """Best STREAM-scale bandwidth, bytes read + written per second."""
    flops_per_s: float
    """Best f32 matmul rate, 2*n^3 / seconds."""
    copy_bytes: int
    """Bytes moved by one copy kernel (read + write)."""
    matmul_n: int
    """Side of the square matmul."""
    fresh_bytes_per_s: float
    """The same copy writing a newly allocated buffer each call (first-touch cost included)."""
    repeats: int
    """Timed repeats of each kernel (the best one is kept)."""
    seconds: float
    """Wall seconds the measurement took."""

    def as_dict(self) -> dict[str, float | int]:
        """Plain dict for the JSON edge."""
        return {f: getattr(self, f) for f in self.__slots__}


def roofline_bound_s(
    nbytes: float | None, flops: float | None, peaks: Peaks
) -> tuple[float | None, str | None]:
    """The roofline's lower bound on a kernel's time, and which resource sets it.

    Args:
        nbytes: bytes the kernel moves (None if unknown).
        flops: FLOPs it performs (None if unknown).
        peaks: the measured peaks.

    Returns:
        ``(seconds, "memory" | "compute")``, or ``(None, None)`` when neither cost is known.

    Example:
        >>> p = Peaks(1e10, 1e11, 0, 0, 1e9, 0, 0.0)
        >>> roofline_bound_s(1e8, 1e8, p)
        (0.01, 'memory')
    """
    t_mem = nbytes / peaks.bytes_per_s if nbytes and peaks.bytes_per_s > 0 else None
    t_fl = flops / peaks.flops_per_s if flops and peaks.flops_per_s > 0 else None
    if t_mem is None and t_fl is None:
        return None, None
    if t_fl is None or (t_mem is not None and t_mem >= t_fl):
        return t_mem, "memory"
    return t_fl, "compute"


def _best(fn: Any, arg: Any, repeats: int, *, chain: bool = False) -> float:
    """Best seconds of ``fn(arg)``; with ``chain`` the result feeds the next call (donation)."""
    import jax

    arg = out = jax.block_until_ready(fn(arg))  # compile + first touch
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = jax.block_until_ready(fn(arg))
        best = min(best, time.perf_counter() - t0)
        if chain:
            arg = out
    return best


def measure_peaks(backend: str = "cpu", *, repeats: int = 5, scale: float = 1.0) -> Peaks:
    """Measure memory bandwidth and FLOP/s of ``backend`` through jax.

    Args:
        backend: ``cpu``, ``gpu`` or ``tpu`` (must be present).
        repeats: timed repeats per kernel; the best is kept.
        scale: multiply the default problem sizes (tests use a small one).

    Returns:
        The :class:`Peaks`.

    Example:
        >>> measure_peaks("cpu").bytes_per_s > 0  # doctest: +SKIP
        True
    """
    import jax
    import jax.numpy as jnp

    from xlalens._runtime import get_backend

    t_start = time.perf_counter()
    device = get_backend(backend).local_devices()[0]
    n_copy = max(1024, int(_COPY_ELEMENTS.get(backend, 1 << 24) * scale))
    # Scaling by 1.0 would be folded away; 1.0001 stays finite for far more calls than we make.
    a = jax.device_put(np.ones(n_copy, np.float32), device)
    t_fresh = _best(jax.jit(lambda v: v * np.float32(1.0001)), a, repeats)
    t_copy = _best(
        jax.jit(lambda v: v * np.float32(1.0001), donate_argnums=0), a, repeats, chain=True
    )
    n = max(64, int(_MATMUL_N.get(backend, 1024) * scale ** (1 / 3)))
    m = jax.device_put(np.full((n, n), 0.5, np.float32), device)
    t_mm = _best(jax.jit(lambda v: jnp.dot(v, v)), m, repeats)
    return Peaks(
        bytes_per_s=2 * 4 * n_copy / t_copy,
        flops_per_s=2.0 * n**3 / t_mm,
        copy_bytes=2 * 4 * n_copy,
        fresh_bytes_per_s=2 * 4 * n_copy / t_fresh,
        matmul_n=n,
        repeats=repeats,
        seconds=time.perf_counter() - t_start,
    )
