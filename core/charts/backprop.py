"""Charts of the Backpropagation page: the forward pass and the error signals as columns of cells (one column
per sample, one row per unit), the losses as functions of the prediction, gradients by hand beside autograd,
and a layer's weights and .grad while the loop is pressed one call at a time."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from core.backprop import sup as _sup
from core.charts.theme import FONT_SIZE, NEUTRAL, PALETTE, figure, label_margin, line, side_by_side

__all__ = ["forward_pass_maps", "error_signal_maps", "loss_of_prediction", "hand_vs_autograd_grads",
           "loop_layer_state", "grad_norm_by_press"]

_DIVERGING = [[0, PALETTE[0]], [0.5, "rgba(240,240,240,0.6)"], [1, PALETTE[5]]]
_Y_COLORS = {0: PALETTE[0], 1: PALETTE[1], 2: PALETTE[2]}  # target y = 0, 1 (or class 2): one colour on every chart


def _bound(*arrays: np.ndarray) -> float:
    return max(max(float(np.abs(a).max()) if a.size else 0.0 for a in arrays), 1e-12)


def _columns(panels: Sequence[dict], first_rows: Sequence[str], samples: Sequence[str]) -> go.Figure:
    """Heatmaps side by side, one per panel (title, z of shape (n, B)); every cell has the same size, so a
    layer's height is its width n. Cell text is shown while there is room for it."""
    k, rows = len(panels), max(p["z"].shape[0] for p in panels)
    gap = 0.045  # room for the next panel's unit numbers (1, 2, …), also at a projector's type size
    width = (1 - gap * (k - 1)) / k
    n_cols = panels[0]["z"].shape[1]
    text = n_cols <= 2
    cell = 22 if rows <= 16 else 17
    data, layout = [], {"annotations": [], "hovermode": "closest",
                        "margin": {"l": label_margin(first_rows, 11), "t": 70, "b": 48}}
    for i, p in enumerate(panels):
        suffix = "" if i == 0 else str(i + 1)
        z = np.asarray(p["z"], dtype=np.float64)
        bound = p.get("bound") or _bound(z)
        trace = {"type": "heatmap", "z": z, "x": list(samples), "y": list(range(z.shape[0])), "zmin": -bound, "zmax": bound,
                 "colorscale": _DIVERGING, "showscale": False, "xgap": 1, "ygap": 1, "xaxis": f"x{suffix}",
                 "yaxis": f"y{suffix}", "hovertemplate": f"{p['title']}, unit %{{y}}, %{{x}}: %{{z:.4g}}<extra></extra>"}
        if text:
            trace |= {"texttemplate": "%{z:.2g}", "textfont": {"size": 11 if rows > 16 else 13}}
        data.append(trace)
        x0 = i * (width + gap)
        layout[f"xaxis{suffix}"] = {"domain": [x0, x0 + width], "anchor": f"y{suffix}", "showticklabels": n_cols > 1,
                                    "tickfont": {"size": 11}, "title": {"text": ""}}
        ticks = list(first_rows) if i == 0 else [str(j + 1) for j in range(z.shape[0])]
        layout[f"yaxis{suffix}"] = {"anchor": f"x{suffix}", "range": [rows - 0.5, -0.5], "tickvals": list(range(z.shape[0])),
                                    "ticktext": ticks, "tickfont": {"size": 11 if i == 0 else 10}, "showgrid": False,
                                    "zeroline": False}
        layout["annotations"].append({"xref": "paper", "yref": "paper", "x": x0 + width / 2, "y": 1.0, "yanchor": "bottom",
                                      "xanchor": "center", "showarrow": False, "font": {"size": FONT_SIZE - 2},
                                      "text": f"{p['title']}<br><span style='font-size:13px'>{p['shape']}</span>"})
    return figure(data, layout, height=max(300, 110 + cell * rows))


def _shape(a: np.ndarray) -> str:
    return "×".join(str(s) for s in a.shape)


