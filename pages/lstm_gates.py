"""LSTM & GRU gates: a real nn.LSTM, nn.GRU or nn.RNN reads a sequence; its gates and states, recomputed from
the module's own weights, over time × unit; the course's equations beside PyTorch's, and where they differ."""
import streamlit as st

from core import charts, gates
from core import gate_tasks as tasks
from core.snippets import lstm_gates as snippet
from ui import classroom, controls, panels

LABELS = {
    "LSTM": {"f": "forget gate f<sub>t</sub>", "i": "input gate i<sub>t</sub>", "o": "output gate o<sub>t</sub>",
             "g": "candidate c̃<sub>t</sub> (PyTorch: g<sub>t</sub>)", "c": "cell state c<sub>t</sub>", "h": "hidden state h<sub>t</sub>"},
    "GRU": {"r": "reset gate r<sub>t</sub>", "z": "update gate z<sub>t</sub>, PyTorch's: share of h<sub>t−1</sub> kept",
            "n": "candidate h̃<sub>t</sub> (PyTorch: n<sub>t</sub>)", "h": "hidden state h<sub>t</sub>"},
    "RNN": {"h": "hidden state h<sub>t</sub>"},
}
SCALES = {"f": "gate", "i": "gate", "o": "gate", "r": "gate", "z": "gate", "g": "tanh", "n": "tanh", "h": "tanh", "c": "state"}


@st.cache_data(max_entries=48, show_spinner=False)
def model(cell, hidden, kind, trained, seed):
    return tasks.build(cell, hidden, kind, trained, seed)


@st.cache_data(max_entries=96, show_spinner=False)
def view(cell, hidden, kind, trained, seed, seq_len, frequency):
    m = model(cell, hidden, kind, trained, seed)
    x, target = tasks.signal(kind, seq_len, frequency, seed)
    return gates.trace(m, x, target)


st.title("LSTM & GRU gates")
st.caption("A real `nn.LSTM`, `nn.GRU` or `nn.RNN` reads one sequence. Every gate below is recomputed from the module's own "
           "`weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0` and `bias_hh_l0`, and checked against what the module returns.")

with st.sidebar:
    st.header("The model")
    cell = controls.radio("Cell", "rnn_cell", gates.CELLS, "LSTM", help="The simple RNN has no gates: it is here for contrast.")
    hidden = controls.slider("Hidden size H", "rnn_hidden", 1, tasks.MAX_HIDDEN, 8)
    trained = controls.toggle("Trained on a memory task", "rnn_trained", True,
                              help=f"Off: PyTorch's default initialisation at the seed. On: then {tasks.TRAIN_STEPS} Adam steps "
                                   "on the chosen input's task (a few seconds once, then cached).")
    seed = controls.number_input("Seed", "rnn_seed", 0, 9999, 0, step=1)
    st.header("The sequence")
    kind = controls.selectbox("Input", "rnn_input", tasks.INPUTS, "impulse", tasks.INPUT_LABELS.get)
    frequency = 0.05
    if kind in tasks.PERIODIC:
        frequency = controls.slider("Frequency f (cycles per step)", "rnn_frequency", tasks.MIN_FREQ, tasks.MAX_FREQ, 0.05,
                                    step=0.01, help="The period is 1/f steps.")
    seq_len = controls.slider("Sequence length T", "rnn_seq_len", tasks.MIN_LEN, tasks.MAX_LEN, 60)
    st.header("Line traces")
    chosen_unit = controls.slider("Unit", "rnn_unit", 0, tasks.MAX_HIDDEN - 1, 0, help="Units are numbered 0 … H − 1, as in h[:, :, u].")
    unit = min(chosen_unit, hidden - 1)
    if unit != chosen_unit:
        st.info(f"There is no unit {chosen_unit} with H = {hidden}: showing unit {unit}, the last one.", icon=":material/info:")

with st.spinner(f"Training the {cell} ({tasks.TRAIN_STEPS} Adam steps), once for this setting…"):
    m = model(cell, hidden, kind, trained, seed)
tr = view(cell, hidden, kind, trained, seed, seq_len, frequency)

if m.message:
    st.warning(m.message, icon=":material/warning:")
