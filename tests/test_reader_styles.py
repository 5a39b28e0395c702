"""The site ships Material's stylesheets cut to the rules its pages can use
(scripts/css_subset.py). A reader must not see the difference: every element of every page, in
each mode and after Material has started (drawer, search results), has the same computed style
as with Material's stylesheets whole."""

from __future__ import annotations

import re
from pathlib import Path

import material
import pytest

from tests.conftest import READER_MODES, open_page, site_pages

pytestmark = pytest.mark.browser

MATERIAL_CSS = Path(material.__file__).parent / "templates" / "assets" / "stylesheets"

# Every element and its ::before and ::after: what a dropped rule could change.
STYLES = """() => {
  const props = ["display", "position", "visibility", "opacity", "color", "background-color",
    "background-image", "font-family", "font-size", "font-weight", "font-style", "line-height",
    "text-align", "text-decoration-line", "text-transform", "white-space", "margin-top",
    "margin-right", "margin-bottom", "margin-left", "padding-top", "padding-right",
    "padding-bottom", "padding-left", "border-top-width", "border-top-style",
    "border-top-color", "border-bottom-width", "border-left-width", "border-radius", "width",
    "height", "top", "left", "transform", "box-shadow", "outline-style", "overflow-x",
    "overflow-y", "z-index", "cursor", "fill", "stroke", "content", "mask-image",
    "-webkit-mask-image", "flex-direction", "justify-content", "align-items", "gap",
    "list-style-type", "transition-duration"];
  const out = [];
  document.querySelectorAll("body *").forEach((el, i) => {
    for (const pseudo of [null, "::before", "::after"]) {
      const cs = getComputedStyle(el, pseudo);
      if (pseudo && (cs.content === "none" || cs.content === "normal")) continue;
      const id = `${i} ${el.tagName.toLowerCase()}.${el.className.baseVal ?? el.className}`;
      const values = props.map(p => `${p}:${cs.getPropertyValue(p)}`).join(";");
      out.push(`${id}${pseudo || ""} ${values}`);
    }
  });
  return out;
}"""


# A cut sheet as the built pages carry it, inline (scripts/inline_styles.py).
CUT = re.compile(
    r'<style data-href="([^"]*assets/stylesheets/(main|palette)\.[0-9a-f]+\.min\.css)">.*?</style>',
    re.S,
)


def _whole_material(page) -> list[str]:
    """Serve every page with Material's original stylesheets in place of the cut ones it
    carries (a page's newest route comes first: before the one that watches for off-site
    requests). Returns the list the names of the sheets replaced are added to."""
    replaced: list[str] = []

    def whole(match: re.Match) -> str:
        replaced.append(match.group(2))
        original = next(MATERIAL_CSS.glob(f"{match.group(2)}.*.min.css"))
        return f'<style data-href="{match.group(1)}">{original.read_text(encoding="utf-8")}</style>'

    def route(route):
        if route.request.resource_type != "document":
            route.fallback()
            return
        response = route.fetch()
        route.fulfill(response=response, body=CUT.sub(whole, response.text()))

    page.route("**/*", route)
    return replaced


# Blocks drawn only near the screen (content-visibility) have a height that depends on when
# they were last drawn: both loads draw every block, so sizes compare (bypass_csp allows it).
DRAW_ALL = "* { content-visibility: visible !important; }"


def _styles(browser, server, path, width, scheme, whole: bool, act=None) -> list[str]:
    context, watched = open_page(browser, server, path, width=width, scheme=scheme, bypass_csp=True)
    try:
        if whole:
            replaced = _whole_material(watched.page)
            watched.page.reload()
        watched.page.wait_for_load_state("load")
        if whole:  # else the comparison would be of the cut sheets with themselves
            assert sorted(set(replaced)) == ["main", "palette"], replaced
        if act:
            act(watched.page)
        watched.page.add_style_tag(content=DRAW_ALL)
        return watched.page.evaluate(STYLES)
    finally:
        context.close()


def _diff(cut: list[str], whole: list[str]) -> list[str]:
    """The first elements that differ, and how: (element, property, cut, whole)."""
    out = []
    for a, b in zip(cut, whole, strict=False):
        if a != b:
            element = a.split(" ", 2)[:2]
            pairs = zip(a.split(" ", 2)[2].split(";"), b.split(" ", 2)[2].split(";"), strict=False)
            out += [(*element, x, y) for x, y in pairs if x != y]
        if len(out) > 5:
            break
    return out


def test_material_stylesheets_are_cut(built_site):
    for name in ("main", "palette"):
        shipped = next((built_site / "assets" / "stylesheets").glob(f"{name}.*.min.css"))
        original = next(MATERIAL_CSS.glob(f"{name}.*.min.css"))
        assert shipped.name != original.name, "the cut sheet must not reuse Material's name"
        assert shipped.stat().st_size < 0.8 * original.stat().st_size


@pytest.mark.parametrize(("width", "scheme"), READER_MODES)
@pytest.mark.parametrize("path", site_pages())
def test_the_cut_stylesheets_change_nothing_on_a_page(browser, server, path, width, scheme):
    cut = _styles(browser, server, path, width, scheme, whole=False)
    whole = _styles(browser, server, path, width, scheme, whole=True)
    assert len(cut) == len(whole)
    assert cut == whole, _diff(cut, whole)


def _start_material(page) -> None:
    page.mouse.move(20, 300)
    page.wait_for_function("() => typeof document$ !== 'undefined'", timeout=10000)
    page.wait_for_timeout(300)


def _drawer(page) -> None:
    """The navigation drawer open (the phone's menu; on a desktop its state is all there is)."""
    _start_material(page)
    page.evaluate("() => { const d = document.getElementById('__drawer'); d.click(); }")
    page.wait_for_timeout(400)  # transitions end


def _search(page) -> None:
    """Search open, with results listed."""
    _start_material(page)
    page.keyboard.press("/")
    page.keyboard.type("Huawei")
    page.wait_for_selector(".md-search-result__item", timeout=15000)
    page.wait_for_timeout(400)


@pytest.mark.parametrize("act", [_drawer, _search], ids=["drawer", "search"])
@pytest.mark.parametrize(("width", "scheme"), [(375, "light"), (1280, "dark")])
def test_the_cut_stylesheets_change_nothing_once_material_runs(browser, server, width, scheme, act):
    cut = _styles(browser, server, "", width, scheme, whole=False, act=act)
    whole = _styles(browser, server, "", width, scheme, whole=True, act=act)
    assert len(cut) == len(whole)
    assert cut == whole, _diff(cut, whole)
