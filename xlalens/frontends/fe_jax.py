"""JAX frontend: the seed's program, ``jax.grad`` + ``optax.sgd`` under ``jax.jit``.

The seed writes the linear unit as ``w * x + b`` (an elementwise multiply, not a
matmul) and computes ``current_loss`` after ``apply_updates``; both are kept, so
the cross-framework diff shows them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from xlalens.frontends._protocol import Phases, load_target, main, package_versions
from xlalens.workloads import Workload


def capture(workload: Workload, request: dict[str, Any], out: Path, phases: Phases) -> None:
    """Capture the workload's step (or the user's ``target``) in JAX."""
    with phases("import"):
        import jax
        import jax.numpy as jnp
        import numpy as np
        import optax

        from xlalens.frontends._jaxlike import NO_ROLE, capture_jax_step

    versions = package_versions("jax", "jaxlib", "optax")
    if request.get("target"):
        fn, args = load_target(request["target"])()
        capture_jax_step(
            out,
            phases,
            fn=fn,
            args=tuple(args),
            input_roles=jax.tree_util.tree_map(lambda _: NO_ROLE, tuple(args)),
            output_roles=lambda r: jax.tree_util.tree_map(lambda _: NO_ROLE, r),
            loss=lambda r: None,
            params=lambda r: {},
            loss_kind="none",
            versions=versions,
        )
        return

    x_np, y_np = workload.data()
    roles = workload.param_roles()
    init = workload.params()
    optimizer = optax.sgd(learning_rate=workload.lr)

    if workload.name == "regression":
        w0, b0 = init[0]
        # The seed's params: [w, b] with w of shape [features] (the seed's [1]).
        params = [jnp.asarray(w0[:, 0]), jnp.asarray(b0)]

        def linear_regression(params, x):
            w, b = params
            if w.shape[0] == 1:
                return w * x + b
            return jnp.sum(w * x, axis=1, keepdims=True) + b

        model = linear_regression
        param_roles: Any = [roles[0][0], roles[0][1]]

        def std_params(p: Any) -> dict[str, Any]:
            return {"w": np.asarray(p[0]).reshape(-1, 1), "b": np.asarray(p[1])}
    else:
        params = [(jnp.asarray(w), jnp.asarray(b)) for w, b in init]

        def mlp(params, x):
            h = x
            for i, (w, b) in enumerate(params):
                h = h @ w + b
                if i < len(params) - 1:
                    h = jnp.tanh(h)
            return h

        model = mlp
        param_roles = [(rw, rb) for rw, rb in roles]

        def std_params(p: Any) -> dict[str, Any]:
            out = {}
            for (rw, rb), (w, b) in zip(roles, p):
                out[rw], out[rb] = np.asarray(w), np.asarray(b)
            return out

    def loss_fn(params, x, y):
        predictions = model(params, x)
        return jnp.mean((predictions - y) ** 2)

    grad_loss = jax.grad(loss_fn)

    def train_step(params, opt_state, x, y):
        grads = grad_loss(params, x, y)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        params = optax.apply_updates(params, updates)
        current_loss = loss_fn(params, x, y)
        return params, opt_state, current_loss

    opt_state = optimizer.init(params)
    x, y = jnp.asarray(x_np), jnp.asarray(y_np)
    state_roles = jax.tree_util.tree_map(lambda _: "opt_state", opt_state)
    capture_jax_step(
        out,
        phases,
        fn=train_step,
        args=(params, opt_state, x, y),
        input_roles=(param_roles, state_roles, "x", "y"),
        output_roles=lambda r: (param_roles, state_roles, "loss"),
        loss=lambda r: float(r[2]),
        params=lambda r: std_params(r[0]),
        loss_kind="after_update",
        versions=versions,
        notes=["learning rate is a constant folded into the module (optax.sgd)"],
    )


if __name__ == "__main__":
    main(capture)
