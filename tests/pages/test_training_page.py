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
    assert any(c.value.startswith('"""Training studio run') for c in at.code)
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


def test_bad_upload_gets_a_clear_message():
    at = open_page(PAGE)
    uploader = at.get("file_uploader")[0]
    uploader.set_value(("bad.csv", b"\x00\x01\x02 junk", "text/csv")).run()
    assert not at.exception
    assert any("not a text CSV" in e.value for e in at.error)


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
