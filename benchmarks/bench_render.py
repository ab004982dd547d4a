"""Render benchmark on real models: every view within its deadline, and a ResNet50 dump's report.

Targets (issue 12): the overview in at most 5 s, every drill-down in at most 2 s,
the whole SVG set of each module printed as a ratio to ``dot -Tsvg`` on a plain
650-node DAG measured in the same run (0.26 s when the guide was written), the
largest view's nodes / edges / clusters and its layout time. Then, for a
one-frontend Keras ResNet50 dump (keras-jax, captured here): the post-capture
stages' time, the size of report.html (target <= 1 MB) and of its SVGs, the SVG
count (written lazily, not all up front), and the time Chromium takes to open the
report and show its first card (target <= 3 s). The generated 28-layer JAX
transformer is kept as the earlier figure.

Real modules: ``tests/core/data/real/*.optimized_hlo.txt.xz`` (made by
``scripts/gen_real_models.py``, see that folder's README).

Run: .venv/bin/python benchmarks/bench_render.py [--no-dump] [--no-transformer] [--no-modules]
"""

from __future__ import annotations

import lzma
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# XLALENS_REAL_DIR: read the real modules from another checkout (before a merge).
REAL = Path(os.environ.get("XLALENS_REAL_DIR") or ROOT / "tests" / "core" / "data" / "real")
MODULES = (
    "keras_jax_resnet50.optimized_hlo.txt.xz",
    "keras_tf_mobilenetv2.optimized_hlo.txt.xz",
    "torch_xla_transformer.optimized_hlo.txt.xz",
)
sys.path.insert(0, str(ROOT / "tests" / "core"))
# dot -Tsvg on the 650-node reference DAG when GUIDE.md was written (an idle machine).
GUIDE_REF = 0.26

RESNET_STEP = """
def make_step():
    import keras
    import numpy as np

    model = keras.applications.ResNet50(weights=None, input_shape=(64, 64, 3), classes=10)
    model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9),
                  loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = rng.random((4, 64, 64, 3), dtype=np.float32)
    y = rng.integers(0, 10, (4,))
    return model, (x, y)
"""


def _reference_dag(n: int = 650, seed: int = 0) -> str:
    rng = random.Random(seed)
    lines = ["digraph ref {", "  node [shape=box];"]
    for v in range(1, n):
        for u in rng.sample(range(max(0, v - 30), v), k=min(v, rng.choice((1, 1, 2)))):
            lines.append(f"  n{u} -> n{v};")
    lines.append("}")
    return "\n".join(lines)


def _dot_seconds(source: str) -> float:
    t = time.perf_counter()
    subprocess.run(["dot", "-Tsvg", "-o", "/dev/null"], input=source.encode(), check=True)
    return time.perf_counter() - t


def _real_files() -> list[Path]:
    missing = [REAL / m for m in MODULES if not (REAL / m).is_file()]
    if missing:
        for m in missing:
            print(
                f"missing real module: {m} (made by scripts/gen_real_models.py "
                "on the reader branch; run it, or merge that branch)",
                file=sys.stderr,
            )
        raise SystemExit(2)
    return [REAL / m for m in MODULES]


