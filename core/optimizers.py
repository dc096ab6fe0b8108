"""Races of the real `torch.optim` optimizers on a two-parameter loss surface, and a fair learning-rate search.

Every optimizer gets its own tensor θ = (x, y) of dtype float64 (a row of one (P, 2) tensor) and is a real
`torch.optim` optimizer: its first `step()` is its own, and every later step calls the functional implementation
that `step()` calls (`torch.optim.adam.adam`, ...) with the same arguments and state, without `step()`'s per-call
overhead; the paths are bit-identical to the class API's (tests/core/test_optimizers.py). Schedules are
`torch.optim.lr_scheduler`'s rates, computed once per (schedule, η, steps). The gradient each step is the
surface's closed-form ∇L (core.surfaces.gradient, checked against autograd), plus the step's noise ξ_t on the
noisy quadratic: a few float operations per optimizer instead of one autograd graph. A path stops at the first
step whose θ or L(θ) is inf or NaN ("diverged at step k"); the others go on.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace

import pandas as pd
import torch

from core import surfaces
from core.optim_functional import functional_steps

OPTIMIZERS: tuple[str, ...] = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw")
LABELS: dict[str, str] = {"sgd": "SGD", "momentum": "Momentum", "nesterov": "Nesterov", "adagrad": "Adagrad",
                          "rmsprop": "RMSprop", "adam": "Adam", "adamw": "AdamW"}
CLASSES: dict[str, str] = {"sgd": "SGD", "momentum": "SGD", "nesterov": "SGD", "adagrad": "Adagrad",
                           "rmsprop": "RMSprop", "adam": "Adam", "adamw": "AdamW"}
#: PyTorch's default ε per class (SGD has none).
DEFAULT_EPS: dict[str, float] = {"adagrad": 1e-10, "rmsprop": 1e-8, "adam": 1e-8, "adamw": 1e-8}

SCHEDULES: tuple[str, ...] = ("constant", "step", "cosine", "onecycle")
SCHEDULE_LABELS: dict[str, str] = {"constant": "Constant", "step": "StepLR", "cosine": "CosineAnnealingLR",
                                   "onecycle": "OneCycleLR"}
STEP_GAMMA = 0.1  # StepLR multiplies the rate by 0.1 ...
STEP_PARTS = 3  # ... after each third of the race
ONECYCLE = {"pct_start": 0.3, "div_factor": 25.0, "final_div_factor": 1e4}  # PyTorch's defaults

#: Learning rates on a 1-2-5 log grid: the choices of the sliders.
LR_GRID: tuple[float, ...] = tuple(float(f"{m}e{e}") for e in range(-5, 1) for m in (1, 2, 5)) + (10.0,)
#: The fair search's candidates: every half decade from 1e-5 to 10.
SEARCH_GRID: tuple[float, ...] = tuple(float(f"{m}e{e}") for e in range(-5, 1) for m in (1, 3)) + (10.0,)

#: Choices of the sliders for RMSprop's ρ, Adam's β2 and ε (None: each class's own default).
RHO_GRID: tuple[float, ...] = (0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 0.995, 0.999)
BETA2_GRID: tuple[float, ...] = (0.9, 0.95, 0.99, 0.995, 0.999, 0.9999)
EPS_CHOICES: tuple[float | None, ...] = (None, 1e-10, 1e-8, 1e-6, 1e-4, 1e-2, 0.1)

MAX_STEPS = 2000
_DTYPE = torch.float64


def lr_label(lr: float) -> str:
    """A learning rate as the sliders and links show it: 0.001, 2e-4, 10."""
    if lr >= 1e-3:
        return f"{lr:g}"
    mantissa, exponent = f"{lr:e}".split("e")
    return f"{float(mantissa):g}e{int(exponent)}"


@dataclass(frozen=True)
class Hyper:
    """One optimizer's settings. `hyper()` leaves the fields an optimizer does not use at these values,
    so a cached run does not depend on another optimizer's sliders."""

    name: str  # one of OPTIMIZERS
    lr: float  # η (the peak rate under OneCycleLR)
    momentum: float = 0.0  # μ, SGD's momentum (momentum, nesterov)
    rho: float = 0.99  # ρ, PyTorch's RMSprop `alpha`
    beta1: float = 0.9  # Adam's β1
    beta2: float = 0.999  # Adam's β2
    eps: float = 0.0  # ε (PyTorch's default for the class unless set)
    weight_decay: float = 0.0  # λ: L2 in the gradient for Adam, decoupled for AdamW

    @property
    def label(self) -> str:
        return LABELS[self.name]


