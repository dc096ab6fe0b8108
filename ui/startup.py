"""Work done once per server process, not on a user's click: torch threads, heavy imports, gc.freeze.

It runs in a background thread, started when the server starts (`python -m ui.serve`) or, under plain
`streamlit run`, by app.py's first run. Home and the sidebar need none of it, so Home is drawn while
torch loads; a topic page waits for it (`wait()`) before it runs.
"""
from __future__ import annotations

import gc
import importlib
import os
import pkgutil
import threading

LAZY_IMPORTS = ("torchvision.datasets", "torchvision.transforms", "PIL.Image")  # imported inside core's functions
_done = threading.Event()
_lock = threading.Lock()
_thread: threading.Thread | None = None
_error: BaseException | None = None


def _warm_up() -> None:
    global _error
    try:
        # What Home imports too, first, so that Home's first run finds it loaded instead of importing the
        # same packages at the same time from another thread.
        import pandas  # noqa: F401
        import plotly.graph_objects  # noqa: F401
        import torch

        # Threads: a classroom server runs many sessions at once, each in its own thread, and torch
        # releases the GIL inside its kernels, so the sessions already share the cores between them.
        # Intra-op threads on top of that oversubscribe a small machine (2 cores here) and make everyone's
        # reruns slower, so a shared server uses one thread per op. DLX_TORCH_THREADS=n uses more on a
        # one-person machine.
        torch.set_num_threads(int(os.environ.get("DLX_TORCH_THREADS", "1")))

        # The first optimizer step imports torch._dynamo (about a second); do it now, not on a user's click.
        import torch._dynamo  # noqa: F401
        import torch.optim  # noqa: F401

        # Every core module, and the packages core imports inside functions, before any topic page runs:
        # two sessions importing the same package for the first time at once can break it for good. Two
        # threads importing torchmetrics.classification and torchmetrics.regression together fail with
        # "partially initialized module" every time (torchmetrics' circular imports), and the process is left
        # with a torchmetrics that has no `classification`: every later training fails until a restart.
        import core
        from core import charts

        for module in pkgutil.walk_packages(core.__path__, "core."):
            importlib.import_module(module.name)
        for name in LAZY_IMPORTS:
            importlib.import_module(name)
        charts.__all__  # noqa: B018 - loads every figure builder (core/charts/__init__.py)

        # Streamlit runs gc.collect() after every script run. With torch loaded, a full collection walks
        # hundreds of thousands of long-lived objects (140-170 ms holding the GIL). Freezing them once
        # moves them out of the collector's sight, so the per-rerun collection only looks at what the
        # run made. Measured in bench/README.md (DLX_GC_FREEZE=0 turns it off, for that measurement).
        if os.environ.get("DLX_GC_FREEZE", "1") != "0":
            gc.freeze()
    except BaseException as err:  # noqa: BLE001 - re-raised in the page that waits for it
        _error = err
    finally:
        _done.set()


def begin() -> None:
    """Start the warm-up once per process (later calls do nothing)."""
    global _thread
    with _lock:
        if _thread is None:
            _thread = threading.Thread(target=_warm_up, name="dlx-warm-up", daemon=True)
            _thread.start()


def wait() -> None:
    """Block until the warm-up has finished (at once after the first few seconds of a server's life)."""
    begin()
    _done.wait()
    if _error is not None:
        raise RuntimeError("the app's start-up imports failed") from _error
