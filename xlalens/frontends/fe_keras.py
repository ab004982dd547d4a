"""Keras 3 frontend: the seed's ``Sequential([Dense(1)])`` with ``compile(optimizer='sgd',
loss='mean_squared_error')``, its train step compiled by XLA on the backend named
by ``KERAS_BACKEND`` (the parent sets it: Keras picks its backend once per process).

- tensorflow: ``tf.function(model.train_step, jit_compile=True)``.
- jax: ``jax.jit(model.train_step)`` on the stateless state tuple
  ``(trainable, non_trainable, optimizer, metrics)`` variable values.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from xlalens.frontends._protocol import Phases, load_target, main, package_versions
from xlalens.workloads import Workload


def _build(workload: Workload) -> Any:
    import keras

    sizes = workload.layer_sizes()
    layers = [keras.Input(shape=(sizes[0],))]
    for i in range(len(sizes) - 1):
        last = i == len(sizes) - 2
        layers.append(keras.layers.Dense(sizes[i + 1], activation=None if last else "tanh"))
    model = keras.Sequential(layers)
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=workload.lr), loss="mean_squared_error"
    )
    # Replace the random initializers with the shared, fixed values.
    for layer, (w, b) in zip(model.layers, workload.params()):
        layer.set_weights([w, b])
    model.optimizer.build(model.trainable_variables)
    return model


def _roles(model: Any, workload: Workload | None) -> dict[str, str]:
    """Variable path -> role (kernel/bias per Dense layer, SGD and metric state).

    A user's model (``workload`` None) keeps its variable paths as roles.
    """
    roles = {v.path: v.path for v in model.trainable_variables}
    if workload is not None:
        for layer, (rw, rb) in zip(model.layers, workload.param_roles()):
            roles[layer.kernel.path] = rw
            roles[layer.bias.path] = rb
    for var in model.optimizer.variables:
        roles[var.path] = (
            "lr"
            if var.path.endswith("learning_rate")
            else ("iteration" if var.path.endswith("iteration") else "opt_state")
        )
    for var in model.metrics_variables:
        roles[var.path] = "metric_state"
    return roles


def capture(workload: Workload, request: dict[str, Any], out: Path, phases: Phases) -> None:
    """Capture the Keras compiled train step on this process's Keras backend."""
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with phases("import"):
        import keras
        import numpy as np

        if backend == "tensorflow":
            import tensorflow as tf
        else:
            import jax

    if keras.backend.backend() != backend:
        raise RuntimeError(f"KERAS_BACKEND={backend} but keras loaded {keras.backend.backend()}")
    target = request.get("target")
    with phases("trace"):
        if target:
            # The user's compiled model and one batch: make_step() -> (model, (x, y)).
            model, (x, y) = load_target(target)()
            if not model.optimizer.built:
                model.optimizer.build(model.trainable_variables)
        else:
            x, y = workload.data()
            model = _build(workload)
    roles = _roles(model, None if target else workload)
    versions = package_versions("keras", "tensorflow", "jax", "jaxlib")

    def updated_params(trainable: list[Any]) -> dict[str, Any]:
        return {
            roles[v.path]: np.asarray(val) for v, val in zip(model.trainable_variables, trainable)
        }

    notes = [
        "the learning rate is an SGD optimizer variable (an input), and the optimizer's "
        "iteration counter and the loss metric's total/count are state carried by the step"
    ]
    if backend == "tensorflow":
        from xlalens.frontends._tflike import capture_tf_step

        variables = (
            list(model.variables) + list(model.optimizer.variables) + list(model.metrics_variables)
        )
        step = tf.function(model.train_step, jit_compile=True)
        capture_tf_step(
            out,
            phases,
            step=step,
            args=((tf.constant(x), tf.constant(y)),),
            arg_roles=["x", "y"],
            variables=variables,
            var_roles={id(v): roles.get(v.path) for v in variables},
            loss=lambda r: r["loss"].numpy(),
            params=lambda: updated_params([v.numpy() for v in model.trainable_variables]),
            versions=versions,
            notes=notes,
        )
        return

    from xlalens.frontends._jaxlike import NO_ROLE, capture_jax_step

    def values(vs: list[Any]) -> list[Any]:
        return [v.value for v in vs]

    def role_list(vs: list[Any]) -> list[str]:
        return [roles.get(v.path) or NO_ROLE for v in vs]

    groups = (
        model.trainable_variables,
        model.non_trainable_variables,
        model.optimizer.variables,
        model.metrics_variables,
    )
    state = tuple(values(g) for g in groups)
    state_roles = tuple(role_list(g) for g in groups)
    capture_jax_step(
        out,
        phases,
        fn=model.train_step,
        args=(state, (jax.numpy.asarray(x), jax.numpy.asarray(y))),
        input_roles=(state_roles, ("x", "y")),
        output_roles=lambda r: ({k: "loss" if k == "loss" else NO_ROLE for k in r[0]}, state_roles),
        loss=lambda r: float(r[0]["loss"]),
        params=lambda r: updated_params(list(r[1][0])),
        loss_kind="before_update",
        versions=versions,
        notes=notes,
    )


if __name__ == "__main__":
    main(capture)
