"""``regression`` (the seed's linear unit) and ``mlp`` (``depth`` tanh layers of ``width``).

Both: MSE loss, plain SGD. Data and the fixed initial values are made here with
numpy only, so every frontend starts from the very same values. The seed's
``x=[[1],[2],[3],[4]], y=2x`` and ``w=0.5, b=0.1`` are kept for the default size.

Parameter roles: ``w``, ``b`` (regression); ``w0``, ``b0``, ``w1``, ... (mlp);
``w`` is ``[in, out]``.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from xlalens.workloads._optim import Optimizer

REGRESSION_FIELDS = ("size", "features", "lr", "init")
MLP_FIELDS = ("size", "features", "depth", "width", "lr")


def layer_sizes(w: Any) -> list[int]:
    """Units per layer boundary: ``[features, 1]`` or ``[features, width*depth..., 1]``."""
    if w.name == "regression":
        return [w.features, 1]
    return [w.features, *([w.width] * w.depth), 1]


def layer_params(w: Any) -> list[tuple[np.ndarray, np.ndarray]]:
    """Initial ``(w [in, out], b [out])`` per layer, float32."""
    out = []
    for layer, (fan_in, fan_out) in enumerate(itertools.pairwise(layer_sizes(w))):
        if w.name == "regression":
            wv = np.full((fan_in, fan_out), w.init["w"], np.float32)
            bv = np.full((fan_out,), w.init["b"], np.float32)
        else:
            # A fixed, non-symmetric pattern (a symmetric init would make
            # hidden units identical and hide wrong-transpose bugs).
            k = np.arange(fan_in * fan_out, dtype=np.float64) + 7 * layer
            wv = (np.sin(k) / np.sqrt(fan_in)).reshape(fan_in, fan_out).astype(np.float32)
            bv = (0.01 * np.cos(np.arange(fan_out) + layer)).astype(np.float32)
        out.append((wv, bv))
    return out


def layer_roles(w: Any) -> list[tuple[str, str]]:
    """Role names per layer: ``[("w", "b")]`` or ``[("w0", "b0"), ...]``."""
    if w.name == "regression":
        return [("w", "b")]
    return [(f"w{i}", f"b{i}") for i in range(len(layer_sizes(w)) - 1)]


def init(w: Any) -> dict[str, np.ndarray]:
    """Role -> initial value, in layer order."""
    out = {}
    for (rw, rb), (wv, bv) in zip(layer_roles(w), layer_params(w)):
        out[rw], out[rb] = wv, bv
    return out


def buffers(w: Any) -> dict[str, np.ndarray]:
    """No running state."""
    return {}


def data(w: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)`` as float32 ``[size, features]`` and ``[size, 1]``.

    For the default size and features this is exactly the seed's
    ``x=[[1],[2],[3],[4]], y=2x``; larger sizes spread x over [1, 4] so the
    values stay in the same range and the loss stays well-conditioned.
    """
    n, f = w.size, w.features
    flat = np.arange(1, 5, dtype=np.float64) if n * f == 4 else np.linspace(1.0, 4.0, n * f)
    x = flat.reshape(n, f).astype(np.float32)
    y = (2.0 * x.sum(axis=1, keepdims=True) / f).astype(np.float32)
    return x, y


def optimizer(w: Any) -> Optimizer:
    """Plain SGD."""
    return Optimizer("sgd", w.lr)


def describe(w: Any) -> str:
    """One line naming what the step computes."""
    if w.name == "regression":
        return (
            f"regression: one linear unit over {w.features} feature(s), batch {w.size}, "
            f"init w={w.init['w']} b={w.init['b']}; MSE; SGD lr {w.lr:g}"
        )
    return (
        f"mlp: {w.depth} tanh layers of {w.width} units over {w.features} feature(s), "
        f"linear output, batch {w.size}; MSE; SGD lr {w.lr:g}"
    )


def forward(params: dict[str, Any], x: Any, w: Any) -> Any:
    """The reference forward pass in jax: ``x @ w + b`` per layer, tanh between layers."""
    import jax.numpy as jnp

    roles = layer_roles(w)
    h = x
    for i, (rw, rb) in enumerate(roles):
        h = h @ params[rw] + params[rb]
        if i < len(roles) - 1:
            h = jnp.tanh(h)
    return h


def loss(pred: Any, y: Any) -> Any:
    """Mean squared error (jax)."""
    import jax.numpy as jnp

    return jnp.mean((pred - y) ** 2)
