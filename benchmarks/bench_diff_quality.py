"""Benchmark: how right the diff's pairing is (issue 11).

Three measurements, each printed as a table:

1. **Labelled cross-framework pairs.** For every dump given (``--dump DIR``, any
   number; default: the checked-in mlp dump, and ``cnn``/``transformer`` captured
   with ``--capture`` once those workloads exist), every pair of frontends, at
   ``stablehlo`` and ``optimized_hlo`` (canonical level): anchor ops are labelled
   by the model operation they implement, the diff's pairs are scored against the
   labels (precision, recall), and at optimized HLO the fraction of labelled
   dots/convolutions whose kernels the kernel map pairs is reported.
   Labels (see :func:`labels`): ``param:<role>`` for entry parameters,
   ``result:<role>`` for the loss and each parameter's update, and for each
   dot/convolution ``reads:<w>:<dims>`` (it reads parameter ``w`` through
   layout-only ops: the forward op, or the input gradient, told apart by the
   number of output elements) or ``wgrad:<w>`` (as many elements as ``w`` and only
   ``w``'s update depends on it). A label that occurs twice in one graph is
   dropped (ambiguous).
2. **Fusion decisions.** The same jax step compiled normally, with
   ``--xla_disable_hlo_passes=fusion`` and with two ``--xla_cpu_*`` settings
   (checked in under tests/core/data/hlo/fusion_decisions; ``--regen-fusion``
   compiles them again, one subprocess each): the fraction of non-trivial ops
   paired with an op of the same opcode through the fusion boundary.
3. **Speed of the kernel map** on two ResNet-50-sized optimized modules
   (tests/core/data/real/keras_jax_resnet50.optimized_hlo.txt.xz, when present).

Targets: precision >= 0.97 and recall >= 0.90 at stablehlo; the kernel map pairs
>= 0.90 of the labelled dots/convolutions at optimized_hlo; fusion decisions >= 0.98;
kernel map <= 2 s.

Run: .venv/bin/python benchmarks/bench_diff_quality.py [--dump DIR ...] [--capture]
"""

from __future__ import annotations

import argparse
import itertools
import json
import lzma
import math
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter, deque
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MLP = ROOT / "tests" / "core" / "data" / "dumps" / "mlp"
FUSION = ROOT / "tests" / "core" / "data" / "hlo" / "fusion_decisions"
RESNET = ROOT / "tests" / "core" / "data" / "real" / "keras_jax_resnet50.optimized_hlo.txt.xz"
ARTIFACTS = ("stablehlo", "optimized_hlo")
# Ops that only change how a value is laid out or typed (a weight read through them
# is still "read" by the dot).
LAYOUT_OPS = {"transpose", "reshape", "bitcast", "convert", "copy", "broadcast", "parameter"}
# Roles that are not model parameters (inputs, bookkeeping).
NOT_WEIGHTS = {"x", "y", "lr", "loss", "iteration", "metric_state", "seed", "step"}
HEAVY = ("dot", "convolution")
TRIVIAL = {"parameter", "constant", "tuple", "get-tuple-element", "bitcast", "fusion", "copy"}
FUSION_SETTINGS = {
    "default": "",
    "no_fusion": "--xla_disable_hlo_passes=fusion",
    "no_ynn_fusion": "--xla_cpu_experimental_ynn_fusion_type=",
    "no_fusion_emitters": "--xla_cpu_use_fusion_emitters=false",
}


def _flat_view(g):
    """operands(x) and users(x) on ``g`` with fusions inlined (fused parameters -> operands)."""
    from xlalens.diff._match import flatten_plan

    plan = flatten_plan(g)
    res = plan.resolved
    ops: dict[str, list[str]] = {}
    users: dict[str, list[str]] = {n: [] for n in g}
    for v in g:
        if v in plan.hidden:
            continue
        keyed = sorted((k, res.get(u, u)) for u, ks in g._pred[v].items() for k in ks)
        ops[v] = [u for _, u in keyed]
        for u in ops[v]:
            users.setdefault(u, []).append(v)
    # A role on a fusion instruction (optimized HLO) belongs to its fused root.
    role_of = {}
    for n, d in g.nodes(data=True):
        if d["role"]:
            role_of.setdefault(res.get(n, n), (d["role"], d["param_index"] is not None))
    return plan, ops, users, role_of


