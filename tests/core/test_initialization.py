"""The Initialization page's math against PyTorch: every scheme's Var(W) and bound against `torch.nn.init`'s draws,
PyTorch's own nn.Linear default, the gains, the course's Var(z) = n_in·Var(W)·Var(x) against a real nn.Sequential,
BatchNorm, the training comparison, and the figures."""
import math

import numpy as np
import plotly.graph_objects as go
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

from core import charts
from core import initialization as ini
from core.rng import generator

SHAPES = [(64, 64), (300, 50), (50, 300), (512, 512)]  # (n_in, n_out), square and not


def drawn(scheme, activation, n_in, n_out, seed=0):
    linear = nn.utils.skip_init(nn.Linear, n_in, n_out)
    ini.init_linear(linear, scheme, activation, generator(seed))
    return linear


@pytest.mark.parametrize("n_in, n_out", SHAPES)
@pytest.mark.parametrize("scheme", ini.SCHEMES)
@pytest.mark.parametrize("activation", ["tanh", "relu", "leaky_relu"])
def test_variance_formula_matches_torch_nn_init(scheme, activation, n_in, n_out):
    """Var(W) of the weights torch.nn.init draws, within 4 standard errors of the formula for this sample size."""
    w = drawn(scheme, activation, n_in, n_out).weight.detach().double()
    formula = ini.weight_variance(scheme, activation, n_in, n_out)
    measured = w.square().mean().item()
    se = ini.variance_se(formula, w.numel(), scheme in ini.UNIFORM)
    assert abs(measured - formula) <= 4 * se, (measured, formula, se)
    assert abs(w.mean().item()) <= 4 * math.sqrt(formula / w.numel()) + 1e-15  # mean 0
    bound = ini.uniform_bound(scheme, activation, n_in, n_out)
    if bound is not None:
        top = w.abs().max().item()
        assert bound - ini.bound_tolerance(bound, w.numel()) <= top <= bound * (1 + 1e-6)


def test_the_fans_are_the_ones_torch_uses():
    """Xavier uses n_in + n_out, Kaiming fan_in = n_in (its default mode): swapping the shape must change one, not the other."""
    assert ini.weight_variance("xavier_normal", "tanh", 300, 50) == ini.weight_variance("xavier_normal", "tanh", 50, 300)
    assert ini.weight_variance("kaiming_normal", "relu", 300, 50) == pytest.approx(2 / 300)
    w = drawn("kaiming_normal", "relu", 300, 50).weight  # nn.Linear(300, 50): weight (50, 300), fan_in 300
    assert nn.init._calculate_fan_in_and_fan_out(w) == (300, 50)


def test_course_numbers_for_kaiming_relu_and_xavier():
    n = 256
    assert ini.weight_variance("kaiming_uniform", "relu", n, n) == pytest.approx(2 / n, rel=1e-12)
    assert ini.uniform_bound("kaiming_uniform", "relu", n, n) == pytest.approx(math.sqrt(6 / n), rel=1e-12)
    assert ini.uniform_bound("xavier_uniform", "tanh", n, 2 * n) == pytest.approx(math.sqrt(6 / (3 * n)), rel=1e-12)
    assert ini.weight_variance("xavier_uniform", "sigmoid", n, 2 * n) == pytest.approx(2 / (3 * n), rel=1e-12)


@pytest.mark.parametrize("n_in, n_out", [(9, 16), (512, 512), (1000, 3)])
def test_pytorch_default_linear_is_kaiming_uniform_a_sqrt5(n_in, n_out):
    """What nn.Linear really does: kaiming_uniform_(a=√5) = U(−1/√n_in, 1/√n_in), Var = 1/(3·n_in), the bias from the same range."""
    linear = ini.pytorch_linear(n_in, n_out, seed=7)
    mine = drawn("default", "relu", n_in, n_out, seed=7)  # the same stream from a generator instead of the global RNG
    assert torch.equal(linear.weight, mine.weight) and torch.equal(linear.bias, mine.bias)
    w = linear.weight.detach().double()
    assert w.abs().max().item() <= 1 / math.sqrt(n_in)
    assert abs(w.square().mean().item() - 1 / (3 * n_in)) <= 4 * ini.variance_se(1 / (3 * n_in), w.numel(), True)
    assert linear.bias.abs().max().item() <= 1 / math.sqrt(n_in)
    assert ini.weight_variance("default", "tanh", n_in, n_out) == pytest.approx(1 / (3 * n_in), rel=1e-12)
    assert ini.uniform_bound("default", "tanh", n_in, n_out) == pytest.approx(1 / math.sqrt(n_in), rel=1e-12)


