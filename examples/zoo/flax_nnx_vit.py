"""A flax NNX vision transformer training step (held out: patches, attention, LayerNorm).

A second flax model beside the NNX CNN and the linen encoder, written after the
zoo was built (issue 20): a strided ``nnx.Conv`` cuts the image into patches, a
learned position embedding and a class token join them, pre-LayerNorm blocks of
``nnx.MultiHeadAttention`` and a GELU MLP follow, and a linear head reads the
class token; optax AdamW. Random init from :data:`CONFIG`, nothing downloaded.
The step is ``(params, opt_state, images, labels) -> (params, opt_state, loss)``.

    xlalens dump --frameworks jax --target examples/zoo/flax_nnx_vit.py:make_step -o vit
"""

from __future__ import annotations

from typing import Any

FRONTENDS = ("jax",)
FACTORY = "make_step"
REQUIRES = ("jax", "flax", "optax")

CONFIG: dict[str, int] = {
    "batch": 4,
    "image": 16,
    "channels": 3,
    "patch": 4,
    "d_model": 32,
    "heads": 4,
    "d_ff": 64,
    "layers": 2,
    "classes": 10,
}


def build_model(cfg: dict[str, int], seed: int = 0) -> Any:
    """The ViT as an ``nnx.Module``."""
    import jax.numpy as jnp
    from flax import nnx

    class Block(nnx.Module):
        def __init__(self, d: int, heads: int, d_ff: int, rngs: nnx.Rngs) -> None:
            self.norm1 = nnx.LayerNorm(d, rngs=rngs)
            self.attn = nnx.MultiHeadAttention(
                num_heads=heads, in_features=d, decode=False, rngs=rngs
            )
            self.norm2 = nnx.LayerNorm(d, rngs=rngs)
            self.up = nnx.Linear(d, d_ff, rngs=rngs)
            self.down = nnx.Linear(d_ff, d, rngs=rngs)

        def __call__(self, x: Any) -> Any:
            x = x + self.attn(self.norm1(x))
            return x + self.down(nnx.gelu(self.up(self.norm2(x))))

    class ViT(nnx.Module):
        def __init__(self, cfg: dict[str, int], rngs: nnx.Rngs) -> None:
            d, p = cfg["d_model"], cfg["patch"]
            n = (cfg["image"] // p) ** 2
            self.patches = nnx.Conv(cfg["channels"], d, (p, p), strides=(p, p), rngs=rngs)
            self.cls = nnx.Param(jnp.zeros((1, 1, d)))
            self.pos = nnx.Param(0.02 * nnx.initializers.normal()(rngs.params(), (1, n + 1, d)))
            self.blocks = nnx.List(
                [Block(d, cfg["heads"], cfg["d_ff"], rngs) for _ in range(cfg["layers"])]
            )
            self.norm = nnx.LayerNorm(d, rngs=rngs)
            self.head = nnx.Linear(d, cfg["classes"], rngs=rngs)

        def __call__(self, images: Any) -> Any:
            x = self.patches(images)
            b, h, w, d = x.shape
            x = x.reshape(b, h * w, d)
            cls = jnp.broadcast_to(self.cls[...], (b, 1, d))
            x = jnp.concatenate([cls, x], axis=1) + self.pos[...]
            for block in self.blocks:
                x = block(x)
            return self.head(self.norm(x[:, 0]))

    return ViT(cfg, nnx.Rngs(seed))


def make_step(cfg: dict[str, int] | None = None) -> tuple[Any, tuple]:
    """The training step and its arguments ``(params, opt_state, images, labels)``."""
    import jax
    import optax
    from flax import nnx

    cfg = {**CONFIG, **(cfg or {})}
    graphdef, params = nnx.split(build_model(cfg), nnx.Param)
    optimizer = optax.adamw(1e-3, weight_decay=0.05)

    def train_step(params: Any, opt_state: Any, images: Any, labels: Any) -> tuple:
        def loss_fn(params: Any) -> Any:
            logits = nnx.merge(graphdef, params)(images)
            return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()

        loss, grads = jax.value_and_grad(loss_fn)(params)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    kx, ky = jax.random.split(jax.random.PRNGKey(1))
    images = jax.random.normal(kx, (cfg["batch"], cfg["image"], cfg["image"], cfg["channels"]))
    labels = jax.random.randint(ky, (cfg["batch"],), 0, cfg["classes"])
    return train_step, (params, optimizer.init(params), images, labels)
