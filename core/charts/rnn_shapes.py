"""Diagrams of the RNN shapes page: tensors as labelled boxes joined by arrows.

Every label is a text point of one scatter trace (so hovering a box shows the same text, and the chart
carries data); boxes are layout shapes, arrows are annotations. Axes are hidden and fixed.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go

from core.charts.theme import FONT_SIZE, NEUTRAL, PALETTE, figure, rgba

__all__ = ["rnn_shape_flow", "rnn_last_state_map", "rnn_architectures"]

_INPUT, _STATE, _CELL = PALETTE[0], PALETTE[1], PALETTE[2]
_BACKWARD = PALETTE[5]



def _box(x0: float, y0: float, x1: float, y1: float, color: str, axis: str = "", dash: str = "solid", fill: float = 0.12) -> dict[str, Any]:
    return {"type": "rect", "xref": f"x{axis}", "yref": f"y{axis}", "x0": x0, "y0": y0, "x1": x1, "y1": y1,
            "line": {"color": color, "width": 2.5, "dash": dash}, "fillcolor": rgba(color, fill), "layer": "below"}


def _arrow(x0: float, y0: float, x1: float, y1: float, color: str, axis: str = "", width: float = 2.5) -> dict[str, Any]:
    """An arrow from (x0, y0) to (x1, y1), in data coordinates of axes `axis`."""
    return {"x": x1, "y": y1, "ax": x0, "ay": y0, "xref": f"x{axis}", "yref": f"y{axis}", "axref": f"x{axis}",
            "ayref": f"y{axis}", "text": "", "showarrow": True, "arrowhead": 2, "arrowsize": 1.1,
            "arrowwidth": width, "arrowcolor": color}


class _Labels:
    """Text points collected into one scatter trace per axes."""

    def __init__(self) -> None:
        self.points: dict[str, list[tuple[float, float, str, str, int, str]]] = {}

    def add(self, x: float, y: float, text: str, color: str = "", axis: str = "", size: int = FONT_SIZE,
            position: str = "middle center") -> None:
        self.points.setdefault(axis, []).append((x, y, text, color, size, position))

    def traces(self) -> list[dict[str, Any]]:
        """One trace per axes and colour; uncoloured text takes the theme's font colour (light or dark)."""
        groups: dict[tuple[str, str], list[tuple[float, float, str, int, str]]] = {}
        for axis, pts in self.points.items():
            for x, y, text, color, size, position in pts:
                groups.setdefault((axis, color), []).append((x, y, text, size, position))
        out = []
        for (axis, color), pts in groups.items():
            x, y, text, size, position = zip(*pts)
            font = {"size": list(size), **({"color": color} if color else {})}
            out.append({"type": "scatter", "mode": "text", "x": list(x), "y": list(y), "text": list(text),
                        "textfont": font, "textposition": list(position), "hoverinfo": "text", "hovertext": [t.replace("<br>", " ") for t in text],
                        "showlegend": False, "xaxis": f"x{axis}", "yaxis": f"y{axis}"})
        return out


def _hidden_axes(x_range: Sequence[float], y_range: Sequence[float], axis: str = "", domain: Mapping[str, Any] | None = None) -> dict[str, Any]:
    common = {"visible": False, "fixedrange": True, "showgrid": False, "zeroline": False}
    x = {**common, "range": list(x_range), **({"domain": domain["x"], "anchor": f"y{axis}"} if domain else {})}
    y = {**common, "range": list(y_range), **({"domain": domain["y"], "anchor": f"x{axis}"} if domain else {})}
    return {f"xaxis{axis}": x, f"yaxis{axis}": y}


def rnn_shape_flow(module_text: str, inputs: Sequence[tuple[str, str, str]], outputs: Sequence[tuple[str, str, str]]) -> go.Figure:
    """Inputs → module → outputs, each tensor a box with its name, its shape in symbols and in numbers.

    Args:
        module_text: the module's constructor, lines joined with <br>.
        inputs, outputs: (name, symbolic shape, numeric shape) per tensor, top to bottom; the first of
            each is the sequence (blue), the others are states (orange h, green c).
    """
    labels, shapes, arrows = _Labels(), [], []
    rows = max(len(inputs), len(outputs))
    top = 3.0 * rows

    def y_of(i: int, n: int) -> float:
        return top - (i + 0.5) * top / n

    colors = [_INPUT, _STATE, _CELL]
    for side, items, x in (("in", inputs, 17.0), ("out", outputs, 83.0)):
        for i, (name, symbols, numbers) in enumerate(items):
            y, color = y_of(i, len(items)), colors[min(i, 2)]
            shapes.append(_box(x - 16, y - 1.15, x + 16, y + 1.15, color))
            labels.add(x, y, f"<b>{name}</b>   {symbols}<br>{numbers}", color)
            arrows.append(_arrow(34, y, 36.5, top / 2, color) if side == "in" else _arrow(63.5, top / 2, 66.5, y, color))
    shapes.append(_box(36.5, 0.3, 63.5, top - 0.3, NEUTRAL, fill=0.08))
    labels.add(50, top / 2, module_text)
    layout = {**_hidden_axes((0, 100), (0, top)), "shapes": shapes, "annotations": arrows,
              "margin": {"l": 0, "r": 0, "t": 10, "b": 0}, "hovermode": "closest"}
    return figure(labels.traces(), layout, height=max(300, 115 * rows))


