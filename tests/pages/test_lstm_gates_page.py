"""The LSTM & GRU gates page's own promises: its script retrains the same model and reproduces the gates, states,
output and training losses the page shows; every check passes for every cell; the unit stays valid when H shrinks;
the frequency appears only for periodic inputs; the page says whether the model is trained."""
from __future__ import annotations

import re

import pytest

from core import gate_tasks as tasks
from core import gates
from tests.pages.harness import open_page, run_snippet
from ui import catalog

PAGE = next(p for p in catalog.topic_pages() if p.url_path == "lstm-gates")
LINK = {"rnn_cell": "LSTM", "rnn_input": "Sine", "rnn_frequency": "0.08", "rnn_seq_len": "40", "rnn_hidden": "6",
        "rnn_unit": "2", "rnn_trained": "true", "rnn_seed": "3"}


def check_table(at):
    return at.dataframe[0].value.set_index("what")


def row(table, start: str):
    return table.loc[next(w for w in table.index if w.startswith(start))]


def page_text(at) -> str:
    return " ".join(m.value for m in at.markdown)


def test_trained_lstm_script_reproduces_the_page(tmp_path):
    at = open_page(PAGE, LINK)
    assert not at.exception
    printed = run_snippet(at.code[0].value, tmp_path)
    table = check_table(at)
    last = printed["last_step"]
    assert (last["t"], last["unit"]) == ("40", "2")
    assert float(last["h"]) == pytest.approx(row(table, "h_t, all t")["formula"], abs=2e-4)
    assert float(last["c"]) == pytest.approx(row(table, "c_t, all t")["formula"], abs=2e-4)
    assert float(last["y_hat"]) == pytest.approx(row(table, "ŷ_t")["PyTorch"], abs=2e-4)
    assert all(float(v) < 1e-5 for v in printed["check"].values()), printed["check"]
    first, final, mse = re.search(r"Training MSE (\d+\.\d+) → (\d+\.\d+) .*on this sequence, MSE (\d+\.\d+)", page_text(at)).groups()
    assert printed["training"]["steps"] == str(tasks.TRAIN_STEPS)
    assert float(printed["training"]["first_loss"]) == pytest.approx(float(first), abs=1e-4)
    assert float(printed["training"]["last_loss"]) == pytest.approx(float(final), abs=1e-3)
    assert float(printed["task"]["mse"]) == pytest.approx(float(mse), abs=1e-3)


def test_untrained_gru_script_shows_the_course_gap(tmp_path):
    at = open_page(PAGE, {"rnn_cell": "GRU", "rnn_input": "Noisy random walk", "rnn_seq_len": "25", "rnn_hidden": "5",
                          "rnn_unit": "4", "rnn_trained": "false", "rnn_seed": "11"})
    assert not at.exception
    printed = run_snippet(at.code[0].value, tmp_path)
    table = check_table(at)
    assert float(printed["last_step"]["h"]) == pytest.approx(row(table, "h_t, all t")["formula"], abs=1e-6)
    assert float(printed["last_step"]["y_hat"]) == pytest.approx(row(table, "ŷ_t")["PyTorch"], abs=1e-6)
    gap = float(re.search(r"off by up to \*\*([\d.e+-]+)\*\*", page_text(at)).group(1))
    assert gap > 1e-3 and float(printed["course"]["gap"]) == pytest.approx(gap, rel=1e-2)
    assert "Untrained" in page_text(at) and "training" not in printed


@pytest.mark.parametrize("cell, kind", [("LSTM", "Impulse to remember"), ("GRU", "Square wave"), ("RNN", "Electricity (bundled series)")])
def test_every_check_passes(cell, kind):
    at = open_page(PAGE, {"rnn_cell": cell, "rnn_input": kind, "rnn_hidden": "4", "rnn_seq_len": "30", "rnn_trained": "false"})
    assert not at.exception
    table = check_table(at)
    assert len(table) == (6 if cell == "LSTM" else 4) and (table.result == "pass").all()
    assert any("All" in s.value for s in at.success)
    assert len(at.get("plotly_chart")) == (3 if cell != "RNN" else 2)  # gates | states, or h alone; the unit's traces


def test_unit_is_clamped_when_the_hidden_size_shrinks():
    at = open_page(PAGE, {"rnn_hidden": "3", "rnn_unit": "10", "rnn_trained": "false"})
    assert not at.exception and not at.warning
    assert any("no unit 10 with H = 3" in i.value for i in at.info)
    model = tasks.build("LSTM", 3, "impulse", False, 0)
    tr = gates.trace(model, *tasks.signal("impulse", 60))
    assert row(check_table(at), "h_t, all t")["formula"] == pytest.approx(tr.values["h"][-1, 2])
    assert any(s.value == "Unit 2 over time" for s in at.subheader)
    assert "UNIT = 10" not in at.code[0].value and ", 2   # cell" in at.code[0].value


def test_frequency_only_for_periodic_inputs_and_restored_from_a_link():
    at = open_page(PAGE, {"rnn_input": "Square wave", "rnn_frequency": "0.17", "rnn_trained": "false"})
    assert at.slider(key="rnn_frequency").value == pytest.approx(0.17)
    assert "0.17 * torch.arange" in at.code[0].value
    at = open_page(PAGE, {"rnn_input": "Impulse to remember", "rnn_trained": "false"})
    assert not [s for s in at.slider if s.key == "rnn_frequency"]


def test_trained_and_untrained_say_which():
    at = open_page(PAGE, {"rnn_cell": "RNN", "rnn_hidden": "2", "rnn_seq_len": "80"})
    text = page_text(at)
    assert "**Trained**" in text and tasks.TASKS["impulse"] in text
    assert f"Steps after t = {tasks.TRAIN_LEN} run longer than any training sequence" in text
    at = open_page(PAGE, {"rnn_cell": "RNN", "rnn_hidden": "2", "rnn_trained": "false"})
    assert "**Untrained**" in page_text(at) and "U(−0.707, 0.707)" in page_text(at)
