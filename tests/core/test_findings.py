"""Findings: verdicts come from the numbers, and none is given inside the spread."""

from __future__ import annotations

import json
from pathlib import Path

from xlalens.timing import findings_markdown, report_section, write_findings


def _step(median_ms: float, iqr_ms: float) -> dict:
    return {"median_s": median_ms / 1e3, "iqr_s": iqr_ms / 1e3, "cv": 0.01, "n": 100}


def _dump(
    root: Path,
    natives: dict[str, tuple[float, float]],
    compiled: dict[str, tuple[float, float]] | None = None,
    workload: dict | None = None,
) -> Path:
    """A dump whose timing results give each frontend the native (median, IQR) in ms
    (and the compiled step's, default 0.02 ± 0.001 ms for all)."""
    root.mkdir(parents=True)
    fronts, results = {}, {}
    for fe, (med, iqr) in natives.items():
        fronts[fe] = {"status": "ok", "op_counts": {"stablehlo": 50, "hlo": 52, "optimized_hlo": 8}}
        results[fe] = {
            "status": "ok",
            "step": _step(*(compiled or {}).get(fe, (0.02, 0.002))),
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
        "workload": workload or {"name": "regression", "size": 4},
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
    """jax's dispatch least, torch_xla's most: framework verdicts 1 and 3 supported, tf mixed;
    equal compiled steps give no XLA verdict."""
    d = _dump(
        tmp_path / "d", {"jax": (0.02, 0.002), "tensorflow": (0.3, 0.05), "torch_xla": (1.0, 0.1)}
    )
    text = findings_markdown(d)
    claims = text.split("## The seed's claims")[1]
    jax_c, tf_c, torch_c = claims.split("- **")[1:4]
    assert jax_c.startswith("JAX is optimized for XLA**") and "framework: supported (" in jax_c
    assert "XLA: no verdict: within the spread." in jax_c
    assert "framework: mixed (" in tf_c
    assert "framework: supported (" in torch_c
    assert "| jax | 50 / 52 / 8 | 3 | 0.02 ms ± 0.001 | 0.02 ms ± 0.001 |" in text
    assert write_findings(d).read_text().startswith("# Findings: regression step, 4 samples, cpu")


def test_xla_verdict_reads_the_compiled_steps(tmp_path):
    """jax's compiled step slowest, its dispatch least: XLA not supported, framework supported."""
    d = _dump(
        tmp_path / "d",
        {"jax": (1.02, 0.002), "tensorflow": (1.3, 0.05), "torch_xla": (2.0, 0.1)},
        compiled={"jax": (1.0, 0.01), "tensorflow": (0.5, 0.01), "torch_xla": (0.5, 0.01)},
    )
    jax_c = findings_markdown(d).split("- **")[1]
    assert "XLA: not supported (" in jax_c and "framework: supported (" in jax_c


def test_no_verdict_within_the_spread(tmp_path):
    """Overlapping spreads give 'no verdict', never a guess."""
    d = _dump(
        tmp_path / "d",
        {"jax": (0.03, 0.02), "tensorflow": (0.035, 0.02), "torch_xla": (0.04, 0.02)},
    )
    text = findings_markdown(d)
    assert text.count("no verdict: within the spread") == 6, text
    assert "within the spread" in text.split("## The seed")[0]


def test_other_way_round_is_not_supported(tmp_path):
    """torch_xla's dispatch least: 'PyTorch is slower' is not supported; torchax is left out."""
    d = _dump(
        tmp_path / "d",
        {"jax": (1.0, 0.01), "tensorflow": (2.0, 0.01), "torch_xla": (0.1, 0.01),
         "torchax": (5.0, 0.01)},
    )  # fmt: skip
    claims = findings_markdown(d).split("- **")
    torch_c = next(c for c in claims if c.startswith("PyTorch"))
    assert "framework: not supported (" in torch_c and "torchax" not in torch_c.split("Compared")[0]
    assert "framework: mixed (" in claims[1]


def test_user_step_compares_its_own_frontends(tmp_path):
    """A user step: no seed claims, no 'None samples'; its frontends compared pairwise."""
    d = _dump(
        tmp_path / "d",
        {"torch_xla": (1.0, 0.01), "torchax": (0.2, 0.01)},
        workload={"name": "user", "target": "my.py:make_step"},
    )
    text = findings_markdown(d)
    assert text.startswith("# Findings: user step my.py:make_step, cpu")
    assert "None" not in text and "seed's claims" not in text and "JAX is" not in text
    assert "**torch_xla's step is faster than torchax's**" in text
    assert "framework: not supported (" in text


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
        "- jax (cpu): kernels overlap in time (shares sum to 130%), idle not known, slowest "
        "kernel `ynn_fusion` (fusion kCustom; jit(step)/reduce_sum @ /x/fe_jax.py:99) 0.004 ms, "
        "80.0%, 1.9% of its roofline bound (memory); 2 other kernels 50.0% of the profiled step"
        in hot
    ), hot
    assert "torch_xla" not in hot  # its kernels carry no times
    assert "ynn_fusion" in report_section(d)[1]


