"""Markdown extension: the data catalogue, written from the data package rather than by hand.

    {{ datapackage }}   on a line of its own: the package (description, licence, shared caveats,
                        units), then one section per table: title, description, row count,
                        sources cited, licence, CSV download and a table of its fields
    {{ derived }}       on a line of its own: the figures we calculate, with formula and inputs
    {{ sources }}       on a line of its own: every source, sorted by publisher, each row
                        anchored as #src-<id> so any page can link to it

The tables and the sources live on two pages (TABLES_PAGE, SOURCES_PAGE: the list of sources is
as heavy as every table together, and a page carrying both was over the site's weight budget),
so links between them name the other page.

It reads only what scripts/build_charts.py wrote to docs/generated/ (data/datapackage.json, the
data/*.csv copies and figures.json), so it is plain Python-Markdown and works outside MkDocs too.
Section headings carry ids through attr_list ({#table-<name>}), so load attr_list with it. Every
data string is escaped: a title or note containing markup renders as text. CSV links are Markdown
links relative to the docs root (generated/data/<file>.csv), which MkDocs rewrites for the page
and checks exist. A missing build output or a malformed line raises BuildError with the page and
line.
"""

from __future__ import annotations

import csv
import io
import json
import posixpath
import re
from html import escape
from pathlib import Path
from urllib.parse import quote

from markdown import Extension
from markdown.preprocessors import Preprocessor

from scripts import render_cache
from scripts.build_error import BuildError
from scripts.chart_embed import FENCE, format_value

DIRECTIVE = re.compile(r"^ {0,3}\{\{\s*(datapackage|derived|sources)\s*\}\}\s*$")
ANYWHERE = re.compile(r"\{\{\s*(datapackage|derived|sources)\s*\}\}")
# A directive line, once marked: STX/ETX as Python-Markdown's own placeholders use.
MARK_START, MARK_END = "\x02data_catalogue:", "\x03"
MARKER = re.compile(re.escape(MARK_START) + r"([a-z]+):(\d+)" + re.escape(MARK_END))
CSV_NAME = re.compile(r"^[A-Za-z0-9_.-]+\.csv$")
CAVEAT_REF = re.compile(r"\bx_caveats(?:\.([a-z_]+))?")
UNITS_REF = re.compile(r"\bx_units\b")
# Readable names for the shared caveats; a caveat not listed here is shown under its key.
CAVEAT_TITLES = {
    "caam_vs_cpca": "CAAM versus CPCA",
    "confidence": "Confidence scale",
    "no_derivation": "Nothing derived",
    "period_grammar": "How periods are written",
    "source_quality": "Source quality",
    "events": "Confidence of timeline events",
    "claims": "Confidence of claim verdicts",
}
# Tables whose rows are not sourced figures but the list of sources itself.
SOURCES = "sources"
# The pages that hold {{ datapackage }} and {{ sources }}, as paths under docs/.
TABLES_PAGE, SOURCES_PAGE = "data.md", "sources.md"


def text(value: object) -> str:
    """Escape a data string for HTML (quotes too, so it is safe inside attributes)."""
    return escape("" if value is None else str(value), quote=True)


def md_text(md, value: object) -> str:
    """Escape a data string for Markdown inline text: no syntax, no markup, just the words."""
    # Backslash every character this Markdown instance (with its extensions) reads as syntax;
    # < > & become entities instead, which Markdown passes through as text.
    special = "".join(re.escape(c) for c in md.ESCAPED_CHARS if c not in "<>&")
    raw = re.sub(f"([{special}])", r"\\\1", "" if value is None else str(value))
    return escape(raw, quote=False)


def _link(url: str, label: str) -> str:
    """An external link, or plain text when the address is not http(s)."""
    if not re.match(r"^https?://", url or ""):
        return text(label)
    return f'<a href="{text(url)}" rel="noopener noreferrer">{text(label)}</a>'


def _described(html: str, caveats: dict) -> str:
    """Turn references to shared caveats and units in escaped text into links."""

    def caveat(m: re.Match) -> str:
        key = m.group(1)
        if key is None:
            return '<a href="#caveats">shared caveats</a>'
        if key in caveats:
            return f'<a href="#caveat-{key}">{text(_caveat_title(key))}</a>'
        return m.group(0)

    html = CAVEAT_REF.sub(caveat, html)
    return UNITS_REF.sub('<a href="#units">units</a>', html)