def rnn_last_state_map(
    steps: Sequence[str], rows: Sequence[str], states: Sequence[str], bidirectional: bool,
    forward_note: str, backward_note: str | None, mismatch_note: str | None,
) -> go.Figure:
    """Where the final states sit: the top layer's output as cells over time (one row per direction) and
    h_n as a stack of (N, H) states, with connectors from the cells that equal h_n's last entries.

    Args:
        steps: time-step labels of the cells shown, left to right (an "…" entry draws a gap).
        rows: the output row labels, forward first (and backward).
        states: h_n entry labels, h_n[0] first.
        forward_note / backward_note: the connector labels; mismatch_note marks out[:, -1, H:].
    """
    labels, shapes, notes = _Labels(), [], []
    n_states, cells = len(states), len(steps)
    hn_x = cells + 4.2
    y_state = {i: (n_states - 1 - i) * 0.8 for i in range(n_states)}  # h_n[0] on top
    fwd_y = y_state[n_states - (2 if bidirectional else 1)]
    bwd_y = y_state[n_states - 1]
    for i, text in enumerate(states):
        last = i >= n_states - (2 if bidirectional else 1)
        color = (_BACKWARD if bidirectional and i == n_states - 1 else _STATE) if last else NEUTRAL
        shapes.append(_box(hn_x - 1.7, y_state[i] - 0.32, hn_x + 1.7, y_state[i] + 0.32, color, fill=0.15 if last else 0.05))
        labels.add(hn_x, y_state[i], text, color if last else NEUTRAL)
    labels.add(hn_x, y_state[0] + 0.6, "<b>h_n</b>")
    for r, (text, y, color) in enumerate(zip(rows, (fwd_y, bwd_y), (_INPUT, _BACKWARD))):
        labels.add(-0.1, y, text, color, size=FONT_SIZE - 1, position="middle left")
        for c, step in enumerate(steps):
            if step == "…":
                labels.add(c + 0.5, y, "…", NEUTRAL)
                continue
            dashed = r == 1 and c == cells - 1
            shapes.append(_box(c + 0.1, y - 0.32, c + 0.9, y + 0.32, color, dash="dot" if dashed else "solid", fill=0.15))
            if r == 0:
                labels.add(c + 0.5, fwd_y + 0.55, step, NEUTRAL, size=FONT_SIZE - 2)
    labels.add(cells / 2, fwd_y + 0.95, "<b>output</b>, top layer, one cell per time step")
    notes.append(_arrow(cells - 0.08, fwd_y, hn_x - 1.75, fwd_y, _INPUT))
    labels.add((cells + hn_x - 1.7) / 2, fwd_y + 0.22, forward_note, _INPUT, size=FONT_SIZE - 2)
    low = bwd_y - 0.85
    if bidirectional:
        shapes.append({"type": "path", "xref": "x", "yref": "y", "path": f"M 0.5 {bwd_y - 0.32} L 0.5 {low} L {hn_x} {low} L {hn_x} {bwd_y - 0.38}",
                       "line": {"color": _BACKWARD, "width": 2.5}})
        labels.add((hn_x + 0.5) / 2, low - 0.3, backward_note or "", _BACKWARD, size=FONT_SIZE - 2)
        if mismatch_note:
            labels.add(cells - 0.5, bwd_y + 0.02, "≠", _BACKWARD, size=FONT_SIZE + 6)
            labels.add(cells - 0.5, low + 0.25, mismatch_note, _BACKWARD, size=FONT_SIZE - 3)
    y_min = low - 0.6 if bidirectional else bwd_y - 0.6
    y_max = max(y_state[0] + 0.9, fwd_y + 1.25)
    layout = {**_hidden_axes((-3.4, hn_x + 1.8), (y_min, y_max)), "shapes": shapes, "annotations": notes,
              "margin": {"l": 0, "r": 0, "t": 10, "b": 0}, "hovermode": "closest"}
    return figure(labels.traces(), layout, height=int(110 * (y_max - y_min)) + 20)


