"""The HLO text reader (xlalens/ir/_hlo_text.py): one test per feature of issue 3."""

from __future__ import annotations

from pathlib import Path

import pytest

from xlalens._errors import ParseError
from xlalens.ir._schema import subgraph
from xlalens.ir._validate import validate
from xlalens.ir.hlo import TRIVIAL_OPCODES, kernel_nodes, parse_hlo_text

DATA = Path(__file__).parent / "data" / "hlo"
DUMPS = Path(__file__).parent / "data" / "dumps"
DATA_FILES = sorted(DATA.glob("*.txt"))
DUMP_FILES = sorted(DUMPS.glob("*/*/hlo.txt")) + sorted(DUMPS.glob("*/*/optimized_hlo.txt"))


def load(name: str, **kw) -> object:
    """Parse and validate one checked-in file of tests/core/data/hlo."""
    return validate(parse_hlo_text((DATA / name).read_text(), source=name, **kw))


def operands(g, nid: str) -> list[str]:
    """Names of a node's operands, in operand order."""
    edges = sorted((k, u) for u, _, k in g.in_edges(nid, keys=True))
    return [g.nodes[u]["name"] for _, u in edges]


@pytest.mark.parametrize(
    "path", DATA_FILES + DUMP_FILES, ids=lambda p: str(p.relative_to(DATA.parent))
)
def test_every_module_parses_to_a_valid_graph(path: Path) -> None:
    """Every checked-in module and real dump gives a graph that passes validate()."""
    g = validate(parse_hlo_text(path.read_text(), source=str(path)))
    assert g.number_of_nodes() > 0
    assert g.graph["format"] == "hlo" and g.graph["level"] == "raw"
    assert g.graph["source"] == {"path": str(path)}


def test_nodes_and_edges_carry_exactly_the_schema_fields() -> None:
    """The reader's node dicts have node_defaults()'s keys in order; edges EDGE_FIELDS'."""
    from xlalens.ir._schema import EDGE_FIELDS, node_defaults

    g = load("attributes.hlo.txt")
    for _, d in g.nodes(data=True):
        assert list(d) == list(node_defaults())
    for _, _, d in g.edges(data=True):
        assert list(d) == list(EDGE_FIELDS)


def test_tuple_types_are_not_shared_between_nodes() -> None:
    """Two nodes with the same tuple type get their own tuple_types list."""
    g = load("control_flow.hlo.txt")
    a, b = g.nodes["main/init"]["attrs"], g.nodes["main/loop"]["attrs"]
    assert a["tuple_types"] == b["tuple_types"]
    a["tuple_types"].append("x")
    assert b["tuple_types"] == ["s32[]", "f32[4]{0}"]


def test_preopt_plain_names_and_reducer() -> None:
    """Pre-optimization text without '%' and without signatures: names, root, reducer link."""
    g = load("preopt_plain.hlo.txt", stage="hlo")
    assert g.graph["module"] == "preopt_plain" and g.graph["entry"] == "main.2"
    assert operands(g, "main.2/sq") == ["x", "x"]
    keys = sorted(k for _, _, k in g.in_edges("main.2/sq", keys=True))
    assert keys == [0, 1]  # multiply(x, x): two parallel edges
    total = g.nodes["main.2/total"]
    assert total["is_root"] and total["calls"] == ("region_0.1",)
    assert total["attrs"]["dimensions"] == [0] and total["attrs"]["to_apply"] == "region_0.1"
    comp = g.graph["computations"]["region_0.1"]
    assert comp["kind"] == "reducer" and comp["callers"] == ["main.2/total"]
    assert comp["params"] == ["region_0.1/lhs", "region_0.1/rhs"]
    assert comp["root"] == "region_0.1/sum"
    body = subgraph(g, total["calls"][0])
    assert set(body) == {"region_0.1/lhs", "region_0.1/rhs", "region_0.1/sum"}
    assert all(d["fusion"] is None for _, d in g.nodes(data=True))


