"""Every built page, as readers meet it: accessible (axe-core) on a phone and a desktop in light
and dark, no sideways scrolling at 320 px, charts with JavaScript off, reachable by keyboard,
printable, quiet (no console errors, nothing fetched off 127.0.0.1), shareable (social tags
whose image exists) and light (at most 100 KB gzip fetched before the reader does anything).

Pages come from the source files (tests/conftest.site_pages), checked against the built sitemap,
so a new page is covered without being listed here."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.conftest import READER_MODES, open_page, site_pages

pytestmark = pytest.mark.browser

PAGES = site_pages()
# A table's scroll box (scripts/table_wrap.py; Material's own box inside it, once its script has
# started, does not scroll) or a notebook's output cell.
SCROLL_BOXES = (
    ".md-typeset__scrollwrap:not(.md-typeset__table > *), .jupyter-wrapper .jp-RenderedHTML"
)


def _html_path(site: Path, path: str) -> Path:
    return site / path / "index.html"


def test_the_pages_tested_are_the_pages_built(built_site, server):
    tree = ET.parse(built_site / "sitemap.xml")
    locs = [el.text for el in tree.iter() if el.tag.endswith("loc")]
    built = sorted(loc.removeprefix(server) for loc in locs)
    assert built == sorted(PAGES)


def read_to_the_end(page) -> None:
    """Scroll down the page a screen at a time, as a reader does, then back to the top.

    Long blocks are drawn only as the reader nears them (content-visibility: auto), and until a
    block has been drawn once the browser reserves a guessed height for it. axe-core reads the
    geometry of the whole page at once, laying such blocks out inside their guessed boxes, so it
    finds text overlapping text that no reader ever sees together, and misjudges its background.
    Once every block has been drawn, and every transition the scrolling set off has ended, the
    page is the one a reader meets.
    """
    page.evaluate(
        """async () => {
          const drawn = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r)));
          for (let y = 0; y < document.documentElement.scrollHeight; y += innerHeight) {
            scrollTo({ top: y, behavior: "instant" });
            await drawn();
          }
          scrollTo({ top: 0, behavior: "instant" });
          await drawn();
          // Back at the top, Material's header fades the site's name in again: wait until it
          // has, or axe measures the name's contrast half-faded.
          await Promise.all(document.getAnimations().map((a) => a.finished.catch(() => {})));
        }"""
    )


@pytest.fixture(scope="module")
def axe():
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


@pytest.mark.parametrize(
    ("width", "scheme"), READER_MODES, ids=[f"{w}-{s}" for w, s in READER_MODES]
)
@pytest.mark.parametrize("path", PAGES)
def test_axe_finds_no_violations(browser, server, axe, path, width, scheme):
    context, w = open_page(browser, server, path, width, scheme)
    try:
        page = w.page
        page.wait_for_load_state("load")
        wanted = "slate" if scheme == "dark" else "default"
        assert page.evaluate("document.body.dataset.mdColorScheme") == wanted
        read_to_the_end(page)
        results = axe.run(page)
        report = [
            f"{v['id']} ({v['impact']}): {v['help']}: "
            + "; ".join(n["target"][0] if n["target"] else "?" for n in v["nodes"][:5])
            for v in results.response["violations"]
        ]
        assert not report, "\n".join(report)
    finally:
        context.close()


@pytest.mark.parametrize("path", PAGES)
def test_every_block_that_scrolls_is_a_keyboard_stop_before_material_starts(
    browser, server, axe, path
):
    # Material's script, which makes wide code blocks focusable, starts on the first
    # interaction; before it, a keyboard reader could not scroll a wide code block on a phone.
    context, w = open_page(browser, server, path, 375)
    try:
        page = w.page
        page.wait_for_load_state("load")
        page.evaluate("() => new Promise((done) => requestAnimationFrame(() => setTimeout(done)))")
        assert page.evaluate("() => typeof document$") == "undefined", "Material has started"
        only = {"runOnly": {"type": "rule", "values": ["scrollable-region-focusable"]}}
        found = axe.run(page, options=only).response["violations"]
        assert not found, [n["target"] for v in found for n in v["nodes"]][:5]
    finally:
        context.close()


@pytest.mark.parametrize("path", PAGES)
def test_no_horizontal_scrolling_at_320px(browser, server, path):
    context, w = open_page(browser, server, path, 320)
    try:
        page = w.page
        page.wait_for_load_state("load")
        wide = page.evaluate(
            """() => {
              const limit = document.documentElement.clientWidth;
              const scrolls = '.md-typeset__scrollwrap, .chart__table, pre, .jp-OutputArea';
              const out = [...document.querySelectorAll('.md-content *')]
                .filter(el => el.getBoundingClientRect().right > limit + 1 &&
                              !el.closest(scrolls))
                .slice(0, 5).map(el => el.tagName + '.' + el.className);
              return {scroll: document.documentElement.scrollWidth, limit, out};
            }"""
        )
        assert wide["scroll"] <= wide["limit"], wide
        assert not wide["out"], wide
    finally:
        context.close()


@pytest.mark.parametrize("path", PAGES)
def test_a_table_wider_than_a_phone_scrolls_from_the_keyboard(browser, server, path):
    context, w = open_page(browser, server, path, 320)
    try:
        page = w.page
        page.wait_for_load_state("load")
        page.wait_for_timeout(100)  # tables.js looks one frame after Material wraps tables
        boxes = page.locator(SCROLL_BOXES)
        wide = [
            i
            for i in range(boxes.count())
            if boxes.nth(i).evaluate(
                "b => b.checkVisibility() && !!b.querySelector('table')"
                " && b.scrollWidth > b.clientWidth + 1"
            )
        ]
        if not wide:
            pytest.skip("no table here is wider than 320 px")
        names = [boxes.nth(i).get_attribute("aria-label") for i in wide]
        assert all(names) and len(set(names)) == len(names), names
        box = boxes.nth(wide[0])
        box.focus()
        assert box.evaluate("b => b === document.activeElement")
        page.keyboard.press("ArrowRight")
        page.wait_for_function("b => b.scrollLeft > 0", arg=box.element_handle())
    finally:
        context.close()


@pytest.mark.parametrize("path", ["data/", "sources/", "methodology/"])
def test_a_table_that_fits_is_no_tab_stop_once_the_reader_reaches_it(browser, server, path):
    # Tables in blocks drawn late are Tab stops until drawn; drawn, only those that scroll stay.
    context, w = open_page(browser, server, path, 1280)
    try:
        page = w.page
        page.wait_for_load_state("load")
        wrong = page.evaluate(
            """async (sel) => {
              const drawn = () =>
                new Promise((r) => requestAnimationFrame(() => setTimeout(r, 50)));
              const wrong = new Set();
              for (let y = 0; y < document.documentElement.scrollHeight; y += innerHeight / 2) {
                scrollTo({ top: y, behavior: "instant" });
                await drawn();
                for (const box of document.querySelectorAll(sel)) {
                  const table = box.querySelector("table");
                  if (!table || !table.checkVisibility({ contentVisibilityAuto: true })) continue;
                  const r = box.getBoundingClientRect();
                  if (r.bottom < 0 || r.top > innerHeight) continue;
                  const wide = box.scrollWidth > box.clientWidth + 1;
                  if (wide !== (box.getAttribute("role") === "region")) {
                    wrong.add((table.caption?.textContent || "a table") + (wide ? " (wide)" : ""));
                  }
                }
              }
              return [...wrong];
            }""",
            SCROLL_BOXES,
        )
        assert not wrong, f"tables whose Tab stop does not match whether they scroll: {wrong}"
    finally:
        context.close()


@pytest.fixture(scope="module")
def compressing_server(built_site):
    """The built site served with gzip, as a host would serve it (the benchmark's server)."""
    from scripts.bench import Site

    with Site(built_site.resolve()) as site:
        yield site


@pytest.mark.parametrize("path", PAGES)
def test_a_page_transfers_at_most_100_kb_before_the_reader_acts(browser, compressing_server, path):
    # Everything a reader's browser fetches on arrival (HTML, CSS, JS, images), gzip, counted by
    # the server; the search index is fetched apart and not counted.
    from scripts.bench import measure_weight

    weight = measure_weight(browser, compressing_server, path)
    heaviest = sorted(weight["files"], key=lambda f: -f[2])[:4]
    assert weight["gzip"] <= 100 * 1024, (
        f"{weight['gzip'] / 1024:.1f} KB gzip; heaviest: "
        + ", ".join(f"{name} {gz / 1024:.1f} KB" for name, _, gz in heaviest)
    )


@pytest.mark.parametrize("path", PAGES)
def test_every_chart_is_drawn_without_javascript(browser, server, built_site, path):
    expected = _html_path(built_site, path).read_text().count('<figure class="chart"')
    for width in (375, 1280):
        context, w = open_page(browser, server, path, width, java_script_enabled=False)
        try:
            figures = w.page.locator("figure.chart")
            assert figures.count() == expected
            for i in range(expected):
                svg = figures.nth(i).locator(".chart__static svg:visible")
                assert svg.count() == 1, f"chart {i}: {svg.count()} visible static images"
                box = svg.bounding_box()
                assert box["width"] > 200 and box["height"] > 100, box
                assert box["x"] >= 0 and box["x"] + box["width"] <= width + 1, box
        finally:
            context.close()


@pytest.mark.parametrize("path", PAGES)
def test_tab_reaches_every_chart_and_it_is_named_and_described(browser, server, path):
    context, w = open_page(browser, server, path, 1280)
    try:
        page = w.page
        page.wait_for_load_state("load")
        charts = page.locator("figure.chart .chart__frame")
        total = charts.count()
        if not total:
            return
        reached = set()
        focusable = page.evaluate(
            "document.querySelectorAll('a[href], button, input, select, "
            "summary, [tabindex]').length"
        )
        for _ in range(focusable + 5):
            page.keyboard.press("Tab")
            chart = page.evaluate(
                "() => document.activeElement.matches('.chart__frame') ? "
                "document.activeElement.closest('figure').id : null"
            )
            if chart:
                reached.add(chart)
                if len(reached) == total:
                    break
        ids = charts.evaluate_all("els => els.map(e => e.closest('figure').id)")
        assert reached == set(ids), f"Tab never reached {set(ids) - reached}"
        for i in range(total):
            frame = charts.nth(i)
            assert frame.get_attribute("role") == "img"
            assert len(frame.get_attribute("aria-label") or "") > 10
            described = frame.evaluate(
                "f => f.getAttribute('aria-describedby').split(' ')"
                ".map(id => document.getElementById(id).textContent).join(' ')"
            )
            assert len(described) > 40, described
    finally:
        context.close()


@pytest.mark.parametrize("path", PAGES)
def test_print_shows_the_static_light_chart_without_navigation(browser, server, path):
    context, w = open_page(browser, server, path, 1280, "dark")
    try:
        page = w.page
        page.wait_for_load_state("load")
        figures = page.locator("figure.chart")
        if figures.count():  # a reader who already made the first chart live, then prints
            figures.first.locator(".chart__frame").hover()
            page.wait_for_function(
                "f => f.dataset.state === 'live'",
                arg=figures.first.element_handle(),
                timeout=20000,
            )
        page.mouse.move(640, 450)  # Material starts on a first interaction and rewrites links
        page.wait_for_function("() => typeof document$ !== 'undefined'", timeout=10000)
        page.emulate_media(media="print")
        for selector in (".md-header", ".md-sidebar--primary", ".md-footer"):
            assert not page.locator(selector).first.is_visible(), selector
        for i in range(figures.count()):
            figure = figures.nth(i)
            static = figure.locator(".chart__static--wide svg")
            assert static.is_visible()
            assert (
                figure.locator(".chart__live").count() == 0
                or not figure.locator(".chart__live").is_visible()
            )
            background = static.locator("> rect").first.evaluate("r => getComputedStyle(r).fill")
            assert background == "rgb(255, 255, 255)", "prints in the light theme"
        shown = page.evaluate(
            """() => [...document.querySelectorAll('.md-typeset a[href]')].map((a) =>
                 [a.href, a.host === location.host, getComputedStyle(a, '::after').content])"""
        )
        for href, ours, after in shown:
            if ours:  # the site's own links print no (local) URL
                assert "://" not in after, (href, after)
            else:  # a source's link prints where it leads
                assert href.rstrip("/") in after.replace("\\", ""), (href, after)
    finally:
        context.close()


@pytest.mark.parametrize("path", PAGES)
def test_no_console_errors_and_nothing_leaves_localhost(browser, server, path):
    context, w = open_page(browser, server, path, 375)
    try:
        page = w.page
        page.wait_for_load_state("networkidle")
        figures = page.locator("figure.chart")
        for i in range(figures.count()):  # every chart made live, as a reader touching them
            figure = figures.nth(i)
            figure.scroll_into_view_if_needed()
            figure.locator(".chart__frame").hover()
            page.wait_for_function(
                "f => f.dataset.state === 'live'", arg=figure.element_handle(), timeout=20000
            )
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        page.wait_for_load_state("networkidle")
        assert not w.offsite, f"requests left 127.0.0.1: {w.offsite}"
        assert not w.errors, f"console errors: {w.errors}"
    finally:
        context.close()


@pytest.mark.parametrize("path", PAGES)
def test_a_page_is_styled_without_fetching_a_stylesheet(browser, server, path):
    """Its styles come with the page (scripts/inline_styles.py): no request for a stylesheet
    stands between the page's HTML and its first paint, and Material's and ours apply."""
    context = browser.new_context(viewport={"width": 375, "height": 800})
    try:
        page = context.new_page()
        sheets: list[str] = []
        page.on("request", lambda r: sheets.append(r.url) if r.resource_type == "stylesheet" else 0)
        page.goto(server + path, wait_until="load")
        assert not sheets, f"stylesheets fetched: {sheets}"
        styled = page.evaluate(
            """() => [getComputedStyle(document.body).margin,
                     getComputedStyle(document.querySelector('.md-header')).position]"""
        )
        assert styled == ["0px", "sticky"], styled
    finally:
        context.close()


# What a reader sees on arrival: every block's box in the content.
_BOXES = """() => [
  ...document.querySelectorAll(".md-content :is(h1, h2, h3, p, figure, table, li)"),
]
  .map((e) => e.getBoundingClientRect())
  .map((r) => [r.x, r.y, r.width, r.height].map(Math.round))"""


@pytest.mark.parametrize("width", [375, 1280])
@pytest.mark.parametrize("path", PAGES)
def test_material_starts_on_the_first_interaction_and_nothing_moves(browser, server, path, width):
    # Material's script was a third of a phone's main-thread time on arrival; it is fetched when
    # the reader first moves, touches, types or scrolls, and what it changes must not move text.
    context, w = open_page(browser, server, path, width)
    try:
        page = w.page
        page.wait_for_load_state("networkidle")
        fetched = "() => performance.getEntriesByType('resource').map((e) => e.name)"
        assert not [u for u in page.evaluate(fetched) if "/javascripts/bundle." in u]
        assert page.evaluate("() => typeof document$") == "undefined"
        before = page.evaluate(_BOXES)
        page.mouse.move(width // 2, 450)
        page.wait_for_function("() => typeof document$ !== 'undefined'", timeout=10000)
        tables = page.locator(".md-typeset__scrollwrap:not(.md-typeset__table > *)").count()  # ours
        # Material has started once it has wrapped every table (a no-op box: table_wrap.py).
        page.wait_for_function(
            "n => document.querySelectorAll('.md-typeset__table > .md-typeset__scrollwrap')"
            ".length === n",
            arg=tables,
            timeout=10000,
        )
        page.evaluate("() => new Promise((done) => requestAnimationFrame(() => setTimeout(done)))")
        after = page.evaluate(_BOXES)
        assert len(before) == len(after), "blocks came or went"
        moved = [(i, a, b) for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
        assert not moved, f"boxes moved: {moved[:5]}"
        assert not w.errors, f"console errors: {w.errors}"
    finally:
        context.close()


class _Head(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}
        self.links: dict[str, str] = {}

    def handle_starttag(self, tag, attrs) -> None:
        a = dict(attrs)
        if tag == "meta" and (a.get("name") or a.get("property")):
            key = a.get("name") or a.get("property")
            assert key not in self.meta, f"duplicate <meta> {key}"
            self.meta[key] = a.get("content") or ""
        if tag == "link" and a.get("rel"):
            self.links.setdefault(a["rel"], a.get("href") or "")


@pytest.mark.parametrize("path", PAGES)
def test_page_has_description_canonical_and_social_card(built_site, server, path):
    html = _html_path(built_site, path).read_text(encoding="utf-8")
    head = _Head()
    head.feed(html[: html.index("</head>")])
    meta = head.meta
    for key in (
        "description",
        "og:title",
        "og:description",
        "og:type",
        "og:url",
        "og:image",
        "og:image:alt",
        "twitter:card",
        "twitter:title",
        "twitter:description",
        "twitter:image",
    ):
        assert meta.get(key, "").strip(), f"no {key}"
    assert 40 <= len(meta["description"]) <= 201, meta["description"]
    assert head.links["canonical"] == server + path
    assert meta["og:url"] == server + path
    assert meta["twitter:card"] == "summary_large_image"
    assert meta["og:image"] == meta["twitter:image"]
    assert meta["og:image"].startswith(server), "social images need an absolute URL"
    image = built_site / meta["og:image"].removeprefix(server)
    assert image.is_file(), f"{image} does not exist"
    png = image.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    size = (int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big"))
    assert size == (int(meta["og:image:width"]), int(meta["og:image:height"]))
    assert size[0] >= 1200, "large enough for a large card"
    lead = re.search(r'<figure class="chart" id="chart-([^"]+)"', html)
    if lead:  # the card shows the page's first chart
        assert meta["og:image"].endswith(f"/charts/{lead.group(1)}/chart.png")
    else:
        assert meta["og:image"].endswith("/site-card.png")


def test_search_worker_loads_on_the_first_search_and_finds_pages(browser, server):
    context, w = open_page(browser, server, "", 1280)
    try:
        page = w.page
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.wait_for_load_state("networkidle")
        assert not [u for u in requests if "/workers/search." in u], "fetched before a search"
        page.keyboard.press("/")  # Material's shortcut to the search box
        page.locator("input.md-search__input").press_sequentially("subsidy", delay=30)
        results = page.locator(".md-search-result__item")
        # Loading Material, then the worker, then building the index: seconds on a busy machine.
        results.first.wait_for(timeout=45000)
        assert results.count() > 0
        assert [u for u in requests if "/workers/search." in u], "the real worker was loaded"
        assert "subsidy" in page.locator(".md-search-result").inner_text().lower()
        assert not w.errors, w.errors
    finally:
        context.close()
