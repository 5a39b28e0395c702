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
    # One colour per verdict, but the row and its label say the same: colour is a second cue.
    squares = base.mark_square(size=1100).encode(
        color=alt.Color(
            "verdict:N",
            scale=alt.Scale(
                domain=list(VERDICTS.values()),
                range=["#009E73", "#E69F00", "#767676", "#D55E00"],
            ),
            legend=None,
        ),
        # Fade the verdicts that rest on one secondary source.
        opacity=alt.condition("datum.confidence === 'low'", alt.value(0.45), alt.value(1)),
    )
    ids = base.mark_text(fontSize=11, fontWeight="bold", color="black").encode(text="claim_id:N")
    return alt.layer(squares, ids, data=plotted).properties(height=200)
