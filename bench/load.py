"""Start-up, a whole class at once, and leaks: the Performance targets that need a real server.

    .venv/bin/python bench/load.py [--sessions 30] [--training 5] [--leak-reruns 1000]

- start: `make run`'s server start to Home rendered in Chromium, then the first visit of every page in the warm server;
- class: N simultaneous browser sessions (one Chromium, N contexts), each opening 3 pages and moving their
  main slider, T of them training in the Training studio; rerun times, failures, server memory, and
  `/_stcore/health` latency polled all along; memory again after the sessions close;
- live: a training run from the Training studio in Chromium against the same run in-process;
- leak: 1000 reruns of one page in one AppTest session, resident memory before and after.
Prints markdown tables; bench/run.py includes them.
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, free_port, start_server  # noqa: E402
from ui import catalog  # noqa: E402

IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"


def rss_mb(pid: int | str = "self") -> float:
    """Resident memory of a process and its children's threads (VmRSS), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


# ---------------------------------------------------------------- start
def start_times() -> list[tuple[str, float]]:
    """Seconds from `make run`'s server start to Home rendered; then each page's first visit in the warm server."""
    from playwright.sync_api import sync_playwright

    port = free_port()
    rows = []
    t0 = time.perf_counter()
    server = subprocess.Popen([sys.executable, "-m", "ui.serve", "--server.port", str(port),
                               "--server.address", "127.0.0.1", "--server.headless", "true"], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            while True:
                try:
                    page.goto(f"http://127.0.0.1:{port}/", timeout=2000)
                    break
                except Exception:  # noqa: BLE001 - the server is not listening yet
                    time.sleep(0.1)
            page.get_by_role("heading", name="DL Explorer").wait_for(timeout=60_000)
            rows.append(("`make run`'s server start to Home rendered", time.perf_counter() - t0))
            for info in catalog.topic_pages():
                t = time.perf_counter()
                page.goto(f"http://127.0.0.1:{port}/{info.url_path}")
                page.get_by_role("heading", name=info.title).first.wait_for(timeout=60_000)
                page.wait_for_selector(IDLE, timeout=60_000)
                rows.append((f"first visit: {info.title}", time.perf_counter() - t))
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    return rows


# ---------------------------------------------------------------- a class at once
async def _session(browser, base: str, i: int, pages: list[catalog.PageInfo], trains: bool, log: dict) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    try:
        plan = [p for p in pages if p.main_key]
        visits = [plan[(3 * i + k) % len(plan)] for k in range(3)]
        for info in visits:
            await page.goto(f"{base}/{info.url_path}")
            await page.wait_for_selector(IDLE, timeout=120_000)
            thumb = page.locator(f".st-key-{info.main_key}").get_by_role("slider")
            for move in range(4):
                t = time.perf_counter()
                await thumb.press("ArrowRight" if move % 2 == 0 else "ArrowLeft")
                await page.wait_for_timeout(50)
                await page.wait_for_selector(IDLE, timeout=120_000)
                log["reruns"].append(time.perf_counter() - t - 0.05)
            if await page.locator("[data-testid='stException']").count():
                log["failures"].append(f"session {i}: exception on {info.url_path}")
        if trains:
            await page.goto(f"{base}/training?train_epochs=3")
            await page.wait_for_selector(IDLE, timeout=120_000)
            await page.locator(".st-key-train_start button").click()
            await page.get_by_text("(done)").first.wait_for(timeout=300_000)
            log["trained"] += 1
    except Exception as err:  # noqa: BLE001 - every failure is counted and reported
        log["failures"].append(f"session {i}: {type(err).__name__}: {str(err).splitlines()[0][:120]}")
    finally:
        await context.close()


def class_at_once(sessions: int, training: int, base: str | None = None, server_pid: int | None = None) -> dict:
    """N sessions at once against one server (or `base`, e.g. a load balancer); figures in a dict."""
    from playwright.async_api import async_playwright

    proc = None
    if base is None:
        port = free_port()
        proc = start_server(port)
        base, server_pid = f"http://127.0.0.1:{port}", proc.pid
    health, memory, stop = [], [], threading.Event()

    def watch() -> None:
        while not stop.is_set():
            t = time.perf_counter()
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=5):
                    pass
                health.append(time.perf_counter() - t)
            except OSError:
                health.append(float("inf"))
            if server_pid:
                memory.append(rss_mb(server_pid))
            stop.wait(0.5)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    log = {"reruns": [], "failures": [], "trained": 0}

    async def run() -> None:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            pages = catalog.topic_pages()
            await asyncio.gather(*(_session(browser, base, i, pages, i < training, log) for i in range(sessions)))
            await browser.close()

    t0 = time.perf_counter()
    try:
        asyncio.run(run())
        wall = time.perf_counter() - t0
        time.sleep(10)  # sessions closed: their runs stop, caches stay
        after = rss_mb(server_pid) if server_pid else float("nan")
    finally:
        stop.set()
        watcher.join()
        if proc is not None:
            proc.terminate()
    return {"sessions": sessions, "training": training, "trained": log["trained"], "wall": wall,
            "p50": statistics.median(log["reruns"]) if log["reruns"] else float("nan"), "p95": pct(log["reruns"], 0.95),
            "reruns": len(log["reruns"]), "failures": log["failures"], "peak_mb": max(memory, default=float("nan")),
            "after_mb": after, "health_max": max(health, default=float("nan"))}


