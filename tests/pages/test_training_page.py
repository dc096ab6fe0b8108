"""The Training studio in AppTest: a short run trains and shows its results; a diverging run stops with a
message and the page keeps working; runs accumulate for comparison; bad uploads get a clear message."""
from __future__ import annotations

import time

from tests.pages.harness import open_page
from ui import catalog

PAGE = next(p for p in catalog.topic_pages() if p.url_path == "training")


def train(at, timeout: float = 120.0):
    at.button(key="train_start").click().run()
    assert not at.exception, [e.value for e in at.exception]
    job = at.session_state["train_job"]
    deadline = time.time() + timeout
    while job.running and time.time() < deadline:
        time.sleep(0.3)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return job


def test_a_short_run_shows_results_checks_and_downloads():
    at = open_page(PAGE, {"train_epochs": "2", "train_lr": "0.01"})
    job = train(at)
    assert job.status == "done" and sum(r.kind == "epoch" for r in job.records) == 2
    assert any("All" in s.value and "checks pass" in s.value for s in at.success)
    assert any(c.value.startswith('"""Training studio run') for c in at.main.code)
    assert len(at.get("download_button")) >= 5  # model, metrics, settings, script, and the code panel's


def test_a_diverging_run_stops_with_a_message_and_the_page_keeps_working():
    at = open_page(PAGE, {"train_task": tasks_label("sequence"), "train_optimizer": "SGD", "train_lr": "10",
                          "train_epochs": "1"})
    job = train(at)
    assert job.status == "diverged"
    assert any("diverged" in e.value for e in at.error)
    at.selectbox(key="train_lr").set_value(0.001).run()
    job = train(at)
    assert job.status == "done"
    assert len(at.session_state["train_runs"]) == 2  # both runs stay to compare


def test_bce_note_explains_why_a_huge_rate_does_not_diverge():
    at = open_page(PAGE, {"train_lr": "10"})
    assert any("clamps" in c.value for c in at.caption)
    assert any("Adam divides each step" in c.value for c in at.caption)  # and Adam's steps stay about η
    at.selectbox(key="train_optimizer").set_value("SGD").run()
    assert not any("divides each step" in c.value for c in at.caption)


def test_each_task_starts_from_the_course_model_and_its_optimizer_settings_show():
    at = open_page(PAGE)
    assert at.selectbox(key="train_hidden").value == "16"  # Net: 9 -> 16 -> 8 -> 1 (widgets carry the labels)
    at.selectbox(key="train_hidden").set_value("64").run()
    at.selectbox(key="train_task").set_value(tasks_label("image")).run()
    assert at.selectbox(key="train_hidden").value == "32"  # the course's CNN: 32 then 64 channels
    assert "train_hidden" not in at.query_params
    at.selectbox(key="train_task").set_value(tasks_label("sequence")).run()
    assert at.selectbox(key="train_hidden").value == "32"  # LSTMNet(hidden_size=32)
    keys = lambda: {w.key for w in at.sidebar.selectbox}  # noqa: E731
    assert {"train_beta1", "train_beta2", "train_weight_decay"} <= keys() and "train_momentum" not in keys()
    at.selectbox(key="train_optimizer").set_value("SGD + momentum").run()
    assert "train_momentum" in keys() and "train_beta1" not in keys()


def test_a_link_with_the_optimizer_label_of_older_links_still_opens():
    at = open_page(PAGE, {"train_optimizer": "SGD + momentum 0.9", "train_momentum": "0.5"})
    assert not at.exception and not at.warning
    assert at.selectbox(key="train_optimizer").value == "SGD + momentum"
    assert at.selectbox(key="train_momentum").value == "0.5"


def test_bad_uploads_get_a_clear_message_in_the_page():
    from tests.core.test_training import BAD_UPLOADS

    at = open_page(PAGE)
    cases = {**BAD_UPLOADS, "junk": (b"\x00\x01\x02 junk", "not a text CSV"),
             "non-numeric target": (b"x,y\n" + b"".join(b"%d,%s\n" % (i, b"ab"[i % 2:i % 2 + 1]) for i in range(30)), "not numbers"),
             "nan and inf": (b"x,y\n" + b"nan,0\ninf,1\n" + b"".join(b"%d,%d\n" % (i, i % 2) for i in range(30)), "NaN or infinite")}
    for name, (raw, message) in cases.items():
        at.file_uploader(key="train_upload").set_value((f"{name}.csv", raw, "text/csv")).run()
        assert not at.exception, name
        assert any(message in e.value for e in at.error), (name, [e.value for e in at.error])


