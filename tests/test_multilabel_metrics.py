"""Multi-label metrics against scikit-learn, and the concept matrices against brute-force loops."""

import warnings

import numpy as np
import pytest
from sklearn import metrics as sk

from evaldash import multilabel_metrics as mm

TOL = 1e-12


def _case(seed, n=240, k=7, decimals=1):
    """Random multi-label data with the corners: rows without labels, a row with every label, a
    class that never occurs, one on every sample, one never predicted, tied (rounded) scores."""
    rng = np.random.default_rng(seed)
    y_true = rng.random((n, k)) < rng.uniform(0.1, 0.6, size=k)
    y_true[:4] = False
    y_true[4] = True
    y_true[:, 1] = False  # never occurs
    y_true[5:, 2] = True  # nearly every sample
    scores = np.round(np.clip(0.35 * y_true + rng.random((n, k)) * 0.7, 0, 1), decimals)
    scores[:, 3] = 0.5  # a constant column
    y_pred = mm.multilabel_predictions(scores, np.full(k, 0.5))
    y_pred[:, 5] = False  # never predicted
    return y_true, y_pred, scores


CASES = [_case(seed) for seed in range(4)] + [_case(9, decimals=3), _case(11, n=50, k=6)]


@pytest.mark.parametrize("case", CASES)
def test_counts_averages_and_sample_metrics_equal_sklearn(case):
    y_true, y_pred, _ = case
    table = mm.multilabel_per_class(y_true, y_pred)
    p, r, f, support = sk.precision_recall_fscore_support(y_true, y_pred, zero_division=0)
    np.testing.assert_allclose(table["precision"], p, rtol=0, atol=TOL)
    np.testing.assert_allclose(table["recall"], r, rtol=0, atol=TOL)
    np.testing.assert_allclose(table["f1"], f, rtol=0, atol=TOL)
    np.testing.assert_array_equal(table["support"], support)
    mcm = sk.multilabel_confusion_matrix(y_true, y_pred)
    np.testing.assert_array_equal(table["tn"], mcm[:, 0, 0])
    np.testing.assert_array_equal(table["fp"], mcm[:, 0, 1])
    np.testing.assert_array_equal(table["fn"], mcm[:, 1, 0])
    np.testing.assert_array_equal(table["tp"], mcm[:, 1, 1])
    np.testing.assert_allclose(table["prevalence"], y_true.mean(axis=0), rtol=0, atol=TOL)
    with np.errstate(invalid="ignore", divide="ignore"):
        np.testing.assert_allclose(table["specificity"], mcm[:, 0, 0] / (mcm[:, 0, 0] + mcm[:, 0, 1]), atol=TOL)
    averages = mm.multilabel_averages(table, y_true, y_pred)
    for avg in ("micro", "macro", "weighted", "samples"):
        p, r, f, _ = sk.precision_recall_fscore_support(y_true, y_pred, average=avg, zero_division=0)
        assert averages[avg] == pytest.approx({"precision": p, "recall": r, "f1": f}, abs=TOL)
    assert mm.multilabel_subset_accuracy(y_true, y_pred) == pytest.approx(sk.accuracy_score(y_true, y_pred), abs=TOL)
    assert mm.multilabel_hamming_loss(y_true, y_pred) == pytest.approx(sk.hamming_loss(y_true, y_pred), abs=TOL)
    jac = mm.multilabel_jaccard(table, y_true, y_pred)
    for avg in ("samples", "macro", "micro"):
        assert jac[avg] == pytest.approx(sk.jaccard_score(y_true, y_pred, average=avg, zero_division=0), abs=TOL)
    assert mm.multilabel_cardinality(y_true) == pytest.approx(y_true.sum(axis=1).mean(), abs=TOL)


@pytest.mark.parametrize("case", CASES)
def test_ranking_metrics_equal_sklearn(case):
    y_true, _, scores = case
    r = mm.multilabel_ranking(y_true, scores)
    assert r["label_ranking_average_precision"] == pytest.approx(
        sk.label_ranking_average_precision_score(y_true, scores), abs=TOL)
    assert r["coverage_error"] == pytest.approx(sk.coverage_error(y_true, scores), abs=TOL)
    assert r["label_ranking_loss"] == pytest.approx(sk.label_ranking_loss(y_true, scores), abs=TOL)


