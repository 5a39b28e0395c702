"""Build step: data/ + charts/ -> docs/generated/ (chart specs, static SVG/PNG, CSV, figures).

For every chart module it writes, under docs/generated/charts/<name>/:
  spec.vl.json            the Vega-Lite spec (light theme), for anyone who wants to remix it
  light.vg.json/dark.vg.json  the spec compiled to Vega, so browsers never need Vega-Lite
  light.svg               the static image (light; the page inlines one SVG for both themes)
  chart.png               the light image as PNG (download, social cards; scripts/chart_png.py)
  data.csv                exactly the plotted rows
  figure.json             what the page embed needs: title, description, sources, table
Plus docs/generated/figures.json (every data row, for prose references), data/ copies for
download, the Vega runtime and every notebook in docs/, executed (scripts/build_notebooks.py).
Outputs are cached by a hash of exactly their inputs (see input_key), written to a temporary
folder first, and only files whose bytes changed are replaced, so a failed build leaves the
previous output intact and `mkdocs serve` is not woken by files that did not change.

Run: python -m scripts.build_charts   (exits 1 with file, line and field on bad input)
"""

from __future__ import annotations

import argparse
import ast
import functools
import hashlib
import importlib.util
import io
import json
import logging
import os
import re
import shutil
import sys
import threading
import time
import zipfile
from pathlib import Path

from scripts import (
    build_notebooks,
    chart_fonts,
    chart_png,
    derived_figures,
    fingerprint,
    vega_lite_schema,
)
from scripts.build_error import BuildError
from scripts.load_data import DataPackage, load_package

ROOT = Path(__file__).resolve().parent.parent
STATIC_WIDTH = 640
THEMES = ("light", "dark")
COMPOSED = {"vconcat", "hconcat", "concat", "facet", "repeat"}


LOG = logging.getLogger("mkdocs.explainer.build_charts")  # MkDocs shows it; so does main()
KEEP = 3  # cached outputs kept per chart, so undoing an edit under `mkdocs serve` is instant


def log(message: str) -> None:
    LOG.info(message)


def dumps(obj: object) -> str:
    """JSON for people to read (the spec a reader downloads)."""
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, indent=1, allow_nan=False) + "\n"


def compact(obj: object) -> str:
    """JSON for programs (live specs, metadata, cache keys): with no indent, json uses its C
    encoder, four times as fast as the indented one, and the live specs a reader's browser
    fetches are a fifth smaller (6 % gzipped)."""
    return json.dumps(
        obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
    )


def _copy(node: object) -> object:
    """A copy of a JSON tree: a third of copy.deepcopy's time, which also tracks shared parts
    and cycles that a spec does not have."""
    if type(node) is dict:
        return {k: _copy(v) for k, v in node.items()}
    if type(node) is list:
        return [_copy(v) for v in node]
    return node


def chart_names(charts_dir: Path) -> list[str]:
    """Return the chart module names (files in charts/ not starting with '_')."""
    return sorted(p.stem for p in charts_dir.glob("*.py") if not p.stem.startswith("_"))


def _fresh_import(charts_dir: Path, name: str):
    """Import charts/<name>.py anew, with fresh helpers, so edits show under `mkdocs serve`."""
    for key in [k for k in list(sys.modules) if k == "charts" or k.startswith("charts.")]:
        del sys.modules[key]
    path = charts_dir / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"charts.{name}", path)
    module = importlib.util.module_from_spec(spec)
    if str(charts_dir.parent) not in sys.path:
        sys.path.insert(0, str(charts_dir.parent))
    try:
        spec.loader.exec_module(module)
    except Exception as err:  # a contributor's module: report where it broke
        raise BuildError(
            _rel(path), f"importing the module failed: {err!r}", line=_tb_line(err, path)
        ) from err
    return module


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def _tb_line(err: BaseException, path: Path) -> int | None:
    tb, line = err.__traceback__, None
    while tb is not None:
        if Path(tb.tb_frame.f_code.co_filename).resolve() == path.resolve():
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def frames(pkg: DataPackage, names: tuple[str, ...], module_path: Path):
    """Return the named tables as DataFrames with numeric fields typed as the schema says."""
    import pandas as pd

    out = {}
    for name in names:
        if name not in pkg.tables:
            raise BuildError(
                _rel(module_path),
                f"TABLES names '{name}', which data/ lacks",
                field="TABLES",
                expected=", ".join(sorted(pkg.tables)),
            )
        df = pd.DataFrame(pkg.tables[name])
        for f in pkg.resource(name)["schema"]["fields"]:
            if f.get("type") in ("number", "integer") and f["name"] in df:
                df[f["name"]] = pd.to_numeric(df[f["name"]].replace("", None))
        out[name] = df
    return out


def _versions() -> str:
    libraries = fingerprint.versions("altair", "vl-convert-python", "pandas", "numpy")
    return f"{libraries} {chart_fonts.KEY}"


# Functions of this module that decide whether and where to render, never what: editing them
# must not invalidate every chart. Everything else here (render_chart, its helpers, constants) is
# part of every chart's key, so a new rendering helper is covered without being listed.
ORCHESTRATION = frozenset(
    {
        "log",
        "chart_names",
        "_fresh_import",
        "_rel",
        "_versions",
        "input_key",
        "_drawing_code",
        "figures",
        "vega_runtime",
        "_runtime_path",
        "build",
        "_cache_entry",
        "_landing",
        "start_early",
        "cancel_early",
        "_render",
        "_render_in_worker",
        "_store",
        "_unpack",
        "StaticCache",
        "drawn_svg",
        "_render_all",
        "_worker_start",
        "_new_worker",
        "_exit_with_parent",
        "warm",
        "chart_worker",
        "_locate",
        "_declared_tables",
        "_parse_tables",
        "sync",
        "main",
    }
)


def _drawing_code() -> str:
    """This module's rendering code, by meaning (not the orchestration): part of every key."""
    return fingerprint.code_digest(Path(__file__).read_bytes(), drop=ORCHESTRATION)


def input_key(
    name: str, module_src: bytes, tables: tuple[str, ...], pkg: DataPackage, root: Path = ROOT
) -> str:
    """Hash exactly what a chart's output depends on.

    That is: the chart's name; its module and the project modules it imports (by syntax tree, so
    a comment edit recomputes nothing); charts/_theme.py; this module's rendering code (not the
    orchestration above); the tables it declares, as parsed rows and field types; every source's
    id, publisher and year (outputs name sources by id and fail on unknown ones; the download
    image's foot names publishers and years; the key is made before the chart says which it
    cites); and the library versions. Not: other tables, sources.csv's other columns (titles and
    URLs are read by the page), units (charts never see them), or this module's orchestration.
    """
    charts_dir = root / "charts"
    module_path = charts_dir / f"{name}.py"
    imported = fingerprint.source_imports(module_src, root, module_path)
    theme = (charts_dir / "_theme.py").resolve()
    parts = [name, fingerprint.code_digest(module_src)]
    for path in sorted(imported | {theme}):
        if path != module_path.resolve():
            parts += [path.name, fingerprint.code_digest(path.read_bytes())]
    parts.append(_drawing_code())
    parts += [t + fingerprint.table_digest(pkg, t) for t in sorted(tables)]
    credits = [
        (sid, s["publisher"], (s.get("published") or "")[:4]) for sid, s in pkg.sources.items()
    ]
    parts.append(json.dumps(sorted(credits)))
    parts.append(_versions())
    return fingerprint.sha(*parts)[:20]


def _fields_used(spec: object, found: set[str]) -> set[str]:
    if isinstance(spec, dict):
        if isinstance(spec.get("field"), str):
            found.add(spec["field"].split(".")[0].replace("\\", ""))
        for key, value in spec.items():
            if key not in ("data", "datasets"):
                _fields_used(value, found)
    elif isinstance(spec, list):
        for value in spec:
            _fields_used(value, found)
    return found


