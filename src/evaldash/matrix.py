"""Confusion-matrix views: class orders and per-cell bootstrap intervals.

Orders (:func:`class_order`):

- ``file``: the classes as the file names them.
- ``errors``: most errors first; a class's errors are its row and column sums off the diagonal
  (its samples predicted as something else, and other samples predicted as it). Ties keep file
  order.
- ``cluster``: classes that are confused with each other stand next to each other. The
  similarity of two classes is the symmetrised off-diagonal confusion rate
  ``C[i, j] / n_i + C[j, i] / n_j`` (``n_i``: samples of true class i), so a rare class confused
  with a common one counts as much as two common ones. Average-linkage agglomerative clustering
  merges the two most similar groups at each step, each group kept as a chain of classes; a merge
  joins the two chains end to end in whichever of the four orientations puts the most similar
  end classes side by side (a dendrogram's leaf order with its branches flipped towards their
  neighbours). Groups with no confusion between them are never merged: they follow each other
  by error count, most first, each read from its end with more errors. Ties go to the lower
  class index, so the order is deterministic.
  Cost O(k³) in the number of classes k (well under a second for a few hundred). Above
  :data:`MAX_CLUSTERED` classes only the classes shown are clustered (``shown``), with the
  similarities of the whole matrix.

The confusion may be given dense (shape (k, k)) or as its observed cells
(:class:`evaldash.confusion_counts.ConfusionCounts`); with ``shown`` classes nothing of size k²
is built, so a file of thousands of classes costs O(cells + k + shown²).

Intervals (:func:`cell_intervals`): a bootstrap resample of n samples counted into confusion
cells is a multinomial draw over the cells with the observed shares as probabilities
(:mod:`evaldash.bootstrap`), so each resample's matrix is drawn directly. For a subset of
classes the cells outside it are merged into one category per shown row (its other columns), one
per shown column (its other rows) and one for the rest: merging categories of a multinomial
keeps the joint distribution of the others, so the row and column totals stay exact at
O(resamples × shown²) cost. Intervals are percentile intervals of the shown quantity: the count
(modes ``counts`` and ``score``), the share of the true class (``true``) or of the predicted
class (``pred``).
"""

from __future__ import annotations

import warnings

import numpy as np

from evaldash.bootstrap import DEFAULT_RESAMPLES, DEFAULT_SEED, LEVEL, percentile_interval
from evaldash.confusion_counts import ConfusionCounts
from evaldash.errors import InputError

ORDERS = {"file": "as in the file", "errors": "by error count", "cluster": "cluster confused classes together"}
SMALL_SAMPLE = 30  # a row (or column) with fewer samples gets the small-sample marker
MAX_CLUSTERED = 500  # O(k³): above this many classes, only the shown ones are clustered


def _counts(confusion) -> ConfusionCounts:
    """``confusion`` as its observed cells (a dense (k, k) matrix is converted)."""
    if isinstance(confusion, ConfusionCounts):
        return confusion
    c = np.asarray(confusion, dtype=np.int64)
    true, pred = np.nonzero(c)
    return ConfusionCounts(c.shape[0], true.astype(np.int64), pred.astype(np.int64), c[true, pred])


def error_counts(confusion) -> np.ndarray:
    """Errors per class, shape (k,): off-diagonal row sum plus off-diagonal column sum."""
    if isinstance(confusion, ConfusionCounts):
        return confusion.errors()
    c = np.asarray(confusion)
    return c.sum(axis=0) + c.sum(axis=1) - 2 * np.diag(c)


