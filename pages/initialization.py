"""Initialization: one batch forward and backward through a deep MLP drawn by `torch.nn.init`, the course's variance
argument (§3.3) beside what every layer measures, BatchNorm (§3.4), and a short training run per scheme."""
import math

import streamlit as st

from core import charts
from core import init_training
from core import initialization as ini
from core.activations import saturation_edge
from core.snippets import initialization as snippet
from ui import classroom, controls, panels

ACT, SCHEME = ini.ACTIVATION_LABELS, ini.SCHEME_LABELS


@st.cache_data(max_entries=32, show_spinner=False)
def measure(depth, width, activation, scheme, batchnorm):
    return ini.run_pass(depth, width, activation, scheme, batchnorm)


@st.cache_data(max_entries=16, show_spinner=False)
def pytorch_default(width):
    return ini.default_linear(width)


@st.cache_data(max_entries=96, show_spinner=False)
def train(scheme, activation, batchnorm):
    return init_training.train_run(scheme, activation, batchnorm)


st.title("Weight initialization")
st.caption("One batch through a real `nn.Sequential` of L blocks Linear(n, n) → (BatchNorm1d) → activation, every weight "
           "drawn by `torch.nn.init`: how the variance of each layer's output grows or shrinks going forward, and the "
           "gradient of each layer's weights coming back.")

with st.sidebar:
    st.header("Network")
    depth = controls.slider("Layers L", "init_depth", 1, ini.MAX_DEPTH, 20)
    width = controls.select_slider("Width n (units per layer)", "init_width", ini.WIDTHS, 256)
    activation = controls.selectbox("Activation", "init_activation", ini.ACTIVATIONS, "relu", ACT.get)
    scheme = controls.selectbox("Initialization", "init_scheme", ini.SCHEMES, "default", SCHEME.get)
    batchnorm = controls.toggle("BatchNorm1d after each Linear", "init_batchnorm",
                                help="Linear → BatchNorm1d → activation, as in the course's §3.4 Net; train mode, batch statistics.")
    st.header("Training comparison")
    compare = controls.multiselect("Schemes to train (2 or 3)", "init_compare", ini.SCHEMES,
                                   ("default", "xavier_uniform", "kaiming_uniform"), SCHEME.get)

p = measure(depth, width, activation, scheme, batchnorm)
var_w, n = p.var_w_formula, width

cols = st.columns(4)
cols[0].metric("Var(W) by the formula", ini.number(var_w), help=ini.init_source(scheme, activation, None)[0])
cols[1].metric("n·Var(W): factor per layer", ini.number(n * var_w), help="The course's Var(z) = n·Var(W)·Var(x): 1 keeps the variance.")
cols[2].metric(f"Var(z) at layer {depth}", ini.number(p.var_z[-1]))
cols[3].metric("‖∂L/∂W‖: layer 1 ÷ layer L", ini.gradient_ratio_text(p),
               help="Below 1: the first layers learn slower than the last (vanishing). 0 ÷ 0: no layer gets a gradient.")

classroom.chart(charts.init_variance_profile(p), key="init_profile_chart")
st.caption(f"A batch of B = {p.batch} inputs x ~ N(0, 1) (B·n = {ini.VALUES_PER_LAYER:,} values per layer), train mode. "
           "Backward from L = (1/B)·Σ r ⊙ a⁽ᴸ⁾ with r ~ N(0, 1): every output gets a gradient of the same size, so the right "
           "panel shows what the layers do to it. Gaps: a value of exactly 0 (or not finite) has no place on a log axis.")

bad = p.overflow_layer
if bad is not None:
    st.error(f"From layer {bad} on the values overflow float32 (|value| > 3.4·10³⁸): they become inf, then NaN (inf − inf), "
             f"and so does every gradient, so the right panel is empty. Exploding activations, in real PyTorch.",
             icon=":material/error:")
