"""Findings: the seed's claims about the frameworks, checked against a dump's measurements.

The seed claims "JAX is optimized for XLA; TF/XLA static graphs are efficient;
PyTorch's dynamic graphs are slower". ``xlalens time`` writes ``DIR/findings.md``
with, per framework, what was measured (ops at each IR level, kernels, compiled
and native step time, the difference between them, roofline fraction) and a
verdict per claim generated from those numbers.

NOTE: [when a difference counts] two times differ only when their spreads do
not overlap: a step time is the interval median ± IQR/2 of its repeats. A claim
whose comparisons all fall inside the spread gets no verdict ("no verdict: within
the spread"), never a guess. The verdicts are ``supported`` (every comparison
the claim makes goes its way), ``not supported`` (every one goes the other way)
or ``mixed``.

NOTE: [two questions per claim] a framework's native step is XLA's compiled
computation plus what the framework adds around it (Python dispatch, tracing,
bookkeeping). At 4 samples the compiled steps of all frameworks take about
0.02 ms and the native steps differ by their dispatch: a single verdict on the
native step said "JAX is optimized for XLA: supported" from Python dispatch
alone (issue 21). So each claim gets two verdicts: **XLA** compares the compiled
replays of the captured modules (what XLA makes of each framework's
computation), **framework** compares the native-minus-compiled difference, with
the spread of its per-round differences. A user step gets no seed claims: its
findings compare its own frontends on the same two questions.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from xlalens._paths import source_location
from xlalens.dumpdir import atomic_write, read_manifest
from xlalens.timing._findings_spmd import sharded_markdown, sharded_section
from xlalens.timing._verdicts import Claim, Interval, _compare, _interval

__all__ = ["Claim", "Interval", "findings", "findings_markdown", "report_section", "write_findings"]

FINDINGS = "findings.md"
LEVELS = ("stablehlo", "hlo", "optimized_hlo")


def _added(nat: dict[str, Any]) -> Interval | None:
    """What the framework adds: the median per-round difference and the rounds' range."""
    diff, rng = nat.get("difference_s"), nat.get("difference_range_s") or [None, None]
    if diff is None or rng[0] is None or rng[1] is None:
        return None
    lo, hi = float(rng[0]), float(rng[1])
    d = min(max(float(diff), lo), hi)  # an older document's median of medians: clamp
    return Interval(d, lo, hi, ranged=True)