def test_pytorch_linear_leaves_the_global_generator_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    ini.pytorch_linear(64, 64, seed=0)
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize("name, a", [("sigmoid", 0.0), ("tanh", 0.0), ("relu", 0.0), ("leaky_relu", 0.01), ("leaky_relu", math.sqrt(5)), ("leaky_relu", 0.0)])
def test_gains_match_calculate_gain(name, a):
    assert ini.gain_formula(name, a) == pytest.approx(nn.init.calculate_gain(name, a), rel=1e-15)


def test_elu_falls_back_to_kaimings_default():
    with pytest.raises(ValueError):
        nn.init.calculate_gain("elu")
    assert ini.nonlinearity("elu") == ("leaky_relu", 0.0)
    assert ini.weight_variance("kaiming_uniform", "elu", 100, 100) == pytest.approx(2 / 100)


def test_init_source_is_what_init_linear_runs():
    """The code panel's calls, run with exec, draw the very weights the page draws."""
    for scheme in ini.SCHEMES:
        for activation in ini.ACTIVATIONS:
            linear = nn.utils.skip_init(nn.Linear, 40, 30)
            weight, bias = ini.init_source(scheme, activation)
            with torch.no_grad():
                exec(f"{weight}\n{bias}", {"nn": nn, "math": math, "torch": torch, "g": generator(3), "w": linear.weight, "b": linear.bias})
            mine = drawn(scheme, activation, 40, 30, seed=3)
            assert torch.equal(linear.weight, mine.weight) and torch.equal(linear.bias, mine.bias), (scheme, activation)


def test_the_pass_measures_a_real_nn_sequential():
    """Rebuild the page's network and batch from the same seed: nn.Sequential's output, autograd's gradients and the
    layer-1 statistics agree with what run_pass reports."""
    depth, width, activation, scheme = 5, 32, "tanh", "xavier_normal"
    p = ini.run_pass(depth, width, activation, scheme, batchnorm=True, seed=4)
    g = generator(4)
    net = ini.mlp(depth, width, activation, scheme, True, g)
    x, r = torch.randn(p.batch, width, generator=g), torch.randn(p.batch, width, generator=g)
    net.train()
    out = net(x)
    ((out * r).sum() / p.batch).backward()
    grads = [block[0].weight.grad.double().norm().item() for block in net]
    assert np.allclose(p.grad_norm, grads, rtol=1e-6)
    assert p.var_a[-1] == pytest.approx(out.double().var(unbiased=False).item(), rel=1e-6)
    z1 = net[0][0](x).double()
    assert p.var_z[0] == pytest.approx(z1.var(unbiased=False).item(), rel=1e-6)
    assert p.msq_w[0] == pytest.approx(net[0][0].weight.double().square().mean().item(), rel=1e-6)


def same_pass(a: ini.Pass, b: ini.Pass) -> bool:
    """Every field equal, bit for bit (NaN and inf included)."""
    for name in a.__dataclass_fields__:
        x, y = getattr(a, name), getattr(b, name)
        if isinstance(x, np.ndarray):
            if x.dtype != y.dtype or x.shape != y.shape or x.tobytes() != y.tobytes():
                return False
        elif isinstance(x, float):
            if np.float64(x).tobytes() != np.float64(y).tobytes():
                return False
        elif x != y:
            return False
    return True


