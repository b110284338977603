"""The multi-label results object: its report, thresholds, matrix views, cells and label issues."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as sk

from evaldash.errors import InputError
from evaldash.multilabel_data import multilabel_from_frame
from evaldash.multilabel_evaluation import evaluate_multilabel
from evaldash.views import NO_LABEL, NO_PREDICTION

REPORT_KEYS = ["task", "n", "classes", "per_class", "micro", "macro", "weighted", "samples", "subset_accuracy",
               "hamming_loss", "jaccard", "label_ranking_average_precision", "coverage_error", "label_ranking_loss",
               "roc_auc", "average_precision", "label_cardinality", "concept_matrix", "co_occurrence"]
PER_CLASS_KEYS = ["precision", "recall", "f1", "support", "tp", "fp", "fn", "tn", "roc_auc", "average_precision",
                  "threshold"]


def _data(seed=0, n=300, k=5):
    rng = np.random.default_rng(seed)
    y = rng.random((n, k)) < 0.3
    y[:3] = False
    y[:, k - 1] = False  # a class never labelled
    s = np.round(np.clip(0.4 * y + rng.random((n, k)) * 0.6, 0, 1), 2)
    classes = [f"c{i}" for i in range(k)]
    frame = pd.DataFrame({"id": [f"s{i}" for i in range(n)],
                          "labels": ["|".join(c for c, on in zip(classes, row) if on) for row in y]})
    for i, c in enumerate(classes):
        frame[f"score_{c}"] = s[:, i]
    return multilabel_from_frame(frame), y, s


def test_report_has_exactly_the_issues_keys_and_sklearns_values():
    d, y, s = _data()
    ev = evaluate_multilabel(d)
    r = ev.report()
    assert list(r) == REPORT_KEYS
    assert all(list(m) == PER_CLASS_KEYS for m in r["per_class"].values())
    pred = s >= 0.5
    assert r["task"] == "multilabel" and r["n"] == 300 and r["classes"] == list(d.classes)
    assert r["subset_accuracy"] == pytest.approx(sk.accuracy_score(y, pred), abs=1e-12)
    assert r["hamming_loss"] == pytest.approx(sk.hamming_loss(y, pred), abs=1e-12)
    assert r["samples"]["f1"] == pytest.approx(sk.f1_score(y, pred, average="samples", zero_division=0), abs=1e-12)
    assert r["label_ranking_average_precision"] == pytest.approx(sk.label_ranking_average_precision_score(y, s),
                                                                 abs=1e-12)
    assert r["roc_auc"]["micro"] == pytest.approx(sk.roc_auc_score(y, s, average="micro"), abs=1e-12)
    assert r["label_cardinality"] == pytest.approx({"true": y.sum(1).mean(), "predicted": pred.sum(1).mean()})
    assert np.isnan(r["per_class"]["c4"]["roc_auc"]) and r["per_class"]["c0"]["threshold"] == 0.5
    assert r["concept_matrix"] == (y.T.astype(int) @ pred.astype(int)).tolist()
    assert r["co_occurrence"] == (y.T.astype(int) @ y.astype(int)).tolist()
    assert any("'c4' is never labelled" in w for w in ev.warnings())
    assert any("'c4': ROC AUC/average precision undefined (no positive samples)" in w for w in ev.warnings())


def test_thresholds_one_for_all_per_class_and_given_predictions_first():
    d, y, s = _data(1)
    t = np.array([0.3, 0.4, 0.5, 0.6, 0.7])
    ev = evaluate_multilabel(d, thresholds=t)
    np.testing.assert_array_equal(ev.y_pred, s >= t)
    assert ev.report()["per_class"]["c1"]["threshold"] == 0.4
    np.testing.assert_array_equal(evaluate_multilabel(d, threshold=0.2).y_pred, s >= 0.2)
    first = ev.sweep(0)
    moved = ev.with_thresholds(np.full(5, 0.9))
    assert moved.sweep(0) is first  # the sweeps do not depend on the thresholds: computed once
    assert moved.subset_accuracy == pytest.approx(sk.accuracy_score(y, s >= 0.9))
    frame = pd.DataFrame({"labels": ["a", "a|b", ""], "predicted_labels": ["a|b", "", ""],
                          "score_a": [0.9, 0.1, 0.2], "score_b": [0.1, 0.9, 0.8]})
    given = evaluate_multilabel(multilabel_from_frame(frame), threshold=0.5)
    np.testing.assert_array_equal(given.y_pred, [[1, 1], [0, 0], [0, 0]])
    assert given.report()["per_class"]["a"]["threshold"] is None
    with pytest.raises(InputError, match=r"use either --threshold \(one threshold\) or --thresholds"):
        evaluate_multilabel(d, threshold=0.5, thresholds=t)
    with pytest.raises(InputError, match=r"thresholds: expected 5 numbers, one per class"):
        evaluate_multilabel(d, thresholds=[0.5])
    with pytest.raises(InputError, match=r"--threshold must be a finite number, got nan"):
        evaluate_multilabel(d, threshold=float("nan"))


def test_matrix_modes_cells_and_concept_errors():
    d, y, s = _data(2)
    ev = evaluate_multilabel(d)
    k = d.n_classes
    m = ev.matrix("counts")
    assert m.rows[-1] == NO_LABEL and m.columns[-1] == NO_PREDICTION and m.values.shape == (k + 1, k + 1)
    for i in range(k + 1):
        for j in range(k + 1):
            assert ev.cell_samples(i, j).size == m.counts[i, j]
    share = ev.matrix("true")
    assert share.values[0, 0] == pytest.approx(ev.per_class["recall"][0])
    score = ev.matrix("score")
    assert score.values.shape == (k + 1, k) and score.values[0, 1] == pytest.approx(s[y[:, 0], 1].mean())
    fn = ev.concept_errors(0, "fn")
    assert set(fn) == set(np.flatnonzero(y[:, 0] & (s[:, 0] < 0.5)))
    sets = ev.label_sets(fn[:2])
    assert list(sets.columns) == ["id", "true", "predicted"] and "c0" in sets["true"].iloc[0]
    with pytest.raises(InputError, match=r"unknown matrix mode 'pred'; expected counts, true, score"):
        ev.matrix("pred")
    with pytest.raises(InputError, match=r"cell \(9, 0\) is outside the 6 x 6 concept matrix"):
        ev.cell_samples(9, 0)
    with pytest.raises(InputError, match=r"kind 'x': expected 'fp'"):
        ev.concept_errors(0, "x")


def test_live_threshold_and_suggestions_come_from_the_class_sweep():
    d, y, s = _data(3)
    ev = evaluate_multilabel(d)
    live = ev.live_threshold(1, 0.35)
    i = live["index"]
    assert live["grid"][i] == 0.35
    assert live["tp"][i] == int(np.sum(y[:, 1] & (s[:, 1] >= 0.35)))
    assert live["fp"][i] == int(np.sum(~y[:, 1] & (s[:, 1] >= 0.35)))
    sugg = ev.suggestions(1)
    assert set(sugg) == {"max_f1", "max_youden", "target_precision", "target_recall", "min_cost"}
    table = ev.thresholds_table()
    assert list(table.columns) == ["class", "threshold", "precision", "recall", "f1"]


def test_label_issues_name_the_concept_or_say_why_not():
    d, y, s = _data(4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        issues = evaluate_multilabel(d).label_issues()
    if issues["available"]:
        table = issues["table"]
        assert list(table.columns) == ["row", "id", "concept", "issue", "score"]
        assert set(table["issue"]) <= {"missing", "wrong"}
    else:
        assert issues["reason"].startswith("cleanlab could not run")
    frame = pd.DataFrame({"labels": ["a", ""], "score_a": [3.0, -1.0]})
    out = evaluate_multilabel(multilabel_from_frame(frame)).label_issues()
    assert out == {"available": False, "reason": "cleanlab needs probabilities: some scores lie outside [0, 1]"}


def test_predictions_only_file():
    frame = pd.DataFrame({"labels": ["a|b", "", "b"], "predicted_labels": ["a", "b", "b"]})
    ev = evaluate_multilabel(multilabel_from_frame(frame))
    r = ev.report()
    assert np.isnan(r["roc_auc"]["macro"]) and np.isnan(r["label_ranking_average_precision"])
    assert r["subset_accuracy"] == pytest.approx(1 / 3)
    assert ev.matrix_modes == ("counts", "true")
    with pytest.raises(InputError, match=r"threshold metrics need per-class scores; the file has none"):
        ev.sweep(0)
