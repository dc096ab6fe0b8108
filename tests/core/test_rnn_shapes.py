"""The RNN shapes page's promises against PyTorch: every shape by formula against a forward pass over fuzzed
settings, out[:, -1] against h_n, the equations against the modules, the parameter count, the four
architectures' modules, and every mistake raising (or, in the documented cases, not raising) in PyTorch."""
import dataclasses
import itertools
import random

import plotly.graph_objects as go
import pytest
import torch
from torch import nn

from core import charts
from core import rnn_architectures as ra
from core import rnn_errors as re_
from core import rnn_shapes as rs
from core import rnn_shapes_view as view
from core.rng import generator

# Every control at its edges, crossed with the switches ...
EDGES = [
    rs.RNNConfig(cell, n, t, d, h, layers, bf, bi)
    for cell, bf, bi in itertools.product(rs.CELLS, (True, False), (True, False))
    for n, t, d, h, layers in [(1, 1, 1, 1, 1), (64, 100, 16, 64, 4), (3, 7, 2, 5, 2)]
]
# ... and random settings over the page's whole ranges (N 1–64, T 1–100, D 1–16, H 1–64, L 1–4).
_rng = random.Random(20240611)
FUZZ = [
    rs.RNNConfig(_rng.choice(rs.CELLS), _rng.randint(1, 64), _rng.randint(1, 100), _rng.randint(1, 16), _rng.randint(1, 64),
                 _rng.randint(1, 4), _rng.random() < 0.5, _rng.random() < 0.5)
    for _ in range(40)
]
CONFIGS = EDGES + FUZZ


def plain_module(config: rs.RNNConfig) -> nn.RNNBase:
    """The module built the ordinary way, independent of core's meta-device construction."""
    cls = {"RNN": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}[config.cell]
    return cls(config.input_size, config.hidden_size, num_layers=config.num_layers, batch_first=config.batch_first,
               bidirectional=config.bidirectional)


@pytest.mark.parametrize("config", CONFIGS, ids=str)
def test_predicted_shapes_match_an_ordinary_forward_pass(config):
    torch.manual_seed(0)  # tests only: the plain module draws its weights from the global RNG
    module = plain_module(config)
    shapes = rs.predicted_shapes(config)
    x = torch.randn(shapes["input"])
    with torch.no_grad():
        out, state = module(x)
    h_n = state[0] if config.is_lstm else state
    assert tuple(out.shape) == shapes["output"]
    assert tuple(h_n.shape) == shapes["h_n"] == shapes["h0"]
    if config.is_lstm:
        assert tuple(state[1].shape) == shapes["c_n"]
    last = out[:, -1, :] if config.batch_first else out[-1]
    assert tuple(last.shape) == shapes["last_step"]
    assert sum(p.numel() for p in module.parameters()) == rs.parameter_count(config)


@pytest.mark.parametrize("config", CONFIGS, ids=str)
def test_run_measures_what_it_promises_and_every_check_passes(config):
    r = rs.run(config)
    assert r.actual == r.predicted
    assert r.forward_last_diff == 0.0  # the same numbers, not just close
    if config.bidirectional:
        assert r.backward_first_diff == 0.0
        # The backward direction at the last step has read only x_T: a different state unless T = 1.
        assert (r.backward_last_diff == 0.0) == (config.seq_len == 1)
    assert r.equations_diff < 1e-5
    assert r.num_params == r.param_formula
    checks = rs.checks(r)
    assert len(checks) == len(r.predicted) + 3 + config.bidirectional
    assert all(c.passed for c in checks), [c for c in checks if not c.passed]


def test_out_last_step_is_h_n_last_only_for_one_direction():
    one = rs.run(rs.RNNConfig(cell="GRU", bidirectional=False))
    assert one.out_last_values == one.h_n_values
    two = rs.run(rs.RNNConfig(cell="GRU", bidirectional=True, seq_len=10))
    assert two.backward_last_diff > 1e-3
    assert two.backward_first_values == two.backward_h_n_values