def test_both_operand_styles_give_the_same_graph() -> None:
    """TF's typed operands ``add(f32[] %x, f32[] %y)`` read like ``add(%x, %y)`` and ``add(x, y)``."""
    typed = """HloModule m
ENTRY %e (a: f32[2], b: (f32[], s32[])) -> f32[2] {
  %a = f32[2]{0} parameter(0)
  %b = (f32[], s32[]) parameter(1)
  %g = f32[] get-tuple-element((f32[], s32[]) %b), index=0
  %bc = f32[2]{0} broadcast(f32[] %g), dimensions={}
  ROOT %s = f32[2]{0} add(f32[2]{0} %a, f32[2]{0} %bc)
}
"""
    plain = typed.replace("(f32[], s32[]) %b)", "%b)").replace("f32[] %g", "%g")
    plain = plain.replace("f32[2]{0} %a, f32[2]{0} %bc", "%a, %bc")
    bare = plain.replace("%", "")
    graphs = [validate(parse_hlo_text(t)) for t in (typed, plain, bare)]
    views = [
        sorted((u, v, k, d["dtype"], d["shape"]) for u, v, k, d in g.edges(keys=True, data=True))
        for g in graphs
    ]
    assert views[0] == views[1] == views[2]
    assert ("e/b", "e/g", 0, "tuple", ()) in views[0]
    assert ("e/a", "e/s", 0, "f32", (2,)) in views[0]


def test_layouts_with_tiling_memory_space_and_tuples() -> None:
    """Tiled layouts, memory spaces, dynamic dims, nested tuples, /*index*/ comments, tokens."""
    g = load("layouts_tuples.hlo.txt")
    p0 = g.nodes["main.1/p0"]
    assert p0["layout"] == "1,0:T(8,128)S(1)" and p0["shape"] == (8, 128)
    assert p0["type"] == "f32[8,128]{1,0:T(8,128)S(1)}"
    assert p0["attrs"]["sharding"] == "{replicated}"
    p1 = g.nodes["main.1/p1"]
    assert p1["dtype"] == "tuple" and p1["shape"] == () and p1["layout"] is None
    assert p1["attrs"]["tuple_types"] == ["s32[]", "f32[2]{0}"]
    root = g.nodes["main.1/tuple.3"]
    assert root["is_root"]
    assert root["attrs"]["tuple_types"] == ["f32[8,128]{1,0}", "(s32[], f32[2]{0})"]
    assert g.nodes["main.1/dyn"]["shape"] == (-1, -1)
    assert g.nodes["main.1/tok"]["dtype"] == "token"
    assert g.nodes["main.1/gte.1"]["attrs"]["index"] == 1
    assert g.nodes["main.1/copy.1"]["attrs"]["control_predecessors"] == ["gte.0"]
    assert operands(g, "main.1/copy.1") == ["p0"]  # control edges are not operands
    edge = g.edges["main.1/p1", "main.1/gte.1", 0]
    assert edge["dtype"] == "tuple" and edge["operand_index"] == 0 and edge["kind"] == "data"


def test_module_header_attributes() -> None:
    """input_output_alias is decoded; entry_computation_layout and the rest are kept."""
    g = load("layouts_tuples.hlo.txt")
    attrs = g.graph["attrs"]
    assert attrs["input_output_alias"] == [
        {"output_index": [0], "parameter_number": 0, "parameter_index": [], "kind": "may-alias"},
        {
            "output_index": [1, 0],
            "parameter_number": 1,
            "parameter_index": [1],
            "kind": "must-alias",
        },
    ]
    assert attrs["entry_computation_layout"].startswith("(f32[8,128]{1,0:T(8,128)S(1)}")
    assert attrs["is_scheduled"] is True
    assert attrs["frontend_attributes"] == {"fingerprint_before_lhs": "abc"}


