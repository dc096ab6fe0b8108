"""The Convolution arithmetic page's math against PyTorch: sizes, parameters, the sliding sums, pooling,
and the backprop identities of §5.10."""
import itertools

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from core import conv_arithmetic as ca
from core import conv_backprop, conv_pooling
from core.rng import generator


def cpu_shape(h, w, k, padding, s, d, c_in=2, c_out=3):
    """nn.Conv2d on the CPU, with real arithmetic: the shape, or PyTorch's error text."""
    try:
        conv = nn.Conv2d(c_in, c_out, k, stride=s, padding=padding, dilation=d)
        with torch.no_grad():
            return tuple(conv(torch.zeros(1, c_in, h, w)).shape), None
    except (RuntimeError, ValueError) as exc:
        return None, str(exc)


GRID = list(itertools.product(range(1, 10), range(1, 6), ca.PADDINGS, (1, 2, 3), (1, 2, 3)))  # H, k, padding, s, d


@pytest.mark.parametrize("k", range(1, 6))
def test_formula_matches_cpu_conv2d_over_a_grid(k):
    """Every (H, W, padding, stride, dilation) for this k: the formula gives PyTorch's size, and a size ≤ 0
    is exactly when PyTorch refuses (padding='same' with a stride refuses whatever the size)."""
    for h, _, padding, s, d in [g for g in GRID if g[1] == k]:
        w = h + 2
        shape, error = cpu_shape(h, w, k, padding, s, d)
        pads = ca.pads_for(padding, k, d)
        expected = (ca.output_size(h, k, pads, s, d), ca.output_size(w, k, pads, s, d))
        if padding == "same" and s > 1:
            assert error == "padding='same' is not supported for strided convolutions"
        elif min(expected) <= 0:
            assert shape is None and "Kernel size can't be greater than actual input size" in error, (h, k, padding, s, d)
        else:
            assert shape == (1, 3, *expected), (h, w, k, padding, s, d)


@settings(max_examples=300, deadline=None)
@given(h=st.integers(1, 40), w=st.integers(1, 40), k=st.integers(1, 11), padding=st.sampled_from(ca.PADDINGS),
       s=st.integers(1, 5), d=st.integers(1, 4))
def test_meta_device_gives_the_cpu_shape_and_error(h, w, k, padding, s, d):
    """The page sizes convolutions on the meta device; it must agree with a real CPU forward pass."""
    shape = ca.conv_shape(h, w, k, padding, s, d, 2, 3)
    cpu, error = cpu_shape(h, w, k, padding, s, d)
    assert shape.pytorch == cpu
    assert shape.error == error
    if cpu is not None:
        assert shape.formula == cpu[2:]
    else:
        assert shape.hint  # every refusal says what to change


@pytest.mark.parametrize("h,k,p,s", [(5, 3, 0, 1), (64, 3, 1, 1), (32, 5, 2, 2), (7, 4, 0, 3), (9, 2, 5, 2), (1, 1, 0, 1)])
def test_course_formula_is_the_d_equals_1_case(h, k, p, s):
    assert ca.course_output_size(h, k, p, s) == ca.output_size(h, k, (p, p), s, 1) == cpu_shape(h, h, k, p, s, 1)[0][2]


def test_course_formula_differs_with_dilation():
    shape = ca.conv_shape(9, 9, 3, 0, 1, 2, 1, 1)
    assert shape.course == (7, 7) and shape.formula == shape.pytorch[2:] == (5, 5)
    assert "d = 1" in ca.course_note(shape)


@pytest.mark.parametrize("k", range(1, 12))
@pytest.mark.parametrize("d", range(1, 5))
def test_same_padding_keeps_the_size_and_splits_like_pytorch(k, d):
    shape = ca.conv_shape(13, 10, k, "same", 1, d, 1, 1)
    assert shape.pytorch[2:] == (13, 10) == shape.formula
    top, bottom = ca.pads_for("same", k, d)
    assert top + bottom == d * (k - 1) and bottom - top in (0, 1)
    ex = ca.sliding_example(13, 10, k, "same", 1, d, seed=k + d)
    assert torch.equal(ex.by_formula, ex.output)  # explicit padding (top, bottom) reproduces padding="same"