@pytest.mark.parametrize("cell", rs.CELLS)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_equations_reproduce_the_module_in_float64(cell, bidirectional):
    config = rs.RNNConfig(cell=cell, batch_size=5, seq_len=13, input_size=3, hidden_size=6, num_layers=3,
                          batch_first=False, bidirectional=bidirectional)
    module, x = rs.build(config, seed=4)
    module, x = module.double(), x.double()
    g = generator(9)
    h0 = torch.randn(rs.predicted_shapes(config)["h0"], generator=g, dtype=torch.float64)  # non-zero states too
    c0 = torch.randn(h0.shape, generator=g, dtype=torch.float64) if cell == "LSTM" else None
    with torch.no_grad():
        out, state = module(x, (h0, c0) if c0 is not None else h0)
        eq_out, eq_h, eq_c = rs.equations_forward(module, x, h0, c0)
    h_n = state[0] if cell == "LSTM" else state
    assert torch.max(torch.abs(eq_out - out)) < 1e-12
    assert torch.max(torch.abs(eq_h - h_n)) < 1e-12
    if cell == "LSTM":
        assert torch.max(torch.abs(eq_c - state[1])) < 1e-12


def test_equations_differ_from_a_wrong_gate_order():
    """Guards against an equations check that cannot fail: swap LSTM's f and i blocks and it must break."""
    config = rs.RNNConfig(cell="LSTM", batch_size=4, seq_len=6, hidden_size=5, num_layers=1)
    module, x = rs.build(config)
    h0 = torch.zeros(1, 4, 5)
    with torch.no_grad():
        out, _ = module(x, (h0, h0))
        w = module.weight_ih_l0
        w.copy_(torch.cat([w[5:10], w[:5], w[10:]]))  # i ↔ f in PyTorch's layout only
        eq_out, _, _ = rs.equations_forward(module, x, h0, h0)
    assert torch.max(torch.abs(eq_out - out)) > 1e-3


@pytest.mark.parametrize("config", CONFIGS[::4], ids=str)
def test_course_count_is_pytorchs_minus_the_second_bias(config):
    gates = rs.GATES[config.cell]
    second_bias = gates * config.hidden_size * config.num_layers * config.num_directions
    assert rs.course_parameter_count(config) == rs.parameter_count(config) - second_bias


def test_course_lstm_count_matches_the_course_formula():
    # §9.5: 4·d_h·(d_h + d_x + 1) for one layer; §10.4: GRU is 3·d_h·(d_h + d_x + 1).
    assert rs.course_parameter_count(rs.RNNConfig(cell="LSTM", input_size=1, hidden_size=32, num_layers=1)) == 4 * 32 * 34
    assert rs.course_parameter_count(rs.RNNConfig(cell="GRU", input_size=3, hidden_size=8, num_layers=1)) == 3 * 8 * 12


def test_build_is_seeded_uses_pytorchs_bounds_and_leaves_the_global_rng_alone():
    config = rs.RNNConfig(cell="GRU", hidden_size=16, num_layers=2)
    before = torch.get_rng_state()
    a, xa = rs.build(config, seed=1)
    assert torch.equal(torch.get_rng_state(), before)
    b, xb = rs.build(config, seed=1)
    c, _ = rs.build(config, seed=2)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters())) and torch.equal(xa, xb)
    assert not torch.equal(a.weight_hh_l0, c.weight_hh_l0)
    assert max(p.abs().max().item() for p in a.parameters()) <= 16**-0.5


def test_a_wrong_shape_fails_its_check():
    r = rs.run(rs.RNNConfig())
    wrong = dataclasses.replace(r, predicted={**r.predicted, "output": (32, 32, 96)})
    failed = [c for c in rs.checks(wrong) if not c.passed]
    assert len(failed) == 1 and failed[0].what.startswith("output")