if scheme == "zeros":
    st.info("All weights 0: every z is exactly 0 and every unit of a layer computes the same thing. The gradient reaching "
            "a layer passes through the next layer's Wᵀ = 0, so only the last layer's weights can get one (when its input "
            "f(0) is not 0): nothing breaks the symmetry, and training can never make the units differ.", icon=":material/info:")
elif bad is None and (first := ini.underflow_layer(p)) is not None:
    st.info(f"From layer {first} on the values underflow to exactly 0 in float32 (below 1.4·10⁻⁴⁵): vanishing activations.",
            icon=":material/info:")

if (forward := ini.forward_verdict(p, ACT[activation])) is not None:
    st.markdown(f"**Forward.** {forward}")
if (verdict := ini.gradient_verdict(p)) is not None:
    st.markdown(f"**Backward.** {verdict}")

with st.expander("Numbers per layer", key="init_show_table"):
    numbers = ini.layer_table(p).rename(columns={"share": ini.share_label(activation)})
    st.dataframe(numbers, hide_index=True, width="stretch",
                 column_config={c: st.column_config.NumberColumn(format="%.4g") for c in numbers.columns if c != "layer"})

st.subheader("Inside one layer")
with st.columns([2, 3])[0]:
    wanted = controls.slider("Layer to look inside (1 is next to the input)", "init_layer", 1, ini.MAX_DEPTH, 20)
layer = min(wanted, depth)
if wanted > depth:
    st.info(f"The network has {depth} layers: showing layer {depth}, the last.", icon=":material/info:")
edge = saturation_edge(activation, ini.SATURATION) if activation in ("sigmoid", "tanh") else None
if p.finite[layer - 1]:
    classroom.chart(charts.init_layer_histograms(p, layer, ACT[activation].split(" ")[0], edge), key="init_hist_chart")
    text = (f"Shaded ({ini.weak_region(activation)}): {p.share[layer - 1]:.1%} of this layer's {ini.VALUES_PER_LAYER:,} values "
            f"are {ini.share_label(activation)}.")
    if activation == "relu":
        text += (f" {p.dead_units[layer - 1]:.1%} of its {width} units are dead for this batch: u ≤ 0 for all {p.batch} inputs, "
                 "so they pass no gradient at all.")
    st.caption(text)
else:
    st.info(f"Layer {layer} holds inf or NaN: there is no histogram to draw. Pick a layer before {bad}.", icon=":material/info:")
classroom.chart(charts.init_layer_shares(p, layer, ini.share_label(activation)), key="init_shares_chart")


st.subheader("Training: the same deep MLP under each scheme")
st.caption(f"{init_training.architecture(ACT[activation], batchnorm)}; every Linear drawn by the scheme. "
           "Each run is kept, so a setting trains once.")
wanted_runs = [(s, activation, batchnorm) for s in compare]


@st.fragment(run_every=0.3 if not set(wanted_runs) <= st.session_state.get("init_trained", set()) else None)
def training_view() -> None:
    """Draws the runs that are ready; a missing run is trained on the next pass through here (the timer's), so the
    rest of the page never waits for training."""
    done = st.session_state.setdefault("init_trained", set())
    missing = [k for k in wanted_runs if k not in done]
    if missing and st.session_state.get("init_train_asked") == wanted_runs:
        with st.spinner(f"Training {len(missing)} run{'s' if len(missing) > 1 else ''}…"):
            for key in missing:
                train(*key)
                done.add(key)
        st.rerun()
    if missing:
        st.session_state["init_train_asked"] = wanted_runs
        st.info(f"Training {len(missing)} run{'s' if len(missing) > 1 else ''} (about a second each)…", icon=":material/hourglass_top:")
        return
    runs = [train(*key) for key in wanted_runs]
    classroom.chart(charts.init_training_curves(runs, SCHEME, init_training.base_rate_loss()), key="init_train_chart")
    st.dataframe(init_training.training_table(runs, SCHEME), hide_index=True, width="stretch",
                 column_config={"train loss": st.column_config.NumberColumn(format="%.4f"),
                                "validation loss": st.column_config.NumberColumn(format="%.4f"),
                                "validation accuracy (%)": st.column_config.NumberColumn(format="%.1f")})
    for run in runs:
        if run.status == "diverged":
            st.error(f"{SCHEME[run.scheme]}: {run.message}", icon=":material/error:")
    st.caption("Thin lines: the loss of each step; thick: its moving average; diamonds: validation loss after each epoch. "
               "The dashed line is the loss of predicting the share of potable samples for everyone: a run stuck on it has "
               "learned nothing from the features.")


