"""Batch normalization: one mini-batch through the course's three steps beside nn.BatchNorm1d, what PyTorch does
that the course does not say (two variances, momentum, eval mode, a batch of one), BatchNorm2d's per-channel
statistics, and what BatchNorm does to training at a large learning rate."""
import math

import streamlit as st

from core import batchnorm as bn
from core import charts, data
from core.snippets import batchnorm as snippet
from ui import classroom, controls, panels

MODE_LABELS = {"train": "train: batch statistics", "eval": "eval: running statistics"}


@st.cache_data(max_entries=64, show_spinner=False)
def batch_view(m, features, shift, scale, skew, gamma, beta, momentum, batches):
    v = bn.view(m, features, shift, scale, skew, gamma, beta, momentum, batches)
    return v, bn.single_sample(v), bn.variance_table(v), bn.checks(v)


@st.cache_data(max_entries=64, show_spinner=False)
def maps_view(images, shift, scale, skew, gamma, beta, momentum):
    maps = bn.maps_view(images, shift, scale, skew, gamma, beta, momentum)
    return maps, bn.maps_checks(maps, gamma, beta)


@st.cache_data(max_entries=64, show_spinner=False)
def train_pair(depth, optimizer, lr):
    return bn.train_run(depth, False, optimizer, lr), bn.train_run(depth, True, optimizer, lr)


@st.cache_data(max_entries=1, show_spinner=False)
def constant_loss():
    return bn.constant_loss()


def numbers(frame, fmt: str = "%.5g") -> dict:
    """Column formats for every numeric column after the first."""
    return {c: st.column_config.NumberColumn(format=fmt) for c in frame.columns[1:]}


def number(x: float) -> str:
    return f"{x + 0.0:.4g}" if math.isfinite(x) else "nan"


st.title("Batch normalization")
st.caption("One mini-batch through the course's three steps (§3.4) beside `nn.BatchNorm1d`, what PyTorch does that the "
           "formulas do not say, BatchNorm2d in a CNN, and what BatchNorm does to training.")

with st.sidebar:
    st.header("The mini-batch")
    m = controls.slider("Batch size m", "bn_batch_size", 1, bn.MAX_BATCH, 32)
    features = controls.slider("Features", "bn_features", 1, bn.MAX_FEATURES, 4)
    shift = controls.slider("Shift (mean of feature 1)", "bn_shift", -10.0, 10.0, 3.0, step=0.5)
    scale = controls.slider("Scale (standard deviation of feature 1)", "bn_scale", 0.1, 10.0, 2.0, step=0.1)
    skew = controls.slider("Skew a (0 = normal)", "bn_skew", -1.0, 1.0, 0.0, step=0.1,
                           help="Each value is (e^(a·z) − 1)/a for a standard normal z, rescaled to the same mean and "
                                "standard deviation: a > 0 gives a long right tail.")
    st.header("The layer")
    gamma = controls.slider("γ (weight, scale)", "bn_gamma", -2.0, 3.0, 1.0, step=0.1)
    beta = controls.slider("β (bias, shift)", "bn_beta", -5.0, 5.0, 0.0, step=0.1)
    momentum = controls.select_slider("momentum (PyTorch's, default 0.1)", "bn_momentum", bn.MOMENTA, 0.1, bn.momentum_label,
                                      help="The weight of the NEW batch in the running statistics: "
                                           "running ← (1 − momentum)·running + momentum·batch.")
    mode = controls.radio("Mode", "bn_mode", bn.MODES, "train", MODE_LABELS.get,
                          help="model.train() normalizes with the batch's own statistics; model.eval() with the running ones.")
    st.header("Running statistics")
    batches = controls.slider("Batches in the stream", "bn_batches", 1, bn.MAX_STREAM, 100,
                              help="Training batches drawn from the same distribution, fed one after another; batch 1 is the one above.")
    picked = controls.slider("Feature shown in detail", "bn_feature", 1, bn.MAX_FEATURES, 1)

v, single, table, checks = batch_view(m, features, shift, scale, skew, gamma, beta, momentum, batches)
shown = v.shown(mode)
k = min(picked, features)
if picked > features:
    st.info(f"Feature {picked} does not exist with {features} features: showing feature {features} in detail.",
            icon=":material/info:")

st.subheader("One mini-batch, step by step")
st.caption(f"A batch of m = {m} sample{'s' * (m > 1)} with {features} feature{'s' * (features > 1)}; feature j is drawn with mean "
           f"shift + a_j and standard deviation scale · b_j (a = {bn.OFFSETS[:features]}, b = {bn.SPREADS[:features]}), so the "
           "features arrive on different scales, like raw columns of a table.")
