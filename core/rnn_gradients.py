"""Gradients through time (course §8.5, §8.6, §9.4, §9.5, §10.4, §10.6): ‖∂h_T/∂h_k‖ of a real nn.RNN,
nn.LSTM and nn.GRU by autograd, beside the product of one-step Jacobians written out by hand; the simple RNN
with W_hh rescaled to a chosen spectral radius, with tanh and with no activation; gradient clipping against
torch.nn.utils.clip_grad_norm_; parameter counts by the course's formula and by sum(p.numel()); and a timing
of LSTM against GRU.

Every module is built on the meta device and initialised from a `torch.Generator` with PyTorch's default
distribution, U(−1/√d_h, 1/√d_h) for every parameter, in `parameters()` order; the input sequence comes from a
second generator, so the three cells read the same x. The hidden states are stepped one at a time with
nn.RNNCell / nn.LSTMCell / nn.GRUCell sharing the module's own weights, d_h copies of the sequence side by side:
one backward pass with the identity as the output gradient then gives the whole Jacobian ∂h_T/∂h_k, row b from
copy b, for every k at once. Everything but the timing runs in float64.
"""
from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from core.checks import Check
from core.rng import generator

CELLS: tuple[str, ...] = ("RNN", "LSTM", "GRU")
#: Weight blocks stacked in weight_ih / weight_hh: 1 for RNN, 4 (i, f, g, o) for LSTM, 3 (r, z, n) for GRU.
GATES: dict[str, int] = {"RNN": 1, "LSTM": 4, "GRU": 3}
_MODULES: dict[str, type[nn.RNNBase]] = {"RNN": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}
_CELL_MODULES: dict[str, type[nn.RNNCellBase]] = {"RNN": nn.RNNCell, "LSTM": nn.LSTMCell, "GRU": nn.GRUCell}
#: The gate whose bias the "memory bias" raises: LSTM's forget gate f, GRU's update gate z (rows H:2H of both).
MEMORY_GATE: dict[str, str] = {"LSTM": "forget gate f", "GRU": "update gate z"}
#: Log-scale charts draw anything smaller (float64 underflow, an exact zero) at this floor.
FLOOR = 1e-300
DTYPE = torch.float64
#: Relative errors divide by at least this: products this small lose precision to float64 underflow on the way.
TINY = 1e-200
TIMING_BATCH = 32


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


# Models and inputs ----------------------------------------------------------------------------------------------
def build(cell: str, d_x: int, hidden: int, seed: int, memory_bias: float = 0.0, num_layers: int = 1,
          dtype: torch.dtype = DTYPE) -> nn.RNNBase:
    """A seeded batch_first nn.RNN / nn.LSTM / nn.GRU with PyTorch's default distribution, drawn from
    `generator(seed)`; `memory_bias` is added to b_ih of LSTM's forget gate or GRU's update gate."""
    if cell not in CELLS:
        raise ValueError(f"unknown cell {cell!r}; choose from {', '.join(CELLS)}")
    with torch.device("meta"):  # no draw from the global RNG
        module = _MODULES[cell](d_x, hidden, num_layers=num_layers, batch_first=True, dtype=dtype)
    module = module.to_empty(device="cpu")
    g, bound = generator(seed), 1 / math.sqrt(hidden)
    with torch.no_grad():
        for p in module.parameters():
            nn.init.uniform_(p, -bound, bound, generator=g)
        if cell in MEMORY_GATE:
            for layer in range(num_layers):
                getattr(module, f"bias_ih_l{layer}")[hidden : 2 * hidden] += memory_bias
    return module


def sequence(seq_len: int, d_x: int, seed: int) -> torch.Tensor:
    """The input x, (T, d_x), x_t ~ N(0, I), from `generator(seed + 1)`."""
    return torch.randn(seq_len, d_x, generator=generator(seed + 1), dtype=DTYPE)


def spectral_radius(w: torch.Tensor) -> float:
    """|λ_max(W)|, from torch.linalg.eigvals."""
    return float(torch.linalg.eigvals(w).abs().max())


