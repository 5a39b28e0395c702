"""The site builds strict, and a page's mistakes stop the build with page and line."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml

from scripts.chart_embed import format_value
from tests.conftest import ROOT, run_build


def _nav_pages() -> list[str]:
    class Loader(yaml.SafeLoader):
        pass

    Loader.add_constructor("!ENV", lambda loader, node: None)
    config = yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=Loader)
    return [next(iter(item.values())) for item in config["nav"]]


def test_every_nav_page_is_built(built_site):
    for page in _nav_pages():
        slug = Path(page).stem
        html = built_site / ("index.html" if slug == "index" else f"{slug}/index.html")
        assert html.exists(), page


def test_chart_assets_are_published(built_site):
    charts = sorted(p.name for p in (built_site / "generated" / "charts").iterdir())
    assert charts
    for name in charts:
        for f in ("data.csv", "light.svg", "inline.svg", "light.vg.json", "dark.vg.json"):
            assert (built_site / "generated" / "charts" / name / f).stat().st_size > 0


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(p.relative_to(folder).as_posix().encode() + p.read_bytes())
    return h.hexdigest()


@pytest.mark.parametrize(
    "line,says",
    [
        ("{{ chart no_such_chart }}", "unknown chart 'no_such_chart'"),
        ("Sales were {{ fig no_such_figure }} in 2024.", "unknown figure 'no_such_figure'"),
        ("{{ chart }}", "malformed embed"),
        ("Text before {{ chart nev_sales_caam }}", "a chart embed must stand on a line of its own"),
    ],
)
def test_bad_embed_fails_with_page_and_line_and_keeps_site(project, line, says):
    assert run_build(project).returncode == 0
    before = _digest(project / "site")
    page = project / "docs" / "policy-shift.md"
    lines = page.read_text().splitlines()
    lines.insert(2, line)
    page.write_text("\n".join(lines) + "\n")
    result = run_build(project)
    assert result.returncode == 1
    assert f"docs/policy-shift.md:3: {says}" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert _digest(project / "site") == before, "a failed build changed the last good site/"


def test_unknown_chart_lists_the_charts_that_exist(project):
    page = project / "docs" / "index.md"
    page.write_text(page.read_text() + "\n{{ chart nope }}\n")
    result = run_build(project)
    assert result.returncode == 1
    assert "nev_sales_caam" in result.stderr.split("unknown chart 'nope'")[1]


def test_embed_syntax_inside_code_is_left_alone(project):
    page = project / "docs" / "policy-shift.md"
    page.write_text(
        page.read_text() + "\nWrite `{{ chart name }}` on a line.\n\n"
        "```\n{{ chart also_not_a_chart }}\n```\n"
    )
    result = run_build(project)
    assert result.returncode == 0, result.stderr
    html = (project / "site" / "policy-shift" / "index.html").read_text()
    assert "{{ chart name }}" in html and "{{ chart also_not_a_chart }}" in html


@pytest.mark.parametrize(
    "value,unit,shown",
    [
        ("12870000", "vehicles", "12.87 million vehicles"),
        ("1234567", "vehicles", "1,234,567 vehicles"),  # no digit rounded away
        ("145176", "million_yuan", "145.176 billion yuan"),
        ("-2450", "million_yuan", "-2.45 billion yuan"),
        ("-2450.5", "million_yuan", "-2,450.5 million yuan"),  # would need 4 decimals
        ("47.9", "percent", "47.9%"),
        ("140000", "yuan_per_vehicle", "140,000 yuan per vehicle"),
    ],
)
def test_prose_figures_keep_every_digit_the_source_gave(value, unit, shown):
    units = json.loads((ROOT / "data" / "datapackage.json").read_text())["x_units"]
    assert format_value(value, unit, units) == shown
