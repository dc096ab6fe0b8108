"""Two-parameter loss surfaces L(x, y) for watching optimizers move, with their gradients and defaults.

`value` and `gradient` use only + − × ÷, so the same formula runs on Python floats (the hand
implementations in core.update_rules) and on tensors of any shape (the torch.optim race in
core.optimizers). The closed-form gradient is checked against autograd in the tests and on the page.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch

from core.rng import generator

SURFACES: tuple[str, ...] = ("quadratic", "rosenbrock", "himmelblau", "saddle", "beale", "noisy_quadratic")

_DTYPE = torch.float64


@dataclass(frozen=True)
class Surface:
    """How a surface is shown and where a race on it starts by default."""

    name: str
    label: str  # shown in the surface picker
    latex: str  # L(x, y) for st.latex; {kappa} is filled in for the quadratics
    x_range: tuple[float, float]  # the default view
    y_range: tuple[float, float]
    start: tuple[float, float]  # the default start point
    minima: tuple[tuple[float, float], ...]  # global minima (the saddle point for the saddle)
    log_scale: bool  # contours and loss axis in decades (False where L can be negative)
    lrs: tuple[tuple[str, float], ...]  # a learning rate per optimizer that makes a readable race here
    note: str  # one line on what the surface shows


_QUADRATIC_LRS = (("sgd", 0.1), ("momentum", 0.02), ("nesterov", 0.02), ("adagrad", 1.0), ("rmsprop", 0.05),
                  ("adam", 0.2), ("adamw", 0.2))

CATALOG: dict[str, Surface] = {
    "quadratic": Surface(
        "quadratic", "Ill-conditioned quadratic", r"L(x, y) = \tfrac{1}{2}\left(x^2 + \kappa\, y^2\right),\quad \kappa = {kappa}",
        (-5.0, 5.0), (-3.0, 3.0), (-4.5, 2.0), ((0.0, 0.0),), True, _QUADRATIC_LRS,
        "Curvature 1 along x and κ along y: one learning rate cannot suit both directions.",
    ),
    "rosenbrock": Surface(
        "rosenbrock", "Rosenbrock", r"L(x, y) = (1 - x)^2 + 100\,(y - x^2)^2",
        (-2.0, 2.0), (-1.0, 3.0), (-1.5, 2.0), ((1.0, 1.0),), True,
        (("sgd", 0.001), ("momentum", 0.0005), ("nesterov", 0.0005), ("adagrad", 0.5), ("rmsprop", 0.01),
         ("adam", 0.05), ("adamw", 0.05)),
        "A curved, flat-bottomed valley: finding it is easy, following it to (1, 1) is slow.",
    ),
    "himmelblau": Surface(
        "himmelblau", "Himmelblau", r"L(x, y) = (x^2 + y - 11)^2 + (x + y^2 - 7)^2",
        (-5.0, 5.0), (-5.0, 5.0), (0.0, -1.0), ((3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186),
                                                 (3.584428, -1.848126)), True,
        (("sgd", 0.005), ("momentum", 0.002), ("nesterov", 0.002), ("adagrad", 0.5), ("rmsprop", 0.05),
         ("adam", 0.1), ("adamw", 0.1)),
        "Four minima of equal height: which one a path reaches depends on the optimizer and the start "
        "(from the default start (0, −1), near the hilltop, the SGD family and the adaptive methods part ways).",
    ),
    "saddle": Surface(
        "saddle", "Saddle x² − y²", r"L(x, y) = x^2 - y^2",
        (-2.0, 2.0), (-2.0, 2.0), (-1.5, 0.05), ((0.0, 0.0),), False,
        (("sgd", 0.01), ("momentum", 0.01), ("nesterov", 0.01), ("adagrad", 0.1), ("rmsprop", 0.01),
         ("adam", 0.01), ("adamw", 0.01)),
        "No minimum: the gradient points to (0, 0) along x and away from it along y; "
        "a path that starts near y = 0 stalls near the saddle before it escapes.",
    ),
    "beale": Surface(
        "beale", "Beale", r"L(x, y) = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2",
        (-4.5, 4.5), (-4.5, 4.5), (1.0, 1.5), ((3.0, 0.5),), True,
        (("sgd", 0.001), ("momentum", 0.0005), ("nesterov", 0.0005), ("adagrad", 0.5), ("rmsprop", 0.01),
         ("adam", 0.05), ("adamw", 0.05)),
        "Flat plateaus and steep walls: gradients range over several decades.",
    ),
    "noisy_quadratic": Surface(
        "noisy_quadratic", "Noisy quadratic",
        r"L_t(x, y) = \tfrac{1}{2}\left(x^2 + \kappa\, y^2\right) + \xi_t^\top \binom{x}{y},\quad \xi_t \sim \mathcal{N}(0, \sigma^2 I),\quad \kappa = {kappa}",
        (-5.0, 5.0), (-3.0, 3.0), (-4.5, 2.0), ((0.0, 0.0),), True, _QUADRATIC_LRS,
        "Each step sees a fresh random tilt ξ_t, like a mini-batch: the gradient is right only on average.",
    ),
}

LABELS: dict[str, str] = {name: s.label for name, s in CATALOG.items()}
#: Surfaces that use the condition number κ and the gradient noise σ.
USES_CONDITION: tuple[str, ...] = ("quadratic", "noisy_quadratic")
USES_NOISE: tuple[str, ...] = ("noisy_quadratic",)


def surface(name: str) -> Surface:
    """The catalog entry for a surface name."""
    if name not in CATALOG:
        raise ValueError(f"unknown surface {name!r}; choose from {', '.join(SURFACES)}")
    return CATALOG[name]


def value(name: str, x: Any, y: Any, condition: float = 15.0) -> Any:
    """L(x, y), without the noise term; x and y are floats or tensors of one shape."""
    if name in ("quadratic", "noisy_quadratic"):
        return 0.5 * (x * x + condition * y * y)
    if name == "rosenbrock":
        r = y - x * x
        return (1 - x) * (1 - x) + 100 * r * r
    if name == "himmelblau":
        u, w = x * x + y - 11, x + y * y - 7
        return u * u + w * w
    if name == "saddle":
        return x * x - y * y
    if name == "beale":
        a, b, c = 1.5 - x + x * y, 2.25 - x + x * y * y, 2.625 - x + x * y * y * y
        return a * a + b * b + c * c
    raise ValueError(f"unknown surface {name!r}; choose from {', '.join(SURFACES)}")


def gradient(name: str, x: Any, y: Any, condition: float = 15.0) -> tuple[Any, Any]:
    """(∂L/∂x, ∂L/∂y) in closed form, without the noise term; floats or tensors of one shape."""
    if name in ("quadratic", "noisy_quadratic"):
        return x, condition * y
    if name == "rosenbrock":
        r = y - x * x
        return -2 * (1 - x) - 400 * x * r, 200 * r
    if name == "himmelblau":
        u, w = x * x + y - 11, x + y * y - 7
        return 4 * x * u + 2 * w, 2 * u + 4 * y * w
    if name == "saddle":
        return 2 * x, -2 * y
    if name == "beale":
        y2 = y * y
        y3 = y2 * y
        a, b, c = 1.5 - x + x * y, 2.25 - x + x * y2, 2.625 - x + x * y3
        return (2 * a * (y - 1) + 2 * b * (y2 - 1) + 2 * c * (y3 - 1),
                2 * a * x + 4 * b * x * y + 6 * c * x * y2)
    raise ValueError(f"unknown surface {name!r}; choose from {', '.join(SURFACES)}")


def loss(name: str, xy: torch.Tensor, condition: float = 15.0) -> torch.Tensor:
    """L at points xy of shape (..., 2); returns shape (...)."""
    return value(name, xy[..., 0], xy[..., 1], condition)


def autograd_gradient(name: str, xy: torch.Tensor, condition: float = 15.0) -> torch.Tensor:
    """∇L at points xy of shape (..., 2) by autograd, shape (..., 2), to check `gradient` against."""
    xy = xy.detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(loss(name, xy, condition).sum(), xy)
    return g


def noise(name: str, sigma: float, seed: int, steps: int) -> torch.Tensor:
    """The random tilts ξ_t of the stochastic loss, one per step: shape (steps, 2).

    Zero for every surface but the noisy quadratic, whose ξ_t ~ N(0, σ² I) are drawn from a
    `torch.Generator` seeded with `seed`, so every optimizer in a race sees the same sequence.
    """
    if name not in USES_NOISE or sigma == 0:
        return torch.zeros(steps, 2, dtype=_DTYPE)
    return sigma * torch.randn(steps, 2, generator=generator(seed), dtype=_DTYPE)


def view(name: str, start: tuple[float, float]) -> tuple[tuple[float, float], tuple[float, float]]:
    """The surface's default view, widened to hold the start point with a margin."""
    s = surface(name)
    (x0, x1), (y0, y1) = s.x_range, s.y_range
    mx, my = 0.08 * (x1 - x0), 0.08 * (y1 - y0)
    return (min(x0, start[0] - mx), max(x1, start[0] + mx)), (min(y0, start[1] - my), max(y1, start[1] + my))


