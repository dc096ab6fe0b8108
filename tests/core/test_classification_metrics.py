"""The Classification metrics page's math against torchmetrics: the course's per-class and averaged precision,
recall and F1 from the counts, over random and edge-case matrices; the text form; the generated matrices;
and the binary threshold view against torchmetrics' metrics and curves."""
import random

import numpy as np
import plotly.graph_objects as go
import pytest
import torch
from torchmetrics.functional.classification import multiclass_f1_score, multiclass_precision, multiclass_recall

from core import binary_threshold as bt
from core import charts
from core import classification_metrics as cmx


def random_matrix(seed: int) -> cmx.Matrix:
    rng = random.Random(seed)
    k = rng.randint(2, cmx.MAX_CLASSES)
    zero_rate = rng.choice([0.0, 0.3, 0.7])  # many zeros: classes never predicted, or never true
    return tuple(tuple(0 if rng.random() < zero_rate else rng.randint(0, 60) for _ in range(k)) for _ in range(k))


MATRICES = [m for m in (random_matrix(s) for s in range(40)) if sum(map(sum, m))] + [
    ((5, 0, 0), (0, 0, 0), (3, 0, 0)),  # class 1 absent, class 2 never predicted
    ((0, 7), (0, 0)),  # one class only ever predicted
    ((1, 0), (0, 1)),  # perfect
    ((0, 4), (6, 0)),  # always wrong
]


@pytest.mark.parametrize("matrix", MATRICES, ids=lambda m: cmx.format_matrix(m))
def test_formulas_match_torchmetrics_on_the_expanded_predictions(matrix):
    r = cmx.report(matrix)
    assert r.confmat == matrix
    for metric in cmx.METRICS:
        assert np.allclose(r.formula[metric], r.torchmetrics[metric], atol=1e-6)
        for average in cmx.AVERAGES:
            assert r.averages_formula[metric, average] == pytest.approx(r.averages_torchmetrics[metric, average], abs=1e-6)
    for average in cmx.AVERAGES:
        assert all(c.passed for c in cmx.checks(r, average))


@pytest.mark.parametrize("matrix", MATRICES[:10], ids=lambda m: cmx.format_matrix(m))
def test_torchmetrics_agrees_with_itself_on_shuffled_samples(matrix):
    """Guards against an expansion that only works in its own order: shuffle the samples, same numbers."""
    preds, target = cmx.expand(matrix)
    order = torch.randperm(len(preds), generator=torch.Generator().manual_seed(0))
    k = len(matrix)
    r = cmx.report(matrix)
    for fn, metric in [(multiclass_precision, "precision"), (multiclass_recall, "recall"), (multiclass_f1_score, "f1")]:
        assert float(fn(preds[order], target[order], num_classes=k, average="macro")) == pytest.approx(r.averages_formula[metric, "macro"], abs=1e-6)


def test_counts_follow_the_course_layout():
    r = cmx.report(((50, 3, 2), (5, 30, 10), (1, 4, 20)))
    assert r.tp == (50, 30, 20) and r.fp == (6, 7, 12) and r.fn == (5, 15, 5) and r.support == (55, 45, 25)
    assert r.formula["precision"][0] == pytest.approx(50 / 56) and r.formula["recall"][1] == pytest.approx(30 / 45)
    assert r.averages_formula["precision", "micro"] == pytest.approx(100 / 125) == pytest.approx(r.accuracy_formula)


def test_macro_leaves_out_absent_classes_where_the_course_divides_by_k():
    r = cmx.report(((5, 0, 0), (0, 0, 0), (3, 0, 0)))
    assert r.absent == (1,)
    assert r.averages_torchmetrics["precision", "macro"] == pytest.approx((5 / 8 + 0) / 2)
    assert r.macro_course["precision"] == pytest.approx((5 / 8 + 0 + 0) / 3)


def test_a_wrong_formula_fails_its_check():
    r = cmx.report(((50, 3, 2), (5, 30, 10), (1, 4, 20)))
    swapped = cmx.Report(**{**r.__dict__, "formula": {**r.formula, "precision": r.formula["recall"]}})
    assert not next(c for c in cmx.checks(swapped, "macro") if c.what.startswith("precision per class")).passed


@pytest.mark.parametrize("text, expected", [
    ("50,3,2;5,30,10;1,4,20", ((50, 3, 2), (5, 30, 10), (1, 4, 20))),
    (" 1, 2 ; 3 ,4 ", ((1, 2), (3, 4))),
    ("1 2\n3 4", ((1, 2), (3, 4))),
])
def test_text_form_round_trips(text, expected):
    parsed = cmx.parse_matrix(text)
    assert parsed.error is None and parsed.matrix == expected
    assert cmx.parse_matrix(cmx.format_matrix(expected)).matrix == expected


