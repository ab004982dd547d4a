"""torchax frontend: the workload's PyTorch module run through JAX (``torchax``).

This is how a PyTorch step reaches a GPU now that torch_xla has no CUDA build.
The module and loss are the shared PyTorch ones (``_torchlike``: ``nn.Linear``
layers and ``nn.MSELoss`` for regression/mlp, the cnn and transformer modules
with cross-entropy); torchax's own training idiom,
``torchax.train.make_train_step``, pairs them with an optax optimizer of the
workload's conventions, and the resulting JAX function is lowered with
``jax.jit`` like the JAX frontend. A sharded step (``--devices``) places the
same function's arguments with jax shardings (``_spmd_torchax``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xlalens.frontends._protocol import Phases, load_target, main, package_versions
from xlalens.workloads import Workload


@dataclass(frozen=True, slots=True)
class TorchaxStep:
    """A workload's torch module as one jax function through torchax, with its arguments."""

    step: Callable[..., Any]
    """``step(weights, buffers, opt_state, x, y) -> (loss, weights, opt_state)``, jax arrays."""
    args: tuple
    """Its arguments: weights and buffers by torch name, the optax state, x, y (jax arrays)."""
    roles: dict[str, str | None]
    """torch ``named_parameters()``/``named_buffers()`` name -> workload role."""
    role_of: Callable[[str], str | None]
    """Program path (``weights['layers.0.weight']``, ``opt_state[0].mu[...]``) -> role."""
    params: Callable[[Any], dict[str, Any]]
    """The step's result -> updated parameters by role, workload layout."""
    optimizer: str
    """The optax optimizer, for the manifest's note."""


def torchax_step(workload: Workload) -> TorchaxStep:
    """The workload's shared torch module (``_torchlike.build``) as a torchax train step.

    torchax's own training idiom, ``torchax.train.make_train_step``, pairs the
    module and its loss with an optax optimizer of the workload's conventions
    (``optax.sgd``, with momentum for cnn, ``optax.adamw`` for transformer).

    NOTE: [torchax and running statistics] make_train_step returns the loss, the
    weights and the optimizer state only; batch norm's in-place update of its
    running statistics happens on the traced buffers and is dropped, so buffers
    are inputs here and not results.

    Example:
        >>> made = torchax_step(Workload("mlp", depth=1))  # doctest: +SKIP
        >>> loss, weights, opt_state = jax.jit(made.step)(*made.args)
    """
    import jax.numpy as jnp
    import numpy as np
    import optax
    import torch
    import torchax.interop
    import torchax.train

    from xlalens.frontends._jaxlike import workload_role
    from xlalens.frontends._torchlike import build, from_torch, loss_fn

    built = build(workload, reshape_pool=True)
    model, opt = built.model, workload.optimizer
    weights = {k: jnp.asarray(v.detach().numpy()) for k, v in model.named_parameters()}
    buffers = {
        k: jnp.asarray(v.detach().numpy()) for k, v in model.named_buffers() if built.roles.get(k)
    }

    def model_fn(weights, buffers, args):
        return torch.func.functional_call(model, {**weights, **buffers}, args)

    if opt.kind == "sgd":
        optimizer = optax.sgd(opt.lr)
    elif opt.kind == "sgd_momentum":
        optimizer = optax.sgd(opt.lr, momentum=opt.momentum)
    else:
        optimizer = optax.adamw(
            opt.lr, b1=opt.b1, b2=opt.b2, eps=opt.eps, weight_decay=opt.weight_decay
        )
    torch_step = torchax.train.make_train_step(model_fn, loss_fn(workload), optimizer)

    def step(weights, buffers, opt_state, x, y):
        # make_train_step returns torch views of its results; jit needs arrays.
        return torchax.interop.jax_view(torch_step(weights, buffers, opt_state, x, y))

    def role_of(path: str) -> str | None:
        if path == "result[0]":
            return "loss"
        r = workload_role(path)
        if r is None or r in ("x", "y"):
            return r
        name, _, slot = r.partition("/")
        mapped = built.roles.get(name)
        return None if mapped is None else mapped + (f"/{slot}" if slot else "")

    return TorchaxStep(
        step=step,
        args=(
            weights,
            buffers,
            optimizer.init(weights),
            jnp.asarray(built.x),
            jnp.asarray(built.y),
        ),
        roles=built.roles,
        role_of=role_of,
        params=lambda r: {
            built.roles[k]: from_torch(built.roles[k], np.asarray(v)) for k, v in r[1].items()
        },
        optimizer=f"optax {opt.describe()}",
    )