def test_kept_layers_are_mlps_layers_and_every_depth_is_a_prefix():
    """run_pass keeps the layers it draws and reuses them at every depth (core.initialization._drawn): each depth's
    layers, their statistics, and the batch drawn after them must be exactly what drawing `mlp(depth, …)` anew gives."""
    ini._STACKS.clear()
    for depth, width, activation, scheme, seed in [(7, 16, "relu", "default", 0), (3, 16, "tanh", "default", 0),
                                                   (12, 16, "elu", "kaiming_normal", 2), (5, 16, "relu", "kaiming_normal", 2),
                                                   (9, 32, "sigmoid", "normal", 1), (2, 32, "sigmoid", "xavier_uniform", 1),
                                                   (4, 8, "leaky_relu", "kaiming_uniform", 3), (6, 8, "sigmoid", "zeros", 3)]:
        stack, L = ini._drawn(depth, width, activation, scheme, seed), depth
        g = generator(seed)
        net = ini.mlp(depth, width, activation, scheme, False, g)
        weights, biases = [block[0].weight.detach() for block in net], [block[0].bias.detach() for block in net]
        assert all(torch.equal(w, mine) for w, mine in zip(weights, stack.weights[:L]))
        assert all(torch.equal(b, mine) for b, mine in zip(biases, stack.biases[:L]))
        restored = torch.Generator()
        restored.set_state(stack.states[L - 1])
        assert torch.equal(torch.randn(8, width, generator=g), torch.randn(8, width, generator=restored))
        assert np.array_equal(ini._norms(weights), stack.w_norm[:L]) and np.array_equal(ini._norms(biases), stack.b_norm[:L])
        assert max(max(float(w.amax()), -float(w.amin())) for w in weights) == max(stack.w_max[:L])
        with torch.no_grad():
            x = torch.randn(4, width, generator=generator(9))
            assert ini._layer_one(x, net[0][0](x), net[0][0]) == ini._layer_one(x, net[0][0](x), net[0][0], stack.first)


def test_a_pass_is_the_same_with_its_layers_kept_or_drawn_anew():
    settings = [(20, 64, "relu", "default", False), (5, 64, "tanh", "default", True), (33, 64, "relu", "default", False),
                (12, 64, "elu", "kaiming_uniform", False), (12, 64, "relu", "kaiming_uniform", True), (40, 256, "relu", "normal", False),
                (3, 8, "sigmoid", "zeros", True)]
    warm = [ini.run_pass(*s) for s in settings]  # each one reuses the layers the ones before it drew
    for s, p in zip(settings, warm):
        ini._STACKS.clear()
        assert same_pass(ini.run_pass(*s), p), s
    assert not np.isfinite(warm[5].var_z).all()  # N(0, 1) overflows float32 by layer 40: inf and NaN compared too


def test_kept_layers_stay_within_their_budget(monkeypatch):
    ini._STACKS.clear()
    monkeypatch.setattr(ini, "STACK_BUDGET", 3 * 64 * 64)
    for scheme in ("default", "normal", "xavier_uniform"):
        ini.run_pass(2, 64, "relu", scheme, False)
    assert sum(s.values for s in ini._STACKS.values()) <= 3 * 64 * 64 and len(ini._STACKS) == 1  # only the latest
    ini.run_pass(5, 64, "relu", "default", False)  # larger than the budget alone: kept, the others dropped
    assert [s.values for s in ini._STACKS.values()] == [5 * (64 * 64 + 64)]


def test_course_formula_predicts_each_layer_and_needs_the_mean_for_relu():
    """Var(z) = n·Var(W)·E[x²] + Var(b) holds layer by layer at width 512 (one batch of 32: a few % of noise per
    layer); the course's Var(x) version only when E[x] = 0. For ReLU, E[x²]/Var(x) = ½/(½ − 1/(2π)) ≈ 1.47."""
    p = ini.run_pass(12, 512, "relu", "kaiming_normal", False)
    ratio_mean = p.var_z / p.pred_mean
    ratio_course = p.var_z / p.pred_course
    assert np.all(np.abs(ratio_mean - 1) < 0.2) and abs(ratio_mean.mean() - 1) < 0.05, ratio_mean
    assert np.all(ratio_course[1:] > 1.2) and ratio_course[1:].mean() == pytest.approx(0.5 / (0.5 - 1 / (2 * math.pi)), rel=0.1)
    t = ini.run_pass(12, 512, "tanh", "xavier_uniform", False)  # tanh keeps a mean of 0: both agree
    assert np.all(np.abs(t.var_z / t.pred_course - 1) < 0.2) and abs((t.var_z / t.pred_course).mean() - 1) < 0.05
    assert np.allclose(t.pred_course, t.pred_mean, rtol=0.02)