def _fields_made(spec: object, found: set[str]) -> set[str]:
    if isinstance(spec, dict):
        made = spec.get("as")
        if isinstance(made, str):
            found.add(made)
        elif isinstance(made, list):
            found.update(m for m in made if isinstance(m, str))
        for key in ("calculate", "aggregate", "window", "joinaggregate", "fold", "timeUnit"):
            if isinstance(spec.get(key), list):
                for item in spec[key]:
                    if isinstance(item, dict) and isinstance(item.get("as"), str):
                        found.add(item["as"])
        for value in spec.values():
            _fields_made(value, found)
    elif isinstance(spec, list):
        for value in spec:
            _fields_made(value, found)
    return found


def render_chart(
    name: str, module, pkg: DataPackage, module_path: Path, drawn: Path | None = None
) -> dict[str, bytes]:
    """Build one chart's output files (name -> bytes) but its PNG (scripts/chart_png.py);
    raise BuildError on any problem.

    drawn: a folder of images already drawn, by what they were drawn from (StaticCache)."""
    import altair as alt
    import pandas as pd
    from altair.utils import schemapi

    doc = (module.__doc__ or "").strip()
    if not doc:
        raise BuildError(
            _rel(module_path),
            "the module has no docstring",
            line=1,
            expected="a docstring whose first line is the chart's title",
        )
    title, _, description = doc.partition("\n")
    description = " ".join(description.split())
    tables = tuple(getattr(module, "TABLES", ()))
    if not tables:
        raise BuildError(
            _rel(module_path),
            "no TABLES declared",
            field="TABLES",
            expected="TABLES = ('table_name', ...) naming the tables it reads",
        )
    if not callable(getattr(module, "chart", None)):
        raise BuildError(
            _rel(module_path),
            "no chart() function",
            field="chart",
            expected="def chart(data) -> alt.Chart",
        )

    def call(checked: bool):
        # Altair checks every part of a chart as it is made ("debug mode"): a third of a
        # chart's spec time. The whole spec is checked once below; only when that fails is the
        # chart made again part by part, for the line that caused it.
        try:
            with schemapi.debug_mode(checked):
                return module.chart(frames(pkg, tables, module_path))
        except BuildError:
            raise
        except Exception as err:
            raise BuildError(
                _rel(module_path), f"chart() raised {err!r}", line=_tb_line(err, module_path)
            ) from err

    chart = call(checked=False)
    if not isinstance(chart, alt.TopLevelMixin):
        raise BuildError(
            _rel(module_path),
            f"chart() returned {type(chart).__name__}",
            field="chart",
            expected="an Altair chart",
        )
    plotted = chart.data if isinstance(getattr(chart, "data", None), pd.DataFrame) else None
    if plotted is None or "source_id" not in plotted:
        raise BuildError(
            _rel(module_path),
            "the chart's top-level data has no source_id column",
            field="source_id",
            expected="a DataFrame of the plotted rows with source_id",
        )
    unknown = sorted(set(plotted["source_id"]) - set(pkg.sources))
    if unknown:
        raise BuildError(
            _rel(module_path),
            f"cites unknown sources {unknown}",
            field="source_id",
            expected="ids from data/sources.csv",
        )
    try:
        base = vega_lite_schema.to_spec(chart)
    except Exception as err:
        call(checked=True)  # raises with the line, if a part is invalid in itself
        untyped = re.search(r'Unable to determine data type for the field "([^"]+)"', str(err))
        if untyped:  # a shorthand with no type naming no column: Altair has nothing to go on
            field = untyped.group(1)
            raise BuildError(
                _rel(module_path),
                f"encodes field '{field}' with no type, and the data has no such column",
                field=field,
                expected=f"one of {sorted(plotted.columns)}, or a type as in '{field}:Q'",
            ) from None
        raise BuildError(
            _rel(module_path),
            f"not a valid Vega-Lite spec: {err}".split("\n")[0],
            expected="a chart that validates against the Vega-Lite schema",
        ) from None
    missing = _fields_used(base, set()) - set(plotted.columns) - _fields_made(base, set())
    if missing:
        raise BuildError(
            _rel(module_path),
            f"encodes field(s) {sorted(missing)} the data lacks",
            field=sorted(missing)[0],
            expected=f"one of {sorted(plotted.columns)}",
        )

    base = _no_nan(base)
    base.pop("$schema", None)
    base["description"] = f"{title}. {description}"
    sources = sorted(set(plotted["source_id"]))
    card = (title.strip(), source_line(sources, pkg.sources))
    narrow_base = _narrow_spec(module, pkg, tables, module_path, base)
    static = StaticCache(drawn, module_path, base, narrow_base, card) if drawn else None
    held = static.get() if static else None
    if held is None:
        held = _render_static(base, module_path, card, narrow_base)
        if static:
            static.put(*held)
    files, variants, dark_classes, controls = held
    _check_drawable(files["chart.svg"].decode(), module_path, pkg, tables, sources)
    table = plotted.drop(columns=[c for c in plotted.columns if c.startswith("_")])
    buf = io.StringIO()
    table.to_csv(buf, index=False, lineterminator="\n")
    files["data.csv"] = buf.getvalue().encode()
    width, height = variants["wide"]["width"], variants["wide"]["height"]
    meta = {
        "name": name,
        "title": title.strip(),
        "description": description,
        "tables": list(tables),
        "sources": sources,
        "columns": _column_titles(base, list(table.columns)),
        "rows": json.loads(table.to_json(orient="values")),
        "width": width,
        "height": height,
        "variants": variants,
        "controls": controls,
        "dark_classes": dark_classes,
        "png": list(chart_png.png_size(files["chart.svg"])),
        "low_confidence": int((plotted.get("confidence") == "low").sum())
        if "confidence" in plotted
        else 0,
    }
    files["figure.json"] = compact(meta).encode()
    return files


def _check_drawable(
    svg: str, module_path: Path, pkg: DataPackage, tables: tuple, source_ids: list[str]
) -> None:
    """Raise BuildError, at the source row, module line or table cell it comes from, if the
    download image draws text its fonts have no letters for (see CJK, below)."""
    text = re.sub(r"<(title|desc)\b.*?</\1>", " ", svg, flags=re.S)
    found = UNDRAWABLE.search(re.sub(r"<[^>]*>", " ", text))
    if not found:
        return
    run = found.group()
    problem = f"'{run}' would be drawn in the chart's images, whose fonts lack these letters"
    expected = "English or pinyin in what a chart draws (Chinese may stay in tooltips and tables)"
    sources = pkg.tables.get("sources", [])
    for number, row in enumerate(sources, start=2):
        if row.get("id") in source_ids and run in drawable(row.get("publisher") or ""):
            raise BuildError(
                _rel(pkg.path("sources")),
                problem,
                line=number,
                field="publisher",
                expected="the publisher's English or pinyin name; a Chinese name may follow it "
                "in parentheses, which images leave out",
            )
    lines = module_path.read_text(encoding="utf-8").splitlines()
    line = next((i for i, src in enumerate(lines, 1) if run in src), None)
    if line is not None:
        raise BuildError(_rel(module_path), problem, line=line, expected=expected)
    for name in tables:
        for number, row in enumerate(pkg.tables.get(name, []), start=2):
            for column, value in row.items():
                if isinstance(value, str) and run in value:
                    raise BuildError(
                        _rel(pkg.path(name)),
                        problem,
                        line=number,
                        field=column,
                        expected=expected,
                    )
    raise BuildError(_rel(module_path), problem, expected=expected)


