"""Backpropagation: the course's Net on bundled water-quality samples, from the forward pass and the loss to
the error signals δ by hand beside autograd, and the training loop's four calls pressed one at a time."""
import numpy as np
import streamlit as st

from core import backprop as bp
from core import charts
from core.snippets import backprop as snippet
from ui import classroom, controls, panels

BUTTONS = (("zero_grad", "optimizer.zero_grad()"), ("forward", "forward → loss"),
           ("backward", "loss.backward()"), ("step", "optimizer.step()"), ("reset", "Reset"))
TORCH_LOSS = {"BCE": "nn.BCELoss", "MSE": "nn.MSELoss", bp.CROSS_ENTROPY: "nn.CrossEntropyLoss"}


@st.cache_data(max_entries=64, show_spinner=False)
def compute(sample, batch, hidden1, hidden2, loss, lr, seed):
    return bp.view(bp.Setting(sample, batch, hidden1, hidden2, loss, lr, seed))


@st.cache_data(max_entries=1, show_spinner=False)
def saturation():
    return bp.saturation_table()


st.title("Backpropagation")
st.caption("The course's Net on samples of the bundled water-quality data (features min-max scaled to [0, 1], as the "
           "Training studio feeds them): the forward pass, the loss, the error signals δ by the course's recursion "
           "beside autograd, and the training loop's calls pressed one at a time. Every number is computed by PyTorch.")

with st.sidebar:
    st.header("Data")
    sample = controls.slider("Sample: row of the training table", "bp_sample", 0, bp.table_size() - 1, 0)
    batch = controls.slider("Batch size B", "bp_batch", 1, bp.MAX_BATCH, 1,
                            help="B consecutive rows, starting at the sample (wrapping around the table's end).")
    st.header("Network")
    hidden1 = controls.slider("Units in hidden layer 1 (fc1)", "bp_hidden1", 1, bp.MAX_WIDTH, 16)
    hidden2 = controls.slider("Units in hidden layer 2 (fc2)", "bp_hidden2", 1, bp.MAX_WIDTH, 8)
    seed = controls.number_input("Seed of the initial weights", "bp_seed", 0, 9999, 0,
                                 help="Weights drawn by PyTorch's default rule from torch.Generator().manual_seed(seed).")
    st.header("Loss and step")
    loss = controls.radio("Loss", "bp_loss", bp.LOSSES, "BCE", horizontal=False,
                          help="Cross-entropy uses a 3-unit head on logits and predicts the pH tercile from the other 8 features.")
    lr = controls.select_slider("Learning rate η (optim.SGD)", "bp_lr", bp.LR_CHOICES, 0.1, lambda v: f"{v:g}")
    st.header("Watch")
    layer = controls.radio("Layer shown in sections 3 and 4", "bp_layer", bp.LAYERS, "fc3")

setting = bp.Setting(sample, batch, hidden1, hidden2, loss, lr, seed)
v = compute(sample, batch, hidden1, hidden2, loss, lr, seed)
ps = bp.per_sample(v)
li = bp.LAYERS.index(layer)
samples = [f"row {r}" for r in v.batch.rows]
multi = setting.multiclass

# 1. Forward pass
st.subheader("1. Forward pass: z = W·a + b, a = σ(z)")
classroom.chart(charts.forward_pass_maps(v.zs, v.acts, v.batch.features, samples, "softmax" if multi else "σ"), key="bp_chart_forward")
if multi:
    st.caption(f"Each column is one sample, each cell one unit (blue < 0 < orange). Target: the pH tercile, class "
               f"{', '.join(str(c) for c in ps.y)} ({', '.join(bp.CLASS_NAMES[c] for c in ps.y)}); probability of the true "
               f"class ŷ_c = {', '.join(f'{p:.3f}' for p in ps.y_hat)}. The softmax is shown for reading; the Net returns "
               "the logits z⁽³⁾ and nn.CrossEntropyLoss applies the softmax inside.")
else:
    st.caption(f"Each column is one sample, each cell one unit (blue < 0 < orange). Target Potability y = "
               f"{', '.join(str(int(t)) for t in ps.y)}; prediction ŷ = a⁽³⁾ = {', '.join(f'{p:.3f}' for p in ps.y_hat)}. "
               "ReLU zeroes every negative z: those units are off for that sample.")

