"""The Training studio's run as a standalone PyTorch script: same data, model, initial weights, batches
and optimizer, so its losses match the page's step for step."""
from __future__ import annotations

from core import tasks
from core.snippets import WATER_DATASET

_DATA = {
    "tabular": '''import pandas as pd
from torch.utils.data import Dataset


''' + WATER_DATASET + '''

dataset_train = WaterDataset(DATA / "water" / "water_train.csv")
dataset_val = WaterDataset(DATA / "water" / "water_test.csv")
''',
    "image": '''from torchvision import transforms
from torchvision.datasets import ImageFolder

dataset_train = ImageFolder(str(DATA / "clouds" / "train"), transform=transforms.ToTensor())
dataset_val = ImageFolder(str(DATA / "clouds" / "test"), transform=transforms.ToTensor())
''',
    "sequence": '''import numpy as np
import pandas as pd
from torch.utils.data import TensorDataset

df = pd.read_csv(DATA / "electricity" / "electricity_consumption.csv")
cut = int(round(len(df) * 0.8))                       # temporal split: no look-ahead
train_df, test_df = df.iloc[:cut], df.iloc[cut:]
mean, std = train_df.consumption.mean(), train_df.consumption.std()


def create_sequences(values, seq_length):
    xs = np.lib.stride_tricks.sliding_window_view(values, seq_length)[: len(values) - seq_length]
    return xs.astype("float32"), values[seq_length:].astype("float32")


def windows(part):
    X, y = create_sequences(((part.consumption - mean) / std).to_numpy(), seq_length)
    return TensorDataset(torch.from_numpy(X).unsqueeze(-1), torch.from_numpy(y))   # (N, L) -> (N, L, 1)


dataset_train, dataset_val = windows(train_df), windows(test_df)
''',
}

_MODEL = {
    "tabular": '''class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(9, {h1})
        self.bn1 = {bn1}
        self.fc2 = nn.Linear({h1}, {h2})
        self.bn2 = {bn2}
        self.fc3 = nn.Linear({h2}, 1)

    def forward(self, x):
        x = nn.functional.relu(self.bn1(self.fc1(x)))
        x = nn.functional.relu(self.bn2(self.fc2(x)))
        return {out}


net = Net()
criterion = {criterion}


def compute_loss(output, y):
    return criterion(output, y.view(-1, 1))
''',
    "image": '''net = nn.Sequential(
    nn.Conv2d(3, {c1}, kernel_size=3, padding=1), {bn1}, nn.ELU(), nn.MaxPool2d(kernel_size=2),
    nn.Conv2d({c1}, {c2}, kernel_size=3, padding=1), {bn2}, nn.ELU(), nn.MaxPool2d(kernel_size=2),
    nn.Flatten(),
    nn.Linear({c2} * 16 * 16, {k}),
)
criterion = nn.CrossEntropyLoss()


def compute_loss(output, y):
    return criterion(output, y)
''',
    "sequence": '''class Forecaster(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.{cell}(1, {hidden}, num_layers=2, batch_first=True)
        self.fc = nn.Linear({hidden}, 1)

    def forward(self, x):
        out, _ = self.rnn(x)          # (N, L, H)
        return self.fc(out[:, -1, :])  # the last step -> (N, 1)


net = Forecaster()
criterion = nn.MSELoss()


def compute_loss(output, y):
    return criterion(output.squeeze(-1), y)
''',
}

_INIT = '''

def init_parameters(model, scheme, g):
    """Redraw the initial weights from generator g (PyTorch's default rules, or Kaiming / Xavier)."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Linear, nn.Conv2d)):
                fan_in = m.weight[0].numel()
                if scheme == "default":
                    nn.init.kaiming_uniform_(m.weight, a=math.sqrt(5), generator=g)
                    nn.init.uniform_(m.bias, -1 / math.sqrt(fan_in), 1 / math.sqrt(fan_in), generator=g)
                else:
                    if scheme == "kaiming":
                        nn.init.kaiming_uniform_(m.weight, nonlinearity="relu", generator=g)
                    else:
                        nn.init.xavier_uniform_(m.weight, generator=g)
                    nn.init.zeros_(m.bias)
            elif isinstance(m, (nn.RNN, nn.LSTM, nn.GRU)):
                for p in m.parameters():
                    nn.init.uniform_(p, -1 / math.sqrt(m.hidden_size), 1 / math.sqrt(m.hidden_size), generator=g)
            elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
'''

