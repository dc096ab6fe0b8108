"""Activations: f(z) and f′(z) by autograd beside the course's closed forms, dead and saturated units,
and the product of derivatives through L layers that makes gradients vanish."""
import streamlit as st

from core import activations, charts
from core.snippets import activations as snippet
from ui import classroom, controls, panels

FUNCTIONS = activations.FUNCTIONS
LABELS = activations.LABELS
COLORS = charts.series_colors(FUNCTIONS)


@st.cache_data(max_entries=64, show_spinner=False)
def curves(names, z_min, z_max, leaky, elu):
    return activations.curves(names, z_min, z_max, activations.Alphas(leaky, elu))


@st.cache_data(max_entries=256, show_spinner=False)
def unit_stats(name, leaky, elu, mu, sigma, threshold):
    return activations.unit_stats(name, activations.Alphas(leaky, elu), mu, sigma, threshold)


st.title("Activation functions")
st.caption("Each curve is computed by the real `torch.nn` module; its derivative by autograd, checked against the course's formula.")

with st.sidebar:
    st.header("Functions")
    names = tuple(controls.multiselect("Activations", "act_functions", FUNCTIONS, ("sigmoid", "tanh", "relu"), LABELS.get))
    z_min = controls.slider("z from", "act_z_min", -20.0, -0.5, -6.0, step=0.5)
    z_max = controls.slider("z to", "act_z_max", 0.5, 20.0, 6.0, step=0.5)
    leaky = controls.slider("LeakyReLU α (negative slope)", "act_alpha_leaky", 0.0, 0.5, 0.01, step=0.01)
    elu = controls.slider("ELU α", "act_alpha_elu", 0.1, 3.0, 1.0, step=0.1)
    st.header("Pre-activations z ~ N(μ, σ²)")
    mu = controls.slider("μ (mean)", "act_mu", -5.0, 5.0, 0.0, step=0.1)
    sigma = controls.slider("σ (spread)", "act_sigma", 0.1, 5.0, 1.0, step=0.1)
    threshold = controls.slider(
        "Saturated when f′(z) is below this share of its peak", "act_saturation", 0.01, 0.5, 0.1, step=0.01
    )
    st.header("Depth")
    depth = controls.slider("Layers L", "act_depth", 1, 50, 10)

if not names:
    st.info("Pick at least one activation function in the sidebar.", icon=":material/arrow_back:")
