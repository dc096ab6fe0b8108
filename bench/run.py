"""Benchmarks: server time of a rerun per page (AppTest) and slider-to-chart time in Chromium, each
beside the floor (one slider, one chart) measured in the same run. Prints a markdown table.

    make bench            # or: .venv/bin/python bench/run.py [--repeats 20] [--skip-browser]
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from streamlit.testing.v1 import AppTest  # noqa: E402

from bench import results  # noqa: E402
from tests.pages.harness import keyed_widgets, open_page  # noqa: E402
from ui import catalog  # noqa: E402


def _values(widget, repeats: int) -> list:
    """`repeats` values across a control's range (sliders, number inputs) or options (choices)."""
    if widget.type in ("slider", "number_input"):
        lo, hi = widget.min, widget.max
        span = [lo + (hi - lo) * i / (repeats - 1) for i in range(repeats)]
        step = widget.step or 1
        return [int(round(v)) if isinstance(lo, int) else round(lo + round((v - lo) / step) * step, 10) for v in span]
    if widget.type in ("toggle", "checkbox"):
        return [i % 2 == 0 for i in range(1, repeats + 1)]
    options = list(widget.options)
    return [options[i % len(options)] for i in range(1, repeats + 1)]


def _widget(at: AppTest, key: str):
    return next(w for w in keyed_widgets(at) if w.key == key)


def rerun_times(at: AppTest, key: str, repeats: int, left_out: Callable[[AppTest], bool] | None = None,
                count: list[int] | None = None) -> list[float]:
    """Milliseconds per AppTest rerun after moving the control `key` through its range. A rerun for which
    `left_out(at)` is true is not timed, and counted in `count[0]`."""
    times = []
    for value in _values(_widget(at, key), repeats):
        _widget(at, key).set_value(value)
        t0 = time.perf_counter()
        at.run()
        elapsed = (time.perf_counter() - t0) * 1000
        assert not at.exception, at.exception
        if left_out is not None and left_out(at):
            if count is not None:
                count[0] += 1
            continue
        times.append(elapsed)
    return times


def server_reruns(repeats: int) -> list[tuple[str, float, float]]:
    floor = AppTest.from_file(str(ROOT / "bench" / "floor_app.py"), default_timeout=60).run()
    rows = [("floor (one slider, one chart)", *summary(rerun_times(floor, "floor_n", repeats)))]
    for info in catalog.topic_pages():
        if not info.main_key:
            continue
        at = open_page(info).run()  # a second run does what a page's timer does after load (Initialization trains)
        rows.append((f"{info.title} (`{info.main_key}`)", *summary(rerun_times(at, info.main_key, repeats))))
    return rows


INIT_AT_SCALE = {"init_depth": "50", "init_width": "512"}
INIT_CONTROLS = ("init_activation", "init_scheme", "init_batchnorm", "init_layer")


def init_at_scale(repeats: int) -> list[tuple[str, float, float]]:
    """The Initialization page's own target: every control re-renders within 150 ms at depth 50, width 512.
    (The training comparison's schemes, `init_compare`, train on request and are not a re-render.)"""
    info = next(p for p in catalog.topic_pages() if p.url_path == "initialization")
    rows = []
    for key in INIT_CONTROLS:
        at = open_page(info, INIT_AT_SCALE).run()  # the training comparison trains here, as after the page's timer
        trained = [0]
        times = rerun_times(at, key, repeats, left_out=_trained_comparison(), count=trained)
        name = f"Initialization at depth 50, width 512 (`{key}`)"
        if trained[0]:
            name += (f"; {trained[0]} of {repeats} reruns also trained the comparison (in the browser the page's "
                     "timer does that after the page is drawn) and are left out")
        rows.append((name, *summary(times)))
    return rows


def _trained_comparison() -> Callable[[AppTest], bool]:
    """True for a rerun in which the Initialization page trained comparison runs: AppTest runs the page's timer
    fragment inside the rerun, where the browser runs it after the page is drawn."""
    seen = [None]

    def trained(at: AppTest) -> bool:
        done = len(at.session_state["init_trained"]) if "init_trained" in at.session_state else 0
        grew = seen[0] is not None and done > seen[0]
        seen[0] = done
        return grew

    return trained


