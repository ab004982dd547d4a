"""Sharded capture of a jax function: the jax frontend's step, and the helpers torchax reuses.

The jax step is the workload's own jax reference (``Workload.reference_step``),
whose arguments are placed with ``jax.device_put`` on a ``jax.sharding.Mesh`` of
the subprocess's forced host devices (placements: ``_spmd_plan``); ``jax.jit``
takes their shardings and the SPMD partitioner propagates the rest. The capture
files are the usual ones: the StableHLO and HLO are the pre-partitioning modules
(with sharding annotations), ``optimized_hlo.txt`` is the partitioned per-device
module. The same step on one device is run too and its results compared
(``spmd`` in ``result.json``): :func:`capture_and_prove`, shared with torchax.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from xlalens.frontends import _spmd_plan as plan
from xlalens.frontends._jaxlike import capture_jax_step, workload_role
from xlalens.frontends._protocol import Phases
from xlalens.ir._mesh import MeshSpec
from xlalens.workloads import Workload


def param_spec(role: str, shape: tuple[int, ...], spec: MeshSpec) -> P:
    """The PartitionSpec of one parameter (or optimizer slot), workload layout (``_spmd_plan``)."""
    return P(*plan.param_spec(role, shape, spec))


def batch_spec(ndim: int, spec: MeshSpec) -> P:
    """Data (x, y) PartitionSpec: batch over ``data`` for dp, fsdp and dp+tp; else replicated."""
    return P(*plan.batch_spec(ndim, spec))


def make_mesh(spec: MeshSpec) -> Mesh:
    """A ``jax.sharding.Mesh`` of the first ``spec.devices`` devices, row-major, named axes.

    Raises:
        RuntimeError: jax sees fewer devices (the forced device count did not arrive).
    """
    if jax.device_count() < spec.devices:
        raise RuntimeError(
            f"{spec.devices} devices requested but jax sees {jax.device_count()}; "
            "XLA_FLAGS=--xla_force_host_platform_device_count did not reach this process"
        )
    return Mesh(np.array(jax.devices()[: spec.devices]).reshape(spec.shape), spec.axes)


def place(tree: Any, mesh: Mesh, placement: Callable[[str, Any], tuple]) -> Any:
    """``jax.device_put`` every leaf of ``tree`` with ``NamedSharding(mesh, P(*placement(key, leaf)))``.

    ``key`` is the leaf's last dictionary key (a parameter's name, also inside
    optimizer state such as ``opt_state[0].mu['w0']``), or ``""``.
    """

    def put(path: Any, leaf: Any) -> Any:
        keys = [k.key for k in path if isinstance(k, jax.tree_util.DictKey)]
        where = placement(str(keys[-1]) if keys else "", leaf)
        return jax.device_put(leaf, NamedSharding(mesh, P(*where)))

    return jax.tree_util.tree_map_with_path(put, tree)


def capture_and_prove(
    out: Path,
    phases: Phases,
    *,
    fn: Callable[..., Any],
    args: tuple,
    sharded_args: tuple,
    spec: MeshSpec,
    framework: str,
    placing: tuple[Callable[..., Any], ...] = (),
    **capture: Any,
) -> None:
    """Capture ``fn`` on ``sharded_args`` and prove it against ``fn`` on ``args`` on one device.

    Args:
        out: the frontend's folder.
        phases: phase timer.
        fn: the step (a jax function of array pytrees).
        args: its arguments, unplaced (the 1-device run puts them on device 0).
        sharded_args: the same values placed with ``NamedSharding``s.
        spec: the mesh and strategy (recorded in ``result.json``'s ``spmd``).
        framework: how the step was sharded, for the manifest's note.
        placing: the functions whose ``# sharding: begin/end`` blocks place the
            arguments (:func:`~xlalens.frontends._spmd_plan.code_change`).
        capture: the rest of :func:`xlalens.frontends._jaxlike.capture_jax_step`'s
            keywords (roles, loss, params, versions, notes).
    """
    from xlalens.dumpdir import read_outputs

    with phases("single_device"):
        # The proof of capture: the very step on one device, unsharded.
        one = jax.device_put(args, jax.devices()[0])
        single = jax.block_until_ready(jax.jit(fn)(*one))
    notes = list(capture.pop("notes", None) or [])
    notes.append(
        f"{spec.strategy} over mesh {'x'.join(map(str, spec.shape))} "
        f"({','.join(spec.axes)}), {framework}"
    )
    capture_jax_step(out, phases, fn=fn, args=sharded_args, notes=notes, **capture)
    sharded = read_outputs(out / "outputs.json").results
    plan.record_proof(
        out,
        spec,
        sharded,
        jax.tree_util.tree_leaves(single),
        [str(getattr(a, "sharding", None).spec) for a in jax.tree_util.tree_leaves(sharded_args)],
        # The 1-device run above and the capture call the very same ``fn``.
        code=plan.code_change(fn, fn, *placing),
    )


def _role(path: str) -> str | None:
    m = re.fullmatch(r"opt_state\['(m|v|velocity)'\]\['([^']+)'\]", path)
    if m:
        return f"{m[2]}/{'v' if m[1] == 'v' else 'm'}"
    if path == "opt_state['count']":
        return "opt/step"
    if path == "result[3]":
        return "loss"
    return workload_role(path)


def capture_sharded(
    workload: Workload, spec: MeshSpec, out: Path, phases: Phases, versions: dict
) -> None:
    """Capture ``workload``'s step sharded over ``spec`` and record its 1-device agreement."""
    step, args = workload.reference_step()
    params, buffers, opt_state, x, y = args
    # sharding: begin
    mesh = make_mesh(spec)
    shapes = workload.param_shapes()

    def where(key: str, leaf: Any) -> tuple:
        if key in shapes:  # a parameter, or its optimizer slot (same name, same shape)
            return plan.param_spec(key, tuple(leaf.shape), spec)
        return (None,) * leaf.ndim

    sharded_args = (
        place(params, mesh, where),
        place(buffers, mesh, where),
        place(opt_state, mesh, where),
        jax.device_put(x, NamedSharding(mesh, batch_spec(x.ndim, spec))),
        jax.device_put(y, NamedSharding(mesh, batch_spec(y.ndim, spec))),
    )
    # sharding: end
    capture_and_prove(
        out,
        phases,
        fn=step,
        args=args,
        sharded_args=sharded_args,
        spec=spec,
        framework="jax NamedSharding",
        placing=(capture_sharded,),
        role_of=_role,
        loss=lambda r: float(r[3]),
        params=lambda r: {k: np.asarray(v) for k, v in r[0].items()},
        loss_kind="before_update",
        versions=versions,
        notes=[workload.describe()],
    )
