"""The Classification metrics page's view as a standalone PyTorch + torchmetrics script."""
from __future__ import annotations

from core import binary_threshold
from core.classification_metrics import Matrix


def code(matrix: Matrix | None, average: str, threshold: float, seed: int = 0) -> str:
    """A script that expands the matrix into predictions, measures them with torchmetrics, and redoes the
    binary threshold view on the same bundled scores."""
    multiclass = "" if matrix is None else f'''
# 1. The confusion matrix (rows: true class, columns: predicted class), expanded into samples
matrix = torch.tensor({[list(row) for row in matrix]})
K = matrix.shape[0]
cell = torch.repeat_interleave(torch.arange(K * K), matrix.flatten())   # (N,): each sample's cell
preds, target = cell % K, cell // K
print("confmat: equal=" + str(bool((MulticlassConfusionMatrix(num_classes=K)(preds, target) == matrix).all())))

for name, metric in [("precision", MulticlassPrecision), ("recall", MulticlassRecall), ("f1", MulticlassF1Score)]:
    per_class = metric(num_classes=K, average=None)(preds, target)
    line = " ".join(f"c{{k}}={{v:.6f}}" for k, v in enumerate(per_class.tolist()))
    for average in ("macro", "micro", "weighted"):
        line += f" {{average}}={{metric(num_classes=K, average=average)(preds, target).item():.6f}}"
    print(f"{{name}}: {{line}}")
print(f"accuracy: value={{MulticlassAccuracy(num_classes=K, average='micro')(preds, target).item():.6f}}")
print("average shown on the page: {average}")
'''
    return f'''import torch
from torchmetrics.classification import (
    BinaryConfusionMatrix, BinaryF1Score, BinaryPrecision, BinaryRecall,
    MulticlassAccuracy, MulticlassConfusionMatrix, MulticlassF1Score, MulticlassPrecision, MulticlassRecall,
)
from torchmetrics.functional.classification import binary_auroc, binary_average_precision, binary_roc
{multiclass}
# 2. The binary case: {binary_threshold.N_NEGATIVE} negatives and {binary_threshold.N_POSITIVE} positives, scores = sigmoid of
#    N(-{binary_threshold.MEAN}, {binary_threshold.SPREAD}^2) and N(+{binary_threshold.MEAN}, {binary_threshold.SPREAD}^2) logits
g = torch.Generator().manual_seed({seed})
negative = -{binary_threshold.MEAN} + {binary_threshold.SPREAD} * torch.randn({binary_threshold.N_NEGATIVE}, generator=g)
positive = {binary_threshold.MEAN} + {binary_threshold.SPREAD} * torch.randn({binary_threshold.N_POSITIVE}, generator=g)
scores = torch.sigmoid(torch.cat([negative, positive]))
labels = torch.cat([torch.zeros({binary_threshold.N_NEGATIVE}, dtype=torch.int64), torch.ones({binary_threshold.N_POSITIVE}, dtype=torch.int64)])

t = {threshold}                                   # predicted positive when score > t
(tn, fp), (fn, tp) = BinaryConfusionMatrix(threshold=t)(scores, labels).tolist()
print(f"binary: tp={{tp}} fp={{fp}} fn={{fn}} tn={{tn}} "
      f"precision={{BinaryPrecision(threshold=t)(scores, labels).item():.6f}} "
      f"recall={{BinaryRecall(threshold=t)(scores, labels).item():.6f}} "
      f"f1={{BinaryF1Score(threshold=t)(scores, labels).item():.6f}} "
      f"auroc={{binary_auroc(scores, labels).item():.6f}} ap={{binary_average_precision(scores, labels).item():.6f}}")
fpr, tpr, _ = binary_roc(scores, labels)          # the ROC curve's points
'''
