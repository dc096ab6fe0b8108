"""Images and augmentation (course §4.1–4.3): how a picture becomes a (C, H, W) tensor scaled to [0, 1], and a
torchvision.transforms.v2 pipeline drawing N augmented samples of it.

Randomness. torchvision's random transforms draw their parameters from torch's global RNG, which every session
of the app shares (sessions are threads). Here each sample i gets its own `torch.Generator` seeded with
seed + i, and `draw` takes from it exactly the numbers the transform's own `make_params` would take from the
global RNG, in the same order and with the same calls (`torch.rand(1) >= p` for a random-apply transform,
`uniform_` for angles and jitter factors, `randperm(4)` for ColorJitter's order, RandomResizedCrop's ten tries);
the real transform object then applies them through its own `transform(image, params)`. So the page never
touches the global RNG, nothing has to be locked, and a plain script that calls `torch.manual_seed(seed + i)`
before `pipeline(image)` gets bit-identical samples (tests/core/test_augmentation.py holds the two against each
other at many settings).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from PIL import Image
from torchvision import transforms as transforms_v1
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as F

from core.checks import Check
from core.data import CLOUDS_TRAIN
from core.generate_data import CLOUD_CLASSES
from core.rng import generator
from core.uploads import read_image

IMAGES: tuple[str, ...] = CLOUD_CLASSES  # one bundled picture per sky type
DEFAULT_IMAGE = "cumulus"
LABELS: dict[str, str] = {kind: kind.replace("_", " ") for kind in IMAGES}
MODES: tuple[str, ...] = ("RGB", "grayscale")
SIZES: tuple[int, ...] = (16, 24, 32, 48, 64, 96, 128)  # Resize((size, size)) choices
MAX_SAMPLES = 16
WORK_SIDE = 128  # uploads are scaled down to this many pixels on their longer side
BINS = 32  # histogram bins over the 256 levels: 8 levels each
CROP_RATIO = (3 / 4, 4 / 3)  # RandomResizedCrop's default aspect-ratio range
ONE_STEP = 2.0**-23  # one float32 step at 1.0: the largest rounding ToDtype's ×(1/255) can leave


def bundled_path(kind: str) -> Path:
    """The first training picture of a sky type, e.g. assets/clouds/train/cumulus/cumulus_000.png."""
    if kind not in IMAGES:
        raise ValueError(f"unknown picture {kind!r}; choose from {', '.join(IMAGES)}")
    return CLOUDS_TRAIN / kind / f"{kind}_000.png"


def training_pictures() -> int:
    """How many pictures the bundled training set holds (the N of the course's N × K)."""
    return sum(1 for _ in CLOUDS_TRAIN.glob("*/*.png"))


@dataclass(frozen=True)
class Loaded:
    """The picture the page works on, with where it came from."""

    image: Image.Image  # mode "RGB" or "L"
    source: str  # "bundled" or "upload"
    name: str  # bundled sky type, or the upload's file name
    note: str | None = None  # what was done to an upload (scaled down)
    original_size: tuple[int, int] | None = None  # (W, H) of an upload before scaling


def scaled_size(width: int, height: int, work_side: int = WORK_SIDE) -> tuple[int, int]:
    """(W, H) after scaling the longer side down to `work_side`; unchanged when it already fits."""
    if max(width, height) <= work_side:
        return width, height
    s = work_side / max(width, height)
    return max(1, round(width * s)), max(1, round(height * s))


def load(kind: str, upload: bytes | None = None, gray: bool = False, name: str = "my_image.png") -> Loaded:
    """The bundled picture `kind`, or an upload (validated by core.uploads.read_image, which raises UploadError with
    a message for the page), scaled to at most WORK_SIDE a side with PIL's BOX filter; "L" when `gray`
    (PIL's luma L = 0.299 R + 0.587 G + 0.114 B, rounded)."""
    if upload is None:
        with Image.open(bundled_path(kind)) as im:
            image = im.convert("RGB")
        loaded = Loaded(image, "bundled", kind)
    else:
        image = read_image(upload)
        w, h = image.size
        size = scaled_size(w, h)
        note = None
        if size != (w, h):
            image = image.resize(size, Image.Resampling.BOX)
            note = f"Scaled from {w} × {h} to {size[0]} × {size[1]} pixels (PIL, BOX filter), so every change is instant."
        loaded = Loaded(image, "upload", name, note, (w, h))
    if gray:
        loaded = Loaded(loaded.image.convert("L"), loaded.source, loaded.name, loaded.note, loaded.original_size)
    return loaded


# §4.1–4.2: from pixels to a tensor -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Picture:
    """One picture as PIL holds it and as the tensor transforms give it."""

    pixels: np.ndarray  # (H, W, C) uint8, the array PIL holds (C = 3 for RGB, 1 for grayscale)
    tensor: torch.Tensor  # (C, H, W) uint8: v2.ToImage()(image)
    scaled: torch.Tensor  # (C, H, W) float32: v2.ToDtype(torch.float32, scale=True) of it
    to_tensor: torch.Tensor  # (C, H, W) float32: the course's transforms.ToTensor()(image)

    @property
    def channels(self) -> tuple[str, ...]:
        return ("R", "G", "B") if self.tensor.shape[0] == 3 else ("L",)


def picture(image: Image.Image) -> Picture:
    """The picture through v2.ToImage + v2.ToDtype(float32, scale=True), and through the course's ToTensor."""
    pixels = np.asarray(image, dtype=np.uint8)
    if pixels.ndim == 2:  # grayscale: H × W, no channel axis yet
        pixels = pixels[:, :, None]
    with torch.inference_mode():
        tensor = v2.ToImage()(image).as_subclass(torch.Tensor)
        scaled = v2.ToDtype(torch.float32, scale=True)(tensor)
        old = transforms_v1.ToTensor()(image)
    return Picture(pixels, tensor, scaled, old)


@dataclass(frozen=True)
class Readout:
    """One pixel: its uint8 values, the float32 values after ToDtype, and value / 255 in float64."""

    row: int
    col: int
    values: tuple[int, ...]  # per channel, 0…255
    scaled: tuple[float, ...]  # per channel, float32 from ToDtype(scale=True)
    by_formula: tuple[float, ...]  # value / 255 in float64
    clamped: bool  # the asked row or column was outside the picture

    @property
    def error(self) -> float:
        return max(abs(a - b) for a, b in zip(self.scaled, self.by_formula))


def readout(pic: Picture, row: int, col: int) -> Readout:
    """The pixel at (row, col), clamped into the picture."""
    _, h, w = pic.tensor.shape
    r, c = min(max(int(row), 0), h - 1), min(max(int(col), 0), w - 1)
    values = tuple(int(v) for v in pic.tensor[:, r, c])
    return Readout(r, c, values, tuple(float(v) for v in pic.scaled[:, r, c]), tuple(v / 255 for v in values),
                   (r, c) != (row, col))


@dataclass(frozen=True)
class Scaling:
    """ToDtype(float32, scale=True) against the course's ToTensor over all 256 levels."""

    differing: int  # levels where the two float32 results differ
    max_difference: float  # their largest |difference|


def scaling_levels() -> Scaling:
    """ToTensor divides by 255 in float32 (v / 255 correctly rounded); ToDtype multiplies by 1/255, which can land
    one float32 step away. Compared on a picture holding each level 0…255 once."""
    levels_image = Image.fromarray(np.arange(256, dtype=np.uint8).reshape(16, 16))
    with torch.inference_mode():
        new = v2.ToDtype(torch.float32, scale=True)(v2.ToImage()(levels_image))
        old = transforms_v1.ToTensor()(levels_image)
    return Scaling(int((new != old).sum()), float((new.double() - old.double()).abs().max()))


# §4.3: the augmentation pipeline ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Pipeline:
    """The page's controls; the defaults are the course's §4.3 pipeline."""

    flip_p: float = 0.5  # RandomHorizontalFlip(p)
    rotation: float = 45.0  # RandomRotation(degrees): angle ∈ [−degrees, degrees]
    autocontrast_p: float = 0.5  # RandomAutocontrast(p)
    jitter: float = 0.0  # ColorJitter(brightness=j, contrast=j, saturation=j); 0 leaves it out
    crop: float = 1.0  # RandomResizedCrop(scale=(crop, 1)) at the input's size; 1 leaves it out
    size: int = 64  # Resize((size, size))

    def __post_init__(self) -> None:
        for name in ("flip_p", "autocontrast_p"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be a probability in [0, 1]")
        if not 0 <= self.rotation <= 180:
            raise ValueError("rotation must be in [0, 180] degrees")
        if not 0 <= self.jitter <= 1:
            raise ValueError("jitter must be in [0, 1]")
        if not 0 < self.crop <= 1:
            raise ValueError("the crop's minimum scale must be in (0, 1]")
        if not 1 <= self.size <= 1024:
            raise ValueError("size must be 1 to 1024 pixels")


def build(p: Pipeline, height: int, width: int) -> v2.Compose:
    """The pipeline as torchvision objects, in the order they run (the code panel writes the same list).

    The random transforms work on the uint8 picture (the course's order: augment, then convert); ToDtype scales
    to [0, 1]; Resize comes last, as in the course, so the crop zooms at the picture's own size first.
    """
    steps: list[v2.Transform] = [v2.ToImage()]
    if p.crop < 1:
        steps.append(v2.RandomResizedCrop((height, width), scale=(p.crop, 1.0)))
    steps += [v2.RandomHorizontalFlip(p=p.flip_p), v2.RandomRotation(p.rotation), v2.RandomAutocontrast(p=p.autocontrast_p)]
    if p.jitter > 0:
        steps.append(v2.ColorJitter(brightness=p.jitter, contrast=p.jitter, saturation=p.jitter))
    steps += [v2.ToDtype(torch.float32, scale=True), v2.Resize((p.size, p.size))]
    return v2.Compose(steps)


RANDOM = (v2.RandomHorizontalFlip, v2.RandomAutocontrast, v2.RandomRotation, v2.ColorJitter, v2.RandomResizedCrop)


def draw(t: v2.Transform, image: torch.Tensor, g: torch.Generator) -> dict[str, Any] | None:
    """The parameters transform `t` would draw from the global RNG for `image`, drawn from `g` instead, number for
    number (see the module note). None when a random-apply transform skips this sample."""
    if isinstance(t, (v2.RandomHorizontalFlip, v2.RandomAutocontrast)):
        return None if torch.rand(1, generator=g) >= t.p else {}
    if isinstance(t, v2.RandomRotation):
        return {"angle": torch.empty(1).uniform_(t.degrees[0], t.degrees[1], generator=g).item()}
    if isinstance(t, v2.ColorJitter):
        fn_idx = torch.randperm(4, generator=g)

        def factor(bounds):
            return None if bounds is None else float(torch.empty(1).uniform_(bounds[0], bounds[1], generator=g).item())

        b, c, s, h = factor(t.brightness), factor(t.contrast), factor(t.saturation), factor(t.hue)  # this order
        return {"fn_idx": fn_idx, "brightness_factor": b, "contrast_factor": c, "saturation_factor": s, "hue_factor": h}
    if isinstance(t, v2.RandomResizedCrop):
        height, width = image.shape[-2:]
        area = height * width
        log_ratio = torch.log(torch.tensor(t.ratio))
        for _ in range(10):
            target_area = area * torch.empty(1).uniform_(t.scale[0], t.scale[1], generator=g).item()
            aspect = torch.exp(torch.empty(1).uniform_(log_ratio[0], log_ratio[1], generator=g)).item()
            w, h = int(round(math.sqrt(target_area * aspect))), int(round(math.sqrt(target_area / aspect)))
            if 0 < w <= width and 0 < h <= height:
                i = torch.randint(0, height - h + 1, size=(1,), generator=g).item()
                j = torch.randint(0, width - w + 1, size=(1,), generator=g).item()
                return {"top": i, "left": j, "height": h, "width": w}
        in_ratio = width / height  # torchvision's fallback: a central crop
        if in_ratio < min(t.ratio):
            w, h = width, int(round(width / min(t.ratio)))
        elif in_ratio > max(t.ratio):
            h, w = height, int(round(height * max(t.ratio)))
        else:
            w, h = width, height
        return {"top": (height - h) // 2, "left": (width - w) // 2, "height": h, "width": w}
    raise TypeError(f"{type(t).__name__} draws no random parameters here")


@dataclass(frozen=True)
class Draws:
    """What one sample drew: None for a transform that is not in the pipeline."""

    seed: int
    crop: tuple[int, int, int, int] | None  # (top, left, height, width) of RandomResizedCrop
    flipped: bool
    angle: float
    autocontrast: bool
    jitter: dict[str, float] | None  # brightness, contrast, saturation factors
    jitter_order: tuple[str, ...] | None  # the order ColorJitter applied them in


_JITTER = {0: "brightness", 1: "contrast", 2: "saturation", 3: "hue"}


def describe(d: Draws) -> str:
    """What one sample drew, in a line."""
    parts = [f"seed {d.seed}"]
    if d.crop is not None:
        parts.append(f"crop {d.crop[2]} × {d.crop[3]} at ({d.crop[0]}, {d.crop[1]})")
    parts += ["flipped" if d.flipped else "not flipped", f"θ = {d.angle:.1f}°", "autocontrast" if d.autocontrast else "no autocontrast"]
    if d.jitter is not None:
        parts.append(", ".join(f"{k} {v:.2f}" for k, v in d.jitter.items()))
    return " · ".join(parts)


def augment_one(pipeline: v2.Compose, image: Image.Image, seed: int) -> tuple[torch.Tensor, Draws]:
    """One sample: every random transform's parameters from a generator seeded with `seed`. Returns ((C, s, s), draws)."""
    g = generator(seed)
    x: Any = image
    drawn: dict[type, dict[str, Any] | None] = {}
    for t in pipeline.transforms:
        if isinstance(t, RANDOM):
            params = draw(t, x, g)
            drawn[type(t)] = params
            if params is not None:
                x = t.transform(x, params)
        else:
            x = t(x)
    crop, jitter = drawn.get(v2.RandomResizedCrop), drawn.get(v2.ColorJitter)
    return x.as_subclass(torch.Tensor), Draws(
        seed=seed,
        crop=None if crop is None else (crop["top"], crop["left"], crop["height"], crop["width"]),
        flipped=drawn.get(v2.RandomHorizontalFlip) is not None,
        angle=drawn[v2.RandomRotation]["angle"],
        autocontrast=drawn.get(v2.RandomAutocontrast) is not None,
        jitter=None if jitter is None else {k: jitter[f"{k}_factor"] for k in ("brightness", "contrast", "saturation")},
        jitter_order=None if jitter is None else tuple(_JITTER[int(i)] for i in jitter["fn_idx"] if int(i) != 3),
    )


@dataclass(frozen=True)
class Grid:
    """N augmented samples of one picture, sample i drawn from seed + i."""

    pipeline: Pipeline
    seed: int
    samples: torch.Tensor  # (N, C, size, size) float32 in [0, 1]: torch.stack of the samples
    draws: tuple[Draws, ...]

    @property
    def means(self) -> list[float]:
        """Each sample's mean over all its values, as the code panel's script prints it."""
        return [float(s.mean()) for s in self.samples]


def augment(image: Image.Image, p: Pipeline, seed: int, n: int) -> Grid:
    """N samples of `image` through the pipeline `p`, sample i drawn from seed + i."""
    if not 1 <= n <= MAX_SAMPLES:
        raise ValueError(f"the grid holds 1 to {MAX_SAMPLES} samples")
    pipeline = build(p, image.height, image.width)
    with torch.inference_mode():
        out = [augment_one(pipeline, image, seed + i) for i in range(n)]
    return Grid(p, seed, torch.stack([x for x, _ in out]), tuple(d for _, d in out))


def draws_table(grid: Grid) -> pd.DataFrame:
    """One row per sample: its seed, what it drew, and its mean value (the code panel prints the same means)."""
    rows = []
    for i, (d, mean) in enumerate(zip(grid.draws, grid.means)):
        row: dict[str, Any] = {"sample": i, "seed": d.seed}
        if d.crop is not None:
            top, left, h, w = d.crop
            row["crop: top, left, h × w"] = f"{top}, {left}, {h} × {w}"
        row |= {"flipped": d.flipped, "angle (°)": d.angle, "autocontrast": d.autocontrast}
        if d.jitter is not None:
            row |= {k: v for k, v in d.jitter.items()}
            row["jitter order"] = " → ".join(d.jitter_order or ())
        row["mean"] = mean
        rows.append(row)
    return pd.DataFrame(rows)


# Histograms ---------------------------------------------------------------------------------------------------

def levels(x: torch.Tensor) -> torch.Tensor:
    """Values on the 0…255 scale as whole levels: uint8 as they are, floats in [0, 1] × 255 rounded."""
    if x.dtype == torch.uint8:
        return x.long()
    return (x.double() * 255).round().clamp(0, 255).long()


def histograms(before: torch.Tensor, after: torch.Tensor, channels: tuple[str, ...], bins: int = BINS) -> pd.DataFrame:
    """Per channel, the share of values in each of `bins` equal bins of the 256 levels.

    Args:
        before: (C, H, W) the picture (uint8).
        after: (N, C, s, s) the samples (float in [0, 1]), pooled over all N.
    Returns:
        columns channel, low, high (the bin's levels, inclusive), centre, before, after (% of that channel's values).
    """
    width = 256 // bins
    frames = []
    for c, name in enumerate(channels):
        shares = {}
        for label, values in (("before", levels(before[c])), ("after", levels(after[:, c]))):
            counts = torch.bincount(values.flatten() // width, minlength=bins).double()
            shares[label] = (100 * counts / counts.sum()).numpy()
        low = np.arange(bins) * width
        frames.append(pd.DataFrame({"channel": name, "low": low, "high": low + width - 1, "centre": low + (width - 1) / 2,
                                    **shares}))
    return pd.concat(frames, ignore_index=True)


# Checks -------------------------------------------------------------------------------------------------------

def _shape_check(what: str, predicted: tuple[int, ...], actual: tuple[int, ...]) -> Check:
    wrong = sum(a != b for a, b in zip(predicted, actual)) + abs(len(predicted) - len(actual))
    return Check(what, float(math.prod(predicted)), float(math.prod(actual)), 0.0, error=float(wrong))


def rotation_matrix(angle: float) -> tuple[tuple[float, float], tuple[float, float]]:
    """The course's R_θ = [[cos θ, −sin θ], [sin θ, cos θ]], θ in degrees."""
    t = math.radians(angle)
    return (math.cos(t), -math.sin(t)), (math.sin(t), math.cos(t))


def rotate_by_matrix(x: torch.Tensor, angle: float) -> tuple[torch.Tensor, torch.Tensor]:
    """The course's rotation: output pixel p takes the input pixel nearest to R_θ⁻¹ p (coordinates centred on the
    picture's centre, y pointing up, so θ > 0 turns the picture counter-clockwise), black outside.

    Returns:
        the rotated (C, H, W) picture, and an (H, W) mask of pixels whose source lies within 10⁻³ of the border
        between two pixels (a rounding tie, where float32 and float64 may pick different neighbours).
    """
    _, h, w = x.shape
    rot = torch.tensor(rotation_matrix(angle), dtype=torch.float64)
    i, j = torch.meshgrid(torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64), indexing="ij")
    p = torch.stack([(j + 0.5 - w / 2).flatten(), (h / 2 - i - 0.5).flatten()])  # (2, H·W) pixel centres, y up
    src = rot.T @ p  # R_θ⁻¹ = R_θᵀ
    cols, rows = src[0] + w / 2 - 0.5, h / 2 - 0.5 - src[1]
    tie = ((cols - cols.floor() - 0.5).abs() < 1e-3) | ((rows - rows.floor() - 0.5).abs() < 1e-3)
    ci, ri = cols.round().long(), rows.round().long()
    inside = (ci >= 0) & (ci < w) & (ri >= 0) & (ri < h)
    out = torch.zeros(x.shape[0], h * w, dtype=x.dtype)
    out[:, inside] = x[:, ri[inside], ci[inside]]
    return out.reshape(x.shape), tie.reshape(h, w)


def checks(pic: Picture, grid: Grid) -> list[Check]:
    """The formulas of §4.1–4.3 against torchvision, on this picture and this grid (the chosen pixel: `pixel_check`)."""
    x, p = pic.tensor, grid.pipeline
    c, h, w = x.shape
    n = len(grid.samples)
    hwc = torch.from_numpy(pic.pixels.copy()).permute(2, 0, 1)  # I(i, j, c) → [c, i, j]
    div = x.double() / 255
    out = [
        _shape_check(f"ToImage: H × W{' × 3' if c == 3 else ''} = {h} × {w}{' × 3' if c == 3 else ''} becomes (C, H, W) = ({c}, {h}, {w})",
                     (c, h, w), tuple(x.shape)),
        Check("ToImage: x[c, i, j] = I(i, j, c) at every pixel (values that differ)", 0.0, float((hwc != x).sum()), 0.0),
        Check("ToDtype(float32, scale=True) vs value / 255, max |difference|",
              float(div.flatten()[0]), float(pic.scaled.flatten()[0]), ONE_STEP, error=float((pic.scaled.double() - div).abs().max())),
        Check("The course's ToTensor() vs value / 255, max |difference|",
              float(div.flatten()[0]), float(pic.to_tensor.flatten()[0]), ONE_STEP,
              error=float((pic.to_tensor.double() - div).abs().max())),
        _shape_check(f"torch.stack(samples): (N, C, H, W) = ({n}, {c}, {p.size}, {p.size}), H × W from Resize",
                     (n, c, p.size, p.size), tuple(grid.samples.shape)),
    ]
    g = generator(0)
    with torch.inference_mode():
        flip = v2.RandomHorizontalFlip(p=1.0)
        flipped = flip.transform(x, draw(flip, x, g))
        by_index = x[:, :, torch.arange(w - 1, -1, -1)]  # I'(i, j) = I(i, W − 1 − j)
        out += [Check("RandomHorizontalFlip(p=1) vs torch.flip(x, dims=[-1]), values that differ", 0.0,
                      float((flipped != torch.flip(x, dims=[-1])).sum()), 0.0),
                Check("Course flip I(i, W − 1 − j) (0-based) vs RandomHorizontalFlip(p=1), differing",
                      0.0, float((flipped != by_index).sum()), 0.0)]
        angle = grid.draws[0].angle
        turned = v2.RandomRotation(p.rotation).transform(x, {"angle": angle})
        by_matrix, tie = rotate_by_matrix(x, angle)
        wrong = ((turned != by_matrix).any(0) & ~tie).sum()
        out.append(Check(f"RandomRotation(θ = {angle:.2f}°) vs nearest pixel at R_θ⁻¹ p: differing of {int((~tie).sum())}",
                         0.0, float(wrong), 0.0))
        xf = pic.scaled.double()
        lo, hi = xf.amin(dim=(-2, -1), keepdim=True), xf.amax(dim=(-2, -1), keepdim=True)
        span = torch.where(hi > lo, hi - lo, torch.ones_like(hi))
        by_formula = torch.where(hi > lo, (xf - lo) / span, xf)
        out.append(Check("Autocontrast (x − min_c) / (max_c − min_c) vs F.autocontrast, max |difference|",
                         float(by_formula.max()), float(F.autocontrast(pic.scaled).max()), 1e-6,
                         error=float((by_formula - F.autocontrast(pic.scaled).double()).abs().max())))
        b = 1 + p.jitter
        bright = F.adjust_brightness(pic.scaled, b).double()
        out.append(Check(f"Brightness clamp(b·x, 0, 1), b = {b:g}, vs F.adjust_brightness, max |difference|",
                         float((b * xf).clamp(0, 1).max()), float(bright.max()), 1e-6,
                         error=float(((b * xf).clamp(0, 1) - bright).abs().max())))
        again, _ = augment_one(build(p, h, w), Image.fromarray(pic.pixels[:, :, 0] if c == 1 else pic.pixels), grid.seed)
    first = grid.samples[0]
    redraw = float((again - first).abs().max()) if again.shape == first.shape else math.inf
    out.append(Check(f"Sample 0 drawn again from seed {grid.seed}: max |difference|", 0.0, redraw, 0.0))
    return out


def pixel_check(r: Readout) -> Check:
    """The chosen pixel: ToDtype's float against value / 255 (the first channel shown; the error is over all)."""
    return Check(f"Pixel ({r.row}, {r.col}): ToDtype vs {r.values[0]} / 255, max |difference| over channels",
                 r.by_formula[0], r.scaled[0], ONE_STEP, error=r.error)

