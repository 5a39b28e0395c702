"""Markdown extension: one line embeds a chart, a short reference states a sourced figure.

    {{ chart nev_sales_caam }}        on a line of its own: the chart as a <figure>
    {{ fig caam_nev_sales_2024 }}     inside a sentence: "12.87 million vehicles" + source link

It reads only what scripts/build_charts.py wrote to docs/generated/, so it is plain
Python-Markdown and works outside MkDocs too. Unknown names and malformed lines raise BuildError
with the page and line.
"""

from __future__ import annotations

import json
import posixpath
import re
from html import escape
from pathlib import Path

from markdown import Extension
from markdown.preprocessors import Preprocessor

from scripts import render_cache
from scripts.build_error import BuildError

EMBED = re.compile(r"\{\{\s*(chart|fig)\s+([A-Za-z0-9_]+)\s*\}\}")
LOOKS_LIKE_EMBED = re.compile(r"\{\{.*?(\}\}|$)")
FENCE = re.compile(r"^\s*(```|~~~)")
LOW = "low confidence: a single secondary source, a rumour, or sources that disagree"


def _attr(text: object) -> str:
    return escape(str(text), quote=True)


# Big counts in the words readers use, applied only where no digit is lost.
SCALES = {
    "vehicles": (1_000_000, "million vehicles"),
    "yuan": (1_000_000, "million yuan"),
    "yuan_per_vehicle": (1_000_000, "million yuan per vehicle"),
    "million_yuan": (1_000, "billion yuan"),
}


def format_value(value: str, unit: str, units: dict) -> str:
    """Format a data value with its unit label, never rounding away a digit the source gave."""
    number = float(value)
    if unit in SCALES and abs(number) >= SCALES[unit][0]:
        factor, words = SCALES[unit]
        scaled = number / factor
        decimals = next((d for d in range(4) if round(scaled, d) == scaled), None)
        if decimals is not None:
            return f"{scaled:,.{decimals}f} {words}"
    text = f"{number:,.{_decimals(value)}f}"
    if units.get(unit, {}).get("symbol") == "%":
        return f"{text}%"
    return f"{text} {units.get(unit, {}).get('label', unit).split(' (')[0]}"


def _decimals(value: str) -> int:
    return len(value.split(".")[1]) if "." in value else 0


