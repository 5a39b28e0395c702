"""The national subsidy for a battery-electric car stepped down to nothing; sales rose anyway

Top panel: the central government's purchase subsidy for a battery-electric car in its
top range tier, in yuan per vehicle, 2014 to 2019 (the tiers were redrawn in 2018, so the top
tier moved from at least 250 km of range to at least 400 km); diamonds show the 300 to 400 km
tier, the only tier with sourced amounts for 2020 and 2021. For 2020 to 2022 only the
percentage cuts are sourced, and the programme ended on 31 December 2022. Bottom panel: CAAM's
count of NEV sales over the same years, which grew fastest once the subsidy was gone.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from charts._annual import BAR_END, BAR_START, PANEL_WIDTH, caam_sales, mid_year, time_x
from charts._theme import faded

TABLES = ("subsidies", "nev_market_annual", "events")
FIRST, LAST = 2014, 2025
SUBSIDY_HEIGHT = 230
TOP_TIER = {
    # row id: our short tier label (from the row's metric)
    "subsidy_bev_max_2014": "top tier",
    "subsidy_bev_250km_2016": "≥250 km",
    "subsidy_bev_250km_2017": "≥250 km",
    "subsidy_bev_400km_2018": "≥400 km",
    "subsidy_bev_400km_2019": "≥400 km",
}
MID_TIER = (
    "subsidy_bev_300_400km_2018",
    "subsidy_bev_300_400km_2020",
    "subsidy_bev_300_400km_2021",
)
CUTS = ("subsidy_cut_2020", "subsidy_cut_2021", "subsidy_cut_2022")
TIER_CHANGE = "ev_2018_02_12_subsidy_2018_tiers"
PROGRAMME_END = "ev_2022_12_31_subsidy_programme_ends"
SERIES = ["Top-tier BEV subsidy", "300–400 km BEV subsidy", "NEV sales (CAAM)"]


def _row(frame: pd.DataFrame, ident: str) -> pd.Series:
    return frame.set_index("id").loc[ident]


def _rows(data: dict[str, pd.DataFrame]) -> pd.DataFrame:
    subsidies, events = data["subsidies"], data["events"]
    rows = []
    for ident, tier in TOP_TIER.items():
        r = _row(subsidies, ident)
        year = int(r["period"])
        rows.append(
            {
                "series": SERIES[0],
                "period": r["period"],
                "value": r["value"],
                "unit": "yuan per vehicle",
                "detail": r["metric"],
                "_x": f"{year}{BAR_START}",
                "_x2": f"{year}{BAR_END}",
                "_label": f"{r['value']:,.0f}",
                "_tier": tier,
                "confidence": r["confidence"],
                "source_id": r["source_id"],
            }
        )
    for ident in MID_TIER:
        r = _row(subsidies, ident)
        rows.append(
            {
                "series": SERIES[1],
                "period": r["period"],
                "value": r["value"],
                "unit": "yuan per vehicle",
                "detail": r["metric"],
                "_x": mid_year(int(r["period"])),
                "_label": f"{r['value']:,.0f}",
                "confidence": r["confidence"],
                "source_id": r["source_id"],
            }
        )
    for ident in CUTS:
        r = _row(subsidies, ident)
        year = int(r["period"])
        rows.append(
            {
                "series": "Subsidy cut",
                "period": r["period"],
                "value": r["value"],
                "unit": "percent",
                "detail": f"{r['metric']} (all tiers)",
                "_x": mid_year(year),
                "_label": f"−{r['value']:.0f}%\nvs {year - 1}",
                "confidence": r["confidence"],
                "source_id": r["source_id"],
            }
        )
    for ident, series, start, end, label in (
        (TIER_CHANGE, "Tier change", "2018-02-12", None, "Tiers redrawn:\ntop tier now ≥400 km"),
        (PROGRAMME_END, "Subsidy ended", "2023-01-01", f"{LAST}-12-31", "No national subsidy"),
    ):
        r = _row(events, ident)
        rows.append(
            {
                "series": series,
                "period": r["date"],
                "value": None,
                "unit": "",
                "detail": r["event"],
                "_x": start,
                "_x2": end,
                "_label": label,
                "confidence": r["confidence"],
                "source_id": r["source_id"],
            }
        )
    sales = caam_sales(data["nev_market_annual"])
    for _, r in sales.iterrows():
        rows.append(
            {
                "series": SERIES[2],
                "period": r["period"],
                "value": r["value"] / 1e6,
                "unit": "million vehicles",
                "detail": r["entity"],
                "_x": f"{r['year']}{BAR_START}",
                "_x2": f"{r['year']}{BAR_END}",
                "confidence": r["confidence"],
                "source_id": r["source_id"],
            }
        )
    return pd.DataFrame(rows)


def chart(data: dict[str, pd.DataFrame], layout: str = "wide") -> alt.Chart:
    """Subsidy amounts (bars, diamonds, labelled cuts) stacked over CAAM NEV sales bars.

    layout "narrow" is the phone version, where a year is 22 px: amounts in thousands ("55k")
    with the tiers told once in the note, and the yearly cuts in a note of their own, as
    "55,000 / ≥250 km" and "−10% vs 2019" ran into their neighbours."""
    narrow = layout == "narrow"
    rows = _rows(data)
    base = alt.Chart(rows)
    x_top = time_x("_x", FIRST, LAST, labels=False, ticks=False)
    x_bottom = time_x("_x", FIRST, LAST)
    colour = alt.Color("series:N", scale=alt.Scale(domain=SERIES), legend=None)
    # Fade marks resting on a low-confidence source, so doubt is visible at a glance.
    opacity = faded()
    tip = [
        alt.Tooltip("series:N", title="Series"),
        alt.Tooltip("period:N", title="Year or date"),
        alt.Tooltip("value:Q", title="Value", format=",.4~f"),
        alt.Tooltip("unit:N", title="Unit"),
        alt.Tooltip("detail:N", title="What it is"),
        alt.Tooltip("confidence:N", title="Confidence"),
    ]
    subsidy_y = alt.Y(
        "value:Q",
        title=["BEV purchase subsidy,", "yuan per vehicle (central)"],
        scale=alt.Scale(domain=[0, 70000]),
        axis=alt.Axis(values=[0, 20000, 40000, 60000], format=",.0f")
        if not narrow
        else alt.Axis(
            values=[0, 20000, 40000, 60000],
            labelExpr="datum.value ? datum.value / 1000 + 'k' : '0'",
        ),
    )

    def only(*series: str):
        return base.transform_filter(alt.FieldOneOfPredicate(field="series", oneOf=list(series)))

    top_bars = (
        only(SERIES[0])
        .mark_bar()
        .encode(x=x_top, x2="_x2:T", y=subsidy_y, y2=alt.datum(0), color=colour, opacity=opacity)
        .encode(tooltip=tip)
    )
    # Amount over tier, both above the bar: the tier label says which range the amount is for.
    top_labels = (
        only(SERIES[0])
        .mark_text(baseline="bottom", dy=-16, fontSize=11)
        .encode(x=alt.X("_mid:T"), y=subsidy_y, text="_label:N", tooltip=tip)
        .transform_calculate(_mid="(toDate(datum._x) + toDate(datum._x2)) / 2")
    )
    tier_labels = top_labels.mark_text(baseline="bottom", dy=-3, fontSize=10).encode(text="_tier:N")
    # The lower tier as diamonds with a light edge, so they read on top of a bar as well.
    mid_tier = (
        only(SERIES[1])
        .mark_point(shape="diamond", filled=True, size=110, stroke="white", strokeWidth=1)
        .encode(x=x_top, y=subsidy_y, color=colour, opacity=opacity, tooltip=tip)
    )
    mid_labels = (
        only(SERIES[1])
        .mark_text(align="left", dx=9, fontSize=11)
        # Words in the text colour: the diamonds' orange is too pale for text on white.
        .encode(x=x_top, y=subsidy_y, text="_label:N", tooltip=tip)
        .transform_filter("year(datum._x) > 2018")
    )
    # Name the diamond series once, above its first labelled point, instead of a legend.
    mid_name = (
        only(SERIES[1])
        .mark_text(align="left", baseline="bottom", dx=-6, dy=-10, fontSize=11)
        .encode(x=x_top, y=subsidy_y, text=alt.value("300–400 km tier"))
        .transform_filter("year(datum._x) == 2020")
    )
    # The 2020-22 cuts are percentages, not yuan: written as text near the floor, not drawn.
    cuts = (
        only("Subsidy cut")
        .mark_text(baseline="bottom", fontSize=11, lineBreak="\n")
        .encode(x=x_top, y=alt.value(SUBSIDY_HEIGHT - 20), text="_label:N", tooltip=tip)
    )
    # A flat line on zero for the years after the programme ended: nothing, drawn as nothing.
    ended_line = (
        only("Subsidy ended")
        .mark_rule(strokeWidth=3)
        .encode(x=x_top, x2="_x2:T", y=alt.datum(0), tooltip=tip)
    )
    ended_label = (
        only("Subsidy ended")
        .mark_text(baseline="bottom", dy=-6, fontSize=11)
        .encode(x=alt.X("_mid:T"), y=alt.datum(0), text="_label:N", tooltip=tip)
        .transform_calculate(_mid="(toDate(datum._x) + toDate(datum._x2)) / 2")
    )
    tier_note = (
        only("Tier change")
        .mark_text(
            align="left", baseline="top", dx=4, fontSize=11, lineBreak="\n", fontStyle="italic"
        )
        .encode(x=x_top, y=alt.value(2), text="_label:N", tooltip=tip)
    )
    tier_rule = (
        only("Tier change")
        .mark_rule(strokeDash=[2, 2])
        .encode(x=x_top, y=alt.datum(70000), y2=alt.datum(60000), tooltip=tip)
    )
    layers = [
        tier_rule,
        top_bars,
        top_labels,
        tier_labels,
        mid_tier,
        mid_labels,
        mid_name,
        cuts,
        ended_line,
        ended_label,
        tier_note,
    ]
    if narrow:
        layers = [
            tier_rule,
            top_bars,
            mid_tier,
            ended_line,
            *_phone_labels(only, rows, x_top, subsidy_y, tip),
        ]
    subsidy_panel = alt.layer(*layers).properties(width=PANEL_WIDTH, height=SUBSIDY_HEIGHT)

    sales_panel = (
        only(SERIES[2])
        .mark_bar()
        .encode(
            x=x_bottom,
            x2="_x2:T",
            y=alt.Y("value:Q", title=["NEV sales, million", "vehicles (CAAM)"]),
            y2=alt.datum(0),
            color=colour,
            opacity=opacity,
            tooltip=tip,
        )
        .properties(width=PANEL_WIDTH, height=170)
    )
    return alt.vconcat(subsidy_panel, sales_panel, spacing=10).resolve_scale(
        x="shared", color="shared"
    )


# A yuan amount in thousands, as the phone labels it: 55000 -> "55k", 16200 -> "16.2k".
THOUSANDS = "format(datum.value / 1000, '.3~r') + 'k'"
MID_BAR = "(toDate(datum._x) + toDate(datum._x2)) / 2"


def _phone_notes(rows: pd.DataFrame) -> tuple[str, str]:
    """The phone's two notes, from the plotted rows: which range tier the bars are, and the
    yearly cuts, two to a line."""
    tiers = rows[(rows["series"] == SERIES[0]) & rows["_tier"].str.startswith("≥")]
    spans = tiers.groupby("_tier", sort=False)["period"].agg(["min", "max"])
    was, now = spans.index[0], spans.index[-1]
    a, b = spans.loc[was, "min"], spans.loc[was, "max"]
    years = a if a == b else f"{a}–{b[2:]}"
    tier_note = f"Bars: the top range tier,\n{was} in {years}, then\n{now} (tiers redrawn)"
    cuts = rows[rows["series"] == "Subsidy cut"]
    said = [f"{p} −{v:.0f}%" for v, p in zip(cuts["value"], cuts["period"], strict=True)]
    pairs = [", ".join(said[i : i + 2]) for i in range(0, len(said), 2)]
    cut_note = "\n".join(["Cuts to all tiers, each", "vs the year before:", ",\n".join(pairs)])
    return tier_note, cut_note


def _phone_labels(only, rows: pd.DataFrame, x: alt.X, y: alt.Y, tip: list) -> list[alt.Chart]:
    """The subsidy panel's words on a phone: amounts in thousands, the tiers and the cuts each
    told once in a note in the empty space rather than beside every bar."""
    tier_note, cut_note = _phone_notes(rows)

    def words(series: str, year: int | None = None, **mark) -> alt.Chart:
        chart = only(series).transform_calculate(_k=THOUSANDS, _mid=MID_BAR)
        if year:
            chart = chart.transform_filter(f"year(datum._x) == {year}")
        return chart.mark_text(fontSize=10, **mark)

    note = {"align": "left", "baseline": "top", "lineBreak": "\n", "fontStyle": "italic"}
    top_tier, mid_tier = SERIES[0], SERIES[1]
    return [
        words(top_tier, baseline="bottom", dy=-3).encode(
            x=alt.X("_mid:T"), y=y, text="_k:N", tooltip=tip
        ),
        # 2020 above its diamond, 2021 to the right: side by side they would touch.
        words(mid_tier, 2020, baseline="bottom", dx=4, dy=-8).encode(
            x=x, y=y, text="_k:N", tooltip=tip
        ),
        words(mid_tier, 2021, align="left", dx=8).encode(x=x, y=y, text="_k:N", tooltip=tip),
        words(mid_tier, 2020, align="left", baseline="bottom", dx=-4, dy=-21).encode(
            x=x, y=y, text=alt.value("300–400 km tier")
        ),
        words("Tier change", dx=4, **note).encode(x=x, y=alt.value(2), text=alt.value(tier_note)),
        words("Subsidy cut", 2020, dx=-11, **note).encode(
            x=x, y=alt.datum(52000), text=alt.value(cut_note)
        ),
        words("Subsidy ended", align="center", baseline="top", dy=-30, lineBreak="\n").encode(
            x=alt.X("_mid:T"), y=alt.datum(0), text=alt.value("No national\nsubsidy"), tooltip=tip
        ),
    ]
