"""What Seres paid Huawei, set against what Seres took in

Procurement fees Seres paid Huawei, its largest supplier, beside Seres's revenue over the same
period, in billion yuan. The 20 billion yuan of H1 2025 was about a third of that half-year's
revenue. The cumulative 75 billion yuan is about a third of revenue if it covers 2022-2024
(36Kr), or just over a quarter if it runs to mid-2025 (NetEase and Reportify); both are shown.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

TABLES = ("fees", "seres_financials")

# Each reading: its label, the fee row it plots and the revenue rows for the same span.
READINGS = (
    ("H1 2025", "seres_huawei_procurement_2025_h1", ("seres_revenue_2025_h1",)),
    (
        "2022–2024|(36Kr's reading)",
        "seres_huawei_procurement_2022_2024",
        ("seres_revenue_2022", "seres_revenue_2023", "seres_revenue_2024"),
    ),
    (
        "2022 to mid-2025|(NetEase and|Reportify reading)",
        "seres_huawei_procurement_cum_to_2025h1",
        ("seres_revenue_2022", "seres_revenue_2023", "seres_revenue_2024", "seres_revenue_2025_h1"),
    ),
)
# The same readings named for a phone's width.
SHORT_READINGS = {
    "H1 2025": "H1 2025",
    "2022–2024|(36Kr's reading)": "2022–2024|(36Kr)",
    "2022 to mid-2025|(NetEase and|Reportify reading)": "2022 to|mid-2025|(NetEase,|Reportify)",
}
REVENUE, FEES = "Seres revenue", "Paid to Huawei"


def _part(period: str) -> str:
    return period.replace("2025-H1", "H1 2025")


def chart(data: dict[str, pd.DataFrame], layout: str = "wide") -> alt.LayerChart:
    """Paired horizontal bars per reading: revenue (stacked by year) and fees paid to Huawei.

    layout "narrow" is the phone version: shorter reading names, end labels over three lines and
    no year names inside the revenue bars (too thin to label there; the table has them).
    """
    narrow = layout == "narrow"
    fees = data["fees"].set_index("id")
    fin = data["seres_financials"].set_index("id")
    records = []
    for reading, fee_id, revenue_ids in READINGS:
        start, revenue_total = 0.0, 0.0
        for i, rid in enumerate(revenue_ids):
            row = fin.loc[rid]
            value = row["value"] / 1000  # million -> billion yuan
            revenue_total += value
            last = i == len(revenue_ids) - 1
            records.append(
                {
                    "reading": reading.replace("|", " "),
                    "_axis": reading,
                    "measure": REVENUE,
                    "period": _part(row["period"]),
                    "value_bn_yuan": value,
                    "revenue_of_span_bn_yuan": None,
                    "share_of_revenue_pct": None,
                    "confidence": row["confidence"],
                    "source_id": row["source_id"],
                    "_start": start,
                    "_end": start + value,
                    "_end_label": f"¥{revenue_total:,.1f}bn revenue" if last else None,
                    "_segment_label": (
                        _part(row["period"]) if len(revenue_ids) > 1 and not narrow else None
                    ),
                }
            )
            start += value
        fee = fees.loc[fee_id]
        records.append(
            {
                "reading": reading.replace("|", " "),
                "_axis": reading,
                "measure": FEES,
                "period": fee["period"].replace("/", "–").replace("2025-H1", "H1 2025"),
                "value_bn_yuan": fee["value"],
                # The revenue bar's total, written at its end: the table shows the sum too.
                "revenue_of_span_bn_yuan": round(revenue_total, 4),
                # Our calculation: fees ÷ summed revenue of the same span × 100.
                "share_of_revenue_pct": round(fee["value"] / revenue_total * 100, 1),
                "confidence": fee["confidence"],
                "source_id": fee["source_id"],
                "_start": 0.0,
                "_end": fee["value"],
                "_end_label": (
                    f"¥{fee['value']:g}bn to Huawei"
                    + ("|" if narrow else ": ")
                    + f"{fee['value'] / revenue_total * 100:.0f}% of revenue"
                    + ("|" if narrow else " ")
                    + "(our calculation)"
                ),
                "_segment_label": None,
            }
        )
    plotted = pd.DataFrame(records)
    if narrow:  # the axis only: the table, the CSV and the tooltips keep the full names
        plotted["_axis"] = plotted["_axis"].map(SHORT_READINGS)
    order = [SHORT_READINGS[r[0]] if narrow else r[0] for r in READINGS]
    y = alt.Y(
        "_axis:N",
        title=None,
        sort=order,
        # Break long reading names over lines at "|" so the bars keep the width.
        axis=alt.Axis(
            labelExpr="split(datum.label, '|')",
            # Room to spare: browsers' fonts run wider than the static renderer's metrics.
            minExtent=70 if narrow else 130,
            domain=False,
            ticks=False,
            labelPadding=6,
        ),
    )
    y_offset = alt.YOffset("measure:N", sort=[REVENUE, FEES])
    tooltip = [
        alt.Tooltip("reading:N", title="Reading"),
        alt.Tooltip("measure:N", title="Measure"),
        alt.Tooltip("period:N", title="Period"),
        alt.Tooltip("value_bn_yuan:Q", title="Billion yuan", format=",.1f"),
        alt.Tooltip(
            "revenue_of_span_bn_yuan:Q",
            title="Revenue of the span, billion yuan (sum of the years)",
            format=",.1f",
        ),
        alt.Tooltip(
            "share_of_revenue_pct:Q", title="Share of revenue, % (our calculation)", format=".1f"
        ),
        alt.Tooltip("confidence:N", title="Confidence"),
    ]
    bars = (
        alt.Chart()
        # A hairline gap (drawn, not data) separates the years inside a revenue bar.
        .transform_calculate(_drawn_end="max(datum._start, datum._end - 0.8)")
        .mark_bar(height={"band": 0.85}, strokeWidth=1.5)
        .encode(
            x=alt.X(
                "_start:Q",
                title=(
                    "Billion yuan (fees as media report them)"
                    if narrow
                    else "Billion yuan (revenue: company reports; fees: as reported by media)"
                ),
                scale=alt.Scale(domain=[0, 320]),
            ),
            x2="_drawn_end:Q",
            y=y,
            yOffset=y_offset,
            # Revenue in the theme's first colour, fees in its second; every bar is also named
            # by the label at its end, so colour is never the only cue.
            color=alt.Color("measure:N", scale=alt.Scale(domain=[REVENUE, FEES]), legend=None),
            # Fade the low-confidence reading of the 75 billion yuan, whose period is disputed:
            # a pale fill with a full-colour outline, so it stays visible in the dark theme too.
            fillOpacity=alt.condition("datum.confidence === 'low'", alt.value(0.3), alt.value(1)),
            stroke=alt.Stroke("measure:N", scale=alt.Scale(domain=[REVENUE, FEES]), legend=None),
            tooltip=tooltip,
        )
    )
    ends = (
        alt.Chart()
        .transform_filter("isValid(datum._end_label)")
        .mark_text(align="left", dx=4, fontSize=11, lineBreak="|")
        .encode(x="_end:Q", y=y, yOffset=y_offset, text="_end_label:N", tooltip=tooltip)
    )
    # Name each year in a revenue bar just above it, left-aligned at its start.
    segments = (
        alt.Chart()
        .transform_filter("isValid(datum._segment_label)")
        .mark_text(align="left", baseline="bottom", dx=1, dy=-13, fontSize=10)
        .encode(x="_start:Q", y=y, yOffset=y_offset, text="_segment_label:N", tooltip=tooltip)
    )
    return alt.layer(bars, ends, segments, data=plotted).properties(height=300)