def _rows(manifest: dict[str, Any], doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    rows = {}
    for fe, r in (doc.get("frontends") or {}).items():
        if r.get("status") != "ok":
            continue
        info = (manifest.get("frontends") or {}).get(fe) or {}
        nat = r.get("native") or {}
        roof = r.get("roofline") or {}
        rows[fe] = {
            "ops": {lv: (info.get("op_counts") or {}).get(lv) for lv in LEVELS},
            "kernels": len(r.get("kernels") or []) or None,
            "compiled": _interval(r.get("step")),
            "native": _interval(nat.get("step")),
            "added": _added(nat),
            "earlier_native": bool(nat.get("from_earlier_run")),
            "difference": nat.get("difference_s"),
            "difference_range": nat.get("difference_range_s"),
            "significant": nat.get("significant"),
            "roofline": roof.get("fraction_of_roofline"),
            # The framework's own step without XLA (``xlalens time --baselines``).
            "baselines": {
                name: _interval(b.get("step"))
                for name, b in (r.get("baselines") or {}).items()
                if isinstance(b, dict) and "failed" not in b
            },
            # torch_compile: dynamo's graphs and breaks (the usual step's among them).
            "dynamo": info.get("dynamo"),
        }
    return rows


# Frontends that run PyTorch code as a dynamic (lazy, traced-each-step) graph. torchax
# is PyTorch code too, but jax traces it once into a static jitted function: it is
# not evidence about PyTorch's dynamic graphs (issue 21).
_DYNAMIC_TORCH = ("torch_xla",)
_NOT_DYNAMIC = ("torchax",)


def _two(
    pairs: list[tuple[str, str]], rows: dict[str, dict[str, Any]]
) -> tuple[str, str, str, str]:
    """XLA and framework verdicts over comparisons 'a is faster than b', by frontend names."""
    v, ev = _compare([(a, rows[a]["compiled"], b, rows[b]["compiled"]) for a, b in pairs])
    # Native faster than its own compiled replay in every round: the framework's
    # cost cannot be negative, so that difference measures the machine (load,
    # caches, a copy in the replay), not the framework; it takes no part.
    neg = sorted(
        {fe for pair in pairs for fe in pair if rows[fe]["added"] and rows[fe]["added"].high < 0}
    )
    fv, fev = _compare(
        [
            (a, rows[a]["added"], b, rows[b]["added"])
            for a, b in pairs
            if a not in neg and b not in neg
        ]
    )
    if neg:
        fev = "; ".join(
            x
            for x in (
                fev if fev != "the frameworks it compares were not timed" else "",
                ", ".join(neg) + ": native step faster than its compiled replay in every round "
                "(no framework cost to compare; left out)",
            )
            if x
        )
    return v, ev, fv, fev


def _claims(rows: dict[str, dict[str, Any]], *, user: bool = False) -> list[Claim]:
    if user:
        names = sorted(rows)
        pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1 :]]
        out = []
        for a, b in pairs:
            v, ev, fv, fev = _two([(a, b)], rows)
            out.append(
                Claim(
                    f"{a}'s step is faster than {b}'s",
                    "compiled replays of the two captures; native minus compiled of each",
                    v,
                    ev,
                    fv,
                    fev,
                )
            )
        return out
    out = []
    claims = (
        ("JAX is optimized for XLA", "jax", lambda fe: fe != "jax", False),
        ("TF/XLA static graphs are efficient", "tensorflow", lambda fe: fe != "tensorflow", False),
        (
            "PyTorch's dynamic graphs are slower",
            "torch_xla",
            lambda fe: fe not in _DYNAMIC_TORCH and fe not in _NOT_DYNAMIC,
            True,
        ),
    )
    for text, who, other, slower in claims:
        if who not in rows:
            out.append(
                Claim(
                    text,
                    f"{who} against the others",
                    "no verdict: not measured",
                    f"{who} was not timed",
                )
            )
            continue
        rivals = [fe for fe in rows if other(fe)]
        pairs = [(fe, who) if slower else (who, fe) for fe in rivals]
        v, ev, fv, fev = _two(pairs, rows)
        what = (
            "every other framework's step against torch_xla's (lazy tensors, traced each step; "
            "torchax is left out: jax traces it once)"
            if slower
            else f"{who}'s step against every other framework's"
        )
        out.append(Claim(text, what, v, ev, fv, fev))
    out += _baseline_claims(rows)
    return out


def _pick(rows: dict[str, dict[str, Any]], name: str) -> tuple[str, Interval] | None:
    """The first timed frontend that has the baseline ``name``, and its interval."""
    for fe, row in rows.items():
        got = (row.get("baselines") or {}).get(name)
        if got is not None:
            return fe, got
    return None