def rescale_(module: nn.RNNBase, radius: float) -> float:
    """W_hh ← W_hh · radius / |λ_max(W_hh)|, in place; returns |λ_max| before."""
    with torch.no_grad():
        before = spectral_radius(module.weight_hh_l0)
        if before < 1e-12:
            raise ValueError("W_hh has no nonzero eigenvalue to rescale")
        module.weight_hh_l0.mul_(radius / before)
    return before


def _stepper(module: nn.RNNBase) -> nn.RNNCellBase:
    """The matching nn.*Cell, sharing the first layer's weights with `module`."""
    cell = next(k for k, v in _MODULES.items() if type(module) is v)
    with torch.device("meta"):
        step = _CELL_MODULES[cell](module.input_size, module.hidden_size, dtype=module.weight_hh_l0.dtype)
    step = step.to_empty(device="cpu")
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        setattr(step, name, getattr(module, f"{name}_l0"))
    return step


# Jacobians --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Unrolled:
    """One cell run over x step by step, its Jacobians by autograd and by the hand-written chain rule."""

    cell: str
    linear: bool  # the RNN with the identity instead of tanh (h_t = W_hh h_{t−1} + W_ih x_t + b)
    states: torch.Tensor  # (T+1, H) h_0 … h_T
    cells: torch.Tensor | None  # (T+1, H) c_0 … c_T for LSTM
    autograd: torch.Tensor  # (T+1, H, H) ∂h_T/∂h_k by autograd, k = 0 … T
    hand: torch.Tensor  # (T+1, H, H) the same as the product of hand-written one-step Jacobians
    module_h_T: torch.Tensor  # (H,) h_T from the module's own forward over the whole sequence

    @property
    def norms(self) -> np.ndarray:
        """‖∂h_T/∂h_k‖₂ (largest singular value), k = 0 … T."""
        return torch.linalg.matrix_norm(self.autograd, ord=2).numpy()

    @property
    def hand_error(self) -> float:
        """max over k of ‖autograd − hand‖_F / ‖hand‖_F (the denominator floored at TINY)."""
        diff = torch.linalg.matrix_norm(self.autograd - self.hand)
        return float((diff / torch.linalg.matrix_norm(self.hand).clamp_min(TINY)).max())

    @property
    def hand_norm(self) -> float:
        """‖∂h_T/∂h_0‖₂ from the hand-written product."""
        return float(torch.linalg.matrix_norm(self.hand[0], ord=2))

    @property
    def module_error(self) -> float:
        """max |h_T step by step − h_T from the module's forward|."""
        return float((self.states[-1] - self.module_h_T).abs().max())


def unroll(module: nn.RNNBase, x: torch.Tensor, linear: bool = False) -> Unrolled:
    """Step `module`'s first layer over x (T, d_x) from h_0 = 0 and differentiate h_T by every h_k.

    Args:
        linear: an nn.RNN only: drop the tanh, h_t = W_hh h_{t−1} + b_hh + W_ih x_t + b_ih.
    """
    cell = next(k for k, v in _MODULES.items() if type(module) is v)
    if linear and cell != "RNN":
        raise ValueError("only the simple RNN has a linear variant")
    hidden, seq_len = module.hidden_size, x.shape[0]
    step = _stepper(module)
    copies = x.unsqueeze(1).expand(seq_len, hidden, x.shape[1])  # (T, H copies, d_x): copy b gives row b
    with torch.enable_grad():
        h = torch.zeros(hidden, hidden, dtype=x.dtype, requires_grad=True)
        c = torch.zeros(hidden, hidden, dtype=x.dtype)
        hs, cs = [h], [c]
        for t in range(seq_len):
            if linear:
                h = F.linear(h, step.weight_hh, step.bias_hh) + F.linear(copies[t], step.weight_ih, step.bias_ih)
            elif cell == "LSTM":
                h, c = step(copies[t], (h, c))
                cs.append(c)
            else:
                h = step(copies[t], h)
            hs.append(h)
        grads = torch.autograd.grad(hs[-1], hs[:-1], torch.eye(hidden, dtype=x.dtype))
    autograd = torch.stack([*grads, torch.eye(hidden, dtype=x.dtype)])  # ∂h_T/∂h_T = I
    states = torch.stack([s[0] for s in hs]).detach()
    cells = torch.stack([s[0] for s in cs]).detach() if cell == "LSTM" else None
    with torch.no_grad():
        module_h_T = states[-1] if linear else module(x.unsqueeze(0))[0][0, -1]
    hand = chain(step_jacobians(cell, step, x, states, cells, linear), hidden)
    return Unrolled(cell, linear, states, cells, autograd.detach(), hand, module_h_T)


