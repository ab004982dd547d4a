"""Loops priced and timed as they run: trip counts, the cost of a while, loop-body kernels."""

from __future__ import annotations

import lzma
from functools import cache
from pathlib import Path

import pytest

from xlalens.ir import parse_hlo_text
from xlalens.ir._cost import module_cost, node_bytes, node_cost
from xlalens.ir._kernels import index_hlo
from xlalens.ir._load import parse_ir
from xlalens.ir._loops import trip_count
from xlalens.ir._stats import format_stats, stats
from xlalens.timing._profile import KernelEvent, attribute

LOOPS = Path(__file__).parent / "data" / "loops"
STAGES = ("stablehlo.mlir", "hlo.txt", "optimized_hlo.txt")


@cache
def _text(name: str, stage: str) -> str:
    return lzma.decompress((LOOPS / f"{name}.{stage}.xz").read_bytes()).decode()


def _graph(name: str, stage: str):
    return parse_ir(_text(name, stage))


@pytest.mark.parametrize("stage", STAGES)
def test_scanned_step_costs_what_its_unrolled_twin_costs(stage: str) -> None:
    """A lax.scan + remat LLM step prices within 3% of its unrolled twin at every stage."""
    scan, unrolled = (
        module_cost(_graph("scan_llm", stage)),
        module_cost(_graph("unrolled_llm", stage)),
    )
    assert [n for _, n, _ in scan.loops] == [3, 3]
    want = "known_trip_count" if stage == "optimized_hlo.txt" else "induction"
    assert {src for _, _, src in scan.loops} == {want}
    assert unrolled.loops == ()
    assert scan.flops == pytest.approx(unrolled.flops, rel=0.03)
    # Counted once per body (as XLA's cost_analysis does) it reads less than half.
    assert scan.flops_once < 0.5 * scan.flops
    if stage == "optimized_hlo.txt":
        # Slices of stacked weights cost the slice, so bytes agree too.
        assert scan.bytes == pytest.approx(unrolled.bytes, rel=0.1)


@pytest.mark.parametrize("stage", STAGES)
def test_fori_loop_body_times_its_trip_count(stage: str) -> None:
    """A fori_loop of 5 steps costs 5 bodies plus 6 conditions, at every stage."""
    g = _graph("fori", stage)
    (nid,) = [n for n, d in g.nodes(data=True) if d["op"] == "while"]
    assert trip_count(g, nid).n == 5
    assert g.nodes[nid]["attrs"]["trip_count"] == 5  # written by the loader
    flops = node_cost(g, nid).flops
    matmul = 2 * 4 * 16 * 16
    assert 5 * matmul <= flops < 5 * matmul * 1.1


def test_data_dependent_loop_says_its_count_is_unknown() -> None:
    """A while_loop on data: trip count None, cost None, and stats says so."""
    for stage in STAGES:
        g = _graph("while_data", stage)
        (nid,) = [n for n, d in g.nodes(data=True) if d["op"] == "while"]
        assert trip_count(g, nid).n is None and trip_count(g, nid).source == "unknown"
        assert g.nodes[nid]["attrs"]["trip_count"] is None
        assert node_cost(g, nid).flops is None
        assert module_cost(g).unknown_loops == 1
        text = format_stats(stats(g))
        assert "trip count unknown" in text and "loops 1 (1 with an unknown trip count" in text


def test_stats_print_each_loop_with_its_count() -> None:
    """`xlalens stats` lists every while with its trip count and where it came from."""
    s = stats(_graph("scan_llm", "optimized_hlo.txt"))
    assert [lp["trip_count"] for lp in s.loops] == [3, 3]
    text = format_stats(s)
    assert "loops 2" in text and "x3 (known_trip_count)" in text


