"""Backward ops located at their forward op's call stack, for torch frontends that record
Python frames per op (torch_xla with ``XLA_IR_DEBUG``, eager and under torch.compile).

Imported only inside frontend subprocesses that run torch.

NOTE: [backward at the forward line] torch_xla records, for every IR node, the
Python stack at the moment the node was made (``XLA_IR_DEBUG``), and writes it
as the op's location. The autograd engine runs a step's backward ops from C++,
with no Python frame of the model on the stack, so torch_xla 2.9 leaves every
backward op unlocated (39% of a timm ViT's located ops were in timm: the
forward half). jax locates a backward op at the line of the forward op it
differentiates; we do the same, with torch's own record of that line:

1. autograd's anomaly mode (``check_nan=False``: no NaN check, which would run
   the lazy graph) stores on every autograd node the Python stack of the
   forward op that made it (``node.metadata["traceback_"]``);
2. during ``backward()`` a ``TorchDispatchMode`` sees each aten op the engine
   runs, and ``torch._C._current_autograd_node()`` names the node it runs for;
3. the op is dispatched from inside a chain of Python functions whose code
   objects carry that forward stack's files, lines and function names, so
   torch_xla records exactly that stack for every IR node the op makes (also
   for ops that lower to several nodes, and under torch_xla's op scopes, which
   override a custom op name: ``_set_xla_custom_op_name_prefix`` would miss both).

The mapping is exact (each backward op takes the stack of the autograd node it
belongs to, as anomaly mode reports it on an error), not a guess from
neighbours. Ops outside any autograd node (the optimizer's update, the forward)
are dispatched unchanged.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from typing import Any

_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+), in (?P<func>[^\n]+)')

Frame = tuple[str, int, str]
"""(file, line, function) of one Python frame."""


def forward_stack(node: Any) -> tuple[Frame, ...]:
    """The Python stack (outermost first) recorded for an autograd node by anomaly mode.

    Empty when the node has none (anomaly mode was off when it was made).

    Example:
        >>> forward_stack(loss.grad_fn)[-1]  # doctest: +SKIP
        ('/home/me/train.py', 12, 'loss_fn')
    """
    if node is None:
        return ()
    try:
        entries = node.metadata.get("traceback_") or ()
    except (AttributeError, RuntimeError):
        return ()
    out = []
    for entry in entries:
        m = _FRAME.match(entry)
        if m:
            out.append((m["file"], int(m["line"]), m["func"].strip()))
    return tuple(out)


_Link = Callable[[list, int, tuple], Any]


_links: dict[tuple, _Link] = {}
_CALL_NEXT = "def _f(_c, _i, _a): return _c[_i](_c, _i + 1, _a)\n"
_CALL_OP = "def _f(_c, _i, _a): return _a[0](*_a[1], **_a[2])\n"


def _link(frame: Frame, last: bool = False) -> _Link:
    """A function whose frame reads as ``frame``: it calls the next link on that line, or
    (``last``) the op itself, so that the op's innermost Python frame is ``frame``."""
    key = (*frame, last)
    if key not in _links:
        file, line, func = frame
        # The body sits on line `line` of a code object compiled under `file`: the
        # frame's location as Python (and torch_xla's frame recorder) reports it.
        source = "\n" * (max(line, 1) - 1) + (_CALL_OP if last else _CALL_NEXT)
        namespace: dict[str, Any] = {}
        exec(compile(source, file, "exec"), namespace)  # our own fixed source, no user text
        fn = namespace["_f"]
        fn.__code__ = fn.__code__.replace(co_name=func, co_qualname=func)
        _links[key] = fn
    return _links[key]


def call_at(stack: tuple[Frame, ...], func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``func(*args, **kwargs)``, called from inside frames that read as ``stack``.

    The innermost Python frame of the call is ``stack[-1]`` itself: an ``OpOverload``
    is entered through its C++ ``_op`` (what its ``__call__`` runs), so no frame of
    torch's ``_ops.py`` sits inside it (torch_xla's HLO metadata keeps only the
    innermost frame).

    Example:
        >>> call_at((("/m.py", 7, "forward"),), torch.mul, a, b)  # doctest: +SKIP
    """
    if not stack:
        return func(*args, **kwargs)
    chain: list = [_link(f) for f in stack[:-1]]
    chain.append(_link(stack[-1], last=True))
    op = getattr(func, "_op", func)
    return chain[0](chain, 1, (op, args, kwargs))


def _mode() -> Any:
    from torch.utils._python_dispatch import TorchDispatchMode

    class BackwardAtForward(TorchDispatchMode):
        """Dispatches each backward op from its autograd node's forward stack."""

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            import torch

            stack = forward_stack(torch._C._current_autograd_node())
            return call_at(stack, func, *args, **(kwargs or {}))

    return BackwardAtForward()


@contextlib.contextmanager
def located_backward() -> Iterator[None]:
    """Within: every autograd node records its forward stack, and backward ops are made
    under it (NOTE above). Wrap the whole step captured (forward, backward, update).

    Example:
        >>> with located_backward():  # doctest: +SKIP
        ...     loss_fn(model, batch).backward()
    """
    import warnings

    import torch

    with warnings.catch_warnings():
        # "Anomaly Detection has been enabled": on purpose, for the capture only.
        warnings.filterwarnings("ignore", message="Anomaly Detection")
        with torch.autograd.set_detect_anomaly(True, check_nan=False), _mode():
            yield


