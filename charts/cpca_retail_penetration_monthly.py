"""NEVs' share of China's passenger-car retail sales crossed one half in July 2024 (CPCA)

Dots show the months for which a sourced CPCA figure exists for new-energy vehicles' share of
domestic passenger-car retail sales; the months between them have no figure and are left empty.
Dashed lines show CPCA's full-year shares. The share first passed half in July 2024, stood near
60 percent in late 2025, and fell to well under half in January 2026, when the purchase-tax
exemption was halved.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from charts._theme import faded

TABLES = ("nev_market_monthly", "nev_market_annual", "events")
START, END = "2024-01-01", "2026-02-28"
# Our words beside the dots that mark a turn in the story, by row id.
CALLOUTS = {
    "cpca_nev_penetration_2024_07": "First month above half",
    "cpca_nev_penetration_2026_01": "First month of the halved tax break",
}
# Policy events drawn as rules: our short label and its lane (0 = top), so labels do not collide.
EVENTS = {
    "ev_2024_04_24_trade_in_subsidy_starts": ("Trade-in subsidy starts", 0),
    "ev_2024_08_16_trade_in_subsidy_doubled": ("Trade-in subsidy doubled", 1),
    "ev_2026_01_01_tax_halved": ("Tax break halved", 0),
}
# Labels of these events sit left of their rule: at the right edge there is no room to the right.
LABEL_LEFT = {"ev_2026_01_01_tax_halved"}
# A month the research describes but gives no share for: said in words at its place.
GAP_NOTE = (
    "cpca_nev_retail_2024_12",
    "2024-12-15",
    "Dec 2024: back below half;\nno exact share found",
)
ANNUAL = {
    "cpca_nev_penetration_2024_prelim": "2024 (preliminary)",
    "cpca_nev_penetration_2025": "2025 (rounded)",
}
HEIGHT = 300
# On a phone this month's value sits below its dot: above, it ran into the month before's.
VALUE_BELOW_ON_A_PHONE = {"cpca_nev_penetration_2025_12"}


def _rows(data: dict[str, pd.DataFrame]) -> pd.DataFrame:
    monthly = data["nev_market_monthly"]
    monthly = monthly[monthly["metric"] == "NEV retail penetration (monthly)"]
    annual = data["nev_market_annual"].set_index("id").loc[list(ANNUAL)].reset_index()
    events = data["events"].set_index("id").loc[list(EVENTS)].reset_index()
    month_rows = pd.DataFrame(
        {
            "series": "Monthly share",
            "period": monthly["period"],
            "value": monthly["value"],
            "detail": monthly["note"],
            # Each dot sits mid-month, the middle of the period it stands for.
            "_x": monthly["period"] + "-15",
            "_x2": None,
            "_callout": monthly["id"].map(CALLOUTS),
            "_value_below": monthly["id"].isin(VALUE_BELOW_ON_A_PHONE),
            "confidence": monthly["confidence"],
            "source_id": monthly["source_id"],
        }
    )
    year_rows = pd.DataFrame(
        {
            "series": "Full-year share",
            "period": annual["period"],
            "value": annual["value"],
            "detail": annual["note"],
            "_x": annual["period"] + "-01-01",
            "_x2": annual["period"] + "-12-31",
            "_callout": annual["id"].map(ANNUAL),
            "confidence": annual["confidence"],
            "source_id": annual["source_id"],
        }
    )
    event_rows = pd.DataFrame(
        {
            "series": "Policy event",
            "period": events["date"],
            "value": None,
            "detail": events["event"],
            "_x": events["date"],
            "_x2": None,
            "_callout": events["id"].map(lambda i: EVENTS[i][0]),
            "_lane": events["id"].map(lambda i: EVENTS[i][1]),
            "_left": events["id"].isin(LABEL_LEFT),
            "confidence": events["confidence"],
            "source_id": events["source_id"],
        }
    )
    gap = data["nev_market_monthly"].set_index("id").loc[GAP_NOTE[0]]
    gap_row = pd.DataFrame(
        [
            {
                "series": "Note",
                "period": gap["period"],
                "value": None,
                "detail": gap["note"],
                "_x": GAP_NOTE[1],
                "_x2": None,
                "_callout": GAP_NOTE[2],
                "confidence": gap["confidence"],
                "source_id": gap["source_id"],
            }
        ]
    )
    return pd.concat([month_rows, year_rows, event_rows, gap_row], ignore_index=True)


def chart(data: dict[str, pd.DataFrame], layout: str = "wide") -> alt.Chart:
    """Monthly dots and full-year dashes of CPCA retail NEV share, a rule at one half.

    layout "narrow" is the phone version: a tick every six months, one value below its dot, and
    no callout for January 2026, whose event label above already says the tax break halved."""
    narrow = layout == "narrow"
    base = alt.Chart(_rows(data))
    x = alt.X(
        "_x:T",
        title=None,
        scale=alt.Scale(type="utc", domain=[START, END]),
        axis=alt.Axis(
            tickCount={"interval": "month", "step": 6 if narrow else 3},
            # Year only on January ticks, so the axis stays readable at narrow widths.
            labelExpr="utcFormat(datum.value, '%m') === '01'"
            " ? utcFormat(datum.value, '%b %Y') : utcFormat(datum.value, '%b')",
            grid=False,
        ),
    )
    y_scale = alt.Scale(domain=[0, 70])
    y = alt.Y(
        "value:Q",
        title="NEV share of passenger-car retail sales, % (CPCA)",
        scale=y_scale,
        axis=alt.Axis(values=[0, 10, 20, 30, 40, 50, 60, 70]),
    )

    def y_at(value: float) -> alt.YDatum:
        return alt.YDatum(value, type="quantitative", scale=y_scale)

    # Fade marks resting on a low-confidence source, so doubt is visible at a glance.
    opacity, text_opacity = faded(), faded(text=True)
    tip = [
        alt.Tooltip("series:N", title="Series"),
        alt.Tooltip("period:N", title="Month, year or date"),
        alt.Tooltip("value:Q", title="NEV share of retail (%)", format=".1f"),
        alt.Tooltip("detail:N", title="Note"),
        alt.Tooltip("confidence:N", title="Confidence"),
    ]

    def only(series: str) -> alt.Chart:
        return base.transform_filter(alt.datum.series == series)

    # The one-half line is the story's threshold; drawn once, labelled at its left end.
    half = base.transform_aggregate(rows="count()")
    half_rule = half.mark_rule(strokeDash=[6, 3]).encode(
        y=y_at(50), tooltip=alt.value("Half of passenger-car retail sales")
    )
    half_label = half.mark_text(align="left", baseline="top", dy=4, fontSize=11).encode(
        x=alt.datum(alt.DateTime(year=2025, month=3, date=1, utc=True)),
        y=y_at(50),
        text=alt.value("Half of retail sales"),
    )

    events = only("Policy event")
    event_rules = events.mark_rule(strokeWidth=1).encode(x=x, tooltip=tip)
    # One text layer per lane, at a fixed height from the top of the plot.
    event_labels = [
        events.transform_filter((alt.datum._lane == lane) & (alt.datum._left == left))
        .mark_text(
            align="right" if left else "left",
            baseline="top",
            dx=-3 if left else 3,
            fontSize=10,
            fontStyle="italic",
        )
        .encode(x=x, y=alt.value(2 + 14 * lane), text="_callout:N", tooltip=tip)
        for lane in (0, 1)
        for left in (False, True)
    ]

    # Full-year shares as dashed spans across their year, so they read as averages, not months.
    years = only("Full-year share")
    year_lines = years.mark_rule(strokeDash=[2, 2], strokeWidth=2).encode(
        x=x, x2="_x2:T", y=y, opacity=opacity, tooltip=tip
    )
    year_labels = years.mark_text(align="left", baseline="top", dy=4, fontSize=10).encode(
        x=x,
        y=y,
        text=alt.Text("_year_label:N"),
        opacity=text_opacity,
        tooltip=tip,
    )
    year_labels = year_labels.transform_calculate(
        _year_label="'Full year ' + datum._callout + ': ' + format(datum.value, '.1~f') + '%'"
    )

    months = only("Monthly share")
    dots = months.mark_point(filled=True, size=80).encode(x=x, y=y, opacity=opacity, tooltip=tip)

    def values(at: alt.Chart, dy: int) -> alt.Chart:
        return at.mark_text(dy=dy, fontSize=11, fontWeight="bold").encode(
            x=x, y=y, text=alt.Text("value:Q", format=".1f"), opacity=text_opacity, tooltip=tip
        )

    dot_values = (
        [
            values(months.transform_filter("!datum._value_below"), -12),
            values(months.transform_filter("datum._value_below"), 14),
        ]
        if narrow
        else [values(months, -12)]
    )
    # Callouts sit above their dot, except at the right edge where there is room only to the left.
    dot_callouts = (
        months.transform_filter("datum._callout && datum.period < '2025'")
        .mark_text(baseline="bottom", dy=-26, fontSize=11)
        .encode(x=x, y=y, text="_callout:N", opacity=text_opacity, tooltip=tip)
    )
    edge_callouts = (
        months.transform_filter("datum._callout && datum.period >= '2025'")
        .mark_text(align="right", dx=-10, fontSize=11)
        .encode(x=x, y=y, text="_callout:N", opacity=text_opacity, tooltip=tip)
    )
    gap_note = (
        only("Note")
        .mark_text(align="center", baseline="top", fontSize=10, fontStyle="italic", lineBreak="\n")
        .encode(x=x, y=y_at(44), text="_callout:N", opacity=text_opacity, tooltip=tip)
    )

    return alt.layer(
        half_rule,
        half_label,
        event_rules,
        *event_labels,
        year_lines,
        year_labels,
        dots,
        *dot_values,
        dot_callouts,
        *([] if narrow else [edge_callouts]),
        gap_note,
    ).properties(height=HEIGHT)
