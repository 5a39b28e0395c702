"""Validate data/ (Frictionless plus our own checks) and load its tables.

The Frictionless validator checks types, constraints, keys and foreign keys; we add what the
standard cannot say: every CSV is described, periods are well formed, units are known, and ids
are unique across tables (pages refer to a figure by id alone). Before Frictionless runs we check
what makes its reports confusing: the descriptor itself (constraint values of the right kind,
known types, files that exist), headers against the schema by name, and stray quotes, so every
error names the file to edit, the line and the field.

Validation is the slowest part of a rebuild (about a second for the whole package), so each
table that validated once is remembered by a hash of every byte its validation depends on (its
descriptor and CSV, the tables its foreign keys point at, the package metadata, this file and the
Frictionless version) under .cache/validated/: editing one CSV validates that table again, and
the tables it refers to, not the rest. A one-off build runs Frictionless in a fork of itself
(apart=True), on the other core, while it draws the charts, and keeps nothing made from the
tables before the verdict is in (DataPackage.confirm).
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import os
import pickle
import re
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path

from scripts.build_error import BuildError

PERIOD = r"\d{4}(-(Q[1-4]|H[12]|(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?))?"
PERIOD_RE = re.compile(rf"^{PERIOD}(/{PERIOD})?$")
DESCRIPTOR = "datapackage.json"
PERIOD_HELP = "a period: YYYY, YYYY-Qn, YYYY-Hn, YYYY-MM, YYYY-MM-DD, or start/end, two of these"


@dataclass
class DataPackage:
    """The validated package: its descriptor, tables (as lists of dicts) and sources by id."""

    root: Path
    descriptor: dict
    tables: dict[str, list[dict]] = field(default_factory=dict)
    validated: bool = True  # False when every table had validated before, byte for byte
    pending: object = None  # Frictionless still running apart (load_package(apart=True))

    def confirm(self) -> None:
        """Wait for the validation still running apart, if any; raise its BuildError."""
        pending, self.pending = self.pending, None
        if pending is not None:
            pending()

    def cancel(self) -> None:
        """Stop the validation still running apart, if any (the build stops anyway)."""
        pending, self.pending = self.pending, None
        if pending is not None:
            pending.cancel()

    @property
    def sources(self) -> dict[str, dict]:
        return {row["id"]: row for row in self.tables.get("sources", [])}

    @property
    def units(self) -> dict[str, dict]:
        return self.descriptor.get("x_units", {})

    def resource(self, name: str) -> dict:
        return next(r for r in self.descriptor["resources"] if r["name"] == name)

    def path(self, name: str) -> Path:
        return self.root / self.resource(name)["path"]


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def read_descriptor(root: Path) -> dict:
    """Parse datapackage.json; raise BuildError naming the line of a JSON syntax error."""
    path = root / DESCRIPTOR
    if not path.exists():
        raise BuildError(_rel(path), "file not found", expected="a Frictionless data package")
    try:
        descriptor = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise BuildError(
            _rel(path),
            f"invalid JSON: {err.msg} (column {err.colno})",
            line=err.lineno,
            expected="valid JSON: check the quotes, commas and brackets just before this point",
        ) from None
    if not isinstance(descriptor.get("resources"), list):
        raise BuildError(_rel(path), "no 'resources' list", expected="one resource per CSV")
    return descriptor


def descriptor_line(root: Path, *names: str | None, key: str | None = None) -> int | None:
    """Return the line of datapackage.json that declares resource/field names[...] (then key)."""
    try:
        lines = (root / DESCRIPTOR).read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    at, found = 0, None
    for name in [n for n in names if n]:
        pattern = re.compile(rf'"name"\s*:\s*"{re.escape(name)}"')
        hit = next((i for i in range(at, len(lines)) if pattern.search(lines[i])), None)
        if hit is None:
            return found
        at = found = hit
    if key:
        pattern = re.compile(rf'"{re.escape(key)}"\s*:')
        hit = next((i for i in range(at, len(lines)) if pattern.search(lines[i])), None)
        found = hit if hit is not None else found
    return None if found is None else found + 1


TYPES = ("string", "number", "integer", "boolean", "date", "datetime", "year", "yearmonth")
NUMERIC = {"number", "integer", "year"}


def _check_descriptor(root: Path, descriptor: dict) -> None:
    """Check what Frictionless reports badly or not at all: field types and constraint values."""
    where = _rel(root / DESCRIPTOR)
    for res in descriptor["resources"]:
        name = res.get("name")
        fields = res.get("schema", {}).get("fields")
        if not name or not res.get("path") or not isinstance(fields, list):
            raise BuildError(
                where,
                f"resource '{name or res.get('path')}' is incomplete",
                line=descriptor_line(root, name),
                field="resources",
                expected="a name, a path and a schema with a list of fields",
            )
        for f in fields:
            fname = f.get("name")

            def fail(
                problem: str, expected: str, key: str, fname: str | None = fname, name=name
            ) -> None:
                raise BuildError(
                    where,
                    f"resource '{name}': {problem}",
                    line=descriptor_line(root, name, fname, key=key),
                    field=fname,
                    expected=expected,
                )

            kind = f.get("type", "string")
            if kind not in TYPES:
                fail(f"unknown type '{kind}'", "one of " + ", ".join(TYPES), "type")
            for con, value in f.get("constraints", {}).items():
                if con in ("minimum", "maximum") and kind in NUMERIC:
                    ok = isinstance(value, int | float) and not isinstance(value, bool)
                    wanted = "a number"
                elif con in ("minimum", "maximum"):
                    ok, wanted = isinstance(value, str), f"a {kind} written as text"
                elif con in ("minLength", "maxLength"):
                    ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
                    wanted = "a whole number"
                elif con in ("required", "unique"):
                    ok, wanted = isinstance(value, bool), "true or false"
                elif con == "enum":
                    ok, wanted = isinstance(value, list) and bool(value), "a list of allowed values"
                elif con == "pattern":
                    wanted = "a valid regular expression"
                    try:
                        ok = isinstance(value, str) and re.compile(value) is not None
                    except re.error:
                        ok = False
                else:
                    fail(f"unknown constraint '{con}'", ", ".join([*CONSTRAINTS, "unique"]), con)
                if not ok:
                    fail(f"constraint '{con}' is {json.dumps(value)}", wanted, con)


def _check_files(root: Path, descriptor: dict) -> None:
    for res in descriptor["resources"]:
        path = root / str(res.get("path"))
        if not path.exists():
            raise BuildError(
                _rel(root / DESCRIPTOR),
                f"resource '{res.get('name')}' points at '{res.get('path')}', which does not exist",
                line=descriptor_line(root, res.get("name"), key="path"),
                field="path",
                expected="the name of a CSV in data/",
            )
    described = {r.get("path") for r in descriptor["resources"]}
    for csv_path in sorted(root.glob("*.csv")):
        if csv_path.name not in described:
            raise BuildError(
                _rel(csv_path),
                "this CSV is not described in datapackage.json",
                line=1,
                expected=f"a resource with path '{csv_path.name}' in datapackage.json",
            )
    for res in descriptor["resources"]:
        path = root / res["path"]
        raw = path.read_bytes()
        if not raw.strip():
            raise BuildError(_rel(path), "the file is empty", line=1, expected="a header row")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            line = raw[: err.start].count(b"\n") + 1
            start = raw.rfind(b"\n", 0, err.start) + 1
            before = raw[start : err.start].decode("utf-8", "replace")
            header = raw.split(b"\n", 1)[0].decode("utf-8", "replace").strip().split(",")
            column = _column_at(before, header)
            raise BuildError(
                _rel(path),
                f"byte {raw[err.start]:#04x} is not UTF-8 text (saved as Latin-1 or Windows-1252?)",
                line=line,
                field=column,
                expected="UTF-8 (re-save the file as UTF-8)",
            ) from None
        _check_header(path, text, res)
        _check_quotes(path, text)


def _column_at(prefix: str, header: list[str]) -> str | None:
    """Return the header name of the cell that the raw line prefix ends in."""
    index, quoted = 0, False
    for char in prefix:
        if char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            index += 1
    return header[index] if index < len(header) else None


CELL = re.compile(r'"(?:[^"]|"")*"|[^,"\r\n]*')


def _cells(line: str) -> list[str] | None:
    """Split one physical CSV line into raw cells; None where a quote is out of place."""
    cells, at = [], 0
    while True:
        m = CELL.match(line, at)
        cells.append(m.group(0))
        at = m.end()
        if at == len(line):
            return cells
        if line[at] != ",":
            return None
        at += 1


def _check_header(path: Path, text: str, res: dict) -> None:
    header = next(csv.reader(io.StringIO(text)), [])
    declared = [f.get("name") for f in res["schema"]["fields"]]
    missing = [n for n in declared if n not in header]
    extra = [n for n in header if n not in declared]
    if missing or extra:
        name = (missing or extra)[0]
        problem = (
            f"the header lacks the column '{name}' that datapackage.json declares"
            if missing
            else f"the header has a column '{name}' that datapackage.json does not declare"
        )
        raise BuildError(
            _rel(path), problem, line=1, field=name, expected="the columns: " + ",".join(declared)
        )
    if header != declared:
        raise BuildError(
            _rel(path),
            "the columns are in another order than datapackage.json declares",
            line=1,
            field=next(h for h, d in zip(header, declared, strict=False) if h != d),
            expected="the columns: " + ",".join(declared),
        )


def _check_quotes(path: Path, text: str) -> None:
    """Find a stray quote or delimiter, which would silently shift every later cell.

    Rows are one line each (no line breaks inside cells), so each line must split cleanly into
    as many cells as the header has.
    """
    lines = text.splitlines()
    header = _cells(lines[0]) if lines else []
    for number, line in enumerate(lines, start=1):
        cells = _cells(line)
        if cells is not None and header and len(cells) != len(header) and line.strip():
            problem = "more" if len(cells) > len(header) else "fewer"
            raise BuildError(
                _rel(path),
                f"the row has {len(cells)} cells, {problem} cells than the header's {len(header)}"
                + (" (a stray comma? quote a cell that contains one)" if problem == "more" else ""),
                line=number,
                expected=f"{len(header)} cells: " + ",".join(header),
            )
        if '"' in line and cells is None:
            good = next((line[:i] for i in range(len(line), 0, -1) if _cells(line[:i])), "")
            raise BuildError(
                _rel(path),
                "a stray or unclosed double quote",
                line=number,
                field=_column_at(good, header),
                expected='a cell wholly in quotes (inner quotes doubled: "") or without any',
            )


def _frictionless(root: Path, descriptor: dict) -> None:
    from frictionless import FrictionlessException, Package

    where = _rel(root / DESCRIPTOR)
    try:
        report = Package(descriptor, basepath=str(root)).validate()
    except FrictionlessException as err:
        raise BuildError(where, err.error.note, line=1) from None
    except Exception as err:  # the validator choked on the descriptor itself
        raise BuildError(
            where,
            f"the Frictionless validator failed: {err}",
            line=1,
            expected="a valid descriptor",
        ) from None
    # The first error is the one to fix first; later ones are often its echoes.
    for task in report.tasks:
        for error in task.errors:
            path = _rel(root / task.place) if task.place else where
            problem, place = _explain(error, _header(root / task.place))
            raise BuildError(path, problem, **place)
    for error in report.errors:
        raise BuildError(where, f"{error.title.lower()}: {error.note}", line=1)


def _header(path: Path) -> list[str]:
    try:
        return next(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))), [])
    except (OSError, UnicodeDecodeError):
        return []


CONSTRAINTS = {
    "enum": "one of {}",
    "minimum": "at least {}",
    "maximum": "at most {}",
    "pattern": "text matching {}",
    "required": "a value (the field is required)",
    "minLength": "at least {} characters",
    "maxLength": "at most {} characters",
}


def _explain(error, header: list[str]) -> tuple[str, dict]:
    """Turn a Frictionless error into our problem text, place and expectation."""
    kind, note = error.type, error.note
    line = getattr(error, "row_number", None)
    field = getattr(error, "field_name", None) or None
    cell = getattr(error, "cell", None)
    columns = ", ".join(header)
    if kind == "type-error":
        wanted = re.search(r'type is "(\w+)', note)
        return f"'{cell}' is not of the declared type", dict(
            line=line, field=field, expected=f"a {wanted.group(1) if wanted else 'valid value'}"
        )
    if kind == "constraint-error":
        m = re.search(r'constraint "(\w+)" is "(.*)"$', note)
        name, value = (m.group(1), m.group(2)) if m else ("", note)
        if name == "pattern" and field in ("period", "date"):
            value = PERIOD_HELP
        return f"'{cell}' breaks the {name} constraint", dict(
            line=line, field=field, expected=CONSTRAINTS.get(name, "{}").format(value)
        )
    if kind == "foreign-key":
        names = getattr(error, "field_names", None) or [None]
        m = re.search(r'values "(.*)" not found in the lookup table "(\w+)" as "(\w+)"', note)
        if m:
            value, table, key = m.groups()
            return f"'{value}' does not resolve: no row of {table}.csv has it as {key}", dict(
                line=line, field=names[0], expected=f"an {key} from data/{table}.csv"
            )
        return f"a reference that does not resolve ({note})", dict(
            line=line, field=names[0], expected="an id that exists in the referenced table"
        )
    if kind in ("unique-error", "primary-key"):
        return f"'{cell}' is a duplicate ({note})", dict(
            line=line, field=field, expected="a value unique in this table"
        )
    if kind == "extra-cell":
        return "the row has more cells than the header (a stray delimiter?)", dict(
            line=line, expected=f"{len(header)} cells: {columns}"
        )
    if kind == "missing-cell":
        return "the row has fewer cells than the header", dict(
            line=line, field=field, expected=f"{len(header)} cells: {columns}"
        )
    if kind in (
        "missing-label",
        "extra-label",
        "incorrect-label",
        "blank-label",
        "duplicate-label",
    ):
        return f"the header does not match the schema ({error.title.lower()})", dict(
            line=1,
            field=field or getattr(error, "label", None),
            expected="the columns declared in datapackage.json, in order",
        )
    return f"{error.title.lower()}: {note}", dict(line=line, field=field)


def _read_csv(path: Path) -> list[dict]:
    text = path.read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def _check_rows(pkg: DataPackage) -> None:
    seen: dict[str, str] = {}
    for res in pkg.descriptor["resources"]:
        name, path = res["name"], pkg.root / res["path"]
        fields = {f["name"]: f for f in res.get("schema", {}).get("fields", [])}
        for number, row in enumerate(pkg.tables[name], start=2):
            for key in ("period", "date"):
                if key in fields and row.get(key) and not PERIOD_RE.match(row[key]):
                    raise BuildError(
                        _rel(path),
                        f"'{row[key]}' is not a period",
                        line=number,
                        field=key,
                        expected=PERIOD_HELP,
                    )
            if "unit" in fields and row.get("unit") not in pkg.units:
                raise BuildError(
                    _rel(path),
                    f"unit '{row.get('unit')}' has no label in x_units",
                    line=number,
                    field="unit",
                    expected="a unit listed in datapackage.json x_units",
                )
            if name != "sources" and "id" in fields:
                if row["id"] in seen:
                    raise BuildError(
                        _rel(path),
                        f"id '{row['id']}' is already used in {seen[row['id']]}",
                        line=number,
                        field="id",
                        expected="an id unique across all tables",
                    )
                seen[row["id"]] = res["path"]


def validation_keys(root: Path, descriptor: dict) -> dict[str, str]:
    """Hash, per resource, every byte its validation depends on: its descriptor and CSV, the
    tables its foreign keys point at, the package's own metadata, this module, the validator."""
    from importlib.metadata import version

    package = {k: v for k, v in descriptor.items() if k != "resources"}
    common = hashlib.sha256(Path(__file__).read_bytes())
    common.update(version("frictionless").encode() + json.dumps(package, sort_keys=True).encode())
    by_name = {r["name"]: r for r in descriptor["resources"]}
    keys = {}
    for res in descriptor["resources"]:
        h = common.copy()
        for name in [res["name"], *sorted(_references(res) - {res["name"]})]:
            other = by_name.get(name, {"name": name})
            h.update(json.dumps(other, sort_keys=True).encode())
            path = root / str(other.get("path"))
            h.update(path.read_bytes() if path.is_file() else b"missing")
        keys[res["name"]] = h.hexdigest()[:32]
    return keys


