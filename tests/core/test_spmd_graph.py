"""Sharding, per-device shape and collective records on graph nodes (checked-in sharded MLP steps)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from tests.core._real import real_text
from xlalens.ir import (
    SchemaError,
    collectives,
    from_graphml,
    from_json,
    load,
    to_graphml,
    to_json,
    validate,
)
from xlalens.ir._collectives import Mesh, annotate, collective_text, sharding_text

DATA = Path(__file__).parent / "data" / "spmd"
MESH = Mesh(("data", "model"), (4, 2), tuple(range(8)))


def _load(name: str, mesh: Mesh | None = None):
    g = load(DATA / name)
    return validate(annotate(g, mesh)) if mesh is not None else g


def _node(g, name: str):
    (nid,) = [n for n, d in g.nodes(data=True) if d["name"] == name]
    return nid, g.nodes[nid]


def test_every_node_has_the_fields():
    """Every node of every checked-in sharded module carries sharding, device_shape, collective."""
    for f in sorted(DATA.glob("*.*t*")):
        if f.suffix == ".md":
            continue
        g = load(f)
        for _, d in g.nodes(data=True):
            assert {"sharding", "device_shape", "collective"} <= set(d)


def test_prepartitioning_hlo_dp():
    """jax dp HLO: x is split 4 ways over data (2-way replicated), per-device shape [1,1] on its edges."""
    g = _load("jax_mlp_dp.hlo.txt")
    spmd = g.graph["attrs"]["spmd"]
    assert spmd["mesh"] == {
        "axes": ["data", "model"],
        "shape": [4, 2],
        "device_ids": list(range(8)),
    }
    assert spmd["mesh_source"] == "sdy" and spmd["partitioned"] is False
    nid, x = _node(g, "x.1")
    sh = x["sharding"]
    assert sh["type"] == "tiled" and sh["tile_dims"] == [4, 1]
    assert sh["subgroups"] == [["replicated", 2]] and sh["devices"] == list(range(8))
    assert sh["mesh_axes"] == [["data"], []] and sh["replicated"] is False
    assert x["shape"] == (4, 1) and x["device_shape"] == (1, 1)
    assert sharding_text(sh) == "[{data}, -] replicated x2"
    out = list(g.out_edges(nid, data=True))
    assert out and all(e["device_shape"] == (1, 1) for _, _, e in out)
    _, w1 = _node(g, "params__w1__.1")
    assert w1["sharding"]["replicated"] and w1["device_shape"] == w1["shape"] == (16, 16)
    # an op without a sharding annotation has no per-device shape (none is guessed)
    assert all(d["device_shape"] is None for _, d in g.nodes(data=True) if d["sharding"] is None)
    assert not any(d["collective"] for _, d in g.nodes(data=True))


def test_prepartitioning_hlo_tp_splits_columns_over_model():
    """jax tp HLO: layer 0's kernel [1,16] is split by columns over model: [1,8] per device."""
    g = _load("jax_mlp_tp.hlo.txt")
    _, w0 = _node(g, "params__w0__.1")
    assert w0["sharding"]["mesh_axes"] == [[], ["model"]]
    assert w0["sharding"]["subgroups"] == [["replicated", 4]]
    assert w0["device_shape"] == (1, 8)
    _, w1 = _node(g, "params__w1__.1")
    assert w1["sharding"]["mesh_axes"] == [["model"], []] and w1["device_shape"] == (8, 16)


def test_stablehlo_sdy_shardings_match_hlo():
    """StableHLO's sdy.sharding decodes to the same tiling and devices as the HLO's sharding=."""
    s = load(DATA / "jax_mlp_dp.stablehlo.mlir")
    h = load(DATA / "jax_mlp_dp.hlo.txt")
    sx = s.nodes["main/arg6"]  # x
    _, hx = _node(h, "x.1")
    for k in ("type", "tile_dims", "devices", "subgroups", "mesh_axes"):
        assert sx["sharding"][k] == hx["sharding"][k], k
    assert sx["device_shape"] == (1, 1)
    assert s.graph["attrs"]["spmd"]["mesh_source"] == "sdy"


def test_torch_xla_hlo_sharding_takes_the_given_mesh():
    """torch_xla's HLO names no mesh: tile axes come from the mesh the caller gives."""
    g = load(DATA / "torch_xla_mlp_dp4.hlo.txt")
    tiled = [d for _, d in g.nodes(data=True) if d["sharding"] and not d["sharding"]["replicated"]]
    assert tiled and all(d["sharding"]["mesh_axes"] is None for d in tiled)
    assert all(d["device_shape"] == (1, 1) for d in tiled)
    annotate(g, Mesh(("data",), (4,), (0, 1, 2, 3)))
    assert all(d["sharding"]["mesh_axes"] == [["data"], []] for d in tiled)


