"""A JAX transformer training step with named scopes, for the render tests and benchmark.

``jax.named_scope`` per layer and per block (``layer3/attn``, ``layer3/mlp``) gives
the op_name prefixes that framework layers give, so scope collapse has something
to find. Shared by tests/core/test_render*.py, tests/browser/test_report.py and
benchmarks/bench_render.py. Only jax is imported.
"""

from __future__ import annotations


def scoped_transformer_hlo(layers: int, d: int = 64) -> str:
    """Optimized HLO text of one SGD step of a ``layers``-deep transformer (~790 instructions per layer)."""
    import jax
    import jax.numpy as jnp

    def norm(x):
        return (x - x.mean(-1, keepdims=True)) * jax.lax.rsqrt(x.var(-1, keepdims=True) + 1e-5)

    def layer(p, x):
        with jax.named_scope("attn"):
            q, k, v = x @ p["wq"], x @ p["wk"], x @ p["wv"]
            a = jax.nn.softmax(q @ k.swapaxes(-1, -2) / 8.0, axis=-1)
            x = norm(x + (a @ v) @ p["wo"])
        with jax.named_scope("mlp"):
            x = norm(x + jax.nn.gelu(x @ p["w1"]) @ p["w2"])
        return x

    def loss(ps, x):
        for i, p in enumerate(ps):
            with jax.named_scope(f"layer{i}"):
                x = layer(p, x)
        return (x**2).mean()

    def step(ps, x):
        value, grads = jax.value_and_grad(loss)(ps, x)
        return value, jax.tree.map(lambda a, b: a - 0.01 * b, ps, grads)

    shapes = {
        "wq": (d, d),
        "wk": (d, d),
        "wv": (d, d),
        "wo": (d, d),
        "w1": (d, 4 * d),
        "w2": (4 * d, d),
    }
    ps = [{n: jnp.full(s, 0.01, jnp.float32) for n, s in shapes.items()} for _ in range(layers)]
    x = jnp.ones((8, 16, d), jnp.float32)
    return jax.jit(step).lower(ps, x).compile().as_text()
