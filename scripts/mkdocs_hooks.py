"""MkDocs glue. Every piece of logic lives in a plain module; this file only calls it:

- before every build (and every `mkdocs serve` rebuild): scripts/build_charts.py, which validates
  data/ and writes docs/generated/ (charts, figures, executed notebooks). Another site generator
  runs `python -m scripts.build_charts` first instead.
- each notebook page is the page scripts/build_notebooks.py rendered from its executed copy
  (docs/generated/notebooks/<name>.ipynb.page.json: HTML, table of contents, title); the
  executed notebook is published beside the page, as mkdocs-jupyter's plugin did. In a one-off
  build a notebook that must run again runs while the pages before its own are built; its page
  waits for it, and its files land in docs/generated/ before the static files are copied.
- docs/generated/ enters the site as hard links, not copies (_link_static_files).
- Material's search index reuses the entries of pages that did not change (scripts/search_cache.py).
- each page gets its last-updated date from git (scripts/page_dates.py) in the place Material
  shows it (page.meta.revision_date).
- compiled templates are kept in .cache/jinja/ (and in memory under serve); under serve, pages
  whose inputs did not change are not converted again (scripts/render_cache.py).
- under `mkdocs serve`: the watched folders are polled every 0.1 s (MkDocs: 0.5 s); our modules
  are re-imported when a file in scripts/ changed (chart modules on every render), so edits show
  without a restart; docs/generated/ is not watched and no bytecode is written, so our own
  writes never trigger a second build; the libraries charts need are imported, and the second
  process that renders charts is started, while the server waits; a notebook whose inputs
  changed re-runs in the background (its page says so meanwhile) and its result triggers the one
  rebuild that shows it.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import os
import posixpath
import sys
import threading
from pathlib import Path

from jinja2 import FileSystemBytecodeCache
from mkdocs.structure.files import File, Files
from mkdocs.structure.toc import get_toc

from scripts import table_wrap

_state = {"serving": False, "dates": None, "jobs": {"idle": threading.Event()}}
_TEMPLATES: dict = {}  # compiled Jinja templates, kept across `mkdocs serve` rebuilds


def on_startup(command: str, dirty: bool) -> None:
    _state["serving"] = command == "serve"
    if _state["serving"]:  # a .pyc written under charts/ or scripts/ would wake the watcher
        sys.dont_write_bytecode = True


def on_config(config):
    if _state["serving"]:  # edited build steps take effect (charts/ is re-imported per chart)
        scripts = Path(config.config_file_path).parent / "scripts"
        stamp = sorted((p.name, p.stat().st_mtime_ns) for p in scripts.glob("*.py"))
        if stamp != _state.get("scripts"):
            _state["scripts"] = stamp
            for name in [n for n in sys.modules if n.startswith("scripts.")]:
                del sys.modules[name]
        _list_theme_files_once(config.theme, Path(config.config_file_path).parent)
    _state["generated"] = os.path.join(config.docs_dir, "generated", "")
    _link_static_files()
    _state["dates"] = None
    return config


def _link_static_files() -> None:
    """MkDocs copies every static file into the site it builds: some 300 (Material's assets,
    the charts' files), and on this project's machines a new file costs about half a millisecond
    whatever its size. A hard link is a fiftieth of that (a copy where the two folders are on
    different file systems). Under serve every file is linked: nothing writes into a file it
    copied (pages, the search index and the sitemap are new files in a site emptied first). A
    one-off build links only docs/generated/: scripts/build_site.py rewrites some copied files
    in place afterwards (our scripts and stylesheets, Material's search worker), which must stay
    copies, while docs/generated/ is only ever replaced, never written into (chart_png.write_file),
    so the last good site/ keeps its files when a later build changes them."""
    from mkdocs import utils

    copy = utils.copy_file
    if getattr(copy, "links", False):
        return

    def link_or_copy(source_path: str, output_path: str) -> None:
        if not (_state["serving"] or source_path.startswith(_state["generated"])):
            copy(source_path, output_path)
            return
        if os.path.isdir(output_path):
            output_path = os.path.join(output_path, os.path.basename(source_path))
        os.makedirs(os.path.dirname(output_path), exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(output_path)  # never write through a link into the file it points at
        try:
            os.link(source_path, output_path)
        except OSError:
            copy(source_path, output_path)

    link_or_copy.links = True
    utils.copy_file = link_or_copy


_THEME_FILES: dict = {}  # under serve: the theme's file list, by the state of its folders


def _list_theme_files_once(theme, root: Path) -> None:
    """MkDocs lists every file of the theme on every build to copy its assets: some 7,000 in
    Material (its icons), a third of a second of each rebuild. Under serve the list is kept while
    the theme's folders inside the project (overrides/) are unchanged; the installed theme does
    not change while the server runs."""
    get_env = theme.get_env

    def env_listing_once():
        env = get_env()
        listing = env.list_templates
        ours = [Path(d) for d in theme.dirs if Path(d).is_relative_to(root)]
        stamp = tuple((str(p), p.stat().st_mtime_ns) for d in ours for p in sorted(d.rglob("*")))

        def list_templates(extensions=None, filter_func=None):
            key = (tuple(theme.dirs), stamp, extensions, filter_func is None)
            if key not in _THEME_FILES:
                _THEME_FILES.clear()
                _THEME_FILES[key] = listing(extensions, filter_func)
            return list(_THEME_FILES[key])

        env.list_templates = list_templates
        return env

    theme.get_env = env_listing_once


def on_pre_build(config) -> None:
    _state["render_inputs"] = None
    _state["jobs"]["idle"].clear()  # background notebook runs wait for this build to finish
    build_charts = importlib.import_module("scripts.build_charts")
    stats = build_charts.build(
        background=_state["jobs"] if _state["serving"] else None,
        defer_png=True,
        defer_notebooks=True,
    )
    _state["drawing"] = stats.pop("drawing")
    # A notebook still running: the pages before it are built meanwhile, and its page waits.
    _state["notebooks"] = stats.pop("notebooks", None)
    search = config.plugins.get("material/search")
    if search is not None and hasattr(search, "search_index"):
        search_cache = importlib.import_module("scripts.search_cache")
        folder = Path(config.config_file_path).parent / ".cache" / "search"
        _state["search"] = (
            search_cache,
            folder,
            search_cache.remember(search.search_index, folder),
        )


class _NotebookFile(File):
    """A notebook that is a page (MkDocs alone would copy it as a file)."""

    def is_documentation_page(self) -> bool:
        return True


def on_files(files, config):
    docs = Path(config.docs_dir)
    generated = docs / "generated" / "notebooks"
    out = []
    for file in files:
        if file.src_uri.startswith("generated/notebooks/"):
            continue  # an executed copy, not a page of its own
        if file.src_uri.endswith(".ipynb") and (generated / f"{file.src_uri}.page.json").is_file():
            page = _NotebookFile(
                file.src_uri, config.docs_dir, config.site_dir, config.use_directory_urls
            )
            page.abs_src_path = str(generated / file.src_uri)
            beside = posixpath.join(
                posixpath.dirname(page.dest_uri), posixpath.basename(file.src_uri)
            )
            out += [page, File.generated(config, beside, abs_src_path=page.abs_src_path)]
        else:
            out.append(file)
    return Files(out)  # in the order MkDocs found them: the sitemap lists pages in it


def on_pre_page(page, config, files):
    if isinstance(page.file, _NotebookFile):
        page.render = _render_notebook.__get__(page)
    elif _state["serving"]:
        render_cache = importlib.import_module("scripts.render_cache")
        if _state.get("render_inputs") is None:  # once per build, after build_charts wrote
            root = Path(config.config_file_path).parent
            _state["render_inputs"] = render_cache.inputs_digest(root, files)
        render_cache.remember(page, _state["render_inputs"])
    return page


def _land_notebooks() -> None:
    """Wait for the notebooks still running and put their files in docs/generated/: before the
    first notebook page is rendered, and at the latest before the static files are copied (the
    executed .ipynb is published beside its page)."""
    land = _state.pop("notebooks", None)
    if land is not None:
        land()


def _render_notebook(page, config, files) -> None:
    """Page.render for a notebook: the HTML the build step rendered, not Markdown."""
    _land_notebooks()
    rendered = json.loads(Path(f"{page.file.abs_src_path}.page.json").read_text(encoding="utf-8"))
    page.content = table_wrap.wrap_tables(rendered["content"])
    page.toc = get_toc(rendered["toc_tokens"])
    if rendered.get("title"):
        page.title = rendered["title"]


def on_page_markdown(markdown: str, page, config, files) -> str:
    if _state["dates"] is None:
        page_dates = importlib.import_module("scripts.page_dates")
        _state["dates"] = page_dates.last_updated(Path(config.docs_dir))
    date = _state["dates"].get(page.file.src_uri)
    if date and "revision_date" not in page.meta:
        page.meta["revision_date"] = date
    return markdown


def on_post_build(config) -> None:
    if _state.get("search"):
        search_cache, folder, used = _state.pop("search")
        search_cache.prune(folder, used)
    _finish_pngs(config)
    _state["jobs"]["idle"].set()


def _finish_pngs(config) -> None:
    """The charts' PNGs, drawn while the pages were built (scripts/chart_png.py), go into
    docs/generated/ and the site. A build waits for them; under serve the page has been shown
    by then, and they land a moment later, in the background."""
    drawing = _state.pop("drawing", None)
    if drawing is None:
        return
    outs = [Path(config.docs_dir) / "generated", Path(config.site_dir) / "generated"]
    if not _state["serving"]:
        drawing.finish(outs)
        return

    def finish() -> None:
        from concurrent.futures import CancelledError
        from concurrent.futures.process import BrokenProcessPool

        try:
            drawing.finish(outs, help_out=False)
        except (CancelledError, BrokenProcessPool):
            pass  # the server is stopping: its second process went with PNGs still queued
        except Exception as err:  # a BuildError names the chart
            logging.getLogger("mkdocs.explainer").error(f"{err}")

    threading.Thread(target=finish, daemon=True).start()


def on_build_error(error) -> None:
    land = _state.pop("notebooks", None)
    if land is not None:  # its runs are not wanted: stop them
        land.cancel()
    drawing = _state.pop("drawing", None)
    if drawing is not None:
        drawing.close(cancel=True)
    _state["jobs"]["idle"].set()


def on_shutdown() -> None:
    """Stop the notebook runs in progress, and the warm chart process, with the server (it would
    exit anyway, but its queues would be left behind: Python warns of leaked semaphores as
    `mkdocs serve` stops)."""
    build_notebooks = sys.modules.get("scripts.build_notebooks")
    if build_notebooks is not None:
        build_notebooks.stop_background(_state["jobs"])
    held = _state["jobs"].get("chart_worker")
    if held:
        held[1].shutdown(wait=True, cancel_futures=True)


def on_env(env, config, files):
    _land_notebooks()
    env.bytecode_cache = _BytecodeCache(Path(config.config_file_path).parent / ".cache" / "jinja")
    return env


# MkDocs polls the watched folders every half second: a quarter of a second, on average, of every
# edit's wait. Ours are small (a few hundred files), so polling five times as often costs little.
POLL_SECONDS = 0.1


def on_serve(server, config, builder):
    root = Path(config.config_file_path).parent
    docs = Path(config.docs_dir)
    # Set before the folders below are watched (each watch takes the observer's interval then);
    # MkDocs watches docs/ and mkdocs.yml before this hook, so both are watched anew.
    server.observer._timeout = POLL_SECONDS
    server.unwatch(str(docs))
    server.unwatch(config.config_file_path)
    server.watch(config.config_file_path)
    server.watch(str(docs), recursive=False)  # pages at the top of docs/
    for child in sorted(docs.iterdir()):
        if child.is_dir() and child.name != "generated":
            server.watch(str(child))
    results = root / ".cache" / "notebooks"
    results.mkdir(parents=True, exist_ok=True)
    server.watch(str(results))  # a background notebook run finished
    threading.Thread(target=_warm_up, args=(root,), daemon=True).start()
    return server


def _warm_up(root: Path) -> None:
    """Import what rendering a chart needs now, not on the first edit (about 1.5 s), here and in
    the second process that renders charts beside this one."""
    import frictionless  # noqa: F401

    build_charts = importlib.import_module("scripts.build_charts")
    build_charts.warm()
    build_charts.chart_worker(_state["jobs"], root)


class _BytecodeCache(FileSystemBytecodeCache):
    """Compiled templates, keyed by name and source checksum, in memory and in .cache/jinja/:
    a build compiles only templates that changed (Material's cost about half a second each
    build, and again on every `mkdocs serve` rebuild)."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        super().__init__(str(folder))

    def load_bytecode(self, bucket) -> None:
        code = _TEMPLATES.get((bucket.key, bucket.checksum))
        if code is None:
            super().load_bytecode(bucket)
            code = bucket.code
        if code is not None:
            bucket.code = _TEMPLATES[(bucket.key, bucket.checksum)] = code

    def dump_bytecode(self, bucket) -> None:
        _TEMPLATES[(bucket.key, bucket.checksum)] = bucket.code
        super().dump_bytecode(bucket)
