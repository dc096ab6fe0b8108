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


def expected_derivative(name: str, mu: float, sigma: float, alphas: Alphas = Alphas(), n: int = 20_000) -> float:
    """E[f′(z)] for z ~ N(μ, σ²), by quadrature over μ ± 10σ with autograd derivatives.

    An even n keeps z = μ off the nodes, so a jump of f′ at μ (ReLU with μ = 0) is split evenly.
    """
    u = torch.linspace(-10, 10, n, dtype=_DTYPE)
    weights = torch.exp(-0.5 * u**2)
    weights = weights / weights.sum()
    _, df = autograd_derivative(name, mu + sigma * u, alphas)
    return float((weights * df).sum())


def depth_products(names: tuple[str, ...], depth: int, mu: float, sigma: float, alphas: Alphas = Alphas()) -> pd.DataFrame:
    """How the product of derivatives along a path grows or shrinks over 1..depth layers.

    best: every unit at the peak of f′, (max f′)^L, the course's argument for sigmoid (0.25^L).
    mean: every layer's pre-activation drawn independently from N(μ, σ²): E[∏ f′] = (E[f′])^L.

    Returns:
        DataFrame with columns function, layers, best, mean.
    """
    layers = torch.arange(1, depth + 1, dtype=_DTYPE)
    rows = []
    for name in names:
        peak, _ = peak_derivative(name, alphas)
        mean = expected_derivative(name, mu, sigma, alphas)
        rows.append(
            pd.DataFrame(
                {"function": name, "layers": layers.int().numpy(), "best": (peak**layers).numpy(), "mean": (mean**layers).numpy()}
            )
        )
    return pd.concat(rows, ignore_index=True)


@dataclass(frozen=True)
class Report:
    """Everything the Activations page shows, for one setting of its controls."""

    curves: pd.DataFrame  # function, z, f, df_autograd, df_closed
    depth: pd.DataFrame  # function, layers, best, mean
    summary: pd.DataFrame  # one row per function; see `analyse`
    n_samples: int  # size of the Monte Carlo sample behind the measured fractions


def analyse(
    names: tuple[str, ...],
    z_min: float,
    z_max: float,
    alphas: Alphas,
    mu: float,
    sigma: float,
    depth: int,
    threshold: float = 0.1,
    seed: int = 0,
    n_samples: int = 200_000,
) -> Report:
    """All of the page's numbers for the chosen functions.

    summary columns: function, max_df, argmax_z, mean_df, dead, saturated (measured), dead_formula,
    saturated_formula (None where no formula), max_abs_error (autograd vs closed form on the grid),
    product (the mean product at the chosen depth).
    """
    if sigma <= 0:
        raise ValueError("the spread σ must be positive")
    table = curves(names, z_min, z_max, alphas)
    products = depth_products(names, depth, mu, sigma, alphas)
    rows = []
    for name in names:
        peak, at = peak_derivative(name, alphas)
        dead, saturated, _ = sampled_fractions(name, mu, sigma, threshold, alphas, n_samples, seed)
        dead_f, saturated_f = formula_fractions(name, mu, sigma, threshold)
        grid = table[table.function == name]
        rows.append(
            {
                "function": name,
                "max_df": peak,
                "argmax_z": at,
                "mean_df": expected_derivative(name, mu, sigma, alphas),
                "dead": dead,
                "saturated": saturated,
                "dead_formula": dead_f,
                "saturated_formula": saturated_f,
                "max_abs_error": float((grid.df_autograd - grid.df_closed).abs().max()),
                "product": float(products[products.function == name]["mean"].iloc[-1]),
            }
        )
    return Report(table, products, pd.DataFrame(rows), n_samples)


def sampling_tolerance(p: float, n: int) -> float:
    """How far a fraction measured on n samples may sit from the truth: 4 standard errors + 1e-4."""
    return 4 * math.sqrt(max(p * (1 - p), 1e-12) / n) + 1e-4


_KNOWN_PEAKS = {"sigmoid": ("σ′(0) = 1/4", 0.25), "tanh": ("tanh′(0) = 1", 1.0)}


def checks(report: Report, z_min: float, z_max: float) -> list[Check]:
    """The page's checks: closed-form f′ vs autograd on the grid, the course's peak values, and the
    formula fractions of dead and saturated units vs those measured on the sample."""
    out = []
    n_grid = int((report.curves.function == report.curves.function.iloc[0]).sum())
    for row in report.summary.itertuples():
        label = LABELS[row.function]
        grid = report.curves[report.curves.function == row.function]
        out.append(
            Check(
                f"{label}: f′ on {n_grid} points in [{z_min:g}, {z_max:g}] (largest value; max |difference| over all)",
                float(grid.df_closed.max()),
                float(grid.df_autograd.max()),
                1e-6,
                error=row.max_abs_error,
            )
        )
        if row.function in _KNOWN_PEAKS:
            text, value = _KNOWN_PEAKS[row.function]
            out.append(Check(f"{label}: {text}, the course's peak", value, row.max_df, 1e-9))
        if row.function in DYING:
            out.append(
                Check(f"{label}: dead fraction Φ(−μ/σ) vs measured", row.dead_formula, row.dead,
                      sampling_tolerance(row.dead_formula, report.n_samples))
            )
        if row.function in SATURATING:
            out.append(
                Check(f"{label}: saturated fraction P(|z| > z_t) vs measured", row.saturated_formula, row.saturated,
                      sampling_tolerance(row.saturated_formula, report.n_samples))
            )
    return out
