"""The frontends: one module per framework, each run as its own subprocess.

The core reaches them only through :data:`FRONTENDS` (name -> how to run it);
it never imports a framework. Each module is run as
``python -m xlalens.frontends.<module>`` with the environment in ``env`` (Keras
picks its backend once per process, torch_xla its PJRT device) and writes the
files of docs/dump-format.md (see ``_protocol.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Frontend:
    """How to run one framework's capture."""

    name: str
    """Frontend name used on the command line and in the manifest."""
    module: str
    """Module run with ``python -m``."""
    requires: tuple[str, ...]
    """Importable packages it needs; a missing one means ``skipped``."""
    env: dict[str, str] = field(default_factory=dict)
    """Environment set for its subprocess."""
    description: str = ""
    """One line for ``--help`` and the docs."""
    compiles_for: tuple[str, ...] = ("cpu", "gpu", "tpu")
    """Backends its own compiler targets here; elsewhere the core compiles the StableHLO."""
    weight: float = 1.0
    """Typical capture seconds (measured alone, 2-core CPU); the longest start first."""


FRONTENDS: dict[str, Frontend] = {
    f.name: f
    for f in (
        Frontend(
            "jax",
            "xlalens.frontends.fe_jax",
            ("jax", "optax"),
            weight=1.7,
            description="jax.jit + jax.grad + optax.sgd (the seed's w * x + b)",
        ),
        Frontend(
            "tensorflow",
            "xlalens.frontends.fe_tensorflow",
            ("tensorflow",),
            compiles_for=("cpu",),
            weight=4.6,
            description="tf.function(jit_compile=True) over a GradientTape SGD step",
        ),
        Frontend(
            "keras-tensorflow",
            "xlalens.frontends.fe_keras",
            ("keras", "tensorflow"),
            env={"KERAS_BACKEND": "tensorflow"},
            compiles_for=("cpu",),
            weight=4.2,
            description="Keras 3 Sequential([Dense]) train step, TensorFlow backend, XLA",
        ),
        Frontend(
            "keras-jax",
            "xlalens.frontends.fe_keras",
            ("keras", "jax"),
            env={"KERAS_BACKEND": "jax"},
            weight=2.2,
            description="Keras 3 Sequential([Dense]) train step, JAX backend, jax.jit",
        ),
        Frontend(
            "torch_xla",
            "xlalens.frontends.fe_torch_xla",
            ("torch", "torch_xla"),
            env={"PJRT_DEVICE": "CPU"},
            weight=5.3,
            description="nn.Linear + MSELoss + optim.SGD, torch_xla's lazy graph of one step",
        ),
        Frontend(
            "torchax",
            "xlalens.frontends.fe_torchax",
            ("torch", "torchax", "optax", "flax"),
            weight=4.5,
            description="the PyTorch model through JAX (torchax.train.make_train_step)",
        ),
    )
}

__all__ = ["FRONTENDS", "Frontend"]
