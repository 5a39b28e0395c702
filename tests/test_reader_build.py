"""The chart images readers get before any script runs: one inline SVG per layout that is right
in both colour schemes, small, legible, deterministic, escaped; what-if controls; social cards.

These tests read the build's output files (no browser)."""

from __future__ import annotations

import json
import re
import types
from pathlib import Path

import altair as alt
import pytest

from charts import _theme
from scripts import build_charts, chart_embed, chart_png
from scripts.load_data import load_package

ROOT = Path(__file__).resolve().parent.parent
CHARTS = build_charts.chart_names(ROOT / "charts")

# Text drawn on a mark rather than on the page background (checked by hand: black on each of
# the verdict colours is at least 4.7:1).
TEXT_ON_MARKS = {"claims_verdicts"}


@pytest.fixture(scope="module")
def generated(built_site) -> Path:
    return built_site / "generated"


def _files(generated: Path, name: str) -> dict[str, str]:
    folder = generated / "charts" / name
    return {p.name: p.read_text(encoding="utf-8") for p in folder.iterdir() if p.suffix != ".png"}


def _dark_rules(generated: Path) -> dict[str, tuple[str, str]]:
    css = (generated / "charts.css").read_text()
    return {
        cls: (prop, value)
        for cls, prop, value in re.findall(r"\.chart__static \.([\w-]+)\{([\w-]+):([^}]+)\}", css)
    }


def _paints(svg: str, rules: dict | None = None) -> list[dict[str, str]]:
    """Every tag's fill/stroke/stop-color, after the dark classes if rules are given."""
    out = []
    for tag in build_charts.TAG.findall(svg):
        paint = dict(build_charts.PAINT.findall(tag))
        if rules is not None:
            classes = re.search(r' class="([^"]*)"', tag)
            for cls in classes.group(1).split() if classes else []:
                if cls in rules:
                    prop, value = rules[cls]
                    paint[prop] = value
        out.append(paint)
    return out


def _drawn(vega_json: str) -> str:
    from scripts.chart_fonts import vl_convert

    return vl_convert().vega_to_svg(json.loads(vega_json))


@pytest.mark.parametrize("layout", ["wide", "narrow"])
@pytest.mark.parametrize("name", CHARTS)
def test_one_inline_svg_is_right_in_both_schemes(generated, name, layout):
    # The dark colours are mostly read from the themes (build_charts._dark_twins), not from a
    # dark rendering: here each scheme is drawn from the page's live Vega spec and compared.
    files = _files(generated, name)
    suffix = "" if layout == "wide" else "-narrow"
    if f"inline{suffix}.svg" not in files:
        pytest.skip("no phone layout")
    inline, rules = files[f"inline{suffix}.svg"], _dark_rules(generated)
    if 'class="chart__svg--light"' in inline:
        pytest.skip("renderings differ in more than colour: one SVG per scheme")
    prefix = f"{name}-{layout[0]}"
    light = build_charts.minify_svg(_drawn(files[f"light{suffix}.vg.json"]), prefix)
    dark = build_charts.minify_svg(_drawn(files[f"dark{suffix}.vg.json"]), prefix)
    assert _paints(inline) == _paints(light), "the attributes are the light rendering"
    assert _paints(inline, rules) == _paints(dark), "the classes turn it into the dark one"


@pytest.mark.parametrize("name", CHARTS)
def test_inline_images_are_small_and_have_page_unique_ids(generated, name):
    files = _files(generated, name)
    for layout in ("inline.svg", "inline-narrow.svg"):
        if layout not in files:
            continue
        svg = files[layout]
        assert len(svg) < 0.6 * len(files["light.svg"]) + 2000, "minified for inlining"
        assert "aria-" not in svg and "<script" not in svg
        for ident in re.findall(r' id="([^"]+)"', svg):
            assert ident.startswith(f"{name}-"), ident


def test_no_id_repeats_across_the_site(generated):
    seen: dict[str, str] = {}
    for folder in sorted((generated / "charts").iterdir()):
        for layout in ("inline.svg", "inline-narrow.svg"):
            path = folder / layout
            if path.exists():
                for ident in re.findall(r' id="([^"]+)"', path.read_text()):
                    assert ident not in seen, f"{ident} in {folder.name} and {seen[ident]}"
                    seen[ident] = folder.name


