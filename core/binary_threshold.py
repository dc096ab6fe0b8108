"""The binary case of course §6.2: one threshold on a classifier's scores gives a 2×2 confusion matrix, and
every threshold together gives the precision–recall and ROC curves.

The scores are bundled, not trained: 350 negatives and 150 positives, each score the sigmoid of a normal
draw, N(−1, 1.2²) for negatives and N(+1, 1.2²) for positives, from one seeded generator. The two score
distributions overlap, as a real classifier's do.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torchmetrics.classification import BinaryConfusionMatrix, BinaryF1Score, BinaryPrecision, BinaryRecall
from torchmetrics.functional.classification import (
    binary_auroc,
    binary_average_precision,
    binary_precision_recall_curve,
    binary_roc,
)

from core.checks import Check
from core.rng import generator

N_NEGATIVE, N_POSITIVE = 350, 150
MEAN, SPREAD = 1.0, 1.2  # negatives' logits ~ N(−MEAN, SPREAD²), positives' ~ N(+MEAN, SPREAD²)


def scores(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """The bundled scores and labels: negatives first, then positives.

    Returns:
        (scores in (0, 1), float32, shape (500,); labels 0/1, int64, shape (500,)).
    """
    g = generator(seed)
    negative = -MEAN + SPREAD * torch.randn(N_NEGATIVE, generator=g)
    positive = MEAN + SPREAD * torch.randn(N_POSITIVE, generator=g)
    labels = torch.cat([torch.zeros(N_NEGATIVE, dtype=torch.int64), torch.ones(N_POSITIVE, dtype=torch.int64)])
    return torch.sigmoid(torch.cat([negative, positive])), labels


def _safe(num: float, den: float) -> float:
    return num / den if den else 0.0


@dataclass(frozen=True)
class ThresholdView:
    """One threshold on the bundled scores, and the curves over all thresholds."""

    threshold: float
    tp: int  # score > t and positive (torchmetrics predicts positive when score > threshold)
    fp: int
    fn: int
    tn: int
    precision: float  # TP / (TP + FP), 0 when nothing is predicted positive
    recall: float  # TP / (TP + FN), the true-positive rate
    fpr: float  # FP / (FP + TN)
    f1: float  # 2TP / (2TP + FP + FN)
    torchmetrics: dict[str, float]  # BinaryPrecision, BinaryRecall, BinaryF1Score at the threshold
    confmat: tuple[tuple[int, int], tuple[int, int]]  # BinaryConfusionMatrix: [[TN, FP], [FN, TP]]
    pr_precision: np.ndarray  # binary_precision_recall_curve, thresholds ascending, with the final (1, 0) point
    pr_recall: np.ndarray
    pr_thresholds: np.ndarray
    roc_fpr: np.ndarray  # binary_roc, thresholds descending, from (0, 0)
    roc_tpr: np.ndarray
    roc_thresholds: np.ndarray
    auroc: float
    average_precision: float
    curve_point: tuple[float, float, float] | None  # (precision, recall, fpr) read off the curves at the threshold

    @property
    def matrix(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """The course's layout (§6.2): rows actual +, actual −; columns predicted +, predicted −."""
        return (self.tp, self.fn), (self.fp, self.tn)


def view(threshold: float, seed: int = 0) -> ThresholdView:
    """Counts and metrics at `threshold` by formula and by torchmetrics, and both curves."""
    if not 0 <= threshold <= 1:
        raise ValueError("the threshold must be between 0 and 1")
    s, y = scores(seed)
    predicted = s > threshold
    tp = int((predicted & (y == 1)).sum())
    fp = int((predicted & (y == 0)).sum())
    fn = int((~predicted & (y == 1)).sum())
    tn = int((~predicted & (y == 0)).sum())
    with torch.inference_mode():
        tm = {"precision": float(BinaryPrecision(threshold=threshold)(s, y)), "recall": float(BinaryRecall(threshold=threshold)(s, y)),
              "f1": float(BinaryF1Score(threshold=threshold)(s, y))}
        confmat = BinaryConfusionMatrix(threshold=threshold)(s, y)
        precision, recall, pr_t = binary_precision_recall_curve(s, y)
        fpr, tpr, roc_t = binary_roc(s, y)
        auroc, ap = float(binary_auroc(s, y)), float(binary_average_precision(s, y))
    # The curves predict positive when score ≥ τ; at τ = the smallest score above t that is "score > t".
    above = pr_t > threshold
    point = None
    if above.any():
        i = int(torch.nonzero(above)[0])
        j = int(torch.nonzero(roc_t == pr_t[i])[0])
        point = (float(precision[i]), float(recall[i]), float(fpr[j]))
    return ThresholdView(
        threshold=threshold, tp=tp, fp=fp, fn=fn, tn=tn,
        precision=_safe(tp, tp + fp), recall=_safe(tp, tp + fn), fpr=_safe(fp, fp + tn), f1=_safe(2 * tp, 2 * tp + fp + fn),
        torchmetrics=tm, confmat=tuple(tuple(int(c) for c in row) for row in confmat.tolist()),
        pr_precision=precision.numpy(), pr_recall=recall.numpy(), pr_thresholds=pr_t.numpy(),
        roc_fpr=fpr.numpy(), roc_tpr=tpr.numpy(), roc_thresholds=roc_t.numpy(),
        auroc=auroc, average_precision=ap, curve_point=point,
    )


def trapezoid_auc(v: ThresholdView) -> float:
    """Area under the ROC curve by the trapezoid rule over its points."""
    return float(np.trapezoid(v.roc_tpr, v.roc_fpr))


def checks(v: ThresholdView) -> list[Check]:
    """Counts and rates at the threshold by formula vs torchmetrics, the curves at the same point, and the AUROC."""
    tn, fp = v.confmat[0]
    fn, tp = v.confmat[1]
    out = [
        Check("confusion matrix: counted vs BinaryConfusionMatrix (cells that differ)", float(v.tp), float(tp), 0.0,
              error=float((v.tn != tn) + (v.fp != fp) + (v.fn != fn) + (v.tp != tp))),
        Check("precision TP/(TP+FP) vs BinaryPrecision", v.precision, v.torchmetrics["precision"], 1e-6),
        Check("recall TP/(TP+FN) vs BinaryRecall", v.recall, v.torchmetrics["recall"], 1e-6),
        Check("F1 2TP/(2TP+FP+FN) vs BinaryF1Score", v.f1, v.torchmetrics["f1"], 1e-6),
    ]
    if v.curve_point is not None:
        p, r, f = v.curve_point
        out.append(Check("precision–recall curve at the threshold: (precision, recall) vs the counts (max |difference|)",
                         v.precision, p, 1e-6, error=max(abs(v.precision - p), abs(v.recall - r))))
        out.append(Check("ROC curve at the threshold: false-positive rate FP/(FP+TN) vs binary_roc", v.fpr, f, 1e-6))
    out.append(Check("AUROC: trapezoid rule over the ROC points vs binary_auroc", trapezoid_auc(v), v.auroc, 1e-6))
    return out
