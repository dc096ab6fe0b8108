"""Backpropagation through a convolution (course §5.10): ∂L/∂X and ∂L/∂W by autograd beside the
course's identities, the full convolution with the rotated kernel and the correlation with ∂L/∂Y."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from core.rng import generator

_F64 = torch.float64


@dataclass(frozen=True)
class Backprop:
    """∂L/∂X and ∂L/∂W of Y = conv2d(X, W) (stride 1, no padding), by autograd and by the course's identities."""

    dx_autograd: torch.Tensor  # (1, C_in, n, n)
    dx_formula: torch.Tensor  # full convolution of ∂L/∂Y with the 180°-rotated kernel
    dw_autograd: torch.Tensor  # (C_out, C_in, k, k)
    dw_formula: torch.Tensor  # X correlated with ∂L/∂Y
    n: int  # input side

    @property
    def dx_error(self) -> float:
        return float((self.dx_autograd - self.dx_formula).abs().max())

    @property
    def dw_error(self) -> float:
        return float((self.dw_autograd - self.dw_formula).abs().max())


def backprop(k: int, c_in: int, c_out: int, seed: int = 0, out_side: int = 5) -> Backprop:
    """Checks the course's §5.10 on a random X (1, C_in, k + 4, k + 4), W and upstream gradient G = ∂L/∂Y.

    L = Σ Y·G, so ∂L/∂Y = G. Multi-channel form of the identities:
        ∂L/∂X[c_in] = Σ_{c_out} full_conv(G[c_out], rot180(W[c_out, c_in]))
        ∂L/∂W[c_out, c_in] = X[c_in] ⋆ G[c_out]   (⋆: cross-correlation, as F.conv2d computes)
    """
    g = generator(seed)
    n = k + out_side - 1
    x = torch.randn(1, c_in, n, n, generator=g, dtype=_F64, requires_grad=True)
    w = torch.randn(c_out, c_in, k, k, generator=g, dtype=_F64, requires_grad=True)
    upstream = torch.randn(1, c_out, out_side, out_side, generator=g, dtype=_F64)
    (F.conv2d(x, w) * upstream).sum().backward()
    with torch.inference_mode():
        rotated = w.detach().flip(-2, -1).transpose(0, 1)  # (C_in, C_out, k, k)
        dx = F.conv2d(F.pad(upstream, (k - 1,) * 4), rotated)
        dw = F.conv2d(x.detach().transpose(0, 1), upstream.transpose(0, 1)).transpose(0, 1)
    return Backprop(x.grad, dx, w.grad, dw, n)
