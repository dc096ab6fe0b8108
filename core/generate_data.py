"""The data sets that ship with DL Explorer, generated deterministically (nothing is downloaded).

    python -m core.generate_data        # rewrites assets/water, assets/electricity, assets/clouds

- water: 9 water-quality measurements (the course's columns) and a binary `Potability` label from a
  noisy nonlinear rule, features min-max scaled to [0, 1] like the course's CSV files.
- electricity: 12 weeks of 15-minute consumption of a building, with daily and weekly seasonality,
  a slow drift and autocorrelated noise.
- clouds: 64×64 RGB pictures of 7 sky types drawn from procedural noise, in ImageFolder layout.
All of it is synthetic, and the app says so wherever it is used.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from core.rng import generator

ASSETS = Path(__file__).resolve().parents[1] / "assets"
WATER_FEATURES = ("ph", "Hardness", "Solids", "Chloramines", "Sulfate", "Conductivity", "Organic_carbon",
                  "Trihalomethanes", "Turbidity")
#: (mean, sd) of each measurement before scaling, in its usual unit.
_WATER_SCALES = ((7.0, 1.5), (196.0, 33.0), (22000.0, 8800.0), (7.1, 1.6), (333.0, 41.0), (426.0, 80.0),
                 (14.3, 3.3), (66.0, 16.0), (3.97, 0.78))
CLOUD_CLASSES = ("cirriform", "clear_sky", "cumulonimbus", "cumulus", "high_cumuliform", "stratiform", "stratocumulus")


def water_quality(n: int = 2400, seed: int = 0) -> pd.DataFrame:
    """n samples of the course's 9 features, scaled to [0, 1], and `Potability` ∈ {0, 1} (about 40% potable)."""
    g = generator(seed)
    u = torch.randn(n, 9, generator=g, dtype=torch.float64)
    u[:, 3] = 0.6 * u[:, 3] + 0.8 * u[:, 2]  # chloramines rise with dissolved solids
    score = (
        0.9
        - 0.9 * u[:, 0] ** 2  # pH far from neutral
        - 0.8 * u[:, 2]  # dissolved solids
        - 0.6 * u[:, 8]  # turbidity
        + 0.5 * u[:, 1] * (u[:, 4] < 0)  # hardness helps where sulfate is low
        - 0.7 * torch.relu(u[:, 7] - 0.5)  # trihalomethanes above a threshold
        - 0.4 * u[:, 3] * u[:, 6]  # chloramines with organic carbon
    )
    label = (torch.rand(n, generator=g, dtype=torch.float64) < torch.sigmoid(2.0 * score - 0.6)).double()
    raw = torch.stack([m + s * u[:, i] for i, (m, s) in enumerate(_WATER_SCALES)], dim=1)
    scaled = (raw - raw.min(0).values) / (raw.max(0).values - raw.min(0).values)
    frame = pd.DataFrame(scaled.numpy().round(6), columns=list(WATER_FEATURES))
    frame["Potability"] = label.numpy().astype(int)
    return frame


def electricity(weeks: int = 12, seed: int = 0) -> pd.DataFrame:
    """15-minute consumption (kW) of an office building: columns `timestamp`, `consumption`."""
    g = generator(seed)
    steps = weeks * 7 * 96
    t = torch.arange(steps, dtype=torch.float64)
    hour = (t % 96) / 4
    day = torch.div(t, 96, rounding_mode="floor")
    weekday = (day % 7) < 5
    office = torch.exp(-0.5 * ((hour - 13) / 3.2) ** 2) + 0.6 * torch.exp(-0.5 * ((hour - 8.5) / 1.0) ** 2)
    evening = 0.5 * torch.exp(-0.5 * ((hour - 19.5) / 1.5) ** 2)
    activity = torch.where(weekday, 1.0, 0.35) * office + evening
    drift = 4 * torch.sin(2 * math.pi * day / (weeks * 7))  # a slow, season-like swing
    noise = torch.zeros(steps, dtype=torch.float64)
    shocks = torch.randn(steps, generator=g, dtype=torch.float64)
    for i in range(1, steps):  # AR(1) noise, phi = 0.9
        noise[i] = 0.9 * noise[i - 1] + 0.9 * shocks[i]
    consumption = 25 + 40 * activity + drift + noise
    stamps = pd.date_range("2024-01-01", periods=steps, freq="15min")
    return pd.DataFrame({"timestamp": stamps, "consumption": consumption.numpy().round(3)})


def _smooth_noise(g: torch.Generator, cells: tuple[int, int], size: int = 64) -> torch.Tensor:
    """Value noise: a coarse random grid upsampled smoothly to size×size, in [0, 1]. Shape (size, size)."""
    grid = torch.rand(1, 1, *cells, generator=g)
    return F.interpolate(grid, size=(size, size), mode="bicubic", align_corners=False)[0, 0].clamp(0, 1)


def _rotate(img: torch.Tensor, degrees: float) -> torch.Tensor:
    """Rotate a (H, W) map about its centre, reflecting at the borders."""
    a = math.radians(degrees)
    theta = torch.tensor([[[math.cos(a), -math.sin(a), 0.0], [math.sin(a), math.cos(a), 0.0]]])
    grid = F.affine_grid(theta, [1, 1, *img.shape], align_corners=False)
    return F.grid_sample(img[None, None], grid, padding_mode="reflection", align_corners=False)[0, 0]


