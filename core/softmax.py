"""Softmax and cross-entropy (course §6.1): probabilities from logits, three ways to the same loss, what
float32 does to the naive formula, and the softmax Jacobian by formula and by autograd.

The logits the page's sliders set are z; the network's effective logits are u = scale · z / T (T the
temperature). Everything PyTorch shows is computed in float32, its default; the formulas the checks hold
against it are evaluated in float64.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from core.checks import Check

MAX_CLASSES = 10
#: The sliders' starting logits; the first three are the textbook example softmax([2, 1, 0.1]).
DEFAULT_LOGITS: tuple[float, ...] = (2.0, 1.0, 0.1, -1.0, 0.5, -0.5, 1.5, -1.5, 0.0, 3.0)
FLOAT32_EXP_LIMIT = math.log(torch.finfo(torch.float32).max)  # ≈ 88.72: exp(u) = inf in float32 beyond it


@dataclass(frozen=True)
class SoftmaxView:
    """Everything the Softmax page shows for one set of logits."""

    z: np.ndarray  # (K,) the logits as set
    u: np.ndarray  # (K,) effective logits scale·z/T, float32
    true_class: int  # c
    probs: np.ndarray  # (K,) torch.softmax(u), float32
    probs_formula: np.ndarray  # (K,) e^{u_k} / Σ e^{u_j} in float64 (evaluated with the max subtracted)
    ce_formula: float  # −u_c + torch.logsumexp(u), float32
    ce_neg_log: float  # −log(torch.softmax(u)[c]), float32: inf once ŷ_c underflows to 0
    ce_torch: float  # F.cross_entropy(u, c), float32
    ce_formula64: float  # −u_c + m + log Σ e^{u_j − m}, float64
    naive_exp: np.ndarray  # (K,) torch.exp(u) in float32: inf beyond u ≈ 88.7
    naive_probs: np.ndarray  # (K,) exp(u) / Σ exp(u) in float32: nan once the sum is inf
    naive_logsumexp: float  # log(Σ exp(u)) in float32
    logsumexp: float  # torch.logsumexp(u) in float32
    logsumexp64: float  # m + log Σ e^{u−m} in float64
    jacobian_formula: np.ndarray  # (K, K) s_i(δ_ij − s_j), float64
    jacobian_autograd: np.ndarray  # (K, K) torch.autograd.functional.jacobian of torch.softmax, float64

    @property
    def overflow(self) -> bool:
        """True when the naive formula's exp(u) overflows float32."""
        return bool(np.isinf(self.naive_exp).any())

    @property
    def jacobian_error(self) -> float:
        return float(np.abs(self.jacobian_formula - self.jacobian_autograd).max())


def effective_logits(z: tuple[float, ...], temperature: float, scale: float) -> torch.Tensor:
    """u = scale · z / T as float32, shape (K,)."""
    if temperature <= 0:
        raise ValueError("the temperature must be positive")
    return torch.tensor(z, dtype=torch.float64).mul(scale / temperature).to(torch.float32)


def softmax_formula(u: torch.Tensor) -> torch.Tensor:
    """e^{u_k} / Σ_j e^{u_j} in float64, with the max m subtracted first (e^{u_k−m}/Σ e^{u_j−m} is the same number)."""
    u = u.double()
    e = torch.exp(u - u.max())
    return e / e.sum()


def jacobian_formula(s: torch.Tensor) -> torch.Tensor:
    """∂s_i/∂u_j = s_i(δ_ij − s_j) for s = softmax(u): diag(s) − s sᵀ, shape (K, K)."""
    return torch.diag(s) - torch.outer(s, s)


