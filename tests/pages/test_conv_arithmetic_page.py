"""The Convolution arithmetic page's own promises: its script reproduces its numbers, PyTorch's refusals are
explained, the sliding window plays, custom kernels and uploads are validated, and its checks pass."""
from __future__ import annotations

import io
import re
import subprocess
import sys

import pytest
from PIL import Image

from tests.pages.harness import open_page
from ui import catalog

PAGE = next(p for p in catalog.topic_pages() if p.url_path == "conv-arithmetic")
LINK = {"conv_h_in": "7", "conv_w_in": "9", "conv_kernel": "3", "conv_padding": "1", "conv_stride": "2",
        "conv_dilation": "2", "conv_c_in": "4", "conv_c_out": "6", "conv_pool_kernel": "3", "conv_pool_stride": "2",
        "conv_position": "50"}


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def run_script(at, tmp_path) -> dict[str, dict[str, str]]:
    script = tmp_path / "conv_arithmetic.py"
    script.write_text(at.main.code[0].value)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    rows = {}
    for line in out.stdout.strip().splitlines():
        name, rest = line.split(":", 1)
        rows[name] = dict(re.findall(r"(\w+)=(\S+)", rest)) or {"text": rest.strip()}
    return rows


def checks(at):
    return at.dataframe[0].value


def test_code_snippet_runs_and_reproduces_the_page(tmp_path):
    at = open_page(PAGE, LINK)
    assert not at.exception
    printed = run_script(at, tmp_path)
    shown = metrics(at)
    h_out, w_out = shown["Formula: H_out × W_out"].split(" × ")
    assert printed["formula"] == {"h_out": h_out, "w_out": w_out}
    assert printed["conv"] == {"h_out": h_out, "w_out": w_out}
    assert shown["nn.Conv2d(...)(x).shape"] == f"(1, 6, {h_out}, {w_out})"
    assert printed["params"]["pytorch"] == shown["Parameters, sum(p.numel())"] == str(6 * 4 * 9 + 6)
    table = checks(at).set_index("what")
    cell = next(w for w in table.index if w.startswith("Output ("))
    row, col = re.match(r"Output \((\d+), (\d+)\)", cell).groups()
    assert printed["step"]["row"] == row and printed["step"]["col"] == col
    assert float(printed["step"]["value"]) == table.loc[cell, "PyTorch"] == float(printed["step"]["hand_sum"])
    assert printed["pool_max"] == {"h_out": "3", "w_out": "4"}  # ⌊(7 − 3)/2⌋ + 1, ⌊(9 − 3)/2⌋ + 1
    assert float(printed["backprop"]["dx_error"]) < 1e-10 and float(printed["backprop"]["dw_error"]) < 1e-10


@pytest.mark.parametrize("link", [LINK, {}, {"conv_padding": "same", "conv_kernel": "4", "conv_dilation": "3"},
                                  {"conv_h_in": "256", "conv_w_in": "256", "conv_kernel": "11", "conv_c_in": "64", "conv_c_out": "64"}])
def test_every_check_passes(link):
    at = open_page(PAGE, link)
    assert not at.exception
    table = checks(at)
    assert len(table) >= 10 and (table.result == "pass").all(), table[table.result != "pass"]
    assert any("All" in s.value for s in at.success)


def test_the_course_formula_is_shown_as_the_d_equals_1_case():
    at = open_page(PAGE, {"conv_dilation": "2", "conv_h_in": "9", "conv_w_in": "9"})
    note = " ".join(c.value for c in at.caption)
    assert "is the case d = 1: it would give 7 × 7" in note
    assert metrics(at)["Formula: H_out × W_out"] == "5 × 5"


def test_an_empty_output_shows_pytorchs_error_and_what_to_change(tmp_path):
    at = open_page(PAGE, {"conv_h_in": "2", "conv_w_in": "2", "conv_kernel": "3"})
    assert not at.exception
    error = " ".join(e.value for e in at.error)
    assert "Kernel size can't be greater than actual input size" in error and "at least 3 pixels" in error
    assert metrics(at)["nn.Conv2d(...)(x).shape"] == "refused"
    assert any("nothing to slide over" in i.value for i in at.info)
    assert (checks(at).result == "pass").all()
    printed = run_script(at, tmp_path)  # the script meets the same refusal
    assert "Kernel size can't be greater than actual input size" in printed["conv refused"]["text"]