def test_induction_pattern_of_hand_written_loops() -> None:
    """Counting down, LE bounds and a constant on the left all give the right count."""
    template = """HloModule m
c {{
  p = (s32[], f32[4]) parameter(0)
  i = s32[] get-tuple-element(p), index=0
  k = s32[] constant({limit})
  ROOT t = pred[] compare({lhs}, {rhs}), direction={dir}
}}
b {{
  p = (s32[], f32[4]) parameter(0)
  i = s32[] get-tuple-element(p), index=0
  x = f32[4] get-tuple-element(p), index=1
  s = s32[] constant({step})
  n = s32[] {op}(i, s)
  y = f32[4] multiply(x, x)
  ROOT r = (s32[], f32[4]) tuple(n, y)
}}
ENTRY e {{
  a = f32[4] parameter(0)
  z = s32[] constant({init})
  t = (s32[], f32[4]) tuple(z, a)
  ROOT w = (s32[], f32[4]) while(t), condition=c, body=b
}}
"""
    cases = [
        (dict(limit=10, lhs="i", rhs="k", dir="LT", step=1, op="add", init=0), 10),
        (dict(limit=10, lhs="i", rhs="k", dir="LE", step=2, op="add", init=0), 6),
        (dict(limit=0, lhs="i", rhs="k", dir="GT", step=1, op="subtract", init=7), 7),
        (dict(limit=4, lhs="k", rhs="i", dir="GT", step=1, op="add", init=0), 4),  # 4 > i
        (dict(limit=9, lhs="i", rhs="k", dir="NE", step=3, op="add", init=0), 3),
    ]
    for fields, want in cases:
        g = parse_hlo_text(template.format(**fields))
        assert trip_count(g, "e/w").n == want, fields
        # body: multiply (4) + counter add (1); condition: one compare, run want + 1 times
        assert node_cost(g, "e/w").flops == want * 5 + (want + 1)


def test_dynamic_slices_cost_their_slice() -> None:
    """A fusion that dynamic-slices a stacked weight reads one slice; an in-place update writes one."""
    text = """HloModule m, is_scheduled=true
ds {
  p0 = f32[6,128,64] parameter(0)
  p1 = s32[] parameter(1)
  z = s32[] constant(0)
  s = f32[1,128,64] dynamic-slice(p0, p1, z, z), dynamic_slice_sizes={1,128,64}
  ROOT b = f32[128,64] bitcast(s)
}
dus {
  p0 = f32[6,128,64] parameter(0)
  p1 = f32[128,64] parameter(1)
  p2 = s32[] parameter(2)
  z = s32[] constant(0)
  u = f32[1,128,64] bitcast(p1)
  ROOT d = f32[6,128,64] dynamic-update-slice(p0, u, p2, z, z)
}
ENTRY e {
  w = f32[6,128,64] parameter(0)
  i = s32[] parameter(1)
  g = f32[128,64] parameter(2)
  f1 = f32[128,64] fusion(w, i), kind=kLoop, calls=ds
  ROOT f2 = f32[6,128,64] fusion(w, g, i), kind=kLoop, calls=dus
}
"""
    g = parse_hlo_text(text)
    layer = 128 * 64 * 4
    assert node_bytes(g, "e/f1") == layer + layer + 4  # slice read, result written, index
    assert node_bytes(g, "e/f2") == layer + layer + 4  # update read, update written in place


def test_loop_body_kernels_resolve_to_their_nodes() -> None:
    """index_hlo lists a scan body's fusions as kernels: opcode, cost, source line, trips."""
    idx = index_hlo(_text("scan_llm", "optimized_hlo.txt"))
    loops = {n for n, k in idx.kernels.items() if k.control}
    assert loops == {"while.17", "while.4"}
    body = [k for k in idx.kernels.values() if k.loop is not None]
    assert body and {k.loop for k in body} == loops
    assert all(k.trips in (3, 4) for k in body)  # body 3 times, condition 4 times
    dots = [k for k in body if k.flops and k.opcode != "while"]
    assert dots and all(k.bytes > 0 for k in dots)
    located = [k for k in body if k.source_file and k.source_file.endswith("jax_scan_llm.py")]
    assert len(located) > len(body) // 2


def test_loop_events_count_every_iteration_and_the_while_is_no_kernel() -> None:
    """Body events outside the while's own event are kernels of the step, called 3 times."""
    idx = index_hlo(_text("scan_llm", "optimized_hlo.txt"))
    inner = next(k.name for k in idx.kernels.values() if k.loop == "while.17" and k.trips == 3)
    top = next(k.name for k in idx.kernels.values() if k.loop is None and not k.control)
    line = "/host:CPU/t"
    evs = [KernelEvent("while.17", idx.module, 0, 0.0, 100.0, line)]
    evs += [KernelEvent(inner, idx.module, 0, 50.0 + 200.0 * i, 100.0, line) for i in range(3)]
    evs += [KernelEvent(top, idx.module, 0, 1000.0, 50.0, line)]
    att = attribute(evs, idx, runs=1)
    times = {k.name: k for k in att.kernels}
    assert "while.17" not in times and att.control_events == 1
    assert times[inner].calls_per_run == 3 and times[inner].nested_in is None
    assert times[inner].median_s == pytest.approx(300e-9)
    assert sum(k.median_s for k in att.kernels if k.nested_in is None) == pytest.approx(350e-9)


