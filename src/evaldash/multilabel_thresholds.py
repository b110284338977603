"""The sample-level metrics of a multi-label evaluation when some concepts' thresholds move, without
recomputing the evaluation: per-sample counts of the file's thresholds, updated column by column.

Moving one concept's threshold changes one column of the predictions, so subset accuracy, samples
F1 and Hamming loss follow from each sample's |T ∩ P|, |P| and |T xor P| updated on that column
(O(n) per changed concept, not O(n k)); each concept's precision and recall come from its sweep.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaldash import metrics


def sample_counts(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, np.ndarray]:
    """Per sample, arrays of shape (n_samples,), int32: ``both`` |T ∩ P|, ``true`` |T|, ``pred`` |P|,
    ``wrong`` |T xor P|."""
    return {"both": np.count_nonzero(y_true & y_pred, axis=1).astype(np.int32),
            "true": np.count_nonzero(y_true, axis=1).astype(np.int32),
            "pred": np.count_nonzero(y_pred, axis=1).astype(np.int32),
            "wrong": np.count_nonzero(y_true != y_pred, axis=1).astype(np.int32)}


def _moved(evaluation, counts: dict[str, np.ndarray], thresholds: np.ndarray) -> dict[str, np.ndarray]:
    """``counts`` of the evaluation's predictions with each concept whose threshold differs predicted
    at its new one (score >= threshold)."""
    d = evaluation.dataset
    out = {name: v.copy() for name, v in counts.items()}
    for c in np.flatnonzero(thresholds != evaluation.thresholds):
        y, old = d.y_true[:, c], evaluation.y_pred[:, c]
        new = d.scores[:, c] >= thresholds[c]
        change = new.astype(np.int32) - old.astype(np.int32)  # +1 now predicted, -1 no longer
        out["pred"] += change
        out["both"] += np.where(y, change, 0).astype(np.int32)
        out["wrong"] += np.where(y, -change, change).astype(np.int32)
    return out


def metrics_at_thresholds(evaluation, thresholds) -> dict:
    """Subset accuracy, samples F1 and Hamming loss of ``evaluation`` with the per-concept
    ``thresholds`` (shape (k,)), and ``table``: each concept's threshold, precision, recall and F1
    at it (as ``evaluation.with_thresholds(thresholds)`` gives them). A file that gives its
    predictions is not thresholded: its own numbers, whatever the thresholds."""
    d = evaluation.dataset
    thresholds = np.asarray(thresholds, dtype=np.float64)
    if not evaluation.predictions_thresholded:
        head = evaluation.headline()
        return {"subset_accuracy": head["subset_accuracy"], "samples_f1": head["samples_f1"],
                "hamming_loss": head["hamming_loss"], "table": evaluation.thresholds_table()}
    base = evaluation.memo("sample counts", lambda e: sample_counts(e.dataset.y_true, e.y_pred))
    counts = _moved(evaluation, base, thresholds)
    n, k = d.n, d.n_classes
    f1 = metrics._safe_div(2 * counts["both"], counts["true"] + counts["pred"], 0.0)
    table = concept_table(evaluation, thresholds)
    return {"subset_accuracy": float(np.mean(counts["wrong"] == 0)) if n else float("nan"),
            "samples_f1": float(f1.mean()) if n else float("nan"),
            "hamming_loss": float(counts["wrong"].sum() / (n * k)) if n and k else float("nan"),
            "table": table}


def concept_table(evaluation, thresholds: np.ndarray) -> pd.DataFrame:
    """Each concept's threshold, precision, recall and F1 at it (from its sweep)."""
    d = evaluation.dataset
    rows = [evaluation.sweep(c).at(float(thresholds[c]), zero_division=0.0) for c in range(d.n_classes)]
    return pd.DataFrame({"class": list(d.classes), "threshold": thresholds,
                         "precision": [r["precision"] for r in rows], "recall": [r["recall"] for r in rows],
                         "f1": [r["f1"] for r in rows]})
