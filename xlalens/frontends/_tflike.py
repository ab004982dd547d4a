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
from xlalens.ir._locations import flatten_locations, line_of

_ALIAS = re.compile(r"\{(\d+)\}:\s*\((\d+),")
_LIBRARY_DIRS = ("site-packages", "dist-packages")


def _is_capture_code(path: str) -> bool:
    # xlalens's capture code calls the tracing; the built-in TF workloads are
    # written in fe_tensorflow.py, which is therefore the user's code here.
    return "/xlalens/frontends/" in path and not path.endswith("fe_tensorflow.py")


def _is_library(path: str) -> bool:
    return any(f"/{d}/" in path for d in _LIBRARY_DIRS)


def _is_tensorflow(path: str) -> bool:
    # The tensorflow package itself, not any path with a "tensorflow" folder in it:
    # Keras's TF backend (keras/src/backend/tensorflow/trainer.py) is a Keras frame.
    return any(f"/{d}/tensorflow/" in path for d in _LIBRARY_DIRS)


def _is_keras_plumbing(path: str) -> bool:
    # Keras's op wrappers (keras.ops and the backend's implementations of them): the
    # layer, loss or optimizer line that called them says more.
    return "/keras/src/backend/" in path or "/keras/src/ops/" in path


_PACKED_I1 = re.compile(r'dense<"0x([0-9A-Fa-f]+)">(\s*:\s*tensor<((?:\d+x)*)i1>)')


def unpack_i1(text: str) -> str:
    """Boolean constants with one byte per element, as jaxlib's StableHLO parser wants them.

    NOTE: [TF's packed booleans] TensorFlow 2.21 prints a boolean constant (a causal
    mask) as ``dense<"0x...">: tensor<2x4x16x16xi1>`` with one *bit* per element,
    least significant bit first; jaxlib rejects it ("elements hex data size is
    invalid"). Hex data of exactly one byte per element is left as it is.

    Example:
        >>> unpack_i1('dense<"0x05">: tensor<4xi1>')
        'dense<"0x01000100">: tensor<4xi1>'
    """

    def one(m: re.Match[str]) -> str:
        n = int(np.prod([int(d) for d in m[3].split("x") if d] or [1]))
        data = bytes.fromhex(m[1])
        if len(data) == n or len(data) != (n + 7) // 8:
            return m[0]
        bits = np.unpackbits(np.frombuffer(data, np.uint8), bitorder="little")[:n]
        return f'dense<"0x{bits.astype(np.uint8).tobytes().hex().upper()}">{m[2]}'

    return _PACKED_I1.sub(one, text)


_GRADIENT_SCOPE = "gradient_tape/"


def _forward_op(name: str, scopes: dict[str, tuple[str, int]]) -> tuple[str, int] | None:
    # A tape gradient op is named "gradient_tape/<forward op or its scope>/<grad op>";
    # the longest located prefix of the rest is the forward op it differentiates, or,
    # when no prefix is an op, the forward op's name scope (Keras's layer or loss call,
    # e.g. "sequential_1/dense_1" for a TanhGrad), located by the first op of it.
    parts = name[len(_GRADIENT_SCOPE) :].split("/")
    for n in range(len(parts) - 1, 0, -1):
        where = scopes.get("/".join(parts[:n]))
        if where is not None:
            return where
    return None


