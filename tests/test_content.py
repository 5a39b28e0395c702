"""Content: what a reader would notice on the built pages, checked on one build of the site.

Every test reads the site that the shared `built_site` fixture (tests/conftest.py) builds once per
session with `mkdocs build --strict`, from the repository root.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import markdown
import pytest
from bs4 import BeautifulSoup

from scripts.derived_figures import DERIVED
from tests.conftest import ROOT, run_build

CHAPTERS = ("index", "policy-shift", "fee-flows", "channel", "dependency", "claims")

# What chapter prose may contain besides numbers from {{ fig ... }}: leave this list short.
MONTHS = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?"
)
ALLOWED = {
    "ISO date": r"\b(?:199\d|20[0-3]\d)-(?:0[1-9]|1[0-2])(?:-(?:0[1-9]|[12]\d|3[01]))?\b",
    "day and month": rf"\b(?:[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?\s+{MONTHS}(?![a-z])"
    rf"|\b{MONTHS}\s+(?:[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?\b(?!,\d)",
    "year 1990-2035": r"(?<![\d.,])(?:199\d|20[0-2]\d|203[0-5])s?(?!\d|[.,]\d|\s?%)",
    "chapter or section number": r"\b(?:[Cc]hapter|[Ss]ection|[Pp]art)\s+\d+(?:\.\d+)*\b",
    "claim id": r"\bC\d{2}\b",
    # Names that merely contain a digit: AITO M9, L2, Q1, H1, S800.
    "name with a digit": r"\b[A-Za-z]+\d[A-Za-z\d]*\b",
    # Publishers whose names start with one.
    "publisher name": r"\b36Kr\b|\b163\.com\b|\b21st Century\b",
}
ALLOWED_RE = re.compile("|".join(f"(?:{p})" for p in ALLOWED.values()))
# Not prose: charts (with their data tables), sourced figures, code, permalinks, footnote marks,
# and anything the data catalogue generated.
NOT_PROSE = ".chart, .fig, code, pre, .headerlink, .footnote-ref, .footnote-backref, .catalogue"


def page_path(site: Path, slug: str) -> Path:
    return site / ("index.html" if slug == "index" else f"{slug}/index.html")


def content(html: str) -> BeautifulSoup:
    """The page's main content (Material's .md-content), parsed."""
    found = BeautifulSoup(html, "html.parser").select_one(".md-content")
    assert found is not None, "no .md-content on the page"
    return found


def prose(html: str) -> str:
    """The text a reader reads as prose: the content without charts, figures and code."""
    main = content(html)
    for element in main.select(NOT_PROSE):
        element.decompose()
    return " ".join(main.get_text(" ").split())


def bare_numbers(html: str) -> list[str]:
    """Return each number in the prose that is not allowed, with a little context."""
    text = ALLOWED_RE.sub(" ", prose(html))
    return [text[max(0, m.start() - 30) : m.end() + 30] for m in re.finditer(r"\d+", text)]


def read_csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def glossary_terms() -> dict[str, str]:
    """Term -> definition, from the hover definitions every page gets."""
    text = (ROOT / "docs" / "includes" / "abbreviations.md").read_text(encoding="utf-8")
    return dict(re.findall(r"^\*\[(.+?)\]:\s*(.+?)\s*$", text, flags=re.M))


# --- the checker, on tiny pages -------------------------------------------------------------


def _page(body: str) -> str:
    return f'<html><body><div class="md-content"><article>{body}</article></div></body></html>'


@pytest.mark.parametrize(
    "body,flagged",
    [
        ("<p>Seres paid Huawei 20bn yuan.</p>", True),
        ("<p>Huawei ran over 5,000 stores.</p>", True),
        ("<p>Shares were priced at HK$131.50.</p>", True),
        ("<p>It took 28 months, a third of 2024's total.</p>", True),
        ("<h2>Up 40% in a year</h2>", True),
        ('<p>Sold <span class="fig">12.87 million</span> vehicles in 2024.</p>', False),
        ("<p>The subsidy ended on 31 December 2022; from 1 Sep 2014 no tax.</p>", False),
        ("<p>The AITO M9, L2 driving and Q1 2024 profit (C04); see chapter 2.</p>", False),
        ("<p>Since the 2010s, period 2022-06, H1 2025.</p>", False),
        ("<p>36Kr and 163.com, via the 21st Century Business Herald.</p>", False),
        ("<p>Write <code>{{ fig caam_nev_sales_2024 }}</code> for 2024.</p>", False),
        ('<figure class="chart"><table><tr><td>12870000</td></tr></table></figure>', False),
    ],
)
def test_bare_number_checker(body, flagged):
    assert bool(bare_numbers(_page(body))) is flagged


# --- the chapters ----------------------------------------------------------------------------


@pytest.mark.parametrize("slug", CHAPTERS)
def test_chapter_states_no_bare_number(built_site, slug):
    found = bare_numbers(page_path(built_site, slug).read_text(encoding="utf-8"))
    assert not found, (
        f"{slug}: numbers in prose must be {{{{ fig <id> }}}} references: " + " | ".join(found)
    )


def test_claims_page_has_a_section_for_every_claim(built_site):
    page = content(page_path(built_site, "claims").read_text(encoding="utf-8"))
    ids = {element["id"].casefold() for element in page.select("[id]")}
    claims = [row["id"] for row in read_csv(ROOT / "data" / "claims.csv")]
    missing = [c for c in claims if c.casefold() not in ids]
    assert not missing, f"claims without a section anchored by their id: {missing}"


@pytest.mark.parametrize("slug", CHAPTERS)
def test_hovering_a_term_shows_its_glossary_definition(built_site, slug):
    html = page_path(built_site, slug).read_text(encoding="utf-8")
    terms = glossary_terms()
    shown = {(a.get_text(), a.get("title")) for a in content(html).select("abbr")}
    text = prose(html)
    used = [t for t in terms if re.search(rf"(?<!\w){re.escape(t)}(?!\w)", text)]
    bare = [t for t in used if (t, terms[t]) not in shown]
    assert not bare, f"{slug}: terms without their hover definition: {bare}"


# --- embeds ----------------------------------------------------------------------------------

EMBED = re.compile(r"\{\{\s*(chart|fig)\s+([A-Za-z0-9_]+)\s*\}\}")


def _embeds() -> list[tuple[str, str, str]]:
    """Every chart and figure reference in docs/*.md, outside code."""
    found = []
    for path in sorted((ROOT / "docs").glob("*.md")):
        text = re.sub(r"^(```|~~~).*?^\1", "", path.read_text(encoding="utf-8"), flags=re.M | re.S)
        text = re.sub(r"`+[^`\n]*`+", "", text)
        found += [(path.name, kind, name) for kind, name in EMBED.findall(text)]
    return found


def test_every_embed_in_the_pages_resolves(built_site):
    figures = json.loads((ROOT / "docs" / "generated" / "figures.json").read_text())["figures"]
    charts = {p.name for p in (built_site / "generated" / "charts").iterdir()}
    embeds = _embeds()
    assert embeds, "no {{ chart }} or {{ fig }} in docs/*.md"
    unknown = [e for e in embeds if e[2] not in (charts if e[1] == "chart" else figures)]
    assert not unknown, f"references to nothing: {unknown}"


@pytest.mark.parametrize(
    "line,says",
    [
        ("Sales were {{ fig nope }} that year.", "unknown figure 'nope'"),
        (
            "As listed in {{ sources }} above.",
            "a catalogue directive must stand on a line of its own",
        ),
    ],
)
def test_a_bad_reference_after_the_catalogue_names_its_true_line(project, line, says):
    # The data page's directives expand into hundreds of lines; errors below them must still
    # point at the line the contributor wrote.
    page = project / "docs" / "data.md"
    lines = page.read_text(encoding="utf-8").splitlines() + ["", line]
    page.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run_build(project)
    assert result.returncode != 0
    assert f"docs/data.md:{len(lines)}: {says}" in result.stderr, result.stderr


# --- the data page ---------------------------------------------------------------------------


def test_data_page_lists_every_table_with_a_working_csv_link(built_site):
    page_file = page_path(built_site, "data")
    page = content(page_file.read_text(encoding="utf-8"))
    package = json.loads((ROOT / "data" / "datapackage.json").read_text(encoding="utf-8"))
    for res in package["resources"]:
        section = page.select_one(f"#table-{res['name']}")
        assert section is not None, f"no section for table '{res['name']}'"
        links = [a["href"] for a in page.select("a[href]") if a["href"].endswith(f"/{res['path']}")]
        assert links, f"no download link for {res['path']}"
        target = (page_file.parent / links[0]).resolve()
        assert target.is_file() and target.stat().st_size > 0, f"{links[0]} leads nowhere"


def test_sources_page_anchors_every_source(built_site):
    page = content(page_path(built_site, "sources").read_text(encoding="utf-8"))
    anchors = {element["id"] for element in page.select("[id^=src-]")}
    sources = [row["id"] for row in read_csv(ROOT / "data" / "sources.csv")]
    missing = [s for s in sources if f"src-{s}" not in anchors]
    assert not missing, f"sources without an anchor on the sources page: {missing}"


@pytest.mark.parametrize(
    ("publishers", "labels"),
    [
        (["A"] * 25 + ["B"] * 3, ["A", "B"]),
        (["36Kr"] * 2 + ["A"] * 5 + ["B"] * 14 + ["C"] * 30, ["0–9 and A–B", "C"]),
        (["D"] * 12 + ["E"] * 12 + ["F"] * 30, ["D–E", "F"]),
        (["N"] * 3, ["N"]),
    ],
)
def test_sources_are_listed_in_groups_of_whole_initials(publishers, labels):
    from scripts.data_catalogue import _by_initials

    rows = [{"publisher": p, "id": str(i)} for i, p in enumerate(publishers)]
    groups = _by_initials(rows)
    assert [label for label, _, _ in groups] == labels
    assert [r for _, _, group in groups for r in group] == rows  # none lost, order kept


def _links_to(page_file: Path, target: str) -> list[str]:
    """Anchors of the links in page_file's content that lead to the built page target."""
    page = content(page_file.read_text(encoding="utf-8"))
    there = (page_file.parent.parent / target).resolve()
    out = []
    for a in page.select("a[href*='#']"):
        path, anchor = a["href"].split("#", 1)
        if path and (page_file.parent / path).resolve() == there:
            out.append(anchor)
    return out


@pytest.mark.parametrize(
    ("source", "target", "prefix"),
    [("data", "sources", "src-"), ("sources", "data", "table-")],
)
def test_links_between_the_data_and_sources_pages_land(built_site, source, target, prefix):
    # The two pages were one; a link still written as a same-page #anchor would lead nowhere.
    anchors = _links_to(page_path(built_site, source), target)
    assert [a for a in anchors if a.startswith(prefix)], f"no {prefix} link to the {target} page"
    there = content(page_path(built_site, target).read_text(encoding="utf-8"))
    ids = {element["id"] for element in there.select("[id]")}
    missing = sorted({a for a in anchors if a and a not in ids})
    assert not missing, f"links from {source} to anchors {target} lacks: {missing[:5]}"


def test_data_page_leads_to_the_sources_and_says_how_to_cite(built_site):
    page_file = page_path(built_site, "data")
    page = content(page_file.read_text(encoding="utf-8"))
    assert page.select_one("#cite"), "the data page has no 'How to cite this site' section"
    section = page.select_one("#sources")
    assert section is not None, "the data page has no Sources section"
    prose = section.find_next("p")
    targets = [(page_file.parent / a["href"]).resolve() for a in prose.select("a[href]")]
    assert (page_file.parent.parent / "sources").resolve() in targets, prose


def test_data_strings_render_as_text_not_markup(tmp_path):
    generated = tmp_path / "generated"
    (generated / "data").mkdir(parents=True)
    fields = [{"name": "id", "type": "string", "description": "<b>bold</b> *not emphasis*"}]
    package = {
        "title": "<script>alert(1)</script>",
        "resources": [
            {
                "name": "sources",
                "path": "sources.csv",
                "title": "Sources *of* <i>data</i>",
                "schema": {"fields": fields},
            },
        ],
    }
    (generated / "data" / "datapackage.json").write_text(json.dumps(package), encoding="utf-8")
    (generated / "data" / "sources.csv").write_text(
        'id,title,publisher,url,published\nx,"<img src=x onerror=alert(1)>",[P](http://e),'
        "javascript:alert(1),\n",
        encoding="utf-8",
    )
    html = markdown.markdown(
        "{{ datapackage }}\n\n{{ sources }}",
        extensions=["attr_list", "scripts.data_catalogue"],
        extension_configs={"scripts.data_catalogue": {"generated": str(generated)}},
    )
    soup = BeautifulSoup(html, "html.parser")
    assert not soup.select("script, img, i, b, em"), html
    assert not soup.select('a[href^="javascript:"]'), html
    assert "<script>alert(1)</script>" in soup.get_text()
    assert "Sources *of* <i>data</i>" in soup.get_text()


# --- glossary and methodology ----------------------------------------------------------------


def test_every_hover_term_has_a_glossary_entry(built_site):
    page = content(page_path(built_site, "glossary").read_text(encoding="utf-8"))
    entries = " | ".join(dt.get_text(" ") for dt in page.select("dl dt")).casefold()
    missing = [t for t in glossary_terms() if t.casefold() not in entries]
    assert not missing, f"hover terms with no glossary entry: {missing}"


def test_methodology_notebook_recomputes_every_derived_figure(built_site):
    page = content(page_path(built_site, "methodology").read_text(encoding="utf-8"))
    table = page.select_one("table#derived-figures")
    assert table is not None, "the methodology page has no derived-figures table"
    rows = table.select("tbody tr")
    assert [r.select_one("td code").get_text() for r in rows] == [d.id for d in DERIVED]
    assert all(r.select("td")[-1].get_text() == "yes" for r in rows), "a figure drifted"


def test_every_image_says_what_it_shows(built_site):
    """Screen readers read an image's alternative text: every image on every page has one of
    its own (not empty, not nbconvert's stock "No description has been provided")."""
    vague = []
    for html in sorted(built_site.rglob("*.html")):
        for img in content(html.read_text(encoding="utf-8")).select("img"):
            text = (img.get("alt") or "").strip()
            if img.get("role") != "presentation" and (len(text) < 10 or "No description" in text):
                vague.append(f"{html.relative_to(built_site)}: {text!r}")
    assert not vague, vague


def test_each_notebook_copy_button_copies_its_cells_code(built_site):
    # The button copies the text of the element it names; that must be the cell's own code.
    page = content(page_path(built_site, "methodology").read_text(encoding="utf-8"))
    notebook = json.loads((ROOT / "docs" / "methodology.ipynb").read_text(encoding="utf-8"))
    code = ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code"]
    buttons = page.select("clipboard-copy[for]")
    assert len(buttons) == len(code), "a code cell without its copy button"
    for button, source in zip(buttons, code, strict=True):
        target = page.find(id=button["for"])
        assert target is not None, f"copy button for #{button['for']}: no such element"
        assert target.get_text().rstrip("\n") == source.rstrip("\n"), button["for"]
