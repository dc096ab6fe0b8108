"""The Optimizers page's math against PyTorch: the hand-written update rules of course §2.4 against
torch.optim, the schedules against lr_scheduler, the gradients against autograd, divergence, the fair search."""
import math
import random
from dataclasses import replace

import plotly.graph_objects as go
import pytest
import torch

from core import optimizers as opt
from core import surfaces
from core import update_rules as rules
from core.rng import generator

F64 = torch.float64


def max_abs_difference(hand: rules.HandRun, run: opt.Run) -> float:
    assert len(hand.path) == len(run.path)
    return float((torch.tensor(hand.path, dtype=F64) - run.path).abs().max())


@pytest.mark.parametrize("name", surfaces.SURFACES)
@pytest.mark.parametrize("condition", [1.0, 15.0, 100.0])
def test_closed_form_gradient_equals_autograd(name, condition):
    points = torch.empty(2000, 2, dtype=F64).uniform_(-5, 5, generator=generator(11))
    gx, gy = surfaces.gradient(name, points[:, 0], points[:, 1], condition)
    auto = surfaces.autograd_gradient(name, points, condition)
    scale = auto.abs().clamp_min(1.0)
    assert torch.max((torch.stack((gx, gy), 1) - auto).abs() / scale) < 1e-12


@pytest.mark.parametrize("name", surfaces.SURFACES)
def test_float_and_tensor_formulas_agree_and_minima_are_minima(name):
    s = surfaces.surface(name)
    x, y = 0.37, -1.21
    assert surfaces.value(name, x, y) == pytest.approx(float(surfaces.value(name, torch.tensor(x, dtype=F64), torch.tensor(y, dtype=F64))), rel=1e-15)
    for mx, my in s.minima:
        g = surfaces.gradient(name, mx, my)
        assert abs(g[0]) < 1e-4 and abs(g[1]) < 1e-4, (name, mx, my, g)  # a stationary point
        if name != "saddle":
            assert surfaces.value(name, mx, my) < 1e-9


# Settings that exercise every option of every rule: (ε, ρ, β1, β2, λ, Adam with L2).
SETTINGS = [
    dict(eps=None, rho=0.99, beta1=0.9, beta2=0.999, weight_decay=0.01, adam_l2=False),
    dict(eps=1e-4, rho=0.9, beta1=0.5, beta2=0.95, weight_decay=0.3, adam_l2=True),
    dict(eps=0.1, rho=0.5, beta1=0.0, beta2=0.9999, weight_decay=0.0, adam_l2=True),
]


@pytest.mark.parametrize("settings", range(len(SETTINGS)))
@pytest.mark.parametrize("schedule", opt.SCHEDULES)
@pytest.mark.parametrize("surface", surfaces.SURFACES)
def test_hand_rule_reproduces_torch_optim_over_100_steps(surface, schedule, settings):
    """Each rule by hand, on its own path (no help from torch's), against the real optimizer: 1e-6."""
    s = surfaces.surface(surface)
    problem = opt.Problem(surface, s.start, 100, noise=1.5, seed=4, schedule=schedule)
    hypers = tuple(opt.hyper(n, dict(s.lrs)[n], momentum=0.8, **SETTINGS[settings]) for n in opt.OPTIMIZERS)
    for run in opt.race(problem, hypers):
        hand = rules.run(problem, run.hyper)
        assert hand.diverged_at == run.diverged_at is None
        assert max_abs_difference(hand, run) < 1e-6, run.hyper


