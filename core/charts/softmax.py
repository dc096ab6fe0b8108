"""Charts of the Softmax & cross-entropy page."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from core.charts.theme import FONT_SIZE, PALETTE, figure, side_by_side

__all__ = ["softmax_bars", "softmax_jacobians"]

_OTHER, _TRUE = PALETTE[0], PALETTE[1]


def _centered(layout: dict) -> dict:
    """Centre each panel title over its panel (plotly's automatic anchor pushes them towards the middle)."""
    for note in layout.get("annotations", []):
        note["xanchor"] = "center"
    return layout


def softmax_bars(u: Sequence[float], probs: Sequence[float], true_class: int) -> go.Figure:
    """Effective logits (left) and their softmax probabilities (right), one bar per class; the true class in orange.

    Args:
        u: (K,) effective logits. probs: (K,) softmax(u). true_class: c.
    """
    classes = [f"class {k}" for k in range(len(u))]
    colors = [_TRUE if k == true_class else _OTHER for k in range(len(u))]
    u, probs = np.asarray(u, dtype=np.float64), np.asarray(probs, dtype=np.float64)
    data = [
        {"type": "bar", "x": classes, "y": u, "marker": {"color": colors}, "name": "u", "showlegend": False,
         "text": [f"{x:.3g}" for x in u], "textposition": "outside", "cliponaxis": False,
         "hovertemplate": "%{x}: u = %{y:.4g}<extra></extra>"},
        {"type": "bar", "x": classes, "y": probs, "marker": {"color": colors}, "name": "ŷ", "showlegend": False,
         "text": [f"{p:.3f}" for p in probs], "textposition": "outside", "cliponaxis": False, "xaxis": "x2", "yaxis": "y2",
         "hovertemplate": "%{x}: ŷ = %{y:.6f}<extra></extra>"},
    ]
    layout = _centered(side_by_side("logits u = scale · z / T", "probabilities ŷ = softmax(u)", ""))
    layout["yaxis2"] |= {"range": [0, 1.12], "title": {"text": "ŷ_k"}}
    layout["yaxis"] |= {"title": {"text": "u_k"}, "zeroline": True}
    layout["hovermode"] = "closest"
    return figure(data, layout, height=400)


def softmax_jacobians(formula: np.ndarray, autograd: np.ndarray) -> go.Figure:
    """The K×K softmax Jacobian by the formula s_i(δ_ij − s_j) (left) and by autograd (right), on one colour scale."""
    k = formula.shape[0]
    bound = float(max(np.abs(formula).max(), np.abs(autograd).max(), 1e-12))
    labels = [str(i) for i in range(k)]
    scale = [[0, PALETTE[0]], [0.5, "rgba(240,240,240,0.6)"], [1, PALETTE[5]]]
    text_size = FONT_SIZE - (2 if k <= 6 else 5)

    def heat(z: np.ndarray, axis: str, show_scale: bool) -> dict:
        return {"type": "heatmap", "z": z, "x": labels, "y": labels, "zmin": -bound, "zmax": bound, "colorscale": scale,
                "showscale": show_scale, "texttemplate": "%{z:.3g}", "textfont": {"size": text_size},
                "xaxis": f"x{axis}", "yaxis": f"y{axis}", "xgap": 1, "ygap": 1,
                "hovertemplate": "∂ŷ_%{y}/∂u_%{x} = %{z:.6f}<extra></extra>"}

    layout = _centered(side_by_side("formula: s_i (δ_ij − s_j)", "autograd: torch.autograd.functional.jacobian", "column j"))
    layout["yaxis"] |= {"autorange": "reversed", "title": {"text": "row i"}, "type": "category"}
    layout["yaxis2"] |= {"autorange": "reversed", "type": "category"}
    layout["xaxis"] |= {"type": "category"}
    layout["xaxis2"] |= {"type": "category"}
    layout["hovermode"] = "closest"
    layout["margin"] = {"r": 110, "b": 80}  # the colour bar at the right
    return figure([heat(formula, "", False), heat(autograd, "2", True)], layout, height=430)
