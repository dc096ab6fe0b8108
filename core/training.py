"""The training engine every page reuses: the course's loop (§2.6), yielding a record per step and per epoch.

    for record in train(model, loss_fn, optimizer, train_loader, val_loader, epochs=5, evaluate=evaluate):
        ...

It stops at the first non-finite loss and says at which step; `should_stop` is polled once a step so a
caller (a Stop button) can end a run within one step. No Streamlit here: the live page reads the records.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.utils.data import DataLoader

OPTIMIZERS = ("sgd", "momentum", "adam", "adamw", "rmsprop", "adagrad")


@dataclass(frozen=True)
class Record:
    """One event of a run. kind: "step", "epoch", "stopped" (by the caller), "diverged" or "done"."""

    kind: str
    step: int  # optimizer steps taken so far
    epoch: int  # 1-based epoch the event belongs to
    wall: float  # seconds since the run started
    train_loss: float | None = None  # this step's loss ("step"), the epoch's mean ("epoch")
    grad_norm: float | None = None  # total 2-norm of the gradients, before clipping
    lr: float | None = None  # learning rate used for this step
    val_loss: float | None = None  # loss on the validation set ("epoch")
    metrics: dict[str, float] = field(default_factory=dict)  # validation metrics ("epoch")
    message: str | None = None  # why a run ended early


def make_optimizer(name: str, params, lr: float, momentum: float = 0.9, weight_decay: float | None = None,
                   betas: tuple[float, float] = (0.9, 0.999)) -> torch.optim.Optimizer:
    """The `torch.optim` class behind an optimizer name of the app.

    momentum: SGD with momentum only; betas: Adam and AdamW only; weight_decay None is PyTorch's default
    for the class (0.01 for AdamW, 0 for the others)."""
    decay = {} if weight_decay is None else {"weight_decay": weight_decay}
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, **decay)
    if name == "momentum":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, **decay)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, betas=betas, **decay)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, betas=betas, **decay)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, **decay)
    if name == "adagrad":
        return torch.optim.Adagrad(params, lr=lr, **decay)
    raise ValueError(f"unknown optimizer {name!r}; choose from {', '.join(OPTIMIZERS)}")


def grad_norm(model: nn.Module) -> float:
    """Total 2-norm of all gradients, as `clip_grad_norm_` measures it."""
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    return float(torch.nn.utils.get_total_norm(grads)) if grads else 0.0


def train(
    model: nn.Module,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    optimizer: torch.optim.Optimizer,
    train_loader: DataLoader,
    val_loader: DataLoader | None,
    epochs: int,
    evaluate: Callable[[nn.Module, DataLoader], tuple[float, dict[str, float]]] | None = None,
    clip: float | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    device: str | torch.device = "cpu",
    batch_transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> Iterator[Record]:
    """Train for `epochs`, yielding a "step" record per optimizer step and an "epoch" record per epoch.

    Args:
        loss_fn: loss of (model output, batch targets); the caller shapes targets to match.
        evaluate: (model, val_loader) → (val loss, metrics), called in eval mode after each epoch.
        clip: max gradient norm for `clip_grad_norm_`; None or 0 for no clipping.
        should_stop: polled before every step; True ends the run with a "stopped" record.
        batch_transform: applied to each training input batch (data augmentation).
    The last record is always "done", "stopped" or "diverged".
    """
    if len(train_loader) == 0:
        raise ValueError("the training set gives no batch: it is empty, or smaller than the batch size with drop_last")
    model.to(device)
    start = time.perf_counter()
    step = 0
    for epoch in range(1, epochs + 1):
        model.train()
        total, count = 0.0, 0
        for x, y in train_loader:
            if should_stop():
                yield Record("stopped", step, epoch, time.perf_counter() - start, message=f"Stopped at step {step}.")
                return
            x, y = x.to(device), y.to(device)
            if batch_transform is not None:
                x = batch_transform(x)
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            value = loss.item()
            if not math.isfinite(value):
                yield Record(
                    "diverged", step + 1, epoch, time.perf_counter() - start, train_loss=value,
                    message=f"The loss became {value} at step {step + 1} (epoch {epoch}): the run diverged. "
                    "A smaller learning rate, gradient clipping or BatchNorm usually helps.",
                )
                return
            loss.backward()
            norm = float(torch.nn.utils.clip_grad_norm_(model.parameters(), clip)) if clip else grad_norm(model)
            lr = optimizer.param_groups[0]["lr"]
            optimizer.step()
            step += 1
            total, count = total + value * len(x), count + len(x)
            yield Record("step", step, epoch, time.perf_counter() - start, train_loss=value, grad_norm=norm, lr=lr)
        val_loss, metrics = (None, {})
        if evaluate is not None and val_loader is not None:
            model.eval()
            with torch.inference_mode():
                val_loss, metrics = evaluate(model, val_loader)
        yield Record("epoch", step, epoch, time.perf_counter() - start, train_loss=total / max(count, 1),
                     val_loss=val_loss, metrics=metrics)
    yield Record("done", step, epochs, time.perf_counter() - start)


def smooth(values: list[float], weight: float) -> list[float]:
    """TensorBoard's debiased exponential moving average: s_t = w·s_{t−1} + (1−w)·v_t, divided by 1 − w^t."""
    if not 0 <= weight < 1:
        raise ValueError("the smoothing weight must be in [0, 1)")
    out, last = [], 0.0
    for t, v in enumerate(values, start=1):
        last = weight * last + (1 - weight) * v
        out.append(last / (1 - weight**t))
    return out


def history(records: list[Record]) -> tuple["pd.DataFrame", "pd.DataFrame"]:
    """The records of a run as two tables: per step (step, epoch, wall, train_loss, grad_norm, lr) and per
    epoch (step, epoch, wall, train_loss, val_loss and one column per metric)."""
    import pandas as pd

    steps = pd.DataFrame(
        [(r.step, r.epoch, r.wall, r.train_loss, r.grad_norm, r.lr) for r in records if r.kind == "step"],
        columns=["step", "epoch", "wall", "train_loss", "grad_norm", "lr"],
    )
    epochs = pd.DataFrame(
        [{"step": r.step, "epoch": r.epoch, "wall": r.wall, "train_loss": r.train_loss, "val_loss": r.val_loss, **r.metrics}
         for r in records if r.kind == "epoch"],
        columns=None,
    )
    if epochs.empty:
        epochs = pd.DataFrame(columns=["step", "epoch", "wall", "train_loss", "val_loss"])
    return steps, epochs


def progress(name: str, records: list[Record], total_steps: int, running: bool, status: str) -> tuple[float, str]:
    """A run's progress bar: the fraction of its steps taken, and "name: step k of n, about t s left" while it
    runs (t from the mean time per step so far) or "name: step k of n (status)" once it has ended."""
    steps = sum(r.kind == "step" for r in records)
    wall = records[-1].wall if records else 0.0
    text = f"{name}: step {steps} of {total_steps}"
    if running:
        text += f", about {wall / steps * (total_steps - steps):.0f} s left" if steps else ""
    else:
        text += f" ({status})"
    return min(1.0, steps / max(1, total_steps)), text


def last_epoch(epochs: "pd.DataFrame") -> dict[str, float]:
    """The last epoch's losses and metrics (no step, epoch or wall), {} before the first epoch ends."""
    return epochs.drop(columns=["step", "epoch", "wall"]).iloc[-1].to_dict() if len(epochs) else {}
