"""The gates of a real nn.LSTM, nn.GRU or nn.RNN, recomputed from the module's own weights, beside the course's
equations (§8.2 simple RNN, §9.3 LSTM, §10.2 GRU).

PyTorch stacks each gate's weights by rows: `weight_ih_l0` is (G·H, D) and `weight_hh_l0` is (G·H, H), with
the gates in the order LSTM (i, f, g, o), GRU (r, z, n), RNN (one block); `bias_ih_l0` and `bias_hh_l0` are
two (G·H,) vectors where the course has one. `pytorch_equations` follows PyTorch's documented equations with
those blocks; `course_equations` writes the same weights into the course's form, one matrix on the
concatenation [h_{t−1}, x_t] and one bias. For the simple RNN and the LSTM the two forms are the same function;
for the GRU they are not (see `course_equations`). The model and its inputs are in `core.gate_tasks`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from core.checks import Check

if TYPE_CHECKING:
    from core.gate_tasks import Model

CELLS: tuple[str, ...] = ("LSTM", "GRU", "RNN")
MODULES = {"LSTM": nn.LSTM, "GRU": nn.GRU, "RNN": nn.RNN}
GATE_ORDER = {"LSTM": ("i", "f", "g", "o"), "GRU": ("r", "z", "n"), "RNN": ("h",)}  # row blocks of weight_ih_l0
QUANTITIES = {"LSTM": ("f", "i", "o", "g", "c", "h"), "GRU": ("r", "z", "n", "h"), "RNN": ("h",)}  # as the page shows them
GATES = ("f", "i", "o", "r", "z")  # sigmoid outputs, in (0, 1)


def _blocks(tensor: torch.Tensor, cell: str) -> dict[str, torch.Tensor]:
    """A stacked weight or bias split into its gates, in PyTorch's order."""
    names = GATE_ORDER[cell]
    return dict(zip(names, tensor.chunk(len(names), 0)))


