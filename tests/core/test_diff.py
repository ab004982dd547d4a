"""Behaviour of xlalens.diff on small hand-built graphs (matching stages, classification, reports)."""

from __future__ import annotations

import json

import networkx as nx
import pytest

from xlalens._errors import UsageError
from xlalens.diff import diff, edit_cost, match
from xlalens.ir._schema import new_graph, node_defaults, node_id
from xlalens.ir._validate import validate


def build(
    nodes: list[tuple],
    *,
    stage: str = "hlo",
    fmt: str = "hlo",
    level: str = "raw",
    comps: dict[str, list[tuple]] | None = None,
    module: str = "m",
) -> nx.MultiDiGraph:
    """A schema-valid graph from ``(name, op, dtype, shape, operands, extra)`` rows.

    ``nodes`` is the entry computation ``main`` (its last row is the root);
    ``comps`` adds called computations (kind ``fusion``), rows in the same form.
    ``extra`` may set any node field (``attrs``, ``role``, ``calls``, ...).
    """
    g = new_graph(format=fmt, stage=stage, level=level, module=module, entry="main")
    all_comps = {"main": nodes, **(comps or {})}
    for cname, rows in all_comps.items():
        g.graph["computations"][cname] = {
            "kind": "entry" if cname == "main" else "fusion",
            "root": None,
            "params": [],
            "callers": [],
        }
        pcount = 0
        for row in rows:
            name, op, dtype, shape, operands = row[:5]
            extra = row[5] if len(row) > 5 else {}
            nid = node_id(cname, name)
            data = node_defaults()
            data.update(
                name=name,
                op=op,
                opcode=op,
                dtype=dtype,
                shape=tuple(shape),
                type=f"{dtype}[{','.join(map(str, shape))}]",
                computation=cname,
                attrs={},
                calls=(),
            )
            if op == "parameter":
                data["param_index"] = pcount
                pcount += 1
                g.graph["computations"][cname]["params"].append(nid)
            data.update(extra)
            g.add_node(nid, **data)
            for k, src in enumerate(operands):
                sid = node_id(cname, src)
                g.add_edge(
                    sid,
                    nid,
                    key=k,
                    operand_index=k,
                    kind="data",
                    dtype=g.nodes[sid]["dtype"],
                    shape=g.nodes[sid]["shape"],
                )
        root = node_id(cname, rows[-1][0])
        g.nodes[root]["is_root"] = True
        g.graph["computations"][cname]["root"] = root
    for nid, callees in g.nodes(data="calls"):
        for c in callees:
            g.graph["computations"][c]["callers"].append(nid)
    return validate(g)


def linear(
    op: str = "multiply", extra_node: bool = False, swap_params: bool = False
) -> list[tuple]:
    """The seed's regression step in miniature: y_hat = x*w + b, loss = mean((y_hat - y)^2)."""
    params = [
        ("w", "parameter", "f32", (1,), [], {"role": "w"}),
        ("b", "parameter", "f32", (1,), [], {"role": "b"}),
        ("x", "parameter", "f32", (4, 1), [], {"role": "x"}),
        ("y", "parameter", "f32", (4, 1), [], {"role": "y"}),
    ]
    if swap_params:
        params = [params[1], params[0], params[3], params[2]]
    rows = [
        *params,
        ("wb", "broadcast", "f32", (4, 1), ["w"], {"attrs": {"dimensions": [1]}}),
        ("xw", op, "f32", (4, 1), ["x", "wb"]),
        ("bb", "broadcast", "f32", (4, 1), ["b"], {"attrs": {"dimensions": [1]}}),
        ("yh", "add", "f32", (4, 1), ["xw", "bb"]),
    ]
    if extra_node:
        rows.append(("t", "transpose", "f32", (4, 1), ["yh"], {"attrs": {"dimensions": [0, 1]}}))
        rows.append(("d", "subtract", "f32", (4, 1), ["t", "y"]))
    else:
        rows.append(("d", "subtract", "f32", (4, 1), ["yh", "y"]))
    rows += [
        ("sq", "multiply", "f32", (4, 1), ["d", "d"]),
        ("zero", "constant", "f32", (), [], {"attrs": {"literal": "0"}}),
        ("sum", "reduce", "f32", (), ["sq", "zero"], {"attrs": {"reducer": "add"}}),
        ("n", "constant", "f32", (), [], {"attrs": {"literal": "4"}}),
        ("loss", "divide", "f32", (), ["sum", "n"], {"role": "loss"}),
        ("out", "tuple", "tuple", (), ["loss", "wb", "bb"]),
    ]
    return rows


def test_identical_graphs_are_all_unchanged() -> None:
    """Two separately built copies of one graph pair every node unchanged at cost 0."""
    d = diff(build(linear()), build(linear()))
    assert d.summary.changed == 0 and not d.only_a and not d.only_b
    assert d.summary.unchanged == 15
    assert all(p.a == p.b for p in d.pairs)
    assert {p.stage for p in d.pairs} == {"exact"}
    assert d.summary.edit_cost == 0
    assert "no differences" in d.to_text()