def plain_torch_optim(problem: opt.Problem, groups: list[tuple[opt.Hyper, tuple[float, ...]]]) -> tuple[torch.Tensor, torch.Tensor]:
    """The reference: the plain class API, as a user writes it. Each optimizer on its own leaf tensors (one per rate),
    `p.grad` = the closed-form ∇L on tensors (+ ξ_t), `opt.step()`, then `scheduler.step()`; no shortcut of
    core.optimizers. Returns the paths (steps + 1, P, 2) and each step's rate (steps, P), as `_simulate` does."""
    noisy = problem.surface in surfaces.USES_NOISE and problem.noise > 0
    xi = problem.noise_sequence()
    paths, rates = [], []
    for h, lrs in groups:
        params = [torch.tensor(problem.start, dtype=F64, requires_grad=True) for _ in lrs]
        optimizer = opt.make_optimizer(h, params, lrs)
        scheduler = opt.make_scheduler(problem.schedule, optimizer, problem.steps)
        points, used = [], []
        for t in range(problem.steps):
            points.append(torch.stack([p.detach().clone() for p in params]))
            used.append([group["lr"] for group in optimizer.param_groups])
            for p in params:
                with torch.no_grad():
                    gx, gy = surfaces.gradient(problem.surface, p[0], p[1], problem.condition)
                    g = torch.stack((gx, gy))
                    p.grad = g + xi[t] if noisy else g
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
        points.append(torch.stack([p.detach().clone() for p in params]))
        paths.append(torch.stack(points))
        rates.append(torch.tensor(used, dtype=F64))
    return torch.cat(paths, 1), torch.cat(rates, 1)


def bits(t: torch.Tensor) -> torch.Tensor:
    """The float64 numbers' bit patterns: equal bits mean the same number (NaN, inf and −0.0 included)."""
    return t.contiguous().view(torch.int64)


@pytest.mark.parametrize("schedule", opt.SCHEDULES)
@pytest.mark.parametrize("surface", surfaces.SURFACES)
def test_the_race_is_bit_identical_to_the_torch_optim_class_api(surface, schedule):
    """The race steps each optimizer through the functional implementation its step() calls, with the rates the
    schedule's lr_scheduler sets, computed once: every number must still be exactly what the plain class API gives,
    for every optimizer and schedule the page offers, with every setting, on paths that diverge and on a fair search
    (one optimizer, one parameter group per rate)."""
    index = surfaces.SURFACES.index(surface) + opt.SCHEDULES.index(schedule)
    settings = SETTINGS[index % len(SETTINGS)]
    problem = opt.Problem(surface, (-1.7 + 0.3 * index, 1.1), 120, 20.0, 1.5, index, schedule)
    hypers = [opt.hyper(n, dict(surfaces.surface(surface).lrs)[n], momentum=0.8, **settings) for n in opt.OPTIMIZERS]
    groups = [(h, (h.lr,)) for h in hypers]
    groups += [(hypers[0], (1e4,)), (hypers[index % len(hypers)], (1e-3, 0.05, 3.0))]  # a diverging rate; a search
    paths, rates = opt._simulate(problem, groups)
    expected_paths, expected_rates = plain_torch_optim(problem, groups)
    assert paths.shape == expected_paths.shape and rates.shape == expected_rates.shape
    assert torch.equal(bits(paths), bits(expected_paths)), (bits(paths) != bits(expected_paths)).any(-1).nonzero()[:3]
    assert torch.equal(bits(rates), bits(expected_rates))
    assert not torch.isfinite(paths[-1, len(hypers)]).all()  # SGD at η = 10⁴ left the surface: NaN and inf compared too


def test_scheduled_rates_are_lr_schedulers_for_any_optimizer():
    """The rates are computed once per (schedule, η, steps), on an optimizer of their own: the same as the scheduler
    gives on every optimizer class the page uses."""
    for schedule in opt.SCHEDULES:
        for name in opt.OPTIMIZERS:
            h = opt.hyper(name, 0.05)
            theta = torch.zeros(2, dtype=F64, requires_grad=True)
            optimizer = opt.make_optimizer(h, [theta])
            scheduler = opt.make_scheduler(schedule, optimizer, 37)
            rates = []
            for _ in range(37):
                rates.append(optimizer.param_groups[0]["lr"])
                theta.grad = torch.ones(2, dtype=F64)
                optimizer.step()
                if scheduler is not None:
                    scheduler.step()
            assert opt.scheduled_rates(schedule, 0.05, 37) == tuple(rates), (schedule, name)