def forward_pass_maps(zs: Sequence[np.ndarray], acts: Sequence[np.ndarray], features: Sequence[str], samples: Sequence[str],
                      output: str) -> go.Figure:
    """x = a⁽⁰⁾, then z⁽ˡ⁾ and a⁽ˡ⁾ for l = 1..3, each (n_l, B); z and a of a layer share one colour scale.

    Args:
        zs: [z⁽¹⁾, z⁽²⁾, z⁽³⁾]. acts: [a⁽⁰⁾, …, a⁽³⁾]. features: names of x's rows. samples: column labels.
        output: the last activation's name ("σ" or "softmax").
    """
    panels = [{"title": "x = a⁽⁰⁾", "shape": _shape(acts[0]), "z": acts[0]}]
    for l, z in enumerate(zs, start=1):
        bound = _bound(z, acts[l])
        act = "ReLU" if l < len(zs) else output
        panels += [{"title": f"z{_sup(l)}", "shape": _shape(z), "z": z, "bound": bound},
                   {"title": f"a{_sup(l)} = {act}(z{_sup(l)})", "shape": _shape(acts[l]), "z": acts[l], "bound": bound}]
    return _columns(panels, features, samples)


def error_signal_maps(deltas: Sequence[np.ndarray], backs: Sequence[np.ndarray], zs: Sequence[np.ndarray],
                      samples: Sequence[str]) -> go.Figure:
    """The recursion from the output back: δ⁽³⁾, then (W⁽ˡ⁺¹⁾)ᵀδ⁽ˡ⁺¹⁾, σ′(z⁽ˡ⁾) = 1[z > 0] and their product δ⁽ˡ⁾."""
    top = len(deltas)
    panels = [{"title": f"δ{_sup(top)}", "shape": _shape(deltas[-1]), "z": deltas[-1]}]
    for l in range(top - 1, 0, -1):
        bound = _bound(backs[l - 1], deltas[l - 1])
        mask = (np.asarray(zs[l - 1]) > 0).astype(np.float64)
        panels += [{"title": f"(W{_sup(l + 1)})ᵀδ{_sup(l + 1)}", "shape": _shape(backs[l - 1]), "z": backs[l - 1], "bound": bound},
                   {"title": f"σ′(z{_sup(l)})", "shape": _shape(mask), "z": mask, "bound": 1.0},
                   {"title": f"δ{_sup(l)}", "shape": _shape(deltas[l - 1]), "z": deltas[l - 1], "bound": bound}]
    return _columns(panels, [str(j + 1) for j in range(deltas[-1].shape[0])], samples)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def loss_of_prediction(loss: str, y: Sequence[int], y_hat: Sequence[float], z_out: Sequence[float], losses: Sequence[float],
                       deltas: Sequence[float], multiclass: bool) -> go.Figure:
    """Left: ℓ as a function of the prediction, for each target. Right: the output error signal δ = ∂ℓ/∂z.
    The batch's samples are marked on the chosen loss.

    Args:
        loss: the chosen loss's name. y: each sample's target (class). y_hat: ŷ (binary) or ŷ_c (multi-class), per
        sample. z_out: z⁽³⁾ per sample (binary) or ignored. losses: each sample's ℓ. deltas: each sample's
        per-sample δ (∂ℓ/∂z⁽³⁾, or ŷ_c − 1 for cross-entropy).
    """
    p = np.linspace(0.002, 0.998, 300)
    z = np.linspace(-8, 8, 321)
    data = []
    if multiclass:
        data += [line(p, -np.log(p), "cross-entropy −log ŷ_c", PALETTE[2], "ce"),
                 line(p, p - 1, "δ_c = ŷ_c − 1", PALETTE[2], "ce", xaxis="x2", yaxis="y2", showlegend=False)]
        right_x, marks_x = "ŷ_c, the probability of the true class", np.asarray(y_hat)
        left_x = right_x
    else:
        for target in (0, 1):
            c = _Y_COLORS[target]
            for name, curve, slope in (("BCE", -np.log(np.where(target, p, 1 - p)), _sigmoid(z) - target),
                                       ("MSE", (p - target) ** 2, 2 * (_sigmoid(z) - target) * _sigmoid(z) * (1 - _sigmoid(z)))):
                chosen = name == loss
                style = {"width": 3 if chosen else 2, "dash": "solid" if chosen else "dot"}
                data.append(line(p, curve, f"{name}, y = {target}", c, f"{name}{target}", opacity=1 if chosen else 0.6)
                            | {"line": {"color": c, **style}})
                data.append(line(z, slope, f"{name}, y = {target}", c, f"{name}{target}", opacity=1 if chosen else 0.6,
                                 xaxis="x2", yaxis="y2", showlegend=False) | {"line": {"color": c, **style}})
        left_x, right_x, marks_x = "prediction ŷ = σ(z⁽³⁾)", "logit z⁽³⁾", np.asarray(z_out)
    colors = [_Y_COLORS.get(int(t), NEUTRAL) if not multiclass else PALETTE[2] for t in y]
    marker = {"size": 14, "color": colors, "line": {"color": "#333333", "width": 2}}
    data += [
        {"type": "scatter", "mode": "markers", "x": np.asarray(y_hat), "y": np.asarray(losses), "marker": marker,
         "name": "this batch", "hovertemplate": "ŷ = %{x:.4f}, ℓ = %{y:.4f}<extra></extra>"},
        {"type": "scatter", "mode": "markers", "x": marks_x, "y": np.asarray(deltas), "marker": marker, "xaxis": "x2",
         "yaxis": "y2", "showlegend": False, "hovertemplate": "%{x:.4f}: δ = %{y:.4f}<extra></extra>"},
    ]
    layout = side_by_side(f"per-sample loss ℓ ({loss})", "output error signal δ = ∂ℓ/∂z⁽³⁾ per sample", left_x)
    for note in layout["annotations"]:
        note["font"] = {"size": FONT_SIZE - 1}
    layout["xaxis2"]["title"] = {"text": right_x}
    layout["yaxis"] |= {"title": {"text": "ℓ"}, "range": [0, 4.6]}
    layout["yaxis2"] |= {"title": {"text": "δ"}, "range": [-1.1, 1.1], "zeroline": True}
    layout["legend"] = {"orientation": "h", "yanchor": "bottom", "y": 1.12, "xanchor": "left", "x": 0}
    layout["margin"] = {"l": 70, "t": 90}  # ℓ's axis is fixed at 0..4.6: short labels
    layout["hovermode"] = "closest"
    return figure(data, layout, height=430)


