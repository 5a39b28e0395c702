"""The published output is valid and safe: links, HTML, CSP, hostile data, reproducibility.

Validators: LinkChecker (internal links and anchors, over HTTP), the Nu HTML Checker
(node_modules/vnu-jar, `make test` installs it), Debian's Chromium for what only a browser knows.
"""

from __future__ import annotations

import csv
import functools
import http.server
import io
import json
import re
import shutil
import subprocess
import sys
import threading
import tomllib
from pathlib import Path

import pytest

from scripts import harden_site
from tests.conftest import ROOT, copy_project, free_port, run_build, tree_digest

VNU = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
LINKCHECKER = Path(sys.executable).parent / "linkchecker"
ALLOWLIST = Path(__file__).parent / "nu_allowlist.toml"


def pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


@pytest.fixture(scope="module")
def serve():
    """Serve any folder on 127.0.0.1 for the module; yields a function folder -> base URL."""
    servers = []

    def start(folder: Path) -> str:
        handler = functools.partial(_Quiet, directory=str(folder))
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        servers.append(httpd)
        return f"http://127.0.0.1:{httpd.server_address[1]}/"

    yield start
    for httpd in servers:
        httpd.shutdown()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


# --- links ------------------------------------------------------------------------------------


def linkcheck(url: str, tmp_path: Path) -> list[dict]:
    """Run LinkChecker over a site (internal links, with anchors); return the problems."""
    config = tmp_path / "linkcheckerrc"
    config.write_text("[AnchorCheck]\n")
    result = subprocess.run(
        [str(LINKCHECKER), "-f", str(config), "--no-status", "-o", "csv", url],
        capture_output=True,
        text=True,
        timeout=300,
    )
    rows = list(
        csv.DictReader(
            io.StringIO("\n".join(x for x in result.stdout.splitlines() if not x.startswith("#"))),
            delimiter=";",
        )
    )
    assert rows or result.returncode == 0, result.stderr
    return [r for r in rows if r["valid"] != "True" or r["warningstring"]]


def test_linkchecker_catches_a_broken_link_and_anchor(tmp_path, serve):
    site = tmp_path / "canary"
    (site / "sub").mkdir(parents=True)
    (site / "index.html").write_text(
        '<!doctype html><title>x</title><a href="sub/#nope">a</a><a href="gone/">b</a>'
    )
    (site / "sub" / "index.html").write_text('<!doctype html><title>s</title><h2 id="here">s</h2>')
    problems = linkcheck(serve(site), tmp_path)
    assert {p["urlname"] for p in problems} == {"sub/#nope", "gone/"}


def test_no_broken_internal_link_or_anchor(built_site, serve, tmp_path):
    problems = linkcheck(serve(built_site), tmp_path)
    assert not problems, "\n".join(
        f"{p['parentname']}:{p['line']}: {p['urlname']}: {p['result']} {p['warningstring']}"
        for p in problems
    )


# --- the Nu HTML Checker ----------------------------------------------------------------------


def nu_errors(folder: Path) -> list[dict]:
    if not VNU.exists():
        pytest.fail("no Nu HTML Checker: run `make test` (it runs npm ci)")
    result = subprocess.run(
        ["java", "-jar", str(VNU), "--skip-non-html", "--errors-only", "--format", "json", folder],
        capture_output=True,
        text=True,
        timeout=600,
    )
    return json.loads(result.stderr or '{"messages": []}')["messages"]


def test_no_nu_errors_beyond_the_listed_upstream_markup(built_site):
    allow = tomllib.loads(ALLOWLIST.read_text(encoding="utf-8"))["allow"]
    for entry in allow:
        assert entry["message"] and entry["markup"] and entry["source"] and entry["why"], entry
    used: set[int] = set()
    unexplained = []
    for m in nu_errors(built_site):
        hit = next(
            (
                i
                for i, e in enumerate(allow)
                if re.search(e["message"], m["message"]) and e["markup"] in m.get("extract", "")
            ),
            None,
        )
        if hit is None:
            page = m.get("url", "").split("/site/")[-1]
            unexplained.append(f"{page}:{m.get('lastLine')}: {m['message']} {m.get('extract')!r}")
        else:
            used.add(hit)
    assert not unexplained, "Nu HTML Checker errors:\n" + "\n".join(unexplained)
    stale = [e["markup"] for i, e in enumerate(allow) if i not in used]
    assert not stale, f"tests/nu_allowlist.toml excuses markup the site no longer has: {stale}"


