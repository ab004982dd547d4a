"""Unit tests of the timing stage's mechanics: statistics, cost, attribution, roofline, verification."""

from __future__ import annotations

import json

import numpy as np
import pytest

from xlalens._errors import DumpError, UsageError
from xlalens.timing import (
    HloIndex,
    Kernel,
    KernelEvent,
    Peaks,
    SweepPoint,
    attribute,
    calibrate,
    index_hlo,
    load_results,
    measure_peaks,
    parse_sizes,
    roofline_bound_s,
    step_stats,
    sweep_svg,
    sweep_table,
    verify_outputs,
)

# A hand-written optimized-style module: a loop fusion, a dot, and a while loop whose body runs its own thunk.
HLO = """HloModule jit_f, is_scheduled=true

FileNames
1 "/src/model.py"

FunctionNames
1 "f"

FileLocations
1 {file_name_id=1 function_name_id=1 line=12 end_line=12 column=1 end_column=9}

StackFrames
1 {file_location_id=1 parent_frame_id=1}

%fused_computation (p0: f32[1024,8], p1: f32[1024,8]) -> f32[1024,8] {
  %p0 = f32[1024,8]{1,0} parameter(0)
  %p1 = f32[1024,8]{1,0} parameter(1)
  %m = f32[1024,8]{1,0} multiply(%p0, %p1)
  ROOT %a = f32[1024,8]{1,0} add(%m, %p1)
}

%body (s: f32[8,8]) -> f32[8,8] {
  %s = f32[8,8]{1,0} parameter(0)
  ROOT %neg = f32[8,8]{1,0} negate(%s), metadata={op_name="jit(f)/neg" source_file="/src/model.py" source_line=20}
}

%cond (c: f32[8,8]) -> pred[] {
  %c = f32[8,8]{1,0} parameter(0)
  ROOT %t = pred[] constant(false)
}

ENTRY %main (x: f32[1024,8], y: f32[1024,8], w: f32[8,8]) -> f32[1024,8] {
  %x = f32[1024,8]{1,0} parameter(0)
  %y = f32[1024,8]{1,0} parameter(1)
  %w = f32[8,8]{1,0} parameter(2)
  %loop = f32[8,8]{1,0} while(%w), condition=%cond, body=%body
  %mul_add_fusion = f32[1024,8]{1,0} fusion(%x, %y), kind=kLoop, calls=%fused_computation, metadata={op_name="jit(f)/add" stack_frame_id=1}
  ROOT %dot.1 = f32[1024,8]{1,0} dot(%mul_add_fusion, %loop), lhs_contracting_dims={1}, rhs_contracting_dims={0}
}
"""


def test_step_stats_values():
    """min/median/p90/IQR/CV follow numpy's definitions."""
    s = step_stats([1.0, 2.0, 3.0, 4.0, 10.0], warmup=3)
    a = np.array([1.0, 2.0, 3.0, 4.0, 10.0])
    assert (s.n, s.min_s, s.median_s, s.warmup) == (5, 1.0, 3.0, 3)
    assert s.p90_s == pytest.approx(np.percentile(a, 90))
    assert s.iqr_s == pytest.approx(np.percentile(a, 75) - np.percentile(a, 25))
    assert s.cv == pytest.approx(a.std(ddof=1) / a.mean())
    assert s.cv_robust == pytest.approx(s.iqr_s / 1.349 / 3.0)
    assert step_stats([2.0]).cv == 0.0


def test_step_stats_rejects_empty():
    """No samples is a usage error that says how to fix it."""
    with pytest.raises(UsageError, match="--repeat"):
        step_stats([])


def test_calibrate_bounds():
    """Calibration fills the target time, clamped to [min_n, max_n]."""
    assert calibrate(0.04, min_time_s=1.0) == 25
    assert calibrate(1.0, min_time_s=1.0) == 10
    assert calibrate(1e-7, min_time_s=1.0) == 2000
    assert calibrate(0.0, min_time_s=1.0, max_n=50) == 50


