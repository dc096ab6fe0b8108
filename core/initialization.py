"""Weight initialisation and gradient flow through depth (course §3.1–3.4), measured on a real `nn.Sequential`.

One forward and one backward pass of a batch through L blocks Linear(n, n) → [BatchNorm1d(n)] → activation,
every weight drawn by `torch.nn.init` from one generator. Per layer: the variance of z = Wx + b beside the
course's prediction Var(z) = n_in·Var(W)·Var(x), the norm of each weight matrix's gradient, and the
distribution of what goes into and comes out of the activation.

The course's formula assumes inputs of mean 0. Sigmoid, ReLU and ELU outputs have a mean that is not 0, and
then what the layer computes is Var(z) = n_in·Var(W)·E[x²] + Var(b) (W of mean 0, independent of x): both
predictions are returned, and they coincide when E[x] = 0.
"""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from core.activations import saturation_edge
from core.checks import Check
from core.rng import generator

ACTIVATIONS: tuple[str, ...] = ("sigmoid", "tanh", "relu", "leaky_relu", "elu")
ACTIVATION_LABELS = {"sigmoid": "Sigmoid", "tanh": "Tanh", "relu": "ReLU", "leaky_relu": "LeakyReLU (α = 0.01)", "elu": "ELU (α = 1)"}
SCHEMES: tuple[str, ...] = ("default", "normal", "normal_small", "xavier_uniform", "xavier_normal", "kaiming_uniform",
                            "kaiming_normal", "zeros")
SCHEME_LABELS = {"default": "PyTorch default (nn.Linear)", "normal": "N(0, 1)", "normal_small": "N(0, 0.01²)",
                 "xavier_uniform": "Xavier uniform", "xavier_normal": "Xavier normal", "kaiming_uniform": "Kaiming uniform",
                 "kaiming_normal": "Kaiming normal", "zeros": "Zeros"}
UNIFORM = ("default", "xavier_uniform", "kaiming_uniform")  # schemes that draw from U(−bound, bound)
WIDTHS: tuple[int, ...] = (8, 16, 32, 64, 128, 256, 512)
MAX_DEPTH = 50
VALUES_PER_LAYER = 2**13  # batch × width: every layer is measured on 8,192 numbers
LEAKY_SLOPE = 0.01  # nn.LeakyReLU's default negative slope
ELU_ALPHA = 1.0  # nn.ELU's default α
SATURATION = 0.1  # saturated: f′(u) below this share of its peak (as on the Activations page)
BINS = 60  # histogram bins per layer


def batch_size(width: int) -> int:
    """Inputs in the batch: 8,192 / width (16 at width 512, 1,024 at width 8), so every layer holds the same
    number of values and the cost of a pass, B·n² per layer, is largest at width 512, where it has to stay small."""
    return max(1, VALUES_PER_LAYER // width)


def activation_module(name: str) -> nn.Module:
    """The `torch.nn` module for an activation name."""
    modules = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU,
               "leaky_relu": lambda: nn.LeakyReLU(LEAKY_SLOPE), "elu": lambda: nn.ELU(ELU_ALPHA)}
    if name not in modules:
        raise ValueError(f"unknown activation {name!r}; choose from {', '.join(ACTIVATIONS)}")
    return modules[name]()


def nonlinearity(activation: str) -> tuple[str, float]:
    """The (nonlinearity, a) that Kaiming's init is given for an activation.

    PyTorch has no gain for ELU; it gets kaiming's own default, leaky_relu with a = 0 (gain √2, as for ReLU),
    which is what the course's §3.4 Net does with its ELU layers.
    """
    table = {"sigmoid": ("sigmoid", 0.0), "tanh": ("tanh", 0.0), "relu": ("relu", 0.0),
             "leaky_relu": ("leaky_relu", LEAKY_SLOPE), "elu": ("leaky_relu", 0.0)}
    if activation not in table:
        raise ValueError(f"unknown activation {activation!r}; choose from {', '.join(ACTIVATIONS)}")
    return table[activation]


def gain_formula(name: str, a: float = 0.0) -> float:
    """PyTorch's documented gains: sigmoid 1, tanh 5/3, ReLU √2, leaky ReLU √(2 / (1 + a²))."""
    gains = {"sigmoid": 1.0, "tanh": 5 / 3, "relu": math.sqrt(2.0), "leaky_relu": math.sqrt(2 / (1 + a * a))}
    return gains[name]


