"""The contributor guide (docs/contributing.md) is tested like code: every chart module, every
dataset and every make command must be in it, so adding one without documenting it fails."""

from __future__ import annotations

import json
import re

import pytest

from scripts.build_charts import chart_names
from tests.conftest import ROOT

GUIDE = ROOT / "docs" / "contributing.md"


def guide() -> str:
    return GUIDE.read_text(encoding="utf-8")


def make_targets() -> list[str]:
    """The public commands: Makefile rules with a `## description` (what `make help` lists)."""
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return re.findall(r"^([a-z][a-z-]*):[^\n]*## ", text, re.M)


def datasets() -> list[tuple[str, str]]:
    package = json.loads((ROOT / "data" / "datapackage.json").read_text(encoding="utf-8"))
    return [(r["name"], r["path"]) for r in package["resources"]]


def test_there_is_something_to_document():
    assert chart_names(ROOT / "charts") and datasets()
    assert {"serve", "build", "test", "bench"} <= set(make_targets())


def mentions(word: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(word)}(?!\w)", guide()) is not None


@pytest.mark.parametrize("name", chart_names(ROOT / "charts"))
def test_guide_mentions_every_chart(name):
    found = mentions(name)
    assert found, f"docs/contributing.md does not mention the chart {name}"


@pytest.mark.parametrize("name,path", datasets(), ids=[d[0] for d in datasets()])
def test_guide_mentions_every_dataset(name, path):
    found = mentions(name) or mentions(path)
    assert found, f"docs/contributing.md does not mention the dataset {name} ({path})"


@pytest.mark.parametrize("target", make_targets())
def test_guide_mentions_every_make_command(target):
    found = f"make {target}" in guide()
    assert found, f"docs/contributing.md does not describe `make {target}`"


def test_guide_says_what_each_error_means():
    headings = [h.lower() for h in re.findall(r"^#+\s+(.*)$", guide(), re.M)]
    found = any("error" in h or "fail" in h for h in headings)
    assert found, "docs/contributing.md has no section on build errors"
