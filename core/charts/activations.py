"""Charts of the Activations page."""
from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import plotly.graph_objects as go

from core.charts.theme import LEGEND_ROW, NEUTRAL, figure, line, side_by_side

__all__ = ["activation_curves", "depth_products"]


def activation_curves(
    curves: pd.DataFrame,
    labels: Mapping[str, str],
    colors: Mapping[str, str],
    band: tuple[float, float] | None = None,
    closed_form_points: int = 25,
) -> go.Figure:
    """f(z) on the left; f′(z) on the right, autograd as a line and the closed form as dots on it.

    Args:
        curves: columns function, z, f, df_autograd, df_closed (see core.activations.curves).
        band: a z interval to shade on the derivative panel (where most pre-activations fall).
    """
    data = []
    for name, part in curves.groupby("function", sort=False):
        color, label = colors[name], labels[name]
        data.append(line(part.z, part.f, label, color, name))
        data.append(line(part.z, part.df_autograd, f"{label}′ autograd", color, name, showlegend=False,
                          xaxis="x2", yaxis="y2"))
        dots = part.iloc[:: max(1, len(part) // closed_form_points)]
        data.append({"type": "scatter", "mode": "markers", "x": dots.z.to_numpy(), "y": dots.df_closed.to_numpy(),
                     "name": f"{label}′ closed form", "legendgroup": name, "showlegend": False, "xaxis": "x2", "yaxis": "y2",
                     "marker": {"color": color, "size": 9, "symbol": "circle-open", "line": {"width": 2}}})
    layout = side_by_side("f(z)", "f′(z): autograd (line), closed form (dots)", "z")
    if band is not None:
        layout["shapes"] = [{"type": "rect", "xref": "x2", "yref": "y2 domain", "x0": band[0], "x1": band[1], "y0": 0, "y1": 1,
                             "fillcolor": NEUTRAL, "opacity": 0.15, "line": {"width": 0}, "layer": "below"}]
    layout["margin"] = {"l": 40}
    return figure(data, layout)


def depth_products(products: pd.DataFrame, labels: Mapping[str, str], colors: Mapping[str, str]) -> go.Figure:
    """Product of derivatives against the number of layers, log scale.

    Args:
        products: columns function, layers, best, mean (see core.activations.depth_products).
    """
    data = []
    for name, part in products.groupby("function", sort=False):
        color, label = colors[name], labels[name]
        data.append(line(part.layers, part["mean"], f"{label}: mean", color, name, mode="lines+markers", marker={"size": 6}))
        data.append(line(part.layers, part.best, f"{label}: best case", color, name, dash="dash"))
    layout = {
        "xaxis": {"title": {"text": "layers L"}},
        "yaxis": {"type": "log", "title": {"text": "∏ f′ over the layers"}, "exponentformat": "power"},
        "shapes": [{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": 1, "y1": 1, "line": {"color": NEUTRAL, "width": 1}}],
    }
    layout["margin"] = {"t": 50 + 2 * LEGEND_ROW}  # two rows of legend
    return figure(data, layout, height=460)
