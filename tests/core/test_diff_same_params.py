"""Dots pair only with partners that depend on the same paired parameters (issue 21)."""

from __future__ import annotations

import lzma
import sys
from pathlib import Path

import xlalens
from xlalens.diff import diff

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / "benchmarks" / "data" / "diff_quality" / "keras_hub_llama"
sys.path.insert(0, str(ROOT / "benchmarks"))
from diff_truth import truth  # noqa: E402  (the benchmark's ground truth, not the matcher)


def _unpack(dest: Path) -> Path:
    for xz in CACHE.rglob("*.xz"):
        out = dest / xz.relative_to(CACHE).with_suffix("")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(lzma.decompress(xz.read_bytes()))
    return dest


def test_keras_hub_llama_score_matmuls_pair_within_their_layer(tmp_path):
    """keras-hub Llama, keras-jax v keras-tensorflow optimized HLO: every dot pairs as the
    ground truth labels it (the two layers' score matmuls used to pair crosswise)."""
    dump = _unpack(tmp_path / "llama")
    ga = xlalens.load(f"{dump}:keras-jax:optimized_hlo", level="canonical")
    gb = xlalens.load(f"{dump}:keras-tensorflow:optimized_hlo", level="canonical")
    la, lb = truth(ga), truth(gb)
    d = diff(ga, gb)
    dots = [(p.a, p.b) for p in d.pairs if p.a in la or p.b in lb]
    wrong = [(a, la.get(a), b, lb.get(b)) for a, b in dots if la.get(a) != lb.get(b)]
    assert len(dots) >= 57 and not wrong, wrong
