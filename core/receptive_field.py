"""The receptive field of one unit of a CNN: by the recurrence, by following every window back, and
by autograd.

The recurrence (course §5.7, generalised to strides and dilation): r_l = r_{l−1} + d_l(k_l − 1)·j_{l−1},
j_l = j_{l−1}·s_l, with r_0 = j_0 = 1; the course's 1 + L(k − 1) is the case of L stride-1 convs.
Following the windows back gives the exact set of input pixels a unit depends on (clipped to the image,
with the holes that dilation or strides larger than the window leave). Autograd checks both: through the
real stack, ∂y/∂x is zero outside that set; through the same windows with every weight 1, max pools
averaged and activations removed, every path carries a positive gradient, so ∂y/∂x ≠ 0 exactly on it.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from core.checks import Check
from core.conv_arithmetic import pads_for
from core.layer_spec import LayerSpec

@dataclass(frozen=True)
class Field:
    """The receptive field of one unit after a layer, along one axis, in input pixels."""

    size: int | None  # r: pixels one unit sees (None: the whole input, after a Linear)
    jump: int  # input pixels between neighbouring units
    start: int  # where unit 0's field starts (negative: in the padding)
    course: int  # the course's 1 + L(k − 1): 1 + Σ (k − 1) over the conv layers so far


def fields(layers: tuple[LayerSpec, ...]) -> list[Field]:
    """r_out = r_in + (k_eff − 1)·j_in, j_out = j_in·s, start_out = start_in − p·j_in, per layer, with
    k_eff = d(k − 1) + 1. Pointwise layers and Flatten keep the field; a Linear sees the whole input."""
    size, jump, start, course, out = 1, 1, 0, 1, []
    for layer in layers:
        if layer.kind in ("conv", "maxpool", "avgpool"):
            d = layer.d or 1
            k_eff = d * (layer.k - 1) + 1
            before = pads_for(layer.p, layer.k, d)[0] if layer.kind == "conv" else 0
            if size is not None:
                size += (k_eff - 1) * jump
            start -= before * jump
            jump *= layer.s
            course += layer.k - 1 if layer.kind == "conv" else 0
        elif layer.kind == "linear":
            size = None
        out.append(Field(size, jump, start, course))
    return out


def reachable(layers: tuple[LayerSpec, ...], in_sizes: list[int], layer: int, unit: int) -> tuple[int, ...]:
    """Input positions (along one axis) that unit `unit` after `layer` depends on, found by following every
    conv and pool window back to the input: {o·s − p + t·d : o in the set, t = 0..k−1}, inside the input.

    Args:
        in_sizes: the spatial size along this axis of the input of each layer 0..layer.
    """
    positions = {unit}
    for j in range(layer, -1, -1):
        spec = layers[j]
        if spec.kind not in ("conv", "maxpool", "avgpool"):
            continue
        d = spec.d or 1
        before = pads_for(spec.p, spec.k, d)[0] if spec.kind == "conv" else 0
        positions = {o * spec.s - before + t * d for o in positions for t in range(spec.k)}
        positions = {q for q in positions if 0 <= q < in_sizes[j]}
    return tuple(sorted(positions))


def _probe_module(layer: LayerSpec) -> nn.Module:
    """The layer with one channel, every weight 1 and no bias, max pools as average pools and no activations:
    every path from input to output then carries a positive gradient, so ∂y/∂x ≠ 0 exactly where a path exists."""
    if layer.kind == "conv":
        conv = nn.Conv2d(1, 1, layer.k, stride=layer.s, padding=layer.p, dilation=layer.d, bias=False, device="meta",
                         dtype=torch.float64).to_empty(device="cpu")
        with torch.no_grad():
            conv.weight.fill_(1.0)
        return conv
    if layer.kind in ("maxpool", "avgpool"):
        return nn.AvgPool2d(layer.k, layer.s)
    return nn.Identity()


@dataclass(frozen=True)
class Probe:
    """Which input pixels one output unit after `layer` depends on: by the formula and by autograd."""

    layer: int
    unit: tuple[int, int]  # (row, col) of the probed unit, channel 0, near the centre
    grad: torch.Tensor  # (H, W) Σ_c |∂y/∂x| through the real stack (seeded init, eval mode, random input)
    reach: torch.Tensor  # (H, W) bool: ∂y/∂x ≠ 0 through the all-paths probe (see `_probe_module`)
    rows: tuple[int, ...]  # input rows the unit depends on, by `reachable`
    cols: tuple[int, ...]
    box: tuple[int, int, int, int]  # the field by the formula: rows r0..r1, cols c0..c1 (may reach into padding)

    @property
    def mask(self) -> torch.Tensor:
        """(H, W) bool: the formula's set of input pixels."""
        h, w = self.reach.shape
        m = torch.zeros(h, w, dtype=torch.bool)
        m[torch.tensor(self.rows, dtype=torch.long)[:, None], torch.tensor(self.cols, dtype=torch.long)] = True
        return m