def step_jacobians(cell: str, step: nn.RNNCellBase, x: torch.Tensor, hs: torch.Tensor, cs: torch.Tensor | None,
                   linear: bool = False) -> torch.Tensor:
    """∂s_t/∂s_{t−1} for t = 1 … T, differentiated by hand from PyTorch's cell equations (s = h, or (h, c) for LSTM).

    Returns:
        (T, H, H), or (T, 2H, 2H) for LSTM with blocks [[∂h/∂h, ∂h/∂c], [∂c/∂h, ∂c/∂c]].
    """
    with torch.no_grad():
        w_hh, h_prev, hidden = step.weight_hh, hs[:-1], step.hidden_size
        gi = F.linear(x, step.weight_ih, step.bias_ih)  # (T, G·H)
        gh = F.linear(h_prev, w_hh, step.bias_hh)  # (T, G·H)
        if cell == "RNN":
            if linear:
                return w_hh.expand(len(x), hidden, hidden)
            return (1 - hs[1:] ** 2)[:, :, None] * w_hh  # course §8.5: diag(tanh′(·)) W_hh
        col = lambda v: v[:, :, None]  # noqa: E731  diag(v) · M = v[:, :, None] * M
        if cell == "LSTM":
            a = gi + gh
            i, f, o = (torch.sigmoid(a[:, k * hidden : (k + 1) * hidden]) for k in (0, 1, 3))
            g = torch.tanh(a[:, 2 * hidden : 3 * hidden])
            w_i, w_f, w_g, w_o = w_hh.chunk(4)
            c_prev, tanh_c = cs[:-1], torch.tanh(cs[1:])
            dc_dh = col(c_prev * f * (1 - f)) * w_f + col(g * i * (1 - i)) * w_i + col(i * (1 - g**2)) * w_g
            dh_dh = col(tanh_c * o * (1 - o)) * w_o + col(o * (1 - tanh_c**2)) * dc_dh
            dh_dc = torch.diag_embed(o * (1 - tanh_c**2) * f)
            return torch.cat([torch.cat([dh_dh, dh_dc], 2), torch.cat([dc_dh, torch.diag_embed(f)], 2)], 1)
        # GRU, PyTorch's form: n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)), h′ = (1 − z) ⊙ n + z ⊙ h
        r = torch.sigmoid(gi[:, :hidden] + gh[:, :hidden])
        z = torch.sigmoid(gi[:, hidden : 2 * hidden] + gh[:, hidden : 2 * hidden])
        gh_n = gh[:, 2 * hidden :]
        n = torch.tanh(gi[:, 2 * hidden :] + r * gh_n)
        w_r, w_z, w_n = w_hh.chunk(3)
        dn = col(1 - n**2) * (col(gh_n * r * (1 - r)) * w_r + col(r) * w_n)
        return torch.diag_embed(z) + col((h_prev - n) * z * (1 - z)) * w_z + col(1 - z) * dn


def chain(jacobians: torch.Tensor, hidden: int) -> torch.Tensor:
    """∂h_T/∂h_k = [J_T J_{T−1} ⋯ J_{k+1}] restricted to h rows and h columns, k = 0 … T (course §8.5).

    Args:
        jacobians: (T, S, S), J_t = ∂s_t/∂s_{t−1} for t = 1 … T.
    Returns:
        (T+1, H, H); entry T is the identity.
    """
    seq_len, size = jacobians.shape[0], jacobians.shape[1]
    out = torch.empty(seq_len + 1, hidden, hidden, dtype=jacobians.dtype)
    product = torch.eye(size, dtype=jacobians.dtype)
    out[seq_len] = product[:hidden, :hidden]
    for t in range(seq_len, 0, -1):
        product = product @ jacobians[t - 1]
        out[t - 1] = product[:hidden, :hidden]
    return out


