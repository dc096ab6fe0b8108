"""The bench's client Chromium (bench/load.py, `client_chromium`) really runs in the idle scheduling class, in an
autogroup of its own at nice 19.

The class and live-training benches measure the server's capacity with Chromium on the same two cores;
they rely on every Chromium thread running as SCHED_IDLE, which Chromium's own nice-value changes do not undo,
and, where the kernel groups the CPU by session (autogroups), on Chromium's session weighing the least."""
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


def _autogroup(pid: int | str) -> str | None:
    """"/autogroup-1714 nice 19"; "" for the root autogroup (processes of init's session, as a CI runner's may be:
    the kernel prints nothing for it); None where the kernel has no autogroups."""
    try:
        return Path(f"/proc/{pid}/autogroup").read_text().strip()
    except OSError:
        return None


def test_client_chromium_threads_are_all_sched_idle():
    from playwright.sync_api import sync_playwright

    from bench.load import client_chromium

    ours = _autogroup("self")
    with sync_playwright() as p:
        idle = p.chromium.launch(executable_path=client_chromium(), args=CHROMIUM_ARGS)
        page = idle.new_page()
        page.set_content("<p>drawn</p>")
        assert page.inner_text("p") == "drawn"
        policies, groups = {}, {}
        for pid in _descendants(os.getpid()):
            try:
                comm = Path(f"/proc/{pid}/comm").read_text()
                if "chrom" not in comm:
                    continue
                if "crashpad" not in comm:  # the crash handler starts a session of its own, at nice 0: it only waits
                    groups[pid] = _autogroup(pid)
                for tid in os.listdir(f"/proc/{pid}/task"):
                    policies[int(tid)] = os.sched_getscheduler(int(tid))
            except (OSError, ProcessLookupError):
                continue
        idle.close()
    assert len(policies) > 5, "found no Chromium threads under this process"
    assert set(policies.values()) == {os.SCHED_IDLE}, policies
    if ours is not None:  # a kernel with autogroups: Chromium in its own, at nice 19; this process's untouched
        assert groups, "found no Chromium process to check"
        assert all(g and g.endswith("nice 19") and g.split()[0] != (ours.split() or ["root"])[0] for g in groups.values()), groups
        assert _autogroup("self") == ours
