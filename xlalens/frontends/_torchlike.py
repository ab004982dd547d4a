"""The mlp, cnn and transformer workloads as PyTorch modules: used by torch_xla and torchax.

Imported only inside frontend subprocesses (it imports torch). The modules follow
the workload's definition (``xlalens.workloads``) in PyTorch's own layouts: images
NCHW, conv weights OIHW, ``nn.Linear`` weights ``[out, in]``. :func:`build` copies
the shared numpy initial state in and says how to read parameters back in the
workload's layout, and which workload role each ``named_parameters()`` /
``named_buffers()`` name has.

Batch norm is ``nn.BatchNorm2d(eps=1e-5, momentum=0.1)`` in training mode; its
running variance moves with the unbiased batch variance (PyTorch's rule), so
running statistics are not part of the cross-framework check. Attention is four
bias-free ``nn.Linear`` projections (as Hugging Face's BERT writes them) and
``F.scaled_dot_product_attention`` (scale 1/sqrt(head_dim)).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from xlalens.workloads import Workload


class _ConvBN(nn.Module):
    def __init__(self, cin: int, cout: int, spec: Any) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        # torch's momentum is the new statistic's weight: 1 - Keras's momentum.
        self.bn = nn.BatchNorm2d(cout, eps=spec.BN_EPS, momentum=1.0 - spec.BN_MOMENTUM)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(x))


class _Block(nn.Module):
    def __init__(self, width: int, spec: Any) -> None:
        super().__init__()
        self.conv1 = _ConvBN(width, width, spec)
        self.conv2 = _ConvBN(width, width, spec)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.conv2(F.relu(self.conv1(x))) + x)


class _ReshapeMaxPool(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        return x.reshape(n, c, h // 2, 2, w // 2, 2).amax(dim=(3, 5))


class CNN(nn.Module):
    """The ``cnn`` workload: stem, residual blocks, global average pool, head (NCHW)."""

    def __init__(self, w: Workload, *, reshape_pool: bool = False) -> None:
        super().__init__()
        spec = w.module
        self.stem = _ConvBN(w.features, w.width, spec)
        # NOTE: [torchax max pool] under torchax 0.0.x, the gradient of
        # nn.MaxPool2d (aten.max_pool2d_with_indices) fails in jax.grad: the
        # integer indices get a float0 tangent that reduce_window rejects. The
        # same 2x2/2 max as a reshape + amax differentiates; ties only occur at
        # ReLU zeros, whose gradient is zero either way.
        self.pool = _ReshapeMaxPool() if reshape_pool else nn.MaxPool2d(2)
        self.blocks = nn.ModuleList(_Block(w.width, spec) for _ in range(w.depth))
        self.head = nn.Linear(w.width, w.classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.pool(F.relu(self.stem(x)))
        for block in self.blocks:
            h = block(h)
        return self.head(h.mean(dim=(2, 3)))


class _Attention(nn.Module):
    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.query = nn.Linear(width, width, bias=False)
        self.key = nn.Linear(width, width, bias=False)
        self.value = nn.Linear(width, width, bias=False)
        self.output = nn.Linear(width, width, bias=False)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        n, s, d = h.shape

        def split(t: torch.Tensor) -> torch.Tensor:  # [n, s, d] -> [n, heads, s, hd]
            return t.view(n, s, self.heads, d // self.heads).transpose(1, 2)

        ctx = F.scaled_dot_product_attention(
            split(self.query(h)), split(self.key(h)), split(self.value(h))
        )
        return self.output(ctx.transpose(1, 2).reshape(n, s, d))


class _MLP(nn.Module):
    def __init__(self, width: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(width, hidden)
        self.fc2 = nn.Linear(hidden, width)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(h), approximate="tanh"))


class _EncoderLayer(nn.Module):
    def __init__(self, w: Workload) -> None:
        super().__init__()
        spec = w.module
        self.attn = _Attention(w.width, w.heads)
        self.ln1 = nn.LayerNorm(w.width, eps=spec.LN_EPS)
        self.mlp = _MLP(w.width, w.width * spec.MLP_RATIO)
        self.ln2 = nn.LayerNorm(w.width, eps=spec.LN_EPS)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        h = self.ln1(h + self.attn(h))
        return self.ln2(h + self.mlp(h))


class MLP(nn.Module):
    """The ``mlp`` (and ``regression``) workload: ``nn.Linear`` layers, tanh between, linear output."""

    def __init__(self, w: Workload) -> None:
        super().__init__()
        sizes = w.layer_sizes()
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in itertools.pairwise(sizes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = torch.tanh(x)
        return x


class Transformer(nn.Module):
    """The ``transformer`` workload: dense embedding, post-LN encoder layers, mean pool, head."""

    def __init__(self, w: Workload) -> None:
        super().__init__()
        self.embed = nn.Linear(w.features, w.width)
        self.layers = nn.ModuleList(_EncoderLayer(w) for _ in range(w.depth))
        self.head = nn.Linear(w.width, w.classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.embed(x)
        for layer in self.layers:
            h = layer(h)
        return self.head(h.mean(dim=1))


def role(name: str) -> str | None:
    """The workload role of a ``named_parameters()``/``named_buffers()`` name.

    mlp: ``layers.0.weight`` -> ``w0``, ``layers.0.bias`` -> ``b0`` (:func:`dense_role`).

    ``blocks.0.conv1.conv.weight`` -> ``block0.conv1.kernel``;
    ``blocks.0.conv1.bn.weight`` -> ``block0.bn1.scale``; ``stem.bn.running_var`` ->
    ``stem.bn.var``; ``layers.1.attn.query.weight`` -> ``layer1.attn.query``;
    ``head.weight`` -> ``head.kernel``; ``num_batches_tracked`` -> None.
    """
    if name.endswith("num_batches_tracked"):
        return None
    n = re.sub(r"^blocks\.(\d+)\.", r"block\1.", name)
    n = re.sub(r"^layers\.(\d+)\.", r"layer\1.", n)
    n = re.sub(r"^(block\d+)\.conv(\d)\.(conv|bn)\.", r"\1.\3\2.", n)
    n = re.sub(r"\.attn\.(query|key|value|output)\.weight$", r".attn.\1", n)
    n = re.sub(r"\.(bn\d?|ln\d)\.weight$", r".\1.scale", n)
    n = re.sub(r"\.running_mean$", ".mean", n)
    n = re.sub(r"\.running_var$", ".var", n)
    return re.sub(r"\.weight$", ".kernel", n)


def dense_role(name: str, regression: bool = False) -> str | None:
    """The mlp (or regression) role of a parameter name.

    ``layers.1.weight`` -> ``w1``, ``layers.1.bias`` -> ``b1``; regression: ``w``, ``b``.
    """
    m = re.fullmatch(r"layers\.(\d+)\.(weight|bias)", name)
    if m is None:
        return None
    return ("w" if m[2] == "weight" else "b") + ("" if regression else m[1])


def to_torch(role_name: str, value: np.ndarray) -> np.ndarray:
    """A workload-layout value in torch's layout (OIHW conv, ``[out, in]`` linear)."""
    if value.ndim == 4:
        return np.ascontiguousarray(value.transpose(3, 2, 0, 1))
    if value.ndim == 2:
        return np.ascontiguousarray(value.T)
    return value


