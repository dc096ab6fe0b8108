"""Gradients through time (course §8.5, §8.6, §9.4, §9.5, §10.4, §10.6): ‖∂h_T/∂h_k‖ of a real nn.RNN, nn.LSTM and
nn.GRU by autograd, the simple RNN at a chosen spectral radius, gradient clipping, parameter counts, and LSTM vs
GRU timed on this machine."""
import streamlit as st

from core import charts
from core import rnn_gradients as rg
from core.snippets import rnn_gradients as snippet
from ui import classroom, controls, panels

COLORS = charts.series_colors(rg.CELLS)
THETAS = (0.001, 0.01, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 100.0, 1000.0)


@st.cache_data(max_entries=64, show_spinner=False)
def flow(seq_len, hidden, d_x, bias, seed):
    return rg.gradient_flow(seq_len, hidden, d_x, bias, seed)


@st.cache_data(max_entries=128, show_spinner=False)
def radius_view(seq_len, hidden, d_x, seed, rho):
    return rg.radius_view(seq_len, hidden, d_x, seed, rho)


@st.cache_data(max_entries=128, show_spinner=False)
def gradients(cell, seq_len, hidden, d_x, bias, seed, rho):
    return rg.gradients(cell, seq_len, hidden, d_x, bias, seed, rho)


@st.cache_data(max_entries=256, show_spinner=False)
def clipping(cell, seq_len, hidden, d_x, bias, seed, rho, theta):
    names, grads, loss = gradients(cell, seq_len, hidden, d_x, bias, seed, rho)
    return rg.clip(names, grads, theta, loss)


@st.cache_data(max_entries=64, show_spinner=False)
def parameters(cell, d_x, hidden, layers):
    return rg.parameter_table(d_x, hidden, layers), rg.parameter_shapes(cell, d_x, hidden, layers)


def tex(x: float) -> str:
    return panels.tex_number(x, 4)


st.title("Gradients through time")
st.caption("How much the last hidden state h_T still depends on each earlier h_k, measured by autograd on a real "
           "`nn.RNN`, `nn.LSTM` and `nn.GRU`; what the spectral radius of W_hh and gradient clipping do; what the layers cost.")

with st.sidebar:
    st.header("Sizes")
    cell = controls.radio("Cell in focus", "rnn_cell", rg.CELLS, "RNN",
                          help="The cell whose gradient is clipped in section 3 and whose Jacobian The math writes out.")
    seq_len = controls.slider("Sequence length T", "rnn_seq_len", 5, 200, 50)
    hidden = controls.slider("Hidden size d_h", "rnn_hidden", 1, 64, 16)
    d_x = controls.slider("Input size d_x", "rnn_d_x", 1, 64, 1)
    layers = controls.slider("Layers (parameter counts and timing)", "rnn_layers", 1, 4, 1)
    st.header("Initialisation")
    bias = controls.slider("Memory-gate bias b", "rnn_gate_bias", 0.0, 5.0, 0.0, step=0.5,
                           help="Added to b_ih of the LSTM forget gate and the GRU update gate. 0 is PyTorch's own initialisation.")
    seed = controls.number_input("Seed", "rnn_seed", 0, 9999, 0, step=1)
    st.header("Simple RNN")
    rho = controls.slider("Spectral radius ρ of W_hh", "rnn_radius", 0.1, 2.0, 1.1, step=0.05,
                          help="W_hh is rescaled by ρ / |λ_max(W_hh)|.")
    st.header("Gradient clipping")
    theta = controls.select_slider("Threshold θ", "rnn_clip", THETAS, 1.0, lambda v: f"{v:g}")

f = flow(seq_len, hidden, d_x, bias, seed)
v = radius_view(seq_len, hidden, d_x, seed, rho)
c = clipping(cell, seq_len, hidden, d_x, bias, seed, rho if cell == "RNN" else None, theta)
params, shapes = parameters(cell, d_x, hidden, layers)
half = seq_len // 2  # the table's middle column, k = T // 2

