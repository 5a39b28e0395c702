"""The data package validates, and every kind of broken input stops the build with its place."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from scripts.build_error import BuildError
from scripts.load_data import load_package

ROOT = Path(__file__).resolve().parent.parent
TABLE = "nev_market_annual.csv"


def test_real_package_validates():
    pkg = load_package(ROOT / "data")
    assert len(pkg.tables["nev_market_annual"]) > 10
    assert all(row["source_id"] in pkg.sources for row in pkg.tables["nev_market_annual"])


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def replace_cell(path: Path, line: int, column: str, value: str) -> None:
    rows = _lines(path)
    header = rows[0].rstrip("\n").split(",")
    import csv
    import io

    cells = next(csv.reader(io.StringIO(rows[line - 1])))
    cells[header.index(column)] = value
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(cells)
    rows[line - 1] = buf.getvalue()
    path.write_text("".join(rows), encoding="utf-8")


def break_missing_column(d: Path) -> None:
    rows = _lines(d / TABLE)
    path = d / TABLE
    path.write_text(
        "".join(",".join(r.rstrip("\n").split(",")[:-1]) + "\n" for r in rows[:1])
        + "".join(rows[1:]),
        encoding="utf-8",
    )


def break_wrong_type(d: Path) -> None:
    replace_cell(d / TABLE, 3, "value", "lots")


def break_unknown_source(d: Path) -> None:
    replace_cell(d / TABLE, 4, "source_id", "no_such_source")


def break_bad_period(d: Path) -> None:
    replace_cell(d / TABLE, 5, "period", "2024-13")


def break_duplicate_key(d: Path) -> None:
    rows = _lines(d / TABLE)
    first_id = rows[1].split(",")[0]
    replace_cell(d / TABLE, 6, "id", first_id)


def break_out_of_constraint(d: Path) -> None:
    replace_cell(d / TABLE, 7, "confidence", "certain")


def break_empty_file(d: Path) -> None:
    (d / TABLE).write_text("", encoding="utf-8")


def break_stray_delimiter(d: Path) -> None:
    rows = _lines(d / TABLE)
    rows[7] = rows[7].rstrip("\n") + ",extra\n"
    (d / TABLE).write_text("".join(rows), encoding="utf-8")


def break_bad_encoding(d: Path) -> None:
    raw = (d / TABLE).read_bytes().split(b"\n")
    raw[8] = raw[8].replace(b"China", b"Chin\xe9", 1)
    (d / TABLE).write_bytes(b"\n".join(raw))


def break_missing_entry(d: Path) -> None:
    shutil.copy(d / TABLE, d / "undescribed.csv")


def break_negative_value(d: Path) -> None:
    replace_cell(d / TABLE, 9, "value", "-5")


def break_unknown_unit(d: Path) -> None:
    replace_cell(d / TABLE, 10, "unit", "furlongs")


def break_invalid_json(d: Path) -> None:
    text = (d / "datapackage.json").read_text(encoding="utf-8")
    (d / "datapackage.json").write_text(text.replace('"resources"', '"resources" "', 1))


def break_missing_url(d: Path) -> None:
    replace_cell(d / "sources.csv", 2, "url", "")


# (how to break it, file named, line named or None, field named or None)
BROKEN = [
    (break_missing_column, TABLE, 1, None),
    (break_wrong_type, TABLE, 3, "value"),
    (break_unknown_source, TABLE, 4, "source_id"),
    (break_bad_period, TABLE, 5, "period"),
    (break_duplicate_key, TABLE, 6, "id"),
    (break_out_of_constraint, TABLE, 7, "confidence"),
    (break_empty_file, TABLE, 1, None),
    (break_stray_delimiter, TABLE, 8, None),
    (break_bad_encoding, TABLE, 9, None),
    (break_missing_entry, "undescribed.csv", None, None),
    (break_negative_value, TABLE, 9, "value"),
    (break_unknown_unit, TABLE, 10, "unit"),
    (break_invalid_json, "datapackage.json", None, None),
    (break_missing_url, "sources.csv", 2, "url"),
]


@pytest.mark.parametrize("breaker,file,line,field", BROKEN, ids=[b[0].__name__ for b in BROKEN])
def test_broken_input_names_file_line_and_field(tmp_path, breaker, file, line, field):
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    breaker(data)
    with pytest.raises(BuildError) as caught:
        load_package(data)
    err = caught.value
    message = str(err)
    assert Path(err.file).name == file, message
    assert file in message
    if line is not None:
        assert err.line == line, message
        assert f"{file}:{line}" in message
    if field is not None:
        assert err.field == field, message
        assert f"'{field}'" in message


def test_every_table_is_described_with_units_and_fields():
    descriptor = json.loads((ROOT / "data" / "datapackage.json").read_text(encoding="utf-8"))
    for res in descriptor["resources"]:
        assert res.get("title") and res.get("description"), res["name"]
        for f in res["schema"]["fields"]:
            assert f.get("title") and f.get("description"), (res["name"], f["name"])
