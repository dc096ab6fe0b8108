"""A formula's result next to PyTorch's, with the tolerance that decides pass or fail."""
from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    """One comparison shown in a page's "Check against PyTorch" panel."""

    what: str  # what is compared, in words
    formula: float  # the value from the written formula
    pytorch: float  # the value PyTorch computes
    tolerance: float  # the largest |formula − pytorch| that still passes
    error: float | None = None  # |formula − pytorch| when it is not just their difference (a max over a grid)

    @property
    def difference(self) -> float:
        return abs(self.formula - self.pytorch) if self.error is None else self.error

    @property
    def passed(self) -> bool:
        return math.isfinite(self.difference) and self.difference <= self.tolerance
