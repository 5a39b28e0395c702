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
    # --- The fee flows (docs/fee-flows.md) ---
    Derived(
        id="our_fee_share_rev_2025_h1",
        metric="Procurement fees paid to Huawei as a share of Seres revenue, H1 2025",
        unit="percent",
        inputs=("seres_huawei_procurement_2025_h1", "seres_revenue_2025_h1"),
        formula="fees paid to Huawei H1 2025 ÷ Seres revenue H1 2025 × 100",
        compute=lambda fees_bn, revenue_m: fees_bn * 1000 / revenue_m * 100,
    ),
    Derived(
        id="our_seres_revenue_2022_2024",
        metric="Seres revenue summed over 2022-2024",
        unit="billion_yuan",
        inputs=("seres_revenue_2022", "seres_revenue_2023", "seres_revenue_2024"),
        formula="Seres revenue 2022 + 2023 + 2024 (A-share basis)",
        compute=lambda r22, r23, r24: (r22 + r23 + r24) / 1000,
    ),
    Derived(
        id="our_fee_share_rev_2022_2024",
        metric="75 bn yuan of fees as a share of Seres revenue, if it covers 2022-2024 (36Kr)",
        unit="percent",
        inputs=(
            "seres_huawei_procurement_2022_2024",
            "seres_revenue_2022",
            "seres_revenue_2023",
            "seres_revenue_2024",
        ),
        formula="fees paid to Huawei 2022-2024 ÷ (Seres revenue 2022 + 2023 + 2024) × 100",
        compute=lambda fees_bn, r22, r23, r24: fees_bn * 1000 / (r22 + r23 + r24) * 100,
    ),
    Derived(
        id="our_seres_revenue_2022_2025h1",
        metric="Seres revenue summed over 2022 to H1 2025",
        unit="billion_yuan",
        inputs=(
            "seres_revenue_2022",
            "seres_revenue_2023",
            "seres_revenue_2024",
            "seres_revenue_2025_h1",
        ),
        formula="Seres revenue 2022 + 2023 + 2024 + H1 2025",
        compute=lambda r22, r23, r24, h125: (r22 + r23 + r24 + h125) / 1000,
    ),
    Derived(
        id="our_fee_share_rev_2022_2025h1",
        metric="75 bn yuan of fees as a share of Seres revenue, if it runs to H1 2025 (163.com)",
        unit="percent",
        inputs=(
            "seres_huawei_procurement_cum_to_2025h1",
            "seres_revenue_2022",
            "seres_revenue_2023",
            "seres_revenue_2024",
            "seres_revenue_2025_h1",
        ),
        formula="fees paid to Huawei 2022-H1 2025 ÷ (Seres revenue 2022 + 2023 + 2024 + H1 2025)"
        " × 100",
        compute=lambda fees_bn, r22, r23, r24, h125: (
            fees_bn * 1000 / (r22 + r23 + r24 + h125) * 100
        ),
    ),
    Derived(
        id="our_aito_deliveries_2022_2024",
        metric="AITO deliveries summed over 2022-2024",
        unit="vehicles",
        inputs=("aito_deliveries_2022", "aito_deliveries_2023", "aito_deliveries_2024"),
        formula="AITO deliveries 2022 + 2023 + 2024",
        compute=lambda d22, d23, d24: d22 + d23 + d24,
        decimals=0,
    ),
    Derived(
        id="our_fee_per_aito_2022_2024",
        metric="75 bn yuan of fees per AITO delivered, if it covers 2022-2024",
        unit="yuan_per_vehicle",
        inputs=(
            "seres_huawei_procurement_2022_2024",
            "aito_deliveries_2022",
            "aito_deliveries_2023",
            "aito_deliveries_2024",
        ),
        formula="fees paid to Huawei 2022-2024 ÷ (AITO deliveries 2022 + 2023 + 2024)",
        compute=lambda fees_bn, d22, d23, d24: fees_bn * 1e9 / (d22 + d23 + d24),
        decimals=0,
    ),
    Derived(
        id="our_fee_per_aito_2022_2025h1",
        metric="75 bn yuan of fees per AITO delivered, if it runs to H1 2025",
        unit="yuan_per_vehicle",
        inputs=(
            "seres_huawei_procurement_cum_to_2025h1",
            "aito_deliveries_2022",
            "aito_deliveries_2023",
            "aito_deliveries_2024",
            "aito_sales_2025_h1_prospectus",
        ),
        formula="fees paid to Huawei 2022-H1 2025 ÷ (AITO deliveries 2022 + 2023 + 2024 +"
        " AITO sales H1 2025, prospectus)",
        compute=lambda fees_bn, d22, d23, d24, h125: fees_bn * 1e9 / (d22 + d23 + d24 + h125),
        decimals=0,
    ),
    Derived(
        id="our_seres_revenue_multiple_2024",
        metric="Seres revenue 2024 as a multiple of 2023",
        unit="times",
        inputs=("seres_revenue_2024", "seres_revenue_2023"),
        formula="Seres revenue 2024 ÷ Seres revenue 2023",
        compute=lambda r24, r23: r24 / r23,
    ),
    Derived(
        id="our_huawei_ias_revenue_multiple_2024",
        metric="Huawei car-unit revenue 2024 as a multiple of 2023",
        unit="times",
        inputs=("huawei_ias_revenue_2024", "huawei_ias_revenue_2023"),
        formula="Huawei IAS revenue 2024 ÷ Huawei IAS revenue 2023",
        compute=lambda r24, r23: r24 / r23,
    ),
    Derived(
        id="our_h1_2025_share_of_cumulative",
        metric="H1 2025 fees as a share of the 75 bn yuan, if the 75 bn runs to H1 2025",
        unit="percent",
        inputs=("seres_huawei_procurement_2025_h1", "seres_huawei_procurement_cum_to_2025h1"),
        formula="fees paid to Huawei H1 2025 ÷ fees paid 2022-H1 2025 × 100",
        compute=lambda h125_bn, total_bn: h125_bn / total_bn * 100,
    ),
    Derived(
        id="our_huawei_ias_revenue_2023_2024",
        metric="Huawei car-unit revenue summed over 2023-2024",
        unit="billion_yuan",
        inputs=("huawei_ias_revenue_2023", "huawei_ias_revenue_2024"),
        formula="Huawei IAS revenue 2023 + 2024",
        compute=lambda r23, r24: r23 + r24,
        decimals=2,
    ),
    Derived(
        id="our_trademark_price_vs_appraisal",
        metric="Price Seres paid for the AITO trademarks as a share of their appraised value",
        unit="percent",
        inputs=("aito_trademark_price", "aito_trademark_appraisal"),
        formula="trademark price (Jul 2024) ÷ appraised value (May 2024) × 100",
        compute=lambda price, appraisal: price / appraisal * 100,
    ),
    # --- The dependency risk (docs/dependency.md) ---
    Derived(
        id="our_aito_revenue_share_2024",
        metric="AITO brand revenue as a share of Seres revenue, 2024",
        unit="percent",
        inputs=("aito_revenue_2024", "seres_revenue_2024"),
        formula="AITO brand revenue 2024 ÷ Seres revenue 2024 × 100",
        compute=lambda aito_m, seres_m: aito_m / seres_m * 100,
    ),
    Derived(
        id="our_aito_share_hima_2024_06",
        metric="AITO deliveries as a share of HIMA deliveries, June 2024",
        unit="percent",
        inputs=("aito_deliveries_2024_06", "hima_deliveries_2024_06"),
        formula="AITO deliveries June 2024 ÷ HIMA deliveries June 2024 × 100",
        compute=lambda aito, hima: aito / hima * 100,
    ),
    Derived(
        id="our_aito_share_hima_2025_06",
        metric="AITO deliveries as a share of HIMA deliveries, June 2025",
        unit="percent",
        inputs=("aito_deliveries_2025_06", "hima_deliveries_2025_06"),
        formula="AITO deliveries June 2025 ÷ HIMA deliveries June 2025 × 100",
        compute=lambda aito, hima: aito / hima * 100,
    ),
    # The what-if chart (charts/fee_what_if.py) at its sourced defaults.
    Derived(
        id="our_aito_revenue_per_vehicle_2024",
        metric="AITO brand revenue per AITO delivered, 2024",
        unit="yuan_per_vehicle",
        inputs=("aito_revenue_2024", "aito_deliveries_2024"),
        formula="AITO brand revenue 2024 ÷ AITO deliveries 2024",
        compute=lambda revenue_m, delivered: revenue_m * 1e6 / delivered,
        decimals=0,
    ),
    Derived(
        id="our_seres_non_aito_revenue_2024",
        metric="Seres revenue not from AITO, 2024",
        unit="billion_yuan",
        inputs=("seres_revenue_2024", "aito_revenue_2024"),
        formula="Seres revenue 2024 − AITO brand revenue 2024",
        compute=lambda seres_m, aito_m: (seres_m - aito_m) / 1000,
    ),
    Derived(
        id="our_implied_fees_2024",
        metric="Implied payments to Huawei in 2024 at the media's per-vehicle estimate",
        unit="billion_yuan",
        inputs=("seres_huawei_fee_per_vehicle", "aito_deliveries_2024"),
        formula="fee per AITO vehicle (media estimate) × AITO deliveries 2024",
        compute=lambda fee, delivered: fee * delivered / 1e9,
    ),
    Derived(
        id="our_implied_fee_share_2024",
        metric="Implied payments to Huawei as a share of Seres revenue, 2024",
        unit="percent",
        inputs=("seres_huawei_fee_per_vehicle", "aito_deliveries_2024", "seres_revenue_2024"),
        formula="fee per AITO vehicle (media estimate) × AITO deliveries 2024 ÷ Seres revenue"
        " 2024 × 100",
        compute=lambda fee, delivered, revenue_m: fee * delivered / (revenue_m * 1e6) * 100,
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
