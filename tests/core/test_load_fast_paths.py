"""load()'s shortcuts (issue 23r) give what the long way gives: the canonical rules' walks done
while lowering, the scheduled-header sniff, the signature's fast path."""

from __future__ import annotations

import lzma
import time
from pathlib import Path

import networkx as nx

from xlalens.ir import load, normalize
from xlalens.ir._load import _hlo_stage

DATA = Path(__file__).parent / "data"


def _layout(g: nx.MultiDiGraph) -> tuple:
    """Everything a graph holds: nodes in order, and each edge with its record.

    Adjacency order aside: a canonical load leaves each user among its producer's
    successors in program order and its own operands in operand order, where the
    rules, run on a whole graph, append the producers they rewire (NOTE [no-ops
    dropped while lowering] in xlalens.ir.hlo._lower). :func:`_in_program_order` checks
    the load's order.
    """
    return (
        sorted(g.graph.items(), key=lambda kv: kv[0]),
        list(g._node.items()),
        sorted(
            (u, v, k, list(d.items()))
            for u, nbrs in g._succ.items()
            for v, kd in nbrs.items()
            for k, d in kd.items()
        ),
        [(v, sorted((u, sorted(kd)) for u, kd in nbrs.items())) for v, nbrs in g._pred.items()],
    )


def _in_program_order(g: nx.MultiDiGraph) -> None:
    """Each node's successors come in node order, its producers in operand order."""
    position = {n: i for i, n in enumerate(g._node)}
    for u, nbrs in g._succ.items():
        assert [position[v] for v in nbrs] == sorted(position[v] for v in nbrs), u
    for v, nbrs in g._pred.items():
        first = [min(kd) for kd in nbrs.values()]
        assert first == sorted(first), v


def test_canonical_load_equals_normalize_of_raw():
    """A canonical load (rules fed by the reader's lists) equals normalize() of the raw graph."""
    for name in ("keras_tf_mobilenetv2.hlo.txt.xz", "torch_xla_transformer.optimized_hlo.txt.xz"):
        text = lzma.decompress((DATA / "real" / name).read_bytes()).decode()
        fast = load(text, level="canonical")
        slow = normalize(load(text, level="raw"), "canonical", copy=True)
        stats = fast.graph["attrs"]["canonical"]
        assert stats.get("order_commutative") and (
            stats.get("summarize_reducer") or stats.get("drop_convert")
        ), stats  # the rules did work on this module
        assert _layout(fast) == _layout(slow), name
        if "optimized" not in name:  # (there the rule drops bitcasts, as before)
            _in_program_order(fast)


def test_scheduled_sniff_reads_long_headers_in_linear_time():
    """is_scheduled=true is found after a long header, and a long header without it is quick."""

    def header(n: int) -> str:
        alias = ", ".join(f"{{{i}}}: ({i}, {{}}, may-alias)" for i in range(n))
        return f"HloModule a_very_long_name_{'x' * 100}, input_output_alias={{ {alias} }}"

    body = "\n\nENTRY e {\n  ROOT p = f32[] parameter(0)\n}\n"
    # (The sniff reads the first 4 KB; the reader's own header parse decides past them.)
    assert _hlo_stage(header(100) + ", is_scheduled=true" + body, None) == "optimized_hlo"
    assert _hlo_stage("HloModule a,is_scheduled=true" + body, None) == "optimized_hlo"
    long = header(400) + body
    t0 = time.process_time()
    for _ in range(20):
        assert _hlo_stage(long, None) == "unknown"
    # The quadratic pattern took about 11 ms a call on such a header; linear, 0.1 ms.
    assert time.process_time() - t0 < 0.1