def for_log_scale(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Values a log axis can draw: anything below FLOOR, zero or not finite becomes FLOOR; returns how many did."""
    values = np.asarray(values, dtype=np.float64)
    bad = ~np.isfinite(values) | (values < FLOOR)
    return np.where(bad, FLOOR, values), int(bad.sum())


@dataclass(frozen=True)
class Flow:
    """‖∂h_T/∂h_k‖₂ for RNN, LSTM and GRU at one hidden size, length and seed."""

    norms: dict[str, np.ndarray]  # cell → (T+1,) k = 0 … T
    hand_norm: dict[str, float]  # cell → ‖∂h_T/∂h_0‖₂ from the hand-written product
    hand_error: dict[str, float]  # cell → max relative ‖autograd − hand product‖_F
    state_norm: dict[str, tuple[float, float]]  # cell → ‖h_T‖ stepped by the cell, ‖h_T‖ from the module's forward
    module_error: dict[str, float]  # cell → max |h_T by the cell − h_T by the module|
    gate_mean: dict[str, float]  # "LSTM" → mean forget gate f, "GRU" → mean update gate z, over every step and unit

    @property
    def k(self) -> np.ndarray:
        return np.arange(len(next(iter(self.norms.values()))))

    def per_step(self, cell: str) -> float:
        """The geometric-mean factor per step, ‖∂h_T/∂h_0‖^(1/T) (0 when the norm underflowed)."""
        n = self.norms[cell]
        return float(n[0] ** (1 / (len(n) - 1))) if n[0] > 0 else 0.0


def memory_gate_mean(module: nn.RNNBase, x: torch.Tensor, states: torch.Tensor) -> float:
    """Mean over steps and units of the gate in rows d_h:2d_h, σ(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh): the LSTM's
    forget gate f, the GRU's update gate z (in PyTorch's GRU, z → 1 keeps the old state)."""
    hidden = module.hidden_size
    with torch.no_grad():
        a = F.linear(x, module.weight_ih_l0, module.bias_ih_l0) + F.linear(states[:-1], module.weight_hh_l0, module.bias_hh_l0)
        return float(torch.sigmoid(a[:, hidden : 2 * hidden]).mean())


def flow_table(flow: Flow) -> pd.DataFrame:
    """Per cell: ‖∂h_T/∂h_0‖₂, ‖∂h_T/∂h_{T//2}‖₂ and the geometric-mean factor per step."""
    half = (len(flow.k) - 1) // 2
    return pd.DataFrame([{"cell": cell, "k = 0": flow.norms[cell][0], f"k = {half}": flow.norms[cell][half],
                          "per step": flow.per_step(cell)} for cell in CELLS])


def gradient_flow(seq_len: int, hidden: int, d_x: int, memory_bias: float, seed: int) -> Flow:
    """The three cells at PyTorch's initialisation (plus `memory_bias` on the LSTM/GRU gate), one input x."""
    x = sequence(seq_len, d_x, seed)
    modules = {cell: build(cell, d_x, hidden, seed, memory_bias) for cell in CELLS}
    runs = {cell: unroll(module, x) for cell, module in modules.items()}
    return Flow({c: u.norms for c, u in runs.items()}, {c: u.hand_norm for c, u in runs.items()},
                {c: u.hand_error for c, u in runs.items()},
                {c: (float(u.states[-1].norm()), float(u.module_h_T.norm())) for c, u in runs.items()},
                {c: u.module_error for c, u in runs.items()},
                {c: memory_gate_mean(modules[c], x, runs[c].states) for c in MEMORY_GATE})


@dataclass(frozen=True)
class RadiusView:
    """The simple RNN with W_hh rescaled to spectral radius ρ, with tanh and with the identity."""

    radius: float  # ρ, the slider's value
    lambda_init: float  # |λ_max(W_hh)| as PyTorch initialised it
    lambda_after: float  # |λ_max(W_hh)| after rescaling (torch.linalg.eigvals again)
    sigma_max: float  # largest singular value of the rescaled W_hh, ‖W_hh‖₂
    tanh: np.ndarray  # (T+1,) ‖∂h_T/∂h_k‖₂ with tanh
    linear: np.ndarray  # (T+1,) the same with the identity activation
    saturated: float  # share of |h_t| > 0.99 over the tanh run, where tanh′ < 0.02
    hand_norm: float  # tanh run: ‖∂h_T/∂h_0‖₂ from the hand-written product
    hand_error: float  # tanh run: max relative ‖autograd − hand product‖_F
    power_norm: float  # ‖W_hh^T‖₂ by torch.linalg.matrix_power
    power_error: float  # linear run: ‖∂h_T/∂h_0 − W_hh^T‖_F / ‖W_hh^T‖_F

    @property
    def reference(self) -> np.ndarray:
        """ρ^(T−k), the course's rate."""
        seq_len = len(self.tanh) - 1
        return self.radius ** (seq_len - np.arange(seq_len + 1, dtype=np.float64))


def radius_view(seq_len: int, hidden: int, d_x: int, seed: int, radius: float) -> RadiusView:
    """The RNN of `gradient_flow` (same seed and x) with W_hh · ρ/|λ_max|, unrolled with tanh and without."""
    x = sequence(seq_len, d_x, seed)
    module = build("RNN", d_x, hidden, seed)
    before = rescale_(module, radius)
    w = module.weight_hh_l0.detach()
    tanh, linear = unroll(module, x), unroll(module, x, linear=True)
    power = torch.linalg.matrix_power(w, seq_len)
    power_error = float(torch.linalg.matrix_norm(linear.autograd[0] - power) / torch.linalg.matrix_norm(power).clamp_min(TINY))
    return RadiusView(radius, before, spectral_radius(w), float(torch.linalg.matrix_norm(w, ord=2)), tanh.norms,
                      linear.norms, float((tanh.states[1:].abs() > 0.99).double().mean()), tanh.hand_norm, tanh.hand_error,
                      float(torch.linalg.matrix_norm(power, ord=2)), power_error)


# Gradient clipping --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Clipping:
    """Every parameter gradient g of one loss, clipped by the course's formula and by clip_grad_norm_."""

    names: tuple[str, ...]  # parameter names, the head's last
    before: np.ndarray  # ‖g_p‖ per parameter tensor
    after: np.ndarray  # ‖g_p‖ after clip_grad_norm_
    total: float  # ‖g‖ over all parameters, sqrt(Σ‖g_p‖²)
    torch_total: float  # what clip_grad_norm_ returns
    theta: float  # θ
    formula_clipped: float  # ‖min(1, θ/‖g‖)·g‖
    torch_clipped: float  # ‖g‖ after clip_grad_norm_
    eps_clipped: float  # ‖min(1, θ/(‖g‖ + 1e-6))·g‖, PyTorch's formula written out
    formula_gap: float  # max |min(1, θ/‖g‖)·g − clip_grad_norm_(g)|
    eps_gap: float  # max |min(1, θ/(‖g‖ + 1e-6))·g − clip_grad_norm_(g)|, PyTorch's own formula
    loss: float

    @property
    def coefficient(self) -> float:
        """min(1, θ/‖g‖), the course's factor."""
        return min(1.0, self.theta / self.total) if self.total > 0 else 1.0


def gradients(cell: str, seq_len: int, hidden: int, d_x: int, memory_bias: float, seed: int,
              radius: float | None) -> tuple[tuple[str, ...], tuple[np.ndarray, ...], float]:
    """g for ℓ = (fc(h_T) − x_1[0])²: the network reads x and must recall the first input at the end.

    The recurrent layer is the page's (the RNN with W_hh at `radius` if given); the head nn.Linear(H, 1) gets
    PyTorch's default U(−1/√H, 1/√H) from `generator(seed + 2)`.

    Returns:
        (names, gradients as float64 arrays, loss)
    """
    module = build(cell, d_x, hidden, seed, memory_bias)
    if cell == "RNN" and radius is not None:
        rescale_(module, radius)
    with torch.device("meta"):
        head = nn.Linear(hidden, 1, dtype=DTYPE)
    head = head.to_empty(device="cpu")
    g = generator(seed + 2)
    with torch.no_grad():
        for p in head.parameters():
            nn.init.uniform_(p, -1 / math.sqrt(hidden), 1 / math.sqrt(hidden), generator=g)
    x = sequence(seq_len, d_x, seed)
    with torch.enable_grad():
        out = module(x.unsqueeze(0))[0]  # (1, T, H)
        loss = (head(out[:, -1]).squeeze() - x[0, 0]) ** 2
        params = [*module.named_parameters(), *(("fc." + n, p) for n, p in head.named_parameters())]
        grads = torch.autograd.grad(loss, [p for _, p in params])
    return tuple(n for n, _ in params), tuple(gr.numpy().copy() for gr in grads), loss.item()


def clip(names: tuple[str, ...], grads: tuple[np.ndarray, ...], theta: float, loss: float = math.nan) -> Clipping:
    """g ← min(1, θ/‖g‖)·g (course §8.6) beside torch.nn.utils.clip_grad_norm_ on the same gradients."""
    params = [nn.Parameter(torch.zeros(g.shape, dtype=DTYPE)) for g in grads]
    for p, g in zip(params, grads):
        p.grad = torch.tensor(g, dtype=DTYPE)
    flat = torch.cat([p.grad.flatten() for p in params])
    total = float(torch.sqrt((flat**2).sum()))
    course = min(1.0, theta / total) * flat if total > 0 else flat
    with_eps = min(1.0, theta / (total + 1e-6)) * flat
    torch_total = float(nn.utils.clip_grad_norm_(params, theta))
    clipped = torch.cat([p.grad.flatten() for p in params])
    return Clipping(names, np.array([float(np.linalg.norm(g)) for g in grads]),
                    np.array([float(p.grad.norm()) for p in params]), total, torch_total, theta,
                    float(course.norm()), float(clipped.norm()), float(with_eps.norm()), float((course - clipped).abs().max()),
                    float((with_eps - clipped).abs().max()), loss)


# Parameter counts ---------------------------------------------------------------------------------------------------
def layer_inputs(d_x: int, hidden: int, layers: int) -> list[int]:
    """What each layer reads: d_x for the first, the layer below's h (d_h features) for the others."""
    return [d_x] + [hidden] * (layers - 1)


def course_count(cell: str, d_x: int, hidden: int, layers: int) -> int:
    """The course's one-bias count G·d_h(d_h + d_l + 1) (§9.5, §10.4; G = 1 for the RNN layer of §8.2), summed
    over layers with d_l = d_x for the first and d_h for the others."""
    return sum(GATES[cell] * hidden * (hidden + d_l + 1) for d_l in layer_inputs(d_x, hidden, layers))


def pytorch_count(cell: str, d_x: int, hidden: int, layers: int) -> int:
    """PyTorch's layout: per layer weight_ih (G·d_h, d_l), weight_hh (G·d_h, d_h), bias_ih and bias_hh (G·d_h each)."""
    return sum(GATES[cell] * hidden * (hidden + d_l + 2) for d_l in layer_inputs(d_x, hidden, layers))


def numel(cell: str, d_x: int, hidden: int, layers: int) -> int:
    """sum(p.numel()) of the real module (built on the meta device: shapes only, no memory)."""
    with torch.device("meta"):
        module = _MODULES[cell](d_x, hidden, num_layers=layers)
    return sum(p.numel() for p in module.parameters())


def parameter_table(d_x: int, hidden: int, layers: int) -> pd.DataFrame:
    """Per cell: gates G, the course's count, sum(p.numel()), their difference and G·d_h·L."""
    rows = []
    for cell in CELLS:
        course, real = course_count(cell, d_x, hidden, layers), numel(cell, d_x, hidden, layers)
        rows.append({"cell": cell, "G": GATES[cell], "course": course, "numel": real, "difference": real - course,
                     "G·d_h·L": GATES[cell] * hidden * layers, "PyTorch formula": pytorch_count(cell, d_x, hidden, layers)})
    return pd.DataFrame(rows)


def parameter_shapes(cell: str, d_x: int, hidden: int, layers: int) -> pd.DataFrame:
    """Every parameter of the module: name, shape, numel."""
    with torch.device("meta"):
        module = _MODULES[cell](d_x, hidden, num_layers=layers)
    return pd.DataFrame([{"parameter": n, "shape": str(tuple(p.shape)), "numel": p.numel()}
                         for n, p in module.named_parameters()])


# Timing -------------------------------------------------------------------------------------------------------------
#: What is timed: the modules as PyTorch runs them, and the same layers stepped one nn.*Cell call per time step.
TIMED: tuple[str, ...] = ("LSTM", "GRU", "LSTMCell", "GRUCell")


@dataclass(frozen=True)
class Timing:
    """Milliseconds per forward + backward, runs interleaved round by round."""

    sizes: tuple[int, int, int, int]  # (d_x, d_h, layers, T)
    runs: dict[str, tuple[float, ...]]  # TIMED name → ms of each run
    kernels: dict[str, str]  # "LSTM", "GRU" → the recurrent kernel found in the module's autograd graph
    threads: int  # torch.get_num_threads() during the runs

    def median(self, name: str) -> float:
        return statistics.median(self.runs[name])

    def iqr(self, name: str) -> tuple[float, float]:
        q1, _, q3 = statistics.quantiles(self.runs[name], n=4, method="inclusive")
        return q1, q3

    def ratio(self, gru: str = "GRU", lstm: str = "LSTM") -> float:
        """median GRU time / median LSTM time."""
        return self.median(gru) / self.median(lstm)

    def ratio_iqr(self, gru: str = "GRU", lstm: str = "LSTM") -> tuple[float, float]:
        """Quartiles of GRU / LSTM taken round by round (the two ran next to each other)."""
        pairs = [g / l for g, l in zip(self.runs[gru], self.runs[lstm])]
        q1, _, q3 = statistics.quantiles(pairs, n=4, method="inclusive")
        return q1, q3

    @property
    def fused(self) -> dict[str, bool]:
        """Whether nn.LSTM / nn.GRU ran a fused whole-sequence kernel rather than one cell per step."""
        return {cell: kernel != STEPWISE for cell, kernel in self.kernels.items()}


STEPWISE = "one cell per time step"


def recurrent_kernel(output: torch.Tensor) -> str:
    """The fused recurrent kernel in `output`'s autograd graph (e.g. MkldnnRnnLayerBackward0 when PyTorch sends
    an nn.LSTM on the CPU to oneDNN), or STEPWISE when there is none."""
    seen, stack = set(), [output.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        name = type(node).__name__
        if "Rnn" in name or "Lstm" in name or "Gru" in name:
            return name
        stack.extend(n for n, _ in node.next_functions)
    return STEPWISE


def _stacked_cells(cell: str, d_x: int, hidden: int, layers: int, seed: int) -> nn.ModuleList:
    """`layers` nn.LSTMCell / nn.GRUCell with PyTorch's default distribution, float32."""
    g, bound, cells = generator(seed), 1 / math.sqrt(hidden), nn.ModuleList()
    for d_l in layer_inputs(d_x, hidden, layers):
        with torch.device("meta"):
            step = _CELL_MODULES[cell](d_l, hidden)
        step = step.to_empty(device="cpu")
        with torch.no_grad():
            for p in step.parameters():
                nn.init.uniform_(p, -bound, bound, generator=g)
        cells.append(step)
    return cells


def _step_through(cells: nn.ModuleList, x: torch.Tensor) -> torch.Tensor:
    """The stacked cells over x (N, T, d_x), one call per layer and time step; returns the last layer's (N, T, d_h)."""
    out = x
    for step in cells:
        h = torch.zeros(x.shape[0], step.hidden_size)
        state = (h, h) if isinstance(step, nn.LSTMCell) else h
        hs = []
        for t in range(x.shape[1]):
            state = step(out[:, t], state)
            hs.append(state[0] if isinstance(state, tuple) else state)
        out = torch.stack(hs, 1)
    return out


def time_forward_backward(d_x: int, hidden: int, layers: int, seq_len: int, batch: int = TIMING_BATCH,
                          budget_s: float = 3.0, min_rounds: int = 3, max_rounds: int = 30, seed: int = 0) -> Timing:
    """Wall-clock time of out.sum().backward() after a forward pass of a (batch, T, d_x) float32 batch, for nn.LSTM,
    nn.GRU and the same layers stepped with nn.LSTMCell / nn.GRUCell. One run of each per round, the order rotating
    from round to round, after one warm-up round; stops after `budget_s` seconds once `min_rounds` rounds are in."""
    x = torch.randn(batch, seq_len, d_x, generator=generator(seed + 1))
    modules = {cell: build(cell, d_x, hidden, seed, num_layers=layers, dtype=torch.float32) for cell in ("LSTM", "GRU")}
    stacks = {cell + "Cell": _stacked_cells(cell, d_x, hidden, layers, seed) for cell in ("LSTM", "GRU")}
    forward = {**{n: (lambda m=m: m(x)[0]) for n, m in modules.items()},
               **{n: (lambda c=c: _step_through(c, x)) for n, c in stacks.items()}}
    params = {**{n: list(m.parameters()) for n, m in modules.items()}, **{n: list(c.parameters()) for n, c in stacks.items()}}

    def run(name: str) -> float:
        for p in params[name]:
            p.grad = None
        start = time.perf_counter()
        with torch.enable_grad():
            forward[name]().sum().backward()
        return 1000 * (time.perf_counter() - start)

    with torch.enable_grad():
        kernels = {cell: recurrent_kernel(forward[cell]()) for cell in ("LSTM", "GRU")}
    for name in TIMED:
        run(name)
    times: dict[str, list[float]] = {name: [] for name in TIMED}
    start = time.perf_counter()
    for r in range(max_rounds):
        for i in range(len(TIMED)):
            name = TIMED[(i + r) % len(TIMED)]
            times[name].append(run(name))
        if r + 1 >= min_rounds and time.perf_counter() - start > budget_s:
            break
    return Timing((d_x, hidden, layers, seq_len), {n: tuple(t) for n, t in times.items()}, kernels, torch.get_num_threads())


# Checks -------------------------------------------------------------------------------------------------------------
REL_TOL = 1e-8


def checks(flow: Flow, view: RadiusView, clipping: Clipping, params: pd.DataFrame) -> list[Check]:
    """The page's formulas against PyTorch: cells vs modules, hand Jacobians vs autograd, the rescaled radius,
    W_hh^T, clipping, parameter counts."""
    out = []
    for cell in CELLS:
        stepped, module = flow.state_norm[cell]
        out.append(Check(f"{cell}: h_T, nn.{cell}Cell steps vs nn.{cell}", stepped, module, 1e-12,
                         error=flow.module_error[cell]))
    for cell in CELLS:
        out.append(Check(f"{cell}: ∂h_T/∂h_k, hand-written Jacobians vs autograd", flow.hand_norm[cell],
                         float(flow.norms[cell][0]), REL_TOL, error=flow.hand_error[cell]))
    out.append(Check("RNN at ρ: |λ_max| after rescaling vs ρ", view.radius, view.lambda_after,
                     1e-9 * max(1.0, view.radius)))
    out.append(Check("RNN at ρ, tanh: hand-written Jacobians vs autograd",
                     view.hand_norm, float(view.tanh[0]), REL_TOL, error=view.hand_error))
    out.append(Check("RNN at ρ, no activation: W_hh^T vs autograd ∂h_T/∂h_0", view.power_norm, float(view.linear[0]),
                     REL_TOL, error=view.power_error))
    c = clipping
    out.append(Check("clipping: ‖g‖ = √(Σ g²) vs clip_grad_norm_'s norm", c.total, c.torch_total,
                     1e-10 * max(1.0, c.total)))
    out.append(Check("clipping: course's min(1, θ/‖g‖)·g vs clip_grad_norm_", c.formula_clipped, c.torch_clipped,
                     1e-6 + 1e-10 * max(1.0, c.total)))
    out.append(Check("clipping: min(1, θ/(‖g‖ + 10⁻⁶))·g vs clip_grad_norm_", c.eps_clipped,
                     c.torch_clipped, 1e-12 * max(1.0, float(c.before.max(initial=0.0))), error=c.eps_gap))
    for _, row in params.iterrows():
        out.append(Check(f"{row['cell']}: course's count + G·d_h·L vs sum(p.numel())",
                         float(row["course"] + row["G·d_h·L"]), float(row["numel"]), 0.0))
    return out
