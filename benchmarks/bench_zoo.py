"""Third-party model code through the public CLI: every examples/zoo/ factory, every frontend.

Each ``examples/zoo/*.py`` declares module-level ``FRONTENDS = (...)`` and
``FACTORY = "make_model" | "make_step"`` (read from the source with ``ast``: the
frameworks only ever run in xlalens's subprocesses), may name its model library
in ``LIBRARY``, and a ``TWIN`` factory (the same computation written another way,
e.g. a scanned step's unrolled twin), run as a row of its own below it. Per program this runs, as a user would:

    xlalens dump --frameworks <FRONTENDS> --target <file>:<FACTORY> -o DIR
    xlalens time DIR --no-native
    xlalens compile DIR --target h100
    xlalens diff DIR:<a> DIR:<b>          (each pair of its frontends)

and prints per program and frontend: the capture status (a frontend limitation
shows its one-line diagnosis), the proof (replay error / its bound), the share of
named inputs and results (not ``args[i]``/``result[i]``/unnamed), the share of
located optimized-HLO instructions in the model's own code (the zoo file or its
model library; for Keras, the share left at Keras's op wrappers), kernel sum /
step from ``xlalens time``'s profile, and wall seconds of the four commands.
The issue's targets stand beside: names >= 90%, model-code lines >= 40% on the
torch frontends, <= 20% at Keras's op wrappers.

Run: ``python benchmarks/bench_zoo.py`` (all), ``--quick`` (the CI subset),
``--only NAME[,NAME]``, ``--keep DIR`` (keep the dumps), ``--no-time``,
``--no-compile``.
"""

from __future__ import annotations

import argparse
import ast
import itertools
import json
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cli_run import run_cli

# What counts as a model library's code is the capture's own rule (one definition).
from xlalens.ir._locations import model_library

ROOT = Path(__file__).resolve().parent.parent
ZOO = ROOT / "examples" / "zoo"
QUICK = ("transformers_bert", "keras_hub_gpt2")
"""The CI subset (tests/frontends/test_zoo.py): small, one per frontend family."""

NAMES_TARGET = 0.90
MODEL_LINES_TARGET = 0.40  # torch frontends
KERAS_WRAPPERS_TARGET = 0.20  # at most
TWIN_FLOPS_TARGET = 0.10  # a program's FLOPs within 10% of its twin's
ROUNDS = 5
"""``xlalens time`` rounds of a program that has a twin, and of the twin (NOTE [twin rounds]).

Five, not three: on a quiet machine three rounds gave the twins bands narrower than
their rounds' own spread (jax_scan_llm's twin 1.34 .. 1.36 in three rounds, 1.08 .. 1.36
in five with the same timing code), so the band's width said more about the count of rounds
than about the twin."""
NOISY_CV = 0.50
"""Above this step-time CV in any round, the band comparison gives no verdict: the step
median of such a round moves by tens of percent with the machine's load."""

_UNNAMED = re.compile(r"^(?:args|result)(?:\[\d+\])+$|^result$")
_KERAS_WRAPPERS = re.compile(r"/keras/src/(?:backend|ops)/")


@dataclass(frozen=True, slots=True)
class Program:
    """One zoo factory file."""

    name: str
    """File stem."""
    path: Path
    """The file."""
    frontends: tuple[str, ...]
    """Its ``FRONTENDS``."""
    factory: str
    """Its ``FACTORY``."""
    twin_of: str | None = None
    """For a ``TWIN`` row: the name of the program it is the twin of."""


def discover(folder: Path = ZOO) -> list[Program]:
    """The zoo files that declare ``FRONTENDS`` and ``FACTORY`` (read with ``ast``)."""
    out = []
    for path in sorted(folder.glob("*.py")):
        found: dict[str, Any] = {}
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                if isinstance(target, ast.Name) and target.id in ("FRONTENDS", "FACTORY", "TWIN"):
                    found[target.id] = ast.literal_eval(node.value)
        if "FRONTENDS" in found and "FACTORY" in found:
            fes = tuple(found["FRONTENDS"])
            out.append(Program(path.stem, path, fes, found["FACTORY"]))
            # TWIN: a second factory of the same computation written another way (the
            # unrolled twin of a scanned step); its row sits below for comparison.
            if found.get("TWIN"):
                twin = f"{path.stem}:{found['TWIN']}"
                out.append(Program(twin, path, fes, found["TWIN"], twin_of=path.stem))
    return out


