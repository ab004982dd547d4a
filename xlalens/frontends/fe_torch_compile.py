"""torch.compile frontend: the PyTorch step through dynamo and torch_xla's ``openxla`` backend.

NOTE: [what torch.compile hands to XLA] ``torch.compile(step, backend="openxla")``
traces ``step`` with dynamo, runs AOTAutograd, and hands each FX graph to
torch_xla's dynamo bridge (``torch_xla/_dynamo/dynamo_bridge.py``), which traces it
once on lazy tensors and compiles the resulting XLA graph in
``torch_xla._XLAC._xla_warm_up_cache(tensors, [])``. We wrap that one call: the
tensors it receives are the graph's results, so we take their HLO, StableHLO and
device-data inputs exactly as the lazy-tensor frontend does (fe_torch_xla.py),
and XLA's own dump of that compile gives the framework's optimized HLO.

NOTE: [a whole step in one graph] The step users write,
``zero_grad(); loss.backward(); optimizer.step()``, is not one graph under
torch.compile: dynamo cannot trace ``Tensor.backward()`` and breaks the graph
there, and again in and around ``Optimizer.zero_grad``/``step``
(torch 2.9: 4 graph breaks, 2 graphs on an nn.Linear + SGD step). We measure that
with ``torch._dynamo.explain`` on a CPU copy of the model and record the breaks
(reason and user line) in result.json's ``dynamo.idiomatic``. The step we capture
is the form torch.compile takes whole (``fullgraph=True``): ``torch.func``'s
``grad_and_value`` over ``functional_call`` of the same module, and the
workload's optimizer update written with tensor ops in torch.optim's
conventions (``xlalens/workloads/_optim.py``). If dynamo still breaks that step
(a user's model with data-dependent control flow), the capture fails with one
line naming where.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from xlalens.frontends._protocol import (
    Phases,
    load_target,
    main,
    package_versions,
    time_native,
    write_capture,
)
from xlalens.frontends._torch_frames import graph_ops_located, traced_backward_at_forward
from xlalens.frontends.fe_torch_xla import (
    _input_roles,  # the -lr device-data rule
    _model_located,  # one location rule
)
from xlalens.workloads import Workload


class GraphBreak(RuntimeError):
    """dynamo split the step into several graphs; the message names where."""


def capture(workload: Workload, request: dict[str, Any], out: Path, phases: Phases) -> None:
    """Capture one training step compiled by ``torch.compile(backend="openxla")``."""
    os.environ.setdefault("PJRT_DEVICE", "CPU")
    if request.get("sharding"):
        raise RuntimeError(
            "torch_compile captures 1-device steps only; use --frameworks torch_xla "
            "for a sharded torch step"
        )
    xla_dump = _xla_dump_folder()
    try:
        with phases("import"):
            import torch  # noqa: F401
            import torch_xla

        device = torch_xla.device()
        if request.get("target"):
            _capture_target(request["target"], device, out, phases, xla_dump)
        else:
            # Native rounds (xlalens time) re-run the capture only to time the step: the
            # usual step's graph breaks are already in the manifest.
            measure = not request.get("native_rounds")
            _capture_workload(workload, device, out, phases, xla_dump, measure_breaks=measure)
    finally:
        if xla_dump is not None and xla_dump.owned:
            shutil.rmtree(xla_dump.path, ignore_errors=True)


class _XlaDump:
    """The folder XLA dumps compiled modules into, and whether we made it."""

    def __init__(self, path: Path, owned: bool) -> None:
        self.path = path
        self.owned = owned

    def optimized_after(self, before: set[str]) -> str | None:
        """The optimized HLO text of the module compiled since ``before`` was listed."""
        new = sorted(set(glob.glob(str(self.path / "*cpu_after_optimizations.txt"))) - before)
        return Path(new[-1]).read_text() if len(new) == 1 else None

    def listing(self) -> set[str]:
        return set(glob.glob(str(self.path / "*cpu_after_optimizations.txt")))


def _xla_dump_folder() -> _XlaDump | None:
    """Ask XLA to dump optimized modules (set before torch_xla creates its client).

    ``xlalens passes`` already sets ``--xla_dump_to`` for its own snapshots; then we
    read the same folder and leave it alone.
    """
    flags = os.environ.get("XLA_FLAGS", "")
    for tok in flags.split():
        if tok.startswith("--xla_dump_to="):
            return _XlaDump(Path(tok.split("=", 1)[1]), owned=False)
    path = Path(tempfile.mkdtemp(prefix="xlalens-torch-compile-"))
    os.environ["XLA_FLAGS"] = f"{flags} --xla_dump_to={path} --xla_dump_hlo_as_text".strip()
    return _XlaDump(path, owned=True)


class _GraphRecorder:
    """Wraps ``_xla_warm_up_cache`` to record every graph the dynamo bridge compiles."""

    def __init__(self, xla_dump: _XlaDump | None) -> None:
        self.graphs: list[dict[str, Any]] = []
        self._dump = xla_dump

    def __enter__(self) -> _GraphRecorder:
        import torch_xla

        self._orig = torch_xla._XLAC._xla_warm_up_cache
        recorder = self

        def warm_up(tensors: list[Any], devices: list[str]) -> Any:
            graph = {
                "hlo": torch_xla._XLAC._get_xla_tensors_hlo(tensors),
                # The portable artifact, each op located at the model's line with its
                # callers kept, as fe_torch_xla writes it.
                "stablehlo": _model_located(torch_xla._XLAC._get_stablehlo(tensors, "", [], True)),
                "outputs": [(tuple(t.shape), str(t.dtype)) for t in tensors],
            }
            ids, values = torch_xla._XLAC._get_tensors_xla_device_data_node(tensors)
            graph["input_ids"] = list(ids)
            graph["inputs"] = [v.cpu().numpy() for v in values]
            before = recorder._dump.listing() if recorder._dump else set()
            result = recorder._orig(tensors, devices)
            graph["optimized_hlo"] = (
                recorder._dump.optimized_after(before) if recorder._dump else None
            )
            recorder.graphs.append(graph)
            return result

        self._orig_run = torch_xla._XLAC._run_cached_graph

        def run_cached(graph_hash: Any, inputs: list[Any]) -> Any:
            res = recorder._orig_run(graph_hash, inputs)
            if recorder.graphs and "results" not in recorder.graphs[-1]:
                recorder.graphs[-1]["results"] = list(res)  # the graph's own output order
            return res

        torch_xla._XLAC._xla_warm_up_cache = warm_up
        torch_xla._XLAC._run_cached_graph = run_cached
        return self

    def __exit__(self, *exc: object) -> None:
        import torch_xla

        torch_xla._XLAC._xla_warm_up_cache = self._orig
        torch_xla._XLAC._run_cached_graph = self._orig_run


@contextlib.contextmanager
def _located_graphs() -> Iterator[None]:
    """Within: backward ops traced at their forward op's stack, and the graph torch_xla's
    dynamo bridge runs on lazy tensors made from its nodes' stacks (``_torch_frames``)."""
    import torch_xla.core.dynamo_bridge as bridge

    extract = bridge.extract_compiled_graph

    def located_extract(model: Any, args: Any) -> Any:
        with graph_ops_located():
            return extract(model, args)

    # torch's openxla backend looks the function up on this module at each compile.
    bridge.extract_compiled_graph = located_extract
    try:
        with traced_backward_at_forward():
            yield
    finally:
        bridge.extract_compiled_graph = extract