_PANELS = {"seq2seq": ("", 0), "seq2vec": ("2", 1), "vec2seq": ("3", 2), "encdec": ("4", 3)}
_DOMAINS = [{"x": [0, 0.47], "y": [0.56, 0.93]}, {"x": [0.53, 1], "y": [0.56, 0.93]},
            {"x": [0, 0.47], "y": [0.0, 0.37]}, {"x": [0.53, 1], "y": [0.0, 0.37]}]


def _unrolled(labels: _Labels, shapes: list, arrows: list, axis: str, xs: Sequence[float | None], cell: str,
              ins: Sequence[str], outs: Sequence[str], used: Sequence[bool], start_state: str | None = None) -> None:
    """Cells at xs (None draws "…"), their inputs below, their outputs above (highlighted where used)."""
    previous = None
    for x, x_in, y_out, use in zip(xs, ins, outs, used):
        if x is None:
            continue
        shapes.append(_box(x - 0.55, 1.55, x + 0.55, 2.45, _STATE, axis))
        labels.add(x, 2.0, cell, axis=axis, size=FONT_SIZE - 2)
        arrows.append(_arrow(x, 0.75, x, 1.55, _INPUT, axis, 2))
        labels.add(x, 0.45, x_in, _INPUT, axis)
        color = _INPUT if use else rgba(NEUTRAL, 0.5)
        arrows.append(_arrow(x, 2.45, x, 3.25, color, axis, 3 if use else 1.5))
        labels.add(x, 3.55, f"<b>{y_out}</b>" if use else y_out, color, axis)
        if previous is not None:
            arrows.append(_arrow(previous + 0.55, 2.0, x - 0.55, 2.0, _STATE, axis, 2))
        previous = x
    gaps = [i for i, x in enumerate(xs) if x is None]
    for i in gaps:
        labels.add((xs[i - 1] + xs[i + 1]) / 2, 2.0, "…", NEUTRAL, axis)
    if start_state:
        labels.add(xs[0] - 1.05, 2.0, start_state, _STATE, axis, size=FONT_SIZE - 2)


def rnn_architectures(cell: str, selected: str, titles: Mapping[str, str]) -> go.Figure:
    """The course's four architectures (§8.4), unrolled: inputs below, outputs above, the outputs each one
    uses in colour and the ones it ignores in grey. The selected one is framed."""
    labels, shapes, arrows, layout = _Labels(), [], [], {}
    for arch, (axis, i) in _PANELS.items():
        layout |= _hidden_axes((-0.6, 10), (0, 4.1), axis, _DOMAINS[i])
        seq = [1.2, 3.4, None, 8.4]
        if arch == "seq2seq":
            _unrolled(labels, shapes, arrows, axis, seq, cell, ["x₁", "x₂", "", "x_T"], ["y₁", "y₂", "", "y_T"], [True] * 4, "h₀")
        elif arch == "seq2vec":
            _unrolled(labels, shapes, arrows, axis, seq, cell, ["x₁", "x₂", "", "x_T"], ["h₁", "h₂", "", "y = f(h_T)"], [False, False, False, True], "h₀")
        elif arch == "vec2seq":
            _unrolled(labels, shapes, arrows, axis, seq, cell, ["x", "0", "", "0"], ["y₁", "y₂", "", "y_T"], [True] * 4, "h₀")
        else:
            _unrolled(labels, shapes, arrows, axis, [0.9, None, 3.1], cell, ["x₁", "", "x_T"], ["h₁", "", "h_T"], [False] * 3)
            _unrolled(labels, shapes, arrows, axis, [6.2, None, 8.9], cell, ["0", "", "0"], ["y₁", "", "y_T′"], [True] * 3)
            arrows.append(_arrow(3.65, 2.0, 5.65, 2.0, _CELL, axis, 3.5))
            labels.add(4.65, 2.4, "c = h_T", _CELL, axis)
        dom = _DOMAINS[i]
        chosen = arch == selected
        title = f"<b>{titles[arch]}</b>" if chosen else titles[arch]
        layout.setdefault("annotations", []).append(
            {"text": title, "xref": "paper", "yref": "paper", "x": sum(dom["x"]) / 2, "y": dom["y"][1] + 0.015,
             "yanchor": "bottom", "showarrow": False, "font": {"size": FONT_SIZE + 1, **({"color": _INPUT} if chosen else {})}})
        if chosen:
            shapes.append({"type": "rect", "xref": "paper", "yref": "paper", "x0": max(0.0, dom["x"][0] - 0.01), "x1": min(1.0, dom["x"][1] + 0.01),
                           "y0": dom["y"][0] - 0.02, "y1": dom["y"][1] + 0.07, "line": {"color": _INPUT, "width": 2}, "layer": "below"})
    layout["annotations"] += arrows
    layout |= {"shapes": shapes, "margin": {"l": 10, "r": 10, "t": 10, "b": 10}, "hovermode": "closest"}
    return figure(labels.traces(), layout, height=560)