# 1. Three cells side by side --------------------------------------------------------------------------------------
st.subheader("1 · Gradient flow: RNN, LSTM and GRU")
floored = {name: rg.for_log_scale(values) for name, values in f.norms.items()}
classroom.chart(charts.rnn_gradient_flow(f.k, {n: vals for n, (vals, _) in floored.items()}, COLORS), key="rnn_flow_chart")
st.dataframe(rg.flow_table(f), hide_index=True, width="stretch", column_config={
    "k = 0": st.column_config.NumberColumn("‖∂h_T/∂h_0‖₂", format="%.3e"),
    f"k = {half}": st.column_config.NumberColumn(f"‖∂h_T/∂h_{half}‖₂", format="%.3e"),
    "per step": st.column_config.NumberColumn("factor per step", format="%.4f", help="‖∂h_T/∂h_0‖₂^(1/T), the geometric mean"),
})
underflow = sum(n for _, n in floored.values())
st.caption(
    f"Each cell steps the same x (T = {seq_len}, d_x = {d_x}, x_t ~ N(0, I)) from h_0 = 0 with d_h = {hidden} and seed {seed}, "
    "weights drawn from PyTorch's default U(−1/√d_h, 1/√d_h). ‖·‖₂ is the largest singular value of the d_h × d_h Jacobian. "
    "For the LSTM, ∂h_T/∂h_k holds c_k fixed; the gradient still travels through every later c_t."
    + (f" {underflow} values were below 10⁻³⁰⁰ (float64 underflow) and are drawn at 10⁻³⁰⁰." if underflow else "")
)
f_mean, z_mean = f.gate_mean["LSTM"], f.gate_mean["GRU"]
gates = (f"over this run the LSTM forget gate f averaged {f_mean:.2f} and the GRU update gate z {z_mean:.2f} (in PyTorch's GRU, "
         f"z → 1 keeps the old state), so the LSTM's cell-state product ∏ f_i (§9.4) shrinks roughly like {f_mean:.2f}^(T−k)")
if bias == 0:
    st.markdown(f"**At PyTorch's initialisation the gates have not learned to remember**: {gates}, and the LSTM's and GRU's "
                "gradients fade too. Raise the memory-gate bias b in the sidebar to see the highway the course describes.")
else:
    st.markdown(f"**With b = {bias:g}** (σ({bias:g}) = {rg.sigmoid(bias):.3f}) {gates}: both gated cells carry most of the old "
                "state forward, so their gradients fade more slowly than the RNN's. The simple RNN has no gate: b does not touch it.")

# 2. The simple RNN at spectral radius ρ -----------------------------------------------------------------------------
st.subheader("2 · The simple RNN at spectral radius ρ")
cols = st.columns(4)
cols[0].metric("|λ_max(W_hh)| at init", f"{v.lambda_init:.4f}")
cols[1].metric("|λ_max| after rescaling", f"{v.lambda_after:.4f}")
cols[2].metric("σ_max(W_hh) = ‖W_hh‖₂", f"{v.sigma_max:.4f}")
cols[3].metric("tanh units with |h| > 0.99", f"{100 * v.saturated:.1f}%")
tanh_plot, tanh_under = rg.for_log_scale(v.tanh)
linear_plot, linear_under = rg.for_log_scale(v.linear)
reference_plot, reference_under = rg.for_log_scale(v.reference)
classroom.chart(charts.rnn_radius_flow(f.k, tanh_plot, linear_plot, reference_plot, rho, COLORS["RNN"]), key="rnn_radius_chart")
st.markdown(
    f"W_hh of the RNN above, rescaled by ρ/|λ_max| = {rho:g}/{v.lambda_init:.4f}. **Without an activation** ∂h_T/∂h_k = W_hh^(T−k) "
    f"exactly and its norm follows ρ^(T−k) once the first steps are past: ‖∂h_T/∂h_0‖₂ = {v.linear[0]:.3e} against "
    f"ρ^T = {rho ** seq_len:.3e}. Below ρ = 1 it vanishes, above it explodes (§8.6). **With tanh** every step multiplies by "
    f"diag(1 − h_t²) W_hh, and 0 < 1 − h_t² ≤ 1 only ever scales rows down: ‖∂h_T/∂h_0‖₂ = {v.tanh[0]:.3e}. So with tanh a radius "
    "above 1 is not sufficient for explosion: units that saturate (|h| → 1) pass almost nothing back."
)
st.caption(
    "What is necessary, exactly: with tanh ‖∂h_T/∂h_k‖₂ ≤ σ_max(W_hh)^(T−k), so explosion needs σ_max > 1 and σ_max < 1 "
    "guarantees vanishing. The course's |λ_max| is the linear RNN's long-run rate (‖W^n‖₂^(1/n) → |λ_max|); it never exceeds "
    "σ_max, and for a random W_hh σ_max is about twice |λ_max|, so a radius a little below 1 does not by itself rule out growth."
    + (" Values below 10⁻³⁰⁰ are drawn at 10⁻³⁰⁰." if tanh_under + linear_under + reference_under else "")
)