def drawn_svg(spec: dict, cache: Path, keep: int = 20) -> str:
    """vl_convert.vegalite_to_svg(spec), kept in cache by the spec and the library's version.
    The methodology notebook draws the home page's chart with it: a rebuild after an edit to
    data that chart does not plot then starts no Vega in the notebook's kernel (1.5 s)."""
    text = json.dumps(spec, sort_keys=True)  # NaN and all: the key of exactly this spec
    key = fingerprint.sha(text, fingerprint.versions("vl-convert-python"), chart_fonts.KEY)[:24]
    hit = cache / f"{key}.svg"
    if hit.is_file():
        os.utime(hit)  # recently used: kept longest
        return hit.read_text(encoding="utf-8")
    vlc = chart_fonts.vl_convert()

    svg = vlc.vegalite_to_svg(spec)
    cache.mkdir(parents=True, exist_ok=True)
    tmp = cache / f".{key}.{os.getpid()}.tmp"
    tmp.write_text(svg, encoding="utf-8")
    tmp.replace(hit)
    for stale in sorted(cache.glob("*.svg"), key=lambda p: p.stat().st_mtime)[:-keep]:
        stale.unlink(missing_ok=True)
    return svg


class StaticCache:
    """A chart's images and live specs, by exactly what they are drawn from: its Vega-Lite spec
    (and phone version), the download's title and source line, the drawing code and the library
    versions. A table edit changes a chart's input key even where the rows it plots did not
    change; such a chart then costs its spec, not its drawing (about two thirds of its time)."""

    def __init__(
        self, folder: Path, module_path: Path, base: dict, narrow: dict | None, card
    ) -> None:
        name = module_path.stem
        code = _drawing_code()
        theme = fingerprint.code_digest((module_path.parent / "_theme.py").read_bytes())
        key = fingerprint.sha(name, compact([base, narrow, list(card)]), code, theme, _versions())
        self.path = folder / name / f"{key[:20]}.zip"

    def get(self) -> tuple | None:
        files = _unpack(self.path)
        try:
            meta = json.loads(files.pop("static.json"))
            if sorted(files) != meta["files"]:
                return None
        except (AttributeError, ValueError, KeyError):  # AttributeError: nothing there
            return None
        os.utime(self.path)  # recently used: kept longest
        return files, meta["variants"], meta["dark_classes"], meta["controls"]

    def put(self, files: dict, variants: dict, dark_classes: list, controls: list) -> None:
        meta = {"files": sorted(files), "variants": variants, "dark_classes": dark_classes}
        meta["controls"] = controls
        _store(self.path, {**files, "static.json": compact(meta).encode()})


