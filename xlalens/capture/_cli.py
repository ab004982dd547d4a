"""``xlalens dump``: capture the workload in every frontend and write a dump folder."""

from __future__ import annotations

import argparse
import itertools
import sys
from typing import Any

import numpy as np

from xlalens._errors import UsageError
from xlalens._runtime import BACKENDS
from xlalens.capture._dump import GRAPHS_ONLY, DumpResult, write_dump
from xlalens.frontends import FRONTENDS, target_families, target_family
from xlalens.proof import OBSERVED_FACTOR
from xlalens.workloads import WORKLOADS, Workload

LEVELS = ("stablehlo", "hlo", "optimized_hlo")
WORKLOAD_OPTIONS = (
    "workload", "size", "features", "depth", "width", "heads", "seq", "image", "classes"
)  # fmt: skip
"""``dump`` options that set the built-in workload (refused with ``--target``)."""
MAX_PARAMETERS = 200_000_000
MAX_LAYERS = 256
"""Beyond these, a capture runs for many minutes in each framework (``--force`` goes on)."""


def _mem_total() -> int:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 16 << 30


def estimate(w: Workload) -> tuple[int, int]:
    """(parameters, bytes one frontend needs), from the shapes alone, nothing allocated.

    Bytes count float32 parameters four times (values, gradients, two optimizer
    slots), the batch, and twice the activations (forward and backward). A rough
    upper-ish bound, for refusing sizes that cannot fit, not a measurement.
    """
    if w.name in ("regression", "mlp"):
        sizes = [w.features, *([w.width] * w.depth), 1] if w.name == "mlp" else [w.features, 1]
        params = sum(a * b + b for a, b in itertools.pairwise(sizes))
        acts = w.size * sum(sizes)
        data = w.size * (w.features + 1)
    else:
        params = int(sum(int(np.prod(s, dtype=np.float64)) for s in w.param_shapes().values()))
        if w.name == "cnn":
            acts = 6 * w.size * w.image * w.image * w.width * w.depth
            data = w.size * (w.image * w.image * w.features + w.classes)
        else:
            acts = w.size * w.depth * (10 * w.seq * w.width + 2 * w.heads * w.seq * w.seq)
            data = w.size * (w.seq * w.features + w.classes)
    return params, 4 * (4 * params + data + 2 * acts)


def check_size(w: Workload) -> None:
    """Refuse, before any work, a workload that cannot fit or would run for very long.

    Raises:
        UsageError: one line naming the estimate, the limit and ``--force``.
    """
    layers = w.depth if w.name != "regression" else 1
    if layers > MAX_LAYERS:
        raise UsageError(
            f"--depth {w.depth}: {layers} layers unrolled in every framework would compile for "
            f"many minutes (limit {MAX_LAYERS}); choose a smaller --depth, or add --force"
        )
    params, need = estimate(w)
    limit = _mem_total() // 4
    if params > MAX_PARAMETERS or need > limit:
        raise UsageError(
            f"workload {w.name}: about {params:,} parameters and {need / 2**30:.1f} GiB per "
            f"frontend (limits {MAX_PARAMETERS:,} and {limit / 2**30:.1f} GiB, a quarter of this "
            "machine's memory); choose smaller sizes, or add --force"
        )


def register(sub: Any) -> None:
    """Add the ``dump`` subcommand."""
    p = sub.add_parser(
        "dump",
        help="capture the step in every framework into a dump folder",
        description="Capture the training step in each framework (one subprocess each), verify "
        "it through PJRT, and write StableHLO, HLO, optimized HLO, graphs, diffs and report.html.",
    )
    p.add_argument(
        "--frameworks",
        metavar="LIST",
        help=f"comma-separated frontends (default: all): {','.join(FRONTENDS)}",
    )
    p.add_argument(
        "--backend", default="cpu", help=f"one of {', '.join(BACKENDS[:2])} (default cpu)"
    )
    p.add_argument(
        "--workload", default=None, help=f"one of {', '.join(WORKLOADS)} (default regression)"
    )
    p.add_argument("--size", type=int, default=None, help="samples (default 4, the seed's)")
    p.add_argument("--features", type=int, default=None, help="input features (default 1)")
    p.add_argument(
        "--depth",
        type=int,
        default=None,
        help="mlp hidden layers, cnn residual blocks, transformer encoder blocks (default 2)",
    )
    p.add_argument(
        "--width",
        type=int,
        default=None,
        help="mlp units, cnn channels, transformer model width (default 16)",
    )
    p.add_argument(
        "--heads", type=int, default=None, help="transformer attention heads (default 2)"
    )
    p.add_argument("--seq", type=int, default=None, help="transformer sequence length (default 8)")
    p.add_argument("--image", type=int, default=None, help="cnn image side, even (default 8)")
    p.add_argument("--classes", type=int, default=None, help="cnn/transformer classes (default 4)")
    p.add_argument("--jobs", type=int, default=None, help="frontends at once (default: cores)")
    p.add_argument("--timeout", type=float, default=None, help="seconds per frontend (default 600)")
    p.add_argument(
        "--target",
        metavar="MODULE:FN",
        help="capture your own step instead (one framework, or one family: keras-tensorflow,"
        "keras-jax or torch_xla,torchax): a function returning (step, args)",
    )
    p.add_argument(
        "--devices",
        type=int,
        default=None,
        help="shard the step over N devices (forced host devices on CPU; see docs/sharding.md)",
    )
    p.add_argument("--mesh", metavar="AxB", help="mesh shape, e.g. 4x2 (default: N)")
    p.add_argument(
        "--axes", metavar="NAMES", help="mesh axis names, e.g. data,model (default data,model)"
    )
    p.add_argument(
        "--sharding",
        metavar="STRATEGY",
        help="dp, tp, fsdp or dp+tp (default dp); frontends without SPMD capture are skipped",
    )
    p.add_argument("-o", "--out", default="xlalens-dump", help="dump folder (default xlalens-dump)")
    p.add_argument(
        "--force",
        action="store_true",
        help="go on past the size check (parameters, memory, layers; see docs/capture.md)",
    )
    p.add_argument(
        "--passes",
        action="store_true",
        help="then re-run each frontend with XLA's dump flags (as `xlalens passes DIR`)",
    )
    p.set_defaults(func=run)


