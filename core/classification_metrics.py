"""Precision, recall and F1 (course §6.2–6.3) from a confusion matrix: per class and macro, micro and
weighted, by the course's formulas and by torchmetrics on predictions that realise the matrix.

A matrix is K×K counts, row = true class, column = predicted class. It comes from a compact text form,
"50,3,2;5,30,10;1,4,20" (rows split by ";", counts by ","), or from an accuracy and a class imbalance.
The binary threshold view (scores, one threshold, PR and ROC curves) lives in core.binary_threshold.
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd
import torch
from torchmetrics.classification import (
    MulticlassAccuracy,
    MulticlassConfusionMatrix,
    MulticlassF1Score,
    MulticlassPrecision,
    MulticlassRecall,
)

from core.checks import Check

MAX_CLASSES = 10
MAX_TOTAL = 100_000  # samples one matrix may hold: each becomes an element of the (preds, target) tensors
MAX_TEXT = 800  # characters of the text form: 10 rows of 10 counts of up to 6 digits fit
DEFAULT_TEXT = "50,3,2;5,30,10;1,4,20"
AVERAGES: tuple[str, ...] = ("macro", "micro", "weighted")
METRICS: tuple[str, ...] = ("precision", "recall", "f1")

Matrix = tuple[tuple[int, ...], ...]


@dataclass(frozen=True)
class Parsed:
    """A matrix read from text, or the reason it could not be."""

    matrix: Matrix | None
    error: str | None


def parse_matrix(text: str) -> Parsed:
    """Read "a,b;c,d" (rows by ";" or new lines, counts by "," or spaces) into a validated K×K matrix."""
    rows = [r for r in re.split(r"[;\n]", text.strip()) if r.strip()]
    if not 2 <= len(rows) <= MAX_CLASSES:
        return Parsed(None, f"A confusion matrix needs 2 to {MAX_CLASSES} rows separated by “;”; this one has {len(rows)}.")
    k, matrix = len(rows), []
    for i, row in enumerate(rows):
        cells = [c for c in re.split(r"[,\s]+", row.strip()) if c]
        if len(cells) != k:
            return Parsed(None, f"Row {i} has {len(cells)} count{'' if len(cells) == 1 else 's'}; a {k}×{k} matrix needs {k} in every row (one per predicted class).")
        for cell in cells:
            if not cell.isdigit() or not cell.isascii():
                return Parsed(None, f"“{cell[:12]}” in row {i} is not a count: use whole numbers 0, 1, 2, …")
        matrix.append(tuple(int(c) for c in cells))
    total = sum(map(sum, matrix))
    if total == 0:
        return Parsed(None, "Every count is 0: there are no samples to measure.")
    if total > MAX_TOTAL:
        return Parsed(None, f"The counts add up to {total:,} samples; this page handles up to {MAX_TOTAL:,}.")
    return Parsed(tuple(matrix), None)


def format_matrix(matrix: Matrix) -> str:
    """The compact text form: rows by ";", counts by ","."""
    return ";".join(",".join(str(int(c)) for c in row) for row in matrix)


def apply_edits(matrix: Matrix, edited_rows: Mapping[int | str, Mapping[str, object]], columns: list[str]) -> Matrix:
    """A matrix with a grid editor's cell edits applied ({row: {column name: value}}); blanks and negatives become 0."""
    out = [list(row) for row in matrix]
    for row, cells in edited_rows.items():
        for column, value in cells.items():
            try:
                count = int(float(value)) if value is not None else 0
            except (TypeError, ValueError):
                count = 0
            out[int(row)][columns.index(column)] = max(0, min(count, MAX_TOTAL))
    return tuple(tuple(r) for r in out)


def class_sizes(k: int, imbalance: float, total: int) -> list[int]:
    """k class sizes falling geometrically from the largest to the smallest, largest/smallest ≈ imbalance, summing to total."""
    weights = [imbalance ** (-i / (k - 1)) for i in range(k)]
    raw = [total * w / sum(weights) for w in weights]
    sizes = [math.floor(r) for r in raw]
    for i in sorted(range(k), key=lambda i: raw[i] - sizes[i], reverse=True)[: total - sum(sizes)]:
        sizes[i] += 1  # largest remainders first, so the sizes add up exactly
    return sizes


def generated_matrix(k: int, accuracy: float, imbalance: float, total: int = 1000) -> Matrix:
    """A K×K matrix with the given accuracy in every class and errors spread evenly over the other classes.

    Class 0 is the largest and class K−1 the smallest, imbalance times smaller. Deterministic: no sampling.
    """
    if not 2 <= k <= MAX_CLASSES or not 0 <= accuracy <= 1 or imbalance < 1:
        raise ValueError("need 2 ≤ K ≤ 10, 0 ≤ accuracy ≤ 1 and imbalance ≥ 1")
    matrix = []
    for i, n in enumerate(class_sizes(k, imbalance, total)):
        correct = round(accuracy * n)
        wrong, others = n - correct, [j for j in range(k) if j != i]
        row = [0] * k
        row[i] = correct
        for r, j in enumerate(others):
            row[j] = wrong // (k - 1) + (1 if r < wrong % (k - 1) else 0)
        matrix.append(tuple(row))
    return tuple(matrix)


