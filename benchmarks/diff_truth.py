"""Ground-truth labels for every dot and convolution of a training step (bench_diff_quality).

NOTE: [the labelling rule]
Every dot/convolution of a captured training step is one of the model's own
operations, named here by the layer it belongs to and its place in the step's
gradient structure. The rule reads only the captured graph (the capture's
parameter roles, the loss, the parameter updates and the operand graph with
fusions inlined); it shares no code or key with xlalens's matcher, and it does
not look at the other side of a pair:

1. **Layers are the named weights.** A weight is an entry parameter with a role
   (the framework's own variable name: ``block0.conv1``, ``transformer.h.0.attn.c_attn.weight``,
   ``expanded_conv_project/kernel``) that some dot/convolution reads through
   layout-only ops (transpose, reshape, bitcast, convert, copy, broadcast).
2. **Forward or backward is decided by the loss.** An op is a forward op iff the
   loss result depends on it (the loss is computed from the forward pass only).
3. **Each op gets one label:**
   - ``fwd:<w>``: it reads weight ``w`` and the loss depends on it (the layer itself);
   - ``dgrad:<w>``: it reads ``w`` and the loss does not depend on it (the
     gradient of the layer's input, ``dy . w^T`` or a transposed convolution);
   - ``wgrad:<w>``: it reads no weight, the loss does not depend on it, ``w``'s
     update is the only weight update that depends on it, with as many elements as
     ``w`` (the layer's weight gradient, as a dot or a convolution, in any layout; a
     convolution of any size: XLA computes a depthwise kernel's gradient as a full
     convolution and takes its diagonal), or summed to as many (every use a
     ``reduce``: TensorFlow's einsum gradient is per sample, ``[batch, in, out]``);
   - ``fwd:mix(...)`` / ``bwd:mix(...)``: any other dot/convolution (attention's
     score and value matmuls and their gradients): named by the labels of the
     nearest dots/convolutions its operands are computed from (through any other
     ops), so ``softmax(q k^T) v`` of layer 3 is told from layer 2's; an ancestor
     labelled ``remat:<x>`` counts as ``fwd:<x>`` (it recomputes that value: torchax's
     attention gradients read the recomputations, Keras's the forward values).
   - ``const:<elements>``: it depends on no entry parameter (a rotary position table
     from ``iota`` and constants), the same value every step; no op's ancestor.
   An op that reads two weights is labelled ``fwd``/``dgrad`` with both names.
   Labels do not depend on the op (a 1x1 convolution that TensorFlow rewrote as
   a dot keeps ``fwd:<w>``) nor on the layout (NCHW or NHWC).
4. **Scoring.** A label may occur on several ops of one side only when the rule
   cannot tell them apart (interchangeable ops); the expected pairs of a label are
   then ``min(count on A, count on B)``. An op whose label has fewer occurrences
   (or none) on the other side has **no partner**, and the reason is printed
   (typically: the other compiler did not compute the first layer's input
   gradient). Every dot/convolution gets a label; :func:`truth` raises if one does
   not (the rule has a gap, and the measurement would silently shrink).
"""

from __future__ import annotations

import hashlib
from collections import Counter, deque

from xlalens.ir._ops import HEAVY_OPCODES, LAYOUT_ONLY_OPCODES

HEAVY = HEAVY_OPCODES
"""Ops labelled (StableHLO and HLO spellings; the op table's, as the matcher's are)."""
LAYOUT = LAYOUT_ONLY_OPCODES
"""Ops that only move or retype a value: a weight read through them is still read."""


TIED = {"lm_head.weight": "transformer.wte.weight"}
"""Roles that name one tensor: the model's own tying (transformers' GPT-2 ties its
output projection to the token embedding, ``GPT2LMHeadModel._tied_weights_keys``;
torch_xla passes the tensor under both names, torchax under one)."""


class Unlabelled(RuntimeError):
    """A dot/convolution the rule gave no label (a gap in the rule, never ignored)."""


