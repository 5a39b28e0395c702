"""Benchmark (`make bench`): build times, page weight, time to first chart, Lighthouse.

Prints, as medians of several runs, in one table per topic:
  build     clean build of the whole site; rebuild after editing one CSV; 100 extra generated
            charts' added build time (each in a scratch copy of the project, never this tree)
  weight    per page, the bytes transferred before any interaction (raw and gzip): HTML, CSS, JS,
            SVG, fonts, images; the search index Material's worker fetches is reported apart
  timing    per chart page, navigation to first contentful paint and to the first chart drawn,
            for the page as built and for a BASELINE copy of it that draws the same Vega-Lite
            spec the common way (vega-embed compiling Vega-Lite in the browser, from the same
            self-hosted bundle), in the same run, with the ratio; under a phone-like profile
            (4x CPU slowdown, 150 ms round trip, 1.6 Mbit/s)
  lighthouse  Lighthouse 12 (mobile) on every page: median of 3 runs per category
  serve     the live preview: under `mkdocs serve`, seconds from saving a page, a CSV or a chart
            module to the open browser showing it, and builds per edit (scripts/serve_latency)

The site is served by a small static server written here that compresses (gzip) and sends
cache headers, as any real host would, so Lighthouse's compression and caching audits count.
Nothing here is a test and nothing here is timed in the test suite.

Run: python -m scripts.bench [--runs N] [--lighthouse-runs N] [--skip build,lighthouse,serve]
"""

from __future__ import annotations

import argparse
import gzip
import http.server
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

from scripts.chromium import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parent.parent
COMPRESSIBLE = {".html", ".css", ".js", ".json", ".svg", ".csv", ".xml", ".txt", ".map", ".mjs"}
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".csv": "text/csv; charset=utf-8",
    ".xml": "application/xml",
    ".txt": "text/plain; charset=utf-8",
    ".woff2": "font/woff2",
    ".ico": "image/x-icon",
    ".map": "application/json",
    ".gz": "application/gzip",
    ".ipynb": "application/json",
}
# A phone on a mobile network, as Lighthouse's mobile profile assumes.
PHONE = {"cpu": 4, "latency_ms": 150, "down_kbps": 1638.4, "up_kbps": 750}
SEARCH_INDEX = "search/search_index.json"


# --- A static server that compresses -------------------------------------------------------
class Site:
    """Serve a built site on 127.0.0.1 with gzip and cache headers; count bytes per request."""

    def __init__(self, folder: Path, port: int = 0) -> None:
        self.folder = folder.resolve()
        self.sent: list[tuple[str, int, int]] = []  # (path, raw bytes, bytes on the wire)
        self._gz: dict[Path, bytes] = {}
        self._lock = threading.Lock()
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                site.handle(self, head=False)

            def do_HEAD(self) -> None:  # noqa: N802
                site.handle(self, head=True)

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address) -> None:
                # A browser that drops a kept-alive connection (Lighthouse closing its tab) is
                # not a failure of the measurement: only other errors are printed.
                if not isinstance(sys.exc_info()[1], ConnectionError):
                    super().handle_error(request, client_address)

        self.httpd = Server(("127.0.0.1", port), Handler)
        self.port = self.httpd.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> Site:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _file(self, url_path: str) -> Path | None:
        rel = unquote(urlparse(url_path).path).lstrip("/")
        path = (self.folder / rel).resolve()
        if not str(path).startswith(str(self.folder)):
            return None
        if path.is_dir():
            path = path / "index.html"
        return path if path.is_file() else None

    def handle(self, req, head: bool) -> None:
        path = self._file(req.path)
        status = 200
        if path is None:
            status, path = 404, self.folder / "404.html"
            if not path.is_file():
                req.send_error(404)
                return
        raw = path.read_bytes()
        body = raw
        gz = "gzip" in req.headers.get("Accept-Encoding", "") and path.suffix in COMPRESSIBLE
        if gz:
            with self._lock:
                if path not in self._gz:
                    self._gz[path] = gzip.compress(raw, compresslevel=9, mtime=0)
                body = self._gz[path]
        req.send_response(status)
        req.send_header("Content-Type", TYPES.get(path.suffix, "application/octet-stream"))
        req.send_header("Content-Length", str(len(body)))
        if gz:
            req.send_header("Content-Encoding", "gzip")
        req.send_header("Vary", "Accept-Encoding")
        hashed = re.search(r"\.[0-9a-f]{8}\.min\.", path.name)
        cache = "public, max-age=31536000, immutable" if hashed else "public, max-age=86400"
        req.send_header("Cache-Control", "no-cache" if path.suffix == ".html" else cache)
        req.end_headers()
        if not head:
            req.wfile.write(body)
        rel = path.relative_to(self.folder).as_posix()
        with self._lock:
            self.sent.append((rel, len(raw), len(body)))

    def take(self) -> list[tuple[str, int, int]]:
        with self._lock:
            out, self.sent = self.sent, []
        return out


