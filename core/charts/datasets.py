"""Figure builders for the Datasets & DataLoader page: which sample lands in which batch, over two epochs."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from core.charts.theme import FONT_SIZE, NEUTRAL, PALETTE, figure, side_by_side

__all__: list[str] = ["batch_assignment"]

#: Sample index from 0 (light) to N − 1 (dark blue): an unshuffled epoch reads as a smooth gradient.
INDEX_SCALE = [[0.0, "#DCEBF5"], [0.5, "#6AAED6"], [1.0, "#08457E"]]
_DROPPED_SCALE = [[0.0, "#D9D9D9"], [1.0, "#D9D9D9"]]
MAX_LABELLED_CELLS = 320  # per epoch; beyond this the numbers would not be legible


def _grid(batches: Sequence[Sequence[int]], batch_size: int) -> np.ndarray:
    """(B, K) sample indices, row = position in the batch, column = batch; NaN where a short batch ends."""
    z = np.full((batch_size, len(batches)), np.nan)
    for b, batch in enumerate(batches):
        z[: len(batch), b] = batch
    return z


def batch_assignment(
    epochs: Sequence[Sequence[Sequence[int]]],
    dropped: Sequence[Sequence[int]],
    n: int,
    batch_size: int,
    highlight: int | None = None,
) -> go.Figure:
    """One grid per epoch: column k is batch k, row r its r-th sample, each cell the sample's index.

    Args:
        epochs: per epoch, per batch, the sample indices the DataLoader yielded.
        dropped: per epoch, the samples drop_last left out; drawn in grey in an extra column.
        highlight: a sample index to ring in every epoch.
    """
    data = []
    layout = side_by_side("epoch 1", "epoch 2", "batch")
    n_batches = max(len(e) for e in epochs)
    labelled = n_batches * batch_size <= MAX_LABELLED_CELLS
    text_size = FONT_SIZE - 2 if batch_size <= 12 and n_batches <= 16 else FONT_SIZE - 5
    for e, (batches, left_out) in enumerate(zip(epochs, dropped)):
        suffix = "" if e == 0 else str(e + 1)
        axes = {"xaxis": f"x{suffix}", "yaxis": f"y{suffix}"}
        k = len(batches)
        dropped_at = k - 0.25 + 0.5 * bool(k)  # the dropped column, a little apart from the batches
        z = _grid(batches, batch_size)
        cell = {"type": "heatmap", "xgap": 2, "ygap": 2, "hoverongaps": False, **axes}
        text = {"texttemplate": "%{z:.0f}", "textfont": {"size": text_size}} if labelled else {}
        data.append({**cell, "z": z, "x": list(range(k)), "y": list(range(batch_size)), "colorscale": INDEX_SCALE, "zmin": 0,
                     "zmax": max(n - 1, 1), "showscale": e == 0, "name": f"epoch {e + 1}",
                     "colorbar": {"title": {"text": "sample<br>index"}, "x": 1.01, "thickness": 14},
                     "hovertemplate": f"epoch {e + 1}, batch %{{x}}, row %{{y}}: sample %{{z:.0f}}<extra></extra>", **text})
        ticks = {"tickvals": list(range(k)), "ticktext": [str(b) for b in range(k)]}
        if left_out:
            data.append({**cell, "z": np.array(list(left_out), dtype=float)[:, None], "x": [dropped_at],
                         "y": list(range(len(left_out))), "colorscale": _DROPPED_SCALE, "showscale": False,
                         "name": f"epoch {e + 1}: dropped",
                         "hovertemplate": f"epoch {e + 1}: sample %{{z:.0f}} dropped (drop_last)<extra></extra>", **text})
            ticks = {"tickvals": [*ticks["tickvals"], dropped_at], "ticktext": [*ticks["ticktext"], "dropped"]}
        if k > 24:  # too many batches to label each one
            ticks = {}
        layout[f"xaxis{suffix}"].update({"showgrid": False, "zeroline": False, "tickangle": 0, **ticks})
        layout[f"yaxis{suffix}"].update({"autorange": "reversed", "showgrid": False, "zeroline": False,
                                         "title": {"text": "position in batch" if e == 0 else ""}})
        if highlight is not None:
            spots = [(b, batch.index(highlight)) for b, batch in enumerate(batches) if highlight in batch]
            spots += [(dropped_at, list(left_out).index(highlight))] if highlight in left_out else []
            if spots:
                data.append({"type": "scatter", "mode": "markers", "x": [s[0] for s in spots], "y": [s[1] for s in spots],
                             "name": f"sample {highlight}", "showlegend": e == 0, "legendgroup": "highlight", "hoverinfo": "skip",
                             "marker": {"symbol": "square-open", "size": 26 if labelled else 12, "color": PALETTE[1],
                                        "line": {"width": 4, "color": PALETTE[1]}}, **axes})
    layout.update({"hovermode": "closest", "showlegend": highlight is not None, "plot_bgcolor": "rgba(0,0,0,0)",
                   "margin": {"l": 76, "r": 100, "t": 60, "b": 80}})
    if any(dropped):
        layout["annotations"] = [*layout["annotations"], {
            "xref": "paper", "yref": "paper", "x": 1.0, "y": 1.1, "yanchor": "bottom", "xanchor": "right", "showarrow": False,
            "text": "grey: dropped by drop_last", "font": {"size": FONT_SIZE - 2, "color": NEUTRAL}}]
    height = int(min(640, max(300, 120 + 30 * batch_size))) if labelled else 460
    return figure(data, layout, height=height)