def _view(g):
    """(visible nodes, operands, users, result roles) of ``g`` with fusions inlined."""
    from xlalens.diff._flatten import flatten_plan  # structure only: fused param -> operand

    plan = flatten_plan(g)
    res = plan.resolved
    nodes = g._node

    def through_barrier(u: str, data: dict) -> str:
        # jax's remat (torchax's gradient) passes the weights through an
        # optimization barrier: its result i is its operand i, the same value.
        while nodes[u]["op"] == "opt-barrier" and data.get("result_index") is not None:
            arg = [
                (x, d)
                for x, ks in g._pred[u].items()
                for k, d in ks.items()
                if d.get("operand_index", k) == data["result_index"]
            ]
            if not arg:
                break
            u, data = arg[0]
        return u

    ops: dict[str, list[str]] = {}
    users: dict[str, list[str]] = {}
    for v in g:
        if v in plan.hidden:
            continue
        keyed = sorted(
            (k, res.get(w, w))
            for u, ks in g._pred[v].items()
            for k, d in ks.items()
            for w in [through_barrier(u, d)]
        )
        ops[v] = [u for _, u in keyed]
        for u in ops[v]:
            users.setdefault(u, []).append(v)
    # A result role on a fusion instruction names its fused root's value.
    results: dict[str, str] = {}
    for n, d in g.nodes(data=True):
        if d["role"] is not None and d["param_index"] is None:
            results.setdefault(res.get(n, n), d["role"])
    return ops, users, results


def _reach(start, edges: dict[str, list[str]]) -> set[str]:
    """``start`` and every node reachable from it along ``edges`` (node -> next nodes)."""
    seen: set[str] = set(start)
    q = deque(seen)
    while q:
        for u in edges.get(q.popleft(), []):
            if u not in seen:
                seen.add(u)
                q.append(u)
    return seen


def _topo(ops: dict[str, list[str]]) -> list[str]:
    """Visible nodes with operands first (iterative; graphs are DAGs)."""
    order, state = [], {}
    for start in ops:
        if start in state:
            continue
        stack = [(start, iter(ops[start]))]
        state[start] = 1
        while stack:
            node, it = stack[-1]
            for u in it:
                if u not in state and u in ops:
                    state[u] = 1
                    stack.append((u, iter(ops[u])))
                    break
            else:
                stack.pop()
                order.append(node)
    return order


def truth(g) -> dict[str, str]:
    """``{node id: label}`` for every dot/convolution of ``g`` (NOTE: [the labelling rule]).

    Raises:
        Unlabelled: a dot/convolution got no label.
    """
    ops, users, results = _view(g)
    nodes = g._node
    entry = g.graph["entry"]
    heavy = [n for n in ops if nodes[n]["op"] in HEAVY]
    params = {
        n: TIED.get(d["role"], d["role"])
        for n, d in g.nodes(data=True)
        if d["param_index"] is not None and d["computation"] == entry and d["role"]
    }
    reads: dict[str, set[str]] = {}
    for n in heavy:
        got: set[str] = set()
        seen: set[str] = set()
        todo = list(ops[n])
        while todo:
            x = todo.pop()
            if x in seen:
                continue
            seen.add(x)
            if x in params:
                got.add(params[x])
            elif nodes[x]["op"] in LAYOUT:
                todo.extend(ops.get(x, []))
        reads[n] = got
    weights = set().union(*reads.values()) - {"x", "y"} if reads else set()
    wshape = {r: nodes[p]["shape"] for p, r in params.items() if r in weights}
    loss = [n for n, r in results.items() if r == "loss"]
    forward = _reach(loss, ops)
    # The loss's gradient depends on the labels: an op that is not forward and
    # does not depend on them recomputes a forward value for the backward pass
    # (jax's remat, torchax's gradient), and has no partner where the other
    # framework keeps the forward value instead.
    supervised = [p for p, r in params.items() if r == "y"]
    on_labels = _reach(supervised, users)
    # Values computed from no entry parameter at all (iota and constants: rotary
    # position tables, which keras-jax computes with a dot and TensorFlow folds) are
    # the same in every step and belong to no layer: labelled `const`, and no op's
    # ancestor.
    variable = _reach(params, users)
    labels: dict[str, str] = {}
    heavy_set = {n for n in heavy if n in variable}
    for n in heavy:
        if n not in variable:
            labels[n] = f"const:{_elements(nodes[n]['shape'])}"
    for n in _topo(ops):
        if n not in heavy_set:
            continue
        w = sorted(reads[n] & weights)
        fwd = n in forward
        if supervised and not fwd and n not in on_labels:
            kind = "remat"
        else:
            kind = "fwd" if fwd else "dgrad"
        if w:
            labels[n] = f"{kind}:{'+'.join(w)}"
            continue
        if kind == "dgrad":
            upd = _updates(n, users, results, weights)
            # As many elements as w; a convolution of any size (XLA computes a
            # depthwise kernel's gradient as a full convolution, then its diagonal).
            one = next(iter(upd)) if len(upd) == 1 else None
            same = one is not None and (
                _elements(nodes[n]["shape"]) == _elements(wshape[one])
                or _summed_to(n, users, nodes) == _elements(wshape[one])
            )
            if one is not None and (same or nodes[n]["op"] == "convolution"):
                labels[n] = f"wgrad:{one}"
                continue
        # A recomputation computes its forward op's value: an op that reads it reads
        # that value (torchax's attention gradients read the remat copies).
        anc = {_as_forward(x) for x in _nearest_heavy(n, ops, heavy_set, labels)}
        digest = hashlib.sha1("|".join(sorted(anc)).encode()).hexdigest()[:8]
        kind = {"dgrad": "bwd"}.get(kind, kind)
        labels[n] = f"{kind}:mix({len(anc)}:{digest})"
    missing = [n for n in heavy if n not in labels]
    if missing:
        raise Unlabelled(f"{len(missing)} dots/convolutions without a label: {missing[:5]}")
    return labels


