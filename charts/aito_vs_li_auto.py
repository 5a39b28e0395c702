"""AITO and Li Auto deliveries in the months both were reported

Monthly deliveries of AITO (Seres, sold with Huawei) and Li Auto, its closest rival among
large premium range-extender SUVs, for the three months in which our sources give both figures.
AITO was narrowly ahead in February 2024, behind in June 2024 and clearly ahead in June 2025,
so "AITO beat Li Auto in June" holds for 2025 but not for 2024.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

TABLES = ("deliveries",)

BRANDS = {"AITO": "aito_deliveries_", "Li Auto": "li_auto_deliveries_"}


def chart(data: dict[str, pd.DataFrame], layout: str = "wide") -> alt.Chart:
    """Paired horizontal bars per month, each labelled with its brand and number.

    layout "narrow" is the phone version: three ticks, whose labels would touch at six, and a
    shorter axis title."""
    narrow = layout == "narrow"
    rows = data["deliveries"]
    monthly = rows[rows["metric"] == "monthly deliveries"]
    frames = []
    for brand, prefix in BRANDS.items():
        own = monthly[monthly["id"].str.startswith(prefix) & monthly["entity"].eq(brand)]
        frames.append(own.assign(brand=brand))
    both = pd.concat(frames)
    # Only months in which both brands have a sourced figure: a lone bar invites a false reading.
    shared = both.groupby("period")["brand"].nunique().loc[lambda n: n == len(BRANDS)].index
    both = both[both["period"].isin(shared)]
    month = pd.to_datetime(both["period"] + "-01")
    plotted = pd.DataFrame(
        {
            "month": month.dt.strftime("%b %Y"),
            "period": both["period"],
            "brand": both["brand"],
            "deliveries": both["value"],
            "label": both["brand"] + " " + both["value"].map("{:,.0f}".format),
            "source_id": both["source_id"],
            "confidence": both["confidence"],
        }
    ).sort_values(["period", "brand"])
    order = list(dict.fromkeys(plotted["month"]))

    y = alt.Y("month:O", title=None, sort=order, axis=alt.Axis(minExtent=70))
    y_offset = alt.YOffset("brand:N", sort=list(BRANDS))
    tooltip = [
        alt.Tooltip("month:O", title="Month"),
        alt.Tooltip("brand:N", title="Brand"),
        alt.Tooltip("deliveries:Q", title="Deliveries (company figures)", format=",.0f"),
        alt.Tooltip("confidence:N", title="Confidence"),
    ]
    base = alt.Chart().encode(y=y, yOffset=y_offset, tooltip=tooltip)
    # AITO in the highlight colour, Li Auto in the context grey; the labels name both anyway.
    bars = base.mark_bar(height={"band": 0.9}).encode(
        x=alt.X(
            "deliveries:Q",
            title=(
                "Deliveries in the month (vehicles)"
                if narrow
                else "Deliveries in the month (vehicles, company figures)"
            ),
            # Room on the right for the longest label.
            scale=alt.Scale(domain=[0, 58_000]),
            axis=alt.Axis(values=[0, 20_000, 40_000]) if narrow else alt.Axis(tickCount=6),
        ),
        color=alt.Color(
            "brand:N",
            scale=alt.Scale(domain=list(BRANDS), range=["#0072B2", "#8c8c8c"]),
            legend=None,
        ),
    )
    labels = base.mark_text(align="left", dx=4, fontSize=12).encode(
        x="deliveries:Q", text="label:N"
    )
    return (
        alt.layer(bars, labels, data=plotted).resolve_scale(yOffset="shared").properties(height=260)
    )
