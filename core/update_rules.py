"""The update rules of course §2.4 written out by hand, to check `torch.optim` against, step by step.

Every rule is element-wise (⊙), so each runs on plain Python floats, one coordinate of θ = (x, y)
at a time, with the surface's closed-form gradient. Each rule has the form `torch.optim` computes
("pytorch", which must reproduce the real optimizer's path to ~1e-6), and three have a variant:

- Adagrad and RMSprop: the course's formula, with ε = 1e-8 inside the square root (PyTorch adds
  its ε outside it);
- momentum: the "lr inside v" form v ← μv + ηg, θ ← θ − v that other texts use (the course's
  form, v ← μv + g, θ ← θ − ηv, is PyTorch's; the two agree only while η is constant).

Learning-rate schedules are written out here too, from PyTorch's documented formulas.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from core import latex, surfaces
from core.checks import Check
from core.optimizers import CLASSES, ONECYCLE, SCHEDULE_LABELS, STEP_GAMMA, Hyper, Problem, Run, step_size

COURSE_EPS = 1e-8  # the course's ε (§2.4)
#: The variant of each rule that has one, in words.
VARIANTS: dict[str, str] = {
    "momentum": "the “lr inside v” form: v ← μv + ηg, θ ← θ − v",
    "adagrad": "the course's formula: ε = 1e-8 inside the square root",
    "rmsprop": "the course's formula: ε = 1e-8 inside the square root",
}


def scheduled_lr(schedule: str, lr: float, steps: int, t: int) -> float:
    """η_t, the rate of step t (0-based) under a schedule, from the formula in PyTorch's docs.

    StepLR: η·γ^⌊t/s⌋. CosineAnnealingLR: η·(1 + cos(πt/T))/2. OneCycleLR: cosine from η/25 up to η
    over the first 30% of the race, then cosine down to η/25/10⁴.
    """
    if schedule == "constant":
        return lr
    if schedule == "step":
        return lr * STEP_GAMMA ** (t // step_size(steps))
    if schedule == "cosine":
        return lr * (1 + math.cos(math.pi * t / steps)) / 2
    if schedule == "onecycle":
        initial = lr / ONECYCLE["div_factor"]
        low = initial / ONECYCLE["final_div_factor"]
        rise_end = ONECYCLE["pct_start"] * steps - 1
        if t <= rise_end:
            start, end, pct = initial, lr, t / rise_end
        else:
            start, end, pct = lr, low, (t - rise_end) / (steps - 1 - rise_end)
        return end + (start - end) / 2 * (math.cos(math.pi * pct) + 1)
    raise ValueError(f"unknown schedule {schedule!r}")


def _update(h: Hyper, theta: float, g: float, s: dict[str, float], lr: float, t: int, form: str) -> float:
    """One coordinate's step t (1-based) of optimizer h: returns θ_t; keeps its state in s."""
    if h.name == "sgd":  # θ ← θ − η g
        return theta - lr * g
    if h.name == "momentum":
        if form == "variant":  # the "lr inside v" form: v ← μv + ηg, θ ← θ − v
            s["v"] = h.momentum * s.get("v", 0.0) + lr * g
            return theta - s["v"]
        s["v"] = h.momentum * s.get("v", 0.0) + g  # v ← μv + g, θ ← θ − ηv  (course §2.4 and PyTorch)
        return theta - lr * s["v"]
    if h.name == "nesterov":  # PyTorch: b ← μb + g, θ ← θ − η(g + μb)
        s["v"] = h.momentum * s.get("v", 0.0) + g
        s["direction"] = g + h.momentum * s["v"]
        return theta - lr * s["direction"]
    if h.name == "adagrad":  # G ← G + g²
        s["G"] = s.get("G", 0.0) + g * g
        denominator = math.sqrt(s["G"] + COURSE_EPS) if form == "variant" else math.sqrt(s["G"]) + h.eps
        return theta - lr * g / denominator
    if h.name == "rmsprop":  # E[g²] ← ρE[g²] + (1 − ρ)g²
        s["Eg2"] = h.rho * s.get("Eg2", 0.0) + (1 - h.rho) * g * g
        denominator = math.sqrt(s["Eg2"] + COURSE_EPS) if form == "variant" else math.sqrt(s["Eg2"]) + h.eps
        return theta - lr * g / denominator
    if h.name in ("adam", "adamw"):
        if h.name == "adamw":  # decoupled weight decay: θ ← θ − ηλθ, then Adam on the plain gradient
            theta = theta - lr * h.weight_decay * theta
        elif h.weight_decay:  # Adam's L2: g ← g + λθ
            g = g + h.weight_decay * theta
        s["g"] = g
        s["m"] = h.beta1 * s.get("m", 0.0) + (1 - h.beta1) * g
        s["v"] = h.beta2 * s.get("v", 0.0) + (1 - h.beta2) * g * g
        s["m_hat"] = s["m"] / (1 - h.beta1**t)
        s["v_hat"] = s["v"] / (1 - h.beta2**t)
        return theta - lr * s["m_hat"] / (math.sqrt(s["v_hat"]) + h.eps)
    raise ValueError(f"unknown optimizer {h.name!r}")


