"""The Training studio's three tasks, each the course's model on bundled (or uploaded) data.

`prepare(settings)` builds everything one run needs (data loaders, model, loss, optimizer, metrics)
from plain settings, deterministically for `settings.seed`; `core.training.train` runs it.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd
import torch
import torch.nn.functional as F
import torchmetrics
from torch import nn
from torch.utils.data import DataLoader, Dataset, TensorDataset

from core import data, models, training, uploads
from core.rng import generator

TASKS = ("tabular", "image", "sequence")
TASK_LABELS = {
    "tabular": "Water potability (tabular, binary)",
    "image": "Sky pictures (images, 7 classes)",
    "sequence": "Electricity (sequence forecast)",
}


@dataclass(frozen=True)
class Settings:
    """Everything that decides a run. Plain values only, so a run can be cached, linked and replayed."""

    task: str = "tabular"
    optimizer: str = "adam"
    lr: float = 0.001
    batch_size: int = 32
    epochs: int = 10
    seed: int = 0
    hidden: int = 16  # tabular: first hidden layer (the second has half); image: conv channels; sequence: hidden size
    batchnorm: bool = False
    init: str = "default"
    clip: float = 0.0  # max gradient norm; 0 = no clipping
    cell: str = "lstm"  # sequence task: rnn, lstm or gru
    augment: bool = False  # image task: random flips and rotations
    logits_loss: bool = False  # tabular task: BCEWithLogitsLoss on logits instead of BCELoss on a sigmoid
    seq_length: int = 96  # sequence task: window length L (96 = one day of 15-minute readings)
    momentum: float = 0.9  # SGD with momentum only
    beta1: float = 0.9  # Adam and AdamW only
    beta2: float = 0.999
    weight_decay: float | None = None  # None: PyTorch's default for the optimizer (0.01 for AdamW, else 0)


#: The course's model for each task: Net 9→16→8→1, the CNN with 32 and 64 channels, LSTMNet(hidden_size=32).
DEFAULT_HIDDEN = {"tabular": 16, "image": 32, "sequence": 32}


@dataclass
class Prepared:
    """A run, ready to train: `core.training.train(**prepared.train_args())`."""

    kind: str  # "binary", "multiclass" or "regression"
    model: nn.Module
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    optimizer: torch.optim.Optimizer
    train_loader: DataLoader
    val_loader: DataLoader
    evaluate: Callable[[nn.Module, DataLoader], tuple[float, dict[str, float]]]
    class_names: list[str] = field(default_factory=list)
    batch_transform: Callable[[torch.Tensor], torch.Tensor] | None = None
    scale: tuple[float, float] = (0.0, 1.0)  # regression: (mean, std) of the target

    def train_args(self) -> dict:
        return dict(model=self.model, loss_fn=self.loss_fn, optimizer=self.optimizer, train_loader=self.train_loader,
                    val_loader=self.val_loader, evaluate=self.evaluate, batch_transform=self.batch_transform,
                    device=next(self.model.parameters()).device)


def _loaders(train: Dataset, val: Dataset, batch_size: int, seed: int) -> tuple[DataLoader, DataLoader]:
    g = generator(seed)
    return (DataLoader(train, batch_size=batch_size, shuffle=True, generator=g),
            DataLoader(val, batch_size=256, shuffle=False))


def device() -> torch.device:
    """CUDA when there is a GPU, the CPU otherwise."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _collect(model: nn.Module, loader: DataLoader, output: Callable[[torch.Tensor], torch.Tensor]):
    """Model outputs for a whole loader, gathered on the CPU, with the targets."""
    dev = next(model.parameters()).device
    outs, ys = [], []
    for x, y in loader:
        outs.append(output(model(x.to(dev))).cpu())
        ys.append(y)
    return torch.cat(outs), torch.cat(ys)