def test_op_change_is_one_changed_pair() -> None:
    """multiply vs dot for the linear unit: one changed pair naming the op, the rest unchanged."""
    d = diff(build(linear("multiply")), build(linear("dot")))
    changed = [p for p in d.pairs if p.status == "changed"]
    assert [(p.a, p.b) for p in changed] == [("main/xw", "main/xw")]
    assert [(c.field, c.a, c.b) for c in changed[0].changes] == [("op", "multiply", "dot")]
    stages = {p.a: p.stage for p in d.pairs}
    # The op change is found by similarity; its ancestors are re-paired by
    # propagation from the anchored loss and root, the rest is exact.
    assert stages["main/xw"] == "similarity"
    assert stages["main/yh"] == stages["main/d"] == "propagation"
    assert stages["main/loss"] == "anchor" and stages["main/x"] == "exact"
    assert not d.only_a and not d.only_b
    assert d.summary.edit_cost == 2  # an op change costs delete + insert
    text = d.to_text()
    assert "op: multiply -> dot" in text


def test_inserted_node_is_only_in_b() -> None:
    """An extra transpose appears as the only unpaired node; its neighbours stay paired."""
    d = diff(build(linear()), build(linear(extra_node=True)))
    assert d.only_a == ()
    assert d.only_b == ("main/t",)
    assert d.mapping()["main/d"] == "main/d"
    assert d.summary.changed == 0


def test_parameters_pair_by_role_not_position() -> None:
    """Parameters listed in another order pair by role (w with w), as across frameworks."""
    d = diff(build(linear()), build(linear(swap_params=True)))
    m = d.mapping()
    assert m["main/w"] == "main/w" and m["main/x"] == "main/x"
    changed = {p.a: [(c.field, c.a, c.b) for c in p.changes] for p in d.pairs if p.changes}
    assert changed == {
        "main/w": [("param_index", 0, 1)],
        "main/b": [("param_index", 1, 0)],
        "main/x": [("param_index", 2, 3)],
        "main/y": [("param_index", 3, 2)],
    }
    assert {p.stage for p in d.pairs} == {"exact"}


def test_attribute_change_names_the_attribute() -> None:
    """A constant whose literal differs is changed with field attrs.literal and both values."""
    eight = ("n", "constant", "f32", (), [], {"attrs": {"literal": "8"}})
    rows_b = [r if r[0] != "n" else eight for r in linear()]
    d = diff(build(linear()), build(rows_b))
    changed = {p.a: p for p in d.pairs if p.status == "changed"}
    assert list(changed) == ["main/n"]
    c = changed["main/n"].changes[0]
    assert (c.field, c.a, c.b) == ("attrs.literal", "4", "8")


def test_fusion_bodies_are_paired_through_calls() -> None:
    """Two fusions that call structurally equal bodies pair, and so do the bodies' nodes."""

    def fused(body_op: str, cname: str) -> nx.MultiDiGraph:
        body = [
            ("p0", "parameter", "f32", (8,), []),
            ("p1", "parameter", "f32", (8,), []),
            ("r", body_op, "f32", (8,), ["p0", "p1"]),
        ]
        entry = [
            ("a", "parameter", "f32", (8,), []),
            ("b", "parameter", "f32", (8,), []),
            ("f", "fusion", "f32", (8,), ["a", "b"], {"calls": (cname,)}),
        ]
        return build(entry, comps={cname: body}, stage="optimized_hlo")

    same = diff(fused("add", "fused.1"), fused("add", "fused.7"))
    assert same.mapping()["fused.1/r"] == "fused.7/r"
    assert same.summary.changed == 0 and not same.only_a
    other = diff(fused("add", "fused.1"), fused("subtract", "fused.2"))
    assert other.mapping()["fused.1/r"] == "fused.2/r"
    assert [p.a for p in other.pairs if p.status == "changed"] == ["fused.1/r"]
    assert other.summary.kernels == (1, 1)


def test_json_lists_every_node_exactly_once() -> None:
    """Every node of A is in pairs[].a or only_a once; likewise for B."""
    a, b = build(linear()), build(linear("dot", extra_node=True))
    doc = json.loads(diff(a, b).to_json_text())
    seen_a = [p["a"] for p in doc["pairs"]] + [n["id"] for n in doc["only_a"]]
    seen_b = [p["b"] for p in doc["pairs"]] + [n["id"] for n in doc["only_b"]]
    assert sorted(seen_a) == sorted(a.nodes) and len(seen_a) == len(set(seen_a))
    assert sorted(seen_b) == sorted(b.nodes) and len(seen_b) == len(set(seen_b))
    assert doc["schema_version"] == 3
    assert doc["summary"]["only_b"] == len(doc["only_b"])


