"""Charts of the Optimizers page: the race on the contour beside loss per step, the fair search, the schedule."""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from core.charts.theme import FONT_SIZE, NEUTRAL, figure, line, side_by_side
from core.optimizers import Run, Sweep
from core.surfaces import Grid, decades

__all__ = ["optimizer_race", "lr_sweep", "lr_schedule"]

FRAMES = 60  # animation frames of the Play button
_CONTOUR_SCALE = [[0.0, "#9e9e9e"], [0.5, "#d4d4d4"], [1.0, "#f7f7f7"]]  # light greys: the paths stay the strongest colours


def thin_path(path: np.ndarray, spacing: float) -> np.ndarray:
    """Indices of the points to draw: one wherever the path has moved another `spacing` along its
    length, so long crawls are thinned and every zig-zag step (longer than `spacing`) is kept.

    Args:
        path: (n, 2). Returns: sorted indices, first and last included.
    """
    if len(path) <= 2:
        return np.arange(len(path))
    length = np.concatenate(([0.0], np.cumsum(np.hypot(*np.diff(path, axis=0).T))))
    bucket = np.floor(length / spacing)
    keep = np.flatnonzero(np.diff(bucket) > 0) + 1
    return np.unique(np.concatenate(([0], keep, [len(path) - 1])))


def thin_curve(y: np.ndarray, buckets: int = 400) -> np.ndarray:
    """Indices of a curve to draw: the lowest and highest point of each of `buckets` runs of steps,
    so oscillations keep their envelope. Returns sorted indices, first and last included."""
    n = len(y)
    if n <= 2 * buckets:
        return np.arange(n)
    size = math.ceil(n / buckets)
    padded = np.full(size * math.ceil(n / size), np.nan)
    padded[:n] = y
    blocks = padded.reshape(-1, size)
    base = np.arange(blocks.shape[0]) * size
    finite = np.where(np.isfinite(blocks), blocks, np.nan)
    with np.errstate(invalid="ignore"):
        lo = base + np.nanargmin(np.where(np.isnan(finite), np.inf, finite), axis=1)
        hi = base + np.nanargmax(np.where(np.isnan(finite), -np.inf, finite), axis=1)
    return np.unique(np.concatenate(([0], lo, hi, [n - 1])))


def _loss_range(runs: Sequence[Run], log_scale: bool, grid: Grid) -> list[float]:
    if not log_scale:
        lo, hi = float(grid.z.min()), float(grid.z.max())
        pad = 0.1 * (hi - lo)
        return [lo - pad, hi + pad]
    values = np.concatenate([r.loss.numpy() for r in runs])
    positive = values[np.isfinite(values) & (values > 0)]
    start = max(float(r.loss[0]) for r in runs)
    if positive.size == 0 or start <= 0:
        return [-3.0, 3.0]
    top = min(math.log10(positive.max()), math.log10(start) + 6) + 0.3
    bottom = max(math.log10(positive.min()), math.log10(start) - 18) - 0.3
    return [bottom, top]