def _module(path: Path, ref: float) -> None:
    import xlalens.ir as ir
    from xlalens.render import render_views

    t = time.perf_counter()
    g = ir.parse_hlo_text(lzma.decompress(path.read_bytes()).decode())
    t_parse = time.perf_counter() - t
    t = time.perf_counter()
    r = render_views(g, stem="bench")
    t_all = time.perf_counter() - t
    over = r.layouts[r.overview]
    drills = [v for k, v in r.layouts.items() if k != r.overview]
    worst = max(drills, key=lambda v: v.seconds) if drills else over
    worst_cpu = max(drills, key=lambda v: v.cpu) if drills else over
    big = max(r.layouts.values(), key=lambda v: v.features.nodes + v.features.edges)
    cheap = sum(v.mode != "full" for v in r.layouts.values())
    name = path.name.removesuffix(".txt.xz")
    print(
        f"{name}: {g.number_of_nodes():,} instructions (parse {t_parse:.1f} s), {len(r.svgs)} views"
    )
    print(
        f"  overview: {over.seconds:.2f} s layout, dot CPU {over.cpu:.2f} s [target <= 5 s: "
        f"{'PASS' if over.seconds <= 5 else 'FAIL'}]"
        f" ({over.features.nodes} nodes, {over.features.edges} edges, {over.features.clusters} clusters, mode {over.mode})"
    )
    if drills:
        norm = worst.seconds * GUIDE_REF / ref
        print(
            f"  drill-downs: max {worst.seconds:.2f} s wall = {worst.seconds / ref:.1f}x reference "
            f"[target <= 2 s each: {'PASS' if worst.seconds <= 2 else 'FAIL'}; at the guide's "
            f"{GUIDE_REF} s reference speed {norm:.2f} s: {'PASS' if norm <= 2 else 'FAIL'}]; "
            f"max dot CPU {worst_cpu.cpu:.2f} s [{'PASS' if worst_cpu.cpu <= 2 else 'FAIL'}]; "
            f"{cheap} of {len(r.layouts)} views in the cheaper mode"
        )
    f = big.features
    print(
        f"  largest view: {f.nodes} nodes ({f.connectors} connectors), {f.edges} edges, "
        f"{f.clusters} clusters nested {f.depth} deep: layout {big.seconds:.2f} s (predicted {big.predicted:.2f} s, mode {big.mode})"
    )
    print(
        f"  whole SVG set (plan + layout, 2 dot workers): {t_all:.1f} s = {t_all / ref:.0f}x reference"
    )
    print(f"  clicks from the overview to the deepest kernel: {_kernel_clicks(g, r)} [target <= 3]")


def _kernel_clicks(g, r) -> int:
    """Most drill-down clicks needed to reach a view that draws a kernel (entry fusion, call, loop)."""
    entry = g.graph.get("entry")
    depth: dict[str, int] = {}

    def d(f: str) -> int:
        if f not in depth:
            depth[f] = 0 if f not in r.parents else 1 + d(r.parents[f])
        return depth[f]

    kernels = [n for n, x in g.nodes(data=True) if x.get("computation") == entry and x.get("calls")]
    return max((d(r.where[n]) for n in kernels if n in r.where), default=0)


def _transformer(ref: float) -> None:
    from _render_workloads import scoped_transformer_hlo

    import xlalens.ir as ir
    from xlalens.render import render_views

    g = ir.parse_hlo_text(scoped_transformer_hlo(28))
    t = time.perf_counter()
    r = render_views(g, stem="bench")
    t_all = time.perf_counter() - t
    over = r.layouts[r.overview]
    drills = {k: v for k, v in r.layouts.items() if k != r.overview}
    worst = max(drills, key=lambda k: drills[k].seconds)
    worst_cpu = max(drills, key=lambda k: drills[k].cpu)
    w, c = drills[worst], drills[worst_cpu]
    print(
        f"generated 28-layer JAX transformer: {g.number_of_nodes():,} instructions, {len(r.svgs)} views; "
        f"overview {over.seconds:.2f} s, max drill-down {w.seconds:.2f} s wall "
        f"[target <= 2 s: {'PASS' if w.seconds <= 2 else 'FAIL'}] "
        f"(dot CPU {w.cpu:.2f} s; {w.features.nodes} nodes, {w.features.edges} edges, "
        f"{w.features.clusters} clusters: {r.titles[worst].split(' › ', 1)[-1]}), "
        f"max dot CPU {c.cpu:.2f} s [{'PASS' if c.cpu <= 2 else 'FAIL'}], "
        f"whole set {t_all:.1f} s = {t_all / ref:.0f}x reference; "
        f"clicks to the deepest kernel: {_kernel_clicks(g, r)}"
    )


