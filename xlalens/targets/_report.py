"""The targets x frontends table: as text for the CLI, as an HTML fragment for the report."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

from xlalens.targets._spec import TARGETS_DIR

COLUMNS = (
    "target",
    "frontend",
    "status",
    "route",
    "kernels",
    "fusion kinds",
    "library calls",
    "collectives",
    "temp",
    "xla est.",
    "roofline est.",
    "compile s",
)


def _seconds(s: float | None) -> str:
    if s is None:
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if s >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s * 1e9:.3g} ns"


def _bytes(n: int | None) -> str:
    if n is None:
        return "-"
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n} B"


def _counts(d: dict[str, int] | None) -> str:
    if not d:
        return "-"
    return " ".join(f"{k}:{v}" for k, v in d.items())


def rows(summary: dict[str, Any]) -> list[dict[str, str]]:
    """One row per frontend of a target summary (one row for a skipped/failed target)."""
    key = summary.get("target", "?")
    fronts = summary.get("frontends") or {}
    if summary.get("status") != "ok" or not fronts:
        reason = (summary.get("reason") or "").splitlines()
        return [
            {
                "target": key,
                "frontend": "*",
                "status": f"{summary.get('status')}: {reason[0] if reason else ''}",
            }
        ]
    out = []
    for fe, res in fronts.items():
        a = res.get("analysis") or {}
        if res.get("status") != "ok":
            reason = (res.get("reason") or "").splitlines()
            out.append(
                {"target": key, "frontend": fe, "status": f"failed: {reason[0] if reason else ''}"}
            )
            continue
        out.append(
            {
                "target": key,
                "frontend": fe,
                "status": "ok",
                "route": res.get("route") or "-",
                "kernels": str(a.get("kernels", "-")),
                "fusion kinds": _counts(a.get("fusion_kinds")),
                "library calls": _counts(a.get("library_calls")),
                "collectives": _counts(a.get("collectives")),
                "temp": _bytes((a.get("memory") or {}).get("temp_bytes")),
                "xla est.": _seconds(a.get("xla_estimate_seconds")),
                "roofline est.": _seconds((a.get("roofline") or {}).get("seconds")),
                "compile s": f"{res.get('compile_seconds', 0):.2f}",
            }
        )
    return out


def text_table(summaries: list[dict[str, Any]]) -> str:
    """The table ``xlalens compile`` prints, plus one line per note worth reading.

    Example:
        >>> print(text_table([json.load(open("d/targets/h100.json"))]))  # doctest: +SKIP
    """
    all_rows = [r for s in summaries for r in rows(s)]
    widths = {c: max([len(c)] + [len(r.get(c, "")) for r in all_rows]) for c in COLUMNS}
    lines = [
        "  ".join(c.ljust(widths[c]) for c in COLUMNS).rstrip(),
        "  ".join("-" * widths[c] for c in COLUMNS),
    ]
    for r in all_rows:
        if "route" not in r and r.get("frontend") == "*":
            lines.append(f"{r['target'].ljust(widths['target'])}  {r['status']}")
            continue
        if "route" not in r:
            lines.append(
                f"{r['target'].ljust(widths['target'])}  {r['frontend'].ljust(widths['frontend'])}  {r['status']}"
            )
            continue
        lines.append("  ".join(r.get(c, "").ljust(widths[c]) for c in COLUMNS).rstrip())
    notes = []
    for s in summaries:
        for fe, res in (s.get("frontends") or {}).items():
            if res.get("status") == "ok" and res.get("route") != "stablehlo":
                notes.append(
                    f"{s['target']}/{fe}: compiled through '{res.get('route')}' ({why(res)})"
                )
    lines.append(
        "roofline est. = max(FLOPs / published peak, bytes / published bandwidth): an estimate, "
        "not a measurement; xla est. = XLA's own estimate where the target gives one (TPU)"
    )
    lines.extend(notes)
    return "\n".join(lines)


def why(res: dict[str, Any]) -> str:
    """One line saying why a frontend did not compile as captured (XLA's words, shortened)."""
    text = "\n".join(res.get("notes") or [])
    m = re.search(r"failed to legalize operation '([^']+)'[^\n:]*", text)
    if m:
        return f"the captured StableHLO was rejected: {m.group(0)}"
    first = text.splitlines()[0] if text else ""
    return first[:160]


def _load_summaries(dump_dir: Path) -> list[dict[str, Any]]:
    out = []
    for path in sorted((dump_dir / TARGETS_DIR).glob("*.json")):
        try:
            out.append(json.loads(path.read_text()))
        except (OSError, json.JSONDecodeError):
            continue
    return out


def report_section(dump_dir: Path) -> tuple[str, str] | None:
    """The report's "Targets" section: the targets x frontends table with links.

    Each cell holds the kernel count, XLA's estimate (TPU), the roofline estimate
    and temp memory, linked to the target's optimized HLO, its cross-target diff
    against the capture and its XLA dump folder; below, per target, the kernels
    with links to their codegen artifacts (PTX, LLVM IR, asm).

    Args:
        dump_dir: the dump folder.

    Returns:
        ``(title, html)`` with relative links only (no network), or None when the
        dump has no ``targets/`` summaries.

    Example:
        >>> report_section(Path("xlalens-dump"))[0]  # doctest: +SKIP
        'Targets (compile-only)'
    """
    dump_dir = Path(dump_dir)
    summaries = _load_summaries(dump_dir)
    if not summaries:
        return None
    esc = html.escape
    fes: list[str] = []
    for s in summaries:
        for fe in s.get("frontends") or {}:
            if fe not in fes:
                fes.append(fe)
    parts = [
        '<table class="targets"><thead><tr><th>target</th>',
        *(f"<th>{esc(fe)}</th>" for fe in fes),
        "</tr></thead><tbody>",
    ]
    for s in summaries:
        parts.append(
            f'<tr><th title="{esc(s.get("description", ""))}">{esc(s.get("target", "?"))}</th>'
        )
        if s.get("status") != "ok":
            reason = (s.get("reason") or "").splitlines()
            parts.append(
                f'<td colspan="{len(fes)}">{esc(str(s.get("status")))}: '
                f"{esc(reason[0] if reason else '')}</td></tr>"
            )
            continue
        for fe in fes:
            res = (s.get("frontends") or {}).get(fe)
            if not res:
                parts.append("<td>-</td>")
                continue
            if res.get("status") != "ok":
                reason = (res.get("reason") or "").splitlines()
                parts.append(f"<td>failed: {esc(reason[0][:200] if reason else '')}</td>")
                continue
            a = res.get("analysis") or {}
            rl = (a.get("roofline") or {}).get("seconds")
            links = [f'<a href="{esc(res["optimized_hlo"])}">HLO</a>']
            if res.get("diff_vs_capture"):
                links.append(f'<a href="{esc(res["diff_vs_capture"])}">diff vs capture</a>')
            if res.get("xla_dump"):
                links.append(f'<a href="{esc(res["xla_dump"])}/">XLA dump</a>')
            libs = _counts(a.get("library_calls"))
            parts.append(
                "<td>"
                f"{a.get('kernels', '-')} kernels"
                + (f" ({esc(libs)})" if libs != "-" else "")
                + "<br>"
                + (
                    f"XLA est. {_seconds(a.get('xla_estimate_seconds'))}<br>"
                    if a.get("xla_estimate_seconds")
                    else ""
                )
                + f"roofline est. {_seconds(rl)}<br>"
                f"temp {_bytes((a.get('memory') or {}).get('temp_bytes'))}<br>"
                + (" · ".join(links))
                + (
                    f'<br><small title="{esc(why(res))}">route: {esc(res.get("route") or "")}</small>'
                    if res.get("route") != "stablehlo"
                    else ""
                )
                + "</td>"
            )
        parts.append("</tr>")
    parts.append("</tbody></table>")
    parts.append(
        "<p>Compiled without the hardware (XLA:GPU / libtpu compile-only). "
        "Roofline est. = max(FLOPs / published peak FLOP/s, bytes / published bandwidth): "
        "an estimate, not a measurement. XLA est. is XLA:TPU's own <code>optimal_seconds</code>.</p>"
    )
    for s in summaries:
        for fe, res in (s.get("frontends") or {}).items():
            kl = ((res.get("analysis") or {}).get("kernel_list")) or []
            if not any(c["kind"] != "hlo" for k in kl for c in k.get("codegen") or []):
                continue
            parts.append(
                f"<details><summary>{esc(s['target'])} / {esc(fe)}: kernels and their code</summary><ul>"
            )
            for k in kl:
                links = " ".join(
                    f'<a href="{esc(c["path"])}">{esc(c["kind"])}'
                    + (f":{c['line']}" if c.get("line") else "")
                    + "</a>"
                    for c in k.get("codegen") or []
                )
                kind = f" [{esc(k['kind'])}]" if k.get("kind") else ""
                parts.append(f"<li><code>{esc(k['name'])}</code>{kind} {links}</li>")
            parts.append("</ul></details>")
    return "Targets (compile-only)", "".join(parts)