def capture(workload: Workload, request: dict[str, Any], out: Path, phases: Phases) -> None:
    """Capture one training step of the workload's PyTorch module through torchax."""
    # NOTE: [torchax without TensorFlow] torchax imports flax.training.checkpoints,
    # whose flax.io imports tensorflow.io whenever TensorFlow is installed (2.3 s
    # of this frontend's ~7 s, flax 0.12). Nothing here saves checkpoints, and
    # flax.io falls back to plain file I/O when find_spec("tensorflow") is None,
    # which a None entry in sys.modules gives. This process runs torchax only.
    sys.modules.setdefault("tensorflow", None)
    with phases("import"):
        import torchax
        import torchax.interop
        import torchax.train

        from xlalens.frontends._jaxlike import capture_jax_step

    versions = package_versions("torch", "torchax", "jax", "jaxlib", "optax")
    env = torchax.default_env()
    if request.get("target"):
        _capture_target(request["target"], env, out, phases, versions)
        return
    if request.get("sharding"):
        from xlalens.frontends._spmd_torchax import capture_sharded
        from xlalens.ir._mesh import MeshSpec

        with env:
            capture_sharded(
                workload,
                MeshSpec.from_json(request["sharding"]),
                out,
                phases,
                versions,
                step=torchax_step,
            )
        return
    with env:
        with phases("trace"):
            made = torchax_step(workload)
        capture_jax_step(
            out,
            phases,
            fn=made.step,
            args=made.args,
            role_of=made.role_of,
            loss=lambda r: float(r[0]),
            params=made.params,
            loss_kind="before_update",
            versions=versions,
            notes=[
                f"{workload.describe()}; torch.nn modules through "
                f"torchax.train.make_train_step with {made.optimizer}; the learning rate "
                "is a constant"
            ],
        )


def _capture_target(target: str, env: Any, out: Path, phases: Phases, versions: dict) -> None:
    """A user's torch step through JAX.

    ``make_step(device) -> (fn, args[, named])``, the torch_xla form: here ``device``
    is torchax's ``jax`` device, made inside torchax's environment, so the same
    factory runs on torch_xla and torchax. Tensors the function closes over (a
    model's parameters) become constants of the module; ``args`` are its inputs.
    The older ``make_step() -> (fn, args)`` with CPU tensors works too.
    """
    import inspect

    import jax.numpy as jnp
    import torch
    import torchax.interop

    from xlalens.frontends._jaxlike import capture_jax_step

    factory = load_target(target)
    with env:
        takes_device = bool(inspect.signature(factory).parameters)
        made = factory(torch.device("jax")) if takes_device else factory()
        fn, args = made[0], tuple(made[1])
        jargs = tuple(
            torchax.interop.jax_view(a)
            if getattr(a, "device", None) is not None and a.device.type == "jax"
            else jnp.asarray(a.detach().cpu().numpy())
            for a in args
        )
        jax_fn = torchax.interop.jax_view(fn)

        def step(*args):
            return jax_fn(*args)

        capture_jax_step(
            out,
            phases,
            fn=step,
            args=jargs,
            loss=lambda r: None,
            params=lambda r: {},
            loss_kind="none",
            versions=versions,
            notes=["the user's torch step through torchax.interop.jax_view"],
        )


if __name__ == "__main__":
    main(capture)