def _caveat_title(key: str) -> str:
    return CAVEAT_TITLES.get(key, key.replace("_", " "))


class Catalogue:
    """What build_charts wrote under docs/generated/, read once per Markdown instance."""

    def __init__(self, generated: Path) -> None:
        self.generated = generated
        self._package: dict | None = None
        self._rows: dict[str, list[dict]] = {}
        self._figures: dict | None = None

    def _read(self, rel: str) -> str:
        path = self.generated / rel
        if not path.exists():
            raise BuildError(str(path), "not built", expected="python -m scripts.build_charts")
        data = path.read_bytes()
        render_cache.note(path, data)
        return data.decode("utf-8")

    @property
    def package(self) -> dict:
        if self._package is None:
            self._package = json.loads(self._read("data/datapackage.json"))
        return self._package

    @property
    def figures(self) -> dict:
        if self._figures is None:
            self._figures = json.loads(self._read("figures.json"))
        return self._figures

    def resources(self) -> list[dict]:
        return self.package["resources"]

    def rows(self, resource: dict) -> list[dict]:
        name, path = resource["name"], str(resource.get("path", ""))
        if name not in self._rows:
            if not CSV_NAME.match(path):
                raise BuildError(
                    str(self.generated / "data" / "datapackage.json"),
                    f"resource '{name}' has path '{path}'",
                    field="path",
                    expected="a plain file name ending in .csv",
                )
            self._rows[name] = list(csv.DictReader(io.StringIO(self._read(f"data/{path}"))))
        return self._rows[name]

    def source_fields(self, resource: dict) -> list[str]:
        """Fields of this table that name a source (its foreign keys into sources)."""
        out = []
        for key in resource.get("schema", {}).get("foreignKeys", []):
            if key.get("reference", {}).get("resource") == SOURCES:
                fields = key["fields"]
                out += [fields] if isinstance(fields, str) else list(fields)
        return out

    def citations(self) -> dict[str, list[str]]:
        """Map each source id to the names of the tables that cite it."""
        cited: dict[str, list[str]] = {}
        for res in self.resources():
            for field in self.source_fields(res):
                for row in self.rows(res):
                    names = cited.setdefault(row.get(field, ""), [])
                    if res["name"] not in names:
                        names.append(res["name"])
        return cited


def _licence(licences: list[dict]) -> str:
    """A licence line, or nothing when the package names no licence."""
    named = "; ".join(
        _link(lic.get("path", ""), lic.get("title") or lic.get("name", "")) for lic in licences
    )
    return f"<p><strong>Licence:</strong> {named}.</p>" if named else ""


def _stash(md, html: str) -> list[str]:
    """The HTML as a block of its own (blank lines around the placeholder)."""
    return ["", md.htmlStash.store(html), ""]


def package_lines(md, cat: Catalogue) -> list[str]:
    """Markdown lines for {{ datapackage }}."""
    pkg = cat.package
    caveats = pkg.get("x_caveats", {})
    units = pkg.get("x_units", {})
    out = _stash(
        md,
        f'<div class="catalogue"><p><strong>{text(pkg.get("title", ""))}.</strong> '
        f"{_described(text(pkg.get('description', '')), caveats)}</p>"
        f"{_licence(pkg.get('licenses', []))}</div>",
    )
    out += [
        "The whole package, described for Frictionless tools: "
        "[datapackage.json](generated/data/datapackage.json).",
        "",
    ]
    if caveats:
        out += ["### Caveats that apply to every table {#caveats}", ""]
        items = "".join(
            f'<dt id="caveat-{text(key)}">{text(_caveat_title(key))}</dt>'
            f"<dd>{_described(text(value), caveats)}</dd>"
            for key, value in caveats.items()
        )
        out += _stash(md, f'<div class="catalogue"><dl>{items}</dl></div>')
    if units:
        out += ["### Units {#units}", ""]
        body = "".join(
            f"<tr><td><code>{text(code)}</code></td><td>{text(unit.get('label', ''))}</td>"
            f"<td>{text(unit.get('symbol', ''))}</td></tr>"
            for code, unit in sorted(units.items())
        )
        out += _stash(
            md,
            '<div class="catalogue"><table><thead><tr><th scope="col">Unit code</th>'
            '<th scope="col">Meaning</th><th scope="col">Shown as</th></tr></thead>'
            f"<tbody>{body}</tbody></table></div>",
        )
    for res in cat.resources():
        out += table_lines(md, cat, res)
    return out


