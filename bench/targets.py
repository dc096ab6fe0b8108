"""The Performance targets against what the last `make bench` measured (bench/results/last.json): each
target's limit, the figure, and met or by how much it is missed. `make bench` prints it last; why a target
is missed is for bench/README.md, which explains each figure.

    .venv/bin/python bench/targets.py
"""
from __future__ import annotations

import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import results  # noqa: E402

RERUN_MARGIN_MS = 50  # every non-training page within the floor + 50 ms
INIT_SCALE_MS = 150  # Initialization: any control at depth 50, width 512
SLIDER_MEDIAN_MS, SLIDER_P95_MS = 100, 250
HOME_S, FIRST_VISIT_S = 3.0, 1.5
ENGINE_RATIO, LIVE_RATIO, REFRESH_HZ = 0.95, 0.9, 2.0
CLASS_MEMORY_MB, HEALTH_S, LEAK_MB = 2048, 1.0, 50
BENCH_MINUTES = 15


def _over(items: list[tuple[str, float]], limit: float, unit: str, fmt: str = "{:.0f}") -> str:
    """'met' or 'missed by N of M: name +x unit, ...' for (name, value) pairs that must stay at or under limit."""
    over = [(name, value) for name, value in items if not value <= limit]
    if not over:
        return "met"
    worst = sorted(over, key=lambda item: -item[1] if math.isfinite(item[1]) else -math.inf)
    return f"missed by {len(over)} of {len(items)}: " + ", ".join(f"{name} +{fmt.format(v - limit)} {unit}" for name, v in worst)


def _under(items: list[tuple[str, float]], limit: float, fmt: str = "{:.2f}") -> str:
    """The same for values that must stay at or above limit."""
    under = [(name, value) for name, value in items if not value >= limit]
    if not under:
        return "met"
    return f"missed by {len(under)} of {len(items)}: " + ", ".join(f"{name} {fmt.format(v)}" for name, v in under)


def _short(name: str) -> str:
    """'Optimizers (`opt_start_x`)' → 'Optimizers'; 'first visit: Multi-IO' → 'Multi-IO'."""
    return name.split(" (`")[0].split(";")[0].removeprefix("first visit: ")


