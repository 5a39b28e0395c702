"""Seres revenue by year

Seres Group's annual revenue in billion yuan, 2019 to 2024, as the company reported it on its
Shanghai A-share basis. Revenue roughly doubled in 2022, the first year of AITO deliveries, held
flat in 2023 and then quadrupled in 2024; full-year 2025 results were not in our sources.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

TABLES = ("seres_financials",)

YEARS = [str(y) for y in range(2019, 2026)]


def chart(data: dict[str, pd.DataFrame]) -> alt.LayerChart:
    """Bar chart of Seres's annual revenue (A-share basis), with the missing 2025 left empty."""
    rows = data["seres_financials"]
    rows = rows[(rows["metric"] == "revenue") & rows["period"].isin(YEARS)]
    plotted = pd.DataFrame(
        {
            "year": rows["period"],
            "revenue_bn_yuan": rows["value"] / 1000,
            "confidence": rows["confidence"],
            "source_id": rows["source_id"],
        }
    ).sort_values("year")
    x = alt.X("year:O", title=None, scale=alt.Scale(domain=YEARS), axis=alt.Axis(labelAngle=0))
    tooltip = [
        alt.Tooltip("year:O", title="Year"),
        alt.Tooltip("revenue_bn_yuan:Q", title="Revenue (billion yuan)", format=",.1f"),
        alt.Tooltip("confidence:N", title="Confidence"),
    ]
    bars = (
        alt.Chart()
        .mark_bar()
        .encode(
            x=x,
            y=alt.Y("revenue_bn_yuan:Q", title="Revenue, billion yuan (company, A-share basis)"),
            # Fade low-confidence bars (none at present): a pale fill with a full-colour outline.
            fillOpacity=alt.condition("datum.confidence === 'low'", alt.value(0.3), alt.value(1)),
            tooltip=tooltip,
        )
    )
    # Print each value on its bar so no reader has to estimate it from the axis.
    labels = (
        alt.Chart()
        .mark_text(dy=-4, baseline="bottom", fontSize=11)
        .encode(
            x=x,
            y="revenue_bn_yuan:Q",
            text=alt.Text("revenue_bn_yuan:Q", format=",.1f"),
            tooltip=tooltip,
        )
    )
    # Name the missing year in place instead of leaving a silent hole (one label, not one per row).
    gap = (
        alt.Chart()
        .transform_filter("datum.year === '2024'")
        .mark_text(baseline="bottom", dy=-4, fontStyle="italic", fontSize=11)
        .encode(
            x=alt.datum("2025"),
            y=alt.datum(0),
            text=alt.value("not yet found"),
            tooltip=alt.value("Seres's full-year 2025 results were not in our sources"),
        )
    )
    return alt.layer(bars, labels, gap, data=plotted).properties(height=300)