def _feeds_loss(n: str, users: dict[str, list[str]], g) -> bool:
    """Whether the node with role ``loss`` (the loss result) depends on ``n``."""
    seen, q = {n}, deque([n])
    while q:
        x = q.popleft()
        if g._node[x].get("role") == "loss" and g._node[x]["param_index"] is None:
            return True
        for w in users.get(x, []):
            if w not in seen:
                seen.add(w)
                q.append(w)
    return False


def labels(g) -> dict[str, str]:
    """``{node id: label}`` of the anchor ops of one graph (see the module docstring)."""
    plan, ops, users, role_of = _flat_view(g)
    nodes = g._node
    out: dict[str, str] = {}
    weights: dict[str, tuple] = {}
    for n, d in g.nodes(data=True):
        if d["role"] is None:
            continue
        if d["param_index"] is not None and d["computation"] == g.graph["entry"]:
            out[n] = f"param:{d['role']}"
            if d["role"] not in NOT_WEIGHTS:
                weights[n] = (d["role"], math.prod(d["shape"]) if d["shape"] else 1)
        elif d["param_index"] is None:
            out[n] = f"result:{d['role']}"
    result_nodes = {
        x: role for x, (role, is_param) in role_of.items() if not is_param and role not in ("loss",)
    }
    for n, d in g.nodes(data=True):
        if d["op"] not in HEAVY or n in plan.hidden:
            continue
        read: set[str] = set()
        for u in ops.get(n, []):
            seen, todo = set(), [u]
            while todo:
                x = todo.pop()
                if x in seen:
                    continue
                seen.add(x)
                if x in weights:
                    read.add(weights[x][0])
                elif nodes[x]["op"] in LAYOUT_OPS:
                    todo.extend(ops.get(x, []))
        # Elements, not dims: a 1x1 convolution and the dot TF rewrites it into
        # compute the same values in another shape (issue 21).
        dims = math.prod(d["shape"]) if d["shape"] else 1
        if len(read) == 1:
            # forward (the loss depends on it) or input gradient: a square layer has both
            fwd = "fwd" if _feeds_loss(n, users, g) else "grad"
            out[n] = f"reads:{next(iter(read))}:{dims}:{fwd}"
            continue
        if read:
            continue
        reached: set[str] = set()
        seen = {n}
        q = deque([n])
        while q:
            x = q.popleft()
            if x in result_nodes:
                reached.add(result_nodes[x])
            for w in users.get(x, []):
                if w not in seen:
                    seen.add(w)
                    q.append(w)
        shapes = {r: s for r, s in weights.values()}
        params = {r for r in reached if r in shapes}
        if len(params) == 1:
            r = next(iter(params))
            if shapes[r] == dims:
                out[n] = f"wgrad:{r}"
    counts = Counter(out.values())
    return {n: lab for n, lab in out.items() if counts[lab] == 1}


def score(d, la: dict[str, str], lb: dict[str, str]) -> dict[str, float]:
    """Precision, recall and (optimized HLO) kernel-map coverage of labelled heavy ops."""
    common = set(la.values()) & set(lb.values())
    by_label_b = {lab: n for n, lab in lb.items() if lab in common}
    predicted = correct = 0
    for p in d.pairs:
        a_lab, b_lab = la.get(p.a), lb.get(p.b)
        if (a_lab in common) or (b_lab in common):
            predicted += 1
            correct += a_lab is not None and a_lab == b_lab
    out = {
        "labels": len(common),
        "precision": correct / predicted if predicted else 1.0,
        "recall": correct / len(common) if common else 1.0,
    }
    heavy = [lab for lab in common if lab.startswith(("reads:", "wgrad:"))]
    out["heavy"] = len(heavy)
    if d.kernel_map is not None and heavy:
        from xlalens.diff._kernels import _kernels

        ka, kb = _kernels(d.a), _kernels(d.b)
        together = set()
        for kp in d.kernel_map.pairs:
            for x in kp.a:
                for y in kp.b:
                    together.add((x, y))
        by_label_a = {lab: n for n, lab in la.items() if lab in common}
        hit = sum(
            1
            for lab in heavy
            if (ka.of.get(by_label_a[lab]), kb.of.get(by_label_b[lab])) in together
        )
        out["kernel_heavy"] = hit / len(heavy)
    return out


