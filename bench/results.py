"""What one `make bench` measured, kept between its scripts in bench/results/last.json for bench/targets.py.

bench/run.py starts the file (its time is the run's start); bench/load.py adds its sections. Each section is
stored with the time it was measured, so a section from an older run is visible as such.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PATH = Path(os.environ.get("DLX_BENCH_RESULTS", ROOT / "bench" / "results" / "last.json"))


def start(machine: str) -> None:
    """A new run: forget the last one's figures."""
    PATH.parent.mkdir(parents=True, exist_ok=True)
    PATH.write_text(json.dumps({"started": time.time(), "machine": machine, "sections": {}}, indent=1))


def load() -> dict[str, Any]:
    if not PATH.exists():
        return {"started": None, "machine": "", "sections": {}}
    return json.loads(PATH.read_text())


def record(section: str, value: Any) -> None:
    """Store one section's figures (plain lists, dicts, numbers and strings)."""
    data = load()
    data["sections"][section] = {"at": time.time(), "value": value}
    PATH.parent.mkdir(parents=True, exist_ok=True)
    tmp = PATH.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1, default=float))
    tmp.replace(PATH)
