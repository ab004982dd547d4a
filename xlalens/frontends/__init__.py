"""The frontends: one module per framework, each run as its own subprocess.

The core reaches them only through :data:`FRONTENDS` (name -> how to run it);
it never imports a framework. Each module is run as
``python -m xlalens.frontends.<module>`` with the environment in ``env`` (Keras
picks its backend once per process, torch_xla its PJRT device) and writes the
files of docs/dump-format.md (see ``_protocol.py``, the child's side);
``_run.py`` is the parent's side (start one, read and prove what it wrote), shared
by the capture and passes stages. This package sits between the stages and the
ground floor, and imports only the ground floor (docs/architecture.md).
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
    capture_env: dict[str, str] = field(default_factory=dict)
    """Environment added for the capture only, not for the native rounds of
    ``xlalens time`` (torch_xla's source locations cost tracing time per step)."""
    description: str = ""
    """One line for ``--help`` and the docs."""
    compiles_for: tuple[str, ...] = ("cpu", "gpu", "tpu")
    """Backends its own compiler targets here; elsewhere the core compiles the StableHLO."""
    weight: float = 1.0
    """Typical capture seconds (measured alone, 2-core CPU); the longest start first."""
    family: str = ""
    """Frontends of one family run the same user ``--target`` (``keras``, ``torch``)."""
    default: bool = True
    """Part of ``xlalens dump`` without ``--frameworks``; opt-in frontends say False."""


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
            family="keras",
            description="Keras 3 Sequential([Dense]) train step, TensorFlow backend, XLA",
        ),
        Frontend(
            "keras-jax",
            "xlalens.frontends.fe_keras",
            ("keras", "jax"),
            env={"KERAS_BACKEND": "jax"},
            weight=2.2,
            family="keras",
            description="Keras 3 Sequential([Dense]) train step, JAX backend, jax.jit",
        ),
        Frontend(
            "torch_xla",
            "xlalens.frontends.fe_torch_xla",
            ("torch", "torch_xla"),
            env={"PJRT_DEVICE": "CPU"},
            # Without these torch_xla writes no op metadata: its HLO has no source
            # lines, and the optimized HLO the core compiles from its StableHLO names
            # only lines of that text (source_file="-").
            capture_env={"XLA_HLO_DEBUG": "1", "XLA_IR_DEBUG": "1"},
            weight=5.3,
            family="torch",
            description="nn.Linear + MSELoss + optim.SGD, torch_xla's lazy graph of one step",
        ),
        Frontend(
            "torchax",
            "xlalens.frontends.fe_torchax",
            ("torch", "torchax", "optax", "flax"),
            weight=4.5,
            family="torch",
            description="the PyTorch model through JAX (torchax.train.make_train_step)",
        ),
        Frontend(
            "torch_compile",
            "xlalens.frontends.fe_torch_compile",
            ("torch", "torch_xla"),
            env={"PJRT_DEVICE": "CPU"},
            capture_env={"XLA_HLO_DEBUG": "1", "XLA_IR_DEBUG": "1"},
            weight=6.0,
            family="torch",
            # Opt-in: a seventh capture adds ~15 s to every default dump, and the
            # seed's torch claim is about it, not the lazy-tensor path.
            default=False,
            description="torch.compile(backend='openxla'): dynamo's graph of the whole step",
        ),
    )
}


def target_family(names: list[str]) -> str | None:
    """The one family that all ``names`` share (a user ``--target`` runs in it), else None.

    A frontend without a family is its own (``jax``, ``tensorflow``).

    Example:
        >>> target_family(["keras-jax", "keras-tensorflow"])
        'keras'
    """
    families = {FRONTENDS[n].family or n for n in names if n in FRONTENDS}
    return families.pop() if len(families) == 1 and len(names) >= 1 else None


def default_frontends() -> list[str]:
    """The frontends ``xlalens dump`` runs without ``--frameworks`` (not the opt-in ones)."""
    return [n for n, f in FRONTENDS.items() if f.default]


def target_families() -> dict[str, list[str]]:
    """Family -> its frontends, for messages and docs."""
    out: dict[str, list[str]] = {}
    for f in FRONTENDS.values():
        out.setdefault(f.family or f.name, []).append(f.name)
    return out


__all__ = ["FRONTENDS", "Frontend", "default_frontends", "target_families", "target_family"]
