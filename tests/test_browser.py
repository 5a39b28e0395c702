"""What readers see, in Debian's Chromium: static charts without JS, live ones with it."""

from __future__ import annotations

import csv
import io
import re

import pytest

pytestmark = pytest.mark.browser

CHART = "figure.chart"


def test_static_chart_is_visible_without_javascript(browser, server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(server)
    svg = page.locator(f"{CHART} .chart__static svg").first
    assert svg.is_visible()
    box = svg.bounding_box()
    assert box["width"] > 200 and box["height"] > 100
    assert page.locator(f"{CHART} table tbody tr").count() > 3  # the data table is there too
    context.close()


def _go_live(page, figure):
    figure.scroll_into_view_if_needed()
    figure.locator(".chart__frame").hover()
    page.wait_for_function(
        "f => f.dataset.state === 'live'", arg=figure.element_handle(), timeout=15000
    )


def _numbers(text: str) -> list[str]:
    return re.findall(r"-?\d[\d,]*(?:\.\d+)?", text)


def _matches_a_plotted_value(shown: str, values: list[float]) -> bool:
    """True if a number as the tooltip shows it is a plotted value at the shown precision."""
    number = float(shown.replace(",", ""))
    decimals = len(shown.split(".")[1]) if "." in shown else 0
    return any(round(v, decimals) == number for v in values)


def test_hover_shows_tooltip_with_the_real_value(watched, built_site):
    page = watched.page
    page.goto(watched.base)
    figure = page.locator(CHART).first
    name = figure.get_attribute("data-chart")
    _go_live(page, figure)
    rows = list(
        csv.DictReader(
            io.StringIO((built_site / "generated" / "charts" / name / "data.csv").read_text())
        )
    )
    values = [float(v) for r in rows for v in r.values() if re.fullmatch(r"-?\d+(\.\d+)?", v)]
    marks = figure.locator(".chart__live [aria-roledescription='bar']")
    assert marks.count() > 0
    marks.nth(marks.count() - 1).hover()
    tip = figure.locator(".chart__tooltip")
    tip.wait_for(state="visible")
    shown = [n for n in _numbers(tip.inner_text()) if not re.fullmatch(r"(19|20)\d\d", n)]
    assert shown, f"tooltip shows no value: {tip.inner_text()!r}"
    assert all(_matches_a_plotted_value(n, values) for n in shown), tip.inner_text()


def _toggle_scheme(page):
    page.locator("form[data-md-component='palette'] label:visible").first.click()


def test_toggling_colour_scheme_rerenders_the_chart(watched):
    page = watched.page
    page.goto(watched.base)
    figure = page.locator(CHART).first
    _go_live(page, figure)
    assert figure.get_attribute("data-theme") == "light"
    _toggle_scheme(page)
    page.wait_for_function(
        "f => f.dataset.theme === 'dark'", arg=figure.element_handle(), timeout=10000
    )
    background = figure.locator(".chart__live svg").first.evaluate(
        "svg => getComputedStyle(svg).backgroundColor"
    )
    assert background == "rgb(30, 32, 41)"  # the dark theme's background, #1e2029
    # The static image follows too, for readers who have not interacted yet.
    static_background = figure.locator(".chart__static svg > rect").first.evaluate(
        "rect => getComputedStyle(rect).fill"
    )
    assert static_background == "rgb(30, 32, 41)"


def test_the_pages_scrollbars_and_canvas_follow_the_palette(watched):
    # Set from the reader's palette in site.css (Material's own meta is overridden).
    page = watched.page
    page.goto(watched.base)
    scheme = "getComputedStyle(document.documentElement).colorScheme"
    assert page.evaluate(scheme) == "light"
    _toggle_scheme(page)
    # Functions, not strings: the site's policy has no 'unsafe-eval' for a string to run under.
    page.wait_for_function(f"() => {scheme} === 'dark'", timeout=5000)
    _toggle_scheme(page)
    page.wait_for_function(f"() => {scheme} === 'light'", timeout=5000)


def _material_not_started(page) -> bool:
    page.wait_for_load_state("networkidle")
    return page.evaluate("() => typeof document$") == "undefined"


def test_a_palette_click_before_material_has_started_switches_the_scheme(watched):
    # The click is the page's first interaction: Material is fetched by it and, once started,
    # must apply the choice the reader already made (overrides/partials/material-on-demand.html).
    page = watched.page
    page.goto(watched.base)
    assert _material_not_started(page)
    _toggle_scheme(page)
    page.wait_for_function("() => document.body.dataset.mdColorScheme === 'slate'", timeout=5000)
    page.reload()  # and Material stored it, as for any choice
    page.wait_for_function("() => document.body.dataset.mdColorScheme === 'slate'", timeout=5000)


def test_the_search_shortcut_as_the_first_key_opens_search(watched):
    page = watched.page
    page.goto(watched.base)
    assert _material_not_started(page)
    page.keyboard.press("/")
    page.wait_for_function(
        "() => document.activeElement && document.activeElement.matches('input.md-search__input')",
        timeout=5000,
    )


def test_a_first_interaction_while_offline_leaves_the_page_styled(browser, server):
    # Material's start swaps each linked stylesheet for an absolute copy first (the published
    # pages carry theirs inline; `mkdocs serve` links them); a copy that cannot be fetched must
    # not take the page's sheet with it.
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto(server)
        assert _material_not_started(page)
        count = "() => document.styleSheets.length"
        before = page.evaluate(count)
        page.route("**/*", lambda route: route.abort())  # the network is gone
        page.mouse.move(400, 400)
        page.wait_for_timeout(1500)
        assert page.evaluate(count) >= max(4, before), "a stylesheet was removed"
        margin = page.evaluate("() => getComputedStyle(document.body).margin")
        assert margin == "0px", "Material's stylesheet no longer applies"
    finally:
        context.close()


def test_instant_navigation_renders_charts_on_both_pages(watched):
    page = watched.page
    page.goto(watched.base)
    _go_live(page, page.locator(CHART).first)
    page.evaluate("window.__samePage = true")
    page.locator("a.md-nav__link[href$='policy-shift/']").first.click()
    page.wait_for_url("**/policy-shift/")
    assert page.evaluate("window.__samePage === true"), "navigation was a full page load"
    page.locator("h1", has_text="The policy shift").wait_for()
    figure = page.locator(CHART).first
    assert figure.locator(".chart__static svg").first.is_visible()
    _go_live(page, figure)
    assert figure.locator(".chart__live svg").count() == 1
