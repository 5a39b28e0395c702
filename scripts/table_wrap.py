"""Markdown extension: every plain table in the scroll box Material's script would put it in.

Material wraps each `table:not([class])` in `div.md-typeset__scrollwrap > div.md-typeset__table`
when its script starts, and the box is what scrolls a wide table on a phone (and what
docs/javascripts/tables.js makes a keyboard stop). Its script now starts on the reader's first
interaction (overrides/partials/material-on-demand.html), so the box is written here, at build:
the page is laid out as it will stay. Material then wraps the table once more; site.css makes
that inner box a no-op, so its start moves nothing.

The notebook page is not Markdown: scripts/mkdocs_hooks.py passes its HTML through wrap_tables.
"""

from __future__ import annotations

import re

from markdown import Extension
from markdown.postprocessors import Postprocessor

# Our pages have no nested tables; a plain table is one without a class attribute.
PLAIN_TABLE = re.compile(r"<table(?![^>]*\sclass=)(?:\s[^>]*)?>.*?</table>", re.S)
OPEN, CLOSE = '<div class="md-typeset__scrollwrap"><div class="md-typeset__table">', "</div></div>"


def wrap_tables(html: str) -> str:
    """Return html with each plain table inside Material's scroll box."""
    return PLAIN_TABLE.sub(lambda m: OPEN + m.group(0) + CLOSE, html)


class TableWrapPostprocessor(Postprocessor):
    def run(self, text: str) -> str:
        return wrap_tables(text)


class TableWrapExtension(Extension):
    def extendMarkdown(self, md) -> None:  # noqa: N802 (Python-Markdown's name)
        # After the raw HTML is put back (priority 30): the tables other extensions wrote.
        md.postprocessors.register(TableWrapPostprocessor(md), "table_wrap", 5)


def makeExtension(**kwargs) -> TableWrapExtension:  # noqa: N802
    return TableWrapExtension(**kwargs)
