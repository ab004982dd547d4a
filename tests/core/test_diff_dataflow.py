"""The dataflow matcher's rules for dots/convolutions (issue 21), on small HLO steps."""

from __future__ import annotations

from xlalens.diff import diff
from xlalens.ir import load

# One square layer trained on a squared error: forward dot f, input gradient g (reads w
# transposed), weight gradient wg. REMAT adds a recomputation r of the forward dot, as
# jax's checkpoint does (0 - x where f reads -x: its barrier makes it a value of its
# own), which the backward pass reads instead of f.
STEP = """HloModule m

add {
  p0 = f32[] parameter(0)
  p1 = f32[] parameter(1)
  ROOT s = f32[] add(p0, p1)
}

ENTRY main {
  x = f32[4,8]{1,0} parameter(0)
  y = f32[4,8]{1,0} parameter(1)
  w = f32[8,8]{1,0} parameter(2)
  nx = f32[4,8]{1,0} negate(x)
  f = f32[4,8]{1,0} dot(nx, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}
  t = f32[4,8]{1,0} tanh(f)
  e = f32[4,8]{1,0} subtract(t, y)
  sq = f32[4,8]{1,0} multiply(e, e)
  z = f32[] constant(0)
  loss = f32[] reduce(sq, z), dimensions={0,1}, to_apply=add
  REMAT
  dt = f32[4,8]{1,0} multiply(e, BACK)
  wt = f32[8,8]{1,0} transpose(w), dimensions={1,0}
  g = f32[4,8]{1,0} dot(dt, wt), lhs_contracting_dims={1}, rhs_contracting_dims={0}
  gs = f32[] reduce(g, z), dimensions={0,1}, to_apply=add
  nxt = f32[8,4]{1,0} transpose(nx), dimensions={1,0}
  wg = f32[8,8]{1,0} dot(nxt, dt), lhs_contracting_dims={1}, rhs_contracting_dims={0}
  lr = f32[] constant(0.1)
  lrb = f32[8,8]{1,0} broadcast(lr), dimensions={}
  st = f32[8,8]{1,0} multiply(lrb, wg)
  nw = f32[8,8]{1,0} subtract(w, st)
  ROOT out = (f32[], f32[8,8]{1,0}, f32[]) tuple(loss, nw, gs)
}
"""
SIG = {
    "inputs": [{"role": "x"}, {"role": "y"}, {"role": "w"}],
    "outputs": [{"role": "loss"}, {"role": "w"}, {"role": "gsum"}],
}


def _step(remat: bool):
    text = STEP.replace(
        "REMAT",
        "zb = f32[4,8]{1,0} broadcast(z), dimensions={}\n  nx2 = f32[4,8]{1,0} subtract(zb, x)\n"
        "  r = f32[4,8]{1,0} dot(nx2, w), "
        "lhs_contracting_dims={1}, rhs_contracting_dims={0}\n  rt = f32[4,8]{1,0} tanh(r)"
        if remat
        else "",
    ).replace("BACK", "rt" if remat else "t")
    return load(text, level="canonical", stage="hlo", signature=SIG)


def test_remat_recomputation_never_takes_the_input_gradient():
    """A recomputed forward dot (no loss, no labels upstream) stays unpaired; the input gradients pair."""
    d = diff(_step(True), _step(False))
    pairs = {p.a: (p.b, p.stage) for p in d.pairs}
    assert pairs["main/g"] == ("main/g", "dataflow")
    assert pairs["main/f"][0] == "main/f"
    assert pairs["main/wg"][0] == "main/wg"
    assert "main/r" in d.only_a


def test_weightless_dots_pair_by_their_paired_producers():
    """Two same-shape dots that read no weight (attention's) pair by the values they read, not program order."""
    text = """HloModule m

ENTRY main {
  a = f32[4,4]{1,0} parameter(0)
  b = f32[4,4]{1,0} parameter(1)
  ea = f32[4,4]{1,0} exponential(a)
  sb = f32[4,4]{1,0} sine(b)
  D1
  D2
  s = f32[4,4]{1,0} add(d1, d2)
  ROOT out = (f32[4,4]{1,0}) tuple(s)
}
"""
    d1 = "d1 = f32[4,4]{1,0} dot(ea, ea), lhs_contracting_dims={1}, rhs_contracting_dims={0}"
    d2 = "d2 = f32[4,4]{1,0} dot(sb, ea), lhs_contracting_dims={1}, rhs_contracting_dims={0}"
    sig = {"inputs": [{"role": "a"}, {"role": "b"}], "outputs": [{"role": "s"}]}
    ga = load(
        text.replace("D1", d1).replace("D2", d2), level="canonical", stage="hlo", signature=sig
    )
    # B computes them in the other order and names them the other way round.
    swapped = text.replace("D1", d2.replace("d2 =", "d1 =")).replace(
        "D2", d1.replace("d1 =", "d2 =")
    )
    gb = load(swapped, level="canonical", stage="hlo", signature=sig)
    pairs = {p.a: p.b for p in diff(ga, gb).pairs}
    assert pairs["main/d1"] == "main/d2"
    assert pairs["main/d2"] == "main/d1"