def test_nu_checker_can_fail(tmp_path):
    (tmp_path / "bad.html").write_text("<!doctype html><title>x</title><p><div></p>")
    assert nu_errors(tmp_path)


# --- Content-Security-Policy, handlers, links out -----------------------------------------------


POLICY = re.compile(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">')


def test_every_page_has_one_policy_that_allows_no_other_origin(built_site):
    policies = set()
    for page in pages(built_site):
        html = page.read_text(encoding="utf-8")
        found = POLICY.findall(html)
        assert len(found) == 1, page
        policies.add(found[0])
    assert len(policies) == 1, "instant navigation keeps the first page's policy: one for all"
    policy = dict((d.split()[0], d.split()[1:]) for d in policies.pop().split(";") if d.strip())
    for directive, sources in policy.items():
        for source in sources:
            allowed = source in ("'self'", "'none'", "data:") or source.startswith("'sha256-")
            # Style attributes (a chart frame's reserved height) need it; CSS cannot run script.
            allowed = allowed or (directive == "style-src" and source == "'unsafe-inline'")
            assert allowed, (directive, source)
    assert policy["default-src"] == ["'self'"] and policy["object-src"] == ["'none'"]
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]


def test_every_inline_script_is_hashed_in_the_policy(built_site):
    for page in pages(built_site):
        html = page.read_text(encoding="utf-8")
        policy = POLICY.search(html).group(1)
        for script in harden_site.inline_scripts(html):
            assert harden_site.csp_hash(script) in policy, (page, script[:60])


def test_no_inline_event_handlers(built_site):
    handler = re.compile(r"<[a-zA-Z][^>]*\son[a-z]+\s*=", re.S)
    for path in [*pages(built_site), *built_site.rglob("*.svg")]:
        text = path.read_text(encoding="utf-8", errors="replace")
        m = handler.search(text)
        assert m is None, f"{path.relative_to(built_site)}: {m.group(0)[:120]}"


def test_external_links_cannot_reach_back(built_site):
    anchor = re.compile(r'<a\s[^>]*href="(?:https?:)?//[^"]*"[^>]*>')
    count = 0
    for page in pages(built_site):
        for tag in anchor.findall(page.read_text(encoding="utf-8")):
            count += 1
            rel = re.search(r'\srel="([^"]*)"', tag)
            assert rel and {"noopener", "noreferrer"} <= set(rel.group(1).split()), tag
    assert count > 10


# --- the site's own scripts and stylesheets ship without comments ----------------------------


@pytest.mark.parametrize(
    ("src", "kept", "gone"),
    [
        ('const u = "http://x/*y*/"; // a note\n', 'const u = "http://x/*y*/";', "a note"),
        (
            "const t = `a // b\n  c ${ {x: 1}.x } /* d */`; /* e */\n",
            "`a // b\n  c ${ {x: 1}.x } /* d */`",
            "e",
        ),
        ('const r = /["\\/]/g; // q\n', 'const r = /["\\/]/g;', "q"),
        ("const h = a / b / 2; // half\n", "const h = a / b / 2;", "half"),
        ("if (x) return /'/.test(s); // p\n", "return /'/.test(s);", "p"),
        ("  const a = 1\n\n  const b = 2\n", "const a = 1\nconst b = 2", None),
    ],
)
def test_stripping_a_script_drops_comments_and_keeps_code(src, kept, gone):
    out = harden_site.strip_js(src)
    assert kept in out
    assert gone is None or gone not in out


@pytest.mark.parametrize(
    ("src", "kept", "gone"),
    [
        (
            'a::after { content: " /* not a comment */"; } /* note */\n',
            '" /* not a comment */"',
            "note",
        ),
        ("/* head */\n.a {\n  color: red; /* why */\n}\n", ".a {\ncolor: red;\n}", "why"),
    ],
)
def test_stripping_a_stylesheet_drops_comments_and_keeps_rules(src, kept, gone):
    out = harden_site.strip_css(src)
    assert kept in out and gone not in out


