"""Capture of a step that is a JAX function: used by jax, keras-jax and torchax.

Imported only inside frontend subprocesses (it imports jax at module level, which
the core may do too; the frameworks built on top are imported by the callers).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import numpy as np

from xlalens.frontends._protocol import Phases, time_native, write_capture

NO_ROLE = ""  # a leaf, unlike None, which jax treats as an empty subtree


def _roles(tree: Any) -> list[str | None]:
    return [r or None for r in jax.tree_util.tree_leaves(tree)]


def capture_jax_step(
    out: Path,
    phases: Phases,
    *,
    fn: Callable[..., Any],
    args: tuple,
    input_roles: Any,
    output_roles: Callable[[Any], Any],
    loss: Callable[[Any], float | None],
    params: Callable[[Any], dict[str, np.ndarray]],
    loss_kind: str,
    versions: dict[str, str],
    notes: list[str] | None = None,
) -> None:
    """Trace, lower and compile ``fn(*args)`` with ``jax.jit`` and write the capture.

    Args:
        out: the frontend's folder.
        phases: phase timer (import already recorded by the caller).
        fn: the step, a function of array pytrees.
        args: its arguments.
        input_roles: a pytree like ``args`` with a role string (or ``""``) per leaf.
        output_roles: maps the step's output pytree to a like pytree of roles.
        loss: picks the loss out of the output pytree.
        params: picks the updated parameters (role -> array, ``[in, out]`` w).
        loss_kind: ``before_update`` or ``after_update``.
        versions: framework versions to record.
        notes: remarks for the manifest.
    """
    # keep_unused: the module's arguments must be exactly the flattened inputs,
    # so that inputs.npz lines up with @main's parameters.
    jitted = jax.jit(fn, keep_unused=True)
    with phases("trace"):
        traced = jitted.trace(*args)
    with phases("lower"):
        lowered = traced.lower()
        stablehlo = lowered.as_text(debug_info=True)
        hlo = lowered.as_text(dialect="hlo")
    with phases("compile"):
        compiled = lowered.compile()
        optimized = compiled.as_text()
    with phases("native_run"):
        result = jax.block_until_ready(compiled(*args))
    flat_in = [np.asarray(a) for a in jax.tree_util.tree_leaves(args)]
    flat_out = [np.asarray(r) for r in jax.tree_util.tree_leaves(result)]
    native = time_native(lambda: jax.block_until_ready(compiled(*args)))
    write_capture(
        out,
        stablehlo=stablehlo,
        hlo=hlo,
        optimized_hlo=optimized,
        inputs=flat_in,
        input_roles=_roles(input_roles),
        results=flat_out,
        output_roles=_roles(output_roles(result)),
        loss=loss(result),
        loss_kind=loss_kind,
        params={k: np.asarray(v) for k, v in params(result).items()},
        versions={**versions, "jax": jax.__version__, "jaxlib": jax.lib.__version__},
        seconds=phases.seconds,
        native_step_seconds=native,
        notes=notes,
    )
