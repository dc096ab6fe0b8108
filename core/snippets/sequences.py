"""The Sequences & windowing page's view as a standalone PyTorch script."""
from __future__ import annotations

from core import windowing
from core.data import ELECTRICITY


def code(window: int, horizon: int, stride: int, index: int, seed: int, csv_path: str | None = None,
         column: str = "consumption") -> str:
    """A script that windows the series, splits the windows in time and at random, trains the same small
    forecaster on each split, counts the overlap, and makes the (N, T) mistake on purpose."""
    path = repr(str(ELECTRICITY)) if csv_path is None else repr(csv_path)
    source = "DL Explorer's bundled 15-minute electricity series" if csv_path is None else "your CSV file: put its path here"
    w = windowing
    return f'''"""Sequences & windowing: create_sequences with a horizon and a stride (course 7.2), the temporal split
against a random one (7.3), and the (N, T) -> (N, T, 1) reshape an RNN needs (11.2)."""
import csv
import math

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

CSV_PATH = {path}   # {source}
COLUMN = {column!r}
L, h, s = {window}, {horizon}, {stride}        # window length, horizon, stride
seed = {seed}
torch.set_num_threads(1)                      # a model this small trains fastest on one thread

with open(CSV_PATH, newline="") as f:
    series = torch.tensor([float(row[COLUMN]) for row in csv.DictReader(f)], dtype=torch.float64)[:{w.MAX_LENGTH}]
N = len(series)

# Window i: inputs x[i*s : i*s+L], target x[i*s+L+h-1]. The last one needs i*s + L + h - 1 <= N - 1.
M = (N - L - h) // s + 1
spans = series.unfold(0, L + h, s)            # (M, L + h): each window's inputs and everything up to its target
print(f"windows: count={{len(spans)}} formula={{M}} X={{len(spans)}}x{{L}} y={{len(spans)}}")
i = {index}
print(f"window: index={{i}} start={{i * s}} target={{i * s + L + h - 1}} y={{spans[i, -1].item():.10g}}")

# Standardise with the training time's statistics (the first {w.TRAIN_FRACTION:.0%} of the readings)
cut = round(N * {w.TRAIN_FRACTION})
mean, std = series[:cut].mean(), series[:cut].std()
z = ((series - mean) / std).float().unfold(0, L + h, s)
X, y = z[:, :L], z[:, -1]                     # (M, L) inputs, (M,) targets
starts = torch.arange(M) * s
targets = starts + L + h - 1

# Temporal split: training windows end before the cut, test windows start after it; the ones across it are left out.
# Random split: {w.TRAIN_FRACTION:.0%} of the windows, drawn at random, train; the rest test.
perm = torch.randperm(M, generator=torch.Generator().manual_seed(seed))
k = round(M * {w.TRAIN_FRACTION})
splits = {{
    "temporal": (torch.nonzero(targets < cut).flatten(), torch.nonzero(starts >= cut).flatten()),
    "random": (perm[:k].sort().values, perm[k:].sort().values),
}}


def init_parameters(model, g):
    """PyTorch's default initialisation of each Linear, drawn from the generator g."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Linear):
                nn.init.kaiming_uniform_(m.weight, a=math.sqrt(5), generator=g)
                bound = 1 / math.sqrt(m.in_features)
                nn.init.uniform_(m.bias, -bound, bound, generator=g)


for name, (train, test) in splits.items():
    # Test windows sharing a reading with a training window: a training start within L + h - 1 before its start, or inside it
    lo = torch.searchsorted(starts[train], starts[test] - (L + h - 1))
    hi = torch.searchsorted(starts[train], targets[test], right=True)
    overlap = int((hi - lo > 0).sum())

    net = nn.Sequential(nn.Linear(L, {w.HIDDEN}), nn.ReLU(), nn.Linear({w.HIDDEN}, 1))
    init_parameters(net, torch.Generator().manual_seed(seed))
    loader = DataLoader(TensorDataset(X[train], y[train]), batch_size={w.BATCH_SIZE}, shuffle=True,
                        generator=torch.Generator().manual_seed(seed))
    optimizer = torch.optim.Adam(net.parameters(), lr={w.LR})
    criterion = nn.MSELoss()
    for epoch in range({w.EPOCHS}):
        net.train()
        for x_batch, y_batch in loader:
            optimizer.zero_grad()
            loss = criterion(net(x_batch).squeeze(-1), y_batch)   # (B, 1) -> (B,) against (B,)
            loss.backward()
            optimizer.step()
    net.eval()
    with torch.no_grad():
        y_hat = net(X).squeeze(-1).double() * std + mean          # back to the series' unit
    actual = y.double() * std + mean
    err = y_hat[test] - actual[test]
    print(f"{{name}}: train={{len(train)}} test={{len(test)}} overlap={{overlap}} "
          f"mse={{(err ** 2).mean().item():.10g}} mae={{err.abs().mean().item():.10g}}")

# The shape pitfall (11.2): an RNN reads (N, T, features); a batch of windows is (N, T)
lstm = nn.LSTM(input_size=1, hidden_size={w.PITFALL_HIDDEN}, batch_first=True)
x = (series.float().unfold(0, L + h, s)[:, :L])[:{w.PITFALL_BATCH}]   # (N, T)
try:
    lstm(x)
    error = "none"
except RuntimeError as err:
    error = "RuntimeError"
    print("PyTorch says:", err)
out, (h_n, c_n) = lstm(x.unsqueeze(-1))      # (N, T) -> (N, T, 1)
print(f"pitfall: error={{error}} fixed={{'x'.join(map(str, x.unsqueeze(-1).shape))}} out={{'x'.join(map(str, out.shape))}}")
'''
