"""Choosing an operating point: what a threshold means in deployment, and a record of the choice.

Every figure here comes from one class's :class:`~evaldash.metrics.ThresholdSweep` (one-vs-rest,
``score >= t`` is positive). Recall (TPR) and the false-positive rate (FPR) do not depend on the
class balance, so the deployment figures are derived from them and an expected prevalence ``π``:

* precision at ``π``      = TPR·π / (TPR·π + FPR·(1 − π))          (NaN when nothing is flagged)
* alerts per 10,000       = 10⁴ · (TPR·π + FPR·(1 − π))
* missed per 10,000       = 10⁴ · π · (1 − TPR)
* expected cost per 10,000 = 10⁴ · (cost_fp·FPR·(1 − π) + cost_fn·π·(1 − TPR) − value_tp·TPR·π)
* per day                 = volume / 10⁴ × the per-10,000 figure

Their uncertainty comes from TPR and FPR as measured on the test set. The interval resamples the
positives and the negatives separately (stratified, since ``π`` is an input, not a measurement):
the number of resampled positives above the threshold is exactly Binomial(n_pos, TPR), and of
negatives Binomial(n_neg, FPR), so each resample is two binomial draws, vectorised.

Also here: the expected cost at every threshold and its minimum, the samples that flip when the
threshold moves, per-class thresholds for multi-class data (with abstention), the thresholds file
of ``evaldash report --thresholds``, and the signed-off :class:`DecisionRecord`.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import numbers
import sys
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Sequence

import numpy as np

from evaldash import metrics
from evaldash.bootstrap import DEFAULT_RESAMPLES, DEFAULT_SEED, LEVEL, percentile_interval
from evaldash.confusion_counts import ConfusionCounts, confusion_counts
from evaldash.errors import InputError

PER = 10_000  # figures are given per this many items
FIGURES = ("recall", "fpr", "precision", "alerts_per_10k", "missed_per_10k", "cost_per_10k",
           "alerts_per_day", "missed_per_day", "cost_per_day")
FIGURE_LABELS = {
    "recall": "recall (share of positives flagged)",
    "fpr": "false-positive rate (share of negatives flagged)",
    "precision": "precision at the deployment prevalence",
    "alerts_per_10k": "alerts per 10,000 items",
    "missed_per_10k": "missed positives per 10,000 items",
    "cost_per_10k": "expected cost per 10,000 items",
    "alerts_per_day": "alerts per day",
    "missed_per_day": "missed positives per day",
    "cost_per_day": "expected cost per day",
}
ABSTAIN = -1
FALLBACKS = ("abstain", "argmax")
RULES = {
    "abstain": "predict the highest-scoring class whose score passes its threshold, else abstain",
    "argmax": "predict the highest-scoring class whose score passes its threshold, else the highest-scoring class",
}
COST_TIE_TOLERANCE = 1e-9  # relative to the largest |cost| on the curve


# --- inputs ------------------------------------------------------------------------------

@dataclass(frozen=True)
class DeploymentInputs:
    """What deployment looks like: expected prevalence of the class, costs, volume.

    ``prevalence`` in [0, 1]; ``cost_fp`` (a false alarm), ``cost_fn`` (a missed positive) and
    ``value_tp`` (a caught positive, subtracted) finite and >= 0; ``volume_per_day`` items per
    day, or None. Hashable, so it can key a cache (``Evaluation.memo``).
    """

    prevalence: float
    cost_fp: float = 1.0
    cost_fn: float = 1.0
    value_tp: float = 0.0
    volume_per_day: float | None = None

    def __post_init__(self):
        p = self.prevalence
        if not _is_number(p) or not 0.0 <= p <= 1.0:
            raise InputError(f"prevalence must be a number between 0 and 1, got {p!r}")
        for name in ("cost_fp", "cost_fn", "value_tp"):
            v = getattr(self, name)
            if not _is_number(v) or not math.isfinite(v) or v < 0:
                raise InputError(f"{name} must be a finite number >= 0, got {v!r}")
        v = self.volume_per_day
        if v is not None and (not _is_number(v) or not math.isfinite(v) or v < 0):
            raise InputError(f"volume_per_day must be a finite number >= 0 or None, got {v!r}")
        for name in ("prevalence", "cost_fp", "cost_fn", "value_tp", "volume_per_day"):
            v = getattr(self, name)
            if v is not None:
                object.__setattr__(self, name, float(v))


def measured_prevalence(sweep: metrics.ThresholdSweep) -> float:
    """The class's share of the test set (NaN for an empty sweep)."""
    n = sweep.n_pos + sweep.n_neg
    return sweep.n_pos / n if n else float("nan")


def deployment_inputs(sweep: metrics.ThresholdSweep, prevalence: float | None = None, cost_fp: float = 1.0,
                      cost_fn: float = 1.0, value_tp: float = 0.0,
                      volume_per_day: float | None = None) -> DeploymentInputs:
    """:class:`DeploymentInputs` with the test set's prevalence when ``prevalence`` is None."""
    return DeploymentInputs(measured_prevalence(sweep) if prevalence is None else prevalence, cost_fp, cost_fn,
                            value_tp, volume_per_day)


# the URL parameters of the deployment inputs (a link to /decision shows the inputs typed):
# parameter → (field of DeploymentInputs, the page's default; None: the test set's share)
QUERY_INPUTS = {"share": ("prevalence", None), "cost_fp": ("cost_fp", 1.0), "cost_fn": ("cost_fn", 1.0),
                "value_tp": ("value_tp", 0.0), "per_day": ("volume_per_day", None)}