def _cli(args: list[str], timeout: float) -> tuple[int, str, float]:
    """``xlalens ARGS`` (benchmarks/cli_run.py): exit status, its output, wall seconds."""
    run = run_cli(args, timeout)
    return run.returncode, run.text, run.wall_s


def names_share(entry: dict[str, Any]) -> float | None:
    """Share of the signature's inputs and results that carry a real name."""
    sig = entry.get("signature") or {}
    roles = [s.get("role") for s in [*sig.get("inputs", []), *sig.get("outputs", [])]]
    if not roles:
        return None
    return sum(1 for r in roles if r and not _UNNAMED.match(r)) / len(roles)


def located_shares(graph_path: Path, user_file: Path) -> tuple[int, float | None, float | None]:
    """(located instructions, share in the model's code, share at Keras op wrappers)
    of one optimized-HLO graph JSON."""
    if not graph_path.is_file():
        return 0, None, None
    nodes = json.loads(graph_path.read_text()).get("nodes", [])
    files = [n["source_file"] for n in nodes if n.get("source_file")]
    if not files:
        return 0, None, None
    user = str(user_file.resolve())

    def model_code(f: str) -> bool:
        f = f.replace("\\", "/")
        return f == user or f.endswith("/" + user_file.name) or model_library(f)

    model = sum(1 for f in files if model_code(f)) / len(files)
    keras = sum(1 for f in files if _KERAS_WRAPPERS.search(f.replace("\\", "/"))) / len(files)
    return len(files), model, keras


def h100(dump: Path, frontend: str) -> str | None:
    """The ``compile --target h100`` status of a frontend (``ok``, ``failed``), if run."""
    return h100_entry(dump, frontend).get("status")


def h100_entry(dump: Path, frontend: str) -> dict[str, Any]:
    """The frontend's entry of ``targets/h100.json`` (empty when not run)."""
    path = dump / "targets" / "h100.json"
    if not path.is_file():
        return {}
    return (json.loads(path.read_text()).get("frontends") or {}).get(frontend) or {}


def timing_round(dump: Path, frontend: str) -> dict[str, float | None]:
    """One ``xlalens time`` round of a frontend: kernel sum / step and what it is made of."""
    doc_path = dump / "timing" / "cpu.json"
    r = (
        json.loads(doc_path.read_text()).get("frontends", {}).get(frontend)
        if doc_path.is_file()
        else None
    )
    prof, step = (r or {}).get("profile") or {}, (r or {}).get("step") or {}
    kernels = (r or {}).get("kernels") or []
    return {
        "kernel_sum_ratio": prof.get("kernel_sum_ratio"),
        "kernel_sum_s": prof.get("kernel_sum_s"),
        "step_median_s": step.get("median_s"),
        "step_cv": step.get("cv"),
        # NOTE [profiler cost per kernel event]: what the ratio is made of.
        "kernel_sum_ratio_profiled": prof.get("kernel_sum_ratio_profiled"),
        "calls_per_step": sum(k.get("calls_per_step") or 0 for k in kernels) or None,
    }


def timing(dump: Path, frontend: str) -> tuple[float | None, float | None, str | None]:
    """(kernel sum / step, FLOPs of the step, why ``time`` reported none) from its cpu.json."""
    doc_path = dump / "timing" / "cpu.json"
    if not doc_path.is_file():
        return None, None, None
    r = json.loads(doc_path.read_text()).get("frontends", {}).get(frontend) or {}
    why = r.get("reason") if r.get("status") not in (None, "ok") else None
    return (
        (r.get("profile") or {}).get("kernel_sum_ratio"),
        (r.get("cost") or {}).get("flops"),
        why,
    )


RECORD = "bench_zoo.json"
"""Per kept dump: the commands' wall seconds, diff exit codes and notes."""


