"""The Multi-input & multi-output page as a standalone PyTorch script: the MultiInputNet's shapes with the page's
sizes, then the same glyphs, nets, initial weights, batches and losses as the page's five runs, so it prints the
page's accuracies and R² (on one thread, as the page trains)."""
from __future__ import annotations

from core import multi_io

_GLYPHS = '''
# ---- 2. The glyphs: a character (12) and its alphabet (3) per picture, and the share of ink (for an MSE head)
A, B = 0.4, -0.4  # strokes in a unit box centred on 0, y up
ALPHABETS = {
    "Bars": {"T": [("line", (B, A), (A, A)), ("line", (0, A), (0, B))],
             "L": [("line", (B, A), (B, B)), ("line", (B, B), (A, B))],
             "H": [("line", (B, A), (B, B)), ("line", (A, A), (A, B)), ("line", (B, 0), (A, 0))],
             "Π": [("line", (B, A), (A, A)), ("line", (B, A), (B, B)), ("line", (A, A), (A, B))]},
    "Slants": {"X": [("line", (B, A), (A, B)), ("line", (B, B), (A, A))],
               "V": [("line", (B, A), (0, B)), ("line", (0, B), (A, A))],
               "Λ": [("line", (B, B), (0, A)), ("line", (0, A), (A, B))],
               "<": [("line", (A, A), (B, 0)), ("line", (B, 0), (A, B))]},
    "Curves": {"O": [("arc", (0, 0), 0.4, 0, 360)], "C": [("arc", (0, 0), 0.4, 45, 315)],
               "U": [("arc", (0, 0.1), 0.35, 180, 360)], "∩": [("arc", (0, -0.1), 0.35, 0, 180)]},
}
CHARACTER_ALPHABET = [a for a, chars in enumerate(ALPHABETS.values()) for _ in chars]


def stroke_distance(strokes, x, y):
    out = []
    for kind, *p in strokes:
        if kind == "line":
            (ax, ay), (bx, by) = p
            dx, dy = bx - ax, by - ay
            t = (((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)).clamp(0, 1)
            out.append(torch.hypot(x - ax - t * dx, y - ay - t * dy))
        else:
            (cx, cy), r, a0, a1 = p
            angle = torch.rad2deg(torch.atan2(y - cy, x - cx)) % 360
            ends = [(cx + r * math.cos(math.radians(a)), cy + r * math.sin(math.radians(a))) for a in (a0, a1)]
            to_end = torch.minimum(*(torch.hypot(x - ex, y - ey) for ex, ey in ends))
            out.append(torch.where((angle - a0) % 360 <= a1 - a0, (torch.hypot(x - cx, y - cy) - r).abs(), to_end))
    return torch.stack(out).amin(0)


def make_glyphs(n, seed=0, size={size}):
    g = torch.Generator().manual_seed(seed)
    character = torch.randint(0, 12, (n,), generator=g)
    scale = 0.55 + 0.45 * torch.rand(n, generator=g)                   # 55-100% of the picture
    turn = math.radians(15) * (2 * torch.rand(n, generator=g) - 1)     # +-15 degrees
    shift = (2 * torch.rand(n, 2, generator=g) - 1) * (0.45 * (1 - 0.9 * scale))[:, None]
    width = 0.07 + 0.05 * torch.rand(n, generator=g)
    c = (torch.arange(size) + 0.5) / size - 0.5
    py, px = torch.meshgrid(-c, c, indexing="ij")
    u, v = px.reshape(1, -1) - shift[:, :1], py.reshape(1, -1) - shift[:, 1:]
    cos, sin = torch.cos(turn)[:, None], torch.sin(turn)[:, None]
    gx, gy = (cos * u + sin * v) / scale[:, None], (cos * v - sin * u) / scale[:, None]
    clean = torch.zeros(n, size * size)
    for k, glyph in enumerate(s for chars in ALPHABETS.values() for s in chars.values()):
        m = character == k
        if m.any():
            d = stroke_distance(glyph, gx[m], gy[m]) * scale[m, None]
            clean[m] = (1 - (d - width[m, None] / 2) * size).clamp(0, 1)
    images = (clean + 0.15 * torch.randn(clean.shape, generator=g)).reshape(n, 1, size, size)
    return images, torch.tensor(CHARACTER_ALPHABET)[character], character, clean.mean(1)   # ink share


images, alphabet, character, ink = make_glyphs({n_total})
TRAIN = slice(0, {n_train})
VAL = slice({n_train}, None)
'''

