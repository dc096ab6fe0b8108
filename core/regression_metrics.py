"""Regression metrics (course §11.4) on a real forecast: MSE, RMSE, MAE, MAPE and R² by their formulas and
by torchmetrics, and what outliers and near-zero targets do to each.

The data: the last three days of the bundled 15-minute electricity series (core.data.electricity_frame).
The forecast: seasonal-naive, ŷ_t = y_{t−96}, the reading at the same time one day earlier; the baseline
any forecaster of this series has to beat. Two stress tests act on the span, never on the forecast's inputs:
spikes added to some readings after the forecast was made (meter glitches), and a shift that subtracts the
same amount from every actual and forecast value (consumption above a base load), taking the targets towards
zero: MSE, RMSE, MAE and R² do not change under it, MAPE does.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torchmetrics.regression import MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredError, R2Score

from core.checks import Check
from core.data import STEPS_PER_DAY, electricity_frame
from core.rng import generator

#: The near-zero stress test's steps: the share of the smallest reading subtracted from every value.
NEAR_ZERO_STEPS: tuple[float, ...] = (0.0, 0.5, 0.75, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999)
SPAN_DAYS = 3
SPAN = SPAN_DAYS * STEPS_PER_DAY  # 288 readings
MAX_OUTLIERS = 20
METRICS: tuple[str, ...] = ("MSE", "RMSE", "MAE", "MAPE", "R²")
UNITS = {"MSE": "kW²", "RMSE": "kW", "MAE": "kW", "MAPE": "%", "R²": ""}


def seasonal_naive_span(days: int = SPAN_DAYS) -> pd.DataFrame:
    """The last `days` days of the series and their seasonal-naive forecast.

    Returns:
        DataFrame with columns timestamp, actual, forecast (kW), days·96 rows; forecast[t] = actual one day earlier.
    """
    df = electricity_frame()
    values = df["consumption"].to_numpy(dtype=np.float64)
    n = days * STEPS_PER_DAY
    if len(values) < n + STEPS_PER_DAY:
        raise ValueError(f"the series has {len(values)} readings; {days} days and one before them need {n + STEPS_PER_DAY}")
    return pd.DataFrame({"timestamp": df["timestamp"].iloc[-n:].to_numpy(), "actual": values[-n:],
                         "forecast": values[-n - STEPS_PER_DAY : -STEPS_PER_DAY]})


def outlier_positions(count: int, seed: int = 0, n: int = SPAN) -> np.ndarray:
    """`count` distinct readings to spike; one seeded permutation, so more outliers only ever add positions."""
    if not 0 <= count <= n:
        raise ValueError(f"the outlier count must be between 0 and {n}")
    return torch.randperm(n, generator=generator(seed))[:count].sort().values.numpy()


def sums(y: np.ndarray, y_hat: np.ndarray) -> dict[str, float]:
    """The sums inside the formulas: Σ(y − ŷ)² (SS_res), Σ|y − ŷ|, Σ|(y − ŷ)/y| and Σ(y − ȳ)² (SS_tot)."""
    err = y - y_hat
    return {"squared": float((err**2).sum()), "absolute": float(np.abs(err).sum()),
            "relative": float(np.abs(err / y).sum()), "total": float(((y - y.mean()) ** 2).sum())}


def formula_metrics(y: np.ndarray, y_hat: np.ndarray) -> dict[str, float]:
    """The course's formulas (§11.4), written out in float64 sums."""
    n, s = len(y), sums(y, y_hat)
    mse = s["squared"] / n
    return {"MSE": mse, "RMSE": math.sqrt(mse), "MAE": s["absolute"] / n, "MAPE": 100 / n * s["relative"],
            "R²": 1 - s["squared"] / s["total"]}


