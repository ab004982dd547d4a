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


def _build(workload: Workload, *, named: bool = False) -> Any:
    """The dense workload as a ``Sequential``; ``named``: Dense layers ``layer{i}`` (stable
    variable paths, for a sharded capture's ``LayoutMap``)."""
    import keras

    sizes = workload.layer_sizes()
    layers = [keras.Input(shape=(sizes[0],))]
    for i in range(len(sizes) - 1):
        last = i == len(sizes) - 2
        layers.append(
            keras.layers.Dense(
                sizes[i + 1],
                activation=None if last else "tanh",
                name=f"layer{i}" if named else None,
            )
        )
    model = keras.Sequential(layers)
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=workload.lr), loss="mean_squared_error"
    )
    # Replace the random initializers with the shared, fixed values.
    for layer, (w, b) in zip(model.layers, workload.params()):
        layer.set_weights([w, b])
    model.optimizer.build(model.trainable_variables)
    return model


def _build_model(workload: Workload) -> tuple[Any, dict[str, str]]:
    """cnn / transformer as a functional Keras model, set to the shared initial state.

    Returns the compiled model and variable path -> workload role.
    """
    import keras
    import numpy as np

    L = keras.layers
    spec, opt = workload.module, workload.optimizer
    init, bufs = workload.initial_params(), workload.initial_buffers()
    # layer name -> (workload prefix, {variable name: role suffix})
    names: dict[str, tuple[str, dict[str, str]]] = {}
    if workload.name == "cnn":
        inp = keras.Input((workload.image, workload.image, workload.features))

        def conv(h: Any, prefix: str) -> Any:
            name = prefix.replace(".", "_")
            names[name] = (prefix, {"kernel": "kernel"})
            return L.Conv2D(workload.width, 3, padding="same", use_bias=False, name=name)(h)

        def bn(h: Any, prefix: str) -> Any:
            name = prefix.replace(".", "_")
            names[name] = (
                prefix,
                {"gamma": "scale", "beta": "bias", "moving_mean": "mean", "moving_variance": "var"},
            )
            return L.BatchNormalization(momentum=spec.BN_MOMENTUM, epsilon=spec.BN_EPS, name=name)(
                h
            )

        h = L.ReLU()(bn(conv(inp, "stem.conv"), "stem.bn"))
        h = L.MaxPooling2D(2)(h)
        for i in range(workload.depth):
            r = L.ReLU()(bn(conv(h, f"block{i}.conv1"), f"block{i}.bn1"))
            h = L.ReLU()(L.Add()([bn(conv(r, f"block{i}.conv2"), f"block{i}.bn2"), h]))
        h = L.GlobalAveragePooling2D()(h)
        optimizer = keras.optimizers.SGD(learning_rate=opt.lr, momentum=opt.momentum)
    else:
        d, heads = workload.width, workload.heads
        dense_vars = {"kernel": "kernel", "bias": "bias"}
        ln_vars = {"gamma": "scale", "beta": "bias"}
        inp = keras.Input((workload.seq, workload.features))
        names["embed"] = ("embed", dense_vars)
        h = L.Dense(d, name="embed")(inp)
        for i in range(workload.depth):
            p = f"layer{i}"
            names[f"{p}_attn"] = (
                f"{p}.attn",
                {
                    "query/kernel": "query",
                    "key/kernel": "key",
                    "value/kernel": "value",
                    "attention_output/kernel": "output",
                },
            )
            a = L.MultiHeadAttention(heads, d // heads, use_bias=False, name=f"{p}_attn")(h, h)
            names[f"{p}_ln1"] = (f"{p}.ln1", ln_vars)
            h = L.LayerNormalization(epsilon=spec.LN_EPS, name=f"{p}_ln1")(L.Add()([h, a]))
            names[f"{p}_fc1"] = (f"{p}.mlp.fc1", dense_vars)
            names[f"{p}_fc2"] = (f"{p}.mlp.fc2", dense_vars)
            u = L.Dense(
                d * spec.MLP_RATIO,
                activation=lambda t: keras.activations.gelu(t, approximate=True),
                name=f"{p}_fc1",
            )(h)
            m = L.Dense(d, name=f"{p}_fc2")(u)
            h = L.LayerNormalization(epsilon=spec.LN_EPS, name=f"{p}_ln2")(L.Add()([h, m]))
            names[f"{p}_ln2"] = (f"{p}.ln2", ln_vars)
        h = L.GlobalAveragePooling1D()(h)
        # NOTE: [Keras's Adam epsilon] Keras adds epsilon to sqrt(v) before the
        # bias correction, torch/optax to sqrt(v_hat) (xlalens.workloads._optim).
        # eps * sqrt(1 - b2) makes the first step, the one captured, the same.
        optimizer = keras.optimizers.AdamW(
            learning_rate=opt.lr,
            weight_decay=opt.weight_decay,
            beta_1=opt.b1,
            beta_2=opt.b2,
            epsilon=opt.eps * (1.0 - opt.b2) ** 0.5,
        )
    names["head"] = ("head", {"kernel": "kernel", "bias": "bias"})
    model = keras.Model(inp, L.Dense(workload.classes, name="head")(h))
    model.compile(optimizer=optimizer, loss=keras.losses.CategoricalCrossentropy(from_logits=True))
    roles: dict[str, str] = {}
    for layer in model.layers:
        if layer.name not in names:
            continue
        prefix, table = names[layer.name]
        for var in layer.weights:
            suffix = next((r for k, r in table.items() if var.path.endswith("/" + k)), None)
            if suffix is None:
                raise RuntimeError(f"unexpected Keras variable {var.path} in layer {layer.name}")
            role = f"{prefix}.{suffix}"
            value = init[role] if role in init else bufs[role]
            var.assign(np.reshape(value, var.shape))
            roles[var.path] = role
    model.optimizer.build(model.trainable_variables)
    return model, roles


def build_named(workload: Workload) -> tuple[Any, dict[str, str]]:
    """The compiled Keras model of ``workload`` with stable variable paths, and path -> role."""
    if workload.name == "mlp":
        model, known = _build(workload, named=True), None
    else:
        model, known = _build_model(workload)
    return model, _roles(model, workload, known)


def _roles(model: Any, workload: Workload | None, known: dict[str, str] | None = None) -> dict:
    """Variable path -> role: parameters, optimizer slots, metric state.

    Parameters of the dense workloads are ``w``/``b`` per Dense layer, of cnn and
    transformer the workload's roles (``known``); a user's model keeps its
    variable paths. An optimizer slot is named after its parameter: Keras calls
    it ``<optimizer>/<path with _>_momentum`` (SGD velocity, Adam first moment) or
    ``..._velocity`` (Adam second moment); its role is ``<role>/m`` or ``<role>/v``.
    """
    roles = {v.path: v.path for v in model.trainable_variables}
    roles.update({v.path: v.path for v in model.non_trainable_variables})
    if known:
        roles.update(known)
    elif workload is not None:
        for layer, (rw, rb) in zip(model.layers, workload.param_roles()):
            roles[layer.kernel.path] = rw
            roles[layer.bias.path] = rb
    slots = {}
    for var in model.trainable_variables:
        key = var.path.replace("/", "_")
        slots[f"{key}_momentum"] = f"{roles[var.path]}/m"
        slots[f"{key}_velocity"] = f"{roles[var.path]}/v"
    for var in model.optimizer.variables:
        tail = var.path.split("/", 1)[-1]
        roles[var.path] = (
            "lr"
            if var.path.endswith("learning_rate")
            else ("iteration" if var.path.endswith("iteration") else slots.get(tail, "opt_state"))
        )
    for var in model.metrics_variables:
        roles[var.path] = "metric_state"
    return roles


_DATA_NAMES = ("x", "y", "sample_weight")


def _model_and_data(target: str, made: Any) -> tuple[Any, tuple]:
    """``(model, (x, y[, sample_weight]))`` from a Keras factory, or one line saying what
    was expected."""
    import keras

    from xlalens._errors import UsageError

    expected = (
        "(compiled keras.Model, (x, y[, sample_weight])), x and y arrays or dicts/tuples of arrays"
    )
    if not (isinstance(made, (tuple, list)) and len(made) == 2):
        raise UsageError(f"--target {target} returned a {type(made).__name__}; expected {expected}")
    model, data = made
    if not isinstance(model, keras.Model) or model.optimizer is None:
        raise UsageError(
            f"--target {target}: item 1 is a {type(model).__name__} (a compiled keras.Model "
            f"is needed: call model.compile(optimizer=..., loss=...)); expected {expected}"
        )
    if not isinstance(data, (tuple, list)) or not 1 <= len(data) <= 3:
        raise UsageError(
            f"--target {target}: item 2 is not (x, y[, sample_weight]); expected {expected}"
        )
    return model, tuple(data)


def _data_roles(data: tuple) -> tuple:
    """The batch's structure with each leaf's name: ``x``, ``y``, ``x['token_ids']``."""

    def walk(value: Any, path: str) -> Any:
        if isinstance(value, dict):
            return {k: walk(v, f"{path}[{k!r}]") for k, v in value.items()}
        if isinstance(value, (tuple, list)):
            return type(value)(walk(v, f"{path}[{i}]") for i, v in enumerate(value))
        return path

    return tuple(walk(v, _DATA_NAMES[i]) for i, v in enumerate(data))


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

    if backend == "jax":
        # Ops at the layer's line, not keras/src/backend/jax/numpy.py (_frames NOTE).
        from xlalens.frontends._frames import locate_at_model

        locate_at_model()
    if keras.backend.backend() != backend:
        raise RuntimeError(f"KERAS_BACKEND={backend} but keras loaded {keras.backend.backend()}")
    if request.get("sharding") and backend == "jax":
        from xlalens.frontends._spmd_keras import capture_sharded
        from xlalens.ir._mesh import MeshSpec

        spec = MeshSpec.from_json(request["sharding"])
        capture_sharded(workload, spec, out, phases, build=build_named)
        return
    target = request.get("target")
    known = None
    with phases("trace"):
        if target:
            # The user's compiled model and one batch: make_step() -> (model, (x, y)),
            # x and y arrays or dicts/tuples of them (a keras-hub task model's
            # {"token_ids": ..., "padding_mask": ...}); a third item is sample weights.
            made = load_target(target)()
            model, data = _model_and_data(target, made)
            # Compiled metrics (a keras-hub task's default accuracy) and the compiled loss
            # build at their first call; the captured step must find their variables
            # made already, as Keras's fit/train_on_batch do first (Keras 3.15's private
            # Trainer._symbolic_build, with (x, y, sample_weight)).
            model._symbolic_build(data_batch=(*data, None, None)[:3])
            if not model.optimizer.built:
                model.optimizer.build(model.trainable_variables)
        elif workload.name in ("cnn", "transformer"):
            data = workload.data()
            model, known = _build_model(workload)
        else:
            data = workload.data()
            model = _build(workload)
    data = tuple(data)
    data_roles = _data_roles(data)
    roles = _roles(model, None if target else workload, known)
    shapes = workload.param_shapes() if known else {}
    versions = package_versions("keras", "tensorflow", "jax", "jaxlib")

    def updated_params(trainable: list[Any]) -> dict[str, Any]:
        out = {}
        for v, val in zip(model.trainable_variables, trainable):
            role = roles[v.path]
            # Keras's attention kernels are [d, heads, head_dim]; the workload's [d, d].
            out[role] = np.reshape(np.asarray(val), shapes[role]) if role in shapes else val
        return {k: np.asarray(v) for k, v in out.items()}

    notes = [
        "the learning rate is an optimizer variable (an input), and the optimizer's "
        "iteration counter and the loss metric's total/count are state carried by the step"
    ]
    if known:
        notes.insert(0, f"{workload.describe()}; Keras layers, keras.optimizers")
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
            args=(tf.nest.map_structure(tf.constant, data),),
            arg_roles=tf.nest.flatten(data_roles),
            variables=variables,
            var_roles={id(v): roles.get(v.path) for v in variables},
            loss=lambda r: r["loss"].numpy(),
            # train_step returns {"loss": ..., <metric name>: ...}: each result is named
            # by its key (a keras-hub task's compiled accuracy was left unnamed).
            result_roles=lambda r: tf.nest.flatten({k: k for k in r}),
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
        args=(state, jax.tree_util.tree_map(jax.numpy.asarray, data)),
        input_roles=(state_roles, data_roles),
        output_roles=lambda r: ({k: k for k in r[0]}, state_roles),
        loss=lambda r: float(r[0]["loss"]),
        params=lambda r: updated_params(list(r[1][0])),
        loss_kind="before_update",
        versions=versions,
        notes=notes,
    )


if __name__ == "__main__":
    main(capture)
