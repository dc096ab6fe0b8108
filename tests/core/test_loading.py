"""The Datasets & DataLoader page's logic against real PyTorch: batch counts against len(DataLoader), the batch
picture against a plain DataLoader iterated over the course's WaterDataset, the shuffle order redone from the
generator, and one sample through __getitem__ and default_collate."""
import itertools
import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.utils.data import DataLoader

from core import charts, data, loading

GRID = list(itertools.product([1, 2, 7, 50, 64, 1800], [1, 3, 8, 64, 128], [False, True]))


def validated(fig: go.Figure) -> go.Figure:
    return go.Figure(fig.to_dict())  # raises on any invalid property


@pytest.mark.parametrize("n, batch_size, drop_last", GRID)
def test_batch_count_is_the_length_of_a_real_dataloader(n, batch_size, drop_last):
    dl = DataLoader(loading.subset(n), batch_size=batch_size, drop_last=drop_last)
    expected = n // batch_size if drop_last else math.ceil(n / batch_size)
    assert loading.batch_count(n, batch_size, drop_last) == expected == len(dl) == sum(1 for _ in dl)


@pytest.mark.parametrize("n, batch_size, drop_last", GRID[::3])
@pytest.mark.parametrize("shuffle", [False, True])
def test_the_picture_is_what_a_plain_dataloader_yields(n, batch_size, drop_last, shuffle):
    """Iterate a DataLoader over the WaterDataset itself (no index wrapper): its x batches are the CSV rows of
    the page's indices, batch by batch, epoch after epoch."""
    v = loading.loading(n, batch_size, shuffle, drop_last, seed=11)
    plain = DataLoader(loading.subset(n), batch_size=batch_size, shuffle=shuffle, drop_last=drop_last,
                       generator=torch.Generator().manual_seed(11))
    rows = torch.from_numpy(pd.read_csv(data.WATER_TRAIN).to_numpy(dtype=np.float32))
    for epoch in range(loading.EPOCHS):
        batches = list(plain)
        assert len(batches) == len(v.epochs[epoch]) == v.loader_len
        for (x, y), indices in zip(batches, v.epochs[epoch]):
            assert torch.equal(x, rows[list(indices), :-1]) and torch.equal(y, rows[list(indices), -1])


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 300), batch_size=st.integers(1, 128), shuffle=st.booleans(), drop_last=st.booleans(),
       seed=st.integers(0, 9999))
def test_orders_redone_from_the_generator_match_the_dataloader(n, batch_size, shuffle, drop_last, seed):
    v = loading.loading(n, batch_size, shuffle, drop_last, seed)
    kept = v.formula_batches * batch_size if drop_last else n
    for epoch, batches in enumerate(v.epochs):
        flat = [i for b in batches for i in b]
        assert flat == list(v.by_hand[epoch][:kept])
        assert sorted(v.by_hand[epoch]) == list(range(n))  # a permutation of the N samples
        assert len(v.dropped(epoch)) == v.dropped_count == (n % batch_size if drop_last else 0)
        assert [len(b) for b in batches] == [batch_size] * (v.formula_batches - 1) + [v.last_batch] * (v.formula_batches > 0)
    s = loading.sample(min(n - 1, 5), v)
    assert all(c.passed for c in loading.checks(v, s)), [c for c in loading.checks(v, s) if not c.passed]


def test_a_randperm_that_ignores_the_discarded_draws_would_be_wrong():
    """Guards the by-hand order against a simpler story: randperm twice from a fresh generator."""
    v = loading.loading(20, 4, True, False, seed=0)
    g = torch.Generator().manual_seed(0)
    naive = [torch.randperm(20, generator=g).tolist() for _ in range(2)]
    assert [i for b in v.epochs[0] for i in b] != naive[0]
    assert [i for b in v.epochs[1] for i in b] != naive[1]