def inputs_query(inputs: DeploymentInputs, default_share_pct: float) -> dict[str, str | None]:
    """URL parameters of ``inputs``: ``share`` (percent), ``cost_fp``, ``cost_fn``, ``value_tp``,
    ``per_day``; None for each input at the page's default (``default_share_pct``: the share
    the page starts from, in percent), so a link names only what was typed."""
    out = {}
    for param, (name, default) in QUERY_INPUTS.items():
        value = getattr(inputs, name)
        if param == "share":
            value, default = value * 100, default_share_pct
        out[param] = None if value is None or _same(value, default) else f"{value:.12g}"
    return out


def inputs_from_query(query) -> dict[str, float]:
    """The inputs a link names: ``query`` maps parameter → text (see :func:`inputs_query`; missing
    ones None). Returns parameter → number for each valid one; a value that is not a finite
    number >= 0 (or a share above 100) is left out, so the page keeps its default."""
    out = {}
    for param in QUERY_INPUTS:
        text = query.get(param)
        try:
            value = float(text) if text is not None else math.nan
        except ValueError:
            continue
        if math.isfinite(value) and value >= 0 and (param != "share" or value <= 100):
            out[param] = value
    return out


def _same(a: float, b: float | None) -> bool:
    return b is not None and math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)


# --- figures from rates (vectorised: scalars, resamples or whole curves) -------------------

