"""MLIR source locations in printed text, flattened to the one form XLA keeps.

Text in, text out: the frontends rewrite what their framework printed without
parsing it into an MLIR context first.

NOTE: [one location form] when XLA converts StableHLO to HLO it fills an op's
``op_name`` and ``source_file``/``source_line`` from a location of jax's form,
``loc("name"("file":line:col))``. Frameworks write others: torch_xla a whole
Python stack of call sites under the op's name (XLA keeps the name alone),
TensorFlow ``fused["name", "<tensorflow>/framework/ops.py":1221:0]`` for every op
(XLA keeps TF's own line). :func:`flatten_locations` rewrites the ``#locN =
loc(...)`` table that MLIR prints with debug info into jax's form: the outermost
name, and the innermost frame, or the caller's line for that name when given.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

_ALIAS_RE = re.compile(r"^(#loc\d+) = loc\((.*)\)$", re.M)
_TOKEN_RE = re.compile(
    r'\s*(?:(?P<alias>#loc\d+)|(?P<str>"(?:[^"\\]|\\.)*")(?P<pos>:\d+:\d+)?'
    r"|(?P<word>callsite|fused|unknown|at)|(?P<punct>[()\[\],<>]))"
)

Frame = tuple[str | None, str]
"""(quoted function name or None, ``"file":line:col``) of one frame."""
Flat = tuple[str | None, tuple[Frame, ...]]
"""(quoted outermost name, frames innermost first); the name may be None."""


def flatten_locations(
    text: str,
    lines: Mapping[str, tuple[str, int]] | None = None,
    keep: Callable[[str], bool] | None = None,
    *,
    callers: bool = False,
) -> str:
    """Rewrite the ``#locN = loc(...)`` table of printed MLIR into ``"name"("file":l:c)``.

    ``lines`` maps an op name (or the last ``/`` part of one) to the ``(file, line)``
    its frame should be instead of the one written (TensorFlow's user lines).
    ``keep(file)`` picks, from a call-site chain, the innermost frame whose file it
    keeps (torch_xla's stacks: the model's line, not torch's; :func:`model_frame`);
    a chain with no kept frame gives its innermost frame that is not
    :func:`plumbing` (an optimizer's line, not the dispatcher's).
    ``callers``: keep the frames outside the picked one too, as jax writes a stack
    (``"name"(callsite("f"("file":l:c) at ...))``): XLA turns that chain into the
    optimized module's ``StackFrames`` table, and :func:`source_stack` reads it back.
    Aliases that hold neither a name nor a file position are left as they were.

    Example:
        >>> flatten_locations('#loc1 = loc("f.py":3:0)\\n#loc2 = loc(fused[#loc3, #loc1])\\n'
        ...                   '#loc3 = loc("Mean")')
        '#loc1 = loc("f.py":3:0)\\n#loc2 = loc("Mean"("f.py":3:0))\\n#loc3 = loc("Mean")'
    """
    table = {m.group(1): m.group(2) for m in _ALIAS_RE.finditer(text)}
    memo: dict[str, Flat] = {}

    def resolve(alias: str) -> Flat:
        if alias not in memo:
            memo[alias] = (None, ())  # MLIR has no cycles; this stops one if it did
            memo[alias] = _flat(_tokens(table.get(alias, "unknown")), resolve)
        return memo[alias]

    def pick(frames: tuple[Frame, ...]) -> str | None:
        start = 0
        if keep is not None:
            files = [json.loads(f.rsplit(":", 2)[0]) for _, f in frames]
            start = next((i for i, f in enumerate(files) if keep(f)), -1)
            if start < 0:  # no model frame: the innermost one that is not dispatch plumbing
                start = next((i for i, f in enumerate(files) if not plumbing(f)), 0)
        if not frames:
            return None
        if not callers or start == len(frames) - 1:
            return frames[start][1]
        parts = [f"{func}({f})" if func else f for func, f in frames[start:]]
        chain = parts[-1]
        for part in reversed(parts[:-1]):
            chain = f"callsite({part} at {chain})"
        return chain

    def rewrite(m: re.Match[str]) -> str:
        name, frames = resolve(m.group(1))
        frame = pick(frames)
        if name and lines:
            where = line_of(lines, json.loads(name))
            if where is not None:
                frame = f"{json.dumps(where[0])}:{int(where[1])}:0"
        if name and frame:
            return f"{m.group(1)} = loc({name}({frame}))"
        if frame or name:
            return f"{m.group(1)} = loc({frame or name})"
        return m.group(0)

    return _ALIAS_RE.sub(rewrite, text)


def line_of(lines: Mapping[str, tuple[str, int]], op_name: str) -> tuple[str, int] | None:
    """The line given for an op name: the whole name's, else its last ``/`` part's."""
    return lines.get(op_name) or lines.get(op_name.rsplit("/", 1)[-1])


def _tokens(expr: str) -> list[tuple[str, str]]:
    out, i = [], 0
    while i < len(expr):
        m = _TOKEN_RE.match(expr, i)
        if m is None or m.end() == i:
            break
        i = m.end()
        if m.group("str") is not None:
            kind = "frame" if m.group("pos") else "name"
            out.append((kind, m.group("str") + (m.group("pos") or "")))
        else:
            out.append((m.lastgroup or "", m.group(m.lastgroup or 0)))
    return out


def _flat(toks: list[tuple[str, str]], resolve: Callable[[str], Flat]) -> Flat:
    """(outermost name, innermost frame) of one location expression's tokens."""
    pos = 0

    def skip(punct: str) -> None:
        nonlocal pos
        if pos < len(toks) and toks[pos] == ("punct", punct):
            pos += 1

    def expr() -> Flat:
        nonlocal pos
        if pos >= len(toks):
            return None, ()
        kind, val = toks[pos]
        pos += 1
        if kind == "alias":
            return resolve(val)
        if kind == "frame":
            return None, ((None, val),)
        if kind == "name":
            if pos < len(toks) and toks[pos] == ("punct", "("):
                pos += 1
                inner, frames = expr()
                skip(")")
                if inner is None and len(frames) == 1 and frames[0][0] is None:
                    # "func"("file":l:c): a frame and its function's name.
                    frames = ((val, frames[0][1]),)
                return val, frames
            return val, ()
        if val == "callsite":  # callsite(callee at caller): the callee is innermost
            skip("(")
            callee = expr()
            if pos < len(toks) and toks[pos] == ("word", "at"):
                pos += 1
            caller = expr()
            skip(")")
            return callee[0] or caller[0], callee[1] + caller[1]
        if val == "fused":  # fused<metadata>[a, b, ...]: the first part that says each
            if pos < len(toks) and toks[pos] == ("punct", "<"):
                depth = 0
                while pos < len(toks):
                    if toks[pos][0] == "punct":
                        depth += {"<": 1, ">": -1}.get(toks[pos][1], 0)
                    pos += 1
                    if depth == 0:
                        break
            skip("[")
            name: str | None = None
            frames: tuple[Frame, ...] = ()
            while pos < len(toks) and toks[pos] != ("punct", "]"):
                if toks[pos] == ("punct", ","):
                    pos += 1
                    continue
                part = expr()
                name, frames = name or part[0], frames or part[1]
            skip("]")
            return name, frames
        return None, ()

    return expr()


def source_stack(graph: Any, nid: str) -> list[tuple[str | None, int | None, str | None]]:
    """An op's whole call stack, innermost frame first: ``(file, line, function)`` per frame.

    HLO keeps it as the op's ``metadata.stack_frame_id`` into the module's
    ``StackFrames`` table (``graph.graph["attrs"]["stack_frames"]``, written by the
    HLO reader); ``source_file``/``source_line`` are its first frame. Empty when
    the text has no table (other frameworks, older jax).

    Example:
        >>> source_stack(g, "region_0.15/dot.3")[:2]  # doctest: +SKIP
        [('model.py', 98, 'decoder_layer'), ('model.py', 109, 'forward.<locals>.<lambda>')]
    """
    table = (graph.graph.get("attrs") or {}).get("stack_frames") or {}
    meta = graph.nodes[nid]["attrs"].get("metadata")
    fid = meta.get("stack_frame_id") if isinstance(meta, dict) else None
    out: list[tuple[str | None, int | None, str | None]] = []
    seen: set[str] = set()
    key = None if fid is None else str(fid)
    while key is not None and key in table and key not in seen:
        seen.add(key)
        f = table[key]
        out.append((f.get("file"), f.get("line"), f.get("function")))
        key = f.get("parent")
    return out


# Packages whose frames are framework or xlalens internals, never the model's line.
_INTERNAL = re.compile(
    r"/(?:torch|torch_xla|torchax|jax|jaxlib|flax/core|optax|keras/src/(?:backend|ops)|xlalens)/"
    r"|/lib/python3\.\d+/(?!site-packages/)|^<"
)
# Model libraries: frames in these count as the model's own code; their shared
# utilities (transformers' pytorch_utils.py Conv1D, modeling_utils.py) do not, so a
# GPT-2 linear reads modeling_gpt2.py, the line that calls it.
_MODEL_LIBRARY = re.compile(
    r"/(?:transformers/models|timm|keras_hub/src/(?:models|layers)|equinox/nn|flax/(?:nnx|linen))/"
)


# Frames every op dispatched through a Python mode (or xlalens) passes: never an op's line.
_PLUMBING = re.compile(r"/torch/(?:_ops|utils/_python_dispatch)\.py$|/xlalens/")


def plumbing(file: str) -> bool:
    """Whether a frame in ``file`` is dispatch plumbing: torch's op-call and Python-mode
    machinery, or xlalens's own (the capture's ``TorchDispatchMode``).

    Example:
        >>> plumbing("/v/site-packages/torch/_ops.py"), plumbing("/v/torch/optim/adam.py")
        (True, False)
    """
    return bool(_PLUMBING.search(file.replace("\\", "/")))


def model_library(file: str) -> bool:
    """Whether ``file`` is a model library's model code (transformers' models, timm, keras_hub).

    Example:
        >>> model_library("/v/site-packages/transformers/models/gpt2/modeling_gpt2.py")
        True
    """
    return bool(_MODEL_LIBRARY.search(file.replace("\\", "/")))


def model_frame(file: str) -> bool:
    """Whether a frame in ``file`` is the model's code: a model library, or the user's own
    file (outside site-packages, the standard library and xlalens).

    Example:
        >>> model_frame("/home/me/train.py"), model_frame("/v/site-packages/torch/nn/functional.py")
        (True, False)
    """
    path = file.replace("\\", "/")
    if model_library(path):
        return True
    return "site-packages/" not in path and not _INTERNAL.search(path)
