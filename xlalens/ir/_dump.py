"""The graph stage of ``xlalens dump``: each capture's IR -> ``<fe>/graphs/*.json``."""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import Any

from xlalens.ir._canonical import normalize
from xlalens.ir._io import to_json
from xlalens.ir._load import IR_ARTIFACTS, load_file
from xlalens.ir._stats import entry_op_count

GRAPHS = "graphs"


def dump_step(dump_dir: Path, manifest: dict[str, Any]) -> None:
    """Write every successful frontend's graphs and list them in the manifest.

    For each frontend with status ``ok`` and each of its artifacts stablehlo, hlo,
    optimized_hlo: writes ``<fe>/graphs/<artifact>.raw.json`` and
    ``<artifact>.canonical.json`` (canonical with the frontend's signature roles),
    records them in ``manifest["frontends"][fe]["artifacts"]["graphs"]`` and sets
    ``manifest["frontends"][fe]["op_counts"][artifact]`` to the entry computation's
    op count of the raw graph. An artifact that fails is recorded in
    ``manifest["frontends"][fe]["graph_errors"][artifact]`` and the rest go on.

    Args:
        dump_dir: the dump (staging) folder.
        manifest: the manifest dict, updated in place.

    Returns:
        None.

    Example:
        >>> dump_step(Path("xlalens-dump"), manifest)  # doctest: +SKIP
    """
    dump_dir = Path(dump_dir)
    for fe, info in manifest.get("frontends", {}).items():
        if info.get("status") != "ok":
            continue
        artifacts = info.setdefault("artifacts", {})
        graphs: dict[str, str] = {}
        errors: dict[str, str] = {}
        counts = info.get("op_counts")
        counts = dict(counts) if isinstance(counts, dict) else {}
        for artifact in IR_ARTIFACTS:
            rel = artifacts.get(artifact)
            if not rel:
                continue
            try:
                source = {"frontend": fe, "artifact": artifact, "path": rel}
                raw = load_file(dump_dir / rel, "raw", stage=artifact, source=source)
                out = dump_dir / fe / GRAPHS
                out.mkdir(parents=True, exist_ok=True)
                to_json(raw, out / f"{artifact}.raw.json")
                graphs[f"{artifact}.raw"] = f"{fe}/{GRAPHS}/{artifact}.raw.json"
                counts[artifact] = entry_op_count(raw)
                canon = normalize(raw, "canonical", signature=info.get("signature"), copy=False)
                to_json(canon, out / f"{artifact}.canonical.json")
                graphs[f"{artifact}.canonical"] = f"{fe}/{GRAPHS}/{artifact}.canonical.json"
            except Exception as exc:  # one artifact's failure never stops the others
                errors[artifact] = f"{type(exc).__name__}: {exc}\n" + traceback.format_exc(limit=4)
        artifacts["graphs"] = graphs
        info["op_counts"] = counts
        if errors:
            info["graph_errors"] = errors
        else:
            info.pop("graph_errors", None)
