"""Where each array of a sharded step lives: one placement table for every frontend.

The rules are written once, in the workload's reference layout (dense kernels
``[in, out]``, conv kernels HWIO), as a tuple of mesh-axis names (or None) per
dimension; each frontend turns the tuple into its own form (a jax
``PartitionSpec``, a Keras ``LayoutMap`` value, a torch_xla ``mark_sharding``
partition spec) and into its own layout (:func:`torch_layout`,
:func:`keras_attention_layout`). Framework-free: imported by the jax,
keras-jax, torch_xla and torchax subprocesses alike.

| strategy | data ``x``, ``y`` | parameters and optimizer slots |
| --- | --- | --- |
| dp | batch over ``data`` | replicated |
| fsdp | batch over ``data`` | first dimension over ``data`` |
| tp | replicated | Megatron pairs over ``model`` (below) |
| dp+tp | batch over ``data`` | as tp |

NOTE: [tensor-parallel pairs] the first matmul of a pair splits its output
columns and the second its input rows, so only the pair's result is reduced
(Megatron-LM). mlp: layers 0, 2, ... columns (kernel and bias), 1, 3, ... rows.
transformer: q/k/v and ``mlp.fc1`` (kernel and bias) columns, the attention
output and ``mlp.fc2`` kernel rows; heads split with the columns. cnn: each
block's ``conv1`` splits output channels (its batch norm's scale and bias with
them), ``conv2`` input channels. A dimension the axis size does not divide
stays replicated; everything else is replicated.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from xlalens.ir._mesh import MeshSpec

Spec = tuple[str | None, ...]
"""One mesh-axis name (or None: not split) per dimension of an array."""

_COLUMN = re.compile(
    r"(attn\.(query|key|value)|mlp\.fc1\.kernel|mlp\.fc1\.bias"
    r"|block\d+\.conv1\.kernel|block\d+\.bn1\.(scale|bias))$"
)
_ROW = re.compile(r"(attn\.output|mlp\.fc2\.kernel|block\d+\.conv2\.kernel)$")
_DENSE = re.compile(r"([wb])(\d+)")


def tp_kind(role: str) -> str | None:
    """``"col"`` (last dimension split), ``"row"`` (input dimension split) or None under tp.

    Example:
        >>> tp_kind("layer0.attn.output"), tp_kind("w0"), tp_kind("b1")
        ('row', 'col', None)
    """
    if _COLUMN.search(role):
        return "col"
    if _ROW.search(role):
        return "row"
    m = _DENSE.fullmatch(role)
    if m:  # mlp: even layers split columns, odd layers rows (their bias is replicated)
        col = int(m[2]) % 2 == 0
        if m[1] == "w":
            return "col" if col else "row"
        return "col" if col else None
    return None


def param_spec(role: str, shape: tuple[int, ...], spec: MeshSpec) -> Spec:
    """Placement of one parameter (or optimizer slot) in the workload's layout.

    Args:
        role: the workload role (``w0``, ``layer0.attn.query``, ``block0.conv1.kernel``).
        shape: its shape in the workload layout (``[in, out]``, HWIO).
        spec: the mesh and strategy.

    Returns:
        One axis name or None per dimension (all None: replicated).

    Example:
        >>> param_spec("w0", (8, 16), parse_mesh(8, "4x2", None, "dp+tp"))  # doctest: +SKIP
        (None, 'model')
    """
    none: Spec = (None,) * len(shape)
    if not shape:
        return ()
    if spec.strategy == "fsdp":
        n = spec.axis_size("data")
        return ("data", *none[1:]) if shape[0] % n == 0 else none
    if spec.strategy not in ("tp", "dp+tp"):
        return none
    kind = tp_kind(role)
    if kind == "col":
        dim = len(shape) - 1
    elif kind == "row" and len(shape) >= 2:
        dim = len(shape) - 2  # [in, out] -> 0; HWIO -> I
    else:
        return none
    if shape[dim] % spec.axis_size("model"):
        return none
    return tuple("model" if i == dim else None for i in range(len(shape)))


def batch_spec(ndim: int, spec: MeshSpec) -> Spec:
    """Placement of the data (``x``, ``y``): batch over ``data`` unless tp.

    Example:
        >>> batch_spec(2, parse_mesh(4))  # doctest: +SKIP
        ('data', None)
    """
    if spec.strategy == "tp" or "data" not in spec.axes:
        return (None,) * ndim
    return ("data", *(None,) * (ndim - 1))


def torch_layout(placement: Spec) -> Spec:
    """A placement in torch's layout: ``nn.Linear`` weights ``[out, in]``, conv OIHW.

    Example:
        >>> torch_layout((None, "model")), torch_layout((None, None, "model", None))
        (('model', None), (None, 'model', None, None))
    """
    if len(placement) == 2:
        return placement[::-1]
    if len(placement) == 4:  # HWIO -> OIHW
        h, w, i, o = placement
        return (o, i, h, w)
    return placement


def keras_attention_layout(role: str, placement: Spec, heads: int, spec: MeshSpec) -> Spec:
    """A q/k/v/output placement for Keras's ``MultiHeadAttention`` kernels.

    Keras keeps q/k/v as ``[width, heads, head_dim]`` and the output as
    ``[heads, head_dim, width]``: a split of the workload's ``[width, width]``
    columns (rows for the output) is a split of the heads, which needs the
    model axis to divide the head count; otherwise the kernel stays replicated.
    """
    split = "model" in placement and heads % spec.axis_size("model") == 0
    if role.endswith("attn.output"):
        return ("model" if split else None, None, None)
    return (None, "model" if split else None, None)


BEGIN, END = "# sharding: begin", "# sharding: end"


def _source(fn: Any) -> list[str] | None:
    import inspect

    try:
        return inspect.getsource(inspect.unwrap(fn)).splitlines()
    except (OSError, TypeError):  # a builtin, or source not on disk
        return None


def _code(line: str) -> bool:
    s = line.strip()
    return bool(s) and not s.startswith("#")


def code_change(single: Any, sharded: Any, *placing: Any) -> dict[str, Any]:
    """The user code the sharded step adds to or changes in the 1-device one, counted from the
    sources that ran (``spmd.code`` in ``result.json``; the "parallelizes easily" claim).

    NOTE: [lines changed, measured] two counts, both read with ``inspect`` from the
    functions this capture ran: ``step_lines_changed`` is a difflib count (a
    replaced block counts its longer side) between the step function run on one
    device and the one run sharded (the same function: 0); ``placement_lines`` are
    the code lines (not blank, not comments) of the ``# sharding: begin`` ..
    ``# sharding: end`` blocks of ``placing`` (the capture function), which mark the
    lines the sharded program adds: the mesh, the placements, the SPMD switch. A
    helper called there counts as its one calling line; xlalens's own bookkeeping
    (roles, checks of its capture) stays outside the blocks.

    Args:
        single: the step function the 1-device run called.
        sharded: the step function the sharded run called.
        placing: the functions holding the marked blocks.

    Returns:
        ``{"step": qualname, "step_lines_changed", "placement_lines", "placement"}``
        (``placement``: the counted lines, as written); a count is None where the source
        is not readable.

    Example:
        >>> code_change(step, step, capture_sharded)["step_lines_changed"]  # doctest: +SKIP
        0
    """
    import difflib
    import textwrap

    a, b = _source(single), _source(sharded)
    changed = None
    if a is not None and b is not None:
        changed = 0
        for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b).get_opcodes():
            if op != "equal":
                changed += max(i2 - i1, j2 - j1)
    lines: list[str] | None = []
    for fn in placing:
        src = _source(fn)
        if src is None:
            lines = None
            break
        inside = False
        block: list[str] = []
        for line in src:
            if line.strip().startswith(BEGIN):
                inside, block = True, []
            elif line.strip().startswith(END):
                inside = False
                # Kept as written (the block's common indent removed), for findings.md.
                lines += textwrap.dedent("\n".join(block)).splitlines()
            elif inside and _code(line):
                block.append(line.rstrip())
    return {
        "step": getattr(sharded, "__qualname__", type(sharded).__name__),
        "step_lines_changed": changed,
        "placement_lines": None if lines is None else len(lines),
        "placement": lines,
    }


def record_proof(
    out: Path,
    spec: MeshSpec,
    sharded: Sequence[Any],
    single: Sequence[Any],
    input_shardings: list[str],
    *,
    judged: Sequence[int] | None = None,
    code: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Judge the sharded step against its 1-device run and record it as ``result.json``'s ``spmd``.

    NOTE: [sharded proof] both runs are judged against the float64 reference of
    the captured module, run on one device, by the proof's rule
    (:func:`xlalens.proof.prove`, the 1-device step in the replay's
    place): comparing the two float32 runs with each other cannot tell rounding
    from a wrong partition where the step amplifies rounding. AdamW's first step
    is such a step: its update is ``lr * g / (|g| + eps)``, so a gradient element
    near zero flips between ``+lr`` and ``-lr`` on a last-bit change of ``g``
    (transformer tp over 4 devices: ``layer1.attn.value`` 1.13x twice the bound
    apart, while each run is within its conditioning of the truth). Without a
    reference (the module does not promote to f64) the two runs must agree
    within twice the bound, as before.

    Args:
        out: the capture folder (``stablehlo.mlir``, ``inputs.npz`` and
            ``result.json`` written).
        spec: the mesh and strategy.
        sharded: the sharded step's judged results, by position.
        single: the same results of the 1-device step.
        input_shardings: each input's placement, in the framework's own spelling.
        judged: the module results that ``sharded`` and ``single`` hold, by
            index (default: all of them, in order).
        code: :func:`code_change` of the two steps (recorded as ``code``).

    Returns:
        The ``spmd`` record (docs/sharding.md), for a frontend to add to.

    Example:
        >>> record_proof(out, spec, sharded, single, ["P('data', None)"])["matches_single_device"]  # doctest: +SKIP
        True
    """
    import json

    import numpy as np

    from xlalens.frontends._protocol import RESULT
    from xlalens.proof import ReferenceUnavailable, error_bound, judge, prove, reference

    text = (out / "stablehlo.mlir").read_text()
    sharded = [np.asarray(a) for a in sharded]
    single = [np.asarray(a) for a in single]
    bound = error_bound(text)
    # The two runs against each other (agree()'s rule: twice the bound): their
    # largest difference, and the verdict when there is no reference.
    between = judge(sharded, single, bound, slack=2.0)
    try:
        with np.load(out / "inputs.npz") as npz:
            inputs = [npz[f"arg{i}"] for i in range(len(npz.files))]
        ref = reference(text, inputs)
    except ReferenceUnavailable as exc:
        ok, why, ratio = between.ok, between.message, between.worst_ratio
        record: dict[str, Any] = {"reference": f"the 1-device step ({exc})"}
    else:
        ref = [ref[i] for i in judged] if judged is not None else ref
        one, many, ill, kappa = prove(single, sharded, ref, bound)
        ok, ratio = one.ok and many.ok, many.worst_ratio
        why = "; ".join(
            f"{side}: {j.message}"
            for side, j in (("the 1-device step", one), ("the sharded step", many))
            if not j.ok
        )
        record = {
            "reference": "float64",
            "single_error_over_bound": one.worst_ratio,
            "conditioning": kappa,
            "ill_conditioned": len(ill),
        }
    result = json.loads((out / RESULT).read_text())
    result["spmd"] = {
        **spec.to_json(),
        "matches_single_device": ok,
        "max_abs_diff": between.max_abs_error,
        "error_over_bound": ratio,
        "why": why,
        **record,
        "input_shardings": input_shardings,
        **({"code": code} if code is not None else {}),
    }
    (out / RESULT).write_text(json.dumps(result, indent=1))
    return result["spmd"]
