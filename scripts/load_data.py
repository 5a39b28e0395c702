"""Validate data/ (Frictionless plus our own checks) and load its tables.

The Frictionless validator checks types, constraints, keys and foreign keys; we add what the
standard cannot say: every CSV is described, periods are well formed, units are known, and ids
are unique across tables (pages refer to a figure by id alone).
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from scripts.build_error import BuildError

PERIOD = r"\d{4}(-(Q[1-4]|H[12]|(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?))?"
PERIOD_RE = re.compile(rf"^{PERIOD}(/{PERIOD})?$")
DESCRIPTOR = "datapackage.json"
PERIOD_HELP = "a period: YYYY, YYYY-Qn, YYYY-Hn, YYYY-MM, YYYY-MM-DD, or start/end of two"


@dataclass
class DataPackage:
    """The validated package: its descriptor, tables (as lists of dicts) and sources by id."""

    root: Path
    descriptor: dict
    tables: dict[str, list[dict]] = field(default_factory=dict)

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
        raise BuildError(_rel(path), f"invalid JSON: {err.msg}", line=err.lineno) from None
    if not isinstance(descriptor.get("resources"), list):
        raise BuildError(_rel(path), "no 'resources' list", expected="one resource per CSV")
    return descriptor


def _check_files(root: Path, descriptor: dict) -> None:
    described = {r.get("path") for r in descriptor["resources"]}
    for csv_path in sorted(root.glob("*.csv")):
        if csv_path.name not in described:
            raise BuildError(
                _rel(csv_path),
                "this CSV is not described in datapackage.json",
                expected=f"a resource with path '{csv_path.name}'",
            )
    for res in descriptor["resources"]:
        path = root / str(res.get("path"))
        if not path.exists():
            raise BuildError(
                _rel(root / DESCRIPTOR),
                f"resource '{res.get('name')}' points at a missing file '{res.get('path')}'",
            )
        raw = path.read_bytes()
        if not raw.strip():
            raise BuildError(_rel(path), "the file is empty", line=1, expected="a header row")
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as err:
            line = raw[: err.start].count(b"\n") + 1
            raise BuildError(
                _rel(path), "not valid UTF-8 text", line=line, expected="UTF-8"
            ) from None


def _frictionless(root: Path, descriptor: dict) -> None:
    from frictionless import FrictionlessException, Package

    where = _rel(root / DESCRIPTOR)
    try:
        report = Package(descriptor, basepath=str(root)).validate()
    except FrictionlessException as err:
        raise BuildError(where, err.error.note) from None
    # The first error is the one to fix first; later ones are often its echoes.
    for task in report.tasks:
        for error in task.errors:
            path = _rel(root / task.place) if task.place else where
            problem, place = _explain(error, _header(root / task.place))
            raise BuildError(path, problem, **place)
    for error in report.errors:
        raise BuildError(where, f"{error.title.lower()}: {error.note}")


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


def load_package(root: Path | str = "data") -> DataPackage:
    """Validate the data package under root and return its tables; raise BuildError if invalid."""
    root = Path(root)
    descriptor = read_descriptor(root)
    _check_files(root, descriptor)
    _frictionless(root, descriptor)
    pkg = DataPackage(root, descriptor)
    for res in descriptor["resources"]:
        pkg.tables[res["name"]] = _read_csv(root / res["path"])
    _check_rows(pkg)
    return pkg
