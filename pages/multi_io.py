"""Multi-input & multi-output (course §12): the MultiInputNet's shapes traced by a real forward pass, and a two-head
net trained here on generated glyphs under three loss weightings and with losses on different scales."""
import itertools
import time

import streamlit as st

from core import charts
from core import multi_io as mio
from core.snippets import multi_io as snippet
from ui import classroom, controls, panels

SCHEME_LABELS = {"fixed": "Fixed weights λ", "uncertainty": "Uncertainty (Kendall et al.)", "normalized": "Normalized by EMA",
                 "plain": "plain sum"}
LRS = (0.0003, 0.001, 0.003, 0.01, 0.03)
RUNS_KEPT = 96  # finished runs kept for all sessions, by their settings
REDRAW_SECONDS = 0.3  # while a run trains its curves are redrawn at most about three times a second, whatever the step rate
live_keys = itertools.count()  # each redraw is a new chart element: its key is new too


@st.cache_data(max_entries=128, show_spinner=False)
def trace(channels, image_size, filters, aux_dim, image_embed, aux_embed, classifier_in, num_classes):
    return mio.multi_input_view(channels, image_size, filters, aux_dim, image_embed, aux_embed, classifier_in, num_classes)


@st.cache_resource(show_spinner=False)
def finished_runs() -> mio.RunStore:
    """Finished runs by their settings, shared by every session: a run is deterministic, and read-only once kept."""
    return mio.RunStore(RUNS_KEPT)


@st.cache_data(max_entries=1, show_spinner=False)
def gallery():
    return mio.gallery()


def use_fit(value: int) -> None:
    st.session_state["mio_classifier_in"] = value


def run_key(task: str, scheme: str) -> mio.RunKey:
    return mio.run_key(task, scheme, weight_a, lr, epochs, unit, seed)


def run_name(task: str, scheme: str) -> str:
    if task == "weighting":
        return f"alphabet + character heads, {SCHEME_LABELS[scheme]}"
    return f"character + ink heads (×{unit:,}), {SCHEME_LABELS[scheme]}"


def watch(task: str, scheme: str, number: int, count: int, finished: dict) -> mio.Run:
    """Train one run here and now, redrawing its curves in the live placeholders as they grow; its finished result."""
    last = -REDRAW_SECONDS
    for progress in mio.train_heads_live(*run_key(task, scheme)):
        if progress.result is not None:
            return progress.result
        if time.monotonic() - last < REDRAW_SECONDS:
            continue
        last = time.monotonic()
        run = progress.run()
        status.progress(progress.step / progress.total_steps,
                        text=f"Training now, run {number} of {count} ({run_name(task, scheme)}): step {progress.step} of "
                             f"{progress.total_steps}, epoch {progress.record.epoch} of {epochs}…")
        if task == "weighting":
            figure = charts.head_curves(run)
        else:
            both = {**{s: finished.get(("scales", s)) for s in mio.SCALE_RUNS}, scheme: run}
            figure = charts.loss_scales(both["plain"], both["normalized"], SCHEME_LABELS)
        classroom.chart(figure, key=f"mio_live_{next(live_keys)}", csv=False, where=live_curves)
        if scheme == "uncertainty":
            classroom.chart(charts.learned_sigma(run), key=f"mio_live_{next(live_keys)}", csv=False, where=live_sigma)
    raise AssertionError("a run ends with its result")


st.title("Multi-input & multi-output")
st.caption("Course §12: a net that reads two inputs, and a net with two outputs whose losses have to be added up. "
           "Every shape comes from a forward pass; every curve from a run trained on this page.")

