"""RNN shapes: what goes into nn.RNN, nn.LSTM and nn.GRU and what comes out, where out[:, -1] meets h_n,
the course's four architectures, and the shape mistakes that break them, each made on purpose."""
import streamlit as st

from core import charts, rnn_architectures, rnn_errors, rnn_shapes, rnn_shapes_view
from core.snippets import rnn_shapes as snippet
from ui import classroom, controls, panels

ARCH_LABELS = rnn_architectures.LABELS


@st.cache_data(max_entries=64, show_spinner=False)
def forward(*fields):
    return rnn_shapes.run(rnn_shapes.RNNConfig(*fields))


@st.cache_data(max_entries=64, show_spinner=False)
def architecture(arch, out_len, *fields):
    return rnn_architectures.trace(arch, rnn_shapes.RNNConfig(*fields), out_len)


@st.cache_data(max_entries=64, show_spinner=False)
def mistake(key, *fields):
    return rnn_errors.demo(key, rnn_shapes.RNNConfig(*fields))


def message(text: str) -> str:
    """PyTorch's text as inline code, so markdown leaves it alone."""
    return "`" + text.replace("`", "'") + "`"


st.title("RNN shapes")
st.caption("What goes into `nn.RNN`, `nn.LSTM` and `nn.GRU` and what comes out: every shape below is read from a real forward pass.")

with st.sidebar:
    st.header("The layer")
    cell = controls.radio("Cell", "rs_cell", rnn_shapes.CELLS, "LSTM")
    hidden = controls.slider("Hidden size H", "rs_hidden", 1, 64, 32)
    layers = controls.slider("num_layers L", "rs_layers", 1, 4, 2)
    batch_first = controls.toggle("batch_first", "rs_batch_first", True, help="Input and output laid out (N, T, ·) instead of (T, N, ·). h0 and h_n never change.")
    bidirectional = controls.toggle("bidirectional", "rs_bidirectional", False, help="A second pass from t = T down to t = 1; D_dir = 2.")
    st.header("The batch")
    batch = controls.slider("Batch size N", "rs_batch", 1, 64, 32)
    seq_len = controls.slider("Sequence length T", "rs_seq_len", 1, 100, 96)
    input_size = controls.slider("Input size D (features per step)", "rs_input_size", 1, 16, 1)
    st.header("Architecture")
    arch = controls.radio("Architecture", "rs_arch", rnn_architectures.ARCHITECTURES, "seq2vec", ARCH_LABELS.get, horizontal=False)
    out_len = controls.slider("Decoder steps T′", "rs_out_len", 1, 48, 24) if arch == "encdec" else 24
    st.header("Break it")
    error = controls.radio("Mistake", "rs_error", rnn_errors.ERRORS, "no_feature_dim", rnn_errors.LABELS.get, horizontal=False)

fields = (cell, batch, seq_len, input_size, hidden, layers, batch_first, bidirectional)
config = rnn_shapes.RNNConfig(*fields)
result = forward(*fields)

classroom.chart(charts.rnn_shape_flow(*rnn_shapes_view.flow_rows(result)), key="rs_flow_chart")
st.dataframe(rnn_shapes_view.shape_table(result), hide_index=True, width="stretch")
st.caption(
    "N batch size, T sequence length, D input size, H hidden size, L num_layers, D_dir = 2 if bidirectional else 1. "
    "batch_first moves N to the front of the input and the output only: h0, c0, h_n and c_n are always (D_dir·L, N, H)."
)

st.subheader("The last time step and h_n")
classroom.chart(charts.rnn_last_state_map(**rnn_shapes_view.state_map_labels(result)), key="rs_state_chart")
last, sample = ("out[:, -1, :]", "out[0, -1, :4]") if batch_first else ("out[-1]", "out[-1, 0, :4]")
if not bidirectional:
    st.markdown(
        f"`{last}` **is** `h_n[-1]`: the top layer's state after the last step. Sample 0's first numbers: "
        f"`{sample}` = [{', '.join(f'{v:.4f}' for v in result.out_last_values)}] and "
        f"`h_n[-1][0, :4]` = [{', '.join(f'{v:.4f}' for v in result.h_n_values)}]. "
        f"The other entries of h_n are the lower layers' last states, which `output` never shows."
    )