def test_roofline_bound_picks_the_binding_resource():
    """The bound is the larger of bytes/bandwidth and flops/peak, labelled by which."""
    p = Peaks(
        bytes_per_s=1e10,
        flops_per_s=1e11,
        copy_bytes=0,
        matmul_n=0,
        fresh_bytes_per_s=1e9,
        repeats=1,
        seconds=0.0,
    )
    assert roofline_bound_s(1e8, 1e8, p) == (pytest.approx(1e-2), "memory")
    assert roofline_bound_s(1e6, 1e10, p) == (pytest.approx(1e-1), "compute")
    assert roofline_bound_s(None, 1e10, p) == (pytest.approx(1e-1), "compute")
    assert roofline_bound_s(None, None, p) == (None, None)


def test_index_hlo_kernels_cost_and_source():
    """Entry kernels get bytes from shapes, FLOPs from their bodies, and source from metadata."""
    idx = index_hlo(HLO)
    assert idx.module == "jit_f" and idx.entry == "main"
    # The loop body's instruction is a kernel of its own (NOTE [kernels of loop bodies]).
    assert set(idx.kernels) == {"loop", "mul_add_fusion", "dot.1", "neg"}
    fus = idx.kernels["mul_add_fusion"]
    assert fus.kind == "kLoop" and fus.bytes == 3 * 1024 * 8 * 4
    assert fus.flops == 2 * 1024 * 8  # multiply + add, one per element each
    assert (fus.source_file, fus.source_line) == ("/src/model.py", 12)  # via stack_frame_id
    dot = idx.kernels["dot.1"]
    assert dot.flops == 2 * 1024 * 8 * 8
    assert dot.bytes == (1024 * 8 + 8 * 8 + 1024 * 8) * 4
    assert idx.kernels["loop"].flops is None  # a loop's trip count is unknown
    assert idx.kernels["loop"].control and not idx.kernels["neg"].control
    neg = idx.kernels["neg"]
    assert neg.loop == "loop" and neg.trips is None and neg.source_line == 20
    assert idx.owner["neg"] == "neg" and "neg" in idx.instructions


def test_index_hlo_rejects_bad_text():
    """Text XLA cannot parse raises ParseError with XLA's message."""
    from xlalens._errors import ParseError

    with pytest.raises(ParseError, match="parser"):
        index_hlo("HloModule broken\nENTRY %e { ROOT %x = f32[] nonsense( }")


def _ev(op, run, start, dur, line="t0"):
    return KernelEvent(
        hlo_op=op, hlo_module="jit_f", run_id=run, start_ns=start, duration_ns=dur, line=line
    )


def test_attribute_medians_shares_and_nesting():
    """Per-kernel medians are over runs; the loop's own event is no kernel, its body's thunks are."""
    idx = index_hlo(HLO)
    events = []
    for run, base in enumerate((0, 10_000, 20_000)):
        events += [
            _ev("mul_add_fusion", run, base, 1000 * (run + 1)),
            _ev("loop", run, base + 4000, 3000),
            _ev("neg", run, base + 4500, 500),
            _ev("neg", run, base + 5500, 500),
            _ev("dot.1", run, base + 8000, 1000, line="t1"),
        ]
    att = attribute(events, idx, runs=3)
    k = {kt.name: kt for kt in att.kernels}
    assert att.runs == 3 and att.events == 12 and att.unknown == ()
    assert att.control_events == 3 and "loop" not in k
    assert k["mul_add_fusion"].median_s == pytest.approx(2e-6)
    assert k["neg"].median_s == pytest.approx(1e-6) and k["neg"].calls_per_run == 2
    assert k["neg"].nested_in is None  # counted in the kernel sum, every iteration
    assert att.busy_median_s == pytest.approx((2000 + 500 + 500 + 1000) * 1e-9)
    assert att.kernels[0].name == "mul_add_fusion"  # slowest first