PAIR_PRECISION, PAIR_RECALL = 0.97, 0.95
"""Targets for dots/convolutions on every real pair (issue 21)."""


def heavy_score(d, la: dict[str, str], lb: dict[str, str]) -> tuple[int, int, int]:
    """(labelled dots/convolutions in common, pairs that touch one, pairs that are right)."""
    common = {
        lab for lab in set(la.values()) & set(lb.values()) if lab.startswith(("reads:", "wgrad:"))
    }
    predicted = correct = 0
    for p in d.pairs:
        a_lab, b_lab = la.get(p.a), lb.get(p.b)
        if a_lab in common or b_lab in common:
            predicted += 1
            correct += a_lab is not None and a_lab == b_lab
    return len(common), predicted, correct


def per_pair_table(pairs: list[tuple[str, str, str]]) -> list[str]:
    """One row per (name, entry A, entry B) and artifact: dots/convolutions precision and
    recall against their labels, the target beside each figure."""
    from xlalens.diff import diff
    from xlalens.ir import load

    rows = [
        "labelled dots/convolutions per pair (canonical level; target precision >= "
        f"{PAIR_PRECISION}, recall >= {PAIR_RECALL})",
        f"  {'pair':<44} {'artifact':<14} {'dots+convs A/B':>14} {'labels':>6} {'paired':>6} "
        f"{'right':>5} {'precision':>15} {'recall':>15}",
    ]
    for name, ea, eb in pairs:
        for art in ARTIFACTS:
            try:
                ga = load(f"{ea}:{art}", level="canonical")
                gb = load(f"{eb}:{art}", level="canonical")
            except Exception as exc:  # an entry without the artifact
                rows.append(f"  {name:<44} {art:<14} skipped ({str(exc)[:60]})")
                continue
            n, pred, ok = heavy_score(diff(ga, gb), labels(ga), labels(gb))
            prec = ok / pred if pred else float("nan")
            rec = ok / n if n else float("nan")
            mark_p = "ok" if prec >= PAIR_PRECISION else "MISS"
            mark_r = "ok" if rec >= PAIR_RECALL else "MISS"
            heavy = "/".join(
                str(sum(1 for _, op in g.nodes(data="op") if op in HEAVY)) for g in (ga, gb)
            )
            rows.append(
                f"  {name:<44} {art:<14} {heavy:>14} {n:>6} {pred:>6} {ok:>5} "
                f"{prec:>7.3f} {mark_p:>4}/.97 {rec:>7.3f} {mark_r:>4}/.95"
            )
    return rows


def frontends(dump: Path) -> list[str]:
    """Frontends of a dump that captured successfully, in manifest order."""
    man = json.loads((dump / "manifest.json").read_text())
    return [fe for fe, info in man["frontends"].items() if info.get("status") == "ok"]


