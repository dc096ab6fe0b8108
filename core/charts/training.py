"""Charts of the Training studio: loss curves of several runs, a confusion matrix, a forecast."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core.charts.theme import FONT_SIZE, LEGEND_ROW, PALETTE, figure, label_margin, line, side_by_side

__all__ = ["training_curves", "confusion_matrix", "forecast"]

MAX_POINTS = 1500  # per curve: more than a chart can show


def _thin(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.iloc[:: max(1, len(frame) // MAX_POINTS)]


def training_curves(
    runs: Sequence[tuple[str, pd.DataFrame, pd.DataFrame, list[float]]], metric: str, metric_label: str, baseline: str | None = None
) -> go.Figure:
    """Left: training loss per step (smoothed; raw faint) and validation loss per epoch (dots), log scale.
    Right: the validation metric per epoch. One colour per run; the baseline run dashed.

    Args:
        runs: (name, steps table, epochs table, smoothed training loss) per run (see core.training.history).
    """
    data = []
    for i, (name, steps, epochs, smoothed) in enumerate(runs):
        color = PALETTE[i % len(PALETTE)]
        dash = "dash" if name == baseline else "solid"
        if len(steps):
            thin = _thin(steps.assign(smoothed=smoothed))
            data.append(line(thin.step, thin.train_loss, f"{name} raw", color, name, showlegend=False, opacity=0.25,
                             hoverinfo="skip"))
            data.append(line(thin.step, thin.smoothed, f"{name}: train", color, name, dash=dash))
        if len(epochs):
            data.append({"type": "scatter", "mode": "markers+lines", "x": epochs.step.to_numpy(), "y": epochs.val_loss.to_numpy(),
                         "name": f"{name}: validation", "legendgroup": name, "line": {"color": color, "width": 1, "dash": "dot"},
                         "marker": {"color": color, "size": 9, "symbol": "diamond"}})
            if metric in epochs:
                data.append(line(epochs.epoch, epochs[metric], f"{name}: {metric_label}", color, name, dash=dash, showlegend=False,
                                 mode="lines+markers", xaxis="x2", yaxis="y2"))
    layout = side_by_side("loss (train: per step, validation: per epoch)", f"validation {metric_label}", "")
    layout["xaxis"]["title"] = {"text": "step"}
    layout["xaxis2"]["title"] = {"text": "epoch"}
    layout["yaxis"].update(type="log", nticks=6)  # a log axis over less than a decade otherwise labels every 0.2
    losses = np.concatenate([np.asarray(t["y"], dtype=float) for t in data if t.get("yaxis", "y") == "y"] or [np.ones(1)])
    losses = losses[np.isfinite(losses) & (losses > 0)]
    if len(losses) and np.log10(losses.max() / losses.min()) >= 1.5:
        layout["yaxis"]["dtick"] = 1  # over decades: label 1, 0.1, 0.01 only, not the small in-between 2s and 5s
    last_epoch = max((int(e.epoch.max()) for _, _, e, _ in runs if len(e)), default=1)
    layout["xaxis2"].update(tickmode="linear", tick0=1, dtick=max(1, -(-last_epoch // 10)))  # whole epochs only
    # Accuracy lies in [0, 1] and R² at most 1: a flat line otherwise gets plotly's ±1 padding (an axis up to 1.5).
    layout["yaxis2"]["autorangeoptions"] = {"clipmin": 0, "clipmax": 1} if metric == "accuracy" else {"clipmax": 1}
    layout["hovermode"] = "closest"
    layout["margin"] = {"t": 50 + 2 * LEGEND_ROW}  # a run's train and validation entries stack in its legend group
    return figure(data, layout, height=440)


def confusion_matrix(matrix: Sequence[Sequence[int]], classes: Sequence[str]) -> go.Figure:
    """Counts of (true class, predicted class), with the count written in each cell."""
    z = np.asarray(matrix)
    data = [{"type": "heatmap", "z": z, "x": list(classes), "y": list(classes), "colorscale": [[0, "rgba(0,114,178,0.04)"], [1, "rgba(0,114,178,0.9)"]], "showscale": False,
             "text": z, "texttemplate": "%{text}", "hovertemplate": "true %{y}<br>predicted %{x}: %{z}<extra></extra>"}]
    layout = {"xaxis": {"title": {"text": "predicted"}, "side": "bottom"},
              "yaxis": {"title": {"text": "true"}, "autorange": "reversed"}, "hovermode": "closest",
              "margin": {"l": label_margin(classes, FONT_SIZE - 1) + 28, "b": 80}}
    return figure(data, layout, height=360 + 20 * len(classes))


def forecast(actual: Sequence[float], predicted: Sequence[float], steps_per_day: int = 96, days: int = 3) -> go.Figure:
    """The first `days` of the test span: actual values and the one-step-ahead forecast."""
    n = min(len(actual), steps_per_day * days)
    t = np.arange(n) / steps_per_day
    data = [line(t, actual[:n], "actual", PALETTE[0]), line(t, predicted[:n], "forecast", PALETTE[1], dash="dash")]
    layout = {"xaxis": {"title": {"text": "days into the test span"}}, "yaxis": {"title": {"text": "consumption (kW)"}}}
    return figure(data, layout, height=380)
