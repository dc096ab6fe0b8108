"""The Convolution arithmetic page's view as a standalone PyTorch script."""
from __future__ import annotations


def code(h: int, w: int, k: int, padding: int | str, s: int, d: int, c_in: int, c_out: int,
         pool_k: int, pool_s: int, position: int, seed: int = 0) -> str:
    """A script that recomputes the page's sizes, parameter count, sliding-window sum, pooling and backprop."""
    return f'''import math

import torch
import torch.nn.functional as F
from torch import nn

H, W = {h}, {w}                  # input height and width
k, padding, s, d = {k}, {padding!r}, {s}, {d}   # kernel size, padding, stride, dilation
c_in, c_out = {c_in}, {c_out}            # input and output channels
pool_k, pool_s = {pool_k}, {pool_s}          # pooling window and stride
position = {position}                  # the sliding window's position, row by row over the output
f64 = torch.float64


def out_size(n, pad_total):
    """PyTorch's formula; the course's floor((n + 2p - k)/s) + 1 is the case d = 1."""
    return math.floor((n + pad_total - d * (k - 1) - 1) / s) + 1


pad_total = d * (k - 1) if padding == "same" else 2 * padding
print(f"formula: h_out={{out_size(H, pad_total)}} w_out={{out_size(W, pad_total)}}")

# The real module on the meta device: PyTorch's shapes and checks without the arithmetic ("cpu" computes values too).
try:
    conv = nn.Conv2d(c_in, c_out, k, stride=s, padding=padding, dilation=d, device="meta")
    y = conv(torch.empty(1, c_in, H, W, device="meta"))           # (N, C_out, H_out, W_out)
    print(f"conv: h_out={{y.shape[2]}} w_out={{y.shape[3]}}")
except (RuntimeError, ValueError) as err:
    print(f"conv refused: {{err}}")
params = sum(p.numel() for p in nn.Conv2d(c_in, c_out, k).parameters())
print(f"params: pytorch={{params}} formula={{c_out * c_in * k * k + c_out}}")

# The sliding window: one channel of small integers, so every sum can be followed by hand.
g = torch.Generator().manual_seed({seed})
x = torch.randint(0, 10, (H, W), generator=g).to(f64)
kernel = torch.randint(-1, 2, (k, k), generator=g).to(f64)
try:
    out = F.conv2d(x[None, None], kernel[None, None], stride=s, padding=padding, dilation=d)[0, 0]
    row, col = divmod(min(position, out.numel() - 1), out.shape[1])
    top = (d * (k - 1)) // 2 if padding == "same" else padding
    bottom = d * (k - 1) - top if padding == "same" else padding
    x_pad = F.pad(x, (top, bottom, top, bottom))
    window = x_pad[row * s: row * s + d * (k - 1) + 1: d, col * s: col * s + d * (k - 1) + 1: d]
    print(f"step: row={{row}} col={{col}} value={{out[row, col].item():g}} hand_sum={{(window * kernel).sum().item():g}}")
except (RuntimeError, ValueError) as err:
    print(f"step refused: {{err}}")

# Pooling: the sizes on the (1, c_in, H, W) input, and the values on an 8 x 8 example grid.
try:
    for name, pool in (("max", nn.MaxPool2d(pool_k, pool_s)), ("avg", nn.AvgPool2d(pool_k, pool_s))):
        p = pool(torch.empty(1, c_in, H, W, device="meta"))
        print(f"pool_{{name}}: h_out={{p.shape[2]}} w_out={{p.shape[3]}}")
except RuntimeError as err:
    print(f"pool refused: {{err}}")
grid = torch.randint(0, 10, (8, 8), generator=torch.Generator().manual_seed({seed + 1})).to(f64)
if pool_k <= 8:
    pooled_max = nn.MaxPool2d(pool_k, pool_s)(grid[None, None])[0, 0]
    pooled_avg = nn.AvgPool2d(pool_k, pool_s)(grid[None, None])[0, 0]
    print(f"pooled: max_first={{pooled_max[0, 0].item():g}} avg_first={{pooled_avg[0, 0].item():g}} "
          f"max_sum={{pooled_max.sum().item():g}} avg_sum={{pooled_avg.sum().item():.6f}}")

# Backprop through a convolution (stride 1, no padding): the course's two identities against autograd.
g = torch.Generator().manual_seed({seed})
n = k + 4
X = torch.randn(1, c_in, n, n, generator=g, dtype=f64, requires_grad=True)
Wt = torch.randn(c_out, c_in, k, k, generator=g, dtype=f64, requires_grad=True)
G = torch.randn(1, c_out, 5, 5, generator=g, dtype=f64)          # dL/dY
(F.conv2d(X, Wt) * G).sum().backward()
dX = F.conv2d(F.pad(G, (k - 1,) * 4), Wt.detach().flip(-2, -1).transpose(0, 1))   # full conv with rot180(W)
dW = F.conv2d(X.detach().transpose(0, 1), G.transpose(0, 1)).transpose(0, 1)      # X correlated with dL/dY
print(f"backprop: dx_error={{(X.grad - dX).abs().max().item():.3e}} dw_error={{(Wt.grad - dW).abs().max().item():.3e}}")
'''