def table_lines(md, cat: Catalogue, res: dict) -> list[str]:
    """Markdown lines for one table of the package."""
    pkg, name = cat.package, res["name"]
    caveats, units = pkg.get("x_caveats", {}), pkg.get("x_units", {})
    rows = cat.rows(res)
    cited = sorted({row.get(f, "") for f in cat.source_fields(res) for row in rows} - {""})
    licences = res.get("licenses") or pkg.get("licenses", [])
    lines = [f"### {md_text(md, res.get('title') or name)} {{#table-{name}}}", ""]
    meta = [f"{len(rows):,} row{'' if len(rows) == 1 else 's'}"]
    if cited:
        meta.append(f"cites {len(cited):,} [sources]({_md_href(md, SOURCES_PAGE)})")
    path = quote(res["path"])
    lines += _stash(
        md,
        f'<div class="catalogue"><p>{_described(text(res.get("description", "")), caveats)}</p>'
        f"{_licence(licences)}<p>Table name: <code>{text(name)}</code>.</p></div>",
    )
    lines += [
        f"**Download:** [{md_text(md, res['path'])}](generated/data/{path})"
        f'{{ download="{path}" }} '  # attr_list
        f"(CSV, {', '.join(meta)})",
        "",
    ]
    body = "".join(_field_row(f, rows, units, caveats) for f in res["schema"]["fields"])
    lines += _stash(
        md,
        f'<div class="catalogue"><table><caption>Fields of <code>{text(name)}</code></caption>'
        '<thead><tr><th scope="col">Field</th><th scope="col">Type</th>'
        '<th scope="col">Unit</th><th scope="col">Description</th></tr></thead>'
        f"<tbody>{body}</tbody></table></div>",
    )
    return lines


def _md_href(md, target: str) -> str:
    """A Markdown link target for another page: its path relative to the current page's folder,
    which MkDocs rewrites to the page's URL and checks exists."""
    page = _page(md)
    folder = posixpath.dirname(page.removeprefix("docs/")) if page != "page" else ""
    return posixpath.relpath(target, folder or ".")


def _field_row(field: dict, rows: list[dict], units: dict, caveats: dict) -> str:
    name = field["name"]
    unit = field.get("unit") or field.get("x_unit") or ""
    if not unit and name == "value" and rows and "unit" in rows[0]:
        # A long table: each row names its unit, so list the units this table uses.
        used = sorted({row["unit"] for row in rows if row.get("unit")})
        unit = ", ".join(units.get(u, {}).get("label", u) for u in used)
    constraints = field.get("constraints", {})
    notes = [n for n in ("required", "unique") if constraints.get(n)]
    if constraints.get("enum"):
        notes.append("one of: " + ", ".join(str(v) for v in constraints["enum"]))
    title = f"<br>{text(field['title'])}" if field.get("title") else ""
    desc = _described(text(field.get("description", "")), caveats)
    rule = f"<br><small>{text('; '.join(notes))}</small>" if notes else ""
    return (
        f"<tr><td><code>{text(name)}</code>{title}</td><td>{text(field.get('type', 'string'))}</td>"
        f"<td>{text(unit) or '—'}</td><td>{desc}{rule}</td></tr>"
    )


def derived_lines(md, cat: Catalogue) -> list[str]:
    """Markdown lines for {{ derived }}: each figure we calculate, how, and from what."""
    figures = cat.figures["figures"]
    rows = [
        _derived_row(md, i, row, cat.figures)
        for i, row in sorted(figures.items())
        if "formula" in row
    ]
    if not rows:
        return ["", "We calculate no figures of our own yet.", ""]
    return _stash(
        md,
        '<div class="catalogue"><table><thead><tr><th scope="col">Figure</th>'
        '<th scope="col">Formula</th><th scope="col">Inputs (value, source)</th>'
        f'<th scope="col">Result</th></tr></thead><tbody>{"".join(rows)}</tbody></table></div>',
    )


