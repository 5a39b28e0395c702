"""AITO deliveries by year, with the brand's production milestones

Bars show how many AITO cars were delivered in each full year, 2022 to 2025, as reported by the
company, its Hong Kong prospectus and the press; dashed lines mark the 100,000th, 400,000th and
1,000,000th AITO to leave the factory (production, not deliveries). Deliveries roughly quadrupled
in 2024, the first full year of the new M7 and the M9. Faded marks rest on a single secondary
source (the 2023 total and the first two milestones); the 2025 bar is a floor ("more than").
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from charts._theme import faded

TABLES = ("deliveries",)

# One figure per year. Where sources disagree, the company's own exact count wins over rounded
# figures: 2022 uses 76,180 (AITO data via SCMP), not the prospectus's ~78,000 or Reuters' ~80,000.
ANNUAL = (
    "aito_deliveries_2022",
    "aito_deliveries_2023",
    "aito_deliveries_2024",
    "aito_deliveries_2025",
)
MILESTONES = ("aito_100k_milestone", "aito_400k_milestone", "aito_1m_milestone")


TOP = 520_000  # the y axis's end: headroom above the tallest bar for the milestone labels
LANE = 23_000  # a label's height (14 px) in vehicles on that axis


def chart(data: dict[str, pd.DataFrame], layout: str = "wide") -> alt.Chart:
    """Year-wide bars of AITO deliveries, overlaid with dated production-milestone rules.

    layout "narrow" is the phone version: the milestone labels one below the other, as three
    side by side ran into each other, and shorter."""
    narrow = layout == "narrow"
    rows = data["deliveries"].set_index("id")
    annual = rows.loc[list(ANNUAL)]
    floor = annual["metric"].str.contains("more than")
    bars = pd.DataFrame(
        {
            "kind": "Deliveries in the year",
            "period": annual["period"],
            "start": annual["period"] + "-01-01",
            "end": annual["period"] + "-12-31",
            "deliveries": annual["value"],
            # In thousands on a phone, where a year is 66 px: "387,100" ran across a milestone.
            "label": [
                (f"{v / 1000:,.0f}k" if narrow else f"{v:,.0f}") + ("+" if f else "")
                for v, f in zip(annual["value"], floor, strict=True)
            ],
            "source_id": annual["source_id"],
            "confidence": annual["confidence"],
        }
    )
    marks = rows.loc[list(MILESTONES)]
    early = {p[:4] for p in marks["period"] if int(p[5:7]) <= 6}
    bars["_early_milestone"] = bars["period"].isin(early)
    rules = pd.DataFrame(
        {
            "kind": "Production milestone",
            "period": marks["period"],
            "start": marks["period"],
            "end": marks["period"],
            "deliveries": float("nan"),  # a production count, not deliveries: kept off the y axis
            # On a phone "…th built": "400,000th AITO built" ran across the 100,000th's line.
            "label": [
                f"{v:,.0f}th" + (" built" if narrow else " AITO built") for v in marks["value"]
            ],
            "_label_at": [TOP - LANE * i for i in range(len(marks))],
            # The first label runs right of its line on a phone, clear of the y axis's labels.
            "_right_of_line": [i == 0 for i in range(len(marks))],
            "source_id": marks["source_id"],
            "confidence": marks["confidence"],
        }
    )
    plotted = pd.concat([bars, rules]).reset_index(drop=True)

    x = alt.X(
        "start:T",
        title=None,
        scale=alt.Scale(domain=["2022-01-01", "2026-03-01"]),
        axis=alt.Axis(format="%Y", tickCount="year"),
    )
    tooltip = [
        alt.Tooltip("kind:N", title="What"),
        alt.Tooltip("period:N", title="Period or date"),
        alt.Tooltip("deliveries:Q", title="AITO deliveries", format=",.0f"),
        alt.Tooltip("label:N", title="Label"),
        alt.Tooltip("confidence:N", title="Confidence"),
    ]
    base = alt.Chart().encode(x=x, tooltip=tooltip)
    is_bar = alt.datum.kind == "Deliveries in the year"
    # A bar spans its whole year on the time axis, so the milestones fall where they happened.
    year_bars = (
        base.mark_bar(xOffset=1, x2Offset=-1)  # a hairline gap between years, any theme
        .encode(
            x2="end:T",
            y=alt.Y(
                "deliveries:Q",
                title="AITO deliveries per year (vehicles)",
                # Headroom above the tallest bar keeps the milestone labels clear of it.
                scale=alt.Scale(domain=[0, TOP]),
            ),
            y2=alt.datum(0),
            # Fade the year that rests on one secondary source.
            opacity=faded(),
        )
        .transform_filter(is_bar)
    )

    # Labels start at the left edge of their bar, clear of the mid-year milestone lines. On a
    # phone a bar whose year has a milestone in its first half is labelled at its right edge.
    def bar_text(align: str, x: str | alt.X = x, dx: int = 6) -> alt.Chart:
        return (
            base.mark_text(align=align, dx=dx, dy=-6, baseline="bottom", fontSize=12)
            .encode(x=x, y="deliveries:Q", text="label:N")
            .transform_filter(is_bar)
        )

    bar_labels = [bar_text("left")]
    if narrow:
        early = "datum._early_milestone"
        bar_labels = [
            bar_text("left", dx=4).transform_filter(f"!{early}"),
            bar_text("right", "end:T", -4).transform_filter(early),
        ]
    # Milestones are production counts, so they are lines with words, never bar heights.
    # Milestones from a single secondary source are faded like the 2023 bar.
    milestone_rules = (
        base.mark_rule(strokeDash=[4, 3], strokeWidth=1.5)
        .encode(opacity=faded())
        .transform_filter(~is_bar)
    )

    def milestone_text(align: str, dx: int, y) -> alt.Chart:
        return (
            base.mark_text(align=align, dx=dx, baseline="top", fontSize=11)
            .encode(y=y, text="label:N", opacity=faded(text=True))
            .transform_filter(~is_bar)
        )

    if narrow:  # one below the other, the first right of its line
        at = alt.Y("_label_at:Q")
        milestone_labels = [
            milestone_text("right", -4, at).transform_filter("!datum._right_of_line"),
            milestone_text("left", 4, at).transform_filter("datum._right_of_line"),
        ]
    else:
        milestone_labels = [milestone_text("right", -4, alt.value(2))]
    return alt.layer(
        year_bars, *bar_labels, milestone_rules, *milestone_labels, data=plotted
    ).properties(height=320)
