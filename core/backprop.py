"""The training loop from the inside (course §1.4, §2.1–2.3, §2.5, §2.6): the course's Net on bundled
water-quality samples, its forward pass layer by layer, the loss, the error signals δ⁽ˡ⁾ and the gradients
by hand beside autograd's `.grad`, and `LoopLab`, which presses zero_grad / forward / backward / step one
at a time on a real model and optimizer.

Conventions: the course writes layers on column vectors, z⁽ˡ⁾ = W⁽ˡ⁾a⁽ˡ⁻¹⁾ + b⁽ˡ⁾; a batch of B samples is
B columns, so every activation and error signal here is (n_l, B). `nn.Linear` stores W⁽ˡ⁾ with the same
(n_l, n_{l−1}) shape but multiplies row-vector batches, x Wᵀ + b: the same numbers, transposed. The hand
computation runs in float64 on the model's float32 weights; PyTorch runs in float32, its default.

The features are used as bundled, min-max scaled to [0, 1] with the training table's range, which is
what the Training studio feeds the same Net.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn, optim

from core.checks import Check
from core.data import water_frames
from core.models import WaterNet, init_parameters
from core.rng import generator

LOSSES = ("BCE", "MSE", "Cross-entropy (3 classes)")
CROSS_ENTROPY = LOSSES[2]
LAYERS = ("fc1", "fc2", "fc3")
NUM_CLASSES = 3
CLASS_NAMES = ("low pH", "middle pH", "high pH")
MAX_BATCH = 8
MAX_WIDTH = 32
LR_CHOICES = (0.001, 0.01, 0.05, 0.1, 0.5, 1.0)
SATURATED_LOGITS = (5.0, 10.0, 15.0, 17.0, 20.0, 50.0)
MAX_LOG = 60  # presses LoopLab keeps


_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def sup(l: int) -> str:
    """A layer index as a superscript, ⁽ˡ⁾: sup(3) == "⁽³⁾"."""
    return f"⁽{str(l).translate(_SUPERSCRIPT)}⁾"


@dataclass(frozen=True)
class Setting:
    """One view of the page: which samples, which Net, which loss and learning rate."""

    sample: int = 0  # first row of the batch in the training table
    batch: int = 1  # B, consecutive rows (wrapping around the table's end)
    hidden1: int = 16  # n_1
    hidden2: int = 8  # n_2
    loss: str = "BCE"  # one of LOSSES
    lr: float = 0.1  # η of optim.SGD
    seed: int = 0  # decides the initial weights

    @property
    def multiclass(self) -> bool:
        return self.loss == CROSS_ENTROPY

    def validate(self) -> None:
        if self.loss not in LOSSES:
            raise ValueError(f"unknown loss {self.loss!r}; choose from {', '.join(LOSSES)}")
        if not 1 <= self.batch <= MAX_BATCH:
            raise ValueError(f"the batch holds 1 to {MAX_BATCH} samples")
        if not (1 <= self.hidden1 <= MAX_WIDTH and 1 <= self.hidden2 <= MAX_WIDTH):
            raise ValueError(f"hidden widths go from 1 to {MAX_WIDTH}")
        if not self.lr > 0:
            raise ValueError("the learning rate must be positive")


class ThreeClassNet(WaterNet):
    """The course's Net with a 3-unit head and no sigmoid: its logits go to `nn.CrossEntropyLoss` (§6.1)."""

    def __init__(self, n_features: int = 8, hidden1: int = 16, hidden2: int = 8):
        super().__init__(n_features, hidden1, hidden2, logits=True)
        self.fc3 = nn.Linear(hidden2, NUM_CLASSES)


# ---------------------------------------------------------------- data and model

@functools.lru_cache(maxsize=1)
def _table() -> pd.DataFrame:
    return water_frames()[0]


def table_size() -> int:
    """N, the number of rows of the bundled training table."""
    return len(_table())