def run_program(
    prog: Program,
    root: Path,
    *,
    timed: bool,
    compiled: bool,
    timeout: float,
    reuse: bool = False,
) -> list[dict[str, Any]]:
    """The four commands for one program; one row per frontend.

    ``reuse``: a dump already under ``root`` (``--keep`` of an earlier run) is measured
    again without running anything.
    """
    dump = dump_dir(root, prog)
    record = dump / RECORD
    if reuse and (dump / "manifest.json").is_file():
        # A kept dump of an earlier (or a parallel) run: measure it, run nothing.
        done = json.loads(record.read_text()) if record.is_file() else {}
        return _rows(prog, dump, done.get("seconds"), done.get("diffs", {}), done.get("notes", {}))
    target = f"{prog.path}:{prog.factory}"
    rc, text, dump_s = _cli(
        ["dump", "--frameworks", ",".join(prog.frontends), "--target", target, "-o", str(dump)],
        timeout,
    )
    manifest_path = dump / "manifest.json"
    if not manifest_path.is_file():
        last = text.strip().splitlines()[-1] if text.strip() else f"exit {rc}"
        return [
            {"program": prog.name, "frontend": fe, "status": f"dump exit {rc}: {last}"}
            for fe in prog.frontends
        ]
    manifest = json.loads(manifest_path.read_text())
    ok = [fe for fe in prog.frontends if manifest["frontends"].get(fe, {}).get("status") == "ok"]
    seconds = {"dump": dump_s}
    notes: dict[str, str] = {}
    if timed and ok:
        rc_t, text_t, seconds["time"] = _cli(["time", str(dump), "--no-native"], timeout)
        if rc_t:
            notes["time"] = f"time exit {rc_t}: {text_t.strip().splitlines()[-1:]}"
    if compiled and ok:
        rc_c, text_c, seconds["compile"] = _cli(["compile", str(dump), "--target", "h100"], timeout)
        if rc_c:
            notes["compile"] = f"compile exit {rc_c}: {text_c.strip().splitlines()[-1:]}"
    diffs = {}
    for a, b in itertools.combinations(ok, 2):
        rc_d, _, s = _cli(["diff", f"{dump}:{a}", f"{dump}:{b}"], timeout)
        seconds["diff"] = seconds.get("diff", 0.0) + s
        diffs[f"{a}|{b}"] = rc_d
    rounds = {fe: [timing_round(dump, fe)] for fe in ok} if timed and "time" in seconds else {}
    record.write_text(
        json.dumps({"seconds": seconds, "diffs": diffs, "notes": notes, "rounds": rounds})
    )
    return _rows(prog, dump, seconds, diffs, notes)


def dump_dir(root: Path, prog: Program) -> Path:
    """Where a program's dump is kept under ``root``."""
    return root / prog.name.replace(":", "-")


def more_rounds(
    pairs: list[tuple[Program, Program]], root: Path, rounds: int, timeout: float
) -> None:
    """Rounds 2..``rounds`` of ``xlalens time`` for each program and its twin, alternating.

    NOTE: [twin rounds] kernel sum / step divides kernel times (each a median over
    profiled runs) by the step's median, so the machine's load at the moment of a
    round moves it. The two programs' rounds alternate (twin first in even rounds)
    so that both see the same load, and each round is kept in the dump's record.
    """
    for prog, twin in pairs:
        for k in range(1, rounds):
            for p in (twin, prog) if k % 2 else (prog, twin):
                dump = dump_dir(root, p)
                record_path = dump / RECORD
                if not record_path.is_file():
                    continue
                record = json.loads(record_path.read_text())
                rc, _, s = _cli(["time", str(dump), "--no-native"], timeout)
                seconds = record.setdefault("seconds", {})
                seconds["time"] = seconds.get("time", 0.0) + s
                if rc:
                    record_path.write_text(json.dumps(record))
                    continue
                for fe, got in record.setdefault("rounds", {}).items():
                    got.append(timing_round(dump, fe))
                record_path.write_text(json.dumps(record))


