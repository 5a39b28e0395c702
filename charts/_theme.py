"""The house look: one palette safe for colour-blind readers, a light and a dark variant.

Colours are the Okabe-Ito set, ordered so the first two stay distinct under every common colour
vision deficiency. Text colours meet 4.5:1 against each background (Material's own page colours,
so a chart sits on the page without a visible box).
"""

from __future__ import annotations

# The credit line under a downloaded or shared chart image.
CREDIT = "Chart: Renting a premium brand, a Seres–Huawei EV explainer (CC BY 4.0)"

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"

# Highlight colour first: Seres / AITO / the series the chart is about.
PALETTE_LIGHT = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]
PALETTE_DARK = ["#56B4E9", "#E69F00", "#009E73", "#CC79A7", "#F0E442", "#D55E00", "#FFFFFF"]
MUTED = {"light": "#767676", "dark": "#9a9cab"}

THEMES = {
    "light": {"background": "#ffffff", "text": "#1f1f1f", "subtle": "#595959", "grid": "#e6e6e6"},
    "dark": {"background": "#1e2029", "text": "#e5e6ed", "subtle": "#b4b6c4", "grid": "#3a3d4d"},
}


def palette(theme: str) -> list[str]:
    """Return the categorical palette for a theme ('light' or 'dark')."""
    return PALETTE_DARK if theme == "dark" else PALETTE_LIGHT


def config(theme: str, variant: str = "wide") -> dict:
    """Return the Vega-Lite config block for a theme ('light' or 'dark').

    variant "narrow" is the phone layout of the same chart: fewer ticks, labels that give way
    rather than overlap, and legends wrapped into columns, at the same 12 px type.
    """
    t = THEMES[theme]
    pal = palette(theme)
    axis = {
        "labelColor": t["subtle"],
        "titleColor": t["text"],
        "gridColor": t["grid"],
        "domainColor": t["subtle"],
        "tickColor": t["subtle"],
        "labelFont": FONT,
        "titleFont": FONT,
        "labelFontSize": 12,
        "titleFontSize": 12,
        "titleFontWeight": "normal",
    }
    out = {
        "background": t["background"],
        "font": FONT,
        "view": {"stroke": None},
        "axis": axis,
        "legend": {
            "labelColor": t["text"],
            "titleColor": t["text"],
            "labelFont": FONT,
            "titleFont": FONT,
            "labelFontSize": 12,
            "orient": "top",
        },
        "title": {"color": t["text"], "font": FONT},
        "text": {"color": t["text"], "font": FONT},
        "rule": {"color": t["subtle"]},
        "mark": {"color": pal[0]},
        "bar": {"color": pal[0]},
        "line": {"color": pal[0], "strokeWidth": 2.5},
        "point": {"color": pal[0], "filled": True},
        "range": {"category": pal},
        "header": {"labelColor": t["text"], "titleColor": t["text"], "labelFont": FONT},
    }
    if variant == "narrow":
        out["axis"] = {**axis, "labelLimit": 120, "titleLimit": 260}
        out["axisX"] = {"labelOverlap": "greedy", "labelSeparation": 4}
        out["axisQuantitative"] = {"tickCount": 5}
        out["axisTemporal"] = {"tickCount": 4}
        out["legend"] = {**out["legend"], "columns": 2, "labelLimit": 140}
    return out


def dark_of_own(colour: str) -> str:
    """The dark theme's colour for one a chart names itself: the highlight colour becomes the
    dark highlight (a chart pairs it with a grey, say, in its own range); any other colour a
    chart names stays as it is in both themes."""
    return PALETTE_DARK[0] if colour.lower() == PALETTE_LIGHT[0].lower() else colour


def in_dark(node: object) -> object:
    """A chart's own spec as the dark theme draws it (see dark_of_own); its data is left alone."""
    if isinstance(node, dict):
        return {k: v if k in ("data", "datasets") else in_dark(v) for k, v in node.items()}
    if isinstance(node, list):
        return [in_dark(v) for v in node]
    return dark_of_own(node) if isinstance(node, str) else node


def muted(theme: str) -> str:
    """Return the grey used for context marks (everything that is not the subject)."""
    return MUTED[theme]


# Marks resting on a low-confidence source are faded, so doubt shows at a glance. Text is faded
# less: at 70 % the theme's text colour still reaches 6:1 on either background (4.5:1 is the
# floor), where the marks' 50 % would leave it at about 3:1.
LOW_CONFIDENCE = "datum.confidence === 'low'"


def faded(text: bool = False) -> dict:
    """Opacity for marks (or, with text=True, labels) of low-confidence rows."""
    # Imported here: the build reads this module's colours even when it has nothing to draw,
    # and importing Altair costs it a third of a second.
    import altair as alt

    return alt.condition(LOW_CONFIDENCE, alt.value(0.7 if text else 0.5), alt.value(1))
