"""Charts of the Multi-input & multi-output page: the MultiInputNet's shape flow, the glyphs, and the curves of the
two-head runs. Heads keep one colour on every chart; weighting schemes another set; runs of the loss-scale study
differ by dash (plain sum solid, normalized dashed)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go

from core.charts.theme import FONT_SIZE, INK_ON_LIGHT, LINE_WIDTH, NEUTRAL, PALETTE, figure, line, side_by_side, tint

if TYPE_CHECKING:  # annotations only: core.multi_io imports torchmetrics (and torchvision, torch._dynamo: about 1 s),
    from core.multi_io import MultiInputView, Run  # which loading every figure builder should not pay for

__all__ = ["multi_input_flow", "glyph_gallery", "head_curves", "weighting_accuracy", "weighting_state", "learned_sigma",
           "loss_scales"]

HEAD_COLORS = {"alphabet": PALETTE[0], "character": PALETTE[1], "ink": PALETTE[2]}
SCHEME_COLORS = {"fixed": PALETTE[6], "uncertainty": PALETTE[5], "normalized": PALETTE[4]}
_BRANCH = {"image": PALETTE[0], "aux": PALETTE[1], "joint": PALETTE[2]}
_ERROR = PALETTE[5]
_INK = [[0.0, "#FFFFFF"], [1.0, "#1A1A1A"]]



def _shape(shape: Sequence[int]) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ")"


def _flow_text(view: MultiInputView) -> dict[str, tuple[str, str]]:
    """(layer, detail) written in each box of the shape flow."""
    conv, flat, z_image, aux, logits = (view.stage(n) for n in ("conv", "flatten", "z_image", "aux_linear", "logits"))
    c_in, f = view.stage("x_image").formula[1], conv.formula[1]
    side = view.stage("pool").formula[-1]
    return {
        "x_image": ("image x", "input"), "conv": ("Conv2d 3×3, pad 1", f"{c_in} → {f} channels"),
        "elu": ("MaxPool2d(2), ELU", "halves H and W"), "flatten": ("Flatten", f"{f}·{side}·{side} = {flat.formula[-1]}"),
        "z_image": ("Linear", f"{flat.formula[-1]} → {z_image.formula[-1]}"), "x_aux": ("auxiliary x", "input"),
        "z_aux": ("Linear + ELU", f"{view.stage('x_aux').formula[-1]} → {aux.formula[-1]}"),
        "z_combined": ("torch.cat(dim=1)", f"{z_image.formula[-1]} + {aux.formula[-1]}"),
        "logits": ("classifier Linear", f"{view.classifier_in} → {view.num_classes}"),
    }


def multi_input_flow(view: MultiInputView) -> go.Figure:
    """The MultiInputNet as boxes: the image branch on top, the auxiliary branch below, their concatenation and the
    classifier on the right. Each box names its layer and the tensor shape the forward pass produced; a classifier
    whose in_features does not fit is drawn in red with the value that would."""
    cols = {"x_image": 0, "conv": 1, "elu": 2, "flatten": 3, "z_image": 4, "x_aux": 0, "z_aux": 4, "z_combined": 5, "logits": 6}
    rows = {"image": 3.0, "aux": 1.0, "joint": 2.0}
    words = _flow_text(view)
    width, gap, half = 100 / 7, 0.7, 0.62
    shapes, arrows, text, hover, xs, ys = [], [], [], [], [], []
    centre = {}
    for s in view.stages:
        if s.name not in cols:
            continue
        x, y = (cols[s.name] + 0.5) * width, rows[s.branch]
        centre[s.name] = (x, y)
        broken = s.name == "logits" and not view.fits
        color = _ERROR if broken else _BRANCH[s.branch]
        shapes.append({"type": "rect", "x0": x - width / 2 + gap, "x1": x + width / 2 - gap, "y0": y - half, "y1": y + half,
                       "line": {"color": color, "width": 2.5, "dash": "dash" if broken else "solid"},
                       "fillcolor": tint(color, 0.14), "layer": "below"})
        layer, detail = words[s.name]
        shape = f"✗ needs {view.concat_width} → {view.num_classes}" if broken else _shape(s.actual if s.actual is not None else s.formula)
        if s.name in ("z_image", "z_aux", "z_combined"):
            shape = f"{s.name} {shape}"
        text.append(f"<b>{layer}</b><br>{detail}<br><b>{shape}</b>" if broken else f"<b>{layer}</b><br>{detail}<br>{shape}")
        hover.append(f"{layer} ({detail}): {shape}")
        xs.append(x)
        ys.append(y)
    chain = [("x_image", "conv"), ("conv", "elu"), ("elu", "flatten"), ("flatten", "z_image"), ("x_aux", "z_aux"),
             ("z_image", "z_combined"), ("z_aux", "z_combined"), ("z_combined", "logits")]
    for a, b in chain:
        (x0, y0), (x1, y1) = centre[a], centre[b]
        arrows.append({"x": x1 - width / 2 + gap, "y": y1 + (y0 - y1) * 0.3, "ax": x0 + width / 2 - gap, "ay": y0,
                       "xref": "x", "yref": "y", "axref": "x", "ayref": "y", "text": "", "showarrow": True,
                       "arrowhead": 2, "arrowsize": 1.1, "arrowwidth": 2.2, "arrowcolor": NEUTRAL})
    data = [{"type": "scatter", "mode": "text", "x": xs, "y": ys, "text": text,
             "textfont": {"size": FONT_SIZE - 2, "color": INK_ON_LIGHT},  # on tinted, opaque boxes: light and dark themes
             "hovertext": hover, "hoverinfo": "text", "showlegend": False}]
    hidden = {"visible": False, "fixedrange": True, "showgrid": False, "zeroline": False}
    layout = {"xaxis": {**hidden, "range": [0, 100]}, "yaxis": {**hidden, "range": [0.3, 3.7]}, "shapes": shapes,
              "annotations": arrows, "margin": {"l": 0, "r": 0, "t": 10, "b": 0}, "hovermode": "closest"}
    return figure(data, layout, height=370)


def glyph_gallery(images: np.ndarray, names: Sequence[str], alphabets: Sequence[str]) -> go.Figure:
    """One glyph per character, a row per alphabet, its character label above it (the two labels of the data).

    Args:
        images: (n_alphabets · per_row, S, S) pictures, alphabet by alphabet.
    """
    per_row = len(images) // len(alphabets)
    s = images.shape[-1]
    pad = 7
    tiled = np.full((len(alphabets) * (s + pad), per_row * (s + pad)), np.nan)
    notes = []
    for i, img in enumerate(images):
        r, c = divmod(i, per_row)
        tiled[r * (s + pad) + pad : (r + 1) * (s + pad), c * (s + pad) + pad // 2 : c * (s + pad) + pad // 2 + s] = img
        notes.append({"x": c * (s + pad) + pad // 2 + s / 2 - 0.5, "y": r * (s + pad) + pad / 2 - 0.5, "yanchor": "middle", "text": f"<b>{names[i]}</b>",
                      "showarrow": False, "font": {"size": FONT_SIZE}, "xref": "x", "yref": "y"})
    data = [{"type": "heatmap", "z": tiled, "colorscale": _INK, "zmin": -0.2, "zmax": 1.1, "showscale": False,
             "hoverinfo": "skip"}]
    layout = {"xaxis": {"visible": False, "fixedrange": True, "scaleanchor": "y", "constrain": "domain"},
              "yaxis": {"autorange": "reversed", "fixedrange": True, "showgrid": False, "zeroline": False,
                        "tickvals": [r * (s + pad) + pad + s / 2 for r in range(len(alphabets))], "ticktext": list(alphabets),
                        "title": {"text": "alphabet"}},
              "annotations": notes, "margin": {"l": 56, "r": 10, "t": 10, "b": 10}, "hovermode": False}
    return figure(data, layout, height=330)


def _pct(values) -> np.ndarray:
    return 100 * np.asarray(values, dtype=float)


def head_curves(run: Run) -> go.Figure:
    """Left: each head's own loss L_k per training step (before any weighting) and on the validation set per epoch.
    Right: each head's validation accuracy per epoch (epoch 0 is the untrained net). Also drawn, redrawn a few times a
    second, for a run still training (Progress.run)."""
    data = []
    steps_per_epoch = max(1, int((run.steps.epoch == 1).sum()))  # ◆ at the end of its epoch, also while a run trains
    for h in run.heads:
        color = HEAD_COLORS[h]
        if len(run.steps):
            data.append(line(run.steps.step, run.steps[f"loss_{h}"], f"{h}: training loss", color, h, opacity=0.8))
        e = run.epochs
        data.append({"type": "scatter", "mode": "markers", "x": e.epoch.to_numpy() * steps_per_epoch, "y": e[f"val_loss_{h}"].to_numpy(),
                     "name": f"{h}: validation loss", "legendgroup": h, "showlegend": False,
                     "marker": {"color": color, "size": 10, "symbol": "diamond", "line": {"width": 1, "color": "white"}}})
        data.append(line(e.epoch, _pct(e[f"metric_{h}"]), f"{h}: validation accuracy", color, h, mode="lines+markers",
                         xaxis="x2", yaxis="y2", showlegend=False))
    layout = side_by_side("each head's loss (◆ validation)", "each head's validation accuracy", "")
    layout["xaxis"]["title"] = {"text": "training step"}
    layout["xaxis2"]["title"] = {"text": "epoch"}
    layout["yaxis"]["title"] = {"text": "loss L_k"}
    layout["yaxis"]["rangemode"] = "tozero"
    layout["yaxis2"]["title"] = {"text": "accuracy (%)"}
    layout["yaxis2"]["range"] = [0, 100]
    layout["hovermode"] = "closest"
    return figure(data, layout, height=420)


def weighting_accuracy(runs: Mapping[str, Run], labels: Mapping[str, str], selected: str) -> go.Figure:
    """The three weighting schemes' runs overlaid: validation accuracy per epoch, one panel per head. The selected
    scheme is drawn thicker."""
    data = []
    heads = next(iter(runs.values())).heads
    for scheme, run in runs.items():
        color = SCHEME_COLORS[scheme]
        width = LINE_WIDTH + 1.5 if scheme == selected else LINE_WIDTH - 1
        for i, h in enumerate(heads):
            axes = {} if i == 0 else {"xaxis": "x2", "yaxis": "y2"}
            trace = line(run.epochs.epoch, _pct(run.epochs[f"metric_{h}"]), labels[scheme], color, scheme, mode="lines+markers",
                         showlegend=i == 0, **axes)
            trace["line"]["width"] = width
            data.append(trace)
    layout = side_by_side(f"{heads[0]} head", f"{heads[1]} head", "epoch")
    for axis in ("yaxis", "yaxis2"):
        layout[axis]["title"] = {"text": "validation accuracy (%)"}
        layout[axis]["range"] = [0, 100]
    layout["hovermode"] = "closest"
    return figure(data, layout, height=400)


def weighting_state(uncertainty: Run, normalized: Run) -> go.Figure:
    """Left: σ_k the uncertainty run learned, per step (its weight on L_k is 1/(2σ_k²)). Right: EMA_k of each loss in
    the normalized run (its weight on L_k is 1/EMA_k)."""
    data = []
    for i, (run, label) in enumerate(((uncertainty, "σ"), (normalized, "EMA"))):
        axes = {} if i == 0 else {"xaxis": "x2", "yaxis": "y2"}
        for h in run.heads:
            data.append(line(run.steps.step, run.steps[f"state_{h}"], f"{h}", HEAD_COLORS[h], h, showlegend=i == 0, **axes))
    layout = side_by_side("uncertainty: learned σ_k", "normalization: EMA of each loss", "training step")
    layout["yaxis"]["title"] = {"text": "σ_k = exp(s_k / 2)"}
    layout["yaxis2"]["title"] = {"text": "EMA(L_k)"}
    layout["yaxis2"]["rangemode"] = "tozero"
    return figure(data, layout, height=380)


def learned_sigma(run: Run) -> go.Figure:
    """σ_k the uncertainty run has learned so far, per step (its weight on L_k is 1/(2σ_k²)), with σ = 1 (the start)
    as a grey reference line: the chart drawn while the uncertainty run trains."""
    data = []
    for h in run.heads:
        sigma = run.steps[f"state_{h}"].to_numpy(dtype=float)
        data.append(line(run.steps.step, sigma, f"σ_{h}", HEAD_COLORS[h], h, customdata=0.5 / sigma**2,
                         hovertemplate=f"σ_{h} = %{{y:.4f}}<br>weight 1/(2σ²) = %{{customdata:.4f}}<extra>step %{{x}}</extra>"))
    layout = {"xaxis": {"title": {"text": "training step"}}, "yaxis": {"title": {"text": "σ_k = exp(s_k / 2)"}},
              "shapes": [{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": "y", "y0": 1, "y1": 1,
                          "line": {"color": NEUTRAL, "width": 1, "dash": "dot"}}],
              "hovermode": "closest"}
    return figure(data, layout, height=300)


def loss_scales(plain: Run | None, normalized: Run | None, labels: Mapping[str, str]) -> go.Figure:
    """Left: each head's raw loss per step (log scale) in both runs. Right: what each head adds to the total that is
    differentiated: L_k itself in the plain sum, L_k / EMA(L_k) with normalization. A run not trained yet (None) is
    left out."""
    data = []
    for run, dash in ((plain, "solid"), (normalized, "dash")):
        if run is None:
            continue
        for h in run.heads:
            name = f"{h}, {labels[run.scheme]}"
            data.append(line(run.steps.step, run.steps[f"loss_{h}"], name, HEAD_COLORS[h], name, dash=dash))
            data.append(line(run.steps.step, run.steps[f"term_{h}"], name, HEAD_COLORS[h], name, dash=dash, showlegend=False,
                             xaxis="x2", yaxis="y2"))
    layout = side_by_side("raw loss of each head", "its term in the total loss", "training step")
    layout["yaxis"]["type"] = "log"
    layout["yaxis"]["title"] = {"text": "L_k (log scale)"}
    layout["yaxis2"]["type"] = "log"
    layout["yaxis2"]["title"] = {"text": "term (log scale)"}
    return figure(data, layout, height=420)
