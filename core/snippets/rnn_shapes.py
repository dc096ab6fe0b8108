"""The RNN shapes page's view as a standalone PyTorch script: the forward pass and its shapes, the
last step against h_n, the parameter count, the chosen architecture and the chosen mistake."""
from __future__ import annotations

from core import rnn_architectures
from core.rnn_shapes import RNNConfig

_HEADER = '''import warnings

import torch
from torch import nn

N, T, D, H = {n}, {t}, {d}, {h}      # batch size, sequence length, input size, hidden size
num_layers = {layers}
batch_first = {batch_first}
bidirectional = {bidirectional}
D_dir = 2 if bidirectional else 1
seed = {seed}


def seeded(model, g):
    """PyTorch's default initialisation (U(-1/sqrt(H), 1/sqrt(H)) for RNN weights, U(-1/sqrt(fan_in), ...)
    for Linear), drawn from the generator g so the numbers match the page."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.RNNBase):
                bound = m.hidden_size ** -0.5
            elif isinstance(m, nn.Linear):
                bound = m.in_features ** -0.5
            else:
                continue
            for p in m.parameters(recurse=False):
                nn.init.uniform_(p, -bound, bound, generator=g)
    return model


def shape(t):
    return "x".join(str(s) for s in t.shape) or "scalar"


def attempt(fn):
    """Run fn; print PyTorch's error or warnings instead of stopping."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = fn()
        except (RuntimeError, ValueError) as e:
            print(f"error: {{type(e).__name__}}: {{e}}")
            value = None
    for w in caught:
        print(f"warning: {{w.message}}")
    return value


def layout(n, t, d):
    """(N, T, D) if batch_first else (T, N, D)."""
    return (n, t, d) if batch_first else (t, n, d)


# 1. One forward pass, with zero initial states as in the course
g = torch.Generator().manual_seed(seed)
rnn = seeded({module}, g)
x = torch.randn(layout(N, T, D), generator=g)         # {input_shape}
h0 = torch.zeros(D_dir * num_layers, N, H)            # (D_dir*num_layers, N, H): never batch-first
{forward}
print(f"shapes: input={{shape(x)}} output={{shape(out)}} h_n={{shape(h_n)}}{c_shape}")

out_ntf = out if batch_first else out.transpose(0, 1)   # (N, T, D_dir*H)
forward_diff = (out_ntf[:, -1, :H] - h_n[-D_dir]).abs().max().item()   # the last layer's forward state
line = f"last_step: forward_diff={{forward_diff:.3g}}"
if bidirectional:  # the backward direction's final state is at t = 1
    line += f" backward_first_diff={{(out_ntf[:, 0, H:] - h_n[-1]).abs().max().item():.3g}}"
    line += f" backward_last_diff={{(out_ntf[:, -1, H:] - h_n[-1]).abs().max().item():.6f}}"
print(line)

G = {gates}                                              # weight blocks per cell: RNN 1, LSTM 4, GRU 3
sizes = [D] + [D_dir * H] * (num_layers - 1)            # what each layer reads
formula = D_dir * sum(G * H * (d_l + H) + 2 * G * H for d_l in sizes)   # two biases, b_ih and b_hh
print(f"params: count={{sum(p.numel() for p in rnn.parameters())}} formula={{formula}}")
'''

_ARCH = '''

# 2. The architecture: {label}
{source}


g = torch.Generator().manual_seed(seed)
model = seeded({build}, g)
x = torch.randn({input_shape}, generator=g)
with torch.no_grad():
    y = model(x)
print(f"architecture: name={arch} input={{shape(x)}} output={{shape(y)}}")
'''


def _forward(cell: str, h0: str = "h0") -> str:
    if cell == "LSTM":
        return f"with torch.no_grad():\n    out, (h_n, c_n) = rnn(x, ({h0}, torch.zeros_like({h0})))"
    return f"with torch.no_grad():\n    out, h_n = rnn(x, {h0})"


def _module(cell: str, input_size: str = "D", bidirectional: str = "bidirectional") -> str:
    return f"nn.{cell}({input_size}, H, num_layers=num_layers, batch_first=batch_first, bidirectional={bidirectional})"


def _call(cell: str, x: str, h0: str) -> str:
    return f"rnn({x}, ({h0}, torch.zeros_like({h0})))" if cell == "LSTM" else f"rnn({x}, {h0})"


