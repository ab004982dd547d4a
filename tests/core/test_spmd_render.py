"""SVGs of sharded modules: collectives in their kind's colour, per-device shapes on edges."""

from __future__ import annotations

from pathlib import Path

import pytest

from xlalens.ir import load
from xlalens.ir._collectives import Mesh, annotate
from xlalens.render import _style

DATA = Path(__file__).parent / "data" / "spmd"
MESH = Mesh(("data", "model"), (4, 2), tuple(range(8)))

pytestmark = pytest.mark.skipif(
    not __import__("shutil").which("dot"), reason="graphviz dot not installed"
)


def _svg(g) -> str:
    import xlalens

    return xlalens.render(g, collapse="none")


def test_collective_colour_and_legend():
    """The partitioned dp step draws its all-reduce in the all-reduce colour, with a legend row."""
    g = annotate(load(DATA / "jax_mlp_dp.optimized_hlo.txt"), MESH)
    svg = _svg(g)
    colour = _style.COLLECTIVE_KINDS["all-reduce"][0]
    assert f'fill="{colour}"' in svg
    assert svg.count(f'fill="{colour}"') >= 2  # the node and its legend swatch
    assert "partitioned for 8 devices on mesh 4x2 (data,model)" in svg
    assert "collective: all&#45;reduce over data (group 4), 1,932 B/device" in svg


def test_per_device_edge_labels():
    """The pre-partitioning dp HLO labels x's and y's edges with their per-device shape."""
    svg = _svg(load(DATA / "jax_mlp_dp.hlo.txt"))
    assert "f32[4,1] · [1,1]/dev" in svg
    assert "per&#45;device shape B" in svg  # the legend line that explains it
    plain = _svg(load(DATA / "jax_mlp_one.hlo.txt"))
    assert "/dev" not in plain


def test_style_functions():
    """Each collective kind has its own colour; -start/-done halves share it."""
    colours = {c for c, _ in _style.COLLECTIVE_KINDS.values()}
    assert len(colours) == len(_style.COLLECTIVE_KINDS)
    assert not colours & {c for c, _ in _style.CATEGORIES.values()}
    assert _style.node_fill({"op": "all-gather-start"}) == _style.COLLECTIVE_KINDS["all-gather"][0]
    assert _style.node_fill({"op": "add"}) == _style.fill("add")
    assert _style.per_device_label("f32[8]", {"shape": (8,), "device_shape": (8,)}) == "f32[8]"
