"""Optimizers: the real torch.optim classes racing on 2-D loss surfaces, each rule checked by hand,
with a fair race that tunes every learning rate on the surface first."""
import streamlit as st

from core import charts, optimizers, surfaces
from core import update_rules as rules
from core.snippets import optimizers as snippet
from ui import classroom, controls, panels

NAMES, LABELS, LR_GRID = optimizers.OPTIMIZERS, optimizers.LABELS, optimizers.LR_GRID
COLORS = charts.series_colors(("sgd", "momentum", "rmsprop", "adam", "nesterov", "adamw", "adagrad"))  # pairs apart


@st.cache_data(max_entries=32, show_spinner=False)
def race(problem, hypers):
    return optimizers.race(problem, hypers)


@st.cache_data(max_entries=64, show_spinner=False)
def sweep(problem, hyper):
    return optimizers.sweep(problem, hyper)


@st.cache_data(max_entries=16, show_spinner=False)
def contour_grid(name, x_range, y_range, condition):
    return surfaces.grid(name, x_range, y_range, condition)


@st.cache_data(max_entries=32, show_spinner=False)
def verify(problem, settings, _runs):  # the runs follow from the problem and the settings
    """Each rule by hand from every θ_t of its torch.optim path, the checks, and the course's variants of the rules.
    The hand runs record their last step, which is what the math panel shows with the markers at the end."""
    hand_runs = {r.hyper.name: rules.run(problem, r.hyper, "pytorch", problem.steps - 1, r.path) for r in _runs}
    variants = [rules.difference(problem, r, rules.run(problem, r.hyper, "variant")) for r in _runs
                if r.hyper.name in rules.VARIANTS]
    return hand_runs, rules.checks(problem, _runs, hand_runs), variants


@st.cache_data(max_entries=64, show_spinner=False)
def live(problem, settings, step, _runs):
    """Each rule by hand along its path up to `step`, recording that step's numbers."""
    return {r.hyper.name: rules.run(problem, r.hyper, "pytorch", step, r.path) for r in _runs}


st.title("Optimizers")
st.caption("The real `torch.optim` optimizers race on a loss surface L(x, y) from one start point; "
           "every update rule is recomputed by hand from the course's equations and checked against PyTorch.")

with st.sidebar:
    st.header("Surface")
    name = controls.selectbox("Loss surface", "opt_surface", surfaces.SURFACES, "rosenbrock", surfaces.LABELS.get)
    surf = surfaces.surface(name)
    if st.session_state.get("_opt_seen_surface", name) != name:  # a new surface: its own start point and rates
        st.session_state["opt_start_x"], st.session_state["opt_start_y"] = surf.start
        for n, lr in surf.lrs:
            st.session_state[f"opt_lr_{n}"] = optimizers.lr_label(lr)
    st.session_state["_opt_seen_surface"] = name
    condition = controls.slider("Condition number κ (quadratics)", "opt_condition", 1, 100, 15,
                                help="The quadratics' curvature along y, against 1 along x.")
    noise = controls.slider("Gradient noise σ (noisy quadratic)", "opt_noise", 0.0, 5.0, 1.0, step=0.1)
    seed = controls.number_input("Noise seed", "opt_seed", 0, 9999, 0)
    st.header("Race")
    names = controls.multiselect("Optimizers", "opt_optimizers", NAMES, ("sgd", "momentum", "rmsprop", "adam"), LABELS.get)
    steps = controls.slider("Steps", "opt_steps", 10, optimizers.MAX_STEPS, 300, step=10)
    x0 = controls.slider("Start x", "opt_start_x", -5.0, 5.0, surf.start[0], step=0.05)
    y0 = controls.slider("Start y", "opt_start_y", -5.0, 5.0, surf.start[1], step=0.05)
    schedule = controls.selectbox("Learning-rate schedule", "opt_schedule", optimizers.SCHEDULES, "constant",
                                  optimizers.SCHEDULE_LABELS.get)
    fair = controls.toggle("Fair race: tune each learning rate", "opt_fair", False,
                           help="Runs every optimizer at each rate on the grid below, on this surface with these "
                                "settings, and races each at the rate with the lowest final loss.")
    st.header("Learning rates η")
    if fair:
        st.caption("The fair race picks each rate; these sliders are not used while it is on.")
    lrs = {n: controls.select_slider(LABELS[n], f"opt_lr_{n}", LR_GRID, dict(surf.lrs)[n], optimizers.lr_label)
           for n in NAMES}
    st.header("Settings")
    momentum = controls.slider("Momentum μ (Momentum, Nesterov)", "opt_momentum", 0.0, 0.99, 0.9, step=0.01)
    rho = controls.select_slider("ρ of RMSprop (PyTorch's alpha)", "opt_rho", optimizers.RHO_GRID, 0.99)
    beta1 = controls.slider("β1 (Adam, AdamW)", "opt_beta1", 0.0, 0.99, 0.9, step=0.01)
    beta2 = controls.select_slider("β2 (Adam, AdamW)", "opt_beta2", optimizers.BETA2_GRID, 0.999)
    eps = controls.selectbox("ε (Adagrad, RMSprop, Adam, AdamW)", "opt_eps", optimizers.EPS_CHOICES, None,
                             lambda e: "PyTorch's default" if e is None else f"{e:g}")
    decay = controls.slider("Weight decay λ (AdamW)", "opt_weight_decay", 0.0, 0.5, 0.01, step=0.01)
    adam_l2 = controls.toggle("Adam uses λ too, as L2 in the gradient", "opt_adam_l2", False)

