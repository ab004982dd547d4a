"""The proof of a result read after an update (jax's loss): attenuation and update scales."""

from __future__ import annotations

import dataclasses

import numpy as np

from xlalens._runtime import compile_stablehlo, run
from xlalens.proof import ErrorBound, error_bound, prove, reference, update_scales

N = 2**20
# A step that, like jax's seed, returns the loss computed after the update: the new
# w (read by a dot) and new biases (one read by an add) feed the loss; four
# reductions over all N samples make them, one more makes the loss.
AFTER = f"""module @after {{
  func.func public @main(%w: tensor<4xf32>, %b: tensor<3xf32>, %x: tensor<{N}x4xf32>, %y: tensor<{N}xf32>) -> (tensor<4xf32>, tensor<3xf32>, tensor<f32>) {{
    %z = stablehlo.constant dense<0.000000e+00> : tensor<f32>
    %inv = stablehlo.constant dense<9.53674316E-7> : tensor<{N}xf32>
    %lr4 = stablehlo.constant dense<1.000000e-01> : tensor<4xf32>
    %lr3 = stablehlo.constant dense<1.000000e-01> : tensor<3xf32>
    %p = stablehlo.dot_general %x, %w, contracting_dims = [1] x [0] : (tensor<{N}x4xf32>, tensor<4xf32>) -> tensor<{N}xf32>
    %bs = stablehlo.reduce(%b init: %z) applies stablehlo.add across dimensions = [0] : (tensor<3xf32>, tensor<f32>) -> tensor<f32>
    %bb = stablehlo.broadcast_in_dim %bs, dims = [] : (tensor<f32>) -> tensor<{N}xf32>
    %q = stablehlo.add %p, %bb : tensor<{N}xf32>
    %e = stablehlo.subtract %q, %y : tensor<{N}xf32>
    %r = stablehlo.multiply %e, %inv : tensor<{N}xf32>
    %g = stablehlo.dot_general %r, %x, contracting_dims = [0] x [0] : (tensor<{N}xf32>, tensor<{N}x4xf32>) -> tensor<4xf32>
    %rr = stablehlo.multiply %r, %e : tensor<{N}xf32>
    %ry = stablehlo.multiply %r, %y : tensor<{N}xf32>
    %s0 = stablehlo.reduce(%r init: %z) applies stablehlo.add across dimensions = [0] : (tensor<{N}xf32>, tensor<f32>) -> tensor<f32>
    %s1 = stablehlo.reduce(%rr init: %z) applies stablehlo.add across dimensions = [0] : (tensor<{N}xf32>, tensor<f32>) -> tensor<f32>
    %s2 = stablehlo.reduce(%ry init: %z) applies stablehlo.add across dimensions = [0] : (tensor<{N}xf32>, tensor<f32>) -> tensor<f32>
    %t0 = stablehlo.reshape %s0 : (tensor<f32>) -> tensor<1xf32>
    %t1 = stablehlo.reshape %s1 : (tensor<f32>) -> tensor<1xf32>
    %t2 = stablehlo.reshape %s2 : (tensor<f32>) -> tensor<1xf32>
    %gb = stablehlo.concatenate %t0, %t1, %t2, dim = 0 : (tensor<1xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<3xf32>
    %dw = stablehlo.multiply %lr4, %g : tensor<4xf32>
    %w1 = stablehlo.subtract %w, %dw : tensor<4xf32>
    %db = stablehlo.multiply %lr3, %gb : tensor<3xf32>
    %b1 = stablehlo.subtract %b, %db : tensor<3xf32>
    %p1 = stablehlo.dot_general %x, %w1, contracting_dims = [1] x [0] : (tensor<{N}x4xf32>, tensor<4xf32>) -> tensor<{N}xf32>
    %b0 = stablehlo.slice %b1 [0:1] : (tensor<3xf32>) -> tensor<1xf32>
    %bl = stablehlo.reshape %b0 : (tensor<1xf32>) -> tensor<f32>
    %bb1 = stablehlo.broadcast_in_dim %bl, dims = [] : (tensor<f32>) -> tensor<{N}xf32>
    %q1 = stablehlo.add %p1, %bb1 : tensor<{N}xf32>
    %e1 = stablehlo.subtract %q1, %y : tensor<{N}xf32>
    %sq = stablehlo.multiply %e1, %e1 : tensor<{N}xf32>
    %l = stablehlo.reduce(%sq init: %z) applies stablehlo.add across dimensions = [0] : (tensor<{N}xf32>, tensor<f32>) -> tensor<f32>
    return %w1, %b1, %l : tensor<4xf32>, tensor<3xf32>, tensor<f32>
  }}
}}
"""


def _inputs():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(N, 4)).astype(np.float32)
    y = (x @ np.array([1.0, -2.0, 0.5, 3.0]) + 0.3 + 0.1 * rng.normal(size=N)).astype(np.float32)
    return [np.full(4, 0.5, np.float32), np.zeros(3, np.float32), x, y]


