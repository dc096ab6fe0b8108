"""Start-up, a whole class at once, and leaks: the Performance targets that need a real server.

    .venv/bin/python bench/load.py [--sessions 30] [--training 5] [--browsers B] [--leak-reruns 1000]

- start: `make run`'s server start to Home rendered in Chromium, then the first visit of every page in the warm server;
- class: N simultaneous sessions, each opening 3 pages and moving their main slider 4 times, T of them
  training in the Training studio. B of them (default T: the trainers) are Chromium sessions (one Chromium,
  B contexts); the other N - B are light clients (bench/wsclient.py) that speak Streamlit's websocket
  protocol directly: the same page loads, script runs and widget states as a browser, so the same server
  work, without a browser's CPU, which on 2 cores starves the very server it measures. A rerun's time runs
  from the key press (light: the BackMsg) to the rerun's end read from the websocket (bench/wsclient.py's
  RerunEnd), for Chromium then to the page idle. Rerun times (light and Chromium apart and together),
  failures, CPU used by the server and by the clients, server memory, and `/_stcore/health` latency polled
  all along; memory again after the sessions close;
- live: a training run from the Training studio in Chromium against the same run in-process;
- leak: 1000 reruns of one page in one AppTest session, resident memory before and after.
Prints markdown tables; bench/run.py includes them.
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import resource
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import results  # noqa: E402
from bench.wsclient import RerunEnd, light_session  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, free_port, start_server  # noqa: E402
from ui import catalog  # noqa: E402

IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"


def rss_mb(pid: int | str = "self") -> float:
    """Resident memory of a process and its children's threads (VmRSS), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a running process has used, in seconds (/proc/<pid>/stat)."""
    import os

    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def client_chromium() -> str:
    """Chromium for the tests that measure the server's capacity (class, live): in a scheduling group of its own
    at the lowest weight and in the idle scheduling class, so that it runs on the CPU the server leaves free.

    The Chromium sessions stand in for students' own machines, but here they share the server's two cores, and
    five contexts drawing their pages take both cores in bursts of a second or more. Linux's autogroups share
    the CPU fairly between sessions, not threads: Playwright starts Chromium in a session of its own, so it got
    as much CPU as the server's session whatever its threads' class or nice value (Chromium resets those
    itself). The wrapper makes Chromium a session leader if it is not one, sets that session's autogroup to
    nice 19 (/proc/self/autogroup) and starts Chromium with `chrt --idle 0`. Without `chrt`, plain Chromium."""
    import shutil
    import tempfile

    chrt = shutil.which("chrt")
    if chrt is None:
        print("note: no chrt (util-linux): Chromium shares the server's CPU as an equal", file=sys.stderr)
        return CHROMIUM
    wrapper = Path(tempfile.mkdtemp(prefix="dlx-chromium-")) / "chromium"
    wrapper.write_text(f"""#!{sys.executable} -S
import os, sys
try:
    os.setsid()  # fails when Chromium's launcher already made this process a session (or group) leader
except OSError:
    pass
if os.getsid(0) == os.getpid():  # its own autogroup: lowering it touches no one else
    try:
        with open("/proc/self/autogroup", "w") as group:
            group.write("19")
    except OSError:
        pass  # no autogroups in this kernel: the idle class alone
os.execv({chrt!r}, [{chrt!r}, "--idle", "0", {shutil.which(CHROMIUM) or CHROMIUM!r}, *sys.argv[1:]])
""")
    wrapper.chmod(0o755)
    return str(wrapper)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


