"""The Initialization page's training comparison (course §3.1–3.4): the same deep MLP on the water-quality data, once
per initialisation scheme, trained by the Training studio's engine, so the gradients measured on one batch
(`core.initialization.run_pass`) can be seen deciding whether a network learns at all."""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import pandas as pd
import torch
from torch import nn
from torch.utils.data import DataLoader

from core import data, training
from core.initialization import mlp
from core.rng import generator

TRAIN_DEPTH = 12  # hidden blocks of the MLP trained on the water data
TRAIN_WIDTH = 32
TRAIN_BATCH = 64
TRAIN_EPOCHS = 8  # 8 × 29 batches = 232 steps
TRAIN_LR = 0.01  # SGD with momentum 0.9: the gradient's size decides the step, as in the course's §2.4
MIN_COMPARE, MAX_COMPARE = 2, 3
SMOOTHING = 0.9  # EMA weight of the drawn training curves


def architecture(activation_label: str, batchnorm: bool) -> str:
    """The trained network and its training, in one line (what `train_run` builds and runs)."""
    block = f"Linear(·, {TRAIN_WIDTH}) → " + ("BatchNorm1d → " if batchnorm else "") + activation_label
    return (f"9 water-quality features → {TRAIN_DEPTH} × [{block}] → Linear({TRAIN_WIDTH}, 1), BCEWithLogitsLoss, "
            f"SGD with momentum 0.9 and lr {TRAIN_LR}, batches of {TRAIN_BATCH}, {TRAIN_EPOCHS} epochs")


@dataclass(frozen=True)
class TrainRun:
    """One scheme's run on the water-quality data."""

    scheme: str
    steps: pd.DataFrame  # step, train_loss, grad_norm, smoothed (TensorBoard's EMA, weight SMOOTHING)
    epochs: pd.DataFrame  # epoch, step, val_loss, accuracy
    status: str  # "done" or "diverged"
    message: str | None  # why a run ended early
    seconds: float


def training_table(runs: list[TrainRun], labels: dict[str, str]) -> pd.DataFrame:
    """One row per run: its last epoch's mean training loss, validation loss and accuracy, steps, and how it ended."""
    rows = []
    for run in runs:
        last = run.epochs.iloc[-1] if len(run.epochs) else None
        rows.append({"scheme": labels[run.scheme], "train loss": last.train_loss if last is not None else math.nan,
                     "validation loss": last.val_loss if last is not None else math.nan,
                     "validation accuracy (%)": 100 * last.accuracy if last is not None else math.nan,
                     "steps": int(run.steps.step.max()) if len(run.steps) else 0, "ended": run.status})
    return pd.DataFrame(rows)


@functools.cache
def base_rate_loss() -> float:
    """BCE of always predicting the training set's share p of potable samples: −p·log p − (1 − p)·log(1 − p)."""
    p = float(data.water_frames()[0].iloc[:, -1].mean())
    return -(p * math.log(p) + (1 - p) * math.log(1 - p))


class WaterBatches(data.WaterDataset):
    """The course's WaterDataset, read a batch at a time: a DataLoader hands `__getitems__` the indices of a whole
    batch, so a batch is two index operations instead of one `__getitem__` per sample and a collate. The batches are
    the very tensors `DataLoader(WaterDataset(...))` makes: the same rows, in the same order, with the same dtypes."""

    def __init__(self, frame: pd.DataFrame):
        super().__init__(frame)
        self._x = torch.from_numpy(self.data[:, :-1])  # (N, d) float32: what __getitem__'s rows stack to
        self._y = torch.from_numpy(self.data[:, -1])  # (N,) float32

    def __getitems__(self, indices: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        rows = torch.as_tensor(indices, dtype=torch.long)
        return self._x[rows], self._y[rows]


def _batch(batch: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    return batch  # WaterBatches.__getitems__ already returns the batch


def water_loader(frame: pd.DataFrame, batch_size: int, g: torch.Generator | None = None) -> DataLoader:
    """`DataLoader(WaterDataset(frame), batch_size, shuffle=g is not None, generator=g)`, reading whole batches."""
    return DataLoader(WaterBatches(frame), batch_size=batch_size, shuffle=g is not None, generator=g, collate_fn=_batch)


def train_run(scheme: str, activation: str, batchnorm: bool, seed: int = 0) -> TrainRun:
    """The deep MLP 9 → TRAIN_DEPTH × [Linear(·, 32) → (BatchNorm1d) → activation] → Linear(32, 1), every Linear drawn
    by `scheme`, trained by `core.training.train` with BCEWithLogitsLoss and SGD + momentum on the water data."""
    train_df, val_df = data.water_frames()
    model = mlp(TRAIN_DEPTH, TRAIN_WIDTH, activation, scheme, batchnorm, generator(seed), n_in=train_df.shape[1] - 1, n_out=1)
    train_loader = water_loader(train_df, TRAIN_BATCH, generator(seed + 1))
    val_loader = water_loader(val_df, len(val_df))
    bce = nn.BCEWithLogitsLoss()

    def loss_fn(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return bce(out, y.view(-1, 1))  # (N, 1) logits against labels reshaped from (N,)

    def evaluate(net: nn.Module, loader: DataLoader) -> tuple[float, dict[str, float]]:
        x, y = next(iter(loader))
        out = net(x)
        return float(loss_fn(out, y)), {"accuracy": float(((out.view(-1) > 0).float() == y).float().mean())}

    optimizer = training.make_optimizer("momentum", model.parameters(), TRAIN_LR)
    records = list(training.train(model, loss_fn, optimizer, train_loader, val_loader, TRAIN_EPOCHS, evaluate=evaluate))
    steps, epochs = training.history(records)
    steps = steps[["step", "train_loss", "grad_norm"]].assign(smoothed=training.smooth(steps.train_loss.tolist(), SMOOTHING))
    last = records[-1]
    return TrainRun(scheme, steps, epochs, last.kind, last.message, last.wall)