def weight_std(scheme: str, activation: str, n_in: int, n_out: int) -> float:
    """The standard deviation of W by the formula behind each scheme (fan_in = n_in, fan_out = n_out)."""
    if scheme == "default":
        return gain_formula("leaky_relu", math.sqrt(5)) / math.sqrt(n_in)  # kaiming_uniform_(a=√5): 1/√(3·n_in)
    if scheme == "normal":
        return 1.0
    if scheme == "normal_small":
        return 0.01
    if scheme in ("xavier_uniform", "xavier_normal"):
        return math.sqrt(2 / (n_in + n_out))
    if scheme in ("kaiming_uniform", "kaiming_normal"):
        return gain_formula(*nonlinearity(activation)) / math.sqrt(n_in)
    if scheme == "zeros":
        return 0.0
    raise ValueError(f"unknown scheme {scheme!r}; choose from {', '.join(SCHEMES)}")


def weight_variance(scheme: str, activation: str, n_in: int, n_out: int) -> float:
    return weight_std(scheme, activation, n_in, n_out) ** 2


def uniform_bound(scheme: str, activation: str, n_in: int, n_out: int) -> float | None:
    """b of U(−b, b) for the uniform schemes (Var = b²/3, so b = √3·std); None for the others."""
    return math.sqrt(3) * weight_std(scheme, activation, n_in, n_out) if scheme in UNIFORM else None


def bias_variance(scheme: str, n_in: int) -> float:
    """PyTorch's default bias is U(−1/√n_in, 1/√n_in), Var = 1/(3·n_in); every other scheme sets b = 0."""
    return 1 / (3 * n_in) if scheme == "default" else 0.0


def init_source(scheme: str, activation: str, generator: str | None = "g") -> tuple[str, str]:
    """The `torch.nn.init` calls for a weight `w` and a bias `b` as the code panel writes them, drawing from the
    generator named `generator` (None: PyTorch's global one)."""
    nl, a = nonlinearity(activation)
    gen = f", generator={generator}" if generator else ""
    kaiming = f'nonlinearity="{nl}"' if nl != "leaky_relu" else f'a={a:g}, nonlinearity="leaky_relu"'
    weight = {"default": f"nn.init.kaiming_uniform_(w, a=math.sqrt(5){gen})", "normal": f"nn.init.normal_(w, mean=0.0, std=1.0{gen})",
              "normal_small": f"nn.init.normal_(w, mean=0.0, std=0.01{gen})", "xavier_uniform": f"nn.init.xavier_uniform_(w{gen})",
              "xavier_normal": f"nn.init.xavier_normal_(w{gen})", "kaiming_uniform": f"nn.init.kaiming_uniform_(w, {kaiming}{gen})",
              "kaiming_normal": f"nn.init.kaiming_normal_(w, {kaiming}{gen})", "zeros": "nn.init.zeros_(w)"}
    if scheme not in weight:
        raise ValueError(f"unknown scheme {scheme!r}; choose from {', '.join(SCHEMES)}")
    bias = (f"nn.init.uniform_(b, -1 / math.sqrt(w.shape[1]), 1 / math.sqrt(w.shape[1]){gen})" if scheme == "default"
            else "nn.init.zeros_(b)")
    return weight[scheme], bias


def init_linear(linear: nn.Linear, scheme: str, activation: str, g: torch.Generator) -> None:
    """Draw a Linear layer's weight, then its bias, from `g` with the scheme's `torch.nn.init` call."""
    w, b = linear.weight, linear.bias
    nl, a = nonlinearity(activation)
    with torch.no_grad():
        if scheme == "default":  # nn.Linear.reset_parameters, with a generator
            nn.init.kaiming_uniform_(w, a=math.sqrt(5), generator=g)
            bound = 1 / math.sqrt(w.shape[1])
            nn.init.uniform_(b, -bound, bound, generator=g)
            return
        draw = {"normal": lambda: nn.init.normal_(w, 0.0, 1.0, generator=g),
                "normal_small": lambda: nn.init.normal_(w, 0.0, 0.01, generator=g),
                "xavier_uniform": lambda: nn.init.xavier_uniform_(w, generator=g),
                "xavier_normal": lambda: nn.init.xavier_normal_(w, generator=g),
                "kaiming_uniform": lambda: nn.init.kaiming_uniform_(w, a=a, nonlinearity=nl, generator=g),
                "kaiming_normal": lambda: nn.init.kaiming_normal_(w, a=a, nonlinearity=nl, generator=g),
                "zeros": lambda: nn.init.zeros_(w)}
        if scheme not in draw:
            raise ValueError(f"unknown scheme {scheme!r}; choose from {', '.join(SCHEMES)}")
        draw[scheme]()
        nn.init.zeros_(b)


