"""Batch normalization (course §3.4) step by step against `nn.BatchNorm1d` and `nn.BatchNorm2d`, in train and
eval mode, with the running statistics PyTorch keeps; and its effect on training the course's network.

What PyTorch does that the course's formulas leave out, each computed here so the page can show it:
- a batch is normalized with its biased variance (÷ m), but `running_var` is updated with the unbiased one (÷ (m − 1));
- running = (1 − momentum)·running + momentum·batch: PyTorch's `momentum` is the weight of the NEW batch
  (0.1 by default), the opposite of an optimizer's momentum; `momentum=None` keeps a cumulative average;
- eval mode normalizes with the running statistics, so one batch gives different outputs in the two modes;
- in train mode a batch with one value per channel is refused ("Expected more than 1 value per channel when training").

The input batches: feature k is drawn with mean shift + OFFSETS[k] and standard deviation scale·SPREADS[k],
from a standard normal z bent by the skew a into (e^{az} − 1)/a and standardized with that shape's exact
mean and standard deviation, so every population mean and variance is known.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.utils.data import DataLoader

from core import data, models, training
from core.checks import Check
from core.rng import generator

MAX_BATCH = 256
MAX_FEATURES = 8
MAX_STREAM = 300
EPS = 1e-5  # nn.BatchNorm's default ε
OFFSETS: tuple[float, ...] = (0.0, 2.0, -2.0, 4.0, -4.0, 6.0, -6.0, 8.0)  # feature k's mean: shift + OFFSETS[k]
SPREADS: tuple[float, ...] = (1.0, 0.5, 2.0, 1.5, 0.75, 3.0, 1.25, 2.5)  # feature k's std: scale · SPREADS[k]
MOMENTA: tuple[float | None, ...] = (0.01, 0.05, 0.1, 0.2, 0.5, 0.9, 1.0, None)
MODES = ("train", "eval")
CHANNELS, MAP_SIZE, MAX_IMAGES = 3, 4, 4  # the BatchNorm2d example: (N, 3, 4, 4)
_ULP = 2.0**-24  # float32's relative rounding


def population(features: int, shift: float, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Each feature's population mean and standard deviation, shapes (features,)."""
    return np.array([shift + o for o in OFFSETS[:features]]), np.array([scale * s for s in SPREADS[:features]])


def skewed(z: torch.Tensor, skew: float) -> torch.Tensor:
    """(e^{az} − 1)/a standardized to mean 0 and variance 1 with its exact moments; z itself when a = 0."""
    if skew == 0:
        return z
    a2 = skew * skew
    mean = math.expm1(a2 / 2) / skew
    std = math.sqrt(math.exp(a2) * math.expm1(a2)) / abs(skew)
    return (torch.expm1(skew * z) / skew - mean) / std


def draw(g: torch.Generator, shape: tuple[int, ...], mean: np.ndarray, std: np.ndarray, skew: float, dim: int) -> torch.Tensor:
    """One float32 draw of `shape`, with mean[k] and std[k] along dimension `dim` (computed in float64)."""
    z = skewed(torch.randn(shape, generator=g, dtype=torch.float64), skew)
    view = [1] * len(shape)
    view[dim] = -1
    return (torch.tensor(mean).view(view) + torch.tensor(std).view(view) * z).float()


def stream_batches(batches: int, m: int, features: int, shift: float, scale: float, skew: float, seed: int = 0) -> torch.Tensor:
    """`batches` mini-batches drawn one after another from one generator, so batch 1 never depends on how many follow.

    Returns: (batches, m, features) float32.
    """
    g, (mean, std) = generator(seed), population(features, shift, scale)
    return torch.stack([draw(g, (m, features), mean, std, skew, 1) for _ in range(batches)])


def feature_maps(images: int, shift: float, scale: float, skew: float, seed: int = 0) -> torch.Tensor:
    """The BatchNorm2d example: channel c drawn like feature c. Returns (images, 3, 4, 4) float32."""
    mean, std = population(CHANNELS, shift, scale)
    return draw(generator(seed + 1), (images, CHANNELS, MAP_SIZE, MAP_SIZE), mean, std, skew, 1)