@dataclass(frozen=True)
class HandRun:
    """A path computed by the hand-written rule."""

    path: tuple[tuple[float, float], ...]  # θ_0 … θ_k, the finite part
    diverged_at: int | None  # as core.optimizers.Run
    state: tuple[dict[str, float], dict[str, float]] | None  # per coordinate, after the recorded step
    grad: tuple[float, float] | None  # ∇L_t at the recorded step
    lr: float | None  # η_t at the recorded step


def run(problem: Problem, h: Hyper, form: str = "pytorch", record: int | None = None,
        along: torch.Tensor | None = None) -> HandRun:
    """The path of optimizer h on the problem by the hand-written rule.

    Args:
        form: "pytorch" (what torch.optim computes) or "variant" (see VARIANTS).
        record: a step t (0-based) whose gradient, rate and state (after the update) to keep; the run
            then stops after that step.
        along: torch.optim's path (k + 1, 2), to check step by step: each step then starts from
            torch.optim's θ_t (the state, m, v, G, …, is the rule's own), so the result is the rule's
            θ_{t+1} beside torch.optim's, and rounding differences cannot build up along the path.
    """
    if form not in ("pytorch", "variant"):
        raise ValueError("form is 'pytorch' or 'variant'")
    if form == "variant" and h.name not in VARIANTS:
        raise ValueError(f"{h.name} has no variant")
    xi = problem.noise_sequence().tolist()
    given = along.tolist() if along is not None else None
    x, y = problem.start
    path = [(x, y)]
    states: tuple[dict[str, float], dict[str, float]] = ({}, {})
    kept: tuple | None = None
    for t in range(problem.steps):
        if given is not None:
            if t >= len(given):  # torch.optim's path ended here, but the rule's step was finite
                break
            x, y = given[t]
        lr = scheduled_lr(problem.schedule, h.lr, problem.steps, t)
        gx, gy = surfaces.gradient(problem.surface, x, y, problem.condition)
        gx, gy = gx + xi[t][0], gy + xi[t][1]
        x, y = _update(h, x, gx, states[0], lr, t + 1, form), _update(h, y, gy, states[1], lr, t + 1, form)
        if t == record:
            kept = ((dict(states[0]), dict(states[1])), (gx, gy), lr)
        if not (math.isfinite(x) and math.isfinite(y) and math.isfinite(surfaces.value(problem.surface, x, y, problem.condition))):
            return HandRun(tuple(path), t + 1, *(kept or (None, None, None)))
        path.append((x, y))
        if t == record:
            break
    return HandRun(tuple(path), None, *(kept or (None, None, None)))


def path_error(hand: HandRun, torch_run: Run) -> float:
    """max over steps of |θ_hand − θ_torch| / max(1, |θ|), per coordinate, with |θ| the larger of the
    step's start and end: absolute near the origin, relative to the numbers the step handled far out.

    inf when the two paths diverge at different steps.
    """
    if hand.diverged_at != torch_run.diverged_at or len(hand.path) != len(torch_run.path):
        return math.inf
    mine = torch.tensor(hand.path, dtype=torch.float64)  # (k + 1, 2)
    size = torch_run.path.abs()
    scale = torch.maximum(size, torch.cat((size[:1], size[:-1]))).clamp_min(1.0)
    return float(((mine - torch_run.path).abs() / scale).max())


def _final_loss(problem: Problem, hand: HandRun) -> float:
    x, y = hand.path[-1]
    return float(surfaces.value(problem.surface, x, y, problem.condition))


