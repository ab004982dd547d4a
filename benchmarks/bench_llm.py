"""Benchmark: xlalens at LLM scale, on a deep transformer step of 150k-300k instructions.

The module is text synthesis from a real capture: jax lowers one pre-LN
transformer layer's forward and backward step (bf16 parameters, 8 forced host
devices, ``NamedSharding`` over a 4x2 ("data", "model") mesh, so the parameters
carry ``sharding=`` and Shardy annotations) to pre-optimization HLO, XLA's own
printer re-prints it, and :func:`synthesize` repeats that layer ``--layers``
times in one entry computation: layer ``i``'s instructions are renamed
``l<i>.<name>``, its parameters numbered after the previous layer's, its input is
the previous layer's output (``get-tuple-element(l<i-1>.tuple, index=0)``), and
the entry's root is a tuple of every layer's results. The reducers and called
functions of the capture are shared by all layers. A second module differs in
one layer (``--variant-layer``), whose activation is relu instead of gelu.

Measured through the public API, each in a fresh subprocess (so ``ru_maxrss``
is the load's own peak): ``xlalens.load(path)`` CPU time and peak memory (target
<= 15 MB per 10k instructions), ``xlalens.stats``, ``xlalens.diff`` of the two
modules (target <= 10 s; through the API, loads and diff apart, and as the command
``xlalens diff A B -o OUT``), and ``xlalens render FILE -o OUT.svg`` (the overview at
once, drill-downs on demand; target <= 5 s).

Usage: ``.venv/bin/python benchmarks/bench_llm.py [--layers 600] [--cache DIR]``
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cli_run import run_cli

ROOT = Path(__file__).resolve().parents[1]
MB_PER_10K, DIFF_S, RENDER_S = 15.0, 10.0, 5.0

_LAYER = r"""
import os, sys
os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=8"
os.environ.setdefault("JAX_PLATFORMS", "cpu")
import jax, jax.numpy as jnp, numpy as np
from jax._src.lib import hlo
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
act = {"gelu": jax.nn.gelu, "relu": jax.nn.relu}[sys.argv[1]]
D, H, F, S, B = 256, 8, 1024, 64, 8
mesh = Mesh(np.array(jax.devices()).reshape(4, 2), ("data", "model"))
def norm(x, g):
    h = x.astype(jnp.float32)
    mu = h.mean(-1, keepdims=True)
    var = ((h - mu) ** 2).mean(-1, keepdims=True)
    return ((h - mu) * jax.lax.rsqrt(var + 1e-5) * g.astype(jnp.float32)).astype(jnp.bfloat16)
