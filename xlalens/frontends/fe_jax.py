"""JAX frontend: the seed's program, ``jax.grad`` + ``optax`` under ``jax.jit``.

The seed writes the linear unit as ``w * x + b`` (an elementwise multiply, not a
matmul) and computes ``current_loss`` after ``apply_updates``; both are kept, so
the cross-framework diff shows them. cnn and transformer run the workload's own
jax reference (``xlalens.workloads``) with ``jax.value_and_grad`` and optax
(``optax.sgd(momentum=0.9)``, ``optax.adamw``). Roles come from the program's
pytree paths (``params['head.kernel']``, ``opt_state[0].mu['w1']``).
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

        from xlalens.frontends._jaxlike import capture_jax_step

    versions = package_versions("jax", "jaxlib", "optax")
    if request.get("target"):
        # Roles are the program's own pytree paths: params['w1'], opt_state[0].mu['b1'].
        fn, args = load_target(request["target"])()
        capture_jax_step(
            out,
            phases,
            fn=fn,
            args=tuple(args),
            loss=lambda r: None,
            params=lambda r: {},
            loss_kind="none",
            versions=versions,
        )
        return
    if request.get("sharding"):
        from xlalens.frontends._spmd_jax import capture_sharded
        from xlalens.ir._mesh import MeshSpec

        spec = MeshSpec.from_json(request["sharding"])
        capture_sharded(workload, spec, out, phases, versions)
        return
    if workload.name in ("cnn", "transformer"):
        _capture_model(workload, out, phases, versions)
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


def _capture_model(workload: Workload, out: Path, phases: Phases, versions: dict) -> None:
    """cnn / transformer: the workload's jax reference, ``value_and_grad``, optax."""
    import jax
    import jax.numpy as jnp
    import numpy as np
    import optax

    from xlalens.frontends._jaxlike import capture_jax_step, workload_role

    spec, opt = workload.module, workload.optimizer
    if opt.kind == "sgd_momentum":
        optimizer = optax.sgd(opt.lr, momentum=opt.momentum)
    else:
        optimizer = optax.adamw(
            opt.lr, b1=opt.b1, b2=opt.b2, eps=opt.eps, weight_decay=opt.weight_decay
        )

    def loss_fn(params, buffers, x, y):
        if workload.name == "cnn":
            logits, new_buffers = spec.forward(params, buffers, x, workload.depth)
        else:
            logits, new_buffers = spec.forward(params, x, workload.depth, workload.heads), {}
        return spec.loss(logits, y), new_buffers

    def train_step(params, buffers, opt_state, x, y):
        (loss, buffers), grads = jax.value_and_grad(loss_fn, has_aux=True)(params, buffers, x, y)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), buffers, opt_state, loss

    params = {k: jnp.asarray(v) for k, v in workload.initial_params().items()}
    buffers = {k: jnp.asarray(v) for k, v in workload.initial_buffers().items()}
    x, y = (jnp.asarray(a) for a in workload.data())
    capture_jax_step(
        out,
        phases,
        fn=train_step,
        args=(params, buffers, optimizer.init(params), x, y),
        role_of=lambda p: "loss" if p == "result[3]" else workload_role(p),
        loss=lambda r: float(r[3]),
        params=lambda r: {k: np.asarray(v) for k, v in r[0].items()},
        loss_kind="before_update",
        versions=versions,
        notes=[f"{workload.describe()}; optax {opt.describe()}"],
    )


if __name__ == "__main__":
    main(capture)
