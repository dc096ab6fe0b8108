"""Charts of the Convolution arithmetic page: the sliding window, pooled grids, feature maps.

Grids are plotly heatmaps with one cell per pixel, row 0 at the top, square cells, and the value
written in each cell when the grid is small enough to read.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
import torch

from core.charts.theme import FONT_SIZE, INK_ON_LIGHT, PALETTE, figure
from core.conv_arithmetic import SlidingStep
from core.conv_pooling import PoolExample
from core.feature_maps import FeatureMap

HIGHLIGHT = PALETTE[1]  # orange: the window and the cell being written
_PALE_BLUE = [[0, "#f4f8fc"], [1, "#8fbfe0"]]
_PALE_GREEN = [[0, "#f1f9f5"], [1, "#7cc7a6"]]
_DIVERGING = [[0, "#2166ac"], [0.5, "#f7f7f7"], [1, "#b2182b"]]
_GRAY = [[0, "#000000"], [1, "#ffffff"]]
_MAX_TEXT_CELLS = 16  # write values in cells only up to this many per side


def grid(z, x, y, colorscale, axis: str = "", text_format: str | None = ".0f", **extra: Any) -> dict[str, Any]:
    """One heatmap panel: z (rows × cols) at columns x and rows y, optionally with values in the cells."""
    z = np.asarray(z, dtype=float)
    cell = {"type": "heatmap", "z": z, "x": np.asarray(x), "y": np.asarray(y), "colorscale": colorscale,
            "showscale": False, "xgap": 1, "ygap": 1, "hoverongaps": False,
            "hovertemplate": "row %{y}, col %{x}: %{z}<extra></extra>", "xaxis": f"x{axis}", "yaxis": f"y{axis}", **extra}
    if text_format and max(z.shape) <= _MAX_TEXT_CELLS:
        cell["texttemplate"] = f"%{{z:{text_format}}}"
        cell["textfont"] = {"size": FONT_SIZE - (2 if max(z.shape) > 10 else 0), "color": INK_ON_LIGHT}
    return cell


def box(r0: float, r1: float, c0: float, c1: float, axis: str = "", color: str = HIGHLIGHT, width: int = 3,
        dash: str = "solid") -> dict[str, Any]:
    """A rectangle around cells r0..r1 × c0..c1 (inclusive) of panel `axis`."""
    return {"type": "rect", "xref": f"x{axis}", "yref": f"y{axis}", "x0": c0 - 0.5, "x1": c1 + 0.5, "y0": r0 - 0.5,
            "y1": r1 + 0.5, "line": {"color": color, "width": width, "dash": dash}}


def panels(domains: list[tuple[float, float]], titles: list[str], tick_step: list[int] | None = None,
           extents: list[tuple[int, int, int, int]] | None = None) -> dict[str, Any]:
    """Layout for side-by-side grid panels: square cells, row 0 on top, a title above each.

    Args:
        extents: per panel (first column, columns, first row, rows of the panel, rows of the grid): fixes each
            panel's ranges, so panels given the same number of rows get cells of the same size (shorter grids
            sit at the top, with ticks on their own rows only).
    """
    layout: dict[str, Any] = {"hovermode": "closest", "annotations": [], "margin": {"l": 32, "r": 10, "t": 70, "b": 10}}
    for i, ((lo, hi), title) in enumerate(zip(domains, titles)):
        axis = "" if i == 0 else str(i + 1)
        dtick = (tick_step or [1] * len(domains))[i]
        x_axis = {"domain": [lo, hi], "anchor": f"y{axis}", "showgrid": False, "zeroline": False, "dtick": dtick,
                  "side": "top", "constrain": "domain", "ticks": ""}
        y_axis = {"anchor": f"x{axis}", "autorange": "reversed", "showgrid": False, "zeroline": False, "dtick": dtick,
                  "scaleanchor": f"x{axis}", "constrain": "domain", "ticks": ""}
        if extents is not None:
            x0, nx, y0, ny, shown = extents[i]
            x_axis.update(range=[x0 - 0.5, x0 + nx - 0.5], autorange=False)
            y_axis.update(range=[y0 + ny - 0.5, y0 - 0.5], autorange=False, tickvals=list(range(y0, y0 + shown, dtick)))
        layout[f"xaxis{axis}"], layout[f"yaxis{axis}"] = x_axis, y_axis
        layout["annotations"].append({"text": title, "xref": "paper", "yref": "paper", "x": (lo + hi) / 2, "y": 1,
                                      "yanchor": "bottom", "yshift": 30, "showarrow": False, "font": {"size": FONT_SIZE}})
    return layout


def _ticks(n: int) -> int:
    return 1 if n <= 20 else int(np.ceil(n / 10))


def sliding_window(step: SlidingStep, kernel: torch.Tensor) -> go.Figure:
    """The padded input with the window's taps outlined, the kernel, and the output being written."""
    rows = np.arange(*step.in_rows)
    cols = np.arange(*step.in_cols)
    values = step.inputs.numpy().copy()
    pad = step.is_pad.numpy()
    data = [
        grid(np.where(pad, 0.0, np.nan), cols, rows, [[0, "#d9d9d9"], [1, "#d9d9d9"]], name="padding (zeros)"),
        grid(np.where(pad, np.nan, values), cols, rows, _PALE_BLUE, zmin=0, zmax=9, name="input"),
    ]
    k = kernel.shape[0]
    data.append(grid(kernel.numpy(), np.arange(k), np.arange(k), _DIVERGING, "2", zmin=-1.5, zmax=1.5, name="kernel"))
    out_rows, out_cols = np.arange(*step.out_rows), np.arange(*step.out_cols)
    outputs = step.outputs.numpy()
    data.append(grid(np.zeros_like(outputs), out_cols, out_rows, [[0, "#f4f4f4"], [1, "#f4f4f4"]], "3", text_format=None,
                     hoverinfo="skip", hovertemplate=None))
    data.append(grid(outputs, out_cols, out_rows, _PALE_GREEN, "3", name="output"))
    shapes = [box(r, r, c, c) for r, c in step.taps if step.in_rows[0] <= r < step.in_rows[1] and step.in_cols[0] <= c < step.in_cols[1]]
    (r0, c0), (r1, c1) = step.taps[0], step.taps[-1]
    shapes.append(box(r0, r1, c0, c1, width=1, dash="dot"))
    shapes.append(box(step.row, step.row, step.col, step.col, "3", width=4))
    rows_total = max(values.shape[0], k, outputs.shape[0])
    widths = [values.shape[1], k, outputs.shape[1]]
    share = [0.92 * n / sum(widths) for n in widths]
    a, b = share[0], share[0] + 0.04 + share[1]
    extents = [(cols[0], len(cols), rows[0], rows_total, len(rows)), (0, k, 0, rows_total, k),
               (out_cols[0], len(out_cols), out_rows[0], rows_total, len(out_rows))]
    n_in, n_out = max(values.shape), max(outputs.shape)
    layout = panels([(0, a), (a + 0.04, b), (b + 0.04, 1)], ["padded input (grey: zeros)", "kernel w", "output y"],
                    [_ticks(n_in), 1, _ticks(n_out)], extents)
    layout["shapes"] = shapes
    cell = 900 / max(sum(widths), 1)  # px per cell at a typical chart width
    height = int(min(620, max(300, cell * rows_total + 110)))
    return figure(data, layout, height=height)


