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
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path


def sha(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        h.update(hashlib.sha256(data).digest())
    return h.hexdigest()


_DIGESTS: dict[tuple[str, frozenset[str]], str] = {}  # parsing is the slow part: once per text


def code_digest(src: bytes | str, drop: frozenset[str] = frozenset()) -> str:
    """Hash Python source by its syntax tree, leaving out top-level functions named in drop."""
    memo = (sha(src), drop)
    if memo not in _DIGESTS:
        _DIGESTS[memo] = _code_digest(src, drop)
    return _DIGESTS[memo]


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


_IMPORTS: dict[tuple[Path, str], frozenset[Path]] = {}


def source_imports(src: bytes, root: Path, here: Path) -> set[Path]:
    """local_imports of the code src (the file here), parsed once per text; none if it does not
    parse (the import fails and says where)."""
    return _follow(_source_imports(src, root, here), root)


def _file_imports(path: Path, root: Path) -> frozenset[Path]:
    return _source_imports(path.read_bytes(), root, path)


def _source_imports(src: bytes, root: Path, path: Path) -> frozenset[Path]:
    memo = (path, sha(src))
    if memo not in _IMPORTS:
        try:
            _IMPORTS[memo] = frozenset(_direct_imports(ast.parse(src), root, path))
        except SyntaxError:  # the import fails and says where
            _IMPORTS[memo] = frozenset()
    return _IMPORTS[memo]


def _direct_imports(tree: ast.AST, root: Path, here: Path | None) -> set[Path]:
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level and here is not None:
                package = here.parent
                for _ in range(node.level - 1):
                    package = package.parent
                try:
                    prefix = ".".join(package.relative_to(root).parts)
                except ValueError:
                    continue
                base = f"{prefix}.{base}".strip(".") if base else prefix
            names.append(base)
            names += [f"{base}.{a.name}" for a in node.names]
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
