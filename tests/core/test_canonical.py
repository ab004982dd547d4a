"""The canonical level (xlalens/ir/_canonical.py): one test per rule, plus whole-graph checks."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from xlalens import UsageError
from xlalens.ir import load, normalize, parse_hlo_text, parse_stablehlo, validate

DATA = Path(__file__).parent / "data"
DUMPS = DATA / "dumps"


def _module(
    body: str, args: str = "%arg0: tensor<2x3xf32>", results: str = "tensor<2x3xf32>"
) -> str:
    return f"module @m {{\n  func.func public @main({args}) -> ({results}) {{\n{body}\n  }}\n}}\n"


def _canon(text: str, **kw):
    raw = validate(
        parse_stablehlo(text) if text.lstrip().startswith("module") else parse_hlo_text(text)
    )
    canon = validate(normalize(raw, "canonical", **kw))
    assert canon.graph["level"] == "canonical"
    return raw, canon


def _operands(g, nid):
    return [u for u, _, _ in sorted(g.in_edges(nid, keys=True), key=lambda e: e[2])]


def _ops(g, comp="main"):
    return [d["op"] for _, d in g.nodes(data=True) if d["computation"] == comp]


def test_drop_noops_rewires_users_to_the_operand():
    """Same-shape reshape, same-dtype convert and identity transpose go; real ones stay."""
    text = _module(
        """    %0 = stablehlo.reshape %arg0 : (tensor<2x3xf32>) -> tensor<2x3xf32>
    %1 = stablehlo.convert %0 : (tensor<2x3xf32>) -> tensor<2x3xf32>
    %2 = stablehlo.transpose %1, dims = [0, 1] : (tensor<2x3xf32>) -> tensor<2x3xf32>
    %3 = stablehlo.transpose %2, dims = [1, 0] : (tensor<2x3xf32>) -> tensor<3x2xf32>
    %4 = stablehlo.convert %3 : (tensor<3x2xf32>) -> tensor<3x2xbf16>
    %5 = stablehlo.reshape %4 : (tensor<3x2xbf16>) -> tensor<6xbf16>
    return %2, %5 : tensor<2x3xf32>, tensor<6xbf16>""",
        results="tensor<2x3xf32>, tensor<6xbf16>",
    )
    raw, canon = _canon(text)
    assert _ops(raw) == [
        "parameter",
        "reshape",
        "convert",
        "transpose",
        "transpose",
        "convert",
        "reshape",
        "return",
    ]
    assert _ops(canon) == ["parameter", "transpose", "convert", "reshape", "return"]
    assert _operands(canon, "main/v3") == ["main/arg0"]  # the real transpose reads the parameter
    assert _operands(canon, "main/v6") == ["main/arg0", "main/v5"]  # so does the return
    assert canon.graph["attrs"]["canonical"]["drop_reshape"] == 1


def test_drop_noop_root_hands_root_to_operand():
    """In HLO, a no-op ROOT copy is dropped and its operand becomes the root."""
    text = (
        "HloModule m\n\nENTRY e {\n  p = f32[4]{0} parameter(0)\n  n = f32[4]{0} negate(p)\n"
        "  ROOT c = f32[4]{0} copy(n)\n}\n"
    )
    raw, canon = _canon(text)
    entry = canon.graph["entry"]
    assert raw.graph["computations"][entry]["root"].endswith("/c")
    root = canon.graph["computations"][entry]["root"]
    assert root.endswith("/n") and canon.nodes[root]["is_root"]
    assert not any(d["op"] == "copy" for _, d in canon.nodes(data=True))


def test_fold_scalar_constant_arithmetic():
    """divide(1, 4) and a chain mul(2, 3) + 1 fold to constants; non-scalars are left alone."""
    text = _module(
        """    %c1 = stablehlo.constant dense<1.0> : tensor<f32>
    %c4 = stablehlo.constant dense<4.0> : tensor<f32>
    %0 = stablehlo.divide %c1, %c4 : tensor<f32>
    %i2 = stablehlo.constant dense<2> : tensor<i32>
    %i3 = stablehlo.constant dense<-7> : tensor<i32>
    %1 = stablehlo.multiply %i2, %i3 : tensor<i32>
    %2 = stablehlo.divide %1, %i2 : tensor<i32>
    %v = stablehlo.constant dense<2.0> : tensor<3xf32>
    %3 = stablehlo.add %v, %v : tensor<3xf32>
    return %0, %2, %3 : tensor<f32>, tensor<i32>, tensor<3xf32>""",
        args="",
        results="tensor<f32>, tensor<i32>, tensor<3xf32>",
    )
    raw, canon = _canon(text)
    q = canon.nodes["main/v2"]
    assert q["op"] == "constant" and q["attrs"] == {"literal": 0.25, "folded_from": "divide"}
    assert canon.nodes["main/v6"]["attrs"]["literal"] == -7  # -14 / 2, truncating
    assert canon.nodes["main/v8"]["op"] == "add"  # a tensor add is not folded
    assert "main/v0" not in canon and "main/v1" not in canon  # dead constants removed
    assert _operands(canon, "main/v9")[:2] == ["main/v2", "main/v6"]
    assert raw.nodes["main/v2"]["op"] == "divide"  # the raw graph is untouched


def test_fold_rounds_to_the_node_dtype():
    """A folded f32 result is rounded as f32 (1/3 is not the f64 value)."""
    text = _module(
        """    %a = stablehlo.constant dense<1.0> : tensor<f32>
    %b = stablehlo.constant dense<3.0> : tensor<f32>
    %0 = stablehlo.divide %a, %b : tensor<f32>
    return %0 : tensor<f32>""",
        args="",
        results="tensor<f32>",
    )
    import numpy as np

    _, canon = _canon(text)
    assert canon.nodes["main/v2"]["attrs"]["literal"] == float(np.float32(1) / np.float32(3))


def test_order_commutative_operands():
    """add(dot, broadcast) and add(broadcast, dot) end up with the same operand order."""

    def text(swap: bool) -> str:
        ops = "%1, %0" if swap else "%0, %1"
        return _module(
            f"""    %0 = stablehlo.dot_general %arg0, %arg1, contracting_dims = [1] x [0] : (tensor<2x3xf32>, tensor<3x2xf32>) -> tensor<2x2xf32>
    %1 = stablehlo.broadcast_in_dim %arg2, dims = [1] : (tensor<2xf32>) -> tensor<2x2xf32>
    %2 = stablehlo.add {ops} : tensor<2x2xf32>
    %3 = stablehlo.subtract %1, %0 : tensor<2x2xf32>
    return %2, %3 : tensor<2x2xf32>, tensor<2x2xf32>""",
            args="%arg0: tensor<2x3xf32>, %arg1: tensor<3x2xf32>, %arg2: tensor<2xf32>",
            results="tensor<2x2xf32>, tensor<2x2xf32>",
        )

    _, a = _canon(text(False))
    _, b = _canon(text(True))
    assert _operands(a, "main/v2") == _operands(b, "main/v2") == ["main/v1", "main/v0"]
    assert _operands(a, "main/v3") == ["main/v1", "main/v0"]  # subtract is not reordered
    assert [a.nodes[u]["op"] for u in _operands(a, "main/v2")] == ["broadcast", "dot"]
    edge_keys = [k for _, _, k in a.in_edges("main/v2", keys=True)]
    assert sorted(edge_keys) == [0, 1]


def test_summarize_reducers_removes_trivial_reducer_computations():
    """reduce applying add gets attrs['reducer']='add' and its region goes; argmax's stays."""
    import jax
    import jax.numpy as jnp

    text = jax.jit(lambda x: (jnp.sum(x), jnp.max(x), jnp.argmax(x))).lower(jnp.ones(8)).as_text()
    raw, canon = _canon(text)
    reducers = {d["attrs"].get("reducer") for _, d in canon.nodes(data=True) if d["op"] == "reduce"}
    assert {"add", "maximum"} <= reducers
    assert None in reducers  # argmax's variadic comparator reducer is kept as a computation
    kept = [n for n, d in canon.nodes(data=True) if d["op"] == "reduce" and d["calls"]]
    assert len(kept) == 1
    raw_kinds = Counter(c["kind"] for c in raw.graph["computations"].values())
    canon_kinds = Counter(c["kind"] for c in canon.graph["computations"].values())
    assert canon_kinds["reducer"] == 1 < raw_kinds["reducer"]


