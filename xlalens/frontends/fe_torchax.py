"""torchax frontend: the seed's PyTorch model run through JAX (``torchax``).

This is how a PyTorch step reaches a GPU now that torch_xla has no CUDA build.
The model (``nn.Linear``) and loss (``nn.MSELoss``) are the seed's PyTorch
modules; torchax's own training idiom, ``torchax.train.make_train_step``, pairs
them with an optax optimizer (``optax.sgd``, the same update rule as
``torch.optim.SGD`` without momentum), and the resulting JAX function is
lowered with ``jax.jit`` like the JAX frontend.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path
from typing import Any

from xlalens.frontends._protocol import Phases, load_target, main, package_versions
from xlalens.workloads import Workload


def capture(workload: Workload, request: dict[str, Any], out: Path, phases: Phases) -> None:
    """Capture one SGD step of the seed's PyTorch model through torchax."""
    # NOTE: [torchax without TensorFlow] torchax imports flax.training.checkpoints,
    # whose flax.io imports tensorflow.io whenever TensorFlow is installed (2.3 s
    # of this frontend's ~7 s, flax 0.12). Nothing here saves checkpoints, and
    # flax.io falls back to plain file I/O when find_spec("tensorflow") is None,
    # which a None entry in sys.modules gives. This process runs torchax only.
    sys.modules.setdefault("tensorflow", None)
    with phases("import"):
        import jax.numpy as jnp
        import numpy as np
        import optax
        import torch
        import torch.nn as nn
        import torchax
        import torchax.interop
        import torchax.train

        from xlalens.frontends._jaxlike import NO_ROLE, capture_jax_step

    versions = package_versions("torch", "torchax", "jax", "jaxlib", "optax")
    env = torchax.default_env()
    if request.get("target"):
        _capture_target(request["target"], env, out, phases, versions)
        return
    if workload.name in ("cnn", "transformer"):
        with env:
            _capture_model(workload, out, phases, versions)
        return
    sizes = workload.layer_sizes()
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.Tanh())
    model = nn.Sequential(*layers)
    linears = [m for m in model if isinstance(m, nn.Linear)]
    with torch.no_grad():
        for lin, (w, b) in zip(linears, workload.params()):
            lin.weight.copy_(torch.from_numpy(w.T.copy()))
            lin.bias.copy_(torch.from_numpy(b))
    criterion = nn.MSELoss()
    roles = workload.param_roles()
    names = {}
    for idx, (rw, rb) in zip([i for i, m in enumerate(model) if isinstance(m, nn.Linear)], roles):
        names[f"{idx}.weight"], names[f"{idx}.bias"] = rw, rb

    weights = {k: jnp.asarray(v.detach().numpy()) for k, v in model.named_parameters()}
    buffers: dict[str, Any] = {}

    def model_fn(weights, buffers, args):
        return torch.func.functional_call(model, {**weights, **buffers}, args)

    optimizer = optax.sgd(workload.lr)
    with phases("trace"):
        torch_step = torchax.train.make_train_step(model_fn, criterion, optimizer)

        def step(*args):
            # make_train_step returns torch views of its results; jit needs arrays.
            return torchax.interop.jax_view(torch_step(*args))

        opt_state = optimizer.init(weights)
    x_np, y_np = workload.data()
    weight_roles = {k: names[k] for k in weights}
    state_roles = __import__("jax").tree_util.tree_map(lambda _: "opt_state", opt_state)

    def std_params(new_weights: dict[str, Any]) -> dict[str, Any]:
        out = {}
        for k, v in new_weights.items():
            arr = np.asarray(v)
            out[names[k]] = arr.T if k.endswith("weight") else arr
        return out

    with env:
        capture_jax_step(
            out,
            phases,
            fn=step,
            args=(weights, buffers, opt_state, jnp.asarray(x_np), jnp.asarray(y_np)),
            input_roles=(weight_roles, {}, state_roles, "x", "y"),
            output_roles=lambda r: (
                "loss",
                weight_roles,
                __import__("jax").tree_util.tree_map(lambda _: NO_ROLE, r[2]),
            ),
            loss=lambda r: float(r[0]),
            params=lambda r: std_params(r[1]),
            loss_kind="before_update",
            versions=versions,
            notes=["torchax.train.make_train_step with optax.sgd; the learning rate is a constant"],
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


def _capture_model(workload: Workload, out: Path, phases: Phases, versions: dict) -> None:
    """cnn / transformer: the shared torch modules through ``make_train_step`` with optax.

    NOTE: [torchax and running statistics] make_train_step returns the loss, the
    weights and the optimizer state only; batch norm's in-place update of its
    running statistics happens on the traced buffers and is dropped, so buffers
    are inputs here and not results.
    """
    import jax
    import jax.numpy as jnp
    import numpy as np
    import optax
    import torch
    import torchax.interop
    import torchax.train

    from xlalens.frontends._jaxlike import capture_jax_step, workload_role
    from xlalens.frontends._torchlike import build, from_torch, loss_fn

    built = build(workload, reshape_pool=True)
    model, opt = built.model, workload.optimizer
    weights = {k: jnp.asarray(v.detach().numpy()) for k, v in model.named_parameters()}
    buffers = {
        k: jnp.asarray(v.detach().numpy()) for k, v in model.named_buffers() if built.roles.get(k)
    }

    def model_fn(weights, buffers, args):
        return torch.func.functional_call(model, {**weights, **buffers}, args)

    if opt.kind == "sgd_momentum":
        optimizer = optax.sgd(opt.lr, momentum=opt.momentum)
    else:
        optimizer = optax.adamw(
            opt.lr, b1=opt.b1, b2=opt.b2, eps=opt.eps, weight_decay=opt.weight_decay
        )
    with phases("trace"):
        torch_step = torchax.train.make_train_step(model_fn, loss_fn(), optimizer)

        def step(weights, buffers, opt_state, x, y):
            # make_train_step returns torch views of its results; jit needs arrays.
            return torchax.interop.jax_view(torch_step(weights, buffers, opt_state, x, y))

        opt_state = optimizer.init(weights)

    def role_of(path: str) -> str | None:
        if path == "result[0]":
            return "loss"
        r = workload_role(path)
        if r is None or r in ("x", "y"):
            return r
        name, _, slot = r.partition("/")
        mapped = built.roles.get(name)
        return None if mapped is None else mapped + (f"/{slot}" if slot else "")

    del jax
    capture_jax_step(
        out,
        phases,
        fn=step,
        args=(weights, buffers, opt_state, jnp.asarray(built.x), jnp.asarray(built.y)),
        role_of=role_of,
        loss=lambda r: float(r[0]),
        params=lambda r: {
            built.roles[k]: from_torch(built.roles[k], np.asarray(v)) for k, v in r[1].items()
        },
        loss_kind="before_update",
        versions=versions,
        notes=[
            f"{workload.describe()}; torch.nn modules through torchax.train.make_train_step with optax"
        ],
    )


if __name__ == "__main__":
    main(capture)
