"""Benchmark: the public load path (``xlalens.load``) against XLA's own C++ parser.

Modules, each read the way users read them:

- **other tools** (the acceptance set): modules written by the frameworks' own XLA
  dump flags (``--xla_dump_to``) from models that are not checked in: Keras
  MobileNetV2 on JAX, Keras ResNet50 on TensorFlow, a transformers GPT-2 on
  torch_xla, a flax.nnx ViT; pre- and post-optimization. ``scripts/gen_other_hlo.py``
  writes them to a cache folder (run here on first use; ``--no-generate`` skips).
- **checked-in** real modules of ``tests/core/data/real`` and the generated
  64-layer jax transformer step (tests/core/_hlo_workloads.py).
- **small corpus**: every other module those dump runs wrote (jit-compiled helpers,
  each framework's small modules) plus every HLO text under ``tests/core/data``,
  timed as one sum.

For each, in the same process and on the same text, best of ``--repeat`` runs
interleaved: ``xla`` = ``jax._src.lib.hlo.hlo_module_from_text`` (the reference),
``raw`` = ``xlalens.load(text, level="raw")``, ``canon`` =
``xlalens.load(text, level="canonical")``, ``path`` = ``xlalens.load(path)`` (the
file read and sniffed too). Ratios are to ``xla``, in process CPU time (NOTE [CPU
time too]) with the wall-time ratio beside. Targets (issue 23): raw and canonical
<= 2x XLA in CPU time on every module of 5k+ instructions (limit 3x); <= 3x over the
small corpus.

Usage: ``.venv/bin/python benchmarks/bench_ir.py [--repeat 3] [--only SUBSTR]
[--layers 64] [--cache DIR] [--no-generate]``
"""

from __future__ import annotations

import argparse
import gc
import json
import lzma
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET, LIMIT, CORPUS_TARGET = 2.0, 3.0, 3.0
BIG = 5000


def _timed(fns: dict, repeat: int) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
    """Best-of-``repeat`` wall time and process CPU time of each function, runs interleaved,
    and the median CPU time (the spread a verdict must allow: NOTE [a verdict the spread
    allows]).

    NOTE: [CPU time too] On the shared machine the wall time includes waiting for a
    core (load averages of 10+ on 2 cores are common); the process CPU time of the
    same run (XLA's parser runs in this thread too) shows the work itself.
    """
    wall: dict[str, list[float]] = {k: [] for k in fns}
    cpu: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            gc.collect()
            t0, c0 = time.perf_counter(), time.process_time()
            result = fn()
            wall[name].append(time.perf_counter() - t0)
            cpu[name].append(time.process_time() - c0)
            del result
    return (
        {k: min(v) for k, v in wall.items()},
        {k: min(v) for k, v in cpu.items()},
        {k: statistics.median(v) for k, v in cpu.items()},
    )