def test_attributes_backend_config_frontend_attributes_and_constants() -> None:
    """backend_config JSON decoded (raw kept if not JSON), frontend_attributes, literals."""
    g = load("attributes.hlo.txt")
    n = g.nodes
    assert n["main/cc"]["attrs"]["backend_config"] == "opaque;not json"
    assert n["main/cc"]["attrs"]["custom_call_target"] == "my_kernel"
    assert n["main/cc.json"]["attrs"]["backend_config"] == {"flag": True, "n": 3}
    assert n["main/bs"]["attrs"]["frontend_attributes"] == {
        "_xla_stream_annotation": "1",
        "grad_x": "false",
    }
    assert n["main/bs"]["attrs"]["dimensions"] == []
    assert n["main/dot"]["attrs"]["lhs_contracting_dims"] == [1]
    assert n["main/big"]["attrs"] == {"literal": "{...}", "elided": True}
    assert n["main/small"]["attrs"]["literal"] == "{1.5, -2}"
    assert n["main/s"]["attrs"]["value"] == 0.25
    assert n["main/sl"]["attrs"]["slice"] == "{[0:2], [0:4:2]}"
    assert n["main/pad"]["attrs"]["padding"] == "0_0x1_1"
    assert operands(g, "main/mul") == ["dot", "bs"]


def test_metadata_and_stack_frames() -> None:
    """op_name/source_file/source_line, and stack_frame_id resolved through the tables."""
    g = load("attributes.hlo.txt")
    dot = g.nodes["main/dot"]
    assert dot["op_name"] == "jit(step)/dot_general"
    assert (dot["source_file"], dot["source_line"]) == ("/src/layers.py", 42)
    assert dot["attrs"]["metadata"] == {"stack_frame_id": 2}
    mul = g.nodes["main/mul"]
    assert (mul["source_file"], mul["source_line"]) == ("/src/model.py", 11)
    assert mul["attrs"]["metadata"] == {"source_end_line": 11, "source_column": 4}
    s = g.nodes["main/s"]
    assert s["op_name"] == "scale" and s["attrs"]["metadata"] == {"op_type": "Const"}
    assert g.nodes["main/a"]["op_name"] == "a" and g.nodes["main/a"]["source_file"] is None


def test_real_jax_optimized_module_resolves_stack_frames() -> None:
    """jax's optimized HLO carries stack_frame_id only; the tables give file and line."""
    g = load("jax_regression.optimized_hlo.txt")
    located = [d for _, d in g.nodes(data=True) if d["source_file"]]
    assert located, "no node got a source location from the StackFrames table"
    assert all(d["source_file"].endswith("generate.py") for d in located)
    assert all(isinstance(d["source_line"], int) for d in located)


def test_control_flow_computations_and_kinds() -> None:
    """while/conditional/call/reduce link their computations and set kind and callers."""
    g = load("control_flow.hlo.txt")
    comps = g.graph["computations"]
    assert {c: comps[c]["kind"] for c in comps} == {
        "add_f32": "reducer",
        "cond": "condition",
        "body": "body",
        "then": "branch",
        "else": "branch",
        "callee": "function",
        "main": "entry",
    }
    assert g.nodes["main/loop"]["calls"] == ("cond", "body")
    assert g.nodes["main/sel"]["calls"] == ("then", "else")
    assert g.nodes["main/sel"]["attrs"]["branch_computations"] == ["then", "else"]
    assert comps["then"]["callers"] == ["main/br", "main/sel"]
    assert g.nodes["main/loop"]["attrs"]["backend_config"] == {"known_trip_count": {"n": "10"}}
    assert comps["body"]["root"] == "body/out"