def hyper(name: str, lr: float, momentum: float = 0.9, rho: float = 0.99, beta1: float = 0.9, beta2: float = 0.999,
          eps: float | None = None, weight_decay: float = 0.01, adam_l2: bool = False) -> Hyper:
    """The settings `name` uses, out of all the page's settings.

    Args:
        eps: None for the class's own default (1e-10 for Adagrad, 1e-8 for RMSprop, Adam, AdamW).
        weight_decay: λ for AdamW; for Adam too when `adam_l2`.
    """
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose from {', '.join(OPTIMIZERS)}")
    if not lr > 0:
        raise ValueError("the learning rate must be positive")
    base = Hyper(name, float(lr))
    if name in ("momentum", "nesterov"):
        return replace(base, momentum=float(momentum))
    if name == "sgd":
        return base
    e = float(DEFAULT_EPS[name] if eps is None else eps)
    if name == "adagrad":
        return replace(base, eps=e)
    if name == "rmsprop":
        return replace(base, rho=float(rho), eps=e)
    wd = float(weight_decay) if (name == "adamw" or adam_l2) else 0.0
    return replace(base, beta1=float(beta1), beta2=float(beta2), eps=e, weight_decay=wd)


def make_optimizer(h: Hyper, params: list[torch.Tensor], lrs: tuple[float, ...] | None = None) -> torch.optim.Optimizer:
    """The `torch.optim` optimizer for `h`, one parameter group per tensor in `params`.

    Args:
        lrs: a learning rate per group (the fair search); default `h.lr` for every group.
    """
    groups = [{"params": [p], "lr": lr} for p, lr in zip(params, lrs or (h.lr,) * len(params), strict=True)]
    # foreach=False is the single-tensor loop PyTorch picks on the CPU anyway; naming it skips a
    # per-step device check, and the numbers are the same as with the default.
    if h.name == "sgd":
        return torch.optim.SGD(groups, lr=h.lr, foreach=False)
    if h.name in ("momentum", "nesterov"):
        return torch.optim.SGD(groups, lr=h.lr, momentum=h.momentum, nesterov=h.name == "nesterov", foreach=False)
    if h.name == "adagrad":
        return torch.optim.Adagrad(groups, lr=h.lr, eps=h.eps, foreach=False)
    if h.name == "rmsprop":
        return torch.optim.RMSprop(groups, lr=h.lr, alpha=h.rho, eps=h.eps, foreach=False)
    cls = torch.optim.Adam if h.name == "adam" else torch.optim.AdamW
    return cls(groups, lr=h.lr, betas=(h.beta1, h.beta2), eps=h.eps, weight_decay=h.weight_decay, foreach=False)


def refusal(h: Hyper) -> str | None:
    """PyTorch's own error message when it refuses settings h (Nesterov with μ = 0), else None."""
    try:
        make_optimizer(h, [torch.zeros(2, dtype=_DTYPE)])
    except ValueError as error:
        return str(error)
    return None


def make_scheduler(schedule: str, opt: torch.optim.Optimizer, steps: int) -> torch.optim.lr_scheduler.LRScheduler | None:
    """The `torch.optim.lr_scheduler` for `schedule`, stepped once per optimizer step; None for a constant rate.

    StepLR multiplies the rate by 0.1 after each third of the race; CosineAnnealingLR goes to 0 over
    the race; OneCycleLR rises from η/25 to η over 30% of the race and falls to η/25/10⁴, with
    `cycle_momentum=False` so that only the learning rate changes.
    """
    sched = torch.optim.lr_scheduler
    if schedule == "constant":
        return None
    if schedule == "step":
        return sched.StepLR(opt, step_size=step_size(steps), gamma=STEP_GAMMA)
    if schedule == "cosine":
        return sched.CosineAnnealingLR(opt, T_max=steps)
    if schedule == "onecycle":
        return sched.OneCycleLR(opt, max_lr=[g["lr"] for g in opt.param_groups], total_steps=steps,
                                cycle_momentum=False, **ONECYCLE)
    raise ValueError(f"unknown schedule {schedule!r}; choose from {', '.join(SCHEDULES)}")


