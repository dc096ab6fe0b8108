"""The Gradients through time page's math against PyTorch: ∂h_T/∂h_k by autograd against finite differences and
against the hand-written one-step Jacobians, the spectral-radius rescaling, the linear RNN's W_hh^(T−k), clipping
against clip_grad_norm_, the parameter counts against sum(p.numel()) and the course's formulas, and the charts."""
import itertools
import math

import numpy as np
import plotly.graph_objects as go
import pytest
import torch
from torch import nn

from core import charts
from core import rnn_gradients as rg


def finite_difference(module: nn.RNNBase, x: torch.Tensor, u: rg.Unrolled, k: int, eps: float = 1e-6) -> torch.Tensor:
    """∂h_T/∂h_k by central differences: restart the module's own forward at step k from h_k ± eps·e_j
    (c_k held fixed for the LSTM)."""
    hidden = module.hidden_size
    cols = []
    for j in range(hidden):
        outs = []
        for sign in (1, -1):
            h = u.states[k].clone()
            h[j] += sign * eps
            h0 = h.view(1, 1, hidden)
            state = (h0, u.cells[k].view(1, 1, hidden)) if u.cell == "LSTM" else h0
            with torch.no_grad():
                outs.append(module(x[k:].unsqueeze(0), state)[0][0, -1])
        cols.append((outs[0] - outs[1]) / (2 * eps))
    return torch.stack(cols, dim=1)


@pytest.mark.parametrize("cell", rg.CELLS)
@pytest.mark.parametrize("bias", [0.0, 3.0])
def test_autograd_jacobians_match_finite_differences(cell, bias):
    x = rg.sequence(7, 2, seed=4)
    module = rg.build(cell, 2, 3, seed=4, memory_bias=bias)
    u = rg.unroll(module, x)
    for k in (0, 3, 6):
        fd = finite_difference(module, x, u, k)
        assert torch.allclose(u.autograd[k], fd, rtol=1e-6, atol=1e-9), (k, u.autograd[k], fd)
    assert torch.equal(u.autograd[7], torch.eye(3, dtype=torch.float64))


SETTINGS = [(5, 1, 1, 0.0, 0), (30, 8, 3, 0.0, 1), (60, 16, 1, 2.5, 2), (40, 5, 64, 5.0, 3), (200, 4, 2, 1.0, 5)]


@pytest.mark.parametrize("seq_len, hidden, d_x, bias, seed", SETTINGS)
def test_hand_written_jacobian_products_match_autograd(seq_len, hidden, d_x, bias, seed):
    flow = rg.gradient_flow(seq_len, hidden, d_x, bias, seed)
    for cell in rg.CELLS:
        assert flow.hand_error[cell] < 1e-9, cell
        assert flow.module_error[cell] < 1e-12, cell
        assert flow.norms[cell].shape == (seq_len + 1,) and flow.norms[cell][-1] == pytest.approx(1.0)