def pooling_grids(example: PoolExample) -> go.Figure:
    """The example grid with the first window outlined, its max-pooled and its average-pooled values."""
    n = example.grid.shape[0]
    m = example.max_pooled.shape[0]
    idx_in, idx_out = np.arange(n), np.arange(m)
    data = [
        grid(example.grid.numpy(), idx_in, idx_in, _PALE_BLUE, zmin=0, zmax=9, name="input"),
        grid(example.max_pooled.numpy(), idx_out, idx_out, _PALE_GREEN, "2", zmin=0, zmax=9, name="max"),
        grid(example.avg_pooled.numpy(), idx_out, idx_out, _PALE_GREEN, "3", ".2f", zmin=0, zmax=9, name="average"),
    ]
    share = [0.9 * c / (n + 2 * m) for c in (n, m, m)]
    a, b = share[0], share[0] + 0.05 + share[1]
    layout = panels([(0, a), (a + 0.05, b), (b + 0.05, 1)],
                    [f"input {n} × {n}", f"MaxPool2d({example.k}, {example.s})", f"AvgPool2d({example.k}, {example.s})"],
                    extents=[(0, n, 0, n, n), (0, m, 0, n, m), (0, m, 0, n, m)])
    layout["shapes"] = [box(0, example.k - 1, 0, example.k - 1), box(0, 0, 0, 0, "2"), box(0, 0, 0, 0, "3")]
    return figure(data, layout, height=int(900 / (n + 2 * m) * n + 110))


def feature_maps(fmap: FeatureMap, title: str) -> go.Figure:
    """The grayscale input beside the feature map F.conv2d makes of it (signed maps on a diverging scale)."""
    h, w = fmap.image.shape
    rows, cols = np.arange(h), np.arange(w)
    out = fmap.output.numpy()
    signed = bool(out.min() < -1e-9)
    limit = float(np.abs(out).max()) or 1.0
    scale = {"colorscale": _DIVERGING, "zmid": 0, "zmin": -limit, "zmax": limit} if signed else {"colorscale": _GRAY}
    data = [
        grid(fmap.image.numpy(), cols, rows, _GRAY, text_format=None, zmin=0, zmax=1, xgap=0, ygap=0, name="input"),
        grid(out, cols, rows, scale.pop("colorscale"), "2", text_format=None, xgap=0, ygap=0, name="feature map",
             showscale=True, colorbar={"x": 1.0, "len": 0.8, "thickness": 14}, **scale),
    ]
    layout = panels([(0, 0.45), (0.5, 0.95)], [f"input {h} × {w}", title], [_ticks(h), _ticks(h)])
    for axis in ("xaxis", "yaxis", "xaxis2", "yaxis2"):
        layout[axis]["showticklabels"] = False
    layout["margin"] |= {"l": 10, "r": 64}  # no tick labels; a colour bar at the right
    return figure(data, layout, height=440)


__all__ = ["sliding_window", "pooling_grids", "feature_maps", "grid", "box", "panels"]
