"""Build step: run every notebook in docs/, staging executed copies for docs/generated/notebooks/.

The page shows the executed copy, so it always shows what the current data and code produce.
The copy is turned into the page's HTML, table of contents and title here too, by mkdocs-jupyter's
converter with the options its MkDocs plugin would use (render_page), and kept beside it as
<name>.ipynb.page.json; scripts/mkdocs_hooks.py only hands that to MkDocs. So the site needs no
MkDocs plugin for notebooks (another generator can read the same file), and a build whose
notebooks are cached never imports nbconvert (1.6 s).

A run is cached under .cache/notebooks/ with the list of exactly the project files it read and
their hashes. Which files those are is not guessed from the code: the kernel records every file
it opens under the project (scripts/notebook_trace.py), imports and data reads alike, so a
notebook that loads the whole data package depends on every table, one that reads a single CSV
on that CSV, and one that finds a chart's name in docs/index.md on that page. The cached run is
reused while the cells, the libraries' versions and every one of those files are unchanged;
otherwise the notebook runs again. A cell that raises stops the build, naming the notebook, the
cell and the line.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from scripts import fingerprint
from scripts.build_error import BuildError
from scripts.notebook_trace import source_of

LIBRARIES = ("altair", "pandas", "vl-convert-python", "ipykernel", "nbclient", "nbformat")
RENDERERS = ("mkdocs-jupyter", "nbconvert", "pygments")  # what render_page's output depends on
TIMEOUT = 120  # seconds per cell
ANSI = re.compile(r"\x1b\[[0-9;]*m")
KEEP = 3  # runs kept per notebook, so undoing an edit is instant too
LOG = logging.getLogger("mkdocs.explainer.build_notebooks")
IDLE = "idle"  # in the background registry: a threading.Event set while no build runs
# What a run may open but never depends on: caches, outputs, the environment's own metadata.
NOT_INPUTS = re.compile(r"^(\.cache|\.build|site|\.git|\.venv|node_modules)(/|$)|\.egg-info(/|$)")
TRACE = "__import__('scripts.notebook_trace').notebook_trace.install()"


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


def notebook_key(nb: dict) -> str:
    """Hash what is known before running: the cells, the kernel and the library versions."""
    cells = [(c.get("cell_type"), _code(c)) for c in nb["cells"]]
    kernel = nb.get("metadata", {}).get("kernelspec", {})
    return fingerprint.sha(
        json.dumps(cells, ensure_ascii=False),
        json.dumps(kernel, sort_keys=True),
        fingerprint.versions(*LIBRARIES),
        Path(__file__).with_name("notebook_trace.py").read_bytes(),
    )[:20]


def file_hashes(root: Path, files: list[str]) -> dict[str, str]:
    """Hash each project path (relative to root) as it is now: a file by its bytes, a folder by
    the names in it (a notebook that lists data/ depends on which tables there are)."""
    out = {}
    for rel in files:
        path = root / rel
        if path.is_file():
            out[rel] = fingerprint.sha(path.read_bytes())
        elif path.is_dir():
            out[rel] = fingerprint.sha("\n".join(sorted(os.listdir(path))))
        else:
            out[rel] = "missing"
    return out


def execute(path: Path, root: Path, rel: str) -> tuple[bytes, dict[str, str]]:
    """Run the notebook in a fresh kernel (cwd: root); return it with outputs, and the project
    files it read with their hashes. Raise BuildError naming the cell that failed.
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
        extra_arguments=[f"--IPKernelApp.exec_lines={TRACE}"],
    )
    if _CLIENTS is not None:
        _CLIENTS.append(client)
    with tempfile.NamedTemporaryFile(prefix="notebook-trace-", suffix=".txt") as trace:
        env = {**os.environ, "EXPLAINER_ROOT": str(root), "EXPLAINER_TRACE": trace.name}
        env["PYTHONPATH"] = _pythonpath(root)
        started = time.time_ns()
        try:
            client.execute(
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
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
            raise BuildError(
                rel, f"the kernel stopped: {err}", expected="cells that finish"
            ) from None
        read_files = Path(trace.name).read_text(encoding="utf-8").splitlines()
    deps = sorted(
        {
            Path(source_of(p)).resolve().relative_to(root.resolve()).as_posix()
            for p in read_files
            if Path(source_of(p)).resolve().is_relative_to(root.resolve())
        }
        - {""}
    )
    deps = [d for d in deps if not NOT_INPUTS.search(d) and "__pycache__" not in d]
    changed = [d for d in deps if (root / d).is_file() and (root / d).stat().st_mtime_ns >= started]
    hashes = file_hashes(root, deps)
    if changed:  # edited while it ran: what it read is not what is there now; never cache it
        hashes = {**hashes, changed[0]: "changed during the run"}
    return nbformat.writes(nb).encode() + b"\n", hashes


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


def render_page(data: bytes, filename: str) -> bytes:
    """An executed notebook as its page: {"content": HTML, "toc_tokens": [...], "title": ...},
    converted as mkdocs-jupyter's plugin does with this site's options (execute: false,
    include_source: true, everything else its default)."""
    from mkdocs_jupyter import convert
    from mkdocs_jupyter.plugin import _get_nb_toc_tokens

    # Its progress notes ("Converting notebook ...") are not news for a contributor.
    logging.getLogger("mkdocs.mkdocs-jupyter").setLevel(logging.WARNING)
    logging.getLogger("traitlets").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="notebook-page-") as tmp:
        path = Path(tmp) / filename  # the converter names things after the file: keep its name
        path.write_bytes(data)
        content = convert.nb2html(
            str(path),
            execute=False,
            kernel_name="",
            theme="",
            allow_errors=True,
            show_input=True,
            no_input=False,
            no_prompt=False,
            remove_tag_config={},
            highlight_extra_classes="",
            include_requirejs=False,
            custom_mathjax_url="",
        )
        toc_tokens, title = _get_nb_toc_tokens(str(path), 6)
    page = {"content": content, "toc_tokens": toc_tokens, "title": title}
    return (json.dumps(page, ensure_ascii=False, sort_keys=True) + "\n").encode()


