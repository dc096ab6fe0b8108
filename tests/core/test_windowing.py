"""The Sequences & windowing page's logic against PyTorch and the course: the window count ⌊(N − L − h)/s⌋ + 1
against enumeration and Tensor.unfold, the reduction to core.data.create_sequences at h = s = 1, the temporal
split against core.data.temporal_split, the overlap counts against brute force, the forecaster trained by the
engine both ways, the (N, T) pitfall's real PyTorch error, and every figure builder validated."""
import itertools

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.utils.data import DataLoader, TensorDataset

from core import charts, data, windowing


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """The forecaster is tiny: one intra-op thread is the fastest, and the page's training budget assumes it."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def series() -> np.ndarray:
    return data.electricity_frame()["consumption"].to_numpy(dtype=np.float64)


@pytest.fixture(scope="module")
def fits(series):
    return {name: windowing.fit(series, 96, 4, 1, name, seed=0) for name in windowing.SPLITS}


def loop_windows(values, L, h, s):
    """The course's loop (§7.2), generalised: inputs values[i:i+L], target values[i+L+h−1], every s readings."""
    xs, ys, i = [], [], 0
    while i + L + h - 1 <= len(values) - 1:
        xs.append(values[i : i + L])
        ys.append(values[i + L + h - 1])
        i += s
    return np.array(xs), np.array(ys)


@settings(max_examples=200, deadline=None)
@given(n=st.integers(1, 400), L=st.integers(1, 60), h=st.integers(1, 30), s=st.integers(1, 40))
def test_window_count_is_the_formula_against_enumeration_and_unfold(n, L, h, s):
    values = np.arange(n, dtype=np.float32)
    X, y = loop_windows(values, L, h, s)
    expected = (n - L - h) // s + 1 if n >= L + h else 0
    assert windowing.window_count(n, L, h, s) == expected == len(y)
    if expected:
        assert torch.as_tensor(values).unfold(0, L + h, s).shape[0] == expected
        # derivation: the last window's target is the last reading or before it; one more window would pass the end
        last = (expected - 1) * s + L + h - 1
        assert last <= n - 1 < last + s
        w = windowing.windows(values, L, h, s)
        np.testing.assert_array_equal(w.X, X)
        np.testing.assert_array_equal(w.y, y)
        assert list(w.targets) == [int(v) for v in y]  # values are their own index here
        Xt, yt = windowing.torch_windows(values, L, h, s)
        np.testing.assert_array_equal(Xt.numpy(), X)
        np.testing.assert_array_equal(yt.numpy(), y)
    else:
        with pytest.raises(ValueError, match="need at least"):
            windowing.windows(values, L, h, s)


@pytest.mark.parametrize("L", [1, 4, 96, 672])
def test_horizon_1_stride_1_is_the_course_create_sequences(L):
    frame = data.electricity_frame()
    X, y = windowing.create_sequences(frame, L)
    X_ref, y_ref = data.create_sequences(frame, L)
    assert X.shape == X_ref.shape == (len(frame) - L, L) and y.shape == (len(frame) - L,)
    np.testing.assert_array_equal(X, X_ref)
    np.testing.assert_array_equal(y, y_ref)


def test_bad_window_settings_are_refused():
    with pytest.raises(ValueError):
        windowing.windows(np.arange(10.0), 0)
    with pytest.raises(ValueError):
        windowing.windows(np.arange(10.0), 3, stride=0)


@pytest.mark.parametrize("L", [1, 24, 96])
def test_temporal_split_is_the_course_split_then_window_at_h1_s1(series, L):
    frame = data.electricity_frame()
    w = windowing.windows(series, L)
    sp = windowing.split(w, "temporal")
    train_df, test_df = data.temporal_split(frame)
    assert sp.cut == len(train_df)
    X_train, y_train = data.create_sequences(train_df, L)
    X_test, y_test = data.create_sequences(test_df, L)
    np.testing.assert_array_equal(w.X[sp.train], X_train)
    np.testing.assert_array_equal(w.y[sp.test], y_test)
    assert len(sp.train) == len(y_train) and len(sp.test) == len(X_test)
    assert w.count - len(sp.train) - len(sp.test) == L  # the windows across the cut