def test_step_by_step_check_holds_on_random_races():
    """From torch.optim's θ_t, the hand rule's θ_(t+1) agrees to rounding, even on chaotic paths and huge rates."""
    rng = random.Random(5)
    for _ in range(25):
        surface = rng.choice(surfaces.SURFACES)
        problem = opt.Problem(surface, (rng.uniform(-4, 4), rng.uniform(-4, 4)), 400, rng.choice([1.0, 37.0]),
                              rng.choice([0.0, 2.0]), rng.randrange(100), rng.choice(opt.SCHEDULES))
        hypers = tuple(opt.hyper(n, rng.choice(opt.LR_GRID), rng.uniform(0.1, 0.99), rng.choice(opt.RHO_GRID),
                                 rng.uniform(0, 0.99), rng.choice(opt.BETA2_GRID), rng.choice(opt.EPS_CHOICES),
                                 rng.uniform(0, 0.5), rng.random() < 0.5) for n in opt.OPTIMIZERS)
        runs = opt.race(problem, hypers)
        for run in runs:
            hand = rules.run(problem, run.hyper, along=run.path)
            assert rules.path_error(hand, run) < 1e-9, (problem, run.hyper)


def test_path_error_catches_a_wrong_rule():
    """The check can fail: a rule with ε inside the root is not PyTorch's Adagrad (seen where G is small)."""
    problem = opt.Problem("quadratic", (1e-4, 1e-4), 200, 15.0)
    run = opt.race(problem, (opt.hyper("adagrad", 1.0),))[0]
    assert rules.path_error(rules.run(problem, run.hyper, along=run.path), run) < 1e-12
    assert rules.path_error(rules.run(problem, run.hyper, "variant", along=run.path), run) > 1e-6
    shifted = replace(run.hyper, lr=run.hyper.lr * (1 + 1e-5))
    assert rules.path_error(rules.run(problem, shifted, along=run.path), run) > 1e-7


def test_pytorch_defaults_are_what_the_page_says():
    p = [torch.zeros(2, requires_grad=True)]
    assert torch.optim.Adagrad(p).defaults["eps"] == 1e-10 == opt.DEFAULT_EPS["adagrad"]
    assert torch.optim.Adagrad(p).defaults["lr_decay"] == 0 and torch.optim.Adagrad(p).defaults["initial_accumulator_value"] == 0
    rms = torch.optim.RMSprop(p).defaults
    assert rms["alpha"] == 0.99 and rms["eps"] == 1e-8 == opt.DEFAULT_EPS["rmsprop"]
    assert torch.optim.Adam(p).defaults["betas"] == (0.9, 0.999) and torch.optim.Adam(p).defaults["weight_decay"] == 0
    assert torch.optim.AdamW(p).defaults["weight_decay"] == 0.01
    assert torch.optim.SGD(p, lr=0.1).defaults["dampening"] == 0


def test_adagrad_and_rmsprop_put_eps_outside_the_root():
    """One step from G = 0 with a tiny gradient: √G + ε (PyTorch) and √(G + ε) (course) part by orders of magnitude."""
    for name, kwargs in (("adagrad", {}), ("rmsprop", {"alpha": 0.9})):
        theta = torch.tensor([1.0], dtype=F64, requires_grad=True)
        theta.grad = torch.tensor([1e-9], dtype=F64)
        eps = 1e-8
        getattr(torch.optim, {"adagrad": "Adagrad", "rmsprop": "RMSprop"}[name])([theta], lr=1.0, eps=eps, **kwargs).step()
        g2 = 1e-18 if name == "adagrad" else 0.1 * 1e-18
        assert 1 - theta.item() == pytest.approx(1e-9 / (math.sqrt(g2) + eps), rel=1e-12)  # PyTorch's form
        assert 1 - theta.item() != pytest.approx(1e-9 / math.sqrt(g2 + eps), rel=1e-3)  # not the course's