def test_the_rnn_jacobian_is_the_courses_product():
    """§8.5 written out literally, one matrix product per step, against the page's autograd Jacobian."""
    x = rg.sequence(12, 2, seed=9)
    module = rg.build("RNN", 2, 5, seed=9)
    u = rg.unroll(module, x)
    w = module.weight_hh_l0.detach()
    product = torch.eye(5, dtype=torch.float64)
    for i in range(12, 3, -1):  # ∏_{i=k+1}^{T} diag(1 − h_i²) W_hh, k = 3
        product = product @ (torch.diag(1 - u.states[i] ** 2) @ w)
    assert torch.allclose(u.autograd[3], product, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("radius", [0.3, 0.95, 1.0, 1.25, 2.0])
def test_the_linear_rnn_follows_the_power_of_w_hh(radius):
    view = rg.radius_view(40, 6, 2, seed=1, radius=radius)
    assert view.lambda_after == pytest.approx(radius, rel=1e-12)
    module = rg.build("RNN", 2, 6, seed=1)
    assert view.lambda_init == pytest.approx(torch.linalg.eigvals(module.weight_hh_l0).abs().max().item(), rel=1e-12)
    w = module.weight_hh_l0.detach() * radius / view.lambda_init
    for k in (0, 17, 39):
        expected = torch.linalg.matrix_norm(torch.linalg.matrix_power(w, 40 - k), ord=2).item()
        assert view.linear[k] == pytest.approx(expected, rel=1e-9)
    # Gelfand: ‖W^n‖^(1/n) → |λ_max|: over 40 steps the rate is within a few percent of ρ
    assert view.linear[0] ** (1 / 40) == pytest.approx(radius, rel=0.08)
    assert view.power_error < 1e-10 and view.hand_error < 1e-9


@pytest.mark.parametrize("radius", [0.5, 1.5, 2.0])
def test_tanh_never_beats_the_singular_value_bound(radius):
    view = rg.radius_view(60, 12, 1, seed=0, radius=radius)
    bound = view.sigma_max ** (60 - np.arange(61, dtype=np.float64))
    assert np.all(view.tanh <= bound * (1 + 1e-9))


def test_radius_above_one_explodes_linear_but_not_always_tanh():
    small = rg.radius_view(100, 4, 1, seed=0, radius=2.0)
    assert small.linear[0] > 1e25  # ρ^T = 2^100 ≈ 1.3e30
    assert small.tanh[0] < 1  # saturated units: radius 2 and still vanishing
    big = rg.radius_view(100, 64, 1, seed=0, radius=1.5)
    assert big.tanh[0] > 1  # the chaotic regime: tanh explodes too
    assert rg.radius_view(100, 64, 1, seed=0, radius=0.5).tanh[0] < 1e-20


def test_memory_bias_opens_the_highway_for_lstm_and_gru_only():
    plain = rg.gradient_flow(80, 16, 1, 0.0, 0)
    open_ = rg.gradient_flow(80, 16, 1, 3.0, 0)
    assert np.array_equal(plain.norms["RNN"], open_.norms["RNN"])
    for cell in ("LSTM", "GRU"):
        assert open_.norms[cell][0] > 1e6 * plain.norms[cell][0]
    assert 0.3 < plain.gate_mean["LSTM"] < 0.7 and 0.3 < plain.gate_mean["GRU"] < 0.7  # σ(small) ≈ ½ at PyTorch's init
    assert open_.gate_mean["LSTM"] > 0.9 and open_.gate_mean["GRU"] > 0.9
    lstm = rg.build("LSTM", 1, 4, seed=0, memory_bias=3.0)
    base = rg.build("LSTM", 1, 4, seed=0)
    diff = (lstm.bias_ih_l0 - base.bias_ih_l0).detach()
    assert torch.allclose(diff[4:8], torch.full((4,), 3.0, dtype=torch.float64)) and not diff[:4].any() and not diff[8:].any()
    assert torch.equal(lstm.bias_hh_l0, base.bias_hh_l0)


def test_gate_means_match_the_cells_own_gates():
    """The forget gate recovered from the cell states nn.LSTMCell produced: f_t = (c_t − i_t ⊙ g_t) / c_{t−1}."""
    x = rg.sequence(8, 2, seed=2)
    module = rg.build("LSTM", 2, 3, seed=2, memory_bias=1.5)
    u = rg.unroll(module, x)
    w_ih, w_hh = module.weight_ih_l0.detach(), module.weight_hh_l0.detach()
    b = (module.bias_ih_l0 + module.bias_hh_l0).detach()
    a = x @ w_ih.T + u.states[:-1] @ w_hh.T + b  # (T, 4H), gates i, f, g, o
    first = torch.sigmoid(a[0, 3:6])  # c_0 = 0: the first step's f cannot be read back from c
    later = (u.cells[2:] - torch.sigmoid(a[1:, :3]) * torch.tanh(a[1:, 6:9])) / u.cells[1:-1]
    expected = torch.cat([first, later.flatten()]).mean().item()
    assert rg.memory_gate_mean(module, x, u.states) == pytest.approx(expected, rel=1e-9)


def test_cells_share_inputs_and_pytorchs_default_distribution():
    for cell in rg.CELLS:
        module = rg.build(cell, 3, 25, seed=7)
        bound = 1 / math.sqrt(25)
        for p in module.parameters():
            assert p.abs().max() <= bound and p.dtype == torch.float64
        assert torch.equal(next(rg.build(cell, 3, 25, seed=7).parameters()), next(module.parameters()))
    assert torch.equal(rg.sequence(9, 2, 3), rg.sequence(9, 2, 3))


def test_gradients_match_a_plain_backward_pass():
    names, grads, loss = rg.gradients("GRU", 15, 6, 2, 1.0, 3, None)
    module = rg.build("GRU", 2, 6, seed=3, memory_bias=1.0)
    head = nn.Linear(6, 1, dtype=torch.float64)
    g = torch.Generator().manual_seed(5)
    with torch.no_grad():
        for p in head.parameters():
            nn.init.uniform_(p, -1 / math.sqrt(6), 1 / math.sqrt(6), generator=g)
    x = rg.sequence(15, 2, 3)
    out = module(x.unsqueeze(0))[0]
    target = (head(out[:, -1]).squeeze() - x[0, 0]) ** 2
    target.backward()
    expected = [p.grad.numpy() for p in [*module.parameters(), *head.parameters()]]
    assert loss == pytest.approx(target.item(), rel=1e-12)
    assert names[-2:] == ("fc.weight", "fc.bias") and len(grads) == len(expected)
    for a, b in zip(grads, expected):
        assert np.allclose(a, b, rtol=1e-12, atol=1e-15)
    rnn_grads = rg.gradients("RNN", 15, 6, 2, 0.0, 3, 1.8)[1]
    assert not np.allclose(rnn_grads[1], rg.gradients("RNN", 15, 6, 2, 0.0, 3, 0.6)[1][1])  # ρ reaches the clipping demo


@pytest.mark.parametrize("theta", [1e-3, 0.5, 2.0, 1e3])
def test_clipping_matches_clip_grad_norm(theta):
    names, grads, loss = rg.gradients("RNN", 30, 8, 1, 0.0, 0, 1.6)
    c = rg.clip(names, grads, theta, loss)
    flat = np.concatenate([g.ravel() for g in grads])
    assert c.total == pytest.approx(np.linalg.norm(flat), rel=1e-12)
    assert c.torch_total == pytest.approx(c.total, rel=1e-12)
    assert c.coefficient == min(1.0, theta / c.total)
    assert c.torch_clipped == pytest.approx(c.total * min(1.0, theta / (c.total + 1e-6)), rel=1e-12)
    assert abs(c.formula_clipped - c.torch_clipped) <= 1e-6  # PyTorch's + 1e-6 in the denominator
    assert c.eps_gap < 1e-13
    assert np.allclose(c.after, c.before * min(1.0, theta / (c.total + 1e-6)), rtol=1e-12)  # one factor: direction kept
    assert all(check.passed for check in rg.checks(rg.gradient_flow(5, 2, 1, 0.0, 0), rg.radius_view(5, 2, 1, 0, 1.0), c,
                                                   rg.parameter_table(1, 2, 1)))


def test_clipping_an_all_zero_gradient_leaves_it_alone():
    c = rg.clip(("w",), (np.zeros((3, 2)),), 1.0)
    assert c.total == 0 and c.coefficient == 1.0 and c.torch_clipped == 0


@pytest.mark.parametrize("d_x, hidden, layers", list(itertools.product([1, 7, 64], [1, 16, 64], [1, 2, 4])))
def test_parameter_counts_against_numel(d_x, hidden, layers):
    table = rg.parameter_table(d_x, hidden, layers).set_index("cell")
    for cell in rg.CELLS:
        module = {"RNN": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}[cell](d_x, hidden, num_layers=layers)
        numel = sum(p.numel() for p in module.parameters())
        row = table.loc[cell]
        assert row["numel"] == numel == row["PyTorch formula"]
        assert row["difference"] == numel - row["course"] == rg.GATES[cell] * hidden * layers
        assert numel == sum(p.numel() for n, p in module.named_parameters() if "weight" in n) + 2 * rg.GATES[cell] * hidden * layers


@pytest.mark.parametrize("d_x, hidden", [(1, 32), (5, 3), (64, 64)])
def test_course_formulas_as_the_course_writes_them(d_x, hidden):
    """§9.5: 4d_h(d_h + d_x + 1); §10.4: 3d_h(d_h + d_x + 1); §8.2: d_h(d_x + d_h + d_y) + d_h + d_y with the output layer."""
    assert rg.course_count("LSTM", d_x, hidden, 1) == 4 * hidden * (hidden + d_x + 1)
    assert rg.course_count("GRU", d_x, hidden, 1) == 3 * hidden * (hidden + d_x + 1)
    d_y = 3
    head = sum(p.numel() for p in nn.Linear(hidden, d_y).parameters())
    assert rg.course_count("RNN", d_x, hidden, 1) + head == hidden * (d_x + hidden + d_y) + hidden + d_y
    assert rg.course_count("GRU", d_x, hidden, 1) / rg.course_count("LSTM", d_x, hidden, 1) == 0.75


def test_parameter_shapes_list_both_bias_vectors():
    shapes = rg.parameter_shapes("LSTM", 3, 5, 2).set_index("parameter")
    assert shapes.loc["bias_ih_l1", "shape"] == "(20,)" and shapes.loc["bias_hh_l1", "shape"] == "(20,)"
    assert shapes.loc["weight_ih_l1", "shape"] == "(20, 5)"  # the second layer reads d_h
    assert shapes["numel"].sum() == rg.numel("LSTM", 3, 5, 2)


def test_log_scale_values_never_hold_zero_or_nan():
    values, floored = rg.for_log_scale(np.array([1.0, 0.0, np.nan, np.inf, 1e-320, 1e-250]))
    assert floored == 4 and np.all(values >= rg.FLOOR) and np.all(np.isfinite(values))
    assert values[0] == 1.0 and values[-1] == 1e-250


def test_saturated_units_underflow_and_are_floored():
    flow = rg.gradient_flow(200, 1, 64, 0.0, 3)  # one unit driven by 64 inputs saturates
    assert flow.norms["RNN"][0] < 1e-300
    values, floored = rg.for_log_scale(flow.norms["RNN"])
    assert floored > 0 and values.min() == rg.FLOOR
    assert all(c.passed for c in rg.checks(flow, rg.radius_view(200, 1, 64, 3, 0.5),
                                           rg.clip(*rg.gradients("RNN", 200, 1, 64, 0.0, 3, 0.5)[:2], 1.0),
                                           rg.parameter_table(64, 1, 4)))


def test_a_wrong_formula_fails_its_check():
    flow, view = rg.gradient_flow(10, 3, 1, 0.0, 0), rg.radius_view(10, 3, 1, 0, 1.2)
    clip = rg.clip(*rg.gradients("LSTM", 10, 3, 1, 0.0, 0, None)[:2], 0.01)
    table = rg.parameter_table(2, 3, 2)
    assert all(c.passed for c in rg.checks(flow, view, clip, table))
    one_bias = table.assign(numel=table["course"])  # a count that forgot b_hh
    assert [c.passed for c in rg.checks(flow, view, clip, one_bias)][-3:] == [False, False, False]
    off = rg.Flow(flow.norms, flow.hand_norm, {**flow.hand_error, "GRU": 1e-3}, flow.state_norm, flow.module_error,
                  flow.gate_mean)
    assert sum(not c.passed for c in rg.checks(off, view, clip, table)) == 1


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        rg.build("Transformer", 1, 4, 0)
    with pytest.raises(ValueError):
        rg.unroll(rg.build("LSTM", 1, 4, 0), rg.sequence(5, 1, 0), linear=True)
    module = rg.build("RNN", 1, 2, 0)
    with torch.no_grad():
        module.weight_hh_l0.zero_()
    with pytest.raises(ValueError):
        rg.rescale_(module, 1.0)


def test_timing_interleaves_and_summarises():
    t = rg.time_forward_backward(2, 8, 2, 10, batch=4, budget_s=0.0, min_rounds=4)
    assert set(t.runs) == set(rg.TIMED) and all(len(v) == 4 and min(v) > 0 for v in t.runs.values())
    q1, q3 = t.iqr("GRU")
    assert q1 <= t.median("GRU") <= q3
    assert t.ratio() == pytest.approx(t.median("GRU") / t.median("LSTM"))
    assert t.ratio("GRUCell", "LSTMCell") == pytest.approx(t.median("GRUCell") / t.median("LSTMCell"))
    r1, r3 = t.ratio_iqr("GRUCell", "LSTMCell")
    assert 0 < r1 <= r3
    assert t.sizes == (2, 8, 2, 10) and t.threads >= 1 and set(t.kernels) == {"LSTM", "GRU"}


@pytest.mark.parametrize("cell", ["LSTM", "GRU"])
def test_the_timed_cell_loop_computes_what_the_module_computes(cell):
    """Same seed, same parameter order: the stepped cells are the module's layers, so the race is fair."""
    x = torch.randn(3, 6, 2, generator=torch.Generator().manual_seed(0))
    module = rg.build(cell, 2, 5, seed=1, num_layers=3, dtype=torch.float32)
    cells = rg._stacked_cells(cell, 2, 5, 3, seed=1)
    with torch.no_grad():
        assert torch.allclose(rg._step_through(cells, x), module(x)[0], atol=1e-6)


def test_the_kernel_is_read_from_the_autograd_graph():
    x = torch.randn(2, 4, 1)
    stepped = torch.stack([torch.tanh(x[:, t] * torch.ones(1, requires_grad=True)) for t in range(4)], 1)
    assert rg.recurrent_kernel(stepped) == rg.STEPWISE
    out = rg.build("LSTM", 1, 3, 0, dtype=torch.float32)(x)[0]
    kernel = rg.recurrent_kernel(out)
    assert kernel == rg.STEPWISE or "Rnn" in kernel or "Lstm" in kernel  # oneDNN on CPU builds that have it
    if torch.backends.mkldnn.is_available():
        assert kernel == "MkldnnRnnLayerBackward0"


def validated(fig: go.Figure) -> go.Figure:
    return go.Figure(fig.to_dict())  # raises on any invalid property


def test_charts_are_valid_and_log_scaled():
    colors = charts.series_colors(rg.CELLS)
    flow = rg.gradient_flow(20, 4, 1, 0.0, 0)
    floored = {c: rg.for_log_scale(v)[0] for c, v in flow.norms.items()}
    raw = charts.rnn_gradient_flow(flow.k, floored, colors)
    fig = validated(raw)
    assert fig.layout.yaxis.type == "log" and [t.name for t in fig.data] == list(rg.CELLS)
    assert all(np.all(np.asarray(t.y) > 0) for t in raw.data)
    assert fig.data[1].line.color == colors["LSTM"]

    view = rg.radius_view(20, 4, 1, 0, 1.3)
    raw = charts.rnn_radius_flow(flow.k, view.tanh, view.linear, view.reference, 1.3, colors["RNN"])
    fig = validated(raw)
    assert fig.layout.yaxis.type == "log" and len(fig.data) == 3 and fig.data[1].line.color == colors["RNN"]
    assert np.allclose(raw.data[2].y, 1.3 ** (20 - np.arange(21)))

    c = rg.clip(*rg.gradients("RNN", 20, 4, 1, 0.0, 0, 1.3)[:2], 0.1)
    fig = validated(charts.rnn_clipping_bars(c.names, c.before, c.after, c.total, c.torch_clipped, 0.1, colors["RNN"]))
    assert fig.layout.xaxis.type != "log" and len(fig.data) == 2 and len(fig.data[0].y) == len(c.names) + 1  # bar lengths mean norms
    assert fig.layout.shapes[0].x0 == 0.1 and fig.layout.annotations[0].x == pytest.approx(0.1)

    runs = {"LSTM": (3.0, 3.5, 4.0), "GRU": (2.0, 2.5, 3.1), "LSTMCell": (5.0, 6.0, 7.0), "GRUCell": (4.0, 4.5, 5.0)}
    fig = validated(charts.rnn_timing_spread(runs, {n: colors[n.removesuffix("Cell")] for n in runs}))
    assert [t.type for t in fig.data] == ["box"] * 4 and fig.data[3].marker.color == colors["GRU"]