def test_reports_are_deterministic() -> None:
    """Diffing fresh copies twice gives byte-identical text, JSON and Markdown."""
    runs = []
    for _ in range(2):
        d = diff(build(linear()), build(linear("dot", extra_node=True, swap_params=True)))
        runs.append((d.to_text(), d.to_json_text(), d.to_markdown()))
    assert runs[0] == runs[1]
    assert "| changed |" in runs[0][2]


def test_different_kinds_are_allowed_and_said() -> None:
    """A StableHLO graph against an optimized HLO graph diffs, and the header says the kinds differ."""
    a = build(linear(), fmt="stablehlo", stage="stablehlo", level="canonical")
    b = build(linear(), stage="optimized_hlo", level="raw")
    d = diff(a, b)
    assert not d.same_kind
    assert "different kinds (stablehlo/canonical vs optimized_hlo/raw)" in d.to_text()
    assert json.loads(d.to_json_text())["same_kind"] is False


def test_empty_graph_is_a_usage_error() -> None:
    """An empty graph raises UsageError naming the side."""
    empty = new_graph(format="hlo", entry="main")
    with pytest.raises(UsageError, match="A: the graph is empty"):
        diff(empty, build(linear()))


def test_matching_never_pairs_a_node_twice() -> None:
    """The matching is one-to-one and its cost equals the summary's."""
    a, b = build(linear()), build(linear("dot", extra_node=True, swap_params=True))
    m = match(a, b)
    assert len({x for x, _, _ in m.pairs}) == len(m.pairs) == len({y for _, y, _ in m.pairs})
    assert len(m.pairs) + len(m.only_a) == a.number_of_nodes()
    assert len(m.pairs) + len(m.only_b) == b.number_of_nodes()
    d = diff(a, b)
    assert edit_cost(a, b, [(x, y) for x, y, _ in m.pairs]) == d.summary.edit_cost


def test_across_levels_fused_ops_pair_with_their_unfused_originals() -> None:
    """HLO vs optimized HLO: ops inside a fusion pair with the entry ops they came from."""
    pre = build(
        [
            ("x", "parameter", "f32", (8,), []),
            ("y", "parameter", "f32", (8,), []),
            ("m", "multiply", "f32", (8,), ["x", "y"]),
            ("r", "add", "f32", (8,), ["m", "x"]),
        ]
    )
    body = [
        ("p0", "parameter", "f32", (8,), []),
        ("p1", "parameter", "f32", (8,), []),
        ("m", "multiply", "f32", (8,), ["p0", "p1"]),
        ("r", "add", "f32", (8,), ["m", "p0"]),
    ]
    entry = [
        ("x", "parameter", "f32", (8,), []),
        ("y", "parameter", "f32", (8,), []),
        ("f", "fusion", "f32", (8,), ["x", "y"], {"calls": ("fused",), "attrs": {"kind": "kLoop"}}),
    ]
    post = build(entry, comps={"fused": body}, stage="optimized_hlo")
    d = diff(pre, post)
    assert not d.same_kind
    m = d.mapping()
    assert m == {"main/x": "main/x", "main/y": "main/y", "main/m": "fused/m", "main/r": "fused/r"}
    assert d.summary.changed == 0
    assert d.only_b == ("main/f", "fused/p0", "fused/p1")
    # The cost is priced on the real graphs, not on the flattened view.
    assert d.summary.edit_cost == edit_cost(pre, post, list(m.items()))


def test_summary_estimates_flops_bytes_and_kernels() -> None:
    """FLOPs count 2*M*N*K per dot and 1 per element otherwise; bytes and kernels only for optimized graphs."""
    rows = [
        ("x", "parameter", "f32", (4, 3), []),
        ("w", "parameter", "f32", (3, 2), []),
        ("d", "dot", "f32", (4, 2), ["x", "w"], {"attrs": {"lhs_contracting_dims": [1]}}),
        ("e", "exponential", "f32", (4, 2), ["d"]),
    ]
    hlo = diff(build(rows), build(rows)).summary
    assert hlo.flops == (2 * 4 * 2 * 3 + 8, 2 * 4 * 2 * 3 + 8)
    assert hlo.kernels is None and hlo.bytes == (None, None)
    opt = diff(build(rows, stage="optimized_hlo"), build(rows, stage="optimized_hlo")).summary
    assert opt.kernels == (2, 2)
    # dot reads x (48 B) and w (24 B) and writes 32 B; exponential reads and writes 32 B.
    assert opt.bytes == (48 + 24 + 32 + 32 + 32, 48 + 24 + 32 + 32 + 32)


def test_diff_of_two_texts_through_the_public_api():
    """`xlalens.diff(text, text)` on optimized HLO text: no path lookup, every node pairs."""
    import lzma
    from pathlib import Path

    import xlalens

    path = Path(__file__).parent / "data/real/jax_sharded_mlp.optimized_hlo.txt.xz"
    text = lzma.open(path, "rt").read()
    d = xlalens.diff(text, text)
    assert d.pairs and not d.only_a and not d.only_b