class ChartEmbedPreprocessor(Preprocessor):
    def __init__(self, md, generated: Path) -> None:
        super().__init__(md)
        self.generated = generated
        self._figures: dict | None = None

    # Where am I? MkDocs registers its link processor with the page file; elsewhere: unknown.
    def _page(self) -> tuple[str, str]:
        proc = self.md.treeprocessors["relpath"] if "relpath" in self.md.treeprocessors else None  # noqa: SIM401
        file = getattr(proc, "file", None)
        if file is None:
            return "page", ""
        return f"docs/{file.src_uri}", file.url

    def _prefix(self, page_url: str) -> str:
        base = posixpath.dirname(page_url.rstrip("/")) if not page_url.endswith("/") else page_url
        return posixpath.relpath("generated", base or ".") + "/" if base else "generated/"

    def figures(self) -> dict:
        if self._figures is None:
            path = self.generated / "figures.json"
            if not path.exists():
                raise BuildError(str(path), "not built", expected="python -m scripts.build_charts")
            self._figures = json.loads(path.read_text(encoding="utf-8"))
        return self._figures

    def run(self, lines: list[str]) -> list[str]:
        page, url = self._page()
        prefix = self._prefix(url)
        out, fenced = [], False
        for number, line in enumerate(lines, start=1):
            if FENCE.match(line):
                fenced = not fenced
            if fenced or "{{" not in line:
                out.append(line)
                continue
            out.append(self._line(line, number, page, prefix))
        return out

    def _line(self, line: str, number: int, page: str, prefix: str) -> str:
        parts = re.split(r"(`+[^`]*`+)", line)  # leave inline code alone: the guide shows syntax
        for i, part in enumerate(parts):
            if part.startswith("`"):
                continue
            parts[i] = self._part(part, line, number, page, prefix)
        return "".join(parts)

    def _part(self, text: str, line: str, number: int, page: str, prefix: str) -> str:
        def replace(m: re.Match) -> str:
            kind, name = m.group(1), m.group(2)
            if kind == "chart":
                if line.strip() != m.group(0):
                    raise BuildError(
                        page,
                        "a chart embed must stand on a line of its own",
                        line=number,
                        expected="{{ chart name }} alone on the line",
                    )
                return self.md.htmlStash.store(self._chart(name, number, page, prefix))
            return self.md.htmlStash.store(self._fig(name, number, page))

        result = EMBED.sub(replace, text)
        stray = LOOKS_LIKE_EMBED.search(result)
        if stray:
            raise BuildError(
                page,
                f"malformed embed '{stray.group(0)}'",
                line=number,
                expected="{{ chart name }} or {{ fig id }}",
            )
        return result

    def _chart(self, name: str, number: int, page: str, prefix: str) -> str:
        folder = self.generated / "charts" / name
        if not (folder / "figure.json").exists():
            known = json.loads((self.generated / "charts.json").read_text(encoding="utf-8"))
            raise BuildError(
                page,
                f"unknown chart '{name}'",
                line=number,
                expected="one of: " + ", ".join(sorted(known)),
            )
        sources = self.figures()["sources"]
        render_cache.note(self.generated / "figures.json", sources, "sources")
        return figure_html(folder, sources, f"{prefix}charts/{name}/", self._page_url())

    def _page_url(self) -> str | None:
        """The page's absolute address, when MkDocs knows the site's URL."""
        proc = self.md.treeprocessors["relpath"] if "relpath" in self.md.treeprocessors else None  # noqa: SIM401
        site = getattr(getattr(proc, "config", None), "site_url", None)
        file = getattr(proc, "file", None)
        if not site or file is None:
            return None
        return site.rstrip("/") + "/" + file.url.lstrip("/")

    def _fig(self, ident: str, number: int, page: str) -> str:
        data = self.figures()
        row = data["figures"].get(ident)
        if row is None:
            close = sorted(k for k in data["figures"] if k.split("_")[0] == ident.split("_")[0])
            hint = ("similar ids: " + ", ".join(close[:8])) if close else "an id from a data/ table"
            raise BuildError(page, f"unknown figure '{ident}'", line=number, expected=hint)
        path = self.generated / "figures.json"
        render_cache.note(path, row, "figures", ident)
        render_cache.note(path, data["sources"].get(row["source_id"]), "sources", row["source_id"])
        render_cache.note(path, data["units"], "units")
        return fig_html(ident, row, data["sources"], data["units"])


def _source_link(source: dict) -> str:
    """A compact citation: publisher and date visible, the article's title on hover and in print."""
    when = f" ({source['published']})" if source.get("published") else ""
    return (
        f'<a href="{_attr(source["url"])}" title="{_attr(source["title"])}" '
        f'rel="noopener noreferrer">{escape(source["publisher"])}{escape(when)}</a>'
    )


def fig_html(ident: str, row: dict, sources: dict, units: dict) -> str:
    """Return the inline HTML for one sourced figure."""
    source = sources[row["source_id"]]
    value = escape(format_value(row["value"], row["unit"], units))
    low = row.get("confidence") == "low"
    tip = f"{row['metric']}, {row['entity']}, {row['period']}. Source: {source['publisher']}"
    mark = '<span class="fig__low" title="' + _attr(LOW) + '">low confidence</span>' if low else ""
    if row.get("formula"):
        # Ours, not a source's: say so where the number stands, with the formula.
        mark += (
            f'<span class="fig__ours" title="{_attr(row["formula"])}">'
            f"our calculation: {escape(row['formula'])}</span>"
        )
    return (
        f'<span class="fig{" fig--low" if low else ""}" data-fig="{_attr(ident)}">'
        f'<span class="fig__value">{value}</span>{mark}'
        f'<a class="fig__src" href="{_attr(source["url"])}" title="{_attr(tip)}" '
        f'rel="noopener noreferrer" aria-label="{_attr("Source: " + source["publisher"])}">'
        f"[source]</a></span>"
    )


