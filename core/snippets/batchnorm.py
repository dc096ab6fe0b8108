"""The Batch normalization page's view as a standalone PyTorch script: the same batches, layers and training runs,
printing the numbers the page shows."""
from __future__ import annotations

from core.snippets import WATER_DATASET

from core import batchnorm

_NETS = {
    "course": '''class Net(nn.Module):
    """The course's network (section 1.4), BatchNorm1d after each hidden Linear when batchnorm=True (section 3.4)."""

    def __init__(self, batchnorm):
        super().__init__()
        self.fc1 = nn.Linear(9, 16)
        self.bn1 = nn.BatchNorm1d(16) if batchnorm else nn.Identity()
        self.fc2 = nn.Linear(16, 8)
        self.bn2 = nn.BatchNorm1d(8) if batchnorm else nn.Identity()
        self.fc3 = nn.Linear(8, 1)

    def forward(self, x):
        x = nn.functional.relu(self.bn1(self.fc1(x)))
        x = nn.functional.relu(self.bn2(self.fc2(x)))
        return torch.sigmoid(self.fc3(x))
''',
    "deep": '''class Net(nn.Module):
    """The course's network made deeper: 9 -> {widths} -> 1, BatchNorm1d after each hidden Linear when batchnorm=True."""

    def __init__(self, batchnorm, widths=({widths_tuple})):
        super().__init__()
        sizes = (9, *widths)
        self.fcs = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes, sizes[1:]))
        self.bns = nn.ModuleList(nn.BatchNorm1d(w) if batchnorm else nn.Identity() for w in widths)
        self.out = nn.Linear(widths[-1], 1)

    def forward(self, x):
        for fc, bn in zip(self.fcs, self.bns):
            x = nn.functional.relu(bn(fc(x)))
        return torch.sigmoid(self.out(x))
''',
}

_OPTIMIZERS = {"adam": "optim.Adam(net.parameters(), lr={lr})", "sgd": "optim.SGD(net.parameters(), lr={lr})"}


