"""Random numbers for request code: one `torch.Generator` per computation, never the global RNG."""
from __future__ import annotations

import torch


def generator(seed: int) -> torch.Generator:
    """A fresh CPU generator seeded with `seed`; sessions running in parallel threads never share one."""
    return torch.Generator().manual_seed(int(seed))
