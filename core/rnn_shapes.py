"""What goes into `nn.RNN`, `nn.LSTM` and `nn.GRU` and what comes out: shapes by formula against a real
forward pass, where the last step of `output` meets `h_n`, the parameter count, and the cell equations
recomputed step by step from the module's own weights.

Notation (PyTorch's docs): N batch size, T sequence length, D input size, H hidden size, L num_layers,
D_dir = 2 if bidirectional else 1. `h_n` and `c_n` stack one (N, H) state per layer and direction, index
`layer · D_dir + direction`, so `h_n[-1]` is the last layer's *backward* state when bidirectional.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from core.checks import Check
from core.rng import generator

CELLS: tuple[str, ...] = ("RNN", "LSTM", "GRU")
#: Weight blocks stacked in weight_ih / weight_hh: 1 for RNN, 4 (i, f, g, o) for LSTM, 3 (r, z, n) for GRU.
GATES: dict[str, int] = {"RNN": 1, "LSTM": 4, "GRU": 3}
_MODULES: dict[str, type[nn.RNNBase]] = {"RNN": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}


@dataclass(frozen=True)
class RNNConfig:
    """One recurrent layer stack and the batch it reads."""

    cell: str = "LSTM"  # RNN, LSTM or GRU
    batch_size: int = 32  # N
    seq_len: int = 96  # T (the course's 24 h of 15-minute readings)
    input_size: int = 1  # D, features per time step
    hidden_size: int = 32  # H
    num_layers: int = 2  # L, stacked layers
    batch_first: bool = True  # input/output laid out (N, T, ·) instead of (T, N, ·); never h0/h_n
    bidirectional: bool = False  # a second pass from t = T down to 1

    def __post_init__(self) -> None:
        if self.cell not in CELLS:
            raise ValueError(f"unknown cell {self.cell!r}; choose from {', '.join(CELLS)}")
        for name in ("batch_size", "seq_len", "input_size", "hidden_size", "num_layers"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def is_lstm(self) -> bool:
        return self.cell == "LSTM"

    def batched(self, a: int, b: int, c: int) -> tuple[int, int, int]:
        """(N, T, c) if batch_first else (T, N, c), with a = N and b = T."""
        return (a, b, c) if self.batch_first else (b, a, c)


def predicted_shapes(config: RNNConfig) -> dict[str, tuple[int, ...]]:
    """Every tensor's shape from PyTorch's documented formulas.

    Returns:
        input (N, T, D) or (T, N, D); h0, h_n (and c0, c_n for LSTM) (D_dir·L, N, H); output (N, T, D_dir·H)
        or (T, N, D_dir·H); last_step, the output at the last time step, (N, D_dir·H).
    """
    n, t, d, h = config.batch_size, config.seq_len, config.input_size, config.hidden_size
    state = (config.num_directions * config.num_layers, n, h)
    shapes = {"input": config.batched(n, t, d), "h0": state}
    if config.is_lstm:
        shapes["c0"] = state
    shapes["output"] = config.batched(n, t, config.num_directions * h)
    shapes["h_n"] = state
    if config.is_lstm:
        shapes["c_n"] = state
    shapes["last_step"] = (n, config.num_directions * h)
    return shapes


def layer_input_sizes(config: RNNConfig) -> list[int]:
    """What each layer reads: D for the first, D_dir·H (the layer below's output) for the others."""
    return [config.input_size] + [config.num_directions * config.hidden_size] * (config.num_layers - 1)


def parameter_count(config: RNNConfig) -> int:
    """PyTorch's count: per layer and direction G·H·(D_l + H) weights and two bias vectors b_ih, b_hh (2·G·H)."""
    g, h = GATES[config.cell], config.hidden_size
    per_direction = sum(g * h * (d_l + h) + 2 * g * h for d_l in layer_input_sizes(config))
    return config.num_directions * per_direction


def course_parameter_count(config: RNNConfig) -> int:
    """The course's count (§9.5, §10.4), one bias per gate: G·H·(H + D_l + 1) per layer and direction."""
    g, h = GATES[config.cell], config.hidden_size
    return config.num_directions * sum(g * h * (h + d_l + 1) for d_l in layer_input_sizes(config))


def init_uniform_(model: nn.Module, g: torch.Generator) -> nn.Module:
    """PyTorch's default initialisation, drawn from `g`: every RNN parameter U(−1/√H, 1/√H), every
    Linear parameter U(−1/√fan_in, 1/√fan_in), in `model.parameters()` order."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.RNNBase):
                bound = 1 / math.sqrt(module.hidden_size)
            elif isinstance(module, nn.Linear):
                bound = 1 / math.sqrt(module.in_features)
            else:
                continue
            for p in module.parameters(recurse=False):
                nn.init.uniform_(p, -bound, bound, generator=g)
    return model


def make_rnn(config: RNNConfig, **overrides) -> nn.RNNBase:
    """The `nn.RNN` / `nn.LSTM` / `nn.GRU` for `config`, built on the meta device (no global RNG) and left
    uninitialised on the CPU: call `init_uniform_` next. `overrides` replace constructor arguments."""
    kwargs = dict(input_size=config.input_size, hidden_size=config.hidden_size, num_layers=config.num_layers,
                  batch_first=config.batch_first, bidirectional=config.bidirectional) | overrides
    with torch.device("meta"):
        module = _MODULES[config.cell](**kwargs)
    return module.to_empty(device="cpu")


def build(config: RNNConfig, seed: int = 0) -> tuple[nn.RNNBase, torch.Tensor]:
    """The seeded module and an input batch x drawn after its weights from the same generator.

    Returns:
        (module, x) with x shaped (N, T, D) if batch_first else (T, N, D).
    """
    g = generator(seed)
    module = init_uniform_(make_rnn(config), g)
    x = torch.randn(predicted_shapes(config)["input"], generator=g)
    return module, x


def _cell_step(cell: str, x: torch.Tensor, h: torch.Tensor, c: torch.Tensor | None, w_ih, w_hh, b_ih, b_hh):
    """One time step by PyTorch's equations. x: (N, D_l); h, c: (N, H). Returns (h, c)."""
    gi, gh = x @ w_ih.T + b_ih, h @ w_hh.T + b_hh  # (N, G·H) each
    if cell == "RNN":
        return torch.tanh(gi + gh), None
    if cell == "LSTM":
        i, f, g, o = (gi + gh).chunk(4, dim=1)  # PyTorch's gate order: input, forget, cell, output
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c), c
    i_r, i_z, i_n = gi.chunk(3, dim=1)  # GRU: reset, update, new
    h_r, h_z, h_n = gh.chunk(3, dim=1)
    r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
    n = torch.tanh(i_n + r * h_n)  # the reset gate multiplies W_hn·h + b_hn, after the matrix product
    return (1 - z) * n + z * h, None