def mlp(depth: int, width: int, activation: str, scheme: str, batchnorm: bool, g: torch.Generator,
        n_in: int | None = None, n_out: int | None = None) -> nn.Sequential:
    """L blocks nn.Sequential(Linear, [BatchNorm1d], activation), then a Linear(width, n_out) head if n_out is given.

    Linear layers are made with `skip_init` (no draw from the global RNG) and drawn from `g` in order:
    each block's weight, then its bias; the head last.
    """
    if not 1 <= depth <= MAX_DEPTH:
        raise ValueError(f"depth must be between 1 and {MAX_DEPTH}")
    if width < 1:
        raise ValueError("width must be at least 1")
    blocks, fan_in = [], n_in or width
    for _ in range(depth):
        linear = nn.utils.skip_init(nn.Linear, fan_in, width)
        init_linear(linear, scheme, activation, g)
        blocks.append(nn.Sequential(linear, *([nn.BatchNorm1d(width)] if batchnorm else []), activation_module(activation)))
        fan_in = width
    if n_out is not None:
        head = nn.utils.skip_init(nn.Linear, width, n_out)
        init_linear(head, scheme, activation, g)
        blocks.append(head)
    return nn.Sequential(*blocks)


def share_label(activation: str) -> str:
    """What the per-layer share counts, in words, for an activation."""
    if activation in ("sigmoid", "tanh"):
        return f"saturated: f′(u) < {SATURATION:g}·max f′"
    if activation == "relu":
        return "zero: u ≤ 0, f′ = 0"
    return "negative side: u < 0" + (f", f′ = {LEAKY_SLOPE:g}" if activation == "leaky_relu" else ", f′ = e^u < 1")


def weak_region(activation: str) -> str:
    """Where u is counted by `share`, as an inequality."""
    if activation in ("sigmoid", "tanh"):
        return f"|u| > {saturation_edge(activation, SATURATION):.3g}"
    return "u ≤ 0" if activation == "relu" else "u < 0"


@dataclass(frozen=True)
class Pass:
    """One forward and backward pass through the MLP; every array has one entry per layer (L,)."""

    depth: int
    width: int
    activation: str
    scheme: str
    batchnorm: bool
    batch: int  # inputs in the batch
    var_w_formula: float  # Var(W) by the scheme's formula
    var_b_formula: float  # Var(b) by the scheme's formula
    var_x: np.ndarray  # Var of each layer's input x (layer 1: the N(0, 1) batch)
    msq_x: np.ndarray  # E[x²] of each layer's input
    msq_w: np.ndarray  # E[W²] of each drawn weight matrix (its variance about the known mean 0)
    msq_b: np.ndarray  # E[b²] of each drawn bias
    max_w: float  # the largest |W| over every weight matrix
    var_z: np.ndarray  # Var(z), z = Wx + b, over the batch and the units
    var_u: np.ndarray  # Var(u), u the activation's input (BatchNorm's output, or z)
    var_a: np.ndarray  # Var(a), a = f(u)
    grad_norm: np.ndarray  # ‖∂L/∂W‖_F of each layer's weight matrix
    share: np.ndarray  # share of u in the activation's weak region (see share_label)
    dead_units: np.ndarray  # ReLU: share of units with u ≤ 0 for every input of the batch; NaN otherwise
    finite: np.ndarray  # bool: every z, u and a of the layer is finite in float32
    u_counts: np.ndarray  # (L, BINS) histogram of u
    u_edges: np.ndarray  # (L, BINS + 1)
    a_counts: np.ndarray
    a_edges: np.ndarray
    loss: float
    msq_z1: float  # E[z²] of layer 1
    msq_z1_predicted: float  # n·E[W²]·E[x²] + E[b²] with layer 1's drawn W and b and E[x²] = 1
    msq_z1_se: float  # standard error of msq_z1 over the batch, given the drawn W and b
    bn_var_u1: float  # layer 1 with BatchNorm: Var(u) measured (NaN without BatchNorm)
    bn_var_u1_formula: float  # mean over units of σ²/(σ² + ε), σ² the batch variance of z

    @property
    def pred_course(self) -> np.ndarray:
        """The course's Var(z) = n_in·Var(W)·Var(x), with the scheme's Var(W) and the measured Var(x)."""
        return self.width * self.var_w_formula * self.var_x

    @property
    def pred_mean(self) -> np.ndarray:
        """Var(z) = n_in·Var(W)·E[x²] + Var(b): the course's formula when x has a mean."""
        return self.width * self.var_w_formula * self.msq_x + self.var_b_formula

    @property
    def overflow_layer(self) -> int | None:
        """The first layer (1-based) whose values are not finite in float32, if any."""
        bad = np.flatnonzero(~self.finite)
        return int(bad[0]) + 1 if len(bad) else None


