"""MkDocs glue: run the chart build step before every build, including each `mkdocs serve` rebuild.

All logic lives in scripts/build_charts.py; this file only calls it, so another site generator
can run `python -m scripts.build_charts` first instead.
"""

from __future__ import annotations

from mkdocs.exceptions import Abort

from scripts import build_charts
from scripts.build_error import BuildError


def on_pre_build(config) -> None:
    try:
        build_charts.build()
    except BuildError as err:
        raise Abort(f"error: {err}") from None
