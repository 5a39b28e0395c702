"""Every kind of broken input, through the real entry point (`make build`): exit 1, one message
naming the file, line and field with what was expected, no traceback, and the last good site/
still complete and unchanged.

One scratch project is built once; each case breaks it, builds, checks, and puts it back.
tests/test_data.py and tests/test_charts.py test the same layers at the unit level.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import ROOT, copy_project, run_build, tree_digest

T = "data/nev_market_annual.csv"
D = "data/datapackage.json"
S = "data/sources.csv"
C = "charts/broken_chart.py"
P = "docs/policy-shift.md"
N = "docs/methodology.ipynb"
M = "mkdocs.yml"
EDITABLE = ("data", "charts", "docs", "overrides", "mkdocs.yml")


# --- how to break things ------------------------------------------------------------------------


def replace_cell(path: Path, line: int, column: str, value: str) -> None:
    rows = path.read_text(encoding="utf-8").splitlines(keepends=True)
    header = next(csv.reader(io.StringIO(rows[0])))
    cells = next(csv.reader(io.StringIO(rows[line - 1])))
    cells[header.index(column)] = value
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(cells)
    rows[line - 1] = buf.getvalue()
    path.write_text("".join(rows), encoding="utf-8")


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{path}: '{old}' not found; the case needs updating"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def insert_line(path: Path, number: int, line: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    lines.insert(number - 1, line)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def drop_column(path: Path, column: str) -> None:
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    i = rows[0].index(column)
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([r[:i] + r[i + 1 :] for r in rows])
    path.write_text(buf.getvalue(), encoding="utf-8")


def descriptor(root: Path, change) -> None:
    path = root / D
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def field_of(data: dict, table: str, name: str) -> dict:
    res = next(r for r in data["resources"] if r["name"] == table)
    return next(f for f in res["schema"]["fields"] if f["name"] == name)


def latin1_cell(root: Path) -> None:
    replace_cell(root / T, 9, "entity", "China (CAAM, all NEV) \u00e9")
    path = root / T
    path.write_bytes(path.read_bytes().replace("\u00e9".encode(), b"\xe9"))


def duplicate_source(root: Path) -> None:
    path = root / S
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines) + lines[1], encoding="utf-8")


HEAD = '"""A broken chart\n\nA description long enough to say what the chart shows and why.\n"""\n'
IMPORTS = "import altair as alt\n\nTABLES = ('nev_market_annual',)\n\n\n"
ROWS = "    df = data['nev_market_annual'][['period', 'value', 'source_id']]\n"


def chart(root: Path, body: str) -> None:
    (root / C).write_text(HEAD + body, encoding="utf-8")


def notebook_cell(root: Path, source: str) -> None:
    path = root / N
    nb = json.loads(path.read_text(encoding="utf-8"))
    nb["cells"].append(
        {
            "cell_type": "code",
            "execution_count": None,
            "metadata": {},
            "outputs": [],
            "source": source,
        }
    )
    path.write_text(json.dumps(nb, indent=1) + "\n", encoding="utf-8")


def nav_line(root: Path) -> int:
    return root.joinpath(M).read_text().splitlines().index("nav:") + 2


def add_field(root: Path) -> None:
    def change(d: dict) -> None:
        res = next(x for x in d["resources"] if x["name"] == "nev_market_annual")
        res["schema"]["fields"].append(
            {"name": "region", "type": "string", "title": "Region", "description": "Region."}
        )

    descriptor(root, change)


def constrain(root: Path, **constraint) -> None:
    descriptor(
        root, lambda d: field_of(d, "nev_market_annual", "value")["constraints"].update(constraint)
    )


def retype(root: Path) -> None:
    descriptor(root, lambda d: field_of(d, "nev_market_annual", "value").update(type="numbr"))


RAISES = "def chart(data):\n    x = 1\n    raise ValueError('boom')\n"
MISSING_FIELD = (
    "def chart(data):\n" + ROWS + "    return alt.Chart(df).mark_bar().encode(\n"
    "        x='period:O',\n        y='valeu:Q',\n        tooltip=['value:Q'],\n    )\n"
)
NO_CHART = "def chart(data):\n" + ROWS + "    return None\n"
PREFIX_FIELD = (  # 'val' begins the name of a real column on an earlier line: not where it is used
    "def chart(data):\n" + ROWS + "    return alt.Chart(df).mark_bar().encode(\n"
    "        x='period:O',\n        y='val:Q',\n        tooltip=['value:Q'],\n    )\n"
)
UNTYPED_FIELD = (  # a shorthand with no type, naming no column
    "def chart(data):\n" + ROWS + "    return alt.Chart(df).mark_bar().encode(\n"
    "        x='period:O',\n        y='value:Q',\n        opacity='high',\n    )\n"
)
INVALID_PROPERTY = (  # Altair reports it when the whole spec is checked; the line is found after
    "def chart(data):\n" + ROWS + "    bars = alt.Chart(df).mark_bar(opacity='high')\n"
    "    return bars.encode(x='period:O', y='value:Q', tooltip=['value:Q'])\n"
)
UNKNOWN_TABLE = "TABLES = ('nev_market_anual',)\n\n\ndef chart(data):\n    return None\n"
UNKNOWN_SOURCE = (
    "def chart(data):\n" + ROWS + "    df = df.assign(source_id='nope')\n"
    "    return alt.Chart(df).mark_bar().encode(x='period:O', y='value:Q', tooltip=['value:Q'])\n"
)
CJK_TITLE = (  # the images' fonts have no Chinese letters: boxes in the PNG, so an error
    "def chart(data):\n" + ROWS + "    return alt.Chart(df).mark_bar().encode(\n"
    "        x='period:O',\n        y=alt.Y('value:Q', title='销量'),\n"
    "        tooltip=['value:Q'],\n    )\n"
)
CJK_CELL = (  # drawn from a table: the error names the cell
    "def chart(data):\n"
    "    df = data['nev_market_annual'][['period', 'value', 'entity', 'source_id']]\n"
    "    return alt.Chart(df).mark_text().encode(\n"
    "        x='period:O',\n        y='value:Q',\n        text='entity:N',\n    )\n"
)
CJK_SOURCE = "insideevs_2015_01_association_automobile"  # cited by charts/nev_sales_caam.py
CJK_SOURCE_LINE = next(
    n
    for n, line in enumerate((ROOT / S).read_text(encoding="utf-8").splitlines(), 1)
    if line.startswith(CJK_SOURCE + ",")
)
CSP = "overrides/partials/csp.html"

# (id, break it, file, line, field, words the message must contain)
CASES = [
    # CSV
    ("csv_missing_column", lambda r: drop_column(r / T, "confidence"),
     T, 1, "confidence", "lacks the column"),
    ("csv_renamed_column", lambda r: edit(r / T, ",value,", ",Value,"),
     T, 1, "value", "lacks the column"),
    ("csv_wrong_type", lambda r: replace_cell(r / T, 3, "value", "lots"),
     T, 3, "value", "declared type"),
    ("csv_bad_period", lambda r: replace_cell(r / T, 5, "period", "2024-13"),
     T, 5, "period", "period"),
    ("csv_duplicate_key", lambda r: replace_cell(r / T, 6, "id", "caam_nev_sales_2014"),
     T, 6, "id", "duplicate"),
    ("csv_stray_quote", lambda r: edit(r / T, '2016,"China (CAAM, all NEV)"', '2016,"China (CAAM'),
     T, 4, "entity", "quote"),
    ("csv_quote_inside_cell", lambda r: edit(r / T, ",NEV sales,2017,", ',NEV "sales,2017,'),
     T, 5, "metric", "quote"),
    ("csv_wrong_encoding", latin1_cell, T, 9, "entity", "not UTF-8"),
    ("csv_empty", lambda r: (r / T).write_text(""), T, 1, None, "empty"),
    ("csv_stray_delimiter", lambda r: edit(r / T, "caam_nev_sales_2018,", "caam_nev_sales_2018,x,"),
     T, 7, None, "more cells"),
    ("csv_not_in_enum", lambda r: replace_cell(r / T, 7, "confidence", "certain"),
     T, 7, "confidence", "enum"),
    ("csv_below_minimum", lambda r: replace_cell(r / T, 9, "value", "-5"),
     T, 9, "value", "minimum"),
    ("csv_unknown_unit", lambda r: replace_cell(r / T, 10, "unit", "furlongs"),
     T, 10, "unit", "furlongs"),
    ("csv_missing_required", lambda r: replace_cell(r / T, 11, "metric", ""),
     T, 11, "metric", "required"),
    ("csv_not_described", lambda r: shutil.copy(r / T, r / "data/extra.csv"),
     "data/extra.csv", 1, None, "not described"),
    # datapackage.json
    ("dp_invalid_json", lambda r: edit(r / D, '"resources"', '"resources" "'),
     D, None, None, "invalid JSON"),
    ("dp_field_the_csv_lacks", add_field, T, 1, "region", "lacks the column"),
    ("dp_constraint_broken", lambda r: constrain(r, maximum=100000), T, 3, "value", "maximum"),
    ("dp_constraint_malformed", lambda r: constrain(r, minimum="zero"),
     D, None, "value", "'minimum'"),
    ("dp_unknown_type", retype, D, None, "value", "unknown type"),
    ("dp_missing_file", lambda r: edit(r / D, "nev_market_annual.csv", "nev_market_anual.csv"),
     D, None, "path", "does not exist"),
    # sources
    ("src_unknown_id", lambda r: replace_cell(r / T, 4, "source_id", "nope"),
     T, 4, "source_id", "does not resolve"),
    ("src_missing_url", lambda r: replace_cell(r / S, 2, "url", ""), S, 2, "url", "required"),
    ("src_url_not_a_url", lambda r: replace_cell(r / S, 3, "url", "www.example.com"),
     S, 3, "url", "pattern"),
    ("src_duplicate_id", duplicate_source, S, None, "id", "duplicate"),
    ("src_publisher_not_drawable",
     lambda r: replace_cell(r / S, CJK_SOURCE_LINE, "publisher", "中国汽车工业协会"),
     S, CJK_SOURCE_LINE, "publisher", "would be drawn"),
    # a chart module
    ("chart_raises", lambda r: chart(r, IMPORTS + RAISES),
     C, 12, "chart", "chart() raised ValueError"),
    ("chart_missing_field", lambda r: chart(r, IMPORTS + MISSING_FIELD),
     C, 14, "valeu", "the data lacks"),
    ("chart_field_named_by_prefix", lambda r: chart(r, IMPORTS + PREFIX_FIELD),
     C, 14, "val", "the data lacks"),
    ("chart_untyped_field", lambda r: chart(r, IMPORTS + UNTYPED_FIELD),
     C, 15, "high", "no such column"),
    ("chart_invalid_property", lambda r: chart(r, IMPORTS + INVALID_PROPERTY),
     C, 12, "chart", "invalid value for `opacity`"),
    ("chart_returns_none", lambda r: chart(r, IMPORTS + NO_CHART),
     C, 12, "chart", "returned NoneType"),
    ("chart_unknown_table", lambda r: chart(r, UNKNOWN_TABLE), C, 5, "TABLES", "nev_market_anual"),
    ("chart_syntax_error", lambda r: chart(r, "TABLES = ('nev_market_annual',\n"),
     C, 5, None, "syntax error"),
    ("chart_unknown_source", lambda r: chart(r, IMPORTS + UNKNOWN_SOURCE),
     C, None, "source_id", "unknown sources"),
    ("chart_draws_chinese", lambda r: chart(r, IMPORTS + CJK_TITLE), C, 14, None, "would be drawn"),
    ("chart_draws_a_chinese_cell",
     lambda r: (chart(r, IMPORTS + CJK_CELL), replace_cell(r / T, 3, "entity", "中国")),
     T, 3, "entity", "would be drawn"),
    # a page
    ("page_unknown_chart", lambda r: insert_line(r / P, 3, "{{ chart nope }}"),
     P, 3, None, "unknown chart 'nope'"),
    ("page_unknown_figure", lambda r: insert_line(r / P, 3, "It was {{ fig nope }}."),
     P, 3, None, "unknown figure 'nope'"),
    ("page_malformed_embed", lambda r: insert_line(r / P, 3, "{{ chart nev_sales_caam }"),
     P, 3, None, "malformed embed"),
    ("page_broken_link", lambda r: insert_line(r / P, 3, "See [fees](fee-flow.md)."),
     P, 3, "link", "fee-flow.md"),
    # the notebook
    ("notebook_cell_raises", lambda r: notebook_cell(r, "x = 1\nx / 0\n"),
     N, None, None, "ZeroDivisionError"),
    ("notebook_invalid_json", lambda r: edit(r / N, '"cells"', '"cells" "'),
     N, None, None, "invalid JSON"),
    # mkdocs.yml and the theme
    ("nav_missing_page", lambda r: insert_line(r / M, nav_line(r), "  - Gone: gone.md"),
     M, None, "nav", "gone.md"),
    ("config_unknown_setting", lambda r: insert_line(r / M, 2, "colour: dark"),
     M, 2, "colour", "Unrecognised"),
    ("config_not_yaml", lambda r: insert_line(r / M, 2, "site_author: [unclosed"),
     M, None, None, "not valid YAML"),
    ("template_syntax", lambda r: (r / CSP).write_text("{% if %}\n"),
     CSP, 1, None, "template error"),
]  # fmt: skip


# --- the scratch project, built once ------------------------------------------------------------


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """A scratch project with a good build; yields (root, its sources, the site's digest)."""
    root = copy_project(tmp_path_factory.mktemp("errors") / "project")
    result = run_build(root)
    assert result.returncode == 0, result.stderr
    sources = {
        p: p.read_bytes()
        for name in EDITABLE
        for p in ([root / name] if (root / name).is_file() else (root / name).rglob("*"))
        if p.is_file() and "generated" not in p.relative_to(root).parts
    }
    shutil.copytree(root / "site", root / "site.good")
    return root, sources, tree_digest(root / "site")


@pytest.fixture
def project(good):
    """The scratch project, put back exactly as it was after the case broke it."""
    root, sources, digest = good
    yield root
    if tree_digest(root / "site") != digest:  # a case that wrongly built: later ones still count
        shutil.rmtree(root / "site")
        shutil.copytree(root / "site.good", root / "site")
    for name in EDITABLE:
        for p in [root / name] if (root / name).is_file() else (root / name).rglob("*"):
            if p.is_file() and p not in sources and "generated" not in p.relative_to(root).parts:
                p.unlink()
    for p, data in sources.items():
        if not p.exists() or p.read_bytes() != data:
            p.write_bytes(data)


def test_there_are_at_least_25_cases_across_every_layer():
    layers = {case[0].split("_")[0] for case in CASES}
    assert len(CASES) >= 25
    assert {"csv", "dp", "src", "chart", "page", "notebook", "nav", "config", "template"} <= layers


@pytest.mark.parametrize("case,breaker,file,line,field,says", CASES, ids=[c[0] for c in CASES])
def test_broken_input_stops_the_build_with_one_located_message(
    good, project, case, breaker, file, line, field, says
):
    breaker(project)
    result = run_build(project)
    assert result.returncode == 1, result.stderr
    lines = [x for x in result.stderr.splitlines() if x.strip()]
    errors = [x for x in lines if x.startswith("error: ")]
    assert len(errors) == 1 and lines[0] == errors[0], result.stderr
    assert len(lines) == 2 and lines[1].startswith("build failed; site/ is unchanged"), lines
    message = errors[0]
    assert message.startswith(f"error: {file}:") or message.startswith(f"error: {file}: "), message
    if line is not None:
        assert message.startswith(f"error: {file}:{line}: "), message
    elif file == N:
        assert "cell" in message or ":" in message[len(f"error: {file}") :], message
    if field is not None:
        assert f"field '{field}'" in message, message
    assert "expected" in message, message
    assert says in message, message
    assert "Traceback" not in result.stderr
    assert tree_digest(project / "site") == good[2], "a failed build changed the last good site/"


def test_a_failing_cell_is_named_by_number_and_line(project):
    notebook_cell(project, "x = 1\nx / 0\n")
    cells = len(json.loads((project / N).read_text())["cells"])
    result = run_build(project)
    assert f"error: {N}: cell {cells}, line 2: ZeroDivisionError" in result.stderr, result.stderr


def test_verbose_shows_the_traceback(project):
    replace_cell(project / T, 3, "value", "lots")
    result = run_build(project, "-v")
    assert result.returncode == 1
    assert "Traceback" in result.stderr
    assert f"error: {T}:3: field 'value'" in result.stderr


def test_a_broken_chart_in_a_build_with_nothing_cached_gives_one_message(tmp_path):
    """With nothing cached a second process draws charts from the end of the list while this
    one fails at the front: what it hands back then must not print a thread's traceback."""
    root = copy_project(tmp_path / "project")
    shutil.rmtree(root / ".cache", ignore_errors=True)
    chart(root, IMPORTS + RAISES)
    result = run_build(root)
    assert result.returncode == 1, result.stderr
    lines = [x for x in result.stderr.splitlines() if x.strip()]
    assert lines[0].startswith(f"error: {C}:12: ") and len(lines) == 2, result.stderr


def test_a_build_that_redraws_a_chart_then_fails_leaves_the_sites_chart_files(good, project):
    """The site's chart files are hard links to docs/generated/ (scripts/mkdocs_hooks.py): a build
    that redraws a chart and then stops at a page must leave the last good site's files as they
    were, not show the new drawing through the link."""
    replace_cell(project / T, 2, "value", "74764")  # a real change to the chart that plots it
    insert_line(project / P, 3, "It was {{ fig nope }}.")
    result = run_build(project)
    assert result.returncode == 1, result.stderr
    plotted = "generated/charts/nev_sales_caam/data.csv"
    assert "0.074764" in (project / "docs" / plotted).read_text(encoding="utf-8"), "not redrawn"
    assert "0.074764" not in (project / "site" / plotted).read_text(encoding="utf-8")
    assert tree_digest(project / "site") == good[2], "a failed build changed the last good site/"


def test_a_build_that_fails_before_mkdocs_builds_leaves_no_process_running(good, project):
    """The notebook's run starts before MkDocs reads mkdocs.yml (scripts/build_site.py): when
    the config is broken, the run must be stopped with the build, not left working in the
    project after the error is printed."""
    replace_cell(project / T, 3, "note", "A note edited, so the notebook runs again")
    insert_line(project / M, 2, "site_author: [unclosed")
    result = run_build(project)
    assert result.returncode == 1 and f"error: {M}" in result.stderr, result.stderr
    left = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if Path(os.readlink(proc / "cwd")) == project:
                left.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:
            continue
    assert not left, f"still running in the project after the build failed: {left}"
    assert tree_digest(project / "site") == good[2]
