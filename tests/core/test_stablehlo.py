"""The StableHLO reader (xlalens/ir/_stablehlo.py) against MLIR's own view of each module."""

from __future__ import annotations

import glob
import io
from pathlib import Path

import pytest

from xlalens import ParseError
from xlalens.ir import load, parse_stablehlo, validate
from xlalens.ir._stablehlo import graph_walk_summary, mlir_walk_summary

DATA = Path(__file__).parent / "data"
CONTROL_FLOW = DATA / "stablehlo" / "control_flow.mlir"
FEATURES = DATA / "stablehlo" / "features.mlir"
DUMP_MLIR = sorted(glob.glob(str(DATA / "dumps" / "*" / "*" / "stablehlo.mlir")))


def _jax_text(fn, *args, **kw) -> str:
    import jax

    return jax.jit(fn).lower(*args).as_text(**kw)


@pytest.mark.parametrize(
    "path", [CONTROL_FLOW, FEATURES, *map(Path, DUMP_MLIR)], ids=lambda p: "/".join(p.parts[-3:])
)
def test_op_count_and_def_use_edges_equal_mlir_walk(path):
    """Every module's op count and def-use edges equal a walk of the MLIR module itself."""
    text = path.read_text()
    graph = validate(parse_stablehlo(text, source=str(path)))
    count, edges = mlir_walk_summary(text)
    assert count > 0 and edges
    assert graph_walk_summary(graph) == (count, edges)


def test_real_dumps_are_present():
    """The real mlp/regression dumps' StableHLO is part of the walk check above."""
    if not DUMP_MLIR:
        pytest.skip("no checked-in dumps under tests/core/data/dumps yet")
    assert any("regression" in p or "mlp" in p for p in DUMP_MLIR)


def test_bytecode_equals_text():
    """MLIR bytecode of a module gives the same graph as its text."""
    from xlalens.ir._stablehlo import _context, parse_module

    text = CONTROL_FLOW.read_text()
    ctx = _context()
    module = parse_module(text, ctx)
    buf = io.BytesIO()
    with ctx:
        module.operation.write_bytecode(buf)
    data = buf.getvalue()
    assert data.startswith(b"ML\xefR")
    a, b = validate(load(text)), validate(load(data))
    assert list(a.nodes(data=True)) == list(b.nodes(data=True))
    assert list(a.edges(keys=True, data=True)) == list(b.edges(keys=True, data=True))


def test_portable_artifact_reads_like_text():
    """A StableHLO portable artifact (VHLO bytecode, as jax.export writes) gives the same ops and edges."""
    from jaxlib.mlir.dialects import stablehlo

    text = CONTROL_FLOW.read_text()
    data = stablehlo.serialize_portable_artifact_str(text, stablehlo.get_minimum_version())
    a, b = load(text), validate(load(data))
    assert [(n, d["opcode"], d["type"]) for n, d in a.nodes(data=True)] == [
        (n, d["opcode"], d["type"]) for n, d in b.nodes(data=True)
    ]
    assert list(a.edges(keys=True, data=True)) == list(b.edges(keys=True, data=True))
    assert graph_walk_summary(b) == mlir_walk_summary(data)


def test_regions_become_linked_computations():
    """while/case/reduce regions and func.call targets are computations reachable through calls."""
    g = validate(load(CONTROL_FLOW))
    comps = g.graph["computations"]
    assert g.graph["entry"] == "main" and comps["main"]["kind"] == "entry"
    kinds = {name: c["kind"] for name, c in comps.items()}
    assert kinds["main.v1.cond"] == "condition" and kinds["main.v1.body"] == "body"
    assert kinds["main.v17.branch0"] == kinds["main.v17.branch1"] == "branch"
    assert kinds["main.v11.reducer"] == "reducer"
    assert {kinds[f] for f in ("cumsum", "argmax", "relu")} == {"function"}
    assert g.nodes["main/v1"]["calls"] == ("main.v1.cond", "main.v1.body")
    assert g.nodes["main/v28"]["calls"] == ("cumsum",) and comps["cumsum"]["callers"] == [
        "main/v28"
    ]
    for name, comp in comps.items():
        for caller in comp["callers"]:
            assert name in g.nodes[caller]["calls"]
        assert comp["root"] is not None and g.nodes[comp["root"]]["is_root"]
        assert g.nodes[comp["root"]]["op"] == "return"
    # while body: block arguments are the parameters, by index
    body_params = comps["main.v1.body"]["params"]
    assert [g.nodes[p]["param_index"] for p in body_params] == [0, 1, 2]


