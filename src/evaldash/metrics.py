"""Classification metrics in pure numpy, exact to scikit-learn's definitions.

Conventions
-----------
* Classes are indices ``0..n_classes-1``; ``y_true`` and ``y_pred`` are int arrays.
* A sample counts as positive at threshold ``t`` when ``score >= t`` (as in scikit-learn).
* Every threshold-dependent number comes from one :class:`ThresholdSweep` per class,
  built with a single sort and cumulative sums; answering a threshold is a binary search.
* Undefined values are NaN with a reason, never an exception. The one documented
  fallback: per-class precision/recall/F1 of the classification report use
  scikit-learn's default ``zero_division=0``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

_EPS = np.finfo(np.float64).eps
MAX_CURVE_POINTS = 1000  # plenty for a chart a few hundred pixels wide


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Counts, ndarray of shape (n_classes, n_classes): rows true, columns predicted."""
    flat = y_true.astype(np.int64) * n_classes + y_pred
    return np.bincount(flat, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def normalize_confusion(cm: np.ndarray, by: str) -> np.ndarray:
    """Normalise by ``"true"`` (rows sum to 1) or ``"pred"`` (columns sum to 1).

    Rows/columns with no samples are 0, as in scikit-learn.
    """
    axis = {"true": 1, "pred": 0}[by]
    totals = cm.sum(axis=axis, keepdims=True).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = cm / totals
    return np.nan_to_num(out, nan=0.0)


def mean_score_matrix(y_true: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Cell (i, j): mean score of class j over samples whose true class is i.

    ndarray of shape (n_classes, n_classes); rows of absent classes are NaN.
    """
    k = scores.shape[1]
    counts = np.bincount(y_true, minlength=k).astype(np.float64)
    sums = np.column_stack([np.bincount(y_true, weights=scores[:, j], minlength=k) for j in range(k)])
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts[:, None]


def _safe_div(num, den, fallback=np.nan):
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = num / den
    return np.where(den == 0, fallback, out)


def _per(counts: np.ndarray, total: int) -> np.ndarray:
    """``counts / total`` as float64; NaN everywhere when ``total`` is 0 (a scalar divisor is cheap)."""
    if total == 0:
        return np.full(np.shape(counts), np.nan)
    return np.divide(counts, float(total), dtype=np.float64)


def rates(tp, fp, n_pos, n_neg, zero_division=np.nan) -> dict[str, np.ndarray]:
    """Every count-derived rate from TP and FP at one or many thresholds.

    ``tp`` and ``fp`` are scalars or arrays of the same shape; returns arrays of
    that shape: tp, fp, fn, tn, precision, recall, f1, fpr, specificity.
    """
    tp = np.asarray(tp, dtype=np.int64)
    fp = np.asarray(fp, dtype=np.int64)
    fn = n_pos - tp
    tn = n_neg - fp
    return {
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
        "precision": _safe_div(tp, tp + fp, zero_division),
        "recall": _safe_div(tp, n_pos + 0 * tp, zero_division),
        # 2TP / (2TP + FP + FN) is scikit-learn's definition; defined whenever precision is not
        "f1": _safe_div(2 * tp, 2 * tp + fp + fn, zero_division),
        "fpr": _safe_div(fp, n_neg + 0 * fp, np.nan),
        "specificity": _safe_div(tn, n_neg + 0 * tn, np.nan),
    }


def per_class_table(cm: np.ndarray) -> dict[str, np.ndarray]:
    """Per-class one-vs-rest metrics from a confusion matrix.

    Returns arrays of shape (n_classes,): tp, fp, fn, tn, precision, recall, f1,
    fpr, specificity, support, prevalence. Undefined precision/recall/F1 are 0
    (scikit-learn's ``zero_division=0``).
    """
    n = cm.sum()
    tp = np.diag(cm).astype(np.int64)
    support = cm.sum(axis=1).astype(np.int64)
    predicted = cm.sum(axis=0).astype(np.int64)
    out = rates(tp, predicted - tp, support, n - support, zero_division=0.0)
    out["support"] = support
    out["prevalence"] = _safe_div(support, np.full_like(support, n))
    return out


def averages(table: dict[str, np.ndarray]) -> dict[str, dict[str, float]]:
    """Macro, weighted and micro precision/recall/F1 (over all classes, as scikit-learn with ``labels``)."""
    support = table["support"]
    total = support.sum()
    out = {}
    out["macro"] = {m: float(np.mean(table[m])) for m in ("precision", "recall", "f1")}
    out["weighted"] = {
        m: float(np.average(table[m], weights=support)) if total else 0.0
        for m in ("precision", "recall", "f1")
    }
    tp, fp, fn = table["tp"].sum(), table["fp"].sum(), table["fn"].sum()
    micro = rates(tp, fp, tp + fn, 0, zero_division=0.0)
    out["micro"] = {m: float(micro[m]) for m in ("precision", "recall", "f1")}
    return out


def top_k_accuracy(y_true: np.ndarray, scores: np.ndarray, k: int) -> float:
    """Fraction of samples whose true class is among the ``k`` highest scores.

    Ties are broken as scikit-learn's ``top_k_accuracy_score`` does: among equal
    scores the class with the higher index ranks first.
    """
    if k >= scores.shape[1]:
        return 1.0
    return float(np.mean(true_class_rank(y_true, scores) < k))


def true_class_rank(y_true: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """How many classes rank ahead of the true one, shape (n_samples,) (ties as in top-k)."""
    n, n_classes = scores.shape
    true_score = scores[np.arange(n), y_true][:, None]
    cls = np.arange(n_classes)[None, :]
    ahead = (scores > true_score) | ((scores == true_score) & (cls > y_true[:, None]))
    return ahead.sum(axis=1)


@dataclass(frozen=True, eq=False)
class ThresholdSweep:
    """Confusion counts of one class (one-vs-rest) at every distinct score.

    Attributes
    ----------
    thresholds : ndarray of shape (n_thresholds + 1,)
        Distinct scores in decreasing order, preceded by ``+inf`` (nothing positive).
    tp, fp : ndarray of shape (n_thresholds + 1,), int32 (int64 past 2**31 samples)
        Samples with ``score >= thresholds[i]`` that are positive / negative.
    n_pos, n_neg : int
        Positives and negatives of the class.
    """

    thresholds: np.ndarray
    tp: np.ndarray
    fp: np.ndarray
    n_pos: int
    n_neg: int

    @cached_property
    def _ascending(self) -> np.ndarray:
        return np.ascontiguousarray(self.thresholds[1:][::-1])

    def index(self, threshold: float) -> int:
        """Position in the sweep whose counts hold at ``threshold`` (a binary search)."""
        # the number of distinct scores >= threshold
        asc = self._ascending
        return int(asc.size - np.searchsorted(asc, float(threshold), side="left"))

    def at(self, threshold: float, zero_division: float = np.nan) -> dict[str, float]:
        """TP, FP, FN, TN, precision, recall, F1, FPR and specificity at ``threshold``.

        Undefined precision, recall and F1 are ``zero_division`` (NaN; reports pass 0, as their
        per-class table does, scikit-learn's ``zero_division=0``)."""
        i = self.index(threshold)
        r = rates(self.tp[i], self.fp[i], self.n_pos, self.n_neg, zero_division)
        out = {name: (int(v) if name in ("tp", "fp", "fn", "tn") else float(v)) for name, v in r.items()}
        out["threshold"] = float(threshold)
        return out

    def counts_at(self, thresholds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(tp, fp) at each of ``thresholds`` (any order), one binary search each; shapes as input."""
        asc = self._ascending
        i = asc.size - np.searchsorted(asc, np.asarray(thresholds, dtype=np.float64), side="left")
        return self.tp[i], self.fp[i]

    def curve(self) -> dict[str, np.ndarray]:
        """Every rate at every sweep point, arrays of shape (n_thresholds + 1,)."""
        out = rates(self.tp, self.fp, self.n_pos, self.n_neg)
        out["threshold"] = self.thresholds
        return out

    def roc(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(fpr, tpr, thresholds) as ``sklearn.metrics.roc_curve(drop_intermediate=False)``."""
        return _per(self.fp, self.n_neg), _per(self.tp, self.n_pos), self.thresholds

    def pr(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(precision, recall, thresholds) as ``sklearn.metrics.precision_recall_curve``.

        Increasing thresholds; precision and recall end with the point (1, 0). Without positive
        samples the recall is 1 at every threshold, as scikit-learn sets it (with a warning there;
        here :meth:`undefined_reason` says why, and :meth:`average_precision` stays NaN).
        """
        tp, fp = self.tp[1:][::-1], self.fp[1:][::-1]
        precision = tp / (tp + fp).astype(np.float64)  # every sweep point past +inf predicts a sample
        recall = _per(tp, self.n_pos) if self.n_pos else np.ones(tp.shape)
        return (
            np.concatenate([precision, [1.0]]),
            np.concatenate([recall, [0.0]]),
            self.thresholds[1:][::-1],
        )

    def roc_auc(self) -> float:
        """Area under the ROC curve; NaN when the class has no positives or no negatives."""
        if self.n_pos == 0 or self.n_neg == 0:
            return float("nan")
        # the trapezoidal rule on counts, scaled once (exact integers until the last division)
        tp = self.tp.astype(np.float64)
        area = np.dot(np.diff(self.fp).astype(np.float64), tp[1:] + tp[:-1]) / 2.0
        return float(area / (self.n_pos * self.n_neg))

    def average_precision(self) -> float:
        """Step-wise area under the PR curve (scikit-learn's definition); NaN without positives."""
        if self.n_pos == 0:
            return float("nan")
        tp = self.tp[1:]
        precision = tp / (tp + self.fp[1:])  # every sweep point predicts at least one sample
        return float(max(0.0, np.dot(np.diff(self.tp).astype(np.float64), precision) / self.n_pos))

    def undefined_reason(self) -> str:
        """Why ROC AUC / AP are undefined for this class ('' when they are defined)."""
        if self.n_pos == 0:
            return "no positive samples"
        if self.n_neg == 0:
            return "no negative samples"
        return ""


def threshold_sweep(score: np.ndarray, positive: np.ndarray) -> ThresholdSweep:
    """Build the sweep of one class from its scores and a boolean positive mask.

    ``score`` and ``positive`` are ndarrays of shape (n_samples,).
    """
    return _sweep_from_sorted(np.sort(score), np.sort(score[positive]))


def _sweep_from_sorted(all_sorted: np.ndarray, pos_sorted: np.ndarray) -> ThresholdSweep:
    """The sweep from every score and the positives' scores, each sorted ascending.

    Sorting values is much faster than an argsort (no index gathers): the count of samples
    with ``score >= t`` is where ``t``'s run starts; the positives' count is a binary search
    in their own sorted scores.
    """
    return _sweep_from_runs(*_runs(all_sorted, pos_sorted))


def _runs(all_sorted: np.ndarray, pos_sorted: np.ndarray):
    """(distinct values ascending, samples per value or None when all are 1, positives per value)."""
    n = all_sorted.size
    new_value = all_sorted[1:] != all_sorted[:-1]
    if new_value.all():  # every score distinct (usual for probabilities): runs are single samples
        ascending, run_len = all_sorted, None
    else:
        starts = np.flatnonzero(np.concatenate([[True], new_value])) if n else np.arange(0)
        ascending = all_sorted[starts]
        run_len = np.diff(np.append(starts, n))
    del new_value
    # each positive falls in the run of its own score
    run_of_pos = np.searchsorted(ascending, pos_sorted, side="left")
    pos_per_run = np.bincount(run_of_pos, minlength=ascending.size)
    return ascending, run_len, pos_per_run


def _sweep_from_runs(ascending: np.ndarray, run_len: np.ndarray | None, pos_per_run: np.ndarray) -> ThresholdSweep:
    m = ascending.size
    n = int(run_len.sum()) if run_len is not None else m
    n_pos = int(pos_per_run.sum())
    count_type = np.int32 if n < 2**31 else np.int64  # halves the memory of every sweep
    tp = np.empty(m + 1, dtype=count_type)
    fp = np.empty(m + 1, dtype=count_type)
    tp[0] = fp[0] = 0
    # counts cumulated from the top score down
    np.cumsum(pos_per_run[::-1], out=tp[1:])
    if run_len is None:
        fp[1:] = np.arange(1, m + 1, dtype=count_type)
    else:
        np.cumsum(run_len[::-1], out=fp[1:])
    fp[1:] -= tp[1:]
    thresholds = np.empty(m + 1, dtype=np.float64)
    thresholds[0] = np.inf
    thresholds[1:] = ascending[::-1]
    return ThresholdSweep(thresholds=thresholds, tp=tp, fp=fp, n_pos=n_pos, n_neg=n - n_pos)


def mirrored_sweeps(score: np.ndarray, positive: np.ndarray, mirror) -> tuple[ThresholdSweep, ThresholdSweep]:
    """Sweeps of both classes of a binary problem whose other score is ``mirror(score)``.

    ``mirror`` must be non-increasing (``1 - s`` or ``-s``): then the other score's distinct
    values are the mirrored distinct values in reverse, where values that the mirror makes equal
    (``1 - s`` rounds tiny differences away) merge, and each value's samples of the other class
    are its samples minus its positives. One sort serves both sweeps. Returns (sweep of
    ``score`` for ``positive``, sweep of ``mirror(score)`` for ``~positive``).
    """
    ascending, run_len, pos_per_run = _runs(np.sort(score), np.sort(score[positive]))
    first = _sweep_from_runs(ascending, run_len, pos_per_run)
    ones = run_len is None
    run_len = np.ones(ascending.size, dtype=np.int64) if ones else run_len
    values = mirror(ascending[::-1])
    other_len, other_pos = run_len[::-1], (run_len - pos_per_run)[::-1]
    starts = np.flatnonzero(np.concatenate([[True], values[1:] != values[:-1]])) if values.size else np.arange(0)
    if starts.size < values.size:
        values = values[starts]
        other_len = np.add.reduceat(other_len, starts)
        other_pos = np.add.reduceat(other_pos, starts)
        ones = False
    return first, _sweep_from_runs(values, None if ones else other_len, other_pos)


def micro_sweep(y_true: np.ndarray, scores: np.ndarray) -> ThresholdSweep:
    """One sweep over every (sample, class) score, positive where the class is the true one."""
    true_scores = scores[np.arange(y_true.size), y_true]
    return _sweep_from_sorted(np.sort(scores, axis=None), np.sort(true_scores))


# --- threshold suggestions -------------------------------------------------

def suggest_max_f1(sweep: ThresholdSweep) -> float:
    """Threshold of maximum F1 (the highest such threshold on ties)."""
    return _argbest(sweep, sweep.curve()["f1"])


def suggest_max_youden(sweep: ThresholdSweep) -> float:
    """Threshold of maximum Youden J = TPR - FPR (the highest on ties)."""
    c = sweep.curve()
    return _argbest(sweep, c["recall"] - c["fpr"])


def suggest_target_precision(sweep: ThresholdSweep, target: float) -> float:
    """Lowest threshold whose precision reaches ``target``; NaN if none does."""
    precision = sweep.curve()["precision"][1:]
    ok = np.flatnonzero(precision >= target)
    return float(sweep.thresholds[1:][ok[-1]]) if ok.size else float("nan")


def suggest_target_recall(sweep: ThresholdSweep, target: float) -> float:
    """Highest threshold whose recall is at least ``target``; NaN if none is."""
    recall = sweep.curve()["recall"][1:]
    ok = np.flatnonzero(recall >= target)
    return float(sweep.thresholds[1:][ok[0]]) if ok.size else float("nan")


def suggest_min_cost(sweep: ThresholdSweep, cost_fp: float, cost_fn: float) -> float:
    """Threshold minimising ``cost_fp * FP + cost_fn * FN`` (the highest on ties).

    May be ``+inf``: predicting nothing positive is then cheapest.
    """
    cost = cost_fp * sweep.fp + cost_fn * (sweep.n_pos - sweep.tp)
    return float(sweep.thresholds[int(np.argmin(cost))])


def suggested_thresholds(sweep: ThresholdSweep, target_precision: float = 0.9, target_recall: float = 0.9,
                         cost_fp: float = 1.0, cost_fn: float = 1.0) -> dict[str, float]:
    """Every suggested threshold of one class's sweep, by name (what /threshold's buttons set)."""
    return {
        "max_f1": suggest_max_f1(sweep),
        "max_youden": suggest_max_youden(sweep),
        "target_precision": suggest_target_precision(sweep, target_precision),
        "target_recall": suggest_target_recall(sweep, target_recall),
        "min_cost": suggest_min_cost(sweep, cost_fp, cost_fn),
    }


def _argbest(sweep: ThresholdSweep, values: np.ndarray) -> float:
    v = np.where(np.isnan(values[1:]), -np.inf, values[1:])
    if not np.isfinite(v).any():
        return float("nan")
    return float(sweep.thresholds[1:][int(np.argmax(v))])


# --- selective prediction and calibration ----------------------------------

@dataclass(frozen=True, eq=False)
class SelectiveSweep:
    """Coverage and accuracy of the predictions kept at each confidence threshold.

    thresholds : ndarray of shape (m,), decreasing distinct confidences.
    kept, correct : ndarray of shape (m,), cumulative counts of kept / correct kept.
    """

    thresholds: np.ndarray
    kept: np.ndarray
    correct: np.ndarray
    n: int

    def at(self, threshold: float) -> dict[str, float]:
        i = int(np.searchsorted(-self.thresholds, -float(threshold), side="right"))
        kept = int(self.kept[i - 1]) if i else 0
        correct = int(self.correct[i - 1]) if i else 0
        return {
            "threshold": float(threshold),
            "kept": kept,
            "coverage": kept / self.n if self.n else float("nan"),
            "accuracy": correct / kept if kept else float("nan"),
        }

    def curve(self) -> dict[str, np.ndarray]:
        return {
            "threshold": self.thresholds,
            "coverage": self.kept / self.n,
            "accuracy": self.correct / self.kept,
        }


def selective_sweep(confidence: np.ndarray, correct: np.ndarray) -> SelectiveSweep:
    """Keep predictions with ``confidence >= t``; shapes (n_samples,)."""
    sweep = threshold_sweep(confidence, correct)
    kept = sweep.tp[1:] + sweep.fp[1:]
    return SelectiveSweep(sweep.thresholds[1:], kept, sweep.tp[1:], int(confidence.size))


def log_loss(y_true: np.ndarray, proba: np.ndarray) -> float:
    """Mean negative log-likelihood of the true class (probabilities clipped to [eps, 1-eps])."""
    p = np.clip(proba[np.arange(y_true.size), y_true], _EPS, 1 - _EPS)
    return float(-np.mean(np.log(p)))


def brier_score(y_true: np.ndarray, proba: np.ndarray) -> float:
    """Mean squared distance to the one-hot truth; halved for two classes (scikit-learn's convention)."""
    sq = np.sum(proba**2, axis=1) - 2 * proba[np.arange(y_true.size), y_true] + 1
    score = float(np.mean(sq))
    return score / 2 if proba.shape[1] < 3 else score


def reliability(confidence: np.ndarray, correct: np.ndarray, n_bins: int = 15) -> dict[str, np.ndarray]:
    """Equal-width confidence bins on [0, 1].

    Returns arrays of shape (n_bins,): lower, upper, count, confidence (mean),
    accuracy (mean); empty bins are NaN. A confidence ``c`` falls in the bin
    ``(lower, upper]``, the first bin also holding 0.
    """
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    # bin of c is ceil(c * n_bins) - 1, corrected where float rounding puts c across an edge
    idx = np.clip(np.ceil(confidence * n_bins).astype(np.int64) - 1, 0, n_bins - 1)
    idx -= (idx > 0) & (confidence <= edges[idx])
    idx += (idx < n_bins - 1) & (confidence > edges[idx + 1])
    count = np.bincount(idx, minlength=n_bins).astype(np.float64)
    conf_sum = np.bincount(idx, weights=confidence, minlength=n_bins)
    acc_sum = np.bincount(idx, weights=correct.astype(np.float64), minlength=n_bins)
    return {
        "lower": edges[:-1],
        "upper": edges[1:],
        "count": count.astype(np.int64),
        "confidence": _safe_div(conf_sum, count),
        "accuracy": _safe_div(acc_sum, count),
    }


def expected_calibration_error(bins: dict[str, np.ndarray]) -> float:
    """Sum over bins of |accuracy - confidence| weighted by the bin's share of samples."""
    count = bins["count"]
    used = count > 0
    gap = np.abs(bins["accuracy"][used] - bins["confidence"][used])
    return float(np.sum(gap * count[used]) / count.sum())


def reduce_curve(x: np.ndarray, y: np.ndarray, max_points: int = MAX_CURVE_POINTS,
                 keep: tuple[int, ...] = ()) -> np.ndarray:
    """Indices of at most about ``max_points`` points that keep the curve's shape.

    Points are taken at equal steps of path length (in coordinates scaled to
    [0, 1]), so steep and flat parts are both kept; the two ends and the
    indices in ``keep`` are always included. Returns sorted indices.
    """
    n = len(x)
    if n <= max_points:
        return np.arange(n)
    xs = np.nan_to_num(np.asarray(x, dtype=np.float64))
    ys = np.nan_to_num(np.asarray(y, dtype=np.float64))
    span = lambda v: (v.max() - v.min()) or 1.0  # noqa: E731
    step = np.hypot(np.diff(xs) / span(xs), np.diff(ys) / span(ys))
    length = np.concatenate([[0.0], np.cumsum(step)])
    targets = np.linspace(0.0, length[-1], max_points)
    idx = np.searchsorted(length, targets, side="left")
    idx = np.concatenate([idx, [0, n - 1], np.asarray(keep, dtype=np.int64)])
    return np.unique(np.clip(idx, 0, n - 1))


# --- drill-down -------------------------------------------------------------

def cell_index(y_true: np.ndarray, y_pred: np.ndarray, confidence: np.ndarray,
               n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Sample order grouped by confusion cell, most confident first within a cell.

    Returns ``order`` of shape (n_samples,) and ``offsets`` of shape
    (n_classes * n_classes + 1,): the samples of cell (i, j) are
    ``order[offsets[c]:offsets[c + 1]]`` with ``c = i * n_classes + j``.
    Samples without a confidence keep file order.
    """
    cell = y_true.astype(np.int64) * n_classes + y_pred
    conf = np.nan_to_num(confidence, nan=-np.inf)
    order = np.lexsort((-conf, cell))
    offsets = np.concatenate([[0], np.cumsum(np.bincount(cell, minlength=n_classes * n_classes))])
    return order, offsets