def from_torch(role_name: str, value: np.ndarray) -> np.ndarray:
    """Inverse of :func:`to_torch`."""
    value = np.asarray(value)
    if value.ndim == 4:
        return np.ascontiguousarray(value.transpose(2, 3, 1, 0))
    if value.ndim == 2:
        return np.ascontiguousarray(value.T)
    return value


@dataclass(frozen=True, slots=True)
class Built:
    """A workload as a PyTorch module with the shared initial state."""

    model: nn.Module
    """The module (on CPU, training mode)."""
    roles: dict[str, str | None]
    """``named_parameters()`` and ``named_buffers()`` name -> workload role."""
    x: np.ndarray
    """Input batch in torch's layout (NCHW for images)."""
    y: np.ndarray
    """One-hot labels."""


def build(w: Workload, *, reshape_pool: bool = False) -> Built:
    """Build the regression, mlp, cnn or transformer module and copy the shared initial state in.

    Example:
        >>> built = build(Workload("cnn", depth=1))  # doctest: +SKIP
        >>> built.roles["blocks.0.conv1.conv.weight"]
        'block0.conv1.kernel'

    Args:
        w: the workload.
        reshape_pool: pool with reshape + amax instead of ``nn.MaxPool2d`` (torchax).

    Returns:
        The :class:`Built` module, roles and batch.
    """
    name_role = role
    if w.name in ("regression", "mlp"):
        model: nn.Module = MLP(w)
        name_role = lambda n: dense_role(n, w.name == "regression")  # noqa: E731
    elif w.name == "cnn":
        model = CNN(w, reshape_pool=reshape_pool)
    else:
        model = Transformer(w)
    init = {**w.initial_params(), **w.initial_buffers()}
    roles: dict[str, str | None] = {}
    with torch.no_grad():
        for name, tensor in [*model.named_parameters(), *model.named_buffers()]:
            r = roles[name] = name_role(name)
            if r is None:
                continue
            if r not in init:
                raise RuntimeError(f"torch {name} maps to {r}, which the workload does not define")
            tensor.copy_(torch.from_numpy(to_torch(r, init[r])))
    missing = set(w.initial_params()) - set(roles.values())
    if missing:
        raise RuntimeError(f"workload parameters without a torch module: {sorted(missing)}")
    x, y = w.data()
    if w.name == "cnn":
        x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))  # NHWC -> NCHW, same values
    model.train()
    return Built(model, roles, x, y)