else:
    st.markdown(
        f"With `bidirectional=True`, `{last}` has 2H = {2 * hidden} features and is **not** one state: its first H are the "
        f"forward direction's last state (= `h_n[-2]`), its last H the backward direction's state after reading only x_T "
        + (f"(max |Δ| to `h_n[-1]` = {result.backward_last_diff:.3f}). " if result.backward_last_diff else "(with T = 1 that is its final state too). ")
        + "The backward direction finishes at t = 1, so its final state sits at `out[:, 0, H:]`. For a sequence summary "
        "use `torch.cat([h_n[-2], h_n[-1]], dim=1)`, shape (N, 2H)."
    )

st.subheader("Four architectures")
classroom.chart(charts.rnn_architectures(cell, arch, ARCH_LABELS), key="rs_arch_chart")
trace = architecture(arch, out_len, *fields)
about_col, shape_col = st.columns([2, 3])
with about_col:
    st.markdown(f"**{ARCH_LABELS[arch]}** (course §8.4) uses {rnn_architectures.USES[arch]}")
    for line in rnn_shapes_view.ARCH_EQUATIONS[arch]:
        st.latex(line)
with shape_col:
    st.dataframe(trace.table, hide_index=True, width="stretch", height=36 * (len(trace.table) + 1))
    st.caption("Every tensor in and out of each layer of the module below, recorded with forward hooks during one pass.")
st.code(rnn_architectures.source(arch), language="python")

st.subheader(f"When it breaks: {rnn_errors.LABELS[error]}")
demo = mistake(error, *fields)
if demo.note:
    st.caption(demo.note)
st.markdown("**The mistake**")
st.code(demo.wrong_code, language="python")
if demo.error:
    st.error(f"PyTorch raised {message(demo.error)}", icon=":material/error:")
for text in demo.warnings:
    st.error(f"PyTorch warned (UserWarning) {message(text)}", icon=":material/warning:")
if demo.silent:
    st.error("No error and no warning, and the result is wrong.", icon=":material/visibility_off:")
st.markdown(f"{demo.outcome} {demo.explanation}")
st.markdown("**The fix**")
st.code(demo.fix_code, language="python")
st.success(demo.fixed_outcome, icon=":material/check_circle:")

if not classroom.predict("rs", f"How many parameters does nn.{cell}(input_size={input_size}, hidden_size={hidden}, num_layers={layers}"
                         f"{', bidirectional=True' if bidirectional else ''}) have: sum(p.numel() for p in rnn.parameters())?",
                         result.param_formula, shown=lambda a: f"{a:,}"):
    st.stop()  # the math panel shows the answer

with panels.math_panel("rs"):
    g = rnn_shapes.GATES[cell]
    st.markdown(f"The course's {cell} (§{rnn_shapes_view.COURSE_SECTIONS[cell]}):")
    for line in rnn_shapes_view.COURSE_EQUATIONS[cell]:
        st.latex(line)
    st.markdown("PyTorch's, which the check recomputes step by step from the module's weights:")
    for line in rnn_shapes_view.PYTORCH_EQUATIONS[cell]:
        st.latex(line)
    st.markdown(rnn_shapes_view.DIFFERENCES[cell])
    st.markdown("Shapes (PyTorch's docs; layer l > 1 reads the layer below's output, D_l = D_dir·H):")
    st.latex(
        rf"\text{{output}}: ({'N, T' if batch_first else 'T, N'}, D_{{dir}} H) = {result.actual['output']}, \qquad "
        rf"h_n: (D_{{dir}} L, N, H) = ({config.num_directions}\cdot{layers}, {batch}, {hidden}) = {result.actual['h_n']}"
    )
    sizes = rnn_shapes.layer_input_sizes(config)
    terms = " + ".join(rf"{g}\cdot{hidden}\,({d_l} + {hidden} + 2)" for d_l in sizes)
    st.markdown(f"Parameters: G = {g} weight blocks per cell; per layer and direction G·H·(D_l + H) weights and two biases:")
    st.latex(rf"{config.num_directions} \times \bigl({terms}\bigr) = {panels.tex_number(result.param_formula, 12)}")
    st.markdown(
        f"The course counts one bias per gate, G·H·(H + D_l + 1) (§9.5, §10.4): {result.course_params:,} here, "
        f"{result.param_formula - result.course_params:,} fewer than PyTorch's, exactly its second bias vector."
    )

panels.check_panel(
    "rs", rnn_shapes.checks(result),
    note="Shape rows: the formula's element count against the forward pass's, and in |difference| the number of "
    "dimensions that differ (0 to pass). The step-by-step equations run in float32, so they may differ from the module by rounding.",
)
panels.code_panel("rs", snippet.code(config, arch, out_len, error), "rnn_shapes.py")
