"""The bundled data: read by the course's own patterns, and reproducible from core/generate_data.py."""
import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

from core import data, generate_data


def course_create_sequences(df, seq_length):
    """The course's loop (§7.2), verbatim in substance."""
    xs, ys = [], []
    for i in range(len(df) - seq_length):
        xs.append(df.iloc[i:(i + seq_length), 1].values)
        ys.append(df.iloc[i + seq_length, 1])
    return np.array(xs), np.array(ys)


@pytest.mark.parametrize("seq_length", [1, 4, 96])
def test_create_sequences_matches_the_course_loop(seq_length):
    df = data.electricity_frame().iloc[:500]
    X, y = data.create_sequences(df, seq_length)
    X_ref, y_ref = course_create_sequences(df, seq_length)
    assert X.shape == (500 - seq_length, seq_length) and y.shape == (500 - seq_length,)
    np.testing.assert_allclose(X, X_ref, rtol=1e-6)
    np.testing.assert_allclose(y, y_ref, rtol=1e-6)


def test_create_sequences_refuses_a_window_longer_than_the_series():
    with pytest.raises(ValueError, match="needs more than"):
        data.create_sequences(data.electricity_frame().iloc[:10], 10)


def test_water_dataset_follows_the_course_pattern():
    ds = data.WaterDataset(data.WATER_TRAIN)
    features, label = ds[3]
    assert len(ds) == 1800 and features.shape == (9,) and label in (0.0, 1.0)
    x, y = next(iter(DataLoader(ds, batch_size=32)))
    assert x.shape == (32, 9) and x.dtype == torch.float32 and y.shape == (32,)
    assert ds.columns[:-1] == list(generate_data.WATER_FEATURES) and ds.columns[-1] == "Potability"


def test_sequence_datasets_are_split_in_time_and_shaped_for_an_rnn():
    train, test, (mean, std) = data.sequence_datasets(data.electricity_frame(), 96)
    x, y = train[0]
    assert x.shape == (96, 1) and y.shape == ()
    assert len(train) + len(test) == 8064 - 2 * 96
    assert abs(float(train.tensors[1].mean())) < 0.05  # standardised with the training part's statistics


def test_cloud_images_load_through_imagefolder():
    from torchvision import transforms

    train, test = data.cloud_datasets(transforms.ToTensor(), transforms.ToTensor())
    assert train.classes == sorted(generate_data.CLOUD_CLASSES) and len(train.classes) == 7
    img, label = train[0]
    assert img.shape == (3, 64, 64) and 0.0 <= img.min() and img.max() <= 1.0
    assert len(train) == 7 * 48 and len(test) == 7 * 16


def test_bundled_files_are_what_the_generator_makes():
    train, test = data.water_frames()
    regenerated = generate_data.water_quality()
    pd.testing.assert_frame_equal(pd.concat([train, test], ignore_index=True), regenerated, check_exact=False, rtol=1e-6)
    series = generate_data.electricity()
    np.testing.assert_allclose(data.electricity_frame().consumption.to_numpy(), series.consumption.to_numpy(), atol=1e-3)
    kind = generate_data.CLOUD_CLASSES[3]
    img = generate_data.cloud_image(kind, seed=1000 * 3 + 5)
    saved = np.asarray(Image.open(data.CLOUDS_TRAIN / kind / f"{kind}_005.png"), dtype=np.float32) / 255
    assert np.abs(saved - img.permute(1, 2, 0).numpy()).max() <= 1 / 255 + 1e-6


def test_water_labels_are_learnable_but_not_trivial():
    train, _ = data.water_frames()
    assert 0.3 < train.Potability.mean() < 0.55
    best_single = max(((train[c] > train[c].median()) == train.Potability).mean() for c in train.columns[:-1])
    assert best_single < 0.7  # no single threshold gives the answer away
