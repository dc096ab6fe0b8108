"""The Initialization page's training comparison (core/init_training.py): the batches are a plain DataLoader's, and
only a fitting initialisation learns."""
from __future__ import annotations

import math

import plotly.graph_objects as go
import torch

from core import charts, init_training
from core import initialization as ini
from core.rng import generator


def test_batches_are_a_plain_dataloaders(monkeypatch):
    """The comparison reads the water data a batch at a time (init_training.WaterBatches): the same batches as
    DataLoader(WaterDataset(...)), in the same shuffled order, and so the very same training run."""
    from torch.utils.data import DataLoader

    from core import data

    train_df, val_df = data.water_frames()
    for frame, size, seed in ((train_df, init_training.TRAIN_BATCH, 1), (val_df, len(val_df), None)):
        g = None if seed is None else generator(seed)
        plain = DataLoader(data.WaterDataset(frame), batch_size=size, shuffle=g is not None, generator=g)
        mine = init_training.water_loader(frame, size, None if seed is None else generator(seed))
        pairs = list(zip(plain, mine, strict=True))
        assert all(torch.equal(a, b) and a.dtype == b.dtype for pa, pb in pairs for a, b in zip(pa, pb, strict=True))
    fast = init_training.train_run("xavier_uniform", "tanh", True)
    monkeypatch.setattr(init_training, "water_loader", lambda frame, size, g=None: DataLoader(
        data.WaterDataset(frame), batch_size=size, shuffle=g is not None, generator=g))
    slow = init_training.train_run("xavier_uniform", "tanh", True)
    assert fast.steps.equals(slow.steps) and fast.epochs.drop(columns="wall").equals(slow.epochs.drop(columns="wall"))


def test_training_comparison_learns_only_with_a_fitting_init():
    base = init_training.base_rate_loss()
    good = init_training.train_run("kaiming_uniform", "relu", False)
    stuck = init_training.train_run("normal_small", "relu", False)
    wild = init_training.train_run("normal", "relu", False)
    assert good.status == stuck.status == "done" and len(good.steps) == init_training.TRAIN_EPOCHS * 29
    assert good.epochs.train_loss.iloc[-1] < base - 0.05
    assert abs(stuck.epochs.train_loss.iloc[-1] - base) < 0.02
    assert wild.status == "diverged" and "diverged" in wild.message
    again = init_training.train_run("kaiming_uniform", "relu", False)
    assert good.steps.train_loss.equals(again.steps.train_loss)  # seeded: the same run twice
    table = init_training.training_table([good, stuck, wild], ini.SCHEME_LABELS)
    assert list(table.ended) == ["done", "done", "diverged"] and math.isnan(table["train loss"].iloc[2])
    fig = go.Figure(charts.init_training_curves([good, stuck, wild], ini.SCHEME_LABELS, base).to_dict())
    assert len(fig.data) == 3 + 3 + 2  # raw, smoothed, validation; the diverged run has no finished epoch
    assert fig.layout.yaxis.range[1] < 1.2  # fits the finished runs, not the diverged one's huge first loss


def test_architecture_line_is_what_train_run_builds():
    text = init_training.architecture("ReLU", True)
    assert f"{init_training.TRAIN_DEPTH} × [Linear(·, {init_training.TRAIN_WIDTH}) → BatchNorm1d → ReLU]" in text
    assert "BatchNorm1d" not in init_training.architecture("ReLU", False)
    model = ini.mlp(init_training.TRAIN_DEPTH, init_training.TRAIN_WIDTH, "relu", "default", True, generator(0), n_in=9, n_out=1)
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    assert len(linears) == init_training.TRAIN_DEPTH + 1 and linears[0].in_features == 9 and linears[-1].out_features == 1