def test_attribute_flags_unknown_ops_and_missing_run_ids():
    """Events naming no instruction are listed; without run ids times are averaged over runs."""
    idx = index_hlo(HLO)
    events = [
        KernelEvent("dot.1", "jit_f", None, 0, 3000, "/device:GPU:0/stream"),
        KernelEvent("dot.1", "jit_f", None, 5000, 1000, "/device:GPU:0/stream"),
        KernelEvent("mystery", "jit_f", None, 9000, 10, "/device:GPU:0/stream"),
    ]
    att = attribute(events, idx, runs=2)
    k = {kt.name: kt for kt in att.kernels}
    assert att.unknown == ("mystery",)
    assert k["dot.1"].median_s == pytest.approx(2e-6) and att.busy_median_s is None


def test_verify_outputs_by_role():
    """Outputs are compared by signature role, flattened; roles absent from outputs.json are skipped."""
    outs = {"loss": 2.0, "params": {"w": [[1.0], [2.0]], "b": [0.5]}}
    sig = [{"role": "loss"}, {"role": "w"}, {"role": "b"}, {"role": "opt_state"}]
    res = [
        np.float32(2.0),
        np.array([1.0, 2.0], np.float32),
        np.array([[0.5]], np.float32),
        np.zeros(3),
    ]
    v = verify_outputs(res, sig, outs, same_backend=True)
    assert v.ok and v.compared == ("loss", "w", "b") and v.max_abs_diff == 0.0
    res[1] = np.array([1.0, 2.1], np.float32)
    v = verify_outputs(res, sig, outs, same_backend=True)
    assert not v.ok and "w:" in v.message and v.max_abs_diff == pytest.approx(0.1, rel=1e-5)


def test_verify_outputs_tolerance_depends_on_backend():
    """A 1e-4 relative difference passes on another backend (TF32, reordering) but not on the same one."""
    outs = {"loss": 1.0, "params": {}}
    res, sig = [np.float64(1.0001)], [{"role": "loss"}]
    assert not verify_outputs(res, sig, outs, same_backend=True).ok
    assert verify_outputs(res, sig, outs, same_backend=False).ok


def test_verify_outputs_refuses_when_nothing_comparable():
    """With no comparable role the run is not verified (and so gets no time)."""
    v = verify_outputs([np.zeros(2)], [{"role": None}], {"loss": 1.0}, same_backend=True)
    assert not v.ok and "cannot check" in v.message
    v = verify_outputs([np.zeros(2)], [], {"loss": 1.0}, same_backend=True)
    assert not v.ok and "signature lists 0" in v.message


def test_parse_sizes():
    """Sizes accept integers and powers of two; anything else is a usage error."""
    assert parse_sizes("4,4096, 2^20,2**4") == [4, 4096, 1 << 20, 16]
    for bad in ("4,x", "0", "-3", ""):
        with pytest.raises(UsageError, match="--size"):
            parse_sizes(bad)


def _pt(fe, n, t, bound):
    return SweepPoint(fe, n, "dump", "ok" if t else "failed", t, 0.01, 1.0, 1.0, bound, None)


def test_sweep_table_and_svg():
    """The table has a row per frontend and the bound; the SVG draws each series and the bound."""
    pts = [
        _pt("jax", 4, 1e-5, 1e-7),
        _pt("jax", 4096, 1e-4, 1e-6),
        _pt("torch_xla", 4, 2e-5, 1e-7),
        _pt("torch_xla", 4096, None, None),
    ]
    table = sweep_table(pts)
    assert "| jax | 0.01 ms ±1% | 0.1 ms ±1% |" in table
    assert "| torch_xla | 0.02 ms ±1% | failed |" in table
    assert "| roofline bound | 0.0001 ms | 0.001 ms |" in table
    svg = sweep_svg(pts, title="a <b>")
    assert svg.count("<polyline") == 3 and "a &lt;b&gt;" in svg and "torch_xla" in svg
    assert "no successful" in sweep_svg([_pt("jax", 4, None, None)])