def tasks_label(task: str) -> str:
    from core import tasks

    return tasks.TASK_LABELS[task]


def test_a_run_whose_tab_was_closed_stops(monkeypatch):
    from core import tasks
    from ui import live

    connected = [True]
    monkeypatch.setattr(live, "_session_alive", lambda: (lambda: connected[0]))
    monkeypatch.setattr(live, "GONE_TIMEOUT", 0.2)
    job = live.start(tasks.Settings(task="image", epochs=50), "run 1")
    time.sleep(1.0)
    assert job.running
    connected[0] = False  # the tab closes
    job.thread.join(timeout=30)
    assert not job.thread.is_alive() and job.status == "stopped"


def test_a_zip_of_pictures_trains_the_cnn_and_a_hostile_zip_gets_a_message():
    from tests.core.test_uploads_images import HOSTILE, flat, make_zip

    at = open_page(PAGE, {"train_task": tasks_label("image"), "train_epochs": "1", "train_hidden": "4", "train_batch_size": "8"})
    at.file_uploader(key="train_upload_zip").set_value(("pets.zip", make_zip(flat(("cat", "dog", "owl"))), "application/zip")).run()
    assert not at.exception
    assert any("3 classes, 12 training and 6 test pictures" in s.value for s in at.success)
    job = train(at)
    assert job.status == "done" and job.outputs["classes"] == ["cat", "dog", "owl"]
    for name in ("path traversal", "zip bomb", "text file inside", "symlink"):
        raw, message = HOSTILE[name]
        at.file_uploader(key="train_upload_zip").set_value((f"{name}.zip", raw, "application/zip")).run()
        assert not at.exception
        assert any(message in e.value for e in at.error), (name, [e.value for e in at.error])


def test_a_run_lost_to_a_server_restart_is_explained_and_never_shared():
    at = open_page(PAGE, {"train_running": "run 3", "train_epochs": "2"})
    assert not at.exception
    assert any("server restarted" in w.value and "run 3" in w.value for w in at.warning)
    assert "train_running" not in at.query_params
    assert "train_running" not in at.sidebar.code[-1].value and "train_epochs=2" in at.sidebar.code[-1].value


def test_training_faults_batch_larger_than_the_data_and_an_empty_training_set():
    import pandas as pd
    import pytest

    from core import tasks, training

    table = pd.DataFrame({"x": range(20), "y": [0, 1] * 10}).astype(float)
    prepared = tasks.prepare(tasks.Settings(task="tabular", batch_size=128, epochs=1), table=table)
    records = list(training.train(**prepared.train_args(), epochs=1))
    assert records[-1].kind == "done" and sum(r.kind == "step" for r in records) == 1  # one short batch
    from torch.utils.data import DataLoader, TensorDataset
    import torch
    empty = DataLoader(TensorDataset(torch.zeros(0, 9), torch.zeros(0)), batch_size=4)
    with pytest.raises(ValueError, match="gives no batch"):
        next(training.train(prepared.model, prepared.loss_fn, prepared.optimizer, empty, None, epochs=1))


def test_two_sessions_train_at_once_and_stop_mid_epoch_independently():
    first = open_page(PAGE, {"train_epochs": "3", "train_lr": "0.01"})
    second = open_page(PAGE, {"train_task": tasks_label("sequence"), "train_epochs": "2"})
    first.button(key="train_start").click().run()
    second.button(key="train_start").click().run()
    a, b = first.session_state["train_job"], second.session_state["train_job"]
    assert a is not b and a.running and b.running
    deadline = time.time() + 60
    while sum(r.kind == "step" for r in b.snapshot()) < 3 and time.time() < deadline:
        time.sleep(0.05)
    second.button(key="train_stop").click().run()  # Stop in the middle of the first epoch of one session only
    while (a.running or b.running) and time.time() < deadline + 120:
        time.sleep(0.2)
    assert b.status == "stopped" and b.records[-1].kind == "stopped" and b.records[-1].epoch == 1
    assert a.status == "done" and sum(r.kind == "epoch" for r in a.records) == 3
    assert a.settings.task == "tabular" and b.settings.task == "sequence"