def ph_edges() -> tuple[float, float]:
    """The training table's pH terciles (scaled units): below the first is class 0, above the second class 2."""
    lo, hi = np.quantile(_table()["ph"].to_numpy(), [1 / 3, 2 / 3])
    return float(lo), float(hi)


@dataclass(frozen=True)
class Batch:
    rows: tuple[int, ...]  # row numbers in the training table
    features: tuple[str, ...]  # column names of x
    x: np.ndarray  # (B, d) float32
    y: np.ndarray  # (B,) float32 0/1 labels, or int64 classes 0..2 for cross-entropy


def batch(setting: Setting) -> Batch:
    """The samples the page shows: binary losses predict Potability from the 9 features; the cross-entropy
    variant predicts the pH tercile (3 classes) from the other 8 features."""
    df = _table()
    rows = tuple((setting.sample + i) % len(df) for i in range(setting.batch))
    part = df.iloc[list(rows)]
    if setting.multiclass:
        features = tuple(c for c in df.columns[:-1] if c != "ph")
        y = np.digitize(part["ph"].to_numpy(), ph_edges()).astype(np.int64)
    else:
        features = tuple(df.columns[:-1])
        y = part.iloc[:, -1].to_numpy(dtype=np.float32)
    return Batch(rows, features, part[list(features)].to_numpy(dtype=np.float32), y)


