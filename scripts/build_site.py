"""Build step: the whole static site into site/, replaced only when the build succeeds.

MkDocs empties its output folder before it writes, so a failing page would leave a half-built
site. We build into .build/ and swap the folders at the end: a failed build leaves the last good
site/ complete and unchanged. Dates (sitemap, "last updated") come from git, not the clock, so
two builds of one commit are byte-identical. After MkDocs, scripts/harden_site.py makes the
output safe to publish (Content-Security-Policy with script hashes, safe external links, the
notebook page's markup fixed); see that module. Then scripts/css_subset.py cuts Material's
stylesheets to the rules the built pages can use (less to fetch and match before first paint),
and scripts/inline_styles.py puts them in each page's head (no round trip before first paint).

On failure it prints one line, the first problem to fix, located by file, line and field:

    error: data/fees.csv:7: field 'value': 'lots' is not of the declared type; expected a number

and no traceback unless asked for with -v (which also shows MkDocs' full log).

Run: python -m scripts.build_site [-d OUT] [-v]
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import shutil
import subprocess
import sys
import time
import traceback
import warnings
from pathlib import Path

from scripts.build_error import BuildError

ROOT = Path(__file__).resolve().parent.parent
FALLBACK_EPOCH = "1767225600"  # 2026-01-01, for a tree outside git


def source_date_epoch(root: Path) -> str:
    """Return SOURCE_DATE_EPOCH: as set, else the last commit's time, else a fixed date."""
    if os.environ.get("SOURCE_DATE_EPOCH"):
        return os.environ["SOURCE_DATE_EPOCH"]
    try:
        out = subprocess.run(
            ["git", "log", "-1", "--format=%ct"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        return out or FALLBACK_EPOCH
    except (OSError, subprocess.CalledProcessError):
        return FALLBACK_EPOCH


class _Capture(logging.Handler):
    """Keep MkDocs' log records: warnings become our one message, the rest is shown with -v."""

    def __init__(self, echo: bool) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.echo = echo

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        if self.echo and record.levelno >= logging.INFO:
            print(f"{record.levelname:<8}-  {record.getMessage()}", file=sys.stderr)

    def problems(self) -> list[str]:
        return [r.getMessage() for r in self.records if r.levelno >= logging.WARNING]

    def notes(self) -> list[str]:
        return [r.getMessage() for r in self.records if r.name.startswith("mkdocs.explainer")]


def _mkdocs_build(root: Path, site_dir: Path) -> None:
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    config = load_config(str(root / "mkdocs.yml"), strict=True, site_dir=str(site_dir))
    config.plugins.on_startup(command="build", dirty=False)
    try:
        build(config)
    finally:
        config.plugins.on_shutdown()


def build_site(root: Path = ROOT, out: Path | None = None, verbose: bool = False) -> int:
    """Build the site into out (default site/); return the process exit code."""
    started = time.perf_counter()
    root = root.resolve()
    out = (out or root / "site").resolve()
    work = root / ".build"
    work.mkdir(exist_ok=True)
    fresh = work / f"site-{os.getpid()}"
    shutil.rmtree(fresh, ignore_errors=True)
    os.environ["SOURCE_DATE_EPOCH"] = source_date_epoch(root)
    os.environ["NO_MKDOCS_2_WARNING"] = "1"
    os.chdir(root)  # MkDocs' caches and our messages' paths are relative to the project
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))

    capture = _Capture(echo=verbose)
    logger = logging.getLogger("mkdocs")
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)
    logger.addHandler(capture)
    logger.propagate = False
    try:
        with warnings.catch_warnings():
            if not verbose:  # library deprecation chatter is not the contributor's problem
                warnings.simplefilter("ignore")
            from scripts import build_charts

            build_charts.start_early(root)  # the notebook's run begins before MkDocs loads
            _mkdocs_build(root, fresh)
            from scripts import harden_site

            harden_site.harden(fresh)
            from scripts import css_subset

            # After harden_site: the cut reads the pages' final markup and scripts.
            css_subset.cut_stylesheets(fresh, root / ".cache" / "css")
            from scripts import inline_styles

            inline_styles.inline(fresh)  # the cut sheets, into each page's head
    except (Exception, SystemExit) as err:  # MkDocs' Abort is a SystemExit
        shutil.rmtree(fresh, ignore_errors=True)
        if verbose:
            traceback.print_exception(err)
        print(f"error: {explain(err, capture.problems(), root)}", file=sys.stderr)
        print(
            f"build failed; {_rel(out, root)}/ is unchanged"
            + ("" if verbose else " (-v shows the full log)"),
            file=sys.stderr,
        )
        return 1
    finally:
        if "build_charts" in locals():  # what the build did not take over (it failed before)
            build_charts.cancel_early()
        logger.removeHandler(capture)

    old = work / f"site-old-{os.getpid()}"
    if out.exists():
        out.replace(old)
    fresh.replace(out)
    shutil.rmtree(old, ignore_errors=True)
    for note in capture.notes():
        print(note, file=sys.stderr)
    print(f"built {_rel(out, root)}/ in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    return 0


# --- Turning whatever stopped the build into one located message -------------------------------


def explain(err: BaseException, problems: list[str], root: Path) -> str:
    """Return the one message for a failed build: file, line, field and what was expected."""
    ours = _find(err, BuildError)
    if ours is not None:
        return str(ours)
    import jinja2

    template = _find(err, jinja2.TemplateError)
    if template is not None:
        return str(_template_error(template, root))
    import yaml

    bad_yaml = _find(err, yaml.MarkedYAMLError)
    if bad_yaml is not None:
        mark = bad_yaml.problem_mark or bad_yaml.context_mark
        what = " ".join(x for x in (bad_yaml.context, bad_yaml.problem) if x)
        return str(
            BuildError(
                "mkdocs.yml",
                f"not valid YAML: {what}",
                line=mark.line + 1 if mark else None,
                expected="valid YAML: check the brackets, quotes and indentation on or before it",
            )
        )
    for problem in problems:  # strict mode: the first warning is the one to fix
        located = locate_warning(problem, root)
        if located is not None:
            return str(located)
    text = str(err)
    if problems:
        return problems[0]
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def _find(err: BaseException | None, kind: type) -> BaseException | None:
    seen = set()
    while err is not None and id(err) not in seen:
        if isinstance(err, kind):
            return err
        seen.add(id(err))
        err = err.__cause__ or err.__context__
    return None


def _template_error(err, root: Path) -> BuildError:
    import jinja2

    name, line = getattr(err, "filename", None), getattr(err, "lineno", None)
    if not isinstance(err, jinja2.TemplateSyntaxError):  # a runtime error: find the frame
        tb = err.__traceback__
        while tb is not None:
            path = tb.tb_frame.f_code.co_filename
            if path.endswith(".html") and (root / "overrides") in Path(path).parents:
                name, line = path, tb.tb_lineno
            tb = tb.tb_next
    file = _rel(Path(name), root) if name else "overrides/"
    return BuildError(file, f"template error: {err.message}", line=line, expected="valid Jinja")


NAV_MISSING = re.compile(r"A reference to '(.+?)' is included in the 'nav' configuration")
LINK = re.compile(
    r"Doc file '(.+?)' contains (?:a|an absolute|an unrecognized relative) link '(.+?)'"
)
CONFIG = re.compile(r"Config value '(.+?)': (.+)")


def locate_warning(message: str, root: Path) -> BuildError | None:
    """Turn one of MkDocs' strict-mode warnings into a located BuildError, when we know it."""
    docs = root / "docs"
    pages = sorted(p.relative_to(docs).as_posix() for p in docs.rglob("*") if _is_page(p, docs))
    m = NAV_MISSING.search(message)
    if m:
        return BuildError(
            "mkdocs.yml",
            f"the nav names '{m.group(1)}', which is not a page under docs/",
            line=_line_of(root / "mkdocs.yml", m.group(1), after="nav:"),
            field="nav",
            expected="one of: " + ", ".join(pages),
        )
    m = LINK.search(message)
    if m:
        page, link = m.group(1), m.group(2)
        reason = message.split("', ", 1)[1] if "', " in message else message
        reason = reason.removeprefix("but ").split(". Did you mean")[0].rstrip(".")
        return BuildError(
            f"docs/{page}",
            f"the link '{link}' is broken: {reason}",
            line=_line_of(docs / page, link.split("#")[0] or link),
            field="link",
            expected="a relative link to a page that exists (and a heading anchor on it), "
            "or a full https:// URL",
        )
    m = CONFIG.search(message)
    if m:
        key = m.group(1)
        return BuildError(
            "mkdocs.yml",
            m.group(2).split("\n")[0],
            line=_line_of(root / "mkdocs.yml", f"{key.split('.')[-1]}:"),
            field=key,
            expected="a setting MkDocs and Material know (see the comments in mkdocs.yml)",
        )
    return None


def _is_page(path: Path, docs: Path) -> bool:
    rel = path.relative_to(docs).as_posix()
    return path.suffix in (".md", ".ipynb") and not rel.startswith("generated/")


def _line_of(path: Path, needle: str, after: str | None = None) -> int | None:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    start = next((i for i, line in enumerate(lines) if line.startswith(after)), 0) if after else 0
    for i in range(start, len(lines)):
        if needle in lines[i]:
            return i + 1
    return None


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-d", "--site-dir", type=Path, help="output folder (default: site/)")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="show MkDocs' full log and tracebacks"
    )
    args = parser.parse_args(argv)
    return build_site(out=args.site_dir, verbose=args.verbose)


def _exit(code: int) -> None:
    """Exit without the interpreter's teardown once nothing is left to wait for: the site is
    written and every helper process has ended, and what is left is freeing some 1,300 modules
    one by one, a third of a second of every build (a seventh of a rebuild after a CSV edit).
    What was registered to run at exit (logging's flush, finalizers) still runs."""
    import atexit
    import threading

    run_at_exit = getattr(atexit, "_run_exitfuncs", None)  # CPython's
    waiting = [
        t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon
    ]
    if run_at_exit is None or waiting:
        sys.exit(code)
    run_at_exit()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    _exit(main())
