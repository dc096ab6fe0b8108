"""Figure builders for the Sequences & windowing page: the series with one window and its target, and the
temporal split beside the random one."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from core.charts.theme import FONT_SIZE, NEUTRAL, PALETTE, figure, line, side_by_side

__all__: list[str] = ["series_overview", "window_view", "split_comparison"]

INPUTS, TARGET, PREDICTION, TRAIN, TEST = PALETTE[0], PALETTE[5], PALETTE[1], PALETTE[2], PALETTE[3]
SPLIT_COLORS = {"temporal": PALETTE[0], "random": PALETTE[1]}


def _x(x: np.ndarray, i: int):
    """Position i on the x axis, as a value plotly takes in a shape or annotation."""
    value = x[i]
    return str(np.datetime_as_string(value, unit="m")) if np.issubdtype(np.asarray(x).dtype, np.datetime64) else int(value)


def _band(x0, x1, color: str, opacity: float, dash: str | None = None, yref: str = "paper") -> dict:
    rect = {"type": "rect", "xref": "x", "yref": yref, "x0": x0, "x1": x1, "y0": 0, "y1": 1, "layer": "below"}
    if dash:
        return {**rect, "fillcolor": "rgba(0,0,0,0)", "line": {"color": color, "width": 2, "dash": dash}}
    return {**rect, "fillcolor": color, "opacity": opacity, "line": {"width": 0}}


def series_overview(x: np.ndarray, starts: np.ndarray, low: np.ndarray, high: np.ndarray, span: tuple[int, int],
                    cut: int | None, y_title: str) -> go.Figure:
    """The whole series as a min–max band per column, the zoomed span marked, and the temporal cut.

    Args:
        x: the x value of every reading (timestamps or reading indices).
        starts, low, high: from core.windowing.envelope.
        span: first and last reading of the zoomed span.
        cut: first reading of test time, or None to leave the cut out.
    """
    xs = x[starts]
    data = [
        {"type": "scatter", "mode": "lines", "x": xs, "y": high, "line": {"color": NEUTRAL, "width": 1}, "name": "max",
         "showlegend": False, "hoverinfo": "skip"},
        {"type": "scatter", "mode": "lines", "x": xs, "y": low, "line": {"color": NEUTRAL, "width": 1}, "fill": "tonexty",
         "fillcolor": "rgba(140,140,140,0.45)", "name": "series (min–max per column)", "hoverinfo": "skip"},
    ]
    shapes = [_band(_x(x, span[0]), _x(x, span[1]), INPUTS, 0.25)]
    annotations = [{"x": _x(x, span[0]), "y": 1, "xref": "x", "yref": "paper", "text": "zoom below", "showarrow": False,
                    "xanchor": "left", "yanchor": "bottom", "font": {"color": INPUTS, "size": FONT_SIZE - 2}}]
    if cut is not None:
        shapes.append({"type": "line", "xref": "x", "yref": "paper", "x0": _x(x, cut), "x1": _x(x, cut), "y0": 0, "y1": 1,
                       "line": {"color": TEST, "width": 3, "dash": "dash"}})
        annotations.append({"x": _x(x, cut), "y": 1, "xref": "x", "yref": "paper", "text": "train | test", "showarrow": False,
                            "xanchor": "center", "yanchor": "bottom", "font": {"color": TEST, "size": FONT_SIZE - 2}})
    layout = {"shapes": shapes, "annotations": annotations, "showlegend": False, "hovermode": False,
              "yaxis": {"title": {"text": y_title}}, "margin": {"l": 76, "r": 10, "t": 30, "b": 60}}
    return figure(data, layout, height=200)


def window_view(
    x: np.ndarray,
    values: np.ndarray,
    span: tuple[int, int],
    start: int,
    window: int,
    horizon: int,
    stride: int,
    targets: np.ndarray,
    roles: np.ndarray,
    prediction: float | None,
    split_name: str,
    cut: int | None,
    y_title: str,
) -> go.Figure:
    """The zoomed span: window inputs (shaded), its target h readings after the last input, the next window's
    inputs (dashed outline, s readings later), the forecaster's prediction, and a rug of every target in the
    span coloured by the set its window is in.

    Args:
        x, values: every reading's x value and value.
        targets, roles: reading index and role (0 train, 1 test, −1 left out) of the windows whose target is in the span.
    """
    lo, hi = span
    end, target = start + window - 1, start + window + horizon - 1
    xs = x[lo : hi + 1]
    reading = np.arange(lo, hi + 1)
    y_lo, y_hi = float(values[lo : hi + 1].min()), float(values[lo : hi + 1].max())
    rug = y_lo - 0.1 * (y_hi - y_lo or 1.0)
    data = [
        line(xs, values[lo : hi + 1], "series", NEUTRAL, customdata=reading,
             hovertemplate="reading %{customdata}: %{y:.2f}<extra></extra>"),
        line(x[start : end + 1], values[start : end + 1], f"inputs X[i]: {window} readings", INPUTS, hoverinfo="skip"),
    ]
    data[0]["line"]["width"] = 2
    for role, name, color, size in ((0, "targets of training windows", TRAIN, 12), (1, "targets of test windows", TEST, 20)):
        at = targets[roles == role]
        data.append({"type": "scatter", "mode": "markers", "x": x[at], "y": np.full(len(at), rug), "name": name,
                     "marker": {"symbol": "line-ns-open", "size": size, "color": color, "line": {"width": 3, "color": color}},
                     "hoverinfo": "skip"})
    data.append({"type": "scatter", "mode": "markers", "x": [x[target]], "y": [values[target]], "name": f"target y[i], h = {horizon}",
                 "marker": {"symbol": "star", "size": 20, "color": TARGET, "line": {"width": 1, "color": "white"}},
                 "hovertemplate": f"target, reading {target}: %{{y:.2f}}<extra></extra>"})
    if prediction is not None:
        data.append({"type": "scatter", "mode": "markers", "x": [x[target]], "y": [prediction],
                     "name": f"prediction ŷ[i] ({split_name} split's model)",
                     "marker": {"symbol": "diamond-open", "size": 16, "color": PREDICTION, "line": {"width": 3, "color": PREDICTION}},
                     "hovertemplate": "prediction: %{y:.2f}<extra></extra>"})
    shapes = [_band(_x(x, start), _x(x, end), INPUTS, 0.14)]
    if horizon > 1:
        shapes.append({"type": "line", "xref": "x", "yref": "y", "x0": _x(x, end), "x1": _x(x, target),
                       "y0": float(values[end]), "y1": float(values[target]), "line": {"color": TARGET, "width": 2, "dash": "dot"}})
    following = start + stride
    if following + window - 1 <= hi:
        shapes.append(_band(_x(x, following), _x(x, following + window - 1), INPUTS, 0, dash="dash"))
    annotations = []
    if following + window - 1 <= hi:
        annotations.append({"x": _x(x, following + window - 1), "y": 1, "xref": "x", "yref": "paper", "xanchor": "right",
                            "yanchor": "bottom", "showarrow": False, "text": f"next window, s = {stride} later",
                            "font": {"color": INPUTS, "size": FONT_SIZE - 3}})
    if cut is not None and lo <= cut <= hi:
        shapes.append({"type": "line", "xref": "x", "yref": "paper", "x0": _x(x, cut), "x1": _x(x, cut), "y0": 0, "y1": 1,
                       "line": {"color": TEST, "width": 3, "dash": "dash"}})
        annotations.append({"x": _x(x, cut), "y": 0.92, "xref": "x", "yref": "paper", "text": "train | test", "showarrow": False,
                            "xanchor": "center", "font": {"color": TEST, "size": FONT_SIZE - 2}, "bgcolor": "rgba(255,255,255,0.7)"})
    layout = {"shapes": shapes, "annotations": annotations, "hovermode": "closest",
              "yaxis": {"title": {"text": y_title}}, "legend": {"y": 1.1}, "margin": {"l": 76, "r": 10, "t": 80, "b": 60}}
    return figure(data, layout, height=440)


def split_comparison(x: np.ndarray, shares: Mapping[str, tuple[np.ndarray, np.ndarray]],
                     curves: Mapping[str, Sequence[float]]) -> go.Figure:
    """Left: where each split's test windows sit in time, one column per stretch of readings, from green (all
    its windows train) to pink (all test); blank where no window has its target. Right: the test MSE after
    each epoch, for the model trained on each split.

    Args:
        x: every reading's x value; shares: split → (first reading of each column, share of test windows);
        curves: split → test MSE (kW²) per epoch.
    """
    names = list(shares)
    first = shares[names[0]][0]
    z = np.vstack([shares[name][1] for name in names])
    layout = side_by_side("where the test windows are", "test MSE after each epoch", "")
    data = [{"type": "heatmap", "x": x[first], "y": names, "z": z, "zmin": 0, "zmax": 1, "xaxis": "x", "yaxis": "y",
             "colorscale": [[0.0, TRAIN], [0.5, "#E6E6E6"], [1.0, TEST]], "ygap": 6, "hoverongaps": False, "showscale": False,
             "hovertemplate": "%{y}: %{z:.0%} of these windows test<extra></extra>"}]
    for name, curve in curves.items():
        data.append(line(np.arange(1, len(curve) + 1), curve, f"{name} split", SPLIT_COLORS.get(name, NEUTRAL),
                         mode="lines+markers", xaxis="x2", yaxis="y2",
                         hovertemplate=f"{name}, epoch %{{x}}: %{{y:.2f}} kW²<extra></extra>"))
    layout["xaxis"].update({"domain": [0, 0.44], "title": {"text": ""}})
    layout["yaxis"].update({"autorange": "reversed"})
    layout["xaxis2"].update({"domain": [0.56, 1], "title": {"text": "epoch"}, "dtick": 1})
    layout["yaxis2"].update({"title": {"text": "test MSE (kW²)"}, "rangemode": "tozero"})
    layout["annotations"][0]["x"] = 0.22
    layout["annotations"][1]["x"] = 0.78
    layout.update({"hovermode": "closest", "legend": {"x": 0.56, "y": 1.12}})
    return figure(data, layout, height=360)
