"""The CNN builder page's own promises: valid and invalid stacks from links, PyTorch's errors with the value
that fits, the exported nn.Module and script reproducing the table, the receptive field checks, the buttons."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from core import cnn_builder as cnn
from tests.pages.harness import open_page
from ui import catalog

PAGE = next(p for p in catalog.topic_pages() if p.url_path == "cnn-builder")


def table(at):
    return at.dataframe[0].value


def checks(at):
    return at.dataframe[1].value


def run_script(at, tmp_path):
    script = tmp_path / "cnn.py"
    script.write_text(at.main.code[0].value)
    return subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=tmp_path)


VALID = [
    {},
    {"cnn_layers": "conv 16 5 same; bn; relu; maxpool 2; conv 8 3 d2; avgpool 2 s1; dropout 0.2; flatten; linear 3",
     "cnn_input_size": "40", "cnn_in_channels": "1"},
    {"cnn_layers": "conv 4 3; conv 4 3; conv 4 3", "cnn_input_size": "20", "cnn_probe_layer": "2"},
    {"cnn_layers": "maxpool 2 s3; conv 2 3 p2 s2; elu", "cnn_input_size": "31", "cnn_in_channels": "4"},
]


@pytest.mark.parametrize("link", VALID)
def test_valid_stacks_run_and_every_check_passes(link, tmp_path):
    at = open_page(PAGE, link)
    assert not at.exception and not at.error
    rows = table(at)
    assert len(rows) == len(cnn.parse(link.get("cnn_layers", cnn.DEFAULT_SPEC)).layers)
    result = checks(at)
    assert len(result) >= 5 and (result.result == "pass").all(), result[result.result != "pass"]
    out = run_script(at, tmp_path)
    assert out.returncode == 0, out.stderr
    printed = dict(re.findall(r"^(\w+): (.*)$", out.stdout, re.M))
    assert printed["total"] == f"params={rows.params.sum()}"
    for _, row in rows.iterrows():
        shape = "x".join(re.findall(r"\d+", row.output))
        assert printed[f"layer_{row.layer}"] == f"params={row.params} shape={shape}"
    field = dict(re.findall(r"(\w+)=(\d+)", printed["field"]))
    probed = next(c for c in result.what if c.startswith("Field after layer"))
    assert field["layer"] == re.search(r"layer (\d+)", probed).group(1)
    assert int(field["pixels"]) == int(result.set_index("what").loc[
        "Pixels in the field: windows followed back vs ∂y/∂x ≠ 0 (pixels that differ)", "PyTorch"])


def test_course_net_table_and_receptive_field():
    at = open_page(PAGE)
    rows = table(at)
    assert list(rows.output) == ["(1, 32, 64, 64)", "(1, 32, 64, 64)", "(1, 32, 32, 32)", "(1, 64, 32, 32)",
                                 "(1, 64, 32, 32)", "(1, 64, 16, 16)", "(1, 16384)", "(1, 10)"]
    assert list(rows.field) == ["3 × 3", "3 × 3", "4 × 4", "8 × 8", "8 × 8", "10 × 10", "10 × 10", "whole input"]
    assert list(rows.course)[-1] == 5  # 1 + L(k − 1) with two 3 × 3 convs: pooling is what makes it 10
    assert {m.label: m.value for m in at.metric}["Parameters"] == "183,242"
    assert any("showing layer 6" in c.value for c in at.caption)


def test_linear_mismatch_shows_pytorchs_error_and_the_value_that_fits(tmp_path):
    at = open_page(PAGE, {"cnn_input_size": "32"})
    assert not at.exception
    error = " ".join(e.value for e in at.error)
    assert "mat1 and mat2 shapes cannot be multiplied (1x4096 and 16384x10)" in error
    assert "`linear 4096 10`" in error
    assert table(at).output.iloc[-1] == "refused"
    out = run_script(at, tmp_path)  # the exported script stops with the same error
    assert out.returncode != 0 and "mat1 and mat2 shapes cannot be multiplied (1x4096 and 16384x10)" in out.stderr


@pytest.mark.parametrize("spec,message", [
    ("conv 32; relu", "Layer 1, `conv 32`"),
    ("relu; sigmoid", "`sigmoid` is not a layer"),
    ("conv 8 3 s9", "stride must be from 1 to 5"),
    ("", "The stack is empty"),
])
def test_unreadable_stacks_are_explained(spec, message):
    at = open_page(PAGE, {"cnn_layers": spec})
    assert not at.exception
    assert any(message in e.value for e in at.error)
    assert not at.dataframe  # nothing ran


@pytest.mark.parametrize("spec,message", [
    ("conv 8 3; flatten; conv 4 3", "move it before `flatten`"),
    ("maxpool 8; maxpool 8; maxpool 8", "Output size is too small"),
    ("conv 8 3 same s2", "padding='same' is not supported for strided convolutions"),
])
def test_pytorch_refusals_are_explained(spec, message):
    at = open_page(PAGE, {"cnn_layers": spec, "cnn_input_size": "16"})
    assert not at.exception and any(message in e.value for e in at.error)


def test_too_large_stacks_are_sized_but_not_run():
    at = open_page(PAGE, {"cnn_layers": "conv 512 11; conv 512 11; conv 512 11", "cnn_input_size": "128"})
    assert not at.exception and any("multiply-adds" in w.value for w in at.warning)
    assert len(table(at)) == 3 and not [s for s in at.slider if s.key == "cnn_probe_layer"]  # no probe without a CPU run


@pytest.mark.parametrize("bad", ["linear 10; " * 60, "conv 8 3; <script>alert(1)</script>"])
def test_layer_link_that_cannot_be_used_falls_back_with_a_note(bad):
    at = open_page(PAGE, {"cnn_layers": bad})
    assert not at.exception and at.text_input(key="cnn_layers").value == cnn.DEFAULT_SPEC
    assert any("`cnn_layers`" in w.value for w in at.warning)


def test_buttons_edit_the_stack():
    at = open_page(PAGE, {"cnn_layers": "conv 8 3; relu"})
    at.selectbox(key="cnn_add").set_value("maxpool 2").run()
    at.button(key="cnn_append").click().run()
    assert at.text_input(key="cnn_layers").value == "conv 8 3; relu; maxpool 2"
    assert list(table(at).spec) == ["conv 8 3", "relu", "maxpool 2"]
    at.button(key="cnn_remove").click().run()
    at.button(key="cnn_remove").click().run()
    assert at.text_input(key="cnn_layers").value == "conv 8 3"
    at.button(key="cnn_reset").click().run()
    assert at.text_input(key="cnn_layers").value == cnn.DEFAULT_SPEC and not at.exception


def test_probe_slider_follows_a_shorter_stack():
    at = open_page(PAGE, {"cnn_layers": "conv 4 3; conv 4 3; conv 4 3; conv 4 3", "cnn_probe_layer": "4"})
    at.text_input(key="cnn_layers").input("conv 4 3; conv 4 3").run()
    assert not at.exception and at.slider(key="cnn_probe_layer").value == 2
    assert (checks(at).result == "pass").all()
