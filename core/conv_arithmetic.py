"""Convolution arithmetic: output sizes, parameter counts, the sliding window, pooling, and backprop.

Pooling is in core.conv_pooling, backprop through a convolution in core.conv_backprop.

Every size the page shows is computed twice: by the formula in PyTorch's documentation (which is the
course's formula §5.3 when the dilation d is 1) and by running the real `nn.Conv2d` / `nn.MaxPool2d` /
`nn.AvgPool2d`. Shapes are taken on PyTorch's meta device: the same modules, the same shape checks and
error messages as on the CPU, without the arithmetic, so a 64-channel 256 × 256 input answers instantly
(tests/core/test_conv_arithmetic.py runs both devices over a grid and compares them). Values (the
sliding-window example, pooled grids, gradients) are computed on the CPU in float64.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

from core.checks import Check
from core.rng import generator

if TYPE_CHECKING:  # the page's other parts, which import this module
    from core.conv_backprop import Backprop
    from core.conv_pooling import PoolExample, PoolShape

PADDINGS: tuple[int | str, ...] = (0, 1, 2, 3, 4, 5, "same")
VIEW_CAP = 16  # the sliding-window drawing shows at most this many cells per side (more if the kernel spans more)
_F64 = torch.float64


def pads_for(padding: int | str, k: int, d: int = 1) -> tuple[int, int]:
    """Zeros added before and after one spatial axis, as `nn.Conv2d` adds them.

    A number p pads p on both sides. "same" pads d(k − 1) in total, ⌊total/2⌋ before and the rest
    after (PyTorch puts the odd pixel at the bottom/right).
    """
    if padding == "same":
        total = d * (k - 1)
        return total // 2, total - total // 2
    return int(padding), int(padding)


def output_size(n: int, k: int, pads: tuple[int, int], s: int = 1, d: int = 1) -> int:
    """⌊(n + p_before + p_after − d(k − 1) − 1)/s⌋ + 1, PyTorch's formula; ≤ 0 means an empty output."""
    return math.floor((n + pads[0] + pads[1] - d * (k - 1) - 1) / s) + 1


def course_output_size(n: int, k: int, p: int, s: int = 1) -> int:
    """⌊(n + 2p − k)/s⌋ + 1, the course's formula (§5.3): PyTorch's with d = 1."""
    return math.floor((n + 2 * p - k) / s) + 1


def course_padding(padding: int | str, k: int) -> int:
    """The p the course uses: the number itself, or ⌊k/2⌋ for "same" (§5.3)."""
    return k // 2 if padding == "same" else int(padding)


@dataclass(frozen=True)
class ConvShape:
    """One nn.Conv2d setting: the formula's output size beside the real module's."""

    h: int  # input height
    w: int  # input width
    k: int  # kernel size
    padding: int | str  # 0..5 or "same"
    s: int  # stride
    d: int  # dilation
    c_in: int
    c_out: int
    pads_h: tuple[int, int]  # zeros added (top, bottom)
    pads_w: tuple[int, int]  # zeros added (left, right)
    formula: tuple[int, int]  # (H_out, W_out) by PyTorch's formula
    course: tuple[int, int]  # (H_out, W_out) by the course's formula (d = 1)
    pytorch: tuple[int, ...] | None  # nn.Conv2d(...)(x).shape for x of shape (1, C_in, H, W); None on error
    error: str | None  # PyTorch's error text when it refuses
    hint: str | None  # what to change, when it refuses
    params_formula: int  # C_out·C_in·k·k + C_out
    params_pytorch: int  # sum(p.numel() for p in nn.Conv2d(C_in, C_out, k).parameters())

    @property
    def extent(self) -> int:
        """Pixels one kernel window spans along an axis: d(k − 1) + 1."""
        return self.d * (self.k - 1) + 1


def empty_output_hint(h: int, w: int, k: int, padding: int | str, s: int, d: int) -> str:
    """What to change when nn.Conv2d refuses a setting: padding='same' with a stride, or an empty output."""
    if padding == "same" and s > 1:
        return ("PyTorch's padding='same' keeps the size only with stride 1. Set the stride to 1, or pick a number: "
                f"p = {course_padding('same', k)} (⌊k/2⌋) with stride {s} gives about H/{s}.")
    extent = d * (k - 1) + 1
    p = int(padding)
    short = min(h, w)
    need_p = math.ceil((extent - short) / 2)
    return (f"The kernel spans d(k − 1) + 1 = {extent} pixels, but the padded input is only {short} + 2·{p} = {short + 2 * p}. "
            f"Use an input of at least {max(1, extent - 2 * p)} pixels, a smaller kernel or dilation, or padding p ≥ {need_p}.")


