"""Every chart module builds from the real data into a valid, renderable, sourced chart."""

from __future__ import annotations

import ast
import copy
import csv
import html
import io
import json
import re
from pathlib import Path

import altair
import jsonschema
import pytest

from scripts import build_charts, vega_lite_schema
from scripts.build_error import BuildError
from scripts.chart_fonts import vl_convert
from scripts.load_data import load_package

ROOT = Path(__file__).resolve().parent.parent
CHARTS = build_charts.chart_names(ROOT / "charts")
SCHEMA = json.loads(
    (Path(altair.__file__).parent / "vegalite/v6/schema/vega-lite-schema.json").read_text()
)


@pytest.fixture(scope="module")
def package():
    return load_package(ROOT / "data")


@pytest.fixture(scope="module")
def built(package):
    """Each chart's output files, built once for the module."""
    out = {}
    for name in CHARTS:
        path = ROOT / "charts" / f"{name}.py"
        module = build_charts._fresh_import(ROOT / "charts", name)
        out[name] = build_charts.render_chart(name, module, package, path)
    return out


def test_there_are_charts():
    assert CHARTS, "charts/ has no chart module"


@pytest.mark.parametrize("name", CHARTS)
def test_spec_validates_against_vega_lite_schema(built, name):
    spec = json.loads(built[name]["spec.vl.json"])
    jsonschema.Draft7Validator(SCHEMA).validate(spec)


def _views(node: object):
    """Every single view (a dict with a mark) in a spec, layers and panels included."""
    if isinstance(node, dict):
        if "mark" in node:
            yield node
        for value in node.values():
            yield from _views(value)
    elif isinstance(node, list):
        for value in node:
            yield from _views(value)


def _set_mark(view: dict, **props) -> None:
    mark = view["mark"] if isinstance(view["mark"], dict) else {"type": view["mark"]}
    view["mark"] = {**mark, **props}


def _misspell_a_type(spec: dict) -> None:
    view = next(v for v in _views(spec) if any("type" in c for c in v.get("encoding", {}).values()))
    channel = next(c for c in view["encoding"].values() if "type" in c)
    channel["type"] = "quantitativ"


BREAKS = {
    "an unknown top-level property": lambda spec: spec.update(widht=300),
    "a mark property of the wrong type": lambda spec: _set_mark(next(_views(spec)), opacity="high"),
    "a mark that does not exist": lambda spec: _set_mark(next(_views(spec)), type="bra"),
    "an encoding type that does not exist": _misspell_a_type,
}


@pytest.mark.parametrize("name", CHARTS)
def test_the_fast_schema_check_agrees_with_jsonschema(built, name):
    # The build takes its verdict from jsonschema-rs (scripts/vega_lite_schema.py): it must
    # accept what jsonschema accepts and reject what jsonschema rejects, deep in layers too.
    reference = jsonschema.Draft7Validator(SCHEMA)
    spec = json.loads(built[name]["spec.vl.json"])
    assert reference.is_valid(spec) and vega_lite_schema.is_valid(spec)
    for what, breaks in BREAKS.items():
        broken = copy.deepcopy(spec)
        breaks(broken)
        assert not reference.is_valid(broken), f"not a break: {what}"
        assert not vega_lite_schema.is_valid(broken), f"the fast check accepts {what}"


@pytest.mark.parametrize("name", CHARTS)
def test_spec_survives_a_json_round_trip(built, name):
    text = built[name]["spec.vl.json"].decode()
    assert json.dumps(json.loads(text), sort_keys=True, ensure_ascii=False, indent=1) + "\n" == text


@pytest.mark.parametrize("name", CHARTS)
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_compiles_to_vega_and_renders_svg(built, name, theme):
    vega = json.loads(built[name][f"{theme}.vg.json"])
    assert vega["$schema"].startswith("https://vega.github.io/schema/vega/")
    assert vega["marks"], "compiled Vega has no marks"
    svg = vl_convert().vega_to_svg(vega)
    assert svg.startswith("<svg") and "<path" in svg or "<rect" in svg