def _class_shares(tpr: np.ndarray, fpr: np.ndarray, pi: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(flagged positives, flagged negatives, missed positives) as shares of all items.

    A term whose prevalence weight is 0 is 0 even where its rate is undefined (NaN): with π = 0
    a test set without positives still gives every figure.
    """
    true_alerts = tpr * pi if pi > 0 else np.zeros_like(tpr)
    missed = pi * (1.0 - tpr) if pi > 0 else np.zeros_like(tpr)
    false_alerts = fpr * (1.0 - pi) if pi < 1 else np.zeros_like(fpr)
    return true_alerts, false_alerts, missed


def expected_cost(tpr, fpr, inputs: DeploymentInputs) -> np.ndarray:
    """Expected cost per 10,000 items; ``tpr`` and ``fpr`` scalars or arrays of one shape."""
    tpr = np.asarray(tpr, dtype=np.float64)
    fpr = np.asarray(fpr, dtype=np.float64)
    true_alerts, false_alerts, missed = _class_shares(tpr, fpr, inputs.prevalence)
    return PER * (inputs.cost_fp * false_alerts + inputs.cost_fn * missed - inputs.value_tp * true_alerts)


def figures_from_rates(tpr, fpr, inputs: DeploymentInputs) -> dict[str, np.ndarray]:
    """Every figure of :data:`FIGURES` from recall and FPR (scalars or arrays of one shape).

    Returns arrays of the input shape. ``precision`` is NaN where nothing is flagged (TPR·π +
    FPR·(1 − π) = 0, e.g. at threshold +inf); the ``*_per_day`` figures are NaN without a
    volume; a rate that is undefined (no positives or no negatives in the test set) is NaN and
    so is every figure that needs it.
    """
    tpr = np.asarray(tpr, dtype=np.float64)
    fpr = np.asarray(fpr, dtype=np.float64)
    true_alerts, false_alerts, missed = _class_shares(tpr, fpr, inputs.prevalence)
    flagged = true_alerts + false_alerts
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(flagged > 0, true_alerts / flagged, np.nan)
    out = {
        "recall": tpr,
        "fpr": fpr,
        "precision": precision,
        "alerts_per_10k": PER * flagged,
        "missed_per_10k": PER * missed,
        "cost_per_10k": expected_cost(tpr, fpr, inputs),
    }
    per_day = np.nan if inputs.volume_per_day is None else inputs.volume_per_day / PER
    for name in ("alerts", "missed", "cost"):
        out[f"{name}_per_day"] = per_day * out[f"{name}_per_10k"]
    return out


def _rate(count, total: int) -> np.ndarray:
    count = np.asarray(count, dtype=np.float64)
    return np.full(count.shape, np.nan) if total == 0 else count / total


# --- the figures at one threshold, with intervals ---------------------------------------

@dataclass(frozen=True, eq=False)
class DeploymentFigures:
    """The deployment figures of one class at one threshold.

    Attributes
    ----------
    threshold : float
    inputs : DeploymentInputs
    tp, fp, n_pos, n_neg : int
        Test-set counts at the threshold, and the class's positives and negatives.
    values : dict of str to float
        Each figure of :data:`FIGURES` (NaN where undefined, see :func:`figures_from_rates`).
    intervals : dict of str to (float, float)
        The ``level`` percentile bootstrap interval of each figure (NaNs when undefined, or
        when ``resamples`` is 0).
    precision_undefined_share : float
        Share of resamples in which nothing is flagged, so precision is undefined; the precision
        interval is taken over the other resamples.
    resamples, seed, level
        How the intervals were made.
    """

    threshold: float
    inputs: DeploymentInputs
    tp: int
    fp: int
    n_pos: int
    n_neg: int
    values: dict[str, float]
    intervals: dict[str, tuple[float, float]]
    precision_undefined_share: float
    resamples: int
    seed: int
    level: float

    def to_dict(self) -> dict:
        """JSON-ready (NaN and inf as they are: pass through ``report.to_jsonable``)."""
        return {
            "threshold": self.threshold, "inputs": asdict(self.inputs),
            "test_counts": {"tp": self.tp, "fp": self.fp, "n_pos": self.n_pos, "n_neg": self.n_neg},
            "figures": {name: {"value": self.values[name], "low": self.intervals[name][0],
                               "high": self.intervals[name][1]} for name in FIGURES},
            "interval": self.interval_method(),
        }

    def interval_method(self) -> dict:
        return {"method": "stratified binomial bootstrap of TPR and FPR", "resamples": self.resamples,
                "seed": self.seed, "level": self.level,
                "precision_undefined_share": self.precision_undefined_share}


def resampled_rates(tp: int, fp: int, n_pos: int, n_neg: int, resamples: int = DEFAULT_RESAMPLES,
                    seed: int = DEFAULT_SEED) -> tuple[np.ndarray, np.ndarray]:
    """(TPR, FPR) of ``resamples`` stratified bootstrap resamples, each of shape (resamples,).

    Resampling the n_pos positives with replacement, the number above the threshold is
    Binomial(n_pos, tp / n_pos); the same for negatives. Positives and negatives draw from two
    generators spawned from ``seed`` (``np.random.SeedSequence(seed).spawn(2)``), so resample
    ``b`` is the ``b``-th draw of each: a loop drawing one at a time gets the same numbers.
    NaN throughout for an empty side.
    """
    pos_rng, neg_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    tpr = pos_rng.binomial(n_pos, tp / n_pos, size=resamples) / n_pos if n_pos else np.full(resamples, np.nan)
    fpr = neg_rng.binomial(n_neg, fp / n_neg, size=resamples) / n_neg if n_neg else np.full(resamples, np.nan)
    return tpr, fpr


def deployment_figures(sweep: metrics.ThresholdSweep, threshold: float, inputs: DeploymentInputs | None = None,
                       *, resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED,
                       level: float = LEVEL) -> DeploymentFigures:
    """The deployment figures at ``threshold`` (``score >= threshold`` flagged) with intervals.

    ``inputs`` None: the test set's prevalence, cost_fp = cost_fn = 1, value_tp = 0, no volume.
    ``resamples`` 0: no intervals (NaN). Counts come from one binary search in ``sweep``.
    """
    if not _is_number(threshold) or math.isnan(threshold):
        raise InputError(f"threshold must be a number, got {threshold!r}")
    if int(resamples) < 0:
        raise InputError(f"resamples must be >= 0, got {resamples}")
    inputs = deployment_inputs(sweep) if inputs is None else inputs
    tp, fp = (int(v) for v in sweep.counts_at(float(threshold)))
    n_pos, n_neg = sweep.n_pos, sweep.n_neg
    point = figures_from_rates(_rate(tp, n_pos), _rate(fp, n_neg), inputs)
    values = {name: float(point[name]) for name in FIGURES}
    intervals = {name: (float("nan"), float("nan")) for name in FIGURES}
    undefined = float("nan")
    if resamples:
        tpr, fpr = resampled_rates(tp, fp, n_pos, n_neg, int(resamples), seed)
        drawn = figures_from_rates(tpr, fpr, inputs)
        undefined = float(np.mean(np.isnan(drawn["precision"]) & ~np.isnan(drawn["alerts_per_10k"])))
        intervals = {name: _interval(drawn[name], level) for name in FIGURES}
    return DeploymentFigures(threshold=float(threshold), inputs=inputs, tp=tp, fp=fp, n_pos=n_pos, n_neg=n_neg,
                             values=values, intervals=intervals, precision_undefined_share=undefined,
                             resamples=int(resamples), seed=int(seed), level=float(level))


def _interval(values: np.ndarray, level: float) -> tuple[float, float]:
    if np.isnan(values).all():
        return float("nan"), float("nan")
    low, high = percentile_interval(values, level)
    return float(low), float(high)


# --- expected cost against threshold --------------------------------------------------------

@dataclass(frozen=True, eq=False)
class CostCurve:
    """Expected cost per 10,000 items at every distinct threshold of one class.

    Attributes
    ----------
    thresholds : ndarray of shape (n_thresholds + 1,)
        The sweep's thresholds: ``+inf`` (nothing flagged) first, then the distinct scores in
        decreasing order; the last flags everything.
    cost_per_10k : ndarray of shape (n_thresholds + 1,)
    best_index : int or None
        Position of the minimum; ties (costs within ``COST_TIE_TOLERANCE`` × the largest |cost|
        of the minimum) go to the highest threshold, i.e. the fewest alerts. None when every
        cost is undefined (the test set lacks positives or negatives the inputs need).
    """

    sweep: metrics.ThresholdSweep
    inputs: DeploymentInputs
    thresholds: np.ndarray
    cost_per_10k: np.ndarray
    best_index: int | None

    @property
    def best_threshold(self) -> float:
        """The cost-minimising threshold; ``+inf`` when flagging nothing is cheapest; NaN if undefined."""
        return float("nan") if self.best_index is None else float(self.thresholds[self.best_index])

    @property
    def best_cost(self) -> float:
        return float("nan") if self.best_index is None else float(self.cost_per_10k[self.best_index])

    @property
    def nothing_flagged_cost(self) -> float:
        """Cost per 10,000 with nothing flagged (threshold +inf)."""
        return float(self.cost_per_10k[0])

    @property
    def everything_flagged_cost(self) -> float:
        """Cost per 10,000 with everything flagged (the lowest score)."""
        return float(self.cost_per_10k[-1])

    def drawn(self, max_points: int = metrics.MAX_CURVE_POINTS) -> dict[str, np.ndarray]:
        """The curve reduced for drawing, its shape kept (:func:`metrics.reduce_curve`).

        Finite thresholds only (+inf has no place on an axis: see ``nothing_flagged_cost``); the
        minimum and both ends are always among the points. Keys, arrays of shape (m,) in
        decreasing threshold order: ``threshold``, ``cost_per_10k``, ``alerts_per_10k``,
        ``precision``, ``recall``.
        """
        th, cost = self.thresholds[1:], self.cost_per_10k[1:]
        keep = () if self.best_index in (None, 0) else (self.best_index - 1,)
        idx = metrics.reduce_curve(th, cost, max_points, keep=keep) if th.size else np.arange(0)
        s = self.sweep
        at = figures_from_rates(_rate(s.tp[1:][idx], s.n_pos), _rate(s.fp[1:][idx], s.n_neg), self.inputs)
        return {"threshold": th[idx], "cost_per_10k": cost[idx], "alerts_per_10k": at["alerts_per_10k"],
                "precision": at["precision"], "recall": at["recall"]}


def cost_curve(sweep: metrics.ThresholdSweep, inputs: DeploymentInputs) -> CostCurve:
    """Expected cost at every sweep threshold and the threshold that minimises it."""
    cost = expected_cost(_rate(sweep.tp, sweep.n_pos), _rate(sweep.fp, sweep.n_neg), inputs)
    return CostCurve(sweep=sweep, inputs=inputs, thresholds=sweep.thresholds, cost_per_10k=cost,
                     best_index=min_cost_index(cost))


def min_cost_index(cost: np.ndarray) -> int | None:
    """The first (highest-threshold) position whose cost ties the minimum; None if all are NaN."""
    finite = ~np.isnan(cost)
    if not finite.any():
        return None
    c = np.where(finite, cost, np.inf)
    best = c.min()
    tol = COST_TIE_TOLERANCE * float(np.abs(cost[finite]).max())
    return int(np.flatnonzero(c <= best + tol)[0])


# --- what flips between two thresholds ------------------------------------------------------

@dataclass(frozen=True, eq=False)
class Flips:
    """Samples whose outcome changes when the threshold moves from ``a`` to ``b``.

    Each array holds row indices, int64, ascending:

    * ``new_tp``: positives flagged at ``b`` but not at ``a`` (were missed)
    * ``new_fp``: negatives flagged at ``b`` but not at ``a`` (new false alarms)
    * ``new_fn``: positives flagged at ``a`` but not at ``b`` (now missed)
    * ``new_tn``: negatives flagged at ``a`` but not at ``b`` (newly correct negatives)

    Lowering the threshold only adds flags (new_tp, new_fp); raising it only removes them.
    """

    a: float
    b: float
    new_tp: np.ndarray
    new_fp: np.ndarray
    new_fn: np.ndarray
    new_tn: np.ndarray

    @property
    def counts(self) -> dict[str, int]:
        return {name: int(getattr(self, name).size) for name in ("new_tp", "new_fp", "new_fn", "new_tn")}


def flips(score: np.ndarray, positive: np.ndarray, a: float, b: float) -> Flips:
    """The samples that flip from threshold ``a`` to ``b``; ``score`` (float) and ``positive``
    (bool) of shape (n_samples,), e.g. ``dataset.scores[:, c]`` and ``dataset.y_true == c``."""
    for name, t in (("a", a), ("b", b)):
        if not _is_number(t) or math.isnan(t):
            raise InputError(f"threshold {name} must be a number, got {t!r}")
    positive = np.asarray(positive, dtype=bool)
    lo, hi = min(a, b), max(a, b)
    # only the samples between the two thresholds change: lo <= score < hi
    between = np.flatnonzero((score >= lo) & (score < hi))
    pos = positive[between]
    changed_pos, changed_neg = between[pos].astype(np.int64), between[~pos].astype(np.int64)
    none = np.arange(0, dtype=np.int64)
    if b < a:  # lowering: the samples in between become flagged
        return Flips(float(a), float(b), new_tp=changed_pos, new_fp=changed_neg, new_fn=none, new_tn=none)
    return Flips(float(a), float(b), new_tp=none, new_fp=none, new_fn=changed_pos, new_tn=changed_neg)


# --- multi-class operating points --------------------------------------------------------

def _check_rule(thresholds, n_classes: int, fallback: str) -> np.ndarray:
    t = np.asarray(thresholds, dtype=np.float64)
    if t.shape != (n_classes,):
        raise InputError(f"expected one threshold per class ({n_classes}), got shape {t.shape}")
    if np.isnan(t).any():
        raise InputError(f"thresholds must be numbers, got NaN for class index {int(np.flatnonzero(np.isnan(t))[0])}")
    if fallback not in FALLBACKS:
        raise InputError(f"fallback must be one of {', '.join(FALLBACKS)}, got {fallback!r}")
    return t


def apply_thresholds(scores: np.ndarray, thresholds, fallback: str = "abstain") -> np.ndarray:
    """Predictions under per-class thresholds, shape (n_samples,), int64; ``ABSTAIN`` (-1) where
    no class passes and ``fallback`` is "abstain".

    The rule: among the classes whose score is >= their threshold, the highest score; on equal
    scores the lowest class index (as ``np.argmax``). Where none passes, "abstain" gives -1 and
    "argmax" the highest-scoring class (lowest index on ties). ``scores`` of shape (n, k),
    ``thresholds`` of shape (k,) (+inf: never passes, -inf: always passes).
    """
    n, k = scores.shape
    t = _check_rule(thresholds, k, fallback)
    best = np.full(n, ABSTAIN, dtype=np.int64)
    best_score = np.full(n, -np.inf)
    passed = np.zeros(n, dtype=bool)
    for c in range(k):  # one column at a time: no (n, k) temporaries
        s = scores[:, c]
        ok = s >= t[c]
        # strictly greater keeps the lower class on equal scores; an unset row takes any pass
        take = ok & ((s > best_score) | ~passed)
        best[take] = c
        best_score[take] = s[take]
        passed |= ok
    if fallback == "argmax":
        none = ~passed
        best[none] = np.argmax(scores[none], axis=1)
    return best


@dataclass(frozen=True, eq=False)
class OperatingPoints:
    """Results of per-class thresholds on a labelled set.

    Attributes
    ----------
    thresholds : ndarray of shape (n_classes,)
    fallback : {"abstain", "argmax"}
    predictions : ndarray of shape (n_samples,), int64, -1 where abstained
    cells : ConfusionCounts of shape (n_classes, n_classes + 1)
        The observed cells: rows true, columns predicted; the last column counts abstentions
        (``confusion``: the dense matrix, (k + 1)·k numbers, built only when asked for).
    per_class : dict of str to ndarray of shape (n_classes,)
        tp, fp, fn, tn, precision, recall, f1, fpr, specificity, support, predicted,
        abstained. An abstained sample counts as missed for its class (fn) and as no one's false
        positive: scikit-learn's numbers with the abstentions as a label outside ``labels``
        (``zero_division=0``).
    """

    thresholds: np.ndarray
    fallback: str
    predictions: np.ndarray
    cells: ConfusionCounts
    per_class: dict[str, np.ndarray]

    @cached_property
    def confusion(self) -> np.ndarray:
        """ndarray of shape (n_classes, n_classes + 1)."""
        return self.cells.dense()

    @property
    def rule(self) -> str:
        return RULES[self.fallback]

    @property
    def n(self) -> int:
        return self.cells.n

    @property
    def abstained(self) -> int:
        return int(self.cells.predicted[-1])

    @property
    def coverage(self) -> float:
        """Share of samples given a class (NaN for no samples)."""
        return (self.n - self.abstained) / self.n if self.n else float("nan")

    @property
    def accuracy(self) -> float:
        """Correct over all samples (an abstention is not correct)."""
        return float(self.cells.diagonal.sum() / self.n) if self.n else float("nan")

    @property
    def accuracy_covered(self) -> float:
        """Correct over the samples given a class (NaN when every sample abstained)."""
        covered = self.n - self.abstained
        return float(self.cells.diagonal.sum() / covered) if covered else float("nan")

    @property
    def macro(self) -> dict[str, float]:
        return {m: float(np.mean(self.per_class[m])) for m in ("precision", "recall", "f1")}

    def report(self, classes: Sequence[str]) -> dict:
        """JSON-ready summary (thresholds +inf/-inf kept as floats: pass through ``to_jsonable``)."""
        pc = self.per_class
        return {
            "rule": self.rule, "fallback": self.fallback, "n": self.n,
            "coverage": self.coverage, "abstained": self.abstained,
            "accuracy": self.accuracy, "accuracy_covered": self.accuracy_covered, "macro": self.macro,
            "per_class": {name: {"threshold": float(self.thresholds[c]),
                                 **{m: float(pc[m][c]) for m in ("precision", "recall", "f1")},
                                 **{m: int(pc[m][c]) for m in ("support", "predicted", "abstained")}}
                          for c, name in enumerate(classes)},
            # dense up to DENSE_MAX_CLASSES classes, else the observed cells ("coo", see confusion_counts)
            "confusion_matrix": self.cells.to_json(),
            "confusion_columns": [*classes, "(abstained)"],
        }


def operating_points(y_true: np.ndarray, scores: np.ndarray, thresholds, fallback: str = "abstain") -> OperatingPoints:
    """Apply per-class thresholds (:func:`apply_thresholds`) and count the results."""
    n, k = scores.shape
    pred = apply_thresholds(scores, thresholds, fallback)
    cols = np.where(pred == ABSTAIN, k, pred)
    cells = confusion_counts(y_true, cols, k, k + 1)  # observed cells only: k² would not fit at 5,000 classes
    return operating_points_of_cells(cells, thresholds, fallback, pred)


def operating_points_of_cells(cells: ConfusionCounts, thresholds, fallback: str = "abstain",
                              predictions: np.ndarray | None = None) -> OperatingPoints:
    """:func:`operating_points` from the observed cells of (true class, decision) with the
    abstentions in column k, as an engine counts them (``predictions`` then None: they stay in it)."""
    k = cells.n_classes
    n = int(cells.count.sum())
    tp = cells.diagonal
    support = cells.support
    predicted = cells.predicted[:k]
    table = metrics.rates(tp, predicted - tp, support, n - support, zero_division=0.0)
    abstained = np.bincount(cells.true[cells.pred == k], weights=cells.count[cells.pred == k],
                            minlength=k).astype(np.int64)
    table.update(support=support, predicted=predicted, abstained=abstained)
    return OperatingPoints(np.asarray(thresholds, dtype=np.float64), fallback, predictions, cells, table)


def suggest_thresholds(sweeps: Sequence[metrics.ThresholdSweep], objective: str = "f1", cost_fp: float = 1.0,
                       cost_fn: float = 1.0, value_tp: float = 0.0) -> np.ndarray:
    """Per-class thresholds chosen class by class (one-vs-rest), shape (n_classes,).

    ``objective`` "f1": each class's maximum-F1 threshold (the highest on ties); "cost": each
    class's minimum of cost_fp·FP + cost_fn·FN − value_tp·TP at the test set's prevalence
    (:func:`cost_curve`; may be +inf, never flagged). A class without positives gets +inf for
    "f1". Class by class is a heuristic for the combined rule: classes compete for a sample, so
    the joint optimum can differ.
    """
    if objective not in ("f1", "cost"):
        raise InputError(f"objective must be 'f1' or 'cost', got {objective!r}")
    out = np.empty(len(sweeps))
    for c, s in enumerate(sweeps):
        if objective == "f1":
            out[c] = np.inf if s.n_pos == 0 else _max_f1_threshold(s)
        else:
            out[c] = cost_curve(s, deployment_inputs(s, None, cost_fp, cost_fn, value_tp)).best_threshold
    return out


def _max_f1_threshold(s: metrics.ThresholdSweep) -> float:
    """As :func:`metrics.suggest_max_f1` (the highest threshold on ties), from F1 alone:
    2TP / (TP + FP + n_pos), defined at every point past +inf."""
    f1 = np.divide(2 * s.tp[1:], s.tp[1:] + s.fp[1:] + s.n_pos, dtype=np.float64)
    return float(s.thresholds[1:][int(np.argmax(f1))]) if f1.size else float("inf")


# --- thresholds file (evaldash report --thresholds) ----------------------------------------

@dataclass(frozen=True, eq=False)
class ThresholdRule:
    """Per-class thresholds, shape (n_classes,) in class order, and the fallback."""

    thresholds: np.ndarray
    fallback: str = "abstain"


def thresholds_json(classes: Sequence[str], thresholds, fallback: str = "abstain") -> str:
    """A thresholds file that :func:`load_thresholds` reads back (+inf written as null)."""
    t = _check_rule(thresholds, len(classes), fallback)
    return json.dumps({"thresholds": {name: (float(v) if math.isfinite(v) else (None if v > 0 else -sys.float_info.max))
                                      for name, v in zip(classes, t)}, "fallback": fallback},
                      indent=2, ensure_ascii=False) + "\n"


def parse_thresholds(text: str, classes: Sequence[str], source: str = "<thresholds>") -> ThresholdRule:
    """A :class:`ThresholdRule` from the text of a thresholds file::

        {"thresholds": {"cat": 0.6, "dog": 0.4, ...}, "fallback": "abstain"}

    Every class needs a threshold (a number; null means +inf, never passes); ``fallback`` is
    "abstain" (default) or "argmax". Raises :class:`InputError` naming ``source``, the key and
    what was expected.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{source}: not valid JSON ({exc}); expected "
                         '{"thresholds": {class name: number, ...}, "fallback": "abstain" or "argmax"}') from None
    if not isinstance(data, dict):
        raise InputError(f"{source}: expected a JSON object with a 'thresholds' object, got {type(data).__name__}")
    unknown = sorted(set(data) - {"thresholds", "fallback"})
    if unknown:
        raise InputError(f"{source}: unknown key(s) {unknown}; expected 'thresholds' and optionally 'fallback'")
    if "thresholds" not in data:
        raise InputError(f"{source}: missing key 'thresholds'; expected an object of class name → threshold")
    given = data["thresholds"]
    if not isinstance(given, dict):
        raise InputError(f"{source}: key 'thresholds' is {type(given).__name__}; expected an object of "
                         "class name → threshold")
    fallback = data.get("fallback", "abstain")
    if fallback not in FALLBACKS:
        raise InputError(f"{source}: key 'fallback' is {fallback!r}; expected \"abstain\" or \"argmax\"")
    extra = [name for name in given if name not in classes]
    if extra:
        raise InputError(f"{source}: thresholds.{extra[0]!r} is not a class of the predictions file; "
                         f"classes are {list(classes)}")
    missing = [name for name in classes if name not in given]
    if missing:
        raise InputError(f"{source}: no threshold for class(es) {missing}; expected one for every class "
                         f"(null: never predicted by threshold)")
    out = np.empty(len(classes))
    for c, name in enumerate(classes):
        v = given[name]
        if v is None:
            out[c] = np.inf
        elif isinstance(v, bool) or not isinstance(v, (int, float)) or math.isnan(v):
            raise InputError(f"{source}: thresholds.{name!r} is {v!r}; expected a number (or null for never)")
        else:
            out[c] = float(v)
    return ThresholdRule(out, fallback)


