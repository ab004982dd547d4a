"""The diff's shortcuts give what the plain computation gives (issue 23: diff at scale)."""

from __future__ import annotations

import random

from _real import real_text

from xlalens.diff import _match_dataflow as md
from xlalens.diff import diff, edit_cost
from xlalens.diff._cost import _projection
from xlalens.diff._diff import _classify_pairs, classify
from xlalens.diff._labels import node_label
from xlalens.diff._side import _Side
from xlalens.ir import load

MODULE = "torch_xla_transformer.optimized_hlo.txt.xz"


def _plain_edit_cost(a, b, pairs) -> int:
    """The edit cost as NOTE: [edit costs] states it, over both projections as dicts."""
    fwd = dict(pairs)
    la = {n: node_label(d) for n, d in a.nodes(data=True)}
    lb = {n: node_label(d) for n, d in b.nodes(data=True)}
    cost = sum((2 if la[x][0] != lb[y][0] else 1) for x, y in fwd.items() if la[x] != lb[y])
    cost += len(la) + len(lb) - 2 * len(fwd)
    ea, eb = _projection(a), _projection(b)
    covered = 0
    for (u, v), keys in ea.items():
        other = eb.get((fwd.get(u), fwd.get(v)))
        covered += other is not None
        cost += 1 if other is None else keys != other
    return cost + len(eb) - covered


