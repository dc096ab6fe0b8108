"""Max and average pooling (course §5.6): output sizes by ⌊(H − k)/s⌋ + 1 beside nn.MaxPool2d and
nn.AvgPool2d, and the pooled values of a small grid by the course's formulas beside the modules."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from core.conv_arithmetic import course_output_size
from core.rng import generator

POOL_GRID = 8  # side of the example grid the pooling section pools
_F64 = torch.float64


@dataclass(frozen=True)
class PoolShape:
    """Pooling on the conv page's (1, C_in, H, W) input: formula beside nn.MaxPool2d and nn.AvgPool2d."""

    k: int
    s: int
    formula: tuple[int, int]  # ⌊(H − k)/s⌋ + 1, ⌊(W − k)/s⌋ + 1
    max_shape: tuple[int, ...] | None
    avg_shape: tuple[int, ...] | None
    error: str | None
    hint: str | None


def pool_shape(h: int, w: int, c: int, k: int, s: int) -> PoolShape:
    """Output sizes of max and average pooling with window k and stride s (no padding), both ways."""
    shapes, error, hint = [], None, None
    x = torch.empty(1, c, h, w, device="meta")
    try:
        for pool in (nn.MaxPool2d(k, s), nn.AvgPool2d(k, s)):
            shapes.append(tuple(pool(x).shape))
    except RuntimeError as exc:
        error = str(exc)
        hint = f"A {k} × {k} window does not fit in a {h} × {w} input: make the window at most {min(h, w)}, or the input larger."
        shapes = [None, None]
    return PoolShape(k, s, (course_output_size(h, k, 0, s), course_output_size(w, k, 0, s)), *shapes, error, hint)


@dataclass(frozen=True)
class PoolExample:
    """A small integer grid, pooled by the modules and by the course's formulas (§5.6)."""

    grid: torch.Tensor  # (POOL_GRID, POOL_GRID) integers 0..9
    k: int
    s: int
    max_pooled: torch.Tensor  # nn.MaxPool2d(k, s)
    avg_pooled: torch.Tensor  # nn.AvgPool2d(k, s)
    max_formula: torch.Tensor  # max over each window, by hand
    avg_formula: torch.Tensor  # (1/k²) Σ over each window, by hand


def pool_example(k: int, s: int, seed: int = 0, n: int = POOL_GRID) -> PoolExample | None:
    """Pools an n × n integer grid; None when the window is larger than the grid."""
    if k > n:
        return None
    grid = torch.randint(0, 10, (n, n), generator=generator(seed + 1)).to(_F64)
    with torch.inference_mode():
        max_pooled = nn.MaxPool2d(k, s)(grid[None, None])[0, 0]
        avg_pooled = nn.AvgPool2d(k, s)(grid[None, None])[0, 0]
    size = course_output_size(n, k, 0, s)
    windows = torch.stack([torch.stack([grid[i * s:i * s + k, j * s:j * s + k] for j in range(size)]) for i in range(size)])
    return PoolExample(grid, k, s, max_pooled, avg_pooled, windows.amax(dim=(-2, -1)), windows.sum(dim=(-2, -1)) / k**2)
