"""The Images & augmentation page's own promises: its script reproduces the page's tensor, pixel and grid exactly,
its checks pass at every control value, the same link gives the same grid, and uploads are validated."""
from __future__ import annotations

import io
import random

import numpy as np
import pytest
from PIL import Image

from tests.pages.harness import open_page, random_value, run_snippet
from ui import catalog

PAGE = next(p for p in catalog.topic_pages() if p.url_path == "augmentation")
LINK = {"aug_image": "cumulonimbus", "aug_flip_p": "0.3", "aug_rotation": "120", "aug_autocontrast": "0.75",
        "aug_jitter": "0.45", "aug_crop": "0.4", "aug_size": "48 px", "aug_samples": "11", "aug_seed": "321",
        "aug_row": "7", "aug_col": "50"}


def frame(at, column: str):
    """The page's table that has `column`."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def checks(at):
    return frame(at, "result")


def script(at) -> str:
    return next(c.value for c in at.code if "def main()" in c.value)


def png(size=(300, 150), fmt="PNG") -> bytes:
    buf = io.BytesIO()
    pixels = np.random.default_rng(1).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(pixels).save(buf, format=fmt)
    return buf.getvalue()


@pytest.mark.parametrize("mode", ["RGB", "grayscale"])
def test_code_panel_reproduces_the_page(tmp_path, mode):
    at = open_page(PAGE, {**LINK, "aug_mode": mode})
    assert not at.exception and not at.error and not at.warning
    printed = run_snippet(script(at), tmp_path)
    channels = ["R", "G", "B"] if mode == "RGB" else ["L"]
    c = str(len(channels))
    assert printed["image"] == {"C": c, "H": "64", "W": "64", "dtype": "torch.uint8"}
    assert printed["batch"] == {"N": "11", "C": c, "H": "48", "W": "48"}
    readout = frame(at, "I(i, j) uint8")
    assert list(readout.channel) == channels
    assert printed["pixel"] == {"row": "7", "col": "50", **{ch: str(v) for ch, v in zip(channels, readout["I(i, j) uint8"])}}
    assert [float(printed["scaled"][ch]) for ch in channels] == pytest.approx(list(readout["ToDtype float32"]), rel=1e-8)
    assert float(printed["scaling"]["todtype_max_error"]) <= 1.2e-7
    assert printed["flip"]["differing_from_torch_flip"] == "0"
    draws = frame(at, "angle (°)")
    assert list(draws.seed) == list(range(321, 332))
    means = [float(printed[f"sample{i}"]["mean"]) for i in range(11)]
    assert means == pytest.approx(list(draws["mean"]), rel=1e-9)  # the same samples, to the last pixel


def test_checks_pass_and_the_same_link_gives_the_same_grid():
    first, second = open_page(PAGE, LINK), open_page(PAGE, LINK)
    table = checks(first)
    assert len(table) >= 12 and (table.result == "pass").all(), table[table.result != "pass"]
    assert any("All" in s.value for s in first.success)
    assert frame(first, "angle (°)").equals(frame(second, "angle (°)"))
    other = open_page(PAGE, {**LINK, "aug_seed": "322"})
    assert not frame(first, "angle (°)")["mean"].equals(frame(other, "angle (°)")["mean"])


def test_the_shapes_follow_the_controls():
    at = open_page(PAGE, {"aug_mode": "grayscale", "aug_samples": "3", "aug_size": "16 px"})
    shapes = " ".join(m.value for m in at.markdown)
    assert "(C, H, W) = (1, 64, 64)" in shapes and "(N, C, H, W) = (3, 1, 16, 16)" in shapes
    assert any("(N, C, H, W) = (3, 1, 16, 16)" in w for w in checks(at).what)


def test_every_control_value_keeps_the_checks_passing():
    """The page's own controls at random values, edges often (the app-wide tools are left alone)."""
    rng = random.Random("aug-fuzz")
    at = open_page(PAGE)
    for i in range(12):
        widgets = [w for kind in ("slider", "select_slider", "selectbox", "radio") for w in getattr(at, kind)
                   if w.key and w.key.startswith("aug_")]
        applied = {w.key: random_value(w, rng) for w in widgets}
        for w in widgets:
            w.set_value(applied[w.key])
        at.run()
        assert not at.exception, f"combination {i}: {applied}"
        table = checks(at)
        assert (table.result == "pass").all(), (applied, table[table.result != "pass"])


@pytest.mark.parametrize("content, message", [
    (b"", "empty"),
    (b"name,value\n1,2\n", "not a PNG or JPEG"),
    (png(fmt="GIF"), "GIF file"),
    (png(fmt="BMP"), "BMP file"),
])
def test_bad_uploads_are_explained_and_the_bundled_picture_is_used(content, message):
    at = open_page(PAGE)
    at.file_uploader(key="aug_upload").upload("photo.png", content, "image/png")
    at.run()
    assert not at.exception
    assert any(message in e.value and "bundled cumulus picture instead" in e.value for e in at.error), [e.value for e in at.error]
    assert "assets/clouds/train/cumulus/cumulus_000.png" in script(at)
    assert (checks(at).result == "pass").all()


def test_an_uploaded_picture_is_scaled_used_and_named_in_the_script():
    at = open_page(PAGE, {"aug_samples": "4", "aug_row": "60", "aug_col": "120"})
    at.file_uploader(key="aug_upload").upload("my holiday.png", png((300, 150)), "image/png")
    at.run()
    assert not at.exception and not at.error
    assert any("Scaled from 300 × 150 to 128 × 64" in c.value for c in at.caption)
    assert at.slider(key="aug_col").max == 127 and at.slider(key="aug_row").max == 63
    assert 'Image.open("my_holiday.png")' in script(at)
    assert any("(C, H, W) = (3, 64, 128)" in m.value for m in at.markdown)
    assert (checks(at).result == "pass").all()
