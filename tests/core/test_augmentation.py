"""The Images & augmentation page's math against torchvision: the (C, H, W) layout and the [0, 255] → [0, 1] scaling,
the generator-drawn pipeline against the plain torchvision pipeline under torch.manual_seed, the output shapes,
flips and rotations against the course's formulas, histograms, uploads, the checks, the charts and the script."""
import base64
import io
import subprocess
import sys

import numpy as np
import plotly.graph_objects as go
import pytest
import torch
from PIL import Image
from torchvision.transforms.v2 import functional as F

from core import augmentation as aug
from core import charts
from core.snippets import augmentation as snippet
from core.uploads import UploadError
from tests.pages.harness import snippet_values

SETTINGS = [
    aug.Pipeline(),  # the course's §4.3 pipeline
    aug.Pipeline(flip_p=0.3, rotation=170, autocontrast_p=0.7, jitter=0.8, crop=0.08, size=32),
    aug.Pipeline(flip_p=1.0, rotation=0, autocontrast_p=0.0, jitter=1.0, crop=0.5, size=128),
    aug.Pipeline(flip_p=0.0, rotation=90, autocontrast_p=1.0, jitter=0.05, crop=0.98, size=16),
    aug.Pipeline(flip_p=0.55, rotation=180, autocontrast_p=0.05, jitter=0.0, crop=0.3, size=48),
]


def torchvision_grid(image: Image.Image, p: aug.Pipeline, seed: int, n: int) -> torch.Tensor:
    """What the code panel's script does: the plain pipeline after torch.manual_seed(seed + i), global RNG restored after."""
    pipeline = aug.build(p, image.height, image.width)
    with torch.random.fork_rng(devices=[]):
        out = []
        for i in range(n):
            torch.manual_seed(seed + i)
            out.append(pipeline(image))
    return torch.stack(out)


def photo(size=(150, 90), mode="RGB", fmt="PNG") -> bytes:
    rng = np.random.default_rng(0)
    shape = (size[1], size[0], 3) if mode == "RGB" else (size[1], size[0])
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode).save(buf, format=fmt)
    return buf.getvalue()


@pytest.mark.parametrize("p", SETTINGS, ids=range(len(SETTINGS)))
@pytest.mark.parametrize("kind, gray", [("cumulus", False), ("cumulonimbus", True), ("cirriform", False)])
def test_generator_draws_match_torchvision_under_manual_seed(p, kind, gray):
    """The page's samples are bit-identical to the plain pipeline run after torch.manual_seed(seed + i)."""
    image = aug.load(kind, gray=gray).image
    grid = aug.augment(image, p, seed=11, n=6)
    assert torch.equal(grid.samples, torchvision_grid(image, p, 11, 6))


def test_non_square_upload_draws_match_torchvision_too():
    image = aug.load("cumulus", photo((200, 90))).image  # 128 × 58 after scaling: RandomResizedCrop's fallback differs
    for p in (aug.Pipeline(crop=0.08, jitter=0.3), aug.Pipeline(rotation=90)):
        assert torch.equal(aug.augment(image, p, 5, 8).samples, torchvision_grid(image, p, 5, 8))


def test_the_page_never_touches_the_global_rng():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    aug.augment(aug.load("cumulus").image, aug.Pipeline(jitter=0.5, crop=0.2), 0, 4)
    assert torch.equal(torch.rand(3), expected)


def test_same_seed_same_grid_and_sample_i_is_seed_plus_i():
    image = aug.load("stratocumulus").image
    p = aug.Pipeline(jitter=0.3, crop=0.4)
    a, b = aug.augment(image, p, 7, 5), aug.augment(image, p, 7, 5)
    assert torch.equal(a.samples, b.samples) and a.draws == b.draws
    shifted = aug.augment(image, p, 8, 4)  # seeds 8…11 = samples 1…4 of the grid from seed 7
    assert torch.equal(shifted.samples, a.samples[1:])
    assert not torch.equal(aug.augment(image, p, 9, 5).samples, a.samples)
    assert [d.seed for d in a.draws] == [7, 8, 9, 10, 11]


