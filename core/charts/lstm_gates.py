"""Figure builders for the LSTM & GRU gates page: heatmaps over time × unit, and one unit's traces.

Gates live in (0, 1) and get a sequential scale (viridis) from 0 to 1; the candidate and the hidden state live
in (−1, 1) and get a diverging scale (blue, white at 0, red) from −1 to 1; the LSTM cell state is unbounded and
gets the diverging scale symmetric around 0 at ± its largest magnitude, so white is always 0.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from core.charts.theme import FONT_SIZE, LEGEND_ROW, NEUTRAL, PALETTE, figure, line

__all__ = ["gate_heatmaps", "unit_traces"]

#: viridis, for gates in [0, 1]
SEQUENTIAL: list[list[Any]] = [[0.0, "#440154"], [0.1, "#482475"], [0.2, "#414487"], [0.3, "#355f8d"], [0.4, "#2a788e"],
                               [0.5, "#21918c"], [0.6, "#22a884"], [0.7, "#44bf70"], [0.8, "#7ad151"], [0.9, "#bddf26"],
                               [1.0, "#fde725"]]
#: blue – white – red, for values in [−1, 1] (and the cell state, symmetric around 0)
DIVERGING: list[list[Any]] = [[0.0, "#053061"], [0.1, "#2166ac"], [0.2, "#4393c3"], [0.3, "#92c5de"], [0.4, "#d1e5f0"],
                              [0.5, "#f7f7f7"], [0.6, "#fddbc7"], [0.7, "#f4a582"], [0.8, "#d6604d"], [0.9, "#b2182b"],
                              [1.0, "#67001f"]]
#: one colour per quantity, the same on every chart (the LSTM's and the GRU's never share a chart)
QUANTITY_COLORS = {"h": PALETTE[0], "f": PALETTE[1], "i": PALETTE[2], "o": PALETTE[3], "g": PALETTE[4], "c": PALETTE[5],
                   "z": PALETTE[1], "r": PALETTE[2], "n": PALETTE[4]}
LINE_COLORS = {"x": NEUTRAL, "target": PALETTE[5], "y_hat": PALETTE[0]}
_GAP_PX = 44  # between panels, room for the next panel's title
_MARGIN = {"l": 80, "r": 66, "t": 90, "b": 80}  # the legend above, the time axis below, colour bars at the right


def _domains(heights: Sequence[int]) -> list[tuple[float, float]]:
    """Panel domains from the top down, for panels of `heights` pixels with _GAP_PX between them."""
    total = sum(heights) + _GAP_PX * (len(heights) - 1)
    top, out = total, []
    for px in heights:
        out.append((max(0.0, (top - px) / total), top / total))
        top -= px + _GAP_PX
    return out


def _plot_height(heights: Sequence[int]) -> int:
    return sum(heights) + _GAP_PX * (len(heights) - 1) + _MARGIN["t"] + _MARGIN["b"]


def _title(text: str, top: float) -> dict[str, Any]:
    return {"text": text, "xref": "paper", "yref": "paper", "x": 0, "xanchor": "left", "y": top, "yanchor": "bottom",
            "showarrow": False, "font": {"size": FONT_SIZE - 1}}


def _scale(kind: str, values: np.ndarray) -> tuple[list[list[Any]], float, float]:
    if kind == "gate":
        return SEQUENTIAL, 0.0, 1.0
    if kind == "tanh":
        return DIVERGING, -1.0, 1.0
    top = max(float(np.abs(values).max()), 1e-3)
    return DIVERGING, -top, top


def gate_heatmaps(steps: np.ndarray, values: Mapping[str, np.ndarray], labels: Mapping[str, str], scales: Mapping[str, str],
                  lines: Mapping[str, tuple[str, np.ndarray]], unit: int) -> go.Figure:
    """The sequence on top, then one heatmap per quantity over time step × unit, on one shared time axis.

    Args:
        steps: (T,) the time steps 1 … T.
        values: quantity → (T, H) array, drawn in this order.
        labels: quantity → panel title.
        scales: quantity → "gate" (0 to 1, sequential), "tanh" (−1 to 1, diverging) or "state" (± its max, diverging).
        lines: key of LINE_COLORS ("x", "target", "y_hat") → (legend name, (T,) values), for the top panel.
        unit: the unit whose row is outlined (the one the line traces show).
    """
    names = list(values)
    map_px = int(np.clip(96 + 2 * next(iter(values.values())).shape[1], 110, 200))  # taller maps for more units
    heights = [110] + [map_px] * len(names)
    domains = _domains(heights)
    last = len(names) + 1
    layout: dict[str, Any] = {
        "xaxis": {"anchor": f"y{last}", "title": {"text": "time step t"}, "range": [steps[0] - 0.5, steps[-1] + 0.5]},
        "yaxis": {"domain": list(domains[0]), "title": {"text": "value"}, "zeroline": True},
        "annotations": [],
        "shapes": [],
        "hovermode": "closest",
        "margin": _MARGIN,
    }
    data: list[dict[str, Any]] = [line(steps, v, name, LINE_COLORS[key], dash="dot" if key == "target" else "solid")
                                  for key, (name, v) in lines.items()]
    for k, name in enumerate(names, start=2):
        arr = values[name]
        hidden = arr.shape[1]
        bottom, top = domains[k - 1]
        colorscale, lo, hi = _scale(scales[name], arr)
        axis = f"coloraxis{k}"
        layout[axis] = {"colorscale": colorscale, "cmin": lo, "cmax": hi,
                        "colorbar": {"y": (bottom + top) / 2, "len": top - bottom, "yanchor": "middle", "thickness": 14,
                                     "x": 1.0, "xpad": 6, "tickfont": {"size": FONT_SIZE - 4}, "nticks": 3}}
        layout[f"yaxis{k}"] = {"domain": [bottom, top], "anchor": "x", "title": {"text": "unit"},
                               "range": [-0.5, hidden - 0.5], "tickmode": "auto", "nticks": min(hidden, 5), "showgrid": False}
        layout["annotations"].append(_title(labels[name], top))
        data.append({"type": "heatmap", "x": steps, "y": np.arange(hidden), "z": np.ascontiguousarray(arr.T, dtype=np.float32),
                     "coloraxis": axis, "xaxis": "x", "yaxis": f"y{k}", "name": labels[name],
                     "hovertemplate": f"{labels[name]}<br>t = %{{x}}, unit %{{y}}: %{{z:.3f}}<extra></extra>"})
        if hidden > 1:  # outline the chosen unit's row: dark under light, visible on any colour
            for colour, width in (("#111111", 3), ("#ffffff", 1)):
                layout["shapes"].append({"type": "rect", "xref": "x", "yref": f"y{k}", "x0": steps[0] - 0.5, "x1": steps[-1] + 0.5,
                                         "y0": unit - 0.5, "y1": unit + 0.5, "line": {"color": colour, "width": width}})
    layout["annotations"].append(_title("the sequence", domains[0][1]))
    return figure(data, layout, height=_plot_height(heights))


def unit_traces(steps: np.ndarray, values: Mapping[str, np.ndarray], labels: Mapping[str, str], gates: Sequence[str],
                x: np.ndarray) -> go.Figure:
    """One unit's quantities over time: the gates (0 to 1) in the top panel, the candidate and the states with the
    input x_t in the bottom one; with no gates (the simple RNN), the bottom panel alone.

    Args:
        values: quantity → (T,) values of the chosen unit; labels: quantity → legend name; gates: which quantities are gates.
    """
    gate_names = [k for k in values if k in gates]
    state_names = [k for k in values if k not in gates]
    data = [line(steps, x, "input x<sub>t</sub>", NEUTRAL, dash="dot", xaxis="x", yaxis="y")]
    data += [line(steps, values[k], labels[k], QUANTITY_COLORS[k], xaxis="x", yaxis="y") for k in state_names]
    layout: dict[str, Any] = {"xaxis": {"title": {"text": "time step t"}, "anchor": "y"},
                              "yaxis": {"title": {"text": "candidate, states"}, "zeroline": True}}
    if gate_names:
        (top_lo, top_hi), (lo, hi) = _domains([190, 250])
        data += [line(steps, values[k], labels[k], QUANTITY_COLORS[k], xaxis="x", yaxis="y2") for k in gate_names]
        layout["yaxis"]["domain"] = [lo, hi]
        layout["yaxis2"] = {"domain": [top_lo, top_hi], "anchor": "x", "range": [-0.03, 1.03], "title": {"text": "gates"}}
    layout["margin"] = {"t": 50 + 2 * LEGEND_ROW}  # two rows of legend
    return figure(data, layout, height=_plot_height([190, 250]) if gate_names else _plot_height([280]))