def test_callers_in_program_order_when_a_callee_comes_later() -> None:
    """A computation called before and after it is defined lists its callers, and takes its kind, in program order."""
    g = parse_hlo_text(
        "HloModule m\n"
        "a (p: f32[]) -> f32[] {\n  p = f32[] parameter(0)\n"
        "  ROOT r = f32[] reduce(p, p), dimensions={}, to_apply=late\n}\n"
        "late (s: f32[], t: f32[]) -> f32[] {\n  s = f32[] parameter(0)\n"
        "  t = f32[] parameter(1)\n  ROOT u = f32[] add(s, t)\n}\n"
        "ENTRY e (x: f32[]) -> f32[] {\n  x = f32[] parameter(0)\n"
        "  y = f32[] call(x, x), to_apply=late\n  w = f32[] reduce(y, x), dimensions={}, to_apply=later\n"
        "  ROOT z = f32[] call(w), to_apply=a\n}\n"
        "later (s: f32[], t: f32[]) -> f32[] {\n  s = f32[] parameter(0)\n"
        "  t = f32[] parameter(1)\n  ROOT u = f32[] maximum(s, t)\n}\n"
    )
    comps = validate(g).graph["computations"]
    assert comps["late"]["callers"] == ["a/r", "e/y"] and comps["late"]["kind"] == "reducer"
    assert comps["later"]["callers"] == ["e/w"] and comps["later"]["kind"] == "reducer"
    assert comps["a"]["callers"] == ["e/z"] and comps["a"]["kind"] == "function"
    assert g.nodes["e/y"]["calls"] == ("late",) and type(g.nodes["e/x"]["calls"]) is tuple


def test_fusion_field_for_nested_fusions() -> None:
    """Optimized HLO: nodes of (nested) fused computations and their reducers point to the kernel."""
    g = load("nested_fusion.hlo.txt")
    assert g.graph["stage"] == "optimized_hlo"  # is_scheduled=true
    for nid in ("outer_fused/prod", "inner_fused/tanh", "scalar_add/add", "outer_fused/inner"):
        assert g.nodes[nid]["fusion"] == "main/fused", nid
    assert g.nodes["other_fused/neg"]["fusion"] == "main/negated"
    assert g.nodes["main/fused"]["fusion"] == "main/fused"
    assert g.nodes["main/a"]["fusion"] == "main/a"
    comps = g.graph["computations"]
    assert comps["inner_fused"]["kind"] == "fusion"
    assert comps["inner_fused"]["callers"] == ["outer_fused/inner"]
    assert g.nodes["main/fused"]["attrs"]["backend_config"]["fusion_config"] == {"kind": "__loop"}


def test_kernel_nodes() -> None:
    """kernel_nodes lists the entry's non-trivial instructions; nested adds loop bodies."""
    g = load("nested_fusion.hlo.txt")
    assert kernel_nodes(g) == ["main/negated", "main/fused"]  # not the params or the bitcast
    cf = load("control_flow.hlo.txt", stage="optimized_hlo")
    kernels = kernel_nodes(cf)
    assert "main/loop" in kernels and "main/init" not in kernels
    assert all(cf.nodes[k]["computation"] == "main" for k in kernels)
    nested = kernel_nodes(cf, nested=True)
    assert nested[: len(kernels)] == kernels
    assert {"body/doubled", "cond/lt", "then/neg", "callee/ex"} <= set(nested)
    assert "add_f32/sum" not in nested  # a reducer runs inside its caller's kernel
    # fusion is always the entry-level instruction that runs the node.
    assert cf.nodes["body/doubled"]["fusion"] == "main/loop"
    assert cf.nodes["cond/lt"]["fusion"] == "main/loop"
    assert cf.nodes["then/neg"]["fusion"] == "main/br"  # first caller of a shared branch
    assert cf.nodes["callee/ex"]["fusion"] == "main/called"
    assert cf.nodes["add_f32/sum"]["fusion"] == "main/total"
    assert not {cf.nodes[k]["opcode"] for k in nested} & TRIVIAL_OPCODES


def test_real_optimized_module_kernels_are_entry_fusions() -> None:
    """In jax's optimized MLP step every fused node belongs to an entry-level kernel."""
    g = load("jax_mlp.optimized_hlo.txt", stage="optimized_hlo")
    entry = g.graph["entry"]
    kernels = set(kernel_nodes(g))
    assert any(g.nodes[k]["opcode"] == "fusion" for k in kernels)
    for nid, d in g.nodes(data=True):
        assert g.nodes[d["fusion"]]["computation"] == entry, nid
        if d["computation"] != entry:
            assert d["fusion"] in kernels, nid