with st.sidebar:
    st.header("Multi-input net")
    image_size = controls.select_slider("Image size H = W", "mio_image_size", mio.IMAGE_SIZES, 64)
    channels = controls.radio("Image channels C", "mio_channels", mio.CHANNELS, 1, lambda c: {1: "1 (grey)", 3: "3 (RGB)"}[c])
    filters = controls.select_slider("Conv filters F", "mio_filters", mio.FILTERS, 16)
    aux_dim = controls.slider("Auxiliary vector length", "mio_aux_dim", 1, mio.MAX_AUX_DIM, 30)
    image_embed = controls.select_slider("Image embedding d_img", "mio_image_embed", mio.IMAGE_EMBEDS, 128)
    aux_embed = controls.select_slider("Auxiliary embedding d_aux", "mio_aux_embed", mio.AUX_EMBEDS, 8)
    classifier_in = controls.number_input("Classifier in_features", "mio_classifier_in", 1, mio.MAX_IN_FEATURES, 136,
                                          help="The course writes nn.Linear(128 + 8, num_classes): it must equal d_img + d_aux.")
    num_classes = controls.slider("Classes K", "mio_classes", 2, 20, 10)
    st.header("Two heads, trained")
    weighting = controls.radio("Loss weighting shown in detail", "mio_weighting", mio.SCHEMES, "fixed", SCHEME_LABELS.get,
                               horizontal=False, help="All three are trained; this one is drawn thick and its curves shown.")
    weight_a = controls.slider("λ_alphabet (λ_character = 1 − λ_alphabet)", "mio_weight_a", 0.0, 1.0, 0.5, step=0.05,
                               help="The fixed-weights run's weights. The course's example uses 0.33 and 0.67.")
    lr = controls.select_slider("Learning rate η (Adam)", "mio_lr", LRS, 0.003, lambda v: f"{v:g}")
    epochs = controls.slider("Epochs", "mio_epochs", 1, 15, 8)
    seed = controls.number_input("Seed (initial weights, batch order)", "mio_seed", 0, 999, 0)
    st.header("Loss scales")
    unit = controls.select_slider("Unit of the ink target", "mio_target_scale", mio.TARGET_SCALES, 100,
                                  lambda u: f"×{u:,} ({mio.UNITS[u]})",
                                  help="The same ink share, written as a fraction (×1), in percent (×100), … (×10,000).")

# 1 ────────────────────────────────────────────────────────────────────────────────────────────────────────────
st.subheader("1 · Two inputs: an image and a vector")
view = trace(channels, image_size, filters, aux_dim, image_embed, aux_embed, classifier_in, num_classes)
fit = view.concat_width
if not classroom.predict("mio", f"A {channels}×{image_size}×{image_size} image goes through Conv2d({channels}, {filters}, "
                         "kernel_size=3, padding=1), MaxPool2d(2), ELU and Flatten. How many features come out of Flatten?",
                         view.stage("flatten").formula[-1], shown=lambda a: f"{a:,}"):
    st.stop()  # the shape flow shows the answer
classroom.chart(charts.multi_input_flow(view), key="mio_flow", csv=False)
if view.fits:
    st.success(f"Forward pass with a batch of N = {mio.FORWARD_BATCH}: logits {tuple(view.stage('logits').actual)}; "
               f"{view.params_torch:,} parameters, {100 * view.stage('z_image').formula[-1] * view.stage('flatten').formula[-1] / view.params_torch:.1f}% "
               "of them weights of the Linear after Flatten.", icon=":material/check_circle:")
else:
    st.error(f"The forward pass stops at the classifier. PyTorch says: `{view.error}`.  \n"
             f"The concatenation is d_img + d_aux = {image_embed} + {aux_embed} = **{fit}** wide, the classifier expects "
             f"in_features = {classifier_in}. **in_features = {fit}** fits.", icon=":material/error:")
    st.button(f"Set in_features to {fit}", key="mio_fit", on_click=use_fit, args=(fit,), icon=":material/build:")
st.caption("Each branch turns its input into a flat vector of features; `torch.cat(dim=1)` puts the two side by side, "
           "so the classifier's in_features is the sum of the two widths. The image size changes only the Flatten width "
           "(and the size of the Linear after it), never the concatenation.")