def test_momentum_forms_agree_only_while_the_rate_is_constant():
    s = surfaces.surface("rosenbrock")
    for schedule, same in (("constant", True), ("step", False), ("cosine", False)):
        problem = opt.Problem("rosenbrock", s.start, 300, schedule=schedule)
        run = opt.race(problem, (opt.hyper("momentum", 5e-4),))[0]
        gap = rules.difference(problem, run, rules.run(problem, run.hyper, "variant")).max_difference
        assert (gap < 1e-9) == same, (schedule, gap)


def test_adamw_decouples_weight_decay_and_adam_couples_it():
    """With a zero gradient, Adam's L2 term is normalised like any gradient (θ moves by about η),
    while AdamW shrinks θ by the factor 1 − ηλ: from θ = 4 with η = 0.1, λ = 0.5, 3.9 against 3.8."""
    for name, expected in (("adam", 4.0 - 0.1), ("adamw", 4.0 * (1 - 0.1 * 0.5))):
        h = opt.hyper(name, 0.1, weight_decay=0.5, adam_l2=True)
        theta = torch.tensor([4.0], dtype=F64, requires_grad=True)
        theta.grad = torch.zeros(1, dtype=F64)
        opt.make_optimizer(h, [theta]).step()
        mine = rules._update(h, 4.0, 0.0, {}, 0.1, 1, "pytorch")
        assert theta.item() == pytest.approx(mine, abs=1e-12)
        assert mine == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("schedule", ["step", "cosine", "onecycle"])
@pytest.mark.parametrize("steps", [10, 37, 300, 2000])
def test_schedule_formulas_match_lr_scheduler(schedule, steps):
    run = opt.race(opt.Problem("quadratic", (1.0, 1.0), steps, schedule=schedule), (opt.hyper("sgd", 0.05),))[0]
    formula = torch.tensor([rules.scheduled_lr(schedule, 0.05, steps, t) for t in range(steps)], dtype=F64)
    assert torch.max((formula - run.lrs).abs()) < 1e-12
    assert run.lrs[0] == pytest.approx(0.05 / 25 if schedule == "onecycle" else 0.05)
    if schedule == "onecycle":
        assert run.lrs.max() == pytest.approx(0.05, rel=1e-3) and run.lrs[-1] < 0.05 / 25 / 1e3


def test_onecycle_changes_only_the_learning_rate():
    theta = torch.zeros(2, dtype=F64, requires_grad=True)
    sgd = opt.make_optimizer(opt.hyper("momentum", 0.1, momentum=0.9), [theta])
    scheduler = opt.make_scheduler("onecycle", sgd, 50)
    for _ in range(50):
        theta.grad = torch.ones(2, dtype=F64)
        sgd.step()
        scheduler.step()
        assert sgd.param_groups[0]["momentum"] == 0.9


def test_a_huge_rate_diverges_and_the_others_finish():
    s = surfaces.surface("rosenbrock")
    problem = opt.Problem("rosenbrock", s.start, 300)
    others = tuple(opt.hyper(n, dict(s.lrs)[n]) for n in ("momentum", "adam"))
    runs = opt.race(problem, (opt.hyper("sgd", 10.0), *others))
    sgd = runs[0]
    assert sgd.diverged_at is not None and 1 <= sgd.diverged_at < 300
    assert len(sgd.path) == len(sgd.loss) == sgd.diverged_at  # θ_0 … θ_(k−1), all finite
    assert torch.isfinite(sgd.path).all() and torch.isfinite(sgd.loss).all()
    alone = opt.race(problem, others)
    for with_sgd, without in zip(runs[1:], alone):
        assert with_sgd.diverged_at is None and len(with_sgd.path) == 301
        assert torch.equal(with_sgd.path, without.path)  # a diverged path does not touch the others
    hand = rules.run(problem, sgd.hyper)
    assert hand.diverged_at == sgd.diverged_at
    table = opt.standings(runs, 300)
    assert list(table.status) == [f"diverged at step {sgd.diverged_at}", "finished", "finished"]