def checks(problem: Problem, runs: tuple[Run, ...], hand: dict[str, HandRun]) -> list[Check]:
    """The page's checks: each hand rule against its torch.optim path, the closed-form gradient against
    autograd at every point the paths visit, and the schedule's formula against lr_scheduler.

    Args:
        hand: per optimizer name in `runs`, the "pytorch" form's HandRun along that run's path.
    """
    out = []
    for r in runs:
        h, mine = r.hyper, hand[r.hyper.name]
        what = "PyTorch's rule (ε outside √)" if h.name in ("adagrad", "rmsprop") else "the update rule"
        out.append(Check(
            f"{h.label}: {what} by hand from each θ_t of torch.optim.{CLASSES[h.name]} vs its θ_(t+1), "
            f"{len(r.path) - 1} steps (final L; max |Δθ| / max(1, |θ|))",
            _final_loss(problem, mine), float(r.loss[-1]), 1e-6, error=path_error(mine, r)))
    if runs:
        points = torch.cat([r.path for r in runs])  # (N, 2)
        gx, gy = surfaces.gradient(problem.surface, points[:, 0], points[:, 1], problem.condition)
        closed = torch.stack((gx, gy), dim=1)
        auto = surfaces.autograd_gradient(problem.surface, points, problem.condition)
        error = float(((closed - auto).abs() / auto.abs().clamp_min(1.0)).max())
        out.append(Check(f"∇L in closed form vs autograd at all {len(points)} points on the paths "
                         "(|∇L| at the start; max |Δ| / max(1, |∇L|))",
                         float(closed[0].norm()), float(auto[0].norm()), 1e-9, error=error))
    if problem.schedule != "constant" and runs:
        worst, last = 0.0, (0.0, 0.0)
        for r in runs:
            formula = torch.tensor([scheduled_lr(problem.schedule, r.hyper.lr, problem.steps, t)
                                    for t in range(problem.steps)], dtype=torch.float64)
            worst = max(worst, float(((formula - r.lrs).abs() / r.hyper.lr).max()))
            last = (float(formula[-1]), float(r.lrs[-1]))
        name = SCHEDULE_LABELS[problem.schedule]
        out.append(Check(f"η_t by the {name} formula vs torch.optim.lr_scheduler.{name} at every step "
                         "(η at the last step; max |Δη| / η)", *last, 1e-9, error=worst))
    return out


@dataclass(frozen=True)
class Difference:
    """How far a variant of a rule (VARIANTS) ends from what torch.optim computes."""

    optimizer: str  # label
    variant: str  # in words
    final_variant: float  # L at the end of the variant's path
    final_pytorch: float  # L at the end of torch.optim's path
    max_difference: float  # max |θ_variant − θ_torch| over the steps both paths have
    note: str  # what made them differ (or not)


def difference(problem: Problem, r: Run, variant: HandRun) -> Difference:
    """Compare the variant's path with torch.optim's."""
    n = min(len(variant.path), len(r.path))
    gap = float((torch.tensor(variant.path[:n], dtype=torch.float64) - r.path[:n]).abs().max()) if n else math.nan
    if r.hyper.name == "momentum":
        note = ("the same path: η is constant, so ηv and the “lr inside v” velocity agree" if problem.schedule == "constant"
                else "the schedule changes η: the “lr inside v” velocity keeps the old rates in it, PyTorch's does not")
    else:
        eps = "its default ε = 1e-10" if r.hyper.name == "adagrad" else f"ε = {r.hyper.eps:g}"
        note = f"PyTorch divides by √G + ε with {eps}; the course by √(G + 1e-8), which matters where G is small"
        if r.hyper.name == "rmsprop":
            note = note.replace("G", "E[g²]")
    if variant.diverged_at is not None:
        note += f"; the variant diverged at step {variant.diverged_at}"
    return Difference(r.hyper.label, VARIANTS[r.hyper.name], _final_loss(problem, variant), float(r.loss[-1]), gap, note)


#: The rules as course §2.4 writes them (LaTeX); Nesterov and AdamW are not in the course.
COURSE: dict[str, str] = {
    "sgd": r"\theta_{t+1} = \theta_t - \eta\, g_t",
    "momentum": r"v_t = \gamma\, v_{t-1} + g_t, \qquad \theta_{t+1} = \theta_t - \eta\, v_t",
    "adagrad": r"G_t = G_{t-1} + g_t \odot g_t, \qquad \theta_{t+1} = \theta_t - \frac{\eta}{\sqrt{G_t + \epsilon}} \odot g_t,"
               r"\quad \epsilon \approx 10^{-8}",
    "rmsprop": r"E[g^2]_t = \rho\, E[g^2]_{t-1} + (1-\rho)\, g_t \odot g_t, \qquad "
               r"\theta_{t+1} = \theta_t - \frac{\eta}{\sqrt{E[g^2]_t + \epsilon}} \odot g_t,\quad \rho \approx 0.9",
    "adam": r"\begin{aligned} m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t, & v_t &= \beta_2 v_{t-1} + (1-\beta_2)\, g_t \odot g_t, \\"
            r" \hat m_t &= \frac{m_t}{1-\beta_1^t}, & \hat v_t &= \frac{v_t}{1-\beta_2^t}, \qquad "
            r"\theta_{t+1} = \theta_t - \frac{\eta}{\sqrt{\hat v_t} + \epsilon} \odot \hat m_t \end{aligned}",
}
COURSE["adamw"] = COURSE["adam"]

