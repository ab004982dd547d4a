"""The HTML report in a real browser: Debian's chromium, headless, driven by playwright."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[1]
REGRESSION = ROOT / "core" / "data" / "dumps" / "regression"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """report.html of the regression dump plus a 4-layer transformer (collapsed into groups)."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (make setup installs it)")
    if not (REGRESSION / "manifest.json").is_file():
        pytest.skip("tests/core/data/dumps/regression is not checked in yet")
    pytest.importorskip("playwright.sync_api")
    import xlalens.ir as ir
    from xlalens.diff import dump_step as diff_dump_step
    from xlalens.render import dump_step

    sys.path.insert(0, str(ROOT / "core"))
    from _render_workloads import scoped_transformer_hlo

    folder = tmp_path_factory.mktemp("report") / "dump"
    shutil.copytree(REGRESSION, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    ir.dump_step(folder, manifest)
    diff_dump_step(folder, manifest)
    # A large module, listed like a frontend's graph, so that collapse happens.
    big = ir.parse_hlo_text(scoped_transformer_hlo(4, d=32))
    (folder / "large" / "graphs").mkdir(parents=True)
    (folder / "large" / "graphs" / "optimized_hlo.raw.json").write_text(ir.to_json(big))
    manifest["frontends"]["large"] = {
        "status": "ok",
        "artifacts": {"graphs": {"optimized_hlo.raw": "large/graphs/optimized_hlo.raw.json"}},
        "op_counts": {"optimized_hlo": big.number_of_nodes()},
    }
    dump_step(folder, manifest)
    return folder / "report.html"


@pytest.fixture(scope="module")
def page(report, tmp_path_factory):
    """A loaded page, with the console errors and every request it tried."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        pg = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors: list[str] = []
        requests: list[str] = []
        pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        pg.on("pageerror", lambda e: errors.append(str(e)))

        def route(r):
            requests.append(r.request.url)
            if r.request.url.startswith("file://"):
                r.continue_()
            else:
                r.abort()

        pg.route("**/*", route)
        pg.goto(report.as_uri())
        pg.wait_for_load_state("load")
        pg.errors, pg.requests = errors, requests
        yield pg
        shot = tmp_path_factory.getbasetemp() / "report.png"
        pg.screenshot(path=str(shot))
        browser.close()


def _large(page):
    return page.locator('.xl-viewer[data-file="svg/large.optimized_hlo.raw.svg"]')


def _viewbox(viewer) -> list[float]:
    return [float(x) for x in viewer.locator(".xl-canvas > svg").get_attribute("viewBox").split()]


def test_loads_offline_without_console_errors(page, report):
    """No console error, and no request but the file itself (no CDN, nothing leaves the page)."""
    assert page.errors == []
    assert page.requests, "the route saw no request at all"
    assert all(u.startswith("file://") for u in page.requests), page.requests
    assert page.title().startswith("xlalens report")


def test_every_svg_is_displayed(page):
    """Each graph and diff SVG in the page has a non-zero bounding box and drawn nodes."""
    boxes = page.evaluate(
        """() => Array.from(document.querySelectorAll('.xl-canvas > svg')).map(s => {
            const r = s.getBoundingClientRect();
            const vis = getComputedStyle(s).visibility !== 'hidden' && s.checkVisibility();
            return [s.closest('.xl-viewer').dataset.file, r.width, r.height,
                    s.querySelectorAll('g.node').length, vis];
        })"""
    )
    assert len(boxes) >= 10
    expected = page.locator(".xl-viewer").count()
    assert len(boxes) == expected
    for file, w, h, nodes, visible in boxes:
        assert w > 50 and h > 50 and nodes > 0 and visible, file


def test_pan_and_zoom(page):
    """The + button and the wheel zoom in; dragging pans."""
    viewer = _large(page)
    viewer.scroll_into_view_if_needed()
    viewer.locator('[data-act="fit"]').click()
    before = _viewbox(viewer)
    viewer.locator('[data-act="in"]').click()
    zoomed = _viewbox(viewer)
    assert zoomed[2] < before[2] and zoomed[3] < before[3]
    canvas = viewer.locator(".xl-canvas")
    box = canvas.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx, cy)
    page.mouse.wheel(0, -200)
    page.wait_for_timeout(50)
    wheeled = _viewbox(viewer)
    assert wheeled[2] < zoomed[2]
    page.mouse.move(cx, cy)
    page.mouse.down()
    page.mouse.move(cx + 120, cy + 60, steps=6)
    page.mouse.up()
    panned = _viewbox(viewer)
    assert panned[0] < wheeled[0] and panned[1] < wheeled[1]
    assert panned[2] == pytest.approx(wheeled[2])
    viewer.locator('[data-act="fit"]').click()
    assert _viewbox(viewer) == pytest.approx(before)


def test_clicking_a_collapsed_group_opens_its_drilldown(page, tmp_path_factory):
    """Clicking a 3-D group box replaces the view by its drill-down; back returns."""
    viewer = _large(page)
    viewer.scroll_into_view_if_needed()
    viewer.locator('[data-act="fit"]').click()
    first = viewer.get_attribute("data-current")
    group = viewer.locator(".xl-canvas g.xl-group").first
    assert group.count() == 1
    group.click()
    current = viewer.get_attribute("data-current")
    assert current != first and current.startswith("svg/large.optimized_hlo.raw.")
    assert viewer.locator(".xl-canvas > svg g.node").count() > 1
    assert viewer.locator('[data-act="back"]').is_enabled()
    assert "›" in viewer.locator(".xl-crumbs").inner_text()
    box = viewer.locator(".xl-canvas > svg").bounding_box()
    assert box and box["width"] > 50
    page.screenshot(path=str(tmp_path_factory.getbasetemp() / "drilldown.png"))
    viewer.locator('[data-act="back"]').click()
    assert viewer.get_attribute("data-current") == first
    assert page.errors == []


def test_diff_hover_highlights_the_partner(page):
    """Hovering a matched node in a diff lights up its partner on the other side."""
    diff = page.locator('.xl-viewer[data-file^="svg/diff."]').first
    diff.scroll_into_view_if_needed()
    node = diff.locator(".xl-canvas g.node[class*='xl-pair-']").first
    cls = next(c for c in node.get_attribute("class").split() if c.startswith("xl-pair-"))
    node.hover(force=True)
    lit = diff.locator(f"g.{cls}.xl-hl")
    assert lit.count() == 2