def _dynamo_counts() -> tuple[int, list[str]]:
    """Graphs compiled and graph-break reasons (first line) dynamo counted so far."""
    from torch._dynamo.utils import counters

    reasons = [str(r).splitlines()[0] for r in counters["graph_break"]]
    return int(counters["stats"]["unique_graphs"]), reasons


def _compile_whole(
    fn: Callable[..., Any], args: tuple, phases: Phases, xla_dump: _XlaDump | None
) -> tuple[dict[str, Any], Any, Callable[..., Any]]:
    """``torch.compile(fn, backend="openxla", fullgraph=True)``, called once, its graph recorded.

    Returns (the recorded graph, ``fn``'s native result, the compiled function).

    Raises:
        GraphBreak: dynamo could not take ``fn`` as one graph (names the line).
    """
    import torch
    import torch._dynamo as dynamo
    import torch_xla
    from torch._dynamo.utils import counters

    dynamo.reset()
    counters.clear()  # count this step's graphs only, not explain()'s
    compiled = torch.compile(fn, backend="openxla", fullgraph=True)
    # Each op at the model's line, backward ops at their forward op's (NOTE:
    # [torch.compile's backward at the forward line] in _torch_frames).
    with phases("compile"), _GraphRecorder(xla_dump) as rec, _located_graphs():
        try:
            produced = compiled(*args)
        except (dynamo.exc.Unsupported, dynamo.exc.TorchRuntimeError) as exc:
            raise GraphBreak(_break_line(exc)) from None
        torch_xla.sync(wait=True)
    if len(rec.graphs) != 1:
        raise GraphBreak(
            f"torch.compile handed {len(rec.graphs)} graphs to XLA for one step; "
            "xlalens captures a step that compiles to one graph"
        )
    return rec.graphs[0], produced, compiled