# 2. Loss
st.subheader("2. Loss")
shown = [(f"{name}: formula", v.losses_formula[name], f"{TORCH_LOSS[name]}", v.losses_torch[name]) for name in v.losses_torch]
cols = st.columns(2 * len(shown) + (0 if multi else 1))
for i, (f_label, f_value, t_label, t_value) in enumerate(shown):
    cols[2 * i].metric(f_label, f"{f_value:.6f}")
    cols[2 * i + 1].metric(t_label, f"{t_value:.6f}")
if not multi:
    cols[-1].metric("nn.BCEWithLogitsLoss(z⁽³⁾)", f"{v.bce_with_logits:.6f}")
classroom.chart(charts.loss_of_prediction(loss, ps.y, ps.y_hat, ps.z, ps.loss, ps.delta, multi), key="bp_chart_loss")
if multi:
    st.caption("−log ŷ_c is 0 for a certain, correct prediction and grows without bound as ŷ_c → 0; δ_c = ŷ_c − 1 stays in "
               "[−1, 0]: the gradient never vanishes while the prediction is wrong.")
else:
    st.caption("The chosen loss is drawn solid, the other one dotted. Left: BCE punishes a confident wrong prediction "
               "without bound, MSE by at most 1. "
               "Right: what reaches z⁽³⁾. BCE's δ = ŷ − y stays large while the prediction is wrong; MSE's carries the "
               "extra σ′(z) = ŷ(1 − ŷ), which vanishes when the sigmoid saturates, even on a wrong prediction.")
with st.expander("Why nn.BCEWithLogitsLoss is the safer choice", expanded=False, key="bp_show_saturation"):
    st.markdown("Take a confident wrong prediction: logit z, target y = 0. The exact loss is −log(1 − σ(z)) = log(1 + eᶻ). "
                "In float32, σ(z) rounds to exactly 1 from z ≈ 17 on: `nn.BCELoss` then sees log(0), which PyTorch clamps "
                "to −100, and the gradient through the sigmoid is 0, so the network gets no signal. Already at z = 15 "
                "the loss is off by 1 %. `nn.BCEWithLogitsLoss` takes z itself and computes log(1 + eᶻ) stably.")
    table = saturation()
    st.dataframe(table, hide_index=True, width="stretch", column_config={
        c: st.column_config.NumberColumn(format="%.9f" if "σ" in c or "∂" in c else ("%.6f" if c != "z" else "%g"))
        for c in table.columns})

# 3. Backpropagation by hand
st.subheader("3. Backpropagation by hand, beside autograd")
out_rule = {"BCE": "δ⁽³⁾ = (ŷ − y)/B: with a sigmoid and BCE the σ′ cancels",
            "MSE": "δ⁽³⁾ = 2(ŷ − y)·σ′(z⁽³⁾)/B, with σ′(z) = ŷ(1 − ŷ): MSE keeps the sigmoid's derivative",
            bp.CROSS_ENTROPY: "δ⁽³⁾ = (softmax(z⁽³⁾) − onehot(y))/B"}[loss]
st.markdown(f"From the output back: **{out_rule}**; then δ⁽ˡ⁾ = (W⁽ˡ⁺¹⁾)ᵀδ⁽ˡ⁺¹⁾ ⊙ σ′(z⁽ˡ⁾), where ReLU′ is 1 for an "
            "active unit and 0 otherwise, so an off unit passes no error back.")
classroom.chart(charts.error_signal_maps(v.deltas, v.backs, v.zs, samples), key="bp_chart_deltas")
st.dataframe(v.layer_errors(), hide_index=True, width="stretch", column_config={
    c: st.column_config.NumberColumn(format="%.1e") for c in v.layer_errors().columns if c.startswith("max")} | {
    "‖weight.grad‖": st.column_config.NumberColumn(format="%.6g")})
hw, hb = v.grads_hand[li]
tw, tb = v.grads_torch[li]
classroom.chart(charts.hand_vs_autograd_grads(hw, hb, tw, tb, li + 1, layer), key="bp_chart_grads")
st.caption(f"The gradients of {layer} by the course's formulas (float64) and by loss.backward() (float32); choose the "
           "layer in the sidebar. With B > 1 the columns of δ(a)ᵀ are summed over the batch.")

