"""Charts of the CNN builder page: the receptive field of one unit, on the input."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from core.charts.conv_arithmetic import box, grid, panels
from core.charts.theme import PALETTE, figure
from core.receptive_field import Probe

__all__ = ["receptive_field"]

_GRADIENT = [[0, "#deebf7"], [0.5, "#6baed6"], [1, "#08306b"]]


def receptive_field(found: Probe) -> go.Figure:
    """Left: log10 |∂y/∂x| through the real stack (blank where it is exactly 0). Right: the pixels the unit
    depends on (∂y/∂x ≠ 0 with every path positive). Both with the formula's field outlined."""
    h, w = found.reach.shape
    rows, cols = np.arange(h), np.arange(w)
    grad = found.grad.numpy()
    with np.errstate(divide="ignore"):
        log_grad = np.where(grad > 0, np.log10(np.where(grad > 0, grad, 1.0)), np.nan)
    reach = found.reach.numpy()
    gap = 1 if max(h, w) <= 40 else 0
    data = [
        grid(np.zeros((h, w)), cols, rows, [[0, "#f2f2f2"], [1, "#f2f2f2"]], text_format=None, xgap=gap, ygap=gap,
             hoverinfo="skip", hovertemplate=None),
        grid(log_grad, cols, rows, _GRADIENT, text_format=None, xgap=gap, ygap=gap, name="log10 |∂y/∂x|",
             showscale=True, colorbar={"orientation": "h", "x": 0.21, "xanchor": "center", "y": -0.04, "yanchor": "top",
                                         "len": 0.4, "thickness": 12, "title": {"text": "log₁₀ |∂y/∂x|", "side": "top"}},
             hovertemplate="row %{y}, col %{x}: log10 |∂y/∂x| = %{z:.2f}<extra></extra>"),
        grid(np.where(reach, 1.0, 0.0), cols, rows, [[0, "#f2f2f2"], [1, PALETTE[0]]], "2", text_format=None,
             xgap=gap, ygap=gap, zmin=0, zmax=1, name="depends on", hovertemplate="row %{y}, col %{x}: %{z}<extra></extra>"),
    ]
    r0, r1, c0, c1 = found.box
    clipped = (max(r0, 0), min(r1, h - 1), max(c0, 0), min(c1, w - 1))
    step = 1 if max(h, w) <= 20 else int(np.ceil(max(h, w) / 8))
    layout = panels([(0, 0.42), (0.54, 0.96)],
                    ["|∂y/∂x|, the real stack (blank: exactly 0)", "pixels the unit depends on"], [step, step])
    layout["shapes"] = [box(*clipped, color=PALETTE[1]), box(*clipped, "2", color=PALETTE[1])]
    layout["margin"] = {"l": 34, "r": 10, "t": 70, "b": 106}
    return figure(data, layout, height=560)
