"""bench/targets.py judges the figures bench/run.py and bench/load.py record: met, or missed by how much."""
from __future__ import annotations

import json

import pytest

from bench import results, targets


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setattr(results, "PATH", tmp_path / "last.json")
    results.start("test machine")
    return results


def verdicts(store) -> dict[str, tuple[str, str]]:
    return {target: (measured, verdict) for target, _, measured, verdict in targets.rows(store.load())}


def test_reruns_are_judged_against_the_floor_of_the_same_run(store):
    store.record("reruns", [("floor (one slider, one chart)", 3.0, 4.0), ("Optimizers (`opt_start_x`)", 51.0, 73.0),
                            ("Softmax (`sm_logit_0`)", 60.5, 70.0)])
    measured, verdict = verdicts(store)["rerun after the main control, median (AppTest), every non-training page"]
    assert measured == "1 of 2 within; slowest Softmax 60 ms"
    assert verdict == "missed by 1 of 2: Softmax +8 ms"


def test_everything_within_its_limit_is_met_and_the_whole_run_is_timed(store):
    store.record("reruns", [("floor (one slider, one chart)", 3.0, 4.0), ("A (`a`)", 40.0, 50.0)])
    store.record("init_at_scale", [("Initialization at depth 50, width 512 (`init_scheme`)", 30.0, 140.0)])
    store.record("engine", [("course CNN: bare loop / engine steps per s, ratio", 15.0, 15.0, 1.0)])
    store.record("browser", [("floor (one slider, one chart)", 60.0, 80.0), ("A (`a`)", 90.0, 200.0)])
    store.record("start", [("`make run`'s server start to Home rendered", 2.1), ("first visit: A", 1.2)])
    store.record("class", {"sessions": 30, "training": 5, "trained": 5, "failures": [], "peak_mb": 970.0, "after_mb": 960.0,
                           "health_max": 0.6, "health_over_1s": 0, "health_polls": 150})
    store.record("live", {"rate_ratio": 0.93, "refresh_hz": 3.1})
    store.record("leak", {"reruns": 1000, "before": 846.0, "after": 848.0})
    rows = targets.rows(store.load())
    assert [verdict for *_, verdict in rows] == ["met"] * len(rows)
    assert rows[-1][0] == "`make bench`"  # all eight sections: the run's length is judged too


def test_misses_say_by_how_much(store):
    store.record("browser", [("floor (one slider, one chart)", 70.0, 92.0), ("Backpropagation (`bp_sample`)", 300.0, 368.0),
                             ("Activations (`act_depth`)", 123.0, 155.0)])
    store.record("start", [("`make run`'s server start to Home rendered", 2.1), ("first visit: Multi-IO", 2.88)])
    store.record("class", {"sessions": 30, "training": 5, "trained": 4, "failures": ["session 3: timeout"], "peak_mb": 2100.0,
                           "after_mb": 900.0, "health_max": 1.52, "health_over_1s": 1, "health_polls": 158})
    store.record("live", {"rate_ratio": 0.85, "refresh_hz": 3.1})
    v = verdicts(store)
    assert v["slider to updated chart in Chromium, median"][1] == \
        "missed by 2 of 2: Backpropagation +200 ms, Activations +23 ms"
    assert v["slider to updated chart in Chromium, p95"][1] == "missed by 1 of 2: Backpropagation +118 ms"
    assert v["each page's first visit in a warm server"][1] == "missed by 1 of 1: Multi-IO +1.38 s"
    assert v["30 sessions at once: failures"] == ("1; 4 of 5 trainings finished", "missed")
    assert v["30 sessions at once: server memory"][1] == "missed by 1 of 1: peak +52 MB"
    assert v["`/_stcore/health` throughout"][1] == "missed by 1 of 1: slowest +0.52 s"
    assert v["engine with the live page attached"][1] == "missed by 1 of 1: ratio 0.85"
    assert "`make bench`" not in v  # only part of a run: its length is not judged


def test_a_new_run_forgets_the_last_and_nan_figures_are_misses(store):
    store.record("leak", {"reruns": 1000, "before": 800.0, "after": float("nan")})
    assert verdicts(store)["1000 reruns of one page: memory growth"][1].startswith("missed")
    store.start("another machine")
    assert json.loads(store.PATH.read_text())["sections"] == {} and targets.rows(store.load()) == []