def _break_line(exc: BaseException) -> str:
    """One line: dynamo's reason and the innermost user frame of a graph break."""
    import traceback

    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    # dynamo traces symbolically: the user's frames are not on the Python traceback
    # but in the exception's ``real_stack`` (torch 2.x), the traceback as fallback.
    stack = list(getattr(exc, "real_stack", None) or traceback.extract_tb(exc.__traceback__))
    frames = [
        f for f in stack if "site-packages" not in f.filename and "/xlalens/" not in f.filename
    ]
    where = f" at {frames[-1].filename}:{frames[-1].lineno}" if frames else ""
    return (
        f"torch.compile cannot take the step as one graph{where}: {reason}. Rewrite that "
        "line without data-dependent Python control flow, or capture with --frameworks torch_xla"
    )


def _idiomatic_breaks(model: Any, criterion: Any, workload: Workload, x: Any, y: Any) -> dict:
    """``torch._dynamo.explain`` of the step users write, on a CPU copy (no XLA compile).

    Returns graphs, graph breaks and each break's reason with its line, for the
    findings on what torch.compile makes of ``loss.backward(); optimizer.step()``.
    """
    import copy

    import torch._dynamo as dynamo

    from xlalens.frontends._torchlike import torch_optimizer

    cpu_model = copy.deepcopy(model).cpu()
    opt = torch_optimizer(workload, cpu_model.parameters())
    xc, yc = x.cpu(), y.cpu()

    def step(x, y):
        opt.zero_grad()
        loss = criterion(cpu_model(x), y)
        loss.backward()
        opt.step()
        return loss

    dynamo.reset()
    explained = dynamo.explain(step)(xc, yc)
    breaks = []
    for br in explained.break_reasons:
        user = [f for f in br.user_stack if "site-packages" not in f.filename]
        frame = user[-1] if user else (br.user_stack[-1] if br.user_stack else None)
        breaks.append(
            {
                "reason": str(br.reason).strip().splitlines()[0],
                # The statement, not our wrapper's line number: the step is the
                # standard one, written out above.
                "code": (frame.line or "").strip() if frame else None,
            }
        )
    dynamo.reset()
    return {
        "step": "optimizer.zero_grad(); loss.backward(); optimizer.step()",
        "graphs": int(explained.graph_count),
        "graph_breaks": int(explained.graph_break_count),
        "breaks": breaks,
    }


def functional_step(model: Any, criterion: Any, workload: Workload) -> Callable[..., Any]:
    """The whole training step as one function of tensors, for ``fullgraph=True``.

    ``step(params, buffers, state, x, y) -> (loss, new_params, new_state)``, the
    new buffers (batch norm's running statistics) among ``new_params``; the
    update follows torch.optim's SGD (momentum buffer ``v <- m v + g``) and AdamW
    (decay ``p * (1 - lr wd)``, bias-corrected moments, ``eps`` added to
    ``sqrt(v_hat)``) for the captured first step (``t = 1``).
    """
    import torch
    from torch.func import functional_call, grad_and_value

    opt = workload.optimizer

    def step(params, buffers, state, x, y):
        def loss_of(p):
            # Batch norm updates its running statistics in place: on copies, which
            # come back as the step's new buffers (torch.func forbids mutating an
            # input captured from outside the transform).
            new_buffers = {k: b.clone() for k, b in buffers.items()}
            out = functional_call(model, {**p, **new_buffers}, (x,))
            return criterion(out, y), new_buffers

        grads, (loss, new_buffers) = grad_and_value(loss_of, has_aux=True)(params)
        new_params, new_state = dict(new_buffers), {}
        for k, p in params.items():
            g = grads[k]
            if opt.kind == "sgd":
                new_params[k] = p - opt.lr * g
            elif opt.kind == "sgd_momentum":
                v = opt.momentum * state[f"{k}/m"] + g
                new_state[f"{k}/m"] = v
                new_params[k] = p - opt.lr * v
            else:
                m = opt.b1 * state[f"{k}/m"] + (1 - opt.b1) * g
                v = opt.b2 * state[f"{k}/v"] + (1 - opt.b2) * g * g
                new_state[f"{k}/m"], new_state[f"{k}/v"] = m, v
                m_hat = m / (1 - opt.b1)
                v_hat = v / (1 - opt.b2)
                decayed = p * (1 - opt.lr * opt.weight_decay)
                new_params[k] = decayed - opt.lr * m_hat / (torch.sqrt(v_hat) + opt.eps)
        return loss, new_params, new_state

    return step


