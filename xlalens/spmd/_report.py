"""The report section of a sharded dump: mesh, proof of capture and collectives per frontend."""

from __future__ import annotations

import html
import json
from pathlib import Path


def report_section(dump_dir: Path) -> tuple[str, str] | None:
    """``(title, HTML fragment)`` for a dump made with ``--devices``; None for other dumps.

    The fragment is self-contained (tables only): per frontend, its status, whether
    the sharded step matched its 1-device step, and its collectives table (kind,
    mesh axes, group size, count, operand bytes, bytes sent per device).

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
        if not rows:
            parts.append("<p>no collectives</p>")
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
    return f"Sharded step: {spec['strategy']} over {spec['devices']} devices", "\n".join(parts)
