"""A flax NNX CNN training step: Conv + BatchNorm blocks, a linear head, optax Adam.

The model is an ``nnx.Module`` (random init from :data:`CONFIG`, nothing
downloaded), split into its parameters and batch statistics so that the step is
a pure function: ``(params, batch_stats, opt_state, x, y) -> (params,
batch_stats, opt_state, loss)``. BatchNorm runs in training mode, so the step
returns the updated running statistics.

    xlalens dump --frameworks jax --target examples/zoo/flax_nnx_cnn.py:make_step -o nnx_cnn
"""

from __future__ import annotations

from typing import Any

FRONTENDS = ("jax",)
FACTORY = "make_step"
REQUIRES = ("jax", "flax", "optax")

CONFIG: dict[str, int] = {"batch": 8, "image": 16, "channels": 3, "width": 16, "classes": 10}


def build_model(cfg: dict[str, int], seed: int = 0) -> Any:
    """The CNN: two conv-BN-ReLU blocks (the second strided), global average pool, linear head."""
    from flax import nnx

    class CNN(nnx.Module):
        def __init__(self, cfg: dict[str, int], rngs: nnx.Rngs) -> None:
            w = cfg["width"]
            # No conv bias before BatchNorm (as in ResNets): BN removes it, its gradient is 0.
            self.conv1 = nnx.Conv(cfg["channels"], w, (3, 3), use_bias=False, rngs=rngs)
            self.bn1 = nnx.BatchNorm(w, rngs=rngs)
            self.conv2 = nnx.Conv(w, 2 * w, (3, 3), strides=(2, 2), use_bias=False, rngs=rngs)
            self.bn2 = nnx.BatchNorm(2 * w, rngs=rngs)
            self.head = nnx.Linear(2 * w, cfg["classes"], rngs=rngs)

        def __call__(self, x: Any) -> Any:
            x = nnx.relu(self.bn1(self.conv1(x)))
            x = nnx.relu(self.bn2(self.conv2(x)))
            return self.head(x.mean(axis=(1, 2)))

    return CNN(cfg, nnx.Rngs(seed))


def make_step(cfg: dict[str, int] | None = None) -> tuple[Any, tuple]:
    """The training step and its arguments ``(params, batch_stats, opt_state, x, y)``."""
    import jax
    import optax
    from flax import nnx

    cfg = {**CONFIG, **(cfg or {})}
    model = build_model(cfg)
    model.train()  # BatchNorm uses batch statistics and updates its running averages
    graphdef, params, batch_stats = nnx.split(model, nnx.Param, nnx.BatchStat)
    optimizer = optax.adam(1e-3)

    def train_step(params: Any, batch_stats: Any, opt_state: Any, x: Any, y: Any) -> tuple:
        def loss_fn(params: Any, batch_stats: Any) -> tuple:
            # Both states are arguments jax re-creates inside its trace: NNX refuses to
            # update a BatchStat made at an outer trace level (the jit's).
            model = nnx.merge(graphdef, params, batch_stats)
            logits = model(x)
            loss = optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
            return loss, nnx.state(model, nnx.BatchStat)

        grad_fn = jax.value_and_grad(loss_fn, argnums=(0, 1), has_aux=True)
        (loss, new_stats), (grads, _) = grad_fn(params, batch_stats)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), new_stats, opt_state, loss

    kx, ky = jax.random.split(jax.random.PRNGKey(1))
    x = jax.random.normal(kx, (cfg["batch"], cfg["image"], cfg["image"], cfg["channels"]))
    y = jax.random.randint(ky, (cfg["batch"],), 0, cfg["classes"])
    return train_step, (params, batch_stats, optimizer.init(params), x, y)
