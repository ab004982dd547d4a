"""An equinox CNN classifier training step (held out: convolutions, max pooling, LayerNorm).

A second equinox model beside the MLP, written after the zoo was built (issue
20): ``eqx.nn.Conv2d`` and ``eqx.nn.MaxPool2d`` blocks, an ``eqx.nn.LayerNorm``
and an ``eqx.nn.Linear`` head, as a user-defined ``eqx.Module`` over one image
(channels first) vmapped over the batch; optax SGD with momentum. Random init
from :data:`CONFIG`, nothing downloaded. The step is ``(params, opt_state, x, y)
-> (params, opt_state, loss)``.

    xlalens dump --frameworks jax --target examples/zoo/equinox_cnn.py:make_step -o eqx_cnn
"""

from __future__ import annotations

from typing import Any

FRONTENDS = ("jax",)
FACTORY = "make_step"
REQUIRES = ("jax", "equinox", "optax")

CONFIG: dict[str, int] = {"batch": 8, "image": 16, "channels": 3, "width": 8, "classes": 10}


def build_model(cfg: dict[str, int], key: Any) -> Any:
    """Two conv-ReLU-maxpool blocks, a LayerNorm over the flattened features, a linear head."""
    import equinox as eqx
    import jax

    class CNN(eqx.Module):
        conv1: eqx.nn.Conv2d
        conv2: eqx.nn.Conv2d
        pool: eqx.nn.MaxPool2d
        norm: eqx.nn.LayerNorm
        head: eqx.nn.Linear

        def __init__(self, cfg: dict[str, int], key: Any) -> None:
            k1, k2, k3 = jax.random.split(key, 3)
            w = cfg["width"]
            self.conv1 = eqx.nn.Conv2d(cfg["channels"], w, 3, padding=1, key=k1)
            self.conv2 = eqx.nn.Conv2d(w, 2 * w, 3, padding=1, key=k2)
            self.pool = eqx.nn.MaxPool2d(2, stride=2)
            features = 2 * w * (cfg["image"] // 4) ** 2
            self.norm = eqx.nn.LayerNorm(features)
            self.head = eqx.nn.Linear(features, cfg["classes"], key=k3)

        def __call__(self, x: Any) -> Any:
            x = self.pool(jax.nn.relu(self.conv1(x)))
            x = self.pool(jax.nn.relu(self.conv2(x)))
            return self.head(self.norm(x.reshape(-1)))

    return CNN(cfg, key)


def make_step(cfg: dict[str, int] | None = None) -> tuple[Any, tuple]:
    """The training step and its arguments ``(params, opt_state, x, y)``."""
    import equinox as eqx
    import jax
    import optax

    cfg = {**CONFIG, **(cfg or {})}
    k = jax.random.split(jax.random.PRNGKey(0), 3)
    params, static = eqx.partition(build_model(cfg, k[0]), eqx.is_array)
    optimizer = optax.sgd(0.05, momentum=0.9)

    def train_step(params: Any, opt_state: Any, x: Any, y: Any) -> tuple:
        def loss_fn(params: Any) -> Any:
            logits = jax.vmap(eqx.combine(params, static))(x)
            return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

        loss, grads = jax.value_and_grad(loss_fn)(params)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    x = jax.random.normal(k[1], (cfg["batch"], cfg["channels"], cfg["image"], cfg["image"]))
    y = jax.random.randint(k[2], (cfg["batch"],), 0, cfg["classes"])
    return train_step, (params, optimizer.init(params), x, y)
