"""The Initialization page's own promises: its checks pass, its code panel reproduces every number it shows (the
pass and the training comparison), and impossible or extreme settings get a message instead of a crash."""
from __future__ import annotations

import pytest

from core import initialization as ini
from tests.pages.harness import keyed_widgets, open_page, run_snippet
from ui import catalog

PAGE = next(p for p in catalog.topic_pages() if p.url_path == "initialization")
LINK = {"init_depth": "7", "init_width": "64", "init_activation": "Tanh", "init_scheme": "Xavier normal",
        "init_batchnorm": "true", "init_layer": "5", "init_compare": ["PyTorch default (nn.Linear)", "Xavier normal"]}


def table(at, column: str):
    """The page's dataframe that has `column`."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def texts(elements) -> str:
    return " ".join(e.value for e in elements)


def test_link_restores_the_view_and_the_code_reproduces_it(tmp_path):
    at = open_page(PAGE, LINK)
    assert not at.exception
    shown = {w.key: w.value for w in keyed_widgets(at)}
    assert shown["init_depth"] == 7 and shown["init_width"] == "64" and shown["init_scheme"] == "Xavier normal"
    assert shown["init_batchnorm"] is True and shown["init_layer"] == 5 and shown["init_activation"] == "Tanh"
    assert "Training 2 runs" in texts(at.info)  # the training waits for the next pass, so the page is drawn at once
    at.run()
    assert not at.exception
    printed = run_snippet(at.code[0].value, tmp_path, "initialization.py")

    layers = table(at, "layer").set_index("layer")
    assert len(layers) == 7
    columns = {"var_z": "Var(z)", "pred_course": "course n·Var(W)·Var(x)", "pred_mean": "n·Var(W)·E[x²] + Var(b)",
               "var_a": "Var(a)", "grad_norm": "‖∂L/∂W‖", "share": ini.share_label("tanh")}
    for layer, row in layers.iterrows():
        line = printed[f"layer {layer}"]
        for key, column in columns.items():
            assert float(line[key]) == pytest.approx(row[column], rel=1e-4, abs=1e-12), (layer, key)

    runs = table(at, "ended").set_index("scheme")
    for scheme in ("default", "xavier_normal"):
        line, row = printed[f"train {scheme}"], runs.loc[ini.SCHEME_LABELS[scheme]]
        assert line["status"] == row.ended == "done"
        assert float(line["train_loss"]) == pytest.approx(row["train loss"], rel=1e-4)
        assert float(line["val_loss"]) == pytest.approx(row["validation loss"], rel=1e-4)
        assert 100 * float(line["accuracy"]) == pytest.approx(row["validation accuracy (%)"], abs=1e-4)
    weights = printed["weights"]
    assert float(weights["var_formula"]) == pytest.approx(2 / (64 + 64))


def test_check_panel_shows_every_check_passing():
    at = open_page(PAGE, LINK)
    checks = table(at, "result")
    assert len(checks) >= 5 and (checks.result == "pass").all()
    assert any("BatchNorm1d" in w for w in checks.what)
    assert any("All" in s.value for s in at.success)


def test_a_layer_beyond_the_depth_shows_the_last_one():
    at = open_page(PAGE, {"init_depth": "3", "init_layer": "40", "init_width": "16"})
    assert not at.exception and not at.warning
    assert "showing layer 3" in texts(at.info)


@pytest.mark.parametrize("picked, message", [(["Zeros"], "at least 2"), (list(ini.SCHEME_LABELS.values())[:4], "at most 3")])
def test_two_or_three_schemes_to_compare(picked, message):
    at = open_page(PAGE, {"init_compare": picked, "init_width": "16"})
    assert not at.exception
    assert message in texts(at.info)
    assert not any("ended" in d.value.columns for d in at.dataframe)


def test_exploding_and_zero_weights_are_explained():
    at = open_page(PAGE, {"init_depth": "50", "init_width": "512", "init_scheme": "N(0, 1)", "init_activation": "ReLU", "init_layer": "45"})
    assert not at.exception
    assert "overflow float32" in texts(at.error)
    assert "no histogram" in texts(at.info)
    assert (table(at, "result").result == "pass").all()
    at = open_page(PAGE, {"init_scheme": "Zeros", "init_width": "32"})
    assert not at.exception and "symmetry" in texts(at.info)


def test_a_diverged_run_says_so():
    at = open_page(PAGE, {"init_compare": ["N(0, 1)", "Kaiming uniform"], "init_width": "16"})
    at.run()
    assert not at.exception
    assert "diverged" in texts(at.error)
    assert list(table(at, "ended").ended) == ["diverged", "done"]


def test_relu_dead_units_match_the_code_without_training(tmp_path):
    at = open_page(PAGE, {"init_depth": "9", "init_width": "32", "init_activation": "ReLU", "init_scheme": "PyTorch default (nn.Linear)",
                          "init_compare": ["Zeros"]})
    assert not at.exception
    code = at.code[0].value
    assert "train_set" not in code  # one scheme: nothing to train, and the script says nothing about it
    printed = run_snippet(code, tmp_path, "initialization.py")
    layers = table(at, "layer").set_index("layer")
    for layer, row in layers.iterrows():
        line = printed[f"layer {layer}"]
        assert float(line["dead"]) == pytest.approx(row["dead units"], abs=1e-7)
        assert float(line["share"]) == pytest.approx(row[ini.share_label("relu")], abs=1e-7)
        assert float(line["grad_norm"]) == pytest.approx(row["‖∂L/∂W‖"], rel=1e-4)
