"""Micro-averaged ROC AUC and average precision without the pooled sort.

The micro average pools every (sample, class) score into one one-vs-rest problem of n × k
scores, positive where the class is the sample's own: n positives and n (k - 1) negatives. A
pooled sweep (:func:`evaldash.metrics.micro_sweep`) sorts all n × k scores and keeps arrays of
that length: about 4 GB at 100,000 rows of 1,000 classes. Both numbers only need, for each
negative, where it falls among the n positive scores, so the negatives are placed by binary
search among the sorted positives, a block of classes at a time: O(n × k × log n) time and
O(n + block) memory, with the same results (ROC AUC exactly, as integers until the last
division; average precision up to the order of a floating-point sum).
"""

from __future__ import annotations

import numpy as np

BLOCK = 4_000_000  # scores placed at once


def micro_auc_ap(y_true: np.ndarray, scores: np.ndarray) -> tuple[float, float]:
    """(ROC AUC, average precision) of the pooled problem, as scikit-learn's ``average="micro"``
    computes them on the one-hot labels; ``y_true`` of shape (n,), ``scores`` (n, k), k >= 2."""
    n, k = scores.shape
    if n == 0 or k < 2:
        return float("nan"), float("nan")
    step = max(1, BLOCK // max(n, 1))

    def negatives():
        for start in range(0, k, step):
            cols = np.arange(start, min(k, start + step))
            yield scores[:, cols][y_true[:, None] != cols[None, :]], None
    return pooled_auc_ap(scores[np.arange(n), y_true], negatives(), n * (k - 1))


def pooled_auc_ap(positives: np.ndarray, negative_blocks, n_neg: int) -> tuple[float, float]:
    """(ROC AUC, average precision) of one pooled problem from the positives' scores, shape
    (n_pos,), and the negatives' scores given in blocks ``(values, counts)`` (``counts`` None:
    one negative per value), ``n_neg`` negatives in all. Each negative is placed by binary search
    among the sorted distinct positive values; NaN without positives or negatives."""
    n = int(positives.size)
    if n == 0 or n_neg == 0:
        return float("nan"), float("nan")
    values, pos_at = np.unique(positives, return_counts=True)  # the positives, ascending
    below = np.concatenate([[0], np.cumsum(pos_at)])  # positives below each distinct value
    m = values.size
    # how many negatives have j distinct positive values <= them (right) / < them (left)
    right = np.zeros(m + 1, dtype=np.int64)
    left = np.zeros(m + 1, dtype=np.int64)
    for negatives, counts in negative_blocks:
        at_right = np.searchsorted(values, negatives, side="right")
        # the values are distinct: a negative sits left of its right place only when it equals
        # the value just before (one comparison instead of a second binary search)
        at_left = at_right - ((at_right > 0) & (values[np.maximum(at_right - 1, 0)] == negatives))
        if counts is not None and counts.size and counts.min() == 1 and counts.max() == 1:
            counts = None  # one negative per value (distinct scores): counting beats a weighted sum
        if counts is None:
            right += np.bincount(at_right, minlength=m + 1)
            left += np.bincount(at_left, minlength=m + 1)
        else:  # exact integers: bincount's float sums of counts stay below 2**53
            right += np.rint(np.bincount(at_right, weights=counts, minlength=m + 1)).astype(np.int64)
            left += np.rint(np.bincount(at_left, weights=counts, minlength=m + 1)).astype(np.int64)
    # each negative: the positives above it, plus half those equal to it (twice, in integers)
    twice = 2 * n * n_neg - int(np.dot(right, below)) - int(np.dot(left, below))
    auc = twice / 2 / (n * n_neg)
    # average precision: recall steps at each distinct positive value (highest first, as the
    # sweep runs); at value j the negatives at or above it are those with more than j values <= them
    suffix = np.cumsum(right[::-1])[::-1]  # suffix[i]: negatives with at least i values <= them
    tp = (n - below[:-1])[::-1]
    fp = suffix[1:][::-1]
    precision = tp / (tp + fp).astype(np.float64)
    ap = max(0.0, float(np.dot(pos_at[::-1].astype(np.float64), precision) / n))
    return float(auc), ap
