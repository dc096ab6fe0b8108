"""Multi-input and multi-output models (course §12): the course's MultiInputNet with its shapes traced by a real
forward pass, and its two-head MultiOutputNet trained with the engine (core.training) under three ways of
weighting the heads' losses (§12.3) and with or without loss-scale normalization (§12.4). `train_heads_live`
yields each run as it trains, so a page can draw the curves while they grow; `train_heads` is its finished run.

The pictures are glyphs drawn here from a seeded generator, two labels each like the course's Omniglot heads:
the alphabet (its stroke style: bars, slants or curves) and the character (one of four per alphabet). A third
target, the share of the picture the strokes cover ("ink"), is the regression target of the loss-scale study;
`target_scale` only changes its unit (×1 a fraction, ×100 percent, ×10 000 basis points).
"""
from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from torchmetrics.classification import MulticlassAccuracy
from torchmetrics.regression import R2Score

from core import models, training
from core.checks import Check
from core.rng import generator

# --------------------------------------------------------------------------------------------------------
# Multi-input (§12.1)

IMAGE_SIZES = (8, 16, 28, 32, 48, 64)
CHANNELS = (1, 3)
FILTERS = (4, 8, 16, 32)
IMAGE_EMBEDS = (8, 16, 32, 64, 128, 256)
AUX_EMBEDS = (2, 4, 8, 16, 32, 64)
MAX_AUX_DIM = 100
MAX_IN_FEATURES = 1000
FORWARD_BATCH = 4  # N of the forward pass that confirms the shapes


class MultiInputNet(nn.Module):
    """The course's MultiInputNet (§12.1) with its sizes as arguments; the course's is
    MultiInputNet(1, 64, 16, 30, 128, 8, 136, K). `classifier_in` may disagree with the concatenation."""

    def __init__(self, channels: int = 1, image_size: int = 64, filters: int = 16, aux_dim: int = 30,
                 image_embed: int = 128, aux_embed: int = 8, classifier_in: int = 136, num_classes: int = 10):
        super().__init__()
        side = image_size // 2  # after MaxPool2d(2)
        self.image_branch = nn.Sequential(
            nn.Conv2d(channels, filters, kernel_size=3, padding=1),  # (N, F, H, W)
            nn.MaxPool2d(2),  # (N, F, H/2, W/2)
            nn.ELU(),
            nn.Flatten(),  # (N, F·H/2·W/2)
            nn.Linear(filters * side * side, image_embed),  # (N, d_img)
        )
        self.aux_branch = nn.Sequential(nn.Linear(aux_dim, aux_embed), nn.ELU())  # (N, d_aux)
        self.classifier = nn.Linear(classifier_in, num_classes)  # needs in_features = d_img + d_aux

    def forward(self, x_image: torch.Tensor, x_aux: torch.Tensor) -> torch.Tensor:
        z_image = self.image_branch(x_image)  # (N, d_img)
        z_aux = self.aux_branch(x_aux)  # (N, d_aux)
        z_combined = torch.cat([z_image, z_aux], dim=1)  # (N, d_img + d_aux)
        return self.classifier(z_combined)  # (N, K)


@dataclass(frozen=True)
class Stage:
    """One tensor of the shape flow: its shape by formula and as the forward pass produced it."""

    name: str  # e.g. "z_image"
    layer: str  # the layer that made it, e.g. "Linear(16384, 128)"
    branch: str  # "image", "aux" or "joint"
    formula: tuple[int, ...]
    actual: tuple[int, ...] | None  # None: the forward pass stopped before this tensor


@dataclass(frozen=True)
class MultiInputView:
    stages: tuple[Stage, ...]
    concat_width: int  # d_img + d_aux, the in_features that fits
    classifier_in: int
    num_classes: int
    error: str | None  # PyTorch's message when the classifier does not fit
    params_formula: int
    params_torch: int

    @property
    def fits(self) -> bool:
        return self.error is None

    def stage(self, name: str) -> Stage:
        return next(s for s in self.stages if s.name == name)