def load_thresholds(path: str | Path, classes: Sequence[str]) -> ThresholdRule:
    """:func:`parse_thresholds` of a file; a missing or unreadable file is an :class:`InputError`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: thresholds file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the thresholds file ({exc})") from None
    return parse_thresholds(text, classes, str(path))


# --- the decision record ---------------------------------------------------------------------

RECORD_FORMAT = "evaldash decision record"
RECORD_VERSION = 1


@dataclass(frozen=True)
class DecisionRecord:
    """A chosen operating point with its reasons, as signed off.

    ``figures``: figure name → {"value", "low", "high"} (see :data:`FIGURES`); ``interval``:
    how the intervals were made (method, resamples, seed, level); ``test_counts``: tp, fp,
    n_pos, n_neg on the test set; ``created_at``: UTC. ``threshold`` may be +inf (nothing
    flagged). Build one with :func:`decision_record`.
    """

    fingerprint: str
    model_file: str
    class_name: str
    threshold: float
    inputs: DeploymentInputs
    figures: dict[str, dict[str, float]]
    interval: dict
    test_counts: dict[str, int]
    rationale: str = ""
    approver: str = ""
    created_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))

    def to_dict(self) -> dict:
        """JSON-ready: NaN as None, threshold +inf as None, the date as ISO 8601 UTC."""
        def num(v):
            return None if v is None or not math.isfinite(v) else float(v)
        return {
            "format": RECORD_FORMAT, "version": RECORD_VERSION,
            "fingerprint": self.fingerprint, "model_file": self.model_file, "class": self.class_name,
            "threshold": None if self.threshold == math.inf else float(self.threshold),
            "inputs": {k: num(v) for k, v in asdict(self.inputs).items()},
            "figures": {name: {k: num(v) for k, v in f.items()} for name, f in self.figures.items()},
            "interval": {k: (num(v) if isinstance(v, float) else v) for k, v in self.interval.items()},
            "test_counts": {k: int(v) for k, v in self.test_counts.items()},
            "created_at": _utc(self.created_at).isoformat(),
            "rationale": self.rationale, "approver": self.approver,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False, allow_nan=False) + "\n"

    @classmethod
    def from_json(cls, text: str, source: str = "decision record") -> "DecisionRecord":
        """Read :meth:`to_json`'s output back; :class:`InputError` naming the key that is wrong."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"{source}: not valid JSON ({exc})") from None
        return cls.from_dict(data, source)

    @classmethod
    def from_dict(cls, data, source: str = "decision record") -> "DecisionRecord":
        if not isinstance(data, dict) or data.get("format") != RECORD_FORMAT:
            raise InputError(f"{source}: not an evaldash decision record (expected \"format\": \"{RECORD_FORMAT}\")")
        if data.get("version") != RECORD_VERSION:
            raise InputError(f"{source}: record version {data.get('version')!r}; this evaldash reads version "
                             f"{RECORD_VERSION}")

        def need(key, kind):
            if key not in data:
                raise InputError(f"{source}: missing key {key!r}")
            v = data[key]
            if not isinstance(v, kind):
                raise InputError(f"{source}: key {key!r} is {v!r}; expected {kind.__name__}")
            return v

        def num(v, where):
            if v is None:
                return float("nan")
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise InputError(f"{source}: {where} is {v!r}; expected a number or null")
            return float(v)

        if "threshold" not in data:
            raise InputError(f"{source}: missing key 'threshold'")
        threshold = math.inf if data["threshold"] is None else num(data["threshold"], "'threshold'")
        inputs_raw = need("inputs", dict)
        try:
            inputs = DeploymentInputs(**{k: inputs_raw.get(k) for k in ("prevalence", "cost_fp", "cost_fn",
                                                                         "value_tp", "volume_per_day")})
        except InputError as exc:
            raise InputError(f"{source}: inputs: {exc}") from None
        figures_raw = need("figures", dict)
        figures = {}
        for name, f in figures_raw.items():
            if not isinstance(f, dict):
                raise InputError(f"{source}: figures.{name} is {f!r}; expected {{value, low, high}}")
            figures[name] = {k: num(f.get(k), f"figures.{name}.{k}") for k in ("value", "low", "high")}
        interval = need("interval", dict)
        counts = need("test_counts", dict)
        bad = [k for k, v in counts.items() if isinstance(v, bool) or not isinstance(v, int)]
        if bad:
            raise InputError(f"{source}: test_counts.{bad[0]} is {counts[bad[0]]!r}; expected a whole number")
        try:
            created = dt.datetime.fromisoformat(need("created_at", str))
        except ValueError:
            raise InputError(f"{source}: key 'created_at' is {data['created_at']!r}; "
                             "expected an ISO date and time") from None
        return cls(fingerprint=need("fingerprint", str), model_file=need("model_file", str),
                   class_name=need("class", str), threshold=threshold, inputs=inputs, figures=figures,
                   interval={k: (float("nan") if v is None else v) for k, v in interval.items()},
                   test_counts={k: int(v) for k, v in counts.items()},
                   rationale=need("rationale", str), approver=need("approver", str), created_at=_utc(created))

    def to_markdown(self) -> str:
        """A page a person can read and file: who chose what, why, and what it means."""
        th = "+inf (nothing flagged)" if self.threshold == math.inf else f"{self.threshold:.6g}"
        i = self.inputs
        level = self.interval.get("level", LEVEL)
        lines = [
            f"# Operating point: class {_md(self.class_name)} at threshold {th}", "",
            f"- **Approver:** {_md(self.approver) or '(none given)'}",
            f"- **Date (UTC):** {_utc(self.created_at).strftime('%Y-%m-%d %H:%M:%S')}",
            f"- **Model file:** {_code(self.model_file)}",
            f"- **Dataset fingerprint:** {_code(self.fingerprint)}",
            f"- **Flagged when:** score of {_md(self.class_name)} ≥ {th}", "",
            "## Rationale", "", _md_lines(self.rationale) or "(none given)", "",
            "## Inputs", "", "| input | value |", "|---|---|",
            f"| expected prevalence in deployment | {i.prevalence:.4%} |",
            f"| cost of a false positive | {i.cost_fp:g} |",
            f"| cost of a false negative | {i.cost_fn:g} |",
            f"| value of a true positive | {i.value_tp:g} |",
            f"| volume per day | {'not given' if i.volume_per_day is None else f'{i.volume_per_day:g}'} |", "",
            f"## Resulting figures ({level:.0%} intervals)", "", f"| figure | value | {level:.0%} interval |",
            "|---|---|---|",
        ]
        for name, f in self.figures.items():
            if name.endswith("_per_day") and i.volume_per_day is None:
                continue
            lines.append(f"| {FIGURE_LABELS.get(name, _md(name))} | {_fmt(f['value'])} | "
                         f"{_fmt(f['low'])} – {_fmt(f['high'])} |")
        c = self.test_counts
        lines += ["", f"Measured on the test set: {c.get('tp', '?')} of {c.get('n_pos', '?')} positives and "
                      f"{c.get('fp', '?')} of {c.get('n_neg', '?')} negatives flagged. Intervals: "
                      f"{_md(self.interval.get('method', ''))}, {_md(self.interval.get('resamples', '?'))} "
                      f"resamples, seed {_md(self.interval.get('seed', '?'))}.", ""]
        return "\n".join(lines)

    def title(self) -> str:
        """One line naming the record in a list: date (UTC), approver, class and threshold."""
        th = "+inf" if self.threshold == math.inf else f"{self.threshold:.6g}"
        return (f"{_utc(self.created_at).strftime('%Y-%m-%d %H:%M')} · {self.approver or '(no approver)'} · "
                f"class {self.class_name} at {th}")

    def summary(self) -> dict:
        """One flat row for a table of records: date, approver, class, threshold, key figures."""
        return {"created_at": _utc(self.created_at), "approver": self.approver, "class": self.class_name,
                "threshold": self.threshold, "prevalence": self.inputs.prevalence,
                "precision": self.figures.get("precision", {}).get("value", float("nan")),
                "recall": self.figures.get("recall", {}).get("value", float("nan")),
                "alerts_per_10k": self.figures.get("alerts_per_10k", {}).get("value", float("nan")),
                "cost_per_10k": self.figures.get("cost_per_10k", {}).get("value", float("nan")),
                "rationale": self.rationale}