def test_summarize_shared_hlo_reducer():
    """An HLO to_apply computation shared by two reduces is summarized on both and removed."""
    text = (
        "HloModule m\n\nadd_f32 {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n"
        "  ROOT s = f32[] add(a, b)\n}\n\nENTRY e {\n  p = f32[4,4]{1,0} parameter(0)\n"
        "  z = f32[] constant(0)\n  r0 = f32[4]{0} reduce(p, z), dimensions={0}, to_apply=add_f32\n"
        "  r1 = f32[4]{0} reduce(p, z), dimensions={1}, to_apply=add_f32\n"
        "  ROOT t = (f32[4]{0}, f32[4]{0}) tuple(r0, r1)\n}\n"
    )
    raw, canon = _canon(text)
    assert "add_f32" in raw.graph["computations"] and "add_f32" not in canon.graph["computations"]
    reduces = [d for _, d in canon.nodes(data=True) if d["op"] == "reduce"]
    assert [d["attrs"]["reducer"] for d in reduces] == ["add", "add"]
    assert all(d["calls"] == () for d in reduces)


def test_roles_from_signature():
    """signature inputs name parameters by index; outputs name the producers of results."""
    text = _module(
        """    %0 = stablehlo.multiply %arg0, %arg1 : tensor<f32>
    %1 = stablehlo.subtract %arg0, %0 : tensor<f32>
    return %1, %0 : tensor<f32>, tensor<f32>""",
        args="%arg0: tensor<f32>, %arg1: tensor<f32>",
        results="tensor<f32>, tensor<f32>",
    )
    sig = {"inputs": [{"role": "w"}, {"role": "lr"}], "outputs": [{"role": "w"}, {"role": "loss"}]}
    raw, canon = _canon(text, signature=sig)
    roles = {n: d["role"] for n, d in canon.nodes(data=True) if d["role"]}
    assert roles == {"main/arg0": "w", "main/arg1": "lr", "main/v1": "w", "main/v0": "loss"}
    assert all(d["role"] is None for _, d in raw.nodes(data=True))
    # a signature that does not fit is not applied, and says so
    _, bad = _canon(text, signature={"inputs": [{"role": "w"}], "outputs": []})
    assert all(d["role"] is None for _, d in bad.nodes(data=True))
    assert "parameter roles not assigned" in bad.graph["attrs"]["canonical_notes"][0]