def _fmt_seconds(entry: dict[str, Any]) -> str:
    s = entry.get("seconds", {})
    total = s.get("subprocess", 0.0) + s.get("verify", 0.0)
    return f"{total:.1f}"


def _fmt_ratio(entry: dict[str, Any]) -> str:
    """The larger of replay's and native's error over the bound (<= 1 is a match)."""
    proof = entry.get("proof") or {}
    sides = [proof.get(k) for k in ("replay", "native", "replay_vs_native")]
    ratios = [s["error_over_bound"] for s in sides if s]
    spmd = entry.get("spmd") or {}
    if spmd.get("error_over_bound") is not None:  # sharded vs its own 1-device step
        ratios.append(spmd["error_over_bound"])
    return f"{max(ratios):.2g}" if ratios else "-"


def _fmt_kappa(entry: dict[str, Any]) -> str:
    """The largest conditioning factor, and how many results were judged by an allowance."""
    proof = entry.get("proof") or {}
    kappa = proof.get("conditioning_factor")
    if not kappa or kappa <= 1:
        return "-"
    ill = proof.get("ill_conditioned")
    n = len(ill) if isinstance(ill, list) else ill
    return f"{kappa:.2g} ({n})" if n else f"{kappa:.2g}"


def allowance_lines(result: DumpResult) -> list[str]:
    """One line per frontend whose proof judged some results by an allowance (NOTE:
    [ill-conditioned steps] in _proof.py): which results, and their factors; and one
    per frontend whose proof judged some results on the step's floor."""
    out = []
    for name, e in result.manifest["frontends"].items():
        proof = e.get("proof") or {}
        floored = proof.get("floored")
        if isinstance(floored, list) and floored:
            # NOTE: [per-result floor] in xlalens/proof/_conditioning.py
            more = f" and {len(floored) - 6} more" if len(floored) > 6 else ""
            out.append(
                f"{name}: {len(floored)} result(s) measured as rounding noise of cancelled "
                "terms, judged on the step's typical magnitude, every other result on its "
                "own: " + ", ".join(str(r) for r in floored[:6]) + more
            )
        ill = proof.get("ill_conditioned")
        if not isinstance(ill, list) or not ill:
            continue
        per = proof.get("conditioning_per_result") or []
        kappas = [k for k in per if k > 1]
        named = [
            f"{r} (kappa {k:.2g})" for r, k in zip(ill, kappas if len(kappas) == len(ill) else [])
        ] or [str(r) for r in ill]
        more = f" and {len(named) - 6} more" if len(named) > 6 else ""
        out.append(
            f"{name}: {len(ill)} ill-conditioned result(s) judged by an allowance of "
            f"{OBSERVED_FACTOR:g} x kappa x their own bound, every other result by its bound: "
            + ", ".join(named[:6])
            + more
        )
    return out


