"""MkDocs glue. Every piece of logic lives in a plain module; this file only calls it:

- before every build (and every `mkdocs serve` rebuild): scripts/build_charts.py, which validates
  data/ and writes docs/generated/ (charts, figures, executed notebooks). Another site generator
  runs `python -m scripts.build_charts` first instead.
- each notebook page renders its executed copy from docs/generated/notebooks/.
- each page gets its last-updated date from git (scripts/page_dates.py) in the place Material
  shows it (page.meta.revision_date).
- under `mkdocs serve`: our modules are re-imported when a file in scripts/ changed (chart
  modules on every render), so edits show without a restart; docs/generated/ is not watched and
  no bytecode is written, so our own writes never trigger a second build; compiled templates
  are kept between rebuilds; the libraries charts need are imported while the server waits; a
  notebook whose inputs changed re-runs in the background (its page says so meanwhile) and its
  result triggers the one rebuild that shows it.
"""

from __future__ import annotations

import importlib
import sys
import threading
from pathlib import Path

from jinja2 import BytecodeCache
from mkdocs.plugins import event_priority

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
    _state["dates"] = None
    return config


def on_pre_build(config) -> None:
    _state["jobs"]["idle"].clear()  # background notebook runs wait for this build to finish
    build_charts = importlib.import_module("scripts.build_charts")
    build_charts.build(background=_state["jobs"] if _state["serving"] else None)


@event_priority(-100)  # after mkdocs-jupyter wrapped the file: set it on the wrapper it reads
def on_files(files, config):
    docs = Path(config.docs_dir)
    generated = docs / "generated" / "notebooks"
    for file in list(files):
        if file.src_uri.startswith("generated/notebooks/"):
            files.remove(file)  # an executed copy, not a page of its own
        elif file.src_uri.endswith(".ipynb") and (generated / file.src_uri).is_file():
            file.abs_src_path = str(generated / file.src_uri)
    return files


def on_page_markdown(markdown: str, page, config, files) -> str:
    if _state["dates"] is None:
        page_dates = importlib.import_module("scripts.page_dates")
        _state["dates"] = page_dates.last_updated(Path(config.docs_dir))
    date = _state["dates"].get(page.file.src_uri)
    if date and "revision_date" not in page.meta:
        page.meta["revision_date"] = date
    return markdown


def on_post_build(config) -> None:
    _state["jobs"]["idle"].set()


def on_build_error(error) -> None:
    _state["jobs"]["idle"].set()


def on_env(env, config, files):
    env.bytecode_cache = _MemoryBytecodeCache()
    return env


def on_serve(server, config, builder):
    docs = Path(config.docs_dir)
    server.unwatch(str(docs))
    server.watch(str(docs), recursive=False)  # pages at the top of docs/
    for child in sorted(docs.iterdir()):
        if child.is_dir() and child.name != "generated":
            server.watch(str(child))
    results = Path(config.config_file_path).parent / ".cache" / "notebooks"
    results.mkdir(parents=True, exist_ok=True)
    server.watch(str(results))  # a background notebook run finished
    threading.Thread(target=_warm_up, daemon=True).start()
    return server


def _warm_up() -> None:
    """Import what rendering a chart needs now, not on the first edit (about 1.5 s)."""
    import altair  # noqa: F401
    import frictionless  # noqa: F401
    import vl_convert

    # The first conversion of a process loads Vega and the fonts: about a second, paid here.
    spec = {"mark": "text", "encoding": {"text": {"value": "warm"}}, "data": {"values": [{}]}}
    vl_convert.vegalite_to_svg(spec)
    vl_convert.vegalite_to_png(spec)


class _MemoryBytecodeCache(BytecodeCache):
    """Compiled templates in memory, keyed by name and source checksum: a rebuild under
    `mkdocs serve` compiles only templates that changed (saves about half a second)."""

    def load_bytecode(self, bucket) -> None:
        code = _TEMPLATES.get((bucket.key, bucket.checksum))
        if code is not None:
            bucket.code = code

    def dump_bytecode(self, bucket) -> None:
        _TEMPLATES[(bucket.key, bucket.checksum)] = bucket.code