def labelled_pairs(groups: dict[str, list[str]]) -> None:
    """Print the precision/recall table over every pair of entries of every group.

    Args:
        groups: ``{name: [dump entry DIR:frontend, ...]}`` (a dump's frontends, or
            entries of several one-frontend dumps of the same model).
    """
    from xlalens.diff import diff
    from xlalens.ir import load

    print("labelled cross-framework pairs (canonical level)")
    print(
        f"  {'dump':<13} {'artifact':<14} {'pairs':>5} {'labels':>6} {'precision':>9} "
        f"{'recall':>7} {'heavy':>5} {'kernel map pairs heavy':>22}"
    )
    for name, entries in groups.items():
        for art in ARTIFACTS:
            graphs, labs = {}, {}
            for entry in entries:
                fe = entry.rsplit(":", 1)[1]
                try:
                    graphs[fe] = load(f"{entry}:{art}", level="canonical")
                except Exception as exc:  # one frontend without the artifact
                    print(f"  {entry}:{art}: skipped ({exc})")
                    continue
                labs[fe] = labels(graphs[fe])
            tot = Counter()
            n_pairs = 0
            worst = []
            for fa, fb in itertools.combinations(list(graphs), 2):
                d = diff(graphs[fa], graphs[fb])
                s = score(d, labs[fa], labs[fb])
                n_pairs += 1
                tot["labels"] += s["labels"]
                tot["heavy"] += s["heavy"]
                if "kernel_heavy" in s:
                    tot["kh"] += s["kernel_heavy"] * s["heavy"]
                    tot["kh_n"] += s["heavy"]
                worst.append((s["precision"], s["recall"], fa, fb))
                # Precision over all predictions: recount exactly.
                common = set(labs[fa].values()) & set(labs[fb].values())
                for p in d.pairs:
                    a_lab, b_lab = labs[fa].get(p.a), labs[fb].get(p.b)
                    if a_lab in common or b_lab in common:
                        tot["pred"] += 1
                        tot["ok"] += a_lab is not None and a_lab == b_lab
            prec = tot["ok"] / tot["pred"] if tot["pred"] else float("nan")
            rec = tot["ok"] / tot["labels"] if tot["labels"] else float("nan")
            kh = f"{tot['kh'] / tot['kh_n']:.3f}" if tot["kh_n"] else "-"
            print(
                f"  {name:<13} {art:<14} {n_pairs:>5} {tot['labels']:>6} {prec:>9.3f} "
                f"{rec:>7.3f} {tot['heavy']:>5} {kh:>22}"
            )
            worst.sort()
            p0, r0, fa, fb = worst[0]
            print(f"    lowest: {fa} vs {fb}: precision {p0:.3f}, recall {r0:.3f}")


