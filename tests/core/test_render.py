"""Rendering single graphs: categories, labels, clusters, determinism, budgets, modes, CLI."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

import xlalens.ir as ir
from xlalens._errors import UsageError
from xlalens.cli import main
from xlalens.render import (
    GraphvizNotFound,
    category,
    render,
    render_views,
    write_svgs,
)
from xlalens.render._view import split_scope

HERE = Path(__file__).parent
HLO = HERE / "data" / "hlo"
sys.path.insert(0, str(HERE))
from _render_workloads import scoped_transformer_hlo  # noqa: E402

TITLE = re.compile(r'<g id="(?:node\d+|n:[^"]*)" class="([^"]*)">\s*<title>([^<]*)</title>')


def _nodes(svg: str) -> list[tuple[str, str]]:
    """(class, DOT node name) of every drawn node, entities decoded."""
    out = []
    for cls, name in TITLE.findall(svg):
        out.append((cls.replace("&#45;", "-"), name.replace("&#45;", "-").replace("&amp;", "&")))
    return out


@pytest.fixture(scope="module")
def small():
    """The JAX regression step's optimized HLO (fusions, a reducer, parameters)."""
    return ir.load(str(HLO / "jax_regression.optimized_hlo.txt"))


@pytest.fixture(scope="module")
def large():
    """A 6-layer scoped transformer step: ~4,700 optimized instructions."""
    return ir.parse_hlo_text(scoped_transformer_hlo(6, d=32))


def test_categories():
    """Ops map to the issue's colour categories; the unknown is 'other'."""
    assert category("parameter") == "parameter"
    assert category("dot") == category("convolution") == "dot"
    assert category("reduce") == "reduction"
    assert {category(o) for o in ("reshape", "transpose", "broadcast", "slice", "concatenate")} == {
        "movement"
    }
    assert category("while") == "control"
    assert category("all-reduce") == "collective"
    assert category("custom-call") == "custom-call"
    assert category("fusion") == "fusion"
    assert category("multiply") == "elementwise"
    assert category("some-new-op") == "other"


def test_split_scope_respects_parentheses():
    """op_name splits at '/' outside parentheses only."""
    assert split_scope("jit(f)/transpose(jvp(a/b))/mul") == ["jit(f)", "transpose(jvp(a/b))", "mul"]
    assert split_scope("") == []


def test_small_graph_draws_every_op_with_labels_legend_and_clusters(small):
    """A small module is drawn whole: each op once, fusion bodies as clusters, a legend."""
    svg = render(small)
    assert svg.startswith("<?xml") and "</svg>" in svg
    drawn = {name for _, name in _nodes(svg) if name.startswith("op:")}
    reducers = {c for c, info in small.graph["computations"].items() if info["kind"] == "reducer"}
    # An expanded fusion is drawn as the cluster of its body, not as a node.
    expected = {
        f"op:{n}"
        for n, d in small.nodes(data=True)
        if d["computation"] not in reducers and d["op"] != "fusion"
    }
    assert drawn == expected
    for _, d in small.nodes(data=True):
        if d["op"] == "fusion":
            assert f"{d['name']} (fusion" in svg
    assert "op category" in svg  # the legend is part of the picture
    assert "fusion (kernel)" in svg
    assert 'class="cluster xl&#45;cluster xl&#45;kernel&#45;cluster"' in svg
    # labels carry op and shape; tooltips carry source locations
    some = next(n for n, d in small.nodes(data=True) if d["op"] == "fusion")
    assert small.nodes[some]["name"] in svg
    assert "f32[" in svg
    with_loc = [d for _, d in small.nodes(data=True) if d["source_file"]]
    if with_loc:
        assert "source: " in svg


@pytest.fixture(scope="module")
def large_views(large):
    """The large module rendered once with a 150-node budget."""
    return render_views(large, budget=150, stem="t")


def test_output_is_deterministic(small, large, large_views):
    """The same graph gives byte-identical SVGs, drill-downs included."""
    assert render(small) == render(small)
    b = render_views(large, budget=150, stem="t")
    assert list(large_views.svgs) == list(b.svgs)
    assert all(large_views.svgs[k] == b.svgs[k] for k in b.svgs)


