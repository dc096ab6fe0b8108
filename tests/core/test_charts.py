"""Every chart builder's output is a valid plotly figure (the app builds them without validation)."""
import plotly.graph_objects as go
import pytest

from core import activations as act
from core import charts


def validated(fig: go.Figure) -> go.Figure:
    return go.Figure(fig.to_dict())  # raises on any invalid property


@pytest.fixture(scope="module")
def stats():
    return [act.unit_stats(n, act.Alphas(), 0.0, 1.0, n_samples=2000) for n in ("sigmoid", "relu")]


def test_activation_curves_is_valid_and_complete():
    curves = act.curves(("sigmoid", "relu"), -4.0, 4.0)
    fig = validated(charts.activation_curves(curves, act.LABELS, charts.series_colors(act.FUNCTIONS), band=(-1, 1)))
    assert len(fig.data) == 6  # f, autograd f′ and closed-form dots per function
    assert fig.layout.yaxis2.anchor == "x2" and fig.layout.shapes


def test_depth_products_is_valid_and_log_scaled(stats):
    fig = validated(charts.depth_products(act.depth_products(stats, 5), act.LABELS, charts.series_colors(act.FUNCTIONS)))
    assert fig.layout.yaxis.type == "log" and len(fig.data) == 4


def test_colours_are_stable_per_series():
    a = charts.series_colors(act.FUNCTIONS)
    assert a["relu"] == charts.series_colors(act.FUNCTIONS)["relu"]
    assert len(set(a.values())) == len(act.FUNCTIONS)
