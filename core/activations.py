"""Activation functions, their derivatives, and what their derivatives do to gradients through depth.

Every derivative is computed twice: by autograd through the real `torch.nn` module, and by the
closed form the course gives (GELU and SiLU follow from PyTorch's definitions by the product rule).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
import torch
from torch import nn

from core.checks import Check
from core.rng import generator

FUNCTIONS: tuple[str, ...] = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu", "silu")
LABELS: dict[str, str] = {
    "sigmoid": "Sigmoid",
    "tanh": "Tanh",
    "relu": "ReLU",
    "leaky_relu": "LeakyReLU",
    "elu": "ELU",
    "gelu": "GELU",
    "silu": "SiLU",
}
#: Functions whose saturated fraction has an exact formula (f′ falls off on both sides).
SATURATING: tuple[str, ...] = ("sigmoid", "tanh")
#: Functions with units whose derivative is exactly zero for z ≤ 0.
DYING: tuple[str, ...] = ("relu",)

_DTYPE = torch.float64  # the math checks compare to 1e-6; float64 keeps rounding out of the way


@dataclass(frozen=True)
class Alphas:
    """The α parameters of the two activations that have one."""

    leaky: float = 0.01  # LeakyReLU negative slope
    elu: float = 1.0  # ELU saturation value for z → −∞ is −α


def module(name: str, alphas: Alphas = Alphas()) -> nn.Module:
    """The `torch.nn` module for an activation name."""
    modules = {
        "sigmoid": lambda: nn.Sigmoid(),
        "tanh": lambda: nn.Tanh(),
        "relu": lambda: nn.ReLU(),
        "leaky_relu": lambda: nn.LeakyReLU(negative_slope=alphas.leaky),
        "elu": lambda: nn.ELU(alpha=alphas.elu),
        "gelu": lambda: nn.GELU(),
        "silu": lambda: nn.SiLU(),
    }
    if name not in modules:
        raise ValueError(f"unknown activation {name!r}; choose from {', '.join(FUNCTIONS)}")
    return modules[name]()


def autograd_derivative(name: str, z: torch.Tensor, alphas: Alphas = Alphas()) -> tuple[torch.Tensor, torch.Tensor]:
    """f(z) and f′(z), the derivative taken by autograd through the `nn` module.

    Args:
        z: pre-activations, any shape.
    Returns:
        (f(z), f′(z)), both shaped like z, detached.
    """
    z = z.detach().clone().requires_grad_(True)
    f = module(name, alphas)(z)
    (df,) = torch.autograd.grad(f.sum(), z)
    return f.detach(), df


def closed_form_derivative(name: str, z: torch.Tensor, alphas: Alphas = Alphas()) -> torch.Tensor:
    """f′(z) from the written formula (course §3.2; GELU and SiLU from PyTorch's definitions)."""
    if name == "sigmoid":
        s = 1 / (1 + torch.exp(-z))
        return s * (1 - s)
    if name == "tanh":
        t = torch.tanh(z)
        return 1 - t**2
    if name == "relu":
        return (z > 0).to(z.dtype)
    if name == "leaky_relu":
        return torch.where(z > 0, torch.ones_like(z), torch.full_like(z, alphas.leaky))
    if name == "elu":
        return torch.where(z > 0, torch.ones_like(z), alphas.elu * torch.exp(z))
    if name == "gelu":  # GELU(z) = z·Φ(z)  ⇒  Φ(z) + z·φ(z)
        cdf = 0.5 * (1 + torch.erf(z / math.sqrt(2)))
        pdf = torch.exp(-0.5 * z**2) / math.sqrt(2 * math.pi)
        return cdf + z * pdf
    if name == "silu":  # SiLU(z) = z·σ(z)  ⇒  σ(z)·(1 + z·(1 − σ(z)))
        s = 1 / (1 + torch.exp(-z))
        return s * (1 + z * (1 - s))
    raise ValueError(f"unknown activation {name!r}; choose from {', '.join(FUNCTIONS)}")


def curves(names: tuple[str, ...], z_min: float, z_max: float, alphas: Alphas = Alphas(), n: int = 401) -> pd.DataFrame:
    """f, autograd f′ and closed-form f′ on an even grid, one row per (function, z).

    Returns:
        DataFrame with columns function, z, f, df_autograd, df_closed.
    """
    if not z_min < z_max:
        raise ValueError(f"the z range is empty: z_min={z_min} must be below z_max={z_max}")
    z = torch.linspace(z_min, z_max, n, dtype=_DTYPE)
    frames = []
    for name in names:
        f, df = autograd_derivative(name, z, alphas)
        frames.append(
            pd.DataFrame(
                {
                    "function": name,
                    "z": z.numpy(),
                    "f": f.numpy(),
                    "df_autograd": df.numpy(),
                    "df_closed": closed_form_derivative(name, z, alphas).numpy(),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def peak_derivative(name: str, alphas: Alphas = Alphas()) -> tuple[float, float]:
    """The largest f′(z) on a dense grid over [−20, 20] (z = 0 included), and where it is.

    Returns:
        (max f′, the z where it is reached). For ReLU-like functions the max is reached on a whole
        half-line; the smallest such z is returned.
    """
    z = torch.linspace(-20, 20, 40_001, dtype=_DTYPE)
    _, df = autograd_derivative(name, z, alphas)
    i = int(torch.argmax(df))
    return float(df[i]), float(z[i])


def _normal_cdf(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def saturation_edge(name: str, threshold: float) -> float:
    """The |z| beyond which f′(z) < threshold · max f′, for sigmoid and tanh.

    Sigmoid: σ(1 − σ) = c·¼  ⇒  σ = (1 + √(1 − c))/2, z = log(σ/(1 − σ)).
    Tanh:    1 − tanh² = c    ⇒  z = atanh(√(1 − c)).
    """
    if not 0 < threshold < 1:
        raise ValueError("threshold must be strictly between 0 and 1")
    if name == "sigmoid":
        s = (1 + math.sqrt(1 - threshold)) / 2
        return math.log(s / (1 - s))
    if name == "tanh":
        return math.atanh(math.sqrt(1 - threshold))
    raise ValueError(f"{name} has no closed-form saturation edge")


def formula_fractions(name: str, mu: float, sigma: float, threshold: float) -> tuple[float | None, float | None]:
    """Exact fractions of dead and saturated units for z ~ N(μ, σ²), where a formula exists.

    Dead (ReLU): P(z ≤ 0) = Φ(−μ/σ). Saturated (sigmoid, tanh): P(|z| > z_t) with z_t from
    `saturation_edge`. Returns (dead, saturated); None where the function has no such formula.
    """
    dead = _normal_cdf(-mu / sigma) if name in DYING else (0.0 if name in SATURATING else None)
    if name in SATURATING:
        edge = saturation_edge(name, threshold)
        saturated = _normal_cdf((-edge - mu) / sigma) + 1 - _normal_cdf((edge - mu) / sigma)
    elif name in DYING:
        saturated = 0.0
    else:
        saturated = None
    return dead, saturated


def sampled_fractions(
    name: str, mu: float, sigma: float, threshold: float, alphas: Alphas = Alphas(), n: int = 200_000, seed: int = 0
) -> tuple[float, float, float]:
    """Fractions measured on n pre-activations z ~ N(μ, σ²) with autograd derivatives.

    Returns:
        (dead: f′ = 0, saturated: 0 < f′ < threshold · max f′, mean f′).
    """
    z = mu + sigma * torch.randn(n, generator=generator(seed), dtype=_DTYPE)
    _, df = autograd_derivative(name, z, alphas)
    peak, _ = peak_derivative(name, alphas)
    dead = float((df == 0).double().mean())
    saturated = float(((df > 0) & (df < threshold * peak)).double().mean())
    return dead, saturated, float(df.mean())


def expected_derivative(name: str, mu: float, sigma: float, alphas: Alphas = Alphas(), n: int = 200_000) -> float:
    """E[f′(z)] for z ~ N(μ, σ²), by quadrature over μ ± 10σ with autograd derivatives.

    An even n keeps z = μ off the nodes, so a jump of f′ at μ (ReLU with μ = 0) is split evenly.
    """
    u = torch.linspace(-10, 10, n, dtype=_DTYPE)
    weights = torch.exp(-0.5 * u**2)
    weights = weights / weights.sum()
    _, df = autograd_derivative(name, mu + sigma * u, alphas)
    return float((weights * df).sum())


@dataclass(frozen=True)
class UnitStats:
    """What one activation does to the gradient of a unit whose pre-activation is z ~ N(μ, σ²)."""

    function: str
    max_df: float  # max f′ over z (autograd, dense grid)
    argmax_z: float  # where it is reached
    mean_df: float  # E[f′(z)] by quadrature
    dead: float  # measured share with f′ = 0
    saturated: float  # measured share with 0 < f′ < threshold · max f′
    dead_formula: float | None  # exact share, where a formula exists (ReLU; 0 for sigmoid and tanh)
    saturated_formula: float | None  # exact share, where a formula exists (sigmoid, tanh; 0 for ReLU)
    n_samples: int  # sample size behind the measured shares


def relevant_alphas(name: str, alphas: Alphas) -> Alphas:
    """Only the α a function uses, so results for the others do not depend on the α sliders."""
    if name == "leaky_relu":
        return Alphas(leaky=alphas.leaky)
    if name == "elu":
        return Alphas(elu=alphas.elu)
    return Alphas()


def unit_stats(
    name: str, alphas: Alphas, mu: float, sigma: float, threshold: float = 0.1, seed: int = 0, n_samples: int = 200_000
) -> UnitStats:
    """Peak and mean derivative, and the dead and saturated shares, measured and by formula."""
    if sigma <= 0:
        raise ValueError("the spread σ must be positive")
    alphas = relevant_alphas(name, alphas)
    peak, at = peak_derivative(name, alphas)
    dead, saturated, _ = sampled_fractions(name, mu, sigma, threshold, alphas, n_samples, seed)
    dead_f, saturated_f = formula_fractions(name, mu, sigma, threshold)
    mean = expected_derivative(name, mu, sigma, alphas)
    return UnitStats(name, peak, at, mean, dead, saturated, dead_f, saturated_f, n_samples)


def depth_products(stats: list[UnitStats], depth: int) -> pd.DataFrame:
    """How the product of derivatives along a path grows or shrinks over 1..depth layers.

    best: every unit at the peak of f′, (max f′)^L, the course's argument for sigmoid (0.25^L).
    mean: every layer's pre-activation drawn independently from N(μ, σ²): E[∏ f′] = (E[f′])^L.

    Returns:
        DataFrame with columns function, layers, best, mean.
    """
    layers = torch.arange(1, depth + 1, dtype=_DTYPE)
    frames = [
        pd.DataFrame(
            {"function": s.function, "layers": layers.int().numpy(),
             "best": (s.max_df**layers).numpy(), "mean": (s.mean_df**layers).numpy()}
        )
        for s in stats
    ]
    return pd.concat(frames, ignore_index=True)


def summary(stats: list[UnitStats], depth: int) -> pd.DataFrame:
    """One row per function: max_df, mean_df, dead, saturated and the mean product at `depth`."""
    return pd.DataFrame(
        {
            "function": [s.function for s in stats],
            "max_df": [s.max_df for s in stats],
            "mean_df": [s.mean_df for s in stats],
            "dead": [s.dead for s in stats],
            "saturated": [s.saturated for s in stats],
            "product": [s.mean_df**depth for s in stats],
        }
    )


def sampling_tolerance(p: float, n: int) -> float:
    """How far a fraction measured on n samples may sit from the truth: 4 standard errors + 1e-4."""
    return 4 * math.sqrt(max(p * (1 - p), 1e-12) / n) + 1e-4


_KNOWN_PEAKS = {"sigmoid": ("σ′(0) = 1/4", 0.25), "tanh": ("tanh′(0) = 1", 1.0)}


def checks(curve_table: pd.DataFrame, stats: list[UnitStats], z_min: float, z_max: float) -> list[Check]:
    """The page's checks: closed-form f′ vs autograd on the plotted grid, the course's peak values, and
    the formula shares of dead and saturated units vs those measured on the sample."""
    out = []
    for s in stats:
        label = LABELS[s.function]
        grid = curve_table[curve_table.function == s.function]
        out.append(
            Check(
                f"{label}: f′ on {len(grid)} points in [{z_min:g}, {z_max:g}] (largest value; max |difference| over all)",
                float(grid.df_closed.max()),
                float(grid.df_autograd.max()),
                1e-6,
                error=float((grid.df_autograd - grid.df_closed).abs().max()),
            )
        )
        if s.function in _KNOWN_PEAKS:
            text, value = _KNOWN_PEAKS[s.function]
            out.append(Check(f"{label}: {text}, the course's peak", value, s.max_df, 1e-9))
        if s.function in DYING:
            out.append(Check(f"{label}: dead share Φ(−μ/σ) vs measured", s.dead_formula, s.dead,
                             sampling_tolerance(s.dead_formula, s.n_samples)))
        if s.function in SATURATING:
            out.append(Check(f"{label}: saturated share P(|z| > z_t) vs measured", s.saturated_formula, s.saturated,
                             sampling_tolerance(s.saturated_formula, s.n_samples)))
    return out
