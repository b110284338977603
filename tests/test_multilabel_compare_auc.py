"""The macro ROC AUC delta of ``compare`` on two multi-label files and its 95% interval: the
single-label compare's resampling (paired when the ids match), against a same-seed loop of
row resamples scored by scikit-learn."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from evaldash.cli import main
from evaldash.multilabel_compare import compare_multilabel
from evaldash.multilabel_evaluation import evaluate_multilabel
from evaldash.tasks import load_dataset

CLASSES = ["bouquet", "bride", "cake", "outdoor", "veil"]  # sorted: the file's class order


def _write(path, y, s, ids):
    frame = pd.DataFrame({"id": ids, "labels": ["|".join(c for c, on in zip(CLASSES, row) if on) for row in y]})
    for i, c in enumerate(CLASSES):
        frame[f"score_{c}"] = s[:, i]
    frame.to_csv(path, index=False)


def _problem(n=160, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.random((n, len(CLASSES))) < [0.4, 0.3, 0.0, 0.5, 0.04]  # cake never labelled; veil rare
    y[:3] = True  # samples with every label
    y[3:6] = False  # and with none
    s_a = np.round(np.clip(0.3 * y + rng.random(y.shape), 0, 1), 1)  # one decimal: many ties
    s_b = np.round(np.clip(0.6 * y + rng.random(y.shape) * 0.8, 0, 1), 2)
    return y, s_a, s_b


def _macro_auc_sklearn(y, s, classes):
    """Mean one-vs-rest ROC AUC over ``classes`` with positives and negatives in ``y``; NaN if none."""
    aucs = [roc_auc_score(y[:, c], s[:, c]) for c in classes if 0 < y[:, c].sum() < len(y)]
    return float(np.mean(aucs)) if aucs else float("nan")


def _interval(draws):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanquantile(np.asarray(draws), [0.025, 0.975]).tolist()


def test_paired_interval_equals_a_same_seed_loop_scored_by_sklearn(tmp_path):
    y, s_a, s_b = _problem()
    n = len(y)
    ids = [f"img{i}" for i in range(n)]
    shuffle = np.random.default_rng(5).permutation(n)  # B lists the same samples in another order
    _write(tmp_path / "a.csv", y, s_a, ids)
    _write(tmp_path / "b.csv", y[shuffle], s_b[shuffle], [ids[i] for i in shuffle])
    a = evaluate_multilabel(load_dataset(tmp_path / "a.csv"))
    b = evaluate_multilabel(load_dataset(tmp_path / "b.csv"))
    assert list(a.dataset.classes) == CLASSES
    r = compare_multilabel(a, b, resamples=60, seed=3)
    assert r["paired"] and "macro_roc_auc" not in r["unavailable"]
    classes = [c for c in range(len(CLASSES)) if 0 < y[:, c].sum() < n]
    assert r["delta"]["macro_roc_auc"] == pytest.approx(
        _macro_auc_sklearn(y, s_b, classes) - _macro_auc_sklearn(y, s_a, classes), abs=1e-12)
    rng = np.random.default_rng(3)
    draws = []
    for _ in range(60):
        idx = rng.integers(0, n, size=n)  # the same rows for both models
        draws.append(_macro_auc_sklearn(y[idx], s_b[idx], classes) - _macro_auc_sklearn(y[idx], s_a[idx], classes))
    assert r["intervals"]["macro_roc_auc"] == pytest.approx(_interval(draws), abs=1e-12)
    assert r["intervals"]["macro_roc_auc"][0] < r["delta"]["macro_roc_auc"] < r["intervals"]["macro_roc_auc"][1]


def test_unpaired_interval_resamples_each_file_with_its_own_seed(tmp_path):
    y, s_a, _ = _problem(150, seed=1)
    y_b, _, s_b = _problem(120, seed=2)
    _write(tmp_path / "a.csv", y, s_a, [f"a{i}" for i in range(len(y))])
    _write(tmp_path / "b.csv", y_b, s_b, [f"b{i}" for i in range(len(y_b))])
    a = evaluate_multilabel(load_dataset(tmp_path / "a.csv"))
    b = evaluate_multilabel(load_dataset(tmp_path / "b.csv"))
    r = compare_multilabel(a, b, resamples=50, seed=7)
    assert not r["paired"]
    classes_a = [c for c in range(len(CLASSES)) if 0 < y[:, c].sum() < len(y)]
    classes_b = [c for c in range(len(CLASSES)) if 0 < y_b[:, c].sum() < len(y_b)]

    def loop(y, s, classes, seed):
        rng = np.random.default_rng(seed)
        return np.array([_macro_auc_sklearn(y[idx], s[idx], classes)
                         for idx in (rng.integers(0, len(y), size=len(y)) for _ in range(50))])

    want = loop(y_b, s_b, classes_b, 8) - loop(y, s_a, classes_a, 7)
    assert r["intervals"]["macro_roc_auc"] == pytest.approx(_interval(want), abs=1e-12)


def test_a_file_without_scores_has_no_auc_delta_and_says_why(tmp_path):
    y, s_a, s_b = _problem()
    ids = [f"img{i}" for i in range(len(y))]
    _write(tmp_path / "a.csv", y, s_a, ids)
    frame = pd.DataFrame({"id": ids, "labels": ["|".join(c for c, on in zip(CLASSES, row) if on) for row in y],
                          "predicted_labels": ["|".join(c for c, on in zip(CLASSES, row) if on) for row in s_b > .5]})
    frame.to_csv(tmp_path / "b.csv", index=False)
    a = evaluate_multilabel(load_dataset(tmp_path / "a.csv"))
    b = evaluate_multilabel(load_dataset(tmp_path / "b.csv"))
    r = compare_multilabel(a, b, resamples=20, seed=0)
    assert "macro_roc_auc" not in r["delta"] and "macro_roc_auc" not in r["intervals"]
    assert r["unavailable"]["macro_roc_auc"].startswith("B (") and r["unavailable"]["macro_roc_auc"].endswith(
        ") has no scores")


def test_the_command_line_prints_the_interval(tmp_path, capsys):
    y, s_a, s_b = _problem()
    ids = [f"img{i}" for i in range(len(y))]
    _write(tmp_path / "a.csv", y, s_a, ids)
    _write(tmp_path / "b.csv", y, s_b, ids)
    assert main(["compare", str(tmp_path / "a.csv"), str(tmp_path / "b.csv"), "--json", "--resamples", "40"]) == 0
    r = json.loads(capsys.readouterr().out)
    low, high = r["intervals"]["macro_roc_auc"]
    assert main(["compare", str(tmp_path / "a.csv"), str(tmp_path / "b.csv"), "--resamples", "40"]) == 0
    out = capsys.readouterr().out
    line = next(row for row in out.splitlines() if row.startswith("macro ROC AUC"))
    assert line.endswith(f"delta {r['delta']['macro_roc_auc']:+.3f} [{low:+.3f}, {high:+.3f}]")


def test_above_the_exact_size_the_influence_expansion_has_the_exact_spread_on_indicators():
    from evaldash import bootstrap as bs

    rng = np.random.default_rng(11)
    y = rng.random((2500, 3)) < [0.2, 0.5, 0.7]
    s_a = np.clip(0.3 * y + rng.random(y.shape), 0, 1)
    s_b = 0.5 * s_a + 0.5 * np.clip(0.5 * y + rng.random(y.shape), 0, 1)  # correlated models
    classes = [0, 1, 2]
    exact = bs.paired_resampled_macro_auc_delta((s_a, y, classes), (s_b, y, classes), 3000, 1, 10**9)
    linear = bs.paired_resampled_macro_auc_delta((s_a, y, classes), (s_b, y, classes), 3000, 2, 0)
    assert linear.std() == pytest.approx(exact.std(), rel=0.08)
    point, _ = bs.macro_auc_influence(s_b, y, classes)
    assert point == pytest.approx(_macro_auc_sklearn(y, s_b, classes), abs=1e-12)
