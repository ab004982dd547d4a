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
    from xlalens.report import dump_step

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


def _ready(viewer, page):
    """Scroll a card into view and wait until its SVG frame says it is ready; its frame."""
    viewer.scroll_into_view_if_needed()
    page.wait_for_function(
        "el => el.getAttribute('data-ready') === el.getAttribute('data-current')",
        arg=viewer.element_handle(),
        timeout=15000,
    )
    return viewer.locator("iframe.xl-frame").content_frame


def _viewbox(frame) -> list[float]:
    return [float(x) for x in frame.locator(":root").get_attribute("viewBox").split()]


def test_frames_load_only_near_the_viewport(report):
    """On open, only cards near the viewport load their SVG; a far card loads once scrolled to."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        pg = browser.new_page(viewport={"width": 1400, "height": 1000})
        loaded: list[str] = []
        pg.on("request", lambda r: loaded.append(r.url) if r.url.endswith(".svg") else None)
        pg.goto(report.as_uri())
        pg.wait_for_load_state("load")
        frames = pg.locator("iframe.xl-frame")
        total = frames.count()
        # The summary and charts come first; no card is near the viewport yet.
        assert pg.locator("iframe.xl-frame[src]").count() == 0 and not loaded
        pg.evaluate("document.getElementById('graphs').scrollIntoView()")
        pg.wait_for_function("document.querySelectorAll('iframe.xl-frame[src]').length > 0")
        pg.wait_for_timeout(300)
        with_src = pg.locator("iframe.xl-frame[src]").count()
        assert 0 < with_src < total and len(loaded) == with_src
        last = frames.nth(total - 1)
        assert last.get_attribute("src") is None
        last.scroll_into_view_if_needed()
        pg.wait_for_function(
            "f => !!f.getAttribute('src')", arg=last.element_handle(), timeout=5000
        )
        assert last.get_attribute("src") == last.get_attribute("data-src")
        browser.close()


def test_every_svg_is_displayed(page):
    """Each card's SVG file loads in its frame, fills it, and draws nodes."""
    viewers = page.locator(".xl-viewer")
    assert viewers.count() >= 10
    for i in range(viewers.count()):
        v = viewers.nth(i)
        frame = _ready(v, page)
        w, h, nodes = frame.locator(":root").evaluate(
            "s => [s.getBoundingClientRect().width, s.getBoundingClientRect().height, "
            "s.querySelectorAll('g.node').length]"
        )
        assert w > 50 and h > 50 and nodes > 0, v.get_attribute("data-file")


def test_loads_offline_without_console_errors(page, report):
    """After every card loaded: no console error, and no request but file:// ones."""
    viewers = page.locator(".xl-viewer")
    for i in range(viewers.count()):
        _ready(viewers.nth(i), page)
    assert page.errors == []
    assert page.requests, "the route saw no request at all"
    assert all(u.startswith("file://") for u in page.requests), page.requests
    assert page.title().startswith("xlalens report")
    assert report.stat().st_size < 1_000_000


def test_cards_open_fitted_and_legible(page):
    """A card's first view is the whole picture or a legible part of it, never 5 px text."""
    frame = _ready(_large(page), page)
    scale = frame.locator(":root").evaluate(
        "s => { const b = s.viewBox.baseVal, r = s.getBoundingClientRect();"
        " return Math.min(r.width / b.width, r.height / b.height); }"
    )
    assert scale >= 0.5


def test_pan_and_zoom(page):
    """The + button and the wheel zoom in; dragging pans; fit shows everything."""
    viewer = _large(page)
    frame = _ready(viewer, page)
    viewer.locator('[data-act="fit"]').click()
    page.wait_for_timeout(100)
    before = _viewbox(frame)
    viewer.locator('[data-act="in"]').click()
    page.wait_for_timeout(100)
    zoomed = _viewbox(frame)
    assert zoomed[2] < before[2] and zoomed[3] < before[3]
    box = viewer.locator("iframe.xl-frame").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx, cy)
    page.mouse.wheel(0, -200)
    page.wait_for_timeout(100)
    wheeled = _viewbox(frame)
    assert wheeled[2] < zoomed[2]
    page.mouse.move(cx, cy)
    page.mouse.down()
    page.mouse.move(cx + 120, cy + 60, steps=6)
    page.mouse.up()
    panned = _viewbox(frame)
    assert panned[0] < wheeled[0] and panned[1] < wheeled[1]
    assert panned[2] == pytest.approx(wheeled[2])
    viewer.locator('[data-act="fit"]').click()
    page.wait_for_timeout(100)
    assert _viewbox(frame) == pytest.approx(before)


def test_clicking_a_collapsed_group_opens_its_drilldown(page, tmp_path_factory):
    """Clicking a 3-D group box loads its drill-down in the card; back returns."""
    viewer = _large(page)
    frame = _ready(viewer, page)
    first = viewer.get_attribute("data-current")
    group = frame.locator("g.xl-group").first
    assert group.count() == 1
    group.click()
    page.wait_for_function(
        "([el, f]) => el.getAttribute('data-current') !== f && "
        "el.getAttribute('data-ready') === el.getAttribute('data-current')",
        arg=[viewer.element_handle(), first],
        timeout=15000,
    )
    current = viewer.get_attribute("data-current")
    assert current.startswith("svg/large.optimized_hlo.raw.")
    frame = viewer.locator("iframe.xl-frame").content_frame
    assert frame.locator("g.node").count() > 1
    assert viewer.locator('[data-act="back"]').is_enabled()
    assert "›" in viewer.locator(".xl-crumbs").inner_text()
    page.screenshot(path=str(tmp_path_factory.getbasetemp() / "drilldown.png"))
    viewer.locator('[data-act="back"]').click()
    frame = _ready(viewer, page)
    assert viewer.get_attribute("data-current") == first
    assert page.errors == []