# --- Helpers --------------------------------------------------------------------------------
def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def kb(n: float) -> str:
    return f"{n / 1024:.1f}"


def table(title: str, head: list[str], rows: list[list[str]], note: str = "") -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(head, *rows, strict=True)]
    line = "  ".join("-" * w for w in widths)

    def fmt(row: list[str]) -> str:
        return "  ".join(
            str(c).ljust(w) if i == 0 else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )

    out = [f"\n{title}", line, fmt(head), line, *map(fmt, rows), line]
    if note:
        out.append(note)
    return "\n".join(out)


def copy_project(dest: Path, keep_cache: bool = False) -> Path:
    ignore = [
        ".git",
        ".venv",
        "site",
        ".build",
        "node_modules",
        ".pytest_cache",
        ".ruff_cache",
        "__pycache__",
        "generated",
    ]
    if not keep_cache:
        ignore.append(".cache")
    shutil.copytree(ROOT, dest, ignore=shutil.ignore_patterns(*ignore))
    return dest


def build(root: Path, out: Path | None = None, env: dict | None = None) -> float:
    """Run the site build (`make build`) in root; return its wall time in seconds."""
    cmd = [sys.executable, "-m", "scripts.build_site"]
    if out is not None:
        cmd += ["-d", str(out)]
    full_env = {**os.environ, "PYTHONPATH": str(root), "NO_MKDOCS_2_WARNING": "1", **(env or {})}
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=root, env=full_env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"build failed in {root}:\n{proc.stderr[-3000:]}")
    return seconds


def clean(root: Path) -> None:
    for rel in (".cache", ".build", "site", "docs/generated"):
        shutil.rmtree(root / rel, ignore_errors=True)


# --- Build timings --------------------------------------------------------------------------
EXTRA_CHART = '''"""Bench chart {i:03d}: CAAM NEV sales, variant {i}

A generated copy of a simple bar chart, only for measuring the build.
"""

import altair as alt
import pandas as pd

TABLES = ("nev_market_annual",)


def chart(data: dict[str, pd.DataFrame]) -> alt.Chart:
    rows = data["nev_market_annual"]
    rows = rows[(rows["metric"] == "NEV sales") & rows["entity"].str.contains("CAAM")]
    plotted = pd.DataFrame(
        {{
            "year": rows["period"].astype(int),
            "sales": rows["value"] / 1e6 * {scale},
            "confidence": rows["confidence"],
            "source_id": rows["source_id"],
        }}
    )
    return (
        alt.Chart(plotted)
        .mark_bar()
        .encode(
            x=alt.X("year:O", title=None),
            y=alt.Y("sales:Q", title="Million vehicles (variant {i})"),
            tooltip=["year:O", alt.Tooltip("sales:Q", format=".2f")],
        )
        .properties(height=240)
    )
'''


def _csv_to_edit(root: Path) -> Path:
    """The CSV the first chart reads: editing it must rebuild at least one chart."""
    names = sorted(p for p in (root / "charts").glob("*.py") if not p.stem.startswith("_"))
    for module in names:
        tables = re.search(r"TABLES\s*=\s*\(([^)]*)\)", module.read_text())
        if tables:
            first = re.findall(r"[\"']([\w-]+)[\"']", tables.group(1))
            if first and (root / "data" / f"{first[0]}.csv").exists():
                return root / "data" / f"{first[0]}.csv"
    return sorted((root / "data").glob("*.csv"))[0]