def _binary(model_logits: bool) -> tuple[Callable, Callable]:
    loss = nn.BCEWithLogitsLoss() if model_logits else nn.BCELoss()
    metrics = torchmetrics.MetricCollection({
        "accuracy": torchmetrics.classification.BinaryAccuracy(),
        "precision": torchmetrics.classification.BinaryPrecision(),
        "recall": torchmetrics.classification.BinaryRecall(),
        "f1": torchmetrics.classification.BinaryF1Score(),
    })

    def loss_fn(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return loss(out, y.view(-1, 1).float())  # (N, 1) against labels reshaped from (N,) to (N, 1)

    def evaluate(model: nn.Module, loader: DataLoader) -> tuple[float, dict[str, float]]:
        out, y = _collect(model, loader, lambda o: o)
        probs = torch.sigmoid(out) if model_logits else out
        m = {k: float(v) for k, v in metrics.clone()(probs.view(-1), y.long()).items()}
        return float(loss_fn(out, y)), m

    return loss_fn, evaluate


def _multiclass(num_classes: int) -> tuple[Callable, Callable]:
    loss = nn.CrossEntropyLoss()
    C = torchmetrics.classification
    collection = {"accuracy": C.MulticlassAccuracy(num_classes, average="micro")}
    for avg in ("macro", "micro", "weighted"):
        collection[f"precision_{avg}"] = C.MulticlassPrecision(num_classes, average=avg)
        collection[f"recall_{avg}"] = C.MulticlassRecall(num_classes, average=avg)
        collection[f"f1_{avg}"] = C.MulticlassF1Score(num_classes, average=avg)
    metrics = torchmetrics.MetricCollection(collection)

    def evaluate(model: nn.Module, loader: DataLoader) -> tuple[float, dict[str, float]]:
        out, y = _collect(model, loader, lambda o: o)
        return float(loss(out, y)), {k: float(v) for k, v in metrics.clone()(out, y).items()}

    return loss, evaluate


def _regression(scale: tuple[float, float]) -> tuple[Callable, Callable]:
    mse = nn.MSELoss()
    R = torchmetrics.regression
    metrics = torchmetrics.MetricCollection({
        "mse": R.MeanSquaredError(), "rmse": R.MeanSquaredError(squared=False), "mae": R.MeanAbsoluteError(),
        "mape": R.MeanAbsolutePercentageError(), "r2": R.R2Score(),
    })

    def loss_fn(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return mse(out.squeeze(-1), y)  # (N, 1) → (N,) against targets (N,)

    def evaluate(model: nn.Module, loader: DataLoader) -> tuple[float, dict[str, float]]:
        out, y = _collect(model, loader, lambda o: o.squeeze(-1))
        mean, std = scale  # metrics in the series' own unit (kW), the loss on standardised values
        return float(mse(out, y)), {k: float(v) for k, v in metrics.clone()(out * std + mean, y * std + mean).items()}

    return loss_fn, evaluate


def flip_rotate(g: torch.Generator, max_degrees: float = 20.0) -> Callable[[torch.Tensor], torch.Tensor]:
    """Batch augmentation drawn from `g`: a horizontal flip with p = 0.5 and a rotation in ±max_degrees,
    like RandomHorizontalFlip and RandomRotation (which draw from the shared global RNG instead)."""

    def transform(x: torch.Tensor) -> torch.Tensor:  # (N, C, H, W)
        n = x.shape[0]
        flip = (torch.rand(n, generator=g) < 0.5).to(x.device)
        x = torch.where(flip[:, None, None, None], x.flip(-1), x)
        angle = ((torch.rand(n, generator=g) * 2 - 1) * math.radians(max_degrees)).to(x.device)
        cos, sin = torch.cos(angle), torch.sin(angle)
        zero = torch.zeros_like(cos)
        theta = torch.stack([torch.stack([cos, -sin, zero], 1), torch.stack([sin, cos, zero], 1)], 1)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        return F.grid_sample(x, grid, padding_mode="reflection", align_corners=False)

    return transform


def prepare(settings: Settings, table: pd.DataFrame | None = None, series: pd.DataFrame | None = None,
            images: uploads.ImageSet | None = None) -> Prepared:
    """Build a run. `table` replaces the water data (last column the 0/1 target; features are min-max
    scaled with the training part's range); `series` replaces the electricity series (2 columns);
    `images` replaces the sky pictures (a checked upload, see `core.uploads.image_folder_zip`)."""
    s = settings
    if s.task not in TASKS:
        raise ValueError(f"unknown task {s.task!r}; choose from {', '.join(TASKS)}")
    g = generator(s.seed)
    if s.task == "tabular":
        train_df, val_df = data.water_frames() if table is None else _split_table(table, s.seed)
        model = models.WaterNet(train_df.shape[1] - 1, s.hidden, max(1, s.hidden // 2), s.batchnorm, s.logits_loss)
        loss_fn, evaluate = _binary(s.logits_loss)
        train_loader, val_loader = _loaders(data.WaterDataset(train_df), data.WaterDataset(val_df), s.batch_size, s.seed)
        kind, names, transform, scale = "binary", ["not potable", "potable"], None, (0.0, 1.0)
    elif s.task == "image":
        from torchvision import transforms

        train_ds, val_ds = data.cloud_datasets(transforms.ToTensor(), transforms.ToTensor(), images.root if images else None)
        if images is not None:  # read the user's pictures once, so their temporary folder may go while training runs
            train_ds, val_ds = _in_memory(train_ds), _in_memory(val_ds)
        model = models.CloudNet(len(images.classes) if images else len(train_ds.classes), s.hidden, s.batchnorm)
        loss_fn, evaluate = _multiclass(model.classifier.out_features)
        train_loader, val_loader = _loaders(train_ds, val_ds, s.batch_size, s.seed)
        kind, scale = "multiclass", (0.0, 1.0)
        names = list(images.classes) if images else list(train_ds.classes)
        transform = flip_rotate(generator(s.seed + 1)) if s.augment else None
    else:
        frame = data.electricity_frame() if series is None else series
        train_ds, val_ds, scale = data.sequence_datasets(frame, s.seq_length)
        model = models.RecurrentNet(s.cell, s.hidden)
        loss_fn, evaluate = _regression(scale)
        train_loader, val_loader = _loaders(train_ds, val_ds, s.batch_size, s.seed)
        kind, names, transform = "regression", [], None
    models.init_parameters(model, s.init, g)  # drawn on the CPU, so a seed gives the same start on any device
    model.to(device())
    optimizer = training.make_optimizer(s.optimizer, model.parameters(), s.lr, s.momentum, s.weight_decay, (s.beta1, s.beta2))
    return Prepared(kind, model, loss_fn, optimizer, train_loader, val_loader, evaluate, names, transform, scale)


def _in_memory(dataset: Dataset) -> TensorDataset:
    """An ImageFolder's (image, label) pairs as tensors."""
    xs, ys = zip(*(dataset[i] for i in range(len(dataset))))
    return TensorDataset(torch.stack(xs), torch.tensor(ys))


def _split_table(table: pd.DataFrame, seed: int, val_fraction: float = 0.2) -> tuple[pd.DataFrame, pd.DataFrame]:
    order = torch.randperm(len(table), generator=generator(seed)).numpy()
    cut = int(round(len(table) * (1 - val_fraction)))
    train, val = table.iloc[order[:cut]], table.iloc[order[cut:]]
    features = train.columns[:-1]
    lo, span = train[features].min(), (train[features].max() - train[features].min()).replace(0, 1)
    scale = lambda df: pd.concat([(df[features] - lo) / span, df.iloc[:, -1]], axis=1)  # noqa: E731
    return scale(train).reset_index(drop=True), scale(val).reset_index(drop=True)


def final_outputs(prepared: Prepared) -> dict:
    """What the page shows once a run ends: a confusion matrix (classification) or the forecast against
    the actual values on the test span (regression), from the trained model in eval mode."""
    model = prepared.model.eval()
    with torch.inference_mode():
        out, y = _collect(model, prepared.val_loader, lambda o: o)
    if prepared.kind == "regression":
        mean, std = prepared.scale
        return {"forecast": (out.squeeze(-1) * std + mean).tolist(), "actual": (y * std + mean).tolist()}
    if prepared.kind == "binary":
        probs = out.view(-1) if not getattr(model, "logits", False) else torch.sigmoid(out.view(-1))
        preds, k = (probs > 0.5).long(), 2
    else:
        preds, k = out.argmax(1), len(prepared.class_names)
    F_ = torchmetrics.functional
    matrix = F_.confusion_matrix(preds, y.long(), task="multiclass", num_classes=k)
    per_class = {name: fn(preds, y.long(), task="multiclass", num_classes=k, average="none").tolist()
                 for name, fn in (("precision", F_.precision), ("recall", F_.recall), ("f1", F_.f1_score))}
    return {"confusion": matrix.tolist(), "classes": prepared.class_names, "per_class": per_class}


def final_checks(prepared: Prepared) -> list:
    """Formula against PyTorch on the trained model: the loss written out by hand on the validation set,
    accuracy from the confusion matrix against torchmetrics, and √Σ‖g‖² against clip_grad_norm_."""
    from core.checks import Check

    model = prepared.model.eval()
    with torch.inference_mode():
        out, y = _collect(model, prepared.val_loader, lambda o: o)
        torch_loss = float(prepared.loss_fn(out, y))
        if prepared.kind == "binary":
            p = (torch.sigmoid(out) if getattr(model, "logits", False) else out).view(-1).double().clamp(1e-12, 1 - 1e-12)
            by_hand = float(-(y * p.log() + (1 - y) * (1 - p).log()).mean())
            what = "BCE −mean[y log ŷ + (1−y) log(1−ŷ)] on the validation set"
        elif prepared.kind == "multiclass":
            by_hand = float(-(out.double().log_softmax(1).gather(1, y.view(-1, 1))).mean())
            what = "cross-entropy −mean log softmax(z)_y on the validation set"
        else:
            by_hand = float(((out.squeeze(-1).double() - y) ** 2).mean())
            what = "MSE mean (ŷ − y)² on the validation set"
    checks = [Check(what, by_hand, torch_loss, 1e-4 * max(1.0, abs(by_hand)))]
    if prepared.kind != "regression":
        outputs = final_outputs(prepared)
        matrix = torch.tensor(outputs["confusion"], dtype=torch.float64)
        with torch.inference_mode():
            _, metrics = prepared.evaluate(model, prepared.val_loader)
        checks.append(Check("accuracy = trace(confusion) / N vs torchmetrics", float(matrix.trace() / matrix.sum()),
                            metrics["accuracy"], 1e-6))
    model.train()
    x, y = next(iter(prepared.train_loader))
    dev = next(model.parameters()).device
    x, y = x.to(dev), y.to(dev)
    model.zero_grad()
    prepared.loss_fn(model(x), y).backward()
    by_hand = float(torch.sqrt(sum((p.grad.double() ** 2).sum() for p in model.parameters() if p.grad is not None)))
    reported = float(torch.nn.utils.clip_grad_norm_(model.parameters(), float("inf")))
    checks.append(Check("gradient norm √Σ‖g‖² vs clip_grad_norm_", by_hand, reported, 1e-4 * max(1.0, by_hand)))
    model.zero_grad()
    model.eval()
    return checks
