"""Capture of a ``tf.function(jit_compile=True)`` step: tensorflow and keras-tensorflow.

NOTE: [TF's XLA signature] The compiled cluster takes the function's flattened
arguments followed by the captured resource variables, in
``concrete_function.captured_inputs`` order, and returns the function's
flattened results followed by the updated variables. Which result updates which
variable is read from the module's ``input_output_alias`` header (checked with
TF 2.21): ``{k}: (p, {}, may-alias)`` says result k is the new value of
parameter p. The core's replay (outputs_match) verifies this reading.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from xlalens.frontends._protocol import Phases, time_native, write_capture

_ALIAS = re.compile(r"\{(\d+)\}:\s*\((\d+),")


def output_aliases(hlo: str) -> dict[int, int]:
    """Result index -> parameter number, from the HLO header's input_output_alias."""
    header = hlo.split("\n", 1)[0]
    m = re.search(r"input_output_alias=\{(.*?)\}, entry_computation_layout", header)
    if not m:
        return {}
    return {int(k): int(p) for k, p in _ALIAS.findall(m.group(1))}


def capture_tf_step(
    out: Path,
    phases: Phases,
    *,
    step: Any,
    args: tuple,
    arg_roles: list[str | None],
    variables: list[Any],
    var_roles: dict[int, str | None],
    loss: Any | None,
    params: Any,
    versions: dict[str, str],
    notes: list[str] | None = None,
) -> None:
    """Capture ``step`` (a ``tf.function(jit_compile=True)``) and write the files.

    Args:
        out: the frontend's folder.
        phases: phase timer.
        step: the compiled step.
        args: its arguments (nested structures are flattened with ``tf.nest``).
        arg_roles: a role per flattened argument.
        variables: every ``tf.Variable`` the step may capture.
        var_roles: ``id(variable)`` -> role.
        loss: maps the step's returned structure to the loss value; None when the
            step has no loss (a user's function): then no result is called ``loss``.
        params: returns updated params (role -> array, ``[in, out]`` w) after the run.
        versions: framework versions.
        notes: remarks for the manifest.
    """
    import tensorflow as tf

    with phases("trace"):
        concrete = step.get_concrete_function(*args)
    by_handle = {id(v.handle): v for v in variables}
    captured = []
    for handle in concrete.captured_inputs:
        var = by_handle.get(id(handle))
        if var is None:
            raise RuntimeError(
                f"step captures a tensor that is not one of the given variables: {handle!r:.120}"
            )
        captured.append(var)
    with phases("lower"):
        ir = step.experimental_get_compiler_ir(*args)
        stablehlo = ir(stage="stablehlo")
        hlo = ir(stage="hlo")
    with phases("compile"):
        optimized = ir(stage="optimized_hlo")
    flat_args = [np.asarray(a) for a in tf.nest.flatten(args)]
    # Read the variables before the native run updates them.
    inputs = flat_args + [v.numpy() for v in captured]
    input_roles = list(arg_roles) + [var_roles.get(id(v)) for v in captured]
    with phases("native_run"):
        returned = step(*args)
        flat_ret = [np.asarray(r) for r in tf.nest.flatten(returned)]
    aliases = output_aliases(hlo)
    n_results = len(flat_ret) + len(aliases)
    results, output_roles = [], []
    for k in range(n_results):
        if k in aliases:
            var = captured[aliases[k] - len(flat_args)]
            results.append(var.numpy())
            output_roles.append(var_roles.get(id(var)))
        else:
            results.append(flat_ret[k])
            output_roles.append("loss" if k == 0 and loss is not None else None)
    loss_value = None if loss is None else float(loss(returned))
    updated = params()
    native = time_native(lambda: tf.nest.map_structure(lambda t: t.numpy(), step(*args)))
    write_capture(
        out,
        stablehlo=stablehlo,
        hlo=hlo,
        optimized_hlo=optimized,
        inputs=inputs,
        input_roles=input_roles,
        results=results,
        output_roles=output_roles,
        loss=loss_value,
        loss_kind="before_update" if loss is not None else "none",
        params=updated,
        versions=versions,
        seconds=phases.seconds,
        native_step_seconds=native,
        notes=notes,
    )
