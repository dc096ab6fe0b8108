"""The Initialization page's view as a standalone PyTorch script: the same MLP, weights, batch and loss, so its
per-layer numbers match the page's; then the training comparison, step for step as the page's engine runs it."""
from __future__ import annotations

from core.snippets import WATER_DATASET

from core import data
from core import init_training
from core import initialization as ini

_ACTIVATIONS = {"sigmoid": "nn.Sigmoid()", "tanh": "nn.Tanh()", "relu": "nn.ReLU()",
                "leaky_relu": f"nn.LeakyReLU({ini.LEAKY_SLOPE})", "elu": f"nn.ELU(alpha={ini.ELU_ALPHA})"}


def _edge(activation: str) -> str:
    c = ini.SATURATION
    if activation == "sigmoid":
        return f"s = (1 + math.sqrt(1 - {c})) / 2\nedge = math.log(s / (1 - s))           # sigma'(u) < {c} * 1/4 where |u| > edge\n"
    if activation == "tanh":
        return f"edge = math.atanh(math.sqrt(1 - {c}))      # tanh'(u) < {c} where |u| > edge\n"
    return ""


_WEAK = {"sigmoid": "u.abs() > edge", "tanh": "u.abs() > edge", "relu": "u <= 0", "leaky_relu": "u < 0", "elu": "u < 0"}


def _init_function(scheme: str, activation: str) -> str:
    weight, bias = ini.init_source(scheme, activation)
    return f'''def init_{scheme}(w, b, g):
    """{ini.SCHEME_LABELS[scheme]}: the weight, then the bias, drawn from g."""
    {weight}
    {bias}
'''


def code(depth: int, width: int, activation: str, scheme: str, batchnorm: bool, compare: tuple[str, ...] = (),
         seed: int = 0) -> str:
    """A script that redoes the page's pass and prints every layer's numbers, then (with 2–3 schemes in
    `compare`) trains the comparison MLP under each and prints its last epoch."""
    train = init_training.MIN_COMPARE <= len(compare) <= init_training.MAX_COMPARE
    schemes = list(dict.fromkeys([scheme, *(compare if train else ())]))
    inits = "\n\n".join(_init_function(s, activation) for s in schemes)
    var_w = ini.weight_variance(scheme, activation, width, width)
    var_b = ini.bias_variance(scheme, width)
    dead = ' + f" dead={(u <= 0).all(dim=0).double().mean().item():.8g}"' if activation == "relu" else ""
    imports = ("import math\nfrom pathlib import Path\n\nimport pandas as pd\nimport torch\nfrom torch import nn\n"
               "from torch.utils.data import DataLoader, Dataset\n") if train else "import math\n\nimport torch\nfrom torch import nn\n"
    script = f'''{imports}
torch.set_num_threads(1)   # as the app runs: the order of float sums, and so the last digits, depend on it
depth, width, batch = {depth}, {width}, {ini.batch_size(width)}   # layers, units per layer, inputs: {ini.VALUES_PER_LAYER:,} values per layer
batchnorm = {batchnorm}                  # BatchNorm1d after each Linear, before the activation


{inits}

def mlp(depth, n_in, width, init, g, n_out=None):
    """depth x [Linear -> (BatchNorm1d) -> activation], then a Linear head if n_out is given."""
    blocks = []
    with torch.no_grad():
        for i in range(depth):
            linear = nn.Linear(n_in if i == 0 else width, width)   # PyTorch's own draw, replaced from g
            init(linear.weight, linear.bias, g)
            norm = [nn.BatchNorm1d(width)] if batchnorm else []
            blocks.append(nn.Sequential(linear, *norm, {_ACTIVATIONS[activation]}))
        if n_out is not None:
            head = nn.Linear(width, n_out)
            init(head.weight, head.bias, g)
            blocks.append(head)
    return nn.Sequential(*blocks)


# One forward and backward pass
g = torch.Generator().manual_seed({seed})        # every random number of the pass comes from g, in this order
net = mlp(depth, width, width, init_{scheme}, g)
x = torch.randn(batch, width, generator=g)      # (B, n) inputs, Var(x) = 1
r = torch.randn(batch, width, generator=g)      # (B, n) the loss's direction: L = (1/B) sum(r * a_L)
net.train()                                     # BatchNorm normalises with the batch's statistics
inputs, zs, us, outs = [], [], [], []
h = x
for block in net:
    inputs.append(h)
    z = block[0](h)                             # z = W x + b
    u = block[1](z) if batchnorm else z         # the activation's input
    h = block[-1](u)                            # a = f(u)
    zs.append(z), us.append(u), outs.append(h)
loss = (h * r).sum() / batch
loss.backward()

var_w = {var_w!r}   # Var(W) by the formula of {ini.SCHEME_LABELS[scheme]}
var_b = {var_b!r}   # Var(b) by the formula
{_edge(activation)}with torch.no_grad():
    W = torch.cat([block[0].weight.flatten() for block in net]).double()
    print(f"weights: var_formula={{var_w:.8g}} var_measured={{W.square().mean().item():.8g}} max_abs={{W.abs().max().item():.8g}}")
    print(f"loss: value={{loss.item():.8g}}")
    for l, block in enumerate(net, start=1):
        x_in, z, u, a = (t[l - 1].double() for t in (inputs, zs, us, outs))
        course = width * var_w * x_in.var(unbiased=False).item()            # n * Var(W) * Var(x)
        with_mean = width * var_w * x_in.square().mean().item() + var_b    # n * Var(W) * E[x^2] + Var(b)
        grad = block[0].weight.grad.double().norm().item()
        share = ({_WEAK[activation]}).double().mean().item()
        print(f"layer {{l}}: var_z={{z.var(unbiased=False).item():.8g}} pred_course={{course:.8g}} pred_mean={{with_mean:.8g}} "
              f"var_a={{a.var(unbiased=False).item():.8g}} grad_norm={{grad:.8g}} share={{share:.8g}}"{dead})
'''
    if train:
        script += _training(list(compare), seed)
    return script


