"""xlalens.passes on a checked-in real XLA pass dump (scripts/gen_passes_data.py), no framework."""

import json
import re
import shutil
from pathlib import Path

import pytest

from xlalens.cli import main
from xlalens.ir import kernel_nodes
from xlalens.passes import (
    analyze,
    build_timeline,
    fingerprint,
    format_table,
    load_passes,
    parse_snapshot,
    read_memory,
    report_section,
    scan,
    step_plot_svg,
)
from xlalens.passes._timeline import INPUT, op_nodes

DATA = Path(__file__).parent / "data" / "passes"
XLA = DATA / "xla"


@pytest.fixture(scope="module")
def module():
    """The one module of the checked-in dump."""
    (mod,) = scan(XLA)
    return mod


@pytest.fixture(scope="module")
def timeline(module):
    """Its pass timeline, built once."""
    return build_timeline(module)


def test_scan_reads_every_kind_of_file(module):
    """Snapshots (also copy-insertion's names without before_), reports and kernel IR are found."""
    names = sorted(p.name for p in XLA.glob("*.[0-9][0-9][0-9][0-9].*.txt"))
    assert len(module.snapshots) == len(names) >= 20
    assert [s.step for s in module.snapshots] == sorted(s.step for s in module.snapshots)
    assert any(s.before == "" and s.pipeline == "copy-insertion" for s in module.snapshots)
    assert module.name == "jit_step"
    assert module.after_optimizations.name.endswith("cpu_after_optimizations.txt")
    assert module.buffer_assignment is not None and module.before_optimizations is not None
    assert any(p.suffix == ".ll" for p in module.codegen)


def test_timeline_ends_at_the_optimized_module(timeline, module):
    """The last snapshot has the fingerprint of XLA's own optimized module."""
    final = parse_snapshot(module.after_optimizations.read_text())
    assert timeline.fingerprint == fingerprint(final)
    assert timeline.steps[-1].kernels == len(kernel_nodes(final))


def test_timeline_skips_identical_and_folds_unchanged(timeline, module):
    """Identical consecutive snapshots are skipped; only changing passes are shown."""
    texts = [s.path.read_text() for s in module.snapshots]
    identical = [i for i in range(1, len(texts)) if texts[i] == texts[i - 1]]
    assert identical
    assert all(timeline.steps[i].identical and timeline.steps[i].folded for i in identical)
    shown = timeline.shown
    assert shown[0].index == 0 and len(shown) < len(timeline.steps)
    assert all(s.added or s.removed or s.changed for s in shown[1:])
    assert {s.pass_name for s in shown} >= {"algsimp", "fusion", "cse"}


def test_fusion_pass_summary_counts_ops_into_kernels(timeline):
    """The fusion pass's summary reads 'N ops into K kernels' and the kernel count drops."""
    (fusion,) = [s for s in timeline.steps if s.pass_name == "fusion"]
    before = timeline.steps[fusion.index - 1]
    m = re.search(r"(\d+) ops into (\d+) kernels", fusion.summary)
    assert m, fusion.summary
    assert fusion.kernels < before.kernels
    assert int(m[2]) == 4


def test_every_kernel_has_a_creating_pass(timeline):
    """Each optimized kernel is blamed on a pass of the timeline, fusions on a fusion pass."""
    labels = {s.label for s in timeline.steps}
    assert timeline.kernels
    for k in timeline.kernels:
        assert k.created_by in labels | {INPUT}, k
        if k.op == "fusion":
            assert k.created_by in labels, k
    made = {k.kernel: k.created_by for k in timeline.kernels}
    assert made["wrapped_tanh"].endswith("/fusion-wrapper")
    assert made["multiply_add_fusion"].endswith("/fusion")


def test_every_op_is_accounted_for(timeline, module):
    """Each op XLA received ends in a kernel, stays as a parameter/constant, or a pass removed it."""
    first = parse_snapshot(module.snapshots[0].path.read_text())
    entry = first.graph["entry"]
    params = [
        n for n, d in first.nodes(data=True) if d["op"] == "parameter" and d["computation"] == entry
    ]
    assert {o.op_id for o in timeline.ops} == set(op_nodes(first)) | set(params)
    labels = {s.label for s in timeline.steps}
    kernels = {k.kernel for k in timeline.kernels}
    for o in timeline.ops:
        assert (o.removed_by is None) == (o.kept_as is not None), o
        if o.removed_by:
            assert o.removed_by in labels
        if o.kernel:
            assert o.kernel in kernels
    assert sum(1 for o in timeline.ops if o.kernel) > len(timeline.ops) // 2


