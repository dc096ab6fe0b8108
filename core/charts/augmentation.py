"""Charts of the Images & augmentation page: the picture with its chosen pixel, the grid of augmented samples, and
per-channel histograms before and after.

Pictures travel as image data URIs inside plotly `image` traces, drawn pixel for pixel (no smoothing) at any
zoom: the input as PNG (lossless, so the hover readout is exact), the samples as JPEG at quality 90 without
chroma subsampling (a few KB each).
"""
from __future__ import annotations

import base64
import io
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from PIL import Image

from core.charts.theme import FONT_SIZE, LINE_WIDTH, NEUTRAL, PALETTE, figure, rgba, side_by_side

__all__ = ["CHANNEL_COLORS", "aug_picture", "aug_sample_grid", "aug_channel_histograms"]

CHANNEL_COLORS: dict[str, str] = {"R": PALETTE[5], "G": PALETTE[2], "B": PALETTE[0], "L": NEUTRAL}
CHANNEL_NAMES: dict[str, str] = {"R": "R (red)", "G": "G (green)", "B": "B (blue)", "L": "L (gray)"}
_GRID_COLUMNS = 8
_ROW_PX = 160  # a grid row: its title and a sample about 130 px wide on a laptop screen


def _data_uri(pixels: np.ndarray, fmt: str) -> str:
    """(H, W, C) uint8 as a PNG or JPEG data URI."""
    image = Image.fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels)
    buf = io.BytesIO()
    if fmt == "JPEG":
        image.save(buf, format="JPEG", quality=90, subsampling=0)
    else:
        image.save(buf, format="PNG")
    return f"data:image/{fmt.lower()};base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _to_uint8(samples: np.ndarray) -> np.ndarray:
    """(N, C, H, W) floats in [0, 1] as (N, H, W, C) uint8, rounded."""
    return np.clip(np.rint(np.asarray(samples, dtype=np.float64) * 255), 0, 255).astype(np.uint8).transpose(0, 2, 3, 1)


def aug_picture(pixels: np.ndarray, row: int, col: int) -> go.Figure:
    """The picture pixel for pixel, the chosen pixel outlined; hovering shows any pixel's row, column and values.

    Args:
        pixels: (H, W, C) uint8, C = 3 (RGB) or 1 (grayscale).
    """
    h, w, c = pixels.shape
    values = "R, G, B = %{z[0]}, %{z[1]}, %{z[2]}" if c == 3 else "value = %{z[0]}"
    data = [{"type": "image", "source": _data_uri(pixels, "PNG"), "name": "picture",
             "hovertemplate": f"row i = %{{y}}, column j = %{{x}}<br>{values}<extra></extra>"}]
    box = {"type": "rect", "x0": col - 0.5, "x1": col + 0.5, "y0": row - 0.5, "y1": row + 0.5, "xref": "x", "yref": "y"}
    layout = {
        "xaxis": {"title": {"text": f"column j (0 … {w - 1})"}, "range": [-0.5, w - 0.5], "showgrid": False, "zeroline": False},
        "yaxis": {"title": {"text": f"row i (0 … {h - 1})"}, "range": [h - 0.5, -0.5], "showgrid": False, "zeroline": False,
                  "scaleanchor": "x"},
        "shapes": [{**box, "line": {"color": "#000000", "width": 4}}, {**box, "line": {"color": "#FFFFFF", "width": 1.5}}],
        "hovermode": "closest", "margin": {"l": 12, "r": 10, "t": 18, "b": 80},
    }
    return figure(data, layout, height=460)


def aug_sample_grid(samples: np.ndarray, labels: Sequence[str], hover: Sequence[str] | None = None) -> go.Figure:
    """The augmented samples side by side, up to eight a row, each under its label.

    Args:
        samples: (N, C, H, W) floats in [0, 1].
        labels: N short titles ("#0 · seed 0").
        hover: N lines shown when hovering a sample (what it drew).
    """
    pixels = _to_uint8(samples)
    n, h, w, _ = pixels.shape
    cols, rows = _GRID_COLUMNS, math.ceil(n / _GRID_COLUMNS)  # always eight slots a row: a sample keeps its size as N changes
    height = rows * _ROW_PX
    gap_x, gap_y, title = 0.012, 12 / height, 26 / height
    cell_w = (1 - gap_x * (cols - 1)) / cols
    cell_h = (1 - gap_y * (rows - 1)) / rows
    data, layout, annotations = [], {"hovermode": "closest", "margin": {"t": 4, "b": 0, "l": 0, "r": 0}}, []
    for k in range(n):
        r, c = divmod(k, cols)
        suffix = "" if k == 0 else str(k + 1)
        x0, y1 = c * (cell_w + gap_x), 1 - r * (cell_h + gap_y)
        data.append({"type": "image", "source": _data_uri(pixels[k], "JPEG"), "xaxis": f"x{suffix}", "yaxis": f"y{suffix}",
                     "name": labels[k], "hovertemplate": f"{hover[k] if hover else labels[k]}<extra></extra>"})
        layout[f"xaxis{suffix}"] = {"domain": [max(0.0, x0), min(1.0, x0 + cell_w)], "anchor": f"y{suffix}", "visible": False, "range": [-0.5, w - 0.5],
                                    "constrain": "domain", "constraintoward": "left"}
        layout[f"yaxis{suffix}"] = {"domain": [max(0.0, y1 - cell_h), min(1.0, y1 - title)], "anchor": f"x{suffix}", "visible": False,
                                    "range": [h - 0.5, -0.5], "scaleanchor": f"x{suffix}", "constrain": "domain", "constraintoward": "top"}
        annotations.append({"text": labels[k], "x": x0 + cell_w / 2, "y": y1, "xref": "paper", "yref": "paper", "xanchor": "center",
                            "yanchor": "top", "showarrow": False, "font": {"size": FONT_SIZE - 1}})
    layout["annotations"] = annotations
    return figure(data, layout, height=height)



def aug_channel_histograms(hist: pd.DataFrame, after_title: str) -> go.Figure:
    """Per channel, the share of values in each bin, before (the picture) and after (the samples pooled).

    Args:
        hist: core.augmentation.histograms(...): channel, low, high, centre, before, after.
    """
    layout = side_by_side("before: the picture", after_title, "value (0 … 255)")
    layout["yaxis"]["title"] = {"text": "share of the channel's values (%)"}
    top = 1.08 * float(hist[["before", "after"]].to_numpy().max())
    layout["yaxis"]["range"] = layout["yaxis2"]["range"] = [0, top]
    for axis in ("xaxis", "xaxis2"):
        layout[axis]["range"] = [0, 256]
    data = []
    for name, part in hist.groupby("channel", sort=False):
        color = CHANNEL_COLORS[name]
        edges = np.append(part["low"].to_numpy(), part["high"].to_numpy()[-1] + 1)
        for panel, column in (("", "before"), ("2", "after")):
            y = part[column].to_numpy()
            data.append({"type": "scatter", "mode": "lines", "x": edges, "y": np.append(y, y[-1]),
                         "line": {"color": color, "width": LINE_WIDTH, "shape": "hv"}, "fill": "tozeroy",
                         "fillcolor": rgba(color, 0.12), "name": CHANNEL_NAMES[name], "legendgroup": name,
                         "showlegend": panel == "", "xaxis": f"x{panel}", "yaxis": f"y{panel}",
                         "hovertemplate": f"{name}: %{{y:.2f}}% of values from %{{x}}<extra></extra>"})
    return figure(data, layout, height=380)
