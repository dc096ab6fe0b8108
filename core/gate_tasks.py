"""What the LSTM & GRU gates page's model reads and learns: the input sequences, a short training task per input
that needs memory, and the model itself.

The model: nn.LSTM, nn.GRU or nn.RNN over a one-feature sequence, then the course's readout ŷ_t = W_hy h_t + b_y
(nn.Linear) at every step. Either untrained (PyTorch's default initialisation, drawn from a seeded generator) or
trained with `core.training.train` for a fixed number of Adam steps, so a seed alone decides the trained weights
and a standalone script can train the same model again.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from core import models, training
from core.gates import CELLS, MODULES
from core.rng import generator

INPUTS: tuple[str, ...] = ("impulse", "sine", "square", "walk", "electricity")
INPUT_LABELS = {"impulse": "Impulse to remember", "sine": "Sine", "square": "Square wave", "walk": "Noisy random walk",
                "electricity": "Electricity (bundled series)"}
TASKS = {  # what the trained model learned to output at every step t, from x_1 … x_t
    "impulse": "recall the height of the impulse seen so far (0 before it)",
    "sine": "predict the next value of sines of random frequency and phase",
    "square": "predict the next value of square waves of random frequency and phase",
    "walk": "recover the clean random walk under the noise",
    "electricity": "predict the next reading of the standardised electricity series (days 1–7)",
}
PERIODIC = ("sine", "square")  # the inputs the frequency applies to

MIN_LEN, MAX_LEN = 5, 200
MAX_HIDDEN = 64
MIN_FREQ, MAX_FREQ = 0.01, 0.25  # cycles per step: periods of 100 down to 4 steps
WALK_STEP, WALK_NOISE = 0.1, 0.2  # σ of a random-walk step, σ of the noise on each reading
ELEC_TRAIN = 7 * 96  # the first 7 days of readings: training windows and the standardisation
# Training: fixed sizes, so a seed alone decides the trained model and a script can train it again.
TRAIN_LEN, TRAIN_SEQUENCES, BATCH_SIZE, EPOCHS, LR = 50, 512, 32, 15, 0.02
TRAIN_STEPS = EPOCHS * (TRAIN_SEQUENCES // BATCH_SIZE)


class GateNet(nn.Module):
    """The cell over (N, T, 1) sequences and a Linear readout at every step: (N, T, 1) → (N, T, 1)."""

    def __init__(self, cell: str, hidden: int):
        super().__init__()
        self.rnn = MODULES[cell](1, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(x)  # (N, T, H)
        return self.fc(out)  # (N, T, 1)


# ---------------------------------------------------------------- inputs and tasks

def impulse_step(seq_len: int) -> int:
    """The (1-based) step of the page's impulse: a quarter of the way in, so there is a lot to remember after it."""
    return seq_len // 4 + 1


def _square(phase: torch.Tensor) -> torch.Tensor:
    return torch.where(torch.remainder(phase, 1.0) < 0.5, 1.0, -1.0).to(phase.dtype)


def electricity_z(length: int) -> torch.Tensor:
    """The first `length` readings of the bundled series, standardised with the first 7 days' mean and std."""
    from core.data import electricity_frame

    kw = torch.tensor(electricity_frame()["consumption"].to_numpy()[:length], dtype=torch.float64)
    head = kw[:ELEC_TRAIN]
    return (kw - head.mean()) / head.std()