def _no_nan(node: object) -> object:
    """Replace NaN (a gap in the data) with null: NaN is not JSON, and a gap stays a gap."""
    if isinstance(node, float) and node != node:
        return None
    if isinstance(node, dict):
        return {k: _no_nan(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_no_nan(v) for v in node]
    return node


# --- Static images --------------------------------------------------------------------------
# Each chart is drawn at build in two layouts: "wide" (the plot STATIC_WIDTH wide) and, for
# single-view charts whose width is ours to choose, "narrow" (about NARROW_TOTAL wide in all, for
# phones; the page picks one with a container query). The live view later renders the very same
# compiled spec at the same size and is scaled like the static image, so swapping one for the
# other moves nothing. One inline SVG serves both colour schemes: it carries the light colours as
# attributes and, where the dark rendering differs, a class (df-/ds-/dc-<colour>) that
# generated/charts.css maps to the dark colour under Material's slate scheme.

NARROW_TOTAL = 360  # px, the narrow image's full width (a phone column is 288-400 px)
NARROW_MIN_PLOT = 180  # px, never squeeze the plot itself below this
PAINT = re.compile(r' (fill|stroke|stop-color)="([^"]*)"')
TAG = re.compile(r"<[a-zA-Z][^>]*>")
SAFE_COLOUR = re.compile(r"#[0-9a-fA-F]{3,8}|[a-zA-Z]{3,20}|(rgb|rgba|hsl|hsla)\([0-9., %]{5,40}\)")
DARK_PREFIX = {"fill": "df", "stroke": "ds", "stop-color": "dc"}


def _render_static(
    base: dict,
    module_path: Path,
    card: tuple[str, str],
    narrow_base: dict | None = None,
) -> tuple[dict[str, bytes], dict, list, list]:
    """Render the images and live specs of every layout and theme; return (files, variants,
    dark colour classes, what-if controls). card is (title, source line) of the download;
    narrow_base, if given, is the module's own phone version (chart(data, layout="narrow"))."""
    import altair as alt

    from charts import _theme

    vlc = chart_fonts.vl_convert()

    def spec_for(theme: str, variant: str, width: int | None = None) -> dict:
        spec = _copy(narrow_base if variant == "narrow" and narrow_base else base)
        if theme == "dark":
            spec = _theme.in_dark(spec)
        spec["config"] = _theme.config(theme, variant)
        if width:
            _set_width(spec, width)
        spec["$schema"] = alt.SCHEMA_URL
        return spec

    compiled: dict[int, dict] = {}

    def to_vega(spec: dict) -> dict:
        # Each layout and theme is compiled once: its static image and its live view share it.
        if id(spec) not in compiled:
            compiled[id(spec)] = _one_time_domain(vlc.vegalite_to_vega(spec))
        return compiled[id(spec)]

    def svg(spec: dict) -> str:
        try:
            return vlc.vega_to_svg(to_vega(spec))
        except Exception as err:
            raise BuildError(_rel(module_path), f"rendering failed: {err}".split("\n")[0]) from None

    def live(spec: dict) -> bytes:
        vega = dict(to_vega(spec))
        if "signals" in vega:  # the page draws its own labelled controls
            vega["signals"] = [{k: v for k, v in s.items() if k != "bind"} for s in vega["signals"]]
        return compact(vega).encode()

    files: dict[str, bytes] = {}
    name = module_path.stem
    light, dark = spec_for("light", "wide", STATIC_WIDTH), spec_for("dark", "wide", STATIC_WIDTH)
    files["spec.vl.json"] = dumps(light).encode()
    light_svg = svg(light)
    files["light.svg"] = light_svg.encode()
    files["chart.svg"] = card_svg(light_svg, *card).encode()  # its PNG: scripts/chart_png.py
    vega_light = to_vega(light)
    files["light.vg.json"], files["dark.vg.json"] = live(light), live(dark)
    twins = _dark_twins(light, dark, base)
    themed = _apply_dark_map(light_svg, twins, f"{name}-w") if twins else None
    if themed is None:  # draw the dark one and compare the two, mark by mark
        inline, mapping, classes = _themed_svg(light_svg, svg(dark), f"{name}-w")
        twins = lambda prop, colour: mapping.get((prop, colour))  # noqa: E731
    else:
        inline, classes = themed
    files["inline.svg"] = inline.encode()
    width, height = _svg_size(files["light.svg"])
    variants = {"wide": {"width": width, "height": height}}

    narrow_plot = max(NARROW_MIN_PLOT, int(NARROW_TOTAL - (width - STATIC_WIDTH)))
    n_light = spec_for("light", "narrow", narrow_plot)
    resized = narrow_plot < STATIC_WIDTH - 80 and n_light != spec_for("light", "narrow")
    if resized or narrow_base is not None:
        n_dark = spec_for("dark", "narrow", narrow_plot)
        n_light_svg = svg(n_light)
        n_twins = _dark_twins(n_light, n_dark, narrow_base or base) or twins
        themed = _apply_dark_map(n_light_svg, n_twins, f"{name}-n")
        if themed is None:  # colours the wide image never used: render the dark one too
            narrow, _, more = _themed_svg(n_light_svg, svg(n_dark), f"{name}-n")
        else:
            narrow, more = themed
        classes = sorted({tuple(c) for c in [*classes, *more]})
        files["inline-narrow.svg"] = narrow.encode()
        files["light-narrow.vg.json"], files["dark-narrow.vg.json"] = live(n_light), live(n_dark)
        n_width, n_height = _svg_size(n_light_svg.encode())
        variants["narrow"] = {"width": n_width, "height": n_height}
    return files, variants, [list(c) for c in classes], _controls(vega_light)


def _one_time_domain(vega: dict) -> dict:
    """Drop the copy of a time scale's set domain that Vega-Lite adds when a layer uses x2 or y2
    (vega/vega-lite#5733): the raw list beside the same dates as signals, which makes Vega warn
    "Infinite extent for field "data"" in the reader's console. The extent is the same."""
    for scale in vega.get("scales", []):
        domain = scale.get("domain")
        fields = domain.get("fields") if isinstance(domain, dict) else None
        if not isinstance(fields, list):
            continue
        signals = [f for f in fields if isinstance(f, dict) and "signal" in f]
        copies = [f for f in fields if isinstance(f, list) and len(f) == len(signals)]
        if signals and copies and len(signals) + len(copies) == len(fields):
            domain["fields"] = signals
    for mark in vega.get("marks", []):
        if mark.get("type") == "group":
            _one_time_domain(mark)
    return vega


def _narrow_spec(module, pkg, tables, module_path: Path, base: dict) -> dict | None:
    """A module may draw its own phone version: chart(data, layout="narrow") (shorter labels,
    fewer annotations). Its data must be the same rows; the page's table and CSV stay one."""
    import inspect

    from altair.utils import schemapi

    try:
        takes_layout = "layout" in inspect.signature(module.chart).parameters
    except (TypeError, ValueError):
        return None
    if not takes_layout:
        return None
    try:
        with schemapi.debug_mode(False):  # the whole spec is checked by to_spec
            narrow = module.chart(frames(pkg, tables, module_path), layout="narrow")
        spec = _no_nan(vega_lite_schema.to_spec(narrow))
    except Exception as err:
        raise BuildError(
            _rel(module_path),
            f'chart(data, layout="narrow") failed: {err!r}'.split("\n")[0],
            line=_tb_line(err, module_path),
        ) from None
    spec.pop("$schema", None)
    spec["description"] = base["description"]
    return spec


def _set_width(spec: dict, width: int) -> None:
    """Give a chart the plot width of a layout: a single or layered view unless the module chose
    its width; in a vertical stack, every panel drawn at the house width (STATIC_WIDTH)."""
    if not COMPOSED & spec.keys():
        spec.setdefault("width", width)
        return
    for panel in spec.get("vconcat", []):
        if isinstance(panel, dict) and panel.get("width") == STATIC_WIDTH:
            panel["width"] = width
        elif isinstance(panel, dict) and "vconcat" in panel:
            _set_width(panel, width)


def minify_svg(svg: str, prefix: str) -> str:
    """Shrink a vl-convert SVG for inlining: no ARIA (the figure speaks for it), no empty groups,
    two decimals, one font declaration; ids prefixed so several charts can share a page."""
    s = re.sub(r' (aria-[a-z]+|role|pointer-events|class)="[^"]*"', "", svg)
    s = s.replace(' opacity="1"', "").replace(' version="1.1"', "")
    s = s.replace(' stroke-width="1"', "").replace(' transform="translate(0,0)"', "")
    s = s.replace(' text-anchor="start"', "")
    s = re.sub(r"<line [^>]*>", lambda m: re.sub(r' [xy]2="0"', "", m.group(0)), s)
    s = s.replace('<path d="M0,0h0v0h0Z"/>', "").replace('<path d="" display="none"/>', "")
    previous = None
    while previous != s:
        previous = s
        s = re.sub(r"<g(?: [^>]*)?></g>", "", s)
    for attr in ("font-family", "font-size"):  # the commonest value once, on the root
        values = re.findall(rf' {attr}="([^"]*)"', s)
        if values:
            common = max(sorted(set(values)), key=values.count)
            s = s.replace(f' {attr}="{common}"', "")
            s = s.replace("<svg ", f'<svg {attr}="{common}" ', 1)
    # Unrotated text placed by x/y rather than a transform: shorter, the same drawing. Not for
    # multi-line text, whose lines restart at x="0" of the transformed origin.
    s = re.sub(
        r'(<text [^>]*?)transform="translate\(([-\d.]+),([-\d.]+)\)"(?![^>]*>\s*<tspan)',
        r'\1x="\2" y="\3"',
        s,
    )
    s = re.sub(
        r'( (?:d|transform|x|y|x1|x2|y1|y2|width|height|r|cx|cy|dx|dy|points)=")([^"]*)"',
        lambda m: m.group(1) + re.sub(r"\d+\.\d{3,}", _round, m.group(2)) + '"',
        s,
    )
    ids = re.findall(r' id="([^"]+)"', s)
    for ident in sorted(set(ids), key=len, reverse=True):
        s = s.replace(f' id="{ident}"', f' id="{prefix}-{ident}"')
        s = s.replace(f"url(#{ident})", f"url(#{prefix}-{ident})")
        s = s.replace(f'href="#{ident}"', f'href="#{prefix}-{ident}"')
    if "xlink:" not in s.replace("xmlns:xlink", ""):
        s = s.replace(' xmlns:xlink="http://www.w3.org/1999/xlink"', "")
    return s


def _round(m: re.Match) -> str:
    return f"{float(m.group(0)):.2f}".rstrip("0").rstrip(".")


def _dark_class(prop: str, value: str) -> str | None:
    if not SAFE_COLOUR.fullmatch(value):
        return None
    token = value.lower().lstrip("#")
    if not re.fullmatch(r"[a-z0-9]+", token):
        token = hashlib.sha256(token.encode()).hexdigest()[:8]
    return f"{DARK_PREFIX[prop]}-{token}"


def _add_classes(tag: str, classes: list[str]) -> str:
    if not classes:
        return tag
    end = -2 if tag.endswith("/>") else -1
    return f'{tag[:end]} class="{" ".join(classes)}"{tag[end:]}'


def _themed_svg(light: str, dark: str, prefix: str) -> tuple[str, dict, list]:
    """One SVG for both schemes (light attributes + dark classes); falls back to two SVGs, each
    shown in its scheme, when the renderings differ in more than colour."""
    a, b = minify_svg(light, prefix), minify_svg(dark, prefix)
    tags_a, tags_b = TAG.findall(a), TAG.findall(b)
    same_shape = TAG.split(a) == TAG.split(b) and len(tags_a) == len(tags_b)
    mapping: dict[tuple[str, str], str | None] = {}
    classes: set[tuple[str, str, str]] = set()
    out = []
    for ta, tb in zip(tags_a, tags_b, strict=False) if same_shape else []:
        pa, pb = dict(PAINT.findall(ta)), dict(PAINT.findall(tb))
        if PAINT.sub("", ta) != PAINT.sub("", tb) or pa.keys() != pb.keys():
            same_shape = False
            break
        extra = []
        for prop, lv in pa.items():
            dv = pb[prop]
            key = (prop, lv)
            mapping[key] = dv if mapping.get(key, dv) == dv else None  # None: ambiguous
            if dv != lv:
                cls = _dark_class(prop, dv)
                if cls is None:
                    same_shape = False
                    break
                extra.append(cls)
                classes.add((cls, prop, dv))
        out.append(_add_classes(ta, extra))
    if not same_shape:
        b = minify_svg(dark, f"{prefix}d")  # ids unique within the page
        both = a.replace("<svg ", '<svg class="chart__svg--light" ', 1) + b.replace(
            "<svg ", '<svg class="chart__svg--dark" ', 1
        )
        return both, {}, []
    parts = TAG.split(a)
    merged = parts[0] + "".join(t + p for t, p in zip(out, parts[1:], strict=True))
    return merged, mapping, sorted(classes)


HEX = re.compile(r"#[0-9a-fA-F]{3,8}")


def _dark_twins(light: dict, dark: dict, base: dict):
    """dark_of(paint property, light colour) -> its dark colour, read from the two themes'
    configs, or None where that cannot be trusted. Both renderings come from one spec and differ
    only in its config (and the highlight colour a chart names itself, charts._theme.in_dark);
    where the configs differ only in colours, each light colour of the config has its dark twin
    and every other colour stays as it is. Not when a light colour has two twins, or the chart's
    own spec uses one that the dark rendering does not turn into its twin: the dark image is then
    drawn and compared, as it is when the configs differ in more than colour.
    tests/test_reader_build.py checks the result against the real dark rendering."""
    twins: dict[str, str] = {}

    def pair(a: object, b: object) -> bool:
        if isinstance(a, dict) and isinstance(b, dict):
            return a.keys() == b.keys() and all(pair(a[k], b[k]) for k in a)
        if isinstance(a, list) and isinstance(b, list):
            return len(a) == len(b) and all(pair(x, y) for x, y in zip(a, b, strict=True))
        if isinstance(a, str) and isinstance(b, str) and HEX.fullmatch(a) and HEX.fullmatch(b):
            return twins.setdefault(a.lower(), b) == b
        return a == b

    if not pair(light["config"], dark["config"]):
        return None
    from charts._theme import dark_of_own

    own = {c.lower() for c in HEX.findall(json.dumps(base))}
    if any(twins[c].lower() != dark_of_own(c).lower() for c in own & twins.keys()):
        return None
    return lambda prop, colour: twins.get(colour.lower(), colour)


def _apply_dark_map(light: str, dark_of, prefix: str) -> tuple[str, list] | None:
    """Theme a light SVG by dark_of(property, light colour) -> dark colour (None: unknown), or
    return None if a colour's dark twin is unknown or cannot be a class."""
    a = minify_svg(light, prefix)
    classes: set[tuple[str, str, str]] = set()

    def retag(m: re.Match) -> str:
        tag = m.group(0)
        extra = []
        for prop, lv in PAINT.findall(tag):
            dv = dark_of(prop, lv)
            if dv is None:
                raise KeyError((prop, lv))
            if dv != lv:
                cls = _dark_class(prop, dv)
                if cls is None:
                    raise KeyError((prop, dv))
                extra.append(cls)
                classes.add((cls, prop, dv))
        return _add_classes(tag, extra)

    try:
        return TAG.sub(retag, a), sorted(classes)
    except KeyError:
        return None


# The images are drawn with the fonts vl-convert carries (scripts/chart_fonts.py), which have
# Latin, Greek and Cyrillic letters but no Chinese, Japanese or Korean: such text would come out
# as empty boxes in the PNG a reader downloads or a social card shows. A name in those scripts in
# parentheses after a Latin one ("China Finance Online (中财网)") is left out of what is drawn (the
# page's citation keeps it); any other such text in a drawing stops the build, located.
CJK = "\u2e80-\u2fff\u3000-\u30ff\u3100-\u9fff\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
UNDRAWABLE = re.compile(f"[{CJK}]+")
CJK_ASIDE = re.compile(rf"\s*[(\uff08][^()\uff08\uff09]*[{CJK}][^()\uff08\uff09]*[)\uff09]")


def drawable(text: str) -> str:
    """text without its parenthesised asides in scripts the images' fonts cannot draw."""
    return CJK_ASIDE.sub("", text)


def source_line(source_ids: list[str], sources: dict) -> str:
    """'Source: CAAM (2025)' or 'Sources: A (2015, 2016); B', for the foot of an image."""
    years: dict[str, set[str]] = {}
    for sid in source_ids:
        s = sources[sid]
        publisher = drawable(s["publisher"])
        years.setdefault(publisher, set())
        if (s.get("published") or "")[:4]:
            years[publisher].add(s["published"][:4])
    names = [f"{p} ({', '.join(sorted(y))})" if y else p for p, y in sorted(years.items())]
    return ("Source: " if len(names) == 1 else "Sources: ") + "; ".join(names)


def _wrap(text: str, width_px: float, size: float) -> list[str]:
    """Greedy line breaks by an average glyph width (0.55 em): good enough for titles."""
    limit = max(10, int(width_px / (0.55 * size)))
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > limit:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return [*lines, line] if line else lines


def card_svg(chart: str, title: str, footer: str) -> str:
    """The downloadable image: title above the chart, sources and credit below, light theme."""
    from html import escape

    from charts import _theme

    t = _theme.THEMES["light"]
    w, h = _svg_size(chart.encode())
    pad, size = 24, 20
    lines = _wrap(title, w, size)
    top = pad + len(lines) * 26 + 8
    feet = [*_wrap(footer, w, 12), _theme.CREDIT]
    total_w, total_h = w + 2 * pad, top + h + 12 + len(feet) * 18 + pad
    font = escape(_theme.FONT, quote=True)
    head = "".join(
        f'<text x="{pad}" y="{pad + 20 + i * 26}" font-size="{size}" font-weight="bold" '
        f'fill="{t["text"]}">{escape(line)}</text>'
        for i, line in enumerate(lines)
    )
    foot = "".join(
        f'<text x="{pad}" y="{top + h + 24 + i * 18}" font-size="12" fill="{t["subtle"]}">'
        f"{escape(line)}</text>"
        for i, line in enumerate(feet)
    )
    # The chart goes in as a translated group, not a nested <svg>: a nested one clips its
    # content, and resvg draws a clip through a full-size mask (0.06 s of a chart's 0.14 s PNG).
    # Vega sizes its image to hold every mark, so there is nothing outside it to clip.
    inner = re.sub(r"^<svg[^>]*>", "", chart.strip(), count=1).removesuffix("</svg>")
    xlink = ' xmlns:xlink="http://www.w3.org/1999/xlink"' if "xlink:" in inner else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg"{xlink} width="{total_w:g}" '
        f'height="{total_h:g}" viewBox="0 0 {total_w:g} {total_h:g}" font-family="{font}">'
        f'<rect width="100%" height="100%" fill="{t["background"]}"/>{head}'
        f'<g transform="translate({pad},{top})">{inner}</g>{foot}</svg>'
    )