def _rows(
    prog: Program,
    dump: Path,
    seconds: dict[str, float] | None,
    diffs: dict[str, int],
    notes: dict[str, str],
) -> list[dict[str, Any]]:
    """One row per frontend of a finished program's dump."""
    manifest = json.loads((dump / "manifest.json").read_text())
    record = json.loads((dump / RECORD).read_text()) if (dump / RECORD).is_file() else {}
    rows = []
    for fe in prog.frontends:
        e = manifest["frontends"].get(fe, {})
        row: dict[str, Any] = {
            "program": prog.name,
            "frontend": fe,
            "status": e.get("status"),
            "twin_of": prog.twin_of,
        }
        if e.get("status") != "ok":
            reason = (e.get("reason") or "").strip().splitlines()
            row["status"] = ("limit: " if e.get("user_error") else "failed: ") + (
                reason[0] if reason else "?"
            )
            rows.append(row)
            continue
        proof = e.get("proof") or {}
        # Against the float64 reference; where that could not be built (its reason is
        # in the manifest), the replay against the native run.
        replay = proof.get("replay") or proof.get("replay_vs_native") or {}
        n, model, keras = located_shares(dump / fe / "graphs" / "optimized_hlo.raw.json", prog.path)
        row.update(
            proven=bool(e.get("outputs_match")),
            error_over_bound=replay.get("error_over_bound"),
            proof_against="float64" if proof.get("replay") else "native",
            names=names_share(e),
            located=n,
            model_lines=model,
            keras_wrappers=keras,
            kernel_ratio=_median(
                [r["kernel_sum_ratio"] for r in (record.get("rounds") or {}).get(fe, [])]
            )
            or timing(dump, fe)[0],
            rounds=(record.get("rounds") or {}).get(fe, []),
            flops=timing(dump, fe)[1],
            time_failed=timing(dump, fe)[2],
            h100_failed=(h100_entry(dump, fe).get("reason") or "").strip().split("\n")[0][:240]
            if h100(dump, fe) not in (None, "ok")
            else None,
            h100=h100(dump, fe),
            wall_s=None if seconds is None else sum(seconds.values()),
            diff_rc={k: v for k, v in diffs.items() if fe in k.split("|")},
            notes=notes,
        )
        rows.append(row)
    return rows


def _median(values: list[float | None]) -> float | None:
    vals = sorted(v for v in values if v is not None)
    if not vals:
        return None
    mid = len(vals) // 2
    return vals[mid] if len(vals) % 2 else (vals[mid - 1] + vals[mid]) / 2


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v:.0%}"


