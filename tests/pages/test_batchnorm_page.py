"""The Batch normalization page's own promises: its checks pass, its code snippet reproduces its numbers, a batch of
one is explained instead of crashing, and the learning-rate comparison appears on request."""
from __future__ import annotations

import pytest

from tests.pages.harness import open_page, run_snippet
from ui import catalog

PAGE = next(p for p in catalog.topic_pages() if p.url_path == "batchnorm")
LINK = {"bn_batch_size": "24", "bn_features": "5", "bn_shift": "-2", "bn_scale": "3", "bn_skew": "0.4", "bn_gamma": "1.5",
        "bn_beta": "-0.5", "bn_momentum": "0.2", "bn_mode": "eval: running statistics", "bn_batches": "60", "bn_feature": "3",
        "bn_images": "3", "bn_optimizer": "SGD", "bn_lr": "1"}
ONE = {"bn_batch_size": "1", "bn_features": "3", "bn_feature": "2", "bn_momentum": "None (cumulative average)"}


def table(at, column: str):
    """The page's dataframe that has `column`."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def metric(at, start: str) -> str:
    return next(m.value for m in at.metric if m.label.startswith(start))


def assert_checks_pass(at):
    checks = table(at, "result")
    assert len(checks) >= 5 and (checks.result == "pass").all(), checks
    assert any("All" in s.value for s in at.success)


@pytest.fixture(scope="module")
def linked():
    at = open_page(PAGE, LINK)
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_linked_view_passes_every_check(linked):
    assert_checks_pass(linked)
    assert not linked.warning
    assert [e.value.split(":")[0] for e in linked.error] == ["train mode"]  # only the batch-of-one demonstration


def test_code_snippet_reproduces_the_page(linked, tmp_path):
    printed = run_snippet(linked.code[0].value, tmp_path, "batchnorm.py")
    row = table(linked, "μ_B").set_index("feature").loc[3]  # the feature shown in detail
    b = {key: float(value) for key, value in printed["batch1"].items()}
    assert b["mean"] == pytest.approx(row["μ_B"], rel=1e-5)
    assert b["var_biased"] == pytest.approx(row["σ²_B (÷ m)"], rel=1e-5)
    assert b["var_unbiased"] == pytest.approx(row["s²_B (÷ (m − 1))"], rel=1e-5)
    assert b["running_mean"] == pytest.approx(row["running_mean by the rule"], rel=1e-5, abs=1e-6)
    assert b["running_var"] == pytest.approx(row["running_var, nn.BatchNorm1d"], rel=1e-5)
    assert float(printed["train"]["max_error"]) < 1e-4
    assert float(printed["train"]["y1"]) == pytest.approx(float(metric(linked, "sample 1, feature 3: y in train")), rel=1e-3)

    stream = table(linked, "population mean").set_index("feature").loc[3]
    assert int(printed["stream"]["batches"]) == 60
    assert float(printed["stream"]["running_mean"]) == pytest.approx(stream.running_mean, rel=1e-5)
    assert float(printed["stream"]["running_var"]) == pytest.approx(stream.running_var, rel=1e-5)
    y_eval = float(metric(linked, "sample 1, feature 3: y in eval"))
    assert float(printed["eval"]["y1"]) == pytest.approx(y_eval, rel=1e-3)
    assert float(printed["eval"]["alone"]) == pytest.approx(y_eval, rel=1e-3)
    assert float(printed["eval"]["max_error"]) < 1e-4

    channels = table(linked, "μ_c").set_index("channel")
    for c in range(3):
        assert float(printed["bn2d"][f"mean{c}"]) == pytest.approx(channels.loc[c, "μ_c"], rel=1e-5)
        assert float(printed["bn2d"][f"var{c}"]) == pytest.approx(channels.loc[c, "σ²_c (÷ N·H·W)"], rel=1e-5)
        assert float(printed["bn2d"][f"running_var{c}"]) == pytest.approx(channels.loc[c, "running_var"], rel=1e-5)
    assert float(printed["bn2d"]["max_error"]) < 1e-4

    runs = table(linked, "last epoch's training loss")["last epoch's training loss"].tolist()
    assert float(printed["training"]["without"]) == pytest.approx(runs[0], abs=1e-5)
    assert float(printed["training"]["with"]) == pytest.approx(runs[1], abs=1e-5)


def test_a_batch_of_one_is_explained_not_raised(tmp_path):
    at = open_page(PAGE, ONE)
    assert not at.exception, [e.value for e in at.exception]
    errors = " ".join(e.value for e in at.error)
    assert "Expected more than 1 value per channel when training" in errors and "running_var = nan" in errors
    assert metric(at, "max |formula − nn.BatchNorm1d|") == "refused"
    assert_checks_pass(at)
    printed = run_snippet(at.code[0].value, tmp_path, "batchnorm.py")
    assert printed["train"] == {"refused": "1", "num_batches_tracked": "1"}
    assert printed["stream"]["batches"] == "0"
    assert float(printed["eval"]["y1"]) == pytest.approx(float(metric(at, "sample 1, feature 2: y in eval")), rel=1e-3)


def test_feature_beyond_the_features_is_shown_as_the_last_one():
    at = open_page(PAGE, {"bn_features": "2", "bn_feature": "7"})
    assert not at.exception
    assert any("Feature 7 does not exist" in i.value for i in at.info)
    assert any(m.label.startswith("sample 1, feature 2") for m in at.metric)


def test_learning_rate_comparison_appears_on_request():
    at = open_page(PAGE)
    charts_before = len(at.get("plotly_chart"))
    at.toggle(key="bn_sweep").set_value(True).run()
    assert not at.exception
    assert len(at.get("plotly_chart")) == charts_before + 1


def test_the_mean_of_x_hat_in_train_mode_reads_as_zero_up_to_rounding():
    at = open_page(PAGE, {"bn_batch_size": "32", "bn_features": "4", "bn_mode": "train: batch statistics"})
    assert not at.exception
    shown = metric(at, "mean of x̂ over the batch")
    # train mode centres every feature exactly in exact arithmetic: the page says so rather than print bare rounding
    assert shown == "0" or (shown.endswith("≈ 0") and abs(float(shown.split()[0])) < 1e-6), shown