def step_size(steps: int) -> int:
    """StepLR's step_size: a third of the race."""
    return max(1, steps // STEP_PARTS)


@dataclass(frozen=True)
class Problem:
    """Everything a race depends on besides the optimizers."""

    surface: str  # one of core.surfaces.SURFACES
    start: tuple[float, float]  # θ_0 = (x_0, y_0)
    steps: int  # optimizer steps
    condition: float = 15.0  # κ of the quadratics
    noise: float = 0.0  # σ of the noisy quadratic's ξ_t
    seed: int = 0  # seed of the ξ_t
    schedule: str = "constant"  # one of SCHEDULES

    def __post_init__(self) -> None:
        surfaces.surface(self.surface)
        if not 1 <= self.steps <= MAX_STEPS:
            raise ValueError(f"steps must be from 1 to {MAX_STEPS}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"unknown schedule {self.schedule!r}; choose from {', '.join(SCHEDULES)}")

    def noise_sequence(self) -> torch.Tensor:
        """ξ_t for every step, shape (steps, 2); zeros on the deterministic surfaces."""
        return surfaces.noise(self.surface, self.noise, self.seed, self.steps)

    def loss(self, xy: torch.Tensor) -> torch.Tensor:
        """L at points of shape (..., 2), without the noise term."""
        return surfaces.loss(self.surface, xy, self.condition)


@dataclass(frozen=True)
class Run:
    """One optimizer's path through a race."""

    hyper: Hyper
    path: torch.Tensor  # (k + 1, 2): θ_0 … θ_k, the finite part of the path
    loss: torch.Tensor  # (k + 1,): L(θ_t), without the noise term
    lrs: torch.Tensor  # (steps,): the learning rate each step used
    diverged_at: int | None  # first step t whose θ_t or L(θ_t) is inf or NaN; None if the path stayed finite

    @property
    def final(self) -> tuple[float, float, float]:
        """(x, y, L) at the last finite point."""
        return float(self.path[-1, 0]), float(self.path[-1, 1]), float(self.loss[-1])


def scheduled_rates(schedule: str, lr: float, steps: int) -> tuple[float, ...]:
    """η_t for t = 0 … steps − 1: the rate `make_scheduler`'s lr_scheduler gives each step of a race.

    A scheduler only reads and writes its parameter groups' rates, whatever the optimizer, so the sequence
    depends on (schedule, η, steps) alone: the real scheduler runs once per triple, on an optimizer of its
    own, and every race and search with that triple reuses its rates.
    """
    if schedule == "constant":
        return (float(lr),) * steps
    return _scheduled_rates(schedule, float(lr), steps)


@functools.lru_cache(maxsize=256)
def _scheduled_rates(schedule: str, lr: float, steps: int) -> tuple[float, ...]:
    opt = torch.optim.SGD([torch.zeros(1, dtype=_DTYPE)], lr=lr)
    scheduler = make_scheduler(schedule, opt, steps)
    group = opt.param_groups[0]
    rates = []
    for _ in range(steps):
        rates.append(group["lr"])
        opt.step()  # no gradient, so nothing moves; a scheduler expects its optimizer's step() before its own
        scheduler.step()
    return tuple(rates)


def _simulate(problem: Problem, optimizers: list[tuple[Hyper, tuple[float, ...]]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Run every (settings, learning rates) pair: one optimizer each, one parameter group per rate.

    Every parameter θ is a row of one (P, 2) tensor, so all of them are read at once for the gradient. The first
    step is each optimizer's own `step()`, which creates its state; the others go through `functional_steps`
    (core/optim_functional.py), with the rates the schedule's lr_scheduler sets (`scheduled_rates`).

    Returns:
        paths (steps + 1, P, 2) and the rate each step used (steps, P), P = total number of rates.
    """
    steps = problem.steps
    rates = [lr for _, lrs in optimizers for lr in lrs]
    theta = torch.tensor(problem.start, dtype=_DTYPE).repeat(len(rates), 1)  # (P, 2)
    params = list(theta.unbind(0))  # each optimizer's own θ, a view of one row of `theta`
    opts, k = [], 0
    for h, lrs in optimizers:
        opts.append(make_optimizer(h, params[k:k + len(lrs)], lrs))
        k += len(lrs)
    groups = [group for opt in opts for group in opt.param_groups]
    scheduled = problem.schedule != "constant"
    columns = [scheduled_rates(problem.schedule, lr, steps) for lr in rates] if scheduled else None
    noisy = problem.surface in surfaces.USES_NOISE and problem.noise > 0
    xi = problem.noise_sequence().tolist() if noisy else None
    surface, condition = problem.surface, problem.condition
    paths = torch.empty(steps + 1, len(rates), 2, dtype=_DTYPE)
    functional: list = []
    with torch.no_grad():
        for t in range(steps):
            paths[t] = theta
            # ∇L in closed form on Python floats: the same + − × in the same order as on tensors, so the same
            # float64 numbers, at a fraction of the cost of a dozen tensor ops on P numbers
            nabla = [surfaces.gradient(surface, x, y, condition) for x, y in theta.tolist()]
            if noisy:  # ∇L_t = ∇L + ξ_t
                nabla = [(gx + xi[t][0], gy + xi[t][1]) for gx, gy in nabla]
            grads = torch.tensor(nabla, dtype=_DTYPE).unbind(0)  # P × (2,)
            if t == 0:  # PyTorch's own step(): it checks the settings and creates the state
                for p, g, group, column in zip(params, grads, groups, columns or [None] * len(groups)):
                    p.grad = g
                    if column is not None:
                        group["lr"] = column[0]
                for opt in opts:
                    opt.step()
                functional = [step for opt in opts for step in functional_steps(opt)]
            elif scheduled:
                for step, g, column in zip(functional, grads, columns):
                    step(g, column[t])
            else:
                for step, g, lr in zip(functional, grads, rates):
                    step(g, lr)
        paths[steps] = theta
    if scheduled:
        used = torch.tensor(columns, dtype=_DTYPE).T  # (steps, P)
    else:
        used = torch.tensor(rates, dtype=_DTYPE).expand(steps, -1)
    return paths, used


def first_nonfinite(path: torch.Tensor, loss: torch.Tensor) -> torch.Tensor:
    """Per column, the first step whose point or loss is inf or NaN (steps + 1 if none).

    Args:
        path: (steps + 1, P, 2); loss: (steps + 1, P). Returns: (P,) int64.
    """
    bad = ~(torch.isfinite(path).all(-1) & torch.isfinite(loss))  # (steps + 1, P)
    # argmax gives the first maximum; a min over a where() of step indices gives the same but can take
    # milliseconds on a busy machine (a reduction along the first dimension, parallelised).
    return torch.where(bad.any(0), bad.to(torch.uint8).argmax(0), path.shape[0])


def race(problem: Problem, hypers: tuple[Hyper, ...]) -> tuple[Run, ...]:
    """Every optimizer in `hypers` from the same start on the same surface (and the same ξ_t).

    Returns:
        a Run per optimizer, in order; a diverged path ends at its last finite point.
    """
    paths, used = _simulate(problem, [(h, (h.lr,)) for h in hypers])
    with torch.inference_mode():
        losses = problem.loss(paths)  # (steps + 1, P)
        stop = first_nonfinite(paths, losses)
    runs = []
    for i, h in enumerate(hypers):
        k = int(stop[i])
        diverged = k <= problem.steps
        if k == 0:  # the start itself is not finite: nothing to draw
            raise ValueError("the loss is not finite at the start point")
        runs.append(Run(h, paths[:k, i].clone(), losses[:k, i].clone(), used[:, i].clone(), k if diverged else None))
    return tuple(runs)


@dataclass(frozen=True)
class Sweep:
    """The fair search for one optimizer: the final loss after the race's steps at every candidate rate."""

    hyper: Hyper  # the settings searched (its own lr is not used)
    lrs: tuple[float, ...]  # candidates, ascending
    final_loss: tuple[float, ...]  # L(θ_T) per candidate; inf where the path diverged
    best_lr: float | None  # the chosen rate; None when every candidate diverged

    @property
    def best_loss(self) -> float:
        return self.final_loss[self.lrs.index(self.best_lr)] if self.best_lr is not None else math.inf


TIE = 1e-9  # final losses within 1e-9 (relative to max(1, |best|)) of the best count as a tie


def pick(lrs: tuple[float, ...], final_loss: tuple[float, ...]) -> float | None:
    """The smallest rate whose final loss ties with the lowest one; None if none is finite."""
    finite = [(lr, v) for lr, v in zip(lrs, final_loss) if math.isfinite(v)]
    if not finite:
        return None
    best = min(v for _, v in finite)
    return min(lr for lr, v in finite if v <= best + TIE * max(1.0, abs(best)))


def sweep(problem: Problem, h: Hyper, lrs: tuple[float, ...] = SEARCH_GRID) -> Sweep:
    """Race `h` against itself at every rate in `lrs` (one parameter group each) and pick the best.

    The criterion is the final loss L(θ_T) after `problem.steps` steps; a candidate that diverged
    is out; of the rates that tie with the lowest loss, the smallest wins.
    """
    lrs = tuple(sorted(lrs))
    paths, _ = _simulate(problem, [(h, lrs)])
    with torch.inference_mode():
        losses = problem.loss(paths)
        stop = first_nonfinite(paths, losses)
    final = tuple(float(losses[-1, i]) if int(stop[i]) > problem.steps else math.inf for i in range(len(lrs)))
    return Sweep(h, lrs, final, pick(lrs, final))


def tuned(h: Hyper, result: Sweep) -> Hyper:
    """h at the rate the fair search chose; h unchanged when every candidate diverged."""
    return h if result.best_lr is None else replace(h, lr=result.best_lr)


def standings(runs: tuple[Run, ...], step: int) -> pd.DataFrame:
    """Where each path is at `step` (its last finite point if it diverged earlier), and how it ended.

    Returns:
        DataFrame with columns optimizer, lr, x, y, loss, final_loss, best_loss, status; a row per run.
    """
    rows = []
    for r in runs:
        k = min(step, len(r.path) - 1)
        status = f"diverged at step {r.diverged_at}" if r.diverged_at is not None else "finished"
        rows.append({"optimizer": r.hyper.label, "lr": r.hyper.lr, "x": float(r.path[k, 0]), "y": float(r.path[k, 1]),
                     "loss": float(r.loss[k]), "final_loss": float(r.loss[-1]), "best_loss": float(r.loss.min()),
                     "status": status})
    return pd.DataFrame(rows)


#: How the results table shows each number column.
TABLE_FORMATS: dict[str, str] = {"lr": "{:.5g}", "x": "{:.5g}", "y": "{:.5g}", "loss": "{:.4e}", "final_loss": "{:.4e}",
                                 "best_loss": "{:.4e}"}


def text_where_huge(table: pd.DataFrame, formats: dict[str, str] = TABLE_FORMATS, limit: float = 2.0**53) -> pd.DataFrame:
    """The table with every number column that holds a value beyond ±2^53 turned into text, in its format:
    Streamlit's number columns refuse such values (an escape from the saddle reaches 1e23)."""
    out = table.copy()
    for column, fmt in formats.items():
        if (out[column].abs() >= limit).any():
            out[column] = out[column].map(fmt.format)
    return out


def shown_step(fraction: float, steps: int) -> int:
    """The step a scrubber position (percent of the race) points at."""
    return int(round(min(max(fraction, 0.0), 100.0) / 100 * steps))
