"""The Activations page's view as a standalone PyTorch script."""
from __future__ import annotations

from core.activations import Alphas

_CONSTRUCTORS = {
    "sigmoid": "nn.Sigmoid()",
    "tanh": "nn.Tanh()",
    "relu": "nn.ReLU()",
    "leaky_relu": "nn.LeakyReLU(negative_slope={leaky})",
    "elu": "nn.ELU(alpha={elu})",
    "gelu": "nn.GELU()",
    "silu": "nn.SiLU()",
}


def code(
    names: tuple[str, ...], z_min: float, z_max: float, alphas: Alphas, mu: float, sigma: float, depth: int,
    threshold: float, seed: int = 0, n_samples: int = 200_000,
) -> str:
    """A script that recomputes the page's curves and numbers for the current settings."""
    entries = "\n".join(
        f'    "{n}": {_CONSTRUCTORS[n].format(leaky=alphas.leaky, elu=alphas.elu)},' for n in names
    )
    return f'''import torch
from torch import nn

functions = {{
{entries}
}}
z_min, z_max = {z_min}, {z_max}          # range of the plotted curves
mu, sigma = {mu}, {sigma}                 # pre-activations z ~ N(mu, sigma^2)
depth = {depth}                           # layers in the product of derivatives
threshold = {threshold}                   # "saturated": f'(z) < threshold * max f'
f64 = torch.float64


def derivative(f, z):
    """f'(z) by autograd, elementwise."""
    z = z.clone().requires_grad_(True)
    f(z).sum().backward()
    return z.grad


z = torch.linspace(z_min, z_max, 401, dtype=f64)           # the plotted grid
z_wide = torch.linspace(-20, 20, 40_001, dtype=f64)        # where max f' is searched
u = torch.linspace(-10, 10, 200_000, dtype=f64)            # quadrature nodes for E[f'(z)]
w = torch.exp(-0.5 * u**2)
w = w / w.sum()
g = torch.Generator().manual_seed({seed})
z_sample = mu + sigma * torch.randn({n_samples}, generator=g, dtype=f64)

for name, f in functions.items():
    with torch.no_grad():
        curve = f(z)                                       # f(z), the left chart
    slope = derivative(f, z)                               # f'(z), the right chart
    peak = derivative(f, z_wide).max().item()
    df = derivative(f, z_sample)
    dead = (df == 0).double().mean().item()
    saturated = ((df > 0) & (df < threshold * peak)).double().mean().item()
    mean_df = (w * derivative(f, mu + sigma * u)).sum().item()
    print(f"{{name}}: max_df={{peak:.6f}} dead={{dead:.6f}} saturated={{saturated:.6f}} "
          f"product={{mean_df ** depth:.6e}}")
'''