def test_collective_record_dp_by_hand():
    """dp optimized HLO: one tuple all-reduce over data; bytes worked out by hand."""
    g = _load("jax_mlp_dp.optimized_hlo.txt", MESH)
    assert g.graph["attrs"]["spmd"]["partitioned"] is True
    assert all(d["device_shape"] is None for _, d in g.nodes(data=True))
    recs = [(n, d["collective"]) for n, d in g.nodes(data=True) if d["collective"]]
    assert len(recs) == 1
    _, rec = recs[0]
    # operands f32[16], f32[16], f32[1], f32[16,1], f32[16,16], f32[1,16], f32[]: 322 floats
    operand = 322 * 4
    assert rec == {
        "kind": "all-reduce",
        "groups": [[0, 2, 4, 6], [1, 3, 5, 7]],
        "group_size": 4,
        "operand_bytes": operand,
        "bytes_per_device": 2 * 3 * operand // 4,  # ring: 2 (n-1)/n D
        "axes": ["data"],
    }
    assert collective_text(rec) == "all-reduce over data (group 4), 1,932 B/device"
    # collectives() reads the stored records
    (c,) = collectives(g)
    assert (c.kind, c.bytes_per_device, c.axes) == ("all-reduce", 1932, ("data",))
    # without a given mesh the module's own replica-group mesh names the axes
    bare = load(DATA / "jax_mlp_dp.optimized_hlo.txt")
    (c,) = collectives(bare)
    assert c.axes == ("axis_0",) and c.bytes_per_device == 1932


def test_tp_mesh_device_ids_iota():
    """tp optimized HLO writes mesh[...], device_ids=([4,2]T(1,0)) {...}: parsed, over model."""
    text = (DATA / "jax_mlp_tp.optimized_hlo.txt").read_text()
    assert "device_ids=([4,2]T(1,0))" in text
    g = _load("jax_mlp_tp.optimized_hlo.txt", MESH)
    (c,) = collectives(g)
    assert c.groups == ((0, 1), (2, 3), (4, 5), (6, 7))
    assert c.axes == ("model",)
    assert c.operand_bytes == 4 * 16 * 4 and c.bytes_per_device == 256  # 2 (1/2) D


def test_real_module_records():
    """The checked-in 4x2 jax NamedSharding MLP: sharded params and collectives over both axes."""
    g = load(real_text("jax_sharded_mlp.hlo.txt.xz"))
    _, x = _node(g, "x.1")
    assert x["sharding"]["mesh_axes"] == [["data"], []] and x["device_shape"] == (16, 512)
    _, w = _node(g, "params_0__0_.1")
    assert w["sharding"]["mesh_axes"] == [[], ["model"]] and w["device_shape"] == (512, 256)
    opt = load(real_text("jax_sharded_mlp.optimized_hlo.txt.xz"))
    kinds = {(c.kind, c.axes) for c in collectives(opt)}
    assert ("all-gather", ("axis_1",)) in kinds and ("all-reduce", ("axis_0",)) in kinds


def test_validate_rejects_broken_records():
    """validate() names the node when a sharding, per-device shape or collective record is wrong."""
    g = _load("jax_mlp_dp.optimized_hlo.txt", MESH)
    ar = next(n for n, d in g.nodes(data=True) if d["collective"])
    p = next(n for n, d in g.nodes(data=True) if d["sharding"] and d["sharding"]["devices"])
    for node, field, value, words in (
        (p, "sharding", {"type": "tiled"}, "needs the keys"),
        (p, "device_shape", (1,), "rank"),
        (ar, "collective", {"kind": "all-reduce"}, "needs the keys"),
    ):
        h = copy.deepcopy(g)
        h.nodes[node][field] = value
        with pytest.raises(SchemaError, match=words):
            validate(h)
    h = copy.deepcopy(g)
    h.nodes[p]["sharding"]["devices"] = [0, 1]
    with pytest.raises(SchemaError, match="cover 8 devices"):
        validate(h)
    h = copy.deepcopy(g)
    h.nodes[ar]["collective"]["group_size"] = 3
    with pytest.raises(SchemaError, match="group_size 3"):
        validate(h)


def test_json_and_graphml_round_trip(tmp_path):
    """Saved graphs keep the records and edge per-device shapes; older saves get them filled in."""
    g = _load("jax_mlp_dp.hlo.txt")
    for back in (from_json(to_json(g)), from_graphml(to_graphml(g))):
        assert dict(back.nodes(data=True)) == dict(g.nodes(data=True))
        assert list(back.edges(keys=True, data=True)) == list(g.edges(keys=True, data=True))
        validate(back)
    # a graph saved before the fields existed
    old = copy.deepcopy(g)
    for _, d in old.nodes(data=True):
        for k in ("sharding", "device_shape", "collective"):
            del d[k]
    for _, _, e in old.edges(data=True):
        e.pop("device_shape", None)
    path = tmp_path / "old.json"
    to_json(old, path)
    from xlalens.render._load import read_graph_json

    back = read_graph_json(path)
    _, x = _node(back, "x.1")
    assert x["device_shape"] == (1, 1) and x["sharding"]["mesh_axes"] == [["data"], []]


def test_module_frontend_attributes_keep_nested_values():
    """HLO module frontend_attributes with an unquoted sdy mesh are read whole."""
    g = load(DATA / "jax_mlp_dp.hlo.txt")
    fa = g.graph["attrs"]["frontend_attributes"]
    assert fa["xla.sdy.meshes"] == '{mesh = #sdy.mesh<["data"=4, "model"=2]>}'
