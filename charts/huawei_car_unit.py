"""Huawei's car unit: revenue and annual result

Revenue and annual profit or loss of Huawei's Intelligent Automotive Solution unit (since 2024
the business of Shenzhen Yinwang), in billion yuan, 2021 to 2024. Revenue rose more than
fivefold in 2024, the year the unit made its first full-year profit (amount not disclosed); the
2021 and 2022 losses are Richard Yu's recollection, years inferred from his order, so faded.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

TABLES = ("huawei_auto",)

YEARS = ["2021", "2022", "2023", "2024"]
REVENUE, RESULT = "Revenue", "Profit or loss"


def chart(data: dict[str, pd.DataFrame]) -> alt.LayerChart:
    """Grouped bars per year: revenue above zero, the loss below; gaps are named in place."""
    rows = data["huawei_auto"]
    rows = rows[rows["period"].isin(YEARS)]
    revenue = rows[rows["metric"] == "revenue"]
    loss = rows[rows["metric"].str.startswith("annual loss")]
    profit_event = rows[rows["id"] == "huawei_ias_first_profit_2024"]
    plotted = pd.concat(
        [
            pd.DataFrame(
                {
                    "year": revenue["period"],
                    "measure": REVENUE,
                    "value_bn_yuan": revenue["value"],
                    "note": "Annual report",
                    "confidence": revenue["confidence"],
                    "source_id": revenue["source_id"],
                }
            ),
            pd.DataFrame(
                {
                    "year": loss["period"],
                    "measure": RESULT,
                    # A loss is drawn below zero.
                    "value_bn_yuan": -loss["value"],
                    "note": [
                        "Yu's recollection; year inferred" if c == "low" else "Stated by Yu"
                        for c in loss["confidence"]
                    ],
                    "confidence": loss["confidence"],
                    "source_id": loss["source_id"],
                }
            ),
            pd.DataFrame(
                {
                    "year": profit_event["period"],
                    "measure": RESULT,
                    "value_bn_yuan": None,
                    "note": "First full-year profit; amount not disclosed",
                    "confidence": profit_event["confidence"],
                    "source_id": profit_event["source_id"],
                }
            ),
        ],
        ignore_index=True,
    )
    plotted["_label"] = [
        None
        if pd.isna(v)
        else f"{v:g} revenue"
        if v > 0
        else f"{-v:g} loss" + (" (recalled)" if c == "low" else "")
        for v, c in zip(plotted["value_bn_yuan"], plotted["confidence"], strict=True)
    ]
    x = alt.X("year:O", title=None, scale=alt.Scale(domain=YEARS), axis=alt.Axis(labelAngle=0))
    x_offset = alt.XOffset("measure:N", sort=[REVENUE, RESULT])
    y = alt.Y(
        "value_bn_yuan:Q",
        title="Billion yuan (Huawei annual reports; Yu Chengdong)",
        scale=alt.Scale(domain=[-12, 30]),
    )
    tooltip = [
        alt.Tooltip("year:O", title="Year"),
        alt.Tooltip("measure:N", title="Measure"),
        alt.Tooltip("value_bn_yuan:Q", title="Billion yuan", format=",.2f"),
        alt.Tooltip("note:N", title="Note"),
        alt.Tooltip("confidence:N", title="Confidence"),
    ]
    bars = (
        alt.Chart()
        .transform_filter("isValid(datum.value_bn_yuan)")
        .mark_bar(strokeWidth=1.5)
        .encode(
            x=x,
            xOffset=x_offset,
            y=y,
            # Revenue in the theme's first colour, results in its second; labels name both.
            color=alt.Color("measure:N", scale=alt.Scale(domain=[REVENUE, RESULT]), legend=None),
            # Fade the losses that rest on Yu's recollection alone (years inferred): a pale fill
            # with a full-colour outline, visible in both themes.
            fillOpacity=alt.condition("datum.confidence === 'low'", alt.value(0.3), alt.value(1)),
            stroke=alt.Stroke("measure:N", scale=alt.Scale(domain=[REVENUE, RESULT]), legend=None),
            tooltip=tooltip,
        )
    )
    # Each value is printed with its kind ("revenue", "loss"), so colour is never the only cue.
    labels = [
        alt.Chart()
        .transform_filter(f"isValid(datum.value_bn_yuan) && datum.value_bn_yuan {sign} 0")
        .mark_text(fontSize=11, baseline=baseline, dy=dy)
        .encode(
            x=x,
            xOffset=x_offset,
            y=y,
            text="_label:N",
            tooltip=tooltip,
        )
        for sign, baseline, dy in (("<", "top", 4), (">", "bottom", -4))
    ]
    # The 2024 profit exists but has no published amount: a marker, not a bar.
    profit = (
        alt.Chart()
        .transform_filter("!isValid(datum.value_bn_yuan)")
        .mark_text(baseline="top", fontSize=10, fontStyle="italic", lineBreak="|")
        .encode(
            x=x,
            xOffset=x_offset,
            y=alt.datum(7),
            text=alt.value("profit,|amount|not|disclosed"),
            tooltip=tooltip,
        )
    )
    # The revenue of 2021 and 2022 was not found: say so at zero.
    gaps = (
        alt.Chart()
        .transform_filter("datum.measure === 'Profit or loss' && datum.year < '2023'")
        .mark_text(baseline="top", fontSize=10, fontStyle="italic", lineBreak="|")
        .encode(
            x=x,
            xOffset=alt.datum(REVENUE),
            y=alt.datum(7),
            text=alt.value("revenue|not|found"),
            tooltip=alt.value("Huawei did not break out the unit's revenue for this year"),
        )
    )
    zero = alt.Chart().mark_rule().encode(y=alt.datum(0), tooltip=alt.value("Break-even"))
    return alt.layer(bars, zero, *labels, profit, gaps, data=plotted).properties(height=300)
