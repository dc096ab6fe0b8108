"""The Optimizers page's race as a standalone PyTorch script."""
from __future__ import annotations

from core.optimizers import ONECYCLE, SEARCH_GRID, STEP_GAMMA, TIE, Hyper, Problem, step_size
from core.surfaces import USES_NOISE, surface

_LOSS = {
    "quadratic": "0.5 * (x**2 + {kappa} * y**2)",
    "noisy_quadratic": "0.5 * (x**2 + {kappa} * y**2)",
    "rosenbrock": "(1 - x)**2 + 100 * (y - x**2)**2",
    "himmelblau": "(x**2 + y - 11)**2 + (x + y**2 - 7)**2",
    "saddle": "x**2 - y**2",
    "beale": "(1.5 - x + x * y)**2 + (2.25 - x + x * y**2)**2 + (2.625 - x + x * y**3)**2",
}


def constructor(h: Hyper) -> str:
    """`torch.optim` call for h, with every setting the page uses spelled out (lr is the variable `lr`)."""
    if h.name == "sgd":
        return "torch.optim.SGD(params, lr=lr)"
    if h.name in ("momentum", "nesterov"):
        nesterov = ", nesterov=True" if h.name == "nesterov" else ""
        return f"torch.optim.SGD(params, lr=lr, momentum={h.momentum!r}{nesterov})"
    if h.name == "adagrad":
        return f"torch.optim.Adagrad(params, lr=lr, eps={h.eps!r})"
    if h.name == "rmsprop":
        return f"torch.optim.RMSprop(params, lr=lr, alpha={h.rho!r}, eps={h.eps!r})"
    cls = "Adam" if h.name == "adam" else "AdamW"
    return f"torch.optim.{cls}(params, lr=lr, betas=({h.beta1!r}, {h.beta2!r}), eps={h.eps!r}, weight_decay={h.weight_decay!r})"


def _scheduler(problem: Problem) -> str:
    s = problem.schedule
    if s == "constant":
        return "None  # a constant learning rate"
    if s == "step":
        return f"torch.optim.lr_scheduler.StepLR(opt, step_size={step_size(problem.steps)}, gamma={STEP_GAMMA})"
    if s == "cosine":
        return "torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)"
    return (f"torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start={ONECYCLE['pct_start']},\n"
            f"        div_factor={ONECYCLE['div_factor']}, final_div_factor={ONECYCLE['final_div_factor']}, cycle_momentum=False)")


def code(problem: Problem, hypers: tuple[Hyper, ...], fair: bool) -> str:
    """A script that runs the page's race (and, when `fair`, its learning-rate search) and prints
    `name: lr=… x=… y=… loss=…` per optimizer, plus `diverged_at=k` for a path that diverged."""
    s = surface(problem.surface)
    loss = _LOSS[problem.surface].format(kappa=problem.condition)
    if problem.surface in USES_NOISE and problem.noise > 0:
        noise = (f"g = torch.Generator().manual_seed({problem.seed})\n"
                 f"xi = {problem.noise!r} * torch.randn(steps, 2, generator=g, dtype=torch.float64)  # one random tilt per step")
    else:
        noise = "xi = torch.zeros(steps, 2, dtype=torch.float64)  # no noise on this surface"
    makers = "\n".join(f'    "{h.name}": lambda params, lr: {constructor(h)},' for h in hypers)
    rates = ", ".join(f'"{h.name}": {h.lr!r}' for h in hypers)
    if fair:
        choose = f'''
# The fair race: every optimizer gets the rate from this grid with the lowest final loss
# (a path that diverges is out; rates within {TIE:g} of the best count as a tie, the smallest wins).
grid = {list(SEARCH_GRID)!r}


def tune(name):
    finals = {{}}
    for lr in grid:
        (x, y, loss), diverged_at = race(optimizers[name], lr)
        if diverged_at is None:
            finals[lr] = loss
    if not finals:
        return learning_rates[name]  # every rate diverged: keep the chosen one
    best = min(finals.values())
    return min(lr for lr, loss in finals.items() if loss <= best + {TIE!r} * max(1.0, abs(best)))


learning_rates = {{name: tune(name) for name in optimizers}}
'''
    else:
        choose = ""
    return f'''"""Optimizers racing on the {s.label} surface: torch.optim on one tensor theta = (x, y)."""
import torch


def loss_fn(x, y):
    return {loss}


start = {problem.start!r}
steps = {problem.steps}
{noise}

optimizers = {{
{makers}
}}
learning_rates = {{{rates}}}


def schedule(opt, lr):
    return {_scheduler(problem)}


def race(make, lr):
    """(x, y, loss) at the last finite point of the path, and the step where it diverged (or None)."""
    theta = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = make([theta], lr)
    scheduler = schedule(opt, lr)
    last = None
    for t in range(steps + 1):
        loss = loss_fn(theta[0], theta[1])
        if not (torch.isfinite(theta).all() and torch.isfinite(loss)):
            return last, t  # inf or NaN: the path stops here
        last = (theta[0].item(), theta[1].item(), loss.item())
        if t == steps:
            return last, None
        opt.zero_grad()
        (loss + xi[t] @ theta).backward()  # this step's loss: L + xi_t . theta
        opt.step()
        if scheduler is not None:
            scheduler.step()

{choose}
for name, make in optimizers.items():
    lr = learning_rates[name]
    (x, y, loss), diverged_at = race(make, lr)
    print(f"{{name}}: lr={{lr:.6g}} x={{x:.12g}} y={{y:.12g}} loss={{loss:.12g}}"
          + (f" diverged_at={{diverged_at}}" if diverged_at is not None else ""))
'''
