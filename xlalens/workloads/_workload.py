"""The :class:`Workload` record: which built-in step to capture, and at what size.

Each workload's definition lives in its own module (``_dense``, ``_cnn``,
``_transformer``): shapes, the fixed-seed numpy initial state, data, the
optimizer and its conventions, and (for cnn and transformer) a jax reference of
the step that every frontend's builder follows. Random initializers of the
frameworks are replaced on purpose: the cross-framework check compares updated
parameters.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from types import ModuleType
from typing import Any

import numpy as np

from xlalens._errors import UsageError
from xlalens.workloads import _cnn, _dense, _transformer
from xlalens.workloads._optim import Optimizer

WORKLOADS = ("regression", "mlp", "cnn", "transformer")

_MODULES: dict[str, ModuleType] = {
    "regression": _dense,
    "mlp": _dense,
    "cnn": _cnn,
    "transformer": _transformer,
}
_FIELDS = {
    "regression": _dense.REGRESSION_FIELDS,
    "mlp": _dense.MLP_FIELDS,
    "cnn": _cnn.FIELDS,
    "transformer": _transformer.FIELDS,
}
# Keys of the manifest form that are descriptions, not settings.
_DERIVED = ("description", "parameters", "optimizer")


@dataclass(frozen=True, slots=True)
class Workload:
    """What one training step computes, framework-independent."""

    name: str = "regression"
    """``regression`` (the seed's linear unit), ``mlp``, ``cnn`` or ``transformer``."""
    size: int = 4
    """Number of samples, the batch (the seed uses 4)."""
    features: int = 1
    """Input features: per sample (dense), image channels (cnn), per token (transformer)."""
    depth: int = 2
    """``mlp``: hidden layers; ``cnn``: residual blocks; ``transformer``: encoder blocks."""
    width: int = 16
    """``mlp``: units per layer; ``cnn``: channels; ``transformer``: model width."""
    lr: float = 0.01
    """Learning rate (the seed's 0.01, Keras's SGD default too)."""
    init: dict = field(default_factory=lambda: {"w": 0.5, "b": 0.1})
    """Regression initial parameter values, shared by every frontend."""
    heads: int = 2
    """``transformer``: attention heads (``width`` must be a multiple)."""
    seq: int = 8
    """``transformer``: sequence length."""
    image: int = 8
    """``cnn``: image height and width (even: the stem pools 2x2)."""
    classes: int = 4
    """``cnn``/``transformer``: classes of the softmax head."""

    def __post_init__(self) -> None:
        if self.name not in WORKLOADS:
            raise UsageError(
                f"unknown workload {self.name!r}; choose one of {', '.join(WORKLOADS)}"
            )
        for name in ("size", "features", "depth", "width", "heads", "seq", "image", "classes"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise UsageError(f"--{name} must be a positive integer, got {value!r}")
        if not self.lr > 0:
            raise UsageError(f"learning rate must be positive, got {self.lr!r}")
        if self.name == "transformer" and self.width % self.heads:
            raise UsageError(
                f"--width {self.width} is not a multiple of --heads {self.heads}; "
                "choose a width divisible by the head count (e.g. 768 with 12 heads)"
            )
        if self.name == "cnn" and self.image % 2:
            raise UsageError(f"--image must be even for cnn (a 2x2 max pool), got {self.image}")

    # ------------------------------------------------------------------ plain data

    def to_json(self) -> dict:
        """Plain-data form of every field (subprocess request)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Workload:
        """Inverse of :meth:`to_json`; also reads :meth:`summary` (the manifest form)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def summary(self) -> dict[str, Any]:
        """The manifest form: the settings this workload uses, its description,
        parameter count and optimizer. :meth:`from_json` reads it back.

        Example:
            >>> Workload("cnn", depth=1).summary()["parameters"]
            4916
        """
        out: dict[str, Any] = {"name": self.name}
        out.update({k: getattr(self, k) for k in _FIELDS[self.name]})
        out["parameters"] = int(sum(int(np.prod(s)) for s in self.param_shapes().values()))
        out["optimizer"] = self.optimizer.to_json()
        out["description"] = self.describe()
        return out

    # ------------------------------------------------------------- the definition

    @property
    def module(self) -> ModuleType:
        """The module that defines this workload (``xlalens.workloads._cnn``, ...)."""
        return _MODULES[self.name]

    def describe(self) -> str:
        """One line naming what the step computes (manifest, report)."""
        return self.module.describe(self)

    def data(self) -> tuple[np.ndarray, np.ndarray]:
        """``(x, y)`` as float32 arrays; see the workload's module for shapes.

        Dense workloads: ``[size, features]`` and ``[size, 1]`` (for the default
        size exactly the seed's ``x=[[1],[2],[3],[4]], y=2x``); cnn: NHWC images
        and one-hot labels; transformer: ``[size, seq, features]`` and one-hot labels.
        """
        return self.module.data(self)

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        """Role -> shape of every trainable parameter, in the reference layout."""
        shapes = getattr(self.module, "param_shapes", None)
        if shapes is not None:
            return shapes(self)
        return {k: tuple(v.shape) for k, v in self.initial_params().items()}

    def initial_params(self) -> dict[str, np.ndarray]:
        """Role -> initial value (float32), identical in every frontend, forward order.

        Layouts: dense kernels ``[in, out]``, conv kernels HWIO.
        """
        return self.module.init(self)

    def initial_buffers(self) -> dict[str, np.ndarray]:
        """Role -> initial non-trainable state (cnn: batch-norm running statistics)."""
        return self.module.buffers(self)

    @property
    def optimizer(self) -> Optimizer:
        """The optimizer and its explicit hyperparameters."""
        return self.module.optimizer(self)

    def reference_step(self, dtype: Any = np.float32) -> tuple[Any, tuple]:
        """The workload's step in plain jax, and its arguments, from the shared initial state.

        ``step(params, buffers, opt_state, x, y) -> (params, buffers, opt_state, loss)``:
        the workload module's forward and loss, and the update of
        ``xlalens.workloads._optim`` (no optax). Every frontend must agree with it.
        With ``dtype=np.float64`` (and ``jax.config.update("jax_enable_x64", True)``)
        it is a float64 reference of the same step.

        Returns:
            ``(step, args)``; ``jax.jit(step)(*args)`` runs one step.

        Example:
            >>> step, args = Workload("cnn", depth=1).reference_step()  # doctest: +SKIP
            >>> new_params, _, _, loss = jax.jit(step)(*args)
        """
        import jax
        import jax.numpy as jnp

        from xlalens.workloads import _optim

        mod, opt, w = self.module, self.optimizer, self

        def loss_fn(params: Any, buffers: Any, x: Any, y: Any) -> Any:
            if w.name == "cnn":
                logits, new_buffers = mod.forward(params, buffers, x, w.depth)
            elif w.name == "transformer":
                logits, new_buffers = mod.forward(params, x, w.depth, w.heads), {}
            else:
                logits, new_buffers = mod.forward(params, x, w), {}
            return mod.loss(logits, y), new_buffers

        def step(params: Any, buffers: Any, opt_state: Any, x: Any, y: Any) -> Any:
            (loss, buffers), grads = jax.value_and_grad(loss_fn, has_aux=True)(
                params, buffers, x, y
            )
            params, opt_state = _optim.update(opt, params, grads, opt_state)
            return params, buffers, opt_state, loss

        def cast(tree: dict[str, np.ndarray]) -> dict[str, Any]:
            return {k: jnp.asarray(v, dtype) for k, v in tree.items()}

        params = cast(self.initial_params())
        x, y = (jnp.asarray(a, dtype) for a in self.data())
        args = (params, cast(self.initial_buffers()), _optim.init_state(opt, params), x, y)
        return step, args

    # ------------------------------------------- the dense workloads' layer view

    def _dense_only(self, what: str) -> None:
        if self.name not in ("regression", "mlp"):
            raise UsageError(f"Workload.{what} is for regression/mlp; use initial_params()")

    def layer_sizes(self) -> list[int]:
        """Units per layer boundary: ``[features, 1]`` or ``[features, width*depth..., 1]``."""
        self._dense_only("layer_sizes")
        return _dense.layer_sizes(self)

    def params(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Initial ``(w [in, out], b [out])`` per layer, float32, identical everywhere."""
        self._dense_only("params")
        return _dense.layer_params(self)

    def param_roles(self) -> list[tuple[str, str]]:
        """Role names per layer: ``[("w", "b")]`` or ``[("w0", "b0"), ...]``."""
        self._dense_only("param_roles")
        return _dense.layer_roles(self)

    @property
    def activation(self) -> str:
        """Hidden-layer activation of ``mlp`` (tanh: smooth, so frameworks agree)."""
        return "tanh"
