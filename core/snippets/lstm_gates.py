"""The LSTM & GRU gates page's view as a standalone PyTorch script: the same seeded model (trained the same way
when the page's is), the same input, the gates recomputed from weight_ih_l0, weight_hh_l0 and the biases, and
the differences to the module's outputs."""
from __future__ import annotations

from core import gate_tasks as tasks

_MODULE = {"LSTM": "nn.LSTM", "GRU": "nn.GRU", "RNN": "nn.RNN"}

_TASKS = {
    "impulse": '''step = torch.randint(0, L, (N,), generator=g)                       # where the impulse comes
height = 0.5 + torch.rand(N, generator=g, dtype=torch.float64)        # its height, in [0.5, 1.5)
X = torch.zeros(N, L, dtype=torch.float64)
X[torch.arange(N), step] = height
Y = torch.cumsum(X, 1)                                                # target: the height seen so far''',
    "sine": '''f = {lo} + {span} * torch.rand(N, 1, generator=g, dtype=torch.float64)   # cycles per step
phase = torch.rand(N, 1, generator=g, dtype=torch.float64)            # in periods
s = torch.sin(2 * math.pi * (f * t + phase))
X, Y = s[:, :-1], s[:, 1:]                                            # target: the next value''',
    "square": '''f = {lo} + {span} * torch.rand(N, 1, generator=g, dtype=torch.float64)   # cycles per step
phase = torch.rand(N, 1, generator=g, dtype=torch.float64)            # in periods
s = square(f * t + phase)
X, Y = s[:, :-1], s[:, 1:]                                            # target: the next value''',
    "walk": '''Y = torch.cumsum({step} * torch.randn(N, L, generator=g, dtype=torch.float64), 1)   # the clean walk: the target
X = Y + {noise} * torch.randn(N, L, generator=g, dtype=torch.float64)                 # what the model reads''',
    "electricity": '''start = torch.randint(0, {train} - L, (N,), generator=g)            # windows inside the first 7 days
windows = z[start[:, None] + torch.arange(L + 1)]                     # (N, L + 1)
X, Y = windows[:, :-1], windows[:, 1:]                                # target: the next reading''',
}

_SIGNALS = {
    "impulse": '''x = torch.zeros(T, dtype=torch.float64)
x[{impulse} - 1] = 1.0                                                  # one impulse at t = {impulse}
target = torch.cumsum(x, 0)''',
    "sine": '''s = torch.sin(2 * math.pi * {frequency} * torch.arange(1, T + 2, dtype=torch.float64))
x, target = s[:-1], s[1:]''',
    "square": '''s = square({frequency} * torch.arange(1, T + 2, dtype=torch.float64))
x, target = s[:-1], s[1:]''',
    "walk": '''gx = torch.Generator().manual_seed(SEED)
target = torch.cumsum({step} * torch.randn(T, generator=gx, dtype=torch.float64), 0)
x = target + {noise} * torch.randn(T, generator=gx, dtype=torch.float64)''',
    "electricity": '''x, target = z[{train}:{train} + T], z[{train} + 1:{train} + T + 1]         # from day 8 on''',
}

_RECOMPUTE = {
    "LSTM": '''    a = W_ih @ xs[t] + b_ih + W_hh @ h + b_hh          # (4H,), blocks in PyTorch's order i, f, g, o
    i, f, g_, o = a.chunk(4)
    i, f, g_, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g_), torch.sigmoid(o)
    c = f * c + i * g_                                  # c_t = f_t * c_(t-1) + i_t * g_t
    h = o * torch.tanh(c)                               # h_t = o_t * tanh(c_t)
    trace.append(dict(i=i, f=f, g=g_, o=o, c=c, h=h))''',
    "GRU": '''    ax, ah = W_ih @ xs[t] + b_ih, W_hh @ h + b_hh        # (3H,) each, blocks in PyTorch's order r, z, n
    r = torch.sigmoid(ax[:H] + ah[:H])
    z = torch.sigmoid(ax[H:2 * H] + ah[H:2 * H])
    n = torch.tanh(ax[2 * H:] + r * ah[2 * H:])         # reset AFTER the product: r * (W_hn h + b_hn)
    h = (1 - z) * n + z * h                             # PyTorch's z is the share of the OLD state kept
    trace.append(dict(r=r, z=z, n=n, h=h))''',
    "RNN": '''    h = torch.tanh(W_ih @ xs[t] + b_ih + W_hh @ h + b_hh)   # two biases, where the course has one
    trace.append(dict(h=h))''',
}