def tensors(b: Batch, multiclass: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """x (B, d) and the target as the loss wants it: (B, 1) float as in `y_batch.view(-1, 1)`, or (B,) long."""
    x = torch.from_numpy(b.x.copy())
    y = torch.from_numpy(b.y.copy())
    return x, (y if multiclass else y.view(-1, 1))


def build_net(setting: Setting) -> nn.Module:
    """The course's Net with the setting's widths, its weights drawn from `seed` by PyTorch's default rule."""
    if setting.multiclass:
        net = ThreeClassNet(8, setting.hidden1, setting.hidden2)
    else:
        net = WaterNet(9, setting.hidden1, setting.hidden2)
    return init_parameters(net, "default", generator(setting.seed))


def criterion(loss: str) -> nn.Module:
    return {"BCE": nn.BCELoss(), "MSE": nn.MSELoss(), CROSS_ENTROPY: nn.CrossEntropyLoss()}[loss]


def linears(net: nn.Module) -> list[nn.Linear]:
    return [net.fc1, net.fc2, net.fc3]


# ---------------------------------------------------------------- the course's formulas, by hand

def forward_by_hand(params: list[tuple[torch.Tensor, torch.Tensor]], x: torch.Tensor, multiclass: bool):
    """z⁽ˡ⁾ = W⁽ˡ⁾a⁽ˡ⁻¹⁾ + b⁽ˡ⁾, a⁽ˡ⁾ = σ(z⁽ˡ⁾), on column vectors.

    Args:
        params: [(W (n_l, n_{l−1}), b (n_l,))] per layer. x: (B, d).
    Returns:
        zs [z⁽¹⁾, z⁽²⁾, z⁽³⁾] and acts [a⁽⁰⁾ = xᵀ, a⁽¹⁾, a⁽²⁾, a⁽³⁾], each (n_l, B). a⁽³⁾ is the sigmoid, or
        the softmax over the 3 classes (which `nn.CrossEntropyLoss` applies inside).
    """
    acts, zs = [x.T], []
    for i, (w, b) in enumerate(params):
        z = w @ acts[-1] + b[:, None]
        if i < len(params) - 1:
            a = torch.relu(z)
        else:
            a = torch.softmax(z, dim=0) if multiclass else torch.sigmoid(z)
        zs.append(z)
        acts.append(a)
    return zs, acts


def losses_by_hand(a_out: torch.Tensor, y: torch.Tensor, multiclass: bool) -> dict[str, float]:
    """The course's per-sample losses (§2.3), averaged over the batch as `reduction='mean'` does.

    Args:
        a_out: (1, B) sigmoid outputs ŷ or (3, B) softmax probabilities. y: (B,) labels.
    """
    if multiclass:
        return {CROSS_ENTROPY: float(-torch.log(a_out[y.long(), torch.arange(len(y))]).mean())}
    p, t = a_out[0], y.double()
    return {"BCE": float(-(t * torch.log(p) + (1 - t) * torch.log(1 - p)).mean()), "MSE": float(((p - t) ** 2).mean())}


def output_delta(z_out: torch.Tensor, a_out: torch.Tensor, y: torch.Tensor, loss: str) -> torch.Tensor:
    """δ⁽³⁾ = ∂L/∂z⁽³⁾ for the mean loss over B samples, (n_3, B).

    BCE after a sigmoid: (a − y)/B, the σ′ cancels. MSE after a sigmoid: 2(a − y)·σ′(z)/B with σ′ = a(1 − a).
    Cross-entropy on logits: (softmax(z) − onehot(y))/B.
    """
    n = z_out.shape[1]
    if loss == CROSS_ENTROPY:
        onehot = torch.zeros_like(a_out)
        onehot[y.long(), torch.arange(n)] = 1
        return (a_out - onehot) / n
    t = y.double().view(1, -1)
    if loss == "BCE":
        return (a_out - t) / n
    return 2 * (a_out - t) * a_out * (1 - a_out) / n


def backprop_by_hand(params, zs, acts, delta_out):
    """The course's recursion δ⁽ˡ⁾ = (W⁽ˡ⁺¹⁾)ᵀδ⁽ˡ⁺¹⁾ ⊙ σ′(z⁽ˡ⁾), ReLU′(z) = 1[z > 0], and the gradients
    ∂L/∂W⁽ˡ⁾ = δ⁽ˡ⁾(a⁽ˡ⁻¹⁾)ᵀ, ∂L/∂b⁽ˡ⁾ = δ⁽ˡ⁾ (summed over the batch's columns).

    Returns:
        deltas [δ⁽¹⁾, δ⁽²⁾, δ⁽³⁾] each (n_l, B); backs [(W⁽ˡ⁺¹⁾)ᵀδ⁽ˡ⁺¹⁾ for l = 1, 2]; grads [(∂L/∂W, ∂L/∂b)].
    """
    deltas = [delta_out]
    backs = []
    for l in range(len(params) - 2, -1, -1):  # hidden layers, last to first
        back = params[l + 1][0].T @ deltas[0]  # (n_l, B)
        backs.insert(0, back)
        deltas.insert(0, back * (zs[l] > 0).to(back.dtype))
    grads = [(d @ a.T, d.sum(dim=1)) for d, a in zip(deltas, acts[:-1])]
    return deltas, backs, grads


# ---------------------------------------------------------------- what the page shows

@dataclass(frozen=True)
class BackpropView:
    """Everything the page shows for one Setting (arrays in the course's column layout, (n_l, B))."""

    setting: Setting
    batch: Batch
    weights: tuple[np.ndarray, ...]  # W⁽¹⁾..W⁽³⁾ as initialised, (n_l, n_{l−1})
    biases: tuple[np.ndarray, ...]  # b⁽¹⁾..b⁽³⁾, (n_l,)
    zs: tuple[np.ndarray, ...]  # z⁽¹⁾..z⁽³⁾ by hand, float64
    acts: tuple[np.ndarray, ...]  # a⁽⁰⁾..a⁽³⁾ by hand, float64
    net_output: np.ndarray  # net(x) from PyTorch, (B, n_3): sigmoid outputs or logits
    losses_formula: dict  # loss name → the course's formula (float64)
    losses_torch: dict  # loss name → nn.BCELoss / nn.MSELoss / nn.CrossEntropyLoss (float32)
    bce_with_logits: float | None  # nn.BCEWithLogitsLoss(z⁽³⁾, y), binary only
    deltas: tuple[np.ndarray, ...]  # δ⁽¹⁾..δ⁽³⁾ by hand
    deltas_autograd: tuple[np.ndarray, ...]  # torch.autograd.grad(loss, z⁽ˡ⁾)
    backs: tuple[np.ndarray, ...]  # (W⁽ˡ⁺¹⁾)ᵀδ⁽ˡ⁺¹⁾ for l = 1, 2
    grads_hand: tuple[tuple[np.ndarray, np.ndarray], ...]  # (∂L/∂W⁽ˡ⁾, ∂L/∂b⁽ˡ⁾) by hand
    grads_torch: tuple[tuple[np.ndarray, np.ndarray], ...]  # (fc_l.weight.grad, fc_l.bias.grad)
    sgd_error: float  # max |θ − η∇θ by hand − optim.SGD's step|
    sgd_entry: tuple[float, float]  # (θ − η∇θ, optim.SGD's θ) at the entry with the largest |∇θ|
    accumulation_error: float  # max |.grad after two backward passes − 2 × one pass|
    accumulation_entry: tuple[float, float]  # (2 × one pass, .grad after two) at the entry with the largest |∇θ|

    @property
    def loss_value(self) -> float:
        return self.losses_torch[self.setting.loss]

    def layer_errors(self) -> pd.DataFrame:
        """Per layer: shapes and the max |hand − autograd| of δ, ∂L/∂W and ∂L/∂b."""
        rows = []
        for l, name in enumerate(LAYERS):
            (gw, gb), (tw, tb) = self.grads_hand[l], self.grads_torch[l]
            rows.append({
                "layer": f"{name} (l = {l + 1})",
                "W shape": "×".join(map(str, self.weights[l].shape)),
                "δ shape": "×".join(map(str, self.deltas[l].shape)),
                "‖weight.grad‖": float(np.sqrt((tw.astype(np.float64) ** 2).sum())),
                "max |δ by hand − autograd|": float(np.abs(self.deltas[l] - self.deltas_autograd[l]).max()),
                "max |∂L/∂W by hand − weight.grad|": float(np.abs(gw - tw).max()),
                "max |∂L/∂b by hand − bias.grad|": float(np.abs(gb - tb).max()),
            })
        return pd.DataFrame(rows)


@dataclass(frozen=True)
class PerSample:
    """Each sample's own loss and output error signal (no 1/B), for the loss chart."""

    y: np.ndarray  # (B,) label or class
    y_hat: np.ndarray  # (B,) ŷ (binary) or ŷ_c, the probability of the true class
    z: np.ndarray  # (B,) z⁽³⁾ (binary) or z_c
    loss: np.ndarray  # (B,) ℓ_i of the chosen loss
    delta: np.ndarray  # (B,) ∂ℓ_i/∂z⁽³⁾ (binary), or ∂ℓ_i/∂z_c = ŷ_c − 1


def per_sample(v: BackpropView) -> PerSample:
    """ℓ_i and δ_i of every sample in the batch, by the course's formulas."""
    y = v.batch.y
    cols = np.arange(len(y))
    if v.setting.multiclass:
        c = y.astype(np.int64)
        p, z = v.acts[-1][c, cols], v.zs[-1][c, cols]
        return PerSample(c, p, z, -np.log(p), p - 1)
    p, z, t = v.acts[-1][0], v.zs[-1][0], y.astype(np.float64)
    if v.setting.loss == "BCE":
        return PerSample(y.astype(np.int64), p, z, -(t * np.log(p) + (1 - t) * np.log(1 - p)), p - t)
    return PerSample(y.astype(np.int64), p, z, (p - t) ** 2, 2 * (p - t) * p * (1 - p))


def _fresh_grads(net: nn.Module, x: torch.Tensor, y: torch.Tensor, loss: str) -> list[torch.Tensor]:
    out = criterion(loss)(net(x), y)
    out.backward()
    return [p.grad.detach().clone() for p in net.parameters()]


def view(setting: Setting) -> BackpropView:
    """Forward, loss, δ and gradients by hand and by autograd, one SGD step and one accumulation, for `setting`."""
    setting.validate()
    b = batch(setting)
    x, y = tensors(b, setting.multiclass)
    net = build_net(setting)
    layers = linears(net)

    # PyTorch: the module forward and the loss, and .grad from loss.backward().
    out = net(x)
    loss_torch = criterion(setting.loss)(out, y)
    loss_torch.backward()
    grads_torch = tuple((l.weight.grad.numpy().copy(), l.bias.grad.numpy().copy()) for l in layers)

    # Autograd's δ⁽ˡ⁾ = ∂L/∂z⁽ˡ⁾, from the same layers called one at a time (row layout, transposed to columns).
    z1 = layers[0](x)
    z2 = layers[1](torch.relu(z1))
    z3 = layers[2](torch.relu(z2))
    again = criterion(setting.loss)(z3 if setting.multiclass else torch.sigmoid(z3), y)
    deltas_autograd = tuple(d.T.numpy().copy() for d in torch.autograd.grad(again, (z1, z2, z3)))

    with torch.no_grad():
        losses_torch = {setting.loss: float(loss_torch)}
        bce_logits = None
        if not setting.multiclass:
            other = "MSE" if setting.loss == "BCE" else "BCE"
            losses_torch[other] = float(criterion(other)(out, y))
            bce_logits = float(nn.BCEWithLogitsLoss()(z3, y))

    # By hand, in float64, on the same float32 weights.
    params = [(l.weight.detach().double(), l.bias.detach().double()) for l in layers]
    target = torch.from_numpy(b.y.copy())
    zs, acts = forward_by_hand(params, x.double(), setting.multiclass)
    delta_out = output_delta(zs[-1], acts[-1], target, setting.loss)
    deltas, backs, grads = backprop_by_hand(params, zs, acts, delta_out)

    # One SGD step, θ ← θ − η∇θ, against optim.SGD.
    theta = list(net.parameters())
    expected = [p.detach() - setting.lr * p.grad for p in theta]
    k = max(range(len(theta)), key=lambda i: float(theta[i].grad.abs().max()))  # the checks show the entry `at` of
    at = int(theta[k].grad.abs().argmax())  # tensor k, the one with the largest |∇θ|
    optim.SGD(theta, lr=setting.lr).step()
    sgd_error = max(float((p.detach() - e).abs().max()) for p, e in zip(theta, expected))
    sgd_entry = (float(expected[k].flatten()[at]), float(theta[k].detach().flatten()[at]))

    # Two backward passes without zero_grad on a fresh copy of the initial model: .grad = 2 × one pass.
    fresh = build_net(setting)
    once = _fresh_grads(fresh, x, y, setting.loss)
    twice = _fresh_grads(fresh, x, y, setting.loss)
    accumulation_error = max(float((t - 2 * o).abs().max()) for o, t in zip(once, twice))
    accumulation_entry = (float(2 * once[k].flatten()[at]), float(twice[k].flatten()[at]))

    return BackpropView(
        setting=setting,
        batch=b,
        weights=tuple(w.numpy() for w, _ in params),
        biases=tuple(bb.numpy() for _, bb in params),
        zs=tuple(z.numpy() for z in zs),
        acts=tuple(a.numpy() for a in acts),
        net_output=out.detach().numpy().copy(),
        losses_formula=losses_by_hand(acts[-1], target, setting.multiclass),
        losses_torch=losses_torch,
        bce_with_logits=bce_logits,
        deltas=tuple(d.numpy() for d in deltas),
        deltas_autograd=deltas_autograd,
        backs=tuple(bk.numpy() for bk in backs),
        grads_hand=tuple((gw.numpy(), gb.numpy()) for gw, gb in grads),
        grads_torch=grads_torch,
        sgd_error=sgd_error,
        sgd_entry=sgd_entry,
        accumulation_error=accumulation_error,
        accumulation_entry=accumulation_entry,
    )


def tolerance(*arrays: np.ndarray) -> float:
    """float32 carries about 7 significant digits: allow 1e-5 of the largest magnitude (at least 1e-6)."""
    return max(1e-6, 1e-5 * max(float(np.abs(a).max()) for a in arrays))


def _largest(a: np.ndarray) -> int:
    """Flat index of the entry with the largest magnitude: the one a check shows."""
    return int(np.abs(a).argmax())


def checks(v: BackpropView) -> list[Check]:
    """The course's formulas (float64) against what PyTorch computes (float32). Each row shows the entry with the
    largest magnitude; its |difference| is the max over all entries."""
    s = v.setting
    a_out = v.acts[-1].T if not s.multiclass else v.zs[-1].T  # what net(x) returns: sigmoid outputs or logits
    i = _largest(a_out)
    out = [Check("forward: z = W·a + b, a = σ(z) layer by layer vs net(x)", float(a_out.flat[i]),
                 float(v.net_output.flat[i]), tolerance(a_out), error=float(np.abs(a_out - v.net_output).max()))]
    torch_names = {"BCE": "nn.BCELoss", "MSE": "nn.MSELoss", CROSS_ENTROPY: "nn.CrossEntropyLoss"}
    formulas = {"BCE": "−[y log ŷ + (1−y) log(1−ŷ)]", "MSE": "(ŷ − y)²", CROSS_ENTROPY: "−log ŷ_c"}
    for name, value in v.losses_torch.items():
        out.append(Check(f"loss: {formulas[name]} vs {torch_names[name]}", v.losses_formula[name], value,
                         tolerance(np.array([v.losses_formula[name]]))))
    if v.bce_with_logits is not None:
        out.append(Check(f"nn.BCEWithLogitsLoss(z{sup(3)}) vs the BCE formula on σ(z{sup(3)})", v.losses_formula["BCE"],
                         v.bce_with_logits, tolerance(np.array([v.losses_formula["BCE"]]))))
    rule = {"BCE": "a − y", "MSE": "2(a − y)·σ′(z)", CROSS_ENTROPY: "softmax(z) − onehot(y)"}[s.loss]
    for l in range(len(LAYERS) - 1, -1, -1):
        n = l + 1
        what = f"δ{sup(n)} = ({rule})/B" if n == len(LAYERS) else f"δ{sup(n)} = (W{sup(n + 1)})ᵀδ{sup(n + 1)} ⊙ σ′(z{sup(n)})"
        i = _largest(v.deltas[l])
        out.append(Check(f"{what} vs autograd ∂L/∂z{sup(n)}", float(v.deltas[l].flat[i]), float(v.deltas_autograd[l].flat[i]),
                         tolerance(v.deltas[l]), error=float(np.abs(v.deltas[l] - v.deltas_autograd[l]).max())))
    for l, name in enumerate(LAYERS):
        (gw, gb), (tw, tb) = v.grads_hand[l], v.grads_torch[l]
        error = max(float(np.abs(gw - tw).max()), float(np.abs(gb - tb).max()))
        i = _largest(gw)
        out.append(Check(f"∂L/∂W{sup(l + 1)} = δ{sup(l + 1)}(a{sup(l)})ᵀ and ∂L/∂b{sup(l + 1)} = δ{sup(l + 1)} vs "
                         f"{name}.weight.grad and {name}.bias.grad", float(gw.flat[i]), float(tw.flat[i]),
                         tolerance(gw, gb), error=error))
    out.append(Check(f"one step θ − η∇θ (η = {s.lr:g}) vs optim.SGD.step()", *v.sgd_entry, 1e-6, error=v.sgd_error))
    out.append(Check("no zero_grad: 2 × one pass's gradient vs .grad after two backward passes", *v.accumulation_entry,
                     1e-6 * max(1.0, abs(v.accumulation_entry[0])), error=v.accumulation_error))
    return out


# ---------------------------------------------------------------- BCELoss on a saturated sigmoid

def saturation_table(logits: tuple[float, ...] = SATURATED_LOGITS) -> pd.DataFrame:
    """For target y = 0 and logits z: the exact loss log(1 + eᶻ) (float64), BCELoss(σ(z)) and BCEWithLogitsLoss(z)
    in float32, and the gradient ∂ℓ/∂z each gives (exactly σ(z) − y)."""
    rows = []
    for z in logits:
        exact = float(nn.functional.softplus(torch.tensor(z, dtype=torch.float64)))
        zp = torch.tensor([z], requires_grad=True)
        p = torch.sigmoid(zp)
        bce = nn.BCELoss()(p, torch.zeros(1))
        (g_bce,) = torch.autograd.grad(bce, zp)
        zl = torch.tensor([z], requires_grad=True)
        bcel = nn.BCEWithLogitsLoss()(zl, torch.zeros(1))
        (g_logits,) = torch.autograd.grad(bcel, zl)
        rows.append({
            "z": z,
            "σ(z), float32": float(p.detach()),
            "exact ℓ = log(1 + eᶻ)": exact,
            "BCELoss(σ(z), 0)": float(bce.detach()),
            "BCEWithLogitsLoss(z, 0)": float(bcel.detach()),
            "∂ℓ/∂z via BCELoss": float(g_bce),
            "∂ℓ/∂z via BCEWithLogits": float(g_logits),
            "exact ∂ℓ/∂z = σ(z)": 1 / (1 + math.exp(-z)),
        })
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- the loop, one press at a time

@dataclass(frozen=True)
class Press:
    """One button press in LoopLab and the state right after it."""

    number: int  # 0 is the fresh model
    action: str  # "start", "zero_grad", "forward", "backward" or "step"
    ok: bool  # False where PyTorch would fail (or the press could not run)
    message: str
    loss: float | None  # the loss of the latest forward
    params: dict  # "fc1.weight" → array, after the press
    grads: dict  # "fc1.weight" → array or None (.grad as PyTorch holds it)
    passes: int  # backward passes summed in .grad since the last zero_grad
    ratio: float | None = None  # backward: ‖.grad‖ / ‖this pass's own gradient‖
    sgd_error: float | None = None  # step: max |θ − η∇θ by hand − optim.SGD|


class LoopLab:
    """A real Net, loss and `optim.SGD` on one batch, driven one call at a time like the course's loop (§2.6).

    Every press calls PyTorch for real: where PyTorch raises (backward through a freed graph, or through
    weights a step changed in place), the RuntimeError's message is logged instead of raised.
    """

    def __init__(self, setting: Setting):
        setting.validate()
        self.setting = setting
        self.net = build_net(setting)
        self.x, self.y = tensors(batch(setting), setting.multiclass)
        self.criterion = criterion(setting.loss)
        self.optimizer = optim.SGD(self.net.parameters(), lr=setting.lr)
        self.loss: torch.Tensor | None = None
        self.passes = 0
        self.count = 0
        self.log: list[Press] = []
        self.start = self._record("start", True, "A fresh Net and optim.SGD: every .grad is None until a backward pass.")

    # -- state
    def _grads(self) -> dict:
        return {n: None if p.grad is None else p.grad.detach().numpy().copy() for n, p in self.net.named_parameters()}

    def _record(self, action: str, ok: bool, message: str, **extra) -> Press:
        press = Press(self.count, action, ok, message, None if self.loss is None else float(self.loss.detach()),
                      {n: p.detach().numpy().copy() for n, p in self.net.named_parameters()}, self._grads(), self.passes,
                      **extra)
        self.count += 1
        self.log = (self.log + [press])[-MAX_LOG:]
        return press

    @property
    def last(self) -> Press:
        return self.log[-1]

    # -- the four calls
    def zero_grad(self) -> Press:
        self.optimizer.zero_grad()  # set_to_none=True, PyTorch's default
        self.passes = 0
        return self._record("zero_grad", True, "optimizer.zero_grad() set every .grad to None (set_to_none=True is "
                            "PyTorch's default; the next backward writes a fresh gradient).")

    def forward(self) -> Press:
        self.loss = self.criterion(self.net(self.x), self.y)
        return self._record("forward", True, f"y_pred = net(x); loss = criterion(y_pred, y) = {float(self.loss.detach()):.6g}. "
                            "A new graph from the current weights to the loss is recorded.")

    def backward(self) -> Press:
        if self.loss is None:
            return self._record("backward", False, "There is no loss to differentiate yet: press forward first. "
                                "In a script, loss.backward() would fail here because loss does not exist yet.")
        before = self._grads()
        try:
            self.loss.backward()
        except RuntimeError as err:
            text = str(err).split(". ")[0].strip()
            return self._record("backward", False, f"PyTorch raised RuntimeError: “{text}.” Press forward to record a "
                                "new graph from the current weights, then backward.")
        self.passes += 1
        after = self._grads()
        own = [a - (b if b is not None else 0) for a, b in zip(after.values(), before.values())]
        norm_all = math.sqrt(sum(float((a.astype(np.float64) ** 2).sum()) for a in after.values()))
        norm_own = math.sqrt(sum(float((o.astype(np.float64) ** 2).sum()) for o in own))
        ratio = norm_all / norm_own if norm_own > 0 else None
        if self.passes == 1:
            message = "loss.backward() wrote ∂L/∂θ into every parameter's .grad."
        else:
            message = (f"loss.backward() ADDED this pass's gradient to .grad, which now holds the sum of {self.passes} "
                       "backward passes: zero_grad was not called in between.")
        return self._record("backward", True, message, ratio=ratio)

    def step(self) -> Press:
        params = list(self.net.parameters())
        if all(p.grad is None for p in params):
            return self._record("step", True, "optimizer.step() changed nothing: every .grad is None, and SGD skips "
                                "parameters without a gradient.", sgd_error=0.0)
        expected = [None if p.grad is None else p.detach() - self.setting.lr * p.grad for p in params]
        self.optimizer.step()
        error = max(float((p.detach() - e).abs().max()) for p, e in zip(params, expected) if e is not None)
        return self._record("step", True, f"optimizer.step(): θ ← θ − {self.setting.lr:g}·.grad for every parameter "
                            f"(max |by hand − optim.SGD| = {error:.1e}). .grad is left as it was.", sgd_error=error)

    def press(self, action: str) -> Press:
        """Call one of zero_grad, forward, backward, step by name."""
        if action not in ("zero_grad", "forward", "backward", "step"):
            raise ValueError(f"unknown action {action!r}")
        return getattr(self, action)()


def grad_norm(press: Press, layer: str) -> float | None:
    """‖layer.weight.grad‖ (Frobenius) after a press, or None when .grad is None."""
    g = press.grads[f"{layer}.weight"]
    return None if g is None else float(np.sqrt((g.astype(np.float64) ** 2).sum()))


def moved(press: Press, start: Press, layer: str) -> float:
    """‖W − W at the start‖ (Frobenius) of the layer's weight: how far the steps have moved it."""
    d = press.params[f"{layer}.weight"].astype(np.float64) - start.params[f"{layer}.weight"]
    return float(np.sqrt((d ** 2).sum()))


def log_table(log: list[Press], layer: str, start: Press) -> pd.DataFrame:
    """The press log, with the watched layer's weight and .grad after each press ("None" where PyTorch holds None)."""
    def shown(x: float | None) -> str:
        return "None" if x is None else f"{x:.6g}"

    return pd.DataFrame({
        "#": [p.number for p in log],
        "pressed": [p.action for p in log],
        "loss": [shown(p.loss) for p in log],
        f"‖{layer}.weight.grad‖": [shown(grad_norm(p, layer)) for p in log],
        "backward passes in .grad": [p.passes for p in log],
        f"‖{layer}.weight − start‖": [shown(moved(p, start, layer)) for p in log],
        "what happened": [p.message for p in log],
    })