def test_edit_cost_walk_equals_projection_dicts() -> None:
    """edit_cost on a real module under random pairings equals the cost over projection dicts."""
    g = load(real_text(MODULE), level="canonical")
    h = load(real_text(MODULE), level="canonical")
    ids = list(g)
    rng = random.Random(0)
    for share in (1.0, 0.7, 0.3):
        xs = [n for n in ids if rng.random() < share]
        ys = xs[:]
        rng.shuffle(ys[: len(ys) // 10])  # some pairs crosswise: labels and edges differ
        pairs = list(zip(xs, ys))
        assert edit_cost(g, h, pairs) == _plain_edit_cost(g, h, pairs)


def test_one_pass_reach_equals_one_search_each() -> None:
    """_reach_all's bit sets equal a breadth-first search from every dot of a real module."""
    g = load(real_text(MODULE), level="canonical")
    side = _Side(g, {})
    heavy = [n for n, op in enumerate(side.op) if op in md.HEAVY_MATCH]
    # Any node set works as the results: the sinks, and every 7th node in between.
    results = {i for i in range(len(side.ids)) if i % 7 == 0 or not side.users[i]}
    masks = md._reach_all(side, results)
    assert masks is not None and heavy and results
    order = sorted(results)
    for n in heavy:
        seen, todo = {n}, [n]
        while todo:
            x = todo.pop()
            for w, _ in side.users[x]:
                if w not in seen:
                    seen.add(w)
                    todo.append(w)
        assert md._reached(masks[n], order, lambda x: x) == seen & results


def test_equal_labels_classify_as_unchanged() -> None:
    """Pairs whose labels are equal have no change; a NaN attribute still reports one."""
    g = load(real_text(MODULE), level="canonical")
    h = load(real_text(MODULE), level="canonical")
    d = diff(g, h)
    assert d.summary.changed == 0 and d.summary.unchanged == g.number_of_nodes()
    x = {"op": "constant", "dtype": "f32", "shape": [], "layout": None, "role": None}
    x.update(param_index=None, attrs={"value": float("nan")}, name="c")
    y = {**x, "attrs": {"value": float("nan")}, "name": "c.1"}
    labels = ({"c": node_label(x)}, {"c.1": node_label(y)})
    assert labels[0]["c"] == labels[1]["c.1"]
    got = _classify_pairs([("c", "c.1", "exact")], {"c": x}, {"c.1": y}, labels, False)
    assert [c.field for c in got["c"]] == [c.field for c in classify(x, y)] == ["attrs.value"]


def test_param_ancestors_equal_a_search_up_from_every_node() -> None:
    """param_ancestors' bit sets equal a search up the operands, and from a fusion's
    parameters into the fusion's operands, from every node of a real optimized module."""
    g = load(real_text(MODULE), level="canonical")
    side = _Side(g, {})
    entry = side.entry_comp()
    bits = {p: 1 << i for i, p in enumerate(side.comp_params[entry])}
    masks = md.param_ancestors(side, bits)
    callers: dict[int, list[int]] = {}
    for f in range(len(side.ids)):
        for c in side.callees(f):
            callers.setdefault(c, []).append(f)
    position = {
        p: (c, k) for c, ps in enumerate(side.comp_params) if c != entry for k, p in enumerate(ps)
    }

    def inputs(x: int) -> list[int]:
        if x not in position:
            return list(side.operands[x])
        c, k = position[x]
        return [side.operands[f][k] for f in callers.get(c, ()) if k < len(side.operands[f])]

    assert bits and any(side.callees(f) for f in range(len(side.ids)))
    for n in range(0, len(side.ids), 7):
        seen, todo, want = {n}, [n], 0
        while todo:
            x = todo.pop()
            want |= bits.get(x, 0)
            for u in inputs(x):
                if u not in seen:
                    seen.add(u)
                    todo.append(u)
        assert masks[n] == want, side.ids[n]


def test_flop_free_ops_cost_nothing() -> None:
    """node_flops is 0.0 for every node whose op estimate_flops skips, on real modules."""
    from xlalens.diff._diff import _FLOP_FREE, estimate_flops
    from xlalens.ir._cost import node_flops

    for module in (MODULE, MODULE.replace(".optimized_hlo", ".hlo")):
        g = load(real_text(module), level="canonical")
        skipped = [n for n, d in g._node.items() if d["op"] in _FLOP_FREE]
        assert skipped and all(node_flops(g, n) == 0.0 for n in skipped)
        assert estimate_flops(g) is not None


def test_flattened_side_equals_side_of_flattened_graph() -> None:
    """_Side read through a flatten plan has the operand lists of _Side over flatten_fusions' graph."""
    from xlalens.diff._flatten import flatten_fusions, flatten_plan

    g = load(real_text(MODULE), level="canonical")
    flat, _ = flatten_fusions(g)
    planned, built = _Side(g, {}, flatten_plan(g)), _Side(flat, {})
    assert planned.ids == built.ids and len(planned.ids) < g.number_of_nodes()
    assert planned.operands == built.operands
    assert planned.operand_keys == built.operand_keys
    assert planned.operand_capture == built.operand_capture
    assert planned.users == built.users


def test_labels_through_the_memo_equal_plain_labels() -> None:
    """node_labels with one shared memo equals node_label per node, also for values that
    compare equal in Python but encode apart (True/1/1.0, 0.0/-0.0, list/tuple)."""
    from xlalens.diff._labels import node_labels

    g = load(real_text(MODULE), level="canonical")
    datas = list(g._node.values())
    base = {"op": "constant", "dtype": "f32", "shape": [], "layout": None, "role": None}
    for i, v in enumerate((1, True, 1.0, 0.0, -0.0, [1, 2], (1, 2), {"a": [True]}, {"a": [1]})):
        datas.append({**base, "param_index": None, "attrs": {"value": v, "metadata": {"i": i}}})
    memo: dict[str, str] = {}
    assert node_labels(datas, memo) == [node_label(d) for d in datas]
    assert node_labels(datas, memo) == [node_label(d, memo) for d in datas]
    # Nine values, eight encodings: only the list and the tuple encode alike.
    assert len({lab[4] for lab in node_labels(datas[-9:], memo)}) == 8


def test_reach_without_results_equals_the_walk() -> None:
    """_reach_all with no results gives the full walk's answer (all empty, acyclic)."""
    g = load(real_text(MODULE.replace(".optimized_hlo", ".hlo")), level="canonical")
    side = _Side(g, {})
    assert md._in_order(side)
    mask, acyclic = md._closure(len(side.ids), lambda x: [w for w, _ in side.users[x]], {})
    assert acyclic and md._reach_all(side, set()) == mask == [0] * len(side.ids)


def test_anchor_propagation_from_every_pair_pairs_the_same(monkeypatch) -> None:
    """Propagating from every pair after the anchors (not only from pairs next to an
    unpaired node) gives the same matching, across IR levels and between versions."""
    import dataclasses

    from xlalens.diff import _match

    def from_every_pair(m) -> None:
        m.defer_heavy = True
        m.propagate(m.anchors())
        m.propagate([(x, y) for x, y in enumerate(m.ma) if y >= 0])

    hlo = load(real_text(MODULE.replace(".optimized_hlo", ".hlo")), level="canonical")
    opt = load(real_text(MODULE), level="canonical")
    other = load(real_text("jax_sharded_mlp.optimized_hlo.txt.xz"), level="canonical")
    cases = [((hlo, opt), (False, True)), ((opt, other), (True, True))]
    got = [_match.match(a, b, flatten=f) for (a, b), f in cases]
    plain = tuple(
        dataclasses.replace(s, run=from_every_pair) if s.name == _match.ANCHOR else s
        for s in _match.MATCHERS
    )
    monkeypatch.setattr(_match, "MATCHERS", plain)
    want = [_match.match(a, b, flatten=f) for (a, b), f in cases]
    assert [m.pairs for m in got] == [m.pairs for m in want]
    assert any(s == _match.PROPAGATION for m in got for _, _, s in m.pairs)


def test_compact_cost_walk_equals_projection_dicts() -> None:
    """_Matcher.cost's node-by-node edge walk equals the cost over both projection dicts,
    after a real matching and under random pairings (parallel edges included)."""
    from xlalens.diff import _match, _match_cost

    a = load(real_text(MODULE.replace(".optimized_hlo", ".hlo")), level="canonical")
    b = load(real_text(MODULE), level="canonical")
    m = _match._Matcher(a, b)
    for stage in _match.MATCHERS:
        stage.run(m)
    A, B = m.A, m.B

    def plain() -> int:
        cost = sum(1 for x in m.mb if x < 0)
        for x, y in enumerate(m.ma):
            if y < 0:
                cost += 1
            elif A.full_label[x] != B.full_label[y]:
                cost += 2 if A.op[x] != B.op[y] else 1
        ea, eb = _match_cost._projection(A), _match_cost._projection(B)
        covered = 0
        for (u, v), keys in ea.items():
            other = eb.get((m.ma[u], m.ma[v])) if m.ma[u] >= 0 and m.ma[v] >= 0 else None
            covered += other is not None
            cost += 1 if other is None else keys != other
        return cost + len(eb) - covered

    assert any(len(set(o)) < len(o) for o in A.operands + B.operands)  # parallel edges
    assert m.cost() == plain()
    rng = random.Random(1)
    ys = list(range(len(B.ids)))
    for share in (0.9, 0.5):
        rng.shuffle(ys)
        m.ma, m.mb = [-1] * len(A.ids), [-1] * len(B.ids)
        for x, y in zip(range(len(A.ids)), ys):
            if rng.random() < share:
                m.ma[x], m.mb[y] = y, x
        assert m.cost() == plain()


def _walk_to_value(g, inline: dict[str, str], x: str) -> str:
    """Follow a fusion to its fused root and a fused parameter to the fusion's operand."""
    comps = g.graph["computations"]
    fused_of = {f: c for c, f in inline.items()}
    for _ in range(64):
        d = g._node[x]
        if x in fused_of and comps[fused_of[x]]["root"] is not None:
            x = comps[fused_of[x]]["root"]
        elif d["param_index"] is not None and d["computation"] in inline:
            f = inline[d["computation"]]
            ops = {k: u for u, keyed in g._pred[f].items() for k in keyed}
            if d["param_index"] not in ops:
                break
            x = ops[d["param_index"]]
        else:
            break
    return x


def test_flatten_plan_resolves_as_a_walk_per_node() -> None:
    """flatten_plan's resolved map equals following each hidden node's fusion root or
    fused parameter's operand, looked up on the node itself, on real optimized modules."""
    from xlalens.diff._flatten import flatten_plan

    for module in (MODULE, "jax_sharded_mlp.optimized_hlo.txt.xz"):
        g = load(real_text(module), level="canonical")
        plan = flatten_plan(g)
        comps = g.graph["computations"]
        inline = {c: comp["callers"][0] for c, comp in comps.items() if c in plan.inlined}
        want = {x: _walk_to_value(g, inline, x) for x in plan.hidden}
        assert plan.hidden and plan.resolved == {x: y for x, y in want.items() if x != y}


def test_edge_counts_from_the_sides_equal_count_edges() -> None:
    """match's edge counts (the sides' in-edges plus the hidden nodes') equal count_edges."""
    from xlalens.diff._flatten import count_edges
    from xlalens.diff._match import match

    hlo = load(real_text(MODULE.replace(".optimized_hlo", ".hlo")), level="canonical")
    opt = load(real_text(MODULE), level="canonical")
    for flatten in ((False, True), (True, False), (False, False)):
        a, b = (opt, hlo) if flatten[0] else (hlo, opt)
        assert match(a, b, flatten=flatten).edges == (count_edges(a), count_edges(b))
    assert match(opt, opt, flatten=(True, True)).edges == (count_edges(opt),) * 2