def _references(res: dict) -> set[str]:
    return {
        fk.get("reference", {}).get("resource") or res["name"]
        for fk in res.get("schema", {}).get("foreignKeys", [])
    }


def load_package(
    root: Path | str = "data", cache: Path | None = None, apart: bool = False, validate: bool = True
) -> DataPackage:
    """Validate the data package under root and return its tables; raise BuildError if invalid.

    With cache (a folder), resources whose exact inputs validated before skip Frictionless, so
    editing one CSV validates that table (and the tables it refers to) only.

    apart: run Frictionless in a fork of this process, on the other core, while this one goes on
    (its import alone takes 0.4 s); the caller must call pkg.confirm() before it keeps anything
    made from the tables (or pkg.cancel()). Where this process cannot fork safely, it runs here.
    validate=False: our own checks only, for a process whose parent validates the same files.
    """
    root = Path(root)
    descriptor = read_descriptor(root)
    _check_descriptor(root, descriptor)
    _check_files(root, descriptor)
    keys = validation_keys(root, descriptor) if cache else {}
    stale = [
        r["name"]
        for r in descriptor["resources"]
        if validate and (not cache or not (cache / f"{r['name']}-{keys[r['name']]}").exists())
    ]
    pending = None
    if stale:
        needed = set(stale).union(
            *(_references(r) for r in descriptor["resources"] if r["name"] in stale)
        )
        subset = {
            **descriptor,
            "resources": [r for r in descriptor["resources"] if r["name"] in needed],
        }
        pending = _frictionless_apart(root, subset) if apart else None
        if pending is None:
            _frictionless(root, subset)
    pkg = DataPackage(root, descriptor, validated=bool(stale))
    try:
        for res in descriptor["resources"]:
            pkg.tables[res["name"]] = _read_csv(root / res["path"])
        _check_rows(pkg)
    except Exception:
        if pending is not None:  # Frictionless's report comes first, as when it runs in line
            pending()
        raise
    except BaseException:
        if pending is not None:
            pending.cancel()
        raise

    def remember() -> None:
        if cache:
            cache.mkdir(parents=True, exist_ok=True)
            for name in stale:
                for old in cache.glob(f"{name}-*"):
                    old.unlink(missing_ok=True)
                (cache / f"{name}-{keys[name]}").touch()

    if pending is None:
        remember()
    else:

        def confirm() -> None:
            pending()
            remember()

        confirm.cancel = pending.cancel
        pkg.pending = confirm
    return pkg


