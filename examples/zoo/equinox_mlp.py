"""An equinox MLP classifier training step, optax Adam.

``eqx.nn.MLP`` (random init from :data:`CONFIG`, nothing downloaded), split
with ``eqx.partition`` into its arrays and its static part so that the step is
a pure function of arrays: ``(params, opt_state, x, y) -> (params, opt_state,
loss)``.

    xlalens dump --frameworks jax --target examples/zoo/equinox_mlp.py:make_step -o eqx
"""

from __future__ import annotations

from typing import Any

FRONTENDS = ("jax",)
FACTORY = "make_step"
REQUIRES = ("jax", "equinox", "optax")

CONFIG: dict[str, int] = {"batch": 16, "features": 32, "width": 64, "depth": 3, "classes": 10}


def make_step(cfg: dict[str, int] | None = None) -> tuple[Any, tuple]:
    """The training step and its arguments ``(params, opt_state, x, y)``."""
    import equinox as eqx
    import jax
    import optax

    cfg = {**CONFIG, **(cfg or {})}
    k = jax.random.split(jax.random.PRNGKey(0), 3)
    model = eqx.nn.MLP(
        in_size=cfg["features"],
        out_size=cfg["classes"],
        width_size=cfg["width"],
        depth=cfg["depth"],
        activation=jax.nn.gelu,
        key=k[0],
    )
    params, static = eqx.partition(model, eqx.is_array)
    optimizer = optax.adam(1e-3)

    def train_step(params: Any, opt_state: Any, x: Any, y: Any) -> tuple:
        def loss_fn(params: Any) -> Any:
            model = eqx.combine(params, static)
            logits = jax.vmap(model)(x)
            return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

        loss, grads = jax.value_and_grad(loss_fn)(params)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    x = jax.random.normal(k[1], (cfg["batch"], cfg["features"]))
    y = jax.random.randint(k[2], (cfg["batch"],), 0, cfg["classes"])
    return train_step, (params, optimizer.init(params), x, y)
