"""Operating points: every number checked against a direct computation on the raw scores.

Deployment figures against counting on a test set whose positives and negatives are replicated
to the target prevalence; intervals against a loop drawing one resample at a time with the same
seed (and against index resampling in distribution); the cost minimum against a scan of every
threshold; flips against set differences; the per-class rule against a per-row implementation.
"""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from evaldash import decision as dc
from evaldash.bootstrap import percentile_interval
from evaldash.errors import InputError
from evaldash.metrics import suggest_max_f1, threshold_sweep


def _binary(seed: int, n: int, ties: bool, share: float = 0.3):
    """Scores leaning towards the positives; with ``ties`` few distinct values (many equal)."""
    rng = np.random.default_rng(seed)
    positive = rng.random(n) < share
    score = np.clip(rng.normal(0.35 + 0.3 * positive, 0.2), 0, 1)
    if ties:
        score = np.round(score * 8) / 8
    return score, positive


def _candidates(score: np.ndarray) -> np.ndarray:
    """Every threshold worth trying: +inf, every distinct score, and points between and around them."""
    u = np.unique(score)
    mids = (u[1:] + u[:-1]) / 2
    return np.concatenate([[np.inf, -np.inf, u[0] - 1, u[-1] + 1], u, mids])


# --- deployment figures at a prevalence --------------------------------------------------------

def _replicated(score, positive, a: int, b: int):
    """The test set with each positive repeated ``a`` times and each negative ``b`` times."""
    reps = np.where(positive, a, b)
    return np.repeat(score, reps), np.repeat(positive, reps)


def _direct_figures(score, positive, t, cost_fp, cost_fn, value_tp, volume):
    """Count directly on a (replicated) test set: the deployment world made concrete."""
    n = score.size
    flagged = score >= t
    tp = int(np.sum(flagged & positive))
    fp = int(np.sum(flagged & ~positive))
    fn = int(np.sum(~flagged & positive))
    cost = (cost_fp * fp + cost_fn * fn - value_tp * tp) / n * 1e4
    return {"precision": tp / (tp + fp) if tp + fp else math.nan,
            "alerts_per_10k": (tp + fp) / n * 1e4, "missed_per_10k": fn / n * 1e4, "cost_per_10k": cost,
            "cost_per_day": cost * volume / 1e4, "alerts_per_day": (tp + fp) / n * volume,
            "missed_per_day": fn / n * volume,
            "recall": tp / positive.sum(), "fpr": fp / (~positive).sum()}


@pytest.mark.parametrize("seed,ties,a,b", [(0, True, 1, 19), (1, False, 7, 2), (2, True, 3, 3), (3, False, 1, 50)])
def test_figures_equal_counts_on_a_test_set_replicated_to_the_prevalence(seed, ties, a, b):
    score, positive = _binary(seed, 300, ties)
    sweep = threshold_sweep(score, positive)
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    prevalence = a * n_pos / (a * n_pos + b * n_neg)  # exactly the replicated set's
    inputs = dc.DeploymentInputs(prevalence, cost_fp=2.5, cost_fn=7.0, value_tp=1.5, volume_per_day=12345)
    big_score, big_positive = _replicated(score, positive, a, b)
    assert big_positive.mean() == pytest.approx(prevalence, abs=1e-15)
    for t in _candidates(score):
        got = dc.deployment_figures(sweep, float(t), inputs, resamples=0).values
        want = _direct_figures(big_score, big_positive, t, 2.5, 7.0, 1.5, 12345)
        for name in dc.FIGURES:
            if math.isnan(want[name]):
                assert math.isnan(got[name]), (t, name)
            else:
                assert got[name] == pytest.approx(want[name], rel=1e-12, abs=1e-9), (t, name)


def test_default_inputs_are_the_test_set_so_precision_is_the_measured_one():
    score, positive = _binary(4, 500, ties=True)
    sweep = threshold_sweep(score, positive)
    for t in (0.25, 0.5, 0.75):
        f = dc.deployment_figures(sweep, t, resamples=0)
        flagged = score >= t
        assert f.inputs == dc.DeploymentInputs(positive.mean())
        assert f.values["precision"] == pytest.approx((flagged & positive).sum() / flagged.sum(), rel=1e-12)
        assert f.values["cost_per_10k"] == pytest.approx(1e4 * np.mean(flagged != positive), rel=1e-12)
        assert math.isnan(f.values["cost_per_day"])  # no volume given