def cached_page(cache: Path, slug: str, data: bytes, filename: str) -> bytes:
    """render_page, cached by the executed notebook's bytes and the converter's versions."""
    key = fingerprint.sha(data, filename, fingerprint.versions(*RENDERERS))[:20]
    # Beside the runs, not among them: store() prunes that folder, and `mkdocs serve` watches it
    # for background results (a page written there would trigger a second rebuild).
    pages = cache.parent / "notebook-pages"
    path = pages / f"{slug}-{key}.json"
    if path.is_file():
        return path.read_bytes()
    page = render_page(data, filename)
    pages.mkdir(parents=True, exist_ok=True)
    old = sorted(pages.glob(f"{slug}-*.json"), key=_mtime)
    for stale in old[: max(0, len(old) - KEEP + 1)]:
        stale.unlink(missing_ok=True)
    tmp = pages / f".{path.name}.tmp"
    tmp.write_bytes(page)
    tmp.replace(path)
    return page


# --- the cache: one executed notebook and one manifest of what it read, per run -------------------


def lookup(cache: Path, slug: str, key: str, root: Path) -> Path | None:
    """Return the cached run of this notebook whose every input file is unchanged, if any."""
    for manifest in sorted(cache.glob(f"{slug}-{key}-*.json"), key=_mtime, reverse=True):
        try:
            files = json.loads(manifest.read_text(encoding="utf-8"))["files"]
        except (OSError, ValueError, KeyError):
            continue
        result = manifest.with_suffix(".ipynb")
        if result.is_file() and file_hashes(root, list(files)) == files:
            return result
    return None


def store(cache: Path, slug: str, key: str, data: bytes, files: dict[str, str]) -> None:
    """Keep this run (and the newest KEEP - 1 before it); write atomically, notebook first."""
    cache.mkdir(parents=True, exist_ok=True)
    run = fingerprint.sha(json.dumps(files, sort_keys=True))[:12]
    old = sorted(cache.glob(f"{slug}-*.json"), key=_mtime)
    for stale in old[: max(0, len(old) - KEEP + 1)]:
        stale.unlink(missing_ok=True)
        stale.with_suffix(".ipynb").unlink(missing_ok=True)
    for orphan in cache.glob(f"{slug}-*.ipynb"):  # a run without its manifest is never used
        if not orphan.with_suffix(".json").exists():
            orphan.unlink(missing_ok=True)
    base = cache / f"{slug}-{key}-{run}"
    for suffix, content in (
        (".ipynb", data),
        (".json", (json.dumps({"files": files}, indent=1, sort_keys=True) + "\n").encode()),
    ):
        tmp = cache / f".{base.name}{suffix}.tmp"
        tmp.write_bytes(content)
        tmp.replace(base.with_suffix(suffix))


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