def test_normalize_levels_and_errors():
    """raw->raw is the identity, canonical->raw is refused, unknown levels are refused."""
    g = parse_stablehlo(_module("    return %arg0 : tensor<2x3xf32>"))
    assert normalize(g, "raw") is g
    canon = normalize(g)
    with pytest.raises(UsageError):
        normalize(canon, "raw")
    with pytest.raises(UsageError):
        normalize(g, "fancy")


def _hist(g):
    return Counter(d["op"] for _, d in g.nodes(data=True) if d["computation"] == g.graph["entry"])


@pytest.mark.skipif(
    not (DUMPS / "regression" / "manifest.json").exists(), reason="no regression dump"
)
def test_canonical_brings_frameworks_closer():
    """On the real regression dump, canonical graphs of TensorFlow and JAX differ less than raw ones."""

    def distance(level: str) -> int:
        a = _hist(load(f"{DUMPS / 'regression'}:jax:stablehlo", level))
        b = _hist(load(f"{DUMPS / 'regression'}:tensorflow:stablehlo", level))
        return sum(((a - b) + (b - a)).values())

    assert distance("canonical") < distance("raw")


@pytest.mark.skipif(not (DUMPS / "mlp" / "manifest.json").exists(), reason="no mlp dump")
@pytest.mark.parametrize("artifact", ["stablehlo", "hlo", "optimized_hlo"])
def test_every_dump_graph_validates_at_canonical(artifact):
    """Every frontend's artifact of the mlp dump is valid at the canonical level, with roles."""
    import json

    manifest = json.loads((DUMPS / "mlp" / "manifest.json").read_text())
    for fe, info in manifest["frontends"].items():
        if info["status"] != "ok":
            continue
        g = validate(load(f"{DUMPS / 'mlp'}:{fe}:{artifact}", "canonical"))
        roles = {d["role"] for _, d in g.nodes(data=True)}
        assert {"w0", "b0", "x", "y"} <= roles, fe


def test_load_canonical_checks_what_the_rules_touched():
    """load(level='canonical') equals normalize of the parse and passes the full rule-by-rule check."""
    from xlalens.ir._validate import _validate_full

    for path in sorted((DATA / "hlo").glob("*.txt")):
        text = path.read_text()
        got = load(text, level="canonical")
        _validate_full(got)
        want = normalize(load(text, level="raw"), "canonical")
        assert list(got.nodes(data=True)) == list(want.nodes(data=True)), path.name
        assert list(got.edges(keys=True, data=True)) == list(want.edges(keys=True, data=True))


def test_validate_touched_names_a_broken_touched_node():
    """A rule that left a touched node broken is reported by name, as validate() would."""
    from xlalens.ir._schema import SchemaError
    from xlalens.ir._validate import validate_touched

    text = (DATA / "hlo" / "jax_mlp.hlo.txt").read_text()
    touched: set[str] = set()
    g = normalize(parse_hlo_text(text), "canonical", copy=False, touched=touched)
    assert touched and validate_touched(g, touched) is g
    nid = sorted(touched)[0]
    g.nodes[nid]["attrs"]["bad"] = {1, 2}
    with pytest.raises(SchemaError, match=nid):
        validate_touched(g, touched)