def conv_shape(h: int, w: int, k: int, padding: int | str, s: int, d: int, c_in: int, c_out: int) -> ConvShape:
    """The output size of `nn.Conv2d(c_in, c_out, k, s, padding, d)` on a (1, c_in, h, w) input, both ways.

    Returns:
        ConvShape; `pytorch` is None and `error` holds PyTorch's message when the module or its forward
        pass refuses (an empty output, or padding="same" with a stride above 1).
    """
    pads_h, pads_w = pads_for(padding, k, d), pads_for(padding, k, d)
    p_course = course_padding(padding, k)
    shape, error, hint = None, None, None
    try:
        conv = nn.Conv2d(c_in, c_out, k, stride=s, padding=padding, dilation=d, device="meta")
        shape = tuple(conv(torch.empty(1, c_in, h, w, device="meta")).shape)
    except (RuntimeError, ValueError) as exc:
        error, hint = str(exc), empty_output_hint(h, w, k, padding, s, d)
    params = sum(p.numel() for p in nn.Conv2d(c_in, c_out, k, device="meta").parameters())
    return ConvShape(
        h, w, k, padding, s, d, c_in, c_out, pads_h, pads_w,
        formula=(output_size(h, k, pads_h, s, d), output_size(w, k, pads_w, s, d)),
        course=(course_output_size(h, k, p_course, s), course_output_size(w, k, p_course, s)),
        pytorch=shape, error=error, hint=hint,
        params_formula=c_out * c_in * k * k + c_out, params_pytorch=params,
    )


def shifted_sums(padded: torch.Tensor, kernel: torch.Tensor, s: int, d: int) -> torch.Tensor:
    """The course's formula (§5.2) with stride and dilation, as k² shifted, weighted copies of the input:
    y[i, j] = Σ_m Σ_n x_pad[i·s + m·d, j·s + n·d] · w[m, n]. Cross-correlation: the kernel is not flipped.

    Args:
        padded: (Hp, Wp), the input with its zero padding already added.
        kernel: (k, k).
    Returns:
        (H_out, W_out).
    """
    k = kernel.shape[0]
    h_out = (padded.shape[0] - d * (k - 1) - 1) // s + 1
    w_out = (padded.shape[1] - d * (k - 1) - 1) // s + 1
    out = torch.zeros(h_out, w_out, dtype=padded.dtype)
    for m in range(k):
        for n in range(k):
            rows = slice(m * d, m * d + s * (h_out - 1) + 1, s)
            cols = slice(n * d, n * d + s * (w_out - 1) + 1, s)
            out += kernel[m, n] * padded[rows, cols]
    return out


@dataclass(frozen=True)
class SlidingExample:
    """A one-channel example of the setting: small integer inputs and kernel, so the sums can be followed."""

    x: torch.Tensor  # (H, W) integers 0..9
    kernel: torch.Tensor  # (k, k) integers −1..1
    padded: torch.Tensor  # (H + pads, W + pads), zeros around x
    top: int  # zero rows above x
    left: int  # zero columns left of x
    s: int
    d: int
    output: torch.Tensor  # (H_out, W_out) from F.conv2d
    by_formula: torch.Tensor  # (H_out, W_out) from `shifted_sums`


def sliding_example(h: int, w: int, k: int, padding: int | str, s: int, d: int, seed: int = 0) -> SlidingExample:
    """Integer input and kernel drawn from `seed`, convolved by F.conv2d and by the course's formula.

    Raises:
        RuntimeError / ValueError: PyTorch's own, when the setting has no output (see `conv_shape`).
    """
    g = generator(seed)
    x = torch.randint(0, 10, (h, w), generator=g).to(_F64)
    kernel = torch.randint(-1, 2, (k, k), generator=g).to(_F64)
    output = F.conv2d(x[None, None], kernel[None, None], stride=s, padding=padding, dilation=d)[0, 0]
    (top, bottom), (left, right) = pads_for(padding, k, d), pads_for(padding, k, d)
    padded = F.pad(x, (left, right, top, bottom))
    return SlidingExample(x, kernel, padded, top, left, s, d, output, shifted_sums(padded, kernel, s, d))