NOTE_TITLE = "Re-running with the latest data and code"
NOTE_TEXT = (
    "The outputs of this notebook are being computed again; this page reloads with them in a "
    "few seconds. (Only under <code>make serve</code>: a published build always runs it first.)"
)


def placeholder(nb: dict) -> bytes:
    """The notebook's cells without outputs (published beside its page meanwhile)."""
    cells = [
        {**c, "outputs": [], "execution_count": None} if c.get("cell_type") == "code" else c
        for c in nb["cells"]
    ]
    return (json.dumps({**nb, "cells": cells}, indent=1, sort_keys=True) + "\n").encode()


def placeholder_page(nb: dict) -> bytes:
    """The page meanwhile: the notebook's title and a note that its outputs are coming. Written
    here, not converted: the conversion would hold up the very rebuild a contributor awaits."""
    first = next((c for c in nb["cells"] if c.get("cell_type") == "markdown"), None)
    heading = re.search(r"^#\s+(.+?)\s*$", _code(first) if first else "", re.M)
    note = (
        f'<div class="admonition note"><p class="admonition-title">{NOTE_TITLE}</p>'
        f"<p>{NOTE_TEXT}</p></div>"
    )
    page = {"content": note, "toc_tokens": [], "title": heading.group(1) if heading else None}
    return (json.dumps(page, ensure_ascii=False, sort_keys=True) + "\n").encode()


# --- under `mkdocs serve`: run in the background -----------------------------------------------


STOPPING = "stopping"  # in the background registry: set when the server stops
RUNS = "runs"  # in the background registry: the processes running notebooks now
_RUNS_LOCK = threading.Lock()


def _in_background(jobs: dict, key: str, path: Path, root: Path, rel: str, done) -> None:
    """Execute in a process of its own, watched by a thread, unless a run for this notebook is
    already going; done(result) or done(error) writes into the cache folder the server watches,
    so it triggers one rebuild."""
    running = jobs.get(rel)
    if isinstance(running, threading.Thread) and running.is_alive():
        return  # when it lands, the next build checks its inputs and runs again if they moved

    def job() -> None:
        # Start once the build that asked for it is done: on two cores a kernel starting up
        # next to the build would slow down the very edit the contributor is waiting for.
        idle = jobs.get(IDLE)
        if isinstance(idle, threading.Event):
            idle.wait(timeout=30)
        LOG.info(f"{rel}: re-running in the background")
        try:
            result = _execute_apart(jobs, path, root, rel)
        except Exception as err:  # a bug of ours: say so on the next build
            result = BuildError(rel, f"running the notebook failed: {err!r}")
        if result is None:
            return  # the server is stopping
        if isinstance(result, BuildError):
            LOG.info(f"{rel}: failed; the next build reports why")
            done(None, {}, result)
        else:
            done(*result)
            LOG.info(f"{rel}: ran; its page updates with the next build")

    jobs[rel] = threading.Thread(target=job, name=f"notebook {rel}", daemon=True)
    jobs[rel].start()


def _execute_apart(jobs: dict, path: Path, root: Path, rel: str):
    """execute() in a child process: (notebook, files), a BuildError, or None if the server
    stopped meanwhile. Not in a thread of the server: a kernel's ZeroMQ sockets held by a thread
    make the server's exit wait forever (pyzmq's context waits for every socket at exit), and a
    process, kernel and all, can be stopped with the server (stop_background)."""
    import pickle

    with tempfile.TemporaryDirectory(prefix="notebook-run-") as tmp:
        out = Path(tmp) / "result.pickle"
        command = [sys.executable, "-m", "scripts.build_notebooks", str(path), str(root), rel]
        with _RUNS_LOCK:
            if jobs.get(STOPPING):
                return None
            proc = subprocess.Popen(
                [*command, str(out)],
                cwd=root,
                env={**os.environ, "PYTHONPATH": _pythonpath(root)},
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # Ctrl+C in the terminal is the server's, not its
            )
            jobs.setdefault(RUNS, set()).add(proc)
        try:
            proc.wait()
        finally:
            with _RUNS_LOCK:
                jobs[RUNS].discard(proc)
        if jobs.get(STOPPING):
            return None
        if proc.returncode != 0 or not out.is_file():
            return BuildError(rel, f"the notebook's run stopped (exit code {proc.returncode})")
        return pickle.loads(out.read_bytes())