def _error(key: str, config: RNNConfig, arch: str) -> str:
    """The mistake and its fix, seeded exactly as core.rnn_errors makes them."""
    cell = config.cell
    start = "g = torch.Generator().manual_seed(seed)\n"
    if key == "no_feature_dim":
        fix = "x.unsqueeze(-1)" if config.batch_first else "x.unsqueeze(-1).transpose(0, 1)"
        return start + f'''rnn = seeded({_module(cell, "1")}, g)
x = torch.randn(N, T, generator=g)                      # (N, T): no feature dimension
out = attempt(lambda: rnn(x)[0])
print(f"wrong: output={{shape(out) if out is not None else 'none'}}")
out = attempt(lambda: rnn({fix})[0])                   # the fix
print(f"fixed: output={{shape(out)}}")
'''
    if key == "h0_shape":
        return start + f'''rnn = seeded({_module(cell)}, g)
x = torch.randn(layout(N, T, D), generator=g)
wrong = torch.zeros(N, D_dir * num_layers, H)           # (N, D_dir*L, H): batch first, like x
out = attempt(lambda: {_call(cell, "x", "wrong")}[0])
print(f"wrong: output={{shape(out) if out is not None else 'none'}}")
right = torch.zeros(D_dir * num_layers, N, H)           # the fix: (D_dir*L, N, H)
out = attempt(lambda: {_call(cell, "x", "right")}[0])
print(f"fixed: output={{shape(out)}}")
'''
    if key == "batch_first":
        return start + f'''rnn = seeded({_module(cell)}, g)
x = torch.randn(layout(T, N, D), generator=g)           # the other layout
h0 = torch.zeros(D_dir * num_layers, N, H)
out = attempt(lambda: {_call(cell, "x", "h0")}[0])
print(f"wrong: output={{shape(out) if out is not None else 'none'}}")
out = attempt(lambda: {_call(cell, "x.transpose(0, 1)", "h0")}[0])   # the fix
print(f"fixed: output={{shape(out)}}")
'''
    seq2vec = rnn_architectures.source("seq2vec") if arch != "seq2vec" else "# Seq2Vec is defined above"
    if key in ("squeeze_scalar", "target_broadcast"):
        batch = "1" if key == "squeeze_scalar" else "N"
        wrong = "y_hat.squeeze()" if key == "squeeze_scalar" else "y_hat"
        return f'''{seq2vec}


{start}model = seeded(Seq2Vec({_module(cell)}), g)
x = torch.randn(layout({batch}, T, D), generator=g)
y = torch.randn({batch}, generator=g)
with torch.no_grad():
    y_hat = model(x)                                    # ({batch}, 1)
    wrong = attempt(lambda: nn.MSELoss()({wrong}, y).item())
    fixed = attempt(lambda: nn.MSELoss()(y_hat.squeeze(-1), y).item())   # the fix
print(f"loss: wrong={{wrong:.6f}} fixed={{fixed:.6f}}")
'''
    pick = "out[:, -1, :]" if config.batch_first else "out[-1]"
    return start + f'''rnn = seeded({_module(cell, bidirectional="True")}, g)
x = torch.randn(layout(N, T, D), generator=g)
with torch.no_grad():
    out, _ = rnn(x)                                     # (.., .., 2H)
    fc_wrong, fc_right = seeded(nn.Linear(H, 1), g), seeded(nn.Linear(2 * H, 1), g)
    attempt(lambda: fc_wrong({pick}))
    y_hat = attempt(lambda: fc_right({pick}))          # the fix: D_dir*H inputs
print(f"fixed: output={{shape(y_hat)}}")
'''


def code(config: RNNConfig, arch: str, out_len: int, error: str, seed: int = 0) -> str:
    """A script that reproduces the page for these settings and prints its shapes and numbers."""
    c = config
    header = _HEADER.format(
        n=c.batch_size, t=c.seq_len, d=c.input_size, h=c.hidden_size, layers=c.num_layers, batch_first=c.batch_first,
        bidirectional=c.bidirectional, seed=seed, module=_module(c.cell),
        input_shape="(N, T, D)" if c.batch_first else "(T, N, D)", forward=_forward(c.cell),
        c_shape=" c_n={shape(c_n)}" if c.is_lstm else "", gates={"RNN": 1, "LSTM": 4, "GRU": 3}[c.cell],
    )
    build = {"seq2seq": "Seq2Seq({m})", "seq2vec": "Seq2Vec({m})", "vec2seq": "Vec2Seq({m}, T)",
             "encdec": "EncoderDecoder({m}, {out_len})"}[arch].format(m=_module(c.cell), out_len=out_len)
    arch_part = _ARCH.format(label=rnn_architectures.LABELS[arch], source=rnn_architectures.source(arch), build=build,
                             input_shape="N, D" if arch == "vec2seq" else "layout(N, T, D)", arch=arch)
    error_part = f"\n\n# 3. The mistake: {error}\n" + _error(error, c, arch)
    return header + arch_part + error_part