@pytest.mark.parametrize("name", CHARTS)
def test_themes_differ(built, name):
    light, dark = (json.loads(built[name][f"{theme}.vg.json"]) for theme in ("light", "dark"))
    assert vl_convert().vega_to_svg(light) != vl_convert().vega_to_svg(dark)


@pytest.mark.parametrize("name", CHARTS)
def test_cites_only_sources_that_exist(built, package, name):
    meta = json.loads(built[name]["figure.json"])
    assert meta["sources"], "a chart must cite at least one source"
    assert set(meta["sources"]) <= set(package.sources)


@pytest.mark.parametrize("name", CHARTS)
def test_title_and_description_come_from_the_docstring(built, name):
    doc = ast.get_docstring(ast.parse((ROOT / "charts" / f"{name}.py").read_text()))
    meta = json.loads(built[name]["figure.json"])
    assert meta["title"] == doc.split("\n")[0].strip()
    assert len(meta["description"]) > 40, "describe what the chart shows and its takeaway"
    assert json.loads(built[name]["light.vg.json"])["description"].startswith(meta["title"])


@pytest.mark.parametrize("name", CHARTS)
def test_csv_holds_exactly_the_plotted_rows(built, name):
    meta = json.loads(built[name]["figure.json"])
    lines = built[name]["data.csv"].decode().strip().split("\n")
    assert len(lines) - 1 == len(meta["rows"])
    assert lines[0].split(",") == [c for c, _ in meta["columns"]]


@pytest.mark.parametrize("name", CHARTS)
def test_every_mark_has_a_tooltip(built, name):
    spec = json.loads(built[name]["spec.vl.json"])

    def marks(node):
        if isinstance(node, dict):
            if "mark" in node:
                yield node
            for key in ("layer", "vconcat", "hconcat", "concat"):
                for child in node.get(key, []):
                    yield from marks(child)
            if "spec" in node:
                yield from marks(node["spec"])

    for m in marks(spec):
        mark = m["mark"]["type"] if isinstance(m["mark"], dict) else m["mark"]
        if mark in ("rule", "text") and "tooltip" not in m.get("encoding", {}):
            continue  # annotations: their words are on the chart itself
        assert "tooltip" in m.get("encoding", {}) or (
            isinstance(m["mark"], dict) and m["mark"].get("tooltip")
        ), f"{mark} mark without tooltip"


def _module(tmp_path: Path, body: str) -> Path:
    charts = tmp_path / "charts"
    charts.mkdir()
    (charts / "_theme.py").write_text((ROOT / "charts" / "_theme.py").read_text())
    (charts / "broken.py").write_text(body)
    return charts


GOOD_HEAD = '"""A title\n\nA description long enough to say what it shows and why.\n"""\n'
BROKEN_CHARTS = [
    (
        "raises",
        GOOD_HEAD + "import altair as alt\nTABLES = ('nev_market_annual',)\n"
        "def chart(data):\n    raise ValueError('boom')\n",
        "chart() raised",
        8,
    ),
    (
        "returns_none",
        GOOD_HEAD + "TABLES = ('nev_market_annual',)\ndef chart(data):\n    return None\n",
        "expected an Altair chart",
        None,
    ),
    (
        "unknown_field",
        GOOD_HEAD + "import altair as alt\nTABLES = ('nev_market_annual',)\n"
        "def chart(data):\n    df = data['nev_market_annual'][['period', 'value', 'source_id']]\n"
        "    return alt.Chart(df).mark_bar()"
        ".encode(x='period:O', y='valeu:Q', tooltip=['value:Q'])\n",
        "valeu",
        None,
    ),
    (
        "unknown_table",
        GOOD_HEAD + "TABLES = ('no_such_table',)\ndef chart(data):\n    return 1\n",
        "no_such_table",
        None,
    ),
    (
        "no_docstring",
        "TABLES = ('nev_market_annual',)\ndef chart(data):\n    return 1\n",
        "no docstring",
        1,
    ),
    ("syntax_error", GOOD_HEAD + "TABLES = ('nev_market_annual',\n", "syntax error", None),
]


