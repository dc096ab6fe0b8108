"""Plotly figure builders for every page: data in, figure out, one theme (core/charts/theme.py).

One module per page topic; pages import them all from here, as `charts.<builder>`. Builders take plain
data (DataFrames, arrays, dataclasses from core) and return a `plotly.graph_objects.Figure`. No page
draws its own figure, and no builder imports streamlit.
"""
from __future__ import annotations

import importlib
from typing import Any

from core.charts.theme import FONT_SIZE, LINE_WIDTH, NEUTRAL, PALETTE, figure, line, series_colors, side_by_side

# The topic modules import torch and torchmetrics (seconds on a cold server). Home and the sidebar only
# need the theme, so the builders load on first use: the first `charts.<name>` imports every topic
# module once; after that they are plain module attributes (PEP 562).
TOPICS = ("activations", "augmentation", "backprop", "batchnorm", "classification_metrics", "cnn_builder",
          "conv_arithmetic", "datasets", "initialization", "lstm_gates", "multi_io", "optimizers",
          "regression_metrics", "rnn_gradients", "rnn_shapes", "sequences", "softmax", "training")
THEME = ["FONT_SIZE", "LINE_WIDTH", "NEUTRAL", "PALETTE", "figure", "line", "series_colors", "side_by_side"]


def _load() -> list[str]:
    names = list(THEME)
    for topic in TOPICS:
        module = importlib.import_module(f"core.charts.{topic}")
        globals()[topic] = module
        for name in module.__all__:
            globals()[name] = getattr(module, name)
            names.append(name)
    globals()["__all__"] = names
    return names


def __getattr__(name: str) -> Any:
    if name.startswith("__") and name != "__all__":
        raise AttributeError(name)
    _load()
    if name in globals():
        return globals()[name]
    raise AttributeError(f"module 'core.charts' has no attribute {name!r}")