def pytorch_equations(cell: str, w_ih: torch.Tensor, w_hh: torch.Tensor, b_ih: torch.Tensor, b_hh: torch.Tensor,
                      x: torch.Tensor, h0: torch.Tensor | None = None, c0: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """One layer's gates and states by PyTorch's documented equations, from its weights.

    LSTM: i, f, g, o = σ, σ, tanh, σ of (W_i· x_t + b_i· + W_h· h_{t−1} + b_h·); c_t = f⊙c_{t−1} + i⊙g; h_t = o⊙tanh(c_t).
    GRU: r, z = σ(W_i· x_t + b_i· + W_h· h_{t−1} + b_h·); n = tanh(W_in x_t + b_in + r⊙(W_hn h_{t−1} + b_hn));
    h_t = (1 − z)⊙n + z⊙h_{t−1}. RNN: h_t = tanh(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh).
    Args:
        w_ih: (G·H, D), w_hh: (G·H, H), b_ih, b_hh: (G·H,), x: (N, T, D); h0, c0: (N, H), zeros if None.
    Returns:
        each quantity of QUANTITIES[cell] as (N, T, H), and the pre-activation (the sum inside σ or tanh) of each
        gate and candidate as "a_<name>".
    """
    if cell not in CELLS:
        raise ValueError(f"unknown cell {cell!r}; choose from {', '.join(CELLS)}")
    n, steps, _ = x.shape
    H = w_hh.shape[1]
    h = torch.zeros(n, H, dtype=x.dtype) if h0 is None else h0
    c = torch.zeros(n, H, dtype=x.dtype) if c0 is None else c0
    xs = x @ w_ih.T + b_ih  # (N, T, G·H): the input part of every gate at every step, at once
    pre, hs, cs, extra = [], [], [], []
    for t in range(steps):
        if cell == "LSTM":
            a = xs[:, t] + torch.addmm(b_hh, h, w_hh.T)  # (N, 4H), blocks i, f, g, o
            s = torch.sigmoid(a)
            c = s[:, H : 2 * H] * c + s[:, :H] * torch.tanh(a[:, 2 * H : 3 * H])
            h = s[:, 3 * H :] * torch.tanh(c)
            cs.append(c)
        elif cell == "GRU":
            ah = torch.addmm(b_hh, h, w_hh.T)  # (N, 3H): W_h· h_{t−1} + b_h·, blocks r, z, n
            rz = torch.sigmoid(xs[:, t, : 2 * H] + ah[:, : 2 * H])
            r, z = rz[:, :H], rz[:, H:]
            a_n = xs[:, t, 2 * H :] + r * ah[:, 2 * H :]  # the reset gate scales W_hn h_{t−1} + b_hn, after the product
            n_ = torch.tanh(a_n)
            h = (1 - z) * n_ + z * h
            a = torch.cat([xs[:, t, : 2 * H] + ah[:, : 2 * H], a_n], 1)
            extra.append(n_)
        else:
            a = xs[:, t] + torch.addmm(b_hh, h, w_hh.T)
            h = torch.tanh(a)
        pre.append(a)
        hs.append(h)
    a = torch.stack(pre, 1)  # (N, T, G·H)
    out = {"h": torch.stack(hs, 1)}
    blocks = dict(zip(GATE_ORDER[cell], a.chunk(len(GATE_ORDER[cell]), 2)))
    if cell == "LSTM":
        out |= {"i": torch.sigmoid(blocks["i"]), "f": torch.sigmoid(blocks["f"]), "g": torch.tanh(blocks["g"]),
                "o": torch.sigmoid(blocks["o"]), "c": torch.stack(cs, 1)}
    elif cell == "GRU":
        out |= {"r": torch.sigmoid(blocks["r"]), "z": torch.sigmoid(blocks["z"]), "n": torch.stack(extra, 1)}
    out |= {f"a_{k}": v for k, v in blocks.items()}
    return out


def course_weights(cell: str, w_ih: torch.Tensor, w_hh: torch.Tensor, b_ih: torch.Tensor, b_hh: torch.Tensor,
                   ) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """The module's weights in the course's form: per gate one W of shape (H, H + D) acting on [h_{t−1}, x_t]
    and one bias, W = [W_h· | W_i·], b = b_i· + b_h·. Course names: LSTM f, i, c (candidate), o; GRU z, r, h
    (candidate); RNN h. For the GRU, W_z and b_z are negated: 1 − σ(a) = σ(−a), so the course's z_t is
    1 − PyTorch's z_t and the course's update h_t = (1 − z_t)⊙h_{t−1} + z_t⊙h̃_t matches nn.GRU's."""
    wx, wh, bx, bh = (_blocks(p, cell) for p in (w_ih, w_hh, b_ih, b_hh))
    rename = {"LSTM": {"f": "f", "i": "i", "c": "g", "o": "o"}, "GRU": {"z": "z", "r": "r", "h": "n"}, "RNN": {"h": "h"}}[cell]
    out = {}
    for course, torch_name in rename.items():
        w, b = torch.cat([wh[torch_name], wx[torch_name]], 1), bx[torch_name] + bh[torch_name]
        out[course] = (-w, -b) if (cell, course) == ("GRU", "z") else (w, b)
    return out


def course_equations(cell: str, w_ih: torch.Tensor, w_hh: torch.Tensor, b_ih: torch.Tensor, b_hh: torch.Tensor,
                     x: torch.Tensor, reset_after: bool = False) -> dict[str, torch.Tensor]:
    """The course's equations (§8.2, §9.3, §10.2), with `course_weights`, from zero initial states.

    The GRU's candidate is the course's h̃_t = tanh(W_h·[r_t⊙h_{t−1}, x_t] + b_h): the reset gate scales h_{t−1}
    before the product, and b_h holds b_hn unscaled. nn.GRU computes tanh(W_in x_t + b_in + r_t⊙(W_hn h_{t−1} + b_hn)):
    the reset gate scales the product and b_hn. They agree for every r only if W_hn is diagonal and b_hn = 0, so
    no choice of weights makes the course's GRU nn.GRU. `reset_after=True` puts the reset where PyTorch does,
    the one change that makes them agree.
    Returns:
        the course's quantities, each (N, T, H): LSTM f, i, c̃ ("g"), o, c, h; GRU z (the course's), r, h̃ ("n"), h; RNN h.
    """
    if cell not in CELLS:
        raise ValueError(f"unknown cell {cell!r}; choose from {', '.join(CELLS)}")
    W = course_weights(cell, w_ih, w_hh, b_ih, b_hh)
    names = list(W)
    w_all = torch.cat([W[k][0] for k in names])  # (G·H, H + D), the course's matrices one under the other
    b_all = torch.cat([W[k][1] for k in names])
    n, steps, _ = x.shape
    H = w_hh.shape[1]
    h = torch.zeros(n, H, dtype=x.dtype)
    c = torch.zeros(n, H, dtype=x.dtype)
    b_hn = _blocks(b_hh, cell)["n"] if cell == "GRU" else None
    out: dict[str, list[torch.Tensor]] = {}
    for t in range(steps):
        hx = torch.cat([h, x[:, t]], 1)  # [h_{t−1}, x_t], (N, H + D)
        if cell == "LSTM":
            a = torch.addmm(b_all, hx, w_all.T)  # blocks f, i, c, o
            f, i, o = torch.sigmoid(a[:, :H]), torch.sigmoid(a[:, H : 2 * H]), torch.sigmoid(a[:, 3 * H :])
            g = torch.tanh(a[:, 2 * H : 3 * H])
            c = f * c + i * g
            h = o * torch.tanh(c)
            step = {"f": f, "i": i, "g": g, "o": o, "c": c, "h": h}
        elif cell == "GRU":
            zr = torch.sigmoid(torch.addmm(b_all[: 2 * H], hx, w_all[: 2 * H].T))  # blocks z, r
            z, r = zr[:, :H], zr[:, H:]
            w_h, b_h = W["h"]
            if reset_after:
                a = x[:, t] @ w_h[:, H:].T + (b_h - b_hn) + r * (h @ w_h[:, :H].T + b_hn)
            else:
                a = torch.addmm(b_h, torch.cat([r * h, x[:, t]], 1), w_h.T)
            cand = torch.tanh(a)
            h = (1 - z) * h + z * cand
            step = {"z": z, "r": r, "n": cand, "h": h}
        else:
            h = torch.tanh(torch.addmm(b_all, hx, w_all.T))
            step = {"h": h}
        for k, v in step.items():
            out.setdefault(k, []).append(v)
    return {k: torch.stack(v, 1) for k, v in out.items()}


def module_weights(rnn: nn.RNNBase, dtype: torch.dtype = torch.float64) -> tuple[torch.Tensor, ...]:
    """weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0 of a one-layer module, detached, in `dtype`."""
    return tuple(getattr(rnn, name).detach().to(dtype) for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"))


# ---------------------------------------------------------------- one view

@dataclass(frozen=True)
class Trace:
    """A model run on one input sequence, its gates recomputed, everything as float64 arrays over t = 1 … T."""

    cell: str
    x: np.ndarray  # (T,) input
    target: np.ndarray  # (T,) the trained task's target for this input
    values: dict[str, np.ndarray]  # (T, H) each: QUANTITIES[cell] by PyTorch's equations, and pre-activations "a_<name>"
    course: dict[str, np.ndarray]  # (T, H) each: the course's equations with the same weights (GRU z: the course's)
    module_h: np.ndarray  # (T, H) nn.<cell>'s output
    module_c: np.ndarray | None  # (T, H) nn.LSTM's cell state, the module run one step at a time with (h, c) carried
    h_n: np.ndarray  # (H,) the module's final hidden state
    c_n: np.ndarray | None  # (H,) nn.LSTM's final cell state
    y_hat: np.ndarray  # (T,) the model's output: nn.Linear on the module's output
    readout: np.ndarray  # (T,) ŷ_t = W_hy h_t + b_y, with the recomputed h_t
    reset_after_h: np.ndarray | None  # GRU: the course's equations with the reset moved after the product

    @property
    def steps(self) -> int:
        return len(self.x)

    @property
    def hidden(self) -> int:
        return self.module_h.shape[1]

    @property
    def mse(self) -> float:
        """The model's MSE against the task's target on this input."""
        return float(np.mean((self.y_hat - self.target) ** 2))

    @property
    def course_gap(self) -> float:
        """max |h_t by the course's equations − nn's h_t| over every step and unit."""
        return float(np.abs(self.course["h"] - self.module_h).max())


def prefix_cell_states(lstm: nn.LSTM, x: torch.Tensor) -> torch.Tensor:
    """nn.LSTM's own cell state after every step. It returns c only at the end (c_n), so it reads all T prefixes
    x_1 … x_k in one batch, packed so each stops at its own length; c_n of prefix k is c_k.

    Args:
        x: (T, D) one sequence. Returns: (T, H).
    """
    steps = x.shape[0]
    prefixes = x.unsqueeze(0).expand(steps, -1, -1)  # (T, T, D): row k is the whole sequence, read only to step k + 1
    packed = nn.utils.rnn.pack_padded_sequence(prefixes, torch.arange(1, steps + 1), batch_first=True, enforce_sorted=False)
    _, (_, c_n) = lstm(packed)
    return c_n[0]  # (T, H), back in the prefixes' order


def trace(model: Model, x: np.ndarray, target: np.ndarray) -> Trace:
    """Run `model` on the sequence x (T,) and recompute its gates from `weight_ih_l0`, `weight_hh_l0` and the biases."""
    net = model.module()
    rnn = net.rnn
    seq = torch.tensor(x, dtype=torch.float32).view(1, -1, 1)  # (N=1, T, D=1)
    with torch.inference_mode():
        out, state = rnn(seq)  # (1, T, H)
        y_hat = net.fc(out)
        module_c = prefix_cell_states(rnn, seq[0]).double().numpy() if model.cell == "LSTM" else None
        weights = module_weights(rnn)
        xd = seq.double()
        ours = pytorch_equations(model.cell, *weights, xd)
        course = course_equations(model.cell, *weights, xd)
        reset_after = course_equations(model.cell, *weights, xd, reset_after=True)["h"] if model.cell == "GRU" else None
        readout = ours["h"] @ net.fc.weight.double().T + net.fc.bias.double()
    h_n, c_n = (state[0], state[1]) if model.cell == "LSTM" else (state, None)
    arr = lambda v: v[0].double().numpy()  # noqa: E731  (1, T, H) → (T, H)
    return Trace(
        cell=model.cell, x=np.asarray(x, dtype=np.float64), target=np.asarray(target, dtype=np.float64),
        values={k: arr(v) for k, v in ours.items()}, course={k: arr(v) for k, v in course.items()},
        module_h=arr(out), module_c=module_c, h_n=h_n[0, 0].double().numpy(),
        c_n=None if c_n is None else c_n[0, 0].double().numpy(), y_hat=y_hat[0, :, 0].double().numpy(),
        readout=readout[0, :, 0].numpy(), reset_after_h=None if reset_after is None else arr(reset_after),
    )


def tolerance(*arrays: np.ndarray) -> float:
    """float32 module against float64 recomputation: 10⁻⁵ relative to the largest magnitude involved (at least 1)."""
    return 1e-5 * max(1.0, *(float(np.abs(a).max()) for a in arrays))


def checks(tr: Trace, unit: int) -> list[Check]:
    """The recomputed states against the module's own outputs (each the max |difference| over every step and
    unit; the formula and PyTorch columns show unit `unit` at the last step), and the course's form against it."""
    name, h, last = f"nn.{tr.cell}", tr.values["h"], -1

    def grid(what: str, ours: np.ndarray, theirs: np.ndarray) -> Check:
        return Check(what, float(ours[last, unit]) if ours.ndim == 2 else float(ours[unit]),
                     float(theirs[last, unit]) if theirs.ndim == 2 else float(theirs[unit]),
                     tolerance(ours, theirs), error=float(np.abs(ours - theirs).max()))

    out = [grid(f"h_t, all t and units: PyTorch's equations on the module's weights vs {name}'s output", h, tr.module_h),
           grid(f"h_T vs {name}'s h_n", h[last], tr.h_n)]
    if tr.cell == "LSTM":
        out += [grid("c_t, all t and units: recomputed vs nn.LSTM's c_n of every prefix x_1…x_t", tr.values["c"], tr.module_c),
                grid("c_T vs nn.LSTM's c_n", tr.values["c"][last], tr.c_n)]
        out.append(grid("h_t by the course's §9.3 form ([h_{t−1}, x_t], b = b_ih + b_hh) vs nn.LSTM", tr.course["h"], tr.module_h))
    elif tr.cell == "RNN":
        out.append(grid("h_t by the course's §8.2 form (b_h = b_ih + b_hh) vs nn.RNN", tr.course["h"], tr.module_h))
    else:
        out.append(grid("h_t by the course's §10.2 form with z ↦ 1 − z and r applied after W_hn h, vs nn.GRU",
                        tr.reset_after_h, tr.module_h))
    out.append(Check("ŷ_t = W_hy h_t + b_y (§8.2), all t, vs nn.Linear", float(tr.readout[last]), float(tr.y_hat[last]),
                     tolerance(tr.readout, tr.y_hat), error=float(np.abs(tr.readout - tr.y_hat).max())))
    return out


def strongest_unit(tr: Trace) -> tuple[int, float]:
    """The unit that ends with the largest state in magnitude (c_T for the LSTM, h_T otherwise), and that state."""
    final = (tr.values["c"] if tr.cell == "LSTM" else tr.values["h"])[-1]
    k = int(np.abs(final).argmax())
    return k, float(final[k])


def final_numbers(tr: Trace, unit: int) -> dict[str, float]:
    """Unit `unit`'s values at the last step T and the step before: what the math panel writes into the equations."""
    v, T = tr.values, tr.steps
    out = {"x_T": float(tr.x[-1]), "y_hat_T": float(tr.y_hat[-1])}
    for k, arr in v.items():
        out[f"{k}_T"] = float(arr[T - 1, unit])
        out[f"{k}_prev"] = float(arr[T - 2, unit]) if T > 1 else 0.0
    return out