def torch_optimizer(w: Workload, params: Any) -> torch.optim.Optimizer:
    """``torch.optim.SGD`` (momentum 0 or 0.9) or ``torch.optim.AdamW`` with the workload's settings."""
    opt = w.optimizer
    if opt.kind in ("sgd", "sgd_momentum"):
        return torch.optim.SGD(params, lr=opt.lr, momentum=opt.momentum)
    return torch.optim.AdamW(
        params, lr=opt.lr, betas=(opt.b1, opt.b2), eps=opt.eps, weight_decay=opt.weight_decay
    )


def loss_fn(w: Workload | None = None) -> nn.Module:
    """The workload's loss: MSE for mlp; else softmax cross-entropy against one-hot
    (probability) targets, mean over the batch."""
    if w is not None and w.name in ("regression", "mlp"):
        return nn.MSELoss()
    return nn.CrossEntropyLoss()


def cpu_baselines(model: nn.Module, w: Workload, x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """PyTorch's non-XLA steps on the CPU, from a copy of ``model`` (its state before the step):
    eager, and ``torch.compile`` with its default backend (inductor). The step is the usual
    ``zero_grad(); loss.backward(); optimizer.step()``, for the seed's torch claims.
    """
    import copy

    def make(compile_it: bool) -> Any:
        m = copy.deepcopy(model).cpu()
        opt = torch_optimizer(w, m.parameters())
        crit = loss_fn(w)
        xt, yt = torch.from_numpy(np.asarray(x)), torch.from_numpy(np.asarray(y))

        def step() -> Any:
            opt.zero_grad()
            loss = crit(m(xt), yt)
            loss.backward()
            opt.step()
            return loss

        run = torch.compile(step) if compile_it else step
        return lambda: float(run())

    return {
        "torch eager (CPU)": lambda: make(False),
        "torch.compile inductor (CPU)": lambda: make(True),
    }