def _touch_csv(path: Path, n: int) -> None:
    """Change one note of the last row (a harmless, valid edit) so the data's hash changes."""
    text = path.read_text(encoding="utf-8")
    lines = text.rstrip("\n").split("\n")
    lines[-1] = re.sub(r" \(bench \d+\)", "", lines[-1])
    head = lines[0].split(",")
    if "note" in head:
        cells = _split_csv(lines[-1])
        i = head.index("note")
        cells[i] = (cells[i].strip('"') + f" (bench {n})").strip()
        lines[-1] = ",".join(f'"{c}"' if ("," in c or '"' in c) else c for c in cells)
    else:
        lines.append("")  # a trailing blank line: still a change of bytes
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _split_csv(line: str) -> list[str]:
    import csv
    import io

    return next(csv.reader(io.StringIO(line)))


REFERENCE_CHART = "nev_sales_caam"
DRAW_REFERENCE = """
import json, statistics, sys, time
from pathlib import Path
from scripts import chart_fonts
vlc = chart_fonts.vl_convert()
spec = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
vlc.vega_to_svg(spec)
times = []
for _ in range(21):
    started = time.perf_counter()
    vlc.vega_to_svg(spec)
    times.append(time.perf_counter() - started)
print(statistics.median(times) * 1000)
"""


def reference_draw_ms(project: Path) -> float:
    """Milliseconds to draw one built chart's SVG (median of 21): the machine's speed at the
    build's main cost. Machines of one kind differ (a clean build took 5.0 s on one, 7.7 s on
    another); the table's figures compare across runs as multiples of this."""
    vega = project / "docs" / "generated" / "charts" / REFERENCE_CHART / "light.vg.json"
    out = subprocess.run(
        [sys.executable, "-c", DRAW_REFERENCE, str(vega)],
        cwd=project,
        env={**os.environ, "PYTHONPATH": str(project)},
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout)


def bench_build(runs: int, work: Path, env: dict) -> tuple[str, dict]:
    log("build: clean builds ...")
    project = copy_project(work / "project")
    clean_times = []
    for _ in range(runs):
        clean(project)
        clean_times.append(build(project, env=env))
    log("build: rebuilds with nothing changed ...")
    noop_times = [build(project, env=env) for _ in range(runs)]
    log("build: rebuilds after one CSV edit ...")
    csv_path = _csv_to_edit(project)
    rebuild_times, step_times = [], []
    for n in range(runs):
        _touch_csv(csv_path, n)
        rebuild_times.append(build(project, env=env))
        _touch_csv(csv_path, n + 100)
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "scripts.build_charts"],
            cwd=project,
            env={**os.environ, "PYTHONPATH": str(project)},
            capture_output=True,
            check=True,
        )
        step_times.append(time.perf_counter() - started)
    reference = reference_draw_ms(project)
    log("build: 100 extra charts ...")
    extra = copy_project(work / "extra")
    page = ["# Bench charts", ""]
    for i in range(100):
        (extra / "charts" / f"bench_{i:03d}.py").write_text(
            EXTRA_CHART.format(i=i, scale=1 + i / 100), encoding="utf-8"
        )
        page += [f"{{{{ chart bench_{i:03d} }}}}", ""]
    (extra / "docs" / "bench-extra.md").write_text("\n".join(page), encoding="utf-8")
    config = extra / "mkdocs.yml"  # strict builds refuse a page missing from the nav
    config.write_text(
        config.read_text(encoding="utf-8") + "  - Bench charts: bench-extra.md\n", encoding="utf-8"
    )
    extra_times = []
    for _ in range(max(1, runs - 1)):
        clean(extra)
        extra_times.append(build(extra, env=env))
    base = median(clean_times)
    rows = [
        ["clean build, whole site", f"{base:.1f}", "10", " ".join(f"{t:.1f}" for t in clean_times)],
        [
            "rebuild, nothing changed",
            f"{median(noop_times):.1f}",
            "",
            " ".join(f"{t:.1f}" for t in noop_times),
        ],
        [
            f"rebuild after editing {csv_path.name}",
            f"{median(rebuild_times):.1f}",
            "2",
            " ".join(f"{t:.1f}" for t in rebuild_times),
        ],
        [
            "  of which the chart step alone",
            f"{median(step_times):.1f}",
            "",
            " ".join(f"{t:.1f}" for t in step_times),
        ],
        [
            "100 extra charts: added build time",
            f"{median(extra_times) - base:.1f}",
            "6",
            " ".join(f"{t - base:.1f}" for t in extra_times),
        ],
        [f"reference: one chart's SVG drawn ({REFERENCE_CHART}), ms", f"{reference:.1f}", "", ""],
    ]
    text = table(
        f"Build (seconds, median of {runs}; {os.cpu_count()} cores)",
        ["measure", "median", "target", "runs"],
        rows,
    )
    return text, {
        "clean": clean_times,
        "noop": noop_times,
        "rebuild": rebuild_times,
        "chart_step": step_times,
        "extra_100": extra_times,
        "reference_draw_ms": reference,
    }


