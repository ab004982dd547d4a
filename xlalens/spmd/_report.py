"""The report section of a sharded dump: mesh, proof of capture and collectives per frontend."""

from __future__ import annotations

import html
import json
from pathlib import Path

from xlalens._format import percent as _pct
from xlalens._format import seconds as _ms


def _timing(dump_dir: Path, frontend: str) -> str | None:
    """The sharded timing tables of ``frontend`` (``xlalens time``), or None when not timed."""
    try:
        return timing_html(dump_dir, frontend)
    except Exception as exc:  # a section never breaks the report
        return f"<p>sharded timing results not readable: {html.escape(str(exc))}</p>"


def report_section(dump_dir: Path) -> tuple[str, str] | None:
    """``(title, HTML fragment)`` for a dump made with ``--devices``; None for other dumps.

    The fragment is self-contained (tables only): per frontend, its status, whether
    the sharded step matched its 1-device step, and its collectives table (kind,
    mesh axes, group size, count, operand bytes, bytes sent per device); once
    ``xlalens time`` ran, the step time on N devices, each device's
    communication/computation split, each collective's measured time and the
    link model's prediction (:func:`timing_html`).

    Example:
        >>> report_section(Path("xlalens-dump"))  # doctest: +SKIP
        ('Sharded step: dp+tp over 8 devices', '<p>...')
    """
    from xlalens.ir import collective_table, collectives, load
    from xlalens.ir._collectives import mesh_from_spec

    dump_dir = Path(dump_dir)
    manifest_path = dump_dir / "manifest.json"
    if not manifest_path.is_file():
        return None
    manifest = json.loads(manifest_path.read_text())
    spec = manifest.get("sharding")
    if not spec:
        return None
    esc = html.escape
    mesh = "x".join(map(str, spec["mesh"]))
    parts = [
        f"<p>{esc(spec['strategy'])} over {spec['devices']} devices, mesh {mesh} "
        f"({esc(','.join(spec['axes']))}). Bytes per device: ring model (docs/sharding.md); "
        "host devices share memory, so CPU collective times are not network times.</p>"
    ]
    for name, entry in manifest["frontends"].items():
        if entry["status"] != "ok":
            reason = (entry.get("reason") or "").splitlines()[:1]
            parts.append(
                f"<h4>{esc(name)}: {esc(entry['status'])}</h4><p>{esc(reason[0] if reason else '')}</p>"
            )
            continue
        match = entry.get("outputs_match")
        parts.append(
            f"<h4>{esc(name)}</h4><p>matches its 1-device step: "
            f"{'yes' if match else 'NO'} (max |diff| {entry.get('max_abs_diff') or 0:.1e})</p>"
        )
        try:
            graph = load(f"{dump_dir}:{name}:optimized_hlo", level="raw")
        except Exception as exc:  # a section never breaks the report
            parts.append(f"<p>optimized HLO not readable: {esc(str(exc))}</p>")
            continue
        rows = collective_table(collectives(graph, mesh_from_spec(spec)))
        timed = _timing(dump_dir, name)
        if not rows:
            parts.append("<p>no collectives</p>")
            parts += [timed] if timed else []
            continue
        head = "".join(
            f"<th>{h}</th>"
            for h in ("kind", "axes", "group", "count", "operand bytes", "bytes/device")
        )
        body = "".join(
            f"<tr><td>{esc(r['kind'])}</td><td>{esc(r['axes'])}</td><td>{r['group_size']}</td>"
            f"<td>{r['count']}</td><td>{r['operand_bytes']:,}</td>"
            f"<td>{r['bytes_per_device']:,}</td></tr>"
            for r in rows
        )
        parts.append(f"<table><tr>{head}</tr>{body}</table>")
        parts.append(
            timed
            or "<p>Not timed across devices yet: run <code>xlalens time DIR</code> for per-collective "
            "times, the communication/computation split and the link model's prediction.</p>"
        )
    return f"Sharded step: {spec['strategy']} over {spec['devices']} devices", "\n".join(parts)


def timing_html(dump_dir: str | Path, frontend: str) -> str | None:
    """HTML tables of one frontend's sharded timing (per device split, collectives, model).

    None when ``DIR/timing/*.json`` holds no sharded result for ``frontend``. Used by
    the sharded-step section of the report (:mod:`xlalens.spmd._report`).

    Example:
        >>> timing_html("/tmp/d", "jax")  # doctest: +SKIP
        '<p>Timed on 4 cpu devices...'
    """
    esc = html.escape
    parts: list[str] = []
    for path in sorted((Path(dump_dir) / "timing").glob("*.json")):
        try:
            doc = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        r = (doc.get("frontends") or {}).get(frontend) or {}
        sh = r.get("sharded")
        if r.get("status") != "ok" or not sh:
            continue
        st = r["step"]
        backend = doc.get("backend", path.stem)
        parts.append(
            f"<p>Timed on {len(sh['devices'])} {esc(backend)} devices: step median "
            f"{_ms(st['median_s'])} (min {_ms(st['min_s'])}, IQR {_ms(st['iqr_s'])}, n={st['n']}); "
            f"peak memory per device {sh['peak_memory_bytes']:,} B (compiled memory stats)."
            + (f" <b>Note:</b> {esc(sh['note'])}." if sh.get("note") else "")
            + "</p>"
        )
        head = "".join(
            f"<th>{h}</th>"
            for h in ("device", "kernels", "collectives", "compute", "collective share")
        )
        body = "".join(
            f"<tr><td>{d['device']}</td><td>{_ms(d['kernel_sum_s'])}</td>"
            f"<td>{_ms(d['collective_s'])}</td><td>{_ms(d['compute_s'])}</td>"
            f"<td>{_pct(d.get('collective_fraction'))}</td></tr>"
            for d in sh["devices"]
        )
        parts.append(f"<table><tr>{head}</tr>{body}</table>")
        if sh["collectives"]:
            head = "".join(
                f"<th>{h}</th>"
                for h in (
                    "collective",
                    "kind",
                    "axes",
                    "group",
                    "bytes/device",
                    "median",
                    "max",
                    "model",
                )
            )
            body = "".join(
                f"<tr><td>{esc(c['name'])}</td><td>{esc(c['kind'])}</td>"
                f"<td>{esc('?' if c['axes'] is None else (','.join(c['axes']) or '-'))}</td>"
                f"<td>{c['group_size']}</td><td>{c['bytes_per_device']:,}</td>"
                f"<td>{_ms(c['median_s'])}</td><td>{_ms(c['max_s'])}</td>"
                f"<td>{_ms(c.get('model_s'))}</td></tr>"
                for c in sh["collectives"]
            )
            parts.append(f"<table><tr>{head}</tr>{body}</table>")
        m = sh.get("model")
        lk = (doc.get("model") or {}).get("link") or {}
        if m:
            rows = "".join(
                f"<tr><td>{p['devices']}</td><td>{p['bytes_per_device']:,.0f}</td>"
                f"<td>{_ms(p['seconds'])}</td></tr>"
                for p in m["extrapolated"]
            )
            parts.append(
                f"<p>Model ({esc(str(lk.get('name')))}, an assumption: "
                f"{esc(str(lk.get('source')))}): communication {_ms(m['at_mesh']['seconds'])} per "
                f"step at this mesh; measured collectives here {_ms(m['measured_collective_s'])} "
                "(median over devices).</p>"
                "<table><tr><th>devices</th><th>bytes sent/device</th><th>model comm/step</th></tr>"
                f"{rows}</table>"
            )
    return "\n".join(parts) or None