if not names:
    st.info("Pick at least one optimizer in the sidebar.", icon=":material/arrow_back:")
    st.stop()

st.markdown(f"**{surf.label}.** {surf.note}")
problem = optimizers.Problem(name, (x0, y0), steps, float(condition), noise, int(seed), schedule)
chosen = tuple(optimizers.hyper(n, lrs[n], momentum, rho, beta1, beta2, eps, decay, adam_l2) for n in names)
refusals = [(h, optimizers.refusal(h)) for h in chosen]
for h, refused in refusals:
    if refused:
        st.error(f"{h.label} is left out: `torch.optim.{optimizers.CLASSES[h.name]}` says “{refused}”. "
                 "Set the momentum μ above 0 to race it.", icon=":material/block:")
settings = chosen = tuple(h for h, refused in refusals if refused is None)
if not chosen:
    st.stop()
if fair:
    with st.spinner("Tuning each learning rate on this surface…"):
        sweeps = [sweep(problem, h) for h in chosen]
    settings = tuple(optimizers.tuned(h, s) for h, s in zip(chosen, sweeps))
runs = race(problem, settings)
finished = [r for r in runs if r.diverged_at is None]
if len(runs) > 1 and finished and not classroom.predict(
        "opt", f"{len(runs)} optimizers start at ({x0:g}, {y0:g}) on this surface for {steps} steps. Which one ends with the lowest loss?",
        min(finished, key=lambda r: float(r.loss[-1])).hyper.label, choices=[r.hyper.label for r in runs]):
    st.stop()  # the race shows the answer

fraction = controls.slider("Step shown (% of the race)", "opt_step", 0.0, 100.0, 100.0, step=0.5, format="%.1f%%",
                           help="Where the markers stand. ▶ Play in the chart animates the whole race.")
k = optimizers.shown_step(fraction, steps)
x_range, y_range = surfaces.view(name, (x0, y0))
grid = contour_grid(name, x_range, y_range, float(condition))
minimum = "saddle point" if name == "saddle" else "minimum"
classroom.chart(charts.optimizer_race(grid, runs, COLORS, k, surf.minima, minimum), key="opt_chart")
st.caption(f"Step {k} of {steps}. Every optimizer starts at ({x0:g}, {y0:g}) and sees the same gradients ∇L"
           + (" plus the same noise ξ_t" if name in surfaces.USES_NOISE and noise > 0 else "") + "."
           + " Contours and the loss axis are in decades." * surf.log_scale
           + " Paths are drawn thinned where they crawl; every step longer than a pixel is kept.")
diverged = [r for r in runs if r.diverged_at is not None]
if diverged:
    st.error(" ".join(f"{r.hyper.label} diverged at step {r.diverged_at} (η = {r.hyper.lr:g}): θ or L(θ) became inf or NaN, "
                      "so its path stops there (✕) while the others go on." for r in diverged)
             + " Lower its learning rate, or turn on the fair race.", icon=":material/trending_up:")

