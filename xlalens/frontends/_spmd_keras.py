"""Sharded capture in Keras on JAX: ``keras.distribution`` with a ``LayoutMap``.

The mlp is built under ``set_distribution(ModelParallel(layout_map=...,
batch_dim_name="data"))`` on a ``DeviceMesh`` of the subprocess's host devices;
each Dense layer is named ``layer{i}`` so that the layout keys (regexes over
variable paths, matched from the start: ``.*layer0/kernel``) name it. The
layouts are the jax frontend's (``_spmd_jax.param_spec``); the data is placed
batch-sharded with ``jax.device_put`` (otherwise everything stays replicated,
GUIDE §4). ``jax.jit(model.train_step)`` is captured as in ``fe_keras``. The
proof of capture: the workload's jax reference step on one device gives the
same updated parameters.
"""

from __future__ import annotations

import json
from pathlib import Path

from xlalens.frontends._protocol import RESULT, Phases, package_versions
from xlalens.spmd import MeshSpec
from xlalens.workloads import Workload


def capture_sharded(workload: Workload, spec: MeshSpec, out: Path, phases: Phases) -> None:
    """Capture the Keras mlp train step distributed over ``spec``."""
    with phases("import"):
        import jax
        import keras
        import numpy as np
        from jax.sharding import NamedSharding

        from xlalens.capture._proof import agree
        from xlalens.frontends._jaxlike import NO_ROLE, capture_jax_step
        from xlalens.frontends._spmd_jax import batch_spec, param_spec

    if jax.device_count() < spec.devices:
        raise RuntimeError(f"{spec.devices} devices requested but jax sees {jax.device_count()}")
    dist = keras.distribution
    mesh = dist.DeviceMesh(spec.shape, list(spec.axes), devices=dist.list_devices()[: spec.devices])
    layout_map = dist.LayoutMap(mesh)
    sizes = workload.layer_sizes()
    roles = workload.param_roles()
    for i, ((rw, rb), (w, b)) in enumerate(zip(roles, workload.params())):
        layout_map[f".*layer{i}/kernel"] = tuple(param_spec(rw, w.shape, spec)) or (None, None)
        layout_map[f".*layer{i}/bias"] = tuple(param_spec(rb, b.shape, spec)) or (None,)
    batch = "data" if "data" in spec.axes and spec.strategy != "tp" else None
    dist.set_distribution(dist.ModelParallel(layout_map=layout_map, batch_dim_name=batch))
    with phases("trace"):
        layers = [keras.Input(shape=(sizes[0],))]
        for i in range(len(sizes) - 1):
            last = i == len(sizes) - 2
            layers.append(
                keras.layers.Dense(
                    sizes[i + 1], activation=None if last else "tanh", name=f"layer{i}"
                )
            )
        model = keras.Sequential(layers)
        model.compile(
            optimizer=keras.optimizers.SGD(learning_rate=workload.lr), loss="mean_squared_error"
        )
        for layer, (w, b) in zip(model.layers, workload.params()):
            layer.set_weights([w, b])
        model.optimizer.build(model.trainable_variables)
    role_of = {}
    for layer, (rw, rb) in zip(model.layers, roles):
        role_of[layer.kernel.path], role_of[layer.bias.path] = rw, rb
    for var in model.optimizer.variables:
        role_of[var.path] = "lr" if var.path.endswith("learning_rate") else "iteration"
    x_np, y_np = workload.data()
    # The same devices and axis names as the DeviceMesh: jax sees one mesh.
    jmesh = jax.sharding.Mesh(
        np.array(jax.devices()[: spec.devices]).reshape(spec.shape), spec.axes
    )
    x = jax.device_put(x_np, NamedSharding(jmesh, batch_spec(2, spec)))
    y = jax.device_put(y_np, NamedSharding(jmesh, batch_spec(2, spec)))
    groups = (
        model.trainable_variables,
        model.non_trainable_variables,
        model.optimizer.variables,
        model.metrics_variables,
    )
    state = tuple([v.value for v in g] for g in groups)
    state_roles = tuple(
        [role_of.get(v.path) or ("metric_state" if g is groups[3] else NO_ROLE) for v in g]
        for g in groups
    )

    def params_of(r):
        return {
            role_of[v.path]: np.asarray(val) for v, val in zip(model.trainable_variables, r[1][0])
        }

    captured = {}

    def params(r):
        captured.update(params_of(r))
        return captured

    capture_jax_step(
        out,
        phases,
        fn=model.train_step,
        args=(state, (x, y)),
        input_roles=(state_roles, ("x", "y")),
        output_roles=lambda r: ({k: "loss" if k == "loss" else NO_ROLE for k in r[0]}, state_roles),
        loss=lambda r: float(r[0]["loss"]),
        params=params,
        loss_kind="before_update",
        versions=package_versions("keras", "jax", "jaxlib"),
        notes=[
            f"{workload.describe()}; {spec.strategy} over mesh "
            f"{'x'.join(map(str, spec.shape))} ({','.join(spec.axes)}), keras.distribution "
            "ModelParallel with a LayoutMap"
        ],
    )
    # The 1-device step: the workload's jax reference, unsharded, on device 0.
    step, args = workload.reference_step()
    ref = jax.jit(step)(*jax.device_put(args, jax.devices()[0]))[0]
    names = sorted(captured)
    ok, worst, why = agree(
        [np.asarray(captured[k]) for k in names],
        [np.asarray(ref[k]) for k in names],
        (out / "stablehlo.mlir").read_text(),
    )
    result = json.loads((out / RESULT).read_text())
    result["spmd"] = {
        **spec.to_json(),
        "matches_single_device": ok,
        "max_abs_diff": worst,
        "why": why,
        "input_shardings": [str(v.value.sharding.spec) for v in model.trainable_variables],
    }
    (out / RESULT).write_text(json.dumps(result, indent=1))
