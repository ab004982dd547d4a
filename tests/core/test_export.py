"""Model Explorer export (xlalens.export, `xlalens export`) on real modules, checked against Model Explorer's own classes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import xlalens
from tests.core._real import real_text
from xlalens.export import blame_overlays, diff_overlay, graph_collection, timing_overlays
from xlalens.ir import load

ROOT = Path(__file__).resolve().parents[2]
DUMPS = Path(__file__).parent / "data" / "dumps"


@pytest.fixture(scope="module")
def sharded_mlp():
    """jax's sharded MLP step over 8 host devices, optimized HLO (338 instructions)."""
    return load(real_text("jax_sharded_mlp.optimized_hlo.txt.xz"))


@pytest.fixture(scope="module")
def transformer():
    """torch_xla's TransformerEncoder step, optimized HLO (3,162 instructions)."""
    return load(real_text("torch_xla_transformer.optimized_hlo.txt.xz"))


def _strip_none(x):
    if isinstance(x, dict):
        return {k: _strip_none(v) for k, v in x.items() if v is not None}
    if isinstance(x, list):
        return [_strip_none(v) for v in x]
    return x


def test_json_is_model_explorers_graph_collection(sharded_mlp):
    """The document reads into model_explorer.graph_builder.GraphCollection (strict) and back unchanged."""
    import importlib.util
    from dataclasses import asdict

    dacite = pytest.importorskip("dacite")
    spec = importlib.util.find_spec("model_explorer")
    if spec is None:
        pytest.skip("Model Explorer is not installed (pip install 'xlalens[explore]')")
    # graph_builder.py alone: the package's __init__ imports torch when present (seconds).
    path = Path(spec.submodule_search_locations[0]) / "graph_builder.py"
    gspec = importlib.util.spec_from_file_location("_me_graph_builder", path)
    gb = importlib.util.module_from_spec(gspec)
    sys.modules[gspec.name] = gb  # dataclasses resolve their string annotations through it
    gspec.loader.exec_module(gb)

    doc = json.loads(json.dumps(graph_collection(sharded_mlp)))
    coll = dacite.from_dict(gb.GraphCollection, doc, config=dacite.Config(strict=True))
    assert _strip_none(asdict(coll)) == doc
    assert doc["graphs"][0]["id"] == sharded_mlp.graph["entry"]
    attrs = [a["key"] for g in doc["graphs"] for n in g["nodes"] for a in n["attrs"]]
    assert "sharding" in attrs and "collective" in attrs


def test_edges_keep_operand_order_and_fusions_open_their_bodies(transformer):
    """Each node's incoming edges follow its operand order; a fusion's subgraphIds name its body's graph."""
    doc = graph_collection(transformer)
    graphs = {g["id"]: g for g in doc["graphs"]}
    assert sum(len(g["nodes"]) for g in doc["graphs"]) == transformer.number_of_nodes()
    entry = graphs[transformer.graph["entry"]]
    fusions = [n for n in entry["nodes"] if n["subgraphIds"] and "fusion" in n["label"]]
    assert fusions
    for n in fusions:
        (body,) = n["subgraphIds"]
        assert body in graphs and graphs[body]["nodes"]
        nid = f"{transformer.graph['entry']}/{n['id']}"
        want = [
            transformer.nodes[u]["name"]
            for u, _, _ in sorted(transformer.in_edges(nid, keys=True), key=lambda e: e[2])
        ]
        got = [e["sourceNodeId"] for e in n["incomingEdges"]]
        assert got == want
        assert [e["targetNodeInputId"] for e in n["incomingEdges"]] == [
            str(i) for i in range(len(want))
        ]


def _levels(entry) -> dict[str, tuple[set[str], int]]:
    """Each layer path ('' = root) -> (its child layers, its own op nodes)."""
    out: dict[str, tuple[set[str], int]] = {"": (set(), 0)}
    for n in entry["nodes"]:
        parts = n["namespace"].split("/") if n["namespace"] else []
        for i in range(len(parts)):
            parent = "/".join(parts[:i])
            out.setdefault(parent, (set(), 0))[0].add(parts[i])
        layers, ops = out.setdefault(n["namespace"], (set(), 0))
        out[n["namespace"]] = (layers, ops + 1)
    return out


def test_name_scopes_become_layers_and_resnet50_opens_collapsed():
    """Keras ResNet50 (jax): the root shows forward, backward, optimizer and parameters; layers nest by name."""
    from xlalens.export._layers import MAX_CHILDREN

    g = load(real_text("keras_jax_resnet50.optimized_hlo.txt.xz"))
    entry = graph_collection(g)["graphs"][0]
    levels = _levels(entry)
    layers, ops = levels[""]
    assert {"forward (jvp)", "backward (transpose(jvp))", "sgd", "(parameters)"} <= layers
    assert len(layers) + ops <= 20, (layers, ops)  # was 321 layers + 216 ops: no layout in 800 s
    assert "jit(train_step)" not in layers  # the scope every op shares is cut
    assert all(len(sub) <= MAX_CHILDREN for sub, _ in levels.values())
    ns = {n["namespace"] for n in entry["nodes"]}
    assert "forward (jvp)/conv2/conv2_block1/conv2_block1_1_conv" in ns
    assert "backward (transpose(jvp))/conv4/conv4_block6/conv4_block6_2_bn" in ns


