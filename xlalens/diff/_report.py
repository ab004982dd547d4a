"""Text, Markdown and JSON reports of a :class:`~xlalens.diff._model.Diff`.

Every list is in a fixed order (graph node order, or sorted by op then id), and
no report carries a time or a path that was not given, so the same inputs give
byte-identical reports.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from xlalens._paths import source_location
from xlalens.diff._kinds import CHANGED

if TYPE_CHECKING:  # the records print themselves through this module (Diff.to_text)
    from xlalens.diff._model import Diff, Pair

JSON_SCHEMA_VERSION = 3
# Version 2 (issue 11): ``kernel_map`` and ``all_attrs`` added; pairs may carry
# stage ``kernel``. Version 3 (issue 14): ``collectives`` added; changes may carry
# the fields ``sharding`` and ``collective`` (records, not attribute text).

KIND_TITLES = {
    "same_body": "same body",
    "changed_body": "changed body",
    "split": "split",
    "merged": "merged",
    "regrouped": "regrouped",
    "only_a": "only in A",
    "only_b": "only in B",
}


def _secs(t: float | None) -> str:
    if t is None:
        return "-"
    a = abs(t)
    if a >= 1:
        return f"{t:.3g} s"
    if a >= 1e-3:
        return f"{t * 1e3:.3g} ms"
    return f"{t * 1e6:.3g} us"


def _kname(g, ks: tuple[str, ...]) -> str:
    return " + ".join(str(g.nodes[k]["name"]) for k in ks) or "-"


def _kernel_rows(d: Diff) -> list[tuple[str, str, str, str, str, tuple[str, ...]]]:
    """(kind title, A kernels, B kernels, time A -> B, delta, body lines) per kernel pair."""
    km = d.kernel_map
    rows = []
    if km is None:
        return rows
    for p in km.pairs:
        times = f"{_secs(p.time_a)} -> {_secs(p.time_b)}"
        delta = p.time_delta
        rows.append(
            (
                KIND_TITLES[p.kind],
                _kname(d.a, p.a),
                _kname(d.b, p.b),
                times if (p.time_a, p.time_b) != (None, None) else "",
                "" if delta is None else ("+" if delta >= 0 else "") + _secs(delta),
                p.body,
            )
        )
    return rows


def _kernel_counts_line(d: Diff) -> str:
    km = d.kernel_map
    c = km.counts()
    return "kernel map: " + ", ".join(f"{KIND_TITLES[k]} {v}" for k, v in c.items())


def _loc(d: dict[str, Any]) -> str:
    """``op_name @ file:line`` with the parts that are known, ``-`` when none is."""
    return source_location(d) or "-"


def _type(d: dict[str, Any]) -> str:
    if d["dtype"] in ("tuple", "token", "none"):
        return d["dtype"]
    return f"{d['dtype']}[{','.join(str(x) for x in d['shape'])}]"


def _fmt(v: Any) -> str:
    if isinstance(v, str):
        return v
    text = json.dumps(v, sort_keys=True, separators=(",", ":"), default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _change_text(p: Pair) -> str:
    return "; ".join(f"{c.field}: {_fmt(c.a)} -> {_fmt(c.b)}" for c in p.changes)


def _delta(a: int | None, b: int | None) -> str:
    if a is None or b is None:
        return f"{'?' if a is None else f'{a:,}'} -> {'?' if b is None else f'{b:,}'}"
    return f"{a:,} -> {b:,} ({b - a:+,})"


def _groups(d: Diff):
    """(changed pairs, removed ids, added ids), each grouped by op, ops sorted."""
    na, nb = d.a.nodes, d.b.nodes
    changed: dict[str, list[Pair]] = {}
    for p in d.pairs:
        if p.status == CHANGED:
            changed.setdefault(na[p.a]["op"], []).append(p)
    removed: dict[str, list[str]] = {}
    for n in d.only_a:
        removed.setdefault(na[n]["op"], []).append(n)
    added: dict[str, list[str]] = {}
    for n in d.only_b:
        added.setdefault(nb[n]["op"], []).append(n)
    return (
        sorted(changed.items()),
        sorted(removed.items()),
        sorted(added.items()),
    )


_MARK = {
    "inserted": "+",
    "removed": "-",
    "changed": "~",
    "split": "<",
    "merged": ">",
    "regrouped": "*",
    "unchanged": "=",
}


def _cut(text: str, n: int = 110) -> str:
    return text if len(text) <= n else text[: n - 3] + "..."


def _collective_lines(d: Diff, limit: int) -> list[str]:
    """The collectives section of the text report: totals, then each change with where."""
    cd = d.collectives
    if cd is None:
        return []
    counts = ", ".join(f"{k} {v}" for k, v in cd.counts().items() if v)
    out = ["", f"collectives (bytes/device: ring model, docs/sharding.md): {counts}"]
    head = ("kind", "axes", "A", "B", "bytes/device A -> B")
    body = [
        (t.kind, t.axes or "-", str(t.count_a), str(t.count_b), _delta(t.bytes_a, t.bytes_b))
        for t in cd.totals
    ]
    w = [max(len(r[i]) for r in [head, *body]) for i in range(4)]
    for r in [head, *body]:
        out.append(
            f"  {r[0]:<{w[0]}}  {r[1]:<{w[1]}}  {r[2]:>{w[2]}}  {r[3]:>{w[3]}}  {r[4]}".rstrip()
        )
    shown = [c for c in cd.changes if c.status != "unchanged"]
    more = 0
    if limit and len(shown) > limit:
        shown, more = shown[:limit], len(shown) - limit
    for c in shown:
        a = _kname(d.a, c.a)
        b = _kname(d.b, c.b)
        who = b if c.status == "inserted" else a if c.status == "removed" else f"{a} -> {b}"
        axes = c.axes_b if c.b else c.axes_a
        if c.a and c.b and c.axes_a != c.axes_b:
            axes = f"{c.axes_a} -> {c.axes_b}"
        out.append(
            f"  {_MARK[c.status]} {c.status} {c.kind} {who}: over {axes or '-'}, "
            f"{_delta(c.bytes_a, c.bytes_b) if c.a and c.b else f'{c.bytes_b or c.bytes_a:,}'} "
            "B/device"
        )
        for line in (*c.changes, *c.near):
            out.append(f"      {_cut(line)}")
    if more:
        out.append(f"  ... {more} more")
    return out


def _collectives_json(d: Diff) -> dict[str, Any] | None:
    cd = d.collectives
    if cd is None:
        return None
    return {
        "counts": cd.counts(),
        "totals": [
            {
                "kind": t.kind,
                "axes": t.axes,
                "count_a": t.count_a,
                "count_b": t.count_b,
                "bytes_per_device_a": t.bytes_a,
                "bytes_per_device_b": t.bytes_b,
            }
            for t in cd.totals
        ],
        "changes": [
            {
                "status": c.status,
                "kind": c.kind,
                "a": list(c.a),
                "b": list(c.b),
                "axes_a": c.axes_a,
                "axes_b": c.axes_b,
                "bytes_per_device_a": c.bytes_a,
                "bytes_per_device_b": c.bytes_b,
                "changes": list(c.changes),
                "near": list(c.near),
            }
            for c in cd.changes
        ],
    }


def _header_lines(d: Diff) -> list[str]:
    s = d.summary
    lines = [
        f"A: {d.a_info.source or '<graph>'}  module {d.a_info.module or '-'}  [{d.a_info.kind}]",
        f"B: {d.b_info.source or '<graph>'}  module {d.b_info.module or '-'}  [{d.b_info.kind}]",
    ]
    if not d.same_kind:
        lines.append(
            f"note: different kinds ({d.a_info.kind} vs {d.b_info.kind}); pairs cross IR levels, "
            "so expect many changes"
        )
    lines.append(
        f"nodes {s.nodes[0]:,} vs {s.nodes[1]:,}: unchanged {s.unchanged:,}, changed {s.changed:,}, "
        f"only in A {s.only_a:,}, only in B {s.only_b:,}; edit cost {s.edit_cost:,}"
    )
    if s.kernels is not None:
        lines.append(f"kernels: {_delta(*s.kernels)}")
    if s.flops != (None, None):
        lines.append(f"flops (estimate): {_delta(*s.flops)}")
    if s.bytes != (None, None):
        lines.append(f"kernel bytes (estimate): {_delta(*s.bytes)}")
    if s.loops != ((), ()):
        # A loop body is listed once below; these are the times it runs per step.
        side = [
            ", ".join(f"{n} x{'?' if t is None else t}" for n, t in lp) or "none" for lp in s.loops
        ]
        lines.append(f"loops (body listed once, runs x trip count): A {side[0]}; B {side[1]}")
    return lines


def to_text(d: Diff, *, limit: int = 20) -> str:
    """The terminal report; see :meth:`Diff.to_text`."""
    na, nb = d.a.nodes, d.b.nodes
    out = ["xlalens diff", *("  " + x for x in _header_lines(d))]
    hist = [h for h in d.summary.op_histogram if h.a != h.b]
    if hist:
        out.append("")
        out.append("op histogram delta (ops whose count differs):")
        w = max(len(h.op) for h in hist)
        out.append(f"  {'op':<{w}}  {'A':>6}  {'B':>6}  {'delta':>6}")
        for h in hist:
            out.append(f"  {h.op:<{w}}  {h.a:>6}  {h.b:>6}  {h.b - h.a:>+6}")
    changed, removed, added = _groups(d)
    out += _collective_lines(d, limit)

    def cut(items: list) -> tuple[list, int]:
        if limit and len(items) > limit:
            return items[:limit], len(items) - limit
        return items, 0

    if d.kernel_map is not None:
        out.append("")
        out.append(_kernel_counts_line(d))
        rows = [r for r in _kernel_rows(d) if r[0] != "same body"]
        shown, more = cut(rows)
        for kind, ka, kb, times, delta, body in shown:
            t = f"  [{times}{', ' + delta if delta else ''}]" if times else ""
            out.append(f"  {kind}: {ka} -> {kb}{t}")
            body_shown, body_more = cut(list(body))
            for line in body_shown:
                out.append(f"      {line}")
            if body_more:
                out.append(f"      ... {body_more} more")
        if more:
            out.append(f"  ... {more} more")
    if changed:
        out.append("")
        out.append("changed, by op of A:")
        for op, ps in changed:
            out.append(f"  {op} ({len(ps)})")
            shown, more = cut(ps)
            for p in shown:
                out.append(f"    {p.a} -> {p.b}: {_change_text(p)}")
                out.append(f"      A: {_loc(na[p.a])}")
                out.append(f"      B: {_loc(nb[p.b])}")
            if more:
                out.append(f"    ... {more} more")
    for title, groups, nodes in (
        ("only in A (removed), by op:", removed, na),
        ("only in B (added), by op:", added, nb),
    ):
        if not groups:
            continue
        out.append("")
        out.append(title)
        for op, ids in groups:
            out.append(f"  {op} ({len(ids)})")
            shown, more = cut(ids)
            for n in shown:
                out.append(f"    {n} {_type(nodes[n])}  {_loc(nodes[n])}")
            if more:
                out.append(f"    ... {more} more")
    if not (changed or removed or added):
        out.append("")
        out.append("no differences")
    if not d.all_attrs:
        out.append("")
        out.append("(attributes without semantic effect hidden; --all-attrs shows them)")
    return "\n".join(out) + "\n"


def _md_cell(v: str) -> str:
    return v.replace("|", "\\|").replace("\n", " ")


def to_markdown(d: Diff, *, limit: int = 20) -> str:
    """The Markdown report; see :meth:`Diff.to_markdown`."""
    na, nb = d.a.nodes, d.b.nodes
    s = d.summary
    out = [f"## xlalens diff: `{d.a_info.module or 'A'}` vs `{d.b_info.module or 'B'}`", ""]
    out += [f"- {_md_cell(line)}" for line in _header_lines(d)]
    out += [
        "",
        "| | count |",
        "| --- | ---: |",
        f"| unchanged | {s.unchanged} |",
        f"| changed | {s.changed} |",
        f"| only in A | {s.only_a} |",
        f"| only in B | {s.only_b} |",
        f"| edit cost | {s.edit_cost} |",
    ]
    hist = [h for h in s.op_histogram if h.a != h.b]
    if hist:
        out += [
            "",
            "### Op histogram delta",
            "",
            "| op | A | B | delta |",
            "| --- | ---: | ---: | ---: |",
        ]
        out += [f"| `{h.op}` | {h.a} | {h.b} | {h.b - h.a:+d} |" for h in hist]
    changed, removed, added = _groups(d)

    def rows(items: list) -> tuple[list, int]:
        if limit and len(items) > limit:
            return items[:limit], len(items) - limit
        return items, 0

    cd = d.collectives
    if cd is not None:
        counts = ", ".join(f"{k} {v}" for k, v in cd.counts().items() if v)
        out += ["", "### Collectives", "", f"bytes per device: ring model; {counts}", ""]
        out += [
            "| kind | axes | A | B | bytes/device A -> B |",
            "| --- | --- | ---: | ---: | --- |",
        ]
        out += [
            f"| `{t.kind}` | {t.axes or '-'} | {t.count_a} | {t.count_b} | "
            f"{_delta(t.bytes_a, t.bytes_b)} |"
            for t in cd.totals
        ]
        changes = [c for c in cd.changes if c.status != "unchanged"]
        if changes:
            out += ["", "| status | kind | A | B | axes A -> B | bytes/device A -> B | where |"]
            out.append("| --- | --- | --- | --- | --- | --- | --- |")
            shown, more = rows(changes)
            for c in shown:
                where = "<br>".join(_md_cell(_cut(x)) for x in (*c.changes, *c.near))
                out.append(
                    f"| {c.status} | `{c.kind}` | `{_md_cell(_kname(d.a, c.a))}` | "
                    f"`{_md_cell(_kname(d.b, c.b))}` | {c.axes_a or '-'} -> {c.axes_b or '-'} | "
                    f"{c.bytes_a:,} -> {c.bytes_b:,} | {where} |"
                )
            if more:
                out.append(f"| ... {more} more | | | | | | |")

    if d.kernel_map is not None:
        out += ["", "### Kernel map", "", _md_cell(_kernel_counts_line(d)), ""]
        out += ["| class | A kernels | B kernels | time A -> B | delta | body diff |"]
        out.append("| --- | --- | --- | --- | ---: | --- |")
        krows = [r for r in _kernel_rows(d) if r[0] != "same body"]
        shown, more = rows(krows)
        for kind, ka, kb, times, delta, body in shown:
            b_shown, b_more = rows(list(body))
            text = "<br>".join(_md_cell(x) for x in b_shown)
            if b_more:
                text += f"<br>... {b_more} more"
            out.append(
                f"| {kind} | `{_md_cell(ka)}` | `{_md_cell(kb)}` | {times} | {delta} | {text} |"
            )
        if more:
            out.append(f"| ... {more} more | | | | | |")

    if changed:
        out += ["", "### Changed", "", "| op | A | B | changes | A source | B source |"]
        out.append("| --- | --- | --- | --- | --- | --- |")
        for op, ps in changed:
            shown, more = rows(ps)
            for p in shown:
                out.append(
                    f"| `{op}` | `{p.a}` | `{p.b}` | {_md_cell(_change_text(p))} | "
                    f"{_md_cell(_loc(na[p.a]))} | {_md_cell(_loc(nb[p.b]))} |"
                )
            if more:
                out.append(f"| `{op}` | ... {more} more | | | | |")
    for title, groups, nodes in (("Only in A", removed, na), ("Only in B", added, nb)):
        if not groups:
            continue
        out += [
            "",
            f"### {title}",
            "",
            "| op | node | type | source |",
            "| --- | --- | --- | --- |",
        ]
        for op, ids in groups:
            shown, more = rows(ids)
            for n in shown:
                out.append(f"| `{op}` | `{n}` | `{_type(nodes[n])}` | {_md_cell(_loc(nodes[n]))} |")
            if more:
                out.append(f"| `{op}` | ... {more} more | | |")
    return "\n".join(out) + "\n"


def _node_json(n: str, d: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": n,
        "op": d["op"],
        "dtype": d["dtype"],
        "shape": list(d["shape"]),
        "op_name": d["op_name"],
        "source_file": d["source_file"],
        "source_line": d["source_line"],
    }


def _info_json(info, nodes: int, edges: int) -> dict[str, Any]:
    return {
        "module": info.module,
        "format": info.format,
        "stage": info.stage,
        "level": info.level,
        "kind": info.kind,
        "source": info.source,
        "nodes": nodes,
        "edges": edges,
    }


def _pair_json(p: Pair) -> dict[str, Any]:
    return {
        "a": p.a,
        "b": p.b,
        "status": p.status,
        "stage": p.stage,
        "changes": [{"field": c.field, "a": c.a, "b": c.b} for c in p.changes],
    }


def _kernel_map_json(d: Diff) -> dict[str, Any] | None:
    km = d.kernel_map
    if km is None:
        return None
    return {
        "kernels": {"a": km.kernels[0], "b": km.kernels[1]},
        "counts": km.counts(),
        "pairs": [
            {
                "kind": p.kind,
                "a": list(p.a),
                "b": list(p.b),
                "body": list(p.body),
                "time_a_s": p.time_a,
                "time_b_s": p.time_b,
                "time_delta_s": p.time_delta,
            }
            for p in km.pairs
        ],
    }


def to_json(d: Diff) -> dict[str, Any]:
    """The JSON report as plain data (schema in docs/diff.md)."""
    s = d.summary
    return {
        "all_attrs": d.all_attrs,
        "collectives": _collectives_json(d),
        "kernel_map": _kernel_map_json(d),
        "schema_version": JSON_SCHEMA_VERSION,
        "a": _info_json(d.a_info, s.nodes[0], s.edges[0]),
        "b": _info_json(d.b_info, s.nodes[1], s.edges[1]),
        "same_kind": d.same_kind,
        "summary": {
            "unchanged": s.unchanged,
            "changed": s.changed,
            "only_a": s.only_a,
            "only_b": s.only_b,
            "edit_cost": s.edit_cost,
            "kernels": None if s.kernels is None else {"a": s.kernels[0], "b": s.kernels[1]},
            "flops": {"a": s.flops[0], "b": s.flops[1]},
            "bytes": {"a": s.bytes[0], "b": s.bytes[1]},
            "loops": {
                side: [{"node": n, "trip_count": t} for n, t in lp]
                for side, lp in zip(("a", "b"), s.loops)
            },
            "op_histogram": [
                {"op": h.op, "a": h.a, "b": h.b, "delta": h.b - h.a} for h in s.op_histogram
            ],
        },
        "pairs": [_pair_json(p) for p in d.pairs],
        "only_a": [_node_json(n, d.a.nodes[n]) for n in d.only_a],
        "only_b": [_node_json(n, d.b.nodes[n]) for n in d.only_b],
    }