@pytest.mark.parametrize("L, h, s", [(96, 4, 1), (1, 1, 1), (672, 96, 96), (50, 7, 13)])
def test_splits_partition_the_windows(series, L, h, s):
    w = windowing.windows(series, L, h, s)
    temporal, random = windowing.split(w, "temporal"), windowing.split(w, "random", seed=3)
    assert (w.targets[temporal.train] < temporal.cut).all() and (w.starts[temporal.test] >= temporal.cut).all()
    assert len(temporal.train) == windowing.window_count(temporal.cut, L, h, s)
    assert len(random.train) == round(0.8 * w.count) and len(random.train) + len(random.test) == w.count
    assert not set(random.train) & set(random.test)
    assert np.array_equal(random.train, windowing.split(w, "random", seed=3).train)
    assert not np.array_equal(random.train, windowing.split(w, "random", seed=4).train)
    with pytest.raises(ValueError):
        windowing.split(w, "shuffled")


def brute_overlap(w, sp):
    spans = [(w.starts[i], w.targets[i]) for i in range(w.count)]
    return sum(any(spans[j][0] <= spans[t][1] and spans[t][0] <= spans[j][1] for j in sp.train) for t in sp.test)


def brute_seen(w, sp):
    inputs = {r for j in sp.train for r in range(w.starts[j], w.starts[j] + w.window)}
    return sum(int(w.targets[t]) in inputs for t in sp.test)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(30, 160), L=st.integers(1, 20), h=st.integers(1, 8), s=st.integers(1, 12), seed=st.integers(0, 99),
       name=st.sampled_from(windowing.SPLITS))
def test_overlap_counts_agree_with_brute_force(n, L, h, s, seed, name):
    w = windowing.windows(np.random.default_rng(seed).normal(size=n), L, h, s)
    sp = windowing.split(w, name, seed)
    assert windowing.overlapping(w, sp) == windowing.overlapping_torch(w, sp) == brute_overlap(w, sp)
    assert windowing.seen_targets(w, sp) == brute_seen(w, sp)
    if name == "temporal":
        assert windowing.overlapping(w, sp) == 0


def test_batched_loader_yields_what_a_plain_dataloader_yields():
    g = torch.Generator().manual_seed(0)
    X, y = torch.randn(301, 5, generator=g), torch.randn(301, generator=g)
    plain = DataLoader(TensorDataset(X, y), batch_size=64, shuffle=True, generator=torch.Generator().manual_seed(7))
    fast = windowing.batched_loader(X, y, 64, seed=7)
    assert len(plain) == len(fast) == 5
    for _ in range(3):  # epochs: the generator must advance the same way
        for (xa, ya), (xb, yb) in itertools.zip_longest(plain, fast):
            assert torch.equal(xa, xb) and torch.equal(ya, yb)
    ordered = list(windowing.batched_loader(X, y, 100))
    assert torch.equal(torch.cat([b[0] for b in ordered]), X)


def test_the_random_split_flatters_the_forecaster_at_the_defaults(series, fits):
    temporal, random = fits["temporal"], fits["random"]
    assert random.test_mse < 0.9 * temporal.test_mse  # the page's headline: leakage makes the random split look better
    leaks = windowing.overlaps(windowing.windows(series, 96, 4, 1), seed=0)
    for name, f in fits.items():  # the forecaster trained on the same split the counts describe
        assert np.array_equal(leaks[name].split.train, f.split.train) and np.array_equal(leaks[name].split.test, f.split.test)
    assert leaks["temporal"].overlapping == leaks["temporal"].seen == 0
    assert leaks["random"].overlapping == len(random.split.test) and leaks["random"].seen > 0.95 * len(random.split.test)
    assert abs(random.test_mse - random.train_mse) < abs(temporal.test_mse - temporal.train_mse)
    for f in fits.values():
        assert len(f.curve) == windowing.EPOCHS and f.message is None
        assert f.curve[-1] == pytest.approx(f.test_mse, rel=1e-4)  # the engine's last evaluation is the final model


