"""Plotly figure builders for every page: data in, figure out, one theme (core/charts/theme.py).

One module per page topic; pages import them all from here, as `charts.<builder>`. Builders take plain
data (DataFrames, arrays, dataclasses from core) and return a `plotly.graph_objects.Figure`. No page
draws its own figure, and no builder imports streamlit.
"""
from core.charts.activations import activation_curves, depth_products
from core.charts.classification_metrics import per_class_metrics, pr_roc_curves
from core.charts.cnn_builder import receptive_field
from core.charts.conv_arithmetic import feature_maps, pooling_grids, sliding_window
from core.charts.optimizers import lr_schedule, lr_sweep, optimizer_race
from core.charts.regression_metrics import error_shares, forecast_span
from core.charts.rnn_shapes import rnn_architectures, rnn_last_state_map, rnn_shape_flow
from core.charts.softmax import softmax_bars, softmax_jacobians
from core.charts.training import confusion_matrix, forecast, training_curves
from core.charts.augmentation import *  # noqa: F403
from core.charts.backprop import *  # noqa: F403
from core.charts.batchnorm import *  # noqa: F403
from core.charts.datasets import *  # noqa: F403
from core.charts.initialization import *  # noqa: F403
from core.charts.lstm_gates import *  # noqa: F403
from core.charts.multi_io import *  # noqa: F403
from core.charts.rnn_gradients import *  # noqa: F403
from core.charts.sequences import *  # noqa: F403
from core.charts import augmentation, backprop, batchnorm, datasets, initialization, lstm_gates, multi_io, rnn_gradients, sequences
from core.charts.theme import FONT_SIZE, LINE_WIDTH, NEUTRAL, PALETTE, figure, line, series_colors, side_by_side

__all__ = [
    "FONT_SIZE", "LINE_WIDTH", "NEUTRAL", "PALETTE", "figure", "line", "series_colors", "side_by_side",
    "activation_curves", "depth_products",
    "optimizer_race", "lr_sweep", "lr_schedule",
    "sliding_window", "pooling_grids", "feature_maps", "receptive_field",
    "rnn_shape_flow", "rnn_last_state_map", "rnn_architectures",
    "softmax_bars", "softmax_jacobians",
    "per_class_metrics", "pr_roc_curves",
    "forecast_span", "error_shares",
    "training_curves", "confusion_matrix", "forecast",
]
__all__ += [name for module in (augmentation, backprop, batchnorm, datasets, initialization, lstm_gates, multi_io, rnn_gradients, sequences) for name in module.__all__]
