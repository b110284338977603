"""Bootstrap confidence intervals, vectorised and seeded.

For the metrics that depend on the confusion matrix only, resampling n samples with replacement
and counting them into confusion cells gives cell counts that follow a multinomial distribution
over the cells, with the observed cell shares as probabilities. So instead of drawing n indices
per resample (a billion draws for 1,000 resamples of a million rows), each resample draws its
k × k cell counts directly: ``rng.multinomial(n, shares, size=B)``, exactly the same
distribution. For two models on the same samples (paired), the categories are the observed
(cell of A, cell of B) pairs, so each resample keeps the pairing.

Only the observed cells (at most min(n, k²)) are drawn (:func:`resampled_class_counts`): a cell
with share 0 takes no random number in numpy's multinomial, so dropping those cells (keeping one
empty last category where the full list ends in one) gives the very same draws. Each resample's
cells are then summed into per-class counts (true positives, support, predictions), in blocks of
resamples, so the cost is O(B · (observed cells + k)) in time and O(B · k) in memory, never a
(B, k, k) array: 1,000 classes no longer need 8 GB, nor 5,000 classes 186 GiB.

Metrics here: accuracy, macro F1 and per-class precision/recall/F1, as scikit-learn computes
them (``zero_division=0``), and one-vs-rest ROC AUC (:func:`resampled_auc`, the same idea over
groups of equal scores). Intervals are percentile intervals.

Macro ROC AUC and ECE depend on every class's scores at once, so their resamples must draw the
rows jointly for all classes (and, for two models on the same samples, for both models). Up to
``EXACT_MAX_CELLS`` rows × classes averaged (ECE: rows) each resample draws the rows themselves
(:func:`row_counts`), exactly as index resampling does; that costs resamples × rows × classes.
Above that:

- macro ROC AUC takes the first-order (DeLong) expansion of each class's AUC: a resample's macro
  AUC is the point value plus the sum over its rows of each row's influence (:func:`auc_influence`,
  averaged over the classes), and the rows are grouped into ``MAX_AUC_BINS`` quantile bins of
  that influence whose counts are drawn from their multinomial. The second-order term left out
  is a fraction of about 1/n of the variance; the binning loses about 0.15% of it (0.07% of the
  interval's width) on the 1M-row benchmark file. ``tests/test_bootstrap.py`` checks both paths
  against index resampling. A class with a handful of positives in a large file is the weak spot
  of any such expansion: its AUC's resamples are far from normal.
- ECE (15 equal-width confidence bins) depends on each bin's sum of ``correct - confidence``; the
  rows are grouped by bin and that difference rounded to 1/64, each group standing at its mean,
  and the group counts drawn from their multinomial (paired: the observed pairs of A's and B's
  group). Only the spread of the difference inside a group (below 1/64) is left out.
"""

from __future__ import annotations

import warnings

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