def test_captures_and_multi_results():
    """Values read from an enclosing region are capture edges; multi-result edges say which result."""
    g = load(CONTROL_FLOW)
    captures = [(u, v, d) for u, v, d in g.edges(data=True) if d["kind"] == "capture"]
    # case branch 0 reads %arg0 and the while's result #2 from @main
    assert ("main/arg0", "main.v17.branch0/v18") in {(u, v) for u, v, _ in captures}
    w = g.nodes["main/v1"]
    assert w["dtype"] == "tuple" and w["attrs"]["tuple_types"] == ["f32[8]", "s32[]", "f32[8]"]
    assert w["type"] == "(f32[8], s32[], f32[8])"
    edge = g.get_edge_data("main/v1", "main/v11")[0]
    assert edge["result_index"] == 2 and edge["dtype"] == "f32" and edge["shape"] == (8,)


def test_fields_types_attributes_and_locations():
    """dtype/shape/HLO type strings, plain attributes and loc-derived source fields are filled."""
    g = load(CONTROL_FLOW)
    cmp = g.nodes["main/v15"]
    assert (cmp["op"], cmp["opcode"], cmp["dialect"]) == (
        "compare",
        "stablehlo.compare",
        "stablehlo",
    )
    assert cmp["attrs"] == {"compare_type": "FLOAT", "comparison_direction": "GT"}
    assert (cmp["dtype"], cmp["shape"], cmp["type"]) == ("pred", (), "pred[]")
    assert cmp["op_name"] == "jit(g)/gt"
    assert cmp["source_file"].endswith("gen.py") and isinstance(cmp["source_line"], int)
    rw = g.nodes["cumsum/v34"]
    assert rw["op"] == "reduce-window" and rw["attrs"]["padding"] == [[7, 0]]
    assert rw["attrs"]["window_dimensions"] == [8]
    assert g.nodes["argmax/v39"]["attrs"]["literal"] == float("-inf")
    assert g.nodes["main/arg0"]["op_name"] == "x"  # jax names arguments in loc("x")
    ret = g.nodes["main/v31"]
    assert ret["attrs"]["result_attrs"][0] == {"jax.result_info": "result[0]"}


def test_dot_general_attributes_from_jax():
    """dot_general's dimension numbers become a dict; dot and broadcast share HLO's vocabulary."""
    import jax.numpy as jnp

    text = _jax_text(
        lambda a, b: jnp.einsum("bij,bjk->bik", a, b) + 1.0,
        jnp.ones((2, 3, 4)),
        jnp.ones((2, 4, 5)),
    )
    g = validate(load(text))
    dots = [d for _, d in g.nodes(data=True) if d["op"] == "dot"]
    assert len(dots) == 1
    assert dots[0]["attrs"]["dot_dimension_numbers"] == {
        "lhs_batching_dimensions": [0],
        "rhs_batching_dimensions": [0],
        "lhs_contracting_dimensions": [2],
        "rhs_contracting_dimensions": [1],
    }
    assert dots[0]["shape"] == (2, 3, 5) and dots[0]["type"] == "f32[2,3,5]"
    assert any(d["op"] == "broadcast" for _, d in g.nodes(data=True))


def test_unusual_features_and_unknown_ops():
    """Unknown dialect ops are kept; tuples, tokens, bounded dims, bf16/complex/large constants read."""
    g = validate(load(FEATURES))
    foo = g.nodes["main/v0"]
    assert (foo["op"], foo["opcode"], foo["dialect"]) == ("bar", "foo.bar", "foo")
    assert foo["attrs"] == {"alpha": 3, "name": "x"}
    assert (foo["op_name"], foo["source_file"], foo["source_line"]) == ("jit(f)/foo", "f.py", 7)
    assert g.nodes["main/v1"]["type"] == "token[]"
    assert g.nodes["main/v2"]["attrs"]["tuple_types"] == ["f32[4]", "token[]"]
    assert g.nodes["main/arg1"]["shape"] == (-1,) and g.nodes["main/arg1"]["type"] == "f32[<=8]"
    assert g.nodes["main/arg0"]["attrs"] == {"jax.buffer_donor": True}
    assert g.nodes["main/v4"]["calls"] == ("helper",)
    assert g.graph["computations"]["helper"]["callers"] == ["main/v4"]
    assert g.nodes["main/v8"]["attrs"]["literal"] == [1.5, 2.0, -1.0, 0.5]
    assert g.nodes["main/v9"]["attrs"]["literal"] == [1.0, 2.0]  # complex: [re, im]
    assert g.nodes["main/v10"]["attrs"]["literal"] == {"splat": 1.0}
    assert g.nodes["main.v5.comparator/v6"]["computation"] == "main.v5.comparator"
    # no locations in this text: MLIR's own "-":line positions are not user source
    assert g.nodes["main/v3"]["source_file"] is None