def twin_comparison(row: dict[str, Any], twin: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(lines to print, targets missed) of a program against its twin's rows.

    FLOPs within :data:`TWIN_FLOPS_TARGET` of the twin's; kernel sum / step of the
    program's rounds against the band (min..max) of the twin's rounds. A verdict on
    the band needs two rounds of each and every round's step CV <= :data:`NOISY_CV`.
    """
    head = f"{row['program']} vs its twin {twin['program']} ({row['frontend']})"
    lines, missed = [head], []
    fa, fb = row.get("flops"), twin.get("flops")
    if fa and fb:
        off = fa / fb - 1
        ok = abs(off) <= TWIN_FLOPS_TARGET
        lines.append(
            f"  FLOPs: {fa / 1e6:.1f} M vs {fb / 1e6:.1f} M ({off:+.1%}; target within "
            f"{TWIN_FLOPS_TARGET:.0%}) -> {'met' if ok else 'MISSED'}"
        )
        if not ok:
            missed.append(f"FLOPs off twin by {off:+.0%}")
    else:
        lines.append("  FLOPs: - (no `xlalens time` result)")
    a = [r for r in row.get("rounds") or [] if r.get("kernel_sum_ratio") is not None]
    b = [r for r in twin.get("rounds") or [] if r.get("kernel_sum_ratio") is not None]

    def listed(rs: list[dict[str, Any]]) -> str:
        return ", ".join(
            f"{r['kernel_sum_ratio']:.2f} ({(r.get('kernel_sum_s') or 0) * 1e3:.0f}/"
            f"{(r.get('step_median_s') or 0) * 1e3:.0f} ms, CV {(r.get('step_cv') or 0):.0%})"
            for r in rs
        )

    lines.append(
        f"  kernel sum / step, rounds (kernel sum / step median, step CV): program {listed(a) or '-'}"
    )
    lines.append(f"  {'':>44}twin {listed(b) or '-'}")
    lines += _per_call_lines(a, b)
    if len(a) < 2 or len(b) < 2:
        lines.append(
            f"  band: no verdict ({len(a)} and {len(b)} rounds; a band needs 2 of each: --rounds 5)"
        )
        return lines, missed
    lo, hi = min(r["kernel_sum_ratio"] for r in b), max(r["kernel_sum_ratio"] for r in b)
    med = _median([r["kernel_sum_ratio"] for r in a]) or 0.0
    inside = sum(1 for r in a if lo <= r["kernel_sum_ratio"] <= hi)
    where = "within" if lo <= med <= hi else ("above" if med > hi else "below")
    text = (
        f"  band: program median {med:.2f} vs twin {lo:.2f} .. {hi:.2f} over {len(b)} rounds "
        f"({inside} of {len(a)} program rounds inside): {where} the band"
    )
    cv = max((r.get("step_cv") or 0.0) for r in a + b)
    if cv > NOISY_CV:
        lines.append(
            f"{text}; no verdict: step CV up to {cv:.0%} (> {NOISY_CV:.0%}), the machine's load "
            "moves the step median more than the band can tell; re-run on a quieter machine"
        )
        return lines, missed
    lines.append(f"{text} -> {'met' if where == 'within' else 'MISSED'}")
    if where != "within":
        missed.append(f"kern/step {where} twin's band")
    return lines, missed


def _per_call_lines(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> list[str]:
    """Kernel calls per step, mean microseconds per call, and kernel sum / profiled step.

    NOTE: [profiler cost per kernel event] kernel times come from profiled runs and
    the step from unprofiled ones. On XLA:CPU (jaxlib 0.10.2, this 2-core machine) the
    profiler puts at least 0.55-0.86 us into every kernel event's own span
    (``benchmarks/profiler_event_cost.py``): a chain of 599 tiny kernels ran in 157 us
    unprofiled (best of 300) while its profiled kernel events summed to at least
    508-617 us per run (kernel sum / step 3.4; issue 20). So kernel sum / step rises
    with kernel calls per microsecond of step: flax_scan_lm's scanned step runs 731
    calls of 6.6 us on average against its twin's 582 of 9.6 us (jax_scan_llm's:
    55-70 us, where the cost is about a percent). ``kernel sum / profiled step``
    compares the two under the same profiler cost.
    """

    def calls(rs: list[dict[str, Any]]) -> str:
        got = [r for r in rs if r.get("calls_per_step") and r.get("kernel_sum_s")]
        if not got:
            return "-"
        r = got[-1]
        return f"{r['calls_per_step']:.0f} ({r['kernel_sum_s'] / r['calls_per_step'] * 1e6:.1f} us per call)"

    def profiled(rs: list[dict[str, Any]]) -> str:
        got = [r["kernel_sum_ratio_profiled"] for r in rs if r.get("kernel_sum_ratio_profiled")]
        return ", ".join(f"{v:.2f}" for v in got) or "-"

    return [
        f"  kernel calls / step: program {calls(a)}, twin {calls(b)}",
        f"  kernel sum / profiled step (both under the profiler): program {profiled(a)}; "
        f"twin {profiled(b)}",
    ]


def twin_pairs(rows: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(program row, twin row) per frontend, for twins whose program ran."""
    ok = {(r["program"], r["frontend"]): r for r in rows if r.get("status") == "ok"}
    return [
        (ok[(r["twin_of"], r["frontend"])], r)
        for r in rows
        if r.get("twin_of") and (r["twin_of"], r["frontend"]) in ok and r.get("status") == "ok"
    ]


def verdicts(row: dict[str, Any]) -> list[str]:
    """The issue's targets this row misses."""
    if row.get("status") != "ok":
        return [] if str(row.get("status", "")).startswith("limit:") else ["not ok"]
    out = []
    if not row.get("proven"):
        out.append("not proven")
    if row.get("names") is None or row["names"] < NAMES_TARGET:
        out.append(f"names < {NAMES_TARGET:.0%}")
    torch = row["frontend"] in ("torch_xla", "torchax")
    if torch and (row.get("model_lines") or 0) < MODEL_LINES_TARGET:
        out.append(f"model lines < {MODEL_LINES_TARGET:.0%}")
    if (
        row["frontend"].startswith("keras")
        and (row.get("keras_wrappers") or 0) > KERAS_WRAPPERS_TARGET
    ):
        out.append(f"keras wrappers > {KERAS_WRAPPERS_TARGET:.0%}")
    return out + list(row.get("twin_missed") or [])