def viewport(n: int, lo: int, hi: int, cap: int = VIEW_CAP) -> tuple[int, int]:
    """A [start, stop) range of at most max(cap, hi − lo + 1) of n cells that contains [lo, hi], centred on it."""
    size = min(n, max(cap, hi - lo + 1))
    start = min(max(0, (lo + hi + 1) // 2 - size // 2), n - size)
    return start, start + size


@dataclass(frozen=True)
class SlidingStep:
    """What the sliding-window drawing shows at one position, cropped to a readable viewport."""

    position: int  # 0 .. H_out·W_out − 1, row by row
    row: int  # output cell being written
    col: int
    value: float  # y[row, col] from F.conv2d
    hand_sum: float  # Σ x_pad · w over the k² taps
    terms: tuple[tuple[float, float], ...]  # (x, w) per tap, row by row
    taps: tuple[tuple[int, int], ...]  # tap positions in input coordinates (padding is < 0 or ≥ H)
    in_rows: tuple[int, int]  # [start, stop) of the padded input shown, in input coordinates
    in_cols: tuple[int, int]
    inputs: torch.Tensor  # the shown part of the padded input
    is_pad: torch.Tensor  # bool, same shape: the cell is padding
    out_rows: tuple[int, int]  # [start, stop) of the output shown
    out_cols: tuple[int, int]
    outputs: torch.Tensor  # the shown part of the output; NaN where not written yet
    padded_shape: tuple[int, int]
    output_shape: tuple[int, int]

    @property
    def cropped(self) -> bool:
        return (self.inputs.shape != self.padded_shape) or (self.outputs.shape != self.output_shape)


def sliding_step(ex: SlidingExample, position: int, cap: int = VIEW_CAP) -> SlidingStep:
    """The window at `position` (row by row over the output), the taps it reads, and the cell it writes."""
    h_out, w_out = ex.output.shape
    position = min(max(0, position), h_out * w_out - 1)
    row, col = divmod(position, w_out)
    k = ex.kernel.shape[0]
    tap_pad = [(row * ex.s + m * ex.d, col * ex.s + n * ex.d) for m in range(k) for n in range(k)]
    terms = tuple((float(ex.padded[r, c]), float(ex.kernel[m, n])) for (r, c), (m, n) in
                  zip(tap_pad, [(m, n) for m in range(k) for n in range(k)]))
    r0, c0 = tap_pad[0]
    r1, c1 = tap_pad[-1]
    hp, wp = ex.padded.shape
    rs, re = viewport(hp, r0, r1, cap)
    cs, ce = viewport(wp, c0, c1, cap)
    ors, ore = viewport(h_out, row, row, cap)
    ocs, oce = viewport(w_out, col, col, cap)
    written = torch.arange(h_out * w_out).reshape(h_out, w_out) <= position
    outputs = torch.where(written, ex.output, torch.full_like(ex.output, float("nan")))
    is_pad = torch.ones(hp, wp, dtype=torch.bool)
    is_pad[ex.top:ex.top + ex.x.shape[0], ex.left:ex.left + ex.x.shape[1]] = False
    return SlidingStep(
        position, row, col, float(ex.output[row, col]), sum(a * b for a, b in terms), terms,
        tuple((r - ex.top, c - ex.left) for r, c in tap_pad),
        (rs - ex.top, re - ex.top), (cs - ex.left, ce - ex.left),
        ex.padded[rs:re, cs:ce], is_pad[rs:re, cs:ce],
        (ors, ore), (ocs, oce), outputs[ors:ore, ocs:oce], (hp, wp), (h_out, w_out),
    )


def checks(shape: ConvShape, step: SlidingStep | None, ex: SlidingExample | None, pool: PoolShape,
           pooled: PoolExample | None, grads: Backprop) -> list[Check]:
    """The conv page's checks: sizes, parameters, the sliding sums, pooling and the backprop identities."""
    out = []
    if shape.pytorch is not None:
        out += [Check("H_out: formula vs nn.Conv2d", shape.formula[0], shape.pytorch[2], 0),
                Check("W_out: formula vs nn.Conv2d", shape.formula[1], shape.pytorch[3], 0)]
        if shape.d == 1 and shape.padding != "same":
            out.append(Check("H_out: the course's formula (d = 1) vs nn.Conv2d", shape.course[0], shape.pytorch[2], 0))
    else:
        empty = float(min(shape.formula) <= 0 or (shape.padding == "same" and shape.s > 1))
        out.append(Check("No output: the formula says so (1 = yes) and nn.Conv2d refuses (1 = yes)", empty, 1.0, 0))
    out.append(Check("Parameters: C_out·C_in·k·k + C_out vs sum(p.numel())", shape.params_formula, shape.params_pytorch, 0))
    if step is not None and ex is not None:
        out.append(Check(f"Output ({step.row}, {step.col}): Σ x·w over the window vs F.conv2d", step.hand_sum, step.value, 1e-9))
        out.append(Check(f"All {ex.output.numel()} outputs: the course's sum (no kernel flip) vs F.conv2d (max |difference|)",
                         float(ex.by_formula.abs().max()), float(ex.output.abs().max()), 1e-9,
                         error=float((ex.by_formula - ex.output).abs().max())))
    if pool.max_shape is not None:
        for name, got in (("MaxPool2d", pool.max_shape), ("AvgPool2d", pool.avg_shape)):
            out += [Check(f"{name} H_out: ⌊(H − k)/s⌋ + 1 vs nn.{name}", pool.formula[0], got[2], 0),
                    Check(f"{name} W_out: ⌊(W − k)/s⌋ + 1 vs nn.{name}", pool.formula[1], got[3], 0)]
    if pooled is not None:
        out += [Check("Max pooling of the example grid: max over each window vs nn.MaxPool2d (max |difference|)",
                      float(pooled.max_formula.max()), float(pooled.max_pooled.max()), 1e-12,
                      error=float((pooled.max_formula - pooled.max_pooled).abs().max())),
                Check("Average pooling of the example grid: (1/k²) Σ over each window vs nn.AvgPool2d (max |difference|)",
                      float(pooled.avg_formula.max()), float(pooled.avg_pooled.max()), 1e-12,
                      error=float((pooled.avg_formula - pooled.avg_pooled).abs().max()))]
    out += [Check("∂L/∂X: autograd vs full convolution of ∂L/∂Y with rot180(W) (max |difference|)",
                  float(grads.dx_formula.abs().max()), float(grads.dx_autograd.abs().max()), 1e-10, error=grads.dx_error),
            Check("∂L/∂W: autograd vs X correlated with ∂L/∂Y (max |difference|)",
                  float(grads.dw_formula.abs().max()), float(grads.dw_autograd.abs().max()), 1e-10, error=grads.dw_error)]
    return out


def course_note(shape: ConvShape) -> str:
    """How the course's formula (§5.3, no dilation) relates to PyTorch's for this setting."""
    c_h, c_w = shape.course
    if shape.padding == "same":
        p = course_padding("same", shape.k)
        total = shape.d * (shape.k - 1)
        text = (f"The course's \"same\" convolution uses p = ⌊k/2⌋ = {p} with s = 1, and its formula gives {c_h} × {c_w}. "
                f"PyTorch's padding='same' adds d(k − 1) = {total} zeros in total, {total // 2} before and {total - total // 2} after")
        return text + (" (the odd one at the bottom and right)." if total % 2 else ".") + (
            " For an even k the course's p = ⌊k/2⌋ does not keep the size." if shape.k % 2 == 0 else "")
    if shape.d == 1:
        return (f"The course's formula ⌊(H + 2p − k)/s⌋ + 1 is this one with d = 1, and gives the same {c_h} × {c_w}.")
    return (f"The course's formula ⌊(H + 2p − k)/s⌋ + 1 is the case d = 1: it would give {c_h} × {c_w}. With dilation d = {shape.d} "
            f"the kernel spans d(k − 1) + 1 = {shape.extent} pixels, which PyTorch's formula accounts for.")


def describe_step(step: SlidingStep, k: int) -> str:
    """The sum behind the cell being written, in words and numbers (every term when k ≤ 3)."""
    terms = " + ".join(f"{x:g}·{w:g}" if w >= 0 else f"{x:g}·({w:g})" for x, w in step.terms)
    sum_text = f"{terms} = {step.hand_sum:g}" if k <= 3 else f"{step.hand_sum:g} (sum of {k * k} products)"
    return (f"Output ({step.row}, {step.col}) = Σ x·w over the {k * k} outlined cells = {sum_text}; "
            f"F.conv2d gives {step.value:g}.")


def cell_index(share: float, n: int) -> int:
    """The output cell (0 .. n − 1, row by row) at `share` percent of the way through the output."""
    return 0 if n <= 1 else min(n - 1, max(0, round(share / 100 * (n - 1))))


def share_of(index: int, n: int) -> float:
    """The percentage of the way through n output cells at which cell `index` is written."""
    return 0.0 if n <= 1 else 100 * index / (n - 1)
