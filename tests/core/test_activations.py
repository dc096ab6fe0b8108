"""The Activations page's math against PyTorch: closed forms vs autograd, fractions vs sampling."""
import math

import pytest
import torch

from core import activations as act
from core.rng import generator

ALPHA_CASES = [act.Alphas(), act.Alphas(leaky=0.2, elu=0.5), act.Alphas(leaky=0.0, elu=2.5)]


@pytest.mark.parametrize("alphas", ALPHA_CASES, ids=str)
@pytest.mark.parametrize("name", act.FUNCTIONS)
def test_closed_form_derivative_equals_autograd_on_dense_grid(name, alphas):
    z = torch.linspace(-12, 12, 24_001, dtype=torch.float64)  # includes z = 0 exactly
    _, df = act.autograd_derivative(name, z, alphas)
    assert torch.max(torch.abs(df - act.closed_form_derivative(name, z, alphas))) < 1e-6


@pytest.mark.parametrize("name", act.FUNCTIONS)
def test_autograd_derivative_matches_finite_differences(name):
    """Guards against a closed form and autograd that agree by sharing a mistake."""
    z = torch.randn(500, generator=generator(3), dtype=torch.float64) * 4
    z = z[z.abs() > 1e-3]  # away from the kinks of ReLU-like functions
    f = act.module(name, act.Alphas(0.1, 1.5))
    h = 1e-6
    numeric = (f(z + h) - f(z - h)) / (2 * h)
    _, df = act.autograd_derivative(name, z, act.Alphas(0.1, 1.5))
    assert torch.max(torch.abs(numeric - df)) < 1e-6


def test_course_peak_values():
    assert act.peak_derivative("sigmoid") == pytest.approx((0.25, 0.0), abs=1e-9)
    assert act.peak_derivative("tanh") == pytest.approx((1.0, 0.0), abs=1e-9)
    assert act.peak_derivative("relu")[0] == 1.0
    assert act.peak_derivative("elu", act.Alphas(elu=2.0))[0] == pytest.approx(2.0)
    assert act.peak_derivative("gelu")[0] > 1.0  # GELU and SiLU overshoot 1


@pytest.mark.parametrize("name", act.SATURATING)
@pytest.mark.parametrize("threshold", [0.01, 0.1, 0.5])
def test_saturation_edge_is_where_the_derivative_crosses_the_threshold(name, threshold):
    edge = torch.tensor([act.saturation_edge(name, threshold)], dtype=torch.float64)
    peak, _ = act.peak_derivative(name)
    assert act.closed_form_derivative(name, edge).item() == pytest.approx(threshold * peak, rel=1e-9)


@pytest.mark.parametrize("seed", range(4))
def test_formula_fractions_match_sampled_fractions(seed):
    g = generator(100 + seed)
    mu = float(torch.empty(1).uniform_(-3, 3, generator=g))
    sigma = float(torch.empty(1).uniform_(0.2, 4, generator=g))
    n = 200_000
    for name in ("sigmoid", "tanh", "relu"):
        dead_f, sat_f = act.formula_fractions(name, mu, sigma, 0.1)
        dead, sat, _ = act.sampled_fractions(name, mu, sigma, 0.1, n=n, seed=seed)
        assert abs(dead - dead_f) <= act.sampling_tolerance(dead_f, n)
        assert abs(sat - sat_f) <= act.sampling_tolerance(sat_f, n)


def test_expected_relu_derivative_is_the_active_probability():
    for mu, sigma in [(0.0, 1.0), (1.0, 0.5), (-2.0, 3.0)]:
        expected = 0.5 * (1 + math.erf(mu / sigma / math.sqrt(2)))
        assert act.expected_derivative("relu", mu, sigma) == pytest.approx(expected, abs=1e-4)


def test_expected_derivative_matches_a_large_sample():
    z = 0.5 + 2.0 * torch.randn(400_000, generator=generator(7), dtype=torch.float64)
    _, df = act.autograd_derivative("tanh", z)
    assert act.expected_derivative("tanh", 0.5, 2.0) == pytest.approx(df.mean().item(), abs=3e-3)


def test_depth_products_are_powers():
    stats = [act.unit_stats(name, act.Alphas(), 0.0, 1.0, n_samples=1000) for name in ("sigmoid", "relu")]
    table = act.depth_products(stats, 20)
    sig = table[table.function == "sigmoid"]
    assert sig.best.iloc[-1] == pytest.approx(0.25**20, rel=1e-9)
    mean = act.expected_derivative("sigmoid", 0.0, 1.0)
    assert sig["mean"].iloc[-1] == pytest.approx(mean**20, rel=1e-9)
    relu = table[table.function == "relu"]
    assert (relu.best == 1.0).all()


def test_unit_stats_are_deterministic_for_a_seed_and_vary_across_seeds():
    args = ("relu", act.Alphas(), 0.3, 1.2, 0.1)
    a = act.unit_stats(*args, seed=1, n_samples=20_000)
    assert a == act.unit_stats(*args, seed=1, n_samples=20_000)
    assert a.dead != act.unit_stats(*args, seed=2, n_samples=20_000).dead


def test_alpha_sliders_only_touch_their_own_function():
    base = act.unit_stats("tanh", act.Alphas(), 0.0, 1.0, n_samples=1000)
    assert act.unit_stats("tanh", act.Alphas(0.3, 2.0), 0.0, 1.0, n_samples=1000) == base
    assert act.unit_stats("elu", act.Alphas(elu=2.0), 0.0, 1.0, n_samples=1000).max_df == pytest.approx(2.0)


def test_every_check_passes_across_settings():
    alphas = act.Alphas(0.05, 1.7)
    for mu, sigma, threshold in [(0, 1, 0.1), (2, 0.5, 0.3), (-3, 4, 0.01)]:
        stats = [act.unit_stats(name, alphas, mu, sigma, threshold) for name in act.FUNCTIONS]
        checks = act.checks(act.curves(act.FUNCTIONS, -8.0, 8.0, alphas), stats, -8.0, 8.0)
        assert len(checks) >= len(act.FUNCTIONS)
        assert all(c.passed for c in checks), [c for c in checks if not c.passed]


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        act.curves(("relu",), 1.0, 1.0)
    with pytest.raises(ValueError):
        act.unit_stats("relu", act.Alphas(), 0.0, 0.0)
    with pytest.raises(ValueError):
        act.module("softsign")
