"""The confusion matrix as its observed cells only, for any number of classes.

A file with k classes has k² confusion cells but at most n observed ones (n samples): at 10,000
classes the dense matrix is 800 MB of int64 and its JSON 905 MB, while 100,000 rows fill at most
100,000 cells. :class:`ConfusionCounts` keeps the observed cells (coordinate form, sorted by
``true * k + pred``) and derives what the views need in O(n + k): per-class totals, one row, a
dense sub-matrix of the classes shown, the most frequent confusions, and a JSON form.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from evaldash import metrics

DENSE_MAX_CLASSES = 1000  # up to this many classes, reports carry the dense matrix (k² numbers)


@dataclass(frozen=True, eq=False)
class ConfusionCounts:
    """Observed confusion cells.

    Attributes
    ----------
    n_classes : int
    true, pred : ndarray of shape (n_cells,), dtype int64
        The cells' true and predicted classes, sorted by ``true * n_cols + pred``.
    count : ndarray of shape (n_cells,), dtype int64
        Samples in each cell (all above 0).
    n_cols : int or None
        Columns when there are more than classes (e.g. one more for abstentions); default k.
    """

    n_classes: int
    true: np.ndarray
    pred: np.ndarray
    count: np.ndarray
    n_cols: int | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return self.n_classes, self.n_cols or self.n_classes

    @cached_property
    def support(self) -> np.ndarray:
        """Samples per true class, shape (k,)."""
        return np.bincount(self.true, weights=self.count, minlength=self.n_classes).astype(np.int64)

    @cached_property
    def predicted(self) -> np.ndarray:
        """Samples per predicted class (column), shape (k,) (or (n_cols,))."""
        return np.bincount(self.pred, weights=self.count, minlength=self.shape[1]).astype(np.int64)

    @cached_property
    def diagonal(self) -> np.ndarray:
        """Correct predictions per class, shape (k,)."""
        out = np.zeros(self.n_classes, dtype=np.int64)
        on = self.true == self.pred
        out[self.true[on]] = self.count[on]
        return out

    @property
    def n(self) -> int:
        return int(self.count.sum())

    def errors(self) -> np.ndarray:
        """Errors per class, shape (k,): off-diagonal row sum plus off-diagonal column sum."""
        return self.support + self.predicted[:self.n_classes] - 2 * self.diagonal

    def dense(self) -> np.ndarray:
        """The full matrix, ndarray of shape (k, k), rows true, columns predicted (k² numbers)."""
        out = np.zeros(self.shape, dtype=np.int64)
        out[self.true, self.pred] = self.count
        return out

    def sub(self, rows, cols=None) -> np.ndarray:
        """The dense block of true classes ``rows`` and predicted classes ``cols`` (default: the
        same), shape (len(rows), len(cols)), in the order given."""
        rows, back_r = np.unique(np.asarray(rows, dtype=np.int64), return_inverse=True)
        cols, back_c = (rows, back_r) if cols is None else np.unique(np.asarray(cols, dtype=np.int64),
                                                                      return_inverse=True)
        where_r = np.full(self.shape[0], -1, dtype=np.int64)
        where_c = np.full(self.shape[1], -1, dtype=np.int64)
        where_r[rows] = np.arange(rows.size)
        where_c[cols] = np.arange(cols.size)
        r, c = where_r[self.true], where_c[self.pred]
        keep = (r >= 0) & (c >= 0)
        out = np.zeros((rows.size, cols.size), dtype=np.int64)
        out[r[keep], c[keep]] = self.count[keep]
        return out[np.ix_(back_r.ravel(), back_c.ravel())]

    def row(self, true: int) -> np.ndarray:
        """Predictions of the samples of class ``true``, shape (k,)."""
        lo, hi = np.searchsorted(self.true, [true, true + 1])
        out = np.zeros(self.shape[1], dtype=np.int64)
        out[self.pred[lo:hi]] = self.count[lo:hi]
        return out

    def top_confusions(self, m: int) -> list[tuple[int, int, int]]:
        """The ``m`` most frequent off-diagonal cells as (true, pred, count), most first (ties:
        in matrix order)."""
        off = np.flatnonzero(self.true != self.pred)
        pick = off[np.argsort(-self.count[off], kind="stable")[:m]]
        return [(int(self.true[i]), int(self.pred[i]), int(self.count[i])) for i in pick]

    def per_class_table(self) -> dict[str, np.ndarray]:
        """:func:`evaldash.metrics.per_class_table` of the matrix, from the class totals alone."""
        n = self.n
        tp, support, predicted = self.diagonal, self.support, self.predicted[:self.n_classes]
        out = metrics.rates(tp, predicted - tp, support, n - support, zero_division=0.0)
        out["support"] = support
        out["prevalence"] = metrics._safe_div(support, np.full_like(support, n))
        return out

    def to_json(self, classes_max: int = DENSE_MAX_CLASSES):
        """The matrix for a report: the dense list of rows up to ``classes_max`` classes, else
        ``{"format": "coo", "shape": [k, k], "rows": [...], "cols": [...], "counts": [...]}``
        (the observed cells, rows true and columns predicted, in row-major order)."""
        if self.n_classes <= classes_max:
            return self.dense().tolist()
        return {"format": "coo", "shape": list(self.shape), "rows": self.true.tolist(),
                "cols": self.pred.tolist(), "counts": self.count.tolist()}


def confusion_counts(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int,
                     n_cols: int | None = None) -> ConfusionCounts:
    """The observed cells of the confusion matrix of ``y_true`` and ``y_pred`` (shape (n,)), in
    O(n log n) time and O(n) memory whatever the number of classes (``n_cols``: predicted
    columns when not ``n_classes``)."""
    width = n_cols or n_classes
    codes, count = np.unique(y_true.astype(np.int64) * width + y_pred, return_counts=True)
    return ConfusionCounts(n_classes, codes // width, codes % width, count.astype(np.int64), n_cols)


def column_changes(a: ConfusionCounts, b: ConfusionCounts) -> np.ndarray:
    """How much each predicted column differs between two matrices of the same shape, shape (k,):
    ``np.abs(B - A).sum(axis=0)`` over the cells observed in either, in O(cells)."""
    width = a.shape[1]
    codes = np.concatenate([a.true * width + a.pred, b.true * width + b.pred])
    cells, where = np.unique(codes, return_inverse=True)
    change = np.abs(np.bincount(where.ravel(), weights=np.concatenate([-a.count, b.count]).astype(np.float64)))
    return np.bincount(cells % width, weights=change, minlength=width).astype(np.int64)


def dense_to_json(matrix: np.ndarray, classes_max: int = DENSE_MAX_CLASSES):
    """:meth:`ConfusionCounts.to_json` of a dense (k, k) count matrix."""
    m = np.asarray(matrix)
    if m.shape[0] <= classes_max:
        return m.tolist()
    true, pred = np.nonzero(m)
    return {"format": "coo", "shape": list(m.shape), "rows": true.tolist(), "cols": pred.tolist(),
            "counts": m[true, pred].tolist()}