def test_vanishing_preserving_and_exploding():
    n = 512
    default = ini.run_pass(30, n, "relu", "default", False)
    assert default.var_z[1] / default.var_z[0] == pytest.approx(1 / 6, rel=0.15)  # n·Var(W)·½ = 1/3 · 1/2 per layer
    floor = (1 / (3 * n)) / (1 - 1 / 6)  # then the bias, Var(b) = 1/(3n) a layer, holds it at Var(b)/(1 − 1/6)
    assert default.var_z[-1] == pytest.approx(floor, rel=0.3)
    assert default.grad_norm[0] / default.grad_norm[-1] < 1e-6
    kaiming = ini.run_pass(20, 512, "relu", "kaiming_uniform", False)
    assert 0.85 < ini.growth_per_layer(kaiming) < 1.15
    exploding = ini.run_pass(50, 512, "relu", "normal", False)
    assert exploding.overflow_layer is not None and 20 < exploding.overflow_layer < 40
    assert not np.isfinite(exploding.loss) and not np.isfinite(exploding.grad_norm).any()
    small = ini.run_pass(50, 512, "relu", "normal_small", False)
    assert small.overflow_layer is None and small.var_z[-1] < 1e-60 and ini.growth_per_layer(small) < 0.05
    assert ini.underflow_layer(kaiming) is None
    narrow = ini.run_pass(50, 64, "relu", "normal_small", False)  # narrower: it underflows to exactly 0 on the way
    k = ini.underflow_layer(narrow)
    assert k is not None and narrow.var_z[k - 1] == 0 and narrow.var_z[k - 2] > 0
    zeros = ini.run_pass(6, 16, "sigmoid", "zeros", False)
    assert (zeros.var_z == 0).all() and (zeros.grad_norm[:-1] == 0).all() and zeros.grad_norm[-1] > 0  # σ(0) = ½ feeds the last


def test_gradient_ratio_and_its_sentence_follow_the_layers_gradients():
    default = ini.run_pass(30, 512, "relu", "default", False)
    assert ini.gradient_ratio(default) == pytest.approx(float(default.grad_norm[0] / default.grad_norm[-1]))
    assert ini.gradient_verdict(default).endswith("vanishing: the early layers barely move.")
    kaiming = ini.run_pass(20, 512, "relu", "kaiming_uniform", False)
    assert 0.1 <= ini.gradient_ratio(kaiming) <= 10
    assert "within a factor of 10" in ini.gradient_verdict(kaiming)
    assert "nothing learns" not in ini.gradient_verdict(kaiming)
    tiny = ini.run_pass(50, 512, "relu", "normal_small", False)
    assert float(tiny.grad_norm.max()) < 1e-6 and "nothing learns" in ini.gradient_verdict(tiny)
    exploding = ini.run_pass(50, 512, "relu", "normal", False)  # overflows: the gradients are NaN
    assert np.isnan(ini.gradient_ratio(exploding)) and ini.gradient_verdict(exploding) is None
    assert ini.gradient_ratio_text(exploding) == "not finite" and ini.gradient_ratio_text(kaiming) == f"{ini.gradient_ratio(kaiming):.3g}"
    dead = ini.run_pass(50, 64, "relu", "normal_small", False)  # everything underflows: no layer gets a gradient
    assert (dead.grad_norm == 0).all() and ini.gradient_ratio_text(dead) == "0 ÷ 0"
    zeros = ini.run_pass(6, 16, "sigmoid", "zeros", False)  # layer 1 gets no gradient at all
    assert ini.gradient_ratio(zeros) == 0 and ini.gradient_verdict(zeros) is None
    one = ini.run_pass(1, 64, "relu", "default", False)
    assert ini.gradient_ratio(one) == pytest.approx(1.0) and ini.gradient_verdict(one) is None