if v.train.error and mode == "train":
    st.error(f"`nn.BatchNorm1d` in train mode raised `ValueError: {v.train.error}`. With m = 1, μ_B is the sample itself and "
             "σ²_B = 0, so x̂ = 0/√ε = 0 and y = β whatever the input: the layer would erase it. The charts show the course's "
             "formulas; switch to eval mode, or make the batch larger.", icon=":material/block:")
classroom.chart(charts.batchnorm_steps(v.x, shown.mean, shown.var, shown.x_hat, shown.y, gamma, beta, mode), key="bn_steps_chart")
cols = st.columns(3)
cols[0].metric(f"max |formula − nn.BatchNorm1d| ({mode} mode)", "refused" if shown.y_torch is None else f"{shown.max_error:.1e}")
cols[1].metric("mean of x̂ over the batch (worst feature)", bn.centre_text(shown.centre),
               help="In train mode it is 0 in exact arithmetic: what is left (like 1e-17) is the rounding of the floating-point "
                    "sums. In eval mode x̂ uses the running statistics, so its mean need not be 0.")
cols[2].metric("variance of x̂, ÷ m (range over features)", bn.spread_text(*shown.spread),
               help=f"From {shown.spread[0]:.9f} to {shown.spread[1]:.9f} over the features.")
if mode == "train" and m == 1:
    st.caption("With m = 1 every x̂ is 0: the sample is its own mean. Whatever the input, y = β.")
elif mode == "train":
    st.caption("In train mode every feature leaves step 2 with mean 0 and variance σ²_B/(σ²_B + ε), a hair under 1, "
               "whatever its shift, scale or skew; γ and β then set the spread and centre of y. Skew survives: "
               "BatchNorm shifts and rescales, it does not reshape.")
else:
    st.caption("In eval mode the batch is normalized with the running statistics the stream below left behind, not with "
               "its own: x̂ has mean 0 and variance 1 only as far as those running values match this batch.")

st.subheader("What PyTorch does that the course does not say")
st.markdown(f"**Two variances.** The batch is normalized with the biased σ²_B (÷ m), as in the course; `running_var` "
            f"is updated with the unbiased s²_B = σ²_B · m/(m − 1). Batch 1 through a fresh layer (running_mean = 0, "
            f"running_var = 1), p = {'1/1 = 1 (momentum=None, first batch)' if momentum is None else f'momentum = {momentum:g}'}: "
            "running_mean = (1 − p)·0 + p·μ_B and "
            "running_var = (1 − p)·1 + p·s²_B, beside what `nn.BatchNorm1d` stored:")
st.dataframe(table, hide_index=True, width="stretch", column_config=numbers(table))
if v.train.error:
    st.error(f"With m = 1 there is no unbiased variance: s²_B divides by m − 1 = 0. `nn.BatchNorm1d` refuses the batch; "
             f"`torch.batch_norm`, the operator underneath, does not check and leaves running_var = "
             f"{', '.join(number(x) for x in v.raw_running_var)}.", icon=":material/block:")
else:
    st.caption(f"The two variances differ by the factor m/(m − 1) = {m / (m - 1):.4f}: large for small batches, "
               "negligible for large ones.")

st.markdown(f"**momentum is the weight of the new batch.** running ← (1 − momentum)·running + momentum·batch, "
            f"here momentum = {bn.momentum_label(momentum)}. An optimizer's momentum 0.9 is the weight of the past; "
            "BatchNorm's default 0.1 is the weight of the present: the same 0.9/0.1 split, written the other way round. "
            "`momentum=None` averages every batch so far equally (weight 1/t for the t-th).")
s = v.stream
if s.error:
    st.error(f"The stream stopped at batch 1: `nn.BatchNorm1d` raised `ValueError: {s.error}`. The running statistics are "
             "still PyTorch's initial 0 and 1, which is what eval mode uses now.", icon=":material/block:")
else:
    classroom.chart(charts.running_statistics(s.batch_mean[:, k - 1], s.batch_var[:, k - 1], s.torch_mean[:, k - 1],
                                              s.torch_var[:, k - 1], float(v.population_mean[k - 1]),
                                              float(v.population_std[k - 1] ** 2), k, f"momentum={momentum}"),
                    key="bn_stream_chart")
    stream_table = bn.stream_table(v)
    st.dataframe(stream_table, hide_index=True, width="stretch", column_config=numbers(stream_table))
    p = momentum
    memory = "every batch counts equally" if p is None else (
        "only the latest batch counts" if p == 1 else f"batch t − j still weighs (1 − {p:g})^j·{p:g}; the memory is about 1/{p:g} ≈ {1 / p:.0f} batches")
    st.caption(f"After {len(s.batch_mean)} batches of {m} ({memory}). Each batch's own μ_B and s²_B scatter around the "
               "population values; the running statistics average them out, and start from PyTorch's 0 and 1.")

