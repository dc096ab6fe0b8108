"""Work done once per server process, on the first import from `app.py`, not on a user's click."""
from __future__ import annotations

import gc
import os

import torch

# Threads: a classroom server runs many sessions at once, each in its own thread, and torch releases
# the GIL inside its kernels, so the sessions already share the cores between them. Intra-op threads
# on top of that oversubscribe a small machine (2 cores here) and make everyone's reruns slower, so a
# shared server uses one thread per op. Set DLX_TORCH_THREADS to use more on a one-person machine.
torch.set_num_threads(int(os.environ.get("DLX_TORCH_THREADS", "1")))

# The first optimizer step imports torch._dynamo (about a second); do it now, not on a user's click.
import torch._dynamo  # noqa: E402,F401
import torch.optim  # noqa: E402,F401

import core.activations  # noqa: E402,F401
import core.charts  # noqa: E402,F401

# Streamlit runs gc.collect() after every script run. With torch loaded, a full collection walks
# hundreds of thousands of long-lived objects (140-170 ms holding the GIL). Freezing them once moves
# them out of the collector's sight, so the per-rerun collection only looks at what the run made.
# Measured in bench/README.md (DLX_GC_FREEZE=0 turns it off, for that measurement).
if os.environ.get("DLX_GC_FREEZE", "1") != "0":
    gc.freeze()
