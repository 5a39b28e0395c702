"""Assisted driving went from a minority option to standard kit, 2021 to 2025 (several sources)

Each mark is one published estimate of the share of new passenger cars sold in China with L2
assisted driving (the car steers and brakes while the driver supervises), drawn across the
period it covers and labelled with who reported it. Filled dots are all new cars, hollow
squares new-energy vehicles only. The sources define the feature differently and several are
secondary, so read the rise, not the exact levels: about a fifth of new cars in 2021, more than
half in 2024, and roughly four in five new NEVs in early 2025.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from charts._theme import faded

TABLES = ("industry",)
START, END = "2021-01-01", "2026-01-01"
# Row id: who reported it (our words, from the row's source and note), the population, and
# the period the estimate covers as start and end dates.
ESTIMATES = {
    "miit_assisted_driving_2021": ("MIIT", "All new cars", "2021-01-01", "2021-12-31"),
    "l2_penetration_2021": ("Industry report", "All new cars", "2021-01-01", "2021-12-31"),
    "l2_penetration_2022_q1": ("IDC", "All new cars", "2022-01-01", "2022-03-31"),
    "l2_penetration_2024": ("Industry report", "All new cars", "2024-01-01", "2024-12-31"),
    "l2_nev_penetration_2025_4m": (
        "China EV100, via summary",
        "NEVs only",
        "2025-01-01",
        "2025-04-30",
    ),
    "l2_nev_penetration_2025_h1": ("CPCA, via blog", "NEVs only", "2025-01-01", "2025-06-30"),
}
# Labels sit above their mark, except these, so estimates close together do not collide.
LABEL_BELOW = {"miit_assisted_driving_2021", "l2_nev_penetration_2025_4m"}
# On a phone these labels sit right of their mark instead: IDC's, above it, ran into the
# industry report's of 2021 beside it.
LABEL_BESIDE_ON_A_PHONE = {"l2_penetration_2022_q1"}
# The row beside which each population is named, in place of a legend.
GROUP_NAMED_AT = {"l2_penetration_2024", "l2_nev_penetration_2025_h1"}
GROUPS = ["All new cars", "NEVs only"]


def _rows(data: dict[str, pd.DataFrame]) -> pd.DataFrame:
    rows = data["industry"].set_index("id").loc[list(ESTIMATES)].reset_index()
    meta = rows["id"].map(ESTIMATES)
    start = meta.str[2]
    end = meta.str[3]
    mid = pd.to_datetime(start) + (pd.to_datetime(end) - pd.to_datetime(start)) / 2
    return pd.DataFrame(
        {
            "population": meta.str[1],
            "reported_by": meta.str[0],
            "period": rows["period"],
            "value": rows["value"],
            "detail": rows["metric"] + ". " + rows["note"],
            "_start": start,
            "_end": end,
            "_mid": mid.dt.strftime("%Y-%m-%d"),
            "_below": rows["id"].isin(LABEL_BELOW),
            "_beside": rows["id"].isin(LABEL_BESIDE_ON_A_PHONE),
            "_name_group": rows["id"].isin(GROUP_NAMED_AT),
            "confidence": rows["confidence"],
            "source_id": rows["source_id"],
        }
    )


def chart(data: dict[str, pd.DataFrame], layout: str = "wide") -> alt.Chart:
    """Dots with period spans for each L2 share estimate, by population, labelled by source.

    layout "narrow" is the phone version: one label moved beside its mark, clear of another."""
    narrow = layout == "narrow"
    base = alt.Chart(_rows(data))
    # Ticks and grid on 1 January: every mark is a span, so the year boundaries matter.
    scale = alt.Scale(type="utc", domain=[START, END])
    x = alt.X(
        "_mid:T",
        title=None,
        scale=scale,
        axis=alt.Axis(
            values=[alt.DateTime(year=y, month=1, date=1, utc=True) for y in range(2021, 2027)],
            format="%Y",
            grid=True,
        ),
    )
    y = alt.Y(
        "value:Q",
        title="Share of new cars with L2 assisted driving, %",
        scale=alt.Scale(domain=[0, 100]),
    )
    # Population by shape and colour together, and named in the label, never by colour alone.
    colour = alt.Color("population:N", scale=alt.Scale(domain=GROUPS), legend=None)
    shape = alt.Shape(
        "population:N", scale=alt.Scale(domain=GROUPS, range=["circle", "square"]), legend=None
    )
    opacity, text_opacity = faded(), faded(text=True)
    tip = [
        alt.Tooltip("population:N", title="Cars counted"),
        alt.Tooltip("reported_by:N", title="Reported by"),
        alt.Tooltip("period:N", title="Period"),
        alt.Tooltip("value:Q", title="Share with L2 (%)", format=".1f"),
        alt.Tooltip("detail:N", title="Note"),
        alt.Tooltip("confidence:N", title="Confidence"),
    ]
    # The span shows how long a period each estimate covers: a year, a quarter, four months.
    spans = base.mark_rule(strokeWidth=2).encode(
        x=alt.X("_start:T", scale=scale),
        x2="_end:T",
        y=y,
        color=colour,
        opacity=opacity,
        tooltip=tip,
    )
    # All-cars dots filled, NEV-only squares hollow: a second cue beside the shape itself.
    dots = [
        base.transform_filter(alt.datum.population == group)
        .mark_point(size=80, strokeWidth=2, filled=filled)
        .encode(x=x, y=y, color=colour, shape=shape, opacity=opacity, tooltip=tip)
        for group, filled in zip(GROUPS, (True, False), strict=True)
    ]
    label_text = alt.Text("_label:N")
    labelled = base.transform_calculate(
        _label="datum.reported_by + ': ' + format(datum.value, '.3~f') + '%'"
    )
    above = (
        labelled.transform_filter("!datum._below" + (" && !datum._beside" if narrow else ""))
        .mark_text(baseline="bottom", dy=-10, fontSize=11)
        .encode(x=x, y=y, text=label_text, opacity=text_opacity, tooltip=tip)
    )
    below = (
        labelled.transform_filter("datum._below")
        .mark_text(baseline="top", dy=10, fontSize=11)
        .encode(x=x, y=y, text=label_text, opacity=text_opacity, tooltip=tip)
    )
    next_to = (
        labelled.transform_filter("datum._beside")
        .mark_text(align="left", baseline="middle", dx=9, fontSize=11)
        .encode(x=x, y=y, text=label_text, opacity=text_opacity, tooltip=tip)
    )
    group_names = (
        base.transform_filter("datum._name_group")
        .mark_text(align="right", dx=-6, fontSize=11, fontWeight="bold")
        # In the text colour: the light theme's second series colour is too pale for words.
        .encode(x=alt.X("_start:T", scale=scale), y=y, text="population:N")
        .encode(tooltip=tip)
    )
    return alt.layer(
        spans, *dots, above, below, *([next_to] if narrow else []), group_names
    ).properties(height=300)
