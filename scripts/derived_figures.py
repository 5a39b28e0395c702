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
    # The channel advantage (docs/channel.md) and the claims check (docs/claims.md).
    Derived(
        id="our_aito_growth_2024",
        metric="AITO deliveries 2024 as a multiple of 2023",
        unit="times",
        inputs=("aito_deliveries_2024", "aito_deliveries_2023"),
        formula="AITO deliveries 2024 ÷ AITO deliveries 2023",
        compute=lambda y2024, y2023: y2024 / y2023,
    ),
    Derived(
        id="our_m9_share_of_aito_2024",
        metric="AITO M9 as a share of all AITO deliveries (2024)",
        unit="percent",
        inputs=("aito_m9_deliveries_2024", "aito_deliveries_2024"),
        formula="M9 deliveries 2024 ÷ AITO deliveries 2024 × 100",
        compute=lambda m9, aito: m9 / aito * 100,
        decimals=0,
    ),
    Derived(
        id="our_li_lead_over_aito_2024_06",
        metric="Li Auto deliveries minus AITO deliveries (June 2024)",
        unit="vehicles",
        inputs=("li_auto_deliveries_2024_06", "aito_deliveries_2024_06"),
        formula="Li Auto June 2024 deliveries − AITO June 2024 deliveries",
        compute=lambda li, aito: li - aito,
        decimals=0,
    ),
    Derived(
        id="our_aito_lead_over_li_2025_06",
        metric="AITO deliveries minus Li Auto deliveries (June 2025)",
        unit="vehicles",
        inputs=("aito_deliveries_2025_06", "li_auto_deliveries_2025_06"),
        formula="AITO June 2025 deliveries − Li Auto June 2025 deliveries",
        compute=lambda aito, li: aito - li,
        decimals=0,
    ),
    Derived(
        id="our_fee_per_aito_2025_h1",
        metric="Huawei fees per AITO sold, first half of 2025 (prospectus-based sales)",
        unit="yuan_per_vehicle",
        inputs=("seres_huawei_procurement_2025_h1", "aito_sales_2025_h1_prospectus"),
        formula="fees paid to Huawei H1 2025 ÷ AITO sales H1 2025 (prospectus, rounded)",
        compute=lambda fees_bn, sold: fees_bn * 1e9 / sold,
        decimals=0,
    ),
    Derived(
        id="our_fee_per_aito_2025_h1_ichq",
        metric="Huawei fees per AITO delivered, first half of 2025 (iChongqing deliveries)",
        unit="yuan_per_vehicle",
        inputs=("seres_huawei_procurement_2025_h1", "aito_deliveries_2025_h1_ichq"),
        formula="fees paid to Huawei H1 2025 ÷ AITO deliveries H1 2025 (iChongqing, 'more than')",
        compute=lambda fees_bn, delivered: fees_bn * 1e9 / delivered,
        decimals=0,
    ),
    Derived(
        id="our_fee_per_vehicle_usd",
        metric="media estimate of Huawei fees per AITO, in US dollars",
        unit="usd_per_vehicle",
        inputs=("seres_huawei_fee_per_vehicle", "fx_cny_usd_2025_01"),
        formula="fee per AITO (yuan, media estimate) ÷ yuan per US dollar (Fed, January 2025)",
        compute=lambda yuan, rate: yuan / rate,
        decimals=0,
    ),
    # The policy shift (docs/policy-shift.md).
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