@pytest.mark.parametrize("name", CHARTS)
def test_phone_layout_is_narrow_and_legible(generated, name):
    meta = json.loads((generated / "charts" / name / "figure.json").read_text())
    wide = meta["variants"]["wide"]
    assert wide["width"] >= 600
    narrow = meta["variants"].get("narrow")
    if narrow is None:
        pytest.skip("the module fixed its own width")
    assert narrow["width"] <= build_charts.NARROW_TOTAL + 120
    assert (generated / "charts" / name / "light-narrow.vg.json").exists()
    svg = (generated / "charts" / name / "inline-narrow.svg").read_text()
    sizes = [float(s) for s in re.findall(r'font-size="([\d.]+)px"', svg)]
    # Shown in a 288-400 px column the image scales by about 0.8-1.1: 11 px type stays >= 9 px.
    assert sizes and min(sizes) >= 10, sorted(set(sizes))


def _luminance(hex_colour: str) -> float:
    h = hex_colour.lstrip("#")
    h = "".join(c * 2 for c in h) if len(h) == 3 else h[:6]
    channels = [int(h[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def _contrast(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _blend(fg: str, alpha: float, bg: str) -> str:
    f = [int(fg.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4)]
    b = [int(bg.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4)]
    return "#" + "".join(
        f"{round(alpha * x + (1 - alpha) * y):02x}" for x, y in zip(f, b, strict=True)
    )


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_theme_text_colours_reach_4_5_to_1(theme):
    config, bg = _theme.config(theme), _theme.THEMES[theme]["background"]
    colours = {
        "axis labels": config["axis"]["labelColor"],
        "axis titles": config["axis"]["titleColor"],
        "legend labels": config["legend"]["labelColor"],
        "text marks": config["text"]["color"],
        "muted context": _theme.muted(theme),
    }
    for role, colour in colours.items():
        assert _contrast(colour, bg) >= 4.5, f"{role} {colour} on {bg}"
    # The page's own background matches the chart's (Material's slate is hsl(232,15%,14%)).
    assert bg == {"light": "#ffffff", "dark": "#1e2029"}[theme]


NAMED = {"black": "#000000", "white": "#ffffff"}


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("name", CHARTS)
def test_chart_text_reaches_4_5_to_1(generated, name, theme):
    if name in TEXT_ON_MARKS:
        pytest.skip("text on marks, checked by hand")
    bg = _theme.THEMES[theme]["background"]
    svg = _drawn((generated / "charts" / name / f"{theme}.vg.json").read_text())
    low = []
    for attrs, inner in re.findall(r"<text([^>]*)>(.*?)</text>", svg):
        text = re.sub(r"<[^>]+>", " ", inner)  # multi-line labels keep their lines in tspans
        a = dict(re.findall(r' ([a-z-]+)="([^"]*)"', attrs))
        fill = NAMED.get(a.get("fill", "#000000"), a.get("fill", "#000000"))
        if not re.fullmatch(r"#[0-9a-fA-F]{3}|#[0-9a-fA-F]{6}", fill):
            continue
        alpha = float(a.get("opacity", 1)) * float(a.get("fill-opacity", 1))
        full = "#" + "".join(c * 2 for c in fill[1:]) if len(fill) == 4 else fill
        ratio = _contrast(_blend(full, alpha, bg), bg)
        if ratio < 4.5:
            low.append(f"{text[:30]!r} {fill}@{alpha:g}: {ratio:.2f}")
    assert not low, low


@pytest.mark.parametrize("name", CHARTS)
def test_the_dark_theme_draws_the_highlight_in_its_own_colour_on_every_chart(generated, name):
    # Seres / AITO is one colour on every chart of a theme. A chart that names the light
    # highlight itself (beside a grey, say) must not keep it in the dark theme, where it is a
    # dimmer blue (3.1:1) than the dark highlight every other chart draws.
    light, dark = _theme.PALETTE_LIGHT[0].lower(), _theme.PALETTE_DARK[0].lower()
    for suffix in ("", "-narrow"):
        path = generated / "charts" / name / f"dark{suffix}.vg.json"
        if path.exists():
            svg = _drawn(path.read_text()).lower()
            assert light not in svg, f"{path.name} draws {light}, not {dark}"


@pytest.fixture(scope="module")
def package():
    return load_package(ROOT / "data")


def _what_if_module() -> types.ModuleType:
    module = types.ModuleType("what_if_probe")
    module.__doc__ = (
        'What if <sales> were "higher"?\n\nA probe chart: bars scaled by a slider, to test the '
        "build's controls & escaping."
    )
    module.TABLES = ("nev_market_annual",)

    def chart(data):
        rows = data["nev_market_annual"].head(4)
        factor = alt.param(
            name="factor",
            value=1.5,
            bind=alt.binding_range(min=0.5, max=3, step=0.1, name='Growth <factor> "x" '),
        )
        plotted = rows.assign(label=["<b>a</b>", "b & c", "d", "e"])[
            ["period", "value", "label", "source_id", "confidence"]
        ]
        return (
            alt.Chart(plotted)
            .mark_bar()
            .encode(x="period:O", y="scaled:Q", tooltip=["label:N", "scaled:Q"])
            .transform_calculate(scaled="datum.value * factor")
            .add_params(factor)
        )

    module.chart = chart
    return module


def test_what_if_controls_are_labelled_inputs_and_the_live_spec_draws_none(package, tmp_path):
    files = build_charts.render_chart(
        "what_if_probe", _what_if_module(), package, ROOT / "charts" / "what_if_probe.py"
    )
    meta = json.loads(files["figure.json"])
    assert meta["controls"] == [
        {
            "signal": "factor",
            "input": "range",
            "label": 'Growth <factor> "x"',
            "value": 1.5,
            "min": 0.5,
            "max": 3,
            "step": 0.1,
        }
    ]
    for name in ("light.vg.json", "dark.vg.json", "light-narrow.vg.json"):
        signals = json.loads(files[name]).get("signals", [])
        assert any(s["name"] == "factor" for s in signals)
        assert not any("bind" in s for s in signals), "the page draws the controls, not Vega"
    folder = tmp_path / "what_if_probe"
    folder.mkdir()
    for fname, data in files.items():
        (folder / fname).write_bytes(data)
    sources = load_package(ROOT / "data").sources
    html = chart_embed.figure_html(folder, sources, "../generated/charts/what_if_probe/")
    control = re.search(r'<div class="chart__controls".*?</div></div>', html).group(0)
    ident = re.search(r'<input type="range" id="([^"]+)"', control).group(1)
    assert f'<label for="{ident}">Growth &lt;factor&gt; &quot;x&quot;</label>' in control
    assert f'<output for="{ident}"' in control and ">1.5</output>" in control
    assert 'data-signal="factor"' in control and " disabled" in control
    assert "aria-hidden" not in control
    # Every data string is escaped: title, description, table cells, control labels.
    assert "<sales>" not in html and "&lt;sales&gt;" in html
    assert "<b>a</b>" not in html and "&lt;b&gt;a&lt;/b&gt;" in html
    assert "b &amp; c" in html


def test_render_is_deterministic(package):
    name = CHARTS[0]
    path = ROOT / "charts" / f"{name}.py"
    first = build_charts.render_chart(
        name, build_charts._fresh_import(path.parent, name), package, path
    )
    again = build_charts.render_chart(
        name, build_charts._fresh_import(path.parent, name), package, path
    )
    assert first.keys() == again.keys()
    for fname in first:
        assert first[fname] == again[fname], fname


def test_site_card_for_pages_without_a_chart(generated):
    png = (generated / "site-card.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert (int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")) == (1200, 630)


@pytest.mark.parametrize("name", CHARTS)
def test_download_image_carries_title_and_sources(generated, name):
    meta = json.loads((generated / "charts" / name / "figure.json").read_text())
    svg = (generated / "charts" / name / "chart.svg").read_text()
    text = " ".join(re.findall(r"<text[^>]*>([^<]*)</text>", svg))
    first_words = " ".join(meta["title"].split()[:3])
    assert first_words.replace("'", "&#x27;") in text or first_words in text
    assert "Source" in text and _theme.CREDIT.split(",")[0] in text
    png = (generated / "charts" / name / "chart.png").read_bytes()
    assert [int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")] == meta["png"]


def test_png_size_is_known_before_it_is_drawn(generated):
    """Pages state the download PNG's size before it is drawn: the prediction must be exact,
    for every chart and for sizes near the rounding edges, and at least 1200 px wide."""
    svgs = [(generated / "charts" / n / "chart.svg").read_bytes() for n in CHARTS]
    svgs += [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}"><rect width="2" '
        'height="2"/></svg>'.encode()
        # widths and heights whose products with 1200/w land on, or a hair off, whole numbers
        for w, h in [(304, 552), (623, 304), (310, 489), (641, 467), (640, 938), (1199, 1)]
        + [(w, 173 + w % 97) for w in range(300, 1400, 37)]
    ]
    for svg in svgs:
        png = chart_png.draw(svg, "test")
        size = (int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big"))
        assert size == chart_png.png_size(svg), svg[:120]
        assert size[0] >= min(1200, chart_png.svg_size(svg)[0] * 1.0)


def test_a_module_may_draw_its_own_phone_version(package):
    module = _what_if_module()
    wide_chart = module.chart

    def chart(data, layout="wide"):
        made = wide_chart(data)
        return made.properties(title="Short") if layout == "narrow" else made

    module.chart = chart
    files = build_charts.render_chart(
        "what_if_probe", module, package, ROOT / "charts" / "what_if_probe.py"
    )
    assert ">Short</text>" in files["inline-narrow.svg"].decode()
    assert ">Short</text>" not in files["inline.svg"].decode()
    assert json.loads(files["light-narrow.vg.json"])["title"]["text"] == "Short"