def equations_forward(module: nn.RNNBase, x: torch.Tensor, h0: torch.Tensor, c0: torch.Tensor | None = None):
    """The whole stack recomputed time step by time step from the module's own weights.

    Args:
        x: (N, T, D) if module.batch_first else (T, N, D).
        h0, c0: (D_dir·L, N, H); c0 only for LSTM.
    Returns:
        (output, h_n, c_n) laid out like the module's own; c_n is None except for LSTM.
    """
    cell = {nn.RNN: "RNN", nn.LSTM: "LSTM", nn.GRU: "GRU"}[type(module)]
    dirs = 2 if module.bidirectional else 1
    layer_in = x.transpose(0, 1) if module.batch_first else x  # (T, N, D)
    steps = layer_in.shape[0]
    h_n, c_n = [], []
    for layer in range(module.num_layers):
        outputs = []
        for direction in range(dirs):
            suffix = f"_l{layer}" + ("_reverse" if direction else "")
            weights = [getattr(module, f"{name}{suffix}") for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
            k = layer * dirs + direction
            h, c = h0[k], (c0[k] if c0 is not None else None)
            seq: list[torch.Tensor] = [h] * steps
            for t in (reversed(range(steps)) if direction else range(steps)):
                h, c = _cell_step(cell, layer_in[t], h, c, *weights)
                seq[t] = h
            outputs.append(torch.stack(seq))  # (T, N, H)
            h_n.append(h)
            c_n.append(c)
        layer_in = torch.cat(outputs, dim=-1)  # (T, N, D_dir·H): the next layer's input
    output = layer_in.transpose(0, 1) if module.batch_first else layer_in
    return output, torch.stack(h_n), (torch.stack(c_n) if cell == "LSTM" else None)


@dataclass(frozen=True)
class ShapeResult:
    """One forward pass of the configured module, with every shape and the comparisons the page shows."""

    config: RNNConfig
    predicted: dict[str, tuple[int, ...]]  # by formula (see predicted_shapes)
    actual: dict[str, tuple[int, ...]]  # from the forward pass, same keys
    weights: tuple[tuple[str, tuple[int, ...]], ...]  # (name, shape) of every parameter
    forward_last_diff: float  # max |out[:, -1, :H] − h_n[−D_dir]|: the last layer's forward state (0 expected)
    backward_first_diff: float | None  # max |out[:, 0, H:] − h_n[−1]|: the backward state (0 expected)
    backward_last_diff: float | None  # max |out[:, -1, H:] − h_n[−1]|: not the same (unless T = 1)
    equations_diff: float  # max |step-by-step equations − module| over output, h_n (and c_n)
    equations_mean: tuple[float, float]  # mean |output|: (by the equations, by the module)
    backward_first_values: tuple[float, ...] | None  # out[0, 0, H:H+4] when bidirectional
    backward_h_n_values: tuple[float, ...] | None  # h_n[-1][0, :4], the same numbers
    out_last_values: tuple[float, ...]  # out[0, -1, :4] for the first sample (forward half)
    h_n_values: tuple[float, ...]  # h_n[−D_dir][0, :4], the same numbers
    num_params: int  # sum(p.numel())
    param_formula: int  # parameter_count(config)
    course_params: int  # course_parameter_count(config)


def _max_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max())


