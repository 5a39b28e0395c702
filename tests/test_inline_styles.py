"""scripts/inline_styles.py on small sites: rules that cannot move into a page stop the build
with the stylesheet named; another site's stylesheet stays a link."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts import inline_styles
from scripts.build_error import BuildError

PAGE = (
    "<html><head>{links}</head>"
    '<body><p>text</p><link rel="stylesheet" href="late.css"></body></html>'
)


def _site(tmp_path: Path, links: str, sheets: dict[str, str]) -> Path:
    site = tmp_path / "site"
    (site / "guide").mkdir(parents=True)
    (site / "guide" / "index.html").write_text(PAGE.format(links=links), encoding="utf-8")
    for name, css in sheets.items():
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_text(css, encoding="utf-8")
    return site


def test_a_page_gets_its_rules_in_order_and_links_elsewhere_stay(tmp_path):
    links = (
        '<link rel="stylesheet" href="../a.css"><link rel="stylesheet" href="https://x.test/b.css">'
        '<link rel="stylesheet" href="/c/d.css">'
    )
    site = _site(tmp_path, links, {"a.css": "p{color:red}", "c/d.css": "p{margin:0}"})
    assert inline_styles.inline(site) == 1
    html = (site / "guide" / "index.html").read_text(encoding="utf-8")
    head = html.split("</head>")[0]
    assert (
        head.index("p{color:red}") < head.index("https://x.test/b.css") < head.index("p{margin:0}")
    )
    assert '<link rel="stylesheet" href="../a.css">' not in head
    assert '<link rel="stylesheet" href="late.css">' in html, "only the head's links move"


@pytest.mark.parametrize(
    "css",
    [
        "@font-face{src:url(font.woff2)}",
        'p{background:url("img/x.png")}',
        "@import 'more.css';",
    ],
)
def test_rules_that_read_another_file_stop_the_build_naming_the_sheet(tmp_path, css):
    site = _site(tmp_path, '<link rel="stylesheet" href="../a.css">', {"a.css": css})
    before = (site / "guide" / "index.html").read_bytes()
    with pytest.raises(BuildError) as err:
        inline_styles.inline(site)
    assert str(err.value).startswith("site/a.css: cannot go inline")
    assert (site / "guide" / "index.html").read_bytes() == before


def test_data_uris_go_inline(tmp_path):
    css = 'p{background:url("data:image/svg+xml;charset=utf-8,<svg/>")}'
    site = _site(tmp_path, '<link rel="stylesheet" href="../a.css">', {"a.css": css})
    inline_styles.inline(site)
    assert css in (site / "guide" / "index.html").read_text(encoding="utf-8")


def test_a_missing_stylesheet_is_named(tmp_path):
    site = _site(tmp_path, '<link rel="stylesheet" href="../gone.css">', {})
    with pytest.raises(BuildError, match="site/gone.css"):
        inline_styles.inline(site)