def user_lines(graph: Any) -> dict[str, tuple[str, int]]:
    """Op name -> (file, line) of the innermost frame of its creation stack that is
    not in an installed package (site-packages), for every op of ``graph``; for a
    Keras model, whose code is all installed, the Keras line that made the op.

    NOTE: [TF source locations] TF records each op's Python stack when the op is
    created, and its XLA metadata takes the innermost frame, which is TF's own
    ``tensorflow/python/framework/ops.py:1221`` for every op (TF 2.21). TF's own
    stack filter cannot fix that: it cuts the stack at the outermost filtered
    frame, which drops the user's frames below TF's tracing machinery. The full
    stack is kept on the op (``op.traceback``), so the user's line is read there:
    the innermost frame outside site-packages that is not xlalens's capture code.
    Without one (a built-in Keras workload, whose code is all installed), a
    forward op takes the innermost frame outside the tensorflow package that is not
    one of Keras's op wrappers (``keras/src/ops``, ``keras/src/backend``): the Keras
    layer, loss, metric or optimizer line (else the innermost Keras frame), and a tape
    gradient op (``gradient_tape/<forward op>/...``) takes its forward op's line,
    as jax does, rather than Keras's one ``tape.gradient`` call; only the tape's
    sums of gradients (``AddN``, no forward op) keep that call's line
    (``keras/src/backend/tensorflow/trainer.py``). Keras's train step is one graph:
    tape gradients are inlined (no function-library graphs), so every ``op_name``
    of the HLO metadata is an op found here, and every op had a recorded stack
    (checked on the mlp step, TF 2.21 / Keras 3). TF writes no ``source_file`` at
    all for ``XLA_Args``/``XLA_Retvals`` and a few gradient instructions (e.g.
    ``BiasAddGrad``); those are left as they are.
    """
    user: dict[str, tuple[str, int]] = {}
    keras: dict[str, tuple[str, int]] = {}
    for op in graph.get_operations():
        try:
            frames = [f for f in reversed(list(op.traceback)) if not f.filename.startswith("<")]
        except Exception:  # an op without a recorded stack
            continue
        frames = [f for f in frames if not _is_capture_code(f.filename)]
        hit = next((f for f in frames if not _is_library(f.filename)), None)
        if hit is not None:
            user[op.name] = (hit.filename, int(hit.lineno))
            continue
        keras_frames = [f for f in frames if not _is_tensorflow(f.filename)]
        hit = next((f for f in keras_frames if not _is_keras_plumbing(f.filename)), None)
        hit = hit or next(iter(keras_frames), None)
        if hit is not None:
            keras[op.name] = (hit.filename, int(hit.lineno))
    out = {**keras, **user}
    # Every forward op name and every scope above it -> a line (an op's own first).
    scopes = {k: v for k, v in out.items() if not k.startswith(_GRADIENT_SCOPE)}
    for op_name, where in list(scopes.items()):
        parts = op_name.split("/")
        for n in range(1, len(parts)):
            scopes.setdefault("/".join(parts[:n]), where)
    for name in keras:
        if name.startswith(_GRADIENT_SCOPE):
            forward = _forward_op(name, scopes)
            if forward is not None:
                out[name] = forward
    return out


_META_LOC = re.compile(r'(op_name="(?P<name>[^"]*)"[^}]*?source_file=")[^"]*(" source_line=)\d+')


def relocate(hlo: str, lines: dict[str, tuple[str, int]]) -> str:
    """Point each HLO instruction's ``source_file``/``source_line`` at its op's user line.

    The op is found by the metadata's ``op_name`` (its last ``/`` part when the full
    name is not an op of the graph); instructions of unknown ops are left as TF wrote them.
    """

    def fix(m: re.Match) -> str:
        where = line_of(lines, m["name"])
        if where is None:
            return m.group(0)
        return f"{m.group(1)}{where[0]}{m.group(3)}{where[1]}"

    return _META_LOC.sub(fix, hlo)


def output_aliases(hlo: str) -> dict[int, int]:
    """Result index -> parameter number, from the HLO header's input_output_alias."""
    header = hlo.split("\n", 1)[0]
    m = re.search(r"input_output_alias=\{(.*?)\}, entry_computation_layout", header)
    if not m:
        return {}
    return {int(k): int(p) for k, p in _ALIAS.findall(m.group(1))}


def _baselines(step: Any, args: tuple) -> dict[str, Any]:
    """TensorFlow's non-XLA steps of the same Python function: eager (TF 2's default) and
    a ``tf.function`` graph without ``jit_compile``, for the seed's TF 2 eager claim."""
    import tensorflow as tf

    fn = step.python_function

    def eager() -> Any:
        return lambda: tf.nest.map_structure(lambda t: t.numpy(), fn(*args))

    def graph() -> Any:
        g = tf.function(fn, jit_compile=False)
        return lambda: tf.nest.map_structure(lambda t: t.numpy(), g(*args))

    return {"TF eager": eager, "tf.function without XLA": graph}


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
    result_roles: Any = None,
) -> None:
    """Capture ``step`` (a ``tf.function(jit_compile=True)``) and write the files.

    ``result_roles(returned)`` (optional) gives a role per flattened returned value
    (a user step's ``loss``, its dict keys); by default the first is ``loss`` when
    ``loss`` is given.

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
    lines = user_lines(concrete.graph)
    hlo, optimized = relocate(hlo, lines), relocate(optimized, lines)
    # The StableHLO too: `xlalens time` and the compile-only targets compile it, and
    # their kernels take their lines from its locations.
    stablehlo = unpack_i1(flatten_locations(stablehlo, lines))
    flat_args = [np.asarray(a) for a in tf.nest.flatten(args)]
    # Read the variables before the native run updates them.
    inputs = flat_args + [v.numpy() for v in captured]
    input_roles = list(arg_roles) + [var_roles.get(id(v)) for v in captured]
    with phases("native_run"):
        returned = step(*args)
        flat_ret = [np.asarray(r) for r in tf.nest.flatten(returned)]
    named = list(result_roles(returned)) if result_roles is not None else None
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
            if named is not None and k < len(named):
                output_roles.append(named[k])
            else:
                output_roles.append("loss" if k == 0 and loss is not None else None)
    loss_value = None if loss is None else float(loss(returned))
    updated = params()
    native = time_native(
        lambda: tf.nest.map_structure(lambda t: t.numpy(), step(*args)),
        baselines=_baselines(step, args),
    )
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