def test_timeline_json_round_trip(timeline):
    """Timeline.to_json / from_json keep every record."""
    from xlalens.passes import Timeline

    back = Timeline.from_json(json.loads(json.dumps(timeline.to_json())))
    assert back.steps == timeline.steps
    assert back.kernels == timeline.kernels
    assert back.ops == timeline.ops


def test_peak_memory_equals_memory_analysis(module):
    """The parsed peak equals compiled.memory_analysis() of the same compile."""
    want = json.loads((DATA / "memory_analysis.json").read_text())
    mem = read_memory(module.buffer_assignment)
    assert mem.peak_bytes == want["peak_memory_in_bytes"]
    assert mem.temp_bytes == want["temp_size_in_bytes"]
    assert mem.peak_index is not None
    sizes = [b.size for b in mem.live_at_peak]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] == 1024
    assert {b.kind for b in mem.live_at_peak} >= {"parameter", "output"}


def test_read_memory_refuses_other_text(tmp_path):
    """A file that is not a buffer-assignment report is refused with its name."""
    bad = tmp_path / "x-buffer-assignment.txt"
    bad.write_text("HloModule m\n")
    with pytest.raises(ValueError, match="no allocations"):
        read_memory(bad)


def test_fingerprint_ignores_names_not_structure(module):
    """Renaming every instruction keeps the fingerprint; changing an op does not."""
    text = module.after_optimizations.read_text()
    g = parse_snapshot(text)
    renamed = re.sub(r"%([A-Za-z_][\w.-]*)", r"%r_\1", text)
    assert fingerprint(parse_snapshot(renamed)) == fingerprint(g)
    changed = text.replace(" tanh(", " exponential(", 1)
    assert changed != text
    assert fingerprint(parse_snapshot(changed)) != fingerprint(g)


def _fake_dump(tmp_path: Path) -> Path:
    dump = tmp_path / "dump"
    folder = dump / "jax" / "passes"
    shutil.copytree(XLA, folder / "xla")
    rec = analyze("jax", folder, ".*", None)
    (folder / "passes.json").write_text(json.dumps(rec.to_json()))
    manifest = {"format_version": 1, "backend": "cpu", "frontends": {"jax": {"status": "ok"}}}
    (dump / "manifest.json").write_text(json.dumps(manifest))
    return dump


def test_analyze_links_kernels_to_codegen(tmp_path):
    """Each CPU kernel with an LLVM IR file is linked to it; the record round-trips."""
    dump = _fake_dump(tmp_path)
    rec = load_passes(dump)["jax"]
    assert rec.status == "ok" and rec.picked_by == "largest"
    assert rec.codegen["multiply_add_fusion"]
    for files in rec.codegen.values():
        assert all((rec.folder / f).is_file() for f in files)
    assert any(f.endswith("ir-with-opt.ll") for f in rec.codegen["wrapped_tanh"])


def test_report_section_has_plot_blame_and_memory(tmp_path):
    """report_section gives the title and a fragment with the SVG, blame and memory tables."""
    dump = _fake_dump(tmp_path)
    title, body = report_section(dump)
    assert title == "Compiler passes"
    assert "<svg" in body and "passes-blame" in body and "passes-memory" in body
    assert "2.7 KiB" in body  # the peak, 2716 bytes
    assert "http" not in body.replace('xmlns="http://www.w3.org/2000/svg"', "")
    for href in re.findall(r"href='([^']+)'", body):
        assert (dump / href).is_file(), href
    assert report_section(tmp_path) is None


def test_step_plot_has_a_line_per_frontend(tmp_path):
    """The step plot draws ops and kernels for each frontend with a legend."""
    dump = _fake_dump(tmp_path)
    recs = load_passes(dump)
    recs["copy"] = recs["jax"]
    svg = step_plot_svg(recs)
    assert svg.count("<polyline") == 4 and ">copy<" in svg and ">jax<" in svg


