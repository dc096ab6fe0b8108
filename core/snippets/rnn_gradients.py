"""The Gradients through time page's view as a standalone PyTorch script."""
from __future__ import annotations


def code(cell: str, seq_len: int, hidden: int, d_x: int, layers: int, memory_bias: float, seed: int, radius: float,
         theta: float) -> str:
    """A script that rebuilds the page's modules from the same seeds and prints ‖∂h_T/∂h_0‖₂ per cell, the
    rescaled RNN, the clipped gradient and the parameter counts; `--time` adds the LSTM vs GRU timing."""
    return f'''import math
import statistics
import sys
import time

import torch
from torch import nn
import torch.nn.functional as F

T, D_H, D_X, LAYERS = {seq_len}, {hidden}, {d_x}, {layers}   # sequence length, hidden size, input size, layers
MEMORY_BIAS = {memory_bias!r}   # added to b_ih of the LSTM forget gate and the GRU update gate
SEED, RHO, THETA, CELL = {seed}, {radius!r}, {theta!r}, "{cell}"
MODULES = {{"RNN": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}}
STEPS = {{"RNN": nn.RNNCell, "LSTM": nn.LSTMCell, "GRU": nn.GRUCell}}
GATES = {{"RNN": 1, "LSTM": 4, "GRU": 3}}   # weight blocks: (h) (i, f, g, o) (r, z, n)


def build(kind, num_layers=1, dtype=torch.float64):
    """PyTorch's default init, U(-1/sqrt(d_h), 1/sqrt(d_h)) for every parameter, drawn from a seeded generator."""
    with torch.device("meta"):
        net = MODULES[kind](D_X, D_H, num_layers=num_layers, batch_first=True, dtype=dtype)
    net = net.to_empty(device="cpu")
    g, bound = torch.Generator().manual_seed(SEED), 1 / math.sqrt(D_H)
    with torch.no_grad():
        for p in net.parameters():
            nn.init.uniform_(p, -bound, bound, generator=g)
        if kind != "RNN":   # rows d_h..2d_h: LSTM's forget gate f, GRU's update gate z
            for layer in range(num_layers):
                getattr(net, f"bias_ih_l{{layer}}")[D_H:2 * D_H] += MEMORY_BIAS
    return net


x = torch.randn(T, D_X, generator=torch.Generator().manual_seed(SEED + 1), dtype=torch.float64)   # (T, d_x)


def jacobians(net, linear=False):
    """d/dh_k of h_T for k = 0..T-1, (T, d_h, d_h): d_h copies of x step by step through the cell that shares
    the module's weights; one backward pass with the identity as output gradient gives row b from copy b."""
    kind = next(k for k, v in MODULES.items() if type(net) is v)
    with torch.device("meta"):
        step = STEPS[kind](D_X, D_H, dtype=torch.float64)
    step = step.to_empty(device="cpu")
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        setattr(step, name, getattr(net, name + "_l0"))
    xs = x.unsqueeze(1).expand(T, D_H, D_X)   # (T, d_h copies, d_x)
    h = torch.zeros(D_H, D_H, dtype=torch.float64, requires_grad=True)
    c = torch.zeros(D_H, D_H, dtype=torch.float64)
    hs = [h]
    for t in range(T):
        if linear:   # the simple RNN without tanh
            h = F.linear(h, step.weight_hh, step.bias_hh) + F.linear(xs[t], step.weight_ih, step.bias_ih)
        elif kind == "LSTM":
            h, c = step(xs[t], (h, c))
        else:
            h = step(xs[t], h)
        hs.append(h)
    return torch.stack(torch.autograd.grad(hs[-1], hs[:-1], torch.eye(D_H, dtype=torch.float64)))


def norm2(matrix):
    return torch.linalg.matrix_norm(matrix, ord=2).item()   # largest singular value


# 1. Gradient flow through time at PyTorch's initialisation
flow = {{kind: norm2(jacobians(build(kind))[0]) for kind in MODULES}}
print("flow: " + " ".join(f"{{kind}}={{value:.10g}}" for kind, value in flow.items()))

# 2. The simple RNN with W_hh rescaled to spectral radius RHO, with tanh and without
rnn = build("RNN")
with torch.no_grad():
    lambda_init = torch.linalg.eigvals(rnn.weight_hh_l0).abs().max().item()
    rnn.weight_hh_l0.mul_(RHO / lambda_init)
w_hh = rnn.weight_hh_l0.detach()
print(f"radius: lambda_init={{lambda_init:.10g}} lambda={{torch.linalg.eigvals(w_hh).abs().max().item():.10g}} "
      f"sigma_max={{norm2(w_hh):.10g}} tanh={{norm2(jacobians(rnn)[0]):.10g}} linear={{norm2(jacobians(rnn, linear=True)[0]):.10g}} "
      f"rho_T={{RHO ** T:.10g}}")

# 3. Gradient clipping: the network reads x and must recall x_1 at the end, loss (fc(h_T) - x_1[0])^2
net = build(CELL)
if CELL == "RNN":
    with torch.no_grad():
        net.weight_hh_l0.mul_(RHO / torch.linalg.eigvals(net.weight_hh_l0).abs().max())
with torch.device("meta"):
    fc = nn.Linear(D_H, 1, dtype=torch.float64)
fc = fc.to_empty(device="cpu")
g = torch.Generator().manual_seed(SEED + 2)
with torch.no_grad():
    for p in fc.parameters():
        nn.init.uniform_(p, -1 / math.sqrt(D_H), 1 / math.sqrt(D_H), generator=g)
out, _ = net(x.unsqueeze(0))   # (1, T, d_h)
loss = (fc(out[:, -1]).squeeze() - x[0, 0]) ** 2
loss.backward()
params = [*net.parameters(), *fc.parameters()]
norm = torch.sqrt(sum((p.grad ** 2).sum() for p in params)).item()
factor = min(1.0, THETA / norm)   # the course: g <- min(1, theta / ||g||) g
returned = nn.utils.clip_grad_norm_(params, THETA).item()   # PyTorch: min(1, theta / (||g|| + 1e-6))
clipped = torch.sqrt(sum((p.grad ** 2).sum() for p in params)).item()
print(f"clip: loss={{loss.item():.10g}} norm={{norm:.10g}} returned={{returned:.10g}} factor={{factor:.10g}} clipped={{clipped:.10g}}")

# 4. Parameter counts: the course's one-bias formula against sum(p.numel()); layers after the first read d_h
inputs = [D_X] + [D_H] * (LAYERS - 1)
course = {{kind: sum(G * D_H * (D_H + d + 1) for d in inputs) for kind, G in GATES.items()}}
numel = {{kind: sum(p.numel() for p in MODULES[kind](D_X, D_H, num_layers=LAYERS).parameters()) for kind in MODULES}}
print("course: " + " ".join(f"{{kind}}={{n}}" for kind, n in course.items()))
print("numel: " + " ".join(f"{{kind}}={{n}}" for kind, n in numel.items()))
print("difference: " + " ".join(f"{{kind}}={{numel[kind] - course[kind]}}" for kind in MODULES))   # = G * d_h * layers

# 5. `python this_script.py --time`: forward + backward of a batch of 32 in float32, nn.LSTM and nn.GRU as PyTorch
#    runs them, then the same layers one nn.LSTMCell / nn.GRUCell call per time step; runs interleaved
if "--time" in sys.argv:
    batch = torch.randn(32, T, D_X)

    def stepped(cells):
        out = batch
        for cell in cells:
            h = torch.zeros(len(batch), D_H)
            state, hs = ((h, h) if isinstance(cell, nn.LSTMCell) else h), []
            for t in range(T):
                state = cell(out[:, t], state)
                hs.append(state[0] if isinstance(state, tuple) else state)
            out = torch.stack(hs, 1)
        return out

    nets = {{kind: build(kind, LAYERS, torch.float32) for kind in ("LSTM", "GRU")}}
    cells = {{kind + "Cell": nn.ModuleList(STEPS[kind](d, D_H) for d in inputs) for kind in ("LSTM", "GRU")}}
    runs = {{**{{k: (lambda n=n: n(batch)[0]) for k, n in nets.items()}}, **{{k: (lambda c=c: stepped(c)) for k, c in cells.items()}}}}
    modules = {{**nets, **cells}}
    times = {{name: [] for name in runs}}
    for i in range(11):
        for name in runs:
            modules[name].zero_grad()
            start = time.perf_counter()
            runs[name]().sum().backward()
            if i:   # the first round warms up
                times[name].append(1000 * (time.perf_counter() - start))
    for name, ms in times.items():
        q1, q2, q3 = statistics.quantiles(ms, n=4, method="inclusive")
        print(f"time_{{name}}: median_ms={{q2:.3f}} q1={{q1:.3f}} q3={{q3:.3f}}")
    median = {{name: statistics.median(ms) for name, ms in times.items()}}
    print(f"time: gru_over_lstm={{median['GRU'] / median['LSTM']:.3f}} "
          f"grucell_over_lstmcell={{median['GRUCell'] / median['LSTMCell']:.3f}}")
'''
