"""At most a few script runs at a time in one server process.

Sessions run their scripts in threads that share one GIL with the server's event loop, which answers
health checks and moves every websocket message. When a whole class moves sliders at once, dozens of
runnable script threads starve the event loop (seconds per answer on 2 cores) and thrash each other.
A run waits here, asleep and off the GIL, until one of `SLOTS` slots is free; the total work is the same,
done in fewer threads at a time. DLX_RUN_SLOTS sets the number (default: the machine's cores).
"""
from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator

SLOTS = max(1, int(os.environ.get("DLX_RUN_SLOTS", "0")) or (os.cpu_count() or 2))
_slots = threading.BoundedSemaphore(SLOTS)


@contextlib.contextmanager
def slot() -> Iterator[None]:
    """Hold one of the process's run slots for the duration of a script run."""
    _slots.acquire()
    try:
        yield
    finally:
        _slots.release()
