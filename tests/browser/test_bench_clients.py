"""The bench's client Chromium (bench/load.py, `client_chromium`) really runs in the idle scheduling class.

The class and live-training benches measure the server's capacity with Chromium on the same two cores;
they rely on every Chromium thread running as SCHED_IDLE, which Chromium's own nice-value changes do not undo."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

pytestmark = [
    pytest.mark.skipif(shutil.which("chrt") is None, reason="needs chrt (util-linux)"),
    pytest.mark.skipif(not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)), reason=f"needs Chromium at {CHROMIUM}"),
]


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def test_client_chromium_threads_are_all_sched_idle():
    from playwright.sync_api import sync_playwright

    from bench.load import client_chromium

    with sync_playwright() as p:
        idle = p.chromium.launch(executable_path=client_chromium(), args=CHROMIUM_ARGS)
        page = idle.new_page()
        page.set_content("<p>drawn</p>")
        assert page.inner_text("p") == "drawn"
        policies = {}
        for pid in _descendants(os.getpid()):
            try:
                if "chrom" not in (Path(f"/proc/{pid}/comm").read_text()):
                    continue
                for tid in os.listdir(f"/proc/{pid}/task"):
                    policies[int(tid)] = os.sched_getscheduler(int(tid))
            except (OSError, ProcessLookupError):
                continue
        idle.close()
    assert len(policies) > 5, "found no Chromium threads under this process"
    assert set(policies.values()) == {os.SCHED_IDLE}, policies