def test_format_table_lists_changing_passes(timeline):
    """The printed table has a row per shown pass and a footer."""
    text = format_table(timeline)
    assert len(text.splitlines()) == len(timeline.shown) + 3
    assert "ops into" in text and "folded" in text.splitlines()[-1]


def test_cli_dump_without_frontends_exits_2(tmp_path, capsys):
    """A dump folder without frontends: one line on stderr, exit 2."""
    dump = tmp_path / "empty"
    dump.mkdir()
    (dump / "manifest.json").write_text(json.dumps({"format_version": 1, "frontends": {}}))
    assert main(["passes", str(dump)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no frontends" in err[0]


def test_cli_not_a_dump_exits_2(tmp_path, capsys):
    """A folder that is not a dump: exit 2 naming it."""
    assert main(["passes", str(tmp_path)]) == 2
    assert str(tmp_path) in capsys.readouterr().err


def test_cli_no_rerun_prints_the_recorded_timeline(tmp_path, capsys):
    """--no-rerun prints the table from passes.json and writes passes.html."""
    dump = _fake_dump(tmp_path)
    assert main(["passes", str(dump), "--no-rerun", "--blame"]) == 0
    out = capsys.readouterr().out
    assert "ops into 4 kernels" in out and "created by" in out
    assert (dump / "passes.html").is_file()


@pytest.mark.parametrize("regex", ["fusion(", "a b", ""])
def test_bad_pass_regex_is_refused(tmp_path, regex):
    """A --passes value that is not a regex, has spaces or is empty is refused before any re-run."""
    from xlalens import UsageError
    from xlalens.passes import run_passes

    dump = _fake_dump(tmp_path)
    with pytest.raises(UsageError, match="--passes"):
        run_passes(dump, passes=regex)


def test_unknown_frontend_is_refused(tmp_path):
    """An unknown or not-captured frontend names the valid ones."""
    from xlalens import UsageError
    from xlalens.passes import run_passes

    dump = _fake_dump(tmp_path)
    with pytest.raises(UsageError, match="unknown frontend 'nope'"):
        run_passes(dump, frontends=["nope"])
    with pytest.raises(UsageError, match="not captured ok"):
        run_passes(dump, frontends=["torchax"])


def test_snapshot_names_follow_xlas_rule(tmp_path):
    """Real torch_xla names, a 4-digit graph id, a timestamp and a dropped module name all parse."""
    from xlalens.passes import scan

    real = (Path(__file__).parent / "data" / "passes" / "torch_xla_names.txt").read_text().split()
    assert real and all(n.startswith("module_0000.SyncTensorsGraph.144.") for n in real)
    for n in real:  # as torch_xla 2.9.0 wrote them
        (tmp_path / n).write_text("")
    for n in real:  # the same module compiled as graph 1040: a 4-digit number in its name
        (
            tmp_path
            / n.replace("module_0000.SyncTensorsGraph.144.", "module_0001.SyncTensorsGraph.1040.")
        ).write_text("")
    # XLA drops the module name when the file name would pass 255 characters.
    (tmp_path / "module_0002.0040.simplification.after_algsimp.before_dce.txt").write_text("")
    (tmp_path / "1733000000.module_0003.jit_f.0012.fusion.after_fusion.before_dce.txt").write_text(
        ""
    )
    mods = {m.id: m for m in scan(tmp_path)}
    steps = sum(1 for n in real if ".after_" in n and "_after_optimizations" not in n)
    for mid, name in (("0000", "SyncTensorsGraph.144"), ("0001", "SyncTensorsGraph.1040")):
        m = mods[mid]
        assert m.name == name and len(m.snapshots) == steps >= 20
        assert [s.step for s in m.snapshots] == list(range(steps))
        assert not any(s.pipeline.isdigit() for s in m.snapshots)
        assert m.snapshots[4].pipeline == "HLO_passes_through_layout_assignment"
        assert m.after_optimizations is not None and m.before_optimizations is not None
    (s,) = mods["0002"].snapshots
    assert (s.step, s.pipeline, s.after, s.before) == (40, "simplification", "algsimp", "dce")
    assert mods["0003"].name == "jit_f" and mods["0003"].snapshots[0].step == 12
