"""The Gradients through time page's own promises: its script reproduces its numbers, its checks pass, the
timing runs only when asked and is kept per sizes, and the text follows the controls."""
from __future__ import annotations

import pytest

from tests.pages.harness import open_page, run_snippet
from ui import catalog

PAGE = next(p for p in catalog.topic_pages() if p.url_path == "rnn-gradients")
LINK = {"rnn_cell": "GRU", "rnn_seq_len": "30", "rnn_hidden": "8", "rnn_d_x": "3", "rnn_layers": "2", "rnn_gate_bias": "2",
        "rnn_seed": "4", "rnn_radius": "1.6", "rnn_clip": "0.5"}


def table(at, column: str):
    """The page's dataframe that has `column`."""
    return next(df.value for df in at.dataframe if column in df.value.columns)


def metric(at, label: str) -> float:
    return float(next(m for m in at.metric if m.label == label).value.rstrip("%"))


def test_code_snippet_runs_and_reproduces_the_page(tmp_path):
    at = open_page(PAGE, LINK)
    assert not at.exception
    printed = run_snippet(at.code[0].value, tmp_path, "rnn_gradients.py")

    flow = table(at, "k = 0").set_index("cell")
    for cell in ("RNN", "LSTM", "GRU"):
        assert float(printed["flow"][cell]) == pytest.approx(flow.loc[cell, "k = 0"], rel=1e-8)

    radius = printed["radius"]
    assert float(radius["lambda"]) == pytest.approx(1.6, rel=1e-9)
    assert float(radius["lambda_init"]) == pytest.approx(metric(at, "|λ_max(W_hh)| at init"), abs=6e-5)
    assert float(radius["sigma_max"]) == pytest.approx(metric(at, "σ_max(W_hh) = ‖W_hh‖₂"), abs=6e-5)
    assert float(radius["rho_T"]) == pytest.approx(1.6**30, rel=1e-9)
    assert float(radius["linear"]) > float(radius["tanh"])

    clip = printed["clip"]
    assert float(clip["norm"]) == pytest.approx(metric(at, "‖g‖ before"), rel=1e-3)
    assert float(clip["returned"]) == pytest.approx(float(clip["norm"]), rel=1e-9)
    assert float(clip["clipped"]) == pytest.approx(metric(at, "‖g‖ after clip_grad_norm_"), rel=1e-3)
    assert float(clip["factor"]) == pytest.approx(metric(at, "min(1, θ/‖g‖)"), rel=1e-3)

    params = table(at, "numel").set_index("cell")
    for cell in ("RNN", "LSTM", "GRU"):
        assert int(printed["numel"][cell]) == params.loc[cell, "numel"]
        assert int(printed["course"][cell]) == params.loc[cell, "course"]
        assert int(printed["difference"][cell]) == params.loc[cell, "difference"] == {"RNN": 1, "LSTM": 4, "GRU": 3}[cell] * 8 * 2


def test_check_panel_shows_every_check_passing():
    at = open_page(PAGE, LINK)
    checks = table(at, "what")
    assert len(checks) >= 15 and (checks.result == "pass").all(), checks[checks.result != "pass"]
    assert any("All" in s.value for s in at.success)


def test_timing_runs_only_on_the_button_and_is_kept_per_sizes():
    at = open_page(PAGE, {**LINK, "rnn_seq_len": "10", "rnn_hidden": "4", "rnn_layers": "1"})
    assert not at.exception
    assert not [m for m in at.metric if "median ms" in m.label]
    assert any("Press the button" in i.value for i in at.info)

    at.button(key="rnn_time").click().run()
    assert not at.exception
    timing = at.session_state["rnn_timings"][(3, 4, 1, 10)]  # (d_x, d_h, layers, T)
    for name in ("LSTM", "GRU", "LSTMCell", "GRUCell"):
        assert metric(at, f"{name}: median ms") == round(timing.median(name), 2) and timing.median(name) > 0
    assert metric(at, "GRU / LSTM time") == round(timing.ratio(), 3)
    assert metric(at, "GRUCell / LSTMCell time") == round(timing.ratio("GRUCell", "LSTMCell"), 3)
    lstm = metric(at, "LSTM: median ms")
    assert any("ran" in m.value and "autograd graph" in m.value for m in at.markdown)

    at.slider(key="rnn_radius").set_value(0.5).run()  # not a size: the measurement stays
    assert metric(at, "LSTM: median ms") == lstm
    at.slider(key="rnn_hidden").set_value(5).run()  # other sizes: nothing measured yet
    assert not [m for m in at.metric if "median ms" in m.label]
    at.slider(key="rnn_hidden").set_value(4).run()
    assert metric(at, "LSTM: median ms") == lstm


def test_text_follows_the_controls():
    at = open_page(PAGE, {"rnn_gate_bias": "0", "rnn_cell": "RNN"})
    text = " ".join(m.value for m in at.markdown)
    assert "At PyTorch's initialisation" in text
    assert any("Gradient clipping (RNN)" in h.value for h in at.subheader)
    at = open_page(PAGE, {"rnn_gate_bias": "3", "rnn_cell": "LSTM"})
    text = " ".join(m.value for m in at.markdown)
    assert "With b = 3" in text and "0.953" in text  # σ(3)
    assert any("Gradient clipping (LSTM)" in h.value for h in at.subheader)