def test_batchnorm_resets_the_scale_every_layer():
    for scheme in ("normal", "normal_small", "default"):
        p = ini.run_pass(30, 128, "relu", scheme, True)
        assert p.overflow_layer is None
        assert np.all((p.var_u > 0.99) & (p.var_u <= 1)), scheme  # σ²/(σ² + ε): just below 1 when σ² is small
        assert p.bn_var_u1 == pytest.approx(p.bn_var_u1_formula, abs=1e-5)


def test_shares_saturation_and_dead_units():
    tanh = ini.run_pass(10, 256, "tanh", "normal", False)  # N(0, 1): |z| ~ 16, deep in saturation
    assert (tanh.share > 0.8).all()
    relu = ini.run_pass(10, 64, "relu", "default", False)
    assert np.all(np.abs(relu.share - 0.5) < 0.1)
    assert np.isnan(tanh.dead_units).all() and (relu.dead_units >= 0).all() and (relu.dead_units <= relu.share + 1e-12).all()
    edge = ini.saturation_edge("tanh", ini.SATURATION)
    assert 1 - math.tanh(edge) ** 2 == pytest.approx(ini.SATURATION)


def test_histograms_count_every_value():
    for args in [(8, 64, "sigmoid", "xavier_normal", True), (4, 16, "tanh", "zeros", False), (40, 512, "relu", "normal", False)]:
        p = ini.run_pass(*args)
        for layer in range(p.depth):
            if p.finite[layer]:
                assert p.u_counts[layer].sum() == p.a_counts[layer].sum() == ini.VALUES_PER_LAYER
                assert np.all(np.diff(p.u_edges[layer]) > 0) and np.all(np.diff(p.a_edges[layer]) > 0)
            else:
                assert p.u_counts[layer].sum() == 0 and np.isnan(p.u_edges[layer]).all()


def test_norms_and_moments_survive_float32_extremes():
    big, tiny = torch.full((100, 100), 1e30), torch.full((100, 100), 1e-30)
    assert ini._norms([big, tiny, torch.zeros(3, 3)]) == pytest.approx([1e32, 1e-28, 0.0], rel=1e-6)
    t = torch.stack([torch.randn(8, 100) * 1e30, torch.randn(8, 100) * 1e-30, 0.5 + 1e-3 * torch.randn(8, 100)])
    var, msq = ini._moments(t)
    ref = t.double().flatten(1)
    assert var == pytest.approx(ref.var(1, unbiased=False).numpy(), rel=1e-5)
    assert msq == pytest.approx(ref.square().mean(1).numpy(), rel=1e-5)


def test_layer_one_standard_error_is_the_spread_over_batches():
    """The tolerance of the layer-1 check is the real spread of E[z²] over fresh batches, for a fixed W and b."""
    linear = drawn("default", "relu", 64, 64, seed=1)
    values = []
    g = generator(2)
    for _ in range(300):
        x = torch.randn(32, 64, generator=g)
        with torch.no_grad():
            measured, predicted, se = ini._layer_one(x, linear(x), linear)
        values.append(measured)
    assert np.mean(values) == pytest.approx(predicted, rel=0.02)
    assert np.std(values) == pytest.approx(se, rel=0.15)


def test_variance_standard_error_matches_repeated_draws():
    for uniform in (True, False):
        msq = []
        for seed in range(400):
            w = torch.empty(2000, dtype=torch.float64)
            (nn.init.uniform_(w, -1, 1, generator=generator(seed)) if uniform else nn.init.normal_(w, 0, 1, generator=generator(seed)))
            msq.append(w.square().mean().item())
        var = 1 / 3 if uniform else 1.0
        assert np.std(msq) == pytest.approx(ini.variance_se(var, 2000, uniform), rel=0.15)