def site_card_svg(title: str, description: str) -> str:
    """The social image of pages without a chart: 1200 x 630, the site's title and promise."""
    from html import escape

    from charts import _theme

    t, pal = _theme.THEMES["light"], _theme.palette("light")
    font = escape(_theme.FONT, quote=True)
    title_lines = _wrap(title, 1040, 64)
    desc_lines = _wrap(description, 1040, 30)[:5]
    y = 150
    parts = [
        f'<rect width="1200" height="630" fill="{t["background"]}"/>',
        f'<rect x="80" y="80" width="120" height="10" fill="{pal[0]}"/>',
        f'<rect x="200" y="80" width="60" height="10" fill="{pal[1]}"/>',
    ]
    for line in title_lines:
        y += 72
        parts.append(
            f'<text x="80" y="{y}" font-size="64" font-weight="bold" fill="{t["text"]}">'
            f"{escape(line)}</text>"
        )
    y += 24
    for line in desc_lines:
        y += 42
        parts.append(
            f'<text x="80" y="{y}" font-size="30" fill="{t["subtle"]}">{escape(line)}</text>'
        )
    parts.append(
        f'<text x="80" y="560" font-size="24" fill="{t["subtle"]}">{escape(_theme.CREDIT)}</text>'
    )
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="630" '
        f'viewBox="0 0 1200 630" font-family="{font}">{"".join(parts)}</svg>'
    )


def _controls(vega: dict) -> list[dict]:
    """The chart's what-if inputs (Vega signals bound to an input), for the page to draw."""
    out = []
    for signal in vega.get("signals", []):
        bind = signal.get("bind")
        if not isinstance(bind, dict) or bind.get("input") not in (
            "range",
            "select",
            "radio",
            "checkbox",
        ):
            continue
        control = {
            "signal": signal["name"],
            "input": bind["input"],
            "label": str(bind.get("name") or signal["name"]).strip(),
            "value": signal.get("value"),
        }
        for key in ("min", "max", "step", "options", "labels"):
            if key in bind:
                control[key] = bind[key]
        out.append(control)
    return out