def _other_tools(cache: Path, generate: bool) -> tuple[list[tuple[str, Path]], list[Path]]:
    """(name, path) of the big modules of other tools, and the small modules of their runs."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from gen_other_hlo import MODELS
    from gen_other_hlo import generate as gen

    big: list[tuple[str, Path]] = []
    small: list[Path] = []
    for name in MODELS:
        pre, post = cache / f"{name}.hlo.txt", cache / f"{name}.optimized_hlo.txt"
        if not (pre.exists() and post.exists()):
            if not generate:
                print(f"(skipping {name}: not in {cache}; run scripts/gen_other_hlo.py)")
                continue
            print(f"(generating {name} into {cache} ...)", flush=True)
            try:
                gen(name, cache)
            except Exception as exc:  # a framework failing must not stop the benchmark
                print(f"(could not generate {name}: {str(exc)[:300]})")
                continue
        big += [(f"{name}.hlo", pre), (f"{name}.optimized_hlo", post)]
        dump = cache / f"{name}.dump"
        small += sorted(p for p in dump.glob("*.txt") if p.stat().st_size < 200_000)
    return big, small


def _checked_in(layers: int, tmp: Path) -> list[tuple[str, Path]]:
    sys.path.insert(0, str(ROOT / "tests" / "core"))
    from _real import real_files

    out = []
    for f, _n in real_files():
        path = tmp / f.removesuffix(".xz")
        path.write_bytes(lzma.decompress((ROOT / "tests/core/data/real" / f).read_bytes()))
        out.append((f.removesuffix(".txt.xz"), path))
    if layers:
        from _hlo_workloads import transformer_step_hlo

        pre, opt = transformer_step_hlo(layers)
        for stage, text in (("hlo", pre), ("optimized_hlo", opt)):
            path = tmp / f"generated_transformer_{layers}l.{stage}.txt"
            path.write_text(text)
            out.append((f"generated_transformer_{layers}l.{stage}", path))
    return out


def _row(name: str, path: Path, repeat: int, hlo, xlalens) -> dict:
    text = path.read_text()
    module = hlo.hlo_module_from_text(text)
    n_xla = sum(len(c.instructions()) for c in module.computations())
    del module
    fns = {
        "xla": lambda: hlo.hlo_module_from_text(text),
        "raw": lambda: xlalens.load(text, level="raw"),
        "canon": lambda: xlalens.load(text, level="canonical"),
        "path": lambda: xlalens.load(path),
    }
    wall, cpu, med = _timed(fns, repeat)
    n = xlalens.load(text, level="raw").number_of_nodes()
    return {
        "module": name,
        "instructions": n,
        "xla_instructions": n_xla,
        "xla_cpu_s": round(cpu["xla"], 4),
        **{f"{k}_cpu_ratio": round(cpu[k] / max(cpu["xla"], 1e-9), 2) for k in fns if k != "xla"},
        **{
            f"{k}_cpu_median_ratio": round(med[k] / max(med["xla"], 1e-9), 2)
            for k in fns
            if k != "xla"
        },
        **{
            f"{k}_wall_ratio": round(wall[k] / max(wall["xla"], 1e-9), 2) for k in fns if k != "xla"
        },
    }


def _verdict(worst: float, target: float, limit: float | None, median: float = 0.0) -> str:
    # NOTE: [a verdict the spread allows] The best of the rounds is the verdict's figure (a
    # shared machine only adds time), but where the median of the same rounds is over the
    # target, another run may well miss it: that is said, not a plain MET.
    if worst <= target < median:
        return f"MET at the best of the rounds, not at their median ({median:.2f}x): within noise"
    if worst <= target:
        return "MET"
    if limit is not None and worst <= limit:
        return "within limit"
    return "MISSED"


def main(argv: list[str] | None = None) -> None:
    """Time every module and print one row each, then the verdicts against the targets."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per variant (best of)")
    ap.add_argument("--only", help="only modules whose name contains this")
    ap.add_argument("--layers", type=int, default=64, help="generated transformer depth (0: skip)")
    ap.add_argument("--cache", type=Path, default=None, help="other tools' modules folder")
    ap.add_argument("--no-generate", action="store_true", help="do not run the frameworks")
    args = ap.parse_args(argv)
    os.environ.setdefault("JAX_PLATFORMS", "cpu")

    from jax._src.lib import hlo

    import xlalens

    sys.path.insert(0, str(ROOT / "scripts"))
    from gen_other_hlo import default_cache

    cache = args.cache or default_cache()
    other, small = _other_tools(cache, not args.no_generate)
    tmp = Path(tempfile.mkdtemp(prefix="xlalens-bench-ir-"))
    checked = _checked_in(args.layers, tmp)
    small += sorted((ROOT / "tests/core/data/hlo").glob("*.txt"))
    small += sorted((ROOT / "tests/core/data/dumps").glob("*/*/*hlo.txt"))

    print(
        f"load average before: {os.getloadavg()[0]:.1f}; ratios to XLA's parser in CPU time "
        "(wall time in brackets), best of "
        f"{args.repeat}; target raw and canonical <= {TARGET:.0f}x (limit {LIMIT:.0f}x) "
        f"on modules of {BIG // 1000}k+ instructions"
    )
    header = (
        f"{'module':44} {'instr':>7} {'xla cpu s':>9} {'raw':>13} {'canonical':>13} "
        f"{'load(path)':>13}  target"
    )
    rows = []
    for group, mods in (("other tools", other), ("checked in", checked)):
        print(f"\n[{group}]")
        print(header)
        print("-" * len(header))
        for name, path in mods:
            if args.only and args.only not in name:
                continue
            r = _row(name, path, args.repeat, hlo, xlalens)
            r["group"] = group
            rows.append(r)
            tgt = f"<= {TARGET:.0f}x (limit {LIMIT:.0f}x)" if r["instructions"] >= BIG else "-"

            def cell(k: str, r=r) -> str:
                return f"{r[k + '_cpu_ratio']:>5.2f}x ({r[k + '_wall_ratio']:.2f}x)"

            print(
                f"{name:44} {r['instructions']:>7} {r['xla_cpu_s']:>9.3f} {cell('raw'):>13} "
                f"{cell('canon'):>13} {cell('path'):>13}  {tgt}"
                + ("" if r["instructions"] == r["xla_instructions"] else "  (XLA counts differ)")
            )

    # The corpus of many small modules: the sums of each variant's CPU time.
    corpus = [p for p in small if not args.only or args.only in p.name]
    totals = {"xla": 0.0, "raw": 0.0, "canon": 0.0}
    n_instr = 0
    skipped = 0
    for path in corpus:
        text = path.read_text()
        try:
            hlo.hlo_module_from_text(text)
        except Exception:  # a module XLA's installed parser rejects is not timed
            skipped += 1
            continue
        _w, c, _m = _timed(
            {
                "xla": lambda text=text: hlo.hlo_module_from_text(text),
                "raw": lambda text=text: xlalens.load(text, level="raw"),
                "canon": lambda text=text: xlalens.load(text, level="canonical"),
            },
            args.repeat,
        )
        for k in totals:
            totals[k] += c[k]
        n_instr += xlalens.load(text, level="raw").number_of_nodes()
    print(
        f"\n[small corpus] {len(corpus) - skipped} modules, {n_instr} instructions "
        f"({skipped} that XLA rejects not timed): XLA {totals['xla']:.3f} s CPU, "
        f"raw {totals['raw'] / max(totals['xla'], 1e-9):.2f}x, canonical "
        f"{totals['canon'] / max(totals['xla'], 1e-9):.2f}x   target <= {CORPUS_TARGET:.0f}x"
    )

    print()
    big = [r for r in rows if r["instructions"] >= BIG and r["group"] == "other tools"]
    big_all = [r for r in rows if r["instructions"] >= BIG]
    for what, pool in (("other tools", big), ("all", big_all)):
        for key, label in (("raw", "raw"), ("canon", "canonical"), ("path", "load(path)")):
            worst = max((r[f"{key}_cpu_ratio"] for r in pool), default=0.0)
            median = max((r[f"{key}_cpu_median_ratio"] for r in pool), default=0.0)
            print(
                f"target {label} <= {TARGET:.0f}x XLA CPU (limit {LIMIT:.0f}x) on {what} modules "
                f"of {BIG // 1000}k+ instructions ({len(pool)}): worst {worst:.2f}x (worst "
                f"median of rounds {median:.2f}x) -> "
                f"{_verdict(worst, TARGET, LIMIT, median) if pool else 'no such module'}"
            )
    for key, label in (("raw", "raw"), ("canon", "canonical")):
        ratio = totals[key] / max(totals["xla"], 1e-9)
        print(
            f"target {label} <= {CORPUS_TARGET:.0f}x XLA CPU over the small corpus: "
            f"{ratio:.2f}x -> "
            + (_verdict(ratio, CORPUS_TARGET, None) if totals["xla"] else "no modules")
        )
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    print(json.dumps(rows))
    shutil.rmtree(tmp, ignore_errors=True)  # the decompressed modules (the disk is shared)


if __name__ == "__main__":
    main()
