"""ui.gate: at most SLOTS script runs at a time; a run that fails or is interrupted gives its slot back."""
from __future__ import annotations

import threading
import time

import pytest

from ui import gate


def test_no_more_runs_than_slots_at_once_and_every_run_gets_its_turn():
    inside, most, done, lock = 0, 0, [], threading.Lock()

    def run(i: int) -> None:
        nonlocal inside, most
        with gate.slot():
            with lock:
                inside += 1
                most = max(most, inside)
            time.sleep(0.02)
            with lock:
                inside -= 1
        done.append(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4 * gate.SLOTS + 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert most == gate.SLOTS and sorted(done) == list(range(len(threads)))


def test_a_run_that_raises_gives_its_slot_back():
    for _ in range(gate.SLOTS + 2):  # more than the slots: each must have been released
        with pytest.raises(RuntimeError), gate.slot():
            raise RuntimeError("a rerun or stop request unwinds the script like this")
    acquired = [gate._slots.acquire(timeout=1) for _ in range(gate.SLOTS)]
    for ok in acquired:
        if ok:
            gate._slots.release()
    assert all(acquired)
