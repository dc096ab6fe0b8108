"""Sequences & windowing: the course's create_sequences (§7.2) with a horizon and a stride on the bundled series,
a temporal split against a random one with the same small forecaster trained both ways (§7.3), and the
(N, T) → (N, T, 1) reshape an RNN needs (§11.2)."""
import numpy as np
import pandas as pd
import streamlit as st

from core import charts, uploads, windowing
from core.data import electricity_frame
from core.snippets import sequences as snippet
from ui import classroom, controls, panels

SPLIT_HELP = ("Which split colours the targets in the zoom and whose model draws the prediction there. "
              "The comparison below always trains and scores both.")


@st.cache_data(max_entries=1, show_spinner=False)
def bundled():
    frame = electricity_frame()
    return frame["timestamp"].to_numpy(), frame["consumption"].to_numpy(dtype=np.float64)


@st.cache_resource(max_entries=16, show_spinner=False)
def windowed(values, window, horizon, stride):
    return windowing.windows(values, window, horizon, stride)  # read-only: shared, not copied on every rerun


@st.cache_data(max_entries=64, show_spinner=False)
def leaks(values, window, horizon, stride, seed):
    return windowing.overlaps(windowed(values, window, horizon, stride), seed)


@st.cache_data(max_entries=64, show_spinner="Training the forecaster on this split (a second or two)…")
def trained(values, window, horizon, stride, split, seed):
    return windowing.fit(values, window, horizon, stride, split, seed)


@st.cache_data(max_entries=64, show_spinner=False)
def pitfall(values, window, horizon, stride):
    w = windowed(values, window, horizon, stride)
    return windowing.shape_pitfall(w.X, w.y)


@st.cache_data(max_entries=64, show_spinner=False)
def check_list(values, window, horizon, stride, seed, with_fits):
    fits = {name: trained(values, window, horizon, stride, name, seed) for name in windowing.SPLITS} if with_fits else None
    return windowing.checks(values, windowed(values, window, horizon, stride), leaks(values, window, horizon, stride, seed),
                            pitfall(values, window, horizon, stride), fits)


def remember(key) -> None:
    st.session_state.setdefault("seq_trained", set()).add(key)


def when(x, i: int) -> str:
    """A reading as the reader sees it: its time of day for the bundled series, its index for an upload."""
    return pd.Timestamp(x[i]).strftime("%a %d %b %H:%M") if np.issubdtype(x.dtype, np.datetime64) else f"t = {i}"


st.title("Sequences & windowing")
st.caption("The course's `create_sequences` on the bundled electricity series: 12 weeks of 15-minute readings of an office "
           "building's consumption (generated: daily and weekly rhythm, a slow drift, noise), 96 readings a day.")

with st.sidebar:
    st.header("Windows")
    window = controls.slider("Window length L (readings)", "seq_window", 1, 672, 96,
                             help="96 readings are one day, 672 one week.")
    horizon = controls.slider("Horizon h (readings ahead)", "seq_horizon", 1, 96, 4,
                              help="The target is the h-th reading after the window's last input; h = 1 is the course's next value.")
    stride = controls.slider("Stride s (readings between window starts)", "seq_stride", 1, 96, 1,
                             help="s = 1 is the course's sliding window: every reading starts a window.")
    position = controls.slider("Window shown: starts at reading t", "seq_position", 0, windowing.MAX_LENGTH - 1, 2016,
                               help="The zoom shows window i = ⌊t/s⌋, which starts at i·s.")
    st.header("Split")
    split_shown = controls.radio("Split shown in the zoom", "seq_split", windowing.SPLITS, "temporal", help=SPLIT_HELP)
    seed = controls.number_input("Seed", "seq_seed", 0, 9999, 0,
                                 help="Draws the random split, the forecaster's initial weights and its batch order.")