def fusion_decisions(regen: bool) -> None:
    """Print the same-opcode pairing fraction across fusion decisions."""
    from xlalens.diff import diff
    from xlalens.ir import load

    if regen:
        FUSION.mkdir(parents=True, exist_ok=True)
        for name, flags in FUSION_SETTINGS.items():
            env = {**os.environ, "XLA_FLAGS": flags, "JAX_PLATFORMS": "cpu"}
            text = subprocess.run(
                [sys.executable, __file__, "--print-fusion-step"],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            (FUSION / f"{name}.txt").write_text(text)
    base = load((FUSION / "default.txt").read_text(), level="canonical", stage="optimized_hlo")
    print("fusion decisions (same jax step; ops paired with an op of the same opcode)")
    for name in list(FUSION_SETTINGS)[1:]:
        other = load((FUSION / f"{name}.txt").read_text(), level="canonical", stage="optimized_hlo")
        d = diff(base, other)
        ca = Counter(o for _, o in base.nodes(data="op") if o not in TRIVIAL)
        cb = Counter(o for _, o in other.nodes(data="op") if o not in TRIVIAL)
        possible = sum(min(n, cb[o]) for o, n in ca.items())
        same = sum(
            1
            for p in d.pairs
            if base.nodes[p.a]["op"] == other.nodes[p.b]["op"]
            and base.nodes[p.a]["op"] not in TRIVIAL
        )
        c = d.kernel_map.counts()
        print(
            f"  default vs {name:<19} {FUSION_SETTINGS[name]:<40} {same}/{possible} = "
            f"{same / possible:.3f}; kernels {d.summary.kernels}: "
            + ", ".join(f"{k} {v}" for k, v in c.items() if v)
        )


def fusion_step_text() -> str:
    """Optimized HLO of the fusion-decision step under this process's XLA_FLAGS."""
    import jax
    import jax.numpy as jnp

    def step(params, x, y):
        def loss(p):
            h = jnp.tanh(x @ p["w1"] + p["b1"])
            h = jax.nn.gelu(h @ p["w2"] + p["b2"])
            logits = h @ p["w3"] + p["b3"]
            return -jnp.mean(jnp.sum(jax.nn.log_softmax(logits) * y, -1))

        val, grads = jax.value_and_grad(loss)(params)
        return jax.tree.map(lambda a, b: a - 0.1 * b, params, grads), val

    k = jnp.ones
    p = dict(
        w1=k((16, 32)) * 0.1,
        b1=k((32,)),
        w2=k((32, 32)) * 0.1,
        b2=k((32,)),
        w3=k((32, 10)) * 0.1,
        b3=k((10,)),
    )
    return jax.jit(step).lower(p, k((8, 16)), k((8, 10)) / 10).compile().as_text()


def kernel_map_speed(path: Path = RESNET) -> None:
    """Time the kernel map (and the whole diff) of two ResNet-50 optimized modules."""
    from xlalens.diff import diff
    from xlalens.diff._kernels import kernel_map
    from xlalens.ir import load

    if not path.exists():
        print(f"kernel map speed: {path} not present (reader branch's real models); skipped")
        return
    text = lzma.open(path, "rt").read()
    t0 = time.perf_counter()
    ga = load(text, level="canonical", stage="optimized_hlo")
    gb = load(text, level="canonical", stage="optimized_hlo")
    t_load = (time.perf_counter() - t0) / 2
    t0 = time.perf_counter()
    d = diff(ga, gb)
    t_diff = time.perf_counter() - t0
    mapping = d.mapping()
    t0 = time.perf_counter()
    km = kernel_map(ga, gb, mapping, {})
    t_km = time.perf_counter() - t0
    print(
        f"kernel map speed: keras_jax_resnet50 optimized, {ga.number_of_nodes()} nodes and "
        f"{km.kernels[0]} kernels per side: kernel map {t_km:.2f} s, whole diff {t_diff:.2f} s, "
        f"load of one module {t_load:.2f} s (diff/load {t_diff / t_load:.2f}x)"
    )


def capture(workloads: list[str], out: Path) -> list[Path]:
    """Dump ``workloads`` in every frontend (needs the workloads branch's cnn/transformer)."""
    done = []
    for w in workloads:
        dest = out / w
        r = subprocess.run(
            [sys.executable, "-m", "xlalens", "dump", "--workload", w, "-o", str(dest)],
            capture_output=True,
            text=True,
        )
        if r.returncode == 0 and (dest / "manifest.json").exists():
            done.append(dest)
        else:
            tail = (r.stderr or r.stdout).strip().splitlines()[-1:] or ["?"]
            print(f"capture {w}: not available ({tail[0]})")
    return done


def main() -> None:
    """Run the three measurements and print their tables."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dump", action="append", default=[], help="dump folder (repeatable)")
    ap.add_argument(
        "--group",
        action="append",
        default=[],
        metavar="NAME=DIR:FE,DIR:FE",
        help="one model captured in several one-frontend dumps (repeatable)",
    )
    ap.add_argument(
        "--pair",
        action="append",
        default=[],
        metavar="NAME=DIR:FE,DIR:FE",
        help="one real pair for the per-pair dots/convolutions table (repeatable)",
    )
    ap.add_argument("--capture", action="store_true", help="also dump cnn and transformer")
    ap.add_argument("--regen-fusion", action="store_true", help="recompile the fusion data")
    ap.add_argument("--resnet", type=Path, default=RESNET, help="ResNet-50 optimized HLO (.txt.xz)")
    ap.add_argument("--print-fusion-step", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.print_fusion_step:
        sys.stdout.write(fusion_step_text())
        return
    dumps = [Path(p) for p in args.dump] or ([] if args.group else [MLP])
    if args.capture:
        tmp = Path(tempfile.mkdtemp(prefix="xlalens-quality-"))
        dumps += capture(["cnn", "transformer"], tmp)
    groups = {d.name: [f"{d}:{fe}" for fe in frontends(d)] for d in dumps}
    for g in args.group:
        name, _, entries = g.partition("=")
        groups[name] = [e for e in entries.split(",") if e]
    if args.pair:
        real = []
        for item in args.pair:
            name, _, entries = item.partition("=")
            ea, _, eb = entries.partition(",")
            real.append((name, ea, eb))
        print("\n".join(per_pair_table(real)))
        if not args.dump and not args.group:
            return
    labelled_pairs(groups)
    fusion_decisions(args.regen_fusion)
    kernel_map_speed(args.resnet)


if __name__ == "__main__":
    main()