if len(compare) < init_training.MIN_COMPARE:
    st.info(f"Pick at least {init_training.MIN_COMPARE} schemes under *Training comparison* in the sidebar to compare their training.",
            icon=":material/arrow_back:")
elif len(compare) > init_training.MAX_COMPARE:
    st.info(f"Pick at most {init_training.MAX_COMPARE} schemes (you picked {len(compare)}): each one trains for about a second, "
            "and more curves would not stay readable.", icon=":material/arrow_back:")
else:
    training_view()


with panels.math_panel("init"):
    nl, a = ini.nonlinearity(activation)
    gain = ini.gain_formula(nl, a)
    tex = panels.tex_number
    st.markdown(f"Course §3.3, for one layer z = Wx with i.i.d. weights, here with n_in = n_out = n = {n}:")
    st.latex(rf"\mathrm{{Var}}(z_j) = n_{{in}}\,\mathrm{{Var}}(W)\,\mathrm{{Var}}(x) \qquad"
             rf"\mathrm{{Var}}(z) = \mathrm{{Var}}(x) \iff \mathrm{{Var}}(W) = \frac{{1}}{{n_{{in}}}} = {tex(1 / n)}")
    st.latex(rf"\text{{Xavier/Glorot:}}\quad W \sim \mathcal{{U}}\!\left(-\sqrt{{\tfrac{{6}}{{n_{{in}}+n_{{out}}}}}}, \sqrt{{\tfrac{{6}}{{n_{{in}}+n_{{out}}}}}}\right),"
             rf"\ \sqrt{{\tfrac{{6}}{{{2 * n}}}}} = {tex(math.sqrt(6 / (2 * n)))}, \quad \mathrm{{Var}}(W) = \frac{{2}}{{n_{{in}}+n_{{out}}}} = {tex(2 / (2 * n))}")
    st.latex(rf"\text{{He/Kaiming (ReLU):}}\quad \mathrm{{Var}}(W) = \frac{{2}}{{n_{{in}}}} = {tex(2 / n)}, \quad "
             rf"W \sim \mathcal{{U}}\!\left(-\sqrt{{\tfrac{{6}}{{n_{{in}}}}}}, \sqrt{{\tfrac{{6}}{{n_{{in}}}}}}\right),\ \sqrt{{\tfrac{{6}}{{{n}}}}} = {tex(math.sqrt(6 / n))}")
    st.markdown("**What PyTorch does by default** (the course does not say): `nn.Linear.reset_parameters` calls "
                "`kaiming_uniform_(weight, a=math.sqrt(5))`, the leaky-ReLU gain with slope √5, and draws the bias from the same range:")
    st.latex(rf"\text{{gain}} = \sqrt{{\tfrac{{2}}{{1+a^2}}}} = \sqrt{{\tfrac{{1}}{{3}}}},\qquad b = \text{{gain}}\sqrt{{\tfrac{{3}}{{n_{{in}}}}}} = \frac{{1}}{{\sqrt{{n_{{in}}}}}} = {tex(1 / math.sqrt(n))}")
    st.latex(rf"W \sim \mathcal{{U}}(-b, b),\quad \mathrm{{Var}}(W) = \frac{{b^2}}{{3}} = \frac{{1}}{{3\,n_{{in}}}} = {tex(1 / (3 * n))},"
             rf"\qquad \text{{bias}} \sim \mathcal{{U}}(-b, b),\quad \mathrm{{Var}}(\text{{bias}}) = {tex(1 / (3 * n))}")
    st.markdown("That is a third of the variance that keeps a linear layer's scale and a sixth of Kaiming's: without "
                "BatchNorm, a deep stack of default `nn.Linear` layers shrinks its signal layer after layer, until what is "
                "left is mostly the biases' own variance, which every layer adds again.")
    st.markdown(f"`torch.nn.init`'s Kaiming functions take the gain of the nonlinearity, Var(W) = gain²/n_in. For "
                f"{ACT[activation]} the page passes `nonlinearity=\"{nl}\"`" + (f", `a={a:g}`" if nl == "leaky_relu" else "")
                + (" (PyTorch has no ELU gain; this is `kaiming_uniform_`'s own default, which the course's §3.4 Net uses with ELU)"
                   if activation == "elu" else "") + ":")
    st.latex(rf"\text{{gain}} = {tex(gain, 4)},\qquad \mathrm{{Var}}(W) = \frac{{\text{{gain}}^2}}{{n_{{in}}}} = {tex(gain**2 / n)},"
             rf"\qquad b = \text{{gain}}\sqrt{{\tfrac{{3}}{{n_{{in}}}}}} = {tex(gain * math.sqrt(3 / n))}")
    st.markdown(f"Every scheme at n_in = n_out = {n} (Kaiming with {ACT[activation]}'s gain):")
    st.dataframe(ini.scheme_table(activation, n), hide_index=True, width="stretch",
                 column_config={c: st.column_config.NumberColumn(format="%.4g") for c in ("Var(W)", "bound b", "n·Var(W)")})
    st.markdown("The course's formula takes x of mean 0. With a mean, and a bias, what a layer computes is")
    st.latex(r"\mathrm{Var}(z) = n_{in}\,\mathrm{Var}(W)\,\mathbb{E}[x^2] + \mathrm{Var}(b), \qquad \mathbb{E}[x^2] = \mathrm{Var}(x) + \mathbb{E}[x]^2")
    st.markdown("which is the dotted line on the chart. ReLU outputs have E[x²] = Var(z)/2 for a symmetric z: that is where "
                "Kaiming's factor 2 comes from. Going backward, ∂L/∂x = Wᵀ ∂L/∂z gives the same argument with n_out, "
                "and Xavier's 2/(n_in + n_out) is the compromise between the two:")
    st.latex(rf"\mathrm{{Var}}\!\left(\frac{{\partial L}}{{\partial x}}\right) = n_{{out}}\,\mathrm{{Var}}(W)\,\mathrm{{Var}}\!\left(\frac{{\partial L}}{{\partial z}}\right),"
             rf"\qquad n_{{out}}\,\mathrm{{Var}}(W) = {tex(n * var_w)}")
    st.markdown("BatchNorm (§3.4) after each Linear normalises every unit over the batch, so the activation's input has "
                "mean β = 0 and variance γ² = 1 whatever Var(W) was:")
    st.latex(r"\mu_B = \frac{1}{m}\sum_{i=1}^m z_i,\quad \sigma_B^2 = \frac{1}{m}\sum_{i=1}^m (z_i-\mu_B)^2,\quad"
             r"\hat z_i = \frac{z_i-\mu_B}{\sqrt{\sigma_B^2+\epsilon}},\quad u_i = \gamma \hat z_i + \beta")

panels.check_panel("init", ini.checks(p, pytorch_default(width)),
                   note="A variance measured on N draws sits a few standard errors √((μ₄ − σ⁴)/N) from the formula "
                   f"(μ₄ = 9σ⁴/5 for a uniform, 3σ⁴ for a normal): the tolerance is {ini.SIGMAS} of them. The largest |W| of N uniform "
                   "draws is below the bound b by less than b·ln(10⁹)/N with probability 1 − 10⁻⁹. Layer 1's E[z²] is "
                   f"compared with {ini.SIGMAS} standard errors of the batch mean, computed from the drawn W and b.")
panels.code_panel("init", snippet.code(depth, width, activation, scheme, batchnorm, tuple(compare)), "initialization.py")