def view(z: tuple[float, ...], temperature: float = 1.0, scale: float = 1.0, true_class: int = 0) -> SoftmaxView:
    """Softmax, cross-entropy, the naive float32 formula and the Jacobian for logits z (2 to 10 of them).

    Args:
        z: K logits. temperature: T > 0. scale: multiplies every logit. true_class: c in 0..K−1.
    """
    if not 2 <= len(z) <= MAX_CLASSES:
        raise ValueError(f"softmax needs 2 to {MAX_CLASSES} logits, got {len(z)}")
    if not 0 <= true_class < len(z):
        raise ValueError(f"the true class must be between 0 and {len(z) - 1}")
    u = effective_logits(z, temperature, scale)  # (K,) float32
    target = torch.tensor([true_class])
    with torch.inference_mode():
        probs = torch.softmax(u, dim=0)
        lse = torch.logsumexp(u, dim=0)
        exp = torch.exp(u)
        naive = exp / exp.sum()
        ce_torch = F.cross_entropy(u.unsqueeze(0), target)  # (1, K) logits, (1,) target
    u64 = u.double()
    m = u64.max()
    lse64 = m + torch.log(torch.exp(u64 - m).sum())
    s64 = softmax_formula(u)
    jac_auto = torch.autograd.functional.jacobian(lambda v: torch.softmax(v, dim=0), u64)
    return SoftmaxView(
        z=np.asarray(z, dtype=np.float64),
        u=u.numpy(),
        true_class=true_class,
        probs=probs.numpy(),
        probs_formula=s64.numpy(),
        ce_formula=float(lse - u[true_class]),
        ce_neg_log=float(-torch.log(probs[true_class])),
        ce_torch=float(ce_torch),
        ce_formula64=float(lse64 - u64[true_class]),
        naive_exp=exp.numpy(),
        naive_probs=naive.numpy(),
        naive_logsumexp=float(torch.log(exp.sum())),
        logsumexp=float(lse),
        logsumexp64=float(lse64),
        jacobian_formula=jacobian_formula(s64).numpy(),
        jacobian_autograd=jac_auto.numpy(),
    )


def loss_tolerance(value: float) -> float:
    """float32 carries about 7 significant digits: allow 1e-5 relative, 1e-6 absolute."""
    return max(1e-6, 1e-5 * abs(value))


def checks(v: SoftmaxView) -> list[Check]:
    """The course's formulas (float64) against PyTorch's float32 results, and the Jacobian against autograd."""
    c = v.true_class
    return [
        Check(f"softmax: e^(u_k)/Σ e^(u_j) vs torch.softmax (ŷ_{c} shown; max |difference| over all {len(v.u)})",
              float(v.probs_formula[c]), float(v.probs[c]), 1e-6, error=float(np.abs(v.probs_formula - v.probs).max())),
        Check("Σ_k ŷ_k = 1 (torch.softmax)", 1.0, float(v.probs.astype(np.float64).sum()), 1e-6),
        Check("cross-entropy: −u_c + log Σ e^(u_j) vs F.cross_entropy", v.ce_formula64, v.ce_torch, loss_tolerance(v.ce_formula64)),
        Check("log Σ e^(u_j): m + log Σ e^(u_j − m) vs torch.logsumexp", v.logsumexp64, v.logsumexp, loss_tolerance(v.logsumexp64)),
        Check(f"Jacobian s_i(δ_ij − s_j) vs autograd (s_{c}(1 − s_{c}) shown; max |difference| over all {len(v.u)}²)",
              float(v.jacobian_formula[c, c]), float(v.jacobian_autograd[c, c]), 1e-12, error=v.jacobian_error),
    ]


def stability_table(v: SoftmaxView) -> pd.DataFrame:
    """Per class: u, exp(u) and the naive softmax in float32 (inf and nan shown as such), and torch.softmax."""
    return pd.DataFrame({
        "class": [str(k) for k in range(len(v.u))],
        "u = scale·z/T": [f"{x:.6g}" for x in v.u],
        "exp(u) (float32)": [f"{x:.6g}" for x in v.naive_exp],
        "exp(u) / Σ exp(u)": [f"{x:.6g}" for x in v.naive_probs],
        "torch.softmax(u)": [f"{x:.6g}" for x in v.probs],
    })
