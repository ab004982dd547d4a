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
