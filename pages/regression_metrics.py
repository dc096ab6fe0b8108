"""Regression metrics: MSE, RMSE, MAE, MAPE and R² (course §11.4) of a real seasonal-naive forecast of the
bundled electricity series, by torchmetrics beside the formulas, and what outliers and near-zero targets do."""
import streamlit as st

from core import charts
from core import regression_metrics as rm
from core.snippets import regression_metrics as snippet
from ui import classroom, controls, panels


@st.cache_data(max_entries=128, show_spinner=False)
def measure(outliers, outlier_size, near_zero):
    return rm.view(outliers, outlier_size, near_zero)


st.title("Regression metrics")
st.caption(
    f"The last {rm.SPAN_DAYS} days of the bundled 15-minute electricity series and a seasonal-naive forecast of it: "
    "each reading predicted by the reading at the same time one day earlier, the baseline any forecaster must beat."
)

with st.sidebar:
    st.header("Outliers")
    outliers = controls.slider("Spiked readings", "reg_outliers", 0, rm.MAX_OUTLIERS, 0,
                               help="Readings that jump after the forecast was made, like a glitching meter.")
    outlier_size = controls.slider("Spike size (kW)", "reg_outlier_size", 0.0, 200.0, 50.0, step=5.0)
    st.header("Near-zero targets")
    near_zero = controls.select_slider("Subtract this share of the smallest reading", "reg_near_zero", rm.NEAR_ZERO_STEPS, 0.0,
                                       lambda f: f"{100 * f:g}%", help="The same base load comes off every actual and forecast value.")

v = measure(outliers, outlier_size, near_zero)

classroom.chart(charts.forecast_span(v.timestamp, v.actual, v.forecast, v.outliers), key="reg_forecast")
st.dataframe(rm.table(v), hide_index=True, width="stretch", column_config={
    "this span": st.column_config.NumberColumn(format="%.4f"), "clean span": st.column_config.NumberColumn(format="%.4f"),
    "× clean": st.column_config.NumberColumn(format="%.2f ×")})
st.caption(
    "Every value by torchmetrics (MeanSquaredError, MeanSquaredError(squared=False), MeanAbsoluteError, "
    "MeanAbsolutePercentageError × 100, R2Score). *Clean span*: the same forecast with no spikes and no shift."
)
if outliers and outlier_size:
    st.markdown(f"**Outliers.** {outliers} spiked readings of {outlier_size:g} kW ({outliers} of {len(v.actual)} readings) "
                f"multiply MSE by {v.vs_clean('MSE'):.2f} but MAE by {v.vs_clean('MAE'):.2f}: squaring makes one large error count like many small ones.")
if near_zero:
    st.markdown(f"**Near zero.** Subtracting {v.shift:.2f} kW from both series leaves every error y − ŷ as it was, so MSE, RMSE, MAE "
                f"and R² do not move; the smallest target is now {v.actual.min():.3g} kW and MAPE, which divides by it, is "
                f"{v.vs_clean('MAPE'):.1f} × its clean value.")

st.subheader("Which readings each metric listens to")
classroom.chart(charts.error_shares(v.errors), key="reg_shares")
st.caption("Each reading's share of the sum behind a metric. Spikes dominate the squared errors; readings near zero dominate "
           "the percentage errors; the absolute errors stay the most even.")

with panels.math_panel("reg"):
    n, f, s = len(v.actual), v.formula, v.sums
    st.markdown(f"Course §11.4, over the n = {n} readings of the span (y actual, ŷ forecast):")
    st.latex(rf"MSE = \frac{{1}}{{n}}\sum_i (y_i - \hat{{y}}_i)^2 = \frac{{{s['squared']:.2f}}}{{{n}}} = {f['MSE']:.4f}\ \text{{kW}}^2, \qquad RMSE = \sqrt{{MSE}} = {f['RMSE']:.4f}\ \text{{kW}}")
    st.latex(rf"MAE = \frac{{1}}{{n}}\sum_i |y_i - \hat{{y}}_i| = \frac{{{s['absolute']:.2f}}}{{{n}}} = {f['MAE']:.4f}\ \text{{kW}}")
    st.latex(rf"MAPE = \frac{{100\%}}{{n}}\sum_i \left|\frac{{y_i - \hat{{y}}_i}}{{y_i}}\right| = \frac{{100\%}}{{{n}}} \cdot {s['relative']:.3f} = {f['MAPE']:.3f}\%")
    st.latex(rf"R^2 = 1 - \frac{{SS_{{res}}}}{{SS_{{tot}}}} = 1 - \frac{{{s['squared']:.1f}}}{{{s['total']:.1f}}} = {f['R²']:.4f}")
    st.markdown("torchmetrics' MeanAbsolutePercentageError divides by max(|y_i|, 1.17·10⁻⁶) and returns a fraction; the page "
                "multiplies it by 100. Its R2Score is the course's formula.")

panels.check_panel("reg", rm.checks(v), note="Both sides in float64; a relative difference of 1e-9 passes.")
panels.code_panel("reg", snippet.code(outliers, outlier_size, near_zero), "regression_metrics.py")