def _chromium_open(report: Path) -> float | None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run"]  # fmt: skip
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=args)
        page = b.new_page(viewport={"width": 1600, "height": 1200})
        t = time.perf_counter()
        page.goto(report.as_uri())
        page.wait_for_function(
            "() => { const v = document.querySelector('.xl-viewer');"
            " return v && v.getAttribute('data-ready') === v.getAttribute('data-current'); }",
            timeout=60000,
        )
        dt = time.perf_counter() - t
        page.screenshot(path=str(report.parent / "bench-screenshot.png"))
        b.close()
    return dt


def _dump() -> None:
    from xlalens.dumpdir import read_manifest
    from xlalens.report._report import REPORT, SVG_DIR, build_html, render_dump

    work = Path(tempfile.mkdtemp(prefix="bench-render-"))
    try:
        (work / "resnet_step.py").write_text(RESNET_STEP)
        out = work / "dump"
        env = {**os.environ, "JAX_PLATFORMS": "cpu"}
        t = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "xlalens", "dump", "--frameworks", "keras-jax",
             "--target", f"{work / 'resnet_step.py'}:make_step", "-o", str(out)],
            env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        t_dump = time.perf_counter() - t
        if proc.returncode != 0:
            print(f"ResNet50 dump failed (exit {proc.returncode}): {proc.stderr.strip()[-600:]}")
            return
        manifest = read_manifest(out)
        secs = manifest.get("seconds") or {}
        stages = (
            {k: v for k, v in secs.items() if isinstance(v, (int, float))}
            if isinstance(secs, dict)
            else {}
        )
        report = out / REPORT
        svgs = list((out / SVG_DIR).glob("*.svg"))
        size = sum(p.stat().st_size for p in svgs)
        print(f"keras-jax ResNet50 dump (one frontend): xlalens dump {t_dump:.0f} s in all")
        if stages:
            print("  manifest seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in stages.items()))
        # The render stage again, alone, on the finished dump.
        shutil.rmtree(out / SVG_DIR)
        t = time.perf_counter()
        res = render_dump(out, manifest)
        html = build_html(out, manifest, res["notes"])
        report.write_text(html)
        t_render = time.perf_counter() - t
        svgs = list((out / SVG_DIR).glob("*.svg"))
        size = sum(p.stat().st_size for p in svgs)
        kb = report.stat().st_size / 1e3
        print(
            f"  render stage (SVGs + report): {t_render:.1f} s; report.html {kb:.0f} kB "
            f"[target <= 1 MB: {'PASS' if kb <= 1000 else 'FAIL'}]; {len(svgs)} SVG files, {size / 1e6:.1f} MB"
            f" (kernels' bodies and deep pre-optimization views on demand); search index {(out / SVG_DIR / 'index.js').stat().st_size / 1e6:.1f} MB"
        )
        opened = _chromium_open(report)
        if opened is not None:
            print(
                f"  Chromium opens report.html and shows the first card in {opened:.2f} s "
                f"[target <= 3 s: {'PASS' if opened <= 3 else 'FAIL'}]"
            )
        keep = os.environ.get("XLALENS_BENCH_KEEP")
        if keep:
            shutil.copytree(out, keep, dirs_exist_ok=True)
            print(f"  dump kept in {keep}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    """Print the figures."""
    files = _real_files()
    ref = min(_dot_seconds(_reference_dag()) for _ in range(3))
    print(f"reference: dot -Tsvg on a plain 650-node DAG: {ref:.3f} s (best of 3)")
    if "--no-modules" not in sys.argv:
        for path in files:
            _module(path, ref)
    if "--no-transformer" not in sys.argv:
        _transformer(ref)
    if "--no-dump" not in sys.argv:
        _dump()


if __name__ == "__main__":
    main()