# ---------------------------------------------------------------- training with the live page attached
CURVE = """() => { const g = document.querySelector('.js-plotly-plot'); return g && g._fullData
  ? g._fullData.map(t => (t.x || []).length).join(',') : ''; }"""


def live_training(epochs: int = 1, repeats: int = 3) -> dict:
    """The sequence task (LSTM forecaster) for `epochs`: in-process (engine, evaluation and final outputs,
    1 thread) against the same run started from the Training studio in Chromium, from the click on Train
    to "(done)"; and how often the page's curve changed while it trained."""
    import torch
    from playwright.sync_api import sync_playwright

    from core import tasks, training

    torch.set_num_threads(1)
    settings = tasks.Settings(task="sequence", epochs=epochs)
    port = free_port()
    server = start_server(port)
    alone, attached, refresh = [], [], []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for _ in range(repeats):
                t = time.perf_counter()
                prepared = tasks.prepare(settings)
                for _record in training.train(**prepared.train_args(), epochs=epochs):
                    pass
                tasks.final_outputs(prepared), tasks.final_checks(prepared)
                alone.append(time.perf_counter() - t)

                page = browser.new_page(viewport={"width": 1440, "height": 1000})
                page.goto(f"http://127.0.0.1:{port}/training?train_task=Electricity+%28sequence+forecast%29&train_epochs={epochs}")
                page.wait_for_selector(IDLE, timeout=60_000)
                t = time.perf_counter()
                page.locator(".st-key-train_start button").click()
                seen, last = [], None
                while not page.get_by_text("(done)").count():
                    now = page.evaluate(CURVE)
                    if now != last:
                        seen.append(time.perf_counter())
                        last = now
                    page.wait_for_timeout(50)
                attached.append(time.perf_counter() - t)
                if len(seen) > 2:
                    refresh.append((len(seen) - 1) / (seen[-1] - seen[0]))
                page.close()
            browser.close()
    finally:
        server.terminate()
    a, b = statistics.median(alone), statistics.median(attached)
    return {"alone": a, "attached": b, "ratio": a / b, "refresh_hz": statistics.median(refresh) if refresh else float("nan")}


# ---------------------------------------------------------------- leaks
def leak(reruns: int, path: str = "softmax") -> tuple[float, float]:
    """Resident MB after 50 warm-up reruns and after `reruns` more of one page, in one AppTest session."""
    from tests.pages.harness import open_page

    info = next(p for p in catalog.topic_pages() if p.url_path == path)
    at = open_page(info)
    slider = at.slider(key=info.main_key)
    lo, hi = slider.min, slider.max
    values = [lo + (hi - lo) * (i % 11) / 10 for i in range(reruns + 50)]

    def move(i: int) -> None:
        at.slider(key=info.main_key).set_value(type(lo)(values[i]) if isinstance(lo, int) else values[i]).run()

    for i in range(50):
        move(i)
    gc.collect()
    before = rss_mb()
    for i in range(50, reruns + 50):
        move(i)
    gc.collect()
    return before, rss_mb()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--training", type=int, default=5)
    parser.add_argument("--leak-reruns", type=int, default=1000)
    parser.add_argument("--live-epochs", type=int, default=10)
    parser.add_argument("--only", choices=("start", "class", "live", "leak"))
    args = parser.parse_args()
    if args.only in (None, "start"):
        rows = start_times()
        print("### Start (seconds)\n\n| what | s |\n|---|---:|")
        print("\n".join(f"| {name} | {s:.2f} |" for name, s in rows))
        print()
    if args.only in (None, "class"):
        r = class_at_once(args.sessions, args.training)
        print(f"### {r['sessions']} sessions at once, {r['training']} of them training (one server)\n")
        print("| what | value |\n|---|---:|")
        print(f"| reruns measured | {r['reruns']} |\n| rerun p50 / p95 (s) | {r['p50']:.2f} / {r['p95']:.2f} |")
        print(f"| failures | {len(r['failures'])} |\n| trainings finished | {r['trained']} of {r['training']} |")
        print(f"| server memory, peak (MB) | {r['peak_mb']:.0f} |\n| server memory 10 s after the sessions closed (MB) | {r['after_mb']:.0f} |")
        print(f"| slowest /_stcore/health answer (s) | {r['health_max']:.2f} |\n| wall time (s) | {r['wall']:.0f} |")
        for failure in r["failures"][:10]:
            print(f"\n- {failure}")
        print()
    if args.only in (None, "live"):
        r = live_training(args.live_epochs)
        print(f"### Training with the live page attached (LSTM forecaster, {args.live_epochs} epochs, 1 thread; median of 3)\n")
        print("| in-process run (s) | from Train to done in Chromium (s) | ratio | curve updates per s |\n|---:|---:|---:|---:|")
        print(f"| {r['alone']:.2f} | {r['attached']:.2f} | {r['ratio']:.2f} | {r['refresh_hz']:.1f} |\n")
    if args.only in (None, "leak"):
        before, after = leak(args.leak_reruns)
        print(f"### Leak: {args.leak_reruns} reruns of one page in one session\n")
        print(f"| resident MB before | after | growth |\n|---:|---:|---:|\n| {before:.0f} | {after:.0f} | {after - before:+.0f} |")


if __name__ == "__main__":
    main()