def test_a_role_never_pairs_a_dot_with_an_elementwise_op():
    """torch's first-step momentum buffer is the gradient dot; Keras's is a subtract: same role, no pair."""
    text = """HloModule m

ENTRY main {
  x = f32[4,8]{1,0} parameter(0)
  g = f32[4,8]{1,0} parameter(1)
  m = f32[8,8]{1,0} parameter(2)
  xt = f32[8,4]{1,0} transpose(x), dimensions={1,0}
  d = f32[8,8]{1,0} dot(xt, g), lhs_contracting_dims={1}, rhs_contracting_dims={0}
  BUF
  ROOT out = (f32[8,8]{1,0}) tuple(buf)
}
"""
    sig = {"inputs": [{"role": "x"}, {"role": "g"}, {"role": "m"}], "outputs": [{"role": "m"}]}
    ga = load(
        text.replace("BUF", "buf = f32[8,8]{1,0} copy(d)").replace("(buf)", "(d)"),
        level="canonical",
        stage="hlo",
        signature=sig,
    )
    gb = load(
        text.replace("BUF", "buf = f32[8,8]{1,0} subtract(m, d)"),
        level="canonical",
        stage="hlo",
        signature=sig,
    )
    pairs = {p.a: p.b for p in diff(ga, gb).pairs}
    assert pairs.get("main/d") == "main/d"


def test_phases_tell_forward_gradient_and_recomputation_apart():
    """f is fwd, its recomputation r remat, the gradients g and wg bwd; a loss of the updated weights keeps f fwd."""
    from xlalens.diff._match_dataflow import phases
    from xlalens.diff._side import _Side

    side = _Side(_step(True), {})
    got = {side.ids[i]: p for i, p in enumerate(phases(side)[0]) if p is not None}
    assert got == {"main/f": "fwd", "main/r": "remat", "main/g": "bwd", "main/wg": "bwd"}
    # The seed's jax step returns the loss of the updated weights: that loss reads
    # nw (so depends on every gradient); the labels still tell forward from backward.
    text = STEP.replace("REMAT", "").replace("BACK", "t")
    text = text.replace(
        "ROOT out = (f32[], f32[8,8]{1,0}, f32[]) tuple(loss, nw, gs)",
        "f2 = f32[4,8]{1,0} dot(nx, nw), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n"
        "  e2 = f32[4,8]{1,0} subtract(f2, y)\n"
        "  l2 = f32[] reduce(e2, z), dimensions={0,1}, to_apply=add\n"
        "  ROOT out = (f32[], f32[8,8]{1,0}, f32[]) tuple(l2, nw, gs)",
    )
    side = _Side(load(text, level="canonical", stage="hlo", signature=SIG), {})
    got = {side.ids[i]: p for i, p in enumerate(phases(side)[0]) if p is not None}
    assert got["main/f"] == "fwd" and got["main/wg"] == "bwd" and got["main/f2"] == "bwd"


# One layer's weight gradient: A as one dot, B per sample ([batch, in, out], as
# TensorFlow computes an einsum's) summed over the batch after.
WGRAD = """HloModule m

add {
  p0 = f32[] parameter(0)
  p1 = f32[] parameter(1)
  ROOT s = f32[] add(p0, p1)
}

ENTRY main {
  x = f32[4,8]{1,0} parameter(0)
  y = f32[4,8]{1,0} parameter(1)
  w = f32[8,8]{1,0} parameter(2)
  a = f32[4,8]{1,0} tanh(x)
  f = f32[4,8]{1,0} dot(a, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}
  e = f32[4,8]{1,0} subtract(f, y)
  sq = f32[4,8]{1,0} multiply(e, e)
  z = f32[] constant(0)
  loss = f32[] reduce(sq, z), dimensions={0,1}, to_apply=add
  WG
  lr = f32[] constant(0.1)
  lrb = f32[8,8]{1,0} broadcast(lr), dimensions={}
  st = f32[8,8]{1,0} multiply(lrb, wg)
  nw = f32[8,8]{1,0} subtract(w, st)
  ROOT out = (f32[], f32[8,8]{1,0}) tuple(loss, nw)
}
"""


