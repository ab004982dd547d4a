"""A scanned, rematerialized LLM-style training step in plain JAX (the MaxText way of stacking layers).

A decoder-only transformer (token embedding, pre-RMSNorm causal attention with
rotary positions, SwiGLU MLP, tied output head) whose per-layer weights are
stacked on a leading axis and run with ``jax.lax.scan`` over
``jax.checkpoint``-ed layers; optax AdamW with global-norm clipping. Random
init from :data:`CONFIG`; nothing is downloaded.

``make_step`` is the scanned step; ``make_unrolled_step`` runs the very same
layers in a Python loop (its unrolled twin: the same FLOPs, no ``while``).

    xlalens dump --frameworks jax --target examples/zoo/jax_scan_llm.py:make_step -o scan
    xlalens dump --frameworks jax --target examples/zoo/jax_scan_llm.py:make_unrolled_step -o unrolled
"""

from __future__ import annotations

from typing import Any

FRONTENDS = ("jax",)
FACTORY = "make_step"
TWIN = "make_unrolled_step"
REQUIRES = ("jax", "optax")

CONFIG: dict[str, int] = {
    "vocab": 512,
    "d_model": 128,
    "heads": 4,
    "d_ff": 384,
    "layers": 6,
    "seq": 64,
    "batch": 4,
}


def init_params(key: Any, cfg: dict[str, int]) -> dict[str, Any]:
    """Random weights: ``embed`` and ``final_norm``, and ``layers`` stacked on axis 0."""
    import jax
    import jax.numpy as jnp

    d, f, n = cfg["d_model"], cfg["d_ff"], cfg["layers"]
    k = jax.random.split(key, 8)

    def dense(key: Any, shape: tuple[int, ...]) -> Any:
        return jax.random.normal(key, shape, jnp.float32) * (shape[-2] ** -0.5)

    return {
        "embed": jax.random.normal(k[0], (cfg["vocab"], d), jnp.float32) * 0.02,
        "final_norm": jnp.ones((d,), jnp.float32),
        "layers": {
            "attn_norm": jnp.ones((n, d), jnp.float32),
            "wqkv": dense(k[1], (n, d, 3 * d)),
            "wo": dense(k[2], (n, d, d)),
            "mlp_norm": jnp.ones((n, d), jnp.float32),
            "w_gate": dense(k[3], (n, d, f)),
            "w_up": dense(k[4], (n, d, f)),
            "w_down": dense(k[5], (n, f, d)),
        },
    }


def rms_norm(x: Any, scale: Any) -> Any:
    """RMSNorm over the last axis."""
    import jax
    import jax.numpy as jnp

    return x * jax.lax.rsqrt(jnp.mean(x * x, axis=-1, keepdims=True) + 1e-6) * scale


def rotary(x: Any) -> Any:
    """Rotary position embedding on ``[batch, seq, heads, head_dim]``."""
    import jax.numpy as jnp

    _, s, _, hd = x.shape
    inv = 1.0 / (10000.0 ** (jnp.arange(0, hd, 2, dtype=jnp.float32) / hd))
    ang = jnp.arange(s, dtype=jnp.float32)[:, None] * inv[None, :]
    cos, sin = jnp.cos(ang)[None, :, None, :], jnp.sin(ang)[None, :, None, :]
    x1, x2 = x[..., ::2], x[..., 1::2]
    return jnp.concatenate([x1 * cos - x2 * sin, x1 * sin + x2 * cos], axis=-1)


def decoder_layer(x: Any, p: dict[str, Any], heads: int) -> Any:
    """One pre-norm decoder layer: causal self-attention, then a SwiGLU MLP."""
    import jax
    import jax.numpy as jnp

    b, s, d = x.shape
    hd = d // heads
    h = rms_norm(x, p["attn_norm"])
    q, k, v = jnp.split(h @ p["wqkv"], 3, axis=-1)
    q, k = rotary(q.reshape(b, s, heads, hd)), rotary(k.reshape(b, s, heads, hd))
    v = v.reshape(b, s, heads, hd)
    scores = jnp.einsum("bqhd,bkhd->bhqk", q, k) / jnp.sqrt(float(hd))
    causal = jnp.tril(jnp.ones((s, s), bool))
    scores = jnp.where(causal, scores, jnp.finfo(scores.dtype).min)
    attn = jnp.einsum("bhqk,bkhd->bqhd", jax.nn.softmax(scores, axis=-1), v)
    x = x + attn.reshape(b, s, d) @ p["wo"]
    h = rms_norm(x, p["mlp_norm"])
    return x + (jax.nn.silu(h @ p["w_gate"]) * (h @ p["w_up"])) @ p["w_down"]


def forward(params: dict[str, Any], tokens: Any, heads: int, *, scan: bool) -> Any:
    """Logits of ``tokens``; the layers run under ``lax.scan`` (``scan``) or a Python loop."""
    import jax

    # Remat: the backward pass recomputes each layer instead of keeping its activations.
    layer = jax.checkpoint(lambda x, p: decoder_layer(x, p, heads))
    x = params["embed"][tokens]
    if scan:
        x, _ = jax.lax.scan(lambda c, p: (layer(c, p), None), x, params["layers"])
    else:
        n = params["layers"]["wqkv"].shape[0]
        for i in range(n):
            x = layer(x, jax.tree_util.tree_map(lambda a, i=i: a[i], params["layers"]))
    x = rms_norm(x, params["final_norm"])
    return x @ params["embed"].T


def _build(scan: bool, cfg: dict[str, int] | None = None) -> tuple[Any, tuple]:
    import jax
    import jax.numpy as jnp
    import optax

    cfg = {**CONFIG, **(cfg or {})}
    params = init_params(jax.random.PRNGKey(0), cfg)
    optimizer = optax.chain(optax.clip_by_global_norm(1.0), optax.adamw(3e-4, weight_decay=0.1))
    tokens = jax.random.randint(
        jax.random.PRNGKey(1), (cfg["batch"], cfg["seq"] + 1), 0, cfg["vocab"]
    )

    def loss_fn(params: dict[str, Any], tokens: Any) -> Any:
        logits = forward(params, tokens[:, :-1], cfg["heads"], scan=scan)
        logp = jax.nn.log_softmax(logits, axis=-1)
        return -jnp.mean(jnp.take_along_axis(logp, tokens[:, 1:, None], axis=-1))

    def train_step(params: dict[str, Any], opt_state: Any, tokens: Any) -> tuple:
        loss, grads = jax.value_and_grad(loss_fn)(params, tokens)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    return train_step, (params, optimizer.init(params), tokens)


def make_step(cfg: dict[str, int] | None = None) -> tuple[Any, tuple]:
    """The scanned step and its arguments ``(params, opt_state, tokens)``."""
    return _build(True, cfg)


def make_unrolled_step(cfg: dict[str, int] | None = None) -> tuple[Any, tuple]:
    """The same step with its layers unrolled in Python (no ``while`` in the program)."""
    return _build(False, cfg)
