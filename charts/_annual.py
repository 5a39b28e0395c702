"""Helpers for charts on a calendar-year time axis: bars that span their year, CAAM sales rows.

Dates are plain ISO strings ("2024-01-01"), which browsers and vl-convert both read as UTC, and
every time scale here is a UTC scale, so a mark never shifts by a time zone.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

# Vega-Lite ignores a top-level width on concatenated views, so each panel of a stacked chart
# takes the width the build gives single charts (build_charts.STATIC_WIDTH).
PANEL_WIDTH = 640

# Bars stop a little short of the year's edges so neighbouring years read as separate bars.
BAR_START = "-01-20"
BAR_END = "-12-12"


def year_start(year: int) -> str:
    return f"{year}-01-01"


def mid_year(year: int) -> str:
    return f"{year}-07-01"


def time_x(field: str, first: int, last: int, title: str | None = None, **axis) -> alt.X:
    """Return a UTC time x channel from 1 Jan of first to 31 Dec of last, labelled mid-year."""
    ticks = [alt.DateTime(year=y, month=7, date=1, utc=True) for y in range(first, last + 1)]
    return alt.X(
        f"{field}:T",
        title=title,
        scale=alt.Scale(type="utc", domain=[year_start(first), f"{last}-12-31"]),
        axis=alt.Axis(values=ticks, format="%Y", labelAngle=0, grid=False, **axis),
    )


def caam_sales(annual: pd.DataFrame) -> pd.DataFrame:
    """Return CAAM's annual NEV sales rows (all NEVs, wholesale incl. exports), oldest first."""
    rows = annual[(annual["metric"] == "NEV sales") & annual["entity"].str.contains("CAAM")]
    return rows.assign(year=rows["period"].astype(int)).sort_values("year")