def expand(matrix: Matrix) -> tuple[torch.Tensor, torch.Tensor]:
    """Predictions and targets that realise the matrix: M[i][j] samples with target i and prediction j.

    Returns:
        (preds, target), int64 tensors of shape (N,), N = the sum of the counts.
    """
    counts = torch.tensor(matrix, dtype=torch.int64)  # (K, K)
    k = counts.shape[0]
    cell = torch.repeat_interleave(torch.arange(k * k), counts.flatten())  # (N,): the cell of each sample
    return cell % k, cell // k


def _safe(num: float, den: float) -> float:
    """num / den, 0 when den = 0 (torchmetrics' zero_division=0)."""
    return num / den if den else 0.0


@dataclass(frozen=True)
class Report:
    """Per-class counts and metrics, and their averages, by formula and by torchmetrics."""

    matrix: Matrix
    tp: tuple[int, ...]
    fp: tuple[int, ...]  # column sum − TP: predicted k, truly another class
    fn: tuple[int, ...]  # row sum − TP: truly k, predicted another class
    support: tuple[int, ...]  # n_k, the row sums
    formula: dict[str, tuple[float, ...]]  # metric → per-class values by the course's formulas
    torchmetrics: dict[str, tuple[float, ...]]  # metric → per-class values, average=None
    averages_formula: dict[tuple[str, str], float]  # (metric, average) → value by formula (torchmetrics' conventions)
    averages_torchmetrics: dict[tuple[str, str], float]
    macro_course: dict[str, float]  # metric → (1/K) Σ over all K classes, the course's macro
    confmat: Matrix  # MulticlassConfusionMatrix of the expanded predictions: the matrix again
    accuracy_formula: float  # trace / N
    accuracy_torchmetrics: float  # MulticlassAccuracy(average="micro")

    @property
    def k(self) -> int:
        return len(self.matrix)

    @property
    def total(self) -> int:
        return sum(self.support)

    @property
    def absent(self) -> tuple[int, ...]:
        """Classes never true and never predicted (TP + FP + FN = 0): torchmetrics leaves them out of the macro average."""
        return tuple(i for i in range(self.k) if self.tp[i] + self.fp[i] + self.fn[i] == 0)


def report(matrix: Matrix) -> Report:
    """Everything the page shows about one confusion matrix."""
    k = len(matrix)
    tp = tuple(matrix[i][i] for i in range(k))
    support = tuple(sum(matrix[i]) for i in range(k))
    predicted = tuple(sum(matrix[i][j] for i in range(k)) for j in range(k))
    fp = tuple(predicted[j] - tp[j] for j in range(k))
    fn = tuple(support[i] - tp[i] for i in range(k))
    formula = {
        "precision": tuple(_safe(tp[i], tp[i] + fp[i]) for i in range(k)),
        "recall": tuple(_safe(tp[i], tp[i] + fn[i]) for i in range(k)),
        "f1": tuple(_safe(2 * tp[i], 2 * tp[i] + fp[i] + fn[i]) for i in range(k)),
    }
    present = [i for i in range(k) if tp[i] + fp[i] + fn[i] > 0]
    n = sum(support)
    averages = {}
    for metric, values in formula.items():
        averages[metric, "macro"] = sum(values[i] for i in present) / len(present)
        averages[metric, "weighted"] = sum(support[i] / n * values[i] for i in range(k))
    averages["precision", "micro"] = _safe(sum(tp), sum(tp) + sum(fp))
    averages["recall", "micro"] = _safe(sum(tp), sum(tp) + sum(fn))
    averages["f1", "micro"] = _safe(2 * sum(tp), 2 * sum(tp) + sum(fp) + sum(fn))

    preds, target = expand(matrix)
    classes = {"precision": MulticlassPrecision, "recall": MulticlassRecall, "f1": MulticlassF1Score}
    with torch.inference_mode():
        per_class = {m: tuple(cls(num_classes=k, average=None)(preds, target).double().tolist()) for m, cls in classes.items()}
        tm_avg = {(m, a): float(cls(num_classes=k, average=a)(preds, target)) for m, cls in classes.items() for a in AVERAGES}
        confmat = MulticlassConfusionMatrix(num_classes=k)(preds, target)
        accuracy = float(MulticlassAccuracy(num_classes=k, average="micro")(preds, target))
    return Report(
        matrix=matrix, tp=tp, fp=fp, fn=fn, support=support, formula=formula, torchmetrics=per_class,
        averages_formula=averages, averages_torchmetrics=tm_avg,
        macro_course={m: sum(v) / k for m, v in formula.items()},
        confmat=tuple(tuple(int(c) for c in row) for row in confmat.tolist()),
        accuracy_formula=sum(tp) / n, accuracy_torchmetrics=accuracy,
    )


