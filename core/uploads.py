"""Users' own data: uploaded CSV files, validated before any of it reaches a model.

Every problem raises `UploadError` with a message meant for the page. Only `image_folder_zip` writes, and
only into the temporary folder its caller gives it.
"""
from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, UnidentifiedImageError

MAX_BYTES = 10 * 1024 * 1024
MAX_COLUMNS = 200
MIN_ROWS = 20
MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_IMAGE_PIXELS = 4096 * 4096  # checked from the header, before any pixel is decoded


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


def read_image(raw: bytes, max_bytes: int = MAX_IMAGE_BYTES, max_pixels: int = MAX_IMAGE_PIXELS) -> Image.Image:
    """Decode an uploaded PNG or JPEG into an RGB PIL image, refusing anything else or anything too large.

    The declared size is read from the header first, so an image that claims huge dimensions is refused
    before its pixels are decoded (a decompression bomb never reaches memory).
    """
    if not raw:
        raise UploadError("The file is empty.")
    if len(raw) > max_bytes:
        raise UploadError(f"The image is {len(raw) / 2**20:.1f} MB; the limit is {max_bytes / 2**20:.0f} MB.")
    try:
        with Image.open(io.BytesIO(raw)) as im:
            if im.format not in ("PNG", "JPEG"):
                raise UploadError(f"This is a {im.format} file; upload a PNG or JPEG image.")
            w, h = im.size
            if w * h > max_pixels:
                raise UploadError(f"The image declares {w} × {h} pixels; the limit is {max_pixels:,} pixels in all.")
            im.load()
            return im.convert("RGB")
    except UploadError:
        raise
    except Image.DecompressionBombError:
        raise UploadError(f"The image declares far more than {max_pixels:,} pixels; it was refused before decoding.") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise UploadError("This file is not a PNG or JPEG image the app can read.") from None


# ---------------------------------------------------------------- a zip of images in ImageFolder layout
MAX_ZIP_BYTES = 20 * 1024 * 1024  # the upload itself
MAX_ZIP_FILES = 3000
MAX_UNPACKED_BYTES = 100 * 1024 * 1024  # all members together, as declared and as actually read
MAX_RATIO = 200  # a member that unpacks to more than this many times its packed size is refused (zip bomb)
MAX_CLASSES = 20
MIN_PER_CLASS = 4
IMAGE_SIDE = 64  # every picture is resized to IMAGE_SIDE × IMAGE_SIDE, the course's CNN input
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
_IGNORED = ("__MACOSX/", ".DS_Store", "Thumbs.db", "desktop.ini")


@dataclass(frozen=True)
class ImageSet:
    """A user's images, checked and rewritten as 64×64 RGB PNGs under `root`/train and `root`/test."""

    root: Path
    classes: tuple[str, ...]
    train_counts: tuple[int, ...]
    test_counts: tuple[int, ...]
    notes: tuple[str, ...] = ()


def _safe_parts(name: str) -> tuple[str, ...]:
    """The path components of a zip member, refused if the name could point outside the folder."""
    if "\\" in name or name.startswith("/") or re.match(r"^[A-Za-z]:", name) or "\x00" in name:
        raise UploadError(f"The zip holds an unsafe path ({_short(name)}): absolute paths and backslashes are refused.")
    parts = tuple(p for p in name.split("/") if p not in ("", "."))
    if ".." in parts:
        raise UploadError(f"The zip holds an unsafe path ({_short(name)}): '..' would point outside its folder.")
    return parts


def _short(name: str) -> str:
    clean = "".join(ch for ch in name if ch.isprintable()).replace("`", "'")
    return f"`{clean[:60]}{'…' if len(clean) > 60 else ''}`"


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int) -> bytes:
    """A member's bytes, read in chunks and never more than declared or than the remaining budget."""
    limit = min(info.file_size, budget)
    chunks, total = [], 0
    with archive.open(info) as stream:
        while chunk := stream.read(1 << 16):
            total += len(chunk)
            if total > limit:
                raise UploadError("The zip unpacks to more than it declares or than the limit "
                                  f"({MAX_UNPACKED_BYTES // 2**20} MB): it looks like a zip bomb and was refused.")
            chunks.append(chunk)
    return b"".join(chunks)