def _derived_row(md, ident: str, row: dict, data: dict) -> str:
    figures, units, sources = data["figures"], data["units"], data["sources"]

    def shown(r: dict) -> str:
        low = ", low confidence" if r.get("confidence") == "low" else ""
        return text(format_value(r["value"], r["unit"], units) + low)

    inputs = "<br>".join(
        f"<code>{text(i)}</code> = {shown(figures[i])} "
        f"({_source_ref(md, figures[i]['source_id'], sources)})"
        for i in row.get("inputs", [])
        if i in figures
    )
    return (
        f'<tr id="derived-{text(ident)}"><td><code>{text(ident)}</code><br>'
        f"{text(row['metric'])}</td><td>{text(row['formula'])}</td><td>{inputs}</td>"
        f"<td>{shown(row)}</td></tr>"
    )


def _source_ref(md, source_id: str, sources: dict) -> str:
    publisher = sources.get(source_id, {}).get("publisher", source_id)
    href = page_href(md, SOURCES_PAGE, f"src-{source_id}")
    return f'<a href="{text(href)}">{text(publisher)}</a>'


def sources_lines(md, cat: Catalogue) -> list[str]:
    """Markdown lines for {{ sources }}: one anchored row per source, sorted by publisher."""
    res = next((r for r in cat.resources() if r["name"] == SOURCES), None)
    if res is None:
        raise BuildError(
            str(cat.generated / "data" / "datapackage.json"),
            "no 'sources' resource",
            expected="a resource named 'sources' listing every source",
        )
    cited = cat.citations()
    titles = {r["name"]: r.get("title") or r["name"] for r in cat.resources()}
    ordered = sorted(
        cat.rows(res),
        key=lambda s: (s["publisher"].casefold(), s.get("published") or "", s["title"].casefold()),
    )
    tables = page_href(md, TABLES_PAGE, "table-")
    groups = _by_initials(ordered)
    out = [
        "",
        f"{len(ordered):,} sources, sorted by publisher, in {len(groups)} groups by the "
        "publisher's first letter.",
        "",
    ]
    for label, anchor, group in groups:
        body = "".join(_source_row(s, cited.get(s["id"], []), titles, tables) for s in group)
        out += [f"## Publishers {md_text(md, label)} {{#{anchor}}}", ""]
        out += _stash(
            md,
            f'<div class="catalogue"><table><caption>Publishers {text(label)}: '
            f"{len(group):,} source{'' if len(group) == 1 else 's'}</caption>"
            '<thead><tr><th scope="col">Publisher, date</th>'
            '<th scope="col">Title (source id)</th><th scope="col">Cited in</th></tr></thead>'
            f"<tbody>{body}</tbody></table></div>",
        )
    return out


# The list is cut into groups of at least this many sources: each group is drawn only when
# the reader nears it (content-visibility in site.css), and one table of every source was
# seconds of layout on a phone before the page answered.
GROUP_ROWS = 20


def _initial(publisher: str) -> str:
    first = publisher.strip()[:1].upper()
    return "0–9" if first.isdigit() else first or "?"