def test_module_level_ops_and_composite_decomposition():
    """sdy.mesh is kept as module data (taking its op number); composite calls its decomposition."""
    text = """module @m {
  sdy.mesh @mesh = <["x"=1]>
  func.func public @main(%arg0: tensor<4xf32>) -> tensor<4xf32> {
    %0 = stablehlo.composite "my.op" %arg0 {decomposition = @dec} : (tensor<4xf32>) -> tensor<4xf32>
    return %0 : tensor<4xf32>
  }
  func.func private @dec(%a: tensor<4xf32>) -> tensor<4xf32> {
    %0 = stablehlo.negate %a : tensor<4xf32>
    return %0 : tensor<4xf32>
  }
}"""
    g = validate(parse_stablehlo(text))
    assert graph_walk_summary(g) == mlir_walk_summary(text)
    assert g.nodes["main/v1"]["op"] == "composite" and g.nodes["main/v1"]["calls"] == ("dec",)
    assert g.graph["computations"]["dec"]["callers"] == ["main/v1"]
    assert g.graph["attrs"]["module_ops"][0]["opcode"] == "sdy.mesh"


def test_names_are_stable():
    """The same text gives the same node ids, in program order."""
    text = CONTROL_FLOW.read_text()
    a, b = parse_stablehlo(text), parse_stablehlo(text)
    assert list(a.nodes) == list(b.nodes)
    assert [n for n in a.nodes if a.nodes[n]["op"] != "parameter"][:3] == [
        "main/v0",
        "main/v1",
        "main.v1.cond/v2",
    ]


@pytest.mark.parametrize(
    "text, where",
    [
        (
            "module {\n  func.func @f(%a: tensor<2xf32>) -> tensor<2xf32> {\n    %0 = stablehlo.add %a, %b : tensor<2xf32>\n"
            "    return %0 : tensor<2xf32>\n  }\n}\n",
            (3, 28),
        ),
        ("module {\n  func.func @f(%a: tensor<2xf32>) -> tensor<2xf32> {\n", (2, 53)),
        (
            "module {\n  func.func @f() -> () {\n    %0 = stablehlo.no_such_op : tensor<f32>\n    return\n  }\n}\n",
            (3, 10),
        ),
    ],
    ids=["undeclared-value", "truncated", "unknown-stablehlo-op"],
)
def test_bad_input_raises_parse_error_with_position(text, where):
    """Malformed MLIR raises ParseError with MLIR's line and column, never MLIRError."""
    with pytest.raises(ParseError) as info:
        parse_stablehlo(text)
    assert (info.value.line, info.value.column) == where
    assert info.value.snippet


def test_empty_and_binary_garbage_raise_parse_error():
    """Empty text and non-MLIR bytes are ParseErrors too."""
    with pytest.raises(ParseError):
        parse_stablehlo("")
    with pytest.raises(ParseError):
        parse_stablehlo(b"ML\xefR\x00garbage")


def test_large_generated_module_matches_mlir_walk():
    """A 12-layer MLP training step (about 1.6k ops) still matches MLIR's walk."""
    import jax
    import jax.numpy as jnp

    def loss(ws, x):
        for w in ws:
            x = jnp.tanh(x @ w)
        return jnp.sum(x**2)

    ws = [jnp.ones((8, 8))] * 12
    text = (
        jax.jit(lambda ws, x: jax.grad(loss)(ws, x))
        .lower(ws, jnp.ones((4, 8)))
        .as_text(debug_info=True)
    )
    g = validate(parse_stablehlo(text))
    assert graph_walk_summary(g) == mlir_walk_summary(text)
    assert g.number_of_nodes() > 100


def _mutations():
    from hypothesis import strategies as st

    lines = CONTROL_FLOW.read_text().splitlines(keepends=True)
    n = len(lines)
    return st.one_of(
        st.integers(0, sum(map(len, lines))).map(lambda i: ("truncate", i)),
        st.integers(0, n - 1).map(lambda i: ("delete", i)),
        st.integers(0, n - 1).map(lambda i: ("duplicate", i)),
        st.tuples(
            st.integers(0, n - 1),
            st.sampled_from(["%", "(", ")", "{", "}", "<", ">", ":", "x", "0", "@"]),
            st.integers(0, 200),
        ).map(lambda t: ("corrupt", t)),
    )


def _mutate(kind, arg) -> str:
    lines = CONTROL_FLOW.read_text().splitlines(keepends=True)
    if kind == "truncate":
        return "".join(lines)[:arg]
    if kind == "delete":
        return "".join(lines[:arg] + lines[arg + 1 :])
    if kind == "duplicate":
        return "".join(lines[: arg + 1] + lines[arg:])
    i, ch, col = arg
    line = lines[i]
    col = min(col, max(len(line) - 1, 0))
    lines[i] = line[:col] + ch + line[col + 1 :]
    return "".join(lines)