_NETS = '''
# ---- 3. The two-head nets (section 12.2) and PyTorch's default init, drawn from a seeded generator
def backbone():                                       # (N, 1, {size}, {size}) -> (N, 128)
    return nn.Sequential(nn.Conv2d(1, 16, kernel_size=3, padding=1), nn.MaxPool2d(2), nn.ELU(), nn.Flatten(),
                         nn.Linear(16 * {half} * {half}, 128))


class MultiOutputNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = backbone()
        self.head_alphabet = nn.Linear(128, 3)
        self.head_character = nn.Linear(128, 12)

    def forward(self, x):
        features = self.backbone(x)
        return self.head_alphabet(features), self.head_character(features)


class InkNet(nn.Module):
    """A character head and an ink head; the ink head's output times a fixed unit (a buffer, not learned)."""

    def __init__(self, unit):
        super().__init__()
        self.backbone = backbone()
        self.head_character = nn.Linear(128, 12)
        self.head_ink = nn.Linear(128, 1)
        self.register_buffer("unit", torch.tensor(float(unit)))

    def forward(self, x):
        features = self.backbone(x)
        return self.head_character(features), self.head_ink(features).squeeze(1) * self.unit


def init_parameters(model, g):
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Linear, nn.Conv2d)):
                nn.init.kaiming_uniform_(m.weight, a=math.sqrt(5), generator=g)
                bound = 1 / math.sqrt(m.weight[0].numel())
                nn.init.uniform_(m.bias, -bound, bound, generator=g)
    return model


# ---- 4. Multi-task losses (sections 12.3 and 12.4); targets y are (N, 2) floats
class MultiTaskLoss(nn.Module):
    def __init__(self, kinds):
        super().__init__()
        self.kinds = kinds

    def head_losses(self, outputs, y):
        return torch.stack([F.cross_entropy(o, y[:, k].long()) if kind == "ce" else F.mse_loss(o, y[:, k])
                            for k, (o, kind) in enumerate(zip(outputs, self.kinds))])

    def forward(self, outputs, y):
        return self.combine(self.head_losses(outputs, y))


class FixedWeights(MultiTaskLoss):                    # sum_k lambda_k L_k
    def __init__(self, kinds, weights):
        super().__init__(kinds)
        self.register_buffer("weights", torch.tensor(weights, dtype=torch.float32))

    def combine(self, losses):
        return (self.weights * losses).sum()


class UncertaintyWeights(MultiTaskLoss):              # sum_k L_k / (2 sigma_k^2) + log sigma_k, s_k = log sigma_k^2
    def __init__(self, kinds):
        super().__init__(kinds)
        self.log_var = nn.Parameter(torch.zeros(len(kinds)))

    def combine(self, losses):
        return (0.5 * torch.exp(-self.log_var) * losses + 0.5 * self.log_var).sum()


class EmaNormalized(MultiTaskLoss):                   # sum_k L_k / EMA(L_k), the EMA updated first, no gradient
    def __init__(self, kinds, beta={beta}):
        super().__init__(kinds)
        self.beta = beta
        self.register_buffer("ema", torch.ones(len(kinds)))
        self.register_buffer("steps", torch.zeros((), dtype=torch.long))

    def combine(self, losses):
        if self.training:
            with torch.no_grad():
                self.ema.copy_(losses if self.steps == 0 else self.beta * self.ema + (1 - self.beta) * losses)
                self.steps += 1
        return (losses / self.ema).sum()


def metrics(outputs, y, kinds):
    """Accuracy of a cross-entropy head, R^2 of an MSE head."""
    out = []
    for k, (o, kind) in enumerate(zip(outputs, kinds)):
        t = y[:, k]
        if kind == "ce":
            out.append((o.argmax(1) == t.long()).double().mean().item())
        else:
            out.append((1 - ((t.double() - o.double()) ** 2).sum() / ((t.double() - t.double().mean()) ** 2).sum()).item())
    return out


def train(task, scheme, weight_a=0.5, unit=1.0):
    kinds = ("ce", "ce") if task == "weighting" else ("ce", "mse")
    if task == "weighting":
        y = torch.stack([alphabet, character], 1).float()
        model = init_parameters(MultiOutputNet(), torch.Generator().manual_seed(SEED))
    else:
        y = torch.stack([character.float(), ink * unit], 1)
        model = init_parameters(InkNet(unit), torch.Generator().manual_seed(SEED))
    loss_fn = {"fixed": lambda: FixedWeights(kinds, (weight_a, 1 - weight_a)), "plain": lambda: FixedWeights(kinds, (1.0, 1.0)),
               "uncertainty": lambda: UncertaintyWeights(kinds), "normalized": lambda: EmaNormalized(kinds)}[scheme]()
    optimizer = torch.optim.Adam([*model.parameters(), *loss_fn.parameters()], lr=LR)   # s_k are learned too
    loader = DataLoader(TensorDataset(images[TRAIN], y[TRAIN]), batch_size={batch}, shuffle=True,
                        generator=torch.Generator().manual_seed(SEED + 1))
    status = "done"
    for epoch in range(EPOCHS):
        model.train()
        for x, y_batch in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y_batch)
            if not math.isfinite(loss.item()):
                status = "diverged"
                break
            loss.backward()
            optimizer.step()
        if status != "done":
            break
    model.eval()
    with torch.inference_mode():
        outputs = model(images[VAL])
        losses = loss_fn.head_losses(outputs, y[VAL]).tolist()
        values = metrics(outputs, y[VAL], kinds)
    return status, values, losses, loss_fn
'''


