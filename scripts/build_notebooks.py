"""Build step: run every notebook in docs/, staging executed copies for docs/generated/notebooks/.

The page shows the executed copy, so it always shows what the current data and code produce.
The copy is turned into the page's HTML, table of contents and title here too, by mkdocs-jupyter's
converter with the options its MkDocs plugin would use (render_page), and kept beside it as
<name>.ipynb.page.json; scripts/mkdocs_hooks.py only hands that to MkDocs. So the site needs no
MkDocs plugin for notebooks (another generator can read the same file), and a build whose
notebooks are cached never imports nbconvert (1.6 s).

A notebook runs in a process of its own (Run), in ipykernel's in-process kernel, while the charts
render in this one; the same process renders its page. A run is cached under .cache/notebooks/
with the list of exactly the project files it read and their hashes. Which files those are is
not guessed from the code: the run records every file it opens under the project
(scripts/notebook_trace.py), imports and data reads alike, so a notebook that loads the whole
data package depends on every table, one that reads a single CSV on that CSV, and one that
finds a chart's name in docs/index.md on that page. The cached run is reused while the cells,
the libraries' versions and every one of those files are unchanged; otherwise the notebook runs
again. A cell that raises stops the build, naming the notebook, the cell and the line.
"""

from __future__ import annotations

import contextlib
import functools
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
from scripts.notebook_trace import install as install_trace
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
    """Run the notebook in a kernel in this process (cwd: root); return it with outputs, and
    the project files it read with their hashes. Raise BuildError naming the cell that failed.

    Only ever called in a process of its own (Run): the kernel is ipykernel's in-process one,
    the notebook's state is this process's, and the trace's audit hook stays for good. So the
    run starts no second interpreter and no sockets, and in a fork imports no library again: 1.4
    s where a kernel process took 3.5 s. The outputs are byte for byte a kernel process's, as
    nbclient records them (tests/test_notebooks.py).
    """
    import nbformat
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    nb = nbformat.read(path, as_version=4)
    kernel = nb.metadata.get("kernelspec", {}).get("name") or "python3"
    try:
        spec = KernelSpecManager().get_kernel_spec(kernel)
    except NoSuchKernel:
        spec = None
    if spec is None or spec.language.lower() != "python":
        raise BuildError(
            rel,
            f"no Jupyter kernel named '{kernel}'",
            field="metadata.kernelspec",
            expected="python3 (ipykernel, installed by make)",
        )
    os.chdir(root)
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    # The project's own modules are imported again by the cells, so the trace sees each file
    # the notebook uses, exactly as a fresh kernel would.
    ours = {name: module for name, module in sys.modules.items() if _is_ours(module, root)}
    for name in ours:
        del sys.modules[name]
    with tempfile.NamedTemporaryFile(prefix="notebook-trace-", suffix=".txt") as trace:
        os.environ.update(EXPLAINER_ROOT=str(root), EXPLAINER_TRACE=trace.name)
        started = time.time_ns()
        install_trace()
        try:
            _run_cells(nb, rel)
        finally:  # this code's own modules again (a BuildError pickles by them)
            sys.modules.update(ours)
        read_files = Path(trace.name).read_text(encoding="utf-8").splitlines()
    real_root = Path(_real_folder(str(root)))
    real = (_real_path(source_of(p)) for p in read_files)
    deps = sorted(
        {p.relative_to(real_root).as_posix() for p in real if p.is_relative_to(real_root)} - {""}
    )
    deps = [d for d in deps if not NOT_INPUTS.search(d) and "__pycache__" not in d]
    changed = [d for d in deps if (root / d).is_file() and (root / d).stat().st_mtime_ns >= started]
    hashes = file_hashes(root, deps)
    if changed:  # edited while it ran: what it read is not what is there now; never cache it
        hashes = {**hashes, changed[0]: "changed during the run"}
    return nbformat.writes(nb).encode() + b"\n", hashes


