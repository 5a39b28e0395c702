"""The methodology notebook's run: the page shows exactly what a Jupyter kernel process gives.

A build runs notebooks in ipykernel's in-process kernel, in a fork of the build (or a child
process under serve), not in a kernel process of their own. A reader must not be able to tell:
every output (printed text, tables, the chart) is the one nbclient records from a kernel process,
and the run knows every project file it read, the modules it imports included.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import nbformat
from nbclient import NotebookClient

from scripts.build_notebooks import join_printed
from tests.conftest import copy_project, run_build

RUN = """
import json, sys
from pathlib import Path
from scripts import build_notebooks as b
root = Path(sys.argv[1])
forks = b._can_fork()
result = b.Run(root / "docs" / "methodology.ipynb", root, "docs/methodology.ipynb").result()
if isinstance(result, Exception):
    raise SystemExit(str(result))
data, files = result
Path(sys.argv[2]).write_bytes(data)
Path(sys.argv[3]).write_text(json.dumps({"forks": forks, "files": files}))
"""


def test_a_build_s_notebook_run_gives_a_kernel_process_s_outputs(tmp_path):
    root = copy_project(tmp_path / "project")
    ours, meta = tmp_path / "ours.ipynb", tmp_path / "meta.json"
    env = {**os.environ, "PYTHONPATH": str(root)}
    run = subprocess.run(
        [sys.executable, "-c", RUN, str(root), str(ours), str(meta)],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    said = json.loads(meta.read_text())
    assert said["forks"], "a fresh build process should run its notebook in a fork"

    nb = nbformat.read(root / "docs" / "methodology.ipynb", as_version=4)
    client = NotebookClient(
        nb, timeout=120, resources={"metadata": {"path": str(root)}}, record_timing=False
    )
    client.execute(env=env)
    for cell in nb.cells:  # a print's text and newline may come apart in either run
        if cell.cell_type == "code":
            join_printed(cell)
    theirs = nbformat.writes(nb).encode() + b"\n"
    assert sum(len(c.get("outputs", [])) for c in nb.cells) >= 8  # printed text, tables, chart
    assert ours.read_bytes() == theirs

    files = said["files"]
    for read in ("data/deliveries.csv", "charts/nev_sales_caam.py", "scripts/load_data.py"):
        assert read in files, f"the run's inputs miss {read}: {sorted(files)}"


def test_a_build_that_runs_the_notebook_publishes_its_outputs_not_the_placeholder(tmp_path):
    """The pages before the notebook's are built while it runs (scripts/mkdocs_hooks.py); its own
    page and the .ipynb beside it must still be the finished run, after a data edit too."""
    from scripts.bench import _touch_csv
    from scripts.build_notebooks import NOTE_TITLE

    root = copy_project(tmp_path / "project")
    assert run_build(root).returncode == 0
    _touch_csv(root / "data" / "deliveries.csv", 1)  # a note edited: the notebook runs again
    result = run_build(root)
    assert result.returncode == 0, result.stderr
    page = (root / "site" / "methodology" / "index.html").read_text(encoding="utf-8")
    assert NOTE_TITLE not in page, "the page was published with the placeholder"
    assert "Our calculations, recomputed" in page and "data:image/svg+xml" in page
    published = nbformat.reads(
        (root / "site" / "methodology" / "methodology.ipynb").read_text(encoding="utf-8"), 4
    )
    code = [c for c in published.cells if c.cell_type == "code"]
    assert sum(bool(c.outputs) for c in code) >= len(code) - 1, "published without its outputs"