def optimizer_race(
    grid: Grid,
    runs: Sequence[Run],
    colors: Mapping[str, str],
    step: int,
    minima: Sequence[tuple[float, float]],
    minimum_label: str = "minimum",
) -> go.Figure:
    """Left: the paths on the contours of L, with the minima, the start and where each path is at `step`.
    Right: L(θ_t) per step. Play animates the markers along the race.

    Args:
        grid: the surface over the view (core.surfaces.grid); its ranges are the left panel's axes.
        runs: the race (core.optimizers.race); a diverged path ends with a ✕ at its last finite point.
        step: the step the markers stand at (0 … steps).
    """
    x_range = [float(grid.x[0]), float(grid.x[-1])]
    y_range = [float(grid.y[0]), float(grid.y[-1])]
    spacing = math.hypot(x_range[1] - x_range[0], y_range[1] - y_range[0]) / 700
    contour = {
        "type": "contour", "x": grid.x.numpy(), "y": grid.y.numpy(), "z": grid.z.float().numpy(), "colorscale": _CONTOUR_SCALE,
        "ncontours": 24, "contours": {"coloring": "fill", "showlines": True}, "line": {"width": 0.6, "color": "#ffffff"},
        "hoverinfo": "skip", "showlegend": False, "name": "L",
        "colorbar": {"x": 0.45, "xanchor": "left", "thickness": 12, "len": 0.85, "y": 0.5,
                     "title": {"text": "L", "side": "top"}, "tickfont": {"size": FONT_SIZE - 3}},
    }
    if grid.log_scale:
        ticks = decades(grid.z)
        contour["colorbar"].update(tickvals=ticks, ticktext=[f"10<sup>{k}</sup>" for k in ticks])
    data = [contour]
    for run in runs:
        name, color = run.hyper.name, colors[run.hyper.name]
        path = run.path.numpy()
        keep = thin_path(path, spacing)
        data.append(line(path[keep, 0], path[keep, 1], run.hyper.label, color, name,
                         hovertemplate=f"{run.hyper.label}<br>x=%{{x:.4g}}, y=%{{y:.4g}}<extra></extra>"))
        loss = run.loss.numpy()
        keep = thin_curve(loss)
        data.append(line(keep, loss[keep], run.hyper.label, color, name, showlegend=False, xaxis="x2", yaxis="y2",
                         hovertemplate=f"{run.hyper.label}<br>step %{{x}}: L=%{{y:.4g}}<extra></extra>"))
        if run.diverged_at is not None:
            last = len(path) - 1
            text = f"{run.hyper.label}: diverged at step {run.diverged_at}"
            for x, y, axes in ((path[last, 0], path[last, 1], {}), (last, loss[last], {"xaxis": "x2", "yaxis": "y2"})):
                data.append({"type": "scatter", "mode": "markers", "x": [x], "y": [y], "name": text, "legendgroup": name,
                             "showlegend": False, "hovertemplate": text + "<extra></extra>",
                             "marker": {"symbol": "x-thin", "size": 16, "color": color, "line": {"width": 3, "color": color}},
                             **axes})
    start = runs[0].path[0].tolist() if runs else [None, None]
    data.append({"type": "scatter", "mode": "markers", "x": [start[0]], "y": [start[1]], "name": "start",
                 "marker": {"symbol": "circle", "size": 12, "color": "#ffffff", "line": {"width": 2, "color": "#333333"}},
                 "hovertemplate": "start (%{x:.3g}, %{y:.3g})<extra></extra>"})
    data.append({"type": "scatter", "mode": "markers", "x": [m[0] for m in minima], "y": [m[1] for m in minima],
                 "name": minimum_label, "marker": {"symbol": "star", "size": 16, "color": "#ffffff",
                                                   "line": {"width": 1.5, "color": "#333333"}},
                 "hovertemplate": minimum_label + " (%{x:.4g}, %{y:.4g})<extra></extra>"})
    marker_index = len(data)
    arrays = [(r.path.numpy(), r.loss.numpy()) for r in runs]
    data.extend(_markers(runs, colors, step, arrays))
    layout = side_by_side("paths on the contours of L", "L(θ) per step", "x")
    layout["xaxis"].update(range=x_range, domain=[0, 0.44])
    layout["yaxis"].update(range=y_range, title={"text": "y"}, scaleanchor="x", scaleratio=1, constrain="domain")
    layout["xaxis"]["constrain"] = "domain"
    layout["xaxis2"].update(title={"text": "step"}, range=[0, max(1, max((len(r.lrs) for r in runs), default=1))],
                            domain=[0.56, 1.0])
    loss_range = _loss_range(runs, grid.log_scale, grid)
    layout["yaxis2"].update(title={"text": "L(θ)"}, type="log" if grid.log_scale else "linear", range=loss_range,
                            exponentformat="power", side="right")
    if grid.log_scale:  # whole decades when the axis spans several, else 1, 2, 5 within them, all in one type size
        if loss_range[1] - loss_range[0] >= 3:
            layout["yaxis2"]["dtick"] = 1
        else:
            ticks = [m * 10.0**k for k in range(math.floor(loss_range[0]), math.ceil(loss_range[1]) + 1) for m in (1, 2, 5)
                     if loss_range[0] <= math.log10(m * 10.0**k) <= loss_range[1]]
            layout["yaxis2"].update(tickvals=ticks, ticktext=[f"{v:g}" for v in ticks])
    layout["annotations"][0]["x"], layout["annotations"][1]["x"] = 0.22, 0.78
    layout["shapes"] = [{"type": "line", "xref": "x2", "yref": "y2 domain", "x0": step, "x1": step, "y0": 0, "y1": 1,
                         "line": {"color": NEUTRAL, "width": 1.5, "dash": "dot"}}]
    layout["hovermode"] = "closest"
    layout["margin"] = {"l": 92, "r": 76, "t": 76, "b": 96}  # the Play and Pause buttons sit under the contour
    layout["updatemenus"] = [{
        "type": "buttons", "direction": "left", "showactive": False, "x": 0.0, "y": 0.0, "xanchor": "left",
        "yanchor": "top", "pad": {"t": 48},  # under the contour's x axis, off the paths
        "buttons": [
            {"label": "▶ Play", "method": "animate",
             "args": [None, {"frame": {"duration": 70, "redraw": False}, "transition": {"duration": 0},
                             "fromcurrent": False, "mode": "immediate"}]},
            {"label": "❚❚ Pause", "method": "animate",
             "args": [[None], {"frame": {"duration": 0, "redraw": False}, "transition": {"duration": 0}, "mode": "immediate"}]},
        ],
    }]
    steps = max((len(r.lrs) for r in runs), default=0)
    shown = sorted({round(j * steps / (FRAMES - 1)) for j in range(FRAMES)}) if steps else []
    fig = figure(data, layout, height=560)
    # A frame carries only the markers' new coordinates; plotly keeps the rest of each trace. The frames join the
    # figure unvalidated too, as the dicts plotly's validation would have made of them (each trace's "type" last):
    # validating 60 frames cost more than the rest of the chart. tests/core/test_charts.py validates them.
    frame = go.Frame  # looked up once: plotly resolves graph_objects' names lazily, on every access
    fig._frame_objs = tuple(
        frame({"data": [{"x": m["x"], "y": m["y"], "type": "scatter"} for m in _markers(runs, colors, s, arrays)],
               "name": str(s), "traces": [marker_index, marker_index + 1]}, _validate=False)
        for s in shown)
    return fig


