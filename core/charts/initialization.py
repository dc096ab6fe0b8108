"""Charts of the Initialization page: variance and gradient norm per layer, one layer's histograms, the weak
share per layer, and the training comparison."""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from core.charts.theme import NEUTRAL, PALETTE, figure, line, side_by_side

__all__ = ["init_variance_profile", "init_layer_histograms", "init_layer_shares", "init_training_curves"]

#: One colour per scheme on every chart of the page (Okabe–Ito, and one more for the eighth scheme).
INIT_SCHEME_COLORS = {"default": PALETTE[0], "normal": PALETTE[5], "normal_small": PALETTE[6], "xavier_uniform": PALETTE[2],
                      "xavier_normal": PALETTE[4], "kaiming_uniform": PALETTE[1], "kaiming_normal": PALETTE[3], "zeros": "#882255"}
_MEASURED, _COURSE, _WITH_MEAN, _ACTIVATION, _GRADIENT = PALETTE[0], PALETTE[1], PALETTE[5], PALETTE[4], PALETTE[2]
_WEAK = PALETTE[5]


def _positive(values: np.ndarray) -> np.ndarray:
    """Values a log axis can show; 0, negative, NaN and inf become gaps."""
    v = np.asarray(values, dtype=float)
    return np.where(np.isfinite(v) & (v > 0), v, np.nan)


def _decade_ticks(*series: np.ndarray) -> dict:
    """A log axis labelled at whole decades only (about 8 labels at most) when the values span 1.5 decades or more:
    plotly's own labels at every digit in between crowd the axis. Narrower spans keep plotly's labels."""
    v = np.concatenate([_positive(s) for s in series])
    v = v[np.isfinite(v)]
    if not len(v):
        return {}
    span = math.log10(v.max()) - math.log10(v.min())
    return {"dtick": max(1, math.ceil(span / 8))} if span >= 1.5 else {}


def init_variance_profile(p) -> go.Figure:
    """Left: Var(z) per layer, measured, beside the course's n·Var(W)·Var(x) and n·Var(W)·E[x²] + Var(b), and Var(a).
    Right: ‖∂L/∂W‖ of each layer's weights. Both on a log scale; values a log axis cannot show are gaps.

    Args:
        p: a core.initialization.Pass.
    """
    layers = np.arange(1, p.depth + 1)
    markers = {"mode": "lines+markers", "marker": {"size": 7}}
    data = [
        line(layers, _positive(p.var_z), "Var(z) measured", _MEASURED, **markers),
        line(layers, _positive(p.pred_course), "course: n·Var(W)·Var(x)", _COURSE, dash="dash"),
        line(layers, _positive(p.pred_mean), "n·Var(W)·E[x²] + Var(b)", _WITH_MEAN, dash="dot"),
        line(layers, _positive(p.var_a), "Var(a), a = f(u)", _ACTIVATION, mode="lines", opacity=0.8),
        line(layers, _positive(p.grad_norm), "‖∂L/∂W‖ (right)", _GRADIENT, xaxis="x2", yaxis="y2", **markers),
    ]
    layout = side_by_side("Forward: variance of each layer's output", "Backward: ‖∂L/∂W‖ of each layer's weights", "layer")
    layout["yaxis"].update({"type": "log", "exponentformat": "power", "title": {"text": "variance (log scale)"},
                            **_decade_ticks(p.var_z, p.pred_course, p.pred_mean, p.var_a, np.ones(1))})
    layout["yaxis2"].update({"type": "log", "exponentformat": "power", **_decade_ticks(p.grad_norm)})
    for axis in ("xaxis", "xaxis2"):
        layout[axis].update({"range": [0.5, p.depth + 0.5], "dtick": max(1, round(p.depth / 10))})
    layout["shapes"] = [{"type": "line", "xref": "x domain", "yref": "y", "x0": 0, "x1": 1, "y0": 1, "y1": 1,
                         "line": {"color": NEUTRAL, "width": 1}}]
    layout["annotations"].append({"xref": "x domain", "yref": "y", "x": 0, "y": 0, "yshift": 2, "text": "Var(x) = 1",
                                  "showarrow": False, "xanchor": "left", "yanchor": "bottom",
                                  "font": {"color": NEUTRAL, "size": 13}})
    if (note := _nothing_to_draw(p.grad_norm, "‖∂L/∂W‖")) is not None:
        layout["annotations"].append({"xref": "x2 domain", "yref": "y2 domain", "x": 0.5, "y": 0.5, "text": note,
                                      "showarrow": False, "font": {"color": NEUTRAL, "size": 15}})
        layout["yaxis2"].update({"showticklabels": False, "showgrid": False})  # decades of nothing would suggest a scale
    return figure(data, layout, height=470)


def _nothing_to_draw(values: np.ndarray, name: str) -> str | None:
    """Why a log panel is empty: every value exactly 0 (underflow), or not finite (overflow); None if any can be drawn."""
    v = np.asarray(values, dtype=float)
    if v.size == 0 or np.any(np.isfinite(v) & (v > 0)):
        return None
    if np.all(v == 0):
        return f"every {name} is exactly 0:<br>nothing to draw on a log axis"
    return f"no {name} is a positive finite number:<br>nothing to draw on a log axis"


def _weak_regions(activation: str, edge: float | None, lo: float, hi: float) -> list[tuple[float, float]]:
    """The u intervals where the activation's gradient is weak (saturated, zero or on its negative side), clipped to [lo, hi]."""
    if activation in ("sigmoid", "tanh"):
        spans = [(lo, -edge), (edge, hi)]
    else:
        spans = [(lo, 0.0)]
    return [(max(a, lo), min(b, hi)) for a, b in spans if min(b, hi) > max(a, lo)]