# NOTE: [torch.compile's backward at the forward line] under torch.compile there is no
# autograd engine at run time: AOTAutograd traces the backward into the FX graph
# that torch_xla's dynamo bridge runs on lazy tensors, from generated code
# (``<eval_with_key>.N``), so torch_xla 2.9 records ``torch/_ops.py:841`` for every
# op, forward or backward. What the user wrote survives as FX metadata:
#
# 1. dynamo gives each node of its graph the user's stack (``node.meta["stack_trace"]``),
#    and AOTAutograd copies the current node's onto each aten node it traces;
# 2. a backward traced by AOTAutograd's joint graph gets its forward op's stack
#    (``setup_stacktrace_preservation_hooks``: anomaly mode records the forward's
#    ``stack_trace`` on each autograd node, and a pre-hook makes it current while
#    the node's backward is traced). xlalens compiles ``torch.func.grad_and_value``,
#    whose ``torch.autograd.grad`` runs inside the traced graph instead: there
#    (torch 2.9) the backward ops got the stack of ``grad_and_value_impl``. So, for
#    the compile, :func:`traced_backward_at_forward` turns anomaly mode on and puts
#    the same hooks on the graph ``torch.autograd.grad`` walks: each backward node
#    then carries its forward op's stack (and ``seq_nr``), as in the joint graph;
# 3. while the bridge runs the graph, :func:`graph_ops_located` calls each op that
#    a line of generated FX code makes from inside that node's stack (``call_at``),
#    cut at its innermost frame in the model's code, so torch_xla records the
#    model's line for it (``ir._locations.model_frame``; frames inside it are
#    torch's own).


@contextlib.contextmanager
def traced_backward_at_forward() -> Iterator[None]:
    """Within (around the first call of a ``torch.compile``'d step): each backward op that
    ``torch.autograd.grad`` traces carries its forward op's ``stack_trace`` (NOTE above).

    Example:
        >>> with traced_backward_at_forward():  # doctest: +SKIP
        ...     compiled(*args)
    """
    import warnings

    import torch
    from torch._functorch._aot_autograd.logging_utils import (
        setup_stacktrace_preservation_hooks,
    )

    original = torch.autograd.grad

    def grad(outputs: Any, *args: Any, **kwargs: Any) -> Any:
        outs = (outputs,) if isinstance(outputs, torch.Tensor) else tuple(outputs)
        setup_stacktrace_preservation_hooks([getattr(o, "grad_fn", None) for o in outs])
        return original(outputs, *args, **kwargs)

    torch.autograd.grad = grad
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Anomaly Detection")
            with torch.autograd.set_detect_anomaly(True, check_nan=False):
                yield
    finally:
        torch.autograd.grad = original


def parse_stack_trace(text: str) -> tuple[Frame, ...]:
    """The frames (outermost first) of an FX node's ``stack_trace`` (traceback's format).

    Example:
        >>> parse_stack_trace('  File "/m.py", line 7, in forward\\n    y = f(x)\\n')
        (('/m.py', 7, 'forward'),)
    """
    return tuple(
        (m["file"], int(m["line"]), m["func"].strip()) for m in _FRAMES.finditer(text or "")
    )


_FRAMES = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+), in (?P<func>[^\n]+)', re.M)


def at_model_line(stack: tuple[Frame, ...]) -> tuple[Frame, ...]:
    """``stack`` cut after its innermost frame in the model's code (all of it when none is).

    Example:
        >>> at_model_line((("/m.py", 7, "forward"), ("/v/site-packages/torch/nn/functional.py", 9, "gelu")))
        (('/m.py', 7, 'forward'),)
    """
    from xlalens.ir._locations import model_frame

    for i in range(len(stack) - 1, -1, -1):
        if model_frame(stack[i][0]):
            return stack[: i + 1]
    return stack


def _fx_node_stack(frame: Any, cache: dict) -> tuple[Frame, ...]:
    """The stack of the FX node whose generated line ``frame`` (or a caller) is running."""
    import torch.fx

    while frame is not None:
        code = frame.f_code
        if code.co_filename.startswith("<eval_with_key>"):
            gm = frame.f_locals.get("self")
            lines = getattr(gm, "_lineno_map", None)
            if isinstance(gm, torch.fx.GraphModule) and lines:
                key = (id(gm), frame.f_lineno)
                if key not in cache:
                    # torch.fx's own rule (dynamo's _maybe_preserve_original_meta): the
                    # map is keyed by line within the generated function.
                    idx = lines.get(frame.f_lineno - code.co_firstlineno)
                    # The graph's node list once per module, not once per line.
                    nodes = cache.get(id(gm))
                    if nodes is None:
                        nodes = cache[id(gm)] = list(gm.graph.nodes)
                    node = nodes[idx] if idx is not None and idx < len(nodes) else None
                    text = node.meta.get("stack_trace") if node is not None else None
                    cache[key] = at_model_line(parse_stack_trace(text or ""))
                return cache[key]
        frame = frame.f_back
    return ()


@contextlib.contextmanager
def graph_ops_located() -> Iterator[None]:
    """Within: each op a torch.fx GraphModule's generated code makes is called from inside
    its node's ``stack_trace`` (cut at the model's line), so torch_xla records that stack
    (NOTE [torch.compile's backward at the forward line]).

    Example:
        >>> with graph_ops_located():  # doctest: +SKIP
        ...     bridge.extract_compiled_graph(gm, args)
    """
    import sys

    from torch.utils._python_dispatch import TorchDispatchMode

    cache: dict = {}

    class GraphOpsAtTheirLines(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            stack = _fx_node_stack(sys._getframe(1), cache)
            return call_at(stack, func, *args, **(kwargs or {}))

    with GraphOpsAtTheirLines():
        yield