def _capture_workload(
    workload: Workload,
    device: Any,
    out: Path,
    phases: Phases,
    xla_dump: _XlaDump | None,
    *,
    measure_breaks: bool = True,
) -> None:
    """A built-in workload: the shared torch module (``_torchlike``), its step compiled whole."""
    import torch
    import torch_xla

    from xlalens.frontends._torchlike import build, from_torch, loss_fn

    with phases("trace"):
        # max_pool2d on the XLA device is a C++ autograd Function, which torch.func's
        # grad refuses ("cannot use C++ torch::autograd::Function with functorch
        # transforms"); pool with reshape + amax as torchax does (same values).
        built = build(workload, reshape_pool=True)
        criterion = loss_fn(workload)
        breaks = (
            _idiomatic_breaks(
                built.model,
                criterion,
                workload,
                torch.from_numpy(built.x),
                torch.from_numpy(built.y),
            )
            if measure_breaks
            else {"graphs": None, "graph_breaks": None, "breaks": []}
        )
        model = built.model.to(device)
        params = {k: v.detach() for k, v in model.named_parameters()}
        buffers = {k: v.detach() for k, v in model.named_buffers()}
        slots = {"sgd": (), "sgd_momentum": ("m",)}.get(workload.optimizer.kind, ("m", "v"))
        state = {f"{k}/{s}": torch.zeros_like(p) for k, p in params.items() for s in slots}
        x = torch.from_numpy(built.x).to(device)
        y = torch.from_numpy(built.y).to(device)
        torch_xla.sync()
        role_of: dict[int, str] = {}
        for k, t in [*params.items(), *buffers.items()]:
            if built.roles.get(k):
                role_of[torch_xla._XLAC._xla_get_tensor_id(t)] = built.roles[k]
        for k, t in state.items():
            name, slot = k.rsplit("/", 1)
            role_of[torch_xla._XLAC._xla_get_tensor_id(t)] = f"{built.roles[name]}/{slot}"
        role_of[torch_xla._XLAC._xla_get_tensor_id(x)] = "x"
        role_of[torch_xla._XLAC._xla_get_tensor_id(y)] = "y"
        step = functional_step(model, criterion, workload)
        args = (params, buffers, state, x, y)
    graph, produced, compiled = _compile_whole(step, args, phases, xla_dump)
    loss, new_params, new_state = produced
    flat = [("loss", loss)]
    flat += [(built.roles[k], t) for k, t in new_params.items()]
    for k, t in new_state.items():
        name, slot = k.rsplit("/", 1)
        flat.append((f"{built.roles[name]}/{slot}", t))
    with phases("native_run"):
        results, output_roles = _match_outputs(graph, flat)
    loss_value = float(results[output_roles.index("loss")])

    def one_step() -> None:
        compiled(*args)
        torch_xla.sync(wait=True)

    trainable = set(workload.initial_params())
    updated = {r: from_torch(r, v) for r, v in zip(output_roles, results) if r in trainable}
    _write(
        out,
        graph,
        results,
        output_roles,
        _input_roles(graph["input_ids"], graph["inputs"], role_of, workload.lr),
        loss=loss_value,
        params=updated,
        phases=phases,
        native=time_native(one_step),
        dynamo={"captured": _captured_info(), "idiomatic": breaks},
        notes=[
            f"{workload.describe()}; torch.compile(backend='openxla', fullgraph=True) of the "
            "step as torch.func.grad_and_value over functional_call + the optimizer's update",
            f"the step as usually written (zero_grad, backward, step) is {breaks['graphs']} "
            f"graphs with {breaks['graph_breaks']} graph breaks under torch.compile",
        ],
    )


def _captured_info() -> dict[str, Any]:
    """What dynamo counted for the captured step: graphs and breaks (0 with fullgraph)."""
    graphs, reasons = _dynamo_counts()
    return {"graphs": graphs, "graph_breaks": len(reasons), "breaks": reasons}


