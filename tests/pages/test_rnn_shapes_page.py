"""The RNN shapes page's own promises: its script reproduces its shapes, counts and messages; every mistake
shows PyTorch's own text and a fix that runs; its checks pass; a link restores the decoder length too."""
from __future__ import annotations

import ast
import re
import subprocess
import sys

import pytest

from core import rnn_errors
from tests.pages.harness import open_page
from ui import catalog

PAGE = next(p for p in catalog.topic_pages() if p.url_path == "rnn-shapes")
LINK = {"rs_cell": "GRU", "rs_batch": "8", "rs_seq_len": "12", "rs_input_size": "3", "rs_hidden": "16", "rs_layers": "2",
        "rs_batch_first": "false", "rs_bidirectional": "true", "rs_arch": "Encoder–decoder", "rs_out_len": "5",
        "rs_error": rnn_errors.LABELS["target_broadcast"]}


def run_snippet(code: str, tmp_path) -> list[str]:
    script = tmp_path / "rnn_shapes.py"
    script.write_text(code)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()


def fields(lines: list[str], name: str) -> dict[str, str]:
    line = next(line for line in lines if line.startswith(f"{name}:"))
    return dict(re.findall(r"(\w+)=(\S+)", line))


def as_x(shape_text: str) -> str:
    """'(8, 12, 3)' → '8x12x3', the script's way of printing a shape."""
    return "x".join(str(s) for s in ast.literal_eval(shape_text))


def test_code_snippet_runs_and_reproduces_the_page(tmp_path):
    at = open_page(PAGE, LINK)
    assert not at.exception
    lines = run_snippet(at.main.code[-1].value, tmp_path)
    table = at.dataframe[0].value.set_index("tensor")["forward pass"]
    shapes = fields(lines, "shapes")
    assert shapes == {"input": as_x(table["x"]), "output": as_x(table["output"]), "h_n": as_x(table["h_n"])}
    assert shapes == {"input": "12x8x3", "output": "12x8x32", "h_n": "4x8x16"}  # (T, N, D), (T, N, 2H), (2L, N, H)

    last = fields(lines, "last_step")
    assert float(last["forward_diff"]) == 0 and float(last["backward_first_diff"]) == 0
    assert float(last["backward_last_diff"]) > 0  # the backward half of the last step is not h_n[-1]

    checks = at.dataframe[-1].value
    params = checks[checks.what.str.startswith("parameters")].iloc[0]
    assert int(fields(lines, "params")["count"]) == params.PyTorch == params.formula

    arch = fields(lines, "architecture")
    trace = at.dataframe[1].value
    assert arch["name"] == "encdec" and arch["output"] == as_x(trace["shape"].iloc[-1]) == "5x8x1"

    warning = next(line for line in lines if line.startswith("warning: ")).removeprefix("warning: ")
    assert any(warning in e.value for e in at.error)
    loss = fields(lines, "loss")
    page_text = " ".join(m.value for m in at.markdown) + " ".join(s.value for s in at.success)
    assert f"loss = {loss['wrong']}" in page_text and f"loss = {loss['fixed']}" in page_text


@pytest.mark.parametrize("key", rnn_errors.ERRORS)
def test_every_mistake_shows_pytorchs_message_and_a_working_fix(key, tmp_path):
    at = open_page(PAGE, {"rs_error": rnn_errors.LABELS[key]})
    assert not at.exception
    demo = rnn_errors.demo(key, __import__("core.rnn_shapes", fromlist=["RNNConfig"]).RNNConfig())
    shown = " ".join(e.value for e in at.error)
    for text in ([demo.error] if demo.error else []) + list(demo.warnings):
        assert text.replace("`", "'") in shown
    assert "PyTorch raised" in shown or "PyTorch warned" in shown
    assert demo.fix_code in [c.value for c in at.main.code]
    assert at.success[0].value == demo.fixed_outcome
    lines = run_snippet(at.main.code[-1].value, tmp_path)  # the script makes the same mistake
    printed = [line.split(": ", 1)[1] for line in lines if line.startswith(("error: ", "warning: "))]
    assert printed and all(p in shown for p in printed)


def test_a_silent_mistake_is_called_out():
    at = open_page(PAGE, {"rs_seq_len": "1", "rs_error": rnn_errors.LABELS["no_feature_dim"]})
    assert not at.exception
    assert any("No error and no warning" in e.value for e in at.error)
    assert any("The batch became time" in m.value for m in at.markdown)


def test_check_panel_passes_and_the_decoder_length_restores_from_a_link():
    at = open_page(PAGE, LINK)
    assert at.slider(key="rs_out_len").value == 5
    checks = at.dataframe[-1].value
    assert len(checks) >= 9 and (checks.result == "pass").all()
    assert any("All" in s.value for s in at.success)
    assert not at.warning


def test_bidirectional_text_points_to_the_backward_state():
    at = open_page(PAGE, {"rs_bidirectional": "true"})
    text = " ".join(m.value for m in at.markdown)
    assert "**not** one state" in text and "out[:, 0, H:]" in text
