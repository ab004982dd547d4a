"""``xlalens passes`` on real re-runs of jax, TensorFlow and torch_xla (regression and mlp dumps)."""

import dataclasses
import json
import re
import subprocess
import sys
import textwrap

import pytest

from xlalens.ir import kernel_nodes
from xlalens.passes import fingerprint, load_passes, parse_snapshot, run_passes, scan
from xlalens.passes._timeline import INPUT, op_nodes

FRONTS = ["jax", "tensorflow", "torch_xla"]


def _usable(dump, names):
    ok = [n for n in names if dump.manifest["frontends"][n]["status"] == "ok"]
    if not ok:
        pytest.skip("none of jax, tensorflow, torch_xla is installed")
    return ok


@pytest.fixture(scope="module")
def reg_passes(regression_dump):
    """One re-run of the regression dump with XLA's dump flags, shared by the tests."""
    return run_passes(regression_dump.path, frontends=_usable(regression_dump, FRONTS))


@pytest.fixture(scope="module")
def mlp_passes(mlp_dump):
    """One re-run of the mlp dump with XLA's dump flags, shared by the tests."""
    return run_passes(mlp_dump.path, frontends=_usable(mlp_dump, FRONTS))


@pytest.fixture(params=["reg", "mlp"])
def recs(request, reg_passes, mlp_passes):
    """Both workloads' records."""
    return {"reg": reg_passes, "mlp": mlp_passes}[request.param]


def test_every_rerun_is_ok_and_recorded(recs):
    """Each frontend's re-run is ok, and passes.json reads back the same timeline."""
    for name, rec in recs.items():
        assert rec.status == "ok", f"{name}: {rec.reason}"
        back = load_passes(rec.folder.parent.parent)[name]
        assert back.timeline.steps == rec.timeline.steps
        assert back.timeline.kernels == rec.timeline.kernels


def test_jax_timeline_has_ten_passes(recs):
    """jax on CPU: XLA reports at least 10 passes that changed the step."""
    tl = recs["jax"].timeline
    passes = [s for s in tl.steps if s.pass_name != "pipeline-start"]
    assert len(passes) >= 10, [s.label for s in tl.steps]
    assert any("ops into" in s.summary for s in tl.shown)


def test_last_snapshot_equals_the_captured_optimized_hlo(recs, regression_dump, mlp_dump):
    """The last snapshot has the captured optimized HLO's fingerprint.

    torch_xla's captured optimized HLO is PJRT's compile of its StableHLO (it has
    no public API for its own), a different compile: there the last snapshot is
    checked against XLA's optimized module of the same re-run.
    """
    dumps = {id(regression_dump): regression_dump, id(mlp_dump): mlp_dump}
    for name, rec in recs.items():
        dump = next(d for d in dumps.values() if rec.folder.is_relative_to(d.path))
        entry = dump.manifest["frontends"][name]
        if entry["optimized_hlo_source"] == "framework":
            captured = (dump.path / entry["artifacts"]["optimized_hlo"]).read_text()
            assert rec.picked_by == "fingerprint", name
            assert rec.matches_capture is True, name
            assert rec.timeline.fingerprint == fingerprint(parse_snapshot(captured)), name
        else:
            (mod,) = [m for m in scan(rec.folder / "xla") if m.name == rec.module]
            after = parse_snapshot(mod.after_optimizations.read_text())
            assert rec.timeline.fingerprint == fingerprint(after), name


def test_every_optimized_kernel_has_a_creating_pass(recs):
    """Every kernel of the last snapshot is blamed on a pass (fusions never on the input)."""
    for name, rec in recs.items():
        tl = rec.timeline
        labels = {s.label for s in tl.steps}
        final = tl.final_graph
        assert [final.nodes[k]["name"] for k in kernel_nodes(final)] == [
            k.kernel for k in tl.kernels
        ]
        for k in tl.kernels:
            assert k.created_by in labels | {INPUT}, (name, k)
            if k.op == "fusion":
                assert k.created_by in labels, (name, k)


def test_every_pre_optimization_op_is_accounted_for(recs):
    """Every op XLA received ends in a kernel, stays (parameter, constant), or has a removing pass."""
    for name, rec in recs.items():
        tl = rec.timeline
        (mod,) = [m for m in scan(rec.folder / "xla") if m.name == rec.module]
        first = parse_snapshot(mod.snapshots[0].path.read_text())
        assert {o.op_id for o in tl.ops} >= set(op_nodes(first)), name
        labels = {s.label for s in tl.steps}
        kernels = {k.kernel for k in tl.kernels}
        for o in tl.ops:
            assert (o.removed_by is None) == (o.kept_as is not None), (name, o)
            assert o.removed_by is None or o.removed_by in labels, (name, o)
            assert o.kernel is None or o.kernel in kernels, (name, o)


def test_peak_memory_equals_jax_memory_analysis(recs, regression_dump, mlp_dump):
    """jax: the parsed peak equals the compiled executable's memory_analysis() peak."""
    from xlalens import _runtime

    rec = recs["jax"]
    dump = regression_dump if rec.folder.is_relative_to(regression_dump.path) else mlp_dump
    stablehlo = (dump.path / "jax" / "stablehlo.mlir").read_text()
    compiled = _runtime.compile_stablehlo(stablehlo, "cpu")
    exe = getattr(compiled, "executable", compiled)
    stats = exe.get_compiled_memory_stats()
    assert rec.memory is not None
    assert rec.memory.peak_bytes == stats.peak_memory_in_bytes
    assert rec.memory.temp_bytes == stats.temp_size_in_bytes


