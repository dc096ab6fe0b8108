"""The Datasets & DataLoader page's view as a standalone PyTorch script."""
from __future__ import annotations

from core.data import WATER_TRAIN


def code(n: int, batch_size: int, shuffle: bool, drop_last: bool, seed: int, index: int) -> str:
    """A script that builds the course's WaterDataset on the bundled CSV, shows sample `index`, and prints
    which samples each batch of two epochs holds."""
    return f'''"""Datasets & DataLoader: the course's WaterDataset (section 1.2) and DataLoader (section 1.3)."""
import csv
import math

import torch
from torch.utils.data import DataLoader, Dataset, Subset

CSV_PATH = {str(WATER_TRAIN)!r}   # DL Explorer's bundled water_train.csv


class WaterDataset(Dataset):
    def __init__(self, csv_path):
        super().__init__()
        with open(csv_path, newline="") as f:
            rows = list(csv.reader(f))
        self.columns = rows[0]
        # The course: pd.read_csv(csv_path).to_numpy(), float64; nn.Linear expects float32
        self.data = torch.tensor([[float(v) for v in row] for row in rows[1:]], dtype=torch.float32)

    def __len__(self):
        return self.data.shape[0]              # N, the number of samples

    def __getitem__(self, idx):
        features = self.data[idx, :-1]         # x_i, 9 values
        label = self.data[idx, -1]             # y_i in {{0, 1}}
        return features, label


class WithIndex(Dataset):
    """The same samples, each with its own index in front, to see which samples a batch holds."""

    def __init__(self, dataset):
        self.dataset = dataset

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, idx):
        return (idx, *self.dataset[idx])


N, B = {n}, {batch_size}
dataset = Subset(WaterDataset(CSV_PATH), range(N))       # the first N rows
print(f"dataset: len={{len(dataset)}}")

features, label = dataset[{index}]
print(f"sample: index={index} label={{label.item():g}} features=" + ",".join(f"{{v:.6g}}" for v in features.tolist()))

loader = DataLoader(WithIndex(dataset), batch_size=B, shuffle={shuffle}, drop_last={drop_last},
                    generator=torch.Generator().manual_seed({seed}))
formula = N // B if loader.drop_last else math.ceil(N / B)
print(f"loader: formula={{formula}} len={{len(loader)}}")

for epoch in (1, 2):
    batches = [idx.tolist() for idx, x_batch, y_batch in loader]   # iterating the loader once is one epoch
    seen = {{i for batch in batches for i in batch}}
    dropped = [i for i in range(N) if i not in seen]
    print(f"epoch{{epoch}}: batches={{len(batches)}} sizes=" + ",".join(str(len(b)) for b in batches)
          + " order=" + ",".join(str(i) for b in batches for i in b) + " dropped=" + ",".join(map(str, sorted(dropped))))
'''
