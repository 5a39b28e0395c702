"""Measure the live preview: edit a page, a CSV or a chart module under `mkdocs serve`, and time
how long until the open browser shows the change. Counts the builds each edit caused, so a
rebuild loop shows up as a number greater than one.

It works on a scratch copy of the project (the copy gets the edits, never your tree), serves it
on a free port on 127.0.0.1, and drives Debian's Chromium through Playwright.

    python -m scripts.serve_latency [--runs 3]      # prints JSON: seconds and builds per edit

From Python (scripts/bench.py): `measure(ROOT, runs=3)` returns the same dict.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from scripts.chromium import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parent.parent
IGNORE = shutil.ignore_patterns(
    ".git", ".venv", "site", ".build", "node_modules", ".pytest_cache", ".ruff_cache", "__pycache__"
)


@dataclass
class Edit:
    """One change a contributor makes, the page to watch, and the text that proves it arrived."""

    name: str
    page: str  # URL path of the page the browser has open
    apply: Callable[[Path, str], None]  # (project root, unique marker) -> None
    shows: Callable[[str], str]  # marker -> text the page must then contain


def _edit_page(root: Path, marker: str) -> None:
    page = root / "docs" / "glossary.md"
    page.write_text(page.read_text(encoding="utf-8") + f"\n\nEdited: {marker}.\n", encoding="utf-8")


def _edit_csv(root: Path, marker: str) -> None:
    """Set CAAM's 2014 NEV sales to a value whose digits spell the marker."""
    path = root / "data" / "nev_market_annual.csv"
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    header = rows[0]
    for row in rows[1:]:
        if row[header.index("id")] == "caam_nev_sales_2014":
            row[header.index("value")] = str(int(marker) * 1000)
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def _edit_chart(root: Path, marker: str) -> None:
    """Retitle the y axis of the home page's lead chart (its static SVG shows the title)."""
    path = root / "charts" / "nev_sales_caam.py"
    text = path.read_text(encoding="utf-8")
    edited = re.sub(r'title="NEV sales[^"]*"', f'title="NEV sales {marker}"', text, count=1)
    if edited == text:
        raise RuntimeError(f"{path}: no y-axis title starting 'NEV sales' to edit")
    path.write_text(edited, encoding="utf-8")