def shape_formulas(channels: int, image_size: int, filters: int, aux_dim: int, image_embed: int, aux_embed: int,
                   num_classes: int, n: int = FORWARD_BATCH) -> list[tuple[str, str, str, tuple[int, ...]]]:
    """(name, layer, branch, shape) of every tensor, by the conv/pool formulas: a 3×3 conv with padding 1 keeps
    H, MaxPool2d(2) gives ⌊H/2⌋, Flatten multiplies C·H·W, Linear sets the last size, cat adds the widths."""
    h, side = image_size, image_size // 2
    flat = filters * side * side
    return [
        ("x_image", "input", "image", (n, channels, h, h)),
        ("conv", f"Conv2d({channels}, {filters}, 3, padding=1)", "image", (n, filters, h, h)),
        ("pool", "MaxPool2d(2)", "image", (n, filters, side, side)),
        ("elu", "ELU()", "image", (n, filters, side, side)),
        ("flatten", "Flatten()", "image", (n, flat)),
        ("z_image", f"Linear({flat}, {image_embed})", "image", (n, image_embed)),
        ("x_aux", "input", "aux", (n, aux_dim)),
        ("aux_linear", f"Linear({aux_dim}, {aux_embed})", "aux", (n, aux_embed)),
        ("z_aux", "ELU()", "aux", (n, aux_embed)),
        ("z_combined", "torch.cat([z_image, z_aux], dim=1)", "joint", (n, image_embed + aux_embed)),
        ("logits", "classifier", "joint", (n, num_classes)),
    ]


