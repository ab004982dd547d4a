"""Units of the proof of capture: f64 promotion, the per-op bound, judging (jax only)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from xlalens._runtime import compile_stablehlo, run
from xlalens.proof import (
    accumulations,
    error_bound,
    judge,
    promote_to_f64,
    prove,
    reference,
)

MODULE = """module @m {
  func.func public @main(%x: tensor<1024x8xf32>, %w: tensor<8x4xf32>) -> (tensor<f32>, tensor<4xf32>) {
    %c = stablehlo.constant dense<0x3DCCCCCD> : tensor<f32>
    %v = stablehlo.constant dense<"0x0000803F00000040000040400000803F"> : tensor<4xf32>
    %z = stablehlo.constant dense<0.000000e+00> : tensor<f32>
    %d = stablehlo.dot_general %x, %w, contracting_dims = [1] x [0] : (tensor<1024x8xf32>, tensor<8x4xf32>) -> tensor<1024x4xf32> loc("f32 in a name")
    %s = stablehlo.reduce(%d init: %z) applies stablehlo.add across dimensions = [0, 1] : (tensor<1024x4xf32>, tensor<f32>) -> tensor<f32>
    %m = stablehlo.multiply %s, %c : tensor<f32>
    %cs = stablehlo.reduce(%d init: %z) applies stablehlo.add across dimensions = [0] : (tensor<1024x4xf32>, tensor<f32>) -> tensor<4xf32>
    %o = stablehlo.add %cs, %v : tensor<4xf32>
    return %m, %o : tensor<f32>, tensor<4xf32>
  }
}
"""


def _inputs():
    rng = np.random.default_rng(0)
    return [
        rng.normal(size=(1024, 8)).astype(np.float32),
        rng.normal(size=(8, 4)).astype(np.float32),
    ]


def test_promotion_keeps_values_and_names():
    """f32 types and hex constants (splat bit pattern and raw buffer) become f64; strings stay."""
    text = promote_to_f64(MODULE)
    assert "f32>" not in text and '"f32 in a name"' in text
    assert "dense<0x3FB99999A0000000>" in text  # 0.1f as a double bit pattern
    ref = reference(MODULE, _inputs())
    assert ref[0].dtype == np.float64
    x, w = (a.astype(np.float64) for a in _inputs())
    d = x @ w
    np.testing.assert_allclose(ref[0], d.sum() * np.float64(np.float32(0.1)), rtol=1e-12)
    np.testing.assert_allclose(ref[1], d.sum(axis=0) + np.array([1, 2, 3, 1]), rtol=1e-12)


def test_bound_counts_reductions_per_op():
    """dot_general (K=8), reduces (K=4096, 1024): A = sqrt(7 rounding ops + 7+4095+1023 additions)."""
    b = error_bound(MODULE)
    assert b.reductions == 3 and b.longest_reduction == 4096
    # rounding ops: dot, 2 reduces, multiply, add, the 2 reducer bodies' adds; constants do not round
    assert b.amplification == pytest.approx(np.sqrt(7 + 7 + 4095 + 1023))
    assert b.unit_roundoff == 2.0**-24


def test_replay_within_bound_and_perturbation_outside():
    """The f32 replay is within the bound of the reference; a 1e-3 relative change is not."""
    b = error_bound(MODULE)
    ref = reference(MODULE, _inputs())
    got = run(compile_stablehlo(MODULE), _inputs())
    j = judge(got, ref, b)
    assert j.ok and j.worst_ratio < 1, j
    bad = [got[0] * np.float32(1 + 1e-3), got[1]]
    j = judge(bad, ref, b, labels=["sum", "cols"])
    assert not j.ok and "sum is off" in j.message


def test_judge_shapes_and_integers():
    """A shape change or a changed integer is a mismatch whatever the bound."""
    b = error_bound(MODULE)
    assert not judge([np.zeros(3)], [np.zeros(4)], b).ok
    assert not judge([np.array([1, 2])], [np.array([1, 3])], b).ok
    assert judge([np.array([1, 2])], [np.array([1, 2])], b).ok


ILL = """module @ill {
  func.func public @main(%x: tensor<8xf32>, %big: tensor<8xf32>) -> tensor<8xf32> {
    %a = stablehlo.add %x, %big : tensor<8xf32>
    %b = stablehlo.subtract %a, %big : tensor<8xf32>
    return %b : tensor<8xf32>
  }
}
"""


def test_ill_conditioned_step_judged_by_the_replays_own_error():
    """(x + big) - big, big = 1e7 an input, in f32 errs far past the bound; native alike passes, native wrong fails."""
    x = [np.linspace(0.1, 0.9, 8, dtype=np.float32), np.full(8, 1e7, np.float32)]
    b = error_bound(ILL)
    ref = reference(ILL, x)
    replay = run(compile_stablehlo(ILL), x)
    assert not judge(replay, ref, b).ok, "float32 loses x entirely here: beyond the bound"
    r, n, ill, kappa = prove(replay, [replay[0] + np.float32(0.5)], ref, b)
    assert r.ok and n.ok and ill == (0,) and kappa > 1
    r, n, ill, _ = prove(replay, [replay[0] + np.float32(50.0)], ref, b)
    assert r.ok and not n.ok and ill == (0,)


def _sharded_capture(tmp_path, x):
    import json

    (tmp_path / "stablehlo.mlir").write_text(ILL)
    np.savez(tmp_path / "inputs.npz", **{f"arg{i}": a for i, a in enumerate(x)})
    (tmp_path / "result.json").write_text(json.dumps({}))
    return tmp_path


def test_sharded_proof_uses_the_float64_reference(tmp_path):
    """An ill-conditioned sharded step: two correct runs far apart still pass; a wrong one does not."""
    from xlalens.frontends._spmd_plan import record_proof
    from xlalens.proof import agree
    from xlalens.spmd import parse_mesh

    x = [np.linspace(0.1, 0.9, 8, dtype=np.float32), np.full(8, 1e7, np.float32)]
    out = _sharded_capture(tmp_path, x)
    spec = parse_mesh(4, None, None, "dp", batch=8)
    single = run(compile_stablehlo(ILL), x)
    sharded = [single[0] + np.float32(0.5)]  # another rounding of the same step
    assert not agree(sharded, single, ILL)[0], "two float32 runs alone cannot tell"
    rec = record_proof(out, spec, sharded, single, ["P('data')"])
    assert rec["matches_single_device"] is True and rec["reference"] == "float64"
    assert rec["conditioning"] > 1 and rec["ill_conditioned"] == 1
    wrong = [single[0] + np.float32(50.0)]
    rec = record_proof(out, spec, wrong, single, ["P('data')"])
    assert rec["matches_single_device"] is False and rec["error_over_bound"] > 1
    assert "result 0" in rec["why"]


# --------------------------------------------------------------- sequential accumulation

DATA = Path(__file__).parent / "data" / "proof"

HAND = """HloModule hand, is_scheduled=true

