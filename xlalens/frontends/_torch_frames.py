"""Backward ops located at their forward op's call stack, for torch frontends that record
Python frames per op (torch_xla with ``XLA_IR_DEBUG``).

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
_links: dict[Frame, _Link] = {}


def _link(frame: Frame) -> _Link:
    """A function whose frame reads as ``frame``: it calls the next link on that line."""
    if frame not in _links:
        file, line, func = frame
        # The body sits on line `line` of a code object compiled under `file`: the
        # frame's location as Python (and torch_xla's frame recorder) reports it.
        source = "\n" * (max(line, 1) - 1) + "def _f(_c, _i, _a): return _c[_i](_c, _i + 1, _a)\n"
        namespace: dict[str, Any] = {}
        exec(compile(source, file, "exec"), namespace)  # our own fixed source, no user text
        fn = namespace["_f"]
        fn.__code__ = fn.__code__.replace(co_name=func, co_qualname=func)
        _links[frame] = fn
    return _links[frame]


def _dispatch(_chain: list, _i: int, call: tuple) -> Any:
    func, args, kwargs = call
    return func(*args, **kwargs)


def call_at(stack: tuple[Frame, ...], func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``func(*args, **kwargs)``, called from inside frames that read as ``stack``.

    Example:
        >>> call_at((("/m.py", 7, "forward"),), torch.mul, a, b)  # doctest: +SKIP
    """
    if not stack:
        return func(*args, **kwargs)
    chain: list = [_link(f) for f in stack]
    chain.append(_dispatch)
    return chain[0](chain, 1, (func, args, kwargs))


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
