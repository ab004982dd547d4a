"""Check that two xlalens trees read the same HLO into the same graphs (reader refactors).

Each tree is imported in its own subprocess (``PYTHONPATH=TREE``); every module is
loaded through the public path (``xlalens.load(text, level="raw")``,
``level="canonical"`` and ``xlalens.load(path)``) and reduced to a digest of
everything a graph holds, in order: the graph attributes, each node id and its
data, each edge ``(u, v, key, data)`` in successor order, and the predecessor
order of each node. A module that fails is digested by its error's type and
message, so ParseError texts are compared too. The new tree's graphs are also
checked for networkx's own invariants (``_adj is _succ``, each edge's key dict
shared by ``_succ[u][v]`` and ``_pred[v][u]``).

Usage: ``python scripts/check_graph_identity.py --old /path/to/main --new . [--any-adjacency-order] [FILES...]``
(default files: bench_ir's cache of other tools' modules, the HLO under
tests/core/data and the checked-in real modules).
"""

from __future__ import annotations

import argparse
import json
import lzma
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_WORKER = r"""
import hashlib, json, os, sys
import networkx as nx
import xlalens

ANY_ORDER = os.environ.get("XLALENS_IDENTITY_ANY_ORDER") == "1"

def digest(g):
    # Everything a graph holds, in order; with ANY_ORDER, each node's successors,
    # producers and edge keys sorted (the same content in any adjacency order).
    h = hashlib.sha256()
    h.update(repr(sorted(g.graph.items(), key=lambda kv: kv[0])).encode())
    h.update(repr(list(g.graph)).encode())
    for nid, d in g._node.items():
        # ``calls`` as a list: a tuple since issue 23's round 8, which the schema checks.
        h.update(repr((nid, {**d, "calls": list(d["calls"])})).encode())
    arrange = sorted if ANY_ORDER else list
    for u, nbrs in g._succ.items():
        for v in arrange(nbrs):
            for k in arrange(nbrs[v]):
                h.update(repr((u, v, k, nbrs[v][k])).encode())
    for v, nbrs in g._pred.items():
        h.update(repr((v, arrange((u, arrange(kd)) for u, kd in nbrs.items()))).encode())
    return h.hexdigest()

def invariants(g):
    if g._adj is not g._succ or list(g._succ) != list(g._node) or list(g._pred) != list(g._node):
        return "adjacency dicts out of step with the nodes"
    for u, nbrs in g._succ.items():
        for v, kd in nbrs.items():
            if g._pred[v][u] is not kd:
                return f"key dict of {u}->{v} not shared"
    ne = sum(len(kd) for nbrs in g._pred.values() for kd in nbrs.values())
    if ne != g.number_of_edges():
        return "edge count"
    h = g.copy()
    if list(h.nodes(data=True)) != list(g.nodes(data=True)) or list(
        h.edges(keys=True, data=True)
    ) != list(g.edges(keys=True, data=True)):
        return "copy differs"
    return "ok"

out = {"__file__": xlalens.__file__}  # which tree this worker read (checked by _run)
for path in sys.argv[1:]:
    text = open(path).read()
    for level in ("raw", "canonical", "path"):
        try:
            if level == "path":
                g = xlalens.load(path)
            else:
                g = xlalens.load(text, level=level)
            out[f"{path}|{level}"] = [digest(g), invariants(g), g.number_of_nodes()]
        except Exception as exc:
            out[f"{path}|{level}"] = [f"{type(exc).__name__}: {exc}", "error", 0]
print(json.dumps(out))
"""


def _default_files(tmp: Path) -> list[str]:
    sys.path.insert(0, str(ROOT / "scripts"))
    from gen_other_hlo import default_cache

    cache = default_cache()
    files = sorted(str(p) for p in cache.glob("*.txt"))
    files += sorted(str(p) for p in cache.glob("*.dump/*.txt") if p.stat().st_size < 200_000)
    data = ROOT / "tests/core/data"
    files += sorted(str(p) for p in data.glob("hlo/*.txt"))
    files += sorted(str(p) for p in data.glob("dumps/*/*/*hlo.txt"))
    for xz in sorted((data / "real").glob("*.txt.xz")):
        p = tmp / xz.name.removesuffix(".xz")
        p.write_bytes(lzma.decompress(xz.read_bytes()))
        files.append(str(p))
    return files


def _run(tree: Path, files: list[str], any_order: bool = False) -> dict[str, list]:
    env = {**os.environ, "PYTHONPATH": str(tree), "JAX_PLATFORMS": "cpu"}
    env["XLALENS_IDENTITY_ANY_ORDER"] = "1" if any_order else "0"
    out: dict[str, list] = {}
    for i in range(0, len(files), 40):  # bounded memory per worker
        proc = subprocess.run(
            # -P: without it, ``python -c`` puts the current folder first on sys.path,
            # ahead of PYTHONPATH, so run from inside a tree it compared that tree
            # with itself.
            [sys.executable, "-P", "-c", _WORKER, *files[i : i + 40]],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        got = json.loads(proc.stdout.strip().splitlines()[-1])
        where = Path(got.pop("__file__")).resolve()
        if not where.is_relative_to(tree.resolve()):
            # Else the check would compare one tree with itself and say IDENTICAL.
            raise SystemExit(f"the worker for {tree} imported xlalens from {where}")
        out.update(got)
    return out


def main(argv: list[str] | None = None) -> int:
    """Digest every module with both trees; print the differences and a one-line verdict."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--old", type=Path, required=True, help="the reference tree (e.g. main)")
    ap.add_argument("--new", type=Path, default=ROOT, help="the tree under test")
    ap.add_argument(
        "--any-adjacency-order",
        action="store_true",
        help="compare each node's successors and producers as sets (for a change that "
        "reorders networkx's adjacency dicts and nothing else)",
    )
    ap.add_argument("files", nargs="*", help="HLO files (default: see the docstring)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="xlalens-identity-") as tmp:
        files = args.files or _default_files(Path(tmp))
        any_order = args.any_adjacency_order
        old, new = _run(args.old, files, any_order), _run(args.new, files, any_order)
    diffs = [k for k in old if old[k][0] != new.get(k, [None])[0]]
    broken = [k for k, v in new.items() if v[1] not in ("ok", "error")]
    errors = sum(1 for v in new.values() if v[1] == "error")
    nodes = sum(v[2] for k, v in new.items() if k.endswith("|raw"))
    for k in diffs[:20]:
        print(f"DIFFERS: {k}\n  old: {old[k][0][:200]}\n  new: {new[k][0][:200]}")
    for k in broken[:20]:
        print(f"INVARIANT: {k}: {new[k][1]}")
    print(
        f"{len(files)} modules x 3 loads (raw text, canonical text, path), {nodes} nodes "
        f"(raw); {errors} loads fail in both trees alike; {len(diffs)} differ; "
        f"{len(broken)} break networkx invariants -> "
        + ("IDENTICAL" if not diffs and not broken else "DIFFERENT")
    )
    return 1 if diffs or broken else 0


if __name__ == "__main__":
    sys.exit(main())