%add (a: f32[], b: f32[]) -> f32[] {
  %a = f32[] parameter(0)
  %b = f32[] parameter(1)
  ROOT %s = f32[] add(f32[] %a, f32[] %b)
}

%max (a.1: f32[], b.1: f32[]) -> f32[] {
  %a.1 = f32[] parameter(0)
  %b.1 = f32[] parameter(1)
  ROOT %m = f32[] maximum(%a.1, %b.1)
}

/* a library kernel: YNNPACK runs this dot with blocked accumulators */
%lib (p: f32[64,256], q: f32[256,32]) -> f32[64,32] {
  %p = f32[64,256]{1,0} parameter(0)
  %q = f32[256,32]{1,0} parameter(1)
  ROOT %d = f32[64,32]{1,0} dot(%p, %q), lhs_contracting_dims={1}, rhs_contracting_dims={0}
}

ENTRY %main (x: f32[64,256], w: f32[256,32], img: f32[1,8,8,16], k: f32[3,3,16,4], v: f32[256]) -> (f32[64,32], f32[64], f32[1,8,8,4], f32[], f32[64,32], f32[64]) {
  %x = f32[64,256]{1,0} parameter(0)
  %w = f32[256,32]{1,0} parameter(1)
  %img = f32[1,8,8,16]{3,2,1,0} parameter(2)
  %k = f32[3,3,16,4]{3,2,1,0} parameter(3)
  %v = f32[256]{0} parameter(4)
  %zero = f32[] constant(0)
  %ninf = f32[] constant(-inf)
  %lib_dot = f32[64,32]{1,0} fusion(%x, %w), kind=kCustom, calls=%lib,
      backend_config={"fusion_config":{"kind":"__ynn_fusion"}}
  %rowmax = f32[64]{0} reduce(%x, %ninf), dimensions={1}, to_apply=%max  // max: no rounding
  %conv = f32[1,8,8,4]{3,2,1,0} convolution(%img, %k), window={size=3x3 pad=1_1x1_1},
      dim_labels=b01f_01io->b01f
  %total = f32[] reduce(%x, %zero), dimensions={0,1}, to_apply=%add
  %matmul = f32[64,32]{1,0} dot(%x, %w), lhs_contracting_dims={1}, rhs_contracting_dims={0}  // Eigen
  %gemv = f32[64]{0} dot(%x, %v), lhs_contracting_dims={1}, rhs_contracting_dims={0}  // XLA's loop
  ROOT %out = (f32[64,32]{1,0}, f32[64]{0}, f32[1,8,8,4]{3,2,1,0}, f32[], f32[64,32]{1,0}, f32[64]{0}) tuple(%lib_dot, %rowmax, %conv, %total, %matmul, %gemv)
}
"""


def _by_name(text):
    return {a.name: a for a in accumulations(text)}


def test_accumulation_kinds_on_a_hand_written_module():
    """Library fusion and matrix dot (Eigen) are blocked; XLA's GEMV, conv and add-reduce are one chain."""
    acc = _by_name(HAND)
    assert set(acc) == {"d", "conv", "total", "matmul", "gemv"}, acc
    assert (acc["matmul"].length, acc["matmul"].sequential) == (256, False)  # Eigen, blocked
    assert (acc["gemv"].length, acc["gemv"].sequential, acc["gemv"].results) == (256, True, (5,))
    assert (acc["d"].length, acc["d"].sequential, acc["d"].results) == (256, False, (0,))
    assert (acc["conv"].length, acc["conv"].sequential, acc["conv"].results) == (144, True, (2,))
    assert (acc["total"].length, acc["total"].sequential, acc["total"].results) == (
        64 * 256,
        True,
        (3,),
    )


