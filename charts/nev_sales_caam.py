"""China's new-energy vehicle sales and share by year, with policy milestones (CAAM)

Bars show how many battery-electric, plug-in hybrid and fuel-cell vehicles China's makers sold
each year from 2014 to 2025, as counted by CAAM (passenger and commercial, wholesale, exports
included); dots below show NEVs' share of all vehicle sales in the years a share was found.
Vertical lines mark when the purchase-tax exemption began and was extended, and when the
national purchase subsidy was halved and then ended: sales fell only once, in 2019, and grew
fastest after the subsidy ended on 31 December 2022.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from charts._annual import BAR_END, BAR_START, PANEL_WIDTH, caam_sales, mid_year, time_x
from charts._theme import faded

TABLES = ("nev_market_annual", "events")
FIRST, LAST = 2014, 2025
STRIP_HEIGHT = 54

# The milestones drawn, by events.csv id: our short label for the strip, and its lane (0 = top).
# Each label's line drops from its lane to the chart, so lanes are chosen such that no line
# crosses a label in a lower lane.
MILESTONES = {
    "ev_2014_09_01_tax_exemption": ("Tax exemption starts", 0),
    "ev_2017_12_27_tax_exemption_to_2020": ("Tax: to 2020", 0),
    "ev_2019_06_26_subsidy_2019_in_force": ("Subsidy halved", 0),
    "ev_2020_04_23_tax_exemption_to_2022": ("Tax: to 2022", 1),
    "ev_2022_08_19_tax_exemption_to_2023": ("Tax: to 2023", 0),
    "ev_2022_12_31_subsidy_programme_ends": ("Subsidy ends", 1),
    "ev_2023_06_21_tax_break_to_2027": ("Tax: to 2027, capped", 2),
}
# On a phone seven labels cannot share the strip: only the two subsidy milestones, the chart's
# point, are named there (each ending at its line), with a key to the dashed tax lines; every
# milestone keeps its tooltip and its row in the table. Their lanes, by id.
NARROW_LANES = {"ev_2019_06_26_subsidy_2019_in_force": 1, "ev_2022_12_31_subsidy_programme_ends": 0}
KINDS = ["NEV sales", "Purchase tax", "Subsidy"]


def _rows(data: dict[str, pd.DataFrame]) -> pd.DataFrame:
    annual = data["nev_market_annual"]
    sales = caam_sales(annual)
    share = annual[
        annual["metric"].isin(["NEV share of new vehicle sales", "NEV market penetration"])
    ]
    events = data["events"].set_index("id").loc[list(MILESTONES)].reset_index()
    sales_rows = pd.DataFrame(
        {
            "series": "NEV sales",
            "period": sales["period"],
            "value": sales["value"] / 1e6,
            "unit": "million vehicles",
            "detail": "",
            "_x": sales["year"].astype(str) + BAR_START,
            "_x2": sales["year"].astype(str) + BAR_END,
            "_kind": "NEV sales",
            "confidence": sales["confidence"],
            "source_id": sales["source_id"],
        }
    )
    year = share["period"].str[:4].astype(int)
    partial = share["period"].str.contains("/")
    share_rows = pd.DataFrame(
        {
            "series": "NEV share",
            "period": share["period"],
            "value": share["value"],
            "unit": "percent of all vehicle sales",
            # Say on the mark what is not a plain CAAM full-year figure.
            "detail": partial.map({True: "January–November only", False: ""}).where(
                ~share["entity"].str.contains("MIIT"), "MIIT figure"
            ),
            "_x": year.map(mid_year),
            "_x2": None,
            "_label": share["value"].map(lambda v: f"{v:g}%")
            + partial.map({True: " (Jan–Nov)", False: ""}).where(
                ~share["entity"].str.contains("MIIT"), " (MIIT)"
            ),
            "_kind": "NEV sales",
            "confidence": share["confidence"],
            "source_id": share["source_id"],
        }
    )
    # A share's label sits above its dot, centred, unless a milestone's line falls within half
    # a year of the dot: then it starts (or ends) at the dot, on the side away from the line.
    dot_at = pd.to_datetime(share_rows["_x"])
    lines = pd.to_datetime(events["date"])
    share_rows["_align"] = [_away_from(d, lines) for d in dot_at]
    milestone_rows = pd.DataFrame(
        {
            "series": "Policy milestone",
            "period": events["date"],
            "value": None,
            "unit": "",
            "detail": events["event"],
            "_x": events["date"],
            "_x2": None,
            "_kind": events["category"].map({"tax": "Purchase tax", "subsidy": "Subsidy"}),
            "_short": events["id"].map(lambda i: MILESTONES[i][0]),
            "_lane": events["id"].map(lambda i: MILESTONES[i][1]),
            "_narrow_lane": events["id"].map(NARROW_LANES),
            "confidence": events["confidence"],
            "source_id": events["source_id"],
        }
    )
    return pd.concat([sales_rows, share_rows, milestone_rows], ignore_index=True)


def _away_from(dot: pd.Timestamp, lines: pd.Series) -> str:
    gap = lines - dot
    near = gap[gap.abs() < pd.Timedelta(days=183)]
    if near.empty:
        return "center"
    return "left" if near.loc[near.abs().idxmin()] <= pd.Timedelta(0) else "right"


def chart(data: dict[str, pd.DataFrame], layout: str = "wide") -> alt.Chart:
    """Sales bars over a share panel on one year axis, policy milestones as labelled rules.

    layout "narrow" is the phone version: only the subsidy milestones named (a key says what the
    dashed lines are) and only the latest share labelled, so no two labels overlap."""
    narrow = layout == "narrow"
    base = alt.Chart(_rows(data))
    x = time_x("_x", FIRST, LAST)
    kind = alt.Color("_kind:N", scale=alt.Scale(domain=KINDS), legend=None)
    # Tax rules dashed, subsidy rules solid: the line style, not only its colour, says which.
    dash = alt.StrokeDash(
        "_kind:N",
        scale=alt.Scale(domain=["Purchase tax", "Subsidy"], range=[[5, 3], [1, 0]]),
        legend=None,
    )
    # Fade marks resting on a low-confidence source, so doubt is visible at a glance.
    opacity, text_opacity = faded(), faded(text=True)
    is_milestone = alt.datum.series == "Policy milestone"
    milestone_tip = [
        alt.Tooltip("period:N", title="Date or year"),
        alt.Tooltip("detail:N", title="What happened / note"),
        alt.Tooltip("confidence:N", title="Confidence"),
    ]
    rules = (
        base.transform_filter(is_milestone)
        .mark_rule(strokeWidth=1.5)
        .encode(x=x, color=kind, strokeDash=dash, tooltip=milestone_tip)
    )

    lane = "_narrow_lane" if narrow else "_lane"
    strip_x = time_x("_x", FIRST, LAST, labels=False, ticks=False, domain=False)
    milestones = base.transform_filter(is_milestone)
    if narrow:  # only those with a phone lane
        milestones = milestones.transform_filter(alt.expr.isValid(alt.datum[lane]))
    # A phone's labels end at their line: the latest ones would run off the right edge.
    align, dx = ("right", -4) if narrow else ("left", 4)
    strip_layers = [
        # A leader line from each label down to the panels below, so label and rule read as one.
        milestones.mark_rule(strokeWidth=1.5).encode(
            x=strip_x,
            y=alt.Y(f"{lane}:O", axis=None),
            y2=alt.value(STRIP_HEIGHT),
            color=kind,
            strokeDash=dash,
            tooltip=milestone_tip,
        ),
        milestones.mark_text(align=align, dx=dx, fontSize=11, baseline="middle").encode(
            x=strip_x,
            y=alt.Y(f"{lane}:O", axis=None),
            text="_short:N",
            # The words in the text colour (two of the rule colours are too pale for text on
            # white); the leader line below each label carries its colour and dash.
            tooltip=milestone_tip,
        ),
    ]
    if narrow:  # the key to the unnamed lines, once (drawn from one row of the data)
        strip_layers.append(
            milestones.transform_filter(alt.datum[lane] == 0)
            .mark_text(align="left", baseline="middle", fontSize=10, fontStyle="italic")
            .encode(
                x=alt.value(0),
                y=alt.Y(f"{lane}:O", axis=None),
                text=alt.value("Dashed: tax breaks"),
            )
        )
    strip = alt.layer(*strip_layers).properties(width=PANEL_WIDTH, height=STRIP_HEIGHT)

    sales = base.transform_filter(alt.datum.series == "NEV sales")
    bars = sales.mark_bar().encode(
        x=time_x("_x", FIRST, LAST, labels=False, ticks=False),
        x2="_x2:T",
        y=alt.Y("value:Q", title="NEV sales, million vehicles (CAAM)"),
        y2=alt.datum(0),
        color=kind,
        opacity=opacity,
        tooltip=[
            alt.Tooltip("period:N", title="Date or year"),
            alt.Tooltip("value:Q", title="Value", format=",.3~f"),
            alt.Tooltip("unit:N", title="Unit"),
            alt.Tooltip("confidence:N", title="Confidence"),
        ],
    )
    sales_panel = (
        alt.layer(bars, rules.encode(x=time_x("_x", FIRST, LAST, labels=False, ticks=False)))
        .resolve_scale(color="shared")
        .properties(width=PANEL_WIDTH, height=230)
    )

    share = base.transform_filter(alt.datum.series == "NEV share")
    share_tip = [
        alt.Tooltip("period:N", title="Date or year"),
        alt.Tooltip("value:Q", title="Value", format=",.3~f"),
        alt.Tooltip("unit:N", title="Unit"),
        alt.Tooltip("detail:N", title="What happened / note"),
        alt.Tooltip("confidence:N", title="Confidence"),
    ]
    share_y = alt.Y(
        "value:Q",
        title=["NEV share of all", "vehicle sales, % (CAAM)"],
        scale=alt.Scale(domain=[0, 60]),
        axis=alt.Axis(values=[0, 20, 40, 60]),
    )
    # Dots, not a line: the years without a share stay visibly empty.
    dots = share.mark_point(filled=True, size=60).encode(
        x=x, y=share_y, opacity=opacity, tooltip=share_tip
    )
    if narrow:  # the latest share only: a phone has no room between the years
        share = share.transform_window(
            latest="rank()", sort=[alt.SortField("_x", order="descending")]
        ).transform_filter(alt.datum.latest == 1)
    dot_labels = [
        share.transform_filter(alt.datum._align == align)
        .mark_text(dy=-12, fontSize=11, align=align)
        .encode(
            x=x,
            y=share_y,
            text=alt.Text("_label:N"),
            opacity=text_opacity,
            tooltip=share_tip,
        )
        for align in ("center", "left", "right")
    ]
    share_panel = alt.layer(rules, dots, *dot_labels).properties(width=PANEL_WIDTH, height=130)

    return alt.vconcat(strip, sales_panel, share_panel, spacing=6).resolve_scale(
        x="shared", color="shared"
    )
