"""The training engine: every task trains, runs are reproducible, divergence and Stop end a run cleanly,
and the downloadable script reproduces the run step for step."""
import os
import subprocess
import sys

import pandas as pd
import pytest
import torch

from core import data, tasks, training, uploads
from core.snippets import training as snippet


def run(settings, **kw):
    prepared = tasks.prepare(settings)
    return prepared, list(training.train(**prepared.train_args(), epochs=settings.epochs, clip=settings.clip or None, **kw))


@pytest.mark.parametrize("task", tasks.TASKS)
def test_a_short_run_of_every_task_learns(task):
    settings = tasks.Settings(task=task, epochs=1, lr=0.003, seq_length=24)
    stop_after = 5
    prepared, records = run(settings, should_stop=lambda: False)
    steps = [r for r in records if r.kind == "step"]
    assert records[-1].kind == "done" and len(steps) == len(prepared.train_loader)
    assert all(r.grad_norm > 0 and r.lr == pytest.approx(0.003) for r in steps[:stop_after])
    epoch = next(r for r in records if r.kind == "epoch")
    assert epoch.val_loss is not None and epoch.metrics
    first, last = steps[0].train_loss, sum(r.train_loss for r in steps[-5:]) / 5
    assert last < first, "one epoch lowers the training loss"


@pytest.mark.parametrize("task", tasks.TASKS)
def test_runs_are_deterministic_for_a_seed(task):
    settings = tasks.Settings(task=task, epochs=1, seed=3, seq_length=24, augment=task == "image")
    _, a = run(settings, should_stop=lambda: False)
    _, b = run(settings)
    _, c = run(tasks.Settings(task=task, epochs=1, seed=4, seq_length=24, augment=task == "image"))
    losses = lambda rs: [r.train_loss for r in rs if r.kind == "step"]  # noqa: E731
    assert losses(a) == losses(b) and losses(a) != losses(c)


@pytest.mark.parametrize(("name", "settings", "expected"), [
    ("momentum", dict(momentum=0.5, weight_decay=1e-3), dict(momentum=0.5, weight_decay=1e-3)),
    ("adam", dict(beta1=0.8, beta2=0.99), dict(betas=(0.8, 0.99), weight_decay=0.0)),
    ("adamw", dict(), dict(betas=(0.9, 0.999), weight_decay=0.01)),  # PyTorch's default decay for AdamW
    ("adamw", dict(weight_decay=0.0), dict(weight_decay=0.0)),
    ("rmsprop", dict(weight_decay=0.1, momentum=0.5), dict(weight_decay=0.1, momentum=0.0)),  # momentum is SGD's only
])
def test_optimizer_settings_reach_torch_optim_and_the_script(name, settings, expected):
    s = tasks.Settings(optimizer=name, **settings)
    group = tasks.prepare(s).optimizer.param_groups[0]
    assert {k: group[k] for k in expected} == expected
    line = next(line for line in snippet.code(s, "data").splitlines() if line.startswith("optimizer = "))
    for k, v in expected.items():
        if settings.get(k) == v or (k == "betas" and "beta1" in settings):  # a setting that applies is written out
            assert f"{k}={v!r}".replace(" ", "") in line.replace(" ", ""), line
    assert ("momentum" in line) == (name == "momentum")


def test_divergence_stops_at_the_first_non_finite_loss():
    _, records = run(tasks.Settings(task="sequence", optimizer="sgd", lr=10.0, epochs=2, seq_length=24))
    last = records[-1]
    assert last.kind == "diverged" and "diverged" in last.message and f"step {last.step}" in last.message
    assert all(torch.isfinite(torch.tensor(r.train_loss)) for r in records if r.kind == "step")
    assert not torch.isfinite(torch.tensor(last.train_loss))