def test_tensorflow_and_torch_xla_sum_the_gradient_dot_in_one_chain():
    """TF 2.21's and torch_xla 2.9's own XLA leave w's gradient a 2^20-long dot; jax's runs in YNNPACK."""
    tf = _by_name((DATA / "tf_regression_2p20.optimized_hlo.txt").read_text())
    assert (tf["dot.1"].length, tf["dot.1"].sequential, tf["dot.1"].results) == (2**20, True, (1,))
    # reduce: tree-rewritten into reduce-window levels of 32, the rest in YNNPACK
    assert {a.length for a in tf.values() if a.opcode == "reduce-window"} == {32}
    assert all(not a.sequential for a in tf.values() if a.opcode == "reduce")
    tx = _by_name((DATA / "torch_xla_native_regression_2p20.optimized_hlo.txt").read_text())
    assert (tx["dot.1"].length, tx["dot.1"].sequential) == (2**20, True)
    assert 1 in tx["dot.1"].results
    assert max(a.length for a in tx.values() if a.name != "dot.1") == 32
    jx = accumulations((DATA / "jax_regression_2p20.optimized_hlo.txt").read_text())
    assert jx and not any(a.sequential for a in jx)


def test_sequential_term_is_per_result():
    """Only w (result 1) gets (K - 1) u for TF's dot; an unknown emitter is charged the same by dataflow."""
    text = (DATA / "tf_regression_2p20.stablehlo.mlir").read_text()
    plain = error_bound(text)
    tf = error_bound(text, optimized=(DATA / "tf_regression_2p20.optimized_hlo.txt").read_text())
    assert tf.sequential == (31.0, 2.0**20 - 1, 31.0) and tf.emitter == "optimized"
    u, lam = 2.0**-24, 8.0
    for i in range(3):
        want = u * (lam * tf.amplification_at(i) + tf.sequential_at(i))
        assert tf.relative_at(i) == pytest.approx(want, rel=1e-12)
    # the optimized order replaces the StableHLO's 2^20-long sums: w's runs in one
    # chain (S), the loss's and b's in a 32-wide tree level and a 32768-long YNNPACK sum
    assert tf.amplification_at(1) < 3 and plain.amplification_at(1) > 1024
    assert tf.amplification_at(0) == pytest.approx(np.sqrt(32767 + 10), abs=1.0)
    assert tf.relative_at(0) < plain.relative_at(0) / 5
    unknown = error_bound(text, unknown_emitter=True)
    assert unknown.sequential == (0.0, 2.0**20 - 1, 0.0) and unknown.emitter == "unknown"
    both = tf.plus(unknown)
    assert both.relative_at(1) == pytest.approx(tf.relative_at(1) + unknown.relative_at(1))
    assert tf.as_dict()["relative_per_result"][1] == tf.relative_at(1)