def batch_statistics(x: torch.Tensor, dims: tuple[int, ...] = (0,)) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The course's μ_B and σ²_B (÷ m), and the unbiased s²_B (÷ (m − 1), nan for m = 1), per feature/channel, float64."""
    x = x.double()
    n = math.prod(x.shape[d] for d in dims)
    mean = x.mean(dim=dims)
    var = ((x - mean.view([-1 if d not in dims else 1 for d in range(x.dim())])) ** 2).sum(dim=dims) / n
    unbiased = var * n / (n - 1) if n > 1 else torch.full_like(var, math.nan)
    return mean.numpy(), var.numpy(), unbiased.numpy()


def normalize(x: np.ndarray, mean: np.ndarray, var: np.ndarray, gamma: float, beta: float, eps: float = EPS) -> tuple[np.ndarray, np.ndarray]:
    """The course's steps 2 and 3: x̂ = (x − μ)/√(σ² + ε) and y = γ·x̂ + β, with μ and σ² broadcast along dimension 1."""
    shape = [1, -1] + [1] * (x.ndim - 2)
    x_hat = (x.astype(np.float64) - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    return x_hat, gamma * x_hat + beta


def momentum_label(momentum: float | None) -> str:
    return "None (cumulative average)" if momentum is None else f"{momentum:g}"


def layer(kind: type[nn.Module], channels: int, gamma: float, beta: float, momentum: float | None) -> nn.Module:
    """A fresh nn.BatchNorm1d/2d (running mean 0, running variance 1) with γ and β set."""
    bn = kind(channels, eps=EPS, momentum=momentum)
    with torch.no_grad():
        bn.weight.fill_(gamma)
        bn.bias.fill_(beta)
    return bn


def refusal(bn: nn.Module, x: torch.Tensor) -> tuple[np.ndarray | None, str | None]:
    """bn(x) in its current mode, or PyTorch's message when it refuses the batch."""
    try:
        with torch.inference_mode():
            return bn(x).numpy(), None
    except ValueError as err:
        return None, str(err)


@dataclass(frozen=True)
class Stream:
    """The running statistics over a stream of training batches, by the update formula and by nn.BatchNorm1d."""

    batch_mean: np.ndarray  # (T, F) μ_B of each batch
    batch_var: np.ndarray  # (T, F) unbiased s²_B of each batch: what running_var takes in
    running_mean: np.ndarray  # (T + 1, F) by the formula; row 0 is PyTorch's initial 0
    running_var: np.ndarray  # (T + 1, F) by the formula; row 0 is PyTorch's initial 1
    torch_mean: np.ndarray  # (T + 1, F) nn.BatchNorm1d's running_mean after each batch
    torch_var: np.ndarray  # (T + 1, F) nn.BatchNorm1d's running_var after each batch
    error: str | None  # PyTorch's message when it refused the first batch (m = 1); then T = 0


def running_stream(batches: torch.Tensor, momentum: float | None) -> Stream:
    """Feed every batch to one nn.BatchNorm1d in train mode, and redo its update: running ← (1 − p)·running + p·batch,
    p = momentum, or 1/t (the t-th batch) for momentum=None."""
    features = batches.shape[-1]
    bn = layer(nn.BatchNorm1d, features, 1.0, 0.0, momentum)
    means, variances = [np.zeros(features)], [np.ones(features)]
    torch_mean, torch_var = [bn.running_mean.numpy().copy()], [bn.running_var.numpy().copy()]
    batch_mean, batch_var, error = [], [], None
    for t, x in enumerate(batches, start=1):
        _, error = refusal(bn, x)
        if error:
            break
        mu, _, unbiased = batch_statistics(x)
        p = 1 / t if momentum is None else momentum
        means.append((1 - p) * means[-1] + p * mu)
        variances.append((1 - p) * variances[-1] + p * unbiased)
        torch_mean.append(bn.running_mean.numpy().copy())
        torch_var.append(bn.running_var.numpy().copy())
        batch_mean.append(mu)
        batch_var.append(unbiased)
    empty = np.zeros((0, features))
    return Stream(np.array(batch_mean) if batch_mean else empty, np.array(batch_var) if batch_var else empty,
                  np.array(means), np.array(variances), np.array(torch_mean), np.array(torch_var), error)


@dataclass(frozen=True)
class Mode:
    """One batch through BatchNorm in one mode: the statistics used, the course's steps, and PyTorch's output."""

    mean: np.ndarray  # (F,) μ used: the batch's (train) or running_mean (eval)
    var: np.ndarray  # (F,) σ² used: the batch's biased one (train) or running_var (eval)
    x_hat: np.ndarray  # (m, F) or (N, C, H, W), float64
    y: np.ndarray  # same shape, by the formula
    y_torch: np.ndarray | None  # PyTorch's output; None when it refused the batch
    error: str | None  # PyTorch's message when it refused

    @property
    def max_error(self) -> float:
        return math.nan if self.y_torch is None else float(np.abs(self.y - self.y_torch).max())

    @property
    def centre(self) -> float:
        """The largest |mean of x̂| over the features (0 in train mode)."""
        return float(np.abs(self.x_hat.mean(axis=0)).max())

    @property
    def spread(self) -> tuple[float, float]:
        """The smallest and largest variance of x̂ (÷ m) over the features (σ²_B/(σ²_B + ε) in train mode)."""
        var = self.x_hat.var(axis=0)
        return float(var.min()), float(var.max())


def tolerance(x: np.ndarray, var: np.ndarray, gamma: float, beta: float) -> float:
    """How far float32 may put PyTorch's y from the float64 formula: x's rounding, amplified by |γ|/√(σ² + ε)."""
    return 1e-6 + 64 * _ULP * (abs(gamma) * float(np.abs(x).max()) / math.sqrt(float(var.min()) + EPS) + abs(beta))


def agreement(what: str, formula: np.ndarray, pytorch: np.ndarray, tol: float) -> Check:
    """A Check over many values: the formula's and PyTorch's value where they differ most, and that largest |difference|."""
    formula, pytorch = np.asarray(formula, dtype=np.float64), np.asarray(pytorch, dtype=np.float64)
    diff = np.abs(formula - pytorch)
    i = int(np.nanargmax(diff)) if np.isfinite(diff).any() else 0
    worst = float(diff.max()) if np.isfinite(diff).all() else math.nan
    return Check(what, float(formula.flat[i]), float(pytorch.flat[i]), tol, worst)


@dataclass(frozen=True)
class View:
    """Everything the page shows about BatchNorm1d for one setting of its controls."""

    x: np.ndarray  # (m, F) batch 1 of the stream, float32
    population_mean: np.ndarray  # (F,)
    population_std: np.ndarray  # (F,)
    batch_mean: np.ndarray  # (F,) μ_B
    batch_var: np.ndarray  # (F,) σ²_B, biased (÷ m): normalizes the batch
    batch_var_unbiased: np.ndarray  # (F,) s²_B (÷ (m − 1)): goes into running_var; nan for m = 1
    train: Mode  # normalized with the batch's statistics
    eval: Mode  # normalized with the running statistics after the stream
    after_one: tuple[np.ndarray, np.ndarray] | None  # nn.BatchNorm1d's running (mean, var) after batch 1; None if refused
    raw: np.ndarray | None  # m = 1: torch.batch_norm, the operator nn.BatchNorm1d calls, which skips the size check
    raw_running_var: np.ndarray | None  # m = 1: the running_var that operator leaves (0/0 = nan)
    stream: Stream
    gamma: float
    beta: float
    momentum: float | None

    @property
    def m(self) -> int:
        return self.x.shape[0]

    def shown(self, mode: str) -> Mode:
        return self.train if mode == "train" else self.eval

    @property
    def mode_gap(self) -> float:
        """max |y_train − y_eval| over the batch (PyTorch's outputs); nan when train mode refused the batch."""
        return math.nan if self.train.y_torch is None else float(np.abs(self.train.y_torch - self.eval.y_torch).max())

    @property
    def tolerance(self) -> float:
        var = np.concatenate([self.train.var, self.eval.var])
        return tolerance(self.x, var, self.gamma, self.beta)


def view(m: int, features: int, shift: float, scale: float, skew: float, gamma: float, beta: float,
         momentum: float | None, batches: int, seed: int = 0) -> View:
    """Batch 1 of a stream of `batches` through BatchNorm1d in both modes, and the stream's running statistics."""
    if not (1 <= m <= MAX_BATCH and 1 <= features <= MAX_FEATURES and 1 <= batches <= MAX_STREAM):
        raise ValueError(f"m in 1..{MAX_BATCH}, features in 1..{MAX_FEATURES}, batches in 1..{MAX_STREAM}")
    xs = stream_batches(batches, m, features, shift, scale, skew, seed)
    x = xs[0]
    mean, var, unbiased = batch_statistics(x)
    x64 = x.double().numpy()
    bn = layer(nn.BatchNorm1d, features, gamma, beta, momentum)
    y_train, error = refusal(bn, x)
    after_one = None if error else (bn.running_mean.numpy().copy(), bn.running_var.numpy().copy())
    raw = raw_var = None
    if error:
        probe = layer(nn.BatchNorm1d, features, gamma, beta, momentum)
        with torch.inference_mode():
            raw = torch.batch_norm(x, probe.weight, probe.bias, probe.running_mean, probe.running_var, True,
                                   0.1 if momentum is None else momentum, EPS, False).numpy()
        raw_var = probe.running_var.numpy().copy()
    train = Mode(mean, var, *normalize(x64, mean, var, gamma, beta), y_train, error)
    stream = running_stream(xs, momentum)
    trained = layer(nn.BatchNorm1d, features, gamma, beta, momentum)
    trained.running_mean.copy_(torch.from_numpy(stream.torch_mean[-1]))
    trained.running_var.copy_(torch.from_numpy(stream.torch_var[-1]))
    y_eval, eval_error = refusal(trained.eval(), x)
    r_mean, r_var = stream.running_mean[-1], stream.running_var[-1]
    evaluated = Mode(r_mean, r_var, *normalize(x64, r_mean, r_var, gamma, beta), y_eval, eval_error)
    pop_mean, pop_std = population(features, shift, scale)
    return View(x.numpy(), pop_mean, pop_std, mean, var, unbiased, train, evaluated, after_one, raw, raw_var, stream,
                gamma, beta, momentum)


def variance_table(v: View) -> pd.DataFrame:
    """Per feature: μ_B, the two variances of batch 1, and the running statistics one training step leaves."""
    p = 1.0 if v.momentum is None else v.momentum  # momentum=None: the first batch gets weight 1/1
    table = pd.DataFrame({
        "feature": np.arange(1, len(v.batch_mean) + 1),
        "μ_B": v.batch_mean,
        "σ²_B (÷ m)": v.batch_var,
        "s²_B (÷ (m − 1))": v.batch_var_unbiased,
        "running_mean by the rule": p * v.batch_mean,
        "running_var by the rule": (1 - p) + p * v.batch_var_unbiased,
    })
    if v.after_one is not None:
        table["running_var, nn.BatchNorm1d"] = v.after_one[1]
    return table.dropna(axis=1, how="all")  # m = 1: no unbiased variance, so no running_var


def stream_table(v: View) -> pd.DataFrame:
    """Per feature: nn.BatchNorm1d's running statistics after the whole stream beside the population's values."""
    return pd.DataFrame({"feature": np.arange(1, len(v.population_mean) + 1), "running_mean": v.stream.torch_mean[-1],
                         "population mean": v.population_mean, "running_var": v.stream.torch_var[-1],
                         "population variance": v.population_std**2})


def checks(v: View) -> list[Check]:
    """The course's steps and PyTorch's running-statistics rule against nn.BatchNorm1d, in both modes."""
    tol, out = v.tolerance, []
    if v.train.error is None:
        p = 1.0 if v.momentum is None else v.momentum
        mean, var = v.after_one
        out += [
            agreement("train mode: y = γ(x − μ_B)/√(σ²_B + ε) + β, σ²_B ÷ m, vs nn.BatchNorm1d", v.train.y, v.train.y_torch, tol),
            agreement("running_mean after batch 1: (1 − p)·0 + p·μ_B", p * v.batch_mean, mean, 1e-5 * max(1.0, float(np.abs(v.x).max()))),
            agreement("running_var after batch 1: (1 − p)·1 + p·s²_B, s²_B ÷ (m − 1)", (1 - p) + p * v.batch_var_unbiased, var,
                      1e-5 * max(1.0, float(np.abs(var).max()))),
        ]
    else:
        out.append(agreement("train mode, m = 1: x̂ = 0 so y = β, vs torch.batch_norm (nn.BatchNorm1d refuses)", v.train.y, v.raw, tol))
    s = v.stream
    if len(s.batch_mean):
        t = len(s.batch_mean)
        scale = 1e-5 * max(1.0, float(np.abs(s.torch_var).max()), float(np.abs(v.x).max()))
        out += [agreement(f"running_mean over {t} batches: the update rule vs nn.BatchNorm1d", s.running_mean, s.torch_mean, scale),
                agreement(f"running_var over {t} batches: the update rule vs nn.BatchNorm1d", s.running_var, s.torch_var, scale)]
    out.append(agreement("eval mode: y = γ(x − running_mean)/√(running_var + ε) + β vs nn.BatchNorm1d.eval()",
                         v.eval.y, v.eval.y_torch, tol))
    return out


@dataclass(frozen=True)
class Single:
    """Sample 1 alone, a batch of one: refused in train mode, fine in eval mode."""

    error: str  # PyTorch's message in train mode
    tracked: int  # num_batches_tracked after the refused call: the module counted the batch before refusing it
    y_eval: np.ndarray  # (F,) its eval-mode output alone
    y_eval_in_batch: np.ndarray  # (F,) its eval-mode output inside the whole batch: the same


def single_sample(v: View) -> Single:
    """Sample 1 of the batch on its own through nn.BatchNorm1d, in train mode and in eval mode (running statistics
    after the stream)."""
    x = torch.from_numpy(v.x[:1])  # (1, F)
    bn = layer(nn.BatchNorm1d, x.shape[1], v.gamma, v.beta, v.momentum)
    bn.running_mean.copy_(torch.from_numpy(v.stream.torch_mean[-1]))
    bn.running_var.copy_(torch.from_numpy(v.stream.torch_var[-1]))
    tracked = int(bn.num_batches_tracked)
    _, error = refusal(bn, x)
    counted = int(bn.num_batches_tracked) - tracked
    y_eval, _ = refusal(bn.eval(), x)
    return Single(error or "", counted, y_eval[0], v.eval.y_torch[0])


# BatchNorm2d: one small batch of feature maps.
@dataclass(frozen=True)
class Maps:
    """A batch of (N, C, H, W) feature maps through BatchNorm2d: statistics per channel over N, H and W."""

    x: np.ndarray  # (N, C, H, W) float32
    mean: np.ndarray  # (C,) μ_c over N·H·W values
    var: np.ndarray  # (C,) biased σ²_c
    var_unbiased: np.ndarray  # (C,) ÷ (N·H·W − 1)
    running_mean: np.ndarray  # (C,) nn.BatchNorm2d's, after this one training step
    running_var: np.ndarray  # (C,)
    train: Mode
    eval: Mode  # with the running statistics this one step left

    @property
    def count(self) -> int:
        n, _, h, w = self.x.shape
        return n * h * w


def maps_view(images: int, shift: float, scale: float, skew: float, gamma: float, beta: float,
              momentum: float | None, seed: int = 0) -> Maps:
    """`images` 3×4×4 feature maps through a fresh nn.BatchNorm2d: one training step, then eval mode."""
    x = feature_maps(images, shift, scale, skew, seed)
    mean, var, unbiased = batch_statistics(x, (0, 2, 3))
    bn = layer(nn.BatchNorm2d, CHANNELS, gamma, beta, momentum)
    y_train, error = refusal(bn, x)  # N·H·W ≥ 16 values per channel: never refused
    r_mean, r_var = bn.running_mean.numpy().copy(), bn.running_var.numpy().copy()
    y_eval, eval_error = refusal(bn.eval(), x)
    x64 = x.double().numpy()
    p = 1.0 if momentum is None else momentum
    f_mean, f_var = p * mean, (1 - p) + p * unbiased  # the update rule from PyTorch's initial 0 and 1
    return Maps(x.numpy(), mean, var, unbiased, r_mean, r_var, Mode(mean, var, *normalize(x64, mean, var, gamma, beta), y_train, error),
                Mode(f_mean, f_var, *normalize(x64, f_mean, f_var, gamma, beta), y_eval, eval_error))


def channel_table(v: Maps) -> pd.DataFrame:
    """Per channel: μ_c and both variances over N·H·W, and nn.BatchNorm2d's running statistics after the step."""
    return pd.DataFrame({"channel": range(v.x.shape[1]), "μ_c": v.mean, "σ²_c (÷ N·H·W)": v.var,
                         "s²_c (÷ (N·H·W − 1))": v.var_unbiased, "running_mean": v.running_mean, "running_var": v.running_var})


def maps_checks(v: Maps, gamma: float, beta: float) -> list[Check]:
    """BatchNorm2d: the per-channel formula over N, H, W against nn.BatchNorm2d in both modes, and its running_var."""
    tol = tolerance(v.x, np.concatenate([v.var, v.eval.var]), gamma, beta)
    return [
        agreement("BatchNorm2d train mode: μ_c, σ²_c per channel over N·H·W vs nn.BatchNorm2d", v.train.y, v.train.y_torch, tol),
        agreement("BatchNorm2d running_var: (1 − p)·1 + p·s²_c, s²_c ÷ (N·H·W − 1)", v.eval.var, v.running_var,
                  1e-5 * max(1.0, float(np.abs(v.running_var).max()))),
        agreement("BatchNorm2d eval mode: with running_mean and running_var vs nn.BatchNorm2d.eval()", v.eval.y, v.eval.y_torch, tol),
    ]


# Training: the course's network and a deeper one, with and without BatchNorm, same seed, same batches.
OPTIMIZERS = ("adam", "sgd")
OPTIMIZER_LABELS = {"adam": "Adam (the course's)", "sgd": "SGD"}
LRS: tuple[float, ...] = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
DEPTHS = ("course", "deep")
DEEP_WIDTHS: tuple[int, ...] = (16, 16, 16, 16, 16, 8)
DEPTH_LABELS = {"course": "Course net 9→16→8→1", "deep": "Deeper net 9→16→16→16→16→16→8→1"}
EPOCHS, BATCH_SIZE, SMOOTHING = 5, 32, 0.9


class DeepWaterNet(nn.Module):
    """The course's net with more hidden layers: Linear → BatchNorm1d (optional) → ReLU each, a sigmoid on the output."""

    def __init__(self, widths: tuple[int, ...] = DEEP_WIDTHS, n_features: int = 9, batchnorm: bool = False):
        super().__init__()
        sizes = (n_features, *widths)
        self.fcs = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes, sizes[1:]))
        self.bns = nn.ModuleList(nn.BatchNorm1d(w) if batchnorm else nn.Identity() for w in widths)
        self.out = nn.Linear(widths[-1], 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, 9) → (N, 1)
        for fc, bn in zip(self.fcs, self.bns):
            x = nn.functional.relu(bn(fc(x)))
        return torch.sigmoid(self.out(x))