@pytest.mark.parametrize("case,body,says,line", BROKEN_CHARTS, ids=[b[0] for b in BROKEN_CHARTS])
def test_broken_chart_module_names_module_and_problem(tmp_path, package, case, body, says, line):
    charts = _module(tmp_path, body)
    with pytest.raises(BuildError) as caught:
        src = (charts / "broken.py").read_bytes()
        build_charts._declared_tables(src, charts / "broken.py")
        module = build_charts._fresh_import(charts, "broken")
        build_charts.render_chart("broken", module, package, charts / "broken.py")
    message = str(caught.value)
    assert "broken.py" in message and says in message, message
    if line:
        assert caught.value.line == line, message


def test_an_images_source_line_leaves_out_chinese_asides_and_keeps_the_names():
    # The images' fonts have no Chinese letters: drawn, these asides would be empty boxes.
    sources = {
        "a": {"publisher": "China Finance Online (中财网) reproduction", "published": "2025-08-30"},
        "b": {"publisher": "36Kr (车圈能见度)", "published": ""},
    }
    line = build_charts.source_line(["a", "b"], sources)
    assert line == "Sources: 36Kr; China Finance Online reproduction (2025)"


# A number as charts write it: "1,234", "−10%", "16.2k", "¥215.1bn", "1M"; or a span of years
# written short, "2016–17".
NUMBER = re.compile(r"(?<![\w.])[−-]?\d[\d,]*(?:\.\d+)?(?:bn|k|M)?(?![\d])")
YEARS = re.compile(r"\b((?:19|20)\d\d)–(\d\d)\b")
SCALE = {"bn": 1e9, "M": 1e6, "k": 1e3}
ISO_DATE = re.compile(r"\b((?:19|20)\d\d)-\d\d(?:-\d\d)?\b")


def _numbers(text: str) -> list[tuple[str, float, int]]:
    """(as written, value in the written unit, decimals) of each number in text."""
    found = []
    for token in NUMBER.findall(YEARS.sub(r"\1–20\2", text)):
        digits = token.replace("−", "-").replace(",", "").rstrip("bnkM")
        found.append((token, float(digits), len(digits.partition(".")[2])))
    return found


@pytest.mark.parametrize("name", CHARTS)
def test_every_number_a_chart_writes_is_in_its_data(built, name):
    # No invented numbers: each figure a chart's labels and notes write (its axes apart) is one
    # of the values in the CSV a reader downloads, as written or rounded, in units, thousands,
    # millions or billions. A what-if chart writes what its sliders compute, so it is left out.
    meta = json.loads(built[name]["figure.json"])
    if meta.get("controls"):
        pytest.skip("a what-if chart: its labels are computed from the reader's inputs")
    rows = list(csv.reader(io.StringIO(built[name]["data.csv"].decode())))[1:]
    # A date gives its year only: its month and day would let any small number pass.
    cells = [ISO_DATE.sub(r"\1", cell) for row in rows for cell in row]
    pool = {abs(v) for cell in cells for _, v, _ in _numbers(cell)}
    unknown = set()
    for layout in ("", "-narrow"):
        if f"light{layout}.vg.json" not in built[name]:
            continue
        svg = vl_convert().vega_to_svg(json.loads(built[name][f"light{layout}.vg.json"]))
        for marks in re.findall(r'<g class="mark-text role-mark[^>]*>(.*?)</g>', svg, re.S):
            for text in re.findall(r"<text[^>]*>(.*?)</text>", marks, re.S):
                text = html.unescape(re.sub(r"<[^>]+>", " ", text))
                for token, value, decimals in _numbers(text):
                    scales = [1] + [SCALE[s] for s in SCALE if token.endswith(s)]
                    if not any(
                        abs(round(p / s, decimals) - abs(value)) < 1e-9
                        for p in pool
                        for s in scales
                    ):
                        unknown.add(f"{token!r} in {text.strip()[:60]!r} ({layout or 'wide'})")
    assert not unknown, sorted(unknown)