def test_shuffle_reorders_each_epoch_and_the_seed_repeats_it():
    a, b = loading.loading(100, 10, True, False, 3), loading.loading(100, 10, True, False, 3)
    assert a.epochs == b.epochs and a.epochs[0] != a.epochs[1]
    assert loading.loading(100, 10, True, False, 4).epochs[0] != a.epochs[0]
    fixed = loading.loading(100, 10, False, False, 3)
    assert fixed.epochs[0] == fixed.epochs[1] == tuple(tuple(range(k, k + 10)) for k in range(0, 100, 10))


def test_getitem_returns_the_csv_row_and_the_batch_carries_it_as_a_tensor():
    frame = pd.read_csv(data.WATER_TRAIN)
    v = loading.loading(40, 6, True, False, 2)
    s = loading.sample(17, v)
    np.testing.assert_array_equal(s.features, frame.iloc[17, :-1].to_numpy(dtype=np.float32))
    assert s.label == frame.iloc[17, -1] and s.columns == tuple(frame.columns)
    e, b, row = v.where(17)
    x, y = v.yielded(e, b, row)
    assert x.dtype == torch.float32 and x.shape == (9,) and torch.equal(x, torch.from_numpy(s.features))
    assert f"x_batch[{row}] = tensor(" in s.tensor_repr and "dtype=float32" in s.getitem_repr
    assert s.batch_shapes.startswith(f"x_batch: ({len(v.epochs[e][b])}, 9) torch.float32")


def test_a_sample_every_epoch_dropped_still_shows_its_tensors():
    v = loading.loading(10, 4, False, True, 0)  # samples 8 and 9 never make a full batch
    assert v.where(9) is None and v.dropped(0) == v.dropped(1) == (8, 9)
    s = loading.sample(9, v)
    assert "dropped" in s.source and s.tensor_repr.startswith("x_batch[0] = tensor(")


def test_no_batch_at_all_when_drop_last_meets_a_small_subset():
    v = loading.loading(5, 8, True, True, 0)
    assert v.loader_len == v.formula_batches == 0 and v.epochs == ((), ())
    assert all(c.passed for c in loading.checks(v, loading.sample(2, v)))


def test_indices_out_of_range_raise_in_pytorch_and_sizes_are_bounded():
    assert loading.index_error(10, 9) is None
    assert loading.index_error(10, 10).startswith("IndexError")
    with pytest.raises(ValueError):
        loading.subset(0)
    with pytest.raises(ValueError):
        loading.subset(loading.MAX_N + 1)
    assert len(loading.subset(loading.MAX_N)) == len(data.WaterDataset(data.WATER_TRAIN)) == loading.MAX_N


def test_the_course_float64_data_is_refused_by_a_float32_linear():
    message = loading.float64_error()
    assert message.startswith("RuntimeError") and "Double" in message and "Float" in message


def test_batch_assignment_is_valid_and_marks_drops_and_the_sample():
    v = loading.loading(30, 8, True, True, 1)
    dropped = [v.dropped(e) for e in range(2)]
    fig = charts.batch_assignment(v.epochs, dropped, 30, 8, highlight=dropped[0][0])
    validated(fig)
    heatmaps = [t for t in fig.data if t.type == "heatmap"]
    assert len(heatmaps) == 4  # batches and the dropped column, per epoch
    assert list(heatmaps[0].z[:, 0]) == list(v.epochs[0][0])
    assert list(heatmaps[0].x) == [0, 1, 2] and fig.layout.xaxis.ticktext[-1] == "dropped"
    ring = [t for t in fig.data if t.type == "scatter"]
    assert ring and ring[0].x[0] == heatmaps[1].x[0] == fig.layout.xaxis.tickvals[-1]  # the dropped column
    assert heatmaps[0].texttemplate  # small grids carry the index in each cell


def test_batch_assignment_of_a_large_grid_has_no_cell_text():
    v = loading.loading(1800, 64, False, False, 0)
    fig = charts.batch_assignment(v.epochs, [(), ()], 1800, 64)
    validated(fig)
    assert len(fig.data) == 2 and not fig.data[0].texttemplate
    assert np.isnan(fig.data[0].z[-1, -1])  # the short last batch: 1800 = 28·64 + 8