# 3. Gradient clipping -----------------------------------------------------------------------------------------------
st.subheader(f"3 · Gradient clipping ({cell})")
where = f"the RNN at ρ = {rho:g}" if cell == "RNN" else f"the {cell} above (b = {bias:g})"
st.markdown(f"One loss ℓ = (fc(h_T) − x₁[0])² on {where} with a linear head fc: the network must recall the first input after "
            f"{seq_len} steps. g holds every parameter's gradient; clipping rescales all of it by one factor, so its direction stays.")
cols = st.columns(3)
cols[0].metric("‖g‖ before", f"{c.total:.4g}")
cols[1].metric("min(1, θ/‖g‖)", f"{c.coefficient:.4g}")
cols[2].metric("‖g‖ after clip_grad_norm_", f"{c.torch_clipped:.4g}")
before_plot, _ = rg.for_log_scale(c.before)
after_plot, _ = rg.for_log_scale(c.after)
classroom.chart(charts.rnn_clipping_bars(c.names, before_plot, after_plot, max(c.total, rg.FLOOR),
                                         max(c.torch_clipped, rg.FLOOR), theta, COLORS[cell]), key="rnn_clip_chart")
st.caption("torch.nn.utils.clip_grad_norm_ divides by ‖g‖ + 10⁻⁶, not ‖g‖: the clipped norm is θ·‖g‖/(‖g‖ + 10⁻⁶), a hair under θ. "
           "Tensors with a zero gradient are drawn at 10⁻³⁰⁰.")

# 4. Parameter counts ------------------------------------------------------------------------------------------------
st.subheader("4 · Parameter counts")
st.dataframe(params.drop(columns=["PyTorch formula"]), hide_index=True, width="stretch", column_config={
    "G": st.column_config.NumberColumn("gate blocks G"),
    "course": st.column_config.NumberColumn("course: Σ G·d_h(d_h + d_l + 1)"),
    "numel": st.column_config.NumberColumn("sum(p.numel())"),
    "difference": st.column_config.NumberColumn("difference"),
})
st.markdown(
    f"d_x = {d_x}, d_h = {hidden}, {layers} layer{'s' if layers > 1 else ''}; d_l is what layer l reads: d_x for the first, "
    f"d_h (the layer below's h) for the others. **The difference is exactly G·d_h per layer**: PyTorch keeps two bias vectors "
    "per gate block, b_ih and b_hh, where the course writes one b. In the RNN, the LSTM and the GRU's r and z gates they are only "
    "ever added, so one of them is redundant; in the GRU's candidate n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)) the reset "
    "gate multiplies b_hn, so there both matter. The course's §8.2 total for the RNN also counts the output layer W_hy, b_y; "
    "nn.RNN has no output layer, so the RNN row counts d_h(d_h + d_x + 1), the recurrent layer alone."
)
with st.expander(f"Every parameter of nn.{cell}"):
    st.dataframe(shapes, hide_index=True, width="stretch")

# 5. LSTM vs GRU time ------------------------------------------------------------------------------------------------
st.subheader("5 · LSTM vs GRU: forward + backward time")
sizes = (d_x, hidden, layers, seq_len)
timings = st.session_state.setdefault("rnn_timings", {})
st.markdown(f"The course says the GRU is about 25% faster (§10.4); with 3 gate blocks against 4, the arithmetic alone "
            f"predicts a time ratio of 0.75. A batch of {rg.TIMING_BATCH} sequences of T = {seq_len}, d_x = {d_x}, d_h = {hidden}, "
            f"{layers} layer{'s' if layers > 1 else ''}, float32, on this machine's CPU.")
if st.button("Time LSTM vs GRU at these sizes", key="rnn_time", icon=":material/timer:"):
    with st.spinner("Timing…"):
        timings[sizes] = rg.time_forward_backward(*sizes)
timing = timings.get(sizes)
if timing is None:
    st.info("Press the button to measure; it takes a few seconds and never runs on its own.", icon=":material/timer:")