def test_same_padding_with_a_stride_is_refused_with_a_way_out():
    shape = ca.conv_shape(8, 8, 3, "same", 2, 1, 3, 8)
    assert shape.pytorch is None and shape.error == "padding='same' is not supported for strided convolutions"
    assert "stride to 1" in shape.hint


def test_empty_output_hint_names_the_sizes():
    shape = ca.conv_shape(2, 2, 3, 0, 1, 1, 3, 8)
    assert "Kernel size can't be greater than actual input size" in shape.error
    assert "at least 3 pixels" in shape.hint and "p ≥ 1" in shape.hint


@pytest.mark.parametrize("c_in,c_out,k", [(1, 1, 1), (3, 32, 3), (32, 64, 3), (64, 7, 11), (5, 2, 4)])
def test_parameter_count_formula(c_in, c_out, k):
    shape = ca.conv_shape(16, 16, k, 0, 1, 1, c_in, c_out)
    assert shape.params_formula == shape.params_pytorch == sum(p.numel() for p in nn.Conv2d(c_in, c_out, k).parameters())


@pytest.mark.parametrize("h,w,k,padding,s,d", [(5, 5, 3, 0, 1, 1), (7, 9, 3, 1, 2, 2), (6, 6, 4, "same", 1, 3),
                                               (12, 5, 5, 5, 3, 1), (3, 3, 1, 0, 1, 4), (20, 20, 11, 5, 5, 1)])
def test_sliding_sums_match_conv2d_at_every_position(h, w, k, padding, s, d):
    ex = ca.sliding_example(h, w, k, padding, s, d, seed=3)
    assert torch.equal(ex.by_formula, ex.output)
    for position in range(ex.output.numel()):
        step = ca.sliding_step(ex, position)
        assert step.hand_sum == step.value == ex.output[step.row, step.col]
        assert len(step.taps) == k * k
        rows = sorted({r for r, _ in step.taps})
        assert all(b - a == d for a, b in zip(rows, rows[1:]))  # dilation gaps
        assert step.taps[0] == (step.row * s - ex.top, step.col * s - ex.left)


def test_pytorch_computes_cross_correlation_not_convolution():
    x = torch.randn(1, 1, 6, 6, generator=generator(0), dtype=torch.float64)
    w = torch.randn(1, 1, 3, 3, generator=generator(1), dtype=torch.float64)
    by_formula = ca.shifted_sums(x[0, 0], w[0, 0], 1, 1)
    assert torch.allclose(F.conv2d(x, w)[0, 0], by_formula, atol=1e-12)
    assert not torch.allclose(F.conv2d(x, w.flip(-2, -1))[0, 0], by_formula, atol=1e-3)


@pytest.mark.parametrize("n,lo,hi", [(5, 0, 2), (266, 0, 2), (266, 260, 265), (266, 100, 140), (30, 3, 3), (1, 0, 0)])
def test_viewport_holds_the_window_and_stays_small(n, lo, hi):
    start, stop = ca.viewport(n, lo, hi)
    assert 0 <= start <= lo <= hi < stop <= n
    assert stop - start == min(n, max(ca.VIEW_CAP, hi - lo + 1))


def test_large_inputs_are_drawn_cropped():
    ex = ca.sliding_example(256, 256, 11, 5, 1, 4)
    step = ca.sliding_step(ex, 30_000)
    assert step.cropped and step.inputs.shape == (41, 41) and step.outputs.shape == (16, 16)
    assert step.hand_sum == step.value