def test_unknown_opcode_is_kept() -> None:
    """An opcode XLA does not know (a newer version's) is kept with op = opcode."""
    g = load("unknown_opcode.hlo.txt")
    y = g.nodes["main/y"]
    assert y["op"] == y["opcode"] == "fancy-new-op"
    assert y["attrs"] == {"magic": [1, 2], "mode": "fast"}
    assert operands(g, "main/y") == ["x", "x"]


def test_canonical_op_names() -> None:
    """op uses the shared vocabulary and opcode keeps the HLO spelling."""
    g = load("jax_mlp.hlo.txt", stage="hlo")
    ops = {d["opcode"]: d["op"] for _, d in g.nodes(data=True)}
    assert ops["dot"] == "dot" and ops["broadcast"] == "broadcast" and ops["reduce"] == "reduce"
    assert {d["dialect"] for _, d in g.nodes(data=True)} == {"hlo"}


def test_entry_without_entry_keyword_is_the_last_computation() -> None:
    """Without ENTRY, XLA takes the last computation as the entry; so do we."""
    g = validate(
        parse_hlo_text(
            "HloModule m\nc1 {\n p = f32[] parameter(0)\n}\nc2 {\n q = s32[] parameter(0)\n}\n"
        )
    )
    assert g.graph["entry"] == "c2"
    assert g.graph["computations"]["c2"]["root"] == "c2/q"  # no ROOT: the last instruction
    assert g.nodes["c2/q"]["is_root"]


BAD = [
    (
        "HloModule m\nENTRY e {\n  p = f32[] parameter(0)\n",
        3,
        "closing computation 'e', found the end of the text",
    ),
    ("HloModule m\nENTRY e {\n  ROOT a = f32[] add(p, p)\n}\n", 3, "'p'"),
    ("HloModule m\nENTRY e {\n  p = f32[] parameter(0)\n  p = f32[] parameter(1)\n}\n", 4, "twice"),
    ("HloModule m\nENTRY e {\n  p = f32[2 parameter(0)\n}\n", 3, "expected a type"),
    (
        "HloModule m\nENTRY e {\n  p = q99[2] parameter(0)\n}\n",
        3,
        "expected a primitive type",
    ),
    (
        "HloModule m\nENTRY e {\n  p = f32[2] parameter(0)\n  ROOT r = f32[] reduce(p, p), to_apply=nope\n}\n",
        4,
        "nope",
    ),
    (
        'HloModule m\nENTRY e {\n  p = f32[] parameter(0), metadata={op_name="x"\n}\n',
        4,
        "found the end of the text",
    ),
    ("HloModule m\nENTRY e {\n  p = (f32[], s32[] parameter(0)\n}\n", 3, "unbalanced"),
    (
        "HloModule m\nENTRY e {\n  a = f32[] add(b, b)\n  b = f32[] parameter(0)\n}\n",
        3,
        "before its definition",
    ),
    ("HloModule m\nENTRY e {\n  p = f32[] parameter(x)\n}\n", 3, "parameter number"),
    ("HloModule m\nENTRY e {\n  p = f32[] parameter(1)\n}\n", 2, "parameters [1]"),
    ("HloModule m\nthis is not hlo\n", 2, "expected"),
    ("HloModule m\n", 1, "expected a computation"),
    ("", 1, "not HLO"),
]


@pytest.mark.parametrize("text,line,words", BAD)
def test_malformed_text_raises_parse_error_with_location(text: str, line: int, words: str) -> None:
    """Malformed text raises ParseError carrying line, column and the offending snippet."""
    with pytest.raises(ParseError) as info:
        parse_hlo_text(text, source="bad.hlo")
    err = info.value
    assert err.line == line, str(err)
    assert words in str(err)
    assert str(err).startswith(f"bad.hlo:{line}:")
    assert err.column is not None and err.column >= 1
    if line <= len(text.splitlines()):
        assert err.snippet == text.splitlines()[line - 1].rstrip() or err.snippet in text