table = optimizers.text_where_huge(optimizers.standings(runs, k))
st.dataframe(table.style.format({c: f for c, f in optimizers.TABLE_FORMATS.items() if table[c].dtype.kind == "f"}),
             hide_index=True, width="stretch", column_config={
                 "lr": "η", "x": f"x at step {k}", "y": f"y at step {k}", "loss": f"L at step {k}",
                 "final_loss": "final L", "best_loss": "lowest L"})

if fair:
    st.subheader("The fair race: each learning rate tuned on this surface")
    classroom.chart(charts.lr_sweep(sweeps, COLORS, surf.log_scale), key="opt_sweep_chart")
    grid_rates = optimizers.SEARCH_GRID
    st.caption(f"Each optimizer ran {steps} steps at each of the {len(grid_rates)} rates from {grid_rates[0]:g} to "
               f"{grid_rates[-1]:g} (every half decade), with the settings in the sidebar; ringed: the rate with the lowest final loss L(θ_T), "
               f"the smallest one on a tie (within {optimizers.TIE:g}). Gaps are rates that diverged. The race above uses "
               "these rates: " + ", ".join(f"{h.label} η = {h.lr:g}" for h in settings) + ". No gradient is clipped.")
    lost = [s.hyper.label for s in sweeps if s.best_lr is None]
    if lost:
        st.error(f"Every rate on the grid diverged for {', '.join(lost)}: it races at its slider's rate instead.")

if schedule != "constant":
    st.subheader(f"{optimizers.SCHEDULE_LABELS[schedule]}: the learning rate per step")
    classroom.chart(charts.lr_schedule(runs, COLORS), key="opt_schedule_chart")
    st.caption({"step": f"StepLR(step_size={optimizers.step_size(steps)}, gamma={optimizers.STEP_GAMMA}): ×0.1 after each third.",
                "cosine": f"CosineAnnealingLR(T_max={steps}): η_t = η·(1 + cos(πt/T))/2, down to 0.",
                "onecycle": "OneCycleLR(max_lr=η, total_steps=steps, cycle_momentum=False): up from η/25 over 30% "
                            "of the race, then down to η/25/10⁴; momentum and β1 are left alone."}[schedule])

live_step = min(k, steps - 1)
hand_runs, checks, variants = verify(problem, settings, runs)
live_runs = hand_runs if live_step == steps - 1 else live(problem, settings, live_step, runs)
with panels.math_panel("opt"):
    st.latex(surf.latex.replace("{kappa}", f"{condition:g}"))
    st.markdown("Each optimizer's rule as course §2.4 writes it, what `torch.optim` computes where that differs "
                "(from PyTorch's documentation and source), and the numbers of the step the markers stand at. "
                "g = ∇L(θ) is the gradient; vectors are (x, y); every operation is element-wise.")
    for run in runs:
        h = run.hyper
        st.markdown(f"**{h.label}**" + (" (not in the course; PyTorch's docs)" if h.name == "nesterov" else ""))
        if h.name in rules.COURSE:
            st.latex(rules.COURSE[h.name])
        if h.name in rules.PYTORCH and (h.name != "adam" or h.weight_decay > 0):
            st.caption({"momentum": "PyTorch, the same rule (γ = momentum μ):", "nesterov": "PyTorch:",
                        "adagrad": "PyTorch differs: ε outside the root, and a default ε of 1e-10:",
                        "rmsprop": "PyTorch differs: its `alpha` is ρ, default 0.99 not 0.9; ε outside the root:",
                        "adam": "With weight decay λ, PyTorch's Adam adds it to the gradient (L2):",
                        "adamw": f"AdamW decouples the weight decay (λ = {h.weight_decay:g}) from the gradient:"}[h.name])
            st.latex(rules.PYTORCH[h.name])
        st.latex(rules.live(h, live_runs[h.name], live_step))
    if variants:
        st.markdown("**Where the course's formula and PyTorch differ**, each run both ways on this race:\n" + "\n".join(
            f"- **{d.optimizer}**, {d.variant}: final L = {d.final_variant:.6g} against torch.optim's {d.final_pytorch:.6g}, "
            f"max |Δθ| = {d.max_difference:.2g}; {d.note}." for d in variants))

panels.check_panel("opt", checks,
                   note="The hand rules run on Python floats with the closed-form gradient; torch.optim runs on float64 "
                        "tensors, so they agree to rounding: ~1e-15, well inside 1e-6.")
panels.code_panel("opt", snippet.code(problem, chosen, fair), "optimizers.py")