def _is_ours(module, root: Path) -> bool:
    """A module of the project's own (not a library, even one installed in .venv/ under root)."""
    file = getattr(module, "__file__", None)
    if not file:
        return False
    path = _real_path(file)
    if not path.is_relative_to(_real_folder(str(root))):
        return False
    rel = path.relative_to(_real_folder(str(root)))
    return not NOT_INPUTS.search(rel.as_posix()) and "site-packages" not in rel.parts


@functools.cache  # a thousand modules live in a few hundred folders: resolve each folder once
def _real_folder(folder: str) -> str:
    return os.path.realpath(folder)


def _real_path(path: str) -> Path:
    """path, absolute, with the links in its folders resolved (each folder once)."""
    path = os.path.abspath(path)
    return Path(_real_folder(os.path.dirname(path)), os.path.basename(path))


def _run_cells(nb, rel: str) -> None:
    """Execute every code cell of nb in an in-process kernel, recording outputs as nbclient
    does (its own message handling, record_timing off: no timestamps, builds byte-identical)."""
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # the debugger's start-up note
    from ipykernel.inprocess.manager import InProcessKernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionComplete

    manager = InProcessKernelManager()
    manager.start_kernel()
    kernel = manager.client()
    kernel.start_channels()
    recorder = NotebookClient(nb, record_timing=False)
    recorder.reset_execution_trackers()

    def reply(msg_id: str) -> dict:
        while True:
            msg = kernel.get_shell_msg(timeout=TIMEOUT)
            if msg["parent_header"].get("msg_id") == msg_id:
                return msg

    nb.metadata["language_info"] = reply(kernel.kernel_info())["content"]["language_info"]
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        msg_id = kernel.execute(cell.source, stop_on_error=True)
        recorder.code_cells_executed += 1
        cell.outputs = []
        recorder.clear_before_next_output = False
        done = reply(msg_id)["content"]
        while True:  # the cell's messages; its printed text comes with no parent header
            msg = kernel.get_iopub_msg(timeout=TIMEOUT)
            if msg["parent_header"].get("msg_id") not in (msg_id, None):
                continue
            try:
                recorder.process_message(msg, cell, index)
            except CellExecutionComplete:
                break
        join_printed(cell)
        if done["status"] == "error":
            raise _cell_error(nb, rel, f"{done.get('ename')}: {done.get('evalue')}")


def join_printed(cell) -> None:
    """Join a cell's consecutive printed outputs to the same stream into one. How a print's text
    and its newline are split across messages depends on timing (the kernel flushes every 0.2
    s), and a split page differs from an unsplit one although it shows the same text."""
    joined = []
    for out in cell.outputs:
        last = joined[-1] if joined else None
        if (
            last is not None
            and out.get("output_type") == last.get("output_type") == "stream"
            and out.get("name") == last.get("name")
        ):
            last["text"] += out["text"]
        else:
            joined.append(out)
    cell.outputs = joined


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


# --- a run in a process of its own ----------------------------------------------------------------