def test_bce_never_diverges_because_pytorch_clamps_its_log():
    """PyTorch's BCELoss clamps log(ŷ) at −100 (its docs say so): the loss stays finite, at most 100."""
    _, records = run(tasks.Settings(task="tabular", optimizer="sgd", lr=10.0, epochs=2))
    assert records[-1].kind == "done"
    assert all(r.train_loss <= 100 for r in records if r.kind == "step")


def test_stop_ends_the_run_within_one_step():
    calls = []
    _, records = run(tasks.Settings(task="tabular", epochs=3), should_stop=lambda: len(calls.append(1) or calls) > 7)
    assert records[-1].kind == "stopped" and records[-1].step == 7


def test_clipping_caps_the_step_but_reports_the_norm_before_it():
    prepared, records = run(tasks.Settings(task="tabular", epochs=1, clip=0.01, lr=0.1, optimizer="sgd"))
    assert max(r.grad_norm for r in records if r.kind == "step") > 0.01  # reported before clipping


def test_empty_training_set_is_refused():
    prepared = tasks.prepare(tasks.Settings(task="tabular"))
    empty = torch.utils.data.DataLoader(data.WaterDataset(data.water_frames()[0].iloc[:0]), batch_size=4)
    with pytest.raises(ValueError, match="no batch"):
        next(training.train(prepared.model, prepared.loss_fn, prepared.optimizer, empty, None, 1))


def test_smoothing_is_debiased_like_tensorboard():
    assert training.smooth([5.0, 5.0, 5.0], 0.9) == pytest.approx([5.0, 5.0, 5.0])
    assert training.smooth([1.0, 3.0], 0.0) == [1.0, 3.0]
    s = training.smooth([1.0, 3.0], 0.5)
    assert s[1] == pytest.approx((0.5 * 0.5 * 1 + 0.5 * 3) / (1 - 0.25))


@pytest.mark.parametrize("task", tasks.TASKS)
def test_final_checks_pass(task):
    settings = tasks.Settings(task=task, epochs=1, seq_length=24)
    prepared, _ = run(settings)
    checks = tasks.final_checks(prepared)
    assert len(checks) >= 2 and all(c.passed for c in checks), checks


@pytest.mark.parametrize("task", tasks.TASKS)
def test_script_reproduces_the_run_step_for_step(task, tmp_path):
    settings = tasks.Settings(task=task, epochs=1, seed=5, batchnorm=task != "sequence", clip=1.0 if task == "sequence" else 0.0,
                              optimizer="momentum", lr=0.01, seq_length=24, momentum=0.8, weight_decay=1e-3)
    script = tmp_path / "run.py"
    script.write_text(snippet.code(settings, str(data.ASSETS)))
    # One torch thread in both, so both sum in the same order (the tests run torch on one thread, as the app does).
    torch.set_num_threads(1)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert out.returncode == 0, out.stderr
    printed = dict(line.split(": ", 1) for line in out.stdout.strip().splitlines())
    _, records = run(settings)
    steps = [r for r in records if r.kind == "step"]
    for i in range(3):
        assert float(printed[f"step {i + 1}"].split("=")[1]) == pytest.approx(steps[i].train_loss, abs=1e-5)
    epoch = next(r for r in records if r.kind == "epoch")
    assert float(printed["epoch 1"].split("=")[1]) == pytest.approx(epoch.val_loss, rel=1e-4)


def test_uploaded_table_trains_in_place_of_the_water_data():
    frame = data.water_frames()[0].rename(columns={"Potability": "label"}).iloc[:200]
    table = uploads.binary_table(frame, "label")
    prepared = tasks.prepare(tasks.Settings(task="tabular", epochs=1), table=table)
    assert len(prepared.train_loader.dataset) == 160
    assert next(r for r in training.train(**prepared.train_args(), epochs=1)).kind == "step"


