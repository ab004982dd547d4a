"""`xlalens diff` on the command line, the dump's diff stage, and byte-identical reports."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from xlalens.cli import main

DUMP = Path(__file__).parent / "data" / "dumps" / "regression"
needs_dump = pytest.mark.skipif(
    not (DUMP / "manifest.json").is_file(),
    reason=f"no regression dump at {DUMP} yet (the capture stage writes it with `xlalens dump`)",
)

HLO_A = """HloModule m, entry_computation_layout={(f32[4]{0}, f32[4]{0})->f32[4]{0}}

ENTRY main {
  x = f32[4]{0} parameter(0)
  y = f32[4]{0} parameter(1)
  ROOT r = f32[4]{0} add(x, y), metadata={op_name="jit(f)/add" source_file="f.py" source_line=3}
}
"""
HLO_B = HLO_A.replace("add(x, y)", "multiply(x, y)").replace("jit(f)/add", "jit(f)/mul")


@pytest.fixture()
def hlo_files(tmp_path: Path) -> tuple[Path, Path]:
    """Two one-op HLO modules that differ in the op of their root."""
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text(HLO_A)
    b.write_text(HLO_B)
    return a, b


def test_cli_text_report_names_the_change_and_its_source(hlo_files, capsys) -> None:
    """The text report shows the op change with op_name and file:line on both sides."""
    a, b = hlo_files
    assert main(["diff", str(a), str(b), "--level", "raw"]) == 0
    out = capsys.readouterr().out
    assert "main/r -> main/r: op: add -> multiply" in out
    assert "A: jit(f)/add @ f.py:3" in out and "B: jit(f)/mul @ f.py:3" in out


def test_cli_json_to_file(hlo_files, tmp_path: Path) -> None:
    """--json -o FILE writes the documented JSON with every node once."""
    a, b = hlo_files
    out = tmp_path / "d.json"
    assert main(["diff", str(a), str(b), "--json", "-o", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["summary"]["changed"] == 1 and doc["summary"]["unchanged"] == 2
    assert sorted(p["a"] for p in doc["pairs"]) == ["main/r", "main/x", "main/y"]


def test_cli_markdown(hlo_files, capsys) -> None:
    """--markdown prints a Markdown table row for the changed op."""
    a, b = hlo_files
    assert main(["diff", str(a), str(b), "--markdown"]) == 0
    assert "| `add` | `main/r` | `main/r` | op: add -> multiply |" in capsys.readouterr().out


@pytest.mark.parametrize(
    "spec,message",
    [
        ("missing.txt", ("A: ", "missing.txt")),
        ("empty.txt", ("empty.txt: unrecognized input",)),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(
    hlo_files, tmp_path: Path, capsys, spec, message
) -> None:
    """A missing or empty file gives one error line on stderr and exit status 2."""
    (tmp_path / "empty.txt").write_text("")
    _, b = hlo_files
    assert main(["diff", str(tmp_path / spec), str(b)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("xlalens diff: error: ")
    assert all(m in err for m in message), err
    assert "\n" not in err


def test_cli_empty_graph_exits_2(tmp_path: Path, hlo_files, capsys) -> None:
    """A module with no instructions is refused with exit 2 and a message naming the empty graph."""
    from xlalens.ir import to_json
    from xlalens.ir._schema import new_graph

    empty = tmp_path / "empty.json"
    to_json(new_graph(format="hlo", entry="main"), empty)
    _, b = hlo_files
    assert main(["diff", str(empty), str(b), "--level", "raw"]) == 2
    assert "the graph is empty" in capsys.readouterr().err


@needs_dump
def test_cli_missing_dump_entry_exits_2(capsys) -> None:
    """A frontend the dump does not have gives one line listing what it has, exit 2."""
    assert main(["diff", f"{DUMP}:nosuch", f"{DUMP}:jax"]) == 2
    err = capsys.readouterr().err
    assert "no frontend 'nosuch'" in err and "jax" in err and err.count("\n") == 1


@needs_dump
def test_cli_dump_entries_across_frameworks(capsys) -> None:
    """Dump entries diff across frameworks; the header names both sides."""
    assert main(["diff", f"{DUMP}:jax", f"{DUMP}:torch_xla", "--limit", "2"]) == 0
    out = capsys.readouterr().out
    assert "regression:jax:stablehlo" in out and "regression:torch_xla:stablehlo" in out


@needs_dump
def test_reports_identical_across_processes(tmp_path: Path) -> None:
    """Two processes with different hash seeds write byte-identical JSON, Markdown and text."""
    outs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        files = []
        for flag, ext in (("--json", "json"), ("--markdown", "md"), (None, "txt")):
            path = tmp_path / f"{seed}.{ext}"
            cmd = [sys.executable, "-m", "xlalens", "diff", f"{DUMP}:jax:optimized_hlo",
                   f"{DUMP}:keras-jax:optimized_hlo", "-o", str(path)]  # fmt: skip
            if flag:
                cmd.append(flag)
            subprocess.run(cmd, check=True, env=env, capture_output=True, timeout=120)
            files.append(path.read_bytes())
        outs.append(files)
    assert outs[0] == outs[1]


@needs_dump
def test_dump_step_writes_every_pair_and_survives_a_bad_one(tmp_path: Path) -> None:
    """dump_step writes cross-framework and pre/post diffs; one broken graph fails only its pairs."""
    import xlalens.ir as ir
    from xlalens.diff import dump_step

    dump = tmp_path / "dump"
    shutil.copytree(DUMP, dump)
    manifest = json.loads((dump / "manifest.json").read_text())
    ir.dump_step(dump, manifest)
    fronts = [fe for fe, i in manifest["frontends"].items() if i["status"] == "ok"]
    broken = fronts[-1]
    bad = manifest["frontends"][broken]["artifacts"]["graphs"]["stablehlo.canonical"]
    (dump / bad).write_text("{not json")
    dump_step(dump, manifest)
    recs = manifest["diffs"]
    n = len(fronts)
    assert len(recs) == n * (n - 1) + n  # two levels per pair + one pre/post per frontend
    failed = [r for r in recs if "error" in r]
    assert failed and all(broken in r["a"] or broken in r["b"] for r in failed)
    assert all(r["level"] == "canonical" for r in failed)
    ok = [r for r in recs if "error" not in r]
    assert {r["kind"] for r in ok} == {"cross_framework", "optimization"}
    opt = [r for r in ok if r["a"].endswith(":optimized_hlo") and r["b"].endswith(":optimized_hlo")]
    assert opt and all(sum(r["kernel_map"].values()) > 0 for r in opt)
    for r in ok:
        doc = json.loads((dump / r["json"]).read_text())
        assert doc["summary"]["changed"] == r["summary"]["changed"]
        if r in opt:
            assert doc["kernel_map"]["counts"] == r["kernel_map"]
        assert (dump / r["markdown"]).read_text().startswith("## xlalens diff")
    pre_post = [r for r in ok if r["kind"] == "optimization"]
    assert {r["a"].split(":")[1] for r in pre_post} == {"hlo"}
    assert {r["b"].split(":")[1] for r in pre_post} == {"optimized_hlo"}
