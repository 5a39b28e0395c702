"""The article's thirteen claims, by verdict

Each square is one claim of the Sino Report article, labelled with its number on the claims page
and grouped by our verdict. Five claims are supported, seven only partly, one (the store count)
could not be verified anywhere, and none is flatly contradicted; faded squares are verdicts
resting on a single secondary source.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

TABLES = ("claims",)

VERDICTS = {
    "supported": "Supported",
    "partly_supported": "Partly supported",
    "unverified": "Unverified",
    "contradicted": "Contradicted",
}


def chart(data: dict[str, pd.DataFrame]) -> alt.Chart:
    """Unit chart: one labelled square per claim, one row per verdict, with the count."""
    claims = data["claims"].sort_values("id")
    plotted = pd.DataFrame(
        {
            "claim_id": claims["id"],
            "claim": claims["claim"],
            "verdict": claims["verdict"].map(VERDICTS),
            "position": claims.groupby("verdict").cumcount() + 1,
            "source_id": claims["evidence_source_id"],
            "confidence": claims["confidence"],
        }
    )
    counts = plotted["verdict"].value_counts()
    # Every verdict keeps its row, with its count in the axis label, even when no claim has it.
    named = {v: f"{v} ({counts.get(v, 0)})" for v in VERDICTS.values()}
    label_expr = (
        " : ".join(f"datum.value === '{v}' ? '{n}'" for v, n in named.items()) + " : datum.value"
    )

    y = alt.Y(
        "verdict:N",
        title=None,
        scale=alt.Scale(domain=list(VERDICTS.values())),
        axis=alt.Axis(
            labelExpr=label_expr,
            labelFontSize=13,
            labelPadding=8,
            ticks=False,
            # Room for the labels in wider browser fonts than the static renderer measures.
            minExtent=150,
        ),
    )
    x = alt.X("position:O", title=None, axis=None)
    tooltip = [
        alt.Tooltip("claim_id:N", title="Claim"),
        alt.Tooltip("claim:N", title="What the article says"),
        alt.Tooltip("verdict:N", title="Verdict"),
        alt.Tooltip("confidence:N", title="Confidence"),
    ]
    base = alt.Chart().encode(x=x, y=y, tooltip=tooltip)
    low = alt.datum.confidence == "low"
    # One colour per verdict, but the row and its label say the same: colour is a second cue.
    # Verdicts resting on one secondary source are faded: pale fill, full-colour outline.
    colours = alt.Scale(
        domain=list(VERDICTS.values()), range=["#009E73", "#E69F00", "#767676", "#D55E00"]
    )
    squares = base.mark_square(size=1100, strokeWidth=2, opacity=1).encode(
        fill=alt.Fill("verdict:N", scale=colours, legend=None),
        stroke=alt.Stroke("verdict:N", scale=colours, legend=None),
        fillOpacity=alt.condition(low, alt.value(0.3), alt.value(1)),
    )
    # Black reads on the full-colour squares in both themes; on the pale ones the theme's own
    # text colour does.
    ids = base.mark_text(fontSize=11, fontWeight="bold", color="black").encode(text="claim_id:N")
    pale_ids = base.mark_text(fontSize=11, fontWeight="bold").encode(text="claim_id:N")
    ids, pale_ids = ids.transform_filter(~low), pale_ids.transform_filter(low)
    return alt.layer(squares, ids, pale_ids, data=plotted).properties(height=200)