KEYS = "Arrow keys: step through the values. Home, End: first, last. Enter: the data table."


def _read(path: Path) -> str:
    data = path.read_bytes()
    render_cache.note(path, data)
    return data.decode("utf-8")


def figure_html(folder: Path, sources: dict, base: str, page_url: str | None = None) -> str:
    """Return the <figure> for one built chart; base is the URL of its files from the page,
    page_url the page's absolute address (for the citation) when the site's URL is known."""
    meta = json.loads(_read(folder / "figure.json"))
    name, title = meta["name"], meta["title"]
    anchor = f"chart-{name}"
    layouts = [v for v in ("wide", "narrow") if v in meta.get("variants", {"wide": {}})]
    statics = "".join(
        f'<div class="chart__static chart__static--{v}" aria-hidden="true" data-search-exclude>'
        + _read(folder / ("inline.svg" if v == "wide" else f"inline-{v}.svg"))
        + "</div>"
        for v in layouts
    )
    cited = "; ".join(_source_link(sources[s]) for s in meta["sources"])
    label = "Source" if len(meta["sources"]) == 1 else "Sources"
    n_low = meta.get("low_confidence") or 0
    low = (
        f' <span class="chart__low">{n_low} plotted value{"s rest" if n_low > 1 else " rests"} '
        f"on a low-confidence source and {'are' if n_low > 1 else 'is'} drawn faded.</span>"
        if n_low
        else ""
    )
    titles = dict(meta["columns"])
    index = {c: i for i, (c, _) in enumerate(meta["columns"])}
    columns = [c for c in titles if c != "source_id"]
    head = "".join(f'<th scope="col">{escape(titles[c])}</th>' for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(_cell(row[index[c]]))}</td>" for c in columns) + "</tr>"
        for row in meta["rows"]
    )
    cite = _citation(meta, sources, page_url, anchor)
    png = f' data-png="{meta["png"][0]}x{meta["png"][1]}"' if meta.get("png") else ""
    return (
        f'<figure class="chart" id="{anchor}" data-chart="{_attr(name)}" data-base="{_attr(base)}"'
        f"{png}>"
        f'<figcaption class="chart__caption"><a class="chart__permalink" href="#{anchor}" '
        f'aria-label="Permalink to this chart">#</a> {escape(title)}</figcaption>'
        f'<div class="chart__frame{" chart__frame--narrow" if "narrow" in layouts else ""}" '
        f'tabindex="0" role="img" aria-label="{_attr(title)}" '
        f'aria-describedby="{anchor}-desc {anchor}-keys">{statics}'
        f'<p class="chart__keys" id="{anchor}-keys" data-search-exclude>{escape(KEYS)}</p></div>'
        f"{_controls_html(meta.get('controls', []), anchor)}"
        f'<p class="chart__status" id="{anchor}-status" aria-live="polite" data-search-exclude></p>'
        f'<p class="chart__desc" id="{anchor}-desc">{escape(meta["description"])}</p>'
        f'<p class="chart__sources"><strong>{label}:</strong> {cited}.{low}</p>'
        f'<details class="chart__data" id="{anchor}-data"><summary>Data table</summary>'
        f'<div class="chart__table"><table><caption>{escape(title)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div></details>"
        f'<p class="chart__downloads" data-search-exclude>'
        f'<a href="{_attr(base)}data.csv" download="{_attr(name)}.csv">Download CSV</a>'
        f'<a href="{_attr(base)}chart.png" download="{_attr(name)}.png">Download PNG</a>'
        f'<a href="{_attr(base)}chart.svg" download="{_attr(name)}.svg">Download SVG</a>'
        f'<a href="{_attr(base)}spec.vl.json">Vega-Lite spec</a></p>'
        f'<details class="chart__cite" data-search-exclude><summary>Cite this chart</summary>'
        f"{cite}</details>"
        "</figure>"
    )


