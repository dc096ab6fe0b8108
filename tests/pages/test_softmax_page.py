"""The Softmax page's own promises: its script reproduces its numbers, overflow and underflow are shown with
what to do about them, and a true class beyond K is explained rather than failing."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.pages.harness import run_snippet, open_page
from ui import catalog

PAGE = next(p for p in catalog.topic_pages() if p.url_path == "softmax")
LINK = {"sm_num_classes": "5", "sm_logit_0": "3.5", "sm_logit_3": "-2", "sm_temperature": "0.7", "sm_true_class": "3"}


def printed(code: str, tmp_path) -> dict[str, dict[str, str]]:
    return run_snippet(code, tmp_path, "softmax.py")


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_code_snippet_runs_and_reproduces_the_page(tmp_path):
    at = open_page(PAGE, LINK)
    assert not at.exception
    out = printed(at.main.code[-1].value, tmp_path)
    shown = metrics(at)
    assert float(out["loss"]["formula"]) == pytest.approx(float(shown["−u_c + log Σ e^(u_j)  (torch.logsumexp)"]), rel=1e-5)
    assert float(out["loss"]["neg_log"]) == pytest.approx(float(shown["−log softmax(u)_c"]), rel=1e-5)
    assert float(out["loss"]["cross_entropy"]) == pytest.approx(float(shown["F.cross_entropy(u, c)"]), rel=1e-5)
    table = at.dataframe[0].value
    probs = [float(out["probs"][f"p{k}"]) for k in range(5)]
    assert probs == pytest.approx([float(p) for p in table["torch.softmax(u)"]], rel=1e-5)
    assert out["naive"]["overflow"] == "False" and float(out["jacobian"]["max_error"]) < 1e-12
    assert (at.dataframe[-1].value.result == "pass").all()


def test_large_logits_show_the_overflow_and_the_underflow(tmp_path):
    at = open_page(PAGE, {"sm_scale": "100", "sm_true_class": "2"})
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert "exp(u) overflowed" in errors and "−log softmax(u)_c is inf" in errors
    assert metrics(at)["log Σ exp(u), as written"] == "inf" and metrics(at)["F.cross_entropy(u, c)"] == "190"
    out = printed(at.main.code[-1].value, tmp_path)
    assert out["naive"]["overflow"] == "True" and out["naive"]["nan"] == "True" and out["loss"]["neg_log"] == "inf"
    assert (at.dataframe[-1].value.result == "pass").all()  # the formulas still agree with PyTorch


def test_a_true_class_beyond_k_is_explained():
    at = open_page(PAGE, {"sm_num_classes": "3", "sm_true_class": "7"})
    assert not at.exception and not at.warning
    assert any("Class 7 does not exist with K = 3" in i.value for i in at.info)
    assert "true class c = 2" in " ".join(m.value for m in at.markdown)


def test_only_k_logit_sliders_are_shown():
    at = open_page(PAGE, {"sm_num_classes": "4"})
    keys = {s.key for s in at.slider}
    assert {f"sm_logit_{i}" for i in range(4)} <= keys and "sm_logit_4" not in keys
