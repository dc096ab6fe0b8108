"""Datasets and DataLoader (course §1.2–1.3): the course's WaterDataset on the bundled CSV, one sample as
`__getitem__` returns it and as the DataLoader hands it to a model, and which samples land in which batch.

The batches come from a real `DataLoader` iterated twice (two epochs), over a dataset that returns each
sample's index beside its features and label, so the picture is exactly what PyTorch yields. Shuffling
draws from `torch.Generator().manual_seed(seed)`; `by_hand_orders` redoes those draws without a DataLoader.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, Subset, default_collate

from core.checks import Check
from core.data import WATER_TRAIN, WaterDataset

EPOCHS = 2
MAX_N = 1800  # rows of the bundled water_train.csv


@functools.lru_cache(maxsize=1)
def water_dataset() -> WaterDataset:
    """The course's WaterDataset on the bundled training CSV (read once; never written to)."""
    return WaterDataset(WATER_TRAIN)


def subset(n: int) -> Subset:
    """The first n samples: `Subset(dataset, range(n))`, so index i of the subset is row i of the CSV."""
    if not 1 <= n <= MAX_N:
        raise ValueError(f"the subset size must be between 1 and {MAX_N}")
    return Subset(water_dataset(), range(n))


class WithIndex(Dataset):
    """A dataset whose samples also carry their own index: (i, features, label)."""

    def __init__(self, dataset: Dataset):
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)  # type: ignore[arg-type]

    def __getitem__(self, idx: int):
        return (idx, *self.dataset[idx])


def batch_count(n: int, batch_size: int, drop_last: bool) -> int:
    """The course's ⌈N/B⌉ batches per epoch (§1.3), or ⌊N/B⌋ with drop_last (PyTorch's docs)."""
    return n // batch_size if drop_last else math.ceil(n / batch_size)


def loader(n: int, batch_size: int, shuffle: bool, drop_last: bool, seed: int, indexed: bool = True) -> DataLoader:
    """The DataLoader of the page: the first n samples, shuffled (if asked) by a generator seeded with `seed`."""
    dataset = subset(n)
    return DataLoader(WithIndex(dataset) if indexed else dataset, batch_size=batch_size, shuffle=shuffle,
                      drop_last=drop_last, generator=torch.Generator().manual_seed(seed))


@dataclass(frozen=True)
class Loading:
    """Two epochs of one DataLoader, as it yielded them."""

    n: int  # N, len(dataset)
    batch_size: int  # B
    shuffle: bool
    drop_last: bool
    seed: int
    dataset_len: int  # len(Subset(...)) as PyTorch reports it
    loader_len: int  # len(DataLoader)
    epochs: tuple[tuple[tuple[int, ...], ...], ...]  # per epoch, per batch: the sample indices, in order
    by_hand: tuple[tuple[int, ...], ...]  # per epoch: the index order redone from the generator without a DataLoader
    xs: tuple[torch.Tensor, ...]  # per epoch: every x_batch the DataLoader yielded, concatenated, (samples seen, 9)
    ys: tuple[torch.Tensor, ...]  # per epoch: every y_batch, concatenated, (samples seen,)

    @property
    def formula_batches(self) -> int:
        return batch_count(self.n, self.batch_size, self.drop_last)

    @property
    def last_batch(self) -> int:
        """Size of the last batch: N − B·(⌈N/B⌉ − 1), or B with drop_last (0 when there is no batch)."""
        if self.formula_batches == 0:
            return 0
        return self.batch_size if self.drop_last else self.n - self.batch_size * (self.formula_batches - 1)

    @property
    def dropped_count(self) -> int:
        """Samples left out of every epoch: N mod B with drop_last, none without."""
        return self.n % self.batch_size if self.drop_last else 0

    def dropped(self, epoch: int) -> tuple[int, ...]:
        """The samples that epoch `epoch` (0-based) never showed the model."""
        seen = {i for batch in self.epochs[epoch] for i in batch}
        return tuple(i for i in self.by_hand[epoch] if i not in seen)

    def where(self, index: int) -> tuple[int, int, int] | None:
        """(epoch, batch, row) of the first place sample `index` appears, or None when every epoch dropped it."""
        for e, batches in enumerate(self.epochs):
            for b, batch in enumerate(batches):
                if index in batch:
                    return e, b, batch.index(index)
        return None

    def yielded(self, epoch: int, batch: int, row: int) -> tuple[torch.Tensor, torch.Tensor]:
        """x_batch[row] and y_batch[row] of batch `batch` in epoch `epoch`, as the DataLoader yielded them."""
        position = sum(len(b) for b in self.epochs[epoch][:batch]) + row
        return self.xs[epoch][position], self.ys[epoch][position]


def by_hand_orders(n: int, shuffle: bool, seed: int, epochs: int = EPOCHS) -> tuple[tuple[int, ...], ...]:
    """The index order of each epoch, redone from the generator alone.

    Each `iter(DataLoader)` first draws one 64-bit base seed for worker processes from the loader's
    generator; then `RandomSampler` draws `torch.randperm(N, generator=g)` from the same generator, and
    when those N indices run out it draws one more permutation for the remaining N mod N = 0 samples,
    which it throws away. So an epoch run to its end takes a seed and two permutations from the generator.
    Without shuffle the order is 0, 1, …, N − 1 every epoch.
    """
    g = torch.Generator().manual_seed(seed)
    orders = []
    for _ in range(epochs):
        torch.empty((), dtype=torch.int64).random_(generator=g)  # the iterator's base seed
        if shuffle:
            orders.append(tuple(torch.randperm(n, generator=g).tolist()))
            torch.randperm(n, generator=g)  # the sampler's draw for the 0 remaining samples, discarded
        else:
            orders.append(tuple(range(n)))
    return tuple(orders)