def site_assets(staged: dict[str, bytes], root: Path) -> dict[str, bytes]:
    """Files for the whole site derived from every chart: the dark-scheme colour classes of the
    inline images (charts.css) and the social card of pages without a chart."""
    rules, boxes = set(), []
    for rel, data in sorted(staged.items()):
        if rel.startswith("charts/") and rel.endswith("/figure.json"):
            meta = json.loads(data)
            for cls, prop, value in meta.get("dark_classes", []):
                rules.add(f".chart__static .{cls}{{{prop}:{value}}}")
            for layout, size in sorted(meta.get("variants", {}).items()):
                boxes.append(
                    f'.chart[data-chart="{meta["name"]}"] .chart__static--{layout}'
                    f"{{aspect-ratio:{size['width']:g}/{size['height']:g}}}\n"
                )
    css = (
        "/* Generated by scripts/build_charts.py. Each inline image's box (so the page can skip\n"
        "   drawing charts off screen without anything moving), and the dark-scheme colours. */\n"
        + "".join(boxes)
        + "@media screen {\n"
        + "".join(f'[data-md-color-scheme="slate"] {rule}\n' for rule in sorted(rules))
        + "}\n"
    )
    title, description = _site_text(root)
    card = site_card_svg(title, description)
    key = hashlib.sha256((card + _versions()).encode()).hexdigest()[:16]
    cached = root / ".cache" / f"site-card-{key}.png"
    if not cached.exists():
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_bytes(chart_png.draw(card.encode(), "mkdocs.yml", scale=1))
    return {"charts.css": css.encode(), "site-card.png": cached.read_bytes()}