_OPTIMIZERS = {
    "sgd": "optim.SGD(net.parameters(), lr={lr}{decay})",
    "momentum": "optim.SGD(net.parameters(), lr={lr}, momentum={momentum}{decay})",
    "adam": "optim.Adam(net.parameters(), lr={lr}, betas=({beta1}, {beta2}){decay})",
    "adamw": "optim.AdamW(net.parameters(), lr={lr}, betas=({beta1}, {beta2}){decay})",
    "rmsprop": "optim.RMSprop(net.parameters(), lr={lr}{decay})",
    "adagrad": "optim.Adagrad(net.parameters(), lr={lr}{decay})",
}


def optimizer_code(s: tasks.Settings) -> str:
    """The optimizer line of a run's script, with the run's settings."""
    decay = "" if s.weight_decay is None else f", weight_decay={s.weight_decay!r}"
    return _OPTIMIZERS[s.optimizer].format(lr=s.lr, momentum=s.momentum, beta1=s.beta1, beta2=s.beta2, decay=decay)


def code(s: tasks.Settings, data_dir: str) -> str:
    """A script that trains the same run as the page and prints each epoch's losses."""
    image = s.task == "image"
    w1, w2 = (s.hidden, 2 * s.hidden) if image else (s.hidden, max(1, s.hidden // 2))
    norm = "BatchNorm2d" if image else "BatchNorm1d"
    model = _MODEL[s.task].format(
        h1=w1, h2=w2, c1=w1, c2=w2, k=7, hidden=s.hidden, cell={"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}[s.cell],
        bn1=f"nn.{norm}({w1})" if s.batchnorm else "nn.Identity()",
        bn2=f"nn.{norm}({w2})" if s.batchnorm else "nn.Identity()",
        out="self.fc3(x)" if s.logits_loss else "torch.sigmoid(self.fc3(x))",
        criterion="nn.BCEWithLogitsLoss()" if s.logits_loss else "nn.BCELoss()",
    )
    clip = f"torch.nn.utils.clip_grad_norm_(net.parameters(), max_norm={s.clip})" if s.clip else "# no gradient clipping"
    augment = ""
    if s.task == "image" and s.augment:
        augment = "\n# This run used random flips and rotations (the page draws them from a generator); left out here.\n"
    return f'''"""Training studio run: {tasks.TASK_LABELS[s.task]}. Runs on its own; DATA points at DL Explorer's assets."""
import math
from pathlib import Path

import torch
from torch import nn, optim
from torch.utils.data import DataLoader

DATA = Path({data_dir!r})
num_epochs = {s.epochs}
seq_length = {s.seq_length}
{_DATA[s.task]}
{model}{_INIT}

init_parameters(net, "{s.init}", torch.Generator().manual_seed({s.seed}))
dataloader_train = DataLoader(dataset_train, batch_size={s.batch_size}, shuffle=True,
                              generator=torch.Generator().manual_seed({s.seed}))
dataloader_val = DataLoader(dataset_val, batch_size=256)
optimizer = {optimizer_code(s)}
{augment}
step = 0
for epoch in range(1, num_epochs + 1):
    net.train()
    for x_batch, y_batch in dataloader_train:
        optimizer.zero_grad()
        loss = compute_loss(net(x_batch), y_batch)
        loss.backward()
        {clip}
        optimizer.step()
        step += 1
        if step <= 3:
            print(f"step {{step}}: train_loss={{loss.item():.6f}}")
    net.eval()
    with torch.no_grad():
        total = sum(compute_loss(net(x), y).item() * len(x) for x, y in dataloader_val)
    print(f"epoch {{epoch}}: val_loss={{total / len(dataset_val):.6f}}")
'''