def init_layer_histograms(p, layer: int, activation_label: str, edge: float | None) -> go.Figure:
    """One layer's histograms: left the activation's input u (shaded where its gradient is weak), right a = f(u).

    Args:
        p: a core.initialization.Pass; layer: 1-based; edge: the saturation edge z_t for sigmoid and tanh.
    """
    i = layer - 1
    data, shapes = [], []
    total = max(1.0, float(p.u_counts[i].sum()))
    for counts, edges, axis, color in ((p.u_counts[i], p.u_edges[i], "", PALETTE[0]), (p.a_counts[i], p.a_edges[i], "2", PALETTE[4])):
        centers, widths = (edges[:-1] + edges[1:]) / 2, np.diff(edges)
        data.append({"type": "bar", "x": centers, "y": 100 * counts / total, "width": widths, "marker": {"color": color},
                     "xaxis": f"x{axis}", "yaxis": f"y{axis}", "showlegend": False, "name": "u" if not axis else "a",
                     "hovertemplate": "%{x:.3g}: %{y:.2f}%<extra></extra>"})
    if np.isfinite(p.u_edges[i]).all():
        lo, hi = float(p.u_edges[i][0]), float(p.u_edges[i][-1])
        for a, b in _weak_regions(p.activation, edge, lo, hi):
            shapes.append({"type": "rect", "xref": "x", "yref": "y domain", "x0": a, "x1": b, "y0": 0, "y1": 1,
                           "fillcolor": _WEAK, "opacity": 0.15, "line": {"width": 0}, "layer": "below"})
    u_name = "u = BatchNorm(z)" if p.batchnorm else "u = z = Wx + b"
    layout = side_by_side(f"Layer {layer}: {u_name}, the input of {activation_label}", f"Layer {layer}: a = {activation_label}(u)", "")
    layout["xaxis"]["title"] = {"text": "u"}
    layout["xaxis2"]["title"] = {"text": "a"}
    layout["yaxis"]["title"] = {"text": "share of the values (%)"}
    layout.update({"shapes": shapes, "bargap": 0, "hovermode": "closest"})
    return figure(data, layout, height=380)


def init_layer_shares(p, layer: int, share_label: str) -> go.Figure:
    """The share of u in the weak region per layer (and, for ReLU, the share of units dead for the whole batch),
    the inspected layer marked."""
    layers = np.arange(1, p.depth + 1)
    data = [line(layers, 100 * p.share, share_label, _WEAK, mode="lines+markers", marker={"size": 6})]
    if p.activation == "relu":
        data.append(line(layers, 100 * p.dead_units, f"dead units: u ≤ 0 for all {p.batch} inputs", PALETTE[3],
                         mode="lines+markers", marker={"size": 6}, dash="dash"))
    layout = {
        "xaxis": {"title": {"text": "layer"}, "range": [0.5, p.depth + 0.5], "dtick": max(1, round(p.depth / 10))},
        "yaxis": {"title": {"text": "share (%)"}, "range": [-3, 103]},
        "shapes": [{"type": "line", "xref": "x", "yref": "y domain", "x0": layer, "x1": layer, "y0": 0, "y1": 1,
                    "line": {"color": NEUTRAL, "width": 2, "dash": "dot"}}],
        "showlegend": True,
    }
    return figure(data, layout, height=300)


def init_training_curves(runs: Sequence, labels: Mapping[str, str], baseline: float) -> go.Figure:
    """Training loss per step (smoothed, the raw values faint) and validation loss per epoch (diamonds), one colour
    per scheme, beside the loss of always predicting the base rate. The y range fits the runs that finished.

    Args:
        runs: core.init_training.TrainRun per scheme; baseline: the base-rate BCE.
    """
    data, top = [], 1.0
    for run in runs:
        color, name, steps, epochs = INIT_SCHEME_COLORS[run.scheme], labels[run.scheme], run.steps, run.epochs
        if len(steps):
            data.append(line(steps.step, steps.train_loss, f"{name} raw", color, run.scheme, showlegend=False, opacity=0.25,
                             hoverinfo="skip"))
            data.append(line(steps.step, steps.smoothed, f"{name}: train", color, run.scheme))
            if run.status == "done":  # a diverged run's last losses would flatten every other curve
                top = max(top, float(np.nanpercentile(steps.smoothed, 95)))
        if len(epochs):
            data.append({"type": "scatter", "mode": "markers", "x": epochs.step.to_numpy(), "y": epochs.val_loss.to_numpy(),
                         "name": f"{name}: validation", "legendgroup": run.scheme, "showlegend": False,
                         "marker": {"color": color, "size": 10, "symbol": "diamond"}})
    layout = {
        "xaxis": {"title": {"text": "optimizer step"}},
        "yaxis": {"title": {"text": "binary cross-entropy"}, "range": [0, min(top, 3.0) * 1.05]},
        "shapes": [{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": baseline, "y1": baseline,
                    "line": {"color": NEUTRAL, "width": 2, "dash": "dash"}}],
        "annotations": [{"xref": "paper", "x": 1, "y": baseline, "yanchor": "bottom", "xanchor": "right", "showarrow": False,
                         "text": f"base rate only: {baseline:.3f}", "font": {"color": NEUTRAL, "size": 13}}],
        "hovermode": "x unified",
    }
    return figure(data, layout, height=420)