def test_sequential_sum_model_on_the_regression_data():
    """numpy's cumsum (one f32 chain) of w's gradient terms at 2^24: past the sqrt(K) bound, within (K-1)u."""
    from xlalens.workloads import Workload

    w = Workload(size=2**24)
    x, y = (a[:, 0] for a in w.data())
    p = w.initial_params()
    r = (p["w"].ravel()[0] * x + p["b"].ravel()[0] - y).astype(np.float32)
    terms = (x * (np.float32(2.0**-24) * (r * np.float32(2)))).astype(np.float32)
    exact = terms.astype(np.float64).sum()
    mass = np.abs(terms.astype(np.float64)).sum()
    u, k = 2.0**-24, terms.size
    seq = float(np.cumsum(terms, dtype=np.float32)[-1])
    assert abs(seq - exact) > 8 * np.sqrt(k) * u * mass  # independence fails: stagnation
    assert abs(seq - exact) <= (k - 1) * u * mass
    blocked = float(terms.reshape(-1, 4096).sum(axis=1, dtype=np.float32).sum(dtype=np.float32))
    assert abs(blocked - exact) <= 8 * np.sqrt(k) * u * mass


def test_unreadable_optimized_module_counts_as_unknown_emitter(tmp_path):
    """An optimized module the HLO reader rejects: its dots count as sequential, and nothing fails."""
    from xlalens.frontends._run import _bounds

    text = (DATA / "tf_regression_2p20.stablehlo.mlir").read_text()
    (tmp_path / "optimized_hlo.txt").write_text("HloModule broken\nENTRY %e {")
    entry = {"optimized_hlo_source": "framework"}
    replay, native = _bounds(tmp_path, entry, text, "not an HLO module (", 3)
    assert replay.emitter == native.emitter == "unknown"
    assert native.sequential == (0.0, 2.0**20 - 1, 0.0)


def _regression_2p20():
    """TF's captured 2^20-sample regression module, its inputs (the workload's own data) and replay."""
    from xlalens.workloads import Workload

    text = (DATA / "tf_regression_2p20.stablehlo.mlir").read_text()
    w = Workload(size=2**20)
    x, y = w.data()
    p = w.initial_params()
    inputs = [
        x.astype(np.float32),
        y.astype(np.float32),
        p["w"].astype(np.float32).reshape(1, 1),
        p["b"].astype(np.float32).reshape(1),
    ]
    compiled = compile_stablehlo(text)
    return text, inputs, compiled, run(compiled, inputs), reference(text, inputs)


