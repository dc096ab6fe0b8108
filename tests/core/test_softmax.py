"""The Softmax page's math against PyTorch: the course's softmax and cross-entropy against torch.softmax and
F.cross_entropy, float32 overflow where the naive formula breaks, and the Jacobian against autograd."""
import random

import numpy as np
import plotly.graph_objects as go
import pytest
import torch
import torch.nn.functional as F

from core import charts
from core import softmax as sm
from core.rng import generator


def random_settings(seed: int, extreme: bool = False):
    rng = random.Random(seed)
    k = rng.randint(2, sm.MAX_CLASSES)
    z = tuple(round(rng.uniform(-10, 10), 1) for _ in range(k))
    temperature = round(rng.uniform(0.1, 5.0), 1)
    scale = rng.randint(1, 100) if extreme else 1
    return z, temperature, scale, rng.randrange(k)


@pytest.mark.parametrize("seed", range(30))
def test_every_check_passes_over_random_settings_including_huge_logits(seed):
    v = sm.view(*random_settings(seed, extreme=seed % 2 == 1))
    checks = sm.checks(v)
    assert all(c.passed for c in checks), [c for c in checks if not c.passed]


@pytest.mark.parametrize("seed", range(10))
def test_the_three_losses_agree_for_moderate_logits(seed):
    z, temperature, _, c = random_settings(seed)
    v = sm.view(z, max(temperature, 1.0), 1, c)  # |u| ≤ 10: no probability underflows in float32
    assert v.ce_formula == pytest.approx(v.ce_torch, rel=1e-5, abs=1e-6)
    assert v.ce_neg_log == pytest.approx(v.ce_torch, rel=1e-5, abs=1e-6)
    assert v.ce_formula64 == pytest.approx(-np.log(v.probs_formula[c]), rel=1e-12)


def test_course_formula_against_pytorch_on_a_batch_in_float64():
    g = generator(0)
    logits = torch.randn(500, 7, generator=g, dtype=torch.float64) * 5
    target = torch.randint(0, 7, (500,), generator=g)
    course = -logits.gather(1, target[:, None]).squeeze(1) + torch.logsumexp(logits, dim=1)
    assert torch.allclose(course, F.cross_entropy(logits, target, reduction="none"), atol=1e-12)
    s = torch.stack([sm.softmax_formula(row) for row in logits])
    assert torch.allclose(s, torch.softmax(logits, dim=1), atol=1e-14)


def test_neg_log_softmax_is_inf_exactly_when_the_probability_underflows():
    v = sm.view((2.0, 1.0, 0.1), 1.0, 100, 2)  # u = (200, 100, 10): ŷ_2 = e^−190 is 0 in float32
    assert v.probs[2] == 0 and np.isinf(v.ce_neg_log)
    assert v.ce_torch == pytest.approx(190.0, rel=1e-6) and v.ce_formula == pytest.approx(190.0, rel=1e-6)
    fine = sm.view((2.0, 1.0, 0.1), 1.0, 1, 2)
    assert fine.probs[2] > 0 and np.isfinite(fine.ce_neg_log)


def test_naive_softmax_overflows_just_past_log_of_float32_max():
    below = sm.view((88.0, 0.0), 1.0, 1, 0)
    above = sm.view((89.0, 0.0), 1.0, 1, 0)
    assert not below.overflow and np.all(np.isfinite(below.naive_probs))
    assert above.overflow and np.isnan(above.naive_probs[0]) and above.naive_probs[1] == 0  # inf/inf, 1/inf
    assert np.isinf(above.naive_logsumexp) and above.logsumexp == pytest.approx(89.0, rel=1e-6)
    assert np.allclose(above.probs, [1.0, np.exp(-89.0)], atol=1e-7)
    assert 88.7 < sm.FLOAT32_EXP_LIMIT < 88.8


def test_temperature_and_shift_behave_as_the_formula_says():
    z = (2.0, 1.0, 0.1)
    hot = sm.view(z, 5.0, 1, 0).probs
    cold = sm.view(z, 0.1, 1, 0).probs
    assert hot.max() - hot.min() < np.ptp(sm.view(z, 1.0, 1, 0).probs) < cold.max() - cold.min()
    shifted = sm.view(tuple(x + 7 for x in z), 1.0, 1, 0)
    assert np.allclose(shifted.probs_formula, sm.view(z, 1.0, 1, 0).probs_formula, atol=1e-15)


@pytest.mark.parametrize("seed", range(10))
def test_jacobian_formula_matches_autograd_and_finite_differences(seed):
    z, temperature, scale, c = random_settings(seed)
    v = sm.view(z, temperature, scale, c)
    assert v.jacobian_error < 1e-12
    assert np.allclose(v.jacobian_formula.sum(axis=1), 0, atol=1e-15) and np.allclose(v.jacobian_formula, v.jacobian_formula.T)
    u = torch.tensor(v.u, dtype=torch.float64)
    h = 1e-6
    numeric = torch.stack([(torch.softmax(u + h * e, 0) - torch.softmax(u - h * e, 0)) / (2 * h) for e in torch.eye(len(u), dtype=torch.float64)], dim=1)
    assert np.abs(numeric.numpy() - v.jacobian_formula).max() < 1e-8


def test_a_wrong_jacobian_fails_its_check():
    v = sm.view((2.0, 1.0, 0.1))
    wrong = sm.SoftmaxView(**{**v.__dict__, "jacobian_formula": np.diag(v.probs_formula)})  # forgot −s sᵀ
    assert not sm.checks(wrong)[-1].passed


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        sm.view((1.0,))
    with pytest.raises(ValueError):
        sm.view((1.0, 2.0), true_class=2)
    with pytest.raises(ValueError):
        sm.view((1.0, 2.0), temperature=0.0)


def test_stability_table_shows_inf_and_nan_as_text():
    table = sm.stability_table(sm.view((2.0, 1.0, 0.1), 1.0, 100, 0))
    assert list(table["exp(u) (float32)"])[:2] == ["inf", "inf"] and list(table["exp(u) / Σ exp(u)"])[:2] == ["nan", "nan"]


def test_charts_are_valid():
    v = sm.view((2.0, 1.0, 0.1, -3.0), 0.5, 3, 1)
    fig = charts.softmax_bars(v.u, v.probs, v.true_class)
    bars = go.Figure(fig.to_dict())  # raises on any invalid property
    assert np.allclose(fig.data[1].y, v.probs) and bars.data[0].marker.color[1] != bars.data[0].marker.color[0]
    heat = go.Figure(charts.softmax_jacobians(v.jacobian_formula, v.jacobian_autograd).to_dict())
    assert len(heat.data) == 2 and heat.data[0].zmin == -heat.data[0].zmax
