"""Build step: data/ + charts/ -> docs/generated/ (chart specs, static SVG/PNG, CSV, figures).

For every chart module it writes, under docs/generated/charts/<name>/:
  spec.vl.json            the Vega-Lite spec (light theme), for anyone who wants to remix it
  light.vg.json/dark.vg.json  the spec compiled to Vega, so browsers never need Vega-Lite
  light.svg/dark.svg      the static image in each theme (what readers see first, JS or not)
  chart.png               the light image as PNG (download, social cards)
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
import copy
import importlib.util
import io
import json
import logging
import shutil
import sys
import tempfile
import time
from pathlib import Path

from scripts import build_notebooks, derived_figures, fingerprint
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
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, indent=1, allow_nan=False) + "\n"


def chart_names(charts_dir: Path) -> list[str]:
    """Return the chart module names (files in charts/ not starting with '_')."""
    return sorted(p.stem for p in charts_dir.glob("*.py") if not p.stem.startswith("_"))


def _fresh_import(charts_dir: Path, name: str):
    """Import charts/<name>.py anew, with fresh helpers, so edits show under `mkdocs serve`."""
    for key in [k for k in sys.modules if k == "charts" or k.startswith("charts.")]:
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
    return fingerprint.versions("altair", "vl-convert-python", "pandas", "numpy")


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
        "figures",
        "vega_runtime",
        "build",
        "_build_chart",
        "_locate",
        "_declared_tables",
        "sync",
        "main",
    }
)


def input_key(
    name: str, module_src: bytes, tables: tuple[str, ...], pkg: DataPackage, root: Path = ROOT
) -> str:
    """Hash exactly what a chart's output depends on.

    That is: the chart's name; its module and the project modules it imports (by syntax tree, so
    a comment edit recomputes nothing); charts/_theme.py; this module's rendering code (not the
    orchestration above); the tables it declares, as parsed rows and field types; the set of
    source ids (outputs name sources by id and fail on unknown ones; titles and URLs are read by
    the page, not baked into chart files); and the library versions. Not: other tables,
    sources.csv's other columns, units (charts never see them), or this module's orchestration.
    """
    charts_dir = root / "charts"
    module_path = charts_dir / f"{name}.py"
    try:
        imported = fingerprint.local_imports(ast.parse(module_src), root, module_path)
    except SyntaxError:
        imported = set()  # _declared_tables reports it, with the line
    theme = (charts_dir / "_theme.py").resolve()
    parts = [name, fingerprint.code_digest(module_src)]
    for path in sorted(imported | {theme}):
        if path != module_path.resolve():
            parts += [path.name, fingerprint.code_digest(path.read_bytes())]
    parts.append(fingerprint.code_digest(Path(__file__).read_bytes(), drop=ORCHESTRATION))
    parts += [t + fingerprint.table_digest(pkg, t) for t in sorted(tables)]
    parts.append(json.dumps(sorted(pkg.sources)))
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


def render_chart(name: str, module, pkg: DataPackage, module_path: Path) -> dict[str, bytes]:
    """Build one chart's output files (name -> bytes); raise BuildError on any problem."""
    import altair as alt
    import pandas as pd
    import vl_convert as vlc

    from charts import _theme

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
    try:
        chart = module.chart(frames(pkg, tables, module_path))
    except BuildError:
        raise
    except Exception as err:
        raise BuildError(
            _rel(module_path), f"chart() raised {err!r}", line=_tb_line(err, module_path)
        ) from err
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
        base = chart.to_dict(validate=True)
    except Exception as err:
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
    files: dict[str, bytes] = {}
    for theme in THEMES:
        spec = copy.deepcopy(base)
        spec["config"] = _theme.config(theme)
        if not COMPOSED & spec.keys():  # concatenated charts size each panel themselves
            spec.setdefault("width", STATIC_WIDTH)
        spec["$schema"] = alt.SCHEMA_URL
        try:
            svg = vlc.vegalite_to_svg(spec)
        except Exception as err:
            raise BuildError(_rel(module_path), f"rendering failed: {err}".split("\n")[0]) from None
        files[f"{theme}.svg"] = svg.encode()
        if theme == "light":
            files["spec.vl.json"] = dumps(spec).encode()
            files["chart.png"] = vlc.vegalite_to_png(spec, scale=2, ppi=144)
        live = copy.deepcopy(spec)
        if live.get("width") == STATIC_WIDTH:
            live["width"] = "container"
        live["autosize"] = {"type": "fit-x", "contains": "padding"}
        files[f"{theme}.vg.json"] = dumps(vlc.vegalite_to_vega(live)).encode()

    table = plotted.drop(columns=[c for c in plotted.columns if c.startswith("_")])
    buf = io.StringIO()
    table.to_csv(buf, index=False, lineterminator="\n")
    files["data.csv"] = buf.getvalue().encode()
    width, height = _svg_size(files["light.svg"])
    meta = {
        "name": name,
        "title": title.strip(),
        "description": description,
        "tables": list(tables),
        "sources": sorted(set(plotted["source_id"])),
        "columns": _column_titles(base, list(table.columns)),
        "rows": json.loads(table.to_json(orient="values")),
        "width": width,
        "height": height,
        "low_confidence": int((plotted.get("confidence") == "low").sum())
        if "confidence" in plotted
        else 0,
    }
    files["figure.json"] = dumps(meta).encode()
    return files


