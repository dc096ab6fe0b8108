"""The Backpropagation page's view as a standalone PyTorch script: the course's Net and training loop on the
page's batch, the δ recursion by hand against .grad, the SGD step against optim.SGD, and .grad accumulating."""
from __future__ import annotations

from core import backprop as bp


def _rows(x) -> str:
    return ",\n    ".join("[" + ", ".join(f"{float(v):.9g}" for v in row) + "]" for row in x)


def code(setting: bp.Setting) -> str:
    """A script with the batch written in that runs one pass of the course's loop and prints what the page shows."""
    s = setting
    b = bp.batch(s)
    rows = ", ".join(str(r) for r in b.rows)
    if s.multiclass:
        lo, hi = bp.ph_edges()
        data = f'''# Row(s) {rows} of the bundled water-quality training table: the 8 features other than pH (min-max scaled
# to [0, 1]); the target is the pH tercile of the training table: 0 below {lo:.6g}, 2 above {hi:.6g}, else 1
x = torch.tensor([
    {_rows(b.x)},
])  # (B, 8)
y = torch.tensor([{", ".join(str(int(v)) for v in b.y)}])  # (B,) class indices'''
        n_in, n_out, head, crit, target = 8, 3, "x = self.fc3(x)  # logits: nn.CrossEntropyLoss applies the softmax", \
            "nn.CrossEntropyLoss()", "y_batch"
        out_delta = '''p = torch.softmax(z[2], dim=0)                          # (3, B)
onehot = torch.nn.functional.one_hot(y, 3).T.double()  # (3, B)
delta[2] = (p - onehot) / B                             # cross-entropy on logits: δ⁽³⁾ = (softmax(z) − onehot(y))/B'''
        act_out = "torch.softmax(z[l], dim=0)"
    else:
        data = f'''# Row(s) {rows} of the bundled water-quality training table: 9 features min-max scaled to [0, 1], then Potability
x = torch.tensor([
    {_rows(b.x)},
])  # (B, 9)
y = torch.tensor([{", ".join(f"{float(v):g}." if float(v) == int(v) else f"{float(v):g}" for v in b.y)}])  # (B,) labels 0/1'''
        n_in, n_out, head, target = 9, 1, "x = nn.functional.sigmoid(self.fc3(x))", "y_batch.view(-1, 1)"
        crit = "nn.BCELoss()" if s.loss == "BCE" else "nn.MSELoss()"
        if s.loss == "BCE":
            out_delta = "delta[2] = (a[3] - y.double()) / B                       # BCE after a sigmoid: δ⁽³⁾ = (a − y)/B"
        else:
            out_delta = ("delta[2] = 2 * (a[3] - y.double()) * a[3] * (1 - a[3]) / B  "
                         "# MSE after a sigmoid: δ⁽³⁾ = 2(a − y)·σ′(z)/B")
        act_out = "torch.sigmoid(z[l])"
    extra_losses = "" if s.multiclass else f'''
with torch.no_grad():                                    # both losses of the same output, and the logits version
    out = start(x)
    z3 = start.fc3(torch.relu(start.fc2(torch.relu(start.fc1(x)))))
    print(f"losses: BCE={{nn.BCELoss()(out, y.view(-1, 1)).item():.8g}} MSE={{nn.MSELoss()(out, y.view(-1, 1)).item():.8g}} "
          f"BCEWithLogits={{nn.BCEWithLogitsLoss()(z3, y.view(-1, 1)).item():.8g}}")

# A saturated sigmoid: z = 20 but y = 0. In float32 σ(20) is exactly 1, BCELoss clamps log(0) to −100 and its
# gradient through the sigmoid is 0; BCEWithLogitsLoss works on z and gets the loss (≈ 20) and gradient (≈ 1) right.
for name, fn in (("BCELoss", lambda z: nn.BCELoss()(torch.sigmoid(z), torch.zeros(1))),
                 ("BCEWithLogitsLoss", lambda z: nn.BCEWithLogitsLoss()(z, torch.zeros(1)))):
    z = torch.tensor([20.0], requires_grad=True)
    value = fn(z)
    value.backward()
    print(f"saturated_{{name}}: loss={{value.item():.8g}} grad={{z.grad.item():.8g}}")'''
    return f'''import copy

import torch
from torch import nn, optim

{data}


class Net(nn.Module):
    def __init__(self, hidden1={s.hidden1}, hidden2={s.hidden2}):
        super().__init__()
        self.fc1 = nn.Linear({n_in}, hidden1)   # W⁽¹⁾ ∈ ℝ^(hidden1×{n_in})
        self.fc2 = nn.Linear(hidden1, hidden2)  # W⁽²⁾ ∈ ℝ^(hidden2×hidden1)
        self.fc3 = nn.Linear(hidden2, {n_out})   # W⁽³⁾ ∈ ℝ^({n_out}×hidden2)

    def forward(self, x):
        x = nn.functional.relu(self.fc1(x))
        x = nn.functional.relu(self.fc2(x))
        {head}
        return x


net = Net()
g = torch.Generator().manual_seed({s.seed})  # PyTorch's default initialisation, drawn from a seeded generator
with torch.no_grad():
    for layer in (net.fc1, net.fc2, net.fc3):
        nn.init.kaiming_uniform_(layer.weight, a=5 ** 0.5, generator=g)
        bound = 1 / layer.in_features ** 0.5
        nn.init.uniform_(layer.bias, -bound, bound, generator=g)
start = copy.deepcopy(net)  # the initial weights, for the checks below
criterion = {crit}
optimizer = optim.SGD(net.parameters(), lr={s.lr:g})

# The course's training loop (section 2.6), here one epoch over one batch: the page's samples
dataloader_train = [(x, y)]
num_epochs = 1
for epoch in range(num_epochs):
    for x_batch, y_batch in dataloader_train:
        # Forward pass: compute ŷ = f_θ(x)
        y_pred = net(x_batch)

        # Compute loss: L = ℓ(ŷ, y), the mean over the batch
        loss = criterion(y_pred, {target})

        # Reset gradients: ∇θ ← 0 (PyTorch sets every .grad to None)
        optimizer.zero_grad()

        # Backward pass: compute ∇θL via backpropagation
        loss.backward()
        grads = [p.grad.clone() for p in net.parameters()]  # kept for the checks below
        before = [p.detach().clone() for p in net.parameters()]

        # Parameter update: θ ← θ − η·∇θL (plain SGD here; the course's loop uses Adam)
        optimizer.step()
print(f"loss: {'CE' if s.multiclass else s.loss}={{loss.item():.8g}}")
{extra_losses}

# Backpropagation by hand (section 2.5) on column vectors, z⁽ˡ⁾ = W⁽ˡ⁾a⁽ˡ⁻¹⁾ + b⁽ˡ⁾, in float64
W = [layer.weight.detach().double() for layer in (start.fc1, start.fc2, start.fc3)]
b = [layer.bias.detach().double() for layer in (start.fc1, start.fc2, start.fc3)]
B = x.shape[0]
a, z = [x.T.double()], []                                # a⁽⁰⁾ = x, (9 or 8, B)
for l in range(3):
    z.append(W[l] @ a[l] + b[l][:, None])                # (n_l, B)
    a.append(torch.relu(z[l]) if l < 2 else {act_out})
delta = [None, None, None]
{out_delta}
for l in (1, 0):
    delta[l] = W[l + 1].T @ delta[l + 1] * (z[l] > 0)     # δ⁽ˡ⁾ = (W⁽ˡ⁺¹⁾)ᵀδ⁽ˡ⁺¹⁾ ⊙ σ′(z⁽ˡ⁾), ReLU′ = 1[z > 0]
for l in range(3):
    dW, db = delta[l] @ a[l].T, delta[l].sum(dim=1)     # ∂L/∂W⁽ˡ⁾ = δ⁽ˡ⁾(a⁽ˡ⁻¹⁾)ᵀ, ∂L/∂b⁽ˡ⁾ = δ⁽ˡ⁾ summed over the batch
    print(f"fc{{l + 1}}: grad_norm={{grads[2 * l].double().norm().item():.8g}} "
          f"weight_error={{(dW - grads[2 * l]).abs().max().item():.3g}} bias_error={{(db - grads[2 * l + 1]).abs().max().item():.3g}}")

# One SGD step by hand, θ − η·∇θL, against what optim.SGD did
sgd_error = max((p.detach() - (p0 - {s.lr:g} * g0)).abs().max().item() for p, p0, g0 in zip(net.parameters(), before, grads))
print(f"step: lr={s.lr:g} sgd_error={{sgd_error:.3g}}")

# Forgetting zero_grad: a second forward and backward ADD to .grad
net = copy.deepcopy(start)
norms = []
for _ in range(2):
    loss = criterion(net(x), {"y" if s.multiclass else "y.view(-1, 1)"})
    loss.backward()
    norms.append(net.fc3.weight.grad.double().norm().item())
print(f"accumulate: once={{norms[0]:.8g}} twice={{norms[1]:.8g}} ratio={{norms[1] / norms[0]:.8g}}")
'''