def test_mobilenet_from_tensorflow_opens_collapsed():
    """Keras MobileNetV2 (TensorFlow), a second model and framework: every level holds few layers."""
    from xlalens.export._layers import MAX_CHILDREN

    g = load(real_text("keras_tf_mobilenetv2.optimized_hlo.txt.xz"))
    entry = graph_collection(g)["graphs"][0]
    levels = _levels(entry)
    layers, ops = levels[""]
    assert len(layers) + ops <= 60, (layers, ops)  # was 6 layers + 194 ops (weight copies)
    assert all(len(sub) <= MAX_CHILDREN for sub, _ in levels.values())
    copies = [n for n in entry["nodes"] if n["label"] == "copy"]
    assert sum(n["namespace"] == "(parameters)" for n in copies) > 100


def test_crowded_levels_group_by_name_prefix():
    """40 torch-style layer names split into prefix layers; a level under the limit is left alone."""
    from xlalens.export._layers import regroup

    paths = [(f"layers.{i}", "attn") for i in range(40)] + [("embed",), ("norm",)]
    got = regroup(paths, limit=24)
    assert got[("layers.7", "attn")] == ("layers", "layers.7", "attn")
    assert got[("embed",)] == ("embed",)
    small = [("a_1",), ("a_2",), ("b",)]
    assert regroup(small, limit=24) == {p: p for p in small}


def test_attrs_carry_cost_and_kernel(transformer):
    """A dot's side-panel attributes give opcode, shape, dtype, FLOPs, bytes and its kernel."""
    doc = graph_collection(transformer)
    dot = next(
        n
        for g in doc["graphs"]
        for n in g["nodes"]
        if any(a["key"] == "opcode" and a["value"] == "dot" for a in n["attrs"])
    )
    keys = {a["key"]: a["value"] for a in dot["attrs"]}
    assert {"opcode", "shape", "dtype", "flops", "bytes", "kernel"} <= set(keys)
    assert int(keys["flops"].replace(",", "")) > 0


def test_timing_overlay_colours_the_timed_kernels(transformer):
    """Kernel records of a results document become time/share/roofline node data on the entry graph."""
    entry = transformer.graph["entry"]
    kernels = [
        d["name"]
        for d in transformer._node.values()
        if d["computation"] == entry and d["op"] == "fusion"
    ][:3]
    rec = {
        "kernels": [
            {"name": k, "median_s": 1e-4 * (i + 1), "share": 0.1, "fraction_of_roofline": 0.5}
            for i, k in enumerate(kernels)
        ]
        + [{"name": "not_in_this_module", "median_s": 1.0, "share": 0.9}]
    }
    ovs = timing_overlays(transformer, rec, label="jax cpu")
    assert [o.name for o in ovs] == [
        "kernel time (ms) jax cpu",
        "share of step (%) jax cpu",
        "roofline fraction jax cpu",
    ]
    res = ovs[0].data[entry]["results"]
    assert set(res) == set(kernels) and res[kernels[1]]["value"] == pytest.approx(0.2)
    assert (ovs[0].nodes, ovs[0].of) == (3, 4)


def test_diff_overlay_statuses_through_the_public_path(tmp_path):
    """xlalens.diff + export: both sides get a diff overlay whose statuses cover every node."""
    d = xlalens.diff(f"{DUMPS}/mlp:jax:optimized_hlo", f"{DUMPS}/mlp:tensorflow:optimized_hlo")
    st = {p.a: p.status for p in d.pairs} | {n: "only-A" for n in d.only_a}
    r = xlalens.export(d.a, out=tmp_path / "a.json", node_status=st)
    (ov,) = r.overlays
    data = json.loads(ov.read_text())
    values = [v["value"] for g in data.values() for v in g["results"].values()]
    assert len(values) == d.a.number_of_nodes()
    assert {"unchanged", "changed", "only-A"} <= set(values)
    assert diff_overlay(d.a, st).nodes == len(values)


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "xlalens", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )


def test_cli_export_and_bad_input(tmp_path):
    """`xlalens export` writes the JSON of a dump entry; a bad output name or target exits 2 with one line."""
    ok = _cli("export", f"{DUMPS}/regression:tensorflow:hlo", "-o", "tf.json", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert json.loads((tmp_path / "tf.json").read_text())["graphs"]
    bad = _cli("export", f"{DUMPS}/regression:jax", "-o", "x.svg", cwd=tmp_path)
    assert bad.returncode == 2 and "name it OUT.json" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
    missing = _cli("export", f"{DUMPS}/regression:nope", cwd=tmp_path)
    assert missing.returncode == 2 and "no frontend 'nope'" in missing.stderr


def test_explore_without_model_explorer_is_one_line_exit_2(monkeypatch, capsys):
    """`xlalens explore` where Model Explorer is not installed: one line naming what to install, exit 2."""
    import xlalens._export_cli as cli_mod
    from xlalens.cli import main

    monkeypatch.setattr(cli_mod, "_has_model_explorer", lambda: False)
    assert main(["explore", f"{DUMPS}/regression:jax:optimized_hlo", "--no-browser"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install 'xlalens[explore]'" in err[0]


def test_blame_overlay_names_the_creating_pass(transformer):
    """passes.json kernel records become a categorical 'created by pass' overlay (one colour per pass) and a count."""
    entry = transformer.graph["entry"]
    fusions = [
        d["name"]
        for d in transformer._node.values()
        if d["computation"] == entry and d["op"] == "fusion"
    ][:4]
    recs = [
        {"kernel": k, "created_by": f"pipeline/pass{i % 2}", "changed_by": ["a/b"] * i}
        for i, k in enumerate(fusions)
    ]
    created, changed = blame_overlays(transformer, recs, label="torch_xla")
    res = created.data[entry]["results"]
    assert res[fusions[1]]["value"] == "pipeline/pass1"
    assert res[fusions[0]]["bgColor"] != res[fusions[1]]["bgColor"]
    assert res[fusions[0]]["bgColor"] == res[fusions[2]]["bgColor"]
    assert changed.data[entry]["results"][fusions[3]]["value"] == 3