def _sky(g: torch.Generator, size: int = 64) -> torch.Tensor:
    """A blue sky, darker at the top. Shape (3, size, size)."""
    y = torch.linspace(0, 1, size)[:, None].expand(size, size)
    tint = 0.08 * (torch.rand(3, generator=g) - 0.5)
    top, bottom = torch.tensor([0.20, 0.42, 0.78]) + tint, torch.tensor([0.55, 0.72, 0.92]) + tint
    return top[:, None, None] * (1 - y) + bottom[:, None, None] * y


def _blobs(g: torch.Generator, count: int, radius: tuple[float, float], size: int = 64, low: float = 0.0) -> torch.Tensor:
    """Sum of random Gaussian blobs, clipped to [0, 1]; centres below height `low` (0 = anywhere)."""
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    out = torch.zeros(size, size)
    for _ in range(count):
        cy = float(low + (size - low) * torch.rand(1, generator=g))
        cx = float(size * torch.rand(1, generator=g))
        r = radius[0] + (radius[1] - radius[0]) * float(torch.rand(1, generator=g))
        out += torch.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r))
    return out.clamp(0, 1)


def cloud_image(kind: str, seed: int, size: int = 64) -> torch.Tensor:
    """One synthetic picture of a sky type. Returns (3, size, size) in [0, 1]."""
    g = generator(seed)
    sky = _sky(g, size)
    white = torch.ones(3, 1, 1)
    if kind == "clear_sky":
        cover, colour = 0.08 * _smooth_noise(g, (3, 3), size), white
    elif kind == "cirriform":
        streaks = _rotate(_smooth_noise(g, (24, 3), size), float(torch.rand(1, generator=g)) * 180)
        cover, colour = 0.75 * torch.sigmoid(12 * (streaks - 0.6)), white
    elif kind == "cumulus":
        cover = _blobs(g, int(torch.randint(3, 7, (1,), generator=g)), (4.0, 9.0), size, low=size * 0.25)
        colour = white * 0.97
    elif kind == "high_cumuliform":
        cells = _smooth_noise(g, (14, 14), size)
        cover, colour = 0.85 * torch.sigmoid(14 * (cells - 0.55)), white * 0.95
    elif kind == "stratocumulus":
        lumps = _smooth_noise(g, (6, 6), size)
        cover, colour = 0.35 + 0.6 * torch.sigmoid(10 * (lumps - 0.45)), torch.tensor([0.78, 0.79, 0.82])[:, None, None]
    elif kind == "stratiform":
        cover = 0.85 + 0.12 * _smooth_noise(g, (2, 2), size)
        colour = (0.55 + 0.25 * float(torch.rand(1, generator=g))) * torch.tensor([1.0, 1.0, 1.03])[:, None, None]
    elif kind == "cumulonimbus":
        tower = _blobs(g, 14, (6.0, 12.0), size, low=size * 0.35)
        top = torch.sigmoid((size * 0.35 - torch.arange(size, dtype=torch.float32)) / 3)[:, None]  # soft band
        cover = (tower + 0.8 * _blobs(g, 5, (5.0, 10.0), size) * top).clamp(0, 1)
        shade = torch.linspace(0.75, 0.30, size)[:, None].expand(size, size)  # dark base
        colour = shade[None] * torch.tensor([1.0, 1.0, 1.05])[:, None, None]
        sky = sky * 0.7
    else:
        raise ValueError(f"unknown sky type {kind!r}; choose from {', '.join(CLOUD_CLASSES)}")
    img = sky * (1 - cover) + colour * cover
    img = img * (0.85 + 0.3 * torch.rand(1, generator=g)) + 0.02 * torch.randn(3, size, size, generator=g)
    if torch.rand(1, generator=g) < 0.5:
        img = img.flip(-1)
    return img.clamp(0, 1)


def write_assets(root: Path = ASSETS, train_per_class: int = 48, test_per_class: int = 16) -> None:
    """Write every bundled data set under `root` (see the module docstring)."""
    from PIL import Image

    water = water_quality()
    (root / "water").mkdir(parents=True, exist_ok=True)
    split = int(0.75 * len(water))
    water.iloc[:split].to_csv(root / "water" / "water_train.csv", index=False)
    water.iloc[split:].to_csv(root / "water" / "water_test.csv", index=False)
    (root / "electricity").mkdir(parents=True, exist_ok=True)
    electricity().to_csv(root / "electricity" / "electricity_consumption.csv", index=False)
    for part, count, offset in (("train", train_per_class, 0), ("test", test_per_class, 10_000)):
        for c, kind in enumerate(CLOUD_CLASSES):
            folder = root / "clouds" / part / kind
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(count):
                img = cloud_image(kind, seed=offset + 1000 * c + i)
                pixels = (img.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
                Image.fromarray(pixels).save(folder / f"{kind}_{i:03d}.png", optimize=True)


if __name__ == "__main__":
    write_assets()
