"""Sharded capture in Keras on JAX: ``keras.distribution`` with a ``LayoutMap``.

The model is fe_keras's (the mlp with its Dense layers named ``layer{i}``; cnn
and transformer ``_build_model``, whose layers carry the workload's names). It is
built twice in this process:

1. without a distribution: the 1-device step, ``jax.jit(model.train_step)`` on
   device 0, the proof's reference; its variable paths (``layer0_fc1/kernel``,
   ``layer0_attn/query/kernel``, ``block0_conv1/kernel``) are the keys of the
   ``LayoutMap`` (regexes that ``LayoutMap`` full-matches; a Sequential's own
   name, the first path component, may change between the builds);
2. under ``set_distribution(ModelParallel(layout_map=..., batch_dim_name=...))``
   on a ``DeviceMesh`` of the subprocess's host devices: the sharded step.

The layouts are the shared placements (``_spmd_plan``) in Keras's layouts (dense
``[in, out]`` and conv HWIO as the workload's; ``MultiHeadAttention`` kernels
split by heads, :func:`~xlalens.frontends._spmd_plan.keras_attention_layout`).
The data is placed batch-sharded with ``jax.device_put`` (otherwise everything
stays replicated, GUIDE §4). ``jax.jit(model.train_step)`` is captured as in
``fe_keras``, and every result (logs, trainable, non-trainable, optimizer and
metric state) is compared with the 1-device step's.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from xlalens.frontends._protocol import Phases, package_versions
from xlalens.ir._mesh import MeshSpec
from xlalens.workloads import Workload

_ATTENTION = ("attn.query", "attn.key", "attn.value", "attn.output")


def _state(model: Any) -> tuple:
    groups = (
        model.trainable_variables,
        model.non_trainable_variables,
        model.optimizer.variables,
        model.metrics_variables,
    )
    return groups, tuple([v.value for v in g] for g in groups)


def _whole(axes: tuple, spec: MeshSpec) -> tuple:
    """``axes`` with every mesh axis of size 1 read as None: splitting over one device
    leaves the dimension whole (jax then places a SingleDeviceSharding, no spec)."""
    size = dict(zip(spec.axes, spec.shape))
    return tuple(None if isinstance(a, str) and size.get(a) == 1 else a for a in axes)


def capture_sharded(
    workload: Workload,
    spec: MeshSpec,
    out: Path,
    phases: Phases,
    build: Callable[[Workload], tuple[Any, dict[str, str]]],
) -> None:
    """Capture the workload's Keras train step distributed over ``spec``.

    ``build`` is fe_keras's ``build_named`` (the compiled model and variable path ->
    role), handed in because fe_keras imports this module.
    """
    with phases("import"):
        import jax
        import keras
        import numpy as np
        from jax.sharding import NamedSharding
        from jax.sharding import PartitionSpec as P

        from xlalens.frontends import _spmd_plan as plan
        from xlalens.frontends._jaxlike import NO_ROLE, capture_jax_step
        from xlalens.frontends._spmd_jax import make_mesh

    shapes = workload.param_shapes()
    x_np, y_np = workload.data()

    # 1. The 1-device step (no distribution yet), on device 0.
    with phases("single_device"):
        model1, roles1 = build(workload)
        _, state1 = _state(model1)
        dev0 = jax.devices()[0]
        single = jax.jit(model1.train_step)(
            jax.device_put(state1, dev0), jax.device_put((x_np, y_np), dev0)
        )
        expected = [np.asarray(a) for a in jax.tree_util.tree_leaves(single)]

    # 2. The layouts, by the variable paths the same layer names give again.
    # sharding: begin
    dist = keras.distribution
    mesh = dist.DeviceMesh(spec.shape, list(spec.axes), devices=dist.list_devices()[: spec.devices])
    layout_map = dist.LayoutMap(mesh)
    for var in model1.trainable_variables:
        role = roles1[var.path]
        where = plan.param_spec(role, shapes[role], spec)
        if role.endswith(_ATTENTION):
            where = plan.keras_attention_layout(role, where, workload.heads, spec)
        if len(where) != len(var.shape):
            raise RuntimeError(f"Keras variable {var.path} {var.shape} is not {role} {where}")
        # A Sequential's paths start with its own name, which the second build
        # changes (sequential -> sequential_1): the key allows any first component.
        tail = var.path.removeprefix(f"{model1.name}/")
        layout_map[r"(?:[^/]*/)?" + re.escape(tail)] = where
    batch = plan.batch_spec(2, spec)[0]
    dist.set_distribution(dist.ModelParallel(layout_map=layout_map, batch_dim_name=batch))
    # sharding: end
    with phases("trace"):
        model, roles = build(workload)

    def spec_of(v: Any) -> Any:
        # On one device jax places a variable with a SingleDeviceSharding, which has
        # no spec: every dimension is whole (the 1-device point of a scaling table).
        return getattr(v.value.sharding, "spec", None)

    placed = [
        f"{roles[v.path]}: {'one device' if spec_of(v) is None else spec_of(v)}"
        for v in model.trainable_variables
    ]
    for v in model.trainable_variables:
        want = tuple(layout_map[v.path].axes)
        got = tuple(spec_of(v) or ())
        got += (None,) * (len(v.shape) - len(got))
        if _whole(got, spec) != _whole(want, spec):
            raise RuntimeError(f"{v.path} is placed {got}, not {want}: the LayoutMap did not apply")
    # sharding: begin
    jmesh = make_mesh(spec)
    x = jax.device_put(x_np, NamedSharding(jmesh, P(*plan.batch_spec(x_np.ndim, spec))))
    y = jax.device_put(y_np, NamedSharding(jmesh, P(*plan.batch_spec(y_np.ndim, spec))))
    # sharding: end
    groups, state = _state(model)
    state_roles = tuple(
        [roles.get(v.path) or ("metric_state" if g is groups[3] else NO_ROLE) for v in g]
        for g in groups
    )

    def params(r: Any) -> dict[str, Any]:
        # Keras's attention kernels are [d, heads, head_dim]; the workload's [d, d].
        return {
            roles[v.path]: np.reshape(np.asarray(val), shapes[roles[v.path]])
            for v, val in zip(model.trainable_variables, r[1][0])
        }

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
            f"{workload.describe()}; Keras layers, keras.optimizers",
            f"{spec.strategy} over mesh {'x'.join(map(str, spec.shape))} "
            f"({','.join(spec.axes)}), keras.distribution ModelParallel with a LayoutMap",
        ],
    )
    from xlalens.dumpdir import read_outputs

    sharded = read_outputs(out / "outputs.json").results
    # Both runs call the train step of a model built by the same ``build``.
    code = plan.code_change(model1.train_step, model.train_step, capture_sharded)
    plan.record_proof(out, spec, sharded, expected, placed, code=code)
