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


def _old_intervals(y, p, classes, resamples, seed, level=bs.LEVEL):
    """bs.intervals as it was: every resample's full k × k matrix, then its metrics."""
    k = len(classes)
    stats = bs.confusion_metrics(bs.resampled_confusions(bs.cell_codes(y, p, k), k, resamples, seed))
    per = {m: bs.percentile_interval(stats[m], level) for m in ("precision", "recall", "f1")}
    return {"accuracy": bs.percentile_interval(stats["accuracy"], level).tolist(),
            "macro_f1": bs.percentile_interval(stats["macro_f1"], level).tolist(),
            "per_class": {name: {m: [float(per[m][0, c]), float(per[m][1, c])] for m in per}
                          for c, name in enumerate(classes)}}


@pytest.mark.parametrize("seed,n,k,last_cell", [(0, 200, 3, False), (1, 57, 5, True), (2, 9, 12, False),
                                                 (3, 300, 7, True), (4, 1, 4, False)])
@pytest.mark.parametrize("chunk", [1, 37, 2_000_000])
def test_class_counts_are_the_full_matrix_draws_in_any_block_size(monkeypatch, seed, n, k, last_cell, chunk):
    """Drawing only the observed cells, in blocks of resamples, and summing them per class gives
    exactly the diagonal, row and column sums of the full k × k draws at the same seed, and so
    exactly the former intervals."""
    y, p = _problem(seed, n, k, quality=0.5)
    if last_cell:  # the multinomial's last category observed (else an empty one stands in for it)
        y[0] = p[0] = k - 1
    cells = bs.cell_codes(y, p, k)
    cms = bs.resampled_confusions(cells, k, 60, seed=seed + 5)
    monkeypatch.setattr(bs, "_CHUNK", chunk)
    got = bs.resampled_class_counts(cells, k, 60, seed=seed + 5)
    np.testing.assert_array_equal(got["tp"], np.diagonal(cms, axis1=1, axis2=2))
    np.testing.assert_array_equal(got["support"], cms.sum(axis=2))
    np.testing.assert_array_equal(got["predicted"], cms.sum(axis=1))
    np.testing.assert_array_equal(got["total"], np.full(60, n))
    classes = [f"c{i}" for i in range(k)]
    new = bs.intervals(y, p, classes, resamples=300, seed=seed)
    assert {key: new[key] for key in ("accuracy", "macro_f1", "per_class")} == _old_intervals(y, p, classes, 300, seed)


@pytest.mark.parametrize("chunk", [1, 29, 2_000_000])
def test_paired_class_counts_are_the_paired_matrix_draws(monkeypatch, chunk):
    y, a = _problem(11, 250, 6)
    _, b = _problem(12, 250, 6, quality=0.9)
    k = 6
    ca, cb = bs.cell_codes(y, a, k), bs.cell_codes(y, b, k)
    cm_a, cm_b = bs.paired_resampled_confusions(ca, cb, k, 80, seed=4)
    monkeypatch.setattr(bs, "_CHUNK", chunk)
    got_a, got_b = bs.paired_resampled_class_counts(ca, cb, k, 80, seed=4)
    for got, cms in ((got_a, cm_a), (got_b, cm_b)):
        np.testing.assert_array_equal(got["tp"], np.diagonal(cms, axis1=1, axis2=2))
        np.testing.assert_array_equal(got["support"], cms.sum(axis=2))
        np.testing.assert_array_equal(got["predicted"], cms.sum(axis=1))
        for m, v in bs.confusion_metrics(cms).items():
            np.testing.assert_array_equal(bs.class_count_metrics(**got)[m], v)