def decision_record(figures: DeploymentFigures, *, fingerprint: str, model_file: str, class_name: str,
                    rationale: str = "", approver: str = "", created_at: dt.datetime | None = None) -> DecisionRecord:
    """The record of choosing ``figures`` (from :func:`deployment_figures`); ``created_at`` now (UTC) by default."""
    return DecisionRecord(
        fingerprint=fingerprint, model_file=str(model_file), class_name=str(class_name),
        threshold=figures.threshold, inputs=figures.inputs,
        figures={name: {"value": figures.values[name], "low": figures.intervals[name][0],
                        "high": figures.intervals[name][1]} for name in FIGURES},
        interval=figures.interval_method(),
        test_counts={"tp": figures.tp, "fp": figures.fp, "n_pos": figures.n_pos, "n_neg": figures.n_neg},
        rationale=rationale, approver=approver.strip(),
        created_at=_utc(created_at) if created_at is not None else dt.datetime.now(dt.timezone.utc))


def _is_number(v) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_))


def _utc(when: dt.datetime) -> dt.datetime:
    return when.replace(tzinfo=dt.timezone.utc) if when.tzinfo is None else when.astimezone(dt.timezone.utc)


def _fmt(v: float) -> str:
    if v is None or not math.isfinite(v):
        return "n/a"
    return f"{v:.4f}" if abs(v) < 10 else f"{v:,.1f}"