def _fill(template: str, **values: object) -> str:
    """Put the values into `{name}` slots (the template's own dict braces stay as they are)."""
    for name, value in values.items():
        template = template.replace("{" + name + "}", str(value))
    return template


def code(channels: int, image_size: int, filters: int, aux_dim: int, image_embed: int, aux_embed: int, classifier_in: int,
         num_classes: int, weight_a: float, lr: float, epochs: int, unit: int, seed: int) -> str:
    """The page's current view as a script that prints `name: key=value` lines the page also shows."""
    glyphs = _fill(_GLYPHS, size=multi_io.GLYPH_SIZE, n_total=multi_io.N_TRAIN + multi_io.N_VAL, n_train=multi_io.N_TRAIN)
    nets = _fill(_NETS, size=multi_io.GLYPH_SIZE, half=multi_io.GLYPH_SIZE // 2, beta=multi_io.EMA_BETA, batch=multi_io.BATCH_SIZE)
    return f'''"""Multi-input and multi-output models (course section 12), as on the DL Explorer page.

1. MultiInputNet: an image branch and an auxiliary-vector branch, concatenated, then a classifier.
2-4. Two heads on one backbone, trained on generated glyphs with three loss weightings, and an MSE head
   on a target in a chosen unit with and without loss-scale normalization.
"""
import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

torch.set_num_threads(1)  # the page trains on one thread; the same thread count gives the same sums
SEED, LR, EPOCHS = {seed}, {lr}, {epochs}


# ---- 1. MultiInputNet (section 12.1) with the page's sizes
class MultiInputNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.image_branch = nn.Sequential(            # (N, {channels}, {image_size}, {image_size}) -> (N, {image_embed})
            nn.Conv2d({channels}, {filters}, kernel_size=3, padding=1),
            nn.MaxPool2d(2),
            nn.ELU(),
            nn.Flatten(),                             # {filters} * {image_size // 2} * {image_size // 2} = {filters * (image_size // 2) ** 2}
            nn.Linear({filters} * {image_size // 2} * {image_size // 2}, {image_embed}),
        )
        self.aux_branch = nn.Sequential(nn.Linear({aux_dim}, {aux_embed}), nn.ELU())   # (N, {aux_dim}) -> (N, {aux_embed})
        self.classifier = nn.Linear({classifier_in}, {num_classes})   # in_features must be {image_embed} + {aux_embed} = {image_embed + aux_embed}

    def forward(self, x_image, x_aux):
        z_image = self.image_branch(x_image)
        z_aux = self.aux_branch(x_aux)
        z_combined = torch.cat([z_image, z_aux], dim=1)
        return self.classifier(z_combined)


net = MultiInputNet()
x_image, x_aux = torch.randn({multi_io.FORWARD_BATCH}, {channels}, {image_size}, {image_size}), torch.randn({multi_io.FORWARD_BATCH}, {aux_dim})
flat = net.image_branch[:4](x_image)
z_image, z_aux = net.image_branch(x_image), net.aux_branch(x_aux)
z_combined = torch.cat([z_image, z_aux], dim=1)
params = sum(p.numel() for p in net.parameters())
print(f"multi_input: flatten={{flat.shape[1]}} z_image={{z_image.shape[1]}} z_aux={{z_aux.shape[1]}} "
      f"z_combined={{z_combined.shape[1]}} params={{params}}")
try:
    logits = net(x_image, x_aux)
    print(f"classifier: fits=1 logits={{logits.shape[1]}}")
except RuntimeError as err:
    print(f"classifier: fits=0 in_features_that_fits={{z_combined.shape[1]}}")
    print(f"pytorch_error: {{err}}")
{glyphs}{nets}

# ---- 5. The three weightings of the alphabet and character heads, then the loss-scale study
for scheme in ("fixed", "uncertainty", "normalized"):
    status, (acc_alphabet, acc_character), losses, loss_fn = train("weighting", scheme, weight_a={weight_a})
    extra = ""
    if scheme == "uncertainty":
        sigma = torch.exp(0.5 * loss_fn.log_var.detach())
        extra = f" sigma_alphabet={{sigma[0].item():.6f}} sigma_character={{sigma[1].item():.6f}}"
    print(f"{{scheme}}: status={{status}} acc_alphabet={{acc_alphabet:.6f}} acc_character={{acc_character:.6f}}{{extra}}")

UNIT = {unit}   # the ink target's unit: x1 a fraction, x100 percent, x10000 basis points
for scheme in ("plain", "normalized"):
    status, (acc_character, r2_ink), (loss_character, loss_ink), _ = train("scales", scheme, unit=UNIT)
    print(f"scale_{{scheme}}: status={{status}} acc_character={{acc_character:.6f}} r2_ink={{r2_ink:.6f}} "
          f"loss_character={{loss_character:.6g}} loss_ink={{loss_ink:.6g}}")
'''