EDITS = [
    Edit("page", "glossary/", _edit_page, lambda m: f"Edited: {m}."),
    # 2014 value = marker thousand vehicles: the data table shows marker / 1000 million.
    Edit("csv", "", _edit_csv, lambda m: f"{int(m) / 1000:,.6g}"),
    Edit("chart", "", _edit_chart, lambda m: f"NEV sales {m}"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Serve:
    """`mkdocs serve` in a scratch project, with its log read as it comes."""

    def __init__(self, root: Path, port: int) -> None:
        env = {**os.environ, "PYTHONPATH": str(root), "NO_MKDOCS_2_WARNING": "1"}
        cmd = [sys.executable, "-m", "mkdocs", "serve", "--dev-addr", f"127.0.0.1:{port}"]
        self.proc = subprocess.Popen(
            [*cmd, "--livereload"],
            cwd=root,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self.stamped: list[str] = []
        self.url = f"http://127.0.0.1:{port}/"
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        start = time.monotonic()
        for line in self.proc.stderr:
            self.lines.append(line.rstrip())
            self.stamped.append(f"{time.monotonic() - start:8.2f} {line.rstrip()}")

    def builds(self) -> int:
        return sum("Building documentation" in line for line in self.lines)

    def wait_for(self, text: str, timeout: float = 300) -> None:
        end = time.monotonic() + timeout
        while not any(text in line for line in self.lines):
            if self.proc.poll() is not None or time.monotonic() > end:
                raise RuntimeError("mkdocs serve did not start:\n" + "\n".join(self.lines[-30:]))
            time.sleep(0.05)

    def running(self) -> int:
        """Background notebook runs started and not yet finished."""
        started = sum("re-running in the background" in line for line in self.lines)
        done = sum(": ran; " in line or ": failed; " in line for line in self.lines)
        return started - done

    def wait_quiet(self, seconds: float, timeout: float = 60) -> None:
        """Wait until no notebook runs and the log has been silent for seconds."""
        end = time.monotonic() + timeout
        count, since = len(self.lines), time.monotonic()
        while time.monotonic() < end:
            time.sleep(0.1)
            if len(self.lines) != count or self.running():
                count, since = len(self.lines), time.monotonic()
            elif time.monotonic() - since >= seconds:
                return
        raise RuntimeError("mkdocs serve never went quiet: a rebuild loop?")

    def children(self) -> list[int]:
        """The server's child processes (a chart worker, a notebook kernel), from /proc."""
        out = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, IndexError, ValueError):
                if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == self.proc.pid:
                    out.append(int(stat.parent.name))
        return out

    def stop(self) -> list[int]:
        """Stop the server as Ctrl+C's neighbour SIGTERM does; return the pids of its children
        still running 5 s later (none, unless something leaks)."""
        children = self.children()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        end = time.monotonic() + 5
        while time.monotonic() < end and any(Path(f"/proc/{c}").exists() for c in children):
            time.sleep(0.1)
        left = [c for c in children if Path(f"/proc/{c}").exists()]
        for pid in left:  # do not leave them to the next run
            with contextlib.suppress(OSError):
                os.kill(pid, 9)
        return left


def _wait_for_text(page, text: str, timeout: float) -> float:
    """Poll the open page (across live reloads) until it contains text; return when it did."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if page.evaluate("t => document.body.textContent.includes(t)", text):
                return time.monotonic()
        except Exception:  # the page is reloading; ask again
            pass
        time.sleep(0.02)
    raise TimeoutError(f"the browser never showed {text!r}")


def measure(
    root: Path = ROOT,
    runs: int = 3,
    edits: list[Edit] | None = None,
    timeout: float = 30,
    browser=None,
) -> dict:
    """Return, per edit: the median seconds until the browser shows it, and builds per edit.

    browser: a Playwright browser to use (the tests share theirs); else Chromium is started.
    """
    edits = edits or EDITS
    scratch = Path(tempfile.mkdtemp(prefix="serve-latency-"))
    project = scratch / "project"
    shutil.copytree(root, project, ignore=IGNORE)
    server = Serve(project, _free_port())
    results: dict = {}
    try:
        started = time.monotonic()
        server.wait_for("Serving on")
        results["startup_seconds"] = round(time.monotonic() - started, 2)
        server.wait_quiet(3.0)  # the first build's own notebook run, if any
        with _browser(browser) as chromium:
            page = chromium.new_page()
            for n, edit in enumerate(edits):
                seconds, builds, notebook_builds = [], [], []
                for run in range(runs):
                    page.goto(server.url + edit.page)
                    page.wait_for_load_state("load")
                    time.sleep(0.6)  # livereload's long poll is open; the watcher has a snapshot
                    before, lines_before = server.builds(), len(server.lines)
                    marker = f"{70011 + n * 1000 + run * 10}"
                    t0 = time.monotonic()
                    edit.apply(project, marker)
                    shown = _wait_for_text(page, edit.shows(marker), timeout)
                    seconds.append(shown - t0)
                    server.stamped.append(
                        f"--- {edit.name} run {run}: shown after {shown - t0:.2f}s"
                    )
                    server.wait_quiet(3.0)  # a loop would never go quiet
                    builds.append(server.builds() - before)
                    notebook_builds.append(sum(": ran; " in x for x in server.lines[lines_before:]))
                results[edit.name] = {
                    "median_seconds": round(statistics.median(seconds), 2),
                    "seconds": [round(s, 2) for s in seconds],
                    "builds_per_edit": builds,
                    # of which: a notebook's background re-run landing (one rebuild each)
                    "notebook_result_builds": notebook_builds,
                }
            page.close()
    finally:
        results["left_running"] = server.stop()
        results["errors"] = [x for x in server.lines if "ERROR" in x or "Traceback" in x][-5:]
        if os.environ.get("SERVE_LATENCY_LOG"):
            Path(os.environ["SERVE_LATENCY_LOG"]).write_text("\n".join(server.stamped) + "\n")
        shutil.rmtree(scratch, ignore_errors=True)
    return results


@contextlib.contextmanager
def _browser(given=None):
    if given is not None:
        yield given
        return
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="edits of each kind (median)")
    args = parser.parse_args(argv)
    print(json.dumps(measure(runs=args.runs), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
