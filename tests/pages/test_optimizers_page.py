"""The Optimizers page's own promises: its script reproduces the race (and the fair search), divergence is
shown and stops only that path, a link restores the race, a new surface brings its own start and rates."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from core import optimizers as opt
from tests.pages.harness import snippet_values, open_page
from ui import catalog

PAGE = next(p for p in catalog.topic_pages() if p.url_path == "optimizers")
ALL = ["SGD", "Momentum", "Nesterov", "Adagrad", "RMSprop", "Adam", "AdamW"]
LINK = {"opt_surface": "Noisy quadratic", "opt_optimizers": ALL, "opt_steps": "200", "opt_schedule": "OneCycleLR",
        "opt_noise": "1.5", "opt_seed": "3", "opt_eps": "1e-06", "opt_adam_l2": "true", "opt_weight_decay": "0.1",
        "opt_condition": "40", "opt_start_x": "-3", "opt_start_y": "2.5", "opt_lr_adam": "0.1"}


def parse(output: str) -> dict[str, dict[str, float]]:
    return {name: {k: float(v) for k, v in row.items()} for name, row in snippet_values(output).items()}


def results(at):
    table = next(d.value for d in at.dataframe if "status" in d.value.columns)
    return table.set_index("optimizer")


def run_script(at, tmp_path) -> dict[str, dict[str, float]]:
    script = tmp_path / "optimizers.py"
    script.write_text(at.main.code[0].value)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    return parse(out.stdout)


def same(cell, value, column, rel=1e-9) -> bool:
    """A table cell against a number: to `rel` where the cell is a number, as shown where the page had to
    show text (beyond ±2^53, which Streamlit's number columns refuse)."""
    if isinstance(cell, str):
        return cell == opt.TABLE_FORMATS[column].format(value)
    return cell == pytest.approx(value, rel=rel, abs=1e-12)


def assert_same_race(printed, table):
    assert set(printed) == {name for name, label in opt.LABELS.items() if label in table.index}
    for name, numbers in printed.items():
        row = table.loc[opt.LABELS[name]]
        assert same(row.lr, numbers["lr"], "lr", rel=1e-6)
        for key, column in (("x", "x"), ("y", "y"), ("loss", "final_loss")):
            assert same(row[column], numbers[key], column), (name, key, row[column], numbers[key])
        diverged = row.status.removeprefix("diverged at step ")
        assert numbers.get("diverged_at") == (int(diverged) if diverged != row.status else None), name


def test_code_snippet_runs_and_reproduces_the_race(tmp_path):
    at = open_page(PAGE, LINK)
    assert not at.exception
    table = results(at)
    assert list(table.index) == ALL and (table.status == "finished").all()
    assert_same_race(run_script(at, tmp_path), table)


def test_code_snippet_reproduces_the_fair_race(tmp_path):
    link = {"opt_surface": "Beale", "opt_optimizers": ["SGD", "RMSprop", "Adam"], "opt_steps": "60", "opt_fair": "true"}
    at = open_page(PAGE, link)
    assert not at.exception
    table = results(at)
    assert any("tuned on this surface" in s.value for s in at.subheader)
    assert table.loc["SGD"].lr in opt.SEARCH_GRID and table.loc["SGD"].lr != 0.001  # not the slider's rate
    assert_same_race(run_script(at, tmp_path), table)


def test_a_huge_rate_diverges_and_the_race_goes_on(tmp_path):
    at = open_page(PAGE, {"opt_optimizers": ["SGD", "Momentum", "Adam"], "opt_lr_sgd": "10"})
    assert not at.exception
    table = results(at)
    status = table.loc["SGD"].status
    assert re.fullmatch(r"diverged at step \d+", status)
    assert (table.drop("SGD").status == "finished").all()
    assert any(status in e.value and "SGD" in e.value for e in at.error)
    assert_same_race(run_script(at, tmp_path), table)
    checks = next(d.value for d in at.dataframe if "result" in d.value.columns)
    assert (checks.result == "pass").all()  # the hand rule diverges at the same step


def test_the_link_restores_the_race():
    at = open_page(PAGE, LINK)
    problem = opt.Problem("noisy_quadratic", (-3.0, 2.5), 200, 40.0, 1.5, 3, "onecycle")
    lrs = {"sgd": 0.1, "momentum": 0.02, "nesterov": 0.02, "adagrad": 1.0, "rmsprop": 0.05, "adam": 0.1, "adamw": 0.2}
    hypers = tuple(opt.hyper(n, lrs[n], 0.9, 0.99, 0.9, 0.999, 1e-6, 0.1, True) for n in opt.OPTIMIZERS)
    table = results(at)
    for run in opt.race(problem, hypers):
        x, y, loss = run.final
        row = table.loc[run.hyper.label]
        for column, value in (("x", x), ("y", y), ("final_loss", loss), ("lr", run.hyper.lr)):
            assert same(row[column], value, column, rel=0), (run.hyper.label, column)


def test_the_scrubber_moves_the_markers_and_the_numbers():
    at = open_page(PAGE, {**LINK, "opt_step": "50"})
    table = results(at)
    problem = opt.Problem("noisy_quadratic", (-3.0, 2.5), 200, 40.0, 1.5, 3, "onecycle")
    run = opt.race(problem, (opt.hyper("sgd", 0.1),))[0]
    assert table.loc["SGD"].x == float(run.path[100, 0])
    assert any("step 100:" in latex.value for latex in at.latex)  # the rule's numbers at that step


def test_checks_pass_and_the_differences_with_the_course_are_shown():
    at = open_page(PAGE, LINK)
    checks = next(d.value for d in at.dataframe if "result" in d.value.columns)
    assert len(checks) == 7 + 2 and (checks.result == "pass").all()
    text = " ".join(m.value for m in at.markdown)
    assert "Where the course's formula and PyTorch differ" in text
    for name in ("Momentum", "Adagrad", "RMSprop"):
        assert f"**{name}**" in text
    assert any("decouples the weight decay" in c.value for c in at.caption)


def test_a_new_surface_brings_its_own_start_and_rates():
    at = open_page(PAGE)
    at.slider(key="opt_start_x").set_value(3.0).run()
    at.selectbox(key="opt_surface").set_value("Himmelblau").run()
    assert not at.exception
    assert (at.slider(key="opt_start_x").value, at.slider(key="opt_start_y").value) == (0.0, -1.0)
    assert at.select_slider(key="opt_lr_sgd").value == "0.005"
    at.slider(key="opt_start_x").set_value(1.0).run()  # and a later move sticks
    assert at.slider(key="opt_start_x").value == 1.0 and results(at).loc["SGD"].status == "finished"


def test_nesterov_without_momentum_shows_pytorchs_refusal():
    at = open_page(PAGE, {"opt_optimizers": ["SGD", "Nesterov"], "opt_momentum": "0"})
    assert not at.exception
    assert any("Nesterov momentum requires a momentum" in e.value for e in at.error)
    assert list(results(at).index) == ["SGD"]


def test_no_optimizer_selected_asks_for_one():
    at = open_page(PAGE, {"opt_optimizers": ""})
    assert not at.exception
    assert any("at least one" in i.value for i in at.info)
    assert not at.main.code
