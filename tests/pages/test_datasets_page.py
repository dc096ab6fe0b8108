"""The Datasets & DataLoader page's own promises: its script reproduces the sample, the counts and every batch
the page shows; the checks pass; an index beyond N is clamped with PyTorch's own error; no batch is explained."""
from __future__ import annotations

import pytest

from tests.pages.harness import open_page, run_snippet
from ui import catalog

PAGE = next(p for p in catalog.topic_pages() if p.url_path == "datasets")
LINK = {"data_n": "30", "data_batch_size": "7", "data_shuffle": "true", "data_drop_last": "true", "data_seed": "5",
        "data_index": "12"}


def script(at) -> str:
    return next(c.value for c in at.code if c.value.startswith('"""Datasets & DataLoader'))


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_code_snippet_runs_and_reproduces_the_page(tmp_path):
    at = open_page(PAGE, LINK)
    assert not at.exception
    printed = run_snippet(script(at), tmp_path)
    assert printed["dataset"]["len"] == "30"
    sample = at.dataframe[0].value
    assert printed["sample"]["index"] == "12" and float(printed["sample"]["label"]) == sample.iloc[0, -1]
    assert [float(x) for x in printed["sample"]["features"].split(",")] == pytest.approx(list(sample.iloc[0, :-1]), abs=1e-6)
    shown = metrics(at)
    assert printed["loader"]["formula"] == printed["loader"]["len"] == shown["len(DataLoader)"] == "4"  # ⌊30/7⌋
    table = at.dataframe[1].value
    for epoch in (1, 2):
        rows = table[table.epoch == epoch]
        row = printed[f"epoch{epoch}"]
        assert row["batches"] == str(len(rows)) and row["sizes"] == ",".join(map(str, rows["size"]))
        assert row["order"] == ",".join(i.strip() for cell in rows["sample indices"] for i in cell.split(","))
        assert len(row["dropped"].split(",")) == 2  # 30 mod 7
    assert table[table.epoch == 1]["sample indices"].tolist() != table[table.epoch == 2]["sample indices"].tolist()


def test_check_panel_shows_every_check_passing():
    at = open_page(PAGE, LINK)
    checks = at.dataframe[-1].value
    assert len(checks) >= 10 and (checks.result == "pass").all()
    assert any("All" in s.value for s in at.success)


def test_an_index_beyond_the_subset_is_clamped_with_pytorchs_error():
    at = open_page(PAGE, {"data_n": "10", "data_index": "500"})
    assert not at.exception and not at.warning
    assert at.number_input(key="data_index").value == 500  # the link keeps the reader's value
    note = " ".join(i.value for i in at.info)
    assert "IndexError" in note and "i = 9" in note
    assert at.dataframe[0].value.index[0] == "dataset[9]"


def test_drop_last_with_a_subset_smaller_than_a_batch_yields_nothing():
    at = open_page(PAGE, {"data_n": "5", "data_batch_size": "8", "data_drop_last": "true"})
    assert not at.exception
    assert metrics(at)["len(DataLoader)"] == "0"
    assert any("yields nothing" in i.value for i in at.info)
    assert (at.dataframe[-1].value.result == "pass").all()


def test_without_shuffle_every_epoch_reads_in_order():
    at = open_page(PAGE, {"data_n": "12", "data_batch_size": "5", "data_shuffle": "false"})
    table = at.dataframe[1].value
    assert table["sample indices"].tolist() == ["0, 1, 2, 3, 4", "5, 6, 7, 8, 9", "10, 11"] * 2
    assert metrics(at)["last batch, dropped"] == "2, 0"


def test_a_fractional_link_value_for_a_whole_number_input_says_what_it_needs():
    at = open_page(PAGE, {"data_seed": "1.5", "data_n": "3000000"})
    assert not at.exception
    notes = " ".join(w.value for w in at.warning)
    assert "`1.5` for `data_seed` is not a whole number from 0 to 9999" in notes, notes
    assert "for `data_n` is not a whole number from 1 to" in notes, notes
    assert at.number_input(key="data_seed").value == 0
