"""The CNN builder's stack as a standalone PyTorch script: an `nn.Module` class, its shapes and its fields."""
from __future__ import annotations

from core.cnn_builder import Stack


def code(stack: Stack, in_channels: int, size: int, probe_layer: int | None) -> str:
    """A script that defines the stack as `class Net(nn.Module)`, prints each layer's output shape and
    parameter count, and measures the receptive field of the centre unit after `probe_layer` by autograd."""
    shapes = {r.index: r.shape for r in stack.rows}
    width = max(len(c) for c in stack.codes) + 1
    lines = []
    for i, ctor in enumerate(stack.codes):
        shape = shapes.get(i)
        note = f"# → {('(N, ' + ', '.join(map(str, shape[1:])) + ')')}" if shape else ("# PyTorch refuses this layer" if i in shapes else "")
        lines.append(f"            {(ctor + ','):<{width}}  {note}".rstrip())
    layers = "\n".join(lines)
    probe = "" if probe_layer is None else f'''

# Receptive field of the centre unit after layer {probe_layer + 1}: run the same windows with every weight 1,
# max pools as average pools and no activations, so d(unit)/d(input) > 0 exactly where a path exists.
probe = []
for layer in net.layers[:{probe_layer + 1}]:
    if isinstance(layer, nn.Conv2d):
        ones = nn.Conv2d(1, 1, layer.kernel_size, layer.stride, layer.padding, layer.dilation, bias=False, dtype=torch.float64)
        nn.init.ones_(ones.weight)
        probe.append(ones)
    elif isinstance(layer, (nn.MaxPool2d, nn.AvgPool2d)):
        probe.append(nn.AvgPool2d(layer.kernel_size, layer.stride))
x = torch.ones(1, 1, {size}, {size}, dtype=torch.float64, requires_grad=True)
y = nn.Sequential(*probe)(x)
y[0, 0, y.shape[2] // 2, y.shape[3] // 2].backward()
rows = x.grad[0, 0].abs().sum(dim=1).nonzero()
cols = x.grad[0, 0].abs().sum(dim=0).nonzero()
print(f"field: layer={probe_layer + 1} rows={{int(rows.max() - rows.min() + 1)}} cols={{int(cols.max() - cols.min() + 1)}} "
      f"pixels={{int((x.grad != 0).sum())}}")'''
    return f'''import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(
{layers}
        )

    def forward(self, x):
        return self.layers(x)


net = Net().eval()
print(f"total: params={{sum(p.numel() for p in net.parameters())}}")
x = torch.randn(1, {in_channels}, {size}, {size})          # one input image, (N, C, H, W)
for i, layer in enumerate(net.layers):
    x = layer(x)          # a layer PyTorch refuses stops the script here with its error
    print(f"layer_{{i + 1}}: params={{sum(p.numel() for p in layer.parameters())}} shape={{'x'.join(map(str, x.shape))}}"){probe}
'''