def format_table(result: DumpResult) -> str:
    """The per-frontend summary table printed by ``xlalens dump``.

    ``kappa (n)``: the largest conditioning factor of the proof and the number of
    results judged by an allowance (``-``: every result judged by its own bound).
    """
    head = ["frontend", "status", *LEVELS, "outputs_match", "error/bound", "kappa (n)", "seconds"]
    rows = [head]
    for name, e in result.manifest["frontends"].items():
        counts = e.get("op_counts") or {}
        match = e.get("outputs_match")
        rows.append(
            [
                name,
                e["status"],
                *[str(counts.get(level, "-")) for level in LEVELS],
                "-" if match is None else ("yes" if match else "NO"),
                _fmt_ratio(e),
                _fmt_kappa(e),
                _fmt_seconds(e),
            ]
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Run ``xlalens dump``; exit 1 when a requested frontend failed."""
    explicit = args.frameworks is not None
    names = [n.strip() for n in args.frameworks.split(",") if n.strip()] if explicit else None
    if explicit and not names:
        raise UsageError(f"--frameworks is empty; choose from {', '.join(FRONTENDS)}")
    given = {k: getattr(args, k) for k in WORKLOAD_OPTIONS if getattr(args, k) is not None}
    if args.target and given:
        raise UsageError(
            f"--{next(iter(given))} sets the built-in workload, which --target replaces with "
            "your own step; drop one of them"
        )
    workload = Workload(**{("name" if k == "workload" else k): v for k, v in given.items()})
    if not args.target and not getattr(args, "force", False):
        check_size(workload)

    from xlalens.ir._mesh import parse_mesh

    spec = parse_mesh(
        getattr(args, "devices", None),
        getattr(args, "mesh", None),
        getattr(args, "axes", None),
        getattr(args, "sharding", None),
        batch=workload.size,
    )
    if spec is not None and args.target:
        raise UsageError("--devices shards the built-in workloads; drop --target or --devices")

    def progress(name: str, entry: dict[str, Any]) -> None:
        print(f"  {name}: {entry['status']}", file=sys.stderr, flush=True)

    if args.target and (not names or target_family(names) is None):
        choices = " | ".join(",".join(v) for v in target_families().values())
        raise UsageError(
            "--target needs --frameworks naming one framework or one family that runs the "
            f"same step: {choices} (a user step is written in one framework; see docs/capture.md)"
        )
    result = write_dump(
        args.out,
        frameworks=names,
        workload=workload,
        backend=args.backend,
        jobs=args.jobs,
        timeout=args.timeout,
        target=args.target,
        progress=progress,
        sharding=None if spec is None else spec.to_json(),
        # The whole pipeline is named on the top floor (NOTE: [steps handed down]).
        steps=getattr(args, "steps", GRAPHS_ONLY),
    )
    m = result.manifest
    if result.kept:
        for name, e in m["frontends"].items():
            # The attempt's folder is gone with its staging: show its stderr tail
            # here, and not its command (which would name the kept dump's files).
            reason = [
                ln for ln in (e.get("reason") or "").strip().splitlines()
                if not ln.startswith("command: ")
            ]  # fmt: skip
            print(f"{name} {e['status']}: {reason[0] if reason else ''}")
            if len(reason) > 1:
                print("    " + "\n    ".join(reason[-6:]))
        print(
            f"xlalens dump: no frontend succeeded; the earlier dump at {result.path} was kept "
            "unchanged (fix the failure above and re-run)",
            file=sys.stderr,
        )
        return 1
    what = (
        f"target {args.target}"
        if args.target
        else f"workload {workload.name} (size {workload.size})"
    )
    if spec is not None:
        what += (
            f", {spec.strategy} over {spec.devices} devices "
            f"(mesh {'x'.join(map(str, spec.shape))}: {','.join(spec.axes)})"
        )
    print(f"{what}, backend {m['backend']}: {result.path} in {result.seconds:.1f} s")
    print(format_table(result))
    for line in allowance_lines(result):
        print(line)
    for name, e in m["frontends"].items():
        if e["status"] != "ok":
            reason = (e.get("reason") or "").strip().splitlines()
            print(f"{name} {e['status']}: {reason[0] if reason else ''}")
            if e["status"] == "failed" and len(reason) > 1:
                print("    " + "\n    ".join(reason[-6:]))
        elif e.get("outputs_match") is False:
            print(f"{name}: replayed outputs differ: {e.get('verify_error')}")
    cc = m["cross_check"]
    if cc.get("initial_values_agree") is False:
        print(
            f"frontends started from different initial values ({', '.join(cc['compared'])}): "
            "their updates are not comparable, so they are not compared"
        )
        for line in cc["disagreements"]:
            print(f"  {line}")
    if cc.get("params_agree") is not None:
        verdict = "agree" if cc["params_agree"] else "DISAGREE"
        ratio = cc.get("error_over_bound")
        print(
            f"updated parameters {verdict} across {len(cc['compared'])} frontends "
            f"(max |diff| {cc['max_abs_diff']:.1e} against {cc['reference']}"
            + (f", {ratio:.2g}x their error bounds)" if ratio is not None else ")")
        )
        for line in cc["disagreements"]:
            print(f"  {line}")
    user_errors = [
        f"{name}: {e['reason']}" for name, e in m["frontends"].items() if e.get("user_error")
    ]
    for step, info in m.get("steps", {}).items():
        if info["status"] == "failed":
            print(f"{step} step failed: {info['reason']}")
            if info.get("user_error"):
                user_errors.append(info["reason"].split(": ", 1)[-1])
    if m.get("report"):
        print(f"report: {result.path.resolve() / m['report']}")
    if user_errors:
        # The capture is written; what is missing needs the user (e.g. install graphviz).
        print(f"xlalens dump: error: {user_errors[0]}", file=sys.stderr)
        return 2
    # `--passes` runs next, from the CLI (xlalens/cli.py): the passes stage is not
    # capture's to import. It reads what was written here.
    args.written = result
    failed = result.failed
    skipped = [n for n, e in m["frontends"].items() if e["status"] == "skipped"]
    bad_match = [n for n, e in m["frontends"].items() if e.get("outputs_match") is False]
    if failed or bad_match or (explicit and skipped) or cc.get("params_agree") is False:
        return 1
    return 0
