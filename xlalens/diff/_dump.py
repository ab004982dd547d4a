"""The diff stage of ``xlalens dump``: pairwise diffs written into ``DIR/diffs/``."""

from __future__ import annotations

import itertools
import traceback
from pathlib import Path
from typing import Any

import networkx as nx

from xlalens.diff._diff import diff

DIFFS = "diffs"


def _load_graph(path: Path) -> nx.MultiDiGraph:
    """A saved graph JSON, through the ir package's importer."""
    from xlalens.ir import from_json

    return from_json(path)


def _pick(graphs: dict[str, str], *keys: str) -> str | None:
    return next((k for k in keys if k in graphs), None)


def _plan(manifest: dict[str, Any]) -> list[tuple[str, str, str, str, str, str]]:
    """``(kind, fe_a, key_a, fe_b, key_b, level)`` for every diff a dump gets, in a fixed order."""
    fronts = manifest.get("frontends", {})
    graphs = {
        fe: (info.get("artifacts") or {}).get("graphs") or {}
        for fe, info in fronts.items()
        if info.get("status") == "ok"
    }
    names = list(graphs)  # manifest order = the order the user asked for
    plan = []
    for fa, fb in itertools.combinations(names, 2):
        for keys in (("stablehlo.canonical",), ("optimized_hlo.canonical", "optimized_hlo.raw")):
            # The first level both sides have, so the two graphs are of one kind.
            common = [k for k in keys if k in graphs[fa] and k in graphs[fb]]
            if common:
                key = common[0]
                plan.append(("cross_framework", fa, key, fb, key, key.split(".")[1]))
    for fe in names:
        for level in ("canonical", "raw"):
            pre = _pick(graphs[fe], f"hlo.{level}", f"stablehlo.{level}")
            post = _pick(graphs[fe], f"optimized_hlo.{level}")
            if pre and post:
                plan.append(("optimization", fe, pre, fe, post, level))
                break
    return plan


def dump_step(dump_dir: Path, manifest: dict[str, Any]) -> None:
    """Write a dump's diffs into ``dump_dir/diffs`` and list them in ``manifest["diffs"]``.

    Cross-framework diffs for every pair of frontends that succeeded (canonical
    StableHLO, and optimized HLO at the canonical level when both have it, else
    raw), and each frontend's pre- vs post-optimization diff (pre-optimization
    HLO, or StableHLO, vs optimized HLO). Each diff is written as ``.json``,
    ``.md`` and ``.txt``. A pair that fails is recorded with an ``error`` and the
    others go on.

    Args:
        dump_dir: the dump (staging) folder, after the ir stage wrote the graphs.
        manifest: the manifest dict, updated in place (``manifest["diffs"]``).

    Returns:
        None.

    Example:
        >>> dump_step(Path("xlalens-dump"), manifest)  # doctest: +SKIP
    """
    dump_dir = Path(dump_dir)
    out_dir = dump_dir / DIFFS
    out_dir.mkdir(parents=True, exist_ok=True)
    fronts = manifest.get("frontends", {})
    records: list[dict[str, Any]] = []
    cache: dict[tuple[str, str], nx.MultiDiGraph] = {}

    def graph(fe: str, key: str) -> nx.MultiDiGraph:
        if (fe, key) not in cache:
            rel = fronts[fe]["artifacts"]["graphs"][key]
            cache[(fe, key)] = _load_graph(dump_dir / rel)
        return cache[(fe, key)]

    for kind, fa, ka, fb, kb, level in _plan(manifest):
        art_a, art_b = ka.split(".")[0], kb.split(".")[0]
        rec: dict[str, Any] = {
            "a": f"{fa}:{art_a}",
            "b": f"{fb}:{art_b}",
            "level": level,
            "kind": kind,
        }
        if kind == "cross_framework":
            stem = f"{fa}__{fb}.{art_a}.{level}"
        else:
            stem = f"{fa}.{art_a}__{art_b}.{level}"
        try:
            d = diff(graph(fa, ka), graph(fb, kb))
            files = {"json": d.to_json_text(), "markdown": d.to_markdown(), "text": d.to_text()}
            for field, ext in (("json", "json"), ("markdown", "md"), ("text", "txt")):
                path = out_dir / f"{stem}.{ext}"
                path.write_text(files[field])
                rec[field] = f"{DIFFS}/{path.name}"
            s = d.summary
            rec["summary"] = {
                "unchanged": s.unchanged,
                "changed": s.changed,
                "only_a": s.only_a,
                "only_b": s.only_b,
                "edit_cost": s.edit_cost,
            }
            if d.kernel_map is not None:
                rec["kernel_map"] = d.kernel_map.counts()
        except Exception as exc:  # one failing pair must not stop the others
            tail = traceback.format_exception_only(type(exc), exc)[-1].strip()
            rec["error"] = tail
        records.append(rec)
    manifest["diffs"] = records