def signal(kind: str, seq_len: int, frequency: float = 0.05, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The page's input x_1 … x_T and the trained task's target for it.

    sine: x_t = sin(2π f t); square: +1 in the first half of each period, −1 in the second; impulse: 1 at
    step T//4 + 1, 0 elsewhere (target: 1 from the impulse on); walk: w_t = Σ N(0, 0.1²) steps, x_t = w_t +
    N(0, 0.2²) noise, from `seed` (target w_t); electricity: the readings from day 8 on, standardised.
    Returns:
        x and target, each (T,) float64.
    """
    if kind not in INPUTS:
        raise ValueError(f"unknown input {kind!r}; choose from {', '.join(INPUTS)}")
    if not MIN_LEN <= seq_len <= MAX_LEN:
        raise ValueError(f"the sequence length must be from {MIN_LEN} to {MAX_LEN}")
    if not MIN_FREQ <= frequency <= MAX_FREQ + 1e-12:
        raise ValueError(f"the frequency must be from {MIN_FREQ} to {MAX_FREQ} cycles per step")
    t = torch.arange(1, seq_len + 2, dtype=torch.float64)  # one step more for the next-value target
    if kind == "sine":
        s = torch.sin(2 * math.pi * frequency * t)
        x, y = s[:-1], s[1:]
    elif kind == "square":
        s = _square(frequency * t)
        x, y = s[:-1], s[1:]
    elif kind == "impulse":
        x = torch.zeros(seq_len, dtype=torch.float64)
        x[impulse_step(seq_len) - 1] = 1.0
        y = torch.cumsum(x, 0)
    elif kind == "walk":
        g = generator(seed)
        y = torch.cumsum(WALK_STEP * torch.randn(seq_len, generator=g, dtype=torch.float64), 0)
        x = y + WALK_NOISE * torch.randn(seq_len, generator=g, dtype=torch.float64)
    else:
        z = electricity_z(ELEC_TRAIN + seq_len + 1)
        x, y = z[ELEC_TRAIN:-1], z[ELEC_TRAIN + 1 :]
    return x.numpy(), y.numpy()


def task_data(kind: str, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """The training set of `kind`'s task: TRAIN_SEQUENCES sequences of TRAIN_LEN steps, drawn from `g`.

    Returns:
        X, Y, each (TRAIN_SEQUENCES, TRAIN_LEN, 1) float32; Y[:, t] is the target after reading X[:, :t+1].
    """
    n, length = TRAIN_SEQUENCES, TRAIN_LEN
    t = torch.arange(1, length + 2, dtype=torch.float64)
    if kind in PERIODIC:
        f = MIN_FREQ + (MAX_FREQ - MIN_FREQ) * torch.rand(n, 1, generator=g, dtype=torch.float64)
        phase = torch.rand(n, 1, generator=g, dtype=torch.float64)  # in periods
        s = torch.sin(2 * math.pi * (f * t + phase)) if kind == "sine" else _square(f * t + phase)
        x, y = s[:, :-1], s[:, 1:]
    elif kind == "impulse":
        step = torch.randint(0, length, (n,), generator=g)
        height = 0.5 + torch.rand(n, generator=g, dtype=torch.float64)  # in [0.5, 1.5)
        x = torch.zeros(n, length, dtype=torch.float64)
        x[torch.arange(n), step] = height
        y = torch.cumsum(x, 1)
    elif kind == "walk":
        y = torch.cumsum(WALK_STEP * torch.randn(n, length, generator=g, dtype=torch.float64), 1)
        x = y + WALK_NOISE * torch.randn(n, length, generator=g, dtype=torch.float64)
    elif kind == "electricity":
        z = electricity_z(ELEC_TRAIN)
        start = torch.randint(0, ELEC_TRAIN - length, (n,), generator=g)
        windows = z[start[:, None] + torch.arange(length + 1)]  # (n, L + 1)
        x, y = windows[:, :-1], windows[:, 1:]
    else:
        raise ValueError(f"unknown input {kind!r}; choose from {', '.join(INPUTS)}")
    return x.float().unsqueeze(-1), y.float().unsqueeze(-1)


# ---------------------------------------------------------------- the model

@dataclass(frozen=True)
class Model:
    """A GateNet's weights and how they came about."""

    cell: str
    hidden: int
    kind: str  # the input kind whose task it was trained on
    seed: int
    trained: bool
    state: dict[str, np.ndarray]  # the state_dict: rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0, rnn.bias_hh_l0, fc.weight, fc.bias
    losses: tuple[float, ...] = ()  # training MSE per Adam step
    seconds: float = 0.0  # wall time of the training run
    message: str | None = None  # why a run ended early

    def module(self) -> GateNet:
        net = GateNet(self.cell, self.hidden)
        net.load_state_dict({k: torch.from_numpy(v) for k, v in self.state.items()})
        return net.eval()


def build(cell: str, hidden: int, kind: str, trained: bool, seed: int = 0) -> Model:
    """A GateNet with PyTorch's default initialisation drawn from generator(seed); if `trained`, then trained
    with `core.training.train` (Adam, MSE over every step) on `kind`'s task, data drawn from the same generator."""
    if cell not in CELLS:
        raise ValueError(f"unknown cell {cell!r}; choose from {', '.join(CELLS)}")
    if not 1 <= hidden <= MAX_HIDDEN:
        raise ValueError(f"the hidden size must be from 1 to {MAX_HIDDEN}")
    g = generator(seed)
    net = models.init_parameters(GateNet(cell, hidden), "default", g)
    losses, seconds, message = [], 0.0, None
    if trained:
        X, Y = task_data(kind, g)
        loader = DataLoader(TensorDataset(X, Y), batch_size=BATCH_SIZE, shuffle=True, generator=generator(seed))
        optimizer = training.make_optimizer("adam", net.parameters(), LR)
        start = time.perf_counter()
        for record in training.train(net, nn.MSELoss(), optimizer, loader, None, EPOCHS):
            if record.kind == "step":
                losses.append(record.train_loss)
            elif record.kind == "diverged":
                message = record.message
        seconds = time.perf_counter() - start
    state = {k: v.detach().numpy().copy() for k, v in net.state_dict().items()}
    return Model(cell, hidden, kind, seed, trained, state, tuple(losses), seconds, message)
