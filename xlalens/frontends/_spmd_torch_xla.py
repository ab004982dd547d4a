"""Sharded capture in torch_xla: SPMD ``mark_sharding`` on the mlp's tensors.

``xr.use_spmd()``, an ``xs.Mesh`` of the subprocess's ``CPU_NUM_DEVICES`` host
devices, and ``xs.mark_sharding`` on every parameter and on the data, with the
placement of the jax frontend (``_spmd_jax.param_spec``; torch keeps a Linear's
weight as ``[out, in]``, so its spec is transposed). The lazy graph of one step
is taken as in ``fe_torch_xla``: its HLO and StableHLO carry the shardings.
torch_xla gives no optimized HLO through its API, and the lead process cannot
compile a partitioned module, so XLA's own dump (``--xla_dump_to``, set here
before torch_xla starts) gives the partitioned per-device module. The proof of
capture is the same step in eager PyTorch on the CPU, one device.
"""

from __future__ import annotations

import itertools
import json
import os
import tempfile
from pathlib import Path

from xlalens.frontends._protocol import RESULT, Phases, package_versions, write_capture
from xlalens.spmd import MeshSpec
from xlalens.workloads import Workload


def _optimized_module(dump: Path, devices: int) -> str:
    """The largest after-optimizations module of XLA's dump that is partitioned N ways."""
    found = []
    for f in dump.glob("*after_optimizations.txt"):
        text = f.read_text()
        if f"num_partitions={devices}" in text.split("\n", 1)[0] or devices == 1:
            found.append(text)
    if not found:
        raise RuntimeError(f"XLA wrote no partitioned optimized module into {dump}")
    return max(found, key=len)


def capture_sharded(workload: Workload, spec: MeshSpec, out: Path, phases: Phases) -> None:
    """Capture the mlp step sharded over ``spec`` with torch_xla SPMD."""
    dump = Path(tempfile.mkdtemp(prefix="xlalens-spmd-"))
    os.environ["XLA_FLAGS"] = (
        f"{os.environ.get('XLA_FLAGS', '')} --xla_dump_to={dump} --xla_dump_hlo_as_text"
    ).strip()
    with phases("import"):
        import numpy as np
        import torch
        import torch.nn as nn
        import torch.optim as optim
        import torch_xla
        import torch_xla.distributed.spmd as xs
        import torch_xla.runtime as xr

        from xlalens.capture._proof import agree
        from xlalens.frontends._spmd_jax import batch_spec, param_spec
        from xlalens.frontends.fe_torch_xla import (
            _input_roles,
            _lower_and_run,
            _time_native_step,
        )

    xr.use_spmd()
    if xr.global_runtime_device_count() != spec.devices:
        raise RuntimeError(
            f"{spec.devices} devices requested but torch_xla sees "
            f"{xr.global_runtime_device_count()}; CPU_NUM_DEVICES did not reach this process"
        )
    mesh = xs.Mesh(np.arange(spec.devices), spec.shape, spec.axes)
    sizes = workload.layer_sizes()

    class MLP(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in itertools.pairwise(sizes))

        def forward(self, x):
            for i, layer in enumerate(self.layers):
                x = layer(x)
                if i < len(self.layers) - 1:
                    x = torch.tanh(x)
            return x

    def build() -> nn.Module:
        model = MLP()
        with torch.no_grad():
            for lin, (w, b) in zip(model.layers, workload.params()):
                lin.weight.copy_(torch.from_numpy(w.T.copy()))
                lin.bias.copy_(torch.from_numpy(b))
        return model

    roles = workload.param_roles()
    x_np, y_np = workload.data()

    # The 1-device step: eager PyTorch on the CPU, same init, same update.
    ref = build()
    ref_opt = optim.SGD(ref.parameters(), lr=workload.lr)
    ref_loss = nn.MSELoss()(ref(torch.from_numpy(x_np)), torch.from_numpy(y_np))
    ref_loss.backward()
    ref_opt.step()
    expected = [ref_loss.detach().numpy()] + [
        p.detach().numpy() for lin in ref.layers for p in (lin.weight, lin.bias)
    ]

    device = torch_xla.device()
    with phases("trace"):
        model = build().to(device)
        specs = []
        for lin, (rw, rb), (w, b) in zip(model.layers, roles, workload.params()):
            pw = tuple(param_spec(rw, w.shape, spec))
            pw = tuple(reversed(pw + (None,) * (2 - len(pw))))  # [in, out] -> torch [out, in]
            pb = tuple(param_spec(rb, b.shape, spec)) or (None,)
            xs.mark_sharding(lin.weight, mesh, pw)
            xs.mark_sharding(lin.bias, mesh, pb)
            specs += [str(pw), str(pb)]
        x = torch.from_numpy(x_np).to(device)
        y = torch.from_numpy(y_np).to(device)
        for t in (x, y):
            bs = tuple(batch_spec(2, spec)) or (None, None)
            xs.mark_sharding(t, mesh, bs)
        specs += [str(bs), str(bs)]
        optimizer = optim.SGD(model.parameters(), lr=workload.lr)
        criterion = nn.MSELoss()
        torch_xla.sync()
        role_of = {}
        for lin, (rw, rb) in zip(model.layers, roles):
            role_of[torch_xla._XLAC._xla_get_tensor_id(lin.weight)] = rw
            role_of[torch_xla._XLAC._xla_get_tensor_id(lin.bias)] = rb
        role_of[torch_xla._XLAC._xla_get_tensor_id(x)] = "x"
        role_of[torch_xla._XLAC._xla_get_tensor_id(y)] = "y"
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        tensors = [loss] + [p for lin in model.layers for p in (lin.weight, lin.bias)]
        output_roles = ["loss"] + [r for pair in roles for r in pair]
    hlo, stablehlo, ids, inputs, results = _lower_and_run(tensors, phases)
    optimized = _optimized_module(dump, spec.devices)
    input_roles = _input_roles(ids, inputs, role_of, workload.lr)

    native = _time_native_step(optimizer, lambda: criterion(model(x), y))
    params = {}
    for (rw, rb), k in zip(roles, range(1, len(results), 2)):
        params[rw] = results[k].T
        params[rb] = results[k + 1]
    write_capture(
        out,
        stablehlo=stablehlo,
        hlo=hlo,
        optimized_hlo=optimized,
        inputs=inputs,
        input_roles=input_roles,
        results=results,
        output_roles=output_roles,
        loss=float(results[0]),
        loss_kind="before_update",
        params=params,
        versions=package_versions("torch", "torch_xla"),
        seconds=phases.seconds,
        native_step_seconds=native,
        notes=[
            f"{workload.describe()}; {spec.strategy} over mesh "
            f"{'x'.join(map(str, spec.shape))} ({','.join(spec.axes)}), torch_xla SPMD "
            "mark_sharding; optimized HLO from XLA's dump"
        ],
    )
    ok, worst, why = agree(
        [np.asarray(r) for r in results], expected, (out / "stablehlo.mlir").read_text()
    )
    result = json.loads((out / RESULT).read_text())
    result["spmd"] = {
        **spec.to_json(),
        "matches_single_device": ok,
        "max_abs_diff": worst,
        "why": why,
        "input_shardings": specs,
    }
    (out / RESULT).write_text(json.dumps(result, indent=1))