def _by_initials(ordered: list[dict]) -> list[tuple[str, str, list[dict]]]:
    """Sources (sorted by publisher) in runs of whole initials of about GROUP_ROWS each:
    (label such as "D–E", anchor, rows). A run closes once it holds GROUP_ROWS, or before an
    initial that would take it past twice that."""
    by_initial: dict[str, list[dict]] = {}
    for source in ordered:
        by_initial.setdefault(_initial(source["publisher"]), []).append(source)
    runs: list[tuple[list[str], list[dict]]] = []
    for initial, rows in by_initial.items():
        last = runs[-1] if runs else None
        full = last is not None and (
            len(last[1]) >= GROUP_ROWS
            or (len(last[1]) + len(rows) > 2 * GROUP_ROWS and len(last[1]) >= GROUP_ROWS // 2)
        )
        if last is None or full:
            runs.append(([initial], list(rows)))
        else:
            last[0].append(initial)
            last[1].extend(rows)
    out = []
    for initials, rows in runs:
        letters = [i for i in initials if i != "0–9"]
        label = f"{letters[0]}–{letters[-1]}" if len(letters) > 1 else "".join(letters)
        if len(letters) < len(initials):
            label = f"0–9 and {label}" if label else "0–9"
        slug = re.sub(r"[^a-z0-9]+", "-", label.casefold()).strip("-") or "other"
        out.append((label, f"publishers-{slug}", rows))
    return out


def _source_row(source: dict, tables: list[str], titles: dict[str, str], href: str) -> str:
    """One source: who, when, what (linked), its id, and the tables that cite it.

    href is the link to a table's section without the table's name (…data/#table-).
    """
    cited = ", ".join(
        f'<a href="{text(href + n)}" title="{text(titles.get(n, n))}">{text(n)}</a>' for n in tables
    )
    return (
        f'<tr id="src-{text(source["id"])}">'
        f"<td>{text(source['publisher'])}<br><small>{text(source.get('published') or 'undated')}"
        f"</small></td><td>{_link(source['url'], source['title'])}<br>"
        f"<small>{text(source['id'])}</small></td><td>{cited}</td></tr>"
    )


BUILDERS = {"datapackage": package_lines, "derived": derived_lines, "sources": sources_lines}


def _page(md) -> str:
    """The page being converted, as docs/<path>, when MkDocs is converting it."""
    proc = md.treeprocessors["relpath"] if "relpath" in md.treeprocessors else None  # noqa: SIM401
    file = getattr(proc, "file", None)
    return f"docs/{file.src_uri}" if file is not None else "page"


def page_href(md, target: str, anchor: str) -> str:
    """An HTML href from the page being converted to #anchor on target (a path under docs/).

    Raw HTML is not rewritten by MkDocs, so this asks MkDocs for the target's URL relative to
    the current page; outside MkDocs (or for a page not built) the link names the Markdown file.
    """
    proc = md.treeprocessors["relpath"] if "relpath" in md.treeprocessors else None  # noqa: SIM401
    here, files = getattr(proc, "file", None), getattr(proc, "files", None)
    if here is not None and here.src_uri == target:
        return f"#{anchor}"
    there = files.get_file_from_path(target) if files is not None else None
    if here is None or there is None:
        return f"{target}#{anchor}"
    return f"{there.url_relative_to(here)}#{anchor}"


class DirectivePreprocessor(Preprocessor):
    """Stage one: swap each directive line for a one-line marker, so line numbers stay true.

    chart_embed, which runs next, rejects any {{ ... }} it does not know and reports errors by
    line number; a marker line is invisible to it, and expanding later keeps its numbers right.
    """

    def run(self, lines: list[str]) -> list[str]:
        out, fenced = [], False
        for number, line in enumerate(lines, start=1):
            if FENCE.match(line):
                fenced = not fenced
            if fenced or "{{" not in line:
                out.append(line)
                continue
            m = DIRECTIVE.match(line)
            if m:
                out.append(f"{MARK_START}{m.group(1)}:{number}{MARK_END}")
                continue
            unquoted = re.sub(r"`+[^`]*`+", "", line)  # the guide shows the syntax in code
            if ANYWHERE.search(unquoted):
                raise BuildError(
                    _page(self.md),
                    "a catalogue directive must stand on a line of its own",
                    line=number,
                    expected="{{ datapackage }}, {{ derived }} or {{ sources }} alone on the line",
                )
            out.append(line)
        return out


class ExpandPreprocessor(Preprocessor):
    """Stage two: replace each marker with the catalogue it stands for."""

    def __init__(self, md, generated: Path) -> None:
        super().__init__(md)
        self.catalogue = Catalogue(generated)

    def run(self, lines: list[str]) -> list[str]:
        out = []
        for line in lines:
            m = MARKER.fullmatch(line)
            if not m:
                out.append(line)
                continue
            name, number = m.group(1), int(m.group(2))
            try:
                out += BUILDERS[name](self.md, self.catalogue)
            except BuildError as err:
                # Say which page asked for it, and keep the data file's own location.
                raise BuildError(_page(self.md), f"{{{{ {name} }}}}: {err}", line=number) from None
        return out


class DataCatalogueExtension(Extension):
    def __init__(self, **kwargs) -> None:
        self.config = {"generated": ["docs/generated", "folder written by build_charts"]}
        super().__init__(**kwargs)

    def extendMarkdown(self, md) -> None:  # noqa: N802 (Python-Markdown's name)
        generated = Path(self.getConfig("generated"))
        # Mark after snippets (32) and before chart_embed (29), which rejects unknown {{ ... }};
        # expand after chart_embed, before fenced code (25) and HTML blocks (20) read the lines.
        md.preprocessors.register(DirectivePreprocessor(md), "data_catalogue_mark", 29.5)
        md.preprocessors.register(ExpandPreprocessor(md, generated), "data_catalogue", 28)


def makeExtension(**kwargs) -> DataCatalogueExtension:  # noqa: N802
    return DataCatalogueExtension(**kwargs)