x, values, y_title, source = *bundled(), "consumption (kW)", None
with st.expander("Use your own series (CSV)", key="seq_show_upload"):
    upload = st.file_uploader("A CSV file (UTF-8) with a numeric column", type=["csv"], key="seq_upload")
    if upload is not None:
        try:
            frame = uploads.read_csv(upload.getvalue())
            column = st.selectbox("Value column", list(frame.columns), index=len(frame.columns) - 1, key="seq_upload_column")
            own = uploads.series(frame, column, window + horizon)
            if len(own) > windowing.MAX_LENGTH:
                st.info(f"The series has {len(own):,} values; the page uses its first {windowing.MAX_LENGTH:,}.")
            values = own["value"].to_numpy(dtype=np.float64)[: windowing.MAX_LENGTH]
            x, y_title, source = np.arange(len(values)), f"{column}", (upload.name, str(column))
            st.success(f"{len(values):,} readings of `{column}` replace the bundled series on this page.")
        except uploads.UploadError as err:
            st.error(f"{err} The page keeps the bundled series.", icon=":material/error:")

n = len(values)
w = windowed(values, window, horizon, stride)
i = min(position // stride, w.count - 1)
start, target = i * stride, i * stride + window + horizon - 1

st.subheader("Windows: inputs, target, and how many there are")
cols = st.columns(4)
cols[0].metric("N readings", f"{n:,}")
cols[1].metric("M windows", f"{w.count:,}")
cols[2].metric("X (inputs)", f"({w.count:,}, {window})")
cols[3].metric("y (targets)", f"({w.count:,},)")

overlap = leaks(values, window, horizon, stride, seed)
setting = (source or "bundled", window, horizon, stride, seed)
fits, problem = {}, None
if setting in st.session_state.get("seq_trained", set()):
    try:
        fits = {name: trained(values, window, horizon, stride, name, seed) for name in windowing.SPLITS}
    except ValueError as err:
        problem = f"The splits cannot be compared at these settings: {err}. A smaller window, horizon or stride leaves more windows."
shown = fits.get(split_shown)
shown_split = overlap[split_shown].split
lo, hi = windowing.zoom(n, start, window, horizon)
starts, low, high = windowing.envelope(values)
cut = shown_split.cut  # the temporal split's first test reading, round(0.8 N)
classroom.chart(charts.series_overview(x, starts, low, high, (lo, hi), cut if split_shown == "temporal" else None, y_title),
                key="seq_overview")
span_targets, roles = shown_split.in_span(w, lo, hi)
classroom.chart(charts.window_view(x, values, (lo, hi), start, window, horizon, stride, span_targets, roles,
                                   float(shown.predictions[i]) if shown else None, split_shown,
                                   cut if split_shown == "temporal" else None, y_title), key="seq_window_view")
role = {0: "a training window", 1: "a test window", -1: "left out: its inputs are in training time, its target in test time"}
st.markdown(f"**Window i = {i:,}** of {w.count:,}: inputs `X[{i}]` are readings {start:,} to {start + window - 1:,} "
            f"({when(x, start)} to {when(x, start + window - 1)}), target `y[{i}]` is reading {target:,} ({when(x, target)}), "
            f"h = {horizon} after the last input. In the {split_shown} split it is {role[int(shown_split.role(w.count)[i])]}."
            + (f" Its prediction: {shown.predictions[i]:.2f} against {values[target]:.2f}." if shown else ""))
if position // stride > w.count - 1:
    st.caption(f"The last window starts at reading {(w.count - 1) * stride:,}: a later t shows that one.")
st.caption("The rug under the series marks every target in the span: green for a training window's, pink for a test window's. "
           "Dashed outline: the next window, s readings later.")

st.subheader("Temporal split against random split")
table = windowing.comparison(overlap, fits)  # the errors appear once trained
st.dataframe(table, hide_index=True, width="stretch", column_config={
    "test overlapping train": st.column_config.NumberColumn(help="Test windows that share at least one reading with a training window."),
    "test targets seen in train": st.column_config.NumberColumn(help="Test targets that are an input of some training window."),
    **{c: st.column_config.NumberColumn(format="%.3f") for c in ("test MSE (kW²)", "test MAE (kW)", "train MSE (kW²)")}})
st.caption(f"Temporal: training time is readings 0 to {cut - 1:,}; windows across the cut are left out. Random: "
           f"{windowing.TRAIN_FRACTION:.0%} of the windows drawn by `torch.randperm` (seed {seed}). Overlap: the two windows "
           "share at least one reading.")
if not fits and not problem:
    st.button("Train the forecaster both ways", key="seq_train", on_click=remember, args=(setting,), type="primary",
              icon=":material/play_arrow:", help="About a second per split; the result is kept for these settings.")
    st.caption(f"The same small forecaster, Linear({window}, {windowing.HIDDEN}) → ReLU → Linear({windowing.HIDDEN}, 1), "
               "trained on each split's training windows and scored on its test windows.")
elif problem:
    st.warning(problem, icon=":material/warning:")
else:
    temporal, random = fits["temporal"], fits["random"]
    st.caption(f"The same forecaster, Linear({window}, {windowing.HIDDEN}) → ReLU → Linear({windowing.HIDDEN}, 1), trained "
               f"{windowing.EPOCHS} epochs with Adam (lr {windowing.LR:g}, batches of {windowing.BATCH_SIZE}) by the Training "
               f"studio's engine on each split's training windows, from the same initial weights; both standardised with the "
               f"first {windowing.TRAIN_FRACTION:.0%} of the readings.")
    gain = 1 - random.test_mse / temporal.test_mse
    leak = overlap["random"]
    if gain > 0.05:
        st.markdown(f"**The random split looks {gain:.0%} better** (test MSE {random.test_mse:.2f} against {temporal.test_mse:.2f} kW²). "
                    f"{leak.overlapping:,} of its {len(leak.split.test):,} test windows share readings with training windows, and "
                    f"{leak.seen:,} test targets were inputs the model trained on: its test windows sit between training windows "
                    "from the same days, so its test score is close to its training score. That is look-ahead leakage. "
                    "The temporal split tests on time the model never saw, which is what a forecast faces.")
    else:
        st.markdown(f"**At these settings the random split does not look better** (test MSE {random.test_mse:.2f} against "
                    f"{temporal.test_mse:.2f} kW²): leakage only flatters a model that exploits it, and this small one does not here. "
                    f"Its test windows still overlap training windows ({leak.overlapping:,} of {len(leak.split.test):,}), so its "
                    "score still says nothing about forecasting unseen time. Try L = 96, h = 4, s = 1.")
    shares = {name: windowing.test_share(w, o.split) for name, o in overlap.items()}
    classroom.chart(charts.split_comparison(x, shares, {name: f.curve for name, f in fits.items()}), key="seq_split_chart")
    st.caption("Left: each column is a stretch of readings, coloured by the share of its windows (by target) in test: green all "
               "training, pink all test, blank none (left out at the cut). Right: test MSE after each epoch of training.")
    if temporal.message or random.message:
        st.warning(" ".join(m for m in (temporal.message, random.message) if m), icon=":material/warning:")

st.subheader("The shape pitfall: (N, T) → (N, T, 1)")
pit = pitfall(values, window, horizon, stride)
N, T = pit.batch_shape
st.markdown(f"A batch of {N} windows is ({N}, {T}). `nn.LSTM` reads (N, T, features):")
st.code(f"x = X[:{N}]  # ({N}, {T})\nlstm = nn.LSTM(input_size=1, hidden_size={windowing.PITFALL_HIDDEN}, batch_first=True)\n"
        "out, (h_n, c_n) = lstm(x)", language="python")
if pit.error:
    st.code(pit.error, language="text", wrap_lines=True)
    st.caption("PyTorch's own message. A 2-D input is one unbatched sequence (T, features) to PyTorch, so it reads "
               f"{T} features per step where the layer expects 1.")
else:
    st.code(f"# no error: out is {pit.wrong_output}", language="text")
    st.caption(f"With T = 1, PyTorch reads the 2-D ({N}, 1) batch as one unbatched sequence of {N} steps with one feature: "
               "it runs without a word and the batch has become time.")
st.markdown("The fix (§11.2): add the feature dimension.")
st.code(f"x = x.unsqueeze(-1)  # {pit.batch_shape} → {pit.fixed_shape}, or x.view({N}, {T}, 1) as the course writes\n"
        f"out, (h_n, c_n) = lstm(x)  # out {pit.output_shape}, h_n {pit.h_n_shape}", language="python")
st.markdown(f"And at the other end: a Linear head returns ŷ as ({N}, 1), the targets y are ({N},).")
st.code(f"nn.MSELoss()(y_hat, y)  # {pit.loss_broadcast:.2f}\n"
        f"nn.MSELoss()(y_hat.squeeze(-1), y)  # {pit.loss_squeezed:.2f}", language="python")
if pit.loss_warning:
    st.caption(f"PyTorch warns: “{pit.loss_warning}” It broadcasts ({N}, 1) against ({N},) to ({N}, {N}) and averages every "
               "forecast against every target. ŷ here: each window's last reading (a persistence forecast), in kW.")

with panels.math_panel("seq"):
    M, temporal_split = w.count, overlap["temporal"].split
    st.markdown(r"Course §7.2: input $(x_t, \dots, x_{t+L-1})$, target $x_{t+L}$: N − L examples from N readings. "
                "With a horizon h and a stride s, window i (counted from 0) has")
    st.latex(r"\text{inputs } (x_{is}, \dots, x_{is+L-1}), \qquad \text{target } x_{is+L+h-1}")
    st.markdown("The last window's target must exist, is + L + h − 1 ≤ N − 1, so i ≤ (N − L − h)/s and")
    st.latex(rf"M = \left\lfloor \frac{{N - L - h}}{{s}} \right\rfloor + 1 = \left\lfloor \frac{{{n} - {window} - {horizon}}}{{{stride}}} \right\rfloor + 1 = {M}")
    st.latex(rf"X \in \mathbb{{R}}^{{M \times L}} = \mathbb{{R}}^{{{M} \times {window}}}, \qquad y \in \mathbb{{R}}^{{{M}}}")
    st.markdown("With h = s = 1 this is the course's count:")
    st.latex(rf"M = N - L = {n} - {window} = {n - window}")
    st.markdown(r"Course §7.3, temporal split: train on $t \in [1, T_{split}]$, test on $t \in (T_{split}, T]$. Here $T_{split}$ = round(0.8 N) "
                f"= {cut:,} readings; a window trains when its target is before the cut and tests when its first input is after it:")
    st.latex(rf"M_{{train}} = \left\lfloor \frac{{T_{{split}} - L - h}}{{s}} \right\rfloor + 1 = {len(temporal_split.train)}, \qquad "
             rf"M_{{test}} = M - \left\lceil \frac{{T_{{split}}}}{{s}} \right\rceil = {len(temporal_split.test)}, \qquad "
             rf"\text{{left out}} = {M - len(temporal_split.train) - len(temporal_split.test)}")
    st.markdown(f"Random split: `torch.randperm(M)`; the first round(0.8 M) = {len(overlap['random'].split.train):,} windows train. "
                "Two windows overlap when their spans [is, is + L + h − 1] share a reading, that is when their starts are at most "
                f"L + h − 1 = {window + horizon - 1} readings apart.")
    st.latex(r"MSE = \frac{1}{n}\sum_j (\hat y_j - y_j)^2, \qquad MAE = \frac{1}{n}\sum_j |\hat y_j - y_j| \quad \text{over the } n \text{ test windows (kW)}")
    st.markdown("Course §11.2: an RNN reads (N, T, D); single-feature windows come as (N, T) and need `x.unsqueeze(-1)` "
                "(or `x.view(N, T, 1)`); the (N, 1) output needs `.squeeze()` before the loss.")

panels.check_panel("seq", check_list(values, window, horizon, stride, seed, bool(fits)),
                   note="Counts and windows must agree exactly; losses and metrics to a relative 1e-9 (float64)."
                   + ("" if fits else " The forecaster's scores join the checks once it is trained."))
panels.code_panel("seq", snippet.code(window, horizon, stride, i, seed, *(source or ())), "sequences.py")
