"""The sharded-step request: devices, mesh, axis names and strategy, checked once in the lead.

NOTE: [devices reach only the child] host devices are forced with an
environment variable that a process reads once (jax's
``--xla_force_host_platform_device_count``, torch_xla's ``CPU_NUM_DEVICES``).
The lead process never sets it for itself: :func:`frontend_env` gives the
variables for one frontend subprocess.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

from xlalens._errors import UsageError

STRATEGIES = ("dp", "tp", "fsdp", "dp+tp")
MAX_DEVICES = 64
"""Most forced host devices we allow (each is a thread pool of the one CPU)."""

# Which axis names each strategy shards over (docs/sharding.md).
_NEEDS = {"dp": ("data",), "fsdp": ("data",), "tp": ("model",), "dp+tp": ("data", "model")}

SPMD_FRONTENDS = ("jax", "torch_xla", "keras-jax", "torchax")
"""Frontends whose sharded capture is built, for every workload; the others are skipped
with a reason."""

SKIP_REASONS = {
    "tensorflow": "TensorFlow's multi-device path (DTensor) is not XLA SPMD",
    "keras-tensorflow": "Keras on TensorFlow distributes through DTensor, which is not XLA SPMD",
}


@dataclass(frozen=True, slots=True)
class MeshSpec:
    """A validated ``--devices/--mesh/--axes/--sharding`` request."""

    devices: int
    """Number of devices (forced host devices on CPU)."""
    shape: tuple[int, ...]
    """Mesh shape; its product is ``devices``."""
    axes: tuple[str, ...]
    """One name per mesh dimension."""
    strategy: str
    """One of :data:`STRATEGIES`."""

    def axis_size(self, name: str) -> int:
        """Size of the named axis (1 when the mesh has no such axis)."""
        return self.shape[self.axes.index(name)] if name in self.axes else 1

    def to_json(self) -> dict[str, Any]:
        """Plain data (request, manifest)."""
        return {
            "devices": self.devices,
            "mesh": list(self.shape),
            "axes": list(self.axes),
            "strategy": self.strategy,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MeshSpec:
        """Inverse of :meth:`to_json`."""
        return cls(data["devices"], tuple(data["mesh"]), tuple(data["axes"]), data["strategy"])


def parse_mesh(
    devices: int | None,
    mesh: str | None = None,
    axes: str | None = None,
    strategy: str | None = None,
    *,
    batch: int | None = None,
) -> MeshSpec | None:
    """Check the sharding flags of ``xlalens dump``; None for a 1-device capture.

    Args:
        devices: ``--devices`` (None or 1: no sharding).
        mesh: ``--mesh`` such as ``4x2`` (default: one axis of all devices).
        axes: ``--axes`` such as ``data,model`` (default: ``data,model`` for two
            axes; ``data``, or ``model`` for tp, for one).
        strategy: ``--sharding`` (default ``dp``).
        batch: the workload's batch, which the data axis must divide.

    Returns:
        A :class:`MeshSpec`, or None when ``devices`` is None or 1 and no other flag is set.

    Raises:
        UsageError: one line naming the flag, what was wrong and what to do.

    Example:
        >>> parse_mesh(8, "4x2", None, "dp+tp").axes
        ('data', 'model')
    """
    if devices is None or devices == 1:
        given = [f for f, v in (("--mesh", mesh), ("--axes", axes), ("--sharding", strategy)) if v]
        if given and devices is None:
            raise UsageError(f"{given[0]} needs --devices N (N > 1); e.g. --devices 8 --mesh 4x2")
        if not given:
            return None
    assert devices is not None  # None returned or raised above; narrows the type for mypy
    if devices < 1:
        raise UsageError(f"--devices must be a positive integer, got {devices}")
    if devices > MAX_DEVICES:
        raise UsageError(
            f"--devices {devices} is more than the {MAX_DEVICES} host devices allowed; "
            f"choose at most {MAX_DEVICES}"
        )
    strategy = strategy or "dp"
    if strategy not in STRATEGIES:
        raise UsageError(
            f"--sharding {strategy!r} is unknown; choose one of {', '.join(STRATEGIES)}"
        )
    if mesh:
        try:
            shape = tuple(int(p) for p in mesh.lower().split("x"))
        except ValueError:
            raise UsageError(
                f"--mesh {mesh!r} is not sizes joined by x; write e.g. 4x2 or 8"
            ) from None
        if not shape or any(s < 1 for s in shape):
            raise UsageError(f"--mesh {mesh!r} has a size below 1; write e.g. 4x2 or 8")
    else:
        shape = (devices,)
    if math.prod(shape) != devices:
        raise UsageError(
            f"--mesh {mesh} has {math.prod(shape)} devices, not the {devices} of --devices; "
            "choose a mesh whose sizes multiply to the device count"
        )
    if axes:
        names = tuple(a.strip() for a in axes.split(","))
    elif len(shape) == 2:
        names = ("data", "model")
    elif len(shape) == 1:
        names = ("model",) if strategy == "tp" else ("data",)
    else:
        names = tuple(f"axis{i}" for i in range(len(shape)))
    if len(names) != len(shape) or not all(names) or len(set(names)) != len(names):
        raise UsageError(
            f"--axes {axes!r} must give {len(shape)} distinct names, one per --mesh dimension"
        )
    for need in _NEEDS[strategy]:
        if need not in names:
            raise UsageError(
                f"--sharding {strategy} shards over an axis named {need!r}, which --axes "
                f"{','.join(names)} does not have; name one mesh axis {need!r}"
            )
    unknown = [n for n in names if n not in ("data", "model")]
    if unknown:
        raise UsageError(
            f"--axes: unknown axis name {unknown[0]!r}; the strategies use 'data' and 'model'"
        )
    spec = MeshSpec(devices, shape, names, strategy)
    data = spec.axis_size("data") if strategy in ("dp", "fsdp", "dp+tp") else 1
    if batch is not None and batch % data:
        raise UsageError(
            f"--size {batch} is not divisible by the data axis ({data} devices); "
            f"choose a batch that is a multiple of {data}"
        )
    return spec


def frontend_env(frontend: str, spec: MeshSpec) -> dict[str, str]:
    """Environment of one frontend subprocess that gives it ``spec.devices`` host devices.

    Example:
        >>> frontend_env("jax", parse_mesh(4))["XLA_FLAGS"]  # doctest: +SKIP
        '--xla_force_host_platform_device_count=4'
    """
    flag = f"--xla_force_host_platform_device_count={spec.devices}"
    flags = os.environ.get("XLA_FLAGS", "")
    env = {"XLA_FLAGS": f"{flags} {flag}".strip()}
    if frontend == "torch_xla":
        env["CPU_NUM_DEVICES"] = str(spec.devices)
    return env


def skip_reason(frontend: str, workload: str = "mlp") -> str | None:
    """Why ``frontend`` has no sharded capture of ``workload``, or None when it has one."""
    if frontend in SPMD_FRONTENDS:
        return None
    return SKIP_REASONS.get(frontend, f"{frontend} has no sharded capture")
