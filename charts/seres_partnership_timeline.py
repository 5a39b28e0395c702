"""Seres and Huawei: partnership, widening alliance and independence moves

Dated events from the first Sokon–Huawei agreement in January 2019 to the Hong Kong listing
in November 2025, one row per kind of event, each a distinct shape; hover or focus a mark for the
event. The tie deepened until 2023; from mid-2024 two rows fill at once, Huawei adding partner
brands to HIMA while Seres bought the AITO trademarks, a Yinwang stake and its own listing.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

TABLES = ("events",)

# Event category -> row name readers see, top to bottom.
ROWS = {
    "partnership": "Partnership",
    "hima": "HIMA widens",
    "finance": "Stakes, car unit",
    "independence": "Seres's own moves",
}
SHAPES = ["circle", "triangle-up", "square", "diamond"]
# The events named on the chart (the rest carry their text in the tooltip):
# id -> (label, above or below the mark, text alignment).
LABELS = {
    "ev_2019_01_sokon_huawei_agreement": ("First cooperation deal", "above", "left"),
    "ev_2023_02_26_seres_huawei_1m_target": ("Goal: 1M cars in 2026", "above", "center"),
    "ev_2023_06_huawei_aito_cn_trademark": ("Huawei takes AITO mark", "below", "center"),
    "ev_2023_11_28_luxeed_s7_hima_unveiled": ("HIMA: Luxeed (Chery)", "above", "right"),
    "ev_2024_08_stelato_s9_launch_maextro": ("Stelato on sale", "below", "center"),
    "ev_2025_09_23_saic_shangjie_joins_hima": ("Shangjie: 5th brand", "above", "right"),
    "ev_2024_01_yinwang_registered": ("Yinwang set up", "above", "right"),
    "ev_2024_08_25_seres_yinwang_stake": ("Seres buys 10% of Yinwang", "below", "center"),
    "ev_2022_07_11_sokon_renamed_seres": ("Sokon renamed Seres", "above", "center"),
    "ev_2024_07_02_aito_trademark_deal": ("Buys AITO trademarks", "above", "right"),
    "ev_2025_04_28_seres_hk_filing": ("Files for HK listing", "below", "center"),
    "ev_2025_11_05_seres_hk_listing": ("Lists in Hong Kong", "above", "right"),
}
# The phone's labels: fewer and shorter, as a year there is 45 px, not 85. "|" breaks a line
# (below a mark only: a label above grows down into its mark).
LABELS_NARROW = {
    "ev_2019_01_sokon_huawei_agreement": ("First deal", "above", "left"),
    "ev_2023_02_26_seres_huawei_1m_target": ("Goal: 1M cars in 2026", "above", "right"),
    "ev_2023_06_huawei_aito_cn_trademark": ("Huawei takes AITO mark", "below", "center"),
    "ev_2023_11_28_luxeed_s7_hima_unveiled": ("HIMA: Luxeed (Chery)", "above", "right"),
    "ev_2024_08_stelato_s9_launch_maextro": ("Stelato on sale", "below", "center"),
    "ev_2025_09_23_saic_shangjie_joins_hima": ("Shangjie joins", "above", "right"),
    "ev_2024_01_yinwang_registered": ("Yinwang set up", "above", "right"),
    "ev_2024_08_25_seres_yinwang_stake": ("Seres buys 10%|of Yinwang", "below", "right"),
    "ev_2022_07_11_sokon_renamed_seres": ("Renamed Seres", "above", "center"),
    "ev_2024_07_02_aito_trademark_deal": ("Buys AITO|trademarks", "below", "right"),
    "ev_2025_11_05_seres_hk_listing": ("Lists in HK", "above", "right"),
}


def _plot_date(date: str) -> str:
    # Month-only dates sit mid-month; the tooltip keeps the date as the source gives it.
    return f"{date}-15" if len(date) == 7 else date


def chart(data: dict[str, pd.DataFrame], layout: str = "wide") -> alt.LayerChart:
    """Strip timeline: one row per event category, shaped marks, a few events labelled.

    layout "narrow" is the phone version: row names above their rows rather than beside them,
    so the years get the whole width, and fewer, shorter event labels."""
    narrow = layout == "narrow"
    named = LABELS_NARROW if narrow else LABELS
    rows = data["events"]
    rows = rows[(rows["track"] == "seres") & rows["category"].isin(ROWS)]
    # Citi's rating is filed under "independence" but is an analyst's view, not a move by Seres;
    # the page discusses it with the other analysts.
    rows = rows[rows["id"] != "ev_2025_11_06_citi_sell_rating"]
    plotted = pd.DataFrame(
        {
            "date": rows["date"],
            "kind": rows["category"].map(ROWS),
            "event": rows["event"],
            "confidence": rows["confidence"],
            "source_id": rows["source_id"],
            "_date": rows["date"].map(_plot_date),
            "_label": rows["id"].map(lambda i: named.get(i, (None,))[0]),
            "_place": rows["id"].map(lambda i: "/".join(named[i][1:]) if i in named else None),
        }
    ).sort_values("date")
    x = alt.X(
        "_date:T",
        title=None,
        scale=alt.Scale(domain=["2018-10-01", "2026-03-01"]),
        axis=alt.Axis(format="%Y", tickCount={"interval": "year", "step": 1}, labelAngle=0),
    )
    y = alt.Y(
        "kind:N",
        title=None,
        sort=list(ROWS.values()),
        # Room to spare: browsers' fonts run wider than the static renderer's metrics.
        axis=alt.Axis(domain=False, ticks=False, labels=False, minExtent=0)
        if narrow
        else alt.Axis(domain=False, ticks=False, labelPadding=8, minExtent=110),
    )
    tooltip = [
        alt.Tooltip("date:N", title="Date"),
        alt.Tooltip("kind:N", title="Kind"),
        alt.Tooltip("event:N", title="Event"),
        alt.Tooltip("confidence:N", title="Confidence"),
    ]
    marks = (
        alt.Chart()
        .mark_point(size=90, filled=True, strokeWidth=1.5)
        .encode(
            x=x,
            y=y,
            # Each row has its own shape as well as its own colour, so colour is never the only
            # cue; the row labels on the left say what each shape stands for.
            shape=alt.Shape(
                "kind:N", scale=alt.Scale(domain=list(ROWS.values()), range=SHAPES), legend=None
            ),
            color=alt.Color("kind:N", scale=alt.Scale(domain=list(ROWS.values())), legend=None),
            stroke=alt.Stroke("kind:N", scale=alt.Scale(domain=list(ROWS.values())), legend=None),
            # Fade events resting on a single or doubtful source: a pale fill with a full-colour
            # outline, visible in both themes.
            fillOpacity=alt.condition("datum.confidence === 'low'", alt.value(0.3), alt.value(1)),
            tooltip=tooltip,
        )
    )
    # A ring around each labelled mark ties the label to its event when marks crowd.
    rings = (
        alt.Chart()
        .transform_filter("isValid(datum._label)")
        .mark_point(size=260, filled=False, strokeWidth=1.2)
        .encode(
            x=x,
            y=y,
            color=alt.Color("kind:N", scale=alt.Scale(domain=list(ROWS.values())), legend=None),
            tooltip=tooltip,
        )
    )
    labels = [
        alt.Chart()
        .transform_filter(f"datum._place === '{place}/{align}'")
        .mark_text(
            fontSize=11,
            **({"lineBreak": "|"} if narrow else {}),
            align=align,
            baseline="bottom" if place == "above" else "top",
            dy=-9 if place == "above" else 9,
            dx={"left": -4, "right": 4, "center": 0}[align],
        )
        .encode(x=x, y=y, text="_label:N", tooltip=tooltip)
        for place in ("above", "below")
        for align in ("left", "center", "right")
    ]
    if not narrow:
        return alt.layer(marks, rings, *labels, data=plotted).properties(height=320)
    # Each row's name on its own line above the row's marks, at the left edge.
    names = (
        alt.Chart()
        .transform_aggregate(groupby=["kind"])
        .mark_text(align="left", baseline="bottom", dy=-32, fontSize=12, fontWeight="bold")
        .encode(x=alt.datum(alt.DateTime(year=2018, month=10, date=1)), y=y, text="kind:N")
    )
    return alt.layer(marks, rings, *labels, names, data=plotted).properties(width=330, height=400)
