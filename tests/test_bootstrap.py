"""Bootstrap intervals: a direct resampling loop with the same seed gives the same numbers, and
drawing cell counts has the same distribution as drawing sample indices."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

from evaldash import bootstrap as bs


def _problem(seed: int, n: int, k: int, quality: float = 0.7):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    p = np.where(rng.random(n) < quality, y, rng.integers(0, k, n))
    return y, p


@pytest.mark.parametrize("seed,n,k", [(0, 200, 3), (1, 57, 5), (2, 500, 2), (3, 30, 12)])
def test_vectorised_resamples_equal_a_direct_loop_scored_by_sklearn(seed, n, k):
    """Each resample's cell counts, drawn one by one with the same seed, turned back into label
    arrays and scored by scikit-learn, give exactly the vectorised numbers."""
    y, p = _problem(seed, n, k)
    B = 50
    cms = bs.resampled_confusions(bs.cell_codes(y, p, k), k, B, seed=7)
    got = bs.confusion_metrics(cms)
    rng = np.random.default_rng(7)
    counts = np.bincount(y * k + p, minlength=k * k)
    for b in range(B):
        draw = rng.multinomial(n, counts / n)
        cells = np.repeat(np.arange(k * k), draw)  # the resampled samples, as (true, pred) pairs
        yt, yp = cells // k, cells % k
        assert got["accuracy"][b] == pytest.approx(accuracy_score(yt, yp), abs=1e-12)
        assert got["macro_f1"][b] == pytest.approx(
            f1_score(yt, yp, average="macro", labels=range(k), zero_division=0), abs=1e-12)
        prec, rec, f1, _ = precision_recall_fscore_support(yt, yp, labels=range(k), zero_division=0)
        np.testing.assert_allclose(got["precision"][b], prec, atol=1e-12)
        np.testing.assert_allclose(got["recall"][b], rec, atol=1e-12)
        np.testing.assert_allclose(got["f1"][b], f1, atol=1e-12)


def test_cell_draws_have_the_distribution_of_index_resampling():
    """Multinomial cell counts are resampling with replacement: the quantiles of accuracy and
    macro F1 agree with a loop that draws sample indices."""
    y, p = _problem(4, 80, 3, quality=0.6)
    k, B = 3, 20000
    fast = bs.confusion_metrics(bs.resampled_confusions(bs.cell_codes(y, p, k), k, B, seed=1))
    rng = np.random.default_rng(2)
    idx = rng.integers(0, y.size, size=(B, y.size))
    cms = np.zeros((B, k, k))
    np.add.at(cms, (np.repeat(np.arange(B), y.size), y[idx].ravel(), p[idx].ravel()), 1)
    slow = bs.confusion_metrics(cms)
    for m in ("accuracy", "macro_f1"):
        q = [0.025, 0.5, 0.975]
        np.testing.assert_allclose(np.quantile(fast[m], q), np.quantile(slow[m], q), atol=0.015)
        assert fast[m].std() == pytest.approx(slow[m].std(), rel=0.05)


def test_paired_resamples_keep_the_pairing():
    """Paired draws resample samples, not the two models separately: a model compared with
    itself has a delta of exactly 0 in every resample, and each side alone matches its margin."""
    y, a = _problem(5, 300, 4)
    _, b = _problem(6, 300, 4, quality=0.8)
    k = 4
    ca, cb = bs.cell_codes(y, a, k), bs.cell_codes(y, b, k)
    same_a, same_b = bs.paired_resampled_confusions(ca, ca, k, 200, seed=3)
    np.testing.assert_array_equal(same_a, same_b)
    cm_a, cm_b = bs.paired_resampled_confusions(ca, cb, k, 4000, seed=3)
    assert (cm_a.sum(axis=(1, 2)) == 300).all() and (cm_b.sum(axis=(1, 2)) == 300).all()
    # the true-class totals are shared by both sides of a pair in every resample
    np.testing.assert_array_equal(cm_a.sum(axis=2), cm_b.sum(axis=2))
    margin = bs.confusion_metrics(bs.resampled_confusions(ca, k, 4000, seed=9))["accuracy"]
    paired = bs.confusion_metrics(cm_a)["accuracy"]
    np.testing.assert_allclose(np.quantile(paired, [0.05, 0.5, 0.95]), np.quantile(margin, [0.05, 0.5, 0.95]),
                               atol=0.012)


def test_intervals_are_seeded_contain_the_estimate_and_narrow_with_more_data():
    y, p = _problem(7, 400, 3)
    classes = ["a", "b", "c"]
    one = bs.intervals(y, p, classes, resamples=500, seed=11)
    assert one == bs.intervals(y, p, classes, resamples=500, seed=11)
    assert one != bs.intervals(y, p, classes, resamples=500, seed=12)
    acc = accuracy_score(y, p)
    assert one["accuracy"][0] <= acc <= one["accuracy"][1]
    f1 = f1_score(y, p, average=None, labels=[0, 1, 2])
    for c, name in enumerate(classes):
        low, high = one["per_class"][name]["f1"]
        assert low <= f1[c] <= high
    y4, p4 = _problem(7, 4000, 3)
    wide = one["macro_f1"][1] - one["macro_f1"][0]
    narrow = bs.intervals(y4, p4, classes, resamples=500, seed=11)
    assert narrow["macro_f1"][1] - narrow["macro_f1"][0] < wide / 2
    assert (one["method"], one["resamples"], one["level"]) == ("percentile bootstrap", 500, 0.95)


def test_single_class_and_absent_classes_do_not_break():
    y = np.zeros(20, dtype=np.int64)
    p = np.zeros(20, dtype=np.int64)
    out = bs.intervals(y, p, ["only", "never"], resamples=100)
    assert out["accuracy"] == [1.0, 1.0]
    assert out["per_class"]["never"]["f1"] == [0.0, 0.0]  # zero_division=0, as scikit-learn


@pytest.mark.parametrize("seed,ties", [(0, False), (1, True)])
def test_auc_resamples_equal_a_direct_loop_scored_by_sklearn(seed, ties):
    """Groups of equal scores drawn one resample at a time with the same seed, expanded back to
    samples and scored by scikit-learn's roc_auc_score, give the same AUC in every resample."""
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(seed)
    n = 150
    positive = rng.random(n) < 0.3
    score = rng.integers(0, 6, n) / 5.0 if ties else rng.random(n)
    score = np.where(positive, score + 0.2, score)
    B = 40
    got = bs.resampled_auc(score, positive, B, seed=3)
    values = np.unique(score)
    group = np.searchsorted(values, score)
    counts = np.bincount(group * 2 + positive, minlength=2 * values.size)
    rng2 = np.random.default_rng(3)
    for b in range(B):
        draw = rng2.multinomial(n, counts / n)
        cats = np.repeat(np.arange(2 * values.size), draw)
        y, s = cats % 2 == 1, values[cats // 2]
        want = roc_auc_score(y, s) if 0 < y.sum() < y.size else np.nan
        assert got[b] == pytest.approx(want, abs=1e-12, nan_ok=True)


def test_auc_intervals_at_a_million_rows_bin_the_scores_and_contain_the_auc():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(5)
    n = 1_000_000
    positive = rng.random(n) < 0.1
    score = rng.normal(size=n) + positive * 1.5
    low, high = bs.percentile_interval(bs.resampled_auc(score, positive, 1000))  # quantile bins above 2000 values
    auc = roc_auc_score(positive, score)
    assert low < auc < high and high - low < 0.01