else:
    curve_table = curves(names, z_min, z_max, leaky, elu)
    stats = [unit_stats(name, leaky, elu, mu, sigma, threshold) for name in names]
    band = (max(z_min, mu - 2 * sigma), min(z_max, mu + 2 * sigma))
    classroom.chart(charts.activation_curves(curve_table, LABELS, COLORS, band if band[0] < band[1] else None), key="act_chart")

    st.subheader("What each unit does to a gradient")
    summary = activations.summary(stats, depth)
    st.dataframe(
        summary.assign(function=summary.function.map(LABELS)),
        hide_index=True,
        width="stretch",
        column_config={
            "max_df": st.column_config.NumberColumn("max f′(z)", format="%.4f"),
            "mean_df": st.column_config.NumberColumn("E[f′(z)]", format="%.4f"),
            "dead": st.column_config.NumberColumn("dead: f′ = 0", format="percent"),
            "saturated": st.column_config.NumberColumn(f"saturated: f′ < {threshold:g}·max", format="percent"),
            "product": st.column_config.NumberColumn(f"(E[f′])^L at L = {depth}", format="%.2e"),
        },
    )
    st.caption(
        f"Shares measured on {stats[0].n_samples:,} pre-activations drawn from N({mu:g}, {sigma:g}²), "
        "derivatives by autograd; the grey band on the f′ chart is μ ± 2σ, where 95% of them fall. "
        "A dead unit passes no gradient at all; a saturated one passes a sliver."
    )

    st.subheader(f"Through {depth} layers")
    classroom.chart(charts.depth_products(activations.depth_products(stats, depth), LABELS, COLORS), key="act_depth_chart")
    st.caption(
        "Backpropagation multiplies one f′ per layer. Dashed: every unit at the peak of f′, the course's argument "
        "(sigmoid's best is 0.25 per layer). Solid: each layer's z drawn from N(μ, σ²), so the expected product is (E[f′])^L. "
        "Sigmoid shrinks even in its best case; ReLU passes gradients unchanged through every active unit."
    )

    with panels.math_panel("act"):
        st.markdown("From the course (§3.1–3.2); GELU and SiLU from PyTorch's documentation.")
        formulas = {
            "sigmoid": r"\sigma(z) = \frac{1}{1+e^{-z}}, \qquad \sigma'(z) = \sigma(z)\,(1-\sigma(z))",
            "tanh": r"\tanh(z) = \frac{e^z-e^{-z}}{e^z+e^{-z}}, \qquad \tanh'(z) = 1-\tanh^2(z)",
            "relu": r"\mathrm{ReLU}(z) = \max(0,z), \qquad \mathrm{ReLU}'(z) = \mathbb{1}_{z>0}",
            "leaky_relu": rf"\mathrm{{LeakyReLU}}(z) = \begin{{cases}} z & z>0 \\ {leaky:g}\,z & z\le 0\end{{cases}}, \qquad f'(z) = \begin{{cases}} 1 & z>0 \\ {leaky:g} & z\le 0\end{{cases}}",
            "elu": rf"\mathrm{{ELU}}(z) = \begin{{cases}} z & z>0 \\ {elu:g}\,(e^z-1) & z\le 0\end{{cases}}, \qquad f'(z) = \begin{{cases}} 1 & z>0 \\ {elu:g}\,e^z & z\le 0\end{{cases}}",
            "gelu": r"\mathrm{GELU}(z) = z\,\Phi(z), \qquad f'(z) = \Phi(z) + z\,\varphi(z)",
            "silu": r"\mathrm{SiLU}(z) = z\,\sigma(z), \qquad f'(z) = \sigma(z)\,\bigl(1 + z\,(1-\sigma(z))\bigr)",
        }
        for name in names:
            st.latex(formulas[name])
        st.markdown("Backpropagation through L layers multiplies one derivative per layer (§3.1):")
        st.latex(r"\frac{\partial \mathcal{L}}{\partial W^{(l)}} = \frac{\partial \mathcal{L}}{\partial a^{(L)}} \cdot \prod_{k=l+1}^{L} \frac{\partial a^{(k)}}{\partial a^{(k-1)}} \cdot \frac{\partial a^{(l)}}{\partial W^{(l)}}")
        if "sigmoid" in names:
            st.latex(rf"\sigma'(z) \le \sigma'(0) = 0.25 \;\Rightarrow\; 0.25^{{{depth}}} = {panels.tex_number(0.25 ** depth)}")
        if "relu" in names:
            dead = next(s.dead_formula for s in stats if s.function == "relu")
            st.latex(rf"P(\text{{dead}}) = P(z \le 0) = \Phi\!\left(-\tfrac{{\mu}}{{\sigma}}\right) = \Phi\!\left(-\tfrac{{{mu:g}}}{{{sigma:g}}}\right) = {dead:.4f}")
        if any(n in activations.SATURATING for n in names):
            st.markdown(
                f"A sigmoid or tanh unit is saturated where f′(z) < {threshold:g}·max f′, that is |z| > z_t with "
                + ", ".join(f"z_t = {activations.saturation_edge(n, threshold):.3f} for {LABELS[n]}" for n in names if n in activations.SATURATING)
                + "; for z ~ N(μ, σ²) that happens with probability"
            )
            st.latex(r"P(|z| > z_t) = \Phi\!\left(\frac{-z_t-\mu}{\sigma}\right) + 1 - \Phi\!\left(\frac{z_t-\mu}{\sigma}\right)")

    panels.check_panel(
        "act",
        activations.checks(curve_table, stats, z_min, z_max),
        note="Measured fractions come from a finite sample, so they may differ from the formula by a few standard errors: "
        "the tolerance is 4·√(p(1−p)/n).",
    )
    panels.code_panel(
        "act",
        snippet.code(names, z_min, z_max, activations.Alphas(leaky, elu), mu, sigma, depth, threshold),
        "activations.py",
    )
