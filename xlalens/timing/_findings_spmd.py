"""The seed's "JAX parallelizes easily across devices", judged on sharded dumps (issue 25).

``xlalens time`` on a dump made with ``--devices N`` writes ``DIR/findings.md``
with this claim (a 1-device dump says where to get it). Three measurements, per
SPMD frontend (jax, keras-jax, torchax, torch_xla):

- **code**: the lines of user code the sharded step adds to or changes in the
  1-device step, counted by the capture from the sources it ran (``spmd.code`` in
  the manifest; NOTE: [lines changed, measured] in
  :mod:`xlalens.frontends._spmd_plan`);
- **collectives**: count and kind in the sharded optimized HLO
  (:func:`xlalens.ir.collectives`, whose kinds are the op table's);
- **scaling**: the compiled sharded step's time (``xlalens time``) at each device
  count: this dump's, plus those of the same step's sharded dumps at other device
  counts given with ``xlalens time DIR --scaling D1,D2`` (recorded in the results
  document as ``scaling``, so the claim survives later runs).

NOTE: [the parallelization verdicts] the claim keeps the two questions of the
other claims. **XLA** (what XLA makes of the partitioned step): per JAX frontend
(jax, and keras-jax and torchax, whose sharded steps are jax's), its step on the
most devices against its step on the fewest, "faster" only where the spreads do
not overlap (torch_xla's, not JAX, is printed beside for comparison); a frontend whose sharded step did not match its
1-device step takes no part. With one device count there is no verdict.
**framework** (what the framework asks of its user): jax's step function must be
unchanged (difflib: 0 lines), and jax needs no more lines than each other SPMD
frontend (fewer: for the claim, more: against, as many: neither). On the CPU,
host devices are threads of one processor sharing its memory: more devices do
not add cores or bandwidth, so the scaling verdict says how XLA:CPU runs N
partitions on this machine, not how N accelerators scale; the text says so. Each
device count is its own ``xlalens time`` run, not interleaved rounds like the native
step's: the evidence names when each was timed, since the load of a shared machine
can change between runs.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from xlalens._errors import UsageError
from xlalens._paths import display_path
from xlalens.timing._verdicts import Claim, Interval, _compare, _interval

CLAIM = "JAX parallelizes easily across devices"
JAX_FRONTENDS = ("jax", "keras-jax", "torchax")
"""Frontends whose sharded step is jax's (``jax.jit`` with ``NamedSharding``s): the XLA
verdict's; torch_xla's SPMD is its own (GSPMD through lazy tensors)."""
CPU_CAVEAT = (
    "CPU caveat: the devices are host devices, threads of one processor sharing its memory; "
    "more of them add no cores or memory bandwidth, so these times say how XLA:CPU runs N "
    "partitions on this machine, not how N accelerators would scale"
)


def _counts(dump_dir: Path, fe: str, spec: dict[str, Any]) -> dict[str, int] | None:
    """Collectives of ``fe``'s sharded optimized HLO, by kind (None: not readable)."""
    from xlalens.ir import collectives, load
    from xlalens.ir._collectives import mesh_from_spec

    try:
        graph = load(f"{dump_dir}:{fe}:optimized_hlo", level="raw")
    except Exception:  # a missing or unreadable module: the claim says "not read"
        return None
    out: dict[str, int] = {}
    for c in collectives(graph, mesh_from_spec(spec)):
        out[c.kind] = out.get(c.kind, 0) + 1
    return dict(sorted(out.items()))


def _point(doc: dict[str, Any], manifest: dict[str, Any], where: str) -> dict[str, Any]:
    """One device count's step times from a sharded results document."""
    spec = doc.get("sharding") or {}
    fes: dict[str, Any] = {}
    for fe, r in (doc.get("frontends") or {}).items():
        st = r.get("step") or {}
        info = (manifest.get("frontends") or {}).get(fe) or {}
        if r.get("status") == "ok" and st.get("median_s") is not None:
            fes[fe] = {
                "median_s": st["median_s"],
                "iqr_s": st.get("iqr_s") or 0.0,
                "n": st.get("n"),
                "matches_single_device": info.get("outputs_match"),
            }
    return {
        "devices": int(spec.get("devices") or 0),
        "dump": where,
        "created": doc.get("created"),
        "frontends": fes,
    }