def test_noise_is_seeded_shared_and_only_on_the_noisy_quadratic():
    a = surfaces.noise("noisy_quadratic", 2.0, 7, 50)
    assert torch.equal(a, surfaces.noise("noisy_quadratic", 2.0, 7, 50))
    assert not torch.equal(a, surfaces.noise("noisy_quadratic", 2.0, 8, 50))
    assert a.std().item() == pytest.approx(2.0, rel=0.3)
    assert not surfaces.noise("quadratic", 2.0, 7, 50).any()
    problem = opt.Problem("noisy_quadratic", (1.0, 1.0), 1, 1.0, noise=2.0, seed=7)
    run = opt.race(problem, (opt.hyper("sgd", 0.1),))[0]
    xi = surfaces.noise("noisy_quadratic", 2.0, 7, 1)[0]
    assert torch.allclose(run.path[1], torch.tensor([1.0, 1.0], dtype=F64) - 0.1 * (torch.tensor([1.0, 1.0], dtype=F64) + xi))


def test_the_fair_search_picks_the_best_rate_and_the_race_reproduces_it():
    s = surfaces.surface("beale")
    problem = opt.Problem("beale", s.start, 150)
    for name in ("sgd", "rmsprop", "adam"):
        result = opt.sweep(problem, opt.hyper(name, 0.01))
        finite = [v for v in result.final_loss if math.isfinite(v)]
        assert result.best_lr is not None and result.best_loss == min(finite)
        assert any(math.isinf(v) for v in result.final_loss) or name != "sgd"  # SGD at rate 10 diverges
        for lr in (result.best_lr, result.lrs[3]):  # a group of the search equals a race of its own
            run = opt.race(problem, (opt.hyper(name, lr),))[0]
            assert run.loss[-1].item() == pytest.approx(result.final_loss[result.lrs.index(lr)], rel=1e-12)
        assert opt.tuned(opt.hyper(name, 0.01), result).lr == result.best_lr


def test_pick_breaks_ties_towards_the_smaller_rate_and_skips_divergence():
    assert opt.pick((0.1, 0.3, 1.0), (1e-20, 1e-25, math.inf)) == 0.1
    assert opt.pick((0.1, 0.3, 1.0), (2.0, 1.0, math.inf)) == 0.3
    assert opt.pick((0.1, 0.3), (math.inf, math.inf)) is None


def test_every_check_passes_across_surfaces_and_a_wrong_gradient_fails():
    for surface in surfaces.SURFACES:
        s = surfaces.surface(surface)
        problem = opt.Problem(surface, s.start, 120, noise=1.0, schedule="cosine")
        runs = opt.race(problem, tuple(opt.hyper(n, dict(s.lrs)[n]) for n in opt.OPTIMIZERS))
        hand = {r.hyper.name: rules.run(problem, r.hyper, along=r.path) for r in runs}
        checks = rules.checks(problem, runs, hand)
        assert len(checks) == len(runs) + 2
        assert all(c.passed for c in checks), [c for c in checks if not c.passed]
    bad = {r.hyper.name: rules.run(problem, replace(r.hyper, lr=r.hyper.lr * 1.01), along=r.path) for r in runs}
    assert not any(c.passed for c in rules.checks(problem, runs, bad)[: len(runs)])


def test_nesterov_without_momentum_is_refused_with_pytorchs_message():
    assert "Nesterov momentum requires a momentum" in opt.refusal(opt.hyper("nesterov", 0.1, momentum=0.0))
    assert opt.refusal(opt.hyper("nesterov", 0.1, momentum=0.5)) is None