def test_nothing_flagged_has_undefined_precision_and_everything_missed():
    score, positive = _binary(5, 200, ties=False)
    sweep = threshold_sweep(score, positive)
    inputs = dc.DeploymentInputs(0.01, cost_fp=1, cost_fn=50)
    f = dc.deployment_figures(sweep, math.inf, inputs, resamples=200)
    assert math.isnan(f.values["precision"]) and f.values["alerts_per_10k"] == 0
    assert f.values["missed_per_10k"] == pytest.approx(100) and f.values["cost_per_10k"] == pytest.approx(5000)
    assert f.precision_undefined_share == 1.0 and all(math.isnan(v) for v in f.intervals["precision"])
    assert f.intervals["cost_per_10k"] == pytest.approx((5000, 5000))


def test_prevalence_zero_or_one_needs_only_one_side_of_the_test_set():
    score = np.array([0.1, 0.4, 0.6, 0.9])
    negatives_only = threshold_sweep(score, np.zeros(4, bool))
    f = dc.deployment_figures(negatives_only, 0.5, dc.DeploymentInputs(0.0), resamples=50)
    assert f.values["alerts_per_10k"] == 5000 and f.values["precision"] == 0 and f.values["cost_per_10k"] == 5000
    assert math.isnan(f.values["recall"])
    # a positive prevalence needs positives to measure recall on: undefined, not a guess
    g = dc.deployment_figures(negatives_only, 0.5, dc.DeploymentInputs(0.1), resamples=50)
    assert math.isnan(g.values["precision"]) and math.isnan(g.values["cost_per_10k"])
    assert all(math.isnan(v) for v in g.intervals["cost_per_10k"])
    positives_only = threshold_sweep(score, np.ones(4, bool))
    h = dc.deployment_figures(positives_only, 0.5, dc.DeploymentInputs(1.0), resamples=50)
    assert h.values["precision"] == 1 and h.values["missed_per_10k"] == 5000


@pytest.mark.parametrize("seed,ties", [(0, True), (1, False), (2, True)])
def test_intervals_equal_a_direct_loop_with_the_same_seed(seed, ties):
    """One resample at a time: draw the resampled test set's flagged positives and negatives with
    the same generators, build that test set, replicate it to the prevalence and count."""
    score, positive = _binary(seed, 120, ties)
    sweep = threshold_sweep(score, positive)
    t, B, a, b = 0.5, 300, 2, 9
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    prevalence = a * n_pos / (a * n_pos + b * n_neg)
    inputs = dc.DeploymentInputs(prevalence, cost_fp=1.0, cost_fn=10.0, value_tp=0.5, volume_per_day=5000)
    got = dc.deployment_figures(sweep, t, inputs, resamples=B, seed=seed + 11)

    tp, fp = int(np.sum((score >= t) & positive)), int(np.sum((score >= t) & ~positive))
    pos_rng, neg_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed + 11).spawn(2))
    rows = {name: [] for name in dc.FIGURES}
    for _ in range(B):
        tp_b = pos_rng.binomial(n_pos, tp / n_pos)
        fp_b = neg_rng.binomial(n_neg, fp / n_neg)
        # the resampled test set: scores 1 (flagged) or 0, as many of each as drawn
        s = np.concatenate([np.ones(tp_b), np.zeros(n_pos - tp_b), np.ones(fp_b), np.zeros(n_neg - fp_b)])
        p = np.concatenate([np.ones(n_pos, bool), np.zeros(n_neg, bool)])
        direct = _direct_figures(*_replicated(s, p, a, b), 0.5, 1.0, 10.0, 0.5, 5000)
        for name in dc.FIGURES:
            rows[name].append(direct[name])
    for name in dc.FIGURES:
        want = percentile_interval(np.array(rows[name]))
        np.testing.assert_allclose(got.intervals[name], want, rtol=1e-10, atol=1e-9, err_msg=name)
    undefined = np.mean(np.isnan(rows["precision"]))
    assert got.precision_undefined_share == pytest.approx(undefined)
    for name in dc.FIGURES:  # the estimate lies inside its interval
        assert got.intervals[name][0] - 1e-9 <= got.values[name] <= got.intervals[name][1] + 1e-9


