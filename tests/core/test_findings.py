"""Findings: verdicts come from the numbers, and none is given inside the spread."""

from __future__ import annotations

import json
from pathlib import Path

from xlalens.timing import findings_markdown, report_section, write_findings


def _step(median_ms: float, iqr_ms: float) -> dict:
    return {"median_s": median_ms / 1e3, "iqr_s": iqr_ms / 1e3, "cv": 0.01, "n": 100}


def _dump(root: Path, natives: dict[str, tuple[float, float]]) -> Path:
    """A dump whose timing results give each frontend the native (median, IQR) in ms."""
    root.mkdir(parents=True)
    fronts, results = {}, {}
    for fe, (med, iqr) in natives.items():
        fronts[fe] = {"status": "ok", "op_counts": {"stablehlo": 50, "hlo": 52, "optimized_hlo": 8}}
        results[fe] = {
            "status": "ok",
            "step": _step(0.02, 0.002),
            "kernels": [{"name": "k"}] * 3,
            "roofline": {"fraction_of_roofline": 0.002},
            "native": {
                "step": _step(med, iqr),
                "rounds": 5,
                "difference_s": (med - 0.02) / 1e3,
                "difference_range_s": [(med - 0.02 - iqr) / 1e3, (med - 0.02 + iqr) / 1e3],
                "significant": med - 0.02 > iqr,
            },
        }
    manifest = {
        "format_version": 2,
        "workload": {"name": "regression", "size": 4},
        "backend": "cpu",
        "frontends": fronts,
    }
    (root / "manifest.json").write_text(json.dumps(manifest))
    (root / "timing").mkdir()
    doc = {
        "schema_version": 1,
        "backend": "cpu",
        "device": {"device_kind": "cpu"},
        "frontends": results,
    }
    (root / "timing/cpu.json").write_text(json.dumps(doc))
    return root


def test_claims_follow_the_numbers(tmp_path):
    """jax fastest, torch_xla slowest: claims 1 and 3 supported, tensorflow (between) mixed."""
    d = _dump(
        tmp_path / "d", {"jax": (0.02, 0.002), "tensorflow": (0.3, 0.05), "torch_xla": (1.0, 0.1)}
    )
    text = findings_markdown(d)
    assert "**JAX is optimized for XLA**: supported." in text
    assert "**TF/XLA static graphs are efficient**: mixed." in text
    assert "**PyTorch's dynamic graphs are slower**: supported." in text
    assert "| jax | 50 / 52 / 8 | 3 | 0.02 ms ± 0.001 | 0.02 ms ± 0.001 |" in text
    assert write_findings(d).read_text().startswith("# Findings: regression step, 4 samples, cpu")


def test_no_verdict_within_the_spread(tmp_path):
    """Overlapping spreads give 'no verdict', never a guess."""
    d = _dump(
        tmp_path / "d",
        {"jax": (0.03, 0.02), "tensorflow": (0.035, 0.02), "torch_xla": (0.04, 0.02)},
    )
    text = findings_markdown(d)
    assert text.count("no verdict: within the spread") == 3, text
    assert "within the spread" in text.split("## The seed")[0]


def test_other_way_round_is_not_supported(tmp_path):
    """torch_xla fastest: 'PyTorch is slower' is not supported."""
    d = _dump(
        tmp_path / "d", {"jax": (1.0, 0.01), "tensorflow": (2.0, 0.01), "torch_xla": (0.1, 0.01)}
    )
    text = findings_markdown(d)
    assert "**PyTorch's dynamic graphs are slower**: not supported." in text
    assert "**JAX is optimized for XLA**: mixed." in text


def test_report_section_and_untimed(tmp_path):
    """report_section gives a title and an HTML table; an untimed dump gives None."""
    d = _dump(tmp_path / "d", {"jax": (0.02, 0.002), "torch_xla": (1.0, 0.1)})
    title, fragment = report_section(d)
    assert "Findings" in title and "<table>" in fragment and "supported" in fragment
    (d / "timing/cpu.json").unlink()
    assert report_section(d) is None and findings_markdown(d) is None


def test_slowest_kernel_per_frontend_is_named(tmp_path):
    """The findings name each frontend's slowest kernel (its time per step, all calls), its share, roofline and origin."""
    d = _dump(tmp_path / "d", {"jax": (0.02, 0.002), "torch_xla": (1.0, 0.1)})
    doc = json.loads((d / "timing/cpu.json").read_text())
    doc["frontends"]["jax"]["kernels"] = [
        {"name": "loop_fusion", "opcode": "fusion", "kind": "kLoop", "median_s": 2e-6,
         "calls_per_step": 1.0, "share": 0.2},
        {"name": "while", "opcode": "while", "median_s": 3e-6, "share": 0.3},
        {"name": "ynn_fusion", "opcode": "fusion", "kind": "kCustom", "median_s": 4e-6,
         "calls_per_step": 4.0, "share": 0.8, "fraction_of_roofline": 0.019,
         "bound_by": "memory", "op_name": "jit(step)/reduce_sum",
         "source_file": "/x/fe_jax.py", "source_line": 99},
    ]  # fmt: skip
    (d / "timing/cpu.json").write_text(json.dumps(doc))
    text = findings_markdown(d)
    hot = text.split("## Where the compiled step's time goes")[1]
    assert (
        "- jax (cpu): `ynn_fusion` (fusion kCustom; jit(step)/reduce_sum @ /x/fe_jax.py:99) "
        "0.004 ms, 80.0% of the profiled step, 1.9% of its roofline bound (memory)" in hot
    )
    assert "torch_xla" not in hot  # its kernels carry no times
    assert "ynn_fusion" in report_section(d)[1]


def test_sharded_results_give_no_findings(tmp_path):
    """A sharded dump's results (no native rounds) give no findings and no report section."""
    d = _dump(tmp_path / "d", {"jax": (0.02, 0.002), "torch_xla": (1.0, 0.1)})
    doc = json.loads((d / "timing/cpu.json").read_text())
    doc["sharding"] = {"devices": 4, "mesh": [2, 2], "axes": ["data", "model"], "strategy": "dp"}
    (d / "timing/cpu.json").write_text(json.dumps(doc))
    assert findings_markdown(d) is None and report_section(d) is None
