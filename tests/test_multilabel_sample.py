"""The bundled multi-label sample (sample_data/digits/concepts.csv): what it holds, and every metric
of its report against scikit-learn."""

import importlib.util
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as sk

from evaldash.multilabel_evaluation import evaluate_multilabel
from evaldash.tasks import load_dataset

ROOT = Path(__file__).resolve().parents[1]
CONCEPTS = ROOT / "sample_data" / "digits" / "concepts.csv"
TOL = 1e-12


def _script():
    spec = importlib.util.spec_from_file_location("make_sample_data", ROOT / "scripts" / "make_sample_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_each_digit_carries_exactly_its_concepts_and_its_own_image():
    d = load_dataset(CONCEPTS)
    assert d.task == "multilabel" and d.n == 899
    digits = pd.read_csv(ROOT / "sample_data" / "digits" / "predictions.csv")["label"].to_numpy()
    concepts = _script().CONCEPTS
    for c, name in enumerate(d.classes):
        np.testing.assert_array_equal(d.y_true[:, c], np.isin(digits, sorted(concepts[name])))
    assert not d.y_true[digits == 1].any() and d.y_true[digits == 8].sum(axis=1).min() == 3
    assert all(p is not None and Path(p).name == f"{i}.png" for p, i in zip(d.image_paths, d.ids))
    assert d.is_probability


def test_the_samples_report_equals_sklearn():
    d = load_dataset(CONCEPTS)
    ev = evaluate_multilabel(d)
    y, s = d.y_true, d.scores
    pred = s >= 0.5
    r = ev.report()
    for avg in ("micro", "macro", "weighted", "samples"):
        p, rc, f, _ = sk.precision_recall_fscore_support(y, pred, average=avg, zero_division=0)
        assert r[avg] == pytest.approx({"precision": p, "recall": rc, "f1": f}, abs=TOL)
    assert r["subset_accuracy"] == pytest.approx(sk.accuracy_score(y, pred), abs=TOL)
    assert r["hamming_loss"] == pytest.approx(sk.hamming_loss(y, pred), abs=TOL)
    for avg in ("samples", "macro", "micro"):
        assert r["jaccard"][avg] == pytest.approx(sk.jaccard_score(y, pred, average=avg, zero_division=0), abs=TOL)
    assert r["label_ranking_average_precision"] == pytest.approx(sk.label_ranking_average_precision_score(y, s), abs=TOL)
    assert r["coverage_error"] == pytest.approx(sk.coverage_error(y, s), abs=TOL)
    assert r["label_ranking_loss"] == pytest.approx(sk.label_ranking_loss(y, s), abs=TOL)
    for avg in ("macro", "micro"):
        assert r["roc_auc"][avg] == pytest.approx(sk.roc_auc_score(y, s, average=avg), abs=TOL)
        assert r["average_precision"][avg] == pytest.approx(sk.average_precision_score(y, s, average=avg), abs=1e-10)
    for c, name in enumerate(d.classes):
        assert r["per_class"][name]["roc_auc"] == pytest.approx(sk.roc_auc_score(y[:, c], s[:, c]), abs=TOL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        issues = ev.label_issues()
    assert issues["available"] and set(issues["table"]["concept"]) <= set(d.classes)