# 4. The loop, one press at a time
st.subheader("4. The loop, one call at a time")
config = (sample, batch, hidden1, hidden2, loss, lr, seed)
if st.session_state.get("_bp_lab_config") != config or "_bp_lab" not in st.session_state:
    st.session_state["_bp_lab"], st.session_state["_bp_lab_config"] = bp.LoopLab(setting), config
cols = st.columns(len(BUTTONS))
pressed = [action for col, (action, label) in zip(cols, BUTTONS) if col.button(label, key=f"bp_{action}", width="stretch")]
if "reset" in pressed:
    st.session_state["_bp_lab"] = bp.LoopLab(setting)
elif pressed:
    st.session_state["_bp_lab"].press(pressed[0])
lab = st.session_state["_bp_lab"]
last = lab.last
if not last.ok:
    st.error(f"**{last.action}**: {last.message}", icon=":material/error:")
elif last.action == "backward" and last.passes > 1:
    st.info(f"**backward**: {last.message} ‖.grad‖ is now {last.ratio:.4g} × this pass's own gradient"
            + (" (exactly twice: same weights, same batch)." if last.passes == 2 and abs(last.ratio - 2) < 1e-6 else "."),
            icon=":material/add_circle:")
else:
    st.info(f"**{last.action}**: {last.message}", icon=":material/info:")
w, b = last.params[f"{layer}.weight"], last.params[f"{layer}.bias"]
classroom.chart(charts.loop_layer_state(w, b, last.grads[f"{layer}.weight"], last.grads[f"{layer}.bias"], layer),
                key="bp_chart_state")
classroom.chart(charts.grad_norm_by_press([p.number for p in lab.log], [p.action for p in lab.log],
                                          [bp.grad_norm(p, layer) for p in lab.log], [p.passes for p in lab.log], layer),
                key="bp_chart_norms")
st.dataframe(bp.log_table(lab.log, layer, lab.start).iloc[::-1], hide_index=True, width="stretch", column_config={
    "#": st.column_config.NumberColumn(width="small"), "pressed": st.column_config.TextColumn(width="small"),
    "what happened": st.column_config.TextColumn(width="large")})
st.caption("The log lists the newest press first. Press the calls in any order; the course's order is forward, zero_grad, "
           "backward, step. Skip zero_grad and a second forward + backward adds to .grad (orange bars); backward twice on "
           "one forward, or after a step, fails as in PyTorch. Changing any control above starts a fresh model.")

st.markdown(
    "**In short.** The forward pass keeps every z and a; the loss compares the output with the target; backward walks "
    "the layers in reverse, turning δ of one layer into δ of the one below with Wᵀ and σ′, and each layer's gradient "
    "is its δ times the activations that fed it. `loss.backward()` does exactly this and **adds** the result to "
    "`.grad`, which is why the loop calls `optimizer.zero_grad()` before it.")

