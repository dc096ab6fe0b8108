"""Plotly figure builders for every page: data in, figure out, one theme (core/charts/theme.py).

One module per page topic; pages import them all from here, as `charts.<builder>`. Builders take plain
data (DataFrames, arrays, dataclasses from core) and return a `plotly.graph_objects.Figure`. No page
draws its own figure, and no builder imports streamlit.
"""
from core.charts.activations import activation_curves, depth_products
from core.charts.training import confusion_matrix, forecast, training_curves
from core.charts.theme import FONT_SIZE, LINE_WIDTH, NEUTRAL, PALETTE, figure, line, series_colors, side_by_side

__all__ = [
    "FONT_SIZE", "LINE_WIDTH", "NEUTRAL", "PALETTE", "figure", "line", "series_colors", "side_by_side",
    "activation_curves", "depth_products",
    "training_curves", "confusion_matrix", "forecast",
]