@pytest.mark.parametrize("p", SETTINGS, ids=range(len(SETTINGS)))
@pytest.mark.parametrize("n", [1, aug.MAX_SAMPLES])
def test_output_shapes(p, n):
    for gray, c in ((False, 3), (True, 1)):
        grid = aug.augment(aug.load("cumulus", gray=gray).image, p, 0, n)
        assert grid.samples.shape == (n, c, p.size, p.size) and grid.samples.dtype == torch.float32
        assert 0 <= grid.samples.min() and grid.samples.max() <= 1
    upload = aug.load("cumulus", photo((300, 170))).image
    assert aug.augment(upload, p, 0, n).samples.shape == (n, 3, p.size, p.size)


def test_picture_layout_and_scaling():
    image = aug.load("cumulus").image
    pic = aug.picture(image)
    pixels = np.asarray(image)
    assert pixels.shape == (64, 64, 3) and pic.tensor.shape == (3, 64, 64) and pic.tensor.dtype == torch.uint8
    assert torch.equal(pic.tensor, torch.from_numpy(pixels.copy()).permute(2, 0, 1))  # x[c, i, j] = I(i, j, c)
    assert torch.equal(pic.to_tensor, pic.tensor.float() / 255)  # ToTensor: v / 255 rounded to float32
    assert (pic.scaled.double() - pic.tensor.double() / 255).abs().max() <= aug.ONE_STEP
    gray = aug.picture(aug.load("cumulus", gray=True).image)
    assert gray.tensor.shape == (1, 64, 64) and gray.channels == ("L",) and gray.pixels.shape == (64, 64, 1)


def test_scaling_levels_counts_what_differs():
    s = aug.scaling_levels()
    levels = torch.arange(256, dtype=torch.float32)
    by_division = levels / 255
    by_product = levels * torch.tensor(1 / 255, dtype=torch.float32)  # what ToDtype(scale=True) does
    assert s.differing == int((by_division != by_product).sum()) and 0 < s.differing < 256
    assert 0 < s.max_difference <= aug.ONE_STEP


def test_readout_is_value_over_255_and_clamped():
    pic = aug.picture(aug.load("clear_sky").image)
    r = aug.readout(pic, 5, 60)
    assert r.values == tuple(int(v) for v in pic.tensor[:, 5, 60]) and not r.clamped
    assert r.by_formula == tuple(v / 255 for v in r.values)
    assert np.allclose(r.scaled, r.by_formula, atol=aug.ONE_STEP, rtol=0) and r.error <= aug.ONE_STEP
    far = aug.readout(pic, 500, -3)
    assert (far.row, far.col, far.clamped) == (63, 0, True)
    assert aug.pixel_check(r).passed


def test_identity_pipeline_changes_nothing():
    image = aug.load("cumulus").image
    p = aug.Pipeline(flip_p=0.0, rotation=0, autocontrast_p=0.0, jitter=0.0, crop=1.0, size=64)
    grid = aug.augment(image, p, 3, 4)
    pic = aug.picture(image)
    assert all(torch.equal(s, pic.scaled) for s in grid.samples)
    hist = aug.histograms(pic.tensor, grid.samples, pic.channels)
    assert np.allclose(hist["before"], hist["after"])


def test_flip_with_p_one_is_torch_flip_and_the_course_formula():
    image = aug.load("cumulus").image
    pic = aug.picture(image)
    grid = aug.augment(image, aug.Pipeline(flip_p=1.0, rotation=0, autocontrast_p=0.0, size=64), 0, 3)
    w = pic.tensor.shape[-1]
    for s in grid.samples:
        assert torch.equal(s, torch.flip(pic.scaled, dims=[-1]))
        for j in (0, 17, w - 1):  # I'(i, j) = I(i, W − 1 − j), 0-based
            assert torch.equal(s[:, :, j], pic.scaled[:, :, w - 1 - j])
    assert all(d.flipped for d in grid.draws)


@pytest.mark.parametrize("shape", [(3, 64, 64), (3, 58, 128), (1, 33, 47)])
@pytest.mark.parametrize("angle", [-170.5, -45.0, -12.3, 0.0, 7.77, 30.0, 90.0, 133.0, 180.0])
def test_rotation_is_the_course_matrix_with_nearest_pixels(shape, angle):
    x = torch.randint(0, 256, shape, dtype=torch.uint8, generator=torch.Generator().manual_seed(1))
    by_matrix, tie = aug.rotate_by_matrix(x, angle)
    turned = F.rotate(x, angle)
    assert ((turned != by_matrix).any(0) & ~tie).sum() == 0
    assert tie.float().mean() < 0.6