def _numpy_step(inputs):
    """The same step in numpy float32, in its own summation orders (another compiler)."""
    w, b, x, y = inputs
    f = np.float32
    r = ((x @ w + b.sum(dtype=f)) - y) * f(9.53674316e-7)
    w1 = w - f(0.1) * (r @ x)
    e = (x @ w + b.sum(dtype=f)) - y
    gb = np.array([r.sum(dtype=f), (r * e).sum(dtype=f), (r * y).sum(dtype=f)], f)
    b1 = b - f(0.1) * gb
    e1 = (x @ w1 + b1[0]) - y
    return [w1, b1.astype(f), np.array(np.dot(e1, e1), f)]


def test_a_loss_read_after_the_update_gets_only_its_own_sums_at_full_weight():
    """The loss reads w and b after their update: what made the updates is kept apart."""
    b = error_bound(AFTER)
    assert b.update_of == (0, 1, None)
    (_, _, r0), (_, _, r1), (x2, _, r2) = b.through
    assert r0 == (0,) and r1 == (1,) and r2 == (0, 1)  # the loss reads both updates
    # behind the updates: the four reductions over N samples (and their products)
    assert 4 * (N - 1) < x2 < b.per_result[2] ** 2 - (N - 1)
    # a factor 1 changes nothing; a factor 0 leaves the loss's own reduction
    assert b.relative_at(2, 1.0) == b.relative_at(2)
    assert b.relative_at(2, 0.0) < b.relative_at(2) / 2
    assert type(b).from_dict(b.as_dict()) == b


def test_each_part_behind_the_updates_takes_its_own_updates_factor():
    """The loss's sums behind w only, b only, and both are kept apart and scaled apart."""
    b = error_bound(AFTER)
    parts = b.through_parts[2]
    assert {p[2] for p in parts} == {(0,), (1,), (0, 1)}
    assert sum(p[0] for p in parts) == b.through[2][0]
    # w's gradient (N - 1) reaches the loss through w alone; b's three sums through b
    by = {p[2]: p[0] for p in parts}
    assert by[(0,)] >= N - 1 and by[(1,)] >= 3 * (N - 1) and by[(0, 1)] < N - 1
    # factors 1 for both are the full weight; a small w factor shrinks only w's part
    assert b.relative_at(2, 1.0, {0: 1.0, 1: 1.0}) == b.relative_at(2)
    one = b.relative_at(2, 1.0, {0: 0.01, 1: 1.0})
    assert b.relative_at(2, 0.01) < one < b.relative_at(2)
    # an update without a factor (not measured) keeps its parts at full weight
    assert b.relative_at(2, 1.0, {0: 0.01}) == one


def test_update_scales_measure_where_the_updates_are_read():
    """w1 is read by a dot (its own peak); b1, sliced, by an add (that add's peak)."""
    inputs = _inputs()
    ref = reference(AFTER, inputs)
    scales = update_scales(AFTER, inputs)
    assert set(scales) == {0, 1}
    assert scales[0] == np.abs(ref[0]).max()
    q1 = inputs[2].astype(np.float64) @ ref[0] + ref[1][0]
    assert np.isclose(scales[1], np.abs(q1).max(), rtol=1e-12)
    assert scales[1] > 2 * np.abs(ref[1]).max()


def test_loss_after_update_1e3_off_at_2p20_gives_no_and_no_false_no():
    """With the updates' scales the loss's bound drops below 1e-3: a 1e-3 change is NO."""
    inputs = _inputs()
    ref = reference(AFTER, inputs)
    replay = run(compile_stablehlo(AFTER), inputs)
    plain = error_bound(AFTER)
    scales = update_scales(AFTER, inputs)
    bound = dataclasses.replace(plain, update_scale=tuple(scales.get(i, 0.0) for i in range(3)))
    assert ErrorBound.from_dict(bound.as_dict()) == bound
    bad = [replay[0], replay[1], (replay[2] * np.float32(1 + 1e-3)).astype(np.float32)]
    # at full weight the loss's bound is past 1e-3 of it (the change passed)
    assert plain.relative_at(2) > 1e-3
    # read through the updates' scales: NO, and only for the loss
    p = prove(replay, bad, ref, bound, inputs=inputs)
    assert p.replay.ok and not p.native.ok and p.native.worst_result == 2
    # no false NO: the replay, and the step as numpy float32 computes it
    for native in (replay, _numpy_step(inputs)):
        for b in (plain, bound):
            p = prove(replay, native, ref, b, inputs=inputs)
            assert p.replay.ok and p.native.ok and p.kappa == 1.0, p.native
    # the updated results themselves are judged as before (their own sums at full weight)
    same = prove(replay, replay, ref, plain, inputs=inputs)
    assert p.native.tolerances[:2] == same.native.tolerances[:2]


