"""The Multi-input & multi-output page's own promises: a link restores the view, a short two-head run trains on the
page, its code panel reproduces the page's numbers, its checks pass, and a classifier that does not fit shows
PyTorch's error with a button that sets the value that fits."""
from __future__ import annotations

import re

import pytest
import streamlit as st

from tests.pages.harness import open_page, run_snippet
from ui import catalog, classroom

PAGE = next(p for p in catalog.topic_pages() if p.url_path == "multi-io")
LINK = {"mio_image_size": "32", "mio_channels": "3 (RGB)", "mio_filters": "8", "mio_aux_dim": "12", "mio_image_embed": "64",
        "mio_aux_embed": "16", "mio_classifier_in": "80", "mio_classes": "5", "mio_weighting": "Uncertainty (Kendall et al.)",
        "mio_weight_a": "0.3", "mio_lr": "0.01", "mio_epochs": "2", "mio_seed": "3", "mio_target_scale": "×1,000 (per mille)"}


def table(at, column: str):
    return next(d.value for d in at.dataframe if column in d.value.columns)


def training_caption(at) -> str:
    return next(c.value for c in at.caption if "core.training.train" in c.value)


def test_the_runs_train_live_once_and_later_reruns_draw_them_at_once(monkeypatch):
    """First visit: each of the five runs is drawn while it trains (σ_k too, for uncertainty), redrawn a few times a
    second at most; then kept. A rerun, or a control the runs do not read, trains nothing; λ retrains the fixed run only."""
    drawn = []

    def chart(fig, key, *args, **kwargs):
        drawn.append((key, fig.layout.yaxis.title.text))
        return real(fig, key, *args, **kwargs)

    real = classroom.chart
    monkeypatch.setattr(classroom, "chart", chart)
    st.cache_resource.clear()  # no run kept from another test
    at = open_page(PAGE, {"mio_epochs": "1", "mio_seed": "11", "mio_weighting": "Uncertainty (Kendall et al.)"})
    assert not at.exception, [e.value for e in at.exception]
    caption = training_caption(at)
    assert "All five were trained just now" in caption and "nothing is downloaded" in caption
    live = [title for key, title in drawn if key.startswith("mio_live_")]
    sigma = [t for t in live if t.startswith("σ_k")]
    assert len(live) - len(sigma) >= 5 and sigma  # each run drew its curves as it trained; the uncertainty run its σ_k
    wall = float(re.search(r"([\d.]+) s for the five runs", caption).group(1))
    assert len(live) - len(sigma) <= wall / 0.3 + 2 * 5, (len(live), wall)  # time-throttled, not one per step
    assert "mio_heads" in [key for key, _ in drawn]  # then the finished chart, as before

    for change in (lambda: at.run(), lambda: at.select_slider(key="mio_image_size").set_value("16").run(),
                   lambda: at.radio(key="mio_weighting").set_value("Normalized by EMA").run()):
        drawn.clear()
        change()
        assert not at.exception, [e.value for e in at.exception]
        assert "None was retrained" in training_caption(at)
        assert not [key for key, _ in drawn if key.startswith("mio_live_")]
    drawn.clear()
    at.slider(key="mio_weight_a").set_value(0.25).run()
    assert "1 of them trained just now" in training_caption(at) and "the other 4 were trained earlier" in training_caption(at)
    assert [key for key, _ in drawn if key.startswith("mio_live_")]


def test_the_link_restores_the_view():
    at = open_page(PAGE, LINK)
    assert not at.exception, [e.value for e in at.exception]
    assert at.select_slider(key="mio_image_size").value == "32"
    assert at.radio(key="mio_channels").value == "3 (RGB)"
    assert at.number_input(key="mio_classifier_in").value == 80
    assert at.slider(key="mio_weight_a").value == pytest.approx(0.3)
    assert at.radio(key="mio_weighting").value == "Uncertainty (Kendall et al.)"
    assert at.select_slider(key="mio_target_scale").value == "×1,000 (per mille)"
    assert at.slider(key="mio_epochs").value == 2 and at.number_input(key="mio_seed").value == 3
    assert not at.warning, [w.value for w in at.warning]


