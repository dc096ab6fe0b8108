"""The LSTM & GRU gates page's math against PyTorch: the gates and states recomputed from weight_ih_l0,
weight_hh_l0 and the biases equal nn.LSTM, nn.GRU and nn.RNN outputs on random inputs and weights; PyTorch's gate
order; the course's form of each cell (equal for the RNN and the LSTM, different for the GRU, and exactly why);
the inputs, the training tasks, the checks and the figures."""
import math

import numpy as np
import plotly.graph_objects as go
import pytest
import torch
from torch import nn

from core import charts, gates
from core import gate_tasks as tasks
from core.data import electricity_frame

TIGHT = 1e-12  # float64 module against float64 recomputation


def random_module(cell: str, d: int, h: int, seed: int, scale: float = 0.7) -> nn.RNNBase:
    """A float64 one-layer module with weights and biases drawn N(0, scale²): large enough to saturate some gates."""
    g = torch.Generator().manual_seed(seed)
    module = gates.MODULES[cell](d, h, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(scale * torch.randn(p.shape, generator=g, dtype=torch.float64))
    return module


def random_input(n: int, t: int, d: int, seed: int) -> torch.Tensor:
    return torch.randn(n, t, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


SHAPES = [(1, 1, 5, 1), (3, 4, 17, 2), (2, 16, 40, 3)]  # (D, H, T, N)


@pytest.mark.parametrize("cell", gates.CELLS)
@pytest.mark.parametrize("d, h, t, n", SHAPES)
@pytest.mark.parametrize("seed", [0, 1])
def test_recomputed_states_equal_the_module_outputs(cell, d, h, t, n, seed):
    module = random_module(cell, d, h, seed)
    x = random_input(n, t, d, seed + 100)
    g = torch.Generator().manual_seed(seed + 200)
    h0 = torch.tanh(torch.randn(n, h, generator=g, dtype=torch.float64))  # a state a cell could have reached
    c0 = torch.randn(n, h, generator=g, dtype=torch.float64)
    with torch.no_grad():
        if cell == "LSTM":
            out, (h_n, c_n) = module(x, (h0[None], c0[None]))
        else:
            out, h_n = module(x, h0[None])
        ours = gates.pytorch_equations(cell, *gates.module_weights(module), x, h0, c0 if cell == "LSTM" else None)
    assert set(gates.QUANTITIES[cell]) <= set(ours)
    assert ours["h"].shape == (n, t, h)
    torch.testing.assert_close(ours["h"], out, atol=TIGHT, rtol=0)
    torch.testing.assert_close(ours["h"][:, -1], h_n[0], atol=TIGHT, rtol=0)
    if cell == "LSTM":
        torch.testing.assert_close(ours["c"][:, -1], c_n[0], atol=TIGHT, rtol=0)
    for name in set(ours) & set(gates.GATES):
        assert 0 < ours[name].min() and ours[name].max() < 1
    for name in set(ours) & {"g", "n", "h"}:
        assert ours[name].abs().max() < 1


@pytest.mark.parametrize("d, h, t, n", SHAPES)
def test_every_cell_state_equals_the_module_stepped_one_step_at_a_time(d, h, t, n):
    module = random_module("LSTM", d, h, seed=5)
    x = random_input(n, t, d, seed=6)
    with torch.no_grad():
        ours = gates.pytorch_equations("LSTM", *gates.module_weights(module), x)
        for k in range(n):
            state, stepped = None, []
            for step in range(t):
                _, state = module(x[k : k + 1, step : step + 1], state)
                stepped.append(state[1][0, 0])
            stepped = torch.stack(stepped)
            torch.testing.assert_close(gates.prefix_cell_states(module, x[k]), stepped, atol=TIGHT, rtol=0)
            torch.testing.assert_close(ours["c"][k], stepped, atol=TIGHT, rtol=0)


def test_pytorch_gate_order_lstm_i_f_g_o():
    """Zero weights and a distinct bias per block: the module's own outputs follow the order i, f, g, o."""
    module = gates.MODULES["LSTM"](1, 1, batch_first=True, dtype=torch.float64)
    b_i, b_f, b_g, b_o = 0.3, -1.2, 0.8, 2.0
    with torch.no_grad():
        for p in module.parameters():
            p.zero_()
        module.bias_ih_l0.copy_(torch.tensor([b_i, b_f, b_g, b_o], dtype=torch.float64))
        out, (_, c_n) = module(torch.zeros(1, 2, 1, dtype=torch.float64))
        ours = gates.pytorch_equations("LSTM", *gates.module_weights(module), torch.zeros(1, 2, 1, dtype=torch.float64))
    sig = lambda v: 1 / (1 + math.exp(-v))  # noqa: E731
    c1 = sig(b_i) * math.tanh(b_g)
    c2 = sig(b_f) * c1 + sig(b_i) * math.tanh(b_g)
    assert out[0, :, 0].tolist() == pytest.approx([sig(b_o) * math.tanh(c1), sig(b_o) * math.tanh(c2)], abs=1e-14)
    assert float(c_n) == pytest.approx(c2, abs=1e-14)
    assert float(ours["f"][0, 0, 0]) == pytest.approx(sig(b_f), abs=1e-14)
    assert float(ours["g"][0, 0, 0]) == pytest.approx(math.tanh(b_g), abs=1e-14)


def test_pytorch_gate_order_gru_r_z_n_and_its_update():
    """Zero weights: r, z, n come from the bias blocks in the order r, z, n; h_1 = (1 − z)·n + z·h_0; r scales b_hn."""
    module = gates.MODULES["GRU"](1, 1, batch_first=True, dtype=torch.float64)
    b_ir, b_iz, b_in, b_hr, b_hz, b_hn = 0.5, -0.7, 0.9, 0.1, 0.4, -1.5
    h0 = 0.6
    with torch.no_grad():
        for p in module.parameters():
            p.zero_()
        module.bias_ih_l0.copy_(torch.tensor([b_ir, b_iz, b_in], dtype=torch.float64))
        module.bias_hh_l0.copy_(torch.tensor([b_hr, b_hz, b_hn], dtype=torch.float64))
        out, _ = module(torch.zeros(1, 1, 1, dtype=torch.float64), torch.full((1, 1, 1), h0, dtype=torch.float64))
    sig = lambda v: 1 / (1 + math.exp(-v))  # noqa: E731
    r, z = sig(b_ir + b_hr), sig(b_iz + b_hz)
    n = math.tanh(b_in + r * b_hn)  # r multiplies b_hn too
    assert float(out) == pytest.approx((1 - z) * n + z * h0, abs=1e-14)
    course_n = math.tanh(b_in + b_hn)  # the course's h̃: r scales h_{t−1} = … W_hn (r ⊙ h) = 0 here, b_h unscaled
    assert float(out) != pytest.approx((1 - z) * course_n + z * h0, abs=1e-6)


@pytest.mark.parametrize("cell", ["LSTM", "RNN"])
@pytest.mark.parametrize("seed", [0, 3])
def test_course_form_is_the_same_function_for_lstm_and_rnn(cell, seed):
    module = random_module(cell, 2, 5, seed)
    x = random_input(3, 30, 2, seed + 1)
    w = gates.module_weights(module)
    with torch.no_grad():
        out, _ = module(x)
        course = gates.course_equations(cell, *w, x)
        ours = gates.pytorch_equations(cell, *w, x)
    torch.testing.assert_close(course["h"], out, atol=TIGHT, rtol=0)
    for name in gates.QUANTITIES[cell]:
        torch.testing.assert_close(course[name], ours[name], atol=TIGHT, rtol=0)
    W = gates.course_weights(cell, *w)
    H, D = 5, 2
    assert all(m.shape == (H, H + D) and b.shape == (H,) for m, b in W.values())
    if cell == "LSTM":  # the course's W_f is [W_hf | W_if] and b_f = b_if + b_hf: rows H … 2H − 1 of PyTorch's stack
        torch.testing.assert_close(W["f"][0], torch.cat([module.weight_hh_l0[H : 2 * H], module.weight_ih_l0[H : 2 * H]], 1))
        torch.testing.assert_close(W["f"][1], module.bias_ih_l0[H : 2 * H] + module.bias_hh_l0[H : 2 * H])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_course_gru_differs_and_only_the_reset_placement_is_why(seed):
    module = random_module("GRU", 2, 6, seed)
    x = random_input(2, 25, 2, seed + 10)
    w = gates.module_weights(module)
    with torch.no_grad():
        out, _ = module(x)
        ours = gates.pytorch_equations("GRU", *w, x)
        course = gates.course_equations("GRU", *w, x)
        moved = gates.course_equations("GRU", *w, x, reset_after=True)
    assert (course["h"] - out).abs().max() > 1e-3  # a different function
    torch.testing.assert_close(moved["h"], out, atol=TIGHT, rtol=0)
    torch.testing.assert_close(moved["z"], 1 - ours["z"], atol=TIGHT, rtol=0)  # the course's z is 1 − PyTorch's
    torch.testing.assert_close(moved["r"], ours["r"], atol=TIGHT, rtol=0)


def test_course_gru_equals_nn_gru_when_w_hn_is_diagonal_and_b_hn_is_zero():
    """r ⊙ (W_hn h + b_hn) = W_hn (r ⊙ h) for every r exactly when W_hn is diagonal and b_hn = 0."""
    H = 4
    module = random_module("GRU", 3, H, seed=7)
    with torch.no_grad():
        w_hn = module.weight_hh_l0[2 * H :]
        w_hn.copy_(torch.diag(torch.diagonal(w_hn)))
        module.bias_hh_l0[2 * H :] = 0
        x = random_input(2, 20, 3, seed=8)
        out, _ = module(x)
        course = gates.course_equations("GRU", *gates.module_weights(module), x)
    torch.testing.assert_close(course["h"], out, atol=TIGHT, rtol=0)


@pytest.mark.parametrize("cell", gates.CELLS)
@pytest.mark.parametrize("kind", tasks.INPUTS)
def test_the_page_view_passes_every_check(cell, kind):
    model = tasks.build(cell, 5, kind, trained=False, seed=2)
    x, target = tasks.signal(kind, 37, 0.13, seed=2)
    tr = gates.trace(model, x, target)
    assert (tr.steps, tr.hidden) == (37, 5)
    checks = gates.checks(tr, unit=4)
    assert len(checks) == (6 if cell == "LSTM" else 4)
    assert all(c.passed for c in checks), [c for c in checks if not c.passed]
    assert tr.course_gap > 1e-3 if cell == "GRU" else tr.course_gap < 1e-5
    assert checks[0].formula == pytest.approx(tr.values["h"][-1, 4]) and checks[0].pytorch == pytest.approx(tr.module_h[-1, 4])


@pytest.mark.parametrize("hidden, seq_len", [(1, tasks.MIN_LEN), (tasks.MAX_HIDDEN, tasks.MAX_LEN)])
def test_edge_sizes(hidden, seq_len):
    for cell in gates.CELLS:
        tr = gates.trace(tasks.build(cell, hidden, "sine", False, 0), *tasks.signal("sine", seq_len, tasks.MAX_FREQ))
        assert tr.values["h"].shape == (seq_len, hidden)
        assert all(c.passed for c in gates.checks(tr, hidden - 1))


def test_a_misread_gate_order_fails_its_check():
    """Reading PyTorch's stack as the course's order (f, i, c, o) gives other states: the check catches it."""
    model = tasks.build("LSTM", 6, "impulse", False, seed=1)
    tr = gates.trace(model, *tasks.signal("impulse", 30))
    w_ih, w_hh, b_ih, b_hh = gates.module_weights(model.module().rnn)
    swap = torch.cat([torch.arange(6, 12), torch.arange(0, 6), torch.arange(12, 24)])  # i ↔ f
    x = torch.tensor(tr.x).view(1, -1, 1)
    wrong = gates.pytorch_equations("LSTM", w_ih[swap], w_hh[swap], b_ih[swap], b_hh[swap], x)
    bad = gates.Trace(**{**tr.__dict__, "values": {k: v[0].numpy() for k, v in wrong.items()}})
    assert not gates.checks(bad, 0)[0].passed
    assert gates.checks(tr, 0)[0].passed


def test_untrained_model_is_pytorchs_default_initialisation_at_the_seed():
    a, b, c = (tasks.build("GRU", 9, "walk", False, s) for s in (4, 4, 5))
    bound = 1 / math.sqrt(9)
    for name in ("rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0"):
        assert np.abs(a.state[name]).max() <= bound
        assert np.array_equal(a.state[name], b.state[name])
        assert not np.array_equal(a.state[name], c.state[name])
    assert a.state["rnn.weight_ih_l0"].shape == (27, 1) and a.state["rnn.weight_hh_l0"].shape == (27, 9)
    assert not a.trained and a.losses == ()


def test_trained_model_learns_to_remember_the_impulse():
    untrained = tasks.build("LSTM", 8, "impulse", False, 0)
    trained = tasks.build("LSTM", 8, "impulse", True, 0)
    assert trained.trained and len(trained.losses) == tasks.TRAIN_STEPS and trained.message is None
    assert np.mean(trained.losses[-16:]) < trained.losses[0] / 5
    signal = tasks.signal("impulse", tasks.TRAIN_LEN)
    after, before = gates.trace(trained, *signal), gates.trace(untrained, *signal)
    assert after.mse < before.mse / 5
    assert not np.array_equal(trained.state["rnn.weight_hh_l0"], untrained.state["rnn.weight_hh_l0"])


def test_signals():
    T = 40
    x, y = tasks.signal("impulse", T)
    k = tasks.impulse_step(T) - 1
    assert x[k] == 1 and x.sum() == 1 and (y[:k] == 0).all() and (y[k:] == 1).all()
    x, y = tasks.signal("sine", T, 0.1)
    t = np.arange(1, T + 1)
    assert np.allclose(x, np.sin(2 * np.pi * 0.1 * t)) and np.allclose(y[:-1], x[1:])
    x, y = tasks.signal("square", T, 0.25)
    assert list(x[:8]) == [1, -1, -1, 1, 1, -1, -1, 1] and np.array_equal(y[:-1], x[1:])  # f·t = 0.25, 0.5, 0.75, 1.0, …
    x, y = tasks.signal("walk", T, seed=3)
    assert np.array_equal(x, tasks.signal("walk", T, seed=3)[0]) and not np.array_equal(x, tasks.signal("walk", T, seed=4)[0])
    assert np.std(x - y) == pytest.approx(tasks.WALK_NOISE, rel=0.5)
    x, y = tasks.signal("electricity", T)
    kw = electricity_frame()["consumption"].to_numpy()
    head = kw[: tasks.ELEC_TRAIN]
    z = (kw[tasks.ELEC_TRAIN : tasks.ELEC_TRAIN + T + 1] - head.mean()) / head.std(ddof=1)
    assert np.allclose(x, z[:-1]) and np.allclose(y, z[1:])


def test_task_data_fits_its_task():
    g = torch.Generator().manual_seed(0)
    X, Y = tasks.task_data("impulse", g)
    assert X.shape == Y.shape == (tasks.TRAIN_SEQUENCES, tasks.TRAIN_LEN, 1) and X.dtype == torch.float32
    heights = X.sum(1)
    assert ((heights >= 0.5) & (heights < 1.5)).all() and (Y[:, -1] == heights).all()
    for kind in ("sine", "square", "electricity"):
        X, Y = tasks.task_data(kind, g)
        assert torch.equal(X[:, 1:], Y[:, :-1])  # the target is the next value
    X, Y = tasks.task_data("walk", g)
    assert (X - Y).std().item() == pytest.approx(tasks.WALK_NOISE, rel=0.1)


def test_bad_input_is_refused():
    for call in (lambda: tasks.signal("noise", 10), lambda: tasks.signal("sine", 4), lambda: tasks.signal("sine", 201),
                 lambda: tasks.signal("sine", 10, 0.5), lambda: tasks.build("LSTMx", 4, "sine", False),
                 lambda: tasks.build("LSTM", 0, "sine", False), lambda: tasks.build("GRU", 65, "sine", False),
                 lambda: gates.pytorch_equations("TCN", *gates.module_weights(nn.RNN(1, 2)), torch.zeros(1, 2, 1)),
                 lambda: tasks.task_data("noise", torch.Generator())):
        with pytest.raises(ValueError):
            call()


def test_strongest_unit_holds_the_largest_final_state():
    tr = gates.trace(tasks.build("LSTM", 7, "impulse", False, 1), *tasks.signal("impulse", 20))
    k, c = gates.strongest_unit(tr)
    assert c == tr.values["c"][-1, k] and abs(c) == np.abs(tr.values["c"][-1]).max()
    tr = gates.trace(tasks.build("GRU", 7, "impulse", False, 1), *tasks.signal("impulse", 20))
    k, h = gates.strongest_unit(tr)
    assert h == tr.values["h"][-1, k] and abs(h) == pytest.approx(np.abs(tr.module_h[-1]).max(), abs=1e-6)


def test_final_numbers_are_the_last_step_of_the_unit():
    tr = gates.trace(tasks.build("LSTM", 3, "sine", False, 0), *tasks.signal("sine", 12, 0.1))
    n = gates.final_numbers(tr, 2)
    assert n["f_T"] == tr.values["f"][-1, 2] and n["c_prev"] == tr.values["c"][-2, 2] and n["x_T"] == tr.x[-1]
    assert n["c_T"] == pytest.approx(n["f_T"] * n["c_prev"] + n["i_T"] * n["g_T"], abs=1e-12)
    assert n["f_T"] == pytest.approx(1 / (1 + math.exp(-n["a_f_T"])), abs=1e-12)


# ---------------------------------------------------------------- figures

def validated(fig: go.Figure) -> go.Figure:
    return go.Figure(fig.to_dict())  # raises on any invalid property


def test_gate_heatmaps_are_valid_with_explicit_scales():
    from core.charts.lstm_gates import DIVERGING, SEQUENTIAL

    tr = gates.trace(tasks.build("LSTM", 6, "sine", False, 0), *tasks.signal("sine", 30, 0.1))
    steps = np.arange(1, 31)
    values = {k: tr.values[k] for k in ("f", "g", "c")}
    scales = {"f": "gate", "g": "tanh", "c": "state"}
    lines = {"x": ("input", tr.x), "target": ("target", tr.target), "y_hat": ("output", tr.y_hat)}
    raw = charts.gate_heatmaps(steps, values, {k: k for k in values}, scales, lines, unit=2)
    fig = validated(raw)
    maps = [t for t in fig.data if t.type == "heatmap"]
    assert len(fig.data) == 6 and len(maps) == 3
    assert np.allclose(raw.data[3].z, tr.values["f"].T, atol=1e-6)  # units × time
    f_axis, g_axis, c_axis = (fig.layout[m.coloraxis] for m in maps)
    assert [list(map(list, f_axis.colorscale))[0], f_axis.cmin, f_axis.cmax] == [list(SEQUENTIAL[0]), 0, 1]
    assert (g_axis.cmin, g_axis.cmax) == (-1, 1) and list(g_axis.colorscale[5]) == list(DIVERGING[5])
    top = float(np.abs(tr.values["c"]).max())
    assert c_axis.cmax == pytest.approx(top) and c_axis.cmin == pytest.approx(-top)
    assert len(fig.layout.shapes) == 6 and fig.layout.shapes[0].y0 == 1.5  # the unit's row, outlined in each panel
    one = validated(charts.gate_heatmaps(steps, {"h": tr.values["h"][:, :1]}, {"h": "h"}, {"h": "tanh"}, {"x": ("x", tr.x)}, 0))
    assert not one.layout.shapes  # with H = 1 there is nothing to outline


def test_unit_traces_are_valid():
    tr = gates.trace(tasks.build("GRU", 3, "square", False, 0), *tasks.signal("square", 20, 0.1))
    steps = np.arange(1, 21)
    values = {k: tr.values[k][:, 1] for k in gates.QUANTITIES["GRU"]}
    fig = validated(charts.unit_traces(steps, values, {k: k for k in values}, gates.GATES, tr.x))
    assert [t.name for t in fig.data] == ["input x<sub>t</sub>", "n", "h", "r", "z"]
    assert {t.yaxis for t in fig.data if t.name in ("r", "z")} == {"y2"} and tuple(fig.layout.yaxis2.range) == (-0.03, 1.03)
    rnn = validated(charts.unit_traces(steps, {"h": tr.values["h"][:, 0]}, {"h": "h"}, gates.GATES, tr.x))
    assert len(rnn.data) == 2 and "yaxis2" not in rnn.layout.to_plotly_json()
