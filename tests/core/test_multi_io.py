"""The Multi-input & multi-output page's core against PyTorch: the shape flow against real forward passes, the three
loss weightings (uncertainty weights are learned parameters that receive the formula's gradient), the EMA
normalization, the generated glyphs, the training runs through the engine, and every chart builder."""
import dataclasses
import itertools
import math

import pandas as pd
import plotly.graph_objects as go
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from core import charts
from core import multi_io as mio
from core.snippets import multi_io as snippet

torch.set_num_threads(1)  # as the app trains (ui/startup.py); several threads only contend on a shared machine
SHAPES = list(itertools.product(mio.IMAGE_SIZES, mio.CHANNELS, (4, 32), (1, 100), (8, 256), (2, 64)))


def validated(fig: go.Figure) -> go.Figure:
    return go.Figure(fig.to_dict())  # raises on any invalid property


# --- Multi-input -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("size, channels, filters, aux_dim, image_embed, aux_embed", SHAPES[::23])
def test_shape_flow_matches_a_forward_pass(size, channels, filters, aux_dim, image_embed, aux_embed):
    fit = image_embed + aux_embed
    v = mio.multi_input_view(channels, size, filters, aux_dim, image_embed, aux_embed, fit, 7)
    assert v.fits and v.concat_width == fit
    assert all(s.actual == s.formula for s in v.stages), [(s.name, s.formula, s.actual) for s in v.stages if s.actual != s.formula]
    assert all(c.passed for c in mio.multi_input_checks(v))
    # The same shapes from PyTorch's own modules, built independently of core's.
    x = torch.zeros(mio.FORWARD_BATCH, channels, size, size)
    conv = nn.Conv2d(channels, filters, 3, padding=1)(x)
    flat = nn.Flatten()(nn.ELU()(nn.MaxPool2d(2)(conv)))
    assert v.stage("conv").actual == tuple(conv.shape)
    assert v.stage("flatten").actual == tuple(flat.shape)
    z = torch.cat([nn.Linear(flat.shape[1], image_embed)(flat), nn.Linear(aux_dim, aux_embed)(torch.zeros(mio.FORWARD_BATCH, aux_dim))], 1)
    assert v.stage("z_combined").actual == tuple(z.shape)
    assert v.stage("logits").actual == (mio.FORWARD_BATCH, 7)


def test_the_course_sizes_give_the_course_widths():
    v = mio.multi_input_view(1, 64, 16, 30, 128, 8, 136, 10)
    assert v.stage("flatten").actual[-1] == 16 * 32 * 32  # the course's nn.Linear(16 * 32 * 32, 128)
    assert v.stage("z_combined").actual[-1] == 128 + 8
    net = mio.MultiInputNet(1, 64, 16, 30, 128, 8, 136, 10)
    assert v.params_torch == sum(p.numel() for p in net.parameters()) == v.params_formula


@pytest.mark.parametrize("classifier_in", [1, 130, 137, 1000])
def test_a_classifier_that_does_not_fit_shows_pytorchs_error(classifier_in):
    v = mio.multi_input_view(1, 28, 8, 30, 128, 8, classifier_in, 10)
    assert not v.fits and v.concat_width == 136
    assert "mat1 and mat2 shapes cannot be multiplied" in v.error
    assert f"{mio.FORWARD_BATCH}x136" in v.error and f"{classifier_in}x10" in v.error
    assert v.stage("z_combined").actual == (mio.FORWARD_BATCH, 136) and v.stage("logits").actual is None
    checks = mio.multi_input_checks(v)
    assert checks and all(c.passed for c in checks)
    assert v.params_formula == v.params_torch  # the mismatched Linear still has classifier_in·K + K parameters


def test_odd_pooling_rounds_down():
    rows = dict((name, shape) for name, _, _, shape in mio.shape_formulas(3, 15, 4, 5, 8, 2, 3))
    assert rows["pool"] == (mio.FORWARD_BATCH, 4, 7, 7)
    assert nn.MaxPool2d(2)(torch.zeros(1, 4, 15, 15)).shape[-1] == 7


# --- The glyphs --------------------------------------------------------------------------------------------