st.markdown("**Eval mode uses the running statistics**, so the same batch gives different outputs in the two modes: "
            "both are straight lines y = γ(x − μ)/√(σ² + ε) + β, with different μ and σ².")
classroom.chart(charts.train_eval_outputs(v.x[:, k - 1], None if v.train.y_torch is None else v.train.y_torch[:, k - 1],
                                          v.eval.y_torch[:, k - 1], (float(v.batch_mean[k - 1]), float(v.batch_var[k - 1])),
                                          (float(v.eval.mean[k - 1]), float(v.eval.var[k - 1])), gamma, beta, k), key="bn_modes_chart")
cols = st.columns(3)
cols[0].metric(f"sample 1, feature {k}: y in train mode", "refused" if v.train.y_torch is None else number(float(v.train.y_torch[0, k - 1])))
cols[1].metric(f"sample 1, feature {k}: y in eval mode", number(float(v.eval.y_torch[0, k - 1])))
cols[2].metric("max |y_train − y_eval| over the batch", "—" if v.train.y_torch is None else number(v.mode_gap))

st.markdown("**A batch of one.** Sample 1 of this batch on its own:")
st.error(f"train mode: `ValueError: {single.error}`", icon=":material/block:")
st.success(f"eval mode: y = ({', '.join(number(x) for x in single.y_eval)}), the same as inside the whole batch: in eval mode "
           "a sample's output does not depend on the rest of its batch.", icon=":material/check_circle:")
st.caption(f"The module counted the refused batch anyway: num_batches_tracked went from 0 to {single.tracked} before the "
           "check raised (with momentum=None that count is the 1/t of the next update). "
           "Drop the last incomplete batch (`DataLoader(..., drop_last=True)`) so training never meets a batch of one.")

st.subheader("Effect on training")
c1, c2, c3 = st.columns(3)
with c1:
    depth = controls.radio("Network", "bn_depth", bn.DEPTHS, "course", bn.DEPTH_LABELS.get, horizontal=False)
with c2:
    optimizer = controls.radio("Optimizer", "bn_optimizer", bn.OPTIMIZERS, "adam", bn.OPTIMIZER_LABELS.get, horizontal=False)
with c3:
    lr = controls.select_slider("Learning rate η", "bn_lr", bn.LRS, 0.1, lambda x: f"{x:g}")
with st.spinner("Training both networks…"):
    plain, normed = train_pair(depth, optimizer, lr)
classroom.chart(charts.batchnorm_training((plain, normed), constant_loss()), key="bn_training_chart")
runs = bn.runs_table((plain, normed), depth)
st.dataframe(runs, hide_index=True, width="stretch", column_config=numbers(runs.iloc[:, :4], "%.4f"))
for r in (plain, normed):
    if r.diverged_at:
        st.error(f"{bn.DEPTH_LABELS[depth]}, {'with' if r.batchnorm else 'without'} BatchNorm: {r.message}", icon=":material/trending_up:")
st.caption(f"{bn.EPOCHS} epochs of the bundled water data in batches of {bn.BATCH_SIZE} ({len(plain.loss)} steps). The "
           "course net is §1.4's (ReLU, sigmoid output, BCELoss) with BatchNorm1d between each hidden Linear and its "
           "activation, where §3.4 puts it (§3.4's listing also swaps in ELU and Kaiming initialisation; here both keep "
           "PyTorch's defaults). Both networks start from the same Linear weights (seed 0) and see the same batches. The dotted line is what a net "
           "that learned nothing scores: always predicting the share of potable samples. `BCELoss` clamps log(ŷ) at −100, "
           "so a wrecked network sits at a high but finite loss (up to 100) instead of turning into inf.")
if controls.toggle("Compare every learning rate (about 5 s the first time)", "bn_sweep", False):
    with st.spinner("Training both networks at every learning rate…"):
        pairs = {rate: train_pair(depth, optimizer, rate) for rate in bn.LRS}
    classroom.chart(charts.batchnorm_lr_sweep(bn.sweep_table(pairs), lr, constant_loss()), key="bn_sweep_chart")
    st.caption("Each point is a whole run like the one above. Where the curve without BatchNorm sits on the dotted line "
               "the network learned nothing; the curve with BatchNorm stays low over a wider range of learning rates.")

