"""A flax linen LM whose layers run under ``nn.scan`` of ``nn.remat`` with a checkpoint policy.

A second scanned step, written differently from ``jax_scan_llm.py`` after the
zoo was built (issue 20): flax's own lifted transforms stack the layers
(``nn.scan`` with ``variable_axes={"params": 0}``) and rematerialize them
(``nn.remat`` with ``jax.checkpoint_policies.dots_with_no_batch_dims_saveable``:
the weight matmuls' outputs are kept, everything else is recomputed). Each
layer is a post-LayerNorm causal self-attention and GELU MLP block; Adam.
Random init from :data:`CONFIG`; nothing is downloaded.

``make_step`` is the scanned step; ``make_unrolled_step`` (its ``TWIN``) applies
the very same block, under the same remat policy, to each layer's slice of the
stacked parameters in a Python loop: the same FLOPs, no ``while``.

    xlalens dump --frameworks jax --target examples/zoo/flax_scan_lm.py:make_step -o scan
"""

from __future__ import annotations

from typing import Any

FRONTENDS = ("jax",)
FACTORY = "make_step"
TWIN = "make_unrolled_step"
REQUIRES = ("jax", "flax", "optax")

CONFIG: dict[str, int] = {
    "vocab": 256,
    "d_model": 64,
    "heads": 4,
    "d_ff": 256,
    "layers": 4,
    "seq": 32,
    "batch": 4,
}


def modules(cfg: dict[str, int]) -> tuple[Any, Any]:
    """(the LM with its layers under ``nn.scan``, one layer as a module of its own)."""
    import flax.linen as nn
    import jax

    policy = jax.checkpoint_policies.dots_with_no_batch_dims_saveable

    class Block(nn.Module):
        d_model: int
        heads: int
        d_ff: int

        @nn.compact
        def __call__(self, x: Any, _: Any = None) -> tuple[Any, None]:
            mask = nn.make_causal_mask(x[..., 0])
            h = nn.SelfAttention(num_heads=self.heads)(x, mask=mask)
            x = nn.LayerNorm()(x + h)
            h = nn.Dense(self.d_model)(nn.gelu(nn.Dense(self.d_ff)(x)))
            return nn.LayerNorm()(x + h), None

    class LM(nn.Module):
        cfg: dict

        @nn.compact
        def __call__(self, tokens: Any) -> Any:
            c = self.cfg
            embed = nn.Embed(c["vocab"], c["d_model"])
            x = embed(tokens)
            stack = nn.scan(
                nn.remat(Block, policy=policy, prevent_cse=False),
                variable_axes={"params": 0},
                split_rngs={"params": True},
                length=c["layers"],
            )
            x, _ = stack(c["d_model"], c["heads"], c["d_ff"], name="layers")(x, None)
            return embed.attend(x)

    return LM(cfg), Block(cfg["d_model"], cfg["heads"], cfg["d_ff"])


def _build(scan: bool, cfg: dict[str, int] | None = None) -> tuple[Any, tuple]:
    import jax
    import jax.numpy as jnp
    import optax

    cfg = {**CONFIG, **(cfg or {})}
    lm, block = modules(cfg)
    k = jax.random.split(jax.random.PRNGKey(0), 2)
    tokens = jax.random.randint(k[0], (cfg["batch"], cfg["seq"] + 1), 0, cfg["vocab"])
    params = lm.init(k[1], tokens[:, :-1])["params"]
    policy = jax.checkpoint_policies.dots_with_no_batch_dims_saveable

    def logits_of(params: Any, x: Any) -> Any:
        if scan:
            return lm.apply({"params": params}, x)
        # The twin: the same block and remat policy, layer by layer over the stacked weights.
        h = params["Embed_0"]["embedding"][x]
        layer = jax.checkpoint(lambda h, p: block.apply({"params": p}, h)[0], policy=policy)
        for i in range(cfg["layers"]):
            h = layer(h, jax.tree_util.tree_map(lambda a, i=i: a[i], params["layers"]))
        return h @ params["Embed_0"]["embedding"].T

    optimizer = optax.adam(1e-3)

    def train_step(params: Any, opt_state: Any, tokens: Any) -> tuple:
        def loss_fn(params: Any) -> Any:
            logp = jax.nn.log_softmax(logits_of(params, tokens[:, :-1]), axis=-1)
            return -jnp.mean(jnp.take_along_axis(logp, tokens[:, 1:, None], axis=-1))

        loss, grads = jax.value_and_grad(loss_fn)(params)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    return train_step, (params, optimizer.init(params), tokens)


def make_step(cfg: dict[str, int] | None = None) -> tuple[Any, tuple]:
    """The scanned step and its arguments ``(params, opt_state, tokens)``."""
    return _build(True, cfg)


def make_unrolled_step(cfg: dict[str, int] | None = None) -> tuple[Any, tuple]:
    """The same step with its layers unrolled in Python (no ``while`` in the program)."""
    return _build(False, cfg)