with panels.math_panel("bp"):
    n = [v.acts[0].shape[0], hidden1, hidden2, v.acts[-1].shape[0]]
    st.markdown("Forward pass (§1.4), column vectors, a batch of B samples as B columns:")
    st.latex(rf"z^{{(l)}} = W^{{(l)}} a^{{(l-1)}} + b^{{(l)}}, \quad a^{{(l)}} = \sigma(z^{{(l)}}), \qquad "
             rf"W^{{(1)}} \in \mathbb{{R}}^{{{n[1]}\times{n[0]}}},\ W^{{(2)}} \in \mathbb{{R}}^{{{n[2]}\times{n[1]}}},\ "
             rf"W^{{(3)}} \in \mathbb{{R}}^{{{n[3]}\times{n[2]}}},\ a^{{(0)}} = x \in \mathbb{{R}}^{{{n[0]}\times{batch}}}")
    y0, p0, z0, l0 = int(ps.y[0]), float(ps.y_hat[0]), float(ps.z[0]), float(ps.loss[0])
    st.markdown(f"Loss (§2.3) for the first sample (row {v.batch.rows[0]}), and over the batch (§2.1):")
    if multi:
        st.latex(rf"\ell_{{CE}} = -\log \hat y_c = -\log {p0:.4f} = {l0:.4f} \quad (c = {y0})")
    elif loss == "BCE":
        st.latex(rf"\ell_{{BCE}} = -[y \log \hat y + (1-y)\log(1-\hat y)] = -[{y0}\cdot\log {p0:.4f} + {1 - y0}\cdot"
                 rf"\log {1 - p0:.4f}] = {l0:.4f}")
    else:
        st.latex(rf"\ell_{{MSE}} = (\hat y - y)^2 = ({p0:.4f} - {y0})^2 = {l0:.4f}")
    st.latex(rf"\mathcal{{L}} = \frac{{1}}{{B}}\sum_{{i=1}}^{{B}} \ell_i = {v.loss_value:.6f} \quad (B = {batch},\ "
             r"\texttt{reduction='mean'})")
    st.markdown("Error signal of the output layer, first sample (the 1/B of the mean comes on top):")
    if multi:
        st.latex(rf"\delta^{{(3)}} = \hat y - \mathrm{{onehot}}(y), \qquad \delta^{{(3)}}_c = \hat y_c - 1 = {p0 - 1:.4f}")
    elif loss == "BCE":
        st.latex(rf"\delta^{{(3)}} = \frac{{\partial \ell}}{{\partial \hat y}}\,\sigma'(z^{{(3)}}) = "
                 rf"\frac{{\hat y - y}}{{\hat y(1-\hat y)}}\,\hat y(1-\hat y) = \hat y - y = {p0:.4f} - {y0} = {p0 - y0:.4f}")
    else:
        st.latex(rf"\delta^{{(3)}} = 2(\hat y - y)\,\sigma'(z^{{(3)}}) = 2({p0:.4f} - {y0})\cdot{p0:.4f}\,(1 - {p0:.4f}) = "
                 f"{2 * (p0 - y0) * p0 * (1 - p0):.4f}")
    active = [int((z > 0).sum()) for z in v.zs[:2]]
    st.markdown(f"Backpropagation (§2.5). ReLU′(z) = 1[z > 0]: {active[1]} of {hidden2 * batch} entries of z⁽²⁾ and "
                f"{active[0]} of {hidden1 * batch} of z⁽¹⁾ pass the error back.")
    st.latex(r"\delta^{(l)} = (W^{(l+1)})^\top \delta^{(l+1)} \odot \sigma'(z^{(l)}), \qquad "
             r"\frac{\partial \mathcal{L}}{\partial W^{(l)}} = \delta^{(l)} (a^{(l-1)})^\top, \qquad "
             r"\frac{\partial \mathcal{L}}{\partial b^{(l)}} = \delta^{(l)}")
    gw = v.grads_torch[li][0]
    i, j = np.unravel_index(np.abs(gw).argmax(), gw.shape)
    wv, gv = float(v.weights[li][i, j]), float(gw[i, j])
    st.markdown(f"Gradient descent (§2.2) on the entry of W⁽{li + 1}⁾ ({layer}) with the largest gradient, "
                f"row {i + 1}, column {j + 1}:")
    st.latex(rf"\theta_{{t+1}} = \theta_t - \eta\,\nabla_\theta \mathcal{{L}}: \quad {wv:.5f} - {lr:g} \cdot "
             rf"({panels.tex_number(gv, 4)}) = {wv - lr * gv:.5f}")
    st.markdown("Where PyTorch differs from the text: `nn.Linear` keeps W as (n_l, n_(l−1)) like the course but multiplies "
                "row-vector batches, x Wᵀ + b (the same numbers, transposed); `nn.BCELoss` clamps each log to ≥ −100; "
                "`optimizer.zero_grad()` sets `.grad` to None, not to zeros; the losses average over the batch, so "
                "every δ carries 1/B and ∂L/∂W sums δ_i a_iᵀ over the samples.")

panels.check_panel("bp", bp.checks(v), note="The formulas run in float64 on the model's float32 weights, PyTorch in "
                   "float32: a difference of 1e-5 of the largest value passes.")
panels.code_panel("bp", snippet.code(setting), "backprop.py")