def _baseline_claims(rows: dict[str, dict[str, Any]]) -> list[Claim]:
    """The seed's claims about torch.compile and TensorFlow 2's eager mode (issue 25).

    NOTE: [baselines and the two questions] These claims are about each framework's own
    execution without XLA, so both verdicts come from steps timed in the same native
    rounds (``xlalens time --baselines``): the framework verdict compares the
    framework's own non-XLA modes (eager against its compiler), the XLA verdict the
    framework's XLA step (native, measured in the same rounds) against its best
    non-XLA mode. Without baselines the claims say how to measure them.
    """
    how = "run `xlalens time DIR --baselines`"
    out: list[Claim] = []
    # PyTorch: eager (dynamic) vs torch.compile (inductor), and the XLA paths.
    eager, ind = _pick(rows, "torch eager (CPU)"), _pick(rows, "torch.compile inductor (CPU)")
    text = (
        "PyTorch's dynamic graphs can be slower than static computation; torch.compile "
        "tries to fix it, without being a full solution"
    )
    if eager is None or ind is None:
        out.append(
            Claim(text, "torch eager vs torch.compile", f"no verdict: {how}", "not measured")
        )
    else:
        fv, fev = _compare([("torch.compile (inductor)", ind[1], "torch eager", eager[1])])
        pairs = [
            ("torch.compile (inductor)", ind[1], fe, rows[fe]["native"])
            for fe in rows
            if fe in ("torch_xla", "torch_compile") and rows[fe]["native"] is not None
        ]
        v, ev = _compare([(b, y, a, x) for a, x, b, y in pairs])
        breaks = (rows.get("torch_compile") or {}).get("dynamo") or {}
        idiom = breaks.get("idiomatic") if isinstance(breaks, dict) else None
        if idiom:
            where = ", ".join(sorted({str(b.get("code")) for b in idiom.get("breaks") or []}))
            fev += (
                f"; the usual zero_grad/backward/step is {idiom['graphs']} graphs with "
                f"{idiom['graph_breaks']} graph breaks under torch.compile ({where}): dynamo "
                "cannot take it whole"
            )
        out.append(
            Claim(
                text,
                "framework: torch.compile (inductor) vs torch eager, the same CPU step in the same "
                "rounds, plus dynamo's graph breaks of the usual step; XLA: each torch XLA step "
                "(native) vs torch.compile (inductor)",
                v,
                ev,
                fv,
                fev,
            )
        )
    # TensorFlow 2: eager vs graph (tf.function without XLA) vs XLA, each TF frontend
    # against its own baselines (the same step: a Keras train step is not TF's plain one).
    text = "TensorFlow 2.0's eager execution took away the speed of its static graphs"
    tfs = [
        fe
        for fe in ("tensorflow", "keras-tensorflow")
        if fe in rows
        and "TF eager" in rows[fe]["baselines"]
        and "tf.function without XLA" in rows[fe]["baselines"]
    ]
    if not tfs:
        out.append(Claim(text, "TF eager vs tf.function", f"no verdict: {how}", "not measured"))
    else:
        fv, fev = _compare(
            [
                (
                    f"{fe} tf.function (graph)",
                    rows[fe]["baselines"]["tf.function without XLA"],
                    f"{fe} eager",
                    rows[fe]["baselines"]["TF eager"],
                )
                for fe in tfs
            ]
        )
        v, ev = _compare(
            [
                (
                    f"{fe} XLA (native)",
                    rows[fe]["native"],
                    f"{fe} tf.function without XLA",
                    rows[fe]["baselines"]["tf.function without XLA"],
                )
                for fe in tfs
                if rows[fe]["native"] is not None
            ]
        )
        out.append(
            Claim(
                text,
                "framework: each TF frontend's tf.function without XLA vs its eager step; XLA: "
                "its XLA step (native) vs its tf.function without XLA",
                v,
                ev,
                fv,
                fev,
            )
        )
    # JAX: its step under jit (one XLA computation) vs op by op.
    op = _pick(rows, "jax without jit (op by op)")
    if op is not None and rows.get("jax", {}).get("native") is not None:
        v, ev = _compare([("jax.jit (native)", rows["jax"]["native"], "jax op by op", op[1])])
        out.append(
            Claim(
                "JAX is optimized for XLA: its step as one XLA computation beats running it op by op",
                "XLA: jax's jitted step (native) vs the same step under jax.disable_jit()",
                v,
                ev,
                "no verdict: one framework mode only",
                "op by op is still jax's own dispatch",
            )
        )
    out.append(
        Claim(
            "JAX parallelizes easily across devices",
            "a sharded dump (`xlalens dump --devices N`): the lines of user code changed, the "
            "collectives XLA emitted and, with `xlalens time --scaling`, step time against "
            "device count, in that dump's findings.md",
            "no verdict: not judged on a 1-device dump",
            "`xlalens time` on a dump made with `xlalens dump --devices N` writes the verdict "
            "into that dump's findings.md (docs/timing.md)",
            "no verdict: not judged on a 1-device dump",
            "the lines of user code a sharded step changes are counted on the sharded dump",
        )
    )
    return out


def findings(
    dump_dir: str | Path,
) -> tuple[dict[str, dict[str, Any]], list[Claim], dict[str, Any]] | None:
    """The per-framework measurements and the claims' verdicts for a timed dump.

    Args:
        dump_dir: a dump folder on which ``xlalens time`` ran.

    Returns:
        ``(rows, claims, context)`` or None when the dump has no CPU/GPU timing results,
        or is sharded (its native steps are not timed; its report section is the sharded step's).

    Example:
        >>> rows, claims, _ = findings("xlalens-dump")  # doctest: +SKIP
    """
    from xlalens.timing._results import load_results

    docs = load_results(dump_dir)
    if not docs:
        return None
    backend = "cpu" if "cpu" in docs else sorted(docs)[0]
    doc = docs[backend]
    if doc.get("sharding"):
        return None
    manifest = read_manifest(dump_dir)
    rows = _rows(manifest, doc)
    if not rows:
        return None
    wl = manifest.get("workload") or {}
    user = wl.get("name") == "user" or bool(wl.get("target"))
    context = {
        "backend": backend,
        "workload": wl.get("name"),
        "target": wl.get("target"),
        "user": user,
        "size": wl.get("size"),
        "sweep": (doc.get("sweep") or {}).get("table"),
        "device": (doc.get("device") or {}).get("device_kind"),
    }
    return rows, _claims(rows, user=user), context


