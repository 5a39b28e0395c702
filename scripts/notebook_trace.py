"""Record every project file a notebook's run opens, so its cache key is what it really read.

scripts/build_notebooks.py calls `install()` in the process that runs the notebook, just before
the first cell (its project modules dropped from sys.modules, so the cells import them anew).
Python's audit hook sees every open(), including the ones behind `import` (the module's cached
bytecode) and behind pandas or csv, so data tables, chart modules and pages a notebook reads
are all found, however it names them. Paths go to the file named by EXPLAINER_TRACE, one per
line, as they happen.
"""

from __future__ import annotations

import os
import sys


def install() -> None:
    """Start recording for good (an audit hook cannot be removed): opens under EXPLAINER_ROOT go
    to EXPLAINER_TRACE."""
    root = os.environ.get("EXPLAINER_ROOT")
    trace = os.environ.get("EXPLAINER_TRACE")
    if not root or not trace:
        return
    root = os.path.join(os.path.realpath(root), "")
    fd = os.open(trace, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    seen: set[str] = set()

    def hook(event: str, args: tuple) -> None:
        if event != "open" or not args or isinstance(args[0], int):
            return
        try:
            path = os.path.realpath(os.fsdecode(args[0]))
        except (TypeError, ValueError):
            return
        if path.startswith(root) and path not in seen:
            seen.add(path)
            os.write(fd, os.fsencode(path) + b"\n")  # os.write raises no audit event

    sys.addaudithook(hook)


def source_of(path: str) -> str:
    """Map a cached-bytecode path (what `import` opens) back to its source file."""
    head, name = os.path.split(path)
    if os.path.basename(head) == "__pycache__" and name.endswith(".pyc"):
        return os.path.join(os.path.dirname(head), name.split(".")[0] + ".py")
    return path