def _with_bias(w: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
    return None if w is None or b is None else np.column_stack([w, b])


def _matrix_pair(left: np.ndarray | None, right: np.ndarray | None, titles: tuple[str, str], inputs: int, shared: bool,
                 none_note: str = "") -> go.Figure:
    """Two (n_l, n_{l−1} + 1) matrices [W | b] side by side; `None` leaves its panel empty with a note."""
    cols = [f"{j + 1}" for j in range(inputs)] + ["b"]
    arrays = [a for a in (left, right) if a is not None]
    common = _bound(*arrays) if arrays else 1.0
    layout = side_by_side(titles[0], titles[1], "input unit j (b = bias)")
    rows = max(a.shape[0] for a in arrays) if arrays else 1
    data = []
    for i, m in enumerate((left, right)):
        suffix = "" if i == 0 else "2"
        layout[f"yaxis{suffix}"] |= {"autorange": "reversed", "title": {"text": "unit i" if i == 0 else ""}, "showgrid": False,
                                     "type": "category"}
        layout[f"xaxis{suffix}"] |= {"type": "category", "showgrid": False}
        if m is None:
            middle = sum(layout[f"xaxis{suffix}"]["domain"]) / 2
            layout["annotations"].append({"xref": "paper", "yref": "paper", "x": middle, "y": 0.5, "showarrow": False,
                                          "text": none_note, "font": {"size": FONT_SIZE + 4, "color": NEUTRAL}})
            layout[f"xaxis{suffix}"] |= {"visible": False}
            layout[f"yaxis{suffix}"] |= {"visible": False}
            continue
        bound = common if shared else _bound(m)
        trace = {"type": "heatmap", "z": m, "x": cols, "y": [str(r + 1) for r in range(m.shape[0])], "zmin": -bound,
                 "zmax": bound, "colorscale": _DIVERGING, "showscale": False, "xgap": 1, "ygap": 1,
                 "xaxis": f"x{suffix}", "yaxis": f"y{suffix}", "hovertemplate": "i = %{y}, j = %{x}: %{z:.6g}<extra></extra>"}
        if m.shape[1] <= 10 and m.size <= 200:  # room for the numbers in the cells; otherwise they are in the hover
            trace |= {"texttemplate": "%{z:.2g}", "textfont": {"size": 12}}
        data.append(trace)
    layout["hovermode"] = "closest"
    layout["margin"] = {"t": 60, "b": 80}
    return figure(data, layout, height=max(260, 130 + (22 if rows <= 16 else 16) * rows))


def hand_vs_autograd_grads(hand_w: np.ndarray, hand_b: np.ndarray, torch_w: np.ndarray, torch_b: np.ndarray, l: int,
                           layer: str) -> go.Figure:
    """[∂L/∂W⁽ˡ⁾ | ∂L/∂b⁽ˡ⁾] by the course's formulas beside [weight.grad | bias.grad] from autograd, one colour scale."""
    return _matrix_pair(_with_bias(hand_w, hand_b), _with_bias(torch_w, torch_b),
                        (f"by hand: δ{_sup(l)}(a{_sup(l - 1)})ᵀ  |  δ{_sup(l)}", f"autograd: {layer}.weight.grad  |  {layer}.bias.grad"),
                        hand_w.shape[1], shared=True)


def loop_layer_state(weight: np.ndarray, bias: np.ndarray, weight_grad: np.ndarray | None, bias_grad: np.ndarray | None,
                     layer: str) -> go.Figure:
    """The watched layer's [weight | bias] and [weight.grad | bias.grad] right now, each on its own colour scale."""
    return _matrix_pair(_with_bias(weight, bias), _with_bias(weight_grad, bias_grad),
                        (f"{layer}.weight  |  {layer}.bias", f"{layer}.weight.grad  |  {layer}.bias.grad"), weight.shape[1],
                        shared=False, none_note=".grad is None")


def grad_norm_by_press(numbers: Sequence[int], actions: Sequence[str], norms: Sequence[float | None], passes: Sequence[int],
                       layer: str) -> go.Figure:
    """‖weight.grad‖ of the watched layer after each press; presses that leave .grad None are marked "None"."""
    labels = [f"{n} {a}" for n, a in zip(numbers, actions)]
    heights = [0.0 if g is None else g for g in norms]
    text = ["None" if g is None else (f"{g:.3g}" + (f"<br>{k} passes" if k > 1 else "")) for g, k in zip(norms, passes)]
    colors = [NEUTRAL if g is None else (PALETTE[5] if k > 1 else PALETTE[0]) for g, k in zip(norms, passes)]
    data = [{"type": "bar", "x": labels, "y": heights, "text": text, "textposition": "outside", "cliponaxis": False,
             "marker": {"color": colors}, "name": "‖.grad‖", "showlegend": False,
             "hovertemplate": "%{x}: ‖grad‖ = %{y:.6g}<extra></extra>"}]
    top = max(heights) if any(heights) else 1.0
    layout = {"xaxis": {"title": {"text": "press"}, "type": "category", "tickangle": -45 if len(labels) > 8 else 0},
              "yaxis": {"title": {"text": f"‖{layer}.weight.grad‖"}, "range": [0, top * 1.3]}, "hovermode": "closest"}
    return figure(data, layout, height=330)