# --- Page weight and time to first chart ----------------------------------------------------
ONLY: list[str] = []


def site_pages(site: Path, base: str) -> list[str]:
    """Every page in the built sitemap, as paths under the site root (or those of --only)."""
    import xml.etree.ElementTree as ET

    locs = [el.text for el in ET.parse(site / "sitemap.xml").iter() if el.tag.endswith("loc")]
    pages = [urlparse(loc).path.lstrip("/") for loc in locs]
    return [p for p in pages if p in ONLY] if ONLY else pages


def _chart_pages(site: Path, pages: list[str]) -> list[str]:
    return [p for p in pages if '<figure class="chart"' in (site / p / "index.html").read_text()]


# The common way to put a Vega-Lite chart on a page: an empty box, the Vega bundle with
# Vega-Lite in it, and vegaEmbed compiling the spec in the reader's browser.
BASELINE_SCRIPT = """
<script src="{runtime}"></script>
<script>
for (const box of document.querySelectorAll(".baseline-chart")) {{
  fetch(box.dataset.spec).then(r => r.json()).then(spec =>
    vegaEmbed(box, spec, {{renderer: "svg", actions: false}}));
}}
</script>
"""


FRAME = re.compile(
    r'(<figure class="chart"[^>]*?data-base="([^"]+)"[^>]*>.*?)'
    r'<div class="chart__frame[^"]*"([^>]*)>.*?(<p class="chart__keys")',
    re.S,
)


def write_baselines(site: Path, pages: list[str]) -> dict[str, str]:
    """For every chart page, a copy (baseline.html beside it) whose charts are drawn by
    vega-embed + Vega-Lite in the browser instead of our inline SVG; all else is the same."""
    out = {}
    for page in pages:
        html = (site / page / "index.html").read_text(encoding="utf-8")
        html = FRAME.sub(
            r'\1<div class="chart__frame"\3><div class="baseline-chart" '
            r'data-spec="\2spec.vl.json"></div>\4',
            html,
        )
        # The common way runs the Vega-Lite compiler and Vega's expression code generator in the
        # page, which need 'unsafe-eval': the baseline goes without our CSP.
        html = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html)
        runtime = "../" * page.count("/") + "generated/vega.js"
        html = html.replace("</body>", BASELINE_SCRIPT.format(runtime=runtime) + "</body>")
        (site / page / "baseline.html").write_text(html, encoding="utf-8")
        out[page] = page + "baseline.html"
    return out


# Recorded in the page from its first line: when a chart's SVG is first in the document with a
# size, checked every animation frame (the paint follows that frame).
PROBE = """
(() => {
  window.__bench = {chart: null};
  const look = (t) => {
    const svgs = document.querySelectorAll(
      "figure.chart .chart__static svg, figure.chart .baseline-chart svg");
    for (const svg of svgs) {
      const r = svg.getBoundingClientRect();
      const shown = r.width > 0 && r.height > 0 && getComputedStyle(svg).visibility !== "hidden";
      if (shown) { window.__bench.chart = performance.now(); return; }
    }
    requestAnimationFrame(look);
  };
  requestAnimationFrame(look);
})();
"""


