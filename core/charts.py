"""Plotly figure builders for every page: data in, figure out, one theme.

The theme is made for a projector: a colour-blind-safe palette (Okabe–Ito, without its yellow and
black, which vanish on white and on dark backgrounds), 16 px text, 3 px lines, transparent
backgrounds so Streamlit's light and dark themes both show through.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

PALETTE: tuple[str, ...] = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#8C8C8C")
FONT_SIZE = 16
LINE_WIDTH = 3
DASHES = ("solid", "dash", "dot", "dashdot")


def series_colors(names: Sequence[str]) -> dict[str, str]:
    """A fixed colour per series name, so one function keeps its colour on every chart."""
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}


def themed(fig: go.Figure, height: int = 420) -> go.Figure:
    """Apply the app's theme to a figure (fonts, margins, legend, transparent background)."""
    fig.update_layout(
        height=height,
        font=dict(size=FONT_SIZE),
        margin=dict(l=10, r=10, t=50, b=10),
        legend=dict(orientation="h", yanchor="bottom", y=1.08, xanchor="left", x=0),
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        hovermode="x unified",
    )
    fig.update_annotations(font_size=FONT_SIZE)
    return fig


def activation_curves(
    curves: pd.DataFrame,
    labels: Mapping[str, str],
    colors: Mapping[str, str],
    band: tuple[float, float] | None = None,
    closed_form_points: int = 25,
) -> go.Figure:
    """f(z) on the left; f′(z) on the right, autograd as a line and the closed form as dots on it.

    Args:
        curves: columns function, z, f, df_autograd, df_closed (see core.activations.curves).
        band: a z interval to shade on the derivative panel (where most pre-activations fall).
    """
    fig = make_subplots(
        rows=1, cols=2, subplot_titles=("f(z)", "f′(z): autograd (line), closed form (dots)"), horizontal_spacing=0.08
    )
    for name, part in curves.groupby("function", sort=False):
        color, label = colors[name], labels[name]
        line = dict(color=color, width=LINE_WIDTH)
        fig.add_trace(go.Scatter(x=part.z, y=part.f, name=label, legendgroup=name, line=line), row=1, col=1)
        fig.add_trace(
            go.Scatter(x=part.z, y=part.df_autograd, name=f"{label}′ autograd", legendgroup=name, line=line, showlegend=False),
            row=1,
            col=2,
        )
        every = max(1, len(part) // closed_form_points)
        dots = part.iloc[::every]
        fig.add_trace(
            go.Scatter(
                x=dots.z,
                y=dots.df_closed,
                name=f"{label}′ closed form",
                legendgroup=name,
                mode="markers",
                marker=dict(color=color, size=9, symbol="circle-open", line=dict(width=2)),
                showlegend=False,
            ),
            row=1,
            col=2,
        )
    if band is not None:
        fig.add_vrect(x0=band[0], x1=band[1], fillcolor="#8C8C8C", opacity=0.15, line_width=0, row=1, col=2)
        fig.add_annotation(
            x=(band[0] + band[1]) / 2, y=1, yref="y2 domain", text="μ ± 2σ", showarrow=False, row=1, col=2
        )
    fig.update_xaxes(title_text="z")
    return themed(fig)


def depth_products(products: pd.DataFrame, labels: Mapping[str, str], colors: Mapping[str, str]) -> go.Figure:
    """Product of derivatives against the number of layers, log scale.

    Args:
        products: columns function, layers, best, mean (see core.activations.depth_products).
    """
    fig = go.Figure()
    for name, part in products.groupby("function", sort=False):
        color, label = colors[name], labels[name]
        fig.add_trace(
            go.Scatter(x=part.layers, y=part["mean"], name=f"{label}: mean", legendgroup=name,
                       line=dict(color=color, width=LINE_WIDTH), mode="lines+markers", marker=dict(size=6))
        )
        fig.add_trace(
            go.Scatter(x=part.layers, y=part.best, name=f"{label}: best case", legendgroup=name,
                       line=dict(color=color, width=LINE_WIDTH, dash="dash"))
        )
    fig.add_hline(y=1, line=dict(color="#8C8C8C", width=1))
    fig.update_yaxes(type="log", title_text="∏ f′ over the layers", exponentformat="power")
    fig.update_xaxes(title_text="layers L")
    return themed(fig, height=460)