def test_per_result_bound_follows_dataflow_and_updates():
    """Each result's A counts only its own reductions; w and b are judged as arg - update."""
    text = (DATA / "tf_regression_2p20.stablehlo.mlir").read_text()
    b = error_bound(text)
    assert b.update_of == (None, 2, 3)  # loss; w = arg2 - update; b = arg3 - update
    # each result depends on one 2^20-long reduction, not on all three
    assert all(1024 < a < 1100 for a in b.per_result), b.per_result
    assert b.amplification > np.sqrt(3) * 1024  # the module's: all three on one chain


def test_one_result_off_by_1e3_at_2p20_gives_no():
    """At 2^20 samples, any one result 1e-3 relative off fails the proof; the replay itself passes."""
    text, inputs, compiled, replay, ref = _regression_2p20()
    bound = error_bound(text, optimized=compiled.optimized_hlo())
    same = prove(replay, replay, ref, bound, inputs=inputs)
    assert same.replay.ok and same.native.ok and same.kappa == 1.0
    for i in range(len(replay)):
        bad = list(replay)
        bad[i] = (replay[i] * np.float32(1 + 1e-3)).astype(np.float32)
        p = prove(replay, bad, ref, bound, inputs=inputs, labels=["loss", "w", "b"])
        assert not p.native.ok and p.native.worst_result == i, (i, p.native)


def test_ill_conditioned_result_widens_only_its_own_allowance():
    """A result past its bound (kappa 1e3) gets an allowance; the other result keeps its bound."""
    x = [np.linspace(0.1, 0.9, 8, dtype=np.float32), np.full(8, 1e7, np.float32)]
    two = ILL.replace("-> tensor<8xf32> {", "-> (tensor<8xf32>, tensor<8xf32>) {").replace(
        "return %b : tensor<8xf32>", "return %b, %x : tensor<8xf32>, tensor<8xf32>"
    )
    b = error_bound(two)
    ref = reference(two, x)
    replay = run(compile_stablehlo(two), x)
    ok = prove(replay, [replay[0] + np.float32(0.5), replay[1]], ref, b)
    assert ok.replay.ok and ok.native.ok and ok.ill == (0,)
    assert ok.kappas[0] > 1e3 and ok.kappas[1] == 1.0
    assert ok.native.allowances == (4 * ok.kappas[0], 1.0)
    # 1.1x on the well-conditioned result: NO, though result 0's kappa is 1e3+
    p = prove(replay, [replay[0], replay[1] * np.float32(1.1)], ref, b)
    assert not p.native.ok and p.native.worst_result == 1


def test_sums_the_optimized_module_does_not_show_keep_the_stablehlo_charge():
    """A float custom-call in the optimized module (a library matmul): the StableHLO's K - 1 stay."""
    text = (DATA / "tf_regression_2p20.stablehlo.mlir").read_text()
    opt = (DATA / "tf_regression_2p20.optimized_hlo.txt").read_text()
    entry = opt.index("ENTRY %")
    body = opt.index("{\n", entry) + 2
    call = '  %lib = f32[4]{0} custom-call(), custom_call_target="vendor_matmul"\n'
    hidden = error_bound(text, optimized=opt[:body] + call + opt[body:])
    shown = error_bound(text, optimized=opt)
    plain = error_bound(text)
    assert hidden.per_result == plain.per_result and hidden.sequential == shown.sequential
    assert shown.amplification_at(0) < plain.amplification_at(0) / 5


def _chain_native_w(inputs):
    """w as TensorFlow's and torch_xla's own XLA compute it: w's gradient in one f32 chain."""
    x, y, w0, b0 = (a.ravel() for a in inputs)
    r = (x * w0[0] + b0[0]) - y
    t = np.float32(2.0**-20) * (r * np.float32(2))
    grad = np.cumsum(x * t, dtype=np.float32)[-1]
    return (w0 - np.float32(0.01) * grad).astype(np.float32).reshape(1, 1)


