"""The Softmax & cross-entropy page's view as a standalone PyTorch script."""
from __future__ import annotations


def code(z: tuple[float, ...], temperature: float, scale: float, true_class: int) -> str:
    """A script that recomputes the page's probabilities, losses, the float32 overflow and the Jacobian."""
    return f'''import torch
import torch.nn.functional as F

z = torch.tensor({list(z)}, dtype=torch.float64)   # the logits, K = {len(z)}
T = {temperature}                   # temperature
scale = {scale}                     # multiplies every logit
c = {true_class}                    # the true class

u = (z * (scale / T)).float()        # effective logits, float32 like a network's output
probs = torch.softmax(u, dim=0)     # (K,)
print("probs: " + " ".join(f"p{{k}}={{p:.6g}}" for k, p in enumerate(probs.tolist())))

# Cross-entropy three ways (course section 6.1)
formula = (-u[c] + torch.logsumexp(u, dim=0)).item()           # -z_c + log sum_j e^(z_j)
neg_log = (-torch.log(probs[c])).item()                          # -log softmax(z)_c: inf once probs[c] underflows to 0
cross_entropy = F.cross_entropy(u.unsqueeze(0), torch.tensor([c])).item()   # (1, K) logits, (1,) target
print(f"loss: formula={{formula:.6g}} neg_log={{neg_log:.6g}} cross_entropy={{cross_entropy:.6g}}")

# The naive formula in float32: exp overflows beyond u = 88.7, and inf / inf = nan
e = torch.exp(u)
naive = e / e.sum()
print(f"naive: overflow={{torch.isinf(e).any().item()}} nan={{torch.isnan(naive).any().item()}} "
      f"logsumexp_naive={{torch.log(e.sum()).item():.6g}} logsumexp={{torch.logsumexp(u, dim=0).item():.6g}}")

# The softmax Jacobian: s_i (delta_ij - s_j) against autograd, in float64
u64 = u.double()
s = torch.softmax(u64, dim=0)
by_formula = torch.diag(s) - torch.outer(s, s)
by_autograd = torch.autograd.functional.jacobian(lambda v: torch.softmax(v, dim=0), u64)
print(f"jacobian: max_error={{(by_formula - by_autograd).abs().max().item():.3g}}")
'''