# 2 ────────────────────────────────────────────────────────────────────────────────────────────────────────────
st.subheader("2 · Two outputs: one backbone, an alphabet head and a character head")
left, right = st.columns([3, 2])
images, names = gallery()
classroom.chart(charts.glyph_gallery(images, names, mio.ALPHABET_NAMES), key="mio_gallery", csv=False, where=left)
right.markdown(
    f"**The data**: {mio.N_TRAIN} training and {mio.N_VAL} validation glyphs of {mio.GLYPH_SIZE}×{mio.GLYPH_SIZE} pixels, drawn on "
    "this server from a seeded generator, with a random size, tilt, position, stroke width and pixel noise. Each has two "
    "labels, like the course's Omniglot heads: its **character** (12 classes) and its **alphabet** (3 classes: bars, "
    "slants, curves).  \n"
    f"**The net**: the course's MultiOutputNet: Conv2d(1, 16, 3) → MaxPool2d → ELU → Flatten → "
    f"Linear({mio.FILTERS_TRAINED * (mio.GLYPH_SIZE // 2) ** 2}, {mio.EMBED_TRAINED}), then "
    "`head_alphabet = Linear(128, 3)` and `head_character = Linear(128, 12)`.")

# A run not kept yet trains here, its curves drawn into these placeholders as they grow; a kept run shows at once.
status, problems, live_curves, live_sigma = st.empty(), st.container(), st.empty(), st.empty()
order = mio.page_runs(weighting)
store = finished_runs()
finished = {name: store.get(run_key(*name)) for name in order}
todo = [name for name in order if finished[name] is None]  # the run shown in detail first
for number, name in enumerate(todo, 1):
    finished[name] = watch(*name, number, len(todo), finished)
    store.put(run_key(*name), finished[name])
live_sigma.empty()
runs = {s: finished[("weighting", s)] for s in mio.SCHEMES}
scale_runs = {s: finished[("scales", s)] for s in mio.SCALE_RUNS}
shown = runs[weighting]
steps = len(shown.steps)
fresh = len(todo)
when = ("All five were trained just now, on this page, while you watched them." if fresh == len(order) else
        "None was retrained: all five were trained earlier with these same settings and kept, so they show at once."
        if fresh == 0 else f"{fresh} of them trained just now, while you watched; the other {len(order) - fresh} were "
        "trained earlier with these same settings and kept.")
status.caption(f"Trained with the Training studio's engine (`core.training.train`), Adam η = {lr:g}, {epochs} epochs of "
               f"{-(-mio.N_TRAIN // mio.BATCH_SIZE)} batches of {mio.BATCH_SIZE}, one CPU thread: "
               f"{sum(r.wall for r in [*runs.values(), *scale_runs.values()]):.1f} s for the five runs on this page. {when} "
               "Each run is kept for its settings, so going back to a setting shows it at once. The glyphs are generated "
               "by `core.multi_io.glyphs` from a fixed seed, the same pictures every time: nothing is downloaded.")
for r in [*runs.values(), *scale_runs.values()]:
    if r.status != "done":
        problems.error(f"{SCHEME_LABELS[r.scheme]} ({r.task} runs): {r.message}", icon=":material/error:")
classroom.chart(charts.head_curves(shown), key="mio_heads", where=live_curves.container())
st.caption(f"**{SCHEME_LABELS[weighting]}**: each head's own cross-entropy L_k, before any weighting, over {steps} steps; "
           "right, the share of validation glyphs each head labels correctly (chance: 33% and 8%).")

# 3 ────────────────────────────────────────────────────────────────────────────────────────────────────────────
st.subheader("3 · Weighting the two losses")
classroom.chart(charts.weighting_accuracy(runs, SCHEME_LABELS, weighting), key="mio_weighting_acc")
unc, norm = runs["uncertainty"], runs["normalized"]
sigma = dict(zip(unc.heads, unc.final_state))
ema = dict(zip(norm.heads, norm.final_state))
st.dataframe(
    mio.weighting_table(runs, SCHEME_LABELS), hide_index=True, width="stretch", key="mio_weighting_table",
    column_config={c: st.column_config.NumberColumn(format="%.1f") for c in ("alphabet accuracy (%)", "character accuracy (%)")}
    | {c: st.column_config.NumberColumn(format="%.3f") for c in ("weight on L_alphabet (last step)", "weight on L_character (last step)")})