def confusion_similarity(confusion: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
    """Symmetrised off-diagonal confusion rates, shape (k, k): ``C[i, j] / n_i + C[j, i] / n_j``,
    zero on the diagonal and for classes without samples. ``rows``: the classes' sample counts
    ``n_i`` when ``confusion`` is a block of a larger matrix (default: its row sums)."""
    c = np.asarray(confusion, dtype=np.float64)
    rows = c.sum(axis=1) if rows is None else np.asarray(rows, dtype=np.float64)
    rate = np.divide(c, rows[:, None], out=np.zeros_like(c), where=rows[:, None] > 0)
    sim = rate + rate.T
    np.fill_diagonal(sim, 0.0)
    return sim


def cluster_order(confusion: np.ndarray, rows: np.ndarray | None = None,
                  errors: np.ndarray | None = None) -> np.ndarray:
    """Class order that puts confused classes together (see the module docstring), shape (k,).
    ``rows`` and ``errors``: each class's samples and errors when ``confusion`` is a block of a
    larger matrix (default: from the block)."""
    sim = confusion_similarity(confusion, rows)
    k = sim.shape[0]
    chains: list[list[int]] = [[i] for i in range(k)]
    size = np.ones(k)
    link = sim.copy()
    np.fill_diagonal(link, -np.inf)
    alive = np.ones(k, dtype=bool)
    for _ in range(k - 1):
        masked = np.where(alive[:, None] & alive[None, :], link, -np.inf)
        a, b = divmod(int(np.argmax(masked)), k)  # the first maximum in row order: a < b
        if not masked[a, b] > 0:
            break
        left, right = chains[a], chains[b]
        options = [(left, right), (left, right[::-1]), (left[::-1], right), (left[::-1], right[::-1])]
        joined = max(options, key=lambda o: sim[o[0][-1], o[1][0]])  # max keeps the first on ties
        chains[a], chains[b] = joined[0] + joined[1], []
        merged = (size[a] * link[a] + size[b] * link[b]) / (size[a] + size[b])  # average linkage
        link[a], link[:, a] = merged, merged
        link[a, a] = -np.inf
        size[a] += size[b]
        alive[b] = False
    errors = error_counts(confusion) if errors is None else np.asarray(errors)
    groups = sorted((chains[i] for i in range(k) if alive[i]), key=lambda ch: (-int(errors[ch].sum()), min(ch)))
    # a chain reads from its end with more errors (ties: the lower index first)
    groups = [ch[::-1] if (-errors[ch[-1]], ch[-1]) < (-errors[ch[0]], ch[0]) else ch for ch in groups]
    return np.array([i for ch in groups for i in ch], dtype=np.int64)


def class_order(confusion, how: str, shown=None) -> np.ndarray:
    """Class indices in the order ``how`` (a key of :data:`ORDERS`), shape (k,); with ``shown``
    (class indices), those classes only, shape (s,). ``cluster`` of more than
    :data:`MAX_CLUSTERED` classes needs ``shown``."""
    if how not in ORDERS:
        raise InputError(f"unknown class order {how!r}; expected one of {', '.join(ORDERS)}")
    if shown is None:
        k = confusion.n_classes if isinstance(confusion, ConfusionCounts) else np.asarray(confusion).shape[0]
        if how == "cluster" and k > MAX_CLUSTERED:
            raise InputError(f"clustering {k} classes costs O(k³); choose at most {MAX_CLUSTERED} classes to show")
        shown = np.arange(k, dtype=np.int64)
        if how == "cluster" and not isinstance(confusion, ConfusionCounts):
            return cluster_order(confusion)
    shown = np.sort(np.asarray(shown, dtype=np.int64))
    if how == "file":
        return shown
    counts = _counts(confusion)
    errors = counts.errors()[shown]
    if how == "errors":
        return shown[np.argsort(-errors, kind="stable")]
    if shown.size > MAX_CLUSTERED:
        raise InputError(f"clustering {shown.size} classes costs O(k³); choose at most {MAX_CLUSTERED}")
    return shown[cluster_order(counts.sub(shown), counts.support[shown], errors)]


def _merged_categories(confusion, shown: np.ndarray) -> np.ndarray:
    """Counts of the shown cells (row-major), then each shown row's other columns, each shown
    column's other rows, and everything else: shape (s² + 2s + 1,)."""
    c = _counts(confusion)
    cells = c.sub(shown)
    row_rest = c.support[shown] - cells.sum(axis=1)
    col_rest = c.predicted[shown] - cells.sum(axis=0)
    rest = c.n - cells.sum() - row_rest.sum() - col_rest.sum()
    return np.concatenate([cells.ravel(), row_rest, col_rest, [rest]])


def resampled_cells(confusion: np.ndarray, shown: np.ndarray | None = None, resamples: int = DEFAULT_RESAMPLES,
                    seed: int = DEFAULT_SEED) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bootstrap resamples of the cells of ``shown`` classes (default all, in file order).

    Returns ``cells`` of shape (resamples, s, s), and the resampled totals of each shown row and
    column, shapes (resamples, s). With every class shown the draws are those of
    :func:`evaldash.bootstrap.resampled_confusions` at the same seed, so a diagonal cell's rate
    interval is the class's recall (``true``) or precision (``pred``) interval.
    """
    c = _counts(confusion)
    k = c.n_classes
    shown = np.arange(k) if shown is None else np.asarray(shown, dtype=np.int64)
    s = shown.size
    everything = s == k and np.array_equal(shown, np.arange(k))
    counts = c.dense().ravel() if everything else _merged_categories(c, shown)
    n = int(counts.sum())
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(n, counts / n, size=resamples) if n else np.zeros((resamples, counts.size), np.int64)
    cells = draws[:, :s * s].reshape(resamples, s, s)
    rows, cols = cells.sum(axis=2), cells.sum(axis=1)
    if not everything:
        rows = rows + draws[:, s * s:s * s + s]
        cols = cols + draws[:, s * s + s:s * s + 2 * s]
    return cells, rows, cols


def cell_intervals(confusion: np.ndarray, mode: str, shown: np.ndarray | None = None,
                   resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED, level: float = LEVEL) -> dict:
    """Per-cell percentile bootstrap intervals of the quantity ``mode`` shows, for ``shown`` classes.

    ``mode``: ``counts`` or ``score`` (the cell's count), ``true`` (share of the true class) or
    ``pred`` (share of the predicted class). Returns ``low`` and ``high``, shape (s, s) (NaN
    where no resample defines the share), ``support`` (s, s): the samples the quantity is
    measured on (the true class's total for ``counts``, ``score`` and ``true``, the predicted
    class's for ``pred``), and ``small`` (s, s): support below :data:`SMALL_SAMPLE`. The
    numbers do not depend on the order of ``shown`` (computed in file order).
    """
    if mode not in ("counts", "score", "true", "pred"):
        raise InputError(f"unknown confusion mode {mode!r}; expected counts, true, pred or score")
    c = _counts(confusion)
    k = c.n_classes
    shown = np.arange(k) if shown is None else np.asarray(shown, dtype=np.int64)
    sorted_shown = np.sort(shown)
    back = np.searchsorted(sorted_shown, shown)  # file order → the order asked for
    cells, rows, cols = resampled_cells(c, sorted_shown, resamples, seed)
    if mode in ("counts", "score"):
        values = cells
    else:
        totals = rows[:, :, None] if mode == "true" else cols[:, None, :]
        with np.errstate(invalid="ignore", divide="ignore"):
            values = np.where(totals > 0, cells / totals, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # cells whose share no resample defines
        low, high = percentile_interval(values, level)
    support_1d = (c.predicted if mode == "pred" else c.support)[sorted_shown]
    support = np.broadcast_to(support_1d[None, :] if mode == "pred" else support_1d[:, None], low.shape)
    pick = np.ix_(back, back)
    support = np.array(support[pick])
    return {"low": low[pick], "high": high[pick], "support": support, "small": support < SMALL_SAMPLE}