@pytest.mark.parametrize(
    "src", ['const s = "open\n";', "const t = `${a`;", "/* open", "const r = /[/;\n"]
)
def test_a_script_the_stripper_cannot_follow_stops_it(src):
    with pytest.raises(ValueError):
        harden_site.strip_js(src)


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node")
def test_the_sites_own_scripts_still_parse(built_site):
    scripts = [p for pattern in harden_site.OWN_ASSETS for p in built_site.glob(pattern)]
    scripts = [p for p in scripts if p.suffix == ".js"]
    assert scripts, "no script of the site's own was found"
    for path in scripts:
        assert "// " not in path.read_text(encoding="utf-8").split("\n", 1)[0], path
        result = subprocess.run(["node", "--check", str(path)], capture_output=True, text=True)
        assert result.returncode == 0, f"{path.relative_to(built_site)}: {result.stderr}"


@pytest.mark.browser
def test_no_policy_violation_in_the_browser(watched, built_site):
    """Every page, and a chart made live, under the real policy: nothing is blocked."""
    page = watched.page
    page.add_init_script(
        "addEventListener('securitypolicyviolation', e => console.error("
        "'CSP violation', e.violatedDirective, e.blockedURI, e.sample))"
    )
    for html in pages(built_site):
        rel = html.relative_to(built_site).as_posix()
        if rel == "404.html":
            continue
        page.goto(watched.base + rel.removesuffix("index.html"))
        page.wait_for_load_state("load")
    page.goto(watched.base)
    figure = page.locator("figure.chart").first
    figure.scroll_into_view_if_needed()
    figure.locator(".chart__frame").hover()
    page.wait_for_function(
        "f => f.dataset.state === 'live'", arg=figure.element_handle(), timeout=15000
    )
    # watched (conftest) fails the test on any console error, so on any violation


# --- hostile data renders as text --------------------------------------------------------------