def test_a_short_two_head_run_trains_and_the_script_reproduces_it(tmp_path):
    at = open_page(PAGE, LINK)
    assert not at.exception, [e.value for e in at.exception]
    checks = table(at, "result")
    assert len(checks) >= 15 and (checks.result == "pass").all(), checks[checks.result != "pass"]
    assert any("All" in s.value and "checks pass" in s.value for s in at.success)
    assert any("core.training.train" in c.value for c in at.caption)

    weighting = table(at, "alphabet accuracy (%)").set_index("weighting")
    assert len(weighting) == 3
    assert (weighting["alphabet accuracy (%)"] > 100 / 3 + 10).all()  # trained well past chance
    assert (weighting["character accuracy (%)"] > 100 / 12 + 20).all()
    learned = weighting.loc["Uncertainty (Kendall et al.)"]
    weights = [learned["weight on L_alphabet (last step)"], learned["weight on L_character (last step)"]]
    assert any(abs(w - 0.5) > 1e-3 for w in weights), weights  # σ_k moved from 1: s_k got gradients
    scales = table(at, "ink R²").set_index("run")

    printed = run_snippet(at.code[0].value, tmp_path, "multi_io.py")
    assert printed["multi_input"] == {"flatten": str(8 * 16 * 16), "z_image": "64", "z_aux": "16", "z_combined": "80",
                                      "params": str(int(checks.set_index("what").loc["parameters: formula vs Σ p.numel()", "PyTorch"]))}
    assert printed["classifier"] == {"fits": "1", "logits": "5"}
    labels = {"fixed": "Fixed weights λ", "uncertainty": "Uncertainty (Kendall et al.)", "normalized": "Normalized by EMA"}
    for scheme, label in labels.items():
        assert printed[scheme]["status"] == "done"
        assert 100 * float(printed[scheme]["acc_alphabet"]) == pytest.approx(weighting.loc[label, "alphabet accuracy (%)"], abs=1e-3)
        assert 100 * float(printed[scheme]["acc_character"]) == pytest.approx(weighting.loc[label, "character accuracy (%)"], abs=1e-3)
    sigma = [float(printed["uncertainty"][k]) for k in ("sigma_alphabet", "sigma_character")]
    shown = " ".join(c.value for c in at.caption)
    assert f"σ_alphabet = {sigma[0]:.3f}" in shown and f"σ_character = {sigma[1]:.3f}" in shown
    for run, label in (("scale_plain", "plain sum L_CE + L_MSE"), ("scale_normalized", "Σ L_k / EMA(L_k)")):
        assert 100 * float(printed[run]["acc_character"]) == pytest.approx(scales.loc[label, "character accuracy (%)"], abs=1e-3)
        assert float(printed[run]["r2_ink"]) == pytest.approx(scales.loc[label, "ink R²"], abs=1e-5)


def test_a_classifier_that_does_not_fit_shows_pytorchs_error_and_can_be_fixed():
    at = open_page(PAGE, {"mio_image_embed": "64", "mio_epochs": "1"})
    assert not at.exception
    message = " ".join(e.value for e in at.error)
    assert "mat1 and mat2 shapes cannot be multiplied (4x72 and 136x10)" in message and "in_features = 72" in message
    assert (table(at, "result").result == "pass").all()
    at.button(key="mio_fit").click().run()
    assert not at.exception
    assert at.number_input(key="mio_classifier_in").value == 72
    assert not any("mat1 and mat2" in e.value for e in at.error)
    assert any("logits (4, 10)" in s.value for s in at.success)


def test_predict_mode_asks_for_the_flatten_width_before_showing_it():
    at = open_page(PAGE, {"ui_predict": "true", "mio_image_size": "28", "mio_filters": "4", "mio_epochs": "1"})
    assert not at.exception
    assert not at.dataframe  # the page waits for a guess
    at.number_input(key="mio_guess").set_value(4 * 14 * 14).run()
    at.button(key="mio_reveal").click().run()
    assert not at.exception
    assert any("Right: 784" in s.value for s in at.success)
    assert (table(at, "result").result == "pass").all()
