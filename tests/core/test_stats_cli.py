"""``xlalens stats`` through xlalens.cli.main: output, JSON and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from xlalens.cli import main
from xlalens.ir import kernel_nodes, load, stats

DATA = Path(__file__).parent / "data"
MLP = DATA / "dumps" / "mlp"
CONTROL_FLOW = DATA / "stablehlo" / "control_flow.mlir"
needs_mlp = pytest.mark.skipif(
    not (MLP / "manifest.json").exists(), reason="no mlp dump checked in"
)


def test_stats_table_for_stablehlo(capsys):
    """The table names the module and lists node/edge/computation counts and the histogram."""
    assert main(["stats", str(CONTROL_FLOW)]) == 0
    out = capsys.readouterr().out
    g = load(CONTROL_FLOW, level="canonical")  # stats defaults to canonical
    assert f"nodes {g.number_of_nodes()}" in out and f"edges {g.number_of_edges()}" in out
    assert f"computations {len(g.graph['computations'])}" in out
    assert "stablehlo module 'jit_g'" in out
    assert "kernels" not in out  # only optimized HLO has kernels
    line = next(ln for ln in out.splitlines() if ln.split()[:1] == ["reduce"])
    assert line.split()[1:] == ["3", "2"]  # three reduces, two in the entry (one in @argmax)


def test_stats_json_canonical(capsys):
    """--json prints the counts as JSON; --level canonical summarizes reducers away."""
    assert main(["stats", str(CONTROL_FLOW), "--json", "--level", "raw"]) == 0
    raw = json.loads(capsys.readouterr().out)
    assert main(["stats", str(CONTROL_FLOW), "--json"]) == 0  # canonical is the default
    canon = json.loads(capsys.readouterr().out)
    assert raw["level"] == "raw" and canon["level"] == "canonical"
    assert raw["histogram"]["reduce"] == canon["histogram"]["reduce"] == 3
    assert canon["computation_kinds"].get("reducer", 0) < raw["computation_kinds"]["reducer"]
    assert canon["nodes"] < raw["nodes"]
    assert raw["kernels"] is None and raw["entry_ops"] == sum(raw["entry_histogram"].values())


@needs_mlp
def test_stats_optimized_hlo_counts_kernels(capsys):
    """For optimized HLO from a dump entry, the kernel count equals kernel_nodes()."""
    target = f"{MLP}:jax:optimized_hlo"
    assert main(["stats", target, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    g = load(target)
    assert data["kernels"] == len(kernel_nodes(g)) > 0
    assert data["histogram"]["fusion"] >= 1
    assert stats(g).kernels == data["kernels"]
    assert main(["stats", target]) == 0
    assert (
        f"kernels (fusions and other launched instructions) {data['kernels']}"
        in capsys.readouterr().out
    )


def test_stats_errors_exit_2(capsys, tmp_path):
    """A missing file or malformed IR prints one error line and exits 2."""
    assert main(["stats", str(tmp_path / "nope.mlir")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("xlalens stats: error:") and "nope.mlir" in err
    bad = tmp_path / "bad.mlir"
    bad.write_text("module {\n  func.func @f() {\n    %0 = stablehlo.add %x, %x : tensor<f32>\n")
    assert main(["stats", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.mlir:3:" in err and "Traceback" not in err


def test_stats_bad_level_is_argparse_error(capsys):
    """An unknown --level is rejected by argparse (exit 2) with the valid choices."""
    with pytest.raises(SystemExit) as info:
        main(["stats", str(CONTROL_FLOW), "--level", "fancy"])
    assert info.value.code == 2
    assert "canonical" in capsys.readouterr().err
