"""load(): format detection, dump entries, levels, errors; and the dump's graph step."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from xlalens import DumpError, ParseError, UsageError
from xlalens.ir import detect_format, dump_step, entry_op_count, from_json, load, validate

DATA = Path(__file__).parent / "data"
MLP = DATA / "dumps" / "mlp"
CONTROL_FLOW = DATA / "stablehlo" / "control_flow.mlir"
HLO = "HloModule m, is_scheduled=true\n\nENTRY e {\n  p = f32[2]{0} parameter(0)\n  ROOT n = f32[2]{0} negate(p)\n}\n"
needs_mlp = pytest.mark.skipif(
    not (MLP / "manifest.json").exists(), reason="no mlp dump checked in"
)


def test_detect_format():
    """Content decides the format: HLO, StableHLO text/bytecode, JSON, GraphML, unknown."""
    assert detect_format(HLO) == "hlo"
    assert detect_format(CONTROL_FLOW.read_text()) == "stablehlo"
    assert detect_format(b"ML\xefR\x00") == "stablehlo"
    assert detect_format('  {"nodes": []}') == "json"
    assert detect_format("<?xml version='1.0'?><graphml/>") == "graphml"
    assert detect_format("hello") == "unknown"
    assert detect_format(b"\xff\xfe\x00") == "unknown"


def test_load_text_path_and_str_path():
    """IR text, a Path and a str path all load; the stage is guessed from the text."""
    g = validate(load(HLO))
    assert g.graph["format"] == "hlo" and g.graph["stage"] == "optimized_hlo"
    a, b = load(CONTROL_FLOW), load(str(CONTROL_FLOW))
    assert list(a.nodes) == list(b.nodes) and a.graph["stage"] == "stablehlo"
    assert a.graph["source"]["path"] == str(CONTROL_FLOW)
    assert load(HLO, stage="hlo").graph["stage"] == "hlo"


def test_load_graph_object_and_levels():
    """A graph passes through load; level=None keeps a saved graph's level."""
    g = load(CONTROL_FLOW)
    assert load(g) is g
    canon = load(g, "canonical")
    assert canon.graph["level"] == "canonical" and g.graph["level"] == "raw"
    assert load(canon, None) is canon
    with pytest.raises(UsageError, match="back to raw"):
        load(canon, "raw")


@needs_mlp
def test_dump_entry_fills_source_and_roles():
    """DIR:frontend[:artifact] loads the artifact, records its source and applies roles."""
    g = load(f"{MLP}:torch_xla:optimized_hlo", "canonical")
    assert g.graph["stage"] == "optimized_hlo"
    src = g.graph["source"]
    assert (src["frontend"], src["artifact"]) == ("torch_xla", "optimized_hlo")
    assert Path(src["dump"]) == MLP.resolve() and src["path"].endswith("optimized_hlo.txt")
    params = g.graph["computations"][g.graph["entry"]]["params"]
    sig = json.loads((MLP / "manifest.json").read_text())["frontends"]["torch_xla"]["signature"]
    assert [g.nodes[p]["role"] for p in params] == [i["role"] for i in sig["inputs"]]
    default = load(f"{MLP}:jax")
    assert default.graph["stage"] == "stablehlo" and default.graph["format"] == "stablehlo"


def test_errors_are_xlalens_errors(tmp_path):
    """Bad level, missing files, folders, junk and bad dump entries raise clear xlalens errors."""
    with pytest.raises(UsageError, match="level"):
        load(HLO, "fancy")
    with pytest.raises(UsageError, match="stage"):
        load(HLO, stage="final")
    with pytest.raises(UsageError, match="neither an existing file"):
        load(str(tmp_path / "missing.mlir"))
    with pytest.raises(UsageError, match="no such file"):
        load(tmp_path / "missing.mlir")
    with pytest.raises(UsageError, match="folder"):
        load(str(tmp_path))
    junk = tmp_path / "junk.txt"
    junk.write_text("this is not IR\nat all\n")
    with pytest.raises(ParseError) as info:
        load(junk)
    assert info.value.line == 1 and "this is not IR" in info.value.snippet
    binary = tmp_path / "blob.bin"
    binary.write_bytes(b"\x00\xff\xfe binary")
    with pytest.raises(ParseError, match="binary"):
        load(binary)
    with pytest.raises(UsageError):
        load(12)