def stop_background(jobs: dict, wait: float = 5.0) -> None:
    """Stop every notebook run in progress, kernels included (as the server stops)."""
    import signal

    with _RUNS_LOCK:
        jobs[STOPPING] = True
        runs = list(jobs.get(RUNS, ()))
    for proc in runs:  # SIGHUP: nbclient takes SIGTERM and SIGINT over, for a slow shutdown
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGHUP)
    deadline = time.monotonic() + wait
    for proc in runs:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _pythonpath(root: Path) -> str:
    return os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))


_CLIENTS: list | None = None  # in _run_apart's process: its notebook clients (their kernels)


def _run_apart(path: str, root: str, rel: str, out: str) -> None:
    """The child of _execute_apart: run at low CPU priority (under serve it yields to the build a
    contributor awaits) and leave the result, or the BuildError, in out. Stopped, it stops its
    kernel first (a kernel runs in a session of its own: it would outlive this process)."""
    import pickle
    import signal

    global _CLIENTS
    _CLIENTS = []

    def stop(signum, frame) -> None:
        for client in _CLIENTS:
            pid = getattr(getattr(getattr(client, "km", None), "provisioner", None), "pid", None)
            if pid:
                with contextlib.suppress(OSError):
                    os.killpg(pid, signal.SIGKILL)
        os._exit(128 + signum)

    signal.signal(signal.SIGHUP, stop)
    os.nice(10)
    try:
        result = execute(Path(path), Path(root), rel)
    except BuildError as err:
        result = err
    tmp = Path(out + ".tmp")
    tmp.write_bytes(pickle.dumps(result))
    tmp.replace(out)


def build(root: Path, background: dict | None = None) -> tuple[dict[str, bytes], list[str]]:
    """Execute (or reuse) every notebook; return staged files and the notebooks that ran.

    With background (a dict that outlives rebuilds, kept by `mkdocs serve`'s hook), a notebook
    whose inputs changed runs in a process of its own and its page shows a placeholder (never
    old outputs) until the result is in; a cell that raised fails the builds until an input
    changes.
    """
    docs, cache = root / "docs", root / ".cache" / "notebooks"
    staged: dict[str, bytes] = {}
    ran: list[str] = []
    for path in notebook_paths(docs):
        rel_docs = path.relative_to(docs).as_posix()
        rel = f"docs/{rel_docs}"
        nb = read(path, rel)
        key = notebook_key(nb)
        slug = rel_docs.replace("/", "__").removesuffix(".ipynb")
        hit = lookup(cache, slug, key, root) if cache.is_dir() else None
        if hit is not None:
            data = hit.read_bytes()
            if background is None:  # recently used, kept longest (serve watches mtimes: not there)
                hit.with_suffix(".json").touch()
        elif background is not None:
            failed = background.get(f"failed:{rel}")
            if failed and failed[0] == key and file_hashes(root, list(failed[1])) == failed[1]:
                raise failed[2]

            def done(data, files, err=None, rel=rel, key=key, slug=slug) -> None:
                if err is None:
                    background.pop(f"failed:{rel}", None)
                    store(cache, slug, key, data, files)
                else:  # remember it, and wake the server: the next build reports it
                    background[f"failed:{rel}"] = (key, file_hashes(root, _inputs(root)), err)
                    cache.mkdir(parents=True, exist_ok=True)
                    (cache / f"{slug}.failed").write_text(str(err), encoding="utf-8")

            _in_background(background, key, path, root, rel, done)
            staged[f"notebooks/{rel_docs}"] = placeholder(nb)
            staged[f"notebooks/{rel_docs}.page.json"] = placeholder_page(nb)
            ran.append(rel)
            continue
        else:
            data, files = execute(path, root, rel)
            store(cache, slug, key, data, files)
            ran.append(rel)
        staged[f"notebooks/{rel_docs}"] = data
        staged[f"notebooks/{rel_docs}.page.json"] = cached_page(cache, slug, data, path.name)
    return staged, ran


def _inputs(root: Path) -> list[str]:
    """Every file a failed run might have read (it left no trace we keep): the usual inputs."""
    files = [*root.glob("data/*"), *root.glob("charts/*.py"), *root.glob("scripts/*.py")]
    files += [p for p in root.glob("docs/**/*") if "generated" not in p.parts and p.is_file()]
    return sorted(p.relative_to(root).as_posix() for p in files if p.is_file())


if __name__ == "__main__":
    _run_apart(*sys.argv[1:5])