def test_ranking_metrics_in_several_blocks(monkeypatch):
    y_true, _, scores = CASES[0]
    whole = mm.multilabel_ranking(y_true, scores)
    monkeypatch.setattr(mm, "BLOCK", 50)
    assert mm.multilabel_ranking(y_true, scores) == pytest.approx(whole, abs=TOL)


@pytest.mark.parametrize("case", CASES)
def test_per_class_and_averaged_auc_ap_equal_sklearn(case):
    y_true, _, scores = case
    sweeps = mm.multilabel_sweeps(y_true, scores)
    ranking = mm.multilabel_auc_ap(sweeps)
    defined_auc = [c for c in range(y_true.shape[1]) if 0 < y_true[:, c].sum() < y_true.shape[0]]
    for c in range(y_true.shape[1]):
        if c in defined_auc:
            assert ranking["roc_auc"][c] == pytest.approx(sk.roc_auc_score(y_true[:, c], scores[:, c]), abs=TOL)
        else:
            assert np.isnan(ranking["roc_auc"][c]) and ranking["reasons"][c]
        if y_true[:, c].any():
            assert ranking["average_precision"][c] == pytest.approx(
                sk.average_precision_score(y_true[:, c], scores[:, c]), abs=TOL)
        else:
            assert np.isnan(ranking["average_precision"][c])
            assert ranking["reasons"][c] == "no positive samples"
    # macro over the defined classes (scikit-learn refuses a class with one label value)
    assert ranking["roc_auc_macro"] == pytest.approx(
        sk.roc_auc_score(y_true[:, defined_auc], scores[:, defined_auc], average="macro"), abs=TOL)
    with_pos = [c for c in range(y_true.shape[1]) if y_true[:, c].any()]
    assert ranking["ap_macro"] == pytest.approx(
        sk.average_precision_score(y_true[:, with_pos], scores[:, with_pos], average="macro"), abs=TOL)
    auc, ap = mm.multilabel_micro_auc_ap(sweeps)
    assert auc == pytest.approx(sk.roc_auc_score(y_true, scores, average="micro"), abs=TOL)
    assert ap == pytest.approx(sk.average_precision_score(y_true, scores, average="micro"), abs=1e-10)
    # the one-pass version (one sweep held at a time) gives the same numbers
    one_pass = mm.multilabel_ranking_pass(y_true, scores)
    assert (one_pass["roc_auc_micro"], one_pass["ap_micro"]) == (auc, ap)
    np.testing.assert_array_equal(one_pass["roc_auc"], ranking["roc_auc"])
    np.testing.assert_array_equal(one_pass["average_precision"], ranking["average_precision"])
    assert one_pass["reasons"] == ranking["reasons"]


def test_the_one_pass_ranking_without_negatives_or_positives():
    y_true = np.zeros((5, 2), dtype=bool)
    scores = np.linspace(0, 1, 10).reshape(5, 2)
    out = mm.multilabel_ranking_pass(y_true, scores)
    assert np.isnan(out["roc_auc_micro"]) and np.isnan(out["ap_micro"])
    assert out["reasons"] == {0: "no positive samples", 1: "no positive samples"}
    out = mm.multilabel_ranking_pass(~y_true, scores)
    assert np.isnan(out["roc_auc_micro"]) and out["reasons"][0] == "no negative samples"
    assert out["ap_micro"] != out["ap_micro"] and out["average_precision"] == [1.0, 1.0]


def test_the_sweep_is_the_single_label_sweep_of_the_indicator_column():
    y_true, _, scores = CASES[0]
    from evaldash.metrics import threshold_sweep

    for c, sweep in enumerate(mm.multilabel_sweeps(y_true, scores)):
        ref = threshold_sweep(scores[:, c], y_true[:, c])
        np.testing.assert_array_equal(sweep.thresholds, ref.thresholds)
        np.testing.assert_array_equal(sweep.tp, ref.tp)
        at = sweep.at(0.5, zero_division=0.0)
        table = mm.multilabel_per_class(y_true, scores >= 0.5)
        assert (at["tp"], at["fp"], at["fn"], at["tn"]) == tuple(int(table[m][c]) for m in ("tp", "fp", "fn", "tn"))