def test_fit_scores_match_plain_torch_and_repeat_for_a_seed(series, fits):
    f = fits["temporal"]
    p, t = torch.tensor(f.predictions[f.split.test]), torch.tensor(f.actual[f.split.test])
    assert f.test_mse == pytest.approx(F.mse_loss(p, t).item(), rel=1e-12)
    assert f.test_mae == pytest.approx(F.l1_loss(p, t).item(), rel=1e-12)
    np.testing.assert_allclose(f.actual, windowing.windows(series, 96, 4, 1).y, rtol=1e-6)
    again = windowing.fit(series, 96, 4, 1, "temporal", seed=0)
    np.testing.assert_array_equal(again.predictions, f.predictions)


def test_a_split_with_no_test_window_is_refused():
    with pytest.raises(ValueError, match="test windows"):
        windowing.fit(np.sin(np.arange(60.0)), 10, 1, 40, "temporal")


@pytest.mark.parametrize("L", [1, 7, 96])
def test_shape_pitfall_shows_pytorchs_own_error_and_the_fix(series, L):
    w = windowing.windows(series, L)
    pit = windowing.shape_pitfall(w.X, w.y)
    n, hidden = windowing.PITFALL_BATCH, windowing.PITFALL_HIDDEN
    lstm = torch.nn.LSTM(1, hidden, batch_first=True)
    x = torch.tensor(w.X[:n])
    if L == 1:  # (N, 1) is one unbatched sequence of N steps: no error, the batch became time
        assert pit.error is None and pit.wrong_output == tuple(lstm(x)[0].shape) == (n, hidden)
    else:
        with pytest.raises(RuntimeError) as err:
            lstm(x)
        assert pit.error == f"RuntimeError: {err.value}" and f"Expected 1, got {L}" in pit.error
    assert pit.fixed_shape == (n, L, 1) and pit.output_shape == (n, L, hidden) and pit.h_n_shape == (1, n, hidden)
    assert "different to the input size" in pit.loss_warning
    pred, target = torch.tensor(w.X[:n, -1], dtype=torch.float64), torch.tensor(w.y[:n], dtype=torch.float64)  # persistence
    assert pit.loss_squeezed == pytest.approx(F.mse_loss(pred, target).item(), rel=1e-12)
    assert pit.loss_broadcast == pytest.approx(pit.loss_pairs, rel=1e-12) and pit.loss_broadcast > pit.loss_squeezed


@pytest.mark.parametrize("L, h, s", [(96, 4, 1), (1, 1, 1), (672, 96, 96), (1, 96, 7), (300, 1, 50)])
def test_every_check_passes(series, L, h, s):
    fits = {name: windowing.fit(series, L, h, s, name, seed=1) for name in windowing.SPLITS}
    w = windowing.windows(series, L, h, s)
    leaks = windowing.overlaps(w, seed=1)
    pit = windowing.shape_pitfall(w.X, w.y)
    checks = windowing.checks(series, w, leaks, pit, fits)
    assert len(checks) >= 17 and all(c.passed for c in checks), [c for c in checks if not c.passed]
    untrained = windowing.checks(series, w, leaks, pit)
    assert len(untrained) == len(checks) - 4 and all(c.passed for c in untrained)


@pytest.mark.parametrize("n, start, L, h", [(8064, 2016, 96, 4), (8064, 0, 672, 96), (8064, 7296, 672, 96), (8064, 8062, 1, 1), (100, 50, 10, 1)])
def test_zoom_holds_the_window_and_its_target_in_few_points(n, start, L, h):
    lo, hi = windowing.zoom(n, start, L, h)
    assert 0 <= lo <= start and start + L + h - 1 <= hi <= n - 1 and hi - lo + 1 <= 1000


