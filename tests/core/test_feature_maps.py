"""Feature maps: the shipped test image, kernel parsing, upload validation, and F.conv2d as cross-correlation."""
import io

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from core import feature_maps as fm


def png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def test_shipped_image_is_the_drawing():
    """assets/images/shapes.png is `shapes_image()` saved as 8-bit grayscale (regenerate with save_shapes_image)."""
    shipped = fm.load_image(fm.SHAPES_PATH.read_bytes())
    assert shipped.error is None and shipped.image.shape == (96, 96)
    drawn = (fm.shapes_image().clamp(0, 1) * 255).round() / 255
    assert torch.equal(shipped.image, drawn)
    assert torch.equal(fm.shapes_image(), fm.shapes_image())  # deterministic


def test_the_test_image_has_what_the_kernels_need():
    img = fm.shapes_image()
    assert 0 <= img.min() and img.max() <= 1 and img.std() > 0.2
    stripes = img[60:80, 56:84]  # vertical stripes: strong x-changes, none along y
    assert (stripes[:, 1:] - stripes[:, :-1]).abs().max() > 0.5
    assert (stripes[1:, :] - stripes[:-1, :]).abs().max() < 0.05


def test_edge_kernels_see_the_direction_they_are_named_for():
    img = fm.shapes_image()
    x_edges = fm.feature_map(img, fm.KERNELS["edge_x"]).output[62:78, 58:82].abs().mean()
    y_edges = fm.feature_map(img, fm.KERNELS["edge_y"]).output[62:78, 58:82].abs().mean()
    assert x_edges > 10 * y_edges


@pytest.mark.parametrize("name", fm.FILTERS[:-1])
def test_feature_map_is_the_course_sum_without_flip(name):
    fmap = fm.feature_map(fm.shapes_image(), fm.KERNELS[name])
    assert fmap.error < 1e-12 and fmap.output.shape == (96, 96)
    symmetric = torch.equal(fmap.kernel, fmap.kernel.flip(0, 1))
    assert (fmap.flip_difference < 1e-12) == symmetric
    assert all(c.passed for c in fm.checks(fmap))


def test_identity_and_blur_behave():
    img = fm.shapes_image()
    assert torch.equal(fm.feature_map(img, fm.KERNELS["identity"]).output, img)
    blurred = fm.feature_map(img, fm.KERNELS["blur"]).output
    assert float(blurred[1:-1, 1:-1].sum()) == pytest.approx(float(img[1:-1, 1:-1].sum()), rel=0.01)
    assert (blurred[:, 1:] - blurred[:, :-1]).abs().max() < (img[:, 1:] - img[:, :-1]).abs().max()


@pytest.mark.parametrize("text,kernel", [
    ("1,2,3; 4,5,6; 7,8,9", ((1, 2, 3), (4, 5, 6), (7, 8, 9))),
    (" -2,-1,0 ;-1,1,1; 0,1,2; ", ((-2, -1, 0), (-1, 1, 1), (0, 1, 2))),
    ("0.5,0,0;0,0,0;0,0,-1e-3", ((0.5, 0, 0), (0, 0, 0), (0, 0, -0.001))),
])
def test_kernel_text_parses(text, kernel):
    parsed = fm.parse_kernel(text)
    assert parsed.error is None and parsed.kernel == kernel
    assert fm.parse_kernel(fm.kernel_text(parsed.kernel)).kernel == kernel


@pytest.mark.parametrize("text,message", [
    ("", "3 rows"), ("1,2,3; 4,5,6", "3 rows"), ("1,2,3; 4,5; 7,8,9", "Row 2 has 2 numbers"),
    ("1,2,3; 4,x,6; 7,8,9", "`x` is not a number"), ("1,2,3; 4,nan,6; 7,8,9", "outside"),
    ("1,2,3; 4,5,6; 7,8,1e9", "outside"), ("<b>1</b>,2,3;4,5,6;7,8,9", "not a number"),
])
def test_bad_kernel_text_says_what_is_wrong(text, message):
    parsed = fm.parse_kernel(text)
    assert parsed.kernel is None and message in parsed.error


def test_uploads_are_validated():
    assert "empty" in fm.load_image(b"").error
    assert "not an image" in fm.load_image(b"%PDF-1.4 not a picture").error
    assert "MB" in fm.load_image(b"x" * 2000, max_bytes=1000).error
    truncated = png(Image.new("L", (40, 40), 128))[:60]
    assert fm.load_image(truncated).error


def test_huge_images_are_refused_before_decoding():
    big = png(Image.new("1", (4097, 4097)))  # small file, too many pixels
    assert len(big) < fm.MAX_UPLOAD_BYTES
    assert "4097 × 4097" in fm.load_image(big).error


def test_colour_uploads_become_grayscale_and_large_ones_are_scaled():
    rgb = Image.fromarray(np.full((300, 200, 3), (255, 0, 0), dtype=np.uint8))
    loaded = fm.load_image(png(rgb))
    assert loaded.error is None and loaded.image.shape == (128, 85)
    assert float(loaded.image.max()) == pytest.approx(76 / 255, abs=1 / 255)  # PIL's luma of pure red
    assert "Scaled from 200 × 300" in loaded.note
    small = fm.load_image(png(Image.new("L", (20, 10), 255)))
    assert small.note is None and small.image.shape == (10, 20) and small.image.min() == 1.0


def test_conv2d_on_an_upload_matches_the_formula():
    rng = np.random.default_rng(0)
    loaded = fm.load_image(png(Image.fromarray(rng.integers(0, 256, (30, 40), dtype=np.uint8))))
    fmap = fm.feature_map(loaded.image, ((1, -2, 0.5), (0, 3, 0), (-1, 0, 2)))
    expected = F.conv2d(loaded.image[None, None], fmap.kernel[None, None], padding=1)[0, 0]
    assert torch.equal(fmap.output, expected) and fmap.error < 1e-12 and fmap.flip_difference > 0.1
