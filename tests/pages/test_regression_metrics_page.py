"""The Regression metrics page's own promises: its script reproduces every metric, and the page says what the
outliers and the shift toward zero did."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.pages.harness import open_page
from ui import catalog

PAGE = next(p for p in catalog.topic_pages() if p.url_path == "regression-metrics")
LINK = {"reg_outliers": "7", "reg_outlier_size": "120", "reg_near_zero": "99.5%"}


def test_code_snippet_runs_and_reproduces_the_page(tmp_path):
    at = open_page(PAGE, LINK)
    assert not at.exception
    script = tmp_path / "regression_metrics.py"
    script.write_text(at.main.code[-1].value)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    lines = {line.split(":", 1)[0]: dict(re.findall(r"(\w+)=(\S+)", line)) for line in out.stdout.splitlines()}
    table = at.dataframe[0].value.set_index("metric")["this span"]
    for name, metric in [("MSE", "MSE"), ("RMSE", "RMSE"), ("MAE", "MAE"), ("MAPE", "MAPE"), ("R2", "R²")]:
        assert float(lines["torchmetrics"][name]) == pytest.approx(table[metric], rel=1e-9)
        assert float(lines["formula"][name]) == pytest.approx(table[metric], rel=1e-9)
    assert (at.dataframe[-1].value.result == "pass").all()


def test_the_page_says_what_the_stress_tests_did():
    at = open_page(PAGE, LINK)
    text = " ".join(m.value for m in at.markdown)
    assert "**Outliers.** 7 spiked readings of 120 kW" in text and "**Near zero.**" in text
    assert at.select_slider(key="reg_near_zero").value == "99.5%"
    clean = open_page(PAGE)
    assert "**Outliers.**" not in " ".join(m.value for m in clean.markdown)
    assert list(clean.dataframe[0].value["× clean"]) == pytest.approx([1.0] * 5)