if trained and m.losses:
    beyond = (f" Steps after t = {tasks.TRAIN_LEN} run longer than any training sequence."
              if seq_len > tasks.TRAIN_LEN else "")
    st.markdown(
        f"**Trained** (cached for this cell, H, input and seed): {len(m.losses)} Adam steps (lr {tasks.LR}, batch "
        f"{tasks.BATCH_SIZE}) over {tasks.TRAIN_SEQUENCES} sequences of {tasks.TRAIN_LEN} steps to {tasks.TASKS[kind]}. "
        f"Training MSE {m.losses[0]:.4f} → {m.losses[-1]:.4f} in {m.seconds:.1f} s; on this sequence, MSE {tr.mse:.4f}.{beyond}"
    )
elif not trained:
    st.markdown(
        f"**Untrained**: PyTorch's default initialisation, every weight and bias of the cell drawn from "
        f"U(−1/√H, 1/√H) = U(−{hidden ** -0.5:.3f}, {hidden ** -0.5:.3f}) at seed {seed}. The gates show how random "
        "weights respond to the input, not anything learned."
    )

steps = list(range(1, seq_len + 1))
labels = LABELS[cell]
lines = {"x": ("input x<sub>t</sub>", tr.x)}
if trained:
    lines |= {"target": ("target", tr.target), "y_hat": ("model output ŷ<sub>t</sub>", tr.y_hat)}
values = {k: tr.values[k] for k in gates.QUANTITIES[cell]}
gate_names = [k for k in values if k in gates.GATES]
if gate_names:
    left, right = st.columns(2)
    with left:
        classroom.chart(charts.gate_heatmaps(steps, {k: values[k] for k in gate_names}, labels, SCALES, lines, unit), key="rnn_gates_map")
    with right:
        classroom.chart(charts.gate_heatmaps(steps, {k: v for k, v in values.items() if k not in gate_names}, labels, SCALES, lines, unit),
                        key="rnn_states_map")
else:
    classroom.chart(charts.gate_heatmaps(steps, values, labels, SCALES, lines, unit), key="rnn_states_map")
scale_note = {
    "LSTM": "Gates from 0 (closed, purple) to 1 (open, yellow); the candidate and h from −1 (blue) to 1 (red); the cell state c, "
            "which is not bounded, on the same blue–red scale at ± its largest magnitude.",
    "GRU": "Gates from 0 (closed, purple) to 1 (open, yellow); the candidate and h from −1 (blue) to 1 (red).",
    "RNN": "h from −1 (blue) to 1 (red).",
}[cell]
st.caption(f"{scale_note} The outlined row is unit {unit}, traced below." if hidden > 1 else scale_note)

st.subheader(f"Unit {unit} over time")
classroom.chart(charts.unit_traces(steps, {k: v[:, unit] for k, v in values.items()}, labels, gates.GATES, tr.x), key="rnn_unit_chart")
explain = {
    "LSTM": "The forget gate decides how much of $c_{t-1}$ survives a step, the input gate how much of the candidate "
            "is written, the output gate how much of tanh($c_{t}$) is shown as $h_{t}$. A memory is a cell "
            "state that stays put: f near 1 and i near 0 after the write.",
    "GRU": "The GRU has no separate cell state: $h_{t}$ mixes $h_{t-1}$ and the candidate. In PyTorch, an update "
           "gate z near 1 keeps the old state (the course's z is 1 − this one); the reset gate decides how much of "
           "$h_{t-1}$ the candidate may use.",
    "RNN": "The simple RNN has no gates: every step squashes $W_{hh}$ $h_{t-1}$ through tanh again, so what it "
           "remembers fades or saturates; compare with the LSTM and the GRU at the same settings.",
}
st.markdown(explain[cell])
strongest, final = gates.strongest_unit(tr)
if strongest != unit:
    state = "cell state $c_{T}$" if cell == "LSTM" else "hidden state $h_{T}$"
    st.markdown(f"Unit {strongest} ends with the largest {state} = {final:.3f}: set *Unit* to {strongest} to trace it.")

