"""Shared fixtures: a scratch copy of the project, the built site, a local server, a browser."""

from __future__ import annotations

import functools
import hashlib
import http.server
import os
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from scripts.chromium import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parent.parent
COPY_IGNORE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "site",
    ".build",
    "node_modules",
    ".pytest_cache",
    ".ruff_cache",
    "__pycache__",
)


def copy_project(dest: Path) -> Path:
    """Copy the project (sources only, plus the chart cache to keep it fast) to dest."""
    shutil.copytree(ROOT, dest, ignore=COPY_IGNORE)
    return dest


def run_build(root: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the site build in root as a contributor would (`make build`)."""
    full_env = {**os.environ, "PYTHONPATH": str(root), "NO_MKDOCS_2_WARNING": "1", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "scripts.build_site", *args],
        cwd=root,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def tree_digest(folder: Path) -> str:
    """Hash every file's path and bytes under folder: equal digests, identical trees."""
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(p.relative_to(folder).as_posix().encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A scratch copy of the project to break on purpose."""
    return copy_project(tmp_path / "project")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def site_port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def built_site(tmp_path_factory, site_port: int) -> Path:
    """The whole site, built once with --strict, with site_url matching the test server."""
    out = tmp_path_factory.mktemp("site") / "site"
    result = run_build(ROOT, "-d", str(out), env={"SITE_URL": f"http://127.0.0.1:{site_port}/"})
    assert result.returncode == 0, result.stderr
    return out


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # the tests read requests from the browser instead
        pass


@pytest.fixture(scope="session")
def server(built_site: Path, site_port: int):
    """Serve the built site on 127.0.0.1; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(built_site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", site_port), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{site_port}/"
    httpd.shutdown()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: run `make test` (it installs Debian's chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


class Watched:
    """A page plus what it did that a reader would mind: console errors, off-site requests."""

    def __init__(self, page, base: str) -> None:
        self.page, self.base = page, base
        self.errors: list[str] = []
        self.offsite: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.route("**/*", self._route)

    def _route(self, route) -> None:
        url = route.request.url
        if url.startswith(self.base) or url.startswith("data:") or url.startswith("blob:"):
            route.continue_()
        else:
            self.offsite.append(url)
            route.abort()


@pytest.fixture
def watched(browser, server):
    """A fresh browser context on the test server; fails the test on errors or leaks."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    w = Watched(context.new_page(), server)
    yield w
    context.close()
    assert not w.offsite, f"requests left 127.0.0.1: {w.offsite}"
    assert not w.errors, f"console errors: {w.errors}"


# --- Reader tests (tests/test_reader_*.py): every page, in every mode a reader may use ---------

# (width, colour scheme): a phone and a desktop, each in light and dark.
READER_MODES = [(375, "light"), (375, "dark"), (1280, "light"), (1280, "dark")]
_DARK_PALETTE = (
    '{"index":1,"color":{"media":"(prefers-color-scheme: dark)","scheme":"slate",'
    '"primary":"indigo","accent":"indigo"}}'
)


def site_pages(docs: Path = ROOT / "docs") -> list[str]:
    """Every page the site builds, as a path under the site root ('' for the home page), found
    from the source files, so a new page is tested without anyone listing it. (The reader tests
    also check this list against the built sitemap.)"""
    pages = []
    for source in sorted([*docs.rglob("*.md"), *docs.rglob("*.ipynb")]):
        rel = source.relative_to(docs)
        # includes/ holds snippets appended to pages (mkdocs.yml exclude_docs), not pages.
        if rel.parts[0] in ("generated", "includes", "javascripts", "stylesheets") or any(
            part.startswith(".") for part in rel.parts
        ):
            continue
        parent = rel.parent.as_posix()
        prefix = "" if parent == "." else parent + "/"
        pages.append(prefix if rel.stem in ("index", "README") else f"{prefix}{rel.stem}/")
    return pages


def open_page(browser, base: str, path: str, width: int = 1280, scheme: str = "light", **kw):
    """A new context and page at base+path in the given width and Material colour scheme;
    returns (context, Watched). The caller closes the context."""
    context = browser.new_context(
        viewport={"width": width, "height": 900}, color_scheme=scheme, **kw
    )
    if scheme == "dark":  # Material's stored palette choice, read before the first paint
        context.add_init_script(f"localStorage.setItem('/.__palette', '{_DARK_PALETTE}')")
    watched = Watched(context.new_page(), base)
    watched.page.goto(base + path)
    return context, watched
