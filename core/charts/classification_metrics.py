"""Charts of the Classification metrics page."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from core.charts.theme import NEUTRAL, PALETTE, figure, line, side_by_side

__all__ = ["per_class_metrics", "pr_roc_curves"]

METRIC_COLORS = {"precision": PALETTE[0], "recall": PALETTE[1], "f1": PALETTE[2]}
METRIC_NAMES = {"precision": "precision", "recall": "recall", "f1": "F1"}


def per_class_metrics(per_class: Mapping[str, Sequence[float]], averages: Mapping[str, float], average: str) -> go.Figure:
    """Precision, recall and F1 per class as grouped bars; the chosen average of each as a dashed line.

    Args:
        per_class: metric → K values. averages: metric → the `average` value.
    """
    k = len(next(iter(per_class.values())))
    classes = [f"class {i}" for i in range(k)]
    data, shapes = [], []
    for metric, values in per_class.items():
        color = METRIC_COLORS[metric]
        data.append({"type": "bar", "x": classes, "y": np.asarray(values), "name": METRIC_NAMES[metric], "marker": {"color": color},
                     "hovertemplate": f"%{{x}}: {METRIC_NAMES[metric]} = %{{y:.4f}}<extra></extra>"})
        value = averages[metric]
        shapes.append({"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": value, "y1": value,
                       "line": {"color": color, "width": 2.5, "dash": "dash"}})
        data.append(line([None], [None], f"{METRIC_NAMES[metric]}, {average}: {value:.3f}", color, dash="dash"))
    layout = {"barmode": "group", "yaxis": {"range": [0, 1.05], "title": {"text": "score"}}, "shapes": shapes, "hovermode": "closest",
              "margin": {"b": 42}}  # class names, no axis title
    return figure(data, layout, height=400)


def pr_roc_curves(
    recall: np.ndarray, precision: np.ndarray, fpr: np.ndarray, tpr: np.ndarray,
    point: tuple[float, float, float], threshold: float, auroc: float, average_precision: float,
) -> go.Figure:
    """The precision–recall curve (left) and the ROC curve (right), with the current threshold's point on each.

    Args:
        point: (precision, recall, false-positive rate) at the threshold.
    """
    p, r, f = point
    marker = {"type": "scatter", "mode": "markers", "marker": {"size": 16, "color": PALETTE[5], "line": {"width": 2, "color": "white"}},
              "showlegend": False, "hovertemplate": f"t = {threshold:.2f}<br>%{{x:.3f}}, %{{y:.3f}}<extra></extra>"}
    data = [
        line(recall, precision, f"precision–recall (AP = {average_precision:.3f})", PALETTE[0]),
        {**marker, "x": [r], "y": [p], "name": f"t = {threshold:.2f}"},
        line(fpr, tpr, f"ROC (AUROC = {auroc:.3f})", PALETTE[2], xaxis="x2", yaxis="y2"),
        line([0, 1], [0, 1], "chance", NEUTRAL, dash="dot", xaxis="x2", yaxis="y2"),
        {**marker, "x": [f], "y": [r], "xaxis": "x2", "yaxis": "y2", "name": f"t = {threshold:.2f}"},
    ]
    layout = side_by_side("precision–recall curve", "ROC curve", "")
    for note in layout["annotations"]:
        note["xanchor"] = "center"
    unit = {"range": [-0.02, 1.02], "constrain": "domain"}
    layout["xaxis"] |= {**unit, "title": {"text": "recall = TP / (TP + FN)"}}
    layout["yaxis"] |= {**unit, "title": {"text": "precision = TP / (TP + FP)"}}
    layout["xaxis2"] |= {**unit, "title": {"text": "false-positive rate = FP / (FP + TN)"}}
    layout["yaxis2"] |= {**unit, "title": {"text": "recall (true-positive rate)"}}
    layout["hovermode"] = "closest"
    return figure(data, layout, height=460)
