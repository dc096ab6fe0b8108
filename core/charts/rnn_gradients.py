"""Charts of the Gradients through time page. Every log axis receives values already floored by
`core.rnn_gradients.for_log_scale`: no zero, no NaN."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from core.charts.theme import FONT_SIZE, NEUTRAL, PALETTE, figure, label_margin, line

__all__ = ["rnn_gradient_flow", "rnn_radius_flow", "rnn_clipping_bars", "rnn_timing_spread"]

_MAX_TICKS = 8


def _log_axis(*arrays) -> dict:
    """A log axis with readable ticks for the data's span: 1 … 9 within one decade, 1, 2, 5 over two, otherwise
    every k-th power of ten (k = 1, 2, 5, 10, …), about _MAX_TICKS of them."""
    values = np.concatenate([np.ravel(np.asarray(a, dtype=np.float64)) for a in arrays])
    values = values[np.isfinite(values) & (values > 0)]
    if not len(values):
        return {"type": "log"}
    lo, hi = int(np.floor(np.log10(values.min()))), int(np.ceil(np.log10(values.max())))
    hi = max(hi, lo + 1)
    if hi - lo <= 2:
        ticks = [(m, e) for e in range(lo, hi + 1) for m in ((1, 2, 5) if hi - lo == 2 else range(1, 10))]
        text = [f"{m * 10.0**e:g}" if -3 <= e <= 3 else (f"{m}·" if m > 1 else "") + f"10<sup>{e}</sup>" for m, e in ticks]
    else:
        step = next(s for s in (1, 2, 5, 10, 20, 25, 50, 100) if (hi - lo) / s <= _MAX_TICKS)
        ticks = [(1, e) for e in range(lo, hi + 1) if e % step == 0]
        text = ["1" if e == 0 else f"10<sup>{e}</sup>" for _, e in ticks]
    return {"type": "log", "tickmode": "array", "tickvals": [m * 10.0**e for m, e in ticks], "ticktext": text}

_K_AXIS = "k, the time step the gradient reaches (h_T is at the right)"
_HOVER = "k = %{x}: %{y:.3g}"


def rnn_gradient_flow(k: np.ndarray, norms: Mapping[str, np.ndarray], colors: Mapping[str, str]) -> go.Figure:
    """‖∂h_T/∂h_k‖₂ against k, one line per cell, log scale.

    Args:
        k: (T+1,) 0 … T.
        norms: cell → (T+1,) values already floored for a log axis.
    """
    data = [line(k, values, cell, colors[cell], hovertemplate=_HOVER) for cell, values in norms.items()]
    layout = {"xaxis": {"title": {"text": _K_AXIS}},
              "yaxis": {**_log_axis(*norms.values()), "title": {"text": "‖∂h_T/∂h_k‖₂ (log scale)"}}}
    return figure(data, layout, height=420)


def rnn_radius_flow(k: np.ndarray, tanh: np.ndarray, linear: np.ndarray, reference: np.ndarray, radius: float,
                    color: str) -> go.Figure:
    """The simple RNN at spectral radius ρ: tanh, no activation, and the course's rate ρ^(T−k), log scale."""
    data = [
        line(k, linear, "no activation: h<sub>t</sub> = W<sub>hh</sub> h<sub>t−1</sub> + W<sub>ih</sub> x<sub>t</sub> + b", PALETTE[3], hovertemplate=_HOVER),
        line(k, tanh, "tanh (nn.RNN)", color, hovertemplate=_HOVER),
        line(k, reference, f"ρ^(T−k), ρ = {radius:g}", NEUTRAL, dash="dash", hovertemplate=_HOVER),
    ]
    layout = {"xaxis": {"title": {"text": _K_AXIS}},
              "yaxis": {**_log_axis(tanh, linear, reference), "title": {"text": "‖∂h_T/∂h_k‖₂ (log scale)"}}}
    return figure(data, layout, height=420)


def rnn_clipping_bars(names: Sequence[str], before: np.ndarray, after: np.ndarray, total: float, clipped: float,
                      theta: float, color: str) -> go.Figure:
    """Gradient norm per parameter tensor and over all of them, before and after clipping, with θ. A linear axis:
    bar lengths are the norms, so the one factor min(1, θ/‖g‖) shrinks every bar by the same share.

    Args:
        before, after: per-tensor norms already floored for a log axis; total, clipped: ‖g‖ before and after.
    """
    labels = ["all parameters ‖g‖", *names]
    data = [
        {"type": "bar", "orientation": "h", "y": labels, "x": np.r_[total, before], "name": "before clipping",
         "marker": {"color": NEUTRAL}, "hovertemplate": "%{y}: %{x:.4g}<extra>before</extra>"},
        {"type": "bar", "orientation": "h", "y": labels, "x": np.r_[clipped, after], "name": "after clip_grad_norm_",
         "marker": {"color": color}, "hovertemplate": "%{y}: %{x:.4g}<extra>after</extra>"},
    ]
    layout = {
        "barmode": "group", "hovermode": "closest",
        "xaxis": {"rangemode": "tozero", "title": {"text": "gradient norm ‖g‖₂"}},
        "yaxis": {"autorange": "reversed", "title": {"text": ""}},
        "margin": {"l": label_margin(labels, FONT_SIZE - 1)},
        "shapes": [{"type": "line", "xref": "x", "yref": "paper", "x0": theta, "x1": theta, "y0": 0, "y1": 1,
                    "line": {"color": PALETTE[5], "width": 2, "dash": "dash"}}],
        "annotations": [{"xref": "x", "yref": "paper", "x": theta, "y": 1, "yanchor": "bottom",
                         "text": f"θ = {theta:g}", "showarrow": False, "font": {"color": PALETTE[5]}}],
    }
    return figure(data, layout, height=140 + 46 * len(labels))


def rnn_timing_spread(times: Mapping[str, Sequence[float]], colors: Mapping[str, str]) -> go.Figure:
    """Milliseconds per forward + backward, one box (with every run as a point) per timed network."""
    data = [{"type": "box", "x": list(values), "name": name, "boxpoints": "all", "jitter": 0.4, "pointpos": 0,
             "marker": {"color": colors[name], "size": 7}, "line": {"color": colors[name]},
             "hovertemplate": "%{x:.2f} ms<extra>" + name + "</extra>"} for name, values in times.items()]
    layout = {"hovermode": "closest", "showlegend": False, "yaxis": {"autorange": "reversed"},
              "xaxis": {"title": {"text": "milliseconds per forward + backward"}, "rangemode": "tozero"}}
    return figure(data, layout, height=120 + 55 * len(data))