# ---------------------------------------------------------------- start
def start_times() -> list[tuple[str, float]]:
    """Seconds from `make run`'s server start to Home rendered; then each page's first visit in the warm server."""
    from playwright.sync_api import sync_playwright

    port = free_port()
    rows = []
    server = None
    try:
        with sync_playwright() as p:
            # The visitor's browser is already open: launch it before the clock starts.
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            t0 = time.perf_counter()
            server = subprocess.Popen([sys.executable, "-m", "ui.serve", "--server.port", str(port),
                                       "--server.address", "127.0.0.1", "--server.headless", "true"], cwd=ROOT,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
    return rows


# ---------------------------------------------------------------- a class at once
async def _session(browser, base: str, i: int, pages: list[catalog.PageInfo], trains: bool, log: dict) -> None:
    """One student in Chromium. A move's rerun time runs from the key press to the rerun's end read from the
    page's websocket (RerunEnd, as the light clients read it), then the page idle: the page's script state
    alone says "notRunning" until the server's first answer, so under load it showed idle before the rerun
    had even begun. A press at an end of the range changes nothing, sends nothing, and is not counted."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    end = RerunEnd()

    def frame(payload: bytes | str) -> None:
        if isinstance(payload, bytes):
            msg = ForwardMsg()
            msg.ParseFromString(payload)
            end.feed(msg)

    page.on("websocket", lambda ws: ws.on("framereceived", frame))
    try:
        plan = [p for p in pages if p.main_key]
        visits = [plan[(3 * i + k) % len(plan)] for k in range(3)]
        for info in visits:
            await page.goto(f"{base}/{info.url_path}")
            await page.wait_for_selector(IDLE, timeout=120_000)
            thumb = page.locator(f".st-key-{info.main_key}").get_by_role("slider")
            for move in range(4):
                before = await thumb.input_value()
                done = end.expect()
                t = time.perf_counter()
                await thumb.press("ArrowRight" if move % 2 == 0 else "ArrowLeft")
                if await thumb.input_value() == before:
                    continue
                try:
                    await asyncio.wait_for(done, 120)
                except asyncio.TimeoutError:
                    raise TimeoutError(f"no end of the rerun within 120 s on {info.url_path}") from None
                await page.wait_for_selector(IDLE, timeout=120_000)
                log["reruns"].append(time.perf_counter() - t)
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


def class_at_once(sessions: int, training: int, base: str | None = None, server_pid: int | list[int] | None = None,
                  browsers: int | None = None) -> dict:
    """N sessions at once against one server (or `base`, e.g. a load balancer); figures in a dict.

    Sessions 0..browsers-1 run in Chromium (the first `training` of them train), the others are light
    websocket clients; session i visits the same pages whichever kind it is. `server_pid` may list
    several processes (replicas): their memory is summed."""
    from playwright.async_api import async_playwright

    browsers = training if browsers is None else browsers
    if not 0 <= training <= browsers <= sessions:
        raise ValueError(f"need 0 <= training ({training}) <= browsers ({browsers}) <= sessions ({sessions})")
    proc = None
    if base is None:
        port = free_port()
        proc = start_server(port)
        base, server_pid = f"http://127.0.0.1:{port}", proc.pid
    pids = [server_pid] if isinstance(server_pid, int) else list(server_pid or [])
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
            if pids:
                memory.append(sum(rss_mb(pid) for pid in pids))
            stop.wait(0.5)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    browser_log = {"reruns": [], "failures": [], "trained": 0}
    light_log = {"reruns": [], "failures": [], "unfinished": 0}

    async def run() -> None:
        pages = catalog.topic_pages()
        lights = [light_session(base, i, pages, light_log) for i in range(browsers, sessions)]
        if not browsers:
            await asyncio.gather(*lights)
            return
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=client_chromium(), args=CHROMIUM_ARGS)
            await asyncio.gather(*(_session(browser, base, i, pages, i < training, browser_log) for i in range(browsers)),
                                 *lights)
            await browser.close()

    def cpu(who: int) -> float:
        usage = resource.getrusage(who)
        return usage.ru_utime + usage.ru_stime

    t0, own0, children0 = time.perf_counter(), cpu(resource.RUSAGE_SELF), cpu(resource.RUSAGE_CHILDREN)
    server0 = sum(cpu_seconds(pid) for pid in pids)
    try:
        asyncio.run(run())
        wall = time.perf_counter() - t0
        server_cpu = sum(cpu_seconds(pid) for pid in pids) - server0 if pids else float("nan")
        # the clients' own cost: this process (light clients, Playwright's Python side, the health watcher),
        # and Chromium with Playwright's driver (children that have exited; the server is still running)
        own_cpu, browser_cpu = cpu(resource.RUSAGE_SELF) - own0, cpu(resource.RUSAGE_CHILDREN) - children0
        time.sleep(10)  # sessions closed: their runs stop, caches stay
        after = sum(rss_mb(pid) for pid in pids) if pids else float("nan")
    finally:
        stop.set()
        watcher.join()
        if proc is not None:
            proc.terminate()
    reruns = browser_log["reruns"] + light_log["reruns"]

    def p50(values: list[float]) -> float:
        return statistics.median(values) if values else float("nan")

    return {"sessions": sessions, "training": training, "browsers": browsers, "light": sessions - browsers,
            "trained": browser_log["trained"], "wall": wall,
            "p50": p50(reruns), "p95": pct(reruns, 0.95), "reruns": len(reruns),
            "browser_p50": p50(browser_log["reruns"]), "browser_p95": pct(browser_log["reruns"], 0.95),
            "browser_reruns": len(browser_log["reruns"]),
            "light_p50": p50(light_log["reruns"]), "light_p95": pct(light_log["reruns"], 0.95),
            "light_reruns": len(light_log["reruns"]), "light_unfinished": light_log["unfinished"],
            "failures": browser_log["failures"] + light_log["failures"], "peak_mb": max(memory, default=float("nan")),
            "after_mb": after, "health_max": max(health, default=float("nan")),
            "health_p50": pct(health, 0.5), "health_p95": pct(health, 0.95), "health_over_1s": sum(h > 1 for h in health),
            "health_polls": len(health),
            "own_cpu": own_cpu, "browser_cpu": browser_cpu, "server_cpu": server_cpu}


def class_rows(r: dict) -> str:
    """The sessions, reruns, failures and trainings rows of a class-at-once table (bench/replicas.py prints them too)."""
    return "\n".join([
        f"| sessions in Chromium / light websocket clients | {r['browsers']} / {r['light']} |",
        f"| reruns measured: all / light / Chromium | {r['reruns']} / {r['light_reruns']} / {r['browser_reruns']} |",
        f"| rerun p50 / p95, all (s) | {r['p50']:.2f} / {r['p95']:.2f} |",
        f"| rerun p50 / p95, light clients (s) | {r['light_p50']:.2f} / {r['light_p95']:.2f} |",
        f"| rerun p50 / p95, Chromium (s) | {r['browser_p50']:.2f} / {r['browser_p95']:.2f} |",
        f"| light reruns that ended idle without their script_finished (Chromium calls that idle too) | "
        f"{r['light_unfinished']} |",
        f"| failures | {len(r['failures'])} |",
        f"| trainings finished | {r['trained']} of {r['training']} |",
        f"| CPU (s): server / bench process with the light clients / Chromium and its driver | "
        f"{r['server_cpu']:.0f} / {r['own_cpu']:.0f} / {r['browser_cpu']:.0f} |",
    ])


def health_rows(r: dict) -> str:
    """How fast `/_stcore/health` answered while the class worked (polled every 0.5 s)."""
    return (f"| /_stcore/health answer p50 / p95 / slowest (s) | {r['health_p50']:.2f} / {r['health_p95']:.2f} / {r['health_max']:.2f} |\n"
            f"| health answers over 1 s | {r['health_over_1s']} of {r['health_polls']} |")


# ---------------------------------------------------------------- training with the live page attached
CURVE = """() => { const g = document.querySelector('.js-plotly-plot'); return g && g._fullData
  ? g._fullData.map(t => (t.x || []).length).join(',') : ''; }"""


def live_training(epochs: int = 1, repeats: int = 3) -> dict:
    """The sequence task (LSTM forecaster, the page's defaults) for `epochs`, in-process (engine, evaluation
    and final outputs, 1 thread) against the same run started from the Training studio in Chromium:
    - the engine's own rate, steps per second of its records' wall clock (the metrics CSV the page offers),
      with the page refreshing its curves meanwhile: the issue's "engine with the live page attached";
    - the whole wait, from the click on Train to "(done)", which adds the run's fixed costs;
    - how often the page's curve changed while it trained."""
    import io

    import pandas as pd
    import torch
    from playwright.sync_api import sync_playwright

    from core import tasks, training

    torch.set_num_threads(1)
    settings = tasks.Settings(task="sequence", epochs=epochs, hidden=tasks.DEFAULT_HIDDEN["sequence"])
    port = free_port()
    server = start_server(port)
    alone, attached, rate_alone, rate_attached, refresh = [], [], [], [], []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=client_chromium(), args=CHROMIUM_ARGS)
            for _ in range(repeats):
                t = time.perf_counter()
                prepared = tasks.prepare(settings)
                last_epoch = None
                for record in training.train(**prepared.train_args(), epochs=epochs):
                    last_epoch = record if record.kind == "epoch" else last_epoch
                tasks.final_outputs(prepared), tasks.final_checks(prepared)
                alone.append(time.perf_counter() - t)
                rate_alone.append(last_epoch.step / last_epoch.wall)

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
                    page.wait_for_timeout(100)  # the probe itself runs on the server's two cores: look no more often
                attached.append(time.perf_counter() - t)
                if len(seen) > 2:
                    refresh.append((len(seen) - 1) / (seen[-1] - seen[0]))
                page.wait_for_selector(IDLE, timeout=60_000)
                with page.expect_download() as download:
                    page.locator(".st-key-train_dl_metrics button").click()
                metrics = pd.read_csv(io.StringIO(Path(download.value.path()).read_text()))
                rate_attached.append(float(metrics.step.iloc[-1] / metrics.wall.iloc[-1]))
                page.close()
            browser.close()
    finally:
        server.terminate()
    a, b = statistics.median(alone), statistics.median(attached)
    ra, rb = statistics.median(rate_alone), statistics.median(rate_attached)
    return {"alone": a, "attached": b, "ratio": a / b, "rate_alone": ra, "rate_attached": rb, "rate_ratio": rb / ra,
            "refresh_hz": statistics.median(refresh) if refresh else float("nan")}


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
    parser.add_argument("--browsers", type=int, default=None,
                        help="sessions in Chromium, the first --training of them training; the others are light "
                             "websocket clients (default: as many as --training)")
    parser.add_argument("--leak-reruns", type=int, default=1000)
    parser.add_argument("--live-epochs", type=int, default=10)
    parser.add_argument("--only", choices=("start", "class", "live", "leak"))
    args = parser.parse_args()
    if args.only in (None, "start"):
        rows = start_times()
        results.record("start", rows)
        print("### Start (seconds)\n\n| what | s |\n|---|---:|")
        print("\n".join(f"| {name} | {s:.2f} |" for name, s in rows))
        print()
    if args.only in (None, "class"):
        r = class_at_once(args.sessions, args.training, browsers=args.browsers)
        results.record("class", {**r, "failures": r["failures"][:20]})
        print(f"### {r['sessions']} sessions at once ({r['browsers']} in Chromium, {r['light']} light websocket "
              f"clients), {r['training']} of them training (one server)\n")
        print("| what | value |\n|---|---:|")
        print(class_rows(r))
        print(f"| server memory, peak (MB) | {r['peak_mb']:.0f} |\n| server memory 10 s after the sessions closed (MB) | {r['after_mb']:.0f} |")
        print(f"{health_rows(r)}\n| wall time (s) | {r['wall']:.0f} |")
        for failure in r["failures"][:10]:
            print(f"\n- {failure}")
        print()
    if args.only in (None, "live"):
        r = live_training(args.live_epochs)
        results.record("live", r)
        print(f"### Training with the live page attached (LSTM forecaster, {args.live_epochs} epochs, 1 thread; median of 3)\n")
        print("| what | alone (in-process) | live page attached | ratio |\n|---|---:|---:|---:|")
        print(f"| engine steps per s (records' wall clock) | {r['rate_alone']:.1f} | {r['rate_attached']:.1f} | {r['rate_ratio']:.2f} |")
        print(f"| whole run, s (attached: click on Train to done in Chromium) | {r['alone']:.2f} | {r['attached']:.2f} | {r['ratio']:.2f} |")
        print(f"| curve updates per s while training | | {r['refresh_hz']:.1f} | |\n")
    if args.only in (None, "leak"):
        before, after = leak(args.leak_reruns)
        results.record("leak", {"reruns": args.leak_reruns, "before": before, "after": after})
        print(f"### Leak: {args.leak_reruns} reruns of one page in one session\n")
        print(f"| resident MB before | after | growth |\n|---:|---:|---:|\n| {before:.0f} | {after:.0f} | {after - before:+.0f} |")


if __name__ == "__main__":
    main()