def _moments(t: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Variance and mean square of each layer's values (L, B, n) → (L,), (L,), accumulated in float64, so float32
    values up to 3.4·10³⁸ do not overflow when squared; NaN or inf where a layer is not finite."""
    flat = t.flatten(1)
    count = flat.shape[1]
    mean = flat.sum(1, dtype=torch.float64) / count
    centered = flat - mean.float()[:, None]
    var = torch.linalg.vector_norm(centered, dim=1, dtype=torch.float64).square() / count
    var -= (mean - mean.float().double()).square()  # the centring used the mean rounded to float32
    msq = torch.linalg.vector_norm(flat, dim=1, dtype=torch.float64).square() / count
    return var.clamp(min=0).numpy(), msq.numpy()


def _histograms(t: torch.Tensor, finite: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per layer (L, B, n), BINS even bins from its smallest to its largest value (a constant layer gets a range
    around its value). Returns counts (L, BINS) and edges (L, BINS + 1); zeros and NaN where a layer is not finite."""
    flat = t.flatten(1)  # (L, B·n)
    counts, edges = np.zeros((len(flat), BINS)), np.full((len(flat), BINS + 1), np.nan)
    for l, (values, lo, hi) in enumerate(zip(flat, flat.amin(1).tolist(), flat.amax(1).tolist())):
        if not finite[l]:
            continue
        if hi <= lo:
            half = 0.5 if lo == 0 else 0.01 * abs(lo)
            lo, hi = lo - half, hi + half
        counts[l] = torch.histc(values, BINS, lo, hi).numpy()
        edges[l] = np.linspace(lo, hi, BINS + 1)
    return counts, edges


@dataclass
class _Stack:
    """The layers drawn so far for one (width, scheme, Kaiming's nonlinearity, seed), in the order `mlp` draws them:
    layer l's weight, then its bias, from one generator. Layer l's draws never depend on the depth of the network,
    so every depth is a prefix of one stack."""

    weights: list[torch.Tensor]  # (n, n) each, never written to after the draw
    biases: list[torch.Tensor]  # (n,) each
    states: list[torch.Tensor]  # the generator's state after each layer's draws
    w_norm: list[float]  # ‖W‖ of each weight matrix, as _norms computes it
    w_max: list[float]  # the largest |W| of each
    b_norm: list[float]  # ‖b‖ of each bias
    first: tuple[float, float] | None  # layer 1's _layer_one_prediction
    lock: threading.Lock

    @property
    def values(self) -> int:
        return sum(w.numel() + b.numel() for w, b in zip(self.weights, self.biases))


#: Drawn layers kept for the next pass, least recently used first. Moving the depth, the activation (but for Kaiming's
#: gain) or BatchNorm changes no draw, so those passes reuse the stack instead of drawing up to 13 million numbers again.
_STACKS: dict[tuple, _Stack] = {}
_STACKS_LOCK = threading.Lock()
STACK_BUDGET = 2**24  # values kept at most (64 MB of float32): one 50-layer stack at width 512 and a few narrower ones


def _stack(width: int, activation: str, scheme: str, seed: int) -> _Stack:
    key = (width, scheme, nonlinearity(activation) if scheme in ("kaiming_uniform", "kaiming_normal") else None, seed)
    with _STACKS_LOCK:
        stack = _STACKS.pop(key, None) or _Stack([], [], [], [], [], [], None, threading.Lock())
        _STACKS[key] = stack  # now the most recently used
    return stack


def _keep_within_budget(current: _Stack) -> None:
    with _STACKS_LOCK:
        total = sum(s.values for s in _STACKS.values())
        for key in list(_STACKS):
            if total <= STACK_BUDGET:
                break
            if _STACKS[key] is not current:
                total -= _STACKS.pop(key).values


def _drawn(depth: int, width: int, activation: str, scheme: str, seed: int) -> _Stack:
    """The first `depth` layers of the stack for these settings, drawing the ones not drawn yet exactly as `mlp` does
    (`init_linear` on a `skip_init` Linear, from a generator seeded with `seed` or restored to where the last one left
    it). Its lists are only ever appended to, so the first `depth` entries stay what they are."""
    stack = _stack(width, activation, scheme, seed)
    with stack.lock:
        if len(stack.weights) < depth:
            g = generator(seed)
            if stack.states:
                g.set_state(stack.states[-1])
            with torch.no_grad():
                while len(stack.weights) < depth:
                    linear = nn.utils.skip_init(nn.Linear, width, width)
                    init_linear(linear, scheme, activation, g)
                    w, b = linear.weight.detach(), linear.bias.detach()
                    stack.w_norm.append(float(_norms([w])[0]))
                    stack.b_norm.append(float(_norms([b])[0]))
                    stack.w_max.append(max(float(w.amax()), -float(w.amin())))
                    if stack.first is None:
                        stack.first = _layer_one_prediction(w, b)
                    stack.weights.append(w)
                    stack.biases.append(b)
                    stack.states.append(g.get_state())
    _keep_within_budget(stack)
    return stack


def _linear(w: torch.Tensor, b: torch.Tensor) -> nn.Linear:
    """An nn.Linear whose weight and bias are w and b themselves (no copy; built on the meta device, so nothing is drawn)."""
    linear = nn.Linear(w.shape[1], w.shape[0], device="meta")
    linear.weight, linear.bias = nn.Parameter(w), nn.Parameter(b)
    return linear


def run_pass(depth: int, width: int, activation: str, scheme: str, batchnorm: bool, seed: int = 0) -> Pass:
    """Draw the MLP, push a batch x ~ N(0, 1) through it in train mode, and backpropagate
    L = (1/B)·Σ r ⊙ a⁽ᴸ⁾ with r ~ N(0, 1): every output receives a gradient of the same size, so what
    reaches each layer shows what the layers on the way did to it.

    The network is `mlp(depth, width, activation, scheme, batchnorm, generator(seed))`, and x and r are the generator's
    next draws; the drawn layers (and their statistics) are kept and shared by later passes (see `_drawn`), with the
    same numbers as drawing them again (tests/core/test_initialization.py).
    """
    if not 1 <= depth <= MAX_DEPTH:
        raise ValueError(f"depth must be between 1 and {MAX_DEPTH}")
    if width < 1:
        raise ValueError("width must be at least 1")
    activation_module(activation), weight_std(scheme, activation, width, width)  # unknown names raise here, not in the cache
    stack, L = _drawn(depth, width, activation, scheme, seed), depth
    g = torch.Generator()
    g.set_state(stack.states[L - 1])  # where drawing the L layers left the generator
    net = nn.Sequential(*(nn.Sequential(_linear(w, b), *([nn.BatchNorm1d(width)] if batchnorm else []), activation_module(activation))
                          for w, b in zip(stack.weights[:L], stack.biases[:L])))
    for name, param in net.named_parameters():
        param.requires_grad_(name.endswith(".0.weight"))  # only the Linear weights' gradients are measured
    B = batch_size(width)
    x = torch.randn(B, width, generator=g)  # (B, n)
    r = torch.randn(B, width, generator=g)  # (B, n)
    net.train()
    zs, us, acts = [], [], []
    h = x
    for block in net:
        z = block[0](h)  # (B, n)
        u = block[1](z) if batchnorm else z
        h = block[-1](u)
        zs.append(z), us.append(u), acts.append(h)
    loss = (h * r).sum() / B
    loss.backward()
    with torch.no_grad():
        Z, A = torch.stack(zs), torch.stack(acts)  # (L, B, n)
        U = torch.stack(us) if batchnorm else Z
        var_z = _moments(Z)[0]
        var_u = _moments(U)[0] if batchnorm else var_z
        var_a, msq_a = _moments(A)
        var_in, msq_in = _moments(x[None])
        finite = np.isfinite(var_z) & np.isfinite(var_u) & np.isfinite(var_a)
        linears = [block[0] for block in net]

        msq_w = np.array(stack.w_norm[:L]) ** 2 / (width * width)
        msq_b = np.array(stack.b_norm[:L]) ** 2 / width
        max_w = max(stack.w_max[:L])
        grad_norm = _norms([m.weight.grad for m in linears])
        share, dead = _shares(U, activation, finite)
        u_counts, u_edges = _histograms(U, finite)
        a_counts, a_edges = _histograms(A, finite)
        first = _layer_one(x, Z[0], linears[0], stack.first)
        bn = _batchnorm_one(Z[0], U[0], net[0][1]) if batchnorm else (math.nan, math.nan)
    return Pass(depth, width, activation, scheme, batchnorm, B, weight_variance(scheme, activation, width, width),
                bias_variance(scheme, width), np.concatenate([var_in, var_a[:-1]]), np.concatenate([msq_in, msq_a[:-1]]),
                msq_w, msq_b, max_w, var_z, var_u, var_a, grad_norm, share, dead, finite, u_counts, u_edges, a_counts, a_edges,
                loss.item(), *first, *bn)


def _norms(tensors: list[torch.Tensor]) -> np.ndarray:
    """The 2-norm of each tensor: one float32 pass, redone in float64 where the squares overflowed float32
    (norm inf) or may have underflowed (norm below 10⁻¹⁸, or 0 for a tensor that is not all zeros)."""
    norms = torch.stack(torch._foreach_norm(tensors)).double()
    suspect = torch.isinf(norms) | (norms < 1e-18)
    for i in torch.nonzero(suspect).flatten().tolist():
        if norms[i] > 0 or tensors[i].any():
            norms[i] = torch.linalg.vector_norm(tensors[i], dtype=torch.float64)
    return norms.numpy()


def _shares(U: torch.Tensor, activation: str, finite: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per layer: the share of u in the weak region (share_label), and for ReLU the share of dead units."""
    if activation in ("sigmoid", "tanh"):
        weak = U.abs() > saturation_edge(activation, SATURATION)
    elif activation == "relu":
        weak = U <= 0
    else:
        weak = U < 0
    share = (weak.flatten(1).sum(1) / weak[0].numel()).double().numpy()
    dead = (weak.all(dim=1).sum(1) / U.shape[2]).double().numpy() if activation == "relu" else np.full(len(U), np.nan)
    share[~finite], dead[~finite] = np.nan, np.nan
    return share, dead


def _layer_one(x: torch.Tensor, z: torch.Tensor, linear: nn.Linear,
               prediction: tuple[float, float] | None = None) -> tuple[float, float, float]:
    """Layer 1's E[z²] against n·E[W²]·E[x²] + E[b²] for the drawn W and b, and the standard error of the batch mean.

    Given W and b, with x ~ N(0, I): E‖Wx + b‖² = ‖W‖²_F + ‖b‖², Var‖Wx + b‖² = 2‖WWᵀ‖²_F + 4 bᵀWWᵀb.

    Args:
        prediction: `_layer_one_prediction` of the layer's W and b, when already known.
    """
    n_out, B = linear.weight.shape[0], x.shape[0]
    predicted, var_row = prediction or _layer_one_prediction(linear.weight.detach(), linear.bias.detach())
    return float(z.double().square().mean()), predicted, math.sqrt(var_row / B) / n_out


def _layer_one_prediction(W: torch.Tensor, b: torch.Tensor) -> tuple[float, float]:
    """What `_layer_one` needs of W (n_out, n_in) and b (n_out,) alone: the predicted E[z²] = (‖W‖²_F + ‖b‖²)/n_out, and
    Var‖Wx + b‖² = 2‖WWᵀ‖²_F + 4 bᵀWWᵀb for x ~ N(0, I)."""
    n_out = W.shape[0]
    gram = (W @ W.T).double()  # (n_out, n_out); float32 is precise enough for a standard error
    b = b.double()
    predicted = float((torch.linalg.vector_norm(W, dtype=torch.float64) ** 2 + b.square().sum()) / n_out)
    return predicted, float(2 * gram.square().sum() + 4 * b @ gram @ b)


def _batchnorm_one(z: torch.Tensor, u: torch.Tensor, bn: nn.BatchNorm1d) -> tuple[float, float]:
    """Layer 1's BatchNorm output variance, and σ²/(σ² + ε) averaged over the units (γ = 1, β = 0)."""
    var = z.double().var(dim=0, unbiased=False)  # (n,) the batch variance BatchNorm divides by
    return float(u.double().var(dim=0, unbiased=False).mean()), float((var / (var + bn.eps)).mean())


def growth_per_layer(p: Pass) -> float | None:
    """The geometric mean factor by which Var(z) changes from one layer to the next, (Var z⁽ᴸ⁾ / Var z⁽¹⁾)^(1/(L−1));
    None for one layer, or when a layer's variance is 0 or not finite."""
    v = p.var_z
    if p.depth < 2 or not (np.isfinite(v).all() and (v > 0).all()):
        return None
    return float((v[-1] / v[0]) ** (1 / (p.depth - 1)))


def underflow_layer(p: Pass) -> int | None:
    """The first layer (1-based) whose Var(z) is exactly 0 in float32, when a layer after the first is; else None."""
    return int((p.var_z == 0).argmax()) + 1 if (p.var_z[1:] == 0).any() else None


def gradient_ratio(p: Pass) -> float:
    """‖∂L/∂W‖ of layer 1 divided by that of layer L: below 1 the first layers learn slower (vanishing), above 1
    faster (exploding); NaN when the last layer's gradient is 0 or either is not finite."""
    first, last = float(p.grad_norm[0]), float(p.grad_norm[-1])
    return first / last if last > 0 and math.isfinite(first) and math.isfinite(last) else math.nan


def gradient_ratio_text(p: Pass) -> str:
    """The ratio as the page shows it; when it has no value, why: every gradient 0, or not finite (overflow)."""
    ratio = gradient_ratio(p)
    if math.isfinite(ratio):
        return f"{ratio:.3g}"
    if not np.isfinite(p.grad_norm).all():
        return "not finite"
    return "0 ÷ 0" if p.grad_norm[0] == 0 else "÷ 0"


def gradient_verdict(p: Pass) -> str | None:
    """One sentence on how the first layer's gradient compares with the last's; None for one layer or no ratio."""
    ratio = gradient_ratio(p)
    if p.depth < 2 or not math.isfinite(ratio) or ratio <= 0:
        return None
    kind = ("vanishing: the early layers barely move." if ratio < 0.1 else
            "exploding: the early layers take the largest steps." if ratio > 10 else "within a factor of 10 of each other.")
    largest = float(np.max(p.grad_norm))
    tiny = f" And no layer's gradient is above {largest:.3g}: with gradients this small nothing learns." if largest < 1e-6 else ""
    return f"The first layer's weight gradient is {ratio:.3g} × the last layer's: {kind}{tiny}"


def bias_share(p: Pass) -> float:
    """The share of the last layer's predicted Var(z) = n·Var(W)·E[x²] + Var(b) that is the bias's Var(b)."""
    total = float(p.pred_mean[-1])
    return p.var_b_formula / total if total > 0 and math.isfinite(total) else 0.0


def number(x: float) -> str:
    """A measured value as the page writes it: 3 significant digits, or inf / nan as they are."""
    return f"{x:.3g}" if math.isfinite(x) else str(x)


def forward_verdict(p: Pass, activation_label: str) -> str | None:
    """How Var(z) moves from layer to layer, and why (BatchNorm, n·Var(W), or the bias taking over); None when there
    is no growth factor (one layer, or a variance of 0 or not finite)."""
    factor = growth_per_layer(p)
    if factor is None:
        return None
    trend = "shrinks" if factor < 0.9 else "grows" if factor > 1.1 else "stays about the same"
    text = (f"Var(z) {trend} from layer to layer: a factor of {factor:.3g} per layer on average, "
            f"{number(p.var_z[0])} at layer 1 and {number(p.var_z[-1])} at layer {p.depth}. ")
    if p.batchnorm:
        return text + "BatchNorm hands every activation an input of variance 1, so the scale cannot compound."
    text += f"Each layer multiplies by n·Var(W) = {number(p.width * p.var_w_formula)} and by what {activation_label} keeps of E[x²]."
    if (share := bias_share(p)) > 0.5:
        text += (f" At layer {p.depth}, {share:.0%} of the predicted Var(z) is the bias's own Var(b) = "
                 f"{number(p.var_b_formula)}: the signal from the input has faded under it.")
    return text


def scheme_table(activation: str, n: int) -> pd.DataFrame:
    """Every scheme's Var(W), uniform bound and per-layer factor n·Var(W) for an n → n layer."""
    rows = [(SCHEME_LABELS[s], weight_variance(s, activation, n, n), uniform_bound(s, activation, n, n),
             n * weight_variance(s, activation, n, n), init_source(s, activation, None)[0]) for s in SCHEMES]
    return pd.DataFrame(rows, columns=["scheme", "Var(W)", "bound b", "n·Var(W)", "torch.nn.init call"])


def layer_table(p: Pass) -> pd.DataFrame:
    """One row per layer: the numbers behind the charts (dead units for ReLU only)."""
    table = pd.DataFrame({
        "layer": np.arange(1, p.depth + 1), "Var(x)": p.var_x, "E[x²]": p.msq_x, "Var(W)": p.msq_w, "Var(z)": p.var_z,
        "course n·Var(W)·Var(x)": p.pred_course, "n·Var(W)·E[x²] + Var(b)": p.pred_mean, "Var(a)": p.var_a,
        "‖∂L/∂W‖": p.grad_norm, "share": p.share, "dead units": p.dead_units,
    })
    return table if p.activation == "relu" else table.drop(columns="dead units")


# Checks against PyTorch --------------------------------------------------------------------------------------

_GLOBAL_RNG = threading.Lock()
#: Tolerance of the sampled checks, in standard errors: a correct formula fails one with probability 6·10⁻⁷, so
#: none of the page's ~4,000 independent draws (scheme × width × depth) is expected to fail; a formula off by a
#: few per cent fails as soon as there are more than a few thousand weights.
SIGMAS = 5


def pytorch_linear(n_in: int, n_out: int, seed: int = 0) -> nn.Linear:
    """`nn.Linear(n_in, n_out)` exactly as PyTorch builds it (its constructor draws from the global RNG), seeded
    under `torch.random.fork_rng` and a lock, so the global generator is left as it was."""
    with _GLOBAL_RNG, torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return nn.Linear(n_in, n_out)


def variance_se(var: float, n: int, uniform: bool) -> float:
    """Standard error of E[w²] over n draws of mean 0: √((μ₄ − σ⁴)/n), μ₄ = 9σ⁴/5 (uniform) or 3σ⁴ (normal)."""
    return var * math.sqrt((0.8 if uniform else 2.0) / n)


def bound_tolerance(bound: float, n: int) -> float:
    """How far below the bound the largest of n uniform |w| may sit: P(max < b(1 − t)) = (1 − t)ⁿ ≤ 10⁻⁹."""
    return bound * min(1.0, -math.log(1e-9) / n)


@dataclass(frozen=True)
class DefaultLinear:
    """Statistics of the weights of one `nn.Linear(n, n)` built by PyTorch's own constructor."""

    width: int
    msq_w: float
    max_w: float
    msq_b: float


def default_linear(width: int, seed: int = 0) -> DefaultLinear:
    linear = pytorch_linear(width, width, seed)
    with torch.no_grad():
        w, b = linear.weight.double(), linear.bias.double()
        return DefaultLinear(width, float(w.square().mean()), float(w.abs().max()), float(b.square().mean()))


def checks(p: Pass, linear: DefaultLinear | None = None) -> list[Check]:
    """The page's checks: Var(W) of the drawn weights vs the scheme's formula (SIGMAS standard errors for the sample
    size), the uniform bound, Kaiming's gain, nn.Linear's own default, layer 1's Var(z) and BatchNorm."""
    n, total = p.width, p.depth * p.width**2
    label = SCHEME_LABELS[p.scheme]
    measured = float(np.mean(p.msq_w))  # every matrix holds n² weights, so the mean of means is the pooled mean
    se = variance_se(p.var_w_formula, total, p.scheme in UNIFORM)
    out = [Check(f"{label}: Var(W) of the {total:,} drawn weights", p.var_w_formula, measured, SIGMAS * se)]
    if p.scheme in UNIFORM:
        bound = uniform_bound(p.scheme, p.activation, n, n)
        out.append(Check(f"{label}: largest |W| vs the bound b of U(−b, b)", bound, p.max_w,
                         bound_tolerance(bound, total)))
    if p.scheme in ("kaiming_uniform", "kaiming_normal", "default"):
        nl, a = ("leaky_relu", math.sqrt(5)) if p.scheme == "default" else nonlinearity(p.activation)
        out.append(Check(f"gain of {nl}" + (f", a = {a:.4g}" if nl == "leaky_relu" else "") + ": formula vs nn.init.calculate_gain",
                         gain_formula(nl, a), nn.init.calculate_gain(nl, a), 1e-12))
    if linear is not None:
        out.append(Check(f"nn.Linear({n}, {n}) built by PyTorch: Var(W) vs 1/(3·n_in)", 1 / (3 * n), linear.msq_w,
                         SIGMAS * variance_se(1 / (3 * n), n * n, True)))
        out.append(Check(f"nn.Linear({n}, {n}) built by PyTorch: largest |W| vs 1/√n_in", 1 / math.sqrt(n), linear.max_w,
                         bound_tolerance(1 / math.sqrt(n), n * n)))
    out.append(Check("Layer 1: E[z²] vs n·Var(W)·E[x²] + Var(b), for the drawn W and b",
                     p.msq_z1_predicted, p.msq_z1, SIGMAS * p.msq_z1_se + 1e-6 * p.msq_z1_predicted))
    if p.batchnorm:
        out.append(Check("Layer 1 BatchNorm1d: Var(u) vs the mean of σ²/(σ² + ε)", p.bn_var_u1_formula, p.bn_var_u1, 1e-4))
    return out