XSS = {
    "img": '<img src=x onerror="window.__xss=1">',
    "script": "<script>window.__xss=2</script>",
    "attr": '" onmouseover="window.__xss=3" x="',
}
HOSTILE_CHART = f'''"""Hostile <script>window.__xss=4</script> title

A chart that feeds markup through every text path: title, axis labels, tooltip and data table.
"""

import altair as alt

TABLES = ("nev_market_annual",)


def chart(data):
    rows = data["nev_market_annual"].head(3).copy()
    rows["label"] = {list(XSS.values())!r}
    plotted = rows[["label", "value", "source_id"]]
    return alt.Chart(plotted).mark_bar().encode(
        x=alt.X("label:N", title="<b>axis</b>"),
        y=alt.Y("value:Q", title="Value"),
        tooltip=[alt.Tooltip("label:N", title="<i>Label</i>"), alt.Tooltip("value:Q")],
    )
'''


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory, serve):
    """A scratch site whose data, chart and prose carry markup in every string."""
    root = copy_project(tmp_path_factory.mktemp("hostile") / "project")
    (root / "charts" / "hostile.py").write_text(HOSTILE_CHART)
    table = root / "data" / "nev_market_annual.csv"
    rows = list(csv.DictReader(io.StringIO(table.read_text(encoding="utf-8"))))
    rows[0]["metric"] = XSS["img"]
    rows[0]["entity"] = XSS["attr"]
    sources = root / "data" / "sources.csv"
    srows = list(csv.DictReader(io.StringIO(sources.read_text(encoding="utf-8"))))
    for s in srows:
        if s["id"] == rows[0]["source_id"]:
            s["publisher"], s["title"] = XSS["script"], XSS["attr"]
    for path, data in ((table, rows), (sources, srows)):
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(data[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(data)
        path.write_text(buf.getvalue(), encoding="utf-8")
    page = root / "docs" / "policy-shift.md"
    page.write_text(
        page.read_text() + f"\n\nIt was {{{{ fig {rows[0]['id']} }}}}.\n\n{{{{ chart hostile }}}}\n"
    )
    result = run_build(root)
    assert result.returncode == 0, result.stderr
    return root / "site", serve(root / "site")


def test_hostile_strings_are_escaped_in_the_html(hostile_site):
    site, _ = hostile_site
    html = (site / "policy-shift" / "index.html").read_text(encoding="utf-8")
    for payload in (*XSS.values(), "<script>window.__xss=4</script>"):
        assert payload not in html, payload
    assert "&lt;img src=x onerror=" in html  # data table, figure tooltip
    assert "&lt;script&gt;window.__xss=2&lt;/script&gt;" in html  # source link text
    assert "&lt;script&gt;window.__xss=4&lt;/script&gt;" in html  # chart caption


@pytest.mark.browser
def test_hostile_strings_render_as_text_in_the_browser(browser, hostile_site):
    _, base = hostile_site
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(base + "policy-shift/")
    figure = page.locator("figure.chart[data-chart='hostile']")
    figure.scroll_into_view_if_needed()
    figure.locator(".chart__frame").hover()
    page.wait_for_function(
        "f => f.dataset.state === 'live'", arg=figure.element_handle(), timeout=15000
    )
    marks = figure.locator(".chart__live [aria-roledescription='bar']")
    for i in range(marks.count()):
        marks.nth(i).hover()
        page.wait_for_timeout(100)
    tip = figure.locator(".chart__tooltip").inner_text()
    assert "Label" in tip and ("<" in tip), tip  # shown as characters, not parsed
    assert page.evaluate("window.__xss") is None, "a data string ran as script"
    assert page.locator("img[src='x']").count() == 0
    assert page.locator("text=window.__xss=2").count() >= 1  # the publisher, as text
    context.close()


# --- two clean builds of one commit are byte-identical --------------------------------------------


def test_two_clean_builds_are_byte_identical(tmp_path):
    sites = []
    for name in ("one", "two"):  # different folders: no absolute path may leak into the output
        root = copy_project(tmp_path / name)
        for cache in (".cache", "docs/generated"):
            shutil.rmtree(root / cache, ignore_errors=True)
        result = run_build(root, env={"SOURCE_DATE_EPOCH": "1767225600"})
        assert result.returncode == 0, result.stderr
        sites.append(root / "site")
    assert tree_digest(sites[0]) == tree_digest(sites[1]), _first_difference(*sites)
    for path in sites[0].rglob("*"):
        if path.is_file() and path.suffix in (".html", ".xml", ".json", ".ipynb", ".js"):
            assert str(tmp_path) not in path.read_text(errors="replace"), path


def _first_difference(a: Path, b: Path) -> str:
    for path in sorted(a.rglob("*")):
        other = b / path.relative_to(a)
        if path.is_file() and (not other.exists() or other.read_bytes() != path.read_bytes()):
            return f"differs: {path.relative_to(a)}"
    return "file lists differ"


def test_page_dates_come_from_git(tmp_path):
    from scripts.page_dates import last_updated

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("a")
    env = {"GIT_COMMITTER_DATE": "2024-05-06T12:00:00", "GIT_AUTHOR_DATE": "2024-05-06T12:00:00"}
    git = functools.partial(
        subprocess.run, cwd=tmp_path, check=True, capture_output=True, env={**_git_env(), **env}
    )
    git(["git", "init", "-q"])
    git(["git", "add", "."])
    git(["git", "commit", "-qm", "a"])
    (docs / "new.md").write_text("not committed yet")
    dates = last_updated(docs)
    assert dates["a.md"] == "2024-05-06"
    assert dates["new.md"] == "2026-01-01"  # SOURCE_DATE_EPOCH's fallback, never the clock


def _git_env() -> dict:
    import os

    return {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.org",
        "SOURCE_DATE_EPOCH": "1767225600",
    }


def test_every_page_has_an_edit_link_and_a_date(built_site):
    for page in pages(built_site):
        rel = page.relative_to(built_site).as_posix()
        if rel == "404.html":
            continue
        html = page.read_text(encoding="utf-8")
        assert re.search(r'href="https://github\.com/[^"]+/edit/main/docs/[^"]+"', html), rel
        assert re.search(
            r'md-source-file__fact">\s*<span[^>]*>.*?</span>\s*\d{4}-\d\d-\d\d', html, re.S
        ), rel
