"""Every chart, interactive, as a reader uses it: the live view takes the static image's place
without moving anything at any width, the keyboard reads what the tooltip shows, tooltips stay
on screen, controls are labelled and drive the chart, motion is off on request.

Charts are found in the pages' sources ({{ chart name }} lines), each tested on the first page
that embeds it."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT, open_page, site_pages

pytestmark = pytest.mark.browser

EMBED = re.compile(r"^\s*\{\{\s*chart\s+([A-Za-z0-9_]+)\s*\}\}\s*$", re.M)
FENCED = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)  # examples in the guide are not embeds


def _chart_pages() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in site_pages():
        stem = "index" if path == "" else path.rstrip("/")
        source = ROOT / "docs" / f"{stem}.md"
        if source.exists():
            for name in EMBED.findall(FENCED.sub("", source.read_text(encoding="utf-8"))):
                found.setdefault(name, path)
    return found


CHARTS = _chart_pages()
NAMES = sorted(CHARTS)

# Every layout shift, with or without recent input, from the first paint on.
SHIFTS = """
window.__shifts = [];
new PerformanceObserver(list => {
  for (const e of list.getEntries()) window.__shifts.push({value: e.value, input: e.hadRecentInput,
    nodes: (e.sources || []).map(s => s.node ? (s.node.className || s.node.nodeName) : '?')});
}).observe({type: 'layout-shift', buffered: true});
"""


def _figure(page, name):
    figure = page.locator(f"figure#chart-{name}")
    figure.scroll_into_view_if_needed()
    return figure


def _wait_live(page, figure):
    page.wait_for_function(
        "f => f.dataset.state === 'live'", arg=figure.element_handle(), timeout=20000
    )
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def _box(locator, page: bool = False):
    """[x, y, width, height] in the viewport, or in the document (page=True: scroll-proof)."""
    return locator.evaluate(
        "(el, doc) => { const r = el.getBoundingClientRect();"
        " return [r.x + (doc ? scrollX : 0), r.y + (doc ? scrollY : 0), r.width, r.height]; }",
        page,
    )


@pytest.mark.parametrize("width", [320, 768, 1280])
@pytest.mark.parametrize("name", NAMES)
def test_live_view_takes_the_static_images_place_without_a_shift(browser, server, name, width):
    context, w = open_page(browser, server, CHARTS[name], width)
    # Vega's warnings ("Infinite extent for field …") flag a spec that draws by luck; a reader
    # who opens the console should find it as quiet as the page.
    warnings: list[str] = []
    w.page.on("console", lambda m: m.type == "warning" and warnings.append(m.text))
    try:
        page = w.page
        page.add_init_script(SHIFTS)
        page.reload()
        page.wait_for_load_state("load")
        figure = _figure(page, name)
        static = figure.locator(".chart__static svg:visible")
        assert static.count() == 1
        before = _box(static, page=True)
        shown = "narrow" if "narrow" in static.evaluate("s => s.parentNode.className") else "wide"
        frame_before = _box(figure.locator(".chart__frame"), page=True)
        figure.locator(".chart__frame").focus()  # keyboard focus wakes it, like a pointer
        _wait_live(page, figure)
        live = figure.locator(".chart__live svg")
        assert live.count() == 1
        after = _box(live, page=True)
        assert _box(figure.locator(".chart__frame"), page=True) == frame_before, "box moved"
        for a, b in zip(before, after, strict=True):
            assert abs(a - b) <= 1, f"live {after} vs static {before}"
        assert figure.get_attribute("data-layout") == shown
        shifts = page.evaluate("window.__shifts")
        assert sum(s["value"] for s in shifts) == 0, shifts
        assert not warnings, warnings
    finally:
        context.close()


@pytest.mark.parametrize("name", NAMES)
def test_keyboard_steps_through_values_and_reads_the_tooltip(browser, server, name):
    context, w = open_page(browser, server, CHARTS[name], 1280)
    try:
        page = w.page
        figure = _figure(page, name)
        frame = figure.locator(".chart__frame")
        frame.focus()
        page.keyboard.press("ArrowRight")
        status = figure.locator(".chart__status")
        page.wait_for_function("s => s.textContent.length > 0", arg=status.element_handle())
        tip = figure.locator(".chart__tooltip")
        assert tip.is_visible()
        # The live region reads what the tooltip shows.
        lines = [line for line in tip.inner_text().splitlines() if line.strip()]
        said = status.inner_text()
        for line in lines:
            assert line.replace(": ", ": ").strip() in said, (line, said)
        total = int(re.search(r"\(1 of (\d+)\)", said).group(1))
        page.keyboard.press("End")
        assert f"({total} of {total})" in status.inner_text()
        page.keyboard.press("Home")
        assert "(1 of " in status.inner_text()
        assert figure.locator(".chart__focus").is_visible(), "the focused mark is outlined"
        # Home reads the first bar or point, not a reference line across the plot ("Break-even"
        # came first): the ring is the mark's box plus 3 px a side, so a line is under 10 px.
        _, _, ring_width, ring_height = _box(figure.locator(".chart__focus"))
        across = ring_height < 10 and ring_width > 0.6 * _box(frame)[2]
        assert not across, status.inner_text()
        page.keyboard.press("Escape")
        assert not tip.is_visible()
        page.keyboard.press("Enter")
        assert figure.locator(".chart__data").evaluate("d => d.open")
        assert page.evaluate("document.activeElement.tagName") == "SUMMARY"
        assert not w.errors, w.errors
    finally:
        context.close()


@pytest.mark.parametrize("name", NAMES)
def test_no_value_is_read_out_as_null_or_empty(browser, server, name):
    # A field the row leaves empty (a revenue bar's share, a gap's count, an empty note) was
    # read out as "Stores: null" or "note: ;".
    context, w = open_page(browser, server, CHARTS[name], 1280)
    try:
        page = w.page
        figure = _figure(page, name)
        figure.locator(".chart__frame").focus()
        page.keyboard.press("Home")
        status = figure.locator(".chart__status")
        page.wait_for_function("s => s.textContent.length > 0", arg=status.element_handle())
        total = int(re.search(r"\(1 of (\d+)\)", status.inner_text()).group(1))
        said = [status.inner_text()]
        for _ in range(min(total, 80) - 1):
            page.keyboard.press("ArrowRight")
            said.append(status.inner_text())
        empty = re.compile(r"\b(null|NaN|undefined)\b|: ;|:\s*\(\d+ of")
        assert not [s for s in said if empty.search(s)], [s for s in said if empty.search(s)][:3]
    finally:
        context.close()


@pytest.mark.parametrize("width", [320, 1280])
@pytest.mark.parametrize("name", NAMES)
def test_tooltips_stay_whole_and_on_screen(browser, server, name, width):
    # At 1280 px a tip near a chart's right edge was squeezed by the figure's edge into a
    # column one character wide and far taller than the screen.
    context, w = open_page(browser, server, CHARTS[name], width)
    try:
        page = w.page
        figure = _figure(page, name)
        frame = figure.locator(".chart__frame")
        frame.focus()
        page.keyboard.press("End")  # the right-most mark
        tip = figure.locator(".chart__tooltip")
        tip.wait_for(state="visible")
        x, y, tip_width, height = _box(tip)
        assert x >= 0 and x + tip_width <= width, (x, tip_width)
        assert y >= 0 and y + height <= 900, (y, tip_width, height)
        ring = _box(figure.locator(".chart__focus"))
        page.mouse.move(ring[0] + ring[2] / 2, ring[1] + ring[3] / 2)  # and by pointer
        page.wait_for_timeout(100)
        if tip.is_visible():
            x, y, tip_width, height = _box(tip)
            assert x >= 0 and x + tip_width <= width, (x, tip_width)
            assert y >= 0 and y + height <= 900, (y, tip_width, height)
    finally:
        context.close()


def test_resizing_across_layouts_redraws_the_live_view_in_the_new_layout(browser, server):
    narrowable = [n for n in NAMES if n != "claims_verdicts"] or NAMES
    name = narrowable[0]
    context, w = open_page(browser, server, CHARTS[name], 1280)
    try:
        page = w.page
        figure = _figure(page, name)
        figure.locator(".chart__frame").focus()
        _wait_live(page, figure)
        wide = figure.get_attribute("data-layout")
        page.set_viewport_size({"width": 375, "height": 800})
        page.wait_for_function(
            "([f, was]) => f.dataset.layout !== was", arg=[figure.element_handle(), wide]
        )
        _wait_live(page, figure)
        layout = figure.get_attribute("data-layout")
        static = _box(figure.locator(f".chart__static--{layout} svg"))
        live = _box(figure.locator(".chart__live svg"))
        assert all(abs(a - b) <= 1 for a, b in zip(static, live, strict=True)), (static, live)
    finally:
        context.close()


def _control_charts() -> list[str]:
    """Charts whose module binds a Vega-Lite param to an input (found in the source, so a clean
    clone collects them before anything is built)."""
    return [n for n in NAMES if "binding" in (ROOT / "charts" / f"{n}.py").read_text()]


@pytest.mark.parametrize(
    "name", _control_charts() or [pytest.param("none", marks=pytest.mark.skip)]
)
def test_what_if_controls_are_visible_labelled_and_drive_the_chart(browser, server, name):
    for width in (320, 1280):
        context, w = open_page(browser, server, CHARTS[name], width)
        try:
            page = w.page
            figure = _figure(page, name)
            inputs = figure.locator(".chart__controls [data-signal]")
            assert inputs.count() > 0
            for i in range(inputs.count()):
                control = inputs.nth(i)
                assert control.is_enabled()
                assert control.evaluate("c => !c.closest('[aria-hidden=true]')")
                label = control.evaluate("c => c.labels.length ? c.labels[0].textContent : ''")
                assert len(label.strip()) > 3
                x, y, cw, ch = _box(control)
                assert cw > 40 and ch > 5 and x >= 0 and x + cw <= width, (x, cw)
            first = inputs.first
            first.focus()  # keyboard reaches it, and waking the chart
            _wait_live(page, figure)
            before = figure.locator(".chart__live svg").inner_html()
            for _ in range(10):
                page.keyboard.press("ArrowRight" if width == 1280 else "ArrowLeft")
            page.wait_for_function(
                "([f, b]) => f.querySelector('.chart__live svg').innerHTML !== b",
                arg=[figure.element_handle(), before],
            )
            output = figure.locator(f"output[for='{first.get_attribute('id')}']")
            if output.count():
                shown = float(output.inner_text().replace(",", ""))
                assert shown == pytest.approx(float(first.input_value()))
            assert not w.errors, w.errors
        finally:
            context.close()


def test_motion_is_off_when_the_reader_asks(browser, server):
    context, w = open_page(browser, server, CHARTS[NAMES[0]], 1280, reduced_motion="reduce")
    try:
        moving = w.page.evaluate(
            """() => [...document.querySelectorAll('*')].filter(el => {
                 const s = getComputedStyle(el);
                 const t = s.transitionDuration.split(',').some(d => parseFloat(d) > 0);
                 return t || s.animationName !== 'none';
               }).slice(0, 5).map(el => el.tagName + '.' + el.className)"""
        )
        assert not moving, moving
    finally:
        context.close()


# Pairs of the phone image's text boxes that intersect by more than a pixel each way, text that
# a dashed marker line runs through, and text that ends outside the image, as the browser lays
# them out (in the font the test sets).
CROWDING = """(svg) => {
  const box = svg.getBoundingClientRect();
  const texts = [...svg.querySelectorAll("text")]
    .filter((t) => t.textContent.trim())
    .map((t) => [t.textContent.trim(), t.getBoundingClientRect()]);
  const dashed = [...svg.querySelectorAll("line[stroke-dasharray], path[stroke-dasharray]")]
    .map((l) => l.getBoundingClientRect());
  const out = [];
  for (const [s, r] of texts) {
    if (r.left < box.left - 1 || r.right > box.right + 1) out.push(`off the edge: ${s}`);
    for (const l of dashed)
      if (l.width < 3 && l.left > r.left + 1 && l.right < r.right - 1 && l.top < r.bottom - 1
          && l.bottom > r.top + 1) out.push(`${s} / a marker line`);
  }
  for (let i = 0; i < texts.length; i++)
    for (let j = i + 1; j < texts.length; j++) {
      const [a, p] = texts[i], [b, q] = texts[j];
      const dx = Math.min(p.right, q.right) - Math.max(p.left, q.left);
      const dy = Math.min(p.bottom, q.bottom) - Math.max(p.top, q.top);
      if (dx > 1 && dy > 1) out.push(`${a} / ${b}`);
    }
  return out;
}"""


@pytest.mark.parametrize("width", [375, 1280])
@pytest.mark.parametrize("name", NAMES)
def test_a_chart_images_labels_do_not_overlap_or_run_off_it(browser, server, name, width):
    # 375 px shows the phone image, 1280 the wide one.
    context, w = open_page(browser, server, CHARTS[name], width)
    try:
        # In Arial's widths (Liberation Sans here), which the image was laid out with and which
        # phones' own fonts (Roboto, San Francisco) are close to; this machine's default, DejaVu
        # Sans, runs a tenth wider than any of them.
        w.page.add_style_tag(content=".chart__static text { font-family: Arial !important; }")
        figure = _figure(w.page, name)
        shown = figure.locator(".chart__static svg").evaluate_all(
            "all => all.findIndex((s) => s.getBoundingClientRect().width > 0)"
        )
        crowded = figure.locator(".chart__static svg").nth(shown).evaluate(CROWDING)
        assert not crowded, crowded[:6]
    finally:
        context.close()
