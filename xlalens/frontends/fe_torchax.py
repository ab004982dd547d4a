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

import re
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
    # Ops at the model's line, not torchax/ops/jaten.py (_frames NOTE); the built-in
    # workloads' modules are xlalens's own model code.
    from jax._src import source_info_util

    from xlalens.frontends import _torch_model, _torchlike
    from xlalens.frontends._frames import locate_at_model

    locate_at_model()
    # The optimizer update of a model target is xlalens's jax rendition of torch's
    # rule: its ops are located there, not at the interpreter's runpy frame.
    source_info_util.register_inclusion(_torchlike.__file__)
    source_info_util.register_inclusion(_torch_model.__file__)
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
    from xlalens.frontends._torch_model import as_model_target

    factory = load_target(target)
    with env:
        takes_device = bool(inspect.signature(factory).parameters)
        with phases("trace"):
            made = factory(torch.device("jax")) if takes_device else factory()
            model_target = as_model_target(target, made)
        if model_target is not None:
            _capture_model_target(model_target, out, phases, versions)
            return
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


def _batch_norm_as_torch() -> None:
    """Run batch norm through torch's own decomposition on torchax, running statistics included.

    NOTE: [torchax batch norm] torchax 0.0.13's ``_native_batch_norm_legit`` computes
    the new running mean and variance and drops them (it rebinds local names; a
    timm MobileNetV3 step left every ``running_mean`` at 0 and ``running_var`` at 1,
    163-3,500x the bound away from torch_xla), and would take the biased variance.
    ``torch._decomp``'s decomposition of the same ops is torch's reference: it
    updates the buffers in place (``copy_``, which torchax carries out on its
    tensors) with the unbiased variance, from ops torchax lowers to jax.
    """
    import torch
    import torchax
    from torch._decomp import decomposition_table
    from torchax.ops.ops_registry import Operator

    env = torchax.default_env()
    aten = torch.ops.aten
    for op in (aten._native_batch_norm_legit.default, aten.native_batch_norm.default):
        # What env.override_op_definition does, which in 0.0.13 omits `is_view_op`
        # (TypeError): a torch-level function, dispatched back through torchax.
        env._ops[op] = Operator(
            op,
            decomposition_table[op],
            is_jax_function=False,
            is_user_defined=True,
            needs_env=False,
            is_view_op=False,
        )


def _capture_model_target(target: Any, out: Path, phases: Phases, versions: dict) -> None:
    """A model target (``_torch_model``) as one jax function: gradient and update.

    ``step(params, buffers, batch) -> (loss, params, buffers, opt_state)``: the loss
    and its gradient come from ``jax.value_and_grad`` over ``loss_fn(model, batch)``
    with the model's parameters and buffers swapped for the step's inputs
    (``torch.nn.utils.stateless._reparametrize_module``, what ``torch.func.
    functional_call`` uses; tied weights stay tied); the update is the optimizer's
    own rule with its param_groups' hyperparameters (``_torch_model.jax_update``).
    Buffers a forward updates in place (batch norm's running statistics) are results.
    Weights are inputs, named like ``named_parameters()``.
    """
    import jax
    import jax.numpy as jnp
    import numpy as np
    import torch.utils._pytree as pytree
    import torchax.interop
    from torch.nn.utils.stateless import _reparametrize_module

    from xlalens.frontends._jaxlike import NO_ROLE, capture_jax_step
    from xlalens.frontends._torch_model import (
        batch_paths,
        initial_state,
        jax_update,
        param_names,
    )

    model, optimizer = target.model, target.optimizer
    names = param_names(optimizer, model)
    update = jax_update(optimizer, names)
    _batch_norm_as_torch()

    def host(t: Any) -> Any:
        return jnp.asarray(np.asarray(t.detach().cpu().numpy()))

    params = {n: host(p) for n, p in model.named_parameters()}
    buffers = {n: host(b) for n, b in model.named_buffers()}
    state = {
        n: {k: host(v) for k, v in st.items()} for n, st in initial_state(optimizer, names).items()
    }
    batch = pytree.tree_map(host, target.batch)

    def torch_loss(params, buffers, batch):
        with _reparametrize_module(model, {**params, **buffers}, tie_weights=True):
            loss = target.loss_fn(model, batch)
        # In-place updates of buffers (running statistics) landed on these tensors.
        return loss, dict(buffers)

    jax_loss = torchax.interop.jax_view(torch_loss)

    def step(params, buffers, opt_state, batch):
        (loss, new_buffers), grads = jax.value_and_grad(jax_loss, has_aux=True)(
            params, buffers, batch
        )
        new_params, new_state = update(params, grads, opt_state)
        return loss, new_params, new_buffers, new_state

    args = (params, buffers, state, batch)
    batch_roles = pytree.tree_unflatten(
        batch_paths(target.batch), pytree.tree_structure(target.batch)
    )
    input_roles = (
        {n: n for n in params},
        {n: n for n in buffers},
        {n: {k: f"{n}/{k}" for k in st} for n, st in state.items()},
        jax.tree_util.tree_map(lambda r: r or NO_ROLE, batch_roles),
    )

    def output_roles(result: Any) -> Any:
        _, p, b, st = result
        return (
            "loss",
            {n: n for n in p},
            {n: n for n in b},
            {n: {k: f"{n}/{k}" for k in s} for n, s in st.items()},
        )

    try:
        capture_jax_step(
            out,
            phases,
            fn=step,
            args=args,
            input_roles=input_roles,
            output_roles=output_roles,
            loss=lambda r: float(r[0]),
            params=lambda r: {},
            loss_kind="before_update",
            versions={**versions, **package_versions("transformers", "timm")},
            notes=[
                f"model target: {type(model).__name__}; jax.value_and_grad of loss_fn through "
                f"torchax.interop, then torch.optim.{type(optimizer).__name__}'s update rule "
                "with its param_groups' hyperparameters, in jax"
            ],
        )
    except Exception as exc:
        op = _torchax_op(exc)
        if op is None:
            raise
        from xlalens._errors import UsageError

        text = " ".join(str(exc).split()) or type(exc).__name__
        first = text.split(". ")[0].rstrip(".")
        if re.search(r"lineariz|jvp|differentiat|float0|transpose rule", text, re.I):
            raise UsageError(
                f"torchax cannot differentiate aten.{op} (jax: {first}); fix: write that op "
                "differentiably (nn.MaxPool2d(2) as x.unflatten(2, (-1, 2)).unflatten(4, "
                "(-1, 2)).amax((3, 5))) or capture this model on torch_xla"
            ) from exc
        raise UsageError(
            f"torchax cannot run aten.{op} here ({type(exc).__name__}: {first}); fix: capture "
            "this model on torch_xla, or rewrite that op"
        ) from exc


def _torchax_op(exc: BaseException) -> str | None:
    """The aten op whose torchax lowering raised while jax differentiated it, if any.

    torchax writes each aten op as a jax function ``_aten_<op>`` in
    ``torchax/ops/jaten.py``; the innermost such frame of the traceback names it.
    """
    import traceback

    found = None
    while exc is not None:
        for frame in traceback.extract_tb(exc.__traceback__):
            if frame.filename.replace("\\", "/").endswith("torchax/ops/jaten.py"):
                if frame.name.startswith("_aten_"):
                    found = frame.name[len("_aten_") :]
        exc = exc.__cause__ or exc.__context__
    return found


if __name__ == "__main__":
    main(capture)
