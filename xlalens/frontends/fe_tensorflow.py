"""TensorFlow frontend: a GradientTape SGD step on ``tf.Variable``s, ``jit_compile=True``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from xlalens.frontends._protocol import Phases, load_target, main, package_versions
from xlalens.workloads import Workload


def capture(workload: Workload, request: dict[str, Any], out: Path, phases: Phases) -> None:
    """Capture the workload's step in TensorFlow."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with phases("import"):
        import numpy as np
        import tensorflow as tf

        from xlalens.frontends._tflike import capture_tf_step

    versions = package_versions("tensorflow", "tensorflow-cpu", "keras", "ml-dtypes")
    if request.get("target"):
        # make_step() -> (fn, args): fn is compiled with tf.function(jit_compile=True);
        # the tf.Variables it reads are found through its concrete function.
        fn, args = load_target(request["target"])()
        step = tf.function(fn, jit_compile=True)
        variables = list(step.get_concrete_function(*args).variables)
        capture_tf_step(
            out,
            phases,
            step=step,
            args=tuple(args),
            arg_roles=[None] * len(tf.nest.flatten(tuple(args))),
            variables=variables,
            var_roles={id(v): v.name.split(":")[0] for v in variables},
            loss=None,
            params=lambda: {},
            versions=versions,
        )
        return

    x_np, y_np = workload.data()
    roles = workload.param_roles()
    layers = [
        (tf.Variable(w, name=rw), tf.Variable(b, name=rb))
        for (w, b), (rw, rb) in zip(workload.params(), roles)
    ]
    variables = [v for pair in layers for v in pair]
    var_roles = {id(v): r for pair, rr in zip(layers, roles) for v, r in zip(pair, rr)}
    lr = workload.lr

    def model(x):
        h = x
        for i, (w, b) in enumerate(layers):
            h = tf.matmul(h, w) + b
            if i < len(layers) - 1:
                h = tf.tanh(h)
        return h

    @tf.function(jit_compile=True)
    def train_step(x, y):
        with tf.GradientTape() as tape:
            pred = model(x)
            loss = tf.reduce_mean(tf.square(pred - y))
        grads = tape.gradient(loss, variables)
        for var, grad in zip(variables, grads):
            var.assign_sub(lr * grad)
        return loss

    x, y = tf.constant(x_np), tf.constant(y_np)
    capture_tf_step(
        out,
        phases,
        step=train_step,
        args=(x, y),
        arg_roles=["x", "y"],
        variables=variables,
        var_roles=var_roles,
        loss=lambda r: r.numpy(),
        params=lambda: {var_roles[id(v)]: np.asarray(v.numpy()) for v in variables},
        versions=versions,
        notes=["learning rate is a constant folded into the module"],
    )


if __name__ == "__main__":
    main(capture)