def test_weight_gradient_summed_over_the_batch_pairs_by_dataflow():
    """A per-sample weight-gradient dot summed over the batch pairs with the plain dot (its summed size)."""
    from xlalens.diff._match import match

    sig = {"inputs": [{"role": "x"}, {"role": "y"}, {"role": "w"}],
           "outputs": [{"role": "loss"}, {"role": "w"}]}  # fmt: skip
    one = (
        "at = f32[8,4]{1,0} transpose(a), dimensions={1,0}\n"
        "  wg = f32[8,8]{1,0} dot(at, e), lhs_contracting_dims={1}, rhs_contracting_dims={0}"
    )
    batched = (
        "a3 = f32[4,8,1]{2,1,0} reshape(a)\n  e3 = f32[4,1,8]{2,1,0} reshape(e)\n"
        "  wb = f32[4,8,8]{2,1,0} dot(a3, e3), lhs_batch_dims={0}, rhs_batch_dims={0}, "
        "lhs_contracting_dims={2}, rhs_contracting_dims={1}\n"
        "  wg = f32[8,8]{1,0} reduce(wb, z), dimensions={0}, to_apply=add"
    )
    ga = load(WGRAD.replace("WG", one), level="canonical", stage="hlo", signature=sig)
    gb = load(WGRAD.replace("WG", batched), level="canonical", stage="hlo", signature=sig)
    m = match(ga, gb, stages=("exact", "anchor"))  # the dataflow stage, no similarity
    pairs = {a: (b, stage) for a, b, stage in m.pairs}
    assert pairs["main/wg"] == ("main/wb", "dataflow")


def test_scores_pair_through_a_scaling_on_either_side():
    """Two heads' q k^T pair by their q and k when one side scales q and k by a scalar first and the other the scores."""
    from xlalens.diff._match import match

    text = """HloModule m

ENTRY main {
  x = f32[4,8]{1,0} parameter(0)
  c = f32[] parameter(1)
  HEADS
  e = f32[4,4]{1,0} add(e1, e2)
  ROOT out = (f32[4,4]{1,0}) tuple(e)
}
"""
    head = (
        "wqN = f32[8,8]{1,0} parameter(2N)\n  wkN = f32[8,8]{1,0} parameter(3N)\n"
        "  qN = f32[4,8]{1,0} dot(x, wqN), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n"
        "  kN = f32[4,8]{1,0} dot(x, wkN), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n"
    )
    after = (
        "  scN = f32[4,4]{1,0} dot(qN, kN), lhs_contracting_dims={1}, rhs_contracting_dims={1}\n"
        "  cbN = f32[4,4]{1,0} broadcast(c), dimensions={}\n"
        "  ssN = f32[4,4]{1,0} multiply(scN, cbN)\n  eN = f32[4,4]{1,0} exponential(ssN)\n"
    )
    before = (
        "  cbN = f32[4,8]{1,0} broadcast(c), dimensions={}\n"
        "  qsN = f32[4,8]{1,0} multiply(qN, cbN)\n  ksN = f32[4,8]{1,0} multiply(cbN, kN)\n"
        "  scN = f32[4,4]{1,0} dot(qsN, ksN), lhs_contracting_dims={1}, rhs_contracting_dims={1}\n"
        "  eN = f32[4,4]{1,0} exponential(scN)\n"
    )

    def step(body: str):
        heads = "".join((head + body).replace("2N", str(2 * n)).replace("3N", str(2 * n + 1))
                        .replace("N", str(n)) for n in (1, 2))  # fmt: skip
        roles = ["x", "c"] + [f"w{t}{n}" for n in (1, 2) for t in "qk"]
        sig = {"inputs": [{"role": r} for r in roles], "outputs": [{"role": "e"}]}
        return load(text.replace("HEADS", heads), level="canonical", stage="hlo", signature=sig)

    pairs = {a: b for a, b, _ in match(step(after), step(before), stages=("exact", "anchor")).pairs}
    assert pairs.get("main/sc1") == "main/sc1" and pairs.get("main/sc2") == "main/sc2"


