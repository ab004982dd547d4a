"""A JAX zoo program (examples/zoo/equinox_mlp.py) through the public path: dump, target path, locations."""

import json
import os
from pathlib import Path

import pytest

from xlalens.cli import main
from xlalens.ir import load

REPO = Path(__file__).resolve().parents[2]
ZOO = REPO / "examples" / "zoo"

pytest.importorskip("equinox")


def test_equinox_zoo_step_dumps_from_a_relative_target(tmp_path, monkeypatch):
    """equinox_mlp: captured and proven; the target is stored absolute; no op points at xlalens."""
    monkeypatch.chdir(REPO)
    out = tmp_path / "eqx"
    rc = main(
        [
            "dump",
            "--frameworks",
            "jax",
            "--target",
            "examples/zoo/equinox_mlp.py:make_step",
            "-o",
            str(out),
        ]
    )
    assert rc == 0
    manifest = json.loads((out / "manifest.json").read_text())
    target = manifest["workload"]["target"]
    assert target == f"{ZOO / 'equinox_mlp.py'}:make_step" and os.path.isabs(target)
    entry = manifest["frontends"]["jax"]
    assert entry["status"] == "ok" and entry["proof"]["replay"]["ok"]
    roles = [s["role"] for s in entry["signature"]["inputs"]]
    assert "params.layers[0].weight" in roles and "opt_state[0].mu.layers[0].weight" in roles
    g = load(out / "jax" / "stablehlo.mlir")
    files = [d["source_file"] for _, d in g.nodes(data=True) if d["source_file"]]
    assert files and not any("/xlalens/" in f for f in files)
    assert any(f.endswith("equinox/nn/_linear.py") for f in files)