def _observed_cells(cells: np.ndarray, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """The categories of the cell multinomial that can be drawn: the observed cell codes in
    increasing order and their counts, plus the last cell (k² - 1) with count 0 when it is not
    observed. numpy's multinomial takes no random number for a category of share 0 and gives the
    last category what is left, so these categories give exactly the draws of all k² cells."""
    codes, counts = np.unique(np.asarray(cells, dtype=np.int64), return_counts=True)
    return _with_last_cell(codes, counts, n_classes)


def _with_last_cell(codes: np.ndarray, counts: np.ndarray, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    last = n_classes * n_classes - 1
    if codes.size == 0 or codes[-1] != last:
        codes, counts = np.append(codes, last), np.append(counts, 0)
    return codes, counts


def resampled_class_counts(cells: np.ndarray, n_classes: int, resamples: int = DEFAULT_RESAMPLES,
                           seed: int = DEFAULT_SEED) -> dict[str, np.ndarray]:
    """Per-class counts of ``resamples`` bootstrap resamples: ``tp``, ``support`` (true class)
    and ``predicted``, each of shape (resamples, k), and ``total``, shape (resamples,).

    The same draws as :func:`resampled_confusions` at the same seed (the diagonal, row sums and
    column sums of its matrices), at O(resamples × (observed cells + k)) cost."""
    return class_counts_of_cells(*_observed_cells(cells, n_classes), n_classes, resamples, seed)


def class_counts_of_cells(codes: np.ndarray, counts: np.ndarray, n_classes: int,
                          resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED) -> dict[str, np.ndarray]:
    """:func:`resampled_class_counts` from the observed cells: their codes ``true * k + pred``
    (increasing) and counts, as an engine's GROUP BY returns them (the draws are the same)."""
    k = n_classes
    codes, counts = _with_last_cell(np.asarray(codes, dtype=np.int64), np.asarray(counts, dtype=np.int64), k)
    n = int(counts.sum())
    true, pred = codes // k, codes % k
    diagonal = true == pred
    out = {name: np.zeros((resamples, k), dtype=np.int64) for name in ("tp", "support", "predicted")}
    rng = np.random.default_rng(seed)
    step = max(1, _CHUNK // max(codes.size, k))
    for start in range(0, resamples if n else 0, step):
        stop = min(resamples, start + step)
        draws = rng.multinomial(n, counts / n, size=stop - start)  # the same draws as one call
        out["support"][start:stop] = _sum_by(draws, true, k)
        out["predicted"][start:stop] = _sum_by(draws, pred, k)
        out["tp"][start:stop, true[diagonal]] = draws[:, diagonal]
    out["total"] = out["support"].sum(axis=1)
    return out


def class_count_metrics(tp: np.ndarray, support: np.ndarray, predicted: np.ndarray,
                        total: np.ndarray) -> dict[str, np.ndarray]:
    """Accuracy and macro F1, shape (m,), and per-class precision/recall/F1, shape (m, k), from
    per-class counts of shape (m, k) and totals of shape (m,) (scikit-learn's definitions,
    zero_division=0)."""
    tp, support, predicted = (np.asarray(a, dtype=np.float64) for a in (tp, support, predicted))
    total = np.asarray(total, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        recall = np.where(support > 0, tp / support, 0.0)
        denom = support + predicted
        f1 = np.where(denom > 0, 2 * tp / denom, 0.0)
        accuracy = np.where(total > 0, tp.sum(axis=1) / total, np.nan)
    return {"accuracy": accuracy, "macro_f1": f1.mean(axis=1), "precision": precision, "recall": recall,
            "f1": f1}


def confusion_metrics(cms: np.ndarray) -> dict[str, np.ndarray]:
    """:func:`class_count_metrics` of confusion matrices ``cms`` of shape (m, k, k)."""
    cms = np.asarray(cms)
    return class_count_metrics(np.diagonal(cms, axis1=1, axis2=2), cms.sum(axis=2), cms.sum(axis=1),
                               cms.sum(axis=(1, 2)))


def resampled_metrics(cells: np.ndarray, n_classes: int, resamples: int = DEFAULT_RESAMPLES,
                      seed: int = DEFAULT_SEED) -> dict[str, np.ndarray]:
    """``confusion_metrics(resampled_confusions(...))`` without the (resamples, k, k) array."""
    return class_count_metrics(**resampled_class_counts(cells, n_classes, resamples, seed))


def percentile_interval(values: np.ndarray, level: float = LEVEL) -> np.ndarray:
    """The central ``level`` percentile interval along axis 0: shape (2,) + values.shape[1:]."""
    alpha = (1.0 - level) / 2.0
    values = np.asarray(values)
    if values.ndim > 1 and not np.isnan(values).any():
        # the same numbers: nanquantile runs a Python loop over the columns (seconds at 5,000 classes)
        return np.quantile(values, [alpha, 1.0 - alpha], axis=0)
    return np.nanquantile(values, [alpha, 1.0 - alpha], axis=0)


def intervals(y_true: np.ndarray, y_pred: np.ndarray, classes: list[str], resamples: int = DEFAULT_RESAMPLES,
              seed: int = DEFAULT_SEED, level: float = LEVEL, scores: np.ndarray | None = None) -> dict:
    """95% (``level``) bootstrap intervals as a JSON-ready dict: ``accuracy`` and ``macro_f1`` →
    [low, high], ``per_class`` → class → {precision, recall, f1, and roc_auc with ``scores``} →
    [low, high], plus the method."""
    codes, counts = np.unique(cell_codes(y_true, y_pred, len(classes)), return_counts=True)
    out = intervals_of_cells(codes, counts, classes, resamples, seed, level)
    if scores is not None:
        for name, pair in auc_intervals(scores, y_true, classes, resamples, seed, level).items():
            out["per_class"][name]["roc_auc"] = pair
    return out


def intervals_of_cells(codes: np.ndarray, cell_counts: np.ndarray, classes: list[str],
                       resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED, level: float = LEVEL) -> dict:
    """:func:`intervals` without ROC AUC, from the observed confusion cells (codes ``true * k + pred``,
    increasing, and their counts): what an engine's GROUP BY gives; the same draws and intervals."""
    k = len(classes)
    counts = class_counts_of_cells(codes, cell_counts, k, resamples, seed)
    # the per-class floats a block of classes at a time: O(resamples × classes) ints, not 4 times
    # as many floats (only F1 is kept whole, for its mean)
    f1 = np.empty((resamples, k))
    per = {m: np.empty((2, k)) for m in ("precision", "recall", "f1")}
    step = max(1, _CHUNK // max(resamples, 1))
    for start in range(0, k, step):
        block = slice(start, start + step)
        stats = class_count_metrics(counts["tp"][:, block], counts["support"][:, block],
                                    counts["predicted"][:, block], counts["total"])
        f1[:, block] = stats["f1"]
        for m in per:
            per[m][:, block] = percentile_interval(stats[m], level)
    with np.errstate(invalid="ignore", divide="ignore"):
        accuracy = np.where(counts["total"] > 0, counts["tp"].sum(axis=1) / counts["total"], np.nan)
    out = {"method": "percentile bootstrap", "resamples": resamples, "seed": seed, "level": level,
           "accuracy": percentile_interval(accuracy, level).tolist(),
           "macro_f1": percentile_interval(f1.mean(axis=1), level).tolist(), "per_class": {}}
    for c, name in enumerate(classes):
        out["per_class"][name] = {m: [float(per[m][0, c]), float(per[m][1, c])] for m in per}
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
    return resampled_auc_of_groups(auc_group_counts(score, positive, max_bins), resamples, seed)


def auc_group_counts(score: np.ndarray, positive: np.ndarray, max_bins: int = MAX_AUC_BINS) -> np.ndarray:
    """The counts :func:`resampled_auc` draws from: negatives and positives (interleaved, shape
    (2 × groups,)) per distinct score, or per quantile bin above ``max_bins`` distinct scores."""
    values = np.unique(score)
    if values.size > max_bins:
        values = np.unique(np.quantile(score, auc_bin_quantiles(max_bins)))
        group = np.searchsorted(values, score, side="right")
        n_groups = values.size + 1
    else:
        group = np.searchsorted(values, score)
        n_groups = values.size
    return np.bincount(group * 2 + positive.astype(np.int64), minlength=2 * n_groups)


def auc_bin_quantiles(max_bins: int = MAX_AUC_BINS) -> np.ndarray:
    """The quantiles whose values cut the scores into :func:`resampled_auc`'s bins."""
    return np.linspace(0, 1, max_bins + 1)[1:-1]


def resampled_auc_of_groups(counts: np.ndarray, resamples: int = DEFAULT_RESAMPLES,
                            seed: int = DEFAULT_SEED) -> np.ndarray:
    """:func:`resampled_auc` from its groups' counts: ``counts[2 g]`` negatives and ``counts[2 g + 1]``
    positives in group ``g``, groups in increasing score order (what an engine can count)."""
    counts = np.asarray(counts, dtype=np.int64)
    n = int(counts.sum())
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(n, counts / n, size=resamples)
    return _grouped_auc(draws[:, 1::2].astype(np.float64), draws[:, 0::2].astype(np.float64))


def _grouped_auc(pos: np.ndarray, neg: np.ndarray, axis: int = 1) -> np.ndarray:
    """ROC AUC from positive and negative counts per group of equal scores, groups in increasing
    score order along ``axis``, each of shape (m, n_groups) (or (n_groups, m) with ``axis=0``):
    shape (m,), NaN without positives or negatives."""
    below = np.cumsum(neg, axis=axis) - neg  # negatives with a lower score than the group
    with np.errstate(invalid="ignore", divide="ignore"):
        return (pos * (below + neg / 2)).sum(axis=axis) / (pos.sum(axis=axis) * neg.sum(axis=axis))


def auc_intervals(scores: np.ndarray, y_true: np.ndarray, classes: list[str], resamples: int = DEFAULT_RESAMPLES,
                  seed: int = DEFAULT_SEED, level: float = LEVEL) -> dict[str, list[float]]:
    """Class name → [low, high] of its one-vs-rest ROC AUC (NaNs when undefined)."""
    def groups(c: int):
        positive = y_true == c
        return None if positive.all() or not positive.any() else auc_group_counts(scores[:, c], positive)
    return auc_intervals_of_groups(groups, classes, resamples, seed, level)


def auc_intervals_of_groups(groups, classes: list[str], resamples: int = DEFAULT_RESAMPLES,
                            seed: int = DEFAULT_SEED, level: float = LEVEL) -> dict[str, list[float]]:
    """:func:`auc_intervals` from each class's :func:`auc_group_counts` (``groups(c)``, None where
    the class has no positives or no negatives): what an engine can count."""
    out = {}
    for c, name in enumerate(classes):
        g = groups(c)
        if g is None:
            out[name] = [float("nan"), float("nan")]
            continue
        out[name] = [float(v) for v in percentile_interval(resampled_auc_of_groups(g, resamples, seed + c), level)]
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


def paired_resampled_class_counts(cells_a: np.ndarray, cells_b: np.ndarray, n_classes: int,
                                  resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED
                                  ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Per-class counts of A and of B (as :func:`resampled_class_counts`) on the same resamples
    of shared samples: the draws of :func:`paired_resampled_confusions`, reduced in blocks of
    resamples to shape (resamples, k), never (resamples, k, k)."""
    kk = n_classes * n_classes
    pairs, counts = np.unique(cells_a.astype(np.int64) * kk + cells_b, return_counts=True)
    return paired_class_counts_of_pairs(pairs, counts, n_classes, resamples, seed)


def paired_class_counts_of_pairs(pairs: np.ndarray, counts: np.ndarray, n_classes: int,
                                 resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED
                                 ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """:func:`paired_resampled_class_counts` from the observed pairs: their codes
    ``cell_a * k² + cell_b`` (increasing) and counts, as an engine's JOIN and GROUP BY return them
    (the draws are the same)."""
    k, kk = n_classes, n_classes * n_classes
    pairs, counts = np.asarray(pairs, dtype=np.int64), np.asarray(counts, dtype=np.int64)
    n = int(counts.sum())
    sides = []
    for codes in (pairs // kk, pairs % kk):
        true, pred = codes // k, codes % k
        sides.append((true, pred, true == pred,
                      {name: np.zeros((resamples, k), dtype=np.int64) for name in ("tp", "support", "predicted")}))
    rng = np.random.default_rng(seed)
    step = max(1, _CHUNK // max(pairs.size, k))
    for start in range(0, resamples if n else 0, step):
        stop = min(resamples, start + step)
        draws = rng.multinomial(n, counts / n, size=stop - start)
        for true, pred, diagonal, out in sides:
            out["support"][start:stop] = _sum_by(draws, true, k)
            out["predicted"][start:stop] = _sum_by(draws, pred, k)
            out["tp"][start:stop] = _sum_by(draws[:, diagonal], true[diagonal], k)
    for *_, out in sides:
        out["total"] = out["support"].sum(axis=1)
    return sides[0][3], sides[1][3]


def _sum_by(draws: np.ndarray, groups: np.ndarray, size: int) -> np.ndarray:
    """Columns of ``draws`` (shape (B, m)) summed by ``groups`` (shape (m,)) into shape (B, size)."""
    out = np.zeros((draws.shape[0], size), dtype=np.int64)
    if groups.size == 0:
        return out
    order = np.argsort(groups, kind="stable")
    g = groups[order]
    starts = np.flatnonzero(np.concatenate([[True], g[1:] != g[:-1]]))
    out[:, g[starts]] = np.add.reduceat(draws[:, order], starts, axis=1)
    return out


# --- metrics of all classes at once: rows drawn jointly ----------------------------------------

EXACT_MAX_CELLS = 20_000  # rows x classes averaged (ECE: rows) up to which resamples draw the rows
ECE_BINS = 15  # as metrics.reliability
ECE_STEP = 64  # the difference correct - confidence is grouped by 1/ECE_STEP above EXACT_MAX_CELLS rows
_CHUNK = 2_000_000  # resamples x rows held at once by the exact path


def _exact(cells: int, exact_max_cells: int | None) -> bool:
    return cells <= (EXACT_MAX_CELLS if exact_max_cells is None else exact_max_cells)


def row_counts(n: int, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """How often each of ``n`` rows is drawn by each of ``resamples`` resamples with replacement,
    shape (resamples, n): each resample's ``rng.integers(0, n, size=n)``, in turn, counted."""
    idx = rng.integers(0, n, size=(resamples, n))
    flat = idx + (np.arange(resamples, dtype=np.int64) * n)[:, None]
    return np.bincount(flat.ravel(), minlength=resamples * n).reshape(resamples, n)


def _row_count_chunks(n: int, resamples: int, rng: np.random.Generator):
    """:func:`row_counts` of all resamples in blocks of at most about ``_CHUNK`` values (the same
    draws as one call)."""
    step = max(1, _CHUNK // max(n, 1))
    for start in range(0, resamples, step):
        yield row_counts(n, min(step, resamples - start), rng)


def macro_auc_classes(y_true: np.ndarray, n_classes: int, positive: int | None = None) -> list[int]:
    """The classes averaged by macro ROC AUC: those with positives and negatives, or for binary
    data (``positive`` given) the positive class alone, as :attr:`Evaluation.ranking` does."""
    counts = np.bincount(y_true, minlength=n_classes)
    defined = [c for c in range(n_classes) if 0 < counts[c] < y_true.size]
    if positive is not None:
        return [positive] if positive in defined else []
    return defined


def auc_influence(score: np.ndarray, positive: np.ndarray) -> tuple[float, np.ndarray]:
    """One-vs-rest ROC AUC (as ``roc_auc_score``, ties counting half) and each sample's first-order
    influence on it, shape (n_samples,): a resample with row weights ``w`` (mean 1) has an AUC of
    about ``auc + sum(w * influence)``.

    For a positive the influence is (share of negatives ranked below it - AUC) / n_pos, for a
    negative (share of positives ranked above it - AUC) / n_neg (DeLong's structural components);
    the influences sum to 0. Needs positives and negatives. The AUC is the exact integer ratio
    ``sum(pos · (2 · negatives below + negatives tied)) / (2 · n_pos · n_neg)`` rounded once, so an
    engine computes the same float and with it the same influences (:mod:`evaldash.engines.auc_delta`)."""
    order = np.argsort(score)
    s, pos = score[order], positive[order]
    distinct = np.empty(s.size, dtype=bool)
    distinct[0] = True
    np.not_equal(s[1:], s[:-1], out=distinct[1:])
    pos_g = pos.astype(np.float64)
    if not distinct.all():  # ties: counted per group of equal scores
        starts = np.flatnonzero(distinct)
        group = np.cumsum(distinct) - 1
        pos_g = np.add.reduceat(pos_g, starts)
        neg_g = np.diff(np.append(starts, s.size)) - pos_g
    else:
        neg_g = 1.0 - pos_g
    n_pos, n_neg = pos_g.sum(), neg_g.sum()
    cum_neg = np.cumsum(neg_g)
    below = (cum_neg - neg_g / 2) / n_neg  # a positive's share of negatives below it
    above = (n_pos - np.cumsum(pos_g) + pos_g / 2) / n_pos  # a negative's share of positives above it
    # the exact integer ratio, rounded once: what an engine computes too (evaldash.engines.auc_delta)
    auc = int(np.sum(pos_g.astype(np.int64) * (2 * cum_neg.astype(np.int64) - neg_g.astype(np.int64)))) / (
        2 * int(n_pos) * int(n_neg))
    if not distinct.all():
        below, above = below[group], above[group]
    influence = np.zeros(s.size)
    influence[order] = np.where(pos, (below - auc) / n_pos, (above - auc) / n_neg)
    return auc, influence


def _positives(y_true: np.ndarray, c: int) -> np.ndarray:
    """Whether each sample is a positive of class ``c``: ``y_true`` holds class indices, shape
    (n_samples,), or is a multi-label indicator matrix, shape (n_samples, n_classes)."""
    return y_true[:, c] if y_true.ndim == 2 else y_true == c


def macro_auc_influence(scores: np.ndarray, y_true: np.ndarray, classes: list[int]) -> tuple[float, np.ndarray]:
    """Macro ROC AUC over ``classes`` (each with positives and negatives) and each sample's
    first-order influence on it, shape (n_samples,); NaN and zeros without classes. ``y_true``:
    class indices (n_samples,) or a multi-label indicator matrix (n_samples, n_classes)."""
    if not classes:
        return float("nan"), np.zeros(y_true.shape[0])
    total, influence = 0.0, np.zeros(y_true.shape[0])
    for c in classes:
        auc, inf = auc_influence(scores[:, c], _positives(y_true, c))
        total += auc
        influence += inf
    return total / len(classes), influence / len(classes)


def weighted_macro_auc(scores: np.ndarray, y_true: np.ndarray, classes: list[int], counts: np.ndarray) -> np.ndarray:
    """Macro ROC AUC over ``classes`` of each resample given by its row counts ``counts`` (shape
    (m, n_samples)), shape (m,): the mean over the classes with positives and negatives in the
    resample, NaN if none has."""
    aucs = np.full((len(classes), counts.shape[0]), np.nan)
    by_row = np.ascontiguousarray(counts.T, dtype=np.float64)  # (n_samples, m): a row's counts together
    for i, c in enumerate(classes):
        score = scores[:, c]
        order = np.argsort(score)
        s = score[order]
        w = by_row[order]
        pos = w * _positives(y_true, c)[order][:, None]
        neg = w - pos
        if s.size > 1 and (s[1:] == s[:-1]).any():  # ties: one group per distinct score
            starts = np.flatnonzero(np.concatenate([[True], s[1:] != s[:-1]]))
            pos, neg = np.add.reduceat(pos, starts, axis=0), np.add.reduceat(neg, starts, axis=0)
        aucs[i] = _grouped_auc(pos, neg, axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # no class defined in a resample: NaN, as meant
        return np.nanmean(aucs, axis=0)


def resampled_linear(influence: np.ndarray, resamples: int, rng: np.random.Generator,
                     max_bins: int = MAX_AUC_BINS) -> np.ndarray:
    """``sum(w * influence)`` for the row counts ``w`` of ``resamples`` resamples, shape (resamples,).

    The rows are grouped by influence (exactly up to ``max_bins`` distinct values, else into
    ``max_bins`` quantile bins, each standing at its mean) and the group counts drawn from their
    multinomial."""
    n = influence.size
    counts, sums = linear_groups(influence, max_bins)
    draws = rng.multinomial(n, counts / n, size=resamples)
    return draws @ (sums / counts)


def linear_groups(influence: np.ndarray, max_bins: int = MAX_AUC_BINS) -> tuple[np.ndarray, np.ndarray]:
    """The groups :func:`resampled_linear` draws from, in increasing order: each one's rows and sum
    of ``influence``, shape (groups,) each (an engine counts the same: :mod:`evaldash.engines.auc_delta`)."""
    n = influence.size
    ordered = np.sort(influence)
    values = ordered[np.concatenate([[True], ordered[1:] != ordered[:-1]])]
    if values.size <= max_bins:
        group = np.searchsorted(values, influence)
    else:
        edges = np.unique(ordered[(np.arange(1, max_bins) * n) // max_bins])
        group = np.searchsorted(edges, influence, side="right")
    counts = np.bincount(group)
    used = counts > 0
    return counts[used], np.bincount(group, weights=influence)[used]


def resampled_macro_auc(scores: np.ndarray, y_true: np.ndarray, classes: list[int],
                        resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED,
                        exact_max_cells: int | None = None) -> tuple[float, np.ndarray]:
    """Macro ROC AUC over ``classes`` and that of ``resamples`` bootstrap resamples, each drawing
    the rows jointly for all classes, shape (resamples,): exact (rows drawn) up to
    ``EXACT_MAX_CELLS`` rows × classes, the first-order expansion above (see the module docstring).
    ``y_true``: class indices (n,) or a multi-label indicator matrix (n, k)."""
    n = y_true.shape[0]
    if not classes:
        return float("nan"), np.full(resamples, np.nan)
    rng = np.random.default_rng(seed)
    point, influence = macro_auc_influence(scores, y_true, classes)
    if _exact(n * len(classes), exact_max_cells):
        return point, np.concatenate([weighted_macro_auc(scores, y_true, classes, w)
                                      for w in _row_count_chunks(n, resamples, rng)])
    return point, point + resampled_linear(influence, resamples, rng)


def paired_resampled_macro_auc_delta(a: tuple[np.ndarray, np.ndarray, list[int]],
                                     b: tuple[np.ndarray, np.ndarray, list[int]],
                                     resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED,
                                     exact_max_cells: int | None = None) -> np.ndarray:
    """Macro ROC AUC of B minus that of A on the same resampled rows, shape (resamples,).

    ``a``, ``b``: (scores of shape (n, k), y_true of shape (n,), classes averaged), row i of both
    being the same sample. Above ``EXACT_MAX_CELLS`` rows × classes of both, the difference of the
    two influences is resampled."""
    n = a[1].shape[0]  # y_true: class indices (n,) or a multi-label indicator matrix (n, k)
    rng = np.random.default_rng(seed)
    if _exact(n * (len(a[2]) + len(b[2])), exact_max_cells):
        return np.concatenate([weighted_macro_auc(*b, w) - weighted_macro_auc(*a, w)
                               for w in _row_count_chunks(n, resamples, rng)])
    point_a, inf_a = macro_auc_influence(*a)
    point_b, inf_b = macro_auc_influence(*b)
    return (point_b - point_a) + resampled_linear(inf_b - inf_a, resamples, rng)


def ece_bins(confidence: np.ndarray, n_bins: int = ECE_BINS) -> np.ndarray:
    """Each sample's confidence bin, shape (n_samples,), as :func:`evaldash.metrics.reliability`
    bins them (``(lower, upper]``, the first bin also holding 0)."""
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    idx = np.clip(np.ceil(confidence * n_bins).astype(np.int64) - 1, 0, n_bins - 1)
    idx -= (idx > 0) & (confidence <= edges[idx])
    idx += (idx < n_bins - 1) & (confidence > edges[idx + 1])
    return idx


def weighted_ece(confidence: np.ndarray, correct: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """ECE of each resample given by its row counts ``counts`` (shape (m, n_samples)), shape (m,)."""
    gap = np.zeros((confidence.size, ECE_BINS))
    gap[np.arange(confidence.size), ece_bins(confidence)] = correct - confidence
    w = counts.astype(np.float64)
    return np.abs(w @ gap).sum(axis=1) / w.sum(axis=1)


def _ece_groups(confidence: np.ndarray, correct: np.ndarray) -> np.ndarray:
    """Each sample's group for the ECE resamples (its bin and correct - confidence in steps of
    1/ECE_STEP), shape (n_samples,)."""
    step = np.rint((correct - confidence) * ECE_STEP).astype(np.int64) + ECE_STEP
    return ece_bins(confidence) * (2 * ECE_STEP + 1) + step


def _grouped_ece(draws: np.ndarray, group_bin: np.ndarray, group_gap: np.ndarray, n: int) -> np.ndarray:
    """ECE of resamples given as counts per group (shape (m, n_groups)) of groups in bins
    ``group_bin`` with mean gaps ``group_gap``, shape (m,)."""
    gap = np.zeros((group_bin.size, ECE_BINS))
    gap[np.arange(group_bin.size), group_bin] = group_gap
    return np.abs(draws @ gap).sum(axis=1) / n


def resampled_ece(confidence: np.ndarray, correct: np.ndarray, resamples: int = DEFAULT_RESAMPLES,
                  seed: int = DEFAULT_SEED, exact_max_cells: int | None = None) -> np.ndarray:
    """ECE of ``resamples`` bootstrap resamples, shape (resamples,) (see the module docstring)."""
    a, _ = paired_resampled_ece((confidence, correct), None, resamples, seed, exact_max_cells)
    return a


def paired_resampled_ece(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray] | None,
                         resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED,
                         exact_max_cells: int | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """ECE of A and of B on the same resampled rows, each of shape (resamples,).

    ``a``, ``b``: (confidence, correct), each of shape (n,), row i of both the same sample; ``b``
    None: A alone."""
    sides = [a] if b is None else [a, b]
    n = a[0].size
    rng = np.random.default_rng(seed)
    if _exact(n, exact_max_cells):
        out = [np.empty(0)] * len(sides)
        for w in _row_count_chunks(n, resamples, rng):
            out = [np.concatenate([o, weighted_ece(conf, corr, w)]) for o, (conf, corr) in zip(out, sides)]
    else:
        groups = [_ece_groups(conf, corr) for conf, corr in sides]
        width = ECE_BINS * (2 * ECE_STEP + 1)
        joint, inverse, counts = np.unique(groups[0] if b is None else groups[0] * width + groups[1],
                                           return_inverse=True, return_counts=True)
        gap_sums = [np.bincount(inverse, weights=corr - conf) for conf, corr in sides]
        out = ece_of_groups(joint, counts, gap_sums, resamples, rng)
    return out[0], (out[1] if b is not None else None)


def ece_of_groups(joint: np.ndarray, counts: np.ndarray, gap_sums: list[np.ndarray], resamples: int,
                  rng: np.random.Generator) -> list[np.ndarray]:
    """The grouped ECE resamples of :func:`paired_resampled_ece` (one side or two), each of shape
    (resamples,), from the observed groups: ``joint`` (increasing; a side's group of
    :func:`_ece_groups`, or paired ``group_a * width + group_b``), their counts and, per side, the
    sum of ``correct - confidence`` over each group's rows: what an engine's GROUP BY returns."""
    width = ECE_BINS * (2 * ECE_STEP + 1)
    joint, counts = np.asarray(joint, dtype=np.int64), np.asarray(counts, dtype=np.int64)
    n = int(counts.sum())
    draws = rng.multinomial(n, counts / n, size=resamples).astype(np.float64)
    out = []
    for side, gap_sum in enumerate(gap_sums):
        code = joint if len(gap_sums) == 1 else (joint // width if side == 0 else joint % width)
        mean_gap = np.asarray(gap_sum, dtype=np.float64) / counts
        out.append(_grouped_ece(draws, code // (2 * ECE_STEP + 1), mean_gap, n))
    return out