def test_rotation_turns_counter_clockwise():
    x = torch.zeros(1, 9, 9, dtype=torch.uint8)
    x[0, 4, 8] = 255  # a dot on the right of the centre
    turned, _ = aug.rotate_by_matrix(x, 90)
    assert turned[0, 0, 4] == 255  # now at the top
    assert torch.equal(turned, F.rotate(x, 90))


def test_crop_draws_stay_inside_and_respect_the_scale():
    image = aug.load("cumulus").image
    grid = aug.augment(image, aug.Pipeline(crop=0.3, rotation=0), 0, 16)
    for d in grid.draws:
        top, left, h, w = d.crop
        assert 0 <= top and top + h <= 64 and 0 <= left and left + w <= 64
        assert h * w >= 0.3 * 64 * 64 * 0.9  # rounding of h and w to whole pixels
    assert aug.augment(image, aug.Pipeline(), 0, 2).draws[0].crop is None


def test_jitter_factors_stay_in_range_and_order_is_a_permutation():
    grid = aug.augment(aug.load("cumulus").image, aug.Pipeline(jitter=0.4), 0, 16)
    for d in grid.draws:
        assert all(0.6 <= v <= 1.4 for v in d.jitter.values())
        assert sorted(d.jitter_order) == ["brightness", "contrast", "saturation"]
    assert len({d.jitter_order for d in grid.draws}) > 1
    assert all(abs(d.angle) <= 45 for d in grid.draws)