BAD_UPLOADS = {
    "empty": (b"", "empty"),
    "binary junk": (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary"),
    "one row": (b"a,b\n1,0\n", "at least 20"),
    "utf-16": ("a,b\n1,0\n".encode("utf-16"), "binary data, or is UTF-16"),
    "huge header": ((",".join(f"c{i}" for i in range(100_000)) + "\n").encode(), "columns; the limit"),
}


@pytest.mark.parametrize("case", BAD_UPLOADS, ids=list(BAD_UPLOADS))
def test_bad_csv_files_get_a_clear_message(case):
    raw, message = BAD_UPLOADS[case]
    with pytest.raises(uploads.UploadError, match=message):
        uploads.read_csv(raw)


def test_bad_tables_get_a_clear_message():
    rows = 30
    text = pd.DataFrame({"x": range(rows), "y": ["a", "b"] * (rows // 2)})
    with pytest.raises(uploads.UploadError, match="not numbers"):
        uploads.binary_table(text, "y")
    nan = pd.DataFrame({"x": [float("nan")] + [1.0] * (rows - 1), "y": [0, 1] * (rows // 2)})
    with pytest.raises(uploads.UploadError, match="NaN"):
        uploads.binary_table(nan, "y")
    three = pd.DataFrame({"x": range(rows), "y": [0, 1, 2] * (rows // 3)})
    with pytest.raises(uploads.UploadError, match="0 and 1"):
        uploads.binary_table(three, "y")
    with pytest.raises(uploads.UploadError, match="need at least"):
        uploads.series(pd.DataFrame({"v": range(rows)}), "v", 96)


def test_the_loss_axis_labels_whole_decades_only_when_the_loss_spans_them():
    from core import charts

    def figure(losses):
        steps = pd.DataFrame({"step": range(1, len(losses) + 1), "train_loss": losses})
        epochs = pd.DataFrame({"step": [len(losses)], "epoch": [1], "val_loss": [losses[-1]], "r2": [0.5]})
        return charts.training_curves([("run 1", steps, epochs, list(losses))], "r2", "R²").to_dict()["layout"]["yaxis"]

    assert figure([1.0, 0.3, 0.05, 0.01]).get("dtick") == 1
    assert "dtick" not in figure([0.70, 0.69, 0.68, 0.66])


def test_progress_text_and_last_epoch_row():
    records = [training.Record("step", k, 1, 0.5 * k, 1.0) for k in range(1, 5)]
    assert training.progress("run 1", records, 10, True, "running") == (0.4, "run 1: step 4 of 10, about 3 s left")
    assert training.progress("run 1", [], 10, True, "running") == (0.0, "run 1: step 0 of 10")
    assert training.progress("run 1", records, 4, False, "stopped") == (1.0, "run 1: step 4 of 4 (stopped)")
    epochs = training.history([*records, training.Record("epoch", 4, 1, 2.0, 0.9, val_loss=0.8, metrics={"accuracy": 0.7})])[1]
    assert training.last_epoch(epochs) == {"train_loss": 0.9, "val_loss": 0.8, "accuracy": 0.7}
    assert training.last_epoch(training.history(records)[1]) == {}


def test_the_metric_axis_never_runs_past_what_the_metric_can_reach():
    from core import charts

    steps = pd.DataFrame({"step": [1, 2], "epoch": [1, 1], "wall": [0.1, 0.2], "train_loss": [0.7, 0.69], "grad_norm": [1.0, 1.0], "lr": [0.01, 0.01]})
    epochs = pd.DataFrame({"step": [2], "epoch": [1], "wall": [0.2], "train_loss": [0.69], "val_loss": [0.69], "accuracy": [0.53], "r2": [0.2]})
    axis = lambda metric: charts.training_curves([("run 1", steps, epochs, [0.7, 0.69])], metric, metric).to_dict()["layout"]["yaxis2"]  # noqa: E731
    assert axis("accuracy")["autorangeoptions"] == {"clipmin": 0, "clipmax": 1}
    assert axis("r2")["autorangeoptions"] == {"clipmax": 1}