def test_glyphs_are_deterministic_and_labelled_consistently():
    a, b, c = mio.glyphs(200, seed=3), mio.glyphs(200, seed=3), mio.glyphs(200, seed=4)
    assert torch.equal(a.images, b.images) and torch.equal(a.character, b.character)
    assert not torch.equal(a.images, c.images)
    assert a.images.shape == (200, 1, mio.GLYPH_SIZE, mio.GLYPH_SIZE) and a.images.dtype == torch.float32
    assert torch.equal(a.alphabet, torch.tensor(mio.CHARACTER_ALPHABET)[a.character])
    assert ((a.ink > 0.02) & (a.ink < 0.6)).all()


def test_the_bundled_split_has_every_class():
    train, val = mio.glyph_split()
    assert len(train.images) == mio.N_TRAIN and len(val.images) == mio.N_VAL
    assert set(train.character.tolist()) == set(range(len(mio.CHARACTER_NAMES)))
    assert set(val.alphabet.tolist()) == set(range(len(mio.ALPHABET_NAMES)))
    images, names = mio.gallery()
    assert images.shape == (12, mio.GLYPH_SIZE, mio.GLYPH_SIZE) and names == list(mio.CHARACTER_NAMES)


def test_a_bigger_glyph_leaves_more_ink():
    d = mio.glyphs(2000, seed=1)
    clean_share = torch.corrcoef(torch.stack([d.ink, d.images.mean((1, 2, 3))]))[0, 1]
    assert clean_share > 0.9  # the noise averages out: the ink target is what the picture shows


# --- The losses --------------------------------------------------------------------------------------------

def _batch(seed=0, n=16):
    g = torch.Generator().manual_seed(seed)
    outputs = (torch.randn(n, 3, generator=g, requires_grad=True), torch.randn(n, 12, generator=g, requires_grad=True))
    y = torch.stack([torch.randint(0, 3, (n,), generator=g), torch.randint(0, 12, (n,), generator=g)], 1).float()
    return outputs, y


def test_head_losses_are_pytorchs():
    outputs, y = _batch()
    loss = mio.make_loss("plain", ("ce", "ce"))
    L = loss.head_losses(outputs, y)
    assert L[0].item() == pytest.approx(nn.CrossEntropyLoss()(outputs[0], y[:, 0].long()).item(), rel=1e-6)
    assert L[1].item() == pytest.approx(nn.CrossEntropyLoss()(outputs[1], y[:, 1].long()).item(), rel=1e-6)
    pred, target = torch.randn(8), torch.randn(8)
    mse = mio.make_loss("plain", ("ce", "mse")).head_losses((outputs[1][:8], pred), torch.stack([y[:8, 1], target], 1))[1]
    assert mse.item() == pytest.approx(F.mse_loss(pred, target).item(), rel=1e-6)


@pytest.mark.parametrize("weight_a", [0.0, 0.33, 1.0])
def test_fixed_weights_are_the_weighted_sum(weight_a):
    outputs, y = _batch(1)
    loss = mio.make_loss("fixed", ("ce", "ce"), weight_a)
    total = loss(outputs, y)
    L = loss.head_losses(outputs, y)
    assert total.item() == pytest.approx(weight_a * L[0].item() + (1 - weight_a) * L[1].item(), rel=1e-6)
    total.backward()
    if weight_a == 0:
        assert torch.count_nonzero(outputs[0].grad) == 0  # a zero weight: that head gets no gradient at all


def test_uncertainty_weights_are_learned_parameters_with_the_formulas_gradient():
    outputs, y = _batch(2)
    loss = mio.make_loss("uncertainty", ("ce", "ce"))
    assert [n for n, _ in loss.named_parameters()] == ["log_var"]
    with torch.no_grad():
        loss.log_var.copy_(torch.tensor([0.7, -0.4]))
    total = loss(outputs, y)
    L = loss.head_losses(outputs, y).detach()
    sigma = torch.exp(0.5 * loss.log_var.detach())
    course = (L / (2 * sigma**2) + torch.log(sigma)).sum()  # the course's Σ L_k / (2σ_k²) + log σ_k
    assert total.item() == pytest.approx(course.item(), rel=1e-6)
    total.backward()
    expected = 0.5 - 0.5 * torch.exp(-loss.log_var.detach()) * L
    assert torch.allclose(loss.log_var.grad, expected, atol=1e-6)
    assert outputs[0].grad is not None and torch.count_nonzero(outputs[0].grad) > 0


