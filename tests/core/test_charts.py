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


# The Optimizers page.
def _race(surface="rosenbrock", lrs=(("sgd", 10.0), ("adam", 0.05)), steps=120, schedule="constant"):
    from core import optimizers as opt
    from core import surfaces

    start = surfaces.surface(surface).start
    problem = opt.Problem(surface, start, steps, schedule=schedule)
    runs = opt.race(problem, tuple(opt.hyper(n, lr) for n, lr in lrs))
    return surfaces.grid(surface, *surfaces.view(surface, start)), runs


def test_optimizer_race_is_valid_with_frames_and_a_diverged_path():
    from core.charts.optimizers import FRAMES
    from core.surfaces import surface

    grid, runs = _race()
    assert runs[0].diverged_at is not None  # SGD at η = 10 on Rosenbrock
    colors = charts.series_colors(("sgd", "adam"))
    fig = validated(charts.optimizer_race(grid, runs, colors, 60, surface("rosenbrock").minima))
    names = [t.name for t in fig.data]
    assert f"SGD: diverged at step {runs[0].diverged_at}" in names and "start" in names and "minimum" in names
    assert fig.layout.yaxis2.type == "log" and fig.layout.yaxis.scaleanchor == "x"
    assert 2 <= len(fig.frames) <= FRAMES and all(len(f.data) == 2 for f in fig.frames)
    markers = fig.data[-2]
    assert list(markers.x) == [float(runs[0].path[-1, 0]), float(runs[1].path[60, 0])]  # the diverged one stays at its end


def test_optimizer_race_on_the_saddle_is_linear():
    from core.surfaces import surface

    grid, runs = _race("saddle", (("sgd", 0.01),), 50)
    fig = validated(charts.optimizer_race(grid, runs, charts.series_colors(("sgd",)), 0, surface("saddle").minima, "saddle point"))
    assert fig.layout.yaxis2.type == "linear" and not grid.log_scale


def test_lr_sweep_and_schedule_are_valid():
    from core import optimizers as opt

    problem = opt.Problem("beale", (1.0, 1.5), 30)
    sweeps = [opt.sweep(problem, opt.hyper(n, 0.01)) for n in ("sgd", "adam")]
    colors = charts.series_colors(("sgd", "adam"))
    fig = validated(charts.lr_sweep(sweeps, colors))
    assert fig.layout.xaxis.type == "log" and len(fig.data) == 4  # a curve and the chosen rate per optimizer
    _, runs = _race("quadratic", (("sgd", 0.1), ("adam", 0.2)), 40, "cosine")
    fig = charts.lr_schedule(runs, colors)
    assert len(validated(fig).data) == 2 and fig.data[0].y[0] == 0.1 and fig.data[0].y[-1] < 0.001


def test_thinning_keeps_zigzags_and_extremes():
    import numpy as np

    from core.charts.optimizers import thin_curve, thin_path

    zigzag = np.array([[i * 0.001, (-1) ** i] for i in range(500)], dtype=float)
    assert len(thin_path(zigzag, 0.01)) == 500  # every step is long: all kept
    crawl = np.array([[i * 1e-5, 0.0] for i in range(2000)], dtype=float)
    kept = thin_path(crawl, 0.001)
    assert kept[0] == 0 and kept[-1] == 1999 and len(kept) < 40
    y = np.sin(np.arange(5000) * 0.7) * np.exp(-np.arange(5000) / 2000)
    idx = thin_curve(y)
    assert len(idx) <= 802 and y[idx].max() == y.max() and y[idx].min() == y.min()


@pytest.mark.parametrize("setting", [(5, 5, 3, 0, 1, 1), (7, 9, 3, 1, 2, 2), (64, 64, 11, "same", 1, 4)])
def test_sliding_window_is_valid_with_square_aligned_panels(setting):
    from core import conv_arithmetic as ca

    ex = ca.sliding_example(*setting)
    step = ca.sliding_step(ex, ex.output.numel() // 2)
    fig = validated(charts.sliding_window(step, ex.kernel))
    assert len(fig.data) == 5 and fig.layout.yaxis3.scaleanchor == "x3"
    in_view = sum(step.in_rows[0] <= r < step.in_rows[1] and step.in_cols[0] <= c < step.in_cols[1] for r, c in step.taps)
    assert in_view == len(step.taps) and len(fig.layout.shapes) == in_view + 2  # each tap, the window's extent, the cell
    assert (fig.data[1].texttemplate is not None) == (max(step.inputs.shape) <= 16)  # values in readable cells only


def test_pooling_feature_map_and_receptive_field_charts_are_valid():
    from core import cnn_builder as cnn
    from core import conv_pooling
    from core import feature_maps as fm

    fig = charts.pooling_grids(conv_pooling.pool_example(3, 2))
    assert validated(fig).data[1].type == "heatmap" and fig.data[1].z.shape == (3, 3) and len(fig.layout.shapes) == 3
    fig = charts.feature_maps(fm.feature_map(fm.shapes_image(), fm.KERNELS["edge_x"]), "edge-x")
    assert validated(fig).data[1].zmid == 0 and fig.data[1].z.shape == (96, 96)
    assert validated(charts.feature_maps(fm.feature_map(fm.shapes_image(), fm.KERNELS["blur"]), "blur")).data[1].zmid is None
    layers = cnn.parse(cnn.DEFAULT_SPEC).layers
    fig = charts.receptive_field(cnn.probe(layers, 3, 32, 5))
    assert len(validated(fig).data) == 3 and fig.data[2].z.sum() == 100  # the 10 × 10 field of the course's Net


def test_loading_every_figure_builder_leaves_the_heavy_optional_packages_unloaded():
    """The server loads every builder while it starts; the packages only some pages need (torchmetrics,
    torchvision, and core.multi_io, which imports them) load with those pages instead."""
    import subprocess
    import sys
    from pathlib import Path

    code = ("import sys\nfrom core import charts\nfor name in charts.__all__: getattr(charts, name)\n"
            "print(sorted(m for m in ('torchmetrics', 'torchvision', 'core.multi_io') if m in sys.modules))")
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_tint_mixes_with_white_and_rgba_keeps_the_colour():
    from core.charts.theme import rgba, tint

    assert tint("#0072B2", 0.0) == "#FFFFFF" and tint("#0072B2", 1.0) == "#0072B2"
    assert tint("#000000", 0.25) == "#BFBFBF"
    assert rgba("#E69F00", 0.5) == "rgba(230,159,0,0.5)"


def test_the_multi_input_diagram_is_dark_text_on_opaque_light_boxes():
    """Readable on a projector and in Streamlit's dark theme: the boxes are opaque light tints (no transparency for
    a dark page to show through) and the text inside them is near-black."""
    from core import multi_io as mio
    from core.charts.theme import INK_ON_LIGHT

    fitting, broken = (charts.multi_input_flow(mio.multi_input_view(1, 64, 16, 30, 128, 8, d)) for d in (136, 100))
    boxes = [s for fig in (fitting, broken) for s in fig.layout.shapes if s.type == "rect"]
    assert len(boxes) >= 14
    for box in boxes:
        fill = box.fillcolor
        assert fill.startswith("#") and len(fill) == 7, fill
        r, g, b = (int(fill[i : i + 2], 16) for i in (1, 3, 5))
        assert 0.2126 * r + 0.7152 * g + 0.0722 * b > 200, fill  # light
    assert fitting.data[0].textfont.color == broken.data[0].textfont.color == INK_ON_LIGHT