def test_simulated_chain_replaces_the_worst_case_and_keeps_1e3_detectable():
    """At 2^20 a one-chain w (torch_xla's) is charged its simulated chain, not (K - 1) u: 1e-3 off is NO."""
    from xlalens.proof import chain_charges

    text, inputs, _, replay, ref = _regression_2p20()
    charges = chain_charges(text, inputs)
    ((k, charge),) = charges.values()  # w's gradient; the forward dot x @ w has K = 1
    assert k == 2**20 and 1e3 < charge < 2**20 / 50, charges
    old = error_bound(text, unknown_emitter=True)
    new = error_bound(text, unknown_emitter=True, chains=charges)
    assert new.sequential == (0.0, charge, 0.0) and new.chains == ((k, charge),)
    # TensorFlow's own optimized module runs that dot as one chain: the same charge, on w only
    opt = (DATA / "tf_regression_2p20.optimized_hlo.txt").read_text()
    tf = error_bound(text, optimized=opt, chains=charges)
    assert tf.sequential == (31.0, charge, 31.0) and tf.chains == ((k, charge),)
    assert new.per_result == old.per_result  # the probabilistic part is unchanged
    native = [replay[0], _chain_native_w(inputs), replay[2]]
    # the chain really errs well past the sqrt(K) model's typical error, and within the charge
    assert abs(float(native[1][0, 0]) - float(ref[1][0, 0])) > 1e3 * 2.0**-24 * 0.2
    for b in (old, new):
        p = prove(replay, native, ref, b, inputs=inputs)
        assert p.replay.ok and p.native.ok, p.native
    bad = [native[0], (native[1] * np.float32(1 + 1e-3)).astype(np.float32), native[2]]
    assert prove(replay, bad, ref, old, inputs=inputs).native.ok  # the worst case lets it pass
    p = prove(replay, bad, ref, new, inputs=inputs)
    assert not p.native.ok and p.native.worst_result == 1
    assert type(new).from_dict(new.as_dict()) == new


def test_simulated_chain_keeps_the_worst_case_where_it_cannot_see_the_terms():
    """Short dots, a dot sharing K and size with an unsimulated one, a stagnating chain keep (K - 1) u."""
    from xlalens.proof import chain_charges

    assert chain_charges(MODULE, _inputs()) == {}  # K = 8 and 1024: below the simulated length
    k = 2**16
    one = f"""module @s {{
  func.func public @main(%a: tensor<{k}xf32>, %b: tensor<{k}xf32>) -> tensor<f32> {{
    %d = stablehlo.dot_general %a, %b, contracting_dims = [0] x [0] : (tensor<{k}xf32>, tensor<{k}xf32>) -> tensor<f32>
    return %d : tensor<f32>
  }}
}}
"""
    rng = np.random.default_rng(1)
    a, b = rng.uniform(0.5, 1.5, (2, k)).astype(np.float32)
    ((_, charge),) = chain_charges(one, [a, b]).values()
    assert 8 * np.sqrt(k / 3) < charge < 8 * np.sqrt(k)  # random terms: near the sqrt(K) model
    # the same K in a dot with a 64x64 result (above MAX_OUTPUTS: not simulated): another
    # size, so no optimized dot of this one's size can be that sum; the charge stays
    wide = one.replace(
        "return %d : tensor<f32>",
        f"%o = stablehlo.broadcast_in_dim %a, dims = [1] : (tensor<{k}xf32>) -> tensor<64x{k}xf32>\n"
        f"    %e = stablehlo.dot_general %o, %o, contracting_dims = [1] x [1] : "
        f"(tensor<64x{k}xf32>, tensor<64x{k}xf32>) -> tensor<64x64xf32>\n"
        "    return %d : tensor<f32>",
    )
    assert chain_charges(wide, [a, b]) == {0: (k, charge)}
    # the same K and size in a called function (not simulated): the charge could be its sum's
    dot = f"stablehlo.dot_general %a, %b, contracting_dims = [0] x [0] : (tensor<{k}xf32>, tensor<{k}xf32>) -> tensor<f32>"
    called = f"""module @s {{
  func.func public @main(%a: tensor<{k}xf32>, %b: tensor<{k}xf32>) -> (tensor<f32>, tensor<f32>) {{
    %d = {dot}
    %c = func.call @inner(%a, %b) : (tensor<{k}xf32>, tensor<{k}xf32>) -> tensor<f32>
    return %d, %c : tensor<f32>, tensor<f32>
  }}
  func.func private @inner(%a: tensor<{k}xf32>, %b: tensor<{k}xf32>) -> tensor<f32> {{
    %d = {dot}
    return %d : tensor<f32>
  }}
}}
"""
    assert chain_charges(called, [a, b]) == {}
    # x = [1, 2^-25, ...]: one running sum rounds every 2^-25 away (2^-9 relative, the
    # stagnation of tests/frontends/seq_sum_step.py); its simulated error is past (K - 1) u
    x = np.full(k, 2.0**-25, np.float32)
    x[0] = 1.0
    assert chain_charges(one, [x, np.ones(k, np.float32)]) == {}