def scaling_points(
    dump_dir: str | Path, others: list[str | Path], backend: str
) -> list[dict[str, Any]]:
    """The step times of the same sharded step at other device counts (``--scaling``).

    Args:
        dump_dir: the sharded dump being timed.
        others: sharded dumps of the same workload and strategy at other device
            counts, already timed on ``backend``.
        backend: the timing backend.

    Returns:
        One point per dump: ``{"devices", "dump", "frontends": {fe: {"median_s",
        "iqr_s", "n", "matches_single_device"}}}``.

    Raises:
        UsageError: a dump is not readable, not sharded, of another step or strategy,
            or not timed on ``backend`` (the message names it and the fix).

    Example:
        >>> scaling_points("d4", ["d1", "d2"], "cpu")[0]["devices"]  # doctest: +SKIP
        1
    """
    from xlalens._errors import DumpError
    from xlalens.dumpdir import read_manifest
    from xlalens.timing._results import load_results

    mine = read_manifest(dump_dir)
    want = (mine.get("workload"), (mine.get("sharding") or {}).get("strategy"))
    points = []
    for other in others:
        try:
            man = read_manifest(other)
        except DumpError as exc:
            raise UsageError(f"--scaling {other}: {exc}") from None
        spec = man.get("sharding") or {}
        if not spec:
            raise UsageError(
                f"--scaling {other}: not a sharded dump; make it with `xlalens dump --devices N "
                f"--sharding {want[1]}` and the same workload options"
            )
        got = (man.get("workload"), spec.get("strategy"))
        if got != want:
            raise UsageError(
                f"--scaling {other}: another step ({got[0]}, {got[1]}) than "
                f"{display_path(dump_dir)}'s ({want[0]}, {want[1]}); give dumps of the same "
                "workload options and --sharding"
            )
        doc = load_results(other).get(backend)
        if not doc or not doc.get("sharding"):
            raise UsageError(
                f"--scaling {other}: not timed on {backend}; run `xlalens time {other}` first"
            )
        points.append(_point(doc, man, display_path(other)))
    return points


def _dev(n: int) -> str:
    return f"{n} device" + ("" if n == 1 else "s")


def _lines(code: dict[str, Any] | None) -> int | None:
    if not code or code.get("placement_lines") is None or code.get("step_lines_changed") is None:
        return None
    return int(code["placement_lines"]) + int(code["step_lines_changed"])