def _citation(meta: dict, sources: dict, page_url: str | None, anchor: str) -> str:
    """'Title. Data: CAAM (2025); ... Chart: site (CC BY 4.0), address.' The sources line above
    links every source; the citation names them short, so a page of charts stays light."""
    years: dict[str, set[str]] = {}
    for sid in meta["sources"]:
        s = sources[sid]
        years.setdefault(s["publisher"], set()).update(
            [s["published"][:4]] if s.get("published") else []
        )
    data = "; ".join(f"{p} ({', '.join(sorted(y))})" if y else p for p, y in sorted(years.items()))
    where = f"{page_url}#{anchor}" if page_url else f"#{anchor}"
    text = (
        f"{meta['title']}. Data: {data}. Chart: Renting a premium brand, a Seres\u2013Huawei EV "
        f"explainer (CC BY 4.0), {where}."
    )
    return f'<p class="chart__cite-text">{escape(text)}</p>'


def _controls_html(controls: list[dict], anchor: str) -> str:
    """The chart's what-if inputs as plain, labelled form controls below the image. They start
    disabled (nothing to drive without JavaScript); charts.js enables them."""
    if not controls:
        return ""
    rows = []
    for c in controls:
        ident = f"{anchor}-in-{re.sub(r'[^A-Za-z0-9_-]', '_', str(c['signal']))}"
        signal, label, value = _attr(c["signal"]), escape(c["label"]), c.get("value")
        common = f'id="{ident}" name="{_attr(c["signal"])}" data-signal="{signal}" disabled'
        if c["input"] == "range":
            limits = "".join(f' {k}="{_attr(c[k])}"' for k in ("min", "max", "step") if k in c)
            rows.append(
                f'<div class="chart__control"><label for="{ident}">{label}</label>'
                f'<input type="range" {common}{limits} value="{_attr(value)}">'
                f'<output for="{ident}" id="{ident}-value">{escape(_number(value))}</output></div>'
            )
        elif c["input"] == "checkbox":
            checked = " checked" if value else ""
            rows.append(
                f'<div class="chart__control"><input type="checkbox" {common}{checked}>'
                f'<label for="{ident}">{label}</label></div>'
            )
        else:  # select and radio: a select either way, one control per signal
            labels = c.get("labels") or c.get("options", [])
            options = "".join(
                f'<option value="{_attr(o)}"{" selected" if o == value else ""}>{escape(str(t))}'
                "</option>"
                for o, t in zip(c.get("options", []), labels, strict=False)
            )
            rows.append(
                f'<div class="chart__control"><label for="{ident}">{label}</label>'
                f"<select {common}>{options}</select></div>"
            )
    return (
        f'<div class="chart__controls" role="group" aria-label="What if: change the inputs" '
        f"data-search-exclude>"
        f"{''.join(rows)}</div>"
    )


def _number(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "" if value is None else str(value)
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,}"


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.6g}" if abs(value) < 1e6 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value}" if 1900 <= value <= 2100 else f"{value:,}"
    return "" if value is None else str(value)


class ChartEmbedExtension(Extension):
    def __init__(self, **kwargs) -> None:
        self.config = {"generated": ["docs/generated", "folder written by build_charts"]}
        super().__init__(**kwargs)

    def extendMarkdown(self, md) -> None:  # noqa: N802 (Python-Markdown's name)
        generated = Path(self.getConfig("generated"))
        # Before fenced code (priority 25) would hide lines, after normalisation.
        md.preprocessors.register(ChartEmbedPreprocessor(md, generated), "chart_embed", 29)


def makeExtension(**kwargs) -> ChartEmbedExtension:  # noqa: N802
    return ChartEmbedExtension(**kwargs)
