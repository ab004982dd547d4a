"""TensorFlow frontend: a GradientTape step on ``tf.Variable``s, ``jit_compile=True``.

regression/mlp: plain SGD. cnn/transformer: the workload's definition written with
``tf.nn`` (``conv2d`` NHWC, ``moments`` + ``batch_normalization``, ``max_pool2d``,
``gelu(approximate=True)``, ``softmax_cross_entropy_with_logits``) and the
optimizer's update written out on slot variables, following the conventions of
``xlalens.workloads._optim``. Variables are named by their roles.
"""

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
            arg_roles=_arg_roles(fn, tuple(args), tf),
            variables=variables,
            var_roles={id(v): v.name.split(":")[0] for v in variables},
            result_roles=lambda r: _result_roles(r, tf),
            loss=None,
            params=lambda: {},
            versions=versions,
        )
        return

    if workload.name in ("cnn", "transformer"):
        _capture_model(workload, out, phases, versions)
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


def _capture_model(workload: Workload, out: Path, phases: Phases, versions: dict) -> None:
    """cnn / transformer in plain TensorFlow."""
    import math

    import numpy as np
    import tensorflow as tf

    from xlalens.frontends._tflike import capture_tf_step

    spec, opt = workload.module, workload.optimizer
    params = {k: tf.Variable(v, name=k) for k, v in workload.initial_params().items()}
    buffers = {k: tf.Variable(v, name=k) for k, v in workload.initial_buffers().items()}
    first = {k: tf.Variable(tf.zeros_like(v), name=f"{k}/m") for k, v in params.items()}
    second = (
        {k: tf.Variable(tf.zeros_like(v), name=f"{k}/v") for k, v in params.items()}
        if opt.kind == "adamw"
        else {}
    )
    count = tf.Variable(0.0, name="opt/step") if opt.kind == "adamw" else None
    roles: dict[int, str | None] = {}
    for group, suffix in ((params, ""), (buffers, ""), (first, "/m"), (second, "/v")):
        roles.update({id(v): k + suffix for k, v in group.items()})
    if count is not None:
        roles[id(count)] = "opt/step"

    def batch_norm(h, name):
        mean, var = tf.nn.moments(h, axes=[0, 1, 2])
        m = spec.BN_MOMENTUM
        buffers[f"{name}.mean"].assign(m * buffers[f"{name}.mean"] + (1 - m) * mean)
        buffers[f"{name}.var"].assign(m * buffers[f"{name}.var"] + (1 - m) * var)
        return tf.nn.batch_normalization(
            h, mean, var, params[f"{name}.bias"], params[f"{name}.scale"], spec.BN_EPS
        )

    def conv(h, role):
        return tf.nn.conv2d(h, params[role], strides=1, padding="SAME")

    def cnn(x):
        h = tf.nn.relu(batch_norm(conv(x, "stem.conv.kernel"), "stem.bn"))
        h = tf.nn.max_pool2d(h, ksize=2, strides=2, padding="VALID")
        for i in range(workload.depth):
            r = tf.nn.relu(batch_norm(conv(h, f"block{i}.conv1.kernel"), f"block{i}.bn1"))
            h = tf.nn.relu(batch_norm(conv(r, f"block{i}.conv2.kernel"), f"block{i}.bn2") + h)
        return (
            tf.matmul(tf.reduce_mean(h, axis=[1, 2]), params["head.kernel"]) + params["head.bias"]
        )

    def layer_norm(h, name):
        mean, var = tf.nn.moments(h, axes=[-1], keepdims=True)
        return tf.nn.batch_normalization(
            h, mean, var, params[f"{name}.bias"], params[f"{name}.scale"], spec.LN_EPS
        )

    def transformer(x):
        n, s = x.shape[0], x.shape[1]
        d, heads = workload.width, workload.heads
        hd = d // heads
        h = tf.einsum("nsf,fd->nsd", x, params["embed.kernel"]) + params["embed.bias"]
        for i in range(workload.depth):
            p = f"layer{i}"

            def proj(t, role):
                return tf.reshape(tf.einsum("nsd,de->nse", t, params[role]), [n, s, heads, hd])

            q = proj(h, f"{p}.attn.query") / math.sqrt(hd)
            k, v = proj(h, f"{p}.attn.key"), proj(h, f"{p}.attn.value")
            probs = tf.nn.softmax(tf.einsum("nqhd,nkhd->nhqk", q, k), axis=-1)
            ctx = tf.reshape(tf.einsum("nhqk,nkhd->nqhd", probs, v), [n, s, d])
            a = tf.einsum("nsd,de->nse", ctx, params[f"{p}.attn.output"])
            h = layer_norm(h + a, f"{p}.ln1")
            u = (
                tf.einsum("nsd,df->nsf", h, params[f"{p}.mlp.fc1.kernel"])
                + params[f"{p}.mlp.fc1.bias"]
            )
            u = tf.nn.gelu(u, approximate=True)
            m = (
                tf.einsum("nsf,fd->nsd", u, params[f"{p}.mlp.fc2.kernel"])
                + params[f"{p}.mlp.fc2.bias"]
            )
            h = layer_norm(h + m, f"{p}.ln2")
        return tf.matmul(tf.reduce_mean(h, axis=1), params["head.kernel"]) + params["head.bias"]

    model = cnn if workload.name == "cnn" else transformer
    names = list(params)

    def apply_update(grads):
        if opt.kind == "sgd_momentum":
            for k, g in zip(names, grads):
                first[k].assign(opt.momentum * first[k] + g)
                params[k].assign_sub(opt.lr * first[k])
            return
        count.assign_add(1.0)
        bc1, bc2 = 1.0 - tf.pow(opt.b1, count), 1.0 - tf.pow(opt.b2, count)
        for k, g in zip(names, grads):
            first[k].assign(opt.b1 * first[k] + (1.0 - opt.b1) * g)
            second[k].assign(opt.b2 * second[k] + (1.0 - opt.b2) * tf.square(g))
            adam = (first[k] / bc1) / (tf.sqrt(second[k] / bc2) + opt.eps)
            params[k].assign(params[k] - opt.lr * (adam + opt.weight_decay * params[k]))

    @tf.function(jit_compile=True)
    def train_step(x, y):
        with tf.GradientTape() as tape:
            logits = model(x)
            loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits))
        apply_update(tape.gradient(loss, [params[k] for k in names]))
        return loss

    x_np, y_np = workload.data()
    variables = [*params.values(), *buffers.values(), *first.values(), *second.values()]
    if count is not None:
        variables.append(count)
    capture_tf_step(
        out,
        phases,
        step=train_step,
        args=(tf.constant(x_np), tf.constant(y_np)),
        arg_roles=["x", "y"],
        variables=variables,
        var_roles=roles,
        loss=lambda r: r.numpy(),
        params=lambda: {k: np.asarray(v.numpy()) for k, v in params.items()},
        versions=versions,
        notes=[f"{workload.describe()}; {opt.describe()} written on slot variables"],
    )


