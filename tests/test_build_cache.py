"""Builds that know about data: outputs are cached by exactly their inputs, and never go stale.

A scratch project gets a second chart (reading another table) and a second notebook (declaring
the one table it reads), so "only what reads it" has something to leave alone.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from scripts import build_charts, chart_png, fingerprint
from scripts.load_data import load_package
from tests.conftest import ROOT, copy_project, run_build, tree_digest

OTHER_CHART = '''"""Seres deliveries (a second chart, for the cache tests)

Every delivery row, to prove that editing one table leaves charts of other tables alone.
"""

import altair as alt

TABLES = ("deliveries",)


def chart(data):
    rows = data["deliveries"][["period", "value", "source_id"]].head(5)
    return alt.Chart(rows).mark_bar().encode(x="period:O", y="value:Q", tooltip=["value:Q"])
'''


def other_notebook() -> dict:
    return {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "id": "c1",
                "metadata": {},
                "outputs": [],
                "source": "import csv\nlen(list(csv.reader(open('data/deliveries.csv'))))",
            }
        ],
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def build(root: Path) -> dict:
    """Run the build step as MkDocs' hook does, in root; return what it did."""
    result = subprocess.run(
        [sys.executable, "-m", "scripts.build_charts", "--stats"],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def bump_value(root: Path, table: str) -> None:
    """Change one value of a table's first data row (a real edit a contributor might make)."""
    path = root / "data" / f"{table}.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    header = lines[0].strip().split(",")
    import csv
    import io

    cells = next(csv.reader(io.StringIO(lines[1])))
    i = header.index("value")
    cells[i] = str(float(cells[i]) + 1)
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(cells)
    lines[1] = buf.getvalue()
    path.write_text("".join(lines), encoding="utf-8")


@pytest.fixture(scope="module")
def cached(tmp_path_factory) -> Path:
    """A scratch project with two charts and two notebooks, built once."""
    root = copy_project(tmp_path_factory.mktemp("cache") / "project")
    (root / "charts" / "seres_deliveries_test.py").write_text(OTHER_CHART)
    (root / "docs" / "deliveries-check.ipynb").write_text(json.dumps(other_notebook()))
    first = build(root)
    assert "seres_deliveries_test" in first["charts_built"]
    return root


def test_a_rebuild_with_no_change_recomputes_nothing(cached):
    again = build(cached)
    assert again["built"] == 0 and again["reused"] == len(
        build_charts.chart_names(cached / "charts")
    )
    assert again["notebooks_run"] == [] and again["notebooks_reused"] == 2
    assert again["changed"] == 0, "an unchanged build rewrote files (would wake mkdocs serve)"
    assert again["validated"] is False, "unchanged data was validated again"


def readers(root: Path, table: str) -> list[str]:
    """The charts whose TABLES name table."""
    return [
        name
        for name in build_charts.chart_names(root / "charts")
        if table
        in build_charts._declared_tables(
            (root / "charts" / f"{name}.py").read_bytes(), root / "charts" / f"{name}.py"
        )
    ]


def test_editing_one_csv_recomputes_only_what_reads_it(cached):
    build(cached)
    bump_value(cached, "nev_market_annual")
    after = build(cached)
    assert after["charts_built"] == readers(cached, "nev_market_annual")
    assert "seres_deliveries_test" not in after["charts_built"]
    assert after["notebooks_run"] == ["docs/methodology.ipynb"]  # it loads every table
    assert after["validated"] is True

    bump_value(cached, "deliveries")
    after = build(cached)
    assert after["charts_built"] == readers(cached, "deliveries")
    assert "seres_deliveries_test" in after["charts_built"]
    assert sorted(after["notebooks_run"]) == [
        "docs/deliveries-check.ipynb",
        "docs/methodology.ipynb",
    ]

    bump_value(cached, "fees")  # the small notebook opens deliveries.csv only
    assert build(cached)["notebooks_run"] == ["docs/methodology.ipynb"]


def test_a_notebook_depends_on_the_pages_it_reads(cached):
    """The methodology notebook finds the home page's lead chart in docs/index.md."""
    build(cached)
    page = cached / "docs" / "index.md"
    page.write_text(page.read_text(encoding="utf-8") + "\nOne more sentence.\n", encoding="utf-8")
    assert build(cached)["notebooks_run"] == ["docs/methodology.ipynb"]


def test_a_comment_or_an_orchestration_edit_recomputes_no_chart(cached):
    build(cached)
    module = cached / "charts" / "nev_sales_caam.py"
    module.write_text(module.read_text() + "\n# a note for the next contributor\n")
    steps = cached / "scripts" / "build_charts.py"  # log() only orchestrates
    text = steps.read_text()
    assert "    LOG.info(message)\n" in text
    steps.write_text(
        text.replace("    LOG.info(message)\n", "    LOG.info(message)\n    return\n", 1)
    )
    assert build(cached)["built"] == 0


def test_editing_a_chart_module_recomputes_it_and_the_notebook_that_imports_it(cached):
    build(cached)
    module = cached / "charts" / "nev_sales_caam.py"
    module.write_text(module.read_text() + "\nEDITED = True\n")
    after = build(cached)
    assert after["charts_built"] == ["nev_sales_caam"]
    assert after["notebooks_run"] == ["docs/methodology.ipynb"]


def test_a_damaged_parse_memo_is_parsed_again_not_trusted(cached):
    """.cache/parsed.json keeps what was parsed out of each module; a damaged one (a crash
    mid-write, a stray edit) must neither fail the build nor change any key."""
    build(cached)
    memo = cached / ".cache" / "parsed.json"
    assert memo.is_file(), "the build kept no parse results"
    memo.write_text('{"stamp": "' + json.loads(memo.read_text())["stamp"][:-1], encoding="utf-8")
    again = build(cached)
    assert again["built"] == 0, "a damaged memo changed the charts' keys"
    assert json.loads(memo.read_text())["memo"], "the memo was not written again"


def test_a_damaged_cache_entry_is_drawn_again(cached):
    """A damaged drawing cache entry (a crash, a disk error) is not used; the chart is drawn
    again and stored over it, instead of every build failing until .cache is deleted."""
    name = "seres_deliveries_test"
    build(cached)
    before = tree_digest(cached / "docs" / "generated" / "charts" / name)
    entries = list((cached / ".cache" / "drawn" / name).glob("*.zip"))
    entry = max(entries, key=lambda p: p.stat().st_mtime_ns)  # the one this build used
    damaged = bytearray(entry.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF  # one byte of one of its files
    entry.write_bytes(damaged)
    for hit in (cached / ".cache" / "charts" / name).glob("*.zip"):
        hit.unlink()
    again = build(cached)
    assert again["charts_built"] == [name]
    with zipfile.ZipFile(entry) as stored:
        assert stored.testzip() is None, "the entry was not stored again"
    assert tree_digest(cached / "docs" / "generated" / "charts" / name) == before


def test_a_site_build_ships_the_png_of_the_current_chart(tmp_path):
    """The PNG is drawn while MkDocs builds the pages (scripts/chart_png.py): the finished
    site, and docs/generated, must still hold the image of the chart as it is now."""
    root = copy_project(tmp_path / "project")
    module = root / "charts" / "nev_sales_caam.py"
    module.write_text(module.read_text().replace('"""', '"""PNG check: ', 1))
    result = run_build(root)
    assert result.returncode == 0, result.stderr
    folder = root / "site" / "generated" / "charts" / "nev_sales_caam"
    svg = (folder / "chart.svg").read_bytes()
    assert b"PNG check" in svg
    png = (folder / "chart.png").read_bytes()
    assert png == chart_png.draw(svg, "test")
    assert png == (root / "docs/generated/charts/nev_sales_caam/chart.png").read_bytes()
    meta = json.loads((folder / "figure.json").read_text())
    assert meta["png"] == [int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")]


def test_a_stale_cache_is_never_served(cached, tmp_path):
    """After each kind of edit, the cached build's output equals a build from nothing."""
    edits = [
        lambda r: bump_value(r, "nev_market_annual"),
        lambda r: (r / "charts/_theme.py").write_text(
            (r / "charts/_theme.py").read_text().replace("#0072B2", "#0072B3")
        ),
        lambda r: (r / "charts/nev_sales_caam.py").write_text(
            (r / "charts/nev_sales_caam.py").read_text().replace('"""', '"""Edited: ', 1)
        ),
    ]
    for edit in edits:
        build(cached)
        before = tree_digest(cached / "docs" / "generated")
        edit(cached)
        build(cached)
        incremental = tree_digest(cached / "docs" / "generated")
        assert incremental != before, "an input changed but the output did not"
        clean = tmp_path / f"clean-{edits.index(edit)}"
        shutil.copytree(
            cached, clean, ignore=shutil.ignore_patterns(".cache", "generated", "site", ".build")
        )
        build(clean)
        assert tree_digest(clean / "docs" / "generated") == incremental


def test_the_notebook_page_shows_outputs_of_the_current_data(tmp_path):
    """A notebook run is cached by what it reads, not by the notebook file alone. After a
    data edit, the page equals the one a build from nothing makes, and differs from before."""
    from tests.conftest import run_build

    root = copy_project(tmp_path / "project")
    assert run_build(root).returncode == 0
    page = Path("site/methodology/index.html")
    before = (root / page).read_bytes()
    assert b"data:image/svg+xml" in before  # the chart output is there
    table = root / "data" / "fees.csv"  # the notebook tabulates ratings per table
    table.write_text(table.read_text(encoding="utf-8").replace(",high,", ",low,", 1))
    assert run_build(root).returncode == 0
    after = (root / page).read_bytes()
    assert after != before

    clean = tmp_path / "clean"
    shutil.copytree(root, clean, ignore=shutil.ignore_patterns(".cache", "generated", "site"))
    assert run_build(clean).returncode == 0
    assert (clean / page).read_bytes() == after

    # The home page's chart, drawn in the notebook (kept in .cache/svg/ by its spec), follows
    # an edit to what it plots.
    image = re.compile(rb"data:image/svg\+xml;base64,[A-Za-z0-9+/=]+")
    bump_value(root, "nev_market_annual")
    assert run_build(root).returncode == 0
    edited = (root / page).read_bytes()
    assert image.search(edited).group(0) != image.search(after).group(0)
    again = tmp_path / "clean-again"
    shutil.copytree(root, again, ignore=shutil.ignore_patterns(".cache", "generated", "site"))
    assert run_build(again).returncode == 0
    assert (again / page).read_bytes() == edited


# --- the keys themselves, in-process: what is in them and what is not --------------------------


@pytest.fixture(scope="module")
def real_package():
    return load_package(ROOT / "data")


@pytest.fixture
def package(real_package):
    """The real package, copied: each test may edit its rows."""
    return copy.deepcopy(real_package)


def _key(package, src: bytes | None = None, tables=("nev_market_annual",)) -> str:
    src = src if src is not None else (ROOT / "charts" / "nev_sales_caam.py").read_bytes()
    return build_charts.input_key("nev_sales_caam", src, tables, package, ROOT)


def test_key_covers_the_tables_read_and_not_the_others(package):
    base = _key(package)
    other = next(iter(t for t in package.tables if t not in ("nev_market_annual", "sources")))
    package.tables[other][0]["value"] = "123456789"
    assert _key(package) == base
    package.tables["nev_market_annual"][0]["value"] = "1"
    assert _key(package) != base


def test_key_covers_code_by_meaning(package):
    src = (ROOT / "charts" / "nev_sales_caam.py").read_bytes()
    base = _key(package, src)
    assert _key(package, src + b"\n# only a comment\n") == base
    assert _key(package, src + b"\nWIDTH = 1\n") != base
    assert _key(package, src.replace(b'"""', b'"""Retitled: ', 1)) != base  # the title is output


def test_key_covers_source_ids_and_credits_but_not_their_titles(package):
    base = _key(package)
    first = package.tables["sources"][0]
    first["title"] = "A retitled page"
    assert _key(package) == base  # titles are read by the page, not baked into chart files
    package.tables["sources"].append({**first, "id": "a_new_source"})
    assert _key(package) != base
    package.tables["sources"].pop()
    first["publisher"] += " (renamed)"  # the download image's foot names the publisher
    assert _key(package) != base


def test_key_covers_library_versions(package, monkeypatch):
    base = _key(package)
    monkeypatch.setattr(build_charts, "_versions", lambda: "altair=99")
    assert _key(package) != base


def test_local_imports_are_followed_transitively():
    import ast

    tree = ast.parse("from scripts.build_charts import frames\nfrom charts import nev_sales_caam")
    found = {p.relative_to(ROOT).as_posix() for p in fingerprint.local_imports(tree, ROOT)}
    assert {"scripts/build_charts.py", "scripts/load_data.py", "charts/nev_sales_caam.py"} <= found


# --- live preview: mkdocs serve, a real browser, real edits --------------------------------------


@pytest.mark.browser
def test_serve_shows_each_edit_in_the_open_browser_without_loops(browser):
    """Edit a page, a CSV and a chart module under `mkdocs serve` (a scratch copy) with Chromium
    open on the page: the change appears without a restart, after one build (plus one more when
    the notebook that reads the data has re-run in the background), and then all goes quiet;
    stopping the server stops every process it started.
    How fast is `make bench`'s business (scripts/serve_latency.py); no test is timed."""
    from scripts import serve_latency

    result = serve_latency.measure(ROOT, runs=1, timeout=60, browser=browser)
    assert not result["errors"], result["errors"]
    assert result["left_running"] == [], "stopping the server left processes running"
    assert result["page"]["builds_per_edit"] == [1], result
    for edit in ("csv", "chart"):  # both feed the methodology notebook
        assert result[edit]["builds_per_edit"] == [1 + result[edit]["notebook_result_builds"][0]]
        assert result[edit]["notebook_result_builds"] == [1], result


def test_the_search_index_after_a_page_edit_equals_a_clean_build(tmp_path):
    """Search entries are reused for pages that did not change; the edited page's are new, and
    the whole index is the one a build from nothing writes."""
    from tests.conftest import run_build

    root = copy_project(tmp_path / "project")
    assert run_build(root).returncode == 0
    page = root / "docs" / "glossary.md"
    page.write_text(page.read_text(encoding="utf-8") + "\n\nA sentence only search knows.\n")
    assert run_build(root).returncode == 0
    incremental = (root / "site" / "search" / "search_index.json").read_bytes()
    assert b"A sentence only search knows." in incremental
    clean = tmp_path / "clean"
    shutil.copytree(root, clean, ignore=shutil.ignore_patterns(".cache", "site", ".build"))
    assert run_build(clean).returncode == 0
    fresh = (clean / "site" / "search" / "search_index.json").read_bytes()
    assert fresh == incremental, _index_difference(incremental, fresh)


def _index_difference(incremental: bytes, clean: bytes) -> str:
    """Which entries differ, by location, with the text of each side (a whole index is too long
    for a readable assertion message)."""
    a, b = json.loads(incremental), json.loads(clean)
    if a["config"] != b["config"]:
        return f"config: {a['config']} != {b['config']}"
    old = {e["location"]: e for e in a["docs"]}
    new = {e["location"]: e for e in b["docs"]}
    lines = (
        [f"only after the edit: {sorted(old.keys() - new.keys())}"]
        if old.keys() - new.keys()
        else []
    )
    lines += (
        [f"only in the clean build: {sorted(new.keys() - old.keys())}"]
        if new.keys() - old.keys()
        else []
    )
    for loc in [k for k in old if k in new and old[k] != new[k]]:
        lines.append(
            f"{loc}:\n  after the edit: {old[loc]!r:.600}\n  clean build:    {new[loc]!r:.600}"
        )
    if not lines:
        lines.append(f"same entries, other order: {[e['location'] for e in a['docs']][:40]}")
    return "\n".join(lines)


SERVE_TWICE = """
import shutil, sys
from pathlib import Path

from mkdocs.commands.build import build
from mkdocs.config import load_config


def main(site, path, old, new):
    config = load_config(config_file="mkdocs.yml", site_dir=site)
    config.plugins.on_startup(command="serve", dirty=False)
    build(config, serve_url="http://127.0.0.1:8000/")
    shutil.copytree(site, site + "-before")
    edited = Path(path)
    edited.write_text(edited.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    build(load_config(config_file="mkdocs.yml", site_dir=site), serve_url="http://127.0.0.1:8000/")


if __name__ == "__main__":
    main(*sys.argv[1:])
"""


def test_under_serve_a_page_stating_a_figure_shows_its_new_value(tmp_path):
    """Under `mkdocs serve` a page is converted again only when what it read changed
    (scripts/render_cache.py): after a CSV edit, the page that states the edited figure in its
    prose shows the new value, and a page that states none of that table is as it was."""
    import csv
    import io
    import re

    from scripts.chart_embed import format_value
    from scripts.load_data import load_package

    root = copy_project(tmp_path / "project")
    ident = re.search(r"\{\{ fig ([a-z0-9_]+) \}\}", (root / "docs" / "fee-flows.md").read_text())
    ident = ident.group(1)
    table = next(p for p in sorted((root / "data").glob("*.csv")) if f"\n{ident}," in p.read_text())
    line = next(x for x in table.read_text().splitlines() if x.startswith(f"{ident},"))
    header = table.read_text().splitlines()[0].split(",")
    cells = next(csv.reader([line]))
    cells[header.index("value")] = "13579"
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(cells)
    units = load_package(root / "data").units  # not a build's output: this file may run alone
    shown = format_value("13579", cells[header.index("unit")], units)

    driver = tmp_path / "serve_twice.py"
    driver.write_text(SERVE_TWICE)
    site = tmp_path / "site"
    env = {**os.environ, "PYTHONPATH": str(root), "NO_MKDOCS_2_WARNING": "1"}
    run = subprocess.run(
        [sys.executable, str(driver), str(site), str(table), line, buf.getvalue()],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    before = Path(f"{site}-before")
    assert shown not in (before / "fee-flows" / "index.html").read_text()
    assert shown in (site / "fee-flows" / "index.html").read_text(), f"{ident} still stale"
    glossary = "glossary/index.html"
    assert (site / glossary).read_bytes() == (before / glossary).read_bytes()


def test_ctrl_c_stops_serve_quietly_and_completely(tmp_path):
    """Ctrl+C in the terminal (SIGINT to the whole process group) stops `mkdocs serve` and the
    chart process it keeps warm, with no traceback or warning on the way out."""
    root = copy_project(tmp_path / "project")
    _ctrl_c_serve(root, ready=lambda log: "Serving on" in log, settle=3)  # chart process up


def test_ctrl_c_stops_serve_while_the_notebook_runs(tmp_path):
    """Ctrl+C while the notebook re-runs in the background (its process busy with cells) stops
    the server and the run, which has a session of its own: no Ctrl+C reaches it."""
    root = copy_project(tmp_path / "project")
    page = root / "docs" / "methodology.ipynb"
    notebook = json.loads(page.read_text(encoding="utf-8"))
    # A cell that keeps the run busy for longer than the test: Ctrl+C lands mid-run.
    slow = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None}
    notebook["cells"].insert(0, {**slow, "source": "import time\n\ntime.sleep(120)"})
    page.write_text(json.dumps(notebook, indent=1), encoding="utf-8")

    def kernel_busy(log: str) -> bool:
        return "re-running in the background" in log and any(
            b"scripts.build_notebooks" in _cmdline(p) for p in _processes_in(root)
        )

    _ctrl_c_serve(root, ready=kernel_busy, settle=4)  # its start-up done, in the sleep


def _ctrl_c_serve(root: Path, ready, settle: float) -> None:
    """Start `mkdocs serve` in root, wait for ready(log) and settle seconds, press Ctrl+C;
    assert it stops quietly and leaves no process of its own or working in root."""
    import signal
    import threading
    import time

    from scripts.serve_latency import _free_port

    env = {**os.environ, "PYTHONPATH": str(root), "NO_MKDOCS_2_WARNING": "1"}
    server = subprocess.Popen(
        [sys.executable, "-m", "mkdocs", "serve", "--dev-addr", f"127.0.0.1:{_free_port()}"],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a process group of its own, as a terminal gives it
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(server.stderr), daemon=True).start()
    end = time.monotonic() + 300
    while not ready("".join(lines)) and time.monotonic() < end and server.poll() is None:
        time.sleep(0.1)
    time.sleep(settle)
    os.killpg(server.pid, signal.SIGINT)
    try:
        server.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        pytest.fail("mkdocs serve did not stop within 60 s of Ctrl+C")
    left = []
    for _ in range(100):
        time.sleep(0.1)
        left = [p for p in Path("/proc").glob("[0-9]*") if _group_of(p) == server.pid]
        left += _processes_in(root)
        if not left:
            break
    named = [_cmdline(p)[:200] for p in left]
    for proc in left:  # a failure here leaves no busy run behind for the rest of the tests
        with contextlib.suppress(OSError, ValueError):
            os.kill(int(proc.name), signal.SIGKILL)
    log = "".join(lines)
    assert "Shutting down" in log, log[-2000:]
    assert "Traceback" not in log and "Exception ignored" not in log, log[-3000:]
    assert "leaked" not in log, log[-2000:]
    assert not left, named


def _processes_in(root: Path) -> list[Path]:
    """Processes whose working folder is root (a notebook run works there)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if Path(os.readlink(proc / "cwd")) == root:
                found.append(proc)
        except OSError:
            continue
    return found


def _cmdline(proc: Path) -> bytes:
    try:
        return proc.joinpath("cmdline").read_bytes()
    except OSError:
        return b""


def _group_of(proc: Path) -> int | None:
    try:
        return int(proc.joinpath("stat").read_text().rsplit(")", 1)[1].split()[2])
    except (OSError, IndexError, ValueError):
        return None
