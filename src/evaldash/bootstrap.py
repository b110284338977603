"""Bootstrap confidence intervals for the metrics that depend on the confusion matrix only.

Resampling n samples with replacement and counting them into confusion cells gives cell counts
that follow a multinomial distribution over the cells, with the observed cell shares as
probabilities. So instead of drawing n indices per resample (a billion draws for 1,000
resamples of a million rows), each resample draws its k × k cell counts directly:
``rng.multinomial(n, shares, size=B)``, exactly the same distribution at O(B · k²) cost. For
two models on the same samples (paired), the categories are the observed (cell of A, cell of B)
pairs, so each resample keeps the pairing.

Metrics here: accuracy, macro F1 and per-class precision/recall/F1, as scikit-learn computes
them (``zero_division=0``), and one-vs-rest ROC AUC (:func:`resampled_auc`, the same idea over
groups of equal scores). Intervals are percentile intervals.
"""

from __future__ import annotations

import numpy as np

DEFAULT_RESAMPLES = 1000
DEFAULT_SEED = 0
LEVEL = 0.95


def cell_codes(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Each sample's confusion cell ``true * k + pred``, shape (n_samples,)."""
    return y_true.astype(np.int64) * n_classes + y_pred


def resampled_confusions(cells: np.ndarray, n_classes: int, resamples: int = DEFAULT_RESAMPLES,
                         seed: int = DEFAULT_SEED) -> np.ndarray:
    """Confusion matrices of ``resamples`` bootstrap resamples, shape (resamples, k, k)."""
    counts = np.bincount(cells, minlength=n_classes * n_classes)
    n = int(counts.sum())
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(n, counts / n, size=resamples) if n else np.zeros((resamples, counts.size), np.int64)
    return draws.reshape(resamples, n_classes, n_classes)


def confusion_metrics(cms: np.ndarray) -> dict[str, np.ndarray]:
    """Accuracy and macro F1, shape (m,), and per-class precision/recall/F1, shape (m, k), of
    confusion matrices ``cms`` of shape (m, k, k) (scikit-learn's definitions, zero_division=0)."""
    cms = cms.astype(np.float64)
    tp = np.diagonal(cms, axis1=1, axis2=2)
    support = cms.sum(axis=2)
    predicted = cms.sum(axis=1)
    total = cms.sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        recall = np.where(support > 0, tp / support, 0.0)
        denom = support + predicted
        f1 = np.where(denom > 0, 2 * tp / denom, 0.0)
        accuracy = np.where(total > 0, tp.sum(axis=1) / total, np.nan)
    return {"accuracy": accuracy, "macro_f1": f1.mean(axis=1), "precision": precision, "recall": recall,
            "f1": f1}


def percentile_interval(values: np.ndarray, level: float = LEVEL) -> np.ndarray:
    """The central ``level`` percentile interval along axis 0: shape (2,) + values.shape[1:]."""
    alpha = (1.0 - level) / 2.0
    return np.nanquantile(values, [alpha, 1.0 - alpha], axis=0)


def intervals(y_true: np.ndarray, y_pred: np.ndarray, classes: list[str], resamples: int = DEFAULT_RESAMPLES,
              seed: int = DEFAULT_SEED, level: float = LEVEL, scores: np.ndarray | None = None) -> dict:
    """95% (``level``) bootstrap intervals as a JSON-ready dict: ``accuracy`` and ``macro_f1`` →
    [low, high], ``per_class`` → class → {precision, recall, f1, and roc_auc with ``scores``} →
    [low, high], plus the method."""
    k = len(classes)
    stats = confusion_metrics(resampled_confusions(cell_codes(y_true, y_pred, k), k, resamples, seed))
    out = {"method": "percentile bootstrap", "resamples": resamples, "seed": seed, "level": level,
           "accuracy": percentile_interval(stats["accuracy"], level).tolist(),
           "macro_f1": percentile_interval(stats["macro_f1"], level).tolist(), "per_class": {}}
    per = {m: percentile_interval(stats[m], level) for m in ("precision", "recall", "f1")}
    for c, name in enumerate(classes):
        out["per_class"][name] = {m: [float(per[m][0, c]), float(per[m][1, c])] for m in per}
    if scores is not None:
        for name, pair in auc_intervals(scores, y_true, classes, resamples, seed, level).items():
            out["per_class"][name]["roc_auc"] = pair
    return out


MAX_AUC_BINS = 2000


def resampled_auc(score: np.ndarray, positive: np.ndarray, resamples: int = DEFAULT_RESAMPLES,
                  seed: int = DEFAULT_SEED, max_bins: int = MAX_AUC_BINS) -> np.ndarray:
    """ROC AUC of ``resamples`` bootstrap resamples of one class, shape (resamples,).

    AUC depends on the scores only through their order, so the samples are grouped by distinct
    score and class membership, and each resample draws how many of each group it holds (a
    multinomial, as for the confusion cells); AUC is then a cumulative sum over the groups.
    Exact when there are at most ``max_bins`` distinct scores; above that the scores are grouped
    into ``max_bins`` quantile bins (pairs in one bin count as ties), which changes the interval
    by far less than its width at such sizes. NaN where a resample lacks positives or negatives.
    """
    values = np.unique(score)
    if values.size > max_bins:
        values = np.unique(np.quantile(score, np.linspace(0, 1, max_bins + 1)[1:-1]))
        group = np.searchsorted(values, score, side="right")
        n_groups = values.size + 1
    else:
        group = np.searchsorted(values, score)
        n_groups = values.size
    counts = np.bincount(group * 2 + positive.astype(np.int64), minlength=2 * n_groups)
    n = int(counts.sum())
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(n, counts / n, size=resamples)
    neg, pos = draws[:, 0::2].astype(np.float64), draws[:, 1::2].astype(np.float64)
    below = np.cumsum(neg, axis=1) - neg  # negatives with a lower score than the group
    with np.errstate(invalid="ignore", divide="ignore"):
        return (pos * (below + neg / 2)).sum(axis=1) / (pos.sum(axis=1) * neg.sum(axis=1))


def auc_intervals(scores: np.ndarray, y_true: np.ndarray, classes: list[str], resamples: int = DEFAULT_RESAMPLES,
                  seed: int = DEFAULT_SEED, level: float = LEVEL) -> dict[str, list[float]]:
    """Class name → [low, high] of its one-vs-rest ROC AUC (NaNs when undefined)."""
    out = {}
    for c, name in enumerate(classes):
        positive = y_true == c
        if positive.all() or not positive.any():
            out[name] = [float("nan"), float("nan")]
            continue
        out[name] = [float(v) for v in percentile_interval(resampled_auc(scores[:, c], positive, resamples,
                                                                           seed + c), level)]
    return out


def paired_resampled_confusions(cells_a: np.ndarray, cells_b: np.ndarray, n_classes: int,
                                resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED
                                ) -> tuple[np.ndarray, np.ndarray]:
    """Confusion matrices of A and of B on the same resamples of shared samples, each of shape
    (resamples, k, k): the multinomial is over the observed (cell of A, cell of B) pairs."""
    kk = n_classes * n_classes
    pairs, counts = np.unique(cells_a.astype(np.int64) * kk + cells_b, return_counts=True)
    n = int(counts.sum())
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(n, counts / n, size=resamples)  # (B, observed pairs)
    return (_sum_by(draws, pairs // kk, kk).reshape(-1, n_classes, n_classes),
            _sum_by(draws, pairs % kk, kk).reshape(-1, n_classes, n_classes))


def _sum_by(draws: np.ndarray, groups: np.ndarray, size: int) -> np.ndarray:
    """Columns of ``draws`` (shape (B, m)) summed by ``groups`` (shape (m,)) into shape (B, size)."""
    order = np.argsort(groups, kind="stable")
    g = groups[order]
    starts = np.flatnonzero(np.concatenate([[True], g[1:] != g[:-1]]))
    out = np.zeros((draws.shape[0], size), dtype=np.int64)
    out[:, g[starts]] = np.add.reduceat(draws[:, order], starts, axis=1)
    return out