def _site_text(root: Path) -> tuple[str, str]:
    """The site's name and description from mkdocs.yml (without importing MkDocs)."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_constructor("!ENV", lambda loader, node: None)
    try:
        config = yaml.load((root / "mkdocs.yml").read_text(encoding="utf-8"), Loader=Loader)
    except (OSError, yaml.YAMLError):
        config = {}
    return (
        str(config.get("site_name") or "Renting a premium brand"),
        " ".join(str(config.get("site_description") or "").split()),
    )


def _svg_size(svg: bytes) -> tuple[float, float]:
    try:
        return chart_png.svg_size(svg)
    except ValueError:
        return (STATIC_WIDTH, 300.0)


def _column_titles(spec: dict, columns: list[str]) -> list[list[str]]:
    """Map each plotted column to the title its tooltip gives it (readers' words, not ours)."""
    titles: dict[str, str] = {}

    def walk(node: object) -> None:
        if isinstance(node, dict):
            tips = node.get("tooltip")
            for tip in tips if isinstance(tips, list) else [tips]:
                if isinstance(tip, dict) and tip.get("field") in columns and tip.get("title"):
                    titles.setdefault(tip["field"], tip["title"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec)
    defaults = {"source_id": "Source", "confidence": "Confidence"}
    return [[c, titles.get(c, defaults.get(c, c.replace("_", " ").capitalize()))] for c in columns]


def figures(pkg: DataPackage) -> dict:
    """Every fact row by id, for prose references: value, unit, label, source, confidence."""
    out = {}
    for name, rows in pkg.tables.items():
        if name == "sources":
            continue
        for row in rows:
            if "value" in row and row.get("id"):
                out[row["id"]] = {
                    "table": name,
                    **{
                        k: row.get(k, "")
                        for k in (
                            "entity",
                            "metric",
                            "period",
                            "unit",
                            "source_id",
                            "confidence",
                            "note",
                        )
                    },
                    "value": row["value"],
                }
    for d in derived_figures.DERIVED:
        if d.unit not in pkg.units:
            raise BuildError(
                "scripts/derived_figures.py",
                f"'{d.id}' has unit '{d.unit}'",
                field="unit",
                expected="a unit listed in data/datapackage.json x_units",
            )
    try:
        out.update(derived_figures.compute_all(out))
    except KeyError as err:
        raise BuildError(
            "scripts/derived_figures.py",
            err.args[0],
            field="inputs",
            expected="ids of rows in data/ tables",
        ) from None
    return {"figures": out, "sources": pkg.sources, "units": pkg.units}


def _runtime_path(cache: Path) -> Path:
    """The runtime depends on the installed vl-convert alone, so it is kept beside it, in the
    virtual environment (written once per install, as pip writes bytecode); else in .cache."""
    name = f"vega-{_versions().replace(' ', '_')}.js"
    if sys.prefix != sys.base_prefix and os.access(sys.prefix, os.W_OK):
        return Path(sys.prefix) / "share" / "seres-explainer" / name
    return cache / name


def vega_runtime(cache: Path) -> bytes:
    """Return the self-hosted Vega runtime (from vl-convert, so no Node and no CDN)."""
    vlc = chart_fonts.vl_convert()

    path = _runtime_path(cache)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # vl-convert 1.9.0 exposes a null `vega` in every bundle; vegaEmbed works (mode "vega").
        path.write_text(vlc.javascript_bundle(), encoding="utf-8")
    return path.read_bytes()


def build(
    root: Path = ROOT,
    out: Path | None = None,
    only: list[str] | None = None,
    background: dict | None = None,
    defer_png: bool = False,
    defer_notebooks: bool = False,
) -> dict:
    """Validate data, build every chart and notebook into docs/generated; return counts.

    background: under `mkdocs serve`, notebooks run in the background (scripts/build_notebooks.py).
    defer_png: return before the charts' PNGs are drawn; stats["drawing"] (a chart_png.Drawing)
    has them, for the caller to finish once the pages are written.
    defer_notebooks: return while a notebook still runs, its page staged as a placeholder;
    stats["notebooks"]() waits and writes its real files (before its page is rendered: the
    other pages are built meanwhile). Never publish a build that has not called it.
    """
    started = time.perf_counter()
    out = out or root / "docs" / "generated"
    cache = root / ".cache" / "charts"
    charts_dir = root / "charts"
    names = only or chart_names(charts_dir)
    early = None
    notebooks_done = None
    started_early = _EARLY.pop(root, None) if background is None and only is None else None
    try:
        if started_early is not None:
            pkg, notebooks_done = started_early
        else:
            # A one-off build validates on the other core while this one goes on; nothing made
            # from the tables is kept before pkg.confirm().
            validated = root / ".cache" / "validated"
            pkg = load_package(root / "data", cache=validated, apart=background is None)
        if background is None and not cache.is_dir() and len(names) >= PARALLEL_FROM:
            # Nothing cached: every chart will be drawn. The second process starts now and
            # warms up while the notebook starts and the keys are computed, instead of after.
            early = _new_worker(root)
            early.submit(warm)
        staged: dict[str, bytes] = {}
        # The notebook reads data and code, never what the charts write, and it runs in a
        # process of its own: on the other core while the charts render here.
        if only is None and started_early is None:
            notebooks_done = build_notebooks.start(root, background, ready=pkg.confirm)
        if background is None:  # a new process: what earlier ones parsed (serve keeps its own)
            fingerprint.keep_in(root / ".cache" / "parsed.json", Path(__file__).read_bytes())
        hits = {name: _cache_entry(name, charts_dir, cache, pkg, root) for name in names}
        fingerprint.save_kept()
        held = {name: _unpack(hits[name]) for name in names}
        rendered = [name for name in names if held[name] is None]
        worker = chart_worker(background, root) if background is not None and rendered else early
        beside = notebooks_done is not None and notebooks_done.running  # on the other core
        if worker is None and len(rendered) >= (
            PARALLEL_BESIDE_NOTEBOOK if beside else PARALLEL_FROM
        ):
            worker = early = _new_worker(root)
        # Under serve, PNGs missing from the cache go to the warm second process, never to a
        # thread of the server's.
        second = (lambda: chart_worker(background, root)) if background is not None else None
        drawing = chart_png.Drawing(root / ".cache" / "png", worker, second)

        def draw_png(name: str, files: dict[str, bytes]) -> None:
            drawing.add(f"charts/{name}/chart.png", files["chart.svg"], f"charts/{name}.py")

        made = _render_all(rendered, charts_dir, pkg, root, worker, done=draw_png)
        pkg.confirm()
        for name in names:
            if name in made:
                _store(hits[name], made[name])
                files = made[name]
            else:
                hits[name].touch()  # recently used: kept longest
                files = held[name]
            for fname, data in files.items():
                staged[f"charts/{name}/{fname}"] = data
            png = drawing.add(f"charts/{name}/chart.png", files["chart.svg"], f"charts/{name}.py")
            if png is not None:
                staged[f"charts/{name}/chart.png"] = png
        if not defer_png:
            staged.update(drawing.finish())
    except BaseException as err:
        if notebooks_done is not None:
            notebooks_done.cancel()
        if "drawing" in locals():
            drawing.close(cancel=True)
        if early is not None:
            early.shutdown(wait=True, cancel_futures=True)
        if "pkg" in locals() and isinstance(err, Exception):
            pkg.confirm()  # a data error comes first: a chart's error may be its echo
        elif "pkg" in locals():
            pkg.cancel()
        raise
    if early is not None and not drawing.pending():
        early.shutdown(wait=True, cancel_futures=True)
    elif early is not None:
        drawing.owned_pool = early  # shut down once its PNGs are drawn
    try:
        staged["figures.json"] = dumps(figures(pkg)).encode()
        staged["charts.json"] = dumps(
            {n: json.loads(staged[f"charts/{n}/figure.json"])["title"] for n in names}
        ).encode()
        for res in pkg.descriptor["resources"]:
            staged[f"data/{res['path']}"] = pkg.path(res["name"]).read_bytes()
        staged["data/datapackage.json"] = (root / "data" / "datapackage.json").read_bytes()
        staged["vega.js"] = vega_runtime(root / ".cache")
        staged.update(site_assets(staged, root))
        later = defer_notebooks and notebooks_done is not None and notebooks_done.running
        if later:
            notebooks, ran = notebooks_done.waiting, []
        else:
            notebooks, ran = notebooks_done() if notebooks_done else ({}, [])
        staged.update(notebooks)
        # A PNG still being drawn keeps its old file until the new one replaces it.
        changed = sync(staged, out, prune=only is None, keep=set(drawing.pending()))
    except BaseException:  # a notebook's cell raised, say: the PNGs are not wanted
        drawing.close(cancel=True)
        raise
    seconds = time.perf_counter() - started
    stats = {
        "validated": pkg.validated,
        "built": len(rendered),
        "reused": len(names) - len(rendered),
        "charts_built": rendered,
        "notebooks_run": ran,
        "notebooks_reused": sum(n.endswith(".ipynb") for n in notebooks)
        - len(ran)
        - (len(notebooks_done.runs) if later else 0),
        "changed": changed,
        "seconds": round(seconds, 3),
        "png_pending": len(drawing.pending()),
    }
    if defer_png:
        stats["drawing"] = drawing
    if later:
        stats["notebooks"] = _landing(notebooks_done, out)
    log(
        f"build_charts: data {'validated' if pkg.validated else 'unchanged'}; charts: "
        f"{stats['built']} built, {stats['reused']} from cache; notebooks: {len(ran)} run, "
        + (f"{len(notebooks_done.runs)} running, " if later else "")
        + f"{stats['notebooks_reused']} from cache; {changed} files written in {seconds:.2f}s"
    )
    return stats


_EARLY: dict[Path, tuple] = {}  # root -> (package, notebooks) begun by start_early()


def start_early(root: Path = ROOT) -> None:
    """A one-off build's first steps, taken before MkDocs loads (scripts/build_site.py): the
    data's validation (apart) and the notebook runs, which are the build's longest path. build()
    takes them over; cancel_early() stops them if it never runs. A problem found here is left
    for build() to find again and report as usual."""
    try:
        pkg = load_package(root / "data", cache=root / ".cache" / "validated", apart=True)
        try:
            notebooks_done = build_notebooks.start(root, None, ready=pkg.confirm)
        except BaseException:
            pkg.cancel()
            raise
    except BuildError:
        return
    _EARLY[root] = (pkg, notebooks_done)


def cancel_early() -> None:
    """Stop what start_early() began and build() did not take over (the build failed before)."""
    while _EARLY:
        pkg, notebooks_done = _EARLY.popitem()[1]
        notebooks_done.cancel()
        pkg.cancel()


def _landing(notebooks_done, out: Path):
    """A function that waits for the notebooks still running and writes their files into out."""

    def land() -> list[str]:
        staged, ran = notebooks_done()
        for rel, data in staged.items():
            chart_png.write_file(out / rel, data)
        return ran

    land.cancel = notebooks_done.cancel
    return land


def _cache_entry(name: str, charts_dir: Path, cache: Path, pkg: DataPackage, root: Path) -> Path:
    """Where one chart's files are cached: a file named by the hash of exactly its inputs."""
    module_path = charts_dir / f"{name}.py"
    src = module_path.read_bytes()
    tables = _declared_tables(src, module_path)
    return cache / name / f"{input_key(name, src, tables, pkg, root)}.zip"


def _render(name: str, charts_dir: Path, pkg: DataPackage) -> dict[str, bytes]:
    """Import a chart module afresh and render it; errors point at the module's own line."""
    module_path = charts_dir / f"{name}.py"
    try:
        module = _fresh_import(charts_dir, name)
        drawn = charts_dir.parent / ".cache" / "drawn"
        return render_chart(name, module, pkg, module_path, drawn)
    except BuildError as err:
        raise _locate(err, module_path.read_bytes()) from None


def _render_in_worker(root: str, name: str) -> dict[str, bytes]:
    """_render in a second process (the first validates the data and keeps nothing before)."""
    _exit_with_parent()
    pkg = load_package(Path(root) / "data", validate=False)
    return _render(name, Path(root) / "charts", pkg)


def _store(hit: Path, files: dict[str, bytes]) -> None:
    """Cache one chart's files in the one file hit, keeping the KEEP most recent entries of the
    chart. One file, not a folder of a dozen: on this project's machines creating a file costs
    about half a millisecond whatever its size, and a chart's outputs are some 12 files."""
    hit.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as pack:
        for fname in sorted(files):
            pack.writestr(zipfile.ZipInfo(fname, date_time=(1980, 1, 1, 0, 0, 0)), files[fname])
    tmp = hit.with_name(f".{hit.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    tmp.write_bytes(buffer.getvalue())
    tmp.replace(hit)  # whole or not at all, also beside a concurrent build
    entries = sorted(
        (p for p in hit.parent.iterdir() if not p.name.startswith(".")),
        key=lambda p: p.stat().st_mtime,
    )
    for stale in entries[:-KEEP]:
        if stale.is_dir():  # an entry as an earlier version of this code kept it
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)


def _unpack(hit: Path) -> dict[str, bytes] | None:
    """The files _store kept in hit, or None if there is none or it is damaged (its checksums
    fail): then the chart is drawn again and stored over it."""
    try:
        with zipfile.ZipFile(hit) as pack:
            return {info.filename: pack.read(info) for info in pack.infolist()}
    except (OSError, zipfile.BadZipFile, EOFError):
        return None


# From this many charts to render, a second process renders some of them: vl-convert draws one
# chart at a time per process, and a machine with two cores would leave one idle. Starting that
# process costs about two seconds (imports, Vega's first load), so a one-off build needs a few
# charts to gain; under `mkdocs serve` it is kept warm (chart_worker) and two are enough.
PARALLEL_FROM = 4
PARALLEL_FROM_WARM = 2
# While a notebook runs in a process of its own, the other core is taken: the second process's
# start would compete with it and outlast the few charts it came for (after a CSV edit: 4 charts
# done at 3.2 s with it, 2.3 s without, the notebook at 2.8 s).
PARALLEL_BESIDE_NOTEBOOK = 8


@functools.cache  # once per process
def _exit_with_parent() -> None:
    """In a second process: exit as soon as the process that started it is gone. Its pool would
    not tell it when that process is killed (`mkdocs serve` stopped by a signal, say), and it
    would wait for work forever."""
    import multiprocessing

    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=lambda: (parent.join(), os._exit(0)), daemon=True).start()


def _new_worker(root: Path):
    """The second process, started now with Ctrl+C blocked: it is left to the process that
    started it, which stops this one when it is done (else the terminal shows the second one's
    traceback as `mkdocs serve` stops). Blocked, not ignored by a handler: the process takes a
    second or two to start, and a Ctrl+C then would interrupt it before any handler is set."""
    import multiprocessing
    import signal
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(
        max_workers=1,
        mp_context=multiprocessing.get_context("spawn"),  # vl-convert's threads do not fork
        initializer=_worker_start,
        initargs=(str(root),),
    )
    # The process is spawned by the first submit, from this thread, with this thread's mask.
    old = signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGINT])
    try:
        pool.submit(int)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
    return pool


