"""Softmax & cross-entropy: probabilities from K logits, the course's three ways to the same loss, what
float32 does to the naive formula with large logits, and the softmax Jacobian by formula and autograd."""
import math

import streamlit as st

from core import charts, softmax
from core.snippets import softmax as snippet
from ui import classroom, controls, panels


@st.cache_data(max_entries=128, show_spinner=False)
def compute(z, temperature, scale, true_class):
    return softmax.view(z, temperature, scale, true_class)


def number(x: float) -> str:
    return "inf" if math.isinf(x) else ("nan" if math.isnan(x) else f"{x + 0.0:.6g}")  # + 0.0 turns −0 into 0


st.title("Softmax & cross-entropy")
st.caption("Logits in, probabilities out: every number is computed by PyTorch in float32, its default, and checked against the course's formulas.")

with st.sidebar:
    st.header("Logits")
    k = controls.slider("Classes K", "sm_num_classes", 2, softmax.MAX_CLASSES, 3)
    z = tuple(controls.slider(f"z{i}", f"sm_logit_{i}", -10.0, 10.0, softmax.DEFAULT_LOGITS[i], step=0.1) for i in range(k))
    picked = controls.slider("True class c (0 to K − 1)", "sm_true_class", 0, softmax.MAX_CLASSES - 1, 0)
    st.header("Scaling")
    temperature = controls.slider("Temperature T", "sm_temperature", 0.1, 5.0, 1.0, step=0.1,
                                  help="Divides every logit: T > 1 flattens the probabilities, T < 1 sharpens them.")
    scale = controls.slider("Scale (multiplies every logit)", "sm_scale", 1, 100, 1,
                            help="Large logits: exp(u) overflows float32 once u > 88.7.")

true_class = min(picked, k - 1)
if picked != true_class:
    st.info(f"Class {picked} does not exist with K = {k} classes (0 to {k - 1}): the loss below uses class {true_class}. "
            "Lower the true class or add classes.", icon=":material/info:")
v = compute(z, temperature, scale, true_class)

classroom.chart(charts.softmax_bars(v.u, v.probs, true_class), key="sm_bars")
st.markdown(f"**Cross-entropy for true class c = {true_class}** (orange above), three ways (float32):")
cols = st.columns(3)
cols[0].metric("−u_c + log Σ e^(u_j)  (torch.logsumexp)", number(v.ce_formula))
cols[1].metric("−log softmax(u)_c", number(v.ce_neg_log))
cols[2].metric("F.cross_entropy(u, c)", number(v.ce_torch))
if math.isinf(v.ce_neg_log):
    st.error(
        f"−log softmax(u)_c is inf: in float32 softmax(u)_{true_class} underflowed to 0, and −log 0 = inf. "
        "The log-sum-exp form never forms that tiny probability, which is why `nn.CrossEntropyLoss` takes logits "
        "(LogSoftmax + NLLLoss), not probabilities.", icon=":material/error:")
else:
    st.caption("All three agree to float32 precision: they are the same formula. The course's form (§6.1) is what "
               "`nn.CrossEntropyLoss` computes, via LogSoftmax and NLLLoss.")

st.subheader("Numerical stability: exp(u) in float32")
st.dataframe(softmax.stability_table(v), hide_index=True, width="stretch")
left, right = st.columns(2)
left.metric("log Σ exp(u), as written", number(v.naive_logsumexp))
right.metric("torch.logsumexp(u)", number(v.logsumexp))
if v.overflow:
    st.error(
        f"exp(u) overflowed: float32 stops at 3.4·10³⁸ = e^{softmax.FLOAT32_EXP_LIMIT:.1f}, so exp(u) = inf, the sum is inf "
        "and inf / inf = nan. torch.softmax and torch.logsumexp subtract the largest logit m first, "
        "e^(u_k − m) / Σ e^(u_j − m), which is the same number and never overflows.", icon=":material/error:")
else:
    st.info(f"No overflow yet: the largest u is {v.u.max():.4g}. Raise the scale (or lower T) until some u passes "
            f"{softmax.FLOAT32_EXP_LIMIT:.1f} and watch the naive column turn into inf and nan.", icon=":material/trending_up:")

st.subheader("The softmax Jacobian")
classroom.chart(charts.softmax_jacobians(v.jacobian_formula, v.jacobian_autograd), key="sm_jacobian")
st.caption(f"Max |formula − autograd| = {v.jacobian_error:.1e}. Each row sums to 0: raising one logit takes probability "
           "from the others. The diagonal s_i(1 − s_i) is largest when a class is undecided (s_i = ½)"
           + (", and with one class near certain every entry is near 0: a saturated softmax passes almost no gradient."
              if abs(v.jacobian_formula).max() < 1e-3 else "."))

with panels.math_panel("sm"):
    c, uc, pc = true_class, float(v.u[true_class]), float(v.probs_formula[true_class])
    st.markdown("Softmax and cross-entropy (§6.1), with u = scale · z / T:")
    st.latex(rf"\hat{{y}}_k = \frac{{e^{{u_k}}}}{{\sum_{{j=1}}^{{{k}}} e^{{u_j}}}}, \qquad u_k = \frac{{{scale} \cdot z_k}}{{{temperature:g}}}")
    st.latex(rf"\hat{{y}}_{{{c}}} = \frac{{e^{{{uc:.4g}}}}}{{\sum_j e^{{u_j}}}} = {panels.tex_number(pc, 6)}")
    st.latex(rf"\mathcal{{L}}_{{CE}} = -\log \hat{{y}}_c = -u_c + \log \sum_j e^{{u_j}} = -({uc:.4g}) + {panels.tex_number(v.logsumexp64, 8)} = {panels.tex_number(v.ce_formula64, 8)}")
    st.markdown("What torch.softmax and torch.logsumexp compute instead, with m = max_j u_j (the same numbers, no overflow):")
    st.latex(rf"\hat{{y}}_k = \frac{{e^{{u_k - m}}}}{{\sum_j e^{{u_j - m}}}}, \qquad \log \sum_j e^{{u_j}} = m + \log \sum_j e^{{u_j - m}}, \quad m = {float(v.u.max()):.4g}")
    st.markdown("The Jacobian (course's quick reference), with s = softmax(u):")
    st.latex(r"\frac{\partial s_i}{\partial u_j} = s_i(\delta_{ij} - s_j), \qquad J = \operatorname{diag}(s) - s s^\top")
    st.latex(rf"\frac{{\partial s_{{{c}}}}}{{\partial u_{{{c}}}}} = {pc:.4f}\,(1 - {pc:.4f}) = {float(v.jacobian_formula[c, c]):.6f}")

panels.check_panel("sm", softmax.checks(v), note="The formulas are evaluated in float64; PyTorch's results are float32, "
                   "so the losses may differ by float32 rounding (a relative 1e-5 passes).")
panels.code_panel("sm", snippet.code(z, temperature, scale, true_class), "softmax.py")
