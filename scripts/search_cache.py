"""Material's search index, remembered per page between builds.

Material's search plugin parses the HTML of every page with Python's html.parser on every build
and every `mkdocs serve` rebuild: about a second for this site, most of it the inline chart
images. A page's entries depend only on what SearchIndex.add_entry_from_context reads: its HTML,
table of contents, URL, title and the meta keys title, tags and search, plus the plugin's
options and Material's version. remember() keys the entries by a hash of exactly those and keeps
them in memory and in .cache/search/, so only pages that changed are parsed again; the index
Material writes is the same, entry for entry.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from importlib.metadata import version
from pathlib import Path

_MEMORY: dict[str, list[dict]] = {}  # key -> entries, across `mkdocs serve` rebuilds
# A chart's static images (scripts/chart_embed.py): marked data-search-exclude, which Material's
# parser skips after reading every tag of the SVG (most of a chart page's HTML). They hold no
# <div>, so the first </div> closes them.
STATIC_CHART = re.compile(
    r'<div class="chart__static chart__static--[a-z]+" aria-hidden="true" '
    r"data-search-exclude>.*?</div>",
    re.S,
)


def _toc(items) -> list:
    return [[i.url, i.title, i.level, _toc(i.children)] for i in items]


def page_key(page, options: dict) -> str:
    meta = {k: page.meta.get(k) for k in ("title", "tags", "search")}
    parts = [
        version("mkdocs-material"),
        json.dumps(options, sort_keys=True, default=str),
        page.url,
        str(page.title),
        json.dumps(meta, sort_keys=True, default=str),
        json.dumps(_toc(page.toc)),
        page.content or "",
    ]
    h = hashlib.sha256()
    for part in parts:
        h.update(hashlib.sha256(part.encode()).digest())
    return h.hexdigest()[:32]


def remember(index, cache: Path) -> set[str]:
    """Wrap index.add_entry_from_context (one build's SearchIndex) with the cache; return the
    set the keys this build uses are added to (prune() keeps those)."""
    original = index.add_entry_from_context
    used: set[str] = set()

    def add_entry_from_context(page) -> None:
        key = page_key(page, index.config)
        used.add(key)
        entries = _MEMORY.get(key)
        path = cache / f"{key}.json"
        if entries is None and path.is_file():
            try:
                entries = json.loads(path.read_text(encoding="utf-8"))
            except ValueError:
                entries = None
        if entries is None:
            before = len(index.entries)
            content = page.content
            if content:  # what the parser would skip anyway, not parsed at all
                page.content = STATIC_CHART.sub("", content)
            try:
                original(page)
            finally:
                page.content = content
            entries = copy.deepcopy(index.entries[before:])
            del index.entries[before:]
            cache.mkdir(parents=True, exist_ok=True)
            tmp = cache / f".{key}.tmp"
            tmp.write_text(json.dumps(entries, ensure_ascii=False), encoding="utf-8")
            tmp.replace(path)
        _MEMORY[key] = entries
        index.entries.extend(copy.deepcopy(entries))

    index.add_entry_from_context = add_entry_from_context
    return used


def prune(cache: Path, used: set[str]) -> None:
    """Drop the entries of pages as they no longer are (after a complete build only)."""
    for path in cache.glob("*.json"):
        if path.stem not in used:
            path.unlink(missing_ok=True)
            _MEMORY.pop(path.stem, None)
