"""Capture of a step that is a JAX function: used by jax, keras-jax and torchax.

Imported only inside frontend subprocesses (it imports jax at module level, which
the core may do too; the frameworks built on top are imported by the callers).
"""

from __future__ import annotations

import inspect
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import numpy as np

from xlalens.frontends._frames import locate_at_model
from xlalens.frontends._protocol import Phases, time_native, write_capture

NO_ROLE = ""  # a leaf, unlike None, which jax treats as an empty subtree


def _is_user_code(fn: Callable[..., Any]) -> bool:
    """Whether ``fn`` is defined outside xlalens (a user's target, not a built-in workload)."""
    inner = inspect.unwrap(getattr(fn, "func", fn))
    try:
        where = inspect.getsourcefile(inner) or ""
    except TypeError:
        return False
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return bool(where) and not os.path.abspath(where).startswith(root + os.sep)


def _roles(tree: Any) -> list[str | None]:
    return [r or None for r in jax.tree_util.tree_leaves(tree)]


def _arg_names(fn: Callable[..., Any], args: tuple) -> list[str]:
    """Top-level argument names as jax prints them (``params``, ``opt_state``)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        params = []
    names = []
    for p in params:
        if p.kind is p.VAR_POSITIONAL:
            names += [f"{p.name}[{i}]" for i in range(len(args) - len(names))]
        elif p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            names.append(p.name)
    if len(names) < len(args):
        names = [f"args[{i}]" for i in range(len(args))]
    return names[: len(args)]


def program_paths(
    fn: Callable[..., Any], args: tuple, result: Any, traced: Any = None
) -> tuple[list[str], list[str]]:
    """Pytree paths of every flattened argument and result, as jax writes them.

    Arguments read like ``params['w1']`` or ``opt_state[0].mu['b1']`` (the names in
    the StableHLO argument locations, from ``debug_info.arg_names`` when jax gives
    them). A top-level result with the structure of exactly one argument takes that
    argument's name, so the updated ``params['w1']`` is the result that replaces the
    input ``params['w1']``; other results read ``result[2]``.

    Example:
        >>> program_paths(step, (params, opt_state, x), step(params, opt_state, x))  # doctest: +SKIP
        (["params['w1']", ...], ["params['w1']", ..., 'result[2]'])
    """
    tree = jax.tree_util
    names = _arg_names(fn, args)
    arg_paths: list[str] = []
    for name, arg in zip(names, args):
        arg_paths += [name + tree.keystr(p) for p, _ in tree.tree_flatten_with_path(arg)[0]]
    debug = getattr(getattr(traced, "jaxpr", None), "debug_info", None)
    jax_names = list(getattr(debug, "arg_names", None) or [])
    if len(jax_names) == len(arg_paths) and all(jax_names):
        arg_paths = jax_names
    structs = [tree.tree_structure(a) for a in args]
    results = result if isinstance(result, (tuple, list)) else (result,)
    out_paths: list[str] = []
    for i, r in enumerate(results):
        struct = tree.tree_structure(r)
        # A single array matches every array argument: only containers are matched.
        same = [j for j, s in enumerate(structs) if s == struct and struct.num_nodes > 1]
        prefix = names[same[0]] if len(same) == 1 else f"result[{i}]"
        if not isinstance(result, (tuple, list)):
            prefix = names[same[0]] if len(same) == 1 else "result"
        out_paths += [prefix + tree.keystr(p) for p, _ in tree.tree_flatten_with_path(r)[0]]
    return arg_paths, out_paths


# Optimizer-state paths of optax (and torchax, which runs optax) -> workload roles.
_OPTAX_STATE = re.compile(
    r"^(?:opt_state|result\[\d+\])(?:\[\d+\])*\.(?P<slot>trace|mu|nu)\['(?P<role>[^']+)'\]$"
)
_OPTAX_COUNT = re.compile(r"^(?:opt_state|result\[\d+\])(?:\[\d+\])*\.count$")
_DICT_KEY = re.compile(r"^\w+(?:\[\d+\])*\['(?P<role>[^']+)'\]$")


def workload_role(path: str) -> str | None:
    """A built-in workload's role from a program path.

    ``params['head.kernel']`` -> ``head.kernel``; ``opt_state[0].trace['w']`` and
    ``opt_state[0].mu['w']`` -> ``w/m`` (velocity, first moment);
    ``opt_state[0].nu['w']`` -> ``w/v``; ``opt_state[0].count`` -> ``opt/step``;
    plain names (``x``, ``y``, ``loss``) are kept.
    """
    m = _OPTAX_STATE.match(path)
    if m:
        return f"{m['role']}/{'v' if m['slot'] == 'nu' else 'm'}"
    if _OPTAX_COUNT.match(path):
        return "opt/step"
    m = _DICT_KEY.match(path)
    if m:
        return m["role"]
    return path if re.fullmatch(r"\w+", path) else None


def _op_by_op(fn: Any, args: tuple) -> Any:
    """The step run eagerly, one dispatched primitive at a time (``jax.disable_jit``): jax's
    non-XLA-graph baseline, for the seed's "JAX is optimized for XLA" claim."""

    def run() -> None:
        with jax.disable_jit():
            jax.block_until_ready(fn(*args))

    return run


def capture_jax_step(
    out: Path,
    phases: Phases,
    *,
    fn: Callable[..., Any],
    args: tuple,
    input_roles: Any = None,
    output_roles: Callable[[Any], Any] | None = None,
    role_of: Callable[[str], str | None] | None = None,
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
        input_roles: a pytree like ``args`` with a role string (or ``""``) per leaf;
            None: roles from the program's pytree paths (:func:`program_paths`).
        output_roles: maps the step's output pytree to a like pytree of roles;
            None: from the program's paths, as for inputs.
        role_of: maps a program path to a role (default: the path itself).
        loss: picks the loss out of the output pytree.
        params: picks the updated parameters (role -> array, ``[in, out]`` w).
        loss_kind: ``before_update`` or ``after_update``.
        versions: framework versions to record.
        notes: remarks for the manifest.
    """
    # Ops at the user's model, not at library plumbing or xlalens's own frames: one
    # rule for every jax-traced frontend (_frames.py, NOTE: [jax frames at the model]).
    locate_at_model(all_of_xlalens=_is_user_code(fn))
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
    rename = role_of or (lambda p: p)
    in_paths, out_paths = program_paths(fn, args, result, traced)
    in_list = [rename(p) for p in in_paths] if input_roles is None else _roles(input_roles)
    out_list = (
        [rename(p) for p in out_paths] if output_roles is None else _roles(output_roles(result))
    )
    native = time_native(
        lambda: jax.block_until_ready(compiled(*args)),
        baselines={"jax without jit (op by op)": lambda: _op_by_op(fn, args)},
    )
    write_capture(
        out,
        stablehlo=stablehlo,
        hlo=hlo,
        optimized_hlo=optimized,
        inputs=flat_in,
        input_roles=in_list,
        results=flat_out,
        output_roles=out_list,
        loss=loss(result),
        loss_kind=loss_kind,
        params={k: np.asarray(v) for k, v in params(result).items()},
        versions={**versions, "jax": jax.__version__, "jaxlib": jax.lib.__version__},
        seconds=phases.seconds,
        native_step_seconds=native,
        notes=notes,
    )
