"""Every metric in :mod:`evaldash.metrics` against scikit-learn (or a direct loop where
scikit-learn has no equivalent), on the shared cases of ``conftest.py`` and on random
problems drawn by Hypothesis.

Documented deviations from scikit-learn, asserted explicitly below:

* with no positive samples, ``ThresholdSweep.average_precision()`` is NaN (scikit-learn
  returns 0.0); the curve of ``pr()`` is scikit-learn's (recall set to 1);
* macro ROC AUC / AP average the classes where they are defined (scikit-learn raises or
  returns NaN as soon as one class is absent).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm
from sklearn.preprocessing import label_binarize

from classification_cases import random_case
from evaldash import dataset_from_frame, evaluate
from evaldash import metrics

pytestmark = [
    # scikit-learn's own warnings for the undefined cases we deliberately feed it
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.UndefinedMetricWarning"),
    pytest.mark.filterwarnings("ignore:No positive class found in y_true"),
    pytest.mark.filterwarnings("ignore:The y_prob values do not sum to one"),
    pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true"),
]

TIGHT = dict(rtol=1e-10, atol=1e-12)
SWEEP_SETTINGS = settings(max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])


# --- shared helpers -----------------------------------------------------------

@st.composite
def problems(draw, max_k: int = 12, max_n: int = 60):
    """A random case: k classes, some possibly absent from y_true, ties or not."""
    k = draw(st.integers(2, max_k))
    n = draw(st.integers(1, max_n))
    n_present = draw(st.integers(1, k))
    ties = draw(st.booleans())
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    present = np.sort(rng.choice(k, size=n_present, replace=False))
    return random_case(rng, n, k, ties=ties, true_classes=present, name=f"hypothesis-{seed}")


def onehot(y: np.ndarray, k: int) -> np.ndarray:
    """label_binarize, widened to two columns for k == 2 (it returns one column there)."""
    y_bin = label_binarize(y, classes=np.arange(k))
    if k == 2:
        y_bin = np.column_stack([1 - y_bin[:, 0], y_bin[:, 0]])
    return y_bin


def probe_thresholds(score: np.ndarray, limit: int | None = None) -> np.ndarray:
    """Thresholds equal to scores, between scores, above the max and below the min."""
    distinct = np.unique(score)
    between = (distinct[:-1] + distinct[1:]) / 2
    if limit is not None and distinct.size > limit:
        pick = np.linspace(0, distinct.size - 1, limit).astype(int)
        distinct, between = distinct[pick], between[pick[:-1]]
    outside = [distinct.max() + 1.0, distinct.min() - 1.0, np.nextafter(distinct.max(), np.inf),
               np.inf, -np.inf, 0.5]
    return np.concatenate([distinct, between, outside])


def sklearn_at(positive: np.ndarray, score: np.ndarray, t: float) -> dict[str, float]:
    """Counts and rates of the prediction ``score >= t``, from scikit-learn."""
    y = positive.astype(int)
    pred = (score >= t).astype(int)
    tn, fp, fn, tp = skm.confusion_matrix(y, pred, labels=[0, 1]).ravel()
    n_neg = tn + fp
    return {
        "tp": tp, "fp": fp, "fn": fn, "tn": tn,
        "precision": skm.precision_score(y, pred, labels=[0, 1], zero_division=np.nan),
        "recall": skm.recall_score(y, pred, labels=[0, 1], zero_division=np.nan),
        "f1": skm.f1_score(y, pred, labels=[0, 1], zero_division=np.nan),
        "fpr": fp / n_neg if n_neg else np.nan,
        "specificity": tn / n_neg if n_neg else np.nan,
    }


def assert_at_matches(sweep: metrics.ThresholdSweep, positive, score, thresholds) -> None:
    for t in thresholds:
        got = sweep.at(t)
        want = sklearn_at(positive, score, t)
        assert got["threshold"] == t
        for name in ("tp", "fp", "fn", "tn"):
            assert got[name] == want[name], (t, name)
        for name in ("precision", "recall", "f1", "fpr", "specificity"):
            np.testing.assert_allclose(got[name], want[name], **TIGHT, err_msg=f"{name} at {t}")


def assert_curves_match(sweep: metrics.ThresholdSweep, positive, score) -> None:
    """roc(), pr(), roc_auc() and average_precision() against scikit-learn."""
    y = positive.astype(int)
    fpr, tpr, th = sweep.roc()
    sk_fpr, sk_tpr, sk_th = skm.roc_curve(y, score, drop_intermediate=False)
    np.testing.assert_array_equal(th, sk_th)
    assert th[0] == np.inf
    np.testing.assert_allclose(fpr, sk_fpr, **TIGHT)
    np.testing.assert_allclose(tpr, sk_tpr, **TIGHT)
    np.testing.assert_allclose(sweep.roc_auc(), skm.roc_auc_score(y, score), **TIGHT)

    precision, recall, pr_th = sweep.pr()
    sk_p, sk_r, sk_pr_th = skm.precision_recall_curve(y, score)
    np.testing.assert_array_equal(pr_th, sk_pr_th)
    np.testing.assert_allclose(precision, sk_p, **TIGHT)
    np.testing.assert_allclose(recall, sk_r, **TIGHT)  # without positives: 1, as scikit-learn sets it
    if sweep.n_pos:
        np.testing.assert_allclose(sweep.average_precision(),
                                   skm.average_precision_score(y, score), **TIGHT)
    else:  # deviation: undefined AP is NaN (left out of the macro average), scikit-learn says 0
        assert (recall[:-1] == 1.0).all() and recall[-1] == 0.0
        assert np.isnan(sweep.average_precision())
        assert sweep.undefined_reason() == "no positive samples"


# --- confusion matrices -------------------------------------------------------

def test_confusion_matrix_matches_sklearn(case):
    cm = metrics.confusion_matrix(case.y_true, case.y_pred, case.k)
    np.testing.assert_array_equal(
        cm, skm.confusion_matrix(case.y_true, case.y_pred, labels=range(case.k)))
    assert cm.sum() == case.y_true.size


@pytest.mark.parametrize("by", ["true", "pred"])
def test_normalize_confusion_matches_sklearn(case, by):
    cm = metrics.confusion_matrix(case.y_true, case.y_pred, case.k)
    want = skm.confusion_matrix(case.y_true, case.y_pred, labels=range(case.k), normalize=by)
    np.testing.assert_allclose(metrics.normalize_confusion(cm, by), want, **TIGHT)


def test_mean_score_matrix_matches_groupby(case):
    got = metrics.mean_score_matrix(case.y_true, case.scores)
    want = (pd.DataFrame(case.scores).groupby(case.y_true).mean()
            .reindex(range(case.k)).to_numpy())
    assert got.shape == (case.k, case.k)
    np.testing.assert_allclose(got, want, **TIGHT)  # absent rows are NaN on both sides
    absent = np.setdiff1d(np.arange(case.k), case.y_true)
    assert np.isnan(got[absent]).all()


@given(problems())
@settings(max_examples=80, deadline=None)
def test_confusion_and_per_class_match_sklearn_on_random_problems(p):
    cm = metrics.confusion_matrix(p.y_true, p.y_pred, p.k)
    np.testing.assert_array_equal(cm, skm.confusion_matrix(p.y_true, p.y_pred, labels=range(p.k)))
    assert_per_class_matches(p.y_true, p.y_pred, p.k)


# --- per-class table and averages ---------------------------------------------

def assert_per_class_matches(y_true, y_pred, k) -> None:
    table = metrics.per_class_table(metrics.confusion_matrix(y_true, y_pred, k))
    labels = list(range(k))
    p, r, f, s = skm.precision_recall_fscore_support(y_true, y_pred, labels=labels,
                                                     average=None, zero_division=0)
    np.testing.assert_allclose(table["precision"], p, **TIGHT)
    np.testing.assert_allclose(table["recall"], r, **TIGHT)
    np.testing.assert_allclose(table["f1"], f, **TIGHT)
    np.testing.assert_array_equal(table["support"], s)

    # specificity, FPR and prevalence straight from the one-vs-rest matrices
    mcm = skm.multilabel_confusion_matrix(y_true, y_pred, labels=labels)
    tn, fp, fn, tp = (mcm[:, 0, 0], mcm[:, 0, 1], mcm[:, 1, 0], mcm[:, 1, 1])
    np.testing.assert_array_equal(table["tp"], tp)
    np.testing.assert_array_equal(table["fp"], fp)
    np.testing.assert_array_equal(table["fn"], fn)
    np.testing.assert_array_equal(table["tn"], tn)
    negatives = tn + fp
    with np.errstate(invalid="ignore", divide="ignore"):
        np.testing.assert_allclose(table["specificity"],
                                   np.where(negatives > 0, tn / negatives, np.nan), **TIGHT)
        np.testing.assert_allclose(table["fpr"],
                                   np.where(negatives > 0, fp / negatives, np.nan), **TIGHT)
    np.testing.assert_allclose(table["prevalence"], (tp + fn) / len(y_true), **TIGHT)

    avg = metrics.averages(table)
    for average in ("macro", "weighted", "micro"):
        want = skm.precision_recall_fscore_support(y_true, y_pred, labels=labels,
                                                   average=average, zero_division=0)
        got = avg[average]
        np.testing.assert_allclose([got["precision"], got["recall"], got["f1"]], want[:3],
                                   **TIGHT, err_msg=average)


def test_per_class_table_and_averages_match_sklearn(case):
    assert_per_class_matches(case.y_true, case.y_pred, case.k)


def test_fpr_and_specificity_are_nan_when_a_class_has_no_negatives():
    y = np.array([1, 1, 1])
    table = metrics.per_class_table(metrics.confusion_matrix(y, np.array([1, 0, 1]), 2))
    assert np.isnan(table["fpr"][1]) and np.isnan(table["specificity"][1])
    assert table["fpr"][0] == pytest.approx(1 / 3)
    np.testing.assert_array_equal(table["prevalence"], [0.0, 1.0])


# --- top-k accuracy -------------------------------------------------------------

def test_top_k_accuracy_matches_sklearn(case):
    if case.k < 3:
        # scikit-learn scores binary top-k by thresholding at 0.5, not by ranking
        assert metrics.top_k_accuracy(case.y_true, case.scores, 2) == 1.0
        return
    for k in range(1, case.k + 2):
        want = 1.0 if k >= case.k else skm.top_k_accuracy_score(
            case.y_true, case.scores, k=k, labels=range(case.k))
        assert metrics.top_k_accuracy(case.y_true, case.scores, k) == pytest.approx(want, abs=1e-15), k


@pytest.mark.parametrize("true_class, k, expected", [
    (3, 1, 1.0),  # all four scores tie: the highest class index ranks first
    (0, 3, 0.0),  # ... and the lowest ranks last
    (1, 3, 1.0),
])
def test_top_k_accuracy_breaks_ties_like_sklearn(true_class, k, expected):
    y = np.array([true_class])
    scores = np.full((1, 4), 0.25)
    assert metrics.top_k_accuracy(y, scores, k) == expected
    assert skm.top_k_accuracy_score(y, scores, k=k, labels=range(4)) == expected


@given(problems(max_n=40))
@settings(max_examples=60, deadline=None)
def test_top_k_accuracy_matches_sklearn_on_random_problems(p):
    for k in range(1, p.k):
        if p.k < 3:
            continue
        assert metrics.top_k_accuracy(p.y_true, p.scores, k) == pytest.approx(
            skm.top_k_accuracy_score(p.y_true, p.scores, k=k, labels=range(p.k)), abs=1e-15)


# --- threshold sweeps --------------------------------------------------------------

def test_sweep_curves_match_sklearn(case):
    for c in range(case.k):
        positive = case.y_true == c
        assert_curves_match(metrics.threshold_sweep(case.scores[:, c], positive),
                            positive, case.scores[:, c])


def test_sweep_at_matches_sklearn_at_every_kind_of_threshold(case):
    for c in range(min(case.k, 4)):
        score, positive = case.scores[:, c], case.y_true == c
        sweep = metrics.threshold_sweep(score, positive)
        assert_at_matches(sweep, positive, score, probe_thresholds(score, limit=40))


@given(problems(), st.data())
@SWEEP_SETTINGS
def test_sweep_matches_sklearn_on_random_problems(p, data):
    c = data.draw(st.integers(0, p.k - 1), label="class")
    score, positive = p.scores[:, c], p.y_true == c
    sweep = metrics.threshold_sweep(score, positive)
    assert_curves_match(sweep, positive, score)
    thresholds = data.draw(st.lists(st.sampled_from(list(probe_thresholds(score))),
                                    min_size=1, max_size=8), label="thresholds")
    assert_at_matches(sweep, positive, score, thresholds)


@given(st.lists(st.integers(0, 10), min_size=1, max_size=50), st.data())
@SWEEP_SETTINGS
def test_sweep_with_one_decimal_scores_matches_sklearn(tenths, data):
    """Scores rounded to one decimal (so many equal), any mix of positives."""
    score = np.array(tenths) / 10
    positive = np.array(data.draw(st.lists(st.booleans(), min_size=len(tenths),
                                           max_size=len(tenths))))
    sweep = metrics.threshold_sweep(score, positive)
    assert sweep.thresholds.size == np.unique(score).size + 1
    assert_curves_match(sweep, positive, score)
    assert_at_matches(sweep, positive, score, probe_thresholds(score))


@pytest.mark.parametrize("positive, reason, nan_rates", [
    ([False, False, False], "no positive samples", ("recall",)),
    ([True, True, True], "no negative samples", ("fpr", "specificity")),
])
def test_undefined_sweep_gives_nan_and_a_reason(positive, reason, nan_rates):
    score = np.array([0.2, 0.4, 0.4])
    sweep = metrics.threshold_sweep(score, np.array(positive))
    assert sweep.undefined_reason() == reason
    assert np.isnan(sweep.roc_auc())
    for t in (0.0, 0.3, 0.4, 1.0):
        at = sweep.at(t)
        for name in nan_rates:
            assert np.isnan(at[name]), (t, name)
    above = sweep.at(1.0)  # nothing predicted positive: precision 0/0
    assert above["tp"] + above["fp"] == 0 and np.isnan(above["precision"])


def test_defined_sweep_has_no_reason():
    sweep = metrics.threshold_sweep(np.array([0.1, 0.9]), np.array([False, True]))
    assert sweep.undefined_reason() == ""
    assert sweep.roc_auc() == 1.0 and sweep.average_precision() == 1.0


def test_empty_sweep_does_not_crash():
    sweep = metrics.threshold_sweep(np.array([]), np.array([], dtype=bool))
    assert sweep.thresholds.tolist() == [np.inf]
    assert np.isnan(sweep.roc_auc()) and np.isnan(sweep.average_precision())
    assert sweep.at(0.5)["tp"] == 0


def test_micro_sweep_matches_sklearn_micro_average(case):
    y_bin = onehot(case.y_true, case.k)
    micro = metrics.micro_sweep(case.y_true, case.scores)
    assert micro.n_pos == case.y_true.size and micro.n_neg == case.y_true.size * (case.k - 1)
    np.testing.assert_allclose(
        micro.roc_auc(), skm.roc_auc_score(y_bin, case.scores, average="micro"), **TIGHT)
    np.testing.assert_allclose(
        micro.average_precision(),
        skm.average_precision_score(y_bin, case.scores, average="micro"), **TIGHT)
    assert_curves_match(micro, y_bin.ravel().astype(bool), case.scores.ravel())


# --- threshold suggestions -------------------------------------------------------

def brute_force_table(score: np.ndarray, positive: np.ndarray) -> dict[str, np.ndarray]:
    """Counts and rates at +inf and at every distinct score (decreasing), one mask each.

    Rates use the same integer formulas as the definitions (F1 = 2TP / (2TP + FP + FN)),
    so equal values compare equal and tie-breaking can be checked exactly.
    """
    thresholds = np.concatenate([[np.inf], np.unique(score)[::-1]])
    predicted = score[None, :] >= thresholds[:, None]
    tp = (predicted & positive).sum(axis=1)
    fp = (predicted & ~positive).sum(axis=1)
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    fn = n_pos - tp
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "threshold": thresholds, "tp": tp, "fp": fp, "fn": fn,
            "precision": np.where(tp + fp > 0, tp / (tp + fp), np.nan),
            "recall": np.where(n_pos > 0, tp / n_pos, np.nan),
            "f1": np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), np.nan),
            "youden": (np.where(n_pos > 0, tp / n_pos, np.nan)
                       - np.where(n_neg > 0, fp / n_neg, np.nan)),
        }


def best_threshold(values: np.ndarray, thresholds: np.ndarray) -> float:
    """The highest threshold among those reaching the maximum; NaN if every value is NaN."""
    ok = ~np.isnan(values)
    if not ok.any():
        return float("nan")
    return float(thresholds[ok & (values == values[ok].max())].max())


def assert_same_threshold(got: float, want: float) -> None:
    assert (np.isnan(got) and np.isnan(want)) or got == want, (got, want)


@pytest.mark.parametrize("target", [0.5, 0.8, 0.9, 1.0])
@pytest.mark.parametrize("cost_fp, cost_fn", [(1.0, 1.0), (1.0, 5.0), (5.0, 1.0), (0.3, 2.7)])
def test_suggestions_match_brute_force(case, target, cost_fp, cost_fn):
    for c in range(min(case.k, 5)):
        score, positive = case.scores[:, c], case.y_true == c
        sweep = metrics.threshold_sweep(score, positive)
        bf = brute_force_table(score, positive)
        finite = slice(1, None)  # suggestions other than min cost pick a real score
        th = bf["threshold"][finite]

        assert_same_threshold(metrics.suggest_max_f1(sweep), best_threshold(bf["f1"][finite], th))
        assert_same_threshold(metrics.suggest_max_youden(sweep),
                              best_threshold(bf["youden"][finite], th))
        reach_p = bf["precision"][finite] >= target
        assert_same_threshold(metrics.suggest_target_precision(sweep, target),
                              th[reach_p].min() if reach_p.any() else np.nan)
        reach_r = bf["recall"][finite] >= target
        assert_same_threshold(metrics.suggest_target_recall(sweep, target),
                              th[reach_r].max() if reach_r.any() else np.nan)
        cost = cost_fp * bf["fp"] + cost_fn * bf["fn"]
        assert_same_threshold(metrics.suggest_min_cost(sweep, cost_fp, cost_fn),
                              best_threshold(-cost, bf["threshold"]))


@given(problems(max_n=40), st.data())
@SWEEP_SETTINGS
def test_suggestions_match_brute_force_on_random_problems(p, data):
    c = data.draw(st.integers(0, p.k - 1), label="class")
    target = data.draw(st.sampled_from([0.25, 0.5, 0.75, 1.0]), label="target")
    score, positive = p.scores[:, c], p.y_true == c
    sweep = metrics.threshold_sweep(score, positive)
    bf = brute_force_table(score, positive)
    th = bf["threshold"][1:]
    assert_same_threshold(metrics.suggest_max_f1(sweep), best_threshold(bf["f1"][1:], th))
    assert_same_threshold(metrics.suggest_max_youden(sweep), best_threshold(bf["youden"][1:], th))
    reach_p = bf["precision"][1:] >= target
    assert_same_threshold(metrics.suggest_target_precision(sweep, target),
                          th[reach_p].min() if reach_p.any() else np.nan)
    reach_r = bf["recall"][1:] >= target
    assert_same_threshold(metrics.suggest_target_recall(sweep, target),
                          th[reach_r].max() if reach_r.any() else np.nan)
    assert_same_threshold(metrics.suggest_min_cost(sweep, 1.0, 2.0),
                          best_threshold(-(bf["fp"] + 2.0 * bf["fn"]), bf["threshold"]))


def test_suggestions_on_a_hand_made_example():
    score = np.array([0.9, 0.8, 0.7, 0.6, 0.4, 0.3])
    positive = np.array([True, True, False, True, False, False])
    sweep = metrics.threshold_sweep(score, positive)
    assert metrics.suggest_max_f1(sweep) == 0.6  # TP 3, FP 1: F1 6/7
    assert metrics.suggest_max_youden(sweep) == 0.6  # 1 - 1/3
    assert metrics.suggest_target_precision(sweep, 1.0) == 0.8
    assert metrics.suggest_target_recall(sweep, 0.6) == 0.8
    assert metrics.suggest_min_cost(sweep, 1.0, 1.0) == 0.8  # cost 1 at 0.8 and 0.6: the higher
    assert metrics.suggest_min_cost(sweep, 1.0, 2.0) == 0.6  # a missed positive costs more
    assert metrics.suggest_min_cost(sweep, 100.0, 1.0) == 0.8  # stop before the first negative
    flipped = metrics.threshold_sweep(np.array([0.9, 0.5]), np.array([False, True]))
    assert metrics.suggest_min_cost(flipped, 100.0, 1.0) == np.inf  # predicting nothing is cheapest
    assert np.isnan(metrics.suggest_target_precision(
        metrics.threshold_sweep(score, np.zeros(6, bool)), 0.5))


# --- selective prediction ----------------------------------------------------------

def test_selective_sweep_matches_direct_computation(case):
    confidence = case.scores[np.arange(case.y_true.size), case.y_pred]
    correct = case.y_true == case.y_pred
    sel = metrics.selective_sweep(confidence, correct)

    curve = sel.curve()
    distinct = np.unique(confidence)[::-1]
    np.testing.assert_array_equal(curve["threshold"], distinct)
    kept = confidence[None, :] >= distinct[:, None]
    np.testing.assert_allclose(curve["coverage"], kept.mean(axis=1), **TIGHT)
    np.testing.assert_allclose(curve["accuracy"], (kept & correct).sum(axis=1) / kept.sum(axis=1),
                               **TIGHT)

    for t in probe_thresholds(confidence, limit=60):
        keep = confidence >= t
        got = sel.at(t)
        assert got["kept"] == keep.sum()
        assert got["coverage"] == pytest.approx(keep.mean(), abs=1e-15)
        if keep.any():
            assert got["accuracy"] == pytest.approx(correct[keep].mean(), abs=1e-15)
        else:
            assert np.isnan(got["accuracy"])


# --- calibration ----------------------------------------------------------------------

def test_log_loss_matches_sklearn(case):
    want = skm.log_loss(case.y_true, case.scores, labels=range(case.k))
    assert metrics.log_loss(case.y_true, case.scores) == pytest.approx(want, rel=1e-12)


def test_log_loss_clips_zero_probability_like_sklearn():
    y = np.array([0, 1])
    proba = np.array([[0.0, 1.0], [0.5, 0.5]])
    want = skm.log_loss(y, proba, labels=[0, 1])
    assert metrics.log_loss(y, proba) == pytest.approx(want, rel=1e-12)
    assert np.isfinite(want)


def test_brier_score_matches_sklearn(case):
    want = skm.brier_score_loss(case.y_true, case.scores, labels=range(case.k))
    got = metrics.brier_score(case.y_true, case.scores)
    assert got == pytest.approx(want, rel=1e-12)
    if case.k == 2:
        # two classes: the binary convention, mean squared error of the positive probability
        binary = skm.brier_score_loss(case.y_true, case.scores[:, 1])
        assert got == pytest.approx(binary, rel=1e-9)
    else:
        # three or more: the full multi-class sum, not halved
        assert got == pytest.approx(
            np.mean(np.sum((onehot(case.y_true, case.k) - case.scores) ** 2, axis=1)), rel=1e-12)


def reliability_loop(confidence, correct, n_bins):
    """Bins ``(lower, upper]`` on linspace(0, 1); the first bin also holds 0."""
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    count, conf, acc = [], [], []
    for b in range(n_bins):
        inside = (confidence > edges[b]) & (confidence <= edges[b + 1])
        if b == 0:
            inside |= confidence == 0.0
        count.append(inside.sum())
        conf.append(confidence[inside].mean() if inside.any() else np.nan)
        acc.append(correct[inside].mean() if inside.any() else np.nan)
    count = np.array(count)
    used = count > 0
    ece = np.sum(np.abs(np.array(acc) - np.array(conf))[used] * count[used]) / count.sum()
    return {"lower": edges[:-1], "upper": edges[1:], "count": count,
            "confidence": np.array(conf), "accuracy": np.array(acc)}, ece


@pytest.mark.parametrize("n_bins", [1, 5, 10, 15])
def test_reliability_and_ece_match_a_direct_loop(case, n_bins):
    confidence = case.scores[np.arange(case.y_true.size), case.y_pred]
    correct = case.y_true == case.y_pred
    bins = metrics.reliability(confidence, correct, n_bins=n_bins)
    want, want_ece = reliability_loop(confidence, correct, n_bins)
    for key in ("lower", "upper", "count", "confidence", "accuracy"):
        np.testing.assert_allclose(bins[key], want[key], **TIGHT, err_msg=key)
    assert bins["count"].sum() == confidence.size
    assert metrics.expected_calibration_error(bins) == pytest.approx(want_ece, abs=1e-12)


def test_reliability_bin_convention_on_edges():
    """(lower, upper]: a confidence on an edge goes to the bin below it; 0 goes to the first."""
    confidence = np.array([0.0, 0.1, np.nextafter(0.1, 1), 0.3, 0.55, 1.0])
    correct = np.array([True, False, True, True, False, True])
    bins = metrics.reliability(confidence, correct, n_bins=10)
    np.testing.assert_array_equal(bins["count"], [2, 1, 1, 0, 0, 1, 0, 0, 0, 1])
    assert bins["accuracy"][0] == 0.5 and bins["confidence"][0] == pytest.approx(0.05)
    assert np.isnan(bins["accuracy"][3]) and np.isnan(bins["confidence"][3])
    want, want_ece = reliability_loop(confidence, correct, 10)
    np.testing.assert_array_equal(bins["count"], want["count"])
    assert metrics.expected_calibration_error(bins) == pytest.approx(want_ece, abs=1e-15)


# --- drill-down ----------------------------------------------------------------------

def expected_cell(y_true, y_pred, confidence, i, j) -> list[int]:
    rows = np.flatnonzero((y_true == i) & (y_pred == j))
    return sorted(rows.tolist(), key=lambda r: (-confidence[r], r))


def test_cell_index_orders_by_confidence_then_file_order(case):
    confidence = case.scores[np.arange(case.y_true.size), case.y_pred]
    order, offsets = metrics.cell_index(case.y_true, case.y_pred, confidence, case.k)
    assert offsets.shape == (case.k * case.k + 1,) and offsets[-1] == case.y_true.size
    np.testing.assert_array_equal(np.sort(order), np.arange(case.y_true.size))
    for i in range(case.k):
        for j in range(case.k):
            c = i * case.k + j
            assert order[offsets[c]:offsets[c + 1]].tolist() == expected_cell(
                case.y_true, case.y_pred, confidence, i, j), (i, j)


def test_cell_samples_of_an_evaluation(case):
    ev = evaluate(case.dataset())
    confidence = case.scores[np.arange(case.y_true.size), case.y_pred]
    for i in range(case.k):
        for j in range(case.k):
            assert ev.cell_samples(i, j).tolist() == expected_cell(
                case.y_true, case.y_pred, confidence, i, j), (i, j)


def test_cell_samples_with_tied_confidence_keep_file_order():
    from evaldash import dataset_from_frame

    frame = pd.DataFrame({"label": ["a", "a", "a", "a", "b"],
                          "prediction": ["b", "b", "b", "a", "b"],
                          "score_a": [0.3, 0.1, 0.3, 0.9, 0.2],
                          "score_b": [0.7, 0.9, 0.7, 0.1, 0.8]})
    ev = evaluate(dataset_from_frame(frame))
    assert ev.cell_samples(0, 1).tolist() == [1, 0, 2]  # 0.9, then the two 0.7 in file order
    assert ev.cell_samples(0, 0).tolist() == [3]
    assert ev.cell_samples(1, 0).tolist() == []


def test_cell_samples_without_scores_keep_file_order():
    from evaldash import dataset_from_frame

    frame = pd.DataFrame({"label": ["x", "y", "x", "x", "y"],
                          "prediction": ["y", "y", "y", "x", "y"]})
    ev = evaluate(dataset_from_frame(frame))
    assert ev.cell_samples(0, 1).tolist() == [0, 2]
    assert ev.cell_samples(1, 1).tolist() == [1, 4]


# --- the evaluation report -------------------------------------------------------------

REPORT_KEYS = {"source", "n", "classes", "positive", "accuracy", "error_rate", "macro",
               "weighted", "micro", "confusion_matrix", "per_class", "roc_auc",
               "average_precision", "calibration", "warnings"}
PER_CLASS_KEYS = {"precision", "recall", "f1", "support", "specificity", "fpr", "prevalence",
                  "roc_auc", "average_precision"}


def test_report_matches_sklearn(case):
    report = evaluate(case.dataset()).report()
    y, s, k = case.y_true, case.scores, case.k

    assert REPORT_KEYS <= report.keys()
    assert report["n"] == y.size and report["classes"] == [str(c) for c in range(k)]
    assert report["accuracy"] == pytest.approx(skm.accuracy_score(y, case.y_pred), abs=1e-15)
    assert report["confusion_matrix"] == skm.confusion_matrix(y, case.y_pred, labels=range(k)).tolist()
    for top in (3, 5):
        if top < k:
            assert report[f"top_{top}"] == pytest.approx(
                skm.top_k_accuracy_score(y, s, k=top, labels=range(k)), abs=1e-15)
        else:
            assert f"top_{top}" not in report

    assert report["calibration"]["log_loss"] == pytest.approx(
        skm.log_loss(y, s, labels=range(k)), rel=1e-10)
    assert report["calibration"]["brier"] == pytest.approx(
        skm.brier_score_loss(y, s, labels=range(k)), rel=1e-10)

    auc, ap = [], []
    for c, name in enumerate(report["classes"]):
        row = report["per_class"][name]
        assert PER_CLASS_KEYS <= row.keys()
        positive = (y == c).astype(int)
        if 0 < positive.sum() < y.size:
            auc.append(skm.roc_auc_score(positive, s[:, c]))
            assert row["roc_auc"] == pytest.approx(auc[-1], rel=1e-10)
        else:
            assert np.isnan(row["roc_auc"])
            assert any(f"class {name!r}: ROC AUC" in w for w in report["warnings"])
        if positive.sum() > 0:
            ap.append(skm.average_precision_score(positive, s[:, c]))
            assert row["average_precision"] == pytest.approx(ap[-1], rel=1e-10)
        else:
            assert np.isnan(row["average_precision"])

    if k == 2:
        # binary: macro and micro are the positive class's values, as scikit-learn scores a
        # binary target (the second class is the default positive class)
        pos = (y == 1).astype(int)
        expected_auc = skm.roc_auc_score(pos, s[:, 1]) if 0 < pos.sum() < y.size else np.nan
        expected_ap = skm.average_precision_score(pos, s[:, 1]) if pos.sum() > 0 else np.nan
        for avg in ("macro", "micro"):
            assert report["roc_auc"][avg] == pytest.approx(expected_auc, rel=1e-10, nan_ok=True)
            assert report["average_precision"][avg] == pytest.approx(expected_ap, rel=1e-10, nan_ok=True)
        return

    # macro = mean over the classes where the metric is defined
    assert report["roc_auc"]["macro"] == pytest.approx(np.mean(auc) if auc else np.nan,
                                                       rel=1e-10, nan_ok=True)
    assert report["average_precision"]["macro"] == pytest.approx(np.mean(ap), rel=1e-10)
    if len(np.unique(y)) == k:  # every class present: scikit-learn's own macro agrees
        sk_macro = (skm.roc_auc_score(y, s[:, 1]) if k == 2 else
                    skm.roc_auc_score(y, s, multi_class="ovr", average="macro", labels=range(k)))
        assert report["roc_auc"]["macro"] == pytest.approx(sk_macro, rel=1e-10)
        assert report["average_precision"]["macro"] == pytest.approx(
            skm.average_precision_score(onehot(y, k), s, average="macro"), rel=1e-10)
    y_bin = onehot(y, k)
    assert report["roc_auc"]["micro"] == pytest.approx(
        skm.roc_auc_score(y_bin, s, average="micro"), rel=1e-10)
    assert report["average_precision"]["micro"] == pytest.approx(
        skm.average_precision_score(y_bin, s, average="micro"), rel=1e-10)



def test_report_on_the_digits_sample_has_known_values(digits_csv):
    from evaldash import load_predictions

    report = evaluate(load_predictions(digits_csv)).report()
    assert report["n"] == 899
    assert report["accuracy"] == pytest.approx(781 / 899)
    assert report["warnings"] == []
    assert {"top_3", "top_5"} <= report.keys()


def test_report_on_the_binary_sample_matches_sklearn_auc(binary_csv):
    from evaldash import load_predictions

    d = load_predictions(binary_csv)
    frame = pd.read_csv(binary_csv)
    positive = (frame["label"] == "three").to_numpy()
    report = evaluate(d).report()
    assert report["positive"] == "three" and positive.sum() == 92
    want = skm.roc_auc_score(positive, frame["score"])
    assert want == pytest.approx(0.9728, abs=5e-5)
    assert report["per_class"]["three"]["roc_auc"] == pytest.approx(want, rel=1e-12)
    # the other class is scored 1 - score, so its AUC is the same and so is the macro
    assert report["roc_auc"]["macro"] == pytest.approx(want, rel=1e-12)
    assert report["per_class"]["three"]["average_precision"] == pytest.approx(
        skm.average_precision_score(positive, frame["score"]), rel=1e-12)


def test_report_threshold_section_matches_sklearn(binary_csv):
    from evaldash import load_predictions

    frame = pd.read_csv(binary_csv)
    positive = (frame["label"] == "three").to_numpy()
    report = evaluate(load_predictions(binary_csv), threshold=0.3).report()
    at = report["threshold"]["per_class"]["three"]
    want = sklearn_at(positive, frame["score"].to_numpy(), 0.3)
    assert (at["tp"], at["fp"], at["fn"], at["tn"]) == (want["tp"], want["fp"], want["fn"], want["tn"])
    assert at["f1"] == pytest.approx(want["f1"], rel=1e-12)
    # the predictions themselves became score >= 0.3
    assert report["accuracy"] == pytest.approx(
        skm.accuracy_score(positive, frame["score"] >= 0.3), abs=1e-15)


@pytest.mark.parametrize("mirror", ["one_minus", "negate"])
@pytest.mark.parametrize("seed", range(12))
def test_mirrored_sweeps_equal_two_separate_sweeps(seed, mirror):
    """Both classes' sweeps from one sort equal the sweeps of each column sorted on its own,
    including ties and scores so small that 1 - s merges them."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 400))
    kind = seed % 3
    s = (rng.random(n) if kind == 0 else rng.integers(0, 5, n) / 4.0 if kind == 1
         else np.concatenate([rng.random(n) * 1e-17, [1.0, 0.0]]))
    y = rng.random(s.size) < 0.3
    f = (lambda v: 1.0 - v) if mirror == "one_minus" else np.negative
    got = metrics.mirrored_sweeps(s, y, f)
    want = (metrics.threshold_sweep(s, y), metrics.threshold_sweep(f(s), ~y))
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g.thresholds, w.thresholds)
        np.testing.assert_array_equal(g.tp, w.tp)
        np.testing.assert_array_equal(g.fp, w.fp)
        assert (g.n_pos, g.n_neg) == (w.n_pos, w.n_neg)


def test_pr_curve_of_a_class_with_no_positives_is_sklearns():
    # class 2 has scores but no sample: scikit-learn warns and sets its recall to 1
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 80)
    scores = rng.dirichlet(np.ones(3), size=80).round(2)
    ev = evaluate(dataset_from_frame(pd.DataFrame({"label": y, "score_0": scores[:, 0], "score_1": scores[:, 1],
                                                   "score_2": scores[:, 2]})))
    sweep = ev.sweep(2)
    assert sweep.n_pos == 0 and sweep.undefined_reason() == "no positive samples"
    with pytest.warns(UserWarning, match="No positive class found in y_true, recall is set to one"):
        sk_p, sk_r, sk_th = skm.precision_recall_curve(y == 2, scores[:, 2])
    precision, recall, th = sweep.pr()
    np.testing.assert_array_equal(th, sk_th)
    np.testing.assert_array_equal(precision, sk_p)
    np.testing.assert_array_equal(recall, sk_r)
    # the drawn curve of the class is built from the same points
    curves = ev.class_curves(2)
    assert set(np.round(curves["pr_recall"], 6)) <= {0.0, 1.0} and np.isfinite(curves["pr_precision"]).all()