def test_simulated_chain_on_a_module_without_a_reference_keeps_the_worst_case():
    """A module whose promotion does not parse gives no charge (and no error): K - 1 stays."""
    from xlalens.proof import chain_charges

    assert chain_charges("module @m { this is not MLIR", []) == {}


def test_optimized_dot_takes_a_simulated_charge_of_its_own_size_only():
    """A sequential optimized dot of the charged K but another output size keeps K - 1."""
    from xlalens.proof._bound import Accumulation, _Flow, _matched_charge

    k = 2**20
    flow = _Flow((), (), (), (), (), ((0, frozenset({0, 2})),), (32,))
    dot = Accumulation("dot.7", "dot", k, True, "dot.7", (0, 2), (), 32)
    assert _matched_charge(dot, {0: (k, 7e4)}, flow) == 7e4
    wider = Accumulation("dot.5", "dot", k, True, "dot.5", (1, 2), (), 1024)
    assert _matched_charge(wider, {0: (k, 7e4)}, flow) is None  # w1's gradient: not this chain


def test_every_chain_at_once_is_each_elements_own_chain() -> None:
    """The chains simulated together give each output element's own float32 running sums."""
    from xlalens.proof import _chains

    rng = np.random.default_rng(3)
    k, m, n = 5003, 3, 4  # K not a multiple of the lane counts: a padded last step
    a = rng.uniform(0.5, 1.5, (k, m)).astype(np.float32).astype(np.float64)
    b = rng.uniform(-1.0, 1.0, (k, n)).astype(np.float32).astype(np.float64)
    u = 2.0**-24
    worst = peak = 0.0
    for i in range(m):
        for j in range(n):
            terms = a[:, i] * b[:, j]
            exact = float(np.sum(terms))
            t32 = a[:, i].astype(np.float32) * b[:, j].astype(np.float32)
            off = 0.0
            for lanes in _chains.LANES:
                sums = [np.cumsum(t32[lane::lanes], dtype=np.float32)[-1] for lane in range(lanes)]
                total = float(np.cumsum(np.array(sums, np.float32), dtype=np.float32)[-1])
                off = max(off, abs(total - exact))
            partial = np.cumsum(terms)
            spread = _chains.LAMBDA * u * float(np.sqrt(np.dot(partial, partial)))
            worst = max(worst, _chains.CHAIN_FACTOR * off + spread)
            peak = max(peak, abs(exact))
    want = worst / (u * peak)
    arranged = (a.T[None].copy(), b.T[None].copy())  # [batch, M, K], [batch, N, K]
    # float64 sums in another order: the last bits only
    assert _chains._charge_rows(*arranged, _chains.LAMBDA) == pytest.approx(want, rel=1e-9)
    assert _chains._charge_each(*arranged, _chains.LAMBDA) == pytest.approx(want, rel=1e-9)
    assert _chains._charge(a.T.copy(), b, ([], [], [1], [0]), _chains.LAMBDA) == pytest.approx(
        want, rel=1e-9
    )
