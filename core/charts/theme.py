"""The one theme every chart shares, and the helpers the builders use to assemble figures.

The theme is made for a projector: a colour-blind-safe palette (Okabe–Ito, without its yellow and
black, which vanish on white and on dark backgrounds), 16 px text, 3 px lines, transparent
backgrounds so Streamlit's light and dark themes both show through.

Figures are assembled from plain trace and layout dicts and built without plotly's per-property
validation, which costs 20–40 ms a chart on every rerun; tests/core/test_charts.py builds every
chart again with validation on, so a bad property still fails a test.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

PALETTE: tuple[str, ...] = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#8C8C8C")
NEUTRAL = "#8C8C8C"
FONT_SIZE = 16
LINE_WIDTH = 3
#: Text drawn on a light, opaque fill (heatmap cells, `tint`ed diagram boxes): the same in light and dark themes.
INK_ON_LIGHT = "#111111"


def rgba(hex_color: str, alpha: float) -> str:
    """'#RRGGBB' with opacity alpha, as plotly's 'rgba(r,g,b,a)'."""
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def tint(hex_color: str, share: float) -> str:
    """'#RRGGBB' mixed with white (share of the colour, 0..1), opaque: a light fill that stays light on a dark page."""
    r, g, b = (round(255 - share * (255 - int(hex_color[i : i + 2], 16))) for i in (1, 3, 5))
    return f"#{r:02X}{g:02X}{b:02X}"

_THEME: dict[str, Any] = {
    "font": {"size": FONT_SIZE},
    # Room for a titled axis at the left and at the bottom, and for the last x tick label's overhang at the right.
    # Axes keep `automargin`, so a label never clips; but when labels need more than these, Plotly draws the figure
    # twice on every update, so builders whose labels need more, or less, say so (tests/browser/test_chart_margins.py).
    "margin": {"l": 88, "r": 20, "t": 50, "b": 72},
    "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.08, "xanchor": "left", "x": 0},
    "paper_bgcolor": "rgba(0,0,0,0)",
    "plot_bgcolor": "rgba(0,0,0,0)",
    "hovermode": "x unified",
}


def series_colors(names: Sequence[str]) -> dict[str, str]:
    """A fixed colour per series name, so one function keeps its colour on every chart."""
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        out[key] = _merge(out[key], value) if isinstance(value, Mapping) and isinstance(out.get(key), dict) else value
    return out


_AXIS = {"tickfont": {"size": FONT_SIZE - 1}, "title": {"font": {"size": FONT_SIZE}}, "automargin": True}


LEGEND_ROW = 18  # what one row of the legend above the plot adds to the top margin


def label_margin(labels: Sequence[str], size: float) -> int:
    """A left margin that holds the longest of `labels` written at font size `size` (0.55 em a character, and the tick's own room)."""
    return 30 + round(0.55 * size * max((len(str(t)) for t in labels), default=0))


def _legend_shown(data: list[dict[str, Any]], layout: Mapping[str, Any]) -> bool:
    """Plotly's rule: a legend when the layout asks for one, or when more than one trace would be listed in it."""
    listed = [t for t in data if t.get("showlegend", True) is not False and t.get("type") != "image"]
    return bool(layout.get("showlegend", len(listed) > 1 or any(t.get("showlegend") for t in data)))


def figure(data: list[dict[str, Any]], layout: Mapping[str, Any], height: int = 420) -> go.Figure:
    """A themed figure from trace and layout dicts (see the module note on validation)."""
    theme = _THEME
    if _legend_shown(data, layout) and "t" not in layout.get("margin", {}):
        theme = _merge(_THEME, {"margin": {"t": _THEME["margin"]["t"] + LEGEND_ROW}})
    full = _merge({**theme, "height": height, "xaxis": {}, "yaxis": {}}, layout)
    for key in [k for k in full if k.startswith(("xaxis", "yaxis"))]:
        full[key] = _merge(_AXIS, full[key])
    return go.Figure({"data": data, "layout": full}, _validate=False)


def side_by_side(left_title: str, right_title: str, x_title: str) -> dict[str, Any]:
    """Layout for two panels in one row, each with its title above it."""
    title = {"xref": "paper", "yref": "paper", "y": 1.0, "yanchor": "bottom", "xanchor": "center", "showarrow": False,
             "font": {"size": FONT_SIZE}}
    return {
        "xaxis": {"domain": [0, 0.46], "title": {"text": x_title}, "anchor": "y"},
        "yaxis": {"anchor": "x"},
        "xaxis2": {"domain": [0.54, 1], "title": {"text": x_title}, "anchor": "y2"},
        "yaxis2": {"anchor": "x2"},
        "annotations": [{**title, "text": left_title, "x": 0.23}, {**title, "text": right_title, "x": 0.77}],
    }


def line(x, y, name: str, color: str, group: str | None = None, dash: str = "solid", **extra: Any) -> dict[str, Any]:
    return {"type": "scatter", "mode": "lines", "x": np.asarray(x), "y": np.asarray(y), "name": name, "legendgroup": group or name,
            "line": {"color": color, "width": LINE_WIDTH, "dash": dash}, **extra}