def test_same_padding_with_a_stride_shows_pytorchs_real_error():
    at = open_page(PAGE, {"conv_padding": "same", "conv_stride": "2"})
    error = " ".join(e.value for e in at.error)
    assert "padding='same' is not supported for strided convolutions" in error and "stride to 1" in error


def test_position_link_restores_the_cell_and_play_advances_it():
    at = open_page(PAGE, {"conv_position": "50"})  # 3 × 3 output: 50 % is cell 4 of 9, output (1, 1)
    assert any(c.value.startswith("Cell 5 of 9. Output (1, 1)") for c in at.caption)
    at.toggle(key="conv_play").set_value(True).run()  # Play steps at once, then every PLAY_SECONDS
    assert at.slider(key="conv_position").value == pytest.approx(62.5)
    assert any(c.value.startswith("Cell 6 of 9. Output (1, 2)") for c in at.caption)
    at.session_state["_conv_advance"] = True  # what the ticker fragment asks for after one interval
    at.run()
    assert at.slider(key="conv_position").value == pytest.approx(75.0)
    at.toggle(key="conv_play").set_value(False).run()
    at.session_state["_conv_advance"] = True  # a late tick after Pause does nothing
    at.run()
    assert at.slider(key="conv_position").value == pytest.approx(75.0)


def test_position_beyond_a_shrunk_output_moves_to_its_last_cell():
    at = open_page(PAGE, {"conv_h_in": "9", "conv_w_in": "9", "conv_position": "100"})
    at.slider(key="conv_stride").set_value(3).run()
    assert not at.exception
    assert any(c.value.startswith("Cell 9 of 9.") for c in at.caption)


def test_large_inputs_say_the_drawing_is_cropped():
    at = open_page(PAGE, {"conv_h_in": "64", "conv_w_in": "64", "conv_position": "50"})
    assert any("The drawing shows rows" in c.value and "66 × 66 padded input" not in c.value for c in at.caption)
    assert any("of the 64 × 64 padded input" in c.value for c in at.caption)


def test_custom_kernel_is_parsed_and_bad_text_is_explained():
    at = open_page(PAGE, {"conv_filter": "custom (edit below)", "conv_custom": "0,0,0; 0,2,0; 0,0,0"})
    assert not at.error and any("looks the same turned by 180°" in c.value for c in at.caption)
    at = open_page(PAGE, {"conv_filter": "custom (edit below)", "conv_custom": "0,0,0; 0,1,2; 0,0,0"})
    assert any("flipping this kernel would change the output by up to" in c.value for c in at.caption)
    at = open_page(PAGE, {"conv_filter": "custom (edit below)", "conv_custom": "1,2,3; 4,5"})
    assert any("cannot be used" in e.value and "3 rows" in e.value for e in at.error)


@pytest.mark.parametrize("bad", ["9" * 200, "<img src=x onerror=alert(1)>"])
def test_custom_kernel_link_that_cannot_be_used_falls_back_with_a_note(bad):
    at = open_page(PAGE, {"conv_custom": bad})
    assert not at.exception and at.text_input(key="conv_custom").value == "-2,-1,0; -1,1,1; 0,1,2"
    assert any("`conv_custom`" in w.value for w in at.warning)


def png(size=(40, 30), mode="L") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, 200).save(buf, format="PNG")
    return buf.getvalue()


@pytest.mark.parametrize("content,message", [(b"", "empty"), (b"just text", "not an image")])
def test_bad_uploads_are_explained_and_the_shipped_image_is_used(content, message):
    at = open_page(PAGE)
    at.file_uploader(key="conv_upload").upload("photo.png", content, "image/png")
    at.run()
    assert not at.exception and any(message in e.value for e in at.error)
    assert any("Feature map (96 × 96)" in w for w in checks(at).what)


def test_an_uploaded_image_is_used():
    at = open_page(PAGE)
    at.file_uploader(key="conv_upload").upload("photo.png", png((300, 150), "RGB"), "image/png")
    at.run()
    assert not at.exception and not at.error
    assert any("Scaled from 300 × 150" in c.value for c in at.caption)
    assert any("Feature map (64 × 128)" in w for w in checks(at).what)