@needs_mlp
def test_capture_like_objects():
    """An object with .dump and .frontend (a Capture) loads like its dump entry."""
    from types import SimpleNamespace

    cap = SimpleNamespace(dump=MLP, frontend="tensorflow")
    g = load(cap, "canonical")
    assert g.graph["source"]["frontend"] == "tensorflow" and g.graph["stage"] == "stablehlo"
    assert load(cap, stage="optimized_hlo").graph["stage"] == "optimized_hlo"


@needs_mlp
def test_bad_dump_entries():
    """Unknown frontends/artifacts, non-IR artifacts and bare dump folders raise DumpError/UsageError."""
    with pytest.raises(DumpError, match="no frontend"):
        load(f"{MLP}:nosuch")
    with pytest.raises(DumpError, match="unknown artifact"):
        load(f"{MLP}:jax:bogus")
    with pytest.raises(DumpError, match="not IR"):
        load(f"{MLP}:jax:outputs")
    with pytest.raises(UsageError, match="name a frontend"):
        load(str(MLP))


@needs_mlp
def test_dump_step_writes_graphs_and_op_counts(tmp_path):
    """dump_step writes raw+canonical graphs per artifact, lists them, and sets op_counts."""
    dump = tmp_path / "dump"
    shutil.copytree(MLP, dump, ignore=shutil.ignore_patterns("graphs", "diffs", "report.html"))
    manifest = json.loads((dump / "manifest.json").read_text())
    fronts = [fe for fe, i in manifest["frontends"].items() if i["status"] == "ok"][:2]
    manifest["frontends"] = {fe: manifest["frontends"][fe] for fe in fronts}
    # a broken artifact on the second frontend must not stop anything else
    bad = fronts[1]
    (dump / manifest["frontends"][bad]["artifacts"]["hlo"]).write_text(
        "HloModule broken\nENTRY {\n"
    )
    manifest["frontends"]["ghost"] = {"status": "failed", "reason": "boom", "artifacts": {}}
    dump_step(dump, manifest)
    good = manifest["frontends"][fronts[0]]
    assert sorted(good["artifacts"]["graphs"]) == sorted(
        f"{a}.{lv}" for a in ("stablehlo", "hlo", "optimized_hlo") for lv in ("raw", "canonical")
    )
    for key, rel in good["artifacts"]["graphs"].items():
        g = validate(from_json(dump / rel))
        assert g.graph["level"] == key.split(".")[1] and g.graph["stage"] == key.split(".")[0]
        if key.endswith(".raw"):
            assert good["op_counts"][key.split(".")[0]] == entry_op_count(g)
    assert "graphs" not in manifest["frontends"]["ghost"]["artifacts"]
    broken = manifest["frontends"][bad]
    assert "ParseError" in broken["graph_errors"]["hlo"]
    assert "hlo.raw" not in broken["artifacts"]["graphs"]
    assert "optimized_hlo.canonical" in broken["artifacts"]["graphs"]


_SCHEMA_TEXT = (
    "HloModule m\nadd {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n"
    "  ROOT s = f32[] add(a, b)\n}\nENTRY e {\n  p = f32[4] parameter(0)\n"
    "  n = f32[4] negate(p)\n  z = f32[] constant(0)\n"
    "  ROOT r = f32[] reduce(n, z), dimensions={0}, to_apply=add\n}\n"
)


def _break_missing_field(g):
    del g.nodes["e/n"]["op_name"]


def _break_shape_type(g):
    g.nodes["e/n"]["shape"] = (4.0,)


def _break_attrs(g):
    g.nodes["e/n"]["attrs"]["x"] = {1, 2}


def _break_attr_key(g):
    g.nodes["e/n"]["attrs"]["x"] = {1: "a"}


def _break_cross_edge(g):
    g.add_edge("add/a", "e/n", key=1, operand_index=1, kind="data", dtype="f32", shape=())


def _break_cycle(g):
    g.add_edge("e/r", "e/n", key=1, operand_index=1, kind="data", dtype="f32", shape=())


def _break_operand_index(g):
    g.add_edge("e/p", "e/n", key=3, operand_index=3, kind="data", dtype="f32", shape=(4,))


def _break_edge_field(g):
    g.edges["e/p", "e/n", 0]["operand_index"] = 2


def _break_fusion(g):
    g.nodes["e/n"]["fusion"] = "e/nowhere"