def test_signature_result_with_layout():
    """A signature whose result carries a layout reads like one the shape rule reads."""
    text = (
        "HloModule m, is_scheduled=true\n\n"
        "%f (p: f32[2,3]) -> f32[2,3]{1,0} {\n  ROOT %p = f32[2,3]{1,0} parameter(0)\n}\n\n"
        "%g (p: f32[2]) -> f32[2]{0:T(128)} {\n  ROOT %p = f32[2]{0} parameter(0)\n}\n\n"
        "ENTRY %e (x: f32[2,3]) -> f32[2,3]{1,0} {\n  %x = f32[2,3]{1,0} parameter(0)\n"
        "  ROOT %c = f32[2,3]{1,0} call(%x), to_apply=%f\n}\n"
    )
    g = load(text)
    assert g.nodes["e/c"]["calls"] == ("f",)
    assert set(g.graph["computations"]) == {"f", "g", "e"}


# Each case of NOTE [candidates that cannot change] (xlalens.ir._canonical_scan): a fold
# of a fold (a2) that turns an operand into a constant and so reorders its user (m1), a dropped
# no-op that merges two operands into one (m2), a chain of no-ops (r2), a no-op
# whose dtype differs (kept), compare EQ (sorted) and GT (left as written); m0 and e are
# swapped while lowering (NOTE [swaps made while lowering]) and share %b with m1, which is
# swapped by the rule; %b's successors stay in program order through both (NOTE
# [successors in program order] in xlalens.ir._canonical).
_RULE_CASES = """HloModule cases
ENTRY %main (p: f32[], q: f32[4]) -> (f32[], f32[], f32[4], pred[], pred[], bf16[4]) {
  %p = f32[] parameter(0)
  %q = f32[4] parameter(1)
  %c1 = f32[] constant(2)
  %c2 = f32[] constant(3)
  %a = f32[] add(%c1, %c2)
  %b = f32[] broadcast(%p), dimensions={}
  %n0 = f32[] negate(%p)
  %m0 = f32[] multiply(%n0, %b)
  %a2 = f32[] subtract(%a, %c1)
  %m1 = f32[] multiply(%a2, %b)
  %r = f32[4] reshape(%q)
  %r2 = f32[4] reshape(%r)
  %m2 = f32[4] add(%r2, %q)
  %n = f32[] negate(%p)
  %e = pred[] compare(%n, %b), direction=EQ
  %gt = pred[] compare(%n, %b), direction=GT
  %cv = bf16[4] convert(%m2)
  %m3 = f32[] maximum(%b, %n)
  ROOT %t = (f32[], f32[], f32[4], pred[], pred[], bf16[4]) tuple(%m1, %m3, %m2, %e, %gt, %cv)
}
"""


def test_rule_candidates_left_out_while_lowering():
    """The reader leaves out only nodes the rules would not change: same graph as normalize()."""
    fast = load(_RULE_CASES, level="canonical")
    slow = normalize(load(_RULE_CASES, level="raw"), "canonical", copy=True)
    assert _layout(fast) == _layout(slow)
    _in_program_order(fast)
    ops = {n: [fast._node[u]["op"] for u in fast._pred[n]] for n in fast._node}
    assert ops["main/m1"] == ["broadcast", "constant"]  # swapped after the fold
    assert ops["main/m2"] == ["parameter"]  # both operands are %q once the reshapes go
    assert ops["main/e"] == ["broadcast", "negate"] and ops["main/gt"] == ["negate", "broadcast"]
    assert ops["main/m3"] == ["broadcast", "negate"]  # in order already
    assert ops["main/m0"] == ["broadcast", "negate"]
    assert list(fast._succ["main/b"]) == ["main/m0", "main/m1", "main/e", "main/gt", "main/m3"]
    assert "main/cv" in fast._node and "main/r" not in fast._node
    assert fast._node["main/a2"]["attrs"]["literal"] == 3.0  # (2 + 3) - 2


