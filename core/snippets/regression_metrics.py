"""The Regression metrics page's view as a standalone PyTorch + torchmetrics script."""
from __future__ import annotations

from core import regression_metrics
from core.data import STEPS_PER_DAY


def code(outliers: int, outlier_size: float, near_zero: float, seed: int = 0) -> str:
    """A script with the span's readings written in, that applies the page's stress tests and prints every metric."""
    span = regression_metrics.seasonal_naive_span()
    readings = [*span["forecast"].iloc[:STEPS_PER_DAY], *span["actual"]]  # the day before the span, then the span
    rows = ",\n    ".join(", ".join(f"{x:g}" for x in readings[i : i + 12]) for i in range(0, len(readings), 12))
    return f'''import torch
from torchmetrics.regression import MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredError, R2Score

# The bundled electricity series (kW, every 15 minutes): the last {regression_metrics.SPAN_DAYS} days and the day before them
series = torch.tensor([
    {rows},
], dtype=torch.float64)
y = series[{STEPS_PER_DAY}:].clone()          # the span's actual readings
y_hat = series[:-{STEPS_PER_DAY}].clone()     # seasonal-naive forecast: the reading one day (96 steps) earlier

# Stress test 1: spikes in {outliers} readings (meter glitches), added after the forecast was made
g = torch.Generator().manual_seed({seed})
spiked = torch.randperm(len(y), generator=g)[:{outliers}]
y[spiked] += {outlier_size}

# Stress test 2: subtract the same base load from actual and forecast, {near_zero} x the smallest reading
shift = {near_zero} * series[{STEPS_PER_DAY}:].min()
y, y_hat = y - shift, y_hat - shift

metrics = {{"MSE": MeanSquaredError(), "RMSE": MeanSquaredError(squared=False), "MAE": MeanAbsoluteError(),
           "MAPE": MeanAbsolutePercentageError(), "R2": R2Score()}}
values = {{name: metric.set_dtype(torch.float64)(y_hat, y).item() for name, metric in metrics.items()}}
values["MAPE"] *= 100                          # torchmetrics returns a fraction
print("torchmetrics: " + " ".join(f"{{k}}={{v:.10g}}" for k, v in values.items()))

err = y - y_hat                                # the course's formulas (section 11.4)
mse = (err ** 2).mean().item()
print(f"formula: MSE={{mse:.10g}} RMSE={{mse ** 0.5:.10g}} MAE={{err.abs().mean().item():.10g}} "
      f"MAPE={{100 * (err / y).abs().mean().item():.10g}} R2={{1 - (err ** 2).sum().item() / ((y - y.mean()) ** 2).sum().item():.10g}}")
'''