def test_long_line_error_snippet_shows_the_column() -> None:
    """On a very long line the snippet is a window around the error, not the line's start."""
    ops = ", ".join(f"%p{i}" for i in range(200))
    text = f"HloModule m\nENTRY e {{\n  %p0 = f32[] parameter(0)\n  ROOT %t = (f32[]) tuple({ops})\n}}\n"
    with pytest.raises(ParseError) as info:
        parse_hlo_text(text)
    err = info.value
    assert "'p1'" in str(err) and len(err.snippet) <= 200
    assert err.snippet[err.column - 1 : err.column + 1] == "p1"


def test_bytes_and_bad_stage_are_rejected() -> None:
    """Bytes are a ParseError (decode first); an unknown stage is a UsageError."""
    from xlalens._errors import UsageError

    with pytest.raises(ParseError, match="decode"):
        parse_hlo_text(b"HloModule m")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="stage"):
        parse_hlo_text("HloModule m", stage="optimised")


def test_proto_reader_matches_the_text_reader() -> None:
    """HloModuleProto bytes read through jaxlib give the same nodes and edges as the text."""
    from jax._src.lib import hlo

    from xlalens.ir._hlo_proto import parse_hlo_proto

    text = (DATA / "jax_mlp.optimized_hlo.txt").read_text()
    data = hlo.hlo_module_from_text(text).as_serialized_hlo_module_proto()
    g = validate(parse_hlo_proto(data, stage="optimized_hlo"))
    ref = parse_hlo_text(text, stage="optimized_hlo")
    assert sorted(g.nodes) == sorted(ref.nodes)
    assert sorted(g.edges(keys=True)) == sorted(ref.edges(keys=True))
    with pytest.raises(ParseError, match="HloModuleProto"):
        parse_hlo_proto(b"\x00not a proto")


def test_collectives_async_and_sort_computations() -> None:
    """all-reduce/sort/reduce-window/select-and-scatter reducers, async wrappers, execution_thread."""
    g = load("collectives_async.hlo.txt")
    comps = g.graph["computations"]
    assert comps["sum"]["kind"] == "reducer"
    assert comps["sum"]["callers"] == ["main/ar", "main/rw", "main/sas"]
    assert comps["ge"]["kind"] == "reducer" and comps["less"]["kind"] == "reducer"
    assert comps["wrapped_negate_computation"]["kind"] == "other"
    assert g.nodes["main/sas"]["calls"] == ("ge", "sum")
    assert g.nodes["main/ar"]["attrs"]["replica_groups"] == "{{0}}"
    assert g.nodes["main/ar"]["attrs"]["use_global_device_ids"] is True
    assert g.nodes["main/start"]["attrs"]["tuple_types"] == ["(f32[8]{0})", "f32[8]{0}", "s32[]"]
    assert g.nodes["wrapped_negate_computation/negate"]["fusion"] == "main/start"
    assert g.nodes["ge/cmp"]["fusion"] == "main/sas"
    assert g.graph["attrs"]["num_partitions"] == 1


def test_load_detects_a_serialized_proto(tmp_path) -> None:
    """xlalens.load reads HloModuleProto bytes (e.g. a .pb file) like the text they print as."""
    from jax._src.lib import hlo

    from xlalens.ir import load

    text = (DATA / "jax_regression.optimized_hlo.txt").read_text()
    path = tmp_path / "step.pb"
    path.write_bytes(hlo.hlo_module_from_text(text).as_serialized_hlo_module_proto())
    g = validate(load(path))
    assert g.graph["format"] == "hlo"
    assert sorted(d["opcode"] for _, d in g.nodes(data=True)) == sorted(
        d["opcode"] for _, d in load(text).nodes(data=True)
    )
    with pytest.raises(ParseError, match="neither MLIR bytecode nor a serialized HloModuleProto"):
        load(b"\xff\xfe\x00garbage\x80")
