"""What the RNN shapes page shows in words: the tensor table, the diagrams' labels, and the course's and
PyTorch's cell equations as LaTeX. The numbers all come from `core.rnn_shapes.run`."""
from __future__ import annotations

import pandas as pd

from core.rnn_shapes import RNNConfig, ShapeResult, shape_formulas

#: What each tensor is, in one line, for the page's table.
MEANINGS: dict[str, str] = {
    "input": "the batch of sequences",
    "h0": "initial hidden state (zeros if omitted); never batch-first",
    "c0": "initial cell state (LSTM only)",
    "output": "the top layer's h_t at every step (both directions side by side)",
    "h_n": "the final h of every layer and direction",
    "c_n": "the final cell state of every layer and direction",
    "last_step": "output at the last time step: out[:, -1, :] (batch_first) or out[-1]",
}


def _index(config: RNNConfig, t: str, features: str) -> str:
    """`out[:, t, f]` (batch_first) or `out[t, :, f]`, as code."""
    return f"out[:, {t}, {features}]" if config.batch_first else f"out[{t}, :, {features}]"


def flow_rows(result: ShapeResult) -> tuple[str, list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """The shape diagram's boxes: the module's constructor, and (name, shape in symbols, in numbers) per tensor."""
    c, formulas = result.config, shape_formulas(result.config)
    module = (f"<b>nn.{c.cell}</b><br>input_size={c.input_size}<br>hidden_size={c.hidden_size}<br>"
              f"num_layers={c.num_layers}<br>batch_first={c.batch_first}<br>bidirectional={c.bidirectional}")
    names = {"input": "x", "output": "output"}

    def row(key: str) -> tuple[str, str, str]:
        return names.get(key, key), formulas[key], "= " + str(result.actual[key])

    inputs = [row(k) for k in ("input", "h0", "c0") if k in result.actual]
    outputs = [row(k) for k in ("output", "h_n", "c_n") if k in result.actual]
    return module, inputs, outputs


def state_map_labels(result: ShapeResult) -> dict[str, object]:
    """Labels for the last-state map: time steps shown, output rows, h_n entries, connector notes."""
    c = result.config
    t = c.seq_len
    steps = [str(i) for i in range(1, t + 1)] if t <= 8 else ["1", "2", "3", "…", str(t - 2), str(t - 1), str(t)]
    arrows = ("→", "←") if c.bidirectional else ("", "")
    rows = [_index(c, "t", ":H" if c.bidirectional else ":") + f" {arrows[0]}"]
    if c.bidirectional:
        rows.append(_index(c, "t", "H:") + f" {arrows[1]}")
    states = []
    for layer in range(c.num_layers):
        for d in range(c.num_directions):
            states.append(f"h_n[{layer * c.num_directions + d}]: layer {layer + 1} {arrows[d]}".rstrip())
    fwd = "h_n[-2]" if c.bidirectional else "h_n[-1]"
    forward_note = f"= {fwd}  (max |Δ| = {result.forward_last_diff:.1g})"
    backward_note = mismatch = None
    if c.bidirectional:
        backward_note = f"{_index(c, '0', 'H:')} = h_n[-1]: the backward pass ends at t = 1  (max |Δ| = {result.backward_first_diff:.1g})"
        if result.backward_last_diff:
            mismatch = f"{_index(c, '-1', 'H:')} ≠ h_n[-1]<br>(max |Δ| = {result.backward_last_diff:.2f})"
    return {"steps": steps, "rows": rows, "states": states, "bidirectional": c.bidirectional,
            "forward_note": forward_note, "backward_note": backward_note, "mismatch_note": mismatch}


def shape_table(result: ShapeResult) -> pd.DataFrame:
    """One row per tensor: name, shape in symbols, by formula, from the forward pass, and what it is."""
    formulas = shape_formulas(result.config)
    names = {"input": "x", "last_step": "out[:, -1, :]" if result.config.batch_first else "out[-1]"}
    return pd.DataFrame({
        "tensor": [names.get(k, k) for k in result.predicted],
        "shape": [formulas[k] for k in result.predicted],
        "by formula": [str(result.predicted[k]) for k in result.predicted],
        "forward pass": [str(result.actual[k]) for k in result.predicted],
        "what it is": [MEANINGS[k] for k in result.predicted],
    })


#: The course's four architectures (§8.4), as LaTeX.
ARCH_EQUATIONS: dict[str, tuple[str, ...]] = {
    "seq2seq": (r"\{y_1, \dots, y_T\} = \text{RNN}(x_1, \dots, x_T)",),
    "seq2vec": (r"y = f(h_T)",),
    "vec2seq": (r"\{y_1, \dots, y_T\} = \text{RNN}(x, \mathbf{0}, \dots, \mathbf{0})",),
    "encdec": (r"c = \text{Encoder}(x_1, \dots, x_T)", r"\{y_1, \dots, y_{T'}\} = \text{Decoder}(c)"),
}
COURSE_SECTIONS: dict[str, str] = {"RNN": "8.2", "LSTM": "9.3", "GRU": "10.2"}
#: The course's cell equations (§8.2, §9.3, §10.2), as LaTeX lines.
COURSE_EQUATIONS: dict[str, tuple[str, ...]] = {
    "RNN": (r"h_t = \tanh(W_{hh} h_{t-1} + W_{xh} x_t + b_h)",),
    "LSTM": (
        r"f_t = \sigma(W_f [h_{t-1}, x_t] + b_f), \quad i_t = \sigma(W_i [h_{t-1}, x_t] + b_i), \quad o_t = \sigma(W_o [h_{t-1}, x_t] + b_o)",
        r"\tilde{c}_t = \tanh(W_c [h_{t-1}, x_t] + b_c), \quad c_t = f_t \odot c_{t-1} + i_t \odot \tilde{c}_t, \quad h_t = o_t \odot \tanh(c_t)",
    ),
    "GRU": (
        r"z_t = \sigma(W_z [h_{t-1}, x_t] + b_z), \quad r_t = \sigma(W_r [h_{t-1}, x_t] + b_r)",
        r"\tilde{h}_t = \tanh(W_h [r_t \odot h_{t-1}, x_t] + b_h), \quad h_t = (1 - z_t) \odot h_{t-1} + z_t \odot \tilde{h}_t",
    ),
}

#: PyTorch's equations (nn.RNN / nn.LSTM / nn.GRU docs), which the check recomputes step by step.
PYTORCH_EQUATIONS: dict[str, tuple[str, ...]] = {
    "RNN": (r"h_t = \tanh(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh})",),
    "LSTM": (
        r"i_t = \sigma(W_{ii} x_t + b_{ii} + W_{hi} h_{t-1} + b_{hi}), \quad f_t = \sigma(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf})",
        r"g_t = \tanh(W_{ig} x_t + b_{ig} + W_{hg} h_{t-1} + b_{hg}), \quad o_t = \sigma(W_{io} x_t + b_{io} + W_{ho} h_{t-1} + b_{ho})",
        r"c_t = f_t \odot c_{t-1} + i_t \odot g_t, \quad h_t = o_t \odot \tanh(c_t)",
    ),
    "GRU": (
        r"r_t = \sigma(W_{ir} x_t + b_{ir} + W_{hr} h_{t-1} + b_{hr}), \quad z_t = \sigma(W_{iz} x_t + b_{iz} + W_{hz} h_{t-1} + b_{hz})",
        r"n_t = \tanh\bigl(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn})\bigr), \quad h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}",
    ),
}

#: Where the course's form and PyTorch's differ, in words.
DIFFERENCES: dict[str, str] = {
    "RNN": "PyTorch keeps two bias vectors, b_ih and b_hh; they only ever appear as a sum, so they act as the course's one b_h.",
    "LSTM": "Same cell. PyTorch splits each W·[h, x] into W_i·x + W_h·h, keeps two biases (b_i· + b_h·, one b in the course), "
            "and stacks the four gates in the order i, f, g, o in weight_ih (4H × D_l) and weight_hh (4H × H); g is the course's c̃.",
    "GRU": "Two real differences. PyTorch's z_t weighs the old state, (1 − z)·n + z·h, where the course's z_t weighs the candidate: "
           "the same family (z ↔ 1 − z is a sign flip of the learned weights). And PyTorch applies the reset gate after the "
           "matrix product, r ⊙ (W_hn h + b_hn), where the course resets h first, W_h[r ⊙ h, x]: not the same function.",
}
