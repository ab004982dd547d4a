"""Sharded capture in torchax: jax shardings on the arrays of the torch module's step.

torchax turns the workload's torch module into a jax function
(``fe_torchax.torchax_step``, handed in: ``make_train_step`` over
``torch.func.functional_call``) whose arguments are plain jax arrays: the
weights and buffers by torch name, the optax state, the data. Sharding it is
jax's own idiom, as in torchax's multi-device examples: ``jax.device_put`` each
array with a ``NamedSharding`` on a ``jax.sharding.Mesh`` of the subprocess's
host devices, then ``jax.jit`` the function and let the SPMD partitioner
propagate the rest. The placements are the shared table (``_spmd_plan``) in
torch's layouts (``nn.Linear`` weights ``[out, in]``, conv OIHW); an optimizer
slot (``mu``/``nu``/``trace``, keyed by the same torch name) goes where its
parameter goes. The proof of capture is the jax frontend's: the same function
on one device, unsharded (``_spmd_jax.capture_and_prove``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from xlalens.frontends._protocol import Phases
from xlalens.ir._mesh import MeshSpec
from xlalens.workloads import Workload


def capture_sharded(
    workload: Workload,
    spec: MeshSpec,
    out: Path,
    phases: Phases,
    versions: dict,
    step: Callable[[Workload], Any],
) -> None:
    """Capture the workload's torchax step sharded over ``spec`` (call inside torchax's env).

    ``step`` is fe_torchax's ``torchax_step``, handed in because fe_torchax imports
    this module.
    """
    import jax
    from jax.sharding import NamedSharding
    from jax.sharding import PartitionSpec as P

    from xlalens.frontends import _spmd_plan as plan
    from xlalens.frontends._spmd_jax import capture_and_prove, make_mesh, place

    with phases("trace"):
        made = step(workload)
    weights, buffers, opt_state, x, y = made.args
    # sharding: begin
    mesh = make_mesh(spec)
    shapes = workload.param_shapes()

    def where(name: str, leaf: Any) -> tuple:
        role = made.roles.get(name)
        if role in shapes:  # a weight or its optimizer slot; buffers stay replicated
            return plan.torch_layout(plan.param_spec(role, shapes[role], spec))
        return (None,) * leaf.ndim

    sharded_args = (
        place(weights, mesh, where),
        place(buffers, mesh, where),
        place(opt_state, mesh, where),
        jax.device_put(x, NamedSharding(mesh, P(*plan.batch_spec(x.ndim, spec)))),
        jax.device_put(y, NamedSharding(mesh, P(*plan.batch_spec(y.ndim, spec)))),
    )
    # sharding: end
    capture_and_prove(
        out,
        phases,
        fn=made.step,
        args=made.args,
        sharded_args=sharded_args,
        spec=spec,
        framework="torchax: jax NamedSharding on the arrays of torchax.train.make_train_step",
        placing=(capture_sharded,),
        role_of=made.role_of,
        loss=lambda r: float(r[0]),
        params=made.params,
        loss_kind="before_update",
        versions=versions,
        notes=[f"{workload.describe()}; torch.nn modules through torchax with {made.optimizer}"],
    )