@pytest.mark.parametrize("text, message", [
    ("", "2 to 10 rows"),
    ("1,2", "2 to 10 rows"),
    (";".join(["1"] * 11), "2 to 10 rows"),
    ("1,2;3", "Row 1 has 1 count;"),
    ("1,2,3;4,5,6", "Row 0 has 3 counts"),
    ("1,-2;3,4", "“-2” in row 0 is not a count"),
    ("1.5,2;3,4", "“1.5” in row 0"),
    ("a,b;c,d", "“a” in row 0"),
    ("0,0;0,0", "no samples"),
    ("99999,2;3,4", "up to 100,000"),
    ("１,2;3,4", "is not a count"),  # a full-width digit: isdigit() but not ASCII
])
def test_bad_text_is_refused_with_a_clear_message(text, message):
    parsed = cmx.parse_matrix(text)
    assert parsed.matrix is None and message in parsed.error


def test_grid_edits_land_in_the_right_cells():
    edited = cmx.apply_edits(((1, 2), (3, 4)), {0: {"pred 1": 7}, "1": {"pred 0": None}}, ["pred 0", "pred 1"])
    assert edited == ((1, 7), (0, 4))
    assert cmx.apply_edits(((1, 2), (3, 4)), {1: {"pred 1": -5.0}}, ["pred 0", "pred 1"]) == ((1, 2), (3, 0))


@pytest.mark.parametrize("k", [2, 3, 7, 10])
@pytest.mark.parametrize("accuracy", [0.0, 0.33, 0.8, 1.0])
@pytest.mark.parametrize("imbalance", [1.0, 5.0, 20.0])
def test_generated_matrices_have_the_asked_accuracy_and_imbalance(k, accuracy, imbalance):
    m = cmx.generated_matrix(k, accuracy, imbalance)
    sizes = [sum(row) for row in m]
    assert sum(sizes) == 1000 and sizes == sorted(sizes, reverse=True)
    assert sizes[0] / sizes[-1] == pytest.approx(imbalance, rel=0.05)
    assert cmx.report(m).accuracy_torchmetrics == pytest.approx(accuracy, abs=k / 1000)
    assert max(max(row[j] for j in range(k) if j != i) - min(row[j] for j in range(k) if j != i) for i, row in enumerate(m)) <= 1


# The binary case


def test_bundled_scores_are_seeded_and_overlap():
    s, y = bt.scores(0)
    assert torch.equal(s, bt.scores(0)[0]) and not torch.equal(s, bt.scores(1)[0])
    assert (y == 1).sum() == bt.N_POSITIVE and (y == 0).sum() == bt.N_NEGATIVE
    assert s[y == 0].max() > s[y == 1].min()  # the distributions overlap
    assert 0.8 < bt.view(0.5).auroc < 0.97


@pytest.mark.parametrize("threshold", [0.0, 0.01, 0.2, 0.35, 0.5, 0.64, 0.8, 0.99, 1.0])
def test_threshold_counts_and_rates_match_torchmetrics_and_its_curves(threshold):
    v = bt.view(threshold)
    assert v.tp + v.fn == bt.N_POSITIVE and v.fp + v.tn == bt.N_NEGATIVE
    assert all(c.passed for c in bt.checks(v)), [c for c in bt.checks(v) if not c.passed]
    s, y = bt.scores()
    assert v.tp == int(((s > threshold) & (y == 1)).sum())


def test_every_threshold_on_the_curve_is_the_counting_formula():
    """Each PR-curve point is the precision and recall of predicting score ≥ that threshold."""
    v = bt.view(0.5)
    s, y = bt.scores()
    for i in range(0, len(v.pr_thresholds), 25):
        predicted = s >= float(v.pr_thresholds[i])
        tp = int((predicted & (y == 1)).sum())
        assert v.pr_precision[i] == pytest.approx(tp / int(predicted.sum()), abs=1e-6)
        assert v.pr_recall[i] == pytest.approx(tp / bt.N_POSITIVE, abs=1e-6)


def test_charts_are_valid():
    r = cmx.report(((50, 3, 2), (5, 30, 10), (1, 4, 20)))
    bars = go.Figure(charts.per_class_metrics(r.torchmetrics, {m: r.averages_torchmetrics[m, "weighted"] for m in cmx.METRICS}, "weighted").to_dict())
    assert len(bars.layout.shapes) == 3 and bars.layout.barmode == "group"
    v = bt.view(0.4)
    fig = charts.pr_roc_curves(v.pr_recall, v.pr_precision, v.roc_fpr, v.roc_tpr, (v.precision, v.recall, v.fpr), 0.4, v.auroc, v.average_precision)
    curves = go.Figure(fig.to_dict())
    assert len(curves.data) == 5 and list(fig.data[1].x) == [v.recall] and list(fig.data[4].x) == [v.fpr]