def format_rows(rows: list[dict[str, Any]]) -> str:
    """The table as printed."""
    head = (
        "program",
        "frontend",
        "status",
        "err/bound",
        "names",
        "model lines",
        "keras wrap",
        "h100",
        "MFLOP",
        "kern/step",
        "wall s",
        "targets",
    )
    table = [head]
    for prog_row, twin_row in twin_pairs(rows):
        prog_row["twin_missed"] = twin_comparison(prog_row, twin_row)[1]
    for r in rows:
        ok = r.get("status") == "ok"
        eb = r.get("error_over_bound")
        table.append(
            (
                r["program"],
                r["frontend"],
                "ok" if ok else str(r["status"])[:60],
                ("-" if eb is None else f"{eb:.2g}")
                + (" (native)" if r.get("proof_against") == "native" else "")
                + ("" if not ok or r.get("proven") else " !"),
                _pct(r.get("names")),
                _pct(r.get("model_lines")) + (f" of {r['located']}" if r.get("located") else ""),
                _pct(r.get("keras_wrappers")) if r["frontend"].startswith("keras") else "",
                r.get("h100") or "-",
                "-" if r.get("flops") is None else f"{r['flops'] / 1e6:.1f}",
                "-" if r.get("kernel_ratio") is None else f"{r['kernel_ratio']:.2f}",
                "-" if r.get("wall_s") is None else f"{r['wall_s']:.0f}",
                ", ".join(verdicts(r)) or "met",
            )
        )
    widths = [max(len(str(row[i])) for row in table) for i in range(len(head))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append(
        f"targets: names >= {NAMES_TARGET:.0%} on every frontend; model lines (located optimized-HLO "
        f"instructions in the zoo file or its model library) >= {MODEL_LINES_TARGET:.0%} on torch_xla "
        f"and torchax; Keras op wrappers <= {KERAS_WRAPPERS_TARGET:.0%}"
    )
    for prog_row, twin_row in twin_pairs(rows):
        lines += twin_comparison(prog_row, twin_row)[0]
    limits = [r for r in rows if str(r.get("status", "")).startswith("limit:")]
    for r in limits:
        lines.append(f"  {r['program']} on {r['frontend']}: {r['status']}")
    for r in rows:
        if r.get("time_failed"):
            lines.append(f"  {r['program']} on {r['frontend']}: xlalens time: {r['time_failed']}")
        if r.get("h100_failed"):
            lines.append(
                f"  {r['program']} on {r['frontend']}: xlalens compile --target h100: "
                f"{r['h100_failed']}"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the zoo and print the table; exit 1 when a program misses a target."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK)}")
    parser.add_argument("--only", help="comma list of program names")
    parser.add_argument("--keep", type=Path, help="write the dumps here (kept)")
    parser.add_argument("--no-time", action="store_true", help="skip `xlalens time`")
    parser.add_argument("--no-compile", action="store_true", help="skip `xlalens compile`")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="with --keep: measure the dumps already there instead of running them again",
    )
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per command")
    parser.add_argument(
        "--rounds",
        type=int,
        default=ROUNDS,
        help=f"`xlalens time` rounds of a program with a TWIN and of its twin (default {ROUNDS})",
    )
    args = parser.parse_args(argv)
    programs = discover()
    if args.quick:
        programs = [p for p in programs if p.name in QUICK]
    if args.only:
        wanted = {n.strip() for n in args.only.split(",")}
        unknown = wanted - {p.name for p in discover()}
        if unknown:
            print(f"bench_zoo: unknown program {sorted(unknown)[0]!r}", file=sys.stderr)
            return 2
        programs = [p for p in programs if p.name in wanted]
    with tempfile.TemporaryDirectory(prefix="xlalens-zoo-") as tmp:
        root = args.keep or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        rows = []
        for prog in programs:
            rows += run_program(
                prog,
                root,
                timed=not args.no_time,
                compiled=not args.no_compile,
                timeout=args.timeout,
                reuse=args.reuse,
            )
            print(f"  {prog.name}: done", file=sys.stderr, flush=True)
        if not args.no_time and not args.reuse and args.rounds > 1:
            names = {p.name: p for p in programs}
            pairs = [(names[p.twin_of], p) for p in programs if p.twin_of in names]
            if pairs:
                more_rounds(pairs, root, args.rounds, args.timeout)
                rows = [
                    row
                    for prog in programs
                    for row in run_program(
                        prog, root, timed=True, compiled=False, timeout=args.timeout, reuse=True
                    )
                ]
    print(format_rows(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 1 if any(verdicts(r) for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