def test_sharded_results_give_no_findings(tmp_path):
    """Sharded results in a dump whose manifest has no sharding give no findings (the
    parallelization claim needs the sharded capture's record: test_findings_spmd)."""
    d = _dump(tmp_path / "d", {"jax": (0.02, 0.002), "torch_xla": (1.0, 0.1)})
    doc = json.loads((d / "timing/cpu.json").read_text())
    doc["sharding"] = {"devices": 4, "mesh": [2, 2], "axes": ["data", "model"], "strategy": "dp"}
    (d / "timing/cpu.json").write_text(json.dumps(doc))
    assert findings_markdown(d) is None and report_section(d) is None


def test_idle_time_is_part_of_where_the_time_goes(tmp_path):
    """Kernels covering 7% of the profiled step: the other 93% is named as idle."""
    d = _dump(tmp_path / "d", {"jax": (0.02, 0.002)})
    doc = json.loads((d / "timing/cpu.json").read_text())
    doc["frontends"]["jax"]["kernels"] = [
        {"name": "a", "opcode": "fusion", "median_s": 1e-6, "share": 0.024},
        {"name": "b", "opcode": "fusion", "median_s": 2e-6, "share": 0.046},
    ]
    (d / "timing/cpu.json").write_text(json.dumps(doc))
    hot = findings_markdown(d).split("## Where the compiled step's time goes")[1]
    assert "idle between kernels 93.0%" in hot and "slowest kernel `b`" in hot


def test_native_faster_than_its_replay_gives_no_framework_verdict(tmp_path):
    """A negative native-minus-compiled in every round is left out of the framework verdict."""
    d = _dump(tmp_path / "d", {"jax": (0.02, 0.002), "tensorflow": (0.3, 0.05)})
    doc = json.loads((d / "timing/cpu.json").read_text())
    nat = doc["frontends"]["jax"]["native"]
    nat["difference_s"], nat["difference_range_s"] = -0.08, [-0.15, -0.02]
    (d / "timing/cpu.json").write_text(json.dumps(doc))
    jax_c = findings_markdown(d).split("- **")[1]
    assert "framework: no verdict: not measured." in jax_c
    assert "jax: native step faster than its compiled replay" in jax_c


def _with_baselines(dump: Path, fe: str, baselines: dict, dynamo: dict | None = None) -> None:
    """Add `xlalens time --baselines` records (name -> (median, IQR) ms) to one frontend."""
    doc = json.loads((dump / "timing/cpu.json").read_text())
    doc["frontends"][fe]["baselines"] = {
        name: {"step": _step(med, iqr), "rounds": 5} for name, (med, iqr) in baselines.items()
    }
    (dump / "timing/cpu.json").write_text(json.dumps(doc))
    if dynamo is not None:
        man = json.loads((dump / "manifest.json").read_text())
        man["frontends"][fe]["dynamo"] = dynamo
        (dump / "manifest.json").write_text(json.dumps(man))


def test_baseline_claims_follow_the_numbers(tmp_path):
    """TF eager slower than tf.function, inductor faster than torch eager: supported, with
    dynamo's breaks named; overlapping spreads give no verdict; no baselines say how."""
    dump = _dump(
        tmp_path / "d",
        {"tensorflow": (0.2, 0.01), "torch_xla": (5.0, 0.1), "torch_compile": (0.6, 0.05)},
    )
    text = findings_markdown(dump)
    assert "took away the speed of its static graphs**\n  - XLA: no verdict: run" in text
    _with_baselines(
        dump, "tensorflow", {"TF eager": (6.0, 0.5), "tf.function without XLA": (1.5, 0.2)}
    )
    _with_baselines(
        dump,
        "torch_xla",
        {"torch eager (CPU)": (0.3, 0.01), "torch.compile inductor (CPU)": (0.3, 0.2)},
    )
    idiom = {"graphs": 2, "graph_breaks": 1, "breaks": [{"reason": "x", "code": "loss.backward()"}]}
    _with_baselines(dump, "torch_compile", {}, dynamo={"idiomatic": idiom})
    text = findings_markdown(dump)
    tf = text.split("took away the speed of its static graphs**")[1].split("- **")[0]
    assert "framework: supported (1 of 1 comparisons differ)" in tf
    assert "XLA: supported (1 of 1 comparisons differ). tensorflow XLA (native) 0.2 ms" in tf
    torch = text.split("without being a full solution**")[1].split("- **")[0]
    assert "framework: no verdict: within the spread" in torch  # 0.3 ± 0.1 vs 0.3 ± 0.005
    assert "2 graphs with 1 graph breaks under torch.compile (loss.backward())" in torch
    assert "torch_xla 5 ms ± 0.05 > torch.compile (inductor)" in torch