def test_mutated_modules_give_parse_error_or_valid_graph():
    """Truncated, deleted, duplicated or corrupted lines: only ParseError or a valid graph."""
    from hypothesis import HealthCheck, given, settings

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(_mutations())
    def check(mutation):
        text = _mutate(*mutation)
        try:
            g = parse_stablehlo(text)
        except ParseError as exc:
            assert str(exc)
            return
        validate(g)
        assert graph_walk_summary(g) == mlir_walk_summary(text)

    check()


@pytest.mark.slow
def test_20k_op_transformer_step_matches_mlir_walk():
    """The built-in transformer's step at 27 blocks (20k+ StableHLO ops) matches MLIR's walk."""
    import jax

    from xlalens.workloads import Workload

    w = Workload("transformer", depth=27, width=16, heads=2, seq=8, size=8, features=16)
    step, args = w.reference_step()
    text = jax.jit(step).lower(*args).as_text()
    g = validate(parse_stablehlo(text))
    count, edges = mlir_walk_summary(text)
    assert count >= 20_000
    assert graph_walk_summary(g) == (count, edges)


TORCH_XLA_LOCS = """\
#loc1 = loc("/site/torch/nn/functional.py":3885:0)
#loc2 = loc("/site/torch/nn/modules/loss.py":634:0)
#loc3 = loc("/work/step.py":12:0)
#loc5 = loc("mse_loss"(#loc1))
#loc6 = loc("forward"(#loc2))
#loc7 = loc("step"(#loc3))
#loc8 = loc(callsite(#loc6 at #loc7))
#loc9 = loc(callsite(#loc5 at #loc8))
module @IrToHlo.1 {
  func.func @main(%arg0: tensor<4xf32> loc(unknown)) -> tensor<f32> {
    %cst = stablehlo.constant dense<0.000000e+00> : tensor<f32> loc(#loc)
    %0 = stablehlo.reduce(%arg0 init: %cst) applies stablehlo.add across dimensions = [0] : (tensor<4xf32>, tensor<f32>) -> tensor<f32> loc(#loc10)
    return %0 : tensor<f32> loc(#loc)
  } loc(#loc)
} loc(#loc)
#loc = loc(unknown)
#loc10 = loc("aten__sum"(#loc9))
"""


def test_torch_xla_stack_locations_flatten_to_name_and_innermost_frame():
    """torch_xla's whole-stack locations become jax's "name"("file":line) form, which XLA and our reader keep."""
    from jaxlib.mlir.dialects import stablehlo

    from xlalens.ir._locations import flatten_locations
    from xlalens.ir._stablehlo import module_text

    flat = flatten_locations(TORCH_XLA_LOCS)
    assert '#loc10 = loc("aten__sum"("/site/torch/nn/functional.py":3885:0))' in flat
    assert "#loc = loc(unknown)" in flat
    # torch_xla hands over a portable artifact; module_text prints it flattened.
    data = stablehlo.serialize_portable_artifact_str(
        TORCH_XLA_LOCS, stablehlo.get_minimum_version()
    )
    node = next(d for _, d in load(module_text(data)).nodes(data=True) if d["op"] == "reduce")
    assert node["op_name"] == "aten__sum"
    assert (node["source_file"], node["source_line"]) == ("/site/torch/nn/functional.py", 3885)
    assert module_text(TORCH_XLA_LOCS.encode()) == TORCH_XLA_LOCS  # text stays as it was


def test_tensorflow_fused_locations_take_the_callers_line():
    """TF's fused[name, ops.py:1221] locations become the name and the user's line given for that op."""
    from xlalens.ir._locations import flatten_locations

    text = (
        '#loc9 = loc("/site/tensorflow/python/framework/ops.py":1221:0)\n'
        '#loc21 = loc("Mean")\n'
        '#loc22 = loc("gradient_tape/MatMul/MatMul")\n'
        "#loc40 = loc(fused[#loc21, #loc9])\n"
        "#loc42 = loc(fused[#loc22, #loc9])\n"
    )
    flat = flatten_locations(text, {"Mean": ("/u/step.py", 76)})
    assert '#loc40 = loc("Mean"("/u/step.py":76:0))' in flat
    # An op without a user line keeps the frame TF wrote.
    assert (
        '#loc42 = loc("gradient_tape/MatMul/MatMul"'
        '("/site/tensorflow/python/framework/ops.py":1221:0))' in flat
    )