def rows(data: dict) -> list[tuple[str, str, str, str]]:
    """(target, limit, measured, verdict) for every target with figures in `data` (results.load())."""
    sections = {name: entry["value"] for name, entry in data["sections"].items()}
    out = []
    if "reruns" in sections:
        floor, *pages = sections["reruns"]
        limit = floor[1] + RERUN_MARGIN_MS
        worst = max(pages, key=lambda r: r[1])
        out.append(("rerun after the main control, median (AppTest), every non-training page",
                    f"floor {floor[1]:.0f} + {RERUN_MARGIN_MS} = {limit:.0f} ms",
                    f"{sum(r[1] <= limit for r in pages)} of {len(pages)} within; slowest {_short(worst[0])} {worst[1]:.0f} ms",
                    _over([(_short(r[0]), r[1]) for r in pages], limit, "ms")))
    if "init_at_scale" in sections:
        scale = [(r[0].split("(`")[1].split("`)")[0], r[1], r[2]) for r in sections["init_at_scale"]]
        out.append(("Initialization at depth 50, width 512: every control, median", f"{INIT_SCALE_MS} ms",
                    ", ".join(f"{k} {m:.0f}" for k, m, _ in scale), _over([(k, m) for k, m, _ in scale], INIT_SCALE_MS, "ms")))
        out.append(("Initialization at depth 50, width 512: every control, p95", f"{INIT_SCALE_MS} ms",
                    ", ".join(f"{k} {p:.0f}" for k, _, p in scale), _over([(k, p) for k, _, p in scale], INIT_SCALE_MS, "ms")))
    if "browser" in sections:
        floors = [r for r in sections["browser"] if r[0].startswith("floor")]
        pages = [r for r in sections["browser"] if not r[0].startswith("floor")]
        out.append(("slider to updated chart in Chromium, median", f"{SLIDER_MEDIAN_MS} ms",
                    f"floor {floors[0][1]:.0f} ms; pages {min(r[1] for r in pages):.0f}–{max(r[1] for r in pages):.0f} ms",
                    _over([(_short(r[0]), r[1]) for r in pages], SLIDER_MEDIAN_MS, "ms")))
        out.append(("slider to updated chart in Chromium, p95", f"{SLIDER_P95_MS} ms",
                    f"floor {floors[0][2]:.0f} ms; pages {min(r[2] for r in pages):.0f}–{max(r[2] for r in pages):.0f} ms",
                    _over([(_short(r[0]), r[2]) for r in pages], SLIDER_P95_MS, "ms")))
    if "start" in sections:
        home, *visits = sections["start"]
        out.append(("`make run`'s server start to Home rendered", f"{HOME_S:.0f} s", f"{home[1]:.2f} s",
                    _over([("Home", home[1])], HOME_S, "s", "{:.2f}")))
        out.append(("each page's first visit in a warm server", f"{FIRST_VISIT_S} s",
                    f"{sum(v[1] <= FIRST_VISIT_S for v in visits)} of {len(visits)} within; slowest "
                    f"{max(v[1] for v in visits):.2f} s", _over([(_short(v[0]), v[1]) for v in visits], FIRST_VISIT_S, "s", "{:.2f}")))
    if "engine" in sections:
        engine = [(r[0].split(":")[0], r[3]) for r in sections["engine"]]
        out.append(("training engine against a bare PyTorch loop", f"≥ {ENGINE_RATIO}",
                    ", ".join(f"{n} {v:.2f}" for n, v in engine), _under(engine, ENGINE_RATIO)))
    if "live" in sections:
        live = sections["live"]
        out.append(("engine with the live page attached", f"≥ {LIVE_RATIO}", f"{live['rate_ratio']:.2f}",
                    _under([("ratio", live["rate_ratio"])], LIVE_RATIO)))
        out.append(("curves refresh while training", f"≥ {REFRESH_HZ:.0f} Hz", f"{live['refresh_hz']:.1f} Hz",
                    _under([("refresh", live["refresh_hz"])], REFRESH_HZ, "{:.1f} Hz")))
    if "class" in sections:
        c = sections["class"]
        failures = len(c["failures"]) if isinstance(c["failures"], list) else int(c["failures"])
        out.append((f"{c['sessions']} sessions at once: failures", "0", f"{failures}; {c['trained']} of {c['training']} trainings finished",
                    "met" if failures == 0 and c["trained"] == c["training"] else "missed"))
        out.append((f"{c['sessions']} sessions at once: server memory", f"{CLASS_MEMORY_MB} MB",
                    f"peak {c['peak_mb']:.0f} MB, {c['after_mb']:.0f} MB after", _over([("peak", c["peak_mb"])], CLASS_MEMORY_MB, "MB")))
        out.append(("`/_stcore/health` throughout", f"{HEALTH_S:.0f} s",
                    f"slowest {c['health_max']:.2f} s; {c['health_over_1s']} of {c['health_polls']} polls over 1 s",
                    _over([("slowest", c["health_max"])], HEALTH_S, "s", "{:.2f}")))
    if "leak" in sections:
        leak = sections["leak"]
        growth = leak["after"] - leak["before"]
        out.append((f"{leak['reruns']} reruns of one page: memory growth", f"{LEAK_MB} MB", f"{growth:+.0f} MB",
                    _over([("growth", growth)], LEAK_MB, "MB")))
    if data.get("started") and len(sections) >= 8:  # a whole `make bench`
        minutes = (max(entry["at"] for entry in data["sections"].values()) - data["started"]) / 60
        out.append(("`make bench`", f"{BENCH_MINUTES} min", f"{minutes:.1f} min", _over([("make bench", minutes)], BENCH_MINUTES, "min", "{:.1f}")))
    return out


def main() -> None:
    data = results.load()
    if not data["sections"]:
        sys.exit(f"no figures in {results.PATH}: run `make bench` first")
    started = time.strftime("%Y-%m-%d %H:%M", time.localtime(data["started"])) if data["started"] else "?"
    print(f"### Targets (run started {started}, {data['machine']})\n")
    print("| target | limit | measured | verdict |\n|---|---|---|---|")
    for target, limit, measured, verdict in rows(data):
        print(f"| {target} | {limit} | {measured} | {verdict} |")


if __name__ == "__main__":
    main()
