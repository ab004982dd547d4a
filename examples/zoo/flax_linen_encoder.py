"""A flax linen transformer-encoder classifier training step, optax Adam.

Token and learned position embeddings, pre-LayerNorm blocks of
``nn.MultiHeadDotProductAttention`` (with a padding mask) and a GELU MLP, a
masked mean pool and a linear head; random init from :data:`CONFIG`, nothing
downloaded. The step is ``(params, opt_state, tokens, mask, labels) ->
(params, opt_state, loss)``.

    xlalens dump --frameworks jax --target examples/zoo/flax_linen_encoder.py:make_step -o linen
"""

from __future__ import annotations

from typing import Any

FRONTENDS = ("jax",)
FACTORY = "make_step"
REQUIRES = ("jax", "flax", "optax")

CONFIG: dict[str, int] = {
    "vocab": 256,
    "d_model": 64,
    "heads": 4,
    "d_ff": 128,
    "layers": 2,
    "seq": 16,
    "batch": 4,
    "classes": 4,
}


def build_model(cfg: dict[str, int]) -> Any:
    """The encoder as a linen ``nn.Module``."""
    import flax.linen as nn
    import jax.numpy as jnp

    class EncoderBlock(nn.Module):
        d_model: int
        heads: int
        d_ff: int

        @nn.compact
        def __call__(self, x: Any, mask: Any) -> Any:
            h = nn.LayerNorm()(x)
            x = x + nn.MultiHeadDotProductAttention(num_heads=self.heads)(h, h, mask=mask)
            h = nn.LayerNorm()(x)
            return x + nn.Dense(self.d_model)(nn.gelu(nn.Dense(self.d_ff)(h)))

    class Encoder(nn.Module):
        cfg: dict

        @nn.compact
        def __call__(self, tokens: Any, mask: Any) -> Any:
            c = self.cfg
            pos = self.param("pos_embed", nn.initializers.normal(0.02), (c["seq"], c["d_model"]))
            x = nn.Embed(c["vocab"], c["d_model"])(tokens) + pos
            attn_mask = nn.make_attention_mask(mask, mask)
            for i in range(c["layers"]):
                x = EncoderBlock(c["d_model"], c["heads"], c["d_ff"], name=f"block{i}")(
                    x, attn_mask
                )
            x = nn.LayerNorm()(x)
            m = mask[..., None].astype(x.dtype)
            pooled = (x * m).sum(axis=1) / jnp.maximum(m.sum(axis=1), 1.0)
            return nn.Dense(c["classes"])(pooled)

    return Encoder(cfg)


def make_step(cfg: dict[str, int] | None = None) -> tuple[Any, tuple]:
    """The training step and its arguments ``(params, opt_state, tokens, mask, labels)``."""
    import jax
    import jax.numpy as jnp
    import optax

    cfg = {**CONFIG, **(cfg or {})}
    model = build_model(cfg)
    k = jax.random.split(jax.random.PRNGKey(0), 3)
    tokens = jax.random.randint(k[0], (cfg["batch"], cfg["seq"]), 0, cfg["vocab"])
    lengths = jnp.arange(cfg["batch"]) % cfg["seq"] + cfg["seq"] // 2
    mask = (jnp.arange(cfg["seq"])[None, :] < lengths[:, None]).astype(jnp.int32)
    labels = jax.random.randint(k[1], (cfg["batch"],), 0, cfg["classes"])
    params = model.init(k[2], tokens, mask)["params"]
    optimizer = optax.adam(1e-3)

    def train_step(params: Any, opt_state: Any, tokens: Any, mask: Any, labels: Any) -> tuple:
        def loss_fn(params: Any) -> Any:
            logits = model.apply({"params": params}, tokens, mask)
            return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()

        loss, grads = jax.value_and_grad(loss_fn)(params)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    return train_step, (params, optimizer.init(params), tokens, mask, labels)