def test_intervals_of_5000_classes_hold_resamples_by_classes_not_their_square():
    """5,000 classes: the former (resamples, k, k) draws were 186 GiB at 1,000 resamples."""
    import tracemalloc

    y, p = _problem(13, 400, 5000, quality=0.8)
    classes = [str(c) for c in range(5000)]
    tracemalloc.start()
    try:
        out = bs.intervals(y, p, classes, resamples=200, seed=0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 150 * 2**20  # 200 resamples x 5,000 classes x 8 bytes is 8 MB; 200 x 5,000² x 8 is 40 GB
    assert len(out["per_class"]) == 5000 and out["accuracy"][0] <= 0.8 <= out["accuracy"][1] + 0.1


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


# --- macro ROC AUC and ECE: rows drawn jointly for all classes ---------------------------------

def _scored(seed: int, n: int, k: int, ties: bool = False, rare: int | None = None):
    """Labels (shape (n,)) and softmax scores (shape (n, k)); ``ties``: scores rounded to 0.05;
    ``rare``: that class gets only 2 samples, so some resamples lack it."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    if rare is not None:
        y[y == rare] = (rare + 1) % k
        y[:2] = rare
    logits = rng.normal(size=(n, k))
    logits[np.arange(n), y] += 1.2
    scores = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return y, (np.round(scores * 20) / 20 if ties else scores)


def _macro_auc_sklearn(y: np.ndarray, scores: np.ndarray, classes: list[int]) -> float:
    from sklearn.metrics import roc_auc_score

    aucs = [roc_auc_score(y == c, scores[:, c]) for c in classes if 0 < (y == c).sum() < y.size]
    return float(np.mean(aucs)) if aucs else float("nan")


@pytest.mark.parametrize("ties", [False, True])
def test_auc_influence_is_sklearns_auc_and_its_derivative(ties):
    """The AUC equals roc_auc_score, the influences sum to 0 and are the derivative of the
    weighted AUC with respect to each row's weight (finite differences)."""
    from sklearn.metrics import roc_auc_score

    y, scores = _scored(0, 300, 3, ties=ties)
    for c in range(3):
        auc, influence = bs.auc_influence(scores[:, c], y == c)
        assert auc == pytest.approx(roc_auc_score(y == c, scores[:, c]), abs=1e-12)
        assert abs(influence.sum()) < 1e-12
        base = np.ones((1, y.size))
        for row in (0, 17, 123):
            bumped = base.copy()
            bumped[0, row] += 1e-6
            slope = (bs.weighted_macro_auc(scores, y, [c], bumped)[0] - auc) / 1e-6
            assert slope == pytest.approx(influence[row], rel=1e-4, abs=1e-9)


@pytest.mark.parametrize("seed,n,k,ties,rare", [(0, 120, 3, False, None), (1, 200, 4, True, None),
                                                (2, 150, 5, False, 3), (3, 90, 2, True, None)])
def test_macro_auc_resamples_equal_a_direct_loop_scored_by_sklearn(seed, n, k, ties, rare):
    """Small data: each resample draws its rows (``rng.integers(0, n, n)``, one resample after the
    other with the same seed); scikit-learn's roc_auc_score of every class with positives and
    negatives in the resample, averaged, gives the same macro AUC in every resample."""
    y, scores = _scored(seed, n, k, ties, rare)
    classes = bs.macro_auc_classes(y, k)
    B = 60
    point, got = bs.resampled_macro_auc(scores, y, classes, B, seed=5)
    assert point == pytest.approx(_macro_auc_sklearn(y, scores, classes), abs=1e-12)
    rng = np.random.default_rng(5)
    for b in range(B):
        idx = rng.integers(0, n, size=n)
        assert got[b] == pytest.approx(_macro_auc_sklearn(y[idx], scores[idx], classes), abs=1e-12, nan_ok=True)
    if rare is not None:  # the rare class is missing from some resamples: averaged over the others there
        assert len(classes) == k


def test_binary_macro_auc_is_the_positive_class_alone():
    y, scores = _scored(4, 100, 2)
    assert bs.macro_auc_classes(y, 2, positive=1) == [1]
    assert bs.macro_auc_classes(np.ones(5, dtype=np.int64), 2, positive=1) == []
    point, draws = bs.resampled_macro_auc(scores, y, [], 10)
    assert np.isnan(point) and np.isnan(draws).all()


def test_large_data_path_is_a_multinomial_over_influence_groups_drawn_as_a_loop_would():
    """Above EXACT_MAX_CELLS the resamples are the point value plus the summed influences of the
    resampled rows, rows grouped by their influence: a loop drawing the group counts one resample
    at a time with the same seed, expanded into rows and summed, gives the same numbers."""
    y, scores = _scored(5, 400, 3, ties=True)  # rounded scores: few distinct influences, no binning
    classes = bs.macro_auc_classes(y, 3)
    point, got = bs.resampled_macro_auc(scores, y, classes, 50, seed=8, exact_max_cells=0)
    same_point, influence = bs.macro_auc_influence(scores, y, classes)
    assert point == same_point
    values, group = np.unique(influence, return_inverse=True)
    assert values.size <= bs.MAX_AUC_BINS
    counts = np.bincount(group)
    rng = np.random.default_rng(8)
    for b in range(50):
        draw = rng.multinomial(y.size, counts / y.size)
        rows = np.concatenate([np.flatnonzero(group == g)[:1].repeat(m) for g, m in enumerate(draw)])
        assert got[b] == pytest.approx(point + influence[rows].sum(), abs=1e-12)


@pytest.mark.parametrize("ties", [False, True])
def test_large_data_path_agrees_with_index_resampling(ties):
    """The first-order path (forced here) and the exact one (index resampling, checked above against
    scikit-learn) give the same quantiles and spread, within Monte Carlo error."""
    y, scores = _scored(6, 3000, 3, ties=ties)
    classes = bs.macro_auc_classes(y, 3)
    _, exact = bs.resampled_macro_auc(scores, y, classes, 4000, seed=1, exact_max_cells=10**9)
    _, linear = bs.resampled_macro_auc(scores, y, classes, 4000, seed=2, exact_max_cells=0)
    sd = exact.std()
    np.testing.assert_allclose(np.quantile(linear, [0.025, 0.5, 0.975]), np.quantile(exact, [0.025, 0.5, 0.975]),
                               atol=0.25 * sd)
    assert linear.std() == pytest.approx(sd, rel=0.07)


def test_influence_bins_keep_the_spread():
    """Above MAX_AUC_BINS distinct influences the rows are binned; the binned resamples have the
    spread of the unbinned ones."""
    y, scores = _scored(7, 20000, 4)
    _, influence = bs.macro_auc_influence(scores, y, [0, 1, 2, 3])
    binned = bs.resampled_linear(influence, 600, np.random.default_rng(1), max_bins=500)
    exact = bs.resampled_linear(influence, 600, np.random.default_rng(2), max_bins=10**9)
    assert binned.std() == pytest.approx(exact.std(), rel=0.1)
    assert binned.std() == pytest.approx(np.sqrt(y.size * influence.var()), rel=0.1)  # DeLong's variance


def test_paired_macro_auc_delta_equals_a_direct_loop_and_is_zero_against_itself():
    y, sa = _scored(8, 150, 4)
    _, sb = _scored(9, 150, 4, ties=True)
    classes = bs.macro_auc_classes(y, 4)
    got = bs.paired_resampled_macro_auc_delta((sa, y, classes), (sb, y, classes), 40, seed=2)
    rng = np.random.default_rng(2)
    for b in range(40):
        idx = rng.integers(0, y.size, size=y.size)  # the same rows for both models
        want = _macro_auc_sklearn(y[idx], sb[idx], classes) - _macro_auc_sklearn(y[idx], sa[idx], classes)
        assert got[b] == pytest.approx(want, abs=1e-12)
    for cells in (None, 0):
        assert not bs.paired_resampled_macro_auc_delta((sa, y, classes), (sa, y, classes), 40, 2, cells).any()
    y, sa = _scored(10, 2500, 3)
    _, sb = _scored(11, 2500, 3)
    sb = 0.5 * sb + 0.5 * sa  # correlated models: pairing narrows the interval
    classes = bs.macro_auc_classes(y, 3)
    exact = bs.paired_resampled_macro_auc_delta((sa, y, classes), (sb, y, classes), 3000, 1, 10**9)
    linear = bs.paired_resampled_macro_auc_delta((sa, y, classes), (sb, y, classes), 3000, 2, 0)
    np.testing.assert_allclose(np.quantile(linear, [0.025, 0.975]), np.quantile(exact, [0.025, 0.975]),
                               atol=0.3 * exact.std())
    assert linear.std() == pytest.approx(exact.std(), rel=0.08)


def _ece_problem(seed: int, n: int):
    rng = np.random.default_rng(seed)
    confidence = rng.uniform(0.3, 1.0, n)
    correct = rng.random(n) < confidence ** 1.5  # over-confident
    return confidence, correct


def test_ece_resamples_equal_a_direct_loop_scored_by_the_metrics_module():
    from evaldash import metrics

    conf, correct = _ece_problem(0, 200)
    conf[:20] = 1.0  # on a bin edge
    B = 50
    got = bs.resampled_ece(conf, correct, B, seed=4)
    rng = np.random.default_rng(4)
    for b in range(B):
        idx = rng.integers(0, conf.size, size=conf.size)
        want = metrics.expected_calibration_error(metrics.reliability(conf[idx], correct[idx]))
        assert got[b] == pytest.approx(want, abs=1e-12)
    np.testing.assert_array_equal(bs.ece_bins(conf) + 1,
                                  np.searchsorted(np.linspace(0, 1, 16), conf, side="left").clip(1, 15))


def test_ece_groups_agree_with_index_resampling_and_keep_the_pairing():
    conf, correct = _ece_problem(1, 6000)
    exact = bs.resampled_ece(conf, correct, 3000, seed=1, exact_max_cells=10**9)
    grouped = bs.resampled_ece(conf, correct, 3000, seed=2, exact_max_cells=0)
    np.testing.assert_allclose(np.quantile(grouped, [0.025, 0.5, 0.975]), np.quantile(exact, [0.025, 0.5, 0.975]),
                               atol=0.25 * exact.std())
    assert grouped.std() == pytest.approx(exact.std(), rel=0.07)
    conf_b, correct_b = np.clip(conf + 0.05, 0, 1), correct.copy()
    for cells in (None, 0):
        a, b = bs.paired_resampled_ece((conf, correct), (conf, correct), 200, 3, cells)
        np.testing.assert_array_equal(a, b)
        a, b = bs.paired_resampled_ece((conf, correct), (conf_b, correct_b), 200, 3, cells)
        assert ((b - a) < 0.06).all() and np.std(b - a) < 0.5 * np.std(a)  # pairing: the deltas barely move


def test_evaluation_computes_auc_intervals_once_in_the_background():
    import time
    from pathlib import Path

    import pandas as pd

    import evaldash

    path = Path(__file__).resolve().parents[1] / "sample_data" / "digits" / "predictions.csv"
    ev = evaldash.evaluate(evaldash.load_predictions(path))
    want = bs.auc_intervals(ev.dataset.scores, ev.dataset.y_true, list(ev.dataset.classes))
    first = ev.auc_intervals(wait=False)
    deadline = time.monotonic() + 30
    while (got := ev.auc_intervals(wait=False)) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert first is None or first == want
    assert got == want and ev.auc_intervals() is got  # computed once, kept
    pre = evaldash.evaluate(evaldash.load_predictions(path)).precompute()
    assert pre.auc_intervals(wait=False) == want  # the precompute did it
    no_scores = evaldash.evaluate(evaldash.dataset_from_frame(
        pd.DataFrame({"label": ["a", "b"], "prediction": ["a", "a"]}), source="<x>"))
    with pytest.raises(evaldash.InputError, match="need per-class scores; the file has none"):
        no_scores.auc_intervals()
