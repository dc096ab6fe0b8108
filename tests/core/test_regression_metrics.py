"""The Regression metrics page's math against torchmetrics and plain torch: the course's five formulas over the
stress tests' whole range, the seasonal-naive forecast, and what outliers and a shift toward zero do."""
import itertools

import numpy as np
import plotly.graph_objects as go
import pytest
import torch
import torch.nn.functional as F

from core import charts
from core import regression_metrics as rm
from core.data import STEPS_PER_DAY, electricity_frame

SETTINGS = list(itertools.product([0, 1, 7, rm.MAX_OUTLIERS], [0.0, 35.0, 200.0], rm.NEAR_ZERO_STEPS[::2]))


@pytest.mark.parametrize("outliers, size, near_zero", SETTINGS)
def test_formulas_match_torchmetrics_everywhere(outliers, size, near_zero):
    v = rm.view(outliers, size, near_zero)
    assert all(c.passed for c in rm.checks(v)), [c for c in rm.checks(v) if not c.passed]


@pytest.mark.parametrize("outliers, size, near_zero", SETTINGS[::5])
def test_formulas_match_plain_torch(outliers, size, near_zero):
    """Guards against a formula and torchmetrics that share a mistake."""
    v = rm.view(outliers, size, near_zero)
    y, y_hat = torch.tensor(v.actual), torch.tensor(v.forecast)
    assert v.formula["MSE"] == pytest.approx(F.mse_loss(y_hat, y).item(), rel=1e-12)
    assert v.formula["MAE"] == pytest.approx(F.l1_loss(y_hat, y).item(), rel=1e-12)
    assert v.formula["R²"] == pytest.approx(1 - F.mse_loss(y_hat, y).item() / y.var(unbiased=False).item(), rel=1e-9)
    assert v.formula["MAPE"] == pytest.approx(100 * ((y - y_hat) / y).abs().mean().item(), rel=1e-12)


def test_the_forecast_is_the_reading_one_day_earlier():
    span = rm.seasonal_naive_span()
    series = electricity_frame()["consumption"].to_numpy()
    assert len(span) == rm.SPAN == 288
    assert np.array_equal(span["actual"], series[-288:])
    assert np.array_equal(span["forecast"], series[-288 - STEPS_PER_DAY : -STEPS_PER_DAY])
    assert np.array_equal(span["forecast"].iloc[STEPS_PER_DAY:], span["actual"].iloc[:-STEPS_PER_DAY])
    assert (span["timestamp"].diff().dropna() == np.timedelta64(15, "m")).all()


def test_a_shift_toward_zero_moves_only_mape():
    clean = rm.view(3, 60.0, 0.0)
    mape = []
    for near_zero in rm.NEAR_ZERO_STEPS:
        v = rm.view(3, 60.0, near_zero)
        for m in ("MSE", "RMSE", "MAE", "R²"):
            assert v.torchmetrics[m] == pytest.approx(clean.torchmetrics[m], rel=1e-9, abs=1e-12)
        mape.append(v.torchmetrics["MAPE"])
    assert mape == sorted(mape) and mape[-1] > 5 * mape[0]
    v = rm.view(0, 0.0, 0.99)
    assert v.actual.min() == pytest.approx(0.01 * rm.seasonal_naive_span()["actual"].min(), rel=1e-9)


def test_outliers_weigh_more_in_squared_than_in_absolute_errors():
    previous = rm.view(0)
    for count in (1, 5, 20):
        v = rm.view(count, 80.0)
        assert v.vs_clean("MSE") > v.vs_clean("RMSE") > 1 and v.vs_clean("MSE") > v.vs_clean("MAE") > 1
        assert v.torchmetrics["MSE"] > previous.torchmetrics["MSE"]
        previous = v
    assert np.array_equal(rm.view(0).actual, rm.view(5, 0.0).actual)  # a 0 kW spike changes nothing


def test_outlier_positions_are_seeded_and_nested():
    assert set(rm.outlier_positions(5)) <= set(rm.outlier_positions(12))
    assert np.array_equal(rm.outlier_positions(8, seed=0), rm.outlier_positions(8, seed=0))
    assert not np.array_equal(rm.outlier_positions(8, seed=0), rm.outlier_positions(8, seed=1))
    assert len(set(rm.outlier_positions(rm.MAX_OUTLIERS))) == rm.MAX_OUTLIERS


def test_error_shares_sum_to_one_and_point_at_the_spikes():
    v = rm.view(4, 150.0)
    shares = v.errors
    assert np.allclose(shares[["squared error", "absolute error", "absolute % error"]].sum(), 1.0)
    top = set(shares["squared error"].nlargest(4).index)
    assert top == set(v.outliers)


def test_a_wrong_formula_fails_its_check():
    v = rm.view(2, 40.0, 0.5)
    wrong = rm.RegressionView(**{**v.__dict__, "formula": {**v.formula, "MAPE": v.formula["MAPE"] / 100}})  # forgot the 100 %
    assert [c.passed for c in rm.checks(wrong)] == [True, True, True, False, True]


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        rm.view(near_zero=1.0)
    with pytest.raises(ValueError):
        rm.outlier_positions(-1)


def test_charts_are_valid():
    v = rm.view(3, 50.0, 0.9)
    fig = go.Figure(charts.forecast_span(v.timestamp, v.actual, v.forecast, v.outliers).to_dict())
    assert len(fig.data) == 3
    shares = go.Figure(charts.error_shares(v.errors).to_dict())
    assert len(shares.data) == 3
