"""Post-build step: every page carries its stylesheets in its <head>, as <style> elements.

A reader on a phone network waits for a page's stylesheets before anything is drawn, and the
browser asks for them only once it has read the page's head: one round trip more than the page
itself (about 300 ms at 150 ms RTT), and the stylesheets are the largest thing fetched before
the first paint. With the rules in the HTML, the first chart is drawn as soon as the HTML up to
it has arrived. The cost is the rules in every page's HTML (about 19 KB gzip) instead of once in
the browser's cache; Material's instant navigation keeps a <style> the next page also has, as it
keeps an identical <link>.

Runs on the built site/ after scripts/css_subset.py (which cuts Material's sheets first), so it
works the same under any generator. The stylesheet files stay in the site for anything that
links them. A <style> element keeps its file's path in data-href.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

from scripts.build_error import BuildError

LINK = re.compile(r'<link rel="stylesheet" href="([^"]+)">')
# What would read differently once the rules are in the page, not in their file.
RELATIVE_URL = re.compile(r"""url\(\s*(?!["']?data:)|@import""", re.I)


def inline(site: Path) -> int:
    """Replace each page's local <link rel=stylesheet> in <head> by the sheet's rules; return
    the number of pages changed."""
    sheets: dict[str, str] = {}
    changed = 0
    for page in sorted(site.rglob("*.html")):
        html = page.read_text(encoding="utf-8")
        end = html.find("</head>")
        if end < 0:
            continue
        folder = page.parent.relative_to(site).as_posix()

        def to_style(match: re.Match, folder: str = folder) -> str:
            href = match.group(1)
            if re.match(r"^(?:[a-z]+:)?//", href, re.I):
                return match.group(0)  # another site's: not ours to copy
            rel = posixpath.normpath(
                href.lstrip("/") if href.startswith("/") else posixpath.join(folder, href)
            )
            if rel not in sheets:
                sheets[rel] = _rules(site, rel)
            return f'<style data-href="{href}">{sheets[rel]}</style>'

        new = LINK.sub(to_style, html[:end]) + html[end:]
        if new != html:
            page.write_text(new, encoding="utf-8")
            changed += 1
    return changed


def _rules(site: Path, rel: str) -> str:
    path = site / rel
    if not path.is_file():
        raise BuildError(f"site/{rel}", "a page links this stylesheet but it was not built")
    css = path.read_text(encoding="utf-8").strip()
    problem = RELATIVE_URL.search(css)
    if problem:
        # A relative url() or @import resolves against the sheet's address, not the page's.
        raise BuildError(
            f"site/{rel}",
            f"cannot go inline: it uses {problem.group(0).strip()}… (resolved against the "
            "stylesheet's own address)",
            expected="images and fonts as data: URIs, or no url() at all",
        )
    if "</style" in css.lower():
        raise BuildError(f"site/{rel}", "contains '</style'", expected="plain CSS rules")
    return css