def test_histograms_are_shares_per_channel():
    image = aug.load("cumulus").image
    pic = aug.picture(image)
    grid = aug.augment(image, aug.Pipeline(rotation=60), 0, 8)
    hist = aug.histograms(pic.tensor, grid.samples, pic.channels)
    assert list(hist.channel.unique()) == ["R", "G", "B"] and len(hist) == 3 * aug.BINS
    sums = hist.groupby("channel")[["before", "after"]].sum()
    assert np.allclose(sums.to_numpy(), 100)
    r = hist[hist.channel == "R"]
    expected = np.bincount(pic.tensor[0].flatten().numpy() // 8, minlength=32) / 64**2 * 100
    assert np.allclose(r["before"], expected)
    assert r["after"].iloc[0] > r["before"].iloc[0]  # rotation's black corners land in the first bin


def test_levels_round_floats_back_to_their_uint8():
    x = torch.arange(256, dtype=torch.uint8)
    assert torch.equal(aug.levels(x.float() / 255), x.long())
    assert torch.equal(aug.levels(x), x.long())


def test_checks_pass_everywhere():
    for kind, gray in (("cumulus", False), ("stratiform", True)):
        image = aug.load(kind, gray=gray).image
        pic = aug.picture(image)
        for p in SETTINGS:
            for seed in (0, 999):
                cs = aug.checks(pic, aug.augment(image, p, seed, 5))
                assert len(cs) >= 10 and all(c.passed for c in cs), [c for c in cs if not c.passed]


def test_a_wrong_grid_fails_its_checks():
    image = aug.load("cumulus").image
    pic = aug.picture(image)
    grid = aug.augment(image, aug.Pipeline(), 0, 4)
    tampered = aug.Grid(grid.pipeline, grid.seed, grid.samples.flip(-1), grid.draws)  # not what seed 0 draws
    assert [c.passed for c in aug.checks(pic, tampered)][-1] is False
    resized = aug.Grid(aug.Pipeline(size=32), grid.seed, grid.samples, grid.draws)  # claims Resize((32, 32))
    shape = next(c for c in aug.checks(pic, resized) if c.what.startswith("torch.stack"))
    assert not shape.passed and shape.difference == 2


def test_uploads_are_validated_and_scaled():
    loaded = aug.load("cumulus", photo((300, 170)), name="holiday.png")
    assert loaded.source == "upload" and loaded.image.size == (128, 73) and loaded.original_size == (300, 170)
    assert "Scaled from 300 × 170 to 128 × 73" in loaded.note
    small = aug.load("cumulus", photo((40, 30), fmt="JPEG"), gray=True)
    assert small.image.size == (40, 30) and small.image.mode == "L" and small.note is None
    for bad, words in ((b"", "empty"), (b"not an image at all", "not a PNG or JPEG"), (photo(fmt="GIF"), "GIF")):
        with pytest.raises(UploadError, match=words):
            aug.load("cumulus", bad)


def test_bad_settings_are_refused():
    for kwargs in ({"flip_p": 1.5}, {"rotation": -1}, {"jitter": 2}, {"crop": 0}, {"size": 0}):
        with pytest.raises(ValueError):
            aug.Pipeline(**kwargs)
    with pytest.raises(ValueError):
        aug.augment(aug.load("cumulus").image, aug.Pipeline(), 0, aug.MAX_SAMPLES + 1)
    with pytest.raises(ValueError):
        aug.bundled_path("fog")


def test_draws_table_columns_follow_the_pipeline():
    image = aug.load("cumulus").image
    plain = aug.draws_table(aug.augment(image, aug.Pipeline(), 0, 3))
    assert list(plain.columns) == ["sample", "seed", "flipped", "angle (°)", "autocontrast", "mean"]
    full = aug.draws_table(aug.augment(image, aug.Pipeline(jitter=0.2, crop=0.5), 0, 3))
    assert {"crop: top, left, h × w", "brightness", "contrast", "saturation", "jitter order"} <= set(full.columns)
    assert "θ =" in aug.describe(aug.augment(image, aug.Pipeline(jitter=0.2, crop=0.5), 0, 1).draws[0])


def validated(fig: go.Figure) -> go.Figure:
    return go.Figure(fig.to_dict())


@pytest.mark.parametrize("gray", [False, True])
def test_charts_are_valid(gray):
    image = aug.load("cumulus", gray=gray).image
    pic = aug.picture(image)
    grid = aug.augment(image, aug.Pipeline(size=32), 0, 11)
    picture = validated(charts.aug_picture(pic.pixels, 3, 60))
    assert picture.data[0].type == "image" and picture.data[0].source.startswith("data:image/png;base64,")
    assert picture.layout.shapes[0].x0 == 59.5 and picture.layout.shapes[0].y0 == 2.5
    labels = [f"{i}: seed {d.seed}" for i, d in enumerate(grid.draws)]
    sample_grid = validated(charts.aug_sample_grid(grid.samples.numpy(), labels, [aug.describe(d) for d in grid.draws]))
    assert len(sample_grid.data) == 11 and sample_grid.layout.height == 2 * 160
    assert [a.text for a in sample_grid.layout.annotations] == labels
    assert all(len(t.source) < 8000 for t in sample_grid.data)  # a few KB each
    hist = validated(charts.aug_channel_histograms(aug.histograms(pic.tensor, grid.samples, pic.channels), "after"))
    assert len(hist.data) == 2 * len(pic.channels)
    assert {t.line.color for t in hist.data} == {charts.CHANNEL_COLORS[c] for c in pic.channels}


def test_the_grid_pictures_are_the_samples():
    grid = aug.augment(aug.load("cumulus").image, aug.Pipeline(size=16), 0, 2)
    fig = charts.aug_sample_grid(grid.samples.numpy(), ["a", "b"])
    jpeg = Image.open(io.BytesIO(base64.b64decode(fig.data[1].source.split(",", 1)[1])))
    expected = (grid.samples[1] * 255).round().permute(1, 2, 0).numpy()
    assert jpeg.size == (16, 16) and np.abs(np.asarray(jpeg, dtype=float) - expected).mean() < 4  # JPEG at quality 90


def test_snippet_for_an_upload_reads_the_file_and_reproduces_the_grid(tmp_path):
    raw = photo((300, 170))
    (tmp_path / "my_photo.png").write_bytes(raw)
    loaded = aug.load("cumulus", raw, name="../my photo.png")
    p = aug.Pipeline(jitter=0.3, crop=0.5, size=48)
    code = snippet.code(loaded, p, 4, 3, 10, 100)
    assert 'Image.open("my_photo.png")' in code
    script = tmp_path / "augmentation.py"
    script.write_text(code)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    printed = snippet_values(out.stdout)
    grid = aug.augment(loaded.image, p, 4, 3)
    assert [float(printed[f"sample{i}"]["mean"]) for i in range(3)] == pytest.approx(grid.means, rel=1e-9)
    assert printed["batch"] == {"N": "3", "C": "3", "H": "48", "W": "48"}
    assert printed["image"]["H"] == "73" and printed["image"]["W"] == "128"
    r = aug.readout(aug.picture(loaded.image), 10, 100)
    assert [int(printed["pixel"][c]) for c in "RGB"] == list(r.values)


def test_safe_names():
    assert snippet.safe_name("../../etc/passwd") == "passwd"
    assert snippet.safe_name('a"b;c.png') == "a_b_c.png"
    assert snippet.safe_name("...") == "my_image.png"