def image_folder_zip(raw: bytes, dest: Path, seed: int = 0, test_fraction: float = 0.25) -> ImageSet:
    """Check an uploaded zip of pictures in ImageFolder layout and write them, resized, under `dest`.

    Accepted layouts: `train/<class>/*` and `test/<class>/*`, or `<class>/*` (then a seeded quarter of each
    class is held out for testing), each optionally inside one top folder. `dest` must be an empty
    temporary folder the caller owns; nothing is written anywhere else. Every refusal is an UploadError.
    """
    if not raw:
        raise UploadError("The file is empty.")
    if len(raw) > MAX_ZIP_BYTES:
        raise UploadError(f"The zip is {len(raw) / 2**20:.1f} MB; the limit is {MAX_ZIP_BYTES / 2**20:.0f} MB.")
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError):
        raise UploadError("This is not a zip file the app can read.") from None
    files = [m for m in members if not m.is_dir() and not any(s in m.filename for s in _IGNORED)
             and not m.filename.rsplit("/", 1)[-1].startswith(".")]
    if not files:
        raise UploadError("The zip holds no files.")
    if len(members) > MAX_ZIP_FILES:
        raise UploadError(f"The zip holds {len(members)} entries; the limit is {MAX_ZIP_FILES}.")
    declared = sum(m.file_size for m in members)
    if declared > MAX_UNPACKED_BYTES:
        raise UploadError(f"The zip unpacks to {declared / 2**20:.0f} MB; the limit is {MAX_UNPACKED_BYTES // 2**20} MB.")
    for m in members:
        _safe_parts(m.filename)
        if (m.external_attr >> 16) & 0o170000 == 0o120000:
            raise UploadError(f"The zip holds a symbolic link ({_short(m.filename)}); links are refused.")
        if m.file_size > MAX_RATIO * max(m.compress_size, 1) and m.file_size > 1 << 20:
            raise UploadError(f"{_short(m.filename)} unpacks to {m.file_size / max(m.compress_size, 1):.0f} times its packed size: "
                              "it looks like a zip bomb and was refused.")
    paths = {m: _safe_parts(m.filename) for m in files}
    # Drop one top folder that holds everything (a zipped folder).
    tops = {p[0] for p in paths.values()}
    if len(tops) == 1 and all(len(p) >= 3 for p in paths.values()):
        paths = {m: p[1:] for m, p in paths.items()}
    split_layout = all(len(p) == 3 and p[0] in ("train", "test") for p in paths.values())
    if not split_layout and not all(len(p) == 2 for p in paths.values()):
        odd = next(p for p in paths.values() if len(p) != 2)
        raise UploadError("The zip is not in ImageFolder layout: put each class's pictures in a folder named after the class "
                          f"(cat/1.png, dog/2.png), or under train/ and test/. Found {_short('/'.join(odd))}.")
    for m, p in paths.items():
        if not p[-1].lower().endswith(_IMAGE_SUFFIXES):
            raise UploadError(f"{_short(m.filename)} is not a PNG or JPEG picture; the zip may hold only pictures.")
    by_class: dict[tuple[str, str], list[zipfile.ZipInfo]] = {}
    for m, p in paths.items():
        part, cls = (p[0], p[1]) if split_layout else ("all", p[0])
        by_class.setdefault((part, cls), []).append(m)
    classes = sorted({cls for _, cls in by_class})
    if len(classes) < 2:
        raise UploadError(f"The zip holds {len(classes)} class; a classifier needs at least two folders of pictures.")
    if len(classes) > MAX_CLASSES:
        raise UploadError(f"The zip holds {len(classes)} classes; the limit is {MAX_CLASSES}.")
    if split_layout and {cls for part, cls in by_class if part == "test"} != set(classes):
        raise UploadError("train/ and test/ must hold the same class folders.")
    budget = MAX_UNPACKED_BYTES
    g = np.random.default_rng(seed)
    counts: dict[str, dict[str, int]] = {"train": {}, "test": {}}
    for (part, cls), items in sorted(by_class.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        items = sorted(items, key=lambda m: m.filename)
        if split_layout:
            parts = [part] * len(items)
        else:
            if len(items) < MIN_PER_CLASS:
                raise UploadError(f"The class {_short(cls)} has {len(items)} pictures; each class needs at least {MIN_PER_CLASS}.")
            n_test = max(1, int(round(len(items) * test_fraction)))
            held = set(g.permutation(len(items))[:n_test].tolist())
            parts = ["test" if i in held else "train" for i in range(len(items))]
        for i, (m, part_i) in enumerate(zip(items, parts)):
            data = _read_member(archive, m, budget)
            budget -= len(data)
            try:
                image = read_image(data)
            except UploadError as err:
                raise UploadError(f"{_short(m.filename)}: {err}") from None
            folder = dest / part_i / f"class_{classes.index(cls):02d}"
            folder.mkdir(parents=True, exist_ok=True)
            image.resize((IMAGE_SIDE, IMAGE_SIDE), Image.Resampling.BILINEAR).save(folder / f"{i:05d}.png")
            counts[part_i][cls] = counts[part_i].get(cls, 0) + 1
    if any(counts["train"].get(c, 0) < 2 for c in classes):
        raise UploadError("Every class needs at least two training pictures.")
    notes = ("Pictures were resized to 64 × 64 RGB, the course's CNN input.",)
    return ImageSet(dest, tuple(classes), tuple(counts["train"].get(c, 0) for c in classes),
                    tuple(counts["test"].get(c, 0) for c in classes), notes)
