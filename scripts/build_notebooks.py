"""Build step: run every notebook in docs/, staging executed copies for docs/generated/notebooks/.

MkDocs renders the executed copy (mkdocs-jupyter with execute: false; scripts/mkdocs_hooks.py
points the page at it), so the page always shows what the current data and code produce, and
mkdocs-jupyter's own cache, which keys on the notebook file alone, can never serve outputs of
old data.

Execution is cached under .cache/notebooks/ by a hash of exactly its inputs: the cells, the tables
it reads (all of data/, unless the notebook's metadata narrows it with
`"explainer": {"tables": ["nev_market_annual"]}`), every project module it imports (followed
through their imports, see scripts/fingerprint.py) and the versions of Python, the kernel and the
libraries. A cell that raises stops the build, naming the notebook, the cell and the line.
"""

from __future__ import annotations

import ast
import contextlib
import json
import logging
import os
import re
import subprocess
import threading
from pathlib import Path

from scripts import fingerprint
from scripts.build_error import BuildError

LIBRARIES = ("altair", "pandas", "vl-convert-python", "ipykernel", "nbclient", "nbformat")
TIMEOUT = 120  # seconds per cell
ANSI = re.compile(r"\x1b\[[0-9;]*m")
KEEP = 3  # executed copies kept per notebook, so undoing an edit is instant too
LOG = logging.getLogger("mkdocs.explainer.build_notebooks")
IDLE = "idle"  # in the background registry: a threading.Event set while no build runs


def notebook_paths(docs: Path) -> list[Path]:
    """Return the notebooks under docs/ that are pages (not generated copies or checkpoints)."""
    return sorted(
        p
        for p in docs.rglob("*.ipynb")
        if "generated" not in p.relative_to(docs).parts[:1] and ".ipynb_checkpoints" not in p.parts
    )


def read(path: Path, rel: str) -> dict:
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise BuildError(
            rel,
            f"not a valid notebook (invalid JSON: {err.msg})",
            line=err.lineno,
            expected="a notebook saved by Jupyter (or fix the JSON just before this point)",
        ) from None
    if not isinstance(nb.get("cells"), list):
        raise BuildError(rel, "not a notebook: no list of cells", expected="a Jupyter notebook")
    return nb


def _code(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def reads_tables(nb: dict, pkg) -> list[str]:
    """Return the tables the notebook depends on: as its metadata declares, else all."""
    declared = nb.get("metadata", {}).get("explainer", {}).get("tables")
    return sorted(declared) if declared else sorted(pkg.tables)


def input_key(nb: dict, root: Path, pkg) -> str:
    """Hash exactly what the executed notebook depends on."""
    cells = [(c.get("cell_type"), _code(c)) for c in nb["cells"]]
    modules: set[Path] = set()
    for kind, code in cells:
        if kind != "code":
            continue
        # IPython magics and shell lines are not Python; the rest is parsed for imports.
        python = "\n".join(
            "" if line.lstrip().startswith(("%", "!")) else line for line in code.splitlines()
        )
        with contextlib.suppress(SyntaxError):  # it will fail when run, and say where
            modules |= fingerprint.local_imports(ast.parse(python), root)
    parts = [json.dumps(cells, ensure_ascii=False)]
    parts.append(json.dumps(nb.get("metadata", {}).get("kernelspec", {}), sort_keys=True))
    for path in sorted(modules):
        parts.append(path.relative_to(root.resolve()).as_posix())
        parts.append(fingerprint.code_digest(path.read_bytes()))
    for table in reads_tables(nb, pkg):
        parts.append(table + fingerprint.table_digest(pkg, table))
    parts.append(fingerprint.versions(*LIBRARIES))
    return fingerprint.sha(*parts)[:20]


def execute(path: Path, root: Path, rel: str, nice: int = 0) -> bytes:
    """Run the notebook in a fresh kernel (cwd: root); return it with outputs, as bytes.

    nice: the kernel's CPU priority (under serve it yields to the build a contributor awaits).
    """
    import nbformat
    from jupyter_client.kernelspec import NoSuchKernel
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, DeadKernelError

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=TIMEOUT,
        resources={"metadata": {"path": str(root)}},
        record_timing=False,  # no timestamps in the output: two builds stay byte-identical
        allow_errors=False,
    )
    try:
        client.execute(
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=(lambda: os.nice(nice)) if nice else None,
        )
    except CellExecutionError as err:
        raise _cell_error(nb, rel, err) from None
    except NoSuchKernel as err:
        raise BuildError(
            rel,
            f"no Jupyter kernel named '{err.name}'",
            field="metadata.kernelspec",
            expected="python3 (ipykernel, installed by make)",
        ) from None
    except (DeadKernelError, TimeoutError) as err:
        raise BuildError(rel, f"the kernel stopped: {err}", expected="cells that finish") from None
    return nbformat.writes(nb).encode() + b"\n"


