"""The report section of a sharded dump: mesh, proof of capture and collectives per frontend."""

from __future__ import annotations

import html
import json
from pathlib import Path


def _timing(dump_dir: Path, frontend: str) -> str | None:
    """The sharded timing tables of ``frontend`` (``xlalens time``), or None when not timed."""
    from xlalens.timing._sharded import timing_html

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
    link model's prediction (:func:`xlalens.timing._sharded.timing_html`).

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