def test_share_of_resamples_flagging_nothing_equals_the_loops():
    score = np.array([0.9, 0.1, 0.1] + [0.1] * 50)
    positive = np.arange(53) < 3  # one of three positives flagged at 0.5, no negative
    f = dc.deployment_figures(threshold_sweep(score, positive), 0.5, dc.DeploymentInputs(0.1), resamples=2000, seed=5)
    pos_rng, _ = (np.random.default_rng(s) for s in np.random.SeedSequence(5).spawn(2))
    none = np.mean([pos_rng.binomial(3, 1 / 3) == 0 for _ in range(2000)])
    assert f.precision_undefined_share == none and 0.25 < none < 0.35  # (2/3)^3 = 0.296
    assert f.intervals["precision"] == (1.0, 1.0)  # over the resamples that flag something


def test_binomial_draws_have_the_distribution_of_stratified_index_resampling():
    score, positive = _binary(7, 150, ties=True)
    sweep = threshold_sweep(score, positive)
    t, B = 0.5, 20000
    inputs = dc.DeploymentInputs(0.05, cost_fp=1, cost_fn=20)
    tpr, fpr = dc.resampled_rates(*(int(v) for v in sweep.counts_at(t)), sweep.n_pos, sweep.n_neg, B, 1)
    fast = dc.figures_from_rates(tpr, fpr, inputs)
    rng = np.random.default_rng(2)
    pos_scores, neg_scores = score[positive], score[~positive]
    slow_tpr = (pos_scores[rng.integers(0, pos_scores.size, (B, pos_scores.size))] >= t).mean(axis=1)
    slow_fpr = (neg_scores[rng.integers(0, neg_scores.size, (B, neg_scores.size))] >= t).mean(axis=1)
    slow = dc.figures_from_rates(slow_tpr, slow_fpr, inputs)
    for name in ("precision", "alerts_per_10k", "cost_per_10k"):
        spread = np.quantile(slow[name], 0.975) - np.quantile(slow[name], 0.025)
        np.testing.assert_allclose(np.quantile(fast[name], [0.025, 0.5, 0.975]),
                                   np.quantile(slow[name], [0.025, 0.5, 0.975]), atol=0.03 * spread)


def test_intervals_are_seeded_and_narrow_with_more_data():
    small = threshold_sweep(*_binary(8, 200, ties=False))
    large = threshold_sweep(*_binary(8, 20000, ties=False))
    inputs = dc.DeploymentInputs(0.02, cost_fp=1, cost_fn=30, volume_per_day=1000)
    one = dc.deployment_figures(small, 0.5, inputs, seed=3)
    assert one.intervals == dc.deployment_figures(small, 0.5, inputs, seed=3).intervals
    assert one.intervals != dc.deployment_figures(small, 0.5, inputs, seed=4).intervals
    wide = one.intervals["precision"][1] - one.intervals["precision"][0]
    big = dc.deployment_figures(large, 0.5, inputs, seed=3).intervals["precision"]
    assert big[1] - big[0] < wide / 4


@pytest.mark.parametrize("kwargs,match", [
    ({"prevalence": 1.5}, "prevalence must be a number between 0 and 1, got 1.5"),
    ({"prevalence": math.nan}, "prevalence must be a number between 0 and 1"),
    ({"prevalence": "0.1"}, "prevalence must be a number"),
    ({"prevalence": 0.1, "cost_fp": -1}, "cost_fp must be a finite number >= 0, got -1"),
    ({"prevalence": 0.1, "cost_fn": math.inf}, "cost_fn must be a finite number >= 0"),
    ({"prevalence": 0.1, "value_tp": True}, "value_tp must be a finite number"),
    ({"prevalence": 0.1, "volume_per_day": -5}, "volume_per_day must be a finite number >= 0 or None"),
])
def test_bad_inputs_say_what_was_expected(kwargs, match):
    with pytest.raises(InputError, match=match):
        dc.DeploymentInputs(**kwargs)


