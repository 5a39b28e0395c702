"""Figures we calculate ourselves, each from sourced rows, with the formula readers see.

A derived figure is referenced in prose like any other ({{ fig id }}) and is labelled on the page
as our calculation, with its formula and the rows it uses. Nothing here may introduce a number
that is not a data row: constants other than unit conversions are not allowed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Derived:
    id: str
    metric: str
    unit: str
    inputs: tuple[str, ...]
    formula: str  # in words, naming the inputs, e.g. "fees_h1_2025 ÷ revenue_h1_2025 × 100"
    compute: Callable[..., float]
    decimals: int = 1


DERIVED: tuple[Derived, ...] = (
    Derived(
        id="our_nev_exports_share_2025",
        metric="NEV exports as a share of NEV sales (CAAM, 2025)",
        unit="percent",
        inputs=("caam_nev_exports_2025", "caam_nev_sales_2025"),
        formula="NEV exports 2025 ÷ NEV sales 2025 × 100 (both CAAM)",
        compute=lambda exports, sales: exports / sales * 100,
    ),
    Derived(
        id="our_nev_sales_multiple_2025_vs_2022",
        metric="NEV sales in 2025 as a multiple of 2022, the last subsidised year (CAAM)",
        unit="times",
        inputs=("caam_nev_sales_2025", "caam_nev_sales_2022"),
        formula="NEV sales 2025 ÷ NEV sales 2022 (both CAAM)",
        compute=lambda sales_2025, sales_2022: sales_2025 / sales_2022,
    ),
    Derived(
        id="our_caam_nev_domestic_2025",
        metric="NEV sales excluding exports (CAAM, 2025)",
        unit="vehicles",
        inputs=("caam_nev_sales_2025", "caam_nev_exports_2025"),
        formula="NEV sales 2025 − NEV exports 2025 (both CAAM)",
        compute=lambda sales, exports: sales - exports,
        decimals=0,
    ),
)


def compute_all(values: dict[str, dict]) -> dict[str, dict]:
    """Return each derived figure as a figures.json row; raise KeyError naming a missing input."""
    out = {}
    for d in DERIVED:
        missing = [i for i in d.inputs if i not in values]
        if missing:
            raise KeyError(f"derived figure '{d.id}' needs unknown row(s) {missing}")
        args = [float(values[i]["value"]) for i in d.inputs]
        out[d.id] = {
            "table": "derived",
            "entity": "our calculation",
            "metric": d.metric,
            "period": "",
            "unit": d.unit,
            "value": f"{d.compute(*args):.{d.decimals}f}",
            "formula": d.formula,
            "inputs": list(d.inputs),
            "source_id": values[d.inputs[0]]["source_id"],
            "confidence": min((values[i]["confidence"] for i in d.inputs), key=_rank),
            "note": "Our calculation from sourced rows: " + d.formula,
        }
    return out


def _rank(confidence: str) -> int:
    return {"low": 0, "medium": 1, "high": 2}.get(confidence, 0)
