"""The bundled data sets and the Dataset classes that read them, written the way the course writes them.

The files under assets/ are synthetic (see core/generate_data.py) and are read through the same code a
user would write for their own data: `WaterDataset` like the course's, `ImageFolder` for the clouds,
`create_sequences` for the electricity series.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset, TensorDataset

ASSETS = Path(__file__).resolve().parents[1] / "assets"
WATER_TRAIN = ASSETS / "water" / "water_train.csv"
WATER_TEST = ASSETS / "water" / "water_test.csv"
ELECTRICITY = ASSETS / "electricity" / "electricity_consumption.csv"
CLOUDS_TRAIN = ASSETS / "clouds" / "train"
CLOUDS_TEST = ASSETS / "clouds" / "test"
STEPS_PER_DAY = 96  # 15-minute readings


class WaterDataset(Dataset):
    """The course's Dataset (§1.2): a CSV whose last column is the label, every other column a feature."""

    def __init__(self, csv_path: str | Path | pd.DataFrame):
        super().__init__()
        df = csv_path if isinstance(csv_path, pd.DataFrame) else pd.read_csv(csv_path)
        self.columns = list(df.columns)
        self.data = df.to_numpy(dtype=np.float32)

    def __len__(self) -> int:
        return self.data.shape[0]  # N, the number of samples

    def __getitem__(self, idx: int) -> tuple[np.ndarray, np.float32]:
        features = self.data[idx, :-1]  # x_i ∈ ℝ^d
        label = self.data[idx, -1]  # y_i ∈ {0, 1}
        return features, label


def water_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The bundled water-quality train and test tables (9 features scaled to [0, 1], then `Potability`)."""
    return pd.read_csv(WATER_TRAIN), pd.read_csv(WATER_TEST)


def electricity_frame() -> pd.DataFrame:
    """The bundled 15-minute electricity series: columns `timestamp` (datetime64) and `consumption` (kW)."""
    return pd.read_csv(ELECTRICITY, parse_dates=["timestamp"])


def create_sequences(df: pd.DataFrame, seq_length: int, column: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The course's sliding window (§7.2), vectorised: input (x_i, …, x_{i+L−1}), target x_{i+L}.

    Args:
        df: a table whose `column`-th column holds the series, N rows.
        seq_length: L.
    Returns:
        X of shape (N − L, L) and y of shape (N − L,), float32.
    """
    values = df.iloc[:, column].to_numpy(dtype=np.float32)
    n = len(values) - seq_length
    if seq_length < 1 or n < 1:
        raise ValueError(f"a window of {seq_length} needs more than {seq_length} values; the series has {len(values)}")
    windows = np.lib.stride_tricks.sliding_window_view(values, seq_length)[:n]
    return windows.copy(), values[seq_length:].copy()


def temporal_split(df: pd.DataFrame, train_fraction: float = 0.8) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train on the first part of the series, test on the rest: no look-ahead (§7.3)."""
    cut = int(round(len(df) * train_fraction))
    return df.iloc[:cut].reset_index(drop=True), df.iloc[cut:].reset_index(drop=True)


def sequence_datasets(
    df: pd.DataFrame, seq_length: int, train_fraction: float = 0.8
) -> tuple[TensorDataset, TensorDataset, tuple[float, float]]:
    """Windows of a standardised series for an RNN, split in time.

    Returns:
        train and test datasets of (X: (L, 1), y: scalar) pairs, and the (mean, std) used to standardise,
        taken from the training part only.
    """
    train, test = temporal_split(df, train_fraction)
    mean, std = float(train.iloc[:, 1].mean()), float(train.iloc[:, 1].std()) or 1.0
    out = []
    for part in (train, test):
        scaled = part.copy()
        scaled.iloc[:, 1] = (scaled.iloc[:, 1] - mean) / std
        X, y = create_sequences(scaled, seq_length)
        out.append(TensorDataset(torch.from_numpy(X).unsqueeze(-1), torch.from_numpy(y)))  # (N, L) → (N, L, 1)
    return out[0], out[1], (mean, std)


def cloud_datasets(train_transform, test_transform, root: Path | None = None):
    """The bundled 7-class sky pictures (or a user's, checked and unpacked under `root`/train and `root`/test)
    through `torchvision.datasets.ImageFolder`, as in the course (§4.2)."""
    from torchvision.datasets import ImageFolder

    train, test = (CLOUDS_TRAIN, CLOUDS_TEST) if root is None else (Path(root) / "train", Path(root) / "test")
    return ImageFolder(str(train), transform=train_transform), ImageFolder(str(test), transform=test_transform)