def test_search_finds_a_deep_node_and_opens_its_view(page):
    """Typing a node name in the search box lists it; choosing it opens the view that draws it."""
    import json as _json

    folder = Path(page.url[len("file://") :]).parent
    text = (folder / "svg" / "index.js").read_text()
    idx = _json.loads(text[len("window.xlalensIndex = ") :].rstrip().rstrip(";"))
    # rows are stored compactly: "" for a name equal to the id's last part, file by index
    for r in idx["rows"]:
        r[2] = r[2] or r[1].rsplit("/", 1)[-1]
        r[5] = idx["files"][r[5]]
    card = idx["cards"].index("large · optimized_hlo.raw")
    # a node drawn in a drill-down, not in the overview
    row = next(
        r
        for r in idx["rows"]
        if r[0] == card and r[5] != "large.optimized_hlo.raw.svg" and r[3] == "dot"
    )
    box = page.locator("#xl-search")
    box.fill(row[2])
    page.wait_for_selector("#xl-hits .xl-hit", timeout=10000)
    hit = page.locator("#xl-hits .xl-hit", has_text=row[2]).first
    hit.click()
    viewer = page.locator(f"#card-{card}")
    page.wait_for_function(
        "([el, f]) => el.getAttribute('data-current') === f && el.getAttribute('data-ready') === f",
        arg=[viewer.element_handle(), "svg/" + row[5]],
        timeout=15000,
    )
    frame = viewer.locator("iframe.xl-frame").content_frame
    assert frame.locator(".xl-found").count() == 1
    assert page.errors == []


def test_diff_hover_highlights_the_partner(page):
    """Hovering a matched node in a diff lights up its partner on the other side."""
    diff = page.locator('.xl-viewer[data-file^="svg/diff."]').first
    frame = _ready(diff, page)
    diff.locator('[data-act="fit"]').click()  # the first view may not show both partners
    page.wait_for_timeout(200)
    node = frame.locator("g.node[class*='xl-pair-']").first
    cls = next(c for c in node.get_attribute("class").split() if c.startswith("xl-pair-"))
    node.hover(force=True)
    lit = frame.locator(f"g.{cls}.xl-hl")
    assert lit.count() == 2


def _deferred_view(page) -> tuple[Path, str]:
    """(dump folder, a written view of the large graph that links to a view the dump deferred)."""
    folder = Path(page.url[len("file://") :]).parent
    meta = json.loads((folder / "svg" / "large.optimized_hlo.raw.views.json").read_text())
    assert meta["deferred"], "the large graph's kernels' bodies are deferred"
    name = next(v for v in meta["views"] if "xl&#45;deferred" in (folder / "svg" / v).read_text())
    return folder, name


def test_a_deferred_view_says_how_to_draw_it_where_clicked(page):
    """Clicking a kernel whose body the dump did not draw shows, over the view, the command that draws it."""
    folder, name = _deferred_view(page)
    viewer = _large(page)
    _ready(viewer, page)
    viewer.evaluate(
        "(el, f) => window.xlalensViewers.find(v => v.root === el).load(f, 'x')", "svg/" + name
    )
    frame = _ready(viewer, page)
    before = viewer.get_attribute("data-current")
    frame.locator("g.xl-deferred a").first.dispatch_event("click")
    note = viewer.locator(".xl-stage .xl-missing")
    note.wait_for(state="visible", timeout=5000)
    text = note.inner_text()
    assert f"xlalens render {folder} --all-views" in text and "not drawn" in text
    # the note covers the top of the view, and the view stays where it was
    nb, fb = note.bounding_box(), viewer.locator("iframe.xl-frame").bounding_box()
    assert fb["y"] <= nb["y"] < fb["y"] + 100
    assert viewer.get_attribute("data-current") == before
    note.locator("p").first.click()
    assert note.is_hidden()
    assert page.errors == []


def test_a_deferred_view_opened_standalone_says_how_to_draw_it(page, tmp_path_factory):
    """The same SVG opened on its own draws the command over itself instead of following a dead link."""
    folder, name = _deferred_view(page)
    pg = page.context.browser.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto((folder / "svg" / name).as_uri())
    pg.locator("g.xl-deferred a").first.dispatch_event("click")
    banner = pg.locator("#xl-later")
    banner.wait_for(state="attached", timeout=5000)
    assert f"xlalens render {folder} --all-views" in banner.text_content()
    assert pg.url.endswith(name) and errors == []
    pg.close()


def test_a_large_view_opened_standalone_is_fitted_with_its_legend(report, page):
    """The large overview opened alone shows the whole picture, legend in the window (in a card it zooms)."""
    svg = report.parent / "svg" / "large.optimized_hlo.raw.svg"
    pg = page.context.browser.new_page(viewport={"width": 1000, "height": 700})
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(svg.as_uri())
    root = pg.locator(":root")
    shown = [float(x) for x in root.get_attribute("viewBox").split()]
    legend = pg.locator("g.xl-legend").first.bounding_box()
    assert legend is not None and 0 <= legend["x"] and legend["x"] + legend["width"] <= 1000
    assert 0 <= legend["y"] and legend["y"] + legend["height"] <= 700
    # the first view is the whole picture (fitted), not a window into it
    whole = pg.locator("g.graph").first.bounding_box()
    assert whole["x"] >= -1 and whole["x"] + whole["width"] <= 1001
    assert whole["y"] >= -1 and whole["y"] + whole["height"] <= 701
    assert len(shown) == 4
    assert errors == []
    pg.close()
