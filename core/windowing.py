"""Sequences and windowing (course §7.1–7.3, §11.2): the course's `create_sequences` with a horizon and a
stride, the temporal split against a random one with a small forecaster trained both ways, and the
(N, T) → (N, T, 1) reshape an RNN needs.

Window i (0-based) of a series x_0 … x_{N−1}, for window length L, horizon h and stride s:
inputs x_{is}, …, x_{is+L−1} and target x_{is+L+h−1}. The last window needs is + L + h − 1 ≤ N − 1, so
i ≤ (N − L − h)/s and there are M = ⌊(N − L − h)/s⌋ + 1 windows (none when N < L + h). With h = s = 1
that is the course's N − L, and `create_sequences` below is `core.data.create_sequences`.

Both splits act on the same M windows of the whole series. Temporal (§7.3): the first 80% of the
readings are training time; a window is a training window when its target is in training time, a test
window when its first input is after it, and a window that straddles the cut is left out. Random: 80% of
the windows, drawn by `torch.randperm`, train; the rest test.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torchmetrics
from torch import nn
from torch.utils.data import BatchSampler, DataLoader, RandomSampler, SequentialSampler, TensorDataset

from core import training
from core.checks import Check
from core.data import create_sequences as course_create_sequences
from core.models import init_parameters
from core.rng import generator
from core.rnn_errors import attempt

TRAIN_FRACTION = 0.8
MAX_LENGTH = 8064  # readings used: the bundled series' 12 weeks; a longer upload is cut here
SPLITS = ("temporal", "random")
HIDDEN, EPOCHS, BATCH_SIZE, LR = 64, 6, 128, 3e-3  # the forecaster: Linear(L, 64) → ReLU → Linear(64, 1), Adam
PITFALL_BATCH, PITFALL_HIDDEN = 32, 16


def window_count(n: int, window: int, horizon: int = 1, stride: int = 1) -> int:
    """M = ⌊(N − L − h)/s⌋ + 1 windows, 0 when the series is shorter than L + h."""
    return (n - window - horizon) // stride + 1 if n >= window + horizon else 0


@dataclass(frozen=True)
class Windows:
    """The windows of one series: X (M, L) inputs and y (M,) targets."""

    X: np.ndarray  # (M, L), a read-only view into the series
    y: np.ndarray  # (M,)
    window: int  # L
    horizon: int  # h
    stride: int  # s
    n: int  # N, readings in the series

    @property
    def count(self) -> int:
        return len(self.y)

    @property
    def starts(self) -> np.ndarray:
        return np.arange(self.count) * self.stride  # first input of each window

    @property
    def targets(self) -> np.ndarray:
        return self.starts + self.window + self.horizon - 1  # reading index of each target


def windows(values: np.ndarray, window: int, horizon: int = 1, stride: int = 1) -> Windows:
    """Every window of `values`: inputs values[is : is+L], target values[is+L+h−1]."""
    if min(window, horizon, stride) < 1:
        raise ValueError("window length, horizon and stride must be at least 1")
    values = np.array(values, dtype=np.float32)  # its own copy: X below is a view into it
    m = window_count(len(values), window, horizon, stride)
    if m < 1:
        raise ValueError(f"a window of {window} and a horizon of {horizon} need at least {window + horizon} readings; "
                         f"the series has {len(values)}")
    X = np.lib.stride_tricks.sliding_window_view(values, window)[::stride][:m]  # (M, L), a read-only view: no copy
    return Windows(X, values[np.arange(m) * stride + window + horizon - 1], window, horizon, stride, len(values))


def create_sequences(df: pd.DataFrame, seq_length: int, horizon: int = 1, stride: int = 1,
                     column: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The course's `create_sequences` (§7.2) with a horizon and a stride; h = s = 1 is the course's own."""
    w = windows(df.iloc[:, column].to_numpy(dtype=np.float32), seq_length, horizon, stride)
    return w.X, w.y


