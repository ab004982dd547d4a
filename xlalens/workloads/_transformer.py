"""``transformer``: a stack of post-LN (BERT-style) encoder blocks with a classifier head.

The definition every frontend's builder follows (docs/workloads.md):

    x [N, S, F] (tokens already as feature vectors)
    embed:  dense F -> width (with bias)
    depth x block (post-LN, as BERT):
        a = multi-head self-attention(h): q, k, v, o projections width -> width without
            bias, `heads` heads, scores q k^T / sqrt(width / heads), softmax over keys,
            no mask, no dropout
        h = layer_norm(h + a)                       eps 1e-5, biased variance
        m = dense(gelu_tanh(dense(h, 4 width)), width)   GELU, tanh approximation
        h = layer_norm(h + m)
    head:   mean over S -> dense (width -> classes, with bias)
    loss:   softmax cross-entropy against one-hot y, mean over the batch
    update: AdamW, betas (0.9, 0.999), eps 1e-8, weight decay 0.01 on every parameter

NOTE: [no attention biases] In exact arithmetic the key projection's bias gets a
zero gradient (softmax ignores a per-query constant), so its float gradient is
rounding noise, which Adam's first step turns into +-lr with a random sign per
framework. torch's ``nn.MultiheadAttention`` and Keras's ``MultiHeadAttention``
have one switch for every projection bias, so the projections have none.

``--depth 12 --width 768 --heads 12 --seq 128`` is BERT-base's encoder (85M
parameters in the blocks).

Parameter roles (dense kernels [in, out]; head h of q/k/v/o is columns (rows for o)
``h*width/heads ...``): ``embed.kernel``, ``embed.bias``,
``layer{i}.attn.{query,key,value,output}``, ``layer{i}.ln{1,2}.{scale,bias}``,
``layer{i}.mlp.{fc1,fc2}.{kernel,bias}``, ``head.kernel``, ``head.bias``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from xlalens.workloads._optim import Optimizer

SEED = 20261202
LN_EPS = 1e-5
MLP_RATIO = 4
ADAM = {"b1": 0.9, "b2": 0.999, "eps": 1e-8, "weight_decay": 0.01}
FIELDS = ("size", "seq", "features", "depth", "width", "heads", "classes", "lr")
ATTN = ("query", "key", "value", "output")


def param_shapes(w: Any) -> dict[str, tuple[int, ...]]:
    """Role -> shape of every trainable parameter, in forward order."""
    d, f = w.width, w.width * MLP_RATIO
    shapes: dict[str, tuple[int, ...]] = {"embed.kernel": (w.features, d), "embed.bias": (d,)}
    for i in range(w.depth):
        p = f"layer{i}"
        for a in ATTN:
            shapes[f"{p}.attn.{a}"] = (d, d)
        shapes[f"{p}.ln1.scale"], shapes[f"{p}.ln1.bias"] = (d,), (d,)
        shapes[f"{p}.mlp.fc1.kernel"], shapes[f"{p}.mlp.fc1.bias"] = (d, f), (f,)
        shapes[f"{p}.mlp.fc2.kernel"], shapes[f"{p}.mlp.fc2.bias"] = (f, d), (d,)
        shapes[f"{p}.ln2.scale"], shapes[f"{p}.ln2.bias"] = (d,), (d,)
    shapes["head.kernel"] = (d, w.classes)
    shapes["head.bias"] = (w.classes,)
    return shapes


def init(w: Any) -> dict[str, np.ndarray]:
    """Initial parameters, float32, from a fixed-seed numpy generator (Glorot-normal kernels)."""
    rng = np.random.default_rng(SEED)
    out = {}
    for role, shape in param_shapes(w).items():
        if len(shape) == 2:
            value = rng.standard_normal(shape) * np.sqrt(2.0 / (shape[0] + shape[1]))
        elif role.endswith(".scale"):
            value = 1.0 + 0.1 * rng.standard_normal(shape)
        else:
            value = 0.1 * rng.standard_normal(shape)
        out[role] = value.astype(np.float32)
    return out


def buffers(w: Any) -> dict[str, np.ndarray]:
    """No running state."""
    return {}


def data(w: Any) -> tuple[np.ndarray, np.ndarray]:
    """``x [size, seq, features]`` (standard normal) and one-hot ``y [size, classes]``."""
    rng = np.random.default_rng(SEED + 1)
    x = rng.standard_normal((w.size, w.seq, w.features)).astype(np.float32)
    y = np.eye(w.classes, dtype=np.float32)[np.arange(w.size) % w.classes]
    return x, y


def optimizer(w: Any) -> Optimizer:
    """AdamW with explicit betas, eps and weight decay."""
    return Optimizer("adamw", w.lr, **ADAM)


def describe(w: Any) -> str:
    """One line naming what the step computes."""
    return (
        f"transformer: dense embedding {w.features} -> {w.width} + {w.depth} post-LN encoder "
        f"blocks ({w.heads}-head self-attention, GELU-tanh MLP {w.width * MLP_RATIO}), "
        f"sequence {w.seq}, batch {w.size}; mean pool, dense head to {w.classes} classes; "
        f"softmax cross-entropy; AdamW lr {w.lr:g} weight decay {ADAM['weight_decay']:g}"
    )


def forward(params: dict[str, Any], x: Any, depth: int, heads: int) -> Any:
    """The reference forward pass in jax: logits ``[N, classes]``.

    Example:
        >>> logits = forward(init(w), data(w)[0], w.depth, w.heads)  # doctest: +SKIP
    """
    import jax
    import jax.numpy as jnp

    def layer_norm(h: Any, name: str) -> Any:
        mean = jnp.mean(h, axis=-1, keepdims=True)
        var = jnp.mean(jnp.square(h - mean), axis=-1, keepdims=True)
        normed = (h - mean) * jax.lax.rsqrt(var + LN_EPS)
        return normed * params[f"{name}.scale"] + params[f"{name}.bias"]

    n, s, _ = x.shape
    h = x @ params["embed.kernel"] + params["embed.bias"]
    d = h.shape[-1]
    hd = d // heads
    for i in range(depth):
        p = f"layer{i}.attn"

        def split(t: Any) -> Any:
            return t.reshape(n, s, heads, hd)

        q = split(h @ params[f"{p}.query"]) / math.sqrt(hd)
        k = split(h @ params[f"{p}.key"])
        v = split(h @ params[f"{p}.value"])
        probs = jax.nn.softmax(jnp.einsum("nqhd,nkhd->nhqk", q, k), axis=-1)
        ctx = jnp.einsum("nhqk,nkhd->nqhd", probs, v).reshape(n, s, d)
        h = layer_norm(h + ctx @ params[f"{p}.output"], f"layer{i}.ln1")
        m = f"layer{i}.mlp"
        u = jax.nn.gelu(h @ params[f"{m}.fc1.kernel"] + params[f"{m}.fc1.bias"], approximate=True)
        h = layer_norm(h + u @ params[f"{m}.fc2.kernel"] + params[f"{m}.fc2.bias"], f"layer{i}.ln2")
    pooled = jnp.mean(h, axis=1)
    return pooled @ params["head.kernel"] + params["head.bias"]


def loss(logits: Any, y: Any) -> Any:
    """Softmax cross-entropy against one-hot ``y``, mean over the batch (jax)."""
    import jax

    return -(y * jax.nn.log_softmax(logits, axis=-1)).sum(axis=-1).mean()
