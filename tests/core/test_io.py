"""Node-link JSON and GraphML export/import (xlalens/ir/_io.py) are lossless."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from xlalens import ParseError
from xlalens.ir import from_graphml, from_json, load, normalize, to_graphml, to_json, validate

DATA = Path(__file__).parent / "data"
HLO_OPT = sorted((DATA / "dumps").glob("*/jax/optimized_hlo.txt"))


def _graphs():
    graphs = [
        load(DATA / "stablehlo" / "control_flow.mlir"),
        load(DATA / "stablehlo" / "features.mlir"),
    ]
    graphs.append(normalize(graphs[0], signature={"inputs": [{"role": "x"}], "outputs": []}))
    graphs += [load(p) for p in HLO_OPT[:1]]
    return graphs


def _assert_equal(a, b):
    assert list(a.nodes(data=True)) == list(b.nodes(data=True))
    assert sorted(a.edges(keys=True, data=True), key=repr) == sorted(
        b.edges(keys=True, data=True), key=repr
    )
    assert a.graph == b.graph
    for n in a:  # operand order as seen by consumers, too
        assert list(a.pred[n]) == list(b.pred[n])
        assert list(a.in_edges(n, keys=True)) == list(b.in_edges(n, keys=True))


def _tricky(g):
    """Add values JSON cannot hold as-is: tuples, None, nested dicts, non-finite floats, tag keys."""
    g = g.copy()
    n = next(iter(g))
    g.nodes[n]["attrs"] = {
        **g.nodes[n]["attrs"],
        "pair": (1, (2.5, None)),
        "nested": {"a": [1, {"b": (True, "x")}], "__tuple__": 3},
        "only_tag": {"__float__": "nan"},
        "inf": -math.inf,
    }
    g.graph["attrs"] = {**g.graph["attrs"], "note": None, "t": (1, 2)}
    return g


@pytest.mark.parametrize("fmt", ["json", "graphml"])
def test_round_trip_is_lossless(fmt, tmp_path):
    """Nodes, edges, keys, attributes and graph attributes survive a round trip through a file."""
    write, read = (to_json, from_json) if fmt == "json" else (to_graphml, from_graphml)
    for i, g in enumerate(_graphs()):
        path = tmp_path / f"g{i}.{fmt}"
        write(g, path)
        back = validate(read(path))
        _assert_equal(g, back)
        _assert_equal(g, read(path.read_text()))
        if g.graph["level"] == "raw":  # straight from a reader: even the edge order is the same
            assert list(g.edges(keys=True)) == list(back.edges(keys=True))


@pytest.mark.parametrize("fmt", ["json", "graphml"])
def test_tuples_none_nested_and_nonfinite_survive(fmt):
    """Tuples (even nested), None, nested attrs, NaN/inf and tag-like keys come back identical."""
    write, read = (to_json, from_json) if fmt == "json" else (to_graphml, from_graphml)
    g = _tricky(_graphs()[0])
    back = read(write(g))
    n = next(iter(g))
    attrs = back.nodes[n]["attrs"]
    assert attrs["pair"] == (1, (2.5, None)) and isinstance(attrs["pair"][1], tuple)
    assert attrs["nested"] == {"a": [1, {"b": (True, "x")}], "__tuple__": 3}
    assert attrs["only_tag"] == {"__float__": "nan"}
    assert attrs["inf"] == -math.inf
    assert back.graph["attrs"]["t"] == (1, 2)
    assert all(isinstance(d["shape"], tuple) for _, d in back.nodes(data=True))


def test_json_is_standard_and_readable():
    """The JSON has no NaN/Infinity tokens and uses plain lists for shapes."""
    import json

    g = _tricky(_graphs()[0])
    text = to_json(g)
    json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))
    data = json.loads(text)
    assert data["format"] == "xlalens-graph" and data["multigraph"] is True
    assert data["nodes"][0]["shape"] == list(g.nodes[data["nodes"][0]["id"]]["shape"])


def test_load_reads_saved_graphs(tmp_path):
    """load() detects saved JSON and GraphML; a raw saved graph can be loaded canonical."""
    g = _graphs()[0]
    to_json(g, tmp_path / "g.json")
    to_graphml(g, tmp_path / "g.graphml")
    _assert_equal(load(tmp_path / "g.json"), g)
    _assert_equal(load(str(tmp_path / "g.graphml")), g)
    assert load(tmp_path / "g.json", "canonical").graph["level"] == "canonical"


def test_bad_saved_graphs_raise_parse_error():
    """Broken JSON or GraphML raises ParseError with a message saying what was expected."""
    with pytest.raises(ParseError) as info:
        from_json('{"nodes": [')
    assert info.value.line == 1
    with pytest.raises(ParseError):
        from_json('{"a": 1}')
    with pytest.raises(ParseError):
        from_graphml("<graphml><graph")
    with pytest.raises(ParseError):
        from_graphml(
            '<?xml version="1.0"?><graphml xmlns="http://graphml.graphdrawing.org/xmlns"><graph edgedefault="directed"/></graphml>'
        )