def test_bad_config_is_refused():
    with pytest.raises(ValueError):
        rs.RNNConfig(cell="Transformer")
    with pytest.raises(ValueError):
        rs.RNNConfig(hidden_size=0)
    with pytest.raises(ValueError):
        ra.build("seq2tree", rs.RNNConfig())
    with pytest.raises(ValueError):
        re_.demo("nan_loss", rs.RNNConfig())


# The four architectures


@pytest.mark.parametrize("arch", ra.ARCHITECTURES)
@pytest.mark.parametrize("config", CONFIGS[::3], ids=str)
def test_architectures_give_the_shapes_their_formulas_promise(arch, config):
    out_len = 1 + config.seq_len % 48
    trace = ra.trace(arch, config, out_len)
    assert trace.output_shape == ra.expected_output_shape(arch, config, out_len)
    n, t, d = config.batch_size, config.seq_len, config.input_size
    assert trace.input_shape == ((n, d) if arch == "vec2seq" else config.batched(n, t, d))
    assert trace.table["shape"].iloc[0] == str(trace.input_shape)
    assert trace.table["shape"].iloc[-1] == str(trace.output_shape)


@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("bidirectional", [True, False])
def test_final_features_are_the_final_states_in_h_n(batch_first, bidirectional):
    config = rs.RNNConfig(cell="LSTM", batch_size=3, seq_len=9, input_size=2, hidden_size=4, num_layers=2,
                          batch_first=batch_first, bidirectional=bidirectional)
    module, x = rs.build(config)
    with torch.no_grad():
        out, (h_n, _) = module(x)
    expected = torch.cat([h_n[-2], h_n[-1]], dim=1) if bidirectional else h_n[-1]
    assert torch.equal(ra.final_features(out, module), expected)


def test_merge_directions_puts_each_layers_two_directions_side_by_side():
    state = torch.randn(6, 5, 4, generator=generator(0))  # (2·3 layers, N, H)
    merged = ra.merge_directions(state, bidirectional=True)
    assert merged.shape == (3, 5, 8)
    for layer in range(3):
        assert torch.equal(merged[layer, :, :4], state[2 * layer]) and torch.equal(merged[layer, :, 4:], state[2 * layer + 1])
    assert ra.merge_directions(state, bidirectional=False) is state


def test_vec2seq_feeds_the_vector_at_the_first_step_only():
    config = rs.RNNConfig(cell="RNN", batch_size=2, seq_len=5, input_size=3, hidden_size=4, num_layers=1)
    model, v = ra.build("vec2seq", config)
    seen = []
    model.rnn.register_forward_hook(lambda _, inputs, __: seen.append(inputs[0]))
    with torch.no_grad():
        model(v)
    assert torch.equal(seen[0][:, 0], v) and not seen[0][:, 1:].any()


def test_architecture_source_is_the_module_that_runs():
    namespace = {"torch": torch, "nn": nn}
    exec(ra.source("encdec"), namespace)  # noqa: S102  (our own source, to prove it stands alone)
    assert "EncoderDecoder" in namespace and "merge_directions" in namespace


# The mistakes


def silent_case(key: str, config: rs.RNNConfig) -> bool:
    """When PyTorch accepts the mistake without a word (the page says so instead)."""
    layers = config.num_directions * config.num_layers
    return {"no_feature_dim": config.seq_len == 1, "h0_shape": config.batch_size == layers,
            "batch_first": config.batch_size == config.seq_len}.get(key, False)


@pytest.mark.parametrize("key", re_.ERRORS)
@pytest.mark.parametrize("config", CONFIGS, ids=str)
def test_every_mistake_breaks_in_pytorch_and_its_fix_runs_clean(key, config):
    demo = re_.demo(key, config)
    assert demo.silent == silent_case(key, config), (demo.error, demo.warnings)
    assert demo.fix_error is None and not demo.fix_warnings
    assert demo.wrong_code and demo.fix_code and demo.explanation


