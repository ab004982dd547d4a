"""Cross-framework meaning: the training step diffed across frameworks at the canonical level.

Uses the real captures at tests/core/data/dumps/{regression,mlp} (written by `xlalens dump`).
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from xlalens.diff import diff

DUMPS = Path(__file__).parent / "data" / "dumps"
DUMP = DUMPS / "regression"

pytestmark = pytest.mark.skipif(
    not (DUMP / "manifest.json").is_file(),
    reason=f"no regression dump at {DUMP} yet (the capture stage writes it with `xlalens dump`)",
)


def _manifest(dump: Path = DUMP) -> dict:
    return json.loads((dump / "manifest.json").read_text())


def _frontends(dump: Path = DUMP) -> list[str]:
    if not (dump / "manifest.json").is_file():
        return []
    fronts = _manifest(dump)["frontends"]
    return [fe for fe, info in fronts.items() if info.get("status") == "ok"]


def _cases() -> list[tuple[str, str, str]]:
    out = []
    for name in ("regression", "mlp"):
        fronts = _frontends(DUMPS / name)
        out += [(name, fa, fb) for fa, fb in itertools.combinations(fronts, 2)]
    return out


def _results(g, signature: dict) -> dict[str, str]:
    """role -> node id of the entry op producing that result (skipping unnamed/duplicate roles)."""
    root = g.graph["computations"][g.graph["entry"]]["root"]
    ops = [u for u, _, _ in sorted(g.in_edges(root, keys=True), key=lambda e: e[2])]
    if g.nodes[root]["op"] not in ("return", "tuple"):
        ops = [root]
    roles = [o.get("role") for o in signature.get("outputs", [])]
    out: dict[str, str] = {}
    for role, node in zip(roles, ops):
        if role and roles.count(role) == 1:
            out[role] = node
    return out


def _params(g) -> dict[str, str]:
    """role -> entry parameter node id, for parameters the canonical level named."""
    entry = g.graph["computations"][g.graph["entry"]]
    out = {}
    for p in entry["params"]:
        role = g.nodes[p]["role"]
        if role:
            out.setdefault(role, p)
    return out


@pytest.mark.parametrize("dump,fa,fb", _cases())
def test_step_pairs_parameters_loss_and_updates(dump: str, fa: str, fb: str) -> None:
    """Across two frameworks, parameters pair by role, and the loss and update results pair."""
    from xlalens.ir import load

    folder = DUMPS / dump
    man = _manifest(folder)
    ga = load(f"{folder}:{fa}", level="canonical")
    gb = load(f"{folder}:{fb}", level="canonical")
    d = diff(ga, gb)
    m = d.mapping()
    pa, pb = _params(ga), _params(gb)
    shared = sorted(set(pa) & set(pb))
    assert {"x", "y"} <= set(shared) and any(r.startswith("w") for r in shared), (pa, pb)
    for role in shared:
        assert m.get(pa[role]) == pb[role], (
            f"parameter {role}: {pa[role]} -> {m.get(pa[role])}, want {pb[role]}"
        )
    ra = _results(ga, man["frontends"][fa]["signature"])
    rb = _results(gb, man["frontends"][fb]["signature"])
    updates = sorted(r for r in set(ra) & set(rb) if r == "loss" or r[0] in "wb")
    assert "loss" in updates and len(updates) >= 3, (ra, rb)
    for role in updates:
        assert m.get(ra[role]) == rb[role], (
            f"result {role}: {ra[role]} ({ga.nodes[ra[role]]['op']}) -> {m.get(ra[role])}, "
            f"want {rb[role]} ({gb.nodes[rb[role]]['op']})\n{d.to_text(limit=5)}"
        )
    # Meaningful, not two unrelated graphs: most of the smaller graph is paired.
    smaller = min(ga.number_of_nodes(), gb.number_of_nodes())
    assert len(d.pairs) >= 0.6 * smaller, d.to_text(limit=5)


def test_learning_rate_argument_shows_as_a_difference() -> None:
    """torch_xla's learning-rate argument is reported (unpaired or changed), not hidden."""
    fronts = _frontends()
    if not {"jax", "torch_xla"} <= set(fronts):
        pytest.skip(f"needs jax and torch_xla in the dump; it has {fronts}")
    from xlalens.ir import load

    gj = load(f"{DUMP}:jax", level="canonical")
    gt = load(f"{DUMP}:torch_xla", level="canonical")
    d = diff(gj, gt)
    lr = [n for n in _params(gt).values() if gt.nodes[n]["role"] == "lr"]
    if not lr:
        pytest.skip("the canonical torch_xla graph names no lr parameter")
    back = {b: a for a, b in d.mapping().items()}
    partner = back.get(lr[0])
    changed = {p.b for p in d.pairs if p.status == "changed"}
    assert partner is None or lr[0] in changed or gj.nodes[partner]["role"] == "lr"
    assert "lr" in d.to_text(limit=0) or lr[0] in d.to_text(limit=0)
