"""A user step for tests/frontends/test_proof.py: a flax linen CNN with BatchNorm, Adam (optax).

The convolution's bias comes before BatchNorm, so its exact gradient is 0 and
float32 gives rounding noise there; Adam turns that noise into +-lr updates
(an ill-conditioned result, issue 21). ``LR`` is read from the environment so a
test can capture the same step with another learning rate.
"""

import os

import numpy as np

LR = float(os.environ.get("XLALENS_TEST_LR", "0.001"))


def make_step():
    """A jitted train step over (params, batch_stats, opt_state) and one batch."""
    import flax.linen as nn
    import jax
    import jax.numpy as jnp
    import optax

    class Net(nn.Module):
        @nn.compact
        def __call__(self, x, train=True):
            x = nn.Conv(8, (3, 3), use_bias=True)(x)
            x = nn.BatchNorm(use_running_average=not train)(x)
            x = nn.relu(x)
            x = jnp.mean(x, axis=(1, 2))
            return nn.Dense(4)(x)

    net = Net()
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.standard_normal((2, 8, 8, 3)).astype(np.float32))
    y = jnp.asarray(np.eye(4, dtype=np.float32)[[1, 2]])
    variables = net.init(jax.random.PRNGKey(0), x)
    params, stats = variables["params"], variables["batch_stats"]
    tx = optax.adam(LR)
    opt = tx.init(params)

    def step(params, stats, opt, x, y):
        def loss_fn(p):
            out, upd = net.apply({"params": p, "batch_stats": stats}, x, mutable=["batch_stats"])
            return optax.softmax_cross_entropy(out, y).mean(), upd["batch_stats"]

        (loss, new_stats), g = jax.value_and_grad(loss_fn, has_aux=True)(params)
        updates, new_opt = tx.update(g, opt, params)
        return loss, optax.apply_updates(params, updates), new_stats, new_opt

    return jax.jit(step), (params, stats, opt, x, y)
