"""The link model of sharded steps (xlalens.ir._linkmodel) on hand-computed cases, and its flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from xlalens._errors import UsageError
from xlalens.cli import main
from xlalens.ir import collectives, parse_hlo_text
from xlalens.ir._collectives import Mesh
from xlalens.spmd import LINKS, collective_seconds, link, predict, ring_steps

HAND = Path(__file__).parent / "data" / "hlo" / "collectives_by_hand.hlo.txt"
MESH = Mesh(("data", "model"), (4, 2), tuple(range(8)))
BW = 100e9  # --link-bandwidth 100
ALPHA = LINKS["nvlink-h100"].latency_s


def _items():
    return collectives(parse_hlo_text(HAND.read_text()), MESH)


def test_ring_steps_by_kind():
    """Ring steps: 2(n-1) for all-reduce, n-1 for gather/scatter/all-to-all, 1 for a permute, 0 alone."""
    assert ring_steps("all-reduce", 4) == 6
    assert ring_steps("all-gather", 4) == 3
    assert ring_steps("reduce-scatter", 8) == 7
    assert ring_steps("collective-permute", 2) == 1
    assert ring_steps("all-reduce", 1) == 0


def test_one_collective_by_hand():
    """A 1 MB all-reduce over 4 devices at 100 GB/s: 1.5 MB sent, 15 us plus 6 latency steps."""
    t = collective_seconds("all-reduce", 4, 1.5e6, link("nvlink-h100", 100))
    assert t == pytest.approx(1.5e6 / BW + 6 * ALPHA)
    assert collective_seconds("all-reduce", 1, 1e9, link()) == 0.0


def test_module_at_its_mesh_by_hand():
    """Every collective of the hand-written 4x2 module, priced at its own mesh, sums as worked out by hand."""
    p = predict(_items(), link("nvlink-h100", 100), devices=8, axes=MESH.axes)
    # bytes/device from tests/core/test_collectives.py; steps: ar 6, ag 1, rs 3, a2a 3, cp 1, ar2 14
    sent = 3072 + 1024 + 1536 + 768 + 2048 + 3612
    assert p.bytes_per_device == sent
    assert p.seconds == pytest.approx(sent / BW + 28 * ALPHA)
    per = {node.split("/")[-1]: s for node, s in p.per_collective}
    assert per["ar"] == pytest.approx(3072 / BW + 6 * ALPHA)


def test_extrapolation_grows_the_data_axis_by_hand():
    """8 -> 64 devices: groups spanning 'data' grow 8x at fixed logical size; 'model' and permutes do not."""
    p = predict(_items(), link("nvlink-h100", 100), devices=8, target=64, axes=MESH.axes)
    per = {node.split("/")[-1]: s for node, s in p.per_collective}
    # ar: n 4 -> 32, D 2048: 2*31/32*2048 = 3968 bytes, 62 steps
    assert per["ar"] == pytest.approx(3968 / BW + 62 * ALPHA)
    assert per["ag"] == pytest.approx(1024 / BW + 1 * ALPHA)  # spans 'model' only
    assert per["rs"] == pytest.approx(1984 / BW + 31 * ALPHA)  # 31/32 * 2048
    assert per["cp"] == pytest.approx(2048 / BW + 1 * ALPHA)
    assert per["ar2"] == pytest.approx(4064 / BW + 126 * ALPHA)  # 2*63/64 * 2064 = 4063.5
    assert p.devices == 64


def test_all_gather_keeps_its_result_size():
    """An all-gather's fixed size is its result (n shards): 2 -> 16 devices sends 15/16 of 2048 B."""
    ag = [c for c in _items() if c.kind == "all-gather"]
    p = predict(ag, link("nvlink-h100", 100), devices=2, target=16, axes=("model",))
    assert p.bytes_per_device == pytest.approx(15 * 2048 / 16)
    assert p.seconds == pytest.approx(1920 / BW + 15 * ALPHA)


@pytest.mark.parametrize("bad", ["0", "-5", "abc", "nan", "inf", ""])
def test_bad_link_bandwidth_is_refused(bad):
    """--link-bandwidth that is not a positive finite number of GB/s raises UsageError naming the flag."""
    with pytest.raises(UsageError, match="--link-bandwidth"):
        link("nvlink-h100", bad)


def test_bad_link_bandwidth_cli_exits_2_with_one_line(tmp_path, capsys):
    """`xlalens time DIR --link-bandwidth fast`: exit 2 and one line on stderr, before any work."""
    assert main(["time", str(tmp_path), "--link-bandwidth", "fast"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--link-bandwidth" in err[0] and "GB/s" in err[0]
    assert main(["time", str(tmp_path), "--link", "infiniband"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nvlink-h100" in err[0]