def measure(prefix: tuple[LayerSpec, ...], modules: list[nn.Module], x0: torch.Tensor, out_shape: tuple[int, ...],
            in_sizes: list[tuple[int, int]], layer: int) -> Probe:
    """The centre unit's field after the last layer of `prefix`, whose built `modules` take `x0` to `out_shape`.

    Args:
        x0: (1, C, H, W), the input the modules were run on.
        in_sizes: (H, W) of the input of each layer of `prefix`.
    """
    _, _, h_out, w_out = out_shape
    size_h, size_w = x0.shape[2], x0.shape[3]
    unit = (h_out // 2, w_out // 2)
    x = x0.clone().requires_grad_(True)
    nn.Sequential(*modules).eval()(x)[0, 0, unit[0], unit[1]].backward()
    ones = torch.ones(1, 1, size_h, size_w, dtype=torch.float64, requires_grad=True)
    nn.Sequential(*[_probe_module(spec) for spec in prefix])(ones)[0, 0, unit[0], unit[1]].backward()
    f = fields(prefix)[-1]
    r0, c0 = f.start + unit[0] * f.jump, f.start + unit[1] * f.jump
    return Probe(layer, unit, x.grad.abs().sum(dim=1)[0], ones.grad[0, 0] > 0,
                 reachable(prefix, [s[0] for s in in_sizes], layer, unit[0]),
                 reachable(prefix, [s[1] for s in in_sizes], layer, unit[1]),
                 (r0, r0 + f.size - 1, c0, c0 + f.size - 1))


def checks(found: Probe) -> list[Check]:
    """The field by the recurrence and by following the windows back, against ∂y/∂x."""
    out = []
    mask, reach = found.mask, found.reach
    r0, r1, c0, c1 = found.box
    inside = torch.zeros_like(mask)
    inside[max(r0, 0):r1 + 1, max(c0, 0):c1 + 1] = True
    for axis, name, taps, (lo, hi) in ((1, "rows", found.rows, (r0, r1)), (0, "columns", found.cols, (c0, c1))):
        hit = reach.any(dim=axis).nonzero()
        measured = int(hit.max() - hit.min() + 1) if len(hit) else 0
        kept = taps[-1] - taps[0] + 1 if taps else 0  # a unit over padding alone depends on no pixel
        if kept == hi - lo + 1:  # the whole r × r box is in the image, its edges are real pixels
            out.append(Check(f"Field after layer {found.layer + 1}, {name}: r by the recurrence vs ∂y/∂x ≠ 0", hi - lo + 1, measured, 0))
        else:  # clipped by the image, or the box's edge falls on padding or a gap: compare the pixels it keeps
            out.append(Check(f"Field after layer {found.layer + 1}, {name}: extent inside the image vs ∂y/∂x ≠ 0",
                             kept, measured, 0))
    out += [
        Check("Pixels ∂y/∂x ≠ 0 outside the r × r box (recurrence)", 0, int((reach & ~inside).sum()), 0),
        Check("Pixels in the field: windows followed back vs ∂y/∂x ≠ 0 (pixels that differ)",
              int(mask.sum()), int(reach.sum()), 0, error=int((mask != reach).sum())),
        Check("The real stack: pixels outside the field with ∂y/∂x ≠ 0", 0, int(((found.grad != 0) & ~mask).sum()), 0),
    ]
    return out