def test_bottom_up_propagation_sees_through_a_reshape_and_tells_slices_by_attributes():
    """torch_xla reshapes a matmul's result that torchax's dot gives whole; q, k, v slices pair by their bounds."""
    from xlalens.diff._match import _Matcher

    head = """HloModule m

ENTRY main {
  x = f32[2,3,5]{2,1,0} parameter(0)
  w = f32[5,6]{1,0} parameter(1)
  b = f32[2,3,6]{2,1,0} parameter(2)
  DOT
  a = f32[2,3,6]{2,1,0} subtract(OUT, b)
  sa = f32[2,3,2]{2,1,0} slice(a), slice={[0:2], [0:3], [0:2]}
  sb = f32[2,3,2]{2,1,0} slice(a), slice={[0:2], [0:3], [2:4]}
  e0 = f32[2,3,2]{2,1,0} exponential(sa)
  e1 = f32[2,3,2]{2,1,0} sine(sb)
  ROOT out = (f32[2,3,2]{2,1,0}, f32[2,3,2]{2,1,0}) tuple(e0, e1)
}
"""
    flat = (
        "x2 = f32[6,5]{1,0} reshape(x)\n"
        "  d = f32[6,6]{1,0} dot(x2, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n"
        "  r = f32[2,3,6]{2,1,0} reshape(d)"
    )
    whole = "d = f32[2,3,6]{2,1,0} dot(x, w), lhs_contracting_dims={2}, rhs_contracting_dims={0}"
    ga = load(head.replace("DOT", flat).replace("OUT", "r"), level="canonical", stage="hlo")
    gb = load(head.replace("DOT", whole).replace("OUT", "d"), level="canonical", stage="hlo")
    m = _Matcher(ga, gb)
    da, db = m.A.index["main/d"], m.B.index["main/d"]
    m._pair(da, db, "dataflow")
    m.propagate([(da, db)])  # bottom-up only: nothing else is paired
    pairs = {m.A.ids[a]: m.B.ids[b] for a, b in enumerate(m.ma) if b >= 0}
    assert pairs["main/a"] == "main/a"
    assert pairs["main/sa"] == "main/sa" and pairs["main/sb"] == "main/sb"
    assert "main/r" not in pairs  # the reshape itself stays unpaired


def test_io_key_pairs_dots_that_share_consumers_by_their_paired_producer():
    """dQ and dK feed one concatenate and read one differently spelled gradient; each pairs by its own slice."""
    from xlalens.diff._match import match

    text = """HloModule m

ENTRY main {
  x = f32[2,8,4]{2,1,0} parameter(0)
  p = f32[4,4]{1,0} parameter(1)
  G
  qa = f32[1,8,4]{2,1,0} slice(x), slice={[0:1], [0:8], [0:4]}
  ka = f32[1,8,4]{2,1,0} slice(x), slice={[1:2], [0:8], [0:4]}
  q = f32[8,4]{1,0} reshape(qa)
  k = f32[8,4]{1,0} reshape(ka)
  dq = f32[8,4]{1,0} dot(k, g), lhs_contracting_dims={1}, rhs_contracting_dims={0}
  dk = f32[8,4]{1,0} dot(q, g), lhs_contracting_dims={1}, rhs_contracting_dims={1}
  c = f32[16,4]{1,0} concatenate(dq, dk), dimensions={0}
  ROOT out = (f32[16,4]{1,0}) tuple(c)
}
"""
    sig = {"inputs": [{"role": "x"}, {"role": "p"}], "outputs": [{"role": "c"}]}
    ga = load(text.replace("G", "g = f32[4,4]{1,0} multiply(p, p)"), level="canonical",
              stage="hlo", signature=sig)  # fmt: skip
    gb = load(text.replace("G", "g = f32[4,4]{1,0} exponential(p)"), level="canonical",
              stage="hlo", signature=sig)  # fmt: skip
    pairs = {a: (b, s) for a, b, s in match(ga, gb, stages=("exact", "anchor")).pairs}
    assert pairs["main/dq"] == ("main/dq", "dataflow")
    assert pairs["main/dk"] == ("main/dk", "dataflow")
    assert "main/g" not in pairs
