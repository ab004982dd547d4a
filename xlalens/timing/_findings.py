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
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xlalens._dumpdir import read_manifest
from xlalens._paths import source_location
from xlalens.dumpdir import atomic_write

FINDINGS = "findings.md"
LEVELS = ("stablehlo", "hlo", "optimized_hlo")


@dataclass(frozen=True, slots=True)
class Interval:
    """A measured time and its spread (median ± IQR/2), in seconds."""

    median: float
    """Median seconds."""
    low: float
    """median - IQR/2."""
    high: float
    """median + IQR/2."""

    def below(self, other: Interval) -> bool:
        """Significantly faster than ``other`` (the spreads do not overlap)."""
        return self.high < other.low

    def text(self) -> str:
        """``1.23 ms ± 0.05``."""
        return f"{self.median * 1e3:.4g} ms ± {(self.high - self.low) / 2 * 1e3:.2g}"


@dataclass(frozen=True, slots=True)
class Claim:
    """One of the seed's claims with its verdict."""

    text: str
    """The claim as the seed states it."""
    test: str
    """What was compared."""
    verdict: str
    """``supported``, ``not supported``, ``mixed`` or ``no verdict: within the spread``."""
    evidence: str
    """The numbers behind the verdict."""


def _interval(stats: dict[str, Any] | None) -> Interval | None:
    if not stats or stats.get("median_s") is None:
        return None
    m, iqr = float(stats["median_s"]), float(stats.get("iqr_s") or 0.0)
    return Interval(m, m - iqr / 2, m + iqr / 2)


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
            "difference": nat.get("difference_s"),
            "difference_range": nat.get("difference_range_s"),
            "significant": nat.get("significant"),
            "roofline": roof.get("fraction_of_roofline"),
        }
    return rows


def _compare(pairs: list[tuple[str, Interval | None, str, Interval | None]]) -> tuple[str, str]:
    """Verdict over comparisons 'a is faster than b', each (name_a, a, name_b, b)."""
    held = against = 0
    notes = []
    for na, a, nb, b in pairs:
        if a is None or b is None:
            continue
        if a.below(b):
            held += 1
            notes.append(f"{na} {a.text()} < {nb} {b.text()}")
        elif b.below(a):
            against += 1
            notes.append(f"{na} {a.text()} > {nb} {b.text()}")
        else:
            notes.append(f"{na} {a.text()} ≈ {nb} {b.text()} (within the spread)")
    if not notes:
        return "no verdict: not measured", "the frameworks it compares were not timed"
    if held and not against:
        verdict = "supported"
    elif against and not held:
        verdict = "not supported"
    elif held or against:
        verdict = "mixed"
    else:
        verdict = "no verdict: within the spread"
    return verdict, "; ".join(notes)


def _claims(rows: dict[str, dict[str, Any]]) -> list[Claim]:
    out = []
    jax = rows.get("jax", {})
    others = [fe for fe in rows if fe != "jax"]
    v, ev = _compare([("jax", jax.get("native"), fe, rows[fe]["native"]) for fe in others])
    out.append(
        Claim(
            "JAX is optimized for XLA",
            "jax's native step (the framework's own call) against every other framework's",
            v,
            ev,
        )
    )
    tf = rows.get("tensorflow", {})
    v, ev = _compare(
        [
            ("tensorflow", tf.get("native"), fe, rows[fe]["native"])
            for fe in rows
            if fe != "tensorflow"
        ]
    )
    out.append(
        Claim(
            "TF/XLA static graphs are efficient",
            "tensorflow's native step (tf.function, jit_compile=True) against every other framework's",
            v if tf else "no verdict: not measured",
            ev if tf else "tensorflow was not timed",
        )
    )
    torch = rows.get("torch_xla", {})
    v, ev = _compare(
        [
            (fe, rows[fe]["native"], "torch_xla", torch.get("native"))
            for fe in rows
            if fe != "torch_xla"
        ]
    )
    out.append(
        Claim(
            "PyTorch's dynamic graphs are slower",
            "every other framework's native step against torch_xla's (lazy tensors, traced each step)",
            v if torch else "no verdict: not measured",
            ev if torch else "torch_xla was not timed",
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
    context = {
        "backend": backend,
        "workload": wl.get("name"),
        "size": wl.get("size"),
        "sweep": (doc.get("sweep") or {}).get("table"),
        "device": (doc.get("device") or {}).get("device_kind"),
    }
    return rows, _claims(rows), context


def _fmt(row: dict[str, Any]) -> list[str]:
    ops = " / ".join("—" if row["ops"][lv] is None else str(row["ops"][lv]) for lv in LEVELS)
    diff = row["difference"]
    rng = row["difference_range"] or [None, None]
    if diff is None:
        d = "not measured"
    else:
        d = f"{diff * 1e3:+.4g} ms (rounds {rng[0] * 1e3:+.3g}..{rng[1] * 1e3:+.3g})"
        if not row["significant"]:
            d += ", within the spread"
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


def findings_markdown(dump_dir: str | Path) -> str | None:
    """``findings.md``'s text for a timed dump, or None without timing results.

    Example:
        >>> print(findings_markdown("xlalens-dump"))  # doctest: +SKIP
    """
    got = findings(dump_dir)
    if got is None:
        return None
    rows, claims, ctx = got
    lines = [
        f"# Findings: {ctx['workload']} step, {ctx['size']} samples, {ctx['backend']}"
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
    lines += ["", "## The seed's claims", ""]
    for c in claims:
        lines += [
            f"- **{c.text}**: {c.verdict}.",
            f"  Compared: {c.test}.",
            f"  Numbers: {c.evidence}.",
            "",
        ]
    hot = hottest_kernels(dump_dir)
    if hot:
        lines += [
            "## Where the compiled step's time goes",
            "",
            "The slowest kernel of each frontend: a verdict above often comes down to one "
            "kernel XLA emitted differently for one framework's module.",
            "",
            *[f"- {line}" for line in hot],
            "",
        ]
    if ctx["sweep"]:
        lines += ["## Compiled step time by size", "", ctx["sweep"], ""]
    return "\n".join(lines)


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
            out.append(
                f"{fe} ({backend}): `{k['name']}` ({'; '.join(x for x in (what, where.strip()) if x)}) "
                f"{float(k['median_s']) * 1e3:.4g} ms, {float(k.get('share') or 0):.1%} of the "
                f"profiled step{roof}"
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
    items = "".join(
        f'<li><span class="xl-badge xl-b-{badge.get(c.verdict, "none")}" title="{esc(c.verdict)}">'
        f"{esc(c.verdict.split(':')[0])}</span> <b>{esc(c.text)}</b>"
        f"<details><summary>numbers</summary><small>{esc(c.verdict)}. {esc(c.test)}: "
        f"{esc(c.evidence)}</small></details></li>"
        for c in claims
    )
    fragment = (
        f"<p>{esc(str(ctx['workload']))} step, {esc(str(ctx['size']))} samples, {esc(ctx['backend'])}. "
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
    return "Findings: the seed's claims, measured", fragment