@pytest.mark.parametrize("n", [1, 2, 9, 12, 100, 101, 4096, 70_756])
def test_position_share_round_trips_every_cell(n):
    cells = range(n) if n < 5000 else [0, 1, n // 2, n - 2, n - 1]
    assert all(ca.cell_index(ca.share_of(i, n), n) == i for i in cells)
    assert ca.cell_index(100.0, n) == n - 1 and ca.cell_index(0.0, n) == 0


@pytest.mark.parametrize("h,k,s", [(8, 2, 2), (7, 3, 2), (5, 5, 1), (9, 2, 3), (3, 4, 1), (1, 1, 8)])
def test_pool_sizes_match_the_modules(h, k, s):
    pool = conv_pooling.pool_shape(h, h + 1, 3, k, s)
    if k > h:
        assert pool.max_shape is None and "Output size is too small" in pool.error and pool.hint
        return
    for module, shape in ((nn.MaxPool2d(k, s), pool.max_shape), (nn.AvgPool2d(k, s), pool.avg_shape)):
        assert shape == tuple(module(torch.zeros(1, 3, h, h + 1)).shape) == (1, 3, *pool.formula)


@pytest.mark.parametrize("k,s", [(1, 1), (2, 2), (3, 2), (3, 1), (8, 1), (2, 5)])
def test_pooled_values_follow_the_course_formulas(k, s):
    ex = conv_pooling.pool_example(k, s, seed=5)
    assert torch.equal(ex.max_formula, ex.max_pooled)
    assert torch.allclose(ex.avg_formula, ex.avg_pooled, atol=1e-12)
    assert conv_pooling.pool_example(9, 1) is None


@pytest.mark.parametrize("k,c_in,c_out,seed", [(1, 1, 1, 0), (3, 1, 1, 1), (3, 3, 4, 2), (5, 2, 6, 3), (11, 4, 2, 4)])
def test_backprop_identities(k, c_in, c_out, seed):
    grads = conv_backprop.backprop(k, c_in, c_out, seed)
    assert grads.dx_error < 1e-10 and grads.dw_error < 1e-10
    assert grads.dx_autograd.abs().max() > 0.1  # a real gradient, not zeros


def test_backprop_needs_the_rotation():
    """Without the 180° turn the input gradient is wrong: the test above can fail."""
    g = generator(9)
    x = torch.randn(1, 1, 7, 7, generator=g, dtype=torch.float64, requires_grad=True)
    w = torch.randn(1, 1, 3, 3, generator=g, dtype=torch.float64)
    up = torch.randn(1, 1, 5, 5, generator=g, dtype=torch.float64)
    (F.conv2d(x, w) * up).sum().backward()
    assert (x.grad - F.conv2d(F.pad(up, (2,) * 4), w)).abs().max() > 0.1


@pytest.mark.parametrize("setting", [(5, 5, 3, 0, 1, 1, 3, 32), (64, 64, 3, 1, 1, 1, 3, 32), (9, 7, 4, "same", 1, 3, 2, 5),
                                     (2, 2, 3, 0, 1, 1, 3, 8), (6, 6, 3, "same", 2, 1, 1, 1), (256, 256, 11, 5, 5, 4, 64, 64)])
def test_every_check_passes(setting):
    shape = ca.conv_shape(*setting)
    ex = step = None
    if shape.pytorch is not None:
        ex = ca.sliding_example(*setting[:6])
        step = ca.sliding_step(ex, ex.output.numel() // 2)
    pool = conv_pooling.pool_shape(setting[0], setting[1], setting[6], 2, 2)
    checks = ca.checks(shape, step, ex, pool, conv_pooling.pool_example(2, 2), conv_backprop.backprop(setting[2], 2, 3))
    assert len(checks) >= 5
    assert all(c.passed for c in checks), [c for c in checks if not c.passed]


def test_the_page_leaves_the_global_rng_alone():
    before = torch.random.get_rng_state()
    ca.conv_shape(9, 9, 3, 1, 2, 1, 3, 8)
    ca.sliding_step(ca.sliding_example(9, 9, 3, 1, 2, 1), 3)
    conv_pooling.pool_example(2, 2)
    conv_backprop.backprop(3, 2, 2)
    assert torch.equal(torch.random.get_rng_state(), before)