def _no_nan(node: object) -> object:
    """Replace NaN (a gap in the data) with null: NaN is not JSON, and a gap stays a gap."""
    if isinstance(node, float) and node != node:
        return None
    if isinstance(node, dict):
        return {k: _no_nan(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_no_nan(v) for v in node]
    return node


def _svg_size(svg: bytes) -> tuple[float, float]:
    import re

    head = svg[:400].decode()
    w = re.search(r'width="([\d.]+)"', head)
    h = re.search(r'height="([\d.]+)"', head)
    return (float(w.group(1)), float(h.group(1))) if w and h else (STATIC_WIDTH, 300.0)


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


def vega_runtime(cache: Path) -> bytes:
    """Return the self-hosted Vega runtime (from vl-convert, so no Node and no CDN)."""
    import vl_convert as vlc

    path = cache / f"vega-{_versions().replace(' ', '_')}.js"
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
) -> dict:
    """Validate data, build every chart and notebook into docs/generated; return counts.

    background: under `mkdocs serve`, notebooks run in threads (scripts/build_notebooks.py).
    """
    started = time.perf_counter()
    out = out or root / "docs" / "generated"
    cache = root / ".cache" / "charts"
    pkg = load_package(root / "data", cache=root / ".cache" / "validated")
    charts_dir = root / "charts"
    names = only or chart_names(charts_dir)
    staged: dict[str, bytes] = {}
    rendered: list[str] = []
    for name in names:
        files, fresh = _build_chart(name, charts_dir, cache, pkg, root)
        if fresh:
            rendered.append(name)
        for fname, data in files.items():
            staged[f"charts/{name}/{fname}"] = data
    staged["figures.json"] = dumps(figures(pkg)).encode()
    staged["charts.json"] = dumps(
        {n: json.loads(staged[f"charts/{n}/figure.json"])["title"] for n in names}
    ).encode()
    for res in pkg.descriptor["resources"]:
        staged[f"data/{res['path']}"] = pkg.path(res["name"]).read_bytes()
    staged["data/datapackage.json"] = (root / "data" / "datapackage.json").read_bytes()
    staged["vega.js"] = vega_runtime(root / ".cache")
    changed, notebooks, ran = 0, {}, []
    if only is None:
        changed = sync(staged, out, prune=False)  # first: a notebook may read what charts wrote
        notebooks, ran = build_notebooks.build(root, background)
    staged.update(notebooks)
    changed += sync(staged, out, prune=only is None)
    seconds = time.perf_counter() - started
    stats = {
        "validated": pkg.validated,
        "built": len(rendered),
        "reused": len(names) - len(rendered),
        "charts_built": rendered,
        "notebooks_run": ran,
        "notebooks_reused": len(notebooks) - len(ran),
        "changed": changed,
        "seconds": round(seconds, 3),
    }
    log(
        f"build_charts: data {'validated' if pkg.validated else 'unchanged'}; charts: "
        f"{stats['built']} built, {stats['reused']} from cache; notebooks: {len(ran)} run, "
        f"{stats['notebooks_reused']} from cache; {changed} files written in {seconds:.2f}s"
    )
    return stats


def _build_chart(
    name: str, charts_dir: Path, cache: Path, pkg: DataPackage, root: Path
) -> tuple[dict[str, bytes], bool]:
    """Return one chart's files, from the cache when its inputs are unchanged; and if rendered."""
    module_path = charts_dir / f"{name}.py"
    src = module_path.read_bytes()
    tables = _declared_tables(src, module_path)
    key = input_key(name, src, tables, pkg, root)
    hit = cache / name / key
    if hit.is_dir():
        hit.touch()  # recently used: kept longest
        return {p.name: p.read_bytes() for p in hit.iterdir()}, False
    try:
        module = _fresh_import(charts_dir, name)
        files = render_chart(name, module, pkg, module_path)
    except BuildError as err:
        raise _locate(err, src) from None
    hit.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=hit.parent))
    for fname, data in files.items():
        (tmp / fname).write_bytes(data)
    tmp.replace(hit)
    entries = sorted(
        (p for p in hit.parent.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime
    )
    for stale in entries[:-KEEP]:
        shutil.rmtree(stale, ignore_errors=True)
    return files, True


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
        else:  # a data field: where the module names it first
            line = next(
                (
                    i
                    for i, text in enumerate(lines, 1)
                    if f"'{field}" in text or f'"{field}' in text
                ),
                None,
            )
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
    import ast

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


def sync(staged: dict[str, bytes], out: Path, prune: bool = True) -> int:
    """Write staged files under out, touching only those whose bytes differ; return the count."""
    out.mkdir(parents=True, exist_ok=True)
    changed = 0
    for rel, data in sorted(staged.items()):
        target = out / rel
        if target.exists() and target.read_bytes() == data:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_bytes(data)
        tmp.replace(target)
        changed += 1
    if prune:
        for path in sorted(out.rglob("*"), reverse=True):
            rel = path.relative_to(out).as_posix()
            if path.is_file() and rel not in staged:
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