_COURSE = {
    "LSTM": '''# The course's equations (section 9.3): one matrix per gate on [h_(t-1), x_t], one bias.
blocks = dict(i=slice(0, H), f=slice(H, 2 * H), c=slice(2 * H, 3 * H), o=slice(3 * H, 4 * H))   # c = PyTorch's g
W = {k: torch.cat([W_hh[s], W_ih[s]], 1) for k, s in blocks.items()}   # W_f = [W_hf | W_if], (H, H + 1)
b = {k: b_ih[s] + b_hh[s] for k, s in blocks.items()}                  # b_f = b_if + b_hf
h, c, course_h = torch.zeros(H, dtype=torch.float64), torch.zeros(H, dtype=torch.float64), []
for t in range(T):
    hx = torch.cat([h, xs[t]])
    f = torch.sigmoid(W["f"] @ hx + b["f"])
    i = torch.sigmoid(W["i"] @ hx + b["i"])
    c_tilde = torch.tanh(W["c"] @ hx + b["c"])
    c = f * c + i * c_tilde
    o = torch.sigmoid(W["o"] @ hx + b["o"])
    h = o * torch.tanh(c)
    course_h.append(h)
course_err = (torch.stack(course_h) - out_h).abs().max().item()''',
    "GRU": '''# The course's equations (section 10.2) with the same weights: W_z negated so that its z is 1 - PyTorch's z,
# and the reset gate applied to h_(t-1) BEFORE the product, as the course writes it.
rows = dict(r=slice(0, H), z=slice(H, 2 * H), h=slice(2 * H, 3 * H))      # h = PyTorch's n
W = {k: torch.cat([W_hh[s], W_ih[s]], 1) for k, s in rows.items()}
b = {k: b_ih[s] + b_hh[s] for k, s in rows.items()}
W["z"], b["z"] = -W["z"], -b["z"]                                         # 1 - sigmoid(a) = sigmoid(-a)
h, course_h = torch.zeros(H, dtype=torch.float64), []
for t in range(T):
    hx = torch.cat([h, xs[t]])
    z = torch.sigmoid(W["z"] @ hx + b["z"])
    r = torch.sigmoid(W["r"] @ hx + b["r"])
    h_tilde = torch.tanh(W["h"] @ torch.cat([r * h, xs[t]]) + b["h"])
    h = (1 - z) * h + z * h_tilde
    course_h.append(h)
course_gap = (torch.stack(course_h) - out_h).abs().max().item()   # not 0: a different function''',
    "RNN": '''# The course's equation (section 8.2): h_t = tanh(W_hh h_(t-1) + W_xh x_t + b_h), one bias b_h = b_ih + b_hh.
h, course_h = torch.zeros(H, dtype=torch.float64), []
for t in range(T):
    h = torch.tanh(W_hh @ h + W_ih @ xs[t] + (b_ih + b_hh))
    course_h.append(h)
course_err = (torch.stack(course_h) - out_h).abs().max().item()''',
}


def _readings(length: int) -> str:
    """The first `length` readings of the bundled series (kW), written into the script."""
    from core.data import electricity_frame

    values = [repr(float(v)) for v in electricity_frame()["consumption"].to_numpy()[:length]]
    return ",\n    ".join(", ".join(values[i : i + 12]) for i in range(0, len(values), 12))