def test_bad_threshold_or_resamples_are_refused():
    sweep = threshold_sweep(*_binary(9, 50, ties=True))
    with pytest.raises(InputError, match="threshold must be a number, got nan"):
        dc.deployment_figures(sweep, math.nan)
    with pytest.raises(InputError, match="resamples must be >= 0, got -1"):
        dc.deployment_figures(sweep, 0.5, resamples=-1)


# --- expected cost against threshold ------------------------------------------------------------

def _brute_force_costs(score, positive, inputs):
    """(thresholds, cost per 10,000) at +inf and every distinct score, high to low, from the raw scores."""
    ths = np.concatenate([[np.inf], np.unique(score)[::-1]])
    pi = inputs.prevalence
    costs = []
    for t in ths:
        flagged = score >= t
        tpr = np.sum(flagged & positive) / positive.sum()
        fpr = np.sum(flagged & ~positive) / (~positive).sum()
        costs.append(1e4 * (inputs.cost_fp * fpr * (1 - pi) + inputs.cost_fn * pi * (1 - tpr)
                            - inputs.value_tp * tpr * pi))
    return ths, np.array(costs)


def _best(ths, costs):
    """The minimum; ties within 1e-9 of the largest |cost| go to the highest threshold."""
    tol = 1e-9 * np.abs(costs).max()
    best = min(costs)
    for t, c in zip(ths, costs):  # high to low
        if c <= best + tol:
            return t, c


@pytest.mark.parametrize("seed", range(8))
def test_cost_minimum_equals_a_brute_force_scan_of_every_threshold(seed):
    rng = np.random.default_rng(100 + seed)
    score, positive = _binary(seed, int(rng.integers(20, 400)), ties=bool(seed % 2))
    inputs = dc.DeploymentInputs(float(rng.uniform(0.001, 0.6)), cost_fp=float(rng.uniform(0, 5)),
                                 cost_fn=float(rng.uniform(0, 50)), value_tp=float(rng.uniform(0, 3)))
    curve = dc.cost_curve(threshold_sweep(score, positive), inputs)
    ths, costs = _brute_force_costs(score, positive, inputs)
    np.testing.assert_array_equal(curve.thresholds, ths)
    np.testing.assert_allclose(curve.cost_per_10k, costs, rtol=1e-12, atol=1e-9)
    t, c = _best(ths, costs)
    assert curve.best_threshold == t and curve.best_cost == pytest.approx(c, rel=1e-12, abs=1e-9)


def test_cost_minimum_can_be_flagging_nothing_or_everything_and_ties_take_the_highest():
    score, positive = _binary(11, 300, ties=True)
    # a false alarm at the top, a positive at the bottom
    score, positive = np.append(score, [1.0, 1.0, 0.0]), np.append(positive, [False, False, True])
    sweep = threshold_sweep(score, positive)
    nothing = dc.cost_curve(sweep, dc.DeploymentInputs(0.001, cost_fp=10, cost_fn=1))
    assert nothing.best_threshold == math.inf and nothing.best_cost == nothing.nothing_flagged_cost
    everything = dc.cost_curve(sweep, dc.DeploymentInputs(0.5, cost_fp=0.001, cost_fn=100))
    assert everything.best_threshold == score.min() and everything.best_cost == everything.everything_flagged_cost
    free = dc.cost_curve(sweep, dc.DeploymentInputs(0.2, cost_fp=0, cost_fn=0))  # every threshold ties
    assert free.best_threshold == math.inf
    # with cost_fp = 0, every threshold that catches every positive ties: the highest of them wins
    catch_all = dc.cost_curve(sweep, dc.DeploymentInputs(0.2, cost_fp=0, cost_fn=1))
    assert catch_all.best_threshold == score[positive].min()


