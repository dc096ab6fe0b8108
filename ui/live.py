"""Live training for a page: a background thread runs `core.training.train` and writes its records into a
locked buffer; the page reads the buffer from an `st.fragment(run_every=...)` and draws it.

The thread never calls `st.*`. It stops when the Stop button sets its event, when its loss stops being
finite, or when its browser session has been gone for `GONE_TIMEOUT` seconds (the tab was closed). It
keeps running while the user looks at another page of the app, so the run is there when they come back.
"""
from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from core import tasks, training

GONE_TIMEOUT = 5.0  # seconds a session may be disconnected (a reload, a flaky network) before its run stops


def _session_alive() -> Callable[[], bool]:
    """A thread-safe test of whether the current browser session is still connected."""
    from streamlit.runtime import Runtime
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    ctx = get_script_run_ctx()
    if ctx is None or not Runtime.exists():
        return lambda: True
    session_id, runtime = ctx.session_id, Runtime.instance()
    return lambda: bool(runtime.is_active_session(session_id))


@dataclass
class Job:
    """One training run and everything the page needs to show it, while it runs and after."""

    settings: tasks.Settings
    name: str
    total_steps: int = 0
    records: list[training.Record] = field(default_factory=list)
    status: str = "running"  # running, done, stopped, diverged, failed
    message: str | None = None
    outputs: dict = field(default_factory=dict)  # tasks.final_outputs once the run ends
    checks: list = field(default_factory=list)  # tasks.final_checks once the run ends
    announced: bool = False  # the page has redrawn itself once after the run ended
    state_dict: bytes = b""  # the trained weights, saved with torch.save
    started: float = field(default_factory=time.time)
    stop_event: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    thread: threading.Thread | None = None
    _tables: tuple = field(default=(-1, None), repr=False)  # (number of records, history tables), see tables()

    def snapshot(self) -> list[training.Record]:
        """The records so far (a copy)."""
        with self.lock:
            return list(self.records)

    def tables(self) -> tuple:
        """`training.history` of the records so far: (per step, per epoch), rebuilt only when records were added,
        so the curves' refresh does not redo finished runs (the engine's thread shares the GIL with it)."""
        with self.lock:
            count = len(self.records)
            if self._tables[0] == count and self._tables[1] is not None:
                return self._tables[1]
            records = list(self.records)
        tables = training.history(records)
        self._tables = (count, tables)
        return tables

    @property
    def running(self) -> bool:
        return self.status == "running"

    def stop(self) -> None:
        self.stop_event.set()


def start(settings: tasks.Settings, name: str, prepare: Callable[[], tasks.Prepared] | None = None) -> Job:
    """Prepare a run and start training it in a daemon thread; returns at once."""
    job = Job(settings, name)
    prepared = (prepare or (lambda: tasks.prepare(settings)))()
    job.total_steps = settings.epochs * len(prepared.train_loader)

    alive, gone_since = _session_alive(), [None]

    def should_stop() -> bool:
        if job.stop_event.is_set():
            return True
        if alive():
            gone_since[0] = None
            return False
        gone_since[0] = gone_since[0] or time.monotonic()
        if time.monotonic() - gone_since[0] > GONE_TIMEOUT:
            job.message = "The browser tab that started this run was closed, so the run stopped."
            return True
        return False

    def work() -> None:
        try:
            for record in training.train(**prepared.train_args(), epochs=settings.epochs, clip=settings.clip or None,
                                         should_stop=should_stop):
                with job.lock:
                    job.records.append(record)
                if record.kind in ("stopped", "diverged"):
                    job.message = record.message
            last = job.records[-1].kind if job.records else "done"
            if last != "diverged":
                job.outputs, job.checks = tasks.final_outputs(prepared), tasks.final_checks(prepared)
            buffer = io.BytesIO()
            torch.save(prepared.model.state_dict(), buffer)
            job.state_dict = buffer.getvalue()
            job.status = last
        except (RuntimeError, ValueError) as err:  # a shape or data problem in the user's settings or upload
            job.message, job.status = f"Training failed: {err}", "failed"

    job.thread = threading.Thread(target=work, name=f"train-{name}", daemon=True)
    job.thread.start()
    return job