def network(depth: str, batchnorm: bool) -> nn.Module:
    """WaterNet (the course's 9→16→8→1) or the deeper variant, with BatchNorm1d after each hidden Linear or not."""
    if depth not in DEPTHS:
        raise ValueError(f"unknown depth {depth!r}; choose from {', '.join(DEPTHS)}")
    return models.WaterNet(batchnorm=batchnorm) if depth == "course" else DeepWaterNet(batchnorm=batchnorm)


@dataclass(frozen=True)
class Run:
    """One training run: the loss of every step it took, and per epoch the training and validation losses."""

    batchnorm: bool
    loss: np.ndarray  # (steps,) BCE of each step's batch; finite (a diverged run stops before its non-finite step)
    smoothed: np.ndarray  # (steps,) the same, debiased EMA with weight SMOOTHING
    epochs: pd.DataFrame  # epoch, step, train_loss (epoch mean), val_loss, accuracy (eval mode, test split)
    diverged_at: int | None  # the step whose loss was not finite
    message: str | None

    @property
    def final_loss(self) -> float:
        return float(self.epochs.train_loss.iloc[-1]) if len(self.epochs) else math.nan


def _bce(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return nn.functional.binary_cross_entropy(out, y.view(-1, 1).float())  # (N, 1) against labels (N,) → (N, 1)


def _evaluate(model: nn.Module, loader: DataLoader) -> tuple[float, dict[str, float]]:
    outs, ys = zip(*((model(x), y) for x, y in loader))
    out, y = torch.cat(outs), torch.cat(ys)
    return float(_bce(out, y)), {"accuracy": float(((out.view(-1) > 0.5).float() == y).float().mean())}


def train_run(depth: str, batchnorm: bool, optimizer: str, lr: float, seed: int = 0, epochs: int = EPOCHS) -> Run:
    """Train on the bundled water data with core.training.train: weights and batch order drawn from `seed` alone,
    so runs with and without BatchNorm start from the same Linear weights and see the same batches."""
    train_df, test_df = data.water_frames()
    model = models.init_parameters(network(depth, batchnorm), "default", generator(seed))
    train_loader = DataLoader(data.WaterDataset(train_df), batch_size=BATCH_SIZE, shuffle=True, generator=generator(seed))
    val_loader = DataLoader(data.WaterDataset(test_df), batch_size=256)
    opt = training.make_optimizer(optimizer, model.parameters(), lr)
    records = list(training.train(model, _bce, opt, train_loader, val_loader, epochs, evaluate=_evaluate))
    loss = [r.train_loss for r in records if r.kind == "step"]
    end = records[-1]
    table = pd.DataFrame([(r.epoch, r.step, r.train_loss, r.val_loss, r.metrics.get("accuracy")) for r in records if r.kind == "epoch"],
                         columns=["epoch", "step", "train_loss", "val_loss", "accuracy"])
    return Run(batchnorm, np.array(loss, dtype=np.float64), np.array(training.smooth(loss, SMOOTHING)), table,
               end.step if end.kind == "diverged" else None, end.message)


def constant_loss() -> float:
    """BCE of always predicting the training set's share of potable samples: what a net that learned nothing scores."""
    p = float(data.water_frames()[0].iloc[:, -1].mean())
    return -(p * math.log(p) + (1 - p) * math.log(1 - p))


def sweep_table(pairs: dict[float, tuple[Run, Run]]) -> pd.DataFrame:
    """Per learning rate: the last epoch's mean training loss without and with BatchNorm (nan where a run diverged)."""
    return pd.DataFrame([(lr, plain.final_loss if plain.diverged_at is None else math.nan,
                          normed.final_loss if normed.diverged_at is None else math.nan,
                          plain.diverged_at is not None, normed.diverged_at is not None)
                         for lr, (plain, normed) in sorted(pairs.items())],
                        columns=["lr", "without", "with", "without_diverged", "with_diverged"])


def centre_text(centre: float) -> str:
    """The mean of x̂ as the page writes it: a value that is 0 up to floating-point rounding (|x| < 1e-6) says so
    ("2.8e-17 ≈ 0"); others to 4 significant digits."""
    if math.isfinite(centre) and 0 < abs(centre) < 1e-6:
        return f"{centre:.1e} ≈ 0"
    return f"{centre + 0.0:.4g}" if math.isfinite(centre) else "nan"


def spread_text(low: float, high: float) -> str:
    """The range of x̂'s variance over the features, short enough for a metric: one number when they agree to 5e-7;
    for a narrow range (under 1e-3, e.g. train mode's "a hair under 1") the lowest with the decimals that show how far
    under ("≥ 0.999991", not a rounded "1 … 1"); else 'low … high' to 4 significant digits."""
    if high - low < 5e-7:
        return f"{low:.6f}"
    if high - low < 1e-3:
        return f"≥ {low:.{min(8, math.ceil(-math.log10(high - low)) + 1)}f}"
    return f"{low:.4g} … {high:.4g}"


def runs_table(runs: tuple[Run, ...], depth: str) -> pd.DataFrame:
    """One row per run: the last epoch's training loss, validation loss and accuracy (eval mode), and how it ended."""
    return pd.DataFrame({
        "network": [f"{DEPTH_LABELS[depth]}, {'with' if r.batchnorm else 'without'} BatchNorm" for r in runs],
        "last epoch's training loss": [r.final_loss for r in runs],
        "validation loss (eval mode)": [r.epochs.val_loss.iloc[-1] if len(r.epochs) else math.nan for r in runs],
        "validation accuracy": [r.epochs.accuracy.iloc[-1] if len(r.epochs) else math.nan for r in runs],
        "status": [f"diverged at step {r.diverged_at}" if r.diverged_at else "finished" for r in runs],
    })