def _match_outputs(
    graph: dict[str, Any], flat: list[tuple[str, Any]]
) -> tuple[list[Any], list[str | None]]:
    """The graph's results in its own order (as ``_run_cached_graph`` returned them), each
    with the role of the step output it is.

    A result is the step output it is (the same tensor), else the one with equal
    shape and value; two outputs equal in both are interchangeable for the proof.
    """
    import numpy as np

    got = graph.get("results")
    if got is None or len(got) != len(flat):
        raise RuntimeError(
            f"the compiled graph returned {0 if got is None else len(got)} tensors for a step "
            f"of {len(flat)} outputs; xlalens cannot tell which result is which"
        )
    values = [t.detach().cpu().numpy() for t in got]
    native = [(r, t, t.detach().cpu().numpy()) for r, t in flat]
    used: set[int] = set()
    roles: list[str | None] = []
    for t, v in zip(got, values):
        pick = next((i for i, (_, n, _) in enumerate(native) if n is t and i not in used), None)
        if pick is None:
            pick = next(
                (
                    i
                    for i, (_, _, nv) in enumerate(native)
                    if i not in used and nv.shape == v.shape and np.array_equal(nv, v)
                ),
                None,
            )
        if pick is None:
            raise RuntimeError(
                f"a result of the compiled graph (shape {v.shape}) is none of the step's outputs"
            )
        used.add(pick)
        roles.append(native[pick][0])
    return values, roles


def _write(
    out: Path,
    graph: dict[str, Any],
    results: list[Any],
    output_roles: list[str | None],
    input_roles: list[str | None],
    *,
    loss: float | None,
    params: dict[str, Any],
    phases: Phases,
    native: dict[str, Any],
    dynamo: dict[str, Any],
    notes: list[str],
) -> None:
    write_capture(
        out,
        stablehlo=graph["stablehlo"],
        hlo=graph["hlo"],
        optimized_hlo=graph["optimized_hlo"],
        inputs=graph["inputs"],
        input_roles=input_roles,
        results=results,
        output_roles=output_roles,
        loss=loss,
        loss_kind="before_update" if loss is not None else "none",
        params=params,
        versions=package_versions("torch", "torch_xla"),
        seconds=phases.seconds,
        native_step_seconds=native,
        notes=notes,
        extra={"dynamo": dynamo},
    )


def _capture_target(
    target: str, device: Any, out: Path, phases: Phases, xla_dump: _XlaDump | None
) -> None:
    """A user's step, the torch family's ``make_step(device) -> (fn, args[, named])``.

    ``fn`` is compiled whole with ``torch.compile(backend="openxla",
    fullgraph=True)``; ``fn(*args)`` returns the tensors to capture. Tensors the
    function closes over (a model's parameters) are lifted by dynamo as graph
    inputs; ``named`` names them.
    """
    import torch
    import torch_xla

    with phases("trace"):
        made = load_target(target)(device)
        fn, args = made[0], tuple(made[1])
        named = dict(made[2]) if len(made) > 2 and made[2] else {}
        torch_xla.sync()
        role_of = {torch_xla._XLAC._xla_get_tensor_id(t): n for n, t in named.items()}
        for i, a in enumerate(args):
            if isinstance(a, torch.Tensor):
                role_of.setdefault(torch_xla._XLAC._xla_get_tensor_id(a), f"args[{i}]")
    graph, produced, compiled = _compile_whole(fn, args, phases, xla_dump)
    tensors = list(produced) if isinstance(produced, (tuple, list)) else [produced]
    if not all(isinstance(t, torch.Tensor) for t in tensors):
        raise TypeError("the user step must return an XLA tensor or a tuple of them")
    flat: list[tuple[str, Any]] = [(f"result[{i}]", t) for i, t in enumerate(tensors)]
    results, output_roles = _match_outputs(graph, flat)

    def one_step() -> None:
        compiled(*args)
        torch_xla.sync(wait=True)

    _write(
        out,
        graph,
        results,
        output_roles,
        [role_of.get(i) for i in graph["input_ids"]],
        loss=None,
        params={},
        phases=phases,
        native=time_native(one_step),
        dynamo={"captured": _captured_info()},
        notes=["torch.compile(backend='openxla', fullgraph=True) of the user's step"],
    )


if __name__ == "__main__":
    main(capture)
