"""Charts of the Batch normalization page: one batch step by step, the running statistics over a stream, train
against eval mode, BatchNorm2d's per-channel statistics, and training with and without BatchNorm."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core.charts.theme import FONT_SIZE, NEUTRAL, PALETTE, figure, line, side_by_side

__all__ = ["batchnorm_steps", "running_statistics", "train_eval_outputs", "batchnorm2d_maps", "batchnorm_training",
           "batchnorm_lr_sweep"]

BATCH, SAMPLE, STATS, TARGET = PALETTE[0], PALETTE[1], PALETTE[5], PALETTE[2]  # the same roles on every chart below
MODE_COLORS = {"train": PALETTE[0], "eval": PALETTE[3]}
RUN_COLORS = {False: NEUTRAL, True: PALETTE[2]}  # without / with BatchNorm
RUN_NAMES = {False: "without BatchNorm", True: "with BatchNorm"}
_TITLE = {"xref": "paper", "yref": "paper", "yanchor": "bottom", "xanchor": "center", "showarrow": False,
          "font": {"size": FONT_SIZE}}
LOSS_TICKS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1, 2, 5, 10, 20, 50, 100]
_REF = {"type": "line", "xref": "paper", "line": {"color": NEUTRAL, "width": 1.5, "dash": "dash"}}


def _marker_size(m: int) -> int:
    return 10 if m <= 16 else 7 if m <= 64 else 5 if m <= 128 else 4


def _columns(n: int, gap: float = 0.05) -> list[list[float]]:
    width = (1 - gap * (n - 1)) / n
    return [[i * (width + gap), i * (width + gap) + width] for i in range(n)]


def batchnorm_steps(x: np.ndarray, mean: np.ndarray, var: np.ndarray, x_hat: np.ndarray, y: np.ndarray,
                    gamma: float, beta: float, mode: str) -> go.Figure:
    """Four linked panels, one column of points per feature: the batch x, the μ and σ used, x̂, and y = γ·x̂ + β.
    Each sample keeps its horizontal place in every panel; sample 1 is drawn in orange throughout.

    Args:
        x, x_hat, y: (m, F). mean, var: (F,) the statistics used (the batch's in train mode, the running ones in eval).
    """
    m, features = x.shape
    spread = np.linspace(-0.32, 0.32, m) if m > 1 else np.zeros(1)
    pos = (np.arange(1, features + 1)[None, :] + spread[:, None])  # (m, F)
    size = _marker_size(m)
    sample = np.repeat(np.arange(1, m + 1)[:, None], features, axis=1)
    stat = "μ_B ± σ_B (this batch)" if mode == "train" else "running_mean ± √running_var"
    panels = [("x: the batch", x), (stat, x), ("x̂ = (x − μ) / √(σ² + ε)", x_hat), (f"y = γ·x̂ + β  (γ = {gamma:g}, β = {beta:g})", y)]
    data: list[dict[str, Any]] = []
    layout: dict[str, Any] = {"annotations": [], "shapes": [], "hovermode": "closest", "showlegend": True}
    for i, ((title, values), domain) in enumerate(zip(panels, _columns(4))):
        suffix = "" if i == 0 else str(i + 1)
        axes = {"xaxis": f"x{suffix}", "yaxis": f"y{suffix}"}
        faint = i == 1
        data.append({"type": "scatter", "mode": "markers", "x": pos.ravel(), "y": values.ravel(), **axes,
                     "name": "samples", "legendgroup": "samples", "showlegend": i == 0,
                     "marker": {"color": NEUTRAL if faint else BATCH, "size": size, "opacity": 0.35 if faint else 0.75},
                     "customdata": sample.ravel(), "hovertemplate": "sample %{customdata}: %{y:.4g}<extra></extra>"})
        if i == 1:
            data.append({"type": "scatter", "mode": "markers", "x": np.arange(1, features + 1), "y": mean, **axes,
                         "name": stat, "marker": {"color": STATS, "size": 14, "symbol": "diamond"},
                         "error_y": {"type": "data", "array": np.sqrt(np.maximum(var, 0)), "color": STATS, "thickness": 3, "width": 10},
                         "hovertemplate": "μ = %{y:.4g}<extra></extra>"})
        else:
            data.append({"type": "scatter", "mode": "markers", "x": pos[0], "y": values[0], **axes, "name": "sample 1",
                         "legendgroup": "sample 1", "showlegend": i == 0,
                         "marker": {"color": SAMPLE, "size": size + 5, "line": {"color": "white", "width": 1}},
                         "hovertemplate": "sample 1: %{y:.4g}<extra></extra>"})
        refs = {2: (0.0, -1.0, 1.0), 3: (beta, beta - abs(gamma), beta + abs(gamma))}.get(i, ())
        for level in refs:
            layout["shapes"].append({**_REF, "x0": domain[0], "x1": domain[1], "yref": f"y{suffix}", "y0": level, "y1": level})
        layout[f"xaxis{suffix}"] = {"domain": domain, "anchor": f"y{suffix}", "range": [0.4, features + 0.6],
                                    "tickvals": list(range(1, features + 1)), "title": {"text": "feature"}, "showgrid": False}
        layout[f"yaxis{suffix}"] = {"anchor": f"x{suffix}", "zeroline": False}
        layout["annotations"].append({**_TITLE, "text": title, "x": sum(domain) / 2, "y": 1.0})
    layout["legend"] = {"y": 1.12}
    layout["margin"] = {"l": 40, "t": 78}  # unlabelled y axes; the legend sits higher than usual
    return figure(data, layout, height=440)


def running_statistics(batch_mean: np.ndarray, batch_var: np.ndarray, running_mean: np.ndarray, running_var: np.ndarray,
                       population_mean: float, population_var: float, feature: int, momentum: str) -> go.Figure:
    """The running mean (left) and running variance (right) of one feature after each batch of a stream, with each
    batch's own statistic and the population's value they converge to.

    Args:
        batch_mean, batch_var: (T,) μ_B and the unbiased s²_B of batch t = 1..T.
        running_mean, running_var: (T + 1,) nn.BatchNorm1d's buffers, from PyTorch's initial 0 and 1 (t = 0).
        momentum: how the legend names the setting, e.g. "momentum=0.1".
    """
    t_batch, t_run = np.arange(1, len(batch_mean) + 1), np.arange(len(running_mean))
    layout = side_by_side(f"running_mean of feature {feature}", f"running_var of feature {feature}", "batches seen")
    data = []
    for axis, batch, running, target, what in (("", batch_mean, running_mean, population_mean, "μ"),
                                                ("2", batch_var, running_var, population_var, "σ²")):
        first = axis == ""
        axes = {"xaxis": f"x{axis}", "yaxis": f"y{axis}"}
        data += [
            {"type": "scatter", "mode": "markers", "x": t_batch, "y": batch, "name": "this batch's μ_B, s²_B", "legendgroup": "batch",
             "showlegend": first, "marker": {"color": NEUTRAL, "size": 6, "opacity": 0.6}, **axes},
            line([0, max(len(running) - 1, 1)], [target, target], f"population {what}", TARGET, f"pop{axis}", dash="dash",
                 showlegend=True, **axes),
            line(t_run, running, f"running statistic ({momentum})", STATS, "running", showlegend=first,
                 mode="lines+markers" if len(running) <= 30 else "lines", **axes),
        ]
    layout["hovermode"] = "x unified"
    layout["margin"] = {"l": 44}  # the y axes carry no title
    return figure(data, layout, height=400)


def train_eval_outputs(x: np.ndarray, y_train: np.ndarray | None, y_eval: np.ndarray, train_stats: tuple[float, float],
                       eval_stats: tuple[float, float], gamma: float, beta: float, feature: int) -> go.Figure:
    """One feature's y against x in train mode and in eval mode: two different straight lines, the batch's points on each.

    Args:
        x: (m,) the batch's values of the feature. y_train: (m,) or None when train mode refused the batch.
        train_stats, eval_stats: (μ, σ²) each mode normalized with.
    """
    lo, hi = float(x.min()), float(x.max())
    pad = 0.1 * (hi - lo) if hi > lo else 1.0
    ends = np.array([lo - pad, hi + pad])
    data = []
    for mode, y, (mu, var) in (("train", y_train, train_stats), ("eval", y_eval, eval_stats)):
        if y is None:
            continue
        label = "train mode: μ_B, σ²_B" if mode == "train" else "eval mode: running_mean, running_var"
        color = MODE_COLORS[mode]
        data.append(line(ends, gamma * (ends - mu) / np.sqrt(var + 1e-5) + beta, f"{label} (μ = {mu:.3g}, σ² = {var:.3g})",
                         color, mode, showlegend=True, hoverinfo="skip"))
        data.append({"type": "scatter", "mode": "markers", "x": x, "y": y, "name": f"{mode} mode: the batch", "legendgroup": mode,
                     "showlegend": False, "marker": {"color": color, "size": 9},
                     "hovertemplate": f"{mode}: x = %{{x:.4g}}, y = %{{y:.4g}}<extra></extra>"})
    layout = {"xaxis": {"title": {"text": f"x (feature {feature})"}}, "yaxis": {"title": {"text": "y = BatchNorm(x)"}},
              "hovermode": "closest", "showlegend": True}
    return figure(data, layout, height=380)


_INPUT_SCALE = [[0.0, "#f1f7fc"], [0.5, "#6baed6"], [1.0, "#08306b"]]
_OUTPUT_SCALE = [[0.0, "#0072B2"], [0.5, "#f7f7f7"], [1.0, "#D55E00"]]


def _strip(maps: np.ndarray) -> np.ndarray:
    """(N, H, W) → (H, N·W + N − 1): the images side by side, one blank column between them."""
    n, h, w = maps.shape
    out = np.full((h, n * (w + 1) - 1), np.nan)
    for i in range(n):
        out[:, i * (w + 1) : i * (w + 1) + w] = maps[i]
    return out


def batchnorm2d_maps(x: np.ndarray, y: np.ndarray, mean: np.ndarray, var: np.ndarray, mode: str) -> go.Figure:
    """Per channel (rows), all N images side by side: the input x (left) and BatchNorm2d's output y (right).
    Everything in one left tile is what that channel's μ and σ² are computed over: N·H·W values.

    Args:
        x, y: (N, C, H, W). mean, var: (C,) the statistics used in `mode`.
    """
    n, channels, h, w = x.shape
    rows = [[1 - (c + 1) / channels + 0.09, 1 - c / channels - 0.06] for c in range(channels)]
    cols = [[0, 0.44], [0.54, 0.98]]
    data, annotations, layout = [], [], {"hovermode": "closest"}
    ranges = [(float(np.nanmin(x)), float(np.nanmax(x))), (float(np.nanmin(y)), float(np.nanmax(y)))]
    bound = max(abs(ranges[1][0]), abs(ranges[1][1]), 1e-9)
    for c in range(channels):
        for j, (values, scale) in enumerate(((x, _INPUT_SCALE), (y, _OUTPUT_SCALE))):
            k = c * 2 + j + 1
            suffix = "" if k == 1 else str(k)
            lo, hi = ranges[0] if j == 0 else (-bound, bound)
            data.append({"type": "heatmap", "z": _strip(values[:, c]), "xaxis": f"x{suffix}", "yaxis": f"y{suffix}",
                         "colorscale": scale, "zmin": lo, "zmax": hi, "xgap": 1, "ygap": 1, "showscale": c == 0,
                         "colorbar": {"x": 0.455 if j == 0 else 0.995, "len": 0.9, "thickness": 14},
                         "hovertemplate": "%{z:.4g}<extra></extra>"})
            layout[f"xaxis{suffix}"] = {"domain": cols[j], "anchor": f"y{suffix}", "showgrid": False, "zeroline": False,
                                        "tickvals": [i * (w + 1) + (w - 1) / 2 for i in range(n)], "ticklen": 0,
                                        "ticktext": [f"image {i + 1}" for i in range(n)], "tickfont": {"size": FONT_SIZE - 3}}
            layout[f"yaxis{suffix}"] = {"domain": rows[c], "anchor": f"x{suffix}", "showticklabels": False, "showgrid": False,
                                        "autorange": "reversed", "zeroline": False}
        stats = f"μ_c = {mean[c]:.3g}, σ²_c = {var[c]:.3g}" if mode == "train" else \
            f"running_mean = {mean[c]:.3g}, running_var = {var[c]:.3g}"
        annotations.append({**_TITLE, "x": 0.22, "y": rows[c][1], "text": f"x, channel {c}: {stats}"})
        annotations.append({**_TITLE, "x": 0.76, "y": rows[c][1], "text": f"y, channel {c} ({mode} mode)"})
    layout["annotations"] = annotations
    layout["margin"] = {"l": 16, "r": 62, "t": 40, "b": 10}  # no tick labels; a colour bar at the right
    return figure(data, layout, height=160 * channels + 60)


def _run_traces(run: Any, color: str, name: str) -> list[dict[str, Any]]:
    steps = np.arange(1, len(run.loss) + 1)
    out = [line(steps, run.loss, f"{name} raw", color, name, showlegend=False, opacity=0.25, hoverinfo="skip"),
           line(steps, run.smoothed, name, color, name)]
    if run.diverged_at is not None:
        last = float(run.smoothed[-1]) if len(run.smoothed) else 1.0
        out.append({"type": "scatter", "mode": "markers+text", "x": [max(len(run.loss), 1)], "y": [last],
                    "name": f"{name}: diverged at step {run.diverged_at}", "legendgroup": name, "text": ["diverged"],
                    "textposition": "top center", "marker": {"color": color, "size": 14, "symbol": "x"}})
    return out


def batchnorm_training(runs: Sequence[Any], constant: float) -> go.Figure:
    """Training loss per step of the same network without and with BatchNorm (smoothed; raw faint), log scale.
    A diverged run is drawn up to its last finite step and marked ✕.

    Args:
        runs: core.batchnorm.Run objects. constant: the loss of always predicting the base rate.
    """
    data = []
    for run in runs:
        data += _run_traces(run, RUN_COLORS[run.batchnorm], RUN_NAMES[run.batchnorm])
    longest = max((len(r.loss) for r in runs), default=1)
    data.append(line([1, max(longest, 2)], [constant, constant], f"constant prediction ({constant:.3f})", PALETTE[5], "constant",
                     dash="dot"))
    layout = {"xaxis": {"title": {"text": "step (batches of 32)"}}, "yaxis": {"title": {"text": "training loss (BCE, log scale)"},
              "type": "log", "tickvals": LOSS_TICKS}, "hovermode": "x unified"}
    return figure(data, layout, height=420)


def batchnorm_lr_sweep(table: pd.DataFrame, chosen: float, constant: float) -> go.Figure:
    """The last epoch's mean training loss against the learning rate, without and with BatchNorm (both log scale).

    Args:
        table: core.batchnorm.sweep_table: lr, without, with, without_diverged, with_diverged.
    """
    data = []
    finite = table[["without", "with"]].to_numpy(dtype=float)
    top = float(np.nanmax(finite)) * 1.5 if np.isfinite(finite).any() else 1.0
    for bn, column in ((False, "without"), (True, "with")):
        color, name = RUN_COLORS[bn], RUN_NAMES[bn]
        data.append(line(table.lr, table[column], name, color, name, mode="lines+markers", marker={"size": 10, "color": color}))
        gone = table[table[f"{column}_diverged"]]
        if len(gone):
            data.append({"type": "scatter", "mode": "markers", "x": gone.lr, "y": [top] * len(gone), "name": f"{name}: diverged",
                         "legendgroup": name, "marker": {"color": color, "size": 14, "symbol": "x"}})
    data.append(line([table.lr.min(), table.lr.max()], [constant, constant], f"constant prediction ({constant:.3f})",
                     PALETTE[5], "constant", dash="dot"))
    layout = {"xaxis": {"title": {"text": "learning rate η (log scale)"}, "type": "log"},
              "yaxis": {"title": {"text": "last epoch's training loss (log)"}, "type": "log", "tickvals": LOSS_TICKS},
              "shapes": [{"type": "line", "xref": "x", "yref": "paper", "x0": chosen, "x1": chosen, "y0": 0, "y1": 1,
                          "line": {"color": NEUTRAL, "width": 1.5, "dash": "dot"}}],
              "hovermode": "x unified"}
    return figure(data, layout, height=380)