def torchmetrics_metrics(y: np.ndarray, y_hat: np.ndarray) -> dict[str, float]:
    """torchmetrics' MeanSquaredError (squared and not), MeanAbsoluteError, MeanAbsolutePercentageError (× 100) and R2Score."""
    target, preds = torch.tensor(y, dtype=torch.float64), torch.tensor(y_hat, dtype=torch.float64)
    metrics = {"MSE": MeanSquaredError(), "RMSE": MeanSquaredError(squared=False), "MAE": MeanAbsoluteError(),
               "MAPE": MeanAbsolutePercentageError(), "R²": R2Score()}
    with torch.inference_mode():
        out = {name: float(metric.set_dtype(torch.float64)(preds, target)) for name, metric in metrics.items()}
    out["MAPE"] *= 100  # torchmetrics returns a fraction
    return out


@dataclass(frozen=True)
class RegressionView:
    """The span after the stress tests, and every metric on it."""

    timestamp: np.ndarray  # (n,) datetime64
    actual: np.ndarray  # (n,) kW, with spikes and shift applied
    forecast: np.ndarray  # (n,) kW, with the shift applied
    outliers: np.ndarray  # indices of the spiked readings
    shift: float  # kW subtracted from every actual and forecast value
    formula: dict[str, float]
    torchmetrics: dict[str, float]
    clean: dict[str, float]  # torchmetrics on the unmodified span
    sums: dict[str, float]  # the sums inside the formulas (see `sums`)

    def vs_clean(self, metric: str) -> float:
        """This span's value over the clean span's."""
        return self.torchmetrics[metric] / self.clean[metric]

    @property
    def errors(self) -> pd.DataFrame:
        """Each reading's share of Σ(y − ŷ)², Σ|y − ŷ| and Σ|y − ŷ|/|y|: which readings each metric listens to."""
        err = self.actual - self.forecast
        parts = {"squared error": err**2, "absolute error": np.abs(err), "absolute % error": np.abs(err / self.actual)}
        return pd.DataFrame({"timestamp": self.timestamp, **{k: v / v.sum() for k, v in parts.items()}})


def view(outliers: int = 0, outlier_size: float = 40.0, near_zero: float = 0.0, seed: int = 0) -> RegressionView:
    """The span with `outliers` spikes of `outlier_size` kW, then both series shifted down by `near_zero` × the
    smallest actual reading (consumption above a base load).

    Args:
        near_zero: in [0, 1): 0 leaves the series alone; 0.99 brings the smallest target to 1% of itself.
    """
    if not 0 <= near_zero < 1:
        raise ValueError("near_zero must be in [0, 1)")
    span = seasonal_naive_span()
    clean_y, clean_f = span["actual"].to_numpy(), span["forecast"].to_numpy()
    index = outlier_positions(outliers, seed)
    y = clean_y.copy()
    y[index] += outlier_size
    shift = near_zero * float(clean_y.min())
    y, f = y - shift, clean_f - shift
    return RegressionView(timestamp=span["timestamp"].to_numpy(), actual=y, forecast=f, outliers=index, shift=shift,
                          formula=formula_metrics(y, f), torchmetrics=torchmetrics_metrics(y, f),
                          clean=torchmetrics_metrics(clean_y, clean_f), sums=sums(y, f))


def table(v: RegressionView) -> pd.DataFrame:
    """Per metric: torchmetrics on this span, on the clean span, and the ratio between them."""
    return pd.DataFrame({
        "metric": list(METRICS), "unit": [UNITS[m] for m in METRICS],
        "this span": [v.torchmetrics[m] for m in METRICS], "clean span": [v.clean[m] for m in METRICS],
        "× clean": [v.torchmetrics[m] / v.clean[m] if v.clean[m] else math.nan for m in METRICS],
    })


def checks(v: RegressionView) -> list[Check]:
    """Each metric by the course's formula against torchmetrics, relative tolerance 1e-9 (both float64)."""
    return [Check(f"{m}: course formula vs torchmetrics", v.formula[m], v.torchmetrics[m], 1e-9 * max(1.0, abs(v.formula[m])))
            for m in METRICS]
