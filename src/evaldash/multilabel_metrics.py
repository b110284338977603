"""Multi-label (concept) metrics in pure numpy, exact to scikit-learn's definitions.

Conventions
-----------
* ``y_true`` and ``y_pred`` are bool indicator matrices of shape (n_samples, n_classes);
  ``scores`` float matrices of the same shape, one independent score per class.
* A class is predicted when its score is ``>=`` its threshold (as in scikit-learn and the
  single-label sweeps).
* Precision, recall, F1 and Jaccard use scikit-learn's ``zero_division=0``. ROC AUC and average
  precision of a class without positives (or, for ROC AUC, without negatives) are NaN with the
  reason; the macro averages are over the classes where they are defined.
* The per-class threshold sweep is :class:`evaldash.metrics.ThresholdSweep` on the class's
  indicator column: there is no second sweep here.
* Nothing costs more than samples × classes (the ranking metrics: labels × classes), apart from
  the one sort per class of the sweeps.
"""

from __future__ import annotations

import numpy as np

from evaldash import metrics
from evaldash.micro_average import pooled_auc_ap

BLOCK = 4_000_000  # matrix cells handled at once


def multilabel_predictions(scores: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """``scores >= thresholds`` per class, shape (n_samples, n_classes), bool; thresholds of shape (k,)."""
    return scores >= np.asarray(thresholds, dtype=np.float64)[None, :]


def multilabel_per_class(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, np.ndarray]:
    """Per-class counts and rates, arrays of shape (n_classes,): tp, fp, fn, tn, precision, recall,
    f1, fpr, specificity, support, prevalence (keys as :func:`evaldash.metrics.per_class_table`)."""
    n = y_true.shape[0]
    tp = np.count_nonzero(y_true & y_pred, axis=0).astype(np.int64)
    support = np.count_nonzero(y_true, axis=0).astype(np.int64)
    predicted = np.count_nonzero(y_pred, axis=0).astype(np.int64)
    out = metrics.rates(tp, predicted - tp, support, n - support, zero_division=0.0)
    out["support"] = support
    out["prevalence"] = metrics._safe_div(support, np.full_like(support, n))
    return out


def _row_counts(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per sample: true labels, predicted labels and labels both true and predicted, shape (n,)."""
    return (np.count_nonzero(y_true, axis=1), np.count_nonzero(y_pred, axis=1),
            np.count_nonzero(y_true & y_pred, axis=1))


def multilabel_averages(table: dict[str, np.ndarray], y_true: np.ndarray,
                        y_pred: np.ndarray) -> dict[str, dict[str, float]]:
    """Micro, macro, weighted and samples precision/recall/F1 (scikit-learn, ``zero_division=0``)."""
    out = metrics.averages(table)
    n_true, n_pred, both = _row_counts(y_true, y_pred)
    precision = metrics._safe_div(both, n_pred, 0.0)
    recall = metrics._safe_div(both, n_true, 0.0)
    f1 = metrics._safe_div(2 * both, n_true + n_pred, 0.0)
    n = y_true.shape[0]
    out["samples"] = {"precision": float(precision.mean()) if n else float("nan"),
                      "recall": float(recall.mean()) if n else float("nan"),
                      "f1": float(f1.mean()) if n else float("nan")}
    return out


def multilabel_subset_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Share of samples whose predicted label set equals the true one."""
    return float(np.mean(~np.any(y_true != y_pred, axis=1)))


def multilabel_hamming_loss(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Share of (sample, class) indicators that are wrong."""
    return float(np.count_nonzero(y_true != y_pred) / y_true.size)


def multilabel_jaccard(table: dict[str, np.ndarray], y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """Jaccard index averaged over samples, classes (macro) and pooled (micro); ``zero_division=0``."""
    n_true, n_pred, both = _row_counts(y_true, y_pred)
    union = n_true + n_pred - both
    tp, fp, fn = table["tp"], table["fp"], table["fn"]
    pooled = int(tp.sum() + fp.sum() + fn.sum())
    return {
        "samples": float(metrics._safe_div(both, union, 0.0).mean()),
        "macro": float(metrics._safe_div(tp, tp + fp + fn, 0.0).mean()),
        "micro": float(tp.sum() / pooled) if pooled else 0.0,
    }


def multilabel_cardinality(y: np.ndarray) -> float:
    """Mean number of labels per sample."""
    return float(np.count_nonzero(y) / y.shape[0]) if y.shape[0] else float("nan")


def multilabel_ranking(y_true: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    """Label ranking average precision, coverage error and label ranking loss, as scikit-learn.

    For each true label j of a sample: ``rank`` = labels scored >= j's score, ``above`` = true
    labels scored >= it. LRAP averages above / rank; coverage is the largest rank (0 without
    labels); ranking loss counts the false labels scored >= a true one (rank - above) over
    true × false labels. A sample with no or every label has LRAP 1 and ranking loss 0. Cost:
    true labels × classes, a block at a time.
    """
    n, k = scores.shape
    lrap = np.ones(n)
    coverage = np.zeros(n)
    loss = np.zeros(n)
    rows, cols = np.nonzero(y_true)
    n_true = np.bincount(rows, minlength=n)
    step = max(1, BLOCK // max(k, 1))
    sum_ratio = np.zeros(n)
    sum_wrong = np.zeros(n)
    for start in range(0, rows.size, step):
        r, c = rows[start:start + step], cols[start:start + step]
        s = scores[r]
        ge = s >= s[np.arange(r.size), c][:, None]
        rank = np.count_nonzero(ge, axis=1)
        above = np.count_nonzero(ge & y_true[r], axis=1)
        np.add.at(sum_ratio, r, above / rank)
        np.add.at(sum_wrong, r, rank - above)
        np.maximum.at(coverage, r, rank)
    ranked = (n_true > 0) & (n_true < k)
    lrap[ranked] = sum_ratio[ranked] / n_true[ranked]
    loss[ranked] = sum_wrong[ranked] / (n_true[ranked] * (k - n_true[ranked]))
    return {"label_ranking_average_precision": float(lrap.mean()) if n else float("nan"),
            "coverage_error": float(coverage.mean()) if n else float("nan"),
            "label_ranking_loss": float(loss.mean()) if n else float("nan")}


def multilabel_sweeps(y_true: np.ndarray, scores: np.ndarray) -> list[metrics.ThresholdSweep]:
    """The one-vs-rest :class:`~evaldash.metrics.ThresholdSweep` of each class's indicator column."""
    return [metrics.threshold_sweep(np.ascontiguousarray(scores[:, c]), y_true[:, c])
            for c in range(scores.shape[1])]


def multilabel_auc_ap(sweeps: list[metrics.ThresholdSweep]) -> dict:
    """Per-class ROC AUC and AP (lists of shape (n_classes,)), their macro averages over the
    classes where they are defined, and class index → why undefined."""
    auc = np.array([s.roc_auc() for s in sweeps])
    ap = np.array([s.average_precision() for s in sweeps])
    return {"roc_auc": auc.tolist(), "average_precision": ap.tolist(),
            "roc_auc_macro": _nanmean(auc), "ap_macro": _nanmean(ap),
            "reasons": {c: s.undefined_reason() for c, s in enumerate(sweeps) if s.undefined_reason()}}


def multilabel_micro_auc_ap(sweeps) -> tuple[float, float]:
    """Micro ROC AUC and AP: every (sample, class) score pooled into one problem, as scikit-learn's
    ``average="micro"``. Built from the per-class sweeps (an iterable: each class's distinct scores
    with their positive and negative counts), so no pooled sort of samples × classes scores."""
    sweeps = list(sweeps)
    positives = np.concatenate([_positive_scores(s) for s in sweeps]) if sweeps else np.zeros(0)
    return pooled_auc_ap(positives, (_negative_runs(s) for s in sweeps), int(sum(s.n_neg for s in sweeps)))


def _positive_scores(s: metrics.ThresholdSweep) -> np.ndarray:
    tp = np.diff(s.tp.astype(np.int64))
    return np.repeat(s.thresholds[1:], tp)


def _negative_runs(s: metrics.ThresholdSweep) -> tuple[np.ndarray, np.ndarray]:
    """The class's negative scores as (distinct values ascending, negatives at each)."""
    fp = np.diff(s.fp.astype(np.int64))
    keep = fp > 0
    return s.thresholds[1:][keep][::-1], fp[keep][::-1].astype(np.float64)


def multilabel_ranking_pass(y_true: np.ndarray, scores: np.ndarray) -> dict:
    """:func:`multilabel_auc_ap` and :func:`multilabel_micro_auc_ap` in one pass that holds one
    class's sweep at a time (all sweeps of a million rows × 100 classes would be 1.6 GB): the
    per-class results plus ``roc_auc_micro`` and ``ap_micro``."""
    k = scores.shape[1]
    positives = np.concatenate([scores[y_true[:, c], c] for c in range(k)]) if k else np.zeros(0)
    per_class = []

    def negatives():
        for c in range(k):
            s = metrics.threshold_sweep(np.ascontiguousarray(scores[:, c]), y_true[:, c])
            per_class.append(s)
            yield _negative_runs(s)
            per_class[-1] = _Summary(s.roc_auc(), s.average_precision(), s.undefined_reason())

    n_neg = int(y_true.size - np.count_nonzero(y_true))
    auc, ap = pooled_auc_ap(positives, negatives(), n_neg)
    if len(per_class) < k:  # no positives or no negatives at all: the pooled pass stopped early
        per_class = [metrics.threshold_sweep(np.ascontiguousarray(scores[:, c]), y_true[:, c]) for c in range(k)]
    out = multilabel_auc_ap(per_class)
    out["roc_auc_micro"], out["ap_micro"] = auc, ap
    return out


class _Summary:
    """What :func:`multilabel_auc_ap` reads of a sweep, kept after the sweep is dropped."""

    def __init__(self, auc: float, ap: float, reason: str):
        self._auc, self._ap, self._reason = auc, ap, reason

    def roc_auc(self) -> float:
        return self._auc

    def average_precision(self) -> float:
        return self._ap

    def undefined_reason(self) -> str:
        return self._reason


# --- matrices -------------------------------------------------------------------------------

# rows per block of the matrix products: the sparse blocks (and a block of scores copied to row
# order, 65,536 x k float64) stay small however many rows the file has
CHUNK_ROWS = 65_536


def _sparse(y: np.ndarray):
    """A bool indicator matrix of shape (n, k) as a CSR matrix of ones (labels are few per
    sample: products of these cost labels × labels per sample, not n × k × k)."""
    from scipy import sparse

    rows, cols = np.nonzero(y)
    indptr = np.zeros(y.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=y.shape[0]), out=indptr[1:])
    return sparse.csr_matrix((np.ones(cols.size, dtype=np.int64), cols, indptr), shape=y.shape)


def _blocks(n: int):
    """Slices of at most ``CHUNK_ROWS`` rows covering ``range(n)``."""
    step = max(1, int(CHUNK_ROWS))
    return (slice(start, min(start + step, n)) for start in range(0, n, step))


def _gram(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a.T @ b`` of two bool matrices of n rows as exact int64 counts, shape (ka, kb) (sparse
    products of blocks of rows, summed in int64)."""
    out = np.zeros((a.shape[1], b.shape[1]), dtype=np.int64)
    for rows in _blocks(a.shape[0]):
        sa = _sparse(a[rows])
        sb = sa if b is a else _sparse(b[rows])
        out += (sa.T @ sb).toarray()
    return out


def concept_matrix(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Clarifai's concept-by-concept matrix, counts of shape (k + 1, k + 1).

    Cell (i, j), i and j < k: samples labelled i and predicted j (a sample counts in every cell of
    its label × prediction pairs). Row k: samples with no true label, by predicted class; column k:
    samples with no predicted label, by true class; cell (k, k): samples with neither.

    One pass over blocks of ``CHUNK_ROWS`` rows: each block's indicators become sparse matrices
    once, and the no-label row and no-prediction column are products with the block's
    "no label" / "no prediction" indicator columns."""
    n, k = y_true.shape
    out = np.zeros((k + 1, k + 1), dtype=np.int64)
    for rows in _blocks(n):
        st, sp = _sparse(y_true[rows]), _sparse(y_pred[rows])
        none_true = np.diff(st.indptr) == 0
        none_pred = np.diff(sp.indptr) == 0
        out[:k, :k] += (st.T @ sp).toarray()
        out[k, :k] += np.asarray(sp[none_true].sum(axis=0), dtype=np.int64).ravel()
        out[:k, k] += np.asarray(st[none_pred].sum(axis=0), dtype=np.int64).ravel()
        out[k, k] += int(np.count_nonzero(none_true & none_pred))
    return out


def co_occurrence(y_true: np.ndarray) -> np.ndarray:
    """Samples labelled both i and j, shape (k, k) (the diagonal is each class's support)."""
    return _gram(y_true, y_true)


def mean_score_matrix(y_true: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Cell (i, j): mean score of class j over the samples labelled i, shape (k + 1, k); row k:
    over the samples with no label. Rows without samples are NaN.

    The sums are sparse products ``Y_trueᵀ · scores`` over blocks of ``CHUNK_ROWS`` rows (labels ×
    classes per block; the block of scores is copied to row order once)."""
    n, k = scores.shape
    sums = np.zeros((k + 1, k))
    counts = np.zeros(k + 1, dtype=np.int64)
    for rows in _blocks(n):
        st = _sparse(y_true[rows])
        block = np.ascontiguousarray(scores[rows], dtype=np.float64)
        none = np.diff(st.indptr) == 0
        sums[:k] += st.T.astype(np.float64) @ block
        sums[k] += block[none].sum(axis=0)
        counts[:k] += np.bincount(st.indices, minlength=k)
        counts[k] += int(np.count_nonzero(none))
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts.astype(np.float64)[:, None]


def concept_error_counts(matrix: np.ndarray) -> np.ndarray:
    """Each concept's off-diagonal counts in a concept matrix of shape (k + 1, k + 1): its row
    (labelled i, predicted another concept or nothing) plus its column (predicted i, labelled
    another concept or nothing), shape (k,); how "confused" a concept is."""
    k = matrix.shape[0] - 1
    m = np.asarray(matrix, dtype=np.int64)
    diagonal = np.diag(m)[:k]
    return m[:k, :].sum(axis=1) + m[:, :k].sum(axis=0) - 2 * diagonal


def most_confused_concepts(matrix: np.ndarray, n: int = 20) -> np.ndarray:
    """The ``n`` concepts with the most off-diagonal counts (:func:`concept_error_counts`), in
    concept order, shape (min(n, k),); ties go to the earlier concept."""
    errors = concept_error_counts(matrix)
    return np.sort(np.argsort(-errors, kind="stable")[:n])


def row_normalised(matrix: np.ndarray, row_totals: np.ndarray) -> np.ndarray:
    """Counts divided by each row's samples (not the row sum: a sample counts in several cells of
    its row), so cell (i, i) is class i's recall; rows without samples are 0."""
    totals = np.asarray(row_totals, dtype=np.float64)[:, None]
    return np.divide(matrix, totals, out=np.zeros(matrix.shape), where=totals > 0)


def cell_rows(y_true: np.ndarray, y_pred: np.ndarray, scores: np.ndarray | None, true: int, pred: int) -> np.ndarray:
    """Row indices of the samples in concept-matrix cell (true, pred), most confident first: by the
    score of class ``pred`` (column k, no prediction: by the sample's highest score), ties in row
    order. ``true`` or ``pred`` equal to k is the "no label" row / "no prediction" column."""
    k = y_true.shape[1]
    in_row = ~np.any(y_true, axis=1) if true == k else y_true[:, true]
    in_col = ~np.any(y_pred, axis=1) if pred == k else y_pred[:, pred]
    rows = np.flatnonzero(in_row & in_col)
    if scores is None or not rows.size:
        return rows
    conf = scores[rows].max(axis=1) if pred == k else scores[rows, pred]
    return rows[np.argsort(-conf, kind="stable")]


def concept_errors(y_true: np.ndarray, y_pred: np.ndarray, scores: np.ndarray | None, cls: int,
                   kind: str) -> np.ndarray:
    """Row indices of class ``cls``'s false positives (``kind="fp"``: predicted, not labelled;
    highest score first) or false negatives (``"fn"``: labelled, not predicted; lowest score
    first): the most confident mistakes first."""
    if kind == "fp":
        rows = np.flatnonzero(y_pred[:, cls] & ~y_true[:, cls])
        key = None if scores is None else -scores[rows, cls]
    elif kind == "fn":
        rows = np.flatnonzero(y_true[:, cls] & ~y_pred[:, cls])
        key = None if scores is None else scores[rows, cls]
    else:
        raise ValueError(f"kind {kind!r}: expected 'fp' or 'fn'")
    return rows if key is None else rows[np.argsort(key, kind="stable")]


def suspected_label_errors(y_true: np.ndarray, scores: np.ndarray) -> dict[str, np.ndarray]:
    """cleanlab's multi-label label issues, one entry per (sample, concept) flagged:
    ``row``, ``cls`` (arrays of shape (m,)), ``missing`` (True: the concept is probably present but
    not labelled; False: labelled but probably absent) and ``score`` (the concept's score), most
    suspicious first (the furthest score from the given label). Scores must be probabilities."""
    from cleanlab.multilabel_classification.filter import find_multilabel_issues_per_class

    labels = [np.flatnonzero(row).tolist() for row in y_true]
    issues = np.asarray(find_multilabel_issues_per_class(labels=labels, pred_probs=scores))
    row, cls = np.nonzero(issues)
    missing = ~y_true[row, cls]
    score = scores[row, cls]
    gap = np.where(missing, score, 1.0 - score)
    order = np.argsort(-gap, kind="stable")
    return {"row": row[order], "cls": cls[order], "missing": missing[order], "score": score[order]}


def _nanmean(values: np.ndarray) -> float:
    v = np.asarray(values, dtype=np.float64)
    v = v[~np.isnan(v)]
    return float(v.mean()) if v.size else float("nan")