def test_load_results_empty_and_bad(tmp_path):
    """No timing folder gives {}; a results file of another schema version is a DumpError."""
    assert load_results(tmp_path) == {}
    (tmp_path / "timing").mkdir()
    (tmp_path / "timing" / "cpu.json").write_text(
        json.dumps({"schema_version": 99, "backend": "cpu"})
    )
    with pytest.raises(DumpError, match="re-run `xlalens time`"):
        load_results(tmp_path)
    (tmp_path / "timing" / "cpu.json").write_text("{not json")
    with pytest.raises(DumpError, match="unreadable"):
        load_results(tmp_path)


def test_measure_peaks_small():
    """Peaks are positive, and the copy and matmul sizes are recorded."""
    p = measure_peaks("cpu", repeats=2, scale=1 / 256)
    assert p.bytes_per_s > 0 and p.flops_per_s > 0 and p.fresh_bytes_per_s > 0
    assert p.copy_bytes == 2 * 4 * (1 << 16) and p.matmul_n == int(1024 * (1 / 256) ** (1 / 3))


def test_kernel_record_shape():
    """Kernel and HloIndex are frozen records (passed between modules)."""
    k = Kernel("k", "fusion", "kLoop", "f32[]", 4.0, 1.0, None, None, None)
    with pytest.raises(AttributeError):
        k.name = "other"  # type: ignore[misc]
    assert HloIndex("m", "e", {"k": k}).kernels["k"] is k


def test_verify_outputs_positional_results():
    """With outputs.json `results`, every result is compared by position, shapes included."""
    outs = {
        "loss": 9.0,  # ignored: results take precedence
        "results": [
            {"dtype": "float32", "shape": [], "value": 1.0},
            {"dtype": "float32", "shape": [2, 1], "value": [[1.0], [2.0]]},
        ],
    }
    sig = [{"role": "loss"}, {"role": "w"}]
    good = [np.float32(1.0), np.array([[1.0], [2.0]], np.float32)]
    v = verify_outputs(good, sig, outs, same_backend=True)
    assert v.ok and v.compared == ("loss", "w")
    v = verify_outputs(
        [np.float32(1.0), np.array([1.0, 2.0], np.float32)], sig, outs, same_backend=True
    )
    assert not v.ok and "shape [2]" in v.message
    v = verify_outputs(good[:1], sig, outs, same_backend=True)
    assert not v.ok and "records 2" in v.message


def test_verify_outputs_transposed_weight():
    """A PyTorch [out, in] weight result matches outputs.json's [in, out] params transposed."""
    w_in_out = [[1.0, 2.0, 3.0]]  # [in=1, out=3]
    outs = {"params": {"w0": w_in_out}}
    res = [np.array([[1.0], [2.0], [3.0]], np.float32)]  # [out=3, in=1]
    assert verify_outputs(res, [{"role": "w0"}], outs, same_backend=True).ok
    outs = {"params": {"w0": [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]}}  # [3, 2]
    res = [np.array([[1.0, 3.0, 5.0], [2.0, 4.0, 6.0]], np.float32)]  # its transpose
    assert verify_outputs(res, [{"role": "w0"}], outs, same_backend=True).ok
    res = [np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], np.float32)]  # same size, not a transpose
    assert not verify_outputs(res, [{"role": "w0"}], outs, same_backend=True).ok


def test_device_annotation_parsing():
    """hlo_op/hlo_module are read from a stat, or from XLA's GPU kernel annotation string."""
    from xlalens.timing._profile import _annotated

    ann = "XlaModule:#hlo_module=jit_step,program_id=5#::Thunk:#name=sub,hlo_op=loop_add_fusion.3#"
    assert _annotated({"kernel_annotation": ann}, "hlo_op") == "loop_add_fusion.3"
    assert _annotated({"kernel_annotation": ann}, "hlo_module") == "jit_step"
    assert _annotated({"hlo_op": "fusion.1"}, "hlo_op") == "fusion.1"
    assert _annotated({"correlation_id": 4}, "hlo_op") is None


