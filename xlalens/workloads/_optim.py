"""The optimizers of the built-in workloads: their conventions, as data and as a jax reference.

NOTE: [optimizer conventions] The frameworks' optimizers agree on one step only
when their hyperparameters and conventions are set explicitly:

- ``sgd``: ``p <- p - lr * g`` (regression, mlp).
- ``sgd_momentum``: heavy ball, not Nesterov, no dampening:
  ``v <- momentum * v + g; p <- p - lr * v`` (torch.optim.SGD, optax.sgd(momentum=...)).
  Keras writes ``v <- momentum * v - lr * g; p <- p + v``, the same update for a
  constant learning rate.
- ``adamw``: decoupled weight decay on every parameter, bias-corrected moments,
  epsilon added to the bias-corrected ``sqrt(v_hat)`` (torch.optim.AdamW,
  optax.adamw): ``m <- b1 m + (1-b1) g; v <- b2 v + (1-b2) g^2;
  p <- p - lr * (m_hat / (sqrt(v_hat) + eps) + wd * p)``. Keras's AdamW adds
  epsilon to ``sqrt(v)`` before the bias correction ("epsilon hat" of the Adam
  paper, section 2), which is the reference with ``eps / sqrt(1 - b2^t)``; at step
  1 with eps 1e-8 that moved parameters with gradients near 3e-5 by 1e-4 (lr
  0.01). The Keras frontend therefore gets ``eps * sqrt(1 - b2)``: its first
  step, the one captured, is the reference's (docs/workloads.md).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Optimizer:
    """One workload's optimizer and its explicit hyperparameters."""

    kind: str
    """``sgd``, ``sgd_momentum`` or ``adamw``."""
    lr: float
    """Learning rate (constant)."""
    momentum: float = 0.0
    """``sgd_momentum``: the velocity's decay."""
    b1: float = 0.9
    """``adamw``: first-moment decay."""
    b2: float = 0.999
    """``adamw``: second-moment decay."""
    eps: float = 1e-8
    """``adamw``: added to ``sqrt(v_hat)``."""
    weight_decay: float = 0.0
    """``adamw``: decoupled decay, multiplied by ``lr``, on every parameter."""

    def to_json(self) -> dict[str, Any]:
        """Plain-data form (manifest)."""
        keep = {"sgd": (), "sgd_momentum": ("momentum",)}.get(
            self.kind, ("b1", "b2", "eps", "weight_decay")
        )
        return {k: v for k, v in asdict(self).items() if k in ("kind", "lr", *keep)}

    def describe(self) -> str:
        """One line, e.g. ``SGD lr 0.01 momentum 0.9``."""
        if self.kind == "sgd":
            return f"SGD lr {self.lr:g}"
        if self.kind == "sgd_momentum":
            return f"SGD lr {self.lr:g} momentum {self.momentum:g}"
        return (
            f"AdamW lr {self.lr:g} betas ({self.b1:g}, {self.b2:g}) eps {self.eps:g} "
            f"weight decay {self.weight_decay:g}"
        )


def init_state(opt: Optimizer, params: dict[str, Any]) -> dict[str, Any]:
    """The reference optimizer state for ``params`` (zeros), as a dict of arrays.

    Example:
        >>> init_state(Optimizer("sgd_momentum", 0.1, momentum=0.9), {"w": np.ones(2)})  # doctest: +SKIP
        {'velocity': {'w': Array([0., 0.], dtype=float32)}}
    """
    import jax.numpy as jnp

    zeros = {k: jnp.zeros_like(v) for k, v in params.items()}
    if opt.kind == "sgd":
        return {}
    if opt.kind == "sgd_momentum":
        return {"velocity": zeros}
    return {"count": jnp.zeros((), jnp.int32), "m": zeros, "v": dict(zeros)}


def update(
    opt: Optimizer, params: dict[str, Any], grads: dict[str, Any], state: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """One reference step in jax: ``(new params, new state)``, conventions as in the NOTE above.

    Example:
        >>> p, s = update(opt, params, grads, init_state(opt, params))  # doctest: +SKIP
    """
    import jax.numpy as jnp

    if opt.kind == "sgd":
        return {k: p - opt.lr * grads[k] for k, p in params.items()}, state
    if opt.kind == "sgd_momentum":
        vel = {k: opt.momentum * state["velocity"][k] + grads[k] for k in params}
        return {k: p - opt.lr * vel[k] for k, p in params.items()}, {"velocity": vel}
    count = state["count"] + 1
    t = count.astype(next(iter(params.values())).dtype)  # float64 in a float64 reference
    m = {k: opt.b1 * state["m"][k] + (1 - opt.b1) * grads[k] for k in params}
    v = {k: opt.b2 * state["v"][k] + (1 - opt.b2) * jnp.square(grads[k]) for k in params}
    bc1, bc2 = 1 - opt.b1**t, 1 - opt.b2**t
    new = {
        k: p - opt.lr * ((m[k] / bc1) / (jnp.sqrt(v[k] / bc2) + opt.eps) + opt.weight_decay * p)
        for k, p in params.items()
    }
    return new, {"count": count, "m": m, "v": v}