def test_kernels_link_to_their_llvm_ir(recs):
    """Every kernel file XLA wrote for the step is linked from its kernel; fusions have LLVM IR.

    Library-call kernels (a dot through Eigen or YNNPACK) have no code of their own.
    """
    for name, rec in recs.items():
        (mod,) = [m for m in scan(rec.folder / "xla") if m.name == rec.module]
        linked = {f for files in rec.codegen.values() for f in files}
        assert linked == {str(p.relative_to(rec.folder)) for p in mod.codegen}, name
        kernels = {k.kernel for k in rec.timeline.kernels}
        assert set(rec.codegen) <= kernels | {"(module)"}, name
        with_ir = [k for k in rec.codegen if any(f.endswith(".ll") for f in rec.codegen[k])]
        assert set(with_ir) & {k.kernel for k in rec.timeline.kernels if k.op == "fusion"}, name


def test_regex_matching_nothing_says_so(regression_dump):
    """A pass regex that matches no pass gives status 'empty' with a message naming it."""
    if regression_dump.manifest["frontends"]["jax"]["status"] != "ok":
        pytest.skip("jax is not installed")
    recs = run_passes(regression_dump.path, frontends=["jax"], passes="no-such-pass-xyz")
    rec = recs["jax"]
    assert rec.status == "empty"
    assert "no-such-pass-xyz" in rec.reason and "matched no pass" in rec.reason
    assert json.loads((rec.folder / "passes.json").read_text())["status"] == "empty"


def test_failed_rerun_is_reported_and_others_go_on(regression_dump, monkeypatch):
    """A frontend whose re-run fails is 'failed' with its stderr tail; keras-jax still runs."""
    from xlalens import frontends
    from xlalens.passes import _run

    names = ["jax", "keras-jax"]
    if any(regression_dump.manifest["frontends"][n]["status"] != "ok" for n in names):
        pytest.skip("jax or keras-jax is not installed")
    broken = dataclasses.replace(frontends.FRONTENDS["jax"], env={"JAX_PLATFORMS": "no-such"})
    monkeypatch.setitem(frontends.FRONTENDS, "jax", broken)
    assert _run  # run_passes reads FRONTENDS at call time
    recs = run_passes(regression_dump.path, frontends=names)
    assert recs["jax"].status == "failed"
    assert "exit status 1" in recs["jax"].reason and "no-such" in recs["jax"].reason
    assert recs["keras-jax"].status == "ok", recs["keras-jax"].reason
    assert recs["keras-jax"].timeline.kernels


TWO_K = textwrap.dedent(
    """
    import sys, jax, jax.numpy as jnp, numpy as np
    def step(ws, x, y):
        def loss(ws):
            h = x
            for w, b in ws:
                h = jnp.tanh(h @ w + b)
            return jnp.mean((h - y) ** 2)
        g = jax.grad(loss)(ws)
        return [(w - 0.01 * gw, b - 0.01 * gb) for (w, b), (gw, gb) in zip(ws, g)], loss(ws)
    ws = [(np.full((16, 16), 0.01, np.float32), np.zeros(16, np.float32)) for _ in range(70)]
    jax.jit(step).lower(ws, np.ones((8, 16), np.float32), np.ones((8, 16), np.float32)).compile()
    """
)


def test_two_k_instruction_timeline_under_ten_seconds(tmp_path):
    """The whole timeline of a ~2,000-instruction jax module is built in under 10 s."""
    from xlalens.passes import build_timeline

    pytest.importorskip("jax")
    xla = tmp_path / "xla"
    env = {
        "JAX_PLATFORMS": "cpu",
        "XLA_FLAGS": f"--xla_dump_to={xla} --xla_dump_hlo_pass_re=.*",
        "PATH": "/usr/bin:/bin",
    }
    subprocess.run([sys.executable, "-c", TWO_K], env=env, check=True, timeout=300)
    (mod,) = [m for m in scan(xla) if m.snapshots]
    tl = build_timeline(mod)
    assert tl.steps[0].ops >= 1900
    assert tl.seconds < 10, tl.seconds


def test_cli_passes_prints_each_frontend(regression_dump, capsys):
    """`xlalens passes DIR --frontend jax --blame` prints the table, blame and memory; exit 0."""
    from xlalens.cli import main

    if regression_dump.manifest["frontends"]["jax"]["status"] != "ok":
        pytest.skip("jax is not installed")
    assert main(["passes", str(regression_dump.path), "--frontend", "jax", "--blame"]) == 0
    out = capsys.readouterr().out
    assert "jax: module jit_train_step (picked by fingerprint" in out
    assert "equals the captured optimized HLO" in out
    assert re.search(r"fusion\s+\d+\s+\d+.*ops into \d+ kernels", out)
    assert "created by HLO_passes_after_layout_assignment/fusion" in out
    assert "memory: peak" in out
    assert (regression_dump.path / "passes.html").is_file()