def test_fusion_without_metadata_borrows_its_root():
    """A fusion with no metadata takes its fused root's op_name and source."""
    text = """HloModule m, is_scheduled=true

%fc (p: f32[4]) -> f32[4] {
  %p = f32[4]{0} parameter(0)
  %n = f32[4]{0} negate(%p), metadata={op_name="jit(f)/neg" source_file="/a.py" source_line=3}
  ROOT %e = f32[4]{0} exponential(%n), metadata={op_name="jit(f)/exp" source_file="/a.py" source_line=4}
}

ENTRY %main (x: f32[4]) -> f32[4] {
  %x = f32[4]{0} parameter(0)
  ROOT %f = f32[4]{0} fusion(%x), kind=kLoop, calls=%fc
}
"""
    k = index_hlo(text).kernels["f"]
    assert (k.op_name, k.source_file, k.source_line) == ("jit(f)/exp", "/a.py", 4)
    assert k.flops == 8 and k.bytes == 32


def test_verify_outputs_gives_ill_conditioned_results_the_proofs_allowance():
    """An ill-conditioned result passes within the proof's allowance; every other keeps its bound."""
    from xlalens.dumpdir._read import Outputs
    from xlalens.proof import ErrorBound, recorded_allowances

    bound = ErrorBound(2.0**-24, 1.0, 8.0, 0, 0, 1)
    native = [np.float32(1.0), np.array([1e-3, -1e-3], np.float32)]
    outs = Outputs(1.0, "before_update", native, {})
    sig = [{"role": "loss"}, {"role": "fc.bias"}]
    noisy_bias = [native[0], native[1] + np.float32(3e-5)]  # Adam's first step of a ~0 gradient
    proof = {"conditioning_per_result": [1.0, 66.0], "conditioning_factor": 66.0}
    allow = recorded_allowances(proof, 2)
    assert allow == (1.0, 264.0)
    assert not verify_outputs(noisy_bias, sig, outs, same_backend=True, bound=bound).ok
    v = verify_outputs(noisy_bias, sig, outs, same_backend=True, bound=bound, allowances=allow)
    assert v.ok, v.message
    noisy_loss = [np.float32(1.0 + 3e-5), native[1]]
    v = verify_outputs(noisy_loss, sig, outs, same_backend=True, bound=bound, allowances=allow)
    assert not v.ok and "loss" in v.message
    # A manifest older than per-result factors: its one factor for every result.
    assert recorded_allowances({"conditioning_factor": 2.0}, 2) == (8.0, 8.0)
    assert recorded_allowances(None, 1) == (1.0,)


def test_timing_reads_the_proofs_recorded_difference_bound(tmp_path):
    """With the proof's replay and native bounds in the manifest, timing judges by their sum, once."""
    from xlalens.proof import ErrorBound
    from xlalens.timing._read import read_capture

    replay = ErrorBound(2.0**-24, 3.0, 8.0, 1, 4, 2, per_result=(3.0, 1.0))
    native = ErrorBound(2.0**-24, 3.0, 8.0, 1, 4, 2, sequential=(9.0,), emitter="unknown")
    assert ErrorBound.from_dict(native.as_dict()) == native
    text = "func.func @main(%a: tensor<f32>) -> tensor<f32> {\n  return %a : tensor<f32>\n}\n"
    (tmp_path / "m.mlir").write_text(text)
    np.savez(tmp_path / "in.npz", arg0=np.float32(1.0))
    doc = {"loss": None, "data": "out.npz", "results": [{"dtype": "float32", "shape": []}]}
    (tmp_path / "out.json").write_text(json.dumps(doc))
    np.savez(tmp_path / "out.npz", result0=np.float32(1.0))
    arts = {"stablehlo": "m.mlir", "inputs": "in.npz", "outputs": "out.json"}
    proof = {"bound": replay.as_dict(), "native_bound": native.as_dict()}
    cap = read_capture(tmp_path, {"artifacts": arts, "proof": proof})
    assert not isinstance(cap, str), cap
    assert cap.bound == replay.plus(native) and cap.slack == 1.0
