"""China's new-energy vehicle sales by year (CAAM)

How many battery-electric, plug-in hybrid and fuel-cell vehicles China's makers sold each year,
2014 to 2025: passenger and commercial, wholesale, exports included, as counted by CAAM. Sales
fell only once (2019, after the subsidy was halved) and kept climbing after the national purchase
subsidy ended on 31 December 2022.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

TABLES = ("nev_market_annual",)


def chart(data: dict[str, pd.DataFrame]) -> alt.Chart:
    """Bar chart of CAAM annual NEV sales, in millions of vehicles."""
    rows = data["nev_market_annual"]
    rows = rows[(rows["metric"] == "NEV sales") & rows["entity"].str.contains("CAAM")]
    plotted = pd.DataFrame(
        {
            "year": rows["period"].astype(int),
            "nev_sales_million": rows["value"] / 1e6,
            "confidence": rows["confidence"],
            "source_id": rows["source_id"],
        }
    ).sort_values("year")
    return (
        alt.Chart(plotted)
        .mark_bar()
        .encode(
            x=alt.X("year:O", title=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("nev_sales_million:Q", title="NEV sales, million vehicles (CAAM)"),
            # Fade bars resting on a single or secondary source, so doubt is visible at a glance.
            opacity=alt.condition("datum.confidence === 'high'", alt.value(1), alt.value(0.55)),
            tooltip=[
                alt.Tooltip("year:O", title="Year"),
                alt.Tooltip("nev_sales_million:Q", title="NEV sales (million)", format=".2f"),
                alt.Tooltip("confidence:N", title="Confidence"),
            ],
        )
        .properties(height=280)
    )