else:
    rounds = len(timing.runs["LSTM"])
    for title, lstm, gru in (("As PyTorch runs them: nn.LSTM and nn.GRU", "LSTM", "GRU"),
                             ("The same layers one step at a time: nn.LSTMCell and nn.GRUCell", "LSTMCell", "GRUCell")):
        st.markdown(f"**{title}**")
        cols = st.columns(3)
        for col, name in zip(cols, (lstm, gru)):
            q1, q3 = timing.iqr(name)
            col.metric(f"{name}: median ms", f"{timing.median(name):.2f}")
            col.caption(f"IQR {q1:.2f}–{q3:.2f} ms over {rounds} runs")
        r1, r3 = timing.ratio_iqr(gru, lstm)
        cols[2].metric(f"{gru} / {lstm} time", f"{timing.ratio(gru, lstm):.3f}")
        cols[2].caption(f"round by round: IQR {r1:.3f}–{r3:.3f}")
    classroom.chart(charts.rnn_timing_spread(timing.runs, {n: COLORS[n.removesuffix("Cell")] for n in rg.TIMED}),
                    key="rnn_timing_chart")
    kernels = " and ".join(f"nn.{cell} {'ran the fused kernel ' + timing.kernels[cell] if timing.fused[cell] else 'ran ' + rg.STEPWISE}"
                           for cell in ("LSTM", "GRU"))
    st.markdown(f"Here {kernels} (read from each output's autograd graph). "
                + ("**The kernel, not the gate count, decides the first race**: on the CPU PyTorch sends nn.LSTM to oneDNN's "
                   "fused RNN kernel and has no such kernel for nn.GRU. " if timing.fused["LSTM"] != timing.fused["GRU"] else "")
                + f"Stepped the same way, one cell call per time step, the GRU takes {timing.ratio('GRUCell', 'LSTMCell'):.2f} × "
                "the LSTM's time: that is the comparison the course's 25% is about.")
    st.caption(f"Batch of {rg.TIMING_BATCH}, float32, one warm-up round, then {rounds} rounds with one run of each, the order "
               f"rotating. {timing.threads} CPU thread{'s' if timing.threads > 1 else ''}, shared with every other session on this "
               "machine: times move between presses, so press again to see by how much.")