class Run:
    """One notebook running in a child process, which leaves (notebook, files) or a BuildError
    in a file, and renders the page into the page cache while this process goes on.

    apart (under serve): `python -m scripts.build_notebooks`, in a session of its own (the
    server's Ctrl+C is not its) at low CPU priority (it yields to the build a contributor
    awaits). Otherwise (a one-off build) a fork of this process where it can be (_can_fork):
    the libraries and the validated data are there already, which saves the child 1.5 s of
    imports; it shares this process's Ctrl+C."""

    def __init__(self, path: Path, root: Path, rel: str, apart: bool = False, ready=None) -> None:
        self.rel = rel
        self.folder = tempfile.TemporaryDirectory(prefix="notebook-run-")
        self.out = Path(self.folder.name) / "result.pickle"
        self.log = Path(self.folder.name) / "stderr.txt"
        cells = sum(c.get("cell_type") == "code" for c in read(path, rel)["cells"])
        self.deadline = time.monotonic() + TIMEOUT * max(1, cells) + 30
        if not apart and _can_fork():
            # What the notebook imports and this process's charts need anyway: imported once,
            # here, before the fork, not once on each side of it.
            import altair  # noqa: F401
            import pandas  # noqa: F401

            if ready is not None:
                ready()
            self.proc = _Fork(
                self.log, lambda: _run_apart(str(path), str(root), rel, str(self.out))
            )
            return
        if ready is not None:
            ready()
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "scripts.build_notebooks", str(path), str(root), rel]
                + [str(self.out), "apart" if apart else "with"],
                cwd=root,
                env={**os.environ, "PYTHONPATH": _pythonpath(root)},
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
                start_new_session=apart,
            )

    def result(self):
        """Wait: (notebook bytes, files read), or a BuildError."""
        import pickle

        try:
            self.proc.wait(timeout=max(0.1, self.deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return BuildError(
                self.rel,
                f"the run stopped: it took longer than {TIMEOUT} s per cell",
                expected="cells that finish",
            )
        try:
            if self.proc.returncode == 0 and self.out.is_file():
                return pickle.loads(self.out.read_bytes())
            said = self.log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
            return BuildError(
                self.rel,
                f"the notebook's run stopped (exit code {self.proc.returncode})"
                + (f": {said[-1]}" if said else ""),
            )
        finally:
            self.folder.cleanup()


def _can_fork() -> bool:
    """Whether a fork of this process can run a notebook: not once vl-convert has started its
    engine here (a fork has none of its threads, and the notebook draws a chart)."""
    if not hasattr(os, "fork"):
        return False
    try:
        names = [(t / "comm").read_text() for t in Path("/proc/self/task").iterdir()]
    except OSError:
        return False
    return not any(n.startswith(("V8 ", "tokio-")) for n in names)


class _Fork:
    """A forked child running job(), with the bits of Popen that Run uses."""

    def __init__(self, log: Path, job) -> None:
        import traceback

        sys.stdout.flush()
        sys.stderr.flush()
        fd = os.open(log, os.O_WRONLY | os.O_CREAT, 0o600)
        self.pid = os.fork()
        if self.pid == 0:  # the child: never back into the build's code
            code = 1
            try:
                os.dup2(fd, 2)
                null = os.open(os.devnull, os.O_RDWR)
                os.dup2(null, 0)
                os.dup2(null, 1)
                _fresh_warnings()
                job()
                code = 0
            except BaseException:
                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        os.close(fd)
        self.returncode = None

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        end = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if end is not None and time.monotonic() > end:
                raise subprocess.TimeoutExpired("notebook run", timeout)
            time.sleep(0.01)
        return self.returncode

    def kill(self) -> None:
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, 9)


def _fresh_warnings() -> None:
    """Python's own warning filters, as a fresh kernel has them (the build may ignore all)."""
    import warnings

    warnings.resetwarnings()
    warnings.filterwarnings("default", category=DeprecationWarning, module="__main__")
    for kind in (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning):
        warnings.simplefilter("ignore", kind, append=True)


def _run_apart(path: str, root: str, rel: str, out: str, mode: str = "with") -> None:
    """The child of Run: execute, leave the result (or the BuildError) in out, then render the
    page into the cache, where the build that waits for the result finds it."""
    import pickle

    if mode == "apart":
        os.nice(10)
    try:
        result = execute(Path(path), Path(root), rel)
    except BuildError as err:
        result = err
    tmp = Path(out + ".tmp")
    tmp.write_bytes(pickle.dumps(result))
    if not isinstance(result, BuildError):
        cache = Path(root) / ".cache" / "notebooks"
        cached_page(cache, _slug(rel), result[0], Path(path).name)
    tmp.replace(out)


def _slug(rel: str) -> str:
    """docs/a/b.ipynb -> a__b: the name of its runs in the cache."""
    return rel.removeprefix("docs/").replace("/", "__").removesuffix(".ipynb")


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
        # Start once the build that asked for it is done: on two cores a notebook starting up
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
    """A Run, apart: (notebook, files), a BuildError, or None if the server stopped meanwhile.
    Not in a thread of the server: the notebook's state and imports would be the server's, and
    a process can be stopped with the server (stop_background)."""
    with _RUNS_LOCK:
        if jobs.get(STOPPING):
            return None
        run = Run(path, root, rel, apart=True)
        jobs.setdefault(RUNS, set()).add(run.proc)
    try:
        result = run.result()
    finally:
        with _RUNS_LOCK:
            jobs[RUNS].discard(run.proc)
    return None if jobs.get(STOPPING) else result


def stop_background(jobs: dict, wait: float = 5.0) -> None:
    """Stop every notebook run in progress (as the server stops)."""
    import signal

    with _RUNS_LOCK:
        jobs[STOPPING] = True
        runs = list(jobs.get(RUNS, ()))
    for proc in runs:
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


def start(root: Path, background: dict | None = None, ready=None):
    """Execute (or reuse) every notebook: start what must run now and return a function that
    waits for it and returns (staged files, the notebooks that ran).

    ready: called before a run starts (a DataPackage's confirm: a notebook started once the
    data's validation is remembered does not validate them again).

    Without background (a one-off build) each notebook to run starts at once in a process of its
    own (Run), beside the charts. With background (a dict that outlives rebuilds, kept by
    `mkdocs serve`'s hook), a notebook whose inputs changed runs in the background and its page
    shows a placeholder (never old outputs) until the result is in; a cell that raised fails
    the builds until an input changes.
    """
    docs, cache = root / "docs", root / ".cache" / "notebooks"
    staged: dict[str, bytes] = {}
    waiting: dict[str, bytes] = {}  # a running notebook's placeholders, for finish.waiting
    ran: list[str] = []
    runs = []
    for path in notebook_paths(docs):
        rel_docs = path.relative_to(docs).as_posix()
        rel = f"docs/{rel_docs}"
        nb = read(path, rel)
        key = notebook_key(nb)
        slug = _slug(rel)
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
            runs.append((Run(path, root, rel, ready=ready), rel_docs, key, slug, path.name))
            waiting[f"notebooks/{rel_docs}"] = placeholder(nb)
            waiting[f"notebooks/{rel_docs}.page.json"] = placeholder_page(nb)
            continue
        staged[f"notebooks/{rel_docs}"] = data
        staged[f"notebooks/{rel_docs}.page.json"] = cached_page(cache, slug, data, path.name)

    def finish() -> tuple[dict[str, bytes], list[str]]:
        results = [(run.result(), *rest) for run, *rest in runs]  # every run ends, even after
        for result, rel_docs, key, slug, filename in results:  # a failure: no orphans
            if isinstance(result, BuildError):
                raise result
            data, files = result
            store(cache, slug, key, data, files)
            ran.append(f"docs/{rel_docs}")
            staged[f"notebooks/{rel_docs}"] = data
            staged[f"notebooks/{rel_docs}.page.json"] = cached_page(cache, slug, data, filename)
        return staged, sorted(ran)

    def cancel() -> None:  # the build failed elsewhere: its notebooks are not wanted
        for run, *_ in runs:
            run.proc.kill()
            run.proc.wait()
            run.folder.cleanup()

    finish.cancel = cancel
    finish.running = bool(runs)
    finish.runs = [rel for _, rel, *_ in runs]
    finish.waiting = {**staged, **waiting}  # what the other pages can be built beside meanwhile
    return finish


def build(root: Path, background: dict | None = None) -> tuple[dict[str, bytes], list[str]]:
    """start(root, background), waited for."""
    return start(root, background)()


def _inputs(root: Path) -> list[str]:
    """Every file a failed run might have read (it left no trace we keep): the usual inputs."""
    files = [*root.glob("data/*"), *root.glob("charts/*.py"), *root.glob("scripts/*.py")]
    files += [p for p in root.glob("docs/**/*") if "generated" not in p.parts and p.is_file()]
    return sorted(p.relative_to(root).as_posix() for p in files if p.is_file())


if __name__ == "__main__":
    _run_apart(*sys.argv[1:6])
