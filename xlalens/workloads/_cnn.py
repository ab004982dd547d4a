"""``cnn``: a residual convolutional classifier (ResNet-style basic blocks).

The definition every frontend's builder follows (docs/workloads.md):

    x [N, H, W, C] (NHWC; torch feeds the same values as NCHW)
    stem:   conv 3x3 (C -> width, SAME, no bias) -> batch norm -> ReLU -> max pool 2x2/2
    depth x block: conv 3x3 -> BN -> ReLU -> conv 3x3 -> BN -> + input -> ReLU
    head:   global average pool -> dense (width -> classes, with bias)
    loss:   softmax cross-entropy against one-hot y, mean over the batch
    update: SGD with momentum 0.9 (heavy ball), lr from the workload

Batch norm is in training mode: it normalizes with the batch's mean and biased
variance over (N, H, W), eps 1e-5, and moves its running statistics by 0.1
(Keras ``momentum=0.9`` is torch's ``momentum=0.1``). Running statistics are
state, not parameters: PyTorch updates the running variance with the unbiased
batch variance, Keras and this reference with the biased one, so they are not
compared across frameworks.

``--depth 24 --width 256`` has ResNet-50's 49 convolutions plus the dense head
and about 28M parameters (ResNet-50: 25.6M).

Parameter roles (the layout is the reference's: conv kernels HWIO, dense [in, out]):
``stem.conv.kernel``, ``stem.bn.scale``, ``stem.bn.bias``,
``block{i}.conv{1,2}.kernel``, ``block{i}.bn{1,2}.{scale,bias}``, ``head.kernel``,
``head.bias``; buffers ``<bn>.mean``, ``<bn>.var``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from xlalens.workloads._optim import Optimizer

SEED = 20261201
BN_EPS = 1e-5
BN_MOMENTUM = 0.9  # running <- 0.9 * running + 0.1 * batch statistic
SGD_MOMENTUM = 0.9
FIELDS = ("size", "features", "image", "depth", "width", "classes", "lr")


def batch_norms(w: Any) -> list[str]:
    """Batch-norm names in forward order: ``stem.bn``, ``block0.bn1``, ..."""
    names = ["stem.bn"]
    for i in range(w.depth):
        names += [f"block{i}.bn1", f"block{i}.bn2"]
    return names


def param_shapes(w: Any) -> dict[str, tuple[int, ...]]:
    """Role -> shape of every trainable parameter, in forward order."""
    c, k = w.features, w.width
    shapes: dict[str, tuple[int, ...]] = {
        "stem.conv.kernel": (3, 3, c, k),
        "stem.bn.scale": (k,),
        "stem.bn.bias": (k,),
    }
    for i in range(w.depth):
        for j in (1, 2):
            shapes[f"block{i}.conv{j}.kernel"] = (3, 3, k, k)
            shapes[f"block{i}.bn{j}.scale"] = (k,)
            shapes[f"block{i}.bn{j}.bias"] = (k,)
    shapes["head.kernel"] = (k, w.classes)
    shapes["head.bias"] = (w.classes,)
    return shapes


def init(w: Any) -> dict[str, np.ndarray]:
    """Initial parameters, float32, from a fixed-seed numpy generator (He-normal kernels)."""
    rng = np.random.default_rng(SEED)
    out = {}
    for role, shape in param_shapes(w).items():
        if role.endswith(".kernel"):
            fan_in = int(np.prod(shape[:-1]))
            value = rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)
        elif role.endswith(".scale"):
            value = 1.0 + 0.1 * rng.standard_normal(shape)
        else:  # non-zero biases: a zero bias hides a wrong broadcast
            value = 0.1 * rng.standard_normal(shape)
        out[role] = value.astype(np.float32)
    return out


def buffers(w: Any) -> dict[str, np.ndarray]:
    """Initial batch-norm running statistics: mean 0, variance 1."""
    out = {}
    for bn in batch_norms(w):
        out[f"{bn}.mean"] = np.zeros((w.width,), np.float32)
        out[f"{bn}.var"] = np.ones((w.width,), np.float32)
    return out


def data(w: Any) -> tuple[np.ndarray, np.ndarray]:
    """``x [size, image, image, features]`` (standard normal) and one-hot ``y [size, classes]``."""
    rng = np.random.default_rng(SEED + 1)
    x = rng.standard_normal((w.size, w.image, w.image, w.features)).astype(np.float32)
    y = np.eye(w.classes, dtype=np.float32)[np.arange(w.size) % w.classes]
    return x, y


def optimizer(w: Any) -> Optimizer:
    """SGD with momentum 0.9."""
    return Optimizer("sgd_momentum", w.lr, momentum=SGD_MOMENTUM)


def describe(w: Any) -> str:
    """One line naming what the step computes."""
    return (
        f"cnn: conv3x3 stem + {w.depth} residual blocks (2 conv3x3 + batch norm each), "
        f"width {w.width}, {w.image}x{w.image}x{w.features} NHWC images, batch {w.size}; "
        f"ReLU, max pool 2x2, global average pool, dense head to {w.classes} classes; "
        f"softmax cross-entropy; SGD lr {w.lr:g} momentum {SGD_MOMENTUM:g}"
    )


def forward(params: dict[str, Any], bufs: dict[str, Any], x: Any, depth: int) -> tuple[Any, Any]:
    """The reference forward pass in jax (training mode): ``(logits, new buffers)``.

    Example:
        >>> logits, new_bufs = forward(init(w), buffers(w), data(w)[0], w.depth)  # doctest: +SKIP
    """
    import jax.numpy as jnp
    from jax import lax

    new_bufs = {}

    def conv(h: Any, role: str) -> Any:
        return lax.conv_general_dilated(
            h, params[role], (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
        )

    def bn(h: Any, name: str) -> Any:
        mean = jnp.mean(h, axis=(0, 1, 2))
        var = jnp.mean(jnp.square(h - mean), axis=(0, 1, 2))
        new_bufs[f"{name}.mean"] = BN_MOMENTUM * bufs[f"{name}.mean"] + (1 - BN_MOMENTUM) * mean
        new_bufs[f"{name}.var"] = BN_MOMENTUM * bufs[f"{name}.var"] + (1 - BN_MOMENTUM) * var
        scale = params[f"{name}.scale"] * lax.rsqrt(var + BN_EPS)
        return (h - mean) * scale + params[f"{name}.bias"]

    relu = lambda h: jnp.maximum(h, 0.0)  # noqa: E731
    h = relu(bn(conv(x, "stem.conv.kernel"), "stem.bn"))
    h = lax.reduce_window(h, -jnp.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")
    for i in range(depth):
        r = relu(bn(conv(h, f"block{i}.conv1.kernel"), f"block{i}.bn1"))
        h = relu(bn(conv(r, f"block{i}.conv2.kernel"), f"block{i}.bn2") + h)
    pooled = jnp.mean(h, axis=(1, 2))
    return pooled @ params["head.kernel"] + params["head.bias"], new_bufs


def loss(logits: Any, y: Any) -> Any:
    """Softmax cross-entropy against one-hot ``y``, mean over the batch (jax)."""
    import jax

    return -(y * jax.nn.log_softmax(logits, axis=-1)).sum(axis=-1).mean()
