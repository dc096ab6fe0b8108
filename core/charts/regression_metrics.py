"""Charts of the Regression metrics page."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core.charts.theme import PALETTE, figure, line

__all__ = ["forecast_span", "error_shares"]

_SHARE_COLORS = {"squared error": PALETTE[0], "absolute error": PALETTE[2], "absolute % error": PALETTE[5]}
_SHARE_NAMES = {"squared error": "(y − ŷ)²: MSE, RMSE, R²", "absolute error": "|y − ŷ|: MAE", "absolute % error": "|y − ŷ| / |y|: MAPE"}


def forecast_span(timestamp: np.ndarray, actual: np.ndarray, forecast: np.ndarray, outliers: np.ndarray) -> go.Figure:
    """Actual readings and the seasonal-naive forecast over the span, the spiked readings marked."""
    data = [
        line(timestamp, actual, "actual y", PALETTE[0]),
        line(timestamp, forecast, "forecast ŷ (same time, one day earlier)", PALETTE[1], dash="dash"),
        {"type": "scatter", "mode": "markers", "x": timestamp[outliers], "y": actual[outliers], "name": "spiked readings",
         "marker": {"color": PALETTE[5], "size": 11, "symbol": "x", "line": {"width": 2}}},
    ]
    layout = {"yaxis": {"title": {"text": "consumption (kW)"}, "zeroline": True}, "xaxis": {"title": {"text": ""}}, "margin": {"b": 94}}  # dates in two rows
    return figure(data, layout, height=400)


def error_shares(errors: pd.DataFrame) -> go.Figure:
    """Each reading's share of the sum behind each metric: the readings a metric mostly listens to stand out.

    Args:
        errors: columns timestamp, squared error, absolute error, absolute % error (shares that sum to 1).
    """
    data = [line(errors["timestamp"], 100 * errors[name], _SHARE_NAMES[name], color) for name, color in _SHARE_COLORS.items()]
    layout = {"yaxis": {"title": {"text": "share of the sum (%)"}, "rangemode": "tozero"}, "xaxis": {"title": {"text": ""}}, "margin": {"b": 94}}  # dates in two rows
    return figure(data, layout, height=360)
