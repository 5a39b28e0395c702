"""What if the fee or AITO's volume were different? (our illustration, not a forecast)

Our illustration of implied payments to Huawei against Seres's revenue in 2024, in billion yuan:
payments = fee per AITO vehicle × AITO deliveries; revenue = Seres's non-AITO revenue + deliveries
× AITO's revenue per vehicle (both from 2024 reports); share = payments ÷ revenue. It opens at the
sourced values (the media's estimate of about 140,000 yuan a vehicle and 387,100 AITO deliveries,
which imply about 37% of revenue); the sliders run from 50,000 to 200,000 yuan and from 50,000 to
600,000 vehicles.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

TABLES = ("fees", "deliveries", "independence", "seres_financials")

# The four sourced inputs: (table, row id, key used in the formulas, what readers see).
INPUTS = (
    ("fees", "seres_huawei_fee_per_vehicle", "fee", "Fee per AITO vehicle (media estimate)"),
    ("deliveries", "aito_deliveries_2024", "deliveries", "AITO deliveries, 2024"),
    ("independence", "aito_revenue_2024", "aito_revenue", "AITO brand revenue, 2024"),
    ("seres_financials", "seres_revenue_2024", "seres_revenue", "Seres revenue, 2024"),
)
FEE_RANGE = (50_000, 200_000, 1_000)  # yuan per vehicle: min, max, step (our choice)
DELIVERY_RANGE = (50_000, 600_000, 100)  # vehicles: min, max, step (our choice)
PAYMENTS, REVENUE = "Implied payments to Huawei", "Seres revenue at that volume"


def chart(data: dict[str, pd.DataFrame]) -> alt.LayerChart:
    """Two bars driven by two sliders (Vega-Lite params); defaults are the sourced rows."""
    records = []
    for table, rid, key, label in INPUTS:
        row = data[table].set_index("id").loc[rid]
        records.append(
            {
                "input": label,
                "_key": key,
                "value": row["value"],
                "unit": row["unit"],
                "period": row["period"],
                "confidence": row["confidence"],
                "source_id": row["source_id"],
            }
        )
    plotted = pd.DataFrame(records)
    sourced = dict(zip(plotted["_key"], plotted["value"], strict=True))

    fee = alt.param(
        name="fee_per_vehicle",
        value=sourced["fee"],
        bind=alt.binding_range(
            min=FEE_RANGE[0],
            max=FEE_RANGE[1],
            step=FEE_RANGE[2],
            name="Fee per AITO vehicle, yuan (50,000 to 200,000) ",
        ),
    )
    volume = alt.param(
        name="aito_deliveries",
        value=sourced["deliveries"],
        bind=alt.binding_range(
            min=DELIVERY_RANGE[0],
            max=DELIVERY_RANGE[1],
            step=DELIVERY_RANGE[2],
            name="AITO deliveries in the year (50,000 to 600,000) ",
        ),
    )
    # The formula, once, in Vega expressions (inputs in yuan, vehicles and million yuan).
    scenario = [
        {"as": "_revenue_per_vehicle", "calculate": "datum.aito_revenue * 1e6 / datum.deliveries"},
        {
            "as": "_other_revenue_bn",
            "calculate": "(datum.seres_revenue - datum.aito_revenue) / 1e3",
        },
        {"as": "_payments_bn", "calculate": "fee_per_vehicle * aito_deliveries / 1e9"},
        {
            "as": "_revenue_bn",
            "calculate": "datum._other_revenue_bn"
            " + aito_deliveries * datum._revenue_per_vehicle / 1e9",
        },
        {"as": "_share_pct", "calculate": "datum._payments_bn / datum._revenue_bn * 100"},
    ]
    base = (
        alt.Chart()
        .transform_pivot("_key", value="value")
        .transform_calculate(**{c["as"]: c["calculate"] for c in scenario})
        .transform_fold(["_payments_bn", "_revenue_bn"], as_=["_bar_key", "_amount_bn"])
        .transform_calculate(
            _bar=f"datum._bar_key === '_payments_bn' ? '{PAYMENTS}' : '{REVENUE}'",
            _text="datum._bar_key === '_payments_bn'"
            " ? '¥' + format(datum._amount_bn, ',.1f') + 'bn, '"
            " + format(datum._share_pct, '.1f') + '% of revenue'"
            " : '¥' + format(datum._amount_bn, ',.1f') + 'bn'",
        )
    )
    y = alt.Y(
        "_bar:N", title=None, sort=[PAYMENTS, REVENUE], axis=alt.Axis(labelLimit=220, minExtent=190)
    )
    tooltip = [
        alt.Tooltip("_bar:N", title="Bar"),
        alt.Tooltip("_amount_bn:Q", title="Billion yuan", format=",.1f"),
        alt.Tooltip("_share_pct:Q", title="Payments as % of revenue", format=".1f"),
    ]
    bars = base.mark_bar(height={"band": 0.6}).encode(
        x=alt.X(
            "_amount_bn:Q",
            title="Billion yuan, 2024 (our illustration from sourced inputs)",
            scale=alt.Scale(domain=[0, 240]),
        ),
        y=y,
        # Payments in the theme's second colour, revenue in its first; the bars are also
        # named on the axis, so colour is never the only cue.
        color=alt.Color("_bar:N", scale=alt.Scale(domain=[REVENUE, PAYMENTS]), legend=None),
        tooltip=tooltip,
    )
    labels = base.mark_text(align="left", dx=4, fontSize=12, fontWeight="bold").encode(
        x="_amount_bn:Q", y=y, text="_text:N", tooltip=tooltip
    )
    # Where the sourced values put revenue: a fixed mark, so a moved slider shows its distance.
    # Where the sourced values put revenue: a fixed pointer under the bar, so a moved slider
    # shows how far the scenario is from what Seres reported.
    reported = (
        alt.Chart()
        .transform_filter("datum._key === 'seres_revenue'")
        .transform_calculate(_reported_bn="datum.value / 1e3", _bar=f"'{REVENUE}'")
        .mark_text(baseline="top", dy=26, fontSize=10, fontStyle="italic", lineBreak="|")
        .encode(
            x="_reported_bn:Q",
            y=y,
            text=alt.value("▲|reported 2024"),
            tooltip=[alt.Tooltip("_reported_bn:Q", title="Reported 2024 revenue, billion yuan")],
        )
    )
    # Say what this is inside the image too, so a downloaded PNG carries the warning.
    stamp = (
        alt.Chart()
        .transform_filter("datum._key === 'fee'")
        .mark_text(align="right", baseline="top", fontSize=10, fontStyle="italic")
        .encode(
            x=alt.datum(240),
            y=alt.value(0),
            text=alt.value("Our illustration, not a forecast"),
            tooltip=alt.value("Built only from the sourced inputs in the data table"),
        )
    )
    return (
        alt.layer(bars, reported, labels, stamp, data=plotted)
        .add_params(fee, volume)
        .properties(height=200)
    )
