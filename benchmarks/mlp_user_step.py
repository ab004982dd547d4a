"""A jax user step for the proof's power checks (issue 21; docs/capture.md): an mlp trained
by optax, the loss computed after the update (as the jax seed workload does).

The default (8 features, three hidden layers of 32, tanh, SGD, 2^20 samples, ``x`` normal,
``y = sin(sum x)`` + noise) is the held-out user step; ``MLP_STEP_WIDTHS=16,64,16,1
MLP_STEP_OPT=adam MLP_STEP_ACT=gelu`` is the third case. Run (2^20 samples, about 90 s):

    mkdir -p ROOT && xlalens dump --frameworks jax --force \\
        --target benchmarks/mlp_user_step.py:make_step -o ROOT/user_1048576
    python benchmarks/bench_dump.py --proof-tightness 2^20 --workload user \\
        --frameworks jax --reuse ROOT --power
"""

import itertools
import os

import numpy as np

N = int(os.environ.get("MLP_STEP_N", str(2**20)))
WIDTHS = [int(w) for w in os.environ.get("MLP_STEP_WIDTHS", "8,32,32,32,1").split(",")]
OPT = os.environ.get("MLP_STEP_OPT", "sgd")
ACT = os.environ.get("MLP_STEP_ACT", "tanh")


def make_step():
    """The jitted step and its arguments: params as a list of (w, b), opt_state, x, y."""
    import jax
    import jax.numpy as jnp
    import optax

    rng = np.random.default_rng(7)
    params = []
    for a, b in itertools.pairwise(WIDTHS):
        w = (rng.standard_normal((a, b)) / np.sqrt(a)).astype(np.float32)
        bias = (0.1 * rng.standard_normal(b)).astype(np.float32)
        params.append((jnp.asarray(w), jnp.asarray(bias)))
    x = rng.standard_normal((N, WIDTHS[0])).astype(np.float32)
    noise = 0.1 * rng.standard_normal((N, 1))
    y = (np.sin(x.sum(axis=1, keepdims=True)) + noise).astype(np.float32)
    act = {"tanh": jnp.tanh, "relu": jax.nn.relu, "gelu": jax.nn.gelu}[ACT]

    def model(p, x):
        h = x
        for i, (w, b) in enumerate(p):
            h = h @ w + b
            if i < len(p) - 1:
                h = act(h)
        return h

    def loss_fn(p, x, y):
        return jnp.mean((model(p, x) - y) ** 2)

    tx = optax.sgd(0.01) if OPT == "sgd" else optax.adam(1e-3)
    opt = tx.init(params)

    def step(p, opt, x, y):
        g = jax.grad(loss_fn)(p, x, y)
        upd, opt = tx.update(g, opt, p)
        p = optax.apply_updates(p, upd)
        return p, opt, loss_fn(p, x, y)

    return jax.jit(step), (params, opt, jnp.asarray(x), jnp.asarray(y))