def loading(n: int, batch_size: int, shuffle: bool, drop_last: bool, seed: int) -> Loading:
    """Iterate the page's DataLoader for two epochs and record which sample indices each batch held."""
    dl = loader(n, batch_size, shuffle, drop_last, seed)
    epochs, xs, ys = [], [], []
    for _ in range(EPOCHS):
        batches = list(dl)  # [(indices, x_batch, y_batch), ...]
        epochs.append(tuple(tuple(idx.tolist()) for idx, _, _ in batches))
        xs.append(torch.cat([x for _, x, _ in batches]) if batches else torch.empty(0, 9))
        ys.append(torch.cat([y for _, _, y in batches]) if batches else torch.empty(0))
    return Loading(n, batch_size, shuffle, drop_last, seed, len(dl.dataset), len(dl), tuple(epochs),
                   by_hand_orders(n, shuffle, seed), tuple(xs), tuple(ys))


def batches_table(v: Loading) -> list[dict]:
    """One row per batch: epoch (1-based), batch (0-based), size and the sample indices it held."""
    return [{"epoch": e + 1, "batch": b, "size": len(batch), "sample indices": ", ".join(map(str, batch))}
            for e, batches in enumerate(v.epochs) for b, batch in enumerate(batches)]


@dataclass(frozen=True)
class Sample:
    """Sample i as `dataset[i]` returns it, and as a DataLoader batch carries it."""

    index: int
    columns: tuple[str, ...]  # the 9 feature names, then the label's
    features: np.ndarray  # (9,) float32, what __getitem__ returns
    label: float
    getitem_repr: str  # repr of (features, label) from __getitem__
    tensor_repr: str  # repr of the row of x_batch and y_batch that holds the sample
    batch_shapes: str  # x_batch and y_batch shapes and dtypes
    source: str  # where the tensors were taken from, in words


def sample(index: int, v: Loading) -> Sample:
    """`dataset[index]`, and the same sample inside the first batch of `v` that holds it (or a batch of one
    built by `default_collate`, the DataLoader's own collate function, when every epoch dropped it)."""
    ds = subset(v.n)
    features, label = ds[index]
    place = v.where(index)
    if place is None:
        xb, yb = default_collate([ds[index]])  # the DataLoader's own collate function, on a batch of one
        row, x, y = 0, xb[0], yb[0]
        source = "every epoch dropped this sample, so these come from `default_collate([dataset[i]])`, the DataLoader's own collate function"
        size = 1
    else:
        e, b, row = place
        x, y = v.yielded(e, b, row)
        source = f"row {row} of batch {b} in epoch {e + 1}"
        size = len(v.epochs[e][b])
    with np.printoptions(precision=4, suppress=True):
        getitem = f"features = {features!r}\nlabel = {label!r}"
    tensor = f"x_batch[{row}] = {x!r}\ny_batch[{row}] = {y!r}"
    shapes = f"x_batch: {(size, *x.shape)} {x.dtype}, y_batch: {(size, *y.shape)} {y.dtype}"
    return Sample(index, tuple(water_dataset().columns), features, float(label), getitem, tensor, shapes, source)


@functools.lru_cache(maxsize=1)
def float64_error() -> str:
    """What a float32 `nn.Linear` says to a float64 batch, the dtype the course's `df.to_numpy()` keeps."""
    rows = water_dataset().data[:2].astype(np.float64)
    x, _ = default_collate([(r[:-1], r[-1]) for r in rows])
    try:
        with torch.inference_mode():
            nn.Linear(x.shape[1], 16)(x)
    except RuntimeError as err:
        return f"RuntimeError: {err}"
    return "no error"


def checks(v: Loading, s: Sample) -> list[Check]:
    """The course's count against len(DataLoader) and against the batches actually yielded, the order
    redone from the generator against the DataLoader's, and __getitem__ against the batch's row."""
    k = v.formula_batches
    out = [
        Check("__len__: N against len(dataset)", v.n, v.dataset_len, 0),
        Check(("⌊N/B⌋" if v.drop_last else "⌈N/B⌉") + " against len(DataLoader)", k, v.loader_len, 0),
    ]
    for e, batches in enumerate(v.epochs):
        flat = [i for batch in batches for i in batch]
        expected = v.by_hand[e][: k * v.batch_size] if v.drop_last else v.by_hand[e]
        mismatch = sum(a != b for a, b in zip(flat, expected)) + abs(len(flat) - len(expected))
        out += [
            Check(f"epoch {e + 1}: batches yielded against len(DataLoader)", k, len(batches), 0),
            Check(f"epoch {e + 1}: samples seen, N − dropped", v.n - v.dropped_count, len(flat), 0),
            Check(f"epoch {e + 1}: size of the last batch", v.last_batch, len(batches[-1]) if batches else 0, 0),
            Check(f"epoch {e + 1}: positions where the order by hand differs from the DataLoader's", 0, mismatch, 0),
        ]
    place = v.where(s.index)
    if place is not None:
        x, y = v.yielded(*place)
        diff = max(float(np.abs(x.numpy() - s.features).max()), abs(float(y) - s.label))
        out.append(Check(f"dataset[{s.index}] against its row of the yielded batch: max |difference|", 0.0, diff, 0.0, error=diff))
    return out


def index_error(n: int, index: int) -> str | None:
    """PyTorch's own complaint about `dataset[index]` on the first-n subset, or None when the index exists."""
    try:
        subset(n)[index]
    except IndexError as err:
        return f"IndexError: {err}"
    return None