def code(m: int, features: int, shift: float, scale: float, skew: float, gamma: float, beta: float, momentum: float | None,
         batches: int, feature: int, images: int, depth: str, optimizer: str, lr: float, data_dir: str, seed: int = 0) -> str:
    """A script that redraws the page's batches, puts them through nn.BatchNorm1d/2d in both modes beside the course's
    formulas, trains both networks, and prints the page's numbers as `name: key=value` lines."""
    widths = batchnorm.DEEP_WIDTHS
    net = _NETS[depth].format(widths=" -> ".join(map(str, widths)), widths_tuple=", ".join(map(str, widths)))
    return f'''"""Batch normalization (course section 3.4) step by step against nn.BatchNorm1d / nn.BatchNorm2d, and its effect
on training. Runs on its own; DATA points at DL Explorer's assets (the water-quality CSV files)."""
import math
from pathlib import Path

import pandas as pd
import torch
from torch import nn, optim
from torch.utils.data import DataLoader, Dataset

torch.set_num_threads(1)   # as the page runs: sums taken in another order drift a run at a large learning rate apart
DATA = Path({data_dir!r})
m, features, num_batches = {m}, {features}, {batches}   # batch size, features, batches in the stream
shift, scale, skew = {shift!r}, {scale!r}, {skew!r}
gamma, beta, momentum, eps = {gamma!r}, {beta!r}, {momentum!r}, {batchnorm.EPS!r}
k = {feature - 1}                                          # the feature shown in detail (0-based here)
OFFSETS = {batchnorm.OFFSETS!r}   # feature j: mean shift + OFFSETS[j]
SPREADS = {batchnorm.SPREADS!r}   # feature j: std scale * SPREADS[j]


def draw(g, shape, dim):
    """Skewed standard values (e^(a z) - 1) / a, standardized with their exact moments, then each feature's mean and std."""
    z = torch.randn(shape, generator=g, dtype=torch.float64)
    if skew != 0:
        a2 = skew * skew
        z = (torch.expm1(skew * z) / skew - math.expm1(a2 / 2) / skew) / (math.sqrt(math.exp(a2) * math.expm1(a2)) / abs(skew))
    view = [1] * len(shape)
    view[dim] = -1
    mean = torch.tensor([shift + o for o in OFFSETS[: shape[dim]]], dtype=torch.float64).view(view)
    std = torch.tensor([scale * s for s in SPREADS[: shape[dim]]], dtype=torch.float64).view(view)
    return (mean + std * z).float()


def batch_norm(kind, channels):
    """A fresh BatchNorm layer (running_mean 0, running_var 1, train mode) with gamma and beta set."""
    bn = kind(channels, eps=eps, momentum=momentum)
    with torch.no_grad():
        bn.weight.fill_(gamma)
        bn.bias.fill_(beta)
    return bn


g = torch.Generator().manual_seed({seed})
stream = [draw(g, (m, features), 1) for _ in range(num_batches)]   # num_batches x (m, F), drawn one after another
x = stream[0]                                                     # the batch the page shows

# 1. The course's three steps (section 3.4), in float64
xd = x.double()
mu = xd.mean(0)                                      # mu_B
var = ((xd - mu) ** 2).mean(0)                       # sigma^2_B, biased: divides by m
x_hat = (xd - mu) / torch.sqrt(var + eps)
y = gamma * x_hat + beta
bn = batch_norm(nn.BatchNorm1d, features)
try:
    with torch.no_grad():
        y_train = bn(x)                              # train mode: normalizes with mu_B and the biased sigma^2_B
    unbiased = var * m / (m - 1)                     # what running_var takes in: divides by m - 1
    print(f"train: max_error={{(y - y_train).abs().max().item():.3e}} y1={{y_train[0, k].item():.6g}}")
    print(f"batch1: mean={{mu[k].item():.6g}} var_biased={{var[k].item():.6g}} var_unbiased={{unbiased[k].item():.6g}} "
          f"running_mean={{bn.running_mean[k].item():.6g}} running_var={{bn.running_var[k].item():.6g}}")
except ValueError as err:                            # m = 1: "Expected more than 1 value per channel when training"
    print(f"train: refused=1 num_batches_tracked={{bn.num_batches_tracked.item()}}")

# 2. The running statistics over the stream: running = (1 - momentum) * running + momentum * batch
bn = batch_norm(nn.BatchNorm1d, features)
seen = 0
for batch in stream:
    try:
        with torch.no_grad():
            bn(batch)
    except ValueError:
        break
    seen += 1
print(f"stream: batches={{seen}} running_mean={{bn.running_mean[k].item():.6g}} running_var={{bn.running_var[k].item():.6g}}")

# 3. Eval mode: the same batch, normalized with the running statistics
bn.eval()
with torch.no_grad():
    y_eval = bn(x)
    alone = bn(x[:1])                                # a batch of one is fine in eval mode
formula = gamma * (xd - bn.running_mean.double()) / torch.sqrt(bn.running_var.double() + eps) + beta
print(f"eval: y1={{y_eval[0, k].item():.6g}} max_error={{(formula - y_eval).abs().max().item():.3e}} "
      f"alone={{alone[0, k].item():.6g}}")

# 4. BatchNorm2d: statistics per channel over N, H and W
maps = draw(torch.Generator().manual_seed({seed + 1}), ({images}, 3, 4, 4), 1)   # (N, C, H, W)
bn2 = batch_norm(nn.BatchNorm2d, 3)
with torch.no_grad():
    y2 = bn2(maps)
md = maps.double()
mu2 = md.mean(dim=(0, 2, 3))
var2 = ((md - mu2.view(1, -1, 1, 1)) ** 2).mean(dim=(0, 2, 3))
y2_formula = gamma * (md - mu2.view(1, -1, 1, 1)) / torch.sqrt(var2.view(1, -1, 1, 1) + eps) + beta
print("bn2d: " + " ".join(f"mean{{c}}={{mu2[c].item():.6g}} var{{c}}={{var2[c].item():.6g}} running_var{{c}}={{bn2.running_var[c].item():.6g}}"
                          for c in range(3)) + f" max_error={{(y2_formula - y2).abs().max().item():.3e}}")


# 5. Training: the same network without and with BatchNorm, same seed, same batches
{WATER_DATASET}

{net}

def init_parameters(model, g):
    """PyTorch's default initialisation, redrawn from generator g so the seed alone decides it."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.Linear):
                nn.init.kaiming_uniform_(module.weight, a=math.sqrt(5), generator=g)
                bound = 1 / math.sqrt(module.weight.shape[1])
                nn.init.uniform_(module.bias, -bound, bound, generator=g)
    return model


def train(batchnorm):
    net = init_parameters(Net(batchnorm), torch.Generator().manual_seed({seed}))
    loader = DataLoader(WaterDataset(DATA / "water" / "water_train.csv"), batch_size={batchnorm.BATCH_SIZE}, shuffle=True,
                        generator=torch.Generator().manual_seed({seed}))
    optimizer = {_OPTIMIZERS[optimizer].format(lr=repr(lr))}
    criterion = nn.BCELoss()
    for epoch in range({batchnorm.EPOCHS}):
        net.train()
        total, count = 0.0, 0
        for x_batch, y_batch in loader:
            optimizer.zero_grad()
            loss = criterion(net(x_batch), y_batch.view(-1, 1))
            if not math.isfinite(loss.item()):
                return "nan"                         # diverged
            loss.backward()
            optimizer.step()
            total, count = total + loss.item() * len(x_batch), count + len(x_batch)
    return f"{{total / count:.6f}}"                   # the last epoch's mean training loss


print(f"training: without={{train(False)}} with={{train(True)}}")
'''