def test_a_wrong_formula_fails_its_check():
    p = ini.run_pass(10, 256, "relu", "default", False)
    assert all(c.passed for c in ini.checks(p, ini.default_linear(256)))
    wrong = ini.Pass(**{**p.__dict__, "var_w_formula": ini.weight_variance("kaiming_uniform", "relu", 256, 256)})
    assert not ini.checks(wrong)[0].passed


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(depth=st.integers(1, ini.MAX_DEPTH), width=st.sampled_from(ini.WIDTHS[:5]), activation=st.sampled_from(ini.ACTIVATIONS),
       scheme=st.sampled_from(ini.SCHEMES), batchnorm=st.booleans(), layer=st.integers(1, ini.MAX_DEPTH))
def test_every_combination_passes_its_checks_and_draws(depth, width, activation, scheme, batchnorm, layer):
    p = ini.run_pass(depth, width, activation, scheme, batchnorm)
    failed = [c for c in ini.checks(p, ini.default_linear(width)) if not c.passed]
    assert not failed, failed
    assert len(p.var_z) == len(p.grad_norm) == len(ini.layer_table(p)) == depth
    layer = min(layer, depth)
    edge = ini.saturation_edge(activation, ini.SATURATION) if activation in ("sigmoid", "tanh") else None
    go.Figure(charts.init_variance_profile(p).to_dict())
    go.Figure(charts.init_layer_histograms(p, layer, ini.ACTIVATION_LABELS[activation], edge).to_dict())
    go.Figure(charts.init_layer_shares(p, layer, ini.share_label(activation)).to_dict())


@pytest.mark.parametrize("width", [512])
@pytest.mark.parametrize("scheme", ["default", "normal", "kaiming_normal", "zeros"])
def test_checks_pass_at_full_size(scheme, width):
    p = ini.run_pass(ini.MAX_DEPTH, width, "tanh", scheme, scheme == "normal")
    assert all(c.passed for c in ini.checks(p, ini.default_linear(width)))


def test_bad_settings_are_refused():
    with pytest.raises(ValueError):
        ini.run_pass(0, 16, "relu", "default", False)
    with pytest.raises(ValueError):
        ini.run_pass(3, 16, "gelu", "default", False)
    with pytest.raises(ValueError):
        ini.run_pass(3, 16, "relu", "orthogonal", False)


def test_backward_panel_says_why_it_is_empty():
    texts = lambda fig: [a["text"] for a in fig.layout.annotations]  # noqa: E731
    empty = ini.run_pass(50, 64, "tanh", "normal_small", False)
    assert not (empty.grad_norm > 0).any()
    note = [t for t in texts(charts.init_variance_profile(empty)) if "nothing to draw" in t]
    assert note == ["every ‖∂L/∂W‖ is exactly 0:<br>nothing to draw on a log axis"]
    assert charts.init_variance_profile(empty).layout.yaxis2.showticklabels is False
    drawn = ini.run_pass(10, 64, "tanh", "default", False)
    assert not [t for t in texts(charts.init_variance_profile(drawn)) if "nothing to draw" in t]
    assert charts.init_variance_profile(drawn).layout.yaxis2.showticklabels is not False
    overflow = ini.Pass(**{**drawn.__dict__, "grad_norm": np.full(10, np.inf)})
    assert any("positive finite" in t for t in texts(charts.init_variance_profile(overflow)))


def test_forward_verdict_names_the_trend_and_its_cause():
    shrink = ini.forward_verdict(ini.run_pass(10, 64, "tanh", "normal_small", False), "Tanh")
    assert shrink.startswith("Var(z) shrinks") and "n·Var(W) = 0.0064" in shrink
    grow = ini.forward_verdict(ini.run_pass(10, 64, "relu", "normal", False), "ReLU")
    assert grow.startswith("Var(z) grows") and "n·Var(W) = 64" in grow
    kept = ini.forward_verdict(ini.run_pass(10, 64, "relu", "normal", True), "ReLU")
    assert "BatchNorm hands every activation an input of variance 1" in kept
    assert ini.forward_verdict(ini.run_pass(1, 64, "relu", "default", False), "ReLU") is None
    assert ini.number(float("inf")) == "inf" and ini.number(0.000123456) == "0.000123"
