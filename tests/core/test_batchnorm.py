"""The Batch normalization page's math against PyTorch: the course's three steps against nn.BatchNorm1d and
nn.BatchNorm2d in train and eval mode, the running statistics (unbiased variance, momentum, momentum=None),
a batch of one, the training runs, and every chart builder."""
import math
import random

import numpy as np
import plotly.graph_objects as go
import pytest
import torch
from torch import nn

from core import batchnorm as bn
from core import charts
from core.rng import generator

ATOL = 1e-5  # float32 BatchNorm against the float64 formula on inputs of order 1–10


@pytest.fixture(autouse=True)
def one_thread():
    """One torch thread, as the app runs (ui/startup.py): training at a large rate is chaotic in the summation order."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def validated(fig: go.Figure) -> go.Figure:
    return go.Figure(fig.to_dict())  # raises on any invalid property


def random_settings(seed: int) -> dict:
    rng = random.Random(seed)
    return dict(m=rng.choice([1, 2, 3, 256, rng.randint(1, 256)]), features=rng.randint(1, bn.MAX_FEATURES),
                shift=rng.choice([-10.0, 10.0, round(rng.uniform(-10, 10), 1)]), scale=rng.choice([0.1, 10.0, round(rng.uniform(0.1, 10), 1)]),
                skew=rng.choice([-1.0, 0.0, 1.0, round(rng.uniform(-1, 1), 1)]), gamma=rng.choice([-2.0, 0.0, 3.0, round(rng.uniform(-2, 3), 1)]),
                beta=round(rng.uniform(-5, 5), 1), momentum=rng.choice(bn.MOMENTA), batches=rng.choice([1, 2, rng.randint(1, 60)]))


# The course's steps against nn.BatchNorm1d, on fresh random inputs.
@pytest.mark.parametrize("m,features,momentum", [(2, 1, 0.1), (7, 3, 0.5), (64, 8, None), (256, 4, 1.0)])
def test_three_steps_match_batchnorm1d_in_train_mode_with_the_biased_variance(m, features, momentum):
    g = generator(m)
    x = torch.randn(m, features, generator=g) * 3 + 2
    gamma, beta = 1.7, -0.4
    mean, var, unbiased = bn.batch_statistics(x)
    assert np.allclose(var, x.double().var(0, unbiased=False).numpy(), rtol=1e-12)
    assert np.allclose(unbiased, x.double().var(0, unbiased=True).numpy(), rtol=1e-12)
    _, y = bn.normalize(x.double().numpy(), mean, var, gamma, beta)
    layer = bn.layer(nn.BatchNorm1d, features, gamma, beta, momentum)
    with torch.no_grad():
        y_torch = layer(x).numpy()
    assert np.abs(y - y_torch).max() < ATOL
    _, y_unbiased = bn.normalize(x.double().numpy(), mean, unbiased, gamma, beta)
    assert np.abs(y_unbiased - y_torch).max() > 10 * ATOL  # the unbiased variance does NOT normalize the batch
    p = 1.0 if momentum is None else momentum
    assert np.allclose(layer.running_mean.numpy(), p * mean, atol=1e-6)
    assert np.allclose(layer.running_var.numpy(), (1 - p) + p * unbiased, rtol=1e-5)  # the unbiased one updates running_var
    assert not np.allclose(layer.running_var.numpy(), (1 - p) + p * var, rtol=1e-5)


def test_momentum_is_the_weight_of_the_new_batch_and_none_is_the_cumulative_average():
    xs = bn.stream_batches(40, 16, 3, 1.0, 2.0, 0.0)
    means = np.stack([x.double().mean(0).numpy() for x in xs])
    variances = np.stack([x.double().var(0).numpy() for x in xs])
    cumulative = bn.running_stream(xs, None)
    assert np.allclose(cumulative.torch_mean[-1], means.mean(0), atol=1e-5)  # weight 1/t: the plain average of all batches
    assert np.allclose(cumulative.torch_var[-1], variances.mean(0), rtol=1e-5)
    latest = bn.running_stream(xs, 1.0)
    assert np.allclose(latest.torch_mean[-1], means[-1], atol=1e-5)  # momentum 1: only the newest batch
    slow = bn.running_stream(xs, 0.01)
    assert np.allclose(slow.torch_mean[1], 0.01 * means[0], atol=1e-6)  # 99% of the initial 0 survives one batch
    for s in (cumulative, latest, slow):
        assert np.abs(s.running_mean - s.torch_mean).max() < 1e-5 and np.abs(s.running_var - s.torch_var).max() < 1e-4


def test_running_statistics_converge_to_the_population_values():
    v = bn.view(128, 3, 2.0, 1.5, 0.0, 1.0, 0.0, 0.1, bn.MAX_STREAM)
    tail_mean = v.stream.torch_mean[-100:].mean(0)
    tail_var = v.stream.torch_var[-100:].mean(0)
    assert np.allclose(tail_mean, v.population_mean, atol=0.1 * v.population_std.max())
    assert np.allclose(tail_var, v.population_std**2, rtol=0.1)
    assert np.array_equal(v.stream.torch_mean[0], np.zeros(3)) and np.array_equal(v.stream.torch_var[0], np.ones(3))


@pytest.mark.parametrize("skew", [-1.0, -0.3, 0.0, 0.5, 1.0])
def test_skewed_draws_have_the_promised_population_moments(skew):
    z = bn.skewed(torch.randn(400_000, generator=generator(3), dtype=torch.float64), skew)
    assert abs(float(z.mean())) < 0.02 and abs(float(z.std()) - 1) < 0.05
    third = float(((z - z.mean()) ** 3).mean())
    assert (third > 0.1) == (skew > 0) and (third < -0.1) == (skew < 0)


def test_batch_one_of_the_stream_does_not_depend_on_the_stream_length():
    a = bn.stream_batches(1, 32, 4, 1.0, 2.0, 0.3)
    b = bn.stream_batches(50, 32, 4, 1.0, 2.0, 0.3)
    assert torch.equal(a[0], b[0])


# Eval mode and the view the page shows.
def test_eval_mode_uses_the_running_statistics_so_the_two_modes_differ():
    v = bn.view(16, 4, 3.0, 2.0, 0.0, 1.5, 0.5, 0.1, 20)
    layer = bn.layer(nn.BatchNorm1d, 4, 1.5, 0.5, 0.1)
    with torch.no_grad():
        for x in bn.stream_batches(20, 16, 4, 3.0, 2.0, 0.0):
            layer(x)
        layer.eval()
        y_eval = layer(torch.from_numpy(v.x)).numpy()
    assert np.array_equal(y_eval, v.eval.y_torch)
    assert np.abs(v.eval.y - y_eval).max() < ATOL
    assert np.allclose(v.eval.mean, layer.running_mean.numpy(), atol=1e-5)
    assert np.abs(v.train.y_torch - v.eval.y_torch).max() > 0.01  # the same batch, different outputs


@pytest.mark.parametrize("seed", range(24))
def test_every_check_passes_over_random_settings(seed):
    s = random_settings(seed)
    v = bn.view(**s)
    maps = bn.maps_view(1 + seed % bn.MAX_IMAGES, s["shift"], s["scale"], s["skew"], s["gamma"], s["beta"], s["momentum"])
    all_checks = bn.checks(v) + bn.maps_checks(maps, s["gamma"], s["beta"])
    assert all(c.passed for c in all_checks), [c for c in all_checks if not c.passed]
    assert len(all_checks) >= (5 if s["m"] == 1 else 9)


def test_a_check_fails_when_the_formula_uses_the_wrong_variance():
    v = bn.view(4, 2, 0.0, 1.0, 0.0, 1.0, 0.0, 0.5, 3)
    _, wrong = bn.normalize(v.x.astype(np.float64), v.batch_mean, v.batch_var_unbiased, 1.0, 0.0)
    assert not bn.agreement("y", wrong, v.train.y_torch, v.tolerance).passed
    assert bn.agreement("y", v.train.y, v.train.y_torch, v.tolerance).passed


def test_batch_of_one_is_refused_in_train_mode_and_fine_in_eval_mode():
    v = bn.view(1, 3, 2.0, 1.0, 0.0, 2.0, 0.7, 0.1, 10)
    assert v.train.y_torch is None and v.train.error.startswith("Expected more than 1 value per channel when training")
    assert v.after_one is None and v.stream.error and len(v.stream.batch_mean) == 0
    assert np.allclose(v.train.x_hat, 0) and np.allclose(v.train.y, 0.7)  # x̂ = 0, so y = β
    assert np.abs(v.raw - 0.7).max() < 1e-2  # the operator underneath agrees, to float32 rounding amplified by 1/√ε
    assert np.isnan(v.raw_running_var).all()  # and its unbiased variance is 0/0
    assert np.array_equal(v.eval.mean, np.zeros(3)) and np.array_equal(v.eval.var, np.ones(3))  # the stream never ran
    assert np.abs(v.eval.y - v.eval.y_torch).max() < ATOL
    one = bn.single_sample(bn.view(32, 3, 2.0, 1.0, 0.0, 2.0, 0.7, 0.1, 10))
    assert one.error.startswith("Expected more than 1 value per channel when training") and one.tracked == 1
    assert np.allclose(one.y_eval, one.y_eval_in_batch, atol=1e-6)


# BatchNorm2d.
@pytest.mark.parametrize("images,momentum", [(1, 0.1), (2, None), (4, 0.9)])
def test_batchnorm2d_statistics_are_per_channel_over_n_h_w_in_both_modes(images, momentum):
    gamma, beta = 0.8, 1.1
    maps = bn.maps_view(images, 3.0, 2.0, 0.4, gamma, beta, momentum)
    x = torch.from_numpy(maps.x)
    assert maps.count == images * 16
    per_channel = x.double().transpose(0, 1).reshape(bn.CHANNELS, -1)  # (C, N·H·W)
    assert np.allclose(maps.mean, per_channel.mean(1).numpy()) and np.allclose(maps.var, per_channel.var(1, unbiased=False).numpy())
    layer = bn.layer(nn.BatchNorm2d, bn.CHANNELS, gamma, beta, momentum)
    with torch.no_grad():
        y_train = layer(x).numpy()
        p = 1.0 if momentum is None else momentum
        assert np.allclose(layer.running_var.numpy(), (1 - p) + p * per_channel.var(1, unbiased=True).numpy(), rtol=1e-5)
        assert np.allclose(layer.running_mean.numpy(), maps.running_mean)
        y_eval = layer.eval()(x).numpy()
    assert np.abs(maps.train.y - y_train).max() < ATOL and np.abs(maps.eval.y - y_eval).max() < ATOL
    assert all(c.passed for c in bn.maps_checks(maps, gamma, beta))


# Training with and without BatchNorm.
def test_runs_share_their_start_and_batchnorm_trains_at_a_rate_the_plain_net_does_not():
    plain = bn.models.init_parameters(bn.network("course", False), "default", generator(0))
    normed = bn.models.init_parameters(bn.network("course", True), "default", generator(0))
    for name in ("fc1", "fc2", "fc3"):
        assert torch.equal(getattr(plain, name).weight, getattr(normed, name).weight)
    a, b = bn.train_run("course", False, "adam", 0.1), bn.train_run("course", True, "adam", 0.1)
    assert len(a.loss) == len(b.loss) == bn.EPOCHS * math.ceil(1800 / bn.BATCH_SIZE)
    assert a.final_loss > bn.constant_loss() - 0.01  # without BatchNorm: no better than a constant guess
    assert b.final_loss < a.final_loss - 0.1
    assert np.array_equal(bn.train_run("course", True, "adam", 0.1).loss, b.loss)  # the seed alone decides a run


def test_deeper_net_has_six_hidden_layers_and_batchnorm_in_each():
    net = bn.network("deep", True)
    assert sum(isinstance(m, nn.Linear) for m in net.modules()) == len(bn.DEEP_WIDTHS) + 1
    assert sum(isinstance(m, nn.BatchNorm1d) for m in net.modules()) == len(bn.DEEP_WIDTHS)
    assert net(torch.rand(5, 9)).shape == (5, 1)
    with pytest.raises(ValueError):
        bn.network("wide", False)


def test_a_diverged_run_keeps_only_its_finite_steps(monkeypatch):
    calls = {"n": 0}
    real = bn._bce

    def blows_up(out, y):
        calls["n"] += 1
        return real(out, y) * (math.inf if calls["n"] > 30 else 1.0)

    monkeypatch.setattr(bn, "_bce", blows_up)
    run = bn.train_run("course", False, "sgd", 0.1, epochs=1)
    assert run.diverged_at == 31 and len(run.loss) == 30 and np.isfinite(run.loss).all()
    assert "diverged" in run.message
    raw = charts.batchnorm_training([run], bn.constant_loss())
    fig = validated(raw)
    assert any("diverged at step 31" in (t.name or "") for t in fig.data)
    assert all(np.isfinite(np.asarray(t.y, dtype=float)).all() for t in raw.data)  # no NaN is plotted


# Charts.
@pytest.mark.parametrize("m,mode", [(1, "train"), (32, "train"), (256, "eval")])
def test_step_and_mode_charts_are_valid(m, mode):
    v = bn.view(m, 5, 1.0, 2.0, 0.5, 1.5, 0.5, 0.1, 10)
    s = v.shown(mode)
    raw = charts.batchnorm_steps(v.x, s.mean, s.var, s.x_hat, s.y, 1.5, 0.5, mode)
    fig = validated(raw)
    assert fig.layout.xaxis4.domain[1] == pytest.approx(1.0) and len(fig.layout.annotations) == 4
    assert len(raw.data[0].x) == m * 5
    train = None if v.train.y_torch is None else v.train.y_torch[:, 0]
    fig = validated(charts.train_eval_outputs(v.x[:, 0], train, v.eval.y_torch[:, 0], (1.0, 1.0), (0.0, 1.0), 1.5, 0.5, 1))
    assert len(fig.data) == (2 if m == 1 else 4)


def test_stream_and_maps_charts_are_valid():
    v = bn.view(16, 2, 1.0, 2.0, 0.0, 1.0, 0.0, 0.1, 50)
    s = v.stream
    fig = validated(charts.running_statistics(s.batch_mean[:, 0], s.batch_var[:, 0], s.torch_mean[:, 0], s.torch_var[:, 0],
                                              1.0, 4.0, 1, "momentum=0.1"))
    assert fig.layout.xaxis2.anchor == "y2" and len(fig.data) == 6
    maps = bn.maps_view(3, 1.0, 2.0, 0.0, 1.0, 0.0, 0.1)
    raw = charts.batchnorm2d_maps(maps.x, maps.train.y_torch, maps.mean, maps.var, "train")
    validated(raw)
    assert len(raw.data) == 2 * bn.CHANNELS and np.asarray(raw.data[0].z).shape == (4, 3 * 5 - 1)


def test_sweep_chart_marks_diverged_runs():
    run = bn.train_run("course", True, "adam", 0.01, epochs=1)
    gone = bn.Run(False, run.loss[:5], run.smoothed[:5], run.epochs.iloc[:0], 6, "diverged")
    table = bn.sweep_table({0.01: (run, run), 10.0: (gone, run)})
    assert np.isnan(table.loc[1, "without"]) and table.loc[1, "without_diverged"]
    fig = validated(charts.batchnorm_lr_sweep(table, 0.01, bn.constant_loss()))
    assert fig.layout.xaxis.type == "log" and any(t.name == "without BatchNorm: diverged" for t in fig.data)


def test_centre_and_spread_texts_say_zero_up_to_rounding_and_one_number_when_features_agree():
    assert bn.centre_text(2.776e-17) == "2.8e-17 ≈ 0" and bn.centre_text(-3e-8) == "-3.0e-08 ≈ 0"
    assert bn.centre_text(0.0) == "0" and bn.centre_text(-0.0) == "0" and bn.centre_text(0.12345) == "0.1235"
    assert bn.centre_text(float("nan")) == "nan"
    assert bn.spread_text(0.99998, 0.9999801) == "0.999980" and bn.spread_text(0.5, 0.9) == "0.5 … 0.9"
    assert bn.spread_text(0.9999846, 0.9999987) == "≥ 0.999985"  # how far under 1, never a rounded "1 … 1"
