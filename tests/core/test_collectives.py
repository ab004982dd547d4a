"""Collectives of partitioned HLO: kinds, device groups, bytes per device, mesh axes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.core._real import real_text
from xlalens.cli import main
from xlalens.ir import collective_table, collectives, load, parse_hlo_text, stats
from xlalens.ir._collectives import Mesh, mesh_from_spec

HAND = Path(__file__).parent / "data" / "hlo" / "collectives_by_hand.hlo.txt"

# Worked out by hand from the module's shapes (f32 4 bytes, bf16 2) and the
# ring model of docs/sharding.md; n is the group size, D the operand bytes.
EXPECTED = {
    # node: (kind, n, D, bytes/device, axes)
    "ar": ("all-reduce", 4, 16 * 32 * 4, 2 * 3 * 2048 // 4, ("data", "model")),
    "ag": ("all-gather", 2, 8 * 64 * 2, 1 * 1024, ("model",)),
    "rs": ("reduce-scatter", 4, 2048, 3 * 2048 // 4, ("data",)),
    "a2a": ("all-to-all", 4, 1024, 3 * 1024 // 4, ("data",)),
    "cp": ("collective-permute", 2, 2048, 2048, ("model",)),
    "ar2": ("all-reduce", 8, 2048 + 16, 2 * 7 * 2064 // 8, ("data", "model")),
}


def test_hand_computed_collectives():
    """Each collective of the hand-written module has the kind, groups, bytes and axes worked out by hand."""
    found = {c.node.split("/")[-1]: c for c in collectives(parse_hlo_text(HAND.read_text()))}
    assert set(found) == set(EXPECTED)
    for name, (kind, n, data, sent, axes) in EXPECTED.items():
        c = found[name]
        assert (c.kind, c.group_size, c.operand_bytes, c.bytes_per_device, c.axes) == (
            kind,
            n,
            data,
            sent,
            axes,
        ), name
    assert found["rs"].groups == ((0, 2, 4, 6), (1, 3, 5, 7))
    assert found["ar2"].groups == (tuple(range(8)),)  # replica_groups={}: every device
    assert found["cp"].groups == ((0, 1), (1, 0))


def test_hand_computed_table_sums():
    """The stats collectives table sums bytes per (kind, axes, group size) as worked out by hand."""
    rows = stats(load(str(HAND))).collectives
    by = {(r["kind"], r["axes"], r["group_size"]): r for r in rows}
    assert by[("all-reduce", "data,model", 4)]["bytes_per_device"] == 3072
    assert by[("all-reduce", "data,model", 8)]["bytes_per_device"] == 3612
    assert sum(r["bytes_per_device"] for r in rows) == 3072 + 1024 + 1536 + 768 + 2048 + 3612
    assert sum(r["count"] for r in rows) == 6


def test_explicit_mesh_names_axes():
    """A mesh given by the caller (a dump's manifest) names the axes of list-form groups."""
    text = HAND.read_text().replace(
        "replica_groups=mesh['data'=4,'model'=2] {'data'}", "replica_groups=[2,4]<=[4,2]T(1,0)"
    )
    graph = parse_hlo_text(text)
    assert {c.axes for c in collectives(graph)} == {None}  # the module names no mesh
    mesh = mesh_from_spec({"mesh": [4, 2], "axes": ["batch", "model"]})
    assert mesh == Mesh(("batch", "model"), (4, 2), tuple(range(8)))
    axes = {c.node.split("/")[-1]: c.axes for c in collectives(graph, mesh)}
    assert axes["rs"] == ("batch",) and axes["ag"] == ("model",)


def test_real_sharded_module_collectives_parse():
    """Every collective of the real jax NamedSharding MLP (8 devices) parses into groups that partition the devices."""
    graph = parse_hlo_text(real_text("jax_sharded_mlp.optimized_hlo.txt.xz"))
    found = collectives(graph)
    assert {c.kind for c in found} == {"all-reduce", "all-gather"}
    for c in found:
        devices = sorted(d for g in c.groups for d in g)
        assert devices == list(range(8)), c.node
        assert all(len(g) == c.group_size for g in c.groups)
        assert c.axes in (("axis_0",), ("axis_1",)), c.node
        assert c.operand_bytes > 0 and c.bytes_per_device > 0
    rows = collective_table(found)
    assert sum(r["count"] for r in rows) == len(found)


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_stats_cli_prints_collectives(capsys, fmt):
    """`xlalens stats` prints the collectives table (and --json carries it)."""
    argv = ["stats", str(HAND)] + (["--json"] if fmt == "json" else [])
    assert main(argv) == 0
    out = capsys.readouterr().out
    if fmt == "json":
        rows = json.loads(out)["collectives"]
        assert sum(r["bytes_per_device"] for r in rows) == 12060
    else:
        assert "collectives" in out and "reduce-scatter" in out and "12,060" in out