def _fmt(row: dict[str, Any]) -> list[str]:
    ops = " / ".join("—" if row["ops"][lv] is None else str(row["ops"][lv]) for lv in LEVELS)
    added = row["added"]
    if added is None:
        d = "not measured"
    else:
        d = (
            f"{added.median * 1e3:+.4g} ms (median of rounds; rounds "
            f"{added.low * 1e3:+.3g}..{added.high * 1e3:+.3g})"
        )
        if not row["significant"]:
            d += ", within the spread"
        if row["earlier_native"]:
            d += ", from an earlier run"
    frac = row["roofline"]
    return [
        ops,
        "—" if row["kernels"] is None else str(row["kernels"]),
        row["compiled"].text() if row["compiled"] else "—",
        row["native"].text() if row["native"] else "not measured",
        d,
        "—" if frac is None else f"{frac:.1%}",
    ]


HEAD = [
    "frontend",
    "ops StableHLO / HLO / optimized",
    "kernels",
    "compiled step",
    "native step",
    "native − compiled (dispatch + framework work)",
    "roofline",
]


def _sharded(dump_dir: str | Path) -> tuple[dict[str, Any], str] | None:
    """The sharded results document and its backend, for a timed dump made with --devices."""
    from xlalens.timing._results import load_results

    docs = load_results(dump_dir)
    if not docs:
        return None
    backend = "cpu" if "cpu" in docs else sorted(docs)[0]
    if not docs[backend].get("sharding") or not read_manifest(dump_dir).get("sharding"):
        return None
    return docs[backend], backend


def findings_markdown(dump_dir: str | Path) -> str | None:
    """``findings.md``'s text for a timed dump, or None without timing results.

    A sharded dump's is the parallelization claim (:mod:`xlalens.timing._findings_spmd`).

    Example:
        >>> print(findings_markdown("xlalens-dump"))  # doctest: +SKIP
    """
    sharded = _sharded(dump_dir)
    if sharded is not None:
        return sharded_markdown(dump_dir, *sharded)
    got = findings(dump_dir)
    if got is None:
        return None
    rows, claims, ctx = got
    lines = [
        f"# Findings: {_subject(ctx)}, {ctx['backend']}"
        + (f" ({ctx['device']})" if ctx["device"] else ""),
        "",
        "Measured by `xlalens time` on this dump. Times are median ± IQR/2 of the timed repeats; "
        "the native step is the framework's own call, timed alone in rounds alternating with "
        "the compiled replay of the captured module (same XLA, same machine state).",
        "",
        "| " + " | ".join(HEAD) + " |",
        "|" + " --- |" * len(HEAD),
    ]
    for fe, row in rows.items():
        lines.append("| " + " | ".join([fe, *_fmt(row)]) + " |")
    lines += [
        "",
        "## Its frontends, compared" if ctx["user"] else "## The seed's claims",
        "",
        "Two questions, each with its own verdict: **XLA** (the compiled replay of each "
        "captured module: what XLA makes of the computation) and **framework** (native minus "
        "compiled: what the framework adds around it, its dispatch and tracing). A verdict is "
        "given only where the spreads do not overlap.",
        "",
    ]
    for c in claims:
        lines += [
            f"- **{c.text}**",
            f"  - XLA: {c.verdict}. {c.evidence}.",
            # An unmeasured verdict already says so: no evidence sentence repeats it.
            f"  - framework: {c.framework_verdict}."
            + (f" {c.framework_evidence}." if c.framework_evidence else ""),
            f"  Compared: {c.test}.",
            "",
        ]
    hot = hottest_kernels(dump_dir)
    if hot:
        lines += [
            "## Where the compiled step's time goes",
            "",
            "Per frontend, the profiled step split into its slowest kernel, the other kernels and "
            "the idle time between kernels (the step's wall time not covered by any kernel).",
            "",
            *[f"- {line}" for line in hot],
            "",
        ]
    if ctx["sweep"]:
        lines += ["## Compiled step time by size", "", ctx["sweep"], ""]
    return "\n".join(lines)


def _subject(ctx: dict[str, Any]) -> str:
    """``regression step, 4 samples`` or ``user step tests/x.py:make_step``."""
    if ctx["user"]:
        return f"user step {ctx.get('target') or ''}".rstrip()
    return f"{ctx['workload']} step, {ctx['size']} samples"


