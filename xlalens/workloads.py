"""The built-in workloads: the seed's linear regression and a configurable MLP.

Data and the shared, fixed initial parameters are made here with numpy only, so
every frontend (each in its own process, each framework) starts from the very
same values and must compute the very same update. Random initializers are
replaced on purpose: the cross-framework check compares updated parameters.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass, field

import numpy as np

from xlalens._errors import UsageError

WORKLOADS = ("regression", "mlp")


@dataclass(frozen=True, slots=True)
class Workload:
    """What one training step computes, framework-independent."""

    name: str = "regression"
    """``regression`` (the seed's linear unit) or ``mlp``."""
    size: int = 4
    """Number of samples (the seed uses 4)."""
    features: int = 1
    """Input features (the seed uses 1)."""
    depth: int = 2
    """``mlp`` only: hidden layers."""
    width: int = 16
    """``mlp`` only: units per hidden layer."""
    lr: float = 0.01
    """SGD learning rate (the seed's 0.01, Keras's SGD default too)."""
    init: dict = field(default_factory=lambda: {"w": 0.5, "b": 0.1})
    """Regression initial parameter values, shared by every frontend."""

    def __post_init__(self) -> None:
        if self.name not in WORKLOADS:
            raise UsageError(
                f"unknown workload {self.name!r}; choose one of {', '.join(WORKLOADS)}"
            )
        for name in ("size", "features", "depth", "width"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise UsageError(f"--{name} must be a positive integer, got {value!r}")
        if not self.lr > 0:
            raise UsageError(f"learning rate must be positive, got {self.lr!r}")

    def to_json(self) -> dict:
        """Plain-data form (manifest, subprocess request)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Workload:
        """Inverse of :meth:`to_json`."""
        return cls(**data)

    def data(self) -> tuple[np.ndarray, np.ndarray]:
        """``(x, y)`` as float32 ``[size, features]`` and ``[size, 1]``.

        For the default size and features this is exactly the seed's
        ``x=[[1],[2],[3],[4]], y=2x``; larger sizes spread x over [1, 4] so the
        values stay in the same range and the loss stays well-conditioned.
        """
        n, f = self.size, self.features
        if n * f == 4:
            flat = np.arange(1, 5, dtype=np.float64)
        else:
            flat = np.linspace(1.0, 4.0, n * f)
        x = flat.reshape(n, f).astype(np.float32)
        y = (2.0 * x.sum(axis=1, keepdims=True) / f).astype(np.float32)
        return x, y

    def layer_sizes(self) -> list[int]:
        """Units per layer boundary: ``[features, 1]`` or ``[features, width*depth..., 1]``."""
        if self.name == "regression":
            return [self.features, 1]
        return [self.features, *([self.width] * self.depth), 1]

    def params(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Initial ``(w [in, out], b [out])`` per layer, float32, identical everywhere."""
        sizes = self.layer_sizes()
        out = []
        for layer, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes)):
            if self.name == "regression":
                w = np.full((fan_in, fan_out), self.init["w"], np.float32)
                b = np.full((fan_out,), self.init["b"], np.float32)
            else:
                # A fixed, non-symmetric pattern (a symmetric init would make
                # hidden units identical and hide wrong-transpose bugs).
                k = np.arange(fan_in * fan_out, dtype=np.float64) + 7 * layer
                w = (np.sin(k) / np.sqrt(fan_in)).reshape(fan_in, fan_out).astype(np.float32)
                b = (0.01 * np.cos(np.arange(fan_out) + layer)).astype(np.float32)
            out.append((w, b))
        return out

    def param_roles(self) -> list[tuple[str, str]]:
        """Role names per layer: ``[("w", "b")]`` or ``[("w0", "b0"), ...]``."""
        if self.name == "regression":
            return [("w", "b")]
        return [(f"w{i}", f"b{i}") for i in range(len(self.layer_sizes()) - 1)]

    @property
    def activation(self) -> str:
        """Hidden-layer activation of ``mlp`` (tanh: smooth, so frameworks agree)."""
        return "tanh"
