"""Bootstrap intervals and comparisons of multi-label files: each resample is exactly index
resampling of the rows (checked against scikit-learn on the resampled rows)."""

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as sk

from evaldash.multilabel_compare import compare_multilabel, multilabel_intervals, resampled_multilabel
from evaldash.multilabel_data import multilabel_from_frame
from evaldash.multilabel_evaluation import evaluate_multilabel


def _pair(seed=0, n=60, k=4):
    rng = np.random.default_rng(seed)
    y = rng.random((n, k)) < 0.4
    return y, rng.random((n, k)) < 0.4


def test_each_resample_is_index_resampling():
    y, p = _pair()
    n = y.shape[0]
    draws = resampled_multilabel([(y, p)], resamples=25, seed=7)[0]
    idx = np.random.default_rng(7).integers(0, n, size=(25, n))  # the draws of bootstrap.row_counts
    for b in range(25):
        yb, pb = y[idx[b]], p[idx[b]]
        assert draws["subset_accuracy"][b] == pytest.approx(sk.accuracy_score(yb, pb), abs=1e-12)
        assert draws["hamming_loss"][b] == pytest.approx(sk.hamming_loss(yb, pb), abs=1e-12)
        assert draws["samples_f1"][b] == pytest.approx(sk.f1_score(yb, pb, average="samples", zero_division=0),
                                                        abs=1e-12)
        assert draws["macro_f1"][b] == pytest.approx(sk.f1_score(yb, pb, average="macro", zero_division=0), abs=1e-12)
        assert draws["micro_f1"][b] == pytest.approx(sk.f1_score(yb, pb, average="micro", zero_division=0), abs=1e-12)
        np.testing.assert_allclose(draws["precision"][b], sk.precision_score(yb, pb, average=None, zero_division=0),
                                   atol=1e-12)


def _evaluation(y, s, ids=None):
    classes = [f"c{i}" for i in range(y.shape[1])]
    frame = pd.DataFrame({"id": ids if ids is not None else [f"s{i}" for i in range(len(y))],
                          "labels": ["|".join(c for c, on in zip(classes, row) if on) for row in y]})
    for i, c in enumerate(classes):
        frame[f"score_{c}"] = s[:, i]
    return evaluate_multilabel(multilabel_from_frame(frame))


def test_intervals_and_a_paired_comparison():
    rng = np.random.default_rng(1)
    y = rng.random((300, 3)) < 0.4
    weak = np.clip(0.2 * y + rng.random(y.shape) * 0.8, 0, 1)
    strong = np.clip(0.6 * y + rng.random(y.shape) * 0.4, 0, 1)
    a, b = _evaluation(y, weak), _evaluation(y, strong)
    ci = multilabel_intervals(a, resamples=200, seed=3)
    assert ci["samples_f1"][0] <= a.averages["samples"]["f1"] <= ci["samples_f1"][1]
    assert set(ci["per_class"]["c0"]) == {"precision", "recall", "f1", "roc_auc"}
    r = compare_multilabel(a, b, resamples=200, seed=3)
    assert r["paired"] and r["delta"]["samples_f1"] > 0 and r["intervals"]["samples_f1"][0] > 0
    assert r["verdict"].startswith("B is better on samples F1")
    exact_a = ~np.any(y != a.y_pred, axis=1)
    exact_b = ~np.any(y != b.y_pred, axis=1)
    assert r["fixed"] == int(np.sum(~exact_a & exact_b)) and r["broken"] == int(np.sum(exact_a & ~exact_b))
    # B's rows in another order: still paired, aligned by id
    order = rng.permutation(300)
    shuffled = _evaluation(y[order], strong[order], ids=[f"s{i}" for i in order])
    assert compare_multilabel(a, shuffled, resamples=200, seed=3)["delta"] == pytest.approx(r["delta"])
    other = _evaluation(y[:200], strong[:200])
    assert not compare_multilabel(a, other, resamples=50, seed=3)["paired"]
