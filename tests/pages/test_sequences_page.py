"""The Sequences & windowing page's own promises: its script reproduces the window count, both splits' counts
and scores; the checks pass; PyTorch's real error for the (N, T) batch is shown; uploads are validated with
clear messages, and a good one replaces the bundled series."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.pages.harness import open_page, run_snippet
from ui import catalog

PAGE = next(p for p in catalog.topic_pages() if p.url_path == "sequences")
LINK = {"seq_window": "48", "seq_horizon": "8", "seq_stride": "2", "seq_position": "3001", "seq_split": "random", "seq_seed": "2"}


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """The page trains a small forecaster in this process; one intra-op thread is its fastest setting."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def script(at) -> str:
    return next(c.value for c in at.code if c.value.startswith('"""Sequences & windowing'))


def train(at):
    """Press "Train the forecaster both ways"."""
    at.button(key="seq_train").click()
    return at.run()


def has_train_button(at) -> bool:
    return any(b.key == "seq_train" for b in at.button)


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_code_snippet_runs_and_reproduces_the_page(tmp_path):
    at = train(open_page(PAGE, LINK))
    assert not at.exception
    printed = run_snippet(script(at), tmp_path)
    count = (8064 - 48 - 8) // 2 + 1
    assert printed["windows"] == {"count": str(count), "formula": str(count), "X": f"{count}x48", "y": str(count)}
    assert metrics(at)["M windows"] == f"{count:,}"
    assert printed["window"]["index"] == "1500" and printed["window"]["target"] == str(3000 + 48 + 8 - 1)
    assert "Window i = 1,500" in " ".join(m.value for m in at.markdown)
    table = at.dataframe[0].value.set_index("split")
    for split in ("temporal", "random"):
        row, shown = printed[split], table.loc[split]
        assert int(row["train"]) == shown["train windows"] and int(row["test"]) == shown["test windows"]
        assert int(row["overlap"]) == shown["test overlapping train"]
        assert float(row["mse"]) == pytest.approx(shown["test MSE (kW²)"], rel=1e-6)
        assert float(row["mae"]) == pytest.approx(shown["test MAE (kW)"], rel=1e-6)
    assert printed["pitfall"] == {"error": "RuntimeError", "fixed": "32x48x1", "out": "32x48x16"}


def test_check_panel_shows_every_check_passing_before_and_after_training():
    at = open_page(PAGE, LINK)
    before = at.dataframe[-1].value
    assert len(before) >= 13 and (before.result == "pass").all()
    after = train(at).dataframe[-1].value
    assert len(after) == len(before) + 4 and (after.result == "pass").all()
    assert any("All" in s.value for s in at.success)


def test_training_waits_for_the_button_and_is_kept_for_the_setting():
    at = open_page(PAGE)
    table = at.dataframe[0].value.set_index("split")
    assert "test MSE (kW²)" not in table and table.loc["random", "test overlapping train"] > 0  # counts need no training
    train(at)
    assert not has_train_button(at)  # trained: the scores are shown instead
    at.slider(key="seq_position").set_value(500).run()
    assert not has_train_button(at) and at.dataframe[0].value["test MSE (kW²)"].notna().all()
    at.slider(key="seq_stride").set_value(3).run()
    assert has_train_button(at)  # a new setting asks again


def test_the_random_split_looks_better_at_the_defaults_and_the_page_says_why():
    at = train(open_page(PAGE))
    table = at.dataframe[0].value.set_index("split")
    assert table.loc["random", "test MSE (kW²)"] < table.loc["temporal", "test MSE (kW²)"]
    assert table.loc["temporal", "test overlapping train"] == 0 and table.loc["random", "test overlapping train"] > 0
    text = " ".join(m.value for m in at.markdown)
    assert "**The random split looks" in text and "look-ahead leakage" in text


def test_the_shape_pitfall_shows_pytorchs_error_and_the_silent_case():
    at = open_page(PAGE, {"seq_window": "30"})
    codes = " ".join(c.value for c in at.code)
    assert "RuntimeError: input.size(-1) must be equal to input_size. Expected 1, got 30" in codes
    assert "(32, 30, 1)" in codes
    assert any("different to the input size" in c.value for c in at.caption)
    silent = open_page(PAGE, {"seq_window": "1"})
    assert not silent.exception
    assert "# no error: out is (32, 16)" in " ".join(c.value for c in silent.code)


def test_a_position_past_the_last_window_shows_the_last_one():
    at = open_page(PAGE, {"seq_window": "672", "seq_horizon": "96", "seq_stride": "96", "seq_position": "8063"})
    assert not at.exception and not at.warning
    last = (8064 - 672 - 96) // 96
    assert f"Window i = {last}" in " ".join(m.value for m in at.markdown)
    assert any("The last window starts at reading" in c.value for c in at.caption)


def csv_bytes(values, header="t,load") -> bytes:
    return (header + "\n" + "".join(f"{i},{v}\n" for i, v in enumerate(values))).encode()


def test_bad_uploads_get_a_clear_message_and_keep_the_bundled_series():
    at = open_page(PAGE)
    cases = {
        "empty": (b"", "The file is empty."),
        "binary": (b"\x00\x01\x02 junk", "not a text CSV"),
        "one column": (b"x\n" + b"".join(b"%d\n" % i for i in range(40)), "at least two columns"),
        "too short": (csv_bytes(range(200)), "need at least 510"),
        "text values": (b"t,load\n" + b"".join(b"%d,high\n" % i for i in range(600)), "not numbers"),
        "missing values": (csv_bytes([*range(599), "nan"]), "NaN or infinite"),
    }
    for name, (raw, message) in cases.items():
        at.file_uploader(key="seq_upload").set_value((f"{name}.csv", raw, "text/csv")).run()
        assert not at.exception, name
        assert any(message in e.value for e in at.error), (name, [e.value for e in at.error])
        assert metrics(at)["N readings"] == "8,064", name


def test_a_good_upload_replaces_the_series():
    values = 50 + 10 * np.sin(np.arange(3000) * 2 * np.pi / 96) + np.random.default_rng(0).normal(size=3000)
    at = open_page(PAGE)
    at.file_uploader(key="seq_upload").set_value(("load.csv", csv_bytes(values.round(3)), "text/csv")).run()
    assert not at.exception and not at.error
    assert any("3,000 readings of `load`" in s.value for s in at.success)
    assert metrics(at)["N readings"] == "3,000" and metrics(at)["M windows"] == f"{3000 - 96 - 4 + 1:,}"
    assert (at.dataframe[-1].value.result == "pass").all()
    assert "CSV_PATH = 'load.csv'" in script(at)


def test_an_upload_too_short_for_the_stride_explains_instead_of_failing():
    at = open_page(PAGE, {"seq_stride": "96"})
    at.file_uploader(key="seq_upload").set_value(("short.csv", csv_bytes(np.sin(np.arange(510))), "text/csv")).run()
    train(at)
    assert not at.exception
    assert any("cannot be compared" in w.value for w in at.warning)