@pytest.mark.parametrize(
    "breaker",
    [
        _break_missing_field,
        _break_shape_type,
        _break_attrs,
        _break_attr_key,
        _break_cross_edge,
        _break_cycle,
        _break_operand_index,
        _break_edge_field,
        _break_fusion,
    ],
)
def test_validate_fast_pass_still_rejects_each_broken_rule(breaker) -> None:
    """validate()'s one-pass check falls back to the rule-by-rule check and names the break."""
    from xlalens.ir._schema import SchemaError
    from xlalens.ir._validate import validate

    g = load(_SCHEMA_TEXT)
    assert validate(g) is g
    breaker(g)
    with pytest.raises(SchemaError):
        validate(g)


def test_load_leaves_gc_on_and_frozen_objects_frozen():
    """load turns the GC back on, promoting its graph, and thaws none of the process's frozen objects."""
    import gc

    assert gc.get_freeze_count() == 0
    load(HLO)  # the graph's objects go to the oldest generation (ir/_gc.py)
    assert gc.isenabled() and gc.get_freeze_count() == 0
    gc.freeze()  # a process that froze its objects (a pre-fork server)
    try:
        frozen = gc.get_freeze_count()
        assert frozen > 0
        load(HLO)
        assert gc.isenabled() and gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
    gc.disable()  # a process that keeps the GC off keeps it off
    try:
        load(HLO)
        assert not gc.isenabled()
    finally:
        gc.enable()


# Two nodes of one key table with equal attribute texts (the reader's templates).
_TWO_TRANSPOSES = (
    "HloModule m\nENTRY e {\n  p = f32[2,3]{1,0} parameter(0)\n"
    "  a = f32[3,2]{1,0} transpose(p), dimensions={1,0}\n"
    "  ROOT b = f32[3,2]{1,0} transpose(p), dimensions={1,0}\n}\n"
)


def test_reader_dicts_hold_only_their_values():
    """Node, edge and attrs dicts are plain dicts smaller than a literal, and a key added stays in one."""
    import sys

    from xlalens.ir import _dicts

    if _dicts._PADS.get(4, -1) < 0:
        pytest.skip("this Python makes no split copy smaller than a plain dict")
    g = load(_TWO_TRANSPOSES)
    a, b = g.nodes["e/a"], g.nodes["e/b"]
    (ea,) = (d for _, _, d in g.in_edges("e/a", data=True))
    (eb,) = (d for _, _, d in g.in_edges("e/b", data=True))
    for d in (a, a["attrs"], ea):
        assert type(d) is dict
        assert sys.getsizeof(d) < sys.getsizeof({**d})  # NOTE [a values array sized ...]
    ea["device_shape"] = (2, 3)
    a["attrs"]["reducer"] = "add"
    assert ea == {**eb, "device_shape": (2, 3)} and "device_shape" not in eb
    assert "reducer" not in b["attrs"] and list(a["attrs"]) == ["dimensions", "reducer"]


def test_attribute_names_of_python_objects_read_as_any_other():
    """Attributes named like a Python object's own (__class__, __dict__) load into attrs."""
    text = (
        "HloModule m\nENTRY e {\n  p = f32[2] parameter(0)\n"
        "  ROOT a = f32[2] negate(p), __class__=1, __dict__={2,3}\n}\n"
    )
    assert load(text).nodes["e/a"]["attrs"] == {"__class__": 1, "__dict__": [2, 3]}


def test_nodes_own_their_mutable_fields():
    """Nodes built from one key table and equal attribute texts share no mutable object."""
    g = load(_TWO_TRANSPOSES)
    a, b = g.nodes["e/a"], g.nodes["e/b"]
    assert a == {**b, "name": "a", "is_root": False}
    assert list(a) == list(b)
    assert a["attrs"] is not b["attrs"]
    # calls: the one empty tuple, which nobody can change (NOTE [calls, a tuple]).
    assert a["calls"] == b["calls"] == () and type(a["calls"]) is tuple
    assert a["attrs"]["dimensions"] is not b["attrs"]["dimensions"]
    a["attrs"]["dimensions"].append(9)
    a["extra"] = 1  # a key of its own: that dict alone changes
    assert b["attrs"]["dimensions"] == [1, 0] and "extra" not in b
    edges = [d for _, _, d in g.in_edges("e/b", data=True)] + [
        d for _, _, d in g.in_edges("e/a", data=True)
    ]
    assert edges[0] == edges[1] and edges[0] is not edges[1]
