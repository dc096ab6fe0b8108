"""The Activations page's own promises: its code snippet reproduces its numbers, its checks pass."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.pages.harness import snippet_values, ROOT, open_page
from ui import catalog

PAGE = next(p for p in catalog.topic_pages() if p.url_path == "activations")
LINK = {"act_functions": ["Sigmoid", "ReLU", "ELU", "GELU"], "act_depth": "12", "act_mu": "0.5",
        "act_sigma": "2", "act_alpha_elu": "1.5", "act_saturation": "0.2"}


def parse(output: str) -> dict[str, dict[str, float]]:
    return {name: {k: float(v) for k, v in row.items()} for name, row in snippet_values(output).items()}


def test_code_snippet_runs_and_reproduces_the_page(tmp_path):
    at = open_page(PAGE, LINK)
    assert not at.exception
    script = tmp_path / "activations.py"
    script.write_text(at.main.code[0].value)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    printed = parse(out.stdout)
    table = at.dataframe[0].value.set_index("function")
    labels = {"sigmoid": "Sigmoid", "relu": "ReLU", "elu": "ELU", "gelu": "GELU"}
    assert set(printed) == set(labels)
    for name, label in labels.items():
        row = table.loc[label]
        assert printed[name]["max_df"] == pytest.approx(row.max_df, abs=1e-6)
        assert printed[name]["dead"] == pytest.approx(row.dead, abs=1e-6)
        assert printed[name]["saturated"] == pytest.approx(row.saturated, abs=1e-6)
        assert printed[name]["product"] == pytest.approx(row["product"], rel=1e-5)


def test_check_panel_shows_every_check_passing():
    at = open_page(PAGE, LINK)
    checks = at.dataframe[1].value
    assert len(checks) >= 4 and (checks.result == "pass").all()
    assert any("All" in s.value for s in at.success)


def test_no_function_selected_asks_for_one():
    at = open_page(PAGE, {"act_functions": ""})
    assert not at.exception
    assert any("at least one" in i.value for i in at.info)
    assert not at.main.code  # nothing to reproduce