def _worker_start(root: str) -> None:
    """In the second process, first: find the project's modules."""
    sys.path.insert(0, root)


def warm() -> None:
    """Pay a process's first-chart costs now: the imports, the schema's validator, Vega's and
    the fonts' first load."""
    _exit_with_parent()
    import altair  # noqa: F401
    import pandas  # noqa: F401

    vlc = chart_fonts.vl_convert()

    vega_lite_schema.validator()

    spec = {"mark": "text", "encoding": {"text": {"value": "warm"}}, "data": {"values": [{}]}}
    vlc.svg_to_png(vlc.vega_to_svg(vlc.vegalite_to_vega(spec)))


def chart_worker(background: dict, root: Path):
    """Under `mkdocs serve` (background outlives rebuilds): the second process, started once and
    warmed, then reused by every rebuild; started anew after an edit to scripts/, whose code it
    runs (chart modules it imports afresh for every chart, as this process does)."""
    stamp = sorted((p.name, p.stat().st_mtime_ns) for p in (root / "scripts").glob("*.py"))
    with background.setdefault("chart_worker_lock", threading.Lock()):
        held = background.get("chart_worker")
        # A worker that died (killed, out of memory) marks its pool broken: start another.
        if held and held[0] == stamp and not getattr(held[1], "_broken", False):
            return held[1]
        if held:
            held[1].shutdown(wait=False, cancel_futures=True)
        worker = _new_worker(root)
        worker.submit(warm)
        background["chart_worker"] = (stamp, worker)
        return worker


def _render_all(
    names: list[str], charts_dir: Path, pkg: DataPackage, root: Path, worker=None, done=None
) -> dict:
    """Render the named charts (name -> files), in this process and, if given a worker (the
    second process), in that one too; done(name, files) is called as each chart is ready.

    The second process first writes the Vega runtime if it is missing (two seconds of
    vl-convert), then takes charts from the end of the list, one at a time, while this one takes
    them from the front: neither waits on a chart queued for the other. What done queues on it
    (the PNGs) comes between its charts."""
    done = done or (lambda name, files: None)
    out: dict[str, dict[str, bytes]] = {}
    if worker is None or len(names) < PARALLEL_FROM_WARM:
        for name in names:
            out[name] = _render(name, charts_dir, pkg)
            done(name, out[name])
        return out
    pool = worker
    todo, lock = list(names), threading.Lock()
    elsewhere: dict = {}
    failed: list[BaseException] = []

    def feed() -> None:
        # What fails here is raised by the caller below. If the caller failed first, the build
        # is stopping and this thread finds the pool shut, or its chart cancelled: a thread's
        # traceback would then bury the build's one message.
        try:
            while True:
                with lock:
                    if not todo:
                        return
                    name = todo.pop()
                    elsewhere[name] = pool.submit(_render_in_worker, str(root), name)
                if elsewhere[name].exception() is not None:
                    return  # reported below, in list order
                done(name, elsewhere[name].result())
        except BaseException as err:  # noqa: BLE001
            failed.append(err)

    try:
        cache = root / ".cache"
        runtime = None if _runtime_path(cache).exists() else pool.submit(vega_runtime, cache)
        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()
        while True:
            with lock:
                if not todo:
                    break
                name = todo.pop(0)
            out[name] = _render(name, charts_dir, pkg)
            done(name, out[name])
        feeder.join()
        if failed:
            raise failed[0]
        for name in names:
            if name not in out:
                out[name] = elsewhere[name].result()
        if runtime:
            runtime.result()
    finally:
        with lock:
            todo.clear()  # after an error here: nothing more goes to the second process
    return {name: out[name] for name in names}


def _locate(err: BuildError, src: bytes) -> BuildError:
    """Give a chart module's error the line (and field) it is about, when it lacks them."""
    if err.line and err.field:
        return err
    lines = src.decode("utf-8", "replace").splitlines()
    tree = ast.parse(src)
    line, field = err.line, err.field
    chart_fn = next(
        (n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "chart"), None
    )
    if field and not line:
        if field == "TABLES":
            line = next(
                (
                    n.lineno
                    for n in tree.body
                    if isinstance(n, ast.Assign)
                    and any(isinstance(t, ast.Name) and t.id == "TABLES" for t in n.targets)
                ),
                None,
            )
        elif field == "chart" and chart_fn is not None:
            returns = [n.lineno for n in ast.walk(chart_fn) if isinstance(n, ast.Return)]
            line = max(returns) if returns else chart_fn.lineno
        else:  # a data field: where the module names it first, as a whole name
            named = re.compile(rf"""["'(]{re.escape(field)}[:"')]""")
            line = next((i for i, text in enumerate(lines, 1) if named.search(text)), None)
    if not field and err.problem.startswith("chart()"):
        field = "chart"
    if line is None and chart_fn is not None and not err.problem.startswith("syntax"):
        line = chart_fn.lineno
    expected = err.expected
    if expected is None and err.problem.startswith("chart()"):
        expected = "chart(data) to return an Altair chart without raising"
    elif expected is None and err.problem.startswith("importing"):
        expected = "a module that imports without error"
    return BuildError(err.file, err.problem, line=line, field=field, expected=expected)


def _declared_tables(src: bytes, path: Path) -> tuple[str, ...]:
    """Read TABLES without importing the module, so a cache hit costs no import."""
    return tuple(fingerprint.memo("tables", src, lambda: list(_parse_tables(src, path))))


def _parse_tables(src: bytes, path: Path) -> tuple[str, ...]:
    try:
        tree = ast.parse(src)
    except SyntaxError as err:
        raise BuildError(
            _rel(path), f"syntax error: {err.msg}", line=err.lineno, expected="valid Python"
        ) from None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "TABLES" for t in node.targets
        ):
            try:
                return tuple(ast.literal_eval(node.value))
            except ValueError:
                break
    raise BuildError(
        _rel(path),
        "no literal TABLES declared",
        field="TABLES",
        expected="TABLES = ('table_name', ...)",
    )


def sync(staged: dict[str, bytes], out: Path, prune: bool = True, keep: set = frozenset()) -> int:
    """Write staged files under out, touching only those whose bytes differ; return the count.
    prune: remove the files that are not staged, except those in keep."""
    out.mkdir(parents=True, exist_ok=True)
    changed = 0
    for rel, data in sorted(staged.items()):
        changed += chart_png.write_file(out / rel, data)
    if prune:
        for path in sorted(out.rglob("*"), reverse=True):
            rel = path.relative_to(out).as_posix()
            if path.is_file() and rel not in staged and rel not in keep:
                path.unlink()
                changed += 1
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="show tracebacks")
    parser.add_argument("--stats", action="store_true", help="print what was done, as JSON")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    try:
        stats = build()
        if args.stats:
            print(json.dumps(stats, sort_keys=True))
    except BuildError as err:
        if args.verbose:
            raise
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