def _training(compare: list[str], seed: int) -> str:
    entries = ", ".join(f'"{s}": init_{s}' for s in compare)
    return f'''

# Training comparison: the same deep MLP on the water-quality data, once per scheme
DATA = Path({str(data.ASSETS)!r})


{WATER_DATASET}

train_set = WaterDataset(DATA / "water" / "water_train.csv")
val_x, val_y = next(iter(DataLoader(WaterDataset(DATA / "water" / "water_test.csv"), batch_size=10_000)))
bce = nn.BCEWithLogitsLoss()
for name, init in {{{entries}}}.items():
    model = mlp({init_training.TRAIN_DEPTH}, 9, {init_training.TRAIN_WIDTH}, init, torch.Generator().manual_seed({seed}), n_out=1)
    loader = DataLoader(train_set, batch_size={init_training.TRAIN_BATCH}, shuffle=True, generator=torch.Generator().manual_seed({seed + 1}))
    optimizer = torch.optim.SGD(model.parameters(), lr={init_training.TRAIN_LR}, momentum=0.9)
    status, step, train_loss, val_loss, accuracy = "done", 0, float("nan"), float("nan"), float("nan")
    for epoch in range({init_training.TRAIN_EPOCHS}):
        model.train()
        total, count = 0.0, 0
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = bce(model(xb), yb.view(-1, 1))            # (N, 1) logits against (N, 1) labels
            if not math.isfinite(loss.item()):
                status = "diverged"
                break
            loss.backward()
            optimizer.step()
            step += 1
            total, count = total + loss.item() * len(xb), count + len(xb)
        if status == "diverged":
            break
        model.eval()
        with torch.no_grad():
            out = model(val_x)
            train_loss, val_loss = total / count, bce(out, val_y.view(-1, 1)).item()
            accuracy = ((out.view(-1) > 0).float() == val_y).float().mean().item()
    print(f"train {{name}}: status={{status}} steps={{step}} train_loss={{train_loss:.8g}} val_loss={{val_loss:.8g}} accuracy={{accuracy:.8g}}")
'''