def test_the_optimizer_moves_sigma_during_a_run():
    run = mio.train_heads("weighting", "uncertainty", epochs=1)
    sigmas = run.steps[["state_alphabet", "state_character"]].to_numpy()
    assert sigmas[0].tolist() == [1.0, 1.0]  # s_k = 0 at the start
    assert abs(sigmas[-1] - 1).max() > 0.01  # Adam stepped s_k: it is in the optimizer and gets gradients
    # the engine's loss each step is the formula of what the loss object logged: Σ ½e^(−s)L + ½s, σ = e^(s/2)
    s = 2 * torch.log(torch.tensor(sigmas, dtype=torch.float64))
    L = torch.tensor(run.steps[["loss_alphabet", "loss_character"]].to_numpy(), dtype=torch.float64)
    by_hand = (0.5 * torch.exp(-s) * L + 0.5 * s).sum(1)
    assert torch.allclose(by_hand, torch.tensor(run.steps.total.to_numpy(), dtype=torch.float64), rtol=1e-5)


def test_ema_normalization_follows_its_recurrence_and_passes_no_gradient():
    loss = mio.make_loss("normalized", ("ce", "ce"))
    ema = None
    for i in range(5):
        outputs, y = _batch(10 + i)
        total = loss(outputs, y)
        L = loss.head_losses(outputs, y).detach()
        ema = L if ema is None else mio.EMA_BETA * ema + (1 - mio.EMA_BETA) * L
        assert torch.allclose(loss.ema, ema, rtol=1e-6)
        if i == 0:
            assert total.item() == pytest.approx(2.0, rel=1e-6)  # each head's term is exactly 1 at the first step
        assert total.item() == pytest.approx((L / ema).sum().item(), rel=1e-6)
    assert not loss.ema.requires_grad and not list(loss.parameters())
    loss.eval()  # evaluation divides by the EMA without updating it
    before = loss.ema.clone()
    outputs, y = _batch(99)
    loss(outputs, y)
    assert torch.equal(loss.ema, before)


def test_unknown_weighting_is_refused():
    with pytest.raises(ValueError):
        mio.make_loss("max", ("ce", "ce"))


# --- Training through the engine ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def runs():
    weighting = {s: mio.train_heads("weighting", s, 0.4, 0.003, 2, 1.0, 0) for s in mio.SCHEMES}
    scales = {(s, u): mio.train_heads("scales", s, 0.5, 0.003, 2, float(u), 0) for s in mio.SCALE_RUNS for u in (1, 10000)}
    return weighting, scales


def test_runs_record_every_step_and_epoch(runs):
    weighting, scales = runs
    steps_per_epoch = math.ceil(mio.N_TRAIN / mio.BATCH_SIZE)
    for run in [*weighting.values(), *scales.values()]:
        assert run.status == "done" and len(run.steps) == 2 * steps_per_epoch
        assert run.epochs.epoch.tolist() == [0, 1, 2]
        assert all(c.passed for c in run.checks), [c for c in run.checks if not c.passed]
        # what the loss object logged is what the engine differentiated, except uncertainty's +½s_k
        if run.scheme != "uncertainty":
            terms = run.steps[[f"term_{h}" for h in run.heads]].sum(1)
            assert terms.to_numpy() == pytest.approx(run.steps.total.to_numpy(), rel=1e-5)
    fixed = weighting["fixed"].steps
    assert fixed.factor_alphabet.to_numpy() == pytest.approx(0.4) and fixed.factor_character.to_numpy() == pytest.approx(0.6)


def test_normalization_makes_the_unit_irrelevant_and_the_plain_sum_does_not(runs):
    _, scales = runs
    a, b = scales[("normalized", 1)], scales[("normalized", 10000)]
    assert a.final("metric_character") == pytest.approx(b.final("metric_character"), abs=1 / mio.N_VAL + 1e-9)
    assert a.final("metric_ink") == pytest.approx(b.final("metric_ink"), abs=1e-3)
    assert b.final("val_loss_ink") == pytest.approx(1e8 * a.final("val_loss_ink"), rel=1e-2)  # MSE grows with unit²
    plain1, plain4 = scales[("plain", 1)], scales[("plain", 10000)]
    assert plain4.steps.loss_ink.iloc[0] / plain4.steps.loss_character.iloc[0] > 1e6  # the imbalance
    assert plain4.final("metric_character") < b.final("metric_character") - 0.1  # the character head loses out
    assert plain1.final("metric_character") != plain4.final("metric_character")