def hottest_kernels(dump_dir: str | Path) -> list[str]:
    """One line per timed frontend: its slowest kernel (time per step, every call), its share
    of the profiled step, its roofline fraction and where it came from.

    Example:
        >>> hottest_kernels("xlalens-dump")[0]  # doctest: +SKIP
        'jax: ynn_fusion (fusion kCustom, jit(train_step)/reduce_sum) 4.449 ms, 51.5% ...'
    """
    from xlalens.timing._results import load_results

    out = []
    for backend, doc in load_results(dump_dir).items():
        for fe, r in (doc.get("frontends") or {}).items():
            # Top-level kernels only: a nested one is already inside its parent's time.
            kernels = [
                k
                for k in (r.get("kernels") or [])
                if k.get("median_s") is not None and not k.get("nested_in")
            ]
            if r.get("status") != "ok" or not kernels:
                continue
            k = max(kernels, key=lambda k: float(k["median_s"]))  # a run's total, all calls
            what = " ".join(str(x) for x in (k.get("opcode"), k.get("kind")) if x)
            where = source_location(k) or ""
            frac = k.get("fraction_of_roofline")
            roof = (
                "" if frac is None else f", {frac:.1%} of its roofline bound ({k.get('bound_by')})"
            )
            busy = sum(float(x.get("share") or 0.0) for x in kernels)
            top = float(k.get("share") or 0)
            # Shares summing past 100%: kernels ran concurrently (CPU thunks on several
            # threads), so the idle time is not their complement.
            idle = (
                f"idle between kernels {1.0 - busy:.1%}"
                if busy <= 1.0
                else f"kernels overlap in time (shares sum to {busy:.0%}), idle not known"
            )
            out.append(
                f"{fe} ({backend}): {idle}, slowest kernel `{k['name']}` "
                f"({'; '.join(x for x in (what, where.strip()) if x)}) "
                f"{float(k['median_s']) * 1e3:.4g} ms, {top:.1%}{roof}; "
                f"{len(kernels) - 1} other kernels {max(0.0, busy - top):.1%} of the profiled step"
            )
    return out


def write_findings(dump_dir: str | Path) -> Path | None:
    """Write ``DIR/findings.md`` when the dump has timing results; returns its path.

    Example:
        >>> write_findings("xlalens-dump")  # doctest: +SKIP
    """
    text = findings_markdown(dump_dir)
    if text is None:
        return None
    path = Path(dump_dir) / FINDINGS
    atomic_write(path, text + "\n")
    return path


def report_section(dump_dir: Path) -> tuple[str, str] | None:
    """The findings as a report section: (title, self-contained HTML), or None untimed.

    Example:
        >>> title, fragment = report_section(Path("xlalens-dump"))  # doctest: +SKIP
    """
    sharded = _sharded(dump_dir)
    if sharded is not None:
        return sharded_section(dump_dir, *sharded)
    got = findings(dump_dir)
    if got is None:
        return None
    rows, claims, ctx = got
    hot = hottest_kernels(dump_dir)
    esc = html.escape
    cells = "".join(f"<th>{esc(h)}</th>" for h in HEAD)
    body = "".join(
        "<tr>" + "".join(f"<td>{esc(c)}</td>" for c in [fe, *_fmt(row)]) + "</tr>"
        for fe, row in rows.items()
    )
    # Verdicts as badges (the report's CSS: xl-badge), the numbers one click away.
    badge = {"supported": "ok", "not supported": "bad", "mixed": "mixed"}

    def _badge(verdict: str) -> str:
        word = verdict.split(":")[0].split(" (")[0]
        return (
            f'<span class="xl-badge xl-b-{badge.get(word, "none")}" title="{esc(verdict)}">'
            f"{esc(word)}</span>"
        )

    items = "".join(
        f"<li><b>{esc(c.text)}</b><br>XLA {_badge(c.verdict)} · framework "
        f"{_badge(c.framework_verdict)}<details><summary>numbers</summary><small>XLA: "
        f"{esc(c.verdict)}. {esc(c.evidence)}<br>framework: {esc(c.framework_verdict)}. "
        f"{esc(c.framework_evidence)}<br>{esc(c.test)}</small></details></li>"
        for c in claims
    )
    fragment = (
        f"<p>{esc(_subject(ctx))}, {esc(ctx['backend'])}. "
        "Median ± IQR/2; native = the framework's own call, timed alone in rounds with the replay.</p>"
        f"<table><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table><ul>{items}</ul>"
        + (
            "<p>Slowest kernel per frontend:</p><ul>"
            + "".join(f"<li>{esc(line)}</li>" for line in hot)
            + "</ul>"
            if hot
            else ""
        )
        + f'<p><a href="{FINDINGS}">findings.md</a></p>'
    )
    title = (
        "Findings: its frontends, measured"
        if ctx["user"]
        else "Findings: the seed's claims, measured"
    )
    return title, fragment
