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

from tests.conftest import copy_project

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
    theirs = nbformat.writes(nb).encode() + b"\n"
    assert sum(len(c.get("outputs", [])) for c in nb.cells) >= 8  # printed text, tables, chart
    assert ours.read_bytes() == theirs

    files = said["files"]
    for read in ("data/deliveries.csv", "charts/nev_sales_caam.py", "scripts/load_data.py"):
        assert read in files, f"the run's inputs miss {read}: {sorted(files)}"
