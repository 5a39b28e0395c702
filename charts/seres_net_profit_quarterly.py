"""Seres net profit by quarter, where a figure was found

Seres Group's net profit attributable to shareholders in each quarter for which we found a
figure, Q1 2023 to Q3 2025, in billion yuan; quarters with no figure are left empty. The swing
from a loss in Q1 2023 to profits from Q1 2024 onwards coincides with the revamped AITO M7 and
the new M9; two of the five figures rest on single secondary sites and are faded.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

TABLES = ("seres_financials",)

QUARTERS = [f"{y}-Q{q}" for y in (2023, 2024, 2025) for q in (1, 2, 3, 4)][:-1]


def chart(data: dict[str, pd.DataFrame], layout: str = "wide") -> alt.LayerChart:
    """Bars of quarterly attributable net profit; revenue rides along in the tooltip and table.

    layout "narrow" is the phone version: each quarter labelled on two lines, the year only
    under its first quarter, as "Q1 2023" side by side would run into each other."""
    narrow = layout == "narrow"
    quarter, year = "split(datum.label, '-')[1]", "split(datum.label, '-')[0]"
    label = (
        f"[{quarter}, {quarter} == 'Q1' ? {year} : '']" if narrow else f"{quarter} + ' ' + {year}"
    )
    rows = data["seres_financials"]
    quarterly = rows[rows["period"].isin(QUARTERS)]
    profit = quarterly[quarterly["metric"] == "net profit attributable"].set_index("period")
    revenue = quarterly[quarterly["metric"] == "revenue"].set_index("period")["value"]
    plotted = pd.DataFrame(
        {
            "quarter": profit.index,
            "net_profit_bn_yuan": profit["value"].to_numpy() / 1000,
            # Revenue comes from the same source as the profit in every quarter plotted.
            "revenue_bn_yuan": revenue.reindex(profit.index).to_numpy() / 1000,
            "result": ["profit" if v > 0 else "loss" for v in profit["value"]],
            "confidence": profit["confidence"].to_numpy(),
            "source_id": profit["source_id"].to_numpy(),
        }
    ).sort_values("quarter")
    x = alt.X(
        "quarter:O",
        title=None,
        scale=alt.Scale(domain=QUARTERS),
        axis=alt.Axis(labelAngle=0, labelExpr=label),
    )
    y = alt.Y(
        "net_profit_bn_yuan:Q",
        title="Net profit attributable, billion yuan (company)",
        scale=alt.Scale(domain=[-1, 3]),
    )
    tooltip = [
        alt.Tooltip("quarter:O", title="Quarter"),
        alt.Tooltip("net_profit_bn_yuan:Q", title="Net profit (billion yuan)", format=",.2f"),
        alt.Tooltip("revenue_bn_yuan:Q", title="Revenue (billion yuan)", format=",.1f"),
        alt.Tooltip("result:N", title="Result"),
        alt.Tooltip("confidence:N", title="Confidence"),
    ]
    bars = (
        alt.Chart()
        .mark_bar(strokeWidth=1.5)
        .encode(
            x=x,
            y=y,
            # Profit in the theme's first colour, the loss in its second; the zero line and the
            # signed labels carry the same message without colour.
            color=alt.Color("result:N", scale=alt.Scale(domain=["profit", "loss"]), legend=None),
            # Fade low-confidence bars: a pale fill with a full-colour outline, so doubt is
            # visible at a glance and the bar still shows on the dark background.
            fillOpacity=alt.condition("datum.confidence === 'low'", alt.value(0.3), alt.value(1)),
            stroke=alt.Stroke("result:N", scale=alt.Scale(domain=["profit", "loss"]), legend=None),
            tooltip=tooltip,
        )
    )
    labels = [
        alt.Chart()
        .transform_filter(f"datum.net_profit_bn_yuan {sign} 0")
        .mark_text(fontSize=11, baseline=baseline, dy=dy)
        .encode(x=x, y=y, text=alt.Text("net_profit_bn_yuan:Q", format="+,.2f"), tooltip=tooltip)
        for sign, baseline, dy in (("<", "top", 4), (">", "bottom", -4))
    ]
    zero = alt.Chart().mark_rule().encode(y=alt.datum(0), tooltip=alt.value("Break-even"))
    # Mark each quarter with no figure, so an empty slot reads as "not found", not as zero.
    found = set(plotted["quarter"])
    gaps = [
        alt.Chart()
        .transform_filter(f"datum.quarter === '{plotted['quarter'].iloc[-1]}'")
        # On a phone two neighbouring gaps' words would touch: there they stand upright.
        .mark_text(
            **(
                {"angle": 270, "align": "left", "baseline": "middle", "dx": 4}
                if narrow
                else {"baseline": "bottom", "dy": -4}
            ),
            fontSize=10,
            fontStyle="italic",
        )
        .encode(
            x=alt.datum(q),
            y=alt.datum(0),
            text=alt.value("not found"),
            tooltip=alt.value(f"{q}: no attributable net profit figure found"),
        )
        for q in QUARTERS
        if q not in found
    ]
    return alt.layer(bars, zero, *labels, *gaps, data=plotted).properties(height=280)
