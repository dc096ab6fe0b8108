"""The Classification metrics page's own promises: its script reproduces its numbers, an edited matrix comes
back from a link, a bad matrix is refused with a clear message, and the generated matrix is measured too."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.pages.harness import run_snippet, open_page
from ui import catalog

PAGE = next(p for p in catalog.topic_pages() if p.url_path == "classification-metrics")
EDITED = "12,3,0,1;2,20,5,0;0,4,9,2;1,0,3,30"


def printed(code: str, tmp_path) -> dict[str, dict[str, str]]:
    return run_snippet(code, tmp_path, "classification_metrics.py")


def table(at, column: str):
    """The page's table that has `column` (the matrix grid is a data frame too)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def test_code_snippet_runs_and_reproduces_the_page(tmp_path):
    at = open_page(PAGE, {"cm_matrix": EDITED, "cm_average": "weighted", "cm_threshold": "0.37"})
    assert not at.exception
    out = printed(at.main.code[-1].value, tmp_path)
    assert out["confmat"]["equal"] == "True"
    per_class, averages = table(at, "n_k"), table(at, "metric").set_index("metric")
    for name, column in [("precision", "precision"), ("recall", "recall"), ("f1", "F1")]:
        assert [float(out[name][f"c{k}"]) for k in range(4)] == pytest.approx(list(per_class[column]), abs=1e-6)
        for average in ("macro", "micro", "weighted"):
            assert float(out[name][average]) == pytest.approx(averages.loc[column, average], abs=1e-6)
    shown = {m.label: m.value for m in at.metric}
    assert float(out["binary"]["precision"]) == pytest.approx(float(shown["Precision"]), abs=1e-4)
    assert float(out["binary"]["recall"]) == pytest.approx(float(shown["Recall"]), abs=1e-4)
    assert float(out["binary"]["auroc"]) == pytest.approx(float(shown["AUROC"]), abs=1e-4)
    assert f"**TP** = {out['binary']['tp']}" in " ".join(m.value for m in at.markdown)
    assert (at.dataframe[-1].value.result == "pass").all()


def test_an_edited_matrix_comes_back_from_its_link():
    at = open_page(PAGE, {"cm_matrix": EDITED})
    assert not at.exception and not at.warning
    assert at.text_input(key="cm_matrix").value == EDITED
    assert list(table(at, "n_k").n_k) == [16, 27, 15, 34]
    assert any("Weighted" in latex.value or "macro" in latex.value for latex in at.latex)


@pytest.mark.parametrize("text, message", [("1,2;3", "Row 1 has 1 count"), ("a,b;c,d", "is not a count"), ("", "2 to 10 rows")])
def test_a_bad_matrix_is_refused_with_a_clear_message(text, message):
    at = open_page(PAGE, {"cm_matrix": text})
    assert not at.exception
    assert any(message in e.value for e in at.error)
    assert at.get("plotly_chart")  # the binary case still shows
    assert any("Binary case" in h.value for h in at.subheader)


@pytest.mark.parametrize("bad", ["<script>alert(1)</script>", "1," * 600])
def test_unsafe_or_overlong_links_fall_back_with_a_note(bad):
    at = open_page(PAGE, {"cm_matrix": bad})
    assert not at.exception
    assert any("`cm_matrix`" in w.value for w in at.warning)
    assert at.text_input(key="cm_matrix").value == "50,3,2;5,30,10;1,4,20"


def test_generated_matrix_and_absent_class_notes():
    at = open_page(PAGE, {"cm_source": "Generate from accuracy and imbalance", "cm_num_classes": "6", "cm_accuracy": "0.65",
                          "cm_imbalance": "10"})
    assert not at.exception
    assert float(at.metric[1].value) == pytest.approx(0.65, abs=0.006) and len(table(at, "n_k")) == 6  # rounded per class
    absent = open_page(PAGE, {"cm_matrix": "5,0,0;0,0,0;3,0,0"})
    assert any("never true and never predicted" in i.value for i in absent.info)