def _arg_roles(fn: Any, args: tuple, tf: Any) -> list[str]:
    """A user step's flattened arguments named by its parameters: ``x``, ``y``,
    ``batch['ids']`` (``tf.nest`` order: dict keys sorted)."""
    import inspect

    try:
        names = [
            p.name
            for p in inspect.signature(fn).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        names = []
    names += [f"args[{i}]" for i in range(len(names), len(args))]

    def walk(value: Any, path: str) -> Any:
        if isinstance(value, dict):
            return {k: walk(v, f"{path}[{k!r}]") for k, v in value.items()}
        if isinstance(value, (tuple, list)):
            return type(value)(walk(v, f"{path}[{i}]") for i, v in enumerate(value))
        return path

    return tf.nest.flatten(tuple(walk(a, n) for a, n in zip(args, names)))


def _result_roles(returned: Any, tf: Any) -> list[str]:
    """A user step's results: one scalar is ``loss``; a dict's values are its keys."""
    if isinstance(returned, dict):
        return tf.nest.flatten({k: k for k in returned})
    flat = tf.nest.flatten(returned)
    if len(flat) == 1:
        return ["loss" if len(flat[0].shape) == 0 else "result"]
    return ["loss" if i == 0 and len(t.shape) == 0 else f"result[{i}]" for i, t in enumerate(flat)]


if __name__ == "__main__":
    main(capture)