def test_cost_curve_reduced_for_drawing_keeps_the_minimum_ends_and_values():
    score, positive = _binary(12, 50_000, ties=False)
    curve = dc.cost_curve(threshold_sweep(score, positive), dc.DeploymentInputs(0.01, cost_fp=1, cost_fn=80))
    drawn = curve.drawn(max_points=500)
    assert drawn["threshold"].size <= 503
    assert curve.best_threshold in drawn["threshold"]
    assert drawn["threshold"][0] == score.max() and drawn["threshold"][-1] == score.min()
    assert np.all(np.diff(drawn["threshold"]) < 0)
    at = np.searchsorted(-curve.thresholds, -drawn["threshold"])
    np.testing.assert_array_equal(drawn["cost_per_10k"], curve.cost_per_10k[at])
    for i in (0, drawn["threshold"].size // 2, -1):
        f = dc.deployment_figures(curve.sweep, float(drawn["threshold"][i]), curve.inputs, resamples=0).values
        assert drawn["alerts_per_10k"][i] == pytest.approx(f["alerts_per_10k"])
        assert drawn["recall"][i] == pytest.approx(f["recall"])


def test_cost_curve_without_positives_is_undefined_not_a_crash():
    curve = dc.cost_curve(threshold_sweep(np.array([0.2, 0.7]), np.zeros(2, bool)), dc.DeploymentInputs(0.3))
    assert curve.best_index is None and math.isnan(curve.best_threshold) and math.isnan(curve.best_cost)


# --- flips ------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(5))
def test_flips_equal_set_differences(seed):
    score, positive = _binary(seed, 400, ties=bool(seed % 2))
    sweep = threshold_sweep(score, positive)
    cands = _candidates(score)
    rng = np.random.default_rng(seed)
    pairs = [tuple(rng.choice(cands, 2)) for _ in range(25)] + [(0.5, 0.5), (np.inf, 0.3), (0.3, np.inf)]
    pos, neg = set(np.flatnonzero(positive)), set(np.flatnonzero(~positive))
    for a, b in pairs:
        at_a, at_b = set(np.flatnonzero(score >= a)), set(np.flatnonzero(score >= b))
        f = dc.flips(score, positive, float(a), float(b))
        assert f.new_tp.tolist() == sorted((at_b - at_a) & pos)
        assert f.new_fp.tolist() == sorted((at_b - at_a) & neg)
        assert f.new_fn.tolist() == sorted((at_a - at_b) & pos)
        assert f.new_tn.tolist() == sorted((at_a - at_b) & neg)
        assert all(getattr(f, k).dtype == np.int64 for k in f.counts)
        # the counts agree with the sweep's
        (tp_a, tp_b), (fp_a, fp_b) = sweep.counts_at(np.array([a, b]))
        assert f.counts["new_tp"] - f.counts["new_fn"] == tp_b - tp_a
        assert f.counts["new_fp"] - f.counts["new_tn"] == fp_b - fp_a


def test_flips_refuse_a_nan_threshold():
    with pytest.raises(InputError, match="threshold b must be a number"):
        dc.flips(np.array([0.1]), np.array([True]), 0.5, math.nan)


# --- per-class thresholds ------------------------------------------------------------------------

def _rule_by_row(scores, thresholds, fallback):
    """The rule written plainly, one row at a time."""
    out = []
    for row in scores:
        passing = [c for c in range(len(row)) if row[c] >= thresholds[c]]
        if passing:
            top = max(row[c] for c in passing)
            out.append(min(c for c in passing if row[c] == top))
        elif fallback == "argmax":
            top = max(row)
            out.append(min(c for c in range(len(row)) if row[c] == top))
        else:
            out.append(-1)
    return np.array(out)


def _multiclass(seed: int, n: int, k: int):
    """Scores of few distinct values: many ties within rows and with the thresholds."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    raw = rng.integers(0, 5, (n, k)).astype(float)
    raw[np.arange(n), y] += rng.integers(0, 4, n)
    raw[raw.sum(axis=1) == 0, 0] = 1
    return y, raw / raw.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("seed,k", [(0, 3), (1, 5), (2, 2), (3, 8)])
@pytest.mark.parametrize("fallback", ["abstain", "argmax"])
def test_per_class_rule_equals_a_per_row_implementation_with_ties(seed, k, fallback):
    y, scores = _multiclass(seed, 600, k)
    rng = np.random.default_rng(seed)
    values = np.unique(scores)
    for trial in range(6):
        thresholds = rng.choice(values, k)  # thresholds equal to scores: ties on both sides
        if trial == 1:
            thresholds[0] = np.inf
        if trial == 2:
            thresholds[-1] = -np.inf
        got = dc.apply_thresholds(scores, thresholds, fallback)
        np.testing.assert_array_equal(got, _rule_by_row(scores, thresholds, fallback))
    # all thresholds 0 with "argmax": the plain argmax
    np.testing.assert_array_equal(dc.apply_thresholds(scores, np.zeros(k), fallback), np.argmax(scores, axis=1))


@pytest.mark.parametrize("fallback", ["abstain", "argmax"])
def test_operating_points_counts_and_metrics_equal_sklearn(fallback):
    y, scores = _multiclass(4, 500, 4)
    thresholds = np.array([0.4, 0.3, 0.5, np.inf])  # class 3 never passes: predicted only by argmax
    op = dc.operating_points(y, scores, thresholds, fallback)
    pred = _rule_by_row(scores, thresholds, fallback)
    np.testing.assert_array_equal(op.predictions, pred)
    full = confusion_matrix(y, pred, labels=[0, 1, 2, 3, -1])
    np.testing.assert_array_equal(op.confusion, full[:4])
    prec, rec, f1, support = precision_recall_fscore_support(y, pred, labels=range(4), zero_division=0)
    np.testing.assert_allclose(op.per_class["precision"], prec)
    np.testing.assert_allclose(op.per_class["recall"], rec)
    np.testing.assert_allclose(op.per_class["f1"], f1)
    np.testing.assert_array_equal(op.per_class["support"], support)
    assert op.coverage == pytest.approx(np.mean(pred != -1))
    assert op.accuracy == pytest.approx(np.mean(pred == y))
    assert op.accuracy_covered == pytest.approx(np.mean(pred[pred != -1] == y[pred != -1]))
    assert op.macro["f1"] == pytest.approx(f1.mean())
    if fallback == "argmax":
        assert op.coverage == 1.0 and op.abstained == 0
    rep = op.report(["a", "b", "c", "d"])
    assert rep["per_class"]["d"]["threshold"] == math.inf and rep["confusion_columns"][-1] == "(abstained)"
    assert rep["rule"] == dc.RULES[fallback]


def test_operating_points_when_everything_abstains():
    y, scores = _multiclass(5, 50, 3)
    op = dc.operating_points(y, scores, np.full(3, np.inf))
    assert op.coverage == 0 and op.abstained == 50 and op.accuracy == 0 and math.isnan(op.accuracy_covered)
    assert (op.per_class["precision"] == 0).all() and (op.per_class["recall"] == 0).all()


@pytest.mark.parametrize("thresholds,fallback,match", [
    ([0.5, 0.5], "abstain", r"expected one threshold per class \(3\), got shape \(2,\)"),
    ([0.5, math.nan, 0.5], "abstain", "thresholds must be numbers, got NaN for class index 1"),
    ([0.5, 0.5, 0.5], "nothing", "fallback must be one of abstain, argmax, got 'nothing'"),
])
def test_bad_rules_are_refused(thresholds, fallback, match):
    with pytest.raises(InputError, match=match):
        dc.apply_thresholds(np.zeros((4, 3)), thresholds, fallback)


def test_suggested_thresholds_maximise_f1_or_minimise_cost_class_by_class():
    y, scores = _multiclass(6, 400, 4)
    y[y == 3] = 0  # class 3 has no positives
    sweeps = [threshold_sweep(scores[:, c], y == c) for c in range(4)]
    f1_t = dc.suggest_thresholds(sweeps, "f1")
    cost_t = dc.suggest_thresholds(sweeps, "cost", cost_fp=1, cost_fn=4, value_tp=0.5)
    for c in range(3):
        s, pos = scores[:, c], y == c
        ths = np.unique(s)[::-1]
        f1 = [2 * np.sum((s >= t) & pos) / (np.sum(s >= t) + pos.sum()) for t in ths]
        assert f1_t[c] == ths[int(np.argmax(f1))] == suggest_max_f1(sweeps[c])  # the highest of the best
        all_ths = np.concatenate([[np.inf], ths])
        cost = np.array([np.sum((s >= t) & ~pos) + 4 * np.sum((s < t) & pos) - 0.5 * np.sum((s >= t) & pos)
                         for t in all_ths])
        assert cost_t[c] == _best(all_ths, cost)[0]
    assert f1_t[3] == np.inf and cost_t[3] == np.inf  # never flag a class without positives
    with pytest.raises(InputError, match="objective must be 'f1' or 'cost', got 'auc'"):
        dc.suggest_thresholds(sweeps, "auc")


# --- thresholds file ---------------------------------------------------------------------------

CLASSES = ("cat", "dog", "bird")


def test_thresholds_file_round_trip(tmp_path):
    path = tmp_path / "t.json"
    path.write_text(dc.thresholds_json(CLASSES, [0.25, np.inf, 1e-3], "argmax"))
    rule = dc.load_thresholds(path, CLASSES)
    np.testing.assert_array_equal(rule.thresholds, [0.25, np.inf, 1e-3])
    assert rule.fallback == "argmax"
    assert json.loads(path.read_text())["thresholds"]["dog"] is None
    path.write_text('{"thresholds": {"bird": 0.1, "cat": 1, "dog": 0.5}}')  # any order; fallback optional
    rule = dc.load_thresholds(path, CLASSES)
    np.testing.assert_array_equal(rule.thresholds, [1, 0.5, 0.1])
    assert rule.fallback == "abstain"


@pytest.mark.parametrize("content,match", [
    ("{not json", r"t.json: not valid JSON .*expected \{\"thresholds\""),
    ("[1, 2]", "t.json: expected a JSON object with a 'thresholds' object, got list"),
    ('{"fallback": "abstain"}', "t.json: missing key 'thresholds'"),
    ('{"thresholds": [0.5, 0.5, 0.5]}', "t.json: key 'thresholds' is list; expected an object of class name"),
    ('{"thresholds": {"cat": 0.5, "dog": 0.5, "bird": 0.5}, "fallbak": "argmax"}',
     r"t.json: unknown key\(s\) \['fallbak'\]"),
    ('{"thresholds": {"cat": 0.5, "dog": 0.5, "bird": 0.5}, "fallback": "none"}',
     "t.json: key 'fallback' is 'none'; expected \"abstain\" or \"argmax\""),
    ('{"thresholds": {"cat": 0.5, "dog": 0.5, "bird": 0.5, "cow": 0.5}}',
     r"t.json: thresholds.'cow' is not a class of the predictions file; classes are \['cat', 'dog', 'bird'\]"),
    ('{"thresholds": {"cat": 0.5}}', r"t.json: no threshold for class\(es\) \['dog', 'bird'\]"),
    ('{"thresholds": {"cat": "0.5", "dog": 0.5, "bird": 0.5}}', "t.json: thresholds.'cat' is '0.5'; expected a number"),
    ('{"thresholds": {"cat": true, "dog": 0.5, "bird": 0.5}}', "t.json: thresholds.'cat' is True; expected a number"),
    ('{"thresholds": {"cat": NaN, "dog": 0.5, "bird": 0.5}}', "t.json: thresholds.'cat' is nan; expected a number"),
])
def test_bad_thresholds_files_name_the_file_key_and_expectation(tmp_path, content, match):
    path = tmp_path / "t.json"
    path.write_text(content)
    with pytest.raises(InputError, match=match):
        dc.load_thresholds(path, CLASSES)


def test_missing_thresholds_file_is_named(tmp_path):
    with pytest.raises(InputError, match="nope.json: thresholds file not found"):
        dc.load_thresholds(tmp_path / "nope.json", CLASSES)


# --- decision record -----------------------------------------------------------------------------

def _record(**overrides) -> dc.DecisionRecord:
    score, positive = _binary(13, 300, ties=True)
    figures = dc.deployment_figures(threshold_sweep(score, positive), 0.5,
                                    dc.DeploymentInputs(0.02, cost_fp=1, cost_fn=25, volume_per_day=80_000),
                                    resamples=200)
    kwargs = {"fingerprint": "abcdef0123456789", "model_file": "runs/model-7.csv", "class_name": "fraud",
              "rationale": "Recall matters more than alerts:\nteam can handle 300 a day.", "approver": "Dana | Risk",
              "created_at": dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))}
    kwargs.update(overrides)
    return dc.decision_record(figures, **kwargs)


def test_record_json_round_trip_keeps_everything():
    rec = _record()
    assert rec.created_at == dt.datetime(2026, 3, 1, 7, 30, tzinfo=dt.timezone.utc)  # kept in UTC
    text = rec.to_json()
    data = json.loads(text)
    assert data["class"] == "fraud" and data["threshold"] == 0.5 and data["inputs"]["cost_fn"] == 25
    assert data["created_at"] == "2026-03-01T07:30:00+00:00"
    assert set(data["figures"]) == set(dc.FIGURES)
    assert data["figures"]["precision"]["low"] <= data["figures"]["precision"]["value"]
    back = dc.DecisionRecord.from_json(text)
    assert back.to_json() == text and back.figures == rec.figures and back.inputs == rec.inputs
    assert back.created_at == rec.created_at and back.rationale == rec.rationale


def test_record_with_undefined_figures_and_infinite_threshold_round_trips():
    score, positive = _binary(14, 100, ties=True)
    figures = dc.deployment_figures(threshold_sweep(score, positive), math.inf, resamples=50)
    rec = dc.decision_record(figures, fingerprint="f" * 16, model_file="m.csv", class_name="1", approver="x")
    data = json.loads(rec.to_json())  # strict JSON: no NaN or Infinity
    assert data["threshold"] is None and data["figures"]["precision"]["value"] is None
    assert data["inputs"]["volume_per_day"] is None
    back = dc.DecisionRecord.from_json(rec.to_json())
    assert back.threshold == math.inf and math.isnan(back.figures["precision"]["value"])
    assert back.inputs.volume_per_day is None and back.to_json() == rec.to_json()
    assert "+inf (nothing flagged)" in back.to_markdown()


def test_record_markdown_says_who_what_why_and_the_figures():
    md = _record().to_markdown()
    assert md.startswith("# Operating point: class fraud at threshold 0.5\n")
    for needle in ("**Approver:** Dana \\| Risk", "2026-03-01 07:30:00", "`runs/model-7.csv`",
                   "`abcdef0123456789`", "Recall matters more than alerts\\:  \nteam can handle 300 a day\\.",
                   "| expected prevalence in deployment | 2.0000% |", "| cost of a false negative | 25 |",
                   "| volume per day | 80000 |", "| precision at the deployment prevalence |",
                   "| expected cost per day |", "95% interval", "200 resamples"):
        assert needle in md, needle
    no_volume = _record()
    no_volume = dc.DecisionRecord(**{**no_volume.__dict__, "inputs": dc.DeploymentInputs(0.02)})
    assert "per day" not in no_volume.to_markdown().split("## Resulting")[1]


@pytest.mark.parametrize("change,match", [
    (lambda d: d.pop("threshold"), "missing key 'threshold'"),
    (lambda d: d.update(format="x"), "not an evaldash decision record"),
    (lambda d: d.update(version=9), "record version 9; this evaldash reads version 1"),
    (lambda d: d.update(approver=3), "key 'approver' is 3; expected str"),
    (lambda d: d["inputs"].update(prevalence=2), "inputs: prevalence must be a number between 0 and 1"),
    (lambda d: d["figures"]["recall"].update(low="a"), "figures.recall.low is 'a'; expected a number or null"),
    (lambda d: d["test_counts"].update(tp=1.5), "test_counts.tp is 1.5; expected a whole number"),
    (lambda d: d.update(created_at="yesterday"), "key 'created_at' is 'yesterday'; expected an ISO date"),
])
def test_bad_records_name_the_key(change, match):
    data = json.loads(_record().to_json())
    change(data)
    with pytest.raises(InputError, match=match):
        dc.DecisionRecord.from_json(json.dumps(data), "rec.json")
    with pytest.raises(InputError, match="rec.json: not valid JSON"):
        dc.DecisionRecord.from_json("{", "rec.json")