n = gates.final_numbers(tr, unit)
T = seq_len
with panels.math_panel("rnn"):
    num = panels.tex_number

    def factor(v: float) -> str:
        """A number as a factor of a product: negative ones in parentheses."""
        return f"({num(v)})" if v < 0 else num(v)

    st.markdown(f"Live numbers: unit u = {unit} at the last step t = T = {T}, where $x_T$ = {round(n['x_T'], 3) + 0.0:.3f}; the number "
                "inside σ or tanh is that unit's pre-activation, the whole sum.")
    if cell == "LSTM":
        st.markdown("**The course (§9.3)**, one matrix per gate acting on the concatenation $[h_{t-1}, x_t]$:")
        st.latex(rf"f_t = \sigma(W_f \cdot [h_{{t-1}}, x_t] + b_f) = \sigma({num(n['a_f_T'])}) = {num(n['f_T'])}")
        st.latex(rf"i_t = \sigma(W_i \cdot [h_{{t-1}}, x_t] + b_i) = \sigma({num(n['a_i_T'])}) = {num(n['i_T'])}")
        st.latex(rf"\tilde{{c}}_t = \tanh(W_c \cdot [h_{{t-1}}, x_t] + b_c) = \tanh({num(n['a_g_T'])}) = {num(n['g_T'])}")
        st.latex(rf"c_t = f_t \odot c_{{t-1}} + i_t \odot \tilde{{c}}_t = {num(n['f_T'])} \cdot {factor(n['c_prev'])} + "
                 rf"{num(n['i_T'])} \cdot {factor(n['g_T'])} = {num(n['c_T'])}")
        st.latex(rf"o_t = \sigma(W_o \cdot [h_{{t-1}}, x_t] + b_o) = \sigma({num(n['a_o_T'])}) = {num(n['o_T'])}")
        st.latex(rf"h_t = o_t \odot \tanh(c_t) = {num(n['o_T'])} \cdot \tanh({num(n['c_T'])}) = {num(n['h_T'])}")
        st.markdown("**PyTorch's `nn.LSTM`** (its documentation):")
        st.latex(r"\begin{array}{ll} i_t = \sigma(W_{ii} x_t + b_{ii} + W_{hi} h_{t-1} + b_{hi}) \qquad & "
                 r"f_t = \sigma(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf}) \\[6pt] "
                 r"g_t = \tanh(W_{ig} x_t + b_{ig} + W_{hg} h_{t-1} + b_{hg}) \qquad & "
                 r"o_t = \sigma(W_{io} x_t + b_{io} + W_{ho} h_{t-1} + b_{ho}) \\[6pt] "
                 r"c_t = f_t \odot c_{t-1} + i_t \odot g_t \qquad & h_t = o_t \odot \tanh(c_t) \end{array}")
        st.markdown(
            "What differs is only how the parameters are written: it is the same function (the check below runs the "
            "course's form on these weights).\n"
            f"- **Separate matrices for $x$ and $h$.** $W_f \\cdot [h_{{t-1}}, x_t] = W_{{hf}} h_{{t-1}} + W_{{if}} x_t$: the "
            f"course's $W_f$ ({hidden}×{hidden + 1}) is $[W_{{hf}} \\mid W_{{if}}]$ side by side.\n"
            f"- **Two biases per gate.** $b_f = b_{{if}} + b_{{hf}}$. Only the sum matters, so PyTorch has 4H = {4 * hidden} "
            "parameters more than the course's count 4H(H + D + 1) (§9.5).\n"
            f"- **Stacked in the order i, f, g, o.** `weight_ih_l0` is $[W_{{ii}}; W_{{if}}; W_{{ig}}; W_{{io}}]$, shape "
            f"({4 * hidden}, 1), and `weight_hh_l0` is ({4 * hidden}, {hidden}): the forget gate is "
            + (f"rows {hidden}–{2 * hidden - 1}" if hidden > 1 else "row 1") + ", not the first block.\n"
            "- **Names.** PyTorch calls the candidate $\\tilde{c}_t$ the cell gate $g_t$.")
    elif cell == "GRU":
        st.markdown("**The course (§10.2)**:")
        st.latex(r"\begin{array}{ll} z_t = \sigma(W_z \cdot [h_{t-1}, x_t] + b_z) \qquad & r_t = \sigma(W_r \cdot [h_{t-1}, x_t] + b_r) \\[6pt] "
                 r"\tilde{h}_t = \tanh(W_h \cdot [r_t \odot h_{t-1}, x_t] + b_h) \qquad & h_t = (1 - z_t) \odot h_{t-1} + z_t \odot \tilde{h}_t \end{array}")
        st.markdown("**PyTorch's `nn.GRU`** (its documentation), with this model's numbers:")
        st.latex(rf"r_t = \sigma(W_{{ir}} x_t + b_{{ir}} + W_{{hr}} h_{{t-1}} + b_{{hr}}) = \sigma({num(n['a_r_T'])}) = {num(n['r_T'])}")
        st.latex(rf"z_t = \sigma(W_{{iz}} x_t + b_{{iz}} + W_{{hz}} h_{{t-1}} + b_{{hz}}) = \sigma({num(n['a_z_T'])}) = {num(n['z_T'])}")
        st.latex(rf"n_t = \tanh(W_{{in}} x_t + b_{{in}} + r_t \odot (W_{{hn}} h_{{t-1}} + b_{{hn}})) = \tanh({num(n['a_n_T'])}) = {num(n['n_T'])}")
        st.latex(rf"h_t = (1 - z_t) \odot n_t + z_t \odot h_{{t-1}} = (1 - {num(n['z_T'])}) \cdot {factor(n['n_T'])} + "
                 rf"{num(n['z_T'])} \cdot {factor(n['h_prev'])} = {num(n['h_T'])}")
        st.markdown(
            "What differs:\n"
            "- **The update gate is the other way round.** PyTorch's $z_t$ multiplies the *old* state $h_{t-1}$; the course's "
            f"$z_t$ multiplies the *new* candidate. PyTorch's $z_t$ is 1 − the course's: here $z_T$ = {n['z_T']:.3f} in PyTorch "
            f"is {1 - n['z_T']:.3f} in the course. To keep a memory, PyTorch's z goes to 1 and the course's to 0 (§10.3); the "
            "heatmap shows PyTorch's. In weights: $W_z = -[W_{hz} \\mid W_{iz}]$, $b_z = -(b_{iz} + b_{hz})$, since "
            "$1 - \\sigma(a) = \\sigma(-a)$.\n"
            "- **The reset gate acts after the product, bias included.** The course, with $W_h = [W_{hn} \\mid W_{in}]$: "
            "$W_h \\cdot [r_t \\odot h_{t-1}, x_t] = W_{hn} (r_t \\odot h_{t-1}) + W_{in} x_t$, so $r_t$ scales $h_{t-1}$ "
            "before the product. PyTorch: $r_t \\odot (W_{hn} h_{t-1} + b_{hn})$, so $r_t$ scales the product and the bias "
            "$b_{hn}$. The two agree for every $r_t$ only if $W_{hn}$ is diagonal and $b_{hn} = 0$, so in general no choice of "
            "the course's weights reproduces `nn.GRU`: they are different functions. With this model's weights the course's equations give $h_t$ off by up "
            f"to **{tr.course_gap:.3g}** (the largest over every step and unit); with the reset moved after the product they "
            "agree to float precision (check below).\n"
            "- **Separate matrices and two biases**, as for the LSTM: $W_r = [W_{hr} \\mid W_{ir}]$, $b_r = b_{ir} + b_{hr}$.\n"
            f"- **Stacked in the order r, z, n.** `weight_ih_l0` is $[W_{{ir}}; W_{{iz}}; W_{{in}}]$, shape ({3 * hidden}, 1); "
            "PyTorch calls the candidate $\\tilde{h}_t$ the new gate $n_t$.")
    else:
        st.markdown("**The course (§8.2)** and **PyTorch's `nn.RNN`** (its documentation, default `nonlinearity='tanh'`), with this model's numbers:")
        st.latex(rf"h_t = \tanh(W_{{hh}} h_{{t-1}} + W_{{xh}} x_t + b_h) = \tanh({num(n['a_h_T'])}) = {num(n['h_T'])}")
        st.latex(r"h_t = \tanh(x_t W_{ih}^T + b_{ih} + h_{t-1} W_{hh}^T + b_{hh})")
        st.markdown("What differs: **two biases** where the course has one, $b_h = b_{ih} + b_{hh}$ (only the sum matters, "
                    f"so PyTorch has H = {hidden} parameters more than the course's count); PyTorch calls $W_{{xh}}$ "
                    "`weight_ih_l0` and writes row vectors times transposed matrices, the same product. Nothing else.")
    st.markdown("The readout, the course's $y_t = W_{hy} h_t + b_y$ (§8.2), is one `nn.Linear(H, 1)` applied at every step:")
    st.latex(rf"\hat{{y}}_T = W_{{hy}} h_T + b_y = {num(n['y_hat_T'])}")

panels.check_panel(
    "rnn", gates.checks(tr, unit),
    note=f"The module runs in float32; the recomputation in float64 from the same weights. Formula and PyTorch columns: unit {unit} "
         "at t = T; |difference|: the largest over every step and unit. Tolerance: 10⁻⁵ × the largest magnitude involved (at least 1).")
panels.code_panel("rnn", snippet.code(cell, hidden, kind, trained, seed, seq_len, frequency, unit), "lstm_gates.py")