def layer(p, x):
    h = norm(x, p["g1"])
    q, k, v = ((h @ p[w]).reshape(B, S, H, D // H) for w in ("wq", "wk", "wv"))
    a = jnp.einsum("bshd,bthd->bhst", q, k).astype(jnp.float32) / np.sqrt(D // H)
    a = jnp.where(jnp.tril(jnp.ones((S, S), bool)), a, -1e9)
    a = jax.nn.softmax(a, -1).astype(jnp.bfloat16)
    x = x + jnp.einsum("bhst,bthd->bshd", a, v).reshape(B, S, D) @ p["wo"]
    return x + act(norm(x, p["g2"]) @ p["w1"]) @ p["w2"]
def step(p, x):
    def loss(p, x):
        y = layer(p, x)
        return (y.astype(jnp.float32) ** 2).mean(), y
    (_, y), g = jax.value_and_grad(loss, has_aux=True)(p, x)
    return y, g
shapes = {"g1": (D,), "wq": (D, D), "wk": (D, D), "wv": (D, D), "wo": (D, D), "g2": (D,),
          "w1": (D, F), "w2": (F, D)}
col, row, rep = P(None, "model"), P("model", None), P(None)
specs = {"g1": rep, "g2": rep, "wq": col, "wk": col, "wv": col, "wo": row, "w1": col, "w2": row}
p = {k: jax.ShapeDtypeStruct(s, jnp.bfloat16, sharding=NamedSharding(mesh, specs[k]))
     for k, s in shapes.items()}
x = jax.ShapeDtypeStruct((B, S, D), jnp.bfloat16, sharding=NamedSharding(mesh, P("data", None, None)))
text = jax.jit(step).lower(p, x).as_text(dialect="hlo")
sys.stdout.write(hlo.hlo_module_from_text(text).to_string())
"""


def capture_layer(variant: str, cache: Path) -> str:
    """One layer's step as XLA prints it (cached in ``cache``); ``variant``: gelu or relu."""
    path = cache / f"llm_layer_{variant}.hlo.txt"
    if path.exists():
        return path.read_text()
    cache.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run(
        [sys.executable, "-c", _LAYER, variant],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"capturing the layer failed:\n{proc.stderr[-2000:]}")
    part = path.with_suffix(".part")
    part.write_text(proc.stdout)
    part.replace(path)
    return proc.stdout


_ENTRY = re.compile(r"^ENTRY %(\S+) .*?\{\n(.*?)\n\}\n", re.S | re.M)
_DEF = re.compile(r"^\s*(?:ROOT )?%([\w.\-]+) = ", re.M)
_NAME = re.compile(r"%([\w.\-]+)")
_PARAM = re.compile(r"parameter\((\d+)\)")


def synthesize(layers: int, base: str, variant: str | None = None, at: int = -1) -> str:
    """The deep module: ``layers`` copies of the captured layer (``variant`` at index ``at``).

    Args:
        layers: how many layers.
        base: the captured layer (XLA-printed HLO text).
        variant: another capture of the layer, used for layer ``at`` only.
        at: which layer is the variant.
    """

    def split(text: str) -> tuple[str, str, list[str]]:
        m = _ENTRY.search(text)
        if m is None:
            raise ValueError("no ENTRY computation in the captured layer")
        return text[: m.start()], m.group(2), m.group(2).split("\n")

    head, _body, lines = split(base)
    header, comps = head.split("\n", 1)
    # The module's mesh stays; the captured entry layout does not fit the deep module.
    mesh = re.search(r"frontend_attributes=\{.*\}\}", header)
    out = [
        "HloModule deep_transformer_step, num_partitions=8"
        + (f", {mesh.group(0)}" if mesh else ""),
        comps.rstrip("\n"),
        "",
        "ENTRY %main {",
    ]
    var_lines: list[str] = []
    if variant is not None:
        # The variant's own computations (its relu, ...) join the module, renamed v_*.
        vhead, _vbody, var_lines = split(variant)
        vcomps = vhead.split("\n", 1)[1]
        cnames = set(re.findall(r"^%([\w.\-]+) ", vcomps, re.M))

        def vren(m: re.Match) -> str:
            return f"%v_{m.group(1)}" if m.group(1) in cnames else m.group(0)

        out[2:2] = [_NAME.sub(vren, vcomps).rstrip("\n")]
        var_lines = [_NAME.sub(vren, ln) for ln in var_lines]
    roots = []
    n_params = 0
    for i in range(layers):
        layer_lines = var_lines if variant is not None and i == at else lines
        names = set(_DEF.findall("\n".join(layer_lines)))
        xname = None
        k_params = 0
        for ln in layer_lines:
            pm = _PARAM.search(ln)
            if pm and " parameter(" in ln:
                k_params = max(k_params, int(pm.group(1)) + 1)
        for ln in layer_lines:
            ln = _NAME.sub(
                lambda m, i=i, names=names: (
                    f"%l{i}.{m.group(1)}" if m.group(1) in names else m.group(0)
                ),
                ln,
            )
            if " parameter(" in ln:
                idx = int(_PARAM.search(ln).group(1))
                if idx == k_params - 1:  # the layer's input activation
                    xname = _DEF.match(ln).group(1)
                    if i > 0:
                        typ = ln.split(" = ", 1)[1].split(" parameter(")[0]
                        ln = f"  %{xname} = {typ} get-tuple-element(%{roots[-1]}), index=0"
                        out.append(ln)
                        continue
                    idx = -1  # numbered last, below
                else:
                    idx = n_params + idx
                ln = _PARAM.sub(f"parameter({idx})", ln, count=1)
            if ln.lstrip().startswith("ROOT "):
                ln = ln.replace("ROOT ", "", 1)
                roots.append(_DEF.match(ln).group(1))
            out.append(ln)
        n_params += k_params - 1
    text = "\n".join(out)
    text = text.replace("parameter(-1)", f"parameter({n_params})")
    return text + "\n  ROOT %step = tuple(" + ", ".join(f"%{r}" for r in roots) + ")\n}\n"


_MEASURE = r"""
import json, resource, sys, time
import xlalens
what, path, other, out = sys.argv[1:5]
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
c0, t0 = time.process_time(), time.perf_counter()
res = {}
if what == "load":
    g = xlalens.load(path, level="raw")
    res["nodes"] = g.number_of_nodes()
elif what == "canonical":
    g = xlalens.load(path, level="canonical")
    res["nodes"] = g.number_of_nodes()
elif what == "stats":
    s = xlalens.stats(xlalens.load(path))
elif what == "diff":
    # The public call xlalens.diff(path, other) is load + load + diff; the same
    # steps through the public API one by one, so the row can say where the time goes.
    from xlalens.ir import DEFAULT_LEVEL
    ga = xlalens.load(path, level=DEFAULT_LEVEL)
    gb = xlalens.load(other, level=DEFAULT_LEVEL)
    res["load_cpu_s"] = time.process_time() - c0
    d = xlalens.diff(ga, gb)
    res["diff_cpu_s"] = time.process_time() - c0 - res["load_cpu_s"]
    res["summary"] = str(d.summary)[:300]
res["cpu_s"] = time.process_time() - c0
res["wall_s"] = time.perf_counter() - t0
res["peak_mb"] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024
print(json.dumps(res))
"""


def measure(what: str, path: Path, other: Path | None = None) -> dict:
    """Run one public call in a fresh process; CPU, wall seconds and peak memory growth."""
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", _MEASURE, what, str(path), str(other or ""), ""],
        capture_output=True,
        text=True,
        env=env,
        timeout=1200,
        check=False,
    )
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1][:300] if proc.stderr else "?"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    """Synthesize the two modules, then measure and print each call beside its target."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layers", type=int, default=600, help="transformer layers (~330 instr each)")
    ap.add_argument("--variant-layer", type=int, default=300, help="the layer that differs")
    ap.add_argument("--cache", type=Path, default=None, help="where the captured layer is kept")
    ap.add_argument("--skip", default="", help="comma list of steps to skip (diff,render,...)")
    ap.add_argument("--render-timeout", type=int, default=1200, help="seconds for the render")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT / "scripts"))
    from gen_other_hlo import default_cache

    cache = args.cache or default_cache()
    gelu, relu = capture_layer("gelu", cache), capture_layer("relu", cache)
    tmp = Path(tempfile.mkdtemp(prefix="xlalens-bench-llm-"))
    # The two modules are 14 MiB each, the reports more: removed at exit, whatever
    # happens (each run used to leave about 30 MB in /tmp).
    try:
        a, b = tmp / "deep_a.hlo.txt", tmp / "deep_b.hlo.txt"
        t0 = time.perf_counter()
        a.write_text(synthesize(args.layers, gelu))
        b.write_text(synthesize(args.layers, gelu, relu, args.variant_layer))
        print(
            f"synthesized {args.layers} layers in {time.perf_counter() - t0:.1f} s: {a} "
            f"({a.stat().st_size / 2**20:.0f} MiB), {b} (removed at exit); load average "
            f"{os.getloadavg()[0]:.1f}"
        )
        skip = set(filter(None, args.skip.split(",")))
        rows = {}
        for what in ("load", "canonical", "stats", "diff"):
            if what in skip:
                continue
            rows[what] = measure(what, a, b if what == "diff" else None)
        n = rows.get("load", {}).get("nodes", 0)
        print(f"\n{'step':28} {'cpu s':>8} {'wall s':>8} {'peak MB':>9}  figure / target")
        for what, r in rows.items():
            if "error" in r:
                print(f"{what:28} failed: {r['error']}")
                continue
            extra = ""
            if what in ("load", "canonical") and n:
                per = r["peak_mb"] / n * 1e4
                extra = (
                    f"{per:.2f} MB per 10k instructions / <= {MB_PER_10K:.0f} "
                    f"({'MET' if per <= MB_PER_10K else 'MISSED'}; {n} instructions)"
                )
            if what == "diff":
                extra = (
                    f"{r['cpu_s']:.1f} s CPU / <= {DIFF_S:.0f} s "
                    f"({'MET' if r['cpu_s'] <= DIFF_S else 'MISSED'}): loading both "
                    f"{r['load_cpu_s']:.1f} s + diff {r['diff_cpu_s']:.1f} s"
                )
            print(f"{what:28} {r['cpu_s']:>8.2f} {r['wall_s']:>8.2f} {r['peak_mb']:>9.0f}  {extra}")
        if "diff-cli" not in skip:
            # The command a user runs: both loads, the diff and the text report, in one
            # process; CPU of the process (user + system).
            run = run_cli(["diff", str(a), str(b), "-o", str(tmp / "d.txt")], 1200)
            cpu, wall = run.cpu_s, run.wall_s
            if run.returncode != 0:
                print(f"{'diff (CLI)':28} failed: {run.stderr.strip()[-300:]}")
            else:
                print(
                    f"{'diff (CLI)':28} {cpu:>8.2f} {wall:>8.2f} {'':>9}  "
                    f"{cpu:.1f} s CPU, {wall:.1f} s wall / <= {DIFF_S:.0f} s "
                    f"({'MET' if cpu <= DIFF_S else 'MISSED'} on CPU); "
                    f"load average {os.getloadavg()[0]:.1f}"
                )
        if "render" not in skip:
            out = tmp / "render" / "deep.svg"
            out.parent.mkdir(parents=True, exist_ok=True)  # the CLI creates no folders
            run = run_cli(["render", str(a), "-o", str(out)], args.render_timeout)
            cpu, wall = run.cpu_s, run.wall_s
            if run.timed_out:
                print(
                    f"{'render (overview, CLI)':28} did not finish in {args.render_timeout} s "
                    f"(target {RENDER_S:.0f} s): MISSED"
                )
                print(json.dumps(rows))
                return
            if run.returncode != 0:
                print(f"{'render (overview)':28} failed: {run.stderr.strip()[-300:]}")
            else:
                views = out.with_suffix(".views")
                n_views = len(list(views.glob("*.svg"))) if views.is_dir() else 0
                print(
                    f"{'render (overview, CLI)':28} {cpu:>8.2f} {wall:>8.2f} {'':>9}  "
                    f"{cpu:.1f} s CPU, {wall:.1f} s wall / <= {RENDER_S:.0f} s "
                    f"({'MET' if cpu <= RENDER_S else 'MISSED'} on CPU); {n_views} drill-downs "
                    f"drawn, the rest on demand; load average {os.getloadavg()[0]:.1f}"
                )
        print(json.dumps(rows))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
