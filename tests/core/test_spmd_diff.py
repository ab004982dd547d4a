"""Diffs of sharded steps: collectives inserted/removed/split, shardings compared as records."""

from __future__ import annotations

import json
from pathlib import Path

from xlalens.diff import diff
from xlalens.ir import load
from xlalens.ir._collectives import Mesh, annotate

DATA = Path(__file__).parent / "data" / "spmd"
MESH = Mesh(("data", "model"), (4, 2), tuple(range(8)))


def _g(name: str, mesh: Mesh | None = MESH):
    g = load(DATA / name, level="canonical")
    return annotate(g, mesh) if mesh is not None else g


def test_one_device_vs_dp_inserts_an_all_reduce():
    """1-device vs dp (optimized HLO): one all-reduce over data inserted, with where and bytes."""
    d = diff(_g("jax_mlp_one.optimized_hlo.txt", None), _g("jax_mlp_dp.optimized_hlo.txt"))
    cd = d.collectives
    assert cd.counts()["inserted"] == 1 and sum(cd.counts().values()) == 1
    (c,) = cd.changes
    assert (c.status, c.kind, c.axes_b, c.bytes_a, c.bytes_b) == (
        "inserted",
        "all-reduce",
        "data",
        0,
        1932,
    )
    assert c.a == () and d.b.nodes[c.b[0]]["op"] == "all-reduce"
    assert any(x.startswith("for: ") and "_dense.py" in x for x in c.near)
    assert any(x.startswith("after ") for x in c.near)
    assert any(x.startswith("before ") and "(A: " in x for x in c.near)
    (t,) = cd.totals
    assert (t.kind, t.axes, t.count_a, t.count_b, t.bytes_b) == ("all-reduce", "data", 0, 1, 1932)
    text = d.to_text()
    assert "collectives (bytes/device: ring model" in text
    assert "+ inserted all-reduce all-reduce.7: over data, 1,932 B/device" in text
    doc = json.loads(d.to_json_text())
    assert doc["schema_version"] == 3
    assert doc["collectives"]["counts"]["inserted"] == 1
    assert doc["collectives"]["changes"][0]["bytes_per_device_b"] == 1932
    assert "### Collectives" in d.to_markdown()


def test_one_device_vs_dp_hlo_shows_the_sharding_change():
    """Pre-partitioning HLO: only x and y change, by their sharding record (not attribute text)."""
    d = diff(_g("jax_mlp_one.hlo.txt", None), _g("jax_mlp_dp.hlo.txt"))
    changed = [p for p in d.pairs if p.status == "changed"]
    assert sorted(d.a.nodes[p.a]["name"] for p in changed) == ["x.1", "y.1"]
    for p in changed:
        assert [(c.field, c.a, c.b) for c in p.changes] == [
            ("sharding", "replicated", "[{data}, -] replicated x2")
        ]
    assert d.collectives is None and not d.only_a and not d.only_b


def test_dp_vs_tp():
    """dp vs tp: the gradient all-reduce over data removed, an activation all-reduce over model inserted."""
    d = diff(_g("jax_mlp_dp.optimized_hlo.txt"), _g("jax_mlp_tp.optimized_hlo.txt"))
    by = {c.status: c for c in d.collectives.changes}
    assert set(by) == {"inserted", "removed"}
    assert (by["removed"].axes_a, by["removed"].bytes_a) == ("data", 1932)
    assert (by["inserted"].axes_b, by["inserted"].bytes_b) == ("model", 256)
    rows = {(t.kind, t.axes): (t.count_a, t.count_b) for t in d.collectives.totals}
    assert rows == {("all-reduce", "data"): (1, 0), ("all-reduce", "model"): (0, 1)}
    # the pre-partitioning modules differ in where the parameters live
    h = diff(_g("jax_mlp_dp.hlo.txt"), _g("jax_mlp_tp.hlo.txt"))
    fields = {c.field for p in h.pairs for c in p.changes}
    assert "sharding" in fields and not any(f.startswith("attrs.sharding") for f in fields)


def test_jax_vs_torch_xla_dp_split():
    """jax's one tuple all-reduce is torch_xla's seven: one split group, equal bytes per device."""
    mesh = Mesh(("data",), (4,), (0, 1, 2, 3))
    d = diff(
        _g("jax_mlp_dp4.optimized_hlo.txt", mesh), _g("torch_xla_mlp_dp4.optimized_hlo.txt", mesh)
    )
    (c,) = d.collectives.changes
    assert c.status == "split" and len(c.a) == 1 and len(c.b) == 7
    assert c.bytes_a == c.bytes_b == 1932 and c.axes_a == c.axes_b == "data"
    assert "< split all-reduce" in d.to_text()


def test_jax_vs_keras_jax_same_groups_other_spelling():
    """mesh['axis_0'=4,'axis_1'=1] and mesh['axis_0'=4] are the same groups: the all-reduces pair."""
    d = diff(
        _g("jax_mlp_dp4.optimized_hlo.txt", None), _g("keras_jax_mlp_dp4.optimized_hlo.txt", None)
    )
    (c,) = d.collectives.changes
    assert c.status in ("changed", "unchanged") and len(c.a) == len(c.b) == 1
    assert not any(x.startswith(("collective", "attrs.replica_groups")) for x in c.changes)
    assert c.bytes_a == c.bytes_b == 1932