# every character that can start or shape Markdown (GitHub's included) or HTML: emphasis, code,
# links and images, raw HTML and entities, headings, lists, tables, strikethrough, maths, emoji
_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_{}[]<>()#+-.!|~$:&="})


def _md(text) -> str:
    """Text shown as typed by a Markdown reader, on one line (a table cell, a heading, a list item):
    each character with a meaning in Markdown or HTML is backslash-escaped, line breaks become spaces."""
    return " ".join(str(text).translate(_MD_SPECIAL).splitlines())


def _md_lines(text) -> str:
    """Free text (a rationale) shown as typed, its lines kept: each line escaped as by :func:`_md`
    (leading blanks dropped, so no line becomes a code block), ended by a hard break; blank
    lines stay paragraph breaks."""
    lines = [_md(line.strip()) for line in str(text).strip().splitlines()]
    return "\n".join(line + "  " if line and n + 1 < len(lines) and lines[n + 1] else line
                     for n, line in enumerate(lines))


def _code(text) -> str:
    """``text`` as a Markdown code span, shown as typed whatever backticks or HTML it holds."""
    text = " ".join(str(text).splitlines())
    longest = max((len(run) for run in "".join(c if c == "`" else " " for c in text).split()), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text[:1] in ("`", " ") or text[-1:] in ("`", " ") else ""  # one space each side is dropped
    return f"{fence}{pad}{text}{pad}{fence}" if text else "(none)"