# NOTE [candidates that cannot change], same-op operands outside the entry: the reader
# decides by dtype, shape and parameter number (%m in order, %x a tie, both kept), but
# leaves to the rule add(p1, p0) (%a, swapped there; %sum, a reducer removed first) and
# constants (%k: the literal decides).
_TIES = """HloModule ties
%sum (a: f32[], b: f32[]) -> f32[] {
  %a = f32[] parameter(0)
  %b = f32[] parameter(1)
  ROOT %s = f32[] add(%b, %a)
}
%fused (p0: f32[4], p1: f32[4]) -> (f32[4], f32[4], f32[4], f32[2]) {
  %p0 = f32[4] parameter(0)
  %p1 = f32[4] parameter(1)
  %a = f32[4] add(%p1, %p0)
  %m = f32[4] multiply(%p0, %p1)
  %n1 = f32[4] negate(%p1)
  %n0 = f32[4] negate(%p0)
  %x = f32[4] maximum(%n1, %n0)
  %c3 = f32[2] constant({3, 3})
  %c2 = f32[2] constant({2, 2})
  %k = f32[2] add(%c3, %c2)
  ROOT %t = (f32[4], f32[4], f32[4], f32[2]) tuple(%a, %m, %x, %k)
}
ENTRY %main (x: f32[4], y: f32[4]) -> (f32[], (f32[4], f32[4], f32[4], f32[2])) {
  %x = f32[4] parameter(0)
  %y = f32[4] parameter(1)
  %z = f32[] constant(0)
  %r = f32[] reduce(%x, %z), dimensions={0}, to_apply=%sum
  %f = (f32[4], f32[4], f32[4], f32[2]) fusion(%y, %x), kind=kLoop, calls=%fused
  ROOT %t = (f32[], (f32[4], f32[4], f32[4], f32[2])) tuple(%r, %f)
}
"""


def test_same_op_ties_decided_outside_the_entry():
    """Same-op operands outside the entry: the reader's decisions give normalize()'s graph."""
    for stage in ("hlo", "optimized_hlo"):
        fast = load(_TIES, level="canonical", stage=stage)
        slow = normalize(load(_TIES, level="raw", stage=stage), "canonical", copy=True)
        assert _layout(fast) == _layout(slow), stage
        _in_program_order(fast)
        srcs = {n: list(fast._pred[f"fused/{n}"]) for n in ("a", "m", "x", "k")}
        assert srcs == {
            "a": ["fused/p0", "fused/p1"],  # swapped by the rule
            "m": ["fused/p0", "fused/p1"],
            "x": ["fused/n1", "fused/n0"],  # a tie, as written
            "k": ["fused/c2", "fused/c3"],  # swapped by the rule, on the literals
        }
        stats = fast.graph["attrs"]["canonical"]
        assert stats["order_commutative"] == 2 and stats["summarize_reducer"] == 1, stats
        assert fast._node["main/r"]["attrs"]["reducer"] == "add"


# NOTE [reducers summarized while lowering]: %sum (summarized by the reader), %rsub
# (p1 - p0: not a plain reducer), %conv (four nodes: the rule decides, after the
# identity convert is dropped).
_REDUCERS = """HloModule reducers
%sum (a: f32[], b: f32[]) -> f32[] {
  %a = f32[] parameter(0)
  %b = f32[] parameter(1)
  ROOT %s = f32[] add(%a, %b)
}
%rsub (a: f32[], b: f32[]) -> f32[] {
  %a = f32[] parameter(0)
  %b = f32[] parameter(1)
  ROOT %s = f32[] subtract(%b, %a)
}
%conv (a: f32[], b: f32[]) -> f32[] {
  %a = f32[] parameter(0)
  %b = f32[] parameter(1)
  %c = f32[] convert(%b)
  ROOT %m = f32[] maximum(%a, %c)
}
ENTRY %main (x: f32[8]) -> (f32[], f32[], f32[]) {
  %x = f32[8] parameter(0)
  %z = f32[] constant(0)
  %r1 = f32[] reduce(%x, %z), dimensions={0}, to_apply=%sum
  %r2 = f32[] reduce(%x, %z), dimensions={0}, to_apply=%rsub
  %r3 = f32[] reduce(%x, %z), dimensions={0}, to_apply=%conv
  ROOT %t = (f32[], f32[], f32[]) tuple(%r1, %r2, %r3)
}
"""


