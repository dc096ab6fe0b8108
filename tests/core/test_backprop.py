"""The Backpropagation page's math against PyTorch: the course's δ recursion and gradients against autograd for
random networks and every loss, the output layer's δ rules, the saturated BCELoss, one SGD step against
optim.SGD, and LoopLab's presses against the same calls made on a plain PyTorch model."""
import random

import numpy as np
import plotly.graph_objects as go
import pytest
import torch
from torch import nn, optim

from core import backprop as bp
from core import charts
from core.data import water_frames
from core.models import WaterNet, init_parameters
from core.rng import generator


def random_setting(seed: int, loss: str | None = None) -> bp.Setting:
    rng = random.Random(seed)
    return bp.Setting(sample=rng.randrange(bp.table_size()), batch=rng.randint(1, bp.MAX_BATCH),
                      hidden1=rng.randint(1, bp.MAX_WIDTH), hidden2=rng.randint(1, bp.MAX_WIDTH),
                      loss=loss or rng.choice(bp.LOSSES), lr=rng.choice(bp.LR_CHOICES), seed=rng.randrange(10_000))


@pytest.mark.parametrize("loss", bp.LOSSES)
@pytest.mark.parametrize("seed", range(8))
def test_hand_deltas_and_gradients_match_autograd_in_float64(loss, seed):
    """A random float64 network with Gaussian weights (so units of every sign occur), random inputs and labels:
    the course's recursion gives autograd's ∂L/∂z⁽ˡ⁾ and .grad to float64 precision."""
    g = generator(1000 + seed)
    rng = random.Random(seed)
    n = [8 if loss == bp.CROSS_ENTROPY else 9, rng.randint(1, 20), rng.randint(1, 20), 3 if loss == bp.CROSS_ENTROPY else 1]
    batch = rng.randint(1, 6)
    params = [(torch.randn(n[l + 1], n[l], generator=g, dtype=torch.float64, requires_grad=True),
               torch.randn(n[l + 1], generator=g, dtype=torch.float64, requires_grad=True)) for l in range(3)]
    x = torch.rand(batch, n[0], generator=g, dtype=torch.float64)
    if loss == bp.CROSS_ENTROPY:
        y = torch.randint(0, 3, (batch,), generator=g)
    else:
        y = torch.randint(0, 2, (batch,), generator=g).double()
    # autograd on the row layout nn.Linear uses
    zs_auto, h = [], x
    for l, (w, b) in enumerate(params):
        z = nn.functional.linear(h, w, b)
        zs_auto.append(z)
        h = torch.relu(z) if l < 2 else z
    out = zs_auto[-1]
    if loss == bp.CROSS_ENTROPY:
        value = nn.CrossEntropyLoss()(out, y)
    else:
        value = bp.criterion(loss)(torch.sigmoid(out), y.view(-1, 1))
    auto = torch.autograd.grad(value, [*zs_auto, *[t for p in params for t in p]])
    # the course's column layout, by hand
    plain = [(w.detach(), b.detach()) for w, b in params]
    zs, acts = bp.forward_by_hand(plain, x, loss == bp.CROSS_ENTROPY)
    deltas, _, grads = bp.backprop_by_hand(plain, zs, acts, bp.output_delta(zs[-1], acts[-1], y, loss))
    for l in range(3):
        assert torch.allclose(deltas[l], auto[l].T, rtol=1e-10, atol=1e-12), f"δ⁽{l + 1}⁾"
        assert torch.allclose(grads[l][0], auto[3 + 2 * l], rtol=1e-10, atol=1e-12), f"∂L/∂W⁽{l + 1}⁾"
        assert torch.allclose(grads[l][1], auto[4 + 2 * l], rtol=1e-10, atol=1e-12), f"∂L/∂b⁽{l + 1}⁾"
    assert bp.losses_by_hand(acts[-1], y, loss == bp.CROSS_ENTROPY)[loss] == pytest.approx(float(value.detach()), rel=1e-12)


@pytest.mark.parametrize("seed", range(24))
def test_every_check_passes_over_random_settings(seed):
    v = bp.view(random_setting(seed, bp.LOSSES[seed % 3]))
    checks = bp.checks(v)
    assert len(checks) >= 9
    assert all(c.passed for c in checks), [c for c in checks if not c.passed]