def run(config: RNNConfig, seed: int = 0) -> ShapeResult:
    """Build the module, run one forward pass with zero initial states (as the course does), and measure."""
    module, x = build(config, seed)
    shapes = predicted_shapes(config)
    h0 = torch.zeros(shapes["h0"])
    c0 = torch.zeros(shapes["h0"]) if config.is_lstm else None
    with torch.inference_mode():
        if config.is_lstm:
            out, (h_n, c_n) = module(x, (h0, c0))
        else:
            (out, h_n), c_n = module(x, h0), None
        eq_out, eq_h, eq_c = equations_forward(module, x, h0, c0)
    actual = {"input": x.shape, "h0": h0.shape, "output": out.shape, "h_n": h_n.shape}
    if config.is_lstm:
        actual |= {"c0": c0.shape, "c_n": c_n.shape}
    out_ntf = out if config.batch_first else out.transpose(0, 1)  # (N, T, D_dir·H)
    actual["last_step"] = out_ntf[:, -1, :].shape
    hid = config.hidden_size
    forward_h = h_n[-config.num_directions]  # the last layer's forward direction
    diffs = [_max_diff(eq_out, out), _max_diff(eq_h, h_n)] + ([_max_diff(eq_c, c_n)] if config.is_lstm else [])
    return ShapeResult(
        config=config,
        predicted=shapes,
        actual={k: tuple(actual[k]) for k in shapes},
        weights=tuple((name, tuple(p.shape)) for name, p in module.named_parameters()),
        forward_last_diff=_max_diff(out_ntf[:, -1, :hid], forward_h),
        backward_first_diff=_max_diff(out_ntf[:, 0, hid:], h_n[-1]) if config.bidirectional else None,
        backward_last_diff=_max_diff(out_ntf[:, -1, hid:], h_n[-1]) if config.bidirectional else None,
        equations_diff=max(diffs),
        equations_mean=(float(eq_out.abs().mean()), float(out.abs().mean())),
        backward_first_values=tuple(out_ntf[0, 0, hid : hid + min(4, hid)].tolist()) if config.bidirectional else None,
        backward_h_n_values=tuple(h_n[-1][0, : min(4, hid)].tolist()) if config.bidirectional else None,
        out_last_values=tuple(out_ntf[0, -1, : min(4, hid)].tolist()),
        h_n_values=tuple(forward_h[0, : min(4, hid)].tolist()),
        num_params=sum(p.numel() for p in module.parameters()),
        param_formula=parameter_count(config),
        course_params=course_parameter_count(config),
    )


def shape_formulas(config: RNNConfig) -> dict[str, str]:
    """Each tensor's shape in symbols, as PyTorch's docs write it."""
    seq = "(N, T, {})" if config.batch_first else "(T, N, {})"
    out = "D_dir·H" if config.bidirectional else "H"
    state = "(D_dir·L, N, H)" if config.bidirectional else "(L, N, H)"
    table = {"input": seq.format("D"), "h0": state, "c0": state, "output": seq.format(out), "h_n": state,
             "c_n": state, "last_step": f"(N, {out})"}
    return {k: table[k] for k in predicted_shapes(config)}


def _shape_check(name: str, formula: str, predicted: tuple[int, ...], actual: tuple[int, ...]) -> Check:
    wrong = sum(a != b for a, b in zip(predicted, actual)) + abs(len(predicted) - len(actual))
    return Check(f"{name} {formula} = {predicted}", float(math.prod(predicted)), float(math.prod(actual)), 0.0, error=float(wrong))


def checks(result: ShapeResult) -> list[Check]:
    """Shapes by formula vs the forward pass, the last step vs h_n, the equations vs the module, and the
    parameter count by formula vs sum(p.numel())."""
    config, formulas = result.config, shape_formulas(result.config)
    names = {"input": "x", "last_step": "out[:, -1, :]" if config.batch_first else "out[-1]"}
    out = [_shape_check(names.get(k, k), formulas[k], result.predicted[k], result.actual[k]) for k in result.predicted]
    h_index = "h_n[-2]" if config.bidirectional else "h_n[-1]"
    out.append(Check(f"{h_index}[0, 0] vs out[0, -1, 0]; max |difference| over all of out[:, -1, :H]",
                     result.h_n_values[0], result.out_last_values[0], 1e-6, error=result.forward_last_diff))
    if config.bidirectional:
        out.append(Check("h_n[-1][0, 0] vs out[0, 0, H]: the backward state ends at t = 1; max |difference| over all",
                         result.backward_h_n_values[0], result.backward_first_values[0], 1e-6, error=result.backward_first_diff))
    states = "output, h_n, c_n" if config.is_lstm else "output, h_n"
    out.append(Check(f"mean |output|: {config.cell} equations step by step vs nn.{config.cell}; max |difference| over {states}",
                     result.equations_mean[0], result.equations_mean[1], 1e-5, error=result.equations_diff))
    out.append(Check("parameters: D_dir · Σ_layers G·H·(D_l + H + 2) vs sum(p.numel())",
                     float(result.param_formula), float(result.num_params), 0.0))
    return out