def class_table(r: Report) -> pd.DataFrame:
    """One row per class: n_k, TP, FP, FN and torchmetrics' precision, recall and F1."""
    return pd.DataFrame({
        "class": [str(i) for i in range(r.k)], "n_k": r.support, "TP": r.tp, "FP": r.fp, "FN": r.fn,
        "precision": r.torchmetrics["precision"], "recall": r.torchmetrics["recall"], "F1": r.torchmetrics["f1"],
    })


def average_table(r: Report) -> pd.DataFrame:
    """torchmetrics' macro, micro and weighted averages, one row per metric."""
    return pd.DataFrame({"metric": ["precision", "recall", "F1"],
                         **{a: [r.averages_torchmetrics[m, a] for m in METRICS] for a in AVERAGES}})


def checks(r: Report, average: str) -> list[Check]:
    """The course's formulas with the counts against torchmetrics on the expanded predictions."""
    out = [Check(f"MulticlassConfusionMatrix of the {r.total:,} expanded samples vs the matrix (cells that differ)",
                 float(r.total), float(sum(map(sum, r.confmat))), 0.0,
                 error=float(sum(a != b for ra, rb in zip(r.matrix, r.confmat) for a, b in zip(ra, rb))))]
    for metric, name in zip(METRICS, ("TP/(TP+FP)", "TP/(TP+FN)", "2TP/(2TP+FP+FN)")):
        errors = [abs(a - b) for a, b in zip(r.formula[metric], r.torchmetrics[metric])]
        worst = max(range(r.k), key=errors.__getitem__)
        out.append(Check(f"{metric} per class, {name} vs torchmetrics (class {worst} shown; max |difference| over {r.k})",
                         r.formula[metric][worst], r.torchmetrics[metric][worst], 1e-6, error=max(errors)))
    for metric in METRICS:
        out.append(Check(f"{metric}, {average} average: formula vs torchmetrics average='{average}'",
                         r.averages_formula[metric, average], r.averages_torchmetrics[metric, average], 1e-6))
    out.append(Check("accuracy: trace / N vs MulticlassAccuracy(average='micro')", r.accuracy_formula, r.accuracy_torchmetrics, 1e-6))
    return out


_SYMBOL = {"precision": r"\text{Precision}", "recall": r"\text{Recall}", "f1": r"F_1"}
_ITEM = {"precision": r"\text{Precision}_k", "recall": r"\text{Recall}_k", "f1": r"F_{1,k}"}


def class_latex(r: Report, i: int) -> str:
    """Class i's precision, recall and F1 (§6.2) with its counts substituted, as one LaTeX line."""
    tp, fp, fn = r.tp[i], r.fp[i], r.fn[i]
    p, rc, f = (r.formula[m][i] for m in METRICS)
    return (rf"k={i}:\ \ \text{{P}} = \tfrac{{{tp}}}{{{tp} + {fp}}} = {p:.3f}, \quad "
            rf"\text{{R}} = \tfrac{{{tp}}}{{{tp} + {fn}}} = {rc:.3f}, \quad "
            rf"F_1 = \tfrac{{2 \cdot {tp}}}{{2 \cdot {tp} + {fp} + {fn}}} = {f:.3f}")


def average_latex(r: Report, metric: str, average: str) -> str:
    """The course's `average` of `metric` (§6.3) with this matrix's numbers substituted, as LaTeX."""
    name, value = _SYMBOL[metric], r.averages_formula[metric, average]
    values = r.formula[metric]
    if average == "micro":
        tp = sum(r.tp)
        other = {"precision": sum(r.fp), "recall": sum(r.fn)}
        if metric == "f1":
            return rf"{name}^{{micro}} = \frac{{2 \sum_k TP_k}}{{2 \sum_k TP_k + \sum_k FP_k + \sum_k FN_k}} = \frac{{2 \cdot {tp}}}{{2 \cdot {tp} + {sum(r.fp)} + {sum(r.fn)}}} = {value:.4f}"
        kind = "FP" if metric == "precision" else "FN"
        return rf"{name}^{{micro}} = \frac{{\sum_k TP_k}}{{\sum_k (TP_k + {kind}_k)}} = \frac{{{tp}}}{{{tp} + {other[metric]}}} = {value:.4f}"
    if average == "weighted":
        terms = " + ".join(rf"\tfrac{{{r.support[i]}}}{{{r.total}}} \cdot {values[i]:.3f}" for i in range(r.k))
        return rf"{name}^{{weighted}} = \sum_k \frac{{n_k}}{{N}} {_ITEM[metric]} = {terms} = {value:.4f}"
    present = [i for i in range(r.k) if i not in r.absent]
    terms = " + ".join(f"{values[i]:.3f}" for i in present)
    return rf"{name}^{{macro}} = \frac{{1}}{{{len(present)}}} \sum_k {_ITEM[metric]} = \frac{{{terms}}}{{{len(present)}}} = {value:.4f}"
