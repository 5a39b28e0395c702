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
import re
import subprocess
from pathlib import Path

from scripts import fingerprint
from scripts.build_error import BuildError

LIBRARIES = ("altair", "pandas", "vl-convert-python", "ipykernel", "nbclient", "nbformat")
TIMEOUT = 120  # seconds per cell
ANSI = re.compile(r"\x1b\[[0-9;]*m")
KEEP = 3  # executed copies kept per notebook, so undoing an edit is instant too


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


def execute(path: Path, root: Path, rel: str) -> bytes:
    """Run the notebook in a fresh kernel (cwd: root); return it with outputs, as bytes."""
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
        client.execute(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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


def build(root: Path, pkg) -> tuple[dict[str, bytes], list[str]]:
    """Execute (or reuse) every notebook; return staged files and the notebooks that ran."""
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
            hit.touch()  # recently used: kept longest
        else:
            data = execute(path, root, rel)
            cache.mkdir(parents=True, exist_ok=True)
            tmp = hit.with_suffix(".tmp")
            tmp.write_bytes(data)
            tmp.replace(hit)
            old = sorted(cache.glob(f"{slug}-*.ipynb"), key=lambda p: p.stat().st_mtime)
            for stale in old[:-KEEP]:
                stale.unlink(missing_ok=True)
            ran.append(rel)
        staged[f"notebooks/{rel_docs}"] = data
    return staged, ran