classroom.chart(charts.weighting_state(unc, norm), key="mio_state")
st.caption(
    f"**Fixed**: λ_alphabet = {weight_a:g}, λ_character = {1 - weight_a:g}. At λ = 0 a head gets no gradient at all: its "
    "weights stay as drawn, and whatever it gets right comes from the features the other head trained. "
    f"**Uncertainty** learns σ_k with the net (now σ_alphabet = {sigma['alphabet']:.3f}, σ_character = "
    f"{sigma['character']:.3f}): a head whose loss stays high gets a larger σ_k and a smaller weight 1/(2σ_k²). "
    f"**Normalized** divides each loss by its running average (now {ema['alphabet']:.3f} and {ema['character']:.3f}), so both "
    "terms stay of order 1 whatever their size. On this data the three end within a few points of each other; change the seed "
    "to see how much of a difference is chance.")

# 4 ────────────────────────────────────────────────────────────────────────────────────────────────────────────
st.subheader("4 · Losses on different scales")
plain, normed = scale_runs["plain"], scale_runs["normalized"]
st.markdown(f"A character head (cross-entropy) next to an **ink head** (MSE) that predicts the share of the picture the "
            f"strokes cover, in **{mio.UNITS[unit]}** (×{unit:,}). The unit changes nothing about the task, but the MSE "
            f"grows with its square (×{unit ** 2:,}). Solid: the plain sum L_CE + L_MSE. Dashed: each loss divided by its EMA.")
classroom.chart(charts.loss_scales(plain, normed, {"plain": "plain sum", "normalized": "normalized by EMA"}), key="mio_scales")
scales = mio.scale_table(scale_runs, unit)
st.dataframe(scales, hide_index=True, width="stretch", key="mio_scales_table",
             column_config={c: st.column_config.NumberColumn(format=f) for c, f in mio.scale_table_formats(scales).items()})
if (balance := mio.first_step_balance(plain)) is not None:
    ratio, share = balance
    times = f"{ratio:,.0f}" if ratio >= 100 else f"{ratio:.3g}"
    part = "more than 99.9%" if share > 99.9 else f"{share:.1f}%"
    st.caption(f"At the first step the MSE is {times} × the cross-entropy: the plain sum is {part} ink loss, and Adam steps "
               "the shared backbone along that sum's gradient. Normalization makes both terms exactly 1 at the first step and "
               "keeps them of the same order after it. It also takes the unit out: L_MSE and its EMA both grow by u², so runs "
               "at ×1 and ×10,000 start out identical and part only as float32 rounding builds up.")