st.subheader("BatchNorm2d in a CNN")
images = controls.slider("Images N in the batch (3 channels of 4×4 each)", "bn_images", 1, bn.MAX_IMAGES, 2)
maps, map_checks = maps_view(images, shift, scale, skew, gamma, beta, momentum)
used = maps.train if mode == "train" else maps.eval
classroom.chart(charts.batchnorm2d_maps(maps.x, used.y_torch, used.mean, used.var, mode), key="bn_maps_chart")
channel_table = bn.channel_table(maps)
st.dataframe(channel_table, hide_index=True, width="stretch", column_config=numbers(channel_table))
st.caption(f"For an (N, C, H, W) batch, BatchNorm2d keeps one μ, σ², γ and β per channel, computed over the "
           f"N·H·W = {images}·4·4 = {maps.count} values of that channel: every pixel of every image. So a single image "
           "is fine in train mode here, unlike a batch of one in BatchNorm1d: it still gives 16 values per channel. "
           "Running statistics: after this one training step from 0 and 1; eval mode uses them.")

with panels.math_panel("bn"):
    j, x1 = k - 1, float(v.x[0, k - 1])
    mu, var = float(v.batch_mean[j]), float(v.batch_var[j])
    st.markdown(f"The course's three steps (§3.4) for feature {k}, over the batch of m = {m}:")
    st.latex(rf"\mu_B = \frac{{1}}{{m}}\sum_{{i=1}}^{{m}} x_i = {panels.tex_number(mu, 6)}, \qquad "
             rf"\sigma_B^2 = \frac{{1}}{{m}}\sum_{{i=1}}^{{m}} (x_i - \mu_B)^2 = {panels.tex_number(var, 6)}")
    xh = float(v.train.x_hat[0, j])
    st.latex(rf"\hat{{x}}_1 = \frac{{x_1 - \mu_B}}{{\sqrt{{\sigma_B^2 + \epsilon}}}} = \frac{{{x1:.5g} - ({mu:.5g})}}"
             rf"{{\sqrt{{{var:.5g} + 10^{{-5}}}}}} = {panels.tex_number(xh, 6)}")
    st.latex(rf"y_1 = \gamma \hat{{x}}_1 + \beta = {gamma:g} \cdot ({xh:.5g}) + ({beta:g}) = {panels.tex_number(gamma * xh + beta, 6)}")
    st.markdown("What PyTorch adds (`nn.BatchNorm1d` docs): the unbiased variance and the running statistics, "
                "p = momentum, or 1/t for the t-th batch when momentum=None:")
    unbiased = "\\text{undefined for } m = 1" if m == 1 else panels.tex_number(float(v.batch_var_unbiased[j]), 6)
    st.latex(rf"s_B^2 = \frac{{1}}{{m-1}}\sum_{{i=1}}^{{m}} (x_i - \mu_B)^2 = \frac{{m}}{{m-1}}\sigma_B^2 = {unbiased}")
    st.latex(r"\text{running\_mean} \leftarrow (1-p)\,\text{running\_mean} + p\,\mu_B, \qquad "
             r"\text{running\_var} \leftarrow (1-p)\,\text{running\_var} + p\, s_B^2")
    st.markdown("Eval mode (the course: “during inference, use running averages”):")
    rm, rv = float(v.eval.mean[j]), float(v.eval.var[j])
    st.latex(rf"y = \gamma\,\frac{{x - \text{{running\_mean}}}}{{\sqrt{{\text{{running\_var}} + \epsilon}}}} + \beta, \qquad "
             rf"\text{{running\_mean}} = {panels.tex_number(rm, 5)},\ \text{{running\_var}} = {panels.tex_number(rv, 5)}")
    st.markdown("BatchNorm2d: the same steps per channel c, over all N·H·W values of that channel:")
    st.latex(rf"\mu_c = \frac{{1}}{{NHW}}\sum_{{n,h,w}} x_{{n,c,h,w}}, \qquad \sigma_c^2 = \frac{{1}}{{NHW}}\sum_{{n,h,w}} "
             rf"(x_{{n,c,h,w}} - \mu_c)^2, \qquad NHW = {maps.count}")

panels.check_panel("bn", [*checks, *map_checks],
                   note="Formulas in float64 from the same float32 inputs; PyTorch in float32. A check passes when the largest "
                        "difference stays within float32 rounding of x, amplified by |γ|/√(σ² + ε) (relative 1e-5 for the "
                        "running statistics). Formula and PyTorch columns show the values where they differ most.")
panels.code_panel("bn", snippet.code(m, features, shift, scale, skew, gamma, beta, momentum, batches, k, images, depth,
                                     optimizer, lr, str(data.ASSETS)), "batchnorm.py")
