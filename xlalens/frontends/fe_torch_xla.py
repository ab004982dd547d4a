"""PyTorch/XLA frontend: the seed's ``nn.Linear`` / ``nn.MSELoss`` / ``optim.SGD`` loop on
the XLA device, captured as torch_xla's lazy graph of one full step.

NOTE: [capturing the lazy graph] forward, backward and ``optimizer.step()`` only
record IR until a sync. Before syncing we ask torch_xla for the HLO and
StableHLO of the tensors the step produces (loss and the updated parameters) and
for the device-data inputs of that graph, which come back in the order of the
module's parameters (``_get_tensors_xla_device_data_node``; the same order the
dynamo bridge relies on). The learning rate is one of those inputs: torch_xla
passes scalars as device data (here as ``-lr``, since SGD adds ``-lr * grad``).
torch_xla prints no optimized HLO of its own through a public API, so the core
compiles the captured StableHLO for the optimized level.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

from xlalens.frontends._protocol import (
    Phases,
    main,
    package_versions,
    time_native,
    write_capture,
)
from xlalens.frontends._torch_frames import located_backward
from xlalens.workloads import Workload


def capture(workload: Workload, request: dict[str, Any], out: Path, phases: Phases) -> None:
    """Capture one SGD step of the seed's PyTorch model on the XLA device."""
    os.environ.setdefault("PJRT_DEVICE", "CPU")
    if request.get("sharding"):
        from xlalens.frontends._spmd_torch_xla import TorchXlaSteps, capture_sharded
        from xlalens.ir._mesh import MeshSpec

        steps = TorchXlaSteps(_lower_and_run, _input_roles, _time_native_step)
        capture_sharded(workload, MeshSpec.from_json(request["sharding"]), out, phases, steps)
        return
    with phases("import"):
        import torch
        import torch.nn as nn
        import torch.optim as optim
        import torch_xla

    device = torch_xla.device()
    if request.get("target"):
        _capture_target(request["target"], device, out, phases)
        return
    if workload.name in ("mlp", "cnn", "transformer"):
        _capture_model(workload, device, out, phases)
        return
    from xlalens.frontends._torchlike import cpu_baselines

    sizes = workload.layer_sizes()

    class LinearRegressionModel(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.linear = nn.Linear(sizes[0], sizes[1])

        def forward(self, x):
            return self.linear(x)

    with phases("trace"):
        model = LinearRegressionModel()
        linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
        with torch.no_grad():  # the shared fixed init; torch stores weight as [out, in]
            for lin, (w, b) in zip(linears, workload.params()):
                lin.weight.copy_(torch.from_numpy(w.T.copy()))
                lin.bias.copy_(torch.from_numpy(b))
        cpu_model = copy.deepcopy(model)  # the initial state, for the CPU baselines
        model = model.to(device)
        criterion = nn.MSELoss()
        optimizer = optim.SGD(model.parameters(), lr=workload.lr)
        x_np, y_np = workload.data()
        x_train = torch.from_numpy(x_np).to(device)
        y_train = torch.from_numpy(y_np).to(device)
        torch_xla.sync()

        roles = workload.param_roles()
        role_of = {}
        for lin, (rw, rb) in zip(linears, roles):
            role_of[torch_xla._XLAC._xla_get_tensor_id(lin.weight)] = rw
            role_of[torch_xla._XLAC._xla_get_tensor_id(lin.bias)] = rb
        role_of[torch_xla._XLAC._xla_get_tensor_id(x_train)] = "x"
        role_of[torch_xla._XLAC._xla_get_tensor_id(y_train)] = "y"

        with located_backward():
            optimizer.zero_grad()
            outputs = model(x_train)
            loss = criterion(outputs, y_train)
            loss.backward()
            optimizer.step()
        tensors = [loss] + [p for lin in linears for p in (lin.weight, lin.bias)]
        output_roles = ["loss"] + [r for pair in roles for r in pair]
    lowered = _lower_and_run(tensors, phases)
    native = _time_native_step(
        optimizer,
        lambda: criterion(model(x_train), y_train),
        cpu_baselines(cpu_model, workload, x_np, y_np),
    )
    results = lowered[4]
    params = {}
    for (rw, rb), k in zip(roles, range(1, len(results), 2)):
        params[rw] = results[k].T  # [out, in] -> [in, out]
        params[rb] = results[k + 1]
    _write(
        out,
        phases,
        lowered,
        input_roles=_input_roles(lowered[2], lowered[3], role_of, workload.lr),
        output_roles=output_roles,
        native=native,
        params=params,
        notes=["the learning rate arrives as an HLO parameter (-lr, device data)"],
    )


def _capture_model(workload: Workload, device: Any, out: Path, phases: Phases) -> None:
    """mlp / cnn / transformer: the shared torch modules, ``torch.optim``, one lazy step.

    The captured graph's results are the loss, every parameter, the batch-norm
    running statistics and the optimizer state the step creates (momentum buffer,
    ``exp_avg``/``exp_avg_sq``); roles come from ``named_parameters()`` /
    ``named_buffers()`` and the optimizer state of each parameter.
    """
    import torch
    import torch_xla

    from xlalens.frontends._torchlike import (
        build,
        cpu_baselines,
        from_torch,
        loss_fn,
        torch_optimizer,
    )

    with phases("trace"):
        built = build(workload)
        cpu_model = copy.deepcopy(built.model)  # the initial state, for the CPU baselines
        model = built.model.to(device)
        criterion = loss_fn(workload)
        optimizer = torch_optimizer(workload, model.parameters())
        x = torch.from_numpy(built.x).to(device)
        y = torch.from_numpy(built.y).to(device)
        torch_xla.sync()
        named = [(n, t) for n, t in [*model.named_parameters(), *model.named_buffers()]]
        role_of = {
            torch_xla._XLAC._xla_get_tensor_id(t): built.roles[n]
            for n, t in named
            if built.roles.get(n)
        }
        role_of[torch_xla._XLAC._xla_get_tensor_id(x)] = "x"
        role_of[torch_xla._XLAC._xla_get_tensor_id(y)] = "y"

        with located_backward():
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
        tensors, output_roles = [loss], ["loss"]
        for n, t in named:
            if built.roles.get(n):
                tensors.append(t)
                output_roles.append(built.roles[n])
        slots = {"momentum_buffer": "m", "exp_avg": "m", "exp_avg_sq": "v"}
        for n, p in model.named_parameters():
            for key, value in optimizer.state[p].items():
                if key in slots and isinstance(value, torch.Tensor) and value.device.type == "xla":
                    tensors.append(value)
                    output_roles.append(f"{built.roles[n]}/{slots[key]}")
    lowered = _lower_and_run(tensors, phases)
    native = _time_native_step(
        optimizer,
        lambda: criterion(model(x), y),
        cpu_baselines(cpu_model, workload, built.x, built.y),
    )
    trainable = set(workload.initial_params())
    _write(
        out,
        phases,
        lowered,
        input_roles=_input_roles(lowered[2], lowered[3], role_of, workload.lr),
        output_roles=output_roles,
        native=native,
        params={r: from_torch(r, v) for r, v in zip(output_roles, lowered[4]) if r in trainable},
        notes=[
            f"{workload.describe()}; torch.nn modules, {type(optimizer).__name__}; "
            "optimizer state is created inside the captured (first) step"
        ],
    )


def _input_roles(
    ids: list[int], inputs: list[Any], role_of: dict[int, str], lr: float
) -> list[str | None]:
    """Roles of the module's inputs, by lazy tensor id.

    torch_xla passes the learning rate as an HLO parameter with no tensor of
    ours behind it: the unnamed scalar equal to +-lr is that parameter.
    """
    import numpy as np

    out: list[str | None] = []
    for tid, value in zip(ids, inputs):
        role = role_of.get(tid)
        if role is None and value.shape == () and np.isclose(abs(float(value)), lr):
            role = "lr"
        out.append(role)
    return out


def _write(
    out: Path,
    phases: Phases,
    lowered: tuple[str, str, list[int], list, list],
    *,
    input_roles: list[str | None],
    output_roles: list[str | None],
    native: dict[str, Any],
    params: dict[str, Any] | None = None,
    loss: bool = True,
    libraries: tuple[str, ...] = (),
    notes: list[str] | None = None,
) -> None:
    """Write one lazy-graph capture (:func:`_lower_and_run`'s result): every path's one writer.

    ``loss``: the first result is the loss, taken before the update (False: a user
    step, which has none). ``libraries``: model libraries whose versions to record.
    """
    hlo, stablehlo, _ids, inputs, results = lowered
    write_capture(
        out,
        stablehlo=stablehlo,
        hlo=hlo,
        optimized_hlo=None,  # no public API prints torch_xla's own: the core compiles it
        inputs=inputs,
        input_roles=input_roles,
        results=results,
        output_roles=output_roles,
        loss=float(results[0]) if loss else None,
        loss_kind="before_update" if loss else "none",
        params=params or {},
        versions=package_versions("torch", "torch_xla", "libtpu", *libraries),
        seconds=phases.seconds,
        native_step_seconds=native,
        notes=notes,
    )


def _time_native_step(
    optimizer: Any, loss: Any, baselines: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The framework's own step (zero_grad, backward of ``loss()``, step, sync), timed;
    ``baselines``: the same step without XLA (:func:`_torchlike.cpu_baselines`)."""
    import torch_xla

    def one_step() -> None:
        optimizer.zero_grad()
        loss().backward()
        optimizer.step()
        torch_xla.sync(wait=True)

    return time_native(one_step, baselines=baselines)


def _lower_and_run(tensors: list[Any], phases: Phases) -> tuple[str, str, list[int], list, list]:
    """Take the pending lazy graph of ``tensors``, then sync it once.

    Returns (HLO text, StableHLO bytes, input tensor ids, input arrays, result
    arrays); the inputs come in the module's parameter order (see the NOTE above).
    """
    import torch_xla

    with phases("lower"):
        hlo = torch_xla._XLAC._get_xla_tensors_hlo(tensors)
        # The portable artifact, not the text: torch_xla prints source locations
        # (XLA_HLO_DEBUG, set for the capture) in MLIR's pretty form, which no
        # parser reads back; write_capture prints the artifact as parsable text.
        stablehlo = _model_located(torch_xla._XLAC._get_stablehlo(tensors, "", [], True))
        ids, values = torch_xla._XLAC._get_tensors_xla_device_data_node(tensors)
        inputs = [v.cpu().numpy() for v in values]
    with phases("compile"):  # the first sync compiles the graph (and runs it)
        torch_xla.sync(wait=True)
    with phases("native_run"):
        results = [t.detach().cpu().numpy() for t in tensors]
    return hlo, stablehlo, ids, inputs, results


def _model_located(artifact: bytes) -> str:
    """The portable artifact as text, each op located at the model's line.

    NOTE: [torch_xla locations] with XLA_HLO_DEBUG each op's location is its whole
    Python stack as a chain of call sites; the innermost frame is torch's
    (``torch/nn/functional.py``) or a library utility (transformers'
    ``pytorch_utils.py:119`` for every GPT-2 linear). The location kept is the
    innermost frame in the model's code: the user's file or a model library
    (``ir._locations.model_frame``); a stack with none keeps its innermost frame.
    Ops the autograd engine creates (backward) are made under their forward op's
    stack (``_torch_frames``, NOTE: [backward at the forward line]). The frames
    outside the kept one stay as its callers, so the optimized module keeps the
    whole stack from the model's line out (``ir._locations.source_stack``).
    """
    from xlalens.ir._locations import flatten_locations, model_frame
    from xlalens.ir._stablehlo import _context, parse_module

    ctx = _context()
    module = parse_module(artifact, ctx, source="torch_xla stablehlo")
    with ctx:
        return flatten_locations(
            module.operation.get_asm(enable_debug_info=True), keep=model_frame, callers=True
        )


def _capture_target(target: str, device: Any, out: Path, phases: Phases) -> None:
    """A user's step: ``make_step(device) -> (fn, args[, named])``; ``fn(*args)`` returns
    the XLA tensors to capture (a tensor or a tuple of them), its graph is taken lazily.

    ``named`` (optional), e.g. ``dict(model.named_parameters())``, names tensors:
    a graph input that is one of them gets its name as role. The same factory runs
    on torchax (fe_torchax.py), which passes its own device.
    """
    import torch
    import torch_xla

    from xlalens.frontends._torch_model import as_model_target, call_factory

    with phases("trace"):
        made = call_factory(target, device)
        model_target = as_model_target(target, made)
    if model_target is not None:
        _capture_model_target(model_target, device, out, phases)
        return
    with phases("trace"):
        fn, args = made[0], made[1]
        named = dict(made[2]) if len(made) > 2 and made[2] else {}
        torch_xla.sync()
        role_of = {torch_xla._XLAC._xla_get_tensor_id(t): n for n, t in named.items()}
        for i, a in enumerate(args):
            if isinstance(a, torch.Tensor):
                role_of.setdefault(torch_xla._XLAC._xla_get_tensor_id(a), f"args[{i}]")
        with located_backward():
            produced = fn(*args)
        tensors = list(produced) if isinstance(produced, (tuple, list)) else [produced]
        if not all(isinstance(t, torch.Tensor) for t in tensors):
            raise TypeError("the user step must return an XLA tensor or a tuple of them")
    lowered = _lower_and_run(tensors, phases)

    def one_step() -> None:
        fn(*args)
        torch_xla.sync(wait=True)

    _write(
        out,
        phases,
        lowered,
        input_roles=[role_of.get(t) for t in lowered[2]],
        output_roles=[f"result[{i}]" for i in range(len(lowered[4]))],
        native=time_native(one_step),
        loss=False,
    )


def _capture_model_target(target: Any, device: Any, out: Path, phases: Phases) -> None:
    """A model target (``_torch_model``): ``zero_grad; loss_fn(model, batch).backward();
    optimizer.step()`` on the XLA device, captured as one lazy graph.

    Results: the loss, every parameter and buffer, and the optimizer state the step
    leaves on the device; all named after the model (see ``_torch_model``).
    """
    import torch
    import torch_xla

    from xlalens.frontends._torch_model import batch_paths, moved_to, param_names

    with phases("trace"):
        t = moved_to(target, device)
        model, optimizer = t.model, t.optimizer
        torch_xla.sync()
        names = param_names(optimizer, model)
        named = [*model.named_parameters(), *model.named_buffers()]
        tid = torch_xla._XLAC._xla_get_tensor_id
        role_of = {tid(v): n for n, v in named}
        leaves = torch.utils._pytree.tree_leaves(t.batch)
        for path, leaf in zip(batch_paths(t.batch), leaves):
            role_of.setdefault(tid(leaf), path)

        def forward_backward() -> Any:
            optimizer.zero_grad()
            loss = t.loss_fn(model, t.batch)
            loss.backward()
            optimizer.step()
            return loss

        with located_backward():
            loss = forward_backward()
        tensors, output_roles = [loss], ["loss"]
        for n, v in named:
            # A tensor the step leaves as it was (a buffer the forward only reads, such
            # as BERT's token_type_ids) is an input passed through: torch_xla's
            # StableHLO export drops the argument then, and the inputs would no longer
            # line up with @main's. Only what the step computes is a result.
            if v.device.type == "xla" and not _passed_through(v):
                tensors.append(v)
                output_roles.append(n)
        for p, state in optimizer.state.items():
            for key, value in state.items():
                if isinstance(value, torch.Tensor) and value.device.type == "xla":
                    tensors.append(value)
                    output_roles.append(f"{names[id(p)]}/{key}")
    lowered = _lower_and_run(tensors, phases)
    input_roles = [role_of.get(i) for i in lowered[2]]
    hyper = _hyperparameters(optimizer)
    for k, (r, value) in enumerate(zip(input_roles, lowered[3])):
        if r is None and value.shape == ():
            # torch_xla uploads Python scalars of the step (GELU's 0.044715, a mask's
            # -inf, Adam's bias corrections) as device data: name them by their value.
            input_roles[k] = hyper.get(_key(value)) or f"scalar {float(value):.7g}"

    def one_step() -> None:
        forward_backward()
        torch_xla.sync(wait=True)

    _write(
        out,
        phases,
        lowered,
        input_roles=input_roles,
        output_roles=output_roles,
        native=time_native(one_step),
        libraries=("transformers", "timm"),
        notes=[
            f"model target: {type(model).__name__}, torch.optim.{type(optimizer).__name__}; "
            "zero_grad, loss_fn(model, batch).backward(), optimizer.step() in one lazy graph; "
            "optimizer state is created inside the captured step when it had none"
        ],
    )


def _passed_through(tensor: Any) -> bool:
    """Whether a lazy tensor's pending value is its device data alone (not computed)."""
    import re

    import torch_xla

    text = torch_xla._XLAC._get_xla_tensors_text([tensor])
    nodes = re.findall(r"^\s*%\d+ = .*$", text, re.M)
    return len(nodes) == 1 and "device_data" in nodes[0]


def _hyperparameters(optimizer: Any) -> dict[float, str]:
    """|value| -> ``optimizer.<key>`` for the numeric hyperparameters of the first group.

    torch_xla uploads the scalars of an optimizer update (the learning rate, the
    momentum, ``1 - beta``) as device data: an unnamed scalar input equal to one of
    them is named after it.
    """
    out: dict[float, str] = {}
    for key, value in optimizer.param_groups[0].items():
        values = value if isinstance(value, tuple) else (value,)
        for i, v in enumerate(values):
            if isinstance(v, (int, float)) and not isinstance(v, bool) and v:
                name = f"optimizer.{key}" + (f"[{i}]" if isinstance(value, tuple) else "")
                out.setdefault(_key(v), name)
                out.setdefault(_key(1.0 - float(v)), f"1-{name}")
    return out


def _key(value: Any) -> float:
    """A scalar's magnitude at float32 precision (device data is float32)."""
    import numpy as np

    return abs(float(np.float32(value)))


if __name__ == "__main__":
    main(capture)