#: What torch.optim computes where it differs from the course or the course has no formula (PyTorch's docs).
PYTORCH: dict[str, str] = {
    "momentum": r"b_t = \mu\, b_{t-1} + (1 - \text{dampening})\, g_t,\ b_1 = g_1, \qquad \theta_{t+1} = \theta_t - \eta\, b_t"
                r"\qquad (\text{dampening} = 0)",
    "nesterov": r"b_t = \mu\, b_{t-1} + g_t,\ b_1 = g_1, \qquad \theta_{t+1} = \theta_t - \eta\,(g_t + \mu\, b_t)",
    "adagrad": r"\theta_{t+1} = \theta_t - \frac{\tilde\eta_t}{\sqrt{G_t} + \epsilon} \odot g_t,\quad "
               r"\tilde\eta_t = \frac{\eta}{1 + (t-1)\cdot \text{lr\_decay}},\quad G_0 = \text{initial\_accumulator\_value},"
               r"\quad \epsilon = 10^{-10}",
    "rmsprop": r"\theta_{t+1} = \theta_t - \frac{\eta}{\sqrt{E[g^2]_t} + \epsilon} \odot g_t,\quad \rho = \texttt{alpha} = 0.99,"
               r"\quad \epsilon = 10^{-8}",
    "adam": r"g_t \leftarrow g_t + \lambda\, \theta_t \ \text{(L2, when weight\_decay} = \lambda > 0\text{)}, \text{ then the course's Adam}",
    "adamw": r"\theta_t \leftarrow \theta_t - \eta\, \lambda\, \theta_t \ \text{(decoupled)}, \text{ then the course's Adam with the plain } g_t",
}


def _n(x: float, digits: int = 4) -> str:
    return latex.number(x, digits)


def _v(pair: tuple[float, float], digits: int = 4) -> str:
    return rf"({_n(pair[0], digits)},\ {_n(pair[1], digits)})"


def live(h: Hyper, hand: HandRun, k: int) -> str:
    """The rule's numbers for the step from θ_k to θ_{k+1} (LaTeX), from a HandRun recorded at step k."""
    if hand.state is None or k + 1 >= len(hand.path):
        return rf"\text{{{h.label}: the path diverged before step {k + 1}, so there is no step {k} to show}}"
    sx, sy = hand.state
    pair = lambda key: (sx[key], sy[key])  # noqa: E731
    state = ""
    if h.name == "momentum":
        state = rf"v = {_v(pair('v'))}"
    elif h.name == "nesterov":
        state = rf"b = {_v(pair('v'))},\ g + \mu b = {_v(pair('direction'))}"
    elif h.name in ("adagrad", "rmsprop"):
        key, shown = ("G", "G") if h.name == "adagrad" else ("Eg2", "E[g^2]")
        rate = tuple(hand.lr / (math.sqrt(v) + h.eps) for v in pair(key))
        state = rf"{shown} = {_v(pair(key))},\ \frac{{\eta_t}}{{\sqrt{{{shown}}} + \epsilon}} = {_v(rate)}"
    elif h.name in ("adam", "adamw"):
        rate = tuple(hand.lr / (math.sqrt(v) + h.eps) for v in pair("v_hat"))
        state = (rf"\hat m = {_v(pair('m_hat'))},\ \hat v = {_v(pair('v_hat'))},\ "
                 rf"\frac{{\eta_t}}{{\sqrt{{\hat v}} + \epsilon}} = {_v(rate)}")
    lines = [rf"\text{{step {k}: }} g = {_v(hand.grad)},\ \eta_t = {_n(hand.lr)}", state,
             rf"\theta = {_v(hand.path[k], 7)} \ \to\ {_v(hand.path[k + 1], 7)}"]
    return r"\begin{gathered}" + r" \\ ".join(line for line in lines if line) + r"\end{gathered}"