def test_large_module_honours_budget_and_every_op_is_drawn_once(large, large_views):
    """Each SVG stays within the budget; each drawable op appears expanded in exactly one SVG."""
    budget = 150
    r = large_views
    assert len(r.svgs) > 3
    assert max(r.drawn.values()) <= budget
    seen: dict[str, int] = {}
    for svg in r.svgs.values():
        # Connectors of cut long edges (cut:), outside stubs (ext:), the legend and
        # the back link (xl:) are small helpers, not graph content.
        content = [n for _, n in _nodes(svg) if not n.startswith(("cut:", "ext:", "xl:"))]
        assert len(content) <= budget
        for cls, name in _nodes(svg):
            if name.startswith("op:") and "xl-group" not in cls:
                seen[name] = seen.get(name, 0) + 1
    reducers = {c for c, info in large.graph["computations"].items() if info["kind"] == "reducer"}
    drawable = {
        f"op:{n}"
        for n, d in large.nodes(data=True)
        if d["computation"] not in reducers and d["op"] != "fusion"
    }
    assert set(seen) == drawable
    assert set(seen.values()) == {1}


def test_drilldown_links_resolve_and_scopes_are_collapsed(large_views):
    """Every link in every SVG names a drill-down that exists; layers are collapsed groups."""
    r = large_views
    for name, svg in r.svgs.items():
        for href in re.findall(r'xlink:href="([^"]+)"', svg):
            assert href in r.svgs, (name, href)
    overview = r.svgs[r.overview]
    groups = [n for c, n in _nodes(overview) if "xl-group" in c]
    assert groups
    assert any("layer" in n for n in groups) or any("layer" in r.titles[f] for f in r.svgs)
    assert all(r.parents[f] in r.svgs for f in r.parents)


def test_collapse_modes(small, large):
    """kernel keeps every fusion collapsed; none draws everything in one SVG; bad values are refused."""
    k = render_views(small, collapse="kernel", stem="k")
    fusions = [n for n, d in small.nodes(data=True) if d["op"] == "fusion"]
    kernels = [n for c, n in _nodes(k.svgs[k.overview]) if "xl-kernel" in c]
    assert sorted(kernels) == sorted(f"op:{n}" for n in fusions)
    assert len(k.svgs) == 1 + len(fusions)
    none = render_views(small, collapse="none", stem="n")
    assert len(none.svgs) == 1
    s = render_views(large, collapse="scope", budget=150, stem="s")
    assert max(s.drawn.values()) <= 150
    with pytest.raises(UsageError, match="collapse"):
        render(small, collapse="everything")
    with pytest.raises(UsageError, match="budget"):
        render(small, budget=1)
    with pytest.raises(UsageError, match="level"):
        render(small, level="canonical")


def test_write_svgs_writes_overview_and_drilldowns(small, tmp_path):
    """write_svgs puts the overview at OUT and the drill-downs beside it."""
    out = tmp_path / "sub" / "big.svg"
    r = write_svgs(small, out, budget=20)
    assert len(r.svgs) > 1
    assert out.is_file()
    written = sorted(p.name for p in out.parent.glob("*.svg"))
    assert written == sorted(r.svgs)
    assert all(n.startswith("big.") for n in written)


def test_heat_view_labels_kernel_times(small):
    """Kernel times set by xlalens.timing.annotate appear in the kernel's label."""
    g = small.copy()
    fusion = next(n for n, d in g.nodes(data=True) if d["op"] == "fusion")
    g.nodes[fusion]["attrs"] = {**g.nodes[fusion]["attrs"], "time_s": 4.2e-6, "time_share": 0.375}
    svg = render(g, collapse="kernel")
    assert "37.5% · 4.2 µs" in svg


def test_dot_missing_says_how_to_install(small, monkeypatch, tmp_path, capsys):
    """No dot: GraphvizNotFound naming apt-get; the CLI prints one line and exits 2."""
    monkeypatch.setenv("XLALENS_DOT", str(tmp_path / "no-dot"))
    with pytest.raises(GraphvizNotFound, match="apt-get install graphviz"):
        render(small)
    rc = main(
        ["render", str(HLO / "jax_regression.optimized_hlo.txt"), "-o", str(tmp_path / "x.svg")]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2
    assert len(err) == 1 and "apt-get install graphviz" in err[0]


def test_cli_render_file_and_diff(tmp_path, capsys):
    """`xlalens render FILE -o OUT.svg` and `--diff OTHER` write SVGs."""
    out = tmp_path / "g.svg"
    assert (
        main(["render", str(HLO / "jax_mlp.hlo.txt"), "-o", str(out), "--level", "canonical"]) == 0
    )
    assert out.read_text().startswith("<?xml")
    d = tmp_path / "d.svg"
    rc = main(
        [
            "render",
            str(HLO / "jax_regression.hlo.txt"),
            "--diff",
            str(HLO / "jax_mlp.hlo.txt"),
            "-o",
            str(d),
        ]
    )
    assert rc == 0
    assert "diff status" in d.read_text()
    rc = main(["render", str(HLO / "jax_mlp.hlo.txt"), "-o", str(tmp_path / "x.png")])
    assert rc == 2
    assert "OUT.svg" in capsys.readouterr().err