def test_settings_reach_only_the_optimizers_that_use_them():
    a = opt.hyper("sgd", 0.1, momentum=0.3, rho=0.5, beta1=0.1, eps=0.1, weight_decay=0.4)
    assert a == opt.Hyper("sgd", 0.1)
    assert opt.hyper("adam", 0.1, weight_decay=0.4).weight_decay == 0.0
    assert opt.hyper("adam", 0.1, weight_decay=0.4, adam_l2=True).weight_decay == 0.4
    assert opt.hyper("adamw", 0.1, weight_decay=0.4).weight_decay == 0.4
    assert opt.hyper("rmsprop", 0.1, rho=0.5).rho == 0.5 and opt.hyper("adagrad", 0.1).eps == 1e-10


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        opt.Problem("nope", (0.0, 0.0), 10)
    with pytest.raises(ValueError):
        opt.Problem("beale", (0.0, 0.0), 0)
    with pytest.raises(ValueError):
        opt.Problem("beale", (0.0, 0.0), 10, schedule="warmup")
    with pytest.raises(ValueError):
        opt.hyper("lion", 0.1)
    with pytest.raises(ValueError):
        opt.hyper("sgd", 0.0)
    with pytest.raises(ValueError):
        rules.run(opt.Problem("beale", (0.0, 0.0), 10), opt.hyper("adam", 0.1), "variant")


def test_live_numbers_are_the_rules_state():
    problem = opt.Problem("rosenbrock", (-1.5, 2.0), 20)
    run = opt.race(problem, (opt.hyper("adam", 0.05),))[0]
    hand = rules.run(problem, run.hyper, record=9, along=run.path)
    text = rules.live(run.hyper, hand, 9)
    assert r"\hat m" in text and "step 9" in text
    assert f"{run.path[10, 0].item():.7g}" in text  # θ after the step, as torch.optim has it


def test_view_holds_the_start_and_grid_is_log_scaled_where_it_should():
    (x0, x1), (y0, y1) = surfaces.view("rosenbrock", (4.5, -4.0))
    assert x0 < 4.5 < x1 and y0 < -4.0 < y1
    g = surfaces.grid("beale", (-4.5, 4.5), (-4.5, 4.5))
    assert g.log_scale and g.z.max() > 4 and g.z.min() >= -3  # Beale spans decades
    assert not surfaces.grid("saddle", (-2, 2), (-2, 2)).log_scale


def test_huge_numbers_become_text_for_the_table():
    runs = opt.race(opt.Problem("saddle", (-1.5, 0.05), 300), (opt.hyper("momentum", 0.01), opt.hyper("sgd", 0.01)))
    table = opt.text_where_huge(opt.standings(runs, 300))
    assert table["loss"].dtype.kind != "f" and table["loss"][0].endswith("e+23")  # escaped the saddle
    assert table["x"].dtype.kind == "f" and table["lr"].tolist() == [0.01, 0.01]


def test_the_race_charts_unvalidated_frames_are_what_validation_makes():
    """The chart attaches its 60 animation frames without plotly's validation (it cost more than the rest of the
    chart): validating the figure must not change one of them, nor anything else the browser receives."""
    from core import charts

    s = surfaces.surface("rosenbrock")
    problem = opt.Problem("rosenbrock", s.start, 120, schedule="cosine")
    runs = opt.race(problem, (opt.hyper("sgd", 10.0), opt.hyper("adam", 0.05), opt.hyper("momentum", 5e-4)))
    grid = surfaces.grid("rosenbrock", *surfaces.view("rosenbrock", s.start))
    fig = charts.optimizer_race(grid, runs, charts.series_colors(opt.OPTIMIZERS), 40, s.minima)
    sent = fig.to_dict()
    assert len(sent["frames"]) == 60 and sent == go.Figure(sent).to_dict()
