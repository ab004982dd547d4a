"""Sharded capture in JAX: the workload's reference step under ``NamedSharding``s.

The step is the workload's own jax reference (``Workload.reference_step``), whose
arguments are placed with ``jax.device_put`` on a ``jax.sharding.Mesh`` of the
subprocess's forced host devices; ``jax.jit`` takes their shardings and the SPMD
partitioner propagates the rest. The capture files are the usual ones: the
StableHLO and HLO are the pre-partitioning modules (with sharding annotations),
``optimized_hlo.txt`` is the partitioned per-device module. The same step on one
device is run too and its results compared (``spmd`` in ``result.json``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from xlalens.frontends._jaxlike import capture_jax_step, workload_role
from xlalens.frontends._protocol import RESULT, Phases
from xlalens.spmd import MeshSpec
from xlalens.workloads import Workload

# tp: Megatron-style pairs: the first matmul of a pair splits its output
# columns, the second its input rows, so only the pair's result is reduced.
_COLUMN = re.compile(r"(attn\.[qkv]|fc1)\.kernel$|(attn\.[qkv]|fc1)\.bias$")
_ROW = re.compile(r"(attn\.o|fc2)\.kernel$")


def _tp_dims(role: str, shape: tuple[int, ...], index: int) -> str | None:
    """``"col"``, ``"row"`` or None (replicated) for one parameter under tp."""
    if _COLUMN.search(role):
        return "col"
    if _ROW.search(role):
        return "row"
    m = re.fullmatch(r"([wb])(\d+)", role)
    if m:  # mlp: even layers split columns, odd layers rows
        col = int(m[2]) % 2 == 0
        if m[1] == "w":
            return "col" if col else "row"
        return "col" if col else None
    return None


def param_spec(role: str, shape: tuple[int, ...], spec: MeshSpec) -> P:
    """The PartitionSpec of one parameter (or optimizer slot) under ``spec.strategy``.

    A dimension that the axis size does not divide stays replicated.
    """
    strategy = spec.strategy
    if not shape:
        return P()
    if strategy == "fsdp":
        n = spec.axis_size("data")
        return P("data", *[None] * (len(shape) - 1)) if shape[0] % n == 0 else P()
    if strategy in ("tp", "dp+tp"):
        n = spec.axis_size("model")
        kind = _tp_dims(role, shape, 0)
        dim = None
        if kind == "col":
            dim = len(shape) - 1
        elif kind == "row" and len(shape) == 2:
            dim = 0
        if dim is None or shape[dim] % n:
            return P()
        return P(*["model" if i == dim else None for i in range(len(shape))])
    return P()


def batch_spec(ndim: int, spec: MeshSpec) -> P:
    """Data (x, y) PartitionSpec: batch over ``data`` for dp, fsdp and dp+tp; else replicated."""
    if spec.strategy == "tp":
        return P()
    return P("data", *[None] * (ndim - 1))


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
    if jax.device_count() < spec.devices:
        raise RuntimeError(
            f"{spec.devices} devices requested but jax sees {jax.device_count()}; "
            "XLA_FLAGS=--xla_force_host_platform_device_count did not reach this process"
        )
    step, args = workload.reference_step()
    devices = np.array(jax.devices()[: spec.devices]).reshape(spec.shape)
    mesh = Mesh(devices, spec.axes)
    params, buffers, opt_state, x, y = args

    def place_params(tree: dict[str, Any]) -> dict[str, Any]:
        return {
            k: jax.device_put(v, NamedSharding(mesh, param_spec(k, tuple(v.shape), spec)))
            for k, v in tree.items()
        }

    placed_state = {
        k: (place_params(v) if isinstance(v, dict) else jax.device_put(v, NamedSharding(mesh, P())))
        for k, v in opt_state.items()
    }
    sharded_args = (
        place_params(params),
        place_params(buffers),
        placed_state,
        jax.device_put(x, NamedSharding(mesh, batch_spec(x.ndim, spec))),
        jax.device_put(y, NamedSharding(mesh, batch_spec(y.ndim, spec))),
    )
    with phases("single_device"):
        # The proof of capture: the very step on one device, unsharded.
        one = jax.device_put(args, jax.devices()[0])
        single = jax.block_until_ready(jax.jit(step)(*one))
    capture_jax_step(
        out,
        phases,
        fn=step,
        args=sharded_args,
        role_of=_role,
        loss=lambda r: float(r[3]),
        params=lambda r: {k: np.asarray(v) for k, v in r[0].items()},
        loss_kind="before_update",
        versions=versions,
        notes=[
            f"{workload.describe()}; {spec.strategy} over mesh "
            f"{'x'.join(map(str, spec.shape))} ({','.join(spec.axes)}), jax NamedSharding"
        ],
    )
    from xlalens._dumpdir import read_outputs
    from xlalens.capture._proof import agree

    sharded = read_outputs(out / "outputs.json").results
    ok, worst, why = agree(
        sharded,
        [np.asarray(a) for a in jax.tree_util.tree_leaves(single)],
        (out / "stablehlo.mlir").read_text(),
    )
    result = json.loads((out / RESULT).read_text())
    result["spmd"] = {
        **spec.to_json(),
        "matches_single_device": ok,
        "max_abs_diff": worst,
        "why": why,
        "input_shardings": [
            str(getattr(a, "sharding", None).spec) for a in jax.tree_util.tree_leaves(sharded_args)
        ],
    }
    (out / RESULT).write_text(json.dumps(result, indent=1))