def _phone(page, context) -> None:
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": PHONE["latency_ms"],
            "downloadThroughput": PHONE["down_kbps"] * 1024 / 8,
            "uploadThroughput": PHONE["up_kbps"] * 1024 / 8,
        },
    )
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": PHONE["cpu"]})


def measure_load(browser, url: str, phone: bool) -> dict:
    """Load url in a fresh context (empty cache); return FCP and first chart times in ms."""
    # The probe polls by evaluating a string, which our CSP (rightly) forbids the page itself.
    context = browser.new_context(
        viewport={"width": 412, "height": 823}, device_scale_factor=1, bypass_csp=True
    )
    page = context.new_page()
    if phone:
        _phone(page, context)
    page.add_init_script(PROBE)
    page.goto(url, wait_until="load")
    page.wait_for_function("window.__bench && window.__bench.chart !== null", timeout=60000)
    page.wait_for_function(
        "performance.getEntriesByName('first-contentful-paint').length > 0", timeout=60000
    )
    fcp = page.evaluate("performance.getEntriesByName('first-contentful-paint')[0].startTime")
    chart = page.evaluate("window.__bench.chart")
    context.close()
    return {"fcp": fcp, "chart": max(chart, fcp)}


def measure_weight(browser, site: Site, page_path: str) -> dict:
    """Everything the page transfers before any interaction, from the server's own count."""
    context = browser.new_context(viewport={"width": 412, "height": 823})
    page = context.new_page()
    site.take()
    page.goto(site.base + page_path, wait_until="load")
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(500)  # the search worker fetches its index after load
    requests = site.take()
    vega = any(path.endswith("vega.js") or path.endswith(".vg.json") for path, _, _ in requests)
    context.close()
    counted = [(p, r, g) for p, r, g in requests if p != SEARCH_INDEX]
    index = [(p, r, g) for p, r, g in requests if p == SEARCH_INDEX]
    return {
        "raw": sum(r for _, r, _ in counted),
        "gzip": sum(g for _, _, g in counted),
        "requests": len(counted),
        "index_raw": sum(r for _, r, _ in index),
        "index_gzip": sum(g for _, _, g in index),
        "vega_before_interaction": vega,
        "files": counted,
    }