def torch_windows(values: np.ndarray, window: int, horizon: int, stride: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The same windows by `Tensor.unfold`: spans of L + h readings every s steps; inputs are the first L,
    the target the last. An independent route for the checks."""
    spans = torch.as_tensor(np.asarray(values, dtype=np.float32)).unfold(0, window + horizon, stride)  # (M, L + h)
    return spans[:, :window], spans[:, -1]


@dataclass(frozen=True)
class Split:
    """Which windows train and which test."""

    name: str  # "temporal" or "random"
    train: np.ndarray  # window indices, ascending
    test: np.ndarray
    cut: int  # first reading of test time: round(0.8 N), as core.data.temporal_split

    def role(self, count: int) -> np.ndarray:
        """Per window: 0 train, 1 test, −1 left out (straddles the temporal cut)."""
        out = np.full(count, -1)
        out[self.train], out[self.test] = 0, 1
        return out

    def in_span(self, w: "Windows", lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
        """The targets (reading indices) from lo to hi inclusive, and their windows' roles (as `role`)."""
        inside = np.flatnonzero((w.targets >= lo) & (w.targets <= hi))
        return w.targets[inside], self.role(w.count)[inside]


def split(w: Windows, name: str, seed: int = 0, fraction: float = TRAIN_FRACTION) -> Split:
    """The temporal or the random split of the windows (see the module note)."""
    cut = int(round(w.n * fraction))
    if name == "temporal":
        idx = np.arange(w.count)
        return Split(name, idx[w.targets < cut], idx[w.starts >= cut], cut)
    if name == "random":
        order = torch.randperm(w.count, generator=generator(seed)).numpy()
        k = int(round(w.count * fraction))
        return Split(name, np.sort(order[:k]), np.sort(order[k:]), cut)
    raise ValueError(f"unknown split {name!r}; choose from {', '.join(SPLITS)}")


def overlapping(w: Windows, sp: Split) -> int:
    """Test windows that share at least one reading (input or target) with some training window.

    Marks every reading a training window covers (a difference array), then asks each test window's
    span [start, target] whether it holds a marked reading (prefix sums)."""
    cover = np.bincount(w.starts[sp.train], minlength=w.n + 1) - np.bincount(w.targets[sp.train] + 1, minlength=w.n + 1)
    marked = np.concatenate([[0], np.cumsum(np.cumsum(cover)[: w.n] > 0)])
    return int((marked[w.targets[sp.test] + 1] - marked[w.starts[sp.test]] > 0).sum())


def overlapping_torch(w: Windows, sp: Split) -> int:
    """The same count another way: a training window overlaps test window [a, b] when its start lies in
    [a − (L + h − 1), b]; `torch.searchsorted` counts the training starts in that range."""
    starts = torch.as_tensor(w.starts[sp.train])
    a, b = torch.as_tensor(w.starts[sp.test]), torch.as_tensor(w.targets[sp.test])
    span = w.window + w.horizon - 1
    inside = torch.searchsorted(starts, b, right=True) - torch.searchsorted(starts, a - span)
    return int((inside > 0).sum())


@dataclass(frozen=True)
class Overlap:
    """How much one split's test windows share with its training windows."""

    split: Split
    overlapping: int  # test windows sharing a reading with a training window (coverage count)
    overlapping_torch: int  # the same, counted by torch.searchsorted
    seen: int  # test targets that are inputs of a training window


def overlaps(w: Windows, seed: int = 0) -> dict[str, Overlap]:
    """Both splits of the windows, with their overlap counts (no training needed)."""
    out = {}
    for name in SPLITS:
        sp = split(w, name, seed)
        out[name] = Overlap(sp, overlapping(w, sp), overlapping_torch(w, sp), seen_targets(w, sp))
    return out


def comparison(leaks: dict[str, Overlap], fits: dict[str, "Fit"] | None = None) -> pd.DataFrame:
    """One row per split: window counts and overlaps (no training needed), then the trained forecaster's
    errors, as columns that appear only once `fits` holds a Fit for every split."""
    rows = []
    for name, o in leaks.items():
        row = {"split": name, "train windows": len(o.split.train), "test windows": len(o.split.test),
               "test overlapping train": o.overlapping, "test targets seen in train": o.seen}
        if fits:
            row |= {"test MSE (kW²)": fits[name].test_mse, "test MAE (kW)": fits[name].test_mae,
                    "train MSE (kW²)": fits[name].train_mse}
        rows.append(row)
    return pd.DataFrame(rows)


def seen_targets(w: Windows, sp: Split) -> int:
    """Test targets that are also an input of some training window: the model saw those very readings."""
    inputs = np.bincount(w.starts[sp.train], minlength=w.n + 1) - np.bincount(w.starts[sp.train] + w.window, minlength=w.n + 1)
    return int((np.cumsum(inputs)[: w.n][w.targets[sp.test]] > 0).sum())


def zoom(n: int, start: int, window: int, horizon: int, max_points: int = 1000) -> tuple[int, int]:
    """First and last reading of the span drawn around the window that starts at `start`: its inputs and
    target with some context either side, never more than `max_points` readings."""
    length = window + horizon
    pad = max(24, min(length // 2, (max_points - length) // 2))
    return max(0, start - pad), min(n - 1, start + length - 1 + pad)


def envelope(values: np.ndarray, buckets: int = 600) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The series squeezed to `buckets` columns: first reading index, min and max of each, so a chart of
    the whole series draws no more points than it has pixels."""
    values = np.asarray(values, dtype=np.float64)
    edges = np.unique(np.linspace(0, len(values), min(buckets, len(values)) + 1).astype(int))
    return edges[:-1], np.minimum.reduceat(values, edges[:-1]), np.maximum.reduceat(values, edges[:-1])


def test_share(w: Windows, sp: Split, buckets: int = 300) -> tuple[np.ndarray, np.ndarray]:
    """Per time bucket (by target reading): the share of its windows that are test windows, NaN where no
    window of either set has its target (the windows left out at the temporal cut)."""
    edges = np.linspace(0, w.n, buckets + 1)
    role = sp.role(w.count)
    used = role >= 0
    where = np.clip(np.searchsorted(edges, w.targets[used], side="right") - 1, 0, buckets - 1)
    total = np.bincount(where, minlength=buckets)
    test = np.bincount(where, weights=role[used], minlength=buckets)
    with np.errstate(invalid="ignore", divide="ignore"):
        return edges[:-1].astype(int), np.where(total > 0, test / np.maximum(total, 1), np.nan)


class WindowMLP(nn.Sequential):
    """The small forecaster: a window of L standardised readings in, the target out. (N, L) → (N, 1)."""

    def __init__(self, window: int, hidden: int = HIDDEN):
        super().__init__(nn.Linear(window, hidden), nn.ReLU(), nn.Linear(hidden, 1))


@dataclass(frozen=True)
class Fit:
    """The forecaster trained on one split's training windows and scored on its test windows (kW)."""

    split: Split
    predictions: np.ndarray  # (M,) the trained model on every window, kW
    actual: np.ndarray  # (M,) every window's target, kW
    test_mse: float  # torchmetrics MeanSquaredError on the test windows, kW²
    test_mae: float  # torchmetrics MeanAbsoluteError, kW
    train_mse: float  # on the training windows, kW²
    curve: tuple[float, ...]  # test MSE (kW²) after each epoch
    seconds: float  # training time
    message: str | None = None  # why training ended early, if it did


def scale(values: np.ndarray, fraction: float = TRAIN_FRACTION) -> tuple[float, float]:
    """Mean and standard deviation (ddof = 1) of the training time's readings, as core.data.sequence_datasets."""
    part = np.asarray(values, dtype=np.float64)[: int(round(len(values) * fraction))]
    return float(part.mean()), float(part.std(ddof=1)) or 1.0


def build_model(window: int, seed: int) -> WindowMLP:
    """The forecaster with PyTorch's default initialisation drawn from a generator (built on the meta
    device first, so its construction draws nothing from the global RNG)."""
    with torch.device("meta"):
        model = WindowMLP(window)
    return init_parameters(model.to_empty(device="cpu"), "default", generator(seed))


def batched_loader(X: torch.Tensor, y: torch.Tensor, batch_size: int, seed: int | None = None) -> DataLoader:
    """`DataLoader(TensorDataset(X, y), batch_size, shuffle=seed is not None, generator=seeded)`, with the same
    batches in the same order, fetched a batch at a time (one indexing per batch instead of one per sample).

    The generator goes to the DataLoader (its per-epoch base seed) and to the RandomSampler (its permutations),
    so both draw from it in the order the plain DataLoader does."""
    ds = TensorDataset(X, y)
    if seed is None:
        return DataLoader(ds, sampler=BatchSampler(SequentialSampler(ds), batch_size, drop_last=False), batch_size=None)
    g = generator(seed)
    sampler = BatchSampler(RandomSampler(ds, generator=g), batch_size, drop_last=False)
    return DataLoader(ds, sampler=sampler, batch_size=None, generator=g)


def fit(values: np.ndarray, window: int, horizon: int, stride: int, split_name: str, seed: int = 0) -> Fit:
    """Train the forecaster with core.training.train on one split; score it on that split's test windows."""
    mean, std = scale(values)
    w = windows((np.asarray(values, dtype=np.float64) - mean) / std, window, horizon, stride)
    sp = split(w, split_name, seed)
    if len(sp.train) == 0 or len(sp.test) == 0:
        raise ValueError(f"the {split_name} split leaves {len(sp.train)} training and {len(sp.test)} test windows")
    X, y = torch.tensor(w.X), torch.from_numpy(w.y)  # X copied: the windows are a read-only view
    model = build_model(window, seed)
    train_loader = batched_loader(X[sp.train], y[sp.train], BATCH_SIZE, seed)
    X_test, y_test = X[sp.test], y[sp.test]
    test_loader = batched_loader(X_test, y_test, len(sp.test))
    mse = nn.MSELoss()

    def loss_fn(out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return mse(out.squeeze(-1), target)  # (B, 1) → (B,) against (B,): the course's squeeze (§11.2)

    def evaluate(net: nn.Module, loader: DataLoader) -> tuple[float, dict[str, float]]:
        loss = float(mse(net(X_test).squeeze(-1), y_test))  # the whole test set in one batch
        return loss, {"mse_kw2": loss * std**2}

    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    curve, message, seconds = [], None, 0.0
    for record in training.train(model, loss_fn, optimizer, train_loader, test_loader, EPOCHS, evaluate=evaluate):
        seconds = record.wall
        if record.kind == "epoch":
            curve.append(record.metrics["mse_kw2"])
        elif record.kind == "diverged":
            message = record.message
    model.eval()
    with torch.inference_mode():
        predictions = model(X).squeeze(-1).double().numpy() * std + mean  # (M,) in kW
    actual = w.y.astype(np.float64) * std + mean
    p, t = torch.from_numpy(predictions[sp.test]), torch.from_numpy(actual[sp.test])
    test_mse = float(torchmetrics.functional.mean_squared_error(p, t))
    test_mae = float(torchmetrics.functional.mean_absolute_error(p, t))
    train_mse = float(np.mean((predictions[sp.train] - actual[sp.train]) ** 2))
    return Fit(sp, predictions, actual, test_mse, test_mae, train_mse, tuple(curve), seconds, message)


@dataclass(frozen=True)
class ShapePitfall:
    """A batch of windows given to nn.LSTM as (N, T), then as (N, T, 1)."""

    batch_shape: tuple[int, ...]  # (N, T)
    error: str | None  # PyTorch's exception for the (N, T) batch, None when it ran
    wrong_output: tuple[int, ...] | None  # what the (N, T) batch produced when it ran (T = 1)
    fixed_shape: tuple[int, ...]  # (N, T, 1)
    output_shape: tuple[int, ...]  # (N, T, H)
    h_n_shape: tuple[int, ...]  # (1, N, H)
    loss_warning: str | None  # nn.MSELoss on a (N, 1) output against (N,) targets
    loss_broadcast: float  # that loss: every output against every target, (N, N) pairs
    loss_squeezed: float  # after .squeeze(-1): each output against its own target
    loss_pairs: float  # the broadcast loss written out: mean over all i, j of (ŷ_i − y_j)²


def shape_pitfall(X: np.ndarray, y: np.ndarray, seed: int = 0) -> ShapePitfall:
    """Run a real nn.LSTM(input_size=1) on the first N windows as (N, T), catching PyTorch's error, then on
    x.unsqueeze(-1); and nn.MSELoss on forecasts laid out (N, 1), as a Linear head returns them, against
    (N,) targets, catching its warning, beside the same loss after .squeeze(-1). The forecasts: each
    window's last reading (persistence), so no training is needed.

    Args:
        X, y: windows (M, T) and targets (M,).
    """
    x = torch.from_numpy(np.array(X[:PITFALL_BATCH]))  # (N, T), copied out of the read-only view
    target = torch.from_numpy(np.asarray(y[:PITFALL_BATCH], dtype=np.float64))  # (N,)
    pred = x[:, -1:].double()  # (N, 1): the last reading of each window
    with torch.device("meta"):
        lstm = nn.LSTM(1, PITFALL_HIDDEN, batch_first=True)
    lstm = init_parameters(lstm.to_empty(device="cpu"), "default", generator(seed))
    with torch.inference_mode():
        wrong, error, _ = attempt(lambda: tuple(lstm(x)[0].shape))  # a 2-D input is one unbatched sequence to PyTorch
        out, (h_n, _) = lstm(x.unsqueeze(-1))  # (N, T, 1) → (N, T, H)
        broadcast, _, caught = attempt(lambda: float(nn.MSELoss()(pred, target)))  # (N, 1) against (N,)
        squeezed = float(nn.MSELoss()(pred.squeeze(-1), target))
    p, t = pred.numpy()[:, 0], target.numpy()
    pairs = float(np.mean((p[:, None] - t[None, :]) ** 2))
    return ShapePitfall(tuple(x.shape), error, wrong, tuple(x.unsqueeze(-1).shape), tuple(out.shape), tuple(h_n.shape),
                        caught[0] if caught else None, broadcast, squeezed, pairs)


def _max_difference(a, b) -> float:
    """max |a − b| over two arrays of one shape; 0 without the subtraction when they are equal."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return math.inf
    return 0.0 if np.array_equal(a, b) else float(np.abs(a - b).max())


def checks(values: np.ndarray, w: Windows, leaks: dict[str, Overlap], pit: ShapePitfall,
           fits: dict[str, Fit] | None = None) -> list[Check]:
    """The count formula and the windows against Tensor.unfold, the course's create_sequences at h = s = 1,
    the temporal split's counts, both overlap counts, the shapes of the reshape and MSELoss's broadcast;
    with `fits`, torchmetrics against the written-out MSE and MAE of each split's forecaster."""
    L, h, s, n = w.window, w.horizon, w.stride, w.n
    Xt, yt = torch_windows(values, L, h, s)
    frame = pd.DataFrame({"t": np.arange(n), "x": values})
    X1, y1 = course_create_sequences(frame, L)
    X2, y2 = create_sequences(frame, L)
    temporal = leaks["temporal"].split
    out = [
        Check("M = ⌊(N − L − h)/s⌋ + 1 against Tensor.unfold's window count", window_count(n, L, h, s), len(yt), 0),
        Check("X against Tensor.unfold: max |difference|", 0, 0, 0, error=_max_difference(w.X, Xt.numpy())),
        Check("y against Tensor.unfold: max |difference|", 0, 0, 0, error=_max_difference(w.y, yt.numpy())),
        Check("h = s = 1: N − L against the course's create_sequences", n - L, len(y1), 0),
        Check("h = s = 1: windows against the course's create_sequences: max |difference|", 0, 0, 0,
              error=max(_max_difference(X2, X1), _max_difference(y2, y1))),
        Check("temporal: training windows ⌊(T_split − L − h)/s⌋ + 1", window_count(temporal.cut, L, h, s), len(temporal.train), 0),
        Check("temporal: test windows M − ⌈T_split/s⌉", max(0, w.count - math.ceil(temporal.cut / s)), len(temporal.test), 0),
    ]
    for name, leak in leaks.items():
        out.append(Check(f"{name}: overlapping test windows, coverage count against torch.searchsorted",
                         leak.overlapping, leak.overlapping_torch, 0))
    out.append(Check("temporal: overlapping test windows (none by construction)", 0, leaks["temporal"].overlapping, 0))
    for name, f in (fits or {}).items():
        err = f.predictions[f.split.test] - f.actual[f.split.test]
        out.append(Check(f"{name}: test MSE, mean (ŷ − y)² against torchmetrics", float(np.mean(err**2)), f.test_mse, 1e-9 * max(1.0, f.test_mse)))
        out.append(Check(f"{name}: test MAE, mean |ŷ − y| against torchmetrics", float(np.mean(np.abs(err))), f.test_mae, 1e-9 * max(1.0, f.test_mae)))
    out += [
        Check("x.unsqueeze(-1): last dimension 1, (N, T) → (N, T, 1)", 1, pit.fixed_shape[-1], 0),
        Check(f"nn.LSTM output (N, T, H): T = {L}", L, pit.output_shape[1], 0),
        Check("MSELoss on (N, 1) against (N,): mean over all pairs (ŷ_i − y_j)²", pit.loss_pairs, pit.loss_broadcast,
              1e-9 * max(1.0, pit.loss_pairs)),
    ]
    return out