# The math, the checks, the code --------------------------------------------------------------------------------------
with panels.math_panel("rnn"):
    st.markdown("Backpropagation through time (§8.5): the loss at step t reaches h_k through a product of one-step Jacobians.")
    st.latex(r"\frac{\partial \ell_t}{\partial h_k} = \frac{\partial \ell_t}{\partial h_t} \prod_{i=k+1}^{t} \frac{\partial h_i}{\partial h_{i-1}},"
             r"\qquad \text{plotted: } \left\| \frac{\partial h_T}{\partial h_k} \right\|_2 = \left\| \prod_{i=k+1}^{T} \frac{\partial h_i}{\partial h_{i-1}} \right\|_2")
    n0 = f.norms[cell][0]
    if cell == "RNN":
        st.latex(r"h_t = \tanh(W_{hh} h_{t-1} + W_{xh} x_t + b_h), \qquad \frac{\partial h_t}{\partial h_{t-1}} = \mathrm{diag}(1 - h_t^2)\, W_{hh}")
    elif cell == "LSTM":
        st.markdown("PyTorch's LSTM is the course's (§9.3) with W·[h, x] split into W_h h + W_x x and two biases. The course's "
                    "highway (§9.4) is the direct path through the cell state, with $h_{t-1}$ held fixed:")
        st.latex(r"c_t = f_t \odot c_{t-1} + i_t \odot \tilde{c}_t, \qquad \frac{\partial c_t}{\partial c_{t-1}}\Big|_{h_{t-1}} = \mathrm{diag}(f_t), \qquad "
                 rf"\sigma(b) = \sigma({bias:g}) = {rg.sigmoid(bias):.4f}")
        st.markdown("The full step also runs through h: the page multiplies 2d_h × 2d_h Jacobians of the state (h, c), "
                    "with $\\partial c_t/\\partial h_{t-1} = \\mathrm{diag}(c_{t-1})\\, \\partial f_t/\\partial h + \\mathrm{diag}(\\tilde c_t)\\, \\partial i_t/\\partial h + \\mathrm{diag}(i_t)\\, \\partial \\tilde c_t/\\partial h$ and "
                    "∂h_t/∂(·) = diag(tanh c_t) ∂o_t/∂(·) + diag(o_t (1 − tanh² c_t)) ∂c_t/∂(·), and keeps the h_T-by-h_k block.")
    else:
        st.markdown("The course (§10.2, §10.6) writes h_t = (1 − z_t) ⊙ h_{t−1} + z_t ⊙ h̃_t; **PyTorch swaps the roles of z**, "
                    "h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t−1}, and applies the reset gate after the product with W_hn. "
                    "The course's key term diag(1 − z_t) is diag(z_t) in PyTorch's letters; the full one-step Jacobian the page multiplies:")
        st.latex(r"n_t = \tanh(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn})), \qquad "
                 r"\frac{\partial h_t}{\partial h_{t-1}} = \mathrm{diag}(z_t) + \mathrm{diag}(h_{t-1} - n_t)\frac{\partial z_t}{\partial h_{t-1}} "
                 r"+ \mathrm{diag}(1 - z_t)\frac{\partial n_t}{\partial h_{t-1}}")
    st.latex(rf"\text{{{cell}, }} T = {seq_len}: \quad \left\|\frac{{\partial h_T}}{{\partial h_0}}\right\|_2 = {tex(n0)}, \qquad "
             rf"\text{{per step}} \approx {tex(f.per_step(cell))}")
    st.markdown("The spectral radius (§8.6): the simple RNN's W_hh is rescaled so that its largest eigenvalue has modulus ρ.")
    st.latex(rf"W_{{hh}} \leftarrow W_{{hh}} \cdot \frac{{\rho}}{{|\lambda_{{max}}(W_{{hh}})|}} = W_{{hh}} \cdot \frac{{{rho:g}}}{{{v.lambda_init:.4f}}}, \qquad "
             rf"\text{{no activation: }} \left\|W_{{hh}}^{{{seq_len}}}\right\|_2 = {tex(v.linear[0])}, \quad \rho^{{{seq_len}}} = {tex(rho ** seq_len)}")
    st.latex(rf"\text{{tanh: }} \left\|\frac{{\partial h_T}}{{\partial h_0}}\right\|_2 = {tex(v.tanh[0])} \;\le\; \sigma_{{max}}(W_{{hh}})^{{T}} = "
             rf"{v.sigma_max:.4f}^{{{seq_len}}} = {tex(v.sigma_max ** seq_len)}")
    st.markdown("Gradient clipping (§8.6), and what `clip_grad_norm_` computes:")
    st.latex(rf"g \leftarrow \min\left(1, \frac{{\theta}}{{\|g\|}}\right) g = \min\left(1, \frac{{{theta:g}}}{{{tex(c.total)}}}\right) g = {tex(c.coefficient)}\, g, "
             rf"\qquad \text{{PyTorch: }} \min\left(1, \frac{{\theta}}{{\|g\| + 10^{{-6}}}}\right) g")
    st.markdown("Parameters per layer (§9.5, §10.4), with PyTorch's second bias vector beside it:")
    st.latex(rf"\text{{course: }} G\, d_h (d_h + d_l + 1), \qquad \text{{PyTorch: }} G\, d_h (d_h + d_l) + 2 G d_h, \qquad G = 1, 4, 3 \text{{ (RNN, LSTM, GRU)}}")
    row = params.set_index("cell").loc[cell]
    st.latex(rf"\text{{{cell}}}: {row['course']} + G\, d_h L = {row['course']} + {row['G']}\cdot{hidden}\cdot{layers} = {row['numel']} = \texttt{{sum(p.numel())}}")

panels.check_panel("rnn", rg.checks(f, v, c, params),
                   note="Everything in float64. h_T rows show ‖h_T‖ both ways and the largest entry difference. Jacobian rows show "
                   "‖∂h_T/∂h_0‖₂ both ways and the largest relative Frobenius difference over every k (a norm below 10⁻²⁰⁰ is "
                   "compared absolutely: products that small lose digits to underflow); W_hh^T is torch.linalg.matrix_power. "
                   "Clipping rows show the clipped norm; PyTorch's + 10⁻⁶ moves it by less than 10⁻⁶, the tolerance of the course's "
                   "formula, while PyTorch's own formula must match every entry.")
panels.code_panel("rnn", snippet.code(cell, seq_len, hidden, d_x, layers, bias, seed, rho, theta), "rnn_gradients.py")