def test_first_step_balance_is_the_plain_sums_split_at_step_one(runs):
    _, scales = runs
    for unit in (1, 10000):
        run = scales[("plain", unit)]
        ce, mse = run.steps.loss_character.iloc[0], run.steps.loss_ink.iloc[0]
        ratio, share = mio.first_step_balance(run)
        assert ratio == pytest.approx(mse / ce) and share == pytest.approx(100 * mse / (ce + mse))
    assert mio.first_step_balance(scales[("plain", 10000)])[1] > 99.9  # the page's "more than 99.9% ink loss"
    empty = dataclasses.replace(scales[("plain", 1)], steps=scales[("plain", 1)].steps.iloc[:0])
    assert mio.first_step_balance(empty) is None  # before the first step
    broken = scales[("plain", 1)].steps.copy()
    broken.loc[broken.index[0], "loss_character"] = float("nan")
    assert mio.first_step_balance(dataclasses.replace(scales[("plain", 1)], steps=broken)) is None


def test_a_diverging_run_stops_with_a_message():
    run = mio.train_heads("scales", "plain", lr=1e4, epochs=1, unit=10000.0)
    assert run.status == "diverged" and "diverged" in run.message
    assert len(run.steps) < math.ceil(mio.N_TRAIN / mio.BATCH_SIZE) and not run.checks
    validated(charts.loss_scales(run, run, {"plain": "plain"}))
    validated(charts.head_curves(mio.train_heads("weighting", "fixed", lr=1e6, epochs=1)))


def test_same_seed_same_run_and_seed_matters():
    a = mio.train_heads("weighting", "fixed", epochs=1, seed=5)
    b = mio.train_heads("weighting", "fixed", epochs=1, seed=5)
    c = mio.train_heads("weighting", "fixed", epochs=1, seed=6)
    assert a.steps.total.tolist() == b.steps.total.tolist()
    assert a.steps.total.tolist() != c.steps.total.tolist()


# --- Training live: the stream the page draws while it trains ----------------------------------------------

STEPS_PER_EPOCH = math.ceil(mio.N_TRAIN / mio.BATCH_SIZE)


@pytest.mark.parametrize("key", [("weighting", "uncertainty", 0.5, 0.01, 2, 1.0, 3), ("scales", "normalized", 0.5, 0.003, 1, 100.0, 3)],
                         ids=["uncertainty", "scales"])