def _markers(runs: Sequence[Run], colors: Mapping[str, str], step: int, paths: Sequence | None = None) -> list[dict]:
    """Where each path is at `step` (its last finite point if it diverged before): on the contour and on its loss curve.

    Args:
        paths: each run's (path, loss) as numpy arrays, when the caller already has them (the same numbers).
    """
    paths = paths if paths is not None else [(r.path.numpy(), r.loss.numpy()) for r in runs]
    at = [min(step, len(path) - 1) for path, _ in paths]
    color = [colors[r.hyper.name] for r in runs]
    text = [r.hyper.label for r in runs]
    marker = {"size": 14, "color": color, "line": {"width": 2, "color": "#ffffff"}}
    return [
        {"type": "scatter", "mode": "markers", "x": [float(path[k, 0]) for (path, _), k in zip(paths, at)],
         "y": [float(path[k, 1]) for (path, _), k in zip(paths, at)], "text": text, "marker": marker, "showlegend": False,
         "name": f"step {step}", "hovertemplate": "%{text}<br>x=%{x:.4g}, y=%{y:.4g}<extra></extra>"},
        {"type": "scatter", "mode": "markers", "x": at, "y": [float(loss[k]) for (_, loss), k in zip(paths, at)], "text": text,
         "marker": marker, "showlegend": False, "xaxis": "x2", "yaxis": "y2", "name": f"step {step}",
         "hovertemplate": "%{text}<br>step %{x}: L=%{y:.4g}<extra></extra>"},
    ]


def lr_sweep(sweeps: Sequence[Sweep], colors: Mapping[str, str], log_loss: bool = True) -> go.Figure:
    """Final loss against learning rate for each optimizer; the chosen rate ringed. Diverged candidates are gaps."""
    data = []
    for s in sweeps:
        name, color = s.hyper.name, colors[s.hyper.name]
        y = np.array([v if math.isfinite(v) and (v > 0 or not log_loss) else np.nan for v in s.final_loss])
        data.append(line(s.lrs, y, s.hyper.label, color, name, mode="lines+markers", marker={"size": 7},
                         connectgaps=False, hovertemplate=f"{s.hyper.label}<br>η=%{{x:.3g}}: final L=%{{y:.4g}}<extra></extra>"))
        if s.best_lr is not None:
            data.append({"type": "scatter", "mode": "markers", "x": [s.best_lr], "y": [s.best_loss if s.best_loss > 0 or not log_loss else None],
                         "name": f"{s.hyper.label}: chosen", "legendgroup": name, "showlegend": False,
                         "marker": {"symbol": "circle-open", "size": 20, "color": color, "line": {"width": 3}},
                         "hovertemplate": f"{s.hyper.label}: chosen η=%{{x:.3g}}<extra></extra>"})
    layout = {
        "xaxis": {"type": "log", "title": {"text": "learning rate η"}, "exponentformat": "power", "dtick": 1},
        "yaxis": {"type": "log" if log_loss else "linear", "title": {"text": "final L(θ)"}, "exponentformat": "power"},
        "hovermode": "closest",
    }
    return figure(data, layout, height=400)


def lr_schedule(runs: Sequence[Run], colors: Mapping[str, str]) -> go.Figure:
    """The learning rate η_t each optimizer used at each step (log scale)."""
    data = [line(np.arange(len(r.lrs)), r.lrs.numpy(), r.hyper.label, colors[r.hyper.name], r.hyper.name,
                 hovertemplate=f"{r.hyper.label}<br>step %{{x}}: η=%{{y:.3g}}<extra></extra>") for r in runs]
    layout = {"xaxis": {"title": {"text": "step"}},
              "yaxis": {"type": "log", "title": {"text": "η_t"}, "exponentformat": "power"}, "hovermode": "closest"}
    return figure(data, layout, height=300)