def code(cell: str, hidden: int, kind: str, trained: bool, seed: int, seq_len: int, frequency: float, unit: int) -> str:
    """A script that builds the page's model and input, recomputes the gates and prints what the page shows."""
    names = {"LSTM": "i f g o c h", "GRU": "r z n h", "RNN": "h"}[cell].split()
    fill = dict(lo=tasks.MIN_FREQ, span=f"({tasks.MAX_FREQ} - {tasks.MIN_FREQ})", step=tasks.WALK_STEP, noise=tasks.WALK_NOISE,
                train=tasks.ELEC_TRAIN, frequency=frequency, steps=tasks.TRAIN_STEPS)
    parts = [f'''import math

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

CELL, H, T, SEED, UNIT = "{cell}", {hidden}, {seq_len}, {seed}, {unit}   # cell, hidden size, sequence length, seed, unit shown


class Net(nn.Module):
    """The cell over (N, T, 1) sequences, then the readout y_hat_t = W_hy h_t + b_y at every step."""

    def __init__(self):
        super().__init__()
        self.rnn = {_MODULE[cell]}(1, H, batch_first=True)
        self.fc = nn.Linear(H, 1)

    def forward(self, x):
        out, _ = self.rnn(x)      # (N, T, H)
        return self.fc(out)       # (N, T, 1)


g = torch.Generator().manual_seed(SEED)
net = Net()
with torch.no_grad():  # PyTorch's default initialisation, drawn from g: U(-1/sqrt(H), 1/sqrt(H)) for the cell
    for p in net.rnn.parameters():
        nn.init.uniform_(p, -1 / math.sqrt(H), 1 / math.sqrt(H), generator=g)
    nn.init.kaiming_uniform_(net.fc.weight, a=math.sqrt(5), generator=g)
    nn.init.uniform_(net.fc.bias, -1 / math.sqrt(H), 1 / math.sqrt(H), generator=g)
''']
    if kind == "square":
        parts.append('''

def square(phase):
    """+1 in the first half of each period, -1 in the second."""
    return torch.where(torch.remainder(phase, 1.0) < 0.5, 1.0, -1.0).double()
''')
    if kind == "electricity":
        parts.append(f'''
# The bundled electricity series (kW, every 15 minutes), from its start; standardised with the first 7 days
readings = torch.tensor([
    {_readings(tasks.ELEC_TRAIN + seq_len + 1)},
], dtype=torch.float64)
z = (readings - readings[:{tasks.ELEC_TRAIN}].mean()) / readings[:{tasks.ELEC_TRAIN}].std()
''')
    if trained:
        parts.append(f'''
# Train on the task: {tasks.TASKS[kind]}
N, L = {tasks.TRAIN_SEQUENCES}, {tasks.TRAIN_LEN}
t = torch.arange(1, L + 2, dtype=torch.float64)
{_TASKS[kind].format(**fill)}
X, Y = X.float().unsqueeze(-1), Y.float().unsqueeze(-1)             # (N, L, 1)
loader = DataLoader(TensorDataset(X, Y), batch_size={tasks.BATCH_SIZE}, shuffle=True,
                    generator=torch.Generator().manual_seed(SEED))
optimizer = torch.optim.Adam(net.parameters(), lr={tasks.LR})
loss_fn = nn.MSELoss()
losses = []
net.train()
for epoch in range({tasks.EPOCHS}):
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = loss_fn(net(xb), yb)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
print(f"training: steps={{len(losses)}} first_loss={{losses[0]:.6f}} last_loss={{losses[-1]:.6f}}")
''')
    parts.append(f'''
# The input sequence x_1 ... x_T
{_SIGNALS[kind].format(impulse=tasks.impulse_step(seq_len), **fill)}
seq = x.float().view(1, T, 1)                                        # (N=1, T, D=1)

net.eval()
with torch.no_grad():
    out, state = net.rnn(seq)                                        # out: (1, T, H)
    y_hat = net.fc(out)[0, :, 0]
out_h = out[0].double()                                              # (T, H)

# The gates, recomputed from the module's own weights (in float64)
W_ih, W_hh = net.rnn.weight_ih_l0.detach().double(), net.rnn.weight_hh_l0.detach().double()   # (G*H, 1), (G*H, H)
b_ih, b_hh = net.rnn.bias_ih_l0.detach().double(), net.rnn.bias_hh_l0.detach().double()       # (G*H,) each
xs = seq[0].double()                                                 # (T, 1)
h, c, trace = torch.zeros(H, dtype=torch.float64), torch.zeros(H, dtype=torch.float64), []
for t in range(T):
{_RECOMPUTE[cell]}
ours = {{k: torch.stack([step[k] for step in trace]) for k in trace[0]}}   # each (T, H)
h_err = (ours["h"] - out_h).abs().max().item()
readout = ours["h"] @ net.fc.weight.detach().double().T + net.fc.bias.detach().double()
yhat_err = (readout[:, 0] - y_hat.double()).abs().max().item()
''')
    if cell == "LSTM":
        parts.append('''
# nn.LSTM returns the cell state only at the end (c_n): run it one step at a time to get c_t at every step
with torch.no_grad():
    hc, module_c = None, []
    for t in range(T):
        _, hc = net.rnn(seq[:, t:t + 1], hc)
        module_c.append(hc[1][0, 0])
c_err = (ours["c"] - torch.stack(module_c).double()).abs().max().item()
cn_err = (ours["c"][-1] - state[1][0, 0].double()).abs().max().item()
''')
    parts.append("\n" + _COURSE[cell] + "\n")
    errors = ["h_err", "c_err", "cn_err", "course_err", "yhat_err"] if cell == "LSTM" else (
        ["h_err", "yhat_err"] if cell == "GRU" else ["h_err", "course_err", "yhat_err"])
    last = " ".join(f"{n}={{ours['{n}'][-1, UNIT].item():.6f}}" for n in names)
    parts.append(f'''
print("check: " + " ".join(f"{{k}}={{v:.2e}}" for k, v in dict({", ".join(f"{e}={e}" for e in errors)}).items()))
print(f"last_step: t={{T}} unit={{UNIT}} {last} y_hat={{y_hat[-1].item():.6f}}")
''')
    if cell == "GRU":
        parts.append('print(f"course: gap={course_gap:.6f}")\n')
    if trained:
        parts.append('print(f"task: mse={((y_hat.double() - target) ** 2).mean().item():.6f}")\n')
    return "".join(parts)