def _cell_error(nb, rel: str, err) -> BuildError:
    for number, cell in enumerate(nb.cells, start=1):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                trace = ANSI.sub("", "\n".join(out.get("traceback", [])))
                lines = re.findall(r"Cell In\[\d+\], line (\d+)", trace)
                return BuildError(
                    rel,
                    f"{out.get('ename')}: {out.get('evalue')}".rstrip(": "),
                    cell=number,
                    line=int(lines[0]) if lines else None,
                    expected="every cell to run without an error (the page shows its outputs)",
                )
    return BuildError(rel, f"a cell failed: {str(err).strip().splitlines()[-1]}")


def _store(cache: Path, slug: str, hit: Path, data: bytes) -> None:
    """Keep the newest KEEP executed copies of a notebook, then write this one atomically."""
    cache.mkdir(parents=True, exist_ok=True)
    old = sorted(cache.glob(f"{slug}-*.ipynb"), key=lambda p: p.stat().st_mtime)
    for stale in old[: max(0, len(old) - KEEP + 1)]:
        stale.unlink(missing_ok=True)
    tmp = cache / f".{hit.name}.tmp"
    tmp.write_bytes(data)
    tmp.replace(hit)


def placeholder(nb: dict) -> bytes:
    """The notebook's cells without outputs, under a note that they are being computed."""
    note = {
        "cell_type": "markdown",
        "metadata": {},
        "source": '!!! note "Re-running with the latest data and code"\n\n'
        "    The outputs of this notebook are being computed again; this page reloads with them "
        "in a few seconds. (Only under `make serve`: a published build always runs it first.)",
    }
    cells = [
        {**c, "outputs": [], "execution_count": None} if c.get("cell_type") == "code" else c
        for c in nb["cells"]
    ]
    head = [c for c in cells[:1] if c.get("cell_type") == "markdown"]  # keep the title first
    body = {**nb, "cells": [*head, note, *cells[len(head) :]]}
    return (json.dumps(body, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode()


def _run_in_background(jobs: dict, key: str, path: Path, root: Path, rel: str, store) -> None:
    """Under `mkdocs serve`: execute in a thread; the result (or the error) lands in the cache,
    where the server watches it, so it triggers the one rebuild that shows it."""
    if key in jobs:
        return

    def job() -> None:
        # Start once the build that asked for it is done: on two cores a kernel starting up
        # next to the build would slow down the very edit the contributor is waiting for.
        idle = jobs.get(IDLE)
        if isinstance(idle, threading.Event):
            idle.wait(timeout=30)
        LOG.info(f"{rel}: re-running in the background")
        try:
            store(execute(path, root, rel, nice=10))
            LOG.info(f"{rel}: ran; its page updates with the next build")
        except BuildError as err:
            LOG.info(f"{rel}: failed; the next build reports why")
            jobs[key] = err
            store(None, err)
        except Exception as err:  # a bug of ours: say so on the next build
            jobs[key] = BuildError(rel, f"running the notebook failed: {err!r}")
            store(None, jobs[key])

    jobs[key] = threading.Thread(target=job, name=f"notebook {rel}", daemon=True)
    jobs[key].start()


def build(root: Path, pkg, background: dict | None = None) -> tuple[dict[str, bytes], list[str]]:
    """Execute (or reuse) every notebook; return staged files and the notebooks that ran.

    With background (a dict that outlives rebuilds, kept by `mkdocs serve`'s hook), a notebook
    whose inputs changed runs in a thread and its page shows a placeholder (never old outputs)
    until the result is in; a cell that raised fails the build once the run has finished.
    """
    docs, cache = root / "docs", root / ".cache" / "notebooks"
    staged: dict[str, bytes] = {}
    ran: list[str] = []
    for path in notebook_paths(docs):
        rel_docs = path.relative_to(docs).as_posix()
        rel = f"docs/{rel_docs}"
        nb = read(path, rel)
        key = input_key(nb, root, pkg)
        slug = rel_docs.replace("/", "__").removesuffix(".ipynb")
        hit = cache / f"{slug}-{key}.ipynb"
        if hit.is_file():
            data = hit.read_bytes()
            if background is None:
                hit.touch()  # recently used: kept longest (not under serve: it watches mtimes)
        elif background is not None:
            failed = background.get(key)
            if isinstance(failed, BuildError):
                raise failed

            def store(data, err=None, hit=hit, slug=slug) -> None:
                if data is not None:
                    _store(cache, slug, hit, data)
                else:  # wake the server: the next build reports the error
                    cache.mkdir(parents=True, exist_ok=True)
                    (cache / f"{slug}.failed").write_text(str(err), encoding="utf-8")

            _run_in_background(background, key, path, root, rel, store)
            data = placeholder(nb)
            ran.append(rel)
        else:
            data = execute(path, root, rel)
            _store(cache, slug, hit, data)
            ran.append(rel)
        staged[f"notebooks/{rel_docs}"] = data
    return staged, ran
