"""JAX programs that produce large HLO modules for the reader's oracle test and benchmark.

Shared by tests/core/test_hlo_xla_oracle.py and benchmarks/bench_ir.py, so both look
at the same module. Only jax is imported (the core's one framework).
"""

from __future__ import annotations


def transformer_step_hlo(
    layers: int = 64, d: int = 64, seq: int = 16, batch: int = 2, heads: int = 4
) -> tuple[str, str]:
    """(pre-optimization HLO, optimized HLO) of one SGD step of a ``layers``-deep transformer.

    RMSNorm rather than LayerNorm: with LayerNorm, XLA:CPU's fusion duplicates the
    backward residual chain and the optimized module grows quadratically with depth
    (584k instructions and a 5-minute compile at 64 layers); with RMSNorm it grows
    linearly (about 560 optimized instructions per layer).
    """
    import jax
    import jax.numpy as jnp

    key = jax.random.PRNGKey(0)
    params = []
    for i in range(layers):
        ks = jax.random.split(jax.random.fold_in(key, i), 4)
        params.append(
            {
                "qkv": jax.random.normal(ks[0], (d, 3 * d)) * 0.02,
                "o": jax.random.normal(ks[1], (d, d)) * 0.02,
                "w1": jax.random.normal(ks[2], (d, 4 * d)) * 0.02,
                "w2": jax.random.normal(ks[3], (4 * d, d)) * 0.02,
                "g1": jnp.ones((d,)),
                "g2": jnp.ones((d,)),
            }
        )
    x = jnp.ones((batch, seq, d))
    y = jnp.ones((batch, seq, d))

    def norm(h, g):
        return h * jax.lax.rsqrt((h * h).mean(-1, keepdims=True) + 1e-5) * g

    def heads_first(t):
        return t.reshape(batch, seq, heads, d // heads).transpose(0, 2, 1, 3)

    def layer(h, p):
        q, k, v = jnp.split(norm(h, p["g1"]) @ p["qkv"], 3, -1)
        q, k, v = heads_first(q), heads_first(k), heads_first(v)
        a = jax.nn.softmax(q @ k.transpose(0, 1, 3, 2) / jnp.sqrt(d // heads), -1) @ v
        h = h + a.transpose(0, 2, 1, 3).reshape(batch, seq, d) @ p["o"]
        return h + jax.nn.gelu(norm(h, p["g2"]) @ p["w1"]) @ p["w2"]

    def loss(params, h, y):
        for p in params:
            h = layer(h, p)
        return jnp.mean((h - y) ** 2)

    def step(params, h, y):
        value, grads = jax.value_and_grad(loss)(params, h, y)
        return jax.tree.map(lambda p, g: p - 0.01 * g, params, grads), value

    lowered = jax.jit(step).lower(params, x, y)
    return lowered.as_text(dialect="hlo"), lowered.compile().as_text()