def test_envelope_and_test_share(series):
    starts, low, high = windowing.envelope(series, 600)
    assert len(starts) == 600 and low.min() == series.min() and high.max() == series.max()
    assert (low <= high).all() and low[0] == series[: starts[1]].min()
    w = windowing.windows(series, 96, 4, 1)
    first, temporal = windowing.test_share(w, windowing.split(w, "temporal"), 300)
    before, after = temporal[first < 6000], temporal[first > 6600]
    assert np.all(before[~np.isnan(before)] == 0) and np.all(after == 1) and np.isnan(temporal).any()
    _, random = windowing.test_share(w, windowing.split(w, "random"), 300)
    assert 0.15 < np.nanmean(random) < 0.25


def validated(fig: go.Figure) -> go.Figure:
    return go.Figure(fig.to_dict())  # raises on any invalid property


def test_figure_builders_are_valid(series, fits):
    frame = data.electricity_frame()
    x = frame["timestamp"].to_numpy()
    w = windowing.windows(series, 96, 4, 1)
    lo, hi = windowing.zoom(len(series), 6400, 96, 4)
    fig = validated(charts.series_overview(x, *windowing.envelope(series), (lo, hi), 6451, "kW"))
    assert len(fig.data) == 2 and len(fig.layout.shapes) == 2
    in_span = np.flatnonzero((w.targets >= lo) & (w.targets <= hi))
    roles = fits["temporal"].split.role(w.count)[in_span]
    assert w.X.flags.writeable is False  # the windows are a view into the series, never copied
    fig = charts.window_view(x, series, (lo, hi), 6400, 96, 4, 1, w.targets[in_span], roles, 30.0, "temporal", 6451, "kW")
    validated(fig)
    names = [t.name for t in fig.data]
    assert "targets of test windows" in names and any(n.startswith("prediction") for n in names)
    assert len(fig.data[0].x) == hi - lo + 1 <= 1000  # no more points than pixels
    assert {s.type for s in fig.layout.shapes} == {"rect", "line"}
    plain = validated(charts.window_view(np.arange(len(series)), series, (0, 60), 0, 1, 1, 96, np.array([1]), np.array([0]),
                                         None, "random", None, "value"))
    assert not any((t.name or "").startswith("prediction") for t in plain.data)
    shares = {name: windowing.test_share(w, o.split) for name, o in windowing.overlaps(w).items()}
    fig = validated(charts.split_comparison(x, shares, {name: f.curve for name, f in fits.items()}))
    assert fig.data[0].type == "heatmap" and len(fig.data) == 3 and fig.layout.xaxis2.title.text == "epoch"


def test_the_comparison_table_counts_without_training_and_adds_the_errors_once_trained():
    values = data.electricity_frame().iloc[:1500, 1].to_numpy(dtype=float)
    w = windowing.windows(values, 24, 1, 2)
    leaks = windowing.overlaps(w, seed=0)
    before = windowing.comparison(leaks).set_index("split")
    assert list(before.index) == list(windowing.SPLITS) and "test MSE (kW²)" not in before
    assert before.loc["temporal", "test overlapping train"] == leaks["temporal"].overlapping == 0
    assert before.loc["random", "train windows"] == len(leaks["random"].split.train)
    fits = {name: windowing.fit(values, 24, 1, 2, name, 0) for name in windowing.SPLITS}
    after = windowing.comparison(leaks, fits).set_index("split")
    assert after.loc["random", "test MSE (kW²)"] == fits["random"].test_mse
    assert after.loc["temporal", "train MSE (kW²)"] == fits["temporal"].train_mse


def test_in_span_gives_the_targets_between_the_ends_and_their_roles():
    w = windowing.windows(np.arange(100.0), 10, 1, 3)
    sp = windowing.split(w, "temporal")
    targets, roles = sp.in_span(w, 40, 99)
    assert targets.tolist() == [t for t in w.targets.tolist() if 40 <= t <= 99]
    assert roles.tolist() == [int(sp.role(w.count)[list(w.targets).index(t)]) for t in targets]
    assert set(roles.tolist()) == {0, 1, -1} and sp.cut == 80
    assert sp.in_span(w, 200, 300)[0].size == 0
