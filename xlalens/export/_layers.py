"""Layers (Model Explorer namespaces) for the instructions of one computation.

NOTE: [a ResNet-size graph opens collapsed to a few layers]
Model Explorer processes the whole graph in a web worker, then lays out (dagre)
only the *root* level; a layer's inside is laid out when it is expanded. The
cost that matters is therefore the number of nodes and edges at the root and
at each level the user opens. Keras ResNet50's training step (2,218 entry
instructions) had, with one layer per name scope, 321 layers plus 216
unscoped instructions at its root: dagre did not finish in headless Chromium
in 800 s on a loaded 2-core machine. Three rules bring every level down to a
few dozen items, without inventing structure the names do not have:

1. **Transforms are the top layers.** jax names the forward pass of a scope
   ``jvp(conv1_bn)`` and its backward pass ``transpose(jvp(conv1_bn))``; the
   wrapper (``jvp``, ``transpose(jvp)``, ``vmap`` ...) becomes its own layer
   (``forward (jvp)``, ``backward (transpose(jvp))``) above the scope
   (``conv1_bn``), so the step opens as forward / backward / optimizer /
   parameters.
2. **Crowded levels are grouped by name prefix.** When a level holds more than
   :data:`MAX_CHILDREN` layers, layers whose names share leading ``_``/``.``/``-``
   separated tokens go into a layer named by that prefix (``conv2_block1_0_bn``
   and ``conv2_block3_2_conv`` under ``conv2``, then ``conv2_block1``), using the
   fewest tokens that bring the level under the limit.
3. **Instructions without a scope sit with their users.** XLA's own
   instructions (layout copies, constants, iotas) carry no ``op_name``; one is
   drawn in the deepest layer that holds all of its users; when its users
   share none (a layout copy of a weight read by forward, backward and the
   optimizer), in the deepest layer that holds all of its operands; else at
   the root. Its ``op_name`` attribute still says it had none. Unscoped entry
   parameters go to ``(parameters)``.

Model Explorer's own guard (``artificialLayerNodeCountThreshold``, 1,000 by
default) splits a level into ``section_i_of_n`` layers only above 1,000 items,
with no regard to names.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence

PARAMETERS_LAYER = "(parameters)"
"""Namespace of parameters that carry no name scope."""

MAX_CHILDREN = 24
"""A level with more layers than this is grouped by name prefix (NOTE above)."""

# jax's transformation wrappers in a name stack: ``jvp(x)``, ``transpose(jvp(x))``.
_TRANSFORMS = frozenset(
    {"jvp", "transpose", "vmap", "pmap", "remat", "checkpoint", "linearize", "vjp"}
)
_CALL = re.compile(r"^([A-Za-z_]\w*)\((.*)\)$")
_TOKEN_END = re.compile(r"[_.\-]")
_PASS_NAMES = {"jvp": "forward (jvp)", "transpose(jvp)": "backward (transpose(jvp))"}


def scope_parts(op_name: str | None) -> list[str]:
    """The scope components of an op name: all but the last ``/`` component."""
    if not op_name or "/" not in op_name:
        return []
    return [p for p in op_name.split("/")[:-1] if p]


def common_prefix(parts_lists: Iterable[Sequence[str]]) -> int:
    """How many leading components every non-empty list shares."""
    lists = [p for p in parts_lists if p]
    if not lists:
        return 0
    n = min(len(p) for p in lists)
    i = 0
    while i < n and all(p[i] == lists[0][i] for p in lists):
        i += 1
    return i


def _unwrap(component: str) -> tuple[str, str]:
    """``transpose(jvp(x))`` -> (``transpose(jvp)``, ``x``); ``x`` -> ("", ``x``)."""
    wrappers: list[str] = []
    inner = component
    while (m := _CALL.match(inner)) and m.group(1) in _TRANSFORMS:
        wrappers.append(m.group(1))
        inner = m.group(2)
    if not wrappers or not inner:
        return "", component
    text = wrappers[-1]
    for w in reversed(wrappers[:-1]):
        text = f"{w}({text})"
    return text, inner


def _hoist(parts: list[str]) -> list[str]:
    """Rule 1: a transform wrapping the first component becomes a layer of its own above it."""
    if not parts:
        return parts
    wrapper, inner = _unwrap(parts[0])
    if not wrapper:
        return parts
    return [_PASS_NAMES.get(wrapper, wrapper), inner, *parts[1:]]


def _tokens(name: str) -> list[str]:
    """``conv2_block1_0_bn`` -> the prefixes ``conv2``, ``conv2_block1``, ``conv2_block1_0``."""
    return [name[: m.start()] for m in _TOKEN_END.finditer(name) if m.start() > 0]


def _buckets(heads: list[str], limit: int, start: int = 1) -> dict[str, tuple[str, ...]]:
    """Rule 2: head -> the prefix layers inserted above it (empty when the level is not crowded)."""
    out: dict[str, tuple[str, ...]] = {h: () for h in heads}
    if len(heads) <= limit:
        return out
    prefixes = {h: _tokens(h) for h in heads}
    depth = max((len(p) for p in prefixes.values()), default=0)
    best: dict[str, list[str]] | None = None
    chosen = start
    for t in range(start, depth + 1):
        groups: dict[str, list[str]] = defaultdict(list)
        for h in heads:
            p = prefixes[h]
            groups[p[t - 1] if len(p) >= t else h].append(h)
        # a prefix shared by one name is no layer: that name stays where it is
        # one layer holding them all, or none holding two, does not thin the level
        items = len(groups)
        if items == 1 or items == len(heads):
            continue
        if best is None or items < len(best):
            best, chosen = groups, t
        if items <= limit:
            break
    if best is None:
        return out
    for prefix, members in best.items():
        if len(members) < 2:
            continue
        inner = _buckets(members, limit, chosen + 1)
        for m in members:
            out[m] = (prefix, *inner[m])
    return out


def regroup(paths: Iterable[tuple[str, ...]], limit: int = MAX_CHILDREN) -> dict[tuple, tuple]:
    """Rule 2 over a set of layer paths: old path -> new path (prefix layers inserted)."""
    out: dict[tuple, tuple] = {}

    def visit(group: list[tuple[str, ...]], depth: int, new: tuple[str, ...]) -> None:
        by_head: dict[str, list[tuple[str, ...]]] = defaultdict(list)
        for p in group:
            if len(p) == depth:
                out[p] = new
            else:
                by_head[p[depth]].append(p)
        extra = _buckets(sorted(by_head), limit)
        for head, members in by_head.items():
            visit(members, depth + 1, (*new, *extra[head], head))

    visit(sorted(set(paths)), 0, ())
    return out


def layer_paths(
    ids: Sequence[str],
    nodes: Mapping[str, Mapping],
    users: Callable[[str], Sequence[str]],
    operands: Callable[[str], Sequence[str]],
    *,
    parameters_layer: bool,
    limit: int = MAX_CHILDREN,
) -> dict[str, str]:
    """Each instruction's Model Explorer namespace (``a/b/c``; ``""`` for the root).

    Args:
        ids: the computation's node ids, operands before users (the schema's order).
        nodes: node id -> node data (``op_name``, ``op``).
        users: node id -> the ids of its users in the same computation (asked only
            of instructions without a scope).
        operands: node id -> the ids of its operands in the same computation (same).
        parameters_layer: put unscoped parameters in :data:`PARAMETERS_LAYER`
            (the entry of a large module).
        limit: the most layers a level holds before rule 2 groups them.

    Returns:
        node id -> namespace, by the rules of the NOTE above.

    Example:
        >>> layer_paths(["a"], {"a": {"op_name": "jit(f)/jvp(dense)/mul", "op": "multiply"}},
        ...             lambda n: [], lambda n: [], parameters_layer=False)
        {'a': ''}
    """
    raw = {nid: scope_parts(nodes[nid]["op_name"]) for nid in ids}
    cut = common_prefix(raw.values())
    path: dict[str, tuple[str, ...]] = {}
    for nid in ids:
        parts = raw[nid][cut:]
        if parts:
            path[nid] = tuple(_hoist(parts))
        elif parameters_layer and nodes[nid]["op"] == "parameter":
            path[nid] = (PARAMETERS_LAYER,)
    # Rule 3, users first (reverse schema order), so a chain of unscoped ops follows its end;
    # then operands (schema order), for one whose users are spread over layers (a layout
    # copy of a weight that forward, backward and optimizer read goes with the weight).
    unscoped = [nid for nid in reversed(ids) if nid not in path]
    for nid in unscoped:
        seen = [path.get(u, ()) for u in users(nid)]
        path[nid] = tuple(seen[0][: common_prefix(seen)]) if seen and all(seen) else ()
    for nid in reversed(unscoped):
        if not path[nid]:
            seen = [path.get(u, ()) for u in operands(nid)]
            path[nid] = tuple(seen[0][: common_prefix(seen)]) if seen and all(seen) else ()
    mapping = regroup((p for p in path.values() if p), limit)
    return {nid: "/".join(mapping.get(p, p)) for nid, p in path.items()}