def _elements(shape) -> int:
    n = 1
    for s in shape or ():
        n *= s
    return n


def _as_forward(label: str) -> str:
    """``remat:<x>`` as ``fwd:<x>`` (the same value, recomputed), other labels as they are."""
    return "fwd:" + label[6:] if label.startswith("remat:") else label


def _summed_to(n: str, users, nodes) -> int | None:
    """The element count ``n``'s value is summed to, when every use of it (through
    layout-only ops) is a ``reduce`` to one count: TensorFlow computes an einsum's
    weight gradient per sample (``[batch, in, out]``) and sums over the batch after."""
    counts: set[int] = set()
    seen: set[str] = set()
    todo = list(users.get(n, []))
    while todo:
        x = todo.pop()
        if x in seen:
            continue
        seen.add(x)
        op = nodes[x]["op"]
        if op in LAYOUT:
            todo.extend(users.get(x, []))
        elif op == "reduce":
            counts.add(_elements(nodes[x]["shape"]))
        else:
            return None
    return counts.pop() if len(counts) == 1 else None


def _updates(n: str, users, results, weights) -> set[str]:
    """The weights whose update (result of the same role) depends on ``n``."""
    return {results[x] for x in _reach([n], users) if results.get(x) in weights}


def _nearest_heavy(n: str, ops, heavy: set[str], labels: dict[str, str]) -> set[str]:
    """Labels of the dots/convolutions nearest upstream of ``n``'s operands."""
    got: set[str] = set()
    seen: set[str] = set()
    todo = list(ops[n])
    while todo:
        x = todo.pop()
        if x in seen:
            continue
        seen.add(x)
        if x in heavy:
            got.add(labels[x])
        else:
            todo.extend(ops.get(x, []))
    return got


def expected(la: dict[str, str], lb: dict[str, str]) -> tuple[int, Counter, Counter]:
    """(pairs expected, A's labels without a partner, B's), counted per label."""
    ca, cb = Counter(la.values()), Counter(lb.values())
    n = sum(min(c, cb[lab]) for lab, c in ca.items())
    return n, ca - cb, cb - ca


def reason(label: str) -> str:
    """Why an op of ``label`` has no partner (printed beside the table)."""
    kind = label.split(":", 1)[0]
    return {
        "dgrad": "the other step does not compute this input gradient (first layer, or fused away)",
        "wgrad": "the other step computes this weight gradient without a dot/convolution, or not "
        "at all",
        "fwd": "the other step computes this layer without a dot/convolution",
        "remat": "a forward value recomputed for the backward pass (the other step keeps it)",
        "const": "computed from constants only (the other step folds it)",
    }.get(kind, "no op computed from the same layers on the other side")


def score(pairs, la: dict[str, str], lb: dict[str, str]) -> dict:
    """Precision and recall of ``pairs`` ((a, b) node ids) over the labelled ops."""
    n, only_a, only_b = expected(la, lb)
    predicted = correct = 0
    for a, b in pairs:
        x, y = la.get(a), lb.get(b)
        if x is None and y is None:
            continue
        predicted += 1
        correct += x is not None and x == y
    return {
        "expected": n,
        "predicted": predicted,
        "correct": correct,
        "precision": correct / predicted if predicted else float("nan"),
        "recall": correct / n if n else float("nan"),
        "only_a": only_a,
        "only_b": only_b,
        "kinds": Counter(
            lab.split(":", 1)[0] + (":mix" if "mix(" in lab else "") for lab in la.values()
        ),
    }
