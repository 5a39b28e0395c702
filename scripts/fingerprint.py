"""What a build output depends on, as hashes: code (by meaning), tables (by content), versions.

Chart outputs and executed notebooks are cached under keys built from these pieces, so the key
changes exactly when an input does:

- Python code is hashed by its syntax tree, so comments and formatting do not count but every
  statement, constant and docstring does (a chart's docstring is its title).
- Project code is followed through its imports: a chart that imports charts/_helpers.py, or a
  notebook that imports scripts/build_charts.py (and through it scripts/load_data.py), depends on
  those files too.
- A table is hashed as its parsed rows plus its field types (what charts and notebooks receive),
  so re-quoting a CSV changes nothing and a changed value always changes the key.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import os
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path


def sha(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        h.update(hashlib.sha256(data).digest())
    return h.hexdigest()


# Parsing is the slow part (a fifth of a second for the charts here), so what is parsed out of
# a text is kept by the text's hash: in memory, and, where keep_in() named a file, across
# processes (a one-off build is a new process; it would parse every module again).
_MEMO: dict[str, object] = {}
_kept: dict[str, object] = {"path": None, "stamp": None, "new": False}
_used: set[str] = set()  # what this process asked for: what the file keeps when rewritten


def keep_in(path: Path, salt: bytes = b"") -> None:
    """Keep parse results in the JSON file path from now on; salt: the caller's code, whose
    results (memo()) are kept there too. The file is ignored when this module, salt or the
    Python version differ (ast.dump differs between versions)."""
    stamp = sha(Path(__file__).read_bytes(), salt, sys.version)
    if _kept["path"] == path and _kept["stamp"] == stamp:
        return
    _kept.update(path=path, stamp=stamp)
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if isinstance(kept, dict) and kept.get("stamp") == stamp:
        for key, value in kept.get("memo", {}).items():
            _MEMO.setdefault(key, value)


def save_kept() -> None:
    """Write what was parsed since keep_in() (atomically: builds may run side by side)."""
    path = _kept["path"]
    if path is None or not _kept["new"]:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    kept = {key: _MEMO[key] for key in sorted(_used)}
    tmp.write_text(json.dumps({"stamp": _kept["stamp"], "memo": kept}), encoding="utf-8")
    tmp.replace(path)
    _kept["new"] = False


def memo(kind: str, src: bytes | str, compute):
    """compute() for this text, once: kept by kind and the text's hash. compute must depend on
    the text alone and return JSON (lists come back as lists)."""
    key = f"{kind}:{sha(src)}"
    _used.add(key)
    if key not in _MEMO:
        _MEMO[key] = compute()
        _kept["new"] = True
    return _MEMO[key]


def code_digest(src: bytes | str, drop: frozenset[str] = frozenset()) -> str:
    """Hash Python source by its syntax tree, leaving out top-level functions named in drop."""
    return memo("code " + " ".join(sorted(drop)), src, lambda: _code_digest(src, drop))


def _code_digest(src: bytes | str, drop: frozenset[str]) -> str:
    tree = ast.parse(src)
    tree.body = [
        node
        for node in tree.body
        if not (isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name in drop)
    ]
    return sha(ast.dump(tree))


def local_imports(tree: ast.AST, root: Path, here: Path | None = None) -> set[Path]:
    """Return the project files (under root) that this code imports, followed transitively."""
    return _follow(_direct_imports(tree, root, here), root)


def _follow(direct: set[Path] | frozenset[Path], root: Path) -> set[Path]:
    found: set[Path] = set()
    todo = [direct]
    while todo:
        for path in todo.pop():
            if path not in found:
                found.add(path)
                todo.append(_file_imports(path, root))
    return found


def source_imports(src: bytes, root: Path, here: Path) -> set[Path]:
    """local_imports of the code src (the file here), parsed once per text; none if it does not
    parse (the import fails and says where)."""
    return _follow(_source_imports(src, root, here), root)


def _file_imports(path: Path, root: Path) -> frozenset[Path]:
    return _source_imports(path.read_bytes(), root, path)


def _source_imports(src: bytes, root: Path, path: Path) -> frozenset[Path]:
    package = _package_of(path, root)

    def names() -> list[str]:
        try:
            return _imported_names(ast.parse(src), package)
        except SyntaxError:  # the import fails and says where
            return []

    # The names are the text's (and its package's); which of them are project files is not.
    return frozenset(_project_files(memo(f"imports {package}", src, names), root))


def _direct_imports(tree: ast.AST, root: Path, here: Path | None) -> set[Path]:
    package = None if here is None else _package_of(here, root)
    return _project_files(_imported_names(tree, package), root)


def _package_of(path: Path, root: Path) -> str | None:
    try:
        return ".".join(path.parent.relative_to(root).parts)
    except ValueError:
        return None


def _imported_names(tree: ast.AST, package: str | None) -> list[str]:
    """The dotted names the code imports; relative ones resolved from package (dotted, "" for
    the root; None when the file lies outside the root: relative imports are then left out)."""
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".") if package else []
                if package is None or node.level - 1 > len(parts):
                    continue
                prefix = ".".join(parts[: len(parts) - (node.level - 1)])
                base = f"{prefix}.{base}".strip(".") if base else prefix
            names.append(base)
            names += [f"{base}.{a.name}" for a in node.names]
    return names


def _project_files(names: list[str], root: Path) -> set[Path]:
    paths = set()
    for name in names:
        parts = name.split(".")
        for candidate in (
            root.joinpath(*parts).with_suffix(".py"),
            root.joinpath(*parts) / "__init__.py",
        ):
            if parts[0] and candidate.is_file():
                paths.add(candidate.resolve())
    return paths


def table_digest(pkg, name: str) -> str:
    """Hash one table as its consumers see it: field names and types, then every row."""
    if name not in pkg.tables:
        return sha("missing", name)
    fields = [(f["name"], f.get("type", "string")) for f in pkg.resource(name)["schema"]["fields"]]
    return sha(json.dumps([fields, pkg.tables[name]], sort_keys=True, ensure_ascii=False))


def versions(*dists: str) -> str:
    """Return 'python=3.11 altair=6.3.0 ...' for the given distributions."""
    out = [f"python={sys.version_info.major}.{sys.version_info.minor}"]
    return " ".join(out + [f"{dist}={_version(dist)}" for dist in dists])


@functools.cache  # installed versions do not change under a running build (or serve)
def _version(dist: str) -> str:
    try:
        return version(dist)
    except PackageNotFoundError:
        return "none"
