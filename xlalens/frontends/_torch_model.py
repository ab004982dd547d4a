"""A user's torch model as a training step: ``make_model() -> (model, optimizer, loss_fn, batch)``.

Imported only inside the torch frontends' subprocesses (it imports torch).

NOTE: [model-level torch target] a ``--target file.py:make_model`` whose factory
returns a 4-tuple ``(model, optimizer, loss_fn, batch)`` -- an ``nn.Module``, a
``torch.optim.Optimizer`` over its parameters, ``loss_fn(model, batch) -> loss``
and a tensor or a dict/list/tuple of tensors -- is a *model target*: xlalens
writes the training step itself, idiomatically for each frontend.

- torch_xla: ``optimizer.zero_grad(); loss_fn(model, batch).backward();
  optimizer.step()`` on the XLA device, captured as one lazy graph.
- torchax: torchax has no torch autograd, so the gradient comes from jax
  (``jax.value_and_grad`` over ``loss_fn`` through ``torchax.interop``), and the
  optimizer's own update rule is applied to it in jax with the hyperparameters of
  its ``param_groups`` (:func:`jax_update`: SGD with momentum/dampening/nesterov/
  weight decay, Adam and AdamW, written as torch's single-tensor loops write them).

Both name every input and result after the model: parameters and buffers by
their ``named_parameters()``/``named_buffers()`` names, optimizer state as
``<parameter name>/<state key>`` (``exp_avg``, ``exp_avg_sq``,
``momentum_buffer``), the batch by its path (``batch['input_ids']``,
``batch[0]``), and the loss as ``loss``.

The older form, ``make_step(device) -> (fn, args[, named])``, is still
accepted; anything else is refused with one line saying what was expected.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.utils._pytree as pytree

from xlalens._errors import UsageError
from xlalens.frontends._protocol import load_target

EXPECTED = (
    "(model, optimizer, loss_fn, batch) with loss_fn(model, batch) -> loss "
    "(a model target), or (fn, args[, named]) (a step target); see docs/zoo.md"
)


@dataclass(frozen=True, slots=True)
class ModelTarget:
    """What a model-level factory returned."""

    model: torch.nn.Module
    """The model (training mode is the user's choice)."""
    optimizer: torch.optim.Optimizer
    """A torch optimizer over the model's parameters."""
    loss_fn: Callable[[torch.nn.Module, Any], torch.Tensor]
    """``loss_fn(model, batch)`` returns the scalar loss."""
    batch: Any
    """A tensor or a dict/list/tuple pytree of tensors."""


def call_factory(spec: str, device: Any) -> Any:
    """Call the target's factory, with ``device`` when it takes a parameter."""
    factory = load_target(spec)
    takes_device = bool(inspect.signature(factory).parameters)
    return factory(device) if takes_device else factory()


def as_model_target(spec: str, made: Any) -> ModelTarget | None:
    """The factory's result as a :class:`ModelTarget`, None for a step target.

    Raises:
        UsageError: neither form, naming what came back and what was expected.
    """
    is_seq = isinstance(made, (tuple, list))
    if is_seq and len(made) in (2, 3) and callable(made[0]) and not _has_optimizer(made):
        return None  # (fn, args[, named]); fn may itself be a module
    if is_seq and made and isinstance(made[0], torch.nn.Module):
        if len(made) != 4:
            raise UsageError(f"--target {spec} returned {_describe(made)}; expected {EXPECTED}")
        model, optimizer, loss_fn, batch = made
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise UsageError(
                f"--target {spec}: item 2 is a {type(optimizer).__name__}, not a "
                f"torch.optim.Optimizer; expected {EXPECTED}"
            )
        if not callable(loss_fn):
            raise UsageError(f"--target {spec}: item 3 is not callable; expected {EXPECTED}")
        leaves = pytree.tree_leaves(batch)
        if not leaves or not all(isinstance(t, torch.Tensor) for t in leaves):
            raise UsageError(
                f"--target {spec}: the batch must be a tensor or a dict/list/tuple of tensors; "
                f"expected {EXPECTED}"
            )
        return ModelTarget(model, optimizer, loss_fn, batch)
    raise UsageError(f"--target {spec} returned {_describe(made)}; expected {EXPECTED}")


def _has_optimizer(made: Any) -> bool:
    return any(isinstance(v, torch.optim.Optimizer) for v in made)


def _describe(value: Any) -> str:
    if isinstance(value, (tuple, list)):
        inner = ", ".join(type(v).__name__ for v in value[:5])
        return f"a {len(value)}-{type(value).__name__} ({inner})"
    return f"a {type(value).__name__}"


def batch_paths(batch: Any, name: str = "batch") -> list[str]:
    """Each leaf's path as jax's ``keystr`` writes it: ``batch['input_ids']``, ``batch[0]``.

    Example:
        >>> batch_paths({"x": torch.ones(2), "y": [torch.ones(1)]})
        ["batch['x']", "batch['y'][0]"]
    """
    leaves, _ = pytree.tree_flatten_with_path(batch)
    out = []
    for path, _leaf in leaves:
        text = name
        for key in path:
            if isinstance(key, pytree.MappingKey):
                text += f"[{key.key!r}]"
            elif isinstance(key, pytree.SequenceKey):
                text += f"[{key.idx}]"
            else:
                text += f".{getattr(key, 'name', key)}"
        out.append(text)
    return out


def param_names(optimizer: torch.optim.Optimizer, model: torch.nn.Module) -> dict[int, str]:
    """``id(parameter)`` -> its ``named_parameters()`` name, for the optimizer's parameters.

    Raises:
        UsageError: the optimizer holds a tensor that is not a parameter of the model.
    """
    names = {id(p): n for n, p in model.named_parameters()}
    for group in optimizer.param_groups:
        for p in group["params"]:
            if id(p) not in names:
                raise UsageError(
                    "the optimizer holds a tensor that is not one of model.named_parameters(); "
                    "build it from model.parameters() after moving the model"
                )
    return names


def to_device_tied(model: torch.nn.Module, device: Any) -> torch.nn.Module:
    """``model.to(device)``, keeping parameters that were one tensor one tensor.

    Moving a module to the XLA device gives each module a new Parameter of its own
    (torch's ``_apply`` cannot swap an XLA tensor into a CPU one in place), so tied
    weights come apart: GPT-2's ``lm_head.weight`` and ``transformer.wte.weight``
    become two inputs, and the output projection's gradient no longer reaches the
    embedding. Every place that held one Parameter is pointed back at one moved one.
    """
    slots: dict[int, list[tuple[torch.nn.Module, str]]] = {}
    for _, module in model.named_modules(remove_duplicate=False):
        for key, param in module._parameters.items():
            if param is not None:
                slots.setdefault(id(param), []).append((module, key))
    moved = model.to(device)
    for places in slots.values():
        first_module, first_key = places[0]
        shared = first_module._parameters[first_key]
        for module, key in places[1:]:
            module._parameters[key] = shared
    return moved


def moved_to(target: ModelTarget, device: Any) -> ModelTarget:
    """The target with its model, optimizer and batch on ``device``.

    A model already on the device is kept as it is. Otherwise the model is moved and
    the optimizer rebuilt over the moved parameters with the same param_groups (moving
    a module to the XLA device replaces its Parameter objects, which the old
    optimizer would still point at).
    """
    batch = pytree.tree_map(lambda t: t.to(device), target.batch)
    params = list(target.model.parameters())
    if all(p.device.type == torch.device(device).type for p in params):
        return ModelTarget(target.model, target.optimizer, target.loss_fn, batch)
    names = param_names(target.optimizer, target.model)
    if any(target.optimizer.state.values()):
        raise UsageError(
            "the optimizer already has state on another device; build the model on the "
            "device the factory is given (make_model(device)) or create the optimizer "
            "without stepping it"
        )
    model = to_device_tied(target.model, device)
    moved = dict(model.named_parameters())
    groups = [
        {
            **{k: v for k, v in g.items() if k != "params"},
            "params": [moved[names[id(p)]] for p in g["params"]],
        }
        for g in target.optimizer.param_groups
    ]
    cls = type(target.optimizer)
    accepted = inspect.signature(cls).parameters
    # defaults may hold derived keys the constructor does not take (AdamW's
    # decoupled_weight_decay); every group carries its own values anyway.
    defaults = {k: v for k, v in target.optimizer.defaults.items() if k in accepted}
    optimizer = cls(groups, **defaults)
    return ModelTarget(model, optimizer, target.loss_fn, batch)


_STATE_KEYS = {
    "SGD": ("momentum_buffer",),
    "Adam": ("exp_avg", "exp_avg_sq"),
    "AdamW": ("exp_avg", "exp_avg_sq"),
}


def jax_update(optimizer: torch.optim.Optimizer, names: dict[int, str]) -> Callable[..., Any]:
    """The optimizer's update rule as a jax function over parameters named like the model.

    ``update(params, grads, state) -> (params, state)`` takes and returns dicts keyed
    by parameter name; ``state[name]`` is a dict of torch's state keys
    (``momentum_buffer``, ``exp_avg``, ``exp_avg_sq``). A parameter that has no state
    yet (a first step) starts as torch starts it: the momentum buffer is the first
    gradient, Adam's moments are zeros. The step count of Adam is a Python number, as
    torch keeps it on the host for a non-capturable optimizer.

    Raises:
        UsageError: an optimizer or an option torch has and this rule does not
        (amsgrad, maximize, differentiable, fused/capturable state).
    """
    import jax.numpy as jnp

    kind = type(optimizer).__name__
    if kind not in _STATE_KEYS:
        raise UsageError(
            f"torchax: the model target's optimizer is torch.optim.{kind}; the torchax step "
            "applies SGD, Adam or AdamW (use one of them, or capture on torch_xla)"
        )
    for group in optimizer.param_groups:
        for opt in ("amsgrad", "maximize", "differentiable"):
            if group.get(opt):
                raise UsageError(
                    f"torchax: torch.optim.{kind}({opt}=True) is not applied by the torchax step; "
                    f"drop {opt} or capture on torch_xla"
                )
    steps = {}
    for p, st in optimizer.state.items():
        if "step" in st:
            steps[names[id(p)]] = float(st["step"])
    plan = [
        (names[id(p)], {k: v for k, v in group.items() if k != "params"})
        for group in optimizer.param_groups
        for p in group["params"]
    ]

    def update(params: dict, grads: dict, state: dict) -> tuple[dict, dict]:
        new_params, new_state = dict(params), {}
        for name, h in plan:
            p, g, st = params[name], grads[name], dict(state.get(name, {}))
            if kind == "SGD":
                if h["weight_decay"]:
                    g = g + h["weight_decay"] * p
                if h["momentum"]:
                    buf = st.get("momentum_buffer")
                    buf = g if buf is None else buf * h["momentum"] + (1 - h["dampening"]) * g
                    st["momentum_buffer"] = buf
                    g = g + h["momentum"] * buf if h["nesterov"] else buf
                new_params[name] = p - h["lr"] * g
            else:
                b1, b2 = h["betas"]
                if kind == "AdamW":
                    p = p * (1 - h["lr"] * h["weight_decay"])
                elif h["weight_decay"]:
                    g = g + h["weight_decay"] * p
                m = st.get("exp_avg", jnp.zeros_like(p))
                v = st.get("exp_avg_sq", jnp.zeros_like(p))
                m = m + (g - m) * (1 - b1)  # torch: exp_avg.lerp_(grad, 1 - beta1)
                v = v * b2 + (1 - b2) * g * g
                t = steps.get(name, 0.0) + 1
                step_size = h["lr"] / (1 - b1**t)
                denom = jnp.sqrt(v) / (1 - b2**t) ** 0.5 + h["eps"]
                new_params[name] = p - step_size * m / denom
                st.update(exp_avg=m, exp_avg_sq=v)
            if st:
                new_state[name] = st
        return new_params, new_state

    return update


def initial_state(
    optimizer: torch.optim.Optimizer, names: dict[int, str]
) -> dict[str, dict[str, Any]]:
    """The optimizer's tensor state by parameter name (empty before its first step)."""
    out: dict[str, dict[str, Any]] = {}
    for p, st in optimizer.state.items():
        keys = _STATE_KEYS.get(type(optimizer).__name__, ())
        kept = {k: v for k, v in st.items() if k in keys and isinstance(v, torch.Tensor)}
        if kept:
            out[names[id(p)]] = kept
    return out