def summary(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


FINGERPRINT = """() => { const sum = a => { let v = 0; if (!a) return 0;
    for (const e of a) { if (Array.isArray(e) || ArrayBuffer.isView(e)) v += sum(e); else if (typeof e === 'number' && isFinite(e)) v += e; }
    return v; };
  return Array.from(document.querySelectorAll('.js-plotly-plot')).map(g => (g._fullData || [])
    .map(t => (t.x ? t.x.length : 0) + ':' + sum(t.y).toPrecision(12) + ':' + sum(t.z).toPrecision(12)).join(',')
    + ';' + sum(((g.layout || {}).shapes || []).map(h => [h.x0, h.x1, h.y0, h.y1]).flat().filter(v => typeof v === 'number')).toPrecision(12)
    + ';' + ((g.layout || {}).annotations || []).map(a => a.text).join('/')).join('|'); }"""


def browser_slider_to_chart(url: str, key: str, repeats: int, unchanged: list[int] | None = None) -> list[float]:
    """Milliseconds from a key press on the slider to the chart showing new data, in Chromium. Moves that
    change no chart's data are left out and counted in `unchanged[0]`."""
    unchanged = unchanged if unchanged is not None else [0]
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, wait_idle

    times = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        page.goto(url)
        wait_idle(page)
        thumb = page.locator(f".st-key-{key}").get_by_role("slider")
        for i in range(repeats + 2):  # two warm-up moves
            before = page.evaluate(FINGERPRINT)
            key = "ArrowRight" if (i // 4) % 2 == 0 else "ArrowLeft"
            t0 = time.perf_counter()
            thumb.press(key)
            try:
                page.wait_for_function(f"before => ({FINGERPRINT})() !== before", arg=before, timeout=10_000)
            except PlaywrightTimeout:  # this move changed no chart's data: nothing to time, left out and counted
                wait_idle(page)
                unchanged[0] += i >= 2
                continue
            elapsed = (time.perf_counter() - t0) * 1000
            wait_idle(page)
            if i >= 2:
                times.append(elapsed)
        browser.close()
    return times


def browser_rows(repeats: int, gc_compare: bool = False) -> list[tuple[str, float, float]]:
    from tests.browser.conftest import free_port, start_server

    rows = []
    port = free_port()
    floor = start_server(port, script=str(ROOT / "bench" / "floor_app.py"))
    try:
        rows.append(("floor (one slider, one chart)", *summary(browser_slider_to_chart(f"http://127.0.0.1:{port}/", "floor_n", repeats))))
        for k in (3, 6):  # what each further chart redrawn on a move costs
            rows.append((f"floor with {k} charts, all redrawn on a move",
                         *summary(browser_slider_to_chart(f"http://127.0.0.1:{port}/?charts={k}", "floor_n", repeats))))
    finally:
        floor.terminate()
    for freeze in ("1", "0") if gc_compare else ("1",):
        port = free_port()
        server = start_server(port, env={"DLX_GC_FREEZE": freeze})
        try:
            for info in catalog.topic_pages():
                if not info.main_key:
                    continue
                name = f"{info.title} (`{info.main_key}`)" + ("" if freeze == "1" else ", without gc.freeze()")
                unchanged = [0]
                times = browser_slider_to_chart(f"http://127.0.0.1:{port}/{info.url_path}", info.main_key, repeats, unchanged)
                if unchanged[0]:
                    name += f"; {unchanged[0]} of {repeats} moves changed no chart and are left out"
                rows.append((name, *(summary(times) if times else (float("nan"), float("nan")))))
        finally:
            server.terminate()
    return rows


def _bare_loop(prepared, steps: int) -> float:
    """Seconds for `steps` steps of a bare 10-line PyTorch loop on the same model, data and batch size."""
    model, opt, loss_fn = prepared.model, prepared.optimizer, prepared.loss_fn
    model.train()
    t0, n = time.perf_counter(), 0
    while n < steps:
        for x, y in prepared.train_loader:
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            n += 1
            if n == steps:
                break
    return time.perf_counter() - t0


def _engine(prepared, steps: int) -> float:
    from core import training

    t0 = time.perf_counter()
    for record in training.train(**{**prepared.train_args(), "evaluate": None}, epochs=10**6):
        if record.step >= steps:
            break
    return time.perf_counter() - t0


def training_rows(repeats: int = 5) -> list[tuple[str, float, float]]:
    """Engine steps/s against the bare loop, interleaved, median over repeats (higher ratio is better)."""
    import torch

    from core import tasks

    torch.set_num_threads(1)
    rows = []
    for task, steps in (("image", 20), ("sequence", 60)):
        settings = tasks.Settings(task=task, hidden=32, batch_size=32)
        bare, engine = [], []
        for _ in range(repeats):
            bare.append(steps / _bare_loop(tasks.prepare(settings), steps))
            engine.append(steps / _engine(tasks.prepare(settings), steps))
        b, e = statistics.median(bare), statistics.median(engine)
        label = {"image": "course CNN, 32/64 channels", "sequence": "LSTM forecaster, hidden 32, 2 layers, L = 96"}[task]
        rows.append((f"{label}: bare loop / engine steps per s, ratio", b, e, e / b))
    return rows


def table(title: str, rows: list[tuple[str, float, float]]) -> str:
    lines = [f"### {title}", "", "| what | median ms | p95 ms |", "|---|---:|---:|"]
    lines += [f"| {name} | {med:.0f} | {p95:.0f} |" for name, med, p95 in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--skip-browser", action="store_true")
    parser.add_argument("--gc-compare", action="store_true", help="also measure the browser with gc.freeze() off")
    args = parser.parse_args()
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    results.start(machine)
    print(f"## Run of {date.today()} on {machine}\n")
    reruns, scale = server_reruns(args.repeats), init_at_scale(args.repeats)
    results.record("reruns", reruns)
    results.record("init_at_scale", scale)
    print(table("Server time of a rerun after moving the main slider (AppTest)", reruns + scale))
    print()
    print("### Training engine against a bare PyTorch loop (same model, data, batch size 32; 1 thread)")
    print()
    print("| what | bare steps/s | engine steps/s | ratio |")
    print("|---|---:|---:|---:|")
    engine = training_rows()
    results.record("engine", engine)
    for name, b, e, r in engine:
        print(f"| {name} | {b:.1f} | {e:.1f} | {r:.2f} |")
    if not args.skip_browser:
        print()
        browser = browser_rows(args.repeats, args.gc_compare)
        results.record("browser", browser)
        print(table("Slider to updated chart in headless Chromium", browser))


if __name__ == "__main__":
    main()