def test_xla_cost_is_corrected_for_loops() -> None:
    """XLA's cost of the scanned step plus the loop correction matches its unrolled twin's."""
    import jax.extend.backend
    from jax._src.lib import hlo, xla_client

    from xlalens.ir._cost import xla_cost_with_loops

    cpu = jax.extend.backend.get_backend("cpu")
    costs = {}
    for name in ("scan_llm", "unrolled_llm"):
        text = _text(name, "optimized_hlo.txt")
        raw = xla_client._xla.hlo_module_cost_analysis(cpu, hlo.hlo_module_from_text(text))
        costs[name] = xla_cost_with_loops(dict(raw), text)
    scan, unrolled = costs["scan_llm"], costs["unrolled_llm"]
    assert scan["xla_flops"] < 0.6 * unrolled["flops"]  # XLA alone: each body once
    assert scan["flops"] == pytest.approx(unrolled["flops"], rel=0.05)
    assert scan["bytes_accessed"] == pytest.approx(unrolled["bytes_accessed"], rel=0.15)
    assert [lp["trip_count"] for lp in scan["loops"]] == [3, 3]
    assert "loops" not in unrolled and unrolled["flops"] == unrolled["raw"]["flops"]


def test_render_and_diff_label_a_loop_with_its_trip_count() -> None:
    """render labels the while and its body with the count; diff's header lists each side's loops."""
    from xlalens.diff import diff
    from xlalens.render._plan import _runs
    from xlalens.render._view import node_label

    g = _graph("fori", "optimized_hlo.txt")
    (nid,) = [n for n, d in g.nodes(data=True) if d["op"] == "while"]
    assert "while x5" in node_label(g.nodes[nid])
    assert _runs(g.nodes[nid], "body") == ", runs x5"
    assert _runs(g.nodes[nid], "condition") == ", runs x6"
    d = diff(_graph("fori", "hlo.txt"), _graph("while_data", "hlo.txt"))
    assert d.summary.loops == ((("while.5", 5),), (("while.5", None),))
    assert "loops (body listed once, runs x trip count): A while.5 x5; B while.5 x?" in d.to_text()


def test_compile_targets_count_loops_per_iteration() -> None:
    """`xlalens compile`'s summary adds the loop iterations XLA's cost analysis leaves out."""
    from xlalens.ir._cost import module_cost
    from xlalens.targets._spec import CHIPS
    from xlalens.targets._summary import analyze

    g = _graph("fori", "optimized_hlo.txt")
    mc = module_cost(g)
    a = analyze(g, CHIPS["h100"], {"flops": 2000.0, "bytes accessed": 3000.0}, {}, {})
    assert a["cost"]["flops"] == pytest.approx(2000.0 + mc.flops - mc.flops_once)
    assert a["cost"]["xla_flops"] == 2000.0 and a["cost"]["loops"][0]["trip_count"] == 5


def test_full_call_stack_of_an_op_is_kept() -> None:
    """An op's whole stack (StackFrames table) is kept: innermost first, out to the step."""
    from xlalens.ir._locations import source_stack

    g = _graph("scan_llm", "optimized_hlo.txt")
    stacks = {n: source_stack(g, n) for n, d in g.nodes(data=True) if d["op"] == "dot"}
    deep = [(n, s) for n, s in stacks.items() if len(s) >= 4]
    assert deep
    for n, s in deep:
        d = g.nodes[n]
        assert (s[0][0], s[0][1]) == (d["source_file"], d["source_line"])
        functions = [f for _, _, f in s]
        assert functions[-1].endswith("<module>")  # the script that lowered the step
    assert any("decoder_layer" in [f for _, _, f in s] for _, s in deep)
    assert any(f.endswith("train_step") for _, s in deep for _, _, f in s)


def test_loop_kernel_median_is_taken_per_call_like_its_unrolled_copies() -> None:
    """A spike in one call of a run is dropped from a loop kernel's sum as from an unrolled copy."""
    idx = index_hlo(_text("scan_llm", "optimized_hlo.txt"))
    inner = next(k.name for k in idx.kernels.values() if k.loop == "while.17" and k.trips == 3)
    line = "/host:CPU/t"
    evs = []
    for run in range(5):
        for call in range(3):
            # every call takes 100 ns, but one call of runs 0..2 is preempted (+1000 ns)
            spike = 1000.0 if call == run else 0.0
            start = run * 10_000.0 + call * 2_000.0
            evs.append(KernelEvent(inner, idx.module, run, start, 100.0 + spike, line))
    att = attribute(evs, idx, runs=5)
    (k,) = att.kernels
    assert k.calls_per_run == 3
    # per run totals are 1300, 1300, 1300, 300, 300 (median 1300 ns); per call, 3 x 100 ns
    assert k.median_s == pytest.approx(300e-9)