def test_the_streamed_run_ends_exactly_where_the_one_shot_run_does(key):
    stream = list(mio.train_heads_live(*key))
    one_shot = mio.train_heads(*key)
    *training, last = stream
    epochs = key[4]
    assert [p.record.kind for p in training] == (["step"] * STEPS_PER_EPOCH + ["epoch"]) * epochs + ["done"]
    assert all(p.result is None and p.total_steps == epochs * STEPS_PER_EPOCH for p in training)
    assert last.record is None and last.result is not None and last.run() is last.result
    final = last.result
    # the same seed gives the same numbers, bit for bit: what the page keeps is what it showed before it streamed
    pd.testing.assert_frame_equal(final.steps, one_shot.steps, check_exact=True)
    pd.testing.assert_frame_equal(final.epochs, one_shot.epochs, check_exact=True)
    assert (final.status, final.message, final.final_state, final.checks) == (one_shot.status, one_shot.message,
                                                                              one_shot.final_state, one_shot.checks)
    # the run as drawn while it trained: every snapshot is the start of the finished run, the last one all of it
    pd.testing.assert_frame_equal(training[-1].run().steps, final.steps, check_exact=True)
    pd.testing.assert_frame_equal(training[-1].run().epochs, final.epochs, check_exact=True)
    for p in training[:: STEPS_PER_EPOCH // 2]:
        snap = p.run()
        assert snap.status == "running" and not snap.checks and len(snap.steps) == p.step
        pd.testing.assert_frame_equal(snap.steps, final.steps.iloc[: p.step], check_exact=True)
        pd.testing.assert_frame_equal(snap.epochs, final.epochs.iloc[: len(snap.epochs)], check_exact=True)
        assert snap.epochs.epoch.tolist() == list(range(p.record.epoch + (p.record.kind != "step")))  # epoch 0: untrained
        assert snap.final_state == tuple(final.steps[[f"state_{h}" for h in final.heads]].iloc[p.step - 1])
        curves = charts.head_curves(snap)
        validated(curves)
        diamonds = [t for t in curves.data if t.mode == "markers"]
        assert len(diamonds) == 2
        assert all(list(t.x) == [e * STEPS_PER_EPOCH for e in snap.epochs.epoch] for t in diamonds)  # ◆ at its epoch's end


def test_two_runs_streamed_side_by_side_do_not_disturb_each_other():
    """Two sessions training at once interleave their steps in one process: each run has its own generators."""
    a_key, b_key = ("weighting", "fixed", 0.3, 0.003, 1, 1.0, 8), ("weighting", "uncertainty", 0.5, 0.003, 1, 1.0, 9)
    a, b = mio.train_heads_live(*a_key), mio.train_heads_live(*b_key)
    early = mio.train_heads_live(*a_key)
    next(early), next(early)
    early.close()  # a run left half-way (the user moved a slider) leaves nothing behind
    results = {}
    for pa, pb in itertools.zip_longest(a, b):
        for name, p in (("a", pa), ("b", pb)):
            if p is not None and p.result is not None:
                results[name] = p.result
    for name, key in (("a", a_key), ("b", b_key)):
        pd.testing.assert_frame_equal(results[name].steps, mio.train_heads(*key).steps, check_exact=True)


def test_a_diverging_stream_ends_with_the_diverged_run():
    *training, last = mio.train_heads_live("scales", "plain", lr=1e4, epochs=1, unit=10000.0)
    assert training[-1].record.kind == "diverged" and training[-1].run().status == "running"
    assert last.result.status == "diverged" and len(last.result.steps) == len(training[-1].run().steps) == training[-1].step - 1


def _done(scheme="fixed"):
    return mio.Run("weighting", scheme, ("alphabet", "character"), "done", None, 0.0, pd.DataFrame(), pd.DataFrame())


def test_the_run_store_keeps_the_most_recently_used_finished_runs():
    store = mio.RunStore(2)
    keys = [("weighting", "fixed", w, 0.003, 1, 1.0, 0) for w in (0.1, 0.2, 0.3)]
    store.put(keys[0], _done())
    store.put(keys[1], _done())
    assert store.get(keys[0]) is not None  # used: now the most recent
    store.put(keys[2], _done())
    assert len(store) == 2 and keys[1] not in store and keys[0] in store and keys[2] in store
    assert store.get(keys[1]) is None
    running = mio.Run("weighting", "fixed", ("alphabet", "character"), "running", None, 0.0, pd.DataFrame(), pd.DataFrame())
    with pytest.raises(ValueError):
        store.put(keys[1], running)  # never a run still training
    with pytest.raises(ValueError):
        mio.RunStore(0)


# --- Charts and the script ---------------------------------------------------------------------------------

def test_every_chart_builder_is_valid(runs):
    weighting, scales = runs
    labels = {"fixed": "fixed", "uncertainty": "uncertainty", "normalized": "normalized", "plain": "plain"}
    fit = validated(charts.multi_input_flow(mio.multi_input_view(3, 32, 8, 10, 64, 16, 80, 5)))
    broken = validated(charts.multi_input_flow(mio.multi_input_view(3, 32, 8, 10, 64, 16, 79, 5)))
    assert any("(4, 5)" in t for t in fit.data[0].text) and any("✗ needs 80" in t for t in broken.data[0].text)
    assert len(fit.layout.shapes) == 9 and len(fit.layout.annotations) == 8
    images, names = mio.gallery()
    assert len(validated(charts.glyph_gallery(images, names, mio.ALPHABET_NAMES)).layout.annotations) == 12
    assert len(validated(charts.head_curves(weighting["fixed"])).data) == 6
    acc = validated(charts.weighting_accuracy(weighting, labels, "uncertainty"))
    assert len(acc.data) == 6 and max(t.line.width for t in acc.data if t.name == "uncertainty") > acc.data[0].line.width
    validated(charts.weighting_state(weighting["uncertainty"], weighting["normalized"]))
    sigma = validated(charts.learned_sigma(weighting["uncertainty"]))
    assert [t.name for t in sigma.data] == ["σ_alphabet", "σ_character"] and len(sigma.layout.shapes) == 1
    assert len(validated(charts.loss_scales(scales[("plain", 1)], None, labels)).data) == 4  # the second run not trained yet
    scale = validated(charts.loss_scales(scales[("plain", 10000)], scales[("normalized", 10000)], labels))
    assert scale.layout.yaxis.type == "log" and len(scale.data) == 8
    assert set(charts.multi_io.__all__) <= set(charts.__all__)


def test_the_script_compiles_with_every_value_written_in():
    code = snippet.code(3, 28, 8, 12, 64, 16, 70, 5, 0.25, 0.01, 3, 1000, 7)
    compile(code, "multi_io.py", "exec")
    assert "nn.Linear(70, 5)" in code and "SEED, LR, EPOCHS = 7, 0.01, 3" in code and "UNIT = 1000" in code
    assert "weight_a=0.25" in code
    assert not any(slot in code for slot in ("{size}", "{half}", "{beta}", "{batch}", "{n_total}", "{n_train}"))


def test_page_runs_retrain_only_what_a_control_changes():
    assert mio.page_runs("uncertainty")[0] == ("weighting", "uncertainty") and len(set(mio.page_runs("fixed"))) == 5
    keys = lambda w, u: {name: mio.run_key(*name, w, 0.003, 8, u, 0) for name in mio.page_runs("fixed")}  # noqa: E731
    a, b, c = keys(0.5, 100), keys(0.2, 100), keys(0.5, 1)
    assert [n for n in a if a[n] != b[n]] == [("weighting", "fixed")]
    assert [n for n in a if a[n] != c[n]] == [("scales", "plain"), ("scales", "normalized")]
    assert mio.kendall_weight(1.0) == 0.5 and mio.kendall_weight(0.0) == float("inf")


def test_the_weighting_and_scale_tables_are_the_runs_final_figures(runs):
    weighting, scales = runs
    labels = {s: s.upper() for s in weighting}
    table = mio.weighting_table(weighting, labels)
    assert list(table.weighting) == [labels[s] for s in weighting]
    for row, run in zip(table.itertuples(index=False), weighting.values()):
        assert row[1] == pytest.approx(100 * run.final("metric_alphabet"))
        assert row[2] == pytest.approx(100 * run.final("metric_character"))
        assert row[3] == run.steps.factor_alphabet.iloc[-1] and row[4] == run.steps.factor_character.iloc[-1]
    shown = {name: scales[(name, 10000)] for name in ("plain", "normalized")}
    table = mio.scale_table(shown, 10000)
    assert list(table.columns) == ["run", "character accuracy (%)", "ink R²", "ink RMSE (basis points)", "validation L_CE",
                                   "validation L_MSE"]
    assert table["ink RMSE (basis points)"].tolist() == pytest.approx([r.final("val_loss_ink") ** 0.5 for r in shown.values()])
    empty = dataclasses.replace(weighting["fixed"], steps=weighting["fixed"].steps.iloc[:0])
    assert mio.weighting_table({"fixed": empty}, labels)["weight on L_alphabet (last step)"].isna().all()


def test_scale_table_formats_keep_one_number_of_decimals_per_column():
    table = pd.DataFrame({"run": ["a", "b"], "character accuracy (%)": [90.0, 80.0], "ink R²": [0.5, 0.25],
                          "ink RMSE": [3.4, 2.449], "validation L_CE": [0.0021, 1.5], "validation L_MSE": [2.5e7, 10.0],
                          "empty": [float("nan"), 0.0]})
    formats = mio.scale_table_formats(table)
    assert formats == {"character accuracy (%)": "%.1f", "ink R²": "%.3f", "ink RMSE": "%.3f", "validation L_CE": "%.6f",
                       "validation L_MSE": "%.3e", "empty": "%.4f"}
    assert formats["ink RMSE"] % 3.4 == "3.400" and formats["ink RMSE"] % 2.449 == "2.449"
    assert mio.scale_table_formats(table.assign(**{"ink RMSE": [12000.0, 150.0]}))["ink RMSE"] == "%.1f"
