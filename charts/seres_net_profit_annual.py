"""Seres net profit by year

Seres Group's net profit attributable to shareholders, in billion yuan, 2020 to 2024. Seres lost
money every year from 2020 to 2023, its deepest loss coming in 2022, AITO's first full year, and
made its first annual profit in 2024; no 2019 profit figure and no full-year 2025 result was found.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

TABLES = ("seres_financials",)

YEARS = [str(y) for y in range(2019, 2026)]


def chart(data: dict[str, pd.DataFrame]) -> alt.LayerChart:
    """Diverging bars of Seres's annual attributable net profit; missing years are named."""
    rows = data["seres_financials"]
    rows = rows[(rows["metric"] == "net profit attributable") & rows["period"].isin(YEARS)]
    plotted = pd.DataFrame(
        {
            "year": rows["period"],
            "net_profit_bn_yuan": rows["value"] / 1000,
            "result": ["profit" if v > 0 else "loss" for v in rows["value"]],
            "confidence": rows["confidence"],
            "source_id": rows["source_id"],
        }
    ).sort_values("year")
    x = alt.X("year:O", title=None, scale=alt.Scale(domain=YEARS), axis=alt.Axis(labelAngle=0))
    tooltip = [
        alt.Tooltip("year:O", title="Year"),
        alt.Tooltip("net_profit_bn_yuan:Q", title="Net profit (billion yuan)", format=",.2f"),
        alt.Tooltip("result:N", title="Result"),
        alt.Tooltip("confidence:N", title="Confidence"),
    ]
    y = alt.Y(
        "net_profit_bn_yuan:Q",
        title="Net profit attributable, billion yuan (company)",
        scale=alt.Scale(domain=[-5, 7]),
    )
    bars = (
        alt.Chart()
        .mark_bar(strokeWidth=1.5)
        .encode(
            x=x,
            y=y,
            # Profit in the theme's first colour, losses in its second; the zero line and the
            # signed labels carry the same message without colour.
            color=alt.Color("result:N", scale=alt.Scale(domain=["profit", "loss"]), legend=None),
            # Fade low-confidence bars: a pale fill with a full-colour outline, so doubt is
            # visible at a glance and the bar still shows on the dark background.
            fillOpacity=alt.condition("datum.confidence === 'low'", alt.value(0.3), alt.value(1)),
            stroke=alt.Stroke("result:N", scale=alt.Scale(domain=["profit", "loss"]), legend=None),
            tooltip=tooltip,
        )
    )
    # Print each value beyond the end of its bar: below for a loss, above for the profit.
    labels = [
        alt.Chart()
        .transform_filter(f"datum.net_profit_bn_yuan {sign} 0")
        .mark_text(fontSize=11, baseline=baseline, dy=dy)
        .encode(x=x, y=y, text=alt.Text("net_profit_bn_yuan:Q", format="+,.1f"), tooltip=tooltip)
        for sign, baseline, dy in (("<", "top", 4), (">", "bottom", -4))
    ]
    zero = alt.Chart().mark_rule().encode(y=alt.datum(0), tooltip=alt.value("Break-even"))
    # Name the missing years in place instead of leaving silent holes (one label each).
    gaps = [
        alt.Chart()
        .transform_filter("datum.year === '2024'")
        .mark_text(baseline="bottom", dy=-4, fontStyle="italic", fontSize=11)
        .encode(
            x=alt.datum(year),
            y=alt.datum(0),
            text=alt.value("not found"),
            tooltip=alt.value(why),
        )
        for year, why in (
            ("2019", "No 2019 net profit figure was in our sources (revenue only)"),
            ("2025", "Seres's full-year 2025 results were not in our sources"),
        )
    ]
    return alt.layer(bars, zero, *labels, *gaps, data=plotted).properties(height=280)
