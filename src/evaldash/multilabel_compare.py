"""Bootstrap intervals of multi-label metrics, and the comparison of two multi-label files.

A multi-label sample carries several labels, so the single-label trick of drawing confusion-cell
counts does not apply: each resample draws the rows themselves (:func:`evaldash.bootstrap.row_counts`,
exactly index resampling) and every metric is a weighted sum of per-row quantities, one matrix
product per block of resamples: O(resamples × rows × classes). Per-class ROC AUC intervals reuse
:func:`evaldash.bootstrap.resampled_auc`, the macro ROC AUC delta the single-label compare's
:func:`evaldash.bootstrap.paired_resampled_macro_auc_delta`. For two files on the same samples
(paired) both models share each resample's rows.
"""

from __future__ import annotations

import numpy as np

from evaldash import bootstrap as bs
from evaldash.compare import verdict
from evaldash.multilabel_evaluation import MultilabelEvaluation

SUMMARY = ("subset_accuracy", "hamming_loss", "samples_f1", "macro_f1", "micro_f1")


def _row_quantities(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row: (exact match, wrong indicators, samples F1), shape (n, 3); and per row and class:
    (tp, support, predicted) side by side, shape (n, 3k)."""
    both = y_true & y_pred
    n_true, n_pred, n_both = (np.count_nonzero(m, axis=1) for m in (y_true, y_pred, both))
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(n_true + n_pred > 0, 2 * n_both / (n_true + n_pred), 0.0)
    rows = np.column_stack([n_true + n_pred == 2 * n_both, n_true + n_pred - 2 * n_both, f1]).astype(np.float64)
    return rows, np.hstack([both, y_true, y_pred]).astype(np.float32)


def _metrics(row_sums: np.ndarray, class_sums: np.ndarray, n: np.ndarray, k: int) -> dict[str, np.ndarray]:
    """Metrics of resamples from their weighted sums: ``row_sums`` (m, 3), ``class_sums`` (m, 3k), ``n`` (m,)."""
    tp, support, predicted = class_sums[:, :k], class_sums[:, k:2 * k], class_sums[:, 2 * k:]
    per = bs.class_count_metrics(tp, support, predicted, n)
    pooled = support.sum(axis=1) + predicted.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        micro = np.where(pooled > 0, 2 * tp.sum(axis=1) / pooled, 0.0)
    return {"subset_accuracy": row_sums[:, 0] / n, "hamming_loss": row_sums[:, 1] / (n * k),
            "samples_f1": row_sums[:, 2] / n, "macro_f1": per["macro_f1"], "micro_f1": micro,
            "precision": per["precision"], "recall": per["recall"], "f1": per["f1"]}


def resampled_multilabel(sides: list[tuple[np.ndarray, np.ndarray]], resamples: int = bs.DEFAULT_RESAMPLES,
                         seed: int = bs.DEFAULT_SEED) -> list[dict[str, np.ndarray]]:
    """The metrics of ``resamples`` resamples of each (y_true, y_pred) in ``sides`` (all of n rows,
    drawn together: paired), each metric of shape (resamples,) or (resamples, k)."""
    n = sides[0][0].shape[0]
    quantities = [_row_quantities(y_true, y_pred) for y_true, y_pred in sides]
    out = [[] for _ in sides]
    rng = np.random.default_rng(seed)
    for counts in bs._row_count_chunks(n, resamples, rng):
        w = counts.astype(np.float32)  # counts <= n and sums of 0/1 weights stay exact below 2**24 rows
        total = counts.sum(axis=1).astype(np.float64)
        for side, (rows, classes) in zip(out, quantities):
            side.append(_metrics(counts.astype(np.float64) @ rows, (w @ classes).astype(np.float64), total,
                                 classes.shape[1] // 3))
    return [{name: np.concatenate([part[name] for part in side]) for name in side[0]} for side in out]


def multilabel_intervals(evaluation: MultilabelEvaluation, resamples: int = bs.DEFAULT_RESAMPLES,
                         seed: int = bs.DEFAULT_SEED, level: float = bs.LEVEL) -> dict:
    """95% (``level``) percentile intervals: subset accuracy, Hamming loss, samples/macro/micro F1
    → [low, high], and ``per_class`` → class → precision, recall, F1 (and ROC AUC with scores)."""
    d = evaluation.dataset
    draws = resampled_multilabel([(d.y_true, evaluation.y_pred)], resamples, seed)[0]
    out = {"method": "percentile bootstrap", "resamples": resamples, "seed": seed, "level": level}
    for name in SUMMARY:
        out[name] = bs.percentile_interval(draws[name], level).tolist()
    per = {m: bs.percentile_interval(draws[m], level) for m in ("precision", "recall", "f1")}
    out["per_class"] = {name: {m: [float(per[m][0, c]), float(per[m][1, c])] for m in per}
                        for c, name in enumerate(d.classes)}
    if d.has_scores:
        for c, name in enumerate(d.classes):
            positive = d.y_true[:, c]
            if positive.all() or not positive.any():
                pair = [float("nan"), float("nan")]
            else:
                auc = bs.resampled_auc(d.scores[:, c], positive, resamples, seed + c)
                pair = [float(v) for v in bs.percentile_interval(auc, level)]
            out["per_class"][name]["roc_auc"] = pair
    return out


def _aligned(a: MultilabelEvaluation, b: MultilabelEvaluation) -> np.ndarray | None:
    from evaldash.compare import aligned_rows

    return aligned_rows(a, b) if a.dataset.classes == b.dataset.classes else None


def compare_multilabel(a: MultilabelEvaluation, b: MultilabelEvaluation, resamples: int = bs.DEFAULT_RESAMPLES,
                       seed: int = bs.DEFAULT_SEED, level: float = bs.LEVEL) -> dict:
    """B minus A, JSON-ready: ``delta`` and ``intervals`` of subset accuracy, Hamming loss (lower
    is better), samples/macro/micro F1, macro ROC AUC (when both files allow it, else in
    ``unavailable``) and ``f1[C]`` per shared class; ``paired`` (same ids and classes: B aligned to A's rows, both drawn together), then
    ``fixed``/``broken``/``both_wrong`` exact matches; ``shared_classes``, ``only_in_a``,
    ``only_in_b`` and a ``verdict`` on samples F1."""
    da, db = a.dataset, b.dataset
    shared = [c for c in da.classes if c in db.classes]
    rows = _aligned(a, b)
    if rows is not None:
        sa, sb = resampled_multilabel([(da.y_true, a.y_pred), (db.y_true[rows], b.y_pred[rows])], resamples, seed)
    else:
        sa = resampled_multilabel([(da.y_true, a.y_pred)], resamples, seed)[0]
        sb = resampled_multilabel([(db.y_true, b.y_pred)], resamples, seed + 1)[0]
    point_a, point_b = _points(a), _points(b)
    delta = {name: float(point_b[name] - point_a[name]) for name in SUMMARY}
    draws = {name: sb[name] - sa[name] for name in SUMMARY}
    for c in shared:
        ia, ib = da.classes.index(c), db.classes.index(c)
        delta[f"f1[{c}]"] = float(b.per_class["f1"][ib] - a.per_class["f1"][ia])
        draws[f"f1[{c}]"] = sb["f1"][:, ib] - sa["f1"][:, ia]
    unavailable = _macro_auc_delta(a, b, rows, resamples, seed, delta, draws)
    intervals = {name: [float(v) for v in bs.percentile_interval(draws[name], level)] for name in draws}
    out = {"task": "multilabel", "paired": rows is not None, "resamples": resamples, "seed": seed, "level": level,
           "delta": delta, "intervals": intervals, "unavailable": unavailable, "shared_classes": shared,
           "only_in_a": [c for c in da.classes if c not in db.classes],
           "only_in_b": [c for c in db.classes if c not in da.classes]}
    if rows is not None:
        right_a = ~np.any(da.y_true != a.y_pred, axis=1)
        right_b = ~np.any(db.y_true[rows] != b.y_pred[rows], axis=1)
        out["fixed"] = int(np.sum(~right_a & right_b))
        out["broken"] = int(np.sum(right_a & ~right_b))
        out["both_wrong"] = int(np.sum(~right_a & ~right_b))
    out["verdict"] = verdict("samples F1", delta["samples_f1"], intervals["samples_f1"], level)
    return out


def _macro_auc_delta(a: MultilabelEvaluation, b: MultilabelEvaluation, rows: np.ndarray | None, resamples: int,
                     seed: int, delta: dict, draws: dict) -> dict[str, str]:
    """Add the macro ROC AUC delta and its resampled deltas to ``delta`` and ``draws`` (the
    single-label compare's resampling: paired when ``rows`` aligns B to A); return metric → why
    not, when a file does not allow it."""
    auc = {"a": _auc_input(a, None), "b": _auc_input(b, rows)}
    why = [f"{side.upper()} ({e.dataset.source}) {auc[side]}" for side, e in (("a", a), ("b", b))
           if isinstance(auc[side], str)]
    if why:
        return {"macro_roc_auc": "; ".join(why)}
    delta["macro_roc_auc"] = float(b.ranking["roc_auc_macro"] - a.ranking["roc_auc_macro"])
    if rows is not None:
        draws["macro_roc_auc"] = bs.paired_resampled_macro_auc_delta(auc["a"], auc["b"], resamples, seed)
    else:
        draws["macro_roc_auc"] = (bs.resampled_macro_auc(*auc["b"], resamples, seed + 1)[1]
                                  - bs.resampled_macro_auc(*auc["a"], resamples, seed)[1])
    return {}


def _auc_input(e: MultilabelEvaluation, rows: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, list[int]] | str:
    """(scores (n, k), indicators (n, k), classes averaged) of macro ROC AUC, in the order of
    ``rows``; or why it is undefined."""
    d = e.dataset
    if not d.has_scores:
        return "has no scores"
    y = d.y_true if rows is None else d.y_true[rows]
    positives = np.count_nonzero(y, axis=0)
    classes = [c for c in range(d.n_classes) if 0 < positives[c] < y.shape[0]]
    if not classes:
        return "has no class with both positives and negatives"
    return (d.scores if rows is None else d.scores[rows]), y, classes


def _points(e: MultilabelEvaluation) -> dict[str, float]:
    return {"subset_accuracy": e.subset_accuracy, "hamming_loss": e.hamming_loss,
            "samples_f1": e.averages["samples"]["f1"], "macro_f1": e.averages["macro"]["f1"],
            "micro_f1": e.averages["micro"]["f1"]}


def exact_match_changes(a: MultilabelEvaluation, b: MultilabelEvaluation, rows_b: np.ndarray) -> dict[str, np.ndarray]:
    """A's row indices of the samples B ``fixed`` (its predicted set equals the true set in B, not in
    A), ``broken`` (the reverse) and ``both_wrong``; ``rows_b[r]`` is A's row r in B (as
    :func:`evaldash.compare.aligned_rows` gives). Rows in file order."""
    da, db = a.dataset, b.dataset
    right_a = ~np.any(da.y_true != a.y_pred, axis=1)
    right_b = ~np.any(db.y_true[rows_b] != b.y_pred[rows_b], axis=1)
    return {"fixed": np.flatnonzero(~right_a & right_b), "broken": np.flatnonzero(right_a & ~right_b),
            "both_wrong": np.flatnonzero(~right_a & ~right_b)}


def _in_cell(y_true: np.ndarray, y_pred: np.ndarray, true: int, pred: int) -> np.ndarray:
    k = y_true.shape[1]
    in_row = ~np.any(y_true, axis=1) if true == k else y_true[:, true]
    return in_row & (~np.any(y_pred, axis=1) if pred == k else y_pred[:, pred])


def concept_cell_moves(a: MultilabelEvaluation, b: MultilabelEvaluation, rows_b: np.ndarray, true: int,
                       pred: int) -> dict[str, np.ndarray]:
    """A's row indices of the samples that moved into concept-matrix cell (true, pred) with B
    (``moved_in``: in B's cell, not in A's) or out of it (``moved_out``); index k is the "no label"
    row / "no prediction" column; the two files have the same classes and ``rows_b`` aligns them."""
    in_a = _in_cell(a.dataset.y_true, a.y_pred, true, pred)
    in_b = _in_cell(b.dataset.y_true[rows_b], b.y_pred[rows_b], true, pred)
    return {"moved_in": np.flatnonzero(~in_a & in_b), "moved_out": np.flatnonzero(in_a & ~in_b)}
