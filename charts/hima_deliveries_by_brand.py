"""HIMA deliveries by month, and AITO's part of them

Monthly deliveries of all Huawei-backed HIMA brands (wide bars) and of Seres's AITO alone (narrow
bars inside them), for the months where a figure was found, May 2024 to February 2026; other
months are left empty. AITO was about 93% of HIMA in June 2024 and still 82-85% in mid-2025, after
BAIC's Stelato and JAC's Maextro joined, so the newer brands added volume without yet displacing it.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

TABLES = ("hima", "deliveries", "events")

HIMA_ROWS = (
    "hima_deliveries_2024_05",
    "hima_deliveries_2024_06",
    "hima_deliveries_2025_04",
    "hima_deliveries_2025_05",
    "hima_deliveries_2025_06",
    "hima_deliveries_2025_07",
    "hima_deliveries_2025_11",
    "hima_deliveries_2026_02",
)
AITO_ROWS = (
    "aito_deliveries_2024_06",
    "aito_deliveries_2025_05",
    "aito_deliveries_2025_06",
    "aito_deliveries_2025_12",
)
SHARE_ROWS = ("aito_share_hima_2025_05", "aito_share_hima_2025_06")
# Partner brands going on sale inside the plotted window (Luxeed, the first, came in Nov 2023).
LAUNCHES = {
    "ev_2024_08_stelato_s9_launch_maextro": "Stelato S9 (BAIC)",
    "ev_2025_05_maextro_s800_launched": "Maextro S800 (JAC)",
    "ev_2025_09_23_saic_shangjie_joins_hima": "Shangjie H5 (SAIC)",
}
# On a phone, where a month is 13 px: the brand alone.
LAUNCHES_SHORT = {
    "Stelato S9 (BAIC)": "Stelato S9",
    "Maextro S800 (JAC)": "Maextro",
    "Shangjie H5 (SAIC)": "Shangjie",
}
HIMA, AITO, LAUNCH = "HIMA, all brands", "AITO", "Partner brand goes on sale"


def _mid_month(period: str) -> str:
    return f"{period[:7]}-15"


def chart(data: dict[str, pd.DataFrame], layout: str = "wide") -> alt.LayerChart:
    """Bullet-style monthly bars: HIMA total wide, AITO narrow inside; launches as rules.

    layout "narrow" is the phone version: a month named every six months, not three, as
    "Apr 2024" and "Jul 2024" would touch; thinner bars; the launches by brand alone; and the
    AITO shares and December's gap written in the note in the empty months, as labels over
    bars 13 px apart ran into each other and into the launch lines."""
    narrow = layout == "narrow"
    step = 6 if narrow else 3
    hima = data["hima"].set_index("id")
    deliveries = data["deliveries"].set_index("id")
    events = data["events"].set_index("id")
    records = []
    for series, table, ids in ((HIMA, hima, HIMA_ROWS), (AITO, deliveries, AITO_ROWS)):
        for rid in ids:
            row = table.loc[rid]
            records.append(
                {
                    "month": row["period"],
                    "series": series,
                    "vehicles": row["value"],
                    "aito_share_pct": None,
                    "note": row["note"],
                    "confidence": row["confidence"],
                    "source_id": row["source_id"],
                }
            )
    for rid in SHARE_ROWS:
        row = hima.loc[rid]
        records.append(
            {
                "month": row["period"],
                "series": "AITO share of HIMA (reported)",
                "vehicles": None,
                "aito_share_pct": row["value"],
                "note": row["note"],
                "confidence": row["confidence"],
                "source_id": row["source_id"],
            }
        )
    # June 2024 has both counts but no reported share: our calculation, AITO ÷ HIMA × 100.
    aito, total = deliveries.loc["aito_deliveries_2024_06"], hima.loc["hima_deliveries_2024_06"]
    records.append(
        {
            "month": "2024-06",
            "series": "AITO share of HIMA (our calculation)",
            "vehicles": None,
            "aito_share_pct": round(aito["value"] / total["value"] * 100, 1),
            "note": "Our calculation: AITO deliveries ÷ HIMA deliveries × 100, June 2024",
            "confidence": min(aito["confidence"], total["confidence"], key=_rank),
            "source_id": total["source_id"],
        }
    )
    for rid, label in LAUNCHES.items():
        row = events.loc[rid]
        records.append(
            {
                "month": row["date"][:7],
                "_event_date": row["date"],
                "series": LAUNCH,
                "vehicles": None,
                "aito_share_pct": None,
                "note": f"{label}: {row['event']}",
                "confidence": row["confidence"],
                "source_id": row["source_id"],
            }
        )
    plotted = pd.DataFrame(records)
    # Monthly counts sit mid-month; a launch sits on its day, or on the 1st if only the month
    # is known, so its rule runs between the bars rather than through them.
    plotted["_date"] = [
        (d if len(d) == 10 else f"{d}-01") if s == LAUNCH else _mid_month(m)
        for s, m, d in zip(plotted["series"], plotted["month"], plotted["_event_date"], strict=True)
    ]
    plotted = plotted.drop(columns="_event_date")
    plotted["_label"] = [
        next((v for v in LAUNCHES.values() if n.startswith(v + ":")), None) if s == LAUNCH else None
        for s, n in zip(plotted["series"], plotted["note"], strict=True)
    ]
    if narrow:
        plotted["_label"] = plotted["_label"].map(LAUNCHES_SHORT)
    plotted["_vehicles_k"] = plotted["vehicles"] / 1000

    x = alt.X(
        "_date:T",
        title=None,
        scale=alt.Scale(domain=["2024-04-01", "2026-03-31"]),
        axis=alt.Axis(format="%b %Y", tickCount={"interval": "month", "step": step}, labelAngle=0),
    )
    y = alt.Y(
        "_vehicles_k:Q",
        title="Deliveries per month, thousands",
        scale=alt.Scale(domain=[0, 100]),
    )
    tooltip = [
        alt.Tooltip("month:N", title="Month"),
        alt.Tooltip("series:N", title="Series"),
        alt.Tooltip("vehicles:Q", title="Vehicles", format=","),
        alt.Tooltip("aito_share_pct:Q", title="AITO share of HIMA, %", format=".1f"),
        alt.Tooltip("note:N", title="Note"),
        alt.Tooltip("confidence:N", title="Confidence"),
    ]
    # Fade low-confidence bars (blog figures): a pale fill with a full-colour outline, so doubt
    # is visible at a glance and the bar still shows on the dark background.
    fade = alt.condition("datum.confidence === 'low'", alt.value(0.3), alt.value(1))
    color = alt.Color("series:N", scale=alt.Scale(domain=[AITO, HIMA]), legend=None)
    outline = alt.Stroke("series:N", scale=alt.Scale(domain=[AITO, HIMA]), legend=None)
    wide = (
        alt.Chart()
        .transform_filter(f"datum.series === '{HIMA}'")
        .mark_bar(width=8 if narrow else 18, strokeWidth=1.5)
        .encode(x=x, y=y, color=color, stroke=outline, fillOpacity=fade, tooltip=tooltip)
    )
    aito_bars = (
        alt.Chart()
        .transform_filter(f"datum.series === '{AITO}'")
        .mark_bar(width=3 if narrow else 8, strokeWidth=1.5)
        .encode(x=x, y=y, color=color, stroke=outline, fillOpacity=fade, tooltip=tooltip)
    )
    # Above each HIMA bar: the AITO share where one exists (reported, or ours for June 2024).
    shares = (
        alt.Chart()
        # Each share label sits on top of its month's tallest bar (the HIMA total).
        .transform_joinaggregate(_top="max(_vehicles_k)", groupby=["month"])
        .transform_filter("isValid(datum.aito_share_pct)")
        .transform_calculate(
            _share_text="'AITO ' + format(datum.aito_share_pct, '.1f') + '%'"
            " + (indexof(datum.series, 'our') >= 0 ? '*' : '')",
        )
        # Upright, rising from the bar: level, May 2025's ran across the line on 1 May.
        .mark_text(angle=270, align="left", baseline="middle", dx=4, fontSize=10, fontWeight="bold")
        .encode(x=x, y=alt.Y("_top:Q"), text="_share_text:N", tooltip=tooltip)
    )
    # December 2025: AITO's count exists, HIMA's does not; say so on the bar.
    lone = (
        alt.Chart()
        .transform_filter(f"datum.series === '{AITO}' && datum.month === '2025-12'")
        .mark_text(baseline="top", dx=7, fontSize=10, lineBreak="|", align="left")
        .encode(
            x=x,
            y=alt.datum(74),
            text=alt.value("AITO: over 57k|HIMA: not found"),
            tooltip=tooltip,
        )
    )
    # In the empty months: say why they are empty, and key the two bar widths in words, so
    # colour is never the only cue.
    notes = (
        alt.Chart()
        .transform_filter(f"datum.series === '{HIMA}' && datum.month === '2024-06'")
        .mark_text(align="center", fontSize=10, lineBreak="|", fontStyle="italic")
        .encode(
            x=alt.datum(alt.DateTime(year=2024, month=12, date=1)),
            y=alt.datum(62),
            text=alt.value(
                "No monthly HIMA or AITO|figures found for|Jul 2024 to Mar 2025|"
                "|Wide bars: HIMA, all brands|Narrow bars: AITO alone|* share is our calculation"
            ),
            tooltip=alt.value("Months without a sourced figure are left empty, not estimated"),
        )
    )
    rules = (
        alt.Chart()
        .transform_filter("isValid(datum._label)")
        .mark_rule(strokeDash=[3, 3])
        .encode(x=x, tooltip=tooltip)
    )
    rule_labels = (
        alt.Chart()
        .transform_filter("isValid(datum._label)")
        .mark_text(align="left", dx=3, baseline="top", fontSize=10)
        .encode(x=x, y=alt.datum(100), text="_label:N", tooltip=tooltip)
    )
    if not narrow:
        return alt.layer(
            wide, aito_bars, rules, rule_labels, shares, lone, notes, data=plotted
        ).properties(height=320)
    shares_told = [
        f"{_month_name(m)} {v:.1f}%" + ("*" if "our" in series else "")
        for m, v, series in plotted.loc[
            plotted["aito_share_pct"].notna(), ["month", "aito_share_pct", "series"]
        ]
        .sort_values("month")
        .itertuples(index=False)
    ]
    # Three blocks in the empty months, top down (a blank line in one block would collapse).
    blocks = [
        (
            93,
            [
                "No monthly HIMA",
                "or AITO figures",
                "found, Jul 2024",
                "to Mar 2025; no",
                "HIMA, Dec 2025",
            ],
        ),
        (70, ["Wide bars: HIMA", "Narrow: AITO"]),
        (60, ["AITO share", "of HIMA:", *shares_told, "* we calculated"]),
    ]
    note = [
        notes.encode(
            x=alt.datum(alt.DateTime(year=2024, month=12, date=15)),
            y=alt.datum(top),
            text=alt.value("|".join(lines)),
        ).mark_text(align="center", baseline="top", fontSize=10, lineBreak="|", fontStyle="italic")
        for top, lines in blocks
    ]
    return alt.layer(wide, aito_bars, rules, rule_labels, *note, data=plotted).properties(
        height=320
    )


def _month_name(period: str) -> str:
    return pd.Timestamp(f"{period}-01").strftime("%b %Y")


def _rank(confidence: str) -> int:
    return {"low": 0, "medium": 1, "high": 2}.get(confidence, 0)