def test_reducers_summarized_while_lowering():
    """Reducers the reader summarizes, and those it leaves to the rule, match normalize()."""
    fast = load(_REDUCERS, level="canonical")
    slow = normalize(load(_REDUCERS, level="raw"), "canonical", copy=True)
    assert _layout(fast) == _layout(slow)
    attrs = {n: fast._node[f"main/{n}"]["attrs"].get("reducer") for n in ("r1", "r2", "r3")}
    assert attrs == {"r1": "add", "r2": None, "r3": "maximum"}
    assert set(fast.graph["computations"]) == {"main", "rsub"}


# NOTE [no-ops dropped while lowering]: a ROOT no-op (%f), a last instruction that is one
# without ROOT (%g), a chain into a tuple (%r1, %r2), one with a sharding (left to the rule,
# which drops it too) and one whose layout differs (kept).
_NOOP_ROOTS = """HloModule noop_roots
%f (a: f32[2,2]) -> f32[2,2] {
  %a = f32[2,2]{1,0} parameter(0)
  ROOT %c = f32[2,2]{1,0} copy(%a)
}
%g (a: f32[2,2]) -> f32[2,2] {
  %a = f32[2,2]{1,0} parameter(0)
  %n = f32[2,2]{1,0} negate(%a)
  %r = f32[2,2]{1,0} reshape(%n)
}
ENTRY %main (x: f32[2,2]) -> (f32[2,2], f32[2,2], f32[2,2], f32[2,2]) {
  %x = f32[2,2]{1,0} parameter(0)
  %s = f32[2,2]{1,0} copy(%x), sharding={replicated}
  %l = f32[2,2]{0,1} copy(%s)
  %r1 = f32[2,2]{1,0} reshape(%s)
  %r2 = f32[2,2]{1,0} reshape(%r1)
  %k1 = f32[2,2]{1,0} call(%r2), to_apply=%f
  %k2 = f32[2,2]{1,0} call(%r1), to_apply=%g
  ROOT %t = (f32[2,2], f32[2,2], f32[2,2], f32[2,2]) tuple(%r2, %k1, %k2, %l)
}
"""


def test_noops_dropped_while_lowering_keep_roots():
    """No-ops the reader leaves out hand their root to their operand, as drop_noops does."""
    fast = load(_NOOP_ROOTS, level="canonical")
    slow = normalize(load(_NOOP_ROOTS, level="raw"), "canonical", copy=True)
    assert _layout(fast) == _layout(slow)
    comps = fast.graph["computations"]
    assert comps["f"]["root"] == "f/a" and fast._node["f/a"]["is_root"]
    assert comps["g"]["root"] == "g/n" and fast._node["g/n"]["is_root"]
    assert {"main/s", "main/r1", "main/r2", "f/c", "g/r"}.isdisjoint(fast._node)
    assert "main/l" in fast._node  # {0,1} is not the layout of %x
    # %s is the rule's: it appends %x to its users' producers (%r1 and %r2 were %s there).
    assert list(fast._pred["main/t"]) == ["main/k1", "main/k2", "main/l", "main/x"]
    _in_program_order(load(_NOOP_ROOTS.replace(", sharding={replicated}", ""), level="canonical"))
    assert fast.graph["attrs"]["canonical"] == {"drop_copy": 2, "drop_reshape": 3}


def test_real_modules_loads_pass_the_full_check():
    """Raw and canonical loads of the real modules keep every rule, computation records included."""
    from _real import real_files, real_text

    from xlalens.ir._validate import _validate_full

    # NOTE [computation records by construction] (xlalens.ir._validate): load()
    # checks the graph fields and the entry of these graphs, and the records here.
    for file, _n in real_files():
        text = real_text(file)
        for level in ("raw", "canonical"):
            g = load(text, level=level)
            assert _validate_full(g) is g, (file, level)