def param_formula(channels: int, image_size: int, filters: int, aux_dim: int, image_embed: int, aux_embed: int,
                  classifier_in: int, num_classes: int) -> int:
    """Weights + biases: F·C·3² + F, then in·out + out for each Linear."""
    flat = filters * (image_size // 2) ** 2
    return (filters * channels * 9 + filters) + (flat * image_embed + image_embed) + (aux_dim * aux_embed + aux_embed) \
        + (classifier_in * num_classes + num_classes)


def multi_input_view(channels: int, image_size: int, filters: int, aux_dim: int, image_embed: int, aux_embed: int,
                     classifier_in: int, num_classes: int = 10, seed: int = 0) -> MultiInputView:
    """Build the net (weights drawn from a seeded generator), run one batch of N = 4 through it with forward hooks
    recording every tensor's shape, and keep PyTorch's error if the classifier's in_features does not fit."""
    with torch.device("meta"):  # skip the global-RNG init; init_parameters redraws every weight from `g`
        model = MultiInputNet(channels, image_size, filters, aux_dim, image_embed, aux_embed, classifier_in, num_classes)
    g = generator(seed)
    model = models.init_parameters(model.to_empty(device="cpu"), "default", g).eval()
    recorded: dict[str, tuple[int, ...]] = {}
    names = {model.image_branch[0]: "conv", model.image_branch[1]: "pool", model.image_branch[2]: "elu",
             model.image_branch[3]: "flatten", model.image_branch[4]: "z_image", model.aux_branch[0]: "aux_linear",
             model.aux_branch[1]: "z_aux", model.classifier: "logits"}
    hooks = [m.register_forward_hook(lambda m, i, o: recorded.__setitem__(names[m], tuple(o.shape))) for m in names]
    hooks.append(model.classifier.register_forward_pre_hook(lambda m, i: recorded.__setitem__("z_combined", tuple(i[0].shape))))
    x_image = torch.randn(FORWARD_BATCH, channels, image_size, image_size, generator=g)
    x_aux = torch.randn(FORWARD_BATCH, aux_dim, generator=g)
    recorded["x_image"], recorded["x_aux"] = tuple(x_image.shape), tuple(x_aux.shape)
    error = None
    try:
        with torch.inference_mode():
            model(x_image, x_aux)
    except RuntimeError as err:  # the classifier's in_features disagrees with the concatenation
        error = str(err).strip()
    finally:
        for h in hooks:
            h.remove()
    stages = tuple(Stage(name, layer, branch, shape, recorded.get(name))
                   for name, layer, branch, shape in shape_formulas(channels, image_size, filters, aux_dim, image_embed,
                                                                    aux_embed, num_classes))
    stages = tuple(s if s.name != "logits" else Stage(s.name, f"Linear({classifier_in}, {num_classes})", s.branch, s.formula, s.actual)
                   for s in stages)
    return MultiInputView(stages, image_embed + aux_embed, classifier_in, num_classes, error,
                          param_formula(channels, image_size, filters, aux_dim, image_embed, aux_embed, classifier_in, num_classes),
                          sum(p.numel() for p in model.parameters()))


def multi_input_checks(v: MultiInputView) -> list[Check]:
    """Each width by formula against the forward pass's tensor, and the parameter count against PyTorch's."""
    out = [Check(f"{s.name} width: formula vs forward pass", float(s.formula[-1]), float(s.actual[-1]), 0.0)
           for s in v.stages if s.actual is not None and s.name in ("flatten", "z_image", "z_aux", "z_combined", "logits")]
    out.append(Check("classifier in_features that fits = d_img + d_aux vs the concatenated tensor", float(v.concat_width),
                     float(v.stage("z_combined").actual[-1]), 0.0))
    out.append(Check("parameters: formula vs Σ p.numel()", float(v.params_formula), float(v.params_torch), 0.0))
    return out


# --------------------------------------------------------------------------------------------------------
# The glyphs: two labels per picture (and an ink share for the regression head)

GLYPH_SIZE = 16
N_TRAIN, N_VAL = 600, 300
BATCH_SIZE = 32
DATA_SEED = 0

# Strokes in a unit box centred on 0, y up: ("line", (x0, y0), (x1, y1)) or ("arc", (cx, cy), r, from°, to°).
_A, _B = 0.4, -0.4
ALPHABETS: dict[str, dict[str, list[tuple]]] = {
    "Bars": {"T": [("line", (_B, _A), (_A, _A)), ("line", (0, _A), (0, _B))],
             "L": [("line", (_B, _A), (_B, _B)), ("line", (_B, _B), (_A, _B))],
             "H": [("line", (_B, _A), (_B, _B)), ("line", (_A, _A), (_A, _B)), ("line", (_B, 0), (_A, 0))],
             "Π": [("line", (_B, _A), (_A, _A)), ("line", (_B, _A), (_B, _B)), ("line", (_A, _A), (_A, _B))]},
    "Slants": {"X": [("line", (_B, _A), (_A, _B)), ("line", (_B, _B), (_A, _A))],
               "V": [("line", (_B, _A), (0, _B)), ("line", (0, _B), (_A, _A))],
               "Λ": [("line", (_B, _B), (0, _A)), ("line", (0, _A), (_A, _B))],
               "<": [("line", (_A, _A), (_B, 0)), ("line", (_B, 0), (_A, _B))]},
    "Curves": {"O": [("arc", (0, 0), 0.4, 0, 360)], "C": [("arc", (0, 0), 0.4, 45, 315)],
               "U": [("arc", (0, 0.1), 0.35, 180, 360)], "∩": [("arc", (0, -0.1), 0.35, 0, 180)]},
}
ALPHABET_NAMES = tuple(ALPHABETS)
CHARACTER_NAMES = tuple(c for chars in ALPHABETS.values() for c in chars)
CHARACTER_ALPHABET = tuple(a for a, chars in enumerate(ALPHABETS.values()) for _ in chars)


def _stroke_distance(strokes: list[tuple], x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Distance from each point (x, y) to the nearest stroke, in glyph units."""
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


@dataclass(frozen=True)
class Glyphs:
    images: torch.Tensor  # (n, 1, S, S) float32, strokes ≈ 1 on ≈ 0, plus N(0, 0.15²) noise
    alphabet: torch.Tensor  # (n,) int64 in [0, 3)
    character: torch.Tensor  # (n,) int64 in [0, 12)
    ink: torch.Tensor  # (n,) float32: share of the picture the strokes cover (mean of the noise-free picture)


def glyphs(n: int, seed: int = DATA_SEED, size: int = GLYPH_SIZE) -> Glyphs:
    """`n` glyphs, each a random character drawn at a random size (55–100% of the picture), rotation (±15°),
    position and stroke width, with pixel noise; all from one seeded generator."""
    g = generator(seed)
    character = torch.randint(0, len(CHARACTER_NAMES), (n,), generator=g)
    scale = 0.55 + 0.45 * torch.rand(n, generator=g)
    turn = math.radians(15) * (2 * torch.rand(n, generator=g) - 1)
    shift = (2 * torch.rand(n, 2, generator=g) - 1) * (0.45 * (1 - 0.9 * scale))[:, None]
    width = 0.07 + 0.05 * torch.rand(n, generator=g)
    c = (torch.arange(size) + 0.5) / size - 0.5
    py, px = torch.meshgrid(-c, c, indexing="ij")
    u, v = px.reshape(1, -1) - shift[:, :1], py.reshape(1, -1) - shift[:, 1:]  # (n, S²) pixel centres, glyph-centred
    cos, sin = torch.cos(turn)[:, None], torch.sin(turn)[:, None]
    gx, gy = (cos * u + sin * v) / scale[:, None], (cos * v - sin * u) / scale[:, None]  # undo rotation and size
    clean = torch.zeros(n, size * size)
    strokes = [s for chars in ALPHABETS.values() for s in chars.values()]
    for k, glyph in enumerate(strokes):
        m = character == k
        if m.any():
            d = _stroke_distance(glyph, gx[m], gy[m]) * scale[m, None]  # back in picture units
            clean[m] = (1 - (d - width[m, None] / 2) * size).clamp(0, 1)  # one-pixel anti-aliased edge
    images = clean + 0.15 * torch.randn(clean.shape, generator=g)
    alphabet = torch.tensor(CHARACTER_ALPHABET)[character]
    return Glyphs(images.reshape(n, 1, size, size), alphabet, character, clean.mean(1))


def glyph_split(seed: int = DATA_SEED) -> tuple[Glyphs, Glyphs]:
    """The bundled set: N_TRAIN training and N_VAL validation glyphs."""
    d = glyphs(N_TRAIN + N_VAL, seed)
    part = lambda sl: Glyphs(d.images[sl], d.alphabet[sl], d.character[sl], d.ink[sl])  # noqa: E731
    return part(slice(0, N_TRAIN)), part(slice(N_TRAIN, None))


def gallery(seed: int = DATA_SEED) -> tuple[np.ndarray, list[str]]:
    """The first glyph of each character in the training set: (12, S, S) pictures and their names."""
    train, _ = glyph_split(seed)
    first = [int((train.character == k).nonzero()[0]) for k in range(len(CHARACTER_NAMES))]
    return train.images[first, 0].numpy(), list(CHARACTER_NAMES)


# --------------------------------------------------------------------------------------------------------
# Multi-output (§12.2) and the multi-task losses (§12.3, §12.4)

FILTERS_TRAINED, EMBED_TRAINED = 16, 128  # the course's backbone: Conv2d(1, 16, 3) … Linear(…, 128)
EMA_BETA = 0.9
SCHEMES = ("fixed", "uncertainty", "normalized")
SCALE_RUNS = ("plain", "normalized")  # the loss-scale study: L_CE + L_MSE, and Σ L_k / EMA(L_k)
TASKS: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    "weighting": (("alphabet", "character"), ("ce", "ce")),
    "scales": (("character", "ink"), ("ce", "mse")),
}
TARGET_SCALES = (1, 10, 100, 1000, 10000)
UNITS = {1: "fraction", 10: "tenths", 100: "percent", 1000: "per mille", 10000: "basis points"}


def backbone(size: int = GLYPH_SIZE, filters: int = FILTERS_TRAINED, embed: int = EMBED_TRAINED) -> nn.Sequential:
    """The course's shared feature extractor (§12.2): (N, 1, S, S) → (N, embed)."""
    return nn.Sequential(nn.Conv2d(1, filters, kernel_size=3, padding=1), nn.MaxPool2d(2), nn.ELU(), nn.Flatten(),
                         nn.Linear(filters * (size // 2) ** 2, embed))


class MultiOutputNet(nn.Module):
    """The course's MultiOutputNet (§12.2): one backbone, an alphabet head and a character head (logits)."""

    def __init__(self, size: int = GLYPH_SIZE, n_alphabets: int = len(ALPHABET_NAMES), n_characters: int = len(CHARACTER_NAMES)):
        super().__init__()
        self.backbone = backbone(size)
        self.head_alphabet = nn.Linear(EMBED_TRAINED, n_alphabets)
        self.head_character = nn.Linear(EMBED_TRAINED, n_characters)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:  # (N, 1, S, S) → (N, 3), (N, 12)
        features = self.backbone(x)  # (N, 128)
        return self.head_alphabet(features), self.head_character(features)


class InkNet(nn.Module):
    """The same backbone with a character head (cross-entropy) and an ink head (MSE). The ink head's output is
    multiplied by `unit` (a fixed buffer, not learned), so it predicts in the target's unit: the task is the same
    at every unit, and only the size of its MSE changes (by unit²)."""

    def __init__(self, unit: float = 1.0, size: int = GLYPH_SIZE, n_characters: int = len(CHARACTER_NAMES)):
        super().__init__()
        self.backbone = backbone(size)
        self.head_character = nn.Linear(EMBED_TRAINED, n_characters)
        self.head_ink = nn.Linear(EMBED_TRAINED, 1)
        self.register_buffer("unit", torch.tensor(float(unit)))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:  # → (N, 12) logits, (N,) ink in the unit
        features = self.backbone(x)
        return self.head_character(features), self.head_ink(features).squeeze(1) * self.unit


class MultiTaskLoss(nn.Module):
    """A loss of (head outputs, targets (N, K)) that combines the heads' losses L_k; while training it logs each
    step's L_k, the factor each L_k is multiplied by, and the scheme's state (λ_k, σ_k or EMA_k).

    Targets come as one float tensor (N, K): a class index (exact in float32) for a "ce" head, the value for "mse".
    """

    def __init__(self, kinds: tuple[str, ...]):
        super().__init__()
        self.kinds = kinds
        self.log: list[tuple[list[float], list[float], list[float]]] = []

    def head_losses(self, outputs: tuple[torch.Tensor, ...], y: torch.Tensor) -> torch.Tensor:
        """(K,): nn.CrossEntropyLoss or nn.MSELoss of each head, mean over the batch."""
        return torch.stack([F.cross_entropy(o, y[:, k].long()) if kind == "ce" else F.mse_loss(o, y[:, k])
                            for k, (o, kind) in enumerate(zip(outputs, self.kinds))])

    def combine(self, losses: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def factors(self) -> torch.Tensor:
        """What each L_k is multiplied by at this step."""
        raise NotImplementedError

    def state(self) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, outputs: tuple[torch.Tensor, ...], y: torch.Tensor) -> torch.Tensor:
        losses = self.head_losses(outputs, y)
        total = self.combine(losses)
        if self.training:
            self.log.append((losses.tolist(), self.factors().tolist(), self.state().tolist()))
        return total


class FixedWeights(MultiTaskLoss):
    """§12.3 weighted sum: Σ λ_k L_k (λ = (1, 1) is the simple sum)."""

    def __init__(self, kinds: tuple[str, ...], weights: tuple[float, ...]):
        super().__init__(kinds)
        self.register_buffer("weights", torch.tensor(weights, dtype=torch.float32))

    def combine(self, losses):
        return (self.weights * losses).sum()

    def factors(self):
        return self.weights

    def state(self):
        return self.weights


class UncertaintyWeights(MultiTaskLoss):
    """Kendall et al. (2018) as the course writes it (§12.3): Σ_k L_k / (2σ_k²) + log σ_k, for every head.
    The learned parameter is s_k = log σ_k² (σ_k = e^{s_k/2} > 0 always), so the loss is Σ ½e^{−s_k} L_k + ½ s_k."""

    def __init__(self, kinds: tuple[str, ...]):
        super().__init__(kinds)
        self.log_var = nn.Parameter(torch.zeros(len(kinds)))  # s_k = log σ_k², σ_k = 1 at the start

    def combine(self, losses):
        return (0.5 * torch.exp(-self.log_var) * losses + 0.5 * self.log_var).sum()

    def factors(self):
        return (0.5 * torch.exp(-self.log_var)).detach()

    def state(self):
        return torch.exp(0.5 * self.log_var).detach()  # σ_k


class EmaNormalized(MultiTaskLoss):
    """§12.4 loss-scale normalization: Σ_k L_k / EMA(L_k). While training, each step first folds its own losses into
    the EMA (EMA_1 = L_1, then EMA_t = β·EMA_{t−1} + (1−β)·L_t), then divides; the EMA is a constant for autograd."""

    def __init__(self, kinds: tuple[str, ...], beta: float = EMA_BETA):
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

    def factors(self):
        return 1 / self.ema

    def state(self):
        return self.ema.clone()


def make_loss(scheme: str, kinds: tuple[str, str], weight_a: float = 0.5) -> MultiTaskLoss:
    """fixed: λ = (weight_a, 1 − weight_a); plain: λ = (1, 1); uncertainty; normalized."""
    if scheme == "fixed":
        return FixedWeights(kinds, (weight_a, 1 - weight_a))
    if scheme == "plain":
        return FixedWeights(kinds, (1.0, 1.0))
    if scheme == "uncertainty":
        return UncertaintyWeights(kinds)
    if scheme == "normalized":
        return EmaNormalized(kinds)
    raise ValueError(f"unknown weighting {scheme!r}")


def targets(d: Glyphs, task: str, unit: float = 1.0) -> torch.Tensor:
    """(N, 2) float targets of a task: (alphabet, character) or (character, ink × unit)."""
    if task == "weighting":
        return torch.stack([d.alphabet, d.character], 1).float()
    return torch.stack([d.character.float(), d.ink * unit], 1)


def make_model(task: str, unit: float, seed: int) -> nn.Module:
    """The task's net, every weight redrawn from generator(seed) with PyTorch's default rules."""
    net = MultiOutputNet() if task == "weighting" else InkNet(unit)
    return models.init_parameters(net, "default", generator(seed))


def head_metrics(outputs: tuple[torch.Tensor, ...], y: torch.Tensor, kinds: tuple[str, ...]) -> list[float]:
    """Accuracy (argmax = label) of a "ce" head; R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)² of an "mse" head."""
    out = []
    for k, (o, kind) in enumerate(zip(outputs, kinds)):
        t = y[:, k]
        if kind == "ce":
            out.append(float((o.argmax(1) == t.long()).double().mean()))
        else:
            out.append(float(1 - ((t.double() - o.double()) ** 2).sum() / ((t.double() - t.double().mean()) ** 2).sum()))
    return out


@dataclass(frozen=True)
class Run:
    """One training run and everything the page shows about it."""

    task: str
    scheme: str
    heads: tuple[str, str]
    status: str  # done or diverged; "running" for the part of a run still training (Progress.run)
    message: str | None
    wall: float  # seconds of training
    steps: pd.DataFrame  # step, epoch, total, and per head: loss_, factor_, state_, term_ (= factor·loss)
    epochs: pd.DataFrame  # epoch (0 = before training), and per head: val_loss_, metric_ (accuracy or R²)
    checks: tuple[Check, ...] = field(default_factory=tuple)
    final_state: tuple[float, ...] = ()  # λ_k, σ_k or EMA_k after the last step

    def final(self, column: str) -> float:
        return float(self.epochs[column].iloc[-1])


def weighting_table(runs: Mapping[str, Run], labels: Mapping[str, str]) -> pd.DataFrame:
    """One row per weighting run: both heads' final validation accuracy (%) and the weight each head's loss had at
    the last step (None before the first step)."""
    def last(run: Run, column: str) -> float | None:
        return float(run.steps[column].iloc[-1]) if len(run.steps) else None

    return pd.DataFrame([{"weighting": labels[s], "alphabet accuracy (%)": 100 * r.final("metric_alphabet"),
                          "character accuracy (%)": 100 * r.final("metric_character"),
                          "weight on L_alphabet (last step)": last(r, "factor_alphabet"),
                          "weight on L_character (last step)": last(r, "factor_character")} for s, r in runs.items()])


def scale_table(runs: Mapping[str, Run], unit: float) -> pd.DataFrame:
    """One row per loss-scale run ("plain", "normalized"): character accuracy (%), ink R², the ink RMSE in the unit
    (√ of the validation MSE) and both validation losses."""
    rmse = f"ink RMSE ({UNITS.get(int(unit), f'×{unit:g}')})"
    return pd.DataFrame([{"run": "plain sum L_CE + L_MSE" if name == "plain" else "Σ L_k / EMA(L_k)",
                          "character accuracy (%)": 100 * r.final("metric_character"), "ink R²": r.final("metric_ink"),
                          rmse: r.final("val_loss_ink") ** 0.5, "validation L_CE": r.final("val_loss_character"),
                          "validation L_MSE": r.final("val_loss_ink")} for name, r in runs.items()])


def scale_table_formats(table: pd.DataFrame) -> dict[str, str]:
    """printf formats for `scale_table`'s number columns: accuracy to 0.1, R² to 0.001, and each loss column with one
    number of decimals for both rows, enough for 4 significant digits of its smallest value (so 3.400 beside 2.449,
    not 3.4), or in e-notation from a million up."""
    formats = {}
    for column in table.columns[1:]:
        if "%" in column:
            formats[column] = "%.1f"
        elif "R²" in column:
            formats[column] = "%.3f"
        else:
            values = np.abs(table[column].to_numpy(dtype=float))
            values = values[np.isfinite(values) & (values > 0)]
            if not values.size:
                formats[column] = "%.4f"
            elif values.max() >= 1e6:
                formats[column] = "%.3e"
            else:
                formats[column] = f"%.{min(6, max(0, 3 - math.floor(math.log10(values.min()))))}f"
    return formats


def first_step_balance(run: Run) -> tuple[float, float] | None:
    """How the plain sum L_CE + L_MSE of an ink run is split at its first step: (L_MSE / L_CE, L_MSE's share of
    the sum in %). None before the first step, or when L_CE is 0 or either loss is not finite."""
    if not len(run.steps):
        return None
    ce, mse = float(run.steps["loss_character"].iloc[0]), float(run.steps["loss_ink"].iloc[0])
    if not (math.isfinite(ce) and math.isfinite(mse)) or ce <= 0:
        return None
    return mse / ce, 100 * mse / (ce + mse)


RunKey = tuple[str, str, float, float, int, float, int]  # task, scheme, weight_a, lr, epochs, unit, seed: train_heads' arguments


def page_runs(shown: str) -> list[tuple[str, str]]:
    """The five (task, scheme) runs of the page, the weighting shown in detail first."""
    return [("weighting", shown), *(("weighting", s) for s in SCHEMES if s != shown), *(("scales", s) for s in SCALE_RUNS)]


def run_key(task: str, scheme: str, weight_a: float, lr: float, epochs: int, unit: float, seed: int) -> RunKey:
    """`train_heads`' arguments for one page run: only the fixed run reads λ, only the loss-scale runs the unit,
    so moving λ retrains one run and the unit two."""
    return (task, scheme, weight_a if (task, scheme) == ("weighting", "fixed") else 0.5, lr, epochs,
            float(unit) if task == "scales" else 1.0, seed)


def kendall_weight(sigma: float) -> float:
    """1 / (2σ²), the uncertainty run's weight on a loss."""
    return 0.5 / sigma**2 if sigma > 0 else float("inf")


@dataclass(frozen=True)
class Progress:
    """A two-head run while it trains: one for each record of the engine, then a last one that carries the finished
    run (with its checks). `run()` is the run so far, built only when called, so a caller that redraws a few times a
    second pays for those redraws only."""

    record: training.Record | None  # the engine's event; None on the last Progress
    total_steps: int  # optimizer steps of the whole run (if it does not diverge)
    result: Run | None = None  # the finished run, on the last Progress only
    snapshot: Callable[[], Run] | None = field(default=None, repr=False, compare=False)

    @property
    def step(self) -> int:
        """Optimizer steps taken so far."""
        if self.record is not None:
            return self.record.step
        return len(self.result.steps) if self.result is not None else 0

    def run(self) -> Run:
        """The finished run on the last Progress; before it, the steps and epochs trained so far (status "running")."""
        if self.result is not None:
            return self.result
        assert self.snapshot is not None
        return self.snapshot()


def _run(task: str, scheme: str, status: str, message: str | None, wall: float, step_records: Sequence[training.Record],
         log: Sequence[tuple[list[float], list[float], list[float]]], rows: Sequence[dict[str, float]],
         final_state: tuple[float, ...], checks: tuple[Check, ...] = ()) -> Run:
    """A Run from the engine's step records, the loss module's log (one entry per step) and the epoch rows."""
    heads, _ = TASKS[task]
    steps = pd.DataFrame({"step": [r.step for r in step_records], "epoch": [r.epoch for r in step_records],
                          "total": [r.train_loss for r in step_records]})
    for k, h in enumerate(heads):
        steps[f"loss_{h}"] = [entry[0][k] for entry in log]
        steps[f"factor_{h}"] = [entry[1][k] for entry in log]
        steps[f"state_{h}"] = [entry[2][k] for entry in log]
        steps[f"term_{h}"] = steps[f"factor_{h}"] * steps[f"loss_{h}"]
    return Run(task, scheme, heads, status, message, wall, steps, pd.DataFrame(list(rows)), checks, final_state)


def train_heads_live(task: str, scheme: str, weight_a: float = 0.5, lr: float = 0.003, epochs: int = 8, unit: float = 1.0,
                     seed: int = 0) -> Iterator[Progress]:
    """Train the task's two-head net with Adam through `core.training.train`, the loss module's parameters
    (uncertainty's s_k) in the optimizer too; evaluate both heads on the validation glyphs after every epoch.

    Yields a Progress for every record of the engine (its `run()` is the run so far), then a last Progress whose
    `result` is the finished run. Stopping early (closing the generator) leaves nothing behind: all state is local."""
    heads, kinds = TASKS[task]
    train_set, val_set = glyph_split()
    y_train, y_val = targets(train_set, task, unit), targets(val_set, task, unit)
    model, loss_fn = make_model(task, unit, seed), make_loss(scheme, kinds, weight_a)
    optimizer = torch.optim.Adam([*model.parameters(), *loss_fn.parameters()], lr=lr)
    train_loader = DataLoader(TensorDataset(train_set.images, y_train), batch_size=BATCH_SIZE, shuffle=True,
                              generator=generator(seed + 1))
    val_loader = DataLoader(TensorDataset(val_set.images, y_val), batch_size=N_VAL)
    total_steps = epochs * len(train_loader)

    def evaluate(net: nn.Module, loader: DataLoader) -> tuple[float, dict[str, float]]:
        x, y = next(iter(loader))  # the whole validation set is one batch
        out = net(x)
        losses, metrics = loss_fn.head_losses(out, y).tolist(), head_metrics(out, y, kinds)
        return sum(losses), {**{f"val_loss_{h}": v for h, v in zip(heads, losses)}, **{f"metric_{h}": v for h, v in zip(heads, metrics)}}

    with torch.inference_mode():
        _, before = evaluate(model.eval(), val_loader)
    start_state = tuple(loss_fn.state().tolist())
    rows, status, message, wall = [{"epoch": 0, **before}], "done", None, 0.0
    step_records: list[training.Record] = []

    def so_far(n_steps: int, n_rows: int, at: float) -> Callable[[], Run]:
        """The run as it stood at this record (the lists only grow, so their first n entries never change)."""
        def build() -> Run:
            log = loss_fn.log[:n_steps]
            state = tuple(log[-1][2]) if log else start_state
            return _run(task, scheme, "running", None, at, step_records[:n_steps], log, rows[:n_rows], state)
        return build

    for record in training.train(model, loss_fn, optimizer, train_loader, val_loader, epochs, evaluate=evaluate):
        if record.kind == "step":
            step_records.append(record)
        elif record.kind == "epoch":
            rows.append({"epoch": record.epoch, **record.metrics})
        elif record.kind == "diverged":
            status, message = "diverged", record.message
        wall = record.wall
        yield Progress(record, total_steps, snapshot=so_far(len(step_records), len(rows), wall))
    log = loss_fn.log[: len(step_records)]
    final_state = tuple(loss_fn.state().tolist())
    checks = loss_checks(model.eval(), loss_fn, val_set, y_val, task, scheme, weight_a, unit) if status == "done" else ()
    yield Progress(None, total_steps, _run(task, scheme, status, message, wall, step_records, log, rows, final_state, tuple(checks)))


def train_heads(task: str, scheme: str, weight_a: float = 0.5, lr: float = 0.003, epochs: int = 8, unit: float = 1.0,
                seed: int = 0) -> Run:
    """The finished run of `train_heads_live` (the same numbers, without watching it train)."""
    for progress in train_heads_live(task, scheme, weight_a, lr, epochs, unit, seed):
        if progress.result is not None:
            return progress.result
    raise AssertionError("train_heads_live ends with the finished run")


class RunStore:
    """Finished runs by their settings (a RunKey), at most `size` of them: the least recently used goes first.

    Thread-safe, so sessions can share one. It holds only finished runs (never one still training); a Run is
    frozen and its tables are only read once it is stored."""

    def __init__(self, size: int = 96):
        if size < 1:
            raise ValueError("a store keeps at least one run")
        self.size = size
        self._runs: OrderedDict[RunKey, Run] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: RunKey) -> Run | None:
        with self._lock:
            run = self._runs.get(key)
            if run is not None:
                self._runs.move_to_end(key)
            return run

    def put(self, key: RunKey, run: Run) -> None:
        if run.status == "running":
            raise ValueError("only a finished run is kept")
        with self._lock:
            self._runs[key] = run
            self._runs.move_to_end(key)
            while len(self._runs) > self.size:
                self._runs.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._runs)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._runs


def loss_checks(model: nn.Module, loss_fn: MultiTaskLoss, val_set: Glyphs, y: torch.Tensor, task: str, scheme: str,
                weight_a: float, unit: float) -> list[Check]:
    """The trained run on the validation set: the scheme's total by its formula vs the loss module; for uncertainty,
    ∂L/∂s_k by hand (½ − ½e^{−s_k}L_k) vs autograd; each head's accuracy or R² vs torchmetrics."""
    heads, kinds = TASKS[task]
    loss_fn.eval()  # no EMA update, no log entry
    with torch.no_grad():
        out = model(val_set.images)
    L = loss_fn.head_losses(out, y).detach()
    total = loss_fn(out, y)
    name = {"fixed": "λ_a·L_a + (1 − λ_a)·L_b", "plain": "L_CE + L_MSE", "uncertainty": "Σ ½e^(−s_k)·L_k + ½s_k",
            "normalized": "Σ L_k / EMA(L_k)"}[scheme]
    if scheme == "fixed":
        by_hand = weight_a * L[0] + (1 - weight_a) * L[1]
    elif scheme == "plain":
        by_hand = L.sum()
    elif scheme == "uncertainty":
        s = loss_fn.log_var.detach()
        by_hand = (0.5 * torch.exp(-s) * L + 0.5 * s).sum()
    else:
        by_hand = (L / loss_fn.ema).sum()
    scale = max(1.0, abs(float(by_hand)))
    out_checks = [Check(f"total loss {name}: formula vs module", float(by_hand), float(total.detach()), 1e-5 * scale)]
    if scheme == "uncertainty":
        loss_fn.log_var.grad = None
        total.backward()
        s = loss_fn.log_var.detach()
        for k, h in enumerate(heads):
            out_checks.append(Check(f"∂L/∂s_{h} = ½ − ½e^(−s)·L_{h}: formula vs autograd", float(0.5 - 0.5 * torch.exp(-s[k]) * L[k]),
                                    float(loss_fn.log_var.grad[k]), 1e-6))
        loss_fn.log_var.grad = None
    mine = head_metrics(out, y, kinds)
    for k, (h, kind) in enumerate(zip(heads, kinds)):
        if kind == "ce":
            n = len(CHARACTER_NAMES) if h == "character" else len(ALPHABET_NAMES)
            ref = MulticlassAccuracy(num_classes=n, average="micro")(out[k].argmax(1), y[:, k].long())
            out_checks.append(Check(f"{h} accuracy: mean(argmax = label) vs torchmetrics Accuracy", mine[k], float(ref), 1e-6))  # float32 inside
        else:
            ref = R2Score()(out[k].double(), y[:, k].double())
            out_checks.append(Check(f"{h} R²: 1 − SS_res/SS_tot vs torchmetrics R2Score", mine[k], float(ref), 1e-9))
            mse = F.mse_loss(out[k].double(), y[:, k].double())
            fraction = F.mse_loss(out[k].double() / unit, y[:, k].double() / unit)
            out_checks.append(Check(f"MSE in {UNITS.get(int(unit), 'the unit')} = unit² × MSE in fractions (unit = {unit:g})",
                                    float(unit**2 * fraction), float(mse), 1e-9 * max(1.0, float(mse))))
    return out_checks