def _frictionless_apart(root: Path, descriptor: dict):
    """Start _frictionless(root, descriptor) in a fork; return a function that waits for it and
    raises its BuildError (with .cancel() to stop it instead), or None if this process has
    threads besides this one (a fork could inherit a lock held by one of them)."""
    try:
        if not hasattr(os, "fork") or len(os.listdir("/proc/self/task")) != 1:
            return None
    except OSError:
        return None
    read_end, write_end = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: report and leave, never back into the build's code
        code = 1
        try:
            os.close(read_end)
            try:
                _frictionless(root, descriptor)
                result = None
            except BuildError as err:
                result = err
            except Exception as err:  # noqa: BLE001 (reported to the build as its error)
                result = BuildError(_rel(root / DESCRIPTOR), f"the validator failed: {err}")
            with os.fdopen(write_end, "wb") as out:
                out.write(pickle.dumps(result))
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    done = []

    def wait() -> None:
        if not done:
            with os.fdopen(read_end, "rb") as inp:
                data = inp.read()
            os.waitpid(pid, 0)
            done.append(pickle.loads(data) if data else _lost(root))
        if done[0] is not None:
            raise done[0]

    def cancel() -> None:
        if not done:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            os.close(read_end)
            os.waitpid(pid, 0)
            done.append(None)

    wait.cancel = cancel
    return wait


def _lost(root: Path) -> BuildError:
    where = _rel(root / DESCRIPTOR)
    return BuildError(where, "the Frictionless validator's process ended without a report")