@pytest.mark.parametrize("key, config", [
    ("no_feature_dim", rs.RNNConfig(seq_len=1)),
    ("h0_shape", rs.RNNConfig(batch_size=2, num_layers=2)),
    ("h0_shape", rs.RNNConfig(batch_size=4, num_layers=2, bidirectional=True)),
    ("batch_first", rs.RNNConfig(batch_size=20, seq_len=20)),
], ids=str)
def test_the_silent_cases_run_without_a_word_and_say_what_happened(key, config):
    demo = re_.demo(key, config)
    assert demo.silent and demo.outcome.startswith("No error.")
    assert str(config.batch_size) in demo.explanation


EXPECTED_MESSAGES = {
    "no_feature_dim": "RuntimeError: input.size(-1) must be equal to input_size. Expected 1, got 96",
    "h0_shape": "RuntimeError: Expected hidden[0] size (2, 32, 32), got [32, 2, 32]",
    "batch_first": "RuntimeError: Expected hidden[0] size (2, 96, 32), got [2, 32, 32]",
    "bidirectional_linear": "RuntimeError: mat1 and mat2 shapes cannot be multiplied (32x64 and 32x1)",
}


@pytest.mark.parametrize("key", re_.ERRORS)
def test_default_settings_show_pytorchs_own_message(key):
    demo = re_.demo(key, rs.RNNConfig())
    if key in EXPECTED_MESSAGES:
        assert demo.error == EXPECTED_MESSAGES[key] and not demo.warnings
    else:
        assert demo.error is None and len(demo.warnings) == 1
        assert demo.warnings[0].startswith("Using a target size (torch.Size([")
        assert "This will likely lead to incorrect results due to broadcasting" in demo.warnings[0]


def test_broadcast_loss_is_the_mean_over_all_pairs():
    config = rs.RNNConfig(cell="GRU", batch_size=8)
    demo = re_.demo("target_broadcast", config)
    y_hat, y = re_._seq2vec(config, 8, 0)
    pairs = ((y_hat - y.view(1, -1)) ** 2).mean().item()  # (8, 1) − (1, 8): every i against every j
    right = ((y_hat.squeeze(-1) - y) ** 2).mean().item()
    assert f"loss = {pairs:.6f}" in demo.outcome and f"loss = {right:.6f}" in demo.fixed_outcome
    assert abs(pairs - right) > 1e-3


def test_squeeze_scalar_really_makes_a_zero_dim_prediction():
    demo = re_.demo("squeeze_scalar", rs.RNNConfig())
    assert "y_hat: ()" in demo.outcome and "y_hat: (1,)" in demo.fixed_outcome
    assert demo.note and "N = 1" in demo.note


def test_attempt_records_warnings_and_errors():
    def warn_then_fail():
        import warnings
        warnings.warn("first")
        raise RuntimeError("second")

    assert re_.attempt(warn_then_fail) == (None, "RuntimeError: second", ("first",))


# Charts


def validated(fig: go.Figure) -> go.Figure:
    return go.Figure(fig.to_dict())  # raises on any invalid property


@pytest.mark.parametrize("config", EDGES[::5], ids=str)
def test_charts_are_valid_and_carry_every_label(config):
    r = rs.run(config)
    module, inputs, outputs = view.flow_rows(r)
    flow = validated(charts.rnn_shape_flow(module, inputs, outputs))
    texts = [t for trace in flow.data for t in trace.text]
    assert any(str(r.actual["output"]) in t for t in texts) and any(str(r.actual["h_n"]) in t for t in texts)
    labels = view.state_map_labels(r)
    state_map = validated(charts.rnn_last_state_map(**labels))
    texts = [t for trace in state_map.data for t in trace.text]
    assert len([t for t in texts if t.startswith("h_n[")]) == config.num_layers * config.num_directions
    archs = validated(charts.rnn_architectures(config.cell, "encdec", ra.LABELS))
    assert len({trace.xaxis for trace in archs.data}) == 4  # one panel per architecture
    assert sum(s.xref == "paper" for s in archs.layout.shapes) == 1  # the chosen one is framed