HLO = """HloModule after, is_scheduled=true

%sum (a: f32[], b: f32[]) -> f32[] {
  %a = f32[] parameter(0)
  %b = f32[] parameter(1)
  ROOT %s = f32[] add(%a, %b)
}

ENTRY %main (w: f32[4], x: f32[1024,4]) -> (f32[4], f32[]) {
  %w = f32[4]{0} parameter(0)
  %x = f32[1024,4]{1,0} parameter(1)
  %z = f32[] constant(0)
  %g = f32[4]{0} reduce(%x, %z), dimensions={0}, to_apply=%sum
  %NEW = f32[4]{0} subtract(%w, %g)
  %d = f32[1024]{0} dot(%x, %NEW), lhs_contracting_dims={1}, rhs_contracting_dims={0}
  %l = f32[] reduce(%d, %z), dimensions={0}, to_apply=%sum
  ROOT %t = (f32[4]{0}, f32[]) tuple(%NEW, %l)
}
"""


def test_optimized_module_cuts_at_the_update_and_never_at_an_argument():
    """The loss reads the gradient's reduce through the update; a folded update is no cut."""
    from xlalens.proof._accumulate import _accumulations

    found, n, reached = _accumulations(HLO, frozenset({0}))
    by = {a.name: a for a in found}
    assert n == 2 and reached == (frozenset(), frozenset({0}))
    assert by["g"].results == (0, 1) and by["g"].attenuated == (1,)
    assert by["l"].attenuated == ()  # the loss's own sum stays at full weight
    # the compiler returned the argument itself: its readers read it at full weight
    folded = HLO.replace("tuple(%NEW, %l)", "tuple(%w, %l)")
    found, _, reached = _accumulations(folded, frozenset({0}))
    assert all(a.attenuated == () for a in found) and reached == (frozenset(), frozenset())


def _called(text: str) -> str:
    """``text`` as jax lowers a user's jitted step: ``main`` only calls ``@step``."""
    head, rest = text.split("func.func public @main", 1)
    sig, body = rest.split(" {\n", 1)
    args = sig[1 : sig.index(") ->")]
    names = ", ".join(a.split(":")[0].strip() for a in args.split(", "))
    types = ", ".join(a.split(":", 1)[1].strip() for a in args.split(", "))
    outs = sig[sig.index("-> (") + 4 : -1]
    n = outs.count("tensor<")
    main = (
        f"func.func public @main{sig} {{\n"
        f"    %0:{n} = func.call @step({names}) : ({types}) -> ({outs})\n"
        f"    return {', '.join(f'%0#{i}' for i in range(n))} : {outs}\n  }}\n"
        f"  func.func private @step{sig} {{\n"
    )
    return head + main + body


def test_a_main_that_only_calls_the_step_is_followed_into_it():
    """A user's jitted step (main = call @step) gets the same per-result bound as inline."""
    called = _called(AFTER)
    assert "func.call @step" in called
    flat, inner = error_bound(AFTER), error_bound(called)
    assert inner.update_of == flat.update_of == (0, 1, None)
    assert inner.per_result == flat.per_result and inner.through == flat.through
    inputs = _inputs()
    assert update_scales(called, inputs) == update_scales(AFTER, inputs)


HLO2 = """HloModule two, is_scheduled=true

%sum (a: f32[], b: f32[]) -> f32[] {
  %a = f32[] parameter(0)
  %b = f32[] parameter(1)
  ROOT %s = f32[] add(%a, %b)
}

ENTRY %main (w: f32[4], v: f32[4], x: f32[1024,4]) -> (f32[4], f32[4], f32[]) {
  %w = f32[4]{0} parameter(0)
  %v = f32[4]{0} parameter(1)
  %x = f32[1024,4]{1,0} parameter(2)
  %z = f32[] constant(0)
  %g = f32[4]{0} reduce(%x, %z), dimensions={0}, to_apply=%sum
  %NEW = f32[4]{0} subtract(%w, %g)
  %xx = f32[1024,4]{1,0} multiply(%x, %x)
  %h = f32[4]{0} reduce(%xx, %z), dimensions={0}, to_apply=%sum
  %NEW2 = f32[4]{0} subtract(%v, %h)
  %s = f32[4]{0} add(%NEW, %NEW2)
  %d = f32[1024]{0} dot(%x, %s), lhs_contracting_dims={1}, rhs_contracting_dims={0}
  %l = f32[] reduce(%d, %z), dimensions={0}, to_apply=%sum
  ROOT %t = (f32[4]{0}, f32[4]{0}, f32[]) tuple(%NEW, %NEW2, %l)
}
"""


def test_optimized_module_keeps_each_kernel_s_own_updates():
    """Behind two updates the loss reads, each reduce is listed with the update it goes through."""
    from xlalens.proof._accumulate import _accumulations

    found, n, reached = _accumulations(HLO2, frozenset({0, 1}))
    by = {a.name: a for a in found}
    assert n == 3 and reached[2] == frozenset({0, 1})
    assert by["g"].attenuated == (2,) and by["g"].reached == ((0,),)
    assert by["h"].attenuated == (2,) and by["h"].reached == ((1,),)
    assert by["l"].attenuated == () and by["l"].reached == ()