@dataclass(frozen=True)
class Grid:
    """L on a regular grid over the view, for contours: z[i, j] = L(x[j], y[i])."""

    x: torch.Tensor  # (n,)
    y: torch.Tensor  # (n,)
    z: torch.Tensor  # (n, n): L, or log10(L) where the surface is drawn in decades
    log_scale: bool


def grid(name: str, x_range: tuple[float, float], y_range: tuple[float, float], condition: float = 15.0,
         n: int = 101) -> Grid:
    """L over the view on an n × n grid; log10(L + a small floor) for surfaces drawn in decades."""
    with torch.inference_mode():
        x = torch.linspace(*x_range, n, dtype=_DTYPE)
        y = torch.linspace(*y_range, n, dtype=_DTYPE)
        z = value(name, x[None, :], y[:, None], condition)  # (n, n)
        log_scale = surface(name).log_scale
        if log_scale:
            z = torch.log10(z.clamp_min(0) + _LOG_FLOOR)
    return Grid(x, y, z, log_scale)


_LOG_FLOOR = 1e-3  # contours in decades stop at 10^-3: below that the valley floor is one colour


def decades(z: torch.Tensor) -> list[int]:
    """The whole powers of ten a log-scaled grid spans, for the colour bar's ticks."""
    lo, hi = math.floor(float(z.min())), math.ceil(float(z.max()))
    return list(range(lo, hi + 1))
