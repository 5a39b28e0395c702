"""More price cuts, thinner margins: China's car price war, 2022 to 2025 (CPCA, industry data)

Top panel: how many car models had their prices cut each year, as counted by CPCA; the 2025 bar
covers January to July only and is drawn that narrow. Lines mark the cuts that set off rounds
of the war and the industry's pledge to stop it. Bottom panel: the car industry's profit
margin, which fell every year from 2022 to 2025 and dropped to far less in December 2025 alone.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from charts._annual import PANEL_WIDTH, mid_year, time_x
from charts._theme import faded

TABLES = ("price_war", "events")
FIRST, LAST = 2022, 2025
CUT_COUNTS = ("pricecut_models_2022", "pricecut_models_2023", "pricecut_models_2024")
PARTIAL_COUNT = ("pricecut_models_2025_7m", "2025-01-20", "2025-07-25", "Jan–Jul only")
MARGINS = (
    "profit_margin_auto_2022",
    "profit_margin_auto_2023",
    "profit_margin_auto_2024",
    "profit_margin_auto_2025",
)
MONTH_MARGIN = ("profit_margin_auto_2025_12", "2025-12-15", "December 2025 alone")
# Triggers and the truce: our short label, a lane (0 = top) so labels do not collide, and the
# side of the rule the label sits on (left near the right edge of the chart).
MARKERS = {
    "tesla_pricecut_2023_01": ("Tesla cuts up to 13.5%", 0, "right"),
    "byd_pricecut_2025_05": ("BYD cuts up to 34%", 0, "left"),
    "ev_2025_05_31_caam_anti_price_war": ("Anti-price-war pledge", 1, "left"),
}
# On a phone BYD's label drops to the second lane (it ran into Tesla's) and the pledge, shortened,
# takes the first: (label or None to keep it, lane).
NARROW_MARKERS = {
    "byd_pricecut_2025_05": (None, 1),
    "ev_2025_05_31_caam_anti_price_war": ("Price truce", 0),
}
CUTS_HEIGHT, MARGIN_HEIGHT = 210, 170


def _rows(data: dict[str, pd.DataFrame]) -> pd.DataFrame:
    war = data["price_war"].set_index("id")
    events = data["events"].set_index("id")
    rows = []

    def add(series, ident, r, x, x2=None, label="", lane=None, side=None, period=None, detail=None):
        rows.append(
            {
                "series": series,
                "period": period or r["period"],
                "value": r.get("value"),
                "unit": r.get("unit", ""),
                "detail": detail if detail is not None else r["metric"],
                "_x": x,
                "_x2": x2,
                "_label": label,
                "_lane": lane,
                "_narrow_label": (NARROW_MARKERS.get(ident, (None,))[0] or label),
                "_narrow_lane": NARROW_MARKERS.get(ident, (None, lane))[1],
                "_side": side,
                "confidence": r["confidence"],
                "source_id": r["source_id"],
            }
        )

    for ident in CUT_COUNTS:
        r = war.loc[ident]
        year = int(r["period"])
        add(
            "Models with price cuts",
            ident,
            r,
            f"{year}-01-20",
            f"{year}-12-12",
            f"{r['value']:.0f}",
        )
    ident, start, end, note = PARTIAL_COUNT
    r = war.loc[ident]
    add("Models with price cuts", ident, r, start, end, f"{r['value']:.0f} ({note})")
    partial = rows[-1]
    for ident in MARGINS:
        r = war.loc[ident]
        add("Profit margin", ident, r, mid_year(int(r["period"])), label=f"{r['value']:.1f}%")
    ident, at, note = MONTH_MARGIN
    r = war.loc[ident]
    add("Profit margin, one month", ident, r, at, label=f"{note}: {r['value']:.1f}%")
    for ident, (label, lane, side) in MARKERS.items():
        if ident in war.index:
            r = war.loc[ident]
            add("Price-war marker", ident, r, r["period"], label=label, lane=lane, side=side)
        else:
            r = events.loc[ident]
            detail = r["event"]
            add(
                "Price-war marker",
                ident,
                {**r, "value": None, "unit": ""},
                r["date"],
                label=label,
                lane=lane,
                side=side,
                period=r["date"],
                detail=detail,
            )
    # The markers' lines cross the partial bar, so its label goes in two parts: the count left
    # of the first line, the note right of the last (centred, it ran through both lines).
    crossing = sorted(
        row["_x"]
        for row in rows
        if row["series"] == "Price-war marker" and partial["_x"] < row["_x"] < partial["_x2"]
    )
    if crossing:
        note = PARTIAL_COUNT[3]
        partial.update(
            _label=f"{partial['value']:.0f}",
            _note=f"({note})",
            _note_short=note.removesuffix(" only"),
            _before=crossing[0],
            _after=crossing[-1],
        )
    return pd.DataFrame(rows)


def chart(data: dict[str, pd.DataFrame], layout: str = "wide") -> alt.Chart:
    """Bars of models with price cuts over a line of the industry profit margin.

    layout "narrow" is the phone version: the markers' labels rearranged so none touch."""
    narrow = layout == "narrow"
    lane_of = alt.datum._narrow_lane if narrow else alt.datum._lane
    base = alt.Chart(_rows(data))
    x_top = time_x("_x", FIRST, LAST, labels=False, ticks=False)
    x_bottom = time_x("_x", FIRST, LAST)
    # Fade marks resting on a low-confidence source, so doubt is visible at a glance.
    opacity, text_opacity = faded(), faded(text=True)
    tip = [
        alt.Tooltip("series:N", title="Series"),
        alt.Tooltip("period:N", title="Period or date"),
        alt.Tooltip("value:Q", title="Value", format=",.4~f"),
        alt.Tooltip("unit:N", title="Unit"),
        alt.Tooltip("detail:N", title="What it is"),
        alt.Tooltip("confidence:N", title="Confidence"),
    ]

    def only(series: str) -> alt.Chart:
        return base.transform_filter(alt.datum.series == series)

    cuts_y = alt.Y(
        "value:Q", title=["Car models with", "price cuts (CPCA)"], scale=alt.Scale(domain=[0, 300])
    )
    cuts = only("Models with price cuts")
    bars = cuts.mark_bar().encode(
        x=x_top, x2="_x2:T", y=cuts_y, y2=alt.datum(0), opacity=opacity, tooltip=tip
    )
    bar_labels = (
        cuts.mark_text(baseline="bottom", dy=-3, fontSize=11)
        .encode(x="_mid:T", y=cuts_y, text="_label:N", opacity=text_opacity, tooltip=tip)
        .transform_filter("!isValid(datum._note)")
        .transform_calculate(_mid="(toDate(datum._x) + toDate(datum._x2)) / 2")
    )
    split = cuts.transform_filter("isValid(datum._note)")
    split_labels = [
        split.mark_text(baseline="bottom", dy=-3, fontSize=11, align="right", dx=-4).encode(
            x="_before:T", y=cuts_y, text="_label:N", opacity=text_opacity, tooltip=tip
        ),
        split.mark_text(
            baseline="bottom", dy=-3, fontSize=10 if narrow else 11, align="left", dx=4
        ).encode(
            x="_after:T",
            y=cuts_y,
            # On a phone the months alone: the plot ends seven months after the line.
            text="_note_short:N" if narrow else "_note:N",
            opacity=text_opacity,
            tooltip=tip,
        ),
    ]
    markers = only("Price-war marker")
    marker_rules = markers.mark_rule(strokeDash=[4, 3]).encode(x=x_top, tooltip=tip)
    marker_labels = [
        markers.transform_filter((lane_of == lane) & (alt.datum._side == side))
        .mark_text(
            align="left" if side == "right" else "right",
            baseline="top",
            # Left of its line, clear of any line just before it (BYD's, 8 days before the truce).
            dx=3 if side == "right" else -6,
            fontSize=10,
            fontStyle="italic",
        )
        .encode(
            x=x_top,
            y=alt.value(2 + 14 * lane),
            text="_narrow_label:N" if narrow else "_label:N",
            tooltip=tip,
        )
        for lane in (0, 1)
        for side in ("left", "right")
    ]
    cuts_panel = alt.layer(
        marker_rules, bars, bar_labels, *split_labels, *marker_labels
    ).properties(width=PANEL_WIDTH, height=CUTS_HEIGHT)

    margin_y = alt.Y(
        "value:Q",
        title=["Car industry profit", "margin, % of revenue"],
        scale=alt.Scale(domain=[0, 7]),
    )
    years = only("Profit margin")
    # Consecutive years, so a line may join them; the dots carry the confidence fading.
    line = years.mark_line().encode(x=x_bottom, y=margin_y, tooltip=tip)
    dots = years.mark_point(filled=True, size=60).encode(
        x=x_bottom, y=margin_y, opacity=opacity, tooltip=tip
    )
    line_labels = years.mark_text(dy=-12, fontSize=11).encode(
        x=x_bottom, y=margin_y, text="_label:N", opacity=text_opacity, tooltip=tip
    )
    # One month is not a year: a hollow mark of its own, with no line joining it to the years.
    month = only("Profit margin, one month")
    month_dot = month.mark_point(shape="diamond", filled=False, size=90, strokeWidth=2).encode(
        x=x_bottom, y=margin_y, opacity=opacity, tooltip=tip
    )
    month_label = month.mark_text(align="right", dx=-10, fontSize=11).encode(
        x=x_bottom, y=margin_y, text="_label:N", opacity=text_opacity, tooltip=tip
    )
    margin_panel = alt.layer(line, dots, line_labels, month_dot, month_label).properties(
        width=PANEL_WIDTH, height=MARGIN_HEIGHT
    )
    return alt.vconcat(cuts_panel, margin_panel, spacing=10).resolve_scale(x="shared")