def measure_first_search(browser, site: Site) -> dict:
    """What a reader's first search transfers (the worker, Material's bundle, the index): none
    of it is fetched before, so it is reported beside the pages' weight, not in it."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(site.base, wait_until="load")
    page.wait_for_load_state("networkidle")
    site.take()
    page.keyboard.press("/")  # Material's shortcut to the search box
    page.locator("input.md-search__input").press_sequentially("subsidy", delay=30)
    page.locator(".md-search-result__item").first.wait_for(timeout=45000)
    page.wait_for_load_state("networkidle")
    requests = site.take()
    context.close()
    index = [(r, g) for p, r, g in requests if p == SEARCH_INDEX]
    return {
        "requests": len(requests),
        "raw": sum(r for _, r, _ in requests),
        "gzip": sum(g for _, _, g in requests),
        "index_raw": sum(r for r, _ in index),
        "index_gzip": sum(g for _, g in index),
    }


def bench_pages(browser, site: Site, folder: Path, runs: int) -> tuple[str, str, dict]:
    pages = site_pages(folder, site.base)
    log(f"weight: {len(pages)} pages ...")
    weights = {p: measure_weight(browser, site, p) for p in pages}
    search = measure_first_search(browser, site)
    rows = []
    for p, w in weights.items():
        rows.append(
            [
                "/" + p,
                kb(w["raw"]),
                kb(w["gzip"]),
                str(w["requests"]),
                "yes" if w["gzip"] <= 100 * 1024 else "NO",
                "LOADED" if w["vega_before_interaction"] else "no",
                f"{kb(w['index_gzip'])}",
            ]
        )
    first = next(iter(weights.values()))
    shared = sorted({(f, r, g) for f, r, g in first["files"] if "/assets/" in "/" + f})
    note = "Material's own files on every page: " + ", ".join(
        f"{Path(f).name} {kb(g)} KB" for f, _, g in shared
    )
    note += (
        f"\nA reader's first search fetches {search['requests']} files, {kb(search['gzip'])} KB"
        f" gzip ({kb(search['raw'])} KB raw), of which the search index {kb(search['index_gzip'])}"
        f" KB gzip ({kb(search['index_raw'])} KB raw)"
    )
    weight_text = table(
        "Page weight before interaction (KB; the search index apart, below)",
        ["page", "raw", "gzip", "requests", "<=100 KB", "Vega runtime", "index before use"],
        rows,
        note,
    )
    chart_pages = _chart_pages(folder, pages)
    baselines = write_baselines(folder, chart_pages)
    log(f"timing: {len(chart_pages)} chart pages x {runs} runs, ours and baseline, phone profile")
    timing = {}
    rows = []
    for p in chart_pages:
        ours, theirs = [], []
        for _ in range(runs):  # interleaved, so both see the same machine
            ours.append(measure_load(browser, site.base + p, phone=True))
            theirs.append(measure_load(browser, site.base + baselines[p], phone=True))
        o_fcp, o_chart = median([r["fcp"] for r in ours]), median([r["chart"] for r in ours])
        b_fcp, b_chart = median([r["fcp"] for r in theirs]), median([r["chart"] for r in theirs])
        timing[p] = {"ours": ours, "baseline": theirs}
        rows.append(
            [
                "/" + p,
                f"{o_fcp:.0f}",
                f"{o_chart:.0f}",
                f"{o_chart - o_fcp:+.0f}",
                f"{b_fcp:.0f}",
                f"{b_chart:.0f}",
                f"{b_chart / o_chart:.1f}x",
            ]
        )
    mbit = PHONE["down_kbps"] / 1024
    timing_text = table(
        f"Time to first chart (ms from navigation, median of {runs}; phone profile: "
        f"{PHONE['cpu']}x CPU, {PHONE['latency_ms']} ms RTT, {mbit:.1f} Mbit/s)",
        ["page", "FCP", "chart", "chart-FCP", "baseline FCP", "baseline chart", "ratio"],
        rows,
        "baseline: the same page with each chart drawn by vega-embed + Vega-Lite in the browser "
        "(generated/vega.js); ratio = baseline chart time / our chart time",
    )
    return weight_text, timing_text, {"weight": weights, "first_search": search, "timing": timing}


# --- Lighthouse -----------------------------------------------------------------------------
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")


def lighthouse_runs(urls: list[str], runs: int) -> dict[str, list[dict]]:
    """Lighthouse on every URL, runs times, in one Node process with one browser
    (scripts/lighthouse_runs.mjs); returns url -> one result per run."""
    if not (ROOT / "node_modules" / "lighthouse").exists():
        raise SystemExit("no Lighthouse: run `npm ci` (make bench does)")
    proc = subprocess.run(
        ["node", str(ROOT / "scripts" / "lighthouse_runs.mjs"), str(runs), *urls],
        # The browser and its quiet flags from scripts/chromium.py, the one place they are kept.
        env={**os.environ, "CHROME_PATH": CHROMIUM, "CHROMIUM_ARGS": json.dumps(CHROMIUM_ARGS)},
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if proc.returncode != 0:
        raise SystemExit(f"Lighthouse failed:\n{proc.stderr[-3000:]}")
    out: dict[str, list[dict]] = {u: [] for u in urls}
    for line in proc.stdout.splitlines():
        if line.startswith("{"):
            result = json.loads(line)
            out[result["url"]].append(result)
    return out


def bench_lighthouse(site: Site, folder: Path, runs: int) -> tuple[str, dict]:
    pages = site_pages(folder, site.base)
    log(f"lighthouse: {len(pages)} pages x {runs} runs ...")
    results = lighthouse_runs([site.base + p for p in pages], runs)
    rows = []
    for url, runs_ in results.items():
        med = {k: median([r[k] for r in runs_]) for k in (*CATEGORIES, "fcp", "lcp", "tbt", "cls")}
        failed = sorted({f for r in runs_ for f in r["failed"]})
        rows.append(
            [
                "/" + url.removeprefix(site.base),
                *(f"{med[c]:.0f}" for c in CATEGORIES),
                " ".join(str(r["performance"]) for r in runs_),
                f"{med['fcp']:.0f}",
                f"{med['lcp']:.0f}",
                f"{med['tbt']:.0f}",
                f"{med['cls']:.3f}",
                " ".join(failed) or "-",
            ]
        )
    text = table(
        f"Lighthouse 12, mobile (median of {runs} runs per page; targets 98 / 100 / 100 / 100)",
        [
            "page",
            "perf",
            "a11y",
            "best",
            "seo",
            "perf runs",
            "FCP ms",
            "LCP ms",
            "TBT ms",
            "CLS",
            "failing audits",
        ],
        rows,
    )
    return text, results


# --- Live preview ---------------------------------------------------------------------------
def bench_serve(runs: int) -> tuple[str, dict]:
    from scripts import serve_latency

    log(f"serve: {len(serve_latency.EDITS)} kinds of edit x {runs} under mkdocs serve ...")
    results = serve_latency.measure(ROOT, runs=runs)
    rows = [
        [
            f"edit a {edit.name} (watching /{edit.page})",
            f"{results[edit.name]['median_seconds']:.2f}",
            "2",
            " ".join(f"{t:.2f}" for t in results[edit.name]["seconds"]),
            " ".join(str(b) for b in results[edit.name]["builds_per_edit"]),
        ]
        for edit in serve_latency.EDITS
    ]
    note = f"server start to first page: {results['startup_seconds']:.1f} s"
    if results["errors"]:
        note += "; errors: " + " | ".join(results["errors"])
    text = table(
        f"Live preview (seconds from save to the browser showing it, median of {runs})",
        ["edit", "median", "target", "runs", "builds per edit"],
        rows,
        note,
    )
    return text, results


# --- Main -----------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per measure (default 3)")
    parser.add_argument("--lighthouse-runs", type=int, default=3)
    parser.add_argument(
        "--skip", default="", help="comma list of parts to skip: build,pages,lighthouse,serve"
    )
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    parser.add_argument("--only", default="", help="comma list of page paths (default: all)")
    args = parser.parse_args(argv)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    ONLY.extend(p.strip().strip("/") + "/" if p.strip("/ ") else "" for p in args.only.split(","))
    if args.only == "":
        ONLY.clear()
    started = time.perf_counter()
    out: list[str] = []
    figures: dict = {}
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        work = Path(tmp)
        served = work / "served"
        with Site(served) as site:
            env = {"SITE_URL": site.base}  # canonical URLs and instant navigation match
            if "build" not in skip:
                text, figures["build"] = bench_build(args.runs, work, env)
                out.append(text)
                print(text, flush=True)
            else:
                log("building the site to serve ...")
                build(copy_project(work / "project", keep_cache=True), env=env)
            # The site under test is the scratch copy's last build.
            shutil.copytree(work / "project" / "site", served)
            from playwright.sync_api import sync_playwright

            if "pages" not in skip:
                with sync_playwright() as p:
                    browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                    weight, timing, figures["pages"] = bench_pages(browser, site, served, args.runs)
                    browser.close()
                out += [weight, timing]
                print(weight, flush=True)
                print(timing, flush=True)
            if "lighthouse" not in skip:
                text, figures["lighthouse"] = bench_lighthouse(site, served, args.lighthouse_runs)
                out.append(text)
                print(text, flush=True)
    if "serve" not in skip:
        text, figures["serve"] = bench_serve(args.runs)
        out.append(text)
        print(text, flush=True)
    total = time.perf_counter() - started
    print(f"\nbench took {total:.0f} s", flush=True)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