def _course_net(setting: bp.Setting) -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    """The course's Net and the page's batch, rebuilt straight from core.models and the bundled CSV."""
    df = water_frames()[0]
    rows = [(setting.sample + i) % len(df) for i in range(setting.batch)]
    net = init_parameters(WaterNet(9, setting.hidden1, setting.hidden2), "default", generator(setting.seed))
    x = torch.tensor(df.iloc[rows, :-1].to_numpy(), dtype=torch.float32).contiguous()  # row-major, as a DataLoader gives
    y = torch.tensor(df.iloc[rows, -1].to_numpy(), dtype=torch.float32).view(-1, 1)
    return net, x, y


@pytest.mark.parametrize("loss", ["BCE", "MSE"])
def test_the_view_uses_the_course_net_on_the_bundled_rows(loss):
    s = bp.Setting(sample=1797, batch=5, hidden1=12, hidden2=6, loss=loss, lr=0.05, seed=42)
    v = bp.view(s)
    net, x, y = _course_net(s)
    assert v.batch.rows == (1797, 1798, 1799, 0, 1)
    assert np.allclose(v.net_output, net(x).detach().numpy(), atol=0)
    value = bp.criterion(loss)(net(x), y)
    value.backward()
    assert v.loss_value == pytest.approx(float(value.detach()), abs=0)
    for l, layer in enumerate((net.fc1, net.fc2, net.fc3)):
        assert np.array_equal(v.grads_torch[l][0], layer.weight.grad.numpy())
        assert np.allclose(v.grads_hand[l][0], layer.weight.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_output_delta_is_a_minus_y_for_bce_and_carries_sigma_prime_for_mse():
    v_bce = bp.view(bp.Setting(sample=3, loss="BCE"))
    v_mse = bp.view(bp.Setting(sample=3, loss="MSE"))
    a, y = v_bce.acts[-1][0, 0], float(v_bce.batch.y[0])
    assert v_bce.deltas[-1][0, 0] == pytest.approx(a - y, rel=1e-12)
    assert v_mse.deltas[-1][0, 0] == pytest.approx(2 * (a - y) * a * (1 - a), rel=1e-12)
    assert abs(v_mse.deltas[-1][0, 0]) < abs(v_bce.deltas[-1][0, 0])  # σ′ ≤ 1/4 shrinks it
    v = bp.view(bp.Setting(sample=3, batch=4, loss="BCE"))  # the mean over B divides every δ by B
    assert np.allclose(v.deltas[-1] * 4, v.acts[-1] - v.batch.y[None, :], rtol=1e-12)


def test_cross_entropy_variant_predicts_ph_terciles_from_the_other_features():
    s = bp.Setting(sample=10, batch=8, loss=bp.CROSS_ENTROPY)
    b = bp.batch(s)
    df = water_frames()[0]
    assert "ph" not in b.features and len(b.features) == 8
    lo, hi = bp.ph_edges()
    counts = np.bincount(np.digitize(df["ph"], [lo, hi]), minlength=3)
    assert counts.min() > 0.3 * len(df)  # terciles: three classes of about the same size
    assert list(b.y) == [int(np.digitize(p, [lo, hi])) for p in df["ph"].iloc[10:18]]
    v = bp.view(s)
    p = torch.softmax(torch.tensor(v.net_output, dtype=torch.float64), 1)
    onehot = nn.functional.one_hot(torch.tensor(b.y), 3)
    assert np.allclose(v.deltas[-1], ((p - onehot) / 8).T.numpy(), atol=1e-7)
    ps = bp.per_sample(v)
    assert np.allclose(ps.loss, nn.CrossEntropyLoss(reduction="none")(torch.tensor(v.net_output), torch.tensor(b.y)).numpy(), atol=1e-6)


@pytest.mark.parametrize("loss", ["BCE", "MSE"])
def test_per_sample_losses_match_reduction_none(loss):
    v = bp.view(bp.Setting(sample=100, batch=6, loss=loss))
    out, y = torch.tensor(v.net_output), torch.tensor(v.batch.y).view(-1, 1)
    reduce_none = {"BCE": nn.BCELoss(reduction="none"), "MSE": nn.MSELoss(reduction="none")}[loss]
    ps = bp.per_sample(v)
    assert np.allclose(ps.loss, reduce_none(out, y).view(-1).numpy(), rtol=1e-5)
    assert ps.loss.mean() == pytest.approx(v.loss_value, rel=1e-5)
    assert np.allclose(ps.delta, v.deltas[-1][0] * 6, rtol=1e-10)


def test_bce_loss_on_a_saturated_sigmoid_loses_the_loss_and_the_gradient():
    t = bp.saturation_table()
    exact, bce, logits = t["exact ℓ = log(1 + eᶻ)"], t["BCELoss(σ(z), 0)"], t["BCEWithLogitsLoss(z, 0)"]
    assert np.allclose(logits, exact, rtol=1e-6)  # stable everywhere
    saturated = t["σ(z), float32"] == 1.0
    assert list(t.z[saturated]) == [17.0, 20.0, 50.0]
    assert (bce[saturated] == 100.0).all()  # log(0) clamped to −100
    assert (t["∂ℓ/∂z via BCELoss"][saturated] == 0).all() and np.allclose(t["∂ℓ/∂z via BCEWithLogits"], t["exact ∂ℓ/∂z = σ(z)"])
    z15 = t.set_index("z").loc[15.0]
    assert abs(z15["BCELoss(σ(z), 0)"] - z15["exact ℓ = log(1 + eᶻ)"]) > 0.1  # precision lost before saturation


@pytest.mark.parametrize("seed", range(3))
def test_sgd_step_and_accumulation_checks_hold(seed):
    v = bp.view(random_setting(50 + seed))
    assert v.sgd_error < 1e-6 and v.accumulation_error == 0.0


def _reference(setting: bp.Setting, actions: list[str]):
    """The same calls on a plain PyTorch model: (ok, .grad of every parameter or None, parameters) after each."""
    net, x, y = _course_net(setting)
    crit = bp.criterion(setting.loss)
    sgd = optim.SGD(net.parameters(), lr=setting.lr)
    loss, states = None, []
    for action in actions:
        ok = True
        if action == "zero_grad":
            sgd.zero_grad()
        elif action == "forward":
            loss = crit(net(x), y)
        elif action == "step":
            sgd.step()
        elif loss is None:
            ok = False
        else:
            try:
                loss.backward()
            except RuntimeError:
                ok = False
        states.append((ok, [None if p.grad is None else p.grad.clone() for p in net.parameters()],
                       [p.detach().clone() for p in net.parameters()]))
    return states


@pytest.mark.parametrize("seed", range(12))
def test_loop_lab_presses_behave_like_pytorch(seed):
    rng = random.Random(seed)
    s = random_setting(200 + seed, rng.choice(["BCE", "MSE"]))
    actions = [rng.choice(["zero_grad", "forward", "forward", "backward", "backward", "step"]) for _ in range(14)]
    lab = bp.LoopLab(s)
    presses = [lab.press(a) for a in actions]
    for i, ((ok, grads, params), press) in enumerate(zip(_reference(s, actions), presses)):
        assert press.ok == ok, (i, actions[: i + 1], press.message)
        for (name, got), want in zip(press.grads.items(), grads):
            assert (got is None) == (want is None), (i, name)
            if want is not None:
                assert np.array_equal(got, want.numpy()), (i, name)
        for got, want in zip(press.params.values(), params):
            assert np.array_equal(got, want.numpy())


def test_without_zero_grad_the_gradient_doubles_and_pytorch_errors_are_reported():
    lab = bp.LoopLab(bp.Setting(sample=7, hidden1=10, hidden2=4))
    first = lab.backward()
    assert not first.ok and "press forward first" in first.message and first.grads["fc1.weight"] is None
    lab.forward()
    once = lab.backward()
    assert once.ok and once.passes == 1 and once.ratio == pytest.approx(1.0)
    twice_same_graph = lab.backward()
    assert not twice_same_graph.ok and "second time" in twice_same_graph.message
    lab.forward()
    twice = lab.backward()
    assert twice.passes == 2 and twice.ratio == pytest.approx(2.0)
    for name in once.grads:
        assert np.array_equal(twice.grads[name], 2 * once.grads[name])
    lab.forward()
    lab.step()
    stale = lab.backward()  # the step changed the weights this graph saved
    assert not stale.ok and "inplace" in stale.message
    cleared = lab.zero_grad()
    assert cleared.passes == 0 and all(g is None for g in cleared.grads.values())
    nothing = lab.step()
    assert nothing.ok and "changed nothing" in nothing.message
    assert all(np.array_equal(nothing.params[n], cleared.params[n]) for n in nothing.params)
    table = bp.log_table(lab.log, "fc2", lab.start)
    assert list(table["pressed"]) == ["start", "backward", "forward", "backward", "backward", "forward", "backward",
                                      "forward", "step", "backward", "zero_grad", "step"]
    assert table["‖fc2.weight.grad‖"].iloc[-1] == "None"
    assert float(table["‖fc2.weight.grad‖"].iloc[6]) == pytest.approx(2 * float(table["‖fc2.weight.grad‖"].iloc[3]), rel=1e-6)


def test_sgd_step_in_the_lab_is_theta_minus_lr_grad():
    s = bp.Setting(sample=20, batch=3, lr=0.5)
    lab = bp.LoopLab(s)
    lab.forward()
    after_backward = lab.backward()
    stepped = lab.step()
    assert stepped.sgd_error < 1e-6
    for name in stepped.params:
        expected = after_backward.params[name] - 0.5 * after_backward.grads[name]
        assert np.allclose(stepped.params[name], expected, atol=1e-7)
        assert np.array_equal(stepped.grads[name], after_backward.grads[name])  # step leaves .grad alone
    assert bp.moved(stepped, lab.start, "fc1") > 0


def test_the_log_keeps_the_latest_presses():
    lab = bp.LoopLab(bp.Setting())
    for _ in range(bp.MAX_LOG + 10):
        lab.forward()
    assert len(lab.log) == bp.MAX_LOG and lab.log[-1].number == bp.MAX_LOG + 10


@pytest.mark.parametrize("bad", [dict(loss="Hinge"), dict(batch=0), dict(batch=bp.MAX_BATCH + 1), dict(hidden1=0),
                                 dict(hidden2=bp.MAX_WIDTH + 1), dict(lr=0.0)])
def test_impossible_settings_are_refused(bad):
    with pytest.raises(ValueError):
        bp.view(bp.Setting(**bad))
    with pytest.raises(ValueError):
        bp.LoopLab(bp.Setting(**bad))


def test_the_smallest_network_still_checks_out():
    v = bp.view(bp.Setting(hidden1=1, hidden2=1, batch=bp.MAX_BATCH))
    assert all(c.passed for c in bp.checks(v))


def validated(fig: go.Figure) -> go.Figure:
    go.Figure(fig.to_dict())  # raises on any invalid property
    return fig


@pytest.mark.parametrize("loss", bp.LOSSES)
def test_every_chart_is_a_valid_figure(loss):
    v = bp.view(bp.Setting(batch=3, loss=loss, hidden1=20))
    ps = bp.per_sample(v)
    samples = [f"row {r}" for r in v.batch.rows]
    fig = validated(charts.forward_pass_maps(v.zs, v.acts, v.batch.features, samples, "σ"))
    assert len(fig.data) == 7 and np.asarray(fig.data[1].z).shape == (20, 3)
    fig = validated(charts.error_signal_maps(v.deltas, v.backs, v.zs, samples))
    assert len(fig.data) == 7 and set(np.unique(np.asarray(fig.data[2].z))) <= {0.0, 1.0}
    fig = validated(charts.loss_of_prediction(loss, ps.y, ps.y_hat, ps.z, ps.loss, ps.delta, v.setting.multiclass))
    assert list(fig.data[-2].y) == pytest.approx(list(ps.loss))
    (hw, hb), (tw, tb) = v.grads_hand[1], v.grads_torch[1]
    fig = validated(charts.hand_vs_autograd_grads(hw, hb, tw, tb, 2, "fc2"))
    assert np.asarray(fig.data[0].z).shape == (v.setting.hidden2, 21)
    lab = bp.LoopLab(v.setting)
    lab.forward()
    fig = validated(charts.loop_layer_state(lab.last.params["fc3.weight"], lab.last.params["fc3.bias"], None, None, "fc3"))
    assert len(fig.data) == 1 and any(a.text == ".grad is None" for a in fig.layout.annotations)
    lab.backward()
    fig = validated(charts.grad_norm_by_press([p.number for p in lab.log], [p.action for p in lab.log],
                                              [bp.grad_norm(p, "fc3") for p in lab.log], [p.passes for p in lab.log], "fc3"))
    assert list(fig.data[0].text[:2]) == ["None", "None"]