def sharded_rows(dump_dir: str | Path, doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Per SPMD frontend of a timed sharded dump: proof, code, collectives, step times.

    Example:
        >>> sharded_rows("d2", load_results("d2")["cpu"])[0]["collectives"]  # doctest: +SKIP
        {'all-reduce': 1}
    """
    from xlalens.dumpdir import read_manifest

    folder = Path(dump_dir)
    manifest = read_manifest(folder)
    spec = manifest["sharding"]
    here = _point(doc, manifest, display_path(folder))
    points = {p["devices"]: p for p in (doc.get("scaling") or {}).get("points") or []}
    points[here["devices"]] = here  # this dump's own times, as measured now
    rows = []
    for fe, info in (manifest.get("frontends") or {}).items():
        if info.get("status") != "ok":
            continue
        code = (info.get("spmd") or {}).get("code")
        times = {
            n: _interval(p["frontends"][fe])
            for n, p in sorted(points.items())
            if fe in p["frontends"] and p["frontends"][fe].get("matches_single_device") is not False
        }
        rows.append(
            {
                "frontend": fe,
                "matches": info.get("outputs_match"),
                "code": code,
                "lines": _lines(code),
                "collectives": _counts(folder, fe, spec),
                "times": {n: t for n, t in times.items() if t is not None},
            }
        )
    return rows


def _runs(doc: dict[str, Any]) -> dict[int, str | None]:
    """When each device count was timed (the results' ``created``), by device count."""
    runs = {p["devices"]: p.get("created") for p in (doc.get("scaling") or {}).get("points") or []}
    runs[int((doc.get("sharding") or {}).get("devices") or 0)] = doc.get("created")
    return dict(sorted(runs.items()))


def sharded_claim(
    rows: list[dict[str, Any]],
    spec: dict[str, Any],
    backend: str,
    runs: dict[int, str | None] | None = None,
) -> Claim:
    """The claim's two verdicts (NOTE: [the parallelization verdicts]).

    Example:
        >>> sharded_claim(rows, manifest["sharding"], "cpu").verdict  # doctest: +SKIP
        'no verdict: within the spread'
    """
    # XLA: each JAX frontend's step on the most devices against the fewest; the
    # others' (torch_xla: GSPMD, not JAX) are printed beside, for comparison.
    pairs: list[tuple[str, Interval | None, str, Interval | None]] = []
    beside: list[tuple[str, Interval | None, str, Interval | None]] = []
    for r in rows:
        t = r["times"]
        if len(t) >= 2:
            lo, hi = min(t), max(t)
            pair = (f"{r['frontend']} on {_dev(hi)}", t[hi], f"on {_dev(lo)}", t[lo])
            (pairs if r["frontend"] in JAX_FRONTENDS else beside).append(pair)
    colls = "; ".join(
        f"{r['frontend']}: "
        + (
            "not read"
            if r["collectives"] is None
            else ", ".join(f"{n} {k}" for k, n in r["collectives"].items()) or "none"
        )
        for r in rows
    )
    counts = sorted({n for r in rows for n in r["times"]})
    if pairs:
        verdict, ev = _compare(pairs)
        if beside:
            ev += "; not JAX, for comparison: " + _compare(beside)[1]
        # Each device count is its own run (NOTE: [the parallelization verdicts]).
        when = ", ".join(f"{_dev(n)} {t or 'time not recorded'}" for n, t in (runs or {}).items())
        ev += (
            "; the device counts were timed in separate runs, not interleaved"
            + (f" ({when})" if when else "")
            + ": a change of machine load between them moves the comparison"
        )
    else:
        verdict = "no verdict: one device count"
        ev = (
            f"timed on {counts[0] if counts else spec['devices']} devices only; time the same "
            "step's sharded dumps at other device counts and give them with "
            "`xlalens time DIR --scaling D1,D2`"
        )
    failed = [r["frontend"] for r in rows if r["matches"] is False]
    ev += f"; collectives XLA emitted ({spec['strategy']} over {spec['devices']}): {colls}"
    if failed:
        ev += f"; {', '.join(failed)}: sharded step differs from its 1-device step (left out)"
    if backend == "cpu":
        ev += f"; {CPU_CAVEAT}"
    # framework: the lines the user changes, jax against the others.
    jax = next((r for r in rows if r["frontend"] == "jax"), None)
    notes = [
        f"{r['frontend']}: step `{(r['code'] or {}).get('step')}` "
        f"{(r['code'] or {}).get('step_lines_changed')} lines changed, "
        f"{(r['code'] or {}).get('placement_lines')} lines of placement added"
        if r["lines"] is not None
        else f"{r['frontend']}: not counted (a capture older than this count)"
        for r in rows
    ]
    if jax is None or jax["lines"] is None:
        fv = "no verdict: jax's sharded step was not captured" + (
            "" if jax is None else " with its code count"
        )
    else:
        held = against = 0
        changed = int(jax["code"]["step_lines_changed"])
        if changed == 0:
            held += 1
        else:
            against += 1
        for r in rows:
            if r["frontend"] == "jax" or r["lines"] is None:
                continue
            if jax["lines"] < r["lines"]:
                held += 1
            elif jax["lines"] > r["lines"]:
                against += 1
        fv = (
            "supported" if held and not against else "not supported" if not held else "mixed"
        ) + f" ({held} for, {against} against)"
    fev = "; ".join(notes)
    return Claim(
        CLAIM,
        "XLA: each JAX frontend's (jax, keras-jax, torchax) compiled sharded step at the most "
        "devices vs the fewest (`xlalens time`, median ± IQR/2; torch_xla beside), with the "
        "collectives in its optimized HLO; "
        "framework: jax's step unchanged, and its lines of user code changed (step difflib + "
        "placement) vs each other SPMD frontend's",
        verdict,
        ev,
        fv,
        fev,
    )


def _table(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    counts = sorted({n for r in rows for n in r["times"]})
    head = [
        "frontend",
        "matches its 1-device step",
        "step lines changed",
        "placement lines",
        "collectives",
        *[f"step on {_dev(n)}" for n in counts],
    ]
    body = []
    for r in rows:
        code = r["code"] or {}
        colls = r["collectives"]
        body.append(
            [
                r["frontend"],
                {True: "yes", False: "NO", None: "—"}[r["matches"]],
                "—" if code.get("step_lines_changed") is None else str(code["step_lines_changed"]),
                "—" if code.get("placement_lines") is None else str(code["placement_lines"]),
                "not read"
                if colls is None
                else ", ".join(f"{n} {k}" for k, n in colls.items()) or "none",
                *[r["times"][n].text() if n in r["times"] else "—" for n in counts],
            ]
        )
    return head, body


def sharded_markdown(dump_dir: str | Path, doc: dict[str, Any], backend: str) -> str:
    """``findings.md`` of a timed sharded dump: the table and the parallelization claim.

    Example:
        >>> print(sharded_markdown("d2", load_results("d2")["cpu"], "cpu"))  # doctest: +SKIP
    """
    from xlalens.dumpdir import read_manifest

    manifest = read_manifest(dump_dir)
    spec = manifest["sharding"]
    wl = manifest.get("workload") or {}
    rows = sharded_rows(dump_dir, doc)
    c = sharded_claim(rows, spec, backend, _runs(doc))
    head, body = _table(rows)
    lines = [
        f"# Findings: {wl.get('name')} step, {wl.get('size')} samples, {spec['strategy']} over "
        f"{spec['devices']} {backend} devices (mesh {'x'.join(map(str, spec['mesh']))})",
        "",
        "Measured by `xlalens time` on this sharded dump (and the dumps given with `--scaling`). "
        "Step: the compiled sharded step on all devices, median ± IQR/2 of the timed repeats. "
        "Lines: counted by the capture from the code it ran (difflib over the step function "
        "run on one device and sharded; the lines of its marked placement blocks). "
        "Collectives: the sharded optimized HLO's.",
        "",
        *([f"{CPU_CAVEAT}.", ""] if backend == "cpu" else []),
        "| " + " | ".join(head) + " |",
        "|" + " --- |" * len(head),
        *["| " + " | ".join(row) + " |" for row in body],
        "",
        "## The seed's claim",
        "",
        f"- **{c.text}**",
        f"  - XLA: {c.verdict}. {c.evidence}.",
        f"  - framework: {c.framework_verdict}. {c.framework_evidence}.",
        f"  Compared: {c.test}.",
        "",
    ]
    for r in rows:
        placed = (r["code"] or {}).get("placement")
        if placed:
            lines += [
                f"Placement lines of {r['frontend']}:",
                "",
                "```python",
                *placed,
                "```",
                "",
            ]
    return "\n".join(lines)


def sharded_section(dump_dir: str | Path, doc: dict[str, Any], backend: str) -> tuple[str, str]:
    """The claim as a report section: (title, self-contained HTML).

    Example:
        >>> title, fragment = sharded_section("d2", doc, "cpu")  # doctest: +SKIP
    """
    from xlalens.dumpdir import read_manifest

    spec = read_manifest(dump_dir)["sharding"]
    rows = sharded_rows(dump_dir, doc)
    c = sharded_claim(rows, spec, backend, _runs(doc))
    head, body = _table(rows)
    esc = html.escape
    fragment = (
        "<table><thead><tr>"
        + "".join(f"<th>{esc(h)}</th>" for h in head)
        + "</tr></thead><tbody>"
        + "".join("<tr>" + "".join(f"<td>{esc(x)}</td>" for x in row) + "</tr>" for row in body)
        + f"</tbody></table><ul><li><b>{esc(c.text)}</b><br>XLA: {esc(c.verdict)}. "
        f"<small>{esc(c.evidence)}</small><br>framework: {esc(c.framework_verdict)}. "
        f"<small>{esc(c.framework_evidence)}</small></li></ul>"
        '<p><a href="findings.md">findings.md</a></p>'
    )
    return "Findings: the seed's parallelization claim, measured", fragment