@pytest.mark.parametrize("chunk_rows", [1, 3, 65_536])
@pytest.mark.parametrize("case", CASES)
def test_concept_matrix_co_occurrence_and_mean_scores_equal_a_loop(case, chunk_rows, monkeypatch):
    monkeypatch.setattr(mm, "CHUNK_ROWS", chunk_rows)  # blocks of rows, summed: the same counts
    y_true, y_pred, scores = case
    n, k = y_true.shape
    expected = np.zeros((k + 1, k + 1), dtype=np.int64)
    co = np.zeros((k, k), dtype=np.int64)
    sums, counts = np.zeros((k + 1, k)), np.zeros(k + 1)
    for r in range(n):
        trues = list(np.flatnonzero(y_true[r])) or [k]
        preds = list(np.flatnonzero(y_pred[r])) or [k]
        for i in trues:
            counts[i] += 1
            sums[i] += scores[r]
            for j in preds:
                expected[i, j] += 1
            for j in trues:
                if i < k and j < k:
                    co[i, j] += 1
    np.testing.assert_array_equal(mm.concept_matrix(y_true, y_pred), expected)
    np.testing.assert_array_equal(mm.co_occurrence(y_true), co)
    with np.errstate(invalid="ignore", divide="ignore"):
        np.testing.assert_allclose(mm.mean_score_matrix(y_true, scores), sums / counts[:, None], rtol=0, atol=TOL)
    normalised = mm.row_normalised(expected, counts)
    assert np.allclose(np.diag(normalised)[:k][counts[:k] > 0],
                       mm.multilabel_per_class(y_true, y_pred)["recall"][counts[:k] > 0])


def test_cell_rows_and_concept_errors_most_confident_first():
    y_true, y_pred, scores = CASES[2]
    n, k = y_true.shape
    for i in range(k + 1):
        for j in range(k + 1):
            rows = mm.cell_rows(y_true, y_pred, scores, i, j)
            in_row = [r for r in range(n) if (y_true[r, i] if i < k else not y_true[r].any())
                      and (y_pred[r, j] if j < k else not y_pred[r].any())]
            assert sorted(rows.tolist()) == in_row
            conf = scores[rows, j] if j < k else scores[rows].max(axis=1)
            assert np.all(np.diff(conf) <= 0)
    fp = mm.concept_errors(y_true, y_pred, scores, 0, "fp")
    fn = mm.concept_errors(y_true, y_pred, scores, 0, "fn")
    assert set(fp) == set(np.flatnonzero(y_pred[:, 0] & ~y_true[:, 0]))
    assert set(fn) == set(np.flatnonzero(y_true[:, 0] & ~y_pred[:, 0]))
    assert np.all(np.diff(scores[fp, 0]) <= 0) and np.all(np.diff(scores[fn, 0]) >= 0)
    with pytest.raises(ValueError, match=r"kind 'x': expected 'fp' or 'fn'"):
        mm.concept_errors(y_true, y_pred, scores, 0, "x")


def test_suspected_label_errors_are_cleanlabs_per_concept_issues():
    from cleanlab.multilabel_classification.filter import find_multilabel_issues_per_class

    rng = np.random.default_rng(3)
    n, k = 400, 4
    y_true = rng.random((n, k)) < 0.4
    scores = np.clip(np.where(y_true, 0.8, 0.2) + rng.normal(0, 0.1, (n, k)), 0, 1)
    y_noisy = y_true.copy()
    y_noisy[:12, 1] = ~y_noisy[:12, 1]  # twelve flipped concept labels
    found = mm.suspected_label_errors(y_noisy, scores)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = find_multilabel_issues_per_class(labels=[np.flatnonzero(r).tolist() for r in y_noisy], pred_probs=scores)
    assert set(zip(found["row"].tolist(), found["cls"].tolist())) == set(zip(*np.nonzero(ref)))
    flipped = {(r, 1) for r in range(12)}
    assert flipped <= set(zip(found["row"].tolist(), found["cls"].tolist()))
    np.testing.assert_array_equal(found["missing"], ~y_noisy[found["row"], found["cls"]])


def test_most_confused_concepts_are_those_with_the_most_off_diagonal_counts():
    y_true, y_pred, _ = CASES[2]
    n, k = y_true.shape
    m = mm.concept_matrix(y_true, y_pred)
    errors = [sum(int(m[i, j]) for j in range(k + 1) if j != i) + sum(int(m[j, i]) for j in range(k + 1) if j != i)
              for i in range(k)]
    np.testing.assert_array_equal(mm.concept_error_counts(m), errors)
    top = sorted(range(k), key=lambda i: (-errors[i], i))[:2]
    np.testing.assert_array_equal(mm.most_confused_concepts(m, 2), sorted(top))
    np.testing.assert_array_equal(mm.most_confused_concepts(m, k + 5), np.arange(k))