# The anatomy every page shares ───────────────────────────────────────────────────────────────────────────────
with panels.math_panel("mio"):
    half = image_size // 2
    st.markdown("**§12.1 Multi-input.** A 3×3 convolution with padding 1 keeps H; MaxPool2d(2) halves it (rounding down); "
                "Flatten multiplies what is left:")
    st.latex(rf"F \cdot \lfloor H/2 \rfloor^2 = {filters} \cdot {half}^2 = {filters * half * half}")
    st.markdown(r"Concatenating along the feature dimension (course §12.1), for $A \in \mathbb{R}^{n \times d_A}$ and "
                r"$B \in \mathbb{R}^{n \times d_B}$:")
    st.latex(rf"[A; B] \in \mathbb{{R}}^{{n \times (d_A + d_B)}}: \quad z_{{image}} \in \mathbb{{R}}^{{{mio.FORWARD_BATCH} \times {image_embed}}},\ "
             rf"z_{{aux}} \in \mathbb{{R}}^{{{mio.FORWARD_BATCH} \times {aux_embed}}} \ \Rightarrow\ [z_{{image}}; z_{{aux}}] \in "
             rf"\mathbb{{R}}^{{{mio.FORWARD_BATCH} \times {fit}}}")
    st.latex(rf"\text{{Linear}}(d_{{in}}, K)\ \text{{needs}}\ d_{{in}} = d_{{img}} + d_{{aux}} = {image_embed} + {aux_embed} = {fit}"
             + (r"\ \checkmark" if view.fits else rf"\ \ne {classifier_in}"))
    st.markdown("**§12.3 Multi-task losses.** Each head's loss is PyTorch's `nn.CrossEntropyLoss` (mean over the batch of N):")
    st.latex(r"L_k = -\frac{1}{N}\sum_{n=1}^{N} \log \frac{e^{z_{n, y_n}}}{\sum_c e^{z_{n,c}}}")
    st.markdown("Weighted sum (course §12.3), with the fixed run's validation losses:")
    fa, fc = runs["fixed"].final("val_loss_alphabet"), runs["fixed"].final("val_loss_character")
    st.latex(rf"\mathcal{{L}} = \lambda_a L_a + \lambda_c L_c = {weight_a:g} \cdot {fa:.4f} + {1 - weight_a:g} \cdot {fc:.4f} = "
             rf"{weight_a * fa + (1 - weight_a) * fc:.4f}")
    st.markdown(r"Uncertainty weighting as the course writes it (Kendall et al., 2018), learned through $s_k = \log \sigma_k^2$, "
                r"which keeps $\sigma_k$ positive and the loss smooth:")
    st.latex(r"\mathcal{L} = \sum_k \frac{1}{2\sigma_k^2} L_k + \log \sigma_k = \sum_k \tfrac{1}{2} e^{-s_k} L_k + \tfrac{1}{2} s_k, "
             r"\qquad \frac{\partial \mathcal{L}}{\partial s_k} = \tfrac{1}{2} - \tfrac{1}{2} e^{-s_k} L_k")
    st.latex(rf"\sigma_{{alphabet}} = {sigma['alphabet']:.4f} \Rightarrow \tfrac{{1}}{{2\sigma^2}} = {mio.kendall_weight(sigma['alphabet']):.4f}, \qquad "
             rf"\sigma_{{character}} = {sigma['character']:.4f} \Rightarrow \tfrac{{1}}{{2\sigma^2}} = {mio.kendall_weight(sigma['character']):.4f}")
    st.markdown(r"The gradient is 0 at $\sigma_k^2 = L_k$: a head with a larger loss ends with a smaller weight. The page uses "
                r"the course's ½ form for both heads; Kendall et al. derive it for regression heads and, for classification, "
                r"a form without the ½ on $L_k$: $\frac{1}{\sigma_k^2} L_k + \log \sigma_k$.")
    st.markdown(f"**§12.4 Loss-scale normalization** by a running average; the page folds this step's loss into the EMA before "
                f"dividing (so the first step gives exactly 1 per head) and passes no gradient through the EMA, β = {mio.EMA_BETA}:")
    st.latex(r"\tilde{L}_k = \frac{L_k}{\mathrm{EMA}(L_k)}, \qquad \mathrm{EMA}_1 = L_1, \quad "
             rf"\mathrm{{EMA}}_t = {mio.EMA_BETA}\, \mathrm{{EMA}}_{{t-1}} + {1 - mio.EMA_BETA:.1f}\, L_t")
    st.markdown("The ink head's loss is PyTorch's `nn.MSELoss`; writing the target in another unit u multiplies it by u²:")
    st.latex(rf"L_{{MSE}} = \frac{{1}}{{N}} \sum_n (\hat{{y}}_n - y_n)^2, \qquad L_{{MSE}}^{{(u)}} = u^2\, L_{{MSE}}^{{(1)}} = "
             rf"{panels.tex_number(float(unit) ** 2, 6)} \cdot L_{{MSE}}^{{(1)}}")

checks = mio.multi_input_checks(view) + list(shown.checks) + list(plain.checks) + list(normed.checks)
panels.check_panel("mio", checks, note="Widths and parameter counts must agree exactly. Losses are float32: a relative 1e-5 "
                   "passes. torchmetrics returns accuracy in float32: 1e-6 passes. Loss checks use the trained runs on the "
                   "validation glyphs (the weighting shown in detail, then the two loss-scale runs).")
panels.code_panel("mio", snippet.code(channels, image_size, filters, aux_dim, image_embed, aux_embed, classifier_in, num_classes,
                                      weight_a, lr, epochs, unit, seed), "multi_io.py")
