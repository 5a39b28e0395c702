"""Stores selling AITO and other Huawei-partnered cars: counts and plans, 2021–2025

Every store figure we found, from Huawei's own shops in 2021 to dedicated HIMA showrooms planned
for 2025. Filled circles are counts that were reported at the time; hollow diamonds are plans or
targets, drawn at the date they were due. No figure reaches much beyond a thousand stores, far
below the five thousand the article claims; dashed lines mark when Huawei began selling cars and
when it began handing sales back to its partners.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from charts._theme import PALETTE_LIGHT

TABLES = ("channel", "events")

COUNT, PLAN = "Count reported", "Plan or target"
# Channel milestones from the timeline, drawn as context lines.
EVENTS = ("ev_2021_04_20_huawei_to_sell_cars", "ev_2025_07_04_huawei_cedes_sales_control")
EVENT_LABELS = {
    "ev_2021_04_20_huawei_to_sell_cars": "Huawei starts selling cars",
    "ev_2025_07_04_huawei_cedes_sales_control": "Huawei cedes some sales control",
}
# On a phone: shorter words, and the second a line lower, so the two do not meet mid-chart.
NARROW_EVENT_LABELS = {
    "ev_2021_04_20_huawei_to_sell_cars": "Huawei sells cars",
    "ev_2025_07_04_huawei_cedes_sales_control": "Huawei cedes control",
}


def _position(period: str, is_plan: bool) -> pd.Timestamp:
    """Place a period on the time axis: plans at the date they were due, counts mid-period."""
    parts = period.split("-")
    if len(parts) == 3:
        return pd.Timestamp(period)
    if len(parts) == 2:
        month = pd.Period(period, freq="M")
        return month.end_time.normalize() if is_plan else month.start_time + pd.Timedelta(days=14)
    year = pd.Period(period, freq="Y")
    return year.end_time.normalize() if is_plan else year.start_time + pd.Timedelta(days=182)


def _label(value: float, metric: str, is_plan: bool) -> str:
    text = f"{value:,.0f}" + ("+" if "more than" in metric else "")
    return f"{text} (plan)" if is_plan else text


def chart(data: dict[str, pd.DataFrame], layout: str = "wide") -> alt.Chart:
    """Dot chart of store counts (filled) and plans (hollow) over time, with two channel events.

    layout "narrow" is the phone version: shorter event labels on two lines of their own, and
    plans' numbers without "(plan)" (their hollow diamonds and the legend say so)."""
    narrow = layout == "narrow"
    stores = data["channel"]
    is_plan = stores["metric"].str.contains("plan|expected", case=False)
    points = pd.DataFrame(
        {
            "date": [_position(p, bool(x)) for p, x in zip(stores["period"], is_plan, strict=True)],
            "period": stores["period"],
            "stores": stores["value"],
            "kind": is_plan.map({True: PLAN, False: COUNT}),
            "label": [
                _label(v, m, bool(x) and not narrow)
                for v, m, x in zip(stores["value"], stores["metric"], is_plan, strict=True)
            ],
            "entity": stores["entity"],
            "metric": stores["metric"],
            "source_id": stores["source_id"],
            "confidence": stores["confidence"],
        }
    )
    events = data["events"][data["events"]["id"].isin(EVENTS)]
    context = pd.DataFrame(
        {
            "date": pd.to_datetime(events["date"]),
            "period": events["date"],
            "stores": float("nan"),  # an event has no store count: left empty, not zero
            "kind": "Event",
            "label": events["id"].map(NARROW_EVENT_LABELS if narrow else EVENT_LABELS),
            "entity": "Huawei",
            "metric": events["event"],
            "source_id": events["source_id"],
            "confidence": events["confidence"],
        }
    )
    plotted = pd.concat([points, context], ignore_index=True).sort_values("date")
    plotted["date"] = plotted["date"].dt.strftime("%Y-%m-%d")

    x = alt.X(
        "date:T",
        title=None,
        scale=alt.Scale(domain=["2021-01-01", "2026-07-01"]),
        axis=alt.Axis(format="%Y", tickCount="year"),
    )
    tooltip = [
        alt.Tooltip("period:N", title="Period"),
        alt.Tooltip("stores:Q", title="Stores", format=",.0f"),
        alt.Tooltip("kind:N", title="Kind"),
        alt.Tooltip("entity:N", title="Network"),
        alt.Tooltip("metric:N", title="What was counted"),
        alt.Tooltip("confidence:N", title="Confidence"),
    ]
    base = alt.Chart().encode(x=x, tooltip=tooltip)
    is_event = alt.datum.kind == "Event"

    # Context, not data: a dashed line and a label at the top for each channel milestone; the
    # label sits on the open side of its line so neither runs off the chart.
    rules = base.mark_rule(strokeDash=[4, 4], opacity=0.7).transform_filter(is_event)
    early = "year(datum.date) < 2024"
    rule_labels = [
        base.mark_text(align=side, dx=dx, dy=dy, baseline="top", fontSize=11)
        .encode(y=alt.value(0), text="label:N")
        .transform_filter(is_event)
        .transform_filter(keep)
        for side, dx, dy, keep in (
            ("left", 4, 2, early),
            ("right", -4, 18 if narrow else 2, f"!({early})"),
        )
    ]

    # Counts filled circles, plans hollow diamonds: the difference survives greyscale printing.
    # Palette colours named here, because a hollow fill needs an explicit range (the dark theme
    # swaps in its own highlight; the orange passes 3:1 on both backgrounds); fill, stroke and
    # shape share one field, so one legend.
    def kinds(*values: object) -> alt.Scale:
        return alt.Scale(domain=[COUNT, PLAN], range=list(values))

    dots = (
        base.mark_point(size=110, strokeWidth=2)
        .encode(
            y=alt.Y(
                "stores:Q",
                title="Stores (as reported by companies and press)",
                scale=alt.Scale(domain=[0, 1300]),
            ),
            fill=alt.Fill("kind:N", title=None, scale=kinds(PALETTE_LIGHT[0], "transparent")),
            stroke=alt.Stroke("kind:N", title=None, scale=kinds(*PALETTE_LIGHT[:2])),
            shape=alt.Shape("kind:N", title=None, scale=kinds("circle", "diamond")),
            # Fade the one count that rests on a blog post: a pale fill, outline kept, so it stays
            # visible on the dark background too.
            fillOpacity=alt.condition("datum.confidence === 'low'", alt.value(0.35), alt.value(1)),
        )
        .transform_filter(~is_event)
    )
    # Each point carries its number, so the chart reads without the legend or a hover.
    labels = (
        base.mark_text(align="left", dx=8, dy=-8, fontSize=11)
        .encode(y="stores:Q", text="label:N")
        .transform_filter(~is_event)
    )
    return alt.layer(rules, *rule_labels, dots, labels, data=plotted).properties(height=320)
