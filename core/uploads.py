"""Users' own data: uploaded CSV files, validated before any of it reaches a model.

Every problem raises `UploadError` with a message meant for the page; nothing is written to disk.
"""
from __future__ import annotations

import io

import numpy as np
import pandas as pd

MAX_BYTES = 10 * 1024 * 1024
MAX_COLUMNS = 200
MIN_ROWS = 20


class UploadError(ValueError):
    """A file the app cannot use, with the reason in words."""


def read_csv(raw: bytes, max_bytes: int = MAX_BYTES, max_columns: int = MAX_COLUMNS) -> pd.DataFrame:
    """Parse an uploaded CSV (UTF-8) into a table of at least MIN_ROWS rows and at least 2 columns."""
    if not raw:
        raise UploadError("The file is empty.")
    if len(raw) > max_bytes:
        raise UploadError(f"The file is {len(raw) / 2**20:.1f} MB; the limit is {max_bytes / 2**20:.0f} MB.")
    if b"\x00" in raw[:4096]:
        raise UploadError("This is not a text CSV file (it contains binary data, or is UTF-16): save it as UTF-8 CSV.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise UploadError(f"The file is not UTF-8 text ({err.reason} at byte {err.start}): save it as UTF-8 CSV.") from None
    header = text.split("\n", 1)[0]
    if header.count(",") + 1 > max_columns:
        raise UploadError(f"The file has {header.count(',') + 1} columns; the limit is {max_columns}.")
    try:
        df = pd.read_csv(io.StringIO(text))
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise UploadError(f"The file could not be read as CSV: {str(err).splitlines()[0]}") from None
    if df.shape[1] < 2:
        raise UploadError("The file needs at least two columns (features and a target, or time and a value).")
    if len(df) < MIN_ROWS:
        raise UploadError(f"The file has {len(df)} data rows; training needs at least {MIN_ROWS}.")
    return df


def _numeric(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    bad = [c for c in columns if not pd.api.types.is_numeric_dtype(df[c])]
    if bad:
        raise UploadError(f"These columns are not numbers: {', '.join(map(str, bad[:5]))}. Remove them or encode them as numbers.")
    values = df[columns].to_numpy(dtype=np.float64)
    if not np.isfinite(values).all():
        rows = int((~np.isfinite(values)).any(axis=1).sum())
        raise UploadError(f"{rows} rows have missing, NaN or infinite values. Fill or remove them first.")
    return df[columns]


def binary_table(df: pd.DataFrame, target: str) -> pd.DataFrame:
    """Numeric features, then the 0/1 target column last (the layout WaterDataset reads)."""
    if target not in df.columns:
        raise UploadError(f"There is no column {target!r}.")
    features = [c for c in df.columns if c != target]
    table = _numeric(df, [*features, target])
    labels = set(np.unique(table[target].to_numpy()))
    if not labels <= {0, 1} or len(labels) < 2:
        raise UploadError(f"The target {target!r} must hold the two classes 0 and 1; it holds {sorted(labels)[:6]}.")
    return table


def series(df: pd.DataFrame, column: str, min_length: int) -> pd.DataFrame:
    """A (time, value) table of one numeric column, long enough for windows of the chosen length."""
    if column not in df.columns:
        raise UploadError(f"There is no column {column!r}.")
    values = _numeric(df, [column])
    needed = 5 * min_length + 10  # the last 20% (the test span) must still hold a whole window
    if len(values) < needed:
        raise UploadError(f"The series has {len(values)} values; windows of {min_length} need at least {needed}.")
    return pd.DataFrame({"t": np.arange(len(values)), "value": values[column].to_numpy(dtype=np.float64)})
